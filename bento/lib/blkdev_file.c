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
 * Limits: buffered I/O through the page cache (no O_DIRECT), so a flush
 * also pays for writing the page cache back; a file that shrinks under a
 * mounted file system reads as I/O errors past its new end.
 */
#include <fcntl.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/fs.h>

#include "bento_host.h"

struct file_dev {
	struct bento_blkdev dev;
	int fd;
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
		return -EIO;
	}
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
static int file_size(int fd, const char *path, uint64_t *size)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (S_ISREG(st.st_mode)) {
		*size = (uint64_t)st.st_size;
		return 0;
	}
	if (S_ISBLK(st.st_mode)) {
		if (ioctl(fd, BLKGETSIZE64, size) < 0)
			return -errno;
		return 0;
	}
	bento_log(BENTO_LOG_ERR, "bento",
		  "%s: not a regular file or block device", path);
	return -EINVAL;
}

int bento_blkdev_open_file(const char *path, bool read_only,
			   struct bento_blkdev **out)
{
	size_t plen = strlen(path);
	struct file_dev *fd;
	uint64_t size;
	int err;

	fd = bento_zalloc(sizeof(*fd) + plen + 1);
	if (!fd)
		return -ENOMEM;
	memcpy(fd->path, path, plen + 1);

	fd->fd = open(path, (read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (fd->fd < 0) {
		err = -errno;
		goto out_free;
	}
	err = file_size(fd->fd, path, &size);
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
