/*
 * xv6fs.c - crash consistency of xv6fs (crash_xv6fs).
 *
 * Each workload runs on xv6fs mounted through the test host on a
 * recording device (bento/test/recdev.c, which documents the crash
 * model), from mkfs to unmount.  Every fsync that returns is noted with
 * the file, the size it made durable and the device log's position at
 * that moment.  Then, for many cut points of the log (every barrier,
 * plus random points between barriers, each with several subsets of
 * the writes in flight), the crash image is built and checked:
 *
 *   1. it mounts (the journal is replayed) through the test host;
 *   2. every file whose fsync returned before the cut exists and holds
 *      at least what that fsync made durable;
 *   3. a full walk of the tree reads everything without error;
 *   4. it unmounts cleanly, and fsck.xv6fs (no -y) then reports it clean
 *      (exit 0).
 *
 * Before any state is built, the recorded journal is checked against
 * the commit protocol itself (check_journal): no header can become
 * durable with log blocks other than those its crc covers, and installs
 * write what was logged.  That check is exact and cheap, so a protocol
 * error fails every run, not only the run whose sampled cut points
 * happen to land in the window it opens.  The "journal" workload is
 * built to expose a torn commit (inode-table blocks the journal's crc
 * cannot tell apart) and its states around every journal write are
 * checked exhaustively instead of sampled.
 *
 * Files that get fsync'd are only ever written with their own pattern
 * (xt-style: byte at offset o is a function of the file's seed and o)
 * and only grow; they are never renamed, truncated or unlinked.  So
 * after a crash, bytes below the last durable size must be the pattern,
 * and bytes above it may be the pattern or zero, nothing else (no stale
 * data from other files).  Other files are created, written, renamed,
 * truncated and unlinked freely; after a crash they need only be
 * readable and consistent (fsck).
 *
 * Scale: XV6FS_CRASH_STATES (default 480) crash states in all, shared by
 * the sampled workloads; XV6FS_CRASH_SECONDS (default 150) stops picking
 * new states when the time is up, saying so; XV6FS_CRASH_ONLY=NAME runs
 * one workload (mixed, bigfile, threads, journal).  The states of a workload are
 * checked in a shuffled order, so a cut-short run still samples the
 * whole log.  A failing crash image is kept in /tmp and its path
 * printed, for reproduction with fsck.xv6fs and `bento mount`.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "bento_test.h"
#include "../../fs/xv6fs/xv6fs_format.h"

extern const struct bento_module bento_module_xv6fs;

#define NBLOCKS 8192		/* 32 MiB images */
#define NINODES 2048
#define MAX_FAILS 3		/* per workload, then move on */

/* ---- helpers ----------------------------------------------------------- */

static uint64_t rng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint64_t rng_below(uint64_t *s, uint64_t n)
{
	return n ? rng_next(s) % n : 0;
}

static uint8_t pat(uint64_t seed, uint64_t off)
{
	uint64_t x = (off >> 3) * 0x9e3779b97f4a7c15ull + seed * 0x2545f491ull;

	x ^= x >> 29;
	return (uint8_t)((x >> ((off & 7) * 8)) ^ (off & 0xff) ^ 0xa5);
}

static void pat_fill(uint8_t *buf, size_t len, uint64_t seed, uint64_t off)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = pat(seed, off + i);
}

static long env_long(const char *name, long def)
{
	const char *s = getenv(name);
	long v = s ? strtol(s, NULL, 10) : 0;

	return v > 0 ? v : def;
}

static int tap_n;
static int tap_failed;

static void tap_ok(bool ok, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void tap_ok(bool ok, const char *fmt, ...)
{
	va_list ap;

	printf("%sok %d - ", ok ? "" : "not ", ++tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	tap_failed += !ok;
}

/* ---- the fsync oracle --------------------------------------------------- */

/* One fsync that returned: @path held @size durable bytes from @pos on. */
struct synced {
	char path[64];
	uint64_t seed;
	uint64_t size;
	uint64_t pos;
};

struct oracle {
	pthread_mutex_t lock;
	struct synced *v;
	size_t n, cap;
};

static void oracle_add(struct oracle *o, const char *path, uint64_t seed,
		       uint64_t size, uint64_t pos)
{
	struct synced *s;

	pthread_mutex_lock(&o->lock);
	if (o->n == o->cap) {
		o->cap = o->cap ? 2 * o->cap : 256;
		o->v = realloc(o->v, o->cap * sizeof(*o->v));
		if (!o->v)
			abort();
	}
	s = &o->v[o->n++];
	snprintf(s->path, sizeof(s->path), "%s", path);
	s->seed = seed;
	s->size = size;
	s->pos = pos;
	pthread_mutex_unlock(&o->lock);
}

/* ---- workloads ------------------------------------------------------------ */

struct wl {
	struct bento_test_fs *fs;
	struct bento_rec *rec;
	struct oracle *o;
	uint64_t rng;
	int err;		/* first unexpected error of the workload */
	char what[160];		/* ... and what it was */
};

static void wl_fail(struct wl *w, int err, const char *op, const char *path)
{
	if (w->err)
		return;
	w->err = err;
	snprintf(w->what, sizeof(w->what), "%s %s: %s", op, path,
		 strerror(-err));
}

#define WL_CHECK(w, expr, op, path)				\
	do {							\
		int e_ = (int)(expr);				\
		if (e_ < 0)					\
			wl_fail(w, e_, op, path);		\
	} while (0)

/* Append @len pattern bytes to the synced file @path of size *@size,
 * and fsync it if asked, noting what became durable. */
static void synced_append(struct wl *w, const char *path, uint64_t seed,
			  uint64_t *size, size_t len, bool fsync)
{
	uint8_t *buf = malloc(len ? len : 1);
	ssize_t n;

	if (!buf)
		abort();
	pat_fill(buf, len, seed, *size);
	if (len) {
		n = bento_test_pwrite(w->fs, path, buf, len, *size);
		if (n != (ssize_t)len)
			wl_fail(w, n < 0 ? (int)n : -EIO, "append", path);
		else
			*size += len;
	}
	free(buf);
	if (fsync) {
		WL_CHECK(w, bento_test_fsync(w->fs, path, 0), "fsync", path);
		if (!w->err)
			oracle_add(w->o, path, seed, *size,
				   bento_rec_position(w->rec));
	}
}

static void write_junk(struct wl *w, const char *path, size_t len,
		       uint64_t off)
{
	uint8_t *buf = malloc(len ? len : 1);
	ssize_t n;

	if (!buf)
		abort();
	pat_fill(buf, len, rng_next(&w->rng), off);
	n = bento_test_pwrite(w->fs, path, buf, len, off);
	if (n != (ssize_t)len)
		wl_fail(w, n < 0 ? (int)n : -EIO, "write", path);
	free(buf);
}

/*
 * "mixed": one thread, a random mix of every namespace and data
 * operation over a few directories, with fsyncs of some files and of a
 * directory.
 */
static void wl_mixed(struct wl *w)
{
	uint64_t ssize[16] = { 0 };
	char path[64], path2[64];
	unsigned int i, k, nsynced = 0, nunsynced = 0, ndirs = 0;
	bool gone[256] = { false };

	WL_CHECK(w, bento_test_mkdir(w->fs, "s", 0755), "mkdir", "s");
	WL_CHECK(w, bento_test_mkdir(w->fs, "u", 0755), "mkdir", "u");
	WL_CHECK(w, bento_test_mkdir(w->fs, "u/v", 0755), "mkdir", "u/v");
	for (i = 0; i < 160 && !w->err; i++) {
		switch (rng_below(&w->rng, 10)) {
		case 0:		/* a new synced file */
			if (nsynced == 16)
				break;
			snprintf(path, sizeof(path), "s/f%u", nsynced);
			WL_CHECK(w, bento_test_create(w->fs, path, 0644),
				 "create", path);
			synced_append(w, path, 1000 + nsynced,
				      &ssize[nsynced],
				      rng_below(&w->rng, 70000), true);
			nsynced++;
			break;
		case 1:		/* append to a synced file, maybe fsync */
			if (!nsynced)
				break;
			k = (unsigned int)rng_below(&w->rng, nsynced);
			snprintf(path, sizeof(path), "s/f%u", k);
			synced_append(w, path, 1000 + k, &ssize[k],
				      rng_below(&w->rng, 20000),
				      rng_below(&w->rng, 2));
			break;
		case 2:
		case 3:		/* a new unsynced file */
			if (nunsynced == 256)
				break;
			snprintf(path, sizeof(path), "u/g%u", nunsynced++);
			WL_CHECK(w, bento_test_create(w->fs, path, 0600),
				 "create", path);
			write_junk(w, path, rng_below(&w->rng, 100000), 0);
			break;
		case 4:		/* rename an unsynced file, maybe over one */
			if (nunsynced < 2)
				break;
			k = (unsigned int)rng_below(&w->rng, nunsynced);
			if (gone[k])
				break;
			snprintf(path, sizeof(path), "u/g%u", k);
			snprintf(path2, sizeof(path2), "u/v/h%u", k);
			WL_CHECK(w, bento_test_rename(w->fs, path, path2, 0),
				 "rename", path);
			WL_CHECK(w, bento_test_rename(w->fs, path2, path, 0),
				 "rename", path2);
			k = (unsigned int)rng_below(&w->rng, nunsynced);
			snprintf(path2, sizeof(path2), "u/g%u", k);
			if (!gone[k] && strcmp(path, path2)) {
				WL_CHECK(w, bento_test_rename(w->fs, path2,
							      path, 0),
					 "rename", path2);
				gone[k] = true;
			}
			break;
		case 5:		/* unlink an unsynced file */
			k = (unsigned int)rng_below(&w->rng, nunsynced);
			if (!nunsynced || gone[k])
				break;
			snprintf(path, sizeof(path), "u/g%u", k);
			WL_CHECK(w, bento_test_unlink(w->fs, path), "unlink",
				 path);
			gone[k] = true;
			break;
		case 6:		/* truncate an unsynced file */
			k = (unsigned int)rng_below(&w->rng, nunsynced);
			if (!nunsynced || gone[k])
				break;
			snprintf(path, sizeof(path), "u/g%u", k);
			WL_CHECK(w, bento_test_truncate(w->fs, path,
				 rng_below(&w->rng, 5000000)), "truncate",
				 path);
			break;
		case 7:		/* directories come and go */
			snprintf(path, sizeof(path), "u/v/d%u", ndirs++);
			WL_CHECK(w, bento_test_mkdir(w->fs, path, 0755),
				 "mkdir", path);
			snprintf(path2, sizeof(path2), "u/v/d%u/x", ndirs - 1);
			WL_CHECK(w, bento_test_symlink(w->fs, "../../g0",
						       path2), "symlink",
				 path2);
			if (ndirs > 2) {
				snprintf(path, sizeof(path), "u/v/d%u/x",
					 ndirs - 3);
				WL_CHECK(w, bento_test_unlink(w->fs, path),
					 "unlink", path);
				snprintf(path, sizeof(path), "u/v/d%u",
					 ndirs - 3);
				WL_CHECK(w, bento_test_rmdir(w->fs, path),
					 "rmdir", path);
			}
			break;
		case 8:		/* overwrite inside an unsynced file */
			k = (unsigned int)rng_below(&w->rng, nunsynced);
			if (!nunsynced || gone[k])
				break;
			snprintf(path, sizeof(path), "u/g%u", k);
			write_junk(w, path, rng_below(&w->rng, 30000),
				   rng_below(&w->rng, 200000));
			break;
		case 9:		/* fsync a directory */
			WL_CHECK(w, bento_test_fsync(w->fs, "u", 0),
				 "fsyncdir", "u");
			break;
		}
	}
}

/* "bigfile": data past the journal's size, indirect blocks, truncates. */
static void wl_bigfile(struct wl *w)
{
	uint64_t size = 0, i;

	WL_CHECK(w, bento_test_create(w->fs, "big", 0644), "create", "big");
	WL_CHECK(w, bento_test_create(w->fs, "tmp", 0644), "create", "tmp");
	for (i = 0; i < 6 && !w->err; i++) {
		synced_append(w, "big", 77, &size, (1u << 20) + 4096 * i + 5,
			      true);
		write_junk(w, "tmp", 1u << 20, i << 20);
		if (i == 3)
			WL_CHECK(w, bento_test_truncate(w->fs, "tmp", 50000),
				 "truncate", "tmp");
	}
	WL_CHECK(w, bento_test_unlink(w->fs, "tmp"), "unlink", "tmp");
	synced_append(w, "big", 77, &size, 3000, false);
}

/* "threads": four threads, each in its own directory. */
struct thread_arg {
	struct wl *w;
	unsigned int id;
	int err;
	char what[160];
};

static void *wl_thread(void *p)
{
	struct thread_arg *a = p;
	struct wl w = *a->w;	/* own rng and error; shared fs, rec, o */
	uint64_t size[6] = { 0 };
	char path[64], path2[64];
	unsigned int i, k;

	w.rng = 12345 + a->id;
	w.err = 0;
	snprintf(path, sizeof(path), "t%u", a->id);
	WL_CHECK(&w, bento_test_mkdir(w.fs, path, 0755), "mkdir", path);
	for (k = 0; k < 6; k++) {
		snprintf(path, sizeof(path), "t%u/s%u", a->id, k);
		WL_CHECK(&w, bento_test_create(w.fs, path, 0644), "create",
			 path);
	}
	for (i = 0; i < 40 && !w.err; i++) {
		k = (unsigned int)rng_below(&w.rng, 6);
		snprintf(path, sizeof(path), "t%u/s%u", a->id, k);
		synced_append(&w, path, a->id * 100 + k, &size[k],
			      rng_below(&w.rng, 12000), rng_below(&w.rng, 3));
		snprintf(path, sizeof(path), "t%u/tmp%u", a->id, i);
		WL_CHECK(&w, bento_test_create(w.fs, path, 0644), "create",
			 path);
		write_junk(&w, path, rng_below(&w.rng, 9000), 0);
		if (i % 3 == 2) {
			snprintf(path2, sizeof(path2), "t%u/tmp%u", a->id,
				 i - 2);
			WL_CHECK(&w, bento_test_rename(w.fs, path, path2, 0),
				 "rename", path);
		}
	}
	a->err = w.err;
	memcpy(a->what, w.what, sizeof(a->what));
	return NULL;
}

static void wl_threads(struct wl *w)
{
	struct thread_arg args[4];
	pthread_t th[4];
	unsigned int i;

	for (i = 0; i < 4; i++) {
		args[i].w = w;
		args[i].id = i;
		args[i].err = 0;
		if (pthread_create(&th[i], NULL, wl_thread, &args[i]))
			abort();
	}
	for (i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		if (args[i].err && !w->err) {
			w->err = args[i].err;
			memcpy(w->what, args[i].what, sizeof(w->what));
		}
	}
}

/*
 * "journal": commits whose log blocks are inode-table blocks full of
 * live inodes, alternating between two such blocks at the same log
 * position.  Each inode ends in the CRC-32 of its first 252 bytes, which
 * makes such blocks indistinguishable to the journal's CRC-32: a commit
 * torn between its header and its log blocks would pass the check with
 * the previous commit's block in place, and replay would install it
 * over the wrong home.  Its crash states are swept exhaustively around
 * every journal write (sweep_states), not sampled.
 */
static void wl_journal(struct wl *w)
{
	uint64_t size[32] = { 0 };
	char path[64];
	unsigned int i, k;

	/* Inodes 2..49: blocks of 16 inodes, all live, from inode 16 on. */
	for (i = 0; i < 48 && !w->err; i++) {
		snprintf(path, sizeof(path), "f%u", i);
		WL_CHECK(w, bento_test_create(w->fs, path, 0644), "create",
			 path);
	}
	WL_CHECK(w, bento_test_fsync(w->fs, "f0", 0), "fsync", "f0");
	/* One block appended and fsync'd per commit: the bitmap and one
	 * inode-table block, inodes 16.. and 32.. by turns. */
	for (i = 0; i < 12 && !w->err; i++) {
		k = (i % 2) * 16 + i / 2;
		snprintf(path, sizeof(path), "f%u", 14 + k);
		synced_append(w, path, 500 + k, &size[k], XV6_BLOCK_SIZE, true);
	}
}

/* ---- the journal as written --------------------------------------------- */

static uint32_t le32_at(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static uint64_t le64_at(const uint8_t *p)
{
	return (uint64_t)le32_at(p) | (uint64_t)le32_at(p + 4) << 32;
}

#define HDR_COUNT_AT offsetof(struct xv6_disk_loghdr, count)
#define HDR_CRC_AT offsetof(struct xv6_disk_loghdr, crc)
#define HDR_BLOCK_AT offsetof(struct xv6_disk_loghdr, block)

/* The count of a header block, 0 unless it has the magic. */
static uint32_t hdr_count(const uint8_t *hdr)
{
	return le32_at(hdr) == XV6_LOG_MAGIC ? le32_at(hdr + HDR_COUNT_AT) : 0;
}

/* The first live inode of an inode-table block with a bad crc, or
 * XV6_INODES_PER_BLOCK if none. */
static uint64_t bad_inode(const uint8_t *blk)
{
	const uint8_t *di;
	uint64_t k;

	for (k = 0; k < XV6_INODES_PER_BLOCK; k++) {
		di = blk + k * XV6_INODE_SIZE;
		if ((di[0] | di[1]) != 0 &&
		    bento_crc32(0, di, XV6_INODE_CRC_LEN) !=
		    le32_at(di + XV6_INODE_CRC_LEN))
			break;
	}
	return k;
}

/*
 * Check the journal as the recording holds it, against the crash model
 * rather than at sampled cut points, so a protocol error shows on every
 * run:
 *
 *   1. a committed header (count > 0) is written only after a barrier
 *      that follows the last write of every log block it names, and its
 *      crc covers them: a crash can never pair it with other log blocks;
 *   2. a log block is written only while no header that may be durable
 *      (the last one before the previous barrier, or any since) names it;
 *   3. while a header names blocks, a write to one of their homes is the
 *      install: the block's log copy;  below the data area, every write
 *      is such an install (all metadata there is journaled);
 *   4. every inode in a logged inode-table block has a good crc.
 *
 * Returns the number of committed transactions, or -1 after printing
 * what is wrong.
 */
static long check_journal(struct bento_rec *rec, const uint8_t *base)
{
	const struct xv6_disk_super *sup = (const void *)base;
	uint64_t log_start = le64_at((const uint8_t *)&sup->log_start);
	uint64_t log_blocks = le64_at((const uint8_t *)&sup->log_blocks);
	uint64_t it_start = le64_at((const uint8_t *)&sup->itable_start);
	uint64_t it_blocks = le64_at((const uint8_t *)&sup->itable_blocks);
	uint64_t data_start = le64_at((const uint8_t *)&sup->data_start);
	uint64_t len = bento_rec_position(rec), i, k, ntx = 0;
	uint64_t barrier = UINT64_MAX;	/* the last one, or none yet */
	const uint8_t **slot = calloc(log_blocks, sizeof(*slot));
	uint64_t *slot_at = calloc(log_blocks, sizeof(*slot_at));
	const uint8_t *hdr = base + log_start * XV6_BLOCK_SIZE;
	uint8_t *h = malloc(XV6_BLOCK_SIZE);
	struct bento_rec_event ev;
	uint32_t count, j, home, crc, live = hdr_count(hdr);
	long ret = -1;

	if (!slot || !slot_at || !h)
		abort();
	for (j = 0; j + 1 < log_blocks; j++) {
		slot[j] = base + (log_start + 1 + j) * XV6_BLOCK_SIZE;
		slot_at[j] = UINT64_MAX;	/* not written in this run */
	}
	count = live;
	for (i = 0; i < len; i++) {
		if (bento_rec_event(rec, i, &ev))
			abort();
		if (ev.flush) {
			/* The last header written is durable now. */
			barrier = i;
			live = count;
			continue;
		}
		if (ev.blockno > log_start &&
		    ev.blockno < log_start + log_blocks) {
			j = (uint32_t)(ev.blockno - log_start - 1);
			if (j < live) {
				printf("# journal: log entry %llu overwrites log block %u while a header that may be durable names it\n",
				       (unsigned long long)i, j);
				goto out;
			}
			slot[j] = ev.data;
			slot_at[j] = i;
			continue;
		}
		if (ev.blockno == log_start) {
			hdr = ev.data;
			count = hdr_count(hdr);
			if (count > live)
				live = count;	/* may be durable now */
			if (count == 0)
				continue;
			ntx++;
			memcpy(h, hdr, XV6_BLOCK_SIZE);
			memset(h + HDR_CRC_AT, 0, 4);
			crc = bento_crc32(0, h, XV6_BLOCK_SIZE);
			for (j = 0; j < count; j++) {
				if (barrier == UINT64_MAX ||
				    slot_at[j] == UINT64_MAX ||
				    slot_at[j] > barrier) {
					printf("# journal: log entry %llu commits log block %u with no barrier after the block's write\n",
					       (unsigned long long)i, j);
					goto out;
				}
				crc = bento_crc32(crc, slot[j], XV6_BLOCK_SIZE);
			}
			if (crc != le32_at(hdr + HDR_CRC_AT)) {
				printf("# journal: log entry %llu: header crc does not match its log blocks\n",
				       (unsigned long long)i);
				goto out;
			}
			for (j = 0; j < count; j++) {
				home = le32_at(hdr + HDR_BLOCK_AT + 4 * j);
				if (home < it_start ||
				    home >= it_start + it_blocks)
					continue;
				k = bad_inode(slot[j]);
				if (k == XV6_INODES_PER_BLOCK)
					continue;
				printf("# journal: log entry %llu: inode %llu in the log copy of block %u has a bad crc\n",
				       (unsigned long long)i,
				       (unsigned long long)(k + (home - it_start) *
							    XV6_INODES_PER_BLOCK),
				       home);
				goto out;
			}
			continue;
		}
		for (j = 0; j < count; j++)
			if (le32_at(hdr + HDR_BLOCK_AT + 4 * j) == ev.blockno)
				break;
		if (j < count) {
			if (memcmp(slot[j], ev.data, XV6_BLOCK_SIZE)) {
				printf("# journal: log entry %llu installs block %llu with contents other than its log copy\n",
				       (unsigned long long)i,
				       (unsigned long long)ev.blockno);
				goto out;
			}
		} else if (ev.blockno < data_start) {
			printf("# journal: log entry %llu writes metadata block %llu outside a commit's install\n",
			       (unsigned long long)i,
			       (unsigned long long)ev.blockno);
			goto out;
		}
	}
	ret = (long)ntx;
out:
	free(h);
	free(slot_at);
	free(slot);
	return ret;
}

/* ---- checking one crash state ------------------------------------------- */

struct run {
	const char *name;
	char dir[64];
	char img_path[96];
	struct bento_rec *rec;
	struct oracle o;
	uint8_t *img;
	int fails;
};

/* Check the synced files against the oracle for cut @cut. */
static int check_synced(struct run *r, struct bento_test_fs *fs,
			uint64_t cut, char *why, size_t whylen)
{
	const struct synced *s, *best;
	struct bento_attr a;
	uint8_t *buf;
	size_t i, j;
	ssize_t n;
	int err = 0;

	for (i = 0; i < r->o.n && !err; i++) {
		/* The latest fsync of this path that precedes the cut. */
		best = NULL;
		for (j = 0; j < r->o.n; j++) {
			s = &r->o.v[j];
			if (s->pos <= cut && !strcmp(s->path, r->o.v[i].path) &&
			    (!best || s->size > best->size))
				best = s;
		}
		if (!best || best != &r->o.v[i])
			continue;
		err = bento_test_stat(fs, best->path, &a);
		if (err) {
			snprintf(why, whylen, "fsync'd %s: %s", best->path,
				 strerror(-err));
			return -EUCLEAN;
		}
		if (a.size < best->size) {
			snprintf(why, whylen, "fsync'd %s: %llu bytes, fsync made %llu durable (returned at log entry %llu)",
				 best->path, (unsigned long long)a.size,
				 (unsigned long long)best->size,
				 (unsigned long long)best->pos);
			return -EUCLEAN;
		}
		buf = malloc(a.size ? a.size : 1);
		if (!buf)
			abort();
		n = bento_test_pread(fs, best->path, buf, a.size, 0);
		if (n != (ssize_t)a.size) {
			snprintf(why, whylen, "fsync'd %s: read %zd of %llu bytes",
				 best->path, n, (unsigned long long)a.size);
			err = -EUCLEAN;
		}
		for (j = 0; !err && j < a.size; j++) {
			if (buf[j] == pat(best->seed, j))
				continue;
			if (j >= best->size && buf[j] == 0)
				continue;
			snprintf(why, whylen, "fsync'd %s: wrong byte at %zu (durable size %llu)",
				 best->path, j,
				 (unsigned long long)best->size);
			err = -EUCLEAN;
		}
		free(buf);
	}
	return err;
}

/* Build, recover and check the state at @cut; 0 if consistent. */
static int check_state(struct run *r, uint64_t cut,
		       enum bento_crash_subset how, uint64_t seed)
{
	struct bento_crash_info info = { 0 };
	struct bento_test_fs *fs;
	char why[512] = "", out[4096], keep[160];
	int err, rc;

	err = bento_rec_crash_image(r->rec, cut, how, seed, r->img, &info);
	if (!err)
		err = bento_test_image_write(r->img_path, r->img, NBLOCKS);
	if (err) {
		snprintf(why, sizeof(why), "building the image: %s",
			 strerror(-err));
		goto fail;
	}

	err = bento_test_mount_file(&bento_module_xv6fs, r->img_path, NULL,
				    &fs);
	if (err) {
		snprintf(why, sizeof(why), "recovery mount: %s",
			 strerror(-err));
		goto fail;
	}
	err = check_synced(r, fs, cut, why, sizeof(why));
	if (!err) {
		err = bento_test_walk(fs, NULL, NULL, NULL);
		if (err)
			snprintf(why, sizeof(why), "walking the tree: %s",
				 strerror(-err));
	}
	rc = bento_test_unmount(fs);
	if (!err && rc) {
		snprintf(why, sizeof(why), "unmount: %s", strerror(-rc));
		err = rc;
	}
	if (err)
		goto fail;

	rc = bento_test_fsck_xv6fs(r->img_path, false, out, sizeof(out));
	if (rc != 0) {
		snprintf(why, sizeof(why), "fsck.xv6fs exit %d%s", rc,
			 rc == -ENOENT ? " (not built)" : "");
		printf("# fsck output:\n");
		for (char *l = strtok(out, "\n"); l; l = strtok(NULL, "\n"))
			printf("#   %s\n", l);
		err = -EUCLEAN;
		goto fail;
	}
	return 0;

fail:
	r->fails++;
	snprintf(keep, sizeof(keep), "/tmp/crash-%s-%llu-%s-%llu.img",
		 r->name, (unsigned long long)cut,
		 bento_crash_subset_name(how), (unsigned long long)seed);
	bento_rec_crash_image(r->rec, cut, how, seed, r->img, NULL);
	bento_test_image_write(keep, r->img, NBLOCKS);
	printf("# %s: cut %llu (barrier %lld, %llu of %llu pending writes, %s): %s; image kept in %s\n",
	       r->name, (unsigned long long)cut,
	       info.barrier == UINT64_MAX ? -1LL : (long long)info.barrier,
	       (unsigned long long)info.applied,
	       (unsigned long long)info.pending,
	       bento_crash_subset_name(how), why, keep);
	return err ? err : -EUCLEAN;
}

/* ---- choosing cut points -------------------------------------------------- */

struct state {
	uint64_t cut;
	enum bento_crash_subset how;
	uint64_t seed;
};

/*
 * Pick up to @budget states: the start, the end, states right after
 * barriers (all of them, or evenly spaced if there are too many), and
 * random points between barriers with each kind of subset.  Shuffled.
 */
static struct state *pick_states(struct run *r, unsigned int budget,
				 unsigned int *n, uint64_t *rng)
{
	uint64_t *bar, nbar, len = bento_rec_position(r->rec), i, step;
	struct state *v, tmp;
	unsigned int k = 0, nb, j;

	if (bento_rec_barriers(r->rec, &bar, &nbar))
		abort();
	v = calloc(budget + 2, sizeof(*v));
	if (!v)
		abort();
	v[k++] = (struct state){ 0, BENTO_CRASH_ALL, 0 };
	v[k++] = (struct state){ len, BENTO_CRASH_ALL, 0 };

	nb = (unsigned int)(nbar < budget / 2 ? nbar : budget / 2);
	step = nb ? nbar / nb : 1;
	for (i = 0; i < nb; i++)
		v[k++] = (struct state){ bar[i * step] + 1, BENTO_CRASH_ALL,
					 0 };
	while (k < budget) {
		tmp.cut = rng_below(rng, len + 1);
		tmp.how = (enum bento_crash_subset)(k % 4);
		tmp.seed = rng_next(rng);
		v[k++] = tmp;
	}
	free(bar);

	/* Shuffle, keeping the two fixed states first. */
	for (j = k - 1; j > 2; j--) {
		i = 2 + rng_below(rng, j - 1);
		tmp = v[j];
		v[j] = v[i];
		v[i] = tmp;
	}
	*n = k;
	return v;
}

/*
 * sweep_states - every state a crash around a journal write can leave:
 * for each barrier whose preceding writes include a write to the log
 * area, the cut just before it with every prefix of those writes (and
 * two random subsets).  Deterministic: the seed of a prefix of length k
 * is found by running recdev's generator.
 */
static struct state *sweep_states(struct run *r, uint64_t log_start,
				  uint64_t log_blocks, unsigned int *n)
{
	uint64_t *bar, nbar, b, prev = 0, i, seed, pending, k;
	struct bento_rec_event ev;
	struct state *v = NULL;
	size_t cap = 0, m = 0;
	bool journal;

	if (bento_rec_barriers(r->rec, &bar, &nbar))
		abort();
	for (b = 0; b < nbar; prev = bar[b] + 1, b++) {
		journal = false;
		for (i = prev; i < bar[b] && !journal; i++)
			journal = !bento_rec_event(r->rec, i, &ev) &&
				  !ev.flush && ev.blockno >= log_start &&
				  ev.blockno < log_start + log_blocks;
		if (!journal)
			continue;
		pending = bar[b] - prev;
		if (m + pending + 3 > cap) {
			cap = 2 * cap + pending + 64;
			v = realloc(v, cap * sizeof(*v));
			if (!v)
				abort();
		}
		for (k = 0; k <= pending; k++) {
			for (seed = 0;; seed++) {
				uint64_t st = seed;

				if (rng_next(&st) % (pending + 1) == k)
					break;
			}
			v[m++] = (struct state){ bar[b], BENTO_CRASH_PREFIX,
						 seed };
		}
		v[m++] = (struct state){ bar[b], BENTO_CRASH_RANDOM, b };
		v[m++] = (struct state){ bar[b], BENTO_CRASH_RANDOM, ~b };
	}
	free(bar);
	*n = (unsigned int)m;
	return v;
}

/* ---- one workload, start to end -------------------------------------------- */

static unsigned int run_workload(const char *name, void (*fn)(struct wl *),
				 bool sweep, unsigned int budget,
				 double deadline)
{
	struct run r = { .name = name };
	struct bento_blkdev *dev;
	uint64_t rng = 4242, nb, log_start = 0, log_blocks = 0;
	const struct xv6_disk_super *sup;
	struct state *states;
	struct wl w = { 0 };
	unsigned int n, i, checked = 0;
	long ntx = -1;
	void *base;
	int err;

	pthread_mutex_init(&r.o.lock, NULL);
	snprintf(r.dir, sizeof(r.dir), "/tmp/crash-xv6fs.XXXXXX");
	if (!mkdtemp(r.dir))
		abort();
	snprintf(r.img_path, sizeof(r.img_path), "%s/disk.img", r.dir);
	r.img = malloc((size_t)NBLOCKS * BENTO_BLOCK_SIZE);
	if (!r.img)
		abort();

	/* mkfs, then record everything from the first mount on. */
	err = bento_test_mkfs_xv6fs(r.img_path, NBLOCKS, NINODES);
	if (!err)
		err = bento_rec_new_file(r.img_path, &r.rec);
	if (!err)
		err = bento_rec_open_dev(r.rec, &dev);
	if (!err)
		err = bento_test_mount(&bento_module_xv6fs, dev, NULL, &w.fs);
	if (err) {
		tap_ok(false, "%s: setting up: %s", name, strerror(-err));
		tap_ok(false, "%s: no crash states checked", name);
		goto out;
	}
	w.rec = r.rec;
	w.o = &r.o;
	w.rng = 99;
	fn(&w);
	err = bento_test_unmount(w.fs);
	if (w.err || err) {
		tap_ok(false, "%s: workload: %s", name,
		       w.err ? w.what : strerror(-err));
		tap_ok(false, "%s: no crash states checked", name);
		goto out;
	}
	printf("# %s: %llu log entries, %zu fsyncs noted\n", name,
	       (unsigned long long)bento_rec_position(r.rec), r.o.n);

	/* The journal as written, against the protocol. */
	if (bento_test_image_read(r.img_path, &base, &nb) == 0) {
		sup = base;
		log_start = le64_at((const uint8_t *)&sup->log_start);
		log_blocks = le64_at((const uint8_t *)&sup->log_blocks);
		ntx = check_journal(r.rec, base);
		free(base);
	}
	tap_ok(ntx > 0, "%s: the journal's %ld commits are never torn, and install what they log",
	       name, ntx);

	/* Check the crash states. */
	states = sweep ? sweep_states(&r, log_start, log_blocks, &n) :
			 pick_states(&r, budget, &n, &rng);
	for (i = 0; i < n && r.fails < MAX_FAILS; i++) {
		if (bento_test_now_ms() > deadline) {
			printf("# %s: time budget spent after %u of %u states\n",
			       name, checked, n);
			break;
		}
		check_state(&r, states[i].cut, states[i].how, states[i].seed);
		checked++;
	}
	free(states);
	tap_ok(r.fails == 0, "%s: %u crash states recover, check clean with fsck and keep fsync'd data",
	       name, checked);
out:
	bento_rec_free(r.rec);
	free(r.o.v);
	free(r.img);
	unlink(r.img_path);
	rmdir(r.dir);
	return checked;
}

int main(void)
{
	static const struct {
		const char *name;
		void (*fn)(struct wl *);
		bool sweep;	/* all journal states, not a sample */
	} workloads[] = {
		{ "mixed", wl_mixed, false },
		{ "bigfile", wl_bigfile, false },
		{ "threads", wl_threads, false },
		{ "journal", wl_journal, true },
	};
	unsigned int total = 0, i, nw = 4, nrun = 0, nsampled = 0, done = 0;
	const char *only = getenv("XV6FS_CRASH_ONLY");
	long budget = env_long("XV6FS_CRASH_STATES", 480);
	double deadline = bento_test_now_ms() +
		1000.0 * (double)env_long("XV6FS_CRASH_SECONDS", 150);
	char prog[4096];

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (i = 0; i < nw; i++) {
		if (only && strcmp(only, workloads[i].name))
			continue;
		nrun++;
		nsampled += !workloads[i].sweep;
	}
	if (nrun == 0) {
		fprintf(stderr, "crash_xv6fs: XV6FS_CRASH_ONLY=%s names no workload\n",
			only);
		return 2;
	}
	printf("1..%u\n", 2 * nrun + 1);
	bento_log_set_level(BENTO_LOG_WARN);

	/* The check needs fsck: its absence is a failure, not a skip. */
	tap_ok(bento_test_tool_path("fsck.xv6fs", prog, sizeof(prog)) == 0,
	       "fsck.xv6fs is built (%s)", prog);
	/* Each workload gets an equal share of the time left. */
	for (i = 0; i < nw; i++) {
		if (only && strcmp(only, workloads[i].name))
			continue;
		total += run_workload(workloads[i].name, workloads[i].fn,
				      workloads[i].sweep,
				      (unsigned int)(budget /
						     (nsampled ? nsampled : 1)),
				      bento_test_now_ms() +
				      (deadline - bento_test_now_ms()) /
				      (double)(nrun - done));
		done++;
	}
	printf("# crash states checked: %u\n", total);
	return tap_failed ? 1 : 0;
}
