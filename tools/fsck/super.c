/*
 * super.c - superblock validation and journal recovery for fsck.xv6fs.
 *
 * The superblock has no backup copy, so fsck cannot rebuild one: an image
 * whose block 0 is not an xv6fs superblock (zeroes, wrong magic) is "not
 * an xv6fs image" (exit 8); one whose fields are inconsistent cannot be
 * checked further (exit 4).  A superblock whose checksum alone is wrong,
 * with every field valid, gets a fresh checksum (-y).
 *
 * Journal: a committed transaction that was not installed is replayed
 * with -y and -p, as mount would (docs/xv6fs-format.md, "Recovery").
 * With -n it is laid over the image in memory instead, so the rest of the
 * check sees the image as mount would leave it; "journal needs recovery"
 * then counts as a problem left uncorrected (exit 4), because the image
 * on disk is not consistent until something replays it.  A header whose
 * transaction is incomplete (a commit torn by a crash) is what mount
 * leaves behind too, since it discards such a header without clearing
 * it: fsck says so but does not count it as a problem.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "fsck.h"

static uint64_t div_up(uint64_t a, uint64_t b)
{
	return (a + b - 1) / b;
}

static bool all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;
	size_t i;

	for (i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

/* Does area [start, start+len) lie in 1..nblocks-1 and miss [s2, s2+l2)? */
static bool area_ok(const struct xv6_disk_super *s, uint64_t start,
		    uint64_t len)
{
	return start >= 1 && len >= 1 && start < s->nblocks &&
	       len <= s->nblocks - start;
}

static bool overlap(uint64_t a, uint64_t al, uint64_t b, uint64_t bl)
{
	return a < b + bl && b < a + al;
}

/* First reason the superblock's fields are inconsistent, or NULL. */
static const char *super_invalid(const struct xv6_disk_super *s)
{
	uint64_t st[4] = { s->log_start, s->imap_start, s->bmap_start,
			   s->itable_start };
	uint64_t ln[4] = { s->log_blocks, s->imap_blocks, s->bmap_blocks,
			   s->itable_blocks };
	int i, j;

	if (s->version != XV6_VERSION)
		return "unknown version";
	if (s->block_size != XV6_BLOCK_SIZE)
		return "block size is not 4096";
	if (s->inode_size != XV6_INODE_SIZE)
		return "inode size is not 256";
	if (s->features != 0)
		return "unknown feature bits set";
	if (s->nblocks < 2 || s->nblocks > UINT32_MAX)
		return "block count out of range";
	if (s->ninodes < XV6_INODES_PER_BLOCK || s->ninodes > UINT32_MAX ||
	    s->ninodes % XV6_INODES_PER_BLOCK)
		return "inode count out of range";
	if (s->log_blocks < 65 || s->log_blocks > XV6_LOG_MAX + 1)
		return "journal size out of range";
	if (s->imap_blocks != div_up(s->ninodes, XV6_BITS_PER_BLOCK))
		return "inode bitmap size does not match the inode count";
	if (s->bmap_blocks != div_up(s->nblocks, XV6_BITS_PER_BLOCK))
		return "block bitmap size does not match the block count";
	if (s->itable_blocks != s->ninodes / XV6_INODES_PER_BLOCK)
		return "inode table size does not match the inode count";
	for (i = 0; i < 4; i++) {
		if (!area_ok(s, st[i], ln[i]))
			return "a metadata area lies outside the file system";
		if (s->data_start < st[i] + ln[i])
			return "data area starts inside a metadata area";
		for (j = 0; j < i; j++)
			if (overlap(st[i], ln[i], st[j], ln[j]))
				return "metadata areas overlap";
	}
	if (s->data_start >= s->nblocks)
		return "no data area";
	if (s->root_ino != XV6_ROOT_INO)
		return "root inode is not 1";
	if (s->orphan_slots != XV6_ORPHAN_SLOTS)
		return "orphan table size is not 960";
	return NULL;
}

/* -v: the volume label, unprintable bytes shown as '?'. */
static void show_label(struct fsck *f, const struct xv6_disk_super *s)
{
	char label[sizeof(s->label) + 1];
	size_t i;

	for (i = 0; i < sizeof(s->label) && s->label[i]; i++)
		label[i] = (unsigned char)s->label[i] < 0x20 ||
			   (unsigned char)s->label[i] >= 0x7f ? '?' :
							       s->label[i];
	label[i] = '\0';
	if (i)
		fsck_info(f, "label: \"%s\"", label);
	else
		fsck_info(f, "label: none");
}

/*
 * fsck_super - read and validate the superblock into f->sb; exits 8 for
 * "not an xv6fs image", 4 for a superblock that cannot be trusted or an
 * image shorter than the file system.
 */
void fsck_super(struct fsck *f)
{
	uint8_t blk[XV6_BLOCK_SIZE];
	struct xv6_disk_super *s = &f->sb;
	const char *why;
	uint32_t crc;

	if (f->dev_blocks < 1)
		fsck_fatal(f, FSCK_ERROR, "image is smaller than one 4 KiB block; not an xv6fs image");
	fsck_bread(f, XV6_SUPER_BLOCKNO, blk);
	memcpy(s, blk, sizeof(*s));
	if (all_zero(blk, sizeof(*s)))
		fsck_fatal(f, FSCK_ERROR, "superblock is all zeroes; not an xv6fs image (no backup superblock exists)");
	if (s->magic != XV6_MAGIC)
		fsck_fatal(f, FSCK_ERROR, "bad magic 0x%08x in superblock; not an xv6fs image",
			   s->magic);

	why = super_invalid(s);
	if (why) {
		fsck_problem(f, FSCK_NOFIX, NULL, "superblock: %s; cannot check further",
			     why);
		fsck_fatal(f, FSCK_UNCORRECTED, "superblock is corrupt, image left unchanged");
	}
	crc = (uint32_t)crc32(0, (const void *)s, XV6_SUPER_CRC_LEN);
	if (crc != s->crc &&
	    fsck_problem(f, FSCK_UNSAFE, "checksum rewritten",
			 "superblock: checksum 0x%08x, computed 0x%08x (fields valid)",
			 s->crc, crc)) {
		s->crc = crc;
		memcpy(blk, s, sizeof(*s));
		fsck_bwrite(f, XV6_SUPER_BLOCKNO, blk);
	}
	if (s->nblocks > f->dev_blocks) {
		fsck_problem(f, FSCK_NOFIX, NULL, "superblock: file system has %" PRIu64 " blocks but the image only %" PRIu64 " (truncated image)",
			     (uint64_t)s->nblocks, f->dev_blocks);
		fsck_fatal(f, FSCK_UNCORRECTED, "image is truncated; cannot check further");
	}
	fsck_info(f, "superblock: %" PRIu64 " blocks, %" PRIu64 " usable inodes, journal %" PRIu64 "+%" PRIu64 ", data from %" PRIu64,
		  (uint64_t)s->nblocks, (uint64_t)s->ninodes - 1,
		  (uint64_t)s->log_start, (uint64_t)s->log_blocks,
		  (uint64_t)s->data_start);
	show_label(f, s);
}

/* crc of the header (crc field as 0) continued over the data blocks. */
static uint32_t log_crc(struct fsck *f, struct xv6_disk_loghdr *h,
			uint8_t *data)
{
	uint32_t saved = h->crc, crc;

	h->crc = 0;
	crc = (uint32_t)crc32(0, (const void *)h, XV6_BLOCK_SIZE);
	h->crc = saved;
	return (uint32_t)crc32(crc, data, (uInt)h->count * XV6_BLOCK_SIZE);
}

/* Is the header a committed transaction?  Reads its blocks into *@data. */
static bool log_committed(struct fsck *f, struct xv6_disk_loghdr *h,
			  uint8_t **data)
{
	const struct xv6_disk_super *s = &f->sb;
	uint32_t i;

	*data = NULL;
	if (h->magic != XV6_LOG_MAGIC || h->count == 0 ||
	    h->count > XV6_LOG_MAX || h->count > s->log_blocks - 1)
		return false;
	for (i = 0; i < h->count; i++) {
		if (h->block[i] >= s->nblocks ||
		    (h->block[i] >= s->log_start &&
		     h->block[i] < s->log_start + s->log_blocks))
			return false;
	}
	*data = fsck_zalloc(f, (size_t)h->count * XV6_BLOCK_SIZE);
	for (i = 0; i < h->count; i++)
		fsck_bread(f, s->log_start + 1 + i,
			   *data + (size_t)i * XV6_BLOCK_SIZE);
	return log_crc(f, h, *data) == h->crc;
}

/*
 * fsck_journal - replay (repair modes) or overlay (-n) a committed
 * transaction; clear a header that holds anything else but nothing to
 * replay.
 */
void fsck_journal(struct fsck *f)
{
	struct xv6_disk_loghdr *h = fsck_zalloc(f, sizeof(*h));
	uint8_t *data;
	uint32_t i;

	fsck_bread(f, f->sb.log_start, h);
	if (log_committed(f, h, &data)) {
		if (f->mode == FSCK_MODE_CHECK) {
			fsck_problem(f, FSCK_SAFE, NULL,
				     "journal needs recovery: transaction %" PRIu64 " (%u blocks) committed but not installed; checking as if replayed",
				     (uint64_t)h->seq, h->count);
			for (i = 0; i < h->count; i++)
				fsck_overlay_put(f, h->block[i],
						 data + (size_t)i * XV6_BLOCK_SIZE);
		} else {
			for (i = 0; i < h->count; i++)
				fsck_bwrite(f, h->block[i],
					    data + (size_t)i * XV6_BLOCK_SIZE);
			fsck_sync(f);
			h->count = 0;
			fsck_bwrite(f, f->sb.log_start, h);
			fsck_sync(f);
			f->journal_replayed = true;
			printf("%s: recovering journal: replayed transaction %" PRIu64 " (%u blocks)\n",
			       f->path, (uint64_t)h->seq, i);
		}
		/* Block 0 may have been replayed: take the superblock
		 * fields as they are now (they never change after mkfs). */
		goto out;
	}
	if (h->magic == XV6_LOG_MAGIC && h->count != 0) {
		/* A commit torn by a crash: mount ignores it and does not
		 * clear it, so it is a normal state, not a problem. */
		printf("%s: journal: incomplete transaction %" PRIu64 " (%u blocks, bad checksum or block list) will not be replayed\n",
		       f->path, (uint64_t)h->seq, h->count);
	} else if (h->magic != XV6_LOG_MAGIC && h->magic != 0) {
		if (fsck_problem(f, FSCK_SAFE, "header zeroed",
				 "journal: header has bad magic 0x%08x",
				 h->magic)) {
			memset(h, 0, sizeof(*h));
			fsck_bwrite(f, f->sb.log_start, h);
		}
	}
out:
	free(data);
	free(h);
}
