/*
 * recdev.c - the recording block device and the crash-state builder.
 *
 * The device keeps the whole disk in memory twice: the base (contents
 * when the log was last emptied) and the current contents (every write
 * so far applied), which reads return.  Every write is split into
 * one-block writes, each appended to the log with a copy of its data;
 * every flush appends a barrier.  The log is one ordered sequence, kept
 * under one mutex, so writes from many threads get a single order.
 *
 * The crash model.  A cut point k (0 <= k <= length of the log) is the
 * instant after the first k log entries were issued.  Let b be the last
 * barrier among them.  The disk acknowledged that flush, so every write
 * issued before b is durable and in the crash image.  The writes issued
 * after b (and before k) were completed to the file system but not yet
 * made durable: a disk holding them in a volatile cache may have
 * written any subset of them, in any order, before losing power.  So
 * the crash image is: base + writes before b, in log order, + a subset
 * of the writes after b, applied in log order (when one block was
 * written twice after b, the subset decides which version, if either,
 * survives).  The builder picks the subset as none, all, a prefix
 * (length from a seed), or each write with probability 1/2 (from a
 * seed).  A write of one block is assumed atomic: blocks are never torn.
 *
 * A file system is crash-consistent under this model if every image it
 * can produce mounts, recovers (journal replay) and checks clean, and
 * holds everything an fsync acknowledged before the cut.
 *
 * Both copies of the disk are anonymous mappings, populated lazily, so
 * a large sparse device costs only the blocks written.  With logging
 * off (bento_rec_set_logging) the device is a plain memory disk that
 * survives unmount: tests use that to mount the same disk again.
 *
 * Limits: the log holds a copy of every block written, so workloads
 * under test should write megabytes, not gigabytes.
 */
#include <pthread.h>
#include <stdlib.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bento_test.h"

struct rec_entry {
	uint64_t blockno;	/* UINT64_MAX: a barrier */
	uint8_t *data;		/* BENTO_BLOCK_SIZE bytes, or NULL */
};

#define REC_BARRIER UINT64_MAX

struct bento_rec {
	pthread_mutex_t lock;	/* protects everything below */
	uint64_t nblocks;
	uint8_t *base;		/* contents at the last checkpoint */
	uint8_t *cur;		/* contents now */
	bool logging;		/* append writes and flushes to the log */
	struct rec_entry *log;
	uint64_t len, cap;
};

/* A device opened on a rec: the blkdev the instance owns. */
struct rec_dev {
	struct bento_blkdev dev;
	struct bento_rec *rec;
};

static size_t rec_bytes(const struct bento_rec *rec)
{
	return (size_t)rec->nblocks * BENTO_BLOCK_SIZE;
}

static uint8_t *rec_map(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

/* Copy the blocks of @src that differ from @dst (leaves untouched zero
 * pages unmapped). */
static void copy_changed(uint8_t *dst, const uint8_t *src, uint64_t nblocks)
{
	uint64_t i;
	size_t off;

	for (i = 0; i < nblocks; i++) {
		off = (size_t)i * BENTO_BLOCK_SIZE;
		if (memcmp(dst + off, src + off, BENTO_BLOCK_SIZE))
			memcpy(dst + off, src + off, BENTO_BLOCK_SIZE);
	}
}

int bento_rec_new(const void *base, uint64_t nblocks, struct bento_rec **out)
{
	struct bento_rec *rec;

	if (nblocks == 0 || nblocks > (SIZE_MAX >> BENTO_BLOCK_SHIFT) / 2)
		return -EINVAL;
	rec = calloc(1, sizeof(*rec));
	if (!rec)
		return -ENOMEM;
	rec->nblocks = nblocks;
	rec->logging = true;
	rec->base = rec_map(rec_bytes(rec));
	if (!rec->base)
		goto free_rec;
	rec->cur = rec_map(rec_bytes(rec));
	if (!rec->cur)
		goto unmap_base;
	if (base) {
		copy_changed(rec->base, base, nblocks);
		copy_changed(rec->cur, base, nblocks);
	}
	pthread_mutex_init(&rec->lock, NULL);
	*out = rec;
	return 0;

unmap_base:
	munmap(rec->base, rec_bytes(rec));
free_rec:
	free(rec);
	return -ENOMEM;
}

int bento_rec_new_file(const char *path, struct bento_rec **out)
{
	static const uint8_t zero[BENTO_BLOCK_SIZE];
	struct bento_rec *rec;
	struct stat st;
	uint64_t i;
	uint8_t *buf;
	ssize_t n;
	int fd, err;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	err = fstat(fd, &st) < 0 ? -errno : 0;
	if (!err && (st.st_size < (off_t)BENTO_BLOCK_SIZE ||
		     st.st_size % BENTO_BLOCK_SIZE))
		err = -EINVAL;
	if (err)
		goto close_fd;
	err = bento_rec_new(NULL, (uint64_t)st.st_size / BENTO_BLOCK_SIZE,
			    &rec);
	if (err)
		goto close_fd;

	/* Only nonzero blocks are copied: the mappings stay sparse. */
	for (i = 0; i < rec->nblocks; i++) {
		buf = rec->cur + i * BENTO_BLOCK_SIZE;
		n = pread(fd, buf, BENTO_BLOCK_SIZE,
			  (off_t)(i * BENTO_BLOCK_SIZE));
		if (n != (ssize_t)BENTO_BLOCK_SIZE) {
			err = n < 0 ? -errno : -EIO;
			bento_rec_free(rec);
			goto close_fd;
		}
		if (memcmp(buf, zero, BENTO_BLOCK_SIZE))
			memcpy(rec->base + i * BENTO_BLOCK_SIZE, buf,
			       BENTO_BLOCK_SIZE);
	}
	*out = rec;
close_fd:
	close(fd);
	return err;
}

void bento_rec_set_logging(struct bento_rec *rec, bool on)
{
	pthread_mutex_lock(&rec->lock);
	rec->logging = on;
	pthread_mutex_unlock(&rec->lock);
}

/* Drop every log entry.  Caller holds rec->lock (or owns rec alone). */
static void rec_clear_log(struct bento_rec *rec)
{
	uint64_t i;

	for (i = 0; i < rec->len; i++)
		free(rec->log[i].data);
	rec->len = 0;
}

void bento_rec_free(struct bento_rec *rec)
{
	if (!rec)
		return;
	rec_clear_log(rec);
	free(rec->log);
	munmap(rec->cur, rec_bytes(rec));
	munmap(rec->base, rec_bytes(rec));
	pthread_mutex_destroy(&rec->lock);
	free(rec);
}

void bento_rec_checkpoint(struct bento_rec *rec)
{
	pthread_mutex_lock(&rec->lock);
	copy_changed(rec->base, rec->cur, rec->nblocks);
	rec_clear_log(rec);
	pthread_mutex_unlock(&rec->lock);
}

uint64_t bento_rec_nblocks(const struct bento_rec *rec)
{
	return rec->nblocks;
}

uint64_t bento_rec_position(struct bento_rec *rec)
{
	uint64_t n;

	pthread_mutex_lock(&rec->lock);
	n = rec->len;
	pthread_mutex_unlock(&rec->lock);
	return n;
}

/* Append one entry, taking ownership of @data.  Caller holds the lock. */
static int rec_append(struct bento_rec *rec, uint64_t blockno, uint8_t *data)
{
	struct rec_entry *log;
	uint64_t cap;

	if (rec->len == rec->cap) {
		cap = rec->cap ? rec->cap * 2 : 1024;
		log = realloc(rec->log, cap * sizeof(*log));
		if (!log)
			return -ENOMEM;
		rec->log = log;
		rec->cap = cap;
	}
	rec->log[rec->len].blockno = blockno;
	rec->log[rec->len].data = data;
	rec->len++;
	return 0;
}

int bento_rec_event(struct bento_rec *rec, uint64_t i,
		    struct bento_rec_event *ev)
{
	int err = 0;

	pthread_mutex_lock(&rec->lock);
	if (i >= rec->len) {
		err = -ERANGE;
		goto unlock;
	}
	ev->flush = rec->log[i].blockno == REC_BARRIER;
	ev->blockno = ev->flush ? 0 : rec->log[i].blockno;
	ev->data = rec->log[i].data;
unlock:
	pthread_mutex_unlock(&rec->lock);
	return err;
}

int bento_rec_barriers(struct bento_rec *rec, uint64_t **idx, uint64_t *n)
{
	uint64_t i, k = 0;
	uint64_t *v;

	pthread_mutex_lock(&rec->lock);
	for (i = 0; i < rec->len; i++)
		k += rec->log[i].blockno == REC_BARRIER;
	v = malloc((k ? k : 1) * sizeof(*v));
	if (!v) {
		pthread_mutex_unlock(&rec->lock);
		return -ENOMEM;
	}
	k = 0;
	for (i = 0; i < rec->len; i++)
		if (rec->log[i].blockno == REC_BARRIER)
			v[k++] = i;
	pthread_mutex_unlock(&rec->lock);
	*idx = v;
	*n = k;
	return 0;
}

void bento_rec_contents(struct bento_rec *rec, void *img)
{
	pthread_mutex_lock(&rec->lock);
	memcpy(img, rec->cur, rec_bytes(rec));
	pthread_mutex_unlock(&rec->lock);
}

/* splitmix64: a small deterministic generator for the subsets. */
static uint64_t rec_rand(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

const char *bento_crash_subset_name(enum bento_crash_subset how)
{
	switch (how) {
	case BENTO_CRASH_NONE:
		return "none";
	case BENTO_CRASH_ALL:
		return "all";
	case BENTO_CRASH_PREFIX:
		return "prefix";
	case BENTO_CRASH_RANDOM:
		return "random";
	}
	return "?";
}

static void rec_apply(const struct bento_rec *rec, uint8_t *img,
		      const struct rec_entry *e)
{
	memcpy(img + e->blockno * BENTO_BLOCK_SIZE, e->data, BENTO_BLOCK_SIZE);
}

int bento_rec_crash_image(struct bento_rec *rec, uint64_t cut,
			  enum bento_crash_subset how, uint64_t seed,
			  void *img, struct bento_crash_info *info)
{
	uint64_t barrier = REC_BARRIER, i, start, pending, keep, applied = 0;
	uint64_t state = seed;
	bool take;

	pthread_mutex_lock(&rec->lock);
	if (cut > rec->len) {
		pthread_mutex_unlock(&rec->lock);
		return -ERANGE;
	}

	/* The barrier the state rests on, and everything durable by it. */
	for (i = cut; i > 0; i--) {
		if (rec->log[i - 1].blockno == REC_BARRIER) {
			barrier = i - 1;
			break;
		}
	}
	memcpy(img, rec->base, rec_bytes(rec));
	start = barrier == REC_BARRIER ? 0 : barrier + 1;
	for (i = 0; i < start; i++)
		if (rec->log[i].blockno != REC_BARRIER)
			rec_apply(rec, img, &rec->log[i]);

	/* A subset of the writes in flight at the cut. */
	pending = cut - start;
	keep = pending;
	if (how == BENTO_CRASH_PREFIX)
		keep = rec_rand(&state) % (pending + 1);
	for (i = 0; i < pending; i++) {
		switch (how) {
		case BENTO_CRASH_NONE:
			take = false;
			break;
		case BENTO_CRASH_RANDOM:
			take = rec_rand(&state) & 1;
			break;
		default:	/* ALL, PREFIX */
			take = i < keep;
			break;
		}
		if (take) {
			rec_apply(rec, img, &rec->log[start + i]);
			applied++;
		}
	}
	pthread_mutex_unlock(&rec->lock);

	if (info) {
		info->barrier = barrier;
		info->pending = pending;
		info->applied = applied;
	}
	return 0;
}

/* ---- the device --------------------------------------------------------- */

static struct bento_rec *dev_rec(struct bento_blkdev *dev)
{
	return ((struct rec_dev *)dev->priv)->rec;
}

static int rec_dev_read(struct bento_blkdev *dev, uint64_t blockno,
			uint32_t n, void *buf)
{
	struct bento_rec *rec = dev_rec(dev);

	if (blockno >= rec->nblocks || n > rec->nblocks - blockno)
		return -EIO;
	pthread_mutex_lock(&rec->lock);
	memcpy(buf, rec->cur + blockno * BENTO_BLOCK_SIZE,
	       (size_t)n * BENTO_BLOCK_SIZE);
	pthread_mutex_unlock(&rec->lock);
	return 0;
}

static int rec_dev_write(struct bento_blkdev *dev, uint64_t blockno,
			 uint32_t n, const void *buf)
{
	struct bento_rec *rec = dev_rec(dev);
	const uint8_t *src = buf;
	uint8_t *copy;
	uint32_t i;
	int err = 0;

	if (blockno >= rec->nblocks || n > rec->nblocks - blockno)
		return -EIO;
	pthread_mutex_lock(&rec->lock);
	if (!rec->logging) {
		memcpy(rec->cur + blockno * BENTO_BLOCK_SIZE, src,
		       (size_t)n * BENTO_BLOCK_SIZE);
		goto unlock;
	}
	for (i = 0; i < n; i++) {
		copy = malloc(BENTO_BLOCK_SIZE);
		if (!copy) {
			err = -EIO;
			break;
		}
		memcpy(copy, src + (size_t)i * BENTO_BLOCK_SIZE,
		       BENTO_BLOCK_SIZE);
		err = rec_append(rec, blockno + i, copy);
		if (err) {
			free(copy);
			err = -EIO;
			break;
		}
		memcpy(rec->cur + (blockno + i) * BENTO_BLOCK_SIZE, copy,
		       BENTO_BLOCK_SIZE);
	}
unlock:
	pthread_mutex_unlock(&rec->lock);
	return err;
}

static int rec_dev_flush(struct bento_blkdev *dev)
{
	struct bento_rec *rec = dev_rec(dev);
	int err = 0;

	pthread_mutex_lock(&rec->lock);
	if (rec->logging)
		err = rec_append(rec, REC_BARRIER, NULL);
	pthread_mutex_unlock(&rec->lock);
	return err ? -EIO : 0;
}

static void rec_dev_close(struct bento_blkdev *dev)
{
	struct rec_dev *rd = dev->priv;

	/* The rec outlives its devices; only the wrapper goes. */
	dev->priv = NULL;
	free(rd);
}

static const struct bento_blkdev_ops rec_dev_ops = {
	.read = rec_dev_read,
	.write = rec_dev_write,
	.flush = rec_dev_flush,
	.close = rec_dev_close,
};

int bento_rec_open_dev(struct bento_rec *rec, struct bento_blkdev **out)
{
	struct rec_dev *rd;

	rd = calloc(1, sizeof(*rd));
	if (!rd)
		return -ENOMEM;
	rd->rec = rec;
	rd->dev.ops = &rec_dev_ops;
	rd->dev.nblocks = rec->nblocks;
	rd->dev.read_only = false;
	rd->dev.priv = rd;
	*out = &rd->dev;
	return 0;
}
