/*
 * stall.c - a policy that takes tasks and never dispatches them, for the
 * watchdog exit code of tests/enoki-sim.t.
 */
#include <enoki/enoki.h>

s32 ENOKI_CB(stall_select_cpu, struct task_struct *p, s32 prev_cpu,
	     u64 wake_flags)
{
	return prev_cpu;
}

void ENOKI_CB(stall_enqueue, struct task_struct *p, u64 enq_flags)
{
}

ENOKI_POLICY(stall, "1.0", .select_cpu = stall_select_cpu,
	     .enqueue = stall_enqueue, .timeout_ms = 500);
