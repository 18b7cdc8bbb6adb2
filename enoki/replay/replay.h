/*
 * enoki/replay/replay.h - replaying a log against a policy's native build.
 *
 * The replay engine is a host (enoki/host/enoki_host.h) whose answers
 * come from a log: for each recorded callback it calls the policy with
 * the recorded arguments, answers the policy's queries (now, idle CPUs,
 * queue lengths, ...) with the recorded values, and checks every action
 * the policy takes (inserts, kicks, moves, slices, messages, errors) and
 * every return value against the log.  The first difference stops the
 * replay with a report: event number, time, CPU, callback, recorded
 * versus done, and the events before it.
 *
 * `enoki replay` (tools/enoki) calls enoki_replay_main(); tests call
 * enoki_replay_run() with a linked-in policy.
 */
#ifndef ENOKI_REPLAY_H
#define ENOKI_REPLAY_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct enoki_policy;

/* Exit codes of enoki_replay_main(). */
enum {
	ENOKI_REPLAY_OK = 0,		/* every decision matched */
	ENOKI_REPLAY_USAGE = 1,		/* bad command line */
	ENOKI_REPLAY_ERROR = 2,		/* bad log, policy would not load */
	ENOKI_REPLAY_DIVERGED = 3,	/* the policy decided differently */
};

struct enoki_replay_opts {
	const char *log_path;
	struct enoki_policy *policy;	/* loaded or linked in */
	unsigned int context;		/* events shown before a divergence */
	bool quiet;			/* no success line */
	bool verbose;			/* the policy's printk to @out */
	FILE *out;			/* reports; stdout if NULL */
	FILE *err;			/* errors; stderr if NULL */
};

struct enoki_replay_result {
	uint64_t events;		/* events replayed (read and matched) */
	uint64_t callbacks;
	bool diverged;
	uint64_t diverged_at;		/* sequence number of the event */
	double seconds;			/* wall time of the replay loop */
};

/*
 * enoki_replay_run - replay @o->log_path against @o->policy, writing the
 * outcome to @o->out (success line or divergence report) and errors to
 * @o->err.  Fills *@res.  Returns ENOKI_REPLAY_OK, _ERROR or _DIVERGED.
 * Uses the process-wide active host (enoki_host_set) while it runs.
 */
int enoki_replay_run(const struct enoki_replay_opts *o,
		     struct enoki_replay_result *res);

/*
 * enoki_replay_main - `enoki replay [options] LOG POLICY`; argv[0] is
 * "replay".  POLICY is a name looked up as @sched_dir/NAME.so, or a path.
 * Returns one of the exit codes above.
 */
int enoki_replay_main(int argc, char **argv, const char *sched_dir);

#endif /* ENOKI_REPLAY_H */
