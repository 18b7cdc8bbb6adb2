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
 *   3. load the module, open the device, mount the instance (fs init);
 *   4. create the FUSE session and mount it; open the control socket;
 *   5. detach from the terminal (new session, stdio to /dev/null, logs
 *      to syslog) and report success to the parent;
 *   6. run the loop until the kernel ends the connection (umount,
 *      `bento umount`, SIGTERM/SIGINT: see ctl.c);
 *   7. unmount the instance (the fs's destroy, then a write-back and a
 *      flush of the cache), and only then tell `bento umount` the result.
 */
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "user.h"

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
"                 cache_blocks=N     buffer-cache size in 4 KiB blocks\n"
"                 attr_timeout=S     seconds the kernel caches attributes\n"
"                 entry_timeout=S    seconds the kernel caches names\n"
"                                    (both default 1)\n"
"                 max_threads=N      most request threads (default 10)\n"
"               any other option is handed to the file system\n"
"  -f           stay in the foreground (log to stderr)\n"
"  -d           debug: log every FUSE request and the runtime's debug\n"
"               messages; implies -f\n"
"  -s           serve requests on one thread\n"
"  -h, --help   show this help\n"
"\n"
"The mount shows as fsname DEVICE, type fuse.bento.NAME in mount(8) and\n"
"df(1); `bento status MOUNTPOINT` shows which module serves it.\n"
"\n"
"Exit status:\n"
"  0   mounted (or, with -f, served and unmounted cleanly)\n"
"  1   bad usage or options\n"
"  32  mount failure: module, device, mount point or file-system init;\n"
"      with -f, also a failed final flush\n";

/* What the command line asked for. */
struct mount_args {
	const char *module, *device, *mountpoint;
	bool foreground, debug, single;
	bool read_only, allow_other;
	uint64_t cache_blocks;
	double attr_timeout, entry_timeout;
	unsigned int max_threads;
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
	char *val = strchr(o, '=');
	char *end;
	int i;

	if (val)
		*val++ = '\0';
	for (i = 0; kernel_flags[i]; i++)
		if (!val && strcmp(o, kernel_flags[i]) == 0)
			return opt_append(a->kopts, sizeof(a->kopts), o);

	if (!val && (strcmp(o, "ro") == 0 || strcmp(o, "rw") == 0)) {
		a->read_only = o[1] == 'o';
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

	a->attr_timeout = a->entry_timeout = 1.0;
	a->max_threads = 10;
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

/* Step 3: module, device, instance.  Errors are reported here. */
static int open_fs(const struct mount_args *a, struct bento_mount *m)
{
	struct bento_blkdev *dev;
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
	err = bento_blkdev_open_file(m->device, a->read_only, &dev);
	if (err) {
		bento_user_err("%s: %s", a->device, strerror(-err));
		goto out_unload;
	}

	/* The instance owns dev from here, also on failure. */
	err = bento_instance_mount(m->lm->mod, dev, m->fs_options,
				   a->read_only, a->cache_blocks, &m->inst);
	if (err == -EINVAL && m->fs_options[0])
		bento_user_err("%s: not %s %s image, or %s rejected options '%s'",
			       a->device, article(name), name, name,
			       m->fs_options);
	else if (err == -EINVAL)
		bento_user_err("%s: not %s %s image", a->device, article(name),
			       name);
	else if (err == -EUCLEAN)
		bento_user_err("%s: %s image is corrupt (run fsck.%s)",
			       a->device, name, name);
	else if (err)
		bento_user_err("%s: %s: mount failed: %s", a->device, name,
			       strerror(-err));
	if (err)
		goto out_unload;
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
	struct stat st;
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
	snprintf(m->fs_options, sizeof(m->fs_options), "%s", a->fsopts);

	if (!realpath(a->mountpoint, m->mountpoint) ||
	    stat(m->mountpoint, &st)) {
		bento_user_err("%s: %s", a->mountpoint, strerror(errno));
		goto out_free;
	}
	if (!S_ISDIR(st.st_mode)) {
		bento_user_err("%s: %s", a->mountpoint, strerror(ENOTDIR));
		goto out_free;
	}

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
	err = bento_ctl_start(m);
	if (err) {
		bento_user_err("%s: cannot start the control thread: %s",
			       m->mountpoint, strerror(-err));
		bento_ctl_finish(m->ctl, err);
		goto out_unmount_session;
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
	err = bento_instance_unmount(m->inst);
	m->inst = NULL;
	if (err)
		bento_err("%s: final flush failed: %s", m->mountpoint,
			  strerror(-err));
	else
		bento_info("%s: unmounted, everything written to %s",
			   m->mountpoint, m->device);
	fuse_session_destroy(m->se);
	bento_module_unload(m->lm);
	bento_ctl_finish(m->ctl, err);	/* last: `bento umount` returns */
	free(m);
	return err ? BENTO_EXIT_FAIL : BENTO_EXIT_OK;

out_unmount_session:
	fuse_session_unmount(m->se);
	fuse_session_destroy(m->se);
out_unmount_inst:
	bento_instance_unmount(m->inst);
	bento_module_unload(m->lm);
out_free:
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
