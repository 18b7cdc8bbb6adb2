/*
 * super.c - mounting and unmounting xv6fs: superblock validation, journal
 * replay, orphan processing, statfs, and the live-upgrade state record.
 *
 * init order: read block 0 and validate every field against the device
 * (a zeroed or foreign block 0 is -EINVAL "not an xv6fs image"; a bad
 * crc, impossible geometry or a device smaller than the file system is
 * -EUCLEAN), replay the journal, set up the allocators (counting free
 * bits) and the inode cache, check the root inode, process the orphan
 * table.  A read-only mount refuses an image whose journal needs replay,
 * unless mounted with norecovery.
 *
 * Mount options (sb->options, comma-separated; anything else is refused
 * with -EINVAL, as ext4 does):
 *
 *   norecovery, noload   read-only mounts only: do not replay the journal
 *                        (show the image as it is on the device)
 *   errors=continue      what xv6fs does on corrupt metadata: fail the
 *                        op with EUCLEAN/EIO, report once, keep serving
 *                        (the only behaviour implemented; accepted so
 *                        fstab lines that say it work)
 *
 * Periodic commits are the host's (sync_fs every `commit=` seconds).
 *
 * Live upgrade (prepare/transfer/abandon): the old and new builds share
 * the host's buffer cache, so every block's contents, the running
 * transaction's modified buffers included, carry across by themselves;
 * only bookkeeping goes into the record.  prepare writes nothing and
 * waits for no I/O (a commit inside the downtime cost milliseconds):
 * it hands the running transaction over uncommitted.  There is no
 * in-memory-only inode state to write back first: every change to an
 * inode's fields is written into its (logged) inode-table buffer by
 * xv6_iupdate in the op that made it.  Record version 2 (items in
 * xv6fs.h): the geometry as a sanity check (XV6_ST_GEOM), the host's
 * lookup counts (XV6_ST_LOOKUPS), the running transaction
 * (XV6_ST_LOG, XV6_ST_LOGGED: sequence numbers, logged home blocks,
 * whether the last header clear is durable) with the blocks it freed,
 * not reusable before it commits (XV6_ST_FREED), and the orphan slots
 * of cached inodes (XV6_ST_ORPHANS).  transfer mounts from the cache
 * (superblock, bitmaps and inodes as the running transaction left them;
 * the journal header on disk is clear, as the last commit left it)
 * without orphan processing (orphans may still be open), re-takes a
 * buffer reference on every logged block before the host lets the old
 * build drop its own, restores the deferred frees and lookup counts;
 * the new build then commits the transaction like any other.  A crash
 * before that commit leaves the image as it was before the transaction
 * began.  transfer still reads version 1 (written by builds whose
 * prepare committed everything: the record has no transaction, the
 * orphans are read from the table in block 0); a build that reads only
 * version 1 refuses a version 2 record with -EPROTO and the old build
 * keeps serving.  File handles carry no state (fh is always 0).  After
 * a successful transfer the host calls the old build's abandon, which
 * frees the old memory (inode cache, directory indexes, journal
 * structures and the buffer references they hold) without writing.
 *
 * The superblock's prov_ino names the provenance log (prov.c); every
 * build keeps it, and open and setattr refuse to change it.
 */
#define BENTO_LOG_SUBSYS "xv6fs"
#include "xv6fs.h"
#include "xv6fs_log.h"
#include "xv6fs_prov.h"

#define S_OFF(f) ((uint32_t)offsetof(struct xv6_disk_super, f))

/* The record prepare writes; transfer also reads version 1. */
#define XV6_STATE_VERSION 2u

/* What the mount options asked for. */
struct xv6_mount_opts {
	bool norecovery;
};

/* Is @opt (length @len) the option @name? */
static bool opt_is(const char *opt, size_t len, const char *name)
{
	return strlen(name) == len && strncmp(opt, name, len) == 0;
}

/*
 * parse_options - check sb->options into *@mo.  Returns 0, or -EINVAL
 * after one line naming the option it refuses.
 */
static int parse_options(struct bento_sb *sb, struct xv6_mount_opts *mo)
{
	const char *p = sb->options ? sb->options : "";

	memset(mo, 0, sizeof(*mo));
	while (*p) {
		const char *end = p;
		size_t len;

		while (*end && *end != ',')
			end++;
		len = (size_t)(end - p);
		if (len == 0) {
			/* an empty item ("a,,b") */
		} else if (opt_is(p, len, "norecovery") ||
			   opt_is(p, len, "noload")) {
			mo->norecovery = true;
		} else if (opt_is(p, len, "errors=continue")) {
			/* the behaviour xv6fs has */
		} else {
			bento_err("unrecognized mount option '%.*s'",
				  (int)(len > 64 ? 64 : len), p);
			return -EINVAL;
		}
		p = *end ? end + 1 : end;
	}
	if (mo->norecovery && !sb->read_only) {
		bento_err("mount option 'norecovery' needs a read-only mount");
		return -EINVAL;
	}
	return 0;
}

static int bad_super(struct bento_sb *sb, const char *what)
{
	return bento_fs_corrupt(sb, -EUCLEAN, "superblock: %s", what);
}

/* Areas [start, start+len) must lie in 1..nblocks-1, in this order. */
static bool area_ok(uint64_t start, uint64_t len, uint64_t *next,
		    uint64_t nblocks)
{
	if (start < *next || len > nblocks || start > nblocks - len)
		return false;
	*next = start + len;
	return true;
}

/* Read and validate the superblock into @fs.  0 or -errno. */
static int read_super(struct bento_sb *sb, struct xv6_fs *fs)
{
	uint8_t raw[sizeof(struct xv6_disk_super)];
	uint64_t dev = bento_dev_nblocks(sb), next = 1, i;
	struct bento_buf *b;
	bool zero = true;
	int err;

	err = bento_bread(sb, XV6_SUPER_BLOCKNO, &b);
	if (err)
		return err;
	err = bento_buf_read(b, 0, raw, sizeof(raw));
	for (i = 0; i < sizeof(raw); i++)
		zero &= raw[i] == 0;
	if (!err && (zero || bento_buf_get32(b, S_OFF(magic)) != XV6_MAGIC)) {
		bento_err("device: not an xv6fs image (bad magic in block 0)");
		err = -EINVAL;
	}
	if (err)
		goto out;
	if (bento_crc32(0, raw, XV6_SUPER_CRC_LEN) !=
	    bento_buf_get32(b, S_OFF(crc))) {
		err = bad_super(sb, "bad checksum");
		goto out;
	}
	if (bento_buf_get32(b, S_OFF(version)) != XV6_VERSION ||
	    bento_buf_get64(b, S_OFF(features)) != 0) {
		bento_err("superblock: version %u or features %llx not supported",
			  bento_buf_get32(b, S_OFF(version)),
			  (unsigned long long)bento_buf_get64(b, S_OFF(features)));
		err = -EINVAL;
		goto out;
	}
	fs->nblocks = bento_buf_get64(b, S_OFF(nblocks));
	fs->ninodes = bento_buf_get64(b, S_OFF(ninodes));
	fs->log_start = bento_buf_get64(b, S_OFF(log_start));
	fs->log_blocks = bento_buf_get64(b, S_OFF(log_blocks));
	fs->imap_start = bento_buf_get64(b, S_OFF(imap_start));
	fs->imap_blocks = bento_buf_get64(b, S_OFF(imap_blocks));
	fs->bmap_start = bento_buf_get64(b, S_OFF(bmap_start));
	fs->bmap_blocks = bento_buf_get64(b, S_OFF(bmap_blocks));
	fs->itable_start = bento_buf_get64(b, S_OFF(itable_start));
	fs->itable_blocks = bento_buf_get64(b, S_OFF(itable_blocks));
	fs->data_start = bento_buf_get64(b, S_OFF(data_start));
	fs->hash_seed = bento_buf_get64(b, S_OFF(hash_seed));

	/* Geometry: sizes agree, areas in order and inside the fs. */
	if (bento_buf_get32(b, S_OFF(block_size)) != XV6_BLOCK_SIZE ||
	    bento_buf_get32(b, S_OFF(inode_size)) != XV6_INODE_SIZE ||
	    fs->nblocks > UINT32_MAX || fs->nblocks < 16 ||
	    fs->ninodes % XV6_INODES_PER_BLOCK || fs->ninodes <= XV6_ROOT_INO ||
	    fs->ninodes > UINT32_MAX ||
	    fs->log_blocks < 2 * XV6_OP_BLOCKS + 1 ||
	    fs->log_blocks > XV6_LOG_MAX + 1 ||
	    fs->imap_blocks != (fs->ninodes + XV6_BITS_PER_BLOCK - 1) /
				       XV6_BITS_PER_BLOCK ||
	    fs->bmap_blocks != (fs->nblocks + XV6_BITS_PER_BLOCK - 1) /
				       XV6_BITS_PER_BLOCK ||
	    fs->itable_blocks != fs->ninodes / XV6_INODES_PER_BLOCK ||
	    !area_ok(fs->log_start, fs->log_blocks, &next, fs->nblocks) ||
	    !area_ok(fs->imap_start, fs->imap_blocks, &next, fs->nblocks) ||
	    !area_ok(fs->bmap_start, fs->bmap_blocks, &next, fs->nblocks) ||
	    !area_ok(fs->itable_start, fs->itable_blocks, &next, fs->nblocks) ||
	    fs->data_start < next || fs->data_start >= fs->nblocks ||
	    bento_buf_get64(b, S_OFF(root_ino)) != XV6_ROOT_INO ||
	    bento_buf_get64(b, S_OFF(orphan_slots)) != XV6_ORPHAN_SLOTS) {
		err = bad_super(sb, "impossible geometry");
		goto out;
	}
	if (fs->nblocks > dev) {
		err = bento_fs_corrupt(sb, -EUCLEAN, "device: image truncated: superblock says %llu blocks, device has %llu",
				       (unsigned long long)fs->nblocks,
				       (unsigned long long)dev);
		goto out;
	}
out:
	bento_brelse(b);
	return err;
}

/* Everything init and transfer share.  On failure nothing is left. */
static int mount_fs(struct bento_sb *sb, bool recover, bool norecovery)
{
	struct xv6_fs *fs;
	struct xv6_inode *root;
	int err;

	fs = bento_zalloc(sizeof(*fs));
	if (!fs)
		return -ENOMEM;
	fs->sb = sb;
	fs->read_only = sb->read_only;
	err = read_super(sb, fs);
	if (err)
		goto out_free;

	/* 1. Journal. */
	err = xv6_log_replay(sb, fs->nblocks, fs->log_start, fs->log_blocks);
	if (err > 0 && sb->read_only && norecovery) {
		bento_warn("journal: transaction of %d blocks not replayed (norecovery); files may look inconsistent",
			   err);
		err = 0;
	} else if (err > 0 && sb->read_only) {
		bento_err("journal: needs recovery; mount read-write once");
		err = -EROFS;
	}
	if (err < 0)
		goto out_free;
	err = xv6_log_init(fs);
	if (err)
		goto out_free;

	/* 2. Allocators and inode cache. */
	err = xv6_balloc_init(fs);
	if (err)
		goto out_log;
	err = xv6_icache_init(fs);
	if (err)
		goto out_balloc;
	sb->fs_info = fs;
	sb->root_ino = XV6_ROOT_INO;

	/* 3. The root must be a directory. */
	err = xv6_iget(fs, XV6_ROOT_INO, &root);
	if (!err) {
		if (!xv6_is_dir(root))
			err = xv6_inode_corrupt(fs, XV6_ROOT_INO, "root is not a directory");
		xv6_iput(fs, root);
	}
	if (err)
		goto out_icache;

	/* 4. Orphans, then make the result durable. */
	if (recover && !fs->read_only) {
		err = xv6_orphan_recover(fs);
		if (!err)
			err = xv6_log_force(fs);
		if (err)
			goto out_icache;
	}
	return 0;

out_icache:
	xv6_icache_destroy(fs);
	sb->fs_info = NULL;
out_balloc:
	bento_mutex_destroy(&fs->ialloc_lock);
	bento_mutex_destroy(&fs->balloc_lock);
out_log:
	xv6_log_destroy(fs);
out_free:
	bento_free(fs);
	return err;
}

int xv6_init(struct bento_sb *sb)
{
	struct xv6_mount_opts mo;
	struct xv6_fs *fs;
	int err;

	err = parse_options(sb, &mo);
	if (err)
		return err;
	err = mount_fs(sb, true, mo.norecovery);
	if (err)
		return err;

	/* Inode 0 is never used: count what statfs and fsck count. */
	fs = XV6_FS(sb);
	bento_info("mounted: %llu blocks (%llu free), %llu usable inodes (%llu free)",
		   (unsigned long long)fs->nblocks,
		   (unsigned long long)fs->bfree,
		   (unsigned long long)(fs->ninodes - 1),
		   (unsigned long long)fs->ifree);
	return 0;
}

void xv6_destroy(struct bento_sb *sb)
{
	struct xv6_fs *fs = XV6_FS(sb);

	if (!fs)
		return;
	if (xv6_log_force(fs))
		bento_err("unmount: final commit failed; the journal keeps what was committed");
	xv6_icache_destroy(fs);
	bento_mutex_destroy(&fs->ialloc_lock);
	bento_mutex_destroy(&fs->balloc_lock);
	xv6_log_destroy(fs);
	bento_free(fs);
	sb->fs_info = NULL;
}

int xv6_statfs(struct bento_sb *sb, struct bento_statfs *out)
{
	struct xv6_fs *fs = XV6_FS(sb);

	memset(out, 0, sizeof(*out));
	out->blocks = fs->nblocks - fs->data_start;
	bento_mutex_lock(&fs->balloc_lock);
	out->bfree = out->bavail = fs->bfree + fs->bpending;
	bento_mutex_unlock(&fs->balloc_lock);
	out->files = fs->ninodes - 1;
	bento_mutex_lock(&fs->ialloc_lock);
	out->ffree = fs->ifree;
	bento_mutex_unlock(&fs->ialloc_lock);
	out->bsize = XV6_BLOCK_SIZE;
	out->namelen = BENTO_NAME_MAX;
	return 0;
}

int xv6_prepare(struct bento_sb *sb, struct bento_state *st)
{
	struct xv6_fs *fs = XV6_FS(sb);
	uint64_t geom[3] = { fs->nblocks, fs->ninodes, fs->data_start };
	uint64_t *pairs, *orph, n = 0, no = 0;
	struct xv6_inode *ip;
	uint32_t i;
	int err;

	pairs = bento_alloc(sizeof(*pairs) * 2 * (fs->icount + 1));
	orph = bento_alloc(sizeof(*orph) * 2 * (fs->icount + 1));
	if (!pairs || !orph) {
		err = -ENOMEM;
		goto out;
	}
	bento_mutex_lock(&fs->icache_lock);
	for (i = 0; i < fs->ihash_size; i++) {
		for (ip = fs->ihash[i]; ip; ip = ip->hnext) {
			if (ip->orphan_slot >= 0 && no < fs->icount) {
				orph[2 * no] = ip->ino;
				orph[2 * no + 1] = (uint64_t)ip->orphan_slot;
				no++;
			}
			if (ip->nlookup == 0 || n >= fs->icount)
				continue;
			pairs[2 * n] = ip->ino;
			pairs[2 * n + 1] = ip->nlookup;
			n++;
		}
	}
	bento_mutex_unlock(&fs->icache_lock);
	bento_state_set_version(st, XV6_STATE_VERSION);
	err = bento_state_put(st, XV6_ST_GEOM, geom, sizeof(geom));
	if (!err)
		err = bento_state_put(st, XV6_ST_LOOKUPS, pairs,
				      (uint32_t)(n * 2 * sizeof(*pairs)));
	if (!err)
		err = bento_state_put(st, XV6_ST_ORPHANS, orph,
				      (uint32_t)(no * 2 * sizeof(*orph)));
	if (!err && !fs->read_only)
		err = xv6_log_export(fs, st);
out:
	bento_free(orph);
	bento_free(pairs);
	return err;
}

/* Version 1: tell the cached orphans their slots from the table. */
static void adopt_orphans(struct xv6_fs *fs)
{
	struct xv6_inode *ip;
	struct bento_buf *b;
	uint32_t i, ino;

	for (i = 0; i < XV6_ORPHAN_SLOTS; i++) {
		if (bento_bread(fs->sb, XV6_SUPER_BLOCKNO, &b))
			return;
		ino = bento_buf_get32(b, XV6_ORPHAN_OFF + 4 * i);
		bento_brelse(b);
		if (ino == 0 || xv6_iget(fs, ino, &ip))
			continue;
		if (ip->mode)
			ip->orphan_slot = (int)i;
		xv6_iput(fs, ip);
	}
}

/* Version 2: the orphan slots of the old build's cached inodes. */
static int restore_orphans(struct xv6_fs *fs, const struct bento_state *st)
{
	uint64_t *orph = NULL, i;
	struct xv6_inode *ip;
	int64_t len;
	int err = 0;

	len = bento_state_get(st, XV6_ST_ORPHANS, NULL, 0);
	if (len < 0 || len % 16)
		return -EPROTO;
	if (len == 0)
		return 0;
	orph = bento_alloc((size_t)len);
	if (!orph)
		return -ENOMEM;
	bento_state_get(st, XV6_ST_ORPHANS, orph, (uint32_t)len);
	for (i = 0; i < (uint64_t)len / 16 && !err; i++) {
		if (orph[2 * i + 1] >= XV6_ORPHAN_SLOTS) {
			err = -EPROTO;
			break;
		}
		err = xv6_iget(fs, orph[2 * i], &ip);
		if (err)
			break;
		if (ip->mode)
			ip->orphan_slot = (int)orph[2 * i + 1];
		xv6_iput(fs, ip);
	}
	bento_free(orph);
	return err;
}

int xv6_transfer(struct bento_sb *sb, const struct bento_state *st)
{
	uint64_t geom[3], *pairs = NULL;
	void *old = sb->fs_info;
	struct xv6_mount_opts mo;
	struct xv6_inode *ip;
	struct xv6_fs *fs;
	uint32_t version;
	int64_t len;
	uint64_t i;
	int err;

	if (parse_options(sb, &mo))
		return -EINVAL;
	version = bento_state_version(st);
	if (version != 1 && version != XV6_STATE_VERSION)
		return -EPROTO;
	if (bento_state_get(st, XV6_ST_GEOM, geom, sizeof(geom)) !=
	    sizeof(geom))
		return -EPROTO;
	len = bento_state_get(st, XV6_ST_LOOKUPS, NULL, 0);
	if (len < 0 || len % 16)
		return -EPROTO;
	err = mount_fs(sb, false, mo.norecovery);
	if (err) {
		sb->fs_info = old;
		return err;
	}
	fs = XV6_FS(sb);
	if (geom[0] != fs->nblocks || geom[1] != fs->ninodes ||
	    geom[2] != fs->data_start) {
		err = -EPROTO;
		goto fail;
	}
	/* The transaction first: its references keep its buffers. */
	if (version >= 2 && !fs->read_only) {
		err = xv6_log_import(fs, st);
		if (err)
			goto fail;
	}
	if (len) {
		pairs = bento_alloc((size_t)len);
		if (!pairs) {
			err = -ENOMEM;
			goto fail;
		}
		bento_state_get(st, XV6_ST_LOOKUPS, pairs, (uint32_t)len);
	}
	for (i = 0; i < (uint64_t)len / 16; i++) {
		err = xv6_iget(fs, pairs[2 * i], &ip);
		if (err)
			goto fail;
		xv6_ilookup_add(fs, ip, pairs[2 * i + 1]);
		xv6_iput(fs, ip);
	}
	bento_free(pairs);
	pairs = NULL;
	if (version >= 2) {
		err = restore_orphans(fs, st);
		if (err)
			goto fail;
	} else {
		adopt_orphans(fs);
	}
	return 0;
fail:
	bento_free(pairs);
	xv6_icache_destroy(fs);
	bento_mutex_destroy(&fs->ialloc_lock);
	bento_mutex_destroy(&fs->balloc_lock);
	xv6_log_destroy(fs);
	bento_free(fs);
	sb->fs_info = old;	/* the old build keeps serving */
	return err;
}

/* Free what mount_fs built, writing nothing.  sb->fs_info is not ours. */
static void free_fs(struct xv6_fs *fs)
{
	xv6_icache_destroy(fs);
	bento_mutex_destroy(&fs->ialloc_lock);
	bento_mutex_destroy(&fs->balloc_lock);
	xv6_log_destroy(fs);
	bento_free(fs);
}

void xv6_abandon(struct bento_sb *sb, void *fs_info)
{
	struct xv6_fs *fs = fs_info;

	if (!fs)
		return;
	BENTO_ASSERT(fs != sb->fs_info);
	/* The running transaction is the successor's now (transfer took
	 * its own references): drop ours, write nothing. */
	free_fs(fs);
}

uint64_t xv6_prov_ino(struct xv6_fs *fs)
{
	struct bento_buf *b;
	uint64_t ino;

	if (bento_bread(fs->sb, XV6_SUPER_BLOCKNO, &b))
		return 0;
	ino = bento_buf_get32(b, S_OFF(prov_ino));
	bento_brelse(b);
	return ino < fs->ninodes ? ino : 0;
}

int xv6_set_prov_ino(struct xv6_tx *tx, uint64_t ino)
{
	struct xv6_fs *fs = tx->fs;
	uint8_t raw[XV6_SUPER_CRC_LEN];
	struct bento_buf *b;
	int err;

	bento_mutex_lock(&fs->orphan_lock);
	err = bento_bread(fs->sb, XV6_SUPER_BLOCKNO, &b);
	if (err)
		goto out;
	bento_buf_put32(b, S_OFF(prov_ino), (uint32_t)ino);
	err = bento_buf_read(b, 0, raw, sizeof(raw));
	if (!err) {
		bento_buf_put32(b, S_OFF(crc), bento_crc32(0, raw, sizeof(raw)));
		xv6_log_write(tx, b);
	}
	bento_brelse(b);
out:
	bento_mutex_unlock(&fs->orphan_lock);
	return err;
}
