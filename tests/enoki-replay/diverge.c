/*
 * diverge.c - linked into the "changed build" of a policy for the replay
 * tests.  The policy source is compiled with
 *
 *	-Denoki_dsq_insert=enoki_test_diverge_insert
 *	-Denoki_dsq_insert_vtime=enoki_test_diverge_insert_vtime
 *
 * so its inserts come here; the DIVERGE_AT-th insert (of either kind,
 * counted from 1) gets a slice one nanosecond longer, and everything
 * else is passed on unchanged.  Replay must report that insert.
 */
#include <enoki/enoki.h>

void enoki_test_diverge_insert(struct task_struct *p, u64 dsq_id, u64 slice,
			       u64 enq_flags);
void enoki_test_diverge_insert_vtime(struct task_struct *p, u64 dsq_id,
				     u64 slice, u64 vtime, u64 enq_flags);

static u64 nr_inserts;

void enoki_test_diverge_insert(struct task_struct *p, u64 dsq_id, u64 slice,
			       u64 enq_flags)
{
	if (++nr_inserts == DIVERGE_AT)
		slice++;
	enoki_dsq_insert(p, dsq_id, slice, enq_flags);
}

void enoki_test_diverge_insert_vtime(struct task_struct *p, u64 dsq_id,
				     u64 slice, u64 vtime, u64 enq_flags)
{
	if (++nr_inserts == DIVERGE_AT)
		slice++;
	enoki_dsq_insert_vtime(p, dsq_id, slice, vtime, enq_flags);
}
