/*
 * xattr.c - extended attributes, all of an inode's in one block.
 *
 * The block (docs/xv6fs-format.md) is read whole into memory, validated,
 * edited there and written back whole inside a transaction.  Limits: the
 * names and values of one inode share 4 KiB (-ENOSPC beyond); a value is
 * at most XV6_XATTR_MAX_VALUE bytes (-ERANGE beyond).  An emptied block
 * is kept until the inode is freed.  Names must be in a namespace Linux
 * knows: "user.", "trusted.", "security.", or one of the two POSIX ACL
 * names "system.posix_acl_access" and "system.posix_acl_default"
 * (stored, not interpreted); any other name is -EOPNOTSUPP, as Linux
 * answers for an unknown prefix.
 *
 * Locking: ip->lock, exclusive to change, shared to read.
 */
#define BENTO_LOG_SUBSYS "xv6fs"
#include "xv6fs.h"

#define X_HDR 8u

/* Is @name in a namespace xv6fs stores?  0 or -EOPNOTSUPP. */
static int check_name(const char *name)
{
	static const char *const prefixes[] = {
		"user.", "trusted.", "security.", NULL,
	};
	int i;

	for (i = 0; prefixes[i]; i++) {
		size_t n = strlen(prefixes[i]);

		if (strncmp(name, prefixes[i], n) == 0)
			return name[n] ? 0 : -EINVAL;
	}
	if (strcmp(name, "system.posix_acl_access") == 0 ||
	    strcmp(name, "system.posix_acl_default") == 0)
		return 0;
	return -EOPNOTSUPP;
}

/* Read and validate @ip's xattr block into @blk; 0 or -errno. */
static int xread(struct xv6_fs *fs, struct xv6_inode *ip, uint8_t *blk,
		 uint32_t *used)
{
	struct bento_buf *b;
	uint32_t off, u;
	int err;

	if (!xv6_valid_data_block(fs, ip->xattr_block))
		return xv6_inode_corrupt(fs, ip->ino, "bad xattr block number");
	err = bento_bread(fs->sb, ip->xattr_block, &b);
	if (err)
		return err;
	err = bento_buf_read(b, 0, blk, XV6_BLOCK_SIZE);
	bento_brelse(b);
	if (err)
		return err;
	u = (uint32_t)blk[4] | (uint32_t)blk[5] << 8 |
	    (uint32_t)blk[6] << 16 | (uint32_t)blk[7] << 24;
	if (((uint32_t)blk[0] | (uint32_t)blk[1] << 8 |
	     (uint32_t)blk[2] << 16 | (uint32_t)blk[3] << 24) !=
		    XV6_XATTR_MAGIC || u < X_HDR || u > XV6_BLOCK_SIZE)
		goto bad;
	for (off = X_HDR; off < u;) {
		uint32_t nl = blk[off], vl;

		if (off + 4 > u)
			goto bad;
		vl = (uint32_t)blk[off + 2] | (uint32_t)blk[off + 3] << 8;
		if (nl == 0 || off + XV6_XATTR_ENTRY_LEN(nl, vl) > u)
			goto bad;
		off += XV6_XATTR_ENTRY_LEN(nl, vl);
	}
	*used = u;
	return 0;
bad:
	return bento_fs_corrupt(fs->sb, -EUCLEAN, "inode %llu: xattr block %u malformed",
				(unsigned long long)ip->ino, ip->xattr_block);
}

/* Offset of entry @name in a validated block, or 0 if absent. */
static uint32_t xfind(const uint8_t *blk, uint32_t used, const char *name,
		      uint32_t nlen)
{
	uint32_t off;

	for (off = X_HDR; off < used;) {
		uint32_t nl = blk[off];
		uint32_t vl = (uint32_t)blk[off + 2] |
			      (uint32_t)blk[off + 3] << 8;

		if (nl == nlen && memcmp(blk + off + 4, name, nlen) == 0)
			return off;
		off += XV6_XATTR_ENTRY_LEN(nl, vl);
	}
	return 0;
}

static int get_inode(struct xv6_fs *fs, uint64_t ino, struct xv6_inode **ip)
{
	int err = xv6_iget(fs, ino, ip);

	if (!err && (*ip)->mode == 0) {
		xv6_iput(fs, *ip);
		err = -ENOENT;
	}
	return err;
}

ssize_t xv6_getxattr(struct bento_sb *sb, bento_ino_t ino, const char *name,
		     void *value, size_t size)
{
	struct xv6_fs *fs = XV6_FS(sb);
	uint32_t nlen = (uint32_t)strlen(name), used, off, vl;
	struct xv6_inode *ip;
	uint8_t *blk = NULL;
	ssize_t ret;

	ret = check_name(name);
	if (ret)
		return ret;
	ret = get_inode(fs, ino, &ip);
	if (ret)
		return ret;
	bento_rwlock_rdlock(&ip->lock);
	ret = -ENODATA;
	if (!ip->xattr_block || nlen == 0 || nlen > 255)
		goto out;
	blk = bento_alloc(XV6_BLOCK_SIZE);
	ret = blk ? xread(fs, ip, blk, &used) : -ENOMEM;
	if (ret)
		goto out;
	off = xfind(blk, used, name, nlen);
	if (!off) {
		ret = -ENODATA;
		goto out;
	}
	vl = (uint32_t)blk[off + 2] | (uint32_t)blk[off + 3] << 8;
	ret = vl;
	if (size && size < vl)
		ret = -ERANGE;
	else if (size)
		memcpy(value, blk + off + 4 + nlen, vl);
out:
	bento_rwlock_rdunlock(&ip->lock);
	bento_free(blk);
	xv6_iput(fs, ip);
	return ret;
}

ssize_t xv6_listxattr(struct bento_sb *sb, bento_ino_t ino, char *list,
		      size_t size)
{
	struct xv6_fs *fs = XV6_FS(sb);
	struct xv6_inode *ip;
	uint8_t *blk = NULL;
	uint32_t used, off;
	size_t total = 0;
	ssize_t ret;

	ret = get_inode(fs, ino, &ip);
	if (ret)
		return ret;
	bento_rwlock_rdlock(&ip->lock);
	if (!ip->xattr_block)
		goto out;
	blk = bento_alloc(XV6_BLOCK_SIZE);
	ret = blk ? xread(fs, ip, blk, &used) : -ENOMEM;
	if (ret)
		goto out;
	for (off = X_HDR; off < used;) {
		uint32_t nl = blk[off];
		uint32_t vl = (uint32_t)blk[off + 2] |
			      (uint32_t)blk[off + 3] << 8;

		if (size && total + nl + 1 > size) {
			ret = -ERANGE;
			goto out;
		}
		if (size) {
			memcpy(list + total, blk + off + 4, nl);
			list[total + nl] = '\0';
		}
		total += nl + 1;
		off += XV6_XATTR_ENTRY_LEN(nl, vl);
	}
out:
	bento_rwlock_rdunlock(&ip->lock);
	bento_free(blk);
	xv6_iput(fs, ip);
	return ret ? ret : (ssize_t)total;
}

/* Write @blk back as @ip's xattr block (allocating one if needed). */
static int xwrite(struct xv6_tx *tx, struct xv6_inode *ip, uint8_t *blk,
		  uint32_t used)
{
	struct bento_buf *b;
	uint64_t p;
	int err;

	if (!ip->xattr_block) {
		err = xv6_balloc(tx, 0, &p);
		if (err)
			return err;
		ip->xattr_block = (uint32_t)p;
		ip->nblocks++;
	}
	blk[4] = (uint8_t)used;
	blk[5] = (uint8_t)(used >> 8);
	blk[6] = blk[7] = 0;
	memset(blk + used, 0, XV6_BLOCK_SIZE - used);
	err = bento_getblk(tx->fs->sb, ip->xattr_block, &b);
	if (err)
		return err;
	err = bento_buf_write(b, 0, blk, XV6_BLOCK_SIZE);
	xv6_log_write(tx, b);
	bento_brelse(b);
	xv6_touch(ip, false, true);
	if (!err)
		err = xv6_iupdate(tx, ip);
	return err;
}

/* Set (@value non-NULL) or remove (@value NULL) attribute @name. */
static int xchange(struct bento_sb *sb, bento_ino_t ino, const char *name,
		   const void *value, size_t size, int flags)
{
	struct xv6_fs *fs = XV6_FS(sb);
	uint32_t nlen = (uint32_t)strlen(name), used = X_HDR, off;
	struct xv6_inode *ip = NULL;
	struct xv6_tx tx;
	uint8_t *blk;
	int err;

	err = check_name(name);
	if (err)
		return err;
	if (nlen == 0 || nlen > 255)
		return -ERANGE;
	if (value && size > XV6_XATTR_MAX_VALUE)
		return -ERANGE;
	blk = bento_zalloc(XV6_BLOCK_SIZE);
	if (!blk)
		return -ENOMEM;
	err = xv6_begin_op(fs, &tx, 4);
	if (err)
		goto out_free;
	err = get_inode(fs, ino, &ip);
	if (err)
		goto out_op;
	bento_rwlock_wrlock(&ip->lock);
	if (ip->xattr_block)
		err = xread(fs, ip, blk, &used);
	if (err)
		goto out_unlock;
	off = ip->xattr_block ? xfind(blk, used, name, nlen) : 0;

	/* 1. Flags against what exists. */
	if (!off && (!value || (flags & BENTO_XATTR_REPLACE))) {
		err = -ENODATA;
		goto out_unlock;
	}
	if (off && value && (flags & BENTO_XATTR_CREATE)) {
		err = -EEXIST;
		goto out_unlock;
	}

	/* 2. Drop the old entry, append the new one. */
	if (off) {
		uint32_t vl = (uint32_t)blk[off + 2] |
			      (uint32_t)blk[off + 3] << 8;
		uint32_t len = XV6_XATTR_ENTRY_LEN(blk[off], vl);

		memmove(blk + off, blk + off + len, used - off - len);
		used -= len;
	}
	if (value) {
		uint32_t len = XV6_XATTR_ENTRY_LEN(nlen, (uint32_t)size);

		if (used + len > XV6_BLOCK_SIZE) {
			err = -ENOSPC;
			goto out_unlock;
		}
		memset(blk + used, 0, len);
		blk[used] = (uint8_t)nlen;
		blk[used + 2] = (uint8_t)size;
		blk[used + 3] = (uint8_t)(size >> 8);
		memcpy(blk + used + 4, name, nlen);
		memcpy(blk + used + 4 + nlen, value, size);
		used += len;
	}
	blk[0] = (uint8_t)XV6_XATTR_MAGIC;
	blk[1] = (uint8_t)(XV6_XATTR_MAGIC >> 8);
	blk[2] = (uint8_t)(XV6_XATTR_MAGIC >> 16);
	blk[3] = (uint8_t)(XV6_XATTR_MAGIC >> 24);
	err = xwrite(&tx, ip, blk, used);
out_unlock:
	bento_rwlock_wrunlock(&ip->lock);
out_op:
	xv6_end_op(&tx);
	xv6_iput(fs, ip);
out_free:
	bento_free(blk);
	return err;
}

int xv6_setxattr(struct bento_sb *sb, const struct bento_ctx *ctx,
		 bento_ino_t ino, const char *name, const void *value,
		 size_t size, int flags)
{
	bool retried = false;
	int err;

	do {
		err = xchange(sb, ino, name, value ? value : "", size, flags);
	} while (xv6_retry_nospc(XV6_FS(sb), err, &retried));
	return err;
}

int xv6_removexattr(struct bento_sb *sb, const struct bento_ctx *ctx,
		    bento_ino_t ino, const char *name)
{
	return xchange(sb, ino, name, NULL, 0, 0);
}

int xv6_xattr_free(struct xv6_tx *tx, struct xv6_inode *ip)
{
	int err;

	if (!ip->xattr_block)
		return 0;
	err = xv6_bfree(tx, ip->xattr_block);
	if (err)
		return err;
	ip->xattr_block = 0;
	if (ip->nblocks)
		ip->nblocks--;
	return 0;
}
