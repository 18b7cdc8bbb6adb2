/*
 * bpftest - a global FIFO that touches every part of the Enoki API, so
 * that enoki/host/bpf.h is compiled (and checked by tests/enoki-bpf.t)
 * against all of it, independently of the real policies in sched/.
 *
 * Tasks wait in one custom queue in arrival order; a waking task goes
 * straight to an idle CPU's local queue.  Around that it keeps per-task
 * and per-CPU counters, a lock-protected global count, a periodic timer
 * that kicks CPU 0, a vtime insert for tasks re-enqueued at the head,
 * and echoes application messages back.  It is a build test, not a
 * policy anyone should run for its scheduling.
 */
#include <enoki/enoki.h>

#define BPFTEST_DSQ 1
#define BPFTEST_TICK_NS (10ULL * 1000 * 1000)

struct bpftest_task {
	u64 enqueued;		/* times it was enqueued */
};

struct bpftest_cpu {
	u64 dispatched;		/* tasks this CPU took from the queue */
};

u64 bpftest_total;		/* enqueues, under bpftest_lock */
ENOKI_LOCK(bpftest_lock);
ENOKI_TASK_STORAGE(bpftest_tasks, struct bpftest_task);
ENOKI_CPU_STORAGE(bpftest_cpus, struct bpftest_cpu);

static void ENOKI_TIMER_FN(bpftest_tick)
{
	enoki_kick_cpu(0, ENOKI_KICK_IDLE);
}
ENOKI_TIMER(bpftest_timer, bpftest_tick);

s32 ENOKI_CB(bpftest_select_cpu, struct task_struct *p, s32 prev_cpu,
	     u64 wake_flags)
{
	bool is_idle = false;
	s32 cpu;

	if (enoki_task_allowed(p, prev_cpu) &&
	    enoki_test_and_clear_cpu_idle(prev_cpu)) {
		enoki_dsq_insert(p, ENOKI_DSQ_LOCAL, ENOKI_SLICE_DFL, 0);
		return prev_cpu;
	}
	cpu = enoki_pick_idle_cpu(p, ENOKI_PICK_IDLE_CORE);
	if (cpu >= 0) {
		enoki_dsq_insert(p, ENOKI_DSQ_LOCAL, ENOKI_SLICE_DFL, 0);
		return cpu;
	}
	cpu = enoki_select_cpu_dfl(p, prev_cpu, wake_flags, &is_idle);
	if (is_idle)
		enoki_dsq_insert(p, ENOKI_DSQ_LOCAL, ENOKI_SLICE_DFL, 0);
	return cpu;
}

void ENOKI_CB(bpftest_enqueue, struct task_struct *p, u64 enq_flags)
{
	struct bpftest_task *t;

	t = enoki_task_storage(&bpftest_tasks, p, ENOKI_STORAGE_CREATE);
	if (t)
		t->enqueued++;
	enoki_lock(&bpftest_lock);
	bpftest_total++;
	enoki_unlock(&bpftest_lock);

	if (enq_flags & ENOKI_ENQ_HEAD)
		enoki_dsq_insert_vtime(p, BPFTEST_DSQ + 1, ENOKI_SLICE_DFL,
				       enoki_task_vtime(p), enq_flags);
	else
		enoki_dsq_insert(p, BPFTEST_DSQ, ENOKI_SLICE_DFL, enq_flags);
	if (enq_flags & ENOKI_ENQ_WAKEUP)
		enoki_kick_cpu(enoki_pick_any_cpu(p, 0), ENOKI_KICK_IDLE);
}

void ENOKI_CB(bpftest_dispatch, s32 cpu, struct task_struct *prev)
{
	struct bpftest_cpu *c;

	if (!enoki_dsq_move_to_local(BPFTEST_DSQ + 1) &&
	    !enoki_dsq_move_to_local(BPFTEST_DSQ))
		return;
	c = enoki_cpu_storage(&bpftest_cpus, enoki_this_cpu());
	if (c)
		c->dispatched++;
}

void ENOKI_CB(bpftest_running, struct task_struct *p)
{
	if (enoki_task_slice(p) > ENOKI_SLICE_DFL)
		enoki_task_set_slice(p, ENOKI_SLICE_DFL);
	if (enoki_task_nr_cpus_allowed(p) == 1 && !enoki_task_allowed(p, 0))
		enoki_task_set_vtime(p, enoki_task_vtime(p) + 1);
}

void ENOKI_CB(bpftest_set_cpumask, struct task_struct *p,
	      const struct cpumask *mask)
{
	if (!enoki_cpumask_test(mask, enoki_task_cpu(p)))
		enoki_printk("bpftest: pid %d left its CPU", enoki_task_pid(p));
}

void ENOKI_CB(bpftest_set_weight, struct task_struct *p, u32 weight)
{
	if (weight != enoki_task_weight(p))
		enoki_printk("bpftest: pid %d weight %u", enoki_task_pid(p),
			     weight);
}

s32 ENOKI_CB_INIT(bpftest_init)
{
	s32 err;

	err = enoki_dsq_create(BPFTEST_DSQ);
	if (!err)
		err = enoki_dsq_create(BPFTEST_DSQ + 1);
	if (err) {
		enoki_error("bpftest: cannot create queues: %d", err);
		return err;
	}
	if (enoki_nr_cpus() == 0 || enoki_now() == 0 ||
	    enoki_dsq_nr_queued(BPFTEST_DSQ) != 0)
		enoki_error("bpftest: no CPUs, no clock or a full new queue");
	return enoki_timer_start(&bpftest_timer, BPFTEST_TICK_NS);
}

void ENOKI_CB(bpftest_exit, struct scx_exit_info *ei)
{
	enoki_dsq_destroy(BPFTEST_DSQ);
}

ENOKI_POLICY(bpftest, "0.1",
	     .select_cpu = (void *)bpftest_select_cpu,
	     .enqueue = (void *)bpftest_enqueue,
	     .dispatch = (void *)bpftest_dispatch,
	     .running = (void *)bpftest_running,
	     .set_cpumask = (void *)bpftest_set_cpumask,
	     .set_weight = (void *)bpftest_set_weight,
	     .init = (void *)bpftest_init,
	     .exit = (void *)bpftest_exit,
	     .timeout_ms = 5000);

/* Echo each application message back, with the number of CPUs. */
static void bpftest_msg(const struct enoki_msg *m)
{
	struct enoki_msg reply = *m;

	reply.arg[0] = enoki_nr_cpus();
	enoki_msg_send(&reply);
}
ENOKI_MSG_HANDLER(bpftest, bpftest_msg);
