/*
 * fifo - a global first-in, first-out scheduler.
 *
 * What it is for: the smallest complete Enoki policy.  It is the baseline
 * the other policies are measured against (shinjuku's tail latency is
 * compared with it) and the walkthrough of docs/enoki-policies.md.
 *
 * How it works: a waking task passes through select_cpu, which asks the
 * framework's default placement for a CPU (its previous CPU if idle, else
 * any idle CPU it may use).  If that CPU was idle, the task goes straight
 * into the CPU's local queue and runs without touching shared state.
 * Every other runnable task is appended to the global queue, which each
 * CPU consumes in order once its local queue is empty.  A task keeps its
 * CPU for one slice (fifo_slice_ns, 20 ms by default) and then goes to the
 * back of the global queue.
 *
 * Limits: nice values and weights are ignored; a long task delays every
 * short task behind it by up to a slice (see shinjuku); there is no
 * locality beyond the idle-CPU wakeup path; and in the kernel one global
 * queue is a contention point on large machines.
 */
#include <enoki/enoki.h>

const volatile u64 fifo_slice_ns = ENOKI_SLICE_DFL;

u64 fifo_nr_direct;		/* wakeups inserted into an idle CPU */
u64 fifo_nr_global;		/* inserts into the global queue */

s32 ENOKI_CB(fifo_select_cpu, struct task_struct *p, s32 prev_cpu,
	     u64 wake_flags)
{
	bool is_idle = false;
	s32 cpu;

	cpu = enoki_select_cpu_dfl(p, prev_cpu, wake_flags, &is_idle);
	if (is_idle) {
		__sync_fetch_and_add(&fifo_nr_direct, 1);
		enoki_dsq_insert(p, ENOKI_DSQ_LOCAL, fifo_slice_ns, 0);
	}
	return cpu;
}

void ENOKI_CB(fifo_enqueue, struct task_struct *p, u64 enq_flags)
{
	__sync_fetch_and_add(&fifo_nr_global, 1);
	enoki_dsq_insert(p, ENOKI_DSQ_GLOBAL, fifo_slice_ns, enq_flags);
}

ENOKI_POLICY(fifo, "1.0",
	     .select_cpu = (void *)fifo_select_cpu,
	     .enqueue = (void *)fifo_enqueue);
