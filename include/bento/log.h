/*
 * bento/log.h - logging, the corruption hook and assertions.
 *
 * One logging family for all hosts: pr_* in the kernel, stderr (and
 * syslog when the daemon runs in the background) in userspace.  A file
 * names its subsystem by defining BENTO_LOG_SUBSYS before including this
 * header; every message is printed as "SUBSYS: message".  Messages are
 * one line, without a trailing newline, and say what happened to what:
 *
 *	bento_err("inode %llu: bad block %llu in indirect block", ...);
 *
 * Debug messages are compiled in but printed only when asked for (the
 * host's -d / debug option).
 */
#ifndef BENTO_LOG_H
#define BENTO_LOG_H

#include <bento/types.h>

struct bento_sb;

enum bento_log_level {
	BENTO_LOG_ERR = 3,
	BENTO_LOG_WARN = 4,
	BENTO_LOG_INFO = 6,
	BENTO_LOG_DEBUG = 7,
};

#ifndef BENTO_LOG_SUBSYS
#define BENTO_LOG_SUBSYS "bento"
#endif

/* bento_log - print one message at @level; below the host's level: no-op. */
void bento_log(int level, const char *subsys, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define bento_err(...) bento_log(BENTO_LOG_ERR, BENTO_LOG_SUBSYS, __VA_ARGS__)
#define bento_warn(...) bento_log(BENTO_LOG_WARN, BENTO_LOG_SUBSYS, __VA_ARGS__)
#define bento_info(...) bento_log(BENTO_LOG_INFO, BENTO_LOG_SUBSYS, __VA_ARGS__)
#define bento_debug(...) \
	bento_log(BENTO_LOG_DEBUG, BENTO_LOG_SUBSYS, __VA_ARGS__)

/*
 * bento_fs_corrupt - report corrupt on-disk data, once, and return @err.
 *
 * Logs one error line "SUBSYS: message" and counts the event in the
 * superblock's error counter (shown by `bento status`).  @err is returned
 * unchanged so a caller can write
 *
 *	return bento_fs_corrupt(sb, -EUCLEAN, "inode %llu: ...", ino);
 *
 * Use -EUCLEAN for structures that fail validation and -EIO where the
 * device failed.  Never call it for an expected error (ENOENT, ENOSPC).
 */
int bento_fs_corrupt(struct bento_sb *sb, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * BENTO_ASSERT - a broken internal invariant of the file system or the
 * framework, never a condition bad input can cause.  Aborts in userspace
 * (so the tests and sanitizers catch it), WARNs in the kernel.
 */
void bento_assert_fail(const char *expr, const char *file, int line);
#define BENTO_ASSERT(expr) \
	((expr) ? (void)0 : bento_assert_fail(#expr, __FILE__, __LINE__))

#endif /* BENTO_LOG_H */
