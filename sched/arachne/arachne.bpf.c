/*
 * arachne - a core arbiter: applications ask for cores, the policy
 * dedicates CPUs to them.
 *
 * What it is for: latency-sensitive applications that manage their own
 * threads (the Arachne paper, OSDI 2018) and want whole cores, not time
 * slices: a core granted to an application runs that application's
 * threads and nobody else's, so its threads never wait behind strangers,
 * and the application learns exactly which cores it holds.
 *
 * How it works.  An application registers its threads
 * (ARACHNE_MSG_REGISTER) and says how many cores it wants
 * (ARACHNE_MSG_REQUEST_CORES; see arachne_msg.h).  The first
 * arachne_reserved_cpus CPUs are never granted, so everything else always
 * has somewhere to run.  The rest are split by max-min fair share: every
 * application gets what it asked for if they fit, otherwise the cores are
 * divided evenly, an application that wants less than its share getting
 * what it wants and leaving the rest to the others.  When the split
 * changes, cores taken back are reclaimed (highest CPU first) and free
 * cores granted (lowest first); each change is announced to the
 * application with ARACHNE_MSG_RECLAIM or ARACHNE_MSG_GRANT and the CPU
 * is kicked so that its current task makes way.
 *
 * Each application has a queue; a granted CPU takes work only from its
 * application's queue and idles otherwise.  Other tasks (and the threads
 * of applications that hold no core) share a common queue served by the
 * CPUs nobody holds.  A task pinned to one CPU (a per-CPU kernel thread)
 * runs there whoever holds it, via that CPU's local queue.
 *
 * Limits: application slots (ARACHNE_MAX_APPS) are never freed; ask for
 * 0 cores to give them back.  At most ARACHNE_MAX_THREADS registered
 * threads.  The message handler is the only writer of the grant tables
 * and runs in one context at a time; callbacks read them without a lock,
 * so in the kernel a task may be placed by a grant that is a moment out
 * of date (the kick that follows each change corrects it).  A registered
 * thread whose affinity excludes all of its application's cores waits
 * until the grants change.  No notion of priority between applications.
 */
#include <enoki/enoki.h>
#include "arachne_msg.h"

#define ARACHNE_MAX_CPUS 256
#define ARACHNE_MAX_APPS 8
#define ARACHNE_MAX_THREADS 1024	/* a power of two */
#define ARACHNE_PROBES 16
#define ARACHNE_TOMBSTONE (-1)
#define ARACHNE_SHARED_DSQ 0
#define ARACHNE_APP_DSQ(slot) (1 + (u64)(slot))

const volatile u64 arachne_slice_ns = 5ULL * 1000 * 1000;
const volatile u32 arachne_reserved_cpus = 1;

u64 arachne_nr_grants;		/* cores granted */
u64 arachne_nr_reclaims;	/* cores reclaimed */
u64 arachne_nr_dropped;		/* notifications or registrations lost */
u64 arachne_nr_bad_msgs;	/* messages of unknown type or bad fields */

struct arachne_app {
	u32 id;			/* application id; 0: slot free */
	u32 requested;		/* cores it asked for */
	u32 target;		/* its fair share of what was asked */
	u32 granted;		/* CPUs it holds (owner == slot + 1) */
};

struct arachne_thread {
	s32 pid;		/* 0: empty, ARACHNE_TOMBSTONE: deleted */
	u32 slot;		/* its application's slot */
};

struct arachne_task {
	u32 slot1;		/* application slot + 1, 0: none */
	u32 gen;		/* arachne_gen when slot1 was looked up */
};

static struct arachne_app arachne_apps[ARACHNE_MAX_APPS];
static struct arachne_thread arachne_threads[ARACHNE_MAX_THREADS];
static u32 arachne_owner[ARACHNE_MAX_CPUS];	/* slot + 1 holding it */
static u32 arachne_gen = 1;	/* bumped when the thread table changes */

ENOKI_TASK_STORAGE(arachne_tasks, struct arachne_task);

/* ---- the thread table: pid -> application slot ------------------------ */

static u32 arachne_hash(s32 pid)
{
	return ((u32)pid * 2654435761u) >> 22;	/* 10 bits */
}

/* The table index holding @pid, or -1. */
static s32 arachne_thread_find(s32 pid)
{
	u32 h = arachne_hash(pid), i, idx;

	for (i = 0; i < ARACHNE_PROBES; i++) {
		idx = (h + i) & (ARACHNE_MAX_THREADS - 1);
		if (arachne_threads[idx].pid == pid)
			return (s32)idx;
		if (arachne_threads[idx].pid == 0)
			return -1;
	}
	return -1;
}

/* Record that @pid belongs to application @slot.  0 or -ENOSPC. */
static s32 arachne_thread_add(s32 pid, u32 slot)
{
	u32 h = arachne_hash(pid), i, idx;
	s32 found = arachne_thread_find(pid);

	if (found >= 0 && found < ARACHNE_MAX_THREADS) {
		arachne_threads[found].slot = slot;
		return 0;
	}
	for (i = 0; i < ARACHNE_PROBES; i++) {
		idx = (h + i) & (ARACHNE_MAX_THREADS - 1);
		if (arachne_threads[idx].pid > 0)
			continue;
		arachne_threads[idx].pid = pid;
		arachne_threads[idx].slot = slot;
		return 0;
	}
	return -28;	/* -ENOSPC */
}

/* @p's application slot + 1 if that application holds cores, else 0. */
static u32 arachne_task_app(struct task_struct *p)
{
	struct arachne_task *t;
	s32 idx;
	u32 s;

	t = enoki_task_storage(&arachne_tasks, p, 0);
	if (!t)
		return 0;
	if (t->gen != arachne_gen) {
		idx = arachne_thread_find(enoki_task_pid(p));
		t->slot1 = 0;
		if (idx >= 0 && idx < ARACHNE_MAX_THREADS)
			t->slot1 = arachne_threads[idx].slot + 1;
		t->gen = arachne_gen;
	}
	s = t->slot1;
	if (!s || s > ARACHNE_MAX_APPS || !arachne_apps[s - 1].granted)
		return 0;
	return s;
}

/* ---- grants ------------------------------------------------------------ */

/* The slot of application @id, allocated if new; -1 if none is free. */
static s32 arachne_app_slot(u64 id)
{
	s32 a, free_slot = -1;

	for (a = 0; a < ARACHNE_MAX_APPS; a++) {
		if (arachne_apps[a].id == id)
			return a;
		if (!arachne_apps[a].id && free_slot < 0)
			free_slot = a;
	}
	if (free_slot >= 0) {
		arachne_apps[free_slot].id = (u32)id;
		arachne_apps[free_slot].requested = 0;
		arachne_apps[free_slot].target = 0;
		arachne_apps[free_slot].granted = 0;
	}
	return free_slot;
}

static void arachne_notify(u32 type, s32 slot, s32 cpu)
{
	struct enoki_msg m = { .type = type };

	if (slot < 0 || slot >= ARACHNE_MAX_APPS)
		return;
	m.arg[0] = arachne_apps[slot].id;
	m.arg[1] = (u64)cpu;
	m.arg[2] = arachne_apps[slot].granted;
	m.arg[3] = arachne_apps[slot].requested;
	if (enoki_msg_send(&m))
		__sync_fetch_and_add(&arachne_nr_dropped, 1);
}

/* Max-min fair share of the grantable CPUs over the requests. */
static void arachne_set_targets(void)
{
	u32 nr = enoki_nr_cpus(), avail, active, share, give, want, round;
	s32 a;

	avail = nr > arachne_reserved_cpus ? nr - arachne_reserved_cpus : 0;
	for (a = 0; a < ARACHNE_MAX_APPS; a++)
		arachne_apps[a].target = 0;

	for (round = 0; round < ARACHNE_MAX_APPS + 2 && avail; round++) {
		active = 0;
		for (a = 0; a < ARACHNE_MAX_APPS; a++)
			if (arachne_apps[a].target < arachne_apps[a].requested)
				active++;
		if (!active)
			break;
		share = avail / active ? avail / active : 1;
		for (a = 0; a < ARACHNE_MAX_APPS && avail; a++) {
			want = arachne_apps[a].requested -
			       arachne_apps[a].target;
			if (!want || !arachne_apps[a].requested)
				continue;
			give = want < share ? want : share;
			give = give < avail ? give : avail;
			arachne_apps[a].target += give;
			avail -= give;
		}
	}
}

/* Move CPUs until every application holds its target; announce each. */
static void arachne_apply(void)
{
	u32 nr = enoki_nr_cpus(), o;
	s32 i, cpu, a;

	/* Reclaim from applications above target, highest CPU first. */
	for (i = ARACHNE_MAX_CPUS - 1; i >= 0; i--) {
		o = (u32)i < nr ? arachne_owner[i] : 0;
		if (!o || o > ARACHNE_MAX_APPS)
			continue;
		if (arachne_apps[o - 1].granted <= arachne_apps[o - 1].target)
			continue;
		arachne_owner[i] = 0;
		arachne_apps[o - 1].granted--;
		__sync_fetch_and_add(&arachne_nr_reclaims, 1);
		arachne_notify(ARACHNE_MSG_RECLAIM, (s32)o - 1, i);
		enoki_kick_cpu(i, ENOKI_KICK_PREEMPT);
	}

	/* Grant free CPUs to applications below target, lowest first. */
	for (cpu = 0; cpu < ARACHNE_MAX_CPUS; cpu++) {
		if ((u32)cpu >= nr)
			break;
		if ((u32)cpu < arachne_reserved_cpus || arachne_owner[cpu])
			continue;
		for (a = 0; a < ARACHNE_MAX_APPS; a++)
			if (arachne_apps[a].granted < arachne_apps[a].target)
				break;
		if (a >= ARACHNE_MAX_APPS)
			break;
		arachne_owner[cpu] = (u32)a + 1;
		arachne_apps[a].granted++;
		__sync_fetch_and_add(&arachne_nr_grants, 1);
		arachne_notify(ARACHNE_MSG_GRANT, a, cpu);
		enoki_kick_cpu(cpu, ENOKI_KICK_PREEMPT);
	}
}

static void arachne_msg(const struct enoki_msg *m)
{
	u32 nr = enoki_nr_cpus();
	s32 slot;

	if (!m->arg[0] || m->arg[0] > 0xffffffffULL ||
	    (m->type != ARACHNE_MSG_REGISTER &&
	     m->type != ARACHNE_MSG_REQUEST_CORES)) {
		__sync_fetch_and_add(&arachne_nr_bad_msgs, 1);
		return;
	}
	slot = arachne_app_slot(m->arg[0]);
	if (slot < 0 || slot >= ARACHNE_MAX_APPS) {
		__sync_fetch_and_add(&arachne_nr_dropped, 1);
		return;
	}

	if (m->type == ARACHNE_MSG_REGISTER) {
		if ((s32)m->pid <= 0 || arachne_thread_add((s32)m->pid, slot))
			__sync_fetch_and_add(&arachne_nr_dropped, 1);
		arachne_gen++;
		return;
	}

	arachne_apps[slot].requested = m->arg[1] < nr ? (u32)m->arg[1] : nr;
	arachne_set_targets();
	arachne_apply();
}

/* ---- scheduling -------------------------------------------------------- */

/* Claim an idle CPU held by @app1 (0: by nobody) that @p may use, @prev
 * first; -1 if none. */
static s32 arachne_claim_idle(struct task_struct *p, u32 app1, s32 prev)
{
	u32 nr = enoki_nr_cpus();
	s32 cpu;

	if (prev >= 0 && prev < ARACHNE_MAX_CPUS && (u32)prev < nr &&
	    arachne_owner[prev] == app1 && enoki_task_allowed(p, prev) &&
	    enoki_test_and_clear_cpu_idle(prev))
		return prev;
	for (cpu = 0; cpu < ARACHNE_MAX_CPUS; cpu++) {
		if ((u32)cpu >= nr)
			break;
		if (arachne_owner[cpu] != app1 || !enoki_task_allowed(p, cpu))
			continue;
		if (enoki_test_and_clear_cpu_idle(cpu))
			return cpu;
	}
	return -1;
}

s32 ENOKI_CB(arachne_select_cpu, struct task_struct *p, s32 prev_cpu,
	     u64 wake_flags)
{
	u32 app1 = arachne_task_app(p);
	s32 cpu;

	if (!app1 && enoki_task_nr_cpus_allowed(p) == 1)
		return prev_cpu;
	cpu = arachne_claim_idle(p, app1, prev_cpu);
	if (cpu < 0)
		return prev_cpu;
	enoki_dsq_insert(p, ENOKI_DSQ_LOCAL, arachne_slice_ns, 0);
	return cpu;
}

void ENOKI_CB(arachne_enqueue, struct task_struct *p, u64 enq_flags)
{
	u32 app1 = arachne_task_app(p);
	s32 cpu;

	/* Pinned tasks run on their CPU whoever holds it. */
	if (!app1 && enoki_task_nr_cpus_allowed(p) == 1) {
		enoki_dsq_insert(p, ENOKI_DSQ_LOCAL_ON | (u64)enoki_task_cpu(p),
				 arachne_slice_ns, enq_flags);
		return;
	}

	/*
	 * The last task of its CPU (SCX_OPS_ENQ_LAST) stays there if that CPU
	 * is its own (its application's, or unheld for others); else it
	 * leaves, and the CPU idles until its own work arrives.
	 */
	cpu = enoki_task_cpu(p);
	if ((enq_flags & ENOKI_ENQ_LAST) && cpu >= 0 && cpu < ARACHNE_MAX_CPUS &&
	    arachne_owner[cpu] == app1) {
		enoki_dsq_insert(p, ENOKI_DSQ_LOCAL, arachne_slice_ns, enq_flags);
		return;
	}

	enoki_dsq_insert(p, app1 ? ARACHNE_APP_DSQ(app1 - 1) :
			 ARACHNE_SHARED_DSQ, arachne_slice_ns, enq_flags);
	cpu = arachne_claim_idle(p, app1, enoki_task_cpu(p));
	if (cpu >= 0)
		enoki_kick_cpu(cpu, ENOKI_KICK_IDLE);
}

void ENOKI_CB(arachne_dispatch, s32 cpu, struct task_struct *prev)
{
	u32 o = 0;
	s32 a;

	if (cpu >= 0 && cpu < ARACHNE_MAX_CPUS)
		o = arachne_owner[cpu];
	if (o && o <= ARACHNE_MAX_APPS) {
		enoki_dsq_move_to_local(ARACHNE_APP_DSQ(o - 1));
		return;
	}
	if (enoki_dsq_move_to_local(ARACHNE_SHARED_DSQ))
		return;

	/* Threads left queued by an application that lost all its cores. */
	for (a = 0; a < ARACHNE_MAX_APPS; a++)
		if (arachne_apps[a].id && !arachne_apps[a].granted &&
		    enoki_dsq_move_to_local(ARACHNE_APP_DSQ(a)))
			return;
}

s32 ENOKI_CB(arachne_init_task, struct task_struct *p,
	     struct scx_init_task_args *args)
{
	if (!enoki_task_storage(&arachne_tasks, p, ENOKI_STORAGE_CREATE))
		return -12;	/* -ENOMEM */
	return 0;
}

void ENOKI_CB(arachne_exit_task, struct task_struct *p,
	      struct scx_exit_task_args *args)
{
	s32 idx = arachne_thread_find(enoki_task_pid(p));

	if (idx < 0 || idx >= ARACHNE_MAX_THREADS)
		return;
	arachne_threads[idx].pid = ARACHNE_TOMBSTONE;
	arachne_gen++;
}

s32 ENOKI_CB_INIT(arachne_init)
{
	s32 a, err;

	err = enoki_dsq_create(ARACHNE_SHARED_DSQ);
	for (a = 0; a < ARACHNE_MAX_APPS && !err; a++)
		err = enoki_dsq_create(ARACHNE_APP_DSQ(a));
	if (err)
		enoki_error("arachne: cannot create queues: %d", err);
	return err;
}

ENOKI_POLICY(arachne, "1.0",
	     .flags = ENOKI_OPS_ENQ_LAST,	/* see arachne_enqueue */
	     .select_cpu = (void *)arachne_select_cpu,
	     .enqueue = (void *)arachne_enqueue,
	     .dispatch = (void *)arachne_dispatch,
	     .init_task = (void *)arachne_init_task,
	     .exit_task = (void *)arachne_exit_task,
	     .init = (void *)arachne_init);
ENOKI_MSG_HANDLER(arachne, arachne_msg);
