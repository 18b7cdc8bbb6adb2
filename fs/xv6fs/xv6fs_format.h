/*
 * xv6fs_format.h - the on-disk format of xv6fs, shared by the file system
 * (fs/xv6fs), mkfs.xv6fs and fsck.xv6fs.
 *
 * Everything here is a fixed-width little-endian field in a structure
 * whose size is checked at compile time.  The file system reads and
 * writes these fields through bento_buf_get32() and friends at the offsets given by
 * offsetof() on these structures; userspace tools may overlay the
 * structures on a 4 KiB buffer directly (on a little-endian host) or use
 * the same offsets.  docs/xv6fs-format.md describes every field, the
 * journal protocol and the invariants fsck checks.
 *
 * Layout of a device of nblocks 4 KiB blocks:
 *
 *   0               superblock (struct xv6_disk_super), orphan table
 *   log_start       journal: one header block, then log_blocks-1 blocks
 *   imap_start      inode bitmap   (imap_blocks)
 *   bmap_start      block bitmap   (bmap_blocks)
 *   itable_start    inode table    (itable_blocks, 16 inodes a block)
 *   data_start..    data: file data, directory, indirect, symlink and
 *                   xattr blocks
 *
 * Includes only <bento/types.h>, so it compiles in the file system, in
 * userspace tools and (later) in the kernel.
 */
#ifndef XV6FS_FORMAT_H
#define XV6FS_FORMAT_H

#include <bento/types.h>

/* Fields marked le are little-endian on disk. */
typedef uint16_t xv6_le16;
typedef uint32_t xv6_le32;
typedef uint64_t xv6_le64;

#define XV6_BLOCK_SIZE 4096u
#define XV6_MAGIC 0x36567846u		/* "FxV6" read as bytes LE */
#define XV6_VERSION 1u
#define XV6_SUPER_BLOCKNO 0u

/* ---- superblock (block 0, bytes 0..255) and orphan table (256..4095) ---- */

struct xv6_disk_super {
	xv6_le32 magic;		/* XV6_MAGIC */
	xv6_le32 version;	/* XV6_VERSION */
	xv6_le32 block_size;	/* 4096 */
	xv6_le32 inode_size;	/* 256 */
	xv6_le64 nblocks;	/* size of the file system in blocks */
	xv6_le64 ninodes;	/* inode numbers 0..ninodes-1 (0 unused) */
	xv6_le64 log_start;	/* first block of the journal (its header) */
	xv6_le64 log_blocks;	/* header + data blocks, 65..XV6_LOG_MAX+1 */
	xv6_le64 imap_start;	/* inode bitmap */
	xv6_le64 imap_blocks;
	xv6_le64 bmap_start;	/* block bitmap */
	xv6_le64 bmap_blocks;
	xv6_le64 itable_start;	/* inode table */
	xv6_le64 itable_blocks;
	xv6_le64 data_start;	/* first block the allocator may hand out */
	xv6_le64 root_ino;	/* XV6_ROOT_INO */
	xv6_le64 orphan_slots;	/* XV6_ORPHAN_SLOTS: the table after this */
	xv6_le64 hash_seed;	/* seed of the directory name hash */
	xv6_le64 mkfs_time;	/* seconds since the epoch */
	xv6_le64 features;	/* 0 in version 1; unknown bits: refuse */
	uint8_t uuid[16];
	char label[32];		/* NUL-padded, not necessarily terminated */
	xv6_le32 prov_ino;	/* provenance log inode, or 0 (see docs) */
	xv6_le32 reserved[14];	/* 0 */
	xv6_le32 crc;		/* bento_crc32(0, bytes 0..251) */
};
_Static_assert(sizeof(struct xv6_disk_super) == 256, "superblock size");
#define XV6_SUPER_CRC_LEN 252u

/*
 * The orphan table: le32 inode numbers at byte XV6_ORPHAN_OFF of block 0,
 * 0 = empty slot.  Not covered by the superblock crc.
 */
#define XV6_ORPHAN_OFF 256u
#define XV6_ORPHAN_SLOTS ((XV6_BLOCK_SIZE - XV6_ORPHAN_OFF) / 4u)	/* 960 */

/*
 * The provenance log (a compatible addition to version 1): a regular
 * file, mode 0400, owned by root, in no directory, nlink 1 (the
 * superblock's prov_ino is its one link).  Created by the provenance
 * build of xv6fs on first use; every build and fsck keep it.  Its data
 * is a sequence of XV6_PROV_REC_SIZE-byte records, so none crosses a
 * block; size is a multiple of the record size.
 */
#define XV6_PROV_REC_SIZE 1024u
#define XV6_PROV_NAME_MAX (XV6_PROV_REC_SIZE - 48u)	/* 976 */

enum xv6_prov_op {
	XV6_PROV_CREATE = 1,
	XV6_PROV_OPEN = 2,
	XV6_PROV_UNLINK = 3,
	XV6_PROV_RENAME = 4,
	XV6_PROV_MKDIR = 5,
	XV6_PROV_SYMLINK = 6,
};

struct xv6_disk_prov {
	xv6_le16 op;		/* enum xv6_prov_op */
	xv6_le16 name_len;	/* bytes of name used, <= XV6_PROV_NAME_MAX */
	xv6_le32 pid;		/* of the caller, as the host saw it */
	xv6_le64 ino;		/* the inode the op made, opened or removed */
	xv6_le64 parent;	/* directory of the name */
	xv6_le64 newparent;	/* rename: directory of the new name; else 0 */
	xv6_le64 time_ns;	/* nanoseconds since the epoch */
	xv6_le64 reserved;	/* 0 */
	/* name: "NAME", or "OLD/NEW" for rename ('/' never occurs in a
	 * name), or empty for open; not NUL-terminated, zero-padded */
	char name[XV6_PROV_NAME_MAX];
};
_Static_assert(sizeof(struct xv6_disk_prov) == XV6_PROV_REC_SIZE,
	       "provenance record size");
_Static_assert(XV6_BLOCK_SIZE % XV6_PROV_REC_SIZE == 0,
	       "provenance records tile a block");

/* ---- journal header (block log_start) ----------------------------------- */

#define XV6_LOG_MAGIC 0x4c364658u	/* "XF6L" */
#define XV6_LOG_MAX 1018u		/* data blocks one header can name */

struct xv6_disk_loghdr {
	xv6_le32 magic;		/* XV6_LOG_MAGIC, or 0 in a never-used log */
	xv6_le32 count;		/* logged blocks; 0 = nothing to replay */
	xv6_le64 seq;		/* transaction number, increasing */
	xv6_le32 crc;		/* see docs: header (crc as 0) + data blocks */
	xv6_le32 reserved;	/* 0 */
	xv6_le32 block[XV6_LOG_MAX]; /* home block of log data block i */
};
_Static_assert(sizeof(struct xv6_disk_loghdr) == XV6_BLOCK_SIZE,
	       "log header size");

/* ---- inodes (256 bytes, 16 a block) ------------------------------------- */

#define XV6_INODE_SIZE 256u
#define XV6_INODES_PER_BLOCK (XV6_BLOCK_SIZE / XV6_INODE_SIZE)
#define XV6_ROOT_INO 1u

#define XV6_NDIRECT 12u
#define XV6_IND 12u			/* addr[] index: single indirect */
#define XV6_DIND 13u			/* double indirect */
#define XV6_TIND 14u			/* triple indirect */
#define XV6_NADDR 15u
#define XV6_PTRS_PER_BLOCK (XV6_BLOCK_SIZE / 4u)	/* 1024 */
/* Largest file: 12 + 1024 + 1024^2 + 1024^3 blocks, just over 4 TiB. */
#define XV6_MAX_FILE_BLOCKS \
	(XV6_NDIRECT + 1024ull + 1024ull * 1024 + 1024ull * 1024 * 1024)

struct xv6_disk_inode {
	xv6_le16 mode;		/* S_IF* type and permission bits; 0 = free */
	xv6_le16 reserved0;
	xv6_le32 nlink;
	xv6_le32 uid;
	xv6_le32 gid;
	xv6_le32 rdev;		/* device nodes */
	xv6_le32 flags;		/* 0 in version 1 */
	xv6_le64 size;		/* bytes */
	xv6_le64 nblocks;	/* 4 KiB blocks held: data, indirect, xattr */
	xv6_le64 atime_sec;	/* signed seconds since the epoch */
	xv6_le64 mtime_sec;
	xv6_le64 ctime_sec;
	xv6_le32 atime_nsec;	/* < 1e9 */
	xv6_le32 mtime_nsec;
	xv6_le32 ctime_nsec;
	xv6_le32 xattr_block;	/* block of extended attributes, or 0 */
	xv6_le64 generation;	/* bumped each time the number is reused */
	xv6_le64 reserved1;	/* 0 */
	xv6_le64 parent;	/* directories: the parent's inode number */
	xv6_le32 addr[XV6_NADDR]; /* 12 direct, single, double, triple */
	xv6_le32 reserved[22];	/* 0 */
	xv6_le32 crc;		/* bento_crc32(0, bytes 0..251), if mode != 0 */
};
_Static_assert(sizeof(struct xv6_disk_inode) == XV6_INODE_SIZE,
	       "inode size");
#define XV6_INODE_CRC_LEN 252u

/* ---- directory blocks ------------------------------------------------ */

/*
 * A directory's data blocks are each tiled by records; a record never
 * crosses a block.  ino 0 marks an unused record.  rec_len is a multiple
 * of 4, at least XV6_DIRENT_LEN(name_len), and the records of a block sum
 * to exactly 4096.  "." and ".." are not stored: the parent lives in the
 * inode.
 */
struct xv6_disk_dirent {
	xv6_le32 ino;		/* 0 = unused record */
	xv6_le16 rec_len;	/* bytes to the next record */
	uint8_t name_len;	/* 1..255 */
	uint8_t type;		/* BENTO_DT_* of the inode */
	xv6_le32 hash;		/* low 32 bits of xv6_name_hash(name) */
	/* char name[name_len], not NUL-terminated, then padding */
};
_Static_assert(sizeof(struct xv6_disk_dirent) == 12, "dirent size");
#define XV6_DIRENT_HDR 12u
#define XV6_DIRENT_LEN(namelen) ((XV6_DIRENT_HDR + (namelen) + 3u) & ~3u)

/* ---- extended attribute block ---------------------------------------- */

#define XV6_XATTR_MAGIC 0x58364658u	/* "XF6X" */

struct xv6_disk_xattr_hdr {
	xv6_le32 magic;		/* XV6_XATTR_MAGIC */
	xv6_le32 used;		/* bytes used, header included */
};
_Static_assert(sizeof(struct xv6_disk_xattr_hdr) == 8, "xattr hdr size");

/* Entries follow the header back to back, each padded to 4 bytes. */
struct xv6_disk_xattr_entry {
	uint8_t name_len;	/* 1..255 */
	uint8_t reserved;	/* 0 */
	xv6_le16 value_len;	/* 0..XV6_XATTR_MAX_VALUE */
	/* char name[name_len], then value[value_len], then padding */
};
_Static_assert(sizeof(struct xv6_disk_xattr_entry) == 4, "xattr ent size");
#define XV6_XATTR_ENTRY_LEN(nl, vl) ((4u + (nl) + (vl) + 3u) & ~3u)
#define XV6_XATTR_MAX_VALUE (XV6_BLOCK_SIZE - 8u - 4u - 255u)

/* ---- bitmaps --------------------------------------------------------- */

/* Bit n lives in bitmap block n / XV6_BITS_PER_BLOCK, byte (n % ...) / 8,
 * bit n % 8 (least significant first).  1 = in use. */
#define XV6_BITS_PER_BLOCK (XV6_BLOCK_SIZE * 8u)

#endif /* XV6FS_FORMAT_H */
