/*
 * enoki/host/native.h - the Enoki policy API for native builds (the
 * simulator and the replay engine).  Included by <enoki/enoki.h> only.
 *
 * Every enoki_* call is a function the host program (enoki) implements;
 * a policy .so resolves them from it at load time.  The host routes each
 * call to the simulator or to the replay engine, which records or checks
 * it.  The names, argument orders and constant values are sched_ext's, so
 * that enoki/host/bpf.h can map each call onto one kfunc or helper.
 */
#ifndef ENOKI_HOST_NATIVE_H
#define ENOKI_HOST_NATIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int32_t s32;
typedef int64_t s64;
typedef uint32_t __u32;
typedef uint64_t __u64;

/* Opaque to policies: the host's task, CPU mask and callback arguments. */
struct enoki_msg;
struct task_struct;
struct cpumask;
struct scx_exit_info;

struct scx_init_task_args {
	bool fork;		/* created by fork, not an existing task */
};

struct scx_exit_task_args {
	bool cancelled;		/* init_task succeeded but the task never ran */
};

/* ---- constants, with sched_ext's values ---------------------------- */

#define ENOKI_DSQ_FLAG_BUILTIN (1ULL << 63)
#define ENOKI_DSQ_FLAG_LOCAL_ON (1ULL << 62)
#define ENOKI_DSQ_INVALID (ENOKI_DSQ_FLAG_BUILTIN | 0)
#define ENOKI_DSQ_GLOBAL (ENOKI_DSQ_FLAG_BUILTIN | 1)
#define ENOKI_DSQ_LOCAL (ENOKI_DSQ_FLAG_BUILTIN | 2)
#define ENOKI_DSQ_LOCAL_ON (ENOKI_DSQ_FLAG_BUILTIN | ENOKI_DSQ_FLAG_LOCAL_ON)

#define ENOKI_SLICE_DFL (20ULL * 1000 * 1000)	/* ns, SCX_SLICE_DFL */
#define ENOKI_SLICE_INF (~0ULL)

/* enq_flags */
#define ENOKI_ENQ_WAKEUP (1ULL << 0)
#define ENOKI_ENQ_HEAD (1ULL << 16)	/* 1 << 4 in older kernels (6.12) */
#define ENOKI_ENQ_PREEMPT (1ULL << 32)
#define ENOKI_ENQ_REENQ (1ULL << 40)
#define ENOKI_ENQ_LAST (1ULL << 41)
/* wake_flags (select_cpu), as the kernel's WF_* */
#define ENOKI_WAKE_FORK 0x04
#define ENOKI_WAKE_TTWU 0x08
#define ENOKI_WAKE_SYNC 0x10
/* deq_flags (dequeue, quiescent), as SCX_DEQ_* of the 7.x kernel */
#define ENOKI_DEQ_SLEEP (1ULL << 0)
#define ENOKI_DEQ_SCHED_CHANGE (1ULL << 33)	/* property change */
/* kick flags */
#define ENOKI_KICK_IDLE (1ULL << 0)
#define ENOKI_KICK_PREEMPT (1ULL << 1)
#define ENOKI_KICK_WAIT (1ULL << 2)
/* pick_idle_cpu flags */
#define ENOKI_PICK_IDLE_CORE (1ULL << 0)
/* ops.flags */
#define ENOKI_OPS_KEEP_BUILTIN_IDLE (1ULL << 0)
#define ENOKI_OPS_ENQ_LAST (1ULL << 1)
#define ENOKI_OPS_ENQ_EXITING (1ULL << 2)

/* ---- callbacks and the policy declaration -------------------------- */

/* ENOKI_CB(name, args...) - define a callback: `void ENOKI_CB(x_tick,
 * struct task_struct *p) { ... }`. */
#define ENOKI_CB(name, args...) name(args)

/* ENOKI_CB_INIT(name) - define ops.init, which takes no arguments and may
 * sleep (creating queues does; in BPF a sleepable struct_ops program):
 * `s32 ENOKI_CB_INIT(x_init) { ... }`. */
#define ENOKI_CB_INIT(name) name(void)

/* The native ops table: sched_ext_ops' callbacks, same names. */
struct enoki_ops {
	s32 (*select_cpu)(struct task_struct *p, s32 prev_cpu, u64 wake_flags);
	void (*enqueue)(struct task_struct *p, u64 enq_flags);
	void (*dequeue)(struct task_struct *p, u64 deq_flags);
	void (*dispatch)(s32 cpu, struct task_struct *prev);
	void (*runnable)(struct task_struct *p, u64 enq_flags);
	void (*running)(struct task_struct *p);
	void (*stopping)(struct task_struct *p, bool runnable);
	void (*quiescent)(struct task_struct *p, u64 deq_flags);
	void (*tick)(struct task_struct *p);
	void (*set_weight)(struct task_struct *p, u32 weight);
	void (*set_cpumask)(struct task_struct *p, const struct cpumask *mask);
	s32 (*init_task)(struct task_struct *p,
			 struct scx_init_task_args *args);
	void (*exit_task)(struct task_struct *p,
			  struct scx_exit_task_args *args);
	s32 (*init)(void);
	void (*exit)(struct scx_exit_info *ei);
	void (*cpu_online)(s32 cpu);
	void (*cpu_offline)(s32 cpu);
	u64 timeout_ms;		/* watchdog timeout, 0: default */
	u64 flags;		/* SCX_OPS_* */
	const char *name;
};

#define ENOKI_API_VERSION 1

struct enoki_policy {
	u32 api_version;
	const char *name;
	const char *version;
	struct enoki_ops ops;
	void (*msg_handler)(const struct enoki_msg *m);
};

/*
 * ENOKI_POLICY(name, ops...) - declare the policy, once, with its ops:
 *
 *	ENOKI_POLICY(fifo, "1.0",
 *		     .select_cpu = (void *)fifo_select_cpu,
 *		     .enqueue = (void *)fifo_enqueue);
 */
#define ENOKI_POLICY(pname, ver, ...)					\
	struct enoki_policy enoki_policy_##pname = {			\
		.api_version = ENOKI_API_VERSION,			\
		.name = #pname,						\
		.version = ver,						\
		.ops = { __VA_ARGS__, .name = #pname },			\
	};								\
	__attribute__((weak, visibility("default")))			\
	struct enoki_policy *enoki_policy_entry = &enoki_policy_##pname

/*
 * ENOKI_MSG_HANDLER(pname, fn) - fn(const struct enoki_msg *) receives
 * the messages applications send to policy pname.
 */
#define ENOKI_MSG_HANDLER(pname, fn)					\
	__attribute__((constructor)) static void enoki_msgh_##pname(void) \
	{								\
		enoki_policy_##pname.msg_handler = fn;			\
	}

/* ---- tasks ------------------------------------------------------------ */

s32 enoki_task_pid(const struct task_struct *p);
u32 enoki_task_weight(const struct task_struct *p);	/* 1..10000, 100 = nice 0 */
s32 enoki_task_cpu(const struct task_struct *p);	/* CPU it is on or last ran on */
bool enoki_task_allowed(const struct task_struct *p, s32 cpu);
s32 enoki_task_nr_cpus_allowed(const struct task_struct *p);
u64 enoki_task_slice(const struct task_struct *p);
void enoki_task_set_slice(struct task_struct *p, u64 slice_ns);
u64 enoki_task_vtime(const struct task_struct *p);	/* p->scx.dsq_vtime */
void enoki_task_set_vtime(struct task_struct *p, u64 vtime);
bool enoki_cpumask_test(const struct cpumask *mask, s32 cpu);

/* ---- dispatch queues --------------------------------------------------- */

/* Create custom queue @dsq_id (< 2^63) at init.  0 or -errno. */
s32 enoki_dsq_create(u64 dsq_id);
void enoki_dsq_destroy(u64 dsq_id);
/* Insert @p into @dsq_id (FIFO), or by @vtime into a custom queue. */
void enoki_dsq_insert(struct task_struct *p, u64 dsq_id, u64 slice,
		      u64 enq_flags);
void enoki_dsq_insert_vtime(struct task_struct *p, u64 dsq_id, u64 slice,
			    u64 vtime, u64 enq_flags);
/* From dispatch: move the first task of @dsq_id to this CPU's local queue;
 * true if one moved. */
bool enoki_dsq_move_to_local(u64 dsq_id);
s32 enoki_dsq_nr_queued(u64 dsq_id);

/* ---- CPUs ------------------------------------------------------------- */

u32 enoki_nr_cpus(void);
s32 enoki_this_cpu(void);
void enoki_kick_cpu(s32 cpu, u64 flags);
/* The default wakeup placement; sets *is_idle if the CPU was idle (and
 * has been claimed). */
s32 enoki_select_cpu_dfl(struct task_struct *p, s32 prev_cpu,
			 u64 wake_flags, bool *is_idle);
/* Claim @cpu if idle: true if it was idle. */
bool enoki_test_and_clear_cpu_idle(s32 cpu);
/* An idle CPU @p may run on, claimed, or -EBUSY. */
s32 enoki_pick_idle_cpu(const struct task_struct *p, u64 flags);
/* Any CPU @p may run on, idle preferred. */
s32 enoki_pick_any_cpu(const struct task_struct *p, u64 flags);

/* ---- time ------------------------------------------------------------- */

u64 enoki_now(void);			/* ns, monotonic */

/* ---- storage ---------------------------------------------------------- */

struct enoki_storage {
	const char *name;
	u32 value_size;
	void *impl;			/* the host's */
};

/* ENOKI_TASK_STORAGE(name, type) - one zeroed @type per task. */
#define ENOKI_TASK_STORAGE(sname, type)					\
	static struct enoki_storage sname = { #sname, sizeof(type), 0 }
/* ENOKI_CPU_STORAGE(name, type) - one zeroed @type per CPU. */
#define ENOKI_CPU_STORAGE(sname, type)					\
	static struct enoki_storage sname = { #sname, sizeof(type), 0 }

#define ENOKI_STORAGE_CREATE 1
/* The task's value; with ENOKI_STORAGE_CREATE made if absent; NULL if
 * absent or out of memory. */
void *enoki_task_storage(struct enoki_storage *s, struct task_struct *p,
			 u64 flags);
/* CPU @cpu's value (NULL if @cpu is out of range). */
void *enoki_cpu_storage(struct enoki_storage *s, s32 cpu);

/* ---- locks ------------------------------------------------------------ */

/* A spinlock for global state (bpf_spin_lock in BPF): short sections, no
 * calls into the framework while held. */
struct enoki_lock {
	u32 val;
};
/* ENOKI_LOCK(name) - define a lock.  In BPF each lock defined so gets a
 * section of its own; a plain global struct enoki_lock works too, but the
 * verifier allows only one bpf_spin_lock among a policy's plain globals. */
#define ENOKI_LOCK(lname) static struct enoki_lock lname
void enoki_lock(struct enoki_lock *l);
void enoki_unlock(struct enoki_lock *l);

/* ---- timers ----------------------------------------------------------- */

/*
 * A one-shot timer calling a policy function in the host's context:
 *
 *	static void ENOKI_TIMER_FN(x_rebalance) { ... }
 *	ENOKI_TIMER(x_timer, x_rebalance);
 *	...  enoki_timer_start(&x_timer, 1000000);  (from init or a callback)
 */
struct enoki_timer {
	const char *name;
	void (*fn)(void);
	void *impl;			/* the host's */
};
#define ENOKI_TIMER_FN(fn) fn(void)
#define ENOKI_TIMER(tname, fn)						\
	static struct enoki_timer tname = { #tname, fn, 0 }
/* (Re)arm @t to fire once @delay_ns from now.  0 or -errno. */
s32 enoki_timer_start(struct enoki_timer *t, u64 delay_ns);

/* ---- messages and logging ---------------------------------------------- */

/* Send a notification to applications.  0 or -ENOSPC if the channel is
 * full (the message is dropped and counted). */
s32 enoki_msg_send(const struct enoki_msg *m);

/* enoki_printk - debug output (bpf_printk in BPF). */
void enoki_printk(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

/* enoki_error - eject the policy with a reason (scx_bpf_error). */
void enoki_error(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

#endif /* ENOKI_HOST_NATIVE_H */
