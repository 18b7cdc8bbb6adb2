/*
 * locality - place threads next to the data they work on, by hint.
 *
 * What it is for: applications that partition their data (shards,
 * per-connection state, a key range) and know which partition a thread
 * is about to touch, where the scheduler cannot know it.  Running every
 * thread that touches one region on the same CPU keeps that region in
 * one CPU's caches instead of moving it between them.
 *
 * How it works.  A thread's application sends LOCALITY_MSG_HINT (pid,
 * region; see locality_msg.h).  The first hint naming a region gives the
 * region a CPU: the one with the fewest regions so far (lowest number on
 * ties), so regions spread evenly; the policy announces the choice with
 * LOCALITY_MSG_PLACED.  Each CPU has its own FIFO queue (custom queue id
 * = CPU number).  When a hinted thread wakes, select_cpu sends it to its
 * region's CPU: straight into the local queue if that CPU is idle, else
 * into the CPU's own queue, as long as fewer than locality_overload
 * threads are already waiting there.  Beyond that the thread falls back
 * to the ordinary path: any idle CPU, else the shared queue that every
 * CPU serves after its own.  Threads without a hint always take that
 * path.  A CPU with nothing of its own or shared to run takes a task
 * from another CPU's queue that is full (locality_overload waiting),
 * so no CPU idles beside a backlog.
 *
 * Limits: a region is pinned to its CPU for good: hints never move a
 * region, and a CPU with more hot regions than it can serve is helped
 * only through the overload fallback.  Up to LOCALITY_MAX_REGIONS
 * regions and LOCALITY_MAX_HINTS hinted threads (hints past that are
 * dropped and counted).  The tables are written only by the message
 * handler, which runs in one context at a time; callbacks read them
 * without a lock.  No topology: "near" means the same CPU, not the same
 * cache or node.  Weights are ignored.
 */
#include <enoki/enoki.h>
#include "locality_msg.h"

#define LOCALITY_MAX_CPUS 256
#define LOCALITY_MAX_REGIONS 1024	/* powers of two */
#define LOCALITY_MAX_HINTS 4096
#define LOCALITY_PROBES 16
#define LOCALITY_TOMBSTONE (-1)
#define LOCALITY_SHARED_DSQ ((u64)LOCALITY_MAX_CPUS)

const volatile u64 locality_slice_ns = ENOKI_SLICE_DFL;
const volatile s32 locality_overload = 2;

u64 locality_nr_home;		/* hinted wakeups placed on their CPU */
u64 locality_nr_fallback;	/* hinted wakeups sent elsewhere */
u64 locality_nr_stolen;		/* tasks taken from an overloaded CPU */
u64 locality_nr_dropped;	/* hints or notifications lost */

struct locality_region {
	u64 id;			/* region id; 0: empty */
	s32 cpu;		/* the CPU it lives on */
};

struct locality_hint {
	s32 pid;		/* 0: empty, LOCALITY_TOMBSTONE: deleted */
	s32 cpu;		/* its region's CPU */
};

static struct locality_region locality_regions[LOCALITY_MAX_REGIONS];
static struct locality_hint locality_hints[LOCALITY_MAX_HINTS];
static u32 locality_cpu_regions[LOCALITY_MAX_CPUS]; /* regions per CPU */

static u32 locality_hash(u64 key)
{
	return (u32)((key * 0x9e3779b97f4a7c15ULL) >> 40);
}

/* ---- hints: region -> CPU, thread -> CPU -------------------------------- */

/* The least-loaded CPU for a new region; lowest number on ties. */
static s32 locality_spread_cpu(void)
{
	u32 nr = enoki_nr_cpus(), best_n = ~0U;
	s32 cpu, best = 0;

	for (cpu = 0; cpu < LOCALITY_MAX_CPUS; cpu++) {
		if ((u32)cpu >= nr)
			break;
		if (locality_cpu_regions[cpu] < best_n) {
			best_n = locality_cpu_regions[cpu];
			best = cpu;
		}
	}
	return best;
}

static void locality_announce(u64 region, s32 cpu)
{
	struct enoki_msg m = { .type = LOCALITY_MSG_PLACED };

	m.arg[0] = region;
	m.arg[1] = (u64)cpu;
	if (cpu >= 0 && cpu < LOCALITY_MAX_CPUS)
		m.arg[2] = locality_cpu_regions[cpu];
	if (enoki_msg_send(&m))
		__sync_fetch_and_add(&locality_nr_dropped, 1);
}

/* The CPU of region @id, given one on first sight; -1 if the table is
 * full. */
static s32 locality_region_cpu(u64 id)
{
	u32 h = locality_hash(id), i, idx;
	s32 cpu;

	for (i = 0; i < LOCALITY_PROBES; i++) {
		idx = (h + i) & (LOCALITY_MAX_REGIONS - 1);
		if (locality_regions[idx].id == id)
			return locality_regions[idx].cpu;
		if (locality_regions[idx].id)
			continue;
		cpu = locality_spread_cpu();
		locality_regions[idx].id = id;
		locality_regions[idx].cpu = cpu;
		if (cpu >= 0 && cpu < LOCALITY_MAX_CPUS)
			locality_cpu_regions[cpu]++;
		locality_announce(id, cpu);
		return cpu;
	}
	return -1;
}

/* The hint table slot of @pid, or -1. */
static s32 locality_hint_find(s32 pid)
{
	u32 h = locality_hash((u64)(u32)pid), i, idx;

	for (i = 0; i < LOCALITY_PROBES; i++) {
		idx = (h + i) & (LOCALITY_MAX_HINTS - 1);
		if (locality_hints[idx].pid == pid)
			return (s32)idx;
		if (locality_hints[idx].pid == 0)
			return -1;
	}
	return -1;
}

/* Thread @pid now works near @cpu (-1: no hint).  0 or -ENOSPC. */
static s32 locality_hint_set(s32 pid, s32 cpu)
{
	u32 h = locality_hash((u64)(u32)pid), i, idx;
	s32 slot = locality_hint_find(pid);

	if (slot >= 0 && slot < LOCALITY_MAX_HINTS) {
		if (cpu < 0)
			locality_hints[slot].pid = LOCALITY_TOMBSTONE;
		else
			locality_hints[slot].cpu = cpu;
		return 0;
	}
	if (cpu < 0)
		return 0;
	for (i = 0; i < LOCALITY_PROBES; i++) {
		idx = (h + i) & (LOCALITY_MAX_HINTS - 1);
		if (locality_hints[idx].pid > 0)
			continue;
		locality_hints[idx].pid = pid;
		locality_hints[idx].cpu = cpu;
		return 0;
	}
	return -28;	/* -ENOSPC */
}

static void locality_msg(const struct enoki_msg *m)
{
	s32 cpu = -1;

	if (m->type != LOCALITY_MSG_HINT || (s32)m->pid <= 0) {
		__sync_fetch_and_add(&locality_nr_dropped, 1);
		return;
	}
	if (m->arg[0]) {
		cpu = locality_region_cpu(m->arg[0]);
		if (cpu < 0) {
			__sync_fetch_and_add(&locality_nr_dropped, 1);
			return;
		}
	}
	if (locality_hint_set((s32)m->pid, cpu))
		__sync_fetch_and_add(&locality_nr_dropped, 1);
}

/* @p's hinted CPU if it has one, may use it and it is not overloaded;
 * else -1.  Counts the decision when @count. */
static s32 locality_home(struct task_struct *p, bool count)
{
	s32 slot = locality_hint_find(enoki_task_pid(p)), cpu;

	if (slot < 0 || slot >= LOCALITY_MAX_HINTS)
		return -1;
	cpu = locality_hints[slot].cpu;
	if (cpu >= 0 && (u32)cpu < enoki_nr_cpus() &&
	    enoki_task_allowed(p, cpu) &&
	    enoki_dsq_nr_queued((u64)cpu) < locality_overload) {
		if (count)
			__sync_fetch_and_add(&locality_nr_home, 1);
		return cpu;
	}
	if (count)
		__sync_fetch_and_add(&locality_nr_fallback, 1);
	return -1;
}

/* ---- scheduling -------------------------------------------------------- */

s32 ENOKI_CB(locality_select_cpu, struct task_struct *p, s32 prev_cpu,
	     u64 wake_flags)
{
	bool is_idle = false;
	s32 cpu;

	cpu = locality_home(p, true);
	if (cpu >= 0) {
		if (enoki_test_and_clear_cpu_idle(cpu))
			enoki_dsq_insert(p, ENOKI_DSQ_LOCAL, locality_slice_ns,
					 0);
		return cpu;
	}

	cpu = enoki_select_cpu_dfl(p, prev_cpu, wake_flags, &is_idle);
	if (is_idle)
		enoki_dsq_insert(p, ENOKI_DSQ_LOCAL, locality_slice_ns, 0);
	return cpu;
}

void ENOKI_CB(locality_enqueue, struct task_struct *p, u64 enq_flags)
{
	s32 cpu = locality_home(p, false);

	if (cpu >= 0) {
		enoki_dsq_insert(p, (u64)cpu, locality_slice_ns, enq_flags);
		if (enoki_test_and_clear_cpu_idle(cpu))
			enoki_kick_cpu(cpu, ENOKI_KICK_IDLE);
		return;
	}

	enoki_dsq_insert(p, LOCALITY_SHARED_DSQ, locality_slice_ns,
			 enq_flags);
	cpu = enoki_pick_idle_cpu(p, 0);
	if (cpu >= 0)
		enoki_kick_cpu(cpu, ENOKI_KICK_IDLE);
}

void ENOKI_CB(locality_dispatch, s32 cpu, struct task_struct *prev)
{
	u32 nr = enoki_nr_cpus();
	s32 other;

	if (enoki_dsq_move_to_local((u64)cpu))
		return;
	if (enoki_dsq_move_to_local(LOCALITY_SHARED_DSQ))
		return;

	/* Idle beside a backlog: help the most overloaded CPU. */
	for (other = 0; other < LOCALITY_MAX_CPUS; other++) {
		if ((u32)other >= nr)
			break;
		if (other == cpu ||
		    enoki_dsq_nr_queued((u64)other) < locality_overload)
			continue;
		if (enoki_dsq_move_to_local((u64)other)) {
			__sync_fetch_and_add(&locality_nr_stolen, 1);
			return;
		}
	}
}

void ENOKI_CB(locality_exit_task, struct task_struct *p,
	      struct scx_exit_task_args *args)
{
	s32 slot = locality_hint_find(enoki_task_pid(p));

	if (slot >= 0 && slot < LOCALITY_MAX_HINTS)
		locality_hints[slot].pid = LOCALITY_TOMBSTONE;
}

s32 ENOKI_CB_INIT(locality_init)
{
	u32 nr = enoki_nr_cpus();
	s32 cpu, err = 0;

	for (cpu = 0; cpu < LOCALITY_MAX_CPUS && !err; cpu++) {
		if ((u32)cpu >= nr)
			break;
		err = enoki_dsq_create((u64)cpu);
	}
	if (!err)
		err = enoki_dsq_create(LOCALITY_SHARED_DSQ);
	if (err)
		enoki_error("locality: cannot create queues: %d", err);
	return err;
}

ENOKI_POLICY(locality, "1.0",
	     .select_cpu = (void *)locality_select_cpu,
	     .enqueue = (void *)locality_enqueue,
	     .dispatch = (void *)locality_dispatch,
	     .exit_task = (void *)locality_exit_task,
	     .init = (void *)locality_init);
ENOKI_MSG_HANDLER(locality, locality_msg);
