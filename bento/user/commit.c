/*
 * commit.c - the commit thread: make a mounted file system durable every
 * `commit=` seconds.
 *
 * Without it nothing a FUSE mount does reaches the device before an
 * fsync, a full journal or the unmount, and sync(1) does not help: the
 * kernel sends FUSE_SYNCFS only to virtiofs, and libfuse 3.14's low-level
 * API has no op for it.  So, as ext4 commits its journal every five
 * seconds, the daemon calls the module's sync_fs(sb, 1) every
 * m->commit_secs seconds (default 5), which bounds what a crash or a
 * power cut can take.  A module without sync_fs gets what the host can
 * do alone: every buffer marked dirty written back, then a device flush.
 *
 * Each commit runs under the read side of m->op_lock, like an op: it may
 * overlap requests (sync_fs must cope, as fs.h says), never destroy or an
 * upgrade.  The thread sleeps on a condition variable with a monotonic
 * clock, so bento_commit_stop wakes it at once; a commit in progress is
 * finished first.
 *
 * A failure is logged once, when commits start failing, and once more
 * when they work again; status shows the counts.  The error itself is
 * not lost: the device keeps failing barriers after a failed write (see
 * blkdev_file.c), so the final flush of the unmount reports it.
 */
#include <stdlib.h>
#include <string.h>

#include "user.h"

struct bento_commit {
	struct bento_mount *m;
	pthread_t thread;

	pthread_mutex_t lock;	/* guards stop, wakes cond */
	pthread_cond_t cond;
	bool stop;

	uint64_t done, failed;	/* atomic: commits, failed commits */
};

int bento_sync_instance(struct bento_mount *m)
{
	struct bento_sb *sb = &m->inst->sb;
	int err;

	if (m->inst->mod->ops->sync_fs)
		return m->inst->mod->ops->sync_fs(sb, 1);
	err = bento_sync_dirty(sb);
	return err ? err : bento_dev_flush(sb);
}

/* One commit, with its log line if it changes the state.  @failing:
 * whether the previous one failed; returns whether this one did. */
static bool commit_once(struct bento_commit *c, bool failing)
{
	struct bento_mount *m = c->m;
	int err;

	pthread_rwlock_rdlock(&m->op_lock);
	err = bento_sync_instance(m);
	pthread_rwlock_unlock(&m->op_lock);

	__atomic_fetch_add(err ? &c->failed : &c->done, 1, __ATOMIC_RELAXED);
	if (err && !failing)
		bento_err("%s: periodic commit failed: %s (retrying every %u s)",
			  m->mountpoint, strerror(-err),
			  m->commit_secs);
	else if (!err && failing)
		bento_info("%s: periodic commit works again", m->mountpoint);
	return err != 0;
}

static void *commit_thread(void *arg)
{
	struct bento_commit *c = arg;
	bool failing = false;
	struct timespec at;

	pthread_mutex_lock(&c->lock);
	clock_gettime(CLOCK_MONOTONIC, &at);
	while (!c->stop) {
		at.tv_sec += c->m->commit_secs;
		while (!c->stop &&
		       pthread_cond_timedwait(&c->cond, &c->lock, &at) == 0)
			;
		if (c->stop)
			break;
		pthread_mutex_unlock(&c->lock);
		failing = commit_once(c, failing);
		pthread_mutex_lock(&c->lock);
	}
	pthread_mutex_unlock(&c->lock);
	return NULL;
}

int bento_commit_start(struct bento_mount *m)
{
	struct bento_commit *c;
	pthread_condattr_t ca;
	int err;

	if (!m->commit_secs || m->read_only)
		return 0;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->m = m;
	pthread_mutex_init(&c->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&c->cond, &ca);
	pthread_condattr_destroy(&ca);

	err = pthread_create(&c->thread, NULL, commit_thread, c);
	if (err) {
		pthread_cond_destroy(&c->cond);
		pthread_mutex_destroy(&c->lock);
		free(c);
		return -err;
	}
	m->commit = c;
	return 0;
}

void bento_commit_stop(struct bento_commit *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&c->lock);
	c->stop = true;
	pthread_cond_signal(&c->cond);
	pthread_mutex_unlock(&c->lock);
	pthread_join(c->thread, NULL);
	c->m->commit = NULL;
	pthread_cond_destroy(&c->cond);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

void bento_commit_stats(struct bento_commit *c, uint64_t *done,
			uint64_t *failed)
{
	*done = c ? __atomic_load_n(&c->done, __ATOMIC_RELAXED) : 0;
	*failed = c ? __atomic_load_n(&c->failed, __ATOMIC_RELAXED) : 0;
}
