/*
 * fsops.c - the small-operation workloads of the file-system benchmark.
 *
 * bench/fs/run.sh times sequential and random I/O with dd and fio, but
 * neither measures metadata operations one phase at a time, so this
 * program does the two workloads that need it:
 *
 *   bench-fsops [-t SECS] meta DIR NFILES [SIZE]
 *	create NFILES files of SIZE bytes (default 512) in the empty
 *	directory DIR (open O_CREAT|O_EXCL, write, close), then stat each,
 *	then unlink each, and print one line per phase:
 *	    create <ops/s>
 *	    stat <ops/s>
 *	    unlink <ops/s>
 *	With -t, the create phase stops after SECS seconds (a file system
 *	with linear directories can take an hour at 50,000 files); the
 *	other phases then work on the files made, and a line
 *	"capped <files made>" comes first.
 *
 *   bench-fsops [-t SECS] fsync FILE COUNT [SIZE]
 *	create FILE and append COUNT blocks of SIZE bytes (default 4096),
 *	each followed by fsync(), then print "fsync <ops/s>".
 *
 * Each phase is timed with CLOCK_MONOTONIC around its system calls only;
 * nothing is synced between phases, so the metadata figures are what an
 * application sees, not what reaches the disk.  Files are named f0000000,
 * f0000001, ... in one directory, so a file system with linear directory
 * scans pays for it, as it should.  Any failing system call prints one
 * line naming the file and the error and exits 1.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_SIZE (1u << 20)

/* Seconds the create phase may take; 0 means no limit (set by -t). */
static double create_cap;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void file_name(char *out, size_t len, const char *dir, unsigned i)
{
	snprintf(out, len, "%s/f%07u", dir, i);
}

static int fail(const char *what, const char *path, int err)
{
	fprintf(stderr, "bench-fsops: %s %s: %s\n", what, path,
		strerror(err));
	return 1;
}

static void report(const char *phase, unsigned n, double secs)
{
	if (secs <= 0)
		secs = 1e-9;
	printf("%s %.1f\n", phase, n / secs);
}

/* Write all of @len bytes at @buf to @fd; 0 or an errno. */
static int write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static int meta(const char *dir, unsigned nfiles, size_t size, char *buf)
{
	char path[4096];
	struct stat st;
	double t0;
	unsigned i;
	int fd, err;

	/* Phase 1: create and fill, within the cap if there is one. */
	t0 = now_s();
	for (i = 0; i < nfiles; i++) {
		if (create_cap > 0 && i % 64 == 0 && i > 0 &&
		    now_s() - t0 > create_cap) {
			printf("capped %u\n", i);
			nfiles = i;
			break;
		}
		file_name(path, sizeof(path), dir, i);
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
		if (fd < 0)
			return fail("create", path, errno);
		err = write_all(fd, buf, size);
		if (close(fd) < 0 && !err)
			err = errno;
		if (err)
			return fail("write", path, err);
	}
	report("create", nfiles, now_s() - t0);

	/* Phase 2: stat, checking each size so a lost write shows. */
	t0 = now_s();
	for (i = 0; i < nfiles; i++) {
		file_name(path, sizeof(path), dir, i);
		if (stat(path, &st) < 0)
			return fail("stat", path, errno);
		if ((size_t)st.st_size != size)
			return fail("stat (wrong size)", path, EIO);
	}
	report("stat", nfiles, now_s() - t0);

	/* Phase 3: unlink. */
	t0 = now_s();
	for (i = 0; i < nfiles; i++) {
		file_name(path, sizeof(path), dir, i);
		if (unlink(path) < 0)
			return fail("unlink", path, errno);
	}
	report("unlink", nfiles, now_s() - t0);
	return 0;
}

static int append_fsync(const char *path, unsigned count, size_t size,
			char *buf)
{
	double t0;
	unsigned i;
	int fd, err;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
	if (fd < 0)
		return fail("create", path, errno);

	t0 = now_s();
	for (i = 0; i < count; i++) {
		err = write_all(fd, buf, size);
		if (err) {
			close(fd);
			return fail("append", path, err);
		}
		if (fsync(fd) < 0) {
			err = errno;
			close(fd);
			return fail("fsync", path, err);
		}
	}
	report("fsync", count, now_s() - t0);

	if (close(fd) < 0)
		return fail("close", path, errno);
	return 0;
}

/* Parse a positive count or size no larger than @max; 0 if invalid. */
static unsigned long parse_num(const char *s, unsigned long max)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *s == '\0' || *end != '\0' || v == 0 || v > max)
		return 0;
	return v;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: bench-fsops [-t SECS] meta DIR NFILES [SIZE]\n"
		   "       bench-fsops fsync FILE COUNT [SIZE]\n"
		   "Times small-file metadata phases or append+fsync; prints ops/s per phase.\n"
		   "  -t SECS  stop the create phase after SECS seconds\n");
}

int main(int argc, char **argv)
{
	unsigned long n, size, cap;
	char *buf;
	int rc;

	if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		usage(stdout);
		return 0;
	}
	if (argc > 2 && !strcmp(argv[1], "-t")) {
		cap = parse_num(argv[2], 86400);
		if (!cap) {
			fprintf(stderr, "bench-fsops: bad -t '%s' (1..86400 seconds)\n",
				argv[2]);
			return 2;
		}
		create_cap = (double)cap;
		argc -= 2;
		argv += 2;
	}
	if (argc < 4 || argc > 5 ||
	    (strcmp(argv[1], "meta") && strcmp(argv[1], "fsync"))) {
		usage(stderr);
		return 2;
	}

	n = parse_num(argv[3], 100000000ul);
	if (!n) {
		fprintf(stderr, "bench-fsops: bad count '%s'\n", argv[3]);
		return 2;
	}
	size = !strcmp(argv[1], "meta") ? 512 : 4096;
	if (argc == 5) {
		size = parse_num(argv[4], MAX_SIZE);
		if (!size) {
			fprintf(stderr, "bench-fsops: bad size '%s' (1..%u)\n",
				argv[4], MAX_SIZE);
			return 2;
		}
	}

	buf = malloc(size);
	if (!buf) {
		fprintf(stderr, "bench-fsops: out of memory\n");
		return 1;
	}
	memset(buf, 'x', size);

	if (!strcmp(argv[1], "meta"))
		rc = meta(argv[2], (unsigned)n, size, buf);
	else
		rc = append_fsync(argv[2], (unsigned)n, size, buf);
	free(buf);
	return rc;
}
