/*
 * enoki - run Enoki scheduling policies in userspace.
 *
 *   enoki sim [options] WORKLOAD.json POLICY    simulate a workload
 *   enoki replay LOG POLICY                     replay a recording
 *
 * POLICY is a name (looked up as SCHED_DIR/NAME.so, SCHED_DIR being
 * $ENOKI_SCHED_DIR or the sched/ directory next to this binary's bin/)
 * or a path to a policy .so.  Exit codes: 0 ok, 1 usage, 2 error, 3 the
 * policy was ejected (enoki_error, a bad call, or the watchdog).
 *
 * The binary is linked -rdynamic with the native host layer whole, so a
 * policy .so resolves its enoki_* calls here.  Recording (--record) and
 * replay are enoki/log's and enoki/replay's: --record wraps the created
 * simulator's host with enoki_record_start before the run, and `enoki
 * replay` is enoki_replay_main.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../enoki/log/record.h"
#include "../../enoki/replay/replay.h"
#include "../../enoki/sim/sim.h"

static void usage_main(FILE *f)
{
	fprintf(f,
		"usage: enoki COMMAND [ARGS]\n"
		"\n"
		"  sim [options] WORKLOAD.json POLICY   run a workload under a policy in the simulator\n"
		"  replay LOG POLICY                    replay a recording against a policy build\n"
		"\n"
		"POLICY is a name under the sched directory ($ENOKI_SCHED_DIR, default\n"
		"BUILD/sched next to BUILD/bin/enoki) or a path to a policy .so.\n"
		"`enoki COMMAND --help` for the options of a command.\n");
}

static void usage_sim(FILE *f)
{
	fprintf(f,
		"usage: enoki sim [options] WORKLOAD.json POLICY\n"
		"\n"
		"  --cpus N          simulated CPUs, 1..256 (default: the workload's)\n"
		"  --duration-ms MS  simulated time (default: the workload's)\n"
		"  --seed N          random seed (default: the workload's)\n"
		"  --timeout-ms MS   watchdog timeout (default: workload, policy, 30000)\n"
		"  --json            print the results as JSON\n"
		"  --tasks           add the per-task table to the human output\n"
		"  --trace FILE      write a Chrome/Perfetto JSON trace of what ran where\n"
		"  --svg FILE        write an SVG timeline (first --svg-ms, default 200 ms)\n"
		"  --svg-ms MS       how much the SVG shows\n"
		"  --callbacks FILE  write one line per policy callback\n"
		"  --record LOG      record every callback and host call for enoki replay\n"
		"  -v, --verbose     show enoki_printk output\n"
		"  -h, --help        this text\n"
		"\n"
		"Exit status: 0 finished, 1 usage, 2 error, 3 the policy was ejected.\n");
}

/* BUILD/bin/enoki -> BUILD/sched */
static void sched_dir(char *out, size_t len)
{
	const char *env = getenv("ENOKI_SCHED_DIR");
	char self[PATH_MAX];
	ssize_t n;
	char *slash;

	if (env) {
		snprintf(out, len, "%s", env);
		return;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0) {
		snprintf(out, len, "sched");
		return;
	}
	self[n] = '\0';
	slash = strrchr(self, '/');
	if (slash)
		*slash = '\0';
	slash = strrchr(self, '/');
	if (slash)
		*slash = '\0';
	snprintf(out, len, "%.*s/sched", (int)(len > 7 ? len - 7 : 0), self);
}

static int parse_u64(const char *opt, const char *s, u64 lo, u64 hi, u64 *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end || *s == '-' || v < lo || v > hi) {
		fprintf(stderr, "enoki sim: %s: \"%s\" is not a number %llu..%llu\n",
			opt, s, (unsigned long long)lo, (unsigned long long)hi);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

/* One line per callback, through the h->invoke choke point. */
static FILE *cb_log;
static s64 (*cb_inner)(struct enoki_host *h, struct enoki_call *c);

static s64 log_invoke(struct enoki_host *h, struct enoki_call *c)
{
	s64 ret = cb_inner(h, c);

	fprintf(cb_log, "%llu cpu%d %s pid=%d cpu=%d flags=0x%llx ret=%lld\n",
		(unsigned long long)h->ops->now(h), c->cpu,
		enoki_cb_name(c->cb), c->p ? c->p->pid : -1, c->arg_cpu,
		(unsigned long long)c->flags, (long long)ret);
	return ret;
}

struct sim_args {
	struct enoki_sim_opts o;
	const char *workload, *policy, *trace, *svg, *callbacks, *record;
	u64 svg_ns;
	bool json, tasks;
};

static int parse_sim_args(int argc, char **argv, struct sim_args *a)
{
	static const struct option longopts[] = {
		{ "cpus", required_argument, NULL, 'c' },
		{ "duration-ms", required_argument, NULL, 'd' },
		{ "seed", required_argument, NULL, 's' },
		{ "timeout-ms", required_argument, NULL, 'T' },
		{ "json", no_argument, NULL, 'j' },
		{ "tasks", no_argument, NULL, 'k' },
		{ "trace", required_argument, NULL, 't' },
		{ "svg", required_argument, NULL, 'g' },
		{ "svg-ms", required_argument, NULL, 'G' },
		{ "callbacks", required_argument, NULL, 'C' },
		{ "record", required_argument, NULL, 'r' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	u64 v;
	int ch;

	a->svg_ns = 200000000ULL;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "+vh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			if (parse_u64("--cpus", optarg, 1, ENOKI_MAX_CPUS, &v))
				return ENOKI_EXIT_USAGE;
			a->o.nr_cpus = (u32)v;
			break;
		case 'd':
			if (parse_u64("--duration-ms", optarg, 1, 1000000000, &v))
				return ENOKI_EXIT_USAGE;
			a->o.duration_ns = v * 1000000;
			break;
		case 's':
			if (parse_u64("--seed", optarg, 0, ~0ULL, &a->o.seed))
				return ENOKI_EXIT_USAGE;
			a->o.has_seed = true;
			break;
		case 'T':
			if (parse_u64("--timeout-ms", optarg, 1, 1000000000, &v))
				return ENOKI_EXIT_USAGE;
			a->o.timeout_ns = v * 1000000;
			break;
		case 'j': a->json = true; break;
		case 'k': a->tasks = true; break;
		case 't': a->trace = optarg; break;
		case 'g': a->svg = optarg; break;
		case 'G':
			if (parse_u64("--svg-ms", optarg, 1, 1000, &v))
				return ENOKI_EXIT_USAGE;
			a->svg_ns = v * 1000000;
			break;
		case 'C': a->callbacks = optarg; break;
		case 'r': a->record = optarg; break;
		case 'v': a->o.verbose = true; break;
		case 'h':
			usage_sim(stdout);
			return -1;
		default:
			usage_sim(stderr);
			return ENOKI_EXIT_USAGE;
		}
	}
	if (argc - optind != 2) {
		fprintf(stderr, "enoki sim: want WORKLOAD.json and POLICY\n");
		usage_sim(stderr);
		return ENOKI_EXIT_USAGE;
	}
	a->workload = argv[optind];
	a->policy = argv[optind + 1];
	a->o.keep_intervals = a->trace || a->svg;
	return 0;
}

/* Outputs after a run; 0 or ENOKI_EXIT_FAIL. */
static int write_outputs(struct enoki_sim *s, const struct sim_args *a)
{
	int err;

	if (a->json)
		enoki_sim_report_json(s, stdout);
	else
		enoki_sim_report(s, stdout, a->tasks);
	if (a->trace && (err = enoki_sim_write_trace(s, a->trace))) {
		fprintf(stderr, "enoki sim: %s: cannot write trace: %s\n",
			a->trace, strerror(-err));
		return ENOKI_EXIT_FAIL;
	}
	if (a->svg && (err = enoki_sim_write_svg(s, a->svg, a->svg_ns))) {
		fprintf(stderr, "enoki sim: %s: cannot write SVG: %s\n",
			a->svg, strerror(-err));
		return ENOKI_EXIT_FAIL;
	}
	return 0;
}

static int cmd_sim(int argc, char **argv)
{
	struct sim_args a = { 0 };
	struct enoki_workload *w = NULL;
	struct enoki_loaded_policy lp;
	struct enoki_sim *s = NULL;
	char err[512], dir[PATH_MAX];
	int rc, ret = ENOKI_EXIT_FAIL;

	rc = parse_sim_args(argc, argv, &a);
	if (rc)
		return rc < 0 ? 0 : rc;
	if (enoki_workload_load(a.workload, &w, err, sizeof(err))) {
		fprintf(stderr, "enoki sim: %s\n", err);
		return ENOKI_EXIT_FAIL;
	}
	sched_dir(dir, sizeof(dir));
	if (enoki_policy_open(a.policy, dir, &lp, err, sizeof(err))) {
		fprintf(stderr, "enoki sim: %s\n", err);
		goto out_workload;
	}
	if (a.callbacks) {
		cb_log = fopen(a.callbacks, "w");
		if (!cb_log) {
			fprintf(stderr, "enoki sim: %s: cannot open: %s\n",
				a.callbacks, strerror(errno));
			goto out_policy;
		}
	}
	if (enoki_sim_create(w, lp.policy, &a.o, &s, err, sizeof(err))) {
		fprintf(stderr, "enoki sim: %s\n", err);
		goto out_cblog;
	}
	if (cb_log) {
		cb_inner = enoki_sim_host(s)->invoke;
		enoki_sim_host(s)->invoke = log_invoke;
	}
	if (a.record &&
	    enoki_record_start(enoki_sim_host(s), a.record, &lp,
			       enoki_sim_seed(s), a.workload, err,
			       sizeof(err))) {
		fprintf(stderr, "enoki sim: --record %s: %s\n", a.record, err);
		goto out_sim;
	}

	rc = enoki_sim_run(s);
	if (a.record &&
	    enoki_record_stop(enoki_sim_host(s), err, sizeof(err))) {
		fprintf(stderr, "enoki sim: --record %s: %s\n", a.record, err);
		goto out_sim;
	}
	ret = write_outputs(s, &a);
	if (!ret && rc == -ECANCELED) {
		fprintf(stderr, "enoki sim: policy %s ejected: %s\n",
			lp.policy->name, enoki_sim_host(s)->exit_reason);
		ret = ENOKI_EXIT_EJECTED;
	}
out_sim:
	enoki_sim_destroy(s);
out_cblog:
	if (cb_log)
		fclose(cb_log);
out_policy:
	enoki_policy_close(&lp);
out_workload:
	enoki_workload_free(w);
	return ret;
}

static int cmd_replay(int argc, char **argv)
{
	char dir[PATH_MAX];

	sched_dir(dir, sizeof(dir));
	return enoki_replay_main(argc, argv, dir);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage_main(stderr);
		return ENOKI_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") ||
	    !strcmp(argv[1], "help")) {
		usage_main(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "sim"))
		return cmd_sim(argc - 1, argv + 1);
	if (!strcmp(argv[1], "replay"))
		return cmd_replay(argc - 1, argv + 1);
	fprintf(stderr, "enoki: unknown command \"%s\"\n", argv[1]);
	usage_main(stderr);
	return ENOKI_EXIT_USAGE;
}
