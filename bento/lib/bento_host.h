/*
 * bento_host.h - the userspace runtime as its hosts see it.
 *
 * bento/lib implements the services of include/bento/ for userspace
 * (buffer cache, locks, memory, time, logging, state records) and the
 * pieces every userspace host shares: block-device backends, loading a
 * file-system module, and a mounted instance that ties a module, a device
 * and a cache together.  The FUSE host (bento/user) and the test host
 * (bento/test) are both built on it.  File systems never include this.
 *
 * Layers, bottom up:
 *
 *   struct bento_blkdev      a device backend: image file, block device,
 *                            memory, or a test device that records writes
 *   buffer cache (bcache.c)  4 KiB buffers over one blkdev, LRU, refcounts
 *   struct bento_instance    one mounted file system: sb + cache + module
 *
 * Errors: 0 or a negative errno, as everywhere.
 */
#ifndef BENTO_HOST_H
#define BENTO_HOST_H

#include <bento/bento.h>

/* ---- block-device backends ------------------------------------------ */

struct bento_blkdev;

struct bento_blkdev_ops {
	/* Move @n whole blocks; 0 or -EIO.  Ranges are already checked. */
	int (*read)(struct bento_blkdev *dev, uint64_t blockno, uint32_t n,
		    void *buf);
	int (*write)(struct bento_blkdev *dev, uint64_t blockno, uint32_t n,
		     const void *buf);
	/* Barrier: completed writes become durable.  0 or -EIO. */
	int (*flush)(struct bento_blkdev *dev);
	/* Release the backend's resources, including @dev itself (the
	 * backend allocated it, so it frees it). */
	void (*close)(struct bento_blkdev *dev);
};

struct bento_blkdev {
	const struct bento_blkdev_ops *ops;
	uint64_t nblocks;	/* size in BENTO_BLOCK_SIZE blocks */
	bool read_only;
	void *priv;		/* the backend's own state */
};

/*
 * bento_blkdev_open_file - open an image file or a block device at @path
 * (O_RDWR, or O_RDONLY if @read_only).  Size is the file's or device's
 * size rounded down to whole blocks.  The device is locked for the life of
 * the handle (flock: exclusive for read-write, shared for read-only; O_EXCL
 * for block devices), so a second mount, mkfs or fsck -y is refused.
 * Returns 0, or -errno of open(2), -EBUSY if it is in use, -EINVAL for a
 * device smaller than one block.  After a failed write or flush every later
 * flush fails too (-EIO), so a lost commit is never reported as durable.
 */
int bento_blkdev_open_file(const char *path, bool read_only,
			   struct bento_blkdev **out);

/*
 * bento_blkdev_open_mem - a zero-filled in-memory device of @nblocks
 * blocks (for tests).  Returns 0 or -ENOMEM.
 */
int bento_blkdev_open_mem(uint64_t nblocks, struct bento_blkdev **out);

/* bento_blkdev_close - close and free.  NULL is ignored. */
void bento_blkdev_close(struct bento_blkdev *dev);

/*
 * bento_blkdev_mem_data - the bytes of a memory device made by
 * bento_blkdev_open_mem (nblocks * BENTO_BLOCK_SIZE of them), for tests
 * that inspect or corrupt an image.  NULL for any other backend.
 */
void *bento_blkdev_mem_data(struct bento_blkdev *dev);

/* ---- module loading ---------------------------------------------------- */

/* A loaded file-system module: the object, its descriptor, its identity. */
struct bento_loaded_module {
	void *handle;				/* dlopen handle, or NULL
						 * for a linked-in module */
	const struct bento_module *mod;
	char path[4096];
	char build_id[41];			/* hex GNU build id, or a
						 * hash of the file */
};

/*
 * bento_module_load - dlopen the module at @path (RTLD_LOCAL, so two
 * builds of one file system can be loaded side by side), find its
 * bento_module_entry, check its API version and ops.
 * Returns 0, -ENOENT (no such file), -ENOEXEC (not a Bento module, or
 * built for another API version; the reason is logged).
 */
int bento_module_load(const char *path, struct bento_loaded_module **out);

/* bento_module_unload - dlclose and free.  NULL is ignored. */
void bento_module_unload(struct bento_loaded_module *lm);

/*
 * bento_linked_module - wrap a module linked into the program
 * (&bento_module_NAME) the way bento_module_load wraps a loaded one: the
 * same checks, handle NULL, path "(linked)", build_id that of the object
 * holding @mod.  Returns 0, -ENOEXEC (reason logged) or -ENOMEM.
 * (Not named bento_module_*: BENTO_MODULE(NAME) defines those.)
 */
int bento_linked_module(const struct bento_module *mod,
			struct bento_loaded_module **out);

/* ---- a mounted instance ------------------------------------------------ */

/* Counters kept per instance, shown by `bento status`. */
enum bento_op_counter {
	BENTO_OPC_LOOKUP, BENTO_OPC_FORGET, BENTO_OPC_GETATTR,
	BENTO_OPC_SETATTR, BENTO_OPC_READLINK, BENTO_OPC_MKNOD,
	BENTO_OPC_MKDIR, BENTO_OPC_SYMLINK, BENTO_OPC_CREATE,
	BENTO_OPC_UNLINK, BENTO_OPC_RMDIR, BENTO_OPC_RENAME, BENTO_OPC_LINK,
	BENTO_OPC_OPEN, BENTO_OPC_RELEASE, BENTO_OPC_READ, BENTO_OPC_WRITE,
	BENTO_OPC_FLUSH, BENTO_OPC_FSYNC, BENTO_OPC_OPENDIR,
	BENTO_OPC_READDIR, BENTO_OPC_RELEASEDIR, BENTO_OPC_FSYNCDIR,
	BENTO_OPC_STATFS, BENTO_OPC_SETXATTR, BENTO_OPC_GETXATTR,
	BENTO_OPC_LISTXATTR, BENTO_OPC_REMOVEXATTR,
	BENTO_OPC_NR
};

/* bento_op_counter_name - "lookup", "getattr", ... for BENTO_OPC_*. */
const char *bento_op_counter_name(enum bento_op_counter c);

struct bento_bcache;

struct bento_instance {
	struct bento_sb sb;			/* sb.host points here */
	const struct bento_module *mod;		/* serving module */
	struct bento_blkdev *dev;
	struct bento_bcache *cache;
	uint64_t ops[BENTO_OPC_NR];		/* atomic counters */
	uint64_t errors;			/* bento_fs_corrupt calls */
	const char *log_name;			/* prefix of bento_fs_corrupt
						 * lines: mod->name, or
						 * "bento" (settable) */
};

/*
 * bento_instance_mount - set up the cache over @dev (owned by the
 * instance from now on, closed on failure too) and call @mod's init.
 * @options: comma-separated options for the file system, or NULL.
 * @cache_blocks: buffer-cache capacity in blocks (0: a default).
 * Returns 0 or init's error.
 */
int bento_instance_mount(const struct bento_module *mod,
			 struct bento_blkdev *dev, const char *options,
			 bool read_only, uint64_t cache_blocks,
			 struct bento_instance **out);

/*
 * bento_instance_unmount - call destroy, write back and flush the cache,
 * close the device, free.  Returns 0 or -EIO if the final write-back or
 * flush failed (everything is freed regardless).  NULL is ignored.
 */
int bento_instance_unmount(struct bento_instance *inst);

/*
 * bento_instance_set_module - make @mod serve @inst from now on (live
 * upgrade, after @mod's transfer succeeded): inst->mod and the log_name
 * of corruption reports, which must not point into an unloaded module.
 * The caller keeps every op out meanwhile (the host's op lock).
 */
void bento_instance_set_module(struct bento_instance *inst,
			       const struct bento_module *mod);

/*
 * bento_instance_open / bento_instance_close - an instance with a device
 * and a cache but no module (mod NULL, nothing called), for tools such as
 * mkfs and fsck that use the buffer cache through inst->sb.  open takes
 * @dev as mount does; close writes back dirty buffers, flushes, closes
 * the device and frees, returning 0 or -EIO (freed regardless).
 * bento_instance_mount is open + init; unmount is destroy + close.
 */
int bento_instance_open(struct bento_blkdev *dev, bool read_only,
			uint64_t cache_blocks, struct bento_instance **out);
int bento_instance_close(struct bento_instance *inst);

/* bento_instance_count - bump counter @c (atomic, lock-free). */
void bento_instance_count(struct bento_instance *inst,
			  enum bento_op_counter c);

/* ---- buffer cache, host side ------------------------------------------- */

/*
 * bento_bcache_create - a cache of at most @cap_blocks unreferenced
 * buffers (0: BENTO_BCACHE_DEFAULT_BLOCKS) over @dev, reporting
 * corruption against @sb (may be NULL).  Does not own @dev.
 * Returns 0 or -ENOMEM.  Instances make their own; tests may use it.
 * bento_bcache_destroy - free every buffer without writing anything
 * back (call bento_sync_dirty first); buffers still referenced are a
 * leak in the caller and are logged.  NULL is ignored.
 */
#define BENTO_BCACHE_DEFAULT_BLOCKS 16384	/* 64 MiB */
int bento_bcache_create(struct bento_blkdev *dev, struct bento_sb *sb,
			uint64_t cap_blocks, struct bento_bcache **out);
void bento_bcache_destroy(struct bento_bcache *c);

/*
 * bento_bcache_sync / bento_bcache_flush - bento_sync_dirty and
 * bento_dev_flush for a cache reached without a superblock.
 */
int bento_bcache_sync(struct bento_bcache *c);
int bento_bcache_flush(struct bento_bcache *c);

struct bento_bcache_stats {
	uint64_t hits, misses, writes, flushes, evictions;
	uint64_t cached, dirty;			/* current buffers */
};

void bento_bcache_stats(struct bento_bcache *c,
			struct bento_bcache_stats *out);

/*
 * bento_bcache_drop_clean - forget every unreferenced clean buffer (the
 * test host uses it to simulate a cold cache).
 */
void bento_bcache_drop_clean(struct bento_bcache *c);

/* ---- state records, host side ------------------------------------------ */

/* bento_state_new / bento_state_free - an empty record; free accepts NULL. */
struct bento_state *bento_state_new(void);
void bento_state_free(struct bento_state *st);

/*
 * bento_state_serialize - the record as one byte string (for handing it
 * to another process): *@bytes is malloc'd, caller frees.
 * bento_state_deserialize - parse and validate one; -EBADMSG if
 * malformed (never reads out of bounds).
 */
int bento_state_serialize(const struct bento_state *st, void **bytes,
			  size_t *len);
int bento_state_deserialize(const void *bytes, size_t len,
			    struct bento_state **out);

/* ---- logging, host side ------------------------------------------------- */

/* bento_log_set_level - print messages at @level and more severe. */
void bento_log_set_level(int level);

/* bento_log_use_syslog - send messages to syslog (daemon) instead of
 * stderr. */
void bento_log_use_syslog(bool on);

/*
 * bento_log_capture_start - until _stop, hold the calling thread's error
 * lines instead of printing them: the first is copied into @buf ("SUBSYS:
 * message", @size bytes), later ones are counted (and printed only at
 * debug level).  Other threads and levels print as usual.  A host uses it
 * to fold a module's reason into its own one-line error.
 * bento_log_capture_stop - end it; returns how many lines were held.
 */
void bento_log_capture_start(char *buf, size_t size);
unsigned int bento_log_capture_stop(void);

#endif /* BENTO_HOST_H */
