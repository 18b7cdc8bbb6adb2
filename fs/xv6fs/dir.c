/*
 * dir.c - directory records and the in-memory hash index.
 *
 * On disk a directory is a sequence of 4 KiB blocks tiled by ext2-like
 * variable-length records (docs/xv6fs-format.md), each carrying the
 * 32-bit hash of its name.  "." and ".." are not stored.
 *
 * In memory each directory gets, on first use, an index (struct xv6_dx):
 * a chained hash table from name hash to the record's byte position, and
 * the largest free gap of every block.  Lookup, insert and delete then
 * read one or two blocks whatever the directory's size, so directories
 * stay fast at 100,000 entries; building the index costs one scan of the
 * directory per inode-cache lifetime.  Records never move once written
 * (a delete merges the record into its predecessor), so positions in the
 * index and readdir cookies stay valid.  Empty blocks at the end of a
 * directory are freed (a few per remove), so an emptied directory gives
 * its space back.
 *
 * Locking: the caller holds dp->lock, shared for lookup and iterate,
 * exclusive for add/remove/retarget.  The index is built under
 * dp->dx_lock (so shared holders can build it) and published with a
 * release store; it is only modified under the exclusive dp->lock.
 *
 * Every block is validated when the index is built and when readdir
 * walks it; a malformed record is reported naming the directory and
 * block, and the op returns -EUCLEAN.
 */
#define BENTO_LOG_SUBSYS "xv6fs"
#include "xv6fs.h"

#define D_REC_LEN 4u
#define D_NAME_LEN 6u
#define D_TYPE 7u
#define D_HASH 8u

struct xv6_dx_ent {
	uint32_t hash;
	uint32_t next;		/* index + 1 of the next in chain, 0 ends */
	uint64_t pos;		/* byte position of the record */
};

struct xv6_dx {
	uint32_t *bucket;	/* index + 1 of the first entry, 0 empty */
	uint32_t nbucket;	/* power of two */
	struct xv6_dx_ent *ent;
	uint32_t nent, cap;	/* slots used (incl. free list), capacity */
	uint32_t free;		/* free list head, index + 1 */
	uint64_t live;		/* names in the directory */
	uint16_t *slack;	/* largest free gap per block */
	uint32_t nblk, blkcap;
	uint32_t hint;		/* block where the last insert went */
};

uint32_t xv6_name_hash(struct xv6_fs *fs, const char *name, uint32_t len)
{
	return (uint32_t)bento_hash64(name, len, fs->hash_seed);
}

void xv6_dx_free(struct xv6_inode *dp)
{
	struct xv6_dx *dx = dp->dx;

	if (!dx)
		return;
	bento_free(dx->bucket);
	bento_free(dx->ent);
	bento_free(dx->slack);
	bento_free(dx);
	dp->dx = NULL;
}

static int dir_corrupt(struct xv6_fs *fs, struct xv6_inode *dp, uint64_t blk,
		       const char *what)
{
	return bento_fs_corrupt(fs->sb, -EUCLEAN, "inode %llu: directory block %llu: %s",
				(unsigned long long)dp->ino,
				(unsigned long long)blk, what);
}

/* ---- the hash index ---- */

static int dx_grow(struct xv6_dx *dx)
{
	uint32_t nb = dx->nbucket ? dx->nbucket * 2 : 256, i;
	uint32_t *b = bento_zalloc(sizeof(*b) * nb);

	if (!b)
		return -ENOMEM;
	for (i = 0; i < dx->nent; i++) {
		struct xv6_dx_ent *e = &dx->ent[i];

		if (e->pos == UINT64_MAX)
			continue;
		e->next = b[e->hash & (nb - 1)];
		b[e->hash & (nb - 1)] = i + 1;
	}
	bento_free(dx->bucket);
	dx->bucket = b;
	dx->nbucket = nb;
	return 0;
}

static int dx_insert(struct xv6_dx *dx, uint32_t hash, uint64_t pos)
{
	uint32_t i;
	int err;

	if (dx->live + 1 > dx->nbucket) {
		err = dx_grow(dx);
		if (err)
			return err;
	}
	if (dx->free) {
		i = dx->free - 1;
		dx->free = dx->ent[i].next;
	} else {
		if (dx->nent == dx->cap) {
			uint32_t cap = dx->cap ? dx->cap * 2 : 256;
			struct xv6_dx_ent *n = bento_alloc(sizeof(*n) * cap);

			if (!n)
				return -ENOMEM;
			if (dx->nent)
				memcpy(n, dx->ent, sizeof(*n) * dx->nent);
			bento_free(dx->ent);
			dx->ent = n;
			dx->cap = cap;
		}
		i = dx->nent++;
	}
	dx->ent[i].hash = hash;
	dx->ent[i].pos = pos;
	dx->ent[i].next = dx->bucket[hash & (dx->nbucket - 1)];
	dx->bucket[hash & (dx->nbucket - 1)] = i + 1;
	dx->live++;
	return 0;
}

static void dx_remove(struct xv6_dx *dx, uint32_t hash, uint64_t pos)
{
	uint32_t *pp = &dx->bucket[hash & (dx->nbucket - 1)];

	while (*pp) {
		struct xv6_dx_ent *e = &dx->ent[*pp - 1];

		if (e->pos == pos) {
			uint32_t i = *pp - 1;

			*pp = e->next;
			e->pos = UINT64_MAX;
			e->next = dx->free;
			dx->free = i + 1;
			dx->live--;
			return;
		}
		pp = &e->next;
	}
}

static int dx_set_slack(struct xv6_dx *dx, uint32_t blk, uint16_t slack)
{
	if (blk >= dx->blkcap) {
		uint32_t cap = dx->blkcap ? dx->blkcap * 2 : 16;
		uint16_t *n;

		while (cap <= blk)
			cap *= 2;
		n = bento_zalloc(sizeof(*n) * cap);
		if (!n)
			return -ENOMEM;
		if (dx->nblk)
			memcpy(n, dx->slack, sizeof(*n) * dx->nblk);
		bento_free(dx->slack);
		dx->slack = n;
		dx->blkcap = cap;
	}
	if (blk >= dx->nblk)
		dx->nblk = blk + 1;
	dx->slack[blk] = slack;
	return 0;
}

/* ---- blocks ---- */

/* Read directory block @blk of @dp.  0, -EUCLEAN for a hole, -EIO. */
static int dir_bread(struct xv6_fs *fs, struct xv6_inode *dp, uint64_t blk,
		     struct bento_buf **bp)
{
	uint64_t p;
	int err;

	err = xv6_bmap(fs, dp, blk, NULL, 0, &p, NULL);
	if (err)
		return err;
	if (p == 0)
		return dir_corrupt(fs, dp, blk, "hole in directory");
	return bento_bread(fs->sb, p, bp);
}

/*
 * Check the record at @off of block @b and return its length, or
 * -EUCLEAN after reporting.  *@ino, *@nlen are the record's.
 */
static int check_rec(struct xv6_fs *fs, struct xv6_inode *dp, uint64_t blk,
		     struct bento_buf *b, uint32_t off, uint32_t *ino,
		     uint32_t *nlen)
{
	uint32_t rl = bento_buf_get16(b, off + D_REC_LEN);

	*ino = bento_buf_get32(b, off);
	*nlen = bento_buf_get8(b, off + D_NAME_LEN);
	if (rl < XV6_DIRENT_HDR || rl % 4 || off + rl > XV6_BLOCK_SIZE)
		return dir_corrupt(fs, dp, blk, "bad record length");
	if (*ino && (*ino >= fs->ninodes || *nlen == 0 ||
		     XV6_DIRENT_LEN(*nlen) > rl))
		return dir_corrupt(fs, dp, blk, "bad entry");
	return (int)rl;
}

/* Largest free gap in block @b (validated), for the slack map. */
static int block_slack(struct xv6_fs *fs, struct xv6_inode *dp, uint64_t blk,
		       struct bento_buf *b, struct xv6_dx *dx, uint64_t base)
{
	uint32_t off = 0, ino, nlen, best = 0;
	int rl;

	while (off < XV6_BLOCK_SIZE) {
		uint32_t used;

		rl = check_rec(fs, dp, blk, b, off, &ino, &nlen);
		if (rl < 0)
			return rl;
		used = ino ? XV6_DIRENT_LEN(nlen) : 0;
		if ((uint32_t)rl - used > best)
			best = (uint32_t)rl - used;
		if (dx && ino) {
			int err = dx_insert(dx, bento_buf_get32(b, off + D_HASH),
					    base + off);

			if (err)
				return err;
		}
		off += (uint32_t)rl;
	}
	return (int)best;
}

/* Build dp->dx if needed.  Caller holds dp->lock (either mode). */
static int dx_ensure(struct xv6_fs *fs, struct xv6_inode *dp)
{
	struct xv6_dx *dx;
	uint64_t blk, nblk = dp->size / XV6_BLOCK_SIZE;
	struct bento_buf *b;
	int err = 0, s;

	if (__atomic_load_n(&dp->dx, __ATOMIC_ACQUIRE))
		return 0;
	bento_mutex_lock(&dp->dx_lock);
	if (dp->dx)
		goto out;
	dx = bento_zalloc(sizeof(*dx));
	if (!dx || dx_grow(dx)) {
		bento_free(dx);
		err = -ENOMEM;
		goto out;
	}
	for (blk = 0; blk < nblk; blk++) {
		err = dir_bread(fs, dp, blk, &b);
		if (err)
			break;
		s = block_slack(fs, dp, blk, b, dx, blk * XV6_BLOCK_SIZE);
		bento_brelse(b);
		if (s < 0) {
			err = s;
			break;
		}
		err = dx_set_slack(dx, (uint32_t)blk, (uint16_t)s);
		if (err)
			break;
	}
	if (err) {
		dp->dx = dx;
		xv6_dx_free(dp);
		goto out;
	}
	__atomic_store_n(&dp->dx, dx, __ATOMIC_RELEASE);
out:
	bento_mutex_unlock(&dp->dx_lock);
	return err;
}

/*
 * find - locate @name: its byte position and hash.  Returns 0, -ENOENT,
 * or an error.  Caller holds dp->lock.
 */
static int find(struct xv6_fs *fs, struct xv6_inode *dp, const char *name,
		uint64_t *pos, uint32_t *ino, uint32_t *type, uint32_t *hash)
{
	uint32_t len = (uint32_t)strlen(name), h, i;
	struct xv6_dx *dx;
	int err;

	if (len == 0 || len > BENTO_NAME_MAX)
		return len ? -ENAMETOOLONG : -ENOENT;
	err = dx_ensure(fs, dp);
	if (err)
		return err;
	dx = dp->dx;
	h = xv6_name_hash(fs, name, len);
	*hash = h;
	for (i = dx->bucket[h & (dx->nbucket - 1)]; i; i = dx->ent[i - 1].next) {
		struct xv6_dx_ent *e = &dx->ent[i - 1];
		struct bento_buf *b;
		uint32_t off = (uint32_t)(e->pos % XV6_BLOCK_SIZE);
		bool match;

		if (e->hash != h)
			continue;
		err = dir_bread(fs, dp, e->pos / XV6_BLOCK_SIZE, &b);
		if (err)
			return err;
		match = bento_buf_get8(b, off + D_NAME_LEN) == len &&
			bento_buf_cmp(b, off + XV6_DIRENT_HDR, name, len) == 0;
		if (match) {
			*ino = bento_buf_get32(b, off);
			*type = bento_buf_get8(b, off + D_TYPE);
			*pos = e->pos;
		}
		bento_brelse(b);
		if (match)
			return 0;
	}
	return -ENOENT;
}

int xv6_dir_lookup(struct xv6_fs *fs, struct xv6_inode *dp, const char *name,
		   uint64_t *ino, uint32_t *type)
{
	uint64_t pos;
	uint32_t i, h;
	int err;

	err = find(fs, dp, name, &pos, &i, type, &h);
	if (!err)
		*ino = i;
	return err;
}

int xv6_dir_count(struct xv6_fs *fs, struct xv6_inode *dp, uint64_t *n)
{
	int err = dx_ensure(fs, dp);

	if (!err)
		*n = dp->dx->live;
	return err;
}

static int dir_changed(struct xv6_tx *tx, struct xv6_inode *dp)
{
	xv6_touch(dp, true, true);
	return xv6_iupdate(tx, dp);
}

/* A new empty block at the end of @dp.  Returns its block index. */
static int dir_extend(struct xv6_tx *tx, struct xv6_inode *dp,
		      uint64_t *blkp)
{
	struct xv6_fs *fs = tx->fs;
	uint64_t blk = dp->size / XV6_BLOCK_SIZE, p, goal = 0;
	struct bento_buf *b;
	int err;

	if (blk >= UINT32_MAX / 2)
		return -ENOSPC;
	if (blk > 0 && xv6_bmap(fs, dp, blk - 1, NULL, 0, &goal, NULL) == 0)
		goal++;
	err = xv6_bmap(fs, dp, blk, tx, goal, &p, NULL);
	if (err)
		return err;
	err = bento_getblk(fs->sb, p, &b);
	if (err)
		return err;
	bento_buf_zero(b, 0, XV6_BLOCK_SIZE);
	bento_buf_put16(b, D_REC_LEN, XV6_BLOCK_SIZE);
	xv6_log_write(tx, b);
	bento_brelse(b);
	dp->size += XV6_BLOCK_SIZE;
	*blkp = blk;
	return dx_set_slack(dp->dx, (uint32_t)blk, XV6_BLOCK_SIZE);
}

int xv6_dir_add(struct xv6_tx *tx, struct xv6_inode *dp, const char *name,
		uint64_t ino, uint32_t type)
{
	struct xv6_fs *fs = tx->fs;
	uint32_t len = (uint32_t)strlen(name), need = XV6_DIRENT_LEN(len);
	uint32_t off = 0, i, rino, nlen, used;
	uint64_t blk = UINT64_MAX;
	struct xv6_dx *dx;
	struct bento_buf *b;
	int err, rl, s;

	err = dx_ensure(fs, dp);
	if (err)
		return err;
	dx = dp->dx;

	/* 1. A block with room: from the hint on, else a new one. */
	for (i = 0; i < dx->nblk; i++) {
		uint32_t k = (dx->hint + i) % dx->nblk;

		if (dx->slack[k] >= need) {
			blk = k;
			break;
		}
	}
	if (blk == UINT64_MAX) {
		err = dir_extend(tx, dp, &blk);
		if (err)
			return err;
	}
	dx->hint = (uint32_t)blk;

	/* 2. The record with the gap; split it. */
	err = dir_bread(fs, dp, blk, &b);
	if (err)
		return err;
	for (;;) {
		rl = check_rec(fs, dp, blk, b, off, &rino, &nlen);
		if (rl < 0) {
			err = rl;
			goto out;
		}
		used = rino ? XV6_DIRENT_LEN(nlen) : 0;
		if ((uint32_t)rl - used >= need)
			break;
		off += (uint32_t)rl;
		if (off >= XV6_BLOCK_SIZE) {
			err = dir_corrupt(fs, dp, blk, "free-space map out of date");
			goto out;
		}
	}
	if (used) {
		bento_buf_put16(b, off + D_REC_LEN, (uint16_t)used);
		off += used;
		rl -= (int)used;
	}
	bento_buf_put32(b, off, (uint32_t)ino);
	bento_buf_put16(b, off + D_REC_LEN, (uint16_t)rl);
	bento_buf_put8(b, off + D_NAME_LEN, (uint8_t)len);
	bento_buf_put8(b, off + D_TYPE, (uint8_t)type);
	bento_buf_put32(b, off + D_HASH, xv6_name_hash(fs, name, len));
	bento_buf_write(b, off + XV6_DIRENT_HDR, name, len);
	if (need > XV6_DIRENT_HDR + len)
		bento_buf_zero(b, off + XV6_DIRENT_HDR + len,
			       need - XV6_DIRENT_HDR - len);
	xv6_log_write(tx, b);

	/* 3. Index and free-space map. */
	err = dx_insert(dx, xv6_name_hash(fs, name, len),
			blk * XV6_BLOCK_SIZE + off);
	s = block_slack(fs, dp, blk, b, NULL, 0);
	if (!err && s >= 0)
		dx->slack[blk] = (uint16_t)s;
	if (!err)
		err = dir_changed(tx, dp);
out:
	bento_brelse(b);
	return err;
}

/*
 * dir_shrink - free empty blocks at the end of @dp (at most four per
 * call, so the op's log reservation always covers it).
 */
static int dir_shrink(struct xv6_tx *tx, struct xv6_inode *dp)
{
	struct xv6_dx *dx = dp->dx;
	uint64_t nblk = dp->size / XV6_BLOCK_SIZE, from = nblk;
	bool done;
	int err;

	while (from > 1 && from + 4 > nblk && from - 1 < dx->nblk &&
	       dx->slack[from - 1] == XV6_BLOCK_SIZE)
		from--;
	if (from == nblk)
		return 0;
	err = xv6_free_beyond(tx, dp, from, &done);
	if (err)
		return err;
	if (!done)
		return bento_fs_corrupt(tx->fs->sb, -EIO, "inode %llu: directory shrink did not fit its transaction",
					(unsigned long long)dp->ino);
	dp->size = from * XV6_BLOCK_SIZE;
	dx->nblk = (uint32_t)from;
	if (dx->hint >= from)
		dx->hint = 0;
	return xv6_iupdate(tx, dp);
}

int xv6_dir_remove(struct xv6_tx *tx, struct xv6_inode *dp,
		   const char *name)
{
	struct xv6_fs *fs = tx->fs;
	uint32_t ino, type, hash, off, prev = UINT32_MAX, cur = 0, rino, nlen;
	uint64_t pos, blk;
	struct bento_buf *b;
	int err, rl, s;

	err = find(fs, dp, name, &pos, &ino, &type, &hash);
	if (err)
		return err;
	blk = pos / XV6_BLOCK_SIZE;
	off = (uint32_t)(pos % XV6_BLOCK_SIZE);
	err = dir_bread(fs, dp, blk, &b);
	if (err)
		return err;
	while (cur < off) {
		rl = check_rec(fs, dp, blk, b, cur, &rino, &nlen);
		if (rl < 0) {
			err = rl;
			goto out;
		}
		prev = cur;
		cur += (uint32_t)rl;
	}
	if (cur != off) {
		err = dir_corrupt(fs, dp, blk, "index points into a record");
		goto out;
	}
	if (prev == UINT32_MAX) {
		bento_buf_put32(b, off, 0);
	} else {
		uint32_t len = bento_buf_get16(b, prev + D_REC_LEN) +
			       bento_buf_get16(b, off + D_REC_LEN);

		bento_buf_put16(b, prev + D_REC_LEN, (uint16_t)len);
	}
	xv6_log_write(tx, b);
	dx_remove(dp->dx, hash, pos);
	s = block_slack(fs, dp, blk, b, NULL, 0);
	if (s >= 0)
		dp->dx->slack[blk] = (uint16_t)s;
	err = dir_changed(tx, dp);
	if (!err)
		err = dir_shrink(tx, dp);
out:
	bento_brelse(b);
	return err;
}

int xv6_dir_retarget(struct xv6_tx *tx, struct xv6_inode *dp,
		     const char *name, uint64_t ino, uint32_t type)
{
	struct xv6_fs *fs = tx->fs;
	uint32_t oino, otype, hash, off;
	struct bento_buf *b;
	uint64_t pos;
	int err;

	err = find(fs, dp, name, &pos, &oino, &otype, &hash);
	if (err)
		return err;
	err = dir_bread(fs, dp, pos / XV6_BLOCK_SIZE, &b);
	if (err)
		return err;
	off = (uint32_t)(pos % XV6_BLOCK_SIZE);
	bento_buf_put32(b, off, (uint32_t)ino);
	bento_buf_put8(b, off + D_TYPE, (uint8_t)type);
	xv6_log_write(tx, b);
	bento_brelse(b);
	return dir_changed(tx, dp);
}

int xv6_dir_iterate(struct xv6_fs *fs, struct xv6_inode *dp, uint64_t off,
		    bento_filldir_t fill, void *dirbuf)
{
	char name[BENTO_NAME_MAX + 1];
	uint64_t pos, blk, nblk = dp->size / XV6_BLOCK_SIZE;
	int err;

	if (off == 0) {
		if (fill(dirbuf, ".", 1, dp->ino, BENTO_DT_DIR, 1))
			return 0;
		off = 1;
	}
	if (off == 1) {
		if (fill(dirbuf, "..", 2, dp->parent, BENTO_DT_DIR, 2))
			return 0;
		off = 2;
	}
	pos = off - 2;
	for (blk = pos / XV6_BLOCK_SIZE; blk < nblk; blk++) {
		uint32_t cur = 0, start = 0, ino, nlen;
		struct bento_buf *b;
		int rl;

		if (blk == pos / XV6_BLOCK_SIZE)
			start = (uint32_t)(pos % XV6_BLOCK_SIZE);
		err = dir_bread(fs, dp, blk, &b);
		if (err)
			return err;
		for (; cur < XV6_BLOCK_SIZE; cur += (uint32_t)rl) {
			uint64_t next;

			rl = check_rec(fs, dp, blk, b, cur, &ino, &nlen);
			if (rl < 0) {
				bento_brelse(b);
				return rl;
			}
			if (cur < start || ino == 0)
				continue;
			bento_buf_read(b, cur + XV6_DIRENT_HDR, name, nlen);
			name[nlen] = '\0';
			next = 2 + blk * XV6_BLOCK_SIZE + cur + (uint32_t)rl;
			if (fill(dirbuf, name, nlen, ino,
				 bento_buf_get8(b, cur + D_TYPE), next)) {
				bento_brelse(b);
				return 0;
			}
		}
		bento_brelse(b);
	}
	return 0;
}
