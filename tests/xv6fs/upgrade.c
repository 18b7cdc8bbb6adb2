/*
 * upgrade.c - live upgrade of xv6fs through the test host: prepare on
 * the old build, transfer into a second copy of the ops (the same linked
 * code, as the test host has only one build), abandon of the old state.
 *
 * Checked: data written before the upgrade reads back after it, open
 * handles keep working, the lookup counts the host holds are the same
 * in the new state as in the old, ops change the device only through the
 * new state (abandon writes nothing), a transfer that fails leaves the
 * old state serving, and nothing leaks (LeakSanitizer in the SAN build
 * catches an abandon that frees too little; ten upgrades in a row).
 *
 * The running transaction is handed over, not committed: an upgrade in
 * the middle of a transaction that holds allocations, frees, an orphan
 * and dirty directory blocks writes nothing to the device; the new
 * build holds the same transaction and its pending frees, commits it
 * later, and the image is then fsck clean with the right contents; a
 * crash before that commit leaves the pre-transaction image, fsck clean.
 */
#include <fcntl.h>

#include "common.h"
#include "bento_host.h"
#include "../../fs/xv6fs/xv6fs.h"

/* The sum of lookup counts in the state @fs_info, and the inodes that
 * have any. */
static uint64_t nlookup_sum(void *fs_info, uint64_t *inodes)
{
	struct xv6_fs *fs = fs_info;
	struct xv6_inode *ip;
	uint64_t sum = 0;
	uint32_t i;

	*inodes = 0;
	bento_mutex_lock(&fs->icache_lock);
	for (i = 0; i < fs->ihash_size; i++)
		for (ip = fs->ihash[i]; ip; ip = ip->hnext) {
			sum += ip->nlookup;
			*inodes += ip->nlookup != 0;
		}
	bento_mutex_unlock(&fs->icache_lock);
	return sum;
}

/* upgrade - prepare, transfer into @to, abandon the old state, as the
 * FUSE host does (no op in flight). */
static void upgrade(struct bento_test_fs *fs, const struct bento_module *to)
{
	struct bento_state *st = bento_state_new();
	uint64_t before, after, ib, ia;
	void *old = fs->sb->fs_info;

	assert_non_null(st);
	before = nlookup_sum(old, &ib);
	assert_ok(fs->ops->prepare(fs->sb, st));
	assert_ok(to->ops->transfer(fs->sb, st));
	assert_ptr_not_equal(fs->sb->fs_info, old);
	after = nlookup_sum(fs->sb->fs_info, &ia);
	assert_int_equal(before, after);
	assert_int_equal(ib, ia);
	assert_int_equal(after, (uint64_t)fs->refs);
	fs->ops->abandon(fs->sb, old);
	bento_instance_set_module(fs->inst, to);
	bento_state_free(st);
}

/* Data, open handles and lookup counts survive ten upgrades. */
static void test_upgrade_keeps_everything(void **state)
{
	struct xt *t = xt_new(4096, 256);
	struct bento_test_file f, g;
	struct bento_attr attr;
	char buf[8192], got[8192];
	void *data;
	size_t len;
	int i;

	assert_ok(bento_test_mkdir(t->fs, "d", 0755));
	xt_fill(buf, sizeof(buf), 7, 0);
	assert_ok(bento_test_write_file(t->fs, "d/a", buf, sizeof(buf)));
	assert_ok(bento_test_open(t->fs, "d/open", O_CREAT | O_RDWR, 0644,
				  &f));
	assert_int_equal(bento_test_fwrite(t->fs, &f, buf, 4096, 0), 4096);
	/* An unlinked file held open: an orphan across the upgrade. */
	assert_ok(bento_test_open(t->fs, "d/gone", O_CREAT | O_RDWR, 0644,
				  &g));
	assert_int_equal(bento_test_fwrite(t->fs, &g, buf, 100, 0), 100);
	assert_ok(bento_test_unlink(t->fs, "d/gone"));

	for (i = 0; i < 10; i++) {
		upgrade(t->fs, &bento_module_xv6fs);
		/* The handles still work, written and read. */
		assert_int_equal(bento_test_fwrite(t->fs, &f, buf + 4096,
						   100, 4096 + 100 * i), 100);
		assert_int_equal(bento_test_fread(t->fs, &g, got, 100, 0),
				 100);
		assert_memory_equal(got, buf, 100);
	}
	assert_ok(bento_test_read_file(t->fs, "d/a", &data, &len));
	assert_int_equal(len, sizeof(buf));
	assert_memory_equal(data, buf, len);
	free(data);
	assert_int_equal(bento_test_fread(t->fs, &f, got, 4096, 0), 4096);
	assert_memory_equal(got, buf, 4096);
	assert_int_equal(xt_size(t, "d/open"), 4096 + 100 * 10);
	assert_ok(bento_test_close(t->fs, &f));
	assert_ok(bento_test_close(t->fs, &g));

	/* The orphan is freed by the new state; all survives a remount. */
	xt_remount(t);
	assert_int_equal(xt_size(t, "d/open"), 4096 + 100 * 10);
	assert_err(bento_test_stat(t->fs, "d/gone", &attr), -ENOENT);
	xt_free(t);
}

/* abandon writes nothing: the device is the same before and after. */
static void test_abandon_writes_nothing(void **state)
{
	struct xt *t = xt_new(1024, 64);
	uint64_t n = bento_rec_nblocks(t->disk);
	struct bento_state *st = bento_state_new();
	uint8_t *img1 = malloc(n * 4096), *img2 = malloc(n * 4096);
	void *old;

	assert_non_null(img1);
	assert_non_null(img2);
	assert_ok(bento_test_write_file(t->fs, "f", "hello", 5));
	old = t->fs->sb->fs_info;
	assert_ok(t->fs->ops->prepare(t->fs->sb, st));
	assert_ok(t->fs->ops->transfer(t->fs->sb, st));
	bento_rec_contents(t->disk, img1);
	t->fs->ops->abandon(t->fs->sb, old);
	bento_rec_contents(t->disk, img2);
	assert_memory_equal(img1, img2, n * 4096);
	bento_state_free(st);
	free(img1);
	free(img2);
	xt_remount(t);
	assert_int_equal(xt_size(t, "f"), 5);
	xt_free(t);
}

/* A transfer that fails leaves the old state serving, nothing lost. */
static void test_failed_transfer_keeps_old(void **state)
{
	struct xt *t = xt_new(1024, 64);
	struct bento_state *st = bento_state_new();
	void *old;

	assert_ok(bento_test_write_file(t->fs, "f", "hello", 5));
	old = t->fs->sb->fs_info;
	assert_ok(t->fs->ops->prepare(t->fs->sb, st));
	bento_state_set_version(st, 99);
	assert_err(t->fs->ops->transfer(t->fs->sb, st), -EPROTO);
	assert_ptr_equal(t->fs->sb->fs_info, old);
	bento_state_free(st);
	assert_ok(bento_test_write_file(t->fs, "g", "world", 5));
	assert_int_equal(xt_size(t, "f"), 5);
	xt_remount(t);
	assert_int_equal(xt_size(t, "g"), 5);
	xt_free(t);
}

/* Write the device's contents or a crash image to @name in t->dir. */
static void write_image(struct xt *t, const uint8_t *img, const char *name)
{
	char path[160];

	snprintf(path, sizeof(path), "%s/%s", t->dir, name);
	assert_ok(bento_test_image_write(path, img, bento_rec_nblocks(t->disk)));
}

/* Likewise, then fsck it: it must be clean. */
static void fsck_image(struct xt *t, const uint8_t *img, const char *name)
{
	char path[160], out[8192];
	int rc;

	write_image(t, img, name);
	snprintf(path, sizeof(path), "%s/%s", t->dir, name);
	rc = bento_test_fsck_xv6fs(path, false, out, sizeof(out));
	if (rc != 0)
		print_error("fsck %s: %d\n%s\n", name, rc, out);
	assert_int_equal(rc, 0);
}

/* Mount the image @name in t->dir (written by fsck_image). */
static struct bento_test_fs *mount_image(struct xt *t, const char *name)
{
	struct bento_test_fs *fs;
	char path[160];

	snprintf(path, sizeof(path), "%s/%s", t->dir, name);
	assert_ok(bento_test_mount_file(&bento_module_xv6fs, path, NULL, &fs));
	return fs;
}

/* The state before the transaction under test: d/old, d/big (64 KiB),
 * d/orph exist, none of d/n<i>, d/sub. */
static void check_pre(struct bento_test_fs *fs)
{
	struct bento_attr a;
	char name[16];
	int i;

	assert_ok(bento_test_stat(fs, "d/old", &a));
	assert_int_equal(a.size, 8192);
	assert_ok(bento_test_stat(fs, "d/big", &a));
	assert_int_equal(a.size, 65536);
	assert_ok(bento_test_stat(fs, "d/orph", &a));
	assert_err(bento_test_stat(fs, "d/sub", &a), -ENOENT);
	for (i = 0; i < 40; i++) {
		snprintf(name, sizeof(name), "d/n%d", i);
		assert_err(bento_test_stat(fs, name, &a), -ENOENT);
	}
}

/* The state after it: the reverse, d/n0 holds 4096 bytes of seed 3. */
static void check_post(struct bento_test_fs *fs)
{
	struct bento_attr a;
	char name[16];
	void *data;
	size_t len;
	int i;

	assert_err(bento_test_stat(fs, "d/old", &a), -ENOENT);
	assert_ok(bento_test_stat(fs, "d/big", &a));
	assert_int_equal(a.size, 0);
	assert_err(bento_test_stat(fs, "d/orph", &a), -ENOENT);
	assert_ok(bento_test_stat(fs, "d/sub", &a));
	assert_true(S_ISDIR(a.mode));
	for (i = 0; i < 40; i++) {
		snprintf(name, sizeof(name), "d/n%d", i);
		assert_ok(bento_test_stat(fs, name, &a));
	}
	assert_ok(bento_test_read_file(fs, "d/n0", &data, &len));
	assert_int_equal(len, 4096);
	assert_true(xt_check(data, len, 3, 0));
	free(data);
}

/*
 * An upgrade in the middle of a transaction: nothing is written by the
 * upgrade, the new build holds the transaction (same blocks, same
 * pending frees, the orphan), a crash before it commits shows the
 * pre-transaction image, and after its commit the image is right.
 */
static void test_upgrade_mid_transaction(void **state)
{
	struct xt *t = xt_new(8192, 512);
	uint64_t nb = bento_rec_nblocks(t->disk), *bar, nbar, pos, bfree;
	uint8_t *img = malloc(nb * XV6_BLOCK_SIZE);
	struct xv6_fs *ofs, *nfs;
	struct bento_test_file o;
	struct bento_test_fs *cfs;
	struct bento_state *st;
	char buf[65536], name[16];
	uint32_t i, nfreed;
	void *old;
	int how;

	assert_non_null(img);
	/* Committed before: the files the transaction frees, an open one. */
	assert_ok(bento_test_mkdir(t->fs, "d", 0755));
	xt_fill(buf, sizeof(buf), 5, 0);
	assert_ok(bento_test_write_file(t->fs, "d/old", buf, 8192));
	assert_ok(bento_test_write_file(t->fs, "d/big", buf, sizeof(buf)));
	assert_ok(bento_test_open(t->fs, "d/orph", O_CREAT | O_RDWR, 0644,
				  &o));
	assert_int_equal(bento_test_fwrite(t->fs, &o, buf, 100, 0), 100);
	assert_ok(bento_test_fsync(t->fs, "d/big", 0));
	assert_ok(bento_test_fsync(t->fs, "d/old", 0));
	assert_ok(bento_test_ffsync(t->fs, &o, 0));
	bento_rec_set_logging(t->disk, true);
	bento_rec_checkpoint(t->disk);

	/* The transaction: allocations, dirty directory blocks, frees, an
	 * orphan. */
	for (i = 0; i < 40; i++) {
		snprintf(name, sizeof(name), "d/n%u", i);
		assert_ok(bento_test_create(t->fs, name, 0644));
	}
	assert_ok(bento_test_mkdir(t->fs, "d/sub", 0755));
	xt_fill(buf, 4096, 3, 0);
	assert_int_equal(bento_test_pwrite(t->fs, "d/n0", buf, 4096, 0),
			 4096);
	assert_ok(bento_test_unlink(t->fs, "d/old"));
	assert_ok(bento_test_truncate(t->fs, "d/big", 0));
	assert_ok(bento_test_unlink(t->fs, "d/orph"));
	ofs = t->fs->sb->fs_info;
	assert_true(ofs->log.count > 0);
	assert_true(ofs->log.nfreed > 0);
	assert_true(ofs->bpending >= 2 + 16);
	assert_ok(bento_rec_barriers(t->disk, &bar, &nbar));
	free(bar);
	assert_int_equal(nbar, 0);	/* nothing committed yet */
	bfree = xt_bfree(t);

	/* The upgrade writes nothing and hands over the transaction. */
	pos = bento_rec_position(t->disk);
	st = bento_state_new();
	assert_non_null(st);
	old = t->fs->sb->fs_info;
	assert_ok(t->fs->ops->prepare(t->fs->sb, st));
	assert_int_equal(bento_state_version(st), 2);
	assert_ok(bento_module_xv6fs.ops->transfer(t->fs->sb, st));
	nfs = t->fs->sb->fs_info;
	assert_int_equal(nfs->log.count, ofs->log.count);
	for (i = 0; i < nfs->log.count; i++) {
		assert_int_equal(nfs->log.blocknos[i], ofs->log.blocknos[i]);
		assert_ptr_equal(nfs->log.bufs[i], ofs->log.bufs[i]);
	}
	nfreed = ofs->log.nfreed;
	assert_int_equal(nfs->log.nfreed, nfreed);
	assert_int_equal(nfs->bpending, ofs->bpending);
	assert_int_equal(nfs->log.seq, ofs->log.seq);
	t->fs->ops->abandon(t->fs->sb, old);
	bento_instance_set_module(t->fs->inst, &bento_module_xv6fs);
	bento_state_free(st);
	assert_int_equal(bento_rec_position(t->disk), pos);
	assert_int_equal(xt_bfree(t), bfree);

	/* The new build serves the transaction's state; the orphan is
	 * still readable through its handle. */
	check_post(t->fs);
	assert_int_equal(bento_test_fread(t->fs, &o, buf, 100, 0), 100);
	assert_true(xt_check(buf, 100, 5, 0));

	/* A crash before the new build commits: the old image, clean. */
	pos = bento_rec_position(t->disk);
	for (how = BENTO_CRASH_NONE; how <= BENTO_CRASH_RANDOM; how++) {
		assert_ok(bento_rec_crash_image(t->disk, pos, how, 17, img,
						NULL));
		fsck_image(t, img, "pre.img");
		cfs = mount_image(t, "pre.img");
		check_pre(cfs);
		assert_ok(bento_test_unmount(cfs));
	}

	/* The new build commits the transaction (fsync of another file),
	 * then the orphan goes with its handle. */
	assert_ok(bento_test_fsync(t->fs, "anchor", 0));
	assert_int_equal(nfs->log.nfreed, 0);
	assert_ok(bento_rec_barriers(t->disk, &bar, &nbar));
	free(bar);
	assert_true(nbar >= 2);
	bento_rec_contents(t->disk, img);
	/* Committed with the orphan still open: a mount frees it. */
	write_image(t, img, "mid.img");
	cfs = mount_image(t, "mid.img");
	check_post(cfs);
	assert_ok(bento_test_unmount(cfs));
	assert_ok(bento_test_close(t->fs, &o));
	assert_ok(bento_test_fsync(t->fs, "anchor", 0));
	bento_rec_contents(t->disk, img);
	fsck_image(t, img, "post.img");
	cfs = mount_image(t, "post.img");
	check_post(cfs);
	assert_ok(bento_test_unmount(cfs));
	check_post(t->fs);
	xt_remount(t);
	check_post(t->fs);
	free(img);
	xt_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_upgrade_keeps_everything),
		cmocka_unit_test(test_abandon_writes_nothing),
		cmocka_unit_test(test_failed_transfer_keeps_old),
		cmocka_unit_test(test_upgrade_mid_transaction),
	};

	return xt_run(tests);
}
