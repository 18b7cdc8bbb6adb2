/*
 * fsck.h - shared state of fsck.xv6fs, a checker and repairer of xv6fs
 * images (fs/xv6fs/xv6fs_format.h, docs/xv6fs-format.md, docs/fsck.md).
 *
 * The check runs in passes over one struct fsck, like e2fsck's:
 *
 *   super.c    superblock validation, journal recovery (or, with -n, an
 *              in-memory view of the image as if the journal were
 *              replayed)
 *   inodes.c   pass 1: every inode's fields and block tree; claims every
 *              block once (duplicates and out-of-range pointers cleared)
 *   dirs.c     pass 2: every directory block, entry by entry; which
 *              directory names which
 *   tree.c     pass 3: connectivity, cycles, /lost+found; pass 4: link
 *              counts, unattached inodes, the orphan table
 *   bitmaps.c  pass 5: both bitmaps against what the passes found
 *   io.c       block and inode I/O through the overlay (below)
 *   main.c     options, the order of the passes, the summary, exit codes
 *
 * Every block is read and written through io.c.  With -y or -p writes go
 * to the image at once.  With -n (the default) they go to an in-memory
 * overlay that later reads see, so a check-only run follows exactly the
 * path a repair would take and reports the same problems, but the image
 * is never opened for writing.
 *
 * Every loop is bounded by the image's own sizes: each block is claimed
 * at most once, so no indirect-block or directory structure can be
 * followed twice; parent chains are cut after as many steps as there are
 * inodes.
 */
#ifndef FSCK_H
#define FSCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../../fs/xv6fs/xv6fs_format.h"

#define PROG "fsck.xv6fs"
#ifndef BENTO_VERSION
#define BENTO_VERSION "unknown"
#endif

/* Exit codes, as e2fsck's. */
#define FSCK_OK 0
#define FSCK_CORRECTED 1
#define FSCK_REBOOT 2		/* not used */
#define FSCK_UNCORRECTED 4
#define FSCK_ERROR 8
#define FSCK_USAGE 16
#define FSCK_CANCELED 32

enum fsck_mode {
	FSCK_MODE_CHECK,	/* -n or nothing: change nothing */
	FSCK_MODE_YES,		/* -y: repair everything */
	FSCK_MODE_PREEN,	/* -p: repair what is safe, stop otherwise */
};

/* Problem classes for fsck_problem(). */
#define FSCK_SAFE 0		/* -p may repair it */
#define FSCK_UNSAFE 1		/* needs -y: data may be lost */
#define FSCK_NOFIX 2		/* nothing can repair it */

/* Per-inode facts gathered by the passes. */
struct fsck_inode {
	uint16_t mode;		/* 0: free, or cleared by fsck */
	uint8_t flags;		/* FI_* */
	uint32_t nlink;		/* as on disk (after pass 1) */
	uint32_t links;		/* entries naming it */
	uint32_t subdirs;	/* directories: accepted subdirectories */
	uint32_t entries;	/* directories: entries in use */
	uint32_t parent;	/* directories: parent field on disk */
	uint32_t named_by;	/* directories: the directory whose entry
				 * names it (accepted), 0 = none */
	uint32_t link_idx;	/* directories: 1 + index in f->dl of that
				 * entry, 0 = none */
	uint32_t stamp;		/* pass 3 walk stamp */
};

#define FI_ORPHAN 0x01		/* named by a valid orphan-table slot */
#define FI_CONNECTED 0x02	/* pass 3: reaches the root */

/* An entry naming a directory: where it is, for pass 3. */
struct fsck_dirlink {
	uint32_t child;
	uint32_t dir;
	uint64_t blockno;
	uint32_t off;
	bool dead;		/* entry removed */
};

struct fsck_overlay_ent {
	uint64_t blockno;
	uint8_t *data;		/* XV6_BLOCK_SIZE bytes; NULL: empty slot */
};

struct fsck {
	const char *path;
	int fd;
	enum fsck_mode mode;
	bool verbose;
	bool force;
	uint64_t dev_blocks;		/* image size in blocks */
	struct xv6_disk_super sb;

	/* Blocks written with -n, and the journal's view (io.c). */
	struct fsck_overlay_ent *ov;
	size_t ov_cap, ov_n;

	/* Bitmaps: as on disk (updated as fsck allocates and frees) and as
	 * computed by the passes.  bmap_* hold bmap_blocks * 4096 bytes. */
	uint8_t *bmap_disk, *bmap_calc, *dup;
	uint8_t *imap_disk, *imap_calc;
	bool bmap_dirty, imap_dirty;

	struct fsck_inode *ino;		/* ninodes entries */
	struct fsck_dirlink *dl;	/* pass 2 */
	size_t dl_n, dl_cap;

	uint32_t lost_found;		/* 0 until found or made */
	uint32_t lf_candidate;		/* root's "lost+found" entry */
	uint32_t orphan[XV6_ORPHAN_SLOTS];

	/* Duplicate claims from pass 1, reported after pass 1b. */
	struct fsck_dup { uint32_t ino; uint64_t blockno; uint32_t owner; } *dups;
	size_t dups_n, dups_cap;

	unsigned long problems;		/* reported */
	unsigned long unfixed;		/* left as they were */
	unsigned long changes;		/* blocks written to the image */
	bool journal_replayed;
};

/* ---- main.c ---- */

/*
 * fsck_problem - report one problem, one line "WHAT" (+ ": FIX" when it
 * is repaired).  @class is FSCK_SAFE, FSCK_UNSAFE or FSCK_NOFIX.
 * Returns true if the caller should apply the fix (with -n it is applied
 * to the overlay only).  With -p an unsafe problem ends the run (exit 4).
 */
bool fsck_problem(struct fsck *f, int class, const char *fix,
		  const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* fsck_problem_quiet - count one more problem of a kind already shown. */
void fsck_problem_quiet(struct fsck *f);

/* fsck_fatal - print "PROG: IMAGE: message" and exit with @code. */
void fsck_fatal(struct fsck *f, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4), noreturn));

/* fsck_info - a line printed with -v only. */
void fsck_info(struct fsck *f, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* fsck_check_cancel - exit 32 if SIGINT/SIGTERM arrived. */
void fsck_check_cancel(struct fsck *f);

/* xmalloc-style helpers: exit 8 when out of memory. */
void *fsck_zalloc(struct fsck *f, size_t size);
void *fsck_grow(struct fsck *f, void *p, size_t *cap, size_t elem,
		size_t need);

/* ---- io.c ---- */

/* Read / write block @bno (< sb.nblocks, or the device size for block
 * 0 before the superblock is known).  Errors are fatal (exit 8). */
void fsck_bread(struct fsck *f, uint64_t bno, void *buf);
void fsck_bwrite(struct fsck *f, uint64_t bno, const void *buf);
/* Put @buf in the overlay (journal view with -n). */
void fsck_overlay_put(struct fsck *f, uint64_t bno, const void *buf);
void fsck_sync(struct fsck *f);

void fsck_iread(struct fsck *f, uint32_t ino, struct xv6_disk_inode *di);
/* Writes @di with a fresh crc (crc 0 when mode is 0). */
void fsck_iwrite(struct fsck *f, uint32_t ino, struct xv6_disk_inode *di);
uint32_t fsck_inode_crc(const struct xv6_disk_inode *di);

bool fsck_bit(const uint8_t *map, uint64_t n);
void fsck_setbit(uint8_t *map, uint64_t n);
void fsck_clrbit(uint8_t *map, uint64_t n);

/* Allocate a free block / inode in both bitmaps (0: none left). */
uint64_t fsck_alloc_block(struct fsck *f);
uint32_t fsck_alloc_inode(struct fsck *f);
/* Release a block claimed by pass 1 (both bitmaps). */
void fsck_free_block(struct fsck *f, uint64_t bno);

/* ---- super.c ---- */
void fsck_super(struct fsck *f);
void fsck_journal(struct fsck *f);

/* ---- inodes.c ---- */

/*
 * Walk the block tree of @di: @visit is called for each non-zero
 * pointer with the file block index it (first) maps and its level (0 a
 * data block, 1..3 an indirect block of that depth); it returns
 * WALK_KEEP, WALK_SKIP (keep, do not descend) or WALK_CLEAR (zero the
 * pointer).  Modified indirect blocks and @di's pointers are updated in
 * place; the caller writes @di.  Returns true if anything was cleared.
 */
enum { WALK_KEEP, WALK_SKIP, WALK_CLEAR };
struct fsck_walk {
	struct fsck *f;
	uint32_t ino;
	struct xv6_disk_inode *di;
	int (*visit)(struct fsck_walk *w, uint64_t bno, uint64_t index,
		     int level);
	void *arg;
};
bool fsck_walk_blocks(struct fsck_walk *w);

void fsck_pass1(struct fsck *f);
void fsck_pass1b(struct fsck *f);
/* fsck_clear_inode - free @ino: release its blocks, zero it, clear its
 * bitmap bits.  Entries naming it are pass 2's business. */
void fsck_clear_inode(struct fsck *f, uint32_t ino);

/* ---- dirs.c ---- */
void fsck_pass2(struct fsck *f);
void fsck_pass2_links(struct fsck *f);
/* Remove the record at @off of directory block @bno. */
void fsck_dirent_remove(struct fsck *f, uint64_t bno, uint32_t off);
/* Name of the record at @off of @bno into @name (printable, escaped). */
void fsck_dirent_name(struct fsck *f, uint64_t bno, uint32_t off,
		      char *name, size_t size);
/* Add an entry to directory @dir; 0 or -ENOSPC. */
int fsck_dirent_add(struct fsck *f, uint32_t dir, const char *name,
		    uint32_t ino, uint8_t type, uint64_t *bno,
		    uint32_t *off);
uint32_t fsck_name_hash(struct fsck *f, const void *name, size_t len);

/* ---- tree.c ---- */
void fsck_pass3(struct fsck *f);
void fsck_pass4(struct fsck *f);

/* ---- bitmaps.c ---- */
/* Read both bitmaps; start the computed ones (before pass 1). */
void fsck_bitmaps_load(struct fsck *f);
void fsck_pass5(struct fsck *f);

#endif /* FSCK_H */
