/*
 * recdev.c - the recording device and the crash-state builder checked
 * on their own (crash_recdev), with no file system: what is logged, and
 * which images each cut point and subset gives.  Also the test host's
 * image-file and program-running helpers.  Prints TAP directly.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "bento_test.h"

#define NB 16
#define BS BENTO_BLOCK_SIZE

static int tap_n, tap_failed;

static void ok(bool cond, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void ok(bool cond, const char *fmt, ...)
{
	va_list ap;

	printf("%sok %d - ", cond ? "" : "not ", ++tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	tap_failed += !cond;
}

/* Block @b of an image holds byte @v throughout. */
static bool blk_is(const uint8_t *img, unsigned int b, uint8_t v)
{
	unsigned int i;

	for (i = 0; i < BS; i++)
		if (img[(size_t)b * BS + i] != v)
			return false;
	return true;
}

static void write_blk(struct bento_blkdev *dev, uint64_t b, uint8_t v)
{
	uint8_t buf[BS];

	memset(buf, v, BS);
	if (dev->ops->write(dev, b, 1, buf))
		abort();
}

int main(void)
{
	uint8_t *base = malloc(NB * BS), *img = malloc(NB * BS);
	uint8_t two[2 * BS];
	struct bento_crash_info info;
	struct bento_rec_event ev;
	struct bento_blkdev *dev;
	struct bento_rec *rec, *rec2;
	uint64_t *bar, nbar, nblocks;
	unsigned int i, distinct = 0;
	char path[] = "/tmp/crash-recdev.XXXXXX", img_path[64], out[256];
	char *argv[4];
	void *back;
	bool seen_a = false, seen_b = false;

	printf("1..29\n");
	if (!base || !img || !mkdtemp(path))
		abort();
	for (i = 0; i < NB; i++)
		memset(base + (size_t)i * BS, 0x10 + i, BS);

	/* The log: 3 writes, a barrier, 2 writes (block 5 twice). */
	ok(bento_rec_new(base, NB, &rec) == 0, "rec over a base image");
	ok(bento_rec_open_dev(rec, &dev) == 0 && dev->nblocks == NB,
	   "device of the base's size");
	memset(two, 0xa1, BS);
	memset(two + BS, 0xa2, BS);
	dev->ops->write(dev, 1, 2, two);	/* blocks 1, 2 */
	write_blk(dev, 3, 0xa3);
	dev->ops->flush(dev);
	write_blk(dev, 5, 0xb5);
	write_blk(dev, 5, 0xc5);
	ok(bento_rec_position(rec) == 6,
	   "a two-block write logs two entries, the flush one");
	ok(bento_rec_event(rec, 3, &ev) == 0 && ev.flush &&
	   bento_rec_event(rec, 1, &ev) == 0 && !ev.flush && ev.blockno == 2 &&
	   ((const uint8_t *)ev.data)[0] == 0xa2, "events in issue order");
	ok(bento_rec_event(rec, 6, &ev) == -ERANGE, "no event past the end");
	ok(bento_rec_barriers(rec, &bar, &nbar) == 0 && nbar == 1 &&
	   bar[0] == 3, "the barrier's index");
	free(bar);
	dev->ops->read(dev, 5, 1, two);
	ok(two[0] == 0xc5 && two[BS - 1] == 0xc5, "reads see every write");

	/* Cut points and subsets. */
	bento_rec_crash_image(rec, 0, BENTO_CRASH_ALL, 0, img, &info);
	ok(!memcmp(img, base, NB * BS) && info.barrier == UINT64_MAX,
	   "cut 0 is the base");
	bento_rec_crash_image(rec, 2, BENTO_CRASH_NONE, 0, img, &info);
	ok(!memcmp(img, base, NB * BS) && info.pending == 2,
	   "no barrier yet: writes in flight may all be lost");
	bento_rec_crash_image(rec, 2, BENTO_CRASH_ALL, 0, img, &info);
	ok(blk_is(img, 1, 0xa1) && blk_is(img, 2, 0xa2) &&
	   blk_is(img, 3, 0x13), "ALL applies the writes before the cut only");
	bento_rec_crash_image(rec, 4, BENTO_CRASH_NONE, 0, img, &info);
	ok(blk_is(img, 1, 0xa1) && blk_is(img, 3, 0xa3) &&
	   blk_is(img, 5, 0x15) && info.barrier == 3 && info.pending == 0,
	   "writes before the barrier are durable");
	bento_rec_crash_image(rec, 6, BENTO_CRASH_NONE, 0, img, &info);
	ok(blk_is(img, 5, 0x15) && info.pending == 2 && info.applied == 0,
	   "NONE keeps the barrier's state");
	bento_rec_crash_image(rec, 6, BENTO_CRASH_ALL, 0, img, &info);
	ok(blk_is(img, 5, 0xc5) && info.applied == 2,
	   "ALL: the last write of a block wins");
	bento_rec_crash_image(rec, 5, BENTO_CRASH_ALL, 0, img, NULL);
	ok(blk_is(img, 5, 0xb5), "a cut between two writes of one block");
	for (i = 0; i < 64; i++) {
		bento_rec_crash_image(rec, 6, BENTO_CRASH_RANDOM, i, img,
				      &info);
		seen_a |= blk_is(img, 5, 0xb5) && info.applied == 1;
		seen_b |= blk_is(img, 5, 0x15) && info.applied == 0;
		distinct += info.applied == 2;
	}
	ok(seen_a && seen_b && distinct > 0,
	   "RANDOM subsets include the older write alone, none and both");
	bento_rec_crash_image(rec, 6, BENTO_CRASH_PREFIX, 7, img, &info);
	memcpy(base, img, NB * BS);
	bento_rec_crash_image(rec, 6, BENTO_CRASH_PREFIX, 7, img, NULL);
	ok(!memcmp(base, img, NB * BS) && info.applied <= 2,
	   "the same seed gives the same image");
	ok(bento_rec_crash_image(rec, 7, BENTO_CRASH_ALL, 0, img, NULL) ==
	   -ERANGE, "a cut past the log is refused");

	/* The rec outlives its device; checkpoint and logging. */
	bento_blkdev_close(dev);
	ok(bento_rec_position(rec) == 6, "closing the device keeps the log");
	bento_rec_checkpoint(rec);
	bento_rec_crash_image(rec, 0, BENTO_CRASH_NONE, 0, img, NULL);
	ok(bento_rec_position(rec) == 0 && blk_is(img, 5, 0xc5),
	   "checkpoint: current contents become the base");
	bento_rec_open_dev(rec, &dev);
	bento_rec_set_logging(rec, false);
	write_blk(dev, 7, 0xd7);
	dev->ops->flush(dev);
	bento_rec_contents(rec, img);
	ok(bento_rec_position(rec) == 0 && blk_is(img, 7, 0xd7),
	   "logging off: contents change, nothing logged");
	bento_blkdev_close(dev);

	/* Image files: sparse write, read back, rec from a file. */
	snprintf(img_path, sizeof(img_path), "%s/x.img", path);
	memset(img, 0, NB * BS);
	memset(img + 9 * BS, 0x99, BS);
	ok(bento_test_image_write(img_path, img, NB) == 0,
	   "image written");
	ok(bento_test_image_read(img_path, &back, &nblocks) == 0 &&
	   nblocks == NB && !memcmp(back, img, NB * BS),
	   "image read back whole, holes as zeroes");
	free(back);
	ok(bento_rec_new_file(img_path, &rec2) == 0 &&
	   bento_rec_nblocks(rec2) == NB, "rec from an image file");
	bento_rec_contents(rec2, base);
	ok(!memcmp(base, img, NB * BS), "... with the file's contents");
	bento_rec_free(rec2);
	if (truncate(img_path, 5000) < 0)
		abort();
	ok(bento_rec_new_file(img_path, &rec2) == -EINVAL,
	   "an image of partial blocks is refused");
	unlink(img_path);
	ok(bento_rec_new_file(img_path, &rec2) == -ENOENT,
	   "a missing image is -ENOENT");

	/* Running programs. */
	argv[0] = "/bin/sh";
	argv[1] = "-c";
	argv[2] = "echo hello; echo err >&2; exit 3";
	argv[3] = NULL;
	ok(bento_test_run(argv, out, sizeof(out)) == 3 &&
	   !strcmp(out, "hello\nerr\n"), "exit status and output captured");
	argv[0] = "/nonexistent/prog";
	ok(bento_test_run(argv, NULL, 0) == -ENOENT,
	   "a missing program is -ENOENT");
	ok(bento_test_tool_path("no-such-tool", out, sizeof(out)) == -ENOENT,
	   "a tool the build lacks is -ENOENT");

	bento_rec_free(rec);
	rmdir(path);
	free(base);
	free(img);
	return tap_failed ? 1 : 0;
}
