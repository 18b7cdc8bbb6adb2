/*
 * main.c - fsck.xv6fs: check and repair an xv6fs image.
 *
 *   fsck.xv6fs [-n|-y|-p] [-f] [-v] IMAGE
 *
 * Parses the options, opens the image (read-only unless repairing) and
 * locks it: flock LOCK_SH for a check, LOCK_EX for a repair, never
 * waiting; O_EXCL on a block device.  A mounted image (the daemon holds
 * LOCK_EX) is refused as "in use (mounted?)", exit 8.  Then runs the
 * passes in order (fsck.h names them) and prints e2fsck's summary.
 * Exit codes are e2fsck's: 0 clean, 1 errors corrected, 4 errors left
 * uncorrected, 8 operational error, 16 usage error, 32 cancelled.
 * docs/fsck.md describes every check and repair.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <linux/fs.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsck.h"

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
	       "fsck.xv6fs overlays the little-endian format structures");

static volatile sig_atomic_t cancelled;

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: " PROG " [-n|-y|-p] [-f] [-v] IMAGE\n"
		"Check an xv6fs file system (an image file or a block device) and\n"
		"optionally repair it.  Like e2fsck: without -y or -p nothing is changed.\n"
		"\n"
		"  -n, --no         check only, open the image read-only, answer \"no\" to\n"
		"                   every repair (the default)\n"
		"  -y, --yes        repair every problem found, answering \"yes\"\n"
		"  -p, -a, --preen  repair what is safe without asking (bitmaps, link\n"
		"                   counts, checksums of valid structures, the orphan\n"
		"                   table, journal replay); stop with exit 4 at the first\n"
		"                   problem whose repair could lose data\n"
		"  -f, --force      check even if the file system seems clean (xv6fs\n"
		"                   keeps no clean flag, so every run is a full check)\n"
		"  -v, --verbose    say what each pass does (and show the label)\n"
		"  -V, --version    show the version and the format version\n"
		"  -h, --help       show this help\n"
		"\n"
		"An image in use (mounted) is refused with exit 8.\n"
		"\n"
		"Journal: with -y or -p a committed but uninstalled transaction is\n"
		"replayed first, as mount does.  With -n the check runs on the image as\n"
		"replay would leave it (in memory only), and \"journal needs recovery\"\n"
		"counts as an uncorrected problem.\n"
		"\n"
		"Each problem is printed on one line naming the inode or block; a\n"
		"repaired one ends with what was done.  The run ends with a summary,\n"
		"\"IMAGE: USED/TOTAL files, USED/TOTAL blocks\", and \"IMAGE: clean\" when\n"
		"nothing was wrong.\n"
		"\n"
		"Exit status (as e2fsck):\n"
		"   0  no errors\n"
		"   1  errors were found and corrected (or the journal was replayed)\n"
		"   4  errors were left uncorrected (always the case for errors with -n)\n"
		"   8  operational error: cannot open or read, not an xv6fs image\n"
		"  16  usage error\n"
		"  32  cancelled (SIGINT or SIGTERM)\n"
		"\n"
		"See docs/fsck.md for the list of checks and repairs.\n");
}

void *fsck_zalloc(struct fsck *f, size_t size)
{
	void *p = calloc(1, size ? size : 1);

	if (!p)
		fsck_fatal(f, FSCK_ERROR, "out of memory (%zu bytes)", size);
	return p;
}

void *fsck_grow(struct fsck *f, void *p, size_t *cap, size_t elem,
		size_t need)
{
	size_t n = *cap ? *cap : 16;

	if (need <= *cap)
		return p;
	while (n < need)
		n *= 2;
	p = realloc(p, n * elem);
	if (!p)
		fsck_fatal(f, FSCK_ERROR, "out of memory (%zu bytes)", n * elem);
	*cap = n;
	return p;
}

void fsck_fatal(struct fsck *f, int code, const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, PROG ": %s: ", f->path);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (f->fd >= 0 && f->mode != FSCK_MODE_CHECK)
		fsync(f->fd);
	exit(code);
}

void fsck_info(struct fsck *f, const char *fmt, ...)
{
	va_list ap;

	if (!f->verbose)
		return;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

void fsck_check_cancel(struct fsck *f)
{
	if (cancelled)
		fsck_fatal(f, FSCK_CANCELED, "cancelled");
}

void fsck_problem_quiet(struct fsck *f)
{
	f->problems++;
	if (f->mode == FSCK_MODE_CHECK)
		f->unfixed++;
}

bool fsck_problem(struct fsck *f, int class, const char *fix,
		  const char *fmt, ...)
{
	bool repair = f->mode != FSCK_MODE_CHECK && class != FSCK_NOFIX;
	va_list ap;

	f->problems++;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	if (f->mode == FSCK_MODE_PREEN && class == FSCK_UNSAFE) {
		printf("\n%s: UNEXPECTED INCONSISTENCY; RUN " PROG " MANUALLY (with -y, or -n to see every problem)\n",
		       f->path);
		fflush(stdout);
		if (f->fd >= 0)
			fsync(f->fd);
		exit(FSCK_UNCORRECTED);
	}
	if (repair && fix)
		printf(": %s", fix);
	putchar('\n');
	if (!repair)
		f->unfixed++;
	/* With -n the fix goes to the overlay, so the check goes on as a
	 * repair would; NOFIX problems have nothing to apply. */
	return class != FSCK_NOFIX;
}

static void on_signal(int sig)
{
	(void)sig;
	cancelled = 1;
}

/* Parse the command line into @f; exits 16 on a usage error. */
static void parse_args(int argc, char **argv, struct fsck *f)
{
	static const struct option longopts[] = {
		{ "no", no_argument, NULL, 'n' },
		{ "yes", no_argument, NULL, 'y' },
		{ "preen", no_argument, NULL, 'p' },
		{ "force", no_argument, NULL, 'f' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c, modes = 0;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "nypafvVh", longopts, NULL)) !=
	       -1) {
		switch (c) {
		case 'n':
			f->mode = FSCK_MODE_CHECK;
			modes |= 1;
			break;
		case 'y':
			f->mode = FSCK_MODE_YES;
			modes |= 2;
			break;
		case 'p':
		case 'a':
			f->mode = FSCK_MODE_PREEN;
			modes |= 4;
			break;
		case 'f':
			f->force = true;
			break;
		case 'v':
			f->verbose = true;
			break;
		case 'V':
			printf(PROG " (Bento) %s, xv6fs on-disk format version %u\n",
			       BENTO_VERSION, XV6_VERSION);
			exit(FSCK_OK);
		case 'h':
			usage(stdout);
			exit(FSCK_OK);
		default:
			fprintf(stderr, PROG ": unrecognized option '%s'\n"
				"Try '" PROG " --help' for more information.\n",
				argv[optind - 1]);
			exit(FSCK_USAGE);
		}
	}
	if (modes & (modes - 1)) {
		fprintf(stderr, PROG ": only one of -n, -y and -p may be given\n");
		exit(FSCK_USAGE);
	}
	if (optind != argc - 1) {
		fprintf(stderr, PROG ": expected one IMAGE argument (try '" PROG " --help')\n");
		exit(FSCK_USAGE);
	}
	f->path = argv[optind];
}

/* Take the lock that keeps mounts and other tools out; exits 8. */
static void lock_image(struct fsck *f)
{
	int op = f->mode == FSCK_MODE_CHECK ? LOCK_SH : LOCK_EX;

	if (flock(f->fd, op | LOCK_NB) == 0)
		return;
	if (errno == EWOULDBLOCK)
		fsck_fatal(f, FSCK_ERROR, "in use (mounted?)");
	fsck_fatal(f, FSCK_ERROR, "cannot lock: %s", strerror(errno));
}

static void open_image(struct fsck *f)
{
	int flags = f->mode == FSCK_MODE_CHECK ? O_RDONLY : O_RDWR;
	struct stat st;
	uint64_t bytes;

	/* O_EXCL on a block device fails while it is mounted or held. */
	if (stat(f->path, &st) == 0 && S_ISBLK(st.st_mode))
		flags |= O_EXCL;
	f->fd = open(f->path, flags);
	if (f->fd < 0 && errno == EBUSY)
		fsck_fatal(f, FSCK_ERROR, "in use (mounted?)");
	if (f->fd < 0)
		fsck_fatal(f, FSCK_ERROR, "cannot open: %s", strerror(errno));
	if (fstat(f->fd, &st) < 0)
		fsck_fatal(f, FSCK_ERROR, "cannot stat: %s", strerror(errno));
	if (S_ISBLK(st.st_mode)) {
		if (ioctl(f->fd, BLKGETSIZE64, &bytes) < 0)
			fsck_fatal(f, FSCK_ERROR, "cannot size the device: %s",
				   strerror(errno));
	} else if (S_ISREG(st.st_mode)) {
		lock_image(f);
		bytes = (uint64_t)st.st_size;
	} else {
		fsck_fatal(f, FSCK_ERROR, "not a regular file or block device");
	}
	f->dev_blocks = bytes / XV6_BLOCK_SIZE;
}

static uint64_t count_bits(const uint8_t *map, uint64_t from, uint64_t to)
{
	uint64_t i, n = 0;

	for (i = from; i < to; i++)
		n += fsck_bit(map, i);
	return n;
}

int main(int argc, char **argv)
{
	static struct fsck fsck = { .fd = -1 };
	struct fsck *f = &fsck;
	struct sigaction sa = { .sa_handler = on_signal };
	int code;

	parse_args(argc, argv, f);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	open_image(f);

	fsck_super(f);
	fsck_journal(f);
	fsck_bitmaps_load(f);
	f->ino = fsck_zalloc(f, f->sb.ninodes * sizeof(*f->ino));

	fsck_info(f, "pass 1: inodes, block pointers, sizes");
	fsck_pass1(f);
	fsck_pass1b(f);
	fsck_info(f, "pass 2: directory structure");
	fsck_pass2(f);
	fsck_pass2_links(f);
	fsck_info(f, "pass 3: connectivity");
	fsck_pass3(f);
	fsck_info(f, "pass 4: link counts, unattached inodes, orphan table");
	fsck_pass4(f);
	fsck_info(f, "pass 5: bitmaps");
	fsck_pass5(f);
	fsck_sync(f);

	printf("%s: %" PRIu64 "/%" PRIu64 " files, %" PRIu64 "/%" PRIu64 " blocks\n",
	       f->path, count_bits(f->imap_calc, 1, f->sb.ninodes),
	       (uint64_t)f->sb.ninodes - 1,
	       count_bits(f->bmap_calc, 0, f->sb.nblocks),
	       (uint64_t)f->sb.nblocks);
	if (f->problems == 0 && !f->journal_replayed) {
		printf("%s: clean\n", f->path);
		code = FSCK_OK;
	} else if (f->unfixed) {
		printf("%s: %lu problem%s, %lu left uncorrected%s\n", f->path,
		       f->problems, f->problems == 1 ? "" : "s", f->unfixed,
		       f->mode == FSCK_MODE_CHECK ?
			       " (checked only; run with -y to repair)" : "");
		code = FSCK_UNCORRECTED;
	} else if (f->problems == 0) {
		printf("%s: ***** FILE SYSTEM WAS MODIFIED ***** (journal replayed)\n",
		       f->path);
		code = FSCK_CORRECTED;
	} else {
		printf("%s: ***** FILE SYSTEM WAS MODIFIED ***** (%lu problem%s corrected)\n",
		       f->path, f->problems, f->problems == 1 ? "" : "s");
		code = FSCK_CORRECTED;
	}
	if (close(f->fd) < 0)
		fsck_fatal(f, FSCK_ERROR, "close failed: %s", strerror(errno));
	return code;
}
