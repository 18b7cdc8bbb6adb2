/*
 * alloc.c - block and inode allocation through xv6fs's ops: fill the
 * device until ENOSPC, check statfs says it is full, unlink, and check
 * every block and inode came back and can be used again.
 *
 * The image is small (16 MiB, 256 inodes) so filling it is quick.
 */
#include <fcntl.h>

#include "common.h"

#define NBLOCKS 4096
#define NINODES 256
#define CHUNK (256u * 1024)

/* Write 256 KiB chunks to @path until the file system is full. */
static uint64_t fill_file(struct xt *t, const char *path)
{
	struct bento_test_file f;
	uint64_t off = 0;
	ssize_t n;
	char *buf = malloc(CHUNK);

	assert_non_null(buf);
	assert_ok(bento_test_open(t->fs, path, O_WRONLY | O_CREAT, 0644, &f));
	for (;;) {
		xt_fill(buf, CHUNK, 1, off);
		n = bento_test_fwrite(t->fs, &f, buf, CHUNK, off);
		if (n == -ENOSPC)
			break;
		assert_true(n > 0);
		off += (uint64_t)n;
		if ((size_t)n < CHUNK)
			break;
		assert_true(off < (uint64_t)NBLOCKS * BENTO_BLOCK_SIZE);
	}
	/* A full device refuses even one more block. */
	n = bento_test_fwrite(t->fs, &f, buf, BENTO_BLOCK_SIZE,
			      off + BENTO_BLOCK_SIZE);
	assert_err(n, -ENOSPC);
	assert_ok(bento_test_close(t->fs, &f));
	free(buf);
	return off;
}

static void test_blocks_until_enospc(void **state)
{
	struct xt *t = xt_new(NBLOCKS, NINODES);
	struct bento_statfs before, full, after;
	uint64_t written;
	void *data;
	size_t len;

	assert_ok(bento_test_statfs(t->fs, &before));
	assert_int_equal(before.bsize, BENTO_BLOCK_SIZE);
	assert_true(before.bfree > 0 && before.bfree <= before.blocks);

	written = fill_file(t, "big");
	assert_ok(bento_test_statfs(t->fs, &full));
	print_message("# wrote %llu bytes, %llu of %llu blocks free before\n",
		      (unsigned long long)written,
		      (unsigned long long)before.bfree,
		      (unsigned long long)before.blocks);
	assert_int_equal(full.bfree, 0);
	/* Data plus indirect blocks took what was free. */
	assert_true(written / BENTO_BLOCK_SIZE <= before.bfree);
	assert_true(written / BENTO_BLOCK_SIZE + 8 >= before.bfree);
	assert_int_equal(xt_size(t, "big"), written);

	/* Creating an empty file needs no block; writing to it fails. */
	assert_ok(bento_test_create(t->fs, "empty", 0644));
	assert_err(bento_test_pwrite(t->fs, "empty", "x", 1, 0), -ENOSPC);

	/* The content written before ENOSPC is intact. */
	assert_ok(bento_test_read_file(t->fs, "big", &data, &len));
	assert_int_equal(len, written);
	assert_true(xt_check(data, len, 1, 0));
	free(data);

	/* Unlink gives every block back, and they are usable again. */
	assert_ok(bento_test_unlink(t->fs, "big"));
	assert_ok(bento_test_statfs(t->fs, &after));
	assert_int_equal(after.bfree, before.bfree);
	assert_int_equal(fill_file(t, "again"), written);
	assert_ok(bento_test_unlink(t->fs, "again"));
	assert_ok(bento_test_unlink(t->fs, "empty"));
	assert_int_equal(xt_bfree(t), before.bfree);

	/* And so after a remount. */
	xt_remount(t);
	assert_int_equal(xt_bfree(t), before.bfree);
	xt_free(t);
}

static void test_inodes_until_enospc(void **state)
{
	struct xt *t = xt_new(NBLOCKS, NINODES);
	struct bento_statfs before, full, after;
	char name[32];
	unsigned int i, made = 0;
	int err;

	/* In a directory of their own, removed at the end: a directory
	 * may or may not give back blocks it grew by. */
	assert_ok(bento_test_mkdir(t->fs, "d", 0755));
	assert_ok(bento_test_statfs(t->fs, &before));
	assert_true(before.files >= NINODES / 2);
	assert_true(before.ffree > 0 && before.ffree < before.files);

	for (i = 0; i < 2 * NINODES; i++) {
		snprintf(name, sizeof(name), "d/f%u", i);
		err = bento_test_create(t->fs, name, 0644);
		if (err == -ENOSPC)
			break;
		assert_ok(err);
		made++;
	}
	assert_int_equal(made, before.ffree);
	assert_ok(bento_test_statfs(t->fs, &full));
	assert_int_equal(full.ffree, 0);
	assert_err(bento_test_mkdir(t->fs, "e", 0755), -ENOSPC);
	assert_err(bento_test_symlink(t->fs, "f0", "s"), -ENOSPC);

	/* Every inode comes back after unlink, and is reused. */
	for (i = 0; i < made; i++) {
		snprintf(name, sizeof(name), "d/f%u", i);
		assert_ok(bento_test_unlink(t->fs, name));
	}
	assert_ok(bento_test_statfs(t->fs, &after));
	assert_int_equal(after.ffree, before.ffree);
	assert_ok(bento_test_rmdir(t->fs, "d"));
	assert_ok(bento_test_mkdir(t->fs, "d", 0755));
	assert_ok(bento_test_statfs(t->fs, &after));
	assert_int_equal(after.bfree, before.bfree);
	xt_remount(t);
	assert_ok(bento_test_statfs(t->fs, &after));
	assert_int_equal(after.ffree, before.ffree);
	xt_free(t);
}

/* An open, unlinked file keeps its blocks until its last reference. */
static void test_unlinked_open_file(void **state)
{
	struct xt *t = xt_new(NBLOCKS, NINODES);
	struct bento_test_file f;
	uint64_t before = xt_bfree(t);
	char buf[8192], back[8192];

	xt_fill(buf, sizeof(buf), 7, 0);
	assert_ok(bento_test_open(t->fs, "open", O_RDWR | O_CREAT, 0644, &f));
	assert_int_equal(bento_test_fwrite(t->fs, &f, buf, sizeof(buf), 0),
			 sizeof(buf));
	assert_ok(bento_test_unlink(t->fs, "open"));
	assert_err(bento_test_stat(t->fs, "open", NULL), -ENOENT);
	assert_true(xt_bfree(t) < before);
	assert_int_equal(bento_test_fread(t->fs, &f, back, sizeof(back), 0),
			 sizeof(back));
	assert_memory_equal(buf, back, sizeof(buf));
	assert_ok(bento_test_close(t->fs, &f));
	assert_int_equal(xt_bfree(t), before);
	xt_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_blocks_until_enospc),
		cmocka_unit_test(test_inodes_until_enospc),
		cmocka_unit_test(test_unlinked_open_file),
	};

	return xt_run(tests);
}
