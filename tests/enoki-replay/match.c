/*
 * tests/enoki-replay/match.c - record then replay: every decision
 * matches on multi-CPU runs; a changed build is reported at the right
 * event, with its context; bad logs stop the replay cleanly; and replay
 * is fast.
 *
 * Logs are recorded by the toy engine (common.c) running testpol.so.
 * Every recording and every replay runs in its own child process, so the
 * policy's globals start fresh, as in `enoki sim` and `enoki replay`.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "common.h"
#include "log.h"
#include "replay.h"

#define DIVERGE_AT 500		/* as in log.mk */

static char pol_normal[4096], pol_diverge[4096];

struct job {
	const char *policy;
	const char *log;
	const char *out;		/* replay report */
	struct toy_opts toy;
	unsigned int context;
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
	struct enoki_replay_opts o = { .log_path = j->log,
				       .context = j->context };
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

/* Events in a log (and the sequence number of the @nth insert). */
static uint64_t count_events(const char *path, uint64_t nth,
			     uint64_t *nth_seq)
{
	struct enoki_log_reader *r;
	struct enoki_log_event ev;
	uint64_t n = 0, inserts = 0;
	char err[600];

	r = enoki_log_reader_open(path, err, sizeof(err));
	assert_non_null(r);
	while (enoki_log_next(r, &ev) > 0) {
		if ((ev.kind == ENOKI_EV_DSQ_INSERT ||
		     ev.kind == ENOKI_EV_DSQ_INSERT_VTIME) &&
		    ++inserts == nth && nth_seq)
			*nth_seq = ev.seq;
		n++;
	}
	assert_string_equal(enoki_log_reader_error(r), "");
	enoki_log_reader_close(r);
	return n;
}

static void record(struct job *j)
{
	assert_int_equal(in_child(do_record, j), 0);
}

/* ---- matching ----------------------------------------------------------------- */

static void match_on(uint32_t cpus, uint32_t tasks, uint64_t steps)
{
	char log[4096], out[4096], want[128];
	struct job j = {
		.policy = pol_normal,
		.toy = { .nr_cpus = cpus, .nr_tasks = tasks, .steps = steps,
			 .seed = 1000 + cpus },
	};
	uint64_t n;
	char *s;

	snprintf(log, sizeof(log), "%s", tmp_path("m.log"));
	snprintf(out, sizeof(out), "%s", tmp_path("m.out"));
	j.log = log;
	j.out = out;
	record(&j);
	n = count_events(log, 0, NULL);
	assert_true(n > steps);

	assert_int_equal(in_child(do_replay, &j), ENOKI_REPLAY_OK);
	s = slurp(out);
	snprintf(want, sizeof(want), "replay: %" PRIu64 " events, all decisions matched\n",
		 n);
	assert_string_equal(s, want);
	free(s);
	unlink(log);
	unlink(out);
}

static void test_match(void **state)
{
	match_on(1, 4, 3000);
	match_on(4, 16, 5000);
	match_on(16, 64, 5000);
	match_on(256, 300, 3000);
}

/* ---- divergence -------------------------------------------------------------- */

static void diverge_case(const char *rec_policy, const char *rep_policy,
			 uint64_t rec_slice, uint64_t rep_slice)
{
	char log[4096], out[4096], want[256];
	struct job j = {
		.policy = rec_policy,
		.toy = { .nr_cpus = 8, .nr_tasks = 24, .steps = 4000,
			 .seed = 99 },
		.context = 5,
	};
	uint64_t seq = 0;
	char *s, *p;
	int lines = 0;

	snprintf(log, sizeof(log), "%s", tmp_path("d.log"));
	snprintf(out, sizeof(out), "%s", tmp_path("d.out"));
	j.log = log;
	j.out = out;
	record(&j);
	count_events(log, DIVERGE_AT, &seq);
	assert_true(seq > 0);

	j.policy = rep_policy;
	assert_int_equal(in_child(do_replay, &j), ENOKI_REPLAY_DIVERGED);
	s = slurp(out);
	snprintf(want, sizeof(want), "replay: divergence at event #%" PRIu64 " (t=",
		 seq);
	if (!strstr(s, want)) {
		print_error("report:\n%s\nwant '%s'\n", s, want);
		fail();
	}
	snprintf(want, sizeof(want), "  recorded: #%" PRIu64 " t=", seq);
	assert_non_null(strstr(s, want));
	snprintf(want, sizeof(want), "slice=%" PRIu64 " ", rec_slice);
	assert_non_null(strstr(strstr(s, "  recorded: "), want));
	p = strstr(s, "  policy:   dsq_insert");
	assert_non_null(p);
	snprintf(want, sizeof(want), "slice=%" PRIu64 " ", rep_slice);
	assert_non_null(strstr(p, want));

	/* five events before it, in order, ending just before it */
	p = strstr(s, "  events before it:\n");
	assert_non_null(p);
	for (p = strchr(p, '\n') + 1; !strncmp(p, "    #", 5);
	     p = strchr(p, '\n') + 1) {
		assert_int_equal(strtoull(p + 5, NULL, 10),
				 seq - 5 + (uint64_t)lines);
		lines++;
	}
	assert_int_equal(lines, 5);
	free(s);
	unlink(log);
	unlink(out);
}

static void test_diverge(void **state)
{
	const uint64_t slice = 5ULL * 1000 * 1000;	/* testpol's TP_SLICE */

	diverge_case(pol_normal, pol_diverge, slice, slice + 1);
	diverge_case(pol_diverge, pol_normal, slice + 1, slice);
}

/* ---- bad logs ------------------------------------------------------------------ */

static void test_bad_log(void **state)
{
	char log[4096], out[4096];
	struct job j = {
		.policy = pol_normal,
		.toy = { .nr_cpus = 4, .nr_tasks = 8, .steps = 20000,
			 .seed = 5 },
	};
	uint8_t *buf;
	size_t len;
	char *s;

	snprintf(log, sizeof(log), "%s", tmp_path("b.log"));
	snprintf(out, sizeof(out), "%s", tmp_path("b.out"));
	j.log = log;
	j.out = out;
	record(&j);
	buf = read_file(log, &len);
	assert_non_null(buf);
	assert_true(len > 3 * 65536);

	/* cut in the middle of the second chunk */
	assert_int_equal(write_file(log, buf, 256 + 65536 + 5000), 0);
	assert_int_equal(in_child(do_replay, &j), ENOKI_REPLAY_ERROR);
	s = slurp(out);
	assert_non_null(strstr(s, ": offset "));
	assert_non_null(strstr(s, "truncated chunk"));
	assert_non_null(strstr(s, "replay: stopped after "));
	free(s);

	/* damage in the third chunk */
	buf[len / 2] ^= 0x40;
	assert_int_equal(write_file(log, buf, len), 0);
	assert_int_equal(in_child(do_replay, &j), ENOKI_REPLAY_ERROR);
	s = slurp(out);
	assert_non_null(strstr(s, "chunk checksum mismatch"));
	free(s);

	/* a newer format */
	buf[len / 2] ^= 0x40;
	buf[8] = 2;
	assert_int_equal(write_file(log, buf, len), 0);
	assert_int_equal(in_child(do_replay, &j), ENOKI_REPLAY_ERROR);
	s = slurp(out);
	assert_non_null(strstr(s, ": offset 8: log format version 2, this build reads version 1"));
	free(s);

	free(buf);
	unlink(log);
	unlink(out);
}

/* ---- fuzzing: well-formed logs that lie ------------------------------------- */

struct fuzz_ev {
	uint8_t kind, nr_args;
	uint16_t cpu;
	uint64_t time;
	uint64_t args[ENOKI_LOG_MAX_ARGS];
};

static uint64_t fuzz_rng = 0x9e3779b97f4a7c15ULL;

static uint64_t frnd(void)
{
	fuzz_rng ^= fuzz_rng << 13;
	fuzz_rng ^= fuzz_rng >> 7;
	fuzz_rng ^= fuzz_rng << 17;
	return fuzz_rng;
}

/* A value a lying log might hold. */
static uint64_t nasty(void)
{
	static const uint64_t v[] = { 0, 1, 2, 3, 7, 8, 255, 256, 10000,
		10001, UINT32_MAX, INT32_MAX, (uint64_t)-1, (uint64_t)-16,
		(uint64_t)-4096, ENOKI_DSQ_GLOBAL, ENOKI_DSQ_LOCAL,
		(uint64_t)1 << 63 };

	return frnd() % 3 ? v[frnd() % (sizeof(v) / sizeof(v[0]))] : frnd();
}

/*
 * Take a recorded log, change 1 to 3 events (an argument, an answer, the
 * kind, or drop or repeat one), write it back with valid checksums, and
 * replay it: the replay must end with a verdict (matched, bad log,
 * divergence), never a crash, under ASan and UBSan too.
 */
static void test_fuzz_replay(void **state)
{
	char log[4096], out[4096];
	struct job j = {
		.policy = pol_normal,
		.toy = { .nr_cpus = 4, .nr_tasks = 6, .steps = 300, .seed = 77 },
	};
	struct enoki_log_reader *r;
	struct enoki_log_writer *w;
	struct enoki_log_info info;
	struct enoki_log_event ev;
	struct fuzz_ev *evs;
	size_t n = 0, cap = 1 << 16, i;
	int iter, verdicts[4] = { 0 }, ret;
	char err[600];

	snprintf(log, sizeof(log), "%s", tmp_path("f.log"));
	snprintf(out, sizeof(out), "%s", tmp_path("f.out"));
	j.log = log;
	j.out = out;
	record(&j);
	evs = calloc(cap, sizeof(*evs));
	assert_non_null(evs);
	r = enoki_log_reader_open(log, err, sizeof(err));
	assert_non_null(r);
	info = *enoki_log_reader_info(r);
	while (n < cap && enoki_log_next(r, &ev) > 0) {
		evs[n].kind = ev.kind;
		evs[n].nr_args = ev.nr_args;
		evs[n].cpu = (uint16_t)ev.cpu;
		evs[n].time = ev.time;
		memcpy(evs[n].args, ev.args, 8 * ev.nr_args);
		n++;
	}
	enoki_log_reader_close(r);
	assert_true(n > 1000);

	for (iter = 0; iter < 150; iter++) {
		size_t at[3];
		int k, nr = 1 + (int)(frnd() % 3), how[3];
		struct fuzz_ev saved[3];

		for (k = 0; k < nr; k++) {
			struct fuzz_ev *e;

			at[k] = frnd() % n;
			e = &evs[at[k]];
			saved[k] = *e;
			how[k] = (int)(frnd() % 4);
			if (how[k] <= 1 && e->nr_args) {
				e->args[frnd() % e->nr_args] = nasty();
			} else if (how[k] == 2) {
				const struct enoki_log_kind_info *ki;

				do {
					e->kind = (uint8_t)(frnd() % ENOKI_EV_NR_KINDS);
					ki = enoki_log_kind(e->kind);
				} while (!ki || ki->variable);
				e->nr_args = ki->nr_in + ki->nr_out;
				for (i = 0; i < e->nr_args; i++)
					e->args[i] = nasty();
			}
		}

		w = enoki_log_writer_open(log, &info, &ret);
		assert_non_null(w);
		for (i = 0; i < n; i++) {
			const struct fuzz_ev *e = &evs[i];
			int reps = 1;

			for (k = 0; k < nr; k++)
				if (at[k] == i && how[k] == 3)
					reps = (int)(frnd() % 3); /* 0: drop */
			while (reps-- > 0)
				enoki_log_append(w, e->kind, e->cpu, e->time,
						 e->nr_args, e->args);
		}
		assert_int_equal(enoki_log_writer_close(w), 0);

		ret = in_child(do_replay, &j);
		if (ret != ENOKI_REPLAY_OK && ret != ENOKI_REPLAY_ERROR &&
		    ret != ENOKI_REPLAY_DIVERGED) {
			print_error("iteration %d: replay ended with %d\n",
				    iter, ret);
			fail();
		}
		verdicts[ret]++;
		for (k = nr - 1; k >= 0; k--)
			evs[at[k]] = saved[k];
	}
	printf("# fuzzed replays: %d matched, %d bad log, %d diverged\n",
	       verdicts[ENOKI_REPLAY_OK], verdicts[ENOKI_REPLAY_ERROR],
	       verdicts[ENOKI_REPLAY_DIVERGED]);
	assert_true(verdicts[ENOKI_REPLAY_DIVERGED] > 0);
	assert_true(verdicts[ENOKI_REPLAY_ERROR] > 0);
	free(evs);
	unlink(log);
	unlink(out);
}

/* ---- the command line ----------------------------------------------------------- */

static int do_main(void *arg)
{
	char **argv = arg;
	int argc = 0;

	while (argv[argc])
		argc++;
	if (!freopen("/dev/null", "w", stdout) ||
	    !freopen("/dev/null", "w", stderr))
		return 99;
	return enoki_replay_main(argc, argv, test_dir());
}

static void test_command_line(void **state)
{
	char log[4096], out[4096];
	struct job j = {
		.policy = pol_normal,
		.toy = { .nr_cpus = 2, .nr_tasks = 4, .steps = 200, .seed = 3 },
	};
	char *ok[] = { "replay", "-q", log, "testpol", NULL };
	char *stats[] = { "replay", "--stats", "-c", "3", log,
			  pol_normal, NULL };
	char *dump[] = { "replay", "--dump", log, NULL };
	char *none[] = { "replay", NULL };
	char *badc[] = { "replay", "-c", "x", log, "testpol", NULL };
	char *nopol[] = { "replay", log, "nosuchpolicy", NULL };
	char *nolog[] = { "replay", "/nonexistent.log", "testpol", NULL };
	char *help[] = { "replay", "--help", NULL };

	snprintf(log, sizeof(log), "%s", tmp_path("c.log"));
	snprintf(out, sizeof(out), "%s", tmp_path("c.out"));
	j.log = log;
	j.out = out;
	record(&j);
	assert_int_equal(in_child(do_main, ok), ENOKI_REPLAY_OK);
	assert_int_equal(in_child(do_main, stats), ENOKI_REPLAY_OK);
	assert_int_equal(in_child(do_main, dump), ENOKI_REPLAY_OK);
	assert_int_equal(in_child(do_main, help), ENOKI_REPLAY_OK);
	assert_int_equal(in_child(do_main, none), ENOKI_REPLAY_USAGE);
	assert_int_equal(in_child(do_main, badc), ENOKI_REPLAY_USAGE);
	assert_int_equal(in_child(do_main, nopol), ENOKI_REPLAY_ERROR);
	assert_int_equal(in_child(do_main, nolog), ENOKI_REPLAY_ERROR);
	unlink(log);
}

/* ---- speed -------------------------------------------------------------------- */

static double seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int do_replay_timed(void *arg)
{
	struct job *j = arg;
	struct enoki_replay_opts o = { .log_path = j->log, .quiet = true };
	struct enoki_replay_result res;
	struct enoki_loaded_policy lp;
	char err[600];
	FILE *f;
	int ret;

	if (enoki_policy_open(j->policy, ".", &lp, err, sizeof(err)))
		return 100;
	o.policy = lp.policy;
	ret = enoki_replay_run(&o, &res);
	f = fopen(j->out, "w");
	if (f) {
		fprintf(f, "%.0f\n", (double)res.events / res.seconds);
		fclose(f);
	}
	enoki_policy_close(&lp);
	return ret;
}

static void test_speed(void **state)
{
	char log[4096], out[4096];
	struct job j = {
		.policy = pol_normal,
		.toy = { .nr_cpus = 8, .nr_tasks = 64, .steps = 200000,
			 .seed = 11 },
	};
	double t0, rec_s, rate;
	uint64_t n;
	char *s;

	snprintf(log, sizeof(log), "%s", tmp_path("s.log"));
	snprintf(out, sizeof(out), "%s", tmp_path("s.out"));
	j.log = log;
	j.out = out;
	t0 = seconds();
	record(&j);
	rec_s = seconds() - t0;
	n = count_events(log, 0, NULL);
	assert_int_equal(in_child(do_replay_timed, &j), ENOKI_REPLAY_OK);
	s = slurp(out);
	rate = strtod(s, NULL);
	free(s);
	printf("# %" PRIu64 " events; toy engine + recorder %.0f events/s, replay %.0f events/s\n",
	       n, (double)n / rec_s, rate);
	/* 1M/s is the goal of the plain build (bench-sim measures it); the
	 * sanitized build is several times slower, so only a floor here */
	assert_true(rate > 100000);
	unlink(log);
	unlink(out);
}

static int setup(void **state)
{
	snprintf(pol_normal, sizeof(pol_normal), "%s/testpol.so", test_dir());
	snprintf(pol_diverge, sizeof(pol_diverge), "%s/testpol_diverge.so",
		 test_dir());
	return access(pol_normal, R_OK) || access(pol_diverge, R_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_match),
		cmocka_unit_test(test_diverge),
		cmocka_unit_test(test_bad_log),
		cmocka_unit_test(test_fuzz_replay),
		cmocka_unit_test(test_command_line),
		cmocka_unit_test(test_speed),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, setup, NULL);
}
