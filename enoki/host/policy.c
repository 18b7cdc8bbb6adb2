/*
 * policy.c - loading a policy's native build.
 *
 * A policy .so (sched/sched.mk builds $(O)/sched/NAME.so) exports
 * `enoki_policy_entry`, a pointer to its struct enoki_policy, and leaves
 * every enoki_* call undefined: RTLD_NOW resolves them against the
 * executable (linked -rdynamic), so a policy calling something this host
 * lacks fails here with the symbol's name rather than later.  The .so's
 * GNU build id identifies the exact build in recordings.
 */
#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <link.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "enoki_host.h"

struct bid_search {
	uintptr_t addr;
	char *hex;
	bool found;
};

static bool note_bid(const u8 *p, size_t size, char *hex)
{
	size_t off = 0;

	while (size - off >= sizeof(ElfW(Nhdr))) {
		const ElfW(Nhdr) *nh = (const void *)(p + off);
		size_t namesz = (nh->n_namesz + 3) & ~(size_t)3;
		size_t descsz = (nh->n_descsz + 3) & ~(size_t)3;
		const u8 *desc = p + off + sizeof(*nh) + namesz;
		u32 i;

		if (namesz + descsz > size - off - sizeof(*nh))
			return false;
		if (nh->n_type == NT_GNU_BUILD_ID && nh->n_namesz == 4 &&
		    !memcmp(p + off + sizeof(*nh), "GNU", 4)) {
			for (i = 0; i < nh->n_descsz && i < 20; i++)
				sprintf(hex + 2 * i, "%02x", desc[i]);
			return true;
		}
		off += sizeof(*nh) + namesz + descsz;
	}
	return false;
}

static int bid_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct bid_search *bs = arg;
	bool inside = false;
	int i;

	for (i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t start = info->dlpi_addr + ph->p_vaddr;

		if (ph->p_type == PT_LOAD && bs->addr >= start &&
		    bs->addr < start + ph->p_memsz)
			inside = true;
	}
	if (!inside)
		return 0;
	for (i = 0; i < info->dlpi_phnum && !bs->found; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];

		if (ph->p_type == PT_NOTE)
			bs->found = note_bid((const u8 *)(info->dlpi_addr +
							  ph->p_vaddr),
					     ph->p_memsz, bs->hex);
	}
	return 1;
}

static void find_build_id(struct enoki_loaded_policy *lp)
{
	struct bid_search bs = {
		.addr = (uintptr_t)lp->policy,
		.hex = lp->build_id,
	};

	lp->build_id[0] = '\0';
	dl_iterate_phdr(bid_cb, &bs);
}

int enoki_policy_open(const char *what, const char *sched_dir,
		      struct enoki_loaded_policy *lp, char *err,
		      size_t errlen)
{
	struct enoki_policy **entry;
	size_t len = strlen(what);

	memset(lp, 0, sizeof(*lp));
	if (strchr(what, '/') || (len > 3 && !strcmp(what + len - 3, ".so")))
		snprintf(lp->path, sizeof(lp->path), "%s", what);
	else
		snprintf(lp->path, sizeof(lp->path), "%s/%s.so",
			 sched_dir ? sched_dir : ".", what);
	if (access(lp->path, R_OK) != 0) {
		snprintf(err, errlen, "%s: no such policy (%s)", lp->path,
			 strerror(errno));
		return -ENOENT;
	}

	lp->dl = dlopen(lp->path, RTLD_NOW | RTLD_LOCAL);
	if (!lp->dl) {
		snprintf(err, errlen, "%s: cannot load: %s", lp->path,
			 dlerror());
		return -ENOEXEC;
	}
	entry = dlsym(lp->dl, "enoki_policy_entry");
	if (!entry || !*entry) {
		snprintf(err, errlen, "%s: not an Enoki policy (no enoki_policy_entry)",
			 lp->path);
		goto fail_close;
	}
	lp->policy = *entry;
	if (lp->policy->api_version != ENOKI_API_VERSION) {
		snprintf(err, errlen, "%s: built for Enoki API version %u, this host speaks version %u",
			 lp->path, lp->policy->api_version, ENOKI_API_VERSION);
		goto fail_close;
	}
	if (!lp->policy->name || !lp->policy->version) {
		snprintf(err, errlen, "%s: policy lacks a name or version",
			 lp->path);
		goto fail_close;
	}
	find_build_id(lp);
	return 0;

fail_close:
	dlclose(lp->dl);
	lp->dl = NULL;
	lp->policy = NULL;
	return -ENOEXEC;
}

void enoki_policy_static(struct enoki_policy *policy,
			 struct enoki_loaded_policy *lp)
{
	memset(lp, 0, sizeof(*lp));
	lp->policy = policy;
	find_build_id(lp);
}

void enoki_policy_close(struct enoki_loaded_policy *lp)
{
	if (!lp)
		return;
	if (lp->dl)
		dlclose(lp->dl);
	lp->dl = NULL;
	lp->policy = NULL;
}
