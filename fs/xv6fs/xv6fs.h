/*
 * xv6fs.h - in-memory structures of xv6fs and the prototypes its files
 * share.  The on-disk format is in xv6fs_format.h.
 *
 * Files and layers, bottom up:
 *
 *   log.c     the journal: transactions (begin_op/end_op), group commit,
 *             replay, deferred frees
 *   balloc.c  block and inode bitmaps
 *   inode.c   inode cache, reading/writing inodes, block map, truncate,
 *             the orphan list
 *   dir.c     directory records and the in-memory hash index
 *   namei.c   lookup, create, link, unlink, rename ...
 *   file.c    read, write, fsync, setattr
 *   xattr.c   extended attributes
 *   super.c   mount (init), unmount, statfs, live-upgrade state
 *   ops.c     the ops table and BENTO_MODULE
 *
 * Lock order (outer first):
 *
 *   1. a transaction (xv6_begin_op): taken before any inode lock, because
 *      a commit waits for every op in flight to end
 *   2. fs->rename_lock (cross-directory renames only)
 *   3. directory inode locks, ancestors before descendants; unrelated
 *      directories (only under rename_lock) by inode number
 *   4. non-directory inode locks, by inode number
 *   5. fs->orphan_lock, fs->balloc_lock, fs->ialloc_lock (leaves)
 *   6. fs->icache_lock and log->lock (leaves; never held across I/O
 *      except log->lock in begin_op waits, which sleeps on a condition)
 *
 * Inode fields and the contents of an inode's blocks are protected by
 * ip->lock; ip->ref and ip->nlookup by fs->icache_lock.
 */
#ifndef XV6FS_H
#define XV6FS_H

#include <bento/bento.h>
#include "xv6fs_format.h"

/* Log blocks an op reserves; the log must hold two ops at least. */
#define XV6_OP_BLOCKS 32u
/* Bytes of file data one write transaction covers at most. */
#define XV6_WRITE_CHUNK (1u << 20)
/* Unreferenced inodes (with their directory indexes) kept cached. */
#define XV6_ICACHE_KEEP 8192u
/* Commit a transaction older than this many seconds at the next end_op. */
#define XV6_COMMIT_AGE 5

struct xv6_fs;

/* One op's handle on the running transaction. */
struct xv6_tx {
	struct xv6_fs *fs;
	uint32_t reserved;	/* log blocks reserved by begin_op */
	uint32_t used;		/* blocks this op added to the transaction */
};

struct xv6_extent {
	uint64_t start;
	uint64_t len;
};

struct xv6_log {
	struct bento_mutex lock;
	struct bento_cond cond;
	uint32_t max;		/* data blocks of the log area */
	uint32_t outstanding;	/* ops in flight */
	uint32_t reserve;	/* sum of their reservations */
	bool committing;
	bool want_commit;
	int error;		/* sticky: a commit failed, fs is dead */
	uint64_t seq;		/* number of the running transaction */
	uint64_t committed;	/* highest transaction known durable */
	struct bento_timespec start; /* first block of the running tx */

	uint32_t count;		/* blocks in the running transaction */
	struct bento_buf **bufs; /* [max], one reference each */
	uint64_t *blocknos;	/* [max], what bufs[i] held when logged */
	uint32_t *slot;		/* open-addressing set of indexes+1 */
	uint32_t nslot;
	void *scratch;		/* (max + 1) blocks for a commit */

	struct xv6_extent *freed; /* blocks to free when the tx commits */
	uint32_t nfreed, freed_cap;

	uint64_t clears;	/* header clears written (log.c) */
	uint64_t clears_durable; /* of them, known flushed */
};

struct xv6_inode;

struct xv6_fs {
	struct bento_sb *sb;
	bool read_only;

	/* Geometry, from the validated superblock. */
	uint64_t nblocks, ninodes, log_start, log_blocks;
	uint64_t imap_start, imap_blocks, bmap_start, bmap_blocks;
	uint64_t itable_start, itable_blocks, data_start;
	uint64_t hash_seed;

	struct xv6_log log;

	struct bento_mutex balloc_lock;
	uint64_t bfree;		/* free blocks (balloc_lock) */
	uint64_t bpending;	/* freed, free once committed (balloc_lock) */
	uint64_t bcursor;	/* where the next search starts */
	struct bento_mutex ialloc_lock;
	uint64_t ifree;		/* free inodes (ialloc_lock) */
	uint64_t icursor;

	struct bento_mutex icache_lock;
	struct xv6_inode **ihash;
	uint32_t ihash_size;
	uint64_t icount;
	struct xv6_inode *lru_head, *lru_tail; /* unreferenced, oldest first */
	uint64_t lru_count;

	struct bento_mutex rename_lock;
	struct bento_mutex orphan_lock;
};

/* Directory index, see dir.c. */
struct xv6_dx;

struct xv6_inode {
	struct xv6_inode *hnext;	/* icache_lock */
	struct xv6_inode *lru_prev, *lru_next;	/* icache_lock */
	bool on_lru;			/* icache_lock */
	uint64_t ino;
	uint32_t ref;			/* icache_lock */
	uint64_t nlookup;		/* icache_lock */
	struct bento_rwlock lock;
	bool valid;			/* fields below loaded (lock) */

	uint32_t mode, nlink, uid, gid, rdev, flags;
	uint64_t size, nblocks;
	struct bento_timespec atime, mtime, ctime;
	uint32_t xattr_block;
	uint64_t generation, parent;
	uint32_t addr[XV6_NADDR];
	int orphan_slot;		/* slot in the orphan table, or -1 */
	struct bento_mutex dx_lock;	/* serializes building dx */
	struct xv6_dx *dx;		/* directories: index, or NULL */
};

static inline struct xv6_fs *XV6_FS(struct bento_sb *sb)
{
	return sb->fs_info;
}

static inline bool xv6_is_dir(const struct xv6_inode *ip)
{
	return S_ISDIR(ip->mode);
}

/* ---- log.c ---- */
int xv6_log_init(struct xv6_fs *fs);
void xv6_log_destroy(struct xv6_fs *fs);
int xv6_begin_op(struct xv6_fs *fs, struct xv6_tx *tx, uint32_t nblocks);
int xv6_end_op(struct xv6_tx *tx);
void xv6_log_write(struct xv6_tx *tx, struct bento_buf *b);
bool xv6_tx_low(const struct xv6_tx *tx, uint32_t need);
int xv6_log_defer_free(struct xv6_tx *tx, uint64_t start, uint64_t len);
int xv6_log_force(struct xv6_fs *fs);

/*
 * Items of the live-upgrade state record (super.c writes version 2;
 * integers are native u64, as old and new build share one process).
 */
#define XV6_ST_GEOM 1u		/* nblocks, ninodes, data_start */
#define XV6_ST_LOOKUPS 2u	/* (ino, nlookup) pairs */
#define XV6_ST_LOG 3u		/* the running transaction (log.c) */
#define XV6_ST_LOGGED 4u	/* its home block numbers, in log order */
#define XV6_ST_FREED 5u		/* its deferred frees: (start, len) */
#define XV6_ST_ORPHANS 6u	/* (ino, orphan slot) of cached orphans */

/*
 * xv6_log_export - live upgrade, old build: put the running transaction
 * (sequence numbers, the home block numbers it logged, its deferred
 * frees, whether a commit was asked for and whether the last header
 * clear may not be durable) into @st as XV6_ST_LOG, XV6_ST_LOGGED and
 * XV6_ST_FREED.  Changes nothing: the old build can keep serving.  No
 * op may be in flight (-EBUSY otherwise); -EIO if a commit failed;
 * -ENOMEM.
 */
int xv6_log_export(struct xv6_fs *fs, struct bento_state *st);
/*
 * xv6_log_import - live upgrade, new build, after mount_fs: rebuild the
 * running transaction from those items, taking a buffer reference on
 * every logged block (a cache hit: the old build's modified buffer), and
 * add the deferred frees to fs->bpending.  Returns 0, -EPROTO for items
 * that are missing or inconsistent with this file system, or another
 * errno; on failure the references taken are dropped by
 * xv6_log_destroy.
 */
int xv6_log_import(struct xv6_fs *fs, const struct bento_state *st);

/* ---- balloc.c ---- */
int xv6_balloc_init(struct xv6_fs *fs);
int xv6_balloc(struct xv6_tx *tx, uint64_t goal, uint64_t *out);
int xv6_bfree(struct xv6_tx *tx, uint64_t b);
void xv6_bfree_commit(struct xv6_fs *fs, const struct xv6_extent *e);
int xv6_ialloc_bit(struct xv6_tx *tx, uint64_t *ino);
int xv6_ifree_bit(struct xv6_tx *tx, uint64_t ino);
bool xv6_valid_data_block(struct xv6_fs *fs, uint64_t b);
uint64_t xv6_bpending(struct xv6_fs *fs);

/* ---- inode.c ---- */
int xv6_icache_init(struct xv6_fs *fs);
void xv6_icache_destroy(struct xv6_fs *fs);
int xv6_iget(struct xv6_fs *fs, uint64_t ino, struct xv6_inode **out);
void xv6_iput(struct xv6_fs *fs, struct xv6_inode *ip);
void xv6_ilookup_add(struct xv6_fs *fs, struct xv6_inode *ip, uint64_t n);
int xv6_ialloc(struct xv6_tx *tx, uint32_t mode, const struct bento_ctx *ctx,
	       struct xv6_inode **out);
int xv6_iupdate(struct xv6_tx *tx, struct xv6_inode *ip);
int xv6_bmap(struct xv6_fs *fs, struct xv6_inode *ip, uint64_t fblk,
	     struct xv6_tx *tx, uint64_t goal, uint64_t *pblk, bool *fresh);
int xv6_itrunc(struct xv6_fs *fs, struct xv6_inode *ip, uint64_t size);
int xv6_free_beyond(struct xv6_tx *tx, struct xv6_inode *ip, uint64_t from,
		    bool *done);
int xv6_orphan_add(struct xv6_tx *tx, struct xv6_inode *ip);
int xv6_orphan_del(struct xv6_tx *tx, struct xv6_inode *ip);
int xv6_orphan_recover(struct xv6_fs *fs);
void xv6_fill_attr(const struct xv6_inode *ip, struct bento_attr *a);
void xv6_fill_entry(const struct xv6_inode *ip, struct bento_entry *e);
void xv6_touch(struct xv6_inode *ip, bool m, bool c);
int xv6_inode_corrupt(struct xv6_fs *fs, uint64_t ino, const char *what);

/* ---- dir.c ---- */
int xv6_dir_lookup(struct xv6_fs *fs, struct xv6_inode *dp, const char *name,
		   uint64_t *ino, uint32_t *type);
int xv6_dir_add(struct xv6_tx *tx, struct xv6_inode *dp, const char *name,
		uint64_t ino, uint32_t type);
int xv6_dir_remove(struct xv6_tx *tx, struct xv6_inode *dp,
		   const char *name);
int xv6_dir_retarget(struct xv6_tx *tx, struct xv6_inode *dp,
		     const char *name, uint64_t ino, uint32_t type);
int xv6_dir_count(struct xv6_fs *fs, struct xv6_inode *dp, uint64_t *n);
int xv6_dir_iterate(struct xv6_fs *fs, struct xv6_inode *dp, uint64_t off,
		    bento_filldir_t fill, void *dirbuf);
void xv6_dx_free(struct xv6_inode *dp);
uint32_t xv6_name_hash(struct xv6_fs *fs, const char *name, uint32_t len);

/* ---- file.c / xattr.c / namei.c ---- */
ssize_t xv6_read(struct bento_sb *sb, bento_ino_t ino, uint64_t fh,
		 char *buf, size_t size, uint64_t off);
ssize_t xv6_write(struct bento_sb *sb, bento_ino_t ino, uint64_t fh,
		  const char *buf, size_t size, uint64_t off);
int xv6_setattr(struct bento_sb *sb, const struct bento_ctx *ctx,
		bento_ino_t ino, const struct bento_setattr *sa,
		struct bento_attr *out);
int xv6_fsync(struct bento_sb *sb, bento_ino_t ino, uint64_t fh,
	      int datasync);
int xv6_zero_tail(struct xv6_fs *fs, struct xv6_inode *ip);
/*
 * xv6_retry_nospc - an op that may allocate failed with @err, outside any
 * transaction: if that is -ENOSPC, the op was not retried yet (*@retried)
 * and blocks freed by the running transaction wait for its commit,
 * commit it (they become free) and return true: run the op once more.
 * Also true when blocks are free again by now (another op's commit freed
 * them after this op failed).
 */
bool xv6_retry_nospc(struct xv6_fs *fs, int err, bool *retried);

int xv6_setxattr(struct bento_sb *sb, const struct bento_ctx *ctx,
		 bento_ino_t ino, const char *name, const void *value,
		 size_t size, int flags);
ssize_t xv6_getxattr(struct bento_sb *sb, bento_ino_t ino, const char *name,
		     void *value, size_t size);
ssize_t xv6_listxattr(struct bento_sb *sb, bento_ino_t ino, char *list,
		      size_t size);
int xv6_removexattr(struct bento_sb *sb, const struct bento_ctx *ctx,
		    bento_ino_t ino, const char *name);
int xv6_xattr_free(struct xv6_tx *tx, struct xv6_inode *ip);

extern const struct bento_fs_ops xv6fs_ops;
int xv6_lookup(struct bento_sb *sb, bento_ino_t parent, const char *name,
	       struct bento_entry *out);
void xv6_forget(struct bento_sb *sb, bento_ino_t ino, uint64_t nlookup);
int xv6_getattr(struct bento_sb *sb, bento_ino_t ino, struct bento_attr *out);
int xv6_readlink(struct bento_sb *sb, bento_ino_t ino, char *buf,
		 size_t size);
int xv6_mknod(struct bento_sb *sb, const struct bento_ctx *ctx,
	      bento_ino_t parent, const char *name, uint32_t mode,
	      uint32_t rdev, struct bento_entry *out);
int xv6_mkdir(struct bento_sb *sb, const struct bento_ctx *ctx,
	      bento_ino_t parent, const char *name, uint32_t mode,
	      struct bento_entry *out);
int xv6_symlink(struct bento_sb *sb, const struct bento_ctx *ctx,
		bento_ino_t parent, const char *name, const char *target,
		struct bento_entry *out);
int xv6_create(struct bento_sb *sb, const struct bento_ctx *ctx,
	       bento_ino_t parent, const char *name, uint32_t mode, int flags,
	       struct bento_entry *out, uint64_t *fh);
int xv6_unlink(struct bento_sb *sb, const struct bento_ctx *ctx,
	       bento_ino_t parent, const char *name);
int xv6_rmdir(struct bento_sb *sb, const struct bento_ctx *ctx,
	      bento_ino_t parent, const char *name);
int xv6_rename(struct bento_sb *sb, const struct bento_ctx *ctx,
	       bento_ino_t parent, const char *name, bento_ino_t newparent,
	       const char *newname, unsigned int flags);
int xv6_link(struct bento_sb *sb, const struct bento_ctx *ctx,
	     bento_ino_t ino, bento_ino_t newparent, const char *newname,
	     struct bento_entry *out);
int xv6_readdir(struct bento_sb *sb, bento_ino_t ino, uint64_t fh,
		uint64_t off, bento_filldir_t fill, void *dirbuf);

/* ---- super.c ---- */
int xv6_init(struct bento_sb *sb);
void xv6_destroy(struct bento_sb *sb);
int xv6_statfs(struct bento_sb *sb, struct bento_statfs *out);
int xv6_prepare(struct bento_sb *sb, struct bento_state *st);
int xv6_transfer(struct bento_sb *sb, const struct bento_state *st);

#endif /* XV6FS_H */
