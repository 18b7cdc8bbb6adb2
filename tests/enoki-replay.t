#!/bin/bash
# enoki-replay.t - record with `enoki sim --record`, replay with `enoki
# replay`, through the real command, for every policy in sched/:
#
#   - every decision matches on a 6-CPU workload with every kind of task,
#     renices, a pinned group, hints and messages (tests/enoki-replay/
#     workload.json);
#   - the policy's changed build (log.mk: its 100th insert gets a slice
#     1 ns longer) is reported as divergent at exactly that insert, with
#     the events before it, exit status 3;
#   - a cut, a damaged and a newer-version log each give one line naming
#     the byte offset, exit status 2; bad command lines exit 1;
#   - replay runs under gdb with a breakpoint in the policy.
#
#   tests/enoki-replay.t BUILD_DIR
set -u
cd "$(dirname "$0")/.."
. tests/lib/tap.sh

build=${1:?usage: enoki-replay.t BUILD_DIR}
enoki=$build/bin/enoki
td=$build/tests/enoki-replay
workload=tests/enoki-replay/workload.json
policies=$(for f in sched/*/*.bpf.c; do basename "$f" .bpf.c; done)
diverge_at=100

[ -x "$enoki" ] || bail "$enoki not built"
for p in $policies; do
	[ -r "$build/sched/$p.so" ] || bail "$build/sched/$p.so not built"
	[ -r "$td/${p}_diverge.so" ] || bail "$td/${p}_diverge.so not built"
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The sequence number of the Nth insert in a log (from --dump).
nth_insert() {		# nth_insert LOG N
	"$enoki" replay --dump "$1" |
		awk -v n="$2" '$5 ~ /^dsq_insert/ && ++k == n { sub("#", "", $1); print $1; exit }'
}

for p in $policies; do
	log=$tmp/$p.log
	"$enoki" sim --record "$log" "$workload" "$p" >"$tmp/sim.out" 2>&1
	ok $? "$p: enoki sim --record"

	# every decision matches, and the count is the log's
	out=$("$enoki" replay "$log" "$p" 2>&1)
	st=$?
	n=$("$enoki" replay --dump "$log" | grep -c '^#')
	is "$st:$out" "0:replay: $n events, all decisions matched" \
		"$p: replay matches all $n events"
	[ "$n" -gt 1000 ]
	ok $? "$p: the log has more than 1000 events ($n)"

	# the changed build diverges at its 100th insert
	want=$(nth_insert "$log" $diverge_at)
	out=$("$enoki" replay -c 4 "$log" "$td/${p}_diverge.so" 2>/dev/null)
	st=$?
	is "$st" 3 "$p: changed build: exit status 3"
	first=$(echo "$out" | head -1 | sed -n 's/^replay: divergence at event #\([0-9]*\) .*/\1/p')
	is "$first" "$want" "$p: changed build diverges at insert $diverge_at (event #$want)"
	echo "$out" | grep -q "^  recorded: #$want .*dsq_insert.* slice=[0-9]*" &&
		echo "$out" | grep -q '^  policy:   dsq_insert' &&
		[ "$(echo "$out" | grep -c '^    #')" -eq 4 ]
	ok $? "$p: the report shows recorded, done and 4 events before"
	[ -n "$want" ] || diag "$(head -c 2000 <<<"$out")"
done

# ---- bad logs -----------------------------------------------------------
log=$tmp/fifo.log
size=$(stat -c %s "$log")

head -c $((size - 40)) "$log" >"$tmp/cut.log"
out=$("$enoki" replay "$tmp/cut.log" fifo 2>&1 >/dev/null)
st=$?
is "$st" 2 "cut log: exit status 2"
echo "$out" | grep -Eq "^enoki: $tmp/cut.log: offset [0-9]+: truncated chunk" 
ok $? "cut log: one line naming the offset"

cp "$log" "$tmp/bad.log"
printf '\x55' | dd of="$tmp/bad.log" bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null
out=$("$enoki" replay "$tmp/bad.log" fifo 2>&1 >/dev/null)
is "$?" 2 "damaged log: exit status 2"
echo "$out" | grep -Eq "^enoki: $tmp/bad.log: offset [0-9]+: chunk checksum mismatch$"
ok $? "damaged log: checksum mismatch at an offset"

cp "$log" "$tmp/v2.log"
printf '\x02' | dd of="$tmp/v2.log" bs=1 seek=8 conv=notrunc 2>/dev/null
out=$("$enoki" replay "$tmp/v2.log" fifo 2>&1)
is "$?:$out" "2:enoki: $tmp/v2.log: offset 8: log format version 2, this build reads version 1" \
	"newer format refused"

"$enoki" replay >/dev/null 2>&1
is "$?" 1 "no arguments: exit status 1"
"$enoki" replay "$log" nosuchpolicy >/dev/null 2>&1
is "$?" 2 "unknown policy: exit status 2"

# ---- gdb ----------------------------------------------------------------
if command -v gdb >/dev/null; then
	out=$(timeout 120 gdb -q -batch -ex 'set breakpoint pending on' \
		-ex 'break wfq_enqueue' -ex run -ex bt -ex kill \
		--args "$enoki" replay "$tmp/wfq.log" wfq 2>&1)
	echo "$out" | grep -q 'Breakpoint 1, wfq_enqueue'
	ok $? "gdb stops at a breakpoint in the policy during replay"
else
	echo "ok $((_tap_n + 1)) # SKIP gdb is not installed"
	_tap_n=$((_tap_n + 1))
fi

done_testing
