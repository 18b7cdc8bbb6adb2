/*
 * corrupt.c - the image helper of tests/badimg.t (not a test itself).
 *
 *   corrupt populate IMAGE      make the populated image (images.h)
 *   corrupt CASE IMAGE          break it the way CASE does
 *   corrupt inode IMAGE PATH    print the inode number of PATH
 *   corrupt list                print every case: NAME - what it does
 *
 * Exit 0 on success, 1 with one line on stderr otherwise.
 */
#include <stdio.h>
#include <string.h>

#include "images.h"

int main(int argc, char **argv)
{
	const struct badimg_case *c;
	unsigned int i;
	uint32_t ino;
	int err;

	bento_log_set_level(BENTO_LOG_WARN);
	if (argc == 2 && !strcmp(argv[1], "list")) {
		for (i = 0; i < badimg_ncases; i++)
			printf("%s - %s\n", badimg_cases[i].name,
			       badimg_cases[i].what);
		return 0;
	}
	if (argc == 3 && !strcmp(argv[1], "populate")) {
		err = badimg_populate(argv[2]);
		if (err)
			fprintf(stderr, "corrupt: %s: populating failed: %s\n",
				argv[2], strerror(-err));
		return err ? 1 : 0;
	}
	if (argc == 4 && !strcmp(argv[1], "inode")) {
		ino = badimg_inode_of(argv[2], argv[3]);
		if (!ino) {
			fprintf(stderr, "corrupt: %s: no inode for '%s'\n",
				argv[2], argv[3]);
			return 1;
		}
		printf("%u\n", ino);
		return 0;
	}
	if (argc != 3) {
		fprintf(stderr, "usage: corrupt populate|CASE IMAGE | inode IMAGE PATH | list\n");
		return 1;
	}
	c = badimg_find(argv[1]);
	if (!c) {
		fprintf(stderr, "corrupt: no case '%s' (try: corrupt list)\n",
			argv[1]);
		return 1;
	}
	err = c->corrupt(argv[2]);
	if (err)
		fprintf(stderr, "corrupt: %s: %s failed: %s\n", argv[2],
			c->name, strerror(-err));
	return err ? 1 : 0;
}
