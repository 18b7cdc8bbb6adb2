/*
 * enoki/log/record.h - recording a natively run policy into a log.
 *
 * The recorder wraps the two choke points of enoki/host/enoki_host.h:
 * h->invoke (every callback the engine makes into the policy) and h->ops
 * (every enoki_* call the policy makes), logging each callback's entry
 * and arguments, each call with its arguments and the value the engine
 * returned, each lock taken or released (through the host's lock hook),
 * and each callback's return value.  The engine does not know
 * it is being recorded.  Events carry the engine's time (h->ops->now at
 * callback entry) and the CPU the callback runs on.
 *
 * Use (enoki sim --record LOG):
 *
 *	enoki_host_init(&h, lp.policy, nr_cpus, &sim_ops, sim);
 *	enoki_record_start(&h, LOG, &lp, seed, workload_name, err, sizeof(err));
 *	enoki_host_set(&h);
 *	enoki_call_init(&h); ... run ... enoki_call_exit(&h);
 *	enoki_record_stop(&h, err, sizeof(err));
 *
 * Not recorded: enoki_task_pid, enoki_nr_cpus, enoki_this_cpu,
 * enoki_cpumask_test and enoki_printk (replay answers them itself from
 * the log), storage lookups (the host layer's own memory, the same in
 * replay), and callbacks after the policy was ejected (never made; exit
 * still is, and is logged).
 */
#ifndef ENOKI_LOG_RECORD_H
#define ENOKI_LOG_RECORD_H

#include <stddef.h>

#include "../host/enoki_host.h"

/*
 * enoki_record_start - start recording @h into a new log at @path.  Call
 * after enoki_host_init() and before the first callback (init).  @lp
 * names the policy and its build; @seed and @workload (may be NULL) go
 * into the header.  Returns 0, or -errno with one line in @err.
 */
int enoki_record_start(struct enoki_host *h, const char *path,
		       const struct enoki_loaded_policy *lp, u64 seed,
		       const char *workload, char *err, size_t errlen);

/*
 * enoki_record_stop - finish the log (last chunk and end chunk), restore
 * h->ops and h->invoke, free the recorder.  No-op if not recording.
 * Returns 0, or the first -errno the writer met with one line in @err
 * (the log then ends at its last whole chunk).
 */
int enoki_record_stop(struct enoki_host *h, char *err, size_t errlen);

/* Events written so far (0 if not recording). */
u64 enoki_record_count(const struct enoki_host *h);

#endif /* ENOKI_LOG_RECORD_H */
