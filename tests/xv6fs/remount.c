/*
 * remount.c - everything survives an unmount and a mount of the same
 * device: a mixed tree (directories, files of many sizes, a sparse file,
 * hard links, symlinks, a fifo, xattrs, set times) is snapshotted with a
 * full walk, the file system is mounted again, and a second walk must
 * give the same snapshot (all attributes but atime, contents by CRC,
 * symlink targets, xattr values) and the same statfs.
 */
#include <fcntl.h>

#include "common.h"

struct snap_ent {
	char path[256];
	struct bento_attr attr;
	uint32_t crc;		/* of the contents or the link target */
	uint32_t xcrc;		/* of the xattr list and values */
};

struct snap {
	struct xt *t;
	struct snap_ent ents[512];
	unsigned int n;
};

static uint32_t xattr_crc(struct xt *t, const char *path)
{
	char list[4096], val[4096], *p;
	ssize_t n, v;
	uint32_t crc = 0;

	n = bento_test_listxattr(t->fs, path, list, sizeof(list));
	assert_true(n >= 0);
	for (p = list; p < list + n; p += strlen(p) + 1) {
		v = bento_test_getxattr(t->fs, path, p, val, sizeof(val));
		assert_true(v >= 0);
		crc = bento_crc32(crc, p, strlen(p) + 1);
		crc = bento_crc32(crc, val, (size_t)v);
	}
	return crc;
}

static int snap_visit(void *arg, const char *path,
		      const struct bento_attr *attr)
{
	struct snap *s = arg;
	struct snap_ent *e;
	char target[4096];
	void *data;
	size_t len;
	int n;

	assert_true(s->n < 512);
	e = &s->ents[s->n++];
	snprintf(e->path, sizeof(e->path), "%s", path);
	e->attr = *attr;
	e->crc = 0;
	if (S_ISREG(attr->mode) && attr->size < (64u << 20)) {
		assert_ok(bento_test_read_file(s->t->fs, path, &data, &len));
		e->crc = bento_crc32(0, data, len);
		free(data);
	} else if (S_ISLNK(attr->mode)) {
		n = bento_test_readlink(s->t->fs, path, target,
					sizeof(target));
		assert_true(n >= 0);
		e->crc = bento_crc32(0, target, (size_t)n);
	}
	e->xcrc = xattr_crc(s->t, path);
	return 0;
}

static int cmp_ent(const void *a, const void *b)
{
	return strcmp(((const struct snap_ent *)a)->path,
		      ((const struct snap_ent *)b)->path);
}

static void take(struct xt *t, struct snap *s)
{
	uint64_t count;

	s->t = t;
	s->n = 0;
	assert_ok(bento_test_walk(t->fs, snap_visit, s, &count));
	assert_int_equal(count, s->n);
	qsort(s->ents, s->n, sizeof(s->ents[0]), cmp_ent);
}

static void same(const struct snap *a, const struct snap *b)
{
	const struct bento_attr *x, *y;
	unsigned int i;

	assert_int_equal(a->n, b->n);
	for (i = 0; i < a->n; i++) {
		assert_string_equal(a->ents[i].path, b->ents[i].path);
		x = &a->ents[i].attr;
		y = &b->ents[i].attr;
		if (x->ino != y->ino || x->mode != y->mode ||
		    x->nlink != y->nlink || x->uid != y->uid ||
		    x->gid != y->gid || x->rdev != y->rdev ||
		    x->size != y->size || x->blocks != y->blocks ||
		    x->mtime.sec != y->mtime.sec ||
		    x->mtime.nsec != y->mtime.nsec ||
		    x->ctime.sec != y->ctime.sec ||
		    x->ctime.nsec != y->ctime.nsec)
			fail_msg("/%s: attributes differ after remount",
				 a->ents[i].path);
		if (a->ents[i].crc != b->ents[i].crc)
			fail_msg("/%s: contents differ after remount",
				 a->ents[i].path);
		if (a->ents[i].xcrc != b->ents[i].xcrc)
			fail_msg("/%s: xattrs differ after remount",
				 a->ents[i].path);
	}
}

static void build_tree(struct xt *t)
{
	static const size_t sizes[] = { 0, 1, 4095, 4096, 4097, 49152,
					 100000, 4243457, 6000000 };
	struct bento_setattr sa = { 0 };
	char path[128], *buf;
	unsigned int i, j;

	buf = malloc(6000000);
	assert_non_null(buf);
	for (i = 0; i < 4; i++) {
		snprintf(path, sizeof(path), "dir%u", i);
		assert_ok(bento_test_mkdir(t->fs, path, 0700 + i));
		snprintf(path, sizeof(path), "dir%u/sub", i);
		assert_ok(bento_test_mkdir(t->fs, path, 0755));
		for (j = 0; j < sizeof(sizes) / sizeof(sizes[0]); j++) {
			snprintf(path, sizeof(path), "dir%u/sub/file%u", i, j);
			xt_fill(buf, sizes[j], i * 100 + j, 0);
			assert_ok(bento_test_write_file(t->fs, path, buf,
							sizes[j]));
		}
	}
	assert_ok(bento_test_create(t->fs, "sparse", 0600));
	assert_int_equal(bento_test_pwrite(t->fs, "sparse", "tail", 4,
					   (1ull << 30) + 5), 4);
	assert_ok(bento_test_link(t->fs, "dir0/sub/file3", "dir1/hard"));
	assert_ok(bento_test_link(t->fs, "dir0/sub/file3", "hard2"));
	assert_ok(bento_test_symlink(t->fs, "dir0/sub/file1", "sym"));
	assert_ok(bento_test_symlink(t->fs, "/nowhere/at/all", "dir2/dangle"));
	assert_ok(bento_test_mknod(t->fs, "fifo", S_IFIFO | 0644, 0));
	assert_ok(bento_test_setxattr(t->fs, "dir1", "user.k", "v", 1, 0));
	assert_ok(bento_test_setxattr(t->fs, "hard2", "user.big", buf, 2000,
				      0));
	sa.valid = BENTO_SET_MTIME | BENTO_SET_UID;
	sa.mtime.sec = 1000000000;
	sa.mtime.nsec = 42;
	sa.uid = 4242;
	assert_ok(bento_test_setattr(t->fs, "dir3/sub/file5", &sa, NULL));
	free(buf);
}

static void test_remount_everything(void **state)
{
	struct xt *t = xt_new(16384, 1024);
	struct snap *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
	struct bento_statfs sa, sb;
	char path[64];
	unsigned int i;

	assert_non_null(a);
	assert_non_null(b);
	build_tree(t);
	take(t, a);
	print_message("# tree of %u inodes\n", a->n);
	assert_true(a->n > 40);
	assert_ok(bento_test_statfs(t->fs, &sa));

	xt_remount(t);
	take(t, b);
	same(a, b);
	assert_ok(bento_test_statfs(t->fs, &sb));
	assert_int_equal(sa.bfree, sb.bfree);
	assert_int_equal(sa.ffree, sb.ffree);

	/* Removals persist as well. */
	for (i = 0; i < 9; i += 2) {
		snprintf(path, sizeof(path), "dir2/sub/file%u", i);
		assert_ok(bento_test_unlink(t->fs, path));
	}
	assert_ok(bento_test_unlink(t->fs, "hard2"));
	assert_ok(bento_test_rename(t->fs, "dir3", "dir2/sub/moved", 0));
	take(t, a);
	assert_ok(bento_test_statfs(t->fs, &sa));
	xt_remount(t);
	xt_remount(t);
	take(t, b);
	same(a, b);
	assert_ok(bento_test_statfs(t->fs, &sb));
	assert_int_equal(sa.bfree, sb.bfree);
	assert_int_equal(sa.ffree, sb.ffree);
	free(a);
	free(b);
	xt_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_remount_everything),
	};

	return xt_run(tests);
}
