/*
 * fuse_ops.c - the FUSE boundary: libfuse low-level requests in, calls of
 * the file system's struct bento_fs_ops out.
 *
 * Every handler follows one shape: count the op, translate the request's
 * arguments (inode numbers, modes, setattr bits, flags), call the op, and
 * translate its result into exactly one fuse_reply_*().  Errors cross
 * here and only here: ops return negative errnos, fuse_reply_err wants
 * positive ones (bento_fuse_errno).
 *
 * Inode numbers: the kernel calls the root FUSE_ROOT_ID (1); the file
 * system calls it sb->root_ino.  root_swap() exchanges the two numbers in
 * both directions, so a file system whose root is not 1 but which has an
 * inode 1 still works (that inode appears to the kernel as root_ino).
 *
 * Lookup references: every entry reply hands the kernel one reference,
 * which it returns with FORGET.  If an entry reply cannot be delivered
 * (the request was interrupted) the reference is given back at once.
 *
 * An op a file system leaves NULL gets the answer the VFS gives for a
 * missing inode operation: EPERM for namespace changes, EOPNOTSUPP for
 * xattrs, success for open/flush/release, a whole-file-system sync
 * (sync_fs, or the buffer cache and a device flush) for fsync.
 *
 * The kernel checks permissions (default_permissions) and serializes
 * nothing for us: handlers run concurrently on libfuse's worker threads,
 * and the file system does its own locking.  Every handler runs under
 * the read side of m->op_lock (the LOCKED wrappers at the end), which
 * destroy and live upgrade take for writing.
 *
 * Caching.  This daemon is the only writer of its file system (the
 * device is locked, see blkdev_file.c), so the kernel may keep names,
 * negative names and attributes for a long time (an hour by default):
 * every request that changes attributes answers with fresh ones, and
 * the kernel itself drops what a change makes stale (the link count and
 * ctime of an unlinked or replaced inode, the parent directories of
 * create, unlink and rename, size and times after a write), so no
 * notify_inval call is needed.  Page-cache data stays valid across opens
 * (keep_cache) for the same reason.
 *
 * Writes go through to the file system by default (write-through), so
 * ENOSPC and EFBIG reach write(2) at once, as on ext4.  With the kernel's
 * writeback cache (-o writeback_cache) write(2) only fills the page
 * cache; an error at write-back surfaces at fsync or close at best.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

#include "user.h"

#define MiB (1024u * 1024u)

int bento_fuse_errno(long err)
{
	if (err < 0 && err > -4096)
		return (int)-err;
	return EIO;
}

/* ---- helpers ------------------------------------------------------------- */

static struct bento_mount *mount_of(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

static struct bento_sb *sb_of(struct bento_mount *m)
{
	return &m->inst->sb;
}

static const struct bento_fs_ops *ops_of(struct bento_mount *m)
{
	return m->inst->mod->ops;
}

/* Count op @c for @req and return its mount. */
static struct bento_mount *begin(fuse_req_t req, enum bento_op_counter c)
{
	struct bento_mount *m = mount_of(req);

	bento_instance_count(m->inst, c);
	return m;
}

/* FUSE_ROOT_ID <-> sb->root_ino; every other number maps to itself. */
static uint64_t root_swap(struct bento_mount *m, uint64_t ino)
{
	uint64_t root = m->inst->sb.root_ino;

	if (ino == FUSE_ROOT_ID)
		return root;
	if (ino == root)
		return FUSE_ROOT_ID;
	return ino;
}

static void ctx_of(fuse_req_t req, struct bento_ctx *ctx)
{
	const struct fuse_ctx *fc = fuse_req_ctx(req);

	ctx->uid = fc->uid;
	ctx->gid = fc->gid;
	ctx->pid = fc->pid;
}

/* The mode to create with: the caller's umask applied when the kernel
 * left that to us (FUSE_CAP_DONT_MASK). */
static uint32_t create_mode(fuse_req_t req, struct bento_mount *m,
			    mode_t mode)
{
	if (m->apply_umask)
		mode &= ~fuse_req_ctx(req)->umask;
	return mode;
}

/*
 * The open(2) flags the file system sees.  With the writeback cache the
 * kernel reads through a write-only handle (to fill partly written pages)
 * and does O_APPEND itself, handing us explicit offsets.
 */
static int open_flags(struct bento_mount *m, int flags)
{
	if (!m->writeback)
		return flags;
	if ((flags & O_ACCMODE) == O_WRONLY)
		flags = (flags & ~O_ACCMODE) | O_RDWR;
	return flags & ~O_APPEND;
}

/* Names the fs.h contract promises a file system it never sees. */
static int check_name(const char *name)
{
	size_t len = strlen(name);

	if (len > BENTO_NAME_MAX)
		return -ENAMETOOLONG;
	if (len == 0 || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return -EINVAL;
	return 0;
}

static void reply_err(fuse_req_t req, long err)
{
	fuse_reply_err(req, err ? bento_fuse_errno(err) : 0);
}

static void ts_to(struct timespec *dst, const struct bento_timespec *src)
{
	dst->tv_sec = src->sec;
	dst->tv_nsec = src->nsec;
}

static void ts_from(struct bento_timespec *dst, const struct timespec *src)
{
	dst->sec = src->tv_sec;
	dst->nsec = (uint32_t)src->tv_nsec;
}

static void attr_to_stat(struct bento_mount *m, const struct bento_attr *a,
			 struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = root_swap(m, a->ino);
	st->st_mode = a->mode;
	st->st_nlink = a->nlink;
	st->st_uid = a->uid;
	st->st_gid = a->gid;
	st->st_rdev = a->rdev;
	st->st_size = (off_t)a->size;
	st->st_blocks = (blkcnt_t)a->blocks;
	st->st_blksize = BENTO_BLOCK_SIZE;
	ts_to(&st->st_atim, &a->atime);
	ts_to(&st->st_mtim, &a->mtime);
	ts_to(&st->st_ctim, &a->ctime);
}

static void entry_param(struct bento_mount *m, const struct bento_entry *be,
			struct fuse_entry_param *e)
{
	memset(e, 0, sizeof(*e));
	e->ino = root_swap(m, be->ino);
	e->generation = be->generation;
	attr_to_stat(m, &be->attr, &e->attr);
	e->attr_timeout = m->attr_timeout;
	e->entry_timeout = m->entry_timeout;
}

/* Give back the lookup reference of an entry the kernel never got. */
static void undo_entry(struct bento_mount *m, const struct bento_entry *be)
{
	if (ops_of(m)->forget)
		ops_of(m)->forget(sb_of(m), be->ino, 1);
}

static void reply_entry(fuse_req_t req, struct bento_mount *m,
			const struct bento_entry *be)
{
	struct fuse_entry_param e;

	entry_param(m, be, &e);
	if (fuse_reply_entry(req, &e) != 0)
		undo_entry(m, be);
}

/* ---- session ------------------------------------------------------------- */

static void op_init(void *userdata, struct fuse_conn_info *conn)
{
	struct bento_mount *m = userdata;
	unsigned int on = FUSE_CAP_ASYNC_READ | FUSE_CAP_PARALLEL_DIROPS |
			  FUSE_CAP_CACHE_SYMLINKS | FUSE_CAP_AUTO_INVAL_DATA;

	/*
	 * Off: O_TRUNC arrives as a setattr (fs.h says so); the kernel,
	 * not the fs, clears suid/sgid on write; no readdirplus op; and
	 * no splice: every byte is copied into the file system's own
	 * buffers anyway, so a pipe in between only adds a copy.
	 */
	conn->want &= ~(FUSE_CAP_ATOMIC_O_TRUNC | FUSE_CAP_HANDLE_KILLPRIV |
			FUSE_CAP_READDIRPLUS | FUSE_CAP_READDIRPLUS_AUTO |
			FUSE_CAP_SPLICE_READ | FUSE_CAP_SPLICE_WRITE |
			FUSE_CAP_SPLICE_MOVE | FUSE_CAP_WRITEBACK_CACHE);
	if (m->want_writeback)
		on |= FUSE_CAP_WRITEBACK_CACHE;
	conn->want |= on & conn->capable;

	/* 1 MiB writes; libfuse derives max_pages from this and lowers it
	 * to what its buffers and the kernel allow. */
	conn->max_write = MiB;
	conn->max_readahead = conn->max_readahead < MiB ?
			      conn->max_readahead : MiB;

	m->apply_umask = conn->want & FUSE_CAP_DONT_MASK;
	m->writeback = conn->want & FUSE_CAP_WRITEBACK_CACHE;
	m->max_write = conn->max_write;
	bento_debug("fuse init: proto %u.%u, want 0x%x of 0x%x",
		    conn->proto_major, conn->proto_minor, conn->want,
		    conn->capable);
}

/* ---- names and attributes ------------------------------------------------ */

static void op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct bento_mount *m = begin(req, BENTO_OPC_LOOKUP);
	struct bento_entry be;
	int err;

	err = check_name(name);
	if (!err)
		err = ops_of(m)->lookup ? ops_of(m)->lookup(sb_of(m),
				root_swap(m, parent), name, &be) : -ENOSYS;
	if (err == -ENOENT) {
		/* A negative entry: names change only through us. */
		struct fuse_entry_param e = {
			.ino = 0,
			.entry_timeout = m->entry_timeout,
		};
		fuse_reply_entry(req, &e);
		return;
	}
	if (err) {
		reply_err(req, err);
		return;
	}
	reply_entry(req, m, &be);
}

static void op_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	struct bento_mount *m = begin(req, BENTO_OPC_FORGET);

	bento_debug("forget: inode %llu, %llu lookups",
		    (unsigned long long)root_swap(m, ino),
		    (unsigned long long)nlookup);
	if (ops_of(m)->forget)
		ops_of(m)->forget(sb_of(m), root_swap(m, ino), nlookup);
	fuse_reply_none(req);
}

static void op_forget_multi(fuse_req_t req, size_t count,
			    struct fuse_forget_data *forgets)
{
	struct bento_mount *m = mount_of(req);
	size_t i;

	for (i = 0; i < count; i++) {
		bento_instance_count(m->inst, BENTO_OPC_FORGET);
		if (ops_of(m)->forget)
			ops_of(m)->forget(sb_of(m),
					  root_swap(m, forgets[i].ino),
					  forgets[i].nlookup);
	}
	fuse_reply_none(req);
}

static void op_getattr(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	struct bento_mount *m = begin(req, BENTO_OPC_GETATTR);
	struct bento_attr a;
	struct stat st;
	int err;

	if (!ops_of(m)->getattr) {
		reply_err(req, -ENOSYS);
		return;
	}
	err = ops_of(m)->getattr(sb_of(m), root_swap(m, ino), &a);
	if (err) {
		reply_err(req, err);
		return;
	}
	attr_to_stat(m, &a, &st);
	fuse_reply_attr(req, &st, m->attr_timeout);
}

/* FUSE_SET_ATTR_* -> struct bento_setattr. */
static void setattr_from(const struct stat *attr, int to_set,
			 struct bento_setattr *sa)
{
	memset(sa, 0, sizeof(*sa));
	if (to_set & FUSE_SET_ATTR_MODE) {
		sa->valid |= BENTO_SET_MODE;
		sa->mode = attr->st_mode & 07777;
	}
	if (to_set & FUSE_SET_ATTR_UID) {
		sa->valid |= BENTO_SET_UID;
		sa->uid = attr->st_uid;
	}
	if (to_set & FUSE_SET_ATTR_GID) {
		sa->valid |= BENTO_SET_GID;
		sa->gid = attr->st_gid;
	}
	if (to_set & FUSE_SET_ATTR_SIZE) {
		sa->valid |= BENTO_SET_SIZE;
		sa->size = (uint64_t)attr->st_size;
	}
	if (to_set & FUSE_SET_ATTR_ATIME_NOW) {
		sa->valid |= BENTO_SET_ATIME_NOW;
	} else if (to_set & FUSE_SET_ATTR_ATIME) {
		sa->valid |= BENTO_SET_ATIME;
		ts_from(&sa->atime, &attr->st_atim);
	}
	if (to_set & FUSE_SET_ATTR_MTIME_NOW) {
		sa->valid |= BENTO_SET_MTIME_NOW;
	} else if (to_set & FUSE_SET_ATTR_MTIME) {
		sa->valid |= BENTO_SET_MTIME;
		ts_from(&sa->mtime, &attr->st_mtim);
	}
	if (to_set & FUSE_SET_ATTR_CTIME) {
		sa->valid |= BENTO_SET_CTIME;
		ts_from(&sa->ctime, &attr->st_ctim);
	}
}

static void op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr,
		       int to_set, struct fuse_file_info *fi)
{
	struct bento_mount *m = begin(req, BENTO_OPC_SETATTR);
	struct bento_setattr sa;
	struct bento_ctx ctx;
	struct bento_attr a;
	struct stat st;
	int err;

	setattr_from(attr, to_set, &sa);
	ctx_of(req, &ctx);
	if (!sa.valid && ops_of(m)->getattr)
		err = ops_of(m)->getattr(sb_of(m), root_swap(m, ino), &a);
	else if (ops_of(m)->setattr)
		err = ops_of(m)->setattr(sb_of(m), &ctx, root_swap(m, ino),
					 &sa, &a);
	else
		err = -EPERM;
	if (err) {
		reply_err(req, err);
		return;
	}
	attr_to_stat(m, &a, &st);
	fuse_reply_attr(req, &st, m->attr_timeout);
}

static void op_readlink(fuse_req_t req, fuse_ino_t ino)
{
	struct bento_mount *m = begin(req, BENTO_OPC_READLINK);
	char *buf;
	int n;

	if (!ops_of(m)->readlink) {
		reply_err(req, -EINVAL);
		return;
	}
	buf = malloc(PATH_MAX + 1);
	if (!buf) {
		reply_err(req, -ENOMEM);
		return;
	}
	n = ops_of(m)->readlink(sb_of(m), root_swap(m, ino), buf, PATH_MAX);
	if (n < 0) {
		reply_err(req, n);
	} else {
		buf[n > PATH_MAX ? PATH_MAX : n] = '\0';
		fuse_reply_readlink(req, buf);
	}
	free(buf);
}

/* ---- making and removing names ------------------------------------------- */

/*
 * The four ops that make a name share the reply: one entry.  @make
 * selects the op; mode and rdev are ignored where they do not apply.
 */
enum make_kind { MAKE_MKNOD, MAKE_MKDIR, MAKE_SYMLINK };

static void do_make(fuse_req_t req, enum make_kind kind, fuse_ino_t parent,
		    const char *name, mode_t mode, dev_t rdev,
		    const char *target)
{
	static const enum bento_op_counter counter[] = {
		[MAKE_MKNOD] = BENTO_OPC_MKNOD,
		[MAKE_MKDIR] = BENTO_OPC_MKDIR,
		[MAKE_SYMLINK] = BENTO_OPC_SYMLINK,
	};
	struct bento_mount *m = begin(req, counter[kind]);
	const struct bento_fs_ops *ops = ops_of(m);
	bento_ino_t dir = root_swap(m, parent);
	struct bento_entry be;
	struct bento_ctx ctx;
	int err;

	err = check_name(name);
	if (err)
		goto out_err;
	ctx_of(req, &ctx);
	err = -EPERM;
	switch (kind) {
	case MAKE_MKNOD:
		if (ops->mknod)
			err = ops->mknod(sb_of(m), &ctx, dir, name,
					 create_mode(req, m, mode),
					 (uint32_t)rdev, &be);
		break;
	case MAKE_MKDIR:
		if (ops->mkdir)
			err = ops->mkdir(sb_of(m), &ctx, dir, name,
					 create_mode(req, m, mode) & 07777,
					 &be);
		break;
	case MAKE_SYMLINK:
		if (ops->symlink)
			err = ops->symlink(sb_of(m), &ctx, dir, name, target,
					   &be);
		break;
	}
	if (err)
		goto out_err;
	reply_entry(req, m, &be);
	return;

out_err:
	reply_err(req, err);
}

static void op_mknod(fuse_req_t req, fuse_ino_t parent, const char *name,
		     mode_t mode, dev_t rdev)
{
	do_make(req, MAKE_MKNOD, parent, name, mode, rdev, NULL);
}

static void op_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name,
		     mode_t mode)
{
	do_make(req, MAKE_MKDIR, parent, name, mode, 0, NULL);
}

static void op_symlink(fuse_req_t req, const char *link, fuse_ino_t parent,
		       const char *name)
{
	do_make(req, MAKE_SYMLINK, parent, name, 0, 0, link);
}

/* unlink and rmdir: the same call with another op (NULL: -EPERM). */
static void do_remove(fuse_req_t req, enum bento_op_counter c,
		      fuse_ino_t parent, const char *name)
{
	struct bento_mount *m = begin(req, c);
	const struct bento_fs_ops *ops = ops_of(m);
	int (*remove)(struct bento_sb *, const struct bento_ctx *,
		      bento_ino_t, const char *) =
		c == BENTO_OPC_UNLINK ? ops->unlink : ops->rmdir;
	struct bento_ctx ctx;
	int err;

	ctx_of(req, &ctx);
	err = check_name(name);
	if (!err)
		err = remove ? remove(sb_of(m), &ctx, root_swap(m, parent),
				      name) : -EPERM;
	reply_err(req, err);
}

static void op_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	do_remove(req, BENTO_OPC_UNLINK, parent, name);
}

static void op_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	do_remove(req, BENTO_OPC_RMDIR, parent, name);
}

static void op_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
		      fuse_ino_t newparent, const char *newname,
		      unsigned int flags)
{
	struct bento_mount *m = begin(req, BENTO_OPC_RENAME);
	unsigned int known = BENTO_RENAME_NOREPLACE | BENTO_RENAME_EXCHANGE;
	struct bento_ctx ctx;
	int err;

	ctx_of(req, &ctx);
	err = check_name(name);
	if (!err)
		err = check_name(newname);
	if (!err && (flags & ~known))
		err = -EINVAL;	/* RENAME_WHITEOUT and future flags */
	if (!err && (flags & known) == known)
		err = -EINVAL;
	if (!err)
		err = ops_of(m)->rename ?
		      ops_of(m)->rename(sb_of(m), &ctx, root_swap(m, parent),
					name, root_swap(m, newparent),
					newname, flags) : -EPERM;
	reply_err(req, err);
}

static void op_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent,
		    const char *newname)
{
	struct bento_mount *m = begin(req, BENTO_OPC_LINK);
	struct bento_entry be;
	struct bento_ctx ctx;
	int err;

	ctx_of(req, &ctx);
	err = check_name(newname);
	if (!err)
		err = ops_of(m)->link ? ops_of(m)->link(sb_of(m), &ctx,
				root_swap(m, ino), root_swap(m, newparent),
				newname, &be) : -EPERM;
	if (err) {
		reply_err(req, err);
		return;
	}
	reply_entry(req, m, &be);
}

/* ---- files --------------------------------------------------------------- */

static void op_create(fuse_req_t req, fuse_ino_t parent, const char *name,
		      mode_t mode, struct fuse_file_info *fi)
{
	struct bento_mount *m = begin(req, BENTO_OPC_CREATE);
	const struct bento_fs_ops *ops = ops_of(m);
	struct fuse_entry_param e;
	struct bento_entry be;
	struct bento_ctx ctx;
	uint64_t fh = 0;
	int err;

	/* Without create the kernel falls back to mknod + open. */
	err = ops->create ? check_name(name) : -ENOSYS;
	if (err) {
		reply_err(req, err);
		return;
	}
	ctx_of(req, &ctx);
	err = ops->create(sb_of(m), &ctx, root_swap(m, parent), name,
			  create_mode(req, m, mode), open_flags(m, fi->flags),
			  &be, &fh);
	if (err) {
		reply_err(req, err);
		return;
	}
	fi->fh = fh;
	fi->keep_cache = 1;
	fi->noflush = !ops->flush;
	entry_param(m, &be, &e);
	if (fuse_reply_create(req, &e, fi) != 0) {
		if (ops->release)
			ops->release(sb_of(m), be.ino, fh);
		undo_entry(m, &be);
	}
}

static void op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct bento_mount *m = begin(req, BENTO_OPC_OPEN);
	const struct bento_fs_ops *ops = ops_of(m);
	struct bento_ctx ctx;
	uint64_t fh = 0;
	int err = 0;

	ctx_of(req, &ctx);
	if (ops->open)
		err = ops->open(sb_of(m), &ctx, root_swap(m, ino),
				open_flags(m, fi->flags), &fh);
	if (err) {
		reply_err(req, err);
		return;
	}
	fi->fh = fh;
	/* Every change goes through this mount, so cached pages stay
	 * valid across opens. */
	fi->keep_cache = 1;
	fi->noflush = !ops->flush;
	if (fuse_reply_open(req, fi) != 0 && ops->release)
		ops->release(sb_of(m), root_swap(m, ino), fh);
}

static void op_release(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	struct bento_mount *m = begin(req, BENTO_OPC_RELEASE);

	if (ops_of(m)->release)
		ops_of(m)->release(sb_of(m), root_swap(m, ino), fi->fh);
	reply_err(req, 0);
}

static void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	struct bento_mount *m = begin(req, BENTO_OPC_READ);
	ssize_t n;
	char *buf;

	if (!ops_of(m)->read) {
		reply_err(req, -EINVAL);
		return;
	}
	/* Page-aligned: a file system may read whole blocks straight into
	 * it, and a copy to a buffer just past a page boundary is several
	 * times slower on x86 (4K aliasing). */
	if (posix_memalign((void **)&buf, 4096, size ? size : 1)) {
		reply_err(req, -ENOMEM);
		return;
	}
	n = ops_of(m)->read(sb_of(m), root_swap(m, ino), fi->fh, buf, size,
			    (uint64_t)off);
	if (n < 0)
		reply_err(req, n);
	else
		fuse_reply_buf(req, buf, (size_t)n > size ? size : (size_t)n);
	free(buf);
}

static void op_write(fuse_req_t req, fuse_ino_t ino, const char *buf,
		     size_t size, off_t off, struct fuse_file_info *fi)
{
	struct bento_mount *m = begin(req, BENTO_OPC_WRITE);
	size_t done = 0;
	ssize_t n = 0;

	if (!ops_of(m)->write) {
		reply_err(req, -EINVAL);
		return;
	}

	/* A short write means ENOSPC or EFBIG partway: asking for the
	 * rest gets the errno. */
	while (done < size) {
		n = ops_of(m)->write(sb_of(m), root_swap(m, ino), fi->fh,
				     buf + done, size - done,
				     (uint64_t)off + done);
		if (n <= 0)
			break;
		done += (size_t)n > size - done ? size - done : (size_t)n;
	}

	/*
	 * The kernel ignores a short count on a write-back of its cached
	 * pages (fi->writepage): the bytes would be lost silently, so that
	 * gets the error, which fsync and close then report.
	 */
	if (done == size || (done && !fi->writepage))
		fuse_reply_write(req, done);
	else
		reply_err(req, n < 0 ? n : -EIO);
}

static void op_flush(fuse_req_t req, fuse_ino_t ino,
		     struct fuse_file_info *fi)
{
	struct bento_mount *m = begin(req, BENTO_OPC_FLUSH);
	int err = 0;

	if (ops_of(m)->flush)
		err = ops_of(m)->flush(sb_of(m), root_swap(m, ino), fi->fh);
	reply_err(req, err);
}

static void op_fsync(fuse_req_t req, fuse_ino_t ino, int datasync,
		     struct fuse_file_info *fi)
{
	struct bento_mount *m = begin(req, BENTO_OPC_FSYNC);
	int err;

	if (ops_of(m)->fsync)
		err = ops_of(m)->fsync(sb_of(m), root_swap(m, ino), fi->fh,
				       datasync);
	else
		err = bento_sync_instance(m);
	reply_err(req, err);
}

/* ---- directories --------------------------------------------------------- */

static void op_opendir(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	struct bento_mount *m = begin(req, BENTO_OPC_OPENDIR);
	struct bento_ctx ctx;
	uint64_t fh = 0;
	int err = 0;

	ctx_of(req, &ctx);
	if (ops_of(m)->opendir)
		err = ops_of(m)->opendir(sb_of(m), &ctx, root_swap(m, ino),
					 &fh);
	if (err) {
		reply_err(req, err);
		return;
	}
	fi->fh = fh;
	if (fuse_reply_open(req, fi) != 0 && ops_of(m)->releasedir)
		ops_of(m)->releasedir(sb_of(m), root_swap(m, ino), fh);
}

/* The reply buffer readdir fills through fill_dir. */
struct dir_reply {
	fuse_req_t req;
	struct bento_mount *m;
	char *buf;
	size_t size;
	size_t used;
};

static int fill_dir(void *dirbuf, const char *name, uint32_t namelen,
		    bento_ino_t ino, unsigned int dtype, uint64_t off)
{
	struct dir_reply *d = dirbuf;
	char nm[BENTO_NAME_MAX + 1];
	struct stat st;
	size_t len;

	if (namelen == 0 || namelen > BENTO_NAME_MAX) {
		bento_err("readdir: entry with name length %u, skipped",
			  namelen);
		return 0;
	}
	memcpy(nm, name, namelen);
	nm[namelen] = '\0';

	/* Buffer-full protocol: an entry that does not fit is refused
	 * whole, and offered again by the next readdir from the cookie
	 * of the entry before it. */
	len = fuse_add_direntry(d->req, NULL, 0, nm, NULL, 0);
	if (d->used + len > d->size)
		return 1;
	memset(&st, 0, sizeof(st));
	st.st_ino = root_swap(d->m, ino);
	st.st_mode = (dtype & 15) << 12;
	fuse_add_direntry(d->req, d->buf + d->used, d->size - d->used, nm,
			  &st, (off_t)off);
	d->used += len;
	return 0;
}

static void op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size,
		       off_t off, struct fuse_file_info *fi)
{
	struct bento_mount *m = begin(req, BENTO_OPC_READDIR);
	struct dir_reply d = { .req = req, .m = m, .size = size };
	int err;

	if (!ops_of(m)->readdir) {
		reply_err(req, -ENOTDIR);
		return;
	}
	d.buf = malloc(size ? size : 1);
	if (!d.buf) {
		reply_err(req, -ENOMEM);
		return;
	}
	err = ops_of(m)->readdir(sb_of(m), root_swap(m, ino), fi->fh,
				 (uint64_t)off, fill_dir, &d);
	/* Entries already taken are delivered; the error, if it repeats,
	 * comes with the next call. */
	if (err && d.used == 0)
		reply_err(req, err);
	else
		fuse_reply_buf(req, d.buf, d.used);
	free(d.buf);
}

static void op_releasedir(fuse_req_t req, fuse_ino_t ino,
			  struct fuse_file_info *fi)
{
	struct bento_mount *m = begin(req, BENTO_OPC_RELEASEDIR);

	if (ops_of(m)->releasedir)
		ops_of(m)->releasedir(sb_of(m), root_swap(m, ino), fi->fh);
	reply_err(req, 0);
}

static void op_fsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync,
			struct fuse_file_info *fi)
{
	struct bento_mount *m = begin(req, BENTO_OPC_FSYNCDIR);
	int err;

	if (ops_of(m)->fsyncdir)
		err = ops_of(m)->fsyncdir(sb_of(m), root_swap(m, ino), fi->fh,
					  datasync);
	else
		err = bento_sync_instance(m);
	reply_err(req, err);
}

/* ---- the file system as a whole ------------------------------------------ */

static void op_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct bento_mount *m = begin(req, BENTO_OPC_STATFS);
	struct bento_statfs s = {
		.bsize = BENTO_BLOCK_SIZE,
		.namelen = BENTO_NAME_MAX,
	};
	struct statvfs sv;
	int err = 0;

	if (ops_of(m)->statfs)
		err = ops_of(m)->statfs(sb_of(m), &s);
	if (err) {
		reply_err(req, err);
		return;
	}
	memset(&sv, 0, sizeof(sv));
	sv.f_bsize = s.bsize ? s.bsize : BENTO_BLOCK_SIZE;
	sv.f_frsize = sv.f_bsize;
	sv.f_blocks = s.blocks;
	sv.f_bfree = s.bfree;
	sv.f_bavail = s.bavail;
	sv.f_files = s.files;
	sv.f_ffree = s.ffree;
	sv.f_favail = s.ffree;
	sv.f_namemax = s.namelen ? s.namelen : BENTO_NAME_MAX;
	fuse_reply_statfs(req, &sv);
}

/* ---- extended attributes ------------------------------------------------- */

static void op_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
			const char *value, size_t size, int flags)
{
	struct bento_mount *m = begin(req, BENTO_OPC_SETXATTR);
	struct bento_ctx ctx;
	int err = -EOPNOTSUPP;

	ctx_of(req, &ctx);
	if (ops_of(m)->setxattr)
		err = ops_of(m)->setxattr(sb_of(m), &ctx, root_swap(m, ino),
					  name, value, size, flags);
	reply_err(req, err);
}

/*
 * getxattr and listxattr answer alike: with @size 0 only the length
 * (fuse_reply_xattr), else the bytes.  @get selects the op.
 */
static void do_xattr_read(fuse_req_t req, fuse_ino_t ino, const char *name,
			  size_t size, bool get)
{
	struct bento_mount *m = begin(req, get ? BENTO_OPC_GETXATTR :
					       BENTO_OPC_LISTXATTR);
	const struct bento_fs_ops *ops = ops_of(m);
	char *buf = NULL;
	ssize_t n;

	if (get ? !ops->getxattr : !ops->listxattr) {
		reply_err(req, -EOPNOTSUPP);
		return;
	}
	if (size) {
		buf = malloc(size);
		if (!buf) {
			reply_err(req, -ENOMEM);
			return;
		}
	}
	if (get)
		n = ops->getxattr(sb_of(m), root_swap(m, ino), name, buf, size);
	else
		n = ops->listxattr(sb_of(m), root_swap(m, ino), buf, size);
	if (n < 0)
		reply_err(req, n);
	else if (size == 0)
		fuse_reply_xattr(req, (size_t)n);
	else if ((size_t)n > size)
		reply_err(req, -ERANGE);
	else
		fuse_reply_buf(req, buf, (size_t)n);
	free(buf);
}

static void op_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
			size_t size)
{
	do_xattr_read(req, ino, name, size, true);
}

static void op_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	do_xattr_read(req, ino, NULL, size, false);
}

static void op_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
	struct bento_mount *m = begin(req, BENTO_OPC_REMOVEXATTR);
	struct bento_ctx ctx;
	int err = -EOPNOTSUPP;

	ctx_of(req, &ctx);
	if (ops_of(m)->removexattr)
		err = ops_of(m)->removexattr(sb_of(m), &ctx,
					     root_swap(m, ino), name);
	reply_err(req, err);
}

/* ---- the table: every handler under the read side of the op lock -------- */

/*
 * LOCKED(op, (params), (args)) defines op_locked, which runs op(args)
 * holding the read side of the mount's op lock.  The mount is taken
 * before the call: once op has replied, req is gone.
 */
#define LOCKED(op, params, args)					\
	static void op##_locked params					\
	{								\
		struct bento_mount *m_ = mount_of(req);			\
									\
		pthread_rwlock_rdlock(&m_->op_lock);			\
		op args;						\
		pthread_rwlock_unlock(&m_->op_lock);			\
	}

#define FI struct fuse_file_info *fi

LOCKED(op_lookup, (fuse_req_t req, fuse_ino_t p, const char *n), (req, p, n))
LOCKED(op_forget, (fuse_req_t req, fuse_ino_t i, uint64_t n), (req, i, n))
LOCKED(op_forget_multi,
       (fuse_req_t req, size_t n, struct fuse_forget_data *f), (req, n, f))
LOCKED(op_getattr, (fuse_req_t req, fuse_ino_t i, FI), (req, i, fi))
LOCKED(op_setattr,
       (fuse_req_t req, fuse_ino_t i, struct stat *a, int set, FI),
       (req, i, a, set, fi))
LOCKED(op_readlink, (fuse_req_t req, fuse_ino_t i), (req, i))
LOCKED(op_mknod,
       (fuse_req_t req, fuse_ino_t p, const char *n, mode_t mo, dev_t r),
       (req, p, n, mo, r))
LOCKED(op_mkdir, (fuse_req_t req, fuse_ino_t p, const char *n, mode_t mo),
       (req, p, n, mo))
LOCKED(op_symlink,
       (fuse_req_t req, const char *l, fuse_ino_t p, const char *n),
       (req, l, p, n))
LOCKED(op_unlink, (fuse_req_t req, fuse_ino_t p, const char *n), (req, p, n))
LOCKED(op_rmdir, (fuse_req_t req, fuse_ino_t p, const char *n), (req, p, n))
LOCKED(op_rename,
       (fuse_req_t req, fuse_ino_t p, const char *n, fuse_ino_t np,
	const char *nn, unsigned int fl),
       (req, p, n, np, nn, fl))
LOCKED(op_link, (fuse_req_t req, fuse_ino_t i, fuse_ino_t np, const char *n),
       (req, i, np, n))
LOCKED(op_create,
       (fuse_req_t req, fuse_ino_t p, const char *n, mode_t mo, FI),
       (req, p, n, mo, fi))
LOCKED(op_open, (fuse_req_t req, fuse_ino_t i, FI), (req, i, fi))
LOCKED(op_release, (fuse_req_t req, fuse_ino_t i, FI), (req, i, fi))
LOCKED(op_read, (fuse_req_t req, fuse_ino_t i, size_t sz, off_t o, FI),
       (req, i, sz, o, fi))
LOCKED(op_write,
       (fuse_req_t req, fuse_ino_t i, const char *b, size_t sz, off_t o, FI),
       (req, i, b, sz, o, fi))
LOCKED(op_flush, (fuse_req_t req, fuse_ino_t i, FI), (req, i, fi))
LOCKED(op_fsync, (fuse_req_t req, fuse_ino_t i, int ds, FI), (req, i, ds, fi))
LOCKED(op_opendir, (fuse_req_t req, fuse_ino_t i, FI), (req, i, fi))
LOCKED(op_readdir, (fuse_req_t req, fuse_ino_t i, size_t sz, off_t o, FI),
       (req, i, sz, o, fi))
LOCKED(op_releasedir, (fuse_req_t req, fuse_ino_t i, FI), (req, i, fi))
LOCKED(op_fsyncdir, (fuse_req_t req, fuse_ino_t i, int ds, FI),
       (req, i, ds, fi))
LOCKED(op_statfs, (fuse_req_t req, fuse_ino_t i), (req, i))
LOCKED(op_setxattr,
       (fuse_req_t req, fuse_ino_t i, const char *n, const char *v,
	size_t sz, int fl),
       (req, i, n, v, sz, fl))
LOCKED(op_getxattr, (fuse_req_t req, fuse_ino_t i, const char *n, size_t sz),
       (req, i, n, sz))
LOCKED(op_listxattr, (fuse_req_t req, fuse_ino_t i, size_t sz), (req, i, sz))
LOCKED(op_removexattr, (fuse_req_t req, fuse_ino_t i, const char *n),
       (req, i, n))

#undef FI
#undef LOCKED

const struct fuse_lowlevel_ops bento_fuse_ops = {
	.init = op_init,
	.lookup = op_lookup_locked,
	.forget = op_forget_locked,
	.forget_multi = op_forget_multi_locked,
	.getattr = op_getattr_locked,
	.setattr = op_setattr_locked,
	.readlink = op_readlink_locked,
	.mknod = op_mknod_locked,
	.mkdir = op_mkdir_locked,
	.symlink = op_symlink_locked,
	.unlink = op_unlink_locked,
	.rmdir = op_rmdir_locked,
	.rename = op_rename_locked,
	.link = op_link_locked,
	.create = op_create_locked,
	.open = op_open_locked,
	.release = op_release_locked,
	.read = op_read_locked,
	.write = op_write_locked,
	.flush = op_flush_locked,
	.fsync = op_fsync_locked,
	.opendir = op_opendir_locked,
	.readdir = op_readdir_locked,
	.releasedir = op_releasedir_locked,
	.fsyncdir = op_fsyncdir_locked,
	.statfs = op_statfs_locked,
	.setxattr = op_setxattr_locked,
	.getxattr = op_getxattr_locked,
	.listxattr = op_listxattr_locked,
	.removexattr = op_removexattr_locked,
};
