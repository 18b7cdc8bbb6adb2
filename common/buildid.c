/*
 * common/buildid.c - the GNU build id of a loaded object.
 *
 * dl_iterate_phdr walks every object the dynamic linker has loaded (the
 * executable first).  The object holding the address is the one with a
 * PT_LOAD segment around it; its PT_NOTE segments are then scanned for a
 * note of type NT_GNU_BUILD_ID named "GNU".  Notes are a 12-byte header
 * (name size, descriptor size, type), the name and the descriptor, each
 * padded to 4 bytes; every size is checked against what is left of the
 * segment before it is used, so a malformed note ends the scan instead of
 * reading past it.
 */
#include <elf.h>
#include <link.h>
#include <stdbool.h>
#include <string.h>

#include "buildid.h"

struct build_id_search {
	uintptr_t addr;		/* an address inside the object */
	uint8_t *id;		/* out */
	size_t max;
	size_t len;		/* bytes found, 0: none yet */
};

/* Look for NT_GNU_BUILD_ID in @size bytes of notes at @p; its length. */
static size_t note_build_id(const uint8_t *p, size_t size, uint8_t *id,
			    size_t max)
{
	size_t off = 0;

	while (size - off >= sizeof(ElfW(Nhdr))) {
		ElfW(Nhdr) nh;
		size_t namesz, descsz, len;
		const uint8_t *name = p + off + sizeof(nh);

		memcpy(&nh, p + off, sizeof(nh));
		namesz = ((size_t)nh.n_namesz + 3) & ~(size_t)3;
		descsz = ((size_t)nh.n_descsz + 3) & ~(size_t)3;
		if (namesz > size - off - sizeof(nh) ||
		    descsz > size - off - sizeof(nh) - namesz)
			return 0;
		if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 &&
		    memcmp(name, "GNU", 4) == 0 && nh.n_descsz > 0) {
			len = nh.n_descsz < max ? nh.n_descsz : max;
			memcpy(id, name + namesz, len);
			return len;
		}
		off += sizeof(nh) + namesz + descsz;
	}
	return 0;
}

static int build_id_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct build_id_search *bs = arg;
	bool inside = false;
	int i;

	for (i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t start = info->dlpi_addr + ph->p_vaddr;

		if (ph->p_type == PT_LOAD && bs->addr >= start &&
		    bs->addr - start < ph->p_memsz)
			inside = true;
	}
	if (!inside)
		return 0;
	for (i = 0; i < info->dlpi_phnum && !bs->len; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];

		if (ph->p_type == PT_NOTE)
			bs->len = note_build_id(
				(const uint8_t *)(info->dlpi_addr + ph->p_vaddr),
				ph->p_memsz, bs->id, bs->max);
	}
	return 1;		/* found the object: stop walking */
}

size_t common_build_id(const void *addr, uint8_t *id, size_t max)
{
	struct build_id_search bs = {
		.addr = (uintptr_t)addr,
		.id = id,
		.max = max,
	};

	if (!max)
		return 0;
	dl_iterate_phdr(build_id_cb, &bs);
	return bs.len;
}

char *common_hex(char *out, size_t outsize, const uint8_t *p, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n && 2 * i + 2 < outsize; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * i] = '\0';
	return out;
}
