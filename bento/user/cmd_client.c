/*
 * cmd_client.c - `bento status` and `bento umount`: clients of a mount's
 * control socket (ctl.c).
 *
 * Both find the socket from the mount point (bento_ctl_find), send one
 * command and read the key=value reply.  status formats the reply for
 * people (or as JSON); umount waits, with no time limit, for the daemon's
 * final result, which comes only after everything is written back.
 */
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "user.h"

static const char status_help[] =
"Usage: bento status [-a] [--json] MOUNTPOINT\n"
"\n"
"Show what serves the Bento mount at MOUNTPOINT: the module (file-system\n"
"name, version, build id, path), the device, mount options, when it was\n"
"mounted and by which process, the operation counters, the buffer-cache\n"
"statistics, and how many corruption errors the file system reported.\n"
"\n"
"Options:\n"
"  -a, --all    show every operation counter, also those still at zero\n"
"  -j, --json   print one JSON object instead\n"
"  -h, --help   show this help\n"
"\n"
"Only root and the user who mounted it may ask.\n"
"\n"
"Exit status:\n"
"  0   printed\n"
"  1   bad usage\n"
"  32  MOUNTPOINT is not a Bento mount, or its daemon did not answer\n";

static const char umount_help[] =
"Usage: bento umount MOUNTPOINT\n"
"\n"
"Unmount the Bento mount at MOUNTPOINT and wait until its daemon has\n"
"called the file system's destroy, written back and flushed everything to\n"
"the device, and exited.  After it returns 0 the device holds a clean\n"
"file system (fsck may run at once).  umount(8) and fusermount3 -u, by\n"
"contrast, return before that final flush.  If the mount is already gone\n"
"and its daemon still flushing, waits for that daemon.\n"
"\n"
"Options:\n"
"  -h, --help   show this help\n"
"\n"
"Exit status:\n"
"  0   unmounted and flushed\n"
"  1   bad usage\n"
"  32  not a Bento mount, busy, or the final flush failed\n";

/* Parse "-a/--json/-h MOUNTPOINT"; returns the mount point or NULL. */
static const char *parse(int argc, char **argv, const char *help,
			 bool *all, bool *json)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "all", no_argument, NULL, 'a' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	const char *shortopts = all ? "haj" : "h";
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		if (c == 'h') {
			fputs(help, stdout);
			exit(BENTO_EXIT_OK);
		} else if (c == 'a' && all) {
			*all = true;
		} else if (c == 'j' && json) {
			*json = true;
		} else {
			bento_user_err("%s: unknown option '%s' (try bento %s --help)",
				       argv[0], argv[optind - 1], argv[0]);
			return NULL;
		}
	}
	if (argc - optind != 1) {
		bento_user_err("%s: need one MOUNTPOINT (try bento %s --help)",
			       argv[0], argv[0]);
		return NULL;
	}
	return argv[optind];
}

/* Find @mnt's socket, reporting failure.  0 or -errno. */
static int find(const char *mnt, char *sock, size_t size)
{
	int err = bento_ctl_find(mnt, sock, size);

	if (err == -ENOENT && access(mnt, F_OK) == 0)
		bento_user_err("%s: not a Bento mount", mnt);
	else if (err)
		bento_user_err("%s: %s", mnt, strerror(-err));
	return err;
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

static void json_value(const char *val)
{
	size_t n = strlen(val);

	if (n && strspn(val, "0123456789") == n && (val[0] != '0' || n == 1))
		printf("%s", val);
	else
		json_str(val);
}

/*
 * Every key=value line as JSON: "op.X" and "cache.X" keys grouped into
 * objects "op" and "cache", values of digits only as numbers, "result"
 * left out.
 */
static void print_json(const char *reply)
{
	static const char *const groups[] = { "op", "cache" };
	char *copy = strdup(reply), *save = NULL, *line;
	char *keys[256], *vals[256];
	const char *sep = "";
	int n = 0, i, g;

	if (!copy)
		return;
	for (line = strtok_r(copy, "\n", &save); line && n < 256;
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
		json_value(vals[i]);
		sep = ",";
	}
	for (g = 0; g < 2; g++) {
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
			json_value(vals[i]);
			gsep = ",";
		}
		printf("\n  }");
	}
	printf("\n}\n");
	free(copy);
}

static void print_human(const char *reply, const char *mnt, bool all)
{
	char v[PATH_MAX], w[PATH_MAX], t[64];
	struct tm tm;
	time_t when = (time_t)get_u(reply, "mount_time");
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
	get(reply, "options", v, sizeof(v));
	printf("  fs options: %s\n", v[0] ? v : "(none)");
	if (get_u(reply, "unmounting"))
		printf("  state:      unmounting\n");
	printf("  errors:     %llu corruption report(s)\n",
	       get_u(reply, "errors"));
	printf("  cache:      %llu hits, %llu misses, %llu writes, %llu flushes, %llu evictions\n",
	       get_u(reply, "cache.hits"), get_u(reply, "cache.misses"),
	       get_u(reply, "cache.writes"), get_u(reply, "cache.flushes"),
	       get_u(reply, "cache.evictions"));
	printf("              %llu buffers cached, %llu dirty\n",
	       get_u(reply, "cache.cached"), get_u(reply, "cache.dirty"));
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

int bento_cmd_status(int argc, char **argv)
{
	bool all = false, json = false;
	char sock[PATH_MAX], err_text[256];
	const char *mnt;
	char *reply;
	int err;

	mnt = parse(argc, argv, status_help, &all, &json);
	if (!mnt)
		return BENTO_EXIT_USAGE;
	if (find(mnt, sock, sizeof(sock)))
		return BENTO_EXIT_FAIL;
	err = bento_ctl_request(sock, "status", 5000, &reply);
	if (err) {
		bento_user_err("%s: daemon did not answer on %s: %s", mnt,
			       sock, strerror(-err));
		return BENTO_EXIT_FAIL;
	}
	if (get_u(reply, "result") != 0 || !strstr(reply, "result=0")) {
		bento_user_err("%s: %s", mnt,
			       get(reply, "error", err_text, sizeof(err_text)));
		free(reply);
		return BENTO_EXIT_FAIL;
	}
	if (json)
		print_json(reply);
	else
		print_human(reply, mnt, all);
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

int bento_cmd_umount(int argc, char **argv)
{
	char sock[PATH_MAX], text[256];
	const char *mnt;
	struct stat st;
	char *reply;
	int err;

	mnt = parse(argc, argv, umount_help, NULL, NULL);
	if (!mnt)
		return BENTO_EXIT_USAGE;

	/* A daemon that died leaves a dead mount: detach it, say so. */
	if (stat(mnt, &st) && errno == ENOTCONN) {
		if (umount2(mnt, MNT_DETACH) == 0)
			bento_user_err("%s: daemon gone; mount detached, nothing flushed",
				       mnt);
		else
			bento_user_err("%s: the daemon had died: %s", mnt,
				       strerror(errno));
		return BENTO_EXIT_FAIL;
	}
	if (find(mnt, sock, sizeof(sock)))
		return BENTO_EXIT_FAIL;

	err = bento_ctl_request(sock, "umount", -1, &reply);
	if (err) {
		bento_user_err("%s: daemon did not answer on %s: %s", mnt,
			       sock, strerror(-err));
		return BENTO_EXIT_FAIL;
	}
	/* The result comes just before the daemon exits: wait for that. */
	wait_exit((pid_t)get_u(reply, "pid"));
	if (!strstr(reply, "result=")) {
		bento_user_err("%s: the daemon exited without a final result",
			       mnt);
		err = -EIO;
	} else if (!strstr(reply, "result=0\n")) {
		bento_user_err("%s", get(reply, "error", text, sizeof(text)));
		err = -EIO;
	}
	free(reply);
	return err ? BENTO_EXIT_FAIL : BENTO_EXIT_OK;
}
