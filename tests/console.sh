#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The console as a person uses it, on a real terminal (a tmux pane):
# every key reaches the guest, Ctrl-C too; Ctrl-A h lists the escape keys,
# Ctrl-A Ctrl-A sends one Ctrl-A, Ctrl-A x quits; the VMM's stop line
# starts a line of its own after an unfinished guest line; the terminal is
# as it was after a quit and after SIGTERM. The serial test guest echoes
# what it reads and, on 'q', reports the byte count and a weighted sum.
. "$top_srcdir/tests/lib.sh"
require_kvm
command -v tmux >/dev/null 2>&1 || plan skip "tmux is not installed"
tmpdir_make

ELF=$GUEST_DIR/serial.elf
[ -f "$ELF" ] || { plan 1; not_ok "guest image $ELF exists"; done_testing; }

TMUX_SOCK=vmmtest$$
tmux_() { tmux -L "$TMUX_SOCK" -f /dev/null "$@"; }
trap 'tmux_ kill-server 2>/dev/null; rm -rf "$TEST_TMP"' EXIT

# start NAME: the VMM on a new pane's terminal, stderr on it too. Around
# it, the terminal's settings before and after, and its exit status.
start() {
	cat >"$TEST_TMP/$1.sh" <<EOF
stty -g >"$TEST_TMP/$1.before"
$TIMEOUT --foreground -k 5 60 "$VMM" --memory size_mib=64 \\
	--kernel path="$ELF",cmdline=$1-$$
echo \$? >"$TEST_TMP/$1.status"
stty -g >"$TEST_TMP/$1.after"
sleep 120
EOF
	tmux_ new-session -d -s "$1" -x 120 -y 40 "sh $TEST_TMP/$1.sh"
}

screen() { tmux_ capture-pane -p -J -S -300 -t "$1" >"$TEST_TMP/$1.screen"; }

# wait_screen NAME REGEX SECONDS
wait_screen() {
	_n=0
	while [ "$_n" -lt $(($3 * 10)) ]; do
		screen "$1"
		grep -qE -- "$2" "$TEST_TMP/$1.screen" && return 0
		[ -f "$TEST_TMP/$1.status" ] && return 1
		sleep 0.1
		_n=$((_n + 1))
	done
	return 1
}

# wait_status NAME SECONDS: until the VMM has exited and the terminal's
# settings were read after it.
wait_status() {
	_n=0
	while [ ! -s "$TEST_TMP/$1.after" ] && [ "$_n" -lt $(($2 * 10)) ]; do
		sleep 0.1
		_n=$((_n + 1))
	done
	screen "$1"
	[ -s "$TEST_TMP/$1.after" ]
}

# check_run NAME DESC STATUS: exit status and the terminal restored.
check_run() {
	if wait_status "$1" 60 && [ "$(cat "$TEST_TMP/$1.status")" = "$3" ]; then
		ok "$2: exit status $3"
	else
		echo "# status: $(cat "$TEST_TMP/$1.status" 2>/dev/null)" >>"$TEST_TMP/$1.screen"
		not_ok "$2: exit status $3" "$TEST_TMP/$1.screen"
	fi
	if cmp -s "$TEST_TMP/$1.before" "$TEST_TMP/$1.after"; then
		ok "$2: the terminal's settings are as they were"
	else
		{ cat "$TEST_TMP/$1.before"; cat "$TEST_TMP/$1.after"; } >"$TEST_TMP/$1.diff" 2>&1
		not_ok "$2: the terminal's settings are as they were" "$TEST_TMP/$1.diff"
	fi
}

ready() {
	if wait_screen "$1" '^SERIAL READY' 60; then
		ok "$2: guest ready"
	else
		not_ok "$2: guest ready" "$TEST_TMP/$1.screen"
	fi
}

plan 15

# 1. Ctrl-A h, then Ctrl-C and Ctrl-A Ctrl-A reach the guest as 0x03 and
# 0x01: it counts 2 bytes, weighted sum 1*3 + 2*1 = 5.
start keys
ready keys "keys"
tmux_ send-keys -t keys C-a h
if wait_screen keys 'C-a x +exit' 30; then
	ok "keys: Ctrl-A h lists the escape keys"
else
	not_ok "keys: Ctrl-A h lists the escape keys" "$TEST_TMP/keys.screen"
fi
tmux_ send-keys -t keys C-c C-a C-a q
check_run keys "keys" 0
expect_egrep "keys: Ctrl-C and Ctrl-A Ctrl-A reached the guest as two bytes" \
	"$TEST_TMP/keys.screen" '^SERIAL RX 2 sum 5 '
expect_egrep "keys: the guest reset the machine" "$TEST_TMP/keys.screen" \
	'^vmm-reference: stopped after [0-9.]+ s: guest reset'

# 2. Ctrl-A x after an unfinished line ("ab", echoed): the VMM quits, and
# its stop line starts on a line of its own.
start quit
ready quit "Ctrl-A x"
tmux_ send-keys -t quit a b
wait_screen quit '^ab' 30 || true
tmux_ send-keys -t quit C-a x
check_run quit "Ctrl-A x" 0
expect_egrep "Ctrl-A x: the stop line says so, on a line of its own" "$TEST_TMP/quit.screen" \
	'^vmm-reference: stopped after [0-9.]+ s: stopped on request \(Ctrl-A x on the console\)'
expect_egrep "Ctrl-A x: the guest's line is kept" "$TEST_TMP/quit.screen" '^ab$'

# 3. SIGTERM while the terminal is raw: the VMM stops, the terminal is
# put back.
start term
ready term "SIGTERM"
# The VMM itself, not the timeout around it (which would pass it on).
pkill -TERM -f "^[^ ]*vmm-reference .*cmdline=term-$$"
check_run term "SIGTERM" 0
expect_egrep "SIGTERM: the stop line names the signal" "$TEST_TMP/term.screen" \
	'stopped on request \(signal 15\)'

done_testing
