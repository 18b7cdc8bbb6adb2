/*
 * policy_unit.c - each policy's decisions, one callback at a time, over
 * the mock host (mock_host.h): what goes to which queue, which CPUs are
 * kicked, what vtime is charged, which grants and reclaims arachne
 * announces, where locality puts hinted threads.  TAP output.
 *
 * The whole-system properties (fairness, tail latency, placement rates)
 * are shown in the simulator by tests/enoki-policies.t; these tests pin
 * the mechanisms those properties rest on, and run without it.
 */
#include <stdio.h>
#include <string.h>

#include "mock_host.h"
#include "../../sched/arachne/arachne_msg.h"
#include "../../sched/locality/locality_msg.h"

extern struct enoki_policy enoki_policy_fifo, enoki_policy_wfq,
	enoki_policy_shinjuku, enoki_policy_arachne, enoki_policy_locality;

static int tap_n, tap_failed;

#define CHECK(cond, ...)						\
	do {								\
		bool ok_ = (cond);					\
		tap_n++;						\
		printf("%s %d - ", ok_ ? "ok" : "not ok", tap_n);	\
		printf(__VA_ARGS__);					\
		printf("\n");						\
		if (!ok_) {						\
			tap_failed++;					\
			printf("#   failed at %s:%d: %s\n", __FILE__,	\
			       __LINE__, #cond);			\
		}							\
	} while (0)

/* ---- fifo ---- */

static void test_fifo(void)
{
	struct enoki_ops *ops = &enoki_policy_fifo.ops;
	struct task_struct p;
	s32 cpu;

	mock_reset(4);
	mock_task(&p, 10);
	mock.idle = 1ULL << 2;
	cpu = ops->select_cpu(&p, 0, ENOKI_WAKE_TTWU);
	CHECK(cpu == 2 && mock.last.n == 1 && mock.last.dsq == ENOKI_DSQ_LOCAL,
	      "fifo: a wakeup goes straight to the idle CPU's local queue");

	mock_clear_log();
	cpu = ops->select_cpu(&p, 1, ENOKI_WAKE_TTWU);
	CHECK(cpu == 1 && mock.last.n == 0,
	      "fifo: no idle CPU, no insert from select_cpu");
	ops->enqueue(&p, ENOKI_ENQ_WAKEUP);
	CHECK(mock.last.dsq == ENOKI_DSQ_GLOBAL &&
	      mock.last.slice == ENOKI_SLICE_DFL &&
	      mock.last.flags == ENOKI_ENQ_WAKEUP,
	      "fifo: enqueue appends to the global queue with a full slice");
	mock_task_free(&p);
}

/* ---- wfq ---- */

static void test_wfq(void)
{
	struct enoki_ops *ops = &enoki_policy_wfq.ops;
	struct scx_init_task_args fork = { .fork = true };
	struct task_struct a, b, c;
	u64 v0;

	mock_reset(2);
	CHECK(ops->init() == 0 && enoki_dsq_nr_queued(0) == 0 &&
	      enoki_dsq_nr_queued(1) == 0,
	      "wfq: init creates one queue per CPU");

	mock_task(&a, 1);
	mock_task(&b, 2);
	b.weight = 50;
	CHECK(ops->init_task(&a, &fork) == 0 && ops->init_task(&b, &fork) == 0,
	      "wfq: init_task succeeds");

	/* Charging: 1 ms at weight 100 is 1 ms of vtime, at 50 it is 2. */
	v0 = a.vtime;
	ops->running(&a);
	mock.now += 1000000;
	ops->stopping(&a, true);
	CHECK(a.vtime - v0 == 1000000, "wfq: weight 100 is charged 1:1");
	v0 = b.vtime;
	ops->running(&b);
	mock.now += 1000000;
	ops->stopping(&b, true);
	CHECK(b.vtime - v0 == 2000000, "wfq: weight 50 is charged double");

	/* A sleeper is clamped to one slice (5 ms) behind min_vtime. */
	mock_task(&c, 3);
	ops->init_task(&c, &fork);
	a.vtime = 100000000;
	ops->running(&a);
	ops->stopping(&a, false);
	c.vtime = 0;
	ops->runnable(&c, ENOKI_ENQ_WAKEUP);
	CHECK(c.vtime == 95000000,
	      "wfq: a waking task banks at most one slice of credit");
	c.vtime = 99000000;
	ops->runnable(&c, ENOKI_ENQ_WAKEUP);
	CHECK(c.vtime == 99000000, "wfq: a recent sleeper keeps its vtime");

	/* Placement by load (sum of weights homed on a CPU). */
	ops->quiescent(&a, 0);
	ops->quiescent(&b, 0);
	ops->quiescent(&c, 0);
	mock_clear_log();
	a.cpu = b.cpu = c.cpu = 0;
	ops->enqueue(&a, 0);
	CHECK(mock.last.dsq == 0 && mock.last.vtime == a.vtime,
	      "wfq: enqueue inserts by vtime into the home CPU's queue");
	ops->enqueue(&b, 0);
	CHECK(mock.last.dsq == 1,
	      "wfq: a loaded home CPU sends a task to a lighter one");
	ops->enqueue(&c, 0);
	CHECK(mock.last.dsq == 1,
	      "wfq: weights, not counts, decide (100 + 50 against 100)");
	ops->enqueue(&a, 0);
	CHECK(mock.last.dsq == 0,
	      "wfq: a task whose move would not narrow the gap stays");

	/* Dispatch: own queue first, then steal from the longest. */
	mock_set_queued(0, 0);
	mock_set_queued(1, 3);
	ops->dispatch(0, NULL);
	CHECK(enoki_dsq_nr_queued(1) == 2,
	      "wfq: an idle CPU steals from the longest other queue");
	mock_set_queued(0, 1);
	ops->dispatch(0, NULL);
	CHECK(enoki_dsq_nr_queued(0) == 0 && enoki_dsq_nr_queued(1) == 2,
	      "wfq: a CPU takes from its own queue before stealing");

	/* Affinity: a task allowed only on CPU 1 is queued there. */
	a.allowed = 1ULL << 1;
	ops->quiescent(&a, 0);
	ops->enqueue(&a, 0);
	CHECK(mock.last.dsq == 1, "wfq: placement respects affinity");
	CHECK(mock.errors == 0, "wfq: no policy error");
	mock_task_free(&a);
	mock_task_free(&b);
	mock_task_free(&c);

	/*
	 * sched_ext calls dispatch before prev is stopped and enqueued:
	 * prev is charged there and goes on running while it is ahead of
	 * the queue, else it makes way (and is not charged twice).
	 */
	mock_reset(1);
	ops->init();
	mock_task(&a, 1);
	mock_task(&b, 2);
	b.weight = 33;
	ops->init_task(&a, &fork);
	ops->init_task(&b, &fork);
	ops->runnable(&a, ENOKI_ENQ_WAKEUP);
	ops->runnable(&b, ENOKI_ENQ_WAKEUP);
	ops->enqueue(&b, 0);
	ops->running(&a);
	mock.now += 5000000;
	a.slice = 0;
	ops->dispatch(0, &a);
	CHECK(a.vtime == 5000000 && a.slice == 0 &&
	      enoki_dsq_nr_queued(0) == 0,
	      "wfq: prev behind the queue's head makes way, charged at dispatch");
	ops->stopping(&a, true);
	CHECK(a.vtime == 5000000, "wfq: stopping does not charge it twice");
	ops->enqueue(&a, 0);
	ops->running(&b);
	mock.now += 5000000;
	b.slice = 0;
	ops->dispatch(0, &b);
	CHECK(b.vtime == 5000000 * 100 / 33 && enoki_dsq_nr_queued(0) == 0,
	      "wfq: weight 33 is charged 100/33, and makes way");
	ops->stopping(&b, true);
	ops->enqueue(&b, 0);
	ops->running(&a);
	mock.now += 5000000;
	a.slice = 0;
	ops->dispatch(0, &a);
	CHECK(a.vtime == 10000000 && a.slice == 5000000 &&
	      enoki_dsq_nr_queued(0) == 1,
	      "wfq: prev still ahead of the queue goes on with a new slice");
	CHECK(mock.errors == 0, "wfq: no policy error at dispatch");
	mock_task_free(&a);
	mock_task_free(&b);
}

/* ---- shinjuku ---- */

static void test_shinjuku(void)
{
	struct enoki_ops *ops = &enoki_policy_shinjuku.ops;
	struct task_struct p, q;
	int i, preempts;

	mock_reset(2);
	CHECK(ops->init() == 0, "shinjuku: init creates the central queue");
	mock_task(&p, 1);
	mock_task(&q, 2);
	q.cpu = 1;
	ops->running(&p);
	ops->running(&q);

	ops->enqueue(&p, ENOKI_ENQ_WAKEUP);
	CHECK(mock.last.dsq == 0 && mock.last.slice == 10000,
	      "shinjuku: tasks join the central queue with a 10 us slice");
	CHECK(mock.nr_timer_starts == 1 && mock.timer_delay == 10000,
	      "shinjuku: a queued task arms the slice timer");
	ops->enqueue(&q, ENOKI_ENQ_WAKEUP);
	CHECK(mock.nr_timer_starts == 1,
	      "shinjuku: an armed timer is not pushed back");

	/* CPU 0 ran 12 us, CPU 1 only 3: only CPU 0 is preempted. */
	mock.now += 12000;
	ops->stopping(&q, true);
	mock.now -= 9000;
	ops->running(&q);
	mock.now += 9000;
	mock_clear_log();
	mock.timer->fn();
	preempts = 0;
	for (i = 0; i < mock.nr_kicks; i++)
		if (mock.kicks[i].flags & ENOKI_KICK_PREEMPT)
			preempts += mock.kicks[i].cpu == 0 ? 1 : 100;
	CHECK(preempts == 1, "shinjuku: the timer preempts a CPU past its slice, only it");
	CHECK(mock.nr_timer_starts == 2, "shinjuku: the timer re-arms while tasks wait");

	mock_set_queued(0, 0);
	mock_clear_log();
	mock.now += 50000;
	mock.timer->fn();
	CHECK(mock.nr_kicks == 0 && mock.nr_timer_starts == 2,
	      "shinjuku: an empty queue preempts nobody and stops the timer");

	mock.idle = 1ULL << 1;
	ops->enqueue(&p, ENOKI_ENQ_WAKEUP);
	CHECK(mock.nr_kicks == 1 && mock.kicks[0].cpu == 1 &&
	      mock.kicks[0].flags == ENOKI_KICK_IDLE,
	      "shinjuku: a wakeup kicks an idle CPU");
	mock_task_free(&p);
	mock_task_free(&q);
}

/* ---- arachne ---- */

static void arachne_send(u32 type, s32 pid, u64 a0, u64 a1)
{
	struct enoki_msg m = { .type = type, .pid = (u32)pid };

	m.arg[0] = a0;
	m.arg[1] = a1;
	enoki_policy_arachne.msg_handler(&m);
}

/* The number of notifications of @type for app @app, and the CPUs. */
static int arachne_count(u32 type, u64 app, u64 *cpus)
{
	int i, n = 0;

	for (i = 0; i < mock.nr_msgs; i++) {
		if (mock.msgs[i].type != type || mock.msgs[i].arg[0] != app)
			continue;
		if (cpus)
			cpus[n] = mock.msgs[i].arg[1];
		n++;
	}
	return n;
}

static void test_arachne(void)
{
	struct enoki_ops *ops = &enoki_policy_arachne.ops;
	struct scx_init_task_args fork = { .fork = true };
	struct task_struct t, other;
	u64 cpus[8];
	s32 cpu;

	mock_reset(4);
	CHECK(enoki_policy_arachne.msg_handler != NULL,
	      "arachne: has a message handler");
	CHECK(ops->init() == 0, "arachne: init");
	mock_task(&t, 100);
	mock_task(&other, 200);
	ops->init_task(&t, &fork);
	ops->init_task(&other, &fork);

	arachne_send(ARACHNE_MSG_REGISTER, 100, 7, 0);
	arachne_send(ARACHNE_MSG_REQUEST_CORES, 100, 7, 2);
	CHECK(arachne_count(ARACHNE_MSG_GRANT, 7, cpus) == 2 &&
	      cpus[0] == 1 && cpus[1] == 2 && mock.msgs[1].arg[2] == 2,
	      "arachne: a request for 2 cores is granted CPUs 1 and 2");

	/* The app's thread runs only on its cores. */
	mock.idle = (1ULL << 0) | (1ULL << 3);
	cpu = ops->select_cpu(&t, 0, ENOKI_WAKE_TTWU);
	CHECK(cpu == 0 && mock.last.n == 0,
	      "arachne: an app thread does not take an idle CPU it was not granted");
	mock.idle = 1ULL << 2;
	cpu = ops->select_cpu(&t, 0, ENOKI_WAKE_TTWU);
	CHECK(cpu == 2 && mock.last.dsq == ENOKI_DSQ_LOCAL,
	      "arachne: an app thread wakes on an idle granted CPU");
	ops->enqueue(&t, 0);
	CHECK(mock.last.dsq == 1, "arachne: an app thread queues on its app's queue");
	ops->enqueue(&other, 0);
	CHECK(mock.last.dsq == 0, "arachne: other tasks queue on the shared queue");
	mock_set_queued(0, 1);
	mock_set_queued(1, 0);
	ops->dispatch(1, NULL);
	CHECK(enoki_dsq_nr_queued(0) == 1,
	      "arachne: a granted CPU does not run other tasks");
	ops->dispatch(3, NULL);
	CHECK(enoki_dsq_nr_queued(0) == 0,
	      "arachne: an unowned CPU runs the shared queue");

	/* A second app: 3 grantable CPUs split 2 + 1. */
	mock_clear_log();
	arachne_send(ARACHNE_MSG_REQUEST_CORES, 300, 8, 3);
	CHECK(arachne_count(ARACHNE_MSG_GRANT, 8, cpus) == 1 && cpus[0] == 3 &&
	      arachne_count(ARACHNE_MSG_RECLAIM, 7, NULL) == 0,
	      "arachne: a second app gets the free core, the first keeps its 2");

	/* App 8 asks again: fair share is still 2 + 1, nothing moves. */
	mock_clear_log();
	arachne_send(ARACHNE_MSG_REQUEST_CORES, 300, 8, 3);
	CHECK(mock.nr_msgs == 0, "arachne: an unchanged split announces nothing");

	/* App 7 gives its cores back: both reclaimed, app 8 gets 3. */
	mock_clear_log();
	arachne_send(ARACHNE_MSG_REQUEST_CORES, 100, 7, 0);
	CHECK(arachne_count(ARACHNE_MSG_RECLAIM, 7, cpus) == 2 &&
	      cpus[0] == 2 && cpus[1] == 1,
	      "arachne: dropping a request reclaims its cores, announced");
	CHECK(arachne_count(ARACHNE_MSG_GRANT, 8, NULL) == 2,
	      "arachne: the reclaimed cores go to the app that wants them");
	CHECK(mock.nr_kicks == 4, "arachne: every CPU that changes hands is kicked");

	/* App 7 holds nothing: its thread shares, and its queue drains. */
	ops->enqueue(&t, 0);
	CHECK(mock.last.dsq == 0, "arachne: a thread of an app without cores shares");
	mock_set_queued(0, 0);
	mock_set_queued(1, 1);
	ops->dispatch(0, NULL);
	CHECK(enoki_dsq_nr_queued(1) == 0,
	      "arachne: threads left on a coreless app's queue still run");

	/*
	 * SCX_OPS_ENQ_LAST: a CPU's last task is enqueued rather than kept,
	 * so a granted CPU does not go on running a stranger.
	 */
	CHECK(ops->flags & (1ULL << 1), "arachne: sets SCX_OPS_ENQ_LAST");
	t.cpu = 0;
	ops->enqueue(&t, ENOKI_ENQ_LAST);
	CHECK(mock.last.dsq == ENOKI_DSQ_LOCAL,
	      "arachne: the last task of an unheld CPU stays there");
	t.cpu = 1;
	ops->enqueue(&t, ENOKI_ENQ_LAST);
	CHECK(mock.last.dsq == 0,
	      "arachne: a stranger, last on a granted CPU, leaves it");

	/* A pinned task runs on its CPU whoever holds it. */
	other.allowed = 1ULL << 2;
	other.cpu = 2;
	ops->enqueue(&other, 0);
	CHECK(mock.last.dsq == (ENOKI_DSQ_LOCAL_ON | 2),
	      "arachne: a pinned task goes to its CPU's local queue");

	mock_clear_log();
	arachne_send(99, 100, 7, 0);
	arachne_send(ARACHNE_MSG_REQUEST_CORES, 100, 0, 2);
	CHECK(mock.nr_msgs == 0 && mock.errors == 0,
	      "arachne: malformed messages change nothing");
	mock_task_free(&t);
	mock_task_free(&other);
}

/* ---- locality ---- */

static void locality_hint(s32 pid, u64 region)
{
	struct enoki_msg m = { .type = LOCALITY_MSG_HINT, .pid = (u32)pid };

	m.arg[0] = region;
	enoki_policy_locality.msg_handler(&m);
}

static void test_locality(void)
{
	struct enoki_ops *ops = &enoki_policy_locality.ops;
	struct task_struct a, b, u;
	s32 cpu;

	mock_reset(4);
	CHECK(ops->init() == 0, "locality: init");
	mock_task(&a, 10);
	mock_task(&b, 11);
	mock_task(&u, 13);

	locality_hint(10, 555);
	locality_hint(11, 666);
	locality_hint(12, 555);
	CHECK(mock.nr_msgs == 2 && mock.msgs[0].type == LOCALITY_MSG_PLACED &&
	      mock.msgs[0].arg[0] == 555 && mock.msgs[0].arg[1] == 0 &&
	      mock.msgs[1].arg[0] == 666 && mock.msgs[1].arg[1] == 1,
	      "locality: each new region gets its own CPU, announced once");

	mock.idle = 1ULL << 0;
	cpu = ops->select_cpu(&a, 3, ENOKI_WAKE_TTWU);
	CHECK(cpu == 0 && mock.last.dsq == ENOKI_DSQ_LOCAL,
	      "locality: a hinted wakeup goes to its idle region CPU");
	mock_clear_log();
	mock.idle = 1ULL << 3;
	cpu = ops->select_cpu(&b, 3, ENOKI_WAKE_TTWU);
	CHECK(cpu == 1 && mock.last.n == 0,
	      "locality: a busy region CPU is still chosen over an idle other");
	b.cpu = 1;
	ops->enqueue(&b, ENOKI_ENQ_WAKEUP);
	CHECK(mock.last.dsq == 1, "locality: and the thread waits in that CPU's queue");

	mock_set_queued(1, 2);
	cpu = ops->select_cpu(&b, 1, ENOKI_WAKE_TTWU);
	CHECK(cpu == 3, "locality: an overloaded region CPU falls back to an idle one");
	ops->enqueue(&b, ENOKI_ENQ_WAKEUP);
	CHECK(mock.last.dsq == 256, "locality: or to the shared queue");

	ops->enqueue(&u, 0);
	CHECK(mock.last.dsq == 256, "locality: unhinted threads share");

	mock_set_queued(2, 0);
	mock_set_queued(256, 0);
	ops->dispatch(2, NULL);
	CHECK(enoki_dsq_nr_queued(1) == 1,
	      "locality: an idle CPU helps an overloaded one");

	locality_hint(10, 0);
	mock.idle = 1ULL << 2;
	cpu = ops->select_cpu(&a, 2, ENOKI_WAKE_TTWU);
	CHECK(cpu == 2, "locality: region 0 clears a hint");
	CHECK(mock.errors == 0, "locality: no policy error");
	mock_task_free(&a);
	mock_task_free(&b);
	mock_task_free(&u);
}

int main(void)
{
	test_fifo();
	test_wfq();
	test_shinjuku();
	test_arachne();
	test_locality();
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}
