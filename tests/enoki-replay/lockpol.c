/*
 * lockpol - a policy for the lock-order tests of record and replay: two
 * locks, both named in init (a, then b: lock ids 0 and 1 in every build),
 * then taken nested on every enqueue in the order lockpol_order gives.
 * That variable lives in a second object (lockorder.c, built twice by
 * log.mk), so the same source makes the recorded build (a then b) and a
 * changed build (b then a) that replay must report at the first enqueue's
 * first lock.  Tasks go to the global DSQ.
 */
#include <enoki/enoki.h>

extern const int lockpol_order;		/* 0: a then b; 1: b then a */

static struct enoki_lock lp_a, lp_b;
static u64 nr_enqueued, nr_both;

static s32 ENOKI_CB_INIT(lp_init)
{
	enoki_lock(&lp_a);
	nr_enqueued = 0;
	enoki_unlock(&lp_a);
	enoki_lock(&lp_b);
	nr_both = 0;
	enoki_unlock(&lp_b);
	return 0;
}

static void ENOKI_CB(lp_enqueue, struct task_struct *p, u64 enq_flags)
{
	struct enoki_lock *first = lockpol_order ? &lp_b : &lp_a;
	struct enoki_lock *second = lockpol_order ? &lp_a : &lp_b;

	enoki_lock(first);
	nr_enqueued++;
	enoki_lock(second);
	nr_both++;
	enoki_unlock(second);
	enoki_unlock(first);
	enoki_dsq_insert(p, ENOKI_DSQ_GLOBAL, ENOKI_SLICE_DFL, enq_flags);
}

ENOKI_POLICY(lockpol, "1.0",
	     .enqueue = (void *)lp_enqueue,
	     .init = (void *)lp_init);
