#!/bin/bash
# bench/sim/run.sh BUILD - `make bench-sim`: simulator and replay
# throughput for each policy, and each policy's latency and fairness on
# the standard workloads (enoki/sim/workloads/*.json).  Prints a table and
# writes bench/results/sim.json (BENCH_OUT to override).  Replay speed is
# the replay loop's own (`enoki replay --stats`: events over the loop's
# time), so process start-up, loading the policy and opening the log do
# not count.
set -eu
B=$1
E=$B/bin/enoki
OUT=${BENCH_OUT:-bench/results/sim.json}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
mkdir -p "$(dirname "$OUT")"

policies=()
for so in "$B"/sched/*.so; do
	[ -e "$so" ] || continue
	policies+=("$(basename "$so" .so)")
done
[ ${#policies[@]} -gt 0 ] || { echo "bench-sim: no policies in $B/sched" >&2; exit 2; }

for p in "${policies[@]}"; do
	for w in enoki/sim/workloads/*.json; do
		n=$(basename "$w" .json)
		rc=0
		"$E" sim --json "$w" "$p" >"$T/$p.$n.json" 2>"$T/$p.$n.err" || rc=$?
		echo "$rc" >"$T/$p.$n.rc"
		# replay throughput on the mixed workload
		if [ "$n" = mixed ]; then
			"$E" sim --record "$T/$p.log" "$w" "$p" >/dev/null 2>&1 || true
			"$E" replay --stats "$T/$p.log" "$p" >"$T/$p.replay" 2>&1 || true
		fi
	done
done

python3 - "$T" "$OUT" "${policies[@]}" <<'PY'
import json, os, re, sys
t, out, pols = sys.argv[1], sys.argv[2], sys.argv[3:]
res = {"policies": {}}
print("%-10s %-11s %8s %12s %12s %12s %8s" % ("policy", "workload",
      "exit", "Mevents/s", "req_p99_us", "wake_p99_us", "jain"))
for p in pols:
    pr = res["policies"][p] = {"workloads": {}}
    for f in sorted(os.listdir(t)):
        m = re.match(re.escape(p) + r"\.(\w+)\.json$", f)
        if not m:
            continue
        n = m.group(1)
        rc = int(open(os.path.join(t, f"{p}.{n}.rc")).read())
        try:
            d = json.load(open(os.path.join(t, f)))
        except ValueError:
            pr["workloads"][n] = {"exit": rc, "error": open(os.path.join(t, f"{p}.{n}.err")).read().strip()}
            print("%-10s %-11s %8d %s" % (p, n, rc, pr["workloads"][n]["error"][:60]))
            continue
        groups = {g["name"]: {"request_p99_ns": g["request_latency_ns"]["p99"],
                              "request_p50_ns": g["request_latency_ns"]["p50"],
                              "wake_p99_ns": g["wake_latency_ns"]["p99"],
                              "jain": g["jain"], "runtime_ns": g["runtime_ns"]}
                  for g in d["groups"]}
        pr["workloads"][n] = {"exit": rc, "ejected": d["ejected"],
                              "events": d["events"], "events_per_s": d["events_per_s"],
                              "groups": groups}
        rq = max((g["request_p99_ns"] for g in groups.values()), default=0)
        wk = max((g["wake_p99_ns"] for g in groups.values()), default=0)
        jn = min((g["jain"] for g in groups.values()), default=1)
        print("%-10s %-11s %8d %12.2f %12.1f %12.1f %8.4f" % (p, n, rc,
              d["events_per_s"] / 1e6, rq / 1e3, wk / 1e3, jn))
    rf = os.path.join(t, p + ".replay")
    if os.path.exists(rf):
        txt = open(rf).read()
        m = re.search(r"replay: (\d+) events in ([0-9.]+) s, ([0-9.]+) events/s", txt)
        ev, sec, rate = (int(m.group(1)), float(m.group(2)),
                         float(m.group(3))) if m else (0, 0.0, 0.0)
        pr["replay"] = {"events": ev, "loop_s": sec, "events_per_s": rate,
                        "matched": "all decisions matched" in txt}
        print("%-10s %-11s %8s %12.2f  (replay, %s)" % (p, "mixed", "",
              pr["replay"]["events_per_s"] / 1e6,
              "matched" if pr["replay"]["matched"] else "NOT matched"))
json.dump(res, open(out, "w"), indent=1)
print("wrote", out)
PY
