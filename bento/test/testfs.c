/*
 * testfs.c - a test mount and the path-based wrappers over its ops.
 *
 * A test mount is a bento_instance (bento/lib) whose ops the test calls
 * directly.  The wrappers do what the VFS and the FUSE host would do
 * between a system call and the ops table:
 *
 *   - resolve "a/b/c" one component at a time with lookup, forgetting
 *     each intermediate inode as soon as its child is found, so every
 *     lookup reference taken is given back (fs->refs counts the ones
 *     held, and unmount complains if any are left);
 *   - open files and directories around reads, writes and listings, and
 *     release them;
 *   - do O_TRUNC through setattr before open, as the VFS does;
 *   - list a directory through readdir's cookie protocol with a small
 *     "buffer" (fs->dir_batch entries), so a listing takes many calls
 *     and every resume from a cookie is exercised.
 *
 * Names are checked here as the VFS would ("." and ".." never reach
 * the file system; names are 1..255 bytes), so the ops see only what a
 * host may send them.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "bento_test.h"

#define IO_CHUNK (1u << 20)	/* largest read or write per op call */
#define LISTDIR_MAX 50000000ull

/* ---- defaults for ops a file system leaves NULL ------------------------
 *
 * As the FUSE host does: no forget, open, release, flush or opendir
 * means there is nothing to do; no fsync means the host writes back the
 * dirty buffers and flushes the device itself; a missing namespace op is
 * -ENOSYS and a missing xattr op -EOPNOTSUPP.  The test mount calls a
 * copy of the module's table with these filled in.
 */

static void def_forget(struct bento_sb *sb, bento_ino_t ino, uint64_t n)
{
}

static int def_open(struct bento_sb *sb, const struct bento_ctx *ctx,
		    bento_ino_t ino, int flags, uint64_t *fh)
{
	*fh = 0;
	return 0;
}

static int def_opendir(struct bento_sb *sb, const struct bento_ctx *ctx,
		       bento_ino_t ino, uint64_t *fh)
{
	*fh = 0;
	return 0;
}

static void def_release(struct bento_sb *sb, bento_ino_t ino, uint64_t fh)
{
}

static int def_flush(struct bento_sb *sb, bento_ino_t ino, uint64_t fh)
{
	return 0;
}

/* No fsync op: the host makes the cache durable itself. */
static int def_fsync(struct bento_sb *sb, bento_ino_t ino, uint64_t fh,
		     int datasync)
{
	int err = bento_sync_dirty(sb);

	return err ? err : bento_dev_flush(sb);
}

static int def_mknod(struct bento_sb *sb, const struct bento_ctx *ctx,
		     bento_ino_t parent, const char *name, uint32_t mode,
		     uint32_t rdev, struct bento_entry *out)
{
	return -ENOSYS;
}

static int def_mkdir(struct bento_sb *sb, const struct bento_ctx *ctx,
		     bento_ino_t parent, const char *name, uint32_t mode,
		     struct bento_entry *out)
{
	return -ENOSYS;
}

static int def_symlink(struct bento_sb *sb, const struct bento_ctx *ctx,
		       bento_ino_t parent, const char *name,
		       const char *target, struct bento_entry *out)
{
	return -ENOSYS;
}

static int def_create(struct bento_sb *sb, const struct bento_ctx *ctx,
		      bento_ino_t parent, const char *name, uint32_t mode,
		      int flags, struct bento_entry *out, uint64_t *fh)
{
	return -ENOSYS;
}

static int def_remove(struct bento_sb *sb, const struct bento_ctx *ctx,
		      bento_ino_t parent, const char *name)
{
	return -ENOSYS;
}

static int def_rename(struct bento_sb *sb, const struct bento_ctx *ctx,
		      bento_ino_t parent, const char *name,
		      bento_ino_t newparent, const char *newname,
		      unsigned int flags)
{
	return -ENOSYS;
}

static int def_link(struct bento_sb *sb, const struct bento_ctx *ctx,
		    bento_ino_t ino, bento_ino_t newparent,
		    const char *newname, struct bento_entry *out)
{
	return -ENOSYS;
}

static int def_setattr(struct bento_sb *sb, const struct bento_ctx *ctx,
		       bento_ino_t ino, const struct bento_setattr *sa,
		       struct bento_attr *out)
{
	return -ENOSYS;
}

static int def_readlink(struct bento_sb *sb, bento_ino_t ino, char *buf,
			size_t size)
{
	return -EINVAL;
}

static ssize_t def_read(struct bento_sb *sb, bento_ino_t ino, uint64_t fh,
			char *buf, size_t size, uint64_t off)
{
	return -ENOSYS;
}

static ssize_t def_write(struct bento_sb *sb, bento_ino_t ino, uint64_t fh,
			 const char *buf, size_t size, uint64_t off)
{
	return -ENOSYS;
}

static int def_readdir(struct bento_sb *sb, bento_ino_t ino, uint64_t fh,
		       uint64_t off, bento_filldir_t fill, void *dirbuf)
{
	return -ENOSYS;
}

static int def_statfs(struct bento_sb *sb, struct bento_statfs *out)
{
	return -ENOSYS;
}

/* Copy @ops into @out with every NULL op replaced by its default. */
static void fill_defaults(const struct bento_fs_ops *ops,
			  struct bento_fs_ops *out)
{
	*out = *ops;
#define DEF(op, fn) \
	do { \
		if (!out->op) \
			out->op = fn; \
	} while (0)
	DEF(forget, def_forget);
	DEF(open, def_open);
	DEF(opendir, def_opendir);
	DEF(release, def_release);
	DEF(releasedir, def_release);
	DEF(flush, def_flush);
	DEF(fsync, def_fsync);
	DEF(fsyncdir, def_fsync);
	DEF(mknod, def_mknod);
	DEF(mkdir, def_mkdir);
	DEF(symlink, def_symlink);
	DEF(create, def_create);
	DEF(unlink, def_remove);
	DEF(rmdir, def_remove);
	DEF(rename, def_rename);
	DEF(link, def_link);
	DEF(setattr, def_setattr);
	DEF(readlink, def_readlink);
	DEF(read, def_read);
	DEF(write, def_write);
	DEF(readdir, def_readdir);
	DEF(statfs, def_statfs);
#undef DEF
}

/* ---- mounting --------------------------------------------------------- */

int bento_test_mount(const struct bento_module *mod, struct bento_blkdev *dev,
		     const char *options, struct bento_test_fs **out)
{
	struct bento_test_fs *fs;
	int err;

	fs = calloc(1, sizeof(*fs));
	if (!fs) {
		bento_blkdev_close(dev);
		return -ENOMEM;
	}
	err = bento_instance_mount(mod, dev, options, false, 0, &fs->inst);
	if (err) {
		free(fs);
		return err;
	}
	fs->sb = &fs->inst->sb;
	fill_defaults(mod->ops, &fs->ops_filled);
	fs->ops = &fs->ops_filled;
	fs->ctx.uid = 0;
	fs->ctx.gid = 0;
	fs->ctx.pid = (uint32_t)getpid();
	fs->dir_batch = 64;
	*out = fs;
	return 0;
}

int bento_test_mount_file(const struct bento_module *mod, const char *path,
			  const char *options, struct bento_test_fs **out)
{
	struct bento_blkdev *dev;
	int err;

	err = bento_blkdev_open_file(path, false, &dev);
	if (err)
		return err;
	return bento_test_mount(mod, dev, options, out);
}

/* Copy the nonzero blocks of the image open at @fd onto @dev. */
static int load_sparse(struct bento_blkdev *dev, int fd)
{
	static const uint8_t zero[BENTO_BLOCK_SIZE];
	uint64_t blk = 0;
	uint8_t *buf;
	ssize_t n;
	int err = 0;

	buf = malloc(BENTO_BLOCK_SIZE);
	if (!buf)
		return -ENOMEM;
	for (blk = 0; blk < dev->nblocks; blk++) {
		n = pread(fd, buf, BENTO_BLOCK_SIZE,
			  (off_t)(blk * BENTO_BLOCK_SIZE));
		if (n != (ssize_t)BENTO_BLOCK_SIZE) {
			err = n < 0 ? -errno : -EIO;
			break;
		}
		if (!memcmp(buf, zero, BENTO_BLOCK_SIZE))
			continue;
		err = dev->ops->write(dev, blk, 1, buf);
		if (err)
			break;
	}
	free(buf);
	return err;
}

int bento_test_mount_mem(const struct bento_module *mod, const char *path,
			 const char *options, struct bento_test_fs **out)
{
	struct bento_blkdev *dev;
	struct stat st;
	int fd, err;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		err = -errno;
		goto close_fd;
	}
	if (st.st_size < (off_t)BENTO_BLOCK_SIZE) {
		err = -EINVAL;
		goto close_fd;
	}
	err = bento_blkdev_open_mem((uint64_t)st.st_size / BENTO_BLOCK_SIZE,
				    &dev);
	if (err)
		goto close_fd;
	err = load_sparse(dev, fd);
	close(fd);
	if (err) {
		bento_blkdev_close(dev);
		return err;
	}
	return bento_test_mount(mod, dev, options, out);

close_fd:
	close(fd);
	return err;
}

int bento_test_unmount(struct bento_test_fs *fs)
{
	long refs;
	int err;

	if (!fs)
		return 0;
	refs = __atomic_load_n(&fs->refs, __ATOMIC_SEQ_CST);
	err = bento_instance_unmount(fs->inst);
	free(fs);
	if (!err && refs != 0) {
		fprintf(stderr, "bento-test: unmount with %ld lookup references still held\n",
			refs);
		err = -EBUSY;
	}
	return err;
}

/* ---- resolution ---------------------------------------------------------- */

static void refs_add(struct bento_test_fs *fs, long n)
{
	__atomic_add_fetch(&fs->refs, n, __ATOMIC_SEQ_CST);
}

void bento_test_put(struct bento_test_fs *fs, bento_ino_t ino)
{
	if (ino == fs->sb->root_ino)
		return;
	fs->ops->forget(fs->sb, ino, 1);
	refs_add(fs, -1);
}

/* Take over the lookup reference an entry-returning op just gave. */
static void entry_taken(struct bento_test_fs *fs)
{
	refs_add(fs, 1);
}

/*
 * Copy the next component of *@p into @name and advance past it.
 * Returns 1 if there was one, 0 at the end, -ENAMETOOLONG, or -EINVAL
 * for "." or "..".
 */
static int next_component(const char **p, char name[BENTO_NAME_MAX + 1])
{
	const char *s = *p;
	size_t len;

	while (*s == '/')
		s++;
	if (!*s) {
		*p = s;
		return 0;
	}
	len = strcspn(s, "/");
	if (len > BENTO_NAME_MAX)
		return -ENAMETOOLONG;
	memcpy(name, s, len);
	name[len] = '\0';
	*p = s + len;
	if (!strcmp(name, ".") || !strcmp(name, ".."))
		return -EINVAL;
	return 1;
}

/* Walk from the root through every component of @path. */
static int resolve(struct bento_test_fs *fs, const char *path,
		   bento_ino_t *ino, struct bento_attr *attr)
{
	char name[BENTO_NAME_MAX + 1];
	struct bento_entry e;
	bento_ino_t cur = fs->sb->root_ino;
	int err;

	for (;;) {
		err = next_component(&path, name);
		if (err <= 0)
			break;
		err = fs->ops->lookup(fs->sb, cur, name, &e);
		if (err)
			break;
		entry_taken(fs);
		bento_test_put(fs, cur);
		cur = e.ino;
	}
	if (err) {
		bento_test_put(fs, cur);
		return err;
	}
	if (attr) {
		err = fs->ops->getattr(fs->sb, cur, attr);
		if (err) {
			bento_test_put(fs, cur);
			return err;
		}
	}
	*ino = cur;
	return 0;
}

int bento_test_resolve(struct bento_test_fs *fs, const char *path,
		       bento_ino_t *ino, struct bento_attr *attr)
{
	return resolve(fs, path, ino, attr);
}

/*
 * Resolve everything but the last component of @path into *@dir (with a
 * reference) and copy the last component into @name.  The root itself
 * has no parent: -EINVAL.
 */
static int resolve_parent(struct bento_test_fs *fs, const char *path,
			  bento_ino_t *dir, char name[BENTO_NAME_MAX + 1])
{
	char dirpath[4096];
	const char *end, *last;
	size_t len = strlen(path);
	int err;

	while (len > 0 && path[len - 1] == '/')
		len--;
	if (len == 0)
		return -EINVAL;
	end = path + len;
	last = end;
	while (last > path && last[-1] != '/')
		last--;
	if ((size_t)(end - last) > BENTO_NAME_MAX)
		return -ENAMETOOLONG;
	if ((size_t)(last - path) >= sizeof(dirpath))
		return -ENAMETOOLONG;
	memcpy(name, last, end - last);
	name[end - last] = '\0';
	if (!strcmp(name, ".") || !strcmp(name, ".."))
		return -EINVAL;
	memcpy(dirpath, path, last - path);
	dirpath[last - path] = '\0';
	err = resolve(fs, dirpath, dir, NULL);
	return err;
}

/* ---- namespace operations ------------------------------------------------ */

int bento_test_stat(struct bento_test_fs *fs, const char *path,
		    struct bento_attr *attr)
{
	bento_ino_t ino;
	int err;

	err = resolve(fs, path, &ino, attr);
	if (!err)
		bento_test_put(fs, ino);
	return err;
}

/* The op kinds that make a name; one helper does all four. */
enum make_kind { MAKE_DIR, MAKE_NOD, MAKE_SYMLINK, MAKE_FILE };

static int make_at(struct bento_test_fs *fs, const char *path,
		   enum make_kind kind, uint32_t mode, uint32_t rdev,
		   const char *target)
{
	char name[BENTO_NAME_MAX + 1];
	struct bento_entry e;
	bento_ino_t dir;
	uint64_t fh = 0;
	int err;

	err = resolve_parent(fs, path, &dir, name);
	if (err)
		return err;
	switch (kind) {
	case MAKE_DIR:
		err = fs->ops->mkdir(fs->sb, &fs->ctx, dir, name, mode, &e);
		break;
	case MAKE_NOD:
		err = fs->ops->mknod(fs->sb, &fs->ctx, dir, name, mode, rdev,
				     &e);
		break;
	case MAKE_SYMLINK:
		err = fs->ops->symlink(fs->sb, &fs->ctx, dir, name, target,
				       &e);
		break;
	case MAKE_FILE:
		err = fs->ops->create(fs->sb, &fs->ctx, dir, name,
				      S_IFREG | (mode & 07777),
				      O_CREAT | O_EXCL | O_WRONLY, &e, &fh);
		break;
	}
	if (!err) {
		entry_taken(fs);
		if (kind == MAKE_FILE) {
			if (fs->ops->flush)
				fs->ops->flush(fs->sb, e.ino, fh);
			if (fs->ops->release)
				fs->ops->release(fs->sb, e.ino, fh);
		}
		bento_test_put(fs, e.ino);
	}
	bento_test_put(fs, dir);
	return err;
}

int bento_test_mkdir(struct bento_test_fs *fs, const char *path,
		     uint32_t mode)
{
	return make_at(fs, path, MAKE_DIR, mode, 0, NULL);
}

int bento_test_create(struct bento_test_fs *fs, const char *path,
		      uint32_t mode)
{
	return make_at(fs, path, MAKE_FILE, mode, 0, NULL);
}

int bento_test_mknod(struct bento_test_fs *fs, const char *path,
		     uint32_t mode, uint32_t rdev)
{
	return make_at(fs, path, MAKE_NOD, mode, rdev, NULL);
}

int bento_test_symlink(struct bento_test_fs *fs, const char *target,
		       const char *path)
{
	return make_at(fs, path, MAKE_SYMLINK, 0777, 0, target);
}

static int remove_at(struct bento_test_fs *fs, const char *path, bool dir)
{
	char name[BENTO_NAME_MAX + 1];
	bento_ino_t parent;
	int err;

	err = resolve_parent(fs, path, &parent, name);
	if (err)
		return err;
	if (dir)
		err = fs->ops->rmdir(fs->sb, &fs->ctx, parent, name);
	else
		err = fs->ops->unlink(fs->sb, &fs->ctx, parent, name);
	bento_test_put(fs, parent);
	return err;
}

int bento_test_rmdir(struct bento_test_fs *fs, const char *path)
{
	return remove_at(fs, path, true);
}

int bento_test_unlink(struct bento_test_fs *fs, const char *path)
{
	return remove_at(fs, path, false);
}

int bento_test_readlink(struct bento_test_fs *fs, const char *path,
			char *buf, size_t size)
{
	bento_ino_t ino;
	int err, n;

	if (size == 0)
		return -ERANGE;
	err = resolve(fs, path, &ino, NULL);
	if (err)
		return err;
	n = fs->ops->readlink(fs->sb, ino, buf, size - 1);
	bento_test_put(fs, ino);
	if (n < 0)
		return n;
	if ((size_t)n > size - 1)
		n = (int)(size - 1);
	buf[n] = '\0';
	return n;
}

int bento_test_link(struct bento_test_fs *fs, const char *oldpath,
		    const char *newpath)
{
	char name[BENTO_NAME_MAX + 1];
	struct bento_entry e;
	bento_ino_t ino, dir;
	int err;

	err = resolve(fs, oldpath, &ino, NULL);
	if (err)
		return err;
	err = resolve_parent(fs, newpath, &dir, name);
	if (err)
		goto put_ino;
	err = fs->ops->link(fs->sb, &fs->ctx, ino, dir, name, &e);
	if (!err) {
		entry_taken(fs);
		bento_test_put(fs, e.ino);
	}
	bento_test_put(fs, dir);
put_ino:
	bento_test_put(fs, ino);
	return err;
}

int bento_test_rename(struct bento_test_fs *fs, const char *oldpath,
		      const char *newpath, unsigned int flags)
{
	char name[BENTO_NAME_MAX + 1], newname[BENTO_NAME_MAX + 1];
	bento_ino_t dir, newdir;
	int err;

	err = resolve_parent(fs, oldpath, &dir, name);
	if (err)
		return err;
	err = resolve_parent(fs, newpath, &newdir, newname);
	if (err)
		goto put_dir;
	err = fs->ops->rename(fs->sb, &fs->ctx, dir, name, newdir, newname,
			      flags);
	bento_test_put(fs, newdir);
put_dir:
	bento_test_put(fs, dir);
	return err;
}

int bento_test_setattr(struct bento_test_fs *fs, const char *path,
		       const struct bento_setattr *sa, struct bento_attr *out)
{
	struct bento_attr tmp;
	bento_ino_t ino;
	int err;

	err = resolve(fs, path, &ino, NULL);
	if (err)
		return err;
	err = fs->ops->setattr(fs->sb, &fs->ctx, ino, sa, out ? out : &tmp);
	bento_test_put(fs, ino);
	return err;
}

int bento_test_truncate(struct bento_test_fs *fs, const char *path,
			uint64_t size)
{
	struct bento_setattr sa = { .valid = BENTO_SET_SIZE, .size = size };

	return bento_test_setattr(fs, path, &sa, NULL);
}

int bento_test_statfs(struct bento_test_fs *fs, struct bento_statfs *st)
{
	memset(st, 0, sizeof(*st));
	return fs->ops->statfs(fs->sb, st);
}

/* ---- open files ------------------------------------------------------------ */

int bento_test_open(struct bento_test_fs *fs, const char *path, int flags,
		    uint32_t mode, struct bento_test_file *f)
{
	char name[BENTO_NAME_MAX + 1];
	struct bento_setattr sa = { .valid = BENTO_SET_SIZE, .size = 0 };
	struct bento_attr attr;
	struct bento_entry e;
	bento_ino_t dir;
	int err;

	/* Create it if asked and absent, as open(O_CREAT) does. */
	err = resolve(fs, path, &f->ino, &attr);
	if (err == -ENOENT && (flags & O_CREAT)) {
		err = resolve_parent(fs, path, &dir, name);
		if (err)
			return err;
		err = fs->ops->create(fs->sb, &fs->ctx, dir, name,
				      S_IFREG | (mode & 07777), flags, &e,
				      &f->fh);
		bento_test_put(fs, dir);
		if (err)
			return err;
		entry_taken(fs);
		f->ino = e.ino;
		return 0;
	}
	if (err)
		return err;
	if ((flags & O_CREAT) && (flags & O_EXCL)) {
		err = -EEXIST;
		goto put;
	}
	if (S_ISDIR(attr.mode) && (flags & O_ACCMODE) != O_RDONLY) {
		err = -EISDIR;
		goto put;
	}

	/* O_TRUNC is a setattr before the open, as in the VFS. */
	if ((flags & O_TRUNC) && S_ISREG(attr.mode) && attr.size) {
		err = fs->ops->setattr(fs->sb, &fs->ctx, f->ino, &sa, &attr);
		if (err)
			goto put;
	}
	f->fh = 0;
	err = fs->ops->open(fs->sb, &fs->ctx, f->ino, flags & ~O_TRUNC,
			    &f->fh);
	if (err)
		goto put;
	return 0;

put:
	bento_test_put(fs, f->ino);
	return err;
}

ssize_t bento_test_fwrite(struct bento_test_fs *fs, struct bento_test_file *f,
			  const void *data, size_t len, uint64_t off)
{
	const char *p = data;
	size_t done = 0, n;
	ssize_t got;

	while (done < len) {
		n = len - done < IO_CHUNK ? len - done : IO_CHUNK;
		got = fs->ops->write(fs->sb, f->ino, f->fh, p + done, n,
				     off + done);
		if (got < 0)
			return done ? (ssize_t)done : got;
		if (got == 0 || (size_t)got > n)
			return done ? (ssize_t)done : -EIO;
		done += (size_t)got;
		if ((size_t)got < n)
			break;
	}
	return (ssize_t)done;
}

ssize_t bento_test_fread(struct bento_test_fs *fs, struct bento_test_file *f,
			 void *buf, size_t len, uint64_t off)
{
	char *p = buf;
	size_t done = 0, n;
	ssize_t got;

	while (done < len) {
		n = len - done < IO_CHUNK ? len - done : IO_CHUNK;
		got = fs->ops->read(fs->sb, f->ino, f->fh, p + done, n,
				    off + done);
		if (got < 0)
			return done ? (ssize_t)done : got;
		if ((size_t)got > n)
			return -EIO;
		done += (size_t)got;
		if ((size_t)got < n)
			break;
	}
	return (ssize_t)done;
}

int bento_test_ffsync(struct bento_test_fs *fs, struct bento_test_file *f,
		      int datasync)
{
	return fs->ops->fsync(fs->sb, f->ino, f->fh, datasync);
}

int bento_test_close(struct bento_test_fs *fs, struct bento_test_file *f)
{
	int err = 0;

	if (fs->ops->flush)
		err = fs->ops->flush(fs->sb, f->ino, f->fh);
	if (fs->ops->release)
		fs->ops->release(fs->sb, f->ino, f->fh);
	bento_test_put(fs, f->ino);
	return err;
}

/* ---- whole files --------------------------------------------------------- */

int bento_test_write_file(struct bento_test_fs *fs, const char *path,
			  const void *data, size_t len)
{
	struct bento_test_file f;
	ssize_t n;
	int err;

	err = bento_test_open(fs, path, O_WRONLY | O_CREAT | O_TRUNC, 0644,
			      &f);
	if (err)
		return err;
	n = bento_test_fwrite(fs, &f, data, len, 0);
	err = bento_test_close(fs, &f);
	if (n < 0)
		return (int)n;
	if ((size_t)n != len)
		return -ENOSPC;
	return err;
}

int bento_test_read_file(struct bento_test_fs *fs, const char *path,
			 void **data, size_t *len)
{
	struct bento_test_file f;
	struct bento_attr attr;
	char *buf;
	ssize_t n;
	int err;

	err = bento_test_open(fs, path, O_RDONLY, 0, &f);
	if (err)
		return err;
	err = fs->ops->getattr(fs->sb, f.ino, &attr);
	if (err)
		goto close;
	if (!S_ISREG(attr.mode)) {
		err = -EISDIR;
		goto close;
	}
	if (attr.size > ((uint64_t)1 << 32)) {
		err = -EFBIG;	/* not for whole-file reads: use pread */
		goto close;
	}
	buf = malloc(attr.size + 1);
	if (!buf) {
		err = -ENOMEM;
		goto close;
	}
	n = bento_test_fread(fs, &f, buf, attr.size, 0);
	if (n < 0) {
		free(buf);
		err = (int)n;
		goto close;
	}
	buf[n] = '\0';
	*data = buf;
	*len = (size_t)n;
close:
	bento_test_close(fs, &f);
	return err;
}

ssize_t bento_test_pwrite(struct bento_test_fs *fs, const char *path,
			  const void *data, size_t len, uint64_t off)
{
	struct bento_test_file f;
	ssize_t n;
	int err;

	err = bento_test_open(fs, path, O_WRONLY, 0, &f);
	if (err)
		return err;
	n = bento_test_fwrite(fs, &f, data, len, off);
	err = bento_test_close(fs, &f);
	return n < 0 ? n : err ? err : n;
}

ssize_t bento_test_pread(struct bento_test_fs *fs, const char *path,
			 void *buf, size_t len, uint64_t off)
{
	struct bento_test_file f;
	ssize_t n;
	int err;

	err = bento_test_open(fs, path, O_RDONLY, 0, &f);
	if (err)
		return err;
	n = bento_test_fread(fs, &f, buf, len, off);
	bento_test_close(fs, &f);
	return n;
}

int bento_test_fsync(struct bento_test_fs *fs, const char *path,
		     int datasync)
{
	struct bento_test_file f;
	struct bento_attr attr;
	int err;

	err = resolve(fs, path, &f.ino, &attr);
	if (err)
		return err;
	if (S_ISDIR(attr.mode)) {
		err = fs->ops->opendir(fs->sb, &fs->ctx, f.ino, &f.fh);
		if (err)
			goto put;
		err = fs->ops->fsyncdir(fs->sb, f.ino, f.fh, datasync);
		if (fs->ops->releasedir)
			fs->ops->releasedir(fs->sb, f.ino, f.fh);
		goto put;
	}
	f.fh = 0;
	err = fs->ops->open(fs->sb, &fs->ctx, f.ino, O_RDWR, &f.fh);
	if (err)
		goto put;
	err = fs->ops->fsync(fs->sb, f.ino, f.fh, datasync);
	if (fs->ops->flush)
		fs->ops->flush(fs->sb, f.ino, f.fh);
	if (fs->ops->release)
		fs->ops->release(fs->sb, f.ino, f.fh);
put:
	bento_test_put(fs, f.ino);
	return err;
}

/* ---- directory listings -------------------------------------------------- */

struct listing {
	struct bento_test_dirent *ents;
	size_t n, cap;
	unsigned int room;	/* entries this call may still take */
	unsigned int taken;	/* entries taken in this call */
	uint64_t last_off;	/* cookie of the last entry taken */
	bool bad;		/* a malformed entry was offered */
};

static int listing_fill(void *dirbuf, const char *name, uint32_t namelen,
			bento_ino_t ino, unsigned int dtype, uint64_t off)
{
	struct listing *l = dirbuf;
	struct bento_test_dirent *d;
	size_t cap;

	if (l->room == 0)
		return 1;
	if (namelen == 0 || namelen > BENTO_NAME_MAX) {
		l->bad = true;
		return 1;
	}
	if (l->n == l->cap) {
		cap = l->cap ? l->cap * 2 : 64;
		d = realloc(l->ents, cap * sizeof(*d));
		if (!d)
			return 1;	/* seen as "full"; caught below */
		l->ents = d;
		l->cap = cap;
	}
	d = &l->ents[l->n++];
	memcpy(d->name, name, namelen);
	d->name[namelen] = '\0';
	d->ino = ino;
	d->dtype = dtype;
	d->off = off;
	l->room--;
	l->taken++;
	l->last_off = off;
	return 0;
}

/* List the open directory @ino through the cookie protocol. */
static int list_open_dir(struct bento_test_fs *fs, bento_ino_t ino,
			 uint64_t fh, struct listing *l)
{
	unsigned int batch = fs->dir_batch ? fs->dir_batch : 1;
	uint64_t off = 0;
	int err;

	for (;;) {
		l->room = batch;
		l->taken = 0;
		err = fs->ops->readdir(fs->sb, ino, fh, off, listing_fill, l);
		if (err)
			return err;
		if (l->bad) {
			fprintf(stderr, "bento-test: directory %llu: readdir offered a name of bad length\n",
				(unsigned long long)ino);
			return -EIO;
		}
		if (l->taken == 0)
			return 0;	/* the end */
		if (l->n > LISTDIR_MAX) {
			fprintf(stderr, "bento-test: directory %llu: listing does not end\n",
				(unsigned long long)ino);
			return -ELOOP;
		}
		off = l->last_off;
	}
}

int bento_test_listdir(struct bento_test_fs *fs, const char *path,
		       struct bento_test_dirent **ents, size_t *n)
{
	struct listing l = { 0 };
	bento_ino_t ino;
	uint64_t fh = 0;
	int err;

	err = resolve(fs, path, &ino, NULL);
	if (err)
		return err;
	err = fs->ops->opendir(fs->sb, &fs->ctx, ino, &fh);
	if (err)
		goto put;
	err = list_open_dir(fs, ino, fh, &l);
	if (fs->ops->releasedir)
		fs->ops->releasedir(fs->sb, ino, fh);
	if (err) {
		free(l.ents);
		goto put;
	}
	*ents = l.ents;
	*n = l.n;
put:
	bento_test_put(fs, ino);
	return err;
}

/* ---- extended attributes ------------------------------------------------- */

int bento_test_setxattr(struct bento_test_fs *fs, const char *path,
			const char *name, const void *value, size_t size,
			int flags)
{
	bento_ino_t ino;
	int err;

	if (!fs->ops->setxattr)
		return -EOPNOTSUPP;
	err = resolve(fs, path, &ino, NULL);
	if (err)
		return err;
	err = fs->ops->setxattr(fs->sb, &fs->ctx, ino, name, value, size,
				flags);
	bento_test_put(fs, ino);
	return err;
}

ssize_t bento_test_getxattr(struct bento_test_fs *fs, const char *path,
			    const char *name, void *value, size_t size)
{
	bento_ino_t ino;
	ssize_t n;
	int err;

	if (!fs->ops->getxattr)
		return -EOPNOTSUPP;
	err = resolve(fs, path, &ino, NULL);
	if (err)
		return err;
	n = fs->ops->getxattr(fs->sb, ino, name, value, size);
	bento_test_put(fs, ino);
	return n;
}

ssize_t bento_test_listxattr(struct bento_test_fs *fs, const char *path,
			     char *list, size_t size)
{
	bento_ino_t ino;
	ssize_t n;
	int err;

	if (!fs->ops->listxattr)
		return -EOPNOTSUPP;
	err = resolve(fs, path, &ino, NULL);
	if (err)
		return err;
	n = fs->ops->listxattr(fs->sb, ino, list, size);
	bento_test_put(fs, ino);
	return n;
}

int bento_test_removexattr(struct bento_test_fs *fs, const char *path,
			   const char *name)
{
	bento_ino_t ino;
	int err;

	if (!fs->ops->removexattr)
		return -EOPNOTSUPP;
	err = resolve(fs, path, &ino, NULL);
	if (err)
		return err;
	err = fs->ops->removexattr(fs->sb, &fs->ctx, ino, name);
	bento_test_put(fs, ino);
	return err;
}
