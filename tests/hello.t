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
# read-only mount.  Then the host's protections: one image serves one
# read-write mount (image file and loop device), the periodic commit
# reaches the image while mounted, write(2) gets EFBIG at once
# (write-through), a stopped daemon cannot hang `bento status` or `bento
# umount`, a dead one is reported and detached, a directory inside a mount
# is not its mount point, and a failed final write-back (full backing
# file system) makes `bento umount` fail.  Needs root (FUSE mounts).  In a
# sanitizer build the daemons' reports go to files, and any report fails
# the test.
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
MNT2=$WORK/mnt2
mkdir -p "$MNT" "$MNT2"
STOPPED=
LOOP=
export ASAN_OPTIONS="log_path=$WORK/san:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="log_path=$WORK/san:print_stacktrace=1:${UBSAN_OPTIONS:-}"
cleanup() {
	[ -n "$STOPPED" ] && kill -CONT "$STOPPED" 2>/dev/null
	for m in "$MNT" "$MNT2"; do
		if mountpoint -q "$m"; then
			timeout 10 "$BENTO" umount "$m" >/dev/null 2>&1 ||
				umount -l "$m"
		fi
	done
	[ -n "$LOOP" ] && losetup -d "$LOOP" 2>/dev/null
	for m in "$WORK/full" "$WORK/ro"; do
		mountpoint -q "$m" && umount -l "$m"
	done
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
# Write-through by default: write(2) itself gets the file system's EFBIG
# (with the kernel's writeback cache it would succeed, and the bytes be
# dropped at write-back).
err=$(dd if=/dev/zero of="$MNT/hello" bs=5000 count=1 2>&1)
rc=$?
[ $rc != 0 ] && echo "$err" | grep -q "File too large"
ok $? "writing past 4092 bytes fails in write(2) with EFBIG, no fsync needed (exit $rc)"
echo "short" >"$MNT/hello"
is "$(cat "$MNT/hello")" "short" "O_TRUNC then write"

# 2. status.
st=$("$BENTO" status "$MNT")
ok $? "bento status returns 0"
echo "$st" | grep -q "hello 1.0"
ok $? "status names module hello, version 1.0"
echo "$st" | grep -Eq "^ +write +[1-9]"
ok $? "status counts writes"
echo "$st" | grep -q "host: *rw, commit=5s, write-through, cache_blocks=16384 (64 MiB), max_threads=4"
ok $? "status shows the host's options apart from the file system's"
json=$("$BENTO" status --json "$MNT")
echo "$json" | grep -q '"fs": "hello"'
ok $? "status --json names the file system"
echo "$json" | grep -Eq '^  "read_only": false,$' &&
	echo "$json" | grep -Eq '^  "mount_time": [0-9]+\.[0-9]+,$' &&
	echo "$json" | grep -Eq '^  "mount_time_iso": "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z",$' &&
	echo "$json" | grep -Eq '^    "commit": 5,$' &&
	echo "$json" | grep -Eq '^    "writeback_cache": false,$' &&
	echo "$json" | grep -Eq '^  "version": "1.0",$'
ok $? "status --json: booleans, mount_time a number plus an ISO string, host options, version a string"
pid=$(daemon_pid "$MNT")
[ -n "$pid" ] && alive "$pid"
ok $? "status --json gives the daemon's pid ($pid)"

# Only root and the mounting user may use the control socket: the file
# mode stops others, and SO_PEERCRED stops them even if the mode did not.
sock=/run/bento/$(mountpoint -d "$MNT").sock
is "$(stat -c '%a %U' "$sock" 2>&1)" "600 root" "control socket $sock is 0600, owned by root"
cp "$BENTO" "$WORK/bento-copy" && chmod 755 "$WORK" "$WORK/bento-copy"
want="bento: $MNT: permission denied: only root or the mounting user may ask"
out=$(su -s /bin/sh nobody -c "'$WORK/bento-copy' status '$MNT'" 2>&1)
rc=$?
[ $rc = 32 ] && [ "$out" = "$want" ]
ok $? "another user cannot open the socket (exit $rc: $out)"
chmod 666 "$sock"
out=$(su -s /bin/sh nobody -c "'$WORK/bento-copy' status '$MNT'" 2>&1)
rc=$?
[ $rc = 32 ] && [ "$out" = "$want" ]
ok $? "with the socket opened up, SO_PEERCRED still refuses, same message (exit $rc: $out)"
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

# 9. One image, one writer: a second mount of a mounted image is refused,
# read-write or read-only; read-only mounts may share it; a Bento mount
# is not mounted over.
"$BENTO" mount "$MOD" "$IMG" "$MNT"
ok $? "mount again for the exclusion checks"
err=$("$BENTO" mount "$MOD" "$IMG" "$MNT2" 2>&1)
rc=$?
[ $rc = 32 ] && [ "$err" = "bento: $IMG: in use (mounted or being checked)" ] &&
	! mountpoint -q "$MNT2"
ok $? "a second read-write mount of the image is refused (exit $rc: $err)"
err=$("$BENTO" mount -o ro "$MOD" "$IMG" "$MNT2" 2>&1)
rc=$?
[ $rc = 32 ] && [ "$err" = "bento: $IMG: in use (mounted or being checked)" ]
ok $? "a read-only mount beside a read-write one is refused (exit $rc: $err)"
cp "$IMG" "$WORK/other.img"
err=$("$BENTO" mount "$MOD" "$WORK/other.img" "$MNT" 2>&1)
rc=$?
[ $rc = 32 ] && echo "$err" | grep -q "$MNT: already a Bento mount (of $IMG)"
ok $? "mounting over a Bento mount is refused (exit $rc: $err)"

# 10. A directory (or file) inside a mount is not its mount point.
err=$("$BENTO" umount "$MNT/hello" 2>&1)
rc=$?
[ $rc = 32 ] && [ "$err" = "bento: $MNT/hello: not a mount point (it is inside the Bento mount $MNT)" ] &&
	mountpoint -q "$MNT"
ok $? "bento umount MNT/hello: not a mount point, exit 32, the mount stays (exit $rc: $err)"
"$BENTO" umount "$MNT"
"$BENTO" mount -o ro "$MOD" "$IMG" "$MNT" &&
	"$BENTO" mount -o ro "$MOD" "$IMG" "$MNT2"
ok $? "two read-only mounts share the image"
"$BENTO" umount "$MNT2" && "$BENTO" umount "$MNT"
ok $? "and both unmount"

# 11. A block device: the same exclusion, by O_EXCL and the flock.
LOOP=$(losetup -f --show "$IMG")
ok $? "loop device $LOOP over the image"
"$BENTO" mount "$MOD" "$LOOP" "$MNT"
ok $? "mount the loop device"
err=$("$BENTO" mount -o ro "$MOD" "$LOOP" "$MNT2" 2>&1)
rc=$?
[ $rc = 32 ] && [ "$err" = "bento: $LOOP: in use (mounted or being checked)" ]
ok $? "a second mount of the block device is refused (exit $rc: $err)"
"$BENTO" umount "$MNT"
losetup -d "$LOOP" && LOOP=

# 12. The commit interval: changes reach the image while mounted.
"$BENTO" mount -o commit=1 "$MOD" "$IMG" "$MNT"
echo "committed" >"$MNT/hello"
sleep 2.5
is "$(dd if="$IMG" bs=1 skip=4 count=9 2>/dev/null)" "committed" \
	"commit=1: the image holds the data 2.5 s later, still mounted"
"$BENTO" status "$MNT" | grep -Eq "commits: +[1-9][0-9]* done, 0 failed"
ok $? "status counts the commits"
"$BENTO" umount "$MNT"
"$BENTO" mount -o commit=0 "$MOD" "$IMG" "$MNT"
echo "uncommitted" >"$MNT/hello"
sleep 2.5
is "$(dd if="$IMG" bs=1 skip=4 count=9 2>/dev/null)" "committed" \
	"commit=0: nothing reaches the image before the unmount"
"$BENTO" umount "$MNT"
is "$(dd if="$IMG" bs=1 skip=4 count=11 2>/dev/null)" "uncommitted" \
	"commit=0: the unmount writes it"

# 13. A stopped daemon: status and umount give up with a message.
"$BENTO" mount "$MOD" "$IMG" "$MNT"
pid=$(daemon_pid "$MNT")
kill -STOP "$pid" && STOPPED=$pid
t0=$SECONDS
err=$("$BENTO" status -t 2 "$MNT" 2>&1)
rc=$?
[ $rc = 32 ] && [ "$err" = "bento: $MNT: the daemon did not answer within 2 s (stopped or hung?)" ]
ok $? "status of a stopped daemon: exit 32 with a message (exit $rc: $err)"
err=$("$BENTO" umount -t 2 "$MNT" 2>&1)
rc=$?
[ $rc = 32 ] && [ "$err" = "bento: $MNT: the daemon did not answer within 2 s (stopped or hung?); still mounted" ]
ok $? "umount -t 2 of a stopped daemon: exit 32, still mounted (exit $rc: $err)"
[ $((SECONDS - t0)) -lt 10 ]
ok $? "neither hung ($((SECONDS - t0)) s for both)"
kill -CONT "$pid" && STOPPED=
sleep 0.5
is "$(cat "$MNT/hello")" "uncommitted" "continued, the daemon serves; the abandoned umount was ignored"

# 14. A dead daemon: status says so, umount detaches the dead mount.
kill -KILL "$pid"
wait_gone "$pid"
err=$("$BENTO" status "$MNT" 2>&1)
rc=$?
[ $rc = 32 ] && [ "$err" = "bento: $IMG at $MNT: daemon is gone; run 'bento umount $MNT'" ]
ok $? "status of a dead daemon (exit $rc: $err)"
err=$("$BENTO" umount "$MNT" 2>&1)
rc=$?
[ $rc = 32 ] && ! mountpoint -q "$MNT"
ok $? "umount of a dead daemon detaches it, exit 32 (exit $rc: $err)"

# 15. A backing file system that is full: the commit fails, and so does
# the final write-back, and bento umount says so.
mkdir -p "$WORK/full"
mount -t tmpfs -o size=64k tmpfs "$WORK/full"
truncate -s 64K "$WORK/full/h.img"
dd if=/dev/zero of="$WORK/full/filler" bs=4k 2>/dev/null
"$BENTO" mount -o commit=1 "$MOD" "$WORK/full/h.img" "$MNT"
echo "no room" >"$MNT/hello"
sleep 2
"$BENTO" status "$MNT" | grep -Eq "commits: +0 done, [1-9][0-9]* failed"
ok $? "commits on a full backing file system fail, and status counts them"
err=$("$BENTO" umount "$MNT" 2>&1)
rc=$?
[ $rc = 32 ] && echo "$err" | grep -q "unmounted, but the final write-back failed"
ok $? "bento umount exits 32 when the final write-back failed (exit $rc: $err)"
umount "$WORK/full"

# 16. An image the daemon cannot open for writing: the hint is -o ro.
mkdir -p "$WORK/ro"
mount --bind "$WORK" "$WORK/ro" && mount -o remount,bind,ro "$WORK/ro"
err=$("$BENTO" mount "$MOD" "$WORK/ro/hello.img" "$MNT" 2>&1)
rc=$?
[ $rc = 32 ] && [ "$err" = "bento: $WORK/ro/hello.img: cannot open for writing: Read-only file system (mount it with -o ro?)" ]
ok $? "read-write mount of a read-only image suggests -o ro (exit $rc: $err)"
"$BENTO" mount -o ro "$MOD" "$WORK/ro/hello.img" "$MNT" &&
	"$BENTO" umount "$MNT"
ok $? "and -o ro mounts it"
umount "$WORK/ro"

"$BENTO" help --help | grep -q "^Usage: bento COMMAND"
ok $? "bento help --help"

ls "$WORK"/san.* >/dev/null 2>&1
ok $((! $?)) "no sanitizer reports from any bento process"
for f in "$WORK"/san.*; do [ -e "$f" ] && head -n 30 "$f" | sed 's/^/# /'; done

done_testing
