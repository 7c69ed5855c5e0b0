#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# --serial: file= carries the guest's output (and nothing reaches stdout),
# off discards it, socket= is a Unix socket a client (socat) attaches to
# and types into, pty a pseudo-terminal the same; a stale socket file is
# replaced, one a live VMM listens on is refused, and the socket is
# removed when the VMM exits.
. "$top_srcdir/tests/lib.sh"
require_kvm
tmpdir_make

BOOT=$GUEST_DIR/boot.elf
SERIAL=$GUEST_DIR/serial.elf
for g in "$BOOT" "$SERIAL"; do
	[ -f "$g" ] || { plan 1; not_ok "guest image $g exists"; done_testing; }
done
T=$TEST_TMP

plan 15

# 1. file=: the boot guest's whole output in the file, none on stdout.
run_vmm 60 "$T/file.out" --memory size_mib=64 --kernel path="$BOOT" --serial file="$T/con.txt"
expect_exit0 "file=" $? "$T/file.out"
expect_grep "file=: the guest's output is in the file" "$T/con.txt" "RESULT PASS"
if grep -q 'BOOT' "$T/file.out"; then
	not_ok "file=: nothing of it on stdout" "$T/file.out"
else
	ok "file=: nothing of it on stdout"
fi

# 2. off: the guest runs, its output goes nowhere.
run_vmm 60 "$T/off.out" --memory size_mib=64 --kernel path="$BOOT" --serial off
expect_exit0 "off" $? "$T/off.out"
if grep -q 'BOOT' "$T/off.out"; then
	not_ok "off: the guest's output is discarded" "$T/off.out"
else
	ok "off: the guest's output is discarded"
fi

# 3. socket=: a client attaches, sees the guest echo what it types, and the
# guest's report; the socket is gone afterwards.
SOCK=$T/con.sock
if command -v socat >/dev/null 2>&1; then
	run_vmm 60 "$T/sock.out" --memory size_mib=64 --kernel path="$SERIAL" \
		--serial socket="$SOCK" &
	vm=$!
	wait_output "$T/sock.out" $vm "console is on $SOCK" 30
	# A second VMM on the same socket is refused while the first lives.
	run_vmm 30 "$T/sock2.out" --memory size_mib=64 --kernel path="$SERIAL" \
		--serial socket="$SOCK"
	rc=$?
	if [ $rc -eq 1 ] && grep -q "$SOCK exists and is in use" "$T/sock2.out"; then
		ok "socket=: a socket in use is refused, exit 1"
	else
		not_ok "socket=: a socket in use is refused, exit 1 (got $rc)" "$T/sock2.out"
	fi
	{ sleep 1; printf 'hello q'; sleep 5; } |
		"$TIMEOUT" 30 socat - UNIX-CONNECT:"$SOCK" >"$T/sock.client" 2>&1
	wait $vm
	expect_exit0 "socket=" $? "$T/sock.out"
	expect_grep "socket=: the client sees the guest echo its input" "$T/sock.client" "hello "
	expect_egrep "socket=: the guest received the client's bytes" "$T/sock.client" \
		'^SERIAL RX 6 sum '
	if [ -e "$SOCK" ]; then
		not_ok "socket=: removed on exit"
	else
		ok "socket=: removed on exit"
	fi
else
	for d in "a socket in use is refused" "exit status 0" "the client sees the echo" \
		"the guest received the bytes" "removed on exit"; do
		skip "socket=: $d" "socat is not installed"
	done
fi

# 4. A stale socket file (its VMM was killed) is replaced.
if command -v socat >/dev/null 2>&1; then
	# Killed, socat cannot remove its socket: a stale one stays.
	socat UNIX-LISTEN:"$T/stale.sock" /dev/null &
	sleep 1
	kill -9 $! 2>/dev/null
	wait $! 2>/dev/null
fi
if [ -S "$T/stale.sock" ]; then
	run_vmm 60 "$T/stale.out" --memory size_mib=64 --kernel path="$BOOT" \
		--serial socket="$T/stale.sock"
	expect_exit0 "stale socket replaced" $? "$T/stale.out"
else
	skip "stale socket replaced: exit status 0" "cannot leave a stale socket here"
fi

# 5. pty: a reader on the pseudo-terminal sees the echo and the report.
run_vmm 60 "$T/pty.out" --memory size_mib=64 --kernel path="$SERIAL" --serial pty &
vm=$!
if wait_output "$T/pty.out" $vm 'console is on /dev/pts/[0-9]+' 30; then
	pts=$(sed -n 's,.*console is on \(/dev/pts/[0-9]*\):.*,\1,p' "$T/pty.out")
	ok "pty: the VMM names its pseudo-terminal ($pts)"
	"$TIMEOUT" 30 cat "$pts" >"$T/pty.client" 2>&1 &
	reader=$!
	sleep 1
	printf 'abc q' >"$pts"
	wait $vm
	expect_exit0 "pty" $? "$T/pty.out"
	sleep 0.5
	kill $reader 2>/dev/null
	expect_egrep "pty: the reader sees the guest's report" "$T/pty.client" \
		'SERIAL RX 4 sum '
else
	not_ok "pty: the VMM names its pseudo-terminal" "$T/pty.out"
	kill $vm 2>/dev/null
	skip "pty: exit status 0" "no pseudo-terminal"
	skip "pty: the reader sees the guest's report" "no pseudo-terminal"
fi

# 6. One console only.
run_vmm 10 "$T/two.out" --kernel path="$BOOT" --serial pty,file=x
rc=$?
if [ $rc -eq 2 ] && grep -q 'serial' "$T/two.out"; then
	ok "two consoles at once: a usage error"
else
	not_ok "two consoles at once: a usage error (got $rc)" "$T/two.out"
fi

done_testing
