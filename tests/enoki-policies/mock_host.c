/*
 * mock_host.c - the enoki_* calls over plain arrays, for policy unit
 * tests (see mock_host.h).  Queue counts live in a small table of queue
 * ids; an insert adds one, a successful move_to_local takes one.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mock_host.h"

#define MOCK_MAX_DSQS 600

struct mock_host mock;

static struct {
	u64 id;
	s32 n;
	bool used;
} mock_dsqs[MOCK_MAX_DSQS];

static struct enoki_storage *mock_storages[MOCK_MAX_STORAGE];
static int mock_nr_storages;
static void *mock_cpu_values[MOCK_MAX_STORAGE];

static int mock_storage_index(struct enoki_storage *s)
{
	int i;

	for (i = 0; i < mock_nr_storages; i++)
		if (mock_storages[i] == s)
			return i;
	if (mock_nr_storages == MOCK_MAX_STORAGE)
		abort();
	mock_storages[mock_nr_storages] = s;
	return mock_nr_storages++;
}

static s32 *mock_dsq(u64 id, bool create)
{
	int i, free_i = -1;

	for (i = 0; i < MOCK_MAX_DSQS; i++) {
		if (mock_dsqs[i].used && mock_dsqs[i].id == id)
			return &mock_dsqs[i].n;
		if (!mock_dsqs[i].used && free_i < 0)
			free_i = i;
	}
	if (!create || free_i < 0)
		return NULL;
	mock_dsqs[free_i].used = true;
	mock_dsqs[free_i].id = id;
	mock_dsqs[free_i].n = 0;
	return &mock_dsqs[free_i].n;
}

void mock_reset(u32 nr_cpus)
{
	int i;

	for (i = 0; i < mock_nr_storages; i++) {
		free(mock_cpu_values[i]);
		mock_cpu_values[i] = NULL;
	}
	memset(&mock, 0, sizeof(mock));
	memset(mock_dsqs, 0, sizeof(mock_dsqs));
	mock.nr_cpus = nr_cpus;
	mock.now = 1000000000ULL;
}

void mock_task(struct task_struct *p, s32 pid)
{
	memset(p, 0, sizeof(*p));
	p->pid = pid;
	p->weight = 100;
}

void mock_task_free(struct task_struct *p)
{
	int i;

	for (i = 0; i < MOCK_MAX_STORAGE; i++) {
		free(p->storage[i]);
		p->storage[i] = NULL;
	}
}

void mock_set_queued(u64 dsq, s32 n)
{
	s32 *q = mock_dsq(dsq, true);

	if (q)
		*q = n;
}

void mock_clear_log(void)
{
	memset(&mock.last, 0, sizeof(mock.last));
	mock.nr_kicks = 0;
	mock.nr_msgs = 0;
}

/* ---- tasks ---- */

s32 enoki_task_pid(const struct task_struct *p) { return p->pid; }
u32 enoki_task_weight(const struct task_struct *p) { return p->weight; }
s32 enoki_task_cpu(const struct task_struct *p) { return p->cpu; }
u64 enoki_task_slice(const struct task_struct *p) { return p->slice; }
u64 enoki_task_vtime(const struct task_struct *p) { return p->vtime; }

void enoki_task_set_slice(struct task_struct *p, u64 slice_ns)
{
	p->slice = slice_ns;
}

void enoki_task_set_vtime(struct task_struct *p, u64 vtime)
{
	p->vtime = vtime;
}

bool enoki_task_allowed(const struct task_struct *p, s32 cpu)
{
	if (cpu < 0 || (u32)cpu >= mock.nr_cpus)
		return false;
	return !p->allowed || (p->allowed >> cpu) & 1;
}

s32 enoki_task_nr_cpus_allowed(const struct task_struct *p)
{
	return p->allowed ? __builtin_popcountll(p->allowed) :
			    (s32)mock.nr_cpus;
}

bool enoki_cpumask_test(const struct cpumask *mask, s32 cpu)
{
	return false;
}

/* ---- queues ---- */

s32 enoki_dsq_create(u64 dsq_id)
{
	if (mock_dsq(dsq_id, false))
		return -17;	/* -EEXIST */
	return mock_dsq(dsq_id, true) ? 0 : -12;
}

void enoki_dsq_destroy(u64 dsq_id)
{
}

static void mock_insert(struct task_struct *p, u64 dsq, u64 slice,
			u64 vtime, u64 flags)
{
	s32 *q = mock_dsq(dsq, false);

	if (q)
		(*q)++;
	mock.last.p = p;
	mock.last.dsq = dsq;
	mock.last.slice = slice;
	mock.last.vtime = vtime;
	mock.last.flags = flags;
	mock.last.n++;
}

void enoki_dsq_insert(struct task_struct *p, u64 dsq_id, u64 slice,
		      u64 enq_flags)
{
	mock_insert(p, dsq_id, slice, 0, enq_flags);
}

void enoki_dsq_insert_vtime(struct task_struct *p, u64 dsq_id, u64 slice,
			    u64 vtime, u64 enq_flags)
{
	mock_insert(p, dsq_id, slice, vtime, enq_flags);
}

bool enoki_dsq_move_to_local(u64 dsq_id)
{
	s32 *q = mock_dsq(dsq_id, false);

	if (!q || *q <= 0)
		return false;
	(*q)--;
	return true;
}

s32 enoki_dsq_nr_queued(u64 dsq_id)
{
	s32 *q = mock_dsq(dsq_id, false);

	return q ? *q : -2;	/* -ENOENT */
}

/* ---- CPUs ---- */

u32 enoki_nr_cpus(void) { return mock.nr_cpus; }
s32 enoki_this_cpu(void) { return mock.this_cpu; }

void enoki_kick_cpu(s32 cpu, u64 flags)
{
	if (mock.nr_kicks == MOCK_MAX_KICKS)
		return;
	mock.kicks[mock.nr_kicks].cpu = cpu;
	mock.kicks[mock.nr_kicks].flags = flags;
	mock.nr_kicks++;
}

bool enoki_test_and_clear_cpu_idle(s32 cpu)
{
	bool idle;

	if (cpu < 0 || (u32)cpu >= mock.nr_cpus)
		return false;
	idle = (mock.idle >> cpu) & 1;
	mock.idle &= ~(1ULL << cpu);
	return idle;
}

s32 enoki_pick_idle_cpu(const struct task_struct *p, u64 flags)
{
	u32 cpu;

	for (cpu = 0; cpu < mock.nr_cpus; cpu++)
		if (enoki_task_allowed(p, (s32)cpu) &&
		    enoki_test_and_clear_cpu_idle((s32)cpu))
			return (s32)cpu;
	return -16;	/* -EBUSY */
}

s32 enoki_pick_any_cpu(const struct task_struct *p, u64 flags)
{
	s32 cpu = enoki_pick_idle_cpu(p, flags);

	return cpu >= 0 ? cpu : p->cpu;
}

s32 enoki_select_cpu_dfl(struct task_struct *p, s32 prev_cpu,
			 u64 wake_flags, bool *is_idle)
{
	s32 cpu;

	*is_idle = false;
	if (enoki_task_allowed(p, prev_cpu) &&
	    enoki_test_and_clear_cpu_idle(prev_cpu)) {
		*is_idle = true;
		return prev_cpu;
	}
	cpu = enoki_pick_idle_cpu(p, 0);
	if (cpu >= 0) {
		*is_idle = true;
		return cpu;
	}
	return prev_cpu;
}

u64 enoki_now(void) { return mock.now; }

/* ---- storage ---- */

void *enoki_task_storage(struct enoki_storage *s, struct task_struct *p,
			 u64 flags)
{
	int i = mock_storage_index(s);

	if (!p->storage[i] && (flags & ENOKI_STORAGE_CREATE))
		p->storage[i] = calloc(1, s->value_size);
	return p->storage[i];
}

void *enoki_cpu_storage(struct enoki_storage *s, s32 cpu)
{
	int i = mock_storage_index(s);

	if (cpu < 0 || (u32)cpu >= mock.nr_cpus)
		return NULL;
	if (!mock_cpu_values[i])
		mock_cpu_values[i] = calloc(MOCK_MAX_CPUS, s->value_size);
	return (char *)mock_cpu_values[i] + (size_t)cpu * s->value_size;
}

/* ---- the rest ---- */

void enoki_lock(struct enoki_lock *l) { l->val = 1; }
void enoki_unlock(struct enoki_lock *l) { l->val = 0; }

s32 enoki_timer_start(struct enoki_timer *t, u64 delay_ns)
{
	mock.timer = t;
	mock.timer_delay = delay_ns;
	mock.nr_timer_starts++;
	return 0;
}

s32 enoki_msg_send(const struct enoki_msg *m)
{
	if (mock.nr_msgs == MOCK_MAX_MSGS)
		return -28;	/* -ENOSPC */
	mock.msgs[mock.nr_msgs++] = *m;
	return 0;
}

void enoki_printk(const char *fmt, ...)
{
}

void enoki_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(mock.error, sizeof(mock.error), fmt, ap);
	va_end(ap);
	mock.errors++;
}
