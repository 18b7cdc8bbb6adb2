/*
 * dirs.c - directories at scale and readdir's guarantees.
 *
 * One directory gets XV6FS_DIR_ENTRIES entries (default 100,000): create
 * each, mount again, look each up, list them all (each exactly once),
 * unlink them all.  Each phase prints how long it took, so a directory
 * index that degrades to a linear scan is visible in the log; no time is
 * asserted (the machines are shared and noisy).  Then readdir's promise
 * under change: entries present for a whole listing are returned exactly
 * once while other entries come and go between readdir calls.
 */
#include <fcntl.h>

#include "common.h"

#define NAME_FMT "entry-%07u"

static unsigned int entries_wanted(void)
{
	const char *s = getenv("XV6FS_DIR_ENTRIES");
	long n = s ? strtol(s, NULL, 10) : 100000;

	return n > 0 ? (unsigned int)n : 100000;
}

/* Parse a name made by NAME_FMT; UINT32_MAX if it is not one. */
static uint32_t entry_index(const char *name)
{
	unsigned int i;
	char tail;

	if (sscanf(name, "entry-%7u%c", &i, &tail) != 1)
		return UINT32_MAX;
	return i;
}

static void test_100k_entries(void **state)
{
	unsigned int n = entries_wanted(), i;
	struct xt *t = xt_new(32768, n + 1024);
	struct bento_test_dirent *ents;
	struct bento_statfs before, after;
	struct bento_attr a;
	bento_ino_t pin;
	uint8_t *seen;
	char path[64];
	size_t nents, k;
	double t0;
	uint32_t idx;

	assert_ok(bento_test_statfs(t->fs, &before));
	assert_ok(bento_test_mkdir(t->fs, "big", 0755));

	/*
	 * Hold a lookup reference on the directory while working in it, as
	 * the kernel's dentry cache does for a directory in use: a file
	 * system may drop an unreferenced inode (and its in-memory index)
	 * from its cache, and the wrappers forget after every op.
	 */
	assert_ok(bento_test_resolve(t->fs, "big", &pin, NULL));
	t0 = bento_test_now_ms();
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "big/" NAME_FMT, i);
		assert_ok(bento_test_create(t->fs, path, 0644));
	}
	print_message("# create %u entries: %.0f ms\n", n,
		      bento_test_now_ms() - t0);
	assert_err(bento_test_create(t->fs, "big/entry-0000000", 0644),
		   -EEXIST);

	bento_test_put(t->fs, pin);
	t0 = bento_test_now_ms();
	xt_remount(t);
	print_message("# remount: %.0f ms\n", bento_test_now_ms() - t0);
	assert_ok(bento_test_resolve(t->fs, "big", &pin, NULL));

	t0 = bento_test_now_ms();
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "big/" NAME_FMT, i);
		assert_ok(bento_test_stat(t->fs, path, &a));
		assert_true(S_ISREG(a.mode));
	}
	print_message("# lookup %u entries: %.0f ms\n", n,
		      bento_test_now_ms() - t0);
	assert_err(bento_test_stat(t->fs, "big/entry-9999999", NULL), -ENOENT);

	/* Every entry exactly once, plus "." and "..". */
	t0 = bento_test_now_ms();
	t->fs->dir_batch = 200;
	assert_ok(bento_test_listdir(t->fs, "big", &ents, &nents));
	print_message("# readdir %zu entries: %.0f ms\n", nents,
		      bento_test_now_ms() - t0);
	assert_int_equal(nents, (size_t)n + 2);
	seen = calloc(n, 1);
	assert_non_null(seen);
	for (k = 0; k < nents; k++) {
		if (!strcmp(ents[k].name, ".") || !strcmp(ents[k].name, ".."))
			continue;
		idx = entry_index(ents[k].name);
		assert_true(idx < n);
		assert_int_equal(seen[idx], 0);
		seen[idx] = 1;
		assert_int_equal(ents[k].dtype, BENTO_DT_REG);
	}
	free(ents);
	free(seen);

	t0 = bento_test_now_ms();
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "big/" NAME_FMT, i);
		assert_ok(bento_test_unlink(t->fs, path));
	}
	print_message("# unlink %u entries: %.0f ms\n", n,
		      bento_test_now_ms() - t0);
	assert_ok(bento_test_listdir(t->fs, "big", &ents, &nents));
	assert_int_equal(nents, 2);
	free(ents);
	bento_test_put(t->fs, pin);
	assert_ok(bento_test_rmdir(t->fs, "big"));
	assert_ok(bento_test_statfs(t->fs, &after));
	assert_int_equal(after.ffree, before.ffree);
	assert_int_equal(after.bfree, before.bfree);
	xt_free(t);
}

/* What readdir offered during one listing under change. */
struct seen_list {
	unsigned int stable_seen[2000];
	unsigned int room;
	uint64_t last;
	bool dup_volatile;
	char volatile_names[4096][24];
	unsigned int nvolatile;
};

static int seen_fill(void *buf, const char *name, uint32_t namelen,
		     bento_ino_t ino, unsigned int dtype, uint64_t off)
{
	struct seen_list *s = buf;
	char n[BENTO_NAME_MAX + 1];
	unsigned int i;

	if (s->room == 0)
		return 1;
	s->room--;
	s->last = off;
	memcpy(n, name, namelen);
	n[namelen] = '\0';
	if (!strncmp(n, "stable-", 7)) {
		i = (unsigned int)strtoul(n + 7, NULL, 10);
		if (i < 2000)
			s->stable_seen[i]++;
		return 0;
	}
	if (!strncmp(n, "vol-", 4)) {
		for (i = 0; i < s->nvolatile; i++)
			if (!strcmp(s->volatile_names[i], n))
				s->dup_volatile = true;
		if (s->nvolatile < 4096 && namelen < 24)
			memcpy(s->volatile_names[s->nvolatile++], n,
			       namelen + 1);
	}
	return 0;
}

static void test_readdir_under_change(void **state)
{
	struct xt *t = xt_new(8192, 8192);
	struct seen_list *s = calloc(1, sizeof(*s));
	bento_ino_t dir;
	uint64_t fh, off = 0;
	unsigned int i, made = 0, removed = 0, calls = 0;
	char path[64];

	assert_non_null(s);
	assert_ok(bento_test_mkdir(t->fs, "d", 0755));
	for (i = 0; i < 2000; i++) {
		snprintf(path, sizeof(path), "d/stable-%u", i);
		assert_ok(bento_test_create(t->fs, path, 0644));
	}
	assert_ok(bento_test_resolve(t->fs, "d", &dir, NULL));
	assert_ok(t->fs->ops->opendir(t->fs->sb, &t->fs->ctx, dir, &fh));
	for (;;) {
		s->room = 37;
		s->last = off;
		assert_ok(t->fs->ops->readdir(t->fs->sb, dir, fh, off,
					      seen_fill, s));
		if (s->room == 37)
			break;
		off = s->last;
		calls++;
		/* Between calls, others create and remove names. */
		for (i = 0; i < 3; i++) {
			snprintf(path, sizeof(path), "d/vol-%u", made++);
			assert_ok(bento_test_create(t->fs, path, 0644));
		}
		if (made > 10) {
			snprintf(path, sizeof(path), "d/vol-%u", removed++);
			assert_ok(bento_test_unlink(t->fs, path));
		}
		assert_true(calls < 10000);
	}
	t->fs->ops->releasedir(t->fs->sb, dir, fh);
	bento_test_put(t->fs, dir);
	print_message("# %u readdir calls, %u names created, %u removed meanwhile\n",
		      calls, made, removed);
	for (i = 0; i < 2000; i++)
		if (s->stable_seen[i] != 1)
			fail_msg("stable-%u listed %u times", i,
				 s->stable_seen[i]);
	assert_false(s->dup_volatile);
	free(s);
	xt_free(t);
}

/* The same listing whatever the caller's buffer size; long names. */
static void test_listing_batches_and_names(void **state)
{
	struct xt *t = xt_new(4096, 1024);
	struct bento_test_dirent *a, *b;
	char name[BENTO_NAME_MAX + 2], path[BENTO_NAME_MAX + 8];
	static const unsigned int batches[] = { 1, 2, 7, 1000 };
	size_t na, nb, i, j;
	unsigned int k;

	assert_ok(bento_test_mkdir(t->fs, "d", 0755));
	for (k = 0; k < 300; k++) {
		/* Names of every length from 1 to 255 bytes, and more. */
		memset(name, 'a' + k % 26, sizeof(name));
		name[0] = (char)('0' + k / 100);
		name[1] = (char)('0' + k / 10 % 10);
		name[2] = (char)('0' + k % 10);
		name[k < 255 ? (k < 3 ? 3 : k + 1) : 255] = '\0';
		snprintf(path, sizeof(path), "d/%s", name);
		assert_ok(bento_test_create(t->fs, path, 0644));
		assert_ok(bento_test_stat(t->fs, path, NULL));
	}
	t->fs->dir_batch = batches[0];
	assert_ok(bento_test_listdir(t->fs, "d", &a, &na));
	assert_int_equal(na, 302);
	for (k = 1; k < 4; k++) {
		t->fs->dir_batch = batches[k];
		assert_ok(bento_test_listdir(t->fs, "d", &b, &nb));
		assert_int_equal(nb, na);
		for (i = 0; i < na; i++) {
			for (j = 0; j < nb; j++)
				if (!strcmp(a[i].name, b[j].name))
					break;
			assert_true(j < nb);
			assert_int_equal(a[i].ino, b[j].ino);
		}
		free(b);
	}
	free(a);
	xt_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_100k_entries),
		cmocka_unit_test(test_readdir_under_change),
		cmocka_unit_test(test_listing_batches_and_names),
	};

	return xt_run(tests);
}
