#!/bin/bash
# enoki-policies.t - each Enoki policy's defining property, shown in the
# simulator through `enoki sim --json` (issue 4, "Tests"):
#
#   - wfq gives CPU in proportion to weight within 5%: a nice 0 against a
#     nice 5 hog on 1 CPU, two of each on 2 CPUs, 10 simulated seconds;
#     the weights are the ones the simulator gives the tasks (sched_ext's
#     scale: nice 0 = 100, nice 5 = 33);
#   - shinjuku at 70% load with 99.5% 5 us / 0.5% 500 us service times
#     has a p99 request latency at least 5x lower than fifo (same
#     workload, same seed);
#   - arachne's grants follow requests and reclaims are announced: the
#     notification log, replayed, gives each application its max-min
#     share after every request, consistently, and each application gets
#     the CPU time of the cores it holds;
#   - locality places hinted wakeups on their hinted CPU at least 95% of
#     the time (from the per-task wake_cpus of --json and the region ->
#     CPU placements the policy announces); fifo, blind to hints, does
#     not, so the workload tells them apart;
#   - every policy runs a mixed workload (hogs, sleepers, a server, pipe
#     pairs, fork churn, renice, a pinned group, hints and requests) to
#     the end with a 1 s watchdog: exit 0, not ejected, every group ran.
#
# Record and replay of every policy on a multi-CPU workload is
# tests/enoki-replay.t's.  Each check prints its figure.  Workloads are in
# tests/enoki-policies/workloads/.  No python or jq: sed and awk.
#
#   tests/enoki-policies.t BUILD_DIR
set -u
cd "$(dirname "$0")/.."
. tests/lib/tap.sh

build=${1:?usage: enoki-policies.t BUILD_DIR}
enoki=$build/bin/enoki
W=tests/enoki-policies/workloads
policies=$(for f in sched/*/*.bpf.c; do basename "$f" .bpf.c; done)

[ -x "$enoki" ] || bail "$enoki not built"
for p in $policies; do
	[ -r "$build/sched/$p.so" ] || bail "$build/sched/$p.so not built"
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# sim OUT ARGS...: enoki sim --json ARGS > OUT; its exit status.
sim() {
	local out=$1
	shift
	"$enoki" sim --json "$@" >"$out" 2>"$out.err"
}

# group FILE NAME: that group's record of a --json output, on one line.
group() {
	awk -v g="{\"name\": \"$2\"," 'index($0, g) { on = 1 }
		on { printf "%s", $0 } on && /"spread"/ { print ""; exit }' "$1"
}

# num KEY: the number after "KEY": in stdin (the last one on the line).
num() {
	sed -n "s/.*\"$1\": \\([0-9.]*\\).*/\\1/p" | head -1
}

# tasks FILE GROUP KEY: KEY of each task of GROUP, one a line.
tasks() {
	grep "\"group\": \"$2\"," "$1" | num "$3"
}

# ---- wfq: CPU in proportion to weight ----------------------------------
for w in wfq-1cpu wfq-2cpu; do
	out=$tmp/$w.json
	sim "$out" $W/$w.json wfq
	st=$?
	r0=$(group "$out" nice0 | num runtime_ns)
	r5=$(group "$out" nice5 | num runtime_ns)
	w0=$(tasks "$out" nice0 weight | sort -u)
	w5=$(tasks "$out" nice5 weight | sort -u)
	line=$(awk -v r0="${r0:-0}" -v r5="${r5:-0}" -v w0="${w0:-0}" \
		-v w5="${w5:-0}" 'BEGIN {
		want = w5 ? w0 / w5 : 0; got = r5 ? r0 / r5 : 0
		off = want ? (got - want) / want * 100 : 100
		printf "%d %.3f %.3f %+.2f\n", (off < 5 && off > -5), got, want, off
	}')
	set -- $line
	[ "$st" -eq 0 ] && [ "$1" -eq 1 ]
	ok $? "wfq, $w (nice 0 vs nice 5 hogs, 10 s): runtime ratio $2, weights $w0/$w5 = $3, off by $4% (limit 5%)"
done

# ---- shinjuku: p99 at least 5x lower than fifo --------------------------
for p in fifo shinjuku; do
	sim "$tmp/disp-$p.json" $W/dispersive.json $p
	eval "st_$p=$?"
	rec=$(group "$tmp/disp-$p.json" rpc)
	eval "p99_$p=$(echo "$rec" | sed -n 's/.*"request_latency_ns": {"p50": [0-9]*, "p99": \([0-9]*\).*/\1/p')"
	eval "n_$p=$(echo "$rec" | num requests)"
	eval "util_$p=$(sed -n 's/.*"cpu_util": \[\(.*\)\].*/\1/p' "$tmp/disp-$p.json" |
		awk -F', ' '{ for (i = 1; i <= NF; i++) s += $i; printf "%.3f", s / NF }')"
done
line=$(awk -v f="${p99_fifo:-0}" -v s="${p99_shinjuku:-0}" \
	'BEGIN { printf "%d %.1f\n", (s > 0 && f >= 5 * s), s ? f / s : 0 }')
set -- $line
[ "$st_fifo" -eq 0 ] && [ "$st_shinjuku" -eq 0 ] && [ "$1" -eq 1 ]
ok $? "shinjuku, 70% load, bimodal 5/500 us: p99 $((p99_shinjuku / 1000)) us against fifo's $((p99_fifo / 1000)) us: $2x lower (at least 5x)"
awk -v a="$util_fifo" -v b="$util_shinjuku" -v n="$n_fifo" -v m="$n_shinjuku" \
	'BEGIN { exit !(a > 0.65 && a < 0.75 && b > 0.65 && b < 0.75 &&
		n > 300000 && m > 300000 && (n - m) / n < 0.01 && (m - n) / n < 0.01) }'
ok $? "the load is 70%: CPU utilization fifo $util_fifo, shinjuku $util_shinjuku; requests done $n_fifo and $n_shinjuku"

# ---- arachne: grants follow requests, reclaims are announced ------------
# tests/enoki-policies/workloads/arachne.json: 6 CPUs, CPU 0 reserved;
# applications 7 and 9, four hog threads each.  Requests (ms: app cores)
# and the max-min split of the 5 grantable cores after each:
#   10: 7 3 -> 7=3      100: 9 4 -> 7=3 9=2 (the odd core to the first)
#   200: 7 1 -> 7=1 9=4     300: 9 0 -> 7=1 9=0     400: 7 5 -> 7=5 9=0
out=$tmp/arachne.json
sim "$out" $W/arachne.json arachne
st=$?
sed -n 's/.*{"t_ns": \([0-9]*\), "type": \([34]\), "pid": [0-9]*, "arg": \[\([0-9]*\), \([0-9]*\), \([0-9]*\), \([0-9]*\)\]}.*/\1 \2 \3 \4 \5 \6/p' \
	"$out" >"$tmp/notes"
n=$(wc -l <"$tmp/notes")
[ "$st" -eq 0 ] && [ "$n" -gt 0 ]
ok $? "arachne: the run ends (exit $st) with $n grant/reclaim notifications"

# Replay the log: holdings after each request time, and what is wrong.
awk -v ncpus=6 -v reserved=1 '
BEGIN {
	split("10 100 200 300 400", reqt, " ")
	# the request in force from each time on
	req[10, 7] = 3; req[100, 9] = 4; req[200, 7] = 1; req[300, 9] = 0
	req[400, 7] = 5
	want[7] = 0; want[9] = 0
}
function snapshot(t) {
	if (t == "") return
	snap = snap sprintf("%s%d:7=%d,9=%d", (snap == "" ? "" : " "),
			    t / 1000000, held[7], held[9])
}
{
	t = $1; type = $2; app = $3; cpu = $4; now = $5; asked = $6
	if (t != last) {
		snapshot(last)
		ms = t / 1000000
		if (!((ms, 7) in req) && !((ms, 9) in req))
			bad = bad " notification at " ms " ms, when nothing was asked"
		if ((ms, 7) in req) want[7] = req[ms, 7]
		if ((ms, 9) in req) want[9] = req[ms, 9]
		last = t
	}
	if (app != 7 && app != 9) { bad = bad " unknown app " app; next }
	if (cpu < reserved || cpu >= ncpus) bad = bad " CPU " cpu " granted"
	if (type == 3) {
		if (cpu in owner) bad = bad " CPU " cpu " granted to " app " while " owner[cpu] " holds it"
		owner[cpu] = app; held[app]++
	} else {
		if (owner[cpu] != app) bad = bad " CPU " cpu " reclaimed from " app " which did not hold it"
		delete owner[cpu]; held[app]--
	}
	if (now != held[app]) bad = bad " " app " told it holds " now ", holds " held[app]
	if (asked != want[app]) bad = bad " " app " told it asked " asked ", asked " want[app]
}
END {
	snapshot(last)
	print snap
	print (bad == "" ? "none" : bad)
}' "$tmp/notes" >"$tmp/replayed"
is "$(sed -n 1p "$tmp/replayed")" "10:7=3,9=0 100:7=3,9=2 200:7=1,9=4 300:7=1,9=0 400:7=5,9=0" \
	"arachne: after each request the cores held (from the log) are the max-min split: $(sed -n 1p "$tmp/replayed")"
is "$(sed -n 2p "$tmp/replayed")" none \
	"arachne: every notification is at a request, names a grantable CPU held by one app at a time, and says what the app holds and asked"
grants=$(awk '$2 == 3' "$tmp/notes" | wc -l)
reclaims=$(awk '$2 == 4' "$tmp/notes" | wc -l)
is "$grants:$reclaims" "11:6" \
	"arachne: $grants grants and $reclaims reclaims announced (3+2+2+0+4 and 0+0+2+4+0)"

# CPU time follows the grants: group runtimes at the request times.
for d in 10 100 200 300; do
	sim "$tmp/ar-$d.json" --duration-ms $d $W/arachne.json arachne
	eval "a_$d=$(group "$tmp/ar-$d.json" a | num runtime_ns)"
	eval "b_$d=$(group "$tmp/ar-$d.json" b | num runtime_ns)"
done
line=$(awk -v a10="$a_10" -v a100="$a_100" -v a200="$a_200" -v a300="$a_300" \
	-v b200="$b_200" -v b300="$b_300" 'function w(got, want) {
		if (got < want * 0.95 || got > want * 1.05) bad = 1
		return sprintf("%.0f (%.0f)", got / 1e6, want / 1e6)
	} BEGIN {
		s = w(a100 - a10, 270e6) " " w(a200 - a100, 300e6) " " \
		    w(a300 - a200, 100e6) " " w(b300 - b200, 400e6)
		print (bad ? 1 : 0), s
	}')
set -- $line
shift
[ "${line%% *}" -eq 0 ]
ok $? "arachne: CPU ms got (held cores x time): 7 in 10-100 ms $1 $2, 100-200 ms $3 $4, 200-300 ms $5 $6; 9 in 200-300 ms $7 $8 (within 5%)"

# ---- locality: hinted wakeups on the hinted CPU --------------------------
# Groups r1..r4: threads hinted with region 1..4 before every wakeup.
# on_hinted FILE: "hits total" over the r* groups, given the region ->
# CPU placements announced in FILE (LOCALITY_MSG_PLACED = 2, arg[0]
# region, arg[1] CPU) or in $2 if given.
placements() {
	sed -n 's/.*"type": 2, "pid": [0-9]*, "arg": \[\([0-9]*\), \([0-9]*\),.*/\1 \2/p' "$1"
}
on_hinted() {
	{
		cat "$2"
		grep '"group": "r[0-9]*",' "$1" |
			sed 's/.*"group": "r\([0-9]*\)",.*"wake_cpus": {\(.*\)}}.*/T \1 \2/'
	} | awk '$1 != "T" { cpu[$1] = $2; next }
	{
		region = $2
		for (i = 3; i <= NF; i += 2) {
			c = $i; n = $(i + 1); gsub(/[",:]/, "", c); gsub(/,/, "", n)
			total += n
			if ((region in cpu) && c == cpu[region]) hits += n
		}
	} END { printf "%d %d %.2f\n", hits, total, total ? hits * 100 / total : 0 }'
}
out=$tmp/loc.json
sim "$out" $W/locality.json locality
st=$?
placements "$out" >"$tmp/placed"
placed=$(awk '{ printf "%s%s on %s", (NR > 1 ? ", " : ""), $1, $2 }' "$tmp/placed")
is "$st:$(awk '{ print $2 }' "$tmp/placed" | sort -u | wc -l)" "0:4" \
	"locality: the run ends, the 4 regions are placed on 4 CPUs (region on CPU): $placed"
set -- $(on_hinted "$out" "$tmp/placed")
awk -v p="$3" -v t="$2" 'BEGIN { exit !(p >= 95 && t > 10000) }'
ok $? "locality: $1 of $2 hinted wakeups first ran on the hinted CPU: $3% (at least 95%)"
sim "$tmp/loc-fifo.json" $W/locality.json fifo
set -- $(on_hinted "$tmp/loc-fifo.json" "$tmp/placed")
awk -v p="$3" 'BEGIN { exit !(p < 95) }'
ok $? "locality: fifo, blind to hints, puts $3% there on the same workload (under 95%)"

# ---- every policy: the mixed workload, no ejection -----------------------
for p in $policies; do
	out=$tmp/mixed-$p.json
	sim "$out" $W/mixed.json "$p"
	st=$?
	ej=$(sed -n 's/.*"ejected": \([a-z]*\),.*/\1/p' "$out")
	idle=$(awk '/^ *\{"name": "/ && /"runtime_ns": 0,/ { print $2 }' "$out" |
		tr -d '",' | tr '\n' ' ')
	sns=$(num simulated_ns <"$out")
	[ "$st" -eq 0 ] && [ "$ej" = false ] && [ -z "$idle" ] &&
		[ "$sns" = 2000000000 ]
	ok $? "$p: mixed workload, 2 s with a 1 s watchdog: exit $st, ejected ${ej:-?}, every group ran${idle:+ (not: $idle)}"
	[ "$st" -eq 0 ] || diag "$(head -3 "$out.err")"
done

done_testing
