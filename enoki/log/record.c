/*
 * enoki/log/record.c - the recorder: enoki_host choke points into a log.
 *
 * record_invoke() replaces h->invoke: it logs the callback's entry (kind,
 * arguments; tasks as pids), remembers the CPU and time for the calls the
 * policy makes during it, forwards to the saved invoke, and logs the
 * return value.  rec_ops replaces h->ops: each entry logs the call with
 * its arguments and the engine's answer, and forwards to the saved
 * engine table.  Calls replay can answer itself (pid, CPU count, this
 * CPU, cpumask tests) and printk pass straight through.
 *
 * A write error is remembered by the writer; recording stops logging
 * from then on and enoki_record_stop() reports it.
 *
 * Locks are not engine calls (the host layer serves them), but their
 * order is recorded through the host's lock hook (h->lock): each take and
 * release becomes a lock/unlock event naming the lock by the order of its
 * first use (0, 1, ...), since addresses differ from run to run.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "record.h"

struct recorder {
	struct enoki_log_writer *w;
	const struct enoki_host_ops *eng;	/* the engine's table */
	s64 (*invoke)(struct enoki_host *h, struct enoki_call *c);
	void (*lock)(struct enoki_host *h, struct enoki_lock *l, bool take);
	u32 cpu;				/* of the running callback */
	u64 time;
	struct enoki_lock **locks;		/* by id: order of first use */
	u32 nr_locks, cap_locks;
};

static const u8 cb_kind[ENOKI_CALL_NR] = {
	[ENOKI_CALL_SELECT_CPU] = ENOKI_EV_SELECT_CPU,
	[ENOKI_CALL_ENQUEUE] = ENOKI_EV_ENQUEUE,
	[ENOKI_CALL_DEQUEUE] = ENOKI_EV_DEQUEUE,
	[ENOKI_CALL_DISPATCH] = ENOKI_EV_DISPATCH,
	[ENOKI_CALL_RUNNABLE] = ENOKI_EV_RUNNABLE,
	[ENOKI_CALL_RUNNING] = ENOKI_EV_RUNNING,
	[ENOKI_CALL_STOPPING] = ENOKI_EV_STOPPING,
	[ENOKI_CALL_QUIESCENT] = ENOKI_EV_QUIESCENT,
	[ENOKI_CALL_TICK] = ENOKI_EV_TICK,
	[ENOKI_CALL_SET_WEIGHT] = ENOKI_EV_SET_WEIGHT,
	[ENOKI_CALL_SET_CPUMASK] = ENOKI_EV_SET_CPUMASK,
	[ENOKI_CALL_INIT_TASK] = ENOKI_EV_INIT_TASK,
	[ENOKI_CALL_EXIT_TASK] = ENOKI_EV_EXIT_TASK,
	[ENOKI_CALL_INIT] = ENOKI_EV_INIT,
	[ENOKI_CALL_EXIT] = ENOKI_EV_EXIT,
	[ENOKI_CALL_CPU_ONLINE] = ENOKI_EV_CPU_ONLINE,
	[ENOKI_CALL_CPU_OFFLINE] = ENOKI_EV_CPU_OFFLINE,
	[ENOKI_CALL_MSG] = ENOKI_EV_MSG,
	[ENOKI_CALL_TIMER] = ENOKI_EV_TIMER,
};

static inline struct recorder *rec_of(struct enoki_host *h)
{
	return h->rec;
}

static inline u64 pid_of(const struct task_struct *p)
{
	return p ? (u64)(s64)p->pid : ENOKI_LOG_NO_TASK;
}

static inline void rec(struct enoki_host *h, u8 kind, unsigned int n,
		       const u64 *args)
{
	struct recorder *r = rec_of(h);

	enoki_log_append(r->w, kind, r->cpu, r->time, n, args);
}

/* ---- callbacks ----------------------------------------------------------- */

/* The entry event's arguments for @c into @a; returns how many. */
static unsigned int entry_args(struct enoki_host *h,
			       const struct enoki_call *c, u64 *a)
{
	unsigned int i, words;

	switch (c->cb) {
	case ENOKI_CALL_SELECT_CPU:
		a[0] = pid_of(c->p);
		a[1] = (u64)(s64)c->arg_cpu;
		a[2] = c->flags;
		return 3;
	case ENOKI_CALL_ENQUEUE:
	case ENOKI_CALL_DEQUEUE:
	case ENOKI_CALL_RUNNABLE:
	case ENOKI_CALL_QUIESCENT:
		a[0] = pid_of(c->p);
		a[1] = c->flags;
		return 2;
	case ENOKI_CALL_DISPATCH:
		a[0] = (u64)(s64)c->arg_cpu;
		a[1] = pid_of(c->p);
		return 2;
	case ENOKI_CALL_RUNNING:
	case ENOKI_CALL_TICK:
		a[0] = pid_of(c->p);
		return 1;
	case ENOKI_CALL_STOPPING:
		a[0] = pid_of(c->p);
		a[1] = c->runnable;
		return 2;
	case ENOKI_CALL_SET_WEIGHT:
		a[0] = pid_of(c->p);
		a[1] = c->weight;
		return 2;
	case ENOKI_CALL_SET_CPUMASK:
		a[0] = pid_of(c->p);
		words = (h->nr_cpus + 63) / 64;
		for (i = 0; i < words; i++)
			a[1 + i] = c->mask ? c->mask->bits[i] : 0;
		return 1 + words;
	case ENOKI_CALL_INIT_TASK:
		a[0] = pid_of(c->p);
		a[1] = c->init_args ? c->init_args->fork : 0;
		return 2;
	case ENOKI_CALL_EXIT_TASK:
		a[0] = pid_of(c->p);
		a[1] = c->exit_args ? c->exit_args->cancelled : 0;
		return 2;
	case ENOKI_CALL_CPU_ONLINE:
	case ENOKI_CALL_CPU_OFFLINE:
		a[0] = (u64)(s64)c->arg_cpu;
		return 1;
	case ENOKI_CALL_MSG:
		a[0] = c->msg ? c->msg->type : 0;
		a[1] = c->msg ? c->msg->pid : 0;
		for (i = 0; i < 4; i++)
			a[2 + i] = c->msg ? c->msg->arg[i] : 0;
		return 6;
	case ENOKI_CALL_TIMER:
		a[0] = enoki_log_name_hash(c->timer ? c->timer->name : NULL);
		return 1;
	default:
		return 0;
	}
}

static s64 record_invoke(struct enoki_host *h, struct enoki_call *c)
{
	struct recorder *r = rec_of(h);
	u64 a[ENOKI_LOG_MAX_ARGS];
	u32 saved_cpu = r->cpu;
	u64 saved_time = r->time, ret;
	unsigned int n;

	/* an ejected policy gets no calls but exit, and absent callbacks
	 * are never called: nothing to log */
	if ((h->ejected && c->cb != ENOKI_CALL_EXIT) || c->cb <= 0 ||
	    c->cb >= ENOKI_CALL_NR || !enoki_host_has(h, c->cb))
		return r->invoke(h, c);

	r->cpu = c->cpu >= 0 ? (u32)c->cpu : 0;
	r->time = r->eng->now(h);
	n = entry_args(h, c, a);
	rec(h, cb_kind[c->cb], n, a);

	r->invoke(h, c);

	ret = (u64)c->ret;
	rec(h, ENOKI_EV_RETURN, 1, &ret);
	r->cpu = saved_cpu;
	r->time = saved_time;
	return c->ret;
}

/* ---- calls the policy makes -------------------------------------------- */

static s32 rec_task_pid(struct enoki_host *h, const struct task_struct *p)
{
	return rec_of(h)->eng->task_pid(h, p);
}

static u32 rec_task_weight(struct enoki_host *h, const struct task_struct *p)
{
	u32 v = rec_of(h)->eng->task_weight(h, p);
	u64 a[2] = { pid_of(p), v };

	rec(h, ENOKI_EV_TASK_WEIGHT, 2, a);
	return v;
}

static s32 rec_task_cpu(struct enoki_host *h, const struct task_struct *p)
{
	s32 v = rec_of(h)->eng->task_cpu(h, p);
	u64 a[2] = { pid_of(p), (u64)(s64)v };

	rec(h, ENOKI_EV_TASK_CPU, 2, a);
	return v;
}

static bool rec_task_allowed(struct enoki_host *h,
			     const struct task_struct *p, s32 cpu)
{
	bool v = rec_of(h)->eng->task_allowed(h, p, cpu);
	u64 a[3] = { pid_of(p), (u64)(s64)cpu, v };

	rec(h, ENOKI_EV_TASK_ALLOWED, 3, a);
	return v;
}

static s32 rec_task_nr_cpus_allowed(struct enoki_host *h,
				    const struct task_struct *p)
{
	s32 v = rec_of(h)->eng->task_nr_cpus_allowed(h, p);
	u64 a[2] = { pid_of(p), (u64)(s64)v };

	rec(h, ENOKI_EV_TASK_NR_CPUS_ALLOWED, 2, a);
	return v;
}

static u64 rec_task_slice(struct enoki_host *h, const struct task_struct *p)
{
	u64 v = rec_of(h)->eng->task_slice(h, p);
	u64 a[2] = { pid_of(p), v };

	rec(h, ENOKI_EV_TASK_SLICE, 2, a);
	return v;
}

static void rec_task_set_slice(struct enoki_host *h, struct task_struct *p,
			       u64 slice_ns)
{
	u64 a[2] = { pid_of(p), slice_ns };

	rec(h, ENOKI_EV_TASK_SET_SLICE, 2, a);
	rec_of(h)->eng->task_set_slice(h, p, slice_ns);
}

static u64 rec_task_vtime(struct enoki_host *h, const struct task_struct *p)
{
	u64 v = rec_of(h)->eng->task_vtime(h, p);
	u64 a[2] = { pid_of(p), v };

	rec(h, ENOKI_EV_TASK_VTIME, 2, a);
	return v;
}

static void rec_task_set_vtime(struct enoki_host *h, struct task_struct *p,
			       u64 vtime)
{
	u64 a[2] = { pid_of(p), vtime };

	rec(h, ENOKI_EV_TASK_SET_VTIME, 2, a);
	rec_of(h)->eng->task_set_vtime(h, p, vtime);
}

static bool rec_cpumask_test(struct enoki_host *h, const struct cpumask *m,
			     s32 cpu)
{
	return rec_of(h)->eng->cpumask_test(h, m, cpu);
}

static s32 rec_dsq_create(struct enoki_host *h, u64 dsq_id)
{
	s32 v = rec_of(h)->eng->dsq_create(h, dsq_id);
	u64 a[2] = { dsq_id, (u64)(s64)v };

	rec(h, ENOKI_EV_DSQ_CREATE, 2, a);
	return v;
}

static void rec_dsq_destroy(struct enoki_host *h, u64 dsq_id)
{
	rec(h, ENOKI_EV_DSQ_DESTROY, 1, &dsq_id);
	rec_of(h)->eng->dsq_destroy(h, dsq_id);
}

static void rec_dsq_insert(struct enoki_host *h, struct task_struct *p,
			   u64 dsq_id, u64 slice, u64 enq_flags)
{
	u64 a[4] = { pid_of(p), dsq_id, slice, enq_flags };

	rec(h, ENOKI_EV_DSQ_INSERT, 4, a);
	rec_of(h)->eng->dsq_insert(h, p, dsq_id, slice, enq_flags);
}

static void rec_dsq_insert_vtime(struct enoki_host *h, struct task_struct *p,
				 u64 dsq_id, u64 slice, u64 vtime,
				 u64 enq_flags)
{
	u64 a[5] = { pid_of(p), dsq_id, slice, vtime, enq_flags };

	rec(h, ENOKI_EV_DSQ_INSERT_VTIME, 5, a);
	rec_of(h)->eng->dsq_insert_vtime(h, p, dsq_id, slice, vtime,
					 enq_flags);
}

static bool rec_dsq_move_to_local(struct enoki_host *h, u64 dsq_id)
{
	bool v = rec_of(h)->eng->dsq_move_to_local(h, dsq_id);
	u64 a[2] = { dsq_id, v };

	rec(h, ENOKI_EV_DSQ_MOVE_TO_LOCAL, 2, a);
	return v;
}

static s32 rec_dsq_nr_queued(struct enoki_host *h, u64 dsq_id)
{
	s32 v = rec_of(h)->eng->dsq_nr_queued(h, dsq_id);
	u64 a[2] = { dsq_id, (u64)(s64)v };

	rec(h, ENOKI_EV_DSQ_NR_QUEUED, 2, a);
	return v;
}

static u32 rec_nr_cpus(struct enoki_host *h)
{
	return rec_of(h)->eng->nr_cpus(h);
}

static s32 rec_this_cpu(struct enoki_host *h)
{
	return rec_of(h)->eng->this_cpu(h);
}

static void rec_kick_cpu(struct enoki_host *h, s32 cpu, u64 flags)
{
	u64 a[2] = { (u64)(s64)cpu, flags };

	rec(h, ENOKI_EV_KICK_CPU, 2, a);
	rec_of(h)->eng->kick_cpu(h, cpu, flags);
}

static s32 rec_select_cpu_dfl(struct enoki_host *h, struct task_struct *p,
			      s32 prev_cpu, u64 wake_flags, bool *is_idle)
{
	bool idle = false;
	s32 v = rec_of(h)->eng->select_cpu_dfl(h, p, prev_cpu, wake_flags,
					       &idle);
	u64 a[5] = { pid_of(p), (u64)(s64)prev_cpu, wake_flags,
		     (u64)(s64)v, idle };

	rec(h, ENOKI_EV_SELECT_CPU_DFL, 5, a);
	if (is_idle)
		*is_idle = idle;
	return v;
}

static bool rec_test_and_clear_cpu_idle(struct enoki_host *h, s32 cpu)
{
	bool v = rec_of(h)->eng->test_and_clear_cpu_idle(h, cpu);
	u64 a[2] = { (u64)(s64)cpu, v };

	rec(h, ENOKI_EV_TEST_AND_CLEAR_IDLE, 2, a);
	return v;
}

static s32 rec_pick_idle_cpu(struct enoki_host *h,
			     const struct task_struct *p, u64 flags)
{
	s32 v = rec_of(h)->eng->pick_idle_cpu(h, p, flags);
	u64 a[3] = { pid_of(p), flags, (u64)(s64)v };

	rec(h, ENOKI_EV_PICK_IDLE_CPU, 3, a);
	return v;
}

static s32 rec_pick_any_cpu(struct enoki_host *h,
			    const struct task_struct *p, u64 flags)
{
	s32 v = rec_of(h)->eng->pick_any_cpu(h, p, flags);
	u64 a[3] = { pid_of(p), flags, (u64)(s64)v };

	rec(h, ENOKI_EV_PICK_ANY_CPU, 3, a);
	return v;
}

static u64 rec_now(struct enoki_host *h)
{
	u64 v = rec_of(h)->eng->now(h);

	rec(h, ENOKI_EV_NOW, 1, &v);
	return v;
}

static s32 rec_timer_start(struct enoki_host *h, struct enoki_timer *t,
			   u64 delay_ns)
{
	s32 v = rec_of(h)->eng->timer_start(h, t, delay_ns);
	u64 a[3] = { enoki_log_name_hash(t ? t->name : NULL), delay_ns,
		     (u64)(s64)v };

	rec(h, ENOKI_EV_TIMER_START, 3, a);
	return v;
}

static s32 rec_msg_send(struct enoki_host *h, const struct enoki_msg *m)
{
	s32 v = rec_of(h)->eng->msg_send(h, m);
	u64 a[7] = { m->type, m->pid, m->arg[0], m->arg[1], m->arg[2],
		     m->arg[3], (u64)(s64)v };

	rec(h, ENOKI_EV_MSG_SEND, 7, a);
	return v;
}

static void rec_printk(struct enoki_host *h, const char *text)
{
	rec_of(h)->eng->printk(h, text);
}

static void rec_error(struct enoki_host *h, const char *text)
{
	u64 a[ENOKI_LOG_MAX_ARGS];

	rec(h, ENOKI_EV_ERROR, enoki_log_pack_text(text, a), a);
	rec_of(h)->eng->error(h, text);
}

static const struct enoki_host_ops rec_ops = {
	.task_pid = rec_task_pid,
	.task_weight = rec_task_weight,
	.task_cpu = rec_task_cpu,
	.task_allowed = rec_task_allowed,
	.task_nr_cpus_allowed = rec_task_nr_cpus_allowed,
	.task_slice = rec_task_slice,
	.task_set_slice = rec_task_set_slice,
	.task_vtime = rec_task_vtime,
	.task_set_vtime = rec_task_set_vtime,
	.cpumask_test = rec_cpumask_test,
	.dsq_create = rec_dsq_create,
	.dsq_destroy = rec_dsq_destroy,
	.dsq_insert = rec_dsq_insert,
	.dsq_insert_vtime = rec_dsq_insert_vtime,
	.dsq_move_to_local = rec_dsq_move_to_local,
	.dsq_nr_queued = rec_dsq_nr_queued,
	.nr_cpus = rec_nr_cpus,
	.this_cpu = rec_this_cpu,
	.kick_cpu = rec_kick_cpu,
	.select_cpu_dfl = rec_select_cpu_dfl,
	.test_and_clear_cpu_idle = rec_test_and_clear_cpu_idle,
	.pick_idle_cpu = rec_pick_idle_cpu,
	.pick_any_cpu = rec_pick_any_cpu,
	.now = rec_now,
	.timer_start = rec_timer_start,
	.msg_send = rec_msg_send,
	.printk = rec_printk,
	.error = rec_error,
};

/* ---- locks ------------------------------------------------------------------ */

/* The id of @l (its index in order of first use); a new lock gets the next
 * one.  ENOKI_LOG_NO_TASK if out of memory (logged as such: replay then
 * diverges there rather than matching a wrong lock). */
static u64 lock_id(struct recorder *r, struct enoki_lock *l)
{
	struct enoki_lock **n;
	u32 i;

	for (i = 0; i < r->nr_locks; i++)
		if (r->locks[i] == l)
			return i;
	if (r->nr_locks == r->cap_locks) {
		u32 cap = r->cap_locks ? 2 * r->cap_locks : 16;

		n = realloc(r->locks, cap * sizeof(*n));
		if (!n)
			return ENOKI_LOG_NO_TASK;
		r->locks = n;
		r->cap_locks = cap;
	}
	r->locks[r->nr_locks] = l;
	return r->nr_locks++;
}

static void record_lock(struct enoki_host *h, struct enoki_lock *l, bool take)
{
	struct recorder *r = rec_of(h);
	u64 id = lock_id(r, l);

	rec(h, take ? ENOKI_EV_LOCK : ENOKI_EV_UNLOCK, 1, &id);
	if (r->lock)
		r->lock(h, l, take);
}

/* ---- start and stop ------------------------------------------------------ */

int enoki_record_start(struct enoki_host *h, const char *path,
		       const struct enoki_loaded_policy *lp, u64 seed,
		       const char *workload, char *err, size_t errlen)
{
	struct enoki_log_info info;
	struct recorder *r;
	int ret;

	if (h->rec) {
		snprintf(err, errlen, "%s: already recording", path);
		return -EBUSY;
	}
	memset(&info, 0, sizeof(info));
	snprintf(info.policy, sizeof(info.policy), "%s",
		 lp->policy->name ? lp->policy->name : "");
	snprintf(info.policy_version, sizeof(info.policy_version), "%s",
		 lp->policy->version ? lp->policy->version : "");
	snprintf(info.workload, sizeof(info.workload), "%s",
		 workload ? workload : "");
	info.nr_cpus = h->nr_cpus;
	info.source = ENOKI_LOG_SRC_SIM;
	info.seed = seed;
	enoki_log_build_id_of(lp->policy, &info);

	r = calloc(1, sizeof(*r));
	if (!r) {
		snprintf(err, errlen, "%s: out of memory", path);
		return -ENOMEM;
	}
	r->w = enoki_log_writer_open(path, &info, &ret);
	if (!r->w) {
		snprintf(err, errlen, "%s: %s", path, strerror(-ret));
		free(r);
		return ret;
	}
	r->eng = h->ops;
	r->invoke = h->invoke;
	r->lock = h->lock;
	h->rec = r;
	h->ops = &rec_ops;
	h->invoke = record_invoke;
	h->lock = record_lock;
	return 0;
}

int enoki_record_stop(struct enoki_host *h, char *err, size_t errlen)
{
	struct recorder *r = h->rec;
	int ret;

	if (!r)
		return 0;
	h->ops = r->eng;
	h->invoke = r->invoke;
	h->lock = r->lock;
	h->rec = NULL;
	ret = enoki_log_writer_close(r->w);
	if (ret)
		snprintf(err, errlen, "recording: %s; the log ends at its last whole chunk",
			 strerror(-ret));
	free(r->locks);
	free(r);
	return ret;
}

u64 enoki_record_count(const struct enoki_host *h)
{
	const struct recorder *r = h->rec;

	return r ? enoki_log_writer_count(r->w) : 0;
}
