/*
 * sim_int.h - the simulator's internals, shared by its files:
 *
 *   workload.c  the JSON workload file -> struct enoki_workload
 *   core.c      machine, events, sched_ext semantics, host ops
 *   behave.c    what tasks do: bursts, sleeps, requests, ping-pong, forks
 *   report.c    statistics, tables, JSON, Chrome trace, SVG
 *   rng.c       xoshiro256** seeded by splitmix64
 */
#ifndef ENOKI_SIM_INT_H
#define ENOKI_SIM_INT_H

#include "sim.h"

#define SIM_MAX_GROUPS 64
#define SIM_MAX_MSGS 4096
#define SIM_NAME_LEN 32
#define SIM_TICK_NS 1000000ULL		/* HZ = 1000 */
#define SIM_FOREVER (~0ULL)
#define SIM_OPS_ENQ_LAST (1ULL << 1)	/* SCX_OPS_ENQ_LAST */
#define SIM_DSP_MAX_BATCH 32		/* scx dispatch buffer */
#define SIM_DSP_MAX_LOOPS 32

/* ---- the workload ------------------------------------------------------- */

enum sim_kind { SIM_HOG, SIM_SLEEPER, SIM_SERVER, SIM_PINGPONG, SIM_CHURN };
enum sim_dist_kind { SIM_DIST_FIXED, SIM_DIST_EXP, SIM_DIST_BIMODAL };

struct sim_dist {
	enum sim_dist_kind kind;
	u64 a_ns;		/* fixed value, exp mean, bimodal short */
	u64 b_ns;		/* bimodal long */
	double mix;		/* bimodal: fraction that is long */
};

struct sim_hint {
	bool set;
	bool on_wake;		/* else once, at creation */
	u32 type;
	u32 nr_args;		/* per-task argument vectors (cycled) */
	u64 (*args)[4];
};

struct sim_group_spec {
	char name[SIM_NAME_LEN];
	enum sim_kind kind;
	u32 count;		/* tasks; server workers; pairs; spawners */
	int nice;
	struct cpumask allowed;
	u64 start_ns;
	u64 run_ns;		/* sleeper/pingpong burst; churn child life */
	u64 sleep_ns;		/* sleeper sleep; churn fork period */
	double rate;		/* server: requests per ns, or */
	double load;		/* server: offered load per group CPU */
	struct sim_dist service;
	struct sim_hint hint;
	u64 renice_at_ns;	/* 0: never */
	int renice_to;
};

struct sim_msg_spec {
	u64 at_ns;
	u32 type;
	int group, index;	/* the task it names, group -1: pid 0 */
	u64 arg[4];
};

struct enoki_workload {
	char file[256];
	u32 nr_cpus;
	u64 duration_ns;
	u64 seed;
	u64 timeout_ns;
	u32 nr_groups;
	struct sim_group_spec groups[SIM_MAX_GROUPS];
	u32 nr_msgs;
	struct sim_msg_spec msgs[SIM_MAX_MSGS];
};

/* ---- the machine -------------------------------------------------------- */

struct sim_task;

struct sim_dsq {
	u64 id;
	struct sim_task *head, *tail;
	u32 nr;
	bool priq;		/* vtime ordered (once used so) */
	s32 cpu;		/* local DSQ's CPU, else -1 */
	bool used;		/* custom table slot in use */
	bool tomb;		/* destroyed: skipped, never reused */
};

enum sim_task_state { SIM_T_NEW, SIM_T_SLEEPING, SIM_T_RUNNABLE,
		      SIM_T_RUNNING, SIM_T_DEAD };

struct sim_task {
	struct task_struct t;		/* first: policies see &t */
	struct sim_group *g;
	u32 gidx;			/* index within its group */
	enum sim_task_state state;
	u32 weight;
	int nice;
	struct cpumask allowed;
	s32 nr_allowed;
	s32 cpu;			/* task_cpu: current or last rq */
	u64 slice, vtime;

	struct sim_dsq *dsq;		/* queued on, or NULL */
	struct sim_task *qprev, *qnext;
	bool in_bpf;			/* enqueued, held by the policy */
	bool custody;			/* in the policy's custody: held, or
					 * in a user DSQ; owes ops.dequeue */
	struct sim_task *deq_next;	/* pending ops.dequeue(p, 0) */
	bool ddsp;			/* direct dispatch pending */
	bool ddsp_vtime;
	u64 ddsp_id, ddsp_slice, ddsp_vtime_val, ddsp_flags;

	u64 remaining;			/* ns left in the burst */
	struct sim_task *peer;		/* ping-pong partner */
	bool child;			/* churn: a forked child */
	u64 req_arrival;		/* server: request being served */
	bool lat_pending;		/* woken, not yet run */

	u64 runtime, wait, runnable_since, woke_at;
	u64 nr_wakeups, nr_runs;
	u32 *wake_cpu;			/* first-run CPU after wakeups */
};

struct sim_hist {
	u64 n;
	u64 *b;				/* SIM_HIST_BUCKETS */
};
#define SIM_HIST_SUB 64
#define SIM_HIST_BUCKETS (64 * SIM_HIST_SUB)

struct sim_group {
	const struct sim_group_spec *spec;
	u32 nr_created;
	u64 dead_runtime, dead_wait, dead_wakeups;
	struct sim_hist wake_lat, req_lat;
	u64 nr_requests;
	/* server: pending request arrival times (ring) and idle workers */
	u64 *req_q;
	u32 req_cap, req_head, req_n;
	struct sim_task **idle_w;
	u32 nr_idle_w;
	u64 req_dropped;
	double rate;			/* arrivals per ns */
};

struct sim_cpu {
	s32 id;
	struct sim_task *curr;
	struct sim_dsq local;
	bool idle_bit;			/* in the idle mask */
	bool tick_armed;
	bool resched;			/* in the resched ring */
	u32 burst_gen;
	u64 last_update;		/* update_curr */
	u64 busy_ns;
	u64 run_start;			/* interval of curr */
};

enum sim_ev_kind {
	EV_WAKE = 1, EV_BURST_END, EV_TICK, EV_TIMER, EV_MSG, EV_ARRIVAL,
	EV_WATCHDOG, EV_RENICE, EV_START,
};

struct sim_ev {
	u64 time;
	u64 seq;
	u32 kind;
	u32 a;
	u32 gen;
	void *p;
};

struct sim_timer {
	struct enoki_timer *t;
	u32 gen;
	s32 cpu;
};

enum sim_ctx { CTX_NONE, CTX_SELECT_CPU, CTX_ENQUEUE, CTX_DISPATCH,
	       CTX_OTHER };

struct sim_note {
	u64 time;
	struct enoki_msg m;
};

struct enoki_sim {
	struct enoki_host host;
	const struct enoki_workload *w;
	struct enoki_sim_opts o;
	u32 nr_cpus;
	u64 duration, timeout;
	u64 rng[4];

	u64 now;
	struct sim_ev *heap;
	size_t heap_n, heap_cap;
	u64 seq;
	u64 nr_events;

	struct sim_cpu *cpus;
	struct sim_dsq global;
	struct sim_dsq *custom;		/* open-addressed table */
	u32 custom_cap, nr_custom;
	s32 *resched_ring;
	u32 rs_head, rs_n;
	u32 idle_cursor;

	struct sim_task **tasks;	/* by pid - 1 */
	size_t nr_tasks, tasks_cap;
	struct sim_group groups[SIM_MAX_GROUPS];

	enum sim_ctx ctx;
	s32 cur_cpu;
	struct sim_task *ctx_task;
	u32 nr_dsp;			/* inserts in this dispatch call */
	struct sim_task *deq_first, *deq_last;	/* left custody during
						 * ops.dispatch */

	struct sim_timer *timers;
	u32 nr_timers;

	struct sim_note *notes;
	size_t nr_notes, notes_cap;
	u64 notes_by_type[16];		/* types >= 15 counted in [15] */
	u64 nr_printk;

	struct enoki_sim_interval *iv;
	size_t nr_iv, iv_cap;
	bool iv_truncated;

	double wall;
	bool ran;
};

/* core.c */
void sim_push(struct enoki_sim *s, u64 time, u32 kind, u32 a, u32 gen,
	      void *p);
void sim_wake(struct enoki_sim *s, struct sim_task *p, s32 waker_cpu,
	      u64 wake_flags);
struct sim_task *sim_task_new(struct enoki_sim *s, struct sim_group *g,
			      u32 gidx, s32 parent_cpu, bool fork);
void sim_deliver_msg(struct enoki_sim *s, s32 cpu, const struct enoki_msg *m);
/* A property change (set_user_nice): the kernel's sched_change cycle
 * around ops.set_weight for a queued task (core.c). */
void sim_set_weight(struct enoki_sim *s, struct sim_task *p, u32 weight);

/* behave.c */
void sim_behave_start(struct enoki_sim *s);
/* The running task @p on @cpu finished its burst: give it another
 * (return true) or make it block/exit (state set; return false). */
bool sim_behave_burst_done(struct enoki_sim *s, struct sim_task *p, s32 cpu);
void sim_behave_event(struct enoki_sim *s, struct sim_ev *e);
void sim_behave_blocked(struct enoki_sim *s, struct sim_task *p, s32 cpu);

/* rng.c */
void sim_rng_seed(u64 st[4], u64 seed);
u64 sim_rng_next(u64 st[4]);
double sim_rng_unit(u64 st[4]);		/* [0, 1) */
u64 sim_rng_exp(u64 st[4], double mean);	/* ns, >= 1 */
u64 sim_dist_draw(u64 st[4], const struct sim_dist *d);
double sim_dist_mean(const struct sim_dist *d);

/* report.c */
void sim_hist_add(struct sim_hist *h, u64 v);
u64 sim_hist_pct(const struct sim_hist *h, double pct);
int sim_iv_add(struct enoki_sim *s, s32 cpu, s32 pid, u64 start, u64 end);

u32 sim_nice_weight(int nice);

#endif /* ENOKI_SIM_INT_H */
