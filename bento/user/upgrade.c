/*
 * upgrade.c - live upgrade of a mounted file system, in its daemon: the
 * "upgrade PATH" command of the control socket (ctl.c) lands here.
 *
 * The steps (DESIGN.md, "Live upgrade"):
 *
 *   1. Load the new build beside the old one while the old one serves.
 *      It is loaded from a private copy (made in the control-socket
 *      directory and unlinked at once): dlopen returns the object already
 *      loaded under a path it has seen, so a module rebuilt in place would
 *      otherwise "upgrade" to the old code.  RTLD_LOCAL keeps the two
 *      builds' symbols apart.  Refuse, with the reason, a file that is
 *      missing or not a module (or built for another API: the loader
 *      checks), another file system's module, a serving build without
 *      prepare and a new one without transfer.  Nothing has stopped yet.
 *   2. Quiesce: take the write side of m->op_lock.  The lock prefers
 *      writers, so new requests block from the moment we ask, and we get
 *      it once the requests in flight (and a periodic commit) are done.
 *   3. old->prepare(sb, st) into a fresh record; new->transfer(sb, st).
 *      sb->fs_info (and root_ino) are saved first and put back if either
 *      fails: the old build resumes as if nothing happened.
 *   4. On success old->abandon(sb, old fs_info) frees the old state, and
 *      the instance's module is swapped (bento_instance_set_module, and
 *      m->lm for status).  A module without abandon leaks its state: we
 *      say so, keep the pointer (so it is reachable, not lost) and keep
 *      that module loaded for the life of the daemon, since memory it
 *      still owns may lead back into its code.
 *   5. Release the lock; then, outside the downtime, free the record and
 *      dlclose the old build.  Nothing can run its code any more: every
 *      op and commit call goes through inst->mod under the op lock, and
 *      the control thread (this one) is the only other user of m->lm.
 *
 * Downtime, as the issue defines it, is the time the write side is held
 * (lock taken to lock released), measured here with CLOCK_MONOTONIC.
 * The time spent waiting for in-flight requests before that (new
 * requests are already held back then) is reported apart as drain_us.
 *
 * Statistics (done, failed, last/min/median/max downtime, the last
 * BENTO_UPGRADE_HISTORY swaps) live in m->upgrades and are touched only
 * by the control thread, which also answers status: no lock.  The
 * median comes from every sample up to BENTO_UPGRADE_SAMPLES, then from
 * a uniform reservoir of that many.
 */
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "user.h"

/* States of modules without abandon, and those modules: kept for ever
 * (a static root, so leak checkers see them as reachable). */
struct kept {
	struct kept *next;
	void *fs_info;
	struct bento_loaded_module *lm;
};
static struct kept *kept_list;

/* ---- describing modules ------------------------------------------------- */

/* snprintf for messages that may be cut (reasons, descriptions). */
static void __attribute__((format(printf, 3, 4)))
say(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, size, fmt, ap);
	va_end(ap);
}

void bento_upgrade_describe(const struct bento_loaded_module *lm, char *buf,
			    size_t size)
{
	say(buf, size, "%s %s (build %.12s)", lm->mod->name,
		 lm->mod->version, lm->build_id);
}

/* ---- loading the new build ---------------------------------------------- */

/* Copy the file @src to the new file @dst (mode 0700).  0 or -errno. */
static int copy_file(const char *src, const char *dst)
{
	char *buf;
	ssize_t n = 0;
	int in, out, err = 0;

	in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return -errno;
	out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0700);
	buf = malloc(65536);
	if (out < 0 || !buf) {
		err = out < 0 ? -errno : -ENOMEM;
		goto out;
	}
	while ((n = read(in, buf, 65536)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || write(out, buf, (size_t)n) != n) {
			err = n < 0 ? -errno : -EIO;
			break;
		}
	}
out:
	free(buf);
	if (out >= 0) {
		close(out);
		if (err)
			unlink(dst);
	}
	close(in);
	return err;
}

/* @s with every @from replaced by @to, into @buf. */
static void replace_all(char *buf, size_t size, const char *s,
			const char *from, const char *to)
{
	size_t flen = strlen(from), n = 0;
	const char *hit;

	buf[0] = '\0';
	while (flen && (hit = strstr(s, from)) && n < size) {
		n += (size_t)snprintf(buf + n, size - n, "%.*s%s",
				      (int)(hit - s), s, to);
		s = hit + flen;
	}
	if (n < size)
		snprintf(buf + n, size - n, "%s", s);
}

/*
 * Load @path (absolute) from a private copy; lm->path names @path.  On
 * failure @why holds the reason, naming @path.  0 or -errno.
 */
static int load_new(struct bento_mount *m, const char *path,
		    struct bento_loaded_module **out, char *why, size_t size)
{
	static unsigned int seq;
	char real[PATH_MAX], dir[PATH_MAX], copy[PATH_MAX + 64];
	char held[1024];
	const char *msg;
	struct stat st;
	int err = 0;

	if (!realpath(path, real)) {
		err = -errno;
		say(why, size, "%s: %s", path, strerror(-err));
		return err;
	}
	if (stat(real, &st) || access(real, R_OK))
		err = -errno;
	else if (!S_ISREG(st.st_mode))
		err = S_ISDIR(st.st_mode) ? -EISDIR : -ENOEXEC;
	if (err) {
		say(why, size, "%s: %s", path, err == -ENOEXEC ?
			 "not a regular file" : strerror(-err));
		return err;
	}
	err = bento_ctl_dir(geteuid(), dir, sizeof(dir));
	snprintf(copy, sizeof(copy), "%s/upgrade-%d-%u.so", dir, (int)m->pid,
		 ++seq);
	if (!err)
		err = copy_file(real, copy);
	if (err) {
		/* No private copy: load it where it is (fine unless that
		 * path is loaded already). */
		bento_warn("%s: cannot copy to %s (%s): loading it in place",
			   real, copy, strerror(-err));
		snprintf(copy, sizeof(copy), "%s", real);
	}

	bento_log_capture_start(held, sizeof(held));
	err = bento_module_load(copy, out);
	bento_log_capture_stop();
	if (strcmp(copy, real) != 0)
		unlink(copy);
	if (err) {
		msg = strncmp(held, "bento: ", 7) == 0 ? held + 7 : held;
		if (!msg[0])
			say(held, sizeof(held), "%s: %s", copy,
				 strerror(-err));
		replace_all(why, size, msg[0] ? msg : held, copy, path);
		return err;
	}
	snprintf((*out)->path, sizeof((*out)->path), "%s", real);
	return 0;
}

/* The refusals that need no quiescing.  0, or -errno with @why. */
static int check_pair(struct bento_mount *m,
		      const struct bento_loaded_module *nlm, const char *path,
		      char *why, size_t size)
{
	const struct bento_module *old = m->lm->mod, *new = nlm->mod;

	if (strcmp(old->name, new->name) != 0) {
		say(why, size, "%s is a module of file system %s, not %s",
			 path, new->name, old->name);
		return -EINVAL;
	}
	if (!old->ops->prepare) {
		say(why, size, "the serving build has no prepare op: it cannot be upgraded from");
		return -EOPNOTSUPP;
	}
	if (!new->ops->transfer) {
		say(why, size, "%s has no transfer op: it cannot be upgraded to",
			 path);
		return -EOPNOTSUPP;
	}
	return 0;
}

/* ---- statistics --------------------------------------------------------- */

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* A sample into the reservoir: all of them up to its size, then each
 * replacing a random slot with the right probability (algorithm R). */
static void add_sample(struct bento_upgrade_stats *s, uint64_t us)
{
	uint64_t seen = s->done;	/* samples before this one */

	if (s->nsamples < BENTO_UPGRADE_SAMPLES) {
		if (s->nsamples == s->cap) {
			size_t cap = s->cap ? s->cap * 2 : 64;
			uint32_t *p = realloc(s->samples, cap * sizeof(*p));

			if (!p)
				return;
			s->samples = p;
			s->cap = cap;
		}
		s->samples[s->nsamples++] = us > UINT32_MAX ? UINT32_MAX :
					    (uint32_t)us;
		return;
	}
	s->rng = s->rng * 6364136223846793005ULL + 1442695040888963407ULL;
	if ((s->rng >> 11) % (seen + 1) < BENTO_UPGRADE_SAMPLES)
		s->samples[(s->rng >> 11) % BENTO_UPGRADE_SAMPLES] =
			us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
}

static void record_success(struct bento_mount *m, const char *from,
			   const char *to, uint64_t us, uint64_t drain_us)
{
	struct bento_upgrade_stats *s = &m->upgrades;
	struct bento_upgrade_swap *h;

	add_sample(s, us);
	s->done++;
	s->last_us = us;
	s->last_drain_us = drain_us;
	if (s->done == 1 || us < s->min_us)
		s->min_us = us;
	if (us > s->max_us)
		s->max_us = us;
	h = &s->history[s->nhistory++ % BENTO_UPGRADE_HISTORY];
	say(h->from, sizeof(h->from), "%s", from);
	say(h->to, sizeof(h->to), "%s", to);
	h->downtime_us = us;
	clock_gettime(CLOCK_REALTIME, &h->when);
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

uint64_t bento_upgrade_median(const struct bento_upgrade_stats *s)
{
	uint32_t *copy;
	uint64_t med;

	if (!s->nsamples)
		return 0;
	copy = malloc(s->nsamples * sizeof(*copy));
	if (!copy)
		return s->last_us;
	memcpy(copy, s->samples, s->nsamples * sizeof(*copy));
	qsort(copy, s->nsamples, sizeof(*copy), cmp_u32);
	med = copy[s->nsamples / 2];
	if (s->nsamples % 2 == 0)
		med = (med + copy[s->nsamples / 2 - 1]) / 2;
	free(copy);
	return med;
}

void bento_upgrade_free_stats(struct bento_upgrade_stats *s)
{
	free(s->samples);
	s->samples = NULL;
	s->nsamples = s->cap = 0;
}

/* ---- the swap ------------------------------------------------------------ */

/* The old build's state after a successful transfer: abandon or keep. */
static void drop_old(struct bento_mount *m, struct bento_loaded_module *olm,
		     void *old_info, bool *unload)
{
	struct kept *k;

	if (olm->mod->ops->abandon) {
		olm->mod->ops->abandon(&m->inst->sb, old_info);
		*unload = true;
		return;
	}
	bento_warn("%s: %s %s has no abandon op: its in-memory state is leaked, and the module stays loaded",
		   m->mountpoint, olm->mod->name, olm->mod->version);
	*unload = false;
	k = calloc(1, sizeof(*k));
	if (k) {
		k->fs_info = old_info;
		k->lm = olm;
		k->next = kept_list;
		kept_list = k;
	}
}

/*
 * Quiesce, prepare, transfer, swap, resume.  Fills rep's times.  On
 * failure the old build serves on, and @why says why.  0 or -errno.
 */
static int swap(struct bento_mount *m, struct bento_loaded_module *nlm,
		const char *path, struct bento_upgrade_report *rep,
		char *why, size_t size)
{
	struct bento_loaded_module *olm = m->lm;
	struct bento_sb *sb = &m->inst->sb;
	struct bento_state *st;
	bento_ino_t old_root;
	long long t0, t1, t2, tp = 0;
	bool unload = false;
	char held[1024];
	void *old_info;
	int err;

	st = bento_state_new();
	if (!st) {
		say(why, size, "no memory for the state record");
		return -ENOMEM;
	}

	/* Quiesce: from here new requests wait. */
	t0 = now_ns();
	pthread_rwlock_wrlock(&m->op_lock);
	t1 = now_ns();
	old_info = sb->fs_info;
	old_root = sb->root_ino;

	bento_log_capture_start(held, sizeof(held));
	err = olm->mod->ops->prepare(sb, st);
	if (err) {
		sb->fs_info = old_info;
		sb->root_ino = old_root;
		bento_log_capture_stop();
		say(why, size, "the serving build failed to prepare its state: %s%s%s",
			 strerror(-err), held[0] ? ": " : "", held);
		goto out_unlock;
	}
	tp = now_ns();
	err = nlm->mod->ops->transfer(sb, st);
	bento_log_capture_stop();
	if (err) {
		sb->fs_info = old_info;
		sb->root_ino = old_root;
		if (err == -EPROTO)
			say(why, size, "%s refused the state record version %u (%s)%s%s",
				 path, bento_state_version(st),
				 strerror(-err), held[0] ? ": " : "", held);
		else
			say(why, size, "%s failed to take over the state: %s%s%s",
				 path, strerror(-err), held[0] ? ": " : "",
				 held);
		goto out_unlock;
	}

	/* The new build serves; the old one lets go of its state. */
	drop_old(m, olm, old_info, &unload);
	bento_instance_set_module(m->inst, nlm->mod);
	m->lm = nlm;

out_unlock:
	t2 = now_ns();
	pthread_rwlock_unlock(&m->op_lock);
	if (tp) {
		rep->prepare_us = (uint64_t)(tp - t1) / 1000;
		rep->transfer_us = (uint64_t)(t2 - tp) / 1000;
	}
	rep->downtime_us = (uint64_t)(t2 - t1 + 999) / 1000;
	rep->drain_us = (uint64_t)(t1 - t0) / 1000;
	rep->state_version = bento_state_version(st);
	bento_state_free(st);
	if (!err && unload)
		bento_module_unload(olm);
	return err;
}

int bento_upgrade(struct bento_mount *m, const char *path,
		  struct bento_upgrade_report *rep)
{
	struct bento_loaded_module *nlm = NULL;
	char *why = rep->error;
	size_t size = sizeof(rep->error);
	int err;

	memset(rep, 0, sizeof(*rep));
	bento_upgrade_describe(m->lm, rep->from, sizeof(rep->from));
	snprintf(rep->serving, sizeof(rep->serving), "%s %s",
		 m->lm->mod->name, m->lm->mod->version);

	err = load_new(m, path, &nlm, why, size);
	if (!err)
		err = check_pair(m, nlm, path, why, size);
	if (!err) {
		bento_upgrade_describe(nlm, rep->to, sizeof(rep->to));
		err = swap(m, nlm, path, rep, why, size);
	}
	if (err) {
		bento_module_unload(nlm);
		m->upgrades.failed++;
		say(m->upgrades.last_error, sizeof(m->upgrades.last_error),
			 "%s", why);
		bento_err("%s: upgrade to %s failed: %s; %s keeps serving",
			  m->mountpoint, path, why, rep->serving);
		return err;
	}
	record_success(m, rep->from, rep->to, rep->downtime_us, rep->drain_us);
	bento_info("%s: upgraded %s -> %s, downtime %llu us (prepare %llu, transfer and swap %llu; in-flight ops drained in %llu us before)",
		   m->mountpoint, rep->from, rep->to,
		   (unsigned long long)rep->downtime_us,
		   (unsigned long long)rep->prepare_us,
		   (unsigned long long)rep->transfer_us,
		   (unsigned long long)rep->drain_us);
	return 0;
}
