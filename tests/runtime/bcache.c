/*
 * bcache.c - unit tests of the buffer cache and the block-device
 * backends (runtime_bcache).
 *
 * Every test builds an instance over a memory device, sometimes wrapped
 * in a "probe" device that counts reads, slows them down or fails chosen
 * blocks, and checks the cache against the protocol of <bento/buf.h>:
 * hits and misses, LRU eviction, referenced buffers never evicted, no
 * write-back of unmarked buffers, one buffer per block under concurrent
 * misses, bounds-checked accessors, coherence of bypassing I/O.  Run
 * under the SAN=1 build, the out-of-range tests also prove no access
 * leaves the block.
 */
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <cmocka.h>

#include "bento_host.h"

#define NBLOCKS 256

/* ---- a probe device over a memory device ------------------------------ */

struct probe {
	struct bento_blkdev dev;
	struct bento_blkdev *mem;
	uint64_t reads, writes;		/* atomic: device calls */
	useconds_t read_delay;
	uint64_t fail_read, fail_write;	/* block to fail, or UINT64_MAX */
};

static int probe_read(struct bento_blkdev *dev, uint64_t blockno,
		      uint32_t n, void *buf)
{
	struct probe *p = dev->priv;

	__atomic_fetch_add(&p->reads, 1, __ATOMIC_RELAXED);
	if (p->read_delay)
		usleep(p->read_delay);
	if (p->fail_read >= blockno && p->fail_read < blockno + n)
		return -EIO;
	return p->mem->ops->read(p->mem, blockno, n, buf);
}

static int probe_write(struct bento_blkdev *dev, uint64_t blockno,
		       uint32_t n, const void *buf)
{
	struct probe *p = dev->priv;

	__atomic_fetch_add(&p->writes, 1, __ATOMIC_RELAXED);
	if (p->fail_write >= blockno && p->fail_write < blockno + n)
		return -EIO;
	return p->mem->ops->write(p->mem, blockno, n, buf);
}

static int probe_flush(struct bento_blkdev *dev)
{
	return 0;
}

static void probe_close(struct bento_blkdev *dev)
{
	struct probe *p = dev->priv;

	bento_blkdev_close(p->mem);
	free(p);
}

static const struct bento_blkdev_ops probe_ops = {
	.read = probe_read,
	.write = probe_write,
	.flush = probe_flush,
	.close = probe_close,
};

struct fixture {
	struct probe *probe;
	uint8_t *disk;			/* the memory device's bytes */
	struct bento_instance *inst;
	struct bento_sb *sb;
};

static struct fixture *fixture_new(uint64_t cache_blocks)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct probe *p = calloc(1, sizeof(*p));

	assert_non_null(f);
	assert_non_null(p);
	assert_int_equal(bento_blkdev_open_mem(NBLOCKS, &p->mem), 0);
	p->dev.ops = &probe_ops;
	p->dev.nblocks = NBLOCKS;
	p->dev.priv = p;
	p->fail_read = p->fail_write = UINT64_MAX;
	f->probe = p;
	f->disk = bento_blkdev_mem_data(p->mem);
	assert_non_null(f->disk);
	assert_int_equal(bento_instance_open(&p->dev, false, cache_blocks,
					     &f->inst), 0);
	f->sb = &f->inst->sb;
	return f;
}

static void fixture_free(struct fixture *f)
{
	assert_int_equal(bento_instance_close(f->inst), 0);
	free(f);
}

static struct bento_bcache_stats stats(struct fixture *f)
{
	struct bento_bcache_stats st;

	bento_bcache_stats(f->inst->cache, &st);
	return st;
}

static struct bento_buf *bread_ok(struct fixture *f, uint64_t blockno)
{
	struct bento_buf *b = NULL;

	assert_int_equal(bento_bread(f->sb, blockno, &b), 0);
	assert_non_null(b);
	assert_int_equal(bento_buf_blockno(b), blockno);
	return b;
}

static uint32_t disk_get32(struct fixture *f, uint64_t blockno)
{
	uint32_t v;

	memcpy(&v, f->disk + blockno * BENTO_BLOCK_SIZE, sizeof(v));
	return v;
}

/* ---- tests --------------------------------------------------------------- */

static void test_hit_miss(void **state)
{
	struct fixture *f = fixture_new(64);
	struct bento_buf *a, *b;

	memset(f->disk + 5 * BENTO_BLOCK_SIZE, 0xab, BENTO_BLOCK_SIZE);
	a = bread_ok(f, 5);
	assert_int_equal(bento_buf_get8(a, 4095), 0xab);
	b = bread_ok(f, 5);
	assert_ptr_equal(a, b);
	assert_int_equal(stats(f).misses, 1);
	assert_int_equal(stats(f).hits, 1);
	assert_int_equal(f->probe->reads, 1);
	bento_brelse(a);
	bento_brelse(b);

	/* Still cached while idle. */
	b = bread_ok(f, 5);
	assert_ptr_equal(a, b);
	assert_int_equal(f->probe->reads, 1);
	bento_brelse(b);

	/* getblk of an uncached block: zeroes, no read. */
	memset(f->disk + 6 * BENTO_BLOCK_SIZE, 0xcd, BENTO_BLOCK_SIZE);
	assert_int_equal(bento_getblk(f->sb, 6, &b), 0);
	assert_int_equal(bento_buf_get64(b, 8), 0);
	assert_int_equal(f->probe->reads, 1);
	bento_brelse(b);
	bento_brelse(NULL);
	fixture_free(f);
}

static void test_lru_eviction(void **state)
{
	struct fixture *f = fixture_new(4);
	uint64_t i, reads;

	for (i = 0; i < 4; i++)
		bento_brelse(bread_ok(f, i));
	/* Touch 0: 1 becomes the oldest. */
	bento_brelse(bread_ok(f, 0));
	bento_brelse(bread_ok(f, 4));
	assert_int_equal(stats(f).cached, 4);
	assert_int_equal(stats(f).evictions, 1);

	reads = f->probe->reads;
	bento_brelse(bread_ok(f, 0));		/* hit */
	bento_brelse(bread_ok(f, 2));		/* hit */
	assert_int_equal(f->probe->reads, reads);
	bento_brelse(bread_ok(f, 1));		/* evicted: miss */
	assert_int_equal(f->probe->reads, reads + 1);

	bento_bcache_drop_clean(f->inst->cache);
	assert_int_equal(stats(f).cached, 0);
	fixture_free(f);
}

static void test_referenced_never_evicted(void **state)
{
	struct fixture *f = fixture_new(4);
	struct bento_buf *held[6];
	uint64_t i;

	/* Hold more buffers than the capacity, modified in memory only. */
	for (i = 0; i < 6; i++) {
		held[i] = bread_ok(f, i);
		bento_buf_put32(held[i], 0, 1000 + (uint32_t)i);
	}
	for (i = 10; i < 40; i++)
		bento_brelse(bread_ok(f, i));
	assert_true(stats(f).cached >= 6);

	/* Same buffers, contents intact, nothing written. */
	for (i = 0; i < 6; i++) {
		struct bento_buf *b = bread_ok(f, i);

		assert_ptr_equal(b, held[i]);
		assert_int_equal(bento_buf_get32(b, 0), 1000 + i);
		bento_brelse(b);
	}
	assert_int_equal(f->probe->writes, 0);

	/* An extra reference (bget) keeps it too. */
	bento_bget(held[0]);
	bento_brelse(held[0]);
	for (i = 10; i < 40; i++)
		bento_brelse(bread_ok(f, i));
	assert_int_equal(bento_buf_get32(held[0], 0), 1000);

	/* Released, the cache shrinks back to its capacity. */
	for (i = 0; i < 6; i++)
		bento_brelse(held[i]);
	assert_true(stats(f).cached <= 4);
	fixture_free(f);
}

static void test_dirty_protocol(void **state)
{
	struct fixture *f = fixture_new(4);
	struct bento_buf *b;
	uint64_t i;

	/* Modified but not marked: never written, not by sync, not by
	 * eviction. */
	b = bread_ok(f, 7);
	bento_buf_put32(b, 0, 0x11111111);
	assert_int_equal(bento_sync_dirty(f->sb), 0);
	bento_brelse(b);
	for (i = 20; i < 40; i++)
		bento_brelse(bread_ok(f, i));
	assert_int_equal(disk_get32(f, 7), 0);
	assert_int_equal(f->probe->writes, 0);

	/* Marked dirty: eviction writes it back first. */
	b = bread_ok(f, 8);
	bento_buf_put32(b, 0, 0x22222222);
	bento_buf_mark_dirty(b);
	assert_int_equal(stats(f).dirty, 1);
	bento_brelse(b);
	for (i = 20; i < 40; i++)
		bento_brelse(bread_ok(f, i));
	assert_int_equal(disk_get32(f, 8), 0x22222222);
	assert_int_equal(stats(f).dirty, 0);

	/* Marked dirty and held: sync writes it and clears the mark. */
	b = bread_ok(f, 9);
	bento_buf_put32(b, 0, 0x33333333);
	bento_buf_mark_dirty(b);
	assert_int_equal(bento_sync_dirty(f->sb), 0);
	assert_int_equal(disk_get32(f, 9), 0x33333333);
	assert_int_equal(stats(f).dirty, 0);

	/* bwrite: now, whether marked or not. */
	bento_buf_put32(b, 0, 0x44444444);
	assert_int_equal(bento_bwrite(b), 0);
	assert_int_equal(disk_get32(f, 9), 0x44444444);
	bento_brelse(b);
	assert_int_equal(bento_dev_flush(f->sb), 0);
	assert_int_equal(stats(f).flushes, 1);
	fixture_free(f);
}

static void test_sync_many(void **state)
{
	struct fixture *f = fixture_new(1024);
	struct bento_buf *b;
	uint64_t i;

	for (i = 0; i < 200; i++) {
		assert_int_equal(bento_getblk(f->sb, i, &b), 0);
		bento_buf_put64(b, 16, i * 31 + 1);
		bento_buf_mark_dirty(b);
		bento_brelse(b);
	}
	assert_int_equal(stats(f).dirty, 200);
	assert_int_equal(bento_sync_dirty(f->sb), 0);
	assert_int_equal(stats(f).dirty, 0);
	for (i = 0; i < 200; i++) {
		uint64_t v;

		memcpy(&v, f->disk + i * BENTO_BLOCK_SIZE + 16, 8);
		assert_int_equal(v, i * 31 + 1);
	}
	fixture_free(f);
}

/* ---- concurrency ---------------------------------------------------------- */

#define NTHREADS 16

struct race {
	struct fixture *f;
	pthread_barrier_t start;
	uint64_t blockno;
	struct bento_buf *got[NTHREADS];
	int idx;			/* atomic */
};

static void *race_thread(void *arg)
{
	struct race *r = arg;
	int me = __atomic_fetch_add(&r->idx, 1, __ATOMIC_RELAXED);

	pthread_barrier_wait(&r->start);
	if (bento_bread(r->f->sb, r->blockno, &r->got[me]) != 0)
		r->got[me] = NULL;
	return NULL;
}

static void test_concurrent_same_block(void **state)
{
	struct fixture *f = fixture_new(64);
	pthread_t th[NTHREADS];
	uint64_t round;
	int i;

	f->probe->read_delay = 20000;
	for (round = 0; round < 3; round++) {
		struct race r = { .f = f, .blockno = 30 + round };
		uint64_t reads = f->probe->reads;

		pthread_barrier_init(&r.start, NULL, NTHREADS);
		for (i = 0; i < NTHREADS; i++)
			assert_int_equal(pthread_create(&th[i], NULL,
							race_thread, &r), 0);
		for (i = 0; i < NTHREADS; i++)
			pthread_join(th[i], NULL);
		pthread_barrier_destroy(&r.start);

		/* One device read, one buffer, NTHREADS references. */
		assert_int_equal(f->probe->reads - reads, 1);
		for (i = 0; i < NTHREADS; i++) {
			assert_non_null(r.got[i]);
			assert_ptr_equal(r.got[i], r.got[0]);
		}
		for (i = 0; i < NTHREADS; i++)
			bento_brelse(r.got[i]);
	}
	fixture_free(f);
}

struct stress {
	struct fixture *f;
	int id;
	int failures;
};

/*
 * Each thread owns 8 blocks and keeps a counter in each, marking the
 * block dirty; the cache is much smaller than the 64 blocks, so blocks
 * keep being written back, evicted and read in again.
 */
static void *stress_thread(void *arg)
{
	struct stress *st = arg;
	uint32_t expect[8] = { 0 };
	unsigned int seed = (unsigned int)st->id;
	int i;

	for (i = 0; i < 4000; i++) {
		int k = rand_r(&seed) % 8;
		uint64_t blockno = (uint64_t)st->id * 8 + (uint64_t)k;
		struct bento_buf *b;

		if (bento_bread(st->f->sb, blockno, &b) != 0) {
			st->failures++;
			continue;
		}
		if (bento_buf_get32(b, 64) != expect[k])
			st->failures++;
		bento_buf_put32(b, 64, ++expect[k]);
		bento_buf_mark_dirty(b);
		if (i % 97 == 0 && bento_bwrite(b) != 0)
			st->failures++;
		bento_brelse(b);
		if (i % 501 == 0 && bento_sync_dirty(st->f->sb) != 0)
			st->failures++;
	}
	return NULL;
}

static void test_concurrent_stress(void **state)
{
	struct fixture *f = fixture_new(12);
	struct stress st[8];
	pthread_t th[8];
	int i;

	for (i = 0; i < 8; i++) {
		st[i] = (struct stress){ .f = f, .id = i };
		assert_int_equal(pthread_create(&th[i], NULL, stress_thread,
						&st[i]), 0);
	}
	for (i = 0; i < 8; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(st[i].failures, 0);
	}
	assert_int_equal(bento_sync_dirty(f->sb), 0);
	assert_int_equal(stats(f).dirty, 0);
	assert_true(stats(f).evictions > 0);
	fixture_free(f);
}

/* ---- bounds ----------------------------------------------------------------- */

static void test_accessor_bounds(void **state)
{
	struct fixture *f = fixture_new(64);
	uint8_t before[BENTO_BLOCK_SIZE], after[BENTO_BLOCK_SIZE];
	uint8_t small[16] = { 1, 2, 3 };
	struct bento_buf *b, *c;

	bento_log_set_level(0);		/* the reports are expected */
	b = bread_ok(f, 3);
	c = bread_ok(f, 4);
	bento_buf_put32(b, 4092, 0xdeadbeef);
	assert_int_equal(bento_buf_get32(b, 4092), 0xdeadbeef);
	assert_false(bento_buf_failed(b));
	assert_int_equal(bento_buf_read(b, 0, before, BENTO_BLOCK_SIZE), 0);

	assert_int_equal(bento_buf_read(b, 4096, small, 1), -EUCLEAN);
	assert_int_equal(bento_buf_read(b, 4090, small, 7), -EUCLEAN);
	assert_int_equal(bento_buf_write(b, 4000, small, 200), -EUCLEAN);
	assert_int_equal(bento_buf_write(b, UINT32_MAX, small, 2), -EUCLEAN);
	assert_int_equal(bento_buf_write(b, 1, small, UINT32_MAX), -EUCLEAN);
	assert_int_equal(bento_buf_zero(b, 4095, 2), -EUCLEAN);
	assert_int_equal(bento_buf_copy(c, 0, b, 4095, 2), -EUCLEAN);
	assert_int_equal(bento_buf_copy(c, 4095, b, 0, 2), -EUCLEAN);
	assert_int_not_equal(bento_buf_cmp(b, 4095, small, 2), 0);
	assert_int_equal(bento_buf_get64(b, 4089), 0);
	assert_int_equal(bento_buf_get16(b, 4095), 0);
	assert_int_equal(bento_buf_get8(b, 4096), 0);
	bento_buf_put64(b, 4092, ~0ULL);
	bento_buf_put16(b, 4095, 0xffff);
	bento_buf_put8(b, 5000, 0xff);
	assert_true(bento_buf_failed(b));
	assert_true(f->inst->errors >= 15);

	/* Nothing was touched. */
	assert_int_equal(bento_buf_read(b, 0, after, BENTO_BLOCK_SIZE), 0);
	assert_memory_equal(before, after, BENTO_BLOCK_SIZE);

	/* In-range edge cases work. */
	assert_int_equal(bento_buf_write(b, 4096, small, 0), 0);
	assert_int_equal(bento_buf_copy(c, 4080, b, 4080, 16), 0);
	assert_int_equal(bento_buf_cmp(c, 4092, "\xef\xbe\xad\xde", 4), 0);
	bento_buf_put16(c, 10, 0x1234);
	assert_int_equal(bento_buf_get8(c, 10), 0x34);
	assert_int_equal(bento_buf_get8(c, 11), 0x12);
	bento_buf_put64(c, 100, 0x0102030405060708ULL);
	assert_int_equal(bento_buf_get64(c, 100), 0x0102030405060708ULL);
	assert_int_equal(bento_buf_get8(c, 100), 0x08);
	assert_true(bento_buf_failed(c));	/* the copy to 4095 above */
	bento_brelse(b);
	bento_brelse(c);
	bento_log_set_level(BENTO_LOG_INFO);
	fixture_free(f);
}

static void test_past_end(void **state)
{
	struct fixture *f = fixture_new(64);
	uint8_t *data = malloc(2 * BENTO_BLOCK_SIZE);
	struct bento_buf *b = NULL;

	bento_log_set_level(0);
	assert_int_equal(bento_bread(f->sb, NBLOCKS, &b), -EUCLEAN);
	assert_null(b);
	assert_int_equal(bento_getblk(f->sb, UINT64_MAX, &b), -EUCLEAN);
	assert_int_equal(bento_dev_read(f->sb, NBLOCKS - 1, 2, data),
			 -EUCLEAN);
	assert_int_equal(bento_dev_write(f->sb, UINT64_MAX, 2, data),
			 -EUCLEAN);
	assert_int_equal(f->inst->errors, 4);
	assert_int_equal(f->probe->reads + f->probe->writes, 0);
	assert_int_equal(bento_dev_nblocks(f->sb), NBLOCKS);
	assert_int_equal(bento_dev_read(f->sb, NBLOCKS - 2, 2, data), 0);
	bento_log_set_level(BENTO_LOG_INFO);
	free(data);
	fixture_free(f);
}

/* ---- bypassing I/O and errors -------------------------------------------- */

static void test_bypass_coherence(void **state)
{
	struct fixture *f = fixture_new(64);
	uint8_t *data = calloc(3, BENTO_BLOCK_SIZE);
	struct bento_buf *b;
	uint32_t v;

	/* A dirty cached block is what dev_read sees. */
	b = bread_ok(f, 11);
	bento_buf_put32(b, 0, 0x5555);
	bento_buf_mark_dirty(b);
	bento_brelse(b);
	assert_int_equal(bento_dev_read(f->sb, 10, 3, data), 0);
	memcpy(&v, data + BENTO_BLOCK_SIZE, 4);
	assert_int_equal(v, 0x5555);

	/* dev_write replaces the cached copy, which is clean afterwards:
	 * a later sync must not bring the old bytes back. */
	memset(data, 0x77, 3 * BENTO_BLOCK_SIZE);
	assert_int_equal(bento_dev_write(f->sb, 10, 3, data), 0);
	assert_int_equal(stats(f).dirty, 0);
	b = bread_ok(f, 11);
	assert_int_equal(bento_buf_get32(b, 0), 0x77777777);
	bento_brelse(b);
	assert_int_equal(bento_sync_dirty(f->sb), 0);
	assert_int_equal(disk_get32(f, 11), 0x77777777);
	assert_int_equal(disk_get32(f, 12), 0x77777777);
	free(data);
	fixture_free(f);
}

static void test_io_errors(void **state)
{
	struct fixture *f = fixture_new(64);
	struct bento_buf *b = NULL;

	f->probe->fail_read = 13;
	f->probe->fail_write = 14;
	assert_int_equal(bento_bread(f->sb, 13, &b), -EIO);
	assert_int_equal(bento_bread(f->sb, 13, &b), -EIO);
	assert_int_equal(f->probe->reads, 2);		/* not cached */
	assert_int_equal(stats(f).cached, 0);

	b = bread_ok(f, 14);
	bento_buf_mark_dirty(b);
	assert_int_equal(bento_bwrite(b), -EIO);
	assert_int_equal(stats(f).dirty, 1);		/* still dirty */
	assert_int_equal(bento_sync_dirty(f->sb), -EIO);
	assert_int_equal(stats(f).dirty, 1);
	bento_brelse(b);

	/* The device heals: the dirty block finally reaches it. */
	f->probe->fail_write = UINT64_MAX;
	assert_int_equal(bento_sync_dirty(f->sb), 0);
	assert_int_equal(stats(f).dirty, 0);
	fixture_free(f);
}

static void test_file_backend(void **state)
{
	char path[] = "/tmp/bento-rt-XXXXXX";
	uint8_t *data = calloc(2, BENTO_BLOCK_SIZE);
	struct bento_blkdev *dev;
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 10 * BENTO_BLOCK_SIZE + 100), 0);
	assert_int_equal(bento_blkdev_open_file(path, false, &dev), 0);
	assert_int_equal(dev->nblocks, 10);
	assert_null(bento_blkdev_mem_data(dev));

	memset(data, 0x5a, 2 * BENTO_BLOCK_SIZE);
	assert_int_equal(dev->ops->write(dev, 8, 2, data), 0);
	memset(data, 0, 2 * BENTO_BLOCK_SIZE);
	assert_int_equal(dev->ops->read(dev, 8, 2, data), 0);
	assert_int_equal(data[2 * BENTO_BLOCK_SIZE - 1], 0x5a);
	assert_int_equal(dev->ops->flush(dev), 0);
	bento_blkdev_close(dev);

	/* Read-only: the cache refuses to write. */
	{
		struct bento_instance *inst;
		struct bento_buf *b;

		assert_int_equal(bento_blkdev_open_file(path, true, &dev), 0);
		assert_true(dev->read_only);
		assert_int_equal(bento_instance_open(dev, false, 0, &inst),
				 0);
		assert_true(inst->sb.read_only);
		assert_int_equal(bento_bread(&inst->sb, 9, &b), 0);
		assert_int_equal(bento_buf_get8(b, 0), 0x5a);
		bento_log_set_level(0);
		assert_int_equal(bento_bwrite(b), -EROFS);
		bento_log_set_level(BENTO_LOG_INFO);
		bento_brelse(b);
		assert_int_equal(bento_instance_close(inst), 0);
	}

	/* Bad paths and sizes. */
	bento_log_set_level(0);
	assert_int_equal(bento_blkdev_open_file("/nonexistent/img", false,
						&dev), -ENOENT);
	assert_int_equal(ftruncate(fd, 100), 0);
	assert_int_equal(bento_blkdev_open_file(path, false, &dev), -EINVAL);
	assert_int_equal(bento_blkdev_open_file("/dev/null", false, &dev),
			 -EINVAL);
	assert_int_equal(bento_blkdev_open_file("/tmp", true, &dev),
			 -EINVAL);
	assert_int_equal(bento_blkdev_open_mem(0, &dev), -EINVAL);
	bento_log_set_level(BENTO_LOG_INFO);
	close(fd);
	unlink(path);
	free(data);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hit_miss),
		cmocka_unit_test(test_lru_eviction),
		cmocka_unit_test(test_referenced_never_evicted),
		cmocka_unit_test(test_dirty_protocol),
		cmocka_unit_test(test_sync_many),
		cmocka_unit_test(test_concurrent_same_block),
		cmocka_unit_test(test_concurrent_stress),
		cmocka_unit_test(test_accessor_bounds),
		cmocka_unit_test(test_past_end),
		cmocka_unit_test(test_bypass_coherence),
		cmocka_unit_test(test_io_errors),
		cmocka_unit_test(test_file_backend),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
