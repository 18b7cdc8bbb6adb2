/*
 * tests/enoki-replay/log.c - the log format: round trips, and every way a
 * log can be cut or damaged giving one clean error with a byte offset.
 *
 * A "real" log is recorded by the toy engine running testpol (common.c),
 * then written again in small chunks so that cutting it at every length
 * crosses many chunk boundaries quickly.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "common.h"
#include "log.h"

static uint64_t rng = 88172645463325252ULL;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static struct enoki_log_info test_info(uint32_t nr_cpus)
{
	struct enoki_log_info info;

	memset(&info, 0, sizeof(info));
	strcpy(info.policy, "testpol");
	strcpy(info.policy_version, "1.0");
	strcpy(info.workload, "unit test");
	info.nr_cpus = nr_cpus;
	info.source = ENOKI_LOG_SRC_TEST;
	info.seed = 42;
	info.build_id_len = 20;
	info.build_id_kind = ENOKI_LOG_BID_GNU;
	memset(info.build_id, 0xab, 20);
	return info;
}

/* A random valid event: kind, argument count and arguments. */
static unsigned int random_event(uint8_t *kind, uint64_t *args)
{
	const struct enoki_log_kind_info *k;
	unsigned int n, i;

	do {
		*kind = (uint8_t)(rnd() % ENOKI_EV_NR_KINDS);
		k = enoki_log_kind(*kind);
	} while (!k);
	n = k->nr_in + k->nr_out;
	if (*kind == ENOKI_EV_SET_CPUMASK)
		n = 2 + (unsigned int)(rnd() % 4);
	else if (*kind == ENOKI_EV_ERROR)
		n = 1 + (unsigned int)(rnd() % 5);
	for (i = 0; i < n; i++)
		args[i] = rnd() >> (rnd() % 64);
	return n;
}

/* ---- round trips ------------------------------------------------------------- */

static void roundtrip(size_t chunk, unsigned int nr)
{
	const char *path = tmp_path("rt.log");
	struct enoki_log_info info = test_info(8);
	uint8_t *kinds = malloc(nr);
	uint64_t (*args)[ENOKI_LOG_MAX_ARGS] = malloc(nr * sizeof(*args));
	unsigned int *nargs = malloc(nr * sizeof(*nargs)), i;
	struct enoki_log_writer *w;
	struct enoki_log_reader *r;
	struct enoki_log_event ev;
	char err[600];
	int ret;

	assert_non_null(kinds);
	w = enoki_log_writer_open(path, &info, &ret);
	assert_non_null(w);
	enoki_log_writer_set_chunk_size(w, chunk);
	for (i = 0; i < nr; i++) {
		nargs[i] = random_event(&kinds[i], args[i]);
		assert_int_equal(enoki_log_append(w, kinds[i], i % 8, 1000 + i,
						  nargs[i], args[i]), 0);
	}
	assert_int_equal(enoki_log_add_lost(w, 0, 5, 3), 0);
	assert_int_equal(enoki_log_writer_close(w), 0);

	r = enoki_log_reader_open(path, err, sizeof(err));
	assert_non_null(r);
	assert_string_equal(enoki_log_reader_info(r)->policy, "testpol");
	assert_string_equal(enoki_log_reader_info(r)->policy_version, "1.0");
	assert_string_equal(enoki_log_reader_info(r)->workload, "unit test");
	assert_int_equal(enoki_log_reader_info(r)->nr_cpus, 8);
	assert_int_equal(enoki_log_reader_info(r)->seed, 42);
	assert_int_equal(enoki_log_reader_info(r)->build_id_len, 20);
	assert_memory_equal(enoki_log_reader_info(r)->build_id, info.build_id,
			    20);
	for (i = 0; i < nr; i++) {
		assert_int_equal(enoki_log_next(r, &ev), 1);
		assert_int_equal(ev.seq, i);
		assert_int_equal(ev.kind, kinds[i]);
		assert_int_equal(ev.cpu, i % 8);
		assert_int_equal(ev.time, 1000 + i);
		assert_int_equal(ev.nr_args, nargs[i]);
		assert_memory_equal(ev.args, args[i], 8 * nargs[i]);
	}
	assert_int_equal(enoki_log_next(r, &ev), 1);
	assert_int_equal(ev.kind, ENOKI_EV_LOST);
	assert_int_equal(enoki_log_next(r, &ev), 0);
	assert_int_equal(enoki_log_next(r, &ev), 0);
	assert_int_equal(enoki_log_reader_lost(r), 3);
	enoki_log_reader_close(r);
	unlink(path);
	free(kinds);
	free(args);
	free(nargs);
}

static void test_roundtrip(void **state)
{
	roundtrip(64 << 10, 20000);	/* the writer's own chunks */
	roundtrip(100, 3000);		/* one or two events a chunk */
	roundtrip(1, 500);		/* one event a chunk */
	roundtrip(64 << 10, 0);		/* no events at all */
}

static void test_format_event(void **state)
{
	uint64_t a[4] = { 5, ENOKI_DSQ_GLOBAL, 20000000, 1 };
	struct enoki_log_event ev = {
		.seq = 12, .time = 3000, .cpu = 1,
		.kind = ENOKI_EV_DSQ_INSERT, .nr_args = 4, .args = a,
	};
	uint64_t t[ENOKI_LOG_MAX_ARGS];
	char buf[256];

	assert_string_equal(enoki_log_format_event(&ev, buf, sizeof(buf)),
			    "#12 t=3000 cpu 1 dsq_insert pid=5 dsq=0x8000000000000001 slice=20000000 enq_flags=0x1");
	ev.kind = ENOKI_EV_ERROR;
	ev.nr_args = (uint8_t)enoki_log_pack_text("bad dsq 7", t);
	ev.args = t;
	assert_string_equal(enoki_log_format_event(&ev, buf, sizeof(buf)),
			    "#12 t=3000 cpu 1 error \"bad dsq 7\"");
	/* cut short, still terminated */
	enoki_log_format_event(&ev, buf, 10);
	assert_int_equal(strlen(buf), 9);
}

/* ---- a real log ------------------------------------------------------------ */

static uint8_t *real;		/* a recorded log, re-chunked */
static size_t real_len;
static uint64_t real_events;
/* chunk ends (file offsets) and the events before each */
static size_t chunk_end[4096];
static uint64_t events_before[4096];
static unsigned int nr_chunks;

static int record_toy(void *arg)
{
	struct toy_opts o = {
		.nr_cpus = 4, .nr_tasks = 12, .steps = 150, .seed = 7,
		.record = arg,
	};
	static char pol[4096];

	snprintf(pol, sizeof(pol), "%s/testpol.so", test_dir());
	o.policy = pol;
	return toy_run(&o) ? 1 : 0;
}

/* Record, then copy the events into small chunks; note where chunks end. */
static int setup_real(void **state)
{
	char rec_path[4096], err[600];
	const char *path;
	struct enoki_log_reader *r;
	struct enoki_log_writer *w;
	struct enoki_log_event ev;
	struct enoki_log_info info;
	size_t pos;
	int ret;

	snprintf(rec_path, sizeof(rec_path), "%s", tmp_path("toy.log"));
	if (in_child(record_toy, rec_path) != 0)
		return -1;
	r = enoki_log_reader_open(rec_path, err, sizeof(err));
	if (!r)
		return -1;
	info = *enoki_log_reader_info(r);
	path = tmp_path("real.log");
	w = enoki_log_writer_open(path, &info, &ret);
	if (!w)
		return -1;
	enoki_log_writer_set_chunk_size(w, 300);
	while ((ret = enoki_log_next(r, &ev)) > 0)
		enoki_log_append(w, ev.kind, ev.cpu, ev.time, ev.nr_args,
				 ev.args);
	real_events = enoki_log_writer_count(w);
	enoki_log_reader_close(r);
	if (ret < 0 || enoki_log_writer_close(w) != 0)
		return -1;
	unlink(rec_path);
	real = read_file(path, &real_len);
	unlink(path);
	if (!real || real_events < 400)
		return -1;

	/* walk the chunk headers: 32 bytes, then length, count at 12 */
	pos = sizeof(struct enoki_log_file_header);
	events_before[0] = 0;
	while (pos + 32 <= real_len && nr_chunks < 4095) {
		uint32_t len, n;

		memcpy(&len, real + pos + 8, 4);
		memcpy(&n, real + pos + 12, 4);
		pos += 32 + len;
		chunk_end[nr_chunks] = pos;
		events_before[nr_chunks + 1] = events_before[nr_chunks] + n;
		nr_chunks++;
	}
	return pos == real_len ? 0 : -1;
}

static int teardown_real(void **state)
{
	free(real);
	return 0;
}

/* Events in whole chunks within the first @len bytes. */
static uint64_t whole_events(size_t len)
{
	unsigned int i;

	for (i = 0; i < nr_chunks && chunk_end[i] <= len; i++)
		;
	return events_before[i];
}

/*
 * Read @path to the end.  Returns the events read; *@ret the final
 * enoki_log_next() result (or -1 if open failed), @err the message.
 */
static uint64_t read_all(const char *path, int *ret, char *err, size_t len)
{
	struct enoki_log_reader *r;
	struct enoki_log_event ev;
	uint64_t n = 0;

	r = enoki_log_reader_open(path, err, len);
	if (!r) {
		*ret = -1;
		return 0;
	}
	while ((*ret = enoki_log_next(r, &ev)) > 0)
		n++;
	snprintf(err, len, "%s", enoki_log_reader_error(r));
	enoki_log_reader_close(r);
	return n;
}

/* "PATH: offset N: ..." with a number no larger than the file. */
static void assert_offset_error(const char *msg, const char *path,
				size_t file_len)
{
	const char *p;
	unsigned long long off;

	if (strncmp(msg, path, strlen(path)) != 0 ||
	    strncmp(msg + strlen(path), ": offset ", 9) != 0) {
		print_error("bad error message: '%s'\n", msg);
		fail();
	}
	p = msg + strlen(path) + 9;
	off = strtoull(p, NULL, 10);
	assert_true(off <= file_len);
	assert_non_null(strstr(p, ": "));
	assert_null(strchr(msg, '\n'));
}

static void test_real_reads(void **state)
{
	printf("# a log of %zu bytes, %" PRIu64 " events in %u chunks\n",
	       real_len, real_events, nr_chunks);
	const char *path = tmp_path("whole.log");
	char err[600];
	int ret;

	assert_int_equal(write_file(path, real, real_len), 0);
	assert_int_equal(read_all(path, &ret, err, sizeof(err)), real_events);
	assert_int_equal(ret, 0);
	assert_true(nr_chunks > 20);
	unlink(path);
}

/* Cut the log at every length, from the whole file down to nothing. */
static void test_every_truncation(void **state)
{
	const char *path = tmp_path("cut.log");
	char err[600];
	size_t len;
	int ret;

	assert_int_equal(write_file(path, real, real_len), 0);
	for (len = real_len - 1;; len--) {
		uint64_t n;

		assert_int_equal(truncate(path, (off_t)len), 0);
		n = read_all(path, &ret, err, sizeof(err));
		assert_true(ret < 0);
		assert_offset_error(err, path, len);
		/* at most the last chunk is lost (the end chunk counts) */
		assert_int_equal(n, whole_events(len));
		if (len >= sizeof(struct enoki_log_file_header) &&
		    !strstr(err, "truncated") && !strstr(err, "ends without")) {
			print_error("cut at %zu: '%s'\n", len, err);
			fail();
		}
		if (len == 0)
			break;
	}
	unlink(path);
}

/* Flip 1 to 3 random bytes, many times: always a clean error. */
static void test_random_corruption(void **state)
{
	const char *path = tmp_path("flip.log");
	char err[600];
	int fd, iter, ret;

	assert_int_equal(write_file(path, real, real_len), 0);
	fd = open(path, O_RDWR);
	assert_true(fd >= 0);
	for (iter = 0; iter < 3000; iter++) {
		size_t pos[3], first = real_len;
		int k, nr = 1 + (int)(rnd() % 3);
		uint64_t n;

		for (k = 0; k < nr; k++) {
			uint8_t b;

			pos[k] = rnd() % real_len;
			b = real[pos[k]] ^ (uint8_t)(1 + rnd() % 255);
			assert_int_equal(pwrite(fd, &b, 1, (off_t)pos[k]), 1);
			if (pos[k] < first)
				first = pos[k];
		}
		n = read_all(path, &ret, err, sizeof(err));
		assert_true(ret < 0);
		assert_offset_error(err, path, real_len);
		/* nothing from the damaged chunk or later was handed out */
		assert_true(n <= whole_events(first));
		for (k = 0; k < nr; k++)
			assert_int_equal(pwrite(fd, &real[pos[k]], 1,
						(off_t)pos[k]), 1);
	}
	close(fd);
	unlink(path);
}

/* ---- headers ---------------------------------------------------------------- */

static void expect_header_error(const uint8_t *buf, size_t len,
				const char *what, const char *offset)
{
	const char *path = tmp_path("hdr.log");
	char err[600], want[600];
	int ret;

	assert_int_equal(write_file(path, buf, len), 0);
	read_all(path, &ret, err, sizeof(err));
	assert_int_equal(ret, -1);
	snprintf(want, sizeof(want), "%s: offset %s: ", path, offset);
	if (strncmp(err, want, strlen(want)) || !strstr(err, what)) {
		print_error("got '%s', want '%s...%s'\n", err, want, what);
		fail();
	}
	unlink(path);
}

static void test_headers(void **state)
{
	uint8_t h[256];
	uint32_t v;

	memcpy(h, real, sizeof(h));
	expect_header_error(h, 0, "truncated header", "0");
	expect_header_error(h, 100, "truncated header", "100");
	memcpy(h, "ENOKILOX", 8);
	expect_header_error(h, sizeof(h), "not an Enoki log", "0");
	expect_header_error((const uint8_t *)"hello", 5, "not an Enoki log",
			    "0");

	/* a newer format is refused by version, before anything else */
	memcpy(h, real, sizeof(h));
	v = 2;
	memcpy(h + 8, &v, 4);
	expect_header_error(h, sizeof(h), "log format version 2, this build reads version 1",
			    "8");
	v = 0;
	memcpy(h + 8, &v, 4);
	expect_header_error(h, sizeof(h), "version 0", "8");

	/* any other header byte: the checksum */
	memcpy(h, real, sizeof(h));
	h[40] ^= 1;
	expect_header_error(h, sizeof(h), "header checksum mismatch", "252");
}

/* ---- well-checksummed nonsense -------------------------------------------- */

static void expect_read_error(const char *path, const char *what)
{
	char err[600];
	int ret;

	read_all(path, &ret, err, sizeof(err));
	assert_true(ret < 0);
	if (!strstr(err, what) || !strstr(err, ": offset ")) {
		print_error("got '%s', want '%s'\n", err, what);
		fail();
	}
}

static void test_bad_events(void **state)
{
	const char *path = tmp_path("bad.log");
	struct enoki_log_info info = test_info(4);
	struct enoki_log_writer *w;
	uint64_t a[ENOKI_LOG_MAX_ARGS] = { 0 };
	uint8_t byte = 0;
	FILE *f;
	int ret;

	w = enoki_log_writer_open(path, &info, &ret);
	enoki_log_append(w, 200, 0, 0, 0, a);
	enoki_log_writer_close(w);
	expect_read_error(path, "unknown event kind 200");

	w = enoki_log_writer_open(path, &info, &ret);
	enoki_log_append(w, ENOKI_EV_ENQUEUE, 0, 0, 2, a);
	enoki_log_append(w, ENOKI_EV_ENQUEUE, 0, 0, 3, a);
	enoki_log_writer_close(w);
	expect_read_error(path, "enqueue event with 3 arguments");

	w = enoki_log_writer_open(path, &info, &ret);
	enoki_log_append(w, ENOKI_EV_TICK, 9, 0, 1, a);
	enoki_log_writer_close(w);
	expect_read_error(path, "event on CPU 9 of a 4-CPU log");

	w = enoki_log_writer_open(path, &info, &ret);
	enoki_log_append(w, ENOKI_EV_SET_CPUMASK, 0, 0, 30, a);
	enoki_log_writer_close(w);
	expect_read_error(path, "set_cpumask event with 30 arguments");

	/* something after the end chunk */
	w = enoki_log_writer_open(path, &info, &ret);
	enoki_log_append(w, ENOKI_EV_TICK, 0, 0, 1, a);
	enoki_log_writer_close(w);
	f = fopen(path, "ab");
	fwrite(&byte, 1, 1, f);
	fclose(f);
	expect_read_error(path, "data after the end chunk");

	/* the writer refuses what it cannot encode */
	w = enoki_log_writer_open(path, &info, &ret);
	assert_int_equal(enoki_log_append(w, ENOKI_EV_TICK, 0, 0,
					  ENOKI_LOG_MAX_ARGS + 1, a), -EINVAL);
	enoki_log_writer_close(w);
	info.nr_cpus = 0;
	assert_null(enoki_log_writer_open(path, &info, &ret));
	assert_int_equal(ret, -EINVAL);
	unlink(path);
}

/* A chunk claiming a huge length is refused before any allocation. */
static void test_huge_chunk(void **state)
{
	const char *path = tmp_path("huge.log");
	uint8_t *buf = malloc(real_len);
	uint32_t len = 0x7fffffff;

	memcpy(buf, real, real_len);
	memcpy(buf + 256 + 8, &len, 4);
	assert_int_equal(write_file(path, buf, real_len), 0);
	expect_read_error(path, "chunk length 2147483647 over the limit");
	unlink(path);
	free(buf);
}

static void test_missing_file(void **state)
{
	char err[600];
	int ret;

	read_all("/nonexistent/x.log", &ret, err, sizeof(err));
	assert_int_equal(ret, -1);
	assert_string_equal(err, "/nonexistent/x.log: No such file or directory");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_format_event),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_bad_events),
		cmocka_unit_test(test_real_reads),
		cmocka_unit_test(test_headers),
		cmocka_unit_test(test_every_truncation),
		cmocka_unit_test(test_random_corruption),
		cmocka_unit_test(test_huge_chunk),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, setup_real, teardown_real);
}
