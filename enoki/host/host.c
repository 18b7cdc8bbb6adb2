/*
 * host.c - the active host, and calls into the policy.
 *
 * Engines reach the policy only through enoki_call_*(), which fill one
 * struct enoki_call and pass it to h->invoke: enoki_host_invoke() by
 * default, or a recorder's wrapper around it.  enoki_host_invoke() is the
 * one place that knows the policy's ops table: it skips absent callbacks
 * (giving sched_ext's defaults) and everything once the policy has been
 * ejected, exactly as sched_ext stops calling a policy it has disabled.
 */
#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "enoki_host.h"

static struct enoki_host *active;

void enoki_host_init(struct enoki_host *h, struct enoki_policy *policy,
		     u32 nr_cpus, const struct enoki_host_ops *ops,
		     void *priv)
{
	memset(h, 0, sizeof(*h));
	h->ops = ops;
	h->invoke = enoki_host_invoke;
	h->priv = priv;
	h->policy = policy;
	h->nr_cpus = nr_cpus;
	h->exit.reason = h->exit_reason;
}

void enoki_host_set(struct enoki_host *h)
{
	active = h;
}

struct enoki_host *enoki_host_get(void)
{
	return active;
}

static const char *const cb_names[ENOKI_CALL_NR] = {
	[ENOKI_CALL_SELECT_CPU] = "select_cpu",
	[ENOKI_CALL_ENQUEUE] = "enqueue",
	[ENOKI_CALL_DEQUEUE] = "dequeue",
	[ENOKI_CALL_DISPATCH] = "dispatch",
	[ENOKI_CALL_RUNNABLE] = "runnable",
	[ENOKI_CALL_RUNNING] = "running",
	[ENOKI_CALL_STOPPING] = "stopping",
	[ENOKI_CALL_QUIESCENT] = "quiescent",
	[ENOKI_CALL_TICK] = "tick",
	[ENOKI_CALL_SET_WEIGHT] = "set_weight",
	[ENOKI_CALL_SET_CPUMASK] = "set_cpumask",
	[ENOKI_CALL_INIT_TASK] = "init_task",
	[ENOKI_CALL_EXIT_TASK] = "exit_task",
	[ENOKI_CALL_INIT] = "init",
	[ENOKI_CALL_EXIT] = "exit",
	[ENOKI_CALL_CPU_ONLINE] = "cpu_online",
	[ENOKI_CALL_CPU_OFFLINE] = "cpu_offline",
	[ENOKI_CALL_MSG] = "msg",
	[ENOKI_CALL_TIMER] = "timer",
};

const char *enoki_cb_name(enum enoki_cb cb)
{
	if ((int)cb <= 0 || cb >= ENOKI_CALL_NR)
		return "?";
	return cb_names[cb];
}

bool enoki_host_has(const struct enoki_host *h, enum enoki_cb cb)
{
	const struct enoki_ops *o = &h->policy->ops;

	switch (cb) {
	case ENOKI_CALL_SELECT_CPU: return o->select_cpu;
	case ENOKI_CALL_ENQUEUE: return o->enqueue;
	case ENOKI_CALL_DEQUEUE: return o->dequeue;
	case ENOKI_CALL_DISPATCH: return o->dispatch;
	case ENOKI_CALL_RUNNABLE: return o->runnable;
	case ENOKI_CALL_RUNNING: return o->running;
	case ENOKI_CALL_STOPPING: return o->stopping;
	case ENOKI_CALL_QUIESCENT: return o->quiescent;
	case ENOKI_CALL_TICK: return o->tick;
	case ENOKI_CALL_SET_WEIGHT: return o->set_weight;
	case ENOKI_CALL_SET_CPUMASK: return o->set_cpumask;
	case ENOKI_CALL_INIT_TASK: return o->init_task;
	case ENOKI_CALL_EXIT_TASK: return o->exit_task;
	case ENOKI_CALL_INIT: return o->init;
	case ENOKI_CALL_EXIT: return o->exit;
	case ENOKI_CALL_CPU_ONLINE: return o->cpu_online;
	case ENOKI_CALL_CPU_OFFLINE: return o->cpu_offline;
	case ENOKI_CALL_MSG: return h->policy->msg_handler;
	case ENOKI_CALL_TIMER: return true;
	default: return false;
	}
}

/* Run the callback itself; c->ret untouched for void ones (0). */
static void run_cb(struct enoki_host *h, struct enoki_call *c)
{
	const struct enoki_ops *o = &h->policy->ops;

	switch (c->cb) {
	case ENOKI_CALL_SELECT_CPU:
		c->ret = o->select_cpu(c->p, c->arg_cpu, c->flags);
		break;
	case ENOKI_CALL_ENQUEUE: o->enqueue(c->p, c->flags); break;
	case ENOKI_CALL_DEQUEUE: o->dequeue(c->p, c->flags); break;
	case ENOKI_CALL_DISPATCH: o->dispatch(c->arg_cpu, c->p); break;
	case ENOKI_CALL_RUNNABLE: o->runnable(c->p, c->flags); break;
	case ENOKI_CALL_RUNNING: o->running(c->p); break;
	case ENOKI_CALL_STOPPING: o->stopping(c->p, c->runnable); break;
	case ENOKI_CALL_QUIESCENT: o->quiescent(c->p, c->flags); break;
	case ENOKI_CALL_TICK: o->tick(c->p); break;
	case ENOKI_CALL_SET_WEIGHT: o->set_weight(c->p, c->weight); break;
	case ENOKI_CALL_SET_CPUMASK: o->set_cpumask(c->p, c->mask); break;
	case ENOKI_CALL_INIT_TASK:
		c->ret = o->init_task(c->p, c->init_args);
		break;
	case ENOKI_CALL_EXIT_TASK: o->exit_task(c->p, c->exit_args); break;
	case ENOKI_CALL_INIT: c->ret = o->init(); break;
	case ENOKI_CALL_EXIT: o->exit(c->ei); break;
	case ENOKI_CALL_CPU_ONLINE: o->cpu_online(c->arg_cpu); break;
	case ENOKI_CALL_CPU_OFFLINE: o->cpu_offline(c->arg_cpu); break;
	case ENOKI_CALL_MSG: h->policy->msg_handler(c->msg); break;
	case ENOKI_CALL_TIMER: c->timer->fn(); break;
	default: assert(!"bad callback kind");
	}
}

s64 enoki_host_invoke(struct enoki_host *h, struct enoki_call *c)
{
	c->ret = c->cb == ENOKI_CALL_SELECT_CPU ? c->arg_cpu : 0;
	/* exit is delivered even after an ejection: it is how the policy
	 * learns why. */
	if (h->ejected && c->cb != ENOKI_CALL_EXIT)
		return c->ret;
	if (!enoki_host_has(h, c->cb))
		return c->ret;
	assert(!h->in_callback);
	h->in_callback = true;
	h->nr_callbacks++;
	run_cb(h, c);
	h->in_callback = false;
	return c->ret;
}

void enoki_host_eject(struct enoki_host *h, enum enoki_exit_kind kind,
		      const char *fmt, ...)
{
	va_list ap;

	if (h->ejected)
		return;
	h->ejected = true;
	h->exit.kind = kind;
	va_start(ap, fmt);
	vsnprintf(h->exit_reason, sizeof(h->exit_reason), fmt, ap);
	va_end(ap);
}

/* ---- typed wrappers --------------------------------------------------- */

#define CALL(h, ...) ({							\
	struct enoki_call c_ = { __VA_ARGS__ };				\
	(h)->invoke((h), &c_);						\
})

s32 enoki_call_select_cpu(struct enoki_host *h, s32 cpu,
			  struct task_struct *p, s32 prev_cpu,
			  u64 wake_flags)
{
	return (s32)CALL(h, .cb = ENOKI_CALL_SELECT_CPU, .cpu = cpu, .p = p,
			 .arg_cpu = prev_cpu, .flags = wake_flags);
}

void enoki_call_enqueue(struct enoki_host *h, s32 cpu, struct task_struct *p,
			u64 enq_flags)
{
	CALL(h, .cb = ENOKI_CALL_ENQUEUE, .cpu = cpu, .p = p, .flags = enq_flags);
}

void enoki_call_dequeue(struct enoki_host *h, s32 cpu, struct task_struct *p,
			u64 deq_flags)
{
	CALL(h, .cb = ENOKI_CALL_DEQUEUE, .cpu = cpu, .p = p, .flags = deq_flags);
}

void enoki_call_dispatch(struct enoki_host *h, s32 cpu,
			 struct task_struct *prev)
{
	CALL(h, .cb = ENOKI_CALL_DISPATCH, .cpu = cpu, .arg_cpu = cpu,
	     .p = prev);
}

void enoki_call_runnable(struct enoki_host *h, s32 cpu,
			 struct task_struct *p, u64 enq_flags)
{
	CALL(h, .cb = ENOKI_CALL_RUNNABLE, .cpu = cpu, .p = p,
	     .flags = enq_flags);
}

void enoki_call_running(struct enoki_host *h, s32 cpu, struct task_struct *p)
{
	CALL(h, .cb = ENOKI_CALL_RUNNING, .cpu = cpu, .p = p);
}

void enoki_call_stopping(struct enoki_host *h, s32 cpu,
			 struct task_struct *p, bool runnable)
{
	CALL(h, .cb = ENOKI_CALL_STOPPING, .cpu = cpu, .p = p,
	     .runnable = runnable);
}

void enoki_call_quiescent(struct enoki_host *h, s32 cpu,
			  struct task_struct *p, u64 deq_flags)
{
	CALL(h, .cb = ENOKI_CALL_QUIESCENT, .cpu = cpu, .p = p,
	     .flags = deq_flags);
}

void enoki_call_tick(struct enoki_host *h, s32 cpu, struct task_struct *p)
{
	CALL(h, .cb = ENOKI_CALL_TICK, .cpu = cpu, .p = p);
}

void enoki_call_set_weight(struct enoki_host *h, s32 cpu,
			   struct task_struct *p, u32 weight)
{
	CALL(h, .cb = ENOKI_CALL_SET_WEIGHT, .cpu = cpu, .p = p,
	     .weight = weight);
}

void enoki_call_set_cpumask(struct enoki_host *h, s32 cpu,
			    struct task_struct *p, const struct cpumask *m)
{
	CALL(h, .cb = ENOKI_CALL_SET_CPUMASK, .cpu = cpu, .p = p, .mask = m);
}

s32 enoki_call_init_task(struct enoki_host *h, s32 cpu,
			 struct task_struct *p, bool fork)
{
	struct scx_init_task_args args = { .fork = fork };

	return (s32)CALL(h, .cb = ENOKI_CALL_INIT_TASK, .cpu = cpu, .p = p,
			 .init_args = &args);
}

void enoki_call_exit_task(struct enoki_host *h, s32 cpu,
			  struct task_struct *p, bool cancelled)
{
	struct scx_exit_task_args args = { .cancelled = cancelled };

	CALL(h, .cb = ENOKI_CALL_EXIT_TASK, .cpu = cpu, .p = p,
	     .exit_args = &args);
}

s32 enoki_call_init(struct enoki_host *h)
{
	return (s32)CALL(h, .cb = ENOKI_CALL_INIT, .cpu = 0);
}

void enoki_call_exit(struct enoki_host *h)
{
	CALL(h, .cb = ENOKI_CALL_EXIT, .cpu = 0, .ei = &h->exit);
}

void enoki_call_cpu_online(struct enoki_host *h, s32 cpu)
{
	CALL(h, .cb = ENOKI_CALL_CPU_ONLINE, .cpu = cpu, .arg_cpu = cpu);
}

void enoki_call_cpu_offline(struct enoki_host *h, s32 cpu)
{
	CALL(h, .cb = ENOKI_CALL_CPU_OFFLINE, .cpu = cpu, .arg_cpu = cpu);
}

void enoki_call_msg(struct enoki_host *h, s32 cpu, const struct enoki_msg *m)
{
	CALL(h, .cb = ENOKI_CALL_MSG, .cpu = cpu, .msg = m);
}

void enoki_call_timer(struct enoki_host *h, s32 cpu, struct enoki_timer *t)
{
	CALL(h, .cb = ENOKI_CALL_TIMER, .cpu = cpu, .timer = t);
}
