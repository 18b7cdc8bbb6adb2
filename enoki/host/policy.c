/*
 * policy.c - loading a policy's native build.
 *
 * A policy .so (sched/sched.mk builds $(O)/sched/NAME.so) exports
 * `enoki_policy_entry`, a pointer to its struct enoki_policy, and leaves
 * every enoki_* call undefined: RTLD_NOW resolves them against the
 * executable (linked -rdynamic), so a policy calling something this host
 * lacks fails here with the symbol's name rather than later.  The .so's
 * GNU build id (common/buildid.c) identifies the exact build.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../../common/buildid.h"
#include "enoki_host.h"

static void find_build_id(struct enoki_loaded_policy *lp)
{
	u8 id[20];
	size_t len = common_build_id(lp->policy, id, sizeof(id));

	common_hex(lp->build_id, sizeof(lp->build_id), id, len);
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
