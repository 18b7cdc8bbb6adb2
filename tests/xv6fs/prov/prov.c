/*
 * prov.c - the provenance build of xv6fs through the test host (this
 * program links libxv6fs_prov.a, so bento_module_xv6fs is that build).
 *
 * Checked: each create, open, unlink, rename, mkdir and symlink leaves
 * exactly one record with the op, the caller's pid, the inode, the
 * parent and the name; the log shows as /.bento-provenance to lookup but
 * not to readdir, and refuses writes, truncation and links; fsck accepts
 * the image and the log survives a remount; and a crash at any barrier
 * keeps each op and its record together (a file exists exactly when its
 * create record does).
 */
#include <fcntl.h>

#include "../common.h"
#include "../../../fs/xv6fs/xv6fs_format.h"

#define LOG_NAME ".bento-provenance"

struct rec {
	uint32_t op, pid;
	uint64_t ino, parent, newparent, time_ns;
	char name[XV6_PROV_NAME_MAX + 1];
};

static uint64_t get_le(const uint8_t *p, unsigned int n)
{
	uint64_t v = 0;

	while (n--)
		v = v << 8 | p[n];
	return v;
}

/* read_log - the records of the log of @fs into a malloc'd *@out. */
static size_t read_log(struct bento_test_fs *fs, struct rec **out)
{
	const size_t rs = XV6_PROV_REC_SIZE;
	uint8_t *data;
	size_t len, i, n;
	struct rec *r;

	assert_ok(bento_test_read_file(fs, LOG_NAME, (void **)&data, &len));
	assert_int_equal(len % rs, 0);
	n = len / rs;
	r = calloc(n + 1, sizeof(*r));
	assert_non_null(r);
	for (i = 0; i < n; i++) {
		const uint8_t *p = data + i * rs;
		size_t nl = get_le(p + offsetof(struct xv6_disk_prov,
						name_len), 2);

		assert_true(nl <= XV6_PROV_NAME_MAX);
		r[i].op = (uint32_t)get_le(p, 2);
		r[i].pid = (uint32_t)get_le(p + 4, 4);
		r[i].ino = get_le(p + 8, 8);
		r[i].parent = get_le(p + 16, 8);
		r[i].newparent = get_le(p + 24, 8);
		r[i].time_ns = get_le(p + 32, 8);
		memcpy(r[i].name, p + offsetof(struct xv6_disk_prov, name), nl);
	}
	free(data);
	*out = r;
	return n;
}

static uint64_t ino_of(struct bento_test_fs *fs, const char *path)
{
	struct bento_attr a;

	assert_ok(bento_test_stat(fs, path, &a));
	return a.ino;
}

static void expect(const struct rec *r, uint32_t op, uint32_t pid,
		   uint64_t ino, uint64_t parent, const char *name)
{
	assert_int_equal(r->op, op);
	assert_int_equal(r->pid, pid);
	assert_int_equal(r->ino, ino);
	assert_int_equal(r->parent, parent);
	assert_string_equal(r->name, name);
	assert_true(r->time_ns > 1600000000ull * 1000000000ull);
}

/* Every kind of op leaves its one record, with the caller's pid. */
static void test_records(void **state)
{
	struct xt *t = xt_new(4096, 256);
	struct bento_test_fs *fs = t->fs;
	struct bento_test_file f;
	uint64_t d, a, s, root;
	struct rec *r;
	size_t n0, n;
	void *data;
	size_t len;

	root = ino_of(fs, "/");
	n0 = read_log(fs, &r);		/* the "anchor" of xt_new */
	assert_int_equal(n0, 1);
	expect(&r[0], XV6_PROV_CREATE, fs->ctx.pid, ino_of(fs, "anchor"), root,
	       "anchor");
	free(r);

	fs->ctx.pid = 4242;
	assert_ok(bento_test_mkdir(fs, "d", 0755));
	d = ino_of(fs, "d");
	assert_ok(bento_test_create(fs, "d/a", 0644));
	a = ino_of(fs, "d/a");
	fs->ctx.pid = 77;
	assert_ok(bento_test_open(fs, "d/a", O_RDONLY, 0, &f));
	assert_ok(bento_test_close(fs, &f));
	assert_ok(bento_test_rename(fs, "d/a", "b", 0));
	assert_ok(bento_test_symlink(fs, "b", "d/s"));
	s = ino_of(fs, "d/s");
	assert_ok(bento_test_unlink(fs, "b"));
	/* rmdir is not recorded. */
	assert_ok(bento_test_mkdir(fs, "e", 0755));
	assert_ok(bento_test_rmdir(fs, "e"));

	n = read_log(fs, &r);
	assert_int_equal(n, n0 + 7);
	expect(&r[1], XV6_PROV_MKDIR, 4242, d, root, "d");
	expect(&r[2], XV6_PROV_CREATE, 4242, a, d, "a");
	expect(&r[3], XV6_PROV_OPEN, 77, a, 0, "");
	expect(&r[4], XV6_PROV_RENAME, 77, a, d, "a/b");
	assert_int_equal(r[4].newparent, root);
	expect(&r[5], XV6_PROV_SYMLINK, 77, s, d, "s");
	expect(&r[6], XV6_PROV_UNLINK, 77, a, root, "b");
	assert_int_equal(r[7].op, XV6_PROV_MKDIR);
	assert_true(r[1].time_ns <= r[6].time_ns);
	free(r);

	/* Reading the log (an open of it) adds nothing. */
	assert_int_equal(read_log(fs, &r), n);
	free(r);

	/* The log refuses writes, truncation and a name. */
	assert_err(bento_test_open(fs, LOG_NAME, O_RDWR, 0, &f), -EPERM);
	assert_err(bento_test_truncate(fs, LOG_NAME, 0), -EPERM);
	assert_err(bento_test_link(fs, LOG_NAME, "visible"), -EPERM);
	assert_ok(bento_test_read_file(fs, LOG_NAME, &data, &len));
	assert_int_equal(len, n * XV6_PROV_REC_SIZE);
	free(data);
	xt_free(t);
}

/* Not listed; fsck clean; the log survives a remount. */
static void test_hidden_and_durable(void **state)
{
	struct xt *t = xt_new(4096, 256);
	struct bento_test_dirent *ents;
	uint64_t nb = bento_rec_nblocks(t->disk);
	struct bento_attr attr;
	char out[8192], path[160];
	struct rec *r;
	uint8_t *img;
	size_t n, i;

	assert_ok(bento_test_mkdir(t->fs, "d", 0755));
	assert_ok(bento_test_stat(t->fs, LOG_NAME, &attr));
	assert_int_equal(attr.mode, S_IFREG | 0400);
	assert_int_equal(attr.uid, 0);
	assert_int_equal(attr.nlink, 1);
	assert_ok(bento_test_listdir(t->fs, "/", &ents, &n));
	for (i = 0; i < n; i++)
		assert_string_not_equal(ents[i].name, LOG_NAME);
	free(ents);
	/* Elsewhere the name is an ordinary one. */
	assert_err(bento_test_stat(t->fs, "d/" LOG_NAME, &attr), -ENOENT);

	/* fsck the device's contents (the recorder holds them). */
	xt_remount(t);
	img = malloc(nb * XV6_BLOCK_SIZE);
	assert_non_null(img);
	bento_rec_contents(t->disk, img);
	snprintf(path, sizeof(path), "%s/copy.img", t->dir);
	assert_ok(bento_test_image_write(path, img, nb));
	free(img);
	assert_int_equal(bento_test_fsck_xv6fs(path, false, out,
					       sizeof(out)), 0);
	n = read_log(t->fs, &r);
	assert_int_equal(n, 2);
	assert_string_equal(r[1].name, "d");
	free(r);
	xt_free(t);
}

/* A crash at any barrier: c<i> exists exactly when its record does. */
static void test_crash_keeps_op_and_record(void **state)
{
	struct xt *t = xt_new(2048, 128);
	uint64_t nb = bento_rec_nblocks(t->disk), *bar, nbar, b;
	uint8_t *img = malloc(nb * XV6_BLOCK_SIZE);
	char path[160], name[16];
	struct bento_test_fs *fs;
	unsigned int i, checked = 0, with_files = 0;

	assert_non_null(img);
	assert_ok(bento_test_fsync(t->fs, "anchor", 0));
	bento_rec_set_logging(t->disk, true);
	bento_rec_checkpoint(t->disk);
	for (i = 0; i < 8; i++) {
		snprintf(name, sizeof(name), "c%u", i);
		assert_ok(bento_test_create(t->fs, name, 0644));
		if (i % 2)
			assert_ok(bento_test_fsync(t->fs, name, 0));
	}
	assert_ok(bento_rec_barriers(t->disk, &bar, &nbar));
	assert_true(nbar >= 4);
	snprintf(path, sizeof(path), "%s/crash.img", t->dir);
	for (b = 0; b <= nbar; b++) {
		uint64_t cut = b < nbar ? bar[b] : bento_rec_position(t->disk);
		unsigned int files = 0;
		struct bento_attr a;
		struct rec *r;
		size_t n, j;

		assert_ok(bento_rec_crash_image(t->disk, cut,
						BENTO_CRASH_RANDOM, b, img,
						NULL));
		assert_ok(bento_test_image_write(path, img, nb));
		assert_ok(bento_test_mount_file(&bento_module_xv6fs, path,
						NULL, &fs));
		n = read_log(fs, &r);
		for (i = 0; i < 8; i++) {
			bool has_rec = false;

			snprintf(name, sizeof(name), "c%u", i);
			for (j = 0; j < n; j++)
				has_rec |= strcmp(r[j].name, name) == 0;
			assert_int_equal(bento_test_stat(fs, name, &a) == 0,
					 has_rec);
			files += has_rec;
		}
		free(r);
		assert_ok(bento_test_unmount(fs));
		checked++;
		with_files += files > 0 && files < 8;
	}
	printf("# %u crash states checked, %u with some creates\n", checked,
	       with_files);
	assert_true(with_files > 0);
	free(bar);
	free(img);
	xt_free(t);
}

/* fsck clears a prov_ino that names no regular file in use. */
static void test_fsck_bad_prov_ino(void **state)
{
	struct xt *t = xt_new(1024, 64);
	uint64_t nb = bento_rec_nblocks(t->disk);
	struct xv6_disk_super *sb;
	char path[160], out[8192];
	uint8_t *img = malloc(nb * XV6_BLOCK_SIZE);
	void *back;
	uint64_t n;

	assert_non_null(img);
	xt_remount(t);
	bento_rec_contents(t->disk, img);
	sb = (struct xv6_disk_super *)img;
	assert_true(sb->prov_ino != 0);
	sb->prov_ino = 60;		/* a free inode */
	sb->crc = bento_crc32(0, img, XV6_SUPER_CRC_LEN);
	snprintf(path, sizeof(path), "%s/bad.img", t->dir);
	assert_ok(bento_test_image_write(path, img, nb));
	assert_int_equal(bento_test_fsck_xv6fs(path, false, out,
					       sizeof(out)), 4);
	assert_non_null(strstr(out, "provenance log inode 60"));
	assert_int_equal(bento_test_fsck_xv6fs(path, true, out,
					       sizeof(out)), 1);
	assert_int_equal(bento_test_fsck_xv6fs(path, false, out,
					       sizeof(out)), 0);
	assert_ok(bento_test_image_read(path, &back, &n));
	assert_int_equal(((struct xv6_disk_super *)back)->prov_ino, 0);
	free(back);
	free(img);
	xt_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_records),
		cmocka_unit_test(test_hidden_and_durable),
		cmocka_unit_test(test_crash_keeps_op_and_record),
		cmocka_unit_test(test_fsck_bad_prov_ino),
	};

	return xt_run(tests);
}
