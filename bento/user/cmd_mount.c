/*
 * cmd_mount.c - `bento mount`: serve a Bento file system over FUSE.
 *
 * The steps, in order, each undone in reverse on failure:
 *
 *   1. parse the command line and sort -o options into three piles: the
 *      host's own (ro, cache_blocks=, ...), kernel mount flags for
 *      libfuse (nosuid, noatime, ...), and the rest for the file system
 *      (sb->options);
 *   2. unless -f: fork.  The parent waits on a pipe for the child's exit
 *      code and exits with it, so `bento mount` returns once the mount is
 *      usable, or with the child's error.  Forking first (not after the
 *      mount, as fuse_daemonize does) means no thread of the runtime or
 *      of the file system's init is lost in a fork;
 *   3. load the module, open the device (locked: an image serves one
 *      read-write mount at a time, see blkdev_file.c), mount the
 *      instance (fs init);
 *   4. create the FUSE session and mount it; open the control socket;
 *      start the control and commit threads;
 *   5. detach from the terminal (new session, stdio to /dev/null, logs
 *      to syslog) and report success to the parent;
 *   6. run the loop until the kernel ends the connection (umount,
 *      `bento umount`, SIGTERM/SIGINT: see ctl.c);
 *   7. stop the commit thread, take the op lock for writing, unmount the
 *      instance (the fs's destroy, then a write-back and a flush of the
 *      cache), and only then tell `bento umount` the result.
 *
 * Errors before the detach are one line on the terminal.  Where the
 * device layer or the module's init explains a failure in a log line of
 * its own, that line is captured (bento_log_capture_start) and becomes
 * the reason in the host's one line: "bento: IMG: xv6fs: not an xv6fs
 * image (bad magic in block 0)".
 *
 * A mount point that already holds a Bento mount is refused: mount(8)
 * stacks mounts, but a Bento mount hidden under another still holds its
 * image and can no longer be reached by path (`bento status`, `bento
 * umount`), which is almost always a mistake.  Other mount points may be
 * mounted over, as with mount(8).
 */
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "user.h"

#define BENTO_XSTR(x) #x
#define BENTO_STR(x) BENTO_XSTR(x)

/*
 * Defaults.  Threads, measured on 2 cores with xv6fs: one thread is
 * fastest for one process doing metadata (create/stat/unlink 10-25%
 * faster than 4, which beats 10), but stalls everything behind a slow
 * fsync and halves cold sequential reads (the kernel's readahead keeps
 * several reads in flight); 4 was best with readers, writers and fsync
 * together.  Timeouts: this daemon is the device's only writer.
 */
#define BENTO_MAX_THREADS 4
#define BENTO_CACHE_TIMEOUT 3600.0
#define BENTO_COMMIT_SECS 5

static const char mount_help[] =
"Usage: bento mount [-o OPTIONS] [-f] [-d] [-s] FS.so DEVICE MOUNTPOINT\n"
"\n"
"Serve the file system in module FS.so, stored on DEVICE (an image file or\n"
"a block device), at MOUNTPOINT through the kernel's FUSE driver.\n"
"\n"
"The command returns once the mount is usable; a daemon keeps serving it\n"
"in the background, logging to syslog.  Unmount with `bento umount\n"
"MOUNTPOINT` (which waits until everything is written to DEVICE), or with\n"
"umount(8), fusermount3 -u, or SIGTERM/SIGINT to the daemon (which\n"
"return before the final flush).\n"
"\n"
"Options:\n"
"  -o OPTIONS   comma-separated mount options (may be repeated):\n"
"                 ro, rw             read-only or read-write (default rw)\n"
"                 allow_other        let other users in (always on as root)\n"
"                 nosuid, nodev, noexec, noatime, sync, dirsync, and\n"
"                 their opposites    passed to the kernel\n"
"                 commit=N           make everything durable every N\n"
"                                    seconds (default 5; 0: only on\n"
"                                    fsync and unmount)\n"
"                 writeback_cache    let the kernel cache writes: faster\n"
"                                    small writes, but ENOSPC and EFBIG\n"
"                                    show only at fsync or close (default\n"
"                                    off: write(2) gets them at once)\n"
"                 cache_blocks=N     buffer-cache size in 4 KiB blocks\n"
"                 attr_timeout=S     seconds the kernel caches attributes\n"
"                 entry_timeout=S    seconds the kernel caches names and\n"
"                                    missing names (both default 3600)\n"
"                 max_threads=N      most request threads (default "
				      BENTO_STR(BENTO_MAX_THREADS) ")\n"
"                 defaults, noauto, nofail, _netdev, user, x-*, comment=\n"
"                                    fstab(5) words: accepted, ignored\n"
"               any other option is handed to the file system\n"
"  -f           stay in the foreground (log to stderr)\n"
"  -d           debug: log every FUSE request and the runtime's debug\n"
"               messages; implies -f\n"
"  -s           serve requests on one thread\n"
"  -h, --help   show this help\n"
"\n"
"DEVICE is locked while mounted: a second read-write mount, or a read-only\n"
"and a read-write one together, are refused, as are mkfs and fsck.\n"
"sync(1) does not reach FUSE file systems; commit=N bounds what a crash\n"
"can lose to the last N seconds (fsync(2) makes a file durable at once).\n"
"\n"
"The mount shows as fsname DEVICE, type fuse.bento.NAME in mount(8) and\n"
"df(1); `bento status MOUNTPOINT` shows which module serves it.\n"
"\n"
"Exit status:\n"
"  0   mounted (or, with -f, served and unmounted cleanly)\n"
"  1   bad usage or options\n"
"  32  mount failure: module, device (or device in use), mount point or\n"
"      file-system init;\n"
"      with -f, also a failed final flush\n";

/* What the command line asked for. */
struct mount_args {
	const char *module, *device, *mountpoint;
	bool foreground, debug, single;
	bool read_only, allow_other, writeback;
	uint64_t cache_blocks;
	double attr_timeout, entry_timeout;
	unsigned int max_threads, commit_secs;
	char kopts[2048];	/* for libfuse: kernel flags */
	char fsopts[1024];	/* for the file system */
};

/* Append ",@s" (or "@s") to the list in @buf.  0 or -E2BIG. */
static int opt_append(char *buf, size_t size, const char *s)
{
	size_t len = strlen(buf);
	int n = snprintf(buf + len, size - len, "%s%s", len ? "," : "", s);

	if (n < 0 || (size_t)n >= size - len) {
		buf[len] = '\0';
		return -E2BIG;
	}
	return 0;
}

static int bad_value(const char *opt, const char *want)
{
	bento_user_err("-o %s: bad value (want %s)", opt, want);
	return -EINVAL;
}

/* One -o option @o (modified in place).  0 or -EINVAL (reported). */
static int parse_one(struct mount_args *a, char *o)
{
	static const char *const kernel_flags[] = {
		"suid", "nosuid", "dev", "nodev", "exec", "noexec", "async",
		"sync", "dirsync", "atime", "noatime", NULL,
	};
	/* fstab(5) words meant for mount(8), not for any file system. */
	static const char *const fstab_only[] = {
		"defaults", "auto", "noauto", "nofail", "_netdev", "user",
		"nouser", "users", "owner", "group", NULL,
	};
	char *val = strchr(o, '=');
	char *end;
	int i;

	if (val)
		*val++ = '\0';
	for (i = 0; kernel_flags[i]; i++)
		if (!val && strcmp(o, kernel_flags[i]) == 0)
			return opt_append(a->kopts, sizeof(a->kopts), o);
	for (i = 0; fstab_only[i]; i++)
		if (!val && strcmp(o, fstab_only[i]) == 0)
			return 0;
	if (strncmp(o, "x-", 2) == 0 || strcmp(o, "comment") == 0)
		return 0;	/* x-systemd.*, comment=: for userspace tools */

	if (!val && (strcmp(o, "ro") == 0 || strcmp(o, "rw") == 0)) {
		a->read_only = o[1] == 'o';
	} else if (!val && (strcmp(o, "writeback_cache") == 0 ||
			    strcmp(o, "no_writeback_cache") == 0)) {
		a->writeback = o[0] == 'w';
	} else if (strcmp(o, "commit") == 0) {
		unsigned long n = val ? strtoul(val, &end, 10) : 0;

		if (!val || !*val || *end || val[0] == '-' || n > 86400)
			return bad_value(o, "seconds, 0 to 86400");
		a->commit_secs = (unsigned int)n;
	} else if (!val && strcmp(o, "allow_other") == 0) {
		a->allow_other = true;
	} else if (!val && strcmp(o, "default_permissions") == 0) {
		/* always on */
	} else if (!val && strcmp(o, "debug") == 0) {
		a->debug = a->foreground = true;
	} else if (strcmp(o, "cache_blocks") == 0) {
		errno = 0;
		a->cache_blocks = val ? strtoull(val, &end, 10) : 0;
		if (!val || !*val || *end || errno || val[0] == '-')
			return bad_value(o, "a number of blocks");
	} else if (strcmp(o, "attr_timeout") == 0 ||
		   strcmp(o, "entry_timeout") == 0) {
		double t = val ? strtod(val, &end) : -1;

		if (!val || !*val || *end || !isfinite(t) || t < 0)
			return bad_value(o, "seconds, 0 or more");
		*(o[0] == 'a' ? &a->attr_timeout : &a->entry_timeout) = t;
	} else if (strcmp(o, "max_threads") == 0) {
		unsigned long n = val ? strtoul(val, &end, 10) : 0;

		if (!val || !*val || *end || n < 1 || n > 1024)
			return bad_value(o, "1 to 1024");
		a->max_threads = (unsigned int)n;
	} else if (strcmp(o, "fsname") == 0 || strcmp(o, "subtype") == 0) {
		bento_user_err("-o %s: set by bento itself", o);
		return -EINVAL;
	} else {
		if (val)
			val[-1] = '=';
		if (opt_append(a->fsopts, sizeof(a->fsopts), o)) {
			bento_user_err("-o: file-system options too long");
			return -EINVAL;
		}
	}
	return 0;
}

static int parse_opts(struct mount_args *a, const char *arg)
{
	char *copy = strdup(arg), *save = NULL, *o;
	int err = copy ? 0 : -ENOMEM;

	for (o = copy ? strtok_r(copy, ",", &save) : NULL; o && !err;
	     o = strtok_r(NULL, ",", &save))
		err = parse_one(a, o);
	free(copy);
	return err;
}

static int parse_args(int argc, char **argv, struct mount_args *a)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	a->attr_timeout = a->entry_timeout = BENTO_CACHE_TIMEOUT;
	a->max_threads = BENTO_MAX_THREADS;
	a->commit_secs = BENTO_COMMIT_SECS;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "ho:fds", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			fputs(mount_help, stdout);
			exit(BENTO_EXIT_OK);
		case 'o':
			if (parse_opts(a, optarg))
				return -EINVAL;
			break;
		case 'f':
			a->foreground = true;
			break;
		case 'd':
			a->debug = a->foreground = true;
			break;
		case 's':
			a->single = true;
			break;
		default:
			if (optopt == 'o')
				bento_user_err("mount: -o needs an argument");
			else
				bento_user_err("mount: unknown option '%s'",
					       argv[optind - 1]);
			return -EINVAL;
		}
	}
	if (argc - optind != 3) {
		bento_user_err("mount: need FS.so DEVICE MOUNTPOINT (try bento mount --help)");
		return -EINVAL;
	}
	a->module = argv[optind];
	a->device = argv[optind + 1];
	a->mountpoint = argv[optind + 2];
	return 0;
}

/* @s with ',' and '\' escaped for a libfuse option list. */
static void opt_escape(char *dst, size_t size, const char *s)
{
	size_t n = 0;

	for (; *s && n + 2 < size; s++) {
		if (*s == ',' || *s == '\\')
			dst[n++] = '\\';
		dst[n++] = *s;
	}
	dst[n] = '\0';
}

/* The -o list libfuse gets: fixed options, then the kernel flags. */
static int fuse_opts(const struct mount_args *a, const struct bento_mount *m,
		     char *buf, size_t size)
{
	char dev[PATH_MAX * 2];
	int n;

	opt_escape(dev, sizeof(dev), m->device);
	n = snprintf(buf, size,
		     "default_permissions,fsname=%s,subtype=bento.%s%s%s%s%s",
		     dev, m->inst->mod->name,
		     a->read_only ? ",ro" : ",rw",
		     a->allow_other || geteuid() == 0 ? ",allow_other" : "",
		     a->kopts[0] ? "," : "", a->kopts);
	return n < 0 || (size_t)n >= size ? -E2BIG : 0;
}

/* "not an xv6fs image": the article follows the sound of the name. */
static const char *article(const char *name)
{
	return strchr("aefhilmnorsxAEFHILMNORSX", name[0]) ? "an" : "a";
}

/*
 * The one line for a device that would not open (@err), with the reason
 * the device layer logged, if it did (@why, held by the capture).
 */
static void device_failed(const struct mount_args *a, int err,
			  const char *why)
{
	if (err == -EBUSY)
		bento_user_err("%s: in use (mounted or being checked)",
			       a->device);
	else if (why[0])
		fprintf(stderr, "%s\n", why);	/* "bento: PATH: ..." */
	else if (!a->read_only &&
		 (err == -EACCES || err == -EROFS || err == -EPERM))
		bento_user_err("%s: cannot open for writing: %s (mount it with -o ro?)",
			       a->device, strerror(-err));
	else
		bento_user_err("%s: %s", a->device, strerror(-err));
}

/*
 * has_fsck - true if a checker fsck.@name is next to this program or on
 * $PATH, so that a corrupt-image message can point at it.
 */
static bool has_fsck(const char *name)
{
	char path[PATH_MAX + BENTO_NAME_MAX + 8], exe[PATH_MAX];
	const char *env = getenv("PATH");
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char *dir, *save = NULL, *copy;
	bool found = false;

	if (n > 0) {
		exe[n] = '\0';
		dir = strrchr(exe, '/');
		if (dir) {
			*dir = '\0';
			snprintf(path, sizeof(path), "%s/fsck.%s", exe, name);
			if (access(path, X_OK) == 0)
				return true;
		}
	}
	copy = strdup(env ? env : "");
	for (dir = strtok_r(copy, ":", &save); dir && !found;
	     dir = strtok_r(NULL, ":", &save)) {
		snprintf(path, sizeof(path), "%s/fsck.%s", dir, name);
		found = access(path, X_OK) == 0;
	}
	free(copy);
	return found;
}

/*
 * The one line for a module whose init failed with @err.  @why: the
 * first error line it logged ("xv6fs: device: not an xv6fs image"), or
 * "".  The module says "device" for the device it cannot name; the host
 * names it, so that word goes.  A corrupt image points at fsck.NAME when
 * there is one.
 */
static void init_failed(const struct mount_args *a, const char *name,
			int err, const char *why, const char *opts)
{
	bool hint = err == -EUCLEAN && has_fsck(name);
	size_t nlen = strlen(name);

	if (why[0] && strncmp(why, name, nlen) == 0 &&
	    strncmp(why + nlen, ": ", 2) == 0) {
		why += nlen + 2;
		if (strncmp(why, "device: ", 8) == 0)
			why += 8;
		bento_user_err("%s: %s: %s%s%s%s", a->device, name, why,
			       hint ? " (run fsck." : "", hint ? name : "",
			       hint ? ")" : "");
	} else if (why[0]) {
		/* A runtime line ("bento: PATH: read failed ..."). */
		fprintf(stderr, "%s\n", why);
	} else if (err == -EINVAL && opts[0]) {
		bento_user_err("%s: not %s %s image, or %s rejected options '%s'",
			       a->device, article(name), name, name, opts);
	} else if (err == -EINVAL) {
		bento_user_err("%s: not %s %s image", a->device, article(name),
			       name);
	} else if (err == -EUCLEAN) {
		bento_user_err("%s: %s image is corrupt%s%s%s", a->device, name,
			       hint ? " (run fsck." : "", hint ? name : "",
			       hint ? ")" : "");
	} else {
		bento_user_err("%s: %s: mount failed: %s", a->device, name,
			       strerror(-err));
	}
}

/*
 * The mount point: a directory, and not already a Bento mount (see the
 * essay).  Sets m->mountpoint.  0, or -errno (reported).
 */
static int check_mountpoint(const struct mount_args *a,
			    struct bento_mount *m)
{
	struct bento_mountinfo mi;
	struct stat st;

	if (!realpath(a->mountpoint, m->mountpoint) ||
	    stat(m->mountpoint, &st)) {
		int err = -errno;

		bento_user_err("%s: %s", a->mountpoint, strerror(-err));
		return err;
	}
	if (!S_ISDIR(st.st_mode)) {
		bento_user_err("%s: %s", a->mountpoint, strerror(ENOTDIR));
		return -ENOTDIR;
	}
	if (bento_mountinfo_find(m->mountpoint, &mi) == 0 &&
	    strncmp(mi.fstype, "fuse.bento.", 11) == 0) {
		bento_user_err("%s: already a Bento mount (of %s); bento umount it first",
			       a->mountpoint, mi.source);
		return -EBUSY;
	}
	return 0;
}

/* Step 3: module, device, instance.  Errors are reported here. */
static int open_fs(const struct mount_args *a, struct bento_mount *m)
{
	struct bento_blkdev *dev;
	char why[1024];
	const char *name;
	int err;

	/* -ENOENT, -ENOEXEC: the runtime has said why, in one line. */
	err = bento_module_load(a->module, &m->lm);
	if (err == -ENOEXEC || err == -ENOENT)
		return err;
	if (err) {
		bento_user_err("%s: %s", a->module, strerror(-err));
		return err;
	}
	name = m->lm->mod->name;

	if (!realpath(a->device, m->device)) {
		err = -errno;
		bento_user_err("%s: %s", a->device, strerror(-err));
		goto out_unload;
	}
	bento_log_capture_start(why, sizeof(why));
	err = bento_blkdev_open_file(m->device, a->read_only, &dev);
	bento_log_capture_stop();
	if (err) {
		device_failed(a, err, why);
		goto out_unload;
	}

	/* The instance owns dev from here, also on failure. */
	bento_log_capture_start(why, sizeof(why));
	err = bento_instance_mount(m->lm->mod, dev, m->fs_options,
				   a->read_only, a->cache_blocks, &m->inst);
	if (bento_log_capture_stop() && !err)
		bento_err("%s", why);	/* an error it mounted despite */
	if (err) {
		init_failed(a, name, err, why, m->fs_options);
		goto out_unload;
	}
	return 0;

out_unload:
	bento_module_unload(m->lm);
	m->lm = NULL;
	return err;
}

/* Step 4: the FUSE session, mounted. */
static int open_session(const struct mount_args *a, struct bento_mount *m)
{
	char opts[PATH_MAX * 3];
	char *argv[4] = { "bento", "-o", opts, NULL };
	struct fuse_args args;
	int argc = 3;

	if (fuse_opts(a, m, opts, sizeof(opts))) {
		bento_user_err("%s: device path too long", a->device);
		return -E2BIG;
	}
	if (a->debug)
		argv[argc++] = "-d";
	args = (struct fuse_args)FUSE_ARGS_INIT(argc, argv);
	m->se = fuse_session_new(&args, &bento_fuse_ops, sizeof(bento_fuse_ops),
				 m);
	fuse_opt_free_args(&args);	/* libfuse may have copied them */
	if (!m->se) {
		bento_user_err("%s: cannot create the FUSE session",
			       a->mountpoint);
		return -EINVAL;
	}
	if (fuse_session_mount(m->se, m->mountpoint) != 0) {
		bento_user_err("%s: FUSE mount failed", a->mountpoint);
		fuse_session_destroy(m->se);
		m->se = NULL;
		return -EIO;
	}
	return 0;
}

/* Step 5: leave the terminal.  Errors from here on go to syslog. */
static void detach(void)
{
	int fd;

	if (setsid() < 0)
		bento_warn("setsid: %s", strerror(errno));
	if (chdir("/"))
		bento_warn("chdir /: %s", strerror(errno));
	fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (fd >= 0) {
		dup2(fd, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		if (fd > STDERR_FILENO)
			close(fd);
	}
	bento_log_use_syslog(true);
}

static void report(int fd, int code)
{
	unsigned char b = (unsigned char)code;

	if (fd >= 0) {
		if (write(fd, &b, 1) != 1)
			bento_warn("cannot report to the parent: %s",
				   strerror(errno));
		close(fd);
	}
}

/* Step 6: serve until the kernel closes the connection. */
static int run_loop(const struct mount_args *a, struct bento_mount *m)
{
	struct fuse_loop_config *cfg;
	int err;

	if (a->single)
		return fuse_session_loop(m->se);
	cfg = fuse_loop_cfg_create();
	if (!cfg)
		return -ENOMEM;
	fuse_loop_cfg_set_max_threads(cfg, a->max_threads);
	fuse_loop_cfg_set_idle_threads(cfg, a->max_threads);
	err = fuse_session_loop_mt(m->se, cfg);
	fuse_loop_cfg_destroy(cfg);
	return err;
}

/*
 * Steps 3-7 for the process that serves.  @report_fd: where to send the
 * exit code once mounted (or failed), -1 in the foreground.  Returns the
 * exit code.
 */
static int serve(const struct mount_args *a, int report_fd)
{
	struct bento_mount *m;
	pthread_rwlockattr_t la;
	int err, code = BENTO_EXIT_FAIL;

	m = calloc(1, sizeof(*m));
	if (!m) {
		bento_user_err("out of memory");
		goto out_report;
	}
	m->owner = geteuid();
	m->pid = getpid();
	m->attr_timeout = a->attr_timeout;
	m->entry_timeout = a->entry_timeout;
	m->read_only = a->read_only;
	m->debug = a->debug;
	m->want_writeback = a->writeback;
	m->commit_secs = a->commit_secs;
	m->cache_blocks = a->cache_blocks ? a->cache_blocks :
			  BENTO_BCACHE_DEFAULT_BLOCKS;
	m->max_threads = a->single ? 0 : a->max_threads;
	snprintf(m->fs_options, sizeof(m->fs_options), "%s", a->fsopts);
	pthread_rwlockattr_init(&la);
	pthread_rwlockattr_setkind_np(&la,
			PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&m->op_lock, &la);
	pthread_rwlockattr_destroy(&la);

	if (check_mountpoint(a, m))
		goto out_free;
	if (open_fs(a, m))
		goto out_free;
	if (open_session(a, m))
		goto out_unmount_inst;
	err = bento_ctl_listen(m);
	if (err) {
		bento_user_err("%s: cannot create the control socket: %s",
			       m->mountpoint, strerror(-err));
		goto out_unmount_session;
	}
	clock_gettime(CLOCK_REALTIME, &m->mount_time);
	err = bento_commit_start(m);
	if (err) {
		bento_user_err("%s: cannot start the commit thread: %s",
			       m->mountpoint, strerror(-err));
		goto out_finish_ctl;
	}
	err = bento_ctl_start(m);
	if (err) {
		bento_user_err("%s: cannot start the control thread: %s",
			       m->mountpoint, strerror(-err));
		goto out_stop_commit;
	}
	if (report_fd >= 0) {
		detach();
		bento_log_set_level(a->debug ? BENTO_LOG_DEBUG :
				    BENTO_LOG_INFO);
		report(report_fd, BENTO_EXIT_OK);
		report_fd = -1;
	}
	bento_info("%s: serving %s %s from %s", m->mountpoint,
		   m->inst->mod->name, m->inst->mod->version, m->device);

	/* Step 6 and 7. */
	err = run_loop(a, m);
	if (err < 0)
		bento_err("%s: FUSE loop ended: %s", m->mountpoint,
			  strerror(-err));
	fuse_session_unmount(m->se);
	bento_ctl_flushing(m->ctl);
	bento_commit_stop(m->commit);
	pthread_rwlock_wrlock(&m->op_lock);
	err = bento_instance_unmount(m->inst);
	m->inst = NULL;
	pthread_rwlock_unlock(&m->op_lock);
	if (err)
		bento_err("%s: final flush failed: %s", m->mountpoint,
			  strerror(-err));
	else
		bento_info("%s: unmounted, everything written to %s",
			   m->mountpoint, m->device);
	fuse_session_destroy(m->se);
	bento_module_unload(m->lm);
	bento_ctl_finish(m->ctl, err);	/* last: `bento umount` returns */
	bento_upgrade_free_stats(&m->upgrades);
	pthread_rwlock_destroy(&m->op_lock);
	free(m);
	return err ? BENTO_EXIT_FAIL : BENTO_EXIT_OK;

out_stop_commit:
	bento_commit_stop(m->commit);
out_finish_ctl:
	bento_ctl_finish(m->ctl, err);
out_unmount_session:
	fuse_session_unmount(m->se);
	fuse_session_destroy(m->se);
out_unmount_inst:
	bento_instance_unmount(m->inst);
	bento_module_unload(m->lm);
out_free:
	pthread_rwlock_destroy(&m->op_lock);
	free(m);
out_report:
	report(report_fd, code);
	return code;
}

/*
 * The parent's side of step 2: wait for the child's exit code.  A child
 * that dies without reporting is a mount failure.
 */
static int wait_child(pid_t pid, int fd)
{
	unsigned char b;
	ssize_t n;
	int status;

	do
		n = read(fd, &b, 1);
	while (n < 0 && errno == EINTR);
	close(fd);
	if (n == 1) {
		if (b != BENTO_EXIT_OK)
			waitpid(pid, &status, 0);
		return b;
	}
	if (waitpid(pid, &status, 0) == pid && WIFSIGNALED(status))
		bento_user_err("mount: the daemon died of signal %d",
			       WTERMSIG(status));
	else
		bento_user_err("mount: the daemon exited before mounting");
	return BENTO_EXIT_FAIL;
}

int bento_cmd_mount(int argc, char **argv)
{
	struct mount_args a;
	int fds[2];
	pid_t pid;

	memset(&a, 0, sizeof(a));
	if (parse_args(argc, argv, &a))
		return BENTO_EXIT_USAGE;
	if (a.foreground) {
		bento_log_set_level(a.debug ? BENTO_LOG_DEBUG :
				    BENTO_LOG_INFO);
		return serve(&a, -1);
	}
	/* The terminal hears errors only until the daemon detaches. */
	bento_log_set_level(BENTO_LOG_WARN);

	if (pipe2(fds, O_CLOEXEC)) {
		bento_user_err("pipe: %s", strerror(errno));
		return BENTO_EXIT_SYSTEM;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		bento_user_err("fork: %s", strerror(errno));
		return BENTO_EXIT_SYSTEM;
	}
	if (pid > 0) {
		close(fds[1]);
		return wait_child(pid, fds[0]);
	}
	close(fds[0]);
	return serve(&a, fds[1]);
}
