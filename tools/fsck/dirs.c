/*
 * dirs.c - pass 2 of fsck.xv6fs: directory blocks and their entries.
 *
 * Every directory block must be tiled by records (docs/xv6fs-format.md,
 * "Directories").  A record that breaks the tiling ends the parse of its
 * block: the rest of the block is dropped (merged into the previous
 * record), and whatever it named becomes unattached, for pass 3/4 to put
 * in /lost+found.  An entry naming a free or out-of-range inode, or with
 * an invalid name, is removed; a wrong hash or type is rewritten; a name
 * seen twice in one directory loses its later entry.
 *
 * Entries naming directories are remembered (struct fsck_dirlink) so
 * that, once every directory is read, each directory keeps exactly one
 * name: the entry in the directory its parent field names if there is
 * one, else the first seen.  Pass 3 then follows those names upwards.
 *
 * Removing an entry follows the file system's rule: merge the record
 * into the previous one of its block, or for the first record set its
 * inode to 0.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "fsck.h"

#define S_TYPE(m) ((m) & 0170000u)

uint32_t fsck_name_hash(struct fsck *f, const void *name, size_t len)
{
	return (uint32_t)XXH64(name, len, f->sb.hash_seed);
}

static void get_dirent(const uint8_t *blk, uint32_t off,
		       struct xv6_disk_dirent *de)
{
	memcpy(de, blk + off, sizeof(*de));
}

static void put_dirent(uint8_t *blk, uint32_t off,
		       const struct xv6_disk_dirent *de)
{
	memcpy(blk + off, de, sizeof(*de));
}

/* A printable copy of a name: bytes outside 0x21..0x7e as \xNN. */
static void fmt_name(const uint8_t *n, size_t len, char *out, size_t size)
{
	size_t i, o = 0;

	for (i = 0; i < len && o + 5 < size; i++) {
		if (n[i] > 0x20 && n[i] < 0x7f && n[i] != '\\')
			out[o++] = (char)n[i];
		else
			o += (size_t)snprintf(out + o, size - o, "\\x%02x",
					      n[i]);
	}
	out[o] = '\0';
}

void fsck_dirent_name(struct fsck *f, uint64_t bno, uint32_t off,
		      char *name, size_t size)
{
	uint8_t blk[XV6_BLOCK_SIZE];
	struct xv6_disk_dirent de;

	fsck_bread(f, bno, blk);
	name[0] = '\0';
	if (off > XV6_BLOCK_SIZE - XV6_DIRENT_HDR)
		return;
	get_dirent(blk, off, &de);
	if (de.name_len <= XV6_BLOCK_SIZE - XV6_DIRENT_HDR - off)
		fmt_name(blk + off + XV6_DIRENT_HDR, de.name_len, name, size);
}

void fsck_dirent_remove(struct fsck *f, uint64_t bno, uint32_t off)
{
	uint8_t blk[XV6_BLOCK_SIZE];
	struct xv6_disk_dirent de, prev;
	uint32_t pos = 0, prev_off = UINT32_MAX;

	fsck_bread(f, bno, blk);
	while (pos <= XV6_BLOCK_SIZE - XV6_DIRENT_HDR) {
		get_dirent(blk, pos, &de);
		if (pos == off)
			break;
		if (de.rec_len < XV6_DIRENT_HDR || de.rec_len % 4 ||
		    de.rec_len > XV6_BLOCK_SIZE - pos)
			return;
		prev_off = pos;
		pos += de.rec_len;
	}
	if (pos != off)
		return;
	if (prev_off == UINT32_MAX) {
		de.ino = 0;
		put_dirent(blk, off, &de);
	} else {
		get_dirent(blk, prev_off, &prev);
		prev.rec_len = (uint16_t)(prev.rec_len + de.rec_len);
		put_dirent(blk, prev_off, &prev);
	}
	fsck_bwrite(f, bno, blk);
}

/* ---- pass 2 ------------------------------------------------------------ */

/* A name seen in the directory being checked. */
struct seen {
	uint32_t hash;
	uint32_t off;
	uint64_t bno;
	uint8_t len;
	uint8_t name[BENTO_NAME_MAX];
};

struct p2 {
	uint32_t dir;
	size_t dl_start;	/* this directory's first dirlink */
	struct seen *seen;
	size_t n, cap;
};

static bool name_invalid(const uint8_t *n, uint8_t len)
{
	if ((len == 1 && n[0] == '.') ||
	    (len == 2 && n[0] == '.' && n[1] == '.'))
		return true;
	return memchr(n, '/', len) || memchr(n, 0, len);
}

/*
 * One entry in use: false if it must go.  Fixes hash and type in @de.
 */
static bool check_entry(struct fsck *f, struct p2 *p, uint64_t bno,
			uint32_t off, struct xv6_disk_dirent *de,
			const uint8_t *name, bool *changed)
{
	struct fsck_inode *fi;
	char shown[BENTO_NAME_MAX * 4 + 1];
	uint32_t hash;
	uint8_t type;

	fmt_name(name, de->name_len, shown, sizeof(shown));
	if (de->ino >= f->sb.ninodes)
		return !fsck_problem(f, FSCK_UNSAFE, "entry removed",
				     "directory %u: entry '%s' points at inode %u, out of range",
				     p->dir, shown, de->ino);
	fi = &f->ino[de->ino];
	if (!fi->mode)
		return !fsck_problem(f, FSCK_UNSAFE, "entry removed",
				     "directory %u: entry '%s' points at free inode %u",
				     p->dir, shown, de->ino);
	if (name_invalid(name, de->name_len))
		return !fsck_problem(f, FSCK_UNSAFE, "entry removed",
				     "directory %u: invalid name '%s' (inode %u)",
				     p->dir, shown, de->ino);
	if (de->ino == XV6_ROOT_INO)
		return !fsck_problem(f, FSCK_UNSAFE, "entry removed",
				     "directory %u: entry '%s' names the root directory",
				     p->dir, shown);

	type = (uint8_t)(fi->mode >> 12);
	if (de->type != type &&
	    fsck_problem(f, FSCK_SAFE, "type fixed",
			 "directory %u: entry '%s' has type %u, inode %u is of type %u",
			 p->dir, shown, de->type, de->ino, type)) {
		de->type = type;
		*changed = true;
	}
	hash = fsck_name_hash(f, name, de->name_len);
	if (de->hash != hash &&
	    fsck_problem(f, FSCK_SAFE, "hash fixed",
			 "directory %u: entry '%s' has hash 0x%08x, computed 0x%08x",
			 p->dir, shown, de->hash, hash)) {
		de->hash = hash;
		*changed = true;
	}
	return true;
}

/* Count a kept entry, and remember it for the duplicate-name check. */
static void note_entry(struct fsck *f, struct p2 *p, uint64_t bno,
		       uint32_t off, const struct xv6_disk_dirent *de,
		       const uint8_t *name)
{
	struct seen *s;

	p->seen = fsck_grow(f, p->seen, &p->cap, sizeof(*p->seen), p->n + 1);
	s = &p->seen[p->n++];
	s->hash = fsck_name_hash(f, name, de->name_len);
	s->off = off;
	s->bno = bno;
	s->len = de->name_len;
	memcpy(s->name, name, de->name_len);

	f->ino[p->dir].entries++;
	if (S_TYPE(f->ino[de->ino].mode) == 0040000) {
		f->dl = fsck_grow(f, f->dl, &f->dl_cap, sizeof(*f->dl),
				  f->dl_n + 1);
		f->dl[f->dl_n++] = (struct fsck_dirlink){ de->ino, p->dir,
							  bno, off, false };
	} else {
		f->ino[de->ino].links++;
	}
	if (p->dir == XV6_ROOT_INO && de->name_len == 10 &&
	    !memcmp(name, "lost+found", 10))
		f->lf_candidate = de->ino;
}

static int p2_block(struct fsck_walk *w, uint64_t bno, uint64_t index,
		    int level)
{
	struct fsck *f = w->f;
	struct p2 *p = w->arg;
	uint8_t blk[XV6_BLOCK_SIZE];
	struct xv6_disk_dirent de, pd;
	uint32_t off = 0, prev = UINT32_MAX;
	bool changed = false;

	if (level > 0)
		return WALK_KEEP;
	fsck_bread(f, bno, blk);
	while (off < XV6_BLOCK_SIZE) {
		const uint8_t *name = blk + off + XV6_DIRENT_HDR;

		if (off <= XV6_BLOCK_SIZE - XV6_DIRENT_HDR)
			get_dirent(blk, off, &de);
		if (off > XV6_BLOCK_SIZE - XV6_DIRENT_HDR ||
		    de.rec_len < XV6_DIRENT_HDR || de.rec_len % 4 ||
		    de.rec_len > XV6_BLOCK_SIZE - off ||
		    (de.ino && (de.name_len == 0 ||
				XV6_DIRENT_LEN(de.name_len) > de.rec_len))) {
			if (!fsck_problem(f, FSCK_UNSAFE, "rest of block dropped",
					  "directory %u: block %" PRIu64 ": bad record at offset %u",
					  p->dir, bno, off))
				break;
			if (prev == UINT32_MAX) {
				memset(&de, 0, sizeof(de));
				de.rec_len = (uint16_t)(XV6_BLOCK_SIZE - off);
				put_dirent(blk, off, &de);
			} else {
				get_dirent(blk, prev, &pd);
				pd.rec_len = (uint16_t)(XV6_BLOCK_SIZE - prev);
				put_dirent(blk, prev, &pd);
			}
			changed = true;
			break;
		}
		if (de.ino && !check_entry(f, p, bno, off, &de, name,
					   &changed)) {
			/* Remove: merge into the previous record. */
			if (prev == UINT32_MAX) {
				de.ino = 0;
				put_dirent(blk, off, &de);
				prev = off;
			} else {
				get_dirent(blk, prev, &pd);
				pd.rec_len = (uint16_t)(pd.rec_len + de.rec_len);
				put_dirent(blk, prev, &pd);
			}
			changed = true;
			off += de.rec_len;
			continue;
		}
		if (de.ino) {
			put_dirent(blk, off, &de);
			note_entry(f, p, bno, off, &de, name);
		}
		prev = off;
		off += de.rec_len;
	}
	if (changed)
		fsck_bwrite(f, bno, blk);
	return WALK_SKIP;
}

static int cmp_seen(const void *a, const void *b)
{
	const struct seen *x = a, *y = b;

	if (x->hash != y->hash)
		return x->hash < y->hash ? -1 : 1;
	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	if (memcmp(x->name, y->name, x->len))
		return memcmp(x->name, y->name, x->len);
	if (x->bno != y->bno)
		return x->bno < y->bno ? -1 : 1;
	return x->off < y->off ? -1 : x->off > y->off;
}

/* Names seen twice in one directory: the later entries go. */
static void remove_dup_names(struct fsck *f, struct p2 *p)
{
	char shown[BENTO_NAME_MAX * 4 + 1];
	size_t i, j;

	if (p->n < 2)
		return;
	qsort(p->seen, p->n, sizeof(*p->seen), cmp_seen);
	for (i = 1; i < p->n; i++) {
		struct seen *a = &p->seen[i - 1], *b = &p->seen[i];
		uint32_t ino = 0;

		if (a->hash != b->hash || a->len != b->len ||
		    memcmp(a->name, b->name, a->len))
			continue;
		fmt_name(b->name, b->len, shown, sizeof(shown));
		if (!fsck_problem(f, FSCK_UNSAFE, "entry removed",
				  "directory %u: name '%s' appears twice",
				  p->dir, shown))
			continue;
		fsck_dirent_name(f, b->bno, b->off, shown, sizeof(shown));
		{
			uint8_t blk[XV6_BLOCK_SIZE];
			struct xv6_disk_dirent de;

			fsck_bread(f, b->bno, blk);
			get_dirent(blk, b->off, &de);
			ino = de.ino;
		}
		fsck_dirent_remove(f, b->bno, b->off);
		f->ino[p->dir].entries--;
		for (j = p->dl_start; j < f->dl_n; j++) {
			if (f->dl[j].blockno == b->bno && f->dl[j].off == b->off)
				break;
		}
		if (j < f->dl_n)
			f->dl[j].dead = true;
		else if (ino < f->sb.ninodes && f->ino[ino].links)
			f->ino[ino].links--;
	}
}

void fsck_pass2(struct fsck *f)
{
	struct xv6_disk_inode di;
	struct p2 p = { 0 };
	uint32_t ino;

	for (ino = 1; ino < f->sb.ninodes; ino++) {
		struct fsck_walk w = { f, ino, &di, p2_block, &p };

		if (S_TYPE(f->ino[ino].mode) != 0040000)
			continue;
		fsck_check_cancel(f);
		p.dir = ino;
		p.dl_start = f->dl_n;
		p.n = 0;
		fsck_iread(f, ino, &di);
		fsck_walk_blocks(&w);
		remove_dup_names(f, &p);
	}
	free(p.seen);
}

/* ---- one name per directory ------------------------------------------- */

static int cmp_dl(const void *a, const void *b)
{
	const struct fsck_dirlink *x = a, *y = b;

	if (x->child != y->child)
		return x->child < y->child ? -1 : 1;
	if (x->dir != y->dir)
		return x->dir < y->dir ? -1 : 1;
	if (x->blockno != y->blockno)
		return x->blockno < y->blockno ? -1 : 1;
	return x->off < y->off ? -1 : x->off > y->off;
}

void fsck_pass2_links(struct fsck *f)
{
	char shown[BENTO_NAME_MAX * 4 + 1];
	size_t i, j, g;

	if (f->dl_n > 1)
		qsort(f->dl, f->dl_n, sizeof(*f->dl), cmp_dl);
	for (i = 0; i < f->dl_n; i = j) {
		uint32_t child = f->dl[i].child;
		size_t keep = SIZE_MAX;

		for (j = i; j < f->dl_n && f->dl[j].child == child; j++) {
			if (f->dl[j].dead)
				continue;
			if (keep == SIZE_MAX ||
			    (f->dl[j].dir == f->ino[child].parent &&
			     f->dl[keep].dir != f->ino[child].parent))
				keep = j;
		}
		if (keep == SIZE_MAX)
			continue;
		for (g = i; g < j; g++) {
			struct fsck_dirlink *d = &f->dl[g];

			if (g == keep || d->dead)
				continue;
			fsck_dirent_name(f, d->blockno, d->off, shown,
					 sizeof(shown));
			if (!fsck_problem(f, FSCK_UNSAFE, "entry removed",
					  "directory %u: also named '%s' in directory %u (a directory has one name)",
					  child, shown, d->dir))
				continue;
			fsck_dirent_remove(f, d->blockno, d->off);
			d->dead = true;
			f->ino[d->dir].entries--;
		}
		f->ino[child].named_by = f->dl[keep].dir;
		f->ino[child].link_idx = (uint32_t)keep + 1;
		f->ino[child].links = 1;
		f->ino[f->dl[keep].dir].subdirs++;
	}
}

/* ---- adding an entry (for /lost+found) ------------------------------- */

struct add {
	const char *name;
	uint8_t len;
	uint32_t ino;
	uint8_t type;
	uint32_t hash;
	uint64_t bno;		/* where it went */
	uint32_t off;
	bool done;
};

static void put_new(uint8_t *blk, uint32_t off, uint16_t rec_len,
		    const struct add *a)
{
	struct xv6_disk_dirent de = { a->ino, rec_len, a->len, a->type,
				      a->hash };

	put_dirent(blk, off, &de);
	memcpy(blk + off + XV6_DIRENT_HDR, a->name, a->len);
}

/* Find room in one block: returns the offset used or UINT32_MAX. */
static uint32_t add_in_block(uint8_t *blk, const struct add *a)
{
	struct xv6_disk_dirent de;
	uint32_t off = 0, need = XV6_DIRENT_LEN(a->len);

	while (off <= XV6_BLOCK_SIZE - XV6_DIRENT_HDR) {
		uint32_t used;

		get_dirent(blk, off, &de);
		if (de.rec_len < XV6_DIRENT_HDR || de.rec_len % 4 ||
		    de.rec_len > XV6_BLOCK_SIZE - off)
			return UINT32_MAX;
		used = de.ino ? XV6_DIRENT_LEN(de.name_len) : 0;
		if (de.rec_len >= used + need) {
			if (!used) {
				put_new(blk, off, de.rec_len, a);
				return off;
			}
			put_new(blk, off + used,
				(uint16_t)(de.rec_len - used), a);
			de.rec_len = (uint16_t)used;
			put_dirent(blk, off, &de);
			return off + used;
		}
		off += de.rec_len;
	}
	return UINT32_MAX;
}

static int add_block_visit(struct fsck_walk *w, uint64_t bno, uint64_t index,
			   int level)
{
	struct add *a = w->arg;
	uint8_t blk[XV6_BLOCK_SIZE];
	uint32_t off;

	if (level > 0)
		return a->done ? WALK_SKIP : WALK_KEEP;
	if (a->done)
		return WALK_SKIP;
	fsck_bread(w->f, bno, blk);
	off = add_in_block(blk, a);
	if (off != UINT32_MAX) {
		fsck_bwrite(w->f, bno, blk);
		a->bno = bno;
		a->off = off;
		a->done = true;
	}
	return WALK_SKIP;
}

/* Map file block @index of @di to a new block; 0 or -ENOSPC. */
static int append_block(struct fsck *f, struct xv6_disk_inode *di,
			uint64_t index, uint64_t bno)
{
	uint32_t *ind;
	uint64_t ib;

	if (index < XV6_NDIRECT) {
		di->addr[index] = (uint32_t)bno;
		return 0;
	}
	if (index >= XV6_NDIRECT + XV6_PTRS_PER_BLOCK)
		return -ENOSPC;
	ind = fsck_zalloc(f, XV6_BLOCK_SIZE);
	ib = di->addr[XV6_IND];
	if (!ib) {
		ib = fsck_alloc_block(f);
		if (!ib) {
			free(ind);
			return -ENOSPC;
		}
		di->addr[XV6_IND] = (uint32_t)ib;
		di->nblocks++;
	} else {
		fsck_bread(f, ib, ind);
	}
	ind[index - XV6_NDIRECT] = (uint32_t)bno;
	fsck_bwrite(f, ib, ind);
	free(ind);
	return 0;
}

int fsck_dirent_add(struct fsck *f, uint32_t dir, const char *name,
		    uint32_t ino, uint8_t type, uint64_t *bno, uint32_t *off)
{
	struct xv6_disk_inode di;
	struct add a = { name, (uint8_t)strlen(name), ino, type, 0, 0, 0,
			 false };
	struct fsck_walk w = { f, dir, &di, add_block_visit, &a };
	uint8_t blk[XV6_BLOCK_SIZE];
	uint64_t nb;

	a.hash = fsck_name_hash(f, name, a.len);
	fsck_iread(f, dir, &di);
	fsck_walk_blocks(&w);
	if (!a.done) {
		nb = fsck_alloc_block(f);
		if (!nb)
			return -ENOSPC;
		if (append_block(f, &di, di.size / XV6_BLOCK_SIZE, nb)) {
			fsck_free_block(f, nb);
			return -ENOSPC;
		}
		memset(blk, 0, sizeof(blk));
		put_new(blk, 0, XV6_BLOCK_SIZE, &a);
		fsck_bwrite(f, nb, blk);
		di.size += XV6_BLOCK_SIZE;
		di.nblocks++;
		fsck_iwrite(f, dir, &di);
		a.bno = nb;
		a.off = 0;
	}
	f->ino[dir].entries++;
	*bno = a.bno;
	*off = a.off;
	return 0;
}
