#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Signals: SIGTERM and SIGINT while the VM is being built (before the
# guest's first output) and while the guest writes to its disk without
# end make the VMM exit 0 with one line on stderr naming the signal, the
# terminal (a pty, stdin and stdout of the VMM) as it was, no core dump,
# and the disk unlocked: the next case takes the same image at once.
# After SIGKILL of a VMM that holds the disk, a new one takes it at once.
. "$top_srcdir/tests/lib.sh"
require_kvm
command -v script >/dev/null 2>&1 || plan skip "script (util-linux) is not installed"
tmpdir_make

ELF=$GUEST_DIR/blk.elf
[ -f "$ELF" ] || { plan 1; not_ok "guest image $ELF exists"; done_testing; }
DISK=$TEST_TMP/disk.img
truncate -s 1M "$DISK"
VMM_ARGS="--memory size_mib=64 --vcpu num=1 --block path=$DISK"
GUEST="path=$ELF,cmdline=blk_stream=1"

# start_pty NAME: the VMM in the background on a new pseudo-terminal (its
# stdin and stdout), stderr to NAME.err, the guest's output to NAME.screen;
# the terminal's settings before and after it, its exit status and pid.
start_pty() {
	cat >"$TEST_TMP/$1.sh" <<EOF
stty -g >"$TEST_TMP/$1.before"
$TIMEOUT --foreground -k 5 30 sh -c 'echo \$\$ >"$TEST_TMP/$1.pid"; exec "\$0" "\$@"' \\
	"$VMM" $VMM_ARGS --kernel "$GUEST" 2>"$TEST_TMP/$1.err"
echo \$? >"$TEST_TMP/$1.status"
stty -g >"$TEST_TMP/$1.after"
EOF
	(cd "$TEST_TMP" && script -qec "sh $TEST_TMP/$1.sh" /dev/null \
		</dev/null >"$TEST_TMP/$1.screen" 2>&1) &
	script_pid=$!
	_n=0
	until [ -s "$TEST_TMP/$1.pid" ] || [ "$_n" -ge 100 ]; do
		sleep 0.05
		_n=$((_n + 1))
	done
	vmm_pid=$(cat "$TEST_TMP/$1.pid" 2>/dev/null)
}

# until_building PID: until the VMM has opened the disk image, which it
# does while it builds the VM, before it runs the guest.
until_building() {
	_n=0
	while [ "$_n" -lt 2000 ]; do
		[ -n "$(find "/proc/$1/fd" -lname "$DISK" 2>/dev/null)" ] && return 0
		_n=$((_n + 1))
	done
	return 1
}

# check_stop NAME DESC SIGNUM [LOG]: after the VMM on NAME's pty ended;
# its messages on stderr, or in LOG (then stderr stays empty).
check_stop() {
	wait "$script_pid"
	log=${4:-$TEST_TMP/$1.err}
	others=0
	[ -n "${4:-}" ] && others=$(wc -l <"$TEST_TMP/$1.err")
	st=$(cat "$TEST_TMP/$1.status" 2>/dev/null)
	if [ "$st" = 0 ]; then
		ok "$2: exit status 0"
	else
		echo "# status: $st" >>"$TEST_TMP/$1.err"
		not_ok "$2: exit status 0" "$TEST_TMP/$1.err"
	fi
	if [ "$(wc -l <"$log")" -eq 1 ] && [ "$others" -eq 0 ] &&
	   grep -qx "vmm-reference: stopped after [0-9.]* s: stopped on request (signal $3)" "$log"
	then
		ok "$2: one line on stderr names signal $3"
	else
		not_ok "$2: one line on stderr names signal $3" "$log"
	fi
	if [ -s "$TEST_TMP/$1.before" ] && cmp -s "$TEST_TMP/$1.before" "$TEST_TMP/$1.after"; then
		ok "$2: the terminal's settings are as they were"
	else
		cat "$TEST_TMP/$1.before" "$TEST_TMP/$1.after" >"$TEST_TMP/$1.tty" 2>&1
		not_ok "$2: the terminal's settings are as they were" "$TEST_TMP/$1.tty"
	fi
	if [ -n "$st" ] && [ "$st" -lt 128 ] && ! ls "$TEST_TMP" | grep -q '^core'; then
		ok "$2: no death by signal, no core dump"
	else
		not_ok "$2: no death by signal, no core dump (status $st)"
	fi
}

# during_boot NAME DESC SIG SIGNUM: the signal while the VMM builds the VM.
during_boot() {
	start_pty "$1"
	if [ -n "$vmm_pid" ] && until_building "$vmm_pid"; then
		cp "$TEST_TMP/$1.screen" "$TEST_TMP/$1.early"
		kill -"$3" "$vmm_pid"
		if grep -q 'INFO' "$TEST_TMP/$1.early"; then
			not_ok "$2: the signal came before the guest's first output" "$TEST_TMP/$1.early"
		else
			ok "$2: the signal came before the guest's first output"
		fi
	else
		not_ok "$2: the VMM started (pid '$vmm_pid')"
	fi
	check_stop "$1" "$2" "$4"
}

# during_io NAME DESC SIG SIGNUM: the signal while the guest writes to vda;
# that the guest got to write proves the previous VMM let go of the disk.
during_io() {
	start_pty "$1"
	if wait_output "$TEST_TMP/$1.screen" "${vmm_pid:-0}" '^STREAM START' 20; then
		sleep 0.5
		ok "$2: the guest writes to the disk"
		kill -"$3" "$vmm_pid"
	else
		not_ok "$2: the guest writes to the disk" "$TEST_TMP/$1.err"
		[ -n "$vmm_pid" ] && kill -KILL "$vmm_pid" 2>/dev/null
	fi
	check_stop "$1" "$2" "$4"
}

# until_blocking PID: until PID, the VMM's program itself (no longer the
# wrapper shell of an uninstalled build), blocks SIGTERM: the first thing
# its main() does.
until_blocking() {
	_n=0
	while [ "$_n" -lt 200 ]; do
		case $(readlink "/proc/$1/exe" 2>/dev/null) in
		*/vmm-reference)
			_blk=$(awk '/^SigBlk:/ { print $2 }' "/proc/$1/status" 2>/dev/null)
			[ $((0x${_blk:-0} & 0x4000)) -ne 0 ] && return 0 ;;
		esac
		sleep 0.01
		_n=$((_n + 1))
	done
	return 1
}

plan 32

# At its very start: stopped as soon as it blocks the signal, before it
# builds the VM, the VMM gets SIGTERM and goes on with it pending.
start_pty term-start
if [ -n "$vmm_pid" ] && until_blocking "$vmm_pid" && kill -STOP "$vmm_pid"; then
	ok "SIGTERM at start-up: sent before the VMM builds the VM"
	kill -TERM "$vmm_pid"
	kill -CONT "$vmm_pid"
else
	not_ok "SIGTERM at start-up: sent before the VMM builds the VM (pid '$vmm_pid')"
fi
check_stop term-start "SIGTERM at start-up" 15
during_boot term-boot "SIGTERM during boot" TERM 15
during_io int-io "SIGINT during disk I/O" INT 2
during_boot int-boot "SIGINT during boot" INT 2
during_io term-io "SIGTERM during disk I/O" TERM 15

# SIGKILL: no cleanup at all, yet the kernel drops the image's lock with
# the process, and the next VMM takes the disk at once.
out=$TEST_TMP/kill
: >"$out"
"$TIMEOUT" -k 5 30 sh -c 'echo $$ >"$0.pid"; exec "$@"' "$out" "$VMM" $VMM_ARGS \
	--kernel "$GUEST" </dev/null >"$out" 2>&1 &
timeout_pid=$!
pid=
_n=0
until [ -s "$out.pid" ] || [ "$_n" -ge 100 ]; do
	sleep 0.05
	_n=$((_n + 1))
done
pid=$(cat "$out.pid" 2>/dev/null)
if [ -n "$pid" ] && wait_output "$out" "$pid" '^STREAM START' 20; then
	ok "SIGKILL during disk I/O: the guest was writing"
else
	not_ok "SIGKILL during disk I/O: the guest was writing" "$out"
fi
[ -n "$pid" ] && kill -KILL "$pid"
wait "$timeout_pid"
during_io after-kill "after SIGKILL, a new VMM on the same disk" TERM 15
if grep -q 'in use\|locked' "$TEST_TMP/after-kill.err"; then
	not_ok "after SIGKILL: no lock error" "$TEST_TMP/after-kill.err"
else
	ok "after SIGKILL: no lock error"
fi
done_testing
