/*
 * bento/types.h - the plain types every Bento file system sees.
 *
 * A file system includes only <bento/...> headers.  This header is the one
 * place that picks the host's base headers: the Linux kernel's when
 * __KERNEL__ is defined, libc's otherwise.  Everything a file system needs
 * from them (fixed-width integers, errno values, mode bits, memcpy and
 * friends) is reached through here, so file-system sources carry no #ifdef.
 *
 * errno values, S_IF* mode bits and the rename/xattr flag values are the
 * same numbers in the kernel and in userspace on Linux, which is what lets
 * one source serve both.
 */
#ifndef BENTO_TYPES_H
#define BENTO_TYPES_H

#ifdef __KERNEL__
#include <linux/types.h>
#include <linux/errno.h>
#include <linux/stat.h>
#include <linux/string.h>
#include <linux/stddef.h>
#else
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#endif

/* Errnos the kernel has and older libcs may lack. */
#ifndef EUCLEAN
#define EUCLEAN 117
#endif

/* Inode numbers as the file system names them. */
typedef uint64_t bento_ino_t;

/* Block size of every Bento block device. */
#define BENTO_BLOCK_SIZE 4096u
#define BENTO_BLOCK_SHIFT 12

/* Longest name in a directory, as in Linux (NAME_MAX). */
#define BENTO_NAME_MAX 255

/* rename(2) flags, same values as Linux's RENAME_*. */
#define BENTO_RENAME_NOREPLACE (1u << 0)
#define BENTO_RENAME_EXCHANGE (1u << 1)

/* setxattr(2) flags, same values as Linux's XATTR_*. */
#define BENTO_XATTR_CREATE 1
#define BENTO_XATTR_REPLACE 2

/* Directory entry types, same values as DT_* (the S_IFMT bits >> 12). */
#define BENTO_DT_UNKNOWN 0
#define BENTO_DT_FIFO 1
#define BENTO_DT_CHR 2
#define BENTO_DT_DIR 4
#define BENTO_DT_BLK 6
#define BENTO_DT_REG 8
#define BENTO_DT_LNK 10
#define BENTO_DT_SOCK 12

static inline unsigned int bento_mode_to_dt(uint32_t mode)
{
	return (mode >> 12) & 15;
}

/*
 * Little-endian fields in plain memory (records, a caller's buffer).  For
 * a buffer-cache block use the bounds-checked bento_buf_get32 and friends.
 */
static inline void bento_put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static inline uint32_t bento_get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static inline void bento_put_le64(uint8_t *p, uint64_t v)
{
	bento_put_le32(p, (uint32_t)v);
	bento_put_le32(p + 4, (uint32_t)(v >> 32));
}

static inline uint64_t bento_get_le64(const uint8_t *p)
{
	return (uint64_t)bento_get_le32(p) | (uint64_t)bento_get_le32(p + 4) << 32;
}

/* A point in time: seconds since the epoch and nanoseconds (< 1e9). */
struct bento_timespec {
	int64_t sec;
	uint32_t nsec;
};

/* What getattr reports, and what entry-returning ops fill in. */
struct bento_attr {
	bento_ino_t ino;
	uint32_t mode;		/* S_IF* type bits and permission bits */
	uint32_t nlink;
	uint32_t uid;
	uint32_t gid;
	uint32_t rdev;		/* device number, for device nodes */
	uint64_t size;		/* bytes */
	uint64_t blocks;	/* 512-byte units allocated, as st_blocks */
	struct bento_timespec atime;
	struct bento_timespec mtime;
	struct bento_timespec ctime;
};

/* Which fields of struct bento_setattr a setattr call changes. */
#define BENTO_SET_MODE (1u << 0)
#define BENTO_SET_UID (1u << 1)
#define BENTO_SET_GID (1u << 2)
#define BENTO_SET_SIZE (1u << 3)
#define BENTO_SET_ATIME (1u << 4)	/* to attr.atime */
#define BENTO_SET_MTIME (1u << 5)	/* to attr.mtime */
#define BENTO_SET_ATIME_NOW (1u << 6)	/* to the current time */
#define BENTO_SET_MTIME_NOW (1u << 7)	/* to the current time */
#define BENTO_SET_CTIME (1u << 8)	/* to attr.ctime */

struct bento_setattr {
	uint32_t valid;		/* BENTO_SET_* bits */
	uint32_t mode;		/* permission bits only; the type never changes */
	uint32_t uid;
	uint32_t gid;
	uint64_t size;
	struct bento_timespec atime;
	struct bento_timespec mtime;
	struct bento_timespec ctime;
};

/* The result of an op that makes or finds a name: the inode and its attrs. */
struct bento_entry {
	bento_ino_t ino;
	uint64_t generation;	/* bumped when an inode number is reused */
	struct bento_attr attr;
};

/*
 * Who is asking.  The host has already checked permissions against the
 * attributes the file system reported (the kernel's default_permissions
 * model), and has already applied the caller's umask to any mode it
 * passes.  The file system uses uid/gid to set the owner of what it makes.
 */
struct bento_ctx {
	uint32_t uid;
	uint32_t gid;
	uint32_t pid;
};

/* What statfs reports, in BENTO_BLOCK_SIZE blocks. */
struct bento_statfs {
	uint64_t blocks;	/* total data blocks */
	uint64_t bfree;		/* free blocks */
	uint64_t bavail;	/* free blocks for unprivileged users */
	uint64_t files;		/* total inodes */
	uint64_t ffree;		/* free inodes */
	uint32_t bsize;		/* block size */
	uint32_t namelen;	/* longest name */
};

#endif /* BENTO_TYPES_H */
