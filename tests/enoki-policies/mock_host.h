/*
 * mock_host.h - a minimal stand-in for the Enoki host, for unit tests
 * that link a policy in and call its callbacks one by one.
 *
 * It implements every enoki_* call of <enoki/host/native.h> over a few
 * arrays: tasks are struct task_struct values the test fills in, queues
 * only count their tasks and remember the last insert, CPUs are idle or
 * not as the test says, and kicks, timers and messages sent are logged
 * for the test to inspect.  It is not a scheduler: the simulator is
 * (tests/enoki-policies.t).  Single-threaded; up to MOCK_MAX_CPUS CPUs.
 */
#ifndef MOCK_HOST_H
#define MOCK_HOST_H

#include <enoki/enoki.h>

#define MOCK_MAX_CPUS 64
#define MOCK_MAX_STORAGE 8
#define MOCK_MAX_MSGS 64
#define MOCK_MAX_KICKS 64

struct task_struct {
	s32 pid;
	u32 weight;
	s32 cpu;
	u64 allowed;		/* bit per CPU; 0 means all */
	u64 slice;
	u64 vtime;
	void *storage[MOCK_MAX_STORAGE];
};

struct mock_insert {
	struct task_struct *p;
	u64 dsq;
	u64 slice;
	u64 vtime;
	u64 flags;
	int n;			/* inserts so far */
};

struct mock_kick {
	s32 cpu;
	u64 flags;
};

struct mock_host {
	u32 nr_cpus;
	s32 this_cpu;
	u64 now;
	u64 idle;		/* bit per idle CPU */
	struct mock_insert last;
	struct mock_kick kicks[MOCK_MAX_KICKS];
	int nr_kicks;
	struct enoki_msg msgs[MOCK_MAX_MSGS];
	int nr_msgs;
	struct enoki_timer *timer;	/* last armed */
	u64 timer_delay;
	int nr_timer_starts;
	int errors;
	char error[256];
};

extern struct mock_host mock;

/* mock_reset - forget everything (storage included); @nr_cpus CPUs, all
 * busy. */
void mock_reset(u32 nr_cpus);
/* mock_task - a fresh task: @pid, weight 100, on CPU 0, all CPUs. */
void mock_task(struct task_struct *p, s32 pid);
/* mock_task_free - free @p's storage. */
void mock_task_free(struct task_struct *p);
/* mock_set_queued - set queue @dsq's task count. */
void mock_set_queued(u64 dsq, s32 n);
/* mock_clear_log - forget kicks, messages and the last insert. */
void mock_clear_log(void);

#endif /* MOCK_HOST_H */
