/*
 * blkdev_file.c - a block device backed by an image file or a real block
 * device.
 *
 * Blocks move with pread/pwrite at blockno * 4 KiB; short transfers and
 * EINTR are retried, anything else is an I/O error: logged once as
 * "bento: PATH: write failed at block N: reason" and returned as -EIO.
 * The barrier is fdatasync(2).  The size is fstat's for a file and
 * BLKGETSIZE64's for a block device, rounded down to whole blocks; a
 * trailing partial block is never touched.
 *
 * Errors stick: once a write or a flush has failed, every later flush
 * fails too (-EIO), for as long as the device is open.  The blocks that
 * write carried are not on the device, whatever the file system above
 * believes, so no later barrier may claim that everything is durable:
 * fsync, the periodic commit and the final flush of an unmount all
 * report the loss (a daemon must not exit 0 after losing a commit on a
 * full backing file system).
 *
 * Exclusive use.  Two writers of one image lose data silently, so the
 * open takes a lock and fails with -EBUSY if someone else holds it:
 *
 *   an image in use holds an flock(2) on the image file: LOCK_EX for a
 *   read-write open, LOCK_SH for a read-only one, never waiting.  Tools
 *   (mkfs, fsck) take it too: mkfs and repairing fsck LOCK_EX, a
 *   read-only check LOCK_SH.  So any number of read-only users may
 *   share an image, and a writer excludes everyone else.
 *
 * A block device is also opened O_EXCL, read-only or not: Linux then
 * refuses it (EBUSY) while a kernel file system has it mounted or
 * another O_EXCL opener holds it, which covers users who do not know
 * our flock.  The lock lives as long as the descriptor, so it ends when
 * the device is closed or the process dies; nothing stale is left.
 *
 * Limits: buffered I/O through the page cache (no O_DIRECT), so a flush
 * also pays for writing the page cache back; a file that shrinks under a
 * mounted file system reads as I/O errors past its new end.  The lock
 * does not see one image reached two ways (the file, and a loop device
 * over it).
 */
#include <fcntl.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/fs.h>

#include "bento_host.h"

struct file_dev {
	struct bento_blkdev dev;
	int fd;
	int failed;		/* atomic: a write or flush failed */
	char path[];
};

static struct file_dev *file_dev(struct bento_blkdev *dev)
{
	return dev->priv;
}

static int file_read(struct bento_blkdev *dev, uint64_t blockno, uint32_t n,
		     void *buf)
{
	struct file_dev *fd = file_dev(dev);
	size_t left = (size_t)n << BENTO_BLOCK_SHIFT;
	off_t pos = (off_t)(blockno << BENTO_BLOCK_SHIFT);
	char *p = buf;

	while (left > 0) {
		ssize_t got = pread(fd->fd, p, left, pos);

		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0) {
			int err = got < 0 ? errno : 0;

			bento_log(BENTO_LOG_ERR, "bento",
				  "%s: read failed at block %llu: %s",
				  fd->path,
				  (unsigned long long)(pos >> BENTO_BLOCK_SHIFT),
				  err ? strerror(err) : "unexpected end of file");
			return -EIO;
		}
		p += got;
		pos += got;
		left -= (size_t)got;
	}
	return 0;
}

static int file_write(struct bento_blkdev *dev, uint64_t blockno, uint32_t n,
		      const void *buf)
{
	struct file_dev *fd = file_dev(dev);
	size_t left = (size_t)n << BENTO_BLOCK_SHIFT;
	off_t pos = (off_t)(blockno << BENTO_BLOCK_SHIFT);
	const char *p = buf;

	while (left > 0) {
		ssize_t put = pwrite(fd->fd, p, left, pos);

		if (put < 0 && errno == EINTR)
			continue;
		if (put <= 0) {
			int err = put < 0 ? errno : ENOSPC;

			bento_log(BENTO_LOG_ERR, "bento",
				  "%s: write failed at block %llu: %s",
				  fd->path,
				  (unsigned long long)(pos >> BENTO_BLOCK_SHIFT),
				  strerror(err));
			__atomic_store_n(&fd->failed, 1, __ATOMIC_RELAXED);
			return -EIO;
		}
		p += put;
		pos += put;
		left -= (size_t)put;
	}
	return 0;
}

static int file_flush(struct bento_blkdev *dev)
{
	struct file_dev *fd = file_dev(dev);

	while (fdatasync(fd->fd) < 0) {
		if (errno == EINTR)
			continue;
		bento_log(BENTO_LOG_ERR, "bento", "%s: flush failed: %s",
			  fd->path, strerror(errno));
		__atomic_store_n(&fd->failed, 1, __ATOMIC_RELAXED);
		return -EIO;
	}

	/* Sticky: what an earlier failed write carried is still lost. */
	if (__atomic_load_n(&fd->failed, __ATOMIC_RELAXED))
		return -EIO;
	return 0;
}

static void file_close(struct bento_blkdev *dev)
{
	struct file_dev *fd = file_dev(dev);

	close(fd->fd);
	bento_free(fd);
}

static const struct bento_blkdev_ops file_ops = {
	.read = file_read,
	.write = file_write,
	.flush = file_flush,
	.close = file_close,
};

/* The size in bytes of the open file or block device @fd. */
static int file_size(int fd, const struct stat *st, const char *path,
		     uint64_t *size)
{
	if (S_ISREG(st->st_mode)) {
		*size = (uint64_t)st->st_size;
		return 0;
	}
	if (S_ISBLK(st->st_mode)) {
		if (ioctl(fd, BLKGETSIZE64, size) < 0)
			return -errno;
		return 0;
	}
	bento_log(BENTO_LOG_ERR, "bento",
		  "%s: not a regular file or block device", path);
	return -EINVAL;
}

/*
 * Open @path for the device, taking the lock of the essay: O_EXCL for a
 * block device, then the flock.  Returns the descriptor, -EBUSY if the
 * device is in use, or open's -errno.
 */
static int open_locked(const char *path, bool read_only, struct stat *st)
{
	int flags = (read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC;
	int fd, err;

	fd = open(path, flags);
	if (fd < 0)
		return -errno;
	if (fstat(fd, st) < 0) {
		err = -errno;
		goto out_close;
	}

	/* Reopen a block device exclusively: EBUSY if mounted. */
	if (S_ISBLK(st->st_mode)) {
		close(fd);
		fd = open(path, flags | O_EXCL);
		if (fd < 0)
			return -errno;
	}

	while (flock(fd, (read_only ? LOCK_SH : LOCK_EX) | LOCK_NB) < 0) {
		if (errno == EINTR)
			continue;
		err = errno == EWOULDBLOCK ? -EBUSY : -errno;
		goto out_close;
	}
	return fd;

out_close:
	close(fd);
	return err;
}

int bento_blkdev_open_file(const char *path, bool read_only,
			   struct bento_blkdev **out)
{
	size_t plen = strlen(path);
	struct file_dev *fd;
	struct stat st;
	uint64_t size;
	int err;

	fd = bento_zalloc(sizeof(*fd) + plen + 1);
	if (!fd)
		return -ENOMEM;
	memcpy(fd->path, path, plen + 1);

	fd->fd = open_locked(path, read_only, &st);
	if (fd->fd < 0) {
		err = fd->fd;
		goto out_free;
	}
	err = file_size(fd->fd, &st, path, &size);
	if (err)
		goto out_close;
	if (size < BENTO_BLOCK_SIZE) {
		bento_log(BENTO_LOG_ERR, "bento",
			  "%s: smaller than one %u-byte block", path,
			  BENTO_BLOCK_SIZE);
		err = -EINVAL;
		goto out_close;
	}

	fd->dev.ops = &file_ops;
	fd->dev.nblocks = size >> BENTO_BLOCK_SHIFT;
	fd->dev.read_only = read_only;
	fd->dev.priv = fd;
	*out = &fd->dev;
	return 0;

out_close:
	close(fd->fd);
out_free:
	bento_free(fd);
	return err;
}
