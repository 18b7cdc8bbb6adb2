/*
 * instance.c - one mounted file system: a superblock, a buffer cache over
 * a device, and the module serving it.
 *
 * bento_instance_open builds the plumbing (sb.host -> instance, cache
 * over the device) without a module, for tools; bento_instance_mount adds
 * the module and calls its init.  Teardown runs the other way: destroy,
 * then write back every dirty buffer, flush the device, free the cache,
 * close the device.
 *
 * The instance owns the device from the moment it is passed in, on
 * failure too, so callers have one rule: never close it yourself.
 * Operation counters are relaxed atomics bumped by the host around each
 * op; the host, not this file, serializes ops against unmount and
 * upgrade.
 */
#include <stdlib.h>

#include "bento_host.h"

static const char *const op_counter_names[BENTO_OPC_NR] = {
	[BENTO_OPC_LOOKUP] = "lookup",
	[BENTO_OPC_FORGET] = "forget",
	[BENTO_OPC_GETATTR] = "getattr",
	[BENTO_OPC_SETATTR] = "setattr",
	[BENTO_OPC_READLINK] = "readlink",
	[BENTO_OPC_MKNOD] = "mknod",
	[BENTO_OPC_MKDIR] = "mkdir",
	[BENTO_OPC_SYMLINK] = "symlink",
	[BENTO_OPC_CREATE] = "create",
	[BENTO_OPC_UNLINK] = "unlink",
	[BENTO_OPC_RMDIR] = "rmdir",
	[BENTO_OPC_RENAME] = "rename",
	[BENTO_OPC_LINK] = "link",
	[BENTO_OPC_OPEN] = "open",
	[BENTO_OPC_RELEASE] = "release",
	[BENTO_OPC_READ] = "read",
	[BENTO_OPC_WRITE] = "write",
	[BENTO_OPC_FLUSH] = "flush",
	[BENTO_OPC_FSYNC] = "fsync",
	[BENTO_OPC_OPENDIR] = "opendir",
	[BENTO_OPC_READDIR] = "readdir",
	[BENTO_OPC_RELEASEDIR] = "releasedir",
	[BENTO_OPC_FSYNCDIR] = "fsyncdir",
	[BENTO_OPC_STATFS] = "statfs",
	[BENTO_OPC_SETXATTR] = "setxattr",
	[BENTO_OPC_GETXATTR] = "getxattr",
	[BENTO_OPC_LISTXATTR] = "listxattr",
	[BENTO_OPC_REMOVEXATTR] = "removexattr",
};

const char *bento_op_counter_name(enum bento_op_counter c)
{
	if ((unsigned int)c >= BENTO_OPC_NR)
		return "unknown";
	return op_counter_names[c];
}

void bento_instance_count(struct bento_instance *inst,
			  enum bento_op_counter c)
{
	BENTO_ASSERT((unsigned int)c < BENTO_OPC_NR);
	__atomic_fetch_add(&inst->ops[c], 1, __ATOMIC_RELAXED);
}

int bento_instance_open(struct bento_blkdev *dev, bool read_only,
			uint64_t cache_blocks, struct bento_instance **out)
{
	struct bento_instance *inst;
	int err;

	inst = bento_zalloc(sizeof(*inst));
	if (!inst) {
		err = -ENOMEM;
		goto out_close_dev;
	}
	inst->dev = dev;
	inst->log_name = "bento";
	inst->sb.host = inst;
	inst->sb.options = "";
	inst->sb.read_only = read_only || dev->read_only;

	err = bento_bcache_create(dev, &inst->sb, cache_blocks, &inst->cache);
	if (err)
		goto out_free_inst;
	*out = inst;
	return 0;

out_free_inst:
	bento_free(inst);
out_close_dev:
	bento_blkdev_close(dev);
	return err;
}

/* Free the instance and close its device; nothing is written. */
static void instance_free(struct bento_instance *inst)
{
	bento_bcache_destroy(inst->cache);
	bento_blkdev_close(inst->dev);
	if (inst->mod)
		bento_free((char *)inst->sb.options);
	bento_free(inst);
}

int bento_instance_close(struct bento_instance *inst)
{
	int err = 0, ferr;

	if (!inst)
		return 0;
	if (!inst->dev->read_only) {
		err = bento_bcache_sync(inst->cache);
		ferr = bento_bcache_flush(inst->cache);
		if (!err)
			err = ferr;
	}
	if (err)
		bento_log(BENTO_LOG_ERR, "bento",
			  "%s: final write-back failed: %s", inst->log_name,
			  strerror(-err));
	instance_free(inst);
	return err ? -EIO : 0;
}

int bento_instance_mount(const struct bento_module *mod,
			 struct bento_blkdev *dev, const char *options,
			 bool read_only, uint64_t cache_blocks,
			 struct bento_instance **out)
{
	struct bento_instance *inst;
	char *opts;
	int err;

	/* The plumbing, then the module's own view of it. */
	err = bento_instance_open(dev, read_only, cache_blocks, &inst);
	if (err)
		return err;
	opts = bento_alloc(strlen(options ? options : "") + 1);
	if (!opts) {
		bento_instance_close(inst);
		return -ENOMEM;
	}
	strcpy(opts, options ? options : "");
	inst->sb.options = opts;
	inst->mod = mod;
	inst->log_name = mod->name ? mod->name : "bento";

	/* init: on failure it left nothing behind; drop what it read. */
	err = mod->ops->init(&inst->sb);
	if (err) {
		instance_free(inst);
		return err;
	}
	*out = inst;
	return 0;
}

void bento_instance_set_module(struct bento_instance *inst,
			       const struct bento_module *mod)
{
	inst->mod = mod;
	inst->log_name = mod->name ? mod->name : "bento";
}

int bento_instance_unmount(struct bento_instance *inst)
{
	if (!inst)
		return 0;
	if (inst->mod)
		inst->mod->ops->destroy(&inst->sb);
	return bento_instance_close(inst);
}
