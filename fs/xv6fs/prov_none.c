/*
 * prov_none.c - the provenance hooks of the base build of xv6fs: they
 * record nothing and show nothing.  The provenance build links prov.c
 * instead (see xv6fs_prov.h); everything else is the same object code.
 *
 * The base build still keeps a provenance log made by the other build:
 * the superblock names it, so fsck and mount accept it, and open,
 * setattr and link refuse to change it (ops.c, file.c, namei.c).
 */
#include "xv6fs_prov.h"

const char xv6_prov_version[] = "1.0";
const uint32_t xv6_prov_blocks;

void xv6_prov_record(struct xv6_tx *tx, const struct bento_ctx *ctx,
		     uint32_t op, uint64_t ino, uint64_t parent,
		     const char *name, uint64_t newparent,
		     const char *newname)
{
}

void xv6_prov_open(struct xv6_fs *fs, const struct bento_ctx *ctx,
		   uint64_t ino)
{
}

int xv6_prov_lookup(struct xv6_fs *fs, uint64_t parent, const char *name,
		    struct bento_entry *out)
{
	return -ENOENT;
}
