/*
 * walk.c - visit every inode of a mounted file system through the
 * path-based wrappers: the "does it still read back" check of the crash
 * test, and a consistency check of its own for tests that have no fsck.
 *
 * The walk is iterative (a stack of directory paths), lists each
 * directory through the readdir cookie protocol, checks each listing
 * ("." and ".." once, no name twice), stats every entry, reads regular
 * files (whole, or both ends of one over 64 MiB) and symlinks.  A directory cycle shows up as a
 * path longer than 4096 bytes and ends the walk with -ELOOP.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>

#include "bento_test.h"

#define IO_CHUNK (1u << 20)

/* @out = @dir + "/" + @name, or @name alone under the root (""). */
static void join_path(char *out, const char *dir, const char *name)
{
	size_t dl = strlen(dir), nl = strlen(name);

	memcpy(out, dir, dl);
	if (dl)
		out[dl++] = '/';
	memcpy(out + dl, name, nl + 1);
}

/* ---- walking the whole tree ---------------------------------------------- */

static int cmp_names(const void *a, const void *b)
{
	return strcmp(((const struct bento_test_dirent *)a)->name,
		      ((const struct bento_test_dirent *)b)->name);
}

/* Check one listing: "." and ".." once each, no name twice. */
static int check_listing(const char *path, struct bento_test_dirent *ents,
			 size_t n)
{
	size_t i, dots = 0, dotdots = 0;

	qsort(ents, n, sizeof(*ents), cmp_names);
	for (i = 0; i < n; i++) {
		dots += !strcmp(ents[i].name, ".");
		dotdots += !strcmp(ents[i].name, "..");
		if (i > 0 && !strcmp(ents[i].name, ents[i - 1].name)) {
			fprintf(stderr, "bento-test: directory /%s: name '%s' listed twice\n",
				path, ents[i].name);
			return -EUCLEAN;
		}
	}
	if (dots != 1 || dotdots != 1) {
		fprintf(stderr, "bento-test: directory /%s: listing lacks '.' or '..'\n",
			path);
		return -EUCLEAN;
	}
	return 0;
}

/*
 * Read the regular file at @path: every byte of a file up to WALK_READ_MAX,
 * and for a larger one its first and last WALK_READ_MAX / 2 bytes (a
 * corrupt size of hundreds of GiB is a valid sparse file, and reading all
 * of its holes would take hours).
 */
#define WALK_READ_MAX (64ull << 20)

static int read_range(struct bento_test_fs *fs, struct bento_test_file *f,
		      const char *path, char *buf, uint64_t off, uint64_t end,
		      uint64_t size)
{
	ssize_t n;

	while (off < end) {
		n = bento_test_fread(fs, f, buf, IO_CHUNK, off);
		if (n < 0)
			return (int)n;
		if (n == 0) {
			fprintf(stderr, "bento-test: /%s: read ends at %llu of %llu bytes\n",
				path, (unsigned long long)off,
				(unsigned long long)size);
			return -EUCLEAN;
		}
		off += (uint64_t)n;
	}
	return 0;
}

static int read_all(struct bento_test_fs *fs, const char *path, uint64_t size)
{
	struct bento_test_file f;
	char *buf;
	int err;

	buf = malloc(IO_CHUNK);
	if (!buf)
		return -ENOMEM;
	err = bento_test_open(fs, path, O_RDONLY, 0, &f);
	if (err)
		goto free_buf;
	if (size <= WALK_READ_MAX) {
		err = read_range(fs, &f, path, buf, 0, size, size);
	} else {
		err = read_range(fs, &f, path, buf, 0, WALK_READ_MAX / 2, size);
		if (!err)
			err = read_range(fs, &f, path, buf,
					 size - WALK_READ_MAX / 2, size, size);
	}
	bento_test_close(fs, &f);
free_buf:
	free(buf);
	return err;
}

/* Visit one non-root path: stat it and read what it holds. */
static int walk_one(struct bento_test_fs *fs, const char *path,
		    struct bento_attr *attr)
{
	char target[BENTO_BLOCK_SIZE + 1];
	int err;

	err = bento_test_stat(fs, path, attr);
	if (err)
		return err;
	if (S_ISREG(attr->mode))
		return read_all(fs, path, attr->size);
	if (S_ISLNK(attr->mode)) {
		err = bento_test_readlink(fs, path, target, sizeof(target));
		return err < 0 ? err : 0;
	}
	return 0;
}

int bento_test_walk(struct bento_test_fs *fs,
		    int (*visit)(void *arg, const char *path,
				 const struct bento_attr *attr),
		    void *arg, uint64_t *count)
{
	struct bento_test_dirent *ents = NULL;
	char **stack, **grown, *dir, *child;
	size_t depth = 0, cap = 64, n = 0, i, len;
	struct bento_attr attr;
	uint64_t visited = 0;
	int err = 0;

	/* Directories still to list, as paths; the root is "". */
	stack = malloc(cap * sizeof(*stack));
	if (!stack)
		return -ENOMEM;
	stack[depth++] = strdup("");
	if (!stack[0]) {
		err = -ENOMEM;
		goto out;
	}

	while (depth > 0 && !err) {
		dir = stack[--depth];
		err = bento_test_listdir(fs, dir, &ents, &n);
		if (!err)
			err = check_listing(dir, ents, n);
		for (i = 0; i < n && !err; i++) {
			if (!strcmp(ents[i].name, ".") ||
			    !strcmp(ents[i].name, ".."))
				continue;
			len = strlen(dir) + strlen(ents[i].name) + 2;
			if (len > 4096) {
				fprintf(stderr, "bento-test: /%s: tree deeper than a path can name (a cycle?)\n",
					dir);
				err = -ELOOP;
				break;
			}
			child = malloc(len);
			if (!child) {
				err = -ENOMEM;
				break;
			}
			join_path(child, dir, ents[i].name);
			err = walk_one(fs, child, &attr);
			if (err)
				fprintf(stderr, "bento-test: /%s: %s\n", child,
					strerror(-err));
			if (!err && visit)
				err = visit(arg, child, &attr);
			visited++;
			if (err || !S_ISDIR(attr.mode)) {
				free(child);
				continue;
			}
			if (depth == cap) {
				grown = realloc(stack, 2 * cap * sizeof(*stack));
				if (!grown) {
					free(child);
					err = -ENOMEM;
					break;
				}
				stack = grown;
				cap *= 2;
			}
			stack[depth++] = child;
		}
		free(ents);
		ents = NULL;
		free(dir);
	}
out:
	while (depth > 0)
		free(stack[--depth]);
	free(stack);
	if (count)
		*count = visited;
	return err;
}
