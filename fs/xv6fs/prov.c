/*
 * prov.c - the provenance hooks of the provenance build of xv6fs
 * ("1.0+prov"): one record per create, open, unlink, rename, mkdir and
 * symlink, appended to the provenance log in the op's own transaction.
 *
 * The log is a hidden regular file (xv6fs_format.h: struct
 * xv6_disk_prov, prov_ino in the superblock).  The first record creates
 * it: a root-owned 0400 inode with one link, the superblock's, in the
 * same transaction as that record.  fs->rename_lock serializes creation
 * (an op calls a hook holding its transaction and no inode lock, which
 * is where rename_lock sits in the lock order); the log inode's own lock
 * serializes appends.  Record blocks are journaled like metadata, so a
 * crash keeps an op and its record together.
 *
 * The log shows read-only as XV6_PROV_NAME in the root, to lookup only
 * (readdir does not list it); `bento prov MOUNTPOINT` reads it there.
 *
 * Limits: a record that does not fit (no space, log full) is dropped
 * with a warning and the op stands; the log only grows (nothing trims
 * it); an open is recorded in a transaction of its own, after the open.
 */
#define BENTO_LOG_SUBSYS "xv6fs"
#include "xv6fs_prov.h"

const char xv6_prov_version[] = "1.0+prov";

/* Data, inode, bitmap and up to three indirect blocks, plus the inode
 * and superblock blocks on first use. */
const uint32_t xv6_prov_blocks = 8;

/* make_log - create the log in @tx.  Caller holds fs->rename_lock. */
static int make_log(struct xv6_tx *tx, uint64_t *ino)
{
	struct bento_ctx root = { .uid = 0, .gid = 0, .pid = 0 };
	struct xv6_fs *fs = tx->fs;
	struct xv6_inode *ip;
	int err;

	err = xv6_ialloc(tx, S_IFREG | 0400, &root, &ip);
	if (err)
		return err;
	bento_rwlock_wrlock(&ip->lock);
	err = xv6_set_prov_ino(tx, ip->ino);
	if (err)
		ip->nlink = 0;	/* freed by the last iput */
	xv6_iupdate(tx, ip);
	*ino = ip->ino;
	bento_rwlock_wrunlock(&ip->lock);
	xv6_iput(fs, ip);
	if (!err)
		bento_info("provenance: log created as inode %llu",
			   (unsigned long long)*ino);
	return err;
}

/* get_log - the log inode, referenced, made first if there is none. */
static int get_log(struct xv6_tx *tx, struct xv6_inode **out)
{
	struct xv6_fs *fs = tx->fs;
	uint64_t ino = xv6_prov_ino(fs);
	int err = 0;

	if (!ino) {
		bento_mutex_lock(&fs->rename_lock);
		ino = xv6_prov_ino(fs);
		if (!ino)
			err = make_log(tx, &ino);
		bento_mutex_unlock(&fs->rename_lock);
		if (err)
			return err;
	}
	err = xv6_iget(fs, ino, out);
	if (err)
		return err;
	if (!S_ISREG((*out)->mode)) {
		xv6_iput(fs, *out);
		return xv6_inode_corrupt(fs, ino, "provenance log is not a regular file");
	}
	return 0;
}

/* append - write record @rec at the end of the log @ip (locked). */
static int append(struct xv6_tx *tx, struct xv6_inode *ip, const void *rec)
{
	struct xv6_fs *fs = tx->fs;
	uint64_t off = ip->size - ip->size % XV6_PROV_REC_SIZE, pblk;
	struct bento_buf *b;
	bool fresh;
	int err;

	if (xv6_tx_low(tx, xv6_prov_blocks))
		return -ENOSPC;
	err = xv6_bmap(fs, ip, off / XV6_BLOCK_SIZE, tx, 0, &pblk, &fresh);
	if (err)
		return err;
	err = fresh ? bento_getblk(fs->sb, pblk, &b) :
		      bento_bread(fs->sb, pblk, &b);
	if (err)
		return err;
	if (fresh)
		bento_buf_zero(b, 0, XV6_BLOCK_SIZE);
	err = bento_buf_write(b, (uint32_t)(off % XV6_BLOCK_SIZE), rec,
			      XV6_PROV_REC_SIZE);
	if (!err)
		xv6_log_write(tx, b);
	bento_brelse(b);
	if (err)
		return err;
	ip->size = off + XV6_PROV_REC_SIZE;
	xv6_touch(ip, true, true);
	return xv6_iupdate(tx, ip);
}

#define P_OFF(f) offsetof(struct xv6_disk_prov, f)

/* put_le - store the low @n bytes of @v at @p, little-endian. */
static void put_le(uint8_t *p, uint64_t v, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* fill - encode one record into @rec (XV6_PROV_REC_SIZE bytes). */
static void fill(uint8_t *rec, const struct bento_ctx *ctx, uint32_t op,
		 uint64_t ino, uint64_t parent, const char *name,
		 uint64_t newparent, const char *newname)
{
	uint8_t *nm = rec + P_OFF(name);
	struct bento_timespec now;
	uint32_t len = 0, n;

	memset(rec, 0, XV6_PROV_REC_SIZE);
	bento_now(&now);
	if (name) {
		n = (uint32_t)strlen(name);
		memcpy(nm, name, n);
		len = n;
	}
	if (newname) {
		n = (uint32_t)strlen(newname);
		nm[len++] = '/';
		memcpy(nm + len, newname, n);
		len += n;
	}
	put_le(rec + P_OFF(op), op, 2);
	put_le(rec + P_OFF(name_len), len, 2);
	put_le(rec + P_OFF(pid), ctx ? ctx->pid : 0, 4);
	put_le(rec + P_OFF(ino), ino, 8);
	put_le(rec + P_OFF(parent), parent, 8);
	put_le(rec + P_OFF(newparent), newparent, 8);
	put_le(rec + P_OFF(time_ns),
	       (uint64_t)now.sec * 1000000000ull + now.nsec, 8);
}

void xv6_prov_record(struct xv6_tx *tx, const struct bento_ctx *ctx,
		     uint32_t op, uint64_t ino, uint64_t parent,
		     const char *name, uint64_t newparent,
		     const char *newname)
{
	struct xv6_inode *ip;
	uint8_t *rec;
	int err;

	/* 1. The record: two names of at most 255 bytes and a '/' fit. */
	rec = bento_alloc(XV6_PROV_REC_SIZE);
	if (!rec) {
		err = -ENOMEM;
		goto out;
	}
	fill(rec, ctx, op, ino, parent, name, newparent, newname);

	/* 2. The log, then the append under its lock. */
	err = get_log(tx, &ip);
	if (!err) {
		bento_rwlock_wrlock(&ip->lock);
		err = append(tx, ip, rec);
		bento_rwlock_wrunlock(&ip->lock);
		xv6_iput(tx->fs, ip);
	}
	bento_free(rec);
out:
	if (err)
		bento_warn("provenance: inode %llu: record of op %u dropped (error %d)",
			   (unsigned long long)ino, op, err);
}

void xv6_prov_open(struct xv6_fs *fs, const struct bento_ctx *ctx,
		   uint64_t ino)
{
	struct xv6_tx tx;

	if (fs->read_only || ino == xv6_prov_ino(fs))
		return;
	if (xv6_begin_op(fs, &tx, xv6_prov_blocks))
		return;
	xv6_prov_record(&tx, ctx, XV6_PROV_OPEN, ino, 0, NULL, 0, NULL);
	xv6_end_op(&tx);
}

int xv6_prov_lookup(struct xv6_fs *fs, uint64_t parent, const char *name,
		    struct bento_entry *out)
{
	struct xv6_inode *ip;
	uint64_t ino;
	int err;

	if (parent != XV6_ROOT_INO || strcmp(name, XV6_PROV_NAME) != 0)
		return -ENOENT;
	ino = xv6_prov_ino(fs);
	if (!ino)
		return -ENOENT;
	err = xv6_iget(fs, ino, &ip);
	if (err)
		return err;
	xv6_ilookup_add(fs, ip, 1);
	bento_rwlock_rdlock(&ip->lock);
	xv6_fill_entry(ip, out);
	bento_rwlock_rdunlock(&ip->lock);
	xv6_iput(fs, ip);
	return 0;
}
