/*
 * testpol - a small policy for the replay tests, not a scheduler anyone
 * should use: it touches every kind of enoki_* call (queries, inserts
 * FIFO and by vtime, moves, kicks, slices, vtimes, storage, locks,
 * timers, messages both ways) so that record and replay see them all.
 * Tasks heavier than nice 0 go to a vtime-ordered custom queue, tasks
 * bound to one CPU to that CPU, the rest to the global queue.
 *
 * A variant built with -Denoki_dsq_insert=... (log.mk) changes one
 * decision, to test divergence reports; the source has no #ifdef.
 */
#include <enoki/enoki.h>

#define TP_DSQ 7
#define TP_SLICE (5ULL * 1000 * 1000)

struct tp_task {
	u64 vtime;
	u64 runs;
};

struct tp_cpu {
	u64 dispatches;
};

ENOKI_TASK_STORAGE(tp_tasks, struct tp_task);
ENOKI_CPU_STORAGE(tp_cpus, struct tp_cpu);

static u64 vtime_now;
static u64 nr_msgs;
static s32 hint_cpu = -1;
static struct enoki_lock tp_lock;

static void ENOKI_TIMER_FN(tp_tick_timer);
ENOKI_TIMER(tp_timer, tp_tick_timer);

static void ENOKI_TIMER_FN(tp_tick_timer)
{
	struct enoki_msg m = { .type = 9, .pid = 0 };

	enoki_lock(&tp_lock);
	m.arg[0] = nr_msgs;
	enoki_unlock(&tp_lock);
	enoki_msg_send(&m);
	enoki_timer_start(&tp_timer, 3 * 1000 * 1000);
}

static s32 ENOKI_CB(tp_select_cpu, struct task_struct *p, s32 prev_cpu,
		    u64 wake_flags)
{
	bool idle = false;
	s32 cpu;

	if (hint_cpu >= 0 && enoki_task_allowed(p, hint_cpu) &&
	    enoki_test_and_clear_cpu_idle(hint_cpu)) {
		enoki_dsq_insert(p, ENOKI_DSQ_LOCAL, TP_SLICE, 0);
		return hint_cpu;
	}
	cpu = enoki_select_cpu_dfl(p, prev_cpu, wake_flags, &idle);
	if (idle)
		enoki_dsq_insert(p, ENOKI_DSQ_LOCAL, TP_SLICE, 0);
	return cpu;
}

static void ENOKI_CB(tp_enqueue, struct task_struct *p, u64 enq_flags)
{
	struct tp_task *t = enoki_task_storage(&tp_tasks, p,
					       ENOKI_STORAGE_CREATE);
	s32 cpu;

	if (!t)
		return;
	if (enoki_task_weight(p) > 100) {
		if (t->vtime < vtime_now)
			t->vtime = vtime_now;
		enoki_dsq_insert_vtime(p, TP_DSQ, TP_SLICE, t->vtime,
				       enq_flags);
		return;
	}
	if (enoki_task_nr_cpus_allowed(p) == 1) {
		enoki_dsq_insert(p, ENOKI_DSQ_LOCAL_ON | enoki_task_cpu(p),
				 TP_SLICE, enq_flags);
		return;
	}
	enoki_dsq_insert(p, ENOKI_DSQ_GLOBAL, TP_SLICE, enq_flags);
	cpu = enoki_pick_idle_cpu(p, 0);
	if (cpu >= 0)
		enoki_kick_cpu(cpu, ENOKI_KICK_IDLE);
}

static void ENOKI_CB(tp_dispatch, s32 cpu, struct task_struct *prev)
{
	struct tp_cpu *c = enoki_cpu_storage(&tp_cpus, cpu);

	if (enoki_dsq_nr_queued(TP_DSQ) > 0 && enoki_dsq_move_to_local(TP_DSQ) &&
	    c)
		c->dispatches++;
}

static void ENOKI_CB(tp_running, struct task_struct *p)
{
	struct tp_task *t = enoki_task_storage(&tp_tasks, p, 0);

	if (!t)
		return;
	t->runs++;
	if (t->vtime > vtime_now)
		vtime_now = t->vtime;
	enoki_task_set_vtime(p, t->vtime);
}

static void ENOKI_CB(tp_stopping, struct task_struct *p, bool runnable)
{
	struct tp_task *t = enoki_task_storage(&tp_tasks, p, 0);
	u64 used = TP_SLICE - enoki_task_slice(p) % TP_SLICE;

	if (t)
		t->vtime += used * 100 / enoki_task_weight(p);
}

static void ENOKI_CB(tp_tick, struct task_struct *p)
{
	if (enoki_task_vtime(p) > vtime_now + 10 * TP_SLICE) {
		enoki_task_set_slice(p, 0);
		enoki_kick_cpu(enoki_this_cpu(), ENOKI_KICK_PREEMPT);
	}
}

static void ENOKI_CB(tp_set_cpumask, struct task_struct *p,
		     const struct cpumask *mask)
{
	u32 i, n = 0;

	for (i = 0; i < enoki_nr_cpus() && i < 256; i++)
		n += enoki_cpumask_test(mask, (s32)i);
	if (n == 0)
		enoki_error("task %d allowed nowhere", enoki_task_pid(p));
}

static s32 ENOKI_CB(tp_init_task, struct task_struct *p,
		    struct scx_init_task_args *args)
{
	struct tp_task *t = enoki_task_storage(&tp_tasks, p,
					       ENOKI_STORAGE_CREATE);

	if (!t)
		return -12;	/* ENOMEM */
	t->vtime = vtime_now;
	return 0;
}

static s32 ENOKI_CB_INIT(tp_init)
{
	s32 ret = enoki_dsq_create(TP_DSQ);

	if (ret)
		return ret;
	return enoki_timer_start(&tp_timer, 2 * 1000 * 1000);
}

static void tp_msg(const struct enoki_msg *m)
{
	struct enoki_msg reply = { .type = 100 + m->type, .pid = m->pid };

	enoki_lock(&tp_lock);
	nr_msgs++;
	enoki_unlock(&tp_lock);
	if (m->type == 1)
		hint_cpu = (s32)(m->arg[0] % enoki_nr_cpus());
	reply.arg[0] = enoki_now();
	enoki_msg_send(&reply);
}

ENOKI_POLICY(testpol, "1.0",
	     .select_cpu = (void *)tp_select_cpu,
	     .enqueue = (void *)tp_enqueue,
	     .dispatch = (void *)tp_dispatch,
	     .running = (void *)tp_running,
	     .stopping = (void *)tp_stopping,
	     .tick = (void *)tp_tick,
	     .set_cpumask = (void *)tp_set_cpumask,
	     .init_task = (void *)tp_init_task,
	     .init = (void *)tp_init);
ENOKI_MSG_HANDLER(testpol, tp_msg);
