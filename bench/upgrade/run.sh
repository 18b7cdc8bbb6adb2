#!/bin/bash
# run.sh - the live-upgrade benchmark behind `make bench-upgrade`.
#
#   bench/upgrade/run.sh [BUILD_DIR]        (as root, from anywhere)
#
# 1. mkfs.xv6fs a 256 MiB image, mount it with BUILD/fs/xv6fs.so (a copy
#    named a.so: two copies, so each upgrade loads a distinct object).
# 2. bench-upgrade (upload.c): 4 threads of checked reads, writes, fsyncs
#    and metadata while the mount is upgraded 100 times (20 with
#    BENCH_QUICK=1), 50 ms apart, cycling b.so, prov.so (a copy of
#    xv6fs_prov.so, if built), a.so.  Every operation's latency is kept,
#    split by whether it overlapped an upgrade command.
# 3. Edit to running: a copy of fs/xv6fs built by a makefile of its own
#    (objects kept, so an edit recompiles one file and relinks, as `make`
#    does in the tree); the mount is upgraded to it, then 3 times: append
#    a trivial line to one source file and run `bento dev --once`; the
#    save->serving time and the build's share are kept; status must show
#    a new build id each time.
# 4. Unmount, fsck.xv6fs must find the image clean.
#
# Prints a summary and writes bench/results/upgrade.json (upgrade-quick
# .json for BENCH_QUICK=1, or BENCH_OUT).  Target: p99 downtime under
# 1 ms; the JSON says whether it was met.  Exit 1 if any operation or
# upgrade failed, a read mismatched, fsck complained or a dev cycle
# failed.  BENCH_CFLAGS: compiler flags for the edit-to-running build
# (make passes its CFLAGS).
#
# Limits: this is a shared 2-core VM; latencies of single operations
# include scheduling noise from whatever else runs.  The "during" window
# of an upgrade is the whole `bento upgrade` command (start-up, module
# load, the swap itself), wider than the blocked interval.
set -u -o pipefail

log() { printf 'bench-upgrade: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

cd "$(dirname "$0")/../.." || exit 1
TOP=$(pwd)
B=$(cd "${1:-build}" 2>/dev/null && pwd) || die "${1:-build}: no such build directory"
BENTO=$B/bin/bento
LOAD=$B/bench/bin/bench-upgrade
for f in "$BENTO" "$LOAD" "$B/fs/xv6fs.so" "$B/bin/mkfs.xv6fs" "$B/bin/fsck.xv6fs"; do
	[ -x "$f" ] || [ -f "$f" ] || die "$f: not built (make bench-upgrade builds it)"
done
[ "$(id -u)" = 0 ] || die "must run as root (FUSE mounts)"

QUICK=${BENCH_QUICK:-0}
NUP=100
[ "$QUICK" = 1 ] && NUP=20
OUT=${BENCH_OUT:-bench/results/upgrade$([ "$QUICK" = 1 ] && echo -quick).json}
CFL=${BENCH_CFLAGS:--std=c11 -D_GNU_SOURCE -g -O2 -fPIC -Iinclude -Ibento/lib}

WORK=$(mktemp -d /tmp/bento-bench-upgrade.XXXXXX)
MNT=$WORK/mnt
mkdir -p "$MNT"
cleanup() {
	if mountpoint -q "$MNT"; then
		timeout 30 "$BENTO" umount "$MNT" >/dev/null 2>&1 ||
			umount -l "$MNT"
	fi
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
fail=0

# ---- 1. mount ---------------------------------------------------------------

"$B/bin/mkfs.xv6fs" -q -s 256M "$WORK/img" || die "mkfs.xv6fs failed"
cp "$B/fs/xv6fs.so" "$WORK/a.so"
cp "$B/fs/xv6fs.so" "$WORK/b.so"
MODS=("$WORK/a.so" "$WORK/b.so")
if [ -f "$B/fs/xv6fs_prov.so" ]; then
	cp "$B/fs/xv6fs_prov.so" "$WORK/prov.so"
	MODS=("$WORK/a.so" "$WORK/b.so" "$WORK/prov.so")
fi
"$BENTO" mount "$WORK/a.so" "$WORK/img" "$MNT" || die "bento mount failed"

# ---- 2. upgrades under load ---------------------------------------------------

log "$NUP upgrades, 50 ms apart, under 4 threads of load (modules: ${MODS[*]##*/})"
"$LOAD" -j 4 -n "$NUP" -i 50 "$BENTO" "$MNT" "${MODS[@]}" >"$WORK/load.out"
[ $? = 0 ] || { log "the workload saw failures"; fail=1; }
kv() { sed -n "s/^$1=//p" "$WORK/load.out"; }
for k in upgrades upgrade_failed downtime_us_p50 downtime_us_p99 \
	 downtime_us_max prepare_us_p50 prepare_us_p99 transfer_us_p50 \
	 transfer_us_p99 drain_us_p50 drain_us_p99 ops ops_failed mismatches during_ops during_p50_us \
	 during_p99_us during_max_us outside_ops outside_p50_us \
	 outside_p99_us outside_max_us; do
	v=$(kv "$k")
	[ -n "$v" ] || die "bench-upgrade gave no $k"
	printf -v "R_$k" '%s' "$v"
done
[ "$R_ops_failed" = 0 ] && [ "$R_mismatches" = 0 ] && [ "$R_upgrade_failed" = 0 ] ||
	{ log "FAILED: $R_ops_failed operations failed, $R_mismatches mismatches, $R_upgrade_failed upgrades failed"; fail=1; }

# ---- 3. edit to running ----------------------------------------------------------

SRC=$WORK/src
mkdir -p "$SRC" "$WORK/obj"
cp fs/xv6fs/*.c fs/xv6fs/*.h "$SRC/"
rm -f "$SRC/prov.c"
cat >"$WORK/dev.mk" <<EOF
OBJS := \$(patsubst $SRC/%.c,$WORK/obj/%.o,\$(wildcard $SRC/*.c))
$WORK/dev.so: \$(OBJS)
	\$(CC) -shared -o \$@ \$^
$WORK/obj/%.o: $SRC/%.c \$(wildcard $SRC/*.h)
	\$(CC) $CFL -c -o \$@ \$<
EOF
DEVBUILD="make -s -f $WORK/dev.mk"
sh -c "$DEVBUILD" && "$BENTO" upgrade "$MNT" "$WORK/dev.so" >/dev/null ||
	die "the edit-to-running build or its first upgrade failed"
devs=()
devbuilds=()
prev=$("$BENTO" status "$MNT" | sed -n 's/^  build id: *//p')
for i in 1 2 3; do
	echo "static const int bench_edit_$i __attribute__((used)) = $i;" >>"$SRC/dir.c"
	line=$("$BENTO" dev --once --build "$DEVBUILD" --module "$WORK/dev.so" "$SRC" "$MNT" 2>"$WORK/dev.err")
	rc=$?
	id=$("$BENTO" status "$MNT" | sed -n 's/^  build id: *//p')
	if [ $rc != 0 ] || [ "$id" = "$prev" ]; then
		log "bento dev cycle $i failed (exit $rc): $(tail -n 3 "$WORK/dev.err")"
		fail=1
		continue
	fi
	prev=$id
	log "edit $i: $line"
	devs+=("$(echo "$line" | sed -n 's/^save->serving \([0-9.]*\) s.*/\1/p')")
	devbuilds+=("$(echo "$line" | sed -n 's/.*(build \([0-9.]*\) s,.*/\1/p')")
done
median() { printf '%s\n' "$@" | sort -n | sed -n "$(( ($# + 1) / 2 ))p"; }
DEV_MED=$(median "${devs[@]:-0}")
DEV_BUILD_MED=$(median "${devbuilds[@]:-0}")

# ---- 4. unmount, fsck ---------------------------------------------------------

"$BENTO" umount "$MNT" || { log "bento umount failed"; fail=1; }
if ! "$B/bin/fsck.xv6fs" "$WORK/img" >"$WORK/fsck.out" 2>&1; then
	log "fsck.xv6fs found problems:"
	sed 's/^/  /' "$WORK/fsck.out" | head -n 20 >&2
	fail=1
	FSCK=false
else
	FSCK=true
fi

# ---- report --------------------------------------------------------------------

MET=false
[ "$R_upgrades" -gt 0 ] && [ "$R_downtime_us_p99" -lt 1000 ] && MET=true
json_list() { local IFS=,; echo "[$*]"; }
mkdir -p "$(dirname "$OUT")"
cat >"$OUT" <<EOF
{
  "benchmark": "bench-upgrade",
  "date": "$(date -u +%Y-%m-%dT%H:%M:%SZ)",
  "host": {"kernel": "$(uname -r)", "cpus": $(nproc)},
  "quick": $([ "$QUICK" = 1 ] && echo true || echo false),
  "workload": {"threads": 4, "mix": "3/8 checked 4 KiB pread, 2/8 4 KiB pwrite (+fsync every 64th round), 1/8 create+write+close, 1/8 stat, 1/8 rename+unlink"},
  "upgrades": {"done": $R_upgrades, "failed": $R_upgrade_failed, "interval_ms": 50, "modules": [$(printf '"%s",' "${MODS[@]##*/}" | sed 's/,$//')]},
  "downtime_us": {"p50": $R_downtime_us_p50, "p99": $R_downtime_us_p99, "max": $R_downtime_us_max},
  "downtime_parts_us": {"prepare_p50": $R_prepare_us_p50, "prepare_p99": $R_prepare_us_p99, "transfer_and_swap_p50": $R_transfer_us_p50, "transfer_and_swap_p99": $R_transfer_us_p99},
  "drain_before_downtime_us": {"p50": $R_drain_us_p50, "p99": $R_drain_us_p99},
  "ops": {"total": $R_ops, "failed": $R_ops_failed, "mismatches": $R_mismatches},
  "latency_during_upgrades_us": {"ops": $R_during_ops, "p50": $R_during_p50_us, "p99": $R_during_p99_us, "max": $R_during_max_us},
  "latency_outside_upgrades_us": {"ops": $R_outside_ops, "p50": $R_outside_p50_us, "p99": $R_outside_p99_us, "max": $R_outside_max_us},
  "edit_to_running_s": {"median": ${DEV_MED:-0}, "build_median": ${DEV_BUILD_MED:-0}, "cycles": $(json_list "${devs[@]}")},
  "fsck_clean": $FSCK,
  "target": {"p99_downtime_us_below": 1000, "met": $MET}
}
EOF

cat <<EOF
live upgrade of xv6fs under load: $R_upgrades upgrades ($R_upgrade_failed failed), 4 threads, $R_ops operations
  downtime           p50 $R_downtime_us_p50 us, p99 $R_downtime_us_p99 us, max $R_downtime_us_max us
    of which prepare p50 $R_prepare_us_p50 us, p99 $R_prepare_us_p99 us; transfer+swap p50 $R_transfer_us_p50 us, p99 $R_transfer_us_p99 us
  drain (before)     p50 $R_drain_us_p50 us, p99 $R_drain_us_p99 us (waiting for in-flight ops; new ones already held)
  op latency during  p50 $R_during_p50_us us, p99 $R_during_p99_us us, max $R_during_max_us us ($R_during_ops ops overlapping an upgrade command)
  op latency outside p50 $R_outside_p50_us us, p99 $R_outside_p99_us us, max $R_outside_max_us us ($R_outside_ops ops)
  failed operations  $R_ops_failed, mismatches $R_mismatches, fsck clean: $FSCK
  edit to running    ${DEV_MED:-?} s median of ${#devs[@]} (build ${DEV_BUILD_MED:-?} s): bento dev --once after a one-line edit
  target             p99 downtime under 1000 us: $([ $MET = true ] && echo met || echo NOT met)
  written to $OUT
EOF
exit $fail
