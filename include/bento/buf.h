/*
 * bento/buf.h - the block device and its buffer cache, as a file system
 * sees them.
 *
 * A mounted file system has one block device of BENTO_BLOCK_SIZE blocks.
 * Metadata is reached through the buffer cache: bento_bread() returns a
 * referenced buffer holding one block; the file system reads and writes
 * its bytes only through the bounds-checked accessors below (never through
 * a raw pointer), and drops the reference with bento_brelse().
 *
 * Write-back protocol.  Three ways a modified buffer reaches the device:
 *
 *   bento_bwrite(b)        writes it now and waits; the caller decides when.
 *   bento_buf_mark_dirty(b) lets the host write it back whenever it likes,
 *                          at once or much later (use this only for
 *                          metadata no journal orders).
 *   neither                the block stays modified in memory only.  A
 *                          journal does this: it holds a reference to every
 *                          logged buffer, writes its copy to the log, and
 *                          only after the commit record is durable writes
 *                          the buffer home with bento_bwrite().
 *
 * The host never writes a buffer on its own unless it was marked dirty, and
 * never evicts a buffer someone holds a reference to.  A completed write is
 * not durable until bento_dev_flush() returns: that is the barrier.
 *
 * File data may bypass the cache with bento_dev_read()/bento_dev_write(),
 * which move whole blocks between the device and a caller's memory.  A
 * bypassing write replaces any cached copy of those blocks; the caller
 * must not hold references to them.
 *
 * Concurrency: every function here may be called from any thread and may
 * sleep.  The cache keeps its own structures consistent; the *contents* of
 * a shared buffer are the file system's to protect (two threads modifying
 * one bitmap block need the file system's lock).
 */
#ifndef BENTO_BUF_H
#define BENTO_BUF_H

#include <bento/types.h>

struct bento_sb;
struct bento_buf;	/* opaque: one cached block */

/*
 * bento_bread - get a referenced buffer holding block @blockno, read from
 * the device if it is not cached.
 * Returns 0 and sets *@bp, -EIO if the device failed, or -EUCLEAN if
 * @blockno is past the end of the device (reported through the error hook
 * once, naming the block).
 */
int bento_bread(struct bento_sb *sb, uint64_t blockno, struct bento_buf **bp);

/*
 * bento_getblk - like bento_bread, but without reading: for a block about
 * to be overwritten whole.  Contents are those of the cached copy if there
 * is one, zeroes otherwise.
 */
int bento_getblk(struct bento_sb *sb, uint64_t blockno,
		 struct bento_buf **bp);

/* bento_brelse - drop a reference from bread/getblk.  NULL is ignored. */
void bento_brelse(struct bento_buf *b);

/* bento_bget - take one more reference to a buffer already held. */
void bento_bget(struct bento_buf *b);

/* bento_buf_blockno - the block number the buffer caches. */
uint64_t bento_buf_blockno(const struct bento_buf *b);

/* bento_buf_mark_dirty - the host may write @b back at any time. */
void bento_buf_mark_dirty(struct bento_buf *b);

/*
 * bento_bwrite - write @b to its block now and wait for the write to
 * complete (not for it to be durable: see bento_dev_flush).  Clears the
 * dirty mark.  Returns 0 or -EIO.
 */
int bento_bwrite(struct bento_buf *b);

/*
 * bento_dev_flush - barrier: every write completed before the call is
 * durable when it returns 0.  Returns 0 or -EIO.
 */
int bento_dev_flush(struct bento_sb *sb);

/*
 * bento_sync_dirty - write back every buffer marked dirty, and wait.
 * Does not flush; call bento_dev_flush after it for durability.
 */
int bento_sync_dirty(struct bento_sb *sb);

/* bento_dev_nblocks - size of the device in blocks. */
uint64_t bento_dev_nblocks(struct bento_sb *sb);

/*
 * bento_dev_read / bento_dev_write - move @n whole blocks starting at
 * @blockno between the device and @data (n * BENTO_BLOCK_SIZE bytes),
 * bypassing the cache for file data.  Returns 0, -EIO, or -EUCLEAN for a
 * range past the end of the device.
 */
int bento_dev_read(struct bento_sb *sb, uint64_t blockno, uint32_t n,
		   void *data);
int bento_dev_write(struct bento_sb *sb, uint64_t blockno, uint32_t n,
		    const void *data);

/*
 * Bounds-checked access to a buffer's bytes.
 *
 * Every accessor checks @off and @len against BENTO_BLOCK_SIZE.  Offsets
 * often come from disk, so an out-of-range access is treated as
 * corruption: it is reported through the error hook, naming the block,
 * and the call returns -EUCLEAN without touching memory (the getters
 * return 0 and note the failure, see bento_buf_failed).
 */
int bento_buf_read(const struct bento_buf *b, uint32_t off, void *dst,
		   uint32_t len);
int bento_buf_write(struct bento_buf *b, uint32_t off, const void *src,
		    uint32_t len);
int bento_buf_zero(struct bento_buf *b, uint32_t off, uint32_t len);
int bento_buf_copy(struct bento_buf *dst, uint32_t doff,
		   const struct bento_buf *src, uint32_t soff, uint32_t len);
/* Compare @len bytes at @off with @mem: <0, 0, >0 as memcmp; -EUCLEAN-safe
 * (an out-of-range compare reports and returns nonzero). */
int bento_buf_cmp(const struct bento_buf *b, uint32_t off, const void *mem,
		  uint32_t len);

/* Little-endian fixed-width fields.  Out of range: report, return 0. */
uint8_t bento_buf_get8(const struct bento_buf *b, uint32_t off);
uint16_t bento_buf_get16(const struct bento_buf *b, uint32_t off);
uint32_t bento_buf_get32(const struct bento_buf *b, uint32_t off);
uint64_t bento_buf_get64(const struct bento_buf *b, uint32_t off);
void bento_buf_put8(struct bento_buf *b, uint32_t off, uint8_t v);
void bento_buf_put16(struct bento_buf *b, uint32_t off, uint16_t v);
void bento_buf_put32(struct bento_buf *b, uint32_t off, uint32_t v);
void bento_buf_put64(struct bento_buf *b, uint32_t off, uint64_t v);

/*
 * bento_buf_failed - true if any accessor on @b went out of bounds since
 * the buffer was read.  Lets a caller of many getters check once.
 */
bool bento_buf_failed(const struct bento_buf *b);

#endif /* BENTO_BUF_H */
