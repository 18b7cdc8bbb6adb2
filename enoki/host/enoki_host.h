/*
 * enoki_host.h - the native host layer as engines and the recorder see it.
 *
 * A policy's native build calls enoki_* functions (include/enoki/host/
 * native.h) and exports callbacks (struct enoki_ops).  Between the two
 * sits this layer, shared by every engine that runs a policy natively:
 *
 *   policy .so  --enoki_*()-->  host layer  --h->ops->x()-->  engine
 *   engine  --enoki_call_*()-->  h->invoke(h, call)  -->  policy callback
 *
 * Engines are the simulator (enoki/sim) and the replay engine
 * (enoki/replay).  One engine is active at a time (enoki_host_set); the
 * process is single-threaded and runs one callback at a time.
 *
 * Two choke points, both plain function pointers so that a recorder can
 * wrap them without the engine knowing:
 *
 *   h->ops     every enoki_* call the policy makes, after argument
 *              formatting (printk/error arrive as finished strings).  A
 *              recorder replaces h->ops with a table that logs each call
 *              and its result and forwards to the saved engine table.
 *   h->invoke  every callback the engine makes into the policy, as one
 *              struct enoki_call holding the callback's kind, arguments
 *              and (after return) result.  The default is
 *              enoki_host_invoke(); a recorder saves it and installs a
 *              wrapper that logs the call, forwards, and logs the result.
 *
 * Engines never call policy callbacks directly: they use enoki_call_*()
 * below, which build the enoki_call and go through h->invoke, skipping
 * callbacks the policy does not implement (the call's result is then the
 * default sched_ext uses, see enoki_host_invoke) and every callback once
 * the policy has been ejected.
 *
 * The task model.  struct task_struct is defined here (policies see it
 * opaque): each engine embeds one in its own task record and finds the
 * record again with container_of.  The host part holds only the pid and
 * the policy's per-task storage; every property a policy reads (weight,
 * cpu, mask, slice, vtime) comes from the engine through h->ops, so a
 * recorder sees every read and replay can serve recorded values.
 *
 * Storage (ENOKI_TASK_STORAGE / ENOKI_CPU_STORAGE) is kept by this layer
 * for every engine: per-task values hang off the task_struct, per-CPU
 * values off the enoki_storage.  Engines call enoki_host_task_free() when
 * a task record dies.  Locks are policy memory too (one thread runs every
 * callback, so a lock is only ever free when taken; taking it twice
 * asserts), but their order is an output: h->lock, when set, sees every
 * enoki_lock/enoki_unlock, so a recorder can log the order and replay can
 * check it.
 *
 * Loading: enoki_policy_open() dlopens $(O)/sched/NAME.so (or a path),
 * finds `enoki_policy_entry`, checks ENOKI_API_VERSION and reads the
 * .so's GNU build id.  Tests link a policy in and use
 * enoki_policy_static().  Policy .so files resolve enoki_* against the
 * executable, which is linked -rdynamic with this layer whole.
 *
 * Errors: 0 or -errno; enoki_policy_open also fills a one-line message.
 */
#ifndef ENOKI_HOST_H
#define ENOKI_HOST_H

#include <enoki/enoki.h>

#define ENOKI_MAX_CPUS 256
#define ENOKI_HOST_MAX_STORAGE 16	/* ENOKI_TASK_STORAGE per policy */

/* ---- the task and CPU model ------------------------------------------ */

struct cpumask {
	u64 bits[ENOKI_MAX_CPUS / 64];
};

static inline void enoki_cpumask_set(struct cpumask *m, s32 cpu)
{
	m->bits[cpu / 64] |= 1ULL << (cpu % 64);
}

static inline void enoki_cpumask_clear(struct cpumask *m, s32 cpu)
{
	m->bits[cpu / 64] &= ~(1ULL << (cpu % 64));
}

static inline bool enoki_cpumask_has(const struct cpumask *m, s32 cpu)
{
	return cpu >= 0 && cpu < ENOKI_MAX_CPUS &&
	       (m->bits[cpu / 64] >> (cpu % 64)) & 1;
}

/* Host part of a task; engines embed it in their own record. */
struct task_struct {
	s32 pid;
	void *storage[ENOKI_HOST_MAX_STORAGE];	/* by enoki_storage index */
};

/* Why a policy stopped (sched_ext's scx_exit_info, simplified). */
enum enoki_exit_kind {
	ENOKI_EXIT_NONE = 0,
	ENOKI_EXIT_DONE,		/* the engine finished normally */
	ENOKI_EXIT_UNREG,		/* unloaded by the user */
	ENOKI_EXIT_ERROR,		/* enoki_error() from the policy */
	ENOKI_EXIT_ERROR_BPF,		/* bad call (bad DSQ, bad CPU, ...) */
	ENOKI_EXIT_ERROR_STALL,		/* the watchdog */
};

struct scx_exit_info {
	enum enoki_exit_kind kind;
	const char *reason;
};

/* ---- the engine's function table -------------------------------------- */

struct enoki_host;

/*
 * One entry per enoki_* function of native.h, same arguments after @h.
 * Every entry is mandatory.  Entries run inside a policy callback (or
 * init/timer/message), on the CPU the engine says enoki_this_cpu() is.
 * Invalid arguments (unknown DSQ, CPU out of range) are the engine's to
 * judge: it ejects the policy through enoki_host_eject() as sched_ext
 * would (scx_error) and returns a harmless value.
 */
struct enoki_host_ops {
	s32 (*task_pid)(struct enoki_host *h, const struct task_struct *p);
	u32 (*task_weight)(struct enoki_host *h, const struct task_struct *p);
	s32 (*task_cpu)(struct enoki_host *h, const struct task_struct *p);
	bool (*task_allowed)(struct enoki_host *h,
			     const struct task_struct *p, s32 cpu);
	s32 (*task_nr_cpus_allowed)(struct enoki_host *h,
				    const struct task_struct *p);
	u64 (*task_slice)(struct enoki_host *h, const struct task_struct *p);
	void (*task_set_slice)(struct enoki_host *h, struct task_struct *p,
			       u64 slice_ns);
	u64 (*task_vtime)(struct enoki_host *h, const struct task_struct *p);
	void (*task_set_vtime)(struct enoki_host *h, struct task_struct *p,
			       u64 vtime);
	bool (*cpumask_test)(struct enoki_host *h, const struct cpumask *mask,
			     s32 cpu);

	s32 (*dsq_create)(struct enoki_host *h, u64 dsq_id);
	void (*dsq_destroy)(struct enoki_host *h, u64 dsq_id);
	void (*dsq_insert)(struct enoki_host *h, struct task_struct *p,
			   u64 dsq_id, u64 slice, u64 enq_flags);
	void (*dsq_insert_vtime)(struct enoki_host *h, struct task_struct *p,
				 u64 dsq_id, u64 slice, u64 vtime,
				 u64 enq_flags);
	bool (*dsq_move_to_local)(struct enoki_host *h, u64 dsq_id);
	s32 (*dsq_nr_queued)(struct enoki_host *h, u64 dsq_id);

	u32 (*nr_cpus)(struct enoki_host *h);
	s32 (*this_cpu)(struct enoki_host *h);
	void (*kick_cpu)(struct enoki_host *h, s32 cpu, u64 flags);
	s32 (*select_cpu_dfl)(struct enoki_host *h, struct task_struct *p,
			      s32 prev_cpu, u64 wake_flags, bool *is_idle);
	bool (*test_and_clear_cpu_idle)(struct enoki_host *h, s32 cpu);
	s32 (*pick_idle_cpu)(struct enoki_host *h,
			     const struct task_struct *p, u64 flags);
	s32 (*pick_any_cpu)(struct enoki_host *h,
			    const struct task_struct *p, u64 flags);

	u64 (*now)(struct enoki_host *h);

	/* (Re)arm @t; the engine later fires it with enoki_call_timer(). */
	s32 (*timer_start)(struct enoki_host *h, struct enoki_timer *t,
			   u64 delay_ns);
	s32 (*msg_send)(struct enoki_host *h, const struct enoki_msg *m);
	/* Formatted text, no trailing newline. */
	void (*printk)(struct enoki_host *h, const char *text);
	/* enoki_error(): the host layer has already marked @h ejected with
	 * ENOKI_EXIT_ERROR and @text; the engine stops running the policy. */
	void (*error)(struct enoki_host *h, const char *text);
};

/* ---- callbacks: the one choke point ----------------------------------- */

enum enoki_cb {
	ENOKI_CALL_SELECT_CPU = 1,
	ENOKI_CALL_ENQUEUE,
	ENOKI_CALL_DEQUEUE,
	ENOKI_CALL_DISPATCH,
	ENOKI_CALL_RUNNABLE,
	ENOKI_CALL_RUNNING,
	ENOKI_CALL_STOPPING,
	ENOKI_CALL_QUIESCENT,
	ENOKI_CALL_TICK,
	ENOKI_CALL_SET_WEIGHT,
	ENOKI_CALL_SET_CPUMASK,
	ENOKI_CALL_INIT_TASK,
	ENOKI_CALL_EXIT_TASK,
	ENOKI_CALL_INIT,
	ENOKI_CALL_EXIT,
	ENOKI_CALL_CPU_ONLINE,
	ENOKI_CALL_CPU_OFFLINE,
	ENOKI_CALL_MSG,			/* the policy's message handler */
	ENOKI_CALL_TIMER,			/* an enoki_timer firing */
	ENOKI_CALL_NR
};

/*
 * One callback invocation.  The engine fills @cb, @cpu (the CPU it runs
 * on: enoki_this_cpu() during the call) and the arguments that callback
 * takes; @ret is set on return (s32 results, sign-extended; 0 for void).
 *
 *   select_cpu  p, prev_cpu=arg_cpu, wake_flags=flags      ret = CPU
 *   enqueue     p, flags   dequeue p, flags   runnable p, flags
 *   dispatch    arg_cpu, prev=p (may be NULL)
 *   running p   stopping p, runnable   quiescent p, flags   tick p
 *   set_weight p, weight   set_cpumask p, mask
 *   init_task p, init_args  ret = 0/-errno   exit_task p, exit_args
 *   init  ret = 0/-errno   exit ei   cpu_online/offline arg_cpu
 *   msg msg   timer timer
 */
struct enoki_call {
	enum enoki_cb cb;
	s32 cpu;
	struct task_struct *p;
	s32 arg_cpu;
	u64 flags;
	u32 weight;
	bool runnable;
	const struct cpumask *mask;
	struct scx_init_task_args *init_args;
	struct scx_exit_task_args *exit_args;
	struct scx_exit_info *ei;
	const struct enoki_msg *msg;
	struct enoki_timer *timer;
	s64 ret;
};

/* A loaded policy. */
struct enoki_loaded_policy {
	struct enoki_policy *policy;
	void *dl;			/* dlopen handle, NULL if linked in */
	char path[512];			/* "" if linked in */
	char build_id[41];		/* hex GNU build id, "" if none */
};

struct enoki_host {
	const struct enoki_host_ops *ops;	/* the engine's (or a wrapper) */
	s64 (*invoke)(struct enoki_host *h, struct enoki_call *c);
	void *priv;			/* the engine's */
	void *rec;			/* the recorder's, if recording */
	struct enoki_policy *policy;
	u32 nr_cpus;
	bool in_callback;		/* a callback is running */
	bool ejected;
	struct scx_exit_info exit;	/* why, once ejected */
	char exit_reason[256];
	u64 nr_callbacks;		/* callbacks invoked (for events/s) */
	/*
	 * Optional (NULL: none): called by enoki_lock (@take true, after the
	 * lock is taken) and enoki_unlock (@take false, after it is
	 * released).  Engines leave it NULL; the recorder logs through it
	 * and forwards to the hook it replaced; replay checks the order.
	 */
	void (*lock)(struct enoki_host *h, struct enoki_lock *l, bool take);
};

/*
 * enoki_host_init - set up @h for @policy on @nr_cpus CPUs with engine
 * table @ops and engine data @priv; h->invoke = enoki_host_invoke.
 * Does not make it active or call init.
 */
void enoki_host_init(struct enoki_host *h, struct enoki_policy *policy,
		     u32 nr_cpus, const struct enoki_host_ops *ops,
		     void *priv);

/* enoki_host_set - make @h the host that enoki_* calls go to (or NULL).
 * enoki_host_get - the active host. */
void enoki_host_set(struct enoki_host *h);
struct enoki_host *enoki_host_get(void);

/*
 * enoki_host_invoke - the default h->invoke: run the policy callback
 * @c->cb with @c's arguments, set c->ret and return it.  A callback the
 * policy lacks gives sched_ext's default: select_cpu returns
 * c->arg_cpu (prev_cpu; engines that want scx's default idle pick do it
 * themselves when enoki_host_has() says it is absent), init/init_task 0.
 * Nothing is called once @h is ejected (c->ret = 0, except select_cpu:
 * prev_cpu).
 */
s64 enoki_host_invoke(struct enoki_host *h, struct enoki_call *c);

/* enoki_host_has - true if the policy implements callback @cb. */
bool enoki_host_has(const struct enoki_host *h, enum enoki_cb cb);

/* enoki_cb_name - "select_cpu", "enqueue", ... ("?" if unknown). */
const char *enoki_cb_name(enum enoki_cb cb);

/*
 * enoki_host_eject - stop the policy: set h->ejected, h->exit.kind = @kind
 * and the reason (printf format).  First reason wins.  Engines use it for
 * the watchdog and bad calls; enoki_error() comes here too.
 */
void enoki_host_eject(struct enoki_host *h, enum enoki_exit_kind kind,
		      const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Typed wrappers around h->invoke, one per callback.  Return c.ret. */
s32 enoki_call_select_cpu(struct enoki_host *h, s32 cpu,
			  struct task_struct *p, s32 prev_cpu,
			  u64 wake_flags);
void enoki_call_enqueue(struct enoki_host *h, s32 cpu, struct task_struct *p,
			u64 enq_flags);
void enoki_call_dequeue(struct enoki_host *h, s32 cpu, struct task_struct *p,
			u64 deq_flags);
void enoki_call_dispatch(struct enoki_host *h, s32 cpu,
			 struct task_struct *prev);
void enoki_call_runnable(struct enoki_host *h, s32 cpu,
			 struct task_struct *p, u64 enq_flags);
void enoki_call_running(struct enoki_host *h, s32 cpu, struct task_struct *p);
void enoki_call_stopping(struct enoki_host *h, s32 cpu,
			 struct task_struct *p, bool runnable);
void enoki_call_quiescent(struct enoki_host *h, s32 cpu,
			  struct task_struct *p, u64 deq_flags);
void enoki_call_tick(struct enoki_host *h, s32 cpu, struct task_struct *p);
void enoki_call_set_weight(struct enoki_host *h, s32 cpu,
			   struct task_struct *p, u32 weight);
void enoki_call_set_cpumask(struct enoki_host *h, s32 cpu,
			    struct task_struct *p, const struct cpumask *m);
s32 enoki_call_init_task(struct enoki_host *h, s32 cpu,
			 struct task_struct *p, bool fork);
void enoki_call_exit_task(struct enoki_host *h, s32 cpu,
			  struct task_struct *p, bool cancelled);
s32 enoki_call_init(struct enoki_host *h);
void enoki_call_exit(struct enoki_host *h);	/* passes h->exit */
void enoki_call_cpu_online(struct enoki_host *h, s32 cpu);
void enoki_call_cpu_offline(struct enoki_host *h, s32 cpu);
void enoki_call_msg(struct enoki_host *h, s32 cpu, const struct enoki_msg *m);
void enoki_call_timer(struct enoki_host *h, s32 cpu, struct enoki_timer *t);

/* ---- storage kept by the host layer ------------------------------------ */

/* enoki_host_task_free - free @p's storage values (task record dying). */
void enoki_host_task_free(struct task_struct *p);
/* enoki_host_storage_reset - free every per-CPU value and forget the
 * storage indexes (policy unloaded).  Task values must be freed first. */
void enoki_host_storage_reset(void);
/* Default storage lookups; the enoki_task_storage/enoki_cpu_storage
 * calls go straight here (they are policy memory, not engine state). */
void *enoki_host_task_storage(struct enoki_storage *s, struct task_struct *p,
			      u64 flags);
void *enoki_host_cpu_storage(struct enoki_host *h, struct enoki_storage *s,
			     s32 cpu);

/* ---- loading policies ---------------------------------------------------- */

/*
 * enoki_policy_open - load a policy: @what is a path (contains '/' or ends
 * in .so) or a name looked up as @sched_dir/NAME.so.  Fills @lp.  0, or
 * -errno with a one-line reason in @err (@errlen bytes).
 */
int enoki_policy_open(const char *what, const char *sched_dir,
		      struct enoki_loaded_policy *lp, char *err,
		      size_t errlen);
/* enoki_policy_static - wrap a linked-in policy (tests). */
void enoki_policy_static(struct enoki_policy *policy,
			 struct enoki_loaded_policy *lp);
/* enoki_policy_close - dlclose if loaded; NULL-safe. */
void enoki_policy_close(struct enoki_loaded_policy *lp);

#endif /* ENOKI_HOST_H */
