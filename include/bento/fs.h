/*
 * bento/fs.h - the file-system ops table: what a Bento file system
 * implements, and the superblock the host hands it.
 *
 * A file system is a `const struct bento_fs_ops` plus a BENTO_MODULE()
 * line.  The same source is compiled for every host: the FUSE host
 * (bento/user), the in-process test host (bento/test) and, later, the
 * kernel module host.  The host translates its requests into calls of
 * these ops; the ops reach the device, locks, memory and logging only
 * through the other <bento/...> headers.
 *
 * Conventions that hold for every op:
 *
 *  - Return 0 (or a byte count, where said) on success and a negative
 *    errno on failure.  Expected failures are plain errnos (-ENOENT,
 *    -EEXIST, -ENOSPC, ...).  Corrupt on-disk data is reported once with
 *    bento_fs_corrupt() and returned as -EUCLEAN or -EIO.
 *  - Ops run concurrently, from many threads, on the same or different
 *    inodes; the file system does its own locking.  The host holds no
 *    lock of the file system's while calling an op, and every op may
 *    sleep (do I/O, take mutexes, allocate).
 *  - The host has already checked permissions against the attributes the
 *    file system reported (default_permissions) and applied the umask to
 *    any mode it passes.  Names are NUL-terminated, 1..BENTO_NAME_MAX
 *    bytes, never contain '/', and are never "." or ".." (the host
 *    resolves those itself).
 *  - Inode numbers are the file system's own; the host maps its root
 *    (sb->root_ino) to whatever number it uses for the root.
 *  - Ops that return a struct bento_entry (lookup, mknod, mkdir, symlink,
 *    create, link) give the host one *lookup reference* on that inode;
 *    forget() gives references back.  An inode with no links and no
 *    lookup references is gone and its space can be freed.
 *  - A file handle (*fh) is a 64-bit value the file system chooses at
 *    open/create/opendir and gets back in later calls on that open file.
 *  - Live upgrade: the host guarantees that no op is in flight while
 *    prepare, transfer or destroy run.
 */
#ifndef BENTO_FS_H
#define BENTO_FS_H

#include <bento/types.h>

struct bento_state;

/* The version of this ops table; a module built against another refuses
 * to load. */
#define BENTO_API_VERSION 1

/*
 * One mounted instance.  The host fills dev-related fields and options
 * before init; the file system sets root_ino and fs_info in init and owns
 * fs_info until destroy.
 */
struct bento_sb {
	void *fs_info;		/* the file system's private state */
	bento_ino_t root_ino;	/* set by init */
	const char *options;	/* mount options the host did not consume,
				 * comma-separated, or "" */
	bool read_only;		/* mounted read-only: no op may write */
	void *host;		/* the host's own state; not for the fs */
};

/*
 * Called by readdir for each entry.  @off is the cookie that, passed back
 * to readdir, continues *after* this entry.  Returns nonzero when the
 * host's buffer is full: readdir then stops and returns 0 (the entry was
 * not taken and will be offered again from the previous cookie).
 */
typedef int (*bento_filldir_t)(void *dirbuf, const char *name,
			       uint32_t namelen, bento_ino_t ino,
			       unsigned int dtype, uint64_t off);

struct bento_fs_ops {
	/*
	 * init - mount: read and validate the on-disk super block, replay
	 * the journal if any, set sb->root_ino and sb->fs_info.
	 * Returns 0, -EINVAL for an image that is not this file system's,
	 * -EUCLEAN for a corrupt one, -EIO, -ENOMEM.  On failure nothing is
	 * left allocated and destroy is not called.
	 */
	int (*init)(struct bento_sb *sb);

	/*
	 * destroy - unmount: make everything durable (as sync would),
	 * release all memory.  No op is in flight and none follows.
	 */
	void (*destroy)(struct bento_sb *sb);

	/*
	 * lookup - find @name in directory @parent and fill *@out.
	 * Returns 0, -ENOENT, -ENOTDIR if @parent is not a directory.
	 * Takes a lookup reference on success.
	 */
	int (*lookup)(struct bento_sb *sb, bento_ino_t parent,
		      const char *name, struct bento_entry *out);

	/*
	 * forget - the host drops @nlookup lookup references on @ino.
	 * Cannot fail.  If the inode has no links left and this was the
	 * last reference, the file system frees it now.
	 */
	void (*forget)(struct bento_sb *sb, bento_ino_t ino,
		       uint64_t nlookup);

	/* getattr - fill *@out for @ino.  Returns 0 or -EUCLEAN/-EIO. */
	int (*getattr)(struct bento_sb *sb, bento_ino_t ino,
		       struct bento_attr *out);

	/*
	 * setattr - change what @sa->valid names (mode, owner, size, times)
	 * and fill *@out with the result.  A size change truncates or
	 * extends (with a hole).  ctime is updated on any change unless
	 * BENTO_SET_CTIME gives it.  Returns 0, -EFBIG, -ENOSPC, -EPERM
	 * (size of a non-regular file: -EISDIR / -EINVAL).
	 */
	int (*setattr)(struct bento_sb *sb, const struct bento_ctx *ctx,
		       bento_ino_t ino, const struct bento_setattr *sa,
		       struct bento_attr *out);

	/*
	 * readlink - copy the target of symlink @ino into @buf (at most
	 * @size bytes, not NUL-terminated).  Returns the target's length,
	 * -EINVAL if @ino is not a symlink.
	 */
	int (*readlink)(struct bento_sb *sb, bento_ino_t ino, char *buf,
			size_t size);

	/*
	 * mknod, mkdir, symlink, create - make @name in directory @parent,
	 * owned by ctx->uid/gid, and fill *@out (one lookup reference).
	 * @mode holds type and permission bits for mknod and create,
	 * permission bits for mkdir.  Return 0, -EEXIST, -ENOSPC, -EMLINK,
	 * -ENAMETOOLONG (symlink target longer than a block).  create also
	 * opens the file (@flags are open(2)'s) and sets *@fh.
	 */
	int (*mknod)(struct bento_sb *sb, const struct bento_ctx *ctx,
		     bento_ino_t parent, const char *name, uint32_t mode,
		     uint32_t rdev, struct bento_entry *out);
	int (*mkdir)(struct bento_sb *sb, const struct bento_ctx *ctx,
		     bento_ino_t parent, const char *name, uint32_t mode,
		     struct bento_entry *out);
	int (*symlink)(struct bento_sb *sb, const struct bento_ctx *ctx,
		       bento_ino_t parent, const char *name,
		       const char *target, struct bento_entry *out);
	int (*create)(struct bento_sb *sb, const struct bento_ctx *ctx,
		      bento_ino_t parent, const char *name, uint32_t mode,
		      int flags, struct bento_entry *out, uint64_t *fh);

	/*
	 * unlink, rmdir - remove @name from @parent.  The inode lives on
	 * while lookup references remain.  Return 0, -ENOENT, -EISDIR
	 * (unlink of a directory), -ENOTDIR (rmdir of a non-directory),
	 * -ENOTEMPTY.
	 */
	int (*unlink)(struct bento_sb *sb, const struct bento_ctx *ctx,
		      bento_ino_t parent, const char *name);
	int (*rmdir)(struct bento_sb *sb, const struct bento_ctx *ctx,
		     bento_ino_t parent, const char *name);

	/*
	 * rename - move @name in @parent to @newname in @newparent, as
	 * rename(2)/renameat2(2): replaces an existing target of a
	 * compatible type unless BENTO_RENAME_NOREPLACE (-EEXIST), or
	 * swaps the two with BENTO_RENAME_EXCHANGE (-ENOENT if either is
	 * missing).  Returns -EINVAL when a directory would move into its
	 * own subtree, -ENOTEMPTY, -EISDIR, -ENOTDIR as rename(2).  The
	 * file system serializes renames that could form a cycle.
	 */
	int (*rename)(struct bento_sb *sb, const struct bento_ctx *ctx,
		      bento_ino_t parent, const char *name,
		      bento_ino_t newparent, const char *newname,
		      unsigned int flags);

	/*
	 * link - make @newname in @newparent another name of @ino, fill
	 * *@out (one lookup reference).  Returns 0, -EEXIST, -EMLINK,
	 * -EPERM for a directory.
	 */
	int (*link)(struct bento_sb *sb, const struct bento_ctx *ctx,
		    bento_ino_t ino, bento_ino_t newparent,
		    const char *newname, struct bento_entry *out);

	/*
	 * open, release - open a regular file (@flags as open(2); O_TRUNC
	 * has already been done through setattr) and set *@fh; release is
	 * the last close of that handle.  release cannot fail visibly.
	 */
	int (*open)(struct bento_sb *sb, const struct bento_ctx *ctx,
		    bento_ino_t ino, int flags, uint64_t *fh);
	void (*release)(struct bento_sb *sb, bento_ino_t ino, uint64_t fh);

	/*
	 * read - copy up to @size bytes at @off into @buf.  Returns the
	 * bytes read (short only at end of file; holes read as zeroes).
	 * write - store @size bytes from @buf at @off, extending the file
	 * as needed.  Returns the bytes written (all of them unless
	 * -ENOSPC or -EFBIG is hit partway, then what was written), or a
	 * negative errno if nothing was.  Both are safe against concurrent
	 * reads and writes of the same file.
	 */
	ssize_t (*read)(struct bento_sb *sb, bento_ino_t ino, uint64_t fh,
			char *buf, size_t size, uint64_t off);
	ssize_t (*write)(struct bento_sb *sb, bento_ino_t ino, uint64_t fh,
			 const char *buf, size_t size, uint64_t off);

	/*
	 * flush - a close(2) of one descriptor of the handle.  fsync - make
	 * the file's data and metadata durable (@datasync: data and what is
	 * needed to read it back).  fsyncdir - the same for a directory's
	 * entries.  All return 0 or -EIO.
	 */
	int (*flush)(struct bento_sb *sb, bento_ino_t ino, uint64_t fh);
	int (*fsync)(struct bento_sb *sb, bento_ino_t ino, uint64_t fh,
		     int datasync);

	/*
	 * opendir, readdir, releasedir - list directory @ino.  readdir calls
	 * @fill for each entry from cookie @off (0 = start), including "."
	 * and "..", and returns 0 at the end or when @fill says the buffer
	 * is full.  Entries present for the whole listing are each returned
	 * exactly once, even if other entries are created or removed
	 * meanwhile.
	 */
	int (*opendir)(struct bento_sb *sb, const struct bento_ctx *ctx,
		       bento_ino_t ino, uint64_t *fh);
	int (*readdir)(struct bento_sb *sb, bento_ino_t ino, uint64_t fh,
		       uint64_t off, bento_filldir_t fill, void *dirbuf);
	void (*releasedir)(struct bento_sb *sb, bento_ino_t ino,
			   uint64_t fh);
	int (*fsyncdir)(struct bento_sb *sb, bento_ino_t ino, uint64_t fh,
			int datasync);

	/*
	 * sync_fs - make everything done so far durable (@wait nonzero), or
	 * start doing so without waiting (@wait 0): for a journaling file
	 * system, commit the running transaction.  The host calls it
	 * periodically (every `commit=` seconds, 5 by default, like ext4's
	 * commit interval) and on syncfs(2) where the host sees one.  Returns
	 * 0 or -EIO.  NULL: the host writes back the buffer cache and flushes
	 * the device instead.
	 */
	int (*sync_fs)(struct bento_sb *sb, int wait);

	/* statfs - fill *@out.  Returns 0. */
	int (*statfs)(struct bento_sb *sb, struct bento_statfs *out);

	/*
	 * Extended attributes.  setxattr: @flags BENTO_XATTR_CREATE
	 * (-EEXIST if present) or _REPLACE (-ENODATA if absent); -ENOSPC
	 * when they do not fit, -ERANGE for a value too large.  getxattr:
	 * returns the value's size; with @size 0 only the size, else
	 * -ERANGE if it does not fit; -ENODATA if absent.  listxattr: the
	 * NUL-separated names, same size rules.  removexattr: 0 or -ENODATA.
	 * An op left NULL makes the host answer -EOPNOTSUPP.
	 */
	int (*setxattr)(struct bento_sb *sb, const struct bento_ctx *ctx,
			bento_ino_t ino, const char *name, const void *value,
			size_t size, int flags);
	ssize_t (*getxattr)(struct bento_sb *sb, bento_ino_t ino,
			    const char *name, void *value, size_t size);
	ssize_t (*listxattr)(struct bento_sb *sb, bento_ino_t ino,
			     char *list, size_t size);
	int (*removexattr)(struct bento_sb *sb, const struct bento_ctx *ctx,
			   bento_ino_t ino, const char *name);

	/*
	 * prepare - live upgrade, old build: write into @st everything the
	 * successor needs (open handles, cached inode state, the running
	 * journal transaction, ...).  No op is in flight.  After a
	 * successful prepare the old build's state is either handed over
	 * (the successor's transfer succeeded: the host then calls the old
	 * build's abandon) or kept (transfer failed: the old build resumes
	 * serving as if nothing happened).  Returns 0 or -ENOMEM.  NULL: the
	 * module cannot be upgraded from.
	 */
	int (*prepare)(struct bento_sb *sb, struct bento_state *st);

	/*
	 * transfer - live upgrade, new build: rebuild sb->fs_info from @st
	 * (which the previous build's prepare wrote) instead of init.  On
	 * entry sb->fs_info is the old build's (not to be touched); set it
	 * to the new state only on success.  Returns 0, or -EPROTO for a
	 * record version it does not read, or another errno; on failure it
	 * leaves nothing allocated and the old build keeps serving.  NULL: the module cannot be upgraded to.
	 */
	int (*transfer)(struct bento_sb *sb, const struct bento_state *st);

	/*
	 * abandon - live upgrade, old build, after the successor's transfer
	 * succeeded: free the in-memory state @fs_info (the old value of
	 * sb->fs_info; sb->fs_info is the successor's now) and drop the
	 * buffer references it holds, WITHOUT writing anything: the
	 * successor owns the device and whatever @st handed it.  Cannot
	 * fail.  NULL: the host leaks the old state and says so.
	 */
	void (*abandon)(struct bento_sb *sb, void *fs_info);
};

/*
 * What a file-system module exports: its name, version, and ops.
 * The build id is filled by the host from the loaded object.
 */
struct bento_module {
	uint32_t api_version;	/* BENTO_API_VERSION it was built with */
	const char *name;	/* file-system name, e.g. "xv6fs" */
	const char *version;	/* the module's own version string */
	const struct bento_fs_ops *ops;
};

/*
 * BENTO_MODULE - declare a file system.  Use once per module:
 *
 *	BENTO_MODULE(xv6fs, "1.0", &xv6fs_ops);
 *
 * Defines bento_module_NAME (for programs that link the file system in)
 * and the entry point a host finds in a loadable module.
 */
#ifdef __KERNEL__
#include <bento/host/kernel_module.h>
#else
#define BENTO_MODULE(fsname, ver, opsp)					\
	const struct bento_module bento_module_##fsname = {		\
		.api_version = BENTO_API_VERSION,			\
		.name = #fsname,					\
		.version = ver,						\
		.ops = opsp,						\
	};								\
	__attribute__((weak, visibility("default")))			\
	const struct bento_module *bento_module_entry =			\
		&bento_module_##fsname
#endif

#endif /* BENTO_FS_H */
