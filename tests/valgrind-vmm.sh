#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The VMM under memcheck, for "make check-valgrind" (tests/valgrind.mk),
# which sets VMM to this script. It execs valgrind on the real program
# (libtool --mode=execute: src/vmm-reference in the build tree may be a
# libtool wrapper script), so the PID a test sees, signals and waits for
# is the VMM's. Each process writes its own log, vmm.<pid>.log in
# $VALGRIND_LOG_DIR; tests/valgrind-check.sh reads them all afterwards.
#
# Environment: top_builddir, VALGRIND_LOG_DIR, VALGRIND (the program),
# VALGRIND_FLAGS (memcheck's options), VALGRIND_VMM_ARGS (VMM options put
# before the test's own: what memcheck needs of the VMM goes there, in
# tests/valgrind.mk).
#
# At its end the VMM forks a child that only holds the VM's descriptors
# until the VMM is gone (destroy_detached() in src/vmm-reference.c).
# Memcheck does not know that guest memory (MADV_DONTFORK) is absent in
# that child, and the leak check at the child's exit faults on every word
# of it: minutes of CPU for a heap that is the parent's copy anyway. So a
# watcher kills the child with SIGKILL (no leak check) as soon as the VMM
# has ended; whatever memcheck reported in the child until then stays in
# its log.
: "${VALGRIND:=valgrind}"
: "${VALGRIND_LOG_DIR:?VALGRIND_LOG_DIR is not set}"
: "${top_builddir:?top_builddir is not set}"

# reap_detached PID: once PID ended, kill the child it left behind.
reap_detached() {
	while kill -0 "$1" 2>/dev/null; do
		sleep 0.2
	done
	for _log in "$VALGRIND_LOG_DIR"/vmm.*.log; do
		grep -q "^==[0-9]*== Parent PID: $1\$" "$_log" 2>/dev/null || continue
		_pid=${_log##*/vmm.}
		_pid=${_pid%.log}
		# Only that memcheck process, should its PID have been reused.
		grep -qF "$VALGRIND_LOG_DIR" "/proc/$_pid/cmdline" 2>/dev/null &&
			kill -9 "$_pid" 2>/dev/null
	done
}

reap_detached $$ </dev/null >/dev/null 2>&1 &
# shellcheck disable=SC2086 # the option lists are words
exec "$top_builddir/libtool" --mode=execute "$VALGRIND" $VALGRIND_FLAGS \
	--log-file="$VALGRIND_LOG_DIR/vmm.%p.log" \
	"$top_builddir/src/vmm-reference" $VALGRIND_VMM_ARGS "$@"
