# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# What bench/blk and bench/net share: a wall clock, a process's CPU time,
# and serial lines stamped on arrival. Sourced (bash).

now() {
	if [ -n "${EPOCHREALTIME:-}" ]; then
		echo "$EPOCHREALTIME"
	else
		date +%s.%N
	fi
}

# cpu_ticks PID: utime + stime in clock ticks of the process (all its
# threads), then of its vCPU threads alone, and how many vCPU threads
# there are (one that ended takes its time out of the second figure but
# not the first); nothing once the process is gone. (cat
# reads on past a thread that ends meanwhile; awk would stop there.)
cpu_ticks() {
	cat "/proc/$1/stat" "/proc/$1"/task/*/stat 2>/dev/null | awk '
	{
		comm = $0
		sub(/^[^(]*\(/, "", comm)
		comm = substr(comm, 1, index(comm, ")") - 1)
		sub(/^.*\) /, "")
		if (NR == 1)
			all = $12 + $13
		else if (comm ~ /^vcpu/) {
			vcpu += $12 + $13
			n++
		}
	}
	END { if (NR) print all + 0, vcpu + 0, n + 0 }'
}

# stamp_lines [PID]: copies stdin to stdout, each line prefixed with its
# arrival time. With PID (a timeout(1) whose child is the VMM), a
# "BENCH START" or "BENCH END" line also gets the VMM's CPU time then:
# " cpu=ALL,VCPU,N" as cpu_ticks gives them.
stamp_lines() {
	local line vmm='' t
	while IFS= read -r line; do
		line=${line%$'\r'}
		case ${1:+$line} in
		'BENCH START '* | 'BENCH END '*)
			[ -n "$vmm" ] || vmm=$(awk '{ print $1 }' "/proc/$1/task/$1/children" 2>/dev/null)
			t=$(cpu_ticks "$vmm")
			[ -z "$t" ] || line="$line cpu=${t// /,}" ;;
		esac
		printf '%s %s\n' "$(now)" "$line"
	done
}
