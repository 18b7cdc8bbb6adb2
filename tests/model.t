#!/bin/bash
# model.t - a model-checked workload while the mount is upgraded again and
# again between xv6fs and its provenance build (issue 3, "Tests").
#
#   tests/model.t BUILD_DIR
#
# Makes a 256 MiB xv6fs image and mounts it with a.so (a copy of
# xv6fs.so).  tests/model/model runs 4 threads of random creates,
# writes, truncates, renames, unlinks, reads and fsyncs, every read
# checked against its model of the contents, for 15 s; meanwhile the
# mount is upgraded every ~300 ms, cycling prov.so (a copy of
# xv6fs_prov.so), b.so (another copy of xv6fs.so), a.so, prov.so, ...
# Copies under distinct names load as distinct builds.  Asserts: every
# upgrade succeeded, at least 20 of them (12 in a sanitizer build, where
# everything is slower; MODEL_MIN_UPGRADES overrides), `bento prov`
# shows a create made while the provenance build serves, the workload saw no
# failed call and no mismatch, fsck.xv6fs is clean after `bento umount`,
# and a remount matches the model the workload saved.  No sanitizer
# report from any process.  Prints the ops, upgrades and downtimes.
#
# Not covered yet: replacing the bento daemon under the workload (issue
# 3 point 6 is not built); the test says so in a diag line.  Needs root.
set -u
cd "$(dirname "$0")/.."
. tests/lib/tap.sh

B=${1:-build}
BENTO=$B/bin/bento
MODEL=$B/tests/model/model
XV6=$B/fs/xv6fs.so
PROV=$B/fs/xv6fs_prov.so
MKFS=$B/bin/mkfs.xv6fs
FSCK=$B/bin/fsck.xv6fs
for f in "$BENTO" "$MODEL" "$XV6" "$PROV" "$MKFS" "$FSCK"; do
	[ -e "$f" ] || bail "$f: not built"
done
[ "$(id -u)" = 0 ] || bail "must run as root (FUSE mounts)"

# A sanitizer build is several times slower: fewer upgrades required.
if ldd "$BENTO" 2>/dev/null | grep -q libasan; then
	SECS=15 MIN=12 KIND="sanitizer build"
else
	SECS=15 MIN=20 KIND="plain build"
fi
MIN=${MODEL_MIN_UPGRADES:-$MIN}

WORK=$(mktemp -d /tmp/bento-model.XXXXXX)
MNT=$WORK/mnt
mkdir -p "$MNT"
MPID=
export ASAN_OPTIONS="log_path=$WORK/san:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="log_path=$WORK/san:print_stacktrace=1:${UBSAN_OPTIONS:-}"
cleanup() {
	[ -n "$MPID" ] && kill "$MPID" 2>/dev/null && wait "$MPID"
	if mountpoint -q "$MNT"; then
		timeout 20 "$BENTO" umount "$MNT" >/dev/null 2>&1 ||
			umount -l "$MNT"
	fi
	rm -rf "$WORK"
}
trap cleanup EXIT

diag "$KIND: workload ${SECS}s, at least $MIN upgrades"
diag "not covered: replacing the bento daemon under the workload (issue 3 point 6 is not built yet)"

"$MKFS" -q -F -s 256M "$WORK/x.img"
ok $? "mkfs.xv6fs a 256 MiB image"
cp "$XV6" "$WORK/a.so" && cp "$PROV" "$WORK/prov.so" &&
	cp "$XV6" "$WORK/b.so"
ok $? "copies a.so, prov.so, b.so"
"$BENTO" mount "$WORK/a.so" "$WORK/x.img" "$MNT"
ok $? "mount xv6fs (a.so)"

"$MODEL" -t "$SECS" -o "$WORK/model.save" "$MNT" >"$WORK/model.out" \
	2>"$WORK/model.err" &
MPID=$!

# Upgrade until the workload ends: prov.so, b.so, a.so, prov.so, ...
cycle=("$WORK/prov.so" "$WORK/b.so" "$WORK/a.so")
downs=()
n=0
fails=0
prov_rc=
prov_lines=0
prov_marker=0
sleep 0.3
while kill -0 "$MPID" 2>/dev/null; do
	so=${cycle[$((n % 3))]}
	out=$("$BENTO" upgrade "$MNT" "$so" 2>&1)
	if [ $? = 0 ]; then
		downs+=("$(echo "$out" | sed -n 's/^downtime_us=//p')")
	else
		fails=$((fails + 1))
		diag "upgrade $((n + 1)) to $(basename "$so"): $out"
	fi
	n=$((n + 1))
	# Once, while the provenance build serves: read its log.
	if [ "$so" = "$WORK/prov.so" ] && [ -z "$prov_rc" ]; then
		touch "$MNT/prov-marker"
		"$BENTO" prov "$MNT" >"$WORK/prov.out" 2>&1
		prov_rc=$?
		prov_lines=$(grep -c ' create ' "$WORK/prov.out")
		prov_marker=$(grep -c ' create ino [0-9]* parent 1 name prov-marker$' "$WORK/prov.out")
	fi
	sleep 0.3
done
wait "$MPID"
mrc=$?
MPID=
sed 's/^/# /' "$WORK/model.out"
head -n 20 "$WORK/model.err" | sed 's/^/# /'

is "$fails" 0 "every upgrade succeeded ($n done)"
[ "$n" -ge "$MIN" ]
ok $? "at least $MIN upgrades during the workload ($n)"
is "${prov_rc:-none}" 0 "bento prov reads the log while the provenance build serves"
is "$prov_marker" 1 "the log records a create made on the provenance build ($prov_lines creates so far)"
is "$mrc" 0 "the workload exits 0"
grep -Eq '^model: seed=[0-9]+ threads=4 ops=[1-9][0-9]* failed=0 mismatches=0 ' \
	"$WORK/model.out"
ok $? "zero failed operations, zero mismatches"
"$BENTO" status "$MNT" | grep -q "upgrades:   $n done, 0 failed"
ok $? "bento status counts $n upgrades, none failed"

sorted=$(printf '%s\n' "${downs[@]}" | grep . | sort -n)
cnt=$(echo "$sorted" | grep -c .)
p50=$(echo "$sorted" | sed -n "$(( (cnt + 1) / 2 ))p")
p99=$(echo "$sorted" | sed -n "$(( (cnt * 99 + 99) / 100 ))p")
max=$(echo "$sorted" | tail -n 1)
diag "downtime over $cnt upgrades: p50 ${p50:-?} us, p99 ${p99:-?} us, max ${max:-?} us"

"$BENTO" umount "$MNT"
ok $? "bento umount"
"$FSCK" "$WORK/x.img" >"$WORK/fsck.out" 2>&1
rc=$?
is "$rc" 0 "fsck.xv6fs clean"
[ $rc = 0 ] || head -n 20 "$WORK/fsck.out" | sed 's/^/# /'

"$BENTO" mount "$XV6" "$WORK/x.img" "$MNT"
ok $? "remount with xv6fs.so"
"$MODEL" --verify "$WORK/model.save" "$MNT" >"$WORK/verify.out" 2>&1
ok $? "after the remount every file matches the saved model"
sed 's/^/# /' "$WORK/verify.out" | head -n 20
"$BENTO" umount "$MNT"
ok $? "bento umount"

ls "$WORK"/san.* >/dev/null 2>&1
ok $((! $?)) "no sanitizer reports from any bento process"
for f in "$WORK"/san.*; do [ -e "$f" ] && head -n 30 "$f" | sed 's/^/# /'; done

done_testing
