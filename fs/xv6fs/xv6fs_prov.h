/*
 * xv6fs_prov.h - the provenance hooks of xv6fs, and the live-upgrade
 * entry points not yet in xv6fs.h.
 *
 * Two builds of xv6fs compile the same sources except one file: the base
 * build links prov_none.c, whose hooks do nothing, and the provenance
 * build links prov.c, whose hooks append one record per create, open,
 * unlink, rename, mkdir and symlink to the provenance log (a hidden
 * inode, see xv6fs_format.h) in the transaction of the op itself.
 *
 * Calling rules: xv6_prov_record runs inside the op's transaction, after
 * the op dropped its inode locks (it takes the log inode's lock, and
 * fs->rename_lock to create the log on first use) and only if the op
 * succeeded.  A record that cannot be written (no space) is reported
 * with a warning; the op stands.
 */
#ifndef XV6FS_PROV_H
#define XV6FS_PROV_H

#include "xv6fs.h"

/* The name under which the provenance build shows the log in the root. */
#define XV6_PROV_NAME ".bento-provenance"

/* The module's version string: "1.0" or "1.0+prov". */
extern const char xv6_prov_version[];

/* Log blocks an op must reserve beyond XV6_OP_BLOCKS for its record. */
extern const uint32_t xv6_prov_blocks;

/*
 * xv6_prov_record - append a record of @op (enum xv6_prov_op) by
 * ctx->pid on @ino, named @name in @parent (for a rename, @newname in
 * @newparent as well; both NULL/0 otherwise) to the log, in @tx.
 * @ctx may be NULL (pid 0).  Cannot fail visibly.
 */
void xv6_prov_record(struct xv6_tx *tx, const struct bento_ctx *ctx,
		     uint32_t op, uint64_t ino, uint64_t parent,
		     const char *name, uint64_t newparent,
		     const char *newname);

/*
 * xv6_prov_open - record an open of @ino by ctx->pid, in a transaction
 * of its own (open changes nothing else).  Cannot fail visibly.
 */
void xv6_prov_open(struct xv6_fs *fs, const struct bento_ctx *ctx,
		   uint64_t ino);

/*
 * xv6_prov_lookup - lookup of @name in @parent where the log may be
 * shown: fills *@out with the log inode (one lookup reference) and
 * returns 0, or returns -ENOENT when it is not the log's name (or this
 * build does not show it): the caller then looks the name up as usual.
 */
int xv6_prov_lookup(struct xv6_fs *fs, uint64_t parent, const char *name,
		    struct bento_entry *out);

/* ---- super.c ---- */

/* xv6_prov_ino - the log's inode number from the superblock, or 0. */
uint64_t xv6_prov_ino(struct xv6_fs *fs);

/* xv6_set_prov_ino - record @ino as the log inode in block 0, in @tx
 * (crc updated).  Takes fs->orphan_lock.  Returns 0 or -EIO. */
int xv6_set_prov_ino(struct xv6_tx *tx, uint64_t ino);

/* xv6_abandon - the abandon op (see bento/fs.h). */
void xv6_abandon(struct bento_sb *sb, void *fs_info);

#endif /* XV6FS_PROV_H */
