/*
 * api.c - the enoki_* functions of include/enoki/host/native.h.
 *
 * Each one forwards to the active host's function table (enoki_host.h),
 * the choke point a recorder wraps.  printk and error format their text
 * here, so engines and recorders see finished strings.  Storage and locks
 * are policy memory, not engine state, and are served by this layer
 * (storage.c) for every engine; the order of lock operations goes to the
 * host's optional lock hook (h->lock).  A call with no active host is a bug in
 * the caller (a policy called outside a callback): it aborts.
 */
#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "enoki_host.h"

static struct enoki_host *cur(void)
{
	struct enoki_host *h = enoki_host_get();

	if (!h) {
		fprintf(stderr, "enoki: policy called the host with no active engine\n");
		abort();
	}
	return h;
}

s32 enoki_task_pid(const struct task_struct *p)
{
	struct enoki_host *h = cur();

	return h->ops->task_pid(h, p);
}

u32 enoki_task_weight(const struct task_struct *p)
{
	struct enoki_host *h = cur();

	return h->ops->task_weight(h, p);
}

s32 enoki_task_cpu(const struct task_struct *p)
{
	struct enoki_host *h = cur();

	return h->ops->task_cpu(h, p);
}

bool enoki_task_allowed(const struct task_struct *p, s32 cpu)
{
	struct enoki_host *h = cur();

	return h->ops->task_allowed(h, p, cpu);
}

s32 enoki_task_nr_cpus_allowed(const struct task_struct *p)
{
	struct enoki_host *h = cur();

	return h->ops->task_nr_cpus_allowed(h, p);
}

u64 enoki_task_slice(const struct task_struct *p)
{
	struct enoki_host *h = cur();

	return h->ops->task_slice(h, p);
}

void enoki_task_set_slice(struct task_struct *p, u64 slice_ns)
{
	struct enoki_host *h = cur();

	h->ops->task_set_slice(h, p, slice_ns);
}

u64 enoki_task_vtime(const struct task_struct *p)
{
	struct enoki_host *h = cur();

	return h->ops->task_vtime(h, p);
}

void enoki_task_set_vtime(struct task_struct *p, u64 vtime)
{
	struct enoki_host *h = cur();

	h->ops->task_set_vtime(h, p, vtime);
}

bool enoki_cpumask_test(const struct cpumask *mask, s32 cpu)
{
	struct enoki_host *h = cur();

	return h->ops->cpumask_test(h, mask, cpu);
}

s32 enoki_dsq_create(u64 dsq_id)
{
	struct enoki_host *h = cur();

	return h->ops->dsq_create(h, dsq_id);
}

void enoki_dsq_destroy(u64 dsq_id)
{
	struct enoki_host *h = cur();

	h->ops->dsq_destroy(h, dsq_id);
}

void enoki_dsq_insert(struct task_struct *p, u64 dsq_id, u64 slice,
		      u64 enq_flags)
{
	struct enoki_host *h = cur();

	h->ops->dsq_insert(h, p, dsq_id, slice, enq_flags);
}

void enoki_dsq_insert_vtime(struct task_struct *p, u64 dsq_id, u64 slice,
			    u64 vtime, u64 enq_flags)
{
	struct enoki_host *h = cur();

	h->ops->dsq_insert_vtime(h, p, dsq_id, slice, vtime, enq_flags);
}

bool enoki_dsq_move_to_local(u64 dsq_id)
{
	struct enoki_host *h = cur();

	return h->ops->dsq_move_to_local(h, dsq_id);
}

s32 enoki_dsq_nr_queued(u64 dsq_id)
{
	struct enoki_host *h = cur();

	return h->ops->dsq_nr_queued(h, dsq_id);
}

u32 enoki_nr_cpus(void)
{
	struct enoki_host *h = cur();

	return h->ops->nr_cpus(h);
}

s32 enoki_this_cpu(void)
{
	struct enoki_host *h = cur();

	return h->ops->this_cpu(h);
}

void enoki_kick_cpu(s32 cpu, u64 flags)
{
	struct enoki_host *h = cur();

	h->ops->kick_cpu(h, cpu, flags);
}

s32 enoki_select_cpu_dfl(struct task_struct *p, s32 prev_cpu,
			 u64 wake_flags, bool *is_idle)
{
	struct enoki_host *h = cur();
	bool dummy;

	return h->ops->select_cpu_dfl(h, p, prev_cpu, wake_flags,
				      is_idle ? is_idle : &dummy);
}

bool enoki_test_and_clear_cpu_idle(s32 cpu)
{
	struct enoki_host *h = cur();

	return h->ops->test_and_clear_cpu_idle(h, cpu);
}

s32 enoki_pick_idle_cpu(const struct task_struct *p, u64 flags)
{
	struct enoki_host *h = cur();

	return h->ops->pick_idle_cpu(h, p, flags);
}

s32 enoki_pick_any_cpu(const struct task_struct *p, u64 flags)
{
	struct enoki_host *h = cur();

	return h->ops->pick_any_cpu(h, p, flags);
}

u64 enoki_now(void)
{
	struct enoki_host *h = cur();

	return h->ops->now(h);
}

void *enoki_task_storage(struct enoki_storage *s, struct task_struct *p,
			 u64 flags)
{
	return enoki_host_task_storage(s, p, flags);
}

void *enoki_cpu_storage(struct enoki_storage *s, s32 cpu)
{
	return enoki_host_cpu_storage(cur(), s, cpu);
}

/* One thread runs every callback, so a lock is only ever free here; a
 * second take without a release is a policy bug (it would deadlock).
 * The order of takes and releases goes to the host's lock hook. */
void enoki_lock(struct enoki_lock *l)
{
	struct enoki_host *h = enoki_host_get();

	assert(!l->val);
	l->val = 1;
	if (h && h->lock)
		h->lock(h, l, true);
}

void enoki_unlock(struct enoki_lock *l)
{
	struct enoki_host *h = enoki_host_get();

	assert(l->val);
	l->val = 0;
	if (h && h->lock)
		h->lock(h, l, false);
}

s32 enoki_timer_start(struct enoki_timer *t, u64 delay_ns)
{
	struct enoki_host *h = cur();

	return h->ops->timer_start(h, t, delay_ns);
}

s32 enoki_msg_send(const struct enoki_msg *m)
{
	struct enoki_host *h = cur();

	return h->ops->msg_send(h, m);
}

void enoki_printk(const char *fmt, ...)
{
	struct enoki_host *h = cur();
	char text[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	h->ops->printk(h, text);
}

void enoki_error(const char *fmt, ...)
{
	struct enoki_host *h = cur();
	char text[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	enoki_host_eject(h, ENOKI_EXIT_ERROR, "%s", text);
	h->ops->error(h, text);
}
