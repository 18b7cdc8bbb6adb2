#!/bin/bash
# posix.t - POSIX behaviour on a real FUSE mount, compared with tmpfs in
# the same run; then how `bento` answers bad input.
#
#   tests/posix.t BUILD_DIR
#
# Runs BUILD/tests/posix_test (tests/posix/posix_test.c) on a tmpfs
# directory, the reference, and on a fresh xv6fs image served by `bento
# mount BUILD/fs/xv6fs.so` (with the host's default hour-long attribute
# and name caching, so every check is also one of cache invalidation).  Each of its checks becomes one TAP line per
# file system ("tmpfs: ...", "xv6fs: ..."); a diagnostic names the checks
# where the two differ.  After `bento umount`, a remount must still hold
# a marker file, and fsck.xv6fs (when built) must find the image clean.
# Requires xv6fs.so and mkfs.xv6fs: without them the test fails.  Root
# only (mounts, and posix_test drops to uid 65534).
set -u
cd "$(dirname "$0")/.."
. tests/lib/tap.sh

B=${1:-build}
BENTO=$B/bin/bento
MOD=$B/fs/xv6fs.so
MKFS=$B/bin/mkfs.xv6fs
FSCK=$B/bin/fsck.xv6fs
PT=$B/tests/posix_test
for f in "$BENTO" "$MOD" "$MKFS" "$PT"; do
	[ -e "$f" ] || bail "$f: not built (posix.t needs xv6fs)"
done
[ "$(id -u)" = 0 ] || bail "must run as root (mounts, setuid)"

WORK=$(mktemp -d /tmp/bento-posix.XXXXXX)
chmod 755 "$WORK"	# posix_test's uid 65534 child must get through
export ASAN_OPTIONS="log_path=$WORK/san:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="log_path=$WORK/san:print_stacktrace=1:${UBSAN_OPTIONS:-}"
TMPFS=$WORK/tmpfs
XMNT=$WORK/xv6fs
IMG=$WORK/xv6fs.img
mkdir -p "$TMPFS" "$XMNT"
cleanup() {
	mountpoint -q "$TMPFS" && umount -l "$TMPFS"
	if mountpoint -q "$XMNT"; then
		timeout 30 "$BENTO" umount "$XMNT" >/dev/null 2>&1 ||
			umount -l "$XMNT"
	fi
	mountpoint -q "$WORK/full" && umount -l "$WORK/full"
	rm -rf "$WORK"
}
trap cleanup EXIT

# run_posix LABEL DIR: posix_test on DIR, its results as ours.  Leaves
# "N<tab>ok|not ok<tab>NAME" lines in $WORK/LABEL.res to compare.
run_posix() {
	local label=$1 dir=$2 out=$WORK/$1.out line n=0 plan
	timeout 600 "$PT" "$dir" >"$out" 2>&1
	local rc=$?
	: >"$WORK/$label.res"
	while IFS= read -r line; do
		case $line in
		"ok "*)
			n=$((n + 1))
			ok 0 "$label: ${line#* - }"
			printf '%s\tok\t%s\n' "$n" "${line#* - }" >>"$WORK/$label.res" ;;
		"not ok "*)
			n=$((n + 1))
			ok 1 "$label: ${line#* - }"
			printf '%s\tnot ok\t%s\n' "$n" "${line#* - }" >>"$WORK/$label.res" ;;
		"#"*)
			echo "$line" ;;
		"1.."*)
			plan=${line#1..} ;;
		*)
			diag "$label: $line" ;;
		esac
	done <"$out"
	is "$n" "${plan:-none}" "$label: posix_test ran all its checks (exit $rc)"
}

# 1. The reference: tmpfs.
mount -t tmpfs -o size=256M,mode=755 tmpfs "$TMPFS"
ok $? "mount a 256 MiB tmpfs"
run_posix tmpfs "$TMPFS"
umount "$TMPFS"

# 2. xv6fs over FUSE.
"$MKFS" -q -F -s 512M "$IMG"
ok $? "mkfs.xv6fs a 512 MiB image"
"$BENTO" mount "$MOD" "$IMG" "$XMNT"
ok $? "bento mount xv6fs.so"
chmod 755 "$XMNT"
run_posix xv6fs "$XMNT"
echo "marker $$" >"$XMNT/marker"
"$BENTO" status "$XMNT" | grep -q "xv6fs"
ok $? "bento status names xv6fs"

# 3. Where the two differ.
differ=$(paste "$WORK/tmpfs.res" "$WORK/xv6fs.res" |
	awk -F'\t' '$2 != $5 { printf "%s: tmpfs %s, xv6fs %s\n", $3, $2, $5 }')
[ -z "$differ" ]
ok $? "xv6fs and tmpfs agree on every check"
[ -n "$differ" ] && echo "$differ" | sed 's/^/# differs: /'

# 4. Unmount, fsck, remount.
"$BENTO" umount "$XMNT"
ok $? "bento umount xv6fs"
if [ -x "$FSCK" ]; then
	"$FSCK" "$IMG" >"$WORK/fsck.out" 2>&1
	ok $? "fsck.xv6fs: clean after the POSIX run"
	sed 's/^/# /' "$WORK/fsck.out" | tail -n 5
else
	echo "ok $((_tap_n + 1)) # SKIP fsck.xv6fs not built"
	_tap_n=$((_tap_n + 1))
fi
"$BENTO" mount "$MOD" "$IMG" "$XMNT" &&
	is "$(cat "$XMNT/marker")" "marker $$" "remount: a file written before bento umount is there"
"$BENTO" umount "$XMNT"
ok $? "bento umount again"

# 5. ENOSPC reaches write(2) at once (write-through): an echo into a full
# file system fails, rather than succeeding into the page cache and
# losing the bytes at write-back.  And the image is locked while mounted:
# a second mount, fsck and mkfs are refused.
"$MKFS" -q -F -s 16M "$WORK/small.img"
"$BENTO" mount "$MOD" "$WORK/small.img" "$XMNT"
ok $? "mount a 16 MiB xv6fs"
err=$(dd if=/dev/zero of="$XMNT/big" bs=1M count=32 2>&1)
rc=$?
[ $rc != 0 ] && echo "$err" | grep -q "No space left"
ok $? "writing 32 MiB into it fails with ENOSPC in write(2) (exit $rc)"
err=$(bash -c "echo small >'$XMNT/x'" 2>&1)
rc=$?
[ $rc != 0 ] && echo "$err" | grep -q "No space left"
ok $? "echo small > full/x fails with ENOSPC (exit $rc: $err)"
echo 3 >/proc/sys/vm/drop_caches
size=$(stat -c %s "$XMNT/x" 2>/dev/null)
[ "$size" = 0 ] || [ -z "$size" ]
ok $? "and nothing pretends to be in x after a cache drop (size ${size:-none})"
err=$("$BENTO" mount -o ro "$MOD" "$WORK/small.img" "$WORK/tmpfs" 2>&1)
rc=$?
[ $rc = 32 ] && [ "$err" = "bento: $WORK/small.img: in use (mounted or being checked)" ]
ok $? "a second mount of the mounted image is refused (exit $rc: $err)"
"$FSCK" -n "$WORK/small.img" >/dev/null 2>&1
rc=$?
[ $rc != 0 ] && [ $rc != 127 ]
ok $? "fsck.xv6fs -n of the mounted image is refused by the lock (exit $rc)"
"$MKFS" -q -F -s 16M "$WORK/small.img" >/dev/null 2>&1
rc=$?
[ $rc != 0 ] && [ "$(cat "$XMNT/big" | wc -c)" -gt 0 ]
ok $? "mkfs.xv6fs over the mounted image is refused by the lock (exit $rc)"
"$BENTO" umount "$XMNT"
ok $? "bento umount of the full file system"

# 6. A full backing file system: xv6fs's final commit fails at unmount,
# and bento umount must not exit 0.
mkdir -p "$WORK/full"
mount -t tmpfs -o size=8M tmpfs "$WORK/full"
"$MKFS" -q -F -s 64M "$WORK/full/x.img"
dd if=/dev/zero of="$WORK/full/filler" bs=64k 2>/dev/null
"$BENTO" mount -o commit=0 "$MOD" "$WORK/full/x.img" "$XMNT"
ok $? "mount xv6fs from a full tmpfs"
dd if=/dev/urandom of="$XMNT/data" bs=64k count=32 2>/dev/null
err=$("$BENTO" umount "$XMNT" 2>&1)
rc=$?
[ $rc = 32 ] && echo "$err" | grep -q "final write-back failed"
ok $? "bento umount exits 32 when the final write-back cannot reach the device (exit $rc: $err)"
! mountpoint -q "$XMNT"
ok $? "and the mount is gone"
umount "$WORK/full"

# 7. Bad input: one clear line naming the thing, the right exit code.
# expect_fail WANT_RC PATTERN DESC CMD...: CMD exits WANT_RC and its
# stderr is one line matching PATTERN.
expect_fail() {
	local want=$1 pat=$2 desc=$3
	shift 3
	local err rc
	err=$("$@" 2>&1 >/dev/null)
	rc=$?
	if [ "$rc" = "$want" ] && [ "$(echo "$err" | grep -c .)" = 1 ] &&
	   echo "$err" | grep -q -- "$pat"; then
		ok 0 "$desc"
	else
		ok 1 "$desc"
		diag "  exit $rc (want $want), stderr: $err"
	fi
}
touch "$WORK/notadir"
truncate -s 1M "$WORK/zero.img"
: >"$WORK/empty.img"
expect_fail 32 "/nonexistent.so: No such file" "missing module: exit 32" \
	"$BENTO" mount /nonexistent.so "$IMG" "$XMNT"
expect_fail 32 "/nonexistent.img: No such file" "missing device: exit 32" \
	"$BENTO" mount "$MOD" /nonexistent.img "$XMNT"
expect_fail 32 "not a Bento module" "a .so that is not a module: exit 32" \
	"$BENTO" mount "$(ldconfig -p | sed -n 's/.*=> \(.*libz\.so\.1\)$/\1/p' | head -1)" \
	"$IMG" "$XMNT"
expect_fail 32 "notadir: Not a directory" "mount point not a directory: exit 32" \
	"$BENTO" mount "$MOD" "$IMG" "$WORK/notadir"
expect_fail 32 "^bento: $WORK/zero.img: xv6fs: not an xv6fs image" \
	"a zeroed device: one line, the module's reason with the image's name, exit 32" \
	"$BENTO" mount "$MOD" "$WORK/zero.img" "$XMNT"
expect_fail 32 "^bento: $WORK/empty.img: smaller than one 4096-byte block\$" \
	"an empty image: one line, exit 32" \
	"$BENTO" mount "$MOD" "$WORK/empty.img" "$XMNT"
expect_fail 32 "^bento: /dev/zero: not a regular file or block device\$" \
	"/dev/zero: one line, exit 32" \
	"$BENTO" mount "$MOD" /dev/zero "$XMNT"
cp "$IMG" "$WORK/badsum.img"
printf 'garbage!' | dd of="$WORK/badsum.img" bs=1 seek=64 conv=notrunc 2>/dev/null
expect_fail 32 "^bento: $WORK/badsum.img: xv6fs: .*(run fsck.xv6fs)\$" \
	"a corrupt superblock: one line naming the image, the reason, and fsck" \
	"$BENTO" mount "$MOD" "$WORK/badsum.img" "$XMNT"
expect_fail 1 "cache_blocks: bad value" "bad -o value: exit 1" \
	"$BENTO" mount -o cache_blocks=lots "$MOD" "$IMG" "$XMNT"
"$MKFS" -q -F -s 32M "$WORK/opt.img"
expect_fail 32 "^bento: $WORK/opt.img: xv6fs: unrecognized mount option 'bogus'\$" \
	"an option neither bento nor xv6fs knows: one line, exit 32" \
	"$BENTO" mount -o bogus "$MOD" "$WORK/opt.img" "$XMNT"
"$BENTO" mount -o defaults,nofail,x-systemd.automount "$MOD" \
	"$WORK/opt.img" "$XMNT" && "$BENTO" umount "$XMNT"
ok $? "fstab words (defaults, nofail, x-*) are accepted and ignored"
expect_fail 1 "-o needs an argument" "-o without options: exit 1" \
	"$BENTO" mount "$MOD" "$IMG" "$XMNT" -o
expect_fail 1 "unknown option '-q'" "unknown flag: exit 1" \
	"$BENTO" mount -q "$MOD" "$IMG" "$XMNT"
expect_fail 1 "need FS.so DEVICE MOUNTPOINT" "missing arguments: exit 1" \
	"$BENTO" mount "$MOD" "$IMG"
expect_fail 32 "$WORK: not a Bento mount" "status on a plain directory: exit 32" \
	"$BENTO" status "$WORK"
expect_fail 32 "$WORK: not a Bento mount" "umount of a plain directory: exit 32" \
	"$BENTO" umount "$WORK"
expect_fail 1 "unknown command 'frobnicate'" "unknown command: exit 1" \
	"$BENTO" frobnicate
! mountpoint -q "$XMNT"
ok $? "no failed mount left anything mounted"

expect_fail 1 "status: -t 0: bad value" "status -t 0: exit 1" \
	"$BENTO" status -t 0 "$XMNT"
for cmd in "" mount umount status help; do
	out=$("$BENTO" $cmd --help)
	rc=$?
	[ $rc = 0 ] && echo "$out" | grep -q "^Usage: bento" &&
		echo "$out" | grep -q "^Exit status"
	ok $? "bento $cmd --help: usage and exit status, exit 0"
done
"$BENTO" --version | grep -q "^bento [0-9]"
ok $? "bento --version"

ls "$WORK"/san.* >/dev/null 2>&1
ok $((! $?)) "no sanitizer reports from any bento process"
for f in "$WORK"/san.*; do [ -e "$f" ] && head -n 30 "$f" | sed 's/^/# /'; done

done_testing
