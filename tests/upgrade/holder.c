/*
 * holder.c - an application that keeps files open on a mount and does
 * checked I/O while the mount is upgraded under it (tests/upgrade.t).
 *
 *   holder DIR STOPFILE [NFILES]
 *
 * Creates NFILES (default 4) files DIR/held.N and keeps them open for
 * the whole run.  Until STOPFILE exists it loops: write a 4 KiB record
 * into a slot of a file (pwrite), read it back at once and compare,
 * re-read an older slot of another file and compare it against the
 * model of what that slot should hold, fstat the file, fsync every 16th
 * round, and create, write, close and unlink a scratch file every 8th.
 * At the end every slot of every file is read and checked, the files
 * closed, and one line printed:
 *
 *   holder: rounds=R ops=N failed=F mismatches=M
 *
 * Exit 0 only if no system call failed and every byte matched.  The
 * first few failures are described on stderr.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SLOTS 64
#define REC 4096
#define MAXFILES 16

static unsigned long ops, failed, mismatches;

static void fail(const char *what, int file, int slot)
{
	if (failed + mismatches < 10)
		fprintf(stderr, "holder: %s (file %d slot %d): %s\n", what,
			file, slot, strerror(errno));
}

/* The record of @file's @slot at round @round (0: never written). */
static void pattern(char *buf, int file, int slot, unsigned long round)
{
	uint64_t x = (uint64_t)round * 1000003u + (uint64_t)file * 131u +
		     (uint64_t)slot + 1;
	int i;

	if (!round) {
		memset(buf, 0, REC);
		return;
	}
	for (i = 0; i < REC; i += 8) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		memcpy(buf + i, &x, 8);
	}
}

/* Read @file's @slot and compare with the model. */
static void check(int fd, int file, int slot, unsigned long round,
		  char *want, char *got)
{
	ssize_t n;

	pattern(want, file, slot, round);
	n = pread(fd, got, REC, (off_t)slot * REC);
	ops++;
	if (n < 0) {
		failed++;
		fail("pread", file, slot);
		return;
	}
	/* A slot past the end of the file reads short: zeroes. */
	if (n < REC)
		memset(got + n, 0, REC - (size_t)n);
	if (memcmp(want, got, REC) != 0) {
		errno = 0;
		fail("mismatch", file, slot);
		mismatches++;
	}
}

static void scratch(const char *dir, unsigned long round)
{
	char path[4096];
	int fd;

	snprintf(path, sizeof(path), "%s/scratch.%lu", dir, round);
	fd = open(path, O_CREAT | O_EXCL | O_WRONLY, 0644);
	ops++;
	if (fd < 0) {
		failed++;
		fail("create scratch", -1, -1);
		return;
	}
	ops++;
	if (write(fd, path, strlen(path)) != (ssize_t)strlen(path)) {
		failed++;
		fail("write scratch", -1, -1);
	}
	close(fd);
	ops++;
	if (unlink(path)) {
		failed++;
		fail("unlink scratch", -1, -1);
	}
}

int main(int argc, char **argv)
{
	static unsigned long model[MAXFILES][SLOTS];
	int fds[MAXFILES], nfiles = argc > 3 ? atoi(argv[3]) : 4;
	char *want = malloc(REC), *got = malloc(REC), path[4096];
	unsigned long round = 0;
	struct stat st;
	int f, s;

	if (argc < 3 || nfiles < 1 || nfiles > MAXFILES || !want || !got) {
		fprintf(stderr, "usage: holder DIR STOPFILE [NFILES 1-16]\n");
		return 2;
	}
	for (f = 0; f < nfiles; f++) {
		snprintf(path, sizeof(path), "%s/held.%d", argv[1], f);
		fds[f] = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
		if (fds[f] < 0) {
			fprintf(stderr, "holder: %s: %s\n", path,
				strerror(errno));
			return 1;
		}
	}

	while (access(argv[2], F_OK) != 0) {
		round++;
		f = (int)(round % (unsigned long)nfiles);
		s = (int)((round * 7) % SLOTS);

		/* Write a slot, read it back. */
		pattern(want, f, s, round);
		ops++;
		if (pwrite(fds[f], want, REC, (off_t)s * REC) != REC) {
			failed++;
			fail("pwrite", f, s);
		} else {
			model[f][s] = round;
		}
		check(fds[f], f, s, model[f][s], want, got);

		/* An older slot of another file. */
		f = (int)((round + 1) % (unsigned long)nfiles);
		s = (int)((round * 13) % SLOTS);
		check(fds[f], f, s, model[f][s], want, got);

		ops++;
		if (fstat(fds[f], &st)) {
			failed++;
			fail("fstat", f, -1);
		}
		if (round % 16 == 0) {
			ops++;
			if (fsync(fds[f])) {
				failed++;
				fail("fsync", f, -1);
			}
		}
		if (round % 8 == 0)
			scratch(argv[1], round);
	}

	for (f = 0; f < nfiles; f++) {
		for (s = 0; s < SLOTS; s++)
			check(fds[f], f, s, model[f][s], want, got);
		ops++;
		if (close(fds[f])) {
			failed++;
			fail("close", f, -1);
		}
	}
	printf("holder: rounds=%lu ops=%lu failed=%lu mismatches=%lu\n",
	       round, ops, failed, mismatches);
	free(want);
	free(got);
	return failed || mismatches ? 1 : 0;
}
