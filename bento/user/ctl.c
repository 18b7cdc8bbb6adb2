/*
 * ctl.c - the control socket of a mounted Bento file system.
 *
 * Each daemon listens on a unix stream socket named after the device
 * number of its mount, /run/bento/MAJOR:MINOR.sock (for a non-root
 * mounter, $XDG_RUNTIME_DIR/bento/ or /tmp/bento-UID/), so a client finds
 * it with one stat(2) of the mount point.  The directory is 0755 (0700
 * for a user's), the socket 0600; the server also checks SO_PEERCRED and
 * talks only to root and the mounting user.
 *
 * Protocol: the client sends one command line; the server answers with
 * "key=value" lines, the last of which is "result=N" (0 or a negative
 * errno, with an "error=..." line before it on failure), and closes the
 * connection.  Commands are a table (ctl_cmds below): adding one is a
 * function and a line.
 *
 *   status   what `bento status` prints: module, device, counters, cache
 *   umount   unmount, and answer only once the daemon has flushed
 *            everything: the connection stays open until
 *            bento_ctl_finish() writes the final result
 *   upgrade PATH
 *            live upgrade to the module at PATH (upgrade.c); answers
 *            from=, to=, downtime_us=, drain_us=, or error= and
 *            serving= (the build that serves on) on failure
 *   help     the command names
 *
 * The control thread also turns SIGTERM, SIGINT and SIGHUP into a lazy
 * unmount: the loop keeps serving while the kernel writes back its cached
 * pages, and ends when the kernel closes the connection.  A second signal
 * stops the loop at once (what the kernel still caches is lost).
 *
 * Clients find a socket from /proc/self/mountinfo (the mount's device
 * number, and the mounting user's uid for where to look), never by
 * touching the mount, and every exchange has a deadline: a stopped or
 * hung daemon makes `bento status` and `bento umount` fail with a
 * message, never hang.
 *
 * Limits: one command per connection; a client gets 2 s to send its line.
 * The server handles connections one at a time, which is plenty for a
 * status tool, and means an upgrade never overlaps a status answer (so
 * the upgrade statistics need no lock).
 */
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "user.h"

struct bento_ctl {
	struct bento_mount *m;
	int listen_fd;
	int pipe_rd, pipe_wr;	/* signal numbers, or 0 = stop */
	ino_t sock_ino;		/* to remove only our own socket */
	pthread_t thread;
	bool started;

	pthread_mutex_t lock;	/* guards the fields below */
	int *waiters;		/* connections of `bento umount`s */
	int nwaiters;
	bool unmounting;
	bool flushing;		/* inst and the module are going away */
};

/* The write end of the signal pipe and the session, for the handler. */
static volatile int ctl_sig_fd = -1;
static struct fuse_session *ctl_sig_se;
static volatile sig_atomic_t ctl_sig_count;

/* ---- paths --------------------------------------------------------------- */

int bento_ctl_dir(uid_t uid, char *buf, size_t size)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	int n;

	if (uid == 0)
		n = snprintf(buf, size, "%s", BENTO_RUN_DIR);
	else if (xdg && xdg[0] == '/')
		n = snprintf(buf, size, "%s/bento", xdg);
	else
		n = snprintf(buf, size, "/tmp/bento-%u", (unsigned int)uid);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

void bento_ctl_sock_name(dev_t dev, char *buf, size_t size)
{
	snprintf(buf, size, "%u:%u.sock", major(dev), minor(dev));
}

/* Undo mountinfo's octal escapes (\040 for a space) in place. */
static void unescape_mountinfo(char *s)
{
	char *d = s;

	while (*s) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' &&
		    s[2] >= '0' && s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
			*d++ = (char)((s[1] - '0') << 6 | (s[2] - '0') << 3 |
				      (s[3] - '0'));
			s += 4;
		} else {
			*d++ = *s++;
		}
	}
	*d = '\0';
}

/*
 * Parse one mountinfo line "ID PARENT MAJ:MIN ROOT MNT OPTS [TAGS] - TYPE
 * SOURCE SUPEROPTS" into @mi and @mnt (PATH_MAX bytes, unescaped).
 * Returns true if it is one.
 */
static bool parse_mountinfo(const char *line, struct bento_mountinfo *mi,
			    char *mnt)
{
	char type[64], source[PATH_MAX], super[1024], *uid;
	unsigned int maj, min;
	const char *sep;

	if (sscanf(line, "%*u %*u %u:%u %*s %4095s", &maj, &min, mnt) != 3)
		return false;
	sep = strstr(line, " - ");
	if (!sep || sscanf(sep + 3, "%63s %4095s %1023s", type, source,
			   super) != 3)
		return false;
	unescape_mountinfo(mnt);
	unescape_mountinfo(source);
	mi->dev = makedev(maj, min);
	snprintf(mi->fstype, sizeof(mi->fstype), "%s", type);
	snprintf(mi->source, sizeof(mi->source), "%s", source);
	uid = strstr(super, "user_id=");
	mi->user_id = uid ? strtol(uid + 8, NULL, 10) : -1;
	return true;
}

/*
 * The mount on top at @path (@exact) or the deepest one holding it; its
 * mount point goes to @mnt_out if not NULL.  0 or -ENOENT.
 */
static int mountinfo_scan(const char *path, bool exact,
			  struct bento_mountinfo *mi, char *mnt_out,
			  size_t size)
{
	struct bento_mountinfo cur;
	size_t best = 0, plen = strlen(path);
	char *line = NULL, *mnt;
	size_t cap = 0;
	int err = -ENOENT;
	FILE *f;

	mnt = malloc(PATH_MAX);
	f = mnt ? fopen("/proc/self/mountinfo", "re") : NULL;
	if (!f) {
		free(mnt);
		return mnt ? -errno : -ENOMEM;
	}
	while (getline(&line, &cap, f) > 0) {
		size_t len;

		if (!parse_mountinfo(line, &cur, mnt))
			continue;
		len = strlen(mnt);
		if (exact ? strcmp(mnt, path) != 0 :
		    !(len <= plen && strncmp(mnt, path, len) == 0 &&
		      (path[len] == '/' || path[len] == '\0' || len == 1)) ||
		    len < best)
			continue;
		best = len;	/* later lines are on top: >= keeps them */
		*mi = cur;
		if (mnt_out)
			snprintf(mnt_out, size, "%s", mnt);
		err = 0;
	}
	free(line);
	free(mnt);
	fclose(f);
	return err;
}

int bento_mountinfo_bento(char ***list, size_t *n)
{
	struct bento_mountinfo cur;
	char *line = NULL, *mnt, **l = NULL, **nl, *dup;
	size_t cap = 0, count = 0;
	int err = 0;
	FILE *f;

	mnt = malloc(PATH_MAX);
	f = mnt ? fopen("/proc/self/mountinfo", "re") : NULL;
	if (!f) {
		err = mnt ? -errno : -ENOMEM;
		free(mnt);
		return err;
	}
	while (!err && getline(&line, &cap, f) > 0) {
		if (!parse_mountinfo(line, &cur, mnt) ||
		    strncmp(cur.fstype, "fuse.bento.", 11) != 0)
			continue;
		nl = realloc(l, (count + 1) * sizeof(*l));
		dup = nl ? strdup(mnt) : NULL;
		if (nl)
			l = nl;
		if (!dup)
			err = -ENOMEM;
		else
			l[count++] = dup;
	}
	free(line);
	free(mnt);
	fclose(f);
	if (err) {
		bento_mountinfo_free_list(l, count);
		return err;
	}
	*list = l;
	*n = count;
	return 0;
}

void bento_mountinfo_free_list(char **list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(list[i]);
	free(list);
}

int bento_mountinfo_find(const char *path, struct bento_mountinfo *mi)
{
	return mountinfo_scan(path, true, mi, NULL, 0);
}

int bento_mountinfo_under(const char *path, struct bento_mountinfo *mi,
			  char *mnt, size_t size)
{
	return mountinfo_scan(path, false, mi, mnt, size);
}

/*
 * The device number of the FUSE mount on @path, from mountinfo: stat(2)
 * would ask the file system, whose loop is not running yet.
 */
static int mount_dev(const char *path, dev_t *out)
{
	struct bento_mountinfo mi;
	int err = bento_mountinfo_find(path, &mi);

	if (err)
		return err;
	if (strncmp(mi.fstype, "fuse", 4) != 0)
		return -ENOENT;
	*out = mi.dev;
	return 0;
}

/* ---- server -------------------------------------------------------------- */

int bento_ctl_listen(struct bento_mount *m)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char dir[PATH_MAX], name[64];
	struct bento_ctl *ctl;
	int fds[2], err;
	mode_t old_umask;
	struct stat st;
	dev_t dev = 0;

	/* Where: the directory, and a name from the mount's device. */
	err = mount_dev(m->mountpoint, &dev);
	if (err) {
		bento_err("%s: mount not found in /proc/self/mountinfo",
			  m->mountpoint);
		return err;
	}
	err = bento_ctl_dir(geteuid(), dir, sizeof(dir));
	if (err)
		return err;
	if (mkdir(dir, geteuid() == 0 ? 0755 : 0700) && errno != EEXIST) {
		err = -errno;
		bento_err("%s: cannot create: %s", dir, strerror(-err));
		return err;
	}
	bento_ctl_sock_name(dev, name, sizeof(name));
	if (snprintf(m->sock_path, sizeof(m->sock_path), "%s/%s", dir,
		     name) >= (int)sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, m->sock_path);

	ctl = calloc(1, sizeof(*ctl));
	if (!ctl)
		return -ENOMEM;
	ctl->m = m;
	pthread_mutex_init(&ctl->lock, NULL);

	/* The socket, 0600 from the start; a stale one (its daemon died,
	 * and the device number was reused) is replaced. */
	ctl->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (ctl->listen_fd < 0) {
		err = -errno;
		goto out_free;
	}
	unlink(m->sock_path);
	old_umask = umask(0177);
	err = bind(ctl->listen_fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old_umask);
	if (err || listen(ctl->listen_fd, 16) || stat(m->sock_path, &st)) {
		err = -errno;
		bento_err("%s: cannot listen: %s", m->sock_path,
			  strerror(-err));
		goto out_close;
	}
	ctl->sock_ino = st.st_ino;

	if (pipe2(fds, O_CLOEXEC | O_NONBLOCK)) {
		err = -errno;
		goto out_unlink;
	}
	ctl->pipe_rd = fds[0];
	ctl->pipe_wr = fds[1];
	m->ctl = ctl;
	return 0;

out_unlink:
	unlink(m->sock_path);
out_close:
	close(ctl->listen_fd);
out_free:
	pthread_mutex_destroy(&ctl->lock);
	free(ctl);
	return err;
}

/* Write all of @len bytes, ignoring a client that went away. */
static void send_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		buf += n;
		len -= (size_t)n;
	}
}

static void __attribute__((format(printf, 2, 3)))
sendf(int fd, const char *fmt, ...)
{
	char buf[PATH_MAX + 1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n > 0)
		send_all(fd, buf, (size_t)n < sizeof(buf) ? (size_t)n :
			 sizeof(buf) - 1);
}

static void send_result(int fd, int err, const char *what)
{
	if (err)
		sendf(fd, "error=%s%s%s\n", what ? what : "",
		      what ? ": " : "", strerror(-err));
	sendf(fd, "result=%d\n", err);
}

/*
 * Unmount the mount point: umount(2) as root, fusermount3 otherwise.
 * @lazy detaches at once and lets open files keep the mount alive.
 * Returns 0 or a negative errno.
 */
static int do_unmount(struct bento_mount *m, bool lazy)
{
	int status;
	pid_t pid;

	if (geteuid() == 0)
		return umount2(m->mountpoint, lazy ? MNT_DETACH : 0) ?
		       -errno : 0;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		if (lazy)
			execlp("fusermount3", "fusermount3", "-u", "-q", "-z",
			       m->mountpoint, (char *)NULL);
		else
			execlp("fusermount3", "fusermount3", "-u", "-q",
			       m->mountpoint, (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0)
		return -errno;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -EBUSY;
}

static void add_waiter(struct bento_ctl *ctl, int fd)
{
	int *w;

	pthread_mutex_lock(&ctl->lock);
	w = realloc(ctl->waiters, (ctl->nwaiters + 1) * sizeof(*w));
	if (w) {
		ctl->waiters = w;
		ctl->waiters[ctl->nwaiters++] = fd;
		fd = -1;
	}
	pthread_mutex_unlock(&ctl->lock);
	if (fd >= 0) {
		send_result(fd, -ENOMEM, NULL);
		close(fd);
	}
}

/* Has the peer of @fd closed its end? */
static bool client_gone(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLRDHUP };

	return poll(&p, 1, 0) > 0 &&
	       (p.revents & (POLLRDHUP | POLLHUP | POLLERR));
}

/* Returns true if the command keeps @fd (it answers later). */
static bool cmd_umount(struct bento_ctl *ctl, int fd, const char *arg)
{
	bool already;
	int err = 0;

	pthread_mutex_lock(&ctl->lock);
	already = ctl->unmounting;
	pthread_mutex_unlock(&ctl->lock);

	/* A client that gave up (its -t ran out while we were stopped)
	 * asked for nothing any more. */
	if (client_gone(fd)) {
		bento_info("%s: unmount asked for, but its client has gone: ignored",
			   ctl->m->mountpoint);
		return false;
	}

	/* EINVAL: no longer mounted, the loop is ending: wait for it. */
	if (!already)
		err = do_unmount(ctl->m, false);
	if (err && err != -EINVAL) {
		bento_info("%s: unmount asked for, failed: %s",
			   ctl->m->mountpoint, strerror(-err));
		send_result(fd, err, ctl->m->mountpoint);
		return false;
	}
	pthread_mutex_lock(&ctl->lock);
	ctl->unmounting = true;
	pthread_mutex_unlock(&ctl->lock);
	sendf(fd, "pid=%d\n", (int)ctl->m->pid);
	add_waiter(ctl, fd);
	return true;
}

/* status while the instance is going away: what the mount itself knows. */
static void status_flushing(struct bento_mount *m, int fd)
{
	sendf(fd, "device=%s\nmountpoint=%s\npid=%d\nflushing=1\n",
	      m->device, m->mountpoint, (int)m->pid);
	send_result(fd, 0, NULL);
}

/* The upgrade statistics and history, "upgrade.*" and "history.N". */
static void status_upgrades(struct bento_mount *m, int fd)
{
	const struct bento_upgrade_stats *s = &m->upgrades;
	uint64_t i, first;

	sendf(fd, "upgrade.done=%llu\nupgrade.failed=%llu\n",
	      (unsigned long long)s->done, (unsigned long long)s->failed);
	if (s->done) {
		sendf(fd, "upgrade.last_us=%llu\nupgrade.min_us=%llu\n",
		      (unsigned long long)s->last_us,
		      (unsigned long long)s->min_us);
		sendf(fd, "upgrade.median_us=%llu\nupgrade.max_us=%llu\n",
		      (unsigned long long)bento_upgrade_median(s),
		      (unsigned long long)s->max_us);
		sendf(fd, "upgrade.last_drain_us=%llu\n",
		      (unsigned long long)s->last_drain_us);
	}
	if (s->failed)
		sendf(fd, "upgrade.last_error=%s\n", s->last_error);
	first = s->nhistory > BENTO_UPGRADE_HISTORY ?
		s->nhistory - BENTO_UPGRADE_HISTORY : 0;
	for (i = first; i < s->nhistory; i++) {
		const struct bento_upgrade_swap *h =
			&s->history[i % BENTO_UPGRADE_HISTORY];

		sendf(fd, "history.%llu=%lld %s -> %s, %llu us\n",
		      (unsigned long long)i + 1, (long long)h->when.tv_sec,
		      h->from, h->to, (unsigned long long)h->downtime_us);
	}
}

/*
 * upgrade PATH: runs in this thread, holding ctl->lock so the unmount
 * (bento_ctl_flushing) waits for it rather than freeing the instance
 * under it.
 */
static bool cmd_upgrade(struct bento_ctl *ctl, int fd, const char *arg)
{
	struct bento_upgrade_report *rep;
	int err;

	if (arg[0] != '/') {
		sendf(fd, "error=upgrade needs an absolute module path\n");
		sendf(fd, "result=%d\n", -EINVAL);
		return false;
	}
	rep = calloc(1, sizeof(*rep));
	if (!rep) {
		send_result(fd, -ENOMEM, "upgrade");
		return false;
	}
	pthread_mutex_lock(&ctl->lock);
	if (ctl->flushing || ctl->unmounting) {
		pthread_mutex_unlock(&ctl->lock);
		sendf(fd, "error=the mount is being unmounted\n");
		sendf(fd, "result=%d\n", -EBUSY);
		free(rep);
		return false;
	}
	err = bento_upgrade(ctl->m, arg, rep);
	pthread_mutex_unlock(&ctl->lock);

	if (err) {
		sendf(fd, "error=%s\nserving=%s\n", rep->error, rep->serving);
	} else {
		sendf(fd, "from=%s\nto=%s\n", rep->from, rep->to);
		sendf(fd, "downtime_us=%llu\ndrain_us=%llu\nstate_version=%u\n",
		      (unsigned long long)rep->downtime_us,
		      (unsigned long long)rep->drain_us, rep->state_version);
		sendf(fd, "prepare_us=%llu\ntransfer_us=%llu\n",
		      (unsigned long long)rep->prepare_us,
		      (unsigned long long)rep->transfer_us);
	}
	sendf(fd, "result=%d\n", err);
	free(rep);
	return false;
}

static bool cmd_status(struct bento_ctl *ctl, int fd, const char *arg)
{
	struct bento_mount *m = ctl->m;
	struct bento_instance *inst = m->inst;
	uint64_t commits, commit_errors;
	struct bento_bcache_stats cs;
	int i;

	/* The lock keeps the instance from being unmounted meanwhile. */
	pthread_mutex_lock(&ctl->lock);
	if (ctl->flushing) {
		pthread_mutex_unlock(&ctl->lock);
		status_flushing(m, fd);
		return false;
	}
	sendf(fd, "fs=%s\nversion=%s\nbuild_id=%s\nmodule=%s\n",
	      inst->mod->name, inst->mod->version, m->lm->build_id,
	      m->lm->path);
	sendf(fd, "device=%s\nmountpoint=%s\noptions=%s\nread_only=%d\n",
	      m->device, m->mountpoint, m->fs_options, m->read_only);
	sendf(fd, "pid=%d\nuid=%u\nmount_time=%lld.%09ld\n", (int)m->pid,
	      (unsigned int)m->owner, (long long)m->mount_time.tv_sec,
	      m->mount_time.tv_nsec);
	sendf(fd, "max_write=%u\nunmounting=%d\nerrors=%llu\n",
	      m->max_write, ctl->unmounting,
	      (unsigned long long)__atomic_load_n(&inst->errors,
						  __ATOMIC_RELAXED));
	bento_commit_stats(m->commit, &commits, &commit_errors);
	sendf(fd, "commits=%llu\ncommit_errors=%llu\n",
	      (unsigned long long)commits, (unsigned long long)commit_errors);

	/* The host's own options, apart from the file system's. */
	sendf(fd, "host.read_only=%d\nhost.commit=%u\n", m->read_only,
	      m->commit_secs);
	sendf(fd, "host.writeback_cache=%d\nhost.cache_blocks=%llu\n",
	      m->writeback, (unsigned long long)m->cache_blocks);
	sendf(fd, "host.max_threads=%u\nhost.attr_timeout=%g\n",
	      m->max_threads, m->attr_timeout);
	sendf(fd, "host.entry_timeout=%g\n", m->entry_timeout);
	for (i = 0; i < BENTO_OPC_NR; i++)
		sendf(fd, "op.%s=%llu\n", bento_op_counter_name(i),
		      (unsigned long long)__atomic_load_n(&inst->ops[i],
							  __ATOMIC_RELAXED));
	bento_bcache_stats(inst->cache, &cs);
	sendf(fd, "cache.hits=%llu\ncache.misses=%llu\ncache.writes=%llu\n",
	      (unsigned long long)cs.hits, (unsigned long long)cs.misses,
	      (unsigned long long)cs.writes);
	sendf(fd, "cache.flushes=%llu\ncache.evictions=%llu\n",
	      (unsigned long long)cs.flushes,
	      (unsigned long long)cs.evictions);
	sendf(fd, "cache.cached=%llu\ncache.dirty=%llu\n",
	      (unsigned long long)cs.cached, (unsigned long long)cs.dirty);
	status_upgrades(m, fd);
	pthread_mutex_unlock(&ctl->lock);
	send_result(fd, 0, NULL);
	return false;
}

static bool cmd_help(struct bento_ctl *ctl, int fd, const char *arg);

/* The commands.  Each answers on @fd and returns false, or keeps @fd
 * (returns true) to answer later. */
static const struct ctl_cmd {
	const char *name;
	bool (*fn)(struct bento_ctl *ctl, int fd, const char *arg);
} ctl_cmds[] = {
	{ "status", cmd_status },
	{ "umount", cmd_umount },
	{ "upgrade", cmd_upgrade },
	{ "help", cmd_help },
};

static bool cmd_help(struct bento_ctl *ctl, int fd, const char *arg)
{
	size_t i;

	for (i = 0; i < sizeof(ctl_cmds) / sizeof(ctl_cmds[0]); i++)
		sendf(fd, "command=%s\n", ctl_cmds[i].name);
	send_result(fd, 0, NULL);
	return false;
}

/* Read one line (the command) from @fd into @buf.  0 or -errno. */
static int read_line(int fd, char *buf, size_t size)
{
	size_t len = 0;

	while (len + 1 < size) {
		ssize_t n = recv(fd, buf + len, 1, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0 || buf[len] == '\n')
			break;
		len++;
	}
	buf[len] = '\0';
	return len + 1 < size ? 0 : -E2BIG;
}

static void serve_conn(struct bento_ctl *ctl, int fd)
{
	struct timeval tv = { .tv_sec = 2 };
	struct ucred cred;
	socklen_t len = sizeof(cred);
	char line[PATH_MAX + 64], *arg;
	size_t i;
	int err;

	/* The line first: closing with it unread would reset the
	 * connection, and the client would miss the answer. */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	err = read_line(fd, line, sizeof(line));

	/* Only root and the mounting user. */
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) ||
	    (cred.uid != 0 && cred.uid != ctl->m->owner)) {
		send_result(fd, -EACCES, "control socket");
		goto out_close;
	}
	if (err) {
		send_result(fd, err, "command");
		goto out_close;
	}
	arg = strchr(line, ' ');
	if (arg)
		*arg++ = '\0';
	for (i = 0; i < sizeof(ctl_cmds) / sizeof(ctl_cmds[0]); i++) {
		if (strcmp(line, ctl_cmds[i].name) == 0) {
			if (ctl_cmds[i].fn(ctl, fd, arg ? arg : ""))
				return;
			goto out_close;
		}
	}
	sendf(fd, "error=unknown command '%s'\n", line);
	sendf(fd, "result=%d\n", -EINVAL);
out_close:
	close(fd);
}

static void on_signal(int sig)
{
	unsigned char b = (unsigned char)sig;
	int saved = errno;

	if (++ctl_sig_count >= 2 && ctl_sig_se)
		fuse_session_exit(ctl_sig_se);
	/* A full pipe means a signal is pending already: drop this one. */
	if (ctl_sig_fd >= 0 && write(ctl_sig_fd, &b, 1) < 0)
		errno = saved;
	errno = saved;
}

static void handle_signal(struct bento_ctl *ctl, int sig)
{
	int err;

	if (ctl_sig_count >= 2) {
		bento_warn("%s: signal %d again: stopping without waiting",
			   ctl->m->mountpoint, sig);
		return;
	}
	bento_info("%s: signal %d: unmounting", ctl->m->mountpoint, sig);
	pthread_mutex_lock(&ctl->lock);
	ctl->unmounting = true;
	pthread_mutex_unlock(&ctl->lock);
	err = do_unmount(ctl->m, true);
	if (err && err != -EINVAL)
		bento_err("%s: unmount failed: %s", ctl->m->mountpoint,
			  strerror(-err));
}

static void *ctl_thread(void *arg)
{
	struct bento_ctl *ctl = arg;

	for (;;) {
		struct pollfd p[2] = {
			{ .fd = ctl->pipe_rd, .events = POLLIN },
			{ .fd = ctl->listen_fd, .events = POLLIN },
		};
		unsigned char b;

		if (poll(p, 2, -1) < 0)
			continue;
		if (p[0].revents) {
			if (read(ctl->pipe_rd, &b, 1) == 1) {
				if (b == 0)
					return NULL;
				handle_signal(ctl, b);
			}
		}
		if (p[1].revents & POLLIN) {
			int fd = accept4(ctl->listen_fd, NULL, NULL,
					 SOCK_CLOEXEC);

			if (fd >= 0)
				serve_conn(ctl, fd);
		}
	}
}

int bento_ctl_start(struct bento_mount *m)
{
	struct bento_ctl *ctl = m->ctl;
	struct sigaction sa = { .sa_handler = on_signal };
	sigset_t block, old;
	int err;

	/* Signals reach the main thread only (libfuse's workers block
	 * them too); its handler hands them to the control thread. */
	ctl_sig_fd = ctl->pipe_wr;
	ctl_sig_se = m->se;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	err = pthread_create(&ctl->thread, NULL, ctl_thread, ctl);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err)
		return -err;
	ctl->started = true;
	return 0;
}

void bento_ctl_flushing(struct bento_ctl *ctl)
{
	if (!ctl)
		return;
	pthread_mutex_lock(&ctl->lock);
	ctl->flushing = true;
	ctl->unmounting = true;
	pthread_mutex_unlock(&ctl->lock);
}

void bento_ctl_finish(struct bento_ctl *ctl, int err)
{
	unsigned char stop = 0;
	struct stat st;
	int i;

	if (!ctl)
		return;
	if (ctl->started) {
		if (write(ctl->pipe_wr, &stop, 1) != 1)
			bento_err("control thread: cannot stop it");
		else
			pthread_join(ctl->thread, NULL);
	}
	ctl_sig_fd = -1;

	/* Remove the socket first: a client that sees the connection close
	 * finds no stale socket afterwards. */
	if (stat(ctl->m->sock_path, &st) == 0 && st.st_ino == ctl->sock_ino)
		unlink(ctl->m->sock_path);
	close(ctl->listen_fd);
	for (i = 0; i < ctl->nwaiters; i++) {
		send_result(ctl->waiters[i], err, "final flush");
		close(ctl->waiters[i]);
	}
	free(ctl->waiters);
	close(ctl->pipe_rd);
	close(ctl->pipe_wr);
	pthread_mutex_destroy(&ctl->lock);
	free(ctl);
}

/* ---- client -------------------------------------------------------------- */

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Milliseconds left until @deadline (-1: none) for poll(2). */
static int left_ms(long long deadline)
{
	long long left;

	if (deadline < 0)
		return -1;
	left = deadline - now_ms();
	return left < 0 ? 0 : left > 60000 ? 60000 : (int)left;
}

/*
 * Connect to @path without blocking: a stopped daemon's full backlog
 * makes connect(2) wait for ever otherwise.  Retries until @deadline.
 */
static int connect_to(const char *path, long long deadline)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, err;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	while (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		err = -errno;
		if (err == -EINTR)
			continue;
		if (err != -EAGAIN || left_ms(deadline) == 0) {
			close(fd);
			return err == -EAGAIN ? -ETIMEDOUT : err;
		}
		usleep(50000);
	}
	return fd;
}

int bento_ctl_request(const char *path, const char *cmd, int timeout_ms,
		      char **reply)
{
	long long deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
	size_t len = 0, cap = 4096;
	char *buf;
	int fd, err = 0;

	*reply = NULL;
	fd = connect_to(path, deadline);
	if (fd < 0)
		return fd;
	buf = malloc(cap);
	if (!buf) {
		err = -ENOMEM;
		goto out_close;
	}
	send_all(fd, cmd, strlen(cmd));
	send_all(fd, "\n", 1);

	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;
		int r = poll(&p, 1, left_ms(deadline));

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			err = r ? -errno : -ETIMEDOUT;
			if (!r && deadline >= 0 && left_ms(deadline) > 0)
				continue;	/* a 60 s slice of a longer wait */
			break;
		}
		if (len + 1 == cap) {
			char *nb = realloc(buf, cap * 2);

			if (!nb) {
				err = -ENOMEM;
				break;
			}
			buf = nb;
			cap *= 2;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0 && errno == ECONNRESET && len)
			n = 0;	/* got the answer, then a reset */
		if (n <= 0) {
			err = n ? -errno : 0;
			break;
		}
		len += (size_t)n;
	}
	buf[len] = '\0';
	if (err && err != -ETIMEDOUT)
		free(buf);
	else
		*reply = buf;	/* on a timeout, what came so far */
out_close:
	close(fd);
	return err;
}

int bento_ctl_reply_get(const char *reply, const char *key, char *buf,
			size_t size)
{
	size_t klen = strlen(key);
	const char *p = reply;

	while (p && *p) {
		if (strncmp(p, key, klen) == 0 && p[klen] == '=') {
			const char *v = p + klen + 1;
			size_t n = strcspn(v, "\n");

			if (n >= size)
				n = size - 1;
			memcpy(buf, v, n);
			buf[n] = '\0';
			return 0;
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return -ENOENT;
}

/*
 * The directories a socket may be in, for a mount by @uid (-1: unknown):
 * root's, the caller's own, and that user's (whose $XDG_RUNTIME_DIR we
 * cannot know: /run/user/UID and the /tmp fallback).  Returns how many
 * were written into @dirs.
 */
static int sock_dirs(long uid, char dirs[4][PATH_MAX])
{
	int n = 0;

	bento_ctl_dir(0, dirs[n++], PATH_MAX);
	if (geteuid() != 0 && bento_ctl_dir(geteuid(), dirs[n], PATH_MAX) == 0)
		n++;
	if (uid > 0) {
		snprintf(dirs[n++], PATH_MAX, "/run/user/%ld/bento", uid);
		snprintf(dirs[n++], PATH_MAX, "/tmp/bento-%ld", uid);
	}
	return n;
}

int bento_ctl_sock_for(const struct bento_mountinfo *mi, char *buf,
		       size_t size)
{
	char (*dirs)[PATH_MAX], name[64];
	int i, n, err = -ENOENT;
	struct stat st;

	dirs = malloc(4 * sizeof(*dirs));
	if (!dirs)
		return -ENOMEM;
	bento_ctl_sock_name(mi->dev, name, sizeof(name));
	n = sock_dirs(mi->user_id, dirs);
	for (i = 0; i < n && err; i++) {
		if (snprintf(buf, size, "%s/%s", dirs[i], name) < (int)size &&
		    stat(buf, &st) == 0 && S_ISSOCK(st.st_mode))
			err = 0;
	}
	free(dirs);
	return err;
}

/* Ask every socket in @dir which mount it serves; find @mnt's. */
static int scan_dir(const char *dir, const char *mnt, char *buf, size_t size)
{
	char path[PATH_MAX + 256], val[PATH_MAX];
	struct dirent *de;
	int err = -ENOENT;
	DIR *d;

	d = opendir(dir);
	if (!d)
		return -ENOENT;
	while (err && (de = readdir(d))) {
		char *reply;

		if (!strstr(de->d_name, ".sock"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (bento_ctl_request(path, "status", 2000, &reply)) {
			free(reply);
			continue;
		}
		if (bento_ctl_reply_get(reply, "mountpoint", val,
					sizeof(val)) == 0 &&
		    strcmp(val, mnt) == 0 && strlen(path) < size) {
			strcpy(buf, path);
			err = 0;
		}
		free(reply);
	}
	closedir(d);
	return err;
}

int bento_ctl_scan(const char *mnt, char *buf, size_t size)
{
	char (*dirs)[PATH_MAX];
	int i, n, err = -ENOENT;

	dirs = malloc(4 * sizeof(*dirs));
	if (!dirs)
		return -ENOMEM;
	n = sock_dirs(-1, dirs);
	for (i = 0; i < n && err; i++)
		err = scan_dir(dirs[i], mnt, buf, size);
	free(dirs);
	return err;
}
