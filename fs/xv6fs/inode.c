/*
 * inode.c - the inode cache, on-disk inodes, the block map, truncation
 * and the orphan table.
 *
 * Cache: a hash table of struct xv6_inode under fs->icache_lock.  ip->ref
 * counts users inside the file system, ip->nlookup the host's lookup
 * references.  When both are zero the inode goes on an LRU list of at
 * most XV6_ICACHE_KEEP entries (so directory indexes survive between
 * ops) and leaves the cache when pushed off it; an inode with no links
 * left is instead reclaimed at once (blocks, xattr block, inode), in
 * transactions of its own, which is why xv6_iput must never be called
 * inside a transaction for what may be the last reference.
 *
 * Fields are loaded on first use (xv6_iget) and written back into the
 * inode-table buffer, with a fresh crc, by xv6_iupdate inside a
 * transaction.  Block pointers are checked to lie in the data area before
 * they are followed; the map has at most three levels of indirection, so
 * a pointer loop in a corrupt image cannot make a walk endless.
 *
 * Orphans (unlinked while open, or mid-truncate) are recorded in the
 * orphan table in block 0 under fs->orphan_lock and processed at mount.
 */
#define BENTO_LOG_SUBSYS "xv6fs"
#include "xv6fs.h"

#define I_OFF(f) ((uint32_t)offsetof(struct xv6_disk_inode, f))

int xv6_inode_corrupt(struct xv6_fs *fs, uint64_t ino, const char *what)
{
	return bento_fs_corrupt(fs->sb, -EUCLEAN, "inode %llu: %s",
				(unsigned long long)ino, what);
}

int xv6_icache_init(struct xv6_fs *fs)
{
	fs->ihash_size = 1u << 16;
	fs->ihash = bento_zalloc(sizeof(*fs->ihash) * fs->ihash_size);
	if (!fs->ihash)
		return -ENOMEM;
	bento_mutex_init(&fs->icache_lock);
	bento_mutex_init(&fs->orphan_lock);
	bento_mutex_init(&fs->rename_lock);
	return 0;
}

static void ifree_mem(struct xv6_inode *ip)
{
	xv6_dx_free(ip);
	bento_mutex_destroy(&ip->dx_lock);
	bento_rwlock_destroy(&ip->lock);
	bento_free(ip);
}

void xv6_icache_destroy(struct xv6_fs *fs)
{
	uint32_t i;

	if (!fs->ihash)
		return;
	for (i = 0; i < fs->ihash_size; i++) {
		while (fs->ihash[i]) {
			struct xv6_inode *ip = fs->ihash[i];

			fs->ihash[i] = ip->hnext;
			ifree_mem(ip);
		}
	}
	bento_free(fs->ihash);
	fs->ihash = NULL;
	bento_mutex_destroy(&fs->rename_lock);
	bento_mutex_destroy(&fs->orphan_lock);
	bento_mutex_destroy(&fs->icache_lock);
}

static void lru_del(struct xv6_fs *fs, struct xv6_inode *ip)
{
	if (!ip->on_lru)
		return;
	if (ip->lru_prev)
		ip->lru_prev->lru_next = ip->lru_next;
	else
		fs->lru_head = ip->lru_next;
	if (ip->lru_next)
		ip->lru_next->lru_prev = ip->lru_prev;
	else
		fs->lru_tail = ip->lru_prev;
	ip->lru_prev = ip->lru_next = NULL;
	ip->on_lru = false;
	fs->lru_count--;
}

static void lru_add(struct xv6_fs *fs, struct xv6_inode *ip)
{
	ip->lru_prev = fs->lru_tail;
	ip->lru_next = NULL;
	if (fs->lru_tail)
		fs->lru_tail->lru_next = ip;
	else
		fs->lru_head = ip;
	fs->lru_tail = ip;
	ip->on_lru = true;
	fs->lru_count++;
}

static uint32_t ihash(struct xv6_fs *fs, uint64_t ino)
{
	return (uint32_t)(ino * 0x9e3779b97f4a7c15ull >> 32) &
	       (fs->ihash_size - 1);
}

/* Read inode @ip->ino from disk into @ip.  Caller holds ip->lock (w). */
static int iload(struct xv6_fs *fs, struct xv6_inode *ip)
{
	uint8_t raw[XV6_INODE_SIZE];
	struct bento_buf *b;
	uint32_t i, off = (uint32_t)(ip->ino % XV6_INODES_PER_BLOCK) *
			  XV6_INODE_SIZE;
	int err;

	err = bento_bread(fs->sb, fs->itable_start +
				  ip->ino / XV6_INODES_PER_BLOCK, &b);
	if (err)
		return err;
	err = bento_buf_read(b, off, raw, sizeof(raw));
	if (err)
		goto out;
	ip->mode = bento_buf_get16(b, off + I_OFF(mode));
	ip->generation = bento_buf_get64(b, off + I_OFF(generation));
	ip->orphan_slot = -1;
	if (ip->mode == 0)
		goto loaded;
	if (bento_crc32(0, raw, XV6_INODE_CRC_LEN) !=
	    bento_buf_get32(b, off + I_OFF(crc))) {
		err = xv6_inode_corrupt(fs, ip->ino, "bad checksum");
		goto out;
	}
	ip->nlink = bento_buf_get32(b, off + I_OFF(nlink));
	ip->uid = bento_buf_get32(b, off + I_OFF(uid));
	ip->gid = bento_buf_get32(b, off + I_OFF(gid));
	ip->rdev = bento_buf_get32(b, off + I_OFF(rdev));
	ip->flags = bento_buf_get32(b, off + I_OFF(flags));
	ip->size = bento_buf_get64(b, off + I_OFF(size));
	ip->nblocks = bento_buf_get64(b, off + I_OFF(nblocks));
	ip->atime.sec = (int64_t)bento_buf_get64(b, off + I_OFF(atime_sec));
	ip->mtime.sec = (int64_t)bento_buf_get64(b, off + I_OFF(mtime_sec));
	ip->ctime.sec = (int64_t)bento_buf_get64(b, off + I_OFF(ctime_sec));
	ip->atime.nsec = bento_buf_get32(b, off + I_OFF(atime_nsec));
	ip->mtime.nsec = bento_buf_get32(b, off + I_OFF(mtime_nsec));
	ip->ctime.nsec = bento_buf_get32(b, off + I_OFF(ctime_nsec));
	ip->xattr_block = bento_buf_get32(b, off + I_OFF(xattr_block));
	ip->parent = bento_buf_get64(b, off + I_OFF(parent));
	for (i = 0; i < XV6_NADDR; i++)
		ip->addr[i] = bento_buf_get32(b, off + I_OFF(addr) + 4 * i);

	/* Checks every later step relies on. */
	switch (ip->mode & S_IFMT) {
	case S_IFREG: case S_IFDIR: case S_IFLNK: case S_IFCHR:
	case S_IFBLK: case S_IFIFO: case S_IFSOCK:
		break;
	default:
		err = xv6_inode_corrupt(fs, ip->ino, "unknown file type");
		goto out;
	}
	if (S_ISDIR(ip->mode) && (ip->size % XV6_BLOCK_SIZE ||
				  ip->parent == 0 ||
				  ip->parent >= fs->ninodes)) {
		err = xv6_inode_corrupt(fs, ip->ino, "bad directory size or parent");
		goto out;
	}
	if (S_ISLNK(ip->mode) && (ip->size == 0 ||
				  ip->size >= XV6_BLOCK_SIZE)) {
		err = xv6_inode_corrupt(fs, ip->ino, "bad symlink length");
		goto out;
	}
	if (ip->size > XV6_MAX_FILE_BLOCKS * XV6_BLOCK_SIZE) {
		err = xv6_inode_corrupt(fs, ip->ino, "size beyond the largest file");
		goto out;
	}
loaded:
	ip->valid = true;
out:
	bento_brelse(b);
	return err;
}

int xv6_iget(struct xv6_fs *fs, uint64_t ino, struct xv6_inode **out)
{
	struct xv6_inode *ip, *fresh = NULL;
	uint32_t h;
	int err = 0;

	if (ino == 0 || ino >= fs->ninodes)
		return bento_fs_corrupt(fs->sb, -EUCLEAN, "inode %llu: number out of range",
					(unsigned long long)ino);
	h = ihash(fs, ino);
again:
	bento_mutex_lock(&fs->icache_lock);
	for (ip = fs->ihash[h]; ip; ip = ip->hnext)
		if (ip->ino == ino)
			break;
	if (!ip && fresh) {
		ip = fresh;
		fresh = NULL;
		ip->hnext = fs->ihash[h];
		fs->ihash[h] = ip;
		fs->icount++;
	}
	if (ip) {
		lru_del(fs, ip);
		ip->ref++;
	}
	bento_mutex_unlock(&fs->icache_lock);
	if (!ip) {
		fresh = bento_zalloc(sizeof(*fresh));
		if (!fresh)
			return -ENOMEM;
		fresh->ino = ino;
		fresh->orphan_slot = -1;
		bento_rwlock_init(&fresh->lock);
		bento_mutex_init(&fresh->dx_lock);
		goto again;
	}
	if (fresh)
		ifree_mem(fresh);

	/* Load outside the cache lock, under the inode's own. */
	if (!ip->valid) {
		bento_rwlock_wrlock(&ip->lock);
		if (!ip->valid)
			err = iload(fs, ip);
		bento_rwlock_wrunlock(&ip->lock);
	}
	if (err) {
		xv6_iput(fs, ip);
		return err;
	}
	*out = ip;
	return 0;
}

void xv6_ilookup_add(struct xv6_fs *fs, struct xv6_inode *ip, uint64_t n)
{
	bento_mutex_lock(&fs->icache_lock);
	ip->nlookup += n;
	bento_mutex_unlock(&fs->icache_lock);
}

/* Free an unlinked inode's blocks and the inode itself. */
static void reclaim(struct xv6_fs *fs, struct xv6_inode *ip)
{
	struct xv6_tx tx;
	bool done = false;
	int err;

	while (!done) {
		err = xv6_begin_op(fs, &tx, XV6_OP_BLOCKS);
		if (err)
			return;
		bento_rwlock_wrlock(&ip->lock);
		err = xv6_free_beyond(&tx, ip, 0, &done);
		if (!err && done)
			err = xv6_xattr_free(&tx, ip);
		if (!err && done) {
			ip->mode = 0;
			ip->generation++;
			err = xv6_iupdate(&tx, ip);
			if (!err)
				err = xv6_ifree_bit(&tx, ip->ino);
			if (!err && ip->orphan_slot >= 0)
				err = xv6_orphan_del(&tx, ip);
		} else if (!err) {
			err = xv6_iupdate(&tx, ip);
		}
		bento_rwlock_wrunlock(&ip->lock);
		xv6_end_op(&tx);
		if (err) {
			bento_warn("inode %llu: not freed (%d); fsck will find it",
				   (unsigned long long)ip->ino, err);
			return;
		}
	}
}

void xv6_iput(struct xv6_fs *fs, struct xv6_inode *ip)
{
	struct xv6_inode **pp, *victim;

	if (!ip)
		return;
	bento_mutex_lock(&fs->icache_lock);
	if (ip->ref == 1 && ip->nlookup == 0 && ip->valid && ip->mode &&
	    ip->nlink == 0 && !fs->read_only) {
		/* Last reference to an unlinked inode: free it, keeping our
		 * reference so nobody else sees it half freed. */
		bento_mutex_unlock(&fs->icache_lock);
		reclaim(fs, ip);
		bento_mutex_lock(&fs->icache_lock);
	}
	BENTO_ASSERT(ip->ref > 0);
	if (--ip->ref || ip->nlookup) {
		bento_mutex_unlock(&fs->icache_lock);
		return;
	}

	/* Unreferenced: keep it on the LRU unless freed; trim the LRU. */
	victim = ip;
	if (ip->valid && ip->mode && ip->nlink) {
		lru_add(fs, ip);
		victim = NULL;
		if (fs->lru_count > XV6_ICACHE_KEEP) {
			victim = fs->lru_head;
			lru_del(fs, victim);
		}
	}
	if (victim) {
		for (pp = &fs->ihash[ihash(fs, victim->ino)]; *pp;
		     pp = &(*pp)->hnext) {
			if (*pp == victim) {
				*pp = victim->hnext;
				break;
			}
		}
		fs->icount--;
	}
	bento_mutex_unlock(&fs->icache_lock);
	if (victim)
		ifree_mem(victim);
}

int xv6_iupdate(struct xv6_tx *tx, struct xv6_inode *ip)
{
	struct xv6_fs *fs = tx->fs;
	uint8_t raw[XV6_INODE_SIZE];
	struct bento_buf *b;
	uint32_t i, off = (uint32_t)(ip->ino % XV6_INODES_PER_BLOCK) *
			  XV6_INODE_SIZE;
	int err;

	err = bento_bread(fs->sb, fs->itable_start +
				  ip->ino / XV6_INODES_PER_BLOCK, &b);
	if (err)
		return err;
	memset(raw, 0, sizeof(raw));
#define P16(f, v) do { uint16_t x_ = (uint16_t)(v); memcpy(raw + I_OFF(f), &x_, 2); } while (0)
#define P32(o, v) do { uint32_t x_ = (uint32_t)(v); \
	raw[(o)] = (uint8_t)x_; raw[(o) + 1] = (uint8_t)(x_ >> 8); \
	raw[(o) + 2] = (uint8_t)(x_ >> 16); raw[(o) + 3] = (uint8_t)(x_ >> 24); } while (0)
#define P64(o, v) do { uint64_t y_ = (uint64_t)(v); P32((o), y_); \
	P32((o) + 4, y_ >> 32); } while (0)
	raw[I_OFF(mode)] = (uint8_t)ip->mode;
	raw[I_OFF(mode) + 1] = (uint8_t)(ip->mode >> 8);
	P64(I_OFF(generation), ip->generation);
	if (ip->mode) {
		P32(I_OFF(nlink), ip->nlink);
		P32(I_OFF(uid), ip->uid);
		P32(I_OFF(gid), ip->gid);
		P32(I_OFF(rdev), ip->rdev);
		P32(I_OFF(flags), ip->flags);
		P64(I_OFF(size), ip->size);
		P64(I_OFF(nblocks), ip->nblocks);
		P64(I_OFF(atime_sec), ip->atime.sec);
		P64(I_OFF(mtime_sec), ip->mtime.sec);
		P64(I_OFF(ctime_sec), ip->ctime.sec);
		P32(I_OFF(atime_nsec), ip->atime.nsec);
		P32(I_OFF(mtime_nsec), ip->mtime.nsec);
		P32(I_OFF(ctime_nsec), ip->ctime.nsec);
		P32(I_OFF(xattr_block), ip->xattr_block);
		P64(I_OFF(parent), ip->parent);
		for (i = 0; i < XV6_NADDR; i++)
			P32(I_OFF(addr) + 4 * i, ip->addr[i]);
	}
	P32(I_OFF(crc), bento_crc32(0, raw, XV6_INODE_CRC_LEN));
#undef P16
#undef P32
#undef P64
	err = bento_buf_write(b, off, raw, sizeof(raw));
	if (!err)
		xv6_log_write(tx, b);
	bento_brelse(b);
	return err;
}

int xv6_ialloc(struct xv6_tx *tx, uint32_t mode, const struct bento_ctx *ctx,
	       struct xv6_inode **out)
{
	struct xv6_fs *fs = tx->fs;
	struct xv6_inode *ip;
	uint64_t ino;
	int err;

	err = xv6_ialloc_bit(tx, &ino);
	if (err)
		return err;
	err = xv6_iget(fs, ino, &ip);
	if (err)
		return err;
	bento_rwlock_wrlock(&ip->lock);
	if (ip->mode != 0) {
		bento_rwlock_wrunlock(&ip->lock);
		xv6_iput(fs, ip);
		return xv6_inode_corrupt(fs, ino, "free in the bitmap but in use");
	}
	ip->mode = mode;
	ip->nlink = 1;
	ip->uid = ctx->uid;
	ip->gid = ctx->gid;
	ip->rdev = 0;
	ip->flags = 0;
	ip->size = 0;
	ip->nblocks = 0;
	ip->xattr_block = 0;
	ip->parent = 0;
	memset(ip->addr, 0, sizeof(ip->addr));
	ip->generation++;
	bento_now(&ip->mtime);
	ip->atime = ip->ctime = ip->mtime;
	ip->orphan_slot = -1;
	bento_rwlock_wrunlock(&ip->lock);
	*out = ip;
	return 0;
}

void xv6_touch(struct xv6_inode *ip, bool m, bool c)
{
	struct bento_timespec now;

	bento_now(&now);
	if (m)
		ip->mtime = now;
	if (c)
		ip->ctime = now;
}

void xv6_fill_attr(const struct xv6_inode *ip, struct bento_attr *a)
{
	memset(a, 0, sizeof(*a));
	a->ino = ip->ino;
	a->mode = ip->mode;
	a->nlink = ip->nlink;
	a->uid = ip->uid;
	a->gid = ip->gid;
	a->rdev = ip->rdev;
	a->size = ip->size;
	a->blocks = ip->nblocks * (XV6_BLOCK_SIZE / 512);
	a->atime = ip->atime;
	a->mtime = ip->mtime;
	a->ctime = ip->ctime;
}

void xv6_fill_entry(const struct xv6_inode *ip, struct bento_entry *e)
{
	e->ino = ip->ino;
	e->generation = ip->generation;
	xv6_fill_attr(ip, &e->attr);
}

/* ---- block map ---- */

/* Check a pointer read from disk.  0, or -EUCLEAN after reporting. */
static int check_ptr(struct xv6_fs *fs, struct xv6_inode *ip, uint64_t p,
		     const char *where)
{
	if (p == 0 || xv6_valid_data_block(fs, p))
		return 0;
	return bento_fs_corrupt(fs->sb, -EUCLEAN, "inode %llu: bad block %llu in %s",
				(unsigned long long)ip->ino,
				(unsigned long long)p, where);
}

/* A new zeroed metadata block (indirect), logged.  0 or -errno. */
static int alloc_meta(struct xv6_tx *tx, struct xv6_inode *ip, uint64_t goal,
		      uint64_t *out)
{
	struct bento_buf *b;
	int err;

	err = xv6_balloc(tx, goal, out);
	if (err)
		return err;
	err = bento_getblk(tx->fs->sb, *out, &b);
	if (err)
		return err;	/* the block stays allocated: fsck finds it */
	bento_buf_zero(b, 0, XV6_BLOCK_SIZE);
	xv6_log_write(tx, b);
	bento_brelse(b);
	ip->nblocks++;
	return 0;
}

int xv6_bmap(struct xv6_fs *fs, struct xv6_inode *ip, uint64_t fblk,
	     struct xv6_tx *tx, uint64_t goal, uint64_t *pblk, bool *fresh)
{
	uint32_t idx[4], levels, slot, i;
	uint64_t p, rest = fblk;
	struct bento_buf *b;
	int err;

	*pblk = 0;
	if (fresh)
		*fresh = false;
	if (fblk >= XV6_MAX_FILE_BLOCKS)
		return -EFBIG;

	/* 1. Which addr[] slot, and the index at each indirect level. */
	if (rest < XV6_NDIRECT) {
		slot = (uint32_t)rest;
		levels = 0;
	} else if ((rest -= XV6_NDIRECT) < 1024) {
		slot = XV6_IND;
		levels = 1;
	} else if ((rest -= 1024) < 1024 * 1024) {
		slot = XV6_DIND;
		levels = 2;
	} else {
		rest -= 1024 * 1024;
		slot = XV6_TIND;
		levels = 3;
	}
	for (i = levels; i > 0; i--) {
		idx[i - 1] = (uint32_t)(rest % 1024);
		rest /= 1024;
	}

	/* 2. The pointer in the inode. */
	p = ip->addr[slot];
	err = check_ptr(fs, ip, p, "inode");
	if (err)
		return err;
	if (p == 0) {
		if (!tx)
			return 0;
		err = levels ? alloc_meta(tx, ip, goal, &p) :
			       xv6_balloc(tx, goal, &p);
		if (err)
			return err;
		if (!levels) {
			ip->nblocks++;
			if (fresh)
				*fresh = true;
		}
		ip->addr[slot] = (uint32_t)p;
	}

	/* 3. Down the indirect blocks. */
	for (i = levels; i > 0; i--) {
		uint32_t off = idx[levels - i] * 4;
		uint64_t q;

		err = bento_bread(fs->sb, p, &b);
		if (err)
			return err;
		q = bento_buf_get32(b, off);
		err = check_ptr(fs, ip, q, "indirect block");
		if (!err && q == 0 && tx) {
			err = i > 1 ? alloc_meta(tx, ip, goal, &q) :
				      xv6_balloc(tx, goal, &q);
			if (!err) {
				if (i == 1) {
					ip->nblocks++;
					if (fresh)
						*fresh = true;
				}
				bento_buf_put32(b, off, (uint32_t)q);
				xv6_log_write(tx, b);
			}
		}
		bento_brelse(b);
		if (err)
			return err;
		if (q == 0)
			return 0;
		p = q;
	}
	*pblk = p;
	return 0;
}

/* ---- freeing ---- */

/* Free block @p (data or indirect) of @ip.  0 or -errno. */
static int free_one(struct xv6_tx *tx, struct xv6_inode *ip, uint64_t p)
{
	int err = xv6_bfree(tx, p);

	if (!err && ip->nblocks > 0)
		ip->nblocks--;
	return err;
}

/*
 * free_ind - free the blocks at file index >= @from below indirect block
 * @blk of depth @level (1: points at data) covering indexes from @base.
 * Sets *@empty if the block holds no pointers afterwards.  Returns 1 if
 * it stopped because the transaction is full, 0 when done, or -errno.
 */
static int free_ind(struct xv6_tx *tx, struct xv6_inode *ip, uint64_t blk,
		    uint32_t level, uint64_t base, uint64_t from, bool *empty)
{
	struct xv6_fs *fs = tx->fs;
	uint64_t span = 1;
	struct bento_buf *b;
	uint32_t i, l;
	int err, ret = 0;

	for (l = 1; l < level; l++)
		span *= 1024;
	err = bento_bread(fs->sb, blk, &b);
	if (err)
		return err;
	*empty = true;
	for (i = 0; i < XV6_PTRS_PER_BLOCK; i++) {
		uint64_t p = bento_buf_get32(b, i * 4);
		uint64_t cbase = base + i * span;
		bool cempty = true;

		if (p == 0)
			continue;
		if (cbase + span <= from) {
			*empty = false;
			continue;
		}
		if (ret == 1 || xv6_tx_low(tx, 6)) {
			ret = 1;
			*empty = false;
			continue;
		}
		err = check_ptr(fs, ip, p, "indirect block");
		if (err)
			goto out;
		if (level > 1) {
			err = free_ind(tx, ip, p, level - 1, cbase, from, &cempty);
			if (err < 0)
				goto out;
			if (err == 1)
				ret = 1;
			err = 0;
		}
		if (cempty) {
			err = free_one(tx, ip, p);
			if (err)
				goto out;
			bento_buf_put32(b, i * 4, 0);
			xv6_log_write(tx, b);
		} else {
			*empty = false;
		}
	}
	err = ret;
out:
	bento_brelse(b);
	return err;
}

int xv6_free_beyond(struct xv6_tx *tx, struct xv6_inode *ip, uint64_t from,
		    bool *done)
{
	static const uint64_t base[3] = {
		XV6_NDIRECT, XV6_NDIRECT + 1024,
		XV6_NDIRECT + 1024 + 1024 * 1024,
	};
	uint32_t i;
	int err;

	*done = false;
	for (i = 0; i < XV6_NDIRECT; i++) {
		if (i < from || ip->addr[i] == 0)
			continue;
		if (xv6_tx_low(tx, 6))
			return 0;
		err = check_ptr(tx->fs, ip, ip->addr[i], "inode");
		if (!err)
			err = free_one(tx, ip, ip->addr[i]);
		if (err)
			return err;
		ip->addr[i] = 0;
	}
	for (i = 0; i < 3; i++) {
		uint32_t slot = XV6_IND + i;
		bool empty;

		if (ip->addr[slot] == 0)
			continue;
		err = check_ptr(tx->fs, ip, ip->addr[slot], "inode");
		if (err)
			return err;
		err = free_ind(tx, ip, ip->addr[slot], i + 1, base[i], from,
			       &empty);
		if (err < 0)
			return err;
		if (err == 1)
			return 0;
		if (empty) {
			err = free_one(tx, ip, ip->addr[slot]);
			if (err)
				return err;
			ip->addr[slot] = 0;
		}
	}
	*done = true;
	return 0;
}

/* Does @ip have any block at file index >= @from?  Cheap upper bound. */
static bool maybe_beyond(const struct xv6_inode *ip, uint64_t from)
{
	uint64_t held = ip->nblocks - (ip->xattr_block ? 1 : 0);

	return held > 0 && (from < XV6_NDIRECT + held || ip->addr[XV6_IND] ||
			    ip->addr[XV6_DIND] || ip->addr[XV6_TIND]);
}

int xv6_itrunc(struct xv6_fs *fs, struct xv6_inode *ip, uint64_t size)
{
	struct xv6_tx tx;
	bool done = false, first = true;
	int err;

	while (!done) {
		err = xv6_begin_op(fs, &tx, XV6_OP_BLOCKS);
		if (err)
			return err;
		bento_rwlock_wrlock(&ip->lock);
		if (first) {
			if (size > ip->size) {
				err = xv6_zero_tail(fs, ip);
				ip->size = size;
				done = true;
			} else {
				ip->size = size;
			}
			xv6_touch(ip, true, true);
			first = false;
		}
		if (!err && !done) {
			uint64_t from = (ip->size + XV6_BLOCK_SIZE - 1) /
					XV6_BLOCK_SIZE;

			if (maybe_beyond(ip, from))
				err = xv6_free_beyond(&tx, ip, from, &done);
			else
				done = true;
			if (!err && !done && ip->orphan_slot < 0)
				err = xv6_orphan_add(&tx, ip);
			if (!err && done && ip->orphan_slot >= 0 && ip->nlink)
				err = xv6_orphan_del(&tx, ip);
		}
		if (!err)
			err = xv6_iupdate(&tx, ip);
		bento_rwlock_wrunlock(&ip->lock);
		xv6_end_op(&tx);
		if (err)
			return err;
	}
	return 0;
}

/* ---- orphan table (block 0, under orphan_lock) ---- */

int xv6_orphan_add(struct xv6_tx *tx, struct xv6_inode *ip)
{
	struct xv6_fs *fs = tx->fs;
	struct bento_buf *b;
	uint32_t i;
	int err;

	if (ip->orphan_slot >= 0)
		return 0;
	bento_mutex_lock(&fs->orphan_lock);
	err = bento_bread(fs->sb, XV6_SUPER_BLOCKNO, &b);
	if (err)
		goto out;
	for (i = 0; i < XV6_ORPHAN_SLOTS; i++) {
		if (bento_buf_get32(b, XV6_ORPHAN_OFF + 4 * i) == 0) {
			bento_buf_put32(b, XV6_ORPHAN_OFF + 4 * i,
					(uint32_t)ip->ino);
			xv6_log_write(tx, b);
			ip->orphan_slot = (int)i;
			break;
		}
	}
	if (i == XV6_ORPHAN_SLOTS)
		bento_warn("inode %llu: orphan table full; a crash would leak it until fsck",
			   (unsigned long long)ip->ino);
	bento_brelse(b);
out:
	bento_mutex_unlock(&fs->orphan_lock);
	return err;
}

int xv6_orphan_del(struct xv6_tx *tx, struct xv6_inode *ip)
{
	struct xv6_fs *fs = tx->fs;
	struct bento_buf *b;
	int err;

	if (ip->orphan_slot < 0)
		return 0;
	bento_mutex_lock(&fs->orphan_lock);
	err = bento_bread(fs->sb, XV6_SUPER_BLOCKNO, &b);
	if (!err) {
		bento_buf_put32(b, XV6_ORPHAN_OFF + 4 * (uint32_t)ip->orphan_slot,
				0);
		xv6_log_write(tx, b);
		bento_brelse(b);
		ip->orphan_slot = -1;
	}
	bento_mutex_unlock(&fs->orphan_lock);
	return err;
}

int xv6_orphan_recover(struct xv6_fs *fs)
{
	struct bento_buf *b;
	struct xv6_inode *ip;
	uint32_t i, ino;
	uint32_t n = 0;
	int err;

	for (i = 0; i < XV6_ORPHAN_SLOTS; i++) {
		err = bento_bread(fs->sb, XV6_SUPER_BLOCKNO, &b);
		if (err)
			return err;
		ino = bento_buf_get32(b, XV6_ORPHAN_OFF + 4 * i);
		bento_brelse(b);
		if (ino == 0)
			continue;
		err = xv6_iget(fs, ino, &ip);
		if (!err && ip->mode == 0) {
			xv6_iput(fs, ip);
			err = xv6_inode_corrupt(fs, ino, "free inode in the orphan table");
		}
		if (!err) {
			ip->orphan_slot = (int)i;
			if (ip->nlink)
				err = xv6_itrunc(fs, ip, ip->size);
			xv6_iput(fs, ip);	/* nlink 0: reclaimed here */
			n++;
		}
		if (err) {
			/* Leave the slot to fsck; the mount goes on. */
			bento_warn("inode %llu: orphan not processed (%d)",
				   (unsigned long long)ino, err);
		}
	}
	if (n)
		bento_info("processed %u orphan inodes", n);
	return 0;
}
