/*
 * files.c - file contents: large files, sparse files, unaligned I/O and
 * truncate across the direct / single / double indirect boundaries.
 *
 * xv6fs maps a file with 12 direct blocks, then a single, a double and a
 * triple indirect block; the sizes below sit on both sides of each
 * boundary.  Block usage is checked with statfs: holes take no block,
 * truncate gives back exactly what it cut.
 */
#include <fcntl.h>

#include "common.h"

#define BS BENTO_BLOCK_SIZE
#define END_DIRECT (12ull * BS)
#define END_SINGLE ((12ull + 1024) * BS)
#define TIB (1ull << 40)

static bool all_zero(const char *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i])
			return false;
	return true;
}

/* Check @path holds the pattern of @seed on [0, @upto) and @size bytes. */
static void expect_pattern(struct xt *t, const char *path, uint64_t seed,
			   uint64_t upto, uint64_t size)
{
	void *data;
	size_t len;

	assert_ok(bento_test_read_file(t->fs, path, &data, &len));
	assert_int_equal(len, size);
	assert_true(xt_check(data, upto, seed, 0));
	assert_true(all_zero((char *)data + upto, size - upto));
	free(data);
}

static void test_sparse_1tib(void **state)
{
	struct xt *t = xt_new(4096, 256);
	uint64_t before = xt_bfree(t), off = TIB - BS, used;
	static const uint64_t holes[] = { 0, 1 << 20, 1ull << 30, TIB / 2,
					  TIB - 2 * BS };
	struct bento_attr a;
	char *buf = malloc(BS), *back = malloc(BS);
	unsigned int i;

	assert_non_null(buf);
	assert_non_null(back);
	xt_fill(buf, BS, 3, off);
	assert_ok(bento_test_create(t->fs, "sparse", 0644));
	assert_int_equal(bento_test_pwrite(t->fs, "sparse", buf, BS, off), BS);
	assert_ok(bento_test_stat(t->fs, "sparse", &a));
	assert_int_equal(a.size, TIB);

	/* Only the data block and its indirect blocks were allocated. */
	used = before - xt_bfree(t);
	print_message("# 1 TiB sparse file: %llu blocks used, st_blocks %llu\n",
		      (unsigned long long)used,
		      (unsigned long long)a.blocks);
	assert_true(used >= 1 && used <= 4);
	assert_true(a.blocks >= BS / 512 && a.blocks <= 4 * BS / 512);

	assert_int_equal(bento_test_pread(t->fs, "sparse", back, BS, off), BS);
	assert_memory_equal(buf, back, BS);
	for (i = 0; i < sizeof(holes) / sizeof(holes[0]); i++) {
		memset(back, 0x55, BS);
		assert_int_equal(bento_test_pread(t->fs, "sparse", back, BS,
						  holes[i]), BS);
		assert_true(all_zero(back, BS));
	}
	/* Straddling the hole and the data. */
	assert_int_equal(bento_test_pread(t->fs, "sparse", back, BS,
					  off - BS / 2), BS);
	assert_true(all_zero(back, BS / 2));
	assert_memory_equal(back + BS / 2, buf, BS / 2);
	assert_int_equal(bento_test_pread(t->fs, "sparse", back, BS, TIB), 0);

	/* Past the largest file xv6fs maps: EFBIG. */
	assert_err(bento_test_pwrite(t->fs, "sparse", buf, BS, 8 * TIB),
		   -EFBIG);

	xt_remount(t);
	assert_int_equal(bento_test_pread(t->fs, "sparse", back, BS, off), BS);
	assert_memory_equal(buf, back, BS);
	assert_int_equal(before - xt_bfree(t), used);
	assert_ok(bento_test_unlink(t->fs, "sparse"));
	assert_int_equal(xt_bfree(t), before);
	free(buf);
	free(back);
	xt_free(t);
}

static void test_large_unaligned(void **state)
{
	struct xt *t = xt_new(16384, 256);
	size_t len = 20u << 20, off, n;
	struct bento_test_file f;
	char *buf = malloc(len), *back = malloc(len);

	assert_non_null(buf);
	assert_non_null(back);
	xt_fill(buf, len, 5, 0);
	assert_ok(bento_test_open(t->fs, "f", O_RDWR | O_CREAT, 0644, &f));
	/* Written in odd-sized pieces at unaligned offsets. */
	for (off = 0; off < len; off += n) {
		n = 4093 + (off / 4093) % 70001;
		if (n > len - off)
			n = len - off;
		assert_int_equal(bento_test_fwrite(t->fs, &f, buf + off, n,
						   off), n);
	}
	assert_ok(bento_test_close(t->fs, &f));
	assert_int_equal(xt_size(t, "f"), len);
	xt_remount(t);

	memset(back, 0, len);
	for (off = 0; off < len; off += n) {
		n = 1 + (off * 7) % 131071;
		if (n > len - off)
			n = len - off;
		assert_int_equal(bento_test_pread(t->fs, "f", back + off, n,
						  off), n);
	}
	assert_memory_equal(buf, back, len);

	/* Overwrite a range crossing blocks; the rest is unchanged. */
	xt_fill(buf + 10000, 50000, 6, 10000);
	assert_int_equal(bento_test_pwrite(t->fs, "f", buf + 10000, 50000,
					   10000), 50000);
	assert_int_equal(bento_test_pread(t->fs, "f", back, len, 0), len);
	assert_memory_equal(buf, back, len);
	free(buf);
	free(back);
	xt_free(t);
}

static void test_truncate(void **state)
{
	struct xt *t = xt_new(8192, 256);
	uint64_t size = 5ull << 20, empty, b;
	static const uint64_t shrink[] = {
		END_SINGLE + 100, END_SINGLE + 1, END_SINGLE, END_SINGLE - 1,
		END_DIRECT + BS + 1, END_DIRECT + 1, END_DIRECT,
		END_DIRECT - 1, BS + 1, BS, 1000,
	};
	char *buf = malloc(size), *back = malloc(BS);
	unsigned int i;

	assert_non_null(buf);
	assert_non_null(back);
	xt_fill(buf, size, 9, 0);
	assert_ok(bento_test_create(t->fs, "t", 0644));
	empty = xt_bfree(t);
	assert_ok(bento_test_write_file(t->fs, "t", buf, size));

	/* Each shrink keeps the prefix and frees blocks, never takes. */
	b = xt_bfree(t);
	for (i = 0; i < sizeof(shrink) / sizeof(shrink[0]); i++) {
		assert_ok(bento_test_truncate(t->fs, "t", shrink[i]));
		expect_pattern(t, "t", 9, shrink[i], shrink[i]);
		assert_true(xt_bfree(t) >= b);
		b = xt_bfree(t);
		/* Blocks in use: the data, plus indirect blocks. */
		assert_true(empty - b >= (shrink[i] + BS - 1) / BS);
		assert_true(empty - b <= (shrink[i] + BS - 1) / BS + 3);
	}

	/* Grow with a hole: no block taken, the old tail reads zero. */
	assert_ok(bento_test_truncate(t->fs, "t", 3ull << 20));
	assert_int_equal(xt_bfree(t), b);
	expect_pattern(t, "t", 9, 1000, 3ull << 20);
	assert_int_equal(bento_test_pwrite(t->fs, "t", "end", 3,
					   (3ull << 20) - 3), 3);
	assert_int_equal(bento_test_pread(t->fs, "t", back, 8, 996), 8);
	assert_true(xt_check(back, 4, 9, 996));
	assert_true(all_zero(back + 4, 4));

	/* Grow across the indirect boundaries, then to zero. */
	assert_ok(bento_test_truncate(t->fs, "t", END_SINGLE + 3 * BS));
	assert_int_equal(xt_size(t, "t"), END_SINGLE + 3 * BS);
	assert_ok(bento_test_truncate(t->fs, "t", 0));
	assert_int_equal(xt_size(t, "t"), 0);
	assert_int_equal(xt_bfree(t), empty);
	assert_int_equal(bento_test_pread(t->fs, "t", back, BS, 0), 0);

	/* Rewrite after truncate: no stale data shows through. */
	assert_ok(bento_test_truncate(t->fs, "t", 2 * END_DIRECT));
	assert_int_equal(bento_test_pread(t->fs, "t", back, BS, END_DIRECT),
			 BS);
	assert_true(all_zero(back, BS));

	/* Not for directories. */
	assert_ok(bento_test_mkdir(t->fs, "d", 0755));
	assert_err(bento_test_truncate(t->fs, "d", 0), -EISDIR);
	xt_remount(t);
	assert_int_equal(xt_size(t, "t"), 2 * END_DIRECT);
	free(buf);
	free(back);
	xt_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sparse_1tib),
		cmocka_unit_test(test_large_unaligned),
		cmocka_unit_test(test_truncate),
	};

	return xt_run(tests);
}
