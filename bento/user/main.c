/*
 * main.c - the `bento` command: serve Bento file systems over FUSE and
 * talk to the mounts it serves.
 *
 *   bento mount [-o OPTS] [-f] [-d] [-s] FS.so DEVICE MOUNTPOINT
 *   bento umount [-t SECS] MOUNTPOINT
 *   bento status [-a] [--json] [-t SECS] MOUNTPOINT
 *   bento upgrade [--all] [-t SECS] [MOUNTPOINT] NEW.so
 *   bento dev [--build CMD --module PATH] [--once] FSDIR MOUNTPOINT
 *
 * This file only dispatches; each command lives in its own file (see
 * user.h).  Exit codes follow mount(8): 0 ok, 1 bad usage, 32 failure.
 */
#include <stdarg.h>
#include <string.h>

#include "user.h"

static const char main_help[] =
"Usage: bento COMMAND [OPTIONS] ARGS...\n"
"       bento --help | --version\n"
"\n"
"Run a Bento file system in userspace, through the kernel's FUSE driver,\n"
"and manage its mounts.  A Bento file system is a module (FS.so) built\n"
"from the same source that also runs in the in-process test host and, as\n"
"a kernel module, inside Linux.\n"
"\n"
"Commands:\n"
"  mount [-o OPTS] [-f] [-d] [-s] FS.so DEVICE MOUNTPOINT\n"
"                serve the file system in FS.so on DEVICE at MOUNTPOINT\n"
"  umount [-t SECS] MOUNTPOINT\n"
"                unmount and wait until everything is on the device\n"
"  status [-a] [--json] [-t SECS] MOUNTPOINT\n"
"                module, device, counters and cache of a mount\n"
"  upgrade [-t SECS] MOUNTPOINT NEW.so\n"
"  upgrade --all [-t SECS] NEW.so\n"
"                replace the build serving a mount (or every mount of\n"
"                NEW.so's file system) by NEW.so, without unmounting\n"
"  dev [--build CMD --module PATH] [--once] FSDIR MOUNTPOINT\n"
"                rebuild the module each time a source file in FSDIR\n"
"                is saved and upgrade the mount to it\n"
"  prov MOUNTPOINT\n"
"                print the provenance log of a mount served by a\n"
"                provenance build (xv6fs_prov.so)\n"
"  help [COMMAND]\n"
"                this text, or a command's (same as COMMAND --help)\n"
"\n"
"Options:\n"
"  -h, --help      show this help\n"
"  -V, --version   show the version of bento and of the Bento API\n"
"\n"
"Example:\n"
"  bento mount build/fs/hello.so /tmp/hello.img /mnt/hello\n"
"  echo hi >/mnt/hello/hello\n"
"  bento status /mnt/hello\n"
"  bento umount /mnt/hello\n"
"\n"
"Exit status (as mount(8)):\n"
"  0   success\n"
"  1   bad usage\n"
"  2   system error (out of memory, fork failed)\n"
"  32  the operation failed (mount, unmount, upgrade, no such mount)\n";

void bento_user_err(const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	fprintf(stderr, "bento: %s\n", buf);
}

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
} commands[] = {
	{ "mount", bento_cmd_mount },
	{ "umount", bento_cmd_umount },
	{ "unmount", bento_cmd_umount },
	{ "status", bento_cmd_status },
	{ "upgrade", bento_cmd_upgrade },
	{ "dev", bento_cmd_dev },
	{ "prov", bento_cmd_prov },
};

static int find_command(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(name, commands[i].name) == 0)
			return (int)i;
	return -1;
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : NULL;
	int i;

	if (!cmd) {
		fputs(main_help, stderr);
		return BENTO_EXIT_USAGE;
	}
	if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0) {
		fputs(main_help, stdout);
		return BENTO_EXIT_OK;
	}
	if (strcmp(cmd, "-V") == 0 || strcmp(cmd, "--version") == 0) {
		printf("bento %s (Bento API %d, libfuse %d.%d)\n",
		       BENTO_VERSION, BENTO_API_VERSION, fuse_version() / 100,
		       fuse_version() % 100);
		return BENTO_EXIT_OK;
	}
	if (strcmp(cmd, "help") == 0) {
		char *help_argv[] = { argv[2], "--help", NULL };

		if (argc < 3 || strcmp(argv[2], "-h") == 0 ||
		    strcmp(argv[2], "--help") == 0 ||
		    strcmp(argv[2], "help") == 0) {
			fputs(main_help, stdout);
			return BENTO_EXIT_OK;
		}
		cmd = argv[2];
		i = find_command(cmd);
		if (i >= 0)
			return commands[i].fn(2, help_argv);
	}

	i = find_command(cmd);
	if (i < 0) {
		bento_user_err("unknown command '%s' (try bento --help)", cmd);
		return BENTO_EXIT_USAGE;
	}
	return commands[i].fn(argc - 1, argv + 1);
}
