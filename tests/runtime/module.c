/*
 * module.c - unit tests of module loading and instances
 * (runtime_module).
 *
 * Loads the fake modules built next to this test (fake_mod.c): a good
 * one, mounted over a file device to show its bento_* calls resolve
 * against this executable and that unmount writes back what it dirtied;
 * and the refusals: no such file, a shared library that is not a module
 * (the libz this program links), a text file, a module built for another
 * API version, and one missing a mandatory op.  Build ids come from the
 * ELF note, or from XXH64 of the file for a module linked without one.
 */
#include <dlfcn.h>
#include <fcntl.h>
#include <libgen.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <cmocka.h>
#include <xxhash.h>
#include <zlib.h>

#include "bento_host.h"

#define FAKE_MAGIC 0xfa4e0001u

static char mod_dir[4096];

static const char *mod_path(const char *name)
{
	static char path[8192];

	snprintf(path, sizeof(path), "%s/%s", mod_dir, name);
	return path;
}

static bool all_hex(const char *s, size_t len)
{
	size_t i;

	if (strlen(s) != len)
		return false;
	for (i = 0; i < len; i++)
		if (!strchr("0123456789abcdef", s[i]))
			return false;
	return true;
}

static void test_load_good(void **state)
{
	struct bento_loaded_module *lm = NULL;

	assert_int_equal(bento_module_load(mod_path("fake_good.so"), &lm), 0);
	assert_non_null(lm->handle);
	assert_string_equal(lm->mod->name, "fake");
	assert_string_equal(lm->mod->version, "0.1");
	assert_int_equal(lm->mod->api_version, BENTO_API_VERSION);
	assert_true(all_hex(lm->build_id, 40));
	assert_true(lm->path[0] == '/');
	bento_module_unload(lm);
	bento_module_unload(NULL);
}

static void test_build_id_fallback(void **state)
{
	struct bento_loaded_module *lm = NULL;
	char want[17], buf[65536];
	uint64_t h;
	ssize_t n;
	int fd;

	assert_int_equal(bento_module_load(mod_path("fake_nobid.so"), &lm),
			 0);
	fd = open(mod_path("fake_nobid.so"), O_RDONLY);
	assert_true(fd >= 0);
	n = read(fd, buf, sizeof(buf));
	close(fd);
	assert_true(n > 0 && n < (ssize_t)sizeof(buf));
	h = XXH64(buf, (size_t)n, 0);
	snprintf(want, sizeof(want), "%016llx", (unsigned long long)h);
	assert_string_equal(lm->build_id, want);
	bento_module_unload(lm);
}

static void test_refusals(void **state)
{
	struct bento_loaded_module *lm = NULL;
	char text[] = "/tmp/bento-rt-mod-XXXXXX";
	Dl_info zinfo;
	int fd;

	bento_log_set_level(0);
	assert_int_equal(bento_module_load("/nonexistent/fs.so", &lm),
			 -ENOENT);

	/* A real shared object that is not a module. */
	assert_true(dladdr((void *)crc32, &zinfo) != 0);
	assert_non_null(strstr(zinfo.dli_fname, "libz"));
	assert_int_equal(bento_module_load(zinfo.dli_fname, &lm), -ENOEXEC);

	/* Not an ELF object at all. */
	fd = mkstemp(text);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "hello\n", 6), 6);
	close(fd);
	assert_int_equal(bento_module_load(text, &lm), -ENOEXEC);
	unlink(text);

	assert_int_equal(bento_module_load(mod_path("fake_badapi.so"), &lm),
			 -ENOEXEC);
	assert_int_equal(bento_module_load(mod_path("fake_nolookup.so"),
					   &lm), -ENOEXEC);
	assert_null(lm);
	bento_log_set_level(BENTO_LOG_INFO);
}

static void test_mount_loaded(void **state)
{
	char img[] = "/tmp/bento-rt-img-XXXXXX";
	struct bento_loaded_module *lm;
	struct bento_instance *inst;
	struct bento_blkdev *dev;
	struct bento_attr attr;
	uint32_t magic = 0;
	int fd = mkstemp(img);

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 64 * BENTO_BLOCK_SIZE), 0);
	assert_int_equal(bento_module_load(mod_path("fake_good.so"), &lm), 0);

	/* A failing init: error returned, the device closed for us. */
	assert_int_equal(bento_blkdev_open_file(img, false, &dev), 0);
	assert_int_equal(bento_instance_mount(lm->mod, dev, "fail", false, 0,
					      &inst), -EINVAL);

	/* A working one. */
	assert_int_equal(bento_blkdev_open_file(img, false, &dev), 0);
	assert_int_equal(bento_instance_mount(lm->mod, dev, NULL, false, 16,
					      &inst), 0);
	assert_ptr_equal(inst->sb.host, inst);
	assert_string_equal(inst->sb.options, "");
	assert_int_equal(inst->sb.root_ino, 1);
	assert_string_equal(inst->log_name, "fake");
	assert_int_equal(lm->mod->ops->getattr(&inst->sb, 1, &attr), 0);
	assert_int_equal(attr.size, FAKE_MAGIC);
	bento_instance_count(inst, BENTO_OPC_GETATTR);
	bento_instance_count(inst, BENTO_OPC_GETATTR);
	assert_int_equal(inst->ops[BENTO_OPC_GETATTR], 2);

	/* Corruption reports carry the file system's name and count. */
	bento_log_set_level(0);
	assert_int_equal(bento_fs_corrupt(&inst->sb, -EUCLEAN, "inode %d",
					  5), -EUCLEAN);
	bento_log_set_level(BENTO_LOG_INFO);
	assert_int_equal(inst->errors, 1);

	/* Unmount writes back block 0, which init marked dirty. */
	assert_int_equal(pread(fd, &magic, 4, 0), 4);
	assert_int_equal(magic, 0);
	assert_int_equal(bento_instance_unmount(inst), 0);
	assert_int_equal(pread(fd, &magic, 4, 0), 4);
	assert_int_equal(magic, FAKE_MAGIC);
	assert_int_equal(bento_instance_unmount(NULL), 0);

	bento_module_unload(lm);
	close(fd);
	unlink(img);
}

/* A module linked into this program, as the test host uses them. */
static int linked_init(struct bento_sb *sb)
{
	return 0;
}

static void linked_destroy(struct bento_sb *sb)
{
}

static int linked_lookup(struct bento_sb *sb, bento_ino_t parent,
			 const char *name, struct bento_entry *out)
{
	return -ENOENT;
}

static int linked_getattr(struct bento_sb *sb, bento_ino_t ino,
			  struct bento_attr *out)
{
	return -ENOENT;
}

static const struct bento_fs_ops linked_ops = {
	.init = linked_init,
	.destroy = linked_destroy,
	.lookup = linked_lookup,
	.getattr = linked_getattr,
};

BENTO_MODULE(linked, "2.0", &linked_ops);

static void test_linked(void **state)
{
	struct bento_loaded_module *lm = NULL;

	assert_int_equal(bento_linked_module(&bento_module_linked, &lm), 0);
	assert_null(lm->handle);
	assert_string_equal(lm->path, "(linked)");
	assert_string_equal(lm->mod->name, "linked");
	assert_true(strlen(lm->build_id) > 0);
	bento_module_unload(lm);

	/* Loading a module beside it still finds the module's own entry,
	 * not this program's. */
	assert_int_equal(bento_module_load(mod_path("fake_good.so"), &lm), 0);
	assert_string_equal(lm->mod->name, "fake");
	bento_module_unload(lm);
}

static void test_counter_names(void **state)
{
	assert_string_equal(bento_op_counter_name(BENTO_OPC_LOOKUP), "lookup");
	assert_string_equal(bento_op_counter_name(BENTO_OPC_REMOVEXATTR),
			    "removexattr");
	assert_string_equal(bento_op_counter_name(BENTO_OPC_NR), "unknown");
	for (int i = 0; i < BENTO_OPC_NR; i++)
		assert_non_null(bento_op_counter_name(i));
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_load_good),
		cmocka_unit_test(test_build_id_fallback),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_mount_loaded),
		cmocka_unit_test(test_linked),
		cmocka_unit_test(test_counter_names),
	};
	char exe[4096];
	ssize_t n;

	/* The fake modules live in BUILD/tests/runtime/, beside bin/. */
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0) {
		fprintf(stderr, "runtime_module: cannot find /proc/self/exe\n");
		return 1;
	}
	exe[n] = '\0';
	snprintf(mod_dir, sizeof(mod_dir), "%s/../runtime", dirname(exe));

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
