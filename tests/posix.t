#!/bin/bash
# posix.t - POSIX behaviour on a real FUSE mount, compared with tmpfs in
# the same run; then how `bento` answers bad input.
#
#   tests/posix.t BUILD_DIR
#
# Runs BUILD/tests/posix_test (tests/posix/posix_test.c) on a tmpfs
# directory, the reference, and on a fresh xv6fs image served by `bento
# mount BUILD/fs/xv6fs.so`.  Each of its checks becomes one TAP line per
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

# 5. Bad input: one clear line naming the thing, the right exit code.
# expect_fail WANT_RC PATTERN DESC CMD...: CMD exits WANT_RC and its
# stderr is one line matching PATTERN.
expect_fail() {
	local want=$1 pat=$2 desc=$3
	shift 3
	local err rc
	err=$("$@" 2>&1 >/dev/null)
	rc=$?
	if [ "$rc" = "$want" ] && [ "$(echo "$err" | grep -c .)" -ge 1 ] &&
	   echo "$err" | tail -n 1 | grep -q -- "$pat"; then
		ok 0 "$desc"
	else
		ok 1 "$desc"
		diag "  exit $rc (want $want), stderr: $err"
	fi
}
touch "$WORK/notadir"
truncate -s 1M "$WORK/zero.img"
expect_fail 32 "/nonexistent.so: No such file" "missing module: exit 32" \
	"$BENTO" mount /nonexistent.so "$IMG" "$XMNT"
expect_fail 32 "/nonexistent.img: No such file" "missing device: exit 32" \
	"$BENTO" mount "$MOD" /nonexistent.img "$XMNT"
expect_fail 32 "not a Bento module" "a .so that is not a module: exit 32" \
	"$BENTO" mount "$(ldconfig -p | sed -n 's/.*=> \(.*libz\.so\.1\)$/\1/p' | head -1)" \
	"$IMG" "$XMNT"
expect_fail 32 "notadir: Not a directory" "mount point not a directory: exit 32" \
	"$BENTO" mount "$MOD" "$IMG" "$WORK/notadir"
expect_fail 32 "zero.img: not an xv6fs image" "a zeroed device: not an xv6fs image, exit 32" \
	"$BENTO" mount "$MOD" "$WORK/zero.img" "$XMNT"
expect_fail 1 "cache_blocks: bad value" "bad -o value: exit 1" \
	"$BENTO" mount -o cache_blocks=lots "$MOD" "$IMG" "$XMNT"
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

for cmd in "" mount umount status; do
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
