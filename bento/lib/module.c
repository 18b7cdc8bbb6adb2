/*
 * module.c - loading a file-system module into a userspace host.
 *
 * A module is a shared object built from a file system's sources; it
 * exports one symbol, bento_module_entry (a `const struct bento_module *`
 * variable defined by BENTO_MODULE() in <bento/fs.h>).  Loading:
 *
 *   1. dlopen(RTLD_NOW | RTLD_LOCAL): every symbol is resolved at once,
 *      so a module missing a runtime function fails here and not in the
 *      middle of an op; RTLD_LOCAL keeps two builds of one file system
 *      (old and new, during a live upgrade) from resolving each other's
 *      symbols.  The module's bento_* calls resolve against the host
 *      executable, which must therefore be linked with -rdynamic (and
 *      with the whole of libbento.a, --whole-archive, so that functions
 *      the host itself does not call are exported too).
 *   2. dlsym("bento_module_entry"), and dladdr to check the symbol comes
 *      from this object, not from a library it pulled in.
 *   3. Check api_version against BENTO_API_VERSION and that the
 *      mandatory ops (init, destroy, lookup, getattr) are there.
 *   4. The build id: the ELF NT_GNU_BUILD_ID note of the object holding
 *      the descriptor (common/buildid.c, shared with Enoki), or, if it
 *      has none, the hex XXH64 of the file's bytes.
 *
 * Every refusal logs one line naming the file and the reason and returns
 * -ENOEXEC (-ENOENT if there is no such file).
 */
#include <dlfcn.h>
#include <fcntl.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <xxhash.h>

#include "../../common/buildid.h"
#include "bento_host.h"

#define BENTO_LOG_MOD "bento"

/* ---- build id --------------------------------------------------------------- */

/* Hex XXH64 of the file at @path, for objects without a build id. */
static int file_hash(const char *path, char *hex)
{
	XXH64_state_t *xs;
	uint8_t buf[16384], digest[8];
	uint64_t h;
	ssize_t n;
	int fd, i, err = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	xs = XXH64_createState();
	if (!xs) {
		err = -ENOMEM;
		goto out_close;
	}
	XXH64_reset(xs, 0);
	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = -errno;
			goto out_free;
		}
		XXH64_update(xs, buf, (size_t)n);
	}
	h = XXH64_digest(xs);
	for (i = 0; i < 8; i++)
		digest[i] = (uint8_t)(h >> (56 - 8 * i));
	common_hex(hex, 41, digest, 8);
out_free:
	XXH64_freeState(xs);
out_close:
	close(fd);
	return err;
}

static void module_build_id(struct bento_loaded_module *lm, const char *file)
{
	uint8_t id[20];
	size_t len = common_build_id(lm->mod, id, sizeof(id));

	if (len) {
		common_hex(lm->build_id, sizeof(lm->build_id), id, len);
		return;
	}
	if (!file || file_hash(file, lm->build_id) != 0)
		snprintf(lm->build_id, sizeof(lm->build_id), "unknown");
}

/* ---- checks ------------------------------------------------------------------ */

/* Refuse a module descriptor that this host cannot serve. */
static int module_check(const struct bento_module *mod, const char *path)
{
	const struct bento_fs_ops *ops = mod->ops;
	const char *missing = NULL;

	if (mod->api_version != BENTO_API_VERSION) {
		bento_log(BENTO_LOG_ERR, BENTO_LOG_MOD,
			  "%s: built for Bento API version %u, this host speaks version %u",
			  path, mod->api_version, BENTO_API_VERSION);
		return -ENOEXEC;
	}
	if (!mod->name || !mod->version || !ops) {
		bento_log(BENTO_LOG_ERR, BENTO_LOG_MOD,
			  "%s: module descriptor lacks a name, version or ops table",
			  path);
		return -ENOEXEC;
	}
	if (!ops->init)
		missing = "init";
	else if (!ops->destroy)
		missing = "destroy";
	else if (!ops->lookup)
		missing = "lookup";
	else if (!ops->getattr)
		missing = "getattr";
	if (missing) {
		bento_log(BENTO_LOG_ERR, BENTO_LOG_MOD,
			  "%s: module %s lacks the mandatory op %s", path,
			  mod->name, missing);
		return -ENOEXEC;
	}
	return 0;
}

/* The module descriptor exported by @handle, checked to be its own. */
static int module_entry(void *handle, const char *path,
			const struct bento_module **mod)
{
	const struct bento_module *const *entry;
	struct link_map *lmap = NULL;
	Dl_info info;

	entry = dlsym(handle, "bento_module_entry");
	if (!entry || dlinfo(handle, RTLD_DI_LINKMAP, &lmap) != 0 ||
	    !dladdr(entry, &info) || !lmap ||
	    strcmp(info.dli_fname, lmap->l_name) != 0 || !*entry) {
		bento_log(BENTO_LOG_ERR, BENTO_LOG_MOD,
			  "%s: not a Bento module (no bento_module_entry)",
			  path);
		return -ENOEXEC;
	}
	*mod = *entry;
	return 0;
}

/* ---- load / unload --------------------------------------------------------- */

int bento_module_load(const char *path, struct bento_loaded_module **out)
{
	struct bento_loaded_module *lm;
	int err;

	lm = bento_zalloc(sizeof(*lm));
	if (!lm)
		return -ENOMEM;

	/* An absolute path, so dlopen opens this file and searches nothing. */
	if (!realpath(path, lm->path)) {
		err = -errno;
		bento_log(BENTO_LOG_ERR, BENTO_LOG_MOD, "%s: %s", path,
			  strerror(errno));
		goto out_free;
	}
	lm->handle = dlopen(lm->path, RTLD_NOW | RTLD_LOCAL);
	if (!lm->handle) {
		bento_log(BENTO_LOG_ERR, BENTO_LOG_MOD,
			  "%s: cannot load: %s", path, dlerror());
		err = -ENOEXEC;
		goto out_free;
	}

	err = module_entry(lm->handle, path, &lm->mod);
	if (err)
		goto out_close;
	err = module_check(lm->mod, path);
	if (err)
		goto out_close;
	module_build_id(lm, lm->path);
	*out = lm;
	return 0;

out_close:
	dlclose(lm->handle);
out_free:
	bento_free(lm);
	return err;
}

int bento_linked_module(const struct bento_module *mod,
			struct bento_loaded_module **out)
{
	struct bento_loaded_module *lm;
	Dl_info info;
	int err;

	err = module_check(mod, mod->name ? mod->name : "(linked)");
	if (err)
		return err;
	lm = bento_zalloc(sizeof(*lm));
	if (!lm)
		return -ENOMEM;
	lm->mod = mod;
	snprintf(lm->path, sizeof(lm->path), "(linked)");
	module_build_id(lm, dladdr(mod, &info) && info.dli_fname ?
			info.dli_fname : NULL);
	*out = lm;
	return 0;
}

void bento_module_unload(struct bento_loaded_module *lm)
{
	if (!lm)
		return;
	if (lm->handle)
		dlclose(lm->handle);
	bento_free(lm);
}
