/*
 * common.c - fixtures and helpers of the xv6fs unit tests (common.h).
 */
#include <unistd.h>

#include "common.h"

void xt_assert_err(long got, long want, const char *expr, const char *file,
		   int line)
{
	if (got == want)
		return;
	print_error("%s:%d: %s = %ld (%s), want %ld (%s)\n", file, line, expr,
		    got, got < 0 ? strerror((int)-got) : "ok", want,
		    want < 0 ? strerror((int)-want) : "ok");
	fail();
}

static void xt_mount(struct xt *t)
{
	struct bento_blkdev *dev;

	assert_ok(bento_rec_open_dev(t->disk, &dev));
	assert_ok(bento_test_mount(&bento_module_xv6fs, dev, NULL, &t->fs));
}

struct xt *xt_new(uint64_t nblocks, uint64_t ninodes)
{
	struct xt *t = calloc(1, sizeof(*t));

	assert_non_null(t);
	snprintf(t->dir, sizeof(t->dir), "/tmp/xv6fs-test.XXXXXX");
	assert_non_null(mkdtemp(t->dir));
	snprintf(t->img, sizeof(t->img), "%s/disk.img", t->dir);
	assert_ok(bento_test_mkfs_xv6fs(t->img, nblocks, ninodes));
	assert_ok(bento_rec_new_file(t->img, &t->disk));
	bento_rec_set_logging(t->disk, false);
	xt_mount(t);
	/* A directory may give its blocks back when its last entry goes;
	 * one entry that stays keeps the root's block usage steady, so
	 * tests can compare statfs before and after. */
	assert_ok(bento_test_create(t->fs, "anchor", 0644));
	return t;
}

void xt_remount(struct xt *t)
{
	struct bento_test_fs *fs = t->fs;

	t->fs = NULL;
	assert_ok(bento_test_unmount(fs));
	xt_mount(t);
}

void xt_free(struct xt *t)
{
	if (!t)
		return;
	if (t->fs)
		assert_ok(bento_test_unmount(t->fs));
	bento_rec_free(t->disk);
	unlink(t->img);
	rmdir(t->dir);
	free(t);
}

static uint8_t pattern_byte(uint64_t seed, uint64_t off)
{
	uint64_t x = (off >> 3) * 0x9e3779b97f4a7c15ull + seed;

	x ^= x >> 29;
	return (uint8_t)((x >> ((off & 7) * 8)) ^ (off & 0xff) ^ 0x5a);
}

void xt_fill(void *buf, size_t len, uint64_t seed, uint64_t off)
{
	uint8_t *p = buf;
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = pattern_byte(seed, off + i);
}

bool xt_check(const void *buf, size_t len, uint64_t seed, uint64_t off)
{
	const uint8_t *p = buf;
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] != pattern_byte(seed, off + i))
			return false;
	return true;
}

uint32_t xt_nlink(struct xt *t, const char *path)
{
	struct bento_attr a;

	assert_ok(bento_test_stat(t->fs, path, &a));
	return a.nlink;
}

uint64_t xt_size(struct xt *t, const char *path)
{
	struct bento_attr a;

	assert_ok(bento_test_stat(t->fs, path, &a));
	return a.size;
}

uint64_t xt_bfree(struct xt *t)
{
	struct bento_statfs st;

	assert_ok(bento_test_statfs(t->fs, &st));
	return st.bfree;
}
