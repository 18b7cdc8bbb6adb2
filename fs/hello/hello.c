/*
 * hello - the smallest useful Bento file system: one file, /hello, kept in
 * block 0 of the device so that it survives a remount.  Bytes 0..3 hold
 * its size (little-endian), the contents follow, and bytes past the size
 * stay zero: a zeroed device is an empty file.  Block 0 stays held in the
 * cache, guarded by a mutex, and is marked dirty on every change.
 */
#define BENTO_LOG_SUBSYS "hello"
#include <bento/bento.h>

#define HELLO_DATA 4u				/* contents start here */
#define HELLO_MAX (BENTO_BLOCK_SIZE - HELLO_DATA)
enum { ROOT_INO = 1, FILE_INO = 2 };

struct hello {
	struct bento_mutex lock;		/* guards blk's bytes */
	struct bento_buf *blk;			/* block 0 */
};

static int hello_init(struct bento_sb *sb)
{
	struct hello *h = bento_zalloc(sizeof(*h));
	int err = h ? bento_bread(sb, 0, &h->blk) : -ENOMEM;

	if (!err && bento_buf_get32(h->blk, 0) > HELLO_MAX) {
		err = bento_fs_corrupt(sb, -EUCLEAN, "block 0: bad file size");
		bento_brelse(h->blk);
	}
	if (err) {
		bento_free(h);
		return err;
	}
	bento_mutex_init(&h->lock);
	sb->fs_info = h;
	sb->root_ino = ROOT_INO;
	return 0;
}

static void hello_destroy(struct bento_sb *sb)
{
	struct hello *h = sb->fs_info;

	bento_brelse(h->blk);
	bento_mutex_destroy(&h->lock);
	bento_free(h);
}

static int hello_getattr(struct bento_sb *sb, bento_ino_t ino,
			 struct bento_attr *out)
{
	struct hello *h = sb->fs_info;

	*out = (struct bento_attr){ .ino = ino, .nlink = 1, .mode =
		ino == ROOT_INO ? S_IFDIR | 0755 : S_IFREG | 0666 };
	bento_mutex_lock(&h->lock);
	out->size = ino == FILE_INO ? bento_buf_get32(h->blk, 0) : 0;
	bento_mutex_unlock(&h->lock);
	return 0;
}

static int hello_lookup(struct bento_sb *sb, bento_ino_t parent,
			const char *name, struct bento_entry *out)
{
	if (strcmp(name, "hello") != 0)
		return -ENOENT;
	*out = (struct bento_entry){ .ino = FILE_INO };
	return hello_getattr(sb, FILE_INO, &out->attr);
}

/* Only the size changes; new times are accepted and ignored. */
static int hello_setattr(struct bento_sb *sb, const struct bento_ctx *ctx,
			 bento_ino_t ino, const struct bento_setattr *sa,
			 struct bento_attr *out)
{
	struct hello *h = sb->fs_info;

	if (sa->valid & (BENTO_SET_MODE | BENTO_SET_UID | BENTO_SET_GID))
		return -EPERM;
	if ((sa->valid & BENTO_SET_SIZE) && sa->size > HELLO_MAX)
		return -EFBIG;
	if (sa->valid & BENTO_SET_SIZE) {
		bento_mutex_lock(&h->lock);
		bento_buf_zero(h->blk, HELLO_DATA + sa->size,
			       HELLO_MAX - sa->size);
		bento_buf_put32(h->blk, 0, (uint32_t)sa->size);
		bento_buf_mark_dirty(h->blk);
		bento_mutex_unlock(&h->lock);
	}
	return hello_getattr(sb, ino, out);
}

static ssize_t hello_read(struct bento_sb *sb, bento_ino_t ino, uint64_t fh,
			  char *buf, size_t size, uint64_t off)
{
	struct hello *h = sb->fs_info;
	uint32_t len;

	bento_mutex_lock(&h->lock);
	len = bento_buf_get32(h->blk, 0);
	len = off >= len ? 0 : size < len - off ? size : len - off;
	bento_buf_read(h->blk, HELLO_DATA + (len ? off : 0), buf, len);
	bento_mutex_unlock(&h->lock);
	return len;
}

static ssize_t hello_write(struct bento_sb *sb, bento_ino_t ino,
			   uint64_t fh, const char *buf, size_t size,
			   uint64_t off)
{
	struct hello *h = sb->fs_info;
	uint32_t len;

	if (off >= HELLO_MAX)
		return -EFBIG;
	len = size < HELLO_MAX - off ? size : HELLO_MAX - off;
	bento_mutex_lock(&h->lock);
	if (off + len > bento_buf_get32(h->blk, 0))
		bento_buf_put32(h->blk, 0, off + len);
	bento_buf_write(h->blk, HELLO_DATA + off, buf, len);
	bento_buf_mark_dirty(h->blk);
	bento_mutex_unlock(&h->lock);
	return len;
}

static int hello_readdir(struct bento_sb *sb, bento_ino_t ino, uint64_t fh,
			 uint64_t off, bento_filldir_t fill, void *dirbuf)
{
	static const char *const names[] = { ".", "..", "hello" };

	for (; off < 3; off++)		/* entry i's cookie is i + 1 */
		if (fill(dirbuf, names[off], strlen(names[off]),
			 off < 2 ? ROOT_INO : FILE_INO,
			 off < 2 ? BENTO_DT_DIR : BENTO_DT_REG, off + 1))
			break;
	return 0;
}

static const struct bento_fs_ops hello_ops = {
	.init = hello_init,
	.destroy = hello_destroy,
	.lookup = hello_lookup,
	.getattr = hello_getattr,
	.setattr = hello_setattr,
	.read = hello_read,
	.write = hello_write,
	.readdir = hello_readdir,
};

BENTO_MODULE(hello, "1.0", &hello_ops);
