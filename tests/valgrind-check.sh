#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# valgrind-check.sh LOGDIR: reads every memcheck log in LOGDIR (one per
# process, from "make check-valgrind") and fails when any reports an
# error or a definite leak; prints those logs. A process killed with
# SIGKILL (tests/guest-blk-durability.sh kills the VMM, the detached
# child of every VMM is killed, see tests/valgrind-vmm.sh) leaves a log
# without a summary: there the errors reported until then count.
dir=${1:?usage: valgrind-check.sh LOGDIR}
# The first line of every kind of error memcheck reports.
errors='== (Invalid (read|write|free|alignment)|Mismatched (free|deallocation)|Conditional jump|Use of uninitialised|Syscall param|Source and destination overlap|Argument .* fishy|Jump to the invalid address|Illegal memory pool|[0-9,]+ bytes in [0-9,]+ blocks are definitely lost)'

logs=0 complete=0 bad=0
for log in "$dir"/*.log; do
	[ -f "$log" ] || continue
	logs=$((logs + 1))
	if grep -q '== ERROR SUMMARY: ' "$log"; then
		complete=$((complete + 1))
		grep -qE '== ERROR SUMMARY: [1-9]|definitely lost: [1-9]' "$log" || continue
	else
		grep -qE "$errors" "$log" || continue
	fi
	bad=$((bad + 1))
	echo "=== $log"
	cat "$log"
done
ioctls=$(cat "$dir"/*.log 2>/dev/null | grep -c 'unhandled ioctl')
echo "memcheck: $logs logs ($complete with a summary, $((logs - complete)) of killed processes)," \
	"$bad with errors or definite leaks, $ioctls unhandled-ioctl warnings"
[ "$logs" -gt 0 ] || { echo "memcheck: no logs in $dir" >&2; exit 1; }
[ "$bad" -eq 0 ]
