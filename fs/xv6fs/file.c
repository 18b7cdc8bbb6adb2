/*
 * file.c - file data: read, write, setattr (truncate, times, owner),
 * fsync, open/release.
 *
 * Data is ordered, not journaled: a write allocates blocks and changes
 * the inode inside a transaction, but writes the bytes straight to their
 * home blocks with bento_dev_write before the transaction ends, so they
 * are on the device before any commit that makes them reachable.  A
 * write is cut into transactions of at most XV6_WRITE_CHUNK bytes (and
 * fewer when allocation fills the op's log reservation); blocks of one
 * chunk are allocated next to each other where possible and written with
 * one device call per physically contiguous run.
 *
 * Reads walk the block map one run at a time (map_run: each indirect
 * block on the way to a leaf is read once per run, not once per block)
 * and read whole blocks straight into the caller's buffer, one device
 * call per physically contiguous run, when that buffer is block-aligned;
 * a partial first or last block, and runs for a misaligned buffer, go
 * through an aligned bounce area (see struct bounce).
 *
 * Size limit: XV6_MAX_FILE_BYTES (just over 4 TiB).  As on Linux, a write
 * that starts there or beyond fails with EFBIG, one that crosses it is
 * cut short there, and setattr to a larger size fails with EFBIG.
 *
 * Partial blocks are read, merged and rewritten; a newly allocated block
 * is zero-filled around the data.  When a file grows past a partial last
 * block, the stale bytes past the old end are zeroed (xv6_zero_tail).
 *
 * Locking: ip->lock exclusive for write and setattr, shared for read.
 * fsync commits the running transaction (which holds every metadata
 * change made so far) and flushes the device.
 */
#define BENTO_LOG_SUBSYS "xv6fs"
#include "xv6fs.h"
#include "xv6fs_prov.h"

/* The largest file size, in bytes. */
#define XV6_MAX_FILE_BYTES (XV6_MAX_FILE_BLOCKS * XV6_BLOCK_SIZE)

static int get_file(struct xv6_fs *fs, uint64_t ino, struct xv6_inode **out)
{
	int err = xv6_iget(fs, ino, out);

	if (err)
		return err;
	if ((*out)->mode == 0 || !S_ISREG((*out)->mode)) {
		err = (*out)->mode == 0 ? -ENOENT :
		      xv6_is_dir(*out) ? -EISDIR : -EINVAL;
		xv6_iput(fs, *out);
	}
	return err;
}

/* A pointer read from the block map: 0 (a hole) or a data block. */
static int read_ptr(struct xv6_fs *fs, struct xv6_inode *ip, uint64_t p,
		    const char *where)
{
	if (p == 0 || xv6_valid_data_block(fs, p))
		return 0;
	return bento_fs_corrupt(fs->sb, -EUCLEAN, "inode %llu: bad block %llu in %s",
				(unsigned long long)ip->ino,
				(unsigned long long)p, where);
}

/*
 * map_run - the run of file blocks from @fb (at most @max of them) that
 * one device call can read: *@pblk is the physical block of @fb (0 for a
 * hole) and *@n how many blocks from @fb on continue it (contiguous on
 * the device, or all holes).  A run never leaves one leaf of the block
 * map, so this reads each indirect block on the way down once, not once
 * per file block as xv6_bmap would.  Caller holds ip->lock (shared at
 * least).  Returns 0 or -EUCLEAN/-EIO.
 */
static int map_run(struct xv6_fs *fs, struct xv6_inode *ip, uint64_t fb,
		   uint32_t max, uint64_t *pblk, uint32_t *n)
{
	uint64_t rest = fb, span, p, q;
	uint32_t slot, levels, l, i, lim;
	struct bento_buf *b;
	int err;

	/* 1. Direct blocks: the run is in ip->addr[]. */
	if (fb < XV6_NDIRECT) {
		p = ip->addr[fb];
		err = read_ptr(fs, ip, p, "inode");
		for (*n = 1; !err && *n < max && fb + *n < XV6_NDIRECT; ++*n) {
			q = ip->addr[fb + *n];
			if (p ? q != p + *n : q != 0)
				break;
			err = read_ptr(fs, ip, q, "inode");
		}
		*pblk = p;
		return err;
	}

	/* 2. Which tree, and where in it. */
	rest -= XV6_NDIRECT;
	if (rest < 1024) {
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
	for (span = 1, l = 0; l < levels; l++)
		span *= 1024;

	/* 3. Down to the leaf; a missing subtree is one hole. */
	p = ip->addr[slot];
	err = read_ptr(fs, ip, p, "inode");
	for (l = 0; !err; l++) {
		if (p == 0) {
			uint64_t left = span - rest % span;

			*pblk = 0;
			*n = left < max ? (uint32_t)left : max;
			return 0;
		}
		if (l == levels - 1)
			break;
		err = bento_bread(fs->sb, p, &b);
		if (err)
			return err;
		span /= 1024;
		p = bento_buf_get32(b, (uint32_t)((rest / span) % 1024) * 4);
		bento_brelse(b);
		err = read_ptr(fs, ip, p, "indirect block");
	}
	if (err)
		return err;

	/* 4. The leaf: count the pointers that continue the first. */
	err = bento_bread(fs->sb, p, &b);
	if (err)
		return err;
	i = (uint32_t)(rest % 1024);
	lim = 1024 - i < max ? 1024 - i : max;
	p = bento_buf_get32(b, i * 4);
	err = read_ptr(fs, ip, p, "indirect block");
	for (*n = 1; !err && *n < lim; ++*n) {
		q = bento_buf_get32(b, (i + *n) * 4);
		if (p ? q != p + *n : q != 0)
			break;
		err = read_ptr(fs, ip, q, "indirect block");
	}
	bento_brelse(b);
	*pblk = p;
	return err;
}

/*
 * A bounce area of XV6_READ_BOUNCE blocks, allocated on first use by a
 * read.  Reads land straight in the caller's buffer when it is
 * block-aligned.  A buffer a few bytes past a page boundary (the FUSE
 * host's malloc'd reply buffers sit 16 bytes past one) made the device's
 * copy several times slower here (x86 "4K aliasing": stores just ahead of
 * the loads modulo 4 KiB), so reads into an unaligned buffer go through
 * the bounce, placed half a page away from the buffer's offset, and one
 * memcpy.  Measured on the test host, 1 GiB in 1 MiB reads from a cached
 * image: aligned buffer direct about 4 GB/s; 16 bytes off, direct about
 * 0.8 GB/s, through the bounce about the same as aligned.
 */
#define XV6_READ_BOUNCE 64u

struct bounce {
	void *mem;		/* what bento_alloc returned (2 blocks more) */
	uint8_t *blk;		/* aligned start, XV6_READ_BOUNCE blocks */
};

static int bounce_get(struct bounce *bb, const void *like)
{
	uintptr_t a;

	if (bb->blk)
		return 0;
	bb->mem = bento_alloc((XV6_READ_BOUNCE + 2) * XV6_BLOCK_SIZE);
	if (!bb->mem)
		return -ENOMEM;
	a = ((uintptr_t)bb->mem + XV6_BLOCK_SIZE - 1) &
	    ~(uintptr_t)(XV6_BLOCK_SIZE - 1);
	/* Half a page away from @like's offset: neither the device's copy
	 * into the bounce nor ours out of it then stores just ahead of
	 * where it loads modulo 4 KiB (which stalls on "4K aliasing"). */
	if (like)
		a += (((uintptr_t)like + XV6_BLOCK_SIZE / 2) &
		      (XV6_BLOCK_SIZE - 1)) & ~(uintptr_t)63;
	bb->blk = (uint8_t *)a;
	return 0;
}

/*
 * read_blocks - @n whole blocks from @pblk (0: a hole) into @dst.
 * Returns 0 or -errno.
 */
static int read_blocks(struct bento_sb *sb, uint64_t pblk, uint32_t n,
		       char *dst, struct bounce *bb)
{
	int err;

	if (!pblk) {
		memset(dst, 0, (size_t)n * XV6_BLOCK_SIZE);
		return 0;
	}
	if (((uintptr_t)dst & (XV6_BLOCK_SIZE - 1)) == 0)
		return bento_dev_read(sb, pblk, n, dst);
	err = bounce_get(bb, dst);
	while (!err && n > 0) {
		uint32_t k = n < XV6_READ_BOUNCE ? n : XV6_READ_BOUNCE;

		err = bento_dev_read(sb, pblk, k, bb->blk);
		if (!err)
			memcpy(dst, bb->blk, (size_t)k * XV6_BLOCK_SIZE);
		pblk += k;
		dst += (size_t)k * XV6_BLOCK_SIZE;
		n -= k;
	}
	return err;
}

ssize_t xv6_read(struct bento_sb *sb, bento_ino_t ino, uint64_t fh,
		 char *buf, size_t size, uint64_t off)
{
	struct xv6_fs *fs = XV6_FS(sb);
	struct bounce bb = { NULL, NULL };
	struct xv6_inode *ip;
	size_t done = 0;
	int err;

	err = get_file(fs, ino, &ip);
	if (err)
		return err;
	bento_rwlock_rdlock(&ip->lock);
	if (off >= ip->size || size == 0)
		goto out;
	if (size > ip->size - off)
		size = (size_t)(ip->size - off);

	/*
	 * One run of the block map at a time: whole blocks with one device
	 * call per run; a partial first or last block through the bounce.
	 */
	while (done < size && !err) {
		uint64_t pos = off + done, pblk;
		uint32_t boff = (uint32_t)(pos % XV6_BLOCK_SIZE), n;
		size_t want = size - done, len;
		uint64_t span = (boff + want + XV6_BLOCK_SIZE - 1) /
				XV6_BLOCK_SIZE;

		err = map_run(fs, ip, pos / XV6_BLOCK_SIZE,
			      span < (1u << 20) ? (uint32_t)span : 1u << 20,
			      &pblk, &n);
		if (err)
			break;
		if (boff == 0 && want >= XV6_BLOCK_SIZE) {
			if (n > want / XV6_BLOCK_SIZE)
				n = (uint32_t)(want / XV6_BLOCK_SIZE);
			err = read_blocks(sb, pblk, n, buf + done, &bb);
			done += (size_t)n * XV6_BLOCK_SIZE;
			continue;
		}
		len = XV6_BLOCK_SIZE - boff < want ? XV6_BLOCK_SIZE - boff : want;
		if (!pblk) {
			memset(buf + done, 0, len);
		} else {
			err = bounce_get(&bb, NULL);
			if (!err)
				err = bento_dev_read(sb, pblk, 1, bb.blk);
			if (!err)
				memcpy(buf + done, bb.blk + boff, len);
		}
		done += len;
	}
out:
	bento_rwlock_rdunlock(&ip->lock);
	bento_free(bb.mem);
	xv6_iput(fs, ip);
	return err ? err : (ssize_t)done;
}

int xv6_zero_tail(struct xv6_fs *fs, struct xv6_inode *ip)
{
	uint32_t off = (uint32_t)(ip->size % XV6_BLOCK_SIZE);
	uint64_t pblk;
	uint8_t *blk;
	int err;

	if (off == 0)
		return 0;
	err = xv6_bmap(fs, ip, ip->size / XV6_BLOCK_SIZE, NULL, 0, &pblk,
		       NULL);
	if (err || pblk == 0)
		return err;
	blk = bento_alloc(XV6_BLOCK_SIZE);
	if (!blk)
		return -ENOMEM;
	err = bento_dev_read(fs->sb, pblk, 1, blk);
	if (!err) {
		memset(blk + off, 0, XV6_BLOCK_SIZE - off);
		err = bento_dev_write(fs->sb, pblk, 1, blk);
	}
	bento_free(blk);
	return err;
}

/*
 * write_chunk - write @len bytes at @off (within one chunk) in
 * transaction @tx; ip->lock held exclusive.  Returns bytes written (may
 * be short when the op's log reservation fills) or -errno.  @bounce
 * holds the chunk's blocks, @pb their block numbers.
 */
static ssize_t write_chunk(struct xv6_tx *tx, struct xv6_inode *ip,
			   const char *src, size_t len, uint64_t off,
			   uint8_t *bounce, uint64_t *pb)
{
	struct xv6_fs *fs = tx->fs;
	uint64_t first = off / XV6_BLOCK_SIZE, fb, last, goal = 0;
	bool fresh;
	uint32_t i, nb;
	int err = 0;

	last = (off + len - 1) / XV6_BLOCK_SIZE;
	if (first > 0 && xv6_bmap(fs, ip, first - 1, NULL, 0, &goal, NULL) == 0 &&
	    goal)
		goal++;

	/* 1. Map (allocating) every block; stop early if the log is full. */
	for (fb = first; fb <= last; fb++) {
		if (xv6_tx_low(tx, 8))
			break;
		err = xv6_bmap(fs, ip, fb, tx, goal, &pb[fb - first], &fresh);
		if (err)
			break;
		goal = pb[fb - first] + 1;
		/* Read or zero what the write does not cover. */
		if ((fb == first && off % XV6_BLOCK_SIZE) ||
		    (fb == last && (off + len) % XV6_BLOCK_SIZE)) {
			uint8_t *dst = bounce + (fb - first) * XV6_BLOCK_SIZE;

			if (fresh)
				memset(dst, 0, XV6_BLOCK_SIZE);
			else
				err = bento_dev_read(fs->sb, pb[fb - first], 1,
						     dst);
			if (err)
				break;
		}
	}
	nb = (uint32_t)(fb - first);
	if (nb == 0)
		return err ? err : -ENOSPC;
	if (fb <= last)		/* cut short: write whole blocks only */
		len = (size_t)(first + nb) * XV6_BLOCK_SIZE - off;

	/* 2. Merge the data in and write runs. */
	memcpy(bounce + off % XV6_BLOCK_SIZE, src, len);
	for (i = 0; i < nb;) {
		uint32_t n = 1;

		while (i + n < nb && pb[i + n] == pb[i] + n)
			n++;
		err = bento_dev_write(fs->sb, pb[i], n,
				      bounce + (size_t)i * XV6_BLOCK_SIZE);
		if (err)
			return err;
		i += n;
	}
	if (off + len > ip->size)
		ip->size = off + len;
	return (ssize_t)len;
}

ssize_t xv6_write(struct bento_sb *sb, bento_ino_t ino, uint64_t fh,
		  const char *buf, size_t size, uint64_t off)
{
	struct xv6_fs *fs = XV6_FS(sb);
	struct xv6_inode *ip;
	struct xv6_tx tx;
	uint8_t *bounce;
	size_t done = 0;
	ssize_t n = 0;
	bool retried = false;
	int err;

	if (size == 0)
		return 0;
	/* As Linux: past the largest file EFBIG, across it a short write. */
	if (off >= XV6_MAX_FILE_BYTES)
		return -EFBIG;
	if (size > XV6_MAX_FILE_BYTES - off)
		size = (size_t)(XV6_MAX_FILE_BYTES - off);
	err = get_file(fs, ino, &ip);
	if (err)
		return err;
	bounce = bento_alloc(XV6_WRITE_CHUNK + 2 * XV6_BLOCK_SIZE +
			     XV6_BLOCK_SIZE);
	if (!bounce) {
		xv6_iput(fs, ip);
		return -ENOMEM;
	}
	while (done < size) {
		uint64_t pos = off + done;
		size_t len = size - done;
		size_t room = XV6_WRITE_CHUNK - pos % XV6_BLOCK_SIZE;

		if (len > room)
			len = room;
		err = xv6_begin_op(fs, &tx, XV6_OP_BLOCKS);
		if (err)
			break;
		bento_rwlock_wrlock(&ip->lock);
		if (pos > ip->size)
			err = xv6_zero_tail(fs, ip);
		if (!err)
			n = write_chunk(&tx, ip, buf + done, len, pos, bounce,
					(uint64_t *)(bounce + XV6_WRITE_CHUNK +
						     2 * XV6_BLOCK_SIZE));
		if (!err && n > 0) {
			xv6_touch(ip, true, true);
			err = xv6_iupdate(&tx, ip);
		}
		bento_rwlock_wrunlock(&ip->lock);
		xv6_end_op(&tx);
		if (!err && n < 0)
			err = (int)n;
		if (xv6_retry_nospc(fs, err, &retried))
			continue;
		if (err)
			break;
		done += (size_t)n;
		retried = false;
	}
	bento_free(bounce);
	xv6_iput(fs, ip);
	return done ? (ssize_t)done : err;
}

bool xv6_retry_nospc(struct xv6_fs *fs, int err, bool *retried)
{
	uint64_t bfree;

	if (err != -ENOSPC || *retried)
		return false;
	*retried = true;
	if (xv6_bpending(fs))
		return xv6_log_force(fs) == 0;

	/* Another op's commit may have freed blocks since we failed. */
	bento_mutex_lock(&fs->balloc_lock);
	bfree = fs->bfree;
	bento_mutex_unlock(&fs->balloc_lock);
	return bfree > 0;
}

int xv6_setattr(struct bento_sb *sb, const struct bento_ctx *ctx,
		bento_ino_t ino, const struct bento_setattr *sa,
		struct bento_attr *out)
{
	struct xv6_fs *fs = XV6_FS(sb);
	struct xv6_inode *ip;
	struct xv6_tx tx;
	int err;

	err = xv6_iget(fs, ino, &ip);
	if (err)
		return err;
	if (ip->mode == 0) {
		err = -ENOENT;
		goto out;
	}
	/* The provenance log changes only by its hooks (xv6fs_prov.h). */
	if (ino == xv6_prov_ino(fs)) {
		err = -EPERM;
		goto out;
	}

	/* 1. Size, in transactions of its own. */
	if (sa->valid & BENTO_SET_SIZE) {
		if (xv6_is_dir(ip))
			err = -EISDIR;
		else if (!S_ISREG(ip->mode))
			err = -EINVAL;
		else if (sa->size > XV6_MAX_FILE_BYTES)
			err = -EFBIG;
		else
			err = xv6_itrunc(fs, ip, sa->size);
		if (err)
			goto out;
	}

	/* 2. Everything else in one. */
	err = xv6_begin_op(fs, &tx, 4);
	if (err)
		goto out;
	bento_rwlock_wrlock(&ip->lock);
	if (sa->valid & BENTO_SET_MODE)
		ip->mode = (ip->mode & S_IFMT) | (sa->mode & 07777);
	if (sa->valid & BENTO_SET_UID)
		ip->uid = sa->uid;
	if (sa->valid & BENTO_SET_GID)
		ip->gid = sa->gid;
	if (sa->valid & BENTO_SET_ATIME)
		ip->atime = sa->atime;
	if (sa->valid & BENTO_SET_MTIME)
		ip->mtime = sa->mtime;
	if (sa->valid & (BENTO_SET_ATIME_NOW | BENTO_SET_MTIME_NOW)) {
		struct bento_timespec now;

		bento_now(&now);
		if (sa->valid & BENTO_SET_ATIME_NOW)
			ip->atime = now;
		if (sa->valid & BENTO_SET_MTIME_NOW)
			ip->mtime = now;
	}
	if (sa->valid & BENTO_SET_CTIME)
		ip->ctime = sa->ctime;
	else
		xv6_touch(ip, false, true);
	err = xv6_iupdate(&tx, ip);
	xv6_fill_attr(ip, out);
	bento_rwlock_wrunlock(&ip->lock);
	xv6_end_op(&tx);
out:
	xv6_iput(fs, ip);
	return err;
}

int xv6_fsync(struct bento_sb *sb, bento_ino_t ino, uint64_t fh,
	      int datasync)
{
	return xv6_log_force(XV6_FS(sb));
}
