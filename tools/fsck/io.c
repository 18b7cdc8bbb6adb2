/*
 * io.c - block and inode I/O for fsck.xv6fs, through the overlay.
 *
 * Reads look in the overlay first (blocks "written" by a check-only run,
 * and with -n the journal's pending transaction), then at the image.
 * Writes go to the image when repairing, else to the overlay.  The
 * overlay is an open-addressing hash table of whole blocks; it holds at
 * most the blocks fsck changes, which are metadata blocks.
 *
 * An I/O error on the image is an operational error (exit 8): the check
 * cannot go on without the blocks it needs.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "fsck.h"

static struct fsck_overlay_ent *ov_find(struct fsck *f, uint64_t bno)
{
	size_t i;

	if (f->ov_cap == 0)
		return NULL;
	for (i = (size_t)(bno * 0x9e3779b97f4a7c15ull) & (f->ov_cap - 1);;
	     i = (i + 1) & (f->ov_cap - 1)) {
		if (!f->ov[i].data || f->ov[i].blockno == bno)
			return &f->ov[i];
	}
}

static void ov_grow(struct fsck *f)
{
	struct fsck_overlay_ent *old = f->ov;
	size_t i, old_cap = f->ov_cap;

	f->ov_cap = old_cap ? old_cap * 2 : 256;
	f->ov = fsck_zalloc(f, f->ov_cap * sizeof(*f->ov));
	for (i = 0; i < old_cap; i++) {
		if (old[i].data)
			*ov_find(f, old[i].blockno) = old[i];
	}
	free(old);
}

void fsck_overlay_put(struct fsck *f, uint64_t bno, const void *buf)
{
	struct fsck_overlay_ent *e;

	if ((f->ov_n + 1) * 2 > f->ov_cap)
		ov_grow(f);
	e = ov_find(f, bno);
	if (!e->data) {
		e->data = fsck_zalloc(f, XV6_BLOCK_SIZE);
		e->blockno = bno;
		f->ov_n++;
	}
	memcpy(e->data, buf, XV6_BLOCK_SIZE);
}

void fsck_bread(struct fsck *f, uint64_t bno, void *buf)
{
	struct fsck_overlay_ent *e = ov_find(f, bno);
	size_t done = 0;

	if (e && e->data) {
		memcpy(buf, e->data, XV6_BLOCK_SIZE);
		return;
	}
	if (bno >= f->dev_blocks)
		fsck_fatal(f, FSCK_ERROR, "block %llu is past the end of the image",
			   (unsigned long long)bno);
	while (done < XV6_BLOCK_SIZE) {
		ssize_t n = pread(f->fd, (char *)buf + done,
				  XV6_BLOCK_SIZE - done,
				  (off_t)(bno * XV6_BLOCK_SIZE + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			fsck_fatal(f, FSCK_ERROR, "block %llu: read failed: %s",
				   (unsigned long long)bno,
				   n < 0 ? strerror(errno) : "end of file");
		done += (size_t)n;
	}
}

void fsck_bwrite(struct fsck *f, uint64_t bno, const void *buf)
{
	size_t done = 0;

	if (f->mode == FSCK_MODE_CHECK) {
		fsck_overlay_put(f, bno, buf);
		return;
	}
	while (done < XV6_BLOCK_SIZE) {
		ssize_t n = pwrite(f->fd, (const char *)buf + done,
				   XV6_BLOCK_SIZE - done,
				   (off_t)(bno * XV6_BLOCK_SIZE + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			fsck_fatal(f, FSCK_ERROR, "block %llu: write failed: %s",
				   (unsigned long long)bno,
				   n < 0 ? strerror(errno) : "no space");
		done += (size_t)n;
	}
	f->changes++;
}

void fsck_sync(struct fsck *f)
{
	if (f->mode != FSCK_MODE_CHECK && fsync(f->fd) < 0)
		fsck_fatal(f, FSCK_ERROR, "fsync failed: %s", strerror(errno));
}

uint32_t fsck_inode_crc(const struct xv6_disk_inode *di)
{
	return (uint32_t)crc32(0, (const void *)di, XV6_INODE_CRC_LEN);
}

static uint64_t inode_block(struct fsck *f, uint32_t ino)
{
	return f->sb.itable_start + ino / XV6_INODES_PER_BLOCK;
}

void fsck_iread(struct fsck *f, uint32_t ino, struct xv6_disk_inode *di)
{
	uint8_t blk[XV6_BLOCK_SIZE];

	fsck_bread(f, inode_block(f, ino), blk);
	memcpy(di, blk + (ino % XV6_INODES_PER_BLOCK) * XV6_INODE_SIZE,
	       sizeof(*di));
}

void fsck_iwrite(struct fsck *f, uint32_t ino, struct xv6_disk_inode *di)
{
	uint8_t blk[XV6_BLOCK_SIZE];

	di->crc = di->mode ? fsck_inode_crc(di) : 0;
	fsck_bread(f, inode_block(f, ino), blk);
	memcpy(blk + (ino % XV6_INODES_PER_BLOCK) * XV6_INODE_SIZE, di,
	       sizeof(*di));
	fsck_bwrite(f, inode_block(f, ino), blk);
}

bool fsck_bit(const uint8_t *map, uint64_t n)
{
	return map[n / 8] & (1u << (n % 8));
}

void fsck_setbit(uint8_t *map, uint64_t n)
{
	map[n / 8] |= (uint8_t)(1u << (n % 8));
}

void fsck_clrbit(uint8_t *map, uint64_t n)
{
	map[n / 8] &= (uint8_t)~(1u << (n % 8));
}

uint64_t fsck_alloc_block(struct fsck *f)
{
	uint64_t b;

	for (b = f->sb.data_start; b < f->sb.nblocks; b++) {
		if (!fsck_bit(f->bmap_calc, b) && !fsck_bit(f->bmap_disk, b)) {
			fsck_setbit(f->bmap_calc, b);
			fsck_setbit(f->bmap_disk, b);
			f->bmap_dirty = true;
			return b;
		}
	}
	/* Fall back to blocks the disk bitmap wrongly marks used. */
	for (b = f->sb.data_start; b < f->sb.nblocks; b++) {
		if (!fsck_bit(f->bmap_calc, b)) {
			fsck_setbit(f->bmap_calc, b);
			fsck_setbit(f->bmap_disk, b);
			f->bmap_dirty = true;
			return b;
		}
	}
	return 0;
}

uint32_t fsck_alloc_inode(struct fsck *f)
{
	uint32_t i;

	for (i = XV6_ROOT_INO + 1; i < f->sb.ninodes; i++) {
		if (!fsck_bit(f->imap_calc, i) && !f->ino[i].mode) {
			fsck_setbit(f->imap_calc, i);
			fsck_setbit(f->imap_disk, i);
			f->imap_dirty = true;
			return i;
		}
	}
	return 0;
}

void fsck_free_block(struct fsck *f, uint64_t bno)
{
	if (bno < f->sb.data_start || bno >= f->sb.nblocks)
		return;
	fsck_clrbit(f->bmap_calc, bno);
	if (fsck_bit(f->bmap_disk, bno)) {
		fsck_clrbit(f->bmap_disk, bno);
		f->bmap_dirty = true;
	}
}
