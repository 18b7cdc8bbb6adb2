/*
 * cmd_dev.c - `bento dev FSDIR MOUNTPOINT`: edit, save, and the running
 * mount is on the new code.
 *
 * A loop of three steps:
 *
 *   watch    inotify on FSDIR for a saved *.c, *.h or *.mk (written and
 *            closed, renamed into place, or touched); events are gathered
 *            until DEBOUNCE_MS pass without one, so an editor's burst of
 *            writes or `git checkout` of several files is one cycle
 *   build    the build command, through /bin/sh, its output captured; by
 *            default `make -s O=BUILD BUILD/fs/NAME.so` run at the top of
 *            the repository holding FSDIR, with BUILD and NAME read from
 *            the path of the module serving the mount (bento status)
 *   upgrade  `bento upgrade MOUNTPOINT MODULE` (this same binary), which
 *            swaps the build under the running mount
 *
 * Each cycle prints one line, timed from the save (the newest mtime of a
 * watched file) to the upgrade's return, with the build's share and the
 * mount's downtime.  A build that fails prints the tail of the
 * compiler's output and leaves the old build serving; so does a failed
 * upgrade (bento upgrade guarantees it).  Ctrl-C ends the loop.
 *
 * Status and upgrade run as child processes of /proc/self/exe: the same
 * code paths, messages and exit codes as typed by hand.
 *
 * Limits: only FSDIR itself is watched, not its subdirectories nor the
 * headers it includes from elsewhere (include/bento); a save during a
 * build starts another cycle after this one.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "user.h"

#define DEBOUNCE_MS 100
#define OUT_MAX (256 * 1024)	/* captured output kept per child */
#define TAIL_LINES 25		/* of a failed build's output */

static const char dev_help[] =
"Usage: bento dev [--build CMD --module PATH] [--once] [-t SECS]\n"
"                 FSDIR MOUNTPOINT\n"
"\n"
"Edit to running: watch the source directory FSDIR of the file system\n"
"mounted at MOUNTPOINT and, each time a *.c, *.h or *.mk file there is\n"
"saved, rebuild the module and live-upgrade the mount to it (as bento\n"
"upgrade does: open files, caches and journal carry across).  Saves\n"
"within 100 ms of each other make one cycle.  Each cycle prints one line:\n"
"\n"
"  save->serving 1.84 s (build 1.80 s, upgrade downtime 0.912 ms): NEW\n"
"\n"
"timed from the save (the newest modification time of a watched file, or\n"
"the start of the cycle if the module is newer than every source) to\n"
"the moment the new build serves; NEW names it (\"xv6fs 1.0 (build\n"
"0123456789ab)\").  If the build fails, the tail of the compiler's output\n"
"is printed, the old build keeps serving, and watching goes on; likewise\n"
"if the upgrade is refused.  Ctrl-C ends it.\n"
"\n"
"By default the build is `make -s O=BUILD BUILD/fs/NAME.so`, run at the\n"
"top of the repository holding FSDIR (the nearest parent with a Makefile\n"
"and include/bento), where BUILD/fs/NAME.so is the module now serving the\n"
"mount (bento status shows it).  Other layouts say both:\n"
"\n"
"Options:\n"
"  -b, --build CMD     build with CMD (through /bin/sh, in the current\n"
"                      directory); exit status 0 means success\n"
"  -m, --module PATH   the module CMD produces, to upgrade to (default:\n"
"                      the serving module's path)\n"
"  -1, --once          no watching: build and upgrade once now, then exit\n"
"                      (0 if the new build serves, 32 if not)\n"
"  -t SECS             how long an upgrade may take (default 60)\n"
"  -h, --help          show this help\n"
"\n"
"Example:\n"
"  bento mount build/fs/xv6fs.so disk.img /mnt/x\n"
"  bento dev fs/xv6fs /mnt/x     # then edit fs/xv6fs/dir.c and save\n"
"\n"
"Exit status:\n"
"  0   ended by Ctrl-C (or --once: the new build serves)\n"
"  1   bad usage\n"
"  2   system error (inotify, fork)\n"
"  32  MOUNTPOINT is not a Bento mount, the build cannot be derived, or\n"
"      (--once) the build or the upgrade failed\n";

struct dev {
	const char *fsdir;
	const char *mnt;
	char self[PATH_MAX];		/* this binary */
	char module[PATH_MAX];		/* to upgrade to */
	char build[3 * PATH_MAX];	/* shell command */
	char build_dir[PATH_MAX];	/* where it runs; "" for here */
	char serving[256];		/* "xv6fs 1.0 (build ...)" */
	int timeout;
};

/* Captured output of a child: stdout and stderr together. */
struct out {
	char *buf;
	size_t len;
};

static volatile sig_atomic_t dev_stop;

static void dev_on_signal(int sig)
{
	dev_stop = 1;
}

static double now_s(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Keep the last OUT_MAX bytes of what comes in. */
static void out_add(struct out *o, const char *p, size_t n)
{
	if (n >= OUT_MAX) {
		p += n - OUT_MAX;
		n = OUT_MAX;
	}
	if (o->len + n > OUT_MAX) {
		size_t drop = o->len + n - OUT_MAX;

		memmove(o->buf, o->buf + drop, o->len - drop);
		o->len -= drop;
	}
	memcpy(o->buf + o->len, p, n);
	o->len += n;
	o->buf[o->len] = '\0';
}

/*
 * Run @argv (in @dir unless NULL), its stdout and stderr into *@o.
 * Returns its wait status, or a negative errno if it could not start.
 */
static int run(char *const argv[], const char *dir, struct out *o)
{
	char chunk[4096];
	int fds[2], status;
	ssize_t n;
	pid_t pid;

	o->len = 0;
	o->buf[0] = '\0';
	if (pipe2(fds, O_CLOEXEC))
		return -errno;
	pid = fork();
	if (pid < 0) {
		int err = -errno;

		close(fds[0]);
		close(fds[1]);
		return err;
	}
	if (pid == 0) {
		dup2(fds[1], 1);
		dup2(fds[1], 2);
		if (dir && chdir(dir)) {
			fprintf(stderr, "bento: dev: %s: %s\n", dir,
				strerror(errno));
			_exit(127);
		}
		execv(argv[0], argv);
		fprintf(stderr, "bento: dev: %s: %s\n", argv[0],
			strerror(errno));
		_exit(127);
	}

	/* Read to the end; a Ctrl-C reaches the child too, and it ends. */
	close(fds[1]);
	for (;;) {
		n = read(fds[0], chunk, sizeof(chunk));
		if (n > 0)
			out_add(o, chunk, (size_t)n);
		else if (n == 0 || errno != EINTR)
			break;
	}
	close(fds[0]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return status;
}

/* The last @lines lines of @s. */
static const char *tail(const char *s, int lines)
{
	const char *p = s + strlen(s);

	if (p > s && p[-1] == '\n')
		p--;
	while (p > s) {
		if (p[-1] == '\n' && --lines == 0)
			break;
		p--;
	}
	return p;
}

/* The value after "@key" up to the end of its line, into @buf. */
static int line_value(const char *text, const char *key, char *buf,
		      size_t size)
{
	const char *p = strstr(text, key), *e;

	if (!p)
		return -ENOENT;
	p += strlen(key);
	e = strchr(p, '\n');
	if (!e)
		e = p + strlen(p);
	snprintf(buf, size, "%.*s", (int)(e - p), p);
	return 0;
}

/*
 * Ask `bento status` what serves d->mnt: fills d->serving, and
 * d->module if it is still empty.  0, or -EIO (its message printed).
 */
static int dev_status(struct dev *d, struct out *o)
{
	char *argv[] = { d->self, "status", (char *)d->mnt, NULL };
	char fs[128] = "", id[64] = "", path[PATH_MAX] = "";
	int st;

	st = run(argv, NULL, o);
	if (st < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fputs(o->buf, stderr);
		return -EIO;
	}
	line_value(o->buf, "  module:     ", path, sizeof(path));
	line_value(o->buf, "  build id:   ", id, sizeof(id));
	/* First line: "MNT: NAME VERSION, served by pid N". */
	if (sscanf(o->buf, "%*[^ ] %127[^,]", fs) != 1 || !path[0]) {
		bento_user_err("dev: %s: cannot read bento status", d->mnt);
		return -EIO;
	}
	snprintf(d->serving, sizeof(d->serving), "%s (build %.12s)", fs, id);
	if (!d->module[0])
		snprintf(d->module, sizeof(d->module), "%s", path);
	return 0;
}

/*
 * The default build: @module must be BUILD/fs/NAME.so, and FSDIR inside
 * a repository (a parent with a Makefile and include/bento).  0 or -EINVAL
 * (said why).
 */
static int dev_default_build(struct dev *d)
{
	char top[PATH_MAX], probe[PATH_MAX + 32], build[PATH_MAX];
	const char *base, *fs;
	struct stat st;
	char *slash;
	size_t len = strlen(d->module);

	base = strrchr(d->module, '/');
	fs = base ? base - 3 : NULL;
	if (!base || len < 8 || strcmp(d->module + len - 3, ".so") != 0 ||
	    fs < d->module || strncmp(fs, "/fs/", 4) != 0) {
		bento_user_err("dev: the serving module %s is not BUILD/fs/NAME.so: say how to build with --build CMD --module PATH",
			       d->module);
		return -EINVAL;
	}
	snprintf(build, sizeof(build), "%.*s", (int)(fs - d->module),
		 d->module);

	if (!realpath(d->fsdir, top)) {
		bento_user_err("dev: %s: %s", d->fsdir, strerror(errno));
		return -EINVAL;
	}
	for (;;) {
		snprintf(probe, sizeof(probe), "%s/include/bento", top);
		if (!stat(probe, &st) && S_ISDIR(st.st_mode)) {
			snprintf(probe, sizeof(probe), "%s/Makefile", top);
			if (!stat(probe, &st))
				break;
		}
		slash = strrchr(top, '/');
		if (!slash || slash == top) {
			bento_user_err("dev: %s is in no Bento repository (no parent with a Makefile and include/bento): say how to build with --build CMD",
				       d->fsdir);
			return -EINVAL;
		}
		*slash = '\0';
	}
	snprintf(d->build_dir, sizeof(d->build_dir), "%s", top);
	snprintf(d->build, sizeof(d->build), "make -s O='%s' '%s'", build,
		 d->module);
	return 0;
}

static bool watched_name(const char *name)
{
	size_t n = strlen(name);

	if (name[0] == '.')		/* editors' swap files */
		return false;
	return (n > 2 && (strcmp(name + n - 2, ".c") == 0 ||
			  strcmp(name + n - 2, ".h") == 0)) ||
	       (n > 3 && strcmp(name + n - 3, ".mk") == 0);
}

/* The newest modification time of a watched file in FSDIR (0: none). */
static double newest_save(const struct dev *d)
{
	char path[PATH_MAX + 256];
	struct dirent *de;
	struct stat st;
	double t, best = 0;
	DIR *dir = opendir(d->fsdir);

	if (!dir)
		return 0;
	while ((de = readdir(dir))) {
		if (!watched_name(de->d_name))
			continue;
		snprintf(path, sizeof(path), "%s/%s", d->fsdir, de->d_name);
		if (stat(path, &st))
			continue;
		t = (double)st.st_mtim.tv_sec + st.st_mtim.tv_nsec / 1e9;
		if (t > best)
			best = t;
	}
	closedir(dir);
	return best;
}

/*
 * One cycle: build, upgrade, report.  0 if the new build serves, -EIO
 * if the build or the upgrade failed (reported; the old build serves),
 * -EINTR if Ctrl-C came during the build (nothing said, nothing done).
 */
static int dev_cycle(struct dev *d, struct out *o)
{
	char *sh[] = { "/bin/sh", "-c", d->build, NULL };
	char secs[16], to[256] = "", down[32] = "";
	char *up[] = { d->self, "upgrade", "-t", secs, (char *)d->mnt,
		       d->module, NULL };
	double save = newest_save(d), start = now_s(CLOCK_REALTIME);
	double t0, t1, t_end;
	const char *p, *e;
	struct stat mst;
	int st;

	/*
	 * A save older than the module is no save of this cycle (--once
	 * with nothing edited): time from now then.
	 */
	if (!stat(d->module, &mst) &&
	    save <= (double)mst.st_mtim.tv_sec + mst.st_mtim.tv_nsec / 1e9)
		save = start;

	/* Build. */
	t0 = now_s(CLOCK_MONOTONIC);
	st = run(sh, d->build_dir[0] ? d->build_dir : NULL, o);
	t1 = now_s(CLOCK_MONOTONIC);
	if (dev_stop)			/* Ctrl-C reached the build too */
		return -EINTR;
	if (st < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		if (o->len)
			fprintf(stderr, "%s%s", tail(o->buf, TAIL_LINES),
				o->buf[o->len - 1] == '\n' ? "" : "\n");
		bento_user_err("dev: build failed (%s %d) after %.2f s; %s keeps serving",
			       st >= 0 && WIFSIGNALED(st) ? "signal" : "exit",
			       st < 0 ? st : WIFSIGNALED(st) ?
			       WTERMSIG(st) : WEXITSTATUS(st),
			       t1 - t0, d->serving);
		return -EIO;
	}
	if (o->len)			/* warnings: show them */
		fputs(tail(o->buf, TAIL_LINES), stderr);

	/* Upgrade. */
	snprintf(secs, sizeof(secs), "%d", d->timeout);
	st = run(up, NULL, o);
	t_end = now_s(CLOCK_REALTIME);
	if (st < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fputs(o->buf, stderr);
		return -EIO;
	}
	line_value(o->buf, "downtime_us=", down, sizeof(down));
	p = strstr(o->buf, " -> ");
	e = p ? strstr(p, ", downtime ") : NULL;
	if (p && e)
		snprintf(to, sizeof(to), "%.*s", (int)(e - p - 4), p + 4);
	snprintf(d->serving, sizeof(d->serving), "%s", to);

	if (save <= 0 || save > t_end)	/* no watched file, or clock skew */
		save = start;
	printf("save->serving %.2f s (build %.2f s, upgrade downtime %.3f ms): %s\n",
	       t_end - save, t1 - t0, strtoull(down, NULL, 10) / 1000.0, to);
	fflush(stdout);
	return 0;
}

/*
 * Wait for a save: a relevant event, then quiet for DEBOUNCE_MS.
 * Returns 1 (a save), 0 (Ctrl-C), or a negative errno.
 */
static int dev_wait(int ifd)
{
	char buf[4096] __attribute__((aligned(8)));
	struct pollfd pfd = { .fd = ifd, .events = POLLIN };
	bool seen = false;
	ssize_t n, i;
	int r;

	for (;;) {
		if (dev_stop)
			return 0;
		r = poll(&pfd, 1, seen ? DEBOUNCE_MS : -1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return 1;	/* quiet since the last save */
		n = read(ifd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		for (i = 0; i < n;) {
			struct inotify_event *ev = (void *)(buf + i);

			if (ev->mask & IN_IGNORED)
				return -ENOENT;		/* FSDIR went */
			if (ev->len && watched_name(ev->name))
				seen = true;
			i += (ssize_t)sizeof(*ev) + ev->len;
		}
	}
}

static int dev_watch(struct dev *d, struct out *o)
{
	struct sigaction sa = { .sa_handler = dev_on_signal };
	int ifd, r;

	ifd = inotify_init1(IN_CLOEXEC);
	if (ifd < 0 || inotify_add_watch(ifd, d->fsdir, IN_CLOSE_WRITE |
					 IN_MOVED_TO | IN_ATTRIB |
					 IN_DELETE_SELF | IN_MOVE_SELF) < 0) {
		bento_user_err("dev: cannot watch %s: %s", d->fsdir,
			       strerror(errno));
		if (ifd >= 0)
			close(ifd);
		return BENTO_EXIT_SYSTEM;
	}
	sigaction(SIGINT, &sa, NULL);	/* no SA_RESTART: poll returns */
	sigaction(SIGTERM, &sa, NULL);

	printf("watching %s (*.c, *.h, *.mk) for %s, serving %s\n",
	       d->fsdir, d->mnt, d->serving);
	printf("build: %s%s%s\n", d->build, d->build_dir[0] ? "  (in " : "",
	       d->build_dir[0] ? d->build_dir : "");
	if (d->build_dir[0])
		fputs(")\n", stdout);
	fflush(stdout);

	while ((r = dev_wait(ifd)) > 0) {
		dev_cycle(d, o);
		if (dev_stop)
			break;
	}
	close(ifd);
	if (r < 0) {
		bento_user_err("dev: watching %s: %s", d->fsdir,
			       r == -ENOENT ? "the directory went away" :
			       strerror(-r));
		return BENTO_EXIT_FAIL;
	}
	return BENTO_EXIT_OK;
}

static int parse_timeout(const char *arg, int *out)
{
	char *end;
	long v = strtol(arg, &end, 10);

	if (!*arg || *end || v < 1 || v > 86400) {
		bento_user_err("dev: -t %s: bad value (want seconds, 1 to 86400)",
			       arg);
		return -EINVAL;
	}
	*out = (int)v;
	return 0;
}

int bento_cmd_dev(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "build", required_argument, NULL, 'b' },
		{ "module", required_argument, NULL, 'm' },
		{ "once", no_argument, NULL, '1' },
		{ NULL, 0, NULL, 0 },
	};
	struct out o = { 0 };
	struct dev *d;
	struct stat st;
	const char *build = NULL, *module = NULL;
	bool once = false;
	ssize_t n;
	int c, rc = BENTO_EXIT_USAGE;

	d = calloc(1, sizeof(*d));
	o.buf = malloc(OUT_MAX + 1);
	if (!d || !o.buf) {
		bento_user_err("dev: out of memory");
		rc = BENTO_EXIT_SYSTEM;
		goto out_free;
	}
	d->timeout = 60;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "hb:m:1t:", longopts, NULL)) != -1) {
		if (c == 'h') {
			fputs(dev_help, stdout);
			rc = BENTO_EXIT_OK;
			goto out_free;
		} else if (c == 'b') {
			build = optarg;
		} else if (c == 'm') {
			module = optarg;
		} else if (c == '1') {
			once = true;
		} else if (c == 't') {
			if (parse_timeout(optarg, &d->timeout))
				goto out_free;
		} else {
			if (optopt)
				bento_user_err("dev: option '%s' needs a value",
					       argv[optind - 1]);
			else
				bento_user_err("dev: unknown option '%s' (try bento dev --help)",
					       argv[optind - 1]);
			goto out_free;
		}
	}
	if (argc - optind != 2) {
		bento_user_err("dev: need FSDIR MOUNTPOINT (try bento dev --help)");
		goto out_free;
	}
	if (!build != !module) {
		bento_user_err("dev: --build and --module go together (the default build makes the serving module)");
		goto out_free;
	}
	d->fsdir = argv[optind];
	d->mnt = argv[optind + 1];
	if (stat(d->fsdir, &st)) {
		bento_user_err("dev: %s: %s", d->fsdir, strerror(errno));
		goto out_free;
	}
	if (!S_ISDIR(st.st_mode)) {
		bento_user_err("dev: %s: Not a directory", d->fsdir);
		goto out_free;
	}
	if (module && !realpath(module, d->module) && errno != ENOENT) {
		bento_user_err("dev: --module %s: %s", module, strerror(errno));
		goto out_free;
	}
	if (module && !d->module[0])	/* not built yet: as typed */
		snprintf(d->module, sizeof(d->module), "%s", module);
	n = readlink("/proc/self/exe", d->self, sizeof(d->self) - 1);
	if (n <= 0) {
		bento_user_err("dev: cannot find the bento binary: %s",
			       strerror(errno));
		rc = BENTO_EXIT_SYSTEM;
		goto out_free;
	}
	d->self[n] = '\0';

	/* What serves now, and how to build its successor. */
	rc = BENTO_EXIT_FAIL;
	if (dev_status(d, &o))
		goto out_free;
	if (build)
		snprintf(d->build, sizeof(d->build), "%s", build);
	else if (dev_default_build(d))
		goto out_free;

	if (once)
		rc = dev_cycle(d, &o) ? BENTO_EXIT_FAIL : BENTO_EXIT_OK;
	else
		rc = dev_watch(d, &o);
out_free:
	free(o.buf);
	free(d);
	return rc;
}
