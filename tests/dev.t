#!/bin/bash
# dev.t - `bento dev`: rebuild a file system on save and upgrade its mount.
#
#   tests/dev.t BUILD_DIR
#
# A copy of the upgrade tests' upfs (tests/upgrade/upfs.c, its 2.0 build)
# is compiled by a --build command into a temporary module and mounted.
# Its "version" file counts the upgrades its state came through, so every
# upgrade shows.  Checked:
#   --once after an edit: exit 0, one "save->serving" line, a new build
#     id in bento status, the in-memory data carried across;
#   --once after an edit that does not compile: exit 32, the compiler's
#     error shown, the old build serving, nothing lost;
#   the watching loop: a save makes a cycle (and a new build id), a broken
#     save keeps the old build and the loop alive, Ctrl-C ends it with 0;
#   the default build (make -s O=BUILD BUILD/fs/NAME.so from the top):
#     xv6fs built into a temporary build directory, mounted from there;
#   bad usage and a directory that is no mount: one line, exit 1 or 32.
# Needs root (FUSE mounts).
set -u
cd "$(dirname "$0")/.."
. tests/lib/tap.sh

B=${1:-build}
BENTO=$B/bin/bento
MKFS=$B/bin/mkfs.xv6fs
for f in "$BENTO" "$MKFS"; do
	[ -e "$f" ] || bail "$f: not built"
done
[ "$(id -u)" = 0 ] || bail "must run as root (FUSE mounts)"
TOP=$(pwd)

WORK=$(mktemp -d /tmp/bento-dev.XXXXXX)
MNT=$WORK/mnt
mkdir -p "$MNT" "$WORK/src"
export ASAN_OPTIONS="log_path=$WORK/san:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="log_path=$WORK/san:print_stacktrace=1:${UBSAN_OPTIONS:-}"
DPID=
cleanup() {
	[ -n "$DPID" ] && kill "$DPID" 2>/dev/null
	if mountpoint -q "$MNT"; then
		timeout 20 "$BENTO" umount "$MNT" >/dev/null 2>&1 ||
			umount -l "$MNT"
	fi
	rm -rf "$WORK"
}
trap cleanup EXIT

cp tests/upgrade/upfs.c "$WORK/src/upfs.c"
MOD=$WORK/out/dev.so
BUILD="mkdir -p $WORK/out && cc -std=c11 -D_GNU_SOURCE -O1 -fPIC -shared -I$TOP/include -DUP_VERSION='\"2.0\"' -DUP_WRITES=2 -DUP_READS_MAX=2 -o $MOD $WORK/src/upfs.c"

build_id() {
	"$BENTO" status "$MNT" | sed -n 's/^  build id: *//p'
}
# serving: what upfs says serves, from its listing (not cached).
serving() {
	ls "$MNT" | sed -n 's/^build //p'
}
# edit N: a change that gives the module a new build id.
edit() {
	echo "static const int dev_edit_$1 __attribute__((used)) = $1;" \
		>>"$WORK/src/upfs.c"
}

truncate -s 64K "$WORK/img"
sh -c "$BUILD" && "$BENTO" mount -o commit=0 "$MOD" "$WORK/img" "$MNT"
ok $? "build the upfs copy and mount it"
printf 'only in memory' >"$MNT/data"
id0=$(build_id)
is "$(serving)" "upfs 2.0 state 0 gen 0" "upfs 2.0 serves"

# ---- --once --------------------------------------------------------------

edit 1
out=$("$BENTO" dev --once --build "$BUILD" --module "$MOD" "$WORK/src" "$MNT" 2>&1)
rc=$?
is "$rc" 0 "dev --once after an edit: exit 0"
echo "$out" | grep -Eq '^save->serving [0-9]+\.[0-9]{2} s \(build [0-9]+\.[0-9]{2} s, upgrade downtime [0-9]+\.[0-9]{3} ms\): upfs 2\.0 \(build [0-9a-f]{12}\)$'
ok $? "one save->serving line ($out)"
id1=$(build_id)
[ -n "$id1" ] && [ "$id1" != "$id0" ]
ok $? "status shows a new build id ($id0 -> $id1)"
echo "$out" | grep -q "(build ${id1:0:12})"
ok $? "the line names the new build"
is "$(serving)" "upfs 2.0 state 2 gen 1" "the state came through one upgrade"
is "$(cat "$MNT/data")" "only in memory" "the in-memory data carried across"

cp "$WORK/src/upfs.c" "$WORK/good.c"
echo "int broken(void) { return no_such_thing; }" >>"$WORK/src/upfs.c"
out=$("$BENTO" dev --once --build "$BUILD" --module "$MOD" "$WORK/src" "$MNT" 2>&1)
rc=$?
is "$rc" 32 "dev --once after an edit that does not compile: exit 32"
echo "$out" | grep -q "no_such_thing" &&
	echo "$out" | grep -q "error" &&
	echo "$out" | tail -n 1 | grep -Eq "^bento: dev: build failed \(exit 1\) after [0-9.]+ s; upfs 2\.0 \(build ${id1:0:12}\) keeps serving$"
ok $? "the compiler's error is shown, and that the old build serves"
echo "$out" | sed 's/^/#   /' | tail -n 4
is "$(build_id)" "$id1" "the build id did not change"
is "$(cat "$MNT/data")" "only in memory" "nothing lost"
cp "$WORK/good.c" "$WORK/src/upfs.c"

# ---- watching ------------------------------------------------------------

"$BENTO" dev --build "$BUILD" --module "$MOD" "$WORK/src" "$MNT" \
	>"$WORK/dev.out" 2>&1 &
DPID=$!
# wait_lines N: until dev.out has N save->serving or failure lines.
wait_lines() {
	local i
	for i in $(seq 200); do
		[ "$(grep -Ec '^(save->serving|bento: dev: build failed)' "$WORK/dev.out")" -ge "$1" ] &&
			return 0
		sleep 0.1
	done
	return 1
}
sleep 0.5
grep -q "^watching $WORK/src" "$WORK/dev.out"
ok $? "dev says what it watches"
edit 2
wait_lines 1
ok $? "a save makes a cycle"
id2=$(build_id)
[ -n "$id2" ] && [ "$id2" != "$id1" ] && grep -q "(build ${id2:0:12})" "$WORK/dev.out"
ok $? "and a new build serves ($id2)"
echo "int broken(void) { return nope; }" >>"$WORK/src/upfs.c"
wait_lines 2
ok $? "a broken save makes a cycle too"
grep -q "keeps serving" "$WORK/dev.out" && [ "$(build_id)" = "$id2" ]
ok $? "which fails and keeps the old build"
sed -i '$d' "$WORK/src/upfs.c"
edit 3
wait_lines 3
ok $? "the loop goes on: the fixed save makes a third cycle"
id3=$(build_id)
[ "$(grep -c '^save->serving' "$WORK/dev.out")" -ge 2 ] && [ "$id3" != "$id2" ]
ok $? "and it serves ($id3)"
sed 's/^/#   /' "$WORK/dev.out" | grep -v "^#   /tmp" | head -n 12
kill -INT "$DPID"
wait "$DPID"
rc=$?
DPID=
is "$rc" 0 "Ctrl-C ends it with 0"
v=$(serving)
[[ "$v" =~ ^upfs\ 2\.0\ state\ 2\ gen\ [3-9]$ ]]
ok $? "the mount served on through every cycle ($v)"
is "$(cat "$MNT/data")" "only in memory" "data intact"
"$BENTO" umount "$MNT"

# ---- the default build ---------------------------------------------------

TB=$WORK/build
make -s O="$TB" "$TB/fs/xv6fs.so" >"$WORK/make.out" 2>&1
ok $? "xv6fs built into a temporary build directory"
"$MKFS" -q -s 16M "$WORK/xv6.img" &&
	"$BENTO" mount "$TB/fs/xv6fs.so" "$WORK/xv6.img" "$MNT"
ok $? "mounted from there"
echo hello >"$MNT/f"
out=$("$BENTO" dev --once fs/xv6fs "$MNT" 2>&1)
rc=$?
is "$rc" 0 "dev --once fs/xv6fs derives make -s O=$TB $TB/fs/xv6fs.so ($out)"
t=$(echo "$out" | sed -n 's/^save->serving \([0-9]*\)\..*/\1/p')
[ -n "$t" ] && [ "$t" -lt 30 ]
ok $? "no edit since the build: timed from the cycle's start, not an old save"
"$BENTO" status "$MNT" | grep -q "upgrades:   1 done, 0 failed"
ok $? "the mount was upgraded"
is "$(cat "$MNT/f")" "hello" "contents intact"
"$BENTO" umount "$MNT"

# ---- bad input -----------------------------------------------------------

"$BENTO" mount "$MOD" "$WORK/img" "$MNT"
out=$("$BENTO" dev --once "$WORK/src" "$MNT" 2>&1)
[ $? = 32 ] && [ "$(echo "$out" | wc -l)" = 1 ] &&
	echo "$out" | grep -q "is not BUILD/fs/NAME.so"
ok $? "a module outside BUILD/fs without --build: exit 32, one line ($out)"
"$BENTO" umount "$MNT"
out=$("$BENTO" dev "$WORK/nope" "$MNT" 2>&1)
[ $? = 1 ] && [ "$out" = "bento: dev: $WORK/nope: No such file or directory" ]
ok $? "a missing FSDIR: exit 1 ($out)"
out=$("$BENTO" dev "$WORK/src" 2>&1)
[ $? = 1 ] && [ "$(echo "$out" | wc -l)" = 1 ]
ok $? "no MOUNTPOINT: exit 1 ($out)"
out=$("$BENTO" dev --build true "$WORK/src" "$MNT" 2>&1)
[ $? = 1 ] && echo "$out" | grep -q "go together"
ok $? "--build without --module: exit 1 ($out)"
out=$("$BENTO" dev --once "$WORK/src" "$WORK" 2>&1)
[ $? = 32 ] && [ "$out" = "bento: $WORK: not a Bento mount" ]
ok $? "a directory that is no mount: exit 32 ($out)"
"$BENTO" dev --help | grep -q "^Usage: bento dev"
ok $? "dev --help"

ls "$WORK"/san.* >/dev/null 2>&1
ok $((! $?)) "no sanitizer reports from any bento process"
for f in "$WORK"/san.*; do [ -e "$f" ] && head -n 30 "$f" | sed 's/^/# /'; done

done_testing
