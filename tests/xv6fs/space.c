/*
 * space.c - the edges of space: blocks freed by a transaction that has
 * not committed yet must be usable by every allocating op (write, mkdir,
 * directory growth, symlink, xattr block), and the largest file size
 * gives EFBIG (or a short write across it), never EIO or a silent
 * success.
 *
 * The ENOSPC rounds are the tester's scenario: on a 64 MiB image, write
 * 50 MiB, remove it, three times; each round only fits if the blocks the
 * previous round freed are reused.
 */
#include <fcntl.h>
#include <pthread.h>

#include "common.h"

#define MIB (1024u * 1024)
#define MAX_BYTES ((uint64_t)XV6_MAX_BLOCKS * BENTO_BLOCK_SIZE)
/* fs/xv6fs/xv6fs_format.h's XV6_MAX_FILE_BLOCKS. */
#define XV6_MAX_BLOCKS (12ull + 1024 + 1024 * 1024 + 1024ull * 1024 * 1024)

/* Write @len bytes of pattern @seed to new file @path, 1 MiB a call. */
static void write_big(struct xt *t, const char *path, uint64_t len,
		      uint64_t seed)
{
	struct bento_test_file f;
	char *buf = malloc(MIB);
	uint64_t off;

	assert_non_null(buf);
	assert_ok(bento_test_open(t->fs, path, O_WRONLY | O_CREAT, 0644, &f));
	for (off = 0; off < len; off += MIB) {
		xt_fill(buf, MIB, seed, off);
		assert_err(bento_test_fwrite(t->fs, &f, buf, MIB, off), MIB);
	}
	assert_ok(bento_test_close(t->fs, &f));
	free(buf);
}

static void test_rounds_reuse_freed_blocks(void **state)
{
	struct xt *t = xt_new(64 * MIB / BENTO_BLOCK_SIZE, 0);
	int round;

	for (round = 1; round <= 4; round++) {
		write_big(t, "f", 50 * MIB, (uint64_t)round);
		assert_int_equal(xt_size(t, "f"), 50 * MIB);
		assert_ok(bento_test_unlink(t->fs, "f"));
	}
	xt_free(t);
}

struct writer {
	struct xt *t;
	struct bento_test_file *f;
	uint64_t from, len, seed;
	long err;
};

/* One of several threads writing their own range of one open file. */
static void *write_range(void *arg)
{
	struct writer *w = arg;
	char *buf = malloc(MIB);
	uint64_t off;

	for (off = w->from; buf && off < w->from + w->len; off += MIB) {
		ssize_t n;

		xt_fill(buf, MIB, w->seed, off);
		n = bento_test_fwrite(w->t->fs, w->f, buf, MIB, off);
		if (n != MIB) {
			w->err = n < 0 ? n : -EIO;
			break;
		}
	}
	free(buf);
	return NULL;
}

/*
 * The FUSE host's writeback threads write one file concurrently: each
 * writer that runs out of space must find the blocks another writer's
 * commit freed after it failed.
 */
static void test_concurrent_rounds(void **state)
{
	struct xt *t = xt_new(64 * MIB / BENTO_BLOCK_SIZE, 0);
	struct bento_test_file f;
	struct writer w[4];
	pthread_t th[4];
	int round, i;

	for (round = 1; round <= 4; round++) {
		assert_ok(bento_test_open(t->fs, "f", O_WRONLY | O_CREAT, 0644,
					  &f));
		for (i = 0; i < 4; i++) {
			w[i] = (struct writer){ .t = t, .f = &f,
				.from = (uint64_t)i * 12 * MIB,
				.len = 12 * MIB, .seed = (uint64_t)round };
			assert_int_equal(pthread_create(&th[i], NULL,
							write_range, &w[i]), 0);
		}
		for (i = 0; i < 4; i++) {
			pthread_join(th[i], NULL);
			assert_ok(w[i].err);
		}
		assert_ok(bento_test_close(t->fs, &f));
		assert_int_equal(xt_size(t, "f"), 48 * MIB);
		assert_ok(bento_test_unlink(t->fs, "f"));
	}
	xt_free(t);
}

/* Fill the device with one file, leaving almost nothing free. */
static void fill(struct xt *t, const char *path)
{
	struct bento_test_file f;
	char *buf = malloc(MIB);
	uint64_t off = 0;
	ssize_t n;

	assert_non_null(buf);
	assert_ok(bento_test_open(t->fs, path, O_WRONLY | O_CREAT, 0644, &f));
	memset(buf, 0x33, MIB);
	do {
		n = bento_test_fwrite(t->fs, &f, buf, MIB, off);
		if (n > 0)
			off += (uint64_t)n;
	} while (n == MIB);
	assert_true(n == -ENOSPC || (n > 0 && n < MIB));
	assert_ok(bento_test_close(t->fs, &f));
	free(buf);
}

/*
 * With the device full and a big file just removed (its blocks waiting
 * for the commit), every allocating op must succeed.
 */
static void test_metadata_ops_reuse_freed_blocks(void **state)
{
	struct xt *t = xt_new(16 * MIB / BENTO_BLOCK_SIZE, 1024);
	char name[32];
	int i;

	/* A full device refuses a directory's first block... */
	fill(t, "big");
	assert_ok(bento_test_mkdir(t->fs, "d", 0755));
	assert_err(bento_test_create(t->fs, "d/x", 0644), -ENOSPC);

	/* ... and gets it from blocks an unlink just freed. */
	assert_ok(bento_test_unlink(t->fs, "big"));
	assert_ok(bento_test_create(t->fs, "d/x", 0644));
	fill(t, "big");
	assert_ok(bento_test_mkdir(t->fs, "d/sub", 0755));
	assert_ok(bento_test_unlink(t->fs, "big"));
	assert_ok(bento_test_create(t->fs, "d/sub/y", 0644));

	/* Directory growth: enough names to need a second block. */
	fill(t, "big");
	assert_ok(bento_test_unlink(t->fs, "big"));
	for (i = 0; i < 200; i++) {
		snprintf(name, sizeof(name), "d/sub/name-%03d-padding-padding",
			 i);
		assert_ok(bento_test_create(t->fs, name, 0644));
	}

	/* A symlink's block. */
	fill(t, "big");
	assert_ok(bento_test_unlink(t->fs, "big"));
	assert_ok(bento_test_symlink(t->fs, "d/sub", "link"));

	/* An xattr block. */
	fill(t, "big");
	assert_ok(bento_test_unlink(t->fs, "big"));
	assert_ok(bento_test_setxattr(t->fs, "d/x", "user.k", "v", 1, 0));

	/* Indirect blocks: a write far into a new file. */
	fill(t, "big");
	assert_ok(bento_test_unlink(t->fs, "big"));
	assert_err(bento_test_pwrite(t->fs, "d/x", "y", 1, 600 * MIB), 1);
	xt_free(t);
}

static void test_efbig(void **state)
{
	struct xt *t = xt_new(4096, 0);
	struct bento_setattr sa = { .valid = BENTO_SET_SIZE };
	struct bento_attr a;
	char buf[8192];

	assert_ok(bento_test_create(t->fs, "f", 0644));
	memset(buf, 'e', sizeof(buf));

	/* At or past the largest size: EFBIG, nothing written. */
	assert_err(bento_test_pwrite(t->fs, "f", buf, 1, MAX_BYTES), -EFBIG);
	assert_err(bento_test_pwrite(t->fs, "f", buf, 1, 16ull << 40),
		   -EFBIG);
	assert_err(bento_test_pwrite(t->fs, "f", buf, 1, 1ull << 50), -EFBIG);
	assert_err(bento_test_pwrite(t->fs, "f", buf, 1, UINT64_MAX - 1),
		   -EFBIG);
	assert_int_equal(xt_size(t, "f"), 0);

	/* Across it: a short write up to the limit. */
	assert_err(bento_test_pwrite(t->fs, "f", buf, sizeof(buf),
				     MAX_BYTES - 100), 100);
	assert_int_equal(xt_size(t, "f"), MAX_BYTES);
	memset(buf, 0, sizeof(buf));
	assert_err(bento_test_pread(t->fs, "f", buf, sizeof(buf),
				    MAX_BYTES - 100), 100);
	assert_int_equal(buf[0], 'e');
	assert_int_equal(buf[99], 'e');

	/* setattr: the limit is fine, one byte more is EFBIG. */
	sa.size = MAX_BYTES + 1;
	assert_err(bento_test_setattr(t->fs, "f", &sa, &a), -EFBIG);
	sa.size = 16ull << 40;
	assert_err(bento_test_setattr(t->fs, "f", &sa, &a), -EFBIG);
	sa.size = MAX_BYTES;
	assert_ok(bento_test_setattr(t->fs, "f", &sa, &a));
	assert_int_equal(a.size, MAX_BYTES);
	assert_ok(bento_test_truncate(t->fs, "f", 0));
	xt_free(t);
}

/*
 * Reads across the block map's levels and holes: a file with data in
 * direct, single, double and triple indirect ranges, read back in
 * pieces that start and end inside blocks and cross level boundaries.
 */
static void test_read_runs_across_levels(void **state)
{
	static const uint64_t at[] = {
		0, 200 * 4096ull + 123, (12 + 1024) * 4096ull - 5000,
		(12 + 1024 + 1024 * 1024) * 4096ull - 3000,
	};
	struct xt *t = xt_new(8192, 0);
	size_t len = 64 * 1024, i, piece;
	char *buf = malloc(len), *got = malloc(len + 8192);

	assert_non_null(buf);
	assert_non_null(got);
	assert_ok(bento_test_create(t->fs, "f", 0644));
	for (i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
		xt_fill(buf, len, 7, at[i]);
		assert_err(bento_test_pwrite(t->fs, "f", buf, len, at[i]),
			   (long)len);
	}
	for (i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
		/* Whole, then in odd pieces. */
		assert_err(bento_test_pread(t->fs, "f", got, len, at[i]),
			   (long)len);
		assert_true(xt_check(got, len, 7, at[i]));
		for (piece = 0; piece < len; piece += 12345) {
			size_t n = len - piece < 12345 ? len - piece : 12345;

			assert_err(bento_test_pread(t->fs, "f", got, n,
						    at[i] + piece), (long)n);
			assert_true(xt_check(got, n, 7, at[i] + piece));
		}
		/* The hole before the data reads as zeroes. */
		if (at[i] >= 8192) {
			memset(got, 1, 8192);
			assert_err(bento_test_pread(t->fs, "f", got, 4096,
						    at[i] - 8192), 4096);
			for (piece = 0; piece < 4096; piece++)
				assert_int_equal(got[piece], 0);
		}
	}
	xt_remount(t);
	assert_err(bento_test_pread(t->fs, "f", got, len, at[3]), (long)len);
	assert_true(xt_check(got, len, 7, at[3]));
	assert_ok(bento_test_unlink(t->fs, "f"));
	free(buf);
	free(got);
	xt_free(t);
}

/*
 * Reads into buffers at every kind of alignment (the unaligned ones go
 * through the bounce area, 64 blocks at a time): a 2 MiB file read
 * whole and from odd offsets into buffers 0, 1, 16, 2048 and 4095 bytes
 * past a page.
 */
static void test_read_alignment(void **state)
{
	static const size_t shift[] = { 0, 1, 16, 2048, 4095 };
	static const uint64_t from[] = { 0, 100, 4096, 300000 };
	struct xt *t = xt_new(4096, 0);
	size_t len = 2 * MIB, i, j;
	char *buf = malloc(len), *mem;

	assert_non_null(buf);
	assert_int_equal(posix_memalign((void **)&mem, 4096, len + 8192), 0);
	xt_fill(buf, len, 11, 0);
	assert_ok(bento_test_write_file(t->fs, "f", buf, len));
	xt_remount(t);
	for (i = 0; i < sizeof(shift) / sizeof(shift[0]); i++) {
		for (j = 0; j < sizeof(from) / sizeof(from[0]); j++) {
			char *got = mem + shift[i];

			memset(mem, 0x5c, len + 8192);
			assert_err(bento_test_pread(t->fs, "f", got, len,
						    from[j]),
				   (long)(len - from[j]));
			assert_true(xt_check(got, len - from[j], 11, from[j]));
			/* Nothing written past the end or before the start. */
			assert_int_equal(got[len - from[j]], 0x5c);
			if (shift[i])
				assert_int_equal(got[-1], 0x5c);
		}
	}
	free(mem);
	free(buf);
	xt_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rounds_reuse_freed_blocks),
		cmocka_unit_test(test_concurrent_rounds),
		cmocka_unit_test(test_metadata_ops_reuse_freed_blocks),
		cmocka_unit_test(test_efbig),
		cmocka_unit_test(test_read_runs_across_levels),
		cmocka_unit_test(test_read_alignment),
	};

	return xt_run(tests);
}
