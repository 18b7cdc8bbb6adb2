/*
 * fake_mod.c - a tiny file-system module for runtime_module, built in
 * several variants (see bento/lib/lib.mk):
 *
 *   fake_good.so       a valid module with a GNU build id
 *   fake_nobid.so      the same, linked without a build id
 *   fake_badapi.so     claims an API version this host does not speak
 *   fake_nolookup.so   lacks a mandatory op
 *
 * init calls into the runtime (allocation, locks, the buffer cache), so
 * loading it proves the module's bento_* references resolve against the
 * host executable.  It stamps block 0 with FAKE_MAGIC, marked dirty, so
 * the test can see the instance wrote it back at unmount.  The mount
 * option "fail" makes init fail.
 */
#define BENTO_LOG_SUBSYS "fake"
#include <bento/bento.h>

#define FAKE_MAGIC 0xfa4e0001u

struct fake_info {
	struct bento_mutex lock;
	uint32_t magic;
};

static int fake_init(struct bento_sb *sb)
{
	struct fake_info *fi;
	struct bento_buf *b;
	int err;

	if (strcmp(sb->options, "fail") == 0)
		return -EINVAL;
	fi = bento_zalloc(sizeof(*fi));
	if (!fi)
		return -ENOMEM;
	bento_mutex_init(&fi->lock);
	err = bento_getblk(sb, 0, &b);
	if (err) {
		bento_mutex_destroy(&fi->lock);
		bento_free(fi);
		return err;
	}
	bento_buf_put32(b, 0, FAKE_MAGIC);
	bento_buf_mark_dirty(b);
	bento_brelse(b);
	fi->magic = FAKE_MAGIC;
	sb->fs_info = fi;
	sb->root_ino = 1;
	return 0;
}

static void fake_destroy(struct bento_sb *sb)
{
	struct fake_info *fi = sb->fs_info;

	bento_mutex_destroy(&fi->lock);
	bento_free(fi);
}

static int fake_lookup(struct bento_sb *sb, bento_ino_t parent,
		       const char *name, struct bento_entry *out)
{
	return -ENOENT;
}

static int fake_getattr(struct bento_sb *sb, bento_ino_t ino,
			struct bento_attr *out)
{
	struct fake_info *fi = sb->fs_info;

	memset(out, 0, sizeof(*out));
	out->ino = ino;
	out->mode = S_IFDIR | 0755;
	out->nlink = 2;
	out->size = fi->magic;
	return 0;
}

static const struct bento_fs_ops fake_ops = {
	.init = fake_init,
	.destroy = fake_destroy,
#ifndef FAKE_NO_LOOKUP
	.lookup = fake_lookup,
#endif
	.getattr = fake_getattr,
};

#ifdef FAKE_BAD_API
static const struct bento_module fake_module = {
	.api_version = BENTO_API_VERSION + 98,
	.name = "fake",
	.version = "0.1",
	.ops = &fake_ops,
};
__attribute__((visibility("default")))
const struct bento_module *bento_module_entry = &fake_module;
#else
BENTO_MODULE(fake, "0.1", &fake_ops);
#endif

/* Keeps -Wmissing-prototypes quiet when lookup is left out. */
int fake_unused(void);
int fake_unused(void)
{
	return fake_lookup(NULL, 0, NULL, NULL);
}
