/*
 * mount.c - what the host hands xv6fs at mount and between ops: mount
 * options (unknown ones refused with one line, norecovery for read-only
 * mounts, errors=continue) and sync_fs, the host's periodic commit.
 *
 * sync_fs is checked on a recording device: after sync_fs(wait=1) a crash
 * at that point (no write after it reaching the disk) must keep a file
 * that was written but never fsync'd; before it, the same crash must
 * not have the file yet (so the test can tell the difference).
 */
#include <fcntl.h>
#include <unistd.h>

#include "common.h"

/* Run mount with stderr in a file; return init's error, fill @msg. */
static int mount_capture(struct bento_rec *rec, const char *opts,
			 bool read_only, char *msg, size_t size,
			 struct bento_instance **inst)
{
	char path[] = "/tmp/xv6fs-mount-log.XXXXXX";
	struct bento_blkdev *dev;
	int fd = mkstemp(path), saved = dup(2), err;
	ssize_t n;

	assert_true(fd >= 0 && saved >= 0);
	assert_ok(bento_rec_open_dev(rec, &dev));
	fflush(stderr);
	dup2(fd, 2);
	err = bento_instance_mount(&bento_module_xv6fs, dev, opts, read_only,
				   0, inst);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	n = pread(fd, msg, size - 1, 0);
	msg[n > 0 ? n : 0] = '\0';
	close(fd);
	unlink(path);
	return err;
}

/* Count the lines of @s. */
static int lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static void test_options(void **state)
{
	struct xt *t = xt_new(1024, 0);
	struct bento_instance *inst = NULL;
	char msg[1024];

	assert_ok(bento_test_unmount(t->fs));
	t->fs = NULL;

	/* Unknown options: -EINVAL and one line naming the option. */
	assert_err(mount_capture(t->disk, "bogus", false, msg, sizeof(msg),
				 &inst), -EINVAL);
	assert_non_null(strstr(msg, "xv6fs: unrecognized mount option 'bogus'"));
	assert_int_equal(lines(msg), 1);
	assert_err(mount_capture(t->disk, "errors=continue,commit=x", false,
				 msg, sizeof(msg), &inst), -EINVAL);
	assert_non_null(strstr(msg, "'commit=x'"));
	assert_err(mount_capture(t->disk, "errors=remount-ro", false, msg,
				 sizeof(msg), &inst), -EINVAL);
	assert_non_null(strstr(msg, "'errors=remount-ro'"));

	/* norecovery needs a read-only mount. */
	assert_err(mount_capture(t->disk, "norecovery", false, msg,
				 sizeof(msg), &inst), -EINVAL);
	assert_non_null(strstr(msg, "read-only"));
	assert_int_equal(lines(msg), 1);

	/* Known options mount; the mount log counts usable inodes. */
	assert_ok(mount_capture(t->disk, "errors=continue", false, msg,
				sizeof(msg), &inst));
	assert_ok(bento_instance_unmount(inst));
	assert_ok(mount_capture(t->disk, "norecovery,errors=continue", true,
				msg, sizeof(msg), &inst));
	assert_ok(bento_instance_unmount(inst));
	assert_ok(mount_capture(t->disk, "", false, msg, sizeof(msg), &inst));
	assert_non_null(strstr(msg, "255 usable inodes"));
	assert_ok(bento_instance_unmount(inst));
	xt_remount(t);
	xt_free(t);
}

/* Mount the crash image at the current end of @rec's log and look up
 * @path.  Returns the lookup's error. */
static int crash_has(struct bento_rec *rec, const char *path)
{
	uint64_t nb = bento_rec_nblocks(rec), pos = bento_rec_position(rec);
	void *img = malloc(nb * BENTO_BLOCK_SIZE);
	struct bento_test_fs *fs;
	struct bento_rec *copy;
	struct bento_blkdev *dev;
	struct bento_attr a;
	int err;

	assert_non_null(img);
	assert_ok(bento_rec_crash_image(rec, pos, BENTO_CRASH_NONE, 0, img,
					NULL));
	assert_ok(bento_rec_new(img, nb, &copy));
	free(img);
	bento_rec_set_logging(copy, false);
	assert_ok(bento_rec_open_dev(copy, &dev));
	assert_ok(bento_test_mount(&bento_module_xv6fs, dev, NULL, &fs));
	err = bento_test_stat(fs, path, &a);
	if (!err)
		assert_int_equal(a.size, 5);
	assert_ok(bento_test_unmount(fs));
	bento_rec_free(copy);
	return err;
}

static void test_sync_fs(void **state)
{
	/* Big enough that an op does not fill the journal and commit. */
	struct xt *t = xt_new(16384, 0);
	int (*sync_fs)(struct bento_sb *, int) = t->fs->ops->sync_fs;

	assert_non_null(sync_fs);
	bento_rec_set_logging(t->disk, true);
	bento_rec_checkpoint(t->disk);

	/* Written, not synced: a crash now loses it. */
	assert_ok(bento_test_write_file(t->fs, "a", "hello", 5));
	assert_err(crash_has(t->disk, "a"), -ENOENT);

	/* sync_fs(wait=1) makes it durable. */
	assert_ok(sync_fs(t->fs->sb, 1));
	assert_ok(crash_has(t->disk, "a"));

	/* sync_fs(wait=0) commits too; idle, it writes nothing. */
	assert_ok(bento_test_write_file(t->fs, "b", "world", 5));
	assert_ok(sync_fs(t->fs->sb, 0));
	assert_ok(crash_has(t->disk, "b"));
	{
		uint64_t pos = bento_rec_position(t->disk);

		assert_ok(sync_fs(t->fs->sb, 0));
		assert_int_equal(bento_rec_position(t->disk), pos);
	}
	bento_rec_set_logging(t->disk, false);
	xt_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_options),
		cmocka_unit_test(test_sync_fs),
	};

	return xt_run(tests);
}
