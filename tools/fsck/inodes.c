/*
 * inodes.c - pass 1 of fsck.xv6fs: every inode and its block tree.
 *
 * For each inode in use: its checksum and fields; then its block tree,
 * walked in file-index order.  Each pointer must lie in the data area and
 * must not have been claimed before; the first claimant of a block keeps
 * it, a later one has its pointer cleared (pass 1b names the first
 * claimant for the message).  Because a block is claimed before it is
 * descended into, and never descended into twice, no loop of indirect
 * blocks can be followed more than once: the walk costs at most 1024
 * pointer visits per block of the image.
 *
 * An inode whose checksum fails is kept if all its own fields are valid
 * (only the checksum is rewritten) and cleared otherwise, before its
 * pointers are trusted: garbage in an inode block must not steal blocks
 * from good files.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fsck.h"

#define S_TYPE(m) ((m) & 0170000u)
#define BAD_PTR_MSGS 8		/* per inode, then a count */

static bool valid_type(uint16_t mode)
{
	switch (S_TYPE(mode)) {
	case 0100000: case 0040000: case 0120000: case 0020000:
	case 0060000: case 0010000: case 0140000:
		return true;
	}
	return false;
}

static bool in_data(struct fsck *f, uint64_t bno)
{
	return bno >= f->sb.data_start && bno < f->sb.nblocks;
}

/* Indices a pointer at @level covers: 1, 1024, 1024^2, 1024^3. */
static uint64_t span(int level)
{
	uint64_t s = 1;

	while (level-- > 0)
		s *= XV6_PTRS_PER_BLOCK;
	return s;
}

/* Walk one indirect block @bno of @level whose first index is @base. */
static bool walk_ind(struct fsck_walk *w, uint64_t bno, uint64_t base,
		     int level)
{
	uint32_t *ptrs = fsck_zalloc(w->f, XV6_BLOCK_SIZE);
	bool changed = false, any = false;
	uint32_t i;

	fsck_bread(w->f, bno, ptrs);
	for (i = 0; i < XV6_PTRS_PER_BLOCK; i++) {
		uint64_t idx = base + i * span(level - 1);
		int v;

		if (!ptrs[i])
			continue;
		v = w->visit(w, ptrs[i], idx, level - 1);
		if (v == WALK_CLEAR) {
			ptrs[i] = 0;
			changed = true;
		} else if (v == WALK_KEEP && level > 1) {
			any |= walk_ind(w, ptrs[i], idx, level - 1);
		}
	}
	if (changed)
		fsck_bwrite(w->f, bno, ptrs);
	free(ptrs);
	return changed || any;
}

bool fsck_walk_blocks(struct fsck_walk *w)
{
	struct xv6_disk_inode *di = w->di;
	bool changed = false;
	uint32_t i;

	for (i = 0; i < XV6_NADDR; i++) {
		int level = i < XV6_NDIRECT ? 0 : (int)(i - XV6_NDIRECT + 1);
		uint64_t base = i < XV6_NDIRECT ? i :
				XV6_NDIRECT + (i > XV6_IND ? 1024ull : 0) +
				(i > XV6_DIND ? 1024ull * 1024 : 0);
		int v;

		if (!di->addr[i])
			continue;
		v = w->visit(w, di->addr[i], base, level);
		if (v == WALK_CLEAR) {
			di->addr[i] = 0;
			changed = true;
		} else if (v == WALK_KEEP && level > 0) {
			changed |= walk_ind(w, di->addr[i], base, level);
		}
	}
	return changed;
}

/* ---- pass 1 ---------------------------------------------------------- */

struct p1 {
	uint64_t eof_index;	/* first index past the end of the file */
	uint64_t counted;	/* blocks kept */
	uint64_t next;		/* directories: leading blocks present */
	uint64_t past_eof;	/* pointers cleared past the end */
	unsigned bad;		/* out-of-range pointers */
	bool is_dir;
};

static int p1_visit(struct fsck_walk *w, uint64_t bno, uint64_t index,
		    int level)
{
	struct fsck *f = w->f;
	struct p1 *p = w->arg;

	if (!in_data(f, bno)) {
		if (++p->bad <= BAD_PTR_MSGS)
			fsck_problem(f, FSCK_UNSAFE, "pointer cleared",
				     "inode %u: block %" PRIu64 " at file block %" PRIu64 "%s is out of range",
				     w->ino, bno, index,
				     level ? " (indirect)" : "");
		else
			fsck_problem_quiet(f);
		return WALK_CLEAR;
	}
	/* Whole subtree past the end (directories: past the first hole). */
	if (index >= p->eof_index || (p->is_dir && index > p->next)) {
		if (p->past_eof++ == 0 && f->mode == FSCK_MODE_PREEN &&
		    !(f->ino[w->ino].flags & FI_ORPHAN))
			fsck_problem(f, FSCK_UNSAFE, NULL,
				     "inode %u: blocks past the end of the file",
				     w->ino);
		return WALK_CLEAR;
	}
	if (fsck_bit(f->bmap_calc, bno)) {
		struct fsck_dup *d;

		if (f->mode == FSCK_MODE_PREEN)
			fsck_problem(f, FSCK_UNSAFE, NULL,
				     "inode %u: block %" PRIu64 " claimed twice",
				     w->ino, bno);

		d = fsck_grow(f, f->dups, &f->dups_cap, sizeof(*d),
			      f->dups_n + 1);
		f->dups = d;
		d[f->dups_n++] = (struct fsck_dup){ w->ino, bno, 0 };
		fsck_setbit(f->dup, bno);
		return WALK_CLEAR;
	}
	fsck_setbit(f->bmap_calc, bno);
	p->counted++;
	if (p->is_dir && level == 0 && index == p->next)
		p->next++;
	return WALK_KEEP;
}

/* Fields of an inode that a valid inode has, checksum aside. */
static const char *inode_invalid(struct fsck *f,
				 const struct xv6_disk_inode *di)
{
	uint32_t i;

	if (!valid_type(di->mode))
		return "invalid mode";
	if (di->flags || di->reserved0 || di->reserved1)
		return "reserved fields set";
	for (i = 0; i < 22; i++)
		if (di->reserved[i])
			return "reserved fields set";
	if (di->atime_nsec >= 1000000000u || di->mtime_nsec >= 1000000000u ||
	    di->ctime_nsec >= 1000000000u)
		return "nanoseconds out of range";
	for (i = 0; i < XV6_NADDR; i++)
		if (di->addr[i] && !in_data(f, di->addr[i]))
			return "block pointer out of range";
	if (di->xattr_block && !in_data(f, di->xattr_block))
		return "xattr block out of range";
	if (di->size > XV6_MAX_FILE_BLOCKS * XV6_BLOCK_SIZE)
		return "size too large";
	if (di->nblocks > f->sb.nblocks || di->nlink > f->sb.ninodes)
		return "block or link count too large";
	if (S_TYPE(di->mode) == 0040000 && di->parent >= f->sb.ninodes)
		return "parent out of range";
	return NULL;
}

/* Does the xattr block at @bno parse?  NULL or why not. */
static const char *xattr_invalid(struct fsck *f, uint64_t bno)
{
	uint8_t blk[XV6_BLOCK_SIZE];
	struct xv6_disk_xattr_hdr h;
	uint32_t off;

	fsck_bread(f, bno, blk);
	memcpy(&h, blk, sizeof(h));
	if (h.magic != XV6_XATTR_MAGIC)
		return "bad magic";
	if (h.used < sizeof(h) || h.used > XV6_BLOCK_SIZE)
		return "bad used size";
	for (off = sizeof(h); off < h.used;) {
		struct xv6_disk_xattr_entry e;
		uint32_t len;

		if (h.used - off < sizeof(e))
			return "entry crosses the end";
		memcpy(&e, blk + off, sizeof(e));
		len = XV6_XATTR_ENTRY_LEN(e.name_len, e.value_len);
		if (e.name_len == 0 || len > h.used - off)
			return "bad entry";
		off += len;
	}
	return NULL;
}

static void check_symlink(struct fsck *f, uint32_t ino,
			  struct xv6_disk_inode *di, bool *clear)
{
	uint8_t blk[XV6_BLOCK_SIZE];

	if (di->size < 1 || di->size >= XV6_BLOCK_SIZE || !di->addr[0]) {
		*clear = fsck_problem(f, FSCK_UNSAFE, "inode cleared",
				      "inode %u: symlink of size %" PRIu64 " without a valid target block",
				      ino, (uint64_t)di->size);
		return;
	}
	fsck_bread(f, di->addr[0], blk);
	if (memchr(blk, 0, di->size))
		*clear = fsck_problem(f, FSCK_UNSAFE, "inode cleared",
				      "inode %u: symlink target holds a NUL byte",
				      ino);
}

/* Sizes, block counts and pointers of one inode in use. */
static void check_tree(struct fsck *f, uint32_t ino,
		       struct xv6_disk_inode *di)
{
	uint16_t type = S_TYPE(di->mode);
	struct p1 p = { 0 };
	struct fsck_walk w = { f, ino, di, p1_visit, &p };
	bool changed, clear = false;
	uint64_t want;

	p.is_dir = type == 0040000;
	p.eof_index = (di->size + XV6_BLOCK_SIZE - 1) / XV6_BLOCK_SIZE;
	if (type == 0020000 || type == 0060000 || type == 0010000 ||
	    type == 0140000) {
		if (di->size &&
		    fsck_problem(f, FSCK_SAFE, "size set to 0",
				 "inode %u: special file of size %" PRIu64,
				 ino, (uint64_t)di->size)) {
			di->size = 0;
			p.eof_index = 0;
		}
	}

	changed = fsck_walk_blocks(&w);
	if (p.bad > BAD_PTR_MSGS)
		printf("inode %u: %u more out-of-range block pointers\n", ino,
		       p.bad - BAD_PTR_MSGS);
	if (p.past_eof)
		fsck_problem(f, f->ino[ino].flags & FI_ORPHAN ? FSCK_SAFE :
			     FSCK_UNSAFE, "blocks freed",
			     "inode %u: %" PRIu64 " block pointers past the end of the %s (size %" PRIu64 ")%s",
			     ino, p.past_eof, p.is_dir ? "directory" : "file",
			     (uint64_t)di->size,
			     f->ino[ino].flags & FI_ORPHAN ?
				     ", truncate pending in the orphan table" : "");

	/* The xattr block, claimed like any other. */
	if (di->xattr_block) {
		const char *why = NULL;

		if (fsck_bit(f->bmap_calc, di->xattr_block)) {
			struct fsck_dup *d = fsck_grow(f, f->dups,
					&f->dups_cap, sizeof(*d), f->dups_n + 1);

			f->dups = d;
			d[f->dups_n++] = (struct fsck_dup){ ino,
							     di->xattr_block, 0 };
			fsck_setbit(f->dup, di->xattr_block);
			di->xattr_block = 0;
			changed = true;
		} else if ((why = xattr_invalid(f, di->xattr_block))) {
			if (fsck_problem(f, FSCK_UNSAFE, "attributes dropped",
					 "inode %u: xattr block %u: %s",
					 ino, di->xattr_block, why)) {
				di->xattr_block = 0;
				changed = true;
			}
		} else {
			fsck_setbit(f->bmap_calc, di->xattr_block);
			p.counted++;
		}
	}

	/* Directories: size is whole blocks up to the first hole. */
	if (p.is_dir) {
		want = p.eof_index < p.next ? p.eof_index : p.next;
		want *= XV6_BLOCK_SIZE;
		if (di->size != want &&
		    fsck_problem(f, FSCK_SAFE, "size fixed",
				 "directory %u: size %" PRIu64 " but it holds %" PRIu64 " bytes of whole blocks",
				 ino, (uint64_t)di->size, want)) {
			di->size = want;
			changed = true;
		}
	}
	if (di->nblocks != p.counted &&
	    fsck_problem(f, FSCK_SAFE, "count fixed",
			 "inode %u: block count %" PRIu64 ", counted %" PRIu64,
			 ino, (uint64_t)di->nblocks, p.counted)) {
		di->nblocks = p.counted;
		changed = true;
	}
	if (changed)
		fsck_iwrite(f, ino, di);

	if (type == 0120000)
		check_symlink(f, ino, di, &clear);
	if (clear)
		fsck_clear_inode(f, ino);
}

/* One inode in use: decide whether it stays, then walk it. */
static void check_inode(struct fsck *f, uint32_t ino,
			struct xv6_disk_inode *di)
{
	struct fsck_inode *fi = &f->ino[ino];
	const char *why = inode_invalid(f, di);
	uint32_t crc = fsck_inode_crc(di);

	if (!valid_type(di->mode)) {
		if (fsck_problem(f, FSCK_UNSAFE, "inode cleared",
				 "inode %u: invalid mode 0%o", ino, di->mode))
			goto clear;
		return;
	}
	if (crc != di->crc) {
		if (why) {
			if (fsck_problem(f, FSCK_UNSAFE, "inode cleared",
					 "inode %u: checksum mismatch and %s",
					 ino, why))
				goto clear;
			return;
		}
		if (fsck_problem(f, FSCK_SAFE, "checksum rewritten",
				 "inode %u: checksum 0x%08x, computed 0x%08x (fields valid)",
				 ino, di->crc, crc))
			fsck_iwrite(f, ino, di);
	} else if (di->size > XV6_MAX_FILE_BLOCKS * XV6_BLOCK_SIZE) {
		if (fsck_problem(f, FSCK_UNSAFE, "inode cleared",
				 "inode %u: size %" PRIu64 " too large", ino,
				 (uint64_t)di->size))
			goto clear;
		return;
	} else if ((di->atime_nsec >= 1000000000u ||
		    di->mtime_nsec >= 1000000000u ||
		    di->ctime_nsec >= 1000000000u) &&
		   fsck_problem(f, FSCK_SAFE, "set to 0",
				"inode %u: timestamp nanoseconds out of range",
				ino)) {
		if (di->atime_nsec >= 1000000000u)
			di->atime_nsec = 0;
		if (di->mtime_nsec >= 1000000000u)
			di->mtime_nsec = 0;
		if (di->ctime_nsec >= 1000000000u)
			di->ctime_nsec = 0;
		fsck_iwrite(f, ino, di);
	}

	fi->mode = di->mode;
	fi->nlink = di->nlink;
	fi->parent = (uint32_t)di->parent;
	fsck_setbit(f->imap_calc, ino);
	check_tree(f, ino, di);
	return;

clear:
	memset(di->addr, 0, sizeof(di->addr));
	di->xattr_block = 0;
	di->mode = 0;
	fsck_iwrite(f, ino, di);
	if (fsck_bit(f->imap_disk, ino)) {
		fsck_clrbit(f->imap_disk, ino);
		f->imap_dirty = true;
	}
}

/* Orphan table: mark the inodes it names (validity checked in pass 4). */
static void read_orphans(struct fsck *f)
{
	uint8_t blk[XV6_BLOCK_SIZE];
	uint32_t i;

	fsck_bread(f, XV6_SUPER_BLOCKNO, blk);
	memcpy(f->orphan, blk + XV6_ORPHAN_OFF, sizeof(f->orphan));
	for (i = 0; i < XV6_ORPHAN_SLOTS; i++)
		if (f->orphan[i] && f->orphan[i] < f->sb.ninodes)
			f->ino[f->orphan[i]].flags |= FI_ORPHAN;
}

void fsck_pass1(struct fsck *f)
{
	uint8_t *blk = fsck_zalloc(f, XV6_BLOCK_SIZE);
	struct xv6_disk_inode di;
	uint64_t b;
	uint32_t i;

	read_orphans(f);
	for (b = 0; b < f->sb.itable_blocks; b++) {
		fsck_check_cancel(f);
		fsck_bread(f, f->sb.itable_start + b, blk);
		for (i = 0; i < XV6_INODES_PER_BLOCK; i++) {
			uint32_t ino = (uint32_t)(b * XV6_INODES_PER_BLOCK + i);

			memcpy(&di, blk + i * XV6_INODE_SIZE, sizeof(di));
			if (ino == 0 || di.mode == 0)
				continue;
			check_inode(f, ino, &di);
			/* check_inode may have rewritten this block. */
			fsck_bread(f, f->sb.itable_start + b, blk);
		}
	}
	free(blk);
}

/* ---- pass 1b: who owned the duplicated blocks ------------------------- */

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

struct p1b {
	uint64_t *blocks;
	uint32_t *owner;
	size_t n;
};

static int p1b_visit(struct fsck_walk *w, uint64_t bno, uint64_t index,
		     int level)
{
	struct p1b *p = w->arg;
	uint64_t *hit;

	if (!fsck_bit(w->f->bmap_calc, bno) || !fsck_bit(w->f->dup, bno))
		return WALK_SKIP;
	hit = bsearch(&bno, p->blocks, p->n, sizeof(*hit), cmp_u64);
	if (hit && !p->owner[hit - p->blocks])
		p->owner[hit - p->blocks] = w->ino;
	return WALK_KEEP;
}

void fsck_pass1b(struct fsck *f)
{
	struct p1b p = { 0 };
	struct xv6_disk_inode di;
	size_t i, j;
	uint32_t ino;

	if (!f->dups_n)
		return;
	p.blocks = fsck_zalloc(f, f->dups_n * sizeof(*p.blocks));
	p.owner = fsck_zalloc(f, f->dups_n * sizeof(*p.owner));
	for (i = 0; i < f->dups_n; i++)
		p.blocks[i] = f->dups[i].blockno;
	qsort(p.blocks, f->dups_n, sizeof(*p.blocks), cmp_u64);
	for (i = j = 0; i < f->dups_n; i++)
		if (j == 0 || p.blocks[j - 1] != p.blocks[i])
			p.blocks[j++] = p.blocks[i];
	p.n = j;

	/* Blocks still referenced belong to their first claimant. */
	for (ino = 1; ino < f->sb.ninodes; ino++) {
		struct fsck_walk w = { f, ino, &di, p1b_visit, &p };
		uint64_t *hit;

		if (!f->ino[ino].mode)
			continue;
		fsck_iread(f, ino, &di);
		fsck_walk_blocks(&w);
		if (di.xattr_block) {
			hit = bsearch(&(uint64_t){ di.xattr_block }, p.blocks,
				      p.n, sizeof(*hit), cmp_u64);
			if (hit && !p.owner[hit - p.blocks])
				p.owner[hit - p.blocks] = ino;
		}
	}
	for (i = 0; i < f->dups_n; i++) {
		uint64_t *hit = bsearch(&f->dups[i].blockno, p.blocks, p.n,
					sizeof(*hit), cmp_u64);
		uint32_t owner = hit ? p.owner[hit - p.blocks] : 0;

		if (owner)
			fsck_problem(f, FSCK_UNSAFE, "pointer cleared",
				     "inode %u: block %" PRIu64 " claimed by inode %u too",
				     f->dups[i].ino, f->dups[i].blockno, owner);
		else
			fsck_problem(f, FSCK_UNSAFE, "pointer cleared",
				     "inode %u: block %" PRIu64 " claimed twice",
				     f->dups[i].ino, f->dups[i].blockno);
	}
	free(p.blocks);
	free(p.owner);
}

/* ---- clearing an inode ------------------------------------------------ */

/* Free every block of the tree; a block already free is not entered. */
static int release_visit(struct fsck_walk *w, uint64_t bno, uint64_t index,
			 int level)
{
	struct fsck *f = w->f;

	if (!in_data(f, bno) || !fsck_bit(f->bmap_calc, bno))
		return WALK_SKIP;
	/* Only bitmap bits change, so the walk can still read @bno. */
	fsck_free_block(f, bno);
	return level > 0 ? WALK_KEEP : WALK_SKIP;
}

void fsck_clear_inode(struct fsck *f, uint32_t ino)
{
	struct xv6_disk_inode di;
	struct fsck_walk w = { f, ino, &di, release_visit, NULL };

	fsck_iread(f, ino, &di);
	if (di.mode) {
		fsck_walk_blocks(&w);
		if (di.xattr_block && in_data(f, di.xattr_block))
			fsck_free_block(f, di.xattr_block);
	}
	memset(di.addr, 0, sizeof(di.addr));
	di.xattr_block = 0;
	di.mode = 0;
	di.nlink = 0;
	di.size = 0;
	di.nblocks = 0;
	fsck_iwrite(f, ino, &di);
	f->ino[ino].mode = 0;
	fsck_clrbit(f->imap_calc, ino);
	if (fsck_bit(f->imap_disk, ino)) {
		fsck_clrbit(f->imap_disk, ino);
		f->imap_dirty = true;
	}
}
