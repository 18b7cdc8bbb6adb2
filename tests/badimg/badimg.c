/*
 * badimg.c - bad xv6fs images against fsck.xv6fs and against xv6fs
 * itself through the test host (TAP).
 *
 * For every case of images.c, on a freshly populated image:
 *
 *   fsck      fsck.xv6fs (no -y) exits as the case says, names the
 *             problem (and the inode it hits), and changes nothing;
 *             fsck -y exits as the case says; where repair is possible
 *             a second fsck is clean and the repaired image mounts and
 *             walks without an error
 *   mount     xv6fs on the broken image: the mount, or the affected
 *             path, fails with -EIO, -EUCLEAN or -EINVAL; a path the
 *             corruption does not touch still reads; a walk of the whole
 *             tree ends (errors allowed), and nothing crashes
 *
 * Then a fuzz loop: single-byte corruptions of the metadata blocks of a
 * populated image (BADIMG_FUZZ_ITERS, default 300, within
 * BADIMG_FUZZ_SECONDS, default 60, halved under sanitizers), each checked
 * with fsck (exit 0/4, or 8 when the magic was hit), repaired with fsck
 * -y (exit 0/1/4), checked again (clean whenever -y corrected
 * everything), and mounted and walked through the test host.  fsck runs
 * under timeout(1) and the in-process mount under alarm(2), so a hang is
 * a failure, not a stuck test.  The seed is printed; BADIMG_SEED
 * replays a run.
 */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "images.h"

#if defined(__SANITIZE_ADDRESS__)
#define SLOW 2
#else
#define SLOW 1
#endif

static unsigned int test_no;
static unsigned int failures;
static char tmpdir[64];

static void tap(bool ok, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void tap(bool ok, const char *fmt, ...)
{
	va_list ap;

	printf("%sok %u - ", ok ? "" : "not ", ++test_no);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	if (!ok)
		failures++;
}

/* Print @out as TAP comments. */
static void diag_output(const char *out)
{
	const char *p = out;

	while (*p) {
		size_t n = strcspn(p, "\n");

		printf("#   %.*s\n", (int)n, p);
		p += n + (p[n] == '\n');
	}
}

static bool fs_error(int err)
{
	return err == -EIO || err == -EUCLEAN || err == -EINVAL;
}

static void on_alarm(int sig)
{
	static const char msg[] = "not ok - test host hung (alarm)\n";

	(void)sig;
	(void)!write(1, msg, sizeof(msg) - 1);
	_exit(1);
}

/* fsck.xv6fs [-y] @img under timeout(1); its exit status. */
static int run_fsck(const char *img, bool repair, char *out, size_t size)
{
	char prog[4096];
	char *argv[6];
	int i = 0;

	if (bento_test_tool_path("fsck.xv6fs", prog, sizeof(prog)))
		return -ENOENT;
	argv[i++] = (char *)"/usr/bin/timeout";
	argv[i++] = (char *)"30";
	argv[i++] = prog;
	if (repair)
		argv[i++] = "-y";
	argv[i++] = (char *)img;
	argv[i] = NULL;
	return bento_test_run(argv, out, size);
}

static bool sanitizer_said(const char *out)
{
	return strstr(out, "AddressSanitizer") || strstr(out, "runtime error") ||
	       strstr(out, "LeakSanitizer");
}

/*
 * Stop a walk after 1000 paths: the populated tree has 34, so only a
 * directory cycle gets there, and walking it down to the test host's
 * path-length limit costs a minute under ASan without testing more.
 */
#define WALK_CAP 1000
#define WALK_CAPPED 1

static int walk_cap(void *arg, const char *path, const struct bento_attr *a)
{
	unsigned int *n = arg;

	return ++*n >= WALK_CAP ? WALK_CAPPED : 0;
}

static int capped_walk(struct bento_test_fs *fs, uint64_t *count)
{
	unsigned int n = 0;
	int err = bento_test_walk(fs, walk_cap, &n, count);

	return err == WALK_CAPPED ? -ELOOP : err;
}

/* Mount @img (a copy in memory), walk it; 0 or the first error. */
static int mount_walk(const char *img, uint64_t *count)
{
	struct bento_test_fs *fs;
	int err, uerr;

	alarm(60 * SLOW);
	err = bento_test_mount_mem(&bento_module_xv6fs, img, NULL, &fs);
	if (err)
		goto out;
	err = capped_walk(fs, count);
	uerr = bento_test_unmount(fs);
	if (!err)
		err = uerr;
out:
	alarm(0);
	return err;
}

/* ---- one case, fsck side ------------------------------------------------- */

static void case_fsck(const struct badimg_case *c, const void *base,
		      uint64_t nblocks, const char *img)
{
	static char out[1 << 16];
	void *before = NULL, *after = NULL;
	uint64_t nb1 = 0, nb2 = 0, count = 0;
	uint32_t ino = 0;
	char name1[48], name2[48];
	bool ok = true, named = true;
	int rc, rc_y = -1, rc2 = -1, err = 0;

	bento_test_image_write(img, base, nblocks);
	if (c->target)
		ino = badimg_inode_of(img, c->target);
	if (c->corrupt(img) || bento_test_image_read(img, &before, &nb1)) {
		tap(false, "%s: corrupting the image", c->name);
		return;
	}
	rc = run_fsck(img, false, out, sizeof(out));
	snprintf(name1, sizeof(name1), "inode %u", ino);
	snprintf(name2, sizeof(name2), "directory %u", ino);
	if (ino)
		named = strstr(out, name1) || strstr(out, name2);
	ok = rc == c->n_exit && strstr(out, c->fsck_says) && named &&
	     !sanitizer_said(out);
	if (bento_test_image_read(img, &after, &nb2) || nb1 != nb2 ||
	    memcmp(before, after, nb1 * BENTO_BLOCK_SIZE)) {
		printf("# fsck without -y changed the image\n");
		ok = false;
	}
	if (!ok) {
		printf("# fsck exit %d (want %d), want '%s'%s%s in:\n", rc,
		       c->n_exit, c->fsck_says, ino ? " naming " : "",
		       ino ? name1 : "");
		diag_output(out);
	}

	if (ok) {
		rc_y = run_fsck(img, true, out, sizeof(out));
		if (rc_y != c->y_exit || sanitizer_said(out)) {
			printf("# fsck -y exit %d (want %d):\n", rc_y, c->y_exit);
			diag_output(out);
			ok = false;
		}
	}
	if (ok && c->repairable) {
		rc2 = run_fsck(img, false, out, sizeof(out));
		if (rc2 != 0 || !strstr(out, ": clean")) {
			printf("# second fsck after -y exit %d:\n", rc2);
			diag_output(out);
			ok = false;
		}
		err = mount_walk(img, &count);
		if (err) {
			printf("# repaired image: mount+walk: %s\n",
			       strerror(-err));
			ok = false;
		}
	}
	tap(ok, "%s (%s): fsck exits %d naming it, -y exits %d%s", c->name,
	    c->what, c->n_exit, c->y_exit,
	    c->repairable ? ", then clean and walkable" : "");
	free(before);
	free(after);
}

/* ---- one case, file-system side ---------------------------------------- */

static int use_path(struct bento_test_fs *fs, const char *path)
{
	struct bento_test_dirent *ents;
	struct bento_attr attr;
	size_t n, len;
	void *data;
	int err;

	err = bento_test_stat(fs, path, &attr);
	if (err)
		return err;
	if (S_ISDIR(attr.mode)) {
		err = bento_test_listdir(fs, path, &ents, &n);
		if (!err)
			free(ents);
		return err;
	}
	err = bento_test_read_file(fs, path, &data, &len);
	if (!err)
		free(data);
	return err;
}

static void case_mount(const struct badimg_case *c, const void *base,
		       uint64_t nblocks, const char *img)
{
	struct bento_test_fs *fs = NULL;
	bool ok = true;
	uint64_t count = 0;
	int err;

	bento_test_image_write(img, base, nblocks);
	if (c->corrupt(img)) {
		tap(false, "%s: corrupting the image", c->name);
		return;
	}
	alarm(60 * SLOW);
	err = bento_test_mount_mem(&bento_module_xv6fs, img, NULL, &fs);
	if (!c->bad_path) {
		ok = fs_error(err);
		if (!ok)
			printf("# mount: %s (want EIO, EUCLEAN or EINVAL)\n",
			       err ? strerror(-err) : "succeeded");
		if (!err)
			bento_test_unmount(fs);
		alarm(0);
		tap(ok, "%s: mount fails with %s", c->name,
		    err ? strerror(-err) : "success");
		return;
	}
	if (err) {
		alarm(0);
		tap(false, "%s: mount failed: %s", c->name, strerror(-err));
		return;
	}
	if (*c->bad_path) {
		err = use_path(fs, c->bad_path);
		if (!fs_error(err)) {
			printf("# /%s: %s (want EIO, EUCLEAN or EINVAL)\n",
			       c->bad_path, err ? strerror(-err) : "succeeded");
			ok = false;
		}
	}
	if (c->good_path) {
		err = use_path(fs, c->good_path);
		if (err) {
			printf("# /%s: %s (should stay usable)\n", c->good_path,
			       strerror(-err));
			ok = false;
		}
	}
	err = capped_walk(fs, &count);
	printf("# %s: walk of the broken tree: %s, %llu paths\n", c->name,
	       err ? strerror(-err) : "ok", (unsigned long long)count);
	bento_test_unmount(fs);
	alarm(0);
	if (*c->bad_path)
		tap(ok, "%s: /%s fails with EIO/EUCLEAN/EINVAL, /%s still reads, no crash",
		    c->name, c->bad_path, c->good_path);
	else
		tap(ok, "%s: mounts, /%s reads, a walk ends, no crash",
		    c->name, c->good_path);
}

/* ---- fuzz ---------------------------------------------------------------- */

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void fuzz(const void *base, uint64_t nblocks, const char *img,
		 const char *base_path)
{
	static char out[1 << 16];
	uint64_t *blocks, seed, s, count;
	unsigned int iters = 300, i, bad_n = 0, bad_y = 0, bad_again = 0;
	unsigned int fs_errs = 0, repaired_errs = 0, done = 0, walks = 0;
	double secs = 60, t0 = bento_test_now_ms();
	uint8_t *buf;
	size_t n;

	if (getenv("BADIMG_FUZZ_ITERS"))
		iters = (unsigned int)atoi(getenv("BADIMG_FUZZ_ITERS"));
	if (getenv("BADIMG_FUZZ_SECONDS"))
		secs = atof(getenv("BADIMG_FUZZ_SECONDS"));
	secs /= SLOW;
	seed = getenv("BADIMG_SEED") ? strtoull(getenv("BADIMG_SEED"), NULL, 0) :
				       (uint64_t)time(NULL);
	s = seed | 1;
	printf("# fuzz: seed %llu (BADIMG_SEED to replay), up to %u corruptions in %.0f s\n",
	       (unsigned long long)seed, iters, secs);
	if (badimg_metadata_blocks(base_path, &blocks, &n) || n == 0) {
		tap(false, "fuzz: listing the metadata blocks");
		return;
	}
	buf = malloc(nblocks * BENTO_BLOCK_SIZE);
	if (!buf)
		abort();

	for (i = 0; i < iters && bento_test_now_ms() - t0 < secs * 1000;
	     i++) {
		uint64_t b = blocks[rnd(&s) % n];
		uint32_t off = (uint32_t)(rnd(&s) % BENTO_BLOCK_SIZE);
		uint8_t val = (uint8_t)rnd(&s);
		bool magic = b == 0 && off < 4;
		int rc, rc_y, rc2, err;

		memcpy(buf, base, nblocks * BENTO_BLOCK_SIZE);
		if (buf[b * BENTO_BLOCK_SIZE + off] == val)
			val ^= 0xff;
		buf[b * BENTO_BLOCK_SIZE + off] = val;
		bento_test_image_write(img, buf, nblocks);
		done++;

		rc = run_fsck(img, false, out, sizeof(out));
		if (!(rc == 0 || rc == 4 || (magic && rc == 8)) ||
		    sanitizer_said(out)) {
			if (bad_n++ < 3) {
				printf("# block %llu byte %u = 0x%02x: fsck exit %d\n",
				       (unsigned long long)b, off, val, rc);
				diag_output(out);
			}
			continue;
		}

		/* The broken image through the file system: no crash. */
		err = mount_walk(img, &count);
		fs_errs += err != 0;
		walks++;

		rc_y = run_fsck(img, true, out, sizeof(out));
		if (!(rc_y == 0 || rc_y == 1 || rc_y == 4 ||
		      (magic && rc_y == 8)) || sanitizer_said(out)) {
			if (bad_y++ < 3) {
				printf("# block %llu byte %u = 0x%02x: fsck -y exit %d\n",
				       (unsigned long long)b, off, val, rc_y);
				diag_output(out);
			}
			continue;
		}
		if (rc_y > 1)
			continue;
		rc2 = run_fsck(img, false, out, sizeof(out));
		if (rc2 != 0) {
			if (bad_again++ < 3) {
				printf("# block %llu byte %u = 0x%02x: fsck after -y exit %d\n",
				       (unsigned long long)b, off, val, rc2);
				diag_output(out);
			}
			continue;
		}
		err = mount_walk(img, &count);
		if (err && repaired_errs++ < 3)
			printf("# block %llu byte %u = 0x%02x: repaired image: mount+walk: %s\n",
			       (unsigned long long)b, off, val, strerror(-err));
	}
	printf("# fuzz: %u corruptions in %.1f s; %u broken images gave the file system an error, %u repaired images did\n",
	       done, (bento_test_now_ms() - t0) / 1000, fs_errs,
	       repaired_errs);
	tap(bad_n == 0 && done >= 20,
	    "fuzz: fsck exits 0/4 (8 for the magic) on %u corruptions, never crashes or hangs",
	    done);
	tap(bad_y == 0, "fuzz: fsck -y exits 0/1/4 and never crashes");
	tap(bad_again == 0, "fuzz: after fsck -y corrected everything, a second fsck is clean");
	tap(walks > 0, "fuzz: %u broken images mounted and walked through the test host without a crash",
	    walks);
	free(buf);
	free(blocks);
}

int main(void)
{
	char base_path[128], img[128];
	uint64_t nblocks;
	void *base;
	unsigned int i;

	setvbuf(stdout, NULL, _IOLBF, 0);
	/* Sanitizer reports of the fsck children must not pass as exit 1. */
	setenv("ASAN_OPTIONS", "exitcode=99:detect_leaks=1", 1);
	setenv("UBSAN_OPTIONS", "halt_on_error=1:exitcode=99", 1);
	signal(SIGALRM, on_alarm);
	bento_log_set_level(BENTO_LOG_ERR);

	printf("1..%u\n", 2 * badimg_ncases + 4);
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/badimg.XXXXXX");
	if (!mkdtemp(tmpdir)) {
		printf("Bail out! mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	snprintf(base_path, sizeof(base_path), "%s/base.img", tmpdir);
	snprintf(img, sizeof(img), "%s/bad.img", tmpdir);
	if (badimg_populate(base_path) ||
	    bento_test_image_read(base_path, &base, &nblocks)) {
		printf("Bail out! cannot make the populated image (mkfs.xv6fs and xv6fs built?)\n");
		return 1;
	}

	for (i = 0; i < badimg_ncases; i++) {
		case_fsck(&badimg_cases[i], base, nblocks, img);
		case_mount(&badimg_cases[i], base, nblocks, img);
	}
	bento_log_set_level(0);	/* the fuzz loop's errors are expected */
	fuzz(base, nblocks, img, base_path);

	free(base);
	unlink(img);
	unlink(base_path);
	rmdir(tmpdir);
	return failures ? 1 : 0;
}
