#!/bin/bash
# prov.t - the provenance build of xv6fs over FUSE, reached by live
# upgrade, and `bento prov`.
#
#   tests/prov.t BUILD_DIR
#
# Mounts xv6fs.so (the base build) on a fresh image, makes a few files
# (not recorded), upgrades the mount to xv6fs_prov.so with `bento
# upgrade` (the base build when the upgrade command is missing is a
# failure, not a skip: both are built here), then runs a create, open,
# mkdir, symlink, rename and unlink, each from a process whose pid is
# known, and checks that `bento prov` shows exactly those, in order, with
# their pids, inodes, parents and names.  Upgrades back to xv6fs.so: ops
# go on, nothing more is recorded, the log stays hidden from readdir.
# Unmounts, checks the image with fsck.xv6fs (the log is a compatible
# addition), remounts with the provenance build: the log persisted.
# Needs root (FUSE mounts).  Sanitizer reports of the daemons fail it.
set -u
cd "$(dirname "$0")/.."
. tests/lib/tap.sh

B=${1:-build}
BENTO=$B/bin/bento
BASE=$B/fs/xv6fs.so
PROV=$B/fs/xv6fs_prov.so
MKFS=$B/bin/mkfs.xv6fs
FSCK=$B/bin/fsck.xv6fs
for f in "$BENTO" "$BASE" "$PROV" "$MKFS" "$FSCK"; do
	[ -e "$f" ] || bail "$f: not built"
done
[ "$(id -u)" = 0 ] || bail "must run as root (FUSE mounts)"

WORK=$(mktemp -d /tmp/bento-prov.XXXXXX)
IMG=$WORK/x.img
MNT=$WORK/mnt
mkdir -p "$MNT"
export ASAN_OPTIONS="log_path=$WORK/san:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="log_path=$WORK/san:print_stacktrace=1:${UBSAN_OPTIONS:-}"
cleanup() {
	if mountpoint -q "$MNT"; then
		timeout 10 "$BENTO" umount "$MNT" >/dev/null 2>&1 ||
			umount -l "$MNT"
	fi
	rm -rf "$WORK"
}
trap cleanup EXIT

# as_pid CMD...: run CMD in a process whose pid goes to $WORK/pid first.
as_pid() {
	bash -c 'echo $$ >"$0/pid"; exec "$@"' "$WORK" "$@"
}
# prov_fields: `bento prov` without the timestamps.
prov_fields() {
	"$BENTO" prov "$MNT" | sed 's/^[0-9T:.-]* //'
}

# 1. Base build, then the upgrade to the provenance build.
"$MKFS" -q -F -s 64M "$IMG"
ok $? "mkfs.xv6fs a 64 MiB image"
"$BENTO" mount "$BASE" "$IMG" "$MNT"
ok $? "bento mount xv6fs.so"
echo before >"$MNT/before" && mkdir "$MNT/olddir"
ok $? "ops on the base build"
out=$("$BENTO" upgrade "$MNT" "$PROV" 2>&1)
ok $? "bento upgrade to xv6fs_prov.so"
echo "$out" | sed "s/^/# /"
"$BENTO" status "$MNT" | grep -q '1.0+prov'
ok $? "bento status shows version 1.0+prov"

# 2. One op of each kind, each from a known pid.
want=
as_pid touch "$MNT/f1"
p=$(cat "$WORK/pid"); f1=$(stat -c %i "$MNT/f1")
want+="pid $p create ino $f1 parent 1 name f1"$'\n'
as_pid cat "$MNT/f1" >/dev/null
p=$(cat "$WORK/pid")
want+="pid $p open ino $f1"$'\n'
as_pid mkdir "$MNT/d"
p=$(cat "$WORK/pid"); d=$(stat -c %i "$MNT/d")
want+="pid $p mkdir ino $d parent 1 name d"$'\n'
as_pid ln -s ../f1 "$MNT/d/l"
p=$(cat "$WORK/pid"); l=$(stat -c %i "$MNT/d/l")
want+="pid $p symlink ino $l parent $d name l"$'\n'
as_pid mv "$MNT/f1" "$MNT/d/f2"
p=$(cat "$WORK/pid")
want+="pid $p rename ino $f1 parent 1 name f1 newparent $d newname f2"$'\n'
as_pid rm "$MNT/d/f2"
p=$(cat "$WORK/pid")
want+="pid $p unlink ino $f1 parent $d name f2"
got=$(prov_fields)
ok $? "bento prov reads the log"
is "$got" "$want" "bento prov shows exactly the six ops, with pids, inodes, parents, names"
"$BENTO" prov "$MNT" | head -n 1 |
	grep -Eq '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{9} pid '
ok $? "records carry a nanosecond UTC timestamp"
ls -a "$MNT" | grep -q bento-provenance
ok $((!$?)) "readdir does not list the log"
echo x 2>/dev/null >>"$MNT/.bento-provenance"
ok $((!$?)) "the log refuses writes"

# 3. Back to the base build: ops go on, nothing more is recorded.
out=$("$BENTO" upgrade "$MNT" "$BASE" 2>&1)
ok $? "bento upgrade back to xv6fs.so"
echo after >"$MNT/after" && mkdir "$MNT/d/sub" &&
	[ "$(cat "$MNT/before")" = before ]
ok $? "ops go on after the upgrade back"
"$BENTO" umount "$MNT"
ok $? "bento umount"
"$FSCK" "$IMG" >"$WORK/fsck.out" 2>&1
ok $? "fsck.xv6fs: clean, provenance log included"
sed 's/^/# /' "$WORK/fsck.out" | tail -n 3

# 4. Remount with the provenance build: the log persisted, unchanged.
"$BENTO" mount "$PROV" "$IMG" "$MNT"
ok $? "bento mount xv6fs_prov.so"
got=$(prov_fields)
is "$got" "$want" "the log persisted across unmount and remount"
[ "$(cat "$MNT/after")" = after ] && [ -d "$MNT/d/sub" ]
ok $? "what the base build did is there"
"$BENTO" umount "$MNT"
ok $? "bento umount"

if ls "$WORK"/san* >/dev/null 2>&1; then
	ok 1 "no sanitizer reports"
	head -n 20 "$WORK"/san* | sed 's/^/# /'
else
	ok 0 "no sanitizer reports"
fi
done_testing
