/*
 * shinjuku - microsecond-scale preemption for dispersive service times.
 *
 * What it is for: request-serving workloads where most requests take a
 * few microseconds and a few take hundreds (the Shinjuku paper, NSDI
 * 2019).  Under first-come, first-served scheduling one long request
 * holds a CPU while short ones queue behind it, and the tail latency of
 * the short ones becomes the length of the long ones.  Preempting every
 * task after a short slice bounds that wait.
 *
 * How it works: one central queue (a custom FIFO queue) in arrival
 * order, consumed by every CPU; a waking task goes straight to an idle
 * CPU if there is one, else to the back of the queue, kicking an idle
 * CPU if one appears.  Every task runs for at most shinjuku_slice_ns (10
 * us by default), then goes to the back of the queue: centralized
 * first-come, first-served with preemption.  sched_ext only checks slices
 * at the scheduler tick (1 ms), so a timer enforces the short slice: while
 * the queue is not empty it fires every slice and kicks (preempts) each
 * CPU whose task has run a full slice, at most as many as there are
 * tasks waiting.  The timer stops itself when the queue drains and the
 * next enqueue restarts it.
 *
 * Limits: preemption costs a context switch (zero in the simulator, a
 * few microseconds in a real kernel), so slices much shorter than that
 * waste the CPUs; the paper uses posted interrupts to make this cheap.
 * Long requests are slowed down in favour of short ones, by design.
 * Weights are ignored.  The kicks come from one timer, so their
 * resolution is the timer's, and in the kernel the timer's CPU pays for
 * the scan of all CPUs.
 */
#include <enoki/enoki.h>

#define SHINJUKU_MAX_CPUS 256
#define SHINJUKU_DSQ 0

const volatile u64 shinjuku_slice_ns = 10ULL * 1000;

u64 shinjuku_nr_preempted;	/* kicks sent to end a slice */
u64 shinjuku_timer_armed;	/* the slice timer is pending */

struct shinjuku_cpu {
	u64 started_at;		/* when the current task started running */
	u32 busy;		/* a task of ours is running */
};

ENOKI_CPU_STORAGE(shinjuku_cpus, struct shinjuku_cpu);

static void ENOKI_TIMER_FN(shinjuku_check_slices);
ENOKI_TIMER(shinjuku_timer, shinjuku_check_slices);

/* Start the slice timer unless it is already pending. */
static void shinjuku_arm(void)
{
	if (__sync_val_compare_and_swap(&shinjuku_timer_armed, 0, 1) == 0)
		enoki_timer_start(&shinjuku_timer, shinjuku_slice_ns);
}

/* Preempt the CPUs whose task used its slice while others wait. */
static void ENOKI_TIMER_FN(shinjuku_check_slices)
{
	u32 nr = enoki_nr_cpus();
	u64 now = enoki_now();
	struct shinjuku_cpu *c;
	s32 cpu, waiting;

	shinjuku_timer_armed = 0;
	waiting = enoki_dsq_nr_queued(SHINJUKU_DSQ);
	if (waiting <= 0)
		return;

	for (cpu = 0; cpu < SHINJUKU_MAX_CPUS && waiting > 0; cpu++) {
		if ((u32)cpu >= nr)
			break;
		c = enoki_cpu_storage(&shinjuku_cpus, cpu);
		if (!c || !c->busy || now - c->started_at < shinjuku_slice_ns)
			continue;
		enoki_kick_cpu(cpu, ENOKI_KICK_PREEMPT);
		__sync_fetch_and_add(&shinjuku_nr_preempted, 1);
		waiting--;
	}
	shinjuku_arm();
}

s32 ENOKI_CB(shinjuku_select_cpu, struct task_struct *p, s32 prev_cpu,
	     u64 wake_flags)
{
	bool is_idle = false;
	s32 cpu;

	cpu = enoki_select_cpu_dfl(p, prev_cpu, wake_flags, &is_idle);
	if (is_idle)
		enoki_dsq_insert(p, ENOKI_DSQ_LOCAL, shinjuku_slice_ns, 0);
	return cpu;
}

void ENOKI_CB(shinjuku_enqueue, struct task_struct *p, u64 enq_flags)
{
	s32 cpu;

	enoki_dsq_insert(p, SHINJUKU_DSQ, shinjuku_slice_ns, enq_flags);
	cpu = enoki_pick_idle_cpu(p, 0);
	if (cpu >= 0)
		enoki_kick_cpu(cpu, ENOKI_KICK_IDLE);
	shinjuku_arm();
}

void ENOKI_CB(shinjuku_dispatch, s32 cpu, struct task_struct *prev)
{
	enoki_dsq_move_to_local(SHINJUKU_DSQ);
}

void ENOKI_CB(shinjuku_running, struct task_struct *p)
{
	struct shinjuku_cpu *c;

	c = enoki_cpu_storage(&shinjuku_cpus, enoki_task_cpu(p));
	if (!c)
		return;
	c->started_at = enoki_now();
	c->busy = 1;
}

void ENOKI_CB(shinjuku_stopping, struct task_struct *p, bool runnable)
{
	struct shinjuku_cpu *c;

	c = enoki_cpu_storage(&shinjuku_cpus, enoki_task_cpu(p));
	if (c)
		c->busy = 0;
}

s32 ENOKI_CB_INIT(shinjuku_init)
{
	s32 err;

	err = enoki_dsq_create(SHINJUKU_DSQ);
	if (err)
		enoki_error("shinjuku: cannot create the central queue: %d",
			    err);
	return err;
}

ENOKI_POLICY(shinjuku, "1.0",
	     .select_cpu = (void *)shinjuku_select_cpu,
	     .enqueue = (void *)shinjuku_enqueue,
	     .dispatch = (void *)shinjuku_dispatch,
	     .running = (void *)shinjuku_running,
	     .stopping = (void *)shinjuku_stopping,
	     .init = (void *)shinjuku_init);
