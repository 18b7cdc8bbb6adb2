/*
 * enoki/replay/main.c - `enoki replay`: the command line of the replay
 * engine (and `enoki replay --dump LOG`, which prints a log's events).
 *
 *   enoki replay [-c N] [-q] [-v] [--stats] LOG POLICY
 *   enoki replay --dump LOG
 *
 * POLICY is a name ($(O)/sched/NAME.so, found through @sched_dir) or a
 * path to a policy .so.  Exit codes: replay.h.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "../host/enoki_host.h"
#include "../log/log.h"
#include "replay.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: enoki replay [options] LOG POLICY\n"
		"       enoki replay --dump LOG\n"
		"\n"
		"Run POLICY (a name under the build's sched/ or a path to a .so)\n"
		"on the callbacks recorded in LOG, in the recorded order, answer\n"
		"its queries with the recorded values and check every decision.\n"
		"\n"
		"  -c, --context N   events shown before a divergence (default 8)\n"
		"  -q, --quiet       no success line\n"
		"  -v, --verbose     show the policy's enoki_printk output\n"
		"      --stats       print events per second\n"
		"      --dump        print the log's header and events, no replay\n"
		"  -h, --help        this text\n"
		"\n"
		"Exit: 0 all decisions matched, 1 usage, 2 bad log or policy,\n"
		"3 divergence.  Debug a divergence with\n"
		"  gdb --args build/bin/enoki replay LOG POLICY\n");
}

/* --dump: the header, then one line per event.  0 or 2. */
static int dump(const char *path, FILE *out)
{
	struct enoki_log_reader *r;
	struct enoki_log_event ev;
	const struct enoki_log_info *info;
	char line[600], bid[80];
	int ret;

	r = enoki_log_reader_open(path, line, sizeof(line));
	if (!r) {
		fprintf(stderr, "enoki: %s\n", line);
		return ENOKI_REPLAY_ERROR;
	}
	info = enoki_log_reader_info(r);
	fprintf(out, "log: policy %s %s, build %s, %u CPUs, seed %" PRIu64 ", workload '%s'\n",
		info->policy, info->policy_version,
		enoki_log_build_id_hex(info->build_id, info->build_id_len, bid),
		info->nr_cpus, info->seed, info->workload);
	while ((ret = enoki_log_next(r, &ev)) > 0)
		fprintf(out, "%s\n",
			enoki_log_format_event(&ev, line, sizeof(line)));
	if (ret < 0) {
		fprintf(stderr, "enoki: %s\n", enoki_log_reader_error(r));
		enoki_log_reader_close(r);
		return ENOKI_REPLAY_ERROR;
	}
	fprintf(out, "end: %" PRIu64 " events lost\n",
		enoki_log_reader_lost(r));
	enoki_log_reader_close(r);
	return ENOKI_REPLAY_OK;
}

int enoki_replay_main(int argc, char **argv, const char *sched_dir)
{
	static const struct option longopts[] = {
		{ "context", required_argument, NULL, 'c' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "stats", no_argument, NULL, 'S' },
		{ "dump", no_argument, NULL, 'D' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct enoki_replay_opts o = { .context = 8 };
	struct enoki_replay_result res;
	struct enoki_loaded_policy lp;
	bool stats = false, do_dump = false;
	char err[600], *end;
	int c, ret;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+c:qvh", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			errno = 0;
			o.context = (unsigned int)strtoul(optarg, &end, 10);
			if (errno || *end || !*optarg || optarg[0] == '-') {
				fprintf(stderr, "enoki replay: bad --context '%s'\n",
					optarg);
				return ENOKI_REPLAY_USAGE;
			}
			break;
		case 'q': o.quiet = true; break;
		case 'v': o.verbose = true; break;
		case 'S': stats = true; break;
		case 'D': do_dump = true; break;
		case 'h':
			usage(stdout);
			return ENOKI_REPLAY_OK;
		default:
			usage(stderr);
			return ENOKI_REPLAY_USAGE;
		}
	}
	if (do_dump) {
		if (argc - optind != 1) {
			fprintf(stderr, "enoki replay: --dump takes one LOG\n");
			return ENOKI_REPLAY_USAGE;
		}
		return dump(argv[optind], stdout);
	}
	if (argc - optind != 2) {
		fprintf(stderr, "enoki replay: need LOG and POLICY (see --help)\n");
		return ENOKI_REPLAY_USAGE;
	}
	o.log_path = argv[optind];

	ret = enoki_policy_open(argv[optind + 1], sched_dir, &lp, err,
				sizeof(err));
	if (ret) {
		fprintf(stderr, "enoki: %s\n", err);
		return ENOKI_REPLAY_ERROR;
	}
	o.policy = lp.policy;
	ret = enoki_replay_run(&o, &res);
	if (stats && res.seconds > 0)
		printf("replay: %" PRIu64 " events in %.3f s, %.0f events/s\n",
		       res.events, res.seconds,
		       (double)res.events / res.seconds);
	enoki_policy_close(&lp);
	return ret;
}
