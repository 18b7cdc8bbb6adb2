/*
 * xv6fs_log.h - journal replay for code outside the file system (fsck).
 *
 * Replay reads the log header at @log_start; if it names a committed
 * transaction (magic, count in range, every home block inside the file
 * system and outside the log, crc over header and data matching), it
 * copies each logged block home through the buffer cache, flushes, clears
 * the header and flushes again.  See docs/xv6fs-format.md, "Recovery".
 */
#ifndef XV6FS_LOG_H
#define XV6FS_LOG_H

#include <bento/bento.h>

/*
 * xv6_log_replay - replay the journal of the xv6fs on @sb's device.
 * @nblocks, @log_start, @log_blocks come from a validated superblock.
 * Returns the number of blocks replayed (0: nothing to do), or -EIO.
 * Unless @sb is read-only, the header is cleared afterwards; a read-only
 * caller gets the count and nothing is written.
 */
int xv6_log_replay(struct bento_sb *sb, uint64_t nblocks, uint64_t log_start,
		   uint64_t log_blocks);

#endif /* XV6FS_LOG_H */
