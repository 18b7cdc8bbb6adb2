/*
 * upfs.c - a tiny file system for the live-upgrade tests, built in
 * variants from this one source (tests/upgrade/upgrade.mk sets -D flags).
 *
 * The root holds two files: "data", whose bytes live in memory only
 * (written to block 0 by sync_fs and destroy, read back by init), and
 * "version", read-only, which says which build serves and how many
 * upgrades its state has come through: "upfs 2.0 state 2 gen 3\n".
 * Mounted with commit=0, "data" reaches the device only at unmount, so
 * an upgrade that dropped the state would lose it: the test sees that.
 *
 * prepare writes a record of version UP_WRITES: item 1 the data (size
 * and bytes), item 2 the generation.  transfer accepts record versions
 * UP_READS_MIN..UP_READS_MAX (-EPROTO otherwise).  Variants:
 *
 *   UP_VERSION "x"       the module's version string
 *   UP_NAME id           the file-system name (default upfs)
 *   UP_FAIL_TRANSFER e   transfer fails with -e, after allocating
 *   UP_FAIL_PREPARE e    prepare fails with -e
 *   UP_NO_TRANSFER, UP_NO_PREPARE, UP_NO_ABANDON   the op is NULL
 *   UP_BAD_API           the descriptor claims another API version
 *   UP_NOT_MODULE        no descriptor at all
 *
 * Layout of block 0: le32 size, then the bytes (as fs/hello).
 */
#define BENTO_LOG_SUBSYS "upfs"
#include <bento/bento.h>
#include <bento/state.h>

#ifndef UP_VERSION
#define UP_VERSION "1.0"
#endif
#ifndef UP_NAME
#define UP_NAME upfs
#endif
#ifndef UP_WRITES
#define UP_WRITES 1
#endif
#ifndef UP_READS_MIN
#define UP_READS_MIN 1
#endif
#ifndef UP_READS_MAX
#define UP_READS_MAX 1
#endif

#define UP_STR2(x) #x
#define UP_STR(x) UP_STR2(x)
#define UP_MAX (BENTO_BLOCK_SIZE - 4u)
#define UP_ST_DATA 1u
#define UP_ST_GEN 2u
enum { ROOT_INO = 1, DATA_INO = 2, VERSION_INO = 3 };

struct upfs {
	struct bento_mutex lock;	/* guards size, bytes */
	uint32_t size;
	uint32_t gen;			/* upgrades come through */
	uint32_t state_version;		/* of the record we came from */
	char *bytes;			/* UP_MAX of them */
};

static struct upfs *up_new(void)
{
	struct upfs *u = bento_zalloc(sizeof(*u));

	if (!u)
		return NULL;
	u->bytes = bento_zalloc(UP_MAX);
	if (!u->bytes) {
		bento_free(u);
		return NULL;
	}
	bento_mutex_init(&u->lock);
	return u;
}

static void up_free(struct upfs *u)
{
	bento_mutex_destroy(&u->lock);
	bento_free(u->bytes);
	bento_free(u);
}

static int up_init(struct bento_sb *sb)
{
	struct upfs *u = up_new();
	struct bento_buf *b;
	int err;

	if (!u)
		return -ENOMEM;
	err = bento_bread(sb, 0, &b);
	if (err) {
		up_free(u);
		return err;
	}
	u->size = bento_buf_get32(b, 0);
	if (u->size > UP_MAX) {
		bento_brelse(b);
		up_free(u);
		return bento_fs_corrupt(sb, -EUCLEAN, "block 0: bad size");
	}
	bento_buf_read(b, 4, u->bytes, u->size);
	bento_brelse(b);
	sb->fs_info = u;
	sb->root_ino = ROOT_INO;
	return 0;
}

static int up_sync_fs(struct bento_sb *sb, int wait)
{
	struct upfs *u = sb->fs_info;
	struct bento_buf *b;
	int err = bento_bread(sb, 0, &b);

	if (err)
		return err;
	bento_mutex_lock(&u->lock);
	bento_buf_zero(b, 0, BENTO_BLOCK_SIZE);
	bento_buf_put32(b, 0, u->size);
	bento_buf_write(b, 4, u->bytes, u->size);
	bento_mutex_unlock(&u->lock);
	bento_buf_mark_dirty(b);
	bento_brelse(b);
	err = bento_sync_dirty(sb);
	return err ? err : bento_dev_flush(sb);
}

static void up_destroy(struct bento_sb *sb)
{
	up_sync_fs(sb, 1);
	up_free(sb->fs_info);
}

/* "upfs 2.0 state 1 gen 3\n" into @buf (64 bytes). */
static uint32_t up_version_text(struct upfs *u, char *buf)
{
	static const char digits[] = "0123456789";
	const char *parts[3] = { UP_STR(UP_NAME) " " UP_VERSION " state ",
				 " gen ", "\n" };
	uint32_t nums[2] = { u->state_version, u->gen };
	uint32_t len = 0, i, v, n;
	char tmp[12];

	for (i = 0; i < 3; i++) {
		memcpy(buf + len, parts[i], strlen(parts[i]));
		len += strlen(parts[i]);
		if (i == 2)
			break;
		v = nums[i];
		n = 0;
		do
			tmp[n++] = digits[v % 10];
		while ((v /= 10) && n < sizeof(tmp));
		while (n)
			buf[len++] = tmp[--n];
	}
	return len;
}

static int up_getattr(struct bento_sb *sb, bento_ino_t ino,
		      struct bento_attr *out)
{
	struct upfs *u = sb->fs_info;
	char text[64];

	*out = (struct bento_attr){ .ino = ino, .nlink = 1 };
	if (ino == ROOT_INO) {
		out->mode = S_IFDIR | 0755;
	} else if (ino == DATA_INO) {
		out->mode = S_IFREG | 0644;
		bento_mutex_lock(&u->lock);
		out->size = u->size;
		bento_mutex_unlock(&u->lock);
	} else if (ino == VERSION_INO) {
		out->mode = S_IFREG | 0444;
		out->size = up_version_text(u, text);
	} else {
		return -ENOENT;
	}
	return 0;
}

static int up_lookup(struct bento_sb *sb, bento_ino_t parent,
		     const char *name, struct bento_entry *out)
{
	bento_ino_t ino = strcmp(name, "data") == 0 ? DATA_INO :
			  strcmp(name, "version") == 0 ? VERSION_INO : 0;

	if (parent != ROOT_INO)
		return -ENOTDIR;
	if (!ino)
		return -ENOENT;
	*out = (struct bento_entry){ .ino = ino };
	return up_getattr(sb, ino, &out->attr);
}

static int up_setattr(struct bento_sb *sb, const struct bento_ctx *ctx,
		      bento_ino_t ino, const struct bento_setattr *sa,
		      struct bento_attr *out)
{
	struct upfs *u = sb->fs_info;

	if (sa->valid & (BENTO_SET_MODE | BENTO_SET_UID | BENTO_SET_GID))
		return -EPERM;
	if ((sa->valid & BENTO_SET_SIZE) && ino != DATA_INO)
		return -EPERM;
	if ((sa->valid & BENTO_SET_SIZE) && sa->size > UP_MAX)
		return -EFBIG;
	if (sa->valid & BENTO_SET_SIZE) {
		bento_mutex_lock(&u->lock);
		if (sa->size > u->size)
			memset(u->bytes + u->size, 0, sa->size - u->size);
		u->size = (uint32_t)sa->size;
		bento_mutex_unlock(&u->lock);
	}
	return up_getattr(sb, ino, out);
}

static ssize_t up_read(struct bento_sb *sb, bento_ino_t ino, uint64_t fh,
		       char *buf, size_t size, uint64_t off)
{
	struct upfs *u = sb->fs_info;
	char text[64];
	uint32_t len;

	if (ino == VERSION_INO) {
		len = up_version_text(u, text);
		len = off >= len ? 0 : size < len - off ? size : len - off;
		memcpy(buf, text + (len ? off : 0), len);
		return len;
	}
	bento_mutex_lock(&u->lock);
	len = off >= u->size ? 0 : size < u->size - off ? size :
	      u->size - off;
	memcpy(buf, u->bytes + (len ? off : 0), len);
	bento_mutex_unlock(&u->lock);
	return len;
}

static ssize_t up_write(struct bento_sb *sb, bento_ino_t ino, uint64_t fh,
			const char *buf, size_t size, uint64_t off)
{
	struct upfs *u = sb->fs_info;
	uint32_t len;

	if (ino != DATA_INO)
		return -EPERM;
	if (off >= UP_MAX)
		return -EFBIG;
	len = size < UP_MAX - off ? size : UP_MAX - off;
	bento_mutex_lock(&u->lock);
	if (off > u->size)
		memset(u->bytes + u->size, 0, off - u->size);
	memcpy(u->bytes + off, buf, len);
	if (off + len > u->size)
		u->size = (uint32_t)(off + len);
	bento_mutex_unlock(&u->lock);
	return len;
}

/*
 * The root lists ".", "..", "data", "version" and a name that says which
 * build serves: "build upfs 2.0 state 1 gen 3" (not a file: lookup does
 * not find it).  The kernel caches file contents and names for long, but
 * asks for a listing every time, so tests read the serving build here.
 */
static int up_readdir(struct bento_sb *sb, bento_ino_t ino, uint64_t fh,
		      uint64_t off, bento_filldir_t fill, void *dirbuf)
{
	static const char *const names[] = { ".", "..", "data", "version" };
	static const bento_ino_t inos[] = { ROOT_INO, ROOT_INO, DATA_INO,
					    VERSION_INO };
	char build[72];
	uint32_t len;

	for (; off < 4; off++)
		if (fill(dirbuf, names[off], strlen(names[off]), inos[off],
			 off < 2 ? BENTO_DT_DIR : BENTO_DT_REG, off + 1))
			return 0;
	if (off == 4) {
		memcpy(build, "build ", 6);
		len = 6 + up_version_text(sb->fs_info, build + 6) - 1;
		fill(dirbuf, build, len, VERSION_INO + 1, BENTO_DT_REG, 5);
	}
	return 0;
}

/* ---- live upgrade ---------------------------------------------------- */

/* Unused in the variants that leave the op out. */
static __attribute__((unused)) int up_prepare(struct bento_sb *sb,
					      struct bento_state *st)
{
	struct upfs *u = sb->fs_info;
	uint32_t gen = u->gen + 1;
	int err;

#ifdef UP_FAIL_PREPARE
	bento_err("prepare: simulated failure");
	return -UP_FAIL_PREPARE;
#endif
	bento_state_set_version(st, UP_WRITES);
	err = bento_state_put(st, UP_ST_DATA, u->bytes, u->size);
	if (!err)
		err = bento_state_put(st, UP_ST_GEN, &gen, sizeof(gen));
	return err;
}

static __attribute__((unused)) int up_transfer(struct bento_sb *sb,
					       const struct bento_state *st)
{
	uint32_t version = bento_state_version(st);
	struct upfs *u;
	int64_t len;

	if (version < UP_READS_MIN || version > UP_READS_MAX)
		return -EPROTO;
	len = bento_state_get(st, UP_ST_DATA, NULL, 0);
	if (len < 0 || len > UP_MAX)
		return -EPROTO;
	u = up_new();
	if (!u)
		return -ENOMEM;
#ifdef UP_FAIL_TRANSFER
	bento_err("transfer: simulated failure");
	up_free(u);
	return -UP_FAIL_TRANSFER;
#endif
	u->size = (uint32_t)len;
	bento_state_get(st, UP_ST_DATA, u->bytes, UP_MAX);
	if (bento_state_get(st, UP_ST_GEN, &u->gen, sizeof(u->gen)) != 4) {
		up_free(u);
		return -EPROTO;
	}
	u->state_version = version;
	sb->fs_info = u;
	sb->root_ino = ROOT_INO;
	return 0;
}

static __attribute__((unused)) void up_abandon(struct bento_sb *sb,
					       void *fs_info)
{
	up_free(fs_info);
}

static const struct bento_fs_ops up_ops = {
	.init = up_init,
	.destroy = up_destroy,
	.lookup = up_lookup,
	.getattr = up_getattr,
	.setattr = up_setattr,
	.read = up_read,
	.write = up_write,
	.readdir = up_readdir,
	.sync_fs = up_sync_fs,
#ifndef UP_NO_PREPARE
	.prepare = up_prepare,
#endif
#ifndef UP_NO_TRANSFER
	.transfer = up_transfer,
#endif
#ifndef UP_NO_ABANDON
	.abandon = up_abandon,
#endif
};

#if defined(UP_BAD_API)
static const struct bento_module up_module = {
	.api_version = BENTO_API_VERSION + 1,
	.name = UP_STR(UP_NAME),
	.version = UP_VERSION,
	.ops = &up_ops,
};
__attribute__((visibility("default")))
const struct bento_module *bento_module_entry = &up_module;
#elif !defined(UP_NOT_MODULE)
/* One more level, so UP_NAME is expanded before BENTO_MODULE pastes it. */
#define UP_MODULE(name, ver, ops) BENTO_MODULE(name, ver, ops)
UP_MODULE(UP_NAME, UP_VERSION, &up_ops);
#else
/* Not a module: something for the object to export. */
__attribute__((visibility("default"))) int upfs_not_a_module;
const struct bento_fs_ops *upfs_ops_unused = &up_ops;
#endif
