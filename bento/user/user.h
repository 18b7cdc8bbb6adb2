/*
 * user.h - the pieces of the `bento` command (the FUSE user host) and how
 * they meet.
 *
 *   main.c        command dispatch, `bento --help`, `bento --version`
 *   cmd_mount.c   `bento mount`: load, open, init, mount, serve, shut down
 *   fuse_ops.c    libfuse low-level requests -> struct bento_fs_ops calls
 *   commit.c      the commit thread: sync_fs every `commit=` seconds
 *   ctl.c         the control socket: server (in the daemon) and client
 *   cmd_client.c  `bento status`, `bento umount`, `bento upgrade`:
 *                 clients of ctl.c
 *   upgrade.c     live upgrade in the daemon: load, quiesce, prepare,
 *                 transfer, swap, resume; downtime statistics
 *   cmd_dev.c     `bento dev`: rebuild on save, upgrade the mount
 *
 * One mounted file system is one process (the daemon) holding one
 * struct bento_mount.  Its threads: the main thread runs the libfuse
 * loop, whose worker threads call the file system's ops; one control
 * thread serves the control socket and turns SIGTERM/SIGINT into an
 * unmount; one commit thread makes the file system durable every few
 * seconds.  Nothing here is shared between mounts.
 *
 * The op lock (bento_mount.op_lock) keeps whole-file-system events apart
 * from the ops: every FUSE request and every periodic commit runs under
 * its read side; destroy (and live upgrade, when it comes) takes the
 * write side, so none of them runs while the instance is torn down or
 * swapped (upgrade.c).  Readers never nest, and the lock prefers writers, so a
 * waiting upgrade is not starved by a stream of requests.
 */
#ifndef BENTO_USER_H
#define BENTO_USER_H

#define FUSE_USE_VERSION 312
#include <fuse_lowlevel.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <time.h>

#include "bento_host.h"

/* Exit codes, as mount(8)'s. */
#define BENTO_EXIT_OK 0
#define BENTO_EXIT_USAGE 1
#define BENTO_EXIT_SYSTEM 2
#define BENTO_EXIT_FAIL 32

#define BENTO_VERSION "0.1"

/* Where control sockets live: root's, and a user's own otherwise. */
#define BENTO_RUN_DIR "/run/bento"

struct bento_ctl;

/* Live upgrade statistics (upgrade.c); the control thread's alone. */
#define BENTO_UPGRADE_HISTORY 16	/* swaps remembered */
#define BENTO_UPGRADE_SAMPLES 65536	/* downtimes kept for the median */

struct bento_upgrade_swap {
	char from[160], to[160];	/* "xv6fs 1.0 (build 0123456789ab)" */
	uint64_t downtime_us;
	struct timespec when;		/* CLOCK_REALTIME */
};

struct bento_upgrade_stats {
	uint64_t done, failed;
	uint64_t last_us, min_us, max_us, last_drain_us;
	uint32_t *samples;		/* downtimes, a reservoir */
	size_t nsamples, cap;
	uint64_t rng;
	char last_error[512];
	struct bento_upgrade_swap history[BENTO_UPGRADE_HISTORY];
	uint64_t nhistory;		/* swaps ever; the ring holds the last */
};

/*
 * One mount, as the daemon keeps it.  Set up by cmd_mount.c before the
 * loop starts and read-only afterwards, except the fields marked.
 */
struct bento_mount {
	struct bento_loaded_module *lm;	/* serving; swapped by an upgrade
					 * (control thread, op lock held) */
	struct bento_instance *inst;
	struct fuse_session *se;
	struct bento_ctl *ctl;

	char mountpoint[PATH_MAX];	/* realpath */
	char device[PATH_MAX];		/* realpath */
	char fs_options[1024];		/* the fs's sb->options */
	char sock_path[PATH_MAX];
	struct timespec mount_time;	/* CLOCK_REALTIME */
	uid_t owner;			/* the mounting user */
	pid_t pid;			/* the daemon */

	double attr_timeout;		/* seconds the kernel may cache */
	double entry_timeout;
	bool read_only;
	bool debug;
	bool want_writeback;		/* -o writeback_cache */
	unsigned int commit_secs;	/* -o commit=N; 0: no commit thread */
	uint64_t cache_blocks;		/* the buffer cache's capacity */
	unsigned int max_threads;	/* 0: single-threaded (-s) */

	/* Ops: read side; destroy and upgrade: write side (see above). */
	pthread_rwlock_t op_lock;

	/* The commit thread (commit.c), NULL if there is none. */
	struct bento_commit *commit;

	/* Live upgrades so far (upgrade.c; control thread only). */
	struct bento_upgrade_stats upgrades;

	/* Set by the init request, read by request handlers after it. */
	bool apply_umask;		/* FUSE_CAP_DONT_MASK is on */
	bool writeback;			/* FUSE_CAP_WRITEBACK_CACHE on */
	unsigned int max_write;		/* what the kernel agreed to */
};

/* fuse_ops.c: the low-level ops table; its userdata is a bento_mount. */
extern const struct fuse_lowlevel_ops bento_fuse_ops;

/*
 * fuse_ops.c: bento_fuse_errno - a file system's return value as the
 * positive errno fuse_reply_err wants: negative errnos flip sign, anything
 * outside the errno range becomes EIO.  Exposed for the one other place
 * that replies to the kernel.
 */
int bento_fuse_errno(long err);

/* ---- commit thread (commit.c) ------------------------------------------ */

/*
 * bento_commit_start - start the thread that makes @m durable every
 * m->commit_secs seconds: the module's sync_fs(sb, 1), or, without one,
 * a write-back of the dirty buffers and a device flush.  Each commit
 * holds the read side of m->op_lock.  No thread for 0 seconds or a
 * read-only mount (m->commit stays NULL).  Returns 0 or a negative errno.
 */
int bento_commit_start(struct bento_mount *m);

/*
 * bento_commit_stop - stop and join the commit thread, waiting for a
 * commit in progress; call before destroy.  NULL-safe.
 */
void bento_commit_stop(struct bento_commit *c);

/*
 * bento_commit_stats - commits done and failed so far (for status).
 * NULL gives zeroes.
 */
void bento_commit_stats(struct bento_commit *c, uint64_t *done,
			uint64_t *failed);

/*
 * bento_sync_instance - make @m's file system durable now, as a commit
 * does: sync_fs(sb, 1), or the buffer cache and a device flush.  Caller
 * holds the read side of m->op_lock.  Returns 0 or a negative errno.
 */
int bento_sync_instance(struct bento_mount *m);

/* ---- control socket (ctl.c) ------------------------------------------- */

/* One line of /proc/self/mountinfo, the parts bento uses. */
struct bento_mountinfo {
	dev_t dev;			/* st_dev of the mount's root */
	char fstype[64];		/* "fuse.bento.xv6fs" */
	char source[PATH_MAX];		/* the device as mounted */
	long user_id;			/* FUSE's user_id= option, or -1 */
};

/*
 * bento_mountinfo_find - is @path (absolute, without symlinks) a mount
 * point?  Reads /proc/self/mountinfo and never touches the mount, so it
 * cannot hang on a stopped daemon.  Fills *@mi from the mount on top.
 * Returns 0, -ENOENT (not a mount point), or fopen's error.
 */
int bento_mountinfo_find(const char *path, struct bento_mountinfo *mi);

/*
 * bento_mountinfo_under - the mount holding @path (absolute): the mount
 * point that is the longest prefix of it.  Fills *@mi and its mount
 * point into @mnt (@size bytes).  Returns 0 or -ENOENT.
 */
int bento_mountinfo_under(const char *path, struct bento_mountinfo *mi,
			  char *mnt, size_t size);

/*
 * bento_ctl_dir - the directory holding control sockets for a caller of
 * uid @uid: BENTO_RUN_DIR for root, else $XDG_RUNTIME_DIR/bento or
 * /tmp/bento-UID.  Writes it into @buf (@size bytes).  Returns 0 or
 * -ENAMETOOLONG.
 */
int bento_ctl_dir(uid_t uid, char *buf, size_t size);

/*
 * bento_ctl_sock_name - the socket file name for a mount whose root has
 * device number @dev: "MAJOR:MINOR.sock".
 */
void bento_ctl_sock_name(dev_t dev, char *buf, size_t size);

/*
 * bento_ctl_listen - create the directory and the listening socket for
 * @m (m->sock_path is set from the mount's device number, found in
 * /proc/self/mountinfo without touching the mount).  Call before any
 * thread starts or a fork; bento_ctl_start starts serving.  Returns 0 or
 * a negative errno (logged).
 */
int bento_ctl_listen(struct bento_mount *m);

/*
 * bento_ctl_start - start the control thread: it serves the socket and
 * unmounts on SIGTERM/SIGINT/SIGHUP (which it blocks in every other
 * thread from now on).  Returns 0 or a negative errno.
 */
int bento_ctl_start(struct bento_mount *m);

/*
 * bento_ctl_flushing - the loop has ended: from now on status reports
 * only what the mount knows (the instance and module are going away).
 * Waits for a status answer in progress.  NULL-safe.
 */
void bento_ctl_flushing(struct bento_ctl *ctl);

/*
 * bento_ctl_finish - the loop has ended and the instance is unmounted
 * with result @err: stop the thread, remove the socket, tell every
 * `bento umount` waiting on it, and free.  Needs the bento_mount still
 * alive.  NULL-safe.
 */
void bento_ctl_finish(struct bento_ctl *ctl, int err);

/*
 * bento_ctl_sock_for - the control socket of the Bento mount @mi, by its
 * device number, in root's directory, the caller's, or the mounting
 * user's (mi->user_id).  Writes its path into @buf.  Touches nothing on
 * the mount.  Returns 0, or -ENOENT (no socket: the daemon is gone, or
 * its directory is unknown).
 */
int bento_ctl_sock_for(const struct bento_mountinfo *mi, char *buf,
		       size_t size);

/*
 * bento_ctl_scan - the socket of a daemon serving mount point @mnt, found
 * by asking every socket in those directories (this finds a daemon still
 * flushing after its mount went away).  Returns 0 or -ENOENT.
 */
int bento_ctl_scan(const char *mnt, char *buf, size_t size);

/*
 * bento_ctl_request - send command line @cmd (no newline) to the socket
 * at @path and read the whole reply (the server closes the connection
 * after it) into a malloc'd NUL-terminated string *@reply.  @timeout_ms:
 * how long the whole exchange may take, -1 for ever; it never blocks
 * longer (a stopped daemon cannot hang it).  Returns 0, -ETIMEDOUT (then
 * *@reply holds what came so far; free it), or another negative errno
 * (-ECONNREFUSED: no daemon behind the socket; *@reply NULL).
 */
int bento_ctl_request(const char *path, const char *cmd, int timeout_ms,
		      char **reply);

/*
 * bento_ctl_reply_get - the value of "@key=" in reply text @reply, copied
 * into @buf.  Returns 0 or -ENOENT.
 */
int bento_ctl_reply_get(const char *reply, const char *key, char *buf,
			size_t size);

/* ---- live upgrade (upgrade.c) ---------------------------------------- */

/* What one upgrade did, for the control socket's answer. */
struct bento_upgrade_report {
	char from[160], to[160];	/* bento_upgrade_describe */
	char serving[128];		/* "xv6fs 1.0": serves on failure */
	char error[1024];		/* the reason, on failure */
	uint64_t downtime_us;		/* write side held */
	uint64_t drain_us;		/* waiting for in-flight ops */
	uint64_t prepare_us;		/* of downtime_us: prepare */
	uint64_t transfer_us;		/* the rest: transfer, swap */
	uint32_t state_version;		/* of the record prepare wrote */
};

/*
 * bento_upgrade - replace the build serving @m by the module at @path
 * (absolute): load it beside the old one, refuse it if it cannot take
 * over (another file system, no transfer, no prepare in the old one),
 * then quiesce, prepare, transfer, swap and resume (see upgrade.c).
 * Fills *@rep; records statistics in m->upgrades.  Returns 0, or a
 * negative errno with rep->error saying why; the old build then serves
 * on, as before.  Call from the control thread holding nothing but the
 * control lock (the caller keeps the unmount out).
 */
int bento_upgrade(struct bento_mount *m, const char *path,
		  struct bento_upgrade_report *rep);

/* bento_upgrade_describe - "NAME VERSION (build 12 HEX)" of @lm. */
void bento_upgrade_describe(const struct bento_loaded_module *lm, char *buf,
			    size_t size);

/* bento_upgrade_median - median downtime in us of @s (0 if none). */
uint64_t bento_upgrade_median(const struct bento_upgrade_stats *s);

/* bento_upgrade_free_stats - free the samples (at daemon exit). */
void bento_upgrade_free_stats(struct bento_upgrade_stats *s);

/*
 * bento_mountinfo_bento - the mount points of every Bento mount in
 * /proc/self/mountinfo, in mount order: a malloc'd array of @*n
 * malloc'd strings (free with bento_mountinfo_free_list).  0 or -errno.
 */
int bento_mountinfo_bento(char ***list, size_t *n);
void bento_mountinfo_free_list(char **list, size_t n);

/* ---- commands ------------------------------------------------------------ */

int bento_cmd_mount(int argc, char **argv);
int bento_cmd_upgrade(int argc, char **argv);
int bento_cmd_umount(int argc, char **argv);
int bento_cmd_status(int argc, char **argv);
int bento_cmd_dev(int argc, char **argv);
int bento_cmd_prov(int argc, char **argv);

/* main.c: print "bento: MESSAGE" on stderr, one line. */
void bento_user_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif /* BENTO_USER_H */
