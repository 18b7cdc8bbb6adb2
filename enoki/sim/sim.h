/*
 * sim.h - the Enoki simulator as its users see it (the enoki command,
 * tests, benchmarks).
 *
 * A workload (a JSON file, workload.c) says what tasks exist and how they
 * behave; enoki_sim_create() builds a simulated machine of 1..256 CPUs
 * running that workload under one policy's native build; enoki_sim_run()
 * runs it to the end of the simulated duration or until the policy is
 * ejected; the report functions print what happened.  Everything is
 * deterministic for a given workload, policy and seed.  The model and what
 * it reproduces of sched_ext are described in core.c and docs/enoki-sim.md.
 *
 * Errors: 0 or -errno; messages for the user go to the @err buffers.
 */
#ifndef ENOKI_SIM_H
#define ENOKI_SIM_H

#include <stdio.h>

#include "../host/enoki_host.h"

struct enoki_workload;
struct enoki_sim;

/*
 * enoki_workload_load - parse the workload file @path.  On failure
 * returns -EINVAL (or -ENOENT/-EIO) with one line in @err naming the
 * file, the JSON path and the problem ("w.json: groups[1].count: must be
 * an integer 1..4096").  enoki_workload_parse does the same for text
 * already in memory (@name stands for the file in messages).
 */
int enoki_workload_load(const char *path, struct enoki_workload **out,
			char *err, size_t errlen);
int enoki_workload_parse(const char *text, const char *name,
			 struct enoki_workload **out, char *err,
			 size_t errlen);
void enoki_workload_free(struct enoki_workload *w);

struct enoki_sim_opts {
	u32 nr_cpus;		/* 0: the workload's */
	u64 duration_ns;	/* 0: the workload's */
	u64 seed;		/* with has_seed */
	bool has_seed;
	u64 timeout_ns;		/* watchdog; 0: workload's, policy's, 30 s */
	bool keep_intervals;	/* for trace/svg/tests */
	bool verbose;		/* enoki_printk to stderr */
	FILE *callback_log;	/* one line per callback, or NULL */
};

/* enoki_sim_create - a machine running @w under @policy (not owned).
 * Nothing runs until enoki_sim_run. */
int enoki_sim_create(const struct enoki_workload *w,
		     struct enoki_policy *policy,
		     const struct enoki_sim_opts *o, struct enoki_sim **out,
		     char *err, size_t errlen);
void enoki_sim_destroy(struct enoki_sim *s);

/* The host of @s, valid from create to destroy: a recorder wraps its
 * ops/invoke between create and run. */
struct enoki_host *enoki_sim_host(struct enoki_sim *s);

/*
 * enoki_sim_run - init the policy, run the workload, exit the policy.
 * 0 if the run completed; -ECANCELED if the policy was ejected (the
 * reason is in enoki_sim_host(s)->exit_reason); other -errno for
 * failures of the simulator itself.
 */
int enoki_sim_run(struct enoki_sim *s);

/* Reports.  Human-readable table, or one JSON object. */
void enoki_sim_report(struct enoki_sim *s, FILE *f, bool per_task);
int enoki_sim_report_json(struct enoki_sim *s, FILE *f);
/* Chrome/Perfetto JSON trace; SVG timeline of the first @svg_ns (0: all,
 * capped at 1 s). 0 or -errno. */
int enoki_sim_write_trace(struct enoki_sim *s, const char *path);
int enoki_sim_write_svg(struct enoki_sim *s, const char *path, u64 svg_ns);

/* ---- results, for tests and benchmarks ------------------------------------ */

struct enoki_sim_interval {
	u64 start, end;		/* ns */
	s32 cpu;
	s32 pid;
};

struct enoki_sim_task_stats {
	s32 pid;
	const char *group;
	u32 weight;
	u64 runtime_ns, wait_ns;
	u64 nr_wakeups, nr_runs;
	bool alive;
};

struct enoki_sim_group_stats {
	const char *name;
	u32 nr_tasks;		/* created over the run */
	u64 runtime_ns, wait_ns;
	u64 nr_wakeups;
	u64 wake_p50, wake_p99, wake_p999;	/* ns */
	u64 nr_requests;
	u64 req_p50, req_p99, req_p999;		/* ns */
	double jain;		/* of runtime/weight over live tasks */
	double spread;		/* max/min of runtime/weight */
};

u64 enoki_sim_events(const struct enoki_sim *s);
u64 enoki_sim_seed(const struct enoki_sim *s);	/* the seed in effect */
u64 enoki_sim_now(const struct enoki_sim *s);
double enoki_sim_wall_seconds(const struct enoki_sim *s);
const struct enoki_sim_interval *enoki_sim_intervals(const struct enoki_sim *s,
						      size_t *n);
/* Tasks that ever existed, in pid order (dead ones too). */
size_t enoki_sim_nr_tasks(const struct enoki_sim *s);
void enoki_sim_task_stats(const struct enoki_sim *s, size_t i,
			  struct enoki_sim_task_stats *out);
size_t enoki_sim_nr_groups(const struct enoki_sim *s);
void enoki_sim_group_stats(const struct enoki_sim *s, size_t i,
			   struct enoki_sim_group_stats *out);
/* Busy fraction of @cpu over the run. */
double enoki_sim_cpu_util(const struct enoki_sim *s, s32 cpu);
/* Notifications the policy sent (enoki_msg_send), all types. */
u64 enoki_sim_nr_notes(const struct enoki_sim *s);
/* How many times a task of @pid first ran on @cpu after a wakeup. */
u64 enoki_sim_wake_cpu_count(const struct enoki_sim *s, s32 pid, s32 cpu);

/* Simulator exit codes for the enoki command. */
#define ENOKI_EXIT_OK 0
#define ENOKI_EXIT_USAGE 1
#define ENOKI_EXIT_FAIL 2
#define ENOKI_EXIT_EJECTED 3

#endif /* ENOKI_SIM_H */
