/*
 * enoki/replay/replay.c - the replay engine: a host whose answers come
 * from a log, checking every decision the policy makes.
 *
 * The loop reads the log one event at a time.  A callback entry becomes
 * a struct enoki_call (tasks found or created by pid, masks and messages
 * rebuilt from the arguments) passed to h->invoke, exactly as an engine
 * calls a policy.  While the policy runs, each enoki_* call it makes
 * arrives in replay_ops: the engine reads the next recorded event, which
 * must be the same call with the same arguments; a query is answered
 * with the recorded value, an action is only checked.  When the callback
 * returns, the next recorded event must be its return, with the same
 * value.  Calls the log does not hold (pid, CPU count, this CPU, mask
 * tests) are answered from the log's own data; storage is the host
 * layer's, as in the simulator.  Locks arrive through the host's lock
 * hook and are checked like actions: each lock is named by the order of
 * its first use in this run, which must be the id the log holds, so a
 * build that takes locks in another order diverges at the first lock
 * event that differs.
 *
 * The first difference is a divergence.  The policy may still be inside
 * its callback then; it gets harmless answers (fallback()) until it
 * returns, after which the replay stops and reports: event number, time,
 * CPU, the callback it happened in, what was recorded and what the
 * policy did, and the events before it.  A malformed log (the reader's
 * checks, or events that make no sense as a replay input: a callback
 * without its task, a call outside any callback) stops the replay with
 * an error naming the byte offset.
 *
 * Limits: one replay per process at a time (the host layer is global);
 * a log with lost events replays only up to the first loss.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stddef.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../host/enoki_host.h"
#include "../log/log.h"
#include "replay.h"

#define TASK_BUCKETS 4096
#define MAX_TIMERS 64
#define MAX_CONTEXT 64

struct rtask {
	struct task_struct t;		/* t.pid */
	struct rtask *next;		/* hash chain */
};

/* A copy of an event, with its own arguments. */
struct saved_event {
	struct enoki_log_event ev;
	u64 args[ENOKI_LOG_MAX_ARGS];
};

struct replay {
	struct enoki_host h;
	const struct enoki_replay_opts *o;
	FILE *out, *err;
	struct enoki_log_reader *r;
	const struct enoki_log_info *info;
	u64 events;

	/* the callback being replayed */
	struct saved_event cb;
	bool in_cb;
	struct cpumask mask;
	struct enoki_msg msg;

	/* the last events read, for the report */
	struct saved_event *ring;
	unsigned int ring_size, ring_next;

	/* the first divergence, or a log that stopped making sense */
	bool diverged;
	bool log_failed;
	struct saved_event div_rec;	/* what the log holds there */
	bool div_have_rec;
	char div_did[512];		/* what the policy did */

	struct rtask *tasks[TASK_BUCKETS];
	struct {
		u32 hash;
		struct enoki_timer *t;
	} timers[MAX_TIMERS];
	unsigned int nr_timers;

	struct enoki_lock **locks;	/* by id: order of first use */
	u32 nr_locks, cap_locks;
};

/* ---- tasks ---------------------------------------------------------------- */

static unsigned int pid_bucket(s32 pid)
{
	return ((u32)pid * 2654435761u) % TASK_BUCKETS;
}

/* The task record of @pid, created on first sight; NULL if out of
 * memory. */
static struct task_struct *task_get(struct replay *rp, s32 pid)
{
	unsigned int b = pid_bucket(pid);
	struct rtask *t;

	for (t = rp->tasks[b]; t; t = t->next)
		if (t->t.pid == pid)
			return &t->t;
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->t.pid = pid;
	t->next = rp->tasks[b];
	rp->tasks[b] = t;
	return &t->t;
}

/* Forget @pid (after exit_task), freeing its storage. */
static void task_put(struct replay *rp, s32 pid)
{
	struct rtask **pp = &rp->tasks[pid_bucket(pid)], *t;

	for (; (t = *pp); pp = &t->next)
		if (t->t.pid == pid) {
			*pp = t->next;
			enoki_host_task_free(&t->t);
			free(t);
			return;
		}
}

static void tasks_free(struct replay *rp)
{
	struct rtask *t, *n;
	unsigned int b;

	for (b = 0; b < TASK_BUCKETS; b++)
		for (t = rp->tasks[b]; t; t = n) {
			n = t->next;
			enoki_host_task_free(&t->t);
			free(t);
		}
}

/* ---- reading the log ------------------------------------------------------ */

static void save(struct saved_event *s, const struct enoki_log_event *ev)
{
	s->ev = *ev;
	memcpy(s->args, ev->args, sizeof(u64) * ev->nr_args);
	s->ev.args = s->args;
}

/* The log is wrong as a replay input: report once, stop. */
__attribute__((format(printf, 3, 4)))
static void log_bad(struct replay *rp, const struct enoki_log_event *ev,
		    const char *fmt, ...)
{
	va_list ap;

	if (rp->log_failed || rp->diverged)
		return;
	rp->log_failed = true;
	fprintf(rp->err, "enoki: %s: offset %" PRIu64 ": event #%" PRIu64 ": ",
		rp->o->log_path, ev->offset, ev->seq);
	va_start(ap, fmt);
	vfprintf(rp->err, fmt, ap);
	va_end(ap);
	fputc('\n', rp->err);
}

/*
 * The next event into *@ev (valid until the next read).  1, or 0 at the
 * end of the log, or -1 once the log failed (reported here).
 */
static int read_event(struct replay *rp, struct enoki_log_event *ev)
{
	int ret;

	if (rp->log_failed)
		return -1;
	ret = enoki_log_next(rp->r, ev);
	if (ret < 0) {
		fprintf(rp->err, "enoki: %s\n",
			enoki_log_reader_error(rp->r));
		rp->log_failed = true;
		return -1;
	}
	if (ret == 0)
		return 0;
	if (ev->kind == ENOKI_EV_LOST) {
		log_bad(rp, ev, "the recording lost %" PRIu64 " events here; replay stops at the first loss",
			ev->args[0]);
		return -1;
	}
	rp->events++;
	if (rp->ring_size) {
		save(&rp->ring[rp->ring_next], ev);
		rp->ring_next = (rp->ring_next + 1) % rp->ring_size;
	}
	return 1;
}

/* ---- divergence ------------------------------------------------------------ */

/*
 * The policy did @kind with inputs @args (@n of them) where the log
 * holds @rec (NULL: the log ended).  Remember the first such place.
 */
static void diverge(struct replay *rp, const struct enoki_log_event *rec,
		    u8 kind, unsigned int n, const u64 *args)
{
	if (rp->diverged || rp->log_failed)
		return;
	rp->diverged = true;
	rp->div_have_rec = rec != NULL;
	if (rec)
		save(&rp->div_rec, rec);
	enoki_log_format_call(kind, n, args, rp->div_did, sizeof(rp->div_did));
}

static void report_divergence(struct replay *rp)
{
	char line[512];
	const struct saved_event *d = &rp->div_rec;
	u64 seq = rp->div_have_rec ? d->ev.seq : rp->events;
	unsigned int i, shown = 0;

	fprintf(rp->out, "replay: divergence at event #%" PRIu64 " (t=%" PRIu64 " ns, cpu %u), in %s (event #%" PRIu64 ")\n",
		seq, rp->cb.ev.time, rp->cb.ev.cpu,
		enoki_log_format_call(rp->cb.ev.kind, rp->cb.ev.nr_args,
				      rp->cb.ev.args, line, sizeof(line)),
		rp->cb.ev.seq);
	if (rp->div_have_rec)
		fprintf(rp->out, "  recorded: %s\n",
			enoki_log_format_event(&d->ev, line, sizeof(line)));
	else
		fprintf(rp->out, "  recorded: (the log ends here)\n");
	fprintf(rp->out, "  policy:   %s\n", rp->div_did);

	/* the ring holds the divergent event last, when it was read */
	fprintf(rp->out, "  events before it:\n");
	for (i = 0; i < rp->ring_size; i++) {
		const struct saved_event *s =
			&rp->ring[(rp->ring_next + i) % rp->ring_size];

		if (!s->ev.args || s->ev.seq >= seq)
			continue;
		fprintf(rp->out, "    %s\n",
			enoki_log_format_event(&s->ev, line, sizeof(line)));
		shown++;
	}
	if (!shown)
		fprintf(rp->out, "    (none)\n");
}

/* A CPU argument (signed in the log) that must name one of the CPUs. */
static bool cpu_ok(struct replay *rp, u64 v)
{
	return (s64)v >= 0 && (s64)v < (s64)rp->h.nr_cpus;
}

/*
 * answer_ok - could a host have given answer @v to query @kind?  A policy
 * may rely on what sched_ext guarantees (CPUs in range, weights 1..10000)
 * to index arrays or divide, so a log that says otherwise is refused
 * rather than handed to it.
 */
static bool answer_ok(struct replay *rp, u8 kind, u64 v)
{
	switch (kind) {
	case ENOKI_EV_TASK_WEIGHT:
		return v >= 1 && v <= 10000;
	case ENOKI_EV_TASK_CPU:
	case ENOKI_EV_SELECT_CPU_DFL:
		return cpu_ok(rp, v);
	case ENOKI_EV_PICK_IDLE_CPU:
	case ENOKI_EV_PICK_ANY_CPU:
		return cpu_ok(rp, v) || ((s64)v < 0 && (s64)v >= -4095);
	case ENOKI_EV_TASK_NR_CPUS_ALLOWED:
		return (s64)v >= 1 && (s64)v <= (s64)rp->h.nr_cpus;
	case ENOKI_EV_DSQ_NR_QUEUED:
		return (s64)v >= 0 && (s64)v <= INT32_MAX;
	default:
		return true;
	}
}

/*
 * expect - the policy made call @kind with inputs @in (@nin of them).
 * Returns the recorded outputs if the next event is that same call, or
 * NULL (divergence recorded, or already diverged: the caller answers
 * with a fallback).
 */
static const u64 *expect(struct replay *rp, u8 kind, unsigned int nin,
			 const u64 *in)
{
	const struct enoki_log_kind_info *k = enoki_log_kind(kind);
	struct enoki_log_event ev;
	u64 did[ENOKI_LOG_MAX_ARGS];
	int ret;

	if (rp->diverged || rp->log_failed)
		return NULL;
	ret = read_event(rp, &ev);
	if (ret < 0)
		return NULL;
	if (ret > 0 && ev.kind == kind && ev.nr_args == nin + k->nr_out &&
	    (nin == 0 || !memcmp(ev.args, in, sizeof(u64) * nin))) {
		if (!answer_ok(rp, kind, ev.args[nin])) {
			log_bad(rp, &ev, "%s answered %" PRId64 ", which no host can",
				k->name, (s64)ev.args[nin]);
			return NULL;
		}
		return ev.args + nin;
	}

	if (nin)
		memcpy(did, in, sizeof(u64) * nin);
	diverge(rp, ret > 0 ? &ev : NULL, kind, nin, did);
	return NULL;
}

/* ---- the engine's table: each call checked against the log -------------- */

static inline struct replay *rp_of(struct enoki_host *h)
{
	return h->priv;
}

static inline u64 pid_of(const struct task_struct *p)
{
	return p ? (u64)(s64)p->pid : ENOKI_LOG_NO_TASK;
}

/* Query @kind with @nin inputs; the recorded first output, or @fallback. */
static u64 query(struct enoki_host *h, u8 kind, unsigned int nin,
		 const u64 *in, u64 fallback)
{
	const u64 *out = expect(rp_of(h), kind, nin, in);

	return out ? out[0] : fallback;
}

/* Action @kind with @n arguments: checked, nothing returned. */
static void action(struct enoki_host *h, u8 kind, unsigned int n,
		   const u64 *in)
{
	expect(rp_of(h), kind, n, in);
}

static s32 rp_task_pid(struct enoki_host *h, const struct task_struct *p)
{
	return p ? p->pid : -1;
}

static u32 rp_task_weight(struct enoki_host *h, const struct task_struct *p)
{
	u64 a = pid_of(p);

	return (u32)query(h, ENOKI_EV_TASK_WEIGHT, 1, &a, 100);
}

static s32 rp_task_cpu(struct enoki_host *h, const struct task_struct *p)
{
	u64 a = pid_of(p);

	return (s32)query(h, ENOKI_EV_TASK_CPU, 1, &a, rp_of(h)->cb.ev.cpu);
}

static bool rp_task_allowed(struct enoki_host *h, const struct task_struct *p,
			    s32 cpu)
{
	u64 a[2] = { pid_of(p), (u64)(s64)cpu };

	return query(h, ENOKI_EV_TASK_ALLOWED, 2, a, 1) != 0;
}

static s32 rp_task_nr_cpus_allowed(struct enoki_host *h,
				   const struct task_struct *p)
{
	u64 a = pid_of(p);

	return (s32)query(h, ENOKI_EV_TASK_NR_CPUS_ALLOWED, 1, &a,
			  h->nr_cpus);
}

static u64 rp_task_slice(struct enoki_host *h, const struct task_struct *p)
{
	u64 a = pid_of(p);

	return query(h, ENOKI_EV_TASK_SLICE, 1, &a, ENOKI_SLICE_DFL);
}

static void rp_task_set_slice(struct enoki_host *h, struct task_struct *p,
			      u64 slice_ns)
{
	u64 a[2] = { pid_of(p), slice_ns };

	action(h, ENOKI_EV_TASK_SET_SLICE, 2, a);
}

static u64 rp_task_vtime(struct enoki_host *h, const struct task_struct *p)
{
	u64 a = pid_of(p);

	return query(h, ENOKI_EV_TASK_VTIME, 1, &a, 0);
}

static void rp_task_set_vtime(struct enoki_host *h, struct task_struct *p,
			      u64 vtime)
{
	u64 a[2] = { pid_of(p), vtime };

	action(h, ENOKI_EV_TASK_SET_VTIME, 2, a);
}

static bool rp_cpumask_test(struct enoki_host *h, const struct cpumask *m,
			    s32 cpu)
{
	return m && enoki_cpumask_has(m, cpu);
}

static s32 rp_dsq_create(struct enoki_host *h, u64 dsq_id)
{
	return (s32)query(h, ENOKI_EV_DSQ_CREATE, 1, &dsq_id, 0);
}

static void rp_dsq_destroy(struct enoki_host *h, u64 dsq_id)
{
	action(h, ENOKI_EV_DSQ_DESTROY, 1, &dsq_id);
}

static void rp_dsq_insert(struct enoki_host *h, struct task_struct *p,
			  u64 dsq_id, u64 slice, u64 enq_flags)
{
	u64 a[4] = { pid_of(p), dsq_id, slice, enq_flags };

	action(h, ENOKI_EV_DSQ_INSERT, 4, a);
}

static void rp_dsq_insert_vtime(struct enoki_host *h, struct task_struct *p,
				u64 dsq_id, u64 slice, u64 vtime,
				u64 enq_flags)
{
	u64 a[5] = { pid_of(p), dsq_id, slice, vtime, enq_flags };

	action(h, ENOKI_EV_DSQ_INSERT_VTIME, 5, a);
}

static bool rp_dsq_move_to_local(struct enoki_host *h, u64 dsq_id)
{
	return query(h, ENOKI_EV_DSQ_MOVE_TO_LOCAL, 1, &dsq_id, 0) != 0;
}

static s32 rp_dsq_nr_queued(struct enoki_host *h, u64 dsq_id)
{
	return (s32)query(h, ENOKI_EV_DSQ_NR_QUEUED, 1, &dsq_id, 0);
}

static u32 rp_nr_cpus(struct enoki_host *h)
{
	return h->nr_cpus;
}

static s32 rp_this_cpu(struct enoki_host *h)
{
	return (s32)rp_of(h)->cb.ev.cpu;
}

static void rp_kick_cpu(struct enoki_host *h, s32 cpu, u64 flags)
{
	u64 a[2] = { (u64)(s64)cpu, flags };

	action(h, ENOKI_EV_KICK_CPU, 2, a);
}

static s32 rp_select_cpu_dfl(struct enoki_host *h, struct task_struct *p,
			     s32 prev_cpu, u64 wake_flags, bool *is_idle)
{
	u64 a[3] = { pid_of(p), (u64)(s64)prev_cpu, wake_flags };
	const u64 *out = expect(rp_of(h), ENOKI_EV_SELECT_CPU_DFL, 3, a);

	if (is_idle)
		*is_idle = out ? out[1] != 0 : false;
	return out ? (s32)out[0] : prev_cpu;
}

static bool rp_test_and_clear_cpu_idle(struct enoki_host *h, s32 cpu)
{
	u64 a = (u64)(s64)cpu;

	return query(h, ENOKI_EV_TEST_AND_CLEAR_IDLE, 1, &a, 0) != 0;
}

static s32 rp_pick_idle_cpu(struct enoki_host *h, const struct task_struct *p,
			    u64 flags)
{
	u64 a[2] = { pid_of(p), flags };

	return (s32)query(h, ENOKI_EV_PICK_IDLE_CPU, 2, a, (u64)-EBUSY);
}

static s32 rp_pick_any_cpu(struct enoki_host *h, const struct task_struct *p,
			   u64 flags)
{
	u64 a[2] = { pid_of(p), flags };

	return (s32)query(h, ENOKI_EV_PICK_ANY_CPU, 2, a,
			  rp_of(h)->cb.ev.cpu);
}

static u64 rp_now(struct enoki_host *h)
{
	return query(h, ENOKI_EV_NOW, 0, NULL, rp_of(h)->cb.ev.time);
}

static s32 rp_timer_start(struct enoki_host *h, struct enoki_timer *t,
			  u64 delay_ns)
{
	struct replay *rp = rp_of(h);
	u64 a[2] = { enoki_log_name_hash(t ? t->name : NULL), delay_ns };
	unsigned int i;

	/* remember the timer, so that its firing can be replayed */
	for (i = 0; i < rp->nr_timers && rp->timers[i].hash != a[0]; i++)
		;
	if (i == rp->nr_timers && i < MAX_TIMERS && t) {
		rp->timers[i].hash = (u32)a[0];
		rp->timers[i].t = t;
		rp->nr_timers++;
	}
	return (s32)query(h, ENOKI_EV_TIMER_START, 2, a, 0);
}

static s32 rp_msg_send(struct enoki_host *h, const struct enoki_msg *m)
{
	u64 a[6] = { m->type, m->pid, m->arg[0], m->arg[1], m->arg[2],
		     m->arg[3] };

	return (s32)query(h, ENOKI_EV_MSG_SEND, 6, a, 0);
}

static void rp_printk(struct enoki_host *h, const char *text)
{
	struct replay *rp = rp_of(h);

	if (rp->o->verbose)
		fprintf(rp->out, "policy: %s\n", text);
}

static void rp_error(struct enoki_host *h, const char *text)
{
	u64 a[ENOKI_LOG_MAX_ARGS];

	action(h, ENOKI_EV_ERROR, enoki_log_pack_text(text, a), a);
}

/* The id of @l by order of first use, as the recorder numbers them
 * (ENOKI_LOG_NO_TASK if out of memory: a divergence, never a match). */
static u64 rp_lock_id(struct replay *rp, struct enoki_lock *l)
{
	struct enoki_lock **n;
	u32 i;

	for (i = 0; i < rp->nr_locks; i++)
		if (rp->locks[i] == l)
			return i;
	if (rp->nr_locks == rp->cap_locks) {
		u32 cap = rp->cap_locks ? 2 * rp->cap_locks : 16;

		n = realloc(rp->locks, cap * sizeof(*n));
		if (!n)
			return ENOKI_LOG_NO_TASK;
		rp->locks = n;
		rp->cap_locks = cap;
	}
	rp->locks[rp->nr_locks] = l;
	return rp->nr_locks++;
}

/* The host's lock hook: each take and release is an action. */
static void rp_lock(struct enoki_host *h, struct enoki_lock *l, bool take)
{
	u64 id = rp_lock_id(rp_of(h), l);

	action(h, take ? ENOKI_EV_LOCK : ENOKI_EV_UNLOCK, 1, &id);
}

static const struct enoki_host_ops replay_ops = {
	.task_pid = rp_task_pid,
	.task_weight = rp_task_weight,
	.task_cpu = rp_task_cpu,
	.task_allowed = rp_task_allowed,
	.task_nr_cpus_allowed = rp_task_nr_cpus_allowed,
	.task_slice = rp_task_slice,
	.task_set_slice = rp_task_set_slice,
	.task_vtime = rp_task_vtime,
	.task_set_vtime = rp_task_set_vtime,
	.cpumask_test = rp_cpumask_test,
	.dsq_create = rp_dsq_create,
	.dsq_destroy = rp_dsq_destroy,
	.dsq_insert = rp_dsq_insert,
	.dsq_insert_vtime = rp_dsq_insert_vtime,
	.dsq_move_to_local = rp_dsq_move_to_local,
	.dsq_nr_queued = rp_dsq_nr_queued,
	.nr_cpus = rp_nr_cpus,
	.this_cpu = rp_this_cpu,
	.kick_cpu = rp_kick_cpu,
	.select_cpu_dfl = rp_select_cpu_dfl,
	.test_and_clear_cpu_idle = rp_test_and_clear_cpu_idle,
	.pick_idle_cpu = rp_pick_idle_cpu,
	.pick_any_cpu = rp_pick_any_cpu,
	.now = rp_now,
	.timer_start = rp_timer_start,
	.msg_send = rp_msg_send,
	.printk = rp_printk,
	.error = rp_error,
};

/* ---- callbacks ---------------------------------------------------------------- */

static const u8 ev_call[ENOKI_EV_NR_KINDS] = {
	[ENOKI_EV_SELECT_CPU] = ENOKI_CALL_SELECT_CPU,
	[ENOKI_EV_ENQUEUE] = ENOKI_CALL_ENQUEUE,
	[ENOKI_EV_DEQUEUE] = ENOKI_CALL_DEQUEUE,
	[ENOKI_EV_DISPATCH] = ENOKI_CALL_DISPATCH,
	[ENOKI_EV_RUNNABLE] = ENOKI_CALL_RUNNABLE,
	[ENOKI_EV_RUNNING] = ENOKI_CALL_RUNNING,
	[ENOKI_EV_STOPPING] = ENOKI_CALL_STOPPING,
	[ENOKI_EV_QUIESCENT] = ENOKI_CALL_QUIESCENT,
	[ENOKI_EV_TICK] = ENOKI_CALL_TICK,
	[ENOKI_EV_SET_WEIGHT] = ENOKI_CALL_SET_WEIGHT,
	[ENOKI_EV_SET_CPUMASK] = ENOKI_CALL_SET_CPUMASK,
	[ENOKI_EV_INIT_TASK] = ENOKI_CALL_INIT_TASK,
	[ENOKI_EV_EXIT_TASK] = ENOKI_CALL_EXIT_TASK,
	[ENOKI_EV_INIT] = ENOKI_CALL_INIT,
	[ENOKI_EV_EXIT] = ENOKI_CALL_EXIT,
	[ENOKI_EV_CPU_ONLINE] = ENOKI_CALL_CPU_ONLINE,
	[ENOKI_EV_CPU_OFFLINE] = ENOKI_CALL_CPU_OFFLINE,
	[ENOKI_EV_MSG] = ENOKI_CALL_MSG,
	[ENOKI_EV_TIMER] = ENOKI_CALL_TIMER,
};

/* Callbacks whose first argument is a task that must be there. */
static bool needs_task(u8 kind)
{
	switch (kind) {
	case ENOKI_EV_DISPATCH:
	case ENOKI_EV_INIT:
	case ENOKI_EV_EXIT:
	case ENOKI_EV_CPU_ONLINE:
	case ENOKI_EV_CPU_OFFLINE:
	case ENOKI_EV_MSG:
	case ENOKI_EV_TIMER:
		return false;
	default:
		return true;
	}
}

/* A pid argument: a task, or NO_TASK where allowed. */
static bool pid_ok(u64 v)
{
	return v == ENOKI_LOG_NO_TASK || (s64)v == (s64)(s32)v;
}

/*
 * Fill @c from the callback entry rp->cb.  Returns 0, or -1 with the log
 * reported bad (an argument the policy must never see).
 */
static int build_call(struct replay *rp, struct enoki_call *c,
		      struct scx_init_task_args *ia,
		      struct scx_exit_task_args *ea)
{
	const struct enoki_log_event *ev = &rp->cb.ev;
	const u64 *a = ev->args;
	unsigned int i;

	memset(c, 0, sizeof(*c));
	c->cb = (enum enoki_cb)ev_call[ev->kind];
	c->cpu = (s32)ev->cpu;

	/* the task (first argument, or the second for dispatch's prev) */
	if (needs_task(ev->kind) || ev->kind == ENOKI_EV_DISPATCH) {
		u64 pid = ev->kind == ENOKI_EV_DISPATCH ? a[1] : a[0];

		if (!pid_ok(pid) || (pid == ENOKI_LOG_NO_TASK &&
				     needs_task(ev->kind))) {
			log_bad(rp, ev, "%s with a bad task %" PRId64,
				enoki_log_kind(ev->kind)->name, (s64)pid);
			return -1;
		}
		if (pid != ENOKI_LOG_NO_TASK) {
			c->p = task_get(rp, (s32)pid);
			if (!c->p) {
				log_bad(rp, ev, "out of memory");
				return -1;
			}
		}
	}

	switch (ev->kind) {
	case ENOKI_EV_SELECT_CPU:
		if (!cpu_ok(rp, a[1]))
			goto bad_cpu;
		c->arg_cpu = (s32)a[1];
		c->flags = a[2];
		break;
	case ENOKI_EV_ENQUEUE:
	case ENOKI_EV_DEQUEUE:
	case ENOKI_EV_RUNNABLE:
	case ENOKI_EV_QUIESCENT:
		c->flags = a[1];
		break;
	case ENOKI_EV_DISPATCH:
	case ENOKI_EV_CPU_ONLINE:
	case ENOKI_EV_CPU_OFFLINE:
		if (!cpu_ok(rp, a[0]))
			goto bad_cpu;
		c->arg_cpu = (s32)a[0];
		break;
	case ENOKI_EV_STOPPING:
		c->runnable = a[1] != 0;
		break;
	case ENOKI_EV_SET_WEIGHT:
		if (a[1] < 1 || a[1] > 10000) {
			log_bad(rp, ev, "set_weight to %" PRIu64 ", outside 1..10000",
				a[1]);
			return -1;
		}
		c->weight = (u32)a[1];
		break;
	case ENOKI_EV_SET_CPUMASK:
		memset(&rp->mask, 0, sizeof(rp->mask));
		for (i = 1; i < ev->nr_args; i++) {
			if (i - 1 >= ENOKI_MAX_CPUS / 64 && a[i]) {
				log_bad(rp, ev, "cpumask beyond %d CPUs",
					ENOKI_MAX_CPUS);
				return -1;
			}
			if (i - 1 < ENOKI_MAX_CPUS / 64)
				rp->mask.bits[i - 1] = a[i];
		}
		c->mask = &rp->mask;
		break;
	case ENOKI_EV_INIT_TASK:
		ia->fork = a[1] != 0;
		c->init_args = ia;
		break;
	case ENOKI_EV_EXIT_TASK:
		ea->cancelled = a[1] != 0;
		c->exit_args = ea;
		break;
	case ENOKI_EV_EXIT:
		c->ei = &rp->h.exit;
		break;
	case ENOKI_EV_MSG:
		rp->msg.type = (u32)a[0];
		rp->msg.pid = (u32)a[1];
		for (i = 0; i < 4; i++)
			rp->msg.arg[i] = a[2 + i];
		c->msg = &rp->msg;
		break;
	case ENOKI_EV_TIMER:
		for (i = 0; i < rp->nr_timers; i++)
			if (rp->timers[i].hash == a[0])
				c->timer = rp->timers[i].t;
		if (!c->timer) {
			u64 did = a[0];

			/* the policy never started it: it diverged earlier
			 * in a way the log could not show */
			diverge(rp, ev, ENOKI_EV_TIMER, 1, &did);
			snprintf(rp->div_did, sizeof(rp->div_did),
				 "never started timer 0x%" PRIx64, a[0]);
			return -1;
		}
		break;
	default:
		break;
	}
	return 0;

bad_cpu:
	log_bad(rp, ev, "%s on a CPU outside the log's %u",
		enoki_log_kind(ev->kind)->name, rp->h.nr_cpus);
	return -1;
}

/* Replay the callback whose entry is @ev: call, then check its return. */
static void replay_callback(struct replay *rp, const struct enoki_log_event *ev)
{
	struct scx_init_task_args ia = { 0 };
	struct scx_exit_task_args ea = { 0 };
	struct enoki_log_event ret_ev;
	struct enoki_call c;
	u64 ret;
	int r;

	save(&rp->cb, ev);
	if (build_call(rp, &c, &ia, &ea) < 0)
		return;

	rp->in_cb = true;
	rp->h.invoke(&rp->h, &c);
	rp->in_cb = false;

	/* the policy returned: the log must say so too, with its value */
	ret = (u64)c.ret;
	if (!rp->diverged && !rp->log_failed) {
		r = read_event(rp, &ret_ev);
		if (r >= 0 && (r == 0 || ret_ev.kind != ENOKI_EV_RETURN ||
			       ret_ev.args[0] != ret))
			diverge(rp, r > 0 ? &ret_ev : NULL, ENOKI_EV_RETURN, 1,
				&ret);
	}
	if (ev->kind == ENOKI_EV_EXIT_TASK && c.p)
		task_put(rp, c.p->pid);
}

/* ---- the loop ------------------------------------------------------------------ */

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Notes on a log made with another policy or build; not errors (a
 * changed build is what replay is for). */
static void check_policy(struct replay *rp)
{
	struct enoki_log_info mine;
	char a[80], b[80];

	if (strcmp(rp->info->policy, rp->o->policy->name ? rp->o->policy->name
							   : ""))
		fprintf(rp->err, "replay: note: log recorded with policy '%s', replaying '%s'\n",
			rp->info->policy, rp->o->policy->name);
	memset(&mine, 0, sizeof(mine));
	if (enoki_log_build_id_of(rp->o->policy, &mine) == 0 &&
	    rp->info->build_id_len &&
	    (mine.build_id_len != rp->info->build_id_len ||
	     memcmp(mine.build_id, rp->info->build_id, mine.build_id_len)))
		fprintf(rp->err, "replay: note: policy build %s differs from the recorded build %s\n",
			enoki_log_build_id_hex(mine.build_id,
					       mine.build_id_len, a),
			enoki_log_build_id_hex(rp->info->build_id,
					       rp->info->build_id_len, b));
}

static int replay_loop(struct replay *rp)
{
	struct enoki_log_event ev;
	int r;

	while (!rp->diverged && !rp->log_failed) {
		r = read_event(rp, &ev);
		if (r <= 0)
			break;
		if (!enoki_log_kind(ev.kind)->callback) {
			log_bad(rp, &ev, "%s outside any callback",
				enoki_log_kind(ev.kind)->name);
			break;
		}
		replay_callback(rp, &ev);
	}
	if (rp->diverged) {
		report_divergence(rp);
		return ENOKI_REPLAY_DIVERGED;
	}
	if (rp->log_failed) {
		fprintf(rp->err, "replay: stopped after %" PRIu64 " events, all decisions up to there matched\n",
			rp->events);
		return ENOKI_REPLAY_ERROR;
	}
	return ENOKI_REPLAY_OK;
}

int enoki_replay_run(const struct enoki_replay_opts *o,
		     struct enoki_replay_result *res)
{
	struct replay *rp;
	char msg[600];
	double t0;
	int ret;

	memset(res, 0, sizeof(*res));
	rp = calloc(1, sizeof(*rp));
	if (!rp) {
		fprintf(o->err ? o->err : stderr, "enoki: out of memory\n");
		return ENOKI_REPLAY_ERROR;
	}
	rp->o = o;
	rp->out = o->out ? o->out : stdout;
	rp->err = o->err ? o->err : stderr;
	rp->ring_size = (o->context < MAX_CONTEXT ? o->context : MAX_CONTEXT) + 1;
	rp->ring = calloc(rp->ring_size, sizeof(*rp->ring));
	if (!rp->ring) {
		fprintf(rp->err, "enoki: out of memory\n");
		ret = ENOKI_REPLAY_ERROR;
		goto free_rp;
	}

	/* the log and its header */
	rp->r = enoki_log_reader_open(o->log_path, msg, sizeof(msg));
	if (!rp->r) {
		fprintf(rp->err, "enoki: %s\n", msg);
		ret = ENOKI_REPLAY_ERROR;
		goto free_ring;
	}
	rp->info = enoki_log_reader_info(rp->r);
	if (rp->info->nr_cpus > ENOKI_MAX_CPUS) {
		fprintf(rp->err, "enoki: %s: offset %zu: a log of %u CPUs; replay supports %d\n",
			o->log_path, offsetof(struct enoki_log_file_header,
					      nr_cpus),
			rp->info->nr_cpus, ENOKI_MAX_CPUS);
		ret = ENOKI_REPLAY_ERROR;
		goto close_log;
	}
	check_policy(rp);

	/* the host, then the events in order */
	enoki_host_init(&rp->h, o->policy, rp->info->nr_cpus, &replay_ops, rp);
	rp->h.lock = rp_lock;
	enoki_host_set(&rp->h);
	t0 = now_seconds();
	ret = replay_loop(rp);
	res->seconds = now_seconds() - t0;
	res->events = rp->events;
	res->callbacks = rp->h.nr_callbacks;
	res->diverged = rp->diverged;
	res->diverged_at = rp->div_have_rec ? rp->div_rec.ev.seq : rp->events;
	if (ret == ENOKI_REPLAY_OK && !o->quiet)
		fprintf(rp->out, "replay: %" PRIu64 " events, all decisions matched\n",
			rp->events);

	enoki_host_set(NULL);
	tasks_free(rp);
	enoki_host_storage_reset();
	free(rp->locks);
close_log:
	enoki_log_reader_close(rp->r);
free_ring:
	free(rp->ring);
free_rp:
	free(rp);
	return ret;
}
