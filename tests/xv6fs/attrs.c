/*
 * attrs.c - attributes: owner and mode, timestamps with nanoseconds, and
 * extended attributes.
 */
#include <fcntl.h>

#include "common.h"

static bool ts_le(struct bento_timespec a, struct bento_timespec b)
{
	return a.sec < b.sec || (a.sec == b.sec && a.nsec <= b.nsec);
}

static void assert_ts(struct bento_timespec got, int64_t sec, uint32_t nsec)
{
	if (got.sec != sec || got.nsec != nsec)
		fail_msg("time %lld.%09u, want %lld.%09u", (long long)got.sec,
			 got.nsec, (long long)sec, nsec);
}

static void test_owner_mode(void **state)
{
	struct xt *t = xt_new(4096, 256);
	struct bento_setattr sa = { 0 };
	struct bento_attr a;

	t->fs->ctx.uid = 1000;
	t->fs->ctx.gid = 100;
	assert_ok(bento_test_create(t->fs, "f", 0640));
	assert_ok(bento_test_mkdir(t->fs, "d", 0711));
	assert_ok(bento_test_mknod(t->fs, "fifo", S_IFIFO | 0600, 0));
	assert_ok(bento_test_mknod(t->fs, "chr", S_IFCHR | 0600, 0x0501));
	t->fs->ctx.uid = 0;
	t->fs->ctx.gid = 0;

	assert_ok(bento_test_stat(t->fs, "f", &a));
	assert_int_equal(a.mode, S_IFREG | 0640);
	assert_int_equal(a.uid, 1000);
	assert_int_equal(a.gid, 100);
	assert_ok(bento_test_stat(t->fs, "d", &a));
	assert_int_equal(a.mode, S_IFDIR | 0711);
	assert_ok(bento_test_stat(t->fs, "fifo", &a));
	assert_int_equal(a.mode, S_IFIFO | 0600);
	assert_ok(bento_test_stat(t->fs, "chr", &a));
	assert_int_equal(a.mode, S_IFCHR | 0600);
	assert_int_equal(a.rdev, 0x0501);

	sa.valid = BENTO_SET_MODE | BENTO_SET_UID | BENTO_SET_GID;
	sa.mode = 04755;
	sa.uid = 7;
	sa.gid = 8;
	assert_ok(bento_test_setattr(t->fs, "f", &sa, &a));
	assert_int_equal(a.mode, S_IFREG | 04755);
	assert_int_equal(a.uid, 7);
	assert_int_equal(a.gid, 8);

	xt_remount(t);
	assert_ok(bento_test_stat(t->fs, "f", &a));
	assert_int_equal(a.mode, S_IFREG | 04755);
	assert_int_equal(a.uid, 7);
	assert_int_equal(a.gid, 8);
	assert_ok(bento_test_stat(t->fs, "chr", &a));
	assert_int_equal(a.rdev, 0x0501);
	xt_free(t);
}

static void test_timestamps(void **state)
{
	struct xt *t = xt_new(4096, 256);
	struct bento_setattr sa = { 0 };
	struct bento_timespec t0, t1;
	struct bento_attr a, d0, d1;
	bool any_nsec = false;
	int i;

	/* Creation sets all three to now, with nanoseconds. */
	bento_now(&t0);
	assert_ok(bento_test_stat(t->fs, "", &d0));
	for (i = 0; i < 8; i++) {
		char name[8];

		snprintf(name, sizeof(name), "f%d", i);
		assert_ok(bento_test_create(t->fs, name, 0644));
		assert_ok(bento_test_stat(t->fs, name, &a));
		any_nsec |= a.mtime.nsec % 1000000 != 0;
	}
	bento_now(&t1);
	assert_true(any_nsec);
	assert_true(ts_le(t0, a.mtime) && ts_le(a.mtime, t1));
	assert_true(ts_le(t0, a.ctime) && ts_le(a.ctime, t1));
	assert_true(ts_le(t0, a.atime) && ts_le(a.atime, t1));
	assert_true(a.mtime.nsec < 1000000000u);

	/* The directory changed too. */
	assert_ok(bento_test_stat(t->fs, "", &d1));
	assert_true(ts_le(t0, d1.mtime) && ts_le(d1.mtime, t1));
	assert_true(ts_le(d0.mtime, d1.mtime));

	/* A write moves mtime and ctime. */
	bento_now(&t0);
	assert_int_equal(bento_test_pwrite(t->fs, "f0", "data", 4, 0), 4);
	assert_ok(bento_test_stat(t->fs, "f0", &a));
	assert_true(ts_le(t0, a.mtime) && ts_le(t0, a.ctime));

	/* Explicit times, exact to the nanosecond, far past and future. */
	sa.valid = BENTO_SET_ATIME | BENTO_SET_MTIME;
	sa.atime.sec = 1234567890;
	sa.atime.nsec = 123456789;
	sa.mtime.sec = 4102444800ll;	/* 2100, past 32 bits */
	sa.mtime.nsec = 999999999;
	bento_now(&t0);
	assert_ok(bento_test_setattr(t->fs, "f1", &sa, &a));
	assert_ts(a.atime, 1234567890, 123456789);
	assert_ts(a.mtime, 4102444800ll, 999999999);
	assert_true(ts_le(t0, a.ctime));	/* ctime is now */
	sa.valid = BENTO_SET_MTIME | BENTO_SET_CTIME;
	sa.mtime.sec = -1;		/* before the epoch */
	sa.mtime.nsec = 1;
	sa.ctime.sec = 1;
	sa.ctime.nsec = 2;
	assert_ok(bento_test_setattr(t->fs, "f2", &sa, &a));
	assert_ts(a.mtime, -1, 1);
	assert_ts(a.ctime, 1, 2);

	/* _NOW sets the current time. */
	sa.valid = BENTO_SET_ATIME_NOW | BENTO_SET_MTIME_NOW;
	bento_now(&t0);
	assert_ok(bento_test_setattr(t->fs, "f3", &sa, &a));
	bento_now(&t1);
	assert_true(ts_le(t0, a.atime) && ts_le(a.atime, t1));
	assert_true(ts_le(t0, a.mtime) && ts_le(a.mtime, t1));

	xt_remount(t);
	assert_ok(bento_test_stat(t->fs, "f1", &a));
	assert_ts(a.atime, 1234567890, 123456789);
	assert_ts(a.mtime, 4102444800ll, 999999999);
	assert_ok(bento_test_stat(t->fs, "f2", &a));
	assert_ts(a.mtime, -1, 1);
	assert_ts(a.ctime, 1, 2);
	xt_free(t);
}

static void test_xattrs(void **state)
{
	struct xt *t = xt_new(4096, 256);
	char buf[8192], name[64];
	uint64_t bfree;
	ssize_t n;
	int i, err;

	assert_ok(bento_test_create(t->fs, "f", 0644));
	bfree = xt_bfree(t);
	assert_err(bento_test_getxattr(t->fs, "f", "user.a", buf, sizeof(buf)),
		   -ENODATA);
	assert_int_equal(bento_test_listxattr(t->fs, "f", buf, sizeof(buf)),
			 0);

	/* Set, get, size queries. */
	assert_ok(bento_test_setxattr(t->fs, "f", "user.a", "one", 3, 0));
	assert_int_equal(bento_test_getxattr(t->fs, "f", "user.a", NULL, 0),
			 3);
	assert_int_equal(bento_test_getxattr(t->fs, "f", "user.a", buf,
					     sizeof(buf)), 3);
	assert_memory_equal(buf, "one", 3);
	assert_err(bento_test_getxattr(t->fs, "f", "user.a", buf, 2), -ERANGE);

	/* CREATE and REPLACE. */
	assert_err(bento_test_setxattr(t->fs, "f", "user.a", "x", 1,
				       BENTO_XATTR_CREATE), -EEXIST);
	assert_err(bento_test_setxattr(t->fs, "f", "user.b", "x", 1,
				       BENTO_XATTR_REPLACE), -ENODATA);
	assert_ok(bento_test_setxattr(t->fs, "f", "user.a", "longer value",
				      12, BENTO_XATTR_REPLACE));
	assert_ok(bento_test_setxattr(t->fs, "f", "trusted.b", "", 0,
				      BENTO_XATTR_CREATE));
	assert_int_equal(bento_test_getxattr(t->fs, "f", "trusted.b", buf,
					     sizeof(buf)), 0);

	/* The list: NUL-separated names, size rules. */
	n = bento_test_listxattr(t->fs, "f", NULL, 0);
	assert_int_equal(n, sizeof("user.a") + sizeof("trusted.b"));
	assert_err(bento_test_listxattr(t->fs, "f", buf, (size_t)n - 1),
		   -ERANGE);
	assert_int_equal(bento_test_listxattr(t->fs, "f", buf, sizeof(buf)),
			 n);
	assert_true((!strcmp(buf, "user.a") &&
		     !strcmp(buf + 7, "trusted.b")) ||
		    (!strcmp(buf, "trusted.b") && !strcmp(buf + 10, "user.a")));

	/* A value that can never fit, then fill the space. */
	memset(buf, 'v', sizeof(buf));
	assert_err(bento_test_setxattr(t->fs, "f", "user.huge", buf, 5000, 0),
		   -ERANGE);
	for (i = 0, err = 0; i < 1000 && !err; i++) {
		snprintf(name, sizeof(name), "user.fill%d", i);
		err = bento_test_setxattr(t->fs, "f", name, buf, 100, 0);
	}
	assert_err(err, -ENOSPC);
	assert_true(i > 10);
	print_message("# %d xattrs of 100 bytes fitted\n", i - 1);

	xt_remount(t);
	assert_int_equal(bento_test_getxattr(t->fs, "f", "user.a", buf,
					     sizeof(buf)), 12);
	assert_memory_equal(buf, "longer value", 12);
	assert_int_equal(bento_test_getxattr(t->fs, "f", "user.fill0", buf,
					     sizeof(buf)), 100);

	/* Remove. */
	assert_ok(bento_test_removexattr(t->fs, "f", "user.a"));
	assert_err(bento_test_removexattr(t->fs, "f", "user.a"), -ENODATA);
	assert_err(bento_test_getxattr(t->fs, "f", "user.a", buf, sizeof(buf)),
		   -ENODATA);

	/* Xattrs on a directory and a symlink; unlink frees the blocks. */
	assert_ok(bento_test_mkdir(t->fs, "d", 0755));
	assert_ok(bento_test_setxattr(t->fs, "d", "user.d", "dir", 3, 0));
	assert_ok(bento_test_rmdir(t->fs, "d"));
	assert_ok(bento_test_unlink(t->fs, "f"));
	assert_ok(bento_test_create(t->fs, "f", 0644));
	assert_int_equal(xt_bfree(t), bfree);
	xt_free(t);
}

/* Only the namespaces Linux knows are stored; others: EOPNOTSUPP. */
static void test_xattr_namespaces(void **state)
{
	static const char *const good[] = {
		"user.s", "trusted.s", "security.selinux",
		"system.posix_acl_access", "system.posix_acl_default",
	};
	static const char *const bad[] = {
		"bogus.s", "s", "system.other", "User.s", "userx.s", "",
	};
	struct xt *t = xt_new(1024, 0);
	char buf[64];
	size_t i;

	assert_ok(bento_test_create(t->fs, "f", 0644));
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_ok(bento_test_setxattr(t->fs, "f", good[i], "v", 1, 0));
		assert_int_equal(bento_test_getxattr(t->fs, "f", good[i], buf,
						     sizeof(buf)), 1);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_err(bento_test_setxattr(t->fs, "f", bad[i], "v", 1, 0),
			   -EOPNOTSUPP);
		assert_err(bento_test_getxattr(t->fs, "f", bad[i], buf,
					       sizeof(buf)), -EOPNOTSUPP);
		assert_err(bento_test_removexattr(t->fs, "f", bad[i]),
			   -EOPNOTSUPP);
	}
	/* A prefix alone names nothing. */
	assert_err(bento_test_setxattr(t->fs, "f", "user.", "v", 1, 0),
		   -EINVAL);
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_ok(bento_test_removexattr(t->fs, "f", good[i]));
	assert_int_equal(bento_test_listxattr(t->fs, "f", buf, sizeof(buf)),
			 0);
	xt_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_owner_mode),
		cmocka_unit_test(test_timestamps),
		cmocka_unit_test(test_xattrs),
		cmocka_unit_test(test_xattr_namespaces),
	};

	return xt_run(tests);
}
