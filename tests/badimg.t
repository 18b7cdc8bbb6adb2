#!/bin/bash
# badimg.t - fsck.xv6fs on the command line, and bad xv6fs images over a
# real FUSE mount.
#
#   tests/badimg.t BUILD_DIR
#
# The exhaustive bad-image matrix (every corruption against fsck -n/-y
# and the test host, plus the fuzz loop) is the C test badimg_xv6fs; this
# script checks what only a shell can: fsck.xv6fs's command line (help,
# usage errors, exit codes, -p), and that `bento mount` refuses a zeroed
# superblock with one clear line while a mount of an image with a bad
# block pointer answers EIO for that file and keeps serving the rest.
# Images come from the `corrupt` helper (tests/badimg/corrupt.c).  Needs
# root for the FUSE mounts.  Sanitizer reports of the daemons go to files
# and fail the test.
set -u
cd "$(dirname "$0")/.."
. tests/lib/tap.sh

B=${1:-build}
FSCK=$B/bin/fsck.xv6fs
MKFS=$B/bin/mkfs.xv6fs
BENTO=$B/bin/bento
MOD=$B/fs/xv6fs.so
CORRUPT=$B/tests/badimg/corrupt
for f in "$FSCK" "$MKFS" "$BENTO" "$MOD" "$CORRUPT"; do
	[ -e "$f" ] || bail "$f: not built"
done
[ "$(id -u)" = 0 ] || bail "must run as root (FUSE mounts)"

WORK=$(mktemp -d /tmp/badimg-t.XXXXXX)
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

# fsck_rc ARGS...: run fsck.xv6fs, output into $WORK/out, print the
# exit status.
fsck_rc() {
	timeout 60 "$FSCK" "$@" >"$WORK/out" 2>&1
	echo $?
}

# broken CASE: a fresh copy of the populated image, broken by CASE.
broken() {
	cp "$WORK/base.img" "$WORK/$1.img" && "$CORRUPT" "$1" "$WORK/$1.img"
}

# ---- the command line ------------------------------------------------------

"$FSCK" --help >"$WORK/out" 2>&1
ok $? "fsck.xv6fs --help exits 0"
grep -q 'Exit status' "$WORK/out" && grep -q -- '-y, --yes' "$WORK/out"
ok $? "--help documents the options and the exit codes"
is "$(fsck_rc)" 16 "no IMAGE: usage error, exit 16"
is "$(fsck_rc -n -y "$WORK/x")" 16 "-n with -y: usage error, exit 16"
is "$(fsck_rc --bogus "$WORK/x")" 16 "unknown option: exit 16"
is "$(fsck_rc "$WORK/missing.img")" 8 "missing image: operational error, exit 8"
is "$(wc -l <"$WORK/out")" 1 "... with one line"
grep -q "missing.img" "$WORK/out"
ok $? "... naming the image"
head -c 1M /dev/urandom >"$WORK/random.img"
is "$(fsck_rc "$WORK/random.img")" 8 "random bytes: not an xv6fs image, exit 8"

"$MKFS" -q -s 16M "$WORK/fresh.img"
is "$(fsck_rc "$WORK/fresh.img")" 0 "fresh mkfs image: exit 0"
grep -q "fresh.img: clean" "$WORK/out"
ok $? "... and says clean"
grep -Eq "fresh.img: [0-9]+/[0-9]+ files, [0-9]+/[0-9]+ blocks" "$WORK/out"
ok $? "... with the e2fsck-style summary"

"$CORRUPT" populate "$WORK/base.img"
ok $? "populate an image through xv6fs on the test host"
is "$(fsck_rc "$WORK/base.img")" 0 "populated image: clean"

# -p repairs the safe problems, and stops at an unsafe one.
broken bitmaps
is "$(fsck_rc -p "$WORK/bitmaps.img")" 1 "-p on bitmap disagreements: corrected, exit 1"
is "$(fsck_rc "$WORK/bitmaps.img")" 0 "... then clean"
broken oob_inode
is "$(fsck_rc -p "$WORK/oob_inode.img")" 4 "-p on an out-of-range block pointer: exit 4"
grep -q "UNEXPECTED INCONSISTENCY" "$WORK/out"
ok $? "... saying to run fsck manually"

# ---- FUSE: a zeroed superblock --------------------------------------------

broken zero_super
timeout 30 "$BENTO" mount "$MOD" "$WORK/zero_super.img" "$MNT" \
	>"$WORK/out" 2>&1
rc=$?
ok $((rc == 0)) "bento mount of a zeroed superblock fails (exit $rc)"
mountpoint -q "$MNT"
ok $((! $?)) "... and nothing is mounted"
# The module may log its own line through the corruption hook; bento's
# error is the one line that starts with "bento:".
is "$(grep -c '^bento: ' "$WORK/out")" 1 "... with one error line from bento"
grep '^bento: ' "$WORK/out" | grep "zero_super.img" |
	grep -q "not an xv6fs image"
ok $? "... naming the image and saying it is not xv6fs"
sed 's/^/#   /' "$WORK/out"

# ---- FUSE: a block pointer out of range -------------------------------------

broken oob_inode
timeout 30 "$BENTO" mount "$MOD" "$WORK/oob_inode.img" "$MNT"
ok $? "bento mount of an image with an out-of-range block pointer"
cat "$MNT/small" >/dev/null 2>"$WORK/err"
ok $((! $?)) "reading /small (bad pointer) fails"
grep -Eq 'Input/output error|Structure needs cleaning' "$WORK/err"
ok $? "... with EIO or EUCLEAN ($(cat "$WORK/err"))"
is "$(cat "$MNT/a/file1" | wc -c)" 12288 "the daemon keeps serving: /a/file1 reads whole"
is "$(ls "$MNT/dir2" | wc -l)" 24 "... and /dir2 lists its 24 files"
cat "$MNT/small" >/dev/null 2>&1
ok $((! $?)) "... and /small still fails the same way"
timeout 30 "$BENTO" umount "$MNT"
ok $? "bento umount"

is "$(fsck_rc -y "$WORK/oob_inode.img")" 1 "fsck -y repairs the image (exit 1)"
is "$(fsck_rc "$WORK/oob_inode.img")" 0 "... and a second fsck is clean"
timeout 30 "$BENTO" mount "$MOD" "$WORK/oob_inode.img" "$MNT"
ok $? "the repaired image mounts"
is "$(cat "$MNT/small" | wc -c)" 100 "/small reads again (100 bytes, its lost block a hole)"
timeout 30 "$BENTO" umount "$MNT"
ok $? "bento umount"

# ---- FUSE: garbage in a directory block -------------------------------------

broken garbage_dir
timeout 30 "$BENTO" mount "$MOD" "$WORK/garbage_dir.img" "$MNT"
ok $? "bento mount of an image with garbage in /dir2's block"
ls "$MNT/dir2" >/dev/null 2>"$WORK/err"
ok $((! $?)) "listing /dir2 fails ($(head -1 "$WORK/err"))"
is "$(cat "$MNT/small" | wc -c)" 100 "the daemon keeps serving: /small reads"
timeout 30 "$BENTO" umount "$MNT"
ok $? "bento umount"

# ---- mkfs.xv6fs and fsck.xv6fs: arguments, version, images in use -----------

# mkfs_rc ARGS...: run mkfs.xv6fs, output into $WORK/out, print the status.
mkfs_rc() {
	timeout 60 "$MKFS" "$@" >"$WORK/out" 2>&1
	echo $?
}

# Numbers are checked in full; a refused mkfs leaves no file behind.
for args in "-N -1" "-N 18446744073709551615" "-N 4294967281" "-N 12x" \
	    "-N +5" "-N 0x10" "-s -1" "-s 1" "-s 17T" "-s 10Q" "-s 16M2" \
	    "-J 64" "-J -1" "-L $(printf 'a\tb')" "-L $(printf 'a\033b')"; do
	rm -f "$WORK/new.img"
	# shellcheck disable=SC2086
	rc=$(mkfs_rc ${args% *} "${args#* }" "$WORK/new.img")
	is "$rc" 1 "mkfs $args: refused, exit 1"
	[ ! -e "$WORK/new.img" ]
	ok $? "... and no image file left behind"
	grep -q '^mkfs.xv6fs: ' "$WORK/out"
	ok $? "... with a line saying why ($(head -1 "$WORK/out"))"
done
rm -f "$WORK/new.img"
is "$(mkfs_rc -s 4K "$WORK/new.img")" 1 "mkfs -s 4K: too small"
grep -q "1 block (4 KiB) is too small.*at least 88 blocks (352 KiB)" \
	"$WORK/out"
ok $? "... saying '1 block' and the minimum ($(cat "$WORK/out"))"
is "$(mkfs_rc -s 348K "$WORK/new.img")" 1 "mkfs -s 348K (87 blocks): too small"
is "$(mkfs_rc -s 352K "$WORK/new.img")" 0 "mkfs -s 352K (the minimum it states): made"
is "$(fsck_rc "$WORK/new.img")" 0 "... and fsck says clean"
is "$(mkfs_rc --bogus "$WORK/new.img")" 1 "mkfs --bogus: exit 1"
is "$(head -1 "$WORK/out")" "mkfs.xv6fs: unrecognized option '--bogus'" \
	"... one line naming the option"
grep -q -- "--help" "$WORK/out"
ok $? "... and a pointer to --help"
is "$(wc -l <"$WORK/out")" 2 "... and nothing more (no usage dump)"
is "$(fsck_rc --bogus "$WORK/new.img")" 16 "fsck --bogus: exit 16"
is "$(head -1 "$WORK/out")" "fsck.xv6fs: unrecognized option '--bogus'" \
	"... one line naming the option"
for tool in "$MKFS" "$FSCK"; do
	"$tool" --version >"$WORK/out" 2>&1
	ok $? "$(basename "$tool") --version: exit 0"
	grep -Eq '\(Bento\) [0-9][^ ]*, xv6fs on-disk format version 1$' \
		"$WORK/out"
	ok $? "... shows the project and format versions ($(cat "$WORK/out"))"
done

# Label: shown by mkfs and fsck -v; inode counts agree everywhere.
rm -f "$WORK/new.img"
is "$(mkfs_rc -s 64M -L "data disk" "$WORK/new.img")" 0 "mkfs -L 'data disk'"
grep -q 'label "data disk"' "$WORK/out"
ok $? "... mkfs shows the label"
grep -q ' 4095 usable inodes' "$WORK/out"
ok $? "... and counts usable inodes ($(cat "$WORK/out"))"
timeout 60 "$FSCK" -v "$WORK/new.img" >"$WORK/out" 2>&1
grep -q 'label: "data disk"' "$WORK/out"
ok $? "fsck -v shows the label"
grep -q '4095 usable inodes' "$WORK/out" &&
	grep -q 'new.img: 1/4095 files' "$WORK/out"
ok $? "... and the same inode count"

# An image in use (its daemon holds an exclusive flock) is refused.
exec 9<"$WORK/new.img"
flock -x 9
is "$(mkfs_rc -F "$WORK/new.img")" 1 "mkfs of a locked (mounted) image: exit 1"
is "$(cat "$WORK/out")" "mkfs.xv6fs: $WORK/new.img: in use (mounted?)" \
	"... saying it is in use"
is "$(fsck_rc -n "$WORK/new.img")" 8 "fsck -n of a locked image: exit 8"
is "$(cat "$WORK/out")" "fsck.xv6fs: $WORK/new.img: in use (mounted?)" \
	"... saying it is in use"
is "$(fsck_rc -y "$WORK/new.img")" 8 "fsck -y of a locked image: exit 8"
flock -u 9
exec 9<&-
is "$(fsck_rc -n "$WORK/new.img")" 0 "unlocked again: fsck runs (exit 0)"

# The same with a real mount: the bento daemon holds the lock.
timeout 30 "$BENTO" mount "$MOD" "$WORK/new.img" "$MNT"
ok $? "bento mount of the new image"
is "$(mkfs_rc -F "$WORK/new.img")" 1 "mkfs of the mounted image: exit 1"
grep -q "in use (mounted?)" "$WORK/out"
ok $? "... saying it is in use"
is "$(fsck_rc -n "$WORK/new.img")" 8 "fsck -n of the mounted image: exit 8"
timeout 30 "$BENTO" umount "$MNT"
ok $? "bento umount"
is "$(fsck_rc -n "$WORK/new.img")" 0 "... then fsck runs and finds it clean"

# ---- sanitizers ----------------------------------------------------------

reports=$(ls "$WORK"/san* 2>/dev/null | wc -l)
is "$reports" 0 "no sanitizer reports from fsck, corrupt or the daemons"
[ "$reports" = 0 ] || head -n 40 "$WORK"/san* | sed 's/^/# /'

done_testing
