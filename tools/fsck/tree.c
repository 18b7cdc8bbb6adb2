/*
 * tree.c - passes 3 and 4 of fsck.xv6fs: the tree and the link counts.
 *
 * Pass 3 follows each directory's accepted name (pass 2) upwards.  A walk
 * that reaches the root, or a directory already known to reach it,
 * connects everything on its way.  A walk that comes back to a directory
 * it passed (a cycle) or reaches a directory nobody names is cut there:
 * that directory loses the entry naming it, if any, and is put in
 * /lost+found as "#INO" (made when first needed, like e2fsck's).  Each
 * walk stamps the directories it passes, so a cycle is seen after at
 * most one trip around it and the pass is linear in the directories.
 * Then every directory's parent field is set to the directory naming it.
 *
 * Pass 4 settles the orphan table (as mount would: an unlinked inode is
 * freed, a linked one keeps what pass 1 left), frees unattached inodes
 * with no links, puts other unattached inodes in /lost+found, and sets
 * every link count: a directory's to 2 + its subdirectories, any other
 * inode's to the number of entries naming it.  The provenance log (the
 * superblock's prov_ino, a compatible addition) counts as named once, by
 * the superblock; a prov_ino that names no regular file in use is
 * cleared.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#include "fsck.h"

#define S_TYPE(m) ((m) & 0170000u)
#define IS_DIR(m) (S_TYPE(m) == 0040000u)
#define LF_NAME "lost+found"

/* Part of a repair already reported: add @delta to @ino's link count. */
static void nlink_add(struct fsck *f, uint32_t ino, int delta)
{
	struct xv6_disk_inode di;

	fsck_iread(f, ino, &di);
	if (!di.mode)
		return;
	di.nlink = (uint32_t)((int64_t)di.nlink + delta);
	fsck_iwrite(f, ino, &di);
	f->ino[ino].nlink = di.nlink;
}

/* Part of a repair already reported: set directory @ino's parent. */
static void parent_set(struct fsck *f, uint32_t ino, uint32_t parent)
{
	struct xv6_disk_inode di;

	fsck_iread(f, ino, &di);
	di.parent = parent;
	fsck_iwrite(f, ino, &di);
	f->ino[ino].parent = parent;
}

static bool make_lost_found(struct fsck *f)
{
	struct xv6_disk_inode di;
	struct timespec now;
	uint64_t bno;
	uint32_t ino, off;

	ino = fsck_alloc_inode(f);
	if (!ino) {
		fsck_problem(f, FSCK_NOFIX, NULL,
			     "cannot create /" LF_NAME ": no free inode");
		return false;
	}
	fsck_iread(f, ino, &di);
	memset(&di, 0, offsetof(struct xv6_disk_inode, generation));
	memset(di.addr, 0, sizeof(di.addr));
	di.mode = 0040700;
	di.nlink = 2;
	clock_gettime(CLOCK_REALTIME, &now);
	di.atime_sec = di.mtime_sec = di.ctime_sec = (uint64_t)now.tv_sec;
	di.atime_nsec = di.mtime_nsec = di.ctime_nsec = (uint32_t)now.tv_nsec;
	di.generation++;
	di.reserved1 = 0;
	di.parent = XV6_ROOT_INO;
	memset(di.reserved, 0, sizeof(di.reserved));
	fsck_iwrite(f, ino, &di);

	if (fsck_dirent_add(f, XV6_ROOT_INO, LF_NAME, ino, BENTO_DT_DIR, &bno,
			    &off)) {
		fsck_problem(f, FSCK_NOFIX, NULL,
			     "cannot create /" LF_NAME ": root directory is full");
		fsck_clear_inode(f, ino);
		return false;
	}
	f->ino[ino] = (struct fsck_inode){ .mode = di.mode, .nlink = 2,
					   .parent = XV6_ROOT_INO,
					   .named_by = XV6_ROOT_INO,
					   .links = 1,
					   .flags = FI_CONNECTED };
	f->ino[XV6_ROOT_INO].subdirs++;
	nlink_add(f, XV6_ROOT_INO, 1);
	f->lost_found = ino;
	if (f->mode == FSCK_MODE_CHECK)
		printf("%s: /" LF_NAME " is missing; a repair creates it (inode %u)\n",
		       f->path, ino);
	else
		printf("%s: created /" LF_NAME " (inode %u)\n", f->path, ino);
	return true;
}

/* Find /lost+found, or make it; false if impossible. */
static bool lost_found(struct fsck *f)
{
	uint32_t c = f->lf_candidate;

	if (f->lost_found)
		return true;
	if (c && IS_DIR(f->ino[c].mode) &&
	    f->ino[c].named_by == XV6_ROOT_INO) {
		f->lost_found = c;
		return true;
	}
	return make_lost_found(f);
}

/*
 * Put @ino into /lost+found as "#INO", taking away the entry that named
 * it (directories) first.  False if it could not be done.
 */
static bool reconnect(struct fsck *f, uint32_t ino)
{
	struct fsck_inode *fi = &f->ino[ino];
	char name[16];
	uint64_t bno;
	uint32_t off;

	if (!lost_found(f))
		return false;
	if (IS_DIR(fi->mode) && fi->link_idx) {
		struct fsck_dirlink *d = &f->dl[fi->link_idx - 1];

		fsck_dirent_remove(f, d->blockno, d->off);
		d->dead = true;
		f->ino[d->dir].entries--;
		f->ino[d->dir].subdirs--;
		if (f->ino[d->dir].nlink == 2 + f->ino[d->dir].subdirs + 1)
			nlink_add(f, d->dir, -1);
		fi->link_idx = 0;
		fi->named_by = 0;
		fi->links = 0;
	}
	snprintf(name, sizeof(name), "#%u", ino);
	if (fsck_dirent_add(f, f->lost_found, name, ino,
			    (uint8_t)(fi->mode >> 12), &bno, &off)) {
		fsck_problem(f, FSCK_NOFIX, NULL,
			     "cannot reconnect inode %u: /" LF_NAME " is full",
			     ino);
		return false;
	}
	fi->links++;
	if (IS_DIR(fi->mode)) {
		f->dl = fsck_grow(f, f->dl, &f->dl_cap, sizeof(*f->dl),
				  f->dl_n + 1);
		f->dl[f->dl_n++] = (struct fsck_dirlink){ ino, f->lost_found,
							  bno, off, false };
		fi->link_idx = (uint32_t)f->dl_n;
		fi->named_by = f->lost_found;
		f->ino[f->lost_found].subdirs++;
		nlink_add(f, f->lost_found, 1);
		parent_set(f, ino, f->lost_found);
	} else if (fi->nlink == 0) {
		nlink_add(f, ino, 1);
	}
	return true;
}

/* Mark the directories from @from up to (not including) @to connected. */
static void connect_path(struct fsck *f, uint32_t from, uint32_t to)
{
	uint64_t steps;

	for (steps = 0; from && from != to && steps < f->sb.ninodes;
	     steps++) {
		if (f->ino[from].flags & FI_CONNECTED)
			break;
		f->ino[from].flags |= FI_CONNECTED;
		from = f->ino[from].named_by;
	}
}

/* Make sure the root is a directory (recreate it empty if not). */
static void check_root(struct fsck *f)
{
	uint8_t blk[XV6_BLOCK_SIZE];
	struct xv6_disk_inode di;
	uint64_t bno;

	if (IS_DIR(f->ino[XV6_ROOT_INO].mode))
		return;
	if (!fsck_problem(f, FSCK_UNSAFE, "recreated empty",
			  "root inode %u is %s", XV6_ROOT_INO,
			  f->ino[XV6_ROOT_INO].mode ? "not a directory" :
						      "not in use"))
		return;
	if (f->ino[XV6_ROOT_INO].mode)
		fsck_clear_inode(f, XV6_ROOT_INO);
	fsck_iread(f, XV6_ROOT_INO, &di);
	memset(&di, 0, offsetof(struct xv6_disk_inode, generation));
	memset(di.addr, 0, sizeof(di.addr));
	memset(di.reserved, 0, sizeof(di.reserved));
	di.reserved1 = 0;
	di.xattr_block = 0;
	di.mode = 0040755;
	di.nlink = 2;
	di.parent = XV6_ROOT_INO;
	/* One empty block, as mkfs gives the root. */
	bno = fsck_alloc_block(f);
	if (bno) {
		struct xv6_disk_dirent de = { 0, XV6_BLOCK_SIZE, 0, 0, 0 };

		memset(blk, 0, sizeof(blk));
		memcpy(blk, &de, sizeof(de));
		fsck_bwrite(f, bno, blk);
		di.addr[0] = (uint32_t)bno;
		di.size = XV6_BLOCK_SIZE;
		di.nblocks = 1;
	}
	fsck_iwrite(f, XV6_ROOT_INO, &di);
	f->ino[XV6_ROOT_INO] = (struct fsck_inode){ .mode = di.mode,
						    .nlink = 2,
						    .parent = XV6_ROOT_INO };
	fsck_setbit(f->imap_calc, XV6_ROOT_INO);
	fsck_setbit(f->imap_disk, XV6_ROOT_INO);
	f->imap_dirty = true;
}

/* Orphan directories that rmdir left (no name, no links, empty). */
static bool orphan_dir_done(struct fsck *f, uint32_t ino)
{
	struct fsck_inode *fi = &f->ino[ino];

	if (!(fi->flags & FI_ORPHAN) || fi->named_by || fi->nlink ||
	    fi->entries)
		return false;
	if (fsck_problem(f, FSCK_SAFE, "inode freed",
			 "orphan table: directory %u was removed but not yet freed",
			 ino))
		fsck_clear_inode(f, ino);
	return true;
}

void fsck_pass3(struct fsck *f)
{
	uint32_t ino, stamp = 0, x;
	uint64_t steps;

	check_root(f);
	if (!IS_DIR(f->ino[XV6_ROOT_INO].mode))
		return;
	f->ino[XV6_ROOT_INO].flags |= FI_CONNECTED;
	for (ino = 2; ino < f->sb.ninodes; ino++) {
		struct fsck_inode *fi = &f->ino[ino];

		if (!IS_DIR(fi->mode) || (fi->flags & FI_CONNECTED))
			continue;
		if (orphan_dir_done(f, ino))
			continue;
		stamp++;
		for (x = ino, steps = 0; steps <= f->sb.ninodes; steps++) {
			struct fsck_inode *xi = &f->ino[x];

			if (x == XV6_ROOT_INO || (xi->flags & FI_CONNECTED)) {
				connect_path(f, ino, x);
				break;
			}
			if (xi->stamp == stamp || !xi->named_by) {
				bool cycle = xi->stamp == stamp;

				if (!fsck_problem(f, FSCK_UNSAFE,
						  "reconnected to /" LF_NAME,
						  cycle ? "directory %u: in a directory cycle, not reachable from the root" :
							  "directory %u: not reachable from the root (no entry names it)",
						  x))
					break;
				if (!reconnect(f, x))
					break;
				xi->flags |= FI_CONNECTED;
				connect_path(f, ino, x);
				break;
			}
			xi->stamp = stamp;
			x = xi->named_by;
		}
	}

	/* Every directory's parent field names the directory naming it. */
	for (ino = 1; ino < f->sb.ninodes; ino++) {
		struct fsck_inode *fi = &f->ino[ino];
		uint32_t want = ino == XV6_ROOT_INO ? XV6_ROOT_INO :
						      fi->named_by;
		struct xv6_disk_inode di;

		if (!IS_DIR(fi->mode) || !want || fi->parent == want)
			continue;
		if (!fsck_problem(f, FSCK_SAFE, "fixed",
				  "directory %u: parent field is %u, but it is named in directory %u",
				  ino, fi->parent, want))
			continue;
		fsck_iread(f, ino, &di);
		di.parent = want;
		fsck_iwrite(f, ino, &di);
		fi->parent = want;
	}
}

/* The orphan table's slots: valid, not repeated; then emptied. */
static void check_orphans(struct fsck *f)
{
	uint8_t blk[XV6_BLOCK_SIZE];
	uint32_t saved[XV6_ORPHAN_SLOTS];
	bool changed = false;
	uint32_t i, j;

	fsck_bread(f, XV6_SUPER_BLOCKNO, blk);
	memcpy(f->orphan, blk + XV6_ORPHAN_OFF, sizeof(f->orphan));
	memcpy(saved, f->orphan, sizeof(saved));
	for (i = 0; i < XV6_ORPHAN_SLOTS; i++) {
		uint32_t ino = f->orphan[i];
		bool dup = false;

		if (!ino)
			continue;
		changed = true;
		f->orphan[i] = 0;
		if (ino < f->sb.ninodes && !f->ino[ino].mode &&
		    (f->ino[ino].flags & FI_ORPHAN))
			continue;	/* freed above, already reported */
		for (j = 0; j < i && !dup; j++)
			dup = saved[j] == ino;
		if (ino >= f->sb.ninodes || dup)
			fsck_problem(f, FSCK_SAFE, "slot cleared",
				     "orphan table: slot %u names %s inode %u",
				     i, dup ? "an already listed" :
					      "out-of-range", ino);
		else if (!f->ino[ino].mode)
			fsck_problem(f, FSCK_SAFE, "slot cleared",
				     "orphan table: slot %u names free inode %u",
				     i, ino);
		else
			fsck_problem(f, FSCK_SAFE, "processed",
				     "orphan table: inode %u awaits processing (nlink %u)",
				     ino, f->ino[ino].nlink);
	}
	if (changed) {
		memcpy(blk + XV6_ORPHAN_OFF, f->orphan, sizeof(f->orphan));
		fsck_bwrite(f, XV6_SUPER_BLOCKNO, blk);
	}
}

static void fix_nlink(struct fsck *f, uint32_t ino, uint32_t want)
{
	struct fsck_inode *fi = &f->ino[ino];
	struct xv6_disk_inode di;

	if (fi->nlink == want)
		return;
	if (!fsck_problem(f, FSCK_SAFE, "fixed",
			  "inode %u: link count %u, should be %u", ino,
			  fi->nlink, want))
		return;
	fsck_iread(f, ino, &di);
	di.nlink = want;
	fsck_iwrite(f, ino, &di);
	fi->nlink = want;
}

/* The superblock's provenance log: one link, or a bad prov_ino. */
static void count_prov_log(struct fsck *f)
{
	uint32_t ino = f->sb.prov_ino;
	uint8_t blk[XV6_BLOCK_SIZE];

	if (ino == 0)
		return;
	if (ino < f->sb.ninodes && ino != XV6_ROOT_INO &&
	    S_TYPE(f->ino[ino].mode) == 0100000u) {
		f->ino[ino].links++;
		return;
	}
	if (!fsck_problem(f, FSCK_SAFE, "cleared",
			  "superblock: provenance log inode %u is not a regular file in use",
			  ino))
		return;
	f->sb.prov_ino = 0;
	f->sb.crc = (uint32_t)crc32(0, (const void *)&f->sb,
				    XV6_SUPER_CRC_LEN);
	fsck_bread(f, XV6_SUPER_BLOCKNO, blk);
	memcpy(blk, &f->sb, sizeof(f->sb));
	fsck_bwrite(f, XV6_SUPER_BLOCKNO, blk);
}

void fsck_pass4(struct fsck *f)
{
	uint32_t ino;

	count_prov_log(f);

	for (ino = 2; ino < f->sb.ninodes; ino++) {
		struct fsck_inode *fi = &f->ino[ino];

		if (!fi->mode || IS_DIR(fi->mode) || fi->links)
			continue;
		fsck_check_cancel(f);
		if (fi->nlink == 0) {
			if (fsck_problem(f, FSCK_SAFE, "inode freed",
					 fi->flags & FI_ORPHAN ?
						 "orphan table: inode %u was unlinked but not yet freed" :
						 "inode %u: unattached, with no links",
					 ino))
				fsck_clear_inode(f, ino);
			continue;
		}
		if (fsck_problem(f, FSCK_UNSAFE, "reconnected to /" LF_NAME,
				 "inode %u: not named by any directory (nlink %u)",
				 ino, fi->nlink))
			reconnect(f, ino);
	}
	check_orphans(f);
	for (ino = 1; ino < f->sb.ninodes; ino++) {
		struct fsck_inode *fi = &f->ino[ino];

		if (!fi->mode)
			continue;
		if (IS_DIR(fi->mode))
			fix_nlink(f, ino, 2 + fi->subdirs);
		else if (fi->links)
			fix_nlink(f, ino, fi->links);
	}
}
