/*
 * images.c - populated xv6fs images and the corruptions of the bad-image
 * tests (see images.h).
 *
 * The corruptions read and write the image file directly, using the
 * on-disk format header: a tiny reader (superblock, inodes, block map
 * through the single-indirect block, directory lookup) is all they need,
 * because the populated image is small and known.  Garbage is
 * deterministic (a fixed xorshift seed), so fsck's messages are the same
 * on every run.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "../../fs/xv6fs/xv6fs_format.h"
#include "images.h"

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
	       "the corruptions overlay the little-endian format structures");

/* ---- a tiny raw reader/writer ------------------------------------------ */

struct raw {
	int fd;
	struct xv6_disk_super sb;
};

static int raw_open(const char *path, struct raw *r)
{
	r->fd = open(path, O_RDWR);
	if (r->fd < 0)
		return -errno;
	if (pread(r->fd, &r->sb, sizeof(r->sb), 0) != sizeof(r->sb)) {
		close(r->fd);
		return -EIO;
	}
	return 0;
}

static int rblk(struct raw *r, uint64_t b, void *buf)
{
	return pread(r->fd, buf, XV6_BLOCK_SIZE, (off_t)(b * XV6_BLOCK_SIZE)) ==
			       XV6_BLOCK_SIZE ? 0 : -EIO;
}

static int wblk(struct raw *r, uint64_t b, const void *buf)
{
	return pwrite(r->fd, buf, XV6_BLOCK_SIZE,
		      (off_t)(b * XV6_BLOCK_SIZE)) == XV6_BLOCK_SIZE ? 0 : -EIO;
}

static off_t ioff(struct raw *r, uint32_t ino)
{
	return (off_t)((r->sb.itable_start + ino / XV6_INODES_PER_BLOCK) *
		       XV6_BLOCK_SIZE + (ino % XV6_INODES_PER_BLOCK) *
		       XV6_INODE_SIZE);
}

static int iget(struct raw *r, uint32_t ino, struct xv6_disk_inode *di)
{
	return pread(r->fd, di, sizeof(*di), ioff(r, ino)) == sizeof(*di) ?
		       0 : -EIO;
}

/* Write @di with a valid checksum (the point is a valid-looking inode). */
static int iput(struct raw *r, uint32_t ino, struct xv6_disk_inode *di)
{
	di->crc = bento_crc32(0, di, XV6_INODE_CRC_LEN);
	return pwrite(r->fd, di, sizeof(*di), ioff(r, ino)) == sizeof(*di) ?
		       0 : -EIO;
}

/* Block of file block @idx (direct or single indirect), 0 if none. */
static uint32_t bmap(struct raw *r, const struct xv6_disk_inode *di,
		     uint64_t idx)
{
	uint32_t ind[XV6_PTRS_PER_BLOCK];

	if (idx < XV6_NDIRECT)
		return di->addr[idx];
	idx -= XV6_NDIRECT;
	if (idx >= XV6_PTRS_PER_BLOCK || !di->addr[XV6_IND] ||
	    rblk(r, di->addr[XV6_IND], ind))
		return 0;
	return ind[idx];
}

/* Find @name in directory @dir: its inode, and where the record is. */
static uint32_t dir_find(struct raw *r, uint32_t dir, const char *name,
			 uint64_t *bno, uint32_t *off)
{
	uint8_t blk[XV6_BLOCK_SIZE];
	struct xv6_disk_inode di;
	struct xv6_disk_dirent de;
	size_t len = strlen(name);
	uint64_t i;
	uint32_t o;

	if (iget(r, dir, &di))
		return 0;
	for (i = 0; i < di.size / XV6_BLOCK_SIZE && i < 1024; i++) {
		uint32_t b = bmap(r, &di, i);

		if (!b || rblk(r, b, blk))
			return 0;
		for (o = 0; o + XV6_DIRENT_HDR <= XV6_BLOCK_SIZE;
		     o += de.rec_len) {
			memcpy(&de, blk + o, sizeof(de));
			if (de.rec_len < XV6_DIRENT_HDR)
				break;
			if (de.ino && de.name_len == len &&
			    !memcmp(blk + o + XV6_DIRENT_HDR, name, len)) {
				if (bno)
					*bno = b;
				if (off)
					*off = o;
				return de.ino;
			}
		}
	}
	return 0;
}

static uint32_t namei(struct raw *r, const char *path)
{
	char comp[BENTO_NAME_MAX + 1];
	uint32_t ino = XV6_ROOT_INO;

	while (*path && ino) {
		size_t n = strcspn(path, "/");

		if (n > BENTO_NAME_MAX)
			return 0;
		memcpy(comp, path, n);
		comp[n] = '\0';
		ino = dir_find(r, ino, comp, NULL, NULL);
		path += n + (path[n] == '/');
	}
	return ino;
}

uint32_t badimg_inode_of(const char *img, const char *path)
{
	struct raw r;
	uint32_t ino;

	if (raw_open(img, &r))
		return 0;
	ino = namei(&r, path);
	close(r.fd);
	return ino;
}

/* Add a record @name -> @ino of type @type to directory @dir. */
static int dir_add(struct raw *r, uint32_t dir, const char *name,
		   uint32_t ino, uint8_t type)
{
	uint8_t blk[XV6_BLOCK_SIZE];
	struct xv6_disk_inode di;
	struct xv6_disk_dirent de, nd;
	uint8_t len = (uint8_t)strlen(name);
	uint32_t o, used, b;

	if (iget(r, dir, &di))
		return -EIO;
	b = bmap(r, &di, 0);
	if (!b || rblk(r, b, blk))
		return -EIO;
	for (o = 0; o + XV6_DIRENT_HDR <= XV6_BLOCK_SIZE; o += de.rec_len) {
		memcpy(&de, blk + o, sizeof(de));
		if (de.rec_len < XV6_DIRENT_HDR)
			return -EIO;
		used = de.ino ? XV6_DIRENT_LEN(de.name_len) : 0;
		if (de.rec_len < used + XV6_DIRENT_LEN(len))
			continue;
		nd = (struct xv6_disk_dirent){
			ino, (uint16_t)(de.rec_len - used), len, type,
			(uint32_t)bento_hash64(name, len, r->sb.hash_seed)
		};
		if (used) {
			de.rec_len = (uint16_t)used;
			memcpy(blk + o, &de, sizeof(de));
		}
		memcpy(blk + o + used, &nd, sizeof(nd));
		memcpy(blk + o + used + XV6_DIRENT_HDR, name, len);
		return wblk(r, b, blk);
	}
	return -ENOSPC;
}

/* Remove @name from directory @dir (merge into the previous record). */
static int dir_del(struct raw *r, uint32_t dir, const char *name)
{
	uint8_t blk[XV6_BLOCK_SIZE];
	struct xv6_disk_dirent de, pd;
	uint32_t o, prev = UINT32_MAX;
	uint64_t bno;
	uint32_t off;

	if (!dir_find(r, dir, name, &bno, &off) || rblk(r, bno, blk))
		return -ENOENT;
	for (o = 0; o < off; o += de.rec_len) {
		memcpy(&de, blk + o, sizeof(de));
		prev = o;
	}
	memcpy(&de, blk + off, sizeof(de));
	if (prev == UINT32_MAX) {
		de.ino = 0;
		memcpy(blk + off, &de, sizeof(de));
	} else {
		memcpy(&pd, blk + prev, sizeof(pd));
		pd.rec_len = (uint16_t)(pd.rec_len + de.rec_len);
		memcpy(blk + prev, &pd, sizeof(pd));
	}
	return wblk(r, bno, blk);
}

static void garbage(void *buf, size_t len, uint64_t seed)
{
	uint8_t *p = buf;
	size_t i;

	for (i = 0; i < len; i++) {
		seed ^= seed << 13;
		seed ^= seed >> 7;
		seed ^= seed << 17;
		p[i] = (uint8_t)seed;
	}
}

/* ---- populating --------------------------------------------------------- */

static int put_file(struct bento_test_fs *fs, const char *path, size_t len,
		    uint8_t fill)
{
	uint8_t *buf = malloc(len ? len : 1);
	int err;

	if (!buf)
		return -ENOMEM;
	memset(buf, fill, len);
	err = bento_test_write_file(fs, path, buf, len);
	free(buf);
	return err;
}

int badimg_populate(const char *path)
{
	struct bento_test_fs *fs;
	char name[32];
	int err, i;

	err = bento_test_mkfs_xv6fs(path, BADIMG_BLOCKS, BADIMG_INODES);
	if (err)
		return err;
	err = bento_test_mount_file(&bento_module_xv6fs, path, NULL, &fs);
	if (err)
		return err;
	err = put_file(fs, "small", 100, 's');
	if (!err)
		err = put_file(fs, "big", 20 * XV6_BLOCK_SIZE, 'b');
	if (!err)
		err = bento_test_mkdir(fs, "a", 0755);
	if (!err)
		err = put_file(fs, "a/file1", 3 * XV6_BLOCK_SIZE, '1');
	if (!err)
		err = bento_test_link(fs, "small", "a/hard");
	if (!err)
		err = bento_test_mkdir(fs, "a/b", 0755);
	if (!err)
		err = bento_test_mkdir(fs, "a/b/c", 0755);
	if (!err)
		err = put_file(fs, "a/b/f2", XV6_BLOCK_SIZE, '2');
	if (!err)
		err = bento_test_symlink(fs, "a/file1", "link");
	if (!err)
		err = bento_test_mkdir(fs, "dir2", 0755);
	for (i = 0; i < 24 && !err; i++) {
		snprintf(name, sizeof(name), "dir2/x%02d", i);
		err = put_file(fs, name, 10 + i, 'x');
	}
	if (err) {
		bento_test_unmount(fs);
		return err;
	}
	return bento_test_unmount(fs);
}

/* ---- the corruptions ----------------------------------------------------- */

/* Open @path, find @file's inode: the common start of a corruption. */
#define OPEN_AT(path, r, file, ino)					\
	do {								\
		int e_ = raw_open(path, &(r));				\
		if (e_)							\
			return e_;					\
		(ino) = namei(&(r), file);				\
		if (!(ino)) {						\
			close((r).fd);					\
			return -ENOENT;					\
		}							\
	} while (0)

static int c_truncated(const char *path)
{
	return truncate(path, (off_t)BADIMG_BLOCKS / 2 * XV6_BLOCK_SIZE) ?
		       -errno : 0;
}

static int c_zero_super(const char *path)
{
	uint8_t blk[XV6_BLOCK_SIZE] = { 0 };
	struct raw r;
	int err = raw_open(path, &r);

	if (err)
		return err;
	err = wblk(&r, 0, blk);
	close(r.fd);
	return err;
}

static int c_super_fields(const char *path)
{
	uint8_t blk[XV6_BLOCK_SIZE];
	struct raw r;
	int err = raw_open(path, &r);

	if (err)
		return err;
	err = rblk(&r, 0, blk);
	r.sb.log_blocks = 3;
	r.sb.crc = bento_crc32(0, &r.sb, XV6_SUPER_CRC_LEN);
	memcpy(blk, &r.sb, sizeof(r.sb));
	if (!err)
		err = wblk(&r, 0, blk);
	close(r.fd);
	return err;
}

static int c_garbage_inode(const char *path)
{
	struct xv6_disk_inode di;
	struct raw r;
	uint32_t ino;
	int err;

	OPEN_AT(path, r, "a/file1", ino);
	garbage(&di, sizeof(di), 0x1234567);
	err = pwrite(r.fd, &di, sizeof(di), ioff(&r, ino)) == sizeof(di) ?
		      0 : -EIO;
	close(r.fd);
	return err;
}

static int c_garbage_itable(const char *path)
{
	uint8_t blk[XV6_BLOCK_SIZE];
	struct raw r;
	uint32_t ino;
	int err;

	OPEN_AT(path, r, "dir2/x20", ino);
	garbage(blk, sizeof(blk), 0xabcdef);
	err = wblk(&r, r.sb.itable_start + ino / XV6_INODES_PER_BLOCK, blk);
	close(r.fd);
	return err;
}

static int c_garbage_dir(const char *path)
{
	uint8_t blk[XV6_BLOCK_SIZE];
	struct xv6_disk_inode di;
	struct raw r;
	uint32_t ino;
	int err;

	OPEN_AT(path, r, "dir2", ino);
	err = iget(&r, ino, &di);
	garbage(blk, sizeof(blk), 0x77777);
	if (!err)
		err = di.addr[0] ? wblk(&r, di.addr[0], blk) : -EIO;
	close(r.fd);
	return err;
}

/* /a and /a/b name each other only: a cycle cut off from the root. */
static int c_dir_cycle(const char *path)
{
	struct raw r;
	uint32_t a, b;
	int err;

	OPEN_AT(path, r, "a", a);
	b = namei(&r, "a/b");
	err = b ? dir_add(&r, b, "loop", a, BENTO_DT_DIR) : -ENOENT;
	if (!err)
		err = dir_del(&r, XV6_ROOT_INO, "a");
	close(r.fd);
	return err;
}

/* /a/b/loop names /a too: a directory with two names. */
static int c_dir_twice(const char *path)
{
	struct raw r;
	uint32_t a, b;
	int err;

	OPEN_AT(path, r, "a", a);
	b = namei(&r, "a/b");
	err = b ? dir_add(&r, b, "loop", a, BENTO_DT_DIR) : -ENOENT;
	close(r.fd);
	return err;
}

static int c_oob_inode(const char *path)
{
	struct xv6_disk_inode di;
	struct raw r;
	uint32_t ino;
	int err;

	OPEN_AT(path, r, "small", ino);
	err = iget(&r, ino, &di);
	di.addr[0] = (uint32_t)r.sb.nblocks + 100;
	if (!err)
		err = iput(&r, ino, &di);
	close(r.fd);
	return err;
}

static int c_oob_indirect(const char *path)
{
	uint32_t ind[XV6_PTRS_PER_BLOCK];
	struct xv6_disk_inode di;
	struct raw r;
	uint32_t ino;
	int err;

	OPEN_AT(path, r, "big", ino);
	err = iget(&r, ino, &di);
	if (!err)
		err = di.addr[XV6_IND] ? rblk(&r, di.addr[XV6_IND], ind) : -EIO;
	ind[3] = 0xfffffff0u;
	if (!err)
		err = wblk(&r, di.addr[XV6_IND], ind);
	close(r.fd);
	return err;
}

static int c_dup_block(const char *path)
{
	struct xv6_disk_inode d1, d2;
	struct raw r;
	uint32_t f1, f2;
	int err;

	OPEN_AT(path, r, "a/file1", f1);
	f2 = namei(&r, "a/b/f2");
	err = f2 ? iget(&r, f1, &d1) : -ENOENT;
	if (!err)
		err = iget(&r, f2, &d2);
	d2.addr[0] = d1.addr[0];
	if (!err)
		err = iput(&r, f2, &d2);
	close(r.fd);
	return err;
}

static int c_bad_nlink(const char *path)
{
	struct xv6_disk_inode di;
	struct raw r;
	uint32_t ino, a;
	int err;

	OPEN_AT(path, r, "small", ino);
	err = iget(&r, ino, &di);
	di.nlink = 7;
	if (!err)
		err = iput(&r, ino, &di);
	a = namei(&r, "a");
	if (!err)
		err = a ? iget(&r, a, &di) : -ENOENT;
	di.nlink = 9;
	if (!err)
		err = iput(&r, a, &di);
	close(r.fd);
	return err;
}

static int flip_bit(struct raw *r, uint64_t start, uint64_t n)
{
	uint8_t blk[XV6_BLOCK_SIZE];
	uint64_t b = start + n / XV6_BITS_PER_BLOCK;
	uint32_t bit = n % XV6_BITS_PER_BLOCK;
	int err = rblk(r, b, blk);

	blk[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	return err ? err : wblk(r, b, blk);
}

static int c_bitmaps(const char *path)
{
	struct xv6_disk_inode di;
	struct raw r;
	uint32_t ino;
	int err;

	OPEN_AT(path, r, "big", ino);
	err = iget(&r, ino, &di);
	if (!err)	/* a used block marked free */
		err = flip_bit(&r, r.sb.bmap_start, di.addr[0]);
	if (!err)	/* a free block marked used */
		err = flip_bit(&r, r.sb.bmap_start, r.sb.nblocks - 10);
	if (!err)	/* an inode in use marked free */
		err = flip_bit(&r, r.sb.imap_start, ino);
	close(r.fd);
	return err;
}

/*
 * A committed transaction in the journal that was never installed: a
 * new version of /small's inode-table block (mtime changed).  @torn
 * breaks its checksum, as a crash during the commit write would.
 */
static int journal_txn(const char *path, bool torn)
{
	struct xv6_disk_loghdr *h = calloc(1, sizeof(*h));
	uint8_t blk[XV6_BLOCK_SIZE];
	struct xv6_disk_inode di;
	struct raw r;
	uint64_t home;
	uint32_t ino, crc;
	int err;

	if (!h)
		return -ENOMEM;
	err = raw_open(path, &r);
	ino = err ? 0 : namei(&r, "small");
	if (!ino) {
		free(h);
		if (!err)
			close(r.fd);
		return err ? err : -ENOENT;
	}
	home = r.sb.itable_start + ino / XV6_INODES_PER_BLOCK;
	err = rblk(&r, home, blk);
	memcpy(&di, blk + (ino % XV6_INODES_PER_BLOCK) * XV6_INODE_SIZE,
	       sizeof(di));
	di.mtime_sec = 12345;
	di.crc = bento_crc32(0, &di, XV6_INODE_CRC_LEN);
	memcpy(blk + (ino % XV6_INODES_PER_BLOCK) * XV6_INODE_SIZE, &di,
	       sizeof(di));
	h->magic = XV6_LOG_MAGIC;
	h->count = 1;
	h->seq = 7;
	h->block[0] = (uint32_t)home;
	crc = bento_crc32(0, h, sizeof(*h));
	h->crc = bento_crc32(crc, blk, sizeof(blk)) + (torn ? 1 : 0);
	if (!err)
		err = wblk(&r, r.sb.log_start + 1, blk);
	if (!err)
		err = wblk(&r, r.sb.log_start, h);
	close(r.fd);
	free(h);
	return err;
}

static int c_journal_pending(const char *path)
{
	return journal_txn(path, false);
}

static int c_journal_torn(const char *path)
{
	return journal_txn(path, true);
}

const struct badimg_case badimg_cases[] = {
	{ "truncated", "image cut to half its size", c_truncated, false,
	  "truncated", NULL, NULL, NULL, 4, 4 },
	{ "zero_super", "superblock zeroed", c_zero_super, false,
	  "not an xv6fs image", NULL, NULL, NULL, 8, 8 },
	{ "super_fields", "superblock with a bad journal size (crc valid)",
	  c_super_fields, false, "journal size", NULL, NULL, NULL, 4, 4 },
	{ "garbage_inode", "garbage over the inode of /a/file1",
	  c_garbage_inode, true, "inode", "a/file1", "a/file1", "small",
	  4, 1 },
	{ "garbage_itable", "garbage over the inode-table block of /dir2/x20",
	  c_garbage_itable, true, "inode", "dir2/x20", "dir2/x20", "small",
	  4, 1 },
	{ "garbage_dir", "garbage over the first block of /dir2",
	  c_garbage_dir, true, "directory", "dir2", "dir2", "small", 4, 1 },
	{ "dir_cycle", "/a and /a/b name each other, nothing else names /a",
	  c_dir_cycle, true, "cycle", "a", "", "small", 4, 1 },
	{ "dir_twice", "/a/b/loop names /a as well as /a",
	  c_dir_twice, true, "also named", "a", "", "small", 4, 1 },
	{ "oob_inode", "out-of-range block number in /small's inode",
	  c_oob_inode, true, "out of range", "small", "small", "a/file1",
	  4, 1 },
	{ "oob_indirect", "out-of-range block number in /big's indirect block",
	  c_oob_indirect, true, "out of range", "big", "big", "small", 4, 1 },
	{ "dup_block", "/a/b/f2's first block is /a/file1's too",
	  c_dup_block, true, "claimed by inode", "a/b/f2", "", "a/file1",
	  4, 1 },
	{ "bad_nlink", "link counts of /small and /a wrong", c_bad_nlink,
	  true, "link count", "small", "", "small", 4, 1 },
	{ "journal_pending", "a committed transaction not yet installed",
	  c_journal_pending, true, "journal needs recovery", NULL, "",
	  "small", 4, 1 },
	{ "journal_torn", "a journal header whose checksum fails (torn commit)",
	  c_journal_torn, true, "will not be replayed", NULL, "", "small",
	  0, 0 },
	{ "bitmaps", "block and inode bitmaps disagree with the tree",
	  c_bitmaps, true, "bitmap", NULL, "", "big", 4, 1 },
};
const unsigned int badimg_ncases =
	sizeof(badimg_cases) / sizeof(badimg_cases[0]);

const struct badimg_case *badimg_find(const char *name)
{
	unsigned int i;

	for (i = 0; i < badimg_ncases; i++)
		if (!strcmp(badimg_cases[i].name, name))
			return &badimg_cases[i];
	return NULL;
}

/* ---- metadata blocks, for the fuzz loop ------------------------------- */

static void add_block(uint64_t **v, size_t *n, size_t *cap, uint64_t b)
{
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 64;
		*v = realloc(*v, *cap * sizeof(**v));
		if (!*v)
			abort();
	}
	(*v)[(*n)++] = b;
}

int badimg_metadata_blocks(const char *img, uint64_t **blocks, size_t *n)
{
	struct xv6_disk_inode di;
	struct raw r;
	size_t cap = 0;
	uint64_t i, last_it = UINT64_MAX;
	uint32_t ino, k;
	int err = raw_open(img, &r);

	if (err)
		return err;
	*blocks = NULL;
	*n = 0;
	add_block(blocks, n, &cap, 0);
	add_block(blocks, n, &cap, r.sb.imap_start);
	add_block(blocks, n, &cap, r.sb.bmap_start);
	for (ino = 1; ino < r.sb.ninodes; ino++) {
		uint16_t type;

		if (iget(&r, ino, &di) || !di.mode)
			continue;
		if (ino / XV6_INODES_PER_BLOCK != last_it) {
			last_it = ino / XV6_INODES_PER_BLOCK;
			add_block(blocks, n, &cap, r.sb.itable_start + last_it);
		}
		type = di.mode & 0170000;
		if (type == 0040000) {
			for (i = 0; i < di.size / XV6_BLOCK_SIZE; i++) {
				k = bmap(&r, &di, i);
				if (k)
					add_block(blocks, n, &cap, k);
			}
		} else if (type == 0120000 && di.addr[0]) {
			add_block(blocks, n, &cap, di.addr[0]);
		}
		for (k = XV6_IND; k < XV6_NADDR; k++)
			if (di.addr[k])
				add_block(blocks, n, &cap, di.addr[k]);
	}
	close(r.fd);
	return 0;
}
