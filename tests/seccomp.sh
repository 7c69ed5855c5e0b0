#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# A vCPU thread's forbidden system call (tests/seccomp-kill.c): with the
# filters on the process dies of SIGSYS; with log or off the guest resets.
. "$top_srcdir/tests/lib.sh"
prog=$top_builddir/tests/seccomp-kill
[ -x "$prog" ] || plan skip "built without libseccomp"
require_kvm
plan 3
"$TIMEOUT" -k 5 60 "$prog" on "$GUEST_DIR/boot.elf" >/dev/null 2>&1
st=$?
if [ "$st" -eq 159 ]; then ok "on: killed by SIGSYS (status 159)"; else not_ok "on: killed by SIGSYS (status $st, not 159)"; fi
"$TIMEOUT" -k 5 60 "$prog" log "$GUEST_DIR/boot.elf" >/dev/null 2>&1
st=$?
if [ "$st" -eq 0 ]; then ok "log: the call went through, the guest reset"; else not_ok "log: status $st"; fi
"$TIMEOUT" -k 5 60 "$prog" off "$GUEST_DIR/boot.elf" >/dev/null 2>&1
st=$?
if [ "$st" -eq 0 ]; then ok "off: the guest reset"; else not_ok "off: status $st"; fi
