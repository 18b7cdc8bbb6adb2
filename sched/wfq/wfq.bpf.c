/*
 * wfq - weighted fair queueing by virtual runtime, per-CPU queues.
 *
 * What it is for: sharing CPUs among CPU-bound tasks in proportion to
 * their Linux nice weights, as CFS/EEVDF do, with per-CPU queues so that
 * CPUs do not contend on one queue, and with load balancing so that the
 * proportion holds across CPUs and not only within one.
 *
 * How it works.  Each task carries a virtual runtime (the task's
 * dsq_vtime): for the time it runs it is charged that time scaled by
 * 100 / weight (weight 100 is nice 0), so a heavier task's clock moves
 * more slowly.  Each CPU has its own vtime-ordered queue (custom queue id
 * = CPU number, created at init) and runs the task with the smallest
 * vtime first.
 *
 * sched_ext calls dispatch while the previous task is still running and
 * in no queue (it is stopped and enqueued after), so taking the queue's
 * head there would make two tasks on a CPU alternate whatever their
 * weights.  Dispatch therefore charges prev at once and, if no queued
 * task is ahead of it, refills its slice so that it goes on running.  To
 * know that without a peek at the queue, each CPU keeps a lower bound of
 * its queue's vtimes (qmin): lowered by inserts, reset when an insert
 * finds the queue empty, raised to the vtime of each task its own CPU
 * takes from the head.
 *
 * Vtimes are per CPU, as CFS's vruntimes are per runqueue: each CPU has
 * a clock (vnow, the vtime of the latest task to start there) and a task's
 * vtime counts against the clock of the CPU it last ran or queued on.  A
 * task moving to another CPU keeps its lag (vtime - vnow) against the new
 * clock, so CPUs whose clocks run at different speeds (pinned tasks,
 * uneven loads) do not starve the tasks that move between them.  A
 * waking task is clamped to at most one slice behind its CPU's clock, so
 * sleeping banks no credit.
 *
 * Load balancing is in two places.  At enqueue, a task stays on its home
 * CPU's queue unless the home CPU's load (the sum of the weights of the
 * runnable tasks homed there, itself excluded) is above the lightest
 * allowed CPU's load, in which case it moves there: moving then always
 * narrows the gap, so placements converge and do not ping-pong.  In
 * dispatch, a CPU whose own queue is empty steals the first task of the
 * most loaded other queue (by enoki_dsq_nr_queued), unless its prev can
 * go on running and has less lag than what waits there, so no CPU idles
 * while another has waiting tasks and tasks that outnumber CPUs rotate.
 *
 * Limits: loads, clocks and bounds are updated without locks, so in the
 * kernel they are approximate under concurrency (they only steer
 * placement and order).  qmin is a lower bound, so prev sometimes makes
 * way when it need not.  Balancing looks at the lightest CPU only, with
 * no topology (caches, SMT, NUMA).  Wakeups onto an idle CPU go straight
 * to its local queue, bypassing vtime order, which is harmless because
 * that CPU has nothing queued.  Each enqueue scans all CPUs once: fine
 * for up to a few hundred CPUs.
 */
#include <enoki/enoki.h>

#define WFQ_MAX_CPUS 256

const volatile u64 wfq_slice_ns = 5ULL * 1000 * 1000;

u64 wfq_nr_moved;		/* enqueues that changed a task's home CPU */
u64 wfq_nr_stolen;		/* tasks taken from another CPU's queue */
u64 wfq_nr_kept;		/* dispatches that let prev go on running */

struct wfq_task {
	u64 started_at;		/* when its running time was last charged */
	u64 qvtime;		/* its vtime when inserted into a queue */
	u32 home;		/* CPU + 1 whose load holds its weight; 0: none */
	u32 weight;		/* the weight added to that load */
	u32 queued_on;		/* CPU + 1 whose queue holds it; 0: none */
	u32 vcpu;		/* the CPU whose clock its vtime counts against */
	u32 runnable;		/* between runnable and quiescent */
};

struct wfq_cpu {
	u64 load;		/* sum of the weights of tasks homed here */
	u64 vnow;		/* clock: vtime of the latest task to start */
	u64 qmin;		/* no task in this CPU's queue has a lower vtime */
};

ENOKI_TASK_STORAGE(wfq_tasks, struct wfq_task);
ENOKI_CPU_STORAGE(wfq_cpus, struct wfq_cpu);

/* Drop @t's weight from its home CPU's load; it has no home after. */
static void wfq_unhome(struct wfq_task *t)
{
	struct wfq_cpu *c;

	if (!t->home)
		return;
	c = enoki_cpu_storage(&wfq_cpus, (s32)t->home - 1);
	if (c)
		__sync_fetch_and_sub(&c->load, t->weight);
	t->home = 0;
}

/* Make @cpu the home of @p (tracked by @t), moving its weight there. */
static void wfq_set_home(struct task_struct *p, struct wfq_task *t, s32 cpu)
{
	struct wfq_cpu *c;

	if (t->home == (u32)cpu + 1)
		return;
	wfq_unhome(t);
	c = enoki_cpu_storage(&wfq_cpus, cpu);
	if (!c)
		return;
	t->weight = enoki_task_weight(p);
	__sync_fetch_and_add(&c->load, t->weight);
	t->home = (u32)cpu + 1;
}

/* The CPU whose queue @p should join: its home, or a lighter CPU. */
static s32 wfq_pick_queue(struct task_struct *p, struct wfq_task *t)
{
	u64 best_load = ~0ULL, home_load = 0;
	s32 home, best = -1, cpu;
	u32 nr = enoki_nr_cpus();
	struct wfq_cpu *c;

	home = t->home ? (s32)t->home - 1 : enoki_task_cpu(p);
	for (cpu = 0; cpu < WFQ_MAX_CPUS; cpu++) {
		if ((u32)cpu >= nr)
			break;
		c = enoki_cpu_storage(&wfq_cpus, cpu);
		if (!c || !enoki_task_allowed(p, cpu))
			continue;
		if (cpu == home)
			home_load = c->load;
		if (c->load < best_load) {
			best_load = c->load;
			best = cpu;
		}
	}
	if (best < 0)
		return home;

	/* Leave the home only if its load, without us, is above the best. */
	if (t->home == (u32)home + 1)
		home_load -= home_load < t->weight ? home_load : t->weight;
	if (enoki_task_allowed(p, home) && home_load <= best_load)
		return home;
	return best;
}

/* @cpu's load (0 for a CPU out of range). */
static u64 wfq_load(s32 cpu)
{
	struct wfq_cpu *c = enoki_cpu_storage(&wfq_cpus, cpu);

	return c ? c->load : 0;
}

/* @cpu's clock (0 for a CPU out of range). */
static u64 wfq_vnow(s32 cpu)
{
	struct wfq_cpu *c = enoki_cpu_storage(&wfq_cpus, cpu);

	return c ? c->vnow : 0;
}

/* Move @p's vtime onto @cpu's clock, keeping its lag. */
static void wfq_rebase(struct task_struct *p, struct wfq_task *t, s32 cpu)
{
	u64 vtime = enoki_task_vtime(p), from, to;

	if (t->vcpu == (u32)cpu)
		return;
	from = wfq_vnow((s32)t->vcpu);
	to = wfq_vnow(cpu);
	if (vtime >= from)
		vtime = to + (vtime - from);
	else
		vtime = to > from - vtime ? to - (from - vtime) : 0;
	enoki_task_set_vtime(p, vtime);
	t->vcpu = (u32)cpu;
}

/* A task at @vtime starts (or goes on) running on @cpu: its clock. */
static void wfq_advance(s32 cpu, u64 vtime)
{
	struct wfq_cpu *c = enoki_cpu_storage(&wfq_cpus, cpu);

	if (c && vtime > c->vnow)
		c->vnow = vtime;
}

/* Charge @p for the time it ran since it was last charged. */
static void wfq_charge(struct task_struct *p, struct wfq_task *t)
{
	u32 weight = enoki_task_weight(p);
	u64 now = enoki_now(), used;

	used = now > t->started_at ? now - t->started_at : 0;
	t->started_at = now;
	if (weight)
		enoki_task_set_vtime(p, enoki_task_vtime(p) +
				     used * 100 / weight);
}

/* The lower bound of @cpu's queue's vtimes; ~0 if it is empty. */
static u64 wfq_queue_min(s32 cpu)
{
	struct wfq_cpu *c;

	if (!enoki_dsq_nr_queued((u64)cpu))
		return ~0ULL;
	c = enoki_cpu_storage(&wfq_cpus, cpu);
	return c ? c->qmin : 0;
}

s32 ENOKI_CB(wfq_select_cpu, struct task_struct *p, s32 prev_cpu,
	     u64 wake_flags)
{
	bool is_idle = false;
	struct wfq_task *t;
	s32 cpu;

	cpu = enoki_select_cpu_dfl(p, prev_cpu, wake_flags, &is_idle);
	if (!is_idle)
		return cpu;

	/* An idle CPU has an empty queue: run there now. */
	t = enoki_task_storage(&wfq_tasks, p, 0);
	if (t)
		wfq_set_home(p, t, cpu);
	enoki_dsq_insert(p, ENOKI_DSQ_LOCAL, wfq_slice_ns, 0);
	return cpu;
}

void ENOKI_CB(wfq_enqueue, struct task_struct *p, u64 enq_flags)
{
	struct wfq_task *t;
	struct wfq_cpu *c;
	u64 vtime;
	s32 cpu;

	t = enoki_task_storage(&wfq_tasks, p, 0);
	if (!t) {
		enoki_error("wfq: pid %d: no task storage at enqueue",
			    enoki_task_pid(p));
		return;
	}

	cpu = wfq_pick_queue(p, t);
	if (t->home && t->home != (u32)cpu + 1)
		__sync_fetch_and_add(&wfq_nr_moved, 1);
	wfq_set_home(p, t, cpu);
	wfq_rebase(p, t, cpu);
	vtime = enoki_task_vtime(p);

	/* Keep the queue's lower bound: reset when it was empty. */
	c = enoki_cpu_storage(&wfq_cpus, cpu);
	if (c && (!enoki_dsq_nr_queued((u64)cpu) || vtime < c->qmin))
		c->qmin = vtime;
	t->queued_on = (u32)cpu + 1;
	t->qvtime = vtime;

	enoki_dsq_insert_vtime(p, (u64)cpu, wfq_slice_ns, vtime, enq_flags);
	enoki_kick_cpu(cpu, ENOKI_KICK_IDLE);
}

void ENOKI_CB(wfq_dispatch, s32 cpu, struct task_struct *prev)
{
	s32 best = -1, n, best_n = 0, other;
	u32 nr = enoki_nr_cpus();
	u64 prev_vtime = ~0ULL, own;
	struct wfq_task *t = NULL;

	/*
	 * prev is in no queue yet (see the top): charge it now; it may go
	 * on running if no queued task is ahead of it.
	 */
	if (prev)
		t = enoki_task_storage(&wfq_tasks, prev, 0);
	if (t && t->runnable) {
		wfq_charge(prev, t);
		wfq_rebase(prev, t, cpu);
		prev_vtime = enoki_task_vtime(prev);
	}

	own = wfq_queue_min(cpu);
	if (own < prev_vtime) {
		if (enoki_dsq_move_to_local((u64)cpu))
			return;
	} else if (own != ~0ULL) {
		goto keep;	/* prev is ahead of our whole queue */
	}

	/* Nothing of our own: steal from the longest other queue ... */
	for (other = 0; other < WFQ_MAX_CPUS; other++) {
		if ((u32)other >= nr)
			break;
		if (other == cpu)
			continue;
		n = enoki_dsq_nr_queued((u64)other);
		if (n > best_n) {
			best_n = n;
			best = other;
		}
	}
	/*
	 * ... but with a prev that could go on, only from a CPU more loaded
	 * than this one (so tasks that outnumber CPUs rotate, and a heavy
	 * task alone on its CPU keeps it).
	 */
	if (best >= 0 &&
	    (prev_vtime == ~0ULL || wfq_load(best) > wfq_load(cpu)) &&
	    enoki_dsq_move_to_local((u64)best)) {
		__sync_fetch_and_add(&wfq_nr_stolen, 1);
		return;
	}
	if (prev_vtime == ~0ULL)
		return;
keep:
	if (!prev)
		return;	/* cannot be: prev_vtime came from it; for the verifier */
	__sync_fetch_and_add(&wfq_nr_kept, 1);
	wfq_advance(cpu, prev_vtime);
	enoki_task_set_slice(prev, wfq_slice_ns);
}

/* Waking: no banked credit, at most one slice behind its CPU's clock. */
void ENOKI_CB(wfq_runnable, struct task_struct *p, u64 enq_flags)
{
	struct wfq_task *t;
	u64 floor;

	t = enoki_task_storage(&wfq_tasks, p, 0);
	if (!t)
		return;
	t->runnable = 1;
	floor = wfq_vnow((s32)t->vcpu);
	floor = floor > wfq_slice_ns ? floor - wfq_slice_ns : 0;
	if (enoki_task_vtime(p) < floor)
		enoki_task_set_vtime(p, floor);
}

void ENOKI_CB(wfq_running, struct task_struct *p)
{
	struct wfq_task *t;
	struct wfq_cpu *c;
	s32 cpu = enoki_task_cpu(p);

	t = enoki_task_storage(&wfq_tasks, p, 0);
	if (!t)
		return;
	t->started_at = enoki_now();
	/*
	 * Taken by its own CPU, it left its queue from the head, so all that
	 * is still there is at or after its vtime: raise the queue's lower
	 * bound.  (A CPU stealing skips the tasks it may not run, so a
	 * stolen task need not have been the head.)
	 */
	if (t->queued_on) {
		c = enoki_cpu_storage(&wfq_cpus, (s32)t->queued_on - 1);
		if (c && t->queued_on == (u32)cpu + 1 && c->qmin < t->qvtime)
			c->qmin = t->qvtime;
		t->queued_on = 0;
	}
	/* Stolen or placed elsewhere: it now counts and loads here. */
	wfq_rebase(p, t, cpu);
	wfq_advance(cpu, enoki_task_vtime(p));
	wfq_set_home(p, t, cpu);
}

void ENOKI_CB(wfq_stopping, struct task_struct *p, bool runnable)
{
	struct wfq_task *t;

	t = enoki_task_storage(&wfq_tasks, p, 0);
	if (t)
		wfq_charge(p, t);
}

void ENOKI_CB(wfq_quiescent, struct task_struct *p, u64 deq_flags)
{
	struct wfq_task *t;

	/* Asleep or gone: it loads no CPU until it wakes. */
	t = enoki_task_storage(&wfq_tasks, p, 0);
	if (t) {
		t->runnable = 0;
		wfq_unhome(t);
	}
}

void ENOKI_CB(wfq_set_weight, struct task_struct *p, u32 weight)
{
	struct wfq_task *t;
	s32 home;

	/* Re-add the task to its home's load with the new weight. */
	t = enoki_task_storage(&wfq_tasks, p, 0);
	if (!t || !t->home)
		return;
	home = (s32)t->home - 1;
	wfq_unhome(t);
	wfq_set_home(p, t, home);
}

s32 ENOKI_CB(wfq_init_task, struct task_struct *p,
	     struct scx_init_task_args *args)
{
	struct wfq_task *t;
	s32 cpu = enoki_task_cpu(p);

	t = enoki_task_storage(&wfq_tasks, p, ENOKI_STORAGE_CREATE);
	if (!t)
		return -12;	/* -ENOMEM */
	if (cpu < 0 || (u32)cpu >= enoki_nr_cpus())
		cpu = 0;
	t->vcpu = (u32)cpu;
	enoki_task_set_vtime(p, wfq_vnow(cpu));
	return 0;
}

void ENOKI_CB(wfq_exit_task, struct task_struct *p,
	      struct scx_exit_task_args *args)
{
	struct wfq_task *t;

	t = enoki_task_storage(&wfq_tasks, p, 0);
	if (t)
		wfq_unhome(t);
}

s32 ENOKI_CB_INIT(wfq_init)
{
	u32 nr = enoki_nr_cpus();
	s32 cpu, err;

	for (cpu = 0; cpu < WFQ_MAX_CPUS; cpu++) {
		if ((u32)cpu >= nr)
			break;
		err = enoki_dsq_create((u64)cpu);
		if (err) {
			enoki_error("wfq: cpu %d: cannot create queue: %d",
				    cpu, err);
			return err;
		}
	}
	return 0;
}

ENOKI_POLICY(wfq, "1.0",
	     .select_cpu = (void *)wfq_select_cpu,
	     .enqueue = (void *)wfq_enqueue,
	     .dispatch = (void *)wfq_dispatch,
	     .runnable = (void *)wfq_runnable,
	     .running = (void *)wfq_running,
	     .stopping = (void *)wfq_stopping,
	     .quiescent = (void *)wfq_quiescent,
	     .set_weight = (void *)wfq_set_weight,
	     .init_task = (void *)wfq_init_task,
	     .exit_task = (void *)wfq_exit_task,
	     .init = (void *)wfq_init);
