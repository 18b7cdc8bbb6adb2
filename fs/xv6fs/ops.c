/*
 * ops.c - the xv6fs ops table and module declaration, plus the ops too
 * small for a file of their own (open, release, flush, opendir, ...).
 *
 * File handles carry no state: every fh is 0, which also makes live
 * upgrade of open files trivial.
 *
 * The provenance log (xv6fs_prov.h) opens read-only only, in every
 * build: nothing but the provenance hooks writes it.  Its version string
 * comes from the prov file the build links ("1.0" or "1.0+prov").
 *
 * sync_fs (the host's periodic commit, and syncfs) commits the running
 * transaction and flushes the device.  With @wait 0 and nothing to
 * commit it does nothing at all, so an idle mount costs no flushes.
 */
#define BENTO_LOG_SUBSYS "xv6fs"
#include "xv6fs.h"
#include "xv6fs_prov.h"

/* open(2)'s access mode bits (O_ACCMODE); 0 is O_RDONLY. */
#define XV6_O_ACCMODE 3

static int xv6_open(struct bento_sb *sb, const struct bento_ctx *ctx,
		    bento_ino_t ino, int flags, uint64_t *fh)
{
	struct xv6_fs *fs = XV6_FS(sb);
	struct xv6_inode *ip;
	int err = xv6_iget(fs, ino, &ip);

	if (err)
		return err;
	if (ip->mode == 0)
		err = -ENOENT;
	else if (xv6_is_dir(ip))
		err = -EISDIR;
	else if ((flags & XV6_O_ACCMODE) && ino == xv6_prov_ino(fs))
		err = -EPERM;
	xv6_iput(fs, ip);
	*fh = 0;
	if (!err)
		xv6_prov_open(fs, ctx, ino);
	return err;
}

static void xv6_release(struct bento_sb *sb, bento_ino_t ino, uint64_t fh)
{
}

static int xv6_flush(struct bento_sb *sb, bento_ino_t ino, uint64_t fh)
{
	return 0;
}

static int xv6_opendir(struct bento_sb *sb, const struct bento_ctx *ctx,
		       bento_ino_t ino, uint64_t *fh)
{
	struct xv6_fs *fs = XV6_FS(sb);
	struct xv6_inode *ip;
	int err = xv6_iget(fs, ino, &ip);

	if (err)
		return err;
	if (ip->mode == 0)
		err = -ENOENT;
	else if (!xv6_is_dir(ip))
		err = -ENOTDIR;
	xv6_iput(fs, ip);
	*fh = 0;
	return err;
}

static void xv6_releasedir(struct bento_sb *sb, bento_ino_t ino,
			   uint64_t fh)
{
}

static int xv6_fsyncdir(struct bento_sb *sb, bento_ino_t ino, uint64_t fh,
			int datasync)
{
	return xv6_log_force(XV6_FS(sb));
}

static int xv6_sync_fs(struct bento_sb *sb, int wait)
{
	struct xv6_fs *fs = XV6_FS(sb);
	struct xv6_log *log = &fs->log;
	bool idle;
	int err;

	if (fs->read_only)
		return 0;
	bento_mutex_lock(&log->lock);
	idle = log->count == 0 && log->nfreed == 0 && !log->committing &&
	       log->outstanding == 0;
	err = log->error;
	bento_mutex_unlock(&log->lock);
	if (err)
		return -EIO;
	if (idle && !wait)
		return 0;
	return xv6_log_force(fs);
}

const struct bento_fs_ops xv6fs_ops = {
	.init = xv6_init,
	.destroy = xv6_destroy,
	.lookup = xv6_lookup,
	.forget = xv6_forget,
	.getattr = xv6_getattr,
	.setattr = xv6_setattr,
	.readlink = xv6_readlink,
	.mknod = xv6_mknod,
	.mkdir = xv6_mkdir,
	.symlink = xv6_symlink,
	.create = xv6_create,
	.unlink = xv6_unlink,
	.rmdir = xv6_rmdir,
	.rename = xv6_rename,
	.link = xv6_link,
	.open = xv6_open,
	.release = xv6_release,
	.read = xv6_read,
	.write = xv6_write,
	.flush = xv6_flush,
	.fsync = xv6_fsync,
	.opendir = xv6_opendir,
	.readdir = xv6_readdir,
	.releasedir = xv6_releasedir,
	.fsyncdir = xv6_fsyncdir,
	.sync_fs = xv6_sync_fs,
	.statfs = xv6_statfs,
	.setxattr = xv6_setxattr,
	.getxattr = xv6_getxattr,
	.listxattr = xv6_listxattr,
	.removexattr = xv6_removexattr,
	.prepare = xv6_prepare,
	.transfer = xv6_transfer,
	.abandon = xv6_abandon,
};

BENTO_MODULE(xv6fs, xv6_prov_version, &xv6fs_ops);
