#!/bin/bash
# run.sh - the file-system benchmark behind `make bench-fs`.
#
#   bench/fs/run.sh [BUILD_DIR]        (as root; BUILD_DIR defaults to build)
#
# Runs the same workloads on up to three targets, each on an image file of
# the same size under $BENCH_WORK (default /var/tmp/bento-bench):
#
#   xv6fs    fs/xv6fs over FUSE, served by `bento mount`
#   ext4     kernel ext4 on a loop device
#   fuse2fs  the Debian fuse2fs daemon serving an ext4 image
#
# Workloads (rows of the table):
#
#   seq-write   dd 1 GiB in 1 MiB blocks, conv=fsync (the write reaches the
#               device before the clock stops)
#   seq-read    the same file read back after unmount, drop_caches and
#               mount, so the kernel's and the daemon's caches are cold
#   rand-read   fio, 4 KiB random reads over a 256 MiB file, psync, queue
#               depth 1, cold start, time-bounded
#   rand-write  fio, 64 MiB of 4 KiB random writes into that file, then
#               fsync; timed from start to the end of the fsync
#   create, stat, unlink
#               bench-fsops: 50,000 files of 512 bytes in one directory,
#               each phase timed separately (create phase capped at
#               $BENCH_META_CAP seconds; a capped target is noted)
#   untar       tar -x of a tarball of /usr/include (made once, cached in
#               $BENCH_CACHE) plus syncfs; seconds, lower is better
#   fsync       2,000 appends of 4 KiB, each followed by fsync
#
# Each workload runs BENCH_REPS times (default 3).  Within a workload the
# repetitions are interleaved across targets, in an order that rotates
# from one repetition to the next, so slow drifts of this shared machine
# hit every target alike.  The report gives the median and the spread
# (min-max) per target, and the ratios xv6fs/ext4 and xv6fs/fuse2fs
# oriented so that >1 always means xv6fs is better.  The table goes to
# stdout, progress to stderr, and a JSON copy to bench/results/fs.json
# (fs-quick.json for BENCH_QUICK=1).
#
# Knobs: BENCH_REPS, BENCH_QUICK=1 (small sizes, 1 rep), BENCH_TARGETS,
# BENCH_OUT, BENCH_WORK, BENCH_CACHE, BENCH_META_CAP, BENCH_TIMEOUT.
#
# Everything this script creates (mounts, FUSE daemons, loop devices,
# images) is removed on exit, failure or Ctrl-C.  A workload that fails on
# one target is reported as FAIL in its row, the target is remounted and
# the run goes on; the exit status is then 1.
#
# Limits: figures measure this VM's virtual disk through the host page
# cache (images are plain files); rows that reach the disk vary a lot
# between runs, which is why medians and spreads are reported.
set -u -o pipefail

log() { printf 'bench: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

[ $# -le 1 ] && [ "${1:-}" != -h ] && [ "${1:-}" != --help ] || {
	echo "usage: bench/fs/run.sh [BUILD_DIR]   (as root; see the top of the file)" >&2
	exit 2
}
BUILD=$(cd "${1:-build}" 2>/dev/null && pwd) ||
	die "${1:-build}: no such build directory"
cd "$(dirname "$0")/../.." || exit 1

# ---- configuration ------------------------------------------------------

QUICK=${BENCH_QUICK:-0}
TARGETS=${BENCH_TARGETS:-xv6fs ext4 fuse2fs}
WORK=${BENCH_WORK:-/var/tmp/bento-bench}
CACHE=${BENCH_CACHE:-/var/cache/bento-bench}
TIMEOUT=${BENCH_TIMEOUT:-600}
FSOPS=$BUILD/bench/bin/bench-fsops

if [ "$QUICK" = 1 ]; then
	REPS=${BENCH_REPS:-1}
	IMG_MB=768 SEQ_MB=64 RAND_FILE_MB=32 RAND_SECS=2 RANDW_MB=8
	META_FILES=2000 FSYNC_N=200 TAR_SRC=/usr/include/linux
	META_CAP=${BENCH_META_CAP:-10}
	OUT=${BENCH_OUT:-bench/results/fs-quick.json}
else
	REPS=${BENCH_REPS:-3}
	IMG_MB=3072 SEQ_MB=1024 RAND_FILE_MB=256 RAND_SECS=8 RANDW_MB=64
	META_FILES=50000 FSYNC_N=2000 TAR_SRC=/usr/include
	META_CAP=${BENCH_META_CAP:-40}
	OUT=${BENCH_OUT:-bench/results/fs.json}
fi

case $REPS in
'' | *[!0-9]* | 0) die "BENCH_REPS '$REPS': want a positive integer" ;;
esac
for t in $TARGETS; do
	case $t in
	xv6fs | ext4 | fuse2fs) ;;
	*) die "BENCH_TARGETS: unknown target '$t' (want xv6fs, ext4, fuse2fs)" ;;
	esac
done
read -r -a TGT <<<"$TARGETS"
[ ${#TGT[@]} -gt 0 ] || die "BENCH_TARGETS is empty"

# ---- dependencies ---------------------------------------------------------

[ "$(id -u)" = 0 ] || die "must run as root (loop devices, mounts, drop_caches)"

need_pkgs=()
command -v fio >/dev/null || need_pkgs+=(fio)
command -v mkfs.ext4 >/dev/null || need_pkgs+=(e2fsprogs)
case " $TARGETS " in
*" fuse2fs "*) command -v fuse2fs >/dev/null || need_pkgs+=(fuse2fs) ;;
esac
if [ ${#need_pkgs[@]} -gt 0 ]; then
	log "installing ${need_pkgs[*]}"
	apt-get install -y -t bookworm "${need_pkgs[@]}" >&2 ||
		die "could not install ${need_pkgs[*]}"
fi
for c in fio mkfs.ext4 losetup mountpoint timeout tar dd awk; do
	command -v $c >/dev/null || die "missing command: $c"
done
[ -x "$FSOPS" ] || die "$FSOPS: not built (run make bench-fs)"
case " $TARGETS " in
*" xv6fs "*)
	for f in "$BUILD/bin/bento" "$BUILD/fs/xv6fs.so" \
		 "$BUILD/bin/mkfs.xv6fs"; do
		[ -e "$f" ] || die "$f: not built (or set BENCH_TARGETS)"
	done ;;
esac

# ---- state and cleanup ----------------------------------------------------

declare -A IMG MNT DEV PID UP
RAW=$WORK/raw.tsv	# workload target rep value
NOTES=$WORK/notes.txt
FAILED=0

cleanup() {
	local t
	trap - EXIT INT TERM
	for t in "${TGT[@]}"; do
		[ -n "${MNT[$t]:-}" ] || continue
		tgt_umount "$t" 2>/dev/null
		if [ -n "${PID[$t]:-}" ] && kill -0 "${PID[$t]}" 2>/dev/null; then
			kill "${PID[$t]}" 2>/dev/null
		fi
		mountpoint -q "${MNT[$t]}" && umount -l "${MNT[$t]}"
		[ -n "${DEV[$t]:-}" ] && losetup -d "${DEV[$t]}" 2>/dev/null
	done
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'log "interrupted, cleaning up"; exit 130' INT TERM

# Sleep-poll until @pid is gone, at most @secs seconds; 0 if it is gone.
wait_gone() {
	local pid=$1 secs=$2 i
	for ((i = 0; i < secs * 20; i++)); do
		kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return 0; }
		sleep 0.05
	done
	return 1
}

drop_caches() {
	sync
	echo 3 >/proc/sys/vm/drop_caches
}

# ---- targets: mkfs, mount, umount ------------------------------------------

tgt_mkfs() {
	local t=$1 img=$WORK/$1.img
	IMG[$t]=$img
	MNT[$t]=$WORK/mnt-$t
	mkdir -p "${MNT[$t]}" || return 1
	rm -f "$img"
	truncate -s "${IMG_MB}M" "$img" || return 1
	case $t in
	xv6fs)
		"$BUILD/bin/mkfs.xv6fs" -F -q "$img" >"$WORK/$t.mkfs.log" 2>&1 ;;
	ext4 | fuse2fs)
		mkfs.ext4 -F -q -E lazy_itable_init=0,lazy_journal_init=0 \
			"$img" >"$WORK/$t.mkfs.log" 2>&1 ;;
	esac || { log "mkfs for $t failed:"; cat "$WORK/$t.mkfs.log" >&2; return 1; }
}

# Start a FUSE daemon in the background (foreground mode or not) and wait
# until @mnt is mounted.  Sets PID[t] to the process we started.
fuse_start() {
	local t=$1 mnt=$2 i
	shift 2
	"$@" </dev/null >>"$WORK/$t.daemon.log" 2>&1 &
	PID[$t]=$!
	for ((i = 0; i < 200; i++)); do
		mountpoint -q "$mnt" && return 0
		if ! kill -0 "${PID[$t]}" 2>/dev/null; then
			wait "${PID[$t]}" 2>/dev/null || break
		fi
		sleep 0.05
	done
	log "$t: mount failed; daemon log:"
	tail -n 5 "$WORK/$t.daemon.log" >&2
	return 1
}

tgt_mount() {
	local t=$1 mnt=${MNT[$1]}
	case $t in
	ext4)
		if [ -z "${DEV[$t]:-}" ]; then
			DEV[$t]=$(losetup -f --show "${IMG[$t]}") || return 1
		fi
		mount -t ext4 "${DEV[$t]}" "$mnt" || return 1 ;;
	fuse2fs)
		fuse_start "$t" "$mnt" fuse2fs "${IMG[$t]}" "$mnt" -f || return 1 ;;
	xv6fs)
		fuse_start "$t" "$mnt" "$BUILD/bin/bento" mount -f \
			"$BUILD/fs/xv6fs.so" "${IMG[$t]}" "$mnt" || return 1 ;;
	esac
	UP[$t]=1
}

# Unmount and, for FUSE targets, wait for the daemon to finish flushing.
tgt_umount() {
	local t=$1 mnt=${MNT[$1]} rc=0
	[ "${UP[$t]:-0}" = 1 ] || return 0
	UP[$t]=0
	case $t in
	ext4) umount "$mnt" || rc=1 ;;
	fuse2fs) umount "$mnt" || rc=1 ;;
	xv6fs) "$BUILD/bin/bento" umount "$mnt" >>"$WORK/$t.daemon.log" 2>&1 ||
		rc=1 ;;
	esac
	if [ -n "${PID[$t]:-}" ]; then
		if ! wait_gone "${PID[$t]}" 120; then
			log "$t: daemon ${PID[$t]} still running 120 s after unmount"
			rc=1
		fi
		PID[$t]=
	fi
	return $rc
}

remount_cold() {
	tgt_umount "$1" && drop_caches && tgt_mount "$1"
}

# ---- measuring ---------------------------------------------------------------

# timed CMD...: run CMD under the timeout; sets ELAPSED (seconds) and OUTPUT
# (its stdout).  Returns CMD's status.
ELAPSED=0
OUTPUT=
timed() {
	local t0 t1 rc
	t0=$(date +%s%N)
	OUTPUT=$(timeout --foreground -k 10 "$TIMEOUT" "$@" 2>"$WORK/cmd.err")
	rc=$?
	t1=$(date +%s%N)
	ELAPSED=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f", (b - a) / 1e9 }')
	if [ $rc -ne 0 ]; then
		[ $rc = 124 ] && log "timed out after $TIMEOUT s: $*"
		head -n 3 "$WORK/cmd.err" >&2
	fi
	return $rc
}

div() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", (b > 0 ? a / b : 0) }'; }

REP=0
SHOWN=
record() {	# record WORKLOAD TARGET VALUE
	printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$REP" "$3" >>"$RAW"
	SHOWN="$SHOWN $1=$3"
}

note() { printf '%s\n' "$*" >>"$NOTES"; log "note: $*"; }

# ---- workloads: each takes a target, records its rows, 0 or 1 ----------------

wl_seq() {
	local t=$1 f=${MNT[$1]}/seq.dat size
	drop_caches
	timed dd if=/dev/zero of="$f" bs=1M count="$SEQ_MB" conv=fsync \
		status=none || return 1
	record seq-write "$t" "$(div "$SEQ_MB" "$ELAPSED")"

	remount_cold "$t" || return 1
	size=$(stat -c %s "$f") || return 1
	[ "$size" = $((SEQ_MB << 20)) ] ||
		{ log "$t: $f is $size bytes after remount"; return 1; }
	timed dd if="$f" of=/dev/null bs=1M status=none || return 1
	record seq-read "$t" "$(div "$SEQ_MB" "$ELAPSED")"
	rm -f "$f"
}

wl_rand() {
	local t=$1 f=${MNT[$1]}/rand.dat kb
	local fio_common=(--name=rand --filename="$f" --bs=4k
		--size="${RAND_FILE_MB}M" --ioengine=psync --iodepth=1
		--output-format=terse --terse-version=3)
	dd if=/dev/zero of="$f" bs=1M count="$RAND_FILE_MB" conv=fsync \
		status=none || return 1
	remount_cold "$t" || return 1
	timed fio "${fio_common[@]}" --rw=randread --runtime="$RAND_SECS" \
		--time_based || return 1
	record rand-read "$t" "$(cut -d';' -f8 <<<"$OUTPUT")"

	drop_caches
	timed fio "${fio_common[@]}" --rw=randwrite --io_size="${RANDW_MB}M" \
		--end_fsync=1 || return 1
	kb=$(cut -d';' -f47 <<<"$OUTPUT")
	record rand-write "$t" "$(div "$((kb / 4))" "$ELAPSED")"
	rm -f "$f"
}

wl_meta() {
	local t=$1 d=${MNT[$1]}/meta phase v
	mkdir "$d" || return 1
	sync
	timed "$FSOPS" -t "$META_CAP" meta "$d" "$META_FILES" || return 1
	while read -r phase v; do
		case $phase in
		create | stat | unlink) record "$phase" "$t" "$v" ;;
		capped) note "$t: create phase hit the ${META_CAP} s cap after $v of $META_FILES files (rep $REP); its create/stat/unlink figures are for that many files, which flatters it" ;;
		esac
	done <<<"$OUTPUT"
	rmdir "$d"
}

wl_untar() {
	local t=$1 d=${MNT[$1]}/untar n
	mkdir "$d" || return 1
	cat "$TARBALL" >/dev/null
	sync
	timed sh -c 'tar -xf "$1" -C "$2" && sync -f "$2"' sh "$TARBALL" "$d" ||
		return 1
	n=$(cd "$d" && find . -mindepth 1 | wc -l)
	[ "$n" = "$TAR_ENTRIES" ] ||
		{ log "$t: untar left $n entries, want $TAR_ENTRIES"; return 1; }
	record untar "$t" "$ELAPSED"
	rm -rf "$d"
}

wl_fsync() {
	local t=$1 f=${MNT[$1]}/fsync.dat v
	sync
	timed "$FSOPS" fsync "$f" "$FSYNC_N" || return 1
	read -r _ v <<<"$OUTPUT"
	record fsync "$t" "$v"
	rm -f "$f"
}

# ---- the untar source, made once ----------------------------------------------

make_tarball() {
	local name
	name=$(echo "$TAR_SRC" | tr / _)
	TARBALL=$CACHE/src$name.tar
	mkdir -p "$CACHE" || die "$CACHE: cannot create"
	if [ ! -s "$TARBALL" ]; then
		[ -d "$TAR_SRC" ] || die "$TAR_SRC: missing, cannot make the untar source"
		log "making $TARBALL from $TAR_SRC (once)"
		tar -C "$(dirname "$TAR_SRC")" -cf "$TARBALL.tmp" \
			"$(basename "$TAR_SRC")" 2>/dev/null &&
			mv "$TARBALL.tmp" "$TARBALL" ||
			die "$TARBALL: could not create"
	fi
	TAR_ENTRIES=$(tar -tf "$TARBALL" | sed 's,/$,,' | sort -u | wc -l)
	TAR_MB=$(($(stat -c %s "$TARBALL") >> 20))
}

# ---- the report -----------------------------------------------------------------

# One line per row: name, unit, higher_is_better, description.
rows() {
	cat <<EOF
seq-write	MiB/s	1	write ${SEQ_MB} MiB in 1 MiB blocks, fsync at end
seq-read	MiB/s	1	read ${SEQ_MB} MiB in 1 MiB blocks, caches cold (remount + drop_caches)
rand-read	IOPS	1	fio 4 KiB random reads, ${RAND_FILE_MB} MiB file, psync QD1, ${RAND_SECS} s, cold start
rand-write	IOPS	1	fio ${RANDW_MB} MiB of 4 KiB random writes into a ${RAND_FILE_MB} MiB file, then fsync
create	ops/s	1	create + write 512 B + close, ${META_FILES} files in one directory
stat	ops/s	1	stat each of those files
unlink	ops/s	1	unlink each of those files
untar	s	0	tar -x of ${TAR_SRC} (${TAR_ENTRIES} entries, ${TAR_MB} MiB) + syncfs
fsync	ops/s	1	${FSYNC_N} x 4 KiB append, each followed by fsync
EOF
}

report() {
	local cpu commit
	cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
	commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
	rows >"$WORK/rows.tsv"
	touch "$RAW" "$NOTES"
	mkdir -p "$(dirname "$OUT")"
	awk -F '\t' -f bench/fs/report.awk \
		-v json="$OUT.tmp" -v reps="$REPS" -v quick="$QUICK" \
		-v date="$(date -Iseconds)" -v kernel="$(uname -r)" \
		-v cpus="$(nproc)" -v cpu="$cpu" -v commit="$commit" \
		-v image_mib="$IMG_MB" -v targets="$TARGETS" \
		"$WORK/rows.tsv" "$RAW" "$NOTES" &&
		mv "$OUT.tmp" "$OUT"
}

# ---- main ---------------------------------------------------------------------

START=$SECONDS
avail_mb=$(df -Pm "$(dirname "$WORK")" | awk 'NR == 2 { print $4 }')
need_mb=$(((SEQ_MB + RAND_FILE_MB + 512) * ${#TGT[@]}))
[ "${avail_mb:-0}" -ge "$need_mb" ] ||
	die "$(dirname "$WORK"): ${avail_mb} MiB free, need about $need_mb MiB"

rm -rf "$WORK"
mkdir -p "$WORK" || die "$WORK: cannot create"
: >"$RAW"
: >"$NOTES"
make_tarball

log "targets: ${TGT[*]}; $REPS rep(s); images ${IMG_MB} MiB in $WORK"
for t in "${TGT[@]}"; do
	tgt_mkfs "$t" || die "$t: mkfs failed"
	tgt_mount "$t" || die "$t: first mount failed"
done

WORKLOADS=(seq rand meta untar fsync)
n=${#TGT[@]}
for ((w = 0; w < ${#WORKLOADS[@]}; w++)); do
	wl=${WORKLOADS[$w]}
	for ((r = 1; r <= REPS; r++)); do
		REP=$r
		for ((i = 0; i < n; i++)); do
			t=${TGT[$(((i + r - 1 + w) % n))]}
			if [ "${UP[$t]:-0}" != 1 ] && ! tgt_mount "$t"; then
				log "[$wl $r/$REPS] $t: not mounted, skipped"
				FAILED=1
				continue
			fi
			log "[$wl $r/$REPS] $t ..."
			SHOWN=
			if "wl_$wl" "$t"; then
				log "[$wl $r/$REPS] $t:$SHOWN"
			else
				log "[$wl $r/$REPS] $t: FAILED"
				note "$t: $wl failed in rep $r"
				FAILED=1
				rm -rf "${MNT[$t]:?}"/* 2>/dev/null
				remount_cold "$t" || log "$t: remount failed"
			fi
		done
	done
done

for t in "${TGT[@]}"; do
	tgt_umount "$t" || { log "$t: unmount failed"; FAILED=1; }
done

report || die "could not write the report"
log "results in $OUT; total $((SECONDS - START)) s"
exit $FAILED
