/*
 * cmd_prov.c - `bento prov MOUNTPOINT`: print the provenance log of an
 * xv6fs mount, one line per recorded op.
 *
 * The provenance build of xv6fs (fs/xv6fs/prov.c) keeps the log in a
 * hidden inode and shows it read-only, to root, as MOUNTPOINT/
 * .bento-provenance (lookup only; readdir does not list it).  This
 * command reads that file and decodes its fixed-width records (struct
 * xv6_disk_prov in fs/xv6fs/xv6fs_format.h):
 *
 *   2026-12-03T19:20:01.123456789 pid 1234 create ino 57 parent 1 name foo
 *   ... rename ino 57 parent 1 name foo newparent 9 newname bar
 *   ... open ino 57
 *
 * Times are UTC.  The kernel caches the file's pages and size for as
 * long as the mount allows (the daemon is the only writer, but the log
 * grows without the kernel seeing a write), so the file is fsync'd
 * (the daemon commits the running transaction), its size fetched with
 * AT_STATX_FORCE_SYNC, and its contents read with O_DIRECT.
 *
 * Limits: a mount served by the base build shows the log only if the
 * kernel still has the name cached; the base build records nothing.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "user.h"
#include "../../fs/xv6fs/xv6fs_format.h"

#define PROV_FILE ".bento-provenance"
#define CHUNK (64u * 1024u)		/* bytes read at once, whole records */

static const char prov_help[] =
"usage: bento prov MOUNTPOINT\n"
"\n"
"Print the provenance log of an xv6fs mount served by its provenance\n"
"build (xv6fs_prov.so): one line per create, open, unlink, rename, mkdir\n"
"and symlink, with the time (UTC), pid, inode, parent and name.\n"
"\n"
"Exit status: 0 ok, 1 bad usage, 32 no log or it cannot be read.\n";

static const char *const op_names[] = {
	[XV6_PROV_CREATE] = "create", [XV6_PROV_OPEN] = "open",
	[XV6_PROV_UNLINK] = "unlink", [XV6_PROV_RENAME] = "rename",
	[XV6_PROV_MKDIR] = "mkdir", [XV6_PROV_SYMLINK] = "symlink",
};

static uint64_t get_le(const uint8_t *p, unsigned int n)
{
	uint64_t v = 0;

	while (n--)
		v = v << 8 | p[n];
	return v;
}

#define F(rec, field, n) \
	get_le((rec) + offsetof(struct xv6_disk_prov, field), n)

/* print_record - one line for record @rec (number @i); 0 or -EUCLEAN. */
static int print_record(const uint8_t *rec, uint64_t i)
{
	uint32_t op = (uint32_t)F(rec, op, 2);
	uint32_t len = (uint32_t)F(rec, name_len, 2);
	uint64_t ns = F(rec, time_ns, 8);
	const char *name = (const char *)rec + offsetof(struct xv6_disk_prov,
							name);
	const char *slash;
	char when[64];
	time_t sec = (time_t)(ns / 1000000000u);
	struct tm tm;

	if (op == 0 || op >= sizeof(op_names) / sizeof(op_names[0]) ||
	    len > XV6_PROV_NAME_MAX) {
		bento_user_err("provenance record %llu: bad op %u or name length %u",
			       (unsigned long long)i, op, len);
		return -EUCLEAN;
	}
	gmtime_r(&sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	printf("%s.%09llu pid %llu %s ino %llu", when,
	       (unsigned long long)(ns % 1000000000u),
	       (unsigned long long)F(rec, pid, 4), op_names[op],
	       (unsigned long long)F(rec, ino, 8));
	if (op == XV6_PROV_OPEN) {
		putchar('\n');
		return 0;
	}
	slash = op == XV6_PROV_RENAME ? memchr(name, '/', len) : NULL;
	printf(" parent %llu name %.*s",
	       (unsigned long long)F(rec, parent, 8),
	       (int)(slash ? (uint32_t)(slash - name) : len), name);
	if (slash)
		printf(" newparent %llu newname %.*s",
		       (unsigned long long)F(rec, newparent, 8),
		       (int)(len - (uint32_t)(slash - name) - 1), slash + 1);
	putchar('\n');
	return 0;
}

/* open_log - open MNT's log for reading, O_DIRECT where it works. */
static int open_log(const char *mnt, char *path, size_t size)
{
	int fd;

	snprintf(path, size, "%s/%s", mnt, PROV_FILE);
	fd = open(path, O_RDONLY | O_DIRECT);
	if (fd < 0 && errno == EINVAL)
		fd = open(path, O_RDONLY);
	return fd;
}

/* dump - print every record of @fd.  0 or a BENTO_EXIT_* code. */
static int dump(int fd, const char *path)
{
	struct statx stx;
	uint64_t off = 0, i = 0;
	uint8_t *buf;
	ssize_t n;
	int rc = BENTO_EXIT_OK;

	/* The daemon commits, then the size as the daemon sees it. */
	if (fsync(fd) != 0 ||
	    statx(fd, "", AT_EMPTY_PATH | AT_STATX_FORCE_SYNC, STATX_SIZE,
		  &stx) != 0) {
		bento_user_err("%s: %s", path, strerror(errno));
		return BENTO_EXIT_FAIL;
	}
	if (posix_memalign((void **)&buf, 4096, CHUNK) != 0) {
		bento_user_err("out of memory");
		return BENTO_EXIT_SYSTEM;
	}
	while (off < stx.stx_size) {
		size_t want = stx.stx_size - off < CHUNK ?
			(size_t)(stx.stx_size - off) : CHUNK;
		size_t k;

		n = pread(fd, buf, CHUNK, (off_t)off);
		if (n < 0) {
			bento_user_err("%s: %s", path, strerror(errno));
			rc = BENTO_EXIT_FAIL;
			break;
		}
		if ((size_t)n < want || n % XV6_PROV_REC_SIZE) {
			bento_user_err("%s: short read at byte %llu (size %llu): truncated log",
				       path, (unsigned long long)off,
				       (unsigned long long)stx.stx_size);
			rc = BENTO_EXIT_FAIL;
			break;
		}
		n = (ssize_t)want;
		for (k = 0; k + XV6_PROV_REC_SIZE <= (size_t)n;
		     k += XV6_PROV_REC_SIZE)
			if (print_record(buf + k, i++))
				rc = BENTO_EXIT_FAIL;
		off += (uint64_t)n;
	}
	free(buf);
	if (fflush(stdout) != 0) {
		bento_user_err("standard output: %s", strerror(errno));
		rc = BENTO_EXIT_FAIL;
	}
	return rc;
}

int bento_cmd_prov(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char path[4096];
	int c, fd, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (c == 'h') {
			fputs(prov_help, stdout);
			return BENTO_EXIT_OK;
		}
		fputs(prov_help, stderr);
		return BENTO_EXIT_USAGE;
	}
	if (argc - optind != 1) {
		fputs(prov_help, stderr);
		return BENTO_EXIT_USAGE;
	}

	fd = open_log(argv[optind], path, sizeof(path));
	if (fd < 0) {
		if (errno == ENOENT)
			bento_user_err("%s: no provenance log (not a mount served by xv6fs's provenance build, or nothing recorded yet)",
				       argv[optind]);
		else
			bento_user_err("%s: %s", path, strerror(errno));
		return BENTO_EXIT_FAIL;
	}
	rc = dump(fd, path);
	close(fd);
	return rc;
}
