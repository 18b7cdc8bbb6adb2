/*
 * upload.c - the workload and the upgrader of `make bench-upgrade`.
 *
 *   bench-upgrade [-j THREADS] [-n UPGRADES] [-i INTERVAL_MS]
 *                 BENTO MOUNTPOINT A.so B.so [C.so ...]
 *
 * THREADS workers (default 4) run a mixed workload on MOUNTPOINT, each in
 * its own directory: 4 KiB preads checked against a model of the file's
 * contents, 4 KiB pwrites, an fsync now and then, and metadata (create,
 * stat, rename, unlink of small files).  Every system call is one
 * operation, timed with CLOCK_MONOTONIC.  Meanwhile one thread runs
 * UPGRADES (default 100) `BENTO upgrade MOUNTPOINT X.so` commands, X
 * cycling B, C, ..., A, B, ... (the mount is assumed to start on A), one
 * every INTERVAL_MS (default 50) after the previous returned, and keeps
 * each one's downtime_us and its window (spawn to exit).
 *
 * An operation "overlaps an upgrade" if its interval meets a window:
 * that is conservative (a window also holds the command's start-up and
 * the new module's load, during which nothing is blocked).  The run
 * starts and ends with 300 ms of workload without upgrades.
 *
 * Output, key=value lines on stdout (run.sh turns them into JSON):
 * upgrades, upgrade_failed, downtime_us_{p50,p99,max}, the downtime's
 * parts {prepare,transfer}_us_{p50,p99} and the wait for in-flight
 * operations before it, drain_us_{p50,p99}, ops, ops_failed,
 * mismatches, {during,outside}_{ops,p50_us,p99_us,max_us}.  Exit 0 if
 * nothing failed.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SLOTS 64
#define REC 4096
#define MAX_THREADS 64

extern char **environ;

struct op {
	uint64_t start, dur;		/* ns, CLOCK_MONOTONIC */
};

struct worker {
	pthread_t tid;
	int id;
	char dir[4096];
	struct op *ops;
	size_t nops, cap;
	unsigned long failed, mismatches;
	uint32_t gen[SLOTS];		/* the model: slot i holds gen[i] */
	uint64_t rng;
};

struct window {
	uint64_t start, end;
};

static const char *bento, *mnt;
static char **mods;
static int nmods;
static atomic_int stop;
static struct window *wins;
static uint64_t *downs, *preps, *xfers, *drains;
static int nwins, upgrade_failed;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t rnd(struct worker *w)
{
	w->rng ^= w->rng << 13;
	w->rng ^= w->rng >> 7;
	w->rng ^= w->rng << 17;
	return w->rng;
}

static void record(struct worker *w, uint64_t start, int ok_, const char *what)
{
	uint64_t end = now_ns();

	if (w->nops == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 65536;
		struct op *n = realloc(w->ops, cap * sizeof(*n));

		if (!n) {
			fprintf(stderr, "bench-upgrade: out of memory\n");
			exit(2);
		}
		w->ops = n;
		w->cap = cap;
	}
	w->ops[w->nops++] = (struct op){ start, end - start };
	if (!ok_) {
		if (w->failed++ < 5)
			fprintf(stderr, "bench-upgrade: worker %d: %s: %s\n",
				w->id, what, strerror(errno));
	}
}

static void fill(char *buf, int id, int slot, uint32_t gen)
{
	uint32_t *p = (uint32_t *)buf;
	size_t i;

	for (i = 0; i < REC / 4; i++)
		p[i] = ((uint32_t)id << 24) ^ ((uint32_t)slot << 16) ^ gen ^
		       (uint32_t)i * 2654435761u;
}

static void *work(void *arg)
{
	struct worker *w = arg;
	char path[4200], path2[4200], buf[REC], want[REC];
	unsigned long round = 0;
	uint64_t t;
	int fd, f, slot, r;
	struct stat st;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/data", w->dir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0) {
		fprintf(stderr, "bench-upgrade: %s: %s\n", path, strerror(errno));
		w->failed++;
		return NULL;
	}
	for (slot = 0; slot < SLOTS; slot++) {
		fill(buf, w->id, slot, 0);
		if (pwrite(fd, buf, REC, (off_t)slot * REC) != REC)
			w->failed++;
	}

	while (!atomic_load(&stop)) {
		round++;
		slot = (int)(rnd(w) % SLOTS);
		switch (round % 8) {
		case 0: case 1: case 2:			/* checked read */
			t = now_ns();
			n = pread(fd, buf, REC, (off_t)slot * REC);
			record(w, t, n == REC, "pread");
			fill(want, w->id, slot, w->gen[slot]);
			if (n == REC && memcmp(buf, want, REC) != 0 &&
			    w->mismatches++ < 5)
				fprintf(stderr, "bench-upgrade: worker %d: slot %d: contents differ\n",
					w->id, slot);
			break;
		case 3: case 4:				/* write */
			fill(buf, w->id, slot, w->gen[slot] + 1);
			t = now_ns();
			n = pwrite(fd, buf, REC, (off_t)slot * REC);
			record(w, t, n == REC, "pwrite");
			if (n == REC)
				w->gen[slot]++;
			if (round % 64 == 3) {
				t = now_ns();
				r = fsync(fd);
				record(w, t, r == 0, "fsync");
			}
			break;
		case 5:					/* create */
			snprintf(path, sizeof(path), "%s/f%lu", w->dir, round);
			t = now_ns();
			f = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
			record(w, t, f >= 0, "create");
			if (f >= 0) {
				t = now_ns();
				n = write(f, path, 100);
				record(w, t, n == 100, "write");
				t = now_ns();
				r = close(f);
				record(w, t, r == 0, "close");
			}
			break;
		case 6:					/* stat */
			snprintf(path, sizeof(path), "%s/f%lu", w->dir,
				 round - 1);
			t = now_ns();
			r = stat(path, &st);
			record(w, t, r == 0 && st.st_size == 100, "stat");
			break;
		case 7:					/* rename, unlink */
			snprintf(path, sizeof(path), "%s/f%lu", w->dir,
				 round - 2);
			snprintf(path2, sizeof(path2), "%s/g%lu", w->dir,
				 round - 2);
			t = now_ns();
			r = rename(path, path2);
			record(w, t, r == 0, "rename");
			t = now_ns();
			r = unlink(path2);
			record(w, t, r == 0, "unlink");
			break;
		}
	}

	/* Every slot, against the model. */
	for (slot = 0; slot < SLOTS; slot++) {
		fill(want, w->id, slot, w->gen[slot]);
		if (pread(fd, buf, REC, (off_t)slot * REC) != REC ||
		    memcmp(buf, want, REC) != 0)
			w->mismatches++;
	}
	close(fd);
	return NULL;
}

/* The number after @key in @out (0 if absent). */
static uint64_t field(const char *out, const char *key)
{
	const char *p = strstr(out, key);

	return p ? strtoull(p + strlen(key), NULL, 10) : 0;
}

/*
 * One `bento upgrade`: its downtime_us, or -1 if it failed; its prepare,
 * transfer and drain times in *@prep, *@xfer, *@drain.
 */
static long long upgrade(const char *so, uint64_t *prep, uint64_t *xfer,
			 uint64_t *drain)
{
	char *argv[] = { (char *)bento, "upgrade", (char *)mnt, (char *)so,
			 NULL };
	posix_spawn_file_actions_t fa;
	char out[4096], *p;
	size_t len = 0;
	ssize_t n;
	int fds[2], status;
	pid_t pid;

	if (pipe(fds))
		return -1;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
	posix_spawn_file_actions_adddup2(&fa, fds[1], 2);
	posix_spawn_file_actions_addclose(&fa, fds[0]);
	if (posix_spawn(&pid, bento, &fa, NULL, argv, environ)) {
		posix_spawn_file_actions_destroy(&fa);
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	posix_spawn_file_actions_destroy(&fa);
	close(fds[1]);
	while ((n = read(fds[0], out + len, sizeof(out) - 1 - len)) > 0)
		len += (size_t)n;
	out[len] = '\0';
	close(fds[0]);
	waitpid(pid, &status, 0);
	p = strstr(out, "downtime_us=");
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || !p) {
		fprintf(stderr, "bench-upgrade: upgrade to %s failed: %s", so,
			out);
		return -1;
	}
	*prep = field(out, "prepare_us=");
	*xfer = field(out, "transfer_us=");
	*drain = field(out, "drained in ");
	return strtoll(p + 12, NULL, 10);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static uint64_t pct(const uint64_t *v, size_t n, int p)
{
	size_t i;

	if (!n)
		return 0;
	i = (n * (size_t)p + 99) / 100;
	return v[i ? i - 1 : 0];
}

static bool overlaps(const struct op *o)
{
	int lo = 0, hi = nwins;

	/* The first window ending at or after the op's start. */
	while (lo < hi) {
		int mid = (lo + hi) / 2;

		if (wins[mid].end < o->start)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < nwins && wins[lo].start <= o->start + o->dur;
}

static void usage(void)
{
	fprintf(stderr, "usage: bench-upgrade [-j THREADS] [-n UPGRADES] [-i INTERVAL_MS] BENTO MOUNTPOINT A.so B.so [C.so ...]\n");
	exit(1);
}

int main(int argc, char **argv)
{
	static struct worker ws[MAX_THREADS];
	int nthreads = 4, nup = 100, interval = 50, c, i;
	uint64_t *during, *outside;
	size_t nd = 0, no = 0, total = 0, k;
	unsigned long failed = 0, mism = 0;
	struct timespec gap;

	while ((c = getopt(argc, argv, "j:n:i:")) != -1) {
		if (c == 'j')
			nthreads = atoi(optarg);
		else if (c == 'n')
			nup = atoi(optarg);
		else if (c == 'i')
			interval = atoi(optarg);
		else
			usage();
	}
	if (argc - optind < 4 || nthreads < 1 || nthreads > MAX_THREADS ||
	    nup < 1 || interval < 0)
		usage();
	bento = argv[optind];
	mnt = argv[optind + 1];
	mods = argv + optind + 2;
	nmods = argc - optind - 2;
	wins = calloc((size_t)nup, sizeof(*wins));
	downs = calloc((size_t)nup, sizeof(*downs));
	preps = calloc((size_t)nup, sizeof(*preps));
	xfers = calloc((size_t)nup, sizeof(*xfers));
	drains = calloc((size_t)nup, sizeof(*drains));
	if (!wins || !downs || !preps || !xfers || !drains)
		return 2;

	/* Workers, in their own directories. */
	for (i = 0; i < nthreads; i++) {
		ws[i].id = i;
		ws[i].rng = 0x9e3779b97f4a7c15ull * (uint64_t)(i + 1);
		snprintf(ws[i].dir, sizeof(ws[i].dir), "%s/w%d", mnt, i);
		if (mkdir(ws[i].dir, 0755) && errno != EEXIST) {
			fprintf(stderr, "bench-upgrade: %s: %s\n", ws[i].dir,
				strerror(errno));
			return 1;
		}
		pthread_create(&ws[i].tid, NULL, work, &ws[i]);
	}
	usleep(300000);

	/* The upgrades, one after another. */
	gap.tv_sec = interval / 1000;
	gap.tv_nsec = (long)(interval % 1000) * 1000000;
	for (i = 0; i < nup; i++) {
		long long d;

		wins[nwins].start = now_ns();
		d = upgrade(mods[(i + 1) % nmods], &preps[nwins],
			    &xfers[nwins], &drains[nwins]);
		wins[nwins].end = now_ns();
		if (d < 0) {
			upgrade_failed++;
		} else {
			downs[nwins] = (uint64_t)d;
			nwins++;
		}
		nanosleep(&gap, NULL);
	}
	usleep(300000);
	atomic_store(&stop, 1);
	for (i = 0; i < nthreads; i++)
		pthread_join(ws[i].tid, NULL);

	/* Split the operations, sort, report. */
	for (i = 0; i < nthreads; i++)
		total += ws[i].nops;
	during = malloc((total + 1) * sizeof(*during));
	outside = malloc((total + 1) * sizeof(*outside));
	if (!during || !outside)
		return 2;
	for (i = 0; i < nthreads; i++) {
		for (k = 0; k < ws[i].nops; k++) {
			const struct op *o = &ws[i].ops[k];

			if (overlaps(o))
				during[nd++] = o->dur / 1000;
			else
				outside[no++] = o->dur / 1000;
		}
		failed += ws[i].failed;
		mism += ws[i].mismatches;
	}
	qsort(during, nd, sizeof(*during), cmp_u64);
	qsort(outside, no, sizeof(*outside), cmp_u64);
	qsort(downs, (size_t)nwins, sizeof(*downs), cmp_u64);
	qsort(preps, (size_t)nwins, sizeof(*preps), cmp_u64);
	qsort(xfers, (size_t)nwins, sizeof(*xfers), cmp_u64);
	qsort(drains, (size_t)nwins, sizeof(*drains), cmp_u64);

	printf("upgrades=%d\nupgrade_failed=%d\n", nwins, upgrade_failed);
	printf("downtime_us_p50=%llu\ndowntime_us_p99=%llu\ndowntime_us_max=%llu\n",
	       (unsigned long long)pct(downs, (size_t)nwins, 50),
	       (unsigned long long)pct(downs, (size_t)nwins, 99),
	       (unsigned long long)(nwins ? downs[nwins - 1] : 0));
	printf("prepare_us_p50=%llu\nprepare_us_p99=%llu\ntransfer_us_p50=%llu\ntransfer_us_p99=%llu\ndrain_us_p50=%llu\ndrain_us_p99=%llu\n",
	       (unsigned long long)pct(preps, (size_t)nwins, 50),
	       (unsigned long long)pct(preps, (size_t)nwins, 99),
	       (unsigned long long)pct(xfers, (size_t)nwins, 50),
	       (unsigned long long)pct(xfers, (size_t)nwins, 99),
	       (unsigned long long)pct(drains, (size_t)nwins, 50),
	       (unsigned long long)pct(drains, (size_t)nwins, 99));
	printf("ops=%zu\nops_failed=%lu\nmismatches=%lu\n", total, failed,
	       mism);
	printf("during_ops=%zu\nduring_p50_us=%llu\nduring_p99_us=%llu\nduring_max_us=%llu\n",
	       nd, (unsigned long long)pct(during, nd, 50),
	       (unsigned long long)pct(during, nd, 99),
	       (unsigned long long)(nd ? during[nd - 1] : 0));
	printf("outside_ops=%zu\noutside_p50_us=%llu\noutside_p99_us=%llu\noutside_max_us=%llu\n",
	       no, (unsigned long long)pct(outside, no, 50),
	       (unsigned long long)pct(outside, no, 99),
	       (unsigned long long)(no ? outside[no - 1] : 0));
	return failed || mism || upgrade_failed ? 1 : 0;
}
