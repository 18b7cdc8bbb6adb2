/*
 * enoki/host/bpf.h - the Enoki policy API for BPF builds: every
 * declaration of enoki/host/native.h mapped onto sched_ext of Linux 7.3
 * (the Debian 7.3.4+deb13 guest kernel).  Included by <enoki/enoki.h>
 * when clang compiles with -target bpf; policies never include it.
 *
 * The kernel's types and kfunc prototypes come from vmlinux.h, generated
 * from that kernel's BTF and committed in include/enoki/vmlinux/ (see
 * vm/gen-vmlinux-h.sh); helpers and BPF_PROG come from libbpf's headers.
 * Most calls are one line: an enoki_* call is a kfunc, a BPF helper or a
 * CO-RE field access.  Declarations that native.h makes with a storage
 * object (queues are numbers in both worlds, but storage, timers, locks
 * and message channels are BPF maps here) become map definitions.
 *
 * What differs from the native build, and what the loader must do:
 *
 *  - ENOKI_CB() callbacks are struct_ops programs, SEC("struct_ops/NAME");
 *    ENOKI_CB_INIT() is sleepable, SEC("struct_ops.s/NAME"), because
 *    scx_bpf_create_dsq() may sleep and is allowed only there.
 *  - enoki_lock is a bpf_spin_lock.  The verifier allows one per map
 *    value: one lock among a policy's plain globals (.bss), or any number
 *    declared with ENOKI_LOCK(), which puts each in a section of its own.
 *    While a lock is held: no enoki_* calls, no helpers or kfuncs, no
 *    sleeping; unlock on every path.
 *  - Storage: ENOKI_TASK_STORAGE is a BPF_MAP_TYPE_TASK_STORAGE map,
 *    ENOKI_CPU_STORAGE a per-CPU array read on any CPU with
 *    bpf_map_lookup_percpu_elem().  Values start zeroed in both worlds.
 *  - Timers are bpf_timer in a one-slot array map per ENOKI_TIMER; the
 *    handle the policy passes around is a constant record clang folds
 *    away, so bpf_timer_set_callback() sees a direct function reference.
 *  - Messages to applications (enoki_msg_send) go into the ring buffer
 *    map enoki_msg_out; when it is full the message is dropped and
 *    counted in enoki_msg_dropped.  Messages from applications arrive in
 *    the user ring buffer enoki_msg_in (defined by ENOKI_MSG_HANDLER) and
 *    are drained by a bpf_timer every ENOKI_MSG_POLL_NS; the loader arms
 *    it once after attaching by running the SEC("syscall") program
 *    enoki_msg_start (bpf_prog_test_run_opts).  Records of the wrong size
 *    are skipped and counted in enoki_msg_bad.
 *  - enoki_printk is bpf_printk (trace_pipe); enoki_error is
 *    scx_bpf_error, which ejects the policy with the formatted reason.
 *
 * Limits: which kfuncs a callback may call is the kernel's rule, checked
 * by the verifier at load (e.g. enoki_dsq_move_to_local only from
 * dispatch, enoki_dsq_create only from init); clang cannot check it.
 * TODO(the message poll timer and the syscall program are compiled but
 * not yet loaded in the 7.3 guest; verify them there in issue 6).
 */
#ifndef ENOKI_HOST_BPF_H
#define ENOKI_HOST_BPF_H

#include <vmlinux.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <enoki/msg.h>

/* errno values the host returns (vmlinux.h has no macros). */
#define ENOKI__ENOENT 2
#define ENOKI__EBUSY 16
#define ENOKI__ENOSPC 28
#define ENOKI__CLOCK_MONOTONIC 1

/* ---- constants: the kernel's own values ---------------------------- */

/*
 * Each is the vmlinux.h enum of the 7.3 kernel; enoki/bpf/consts.bpf.c
 * asserts at build time that native.h's literals are the same numbers.
 */
#define ENOKI_DSQ_FLAG_BUILTIN ((u64)SCX_DSQ_FLAG_BUILTIN)
#define ENOKI_DSQ_FLAG_LOCAL_ON ((u64)SCX_DSQ_FLAG_LOCAL_ON)
#define ENOKI_DSQ_INVALID ((u64)SCX_DSQ_INVALID)
#define ENOKI_DSQ_GLOBAL ((u64)SCX_DSQ_GLOBAL)
#define ENOKI_DSQ_LOCAL ((u64)SCX_DSQ_LOCAL)
#define ENOKI_DSQ_LOCAL_ON ((u64)SCX_DSQ_LOCAL_ON)

#define ENOKI_SLICE_DFL ((u64)SCX_SLICE_DFL)
#define ENOKI_SLICE_INF ((u64)SCX_SLICE_INF)

#define ENOKI_ENQ_WAKEUP ((u64)SCX_ENQ_WAKEUP)
#define ENOKI_ENQ_HEAD ((u64)SCX_ENQ_HEAD)
#define ENOKI_ENQ_PREEMPT ((u64)SCX_ENQ_PREEMPT)
#define ENOKI_ENQ_REENQ ((u64)SCX_ENQ_REENQ)
#define ENOKI_ENQ_LAST ((u64)SCX_ENQ_LAST)
#define ENOKI_WAKE_FORK ((u64)SCX_WAKE_FORK)
#define ENOKI_WAKE_TTWU ((u64)SCX_WAKE_TTWU)
#define ENOKI_WAKE_SYNC ((u64)SCX_WAKE_SYNC)
#define ENOKI_DEQ_SLEEP ((u64)SCX_DEQ_SLEEP)
#define ENOKI_DEQ_SCHED_CHANGE ((u64)SCX_DEQ_SCHED_CHANGE)
#define ENOKI_KICK_IDLE ((u64)SCX_KICK_IDLE)
#define ENOKI_KICK_PREEMPT ((u64)SCX_KICK_PREEMPT)
#define ENOKI_KICK_WAIT ((u64)SCX_KICK_WAIT)
#define ENOKI_PICK_IDLE_CORE ((u64)SCX_PICK_IDLE_CORE)
#define ENOKI_OPS_KEEP_BUILTIN_IDLE ((u64)SCX_OPS_KEEP_BUILTIN_IDLE)
#define ENOKI_OPS_ENQ_LAST ((u64)SCX_OPS_ENQ_LAST)
#define ENOKI_OPS_ENQ_EXITING ((u64)SCX_OPS_ENQ_EXITING)

#define ENOKI_STORAGE_CREATE ((u64)BPF_LOCAL_STORAGE_GET_F_CREATE)

#define ENOKI_API_VERSION 1

/* ---- callbacks and the policy declaration -------------------------- */

/* ENOKI_CB(name, args...) - a struct_ops program with typed arguments. */
#define ENOKI_CB(name, args...)						\
	SEC("struct_ops/" #name) BPF_PROG(name, ##args)
/* ENOKI_CB_INIT(name) - ops.init, sleepable (it creates the queues). */
#define ENOKI_CB_INIT(name) SEC("struct_ops.s/" #name) BPF_PROG(name)

/*
 * ENOKI_POLICY(name, version, ops...) - the license, the version and API
 * version in .rodata (the loader reads them), and the struct_ops map
 * NAME_ops the loader attaches: sched_ext_ops has native enoki_ops'
 * field names, so the policy's designated initializers fit both.
 */
#define ENOKI_POLICY(pname, ver, ...)					\
	char _license[] SEC("license") = "GPL";				\
	const volatile char enoki_policy_version[] = ver;		\
	const volatile u32 enoki_api_version = ENOKI_API_VERSION;	\
	SEC(".struct_ops.link") struct sched_ext_ops pname##_ops = {	\
		__VA_ARGS__, .name = #pname,				\
	}

/* ---- tasks: CO-RE reads of task_struct ------------------------------ */

#define enoki_task_pid(p) ((s32)(p)->pid)
#define enoki_task_weight(p) ((u32)(p)->scx.weight)
#define enoki_task_cpu(p) scx_bpf_task_cpu(p)
#define enoki_task_allowed(p, cpu) bpf_cpumask_test_cpu((u32)(cpu), (p)->cpus_ptr)
#define enoki_task_nr_cpus_allowed(p) ((s32)(p)->nr_cpus_allowed)
#define enoki_task_slice(p) ((u64)(p)->scx.slice)
#define enoki_task_set_slice(p, ns) ((void)((p)->scx.slice = (ns)))
#define enoki_task_vtime(p) ((u64)(p)->scx.dsq_vtime)
#define enoki_task_set_vtime(p, v) ((void)((p)->scx.dsq_vtime = (v)))
#define enoki_cpumask_test(mask, cpu) bpf_cpumask_test_cpu((u32)(cpu), (mask))

/* ---- dispatch queues ------------------------------------------------ */

#define enoki_dsq_create(id) scx_bpf_create_dsq((id), -1)
#define enoki_dsq_destroy(id) scx_bpf_destroy_dsq(id)
#define enoki_dsq_insert(p, id, slice, fl) scx_bpf_dsq_insert((p), (id), (slice), (fl))
#define enoki_dsq_move_to_local(id) scx_bpf_dsq_move_to_local(id)
#define enoki_dsq_nr_queued(id) scx_bpf_dsq_nr_queued(id)

/* 7.3 takes the vtime insert's arguments in a struct.  (clang 14 emits
 * no BTF for a kfunc whose name starts with "__", so libbpf cannot
 * resolve this one: compile with clang 16.) */
#define enoki_dsq_insert_vtime(p, id, sl, vt, fl)			\
	({								\
		struct scx_bpf_dsq_insert_vtime_args ___args = {	\
			.dsq_id = (id),					\
			.slice = (sl),					\
			.vtime = (vt),					\
			.enq_flags = (fl),				\
		};							\
		(void)__scx_bpf_dsq_insert_vtime((p), &___args);	\
	})

/* ---- CPUs ----------------------------------------------------------- */

#define enoki_nr_cpus() scx_bpf_nr_cpu_ids()
#define enoki_this_cpu() ((s32)bpf_get_smp_processor_id())
#define enoki_kick_cpu(cpu, fl) scx_bpf_kick_cpu((cpu), (fl))
#define enoki_select_cpu_dfl(p, prev, wf, idle) scx_bpf_select_cpu_dfl((p), (prev), (wf), (idle))
#define enoki_test_and_clear_cpu_idle(cpu) scx_bpf_test_and_clear_cpu_idle(cpu)
#define enoki_pick_idle_cpu(p, fl) scx_bpf_pick_idle_cpu((p)->cpus_ptr, (fl))
#define enoki_pick_any_cpu(p, fl) scx_bpf_pick_any_cpu((p)->cpus_ptr, (fl))

/* ---- time ----------------------------------------------------------- */

#define enoki_now() scx_bpf_now()

/* ---- storage -------------------------------------------------------- */

/* ENOKI_TASK_STORAGE(name, type) - task local storage, made on demand. */
#define ENOKI_TASK_STORAGE(sname, vtype)				\
	struct {							\
		__uint(type, BPF_MAP_TYPE_TASK_STORAGE);		\
		__uint(map_flags, BPF_F_NO_PREALLOC);			\
		__type(key, int);					\
		__type(value, vtype);					\
	} sname SEC(".maps")

/* ENOKI_CPU_STORAGE(name, type) - one value per possible CPU. */
#define ENOKI_CPU_STORAGE(sname, vtype)					\
	struct {							\
		__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);		\
		__uint(max_entries, 1);					\
		__type(key, u32);					\
		__type(value, vtype);					\
	} sname SEC(".maps")

#define enoki_task_storage(s, p, fl)					\
	bpf_task_storage_get((s), (p), NULL,				\
			     (fl) ? BPF_LOCAL_STORAGE_GET_F_CREATE : 0)

/* NULL if @cpu is not below nr_cpu_ids, as native. */
static __always_inline void *enoki_cpu_storage(void *s, s32 cpu)
{
	u32 zero = 0;

	return bpf_map_lookup_percpu_elem(s, &zero, (u32)cpu);
}

/* ---- locks ---------------------------------------------------------- */

struct enoki_lock {
	struct bpf_spin_lock lock;
};

/* ENOKI_LOCK(name) - a lock in a global section of its own. */
#define ENOKI_LOCK(lname)						\
	struct enoki_lock lname SEC(".data.enoki_lock_" #lname)

#define enoki_lock(l) bpf_spin_lock(&(l)->lock)
#define enoki_unlock(l) bpf_spin_unlock(&(l)->lock)

/* ---- timers --------------------------------------------------------- */

struct enoki_timer_slot {
	struct bpf_timer timer;
};

typedef int (*enoki_timer_cb_t)(void *map, int *key,
				struct enoki_timer_slot *slot);

/* The handle a policy names: constant, folded away by clang. */
struct enoki_timer {
	void *map;
	enoki_timer_cb_t cb;
};

#define ENOKI_TIMER_FN(fn) fn(void)

#define ENOKI_TIMER(tname, fn)						\
	struct {							\
		__uint(type, BPF_MAP_TYPE_ARRAY);			\
		__uint(max_entries, 1);					\
		__type(key, u32);					\
		__type(value, struct enoki_timer_slot);			\
	} tname##__map SEC(".maps");					\
	static int tname##__cb(void *map, int *key,			\
			       struct enoki_timer_slot *slot)		\
	{								\
		fn();							\
		return 0;						\
	}								\
	static const struct enoki_timer tname = { &tname##__map, tname##__cb }

/* (Re)arm @t to fire once @delay_ns from now.  0 or -errno. */
static __always_inline s32 enoki_timer_start(const struct enoki_timer *t,
					     u64 delay_ns)
{
	struct enoki_timer_slot *slot;
	u32 zero = 0;
	long err;

	slot = bpf_map_lookup_elem(t->map, &zero);
	if (!slot)
		return -ENOKI__ENOENT;
	err = bpf_timer_init(&slot->timer, t->map, ENOKI__CLOCK_MONOTONIC);
	if (err && err != -ENOKI__EBUSY)
		return err;
	err = bpf_timer_set_callback(&slot->timer, t->cb);
	if (err)
		return err;
	return bpf_timer_start(&slot->timer, delay_ns, 0);
}

/* ---- messages ------------------------------------------------------- */

#define ENOKI_MSG_RING_SIZE (64 * 1024)	/* bytes, each direction */
#define ENOKI_MSG_POLL_NS (1000ULL * 1000)	/* drain period of enoki_msg_in */

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, ENOKI_MSG_RING_SIZE);
} enoki_msg_out SEC(".maps");

u64 enoki_msg_dropped;		/* notifications lost to a full ring */
u64 enoki_msg_bad;		/* application records of the wrong size */

/* Send @m to applications: 0, or -ENOSPC if the ring is full. */
static __always_inline s32 enoki_msg_send(const struct enoki_msg *m)
{
	if (bpf_ringbuf_output(&enoki_msg_out, (void *)m, sizeof(*m), 0)) {
		__sync_fetch_and_add(&enoki_msg_dropped, 1);
		return -ENOKI__ENOSPC;
	}
	return 0;
}

/*
 * ENOKI_MSG_HANDLER(pname, fn) - the user ring buffer enoki_msg_in, a
 * drain callback handing each record to fn(const struct enoki_msg *), the
 * poll timer, and the SEC("syscall") program enoki_msg_start that arms it.
 */
#define ENOKI_MSG_HANDLER(pname, fn)					\
	struct {							\
		__uint(type, BPF_MAP_TYPE_USER_RINGBUF);		\
		__uint(max_entries, ENOKI_MSG_RING_SIZE);		\
	} enoki_msg_in SEC(".maps");					\
	struct {							\
		__uint(type, BPF_MAP_TYPE_ARRAY);			\
		__uint(max_entries, 1);					\
		__type(key, u32);					\
		__type(value, struct enoki_timer_slot);			\
	} enoki_msg_poll SEC(".maps");					\
	static long enoki_msg_one_##pname(struct bpf_dynptr *d, void *ctx) \
	{								\
		struct enoki_msg m;					\
									\
		if (bpf_dynptr_size(d) != sizeof(m) ||			\
		    bpf_dynptr_read(&m, sizeof(m), d, 0, 0)) {		\
			__sync_fetch_and_add(&enoki_msg_bad, 1);	\
			return 0;					\
		}							\
		fn(&m);							\
		return 0;						\
	}								\
	static int enoki_msg_tick_##pname(void *map, int *key,		\
					  struct enoki_timer_slot *slot) \
	{								\
		bpf_user_ringbuf_drain(&enoki_msg_in,			\
				       enoki_msg_one_##pname, NULL, 0);	\
		bpf_timer_start(&slot->timer, ENOKI_MSG_POLL_NS, 0);	\
		return 0;						\
	}								\
	SEC("syscall") int enoki_msg_start(void *ctx)			\
	{								\
		struct enoki_timer_slot *slot;				\
		u32 zero = 0;						\
									\
		slot = bpf_map_lookup_elem(&enoki_msg_poll, &zero);	\
		if (!slot)						\
			return -ENOKI__ENOENT;				\
		bpf_timer_init(&slot->timer, &enoki_msg_poll,		\
			       ENOKI__CLOCK_MONOTONIC);			\
		bpf_timer_set_callback(&slot->timer,			\
				       enoki_msg_tick_##pname);		\
		return bpf_timer_start(&slot->timer, 0, 0);		\
	}

/* ---- logging -------------------------------------------------------- */

#define enoki_printk(fmt, args...) bpf_printk(fmt, ##args)

/* Eject the policy with a formatted reason (scx_bpf_error_bstr). */
#define enoki_error(fmt, args...)					\
	({								\
		static char ___fmt[] = fmt;				\
		unsigned long long ___param[___bpf_narg(args)];		\
									\
		_Pragma("GCC diagnostic push")				\
		_Pragma("GCC diagnostic ignored \"-Wint-conversion\"")	\
		___bpf_fill(___param, args);				\
		_Pragma("GCC diagnostic pop")				\
		scx_bpf_error_bstr(___fmt, ___param, sizeof(___param));	\
	})

#endif /* ENOKI_HOST_BPF_H */
