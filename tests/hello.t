#!/bin/bash
# hello.t - fs/hello over the real FUSE driver, and the ways a `bento
# mount` daemon ends.
#
#   tests/hello.t BUILD_DIR
#
# Mounts hello.so on a small image file, reads and writes /hello, checks
# `bento status`, and unmounts it each way: `bento umount` (waits for the
# flush), SIGTERM, plain umount(8), and a foreground (-f) daemon ending on
# SIGINT.  After each, a remount must show what was written.  Also a
# read-only mount.  Needs root (FUSE mounts).  In a sanitizer build the
# daemons' reports go to files, and any report fails the test.
set -u
cd "$(dirname "$0")/.."
. tests/lib/tap.sh

B=${1:-build}
BENTO=$B/bin/bento
MOD=$B/fs/hello.so
for f in "$BENTO" "$MOD"; do
	[ -e "$f" ] || bail "$f: not built"
done
[ "$(id -u)" = 0 ] || bail "must run as root (FUSE mounts)"

WORK=$(mktemp -d /tmp/bento-hello.XXXXXX)
IMG=$WORK/hello.img
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

# daemon_pid MNT: the serving daemon's pid, from bento status --json.
daemon_pid() {
	"$BENTO" status --json "$1" | sed -n 's/^  "pid": \([0-9]*\),*$/\1/p'
}

# alive PID: the process exists and is not a zombie (the daemons are
# orphans, and not every init reaps them at once).
alive() {
	local st
	st=$(sed -n 's/^[0-9]* (.*) \([A-Z]\) .*/\1/p' "/proc/$1/stat" 2>/dev/null)
	[ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

# wait_gone PID: wait up to 10 s for a process to exit.
wait_gone() {
	local i
	for i in $(seq 100); do
		alive "$1" || return 0
		sleep 0.1
	done
	return 1
}

truncate -s 64K "$IMG"

# 1. Mount, write, read.
"$BENTO" mount "$MOD" "$IMG" "$MNT"
ok $? "bento mount hello.so returns 0"
mountpoint -q "$MNT"
ok $? "the mount is up when bento mount returns"
is "$(findmnt -n -o FSTYPE,SOURCE "$MNT")" "fuse.bento.hello $IMG" \
	"mount shows type fuse.bento.hello and the image as source"
is "$(ls -A "$MNT")" "hello" "the root holds exactly one file, hello"
is "$(stat -c %s "$MNT/hello")" 0 "hello is empty on a zeroed image"
echo "Hello, Bento" >"$MNT/hello"
is "$(cat "$MNT/hello")" "Hello, Bento" "read back what was written"
printf 'again' >>"$MNT/hello"
is "$(cat "$MNT/hello")" "Hello, Bento
again" "append"
touch "$MNT/other" 2>/dev/null
ok $((! $?)) "creating another file fails (hello has one file)"
# The kernel's writeback cache accepts the write; the fs refuses it at
# writeback, and fsync reports that.
dd if=/dev/zero of="$MNT/hello" bs=5000 count=1 conv=fsync 2>/dev/null
ok $((! $?)) "writing past 4092 bytes fails by fsync at the latest"
echo "short" >"$MNT/hello"
is "$(cat "$MNT/hello")" "short" "O_TRUNC then write"

# 2. status.
st=$("$BENTO" status "$MNT")
ok $? "bento status returns 0"
echo "$st" | grep -q "hello 1.0"
ok $? "status names module hello, version 1.0"
echo "$st" | grep -Eq "^ +write +[1-9]"
ok $? "status counts writes"
"$BENTO" status --json "$MNT" | grep -q '"fs": "hello"'
ok $? "status --json names the file system"
pid=$(daemon_pid "$MNT")
[ -n "$pid" ] && alive "$pid"
ok $? "status --json gives the daemon's pid ($pid)"

# Only root and the mounting user may use the control socket: the file
# mode stops others, and SO_PEERCRED stops them even if the mode did not.
sock=/run/bento/$(mountpoint -d "$MNT").sock
is "$(stat -c '%a %U' "$sock" 2>&1)" "600 root" "control socket $sock is 0600, owned by root"
cp "$BENTO" "$WORK/bento-copy" && chmod 755 "$WORK" "$WORK/bento-copy"
out=$(su -s /bin/sh nobody -c "'$WORK/bento-copy' status '$MNT'" 2>&1)
rc=$?
[ $rc = 32 ] && echo "$out" | grep -q "Permission denied"
ok $? "another user cannot open the socket (exit $rc: $out)"
chmod 666 "$sock"
out=$(su -s /bin/sh nobody -c "'$WORK/bento-copy' status '$MNT'" 2>&1)
rc=$?
[ $rc = 32 ] && echo "$out" | grep -q "control socket: Permission denied"
ok $? "with the socket opened up, SO_PEERCRED still refuses (exit $rc: $out)"
chmod 600 "$sock"

# 3. bento umount waits for the flush; a remount sees the data.
"$BENTO" umount "$MNT"
ok $? "bento umount returns 0"
! mountpoint -q "$MNT" && ! alive "$pid"
ok $? "after bento umount the mount and the daemon are gone"
is "$(dd if="$IMG" bs=1 skip=4 count=5 2>/dev/null)" "short" \
	"the image holds the data when bento umount returns"
"$BENTO" mount "$MOD" "$IMG" "$MNT" &&
	is "$(cat "$MNT/hello")" "short" "remount: the data survived"

# 4. SIGTERM.
echo "after sigterm" >"$MNT/hello"
pid=$(daemon_pid "$MNT")
kill -TERM "$pid"
wait_gone "$pid"
ok $? "SIGTERM ends the daemon"
! mountpoint -q "$MNT"
ok $? "SIGTERM unmounts"
"$BENTO" mount "$MOD" "$IMG" "$MNT" &&
	is "$(cat "$MNT/hello")" "after sigterm" "SIGTERM flushed the data"

# 5. Plain umount(8).
echo "after umount" >"$MNT/hello"
pid=$(daemon_pid "$MNT")
umount "$MNT"
ok $? "umount(8) works"
wait_gone "$pid"
ok $? "the daemon exits after umount(8)"
"$BENTO" mount "$MOD" "$IMG" "$MNT" &&
	is "$(cat "$MNT/hello")" "after umount" "umount(8) flushed the data"
"$BENTO" umount "$MNT"

# 6. Foreground, ended by SIGINT.
"$BENTO" mount -f "$MOD" "$IMG" "$MNT" 2>"$WORK/fg.log" &
fg=$!
for i in $(seq 50); do mountpoint -q "$MNT" && break; sleep 0.1; done
mountpoint -q "$MNT"
ok $? "bento mount -f serves in the foreground"
echo "foreground" >"$MNT/hello"
kill -INT "$fg"
wait "$fg"
ok $? "SIGINT ends a foreground daemon with status 0"
grep -q "unmounted, everything written" "$WORK/fg.log"
ok $? "the foreground daemon logs its clean unmount to stderr"

# 7. Read-only.
"$BENTO" mount -o ro "$MOD" "$IMG" "$MNT"
ok $? "bento mount -o ro"
is "$(cat "$MNT/hello")" "foreground" "read-only mount reads the data"
echo "nope" 2>/dev/null >"$MNT/hello"
ok $((! $?)) "read-only mount refuses writes"
"$BENTO" umount "$MNT"
ok $? "bento umount of the read-only mount"

# 8. bento umount on a busy mount fails and leaves it serving.
"$BENTO" mount "$MOD" "$IMG" "$MNT"
exec 7<"$MNT/hello"
err=$("$BENTO" umount "$MNT" 2>&1)
rc=$?
is "$rc" 32 "bento umount of a busy mount exits 32 ($err)"
is "$(cat "$MNT/hello")" "foreground" "the busy mount still serves"
exec 7<&-
"$BENTO" umount "$MNT"
ok $? "bento umount once it is no longer busy"

ls "$WORK"/san.* >/dev/null 2>&1
ok $((! $?)) "no sanitizer reports from any bento process"
for f in "$WORK"/san.*; do [ -e "$f" ] && head -n 30 "$f" | sed 's/^/# /'; done

done_testing
