/*
 * model.c - a file workload checked against a model of the expected
 * contents, run while a mount is upgraded under it (tests/model.t).
 *
 *   model [-j THREADS] [-t SECONDS] [-s SEED] [-o MODELFILE] DIR
 *   model --verify MODELFILE DIR
 *
 * THREADS workers (default 4) each own a directory DIR/tN and the files
 * named tN.K in it and in the shared directory DIR/shared, and keep an
 * in-memory model of them (name -> contents).  For SECONDS (default 10)
 * each picks random operations: create with contents, pwrite at a random
 * offset (inside, or past the end leaving a hole), truncate down or up,
 * rename within its directory, to the shared directory under a fresh
 * name, or over another of its files, unlink, read-and-compare, fsync.
 * Every read is compared byte for byte against the model, and every
 * size with fstat.  A thread's choices come from SEED and its number
 * only, so a run is reproducible per thread (the threads interleave as
 * the scheduler likes).  At the end every file is read and compared, and
 * each directory listed: no file missing, none extra.
 *
 * Any system call failure or mismatch is counted and described (the
 * first 20) on stderr with the op, path, offset and seed.  The last line
 * on stdout is
 *
 *   model: seed=S threads=T ops=N failed=F mismatches=M files=K bytes=B
 *
 * -o writes the model (directories, then each file's path, size and
 * contents) to MODELFILE; --verify reads one back and checks DIR against
 * it, e.g. after a remount.  Exit 0 only if nothing failed.  Limits: at
 * most 24 files per thread of at most 192 KiB each; no hard links,
 * directories inside the owned ones, or files held open across ops.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAXFILES 24
#define MAXSIZE (192 * 1024)
#define MAXTHREADS 64
#define PATHLEN 512

struct mfile {
	char name[64];		/* path relative to DIR: "t0/t0.7" */
	unsigned char *data;	/* MAXSIZE bytes, first size meaningful */
	size_t size;
};

struct worker {
	int id;
	uint64_t rng;
	unsigned long next_name;
	unsigned long ops;
	struct mfile files[MAXFILES];
	int nfiles;
	unsigned char *buf;	/* MAXSIZE + 1 bytes, for reads */
	pthread_t thread;
};

static const char *root;
static unsigned long long seed;
static double seconds = 10;
static struct timespec t_end;
static atomic_ulong n_failed, n_mismatch;
static int n_files;
static unsigned long long n_bytes;

static uint64_t rnd(struct worker *w)
{
	uint64_t x = w->rng;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	w->rng = x;
	return x;
}

static size_t rnd_below(struct worker *w, size_t n)
{
	return n ? rnd(w) % n : 0;
}

static void report(int bad_data, const char *op, const char *path,
		   long long off, size_t len, int id, const char *why)
{
	unsigned long n;

	if (bad_data)
		n = atomic_fetch_add(&n_mismatch, 1);
	else
		n = atomic_fetch_add(&n_failed, 1);
	if (n < 20)
		fprintf(stderr, "model: %s %s %s off=%lld len=%zu thread=%d seed=%llu: %s\n",
			bad_data ? "MISMATCH" : "FAILED", op, path, off, len,
			id, seed, why);
}

static void full_path(char *out, const char *name)
{
	snprintf(out, PATHLEN, "%s/%s", root, name);
}

/* check_file: read @f's path whole and compare with the model. */
static void check_file(int id, const struct mfile *f, unsigned char *buf,
		       const char *op)
{
	char p[PATHLEN];
	struct stat st;
	size_t got = 0;
	ssize_t r;
	int fd;

	full_path(p, f->name);
	fd = open(p, O_RDONLY);
	if (fd < 0) {
		report(0, op, p, 0, 0, id, strerror(errno));
		return;
	}
	if (fstat(fd, &st) < 0)
		report(0, op, p, 0, 0, id, strerror(errno));
	else if ((size_t)st.st_size != f->size)
		report(1, op, p, st.st_size, f->size, id, "fstat size differs");
	while (got <= MAXSIZE) {
		r = pread(fd, buf + got, MAXSIZE + 1 - got, got);
		if (r < 0) {
			report(0, op, p, got, 0, id, strerror(errno));
			goto close;
		}
		if (!r)
			break;
		got += r;
	}
	if (got != f->size)
		report(1, op, p, got, f->size, id, "read length differs");
	else if (memcmp(buf, f->data, got)) {
		size_t i = 0;

		while (buf[i] == f->data[i])
			i++;
		report(1, op, p, i, got, id, "contents differ");
	}
close:
	if (close(fd) < 0)
		report(0, op, p, 0, 0, id, strerror(errno));
}

static void fill(struct worker *w, unsigned char *d, size_t n)
{
	uint64_t x = rnd(w) | 1;
	size_t i;

	for (i = 0; i < n; i++) {
		if (!(i & 7)) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
		}
		d[i] = x >> ((i & 7) * 8);
	}
}

static void op_create(struct worker *w)
{
	struct mfile *f = &w->files[w->nfiles];
	char p[PATHLEN];
	size_t len = rnd_below(w, 4) ? rnd_below(w, 16384) :
				       rnd_below(w, 65536);
	int fd;

	snprintf(f->name, sizeof(f->name), "t%d/t%d.%lu", w->id, w->id,
		 w->next_name++);
	full_path(p, f->name);
	fill(w, f->data, len);
	fd = open(p, O_CREAT | O_EXCL | O_WRONLY, 0644);
	if (fd < 0) {
		report(0, "create", p, 0, len, w->id, strerror(errno));
		return;
	}
	w->nfiles++;
	f->size = 0;
	if (len && pwrite(fd, f->data, len, 0) != (ssize_t)len)
		report(0, "create-write", p, 0, len, w->id, strerror(errno));
	else
		f->size = len;
	if (close(fd) < 0)
		report(0, "create-close", p, 0, len, w->id, strerror(errno));
}

static void op_write(struct worker *w, struct mfile *f)
{
	size_t room = f->size + 16384 < MAXSIZE ? f->size + 16384 : MAXSIZE;
	size_t off = rnd_below(w, room);
	size_t len = 1 + rnd_below(w, 32768);
	char p[PATHLEN];
	int fd;

	if (off + len > MAXSIZE)
		len = MAXSIZE - off;
	full_path(p, f->name);
	fd = open(p, O_RDWR);
	if (fd < 0) {
		report(0, "write-open", p, off, len, w->id, strerror(errno));
		return;
	}
	if (off > f->size)
		memset(f->data + f->size, 0, off - f->size);
	fill(w, f->data + off, len);
	if (pwrite(fd, f->data + off, len, off) != (ssize_t)len)
		report(0, "pwrite", p, off, len, w->id, strerror(errno));
	if (off + len > f->size)
		f->size = off + len;
	/* Read back the range at once, through the same descriptor. */
	if (pread(fd, w->buf, len, off) != (ssize_t)len)
		report(0, "pread", p, off, len, w->id, strerror(errno));
	else if (memcmp(w->buf, f->data + off, len))
		report(1, "pread", p, off, len, w->id, "just written range differs");
	if (close(fd) < 0)
		report(0, "write-close", p, off, len, w->id, strerror(errno));
}

static void op_truncate(struct worker *w, struct mfile *f)
{
	size_t n = rnd_below(w, 2) ? rnd_below(w, f->size + 1) :
				     rnd_below(w, MAXSIZE + 1);
	char p[PATHLEN];

	full_path(p, f->name);
	if (truncate(p, n) < 0) {
		report(0, "truncate", p, n, 0, w->id, strerror(errno));
		return;
	}
	if (n > f->size)
		memset(f->data + f->size, 0, n - f->size);
	f->size = n;
}

static void op_rename(struct worker *w, int i)
{
	struct mfile *f = &w->files[i], tmp;
	char from[PATHLEN], to[PATHLEN], name[64];
	int how = rnd_below(w, 3), j = -1;

	if (how == 2 && w->nfiles > 1) {
		j = rnd_below(w, w->nfiles);
		if (j == i)
			j = -1;
	}
	if (j >= 0)
		snprintf(name, sizeof(name), "%s", w->files[j].name);
	else if (how == 1)
		snprintf(name, sizeof(name), "shared/t%d.%lu", w->id,
			 w->next_name++);
	else
		snprintf(name, sizeof(name), "t%d/t%d.%lu", w->id, w->id,
			 w->next_name++);
	full_path(from, f->name);
	full_path(to, name);
	if (rename(from, to) < 0) {
		report(0, "rename", from, 0, 0, w->id, strerror(errno));
		return;
	}
	snprintf(f->name, sizeof(f->name), "%s", name);
	if (j < 0)
		return;
	/* @f replaced files[j]: drop j, keeping the buffers. */
	tmp = w->files[j];
	w->files[j] = w->files[w->nfiles - 1];
	w->files[w->nfiles - 1] = tmp;
	w->nfiles--;
}

static void op_unlink(struct worker *w, int i)
{
	struct mfile tmp;
	char p[PATHLEN];

	full_path(p, w->files[i].name);
	if (unlink(p) < 0) {
		report(0, "unlink", p, 0, 0, w->id, strerror(errno));
		return;
	}
	tmp = w->files[i];
	w->files[i] = w->files[w->nfiles - 1];
	w->files[w->nfiles - 1] = tmp;
	w->nfiles--;
}

static void op_fsync(struct worker *w, struct mfile *f)
{
	char p[PATHLEN];
	int fd;

	full_path(p, f->name);
	fd = open(p, O_RDWR);
	if (fd < 0) {
		report(0, "fsync-open", p, 0, 0, w->id, strerror(errno));
		return;
	}
	if (fsync(fd) < 0)
		report(0, "fsync", p, 0, 0, w->id, strerror(errno));
	close(fd);
}

static int past_end(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > t_end.tv_sec ||
	       (now.tv_sec == t_end.tv_sec && now.tv_nsec >= t_end.tv_nsec);
}

static void *worker_run(void *arg)
{
	struct worker *w = arg;
	int k, i;

	while (!past_end()) {
		k = rnd_below(w, 100);
		w->ops++;
		if (!w->nfiles || (k < 12 && w->nfiles < MAXFILES)) {
			op_create(w);
			continue;
		}
		i = rnd_below(w, w->nfiles);
		if (k < 40)
			op_write(w, &w->files[i]);
		else if (k < 50)
			op_truncate(w, &w->files[i]);
		else if (k < 60)
			op_rename(w, i);
		else if (k < 67)
			op_unlink(w, i);
		else if (k < 95)
			check_file(w->id, &w->files[i], w->buf, "read");
		else
			op_fsync(w, &w->files[i]);
	}
	return NULL;
}

/* check_dir: the names in @dir (relative) are exactly those in @names. */
static void check_dir(const char *dir, char **names, int n)
{
	char p[PATHLEN], *seen;
	struct dirent *de;
	DIR *d;
	int i, found;

	full_path(p, dir);
	d = opendir(p);
	if (!d) {
		report(0, "opendir", p, 0, 0, -1, strerror(errno));
		return;
	}
	seen = calloc(n ? n : 1, 1);
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		found = 0;
		for (i = 0; i < n; i++) {
			const char *s = strrchr(names[i], '/');

			if (!strncmp(names[i], dir, s - names[i]) &&
			    strlen(dir) == (size_t)(s - names[i]) &&
			    !strcmp(s + 1, de->d_name)) {
				seen[i] = found = 1;
				break;
			}
		}
		if (!found)
			report(1, "readdir", p, 0, 0, -1, de->d_name);
	}
	closedir(d);
	for (i = 0; i < n; i++) {
		const char *s = strrchr(names[i], '/');

		if (!seen[i] && strlen(dir) == (size_t)(s - names[i]) &&
		    !strncmp(names[i], dir, s - names[i]))
			report(1, "readdir", names[i], 0, 0, -1, "missing");
	}
	free(seen);
}

/* The final pass, and the model file. */
static int finish(struct worker *ws, int nw, const char *out)
{
	char *names[MAXTHREADS * MAXFILES], dir[64];
	unsigned long long bytes = 0;
	int n = 0, t, i;
	FILE *fp = NULL;

	if (out) {
		fp = fopen(out, "w");
		if (!fp) {
			fprintf(stderr, "model: %s: %s\n", out, strerror(errno));
			return -1;
		}
		fprintf(fp, "bento-model 1 threads %d seed %llu\n", nw, seed);
	}
	for (t = 0; t < nw; t++)
		for (i = 0; i < ws[t].nfiles; i++) {
			struct mfile *f = &ws[t].files[i];

			check_file(t, f, ws[t].buf, "verify");
			names[n++] = f->name;
			bytes += f->size;
			if (fp) {
				fprintf(fp, "F %s %zu\n", f->name, f->size);
				fwrite(f->data, 1, f->size, fp);
				fputc('\n', fp);
			}
		}
	for (t = 0; t < nw; t++) {
		snprintf(dir, sizeof(dir), "t%d", t);
		check_dir(dir, names, n);
	}
	check_dir("shared", names, n);
	if (fp && fclose(fp)) {
		fprintf(stderr, "model: %s: %s\n", out, strerror(errno));
		return -1;
	}
	n_files = n;
	n_bytes = bytes;
	return 0;
}

static int alloc_workers(struct worker *ws, int nw)
{
	int t, i;

	for (t = 0; t < nw; t++) {
		ws[t].id = t;
		ws[t].rng = seed * 0x9e3779b97f4a7c15ull + t * 7919 + 1;
		ws[t].buf = malloc(MAXSIZE + 1);
		if (!ws[t].buf)
			return -1;
		for (i = 0; i < MAXFILES; i++) {
			ws[t].files[i].data = malloc(MAXSIZE);
			if (!ws[t].files[i].data)
				return -1;
		}
	}
	return 0;
}

static void free_workers(struct worker *ws, int nw)
{
	int t, i;

	for (t = 0; t < nw; t++) {
		free(ws[t].buf);
		for (i = 0; i < MAXFILES; i++)
			free(ws[t].files[i].data);
	}
}

/* verify: load a model written by -o into workers and check DIR. */
static int verify(const char *in, struct worker *ws, int *nw)
{
	char line[256], name[64];
	FILE *fp = fopen(in, "r");
	size_t size;
	int t, k;

	if (!fp) {
		fprintf(stderr, "model: %s: %s\n", in, strerror(errno));
		return -1;
	}
	if (!fgets(line, sizeof(line), fp) ||
	    sscanf(line, "bento-model 1 threads %d seed %llu", nw, &seed) != 2 ||
	    *nw < 1 || *nw > MAXTHREADS || alloc_workers(ws, *nw))
		goto bad;
	while (fgets(line, sizeof(line), fp)) {
		if (sscanf(line, "F %63s %zu", name, &size) != 2 ||
		    size > MAXSIZE ||
		    (sscanf(name, "t%d/", &t) != 1 &&
		     sscanf(name, "shared/t%d.", &t) != 1) ||
		    t < 0 || t >= *nw || ws[t].nfiles >= MAXFILES)
			goto bad;
		k = ws[t].nfiles++;
		snprintf(ws[t].files[k].name, 64, "%s", name);
		ws[t].files[k].size = size;
		if (fread(ws[t].files[k].data, 1, size, fp) != size ||
		    fgetc(fp) != '\n')
			goto bad;
	}
	fclose(fp);
	return 0;
bad:
	fprintf(stderr, "model: %s: not a model file written by model -o\n", in);
	fclose(fp);
	return -1;
}

static int usage(void)
{
	fprintf(stderr, "usage: model [-j THREADS] [-t SECONDS] [-s SEED] [-o MODELFILE] DIR\n"
			"       model --verify MODELFILE DIR\n");
	return 2;
}

int main(int argc, char **argv)
{
	static struct worker ws[MAXTHREADS];
	const char *out = NULL, *in = NULL;
	unsigned long long ops = 0;
	char p[PATHLEN];
	int nw = 4, opt, t, rc = 1;

	if (argc > 1 && !strcmp(argv[1], "--verify")) {
		if (argc != 4)
			return usage();
		in = argv[2];
		root = argv[3];
	} else {
		seed = (unsigned long long)time(NULL) ^ getpid();
		while ((opt = getopt(argc, argv, "j:t:s:o:")) != -1) {
			switch (opt) {
			case 'j': nw = atoi(optarg); break;
			case 't': seconds = atof(optarg); break;
			case 's': seed = strtoull(optarg, NULL, 0); break;
			case 'o': out = optarg; break;
			default: return usage();
			}
		}
		if (optind != argc - 1 || nw < 1 || nw > MAXTHREADS ||
		    seconds <= 0)
			return usage();
		root = argv[optind];
	}

	if (in) {
		if (verify(in, ws, &nw))
			goto out;
		printf("model: verifying %s against %s (seed=%llu threads=%d)\n",
		       root, in, seed, nw);
		finish(ws, nw, NULL);
		goto report;
	}

	printf("model: seed=%llu threads=%d seconds=%g dir=%s\n", seed, nw,
	       seconds, root);
	fflush(stdout);
	if (alloc_workers(ws, nw)) {
		fprintf(stderr, "model: out of memory\n");
		goto out;
	}
	for (t = 0; t <= nw; t++) {
		if (t < nw)
			snprintf(p, sizeof(p), "%s/t%d", root, t);
		else
			snprintf(p, sizeof(p), "%s/shared", root);
		if (mkdir(p, 0755) < 0) {
			fprintf(stderr, "model: mkdir %s: %s\n", p, strerror(errno));
			goto out;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t_end);
	t_end.tv_sec += (time_t)seconds;
	t_end.tv_nsec += (long)((seconds - (time_t)seconds) * 1e9);
	if (t_end.tv_nsec >= 1000000000) {
		t_end.tv_sec++;
		t_end.tv_nsec -= 1000000000;
	}
	for (t = 0; t < nw; t++)
		if (pthread_create(&ws[t].thread, NULL, worker_run, &ws[t])) {
			fprintf(stderr, "model: cannot start thread %d\n", t);
			nw = t;
			atomic_fetch_add(&n_failed, 1);
			break;
		}
	for (t = 0; t < nw; t++) {
		pthread_join(ws[t].thread, NULL);
		ops += ws[t].ops;
	}
	if (finish(ws, nw, out))
		atomic_fetch_add(&n_failed, 1);
report:
	printf("model: seed=%llu threads=%d ops=%llu failed=%lu mismatches=%lu files=%d bytes=%llu\n",
	       seed, nw, ops, atomic_load(&n_failed), atomic_load(&n_mismatch),
	       n_files, n_bytes);
	rc = atomic_load(&n_failed) || atomic_load(&n_mismatch);
out:
	free_workers(ws, nw);
	return rc;
}
