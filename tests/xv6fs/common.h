/*
 * common.h - what the xv6fs unit tests share: a fresh file system on a
 * memory disk that survives unmount (so a test can mount it again), and
 * assertion helpers that print the errno name on failure.
 *
 * Each test makes its image with the build's mkfs.xv6fs in a private
 * temporary directory, loads it onto a bento_rec with logging off, and
 * mounts xv6fs on it through the test host.  Teardown unmounts (which
 * must succeed with no lookup reference left) and removes the directory.
 */
#ifndef XV6FS_TESTS_COMMON_H
#define XV6FS_TESTS_COMMON_H

#include <stdarg.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "bento_test.h"

extern const struct bento_module bento_module_xv6fs;

struct xt {
	char dir[64];			/* private temporary directory */
	char img[96];			/* the mkfs'd image in it */
	struct bento_rec *disk;		/* the memory disk */
	struct bento_test_fs *fs;	/* xv6fs mounted on it, or NULL */
};

/*
 * xt_new - mkfs an image of @nblocks blocks and @ninodes inodes (0: the
 * default), mount it, and create the empty file "anchor" (so the root
 * directory never becomes empty).  Fails the running test on any error.
 */
struct xt *xt_new(uint64_t nblocks, uint64_t ninodes);

/* xt_remount - unmount (must succeed cleanly) and mount the same disk. */
void xt_remount(struct xt *t);

/* xt_free - unmount if mounted, free, remove the files.  NULL ignored. */
void xt_free(struct xt *t);

/* Fail the test with both errnos' names unless @got == @want. */
#define assert_err(got, want) \
	xt_assert_err((long)(got), (long)(want), #got, __FILE__, __LINE__)
#define assert_ok(got) assert_err(got, 0)
void xt_assert_err(long got, long want, const char *expr, const char *file,
		   int line);

/* xt_fill - a deterministic pattern for (@seed, byte offset @off). */
void xt_fill(void *buf, size_t len, uint64_t seed, uint64_t off);
/* xt_check - true if @buf holds xt_fill's pattern. */
bool xt_check(const void *buf, size_t len, uint64_t seed, uint64_t off);

/* xt_nlink, xt_size - of @path, failing the test if stat fails. */
uint32_t xt_nlink(struct xt *t, const char *path);
uint64_t xt_size(struct xt *t, const char *path);
/* xt_bfree - free blocks by statfs. */
uint64_t xt_bfree(struct xt *t);

/* xt_run - cmocka_run_group_tests with TAP output, line-buffered so a
 * slow test shows its progress in the log. */
#define xt_run(tests) \
	(setvbuf(stdout, NULL, _IOLBF, 0), \
	 cmocka_set_message_output(CM_OUTPUT_TAP), \
	 cmocka_run_group_tests(tests, NULL, NULL))

#endif /* XV6FS_TESTS_COMMON_H */
