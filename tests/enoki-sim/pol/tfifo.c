/*
 * tfifo.c - the simulator tests' own global FIFO policy, loaded as a .so
 * by tests/enoki-sim.t (so the CLI test does not depend on sched/).
 */
#include <enoki/enoki.h>

void ENOKI_CB(tfifo_enqueue, struct task_struct *p, u64 enq_flags)
{
	enoki_dsq_insert(p, ENOKI_DSQ_GLOBAL, 5000000, enq_flags);
}

ENOKI_POLICY(tfifo, "1.0", .enqueue = tfifo_enqueue);
