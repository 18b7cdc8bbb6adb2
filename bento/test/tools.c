/*
 * tools.c - image files, and the build's mkfs and fsck programs run on
 * them, for tests.
 *
 * Tests find the programs in the bin/ directory of the build they were
 * compiled in (BENTO_TEST_BIN_DIR, an absolute path set by test.mk), or
 * in $BENTO_BIN_DIR when that is set, so a test binary copied elsewhere
 * can still be pointed at a build.  A program that is missing is an
 * error (-ENOENT), never a reason to skip.
 */
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bento_test.h"

#ifndef BENTO_TEST_BIN_DIR
#define BENTO_TEST_BIN_DIR "build/bin"
#endif

extern char **environ;

int bento_test_image_create(const char *path, uint64_t nblocks)
{
	int fd, err = 0;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)(nblocks * BENTO_BLOCK_SIZE)) < 0)
		err = -errno;
	if (close(fd) < 0 && !err)
		err = -errno;
	return err;
}

int bento_test_image_write(const char *path, const void *img,
			   uint64_t nblocks)
{
	static const uint8_t zero[BENTO_BLOCK_SIZE];
	const uint8_t *p = img;
	uint64_t i;
	ssize_t n;
	int fd, err = 0;

	/* Zero blocks are left as holes: most of a test image is zero. */
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	for (i = 0; i < nblocks && !err; i++) {
		if (!memcmp(p + i * BENTO_BLOCK_SIZE, zero, BENTO_BLOCK_SIZE))
			continue;
		n = pwrite(fd, p + i * BENTO_BLOCK_SIZE, BENTO_BLOCK_SIZE,
			   (off_t)(i * BENTO_BLOCK_SIZE));
		if (n != (ssize_t)BENTO_BLOCK_SIZE)
			err = n < 0 ? -errno : -EIO;
	}
	if (!err && ftruncate(fd, (off_t)(nblocks * BENTO_BLOCK_SIZE)) < 0)
		err = -errno;
	if (close(fd) < 0 && !err)
		err = -errno;
	return err;
}

int bento_test_image_read(const char *path, void **img, uint64_t *nblocks)
{
	struct stat st;
	size_t done = 0;
	ssize_t n;
	char *buf;
	int fd, err = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		err = -errno;
		goto close_fd;
	}
	if (st.st_size < (off_t)BENTO_BLOCK_SIZE ||
	    st.st_size % BENTO_BLOCK_SIZE) {
		err = -EINVAL;
		goto close_fd;
	}
	buf = malloc((size_t)st.st_size);
	if (!buf) {
		err = -ENOMEM;
		goto close_fd;
	}
	while (done < (size_t)st.st_size) {
		n = read(fd, buf + done, (size_t)st.st_size - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			err = n < 0 ? -errno : -EIO;
			free(buf);
			goto close_fd;
		}
		done += (size_t)n;
	}
	*img = buf;
	*nblocks = (uint64_t)st.st_size / BENTO_BLOCK_SIZE;
close_fd:
	close(fd);
	return err;
}

int bento_test_tool_path(const char *name, char *buf, size_t size)
{
	const char *dir = getenv("BENTO_BIN_DIR");
	int n;

	if (!dir || !*dir)
		dir = BENTO_TEST_BIN_DIR;
	n = snprintf(buf, size, "%s/%s", dir, name);
	if (n < 0 || (size_t)n >= size)
		return -ENAMETOOLONG;
	if (access(buf, X_OK) < 0)
		return -ENOENT;
	return 0;
}

int bento_test_run(char *const argv[], char *out, size_t size)
{
	posix_spawn_file_actions_t fa;
	size_t used = 0;
	char sink[4096];
	int pipefd[2], status, err;
	ssize_t n;
	pid_t pid;

	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return -errno;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1);
	posix_spawn_file_actions_adddup2(&fa, pipefd[1], 2);
	err = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(pipefd[1]);
	if (err) {
		close(pipefd[0]);
		return -err;
	}

	/* Keep what fits, drain the rest so the child never blocks. */
	for (;;) {
		if (out && used + 1 < size)
			n = read(pipefd[0], out + used, size - 1 - used);
		else
			n = read(pipefd[0], sink, sizeof(sink));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (out && used + 1 < size)
			used += (size_t)n;
	}
	if (out && size)
		out[used] = '\0';
	close(pipefd[0]);

	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

int bento_test_mkfs_xv6fs(const char *path, uint64_t nblocks,
			  uint64_t ninodes)
{
	char prog[4096], out[4096], inodes[32];
	char *argv[7];
	int err, i = 0;

	err = bento_test_tool_path("mkfs.xv6fs", prog, sizeof(prog));
	if (err) {
		fprintf(stderr, "bento-test: %s: mkfs.xv6fs not built\n", prog);
		return err;
	}
	err = bento_test_image_create(path, nblocks);
	if (err)
		return err;
	argv[i++] = prog;
	argv[i++] = "-q";
	argv[i++] = "-F";
	if (ninodes) {
		snprintf(inodes, sizeof(inodes), "%llu",
			 (unsigned long long)ninodes);
		argv[i++] = "-N";
		argv[i++] = inodes;
	}
	argv[i++] = (char *)path;
	argv[i] = NULL;
	err = bento_test_run(argv, out, sizeof(out));
	if (err != 0) {
		fprintf(stderr, "bento-test: mkfs.xv6fs %s: exit %d: %s\n",
			path, err, out);
		return -EIO;
	}
	return 0;
}

int bento_test_fsck_xv6fs(const char *path, bool repair, char *out,
			  size_t size)
{
	char prog[4096];
	char *argv[4];
	int err, i = 0;

	err = bento_test_tool_path("fsck.xv6fs", prog, sizeof(prog));
	if (err) {
		fprintf(stderr, "bento-test: %s: fsck.xv6fs not built\n", prog);
		return err;
	}
	argv[i++] = prog;
	if (repair)
		argv[i++] = "-y";
	argv[i++] = (char *)path;
	argv[i] = NULL;
	return bento_test_run(argv, out, size);
}

double bento_test_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}
