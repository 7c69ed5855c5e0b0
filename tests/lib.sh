# SPDX-License-Identifier: Apache-2.0
# Shared helpers for the shell tests (TAP output). Source it:  . "$top_srcdir/tests/lib.sh"
# Environment (set by make check): top_srcdir top_builddir VMM TIMEOUT GUEST_DIR SHARED_GUEST_DIR
# TIMEOUT_SCALE=N (a whole number) multiplies every time limit given to
# "$TIMEOUT" and wait_output, for a VMM that runs slower than it does
# natively (make check-valgrind runs it under memcheck).

: "${VMM:=$top_builddir/src/vmm-reference}"
: "${TIMEOUT:=timeout}"
: "${TIMEOUT_SCALE:=1}"
if [ "$TIMEOUT_SCALE" != 1 ]; then
	TIMEOUT_PROGRAM=$TIMEOUT
	TIMEOUT=$top_srcdir/tests/timeout-scale.sh
	export TIMEOUT_PROGRAM TIMEOUT_SCALE
fi
: "${GUEST_DIR:=$top_builddir/tests/guests}"
: "${SHARED_GUEST_DIR:=$top_srcdir/../shared/guest}"

tap_n=0
tap_failed=0
tap_planned=

# plan N  |  plan skip "reason"
plan() {
	if [ "$1" = skip ]; then
		echo "1..0 # SKIP $2"
		exit 0
	fi
	tap_planned=$1
	echo "1..$1"
}

ok() {      # ok "description"
	tap_n=$((tap_n + 1)); echo "ok $tap_n - $*"
}
not_ok() {  # not_ok "description" [detail file]
	tap_n=$((tap_n + 1)); tap_failed=$((tap_failed + 1))
	echo "not ok $tap_n - $1"
	if [ -n "${2:-}" ] && [ -f "$2" ]; then
		sed 's/^/# /' "$2" | tail -n 40
	fi
}
skip() {    # skip "description" "reason"
	tap_n=$((tap_n + 1)); echo "ok $tap_n - $1 # SKIP $2"
}
check() {   # check "description" command...   (ok if the command succeeds)
	desc=$1; shift
	if "$@"; then ok "$desc"; else not_ok "$desc"; fi
}
diag() { echo "# $*"; }

# expect_grep "description" file fixed-string
expect_grep() {
	if grep -qF -- "$3" "$2"; then ok "$1"; else not_ok "$1 (missing: $3)" "$2"; fi
}
# expect_egrep "description" file extended-regexp
expect_egrep() {
	if grep -qE -- "$3" "$2"; then ok "$1"; else not_ok "$1 (no match: $3)" "$2"; fi
}

done_testing() {
	if [ -z "$tap_planned" ]; then echo "1..$tap_n"; fi
	[ "$tap_failed" -eq 0 ]
	exit $?
}

# run_vmm SECONDS OUTFILE [vmm args...]
# Runs the VMM under a hard time limit, stdin from /dev/null unless
# VMM_STDIN names a file; stdout+stderr to OUTFILE. Returns the VMM's exit
# status, 124 when it had to be killed for running too long.
run_vmm() {
	_secs=$1; _out=$2; shift 2
	"$TIMEOUT" -k 10 "$_secs" "$VMM" "$@" <"${VMM_STDIN:-/dev/null}" >"$_out" 2>&1
}

# expect_exit0 "description" STATUS OUTFILE [vmm args...]: one TAP point, ok
# when the VMM's exit STATUS is 0; otherwise its output (and the command,
# when given) go into the diagnostics.
expect_exit0() {
	_d=$1; _rc=$2; _o=$3; shift 3
	if [ "$_rc" -eq 0 ]; then
		ok "$_d: exit status 0"
	else
		[ $# -gt 0 ] && echo "# command: $VMM $*" >>"$_o"
		not_ok "$_d: exit status 0 (got $_rc)" "$_o"
	fi
}

# wait_output FILE PID REGEX SECONDS: until a line of FILE, the output of
# the VMM running as PID, matches REGEX; false when the time (SECONDS
# times TIMEOUT_SCALE) is up or the VMM ended without it.
wait_output() {
	_n=0
	while [ "$_n" -lt $(($4 * 10 * TIMEOUT_SCALE)) ]; do
		grep -qE -- "$3" "$1" && return 0
		kill -0 "$2" 2>/dev/null || { grep -qE -- "$3" "$1"; return; }
		sleep 0.1
		_n=$((_n + 1))
	done
	return 1
}

# Tests that need /dev/kvm skip when it is not usable.
require_kvm() {
	if [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
		plan skip "/dev/kvm is not available"
	fi
}

tmpdir_make() {
	TEST_TMP=$(mktemp -d "${TMPDIR:-/tmp}/vmmtest.XXXXXX")
	trap 'rm -rf "$TEST_TMP"' EXIT
}
