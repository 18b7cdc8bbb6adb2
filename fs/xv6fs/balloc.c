/*
 * balloc.c - the block and inode bitmaps.
 *
 * Allocation sets a bit in a bitmap block and logs that block in the
 * caller's transaction.  Freeing a block does not clear its bit at once:
 * xv6_bfree logs the bitmap block (so the commit has room for it) and
 * queues the block with xv6_log_defer_free; the commit clears the bit
 * (xv6_bfree_commit).  A block freed by a transaction therefore cannot be
 * handed out again before that transaction is durable.  Inode bits are
 * cleared at once: inodes are pure metadata, journaled together.
 *
 * Free counts are kept in memory, computed at mount by counting bits;
 * statfs reports blocks waiting for their commit as free, and a write
 * that runs out of space while some are waiting forces a commit and
 * tries again.
 * Searches start at a goal (the block after a file's previous block, so
 * sequential files come out contiguous) or at a rotating cursor.
 *
 * Locks: balloc_lock and ialloc_lock protect the counts, cursors and the
 * contents of the bitmap blocks; both are leaves.
 */
#define BENTO_LOG_SUBSYS "xv6fs"
#include "xv6fs.h"

bool xv6_valid_data_block(struct xv6_fs *fs, uint64_t b)
{
	return b >= fs->data_start && b < fs->nblocks;
}

/* Count the zero bits of bitmap [start, start+nblocks) below @limit. */
static int count_free(struct xv6_fs *fs, uint64_t start, uint64_t nblocks,
		      uint64_t limit, uint64_t *out)
{
	struct bento_buf *b;
	uint64_t i, n = 0;
	uint32_t off, bit;
	int err;

	for (i = 0; i < nblocks; i++) {
		err = bento_bread(fs->sb, start + i, &b);
		if (err)
			return err;
		for (off = 0; off < XV6_BLOCK_SIZE; off += 8) {
			uint64_t w = bento_buf_get64(b, off);
			uint64_t base = i * XV6_BITS_PER_BLOCK + off * 8;

			if (w == ~0ull)
				continue;
			for (bit = 0; bit < 64; bit++)
				if (!(w & (1ull << bit)) && base + bit < limit)
					n++;
		}
		bento_brelse(b);
	}
	*out = n;
	return 0;
}

int xv6_balloc_init(struct xv6_fs *fs)
{
	int err;

	bento_mutex_init(&fs->balloc_lock);
	bento_mutex_init(&fs->ialloc_lock);
	fs->bcursor = fs->data_start;
	fs->icursor = XV6_ROOT_INO + 1;
	err = count_free(fs, fs->bmap_start, fs->bmap_blocks, fs->nblocks,
			 &fs->bfree);
	if (!err)
		err = count_free(fs, fs->imap_start, fs->imap_blocks,
				 fs->ninodes, &fs->ifree);
	if (err) {
		bento_mutex_destroy(&fs->ialloc_lock);
		bento_mutex_destroy(&fs->balloc_lock);
	}
	return err;
}

/*
 * find_zero - find and set a clear bit in [from, limit) of the bitmap at
 * @start, skipping bits below @low.  Returns 0 and *@out, -ENOSPC, or an
 * I/O error.  Caller holds the bitmap's lock.
 */
static int find_zero(struct xv6_tx *tx, uint64_t start, uint64_t from,
		     uint64_t low, uint64_t limit, uint64_t *out)
{
	struct xv6_fs *fs = tx->fs;
	uint64_t bit = from, blk;
	struct bento_buf *b;
	int err;

	while (bit < limit) {
		uint32_t off;

		blk = bit / XV6_BITS_PER_BLOCK;
		err = bento_bread(fs->sb, start + blk, &b);
		if (err)
			return err;
		for (; bit < limit && bit / XV6_BITS_PER_BLOCK == blk; bit++) {
			uint8_t v;

			off = (uint32_t)(bit % XV6_BITS_PER_BLOCK);
			if ((off & 63) == 0 && bit + 64 <= limit &&
			    bento_buf_get64(b, off / 8) == ~0ull) {
				bit += 63;
				continue;
			}
			v = bento_buf_get8(b, off / 8);
			if ((v & (1u << (off % 8))) || bit < low)
				continue;
			bento_buf_put8(b, off / 8, v | (uint8_t)(1u << (off % 8)));
			xv6_log_write(tx, b);
			bento_brelse(b);
			*out = bit;
			return 0;
		}
		bento_brelse(b);
	}
	return -ENOSPC;
}

int xv6_balloc(struct xv6_tx *tx, uint64_t goal, uint64_t *out)
{
	struct xv6_fs *fs = tx->fs;
	uint64_t from;
	int err;

	bento_mutex_lock(&fs->balloc_lock);
	if (fs->bfree == 0) {
		err = -ENOSPC;
		goto out;
	}
	from = xv6_valid_data_block(fs, goal) ? goal : fs->bcursor;
	err = find_zero(tx, fs->bmap_start, from, fs->data_start, fs->nblocks,
			out);
	if (err == -ENOSPC && from > fs->data_start)
		err = find_zero(tx, fs->bmap_start, fs->data_start,
				fs->data_start, from, out);
	if (!err) {
		fs->bfree--;
		fs->bcursor = *out + 1 < fs->nblocks ? *out + 1 : fs->data_start;
	}
out:
	bento_mutex_unlock(&fs->balloc_lock);
	return err;
}

int xv6_bfree(struct xv6_tx *tx, uint64_t blockno)
{
	struct xv6_fs *fs = tx->fs;
	struct bento_buf *b;
	uint32_t off;
	int err;

	if (!xv6_valid_data_block(fs, blockno))
		return bento_fs_corrupt(fs->sb, -EUCLEAN, "block %llu: freeing a block outside the data area",
					(unsigned long long)blockno);
	bento_mutex_lock(&fs->balloc_lock);
	err = bento_bread(fs->sb, fs->bmap_start +
				  blockno / XV6_BITS_PER_BLOCK, &b);
	if (err)
		goto out;
	off = (uint32_t)(blockno % XV6_BITS_PER_BLOCK);
	if (!(bento_buf_get8(b, off / 8) & (1u << (off % 8)))) {
		err = bento_fs_corrupt(fs->sb, -EUCLEAN, "block %llu: freed but already free in the bitmap",
				       (unsigned long long)blockno);
	} else {
		xv6_log_write(tx, b);
		err = xv6_log_defer_free(tx, blockno, 1);
		if (!err)
			fs->bpending++;
	}
	bento_brelse(b);
out:
	bento_mutex_unlock(&fs->balloc_lock);
	return err;
}

void xv6_bfree_commit(struct xv6_fs *fs, const struct xv6_extent *e)
{
	struct bento_buf *b = NULL;
	uint64_t blk = UINT64_MAX, n;

	bento_mutex_lock(&fs->balloc_lock);
	for (n = e->start; n < e->start + e->len; n++) {
		uint32_t off = (uint32_t)(n % XV6_BITS_PER_BLOCK);
		uint8_t v;

		if (fs->bpending)
			fs->bpending--;
		if (n / XV6_BITS_PER_BLOCK != blk) {
			bento_brelse(b);
			b = NULL;
			blk = n / XV6_BITS_PER_BLOCK;
			if (bento_bread(fs->sb, fs->bmap_start + blk, &b))
				b = NULL;
		}
		if (!b)
			continue;
		v = bento_buf_get8(b, off / 8);
		if (v & (1u << (off % 8))) {
			bento_buf_put8(b, off / 8,
				       v & (uint8_t)~(1u << (off % 8)));
			fs->bfree++;
		}
	}
	bento_brelse(b);
	bento_mutex_unlock(&fs->balloc_lock);
}

uint64_t xv6_bpending(struct xv6_fs *fs)
{
	uint64_t n;

	bento_mutex_lock(&fs->balloc_lock);
	n = fs->bpending;
	bento_mutex_unlock(&fs->balloc_lock);
	return n;
}

int xv6_ialloc_bit(struct xv6_tx *tx, uint64_t *ino)
{
	struct xv6_fs *fs = tx->fs;
	uint64_t from;
	int err;

	bento_mutex_lock(&fs->ialloc_lock);
	if (fs->ifree == 0) {
		err = -ENOSPC;
		goto out;
	}
	from = fs->icursor;
	err = find_zero(tx, fs->imap_start, from, XV6_ROOT_INO + 1,
			fs->ninodes, ino);
	if (err == -ENOSPC)
		err = find_zero(tx, fs->imap_start, XV6_ROOT_INO + 1,
				XV6_ROOT_INO + 1, from, ino);
	if (!err) {
		fs->ifree--;
		fs->icursor = *ino + 1 < fs->ninodes ? *ino + 1 :
						       XV6_ROOT_INO + 1;
	}
out:
	bento_mutex_unlock(&fs->ialloc_lock);
	return err;
}

int xv6_ifree_bit(struct xv6_tx *tx, uint64_t ino)
{
	struct xv6_fs *fs = tx->fs;
	struct bento_buf *b;
	uint32_t off = (uint32_t)(ino % XV6_BITS_PER_BLOCK);
	uint8_t v;
	int err;

	bento_mutex_lock(&fs->ialloc_lock);
	err = bento_bread(fs->sb, fs->imap_start + ino / XV6_BITS_PER_BLOCK,
			  &b);
	if (err)
		goto out;
	v = bento_buf_get8(b, off / 8);
	if (!(v & (1u << (off % 8)))) {
		err = bento_fs_corrupt(fs->sb, -EUCLEAN, "inode %llu: freed but already free in the bitmap",
				       (unsigned long long)ino);
	} else {
		bento_buf_put8(b, off / 8, v & (uint8_t)~(1u << (off % 8)));
		xv6_log_write(tx, b);
		fs->ifree++;
	}
	bento_brelse(b);
out:
	bento_mutex_unlock(&fs->ialloc_lock);
	return err;
}
