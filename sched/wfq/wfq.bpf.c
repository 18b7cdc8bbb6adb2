/*
 * wfq - weighted fair queueing by virtual runtime, per-CPU queues.
 *
 * What it is for: sharing CPUs among CPU-bound tasks in proportion to
 * their Linux nice weights, as CFS/EEVDF do, with per-CPU queues so that
 * CPUs do not contend on one queue, and with load balancing so that the
 * proportion holds across CPUs and not only within one.
 *
 * How it works.  Each task carries a virtual runtime (the task's
 * dsq_vtime): when it stops running it is charged the time it ran, scaled
 * by 100 / weight (weight 100 is nice 0), so a heavier task's clock moves
 * more slowly.  Each CPU has its own vtime-ordered queue (custom queue id
 * = CPU number, created at init) and runs the task with the smallest
 * vtime first.  wfq_min_vtime follows the vtime of the tasks that start
 * running; a task that slept is clamped to at most one slice behind it
 * when it wakes, so sleeping banks no credit.
 *
 * Load balancing is in two places.  At enqueue, a task stays on its home
 * CPU's queue unless the home CPU's load (the sum of the weights of the
 * runnable tasks homed there, itself excluded) is above the lightest
 * allowed CPU's load, in which case it moves there: moving then always
 * narrows the gap, so placements converge and do not ping-pong.  In
 * dispatch, a CPU whose own queue is empty steals the first task of the
 * most loaded other queue (by enoki_dsq_nr_queued), so no CPU idles while
 * another has waiting tasks.
 *
 * Limits: loads are updated without locks, so in the kernel they are
 * approximate under concurrency (they only steer placement).  Balancing
 * looks at the lightest CPU only, with no topology (caches, SMT, NUMA).
 * Wakeups onto an idle CPU go straight to its local queue, bypassing
 * vtime order, which is harmless because that CPU has nothing queued.
 * Each enqueue scans all CPUs once: fine for up to a few hundred CPUs.
 */
#include <enoki/enoki.h>

#define WFQ_MAX_CPUS 256

const volatile u64 wfq_slice_ns = 5ULL * 1000 * 1000;

u64 wfq_min_vtime;		/* vtime of the latest task to start running */
u64 wfq_nr_moved;		/* enqueues that changed a task's home CPU */
u64 wfq_nr_stolen;		/* tasks taken from another CPU's queue */

struct wfq_task {
	u64 started_at;		/* when it last started running */
	u32 home;		/* CPU + 1 whose load holds its weight; 0: none */
	u32 weight;		/* the weight added to that load */
};

struct wfq_cpu {
	u64 load;		/* sum of the weights of tasks homed here */
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

/* No banked credit: a waking task is at most one slice behind. */
static void wfq_clamp_vtime(struct task_struct *p)
{
	u64 floor = wfq_min_vtime;

	floor = floor > wfq_slice_ns ? floor - wfq_slice_ns : 0;
	if (enoki_task_vtime(p) < floor)
		enoki_task_set_vtime(p, floor);
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
	wfq_clamp_vtime(p);
	enoki_dsq_insert(p, ENOKI_DSQ_LOCAL, wfq_slice_ns, 0);
	return cpu;
}

void ENOKI_CB(wfq_enqueue, struct task_struct *p, u64 enq_flags)
{
	struct wfq_task *t;
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
	wfq_clamp_vtime(p);
	enoki_dsq_insert_vtime(p, (u64)cpu, wfq_slice_ns, enoki_task_vtime(p),
			       enq_flags);
	enoki_kick_cpu(cpu, ENOKI_KICK_IDLE);
}

void ENOKI_CB(wfq_dispatch, s32 cpu, struct task_struct *prev)
{
	s32 best = -1, n, best_n = 0, other;
	u32 nr = enoki_nr_cpus();

	if (enoki_dsq_move_to_local((u64)cpu))
		return;

	/* Our queue is empty: steal from the longest other queue. */
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
	if (best >= 0 && enoki_dsq_move_to_local((u64)best))
		__sync_fetch_and_add(&wfq_nr_stolen, 1);
}

void ENOKI_CB(wfq_runnable, struct task_struct *p, u64 enq_flags)
{
	wfq_clamp_vtime(p);
}

void ENOKI_CB(wfq_running, struct task_struct *p)
{
	struct wfq_task *t;
	u64 vtime = enoki_task_vtime(p);

	if (vtime > wfq_min_vtime)
		wfq_min_vtime = vtime;
	t = enoki_task_storage(&wfq_tasks, p, 0);
	if (!t)
		return;
	t->started_at = enoki_now();
	/* Stolen or placed elsewhere: its weight now loads this CPU. */
	wfq_set_home(p, t, enoki_task_cpu(p));
}

void ENOKI_CB(wfq_stopping, struct task_struct *p, bool runnable)
{
	struct wfq_task *t;
	u32 weight = enoki_task_weight(p);
	u64 now = enoki_now(), used;

	t = enoki_task_storage(&wfq_tasks, p, 0);
	if (!t || !weight)
		return;
	used = now > t->started_at ? now - t->started_at : 0;
	enoki_task_set_vtime(p, enoki_task_vtime(p) + used * 100 / weight);
}

void ENOKI_CB(wfq_quiescent, struct task_struct *p, u64 deq_flags)
{
	struct wfq_task *t;

	/* Asleep or gone: it loads no CPU until it wakes. */
	t = enoki_task_storage(&wfq_tasks, p, 0);
	if (t)
		wfq_unhome(t);
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
	if (!enoki_task_storage(&wfq_tasks, p, ENOKI_STORAGE_CREATE))
		return -12;	/* -ENOMEM */
	enoki_task_set_vtime(p, wfq_min_vtime);
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
