/*
 * enoki/log/buildid.c - which build of a policy a log was made with.
 *
 * The loaded object that holds the policy (its .so, or the executable
 * when the policy is linked in) is found with dladdr(); its GNU build id
 * note is read from the program headers the dynamic linker mapped
 * (dl_iterate_phdr), so the file is not parsed.  Objects linked without
 * a build id get an FNV-1a 64 hash of their file instead.
 */
#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <link.h>
#include <stdio.h>
#include <string.h>

#include "log.h"

struct bid_search {
	const void *addr;
	struct enoki_log_info *info;
	bool found;
};

/* Look for an NT_GNU_BUILD_ID note in @size bytes of notes at @p. */
static bool find_note(const uint8_t *p, size_t size,
		      struct enoki_log_info *info)
{
	while (size >= sizeof(ElfW(Nhdr))) {
		ElfW(Nhdr) nh;
		size_t namesz, descsz, total;

		memcpy(&nh, p, sizeof(nh));
		namesz = (nh.n_namesz + 3) & ~(size_t)3;
		descsz = (nh.n_descsz + 3) & ~(size_t)3;
		total = sizeof(nh) + namesz + descsz;
		if (total > size)
			return false;
		if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 &&
		    !memcmp(p + sizeof(nh), "GNU", 4) && nh.n_descsz > 0) {
			uint32_t len = nh.n_descsz;

			if (len > sizeof(info->build_id))
				len = sizeof(info->build_id);
			memcpy(info->build_id, p + sizeof(nh) + namesz, len);
			info->build_id_len = len;
			info->build_id_kind = ENOKI_LOG_BID_GNU;
			return true;
		}
		p += total;
		size -= total;
	}
	return false;
}

static int phdr_cb(struct dl_phdr_info *dl, size_t size, void *arg)
{
	struct bid_search *bs = arg;
	uintptr_t a = (uintptr_t)bs->addr;
	bool mine = false;
	int i;

	for (i = 0; i < dl->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &dl->dlpi_phdr[i];
		uintptr_t start = dl->dlpi_addr + ph->p_vaddr;

		if (ph->p_type == PT_LOAD && a >= start &&
		    a < start + ph->p_memsz)
			mine = true;
	}
	if (!mine)
		return 0;
	for (i = 0; i < dl->dlpi_phnum && !bs->found; i++) {
		const ElfW(Phdr) *ph = &dl->dlpi_phdr[i];

		if (ph->p_type == PT_NOTE)
			bs->found = find_note((const uint8_t *)(dl->dlpi_addr +
								ph->p_vaddr),
					      ph->p_memsz, bs->info);
	}
	return 1;
}

/* FNV-1a 64 of the file at @path into @info; 0 or -errno. */
static int hash_file(const char *path, struct enoki_log_info *info)
{
	uint64_t h = 14695981039346656037ULL;
	unsigned char buf[4096];
	size_t n, i;
	FILE *f;

	f = fopen(path, "rb");
	if (!f)
		return -errno;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		for (i = 0; i < n; i++) {
			h ^= buf[i];
			h *= 1099511628211ULL;
		}
	fclose(f);
	for (i = 0; i < 8; i++)
		info->build_id[i] = (uint8_t)(h >> (8 * i));
	info->build_id_len = 8;
	info->build_id_kind = ENOKI_LOG_BID_HASH;
	return 0;
}

int enoki_log_build_id_of(const void *addr, struct enoki_log_info *info)
{
	struct bid_search bs = { .addr = addr, .info = info };
	Dl_info dli;

	info->build_id_len = 0;
	info->build_id_kind = ENOKI_LOG_BID_NONE;
	dl_iterate_phdr(phdr_cb, &bs);
	if (bs.found)
		return 0;
	if (dladdr(addr, &dli) && dli.dli_fname && dli.dli_fname[0] &&
	    hash_file(dli.dli_fname, info) == 0)
		return 0;
	return -ENOENT;
}

char *enoki_log_build_id_hex(const uint8_t *id, uint32_t len, char *buf)
{
	uint32_t i;

	if (len == 0) {
		strcpy(buf, "none");
		return buf;
	}
	for (i = 0; i < len && i < 32; i++)
		sprintf(buf + 2 * i, "%02x", id[i]);
	return buf;
}
