/*
 * namei.c - operations on names: lookup, forget, getattr, readlink,
 * mknod/mkdir/symlink/create, link, unlink, rmdir, rename, readdir.
 *
 * Every modifying op follows one shape: begin a transaction, take the
 * directory lock(s), then the lock(s) of the inodes named, change the
 * directory records and inodes, unlock, end the transaction, and only
 * then drop inode references (a last reference to an unlinked inode
 * frees it in transactions of its own).  Ops that may allocate (a new
 * inode's blocks, a directory's growth) run once more after a commit
 * when they fail with ENOSPC while freed blocks wait for their commit
 * (xv6_retry_nospc).
 *
 * Provenance: create, mkdir, symlink, unlink and rename call
 * xv6_prov_record after dropping their inode locks and before ending
 * their transaction, so the record commits with the op or not at all;
 * they reserve xv6_prov_blocks more log blocks for it (0 in the base
 * build).  The provenance build shows its log under XV6_PROV_NAME in the
 * root (xv6_prov_lookup); readdir does not list it, and link refuses to
 * name it.
 *
 * Rename: same-directory renames lock the one directory.  Renames across
 * directories take fs->rename_lock first, which freezes the shape of the
 * directory tree (only such renames change a directory's parent), then
 * lock the two directories ancestor first, and refuse to move a directory
 * into its own subtree (-EINVAL).  Walks up the tree are bounded by the
 * inode count, so a cycle in a corrupt image is reported, not followed.
 */
#define BENTO_LOG_SUBSYS "xv6fs"
#include "xv6fs.h"
#include "xv6fs_prov.h"

#define XV6_LINK_MAX 65000u

/* Get directory @ino, referenced.  -ENOENT if freed, -ENOTDIR. */
static int get_dir(struct xv6_fs *fs, uint64_t ino, struct xv6_inode **out)
{
	struct xv6_inode *dp;
	int err = xv6_iget(fs, ino, &dp);

	if (err)
		return err;
	if (dp->mode == 0 || !xv6_is_dir(dp)) {
		err = dp->mode ? -ENOTDIR : -ENOENT;
		xv6_iput(fs, dp);
		return err;
	}
	*out = dp;
	return 0;
}

/* Get the inode a directory entry names; a free one is corruption. */
static int get_entry_inode(struct xv6_fs *fs, struct xv6_inode *dp,
			   const char *name, uint64_t ino,
			   struct xv6_inode **out)
{
	int err = xv6_iget(fs, ino, out);

	if (err)
		return err;
	if ((*out)->mode == 0) {
		xv6_iput(fs, *out);
		return bento_fs_corrupt(fs->sb, -EUCLEAN, "inode %llu: entry '%s' names free inode %llu",
					(unsigned long long)dp->ino, name,
					(unsigned long long)ino);
	}
	return 0;
}

int xv6_lookup(struct bento_sb *sb, bento_ino_t parent, const char *name,
	       struct bento_entry *out)
{
	struct xv6_fs *fs = XV6_FS(sb);
	struct xv6_inode *dp, *ip = NULL;
	uint64_t ino;
	uint32_t type;
	int err;

	err = xv6_prov_lookup(fs, parent, name, out);
	if (err != -ENOENT)
		return err;
	err = get_dir(fs, parent, &dp);
	if (err)
		return err;
	bento_rwlock_rdlock(&dp->lock);
	err = xv6_dir_lookup(fs, dp, name, &ino, &type);
	if (!err)
		err = get_entry_inode(fs, dp, name, ino, &ip);
	bento_rwlock_rdunlock(&dp->lock);
	if (!err) {
		xv6_ilookup_add(fs, ip, 1);
		bento_rwlock_rdlock(&ip->lock);
		xv6_fill_entry(ip, out);
		bento_rwlock_rdunlock(&ip->lock);
		xv6_iput(fs, ip);
	}
	xv6_iput(fs, dp);
	return err;
}

void xv6_forget(struct bento_sb *sb, bento_ino_t ino, uint64_t nlookup)
{
	struct xv6_fs *fs = XV6_FS(sb);
	struct xv6_inode *ip;

	if (xv6_iget(fs, ino, &ip))
		return;
	bento_mutex_lock(&fs->icache_lock);
	ip->nlookup -= nlookup < ip->nlookup ? nlookup : ip->nlookup;
	bento_mutex_unlock(&fs->icache_lock);
	xv6_iput(fs, ip);
}

int xv6_getattr(struct bento_sb *sb, bento_ino_t ino, struct bento_attr *out)
{
	struct xv6_fs *fs = XV6_FS(sb);
	struct xv6_inode *ip;
	int err = xv6_iget(fs, ino, &ip);

	if (err)
		return err;
	bento_rwlock_rdlock(&ip->lock);
	if (ip->mode == 0)
		err = -ENOENT;
	else
		xv6_fill_attr(ip, out);
	bento_rwlock_rdunlock(&ip->lock);
	xv6_iput(fs, ip);
	return err;
}

int xv6_readlink(struct bento_sb *sb, bento_ino_t ino, char *buf,
		 size_t size)
{
	struct xv6_fs *fs = XV6_FS(sb);
	struct xv6_inode *ip;
	struct bento_buf *b;
	uint64_t p;
	uint32_t n;
	int err = xv6_iget(fs, ino, &ip);

	if (err)
		return err;
	bento_rwlock_rdlock(&ip->lock);
	if (!S_ISLNK(ip->mode)) {
		err = -EINVAL;
		goto out;
	}
	err = xv6_bmap(fs, ip, 0, NULL, 0, &p, NULL);
	if (!err && p == 0)
		err = xv6_inode_corrupt(fs, ip->ino, "symlink without a block");
	if (!err)
		err = bento_bread(sb, p, &b);
	if (err)
		goto out;
	n = (uint32_t)(ip->size < size ? ip->size : size);
	err = bento_buf_read(b, 0, buf, n);
	bento_brelse(b);
	if (!err)
		err = (int)n;
out:
	bento_rwlock_rdunlock(&ip->lock);
	xv6_iput(fs, ip);
	return err;
}

/* Store a symlink target in a new block of @ip. */
static int write_symlink(struct xv6_tx *tx, struct xv6_inode *ip,
			 const char *target, uint32_t len)
{
	struct bento_buf *b;
	uint64_t p;
	int err;

	err = xv6_bmap(tx->fs, ip, 0, tx, 0, &p, NULL);
	if (err)
		return err;
	err = bento_getblk(tx->fs->sb, p, &b);
	if (err)
		return err;
	bento_buf_zero(b, 0, XV6_BLOCK_SIZE);
	err = bento_buf_write(b, 0, target, len);
	xv6_log_write(tx, b);
	bento_brelse(b);
	ip->size = len;
	return err;
}

/* The common part of mknod, mkdir, symlink and create (one try). */
static int make_node_once(struct bento_sb *sb, const struct bento_ctx *ctx,
		     bento_ino_t parent, const char *name, uint32_t mode,
		     uint32_t rdev, const char *target,
		     struct bento_entry *out, uint32_t prov_op)
{
	struct xv6_fs *fs = XV6_FS(sb);
	struct xv6_inode *dp, *ip = NULL;
	struct xv6_tx tx;
	uint64_t ino;
	uint32_t type, tlen = target ? (uint32_t)strlen(target) : 0;
	bool prov_pending = false;
	int err;

	if (strlen(name) > BENTO_NAME_MAX)
		return -ENAMETOOLONG;
	if (target && (tlen == 0 || tlen >= XV6_BLOCK_SIZE))
		return tlen ? -ENAMETOOLONG : -ENOENT;
	err = xv6_begin_op(fs, &tx, XV6_OP_BLOCKS + xv6_prov_blocks);
	if (err)
		return err;
	err = get_dir(fs, parent, &dp);
	if (err)
		goto out_op;
	bento_rwlock_wrlock(&dp->lock);

	/* 1. The name must be free, the directory alive. */
	if (dp->nlink == 0) {
		err = -ENOENT;
		goto out_unlock;
	}
	err = xv6_dir_lookup(fs, dp, name, &ino, &type);
	if (err != -ENOENT) {
		err = err ? err : -EEXIST;
		goto out_unlock;
	}
	if (S_ISDIR(mode) && dp->nlink >= XV6_LINK_MAX) {
		err = -EMLINK;
		goto out_unlock;
	}

	/* 2. The inode. */
	err = xv6_ialloc(&tx, mode, ctx, &ip);
	if (err)
		goto out_unlock;
	bento_rwlock_wrlock(&ip->lock);
	if (dp->mode & S_ISGID) {
		ip->gid = dp->gid;
		if (S_ISDIR(mode))
			ip->mode |= S_ISGID;
	}
	if (S_ISDIR(mode)) {
		ip->nlink = 2;
		ip->parent = dp->ino;
	} else if (S_ISCHR(mode) || S_ISBLK(mode)) {
		ip->rdev = rdev;
	} else if (S_ISLNK(mode)) {
		err = write_symlink(&tx, ip, target, tlen);
	}
	if (!err)
		err = xv6_iupdate(&tx, ip);

	/* 3. The entry; on failure the inode is freed by the last iput. */
	if (!err)
		err = xv6_dir_add(&tx, dp, name, ip->ino,
				  bento_mode_to_dt(ip->mode));
	if (!err && S_ISDIR(mode)) {
		dp->nlink++;
		err = xv6_iupdate(&tx, dp);
	}
	if (err) {
		ip->nlink = 0;
		xv6_iupdate(&tx, ip);
	} else {
		xv6_ilookup_add(fs, ip, 1);
		xv6_fill_entry(ip, out);
	}
	bento_rwlock_wrunlock(&ip->lock);
	if (!err && prov_op)
		prov_pending = true;
out_unlock:
	bento_rwlock_wrunlock(&dp->lock);
	if (prov_pending)
		xv6_prov_record(&tx, ctx, prov_op, ip->ino, dp->ino, name, 0,
				NULL);
	xv6_end_op(&tx);
	xv6_iput(fs, ip);
	xv6_iput(fs, dp);
	return err;
out_op:
	xv6_end_op(&tx);
	return err;
}

/* make_node - make_node_once, again after a commit if space was short. */
static int make_node(struct bento_sb *sb, const struct bento_ctx *ctx,
		     bento_ino_t parent, const char *name, uint32_t mode,
		     uint32_t rdev, const char *target,
		     struct bento_entry *out, uint32_t prov_op)
{
	bool retried = false;
	int err;

	do {
		err = make_node_once(sb, ctx, parent, name, mode, rdev, target,
				     out, prov_op);
	} while (xv6_retry_nospc(XV6_FS(sb), err, &retried));
	return err;
}

int xv6_mknod(struct bento_sb *sb, const struct bento_ctx *ctx,
	      bento_ino_t parent, const char *name, uint32_t mode,
	      uint32_t rdev, struct bento_entry *out)
{
	switch (mode & S_IFMT) {
	case 0:
		mode |= S_IFREG;
		break;
	case S_IFREG: case S_IFCHR: case S_IFBLK: case S_IFIFO:
	case S_IFSOCK:
		break;
	default:
		return -EINVAL;
	}
	return make_node(sb, ctx, parent, name, mode, rdev, NULL, out, 0);
}

int xv6_mkdir(struct bento_sb *sb, const struct bento_ctx *ctx,
	      bento_ino_t parent, const char *name, uint32_t mode,
	      struct bento_entry *out)
{
	return make_node(sb, ctx, parent, name, S_IFDIR | (mode & 07777), 0,
			 NULL, out, XV6_PROV_MKDIR);
}

int xv6_symlink(struct bento_sb *sb, const struct bento_ctx *ctx,
		bento_ino_t parent, const char *name, const char *target,
		struct bento_entry *out)
{
	return make_node(sb, ctx, parent, name, S_IFLNK | 0777, 0, target,
			 out, XV6_PROV_SYMLINK);
}

int xv6_create(struct bento_sb *sb, const struct bento_ctx *ctx,
	       bento_ino_t parent, const char *name, uint32_t mode, int flags,
	       struct bento_entry *out, uint64_t *fh)
{
	*fh = 0;
	return make_node(sb, ctx, parent, name, S_IFREG | (mode & 07777), 0,
			 NULL, out, XV6_PROV_CREATE);
}

static int link_once(struct bento_sb *sb, bento_ino_t ino,
		     bento_ino_t newparent, const char *newname,
		     struct bento_entry *out)
{
	struct xv6_fs *fs = XV6_FS(sb);
	struct xv6_inode *dp, *ip;
	struct xv6_tx tx;
	uint64_t other;
	uint32_t type;
	int err;

	if (strlen(newname) > BENTO_NAME_MAX)
		return -ENAMETOOLONG;
	if (ino == xv6_prov_ino(fs))
		return -EPERM;
	err = xv6_begin_op(fs, &tx, XV6_OP_BLOCKS);
	if (err)
		return err;
	err = get_dir(fs, newparent, &dp);
	if (err)
		goto out_op;
	err = xv6_iget(fs, ino, &ip);
	if (err)
		goto out_dp;
	bento_rwlock_wrlock(&dp->lock);
	bento_rwlock_wrlock(&ip->lock);
	if (ip->mode == 0 || ip->nlink == 0 || dp->nlink == 0)
		err = -ENOENT;
	else if (xv6_is_dir(ip))
		err = -EPERM;
	else if (ip->nlink >= XV6_LINK_MAX)
		err = -EMLINK;
	if (!err) {
		err = xv6_dir_lookup(fs, dp, newname, &other, &type);
		err = err == -ENOENT ? 0 : (err ? err : -EEXIST);
	}
	if (!err)
		err = xv6_dir_add(&tx, dp, newname, ip->ino,
				  bento_mode_to_dt(ip->mode));
	if (!err) {
		ip->nlink++;
		xv6_touch(ip, false, true);
		err = xv6_iupdate(&tx, ip);
	}
	if (!err) {
		xv6_ilookup_add(fs, ip, 1);
		xv6_fill_entry(ip, out);
	}
	bento_rwlock_wrunlock(&ip->lock);
	bento_rwlock_wrunlock(&dp->lock);
	xv6_end_op(&tx);
	xv6_iput(fs, ip);
	xv6_iput(fs, dp);
	return err;
out_dp:
	xv6_iput(fs, dp);
out_op:
	xv6_end_op(&tx);
	return err;
}

int xv6_link(struct bento_sb *sb, const struct bento_ctx *ctx,
	     bento_ino_t ino, bento_ino_t newparent, const char *newname,
	     struct bento_entry *out)
{
	bool retried = false;
	int err;

	do {
		err = link_once(sb, ino, newparent, newname, out);
	} while (xv6_retry_nospc(XV6_FS(sb), err, &retried));
	return err;
}

/* Drop one link of @ip (locked); an inode left without links becomes
 * an orphan until its last reference goes. */
static int drop_link(struct xv6_tx *tx, struct xv6_inode *ip)
{
	if (xv6_is_dir(ip))
		ip->nlink = 0;
	else if (ip->nlink > 0)
		ip->nlink--;
	xv6_touch(ip, false, true);
	if (ip->nlink == 0) {
		int err = xv6_orphan_add(tx, ip);

		if (err)
			return err;
	}
	return xv6_iupdate(tx, ip);
}

static int remove_name(struct bento_sb *sb, const struct bento_ctx *ctx,
		       bento_ino_t parent, const char *name, bool dir)
{
	struct xv6_fs *fs = XV6_FS(sb);
	struct xv6_inode *dp, *ip = NULL;
	struct xv6_tx tx;
	uint64_t ino, n;
	uint32_t type;
	int err;

	err = xv6_begin_op(fs, &tx, XV6_OP_BLOCKS + xv6_prov_blocks);
	if (err)
		return err;
	err = get_dir(fs, parent, &dp);
	if (err)
		goto out_op;
	bento_rwlock_wrlock(&dp->lock);
	err = xv6_dir_lookup(fs, dp, name, &ino, &type);
	if (!err)
		err = get_entry_inode(fs, dp, name, ino, &ip);
	if (err)
		goto out_dp;
	bento_rwlock_wrlock(&ip->lock);
	if (dir && !xv6_is_dir(ip))
		err = -ENOTDIR;
	else if (!dir && xv6_is_dir(ip))
		err = -EISDIR;
	else if (dir && (err = xv6_dir_count(fs, ip, &n)) == 0 && n > 0)
		err = -ENOTEMPTY;
	if (!err)
		err = xv6_dir_remove(&tx, dp, name);
	if (!err)
		err = drop_link(&tx, ip);
	if (!err && dir) {
		dp->nlink--;
		err = xv6_iupdate(&tx, dp);
	}
	bento_rwlock_wrunlock(&ip->lock);
out_dp:
	bento_rwlock_wrunlock(&dp->lock);
	if (!err && !dir)
		xv6_prov_record(&tx, ctx, XV6_PROV_UNLINK, ip->ino, dp->ino,
				name, 0, NULL);
	xv6_end_op(&tx);
	xv6_iput(fs, ip);
	xv6_iput(fs, dp);
	return err;
out_op:
	xv6_end_op(&tx);
	return err;
}

int xv6_unlink(struct bento_sb *sb, const struct bento_ctx *ctx,
	       bento_ino_t parent, const char *name)
{
	return remove_name(sb, ctx, parent, name, false);
}

int xv6_rmdir(struct bento_sb *sb, const struct bento_ctx *ctx,
	      bento_ino_t parent, const char *name)
{
	return remove_name(sb, ctx, parent, name, true);
}

/*
 * is_ancestor - is directory @a an ancestor of (or the same as) directory
 * @x?  Returns 1, 0, or -errno.  Caller holds fs->rename_lock and no lock
 * of an inode that is not yet loaded.
 */
static int is_ancestor(struct xv6_fs *fs, uint64_t a, uint64_t x)
{
	uint64_t cur = x, steps;

	for (steps = 0; steps < fs->ninodes; steps++) {
		struct xv6_inode *ip;
		uint64_t up;
		int err;

		if (cur == a)
			return 1;
		if (cur == XV6_ROOT_INO)
			return 0;
		err = get_dir(fs, cur, &ip);
		if (err)
			return err == -EUCLEAN ? err :
			       xv6_inode_corrupt(fs, cur, "parent is not a directory");
		up = ip->parent;
		xv6_iput(fs, ip);
		cur = up;
	}
	return bento_fs_corrupt(fs->sb, -EUCLEAN, "inode %llu: directory cycle above it",
				(unsigned long long)x);
}

struct rename_args {
	struct xv6_inode *p, *np, *s, *t;
	const char *name, *newname;
	uint64_t sino, tino;
	uint32_t stype, ttype;
	unsigned int flags;
	bool cross;
};

/* Lock the two directories, ancestor first.  Caller holds rename_lock
 * when they differ. */
static int lock_parents(struct xv6_fs *fs, struct rename_args *r)
{
	struct xv6_inode *first = r->p, *second = r->np;
	int anc;

	if (!r->cross) {
		bento_rwlock_wrlock(&r->p->lock);
		return 0;
	}
	anc = is_ancestor(fs, r->np->ino, r->p->ino);
	if (anc < 0)
		return anc;
	if (anc == 1 || (!is_ancestor(fs, r->p->ino, r->np->ino) &&
			 r->np->ino < r->p->ino)) {
		first = r->np;
		second = r->p;
	}
	bento_rwlock_wrlock(&first->lock);
	bento_rwlock_wrlock(&second->lock);
	return 0;
}

static void unlock_parents(struct rename_args *r)
{
	bento_rwlock_wrunlock(&r->p->lock);
	if (r->cross)
		bento_rwlock_wrunlock(&r->np->lock);
}

/* Checks that need only the names; with both parents locked. */
static int rename_check(struct xv6_fs *fs, struct rename_args *r)
{
	bool sdir, tdir;
	uint64_t n;
	int err;

	err = xv6_dir_lookup(fs, r->p, r->name, &r->sino, &r->stype);
	if (err)
		return err;
	err = xv6_dir_lookup(fs, r->np, r->newname, &r->tino, &r->ttype);
	if (err == -ENOENT)
		r->tino = 0;
	else if (err)
		return err;
	if ((r->flags & BENTO_RENAME_EXCHANGE) && !r->tino)
		return -ENOENT;
	if ((r->flags & BENTO_RENAME_NOREPLACE) && r->tino)
		return -EEXIST;
	if (r->sino == r->tino)
		return 1;	/* same inode: nothing to do */

	err = get_entry_inode(fs, r->p, r->name, r->sino, &r->s);
	if (!err && r->tino)
		err = get_entry_inode(fs, r->np, r->newname, r->tino, &r->t);
	if (err)
		return err;
	sdir = xv6_is_dir(r->s);
	tdir = r->t && xv6_is_dir(r->t);
	if (r->t && !(r->flags & BENTO_RENAME_EXCHANGE)) {
		if (sdir && !tdir)
			return -ENOTDIR;
		if (!sdir && tdir)
			return -EISDIR;
	}
	if (!r->cross)
		return 0;

	/* A directory must not move below itself. */
	if (sdir) {
		err = is_ancestor(fs, r->s->ino, r->np->ino);
		if (err)
			return err < 0 ? err : -EINVAL;
	}
	if (tdir) {
		err = is_ancestor(fs, r->t->ino, r->p->ino);
		if (err)
			return err < 0 ? err :
			       (r->flags & BENTO_RENAME_EXCHANGE) ? -EINVAL :
								     -ENOTEMPTY;
	}
	(void)n;
	return 0;
}

/* Lock S and T (children of the parents), by inode number. */
static void lock_children(struct rename_args *r)
{
	if (r->t && r->t->ino < r->s->ino) {
		bento_rwlock_wrlock(&r->t->lock);
		bento_rwlock_wrlock(&r->s->lock);
	} else {
		bento_rwlock_wrlock(&r->s->lock);
		if (r->t)
			bento_rwlock_wrlock(&r->t->lock);
	}
}

static void unlock_children(struct rename_args *r)
{
	bento_rwlock_wrunlock(&r->s->lock);
	if (r->t)
		bento_rwlock_wrunlock(&r->t->lock);
}

static int do_exchange(struct xv6_tx *tx, struct rename_args *r)
{
	bool sdir = xv6_is_dir(r->s), tdir = xv6_is_dir(r->t);
	int err;

	err = xv6_dir_retarget(tx, r->p, r->name, r->tino, r->ttype);
	if (!err)
		err = xv6_dir_retarget(tx, r->np, r->newname, r->sino,
				       r->stype);
	if (err)
		return err;
	if (r->cross) {
		if (sdir) {
			r->s->parent = r->np->ino;
			r->p->nlink--;
			r->np->nlink++;
		}
		if (tdir) {
			r->t->parent = r->p->ino;
			r->np->nlink--;
			r->p->nlink++;
		}
	}
	xv6_touch(r->s, false, true);
	xv6_touch(r->t, false, true);
	err = xv6_iupdate(tx, r->s);
	if (!err)
		err = xv6_iupdate(tx, r->t);
	return err;
}

static int do_move(struct xv6_tx *tx, struct rename_args *r)
{
	struct xv6_fs *fs = tx->fs;
	bool sdir = xv6_is_dir(r->s);
	uint64_t n;
	int err;

	if (r->t) {
		if (xv6_is_dir(r->t)) {
			err = xv6_dir_count(fs, r->t, &n);
			if (!err && n)
				err = -ENOTEMPTY;
			if (err)
				return err;
		}
		err = xv6_dir_retarget(tx, r->np, r->newname, r->sino,
				       r->stype);
		if (!err && xv6_is_dir(r->t))
			r->np->nlink--;
		if (!err)
			err = drop_link(tx, r->t);
	} else {
		err = xv6_dir_add(tx, r->np, r->newname, r->sino, r->stype);
	}
	if (!err)
		err = xv6_dir_remove(tx, r->p, r->name);
	if (err)
		return err;
	if (sdir && r->cross) {
		r->s->parent = r->np->ino;
		r->p->nlink--;
		r->np->nlink++;
	}
	xv6_touch(r->s, false, true);
	return xv6_iupdate(tx, r->s);
}

static int rename_once(struct bento_sb *sb, const struct bento_ctx *ctx,
		       bento_ino_t parent, const char *name,
		       bento_ino_t newparent, const char *newname,
		       unsigned int flags)
{
	struct xv6_fs *fs = XV6_FS(sb);
	struct rename_args r = {
		.name = name, .newname = newname, .flags = flags,
		.cross = parent != newparent,
	};
	struct xv6_tx tx;
	int err;

	if ((flags & ~(BENTO_RENAME_NOREPLACE | BENTO_RENAME_EXCHANGE)) ||
	    flags == (BENTO_RENAME_NOREPLACE | BENTO_RENAME_EXCHANGE))
		return -EINVAL;
	if (strlen(newname) > BENTO_NAME_MAX)
		return -ENAMETOOLONG;
	err = xv6_begin_op(fs, &tx, XV6_OP_BLOCKS + xv6_prov_blocks);
	if (err)
		return err;
	if (r.cross)
		bento_mutex_lock(&fs->rename_lock);
	err = get_dir(fs, parent, &r.p);
	if (!err)
		err = get_dir(fs, newparent, &r.np);
	if (err)
		goto out_refs;
	err = lock_parents(fs, &r);
	if (err)
		goto out_refs;

	err = rename_check(fs, &r);
	if (err)
		goto out_parents;
	lock_children(&r);
	err = (flags & BENTO_RENAME_EXCHANGE) ? do_exchange(&tx, &r) :
						do_move(&tx, &r);
	if (!err)
		err = xv6_iupdate(&tx, r.p);
	if (!err && r.cross)
		err = xv6_iupdate(&tx, r.np);
	unlock_children(&r);
out_parents:
	unlock_parents(&r);
out_refs:
	if (r.cross)
		bento_mutex_unlock(&fs->rename_lock);
	if (err >= 0 && r.s)
		xv6_prov_record(&tx, ctx, XV6_PROV_RENAME, r.s->ino, r.p->ino,
				name, r.np->ino, newname);
	xv6_end_op(&tx);
	xv6_iput(fs, r.t);
	xv6_iput(fs, r.s);
	xv6_iput(fs, r.np);
	xv6_iput(fs, r.p);
	return err == 1 ? 0 : err;
}

int xv6_rename(struct bento_sb *sb, const struct bento_ctx *ctx,
	       bento_ino_t parent, const char *name, bento_ino_t newparent,
	       const char *newname, unsigned int flags)
{
	bool retried = false;
	int err;

	do {
		err = rename_once(sb, ctx, parent, name, newparent, newname,
				  flags);
	} while (xv6_retry_nospc(XV6_FS(sb), err, &retried));
	return err;
}

int xv6_readdir(struct bento_sb *sb, bento_ino_t ino, uint64_t fh,
		uint64_t off, bento_filldir_t fill, void *dirbuf)
{
	struct xv6_fs *fs = XV6_FS(sb);
	struct xv6_inode *dp;
	int err = get_dir(fs, ino, &dp);

	if (err)
		return err;
	bento_rwlock_rdlock(&dp->lock);
	err = xv6_dir_iterate(fs, dp, off, fill, dirbuf);
	bento_rwlock_rdunlock(&dp->lock);
	xv6_iput(fs, dp);
	return err;
}
