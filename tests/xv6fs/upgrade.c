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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_upgrade_keeps_everything),
		cmocka_unit_test(test_abandon_writes_nothing),
		cmocka_unit_test(test_failed_transfer_keeps_old),
	};

	return xt_run(tests);
}
