/*
 * bitmaps.c - pass 5 of fsck.xv6fs: both bitmaps against what the
 * passes found.
 *
 * fsck_bitmaps_load (called before pass 1) reads both bitmaps and
 * starts the computed ones with what is always set: the metadata blocks,
 * inode 0, and the padding bits past the end.  The passes then set the
 * bit of every block claimed and every inode in use.  Pass 5 reports the
 * differences as ranges ("blocks 100-163 marked in use but not used"),
 * at most MAX_RANGES lines a bitmap, and writes the computed bitmap
 * blocks that differ from the image.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fsck.h"

#define MAX_RANGES 20

void fsck_bitmaps_load(struct fsck *f)
{
	const struct xv6_disk_super *s = &f->sb;
	size_t bbytes = s->bmap_blocks * XV6_BLOCK_SIZE;
	size_t ibytes = s->imap_blocks * XV6_BLOCK_SIZE;
	uint64_t i;

	f->bmap_disk = fsck_zalloc(f, bbytes);
	f->bmap_calc = fsck_zalloc(f, bbytes);
	f->dup = fsck_zalloc(f, bbytes);
	f->imap_disk = fsck_zalloc(f, ibytes);
	f->imap_calc = fsck_zalloc(f, ibytes);
	for (i = 0; i < s->bmap_blocks; i++)
		fsck_bread(f, s->bmap_start + i,
			   f->bmap_disk + i * XV6_BLOCK_SIZE);
	for (i = 0; i < s->imap_blocks; i++)
		fsck_bread(f, s->imap_start + i,
			   f->imap_disk + i * XV6_BLOCK_SIZE);

	for (i = 0; i < s->data_start; i++)
		fsck_setbit(f->bmap_calc, i);
	for (i = s->nblocks; i < (uint64_t)bbytes * 8; i++)
		fsck_setbit(f->bmap_calc, i);
	fsck_setbit(f->imap_calc, 0);
	for (i = s->ninodes; i < (uint64_t)ibytes * 8; i++)
		fsck_setbit(f->imap_calc, i);
}

/* Report the differences of one bitmap as ranges; returns how many. */
static unsigned long compare(struct fsck *f, const char *what,
			     const char *unit, const uint8_t *disk,
			     const uint8_t *calc, uint64_t nbits)
{
	unsigned long ranges = 0, shown = 0;
	uint64_t i = 0, start;

	while (i < nbits) {
		bool used;

		if ((i % 8) == 0 && i + 8 <= nbits &&
		    disk[i / 8] == calc[i / 8]) {
			i += 8;
			continue;
		}
		if (fsck_bit(disk, i) == fsck_bit(calc, i)) {
			i++;
			continue;
		}
		used = fsck_bit(calc, i);
		for (start = i; i < nbits && fsck_bit(calc, i) == used &&
				fsck_bit(disk, i) != used; i++)
			;
		ranges++;
		if (++shown > MAX_RANGES) {
			fsck_problem_quiet(f);
			continue;
		}
		if (i - start == 1)
			fsck_problem(f, FSCK_SAFE, "fixed",
				     "%s: %s %" PRIu64 " %s", what, unit, start,
				     used ? "in use but marked free" :
					    "marked in use but not used");
		else
			fsck_problem(f, FSCK_SAFE, "fixed",
				     "%s: %ss %" PRIu64 "-%" PRIu64 " %s", what,
				     unit, start, i - 1,
				     used ? "in use but marked free" :
					    "marked in use but not used");
	}
	if (shown > MAX_RANGES)
		printf("%s: %lu more ranges differ\n", what,
		       shown - MAX_RANGES);
	return ranges;
}

/* Write the blocks of @calc that differ from the image. */
static void write_back(struct fsck *f, uint64_t start, uint64_t nblocks,
		       const uint8_t *calc)
{
	uint8_t blk[XV6_BLOCK_SIZE];
	uint64_t i;

	for (i = 0; i < nblocks; i++) {
		fsck_bread(f, start + i, blk);
		if (memcmp(blk, calc + i * XV6_BLOCK_SIZE, XV6_BLOCK_SIZE))
			fsck_bwrite(f, start + i, calc + i * XV6_BLOCK_SIZE);
	}
}

void fsck_pass5(struct fsck *f)
{
	const struct xv6_disk_super *s = &f->sb;

	compare(f, "block bitmap", "block", f->bmap_disk, f->bmap_calc,
		s->bmap_blocks * XV6_BITS_PER_BLOCK);
	compare(f, "inode bitmap", "inode", f->imap_disk, f->imap_calc,
		s->imap_blocks * XV6_BITS_PER_BLOCK);
	write_back(f, s->bmap_start, s->bmap_blocks, f->bmap_calc);
	write_back(f, s->imap_start, s->imap_blocks, f->imap_calc);
}
