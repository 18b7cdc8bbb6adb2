#!/bin/bash
# enoki-sim.t - the `enoki sim` command: outputs, exit codes, errors.
#   tests/enoki-sim.t BUILD_DIR
set -u
. "$(dirname "$0")/lib/tap.sh"
B=$1
E=$B/bin/enoki
P=$B/tests/enoki-sim
W=enoki/sim/workloads
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

plan 16

$E --help >"$T/h" 2>&1
ok $? "enoki --help exits 0"
$E sim --help | grep -q -- '--record'
ok $? "enoki sim --help lists the options"
$E bogus >/dev/null 2>&1
is "$?" 1 "unknown command: exit 1"
$E sim $W/mixed.json >/dev/null 2>&1
is "$?" 1 "missing POLICY: exit 1"
$E sim --cpus 999 $W/mixed.json $P/tfifo.so 2>"$T/e" >/dev/null
is "$?" 1 "--cpus 999: exit 1"

$E sim $W/mixed.json $P/tfifo.so >"$T/out" 2>&1
ok $? "mixed workload under tfifo runs"
grep -q '^requests web' "$T/out"
ok $? "report has request latencies"

$E sim --json --trace "$T/tr.json" --svg "$T/tl.svg" $W/mixed.json \
	$P/tfifo.so >"$T/j.json" 2>&1 && python3 -m json.tool "$T/j.json" >/dev/null
ok $? "--json output is JSON"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert len(d["traceEvents"]) > 100' "$T/tr.json"
ok $? "--trace writes a Chrome trace with events"
grep -q '<rect' "$T/tl.svg"
ok $? "--svg draws rectangles"

$E sim --seed 5 $W/mixed.json $P/tfifo.so | grep -v '^events:' >"$T/a"
$E sim --seed 5 $W/mixed.json $P/tfifo.so | grep -v '^events:' >"$T/b"
$E sim --seed 6 $W/mixed.json $P/tfifo.so | grep -v '^events:' >"$T/c"
cmp -s "$T/a" "$T/b" && ! cmp -s "$T/a" "$T/c"
ok $? "same seed, same output; another seed, another"

$E sim --timeout-ms 300 $W/hogs.json $P/stall.so >/dev/null 2>"$T/e"
is "$?" 3 "a policy that never dispatches is ejected: exit 3"
grep -q 'ejected: watchdog' "$T/e"
ok $? "the ejection says why: $(head -1 "$T/e")"

$E sim $W/mixed.json nosuchpolicy >/dev/null 2>"$T/e"
rc=$?
[ $rc -eq 2 ] && grep -q 'nosuchpolicy.so: no such policy' "$T/e"
ok $? "unknown policy: exit 2, one line: $(head -1 "$T/e")"

printf '{"cpus": 2,\n "groups": [\n' >"$T/bad.json"
$E sim "$T/bad.json" $P/tfifo.so >/dev/null 2>"$T/e"
rc=$?
[ $rc -eq 2 ] && grep -q "bad.json:3:.*bad JSON" "$T/e" && [ "$(wc -l <"$T/e")" -eq 1 ]
ok $? "truncated JSON: exit 2, line and column: $(head -1 "$T/e")"

echo '{"groups": [{"name": "x", "kind": "hog", "count": 0}]}' >"$T/bad2.json"
$E sim "$T/bad2.json" $P/tfifo.so >/dev/null 2>"$T/e"
rc=$?
[ $rc -eq 2 ] && grep -q 'groups\[0\].count: must be an integer' "$T/e"
ok $? "bad count: exit 2, JSON path: $(head -1 "$T/e")"
