/*
 * posix_test.c - POSIX behaviour of whatever file system holds a given
 * directory, printed as TAP.
 *
 *   posix_test [-k] DIR
 *
 * Makes DIR/posix_test.PID and runs each check in a subdirectory of its
 * own; -k keeps the tree afterwards.  tests/posix.t runs it on tmpfs (the
 * reference) and on an xv6fs mount served by `bento mount`, so a check
 * that fails on one only is a difference worth reading.
 *
 * It must run as root: the ownership checks chown files and drop to
 * uid/gid 65534 in a child process (and DIR's ancestors must let that
 * user through).  Checks that involve freeing space (unlink of an open
 * file, statfs) poll statfs for a few seconds, because a FUSE file
 * system frees an unlinked inode only when the kernel forgets it.
 *
 * Each check is a function; CHECK() records a failure with its line and
 * errno and carries on, so one run shows every difference.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <ftw.h>
#include <grp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#define MiB (1024 * 1024)
#define NOBODY 65534

static int check_failed;	/* failures in the current check */

static void __attribute__((format(printf, 3, 4)))
fail(int line, const char *expr, const char *fmt, ...)
{
	va_list ap;

	printf("#   line %d: %s", line, expr);
	if (fmt && *fmt) {
		printf(" (");
		va_start(ap, fmt);
		vprintf(fmt, ap);
		va_end(ap);
		printf(")");
	}
	printf("\n");
	check_failed++;
}

/* CHECK(cond): record a failure, with errno, and go on. */
#define CHECK(cond)							\
	do {								\
		int e_ = errno;						\
		if (!(cond))						\
			fail(__LINE__, #cond, "errno %d %s", e_,	\
			     strerror(e_));				\
	} while (0)

/* CHECK_ERR(call, E): the call fails with errno E. */
#define CHECK_ERR(call, want)						\
	do {								\
		errno = 0;						\
		long r_ = (long)(call);					\
		int e_ = errno;						\
		if (r_ != -1 || e_ != (want))				\
			fail(__LINE__, #call, "returned %ld errno %s, want %s", \
			     r_, strerror(e_), strerror(want));		\
	} while (0)

/* CHECK_EQ(a, b) on integers, showing both. */
#define CHECK_EQ(a, b)							\
	do {								\
		long long a_ = (long long)(a), b_ = (long long)(b);	\
		if (a_ != b_)						\
			fail(__LINE__, #a " == " #b, "%lld != %lld", a_, b_); \
	} while (0)

/* ---- helpers ------------------------------------------------------------- */

static void fill_pattern(char *buf, size_t len, unsigned int seed, off_t off)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = (char)((off + (off_t)i) * 31 + seed * 7 +
				((off + (off_t)i) >> 12));
}

static bool check_pattern(const char *buf, size_t len, unsigned int seed,
			  off_t off)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (buf[i] != (char)((off + (off_t)i) * 31 + seed * 7 +
				     ((off + (off_t)i) >> 12)))
			return false;
	return true;
}

static int write_file(const char *path, const char *data, size_t len)
{
	int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0644);

	if (fd < 0)
		return -1;
	if (write(fd, data, len) != (ssize_t)len) {
		close(fd);
		return -1;
	}
	return close(fd);
}

/* Read up to @size bytes of @path into @buf; returns the count or -1. */
static ssize_t read_file(const char *path, char *buf, size_t size)
{
	ssize_t n, total = 0;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return -1;
	while ((size_t)total < size &&
	       (n = read(fd, buf + total, size - (size_t)total)) > 0)
		total += n;
	close(fd);
	return total;
}

static bool file_is(const char *path, const char *want)
{
	char buf[256];
	ssize_t n = read_file(path, buf, sizeof(buf) - 1);

	if (n < 0)
		return false;
	buf[n] = '\0';
	return strcmp(buf, want) == 0;
}

/* Write @len bytes of pattern @seed to @fd at its offset, and fsync. */
static int write_pattern(int fd, size_t len, unsigned int seed)
{
	char *buf = malloc(MiB);
	off_t off = 0;
	int err = 0;

	if (!buf)
		return -1;
	while (len && !err) {
		size_t n = len < MiB ? len : MiB;

		fill_pattern(buf, n, seed, off);
		if (write(fd, buf, n) != (ssize_t)n)
			err = -1;
		off += (off_t)n;
		len -= n;
	}
	free(buf);
	return err ? err : fsync(fd);
}

static unsigned long long free_blocks(void)
{
	struct statvfs sv;

	if (statvfs(".", &sv))
		return 0;
	return sv.f_bfree * (sv.f_frsize / 4096);	/* in 4 KiB units */
}

/* Poll statfs until free 4 KiB blocks reach @want (5 s at most). */
static unsigned long long wait_free(unsigned long long want)
{
	unsigned long long f = 0;
	int i;

	for (i = 0; i < 100; i++) {
		f = free_blocks();
		if (f >= want)
			break;
		usleep(50000);
	}
	return f;
}

/* ---- the checks -------------------------------------------------------- */

static void t_create_rw_seek(void)
{
	char buf[10000], back[10000];
	struct stat st;
	int fd;

	fill_pattern(buf, sizeof(buf), 1, 0);
	fd = open("f", O_CREAT | O_RDWR, 0644);
	CHECK(fd >= 0);
	CHECK_EQ(write(fd, buf, sizeof(buf)), sizeof(buf));
	CHECK_EQ(lseek(fd, 0, SEEK_SET), 0);
	CHECK_EQ(read(fd, back, sizeof(back)), sizeof(back));
	CHECK(memcmp(buf, back, sizeof(buf)) == 0);
	CHECK_EQ(read(fd, back, 1), 0);			/* at EOF */
	CHECK_EQ(lseek(fd, 0, SEEK_END), sizeof(buf));
	CHECK_EQ(lseek(fd, -100, SEEK_CUR), sizeof(buf) - 100);
	CHECK_EQ(read(fd, back, 200), 100);
	CHECK(memcmp(back, buf + sizeof(buf) - 100, 100) == 0);

	/* pwrite in the middle, then a hole past the end. */
	CHECK_EQ(pwrite(fd, "XYZ", 3, 5000), 3);
	CHECK_EQ(pread(fd, back, 3, 5000), 3);
	CHECK(memcmp(back, "XYZ", 3) == 0);
	CHECK_EQ(pwrite(fd, "end", 3, 3 * MiB), 3);
	CHECK(fstat(fd, &st) == 0);
	CHECK_EQ(st.st_size, 3 * MiB + 3);
	CHECK_EQ(pread(fd, back, 4096, 2 * MiB), 4096);
	memset(buf, 0, 4096);
	CHECK(memcmp(back, buf, 4096) == 0);		/* hole reads 0 */
	CHECK(close(fd) == 0);

	/* Read back through a fresh descriptor. */
	CHECK_EQ(read_file("f", back, 3), 3);
	fill_pattern(buf, 3, 1, 0);
	CHECK(memcmp(back, buf, 3) == 0);
	CHECK(stat("f", &st) == 0 && S_ISREG(st.st_mode));
	CHECK_ERR(open("missing", O_RDONLY), ENOENT);
	CHECK_ERR(open("f/x", O_RDONLY), ENOTDIR);
}

static void t_append(void)
{
	char buf[64];
	int fd;

	CHECK(write_file("a", "0123456789", 10) == 0);
	fd = open("a", O_WRONLY | O_APPEND);
	CHECK(fd >= 0);
	CHECK_EQ(lseek(fd, 0, SEEK_SET), 0);
	CHECK_EQ(write(fd, "abc", 3), 3);	/* goes to the end anyway */
	CHECK_EQ(lseek(fd, 0, SEEK_CUR), 13);
	CHECK_EQ(write(fd, "de", 2), 2);
	CHECK(close(fd) == 0);
	CHECK_EQ(read_file("a", buf, sizeof(buf) - 1), 15);
	CHECK(file_is("a", "0123456789abcde"));
}

static void t_excl(void)
{
	int fd;

	fd = open("x", O_CREAT | O_EXCL | O_WRONLY, 0600);
	CHECK(fd >= 0);
	CHECK(close(fd) == 0);
	CHECK_ERR(open("x", O_CREAT | O_EXCL | O_WRONLY, 0600), EEXIST);
	CHECK(mkdir("d", 0755) == 0);
	CHECK_ERR(open("d", O_CREAT | O_EXCL | O_WRONLY, 0600), EEXIST);
	CHECK_ERR(mkdir("d", 0755), EEXIST);
	CHECK_ERR(mkdir("x", 0755), EEXIST);
	CHECK(symlink("nowhere", "dangling") == 0);
	CHECK_ERR(open("dangling", O_CREAT | O_EXCL | O_WRONLY, 0600), EEXIST);
}

static void t_trunc_open(void)
{
	struct stat st;
	int fd;

	CHECK(write_file("t", "some content", 12) == 0);
	fd = open("t", O_RDWR | O_TRUNC);
	CHECK(fd >= 0);
	CHECK(fstat(fd, &st) == 0);
	CHECK_EQ(st.st_size, 0);
	CHECK_EQ(write(fd, "new", 3), 3);
	CHECK(close(fd) == 0);
	CHECK(file_is("t", "new"));
	CHECK(stat("t", &st) == 0);
	CHECK_EQ(st.st_size, 3);
}

static void t_perms_root(void)
{
	struct stat st;
	mode_t old = umask(022);
	int fd;

	/* The umask applies to what is created. */
	fd = open("f", O_CREAT | O_WRONLY, 0666);
	CHECK(fd >= 0);
	close(fd);
	CHECK(stat("f", &st) == 0);
	CHECK_EQ(st.st_mode & 07777, 0644);
	CHECK(mkdir("d", 0777) == 0);
	CHECK(stat("d", &st) == 0);
	CHECK_EQ(st.st_mode & 07777, 0755);
	umask(077);
	fd = open("g", O_CREAT | O_WRONLY, 0666);
	CHECK(fd >= 0);
	close(fd);
	CHECK(stat("g", &st) == 0);
	CHECK_EQ(st.st_mode & 07777, 0600);
	umask(old);

	/* Owner, group and mode, with ctime moving. */
	CHECK(chmod("f", 04751) == 0);
	CHECK(stat("f", &st) == 0);
	CHECK_EQ(st.st_mode & 07777, 04751);
	CHECK(chown("f", 1234, 5678) == 0);
	CHECK(stat("f", &st) == 0);
	CHECK_EQ(st.st_uid, 1234);
	CHECK_EQ(st.st_gid, 5678);
	CHECK_EQ(st.st_mode & 07000, 0);	/* chown clears setuid */

	/* Root is not stopped by mode bits. */
	CHECK(chmod("f", 0) == 0);
	fd = open("f", O_RDWR);
	CHECK(fd >= 0);
	if (fd >= 0)
		close(fd);
	CHECK(chown("f", 0, 0) == 0);
}

/*
 * As uid/gid 65534 in a child: the kernel (default_permissions) must
 * apply mode bits, and new files must belong to the caller.  The child
 * reports failures on stdout like the parent and exits with their count.
 */
static void as_nobody(void)
{
	struct stat st;
	int fd;

	CHECK_ERR(open("secret", O_RDONLY), EACCES);
	CHECK_ERR(open("rodir/new", O_CREAT | O_WRONLY, 0644), EACCES);
	CHECK_ERR(unlink("rodir/file"), EACCES);
	CHECK_ERR(chmod("secret", 0644), EPERM);
	CHECK_ERR(chown("public", NOBODY, NOBODY), EPERM);
	CHECK(file_is("public", "pub"));
	CHECK_ERR(open("public", O_WRONLY), EACCES);

	fd = open("open/mine", O_CREAT | O_WRONLY, 0640);
	CHECK(fd >= 0);
	if (fd >= 0) {
		CHECK_EQ(write(fd, "m", 1), 1);
		close(fd);
	}
	CHECK(stat("open/mine", &st) == 0);
	CHECK_EQ(st.st_uid, NOBODY);
	CHECK_EQ(st.st_gid, NOBODY);
	CHECK(mkdir("open/mydir", 0700) == 0);
	CHECK(stat("open/mydir", &st) == 0);
	CHECK_EQ(st.st_uid, NOBODY);
	CHECK(chmod("open/mine", 0600) == 0);	/* own file: allowed */
	CHECK_ERR(chown("open/mine", 0, 0), EPERM);
	CHECK_ERR(truncate("secret", 0), EACCES);
	CHECK_ERR(utimensat(AT_FDCWD, "public", NULL, 0), EACCES);
}

static void t_perms_user(void)
{
	struct stat st;
	pid_t pid;
	int status;

	CHECK(geteuid() == 0);	/* this check needs root */
	if (geteuid() != 0)
		return;
	CHECK(write_file("secret", "s", 1) == 0);
	CHECK(chmod("secret", 0600) == 0);
	CHECK(write_file("public", "pub", 3) == 0);
	CHECK(chmod("public", 0644) == 0);
	CHECK(mkdir("rodir", 0755) == 0);
	CHECK(write_file("rodir/file", "f", 1) == 0);
	CHECK(mkdir("open", 0777) == 0);
	CHECK(chmod("open", 0777) == 0);

	fflush(stdout);
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		if (setgroups(0, NULL) || setgid(NOBODY) || setuid(NOBODY)) {
			printf("#   cannot become %d: %s\n", NOBODY,
			       strerror(errno));
			_exit(100);
		}
		as_nobody();
		fflush(stdout);
		_exit(check_failed > 99 ? 99 : check_failed);
	}
	CHECK(waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status));
	if (WIFEXITED(status))
		check_failed += WEXITSTATUS(status);

	/* What the child made is still its. */
	CHECK(stat("open/mine", &st) == 0);
	CHECK_EQ(st.st_uid, NOBODY);
	CHECK(file_is("open/mine", "m"));
}

static void t_rename(void)
{
	struct stat a, b;

	/* Over a file: the target is replaced, the inode moves. */
	CHECK(write_file("a", "A", 1) == 0);
	CHECK(write_file("b", "B", 1) == 0);
	CHECK(stat("a", &a) == 0);
	CHECK(rename("a", "b") == 0);
	CHECK_ERR(stat("a", &b), ENOENT);
	CHECK(stat("b", &b) == 0);
	CHECK_EQ(a.st_ino, b.st_ino);
	CHECK(file_is("b", "A"));

	/* Over an empty directory: fine; over a full one: ENOTEMPTY. */
	CHECK(mkdir("d1", 0755) == 0);
	CHECK(write_file("d1/in", "in", 2) == 0);
	CHECK(mkdir("d2", 0755) == 0);
	CHECK(rename("d1", "d2") == 0);
	CHECK(file_is("d2/in", "in"));
	CHECK_ERR(stat("d1", &a), ENOENT);
	CHECK(mkdir("d3", 0755) == 0);
	CHECK(mkdir("d3/sub", 0755) == 0);
	CHECK_ERR(rename("d2", "d3"), ENOTEMPTY);

	/* Mismatched types. */
	CHECK_ERR(rename("b", "d3"), EISDIR);
	CHECK_ERR(rename("d3", "b"), ENOTDIR);

	/* Across directories, and onto itself. */
	CHECK(rename("b", "d3/sub/b") == 0);
	CHECK(file_is("d3/sub/b", "A"));
	CHECK(rename("d3/sub/b", "d3/sub/b") == 0);
	CHECK(file_is("d3/sub/b", "A"));
	CHECK_ERR(rename("missing", "x"), ENOENT);

	/* Hard links to one inode: rename(2) does nothing. */
	CHECK(link("d3/sub/b", "b2") == 0);
	CHECK(rename("b2", "d3/sub/b") == 0);
	CHECK(stat("b2", &a) == 0);
}

static void t_rename_subtree(void)
{
	struct stat st;

	CHECK(mkdir("a", 0755) == 0);
	CHECK(mkdir("a/b", 0755) == 0);
	CHECK(mkdir("a/b/c", 0755) == 0);
	CHECK_ERR(rename("a", "a/b/c/x"), EINVAL);
	CHECK_ERR(rename("a", "a/b/x"), EINVAL);
	CHECK_ERR(rename("a/b", "a/b/c/x"), EINVAL);
	CHECK(stat("a/b/c", &st) == 0 && S_ISDIR(st.st_mode));
	/* Moving up is fine, and ".." follows. */
	CHECK(rename("a/b/c", "c") == 0);
	CHECK(mkdir("c/d", 0755) == 0);
	CHECK(rename("a", "c/d/a") == 0);
	CHECK(stat("c/d/a/b/../../../d", &st) == 0);
}

static void t_renameat2(void)
{
	struct stat a, b, a2, b2;

	CHECK(write_file("a", "A", 1) == 0);
	CHECK(write_file("b", "B", 1) == 0);
	CHECK(mkdir("d", 0755) == 0);
	CHECK(write_file("d/in", "in", 2) == 0);

	/* NOREPLACE: refuses an existing target, else renames. */
	CHECK_ERR(renameat2(AT_FDCWD, "a", AT_FDCWD, "b", RENAME_NOREPLACE),
		  EEXIST);
	CHECK(file_is("a", "A") && file_is("b", "B"));
	CHECK(renameat2(AT_FDCWD, "a", AT_FDCWD, "c", RENAME_NOREPLACE) == 0);
	CHECK(file_is("c", "A"));
	CHECK_ERR(stat("a", &a), ENOENT);

	/* EXCHANGE: both must exist; they swap, also file <-> dir. */
	CHECK(stat("b", &b) == 0 && stat("c", &a) == 0);
	CHECK(renameat2(AT_FDCWD, "b", AT_FDCWD, "c", RENAME_EXCHANGE) == 0);
	CHECK(stat("b", &b2) == 0 && stat("c", &a2) == 0);
	CHECK_EQ(b2.st_ino, a.st_ino);
	CHECK_EQ(a2.st_ino, b.st_ino);
	CHECK(file_is("b", "A") && file_is("c", "B"));
	CHECK(renameat2(AT_FDCWD, "b", AT_FDCWD, "d", RENAME_EXCHANGE) == 0);
	CHECK(file_is("b/in", "in"));
	CHECK(file_is("d", "A"));
	CHECK_ERR(renameat2(AT_FDCWD, "b", AT_FDCWD, "nope", RENAME_EXCHANGE),
		  ENOENT);
	CHECK_ERR(renameat2(AT_FDCWD, "b", AT_FDCWD, "c",
			    RENAME_EXCHANGE | RENAME_NOREPLACE), EINVAL);
}

static void t_links(void)
{
	struct stat a, b;

	CHECK(write_file("a", "data", 4) == 0);
	CHECK(link("a", "b") == 0);
	CHECK(stat("a", &a) == 0 && stat("b", &b) == 0);
	CHECK_EQ(a.st_ino, b.st_ino);
	CHECK_EQ(a.st_nlink, 2);
	CHECK(mkdir("d", 0755) == 0);
	CHECK(link("a", "d/c") == 0);
	CHECK(stat("b", &b) == 0);
	CHECK_EQ(b.st_nlink, 3);
	CHECK_ERR(link("a", "b"), EEXIST);
	CHECK_ERR(link("d", "dlink"), EPERM);
	CHECK_ERR(link("missing", "x"), ENOENT);

	CHECK(unlink("a") == 0);
	CHECK(stat("b", &b) == 0);
	CHECK_EQ(b.st_nlink, 2);
	CHECK(file_is("d/c", "data"));
	CHECK(unlink("d/c") == 0);
	CHECK(stat("b", &b) == 0);
	CHECK_EQ(b.st_nlink, 1);
	CHECK(file_is("b", "data"));
}

static void t_symlinks(void)
{
	char buf[2048], target[1001];
	struct stat st;
	ssize_t n;

	CHECK(write_file("file", "via link", 8) == 0);
	CHECK(symlink("file", "l") == 0);
	CHECK(lstat("l", &st) == 0 && S_ISLNK(st.st_mode));
	CHECK_EQ(st.st_size, 4);
	n = readlink("l", buf, sizeof(buf));
	CHECK_EQ(n, 4);
	CHECK(n == 4 && memcmp(buf, "file", 4) == 0);
	CHECK(file_is("l", "via link"));
	CHECK(stat("l", &st) == 0 && S_ISREG(st.st_mode));

	CHECK(symlink("no/such/target", "dangling") == 0);
	CHECK_ERR(stat("dangling", &st), ENOENT);
	CHECK(lstat("dangling", &st) == 0);
	CHECK_ERR(readlink("file", buf, sizeof(buf)), EINVAL);
	CHECK_ERR(symlink("x", "l"), EEXIST);

	/* A long target survives intact. */
	memset(target, 'x', 1000);
	for (n = 0; n < 1000; n += 50)
		target[n] = '/';
	target[1000] = '\0';
	CHECK(symlink(target, "long") == 0);
	n = readlink("long", buf, sizeof(buf));
	CHECK_EQ(n, 1000);
	CHECK(n == 1000 && memcmp(buf, target, 1000) == 0);

	/* A directory symlink resolves in the middle of a path. */
	CHECK(mkdir("dir", 0755) == 0);
	CHECK(write_file("dir/f", "deep", 4) == 0);
	CHECK(symlink("dir", "dl") == 0);
	CHECK(file_is("dl/f", "deep"));
}

static void t_unlink_open(void)
{
	unsigned long long before, full, after;
	char buf[4096];
	struct stat st;
	int fd;

	before = free_blocks();
	fd = open("victim", O_CREAT | O_RDWR, 0644);
	CHECK(fd >= 0);
	CHECK(write_pattern(fd, 8 * MiB, 3) == 0);
	full = free_blocks();
	CHECK(full + 1800 <= before);	/* 2048 blocks went */

	CHECK(unlink("victim") == 0);
	CHECK_ERR(stat("victim", &st), ENOENT);
	CHECK(fstat(fd, &st) == 0);
	CHECK_EQ(st.st_nlink, 0);
	CHECK_EQ(st.st_size, 8 * MiB);
	CHECK_EQ(pread(fd, buf, sizeof(buf), 5 * MiB), sizeof(buf));
	CHECK(check_pattern(buf, sizeof(buf), 3, 5 * MiB));
	CHECK_EQ(pwrite(fd, "still", 5, 0), 5);		/* still writable */
	CHECK(fsync(fd) == 0);
	CHECK(free_blocks() + 1800 <= before);		/* not freed yet */

	CHECK(close(fd) == 0);
	after = wait_free(before - 64);
	CHECK(after + 64 >= before);			/* freed after close */
	if (after + 64 < before)
		printf("#   free blocks: %llu before, %llu full, %llu after close\n",
		       before, full, after);
}

static void t_rmdir(void)
{
	struct stat st;

	CHECK(mkdir("d", 0755) == 0);
	CHECK(write_file("d/f", "x", 1) == 0);
	CHECK_ERR(rmdir("d"), ENOTEMPTY);
	CHECK(mkdir("d/sub", 0755) == 0);
	CHECK(unlink("d/f") == 0);
	CHECK_ERR(rmdir("d"), ENOTEMPTY);
	CHECK(rmdir("d/sub") == 0);
	CHECK(rmdir("d") == 0);
	CHECK_ERR(stat("d", &st), ENOENT);
	CHECK(write_file("f", "x", 1) == 0);
	CHECK_ERR(rmdir("f"), ENOTDIR);
	CHECK(mkdir("e", 0755) == 0);
	CHECK_ERR(unlink("e"), EISDIR);
	CHECK_ERR(rmdir("missing"), ENOENT);
}

/* ---- concurrency ------------------------------------------------------- */

#define RD_BASE 300	/* files present for the whole listing */
#define RD_THREADS 4
#define RD_PER_THREAD 150

static void *rd_creator(void *arg)
{
	long t = (long)arg;
	char name[64];
	int i, bad = 0;

	for (i = 0; i < RD_PER_THREAD; i++) {
		snprintf(name, sizeof(name), "new-%ld-%d", t, i);
		if (write_file(name, "", 0))
			bad++;
	}
	return (void *)(long)bad;
}

/*
 * List "." once.  Every "base-N" must appear exactly once, no name may
 * repeat.  Returns the number of entries, or -1 (failure recorded).
 */
static int list_once(unsigned char *seen_base, bool final)
{
	char (*names)[256];
	struct dirent *de;
	int n = 0, i, dups = 0, cap = RD_BASE + RD_THREADS * RD_PER_THREAD + 8;
	DIR *d = opendir(".");

	CHECK(d != NULL);
	names = calloc((size_t)cap, sizeof(*names));
	if (!d || !names) {
		if (d)
			closedir(d);
		free(names);
		return -1;
	}
	memset(seen_base, 0, RD_BASE);
	while ((de = readdir(d))) {
		int k;

		if (sscanf(de->d_name, "base-%d", &k) == 1 && k >= 0 &&
		    k < RD_BASE)
			seen_base[k]++;
		if (n < cap)
			snprintf(names[n++], sizeof(*names), "%s", de->d_name);
	}
	closedir(d);

	/* Duplicates: sort and compare neighbours. */
	qsort(names, (size_t)n, sizeof(*names),
	      (int (*)(const void *, const void *))strcmp);
	for (i = 1; i < n; i++)
		if (strcmp(names[i], names[i - 1]) == 0)
			dups++;
	CHECK_EQ(dups, 0);
	for (i = 0; i < RD_BASE; i++)
		if (seen_base[i] != 1) {
			fail(__LINE__, "every base file once",
			     "base-%d seen %d times%s", i, seen_base[i],
			     final ? " (final)" : "");
			break;
		}
	free(names);
	return n;
}

static void t_readdir_concurrent(void)
{
	unsigned char seen[RD_BASE];
	pthread_t th[RD_THREADS];
	char name[64];
	long t;
	void *ret;
	int i, listings = 0, n;

	for (i = 0; i < RD_BASE; i++) {
		snprintf(name, sizeof(name), "base-%d", i);
		CHECK(write_file(name, "", 0) == 0);
	}
	for (t = 0; t < RD_THREADS; t++)
		CHECK(pthread_create(&th[t], NULL, rd_creator, (void *)t) == 0);
	/* List while they create: at least a few times. */
	for (i = 0; i < 200 && check_failed == 0; i++) {
		list_once(seen, false);
		listings++;
		if (i >= 5) {
			struct stat st;

			snprintf(name, sizeof(name), "new-%d-%d",
				 RD_THREADS - 1, RD_PER_THREAD - 1);
			if (stat(name, &st) == 0)
				break;
		}
	}
	for (t = 0; t < RD_THREADS; t++) {
		CHECK(pthread_join(th[t], &ret) == 0);
		CHECK_EQ((long)ret, 0);
	}
	n = list_once(seen, true);
	CHECK_EQ(n, 2 + RD_BASE + RD_THREADS * RD_PER_THREAD);
	printf("#   %d listings during the creates\n", listings);
}

#define TW_THREADS 8
#define TW_SIZE (2 * MiB)

static void *tw_writer(void *arg)
{
	unsigned int seed = (unsigned int)(long)arg;
	char name[32], *buf = malloc(TW_SIZE);
	size_t off = 0;
	long bad = 0;
	int fd;

	snprintf(name, sizeof(name), "w%u", seed);
	fd = open(name, O_CREAT | O_RDWR | O_TRUNC, 0644);
	if (fd < 0 || !buf) {
		free(buf);
		return (void *)1L;
	}
	/* Uneven chunks, so writes straddle block boundaries. */
	fill_pattern(buf, TW_SIZE, seed, 0);
	while (off < TW_SIZE) {
		size_t n = 1000 + (off * 7 + seed * 131) % 70000;

		if (n > TW_SIZE - off)
			n = TW_SIZE - off;
		if (pwrite(fd, buf + off, n, (off_t)off) != (ssize_t)n)
			bad++;
		off += n;
	}
	if (fsync(fd))
		bad++;
	memset(buf, 0, TW_SIZE);
	if (pread(fd, buf, TW_SIZE, 0) != TW_SIZE ||
	    !check_pattern(buf, TW_SIZE, seed, 0))
		bad++;
	close(fd);
	free(buf);
	return (void *)bad;
}

static void t_threads_write(void)
{
	pthread_t th[TW_THREADS];
	char name[32], *buf = malloc(TW_SIZE);
	void *ret;
	long t;

	CHECK(buf != NULL);
	if (!buf)
		return;
	for (t = 0; t < TW_THREADS; t++)
		CHECK(pthread_create(&th[t], NULL, tw_writer, (void *)t) == 0);
	for (t = 0; t < TW_THREADS; t++) {
		CHECK(pthread_join(th[t], &ret) == 0);
		CHECK_EQ((long)ret, 0);
	}
	/* Each file holds its own pattern, read again from the start. */
	for (t = 0; t < TW_THREADS; t++) {
		snprintf(name, sizeof(name), "w%ld", t);
		CHECK_EQ(read_file(name, buf, TW_SIZE), TW_SIZE);
		CHECK(check_pattern(buf, TW_SIZE, (unsigned int)t, 0));
	}
	free(buf);
}

/* ---- space, time, size, xattrs ----------------------------------------- */

static void t_statfs(void)
{
	unsigned long long before, during, after;
	struct statvfs sv;
	int fd;

	CHECK(statvfs(".", &sv) == 0);
	CHECK(sv.f_blocks > 0);
	CHECK(sv.f_bfree <= sv.f_blocks);
	CHECK(sv.f_bavail <= sv.f_bfree);
	CHECK(sv.f_namemax >= 255);

	before = free_blocks();
	fd = open("big", O_CREAT | O_WRONLY, 0644);
	CHECK(fd >= 0);
	CHECK(write_pattern(fd, 16 * MiB, 4) == 0);
	CHECK(close(fd) == 0);
	during = free_blocks();
	CHECK(during + 3600 <= before);		/* 4096 blocks of data */
	CHECK(during + 4096 + 600 >= before);	/* and not much more */
	CHECK(unlink("big") == 0);
	after = wait_free(before - 64);
	CHECK(after + 64 >= before);
	printf("#   free 4 KiB blocks: %llu, %llu with 16 MiB, %llu after unlink\n",
	       before, during, after);
}

static void t_utimens(void)
{
	struct timespec ts[2] = {
		{ .tv_sec = 1234567890, .tv_nsec = 123456789 },
		{ .tv_sec = 1600000000, .tv_nsec = 987654321 },
	};
	struct stat st, st2;
	time_t now = time(NULL);

	CHECK(write_file("f", "t", 1) == 0);
	CHECK(utimensat(AT_FDCWD, "f", ts, 0) == 0);
	CHECK(stat("f", &st) == 0);
	CHECK_EQ(st.st_atim.tv_sec, 1234567890);
	CHECK_EQ(st.st_atim.tv_nsec, 123456789);
	CHECK_EQ(st.st_mtim.tv_sec, 1600000000);
	CHECK_EQ(st.st_mtim.tv_nsec, 987654321);
	CHECK(st.st_ctim.tv_sec >= now - 5);	/* ctime moved to now */

	/* UTIME_OMIT keeps one, UTIME_NOW sets the other to now. */
	ts[0].tv_nsec = UTIME_OMIT;
	ts[1].tv_nsec = UTIME_NOW;
	CHECK(utimensat(AT_FDCWD, "f", ts, 0) == 0);
	CHECK(stat("f", &st2) == 0);
	CHECK_EQ(st2.st_atim.tv_sec, 1234567890);
	CHECK_EQ(st2.st_atim.tv_nsec, 123456789);
	CHECK(st2.st_mtim.tv_sec >= now - 5 && st2.st_mtim.tv_sec <= now + 5);

	/* Directories too, and the times survive a write elsewhere. */
	CHECK(mkdir("d", 0755) == 0);
	ts[0].tv_nsec = 1;
	ts[1].tv_sec = 1000000000;
	ts[1].tv_nsec = 999999999;
	CHECK(utimensat(AT_FDCWD, "d", ts, 0) == 0);
	CHECK(stat("d", &st) == 0);
	CHECK_EQ(st.st_mtim.tv_sec, 1000000000);
	CHECK_EQ(st.st_mtim.tv_nsec, 999999999);
	CHECK_EQ(st.st_atim.tv_nsec, 1);

	/* A write moves mtime forward. */
	CHECK(utimensat(AT_FDCWD, "f", ts, 0) == 0);
	CHECK(write_file("f", "again", 5) == 0);
	CHECK(stat("f", &st) == 0);
	CHECK(st.st_mtim.tv_sec >= now - 5);
}

static void t_truncate(void)
{
	char buf[20000], zero[15000];
	struct stat st;
	int fd;

	fill_pattern(buf, 10000, 5, 0);
	CHECK(write_file("f", buf, 10000) == 0);
	CHECK(truncate("f", 5000) == 0);
	CHECK(stat("f", &st) == 0);
	CHECK_EQ(st.st_size, 5000);
	CHECK(truncate("f", 20000) == 0);
	CHECK(stat("f", &st) == 0);
	CHECK_EQ(st.st_size, 20000);
	CHECK_EQ(read_file("f", buf, sizeof(buf)), 20000);
	CHECK(check_pattern(buf, 5000, 5, 0));
	memset(zero, 0, sizeof(zero));
	CHECK(memcmp(buf + 5000, zero, 15000) == 0);	/* no old bytes */

	/* Down inside a block, then up: the tail of that block is zero. */
	CHECK(truncate("f", 4100) == 0);
	CHECK(truncate("f", 8192) == 0);
	CHECK_EQ(read_file("f", buf, sizeof(buf)), 8192);
	CHECK(check_pattern(buf, 4100, 5, 0));
	CHECK(memcmp(buf + 4100, zero, 8192 - 4100) == 0);

	/* ftruncate to 0 and far up (sparse), through an open file. */
	fd = open("f", O_RDWR);
	CHECK(fd >= 0);
	CHECK(ftruncate(fd, 0) == 0);
	CHECK(fstat(fd, &st) == 0);
	CHECK_EQ(st.st_size, 0);
	CHECK(ftruncate(fd, 64LL * MiB) == 0);
	CHECK(fstat(fd, &st) == 0);
	CHECK_EQ(st.st_size, 64LL * MiB);
	CHECK_EQ(pread(fd, buf, 4096, 40LL * MiB), 4096);
	CHECK(memcmp(buf, zero, 4096) == 0);
	CHECK(close(fd) == 0);
	CHECK(truncate("f", 1) == 0);
	CHECK(stat("f", &st) == 0);
	CHECK_EQ(st.st_size, 1);
	CHECK_ERR(truncate("missing", 0), ENOENT);
	CHECK(mkdir("d", 0755) == 0);
	CHECK_ERR(truncate("d", 0), EISDIR);
}

static void t_xattr(void)
{
	char buf[2048], big[1000];
	ssize_t n;

	CHECK(write_file("f", "x", 1) == 0);
	CHECK(setxattr("f", "user.a", "1", 1, 0) == 0);
	CHECK(setxattr("f", "user.bb", "two", 3, 0) == 0);
	CHECK_EQ(getxattr("f", "user.a", NULL, 0), 1);
	n = getxattr("f", "user.bb", buf, sizeof(buf));
	CHECK_EQ(n, 3);
	CHECK(n == 3 && memcmp(buf, "two", 3) == 0);
	CHECK_ERR(getxattr("f", "user.bb", buf, 1), ERANGE);
	CHECK_ERR(getxattr("f", "user.none", buf, sizeof(buf)), ENODATA);

	/* CREATE and REPLACE. */
	CHECK_ERR(setxattr("f", "user.a", "9", 1, XATTR_CREATE), EEXIST);
	CHECK_ERR(setxattr("f", "user.c", "9", 1, XATTR_REPLACE), ENODATA);
	CHECK(setxattr("f", "user.a", "11", 2, XATTR_REPLACE) == 0);
	CHECK_EQ(getxattr("f", "user.a", buf, sizeof(buf)), 2);

	/* The list holds exactly the two names. */
	n = listxattr("f", buf, sizeof(buf));
	CHECK_EQ(n, 15);	/* "user.a\0user.bb\0" */
	CHECK_EQ(listxattr("f", NULL, 0), n);
	if (n == 15)
		CHECK((memcmp(buf, "user.a\0user.bb\0", 15) == 0 ||
		       memcmp(buf, "user.bb\0user.a\0", 15) == 0));
	CHECK_ERR(listxattr("f", buf, 3), ERANGE);

	/* A larger value, then removal. */
	memset(big, 'v', sizeof(big));
	CHECK(setxattr("f", "user.big", big, sizeof(big), 0) == 0);
	n = getxattr("f", "user.big", buf, sizeof(buf));
	CHECK_EQ(n, sizeof(big));
	CHECK(n == (ssize_t)sizeof(big) && memcmp(buf, big, sizeof(big)) == 0);
	CHECK(removexattr("f", "user.a") == 0);
	CHECK_ERR(getxattr("f", "user.a", buf, sizeof(buf)), ENODATA);
	CHECK_ERR(removexattr("f", "user.a"), ENODATA);
	CHECK(removexattr("f", "user.big") == 0);
	CHECK_EQ(listxattr("f", buf, sizeof(buf)), 8);	/* "user.bb\0" */

	/* Directories carry them too. */
	CHECK(mkdir("d", 0755) == 0);
	CHECK(setxattr("d", "user.dir", "yes", 3, 0) == 0);
	CHECK_EQ(getxattr("d", "user.dir", buf, sizeof(buf)), 3);
}

/*
 * Attributes and names the kernel has cached must follow every change:
 * a FUSE host may let the kernel keep them for an hour, so each stat
 * below first loads the cache, then a change must show at once.
 */
static void t_cached_attrs(void)
{
	struct stat a, b, d;
	int fd;

	/* A name looked up while missing, then created. */
	CHECK_ERR(stat("late", &a), ENOENT);
	CHECK_ERR(stat("late", &a), ENOENT);
	CHECK(write_file("late", "x", 1) == 0);
	CHECK(stat("late", &a) == 0 && a.st_size == 1);

	/* Link counts: a link replaced by rename, then unlinked. */
	CHECK(write_file("f", "f", 1) == 0);
	CHECK(link("f", "g") == 0);
	CHECK(stat("f", &a) == 0);
	CHECK_EQ(a.st_nlink, 2);
	CHECK(rename("late", "g") == 0);
	CHECK(stat("f", &a) == 0);
	CHECK_EQ(a.st_nlink, 1);
	CHECK(link("f", "h") == 0);
	CHECK(stat("f", &a) == 0);
	CHECK_EQ(a.st_nlink, 2);
	CHECK(unlink("h") == 0);
	CHECK(stat("f", &a) == 0);
	CHECK_EQ(a.st_nlink, 1);

	/* Size, mtime and mode after a write, a chmod, a truncate. */
	CHECK(stat("f", &a) == 0);
	usleep(20000);
	fd = open("f", O_WRONLY | O_APPEND);
	CHECK(fd >= 0);
	CHECK(write(fd, "more", 4) == 4);
	CHECK(close(fd) == 0);
	CHECK(stat("f", &b) == 0);
	CHECK_EQ(b.st_size, 5);
	CHECK(b.st_mtim.tv_sec > a.st_mtim.tv_sec ||
	      (b.st_mtim.tv_sec == a.st_mtim.tv_sec &&
	       b.st_mtim.tv_nsec > a.st_mtim.tv_nsec));
	CHECK(chmod("f", 0600) == 0);
	CHECK(stat("f", &a) == 0);
	CHECK_EQ(a.st_mode & 07777, 0600);
	CHECK(truncate("f", 2) == 0);
	CHECK(stat("f", &a) == 0);
	CHECK_EQ(a.st_size, 2);

	/* A directory's link count follows its subdirectories. */
	CHECK(mkdir("d", 0755) == 0);
	CHECK(stat("d", &d) == 0);
	CHECK_EQ(d.st_nlink, 2);
	CHECK(mkdir("d/s", 0755) == 0);
	CHECK(stat("d", &d) == 0);
	CHECK_EQ(d.st_nlink, 3);
	CHECK(rmdir("d/s") == 0);
	CHECK(stat("d", &d) == 0);
	CHECK_EQ(d.st_nlink, 2);

	/* An open file unlinked: its handle sees no links left. */
	fd = open("f", O_RDONLY);
	CHECK(fd >= 0);
	CHECK(fstat(fd, &a) == 0);
	CHECK(unlink("f") == 0);
	CHECK(fstat(fd, &a) == 0);
	CHECK_EQ(a.st_nlink, 0);
	CHECK(close(fd) == 0);
	CHECK_ERR(stat("f", &a), ENOENT);
}

/* ---- runner ------------------------------------------------------------ */

static const struct {
	const char *name;
	void (*fn)(void);
} checks[] = {
	{ "create, read, write, seek, holes", t_create_rw_seek },
	{ "O_APPEND", t_append },
	{ "O_EXCL", t_excl },
	{ "O_TRUNC", t_trunc_open },
	{ "modes, umask and ownership as root", t_perms_root },
	{ "permissions and ownership as uid 65534", t_perms_user },
	{ "rename over files and directories", t_rename },
	{ "rename into its own subtree is EINVAL", t_rename_subtree },
	{ "renameat2 NOREPLACE and EXCHANGE", t_renameat2 },
	{ "hard links and link counts", t_links },
	{ "symlinks and readlink", t_symlinks },
	{ "unlink of an open file", t_unlink_open },
	{ "rmdir of a non-empty directory", t_rmdir },
	{ "readdir complete under concurrent creates", t_readdir_concurrent },
	{ "threads writing different files", t_threads_write },
	{ "statfs accounting", t_statfs },
	{ "utimensat with nanoseconds", t_utimens },
	{ "truncate up and down", t_truncate },
	{ "extended attributes", t_xattr },
	{ "cached names and attributes follow changes", t_cached_attrs },
};

static int rm_one(const char *path, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	return remove(path) ? -1 : 0;
}

int main(int argc, char **argv)
{
	const int n = (int)(sizeof(checks) / sizeof(checks[0]));
	char work[PATH_MAX + 32];
	bool keep = false;
	int i, failed = 0, root;

	if (argc == 3 && strcmp(argv[1], "-k") == 0) {
		keep = true;
		argv++;
		argc--;
	}
	if (argc != 2) {
		fprintf(stderr, "usage: posix_test [-k] DIR\n");
		return 1;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!realpath(argv[1], work)) {
		fprintf(stderr, "posix_test: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	snprintf(work + strlen(work), sizeof(work) - strlen(work),
		 "/posix_test.%d", getpid());
	if (mkdir(work, 0755) || chmod(work, 0755) ||
	    (root = open(work, O_RDONLY | O_DIRECTORY)) < 0) {
		fprintf(stderr, "posix_test: %s: %s\n", work, strerror(errno));
		return 1;
	}

	printf("1..%d\n", n);
	for (i = 0; i < n; i++) {
		char sub[16];

		snprintf(sub, sizeof(sub), "t%02d", i + 1);
		check_failed = 0;
		if (fchdir(root) || mkdir(sub, 0755) || chmod(sub, 0755) ||
		    chdir(sub)) {
			printf("#   cannot make %s/%s: %s\n", work, sub,
			       strerror(errno));
			check_failed = 1;
		} else {
			umask(022);
			checks[i].fn();
		}
		printf("%s %d - %s\n", check_failed ? "not ok" : "ok", i + 1,
		       checks[i].name);
		failed += check_failed != 0;
	}

	if (fchdir(root) == 0 && chdir("/") == 0 && !keep &&
	    nftw(work, rm_one, 16, FTW_DEPTH | FTW_PHYS))
		printf("# could not remove %s: %s\n", work, strerror(errno));
	close(root);
	printf("# %d of %d checks failed\n", failed, n);
	return failed ? 1 : 0;
}
