/*
 * bcache.c - the buffer cache: 4 KiB blocks of one device, shared by all
 * threads of a mounted file system.
 *
 * Layers.  A cache is split into up to 64 shards, each with its own
 * mutex, hash table, LRU list and share of the capacity; a block belongs
 * to the shard its mixed block number selects.  Threads working on
 * different blocks therefore rarely meet on one lock, and a hit costs
 * one shard lock, a hash lookup and a reference count.  Small caches
 * (under 128 blocks) have a single shard, so their LRU order is exact.
 *
 * A buffer's life:
 *
 *   miss      a buffer is inserted into the hash, LOADING and referenced,
 *             before the device read starts; a second thread missing on
 *             the same block finds it and waits on the shard's io_done
 *             condition, so a block is never read into two buffers.  A
 *             failed read marks it ERROR and unhashes it: every waiter
 *             returns -EIO and the last reference frees it.
 *   in use    refcnt > 0: never evicted.
 *   idle      refcnt == 0: on the shard's LRU (head = most recent).
 *   eviction  when a shard holds more than its capacity, idle buffers are
 *             taken from the LRU tail.  A clean one is freed (or reused by
 *             the miss that needed room); a dirty one is written first,
 *             with the lock dropped, and evicted once clean.
 *
 * Write-back follows the protocol of <bento/buf.h>: only bento_bwrite,
 * bento_sync_dirty and eviction write a buffer, the latter two only if it
 * is marked dirty.  The dirty mark is cleared *before* the write starts,
 * so a mark made during the write is not lost; a failed write marks the
 * buffer dirty again.  `writers` counts writes in flight, so a bypassing
 * bento_dev_write can wait for them and not be overtaken by stale data.
 *
 * Lock rules: a buffer's hnext, lru links, refcnt, flags and writers are
 * protected by its shard's lock; no shard lock is held during device I/O
 * or while taking another shard's lock.  The cache-wide statistics are
 * atomics.  The buffer's bytes are the file system's to protect.
 *
 * Limits: write-back writes one block per device call (blocks of one
 * shard are rarely adjacent); TODO(sync of many dirty blocks pays one
 * pwrite each; sort across shards and merge adjacent runs with a bounce
 * buffer or a writev op in the backend).
 */
#include <pthread.h>
#include <stdlib.h>

#include "bento_host.h"

#define BCACHE_MAX_SHARDS 64
#define BCACHE_SHARD_MIN 64		/* blocks per shard before splitting */
#define BCACHE_SYNC_BATCH 64		/* buffers written per unlock */
#define BCACHE_BYPASS_CHUNK 64		/* blocks pinned per dev_write step */

enum {
	BUF_HASHED = 1u << 0,		/* in its shard's hash */
	BUF_LOADING = 1u << 1,		/* the device read is in flight */
	BUF_ERROR = 1u << 2,		/* that read failed; unhashed */
	BUF_DIRTY = 1u << 3,		/* host may (must) write it back */
};

struct bento_buf {
	struct bento_bcache *cache;
	uint64_t blockno;
	struct bento_buf *hnext;		/* shard lock */
	struct bento_buf *lru_prev;		/* shard lock; on the LRU */
	struct bento_buf *lru_next;		/* iff hashed && !refcnt */
	uint32_t refcnt;			/* shard lock */
	uint16_t flags;				/* shard lock: BUF_* */
	uint16_t writers;			/* shard lock: writes running */
	bool failed;				/* atomic: accessor overran */
	uint8_t *data;				/* BENTO_BLOCK_SIZE bytes */
};

struct bcache_shard {
	pthread_mutex_t lock;
	pthread_cond_t io_done;		/* a LOADING or writers ended */
	struct bento_buf **hash;	/* lock */
	uint32_t hash_mask;
	uint64_t cap;			/* idle buffers kept at most */
	uint64_t nbufs;			/* lock: hashed buffers */
	uint64_t ndirty;		/* lock: of them dirty */
	struct bento_buf *lru_head;	/* lock: most recently released */
	struct bento_buf *lru_tail;	/* lock: next to evict */
	uint64_t hits, misses;		/* lock: statistics kept here so */
	uint64_t evictions;		/* a hit touches no shared line */
} __attribute__((aligned(64)));

struct bento_bcache {
	struct bento_blkdev *dev;
	struct bento_sb *sb;		/* for corruption reports; or NULL */
	uint32_t nshards;
	struct bcache_shard *shards;
	/* statistics, atomic (the per-hit ones live in the shards) */
	uint64_t writes, flushes, cached, dirty;
};

static void stat_add(uint64_t *counter, int64_t delta)
{
	__atomic_fetch_add(counter, (uint64_t)delta, __ATOMIC_RELAXED);
}

static uint64_t stat_get(const uint64_t *counter)
{
	return __atomic_load_n(counter, __ATOMIC_RELAXED);
}

/* splitmix64's finalizer: spreads sequential block numbers evenly. */
static uint64_t block_mix(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

static struct bcache_shard *shard_of(const struct bento_bcache *c,
				     uint64_t blockno)
{
	return &c->shards[block_mix(blockno) & (c->nshards - 1)];
}

static struct bento_buf **bucket_of(struct bcache_shard *s, uint64_t blockno)
{
	return &s->hash[(block_mix(blockno) >> 6) & s->hash_mask];
}

static void shard_lock(struct bcache_shard *s)
{
	BENTO_ASSERT(pthread_mutex_lock(&s->lock) == 0);
}

static void shard_unlock(struct bcache_shard *s)
{
	BENTO_ASSERT(pthread_mutex_unlock(&s->lock) == 0);
}

static void shard_wait(struct bcache_shard *s)
{
	BENTO_ASSERT(pthread_cond_wait(&s->io_done, &s->lock) == 0);
}

/* ---- buffers, hash and LRU (shard lock held) ---------------------------- */

static struct bento_buf *buf_alloc(struct bento_bcache *c)
{
	struct bento_buf *b = bento_zalloc(sizeof(*b));

	if (!b)
		return NULL;
	if (posix_memalign((void **)&b->data, BENTO_BLOCK_SIZE,
			   BENTO_BLOCK_SIZE) != 0) {
		bento_free(b);
		return NULL;
	}
	b->cache = c;
	return b;
}

static void buf_free(struct bento_buf *b)
{
	free(b->data);
	bento_free(b);
}

/* Free a list of buffers chained through hnext (no lock held). */
static void buf_free_list(struct bento_buf *b)
{
	while (b) {
		struct bento_buf *next = b->hnext;

		buf_free(b);
		b = next;
	}
}

static struct bento_buf *hash_find(struct bcache_shard *s, uint64_t blockno)
{
	struct bento_buf *b;

	for (b = *bucket_of(s, blockno); b; b = b->hnext)
		if (b->blockno == blockno)
			return b;
	return NULL;
}

static void hash_add(struct bcache_shard *s, struct bento_buf *b)
{
	struct bento_buf **head = bucket_of(s, b->blockno);

	b->hnext = *head;
	*head = b;
	b->flags |= BUF_HASHED;
	s->nbufs++;
	stat_add(&b->cache->cached, 1);
}

static void hash_del(struct bcache_shard *s, struct bento_buf *b)
{
	struct bento_buf **pp = bucket_of(s, b->blockno);

	while (*pp != b)
		pp = &(*pp)->hnext;
	*pp = b->hnext;
	b->hnext = NULL;
	b->flags &= (uint16_t)~BUF_HASHED;
	s->nbufs--;
	stat_add(&b->cache->cached, -1);
}

static void lru_del(struct bcache_shard *s, struct bento_buf *b)
{
	if (b->lru_prev)
		b->lru_prev->lru_next = b->lru_next;
	else
		s->lru_head = b->lru_next;
	if (b->lru_next)
		b->lru_next->lru_prev = b->lru_prev;
	else
		s->lru_tail = b->lru_prev;
	b->lru_prev = b->lru_next = NULL;
}

static void lru_add(struct bcache_shard *s, struct bento_buf *b, bool tail)
{
	if (tail) {
		b->lru_next = NULL;
		b->lru_prev = s->lru_tail;
		if (s->lru_tail)
			s->lru_tail->lru_next = b;
		else
			s->lru_head = b;
		s->lru_tail = b;
	} else {
		b->lru_prev = NULL;
		b->lru_next = s->lru_head;
		if (s->lru_head)
			s->lru_head->lru_prev = b;
		else
			s->lru_tail = b;
		s->lru_head = b;
	}
}

static void set_dirty(struct bcache_shard *s, struct bento_buf *b, bool on)
{
	if (on == !!(b->flags & BUF_DIRTY))
		return;
	if (on) {
		b->flags |= BUF_DIRTY;
		s->ndirty++;
		stat_add(&b->cache->dirty, 1);
	} else {
		b->flags &= (uint16_t)~BUF_DIRTY;
		s->ndirty--;
		stat_add(&b->cache->dirty, -1);
	}
}

static void buf_ref(struct bcache_shard *s, struct bento_buf *b)
{
	if (b->refcnt++ == 0 && (b->flags & BUF_HASHED))
		lru_del(s, b);
}

/*
 * Drop one reference.  An idle hashed buffer goes on the LRU (at the tail
 * if @tail: evict it next); an idle unhashed one (a failed read) is
 * returned for the caller to free after unlocking, else NULL.
 */
static struct bento_buf *buf_unref(struct bcache_shard *s,
				   struct bento_buf *b, bool tail)
{
	BENTO_ASSERT(b->refcnt > 0);
	if (--b->refcnt > 0)
		return NULL;
	if (b->flags & BUF_HASHED) {
		lru_add(s, b, tail);
		return NULL;
	}
	return b;
}

/* ---- write-back ---------------------------------------------------------- */

/* The device write of one buffer; no lock held, writers counted. */
static int buf_dev_write(struct bento_buf *b)
{
	struct bento_bcache *c = b->cache;

	if (c->dev->read_only) {
		bento_log(BENTO_LOG_ERR, "bento",
			  "block %llu: write to a read-only device refused",
			  (unsigned long long)b->blockno);
		return -EROFS;
	}
	stat_add(&c->writes, 1);
	return c->dev->ops->write(c->dev, b->blockno, 1, b->data);
}

/* Start a write of @b: clear dirty, count the writer (shard lock held). */
static bool buf_write_begin(struct bcache_shard *s, struct bento_buf *b)
{
	bool was_dirty = b->flags & BUF_DIRTY;

	set_dirty(s, b, false);
	b->writers++;
	return was_dirty;
}

/* Finish it: on failure a dirty buffer stays dirty (shard lock held). */
static void buf_write_end(struct bcache_shard *s, struct bento_buf *b,
			  bool was_dirty, int err)
{
	if (err && was_dirty)
		set_dirty(s, b, true);
	if (--b->writers == 0)
		pthread_cond_broadcast(&s->io_done);
}

/*
 * Evict idle buffers beyond the shard's capacity, oldest first.  Clean
 * ones are chained onto *@freelist for the caller to free unlocked;
 * dirty ones are written back first, dropping the lock meanwhile.  Stops
 * at the first failed write (the buffer stays, dirty).  Lock held.
 */
static void shard_shrink(struct bcache_shard *s, struct bento_buf **freelist)
{
	while (s->nbufs > s->cap && s->lru_tail) {
		struct bento_buf *b = s->lru_tail;
		bool was_dirty;
		int err;

		if (!(b->flags & BUF_DIRTY)) {
			lru_del(s, b);
			hash_del(s, b);
			s->evictions++;
			b->hnext = *freelist;
			*freelist = b;
			continue;
		}

		buf_ref(s, b);
		was_dirty = buf_write_begin(s, b);
		shard_unlock(s);
		err = buf_dev_write(b);
		shard_lock(s);
		buf_write_end(s, b, was_dirty, err);
		buf_unref(s, b, !err);
		if (err)
			break;
	}
}

/* ---- lookup ---------------------------------------------------------------- */

static struct bento_bcache *sb_cache(struct bento_sb *sb)
{
	struct bento_instance *inst = sb ? sb->host : NULL;

	BENTO_ASSERT(inst && inst->cache);
	return inst->cache;
}

static int range_check(struct bento_bcache *c, uint64_t blockno, uint64_t n)
{
	uint64_t nblocks = c->dev->nblocks;

	if (blockno < nblocks && n <= nblocks - blockno)
		return 0;
	return bento_fs_corrupt(c->sb, -EUCLEAN,
				"block %llu: past the end of the device (%llu blocks)",
				(unsigned long long)(blockno < nblocks ?
						     nblocks : blockno),
				(unsigned long long)nblocks);
}

/*
 * A hit on @b (shard lock held): wait for a read in flight and return 0,
 * or -EIO if that read failed (the reference is dropped again and
 * *@unhashed set if it was the last).
 */
static int buf_hit(struct bcache_shard *s, struct bento_buf *b,
		   struct bento_buf **unhashed)
{
	buf_ref(s, b);
	while (b->flags & BUF_LOADING)
		shard_wait(s);
	if (b->flags & BUF_ERROR) {
		*unhashed = buf_unref(s, b, false);
		return -EIO;
	}
	return 0;
}

/* Load @b, inserted LOADING with our reference (no lock held). */
static int buf_load(struct bcache_shard *s, struct bento_buf *b)
{
	struct bento_bcache *c = b->cache;
	struct bento_buf *dead = NULL;
	int err;

	err = c->dev->ops->read(c->dev, b->blockno, 1, b->data);

	shard_lock(s);
	b->flags &= (uint16_t)~BUF_LOADING;
	if (err) {
		b->flags |= BUF_ERROR;
		hash_del(s, b);
		dead = buf_unref(s, b, false);
	}
	pthread_cond_broadcast(&s->io_done);
	shard_unlock(s);
	if (dead)
		buf_free(dead);
	return err ? -EIO : 0;
}

static int bcache_get(struct bento_bcache *c, uint64_t blockno, bool do_read,
		      struct bento_buf **bp)
{
	struct bento_buf *b, *fresh = NULL, *freelist = NULL;
	struct bcache_shard *s;
	int err;

	err = range_check(c, blockno, 1);
	if (err)
		return err;
	s = shard_of(c, blockno);

	/* Find it, or find room: reuse the oldest clean idle buffer when
	 * the shard is full, else allocate with the lock dropped. */
	shard_lock(s);
	for (;;) {
		b = hash_find(s, blockno);
		if (b) {
			s->hits++;
			err = buf_hit(s, b, &freelist);
			shard_unlock(s);
			if (fresh)
				buf_free(fresh);
			buf_free_list(freelist);
			if (!err)
				*bp = b;
			return err;
		}
		if (fresh)
			break;
		if (s->nbufs >= s->cap && s->lru_tail &&
		    !(s->lru_tail->flags & BUF_DIRTY)) {
			fresh = s->lru_tail;
			lru_del(s, fresh);
			hash_del(s, fresh);
			s->evictions++;
			break;
		}
		shard_unlock(s);
		fresh = buf_alloc(c);
		if (!fresh)
			return -ENOMEM;
		shard_lock(s);
	}

	/* Insert it, referenced, LOADING if it has to be read. */
	s->misses++;
	b = fresh;
	b->blockno = blockno;
	b->refcnt = 1;
	b->flags = do_read ? BUF_LOADING : 0;
	b->writers = 0;
	__atomic_store_n(&b->failed, false, __ATOMIC_RELAXED);
	if (!do_read)
		memset(b->data, 0, BENTO_BLOCK_SIZE);
	hash_add(s, b);
	if (s->nbufs > s->cap)
		shard_shrink(s, &freelist);
	shard_unlock(s);
	buf_free_list(freelist);

	if (do_read) {
		err = buf_load(s, b);
		if (err)
			return err;
	}
	*bp = b;
	return 0;
}

int bento_bread(struct bento_sb *sb, uint64_t blockno, struct bento_buf **bp)
{
	return bcache_get(sb_cache(sb), blockno, true, bp);
}

int bento_getblk(struct bento_sb *sb, uint64_t blockno,
		 struct bento_buf **bp)
{
	return bcache_get(sb_cache(sb), blockno, false, bp);
}

void bento_brelse(struct bento_buf *b)
{
	struct bento_buf *freelist = NULL;
	struct bcache_shard *s;

	if (!b)
		return;
	s = shard_of(b->cache, b->blockno);
	shard_lock(s);
	freelist = buf_unref(s, b, false);
	if (!freelist && s->nbufs > s->cap)
		shard_shrink(s, &freelist);
	shard_unlock(s);
	buf_free_list(freelist);
}

void bento_bget(struct bento_buf *b)
{
	struct bcache_shard *s = shard_of(b->cache, b->blockno);

	shard_lock(s);
	BENTO_ASSERT(b->refcnt > 0);
	b->refcnt++;
	shard_unlock(s);
}

uint64_t bento_buf_blockno(const struct bento_buf *b)
{
	return b->blockno;
}

void bento_buf_mark_dirty(struct bento_buf *b)
{
	struct bcache_shard *s = shard_of(b->cache, b->blockno);

	shard_lock(s);
	BENTO_ASSERT(b->refcnt > 0);
	set_dirty(s, b, true);
	shard_unlock(s);
}

int bento_bwrite(struct bento_buf *b)
{
	struct bcache_shard *s = shard_of(b->cache, b->blockno);
	bool was_dirty;
	int err;

	shard_lock(s);
	BENTO_ASSERT(b->refcnt > 0);
	was_dirty = buf_write_begin(s, b);
	shard_unlock(s);

	err = buf_dev_write(b);

	shard_lock(s);
	buf_write_end(s, b, was_dirty, err);
	shard_unlock(s);
	return err;
}

/* ---- whole-cache operations ------------------------------------------------ */

static int cmp_blockno(const void *a, const void *b)
{
	uint64_t x = (*(struct bento_buf *const *)a)->blockno;
	uint64_t y = (*(struct bento_buf *const *)b)->blockno;

	return x < y ? -1 : x > y;
}

/*
 * Write back the dirty buffers of one shard, BCACHE_SYNC_BATCH at a time
 * in block order, each batch with the lock dropped.  One pass over the
 * buckets: buffers dirtied behind the cursor wait for the next sync.
 */
static int shard_sync(struct bcache_shard *s)
{
	struct bento_buf *batch[BCACHE_SYNC_BATCH];
	int errs[BCACHE_SYNC_BATCH];
	struct bento_buf *freelist = NULL;
	uint32_t bucket = 0;
	int ret = 0;

	shard_lock(s);
	while (s->ndirty > 0 && bucket <= s->hash_mask && !ret) {
		struct bento_buf *b;
		int n = 0, i;

		/* Collect a batch, referenced and marked as being written. */
		for (; bucket <= s->hash_mask; bucket++) {
			for (b = s->hash[bucket]; b && n < BCACHE_SYNC_BATCH;
			     b = b->hnext) {
				if (!(b->flags & BUF_DIRTY))
					continue;
				buf_ref(s, b);
				buf_write_begin(s, b);
				batch[n++] = b;
			}
			if (n == BCACHE_SYNC_BATCH)
				break;
		}
		shard_unlock(s);

		/* Write it in block order. */
		qsort(batch, (size_t)n, sizeof(batch[0]), cmp_blockno);
		for (i = 0; i < n; i++) {
			errs[i] = buf_dev_write(batch[i]);
			if (errs[i] && !ret)
				ret = errs[i];
		}

		shard_lock(s);
		for (i = 0; i < n; i++) {
			buf_write_end(s, batch[i], true, errs[i]);
			buf_unref(s, batch[i], false);
		}
	}
	if (s->nbufs > s->cap)
		shard_shrink(s, &freelist);
	shard_unlock(s);
	buf_free_list(freelist);
	return ret;
}

int bento_bcache_sync(struct bento_bcache *c)
{
	int ret = 0;
	uint32_t i;

	for (i = 0; i < c->nshards; i++) {
		int err = shard_sync(&c->shards[i]);

		if (err && !ret)
			ret = err;
	}
	return ret;
}

int bento_bcache_flush(struct bento_bcache *c)
{
	stat_add(&c->flushes, 1);
	return c->dev->ops->flush(c->dev);
}

int bento_sync_dirty(struct bento_sb *sb)
{
	return bento_bcache_sync(sb_cache(sb));
}

int bento_dev_flush(struct bento_sb *sb)
{
	return bento_bcache_flush(sb_cache(sb));
}

uint64_t bento_dev_nblocks(struct bento_sb *sb)
{
	return sb_cache(sb)->dev->nblocks;
}

/* ---- bypassing I/O ---------------------------------------------------------- */

int bento_dev_read(struct bento_sb *sb, uint64_t blockno, uint32_t n,
		   void *data)
{
	struct bento_bcache *c = sb_cache(sb);
	uint8_t *p = data;
	uint32_t i;
	int err;

	if (n == 0)
		return 0;
	err = range_check(c, blockno, n);
	if (err)
		return err;
	err = c->dev->ops->read(c->dev, blockno, n, data);
	if (err)
		return -EIO;

	/* A cached copy is newer than the device: it wins. */
	for (i = 0; i < n && stat_get(&c->cached) > 0; i++) {
		struct bcache_shard *s = shard_of(c, blockno + i);
		struct bento_buf *b;

		shard_lock(s);
		b = hash_find(s, blockno + i);
		if (b && !(b->flags & (BUF_LOADING | BUF_ERROR)))
			memcpy(p + ((size_t)i << BENTO_BLOCK_SHIFT), b->data,
			       BENTO_BLOCK_SIZE);
		shard_unlock(s);
	}
	return 0;
}

/*
 * Pin the cached copies among @n (<= 64) blocks at @blockno and give them
 * the new contents, clean; returns the bitmap of pinned blocks.  Waits
 * out writes in flight so none lands after ours with older bytes.
 */
static uint64_t bypass_pin(struct bento_bcache *c, uint64_t blockno,
			   uint32_t n, const uint8_t *data)
{
	uint64_t pinned = 0;
	uint32_t i;

	for (i = 0; i < n; i++) {
		struct bcache_shard *s = shard_of(c, blockno + i);
		struct bento_buf *b, *dead = NULL;

		shard_lock(s);
		b = hash_find(s, blockno + i);
		if (b && buf_hit(s, b, &dead) == 0) {
			while (b->writers > 0)
				shard_wait(s);
			memcpy(b->data, data + ((size_t)i << BENTO_BLOCK_SHIFT),
			       BENTO_BLOCK_SIZE);
			set_dirty(s, b, false);
			pinned |= 1ULL << i;
		}
		shard_unlock(s);
		if (dead)
			buf_free(dead);
	}
	return pinned;
}

static void bypass_unpin(struct bento_bcache *c, uint64_t blockno,
			 uint32_t n, uint64_t pinned)
{
	uint32_t i;

	for (i = 0; i < n; i++) {
		struct bcache_shard *s = shard_of(c, blockno + i);
		struct bento_buf *b;

		if (!(pinned & (1ULL << i)))
			continue;
		shard_lock(s);
		b = hash_find(s, blockno + i);
		BENTO_ASSERT(b);
		buf_unref(s, b, false);
		shard_unlock(s);
	}
}

int bento_dev_write(struct bento_sb *sb, uint64_t blockno, uint32_t n,
		    const void *data)
{
	struct bento_bcache *c = sb_cache(sb);
	const uint8_t *p = data;
	int err;

	if (n == 0)
		return 0;
	err = range_check(c, blockno, n);
	if (err)
		return err;
	if (c->dev->read_only) {
		bento_log(BENTO_LOG_ERR, "bento",
			  "block %llu: write to a read-only device refused",
			  (unsigned long long)blockno);
		return -EROFS;
	}

	while (n > 0) {
		uint32_t chunk = n < BCACHE_BYPASS_CHUNK ? n :
							  BCACHE_BYPASS_CHUNK;
		uint64_t pinned = 0;

		if (stat_get(&c->cached) > 0)
			pinned = bypass_pin(c, blockno, chunk, p);
		err = c->dev->ops->write(c->dev, blockno, chunk, p);
		if (pinned)
			bypass_unpin(c, blockno, chunk, pinned);
		if (err)
			return -EIO;
		blockno += chunk;
		p += (size_t)chunk << BENTO_BLOCK_SHIFT;
		n -= chunk;
	}
	return 0;
}

/* ---- bounds-checked accessors ---------------------------------------------- */

static bool buf_range_ok(const struct bento_buf *b, uint32_t off,
			 uint32_t len, const char *what)
{
	if (off <= BENTO_BLOCK_SIZE && len <= BENTO_BLOCK_SIZE - off)
		return true;
	__atomic_store_n(&((struct bento_buf *)b)->failed, true,
			 __ATOMIC_RELAXED);
	bento_fs_corrupt(b->cache->sb, -EUCLEAN,
			 "block %llu: %s of %u bytes at offset %u is outside the block",
			 (unsigned long long)b->blockno, what, len, off);
	return false;
}

bool bento_buf_failed(const struct bento_buf *b)
{
	return __atomic_load_n(&b->failed, __ATOMIC_RELAXED);
}

int bento_buf_read(const struct bento_buf *b, uint32_t off, void *dst,
		   uint32_t len)
{
	if (!buf_range_ok(b, off, len, "read"))
		return -EUCLEAN;
	memcpy(dst, b->data + off, len);
	return 0;
}

int bento_buf_write(struct bento_buf *b, uint32_t off, const void *src,
		    uint32_t len)
{
	if (!buf_range_ok(b, off, len, "write"))
		return -EUCLEAN;
	memcpy(b->data + off, src, len);
	return 0;
}

int bento_buf_zero(struct bento_buf *b, uint32_t off, uint32_t len)
{
	if (!buf_range_ok(b, off, len, "zeroing"))
		return -EUCLEAN;
	memset(b->data + off, 0, len);
	return 0;
}

int bento_buf_copy(struct bento_buf *dst, uint32_t doff,
		   const struct bento_buf *src, uint32_t soff, uint32_t len)
{
	if (!buf_range_ok(src, soff, len, "copy from") ||
	    !buf_range_ok(dst, doff, len, "copy to"))
		return -EUCLEAN;
	memmove(dst->data + doff, src->data + soff, len);
	return 0;
}

int bento_buf_cmp(const struct bento_buf *b, uint32_t off, const void *mem,
		  uint32_t len)
{
	if (!buf_range_ok(b, off, len, "compare"))
		return -EUCLEAN;
	return memcmp(b->data + off, mem, len);
}

uint8_t bento_buf_get8(const struct bento_buf *b, uint32_t off)
{
	if (!buf_range_ok(b, off, 1, "get8"))
		return 0;
	return b->data[off];
}

uint16_t bento_buf_get16(const struct bento_buf *b, uint32_t off)
{
	const uint8_t *p;

	if (!buf_range_ok(b, off, 2, "get16"))
		return 0;
	p = b->data + off;
	return (uint16_t)(p[0] | p[1] << 8);
}

uint32_t bento_buf_get32(const struct bento_buf *b, uint32_t off)
{
	const uint8_t *p;

	if (!buf_range_ok(b, off, 4, "get32"))
		return 0;
	p = b->data + off;
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

uint64_t bento_buf_get64(const struct bento_buf *b, uint32_t off)
{
	if (!buf_range_ok(b, off, 8, "get64"))
		return 0;
	return (uint64_t)bento_buf_get32(b, off) |
	       (uint64_t)bento_buf_get32(b, off + 4) << 32;
}

void bento_buf_put8(struct bento_buf *b, uint32_t off, uint8_t v)
{
	if (buf_range_ok(b, off, 1, "put8"))
		b->data[off] = v;
}

void bento_buf_put16(struct bento_buf *b, uint32_t off, uint16_t v)
{
	if (!buf_range_ok(b, off, 2, "put16"))
		return;
	b->data[off] = (uint8_t)v;
	b->data[off + 1] = (uint8_t)(v >> 8);
}

void bento_buf_put32(struct bento_buf *b, uint32_t off, uint32_t v)
{
	uint8_t *p;

	if (!buf_range_ok(b, off, 4, "put32"))
		return;
	p = b->data + off;
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

void bento_buf_put64(struct bento_buf *b, uint32_t off, uint64_t v)
{
	if (!buf_range_ok(b, off, 8, "put64"))
		return;
	bento_buf_put32(b, off, (uint32_t)v);
	bento_buf_put32(b, off + 4, (uint32_t)(v >> 32));
}

/* ---- the cache itself ------------------------------------------------------- */

static uint32_t pow2_at_least(uint64_t n)
{
	uint32_t p = 16;

	while (p < n && p < (1u << 24))
		p <<= 1;
	return p;
}

int bento_bcache_create(struct bento_blkdev *dev, struct bento_sb *sb,
			uint64_t cap_blocks, struct bento_bcache **out)
{
	struct bento_bcache *c;
	uint32_t i, nshards = 1;

	if (cap_blocks == 0)
		cap_blocks = BENTO_BCACHE_DEFAULT_BLOCKS;
	while (nshards < BCACHE_MAX_SHARDS &&
	       cap_blocks / (nshards * 2) >= BCACHE_SHARD_MIN)
		nshards *= 2;

	c = bento_zalloc(sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->dev = dev;
	c->sb = sb;
	c->nshards = nshards;
	if (posix_memalign((void **)&c->shards, 64,
			   nshards * sizeof(c->shards[0])) != 0)
		goto out_free_cache;
	memset(c->shards, 0, nshards * sizeof(c->shards[0]));

	for (i = 0; i < nshards; i++) {
		struct bcache_shard *s = &c->shards[i];

		s->cap = cap_blocks / nshards + (i < cap_blocks % nshards);
		s->hash_mask = pow2_at_least(s->cap) - 1;
		s->hash = bento_zalloc((s->hash_mask + 1) * sizeof(s->hash[0]));
		if (!s->hash)
			goto out_free_shards;
		pthread_mutex_init(&s->lock, NULL);
		pthread_cond_init(&s->io_done, NULL);
	}
	*out = c;
	return 0;

out_free_shards:
	while (i-- > 0) {
		pthread_cond_destroy(&c->shards[i].io_done);
		pthread_mutex_destroy(&c->shards[i].lock);
		bento_free(c->shards[i].hash);
	}
	free(c->shards);
out_free_cache:
	bento_free(c);
	return -ENOMEM;
}

void bento_bcache_destroy(struct bento_bcache *c)
{
	uint64_t leaked = 0;
	uint32_t i, j;

	if (!c)
		return;
	for (i = 0; i < c->nshards; i++) {
		struct bcache_shard *s = &c->shards[i];

		for (j = 0; j <= s->hash_mask; j++) {
			struct bento_buf *b = s->hash[j];

			for (; b; b = b->hnext)
				leaked += b->refcnt > 0;
			buf_free_list(s->hash[j]);
		}
		pthread_cond_destroy(&s->io_done);
		pthread_mutex_destroy(&s->lock);
		bento_free(s->hash);
	}
	if (leaked)
		bento_log(BENTO_LOG_WARN, "bento",
			  "buffer cache: %llu buffers still referenced at teardown (a missing brelse)",
			  (unsigned long long)leaked);
	free(c->shards);
	bento_free(c);
}

void bento_bcache_stats(struct bento_bcache *c,
			struct bento_bcache_stats *out)
{
	uint32_t i;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < c->nshards; i++) {
		struct bcache_shard *s = &c->shards[i];

		shard_lock(s);
		out->hits += s->hits;
		out->misses += s->misses;
		out->evictions += s->evictions;
		shard_unlock(s);
	}
	out->writes = stat_get(&c->writes);
	out->flushes = stat_get(&c->flushes);
	out->cached = stat_get(&c->cached);
	out->dirty = stat_get(&c->dirty);
}

void bento_bcache_drop_clean(struct bento_bcache *c)
{
	uint32_t i;

	for (i = 0; i < c->nshards; i++) {
		struct bcache_shard *s = &c->shards[i];
		struct bento_buf *b, *prev, *freelist = NULL;

		shard_lock(s);
		for (b = s->lru_tail; b; b = prev) {
			prev = b->lru_prev;
			if (b->flags & BUF_DIRTY)
				continue;
			lru_del(s, b);
			hash_del(s, b);
			b->hnext = freelist;
			freelist = b;
		}
		shard_unlock(s);
		buf_free_list(freelist);
	}
}
