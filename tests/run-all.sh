#!/bin/bash
# run-all.sh - run every test against one or more build directories.
#
#   tests/run-all.sh BUILD_DIR...
#
# For each build directory: every compiled test program BUILD/tests/bin/*
# and every script tests/*.t (given the build directory, made absolute, as
# $1).  Each test prints TAP ("ok N - ...", "not ok N - ...", a plan
# "1..N").  A test fails if it exits non-zero, prints "not ok", or prints
# fewer results than its plan.  Output of each test goes to
# BUILD/tests/log/NAME.log; failing tests have their log printed.  Ends
# with "N passed, N failed".
set -u
cd "$(dirname "$0")/.."

passed=0
failed=0
failed_names=()

run_one() {		# run_one BUILD NAME CMD...
	local build=$1 name=$2
	shift 2
	local log="$build/tests/log/$name.log"
	mkdir -p "$(dirname "$log")"
	local start=$SECONDS
	"$@" >"$log" 2>&1 </dev/null
	local rc=$?
	local oks nots plan
	oks=$(grep -c '^ok ' "$log")
	nots=$(grep -c '^not ok ' "$log")
	plan=$(sed -n 's/^1\.\.\([0-9][0-9]*\).*/\1/p' "$log" | tail -1)
	local verdict=ok
	if [ $rc -ne 0 ] || [ "$nots" -ne 0 ] || [ -z "$plan" ] ||
	   [ $((oks + nots)) -lt "${plan:-0}" ] || [ $((oks + nots)) -eq 0 ]; then
		verdict=FAIL
	fi
	printf '%-4s %-40s %4d ok %3d not ok  (%ds)\n' "$verdict" \
		"$build:$name" "$oks" "$nots" $((SECONDS - start))
	passed=$((passed + oks))
	failed=$((failed + nots))
	if [ $verdict = FAIL ]; then
		[ "$nots" -eq 0 ] && failed=$((failed + 1))
		failed_names+=("$build:$name")
		echo "---- $log (exit $rc) ----"
		tail -n 60 "$log"
		echo "----"
	fi
}

for build in "$@"; do
	for t in "$build"/tests/bin/*; do
		[ -x "$t" ] || continue
		run_one "$build" "$(basename "$t")" "$t"
	done
	abs=$(cd "$build" && pwd)	# scripts get an absolute build dir
	for t in tests/*.t; do
		[ -x "$t" ] || continue
		run_one "$build" "$(basename "$t" .t)" "$t" "$abs"
	done
done

echo
if [ ${#failed_names[@]} -ne 0 ]; then
	echo "failed: ${failed_names[*]}"
fi
echo "$passed passed, $failed failed"
[ $failed -eq 0 ] && [ ${#failed_names[@]} -eq 0 ]
