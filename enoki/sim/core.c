/*
 * core.c - the simulated machine: CPUs, dispatch queues, events, and the
 * sched_ext rules that decide what runs where.
 *
 * Discrete events in a binary heap ordered by (time, sequence number), so
 * ties break in the order events were made and a run is a pure function
 * of workload, policy and seed.  Scheduling itself takes no simulated
 * time.  A CPU reschedules (schedule()) when its task blocks or exits,
 * when a tick finds the slice used up, when it is kicked, and when a task
 * lands in its local DSQ or is woken onto it while it is idle; requests
 * to reschedule made inside a callback wait in a ring and run, in order,
 * as soon as the callback returns.
 *
 * schedule() follows kernel/sched/ext.c (balance_one, pick_task_scx,
 * put_prev_task_scx, set_next_task_scx):
 *
 *   1. a runnable prev with slice left keeps the CPU;
 *   2. else the local DSQ, then the global DSQ (first task allowed here),
 *      then ops.dispatch(cpu, prev) in a loop of at most 32 rounds while
 *      it inserts something, rechecking 1 (prev's slice) and the local
 *      and global DSQ after each round;
 *   3. nothing found and prev still runnable: prev keeps running, its
 *      slice refilled to SCX_SLICE_DFL (unless SCX_OPS_ENQ_LAST);
 *   4. switching: prev gets stopping(p, true) and goes back through
 *      ops.enqueue (or to the local DSQ head if it has slice left); the
 *      next task leaves the local DSQ and gets running(p).
 *
 * Slices shrink by the time run and are checked at ticks (HZ=1000, only
 * on busy CPUs), as the kernel does; finer preemption takes a policy
 * timer and a PREEMPT kick.  Wakeups go select_cpu (or the default idle
 * pick with direct dispatch when the policy has none) -> runnable ->
 * enqueue, or the direct dispatch the policy asked for in select_cpu.
 * Inserting into the local DSQ of a CPU the task may not use puts it in
 * the global DSQ instead, as dispatch_to_local_dsq does.  Calls from the
 * wrong callback, unknown DSQs, CPUs out of range and mixing FIFO and
 * vtime order in one DSQ eject the policy, as scx_error() does; so do the
 * watchdog (a runnable task not run within the timeout) and enoki_error.
 *
 * Not modelled: SMT and LLC topology (select_cpu_dfl: prev if idle, then
 * any idle CPU, ignoring WAKE_SYNC), other sched classes, migration
 * costs, the stopping/running pair around a running task's property
 * change, CPU hotplug after start.
 *
 * Custody (kernel/sched/ext.c since "Fix ops.dequeue() semantics"): a
 * task that ops.enqueue keeps, or that ops.enqueue/select_cpu insert
 * into a user DSQ, is in the policy's custody and gets exactly one
 * ops.dequeue when it leaves it: flags 0 when ops.dispatch inserts it
 * into a local or the global DSQ or moves it to a local DSQ (called
 * when the dispatch callback returns), SCHED_CHANGE when a renice takes
 * it out of the queue (sim_set_weight) or the simulation ends while it
 * waits.
 */
#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sim_int.h"

#define DSQ_LOCAL_CPU_MASK 0xffffffffULL

static struct enoki_sim *of(struct enoki_host *h)
{
	return h->priv;
}

static struct sim_task *T(const struct task_struct *p)
{
	return (struct sim_task *)p;
}

/* ---- events ------------------------------------------------------------ */

static bool ev_before(const struct sim_ev *a, const struct sim_ev *b)
{
	return a->time < b->time || (a->time == b->time && a->seq < b->seq);
}

void sim_push(struct enoki_sim *s, u64 time, u32 kind, u32 a, u32 gen,
	      void *p)
{
	struct sim_ev e = { time, s->seq++, kind, a, gen, p };
	size_t i;

	if (s->heap_n == s->heap_cap) {
		size_t cap = s->heap_cap ? 2 * s->heap_cap : 1024;
		struct sim_ev *nh = realloc(s->heap, cap * sizeof(*nh));

		if (!nh) {
			enoki_host_eject(&s->host, ENOKI_EXIT_ERROR_BPF,
					 "simulator out of memory");
			return;
		}
		s->heap = nh;
		s->heap_cap = cap;
	}
	i = s->heap_n++;
	while (i > 0 && ev_before(&e, &s->heap[(i - 1) / 2])) {
		s->heap[i] = s->heap[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	s->heap[i] = e;
}

static struct sim_ev pop(struct enoki_sim *s)
{
	struct sim_ev top = s->heap[0], last = s->heap[--s->heap_n];
	size_t i = 0, n = s->heap_n;

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= n)
			break;
		if (c + 1 < n && ev_before(&s->heap[c + 1], &s->heap[c]))
			c++;
		if (!ev_before(&s->heap[c], &last))
			break;
		s->heap[i] = s->heap[c];
		i = c;
	}
	if (n)
		s->heap[i] = last;
	return top;
}

/* ---- errors --------------------------------------------------------------- */

static void bad_call(struct enoki_sim *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* A policy misuse of the API: eject, as scx_error() would. */
static void bad_call(struct enoki_sim *s, const char *fmt, ...)
{
	char text[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	enoki_host_eject(&s->host, ENOKI_EXIT_ERROR_BPF, "%s", text);
}

static bool cpu_valid(struct enoki_sim *s, s32 cpu, const char *where)
{
	if (cpu >= 0 && (u32)cpu < s->nr_cpus)
		return true;
	bad_call(s, "invalid CPU %d %s", cpu, where);
	return false;
}

/* ---- callbacks -------------------------------------------------------------- */

/* Set the context a callback runs in; enoki_this_cpu() returns @cpu. */
static void ctx_enter(struct enoki_sim *s, enum sim_ctx ctx, s32 cpu,
		      struct sim_task *p)
{
	s->ctx = ctx;
	s->cur_cpu = cpu;
	s->ctx_task = p;
}

static void ctx_leave(struct enoki_sim *s)
{
	s->ctx = CTX_NONE;
	s->ctx_task = NULL;
}

/* ---- idle tracking -------------------------------------------------------- */

static void cpu_set_idle(struct enoki_sim *s, struct sim_cpu *c, bool idle)
{
	c->idle_bit = idle;
}

static bool claim_idle(struct enoki_sim *s, s32 cpu)
{
	struct sim_cpu *c = &s->cpus[cpu];

	if (!c->idle_bit)
		return false;
	c->idle_bit = false;
	return true;
}

/* First idle CPU in @p's mask after a rotating cursor (the kernel's
 * cpumask_any_and_distribute), claimed; -EBUSY if none. */
static s32 pick_idle(struct enoki_sim *s, const struct sim_task *p)
{
	u32 i;

	for (i = 0; i < s->nr_cpus; i++) {
		s32 cpu = (s32)((s->idle_cursor + i) % s->nr_cpus);

		if (enoki_cpumask_has(&p->allowed, cpu) && claim_idle(s, cpu)) {
			s->idle_cursor = (u32)cpu + 1;
			return cpu;
		}
	}
	return -EBUSY;
}

static s32 select_dfl(struct enoki_sim *s, struct sim_task *p, s32 prev_cpu,
		      bool *is_idle)
{
	s32 cpu;

	*is_idle = false;
	if (prev_cpu >= 0 && (u32)prev_cpu < s->nr_cpus &&
	    enoki_cpumask_has(&p->allowed, prev_cpu) &&
	    claim_idle(s, prev_cpu)) {
		*is_idle = true;
		return prev_cpu;
	}
	cpu = pick_idle(s, p);
	if (cpu >= 0) {
		*is_idle = true;
		return cpu;
	}
	return prev_cpu;
}

/* ---- resched ---------------------------------------------------------------- */

static void resched(struct enoki_sim *s, s32 cpu)
{
	struct sim_cpu *c = &s->cpus[cpu];

	if (c->resched)
		return;
	c->resched = true;
	s->resched_ring[(s->rs_head + s->rs_n++) % s->nr_cpus] = cpu;
}

/* ---- dispatch queues ------------------------------------------------------ */

static struct sim_dsq *custom_find(struct enoki_sim *s, u64 id, bool make)
{
	u32 i = (u32)((id * 0x9e3779b97f4a7c15ULL) >> 40) % s->custom_cap;

	for (;; i = (i + 1) % s->custom_cap) {
		struct sim_dsq *d = &s->custom[i];

		if (d->used && d->id == id)
			return d;
		if (!d->used && !d->tomb) {	/* never used */
			if (!make)
				return NULL;
			memset(d, 0, sizeof(*d));
			d->id = id;
			d->used = true;
			d->cpu = -1;
			return d;
		}
	}
}

static void dsq_remove(struct sim_task *p)
{
	struct sim_dsq *d = p->dsq;

	if (p->qprev)
		p->qprev->qnext = p->qnext;
	else
		d->head = p->qnext;
	if (p->qnext)
		p->qnext->qprev = p->qprev;
	else
		d->tail = p->qprev;
	p->qprev = p->qnext = NULL;
	p->dsq = NULL;
	d->nr--;
	if (!d->nr)
		d->priq = false;
}

static void link_after(struct sim_dsq *d, struct sim_task *pos,
		       struct sim_task *p)
{
	p->qprev = pos;
	p->qnext = pos ? pos->qnext : d->head;
	if (p->qnext)
		p->qnext->qprev = p;
	else
		d->tail = p;
	if (pos)
		pos->qnext = p;
	else
		d->head = p;
	p->dsq = d;
	d->nr++;
}

/* Put @p in @d: FIFO (head with ENQ_HEAD) or by vtime. */
static void dsq_add(struct enoki_sim *s, struct sim_dsq *d,
		    struct sim_task *p, u64 flags, bool by_vtime)
{
	struct sim_task *pos;

	if (by_vtime) {
		if (d->cpu >= 0 || d == &s->global) {
			bad_call(s, "cannot use vtime ordering for built-in DSQ 0x%llx",
				 (unsigned long long)d->id);
			return;
		}
		if (d->nr && !d->priq) {
			bad_call(s, "DSQ 0x%llx already had FIFO-enqueued tasks",
				 (unsigned long long)d->id);
			return;
		}
		d->priq = true;
		for (pos = d->tail; pos && (s64)(pos->vtime - p->vtime) > 0;
		     pos = pos->qprev)
			;
		link_after(d, pos, p);
		return;
	}
	if (d->priq) {
		bad_call(s, "DSQ 0x%llx already had PRIQ-enqueued tasks",
			 (unsigned long long)d->id);
		return;
	}
	link_after(d, (flags & ENOKI_ENQ_HEAD) ? NULL : d->tail, p);
}

/* Into @cpu's local DSQ, or the global one if @p may not run there; the
 * CPU is rescheduled if idle, or preempted with ENQ_PREEMPT. */
static void to_local(struct enoki_sim *s, struct sim_task *p, s32 cpu,
		     u64 flags)
{
	struct sim_cpu *c = &s->cpus[cpu];

	if (!enoki_cpumask_has(&p->allowed, cpu)) {
		dsq_add(s, &s->global, p, flags, false);
		return;
	}
	p->cpu = cpu;
	dsq_add(s, &c->local, p, flags, false);
	if ((flags & ENOKI_ENQ_PREEMPT) && c->curr && c->curr != p) {
		c->curr->slice = 0;
		resched(s, cpu);
	} else if (!c->curr) {
		resched(s, cpu);
	}
}

/* Send @p to @dsq_id; LOCAL means @local_cpu's. */
static void dispatch_to(struct enoki_sim *s, struct sim_task *p, u64 dsq_id,
			u64 flags, bool by_vtime, s32 local_cpu)
{
	struct sim_dsq *d;

	if (dsq_id == ENOKI_DSQ_LOCAL) {
		to_local(s, p, local_cpu, flags);
	} else if ((dsq_id & ENOKI_DSQ_LOCAL_ON) == ENOKI_DSQ_LOCAL_ON) {
		s32 cpu = (s32)(dsq_id & DSQ_LOCAL_CPU_MASK);

		if (cpu_valid(s, cpu, "in SCX_DSQ_LOCAL_ON"))
			to_local(s, p, cpu, flags);
	} else if (dsq_id == ENOKI_DSQ_GLOBAL) {
		dsq_add(s, &s->global, p, flags, by_vtime);
	} else if (dsq_id & ENOKI_DSQ_FLAG_BUILTIN) {
		bad_call(s, "invalid built-in DSQ 0x%llx",
			 (unsigned long long)dsq_id);
	} else if ((d = custom_find(s, dsq_id, false))) {
		dsq_add(s, d, p, flags, by_vtime);
	} else {
		bad_call(s, "non-existent DSQ 0x%llx",
			 (unsigned long long)dsq_id);
	}
}

/* Move the first task of @d that may run on @cpu to its local DSQ;
 * returns it, or NULL. */
static struct sim_task *consume(struct enoki_sim *s, struct sim_dsq *d,
				s32 cpu)
{
	struct sim_task *p;

	for (p = d->head; p; p = p->qnext) {
		if (!enoki_cpumask_has(&p->allowed, cpu))
			continue;
		dsq_remove(p);
		p->cpu = cpu;
		dsq_add(s, &s->cpus[cpu].local, p, 0, false);
		return p;
	}
	return NULL;
}

/* ---- custody and ops.dequeue ----------------------------------------------- */

/* Local DSQs and the global one: a task there is out of the policy's
 * hands.  A task in a user DSQ, or held after ops.enqueue, is in its
 * custody and owes it one ops.dequeue when it leaves. */
static bool dsq_terminal(u64 dsq_id)
{
	return dsq_id == ENOKI_DSQ_LOCAL || dsq_id == ENOKI_DSQ_GLOBAL ||
	       (dsq_id & ENOKI_DSQ_LOCAL_ON) == ENOKI_DSQ_LOCAL_ON;
}

/* @p left custody during ops.dispatch (inserted into a terminal DSQ, or
 * moved from a user DSQ to a local one): its ops.dequeue(p, 0) runs when
 * the dispatch callback returns (flush_dequeues), never nested in it. */
static void custody_end_dispatch(struct enoki_sim *s, struct sim_task *p)
{
	if (!p->custody)
		return;
	p->custody = false;
	p->deq_next = NULL;
	if (s->deq_last)
		s->deq_last->deq_next = p;
	else
		s->deq_first = p;
	s->deq_last = p;
}

static void flush_dequeues(struct enoki_sim *s, s32 cpu)
{
	struct sim_task *p;

	while ((p = s->deq_first)) {
		s->deq_first = p->deq_next;
		if (!s->deq_first)
			s->deq_last = NULL;
		p->deq_next = NULL;
		if (s->host.ejected)
			continue;
		ctx_enter(s, CTX_OTHER, cpu, p);
		enoki_call_dequeue(&s->host, cpu, &p->t, 0);
		ctx_leave(s);
	}
}

/* ---- running and accounting -------------------------------------------- */

/* Charge the time since the last update to the CPU's current task. */
static void update_curr(struct enoki_sim *s, struct sim_cpu *c)
{
	struct sim_task *p = c->curr;
	u64 delta = s->now - c->last_update;

	c->last_update = s->now;
	if (!p || !delta)
		return;
	c->busy_ns += delta;
	p->runtime += delta;
	if (p->slice != ENOKI_SLICE_INF)
		p->slice -= p->slice < delta ? p->slice : delta;
	if (p->remaining != SIM_FOREVER)
		p->remaining -= p->remaining < delta ? p->remaining : delta;
}

static void arm_tick(struct enoki_sim *s, struct sim_cpu *c)
{
	if (c->tick_armed)
		return;
	c->tick_armed = true;
	sim_push(s, (s->now / SIM_TICK_NS + 1) * SIM_TICK_NS, EV_TICK,
		 (u32)c->id, 0, NULL);
}

static void arm_burst(struct enoki_sim *s, struct sim_cpu *c)
{
	c->burst_gen++;
	if (c->curr->remaining != SIM_FOREVER)
		sim_push(s, s->now + c->curr->remaining, EV_BURST_END,
			 (u32)c->id, c->burst_gen, NULL);
}

static void start_running(struct enoki_sim *s, struct sim_cpu *c,
			  struct sim_task *p)
{
	dsq_remove(p);
	p->state = SIM_T_RUNNING;
	p->cpu = c->id;
	p->wait += s->now - p->runnable_since;
	p->nr_runs++;
	if (p->lat_pending) {
		p->lat_pending = false;
		sim_hist_add(&p->g->wake_lat, s->now - p->woke_at);
		p->wake_cpu[c->id]++;
	}
	c->curr = p;
	c->last_update = s->now;
	c->run_start = s->now;
	cpu_set_idle(s, c, false);
	ctx_enter(s, CTX_OTHER, c->id, p);
	enoki_call_running(&s->host, c->id, &p->t);
	ctx_leave(s);
	arm_burst(s, c);
	arm_tick(s, c);
}

static void stop_interval(struct enoki_sim *s, struct sim_cpu *c)
{
	if (s->o.keep_intervals && c->curr && s->now > c->run_start)
		sim_iv_add(s, c->id, c->curr->t.pid, c->run_start, s->now);
	c->burst_gen++;
}

/* ---- enqueue ------------------------------------------------------------------- */

/* do_enqueue_task: direct dispatch, ops.enqueue, or the global DSQ. */
static void do_enqueue(struct enoki_sim *s, struct sim_task *p, u64 flags)
{
	if (!p->ddsp && enoki_host_has(&s->host, ENOKI_CALL_ENQUEUE) &&
	    !s->host.ejected) {
		p->in_bpf = true;
		p->custody = true;
		ctx_enter(s, CTX_ENQUEUE, p->cpu, p);
		enoki_call_enqueue(&s->host, p->cpu, &p->t, flags);
		ctx_leave(s);
		if (!p->ddsp)
			return;		/* the policy holds it */
		p->in_bpf = false;
	}
	if (p->ddsp) {
		p->ddsp = false;
		/* from enqueue or select_cpu: only a user DSQ is custody */
		p->custody = !dsq_terminal(p->ddsp_id);
		dispatch_to(s, p, p->ddsp_id, flags | p->ddsp_flags,
			    p->ddsp_vtime, p->cpu);
		return;
	}
	dsq_add(s, &s->global, p, flags, false);
}

/* ---- schedule -------------------------------------------------------------------- */

/* balance_one: true if something is there to run (or prev is kept, *keep). */
static bool balance(struct enoki_sim *s, struct sim_cpu *c,
		    struct sim_task *prev, bool prev_runnable, bool *keep)
{
	struct sim_task *dprev = prev && prev->state != SIM_T_DEAD ?
				 prev : NULL;
	int loops = SIM_DSP_MAX_LOOPS;

	*keep = false;
	if (prev_runnable && prev->slice) {
		*keep = true;
		return true;
	}
	if (c->local.nr || consume(s, &s->global, c->id))
		return true;
	if (!enoki_host_has(&s->host, ENOKI_CALL_DISPATCH) || s->host.ejected)
		return false;
	do {
		s->nr_dsp = 0;
		ctx_enter(s, CTX_DISPATCH, c->id, NULL);
		enoki_call_dispatch(&s->host, c->id, dprev ? &dprev->t : NULL);
		ctx_leave(s);
		flush_dequeues(s, c->id);
		if (s->host.ejected)
			return false;
		if (prev_runnable && prev->slice) {
			*keep = true;
			return true;
		}
		if (c->local.nr || consume(s, &s->global, c->id))
			return true;
		if (!--loops) {
			resched(s, c->id);
			break;
		}
	} while (s->nr_dsp);
	return false;
}

/* __schedule on @c: prev is c->curr, runnable or already blocked. */
static void schedule(struct enoki_sim *s, struct sim_cpu *c)
{
	struct sim_task *prev = c->curr, *next;
	bool prev_runnable = prev && prev->state == SIM_T_RUNNING;
	bool keep, found;

	update_curr(s, c);
	found = balance(s, c, prev, prev_runnable, &keep);
	if (s->host.ejected)
		return;
	if (!found && prev_runnable &&
	    !(s->host.policy->ops.flags & SIM_OPS_ENQ_LAST))
		keep = true;
	if (keep) {
		if (!prev->slice)
			prev->slice = ENOKI_SLICE_DFL;
		return;
	}

	next = c->local.head;
	if (prev) {
		stop_interval(s, c);
		c->curr = NULL;
	}
	if (prev_runnable) {
		ctx_enter(s, CTX_OTHER, c->id, prev);
		enoki_call_stopping(&s->host, c->id, &prev->t, true);
		ctx_leave(s);
		prev->state = SIM_T_RUNNABLE;
		prev->runnable_since = s->now;
		if (prev->slice)
			dsq_add(s, &c->local, prev, ENOKI_ENQ_HEAD, false);
		else
			do_enqueue(s, prev, next ? 0 : ENOKI_ENQ_LAST);
		next = c->local.head;
	}
	if (s->host.ejected)
		return;
	if (next) {
		start_running(s, c, next);
	} else {
		c->curr = NULL;
		cpu_set_idle(s, c, true);
	}
}

static void flush_resched(struct enoki_sim *s)
{
	while (s->rs_n && !s->host.ejected) {
		s32 cpu = s->resched_ring[s->rs_head];

		s->rs_head = (s->rs_head + 1) % s->nr_cpus;
		s->rs_n--;
		s->cpus[cpu].resched = false;
		schedule(s, &s->cpus[cpu]);
	}
}

/* ---- task life ------------------------------------------------------------------ */

void sim_deliver_msg(struct enoki_sim *s, s32 cpu, const struct enoki_msg *m)
{
	ctx_enter(s, CTX_OTHER, cpu, NULL);
	enoki_call_msg(&s->host, cpu, m);
	ctx_leave(s);
}

static void send_hint(struct enoki_sim *s, struct sim_task *p)
{
	const struct sim_hint *h = &p->g->spec->hint;
	struct enoki_msg m = { .type = h->type, .pid = (u32)p->t.pid };

	if (h->nr_args)
		memcpy(m.arg, h->args[p->gidx % h->nr_args], sizeof(m.arg));
	sim_deliver_msg(s, p->cpu, &m);
}

/*
 * sim_wake - @p (sleeping or new) becomes runnable, woken from
 * @waker_cpu: select_cpu, runnable, enqueue; an idle target CPU is
 * rescheduled.
 */
void sim_wake(struct enoki_sim *s, struct sim_task *p, s32 waker_cpu,
	      u64 wake_flags)
{
	bool fork = wake_flags & ENOKI_WAKE_FORK, is_idle;
	u64 enq_flags = fork ? 0 : ENOKI_ENQ_WAKEUP;
	s32 prev_cpu = p->cpu, cpu;

	assert(p->state == SIM_T_SLEEPING || p->state == SIM_T_NEW);
	p->state = SIM_T_RUNNABLE;
	p->runnable_since = s->now;
	p->woke_at = s->now;
	p->lat_pending = true;
	p->nr_wakeups++;
	if (p->g->spec->hint.set && p->g->spec->hint.on_wake)
		send_hint(s, p);

	ctx_enter(s, CTX_SELECT_CPU, waker_cpu, p);
	if (enoki_host_has(&s->host, ENOKI_CALL_SELECT_CPU)) {
		cpu = enoki_call_select_cpu(&s->host, waker_cpu, &p->t,
					    prev_cpu, wake_flags);
		if (!s->host.ejected)
			cpu_valid(s, cpu, "from ops.select_cpu()");
	} else {
		cpu = select_dfl(s, p, prev_cpu, &is_idle);
		if (is_idle) {
			p->ddsp = true;
			p->ddsp_vtime = false;
			p->ddsp_id = ENOKI_DSQ_LOCAL;
			p->ddsp_flags = 0;
			p->slice = ENOKI_SLICE_DFL;
		}
	}
	ctx_leave(s);
	if (s->host.ejected)
		return;
	if (!enoki_cpumask_has(&p->allowed, cpu)) {
		/* select_fallback_rq: the first allowed CPU */
		for (cpu = 0; !enoki_cpumask_has(&p->allowed, cpu); cpu++)
			;
	}
	p->cpu = cpu;

	ctx_enter(s, CTX_OTHER, cpu, p);
	enoki_call_runnable(&s->host, cpu, &p->t, enq_flags);
	ctx_leave(s);
	do_enqueue(s, p, enq_flags);
	if (!s->cpus[cpu].curr)
		resched(s, cpu);
}

/* The running task of @c blocks (sleep) or exits: dequeue callbacks now,
 * schedule, and for an exit, exit_task and free its storage. */
/*
 * sim_set_weight - set_user_nice's sched_change around ops.set_weight.  A
 * queued task (runnable, not running) is dequeued first (ops.dequeue with
 * SCHED_CHANGE if it is in the policy's custody, then ops.quiescent, and
 * it leaves whatever DSQ holds it) and enqueued again afterwards
 * (ops.runnable, then ops.enqueue), as dequeue_task_scx and
 * enqueue_task_scx do.  A sleeping task only gets set_weight; so does a
 * running one (the kernel's stopping/running pair around it is not
 * reproduced).
 */
void sim_set_weight(struct enoki_sim *s, struct sim_task *p, u32 weight)
{
	bool queued = p->state == SIM_T_RUNNABLE && !s->host.ejected;

	ctx_enter(s, CTX_OTHER, p->cpu, p);
	if (queued) {
		if (p->custody) {
			p->custody = false;
			enoki_call_dequeue(&s->host, p->cpu, &p->t,
					   ENOKI_DEQ_SCHED_CHANGE);
		}
		p->in_bpf = false;
		enoki_call_quiescent(&s->host, p->cpu, &p->t, 0);
		if (p->dsq)
			dsq_remove(p);
	}
	p->weight = weight;
	enoki_call_set_weight(&s->host, p->cpu, &p->t, weight);
	if (!queued || s->host.ejected) {
		ctx_leave(s);
		return;
	}
	enoki_call_runnable(&s->host, p->cpu, &p->t, 0);
	ctx_leave(s);
	do_enqueue(s, p, 0);
}

static void block_curr(struct enoki_sim *s, struct sim_cpu *c)
{
	struct sim_task *p = c->curr;
	bool dead = p->state == SIM_T_DEAD;

	ctx_enter(s, CTX_OTHER, c->id, p);
	enoki_call_stopping(&s->host, c->id, &p->t, false);
	enoki_call_quiescent(&s->host, c->id, &p->t, 0);
	ctx_leave(s);
	schedule(s, c);
	if (dead) {
		ctx_enter(s, CTX_OTHER, c->id, p);
		enoki_call_exit_task(&s->host, c->id, &p->t, false);
		ctx_leave(s);
		p->g->dead_runtime += p->runtime;
		p->g->dead_wait += p->wait;
		p->g->dead_wakeups += p->nr_wakeups;
		enoki_host_task_free(&p->t);
	}
}

u32 sim_nice_weight(int nice)
{
	static const u32 prio_to_weight[40] = {
		88761, 71755, 56483, 46273, 36291, 29154, 23254, 18705,
		14949, 11916, 9548, 7620, 6100, 4904, 3906, 3121,
		2501, 1991, 1586, 1277, 1024, 820, 655, 526,
		423, 335, 272, 215, 172, 137, 110, 87,
		70, 56, 45, 36, 29, 23, 18, 15,
	};
	u32 w = prio_to_weight[nice + 20];

	/* sched_weight_to_cgroup: 1024 -> 100, rounded, 1..10000 */
	w = (w * 100 + 512) / 1024;
	return w < 1 ? 1 : w > 10000 ? 10000 : w;
}

/*
 * sim_task_new - create a task of group @g: init_task (fork as given)
 * and set_weight; NULL if init_task refused it.  Not yet runnable.
 */
struct sim_task *sim_task_new(struct enoki_sim *s, struct sim_group *g,
			      u32 gidx, s32 parent_cpu, bool fork)
{
	struct sim_task *p;
	s32 err, i;

	if (s->nr_tasks == s->tasks_cap) {
		size_t cap = s->tasks_cap ? 2 * s->tasks_cap : 64;
		struct sim_task **nt = realloc(s->tasks, cap * sizeof(*nt));

		if (!nt)
			return NULL;
		s->tasks = nt;
		s->tasks_cap = cap;
	}
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->wake_cpu = calloc(s->nr_cpus, sizeof(*p->wake_cpu));
	if (!p->wake_cpu) {
		free(p);
		return NULL;
	}
	s->tasks[s->nr_tasks++] = p;
	p->t.pid = (s32)s->nr_tasks;
	p->g = g;
	p->gidx = gidx;
	p->state = SIM_T_NEW;
	p->nice = g->spec->nice;
	p->weight = sim_nice_weight(p->nice);
	for (i = 0; (u32)i < s->nr_cpus; i++) {
		if (enoki_cpumask_has(&g->spec->allowed, i)) {
			enoki_cpumask_set(&p->allowed, i);
			p->nr_allowed++;
		}
	}
	p->cpu = enoki_cpumask_has(&p->allowed, parent_cpu) ? parent_cpu : -1;
	for (i = 0; p->cpu < 0; i++)
		if (enoki_cpumask_has(&p->allowed, i))
			p->cpu = i;
	p->remaining = SIM_FOREVER;
	g->nr_created++;

	ctx_enter(s, CTX_OTHER, parent_cpu, p);
	err = enoki_call_init_task(&s->host, parent_cpu, &p->t, fork);
	if (!err)
		enoki_call_set_weight(&s->host, parent_cpu, &p->t, p->weight);
	ctx_leave(s);
	if (err) {
		if (!fork)
			enoki_host_eject(&s->host, ENOKI_EXIT_ERROR,
					 "ops.init_task() failed (%d) for %s[%d]",
					 err, g->spec->name, p->t.pid);
		p->state = SIM_T_DEAD;
		return NULL;
	}
	if (g->spec->hint.set && !g->spec->hint.on_wake)
		send_hint(s, p);
	return p;
}

/* ---- host ops ------------------------------------------------------------------------ */

static s32 op_task_pid(struct enoki_host *h, const struct task_struct *p)
{
	return p->pid;
}

static u32 op_task_weight(struct enoki_host *h, const struct task_struct *p)
{
	return T(p)->weight;
}

static s32 op_task_cpu(struct enoki_host *h, const struct task_struct *p)
{
	return T(p)->cpu;
}

static bool op_task_allowed(struct enoki_host *h, const struct task_struct *p,
			    s32 cpu)
{
	return enoki_cpumask_has(&T(p)->allowed, cpu) &&
	       (u32)cpu < of(h)->nr_cpus;
}

static s32 op_task_nr_cpus_allowed(struct enoki_host *h,
				   const struct task_struct *p)
{
	return T(p)->nr_allowed;
}

static u64 op_task_slice(struct enoki_host *h, const struct task_struct *p)
{
	return T(p)->slice;
}

static void op_task_set_slice(struct enoki_host *h, struct task_struct *p,
			      u64 slice)
{
	T(p)->slice = slice;
}

static u64 op_task_vtime(struct enoki_host *h, const struct task_struct *p)
{
	return T(p)->vtime;
}

static void op_task_set_vtime(struct enoki_host *h, struct task_struct *p,
			      u64 vtime)
{
	T(p)->vtime = vtime;
}

static bool op_cpumask_test(struct enoki_host *h, const struct cpumask *m,
			    s32 cpu)
{
	return enoki_cpumask_has(m, cpu);
}

static s32 op_dsq_create(struct enoki_host *h, u64 id)
{
	struct enoki_sim *s = of(h);

	if (id & ENOKI_DSQ_FLAG_BUILTIN)
		return -EINVAL;
	if (custom_find(s, id, false))
		return -EEXIST;
	if (2 * (s->nr_custom + 1) > s->custom_cap)
		return -ENOMEM;
	custom_find(s, id, true);
	s->nr_custom++;
	return 0;
}

static void op_dsq_destroy(struct enoki_host *h, u64 id)
{
	struct enoki_sim *s = of(h);
	struct sim_dsq *d = custom_find(s, id, false);

	if (!d)
		return;
	if (d->nr) {
		bad_call(s, "destroying non-empty DSQ 0x%llx",
			 (unsigned long long)id);
		return;
	}
	d->used = false;	/* a tombstone: the probe chain goes on */
	d->tomb = true;
}

static void insert(struct enoki_sim *s, struct sim_task *p, u64 dsq_id,
		   u64 slice, u64 vtime, u64 flags, bool by_vtime)
{
	const char *name = by_vtime ? "enoki_dsq_insert_vtime" :
			   "enoki_dsq_insert";

	if (!p) {
		bad_call(s, "%s: NULL task", name);
		return;
	}
	switch (s->ctx) {
	case CTX_SELECT_CPU:
	case CTX_ENQUEUE:
		if (p != s->ctx_task) {
			bad_call(s, "%s: %d is being enqueued, inserting %d is not allowed",
				 name, s->ctx_task->t.pid, p->t.pid);
			return;
		}
		if (p->ddsp) {
			bad_call(s, "%s: %d already has a dispatch target",
				 name, p->t.pid);
			return;
		}
		p->ddsp = true;
		p->ddsp_id = dsq_id;
		p->ddsp_flags = flags;
		p->ddsp_vtime = by_vtime;
		p->slice = slice ? slice : p->slice ? p->slice : 1;
		if (by_vtime)
			p->vtime = vtime;
		return;
	case CTX_DISPATCH:
		if (++s->nr_dsp > SIM_DSP_MAX_BATCH) {
			bad_call(s, "dispatch buffer overflow");
			return;
		}
		/* stale or not the policy's: ignored, as finish_dispatch does */
		if (!p->in_bpf || p->state != SIM_T_RUNNABLE || p->dsq)
			return;
		p->in_bpf = false;
		p->slice = slice ? slice : p->slice ? p->slice : 1;
		if (by_vtime)
			p->vtime = vtime;
		if (dsq_terminal(dsq_id))
			custody_end_dispatch(s, p);
		dispatch_to(s, p, dsq_id, flags, by_vtime, s->cur_cpu);
		return;
	default:
		bad_call(s, "%s called outside select_cpu, enqueue and dispatch",
			 name);
	}
}

static void op_dsq_insert(struct enoki_host *h, struct task_struct *p,
			  u64 dsq_id, u64 slice, u64 flags)
{
	insert(of(h), T(p), dsq_id, slice, 0, flags, false);
}

static void op_dsq_insert_vtime(struct enoki_host *h, struct task_struct *p,
				u64 dsq_id, u64 slice, u64 vtime, u64 flags)
{
	insert(of(h), T(p), dsq_id, slice, vtime, flags, true);
}

static bool op_dsq_move_to_local(struct enoki_host *h, u64 id)
{
	struct enoki_sim *s = of(h);
	struct sim_task *p;
	struct sim_dsq *d;

	if (s->ctx != CTX_DISPATCH) {
		bad_call(s, "enoki_dsq_move_to_local called outside dispatch");
		return false;
	}
	if (id == ENOKI_DSQ_GLOBAL)
		d = &s->global;
	else if (!(id & ENOKI_DSQ_FLAG_BUILTIN))
		d = custom_find(s, id, false);
	else
		d = NULL;
	if (!d) {
		bad_call(s, "enoki_dsq_move_to_local: invalid DSQ 0x%llx",
			 (unsigned long long)id);
		return false;
	}
	p = consume(s, d, s->cur_cpu);
	if (p)
		custody_end_dispatch(s, p);
	return p != NULL;
}

static s32 op_dsq_nr_queued(struct enoki_host *h, u64 id)
{
	struct enoki_sim *s = of(h);
	struct sim_dsq *d;

	if (id == ENOKI_DSQ_LOCAL)
		return (s32)s->cpus[s->cur_cpu].local.nr;
	if ((id & ENOKI_DSQ_LOCAL_ON) == ENOKI_DSQ_LOCAL_ON) {
		u64 cpu = id & DSQ_LOCAL_CPU_MASK;

		return cpu < s->nr_cpus ? (s32)s->cpus[cpu].local.nr : -ENOENT;
	}
	if (id == ENOKI_DSQ_GLOBAL)
		return (s32)s->global.nr;
	d = (id & ENOKI_DSQ_FLAG_BUILTIN) ? NULL : custom_find(s, id, false);
	return d ? (s32)d->nr : -ENOENT;
}

static u32 op_nr_cpus(struct enoki_host *h)
{
	return of(h)->nr_cpus;
}

static s32 op_this_cpu(struct enoki_host *h)
{
	return of(h)->cur_cpu;
}

static void op_kick_cpu(struct enoki_host *h, s32 cpu, u64 flags)
{
	struct enoki_sim *s = of(h);
	struct sim_cpu *c;

	if (!cpu_valid(s, cpu, "in enoki_kick_cpu"))
		return;
	c = &s->cpus[cpu];
	if (flags & ENOKI_KICK_IDLE) {
		if (!c->curr)
			resched(s, cpu);
		return;
	}
	if ((flags & ENOKI_KICK_PREEMPT) && c->curr)
		c->curr->slice = 0;
	resched(s, cpu);
}

static s32 op_select_cpu_dfl(struct enoki_host *h, struct task_struct *p,
			     s32 prev_cpu, u64 wake_flags, bool *is_idle)
{
	struct enoki_sim *s = of(h);

	*is_idle = false;
	if (s->ctx != CTX_SELECT_CPU) {
		bad_call(s, "enoki_select_cpu_dfl called outside select_cpu");
		return prev_cpu;
	}
	if (!cpu_valid(s, prev_cpu, "in enoki_select_cpu_dfl"))
		return 0;
	return select_dfl(s, T(p), prev_cpu, is_idle);
}

static bool op_test_and_clear_cpu_idle(struct enoki_host *h, s32 cpu)
{
	struct enoki_sim *s = of(h);

	if (!cpu_valid(s, cpu, "in enoki_test_and_clear_cpu_idle"))
		return false;
	return claim_idle(s, cpu);
}

static s32 op_pick_idle_cpu(struct enoki_host *h, const struct task_struct *p,
			    u64 flags)
{
	return pick_idle(of(h), T(p));
}

static s32 op_pick_any_cpu(struct enoki_host *h, const struct task_struct *p,
			   u64 flags)
{
	struct enoki_sim *s = of(h);
	s32 cpu = pick_idle(s, T(p));
	u32 i;

	if (cpu >= 0)
		return cpu;
	for (i = 0; i < s->nr_cpus; i++) {
		cpu = (s32)((s->idle_cursor + i) % s->nr_cpus);
		if (enoki_cpumask_has(&T(p)->allowed, cpu)) {
			s->idle_cursor = (u32)cpu + 1;
			return cpu;
		}
	}
	return -EBUSY;
}

static u64 op_now(struct enoki_host *h)
{
	return of(h)->now;
}

static s32 op_timer_start(struct enoki_host *h, struct enoki_timer *t,
			  u64 delay)
{
	struct enoki_sim *s = of(h);
	struct sim_timer *st = t->impl;

	if (!st) {
		struct sim_timer *nt = realloc(s->timers,
					       (s->nr_timers + 1) * sizeof(*nt));

		if (!nt)
			return -ENOMEM;
		/* t->impl holds an index + 1: the array may move */
		s->timers = nt;
		st = &s->timers[s->nr_timers];
		memset(st, 0, sizeof(*st));
		st->t = t;
		t->impl = (void *)(uintptr_t)++s->nr_timers;
	} else {
		st = &s->timers[(uintptr_t)t->impl - 1];
	}
	st->gen++;
	st->cpu = s->cur_cpu;
	sim_push(s, s->now + delay, EV_TIMER, (u32)((uintptr_t)t->impl - 1),
		 st->gen, NULL);
	return 0;
}

static s32 op_msg_send(struct enoki_host *h, const struct enoki_msg *m)
{
	struct enoki_sim *s = of(h);

	s->notes_by_type[m->type < 15 ? m->type : 15]++;
	if (s->nr_notes == s->notes_cap) {
		size_t cap = s->notes_cap ? 2 * s->notes_cap : 256;
		struct sim_note *nn;

		if (cap > 1000000)
			return 0;	/* counted, not logged */
		nn = realloc(s->notes, cap * sizeof(*nn));
		if (!nn)
			return 0;
		s->notes = nn;
		s->notes_cap = cap;
	}
	s->notes[s->nr_notes].time = s->now;
	s->notes[s->nr_notes++].m = *m;
	return 0;
}

static void op_printk(struct enoki_host *h, const char *text)
{
	struct enoki_sim *s = of(h);

	s->nr_printk++;
	if (s->o.verbose)
		fprintf(stderr, "[%llu.%06llu] cpu %d: %s\n",
			(unsigned long long)(s->now / 1000000000),
			(unsigned long long)(s->now / 1000 % 1000000),
			s->cur_cpu, text);
}

static void op_error(struct enoki_host *h, const char *text)
{
	/* h->ejected is set; the event loop stops after this event */
}

static const struct enoki_host_ops sim_ops = {
	.task_pid = op_task_pid,
	.task_weight = op_task_weight,
	.task_cpu = op_task_cpu,
	.task_allowed = op_task_allowed,
	.task_nr_cpus_allowed = op_task_nr_cpus_allowed,
	.task_slice = op_task_slice,
	.task_set_slice = op_task_set_slice,
	.task_vtime = op_task_vtime,
	.task_set_vtime = op_task_set_vtime,
	.cpumask_test = op_cpumask_test,
	.dsq_create = op_dsq_create,
	.dsq_destroy = op_dsq_destroy,
	.dsq_insert = op_dsq_insert,
	.dsq_insert_vtime = op_dsq_insert_vtime,
	.dsq_move_to_local = op_dsq_move_to_local,
	.dsq_nr_queued = op_dsq_nr_queued,
	.nr_cpus = op_nr_cpus,
	.this_cpu = op_this_cpu,
	.kick_cpu = op_kick_cpu,
	.select_cpu_dfl = op_select_cpu_dfl,
	.test_and_clear_cpu_idle = op_test_and_clear_cpu_idle,
	.pick_idle_cpu = op_pick_idle_cpu,
	.pick_any_cpu = op_pick_any_cpu,
	.now = op_now,
	.timer_start = op_timer_start,
	.msg_send = op_msg_send,
	.printk = op_printk,
	.error = op_error,
};

/* ---- the event loop ----------------------------------------------------------------- */

static void on_tick(struct enoki_sim *s, struct sim_cpu *c)
{
	if (!c->curr) {
		c->tick_armed = false;
		return;
	}
	update_curr(s, c);
	ctx_enter(s, CTX_OTHER, c->id, c->curr);
	enoki_call_tick(&s->host, c->id, &c->curr->t);
	ctx_leave(s);
	if (c->curr && !c->curr->slice)
		resched(s, c->id);
	sim_push(s, s->now + SIM_TICK_NS, EV_TICK, (u32)c->id, 0, NULL);
}

static void on_burst_end(struct enoki_sim *s, struct sim_cpu *c)
{
	struct sim_task *p = c->curr;

	update_curr(s, c);
	if (sim_behave_burst_done(s, p, c->id)) {
		arm_burst(s, c);
		return;
	}
	block_curr(s, c);
	if (p->state == SIM_T_SLEEPING)
		sim_behave_blocked(s, p, c->id);
}

/* A runnable task that has waited longer than the timeout ejects the
 * policy (check_rq_for_timeouts). */
static void on_watchdog(struct enoki_sim *s)
{
	size_t i;

	for (i = 0; i < s->nr_tasks; i++) {
		struct sim_task *p = s->tasks[i];

		if (p->state == SIM_T_RUNNABLE &&
		    s->now - p->runnable_since >= s->timeout) {
			enoki_host_eject(&s->host, ENOKI_EXIT_ERROR_STALL,
					 "watchdog: %s[%d] runnable for %llu ms without running (timeout %llu ms)",
					 p->g->spec->name, p->t.pid,
					 (unsigned long long)((s->now - p->runnable_since) / 1000000),
					 (unsigned long long)(s->timeout / 1000000));
			return;
		}
	}
	sim_push(s, s->now + s->timeout / 4, EV_WATCHDOG, 0, 0, NULL);
}

static void handle(struct enoki_sim *s, struct sim_ev *e)
{
	struct sim_cpu *c;
	struct sim_timer *st;

	switch (e->kind) {
	case EV_TICK:
		on_tick(s, &s->cpus[e->a]);
		break;
	case EV_BURST_END:
		c = &s->cpus[e->a];
		if (e->gen == c->burst_gen && c->curr)
			on_burst_end(s, c);
		break;
	case EV_TIMER:
		st = &s->timers[e->a];
		if (e->gen != st->gen)
			break;
		ctx_enter(s, CTX_OTHER, st->cpu, NULL);
		enoki_call_timer(&s->host, st->cpu, st->t);
		ctx_leave(s);
		break;
	case EV_WATCHDOG:
		on_watchdog(s);
		break;
	default:
		sim_behave_event(s, e);
	}
}

static void run_loop(struct enoki_sim *s)
{
	while (s->heap_n && !s->host.ejected) {
		struct sim_ev e;

		if (s->heap[0].time >= s->duration)
			break;
		e = pop(s);
		s->now = e.time;
		s->nr_events++;
		handle(s, &e);
		flush_resched(s);
	}
	if (!s->host.ejected)
		s->now = s->duration;
}

/* Close the books at the end: charge running tasks, close intervals,
 * exit_task for every live task, ops.exit. */
static void finish(struct enoki_sim *s)
{
	size_t i;
	u32 cpu;

	for (cpu = 0; cpu < s->nr_cpus; cpu++) {
		struct sim_cpu *c = &s->cpus[cpu];

		update_curr(s, c);
		if (c->curr)
			stop_interval(s, c);
	}
	for (i = 0; i < s->nr_tasks; i++) {
		struct sim_task *p = s->tasks[i];

		if (p->state == SIM_T_RUNNABLE)
			p->wait += s->now - p->runnable_since;
		if (p->state == SIM_T_DEAD)
			continue;
		ctx_enter(s, CTX_OTHER, p->cpu, p);
		/* unloading moves every task out of sched_ext through a
		 * property change: custody ends with ops.dequeue */
		if (p->custody && p->state == SIM_T_RUNNABLE) {
			p->custody = false;
			enoki_call_dequeue(&s->host, p->cpu, &p->t,
					   ENOKI_DEQ_SCHED_CHANGE);
		}
		enoki_call_exit_task(&s->host, p->cpu, &p->t, false);
		ctx_leave(s);
	}
	if (!s->host.ejected) {
		s->host.exit.kind = ENOKI_EXIT_DONE;
		snprintf(s->host.exit_reason, sizeof(s->host.exit_reason),
			 "simulation finished");
	}
	ctx_enter(s, CTX_OTHER, 0, NULL);
	enoki_call_exit(&s->host);
	ctx_leave(s);
}

static double wall_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int enoki_sim_run(struct enoki_sim *s)
{
	struct enoki_host *prev = enoki_host_get();
	double t0 = wall_now();
	s32 err;
	u32 cpu;

	if (s->ran)
		return -EALREADY;
	s->ran = true;
	enoki_host_set(&s->host);
	ctx_enter(s, CTX_OTHER, 0, NULL);
	err = enoki_call_init(&s->host);
	ctx_leave(s);
	if (err && !s->host.ejected)
		enoki_host_eject(&s->host, ENOKI_EXIT_ERROR,
				 "ops.init() failed (%d)", err);
	for (cpu = 0; cpu < s->nr_cpus && !s->host.ejected; cpu++) {
		ctx_enter(s, CTX_OTHER, (s32)cpu, NULL);
		enoki_call_cpu_online(&s->host, (s32)cpu);
		ctx_leave(s);
	}
	if (!s->host.ejected) {
		sim_push(s, s->timeout / 4, EV_WATCHDOG, 0, 0, NULL);
		sim_behave_start(s);
		flush_resched(s);
		run_loop(s);
	}
	finish(s);
	s->wall = wall_now() - t0;
	enoki_host_set(prev);
	return s->host.exit.kind == ENOKI_EXIT_DONE ? 0 : -ECANCELED;
}

/* ---- create / destroy ------------------------------------------------------------------- */

int enoki_sim_create(const struct enoki_workload *w,
		     struct enoki_policy *policy,
		     const struct enoki_sim_opts *o, struct enoki_sim **out,
		     char *err, size_t errlen)
{
	struct enoki_sim *s;
	u32 cpu, g;

	s = calloc(1, sizeof(*s));
	if (!s)
		goto fail_nomem;
	s->w = w;
	s->o = *o;
	s->nr_cpus = o->nr_cpus ? o->nr_cpus : w->nr_cpus;
	if (s->nr_cpus < 1 || s->nr_cpus > ENOKI_MAX_CPUS) {
		snprintf(err, errlen, "%u CPUs: must be 1..%d", s->nr_cpus,
			 ENOKI_MAX_CPUS);
		free(s);
		return -EINVAL;
	}
	s->duration = o->duration_ns ? o->duration_ns : w->duration_ns;
	s->timeout = o->timeout_ns ? o->timeout_ns :
		     w->timeout_ns ? w->timeout_ns :
		     policy->ops.timeout_ms ? policy->ops.timeout_ms * 1000000 :
		     30000000000ULL;
	sim_rng_seed(s->rng, o->has_seed ? o->seed : w->seed);
	enoki_host_init(&s->host, policy, s->nr_cpus, &sim_ops, s);

	s->cpus = calloc(s->nr_cpus, sizeof(*s->cpus));
	s->resched_ring = calloc(s->nr_cpus, sizeof(*s->resched_ring));
	s->custom_cap = 2048;
	s->custom = calloc(s->custom_cap, sizeof(*s->custom));
	if (!s->cpus || !s->resched_ring || !s->custom)
		goto fail_free;
	for (cpu = 0; cpu < s->nr_cpus; cpu++) {
		s->cpus[cpu].id = (s32)cpu;
		s->cpus[cpu].local.cpu = (s32)cpu;
		s->cpus[cpu].local.id = ENOKI_DSQ_LOCAL_ON | cpu;
		s->cpus[cpu].idle_bit = true;
	}
	s->global.id = ENOKI_DSQ_GLOBAL;
	s->global.cpu = -1;
	for (g = 0; g < w->nr_groups; g++) {
		struct sim_group *sg = &s->groups[g];

		sg->spec = &w->groups[g];
		for (cpu = 0; cpu < s->nr_cpus; cpu++)
			if (enoki_cpumask_has(&sg->spec->allowed, (s32)cpu))
				break;
		if (cpu == s->nr_cpus) {
			snprintf(err, errlen, "%s: groups[%u].cpus: names no CPU below %u",
				 w->file, g, s->nr_cpus);
			enoki_sim_destroy(s);
			return -EINVAL;
		}
		sg->wake_lat.b = calloc(SIM_HIST_BUCKETS, sizeof(u64));
		sg->req_lat.b = calloc(SIM_HIST_BUCKETS, sizeof(u64));
		if (!sg->wake_lat.b || !sg->req_lat.b)
			goto fail_free;
	}
	*out = s;
	return 0;

fail_free:
	enoki_sim_destroy(s);
fail_nomem:
	snprintf(err, errlen, "simulator: out of memory");
	return -ENOMEM;
}

void enoki_sim_destroy(struct enoki_sim *s)
{
	size_t i;

	if (!s)
		return;
	for (i = 0; i < s->nr_tasks; i++) {
		enoki_host_task_free(&s->tasks[i]->t);
		free(s->tasks[i]->wake_cpu);
		free(s->tasks[i]);
	}
	for (i = 0; i < s->nr_timers; i++)
		s->timers[i].t->impl = NULL;
	for (i = 0; i < SIM_MAX_GROUPS; i++) {
		free(s->groups[i].wake_lat.b);
		free(s->groups[i].req_lat.b);
		free(s->groups[i].req_q);
		free(s->groups[i].idle_w);
	}
	enoki_host_storage_reset();
	free(s->tasks);
	free(s->timers);
	free(s->notes);
	free(s->iv);
	free(s->heap);
	free(s->cpus);
	free(s->resched_ring);
	free(s->custom);
	free(s);
}

struct enoki_host *enoki_sim_host(struct enoki_sim *s)
{
	return &s->host;
}
