/*
 * cmd_client.c - `bento status`, `bento umount` and `bento upgrade`:
 * clients of a mount's control socket (ctl.c).
 *
 * Each resolves MOUNTPOINT, finds the daemon's socket, sends one command
 * and reads the key=value reply.  upgrade sends "upgrade NEW.so" (the
 * path made absolute: the daemon runs in /); with --all it loads NEW.so
 * here to learn its file system's name and asks every Bento mount of
 * that name (mount type fuse.bento.NAME), one after the other.  status
 * formats the reply for people (or as JSON); umount waits for the
 * daemon's final result, which comes only after everything is written
 * back.
 *
 * Finding the mount never waits on it: the path is looked up in
 * /proc/self/mountinfo first, lexically; only a path that is not a mount
 * point as typed is resolved with realpath(3), in a thread given a few
 * seconds, because resolving a path inside a FUSE mount asks its daemon.
 * Every exchange with the daemon has a deadline too (-t), so a stopped
 * or hung daemon gives a message and exit 32, never a hang.
 *
 * MOUNTPOINT must be the mount point itself: a directory inside a Bento
 * mount is "not a mount point" (unmounting its parent would surprise).
 * A daemon that has lost its mount and is still flushing is found by
 * asking every socket which mount point it served.
 */
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "user.h"

#define STATUS_TIMEOUT 5	/* seconds, default of status -t */
#define UMOUNT_TIMEOUT 30	/* seconds, default of umount -t */
#define RESOLVE_TIMEOUT_MS 5000

static const char status_help[] =
"Usage: bento status [-a] [--json] [-t SECS] MOUNTPOINT\n"
"\n"
"Show what serves the Bento mount at MOUNTPOINT: the module (file-system\n"
"name, version, build id, path), the device, the host's options (read-only,\n"
"commit interval, writeback cache, cache size) apart from the file\n"
"system's, when it was mounted and by which process, the operation\n"
"counters, the buffer-cache statistics, the periodic commits, and how many\n"
"corruption errors the file system reported.\n"
"\n"
"Options:\n"
"  -a, --all    show every operation counter, also those still at zero\n"
"  -j, --json   print one JSON object instead\n"
"  -t SECS      how long to wait for the daemon (default 5)\n"
"  -h, --help   show this help\n"
"\n"
"Only root and the user who mounted it may ask.\n"
"\n"
"Exit status:\n"
"  0   printed\n"
"  1   bad usage\n"
"  32  MOUNTPOINT is not a Bento mount, or its daemon did not answer\n";

static const char umount_help[] =
"Usage: bento umount [-t SECS] MOUNTPOINT\n"
"\n"
"Unmount the Bento mount at MOUNTPOINT and wait until its daemon has\n"
"called the file system's destroy, written back and flushed everything to\n"
"the device, and exited.  After it returns 0 the device holds a clean\n"
"file system (fsck may run at once).  umount(8) and fusermount3 -u, by\n"
"contrast, return before that final flush.  If the mount is already gone\n"
"and its daemon still flushing, waits for that daemon.  A daemon that\n"
"died leaves a dead mount: it is detached (nothing can be flushed).\n"
"\n"
"Options:\n"
"  -t SECS      give up after SECS seconds (default 30; 0: wait as long\n"
"               as it takes).  A daemon that does not answer (stopped,\n"
"               hung) leaves the mount as it is; one still flushing goes\n"
"               on, and `bento umount MOUNTPOINT` waits for it again\n"
"  -h, --help   show this help\n"
"\n"
"Exit status:\n"
"  0   unmounted and flushed\n"
"  1   bad usage\n"
"  32  not a Bento mount point, busy, no answer in time, or the final\n"
"      write-back failed (data may be lost)\n";

struct client_args {
	const char *mnt;	/* as typed */
	bool all, json;
	int timeout;		/* seconds, 0: none */
};

/* Parse "-a/--json/-t/-h MOUNTPOINT"; @status: which command. */
static int parse(int argc, char **argv, bool status, struct client_args *a)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "all", no_argument, NULL, 'a' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	long t;
	int c;

	a->timeout = status ? STATUS_TIMEOUT : UMOUNT_TIMEOUT;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, status ? "hajt:" : "ht:",
				longopts, NULL)) != -1) {
		if (c == 'h') {
			fputs(status ? status_help : umount_help, stdout);
			exit(BENTO_EXIT_OK);
		} else if (c == 'a' && status) {
			a->all = true;
		} else if (c == 'j' && status) {
			a->json = true;
		} else if (c == 't') {
			t = strtol(optarg, &end, 10);
			if (!*optarg || *end || t < 0 || t > 86400 ||
			    (t == 0 && status)) {
				bento_user_err("%s: -t %s: bad value (want seconds, %s to 86400)",
					       argv[0], optarg,
					       status ? "1" : "0");
				return -EINVAL;
			}
			a->timeout = (int)t;
		} else if (optopt == 't') {
			bento_user_err("%s: -t needs a number of seconds",
				       argv[0]);
			return -EINVAL;
		} else {
			bento_user_err("%s: unknown option '%s' (try bento %s --help)",
				       argv[0], argv[optind - 1], argv[0]);
			return -EINVAL;
		}
	}
	if (argc - optind != 1) {
		bento_user_err("%s: need one MOUNTPOINT (try bento %s --help)",
			       argv[0], argv[0]);
		return -EINVAL;
	}
	a->mnt = argv[optind];
	return 0;
}

/* ---- finding the mount and its daemon ------------------------------------ */

/* Where MOUNTPOINT leads. */
struct target {
	const char *arg;		/* as typed, for messages */
	char path[PATH_MAX];		/* absolute */
	bool is_mount;			/* path is a mount point: mi valid */
	struct bento_mountinfo mi;
	char sock[PATH_MAX];		/* the daemon's control socket */
};

/* @arg made absolute and cleaned of ".", ".." and "//", lexically. */
static int lexical_path(const char *arg, char *out, size_t size)
{
	char buf[PATH_MAX * 2], *save = NULL, *part;
	size_t len = 0;

	if (arg[0] == '/')
		snprintf(buf, sizeof(buf), "%s", arg);
	else if (getcwd(buf, PATH_MAX))
		snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "/%s",
			 arg);
	else
		return -errno;

	out[0] = '\0';
	for (part = strtok_r(buf, "/", &save); part;
	     part = strtok_r(NULL, "/", &save)) {
		if (strcmp(part, ".") == 0)
			continue;
		if (strcmp(part, "..") == 0) {
			while (len > 0 && out[len - 1] != '/')
				len--;
			len = len > 0 ? len - 1 : 0;
			out[len] = '\0';
			continue;
		}
		if (len + 1 + strlen(part) + 1 > size)
			return -ENAMETOOLONG;
		len += (size_t)sprintf(out + len, "/%s", part);
	}
	if (len == 0)
		strcpy(out, "/");
	return 0;
}

/* realpath(3) in a thread, given @ms milliseconds. */
struct resolve_job {
	char arg[PATH_MAX];
	char real[PATH_MAX];
	int err;
};

static void *resolve_thread(void *arg)
{
	struct resolve_job *j = arg;

	j->err = realpath(j->arg, j->real) ? 0 : -errno;
	return NULL;
}

/*
 * realpath of @arg into @out, or -ETIMEDOUT if the file system holding it
 * does not answer in @ms (the thread is left behind, blocked; it dies
 * with the process).
 */
static int timed_realpath(const char *arg, char *out, size_t size, int ms)
{
	struct resolve_job *j = calloc(1, sizeof(*j));
	struct timespec at;
	pthread_t th;
	int err;

	if (!j)
		return -ENOMEM;
	snprintf(j->arg, sizeof(j->arg), "%s", arg);
	err = pthread_create(&th, NULL, resolve_thread, j);
	if (err) {
		free(j);
		return -err;
	}
	clock_gettime(CLOCK_REALTIME, &at);
	at.tv_sec += ms / 1000;
	at.tv_nsec += (long)(ms % 1000) * 1000000;
	if (at.tv_nsec >= 1000000000) {
		at.tv_sec++;
		at.tv_nsec -= 1000000000;
	}
	if (pthread_timedjoin_np(th, NULL, &at)) {
		pthread_detach(th);
		return -ETIMEDOUT;	/* j stays with the thread */
	}
	err = j->err;
	if (!err)
		snprintf(out, size, "%s", j->real);
	free(j);
	return err;
}

static bool is_bento(const struct bento_mountinfo *mi)
{
	return strncmp(mi->fstype, "fuse.bento.", 11) == 0;
}

/*
 * Resolve t->arg into t->path and, if it is a mount point, t->mi.
 * Reports failure.  0 or -errno.
 */
static int resolve(struct target *t)
{
	char real[PATH_MAX];
	int err;

	err = lexical_path(t->arg, t->path, sizeof(t->path));
	if (err) {
		bento_user_err("%s: %s", t->arg, strerror(-err));
		return err;
	}
	if (bento_mountinfo_find(t->path, &t->mi) == 0) {
		t->is_mount = true;
		return 0;
	}

	/* Symlinks on the way, perhaps: ask the file systems, briefly. */
	err = timed_realpath(t->arg, real, sizeof(real), RESOLVE_TIMEOUT_MS);
	if (err == -ETIMEDOUT) {
		char mnt[PATH_MAX];
		struct bento_mountinfo mi;

		if (bento_mountinfo_under(t->path, &mi, mnt, sizeof(mnt)) == 0)
			bento_user_err("%s: not a mount point, and %s does not answer (its daemon stopped or hung?)",
				       t->arg, mnt);
		else
			bento_user_err("%s: does not answer", t->arg);
		return err;
	}
	if (err) {
		bento_user_err("%s: %s", t->arg, strerror(-err));
		return err;
	}
	snprintf(t->path, sizeof(t->path), "%s", real);
	t->is_mount = bento_mountinfo_find(t->path, &t->mi) == 0;
	return 0;
}

/*
 * Find the daemon of t: its socket into t->sock.  Returns 0, -ENOTCONN
 * (a Bento mount with no daemon behind it: t->mi describes it), or
 * -ENOENT (reported: not a Bento mount, or not a mount point).
 */
static int locate(struct target *t)
{
	struct bento_mountinfo mi;
	char mnt[PATH_MAX];

	if (t->is_mount && is_bento(&t->mi))
		return bento_ctl_sock_for(&t->mi, t->sock, sizeof(t->sock)) ?
		       -ENOTCONN : 0;
	if (t->is_mount) {
		bento_user_err("%s: not a Bento mount (%s)", t->arg,
			       t->mi.fstype);
		return -ENOENT;
	}

	/* Not mounted (any more): a daemon still flushing it? */
	if (bento_ctl_scan(t->path, t->sock, sizeof(t->sock)) == 0)
		return 0;
	if (bento_mountinfo_under(t->path, &mi, mnt, sizeof(mnt)) == 0 &&
	    is_bento(&mi))
		bento_user_err("%s: not a mount point (it is inside the Bento mount %s)",
			       t->arg, mnt);
	else
		bento_user_err("%s: not a Bento mount", t->arg);
	return -ENOENT;
}

/* The one line for a request that failed with @err. */
static void request_failed(const struct target *t, int err, int secs)
{
	if (err == -EACCES || err == -EPERM)
		bento_user_err("%s: permission denied: only root or the mounting user may ask",
			       t->arg);
	else if (err == -ECONNREFUSED || err == -ENOENT)
		bento_user_err("%s at %s: daemon is gone; run 'bento umount %s'",
			       t->mi.source, t->path, t->arg);
	else if (err == -ETIMEDOUT)
		bento_user_err("%s: the daemon did not answer within %d s (stopped or hung?)",
			       t->arg, secs);
	else
		bento_user_err("%s: daemon did not answer on %s: %s", t->arg,
			       t->sock, strerror(-err));
}

/* A reply's failure: "error=control socket: Permission denied" is the
 * daemon refusing a stranger. */
static void reply_failed(const struct target *t, const char *error)
{
	if (strstr(error, "control socket") && strstr(error, "denied"))
		request_failed(t, -EACCES, 0);
	else
		bento_user_err("%s: %s", t->arg, error);
}

/* ---- status ------------------------------------------------------------- */

static const char *get(const char *reply, const char *key, char *buf,
		       size_t size)
{
	if (bento_ctl_reply_get(reply, key, buf, size))
		buf[0] = '\0';
	return buf;
}

static unsigned long long get_u(const char *reply, const char *key)
{
	char v[32];

	return strtoull(get(reply, key, v, sizeof(v)), NULL, 10);
}

/* Print @s as a JSON string. */
static void json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

/* Keys whose 0/1 values are booleans in JSON. */
static bool is_bool_key(const char *key)
{
	static const char *const keys[] = {
		"read_only", "unmounting", "flushing", "writeback_cache",
		NULL,
	};
	const char *dot = strchr(key, '.');
	int i;

	for (i = 0; keys[i]; i++)
		if (strcmp(dot ? dot + 1 : key, keys[i]) == 0)
			return true;
	return false;
}

/* A number as JSON has them: digits, one '.' with digits after it. */
static bool is_number(const char *v)
{
	size_t n = strspn(v, "0123456789");

	if (n == 0 || (v[0] == '0' && n > 1 && v[1] != '.'))
		return false;
	if (v[n] == '.')
		return v[n + 1] && strspn(v + n + 1, "0123456789") ==
				   strlen(v + n + 1);
	return v[n] == '\0';
}

/* Keys whose values stay strings even if they look like numbers. */
static bool is_string_key(const char *key)
{
	static const char *const keys[] = {
		"fs", "version", "build_id", "module", "device", "mountpoint",
		"options", "error", "last_error", NULL,
	};
	const char *dot = strchr(key, '.');
	int i;

	for (i = 0; keys[i]; i++)
		if (strcmp(dot ? dot + 1 : key, keys[i]) == 0)
			return true;
	return false;
}

static void json_value(const char *key, const char *val)
{
	if (is_string_key(key))
		json_str(val);
	else if (is_bool_key(key) && (strcmp(val, "0") == 0 ||
				 strcmp(val, "1") == 0))
		printf("%s", val[0] == '1' ? "true" : "false");
	else if (is_number(val))
		printf("%s", val);
	else
		json_str(val);
}

/* mount_time "SECS.NSEC" as ISO 8601 in UTC. */
static void iso_time(const char *val, char *buf, size_t size)
{
	time_t when = (time_t)strtoll(val, NULL, 10);
	struct tm tm;

	gmtime_r(&when, &tm);
	strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/*
 * Every key=value line as JSON: "op.X", "cache.X" and "host.X" keys
 * grouped into objects, values as numbers and booleans where they are,
 * mount_time also as an ISO string (mount_time_iso), "result" left out.
 */
static void print_json(const char *reply)
{
	static const char *const groups[] = {
		"host", "op", "cache", "upgrade", "history",
	};
	char *copy = strdup(reply), *save = NULL, *line;
	char *keys[320], *vals[320], iso[64];
	const char *sep = "";
	int n = 0, i, g;

	if (!copy)
		return;
	for (line = strtok_r(copy, "\n", &save); line && n < 320;
	     line = strtok_r(NULL, "\n", &save)) {
		char *eq = strchr(line, '=');

		if (!eq || strncmp(line, "result=", 7) == 0)
			continue;
		*eq = '\0';
		keys[n] = line;
		vals[n++] = eq + 1;
	}

	printf("{");
	for (i = 0; i < n; i++) {
		if (strchr(keys[i], '.'))
			continue;
		printf("%s\n  ", sep);
		json_str(keys[i]);
		printf(": ");
		json_value(keys[i], vals[i]);
		sep = ",";
		if (strcmp(keys[i], "mount_time") == 0) {
			iso_time(vals[i], iso, sizeof(iso));
			printf(",\n  \"mount_time_iso\": \"%s\"", iso);
		}
	}
	for (g = 0; g < 5; g++) {
		size_t glen = strlen(groups[g]);
		const char *gsep = "";

		printf("%s\n  \"%s\": {", sep, groups[g]);
		for (i = 0; i < n; i++) {
			if (strncmp(keys[i], groups[g], glen) ||
			    keys[i][glen] != '.')
				continue;
			printf("%s\n    ", gsep);
			json_str(keys[i] + glen + 1);
			printf(": ");
			json_value(keys[i], vals[i]);
			gsep = ",";
		}
		printf("\n  }");
	}
	printf("\n}\n");
	free(copy);
}

/* Upgrades: counts, downtimes, the last error, the builds served. */
static void print_upgrades(const char *reply)
{
	unsigned long long i, done = get_u(reply, "upgrade.done");
	char v[1100], key[32];

	printf("  upgrades:   %llu done, %llu failed\n", done,
	       get_u(reply, "upgrade.failed"));
	if (done)
		printf("  downtime:   last %llu us, min %llu, median %llu, max %llu us\n",
		       get_u(reply, "upgrade.last_us"),
		       get_u(reply, "upgrade.min_us"),
		       get_u(reply, "upgrade.median_us"),
		       get_u(reply, "upgrade.max_us"));
	if (get(reply, "upgrade.last_error", v, sizeof(v))[0])
		printf("  last failed upgrade: %s\n", v);
	for (i = 1; i <= done; i++) {
		snprintf(key, sizeof(key), "history.%llu", i);
		if (!get(reply, key, v, sizeof(v))[0])
			continue;	/* older than the daemon remembers */
		printf("  history %llu: %s\n", i, strchr(v, ' ') ?
		       strchr(v, ' ') + 1 : v);
	}
}

static void print_human(const char *reply, bool all)
{
	char v[PATH_MAX], w[PATH_MAX], t[64];
	struct tm tm;
	time_t when = (time_t)get_u(reply, "mount_time");
	unsigned long long commit = get_u(reply, "host.commit");
	long up = (long)(time(NULL) - when);
	int i;

	get(reply, "fs", w, sizeof(w));
	get(reply, "version", t, sizeof(t));
	printf("%s: %s %s, served by pid %llu\n",
	       get(reply, "mountpoint", v, sizeof(v)), w, t,
	       get_u(reply, "pid"));
	printf("  module:     %s\n", get(reply, "module", v, sizeof(v)));
	printf("  build id:   %s\n", get(reply, "build_id", v, sizeof(v)));
	printf("  device:     %s (%s)\n", get(reply, "device", v, sizeof(v)),
	       get_u(reply, "read_only") ? "read-only" : "read-write");
	localtime_r(&when, &tm);
	strftime(t, sizeof(t), "%Y-%m-%d %H:%M:%S %z", &tm);
	printf("  mounted:    %s (up %ldh%02ldm%02lds)\n", t, up / 3600,
	       up / 60 % 60, up % 60);
	printf("  host:       %s, commit=%llu%s, %s, cache_blocks=%llu (%llu MiB), max_threads=%llu\n",
	       get_u(reply, "host.read_only") ? "ro" : "rw", commit,
	       commit ? "s" : " (off)",
	       get_u(reply, "host.writeback_cache") ? "writeback_cache" :
						       "write-through",
	       get_u(reply, "host.cache_blocks"),
	       get_u(reply, "host.cache_blocks") * BENTO_BLOCK_SIZE >> 20,
	       get_u(reply, "host.max_threads"));
	get(reply, "options", v, sizeof(v));
	printf("  fs options: %s\n", v[0] ? v : "(none)");
	if (get_u(reply, "unmounting"))
		printf("  state:      unmounting\n");
	printf("  commits:    %llu done, %llu failed\n",
	       get_u(reply, "commits"), get_u(reply, "commit_errors"));
	printf("  errors:     %llu corruption report(s)\n",
	       get_u(reply, "errors"));
	printf("  cache:      %llu hits, %llu misses, %llu writes, %llu flushes, %llu evictions\n",
	       get_u(reply, "cache.hits"), get_u(reply, "cache.misses"),
	       get_u(reply, "cache.writes"), get_u(reply, "cache.flushes"),
	       get_u(reply, "cache.evictions"));
	printf("              %llu buffers cached, %llu dirty\n",
	       get_u(reply, "cache.cached"), get_u(reply, "cache.dirty"));
	print_upgrades(reply);
	printf("  operations:%s\n", all ? "" : " (non-zero; -a for all)");
	for (i = 0; i < BENTO_OPC_NR; i++) {
		const char *name = bento_op_counter_name(i);
		unsigned long long n;

		snprintf(v, sizeof(v), "op.%s", name);
		n = get_u(reply, v);
		if (n || all)
			printf("    %-12s %llu\n", name, n);
	}
}

/* A flushing daemon's short answer. */
static void print_flushing(const char *reply, bool json)
{
	char v[PATH_MAX];

	if (json) {
		print_json(reply);
		return;
	}
	printf("%s: unmounted, daemon pid %llu still flushing to %s\n",
	       get(reply, "mountpoint", v, sizeof(v)), get_u(reply, "pid"),
	       get(reply, "device", v, sizeof(v)));
}

int bento_cmd_status(int argc, char **argv)
{
	struct client_args a = { 0 };
	struct target t = { 0 };
	char err_text[256];
	char *reply;
	int err;

	if (parse(argc, argv, true, &a))
		return BENTO_EXIT_USAGE;
	t.arg = a.mnt;
	if (resolve(&t))
		return BENTO_EXIT_FAIL;
	err = locate(&t);
	if (err == -ENOTCONN) {
		request_failed(&t, -ECONNREFUSED, 0);
		return BENTO_EXIT_FAIL;
	}
	if (err)
		return BENTO_EXIT_FAIL;

	err = bento_ctl_request(t.sock, "status", a.timeout * 1000, &reply);
	if (err) {
		request_failed(&t, err, a.timeout);
		free(reply);
		return BENTO_EXIT_FAIL;
	}
	if (!strstr(reply, "result=0\n")) {
		reply_failed(&t, get(reply, "error", err_text,
				     sizeof(err_text)));
		free(reply);
		return BENTO_EXIT_FAIL;
	}
	if (get_u(reply, "flushing"))
		print_flushing(reply, a.json);
	else if (a.json)
		print_json(reply);
	else
		print_human(reply, a.all);
	free(reply);
	return BENTO_EXIT_OK;
}

/* ---- umount ------------------------------------------------------------- */

/* Has process @pid exited?  A zombie has (its parent may be slow). */
static bool exited(pid_t pid)
{
	char path[64], buf[256], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return true;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return true;
	buf[n] = '\0';
	p = strrchr(buf, ')');	/* "pid (comm) STATE ..." */
	return !p || p[1] != ' ' || p[2] == 'Z' || p[2] == 'X';
}

/* Wait (10 s at most) until process @pid has exited. */
static void wait_exit(pid_t pid)
{
	int i;

	for (i = 0; pid > 0 && i < 1000 && !exited(pid); i++)
		usleep(10000);
}

/*
 * A Bento mount whose daemon is gone (no socket, or nobody behind it):
 * detach it, so the mount point is usable again, and say that nothing
 * could be flushed.
 */
static int umount_dead(const struct target *t)
{
	if (umount2(t->path, MNT_DETACH) == 0)
		bento_user_err("%s: daemon gone; mount of %s detached, nothing flushed",
			       t->arg, t->mi.source);
	else
		bento_user_err("%s: the daemon is gone, and detaching failed: %s",
			       t->arg, strerror(errno));
	return BENTO_EXIT_FAIL;
}

/* The one line for an umount that ran out of time; @reply: what came. */
static void umount_timed_out(const struct target *t, const char *reply,
			     int secs)
{
	struct bento_mountinfo mi;
	unsigned long long pid = get_u(reply, "pid");

	if (pid)
		bento_user_err("%s: unmounted, but daemon %llu is still flushing after %d s (it goes on; 'bento umount %s' waits for it again)",
			       t->arg, pid, secs, t->arg);
	else if (bento_mountinfo_find(t->path, &mi) == 0)
		bento_user_err("%s: the daemon did not answer within %d s (stopped or hung?); still mounted",
			       t->arg, secs);
	else
		bento_user_err("%s: the daemon did not report its final flush within %d s",
			       t->arg, secs);
}

int bento_cmd_umount(int argc, char **argv)
{
	struct client_args a = { 0 };
	struct target t = { 0 };
	char text[256];
	char *reply;
	int err;

	if (parse(argc, argv, false, &a))
		return BENTO_EXIT_USAGE;
	t.arg = a.mnt;
	if (resolve(&t))
		return BENTO_EXIT_FAIL;
	err = locate(&t);
	if (err == -ENOTCONN)
		return umount_dead(&t);
	if (err)
		return BENTO_EXIT_FAIL;

	err = bento_ctl_request(t.sock, "umount",
				a.timeout ? a.timeout * 1000 : -1, &reply);
	if ((err == -ECONNREFUSED || err == -ENOENT) && t.is_mount)
		return umount_dead(&t);
	if (err == -ETIMEDOUT) {
		umount_timed_out(&t, reply, a.timeout);
		free(reply);
		return BENTO_EXIT_FAIL;
	}
	if (err) {
		request_failed(&t, err, a.timeout);
		return BENTO_EXIT_FAIL;
	}

	/* The result comes just before the daemon exits: wait for that. */
	wait_exit((pid_t)get_u(reply, "pid"));
	if (!strstr(reply, "result=")) {
		bento_user_err("%s: the daemon exited without a final result",
			       t.arg);
		err = -EIO;
	} else if (!strstr(reply, "result=0\n")) {
		get(reply, "error", text, sizeof(text));
		if (strncmp(text, "final flush: ", 13) == 0)
			bento_user_err("%s: unmounted, but the final write-back failed: %s (data may be lost; see the daemon's log)",
				       t.arg, text + 13);
		else
			reply_failed(&t, text);
		err = -EIO;
	}
	free(reply);
	return err ? BENTO_EXIT_FAIL : BENTO_EXIT_OK;
}

/* ---- upgrade ------------------------------------------------------------ */

static const char upgrade_help[] =
"Usage: bento upgrade [-t SECS] MOUNTPOINT NEW.so\n"
"       bento upgrade --all [-t SECS] NEW.so\n"
"\n"
"Replace the build of the file system serving the Bento mount at MOUNTPOINT\n"
"by the module NEW.so, without unmounting: open files stay open and no\n"
"request fails.  The daemon loads NEW.so beside the serving build, checks\n"
"it is a module of the same file system with a transfer op (and that the\n"
"serving build has prepare), then holds new requests back, lets those in\n"
"flight finish, has the old build export its state and the new one import\n"
"it, and resumes on the new build.  If any step fails, the old build keeps\n"
"serving and nothing is lost.\n"
"\n"
"Prints downtime_us=N (how long requests were held back, measured by the\n"
"daemon) and a line naming the old and new builds.  `bento status` keeps\n"
"the downtime statistics and the history of builds.\n"
"\n"
"Options:\n"
"  -a, --all    upgrade every Bento mount of NEW.so's file system, one\n"
"               at a time, a line each\n"
"  -t SECS      how long to wait for each daemon (default 60)\n"
"  -h, --help   show this help\n"
"\n"
"Only root and the user who mounted it may upgrade a mount.\n"
"\n"
"Exit status:\n"
"  0   upgraded (with --all: every one, and there was at least one)\n"
"  1   bad usage\n"
"  32  not a Bento mount, its daemon did not answer, or the upgrade was\n"
"      refused or failed (the old build still serves)\n";

#define UPGRADE_TIMEOUT 60	/* seconds, default of upgrade -t */

/*
 * Ask the daemon of t to upgrade to @so (absolute).  Prints the result
 * (@machine: the downtime_us= line too).  0 or -errno (reported).
 */
static int upgrade_one(struct target *t, const char *so, int timeout,
		       bool machine)
{
	char cmd[PATH_MAX + 16], from[256], to[256], text[1100];
	char serving[160];
	char *reply;
	int err;

	err = locate(t);
	if (err == -ENOTCONN) {
		request_failed(t, -ECONNREFUSED, 0);
		return err;
	}
	if (err)
		return err;
	snprintf(cmd, sizeof(cmd), "upgrade %s", so);
	err = bento_ctl_request(t->sock, cmd, timeout * 1000, &reply);
	if (err) {
		request_failed(t, err, timeout);
		free(reply);
		return err;
	}
	if (!strstr(reply, "result=0\n")) {
		get(reply, "error", text, sizeof(text));
		if (strstr(text, "control socket") && strstr(text, "denied"))
			reply_failed(t, text);
		else if (get(reply, "serving", serving, sizeof(serving))[0])
			bento_user_err("upgrade %s: %s; %s keeps serving",
				       t->arg, text, serving);
		else
			bento_user_err("upgrade %s: %s", t->arg,
				       text[0] ? text : "failed");
		free(reply);
		return -EIO;
	}
	if (machine)
		printf("downtime_us=%llu\nprepare_us=%llu\ntransfer_us=%llu\n",
		       get_u(reply, "downtime_us"), get_u(reply, "prepare_us"),
		       get_u(reply, "transfer_us"));
	printf("%s: %s -> %s, downtime %llu us (in-flight ops drained in %llu us)\n",
	       t->path, get(reply, "from", from, sizeof(from)),
	       get(reply, "to", to, sizeof(to)), get_u(reply, "downtime_us"),
	       get_u(reply, "drain_us"));
	fflush(stdout);
	free(reply);
	return 0;
}

/* --all: every Bento mount of NEW.so's file system, one at a time. */
static int upgrade_all(const char *so, int timeout)
{
	struct bento_loaded_module *lm;
	char fstype[96], name[64];
	size_t n = 0, i, done = 0;
	char **list;
	int failed = 0;

	/* The file system's name: load the module here, briefly. */
	bento_log_set_level(BENTO_LOG_ERR);
	if (bento_module_load(so, &lm))
		return BENTO_EXIT_FAIL;		/* the loader said why */
	snprintf(name, sizeof(name), "%s", lm->mod->name);
	bento_module_unload(lm);
	snprintf(fstype, sizeof(fstype), "fuse.bento.%s", name);

	if (bento_mountinfo_bento(&list, &n)) {
		bento_user_err("upgrade --all: cannot read /proc/self/mountinfo");
		return BENTO_EXIT_FAIL;
	}
	for (i = 0; i < n; i++) {
		struct target t = { 0 };

		t.arg = list[i];
		snprintf(t.path, sizeof(t.path), "%s", list[i]);
		if (bento_mountinfo_find(t.path, &t.mi) ||
		    strcmp(t.mi.fstype, fstype) != 0)
			continue;
		t.is_mount = true;
		done++;
		if (upgrade_one(&t, so, timeout, false))
			failed++;
	}
	bento_mountinfo_free_list(list, n);
	if (!done) {
		bento_user_err("upgrade --all: no Bento mount of %s", name);
		return BENTO_EXIT_FAIL;
	}
	if (failed)
		bento_user_err("upgrade --all: %d of %zu mounts of %s failed (they serve on their old builds)",
			       failed, done, name);
	return failed ? BENTO_EXIT_FAIL : BENTO_EXIT_OK;
}

int bento_cmd_upgrade(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "all", no_argument, NULL, 'a' },
		{ NULL, 0, NULL, 0 },
	};
	struct target t = { 0 };
	char so[PATH_MAX];
	int c, timeout = UPGRADE_TIMEOUT;
	bool all = false;
	char *end;
	long v;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "hat:", longopts, NULL)) != -1) {
		if (c == 'h') {
			fputs(upgrade_help, stdout);
			return BENTO_EXIT_OK;
		} else if (c == 'a') {
			all = true;
		} else if (c == 't') {
			v = strtol(optarg, &end, 10);
			if (!*optarg || *end || v < 1 || v > 86400) {
				bento_user_err("upgrade: -t %s: bad value (want seconds, 1 to 86400)",
					       optarg);
				return BENTO_EXIT_USAGE;
			}
			timeout = (int)v;
		} else {
			if (optopt == 't')
				bento_user_err("upgrade: -t needs a number of seconds");
			else
				bento_user_err("upgrade: unknown option '%s' (try bento upgrade --help)",
					       argv[optind - 1]);
			return BENTO_EXIT_USAGE;
		}
	}
	if (argc - optind != (all ? 1 : 2)) {
		bento_user_err(all ? "upgrade --all: need NEW.so only (try bento upgrade --help)" :
			       "upgrade: need MOUNTPOINT NEW.so (try bento upgrade --help)");
		return BENTO_EXIT_USAGE;
	}

	/* The daemon runs in /: it gets NEW.so as an absolute path. */
	if (lexical_path(argv[argc - 1], so, sizeof(so))) {
		bento_user_err("upgrade: %s: path too long", argv[argc - 1]);
		return BENTO_EXIT_USAGE;
	}
	if (all)
		return upgrade_all(so, timeout);

	t.arg = argv[optind];
	if (resolve(&t))
		return BENTO_EXIT_FAIL;
	return upgrade_one(&t, so, timeout, true) ? BENTO_EXIT_FAIL :
						    BENTO_EXIT_OK;
}
