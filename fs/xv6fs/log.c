/*
 * log.c - the xv6fs journal: physical redo logging of metadata blocks
 * with group commit.
 *
 * An op brackets its metadata changes with xv6_begin_op/xv6_end_op.
 * begin_op reserves XV6_OP_BLOCKS log blocks (waiting while a commit runs
 * or the log is too full); every metadata buffer the op modifies is
 * handed to xv6_log_write, which keeps one buffer reference per block
 * until the block is installed (so the cache cannot evict or write it
 * early; journaled buffers are never marked dirty).  Blocks freed by an
 * op are only noted (xv6_log_defer_free): their bitmap bits are cleared
 * by the commit itself, so they cannot be reused before the transaction
 * that freed them is durable.
 *
 * Commit runs in the thread that ends the last op in flight, when the log
 * is nearly full, somebody asked (fsync, sync, unmount), or the
 * transaction is older than XV6_COMMIT_AGE seconds.  Protocol (see
 * docs/xv6fs-format.md):
 *
 *   0. if the previous commit's header clear may not be durable yet,
 *      flush, so no crash can pair that header with new log blocks;
 *   1. write the blocks to the log area; flush;
 *   2. write the header (count, seq, crc over header and blocks); flush:
 *      the commit point;
 *   3. write the blocks home; flush;
 *   4. write the header with count 0 (durable by the next flush).
 *
 * The barriers, not the crc, are what make a torn commit impossible: a
 * durable header always describes durable log blocks.  The crc cannot do
 * it alone: an inode-table block (16 inodes, each ending in the CRC-32 of
 * its first 252 bytes) or block 0 (likewise the superblock) contributes
 * to a CRC-32 only through which of its 256-byte slots are zero, not
 * through their contents, so a stale log block of another such block
 * with the same pattern passes the check.  The crc still catches a header
 * torn from its blocks by media errors or foreign writes.
 *
 * A failed commit makes the error sticky: every later op fails with -EIO
 * rather than risk a half-installed state.
 *
 * Live upgrade hands the running transaction to the new build instead
 * of committing it (xv6_log_export/xv6_log_import): the home block
 * numbers, the deferred frees and the sequence numbers go into the state
 * record; the buffers themselves are shared through the host's cache,
 * and the new build takes its own reference on each before the old one
 * drops its.  Nothing is written, so the on-disk protocol is unchanged;
 * if the last header clear was not known durable, the new build's first
 * commit flushes first (step 0) as the old one's would have.
 *
 * Limits: commits are synchronous in the committing op's thread; there is
 * no checkpointing beyond the single transaction in the log.
 */
#define BENTO_LOG_SUBSYS "xv6fs"
#include "xv6fs.h"
#include "xv6fs_log.h"

#define HDR_COUNT offsetof(struct xv6_disk_loghdr, count)
#define HDR_SEQ offsetof(struct xv6_disk_loghdr, seq)
#define HDR_CRC offsetof(struct xv6_disk_loghdr, crc)
#define HDR_BLOCK offsetof(struct xv6_disk_loghdr, block)

/* crc of a header block (crc field read as 0) continued over @data. */
static uint32_t log_crc(uint8_t *hdr, const uint8_t *data, uint32_t count)
{
	uint32_t saved = bento_get_le32(hdr + HDR_CRC), crc;

	bento_put_le32(hdr + HDR_CRC, 0);
	crc = bento_crc32(0, hdr, XV6_BLOCK_SIZE);
	bento_put_le32(hdr + HDR_CRC, saved);
	return bento_crc32(crc, data, (size_t)count * XV6_BLOCK_SIZE);
}

/* Write one whole block home through the cache.  0 or -EIO. */
static int write_home(struct bento_sb *sb, uint64_t blockno,
		      const void *data)
{
	struct bento_buf *b;
	int err;

	err = bento_getblk(sb, blockno, &b);
	if (err)
		return err;
	err = bento_buf_write(b, 0, data, XV6_BLOCK_SIZE);
	if (!err)
		err = bento_bwrite(b);
	bento_brelse(b);
	return err;
}

int xv6_log_replay(struct bento_sb *sb, uint64_t nblocks, uint64_t log_start,
		   uint64_t log_blocks)
{
	uint8_t *hdr, *data = NULL;
	uint32_t count, i;
	int err;

	hdr = bento_alloc(XV6_BLOCK_SIZE);
	if (!hdr)
		return -ENOMEM;
	err = bento_dev_read(sb, log_start, 1, hdr);
	if (err)
		goto out;

	/* 1. Is there a committed transaction? */
	count = bento_get_le32(hdr + HDR_COUNT);
	if (bento_get_le32(hdr) != XV6_LOG_MAGIC || count == 0 ||
	    count > XV6_LOG_MAX || count > log_blocks - 1)
		goto out;
	for (i = 0; i < count; i++) {
		uint32_t home = bento_get_le32(hdr + HDR_BLOCK + 4 * i);

		if (home >= nblocks ||
		    (home >= log_start && home < log_start + log_blocks)) {
			bento_warn("journal: header names block %u outside the file system, not replaying",
				   home);
			goto out;
		}
	}
	data = bento_alloc((size_t)count * XV6_BLOCK_SIZE);
	if (!data) {
		err = -ENOMEM;
		goto out;
	}
	err = bento_dev_read(sb, log_start + 1, count, data);
	if (err)
		goto out;
	if (log_crc(hdr, data, count) != bento_get_le32(hdr + HDR_CRC)) {
		bento_info("journal: transaction %llu incomplete (bad crc), discarded",
			   (unsigned long long)bento_get_le64(hdr + HDR_SEQ));
		goto out;
	}
	if (sb->read_only) {
		err = (int)count;
		goto out;
	}

	/* 2. Install, flush, clear the header, flush. */
	for (i = 0; i < count && !err; i++)
		err = write_home(sb, bento_get_le32(hdr + HDR_BLOCK + 4 * i),
				 data + (size_t)i * XV6_BLOCK_SIZE);
	if (!err)
		err = bento_dev_flush(sb);
	if (!err) {
		bento_put_le32(hdr + HDR_COUNT, 0);
		err = bento_dev_write(sb, log_start, 1, hdr);
	}
	if (!err)
		err = bento_dev_flush(sb);
	if (!err) {
		bento_info("journal: replayed transaction %llu, %u blocks",
			   (unsigned long long)bento_get_le64(hdr + HDR_SEQ), count);
		err = (int)count;
	}
out:
	bento_free(data);
	bento_free(hdr);
	return err;
}

int xv6_log_init(struct xv6_fs *fs)
{
	struct xv6_log *log = &fs->log;

	memset(log, 0, sizeof(*log));
	log->max = (uint32_t)(fs->log_blocks - 1);
	if (log->max > XV6_LOG_MAX)
		log->max = XV6_LOG_MAX;
	log->nslot = 1;
	while (log->nslot < 2 * log->max)
		log->nslot <<= 1;
	log->bufs = bento_zalloc(sizeof(*log->bufs) * log->max);
	log->blocknos = bento_zalloc(sizeof(*log->blocknos) * log->max);
	log->slot = bento_zalloc(sizeof(*log->slot) * log->nslot);
	log->scratch = bento_alloc((size_t)(log->max + 1) * XV6_BLOCK_SIZE);
	if (!log->bufs || !log->blocknos || !log->slot || !log->scratch) {
		bento_free(log->bufs);
		bento_free(log->blocknos);
		bento_free(log->slot);
		bento_free(log->scratch);
		return -ENOMEM;
	}
	log->seq = 1;
	bento_mutex_init(&log->lock);
	bento_cond_init(&log->cond);
	return 0;
}

void xv6_log_destroy(struct xv6_fs *fs)
{
	struct xv6_log *log = &fs->log;
	uint32_t i;

	for (i = 0; i < log->count; i++)
		bento_brelse(log->bufs[i]);
	bento_free(log->bufs);
	bento_free(log->blocknos);
	bento_free(log->slot);
	bento_free(log->scratch);
	bento_free(log->freed);
	bento_cond_destroy(&log->cond);
	bento_mutex_destroy(&log->lock);
}

static uint32_t slot_of(const struct xv6_log *log, uint64_t blockno)
{
	return (uint32_t)((blockno * 0x9e3779b97f4a7c15ull) >> 40) &
	       (log->nslot - 1);
}

/*
 * commit - write the running transaction to the log and install it.
 * Caller set log->committing; no op is in flight and no lock is held.
 * The transaction's fields are ours until committing is cleared; the
 * bookkeeping other threads read (count, seq, committed, nfreed, the
 * clear counters) is left to commit_locked, under the lock.
 * @flush_first: a header clear may not be durable yet (step 0).  Sets
 * *@cleared when it wrote a header clear.  Returns 0 or -EIO.
 */
static int commit(struct xv6_fs *fs, bool flush_first, bool *cleared)
{
	struct xv6_log *log = &fs->log;
	uint8_t *hdr = log->scratch, *data = hdr + XV6_BLOCK_SIZE;
	uint32_t i;
	int err = 0;

	*cleared = false;
	/* Deferred frees become bitmap changes of this transaction. */
	for (i = 0; i < log->nfreed; i++)
		xv6_bfree_commit(fs, &log->freed[i]);
	if (log->count == 0)
		return 0;

	/* The log blocks and the header with its crc, in memory. */
	memset(hdr, 0, XV6_BLOCK_SIZE);
	for (i = 0; i < log->count; i++) {
		/* A buffer we hold a reference to keeps its block. */
		BENTO_ASSERT(bento_buf_blockno(log->bufs[i]) ==
			     log->blocknos[i]);
		err = bento_buf_read(log->bufs[i], 0,
				     data + (size_t)i * XV6_BLOCK_SIZE,
				     XV6_BLOCK_SIZE);
		if (err)
			goto fail;
		bento_put_le32(hdr + HDR_BLOCK + 4 * i, (uint32_t)log->blocknos[i]);
	}
	bento_put_le32(hdr, XV6_LOG_MAGIC);
	bento_put_le32(hdr + HDR_COUNT, log->count);
	bento_put_le64(hdr + HDR_SEQ, log->seq);
	bento_put_le32(hdr + HDR_CRC, log_crc(hdr, data, log->count));

	/* 0-2. Old clear durable; log blocks durable; then the header. */
	if (flush_first)
		err = bento_dev_flush(fs->sb);
	if (!err)
		err = bento_dev_write(fs->sb, fs->log_start + 1, log->count,
				      data);
	if (!err)
		err = bento_dev_flush(fs->sb);
	if (!err)
		err = bento_dev_write(fs->sb, fs->log_start, 1, hdr);
	if (!err)
		err = bento_dev_flush(fs->sb);
	if (err)
		goto fail;

	/* 3-4. Install home, flush, clear the header. */
	for (i = 0; i < log->count && !err; i++)
		err = bento_bwrite(log->bufs[i]);
	if (!err)
		err = bento_dev_flush(fs->sb);
	if (!err) {
		bento_put_le32(hdr + HDR_COUNT, 0);
		err = bento_dev_write(fs->sb, fs->log_start, 1, hdr);
	}
	if (err)
		goto fail;
	*cleared = true;

	for (i = 0; i < log->count; i++)
		bento_brelse(log->bufs[i]);
	memset(log->slot, 0, sizeof(*log->slot) * log->nslot);
	return 0;

fail:
	bento_err("journal: commit of transaction %llu failed (%d); no further changes will be written",
		  (unsigned long long)log->seq, err);
	return -EIO;
}

/* Run a commit with log->lock held on entry and exit. */
static void commit_locked(struct xv6_fs *fs)
{
	struct xv6_log *log = &fs->log;
	uint64_t clears = log->clears;
	bool flush_first = log->clears_durable != clears, cleared;
	int err;

	BENTO_ASSERT(log->outstanding == 0 && !log->committing);
	log->committing = true;
	log->want_commit = false;
	bento_mutex_unlock(&log->lock);
	err = commit(fs, flush_first, &cleared);
	bento_mutex_lock(&log->lock);
	if (err) {
		log->error = err;
	} else {
		/* A commit that wrote anything ran step 0: every clear
		 * before it is durable. */
		if (log->count)
			log->clears_durable = clears;
		log->clears += cleared;
		log->nfreed = 0;
		log->count = 0;
		log->committed = log->seq;
		log->seq++;
	}
	log->committing = false;
	bento_cond_broadcast(&log->cond);
}

int xv6_begin_op(struct xv6_fs *fs, struct xv6_tx *tx, uint32_t nblocks)
{
	struct xv6_log *log = &fs->log;
	int err;

	if (fs->read_only)
		return -EROFS;
	tx->fs = fs;
	tx->reserved = nblocks;
	tx->used = 0;
	bento_mutex_lock(&log->lock);
	for (;;) {
		if (log->error)
			break;
		if (log->committing) {
			bento_cond_wait(&log->cond, &log->lock);
			continue;
		}
		if (log->want_commit ||
		    log->count + log->reserve + nblocks > log->max) {
			if (log->outstanding == 0) {
				commit_locked(fs);
				continue;
			}
			log->want_commit = true;
			bento_cond_wait(&log->cond, &log->lock);
			continue;
		}
		break;
	}
	err = log->error;
	if (!err) {
		log->outstanding++;
		log->reserve += nblocks;
	}
	bento_mutex_unlock(&log->lock);
	return err;
}

static bool tx_old(struct xv6_log *log)
{
	struct bento_timespec now;

	if (log->count == 0)
		return false;
	bento_now(&now);
	return now.sec - log->start.sec >= XV6_COMMIT_AGE;
}

int xv6_end_op(struct xv6_tx *tx)
{
	struct xv6_fs *fs = tx->fs;
	struct xv6_log *log = &fs->log;
	int err;

	bento_mutex_lock(&log->lock);
	BENTO_ASSERT(log->outstanding > 0);
	log->outstanding--;
	log->reserve -= tx->reserved;
	if (log->outstanding == 0 && !log->committing &&
	    (log->want_commit || tx_old(log) ||
	     log->count + 2 * XV6_OP_BLOCKS > log->max))
		commit_locked(fs);
	else
		bento_cond_broadcast(&log->cond);
	err = log->error;
	bento_mutex_unlock(&log->lock);
	return err;
}

/*
 * log_find - the slot of @blockno in the running transaction's set, or
 * the free slot where it goes (log->slot[result] == 0).  log->lock held.
 */
static uint32_t log_find(struct xv6_log *log, uint64_t blockno)
{
	uint32_t s;

	for (s = slot_of(log, blockno); log->slot[s];
	     s = (s + 1) & (log->nslot - 1))
		if (log->blocknos[log->slot[s] - 1] == blockno)
			break;
	return s;
}

void xv6_log_write(struct xv6_tx *tx, struct bento_buf *b)
{
	struct xv6_log *log = &tx->fs->log;
	uint64_t blockno = bento_buf_blockno(b);
	uint32_t s;

	bento_mutex_lock(&log->lock);
	BENTO_ASSERT(log->outstanding > 0 && !log->committing);
	s = log_find(log, blockno);
	if (log->slot[s]) {
		/* The cache keeps one buffer per block. */
		BENTO_ASSERT(log->bufs[log->slot[s] - 1] == b);
		goto out;
	}
	/* An op that overruns its reservation borrows unreserved space;
	 * begin_op's accounting guarantees the log itself has room. */
	BENTO_ASSERT(log->count < log->max);
	if (log->count == 0)
		bento_now(&log->start);
	bento_bget(b);
	log->blocknos[log->count] = blockno;
	log->bufs[log->count++] = b;
	log->slot[s] = log->count;
	tx->used++;
out:
	bento_mutex_unlock(&log->lock);
}

bool xv6_tx_low(const struct xv6_tx *tx, uint32_t need)
{
	return tx->used + need > tx->reserved;
}

int xv6_log_defer_free(struct xv6_tx *tx, uint64_t start, uint64_t len)
{
	struct xv6_log *log = &tx->fs->log;
	struct xv6_extent *e;
	int err = 0;

	bento_mutex_lock(&log->lock);
	if (log->nfreed > 0) {
		e = &log->freed[log->nfreed - 1];
		if (e->start + e->len == start) {
			e->len += len;
			goto out;
		}
	}
	if (log->nfreed == log->freed_cap) {
		uint32_t cap = log->freed_cap ? 2 * log->freed_cap : 64;
		struct xv6_extent *n = bento_alloc(sizeof(*n) * cap);

		if (!n) {
			err = -ENOMEM;
			goto out;
		}
		if (log->nfreed)
			memcpy(n, log->freed, sizeof(*n) * log->nfreed);
		bento_free(log->freed);
		log->freed = n;
		log->freed_cap = cap;
	}
	log->freed[log->nfreed].start = start;
	log->freed[log->nfreed].len = len;
	log->nfreed++;
out:
	bento_mutex_unlock(&log->lock);
	return err;
}

int xv6_log_force(struct xv6_fs *fs)
{
	struct xv6_log *log = &fs->log;
	uint64_t target, clears;
	int err;

	if (fs->read_only)
		return 0;
	bento_mutex_lock(&log->lock);
	target = log->seq;
	if (log->count == 0 && log->nfreed == 0)
		target = log->committed;
	while (!log->error && log->committed < target) {
		if (!log->committing && log->outstanding == 0) {
			commit_locked(fs);
			continue;
		}
		log->want_commit = true;
		bento_cond_wait(&log->cond, &log->lock);
	}
	err = log->error;
	clears = log->clears;
	bento_mutex_unlock(&log->lock);
	if (!err)
		err = bento_dev_flush(fs->sb);
	if (!err) {
		/* That flush made every clear written before it durable. */
		bento_mutex_lock(&log->lock);
		if (log->clears_durable < clears)
			log->clears_durable = clears;
		bento_mutex_unlock(&log->lock);
	}
	return err;
}

/* XV6_ST_LOG: the running transaction's scalars, native u64 each. */
enum {
	LS_SEQ, LS_COMMITTED, LS_COUNT, LS_NFREED, LS_START_SEC,
	LS_START_NSEC, LS_FLAGS, LS_N
};
#define LS_WANT_COMMIT 1u	/* a commit was asked for */
#define LS_CLEAR_PENDING 2u	/* the last header clear may not be durable */

int xv6_log_export(struct xv6_fs *fs, struct bento_state *st)
{
	struct xv6_log *log = &fs->log;
	uint64_t v[LS_N];
	int err;

	bento_mutex_lock(&log->lock);
	while (log->committing)
		bento_cond_wait(&log->cond, &log->lock);
	err = log->error;
	if (!err && log->outstanding)
		err = -EBUSY;
	if (err)
		goto out;
	v[LS_SEQ] = log->seq;
	v[LS_COMMITTED] = log->committed;
	v[LS_COUNT] = log->count;
	v[LS_NFREED] = log->nfreed;
	v[LS_START_SEC] = (uint64_t)log->start.sec;
	v[LS_START_NSEC] = (uint64_t)log->start.nsec;
	v[LS_FLAGS] = (log->want_commit ? LS_WANT_COMMIT : 0) |
		      (log->clears_durable != log->clears ?
		       LS_CLEAR_PENDING : 0);
	err = bento_state_put(st, XV6_ST_LOG, v, sizeof(v));
	if (!err)
		err = bento_state_put(st, XV6_ST_LOGGED, log->blocknos,
				      (uint32_t)(sizeof(*log->blocknos) *
						 log->count));
	if (!err)
		err = bento_state_put(st, XV6_ST_FREED, log->freed,
				      (uint32_t)(sizeof(*log->freed) *
						 log->nfreed));
out:
	bento_mutex_unlock(&log->lock);
	return err;
}

/* Take a reference on logged block @blockno into the transaction. */
static int import_block(struct xv6_fs *fs, uint64_t blockno)
{
	struct xv6_log *log = &fs->log;
	struct bento_buf *b;
	uint32_t s;
	int err;

	if (blockno >= fs->nblocks || (blockno >= fs->log_start &&
				       blockno < fs->log_start + fs->log_blocks))
		return -EPROTO;
	s = log_find(log, blockno);
	if (log->slot[s] || log->count == log->max)
		return -EPROTO;
	/* A cache hit: the old build's modified buffer, not the disk's. */
	err = bento_bread(fs->sb, blockno, &b);
	if (err)
		return err;
	log->blocknos[log->count] = blockno;
	log->bufs[log->count++] = b;
	log->slot[s] = log->count;
	return 0;
}

int xv6_log_import(struct xv6_fs *fs, const struct bento_state *st)
{
	struct xv6_log *log = &fs->log;
	uint64_t v[LS_N], *blocknos = NULL, pending = 0, i;
	struct xv6_extent *freed = NULL;
	int64_t len;
	int err = -EPROTO;

	len = bento_state_get(st, XV6_ST_LOG, v, sizeof(v));
	if (len != sizeof(v) || v[LS_COUNT] > log->max ||
	    v[LS_NFREED] > UINT32_MAX / sizeof(*freed) ||
	    v[LS_COMMITTED] >= v[LS_SEQ] ||
	    bento_state_get(st, XV6_ST_LOGGED, NULL, 0) !=
		    (int64_t)(v[LS_COUNT] * sizeof(*blocknos)) ||
	    bento_state_get(st, XV6_ST_FREED, NULL, 0) !=
		    (int64_t)(v[LS_NFREED] * sizeof(*freed)))
		return -EPROTO;
	blocknos = bento_alloc(sizeof(*blocknos) * (v[LS_COUNT] + 1));
	freed = bento_alloc(sizeof(*freed) * (v[LS_NFREED] + 1));
	if (!blocknos || !freed) {
		err = -ENOMEM;
		goto out;
	}
	bento_state_get(st, XV6_ST_LOGGED, blocknos,
			(uint32_t)(sizeof(*blocknos) * v[LS_COUNT]));
	bento_state_get(st, XV6_ST_FREED, freed,
			(uint32_t)(sizeof(*freed) * v[LS_NFREED]));
	for (i = 0; i < v[LS_NFREED]; i++) {
		if (freed[i].len == 0 || freed[i].len > fs->nblocks ||
		    !xv6_valid_data_block(fs, freed[i].start) ||
		    !xv6_valid_data_block(fs, freed[i].start +
						  freed[i].len - 1))
			goto out;
		pending += freed[i].len;
	}

	/* No op runs yet; the lock is for form.  On failure the blocks
	 * taken so far are dropped by xv6_log_destroy. */
	bento_mutex_lock(&log->lock);
	err = 0;
	for (i = 0; i < v[LS_COUNT] && !err; i++)
		err = import_block(fs, blocknos[i]);
	if (!err) {
		bento_free(log->freed);
		log->freed = freed;
		log->freed_cap = (uint32_t)v[LS_NFREED] + 1;
		log->nfreed = (uint32_t)v[LS_NFREED];
		freed = NULL;
		log->seq = v[LS_SEQ];
		log->committed = v[LS_COMMITTED];
		log->start.sec = (int64_t)v[LS_START_SEC];
		log->start.nsec = (uint32_t)v[LS_START_NSEC];
		log->want_commit = v[LS_FLAGS] & LS_WANT_COMMIT;
		/* Our first commit flushes before it writes the log. */
		log->clears = v[LS_FLAGS] & LS_CLEAR_PENDING ? 1 : 0;
		log->clears_durable = 0;
	}
	bento_mutex_unlock(&log->lock);
	if (!err) {
		bento_mutex_lock(&fs->balloc_lock);
		fs->bpending += pending;
		bento_mutex_unlock(&fs->balloc_lock);
	}
out:
	bento_free(blocknos);
	bento_free(freed);
	return err;
}
