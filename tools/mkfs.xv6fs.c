/*
 * mkfs.xv6fs - make an xv6fs file system on an image file or a block
 * device.
 *
 *   mkfs.xv6fs [-F] [-q] [-s SIZE] [-N INODES] [-J BLOCKS] [-L LABEL] DEVICE
 *
 * Steps: check every argument strictly (numbers in full, no sign, no
 * overflow, no trailing garbage), open the device and lock it (flock
 * LOCK_EX|LOCK_NB on an image file, O_EXCL on a block device: a mounted
 * image is refused as "in use"), work out the size (the device's, or -s)
 * and the layout of fs/xv6fs/xv6fs_format.h, and only then create or
 * extend an image file; refuse to overwrite a recognizable file system
 * unless -F; zero the metadata areas, write the bitmaps, the root
 * directory's inode and finally the superblock, and fsync.  The
 * superblock goes last so that an interrupted mkfs leaves no
 * valid-looking image behind, and an image file mkfs created is removed
 * again if mkfs fails.
 *
 * Inode counts: inode 0 is never used, so of ninodes inode numbers
 * ninodes - 1 are usable; mkfs, the mount log, statfs and fsck all count
 * those.
 *
 * Exit codes follow mke2fs: 0 success, 1 any failure (bad usage included).
 * This is a userspace tool: it uses libc and zlib's crc32, which is the
 * same CRC-32 as bento_crc32.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "../fs/xv6fs/xv6fs_format.h"

#define PROG "mkfs.xv6fs"
#ifndef BENTO_VERSION
#define BENTO_VERSION "unknown"
#endif
#define MIN_LOG_BLOCKS 65u	/* the file system needs 64 log data blocks */
#define DEF_LOG_BLOCKS (XV6_LOG_MAX + 1u)
#define BYTES_PER_INODE 16384u
#define MAX_DEF_INODES (1u << 24)
/* Inode numbers must fit the 32-bit fields after rounding up to 16. */
#define MAX_INODES 4294967280ull
#define MAX_INODES_STR "4294967280"
#define MIN_LOG_STR "65"
#define MAX_LOG_STR "1019"
/* The smallest file system with the default journal and inodes: block 0,
 * 65 log blocks, 1 + 1 bitmap blocks, 4 inode-table blocks (64 inodes),
 * 16 data blocks. */
#define MIN_BLOCKS_DEFAULT 88u
_Static_assert(MIN_LOG_BLOCKS == 65 && XV6_LOG_MAX + 1 == 1019,
	       "MIN_LOG_STR and MAX_LOG_STR");

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
	       "mkfs.xv6fs overlays the little-endian format structures");

struct mkfs_opts {
	const char *path;
	uint64_t size;		/* bytes, 0 = the device's size */
	uint64_t ninodes;	/* 0 = default */
	uint64_t log_blocks;	/* 0 = default */
	const char *label;
	bool force;
	bool quiet;
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: " PROG " [OPTIONS] DEVICE\n"
		"Make an xv6fs file system on DEVICE (an image file or a block device).\n"
		"\n"
		"  -s, --size SIZE        file-system size in bytes (suffix K, M, G, T);\n"
		"                         creates or extends an image file; default: the\n"
		"                         device's size; at least %u blocks of 4 KiB with\n"
		"                         the default journal and inodes\n"
		"  -N, --inodes N         inode numbers (default: one per 16 KiB), rounded\n"
		"                         up to a multiple of 16; inode 0 is reserved, so\n"
		"                         N - 1 are usable\n"
		"  -J, --journal-blocks N journal size in 4 KiB blocks, %u..%u\n"
		"                         (default: %u, less on small devices)\n"
		"  -L, --label LABEL      volume label, up to 31 printable bytes\n"
		"  -F, --force            overwrite an existing file system\n"
		"  -q, --quiet            print nothing on success\n"
		"  -V, --version          show the version and the format version\n"
		"  -h, --help             show this help\n"
		"\n"
		"A DEVICE in use (a mounted image) is refused.\n"
		"\n"
		"Exit status: 0 on success, 1 on any error.\n",
		MIN_BLOCKS_DEFAULT, MIN_LOG_BLOCKS, XV6_LOG_MAX + 1,
		DEF_LOG_BLOCKS);
}

/* "1 block", "2 blocks": @n with the right noun. */
static const char *blocks_str(uint64_t n, char *buf, size_t size)
{
	snprintf(buf, size, "%" PRIu64 " block%s", n, n == 1 ? "" : "s");
	return buf;
}

/*
 * parse_num - a whole decimal number, nothing else: no sign, no blanks,
 * no trailing garbage, no overflow.  With @suffix, K, M, G or T (times
 * 2^10 .. 2^40, optionally followed by "iB" or "B") may follow.
 * Returns 0 and *@out, or -1.
 */
static int parse_num(const char *s, bool suffix, uint64_t *out)
{
	uint64_t v, mul = 1;
	char *end;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -1;
	if (suffix) {
		switch (*end) {
		case 'k': case 'K': mul = 1ull << 10; end++; break;
		case 'm': case 'M': mul = 1ull << 20; end++; break;
		case 'g': case 'G': mul = 1ull << 30; end++; break;
		case 't': case 'T': mul = 1ull << 40; end++; break;
		default: break;
		}
		if (mul > 1 && end[0] == 'i' && end[1] == 'B')
			end += 2;
		else if (mul > 1 && *end == 'B')
			end++;
	}
	if (*end != '\0' || v > UINT64_MAX / mul)
		return -1;
	*out = v * mul;
	return 0;
}

/* Does @s hold a control character (or DEL)? */
static bool has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s == 0x7f)
			return true;
	return false;
}

/* A bad option: one line naming it, one line pointing at --help. */
__attribute__((format(printf, 1, 2)))
static int bad_usage(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, PROG ": ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '" PROG " --help' for more information.\n");
	return -1;
}

static int parse_args(int argc, char **argv, struct mkfs_opts *o)
{
	static const struct option longopts[] = {
		{ "size", required_argument, NULL, 's' },
		{ "inodes", required_argument, NULL, 'N' },
		{ "journal-blocks", required_argument, NULL, 'J' },
		{ "label", required_argument, NULL, 'L' },
		{ "force", no_argument, NULL, 'F' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":s:N:J:L:FqVh", longopts,
				NULL)) != -1) {
		switch (c) {
		case 's':
			if (parse_num(optarg, true, &o->size) || o->size == 0)
				return bad_usage("bad size '%s' (want bytes, optionally with a suffix K, M, G or T)",
						 optarg);
			break;
		case 'N':
			if (parse_num(optarg, false, &o->ninodes) ||
			    o->ninodes < 2 || o->ninodes > MAX_INODES)
				return bad_usage("bad inode count '%s' (want 2.." MAX_INODES_STR ")",
						 optarg);
			break;
		case 'J':
			if (parse_num(optarg, false, &o->log_blocks) ||
			    o->log_blocks < MIN_LOG_BLOCKS ||
			    o->log_blocks > XV6_LOG_MAX + 1)
				return bad_usage("bad journal size '%s' (want " MIN_LOG_STR ".." MAX_LOG_STR " blocks)",
						 optarg);
			break;
		case 'L':
			if (strlen(optarg) > 31)
				return bad_usage("label '%s' is longer than 31 bytes",
						 optarg);
			if (has_control(optarg))
				return bad_usage("label '%s' contains a control character",
						 optarg);
			o->label = optarg;
			break;
		case 'F':
			o->force = true;
			break;
		case 'q':
			o->quiet = true;
			break;
		case 'V':
			printf(PROG " (Bento) %s, xv6fs on-disk format version %u\n",
			       BENTO_VERSION, XV6_VERSION);
			exit(0);
		case 'h':
			usage(stdout);
			exit(0);
		case ':':
			return bad_usage("option '%s' needs an argument",
					 argv[optind - 1]);
		default:
			return bad_usage("unrecognized option '%s'",
					 argv[optind - 1]);
		}
	}
	if (optind != argc - 1)
		return bad_usage("%s", optind < argc ?
				 "expected one DEVICE argument, got more" :
				 "expected one DEVICE argument");
	o->path = argv[optind];
	return 0;
}

/* Write @len bytes at @off, all of them.  0 or -errno. */
static int pwrite_all(int fd, const void *buf, size_t len, uint64_t off)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = pwrite(fd, p, len, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

/* Zero blocks [start, start+n): punch or zero-out, else write zeroes. */
static int zero_blocks(int fd, bool blockdev, uint64_t start, uint64_t n)
{
	static char zeroes[1 << 20];
	uint64_t off = start * XV6_BLOCK_SIZE, len = n * XV6_BLOCK_SIZE;

	if (n == 0)
		return 0;
	if (blockdev) {
		uint64_t range[2] = { off, len };

		if (ioctl(fd, BLKZEROOUT, range) == 0)
			return 0;
	} else if (fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			     (off_t)off, (off_t)len) == 0) {
		return 0;
	}
	while (len > 0) {
		size_t chunk = len < sizeof(zeroes) ? len : sizeof(zeroes);
		int err = pwrite_all(fd, zeroes, chunk, off);

		if (err)
			return err;
		off += chunk;
		len -= chunk;
	}
	return 0;
}

/*
 * What is on the device already?  Returns the name of a recognizable file
 * system (or "data" for a nonzero block 0 of unknown kind), or NULL if the
 * start of the device is all zeroes.
 */
static const char *probe_existing(int fd)
{
	static char buf[72 * 1024];
	ssize_t n = pread(fd, buf, sizeof(buf), 0);
	size_t i;

	if (n <= 0)
		return NULL;
	if ((size_t)n < sizeof(buf))
		memset(buf + n, 0, sizeof(buf) - (size_t)n);
	if (memcmp(buf, &(uint32_t){ XV6_MAGIC }, 4) == 0)
		return "xv6fs";
	if ((uint8_t)buf[1080] == 0x53 && (uint8_t)buf[1081] == 0xef)
		return "ext2/3/4";
	if (memcmp(buf, "XFSB", 4) == 0)
		return "xfs";
	if (memcmp(buf + 65536 + 64, "_BHRfS_M", 8) == 0)
		return "btrfs";
	if (memcmp(buf + 4086, "SWAPSPACE2", 10) == 0)
		return "swap";
	if (memcmp(buf + 32769, "CD001", 5) == 0)
		return "iso9660";
	if (memcmp(buf + 82, "FAT32", 5) == 0 || memcmp(buf + 54, "FAT", 3) == 0)
		return "vfat";
	for (i = 0; i < XV6_BLOCK_SIZE; i++)
		if (buf[i])
			return "data";
	return NULL;
}

/* Set bits [from, to) in the bitmap area starting at @start. */
static int set_bits(int fd, uint64_t start, uint64_t from, uint64_t to)
{
	static uint8_t blk[XV6_BLOCK_SIZE];
	uint64_t b, cur = UINT64_MAX;
	int err;

	for (b = from; b < to; b++) {
		uint64_t bno = b / XV6_BITS_PER_BLOCK;
		uint32_t bit = b % XV6_BITS_PER_BLOCK;

		if (bno != cur) {
			if (cur != UINT64_MAX) {
				err = pwrite_all(fd, blk, sizeof(blk),
						 (start + cur) * XV6_BLOCK_SIZE);
				if (err)
					return err;
			}
			if (pread(fd, blk, sizeof(blk),
				  (off_t)((start + bno) * XV6_BLOCK_SIZE)) !=
			    (ssize_t)sizeof(blk))
				return -EIO;
			cur = bno;
		}
		blk[bit / 8] |= (uint8_t)(1u << (bit % 8));
	}
	if (cur != UINT64_MAX)
		return pwrite_all(fd, blk, sizeof(blk),
				  (start + cur) * XV6_BLOCK_SIZE);
	return 0;
}

static uint64_t div_up(uint64_t a, uint64_t b)
{
	return (a + b - 1) / b;
}

/* Compute the layout into @sb.  0, or -1 after printing why not. */
static int plan_layout(const struct mkfs_opts *o, uint64_t nblocks,
		       struct xv6_disk_super *sb)
{
	uint64_t ninodes = o->ninodes, log = o->log_blocks;
	char have[48], need[48];

	if (nblocks > UINT32_MAX) {
		fprintf(stderr, PROG ": %s: %s is more than xv6fs supports (at most 4294967295 blocks, just under 16 TiB)\n",
			o->path, blocks_str(nblocks, have, sizeof(have)));
		return -1;
	}
	if (ninodes == 0) {
		ninodes = nblocks * XV6_BLOCK_SIZE / BYTES_PER_INODE;
		if (ninodes > MAX_DEF_INODES)
			ninodes = MAX_DEF_INODES;
		if (ninodes < 64)
			ninodes = 64;
	}
	ninodes = div_up(ninodes, XV6_INODES_PER_BLOCK) * XV6_INODES_PER_BLOCK;
	if (log == 0) {
		log = nblocks / 32;
		if (log > DEF_LOG_BLOCKS)
			log = DEF_LOG_BLOCKS;
		if (log < MIN_LOG_BLOCKS)
			log = MIN_LOG_BLOCKS;
	}

	memset(sb, 0, sizeof(*sb));
	sb->magic = XV6_MAGIC;
	sb->version = XV6_VERSION;
	sb->block_size = XV6_BLOCK_SIZE;
	sb->inode_size = XV6_INODE_SIZE;
	sb->nblocks = nblocks;
	sb->ninodes = ninodes;
	sb->log_start = 1;
	sb->log_blocks = log;
	sb->imap_start = sb->log_start + log;
	sb->imap_blocks = div_up(ninodes, XV6_BITS_PER_BLOCK);
	sb->bmap_start = sb->imap_start + sb->imap_blocks;
	sb->bmap_blocks = div_up(nblocks, XV6_BITS_PER_BLOCK);
	sb->itable_start = sb->bmap_start + sb->bmap_blocks;
	sb->itable_blocks = ninodes / XV6_INODES_PER_BLOCK;
	sb->data_start = sb->itable_start + sb->itable_blocks;
	sb->root_ino = XV6_ROOT_INO;
	sb->orphan_slots = XV6_ORPHAN_SLOTS;
	if (sb->data_start + 16 > nblocks) {
		/* The least N with room for the areas and 16 data blocks
		 * (the block bitmap grows with N). */
		uint64_t fixed = sb->data_start - sb->bmap_blocks + 16;
		uint64_t least = fixed + 1;

		while (fixed + div_up(least, XV6_BITS_PER_BLOCK) > least)
			least = fixed + div_up(least, XV6_BITS_PER_BLOCK);
		fprintf(stderr, PROG ": %s: %s (%" PRIu64 " KiB) is too small: %" PRIu64 " inodes and a %" PRIu64 "-block journal need at least %s (%" PRIu64 " KiB)\n",
			o->path, blocks_str(nblocks, have, sizeof(have)),
			nblocks * 4, ninodes, log,
			blocks_str(least, need, sizeof(need)), least * 4);
		return -1;
	}
	return 0;
}

/* The device as main() sees it. */
struct mkfs_dev {
	int fd;			/* -1 until opened */
	bool blockdev;
	bool create;		/* the image file does not exist yet */
	bool created;		/* mkfs created it: remove it on failure */
	uint64_t bytes;		/* current size (0 for a file to create) */
	uint64_t nblocks;	/* size of the file system */
};

/* Lock an open image file against mounts and other tools.  0 or -1. */
static int lock_image(const struct mkfs_opts *o, int fd)
{
	if (flock(fd, LOCK_EX | LOCK_NB) == 0)
		return 0;
	if (errno == EWOULDBLOCK)
		fprintf(stderr, PROG ": %s: in use (mounted?)\n", o->path);
	else
		fprintf(stderr, PROG ": %s: cannot lock: %s\n", o->path,
			strerror(errno));
	return -1;
}

/*
 * open_device - open and lock an existing device and size it, or note
 * that an image file is to be created (with -s).  Creates nothing.
 * Returns 0 or -1 after printing why.
 */
static int open_device(const struct mkfs_opts *o, struct mkfs_dev *d)
{
	struct stat st;

	d->fd = -1;
	if (stat(o->path, &st) < 0) {
		if (errno == ENOENT && o->size) {
			d->create = true;
			d->nblocks = o->size / XV6_BLOCK_SIZE;
			return 0;
		}
		if (errno == ENOENT)
			fprintf(stderr, PROG ": %s: no such file (give -s SIZE to create an image)\n",
				o->path);
		else
			fprintf(stderr, PROG ": %s: %s\n", o->path,
				strerror(errno));
		return -1;
	}
	d->blockdev = S_ISBLK(st.st_mode);
	if (!d->blockdev && !S_ISREG(st.st_mode)) {
		fprintf(stderr, PROG ": %s: not a regular file or block device\n",
			o->path);
		return -1;
	}

	/* O_EXCL on a block device fails if it is mounted or held. */
	d->fd = open(o->path, O_RDWR | (d->blockdev ? O_EXCL : 0));
	if (d->fd < 0) {
		if (errno == EBUSY)
			fprintf(stderr, PROG ": %s: in use (mounted?)\n",
				o->path);
		else
			fprintf(stderr, PROG ": %s: %s\n", o->path,
				strerror(errno));
		return -1;
	}
	if (!d->blockdev && lock_image(o, d->fd) < 0)
		return -1;
	if (d->blockdev) {
		if (ioctl(d->fd, BLKGETSIZE64, &d->bytes) < 0) {
			fprintf(stderr, PROG ": %s: cannot size the device: %s\n",
				o->path, strerror(errno));
			return -1;
		}
		if (o->size > d->bytes) {
			fprintf(stderr, PROG ": %s: size %" PRIu64 " is larger than the device (%" PRIu64 " bytes)\n",
				o->path, o->size, d->bytes);
			return -1;
		}
	} else {
		d->bytes = (uint64_t)st.st_size;
	}
	d->nblocks = (o->size ? o->size : d->bytes) / XV6_BLOCK_SIZE;
	return 0;
}

/*
 * size_image - create the image file (if it is to be) and extend it to
 * -s.  Runs only after every check passed.  0 or -1 after printing why.
 */
static int size_image(const struct mkfs_opts *o, struct mkfs_dev *d)
{
	if (d->create) {
		d->fd = open(o->path, O_RDWR | O_CREAT | O_EXCL, 0644);
		if (d->fd < 0) {
			fprintf(stderr, PROG ": %s: cannot create: %s\n",
				o->path, strerror(errno));
			return -1;
		}
		d->created = true;
		if (lock_image(o, d->fd) < 0)
			return -1;
	}
	if (!d->blockdev && o->size > d->bytes &&
	    ftruncate(d->fd, (off_t)o->size) < 0) {
		fprintf(stderr, PROG ": %s: cannot extend to %" PRIu64 " bytes: %s\n",
			o->path, o->size, strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * Write the root directory: one block holding one unused record (so the
 * first entries need no allocation), and its inode (its own parent).
 */
static int write_root(int fd, const struct xv6_disk_super *sb)
{
	static uint8_t blk[XV6_BLOCK_SIZE];
	struct xv6_disk_dirent *de = (struct xv6_disk_dirent *)blk;
	struct xv6_disk_inode ino;
	struct timespec now;
	int err;

	de->rec_len = XV6_BLOCK_SIZE;
	err = pwrite_all(fd, blk, sizeof(blk),
			 sb->data_start * XV6_BLOCK_SIZE);
	if (err)
		return err;

	clock_gettime(CLOCK_REALTIME, &now);
	memset(&ino, 0, sizeof(ino));
	ino.mode = S_IFDIR | 0755;
	ino.nlink = 2;
	ino.uid = getuid();
	ino.gid = getgid();
	ino.atime_sec = ino.mtime_sec = ino.ctime_sec = (uint64_t)now.tv_sec;
	ino.atime_nsec = ino.mtime_nsec = ino.ctime_nsec =
		(uint32_t)now.tv_nsec;
	ino.generation = 1;
	ino.parent = XV6_ROOT_INO;
	ino.size = XV6_BLOCK_SIZE;
	ino.nblocks = 1;
	ino.addr[0] = (uint32_t)sb->data_start;
	ino.crc = (uint32_t)crc32(0, (const void *)&ino, XV6_INODE_CRC_LEN);
	return pwrite_all(fd, &ino, sizeof(ino),
			  sb->itable_start * XV6_BLOCK_SIZE +
				  XV6_ROOT_INO * XV6_INODE_SIZE);
}

static int write_fs(int fd, bool blockdev, struct xv6_disk_super *sb,
		    const char *label)
{
	static uint8_t blk0[XV6_BLOCK_SIZE];
	uint64_t imap_bits = sb->imap_blocks * XV6_BITS_PER_BLOCK;
	uint64_t bmap_bits = sb->bmap_blocks * XV6_BITS_PER_BLOCK;
	int err;

	/* 1. Clear block 0 first, so a failed mkfs leaves no old magic. */
	err = pwrite_all(fd, blk0, sizeof(blk0), 0);
	if (err)
		return err;

	/* 2. Zero the journal, bitmaps and inode table. */
	err = zero_blocks(fd, blockdev, sb->log_start,
			  sb->data_start - sb->log_start);
	if (err)
		return err;

	/* 3. Bitmaps: inode 0 and the root; metadata; padding bits. */
	err = set_bits(fd, sb->imap_start, 0, XV6_ROOT_INO + 1);
	if (!err)
		err = set_bits(fd, sb->imap_start, sb->ninodes, imap_bits);
	if (!err)
		err = set_bits(fd, sb->bmap_start, 0, sb->data_start + 1);
	if (!err)
		err = set_bits(fd, sb->bmap_start, sb->nblocks, bmap_bits);
	if (!err)
		err = write_root(fd, sb);
	if (err)
		return err;
	if (fsync(fd) < 0)
		return -errno;

	/* 4. The superblock, last. */
	if (getrandom(sb->uuid, sizeof(sb->uuid), 0) != sizeof(sb->uuid) ||
	    getrandom(&sb->hash_seed, sizeof(sb->hash_seed), 0) !=
		    sizeof(sb->hash_seed))
		return -EIO;
	sb->mkfs_time = (uint64_t)time(NULL);
	if (label)
		strncpy(sb->label, label, sizeof(sb->label) - 1);
	sb->crc = (uint32_t)crc32(0, (const void *)sb, XV6_SUPER_CRC_LEN);
	memcpy(blk0, sb, sizeof(*sb));
	err = pwrite_all(fd, blk0, sizeof(blk0), 0);
	if (err)
		return err;
	if (fsync(fd) < 0)
		return -errno;
	return 0;
}

int main(int argc, char **argv)
{
	struct mkfs_opts o = { 0 };
	struct mkfs_dev d = { .fd = -1 };
	struct xv6_disk_super sb;
	const char *what;
	char label[48] = "";
	int err;

	/* 1. Everything that can be checked before touching the device. */
	if (parse_args(argc, argv, &o) < 0)
		return 1;
	if (open_device(&o, &d) < 0)
		goto fail;
	if (plan_layout(&o, d.nblocks, &sb) < 0)
		goto fail;
	if (d.fd >= 0) {
		what = probe_existing(d.fd);
		if (what && strcmp(what, "data") != 0 && !o.force) {
			fprintf(stderr, PROG ": %s contains an %s file system; use -F to overwrite it\n",
				o.path, what);
			goto fail;
		}
	}

	/* 2. Create or extend the image, write the file system. */
	if (size_image(&o, &d) < 0)
		goto fail;
	err = write_fs(d.fd, d.blockdev, &sb, o.label);
	if (err) {
		fprintf(stderr, PROG ": %s: writing the file system failed: %s\n",
			o.path, strerror(-err));
		goto fail;
	}
	if (close(d.fd) < 0) {
		d.fd = -1;
		fprintf(stderr, PROG ": %s: %s\n", o.path, strerror(errno));
		goto fail;
	}
	if (o.label && o.label[0])
		snprintf(label, sizeof(label), ", label \"%s\"", o.label);
	if (!o.quiet)
		printf("%s: xv6fs, %" PRIu64 " blocks of 4 KiB (%" PRIu64 " MiB), %" PRIu64 " usable inodes, journal %" PRIu64 " blocks, data from block %" PRIu64 "%s\n",
		       o.path, sb.nblocks, sb.nblocks / 256, sb.ninodes - 1,
		       sb.log_blocks, sb.data_start, label);
	return 0;

fail:
	if (d.fd >= 0)
		close(d.fd);
	if (d.created && unlink(o.path) < 0)
		fprintf(stderr, PROG ": %s: cannot remove the unfinished image: %s\n",
			o.path, strerror(errno));
	return 1;
}
