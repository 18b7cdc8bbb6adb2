/*
 * storage.c - per-task and per-CPU storage for native policy builds.
 *
 * A policy declares storage statically (ENOKI_TASK_STORAGE, ENOKI_CPU_
 * STORAGE); the first lookup registers it here: s->impl points to a
 * record with an index (the task's slot in task_struct.storage[]) and,
 * for per-CPU use, one zeroed array of values for all CPUs.  Values are
 * zeroed at creation, as BPF map values are.  Registrations live until
 * enoki_host_storage_reset(), which an engine calls when the policy is
 * unloaded.  Limit: ENOKI_HOST_MAX_STORAGE storages per policy; a lookup
 * beyond it returns NULL (the policy must handle NULL, as in BPF).
 */
#include <stdlib.h>
#include <string.h>

#include "enoki_host.h"

struct host_storage {
	struct enoki_storage *s;
	int idx;
	void *cpu_vals;			/* ENOKI_MAX_CPUS values, lazily */
};

static struct host_storage regs[ENOKI_HOST_MAX_STORAGE];
static int nr_regs;

static struct host_storage *reg(struct enoki_storage *s)
{
	struct host_storage *hs;

	if (s->impl)
		return s->impl;
	if (nr_regs == ENOKI_HOST_MAX_STORAGE || !s->value_size)
		return NULL;
	hs = &regs[nr_regs];
	hs->s = s;
	hs->idx = nr_regs++;
	hs->cpu_vals = NULL;
	s->impl = hs;
	return hs;
}

void *enoki_host_task_storage(struct enoki_storage *s, struct task_struct *p,
			      u64 flags)
{
	struct host_storage *hs;

	if (!p)
		return NULL;
	hs = reg(s);
	if (!hs)
		return NULL;
	if (!p->storage[hs->idx] && (flags & ENOKI_STORAGE_CREATE))
		p->storage[hs->idx] = calloc(1, s->value_size);
	return p->storage[hs->idx];
}

void *enoki_host_cpu_storage(struct enoki_host *h, struct enoki_storage *s,
			     s32 cpu)
{
	struct host_storage *hs = reg(s);

	if (!hs || cpu < 0 || (u32)cpu >= h->nr_cpus)
		return NULL;
	if (!hs->cpu_vals) {
		hs->cpu_vals = calloc(ENOKI_MAX_CPUS, s->value_size);
		if (!hs->cpu_vals)
			return NULL;
	}
	return (char *)hs->cpu_vals + (size_t)cpu * s->value_size;
}

void enoki_host_task_free(struct task_struct *p)
{
	int i;

	for (i = 0; i < ENOKI_HOST_MAX_STORAGE; i++) {
		free(p->storage[i]);
		p->storage[i] = NULL;
	}
}

void enoki_host_storage_reset(void)
{
	int i;

	for (i = 0; i < nr_regs; i++) {
		free(regs[i].cpu_vals);
		regs[i].s->impl = NULL;
		memset(&regs[i], 0, sizeof(regs[i]));
	}
	nr_regs = 0;
}
