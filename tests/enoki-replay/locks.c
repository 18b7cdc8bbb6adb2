/*
 * tests/enoki-replay/locks.c - lock order in record and replay.
 *
 * lockpol (lockpol.c) names its two locks in init, then takes both,
 * nested, on every enqueue.  Recorded by the toy engine (common.c):
 *
 *   - the log holds lock/unlock events, ids by order of first use (init:
 *     lock 0, unlock 0, lock 1, unlock 1; each enqueue: 0, 1, unlock 1,
 *     unlock 0), the locks released in the reverse order;
 *   - replaying the same build matches every event;
 *   - the build that takes b before a diverges at the first enqueue's
 *     first lock event, in both directions (recorded a-b replayed b-a,
 *     and the reverse), and the report names both locks;
 *   - testpol, whose timer and message handler take its lock, records
 *     lock events too and replays clean.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "common.h"
#include "log.h"
#include "replay.h"

static char pol_ab[4096], pol_ba[4096], pol_test[4096];

struct job {
	const char *policy;
	const char *log;
	const char *out;
	struct toy_opts toy;
};

static int do_record(void *arg)
{
	struct job *j = arg;

	j->toy.policy = j->policy;
	j->toy.record = j->log;
	return toy_run(&j->toy) ? 1 : 0;
}

static int do_replay(void *arg)
{
	struct job *j = arg;
	struct enoki_replay_opts o = { .log_path = j->log, .context = 3 };
	struct enoki_replay_result res;
	struct enoki_loaded_policy lp;
	char err[600];
	int ret;

	if (enoki_policy_open(j->policy, ".", &lp, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		return 100;
	}
	o.policy = lp.policy;
	o.out = fopen(j->out, "w");
	o.err = o.out;
	if (!o.out)
		return 101;
	ret = enoki_replay_run(&o, &res);
	fclose(o.out);
	enoki_policy_close(&lp);
	return ret;
}

static char *slurp(const char *path)
{
	size_t len;
	char *s = (char *)read_file(path, &len);

	assert_non_null(s);
	s[len] = '\0';
	return s;
}

/* The lock events of a log, as "L0 U0 ..." (up to @max of them), their
 * total in *@n, and the sequence number of the first one after the init
 * callback's return in *@first_enq. */
static void lock_events(const char *path, char *buf, size_t max,
			uint64_t *n, uint64_t *first_enq)
{
	struct enoki_log_reader *r;
	struct enoki_log_event ev;
	bool after_init = false;
	size_t len = 0;
	char err[600];

	*n = 0;
	*first_enq = 0;
	buf[0] = '\0';
	r = enoki_log_reader_open(path, err, sizeof(err));
	assert_non_null(r);
	while (enoki_log_next(r, &ev) > 0) {
		if (ev.kind == ENOKI_EV_ENQUEUE)
			after_init = true;
		if (ev.kind != ENOKI_EV_LOCK && ev.kind != ENOKI_EV_UNLOCK)
			continue;
		assert_int_equal(ev.nr_args, 1);
		if (after_init && !*first_enq)
			*first_enq = ev.seq;
		if (len + 8 < max)
			len += (size_t)snprintf(buf + len, max - len, "%s%c%" PRIu64,
						len ? " " : "",
						ev.kind == ENOKI_EV_LOCK ? 'L' : 'U',
						ev.args[0]);
		(*n)++;
	}
	assert_string_equal(enoki_log_reader_error(r), "");
	enoki_log_reader_close(r);
}

static void setup_job(struct job *j, char *log, char *out, const char *pol)
{
	snprintf(log, 4096, "%s", tmp_path("l.log"));
	snprintf(out, 4096, "%s", tmp_path("l.out"));
	j->policy = pol;
	j->log = log;
	j->out = out;
	j->toy.nr_cpus = 4;
	j->toy.nr_tasks = 8;
	j->toy.steps = 2000;
	j->toy.seed = 31;
	assert_int_equal(in_child(do_record, j), 0);
}

static void test_recorded(void **state)
{
	char log[4096], out[4096], locks[4096];
	struct job j = { 0 };
	uint64_t n, first;
	char *s;

	setup_job(&j, log, out, pol_ab);
	lock_events(log, locks, sizeof(locks), &n, &first);
	assert_true(n >= 4 + 4 * 10);
	assert_int_equal(n % 4, 0);
	assert_true(first > 0);
	/* init names a (0) and b (1); every enqueue nests them */
	assert_memory_equal(locks, "L0 U0 L1 U1 L0 L1 U1 U0 L0 L1 U1 U0", 35);

	assert_int_equal(in_child(do_replay, &j), ENOKI_REPLAY_OK);
	s = slurp(out);
	assert_non_null(strstr(s, "all decisions matched"));
	free(s);

	/* the other build records the other order */
	setup_job(&j, log, out, pol_ba);
	lock_events(log, locks, sizeof(locks), &n, &first);
	assert_memory_equal(locks, "L0 U0 L1 U1 L1 L0 U0 U1", 23);
	assert_true(n > 40);
	unlink(log);
	unlink(out);
}

/* Record with @rec, replay with @rep: a divergence at the first lock of
 * the first enqueue, the log holding lock @rec_id, the policy @rep_id. */
static void diverge_case(const char *rec, const char *rep, int rec_id,
			 int rep_id)
{
	char log[4096], out[4096], locks[4096], want[256];
	struct job j = { 0 };
	uint64_t n, first;
	char *s, *p;

	setup_job(&j, log, out, rec);
	lock_events(log, locks, sizeof(locks), &n, &first);
	j.policy = rep;
	assert_int_equal(in_child(do_replay, &j), ENOKI_REPLAY_DIVERGED);
	s = slurp(out);
	snprintf(want, sizeof(want), "replay: divergence at event #%" PRIu64 " (t=",
		 first);
	if (!strstr(s, want)) {
		print_error("report:\n%s\nwant '%s'\n", s, want);
		fail();
	}
	assert_non_null(strstr(s, "), in enqueue "));
	p = strstr(s, "  recorded: ");
	assert_non_null(p);
	snprintf(want, sizeof(want), " lock lock=%d\n", rec_id);
	assert_non_null(strstr(p, want));
	p = strstr(s, "  policy:   ");
	assert_non_null(p);
	snprintf(want, sizeof(want), "lock lock=%d\n", rep_id);
	if (strncmp(p + 12, want, strlen(want))) {
		print_error("report:\n%s\nwant policy '%s'\n", s, want);
		fail();
	}
	free(s);
	unlink(log);
	unlink(out);
}

static void test_order_diverges(void **state)
{
	diverge_case(pol_ab, pol_ba, 0, 1);
	diverge_case(pol_ba, pol_ab, 1, 0);
}

/* testpol's timer and message handler take its lock: recorded, matched. */
static void test_testpol(void **state)
{
	char log[4096], out[4096], locks[4096];
	struct job j = { 0 };
	uint64_t n, first;
	char *s;

	setup_job(&j, log, out, pol_test);
	lock_events(log, locks, sizeof(locks), &n, &first);
	assert_true(n > 0);
	assert_int_equal(n % 2, 0);
	assert_memory_equal(locks, "L0 U0", 5);
	assert_int_equal(in_child(do_replay, &j), ENOKI_REPLAY_OK);
	s = slurp(out);
	assert_non_null(strstr(s, "all decisions matched"));
	free(s);
	unlink(log);
	unlink(out);
}

static int setup(void **state)
{
	snprintf(pol_ab, sizeof(pol_ab), "%s/lockpol_ab.so", test_dir());
	snprintf(pol_ba, sizeof(pol_ba), "%s/lockpol_ba.so", test_dir());
	snprintf(pol_test, sizeof(pol_test), "%s/testpol.so", test_dir());
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_recorded),
		cmocka_unit_test(test_order_diverges),
		cmocka_unit_test(test_testpol),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, setup, NULL);
}
