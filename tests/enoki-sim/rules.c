/*
 * rules.c - the sched_ext rules the simulator must reproduce, each shown
 * with a small policy of its own: local DSQ before global before
 * dispatch, affinity, slice expiry, keep-running, kick preemption,
 * direct dispatch from select_cpu, idle CPU picks, FIFO fairness, the
 * watchdog, enoki_error, determinism, and custody: ops.dequeue when a
 * task leaves the policy's hands (dispatch, renice, the end).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common.h"

#define MS 1000000ULL
#define DSQ0 0

/* ---- a trivial global FIFO ------------------------------------------------ */

static u64 fifo_slice = 5 * MS;

/* Without select_cpu a wakeup onto an idle CPU is dispatched directly
 * (scx's default); these tests want every task through enqueue. */
static s32 prev_select(struct task_struct *p, s32 prev_cpu, u64 wake_flags)
{
	return prev_cpu;
}

static void fifo_enqueue(struct task_struct *p, u64 flags)
{
	enoki_dsq_insert(p, ENOKI_DSQ_GLOBAL, fifo_slice, flags);
}

static const struct enoki_ops fifo_ops = { .select_cpu = prev_select,
					  .enqueue = fifo_enqueue };

/* ---- local before global before dispatch ---------------------------------- */

static int order_enq[64];
static int dispatch_bad, dispatch_calls;

static s32 order_init(void)
{
	memset(order_enq, 0, sizeof(order_enq));
	return enoki_dsq_create(DSQ0);
}

static void order_enqueue(struct task_struct *p, u64 flags)
{
	s32 pid = enoki_task_pid(p);

	if (order_enq[pid]++ == 0 && pid == 1)
		enoki_dsq_insert(p, ENOKI_DSQ_GLOBAL, MS, 0);
	else if (order_enq[pid] == 1 && pid == 2)
		enoki_dsq_insert(p, ENOKI_DSQ_LOCAL, MS, 0);
	else
		enoki_dsq_insert(p, DSQ0, MS, 0);
}

static void order_dispatch(s32 cpu, struct task_struct *prev)
{
	dispatch_calls++;
	if (enoki_dsq_nr_queued(ENOKI_DSQ_LOCAL) ||
	    enoki_dsq_nr_queued(ENOKI_DSQ_GLOBAL))
		dispatch_bad++;
	enoki_dsq_move_to_local(DSQ0);
}

static void test_local_global_dispatch(void **state)
{
	static const struct enoki_ops ops = { .init = order_init,
		.enqueue = order_enqueue, .dispatch = order_dispatch,
		.select_cpu = prev_select };
	struct enoki_policy pol;
	struct enoki_sim *s;
	int rc;

	tp_init(&pol, &ops);
	s = tp_run("{\"cpus\": 1, \"duration_ms\": 50, \"groups\": ["
		   "{\"name\": \"h\", \"kind\": \"hog\", \"count\": 3}]}",
		   &pol, &rc);
	assert_int_equal(rc, 0);
	/* pid 2 (local) at 0, pid 1 (global) at 1 ms, pid 3 (dispatch) at 2 */
	assert_non_null(tp_first(s, 2));
	assert_int_equal(tp_first(s, 2)->start, 0);
	assert_int_equal(tp_first(s, 1)->start, 1 * MS);
	assert_int_equal(tp_first(s, 3)->start, 2 * MS);
	assert_true(dispatch_calls > 0);
	assert_int_equal(dispatch_bad, 0);
	enoki_sim_destroy(s);
}

/* ---- affinity --------------------------------------------------------------- */

static void to_cpu0(struct task_struct *p, u64 flags)
{
	enoki_dsq_insert(p, ENOKI_DSQ_LOCAL_ON | 0, 2 * MS, flags);
}

static void test_affinity(void **state)
{
	static const struct enoki_ops ops = { .enqueue = to_cpu0,
					      .select_cpu = prev_select };
	const struct enoki_sim_interval *iv;
	struct enoki_policy pol;
	struct enoki_sim *s;
	size_t n, i, pinned = 0;
	int rc;

	/* pid 1-2 pinned to CPU 2..3; LOCAL_ON|0 falls back to global */
	tp_init(&pol, &ops);
	s = tp_run("{\"cpus\": 4, \"duration_ms\": 100, \"groups\": ["
		   "{\"name\": \"p\", \"kind\": \"hog\", \"count\": 2, \"cpus\": \"2-3\"},"
		   "{\"name\": \"f\", \"kind\": \"hog\", \"count\": 2}]}",
		   &pol, &rc);
	assert_int_equal(rc, 0);
	iv = enoki_sim_intervals(s, &n);
	for (i = 0; i < n; i++) {
		if (iv[i].pid <= 2) {
			assert_true(iv[i].cpu == 2 || iv[i].cpu == 3);
			pinned++;
		} else {
			assert_int_equal(iv[i].cpu, 0);
		}
	}
	assert_true(pinned > 0);
	enoki_sim_destroy(s);
}

/* ---- slices expire; a lone task keeps running ---------------------------------- */

static void test_slice_expiry(void **state)
{
	const struct enoki_sim_interval *iv;
	struct enoki_policy pol;
	struct enoki_sim *s;
	size_t n, i;
	int rc;

	tp_init(&pol, &fifo_ops);
	s = tp_run("{\"cpus\": 1, \"duration_ms\": 100, \"groups\": ["
		   "{\"name\": \"h\", \"kind\": \"hog\", \"count\": 2}]}",
		   &pol, &rc);
	assert_int_equal(rc, 0);
	iv = enoki_sim_intervals(s, &n);
	assert_int_equal(n, 20);
	for (i = 0; i < n; i++) {
		assert_int_equal(iv[i].end - iv[i].start, 5 * MS);
		if (i)
			assert_int_not_equal(iv[i].pid, iv[i - 1].pid);
	}
	enoki_sim_destroy(s);
}

static int keep_enq;

static void keep_enqueue(struct task_struct *p, u64 flags)
{
	keep_enq++;
	enoki_dsq_insert(p, ENOKI_DSQ_GLOBAL, 5 * MS, flags);
}

static void test_keep_running(void **state)
{
	static const struct enoki_ops ops = { .enqueue = keep_enqueue,
					      .select_cpu = prev_select };
	const struct enoki_sim_interval *iv;
	struct enoki_policy pol;
	struct enoki_sim *s;
	size_t n;
	int rc;

	tp_init(&pol, &ops);
	s = tp_run("{\"cpus\": 1, \"duration_ms\": 100, \"groups\": ["
		   "{\"name\": \"h\", \"kind\": \"hog\"}]}", &pol, &rc);
	assert_int_equal(rc, 0);
	iv = enoki_sim_intervals(s, &n);
	assert_int_equal(n, 1);
	assert_int_equal(iv[0].end - iv[0].start, 100 * MS);
	assert_int_equal(keep_enq, 1);
	enoki_sim_destroy(s);
}

/* ---- kick preemption -------------------------------------------------------------- */

static void kick_fn(void)
{
	enoki_kick_cpu(0, ENOKI_KICK_PREEMPT);
}

ENOKI_TIMER(kick_timer, kick_fn);

static s32 kick_init(void)
{
	return enoki_timer_start(&kick_timer, 10 * MS + 12345);
}

static void inf_enqueue(struct task_struct *p, u64 flags)
{
	enoki_dsq_insert(p, ENOKI_DSQ_GLOBAL, ENOKI_SLICE_INF, flags);
}

static void test_kick_preempt(void **state)
{
	static const struct enoki_ops ops = { .init = kick_init,
					      .enqueue = inf_enqueue };
	const struct enoki_sim_interval *iv;
	struct enoki_policy pol;
	struct enoki_sim *s;
	size_t n;
	int rc;

	tp_init(&pol, &ops);
	s = tp_run("{\"cpus\": 1, \"duration_ms\": 50, \"groups\": ["
		   "{\"name\": \"h\", \"kind\": \"hog\", \"count\": 2}]}",
		   &pol, &rc);
	assert_int_equal(rc, 0);
	iv = enoki_sim_intervals(s, &n);
	assert_int_equal(n, 2);
	assert_int_equal(iv[0].end, 10 * MS + 12345);
	assert_int_not_equal(iv[0].pid, iv[1].pid);
	enoki_sim_destroy(s);
}

/* ---- select_cpu direct dispatch; idle CPUs picked ----------------------------------- */

static int wake_enq, sel_calls, sel_not_idle;

static s32 dd_select(struct task_struct *p, s32 prev_cpu, u64 wake_flags)
{
	s32 cpu = enoki_pick_idle_cpu(p, 0);

	sel_calls++;
	if (cpu < 0) {
		sel_not_idle++;
		return prev_cpu;
	}
	enoki_dsq_insert(p, ENOKI_DSQ_LOCAL, 2 * MS, 0);
	return cpu;
}

static void dd_enqueue(struct task_struct *p, u64 flags)
{
	if (flags & ENOKI_ENQ_WAKEUP)
		wake_enq++;
	enoki_dsq_insert(p, ENOKI_DSQ_GLOBAL, 2 * MS, flags);
}

static void test_select_direct(void **state)
{
	static const struct enoki_ops ops = { .select_cpu = dd_select,
					      .enqueue = dd_enqueue };
	struct enoki_sim_group_stats gs;
	struct enoki_policy pol;
	struct enoki_sim *s;
	int rc, cpu;

	/* 4 sleepers, 4 CPUs: every wakeup finds an idle CPU */
	tp_init(&pol, &ops);
	s = tp_run("{\"cpus\": 4, \"duration_ms\": 200, \"groups\": ["
		   "{\"name\": \"s\", \"kind\": \"sleeper\", \"count\": 4,"
		   " \"run_us\": 500, \"sleep_us\": 3000}]}", &pol, &rc);
	assert_int_equal(rc, 0);
	enoki_sim_group_stats(s, 0, &gs);
	assert_true(gs.nr_wakeups > 100);
	assert_true(sel_calls > 100);
	assert_int_equal(sel_not_idle, 0);
	assert_int_equal(wake_enq, 0);
	assert_int_equal(gs.wake_p999, 0);	/* ran at once */
	for (cpu = 0; cpu < 4; cpu++)
		assert_true(enoki_sim_cpu_util(s, cpu) > 0.01);
	enoki_sim_destroy(s);
}

static void test_default_select(void **state)
{
	struct enoki_sim_group_stats gs;
	struct enoki_policy pol;
	struct enoki_sim *s;
	int rc, cpu;

	static const struct enoki_ops ops = { .enqueue = fifo_enqueue };

	/* no select_cpu: the default idle pick + direct dispatch */
	tp_init(&pol, &ops);
	s = tp_run("{\"cpus\": 4, \"duration_ms\": 200, \"groups\": ["
		   "{\"name\": \"s\", \"kind\": \"sleeper\", \"count\": 4,"
		   " \"run_us\": 500, \"sleep_us\": 3000}]}", &pol, &rc);
	assert_int_equal(rc, 0);
	enoki_sim_group_stats(s, 0, &gs);
	assert_int_equal(gs.wake_p999, 0);
	for (cpu = 0; cpu < 4; cpu++)
		assert_true(enoki_sim_cpu_util(s, cpu) > 0.01);
	enoki_sim_destroy(s);
}

/* ---- fairness of hogs under FIFO ------------------------------------------------ */

static void test_fifo_fairness(void **state)
{
	struct enoki_sim_group_stats gs;
	struct enoki_policy pol;
	struct enoki_sim *s;
	int rc;

	tp_init(&pol, &fifo_ops);
	s = tp_run("{\"cpus\": 2, \"duration_ms\": 1000, \"groups\": ["
		   "{\"name\": \"h\", \"kind\": \"hog\", \"count\": 5}]}",
		   &pol, &rc);
	assert_int_equal(rc, 0);
	enoki_sim_group_stats(s, 0, &gs);
	assert_true(gs.jain > 0.999);
	assert_true(gs.runtime_ns == 2000 * MS);
	enoki_sim_destroy(s);
}

/* ---- ejection: watchdog, enoki_error, bad calls --------------------------------- */

static void hold_enqueue(struct task_struct *p, u64 flags)
{
	/* keeps the task and never dispatches it */
}

static void test_watchdog(void **state)
{
	static const struct enoki_ops ops = { .enqueue = hold_enqueue,
					      .select_cpu = prev_select,
					      .timeout_ms = 200 };
	struct enoki_policy pol;
	struct enoki_sim *s;
	int rc;

	tp_init(&pol, &ops);
	s = tp_run("{\"cpus\": 2, \"duration_ms\": 5000, \"groups\": ["
		   "{\"name\": \"h\", \"kind\": \"hog\", \"count\": 2}]}",
		   &pol, &rc);
	assert_int_equal(rc, -ECANCELED);
	assert_int_equal(enoki_sim_host(s)->exit.kind, ENOKI_EXIT_ERROR_STALL);
	assert_non_null(strstr(enoki_sim_host(s)->exit_reason, "watchdog"));
	assert_true(enoki_sim_now(s) >= 200 * MS);
	assert_true(enoki_sim_now(s) <= 300 * MS);
	enoki_sim_destroy(s);
}

static void err_enqueue(struct task_struct *p, u64 flags)
{
	enoki_error("refusing task %d", enoki_task_pid(p));
}

static void test_enoki_error(void **state)
{
	static const struct enoki_ops ops = { .enqueue = err_enqueue,
					      .select_cpu = prev_select };
	struct enoki_policy pol;
	struct enoki_sim *s;
	int rc;

	tp_init(&pol, &ops);
	s = tp_run("{\"cpus\": 1, \"groups\": [{\"name\": \"h\", \"kind\": \"hog\"}]}",
		   &pol, &rc);
	assert_int_equal(rc, -ECANCELED);
	assert_string_equal(enoki_sim_host(s)->exit_reason, "refusing task 1");
	enoki_sim_destroy(s);
}

static void bad_enqueue(struct task_struct *p, u64 flags)
{
	enoki_dsq_insert(p, 12345, MS, flags);
}

static void test_bad_dsq(void **state)
{
	static const struct enoki_ops ops = { .enqueue = bad_enqueue,
					      .select_cpu = prev_select };
	struct enoki_policy pol;
	struct enoki_sim *s;
	int rc;

	tp_init(&pol, &ops);
	s = tp_run("{\"cpus\": 1, \"groups\": [{\"name\": \"h\", \"kind\": \"hog\"}]}",
		   &pol, &rc);
	assert_int_equal(rc, -ECANCELED);
	assert_non_null(strstr(enoki_sim_host(s)->exit_reason,
			       "non-existent DSQ"));
	enoki_sim_destroy(s);
}

/* ---- determinism ------------------------------------------------------------------ */

static u64 hash;
static s64 (*inner)(struct enoki_host *h, struct enoki_call *c);

static s64 hash_invoke(struct enoki_host *h, struct enoki_call *c)
{
	s64 ret = inner(h, c);
	u64 v[5] = { h->ops->now(h), (u64)c->cb, (u64)c->cpu,
		     c->p ? (u64)c->p->pid : 0, (u64)ret };
	int i;

	for (i = 0; i < 5; i++)
		hash = (hash ^ v[i]) * 0x100000001b3ULL;
	return ret;
}

#define MIXED \
	"{\"cpus\": 4, \"duration_ms\": 200, \"seed\": %d, \"groups\": [" \
	"{\"name\": \"h\", \"kind\": \"hog\", \"count\": 3, \"nice\": 3}," \
	"{\"name\": \"s\", \"kind\": \"sleeper\", \"count\": 4, \"run_us\": 300, \"sleep_us\": 900}," \
	"{\"name\": \"w\", \"kind\": \"server\", \"count\": 4, \"load\": 0.3," \
	" \"service\": {\"dist\": \"exp\", \"mean_us\": 40}}," \
	"{\"name\": \"p\", \"kind\": \"pingpong\", \"run_us\": 30}," \
	"{\"name\": \"c\", \"kind\": \"churn\", \"run_us\": 100, \"sleep_us\": 500}]}"

static u64 run_hashed(int seed, u64 *events)
{
	struct enoki_sim_opts o = { 0 };
	struct enoki_workload *w;
	struct enoki_policy pol;
	struct enoki_sim *s;
	char json[1024], err[256];

	snprintf(json, sizeof(json), MIXED, seed);
	assert_int_equal(enoki_workload_parse(json, "m.json", &w, err,
					      sizeof(err)), 0);
	fifo_slice = 3 * MS;
	tp_init(&pol, &fifo_ops);
	assert_int_equal(enoki_sim_create(w, &pol, &o, &s, err, sizeof(err)), 0);
	inner = enoki_sim_host(s)->invoke;
	enoki_sim_host(s)->invoke = hash_invoke;
	hash = 0xcbf29ce484222325ULL;
	assert_int_equal(enoki_sim_run(s), 0);
	*events = enoki_sim_events(s);
	enoki_sim_destroy(s);
	enoki_workload_free(w);
	fifo_slice = 5 * MS;
	return hash;
}

static void test_determinism(void **state)
{
	u64 e1, e2, e3;
	u64 h1 = run_hashed(1, &e1), h2 = run_hashed(1, &e2),
	    h3 = run_hashed(2, &e3);

	assert_true(e1 > 1000);
	assert_int_equal(h1, h2);
	assert_int_equal(e1, e2);
	assert_int_not_equal(h1, h3);
}

/* ---- custody and ops.dequeue ---------------------------------------------- */

#define TRACE_MAX 200000

enum { TR_ENQ = 1, TR_DEQ, TR_QUIESCENT, TR_RUNNABLE, TR_WEIGHT, TR_RUNNING };

static struct tr_ev {
	s32 pid;
	int kind;
	u64 flags;
} trace[TRACE_MAX];
static int nr_trace;
static bool in_dispatch, dsq_global;
static int deq_nested;

static void tr(struct task_struct *p, int kind, u64 flags)
{
	if (nr_trace < TRACE_MAX)
		trace[nr_trace++] = (struct tr_ev){ enoki_task_pid(p), kind,
						    flags };
}

static s32 cu_init(void)
{
	nr_trace = 0;
	deq_nested = 0;
	return enoki_dsq_create(DSQ0);
}

static void cu_enqueue(struct task_struct *p, u64 flags)
{
	tr(p, TR_ENQ, flags);
	enoki_dsq_insert(p, dsq_global ? ENOKI_DSQ_GLOBAL : DSQ0, 2 * MS,
			 flags);
}

static void cu_dispatch(s32 cpu, struct task_struct *prev)
{
	in_dispatch = true;
	enoki_dsq_move_to_local(DSQ0);
	in_dispatch = false;
}

static void cu_dequeue(struct task_struct *p, u64 flags)
{
	if (in_dispatch)
		deq_nested++;
	tr(p, TR_DEQ, flags);
}

static void cu_quiescent(struct task_struct *p, u64 flags)
{
	tr(p, TR_QUIESCENT, flags);
}

static void cu_runnable(struct task_struct *p, u64 flags)
{
	tr(p, TR_RUNNABLE, flags);
}

static void cu_set_weight(struct task_struct *p, u32 weight)
{
	tr(p, TR_WEIGHT, weight);
}

static void cu_running(struct task_struct *p)
{
	tr(p, TR_RUNNING, 0);
}

static const struct enoki_ops cu_ops = { .init = cu_init,
	.select_cpu = prev_select, .enqueue = cu_enqueue,
	.dispatch = cu_dispatch, .dequeue = cu_dequeue,
	.quiescent = cu_quiescent, .runnable = cu_runnable,
	.set_weight = cu_set_weight, .running = cu_running };

/* 6 hogs on 2 CPUs, reniced at 30 ms: most of them wait in DSQ0. */
static const char cu_json[] = "{\"cpus\": 2, \"duration_ms\": 60, \"groups\": ["
	"{\"name\": \"h\", \"kind\": \"hog\", \"count\": 6,"
	" \"renice\": {\"at_ms\": 30, \"nice\": 5}}]}";

/*
 * Tasks inserted into a user DSQ by ops.enqueue are in the policy's
 * custody: each enqueue is answered by exactly one dequeue, with flags 0
 * when ops.dispatch moves the task to a local DSQ (after dispatch
 * returns, never nested in it), SCHED_CHANGE for those still waiting when
 * the run ends; the same policy inserting into the global DSQ (terminal)
 * gets no dequeue at all.
 */
static void test_dequeue_dispatch(void **state)
{
	struct enoki_policy pol;
	struct enoki_sim *s;
	int rc, i, enq = 0, deq0 = 0, deq_change = 0, pid;
	int owed[16] = { 0 };

	dsq_global = false;
	tp_init(&pol, &cu_ops);
	s = tp_run(cu_json, &pol, &rc);
	assert_int_equal(rc, 0);
	assert_true(nr_trace < TRACE_MAX);
	for (i = 0; i < nr_trace; i++) {
		pid = trace[i].pid;
		assert_true(pid > 0 && pid < 16);
		if (trace[i].kind == TR_ENQ) {
			enq++;
			assert_int_equal(owed[pid], 0);	/* one at a time */
			owed[pid] = 1;
		} else if (trace[i].kind == TR_DEQ) {
			assert_int_equal(owed[pid], 1);	/* only after enqueue */
			owed[pid] = 0;
			if (trace[i].flags == 0)
				deq0++;
			else if (trace[i].flags == ENOKI_DEQ_SCHED_CHANGE)
				deq_change++;
			else
				fail();
		} else if (trace[i].kind == TR_RUNNING) {
			assert_int_equal(owed[pid], 0);	/* out of custody */
		}
	}
	assert_true(enq > 20);
	assert_true(deq0 > 10);
	assert_true(deq_change >= 4);	/* the renice, and the end */
	assert_int_equal(enq, deq0 + deq_change);
	assert_int_equal(deq_nested, 0);
	enoki_sim_destroy(s);

	dsq_global = true;
	tp_init(&pol, &cu_ops);
	s = tp_run(cu_json, &pol, &rc);
	assert_int_equal(rc, 0);
	for (i = 0, enq = 0; i < nr_trace; i++) {
		enq += trace[i].kind == TR_ENQ;
		assert_int_not_equal(trace[i].kind, TR_DEQ);
	}
	assert_true(enq > 20);
	enoki_sim_destroy(s);
	dsq_global = false;
}

/*
 * A renice is set_user_nice's sched_change: a queued task is taken out
 * (dequeue with SCHED_CHANGE, as it is in custody, then quiescent), gets
 * set_weight, and is put back (runnable, then enqueue); a running task
 * gets set_weight alone.
 */
static void test_dequeue_renice(void **state)
{
	struct enoki_policy pol;
	struct enoki_sim *s;
	int rc, i, cycles = 0, alone = 0, renices = 0;
	const u64 w5 = 33;	/* nice 5: 335 * 100 / 1024, rounded */

	dsq_global = false;
	tp_init(&pol, &cu_ops);
	s = tp_run(cu_json, &pol, &rc);
	assert_int_equal(rc, 0);
	for (i = 0; i < nr_trace; i++) {
		s32 pid = trace[i].pid;

		if (trace[i].kind != TR_WEIGHT || trace[i].flags == 100)
			continue;
		renices++;
		if (i >= 2 && i + 2 < nr_trace &&
		    trace[i - 2].pid == pid && trace[i - 2].kind == TR_DEQ &&
		    trace[i - 2].flags == ENOKI_DEQ_SCHED_CHANGE &&
		    trace[i - 1].pid == pid && trace[i - 1].kind == TR_QUIESCENT &&
		    trace[i + 1].pid == pid && trace[i + 1].kind == TR_RUNNABLE &&
		    trace[i + 2].pid == pid && trace[i + 2].kind == TR_ENQ)
			cycles++;
		else if ((i == 0 || trace[i - 1].kind != TR_QUIESCENT) &&
			 (i + 1 == nr_trace || trace[i + 1].kind != TR_RUNNABLE))
			alone++;
	}
	assert_int_equal(renices, 6);
	assert_int_equal(cycles, 4);	/* 6 hogs, 2 running */
	assert_int_equal(alone, 2);
	for (i = 0; i < nr_trace; i++)
		if (trace[i].kind == TR_WEIGHT && trace[i].flags != 100)
			assert_int_equal(trace[i].flags, w5);
	enoki_sim_destroy(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_local_global_dispatch),
		cmocka_unit_test(test_affinity),
		cmocka_unit_test(test_slice_expiry),
		cmocka_unit_test(test_keep_running),
		cmocka_unit_test(test_kick_preempt),
		cmocka_unit_test(test_select_direct),
		cmocka_unit_test(test_default_select),
		cmocka_unit_test(test_fifo_fairness),
		cmocka_unit_test(test_watchdog),
		cmocka_unit_test(test_enoki_error),
		cmocka_unit_test(test_bad_dsq),
		cmocka_unit_test(test_determinism),
		cmocka_unit_test(test_dequeue_dispatch),
		cmocka_unit_test(test_dequeue_renice),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
