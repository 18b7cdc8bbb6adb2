/*
 * enoki/enoki.h - everything an Enoki scheduling policy includes.
 *
 * A policy is one C file, sched/NAME/NAME.bpf.c, written once and
 * compiled two ways:
 *
 *   clang -target bpf   against vmlinux.h of the guest kernel: a BPF
 *                       object whose struct_ops map attaches to sched_ext
 *                       (enoki/host/bpf.h);
 *   gcc, natively       a shared object the simulator and the replay
 *                       engine load (enoki/host/native.h).
 *
 * The policy never says which: it includes this header only, names its
 * callbacks with ENOKI_CB(), reaches tasks, queues, CPUs, storage, time
 * and messages through the enoki_* calls below, and declares itself with
 * ENOKI_POLICY().  The host headers map those calls onto sched_ext kfuncs
 * and BPF maps, or onto the simulator/replay host, which records or checks
 * every call.  This header is the only place with #ifdef.
 *
 * The callbacks are sched_ext's, with its semantics (see
 * kernel/sched/ext.c and docs/enoki-api.md):
 *
 *   s32  select_cpu(struct task_struct *p, s32 prev_cpu, u64 wake_flags)
 *   void enqueue(struct task_struct *p, u64 enq_flags)
 *   void dequeue(struct task_struct *p, u64 deq_flags)
 *   void dispatch(s32 cpu, struct task_struct *prev)
 *   void runnable(struct task_struct *p, u64 enq_flags)
 *   void running(struct task_struct *p)
 *   void stopping(struct task_struct *p, bool runnable)
 *   void quiescent(struct task_struct *p, u64 deq_flags)
 *   void tick(struct task_struct *p)
 *   void set_weight(struct task_struct *p, u32 weight)
 *   void set_cpumask(struct task_struct *p, const struct cpumask *mask)
 *   s32  init_task(struct task_struct *p, struct scx_init_task_args *args)
 *   void exit_task(struct task_struct *p, struct scx_exit_task_args *args)
 *   s32  init(void)
 *   void exit(struct scx_exit_info *ei)
 *   void cpu_online(s32 cpu), cpu_offline(s32 cpu)
 *
 * plus Enoki's own: a message handler (ENOKI_MSG_HANDLER) for messages
 * applications send to the policy, and enoki_msg_send() for notifications
 * back.  Callbacks run concurrently on different CPUs in the kernel; the
 * simulator runs them one at a time but in the kernel's orders.
 */
#ifndef ENOKI_ENOKI_H
#define ENOKI_ENOKI_H

#ifdef __bpf__
#include <enoki/host/bpf.h>
#else
#include <enoki/host/native.h>
#endif

#include <enoki/msg.h>

#endif /* ENOKI_ENOKI_H */
