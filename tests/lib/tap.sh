# tap.sh - TAP helpers for shell tests (source it).
#
#   plan N            print the plan (or call done_testing at the end)
#   ok COND_STATUS DESC   ok if the status is 0:  ok $? "desc"
#   is GOT WANT DESC  ok if the strings are equal, else show both
#   diag MSG          a comment line
#   done_testing      print the plan from the count, exit 1 if any failed
#   bail MSG          "Bail out!" and exit 1 (the runner counts it failed)

_tap_n=0
_tap_failed=0

plan() { echo "1..$1"; _tap_planned=1; }
diag() { echo "# $*"; }
bail() { echo "Bail out! $*"; exit 1; }

ok() {
	local st=$1
	shift
	_tap_n=$((_tap_n + 1))
	if [ "$st" -eq 0 ]; then
		echo "ok $_tap_n - $*"
	else
		echo "not ok $_tap_n - $*"
		_tap_failed=$((_tap_failed + 1))
	fi
}

is() {
	local got=$1 want=$2
	shift 2
	if [ "$got" = "$want" ]; then
		ok 0 "$*"
	else
		ok 1 "$*"
		diag "  got:  '$got'"
		diag "  want: '$want'"
	fi
}

done_testing() {
	[ -n "${_tap_planned:-}" ] || echo "1..$_tap_n"
	echo "# $((_tap_n - _tap_failed)) passed, $_tap_failed failed"
	[ $_tap_failed -eq 0 ]
}
