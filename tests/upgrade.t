#!/bin/bash
# upgrade.t - live upgrade of mounted Bento file systems (`bento upgrade`).
#
#   tests/upgrade.t BUILD_DIR
#
# Part 1, upfs (tests/upgrade/upfs.c, built in variants): a file whose
# bytes live only in memory (commit=0) must survive every upgrade, and
# every failure path must leave the old build serving with nothing lost,
# exit 32 and one line giving the reason: a missing file, a file that is
# not a module, another API version, another file system, no transfer op,
# a record version the new build refuses, a transfer that fails (EIO,
# ENOMEM), a prepare that fails, no prepare op.  A build without abandon
# takes over (its old state is leaked and said so).  `bento status`
# shows the module, the counts, the downtimes and the history; --all
# upgrades every mount of the file system and leaves others alone.
#
# Part 2, xv6fs: a process keeps four files open and does checked I/O
# while the mount is upgraded ten times between two copies of xv6fs.so
# (two names, so RTLD_LOCAL loads two objects): no failed call, no
# mismatch, the contents intact after a remount, fsck clean.  Prints
# the downtimes (p50, max).  Needs root (FUSE mounts).
set -u
cd "$(dirname "$0")/.."
. tests/lib/tap.sh

B=${1:-build}
BENTO=$B/bin/bento
UP=$B/tests/upgrade
HOLDER=$UP/holder
XV6=$B/fs/xv6fs.so
MKFS=$B/bin/mkfs.xv6fs
FSCK=$B/bin/fsck.xv6fs
for f in "$BENTO" "$UP/up_v1.so" "$UP/up_v2.so" "$HOLDER" "$XV6" "$MKFS" \
	 "$FSCK" "$B/fs/hello.so"; do
	[ -e "$f" ] || bail "$f: not built"
done
[ "$(id -u)" = 0 ] || bail "must run as root (FUSE mounts)"

WORK=$(mktemp -d /tmp/bento-upgrade.XXXXXX)
MNT=$WORK/mnt
MNT2=$WORK/mnt2
MNT3=$WORK/mnt3
mkdir -p "$MNT" "$MNT2" "$MNT3"
HPID=
export ASAN_OPTIONS="log_path=$WORK/san:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="log_path=$WORK/san:print_stacktrace=1:${UBSAN_OPTIONS:-}"
cleanup() {
	[ -n "$HPID" ] && kill "$HPID" 2>/dev/null
	for m in "$MNT" "$MNT2" "$MNT3"; do
		if mountpoint -q "$m"; then
			timeout 20 "$BENTO" umount "$m" >/dev/null 2>&1 ||
				umount -l "$m"
		fi
	done
	rm -rf "$WORK"
}
trap cleanup EXIT

# build MNT: the build serving a upfs mount, from its listing.
build() {
	ls "$1" | sed -n 's/^build //p'
}

# status_field MNT KEY: one value of bento status --json (top level).
status_module() {
	"$BENTO" status "$1" | sed -n 's/^  module: *//p'
}

# ---- Part 1: upfs ----------------------------------------------------------

truncate -s 64K "$WORK/up.img"
"$BENTO" mount -o commit=0 "$UP/up_v1.so" "$WORK/up.img" "$MNT"
ok $? "mount upfs 1.0 (commit=0: data only in memory)"
printf 'kept in memory only' >"$MNT/data"
is "$(build "$MNT")" "upfs 1.0 state 0 gen 0" "upfs 1.0 serves"
exec 7>>"$MNT/data"		# held open across every upgrade below

out=$("$BENTO" upgrade "$MNT" "$UP/up_v2.so" 2>&1)
rc=$?
is "$rc" 0 "upgrade 1.0 -> 2.0 exits 0"
echo "$out" | grep -Eq '^downtime_us=[0-9]+$'
ok $? "it prints downtime_us=N"
echo "$out" | grep -Eq "^$MNT: upfs 1\.0 \(build [0-9a-f]{12}\) -> upfs 2\.0 \(build [0-9a-f]{12}\), downtime [0-9]+ us"
ok $? "and a line naming both builds ($(echo "$out" | tail -n 1))"
is "$(build "$MNT")" "upfs 2.0 state 1 gen 1" "upfs 2.0 serves, from a version-1 record"
is "$(cat "$MNT/data")" "kept in memory only" "the in-memory data came across"
is "$(status_module "$MNT")" "$UP/up_v2.so" "status names the new module"
printf ' +more' >&7
is "$(cat "$MNT/data")" "kept in memory only +more" "a descriptor opened before the upgrade writes on"

# fail_case DESC MODULE WANT_REGEX: the upgrade fails with one line
# matching WANT_REGEX, and upfs 2.0 keeps serving with nothing lost.
fail_case() {
	local desc=$1 mod=$2 want=$3 out rc before
	before=$(build "$MNT")
	out=$("$BENTO" upgrade "$MNT" "$mod" 2>&1)
	rc=$?
	[ $rc = 32 ] && [ "$(echo "$out" | wc -l)" = 1 ] &&
		echo "$out" | grep -Eq "^bento: upgrade $MNT: $want; upfs 2\.0 keeps serving$"
	ok $? "$desc: exit 32, one line ($out)"
	[ "$(build "$MNT")" = "$before" ] &&
		[ "$(cat "$MNT/data")" = "kept in memory only +more" ] &&
		[ "$(status_module "$MNT")" = "$UP/up_v2.so" ]
	ok $? "$desc: upfs 2.0 still serves, data intact"
}

echo "not an ELF file" >"$WORK/junk.so"
fail_case "missing file" "$WORK/nope.so" \
	"$WORK/nope.so: No such file or directory"
fail_case "a text file" "$WORK/junk.so" "$WORK/junk.so: cannot load: .*"
fail_case "a shared object that is not a module" "$UP/up_notmod.so" \
	"$UP/up_notmod.so: not a Bento module \(no bento_module_entry\)"
fail_case "another API version" "$UP/up_badapi.so" \
	"$UP/up_badapi.so: built for Bento API version 2, this host speaks version 1"
fail_case "another file system" "$UP/up_other.so" \
	"$UP/up_other.so is a module of file system upother, not upfs"
fail_case "no transfer op" "$UP/up_notransfer.so" \
	"$UP/up_notransfer.so has no transfer op: it cannot be upgraded to"
fail_case "a record version it refuses" "$UP/up_refuse.so" \
	"$UP/up_refuse.so refused the state record version 2 \(Protocol error\)"
fail_case "a downgrade to a build that reads only version 1" \
	"$UP/up_v1.so" \
	"$UP/up_v1.so refused the state record version 2 \(Protocol error\)"
fail_case "transfer fails with EIO" "$UP/up_failxfer.so" \
	"$UP/up_failxfer.so failed to take over the state: Input/output error: upfs: transfer: simulated failure"
fail_case "transfer fails with ENOMEM" "$UP/up_nomem.so" \
	"$UP/up_nomem.so failed to take over the state: Cannot allocate memory: upfs: transfer: simulated failure"
fail_case "a directory" "$WORK" "$WORK: Is a directory"

st=$("$BENTO" status "$MNT")
echo "$st" | grep -q "^  upgrades:   1 done, 11 failed$"
ok $? "status counts 1 upgrade done, 11 failed"
echo "$st" | grep -q "^  last failed upgrade: $WORK: Is a directory$"
ok $? "status shows the last failure"

# Upgrading to a copy of the serving build, and to the same file again:
# each load is a distinct object, the state keeps coming across.
cp "$UP/up_v2.so" "$WORK/up_v2_copy.so"
"$BENTO" upgrade "$MNT" "$WORK/up_v2_copy.so" >/dev/null &&
	"$BENTO" upgrade "$MNT" "$WORK/up_v2_copy.so" >/dev/null
ok $? "upgrade to a copy of the serving build, twice"
is "$(build "$MNT")" "upfs 2.0 state 2 gen 3" "the record came through three upgrades"

# A module rebuilt in place is loaded afresh, not the object loaded before.
cp "$UP/up_v2b.so" "$WORK/up_v2_copy.so"
"$BENTO" upgrade "$MNT" "$WORK/up_v2_copy.so" >/dev/null
ok $? "upgrade to the same path after the file was replaced"
is "$(build "$MNT")" "upfs 2.1 state 2 gen 4" "the replaced file's code serves (2.1)"

# No abandon: it takes over, the old state is leaked (and said so); the
# next upgrade from it works.
"$BENTO" upgrade "$MNT" "$UP/up_noabandon.so" >/dev/null &&
	"$BENTO" upgrade "$MNT" "$UP/up_v2.so" >/dev/null
ok $? "upgrade to a build without abandon, and on from it"
is "$(build "$MNT")" "upfs 2.0 state 2 gen 6" "upfs 2.0 serves again"
is "$(cat "$MNT/data")" "kept in memory only +more" "data intact after 6 upgrades"

st=$("$BENTO" status "$MNT")
echo "$st" | grep -Eq "^  downtime:   last [0-9]+ us, min [0-9]+, median [0-9]+, max [0-9]+ us$"
ok $? "status shows last/min/median/max downtime"
is "$(echo "$st" | grep -c '^  history [0-9]*: upfs ')" 6 "status lists the 6 swaps"
echo "$st" | grep -Eq "^  history 5: upfs 2\.1 \(build [0-9a-f]{12}\) -> upfs 7\.0 \(build [0-9a-f]{12}\), [0-9]+ us$"
ok $? "history names from and to"
json=$("$BENTO" status --json "$MNT")
echo "$json" | grep -Eq '^    "done": 6,$' &&
	echo "$json" | grep -Eq '^    "median_us": [0-9]+,?$'
ok $? "status --json has an upgrade object"

exec 7>&-
"$BENTO" umount "$MNT"
ok $? "bento umount after the upgrades"
is "$(dd if="$WORK/up.img" bs=1 skip=4 count=25 2>/dev/null)" \
	"kept in memory only +more" "the last build wrote the data at unmount"

# prepare fails / no prepare: the serving build cannot hand over.
"$BENTO" mount -o commit=0 "$UP/up_failprepare.so" "$WORK/up.img" "$MNT"
out=$("$BENTO" upgrade "$MNT" "$UP/up_v2.so" 2>&1)
rc=$?
[ $rc = 32 ] && [ "$out" = "bento: upgrade $MNT: the serving build failed to prepare its state: Cannot allocate memory: upfs: prepare: simulated failure; upfs 6.0 keeps serving" ]
ok $? "prepare fails: exit 32 ($out)"
is "$(build "$MNT")" "upfs 6.0 state 0 gen 0" "upfs 6.0 still serves"
"$BENTO" umount "$MNT"
"$BENTO" mount -o commit=0 "$UP/up_noprepare.so" "$WORK/up.img" "$MNT"
out=$("$BENTO" upgrade "$MNT" "$UP/up_v2.so" 2>&1)
rc=$?
[ $rc = 32 ] && [ "$out" = "bento: upgrade $MNT: the serving build has no prepare op: it cannot be upgraded from; upfs 5.0 keeps serving" ]
ok $? "no prepare op: exit 32 ($out)"
is "$(cat "$MNT/data")" "kept in memory only +more" "upfs 5.0 serves the data"
"$BENTO" umount "$MNT"

# --all: both upfs mounts, not the hello mount.
truncate -s 64K "$WORK/up2.img" "$WORK/hello.img"
"$BENTO" mount -o commit=0 "$UP/up_v1.so" "$WORK/up.img" "$MNT" &&
	"$BENTO" mount -o commit=0 "$UP/up_v1.so" "$WORK/up2.img" "$MNT2" &&
	"$BENTO" mount "$B/fs/hello.so" "$WORK/hello.img" "$MNT3"
ok $? "two upfs mounts and a hello mount"
out=$("$BENTO" upgrade --all "$UP/up_v2.so" 2>&1)
rc=$?
[ $rc = 0 ] && [ "$(echo "$out" | grep -c ' -> upfs 2\.0 ')" = 2 ]
ok $? "upgrade --all: exit 0, a line for each upfs mount"
echo "$out" | sed 's/^/# /'
[ "$(build "$MNT")" = "upfs 2.0 state 1 gen 1" ] &&
	[ "$(build "$MNT2")" = "upfs 2.0 state 1 gen 1" ]
ok $? "both upfs mounts serve 2.0"
"$BENTO" status "$MNT3" | grep -q "upgrades:   0 done, 0 failed"
ok $? "the hello mount was not asked"
out=$("$BENTO" upgrade --all "$UP/up_v1.so" 2>&1)
rc=$?
[ $rc = 32 ] && [ "$(echo "$out" | grep -c 'refused the state record version 2')" = 2 ] &&
	echo "$out" | tail -n 1 | grep -q "upgrade --all: 2 of 2 mounts of upfs failed"
ok $? "upgrade --all to a build that refuses: exit 32, each mount says why"
out=$("$BENTO" upgrade --all "$UP/up_other.so" 2>&1)
rc=$?
[ $rc = 32 ] && [ "$out" = "bento: upgrade --all: no Bento mount of upother" ]
ok $? "upgrade --all with no mount of that file system: exit 32 ($out)"
out=$("$BENTO" upgrade "$MNT" 2>&1)
[ $? = 1 ]
ok $? "upgrade without NEW.so is a usage error ($out)"
out=$("$BENTO" upgrade "$WORK" "$UP/up_v2.so" 2>&1)
[ $? = 32 ] && [ "$out" = "bento: $WORK: not a Bento mount" ]
ok $? "upgrade of a directory that is no mount: exit 32 ($out)"
for m in "$MNT" "$MNT2" "$MNT3"; do "$BENTO" umount "$m"; done

# ---- Part 2: xv6fs, files held open across ten upgrades --------------------

"$MKFS" -q -s 64M "$WORK/xv6.img"
ok $? "mkfs.xv6fs a 64 MiB image"
cp "$XV6" "$WORK/xv6-a.so" && cp "$XV6" "$WORK/xv6-b.so"
"$BENTO" mount "$WORK/xv6-a.so" "$WORK/xv6.img" "$MNT"
ok $? "mount xv6fs"
head -c 3000000 /dev/urandom >"$WORK/ref"
cp "$WORK/ref" "$MNT/before"
"$HOLDER" "$MNT" "$WORK/stop" 4 >"$WORK/holder.out" 2>&1 &
HPID=$!
sleep 0.5
downs=()
fails=0
for i in $(seq 10); do
	so=$WORK/xv6-b.so
	[ $((i % 2)) = 0 ] && so=$WORK/xv6-a.so
	out=$("$BENTO" upgrade "$MNT" "$so" 2>&1)
	if [ $? = 0 ]; then
		downs+=("$(echo "$out" | sed -n 's/^downtime_us=//p')")
	else
		fails=$((fails + 1))
		diag "upgrade $i: $out"
	fi
	sleep 0.2
done
is "$fails" 0 "ten upgrades of xv6fs under load, none failed"
touch "$WORK/stop"
wait "$HPID"
hrc=$?
HPID=
cat "$WORK/holder.out" | sed 's/^/# /'
is "$hrc" 0 "the application holding files open noticed nothing"
grep -Eq "^holder: rounds=[1-9][0-9]* ops=[0-9]+ failed=0 mismatches=0$" "$WORK/holder.out"
ok $? "holder: zero failed operations, zero mismatches"
sorted=$(printf '%s\n' "${downs[@]}" | sort -n)
p50=$(echo "$sorted" | sed -n "$(( (${#downs[@]} + 1) / 2 ))p")
max=$(echo "$sorted" | tail -n 1)
diag "xv6fs downtime over ${#downs[@]} upgrades: p50 ${p50:-?} us, max ${max:-?} us (all: $(echo $sorted))"
"$BENTO" status "$MNT" | grep -q "upgrades:   10 done, 0 failed"
ok $? "status counts the ten upgrades"
cmp -s "$WORK/ref" "$MNT/before"
ok $? "a file written before the upgrades reads back intact"
"$BENTO" umount "$MNT"
ok $? "bento umount"
"$FSCK" "$WORK/xv6.img" >"$WORK/fsck.out" 2>&1
rc=$?
is "$rc" 0 "fsck.xv6fs: clean after ten upgrades under load"
[ $rc = 0 ] || sed 's/^/# /' "$WORK/fsck.out"
"$BENTO" mount "$XV6" "$WORK/xv6.img" "$MNT" &&
	cmp -s "$WORK/ref" "$MNT/before" &&
	[ "$(ls "$MNT" | grep -c '^held\.')" = 4 ] &&
	! ls "$MNT" | grep -q '^scratch'
ok $? "remounted: contents intact, the held files there, no scratch file left"
"$BENTO" umount "$MNT"

ls "$WORK"/san.* >/dev/null 2>&1
ok $((! $?)) "no sanitizer reports from any bento process"
for f in "$WORK"/san.*; do [ -e "$f" ] && head -n 30 "$f" | sed 's/^/# /'; done

done_testing
