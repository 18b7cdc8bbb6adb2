/*
 * log.c - logging, the corruption hook and assertions in userspace.
 *
 * A message is formatted into one line "SUBSYS: message\n" on the stack
 * and written with a single write(2) to stderr, so lines from different
 * threads never interleave (a write to a pipe or terminal of under
 * PIPE_BUF bytes is atomic; longer messages are cut at LOG_LINE_MAX and
 * end in "...").  With bento_log_use_syslog(true) messages go to syslog
 * (facility daemon) instead, at the matching priority: the BENTO_LOG_*
 * numbers are syslog's.
 *
 * Messages above the current level (default BENTO_LOG_INFO) are dropped
 * before formatting, so debug calls cost one atomic load.
 *
 * bento_fs_corrupt prefixes its line with the instance's log_name (the
 * file system's name) and counts the event in the instance's error
 * counter; sb or sb->host may be NULL (tools without an instance), then
 * the prefix is "bento" and nothing is counted.
 *
 * Capture: a host about to call something that may explain its own
 * failure (opening a device, a file system's init) can hold the error
 * lines of the calling thread instead of printing them
 * (bento_log_capture_start/_stop), and then print one line that says
 * both what failed and why: "bento: IMG: xv6fs: not an xv6fs image",
 * not a module's line followed by a host's contradicting summary.  Only
 * BENTO_LOG_ERR messages of that thread are held (the first one kept
 * whole, the others counted and printed only at debug level); other
 * levels and threads print as usual.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <syslog.h>
#include <unistd.h>

#include "bento_host.h"

#define LOG_LINE_MAX 1024

static int log_level = BENTO_LOG_INFO;	/* atomic */
static bool log_syslog;			/* atomic */

/* The calling thread's capture, if one is running. */
static __thread char *cap_buf;
static __thread size_t cap_size;
static __thread unsigned int cap_count;

void bento_log_capture_start(char *buf, size_t size)
{
	cap_buf = size ? buf : NULL;
	cap_size = size;
	cap_count = 0;
	if (cap_buf)
		cap_buf[0] = '\0';
}

unsigned int bento_log_capture_stop(void)
{
	unsigned int n = cap_count;

	cap_buf = NULL;
	cap_size = 0;
	cap_count = 0;
	return n;
}

void bento_log_set_level(int level)
{
	__atomic_store_n(&log_level, level, __ATOMIC_RELAXED);
}

void bento_log_use_syslog(bool on)
{
	if (on)
		openlog("bento", LOG_PID | LOG_NDELAY, LOG_DAEMON);
	__atomic_store_n(&log_syslog, on, __ATOMIC_RELAXED);
}

static bool log_enabled(int level)
{
	return level <= __atomic_load_n(&log_level, __ATOMIC_RELAXED);
}

/* Write all of @buf to stderr, retrying short writes and EINTR. */
static void log_write(const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(STDERR_FILENO, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		buf += n;
		len -= (size_t)n;
	}
}

/*
 * Does the calling thread's capture take @line?  The first error line is
 * kept, later ones are counted and printed only at debug level.
 */
static bool log_hold(int level, const char *line)
{
	if (!cap_buf || level > BENTO_LOG_ERR)
		return false;
	if (cap_count++ == 0) {
		snprintf(cap_buf, cap_size, "%s", line);
		return true;
	}
	return !log_enabled(BENTO_LOG_DEBUG);
}

static void log_vemit(int level, const char *subsys, const char *fmt,
		      va_list ap)
{
	char line[LOG_LINE_MAX + 2];
	int saved_errno = errno;
	int head, n;
	size_t len;

	/* "SUBSYS: message", cut to LOG_LINE_MAX bytes. */
	head = snprintf(line, LOG_LINE_MAX, "%s: ", subsys ? subsys : "?");
	if (head < 0 || head >= LOG_LINE_MAX)
		head = 0;
	n = vsnprintf(line + head, LOG_LINE_MAX - (size_t)head, fmt, ap);
	if (n < 0)
		n = 0;
	len = (size_t)head + (size_t)n;
	if (len >= LOG_LINE_MAX) {
		len = LOG_LINE_MAX - 1;
		memcpy(line + len - 3, "...", 3);
	}

	line[len] = '\0';
	if (log_hold(level, line)) {
		/* held by the capture */
	} else if (__atomic_load_n(&log_syslog, __ATOMIC_RELAXED)) {
		syslog(level, "%s", line);
	} else {
		line[len++] = '\n';
		log_write(line, len);
	}
	errno = saved_errno;
}

void bento_log(int level, const char *subsys, const char *fmt, ...)
{
	va_list ap;

	if (!log_enabled(level))
		return;
	va_start(ap, fmt);
	log_vemit(level, subsys, fmt, ap);
	va_end(ap);
}

int bento_fs_corrupt(struct bento_sb *sb, int err, const char *fmt, ...)
{
	struct bento_instance *inst = sb ? sb->host : NULL;
	const char *name = "bento";
	va_list ap;

	if (inst) {
		__atomic_fetch_add(&inst->errors, 1, __ATOMIC_RELAXED);
		if (inst->log_name)
			name = inst->log_name;
	}
	if (log_enabled(BENTO_LOG_ERR)) {
		va_start(ap, fmt);
		log_vemit(BENTO_LOG_ERR, name, fmt, ap);
		va_end(ap);
	}
	return err;
}

/* Emit regardless of the level: for assertions, which must be seen. */
static void log_emit(int level, const char *subsys, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void log_emit(int level, const char *subsys, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vemit(level, subsys, fmt, ap);
	va_end(ap);
}

void bento_assert_fail(const char *expr, const char *file, int line)
{
	bento_log_capture_stop();	/* an assertion is never held */
	log_emit(BENTO_LOG_ERR, "bento", "assertion failed: %s at %s:%d",
		 expr, file, line);
	abort();
}
