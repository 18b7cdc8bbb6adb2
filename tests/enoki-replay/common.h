/*
 * tests/enoki-replay/common.h - helpers of the replay tests: a toy engine
 * that drives a policy with seeded random callbacks and answers its
 * queries with seeded random (but plausible) values, so that logs can be
 * recorded without the simulator, and small process and file helpers.
 */
#ifndef ENOKI_REPLAY_TEST_COMMON_H
#define ENOKI_REPLAY_TEST_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "../../enoki/host/enoki_host.h"

struct toy_opts {
	const char *policy;		/* path of a policy .so */
	const char *record;		/* log to write, NULL: none */
	uint32_t nr_cpus;
	uint32_t nr_tasks;
	uint64_t steps;			/* random callbacks */
	uint64_t seed;
};

/*
 * toy_run - load @o->policy, run init, @o->steps random callbacks (with
 * task exits and forks, messages, timers), then exit, recording into
 * @o->record if set.  Returns 0 or -errno (message on stderr).
 */
int toy_run(const struct toy_opts *o);

/*
 * in_child - run @fn(@arg) in a forked child (a policy's globals start
 * fresh in each) and return its exit status, or -1 if it died.
 */
int in_child(int (*fn)(void *arg), void *arg);

/* The build directory's tests/enoki-replay (where the test .so files
 * are), from /proc/self/exe. */
const char *test_dir(void);

/* A fresh temporary file path under $TMPDIR (static buffer). */
const char *tmp_path(const char *name);

/* Read all of @path into a malloc'd buffer; size in *@len. */
uint8_t *read_file(const char *path, size_t *len);
/* Write @len bytes to @path; 0 or -errno. */
int write_file(const char *path, const void *buf, size_t len);

#endif
