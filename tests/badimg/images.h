/*
 * images.h - populated xv6fs images and named ways to break them, shared
 * by the bad-image tests (badimg.c through the test host, badimg.t
 * through fsck.xv6fs and a FUSE mount, via the `corrupt` helper).
 *
 * badimg_populate makes a small image with the build's mkfs.xv6fs and
 * fills it through the test host with xv6fs linked in (so the image is
 * exactly what the file system writes):
 *
 *   /small            100 bytes          /big      20 blocks (indirect)
 *   /a/file1          3 blocks           /a/hard   hard link to /small
 *   /a/b/c/           empty directory    /a/b/f2   1 block
 *   /link -> a/file1                     /dir2/x00..x23  small files
 *
 * Each corruption edits the image file in place with plain pread/pwrite
 * and the on-disk format header, recomputing inode checksums where the
 * point is a valid inode holding a bad value.
 */
#ifndef BADIMG_IMAGES_H
#define BADIMG_IMAGES_H

#include "bento_test.h"

#define BADIMG_BLOCKS 4096u	/* 16 MiB */
#define BADIMG_INODES 256u

extern const struct bento_module bento_module_xv6fs;

/* One way to break an image. */
struct badimg_case {
	const char *name;
	const char *what;	/* what the corruption is, for messages */
	/* Break the image at @path; 0 or -errno. */
	int (*corrupt)(const char *path);
	/* fsck -y can repair it, so a second run must be clean. */
	bool repairable;
	/* fsck (no -y) output must contain this. */
	const char *fsck_says;
	/* ... and name this path's inode number (NULL: no such check). */
	const char *target;
	/* Through the test host: the path whose use must fail (NULL: the
	 * mount itself must fail, "" : nothing is expected to fail). */
	const char *bad_path;
	/* A path that must stay readable (NULL: none). */
	const char *good_path;
	/* Exit status of fsck without -y, and of fsck -y. */
	int n_exit, y_exit;
};

extern const struct badimg_case badimg_cases[];
extern const unsigned int badimg_ncases;

/* badimg_find - the case called @name, or NULL. */
const struct badimg_case *badimg_find(const char *name);

/* badimg_populate - make the populated image at @path.  0 or -errno. */
int badimg_populate(const char *path);

/*
 * badimg_inode_of - the inode number of @path in the image at @path
 * (read from the disk, directories through direct blocks).
 * Returns the number, or 0 if not found.
 */
uint32_t badimg_inode_of(const char *img, const char *path);

/*
 * badimg_metadata_blocks - the blocks of the image at @img worth
 * corrupting: superblock, bitmaps, the inode-table blocks in use,
 * directory, indirect and symlink blocks.  *@blocks is malloc'd.
 */
int badimg_metadata_blocks(const char *img, uint64_t **blocks, size_t *n);

#endif /* BADIMG_IMAGES_H */
