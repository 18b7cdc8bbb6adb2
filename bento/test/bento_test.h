/*
 * bento_test.h - the in-process test host: a file system linked into a
 * test program, its ops called directly, no mount.
 *
 * Three parts, bottom up:
 *
 *   recording device   a memory block device that logs every block write
 *   (recdev.c)         (block number and contents) and every flush, in
 *                      order, and builds the device contents a crash at
 *                      any point of that log could leave behind
 *   test mount         a bento_instance over any device, and path-based
 *   (testfs.c)         wrappers that walk the ops table the way a VFS
 *                      would ("a/b/c" by lookup, keeping lookup references
 *                      balanced with forget), so tests read naturally
 *   tools (tools.c)    image files, and running the mkfs.xv6fs and
 *                      fsck.xv6fs programs of the build on them
 *
 * Every function returns 0 (or a count, where said) or a negative errno,
 * as everywhere in Bento.  The wrappers are thread-safe to the extent the
 * file system is: they keep no state of their own besides an atomic count
 * of the lookup references they hold.
 */
#ifndef BENTO_TEST_H
#define BENTO_TEST_H

#include "bento_host.h"

/* ---- the recording device ------------------------------------------- */

struct bento_rec;	/* opaque: the log and the device's contents */

/* One entry of the log: a one-block write, or a flush (barrier). */
struct bento_rec_event {
	bool flush;
	uint64_t blockno;	/* writes only */
	const void *data;	/* writes only: BENTO_BLOCK_SIZE bytes,
				 * valid while the rec lives */
};

/*
 * Which of the writes after the last barrier before a cut point reach
 * the crash image.  A disk may complete the writes it holds between two
 * barriers in any order, so any subset is a state a crash can leave.
 */
enum bento_crash_subset {
	BENTO_CRASH_NONE,	/* none of them */
	BENTO_CRASH_ALL,	/* all of them */
	BENTO_CRASH_PREFIX,	/* the first n, n chosen from the seed */
	BENTO_CRASH_RANDOM,	/* each with probability 1/2, from the seed */
};

/* What bento_rec_crash_image did, for messages. */
struct bento_crash_info {
	uint64_t barrier;	/* log index of the barrier the state rests
				 * on, or UINT64_MAX if none precedes */
	uint64_t pending;	/* writes between that barrier and the cut */
	uint64_t applied;	/* of those, how many were applied */
};

/*
 * bento_rec_new - a recording device of @nblocks blocks whose initial
 * contents are @base (nblocks * BENTO_BLOCK_SIZE bytes, copied), or
 * zeroes if @base is NULL.  The log starts empty.
 * Returns 0 or -ENOMEM.
 */
int bento_rec_new(const void *base, uint64_t nblocks, struct bento_rec **out);

/*
 * bento_rec_new_file - the same, with the initial contents read from the
 * image file at @path.  Returns 0, -errno of open/read, -EINVAL for a
 * file that is not a whole number of blocks (at least one).
 */
int bento_rec_new_file(const char *path, struct bento_rec **out);

/*
 * bento_rec_set_logging - with @on false, writes change the contents but
 * are not logged and flushes are not recorded: a plain memory disk that
 * survives unmount.  On at creation.
 */
void bento_rec_set_logging(struct bento_rec *rec, bool on);

/* bento_rec_free - free the log and contents.  NULL is ignored.  No
 * device opened on it may be in use any more. */
void bento_rec_free(struct bento_rec *rec);

/*
 * bento_rec_open_dev - a block device reading and writing @rec's current
 * contents and appending to its log.  Closing the device (which
 * bento_instance_unmount does) does not free @rec, which must outlive
 * it.  Several devices may be opened on one rec in turn (mount, unmount,
 * mount again); they share the contents and the log.
 * Returns 0 or -ENOMEM.
 */
int bento_rec_open_dev(struct bento_rec *rec, struct bento_blkdev **out);

/*
 * bento_rec_checkpoint - make the current contents the new base and
 * empty the log (after mkfs and setup, before the workload under test).
 */
void bento_rec_checkpoint(struct bento_rec *rec);

/* bento_rec_nblocks - size of the device. */
uint64_t bento_rec_nblocks(const struct bento_rec *rec);

/*
 * bento_rec_position - number of log entries so far.  Read it after an
 * fsync returns: every crash state with a cut at or after that position
 * must show what the fsync made durable.  Thread-safe.
 */
uint64_t bento_rec_position(struct bento_rec *rec);

/* bento_rec_event - log entry @i (< position) into *@ev.  0 or -ERANGE. */
int bento_rec_event(struct bento_rec *rec, uint64_t i,
		    struct bento_rec_event *ev);

/*
 * bento_rec_barriers - the log indices of every flush, in order, into a
 * malloc'd array *@idx (caller frees) of *@n entries.  0 or -ENOMEM.
 */
int bento_rec_barriers(struct bento_rec *rec, uint64_t **idx, uint64_t *n);

/*
 * bento_rec_contents - copy the device's current contents (every write
 * so far applied) into @img (nblocks * BENTO_BLOCK_SIZE bytes).
 */
void bento_rec_contents(struct bento_rec *rec, void *img);

/*
 * bento_rec_crash_image - the device contents a crash at cut point @cut
 * (0 <= cut <= position: the first @cut log entries happened, the rest
 * did not) may leave, into @img (nblocks * BENTO_BLOCK_SIZE bytes):
 * the base, every write before the last flush preceding @cut, and of
 * the writes between that flush and @cut the subset @how picks with
 * @seed.  Fills *@info if it is not NULL.  Deterministic: the same
 * arguments give the same image.  Returns 0 or -ERANGE for a bad cut.
 */
int bento_rec_crash_image(struct bento_rec *rec, uint64_t cut,
			  enum bento_crash_subset how, uint64_t seed,
			  void *img, struct bento_crash_info *info);

/* bento_crash_subset_name - "none", "all", "prefix", "random". */
const char *bento_crash_subset_name(enum bento_crash_subset how);

/* ---- a test mount ----------------------------------------------------- */

struct bento_test_fs {
	struct bento_instance *inst;
	struct bento_sb *sb;
	const struct bento_fs_ops *ops;	/* the module's ops, with defaults
					 * (as the FUSE host's) for NULLs */
	struct bento_fs_ops ops_filled;	/* what ops points to */
	struct bento_ctx ctx;		/* who calls: uid 0, gid 0 by default */
	unsigned int dir_batch;		/* entries readdir may return per call
					 * before the "buffer" is full (64) */
	long refs;			/* lookup references held (atomic) */
};

/*
 * bento_test_mount - mount @mod on @dev (owned from now on, closed on
 * failure too) with mount @options (NULL for none).
 * Returns 0 or the error of init.
 */
int bento_test_mount(const struct bento_module *mod, struct bento_blkdev *dev,
		     const char *options, struct bento_test_fs **out);

/* bento_test_mount_file - the same on the image file at @path. */
int bento_test_mount_file(const struct bento_module *mod, const char *path,
			  const char *options, struct bento_test_fs **out);

/*
 * bento_test_mount_mem - the same on a fresh memory device holding a
 * copy of the image file at @path (the file is not changed).  Only the
 * file's nonzero blocks are copied, so a large sparse image costs only
 * the memory its metadata takes.
 */
int bento_test_mount_mem(const struct bento_module *mod, const char *path,
			 const char *options, struct bento_test_fs **out);

/*
 * bento_test_unmount - unmount (destroy, write back, flush, close the
 * device) and free.  Returns 0, -EIO from the final write-back, or
 * -EBUSY if the wrappers still hold lookup references (a test bug; the
 * mount is taken down anyway).  NULL is ignored.
 */
int bento_test_unmount(struct bento_test_fs *fs);

/* ---- path-based wrappers ----------------------------------------------
 *
 * Paths are relative to the root, components separated by '/', with no
 * "." or ".." ("" and "/" name the root).  Each wrapper resolves the
 * path by lookup, calls the op, and forgets every lookup reference it
 * took before returning.  Errors are the op's, or those of resolution:
 * -ENOENT, -ENOTDIR, -ENAMETOOLONG.
 */

/*
 * bento_test_resolve - the inode at @path, with one lookup reference the
 * caller gives back with bento_test_put (none for the root, and putting
 * the root is a no-op).  Fills *@attr if it is not NULL.
 */
int bento_test_resolve(struct bento_test_fs *fs, const char *path,
		       bento_ino_t *ino, struct bento_attr *attr);
void bento_test_put(struct bento_test_fs *fs, bento_ino_t ino);

int bento_test_stat(struct bento_test_fs *fs, const char *path,
		    struct bento_attr *attr);
int bento_test_mkdir(struct bento_test_fs *fs, const char *path,
		     uint32_t mode);
int bento_test_rmdir(struct bento_test_fs *fs, const char *path);
int bento_test_unlink(struct bento_test_fs *fs, const char *path);
/* bento_test_create - create an empty regular file (-EEXIST if any). */
int bento_test_create(struct bento_test_fs *fs, const char *path,
		      uint32_t mode);
int bento_test_mknod(struct bento_test_fs *fs, const char *path,
		     uint32_t mode, uint32_t rdev);
int bento_test_symlink(struct bento_test_fs *fs, const char *target,
		       const char *path);
/* bento_test_readlink - NUL-terminates; returns the length. */
int bento_test_readlink(struct bento_test_fs *fs, const char *path,
			char *buf, size_t size);
int bento_test_link(struct bento_test_fs *fs, const char *oldpath,
		    const char *newpath);
int bento_test_rename(struct bento_test_fs *fs, const char *oldpath,
		      const char *newpath, unsigned int flags);
int bento_test_setattr(struct bento_test_fs *fs, const char *path,
		       const struct bento_setattr *sa, struct bento_attr *out);
int bento_test_truncate(struct bento_test_fs *fs, const char *path,
			uint64_t size);
int bento_test_statfs(struct bento_test_fs *fs, struct bento_statfs *st);

/*
 * bento_test_write_file - make @path a regular file holding exactly
 * @len bytes of @data (created with mode 0644 or truncated first).
 * bento_test_read_file - read all of @path into a malloc'd buffer
 * *@data (NUL-terminated for convenience; caller frees) of *@len bytes.
 * bento_test_pwrite / bento_test_pread - at an offset of an existing
 * file; return the bytes moved (pread: short only at end of file).
 * bento_test_fsync - open, fsync, release.
 */
int bento_test_write_file(struct bento_test_fs *fs, const char *path,
			  const void *data, size_t len);
int bento_test_read_file(struct bento_test_fs *fs, const char *path,
			 void **data, size_t *len);
ssize_t bento_test_pwrite(struct bento_test_fs *fs, const char *path,
			  const void *data, size_t len, uint64_t off);
ssize_t bento_test_pread(struct bento_test_fs *fs, const char *path,
			 void *buf, size_t len, uint64_t off);
int bento_test_fsync(struct bento_test_fs *fs, const char *path,
		     int datasync);

/*
 * An open file: bento_test_open (with O_CREAT it creates, mode @mode;
 * O_TRUNC truncates through setattr as the VFS does) holds one lookup
 * reference and the handle until bento_test_close.
 */
struct bento_test_file {
	bento_ino_t ino;
	uint64_t fh;
};

int bento_test_open(struct bento_test_fs *fs, const char *path, int flags,
		    uint32_t mode, struct bento_test_file *f);
ssize_t bento_test_fwrite(struct bento_test_fs *fs, struct bento_test_file *f,
			  const void *data, size_t len, uint64_t off);
ssize_t bento_test_fread(struct bento_test_fs *fs, struct bento_test_file *f,
			 void *buf, size_t len, uint64_t off);
int bento_test_ffsync(struct bento_test_fs *fs, struct bento_test_file *f,
		      int datasync);
/* bento_test_close - flush, release, forget.  Returns flush's error. */
int bento_test_close(struct bento_test_fs *fs, struct bento_test_file *f);

/* One directory entry as readdir reported it. */
struct bento_test_dirent {
	char name[BENTO_NAME_MAX + 1];
	bento_ino_t ino;
	unsigned int dtype;
	uint64_t off;
};

/*
 * bento_test_listdir - every entry of directory @path, "." and ".."
 * included, in readdir's order, through opendir/readdir/releasedir with
 * the cookie protocol (at most fs->dir_batch entries per call, then
 * "full" and continue from the last cookie taken).  *@ents is malloc'd
 * (caller frees), *@n entries.  -ELOOP if the listing does not end
 * within 50 million entries, -EIO if readdir breaks the protocol.
 */
int bento_test_listdir(struct bento_test_fs *fs, const char *path,
		       struct bento_test_dirent **ents, size_t *n);

int bento_test_setxattr(struct bento_test_fs *fs, const char *path,
			const char *name, const void *value, size_t size,
			int flags);
ssize_t bento_test_getxattr(struct bento_test_fs *fs, const char *path,
			    const char *name, void *value, size_t size);
ssize_t bento_test_listxattr(struct bento_test_fs *fs, const char *path,
			     char *list, size_t size);
int bento_test_removexattr(struct bento_test_fs *fs, const char *path,
			   const char *name);

/*
 * bento_test_walk - visit every inode reachable from the root: stat it,
 * read regular files (whole, or the first and last 32 MiB of a larger
 * one), readlink symlinks, list directories
 * (each listing must hold "." and ".." once, and no name twice).  Calls
 * @visit (if not NULL) for each path other than the root, with its
 * attributes; a nonzero return stops the walk with that value.  Counts
 * the paths visited into *@count if it is not NULL.  Returns 0, the
 * first error of an op, -EUCLEAN for a malformed listing, or @visit's.
 */
int bento_test_walk(struct bento_test_fs *fs,
		    int (*visit)(void *arg, const char *path,
				 const struct bento_attr *attr),
		    void *arg, uint64_t *count);

/* ---- image files and the build's tools -------------------------------- */

/*
 * bento_test_image_create - a sparse image file of @nblocks zero blocks
 * at @path (replacing any).  0 or -errno.
 */
int bento_test_image_create(const char *path, uint64_t nblocks);

/* bento_test_image_write - write @nblocks blocks of @img to @path
 * (replacing any).  0 or -errno. */
int bento_test_image_write(const char *path, const void *img,
			   uint64_t nblocks);

/* bento_test_image_read - all of @path into malloc'd *@img, *@nblocks.
 * 0, -errno, -EINVAL (not whole blocks). */
int bento_test_image_read(const char *path, void **img, uint64_t *nblocks);

/*
 * bento_test_tool_path - the path of the build's program @name
 * ("mkfs.xv6fs") into @buf: $BENTO_BIN_DIR/@name if that variable is
 * set, else the bin/ directory of the build the test was compiled in.
 * Returns 0, -ENAMETOOLONG, or -ENOENT if no executable is there.
 */
int bento_test_tool_path(const char *name, char *buf, size_t size);

/*
 * bento_test_run - run @argv (argv[0] a path) with stdin from /dev/null
 * and stdout+stderr captured into @out (at most @size - 1 bytes, always
 * NUL-terminated; @out may be NULL).  Returns the exit status (0..255),
 * 128 + signal if it was killed, or -errno if it could not be started.
 */
int bento_test_run(char *const argv[], char *out, size_t size);

/*
 * bento_test_mkfs_xv6fs - a fresh xv6fs image of @nblocks blocks with
 * @ninodes inodes (0: mkfs's default) at @path, made by the build's
 * mkfs.xv6fs.  Returns 0, -ENOENT if the program is missing, -EIO if it
 * failed (its output goes to stderr).
 */
int bento_test_mkfs_xv6fs(const char *path, uint64_t nblocks,
			  uint64_t ninodes);

/*
 * bento_test_fsck_xv6fs - run the build's fsck.xv6fs on the image at
 * @path (with -y if @repair) and return its exit status (as e2fsck's:
 * 0 clean, 1 corrected, 4 left uncorrected, 8 operational error), its
 * output in @out as bento_test_run, or -ENOENT if the program is
 * missing.
 */
int bento_test_fsck_xv6fs(const char *path, bool repair, char *out,
			  size_t size);

/* bento_test_now_ms - a monotonic clock in milliseconds, for reports. */
double bento_test_now_ms(void);

#endif /* BENTO_TEST_H */
