/*
 * names.c - the namespace: link counts, every rename case of rename(2)
 * and renameat2(2), and symlinks.
 */
#include <fcntl.h>

#include "common.h"

static void write_str(struct xt *t, const char *path, const char *s)
{
	assert_ok(bento_test_write_file(t->fs, path, s, strlen(s)));
}

static void expect_str(struct xt *t, const char *path, const char *s)
{
	void *data;
	size_t len;

	assert_ok(bento_test_read_file(t->fs, path, &data, &len));
	assert_int_equal(len, strlen(s));
	assert_memory_equal(data, s, len);
	free(data);
}

static bento_ino_t ino_of(struct xt *t, const char *path)
{
	struct bento_attr a;

	assert_ok(bento_test_stat(t->fs, path, &a));
	return a.ino;
}

static uint64_t ffree(struct xt *t)
{
	struct bento_statfs st;

	assert_ok(bento_test_statfs(t->fs, &st));
	return st.ffree;
}

static void test_link_counts(void **state)
{
	struct xt *t = xt_new(4096, 256);
	uint32_t root = xt_nlink(t, "");

	assert_int_equal(root, 2);

	/* Hard links of a file. */
	write_str(t, "a", "hello");
	assert_int_equal(xt_nlink(t, "a"), 1);
	assert_ok(bento_test_link(t->fs, "a", "b"));
	assert_int_equal(xt_nlink(t, "a"), 2);
	assert_int_equal(ino_of(t, "a"), ino_of(t, "b"));
	assert_err(bento_test_link(t->fs, "a", "b"), -EEXIST);
	assert_int_equal(xt_nlink(t, "b"), 2);
	assert_ok(bento_test_unlink(t->fs, "a"));
	assert_int_equal(xt_nlink(t, "b"), 1);
	expect_str(t, "b", "hello");
	assert_int_equal(xt_nlink(t, ""), root);

	/* Directories: "." and each child's "..". */
	assert_ok(bento_test_mkdir(t->fs, "d", 0755));
	assert_int_equal(xt_nlink(t, "d"), 2);
	assert_int_equal(xt_nlink(t, ""), root + 1);
	assert_ok(bento_test_mkdir(t->fs, "d/e", 0755));
	assert_ok(bento_test_mkdir(t->fs, "d/f", 0755));
	assert_int_equal(xt_nlink(t, "d"), 4);
	write_str(t, "d/file", "x");
	assert_int_equal(xt_nlink(t, "d"), 4);
	assert_err(bento_test_link(t->fs, "d/e", "d/e2"), -EPERM);
	assert_err(bento_test_rmdir(t->fs, "d"), -ENOTEMPTY);
	assert_err(bento_test_rmdir(t->fs, "d/file"), -ENOTDIR);
	assert_err(bento_test_unlink(t->fs, "d/e"), -EISDIR);
	assert_ok(bento_test_rmdir(t->fs, "d/e"));
	assert_int_equal(xt_nlink(t, "d"), 3);

	/* Moving a directory moves its "..". */
	assert_ok(bento_test_mkdir(t->fs, "g", 0755));
	assert_ok(bento_test_rename(t->fs, "d/f", "g/f", 0));
	assert_int_equal(xt_nlink(t, "d"), 2);
	assert_int_equal(xt_nlink(t, "g"), 3);
	assert_int_equal(xt_nlink(t, "g/f"), 2);
	assert_ok(bento_test_link(t->fs, "d/file", "g/f/file2"));
	assert_int_equal(xt_nlink(t, "d/file"), 2);

	xt_remount(t);
	assert_int_equal(xt_nlink(t, ""), root + 2);
	assert_int_equal(xt_nlink(t, "g"), 3);
	assert_int_equal(xt_nlink(t, "g/f/file2"), 2);
	assert_ok(bento_test_unlink(t->fs, "d/file"));
	assert_ok(bento_test_unlink(t->fs, "g/f/file2"));
	assert_ok(bento_test_rmdir(t->fs, "d"));
	assert_ok(bento_test_rmdir(t->fs, "g/f"));
	assert_ok(bento_test_rmdir(t->fs, "g"));
	assert_int_equal(xt_nlink(t, ""), root);
	assert_err(bento_test_rmdir(t->fs, "g"), -ENOENT);
	xt_free(t);
}

static void test_rename_files(void **state)
{
	struct xt *t = xt_new(4096, 256);
	uint64_t ff;
	bento_ino_t ia;

	assert_ok(bento_test_mkdir(t->fs, "d1", 0755));
	assert_ok(bento_test_mkdir(t->fs, "d2", 0755));

	/* Same directory. */
	write_str(t, "d1/a", "A");
	ia = ino_of(t, "d1/a");
	assert_ok(bento_test_rename(t->fs, "d1/a", "d1/b", 0));
	assert_err(bento_test_stat(t->fs, "d1/a", NULL), -ENOENT);
	expect_str(t, "d1/b", "A");
	assert_int_equal(ino_of(t, "d1/b"), ia);

	/* Across directories. */
	assert_ok(bento_test_rename(t->fs, "d1/b", "d2/c", 0));
	assert_err(bento_test_stat(t->fs, "d1/b", NULL), -ENOENT);
	expect_str(t, "d2/c", "A");

	/* Over a file: the old target's inode is freed. */
	write_str(t, "d1/x", "X");
	ff = ffree(t);
	assert_ok(bento_test_rename(t->fs, "d1/x", "d2/c", 0));
	expect_str(t, "d2/c", "X");
	assert_int_equal(ffree(t), ff + 1);
	assert_err(bento_test_rename(t->fs, "d1/nothing", "d2/c", 0),
		   -ENOENT);

	/* NOREPLACE. */
	write_str(t, "d1/y", "Y");
	assert_err(bento_test_rename(t->fs, "d1/y", "d2/c",
				     BENTO_RENAME_NOREPLACE), -EEXIST);
	expect_str(t, "d2/c", "X");
	assert_ok(bento_test_rename(t->fs, "d1/y", "d2/y",
				    BENTO_RENAME_NOREPLACE));
	expect_str(t, "d2/y", "Y");

	/* EXCHANGE of two files in different directories. */
	write_str(t, "d1/p", "P");
	assert_ok(bento_test_rename(t->fs, "d1/p", "d2/y",
				    BENTO_RENAME_EXCHANGE));
	expect_str(t, "d1/p", "Y");
	expect_str(t, "d2/y", "P");
	assert_err(bento_test_rename(t->fs, "d1/p", "d2/missing",
				     BENTO_RENAME_EXCHANGE), -ENOENT);

	xt_remount(t);
	expect_str(t, "d1/p", "Y");
	expect_str(t, "d2/y", "P");
	expect_str(t, "d2/c", "X");
	xt_free(t);
}

static void test_rename_dirs(void **state)
{
	struct xt *t = xt_new(4096, 256);
	struct bento_attr a;

	assert_ok(bento_test_mkdir(t->fs, "a", 0755));
	assert_ok(bento_test_mkdir(t->fs, "a/sub", 0755));
	assert_ok(bento_test_mkdir(t->fs, "a/sub/deep", 0755));
	assert_ok(bento_test_mkdir(t->fs, "empty", 0755));
	assert_ok(bento_test_mkdir(t->fs, "full", 0755));
	write_str(t, "full/f", "F");
	write_str(t, "file", "file");

	/* Into its own subtree. */
	assert_err(bento_test_rename(t->fs, "a", "a/sub/x", 0), -EINVAL);
	assert_err(bento_test_rename(t->fs, "a", "a/sub/deep/x", 0), -EINVAL);
	assert_ok(bento_test_stat(t->fs, "a/sub/deep", NULL));

	/* Type mismatches. */
	assert_err(bento_test_rename(t->fs, "file", "empty", 0), -EISDIR);
	assert_err(bento_test_rename(t->fs, "a", "file", 0), -ENOTDIR);

	/* Over a non-empty, then an empty directory. */
	assert_err(bento_test_rename(t->fs, "a", "full", 0), -ENOTEMPTY);
	assert_ok(bento_test_stat(t->fs, "full/f", NULL));
	assert_ok(bento_test_rename(t->fs, "a", "empty", 0));
	assert_err(bento_test_stat(t->fs, "a", NULL), -ENOENT);
	assert_ok(bento_test_stat(t->fs, "empty/sub/deep", &a));
	assert_true(S_ISDIR(a.mode));
	assert_int_equal(xt_nlink(t, ""), 4);	/* ., .., empty, full */

	/* Deeper to shallower, and EXCHANGE of a directory and a file. */
	assert_ok(bento_test_rename(t->fs, "empty/sub/deep", "deep", 0));
	assert_int_equal(xt_nlink(t, "empty/sub"), 2);
	assert_int_equal(xt_nlink(t, ""), 5);
	assert_ok(bento_test_rename(t->fs, "deep", "full/f",
				    BENTO_RENAME_EXCHANGE));
	assert_ok(bento_test_stat(t->fs, "full/f", &a));
	assert_true(S_ISDIR(a.mode));
	expect_str(t, "deep", "F");
	assert_int_equal(xt_nlink(t, ""), 4);
	assert_int_equal(xt_nlink(t, "full"), 3);

	/* An exchanged directory's ".." follows it. */
	assert_ok(bento_test_mkdir(t->fs, "full/f/child", 0755));
	assert_ok(bento_test_rmdir(t->fs, "full/f/child"));
	assert_ok(bento_test_rmdir(t->fs, "full/f"));
	assert_int_equal(xt_nlink(t, "full"), 2);

	xt_remount(t);
	assert_int_equal(xt_nlink(t, ""), 4);
	expect_str(t, "deep", "F");
	assert_ok(bento_test_stat(t->fs, "empty/sub", NULL));
	xt_free(t);
}

static void test_symlinks(void **state)
{
	struct xt *t = xt_new(4096, 256);
	char target[5000], back[5000];
	struct bento_attr a;
	uint64_t bfree = xt_bfree(t);

	assert_ok(bento_test_symlink(t->fs, "some/where", "s"));
	assert_ok(bento_test_stat(t->fs, "s", &a));
	assert_true(S_ISLNK(a.mode));
	assert_int_equal(a.size, 10);
	assert_int_equal(bento_test_readlink(t->fs, "s", back, sizeof(back)),
			 10);
	assert_string_equal(back, "some/where");
	assert_err(bento_test_symlink(t->fs, "x", "s"), -EEXIST);
	assert_err(bento_test_readlink(t->fs, "", back, sizeof(back)),
		   -EINVAL);

	/* A target of a whole block's worth fits; longer does not. */
	memset(target, 't', sizeof(target));
	target[4095] = '\0';
	assert_ok(bento_test_symlink(t->fs, target, "long"));
	assert_int_equal(bento_test_readlink(t->fs, "long", back,
					     sizeof(back)), 4095);
	assert_string_equal(back, target);
	target[4095] = 't';
	target[4999] = '\0';
	assert_err(bento_test_symlink(t->fs, target, "toolong"),
		   -ENAMETOOLONG);

	/* Links to a symlink, and freeing. */
	assert_ok(bento_test_link(t->fs, "long", "long2"));
	assert_int_equal(xt_nlink(t, "long"), 2);
	xt_remount(t);
	assert_int_equal(bento_test_readlink(t->fs, "long2", back,
					     sizeof(back)), 4095);
	assert_int_equal(bento_test_readlink(t->fs, "s", back, sizeof(back)),
			 10);
	assert_ok(bento_test_unlink(t->fs, "long"));
	assert_ok(bento_test_unlink(t->fs, "long2"));
	assert_ok(bento_test_unlink(t->fs, "s"));
	assert_int_equal(xt_bfree(t), bfree);
	xt_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_link_counts),
		cmocka_unit_test(test_rename_files),
		cmocka_unit_test(test_rename_dirs),
		cmocka_unit_test(test_symlinks),
	};

	return xt_run(tests);
}
