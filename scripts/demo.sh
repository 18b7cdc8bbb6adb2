#!/bin/bash
# demo.sh - the main job: a file system written with Bento serves a real
# workload through the real FUSE driver.
#
#   scripts/demo.sh [BUILD_DIR]     (make demo runs it with build/)
#
# Steps: mkfs.xv6fs a fresh image; mount it with `bento mount` (xv6fs.so
# over FUSE); copy /usr/include onto it (symlinks followed); build mkfs.xv6fs on the mount
# from the project's own sources, against the copied headers, and run the
# result; tar the tree and checksum every file; unmount (waiting for the
# flush); fsck.xv6fs; mount again and verify every checksum.  Prints a short
# report ending with "fsck: clean".  Work files live in a temporary
# directory that is removed at the end, also on failure.
set -euo pipefail

B=${1:-build}
BENTO=$B/bin/bento
MKFS=$B/bin/mkfs.xv6fs
FSCK=$B/bin/fsck.xv6fs
MOD=$B/fs/xv6fs.so
SIZE=${DEMO_SIZE:-2G}

for f in "$BENTO" "$MKFS" "$FSCK" "$MOD"; do
	[ -e "$f" ] || { echo "demo: $f: not built (run make)" >&2; exit 1; }
done
if [ "$(id -u)" != 0 ]; then
	echo "demo: must run as root (it mounts a FUSE file system)" >&2
	exit 1
fi

WORK=$(mktemp -d /var/tmp/bento-demo.XXXXXX)
IMG=$WORK/xv6fs.img
MNT=$WORK/mnt
mkdir -p "$MNT"
cleanup() {
	if mountpoint -q "$MNT"; then
		"$BENTO" umount "$MNT" >/dev/null 2>&1 || umount -l "$MNT"
	fi
	rm -rf "$WORK"
}
trap cleanup EXIT

step() { printf '\n== %s\n' "$*"; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }

step "mkfs.xv6fs: a fresh $SIZE image"
"$MKFS" -F -s "$SIZE" "$IMG" | sed 's/^/   /'

step "bento mount: xv6fs over FUSE at $MNT"
"$BENTO" mount "$(realpath "$MOD")" "$IMG" "$MNT"
findmnt -n -o SOURCE,FSTYPE,OPTIONS "$MNT" | sed 's/^/   /'

step "copy /usr/include onto the mount"
t=$(now)
# -L: newer linux-libc-dev packages make parts of /usr/include relative
# symlinks into /usr/lib, which would dangle on the mount.
cp -aL /usr/include "$MNT/include"
nfiles=$(find "$MNT/include" -type f | wc -l)
bytes=$(du -sb "$MNT/include" | cut -f1)
echo "   $nfiles files, $((bytes / 1048576)) MiB in $(elapsed "$t") s"
diff -r /usr/include "$MNT/include" >/dev/null
echo "   diff -r /usr/include: identical"

step "compile on the mount: mkfs.xv6fs from our own source, against the copied headers"
mkdir -p "$MNT/src" "$MNT/out"
cp -a include fs tools "$MNT/src/"
t=$(now)
gcc -std=c11 -D_GNU_SOURCE -O2 -nostdinc \
	-isystem "$(gcc -print-file-name=include)" \
	-isystem "$MNT/include/x86_64-linux-gnu" -isystem "$MNT/include" \
	-I"$MNT/src/include" -I"$MNT/src/fs/xv6fs" \
	-o "$MNT/out/mkfs.xv6fs" "$MNT/src/tools/mkfs.xv6fs.c" -lz -lxxhash
echo "   built $MNT/out/mkfs.xv6fs in $(elapsed "$t") s"
"$MNT/out/mkfs.xv6fs" -F -s 64M "$MNT/out/inner.img" >/dev/null
echo "   ran it: made a 64 MiB xv6fs image inside xv6fs"

step "tar and checksum"
t=$(now)
tar -C "$MNT" -cf "$MNT/out/include.tar" include
tarsum=$(sha256sum <"$MNT/out/include.tar" | cut -d' ' -f1)
(cd "$MNT" && find . -type f -print0 | sort -z | xargs -0 sha256sum) \
	>"$WORK/manifest"
echo "   include.tar sha256 ${tarsum:0:16}..., $(wc -l <"$WORK/manifest") files checksummed in $(elapsed "$t") s"

step "bento status"
"$BENTO" status "$MNT" | sed 's/^/   /'

step "unmount (waits for the flush), then fsck.xv6fs"
"$BENTO" umount "$MNT"
"$FSCK" "$IMG" | sed 's/^/   /'

step "mount again and verify every checksum"
"$BENTO" mount "$(realpath "$MOD")" "$IMG" "$MNT"
(cd "$MNT" && sha256sum --quiet -c "$WORK/manifest")
echo "   $(wc -l <"$WORK/manifest") files verified after remount"
"$BENTO" umount "$MNT"

"$FSCK" "$IMG" >/dev/null
echo
echo "demo: xv6fs served the workload over FUSE; fsck: clean"
