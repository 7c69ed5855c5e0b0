#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# COM1 input: the serial test guest takes receive interrupts through the
# IOAPIC (pin 4 -> vector 0x24), echoes what it reads and, on 'q', reports
# the byte count and a weighted sum, which must match what was sent on the
# VMM's stdin.
. "$top_srcdir/tests/lib.sh"
require_kvm
tmpdir_make

ELF=$GUEST_DIR/serial.elf
[ -f "$ELF" ] || { plan 1; not_ok "guest image $ELF exists"; done_testing; }

# Sum over the bytes of a file of (i + 1) * byte[i], modulo 2^32.
wsum() {
	od -An -v -tu1 "$1" |
	awk '{ for (i = 1; i <= NF; i++) { n++; s = (s + n * $i) % 4294967296 } }
	     END { printf "%.0f\n", s }'
}

# check_summary DESC OUT DATAFILE: the guest's RX line matches DATAFILE.
check_summary() {
	size=$(wc -c <"$3" | tr -d ' ')
	sum=$(wsum "$3")
	if grep -q "^SERIAL RX $size sum $sum irqs [0-9]* polled [0-9]*\$" "$2" &&
	   grep -qx 'SERIAL PASS' "$2"; then
		ok "$1: guest received $size bytes intact"
	else
		echo "# expected: SERIAL RX $size sum $sum" >>"$2"
		not_ok "$1: guest received $size bytes intact" "$2"
	fi
}

check_exit() {
	if [ "$2" -eq 0 ]; then
		ok "$1: exit status 0"
	else
		not_ok "$1: exit status 0 (got $2)" "$3"
	fi
}

run_serial() {
	run_vmm 60 "$1" --memory size_mib=64 --vcpu num=1 --kernel "path=$ELF"
}

plan 9

# 1. A short line from a file: echoed back verbatim.
printf 'hello, serial world 0123456789' >"$TEST_TMP/short"
{ cat "$TEST_TMP/short"; printf 'q'; } >"$TEST_TMP/short.in"
VMM_STDIN=$TEST_TMP/short.in run_serial "$TEST_TMP/out1"
check_exit "short input" $? "$TEST_TMP/out1"
expect_grep "short input: echoed" "$TEST_TMP/out1" "hello, serial world 0123456789"
check_summary "short input" "$TEST_TMP/out1" "$TEST_TMP/short"

# 2. Much more than a 16550 FIFO holds.
awk 'BEGIN { for (i = 0; i < 5000; i++) printf "%c", 97 + (i * 7 + int(i / 16)) % 16 }' \
	>"$TEST_TMP/long"
{ cat "$TEST_TMP/long"; printf 'q'; } >"$TEST_TMP/long.in"
VMM_STDIN=$TEST_TMP/long.in run_serial "$TEST_TMP/out2"
check_exit "5000 bytes" $? "$TEST_TMP/out2"
check_summary "5000 bytes" "$TEST_TMP/out2" "$TEST_TMP/long"

# 3. Bytes sent only after the guest sits in hlt with interrupts on: only
# an interrupt can wake it.
mkfifo "$TEST_TMP/fifo"
VMM_STDIN=$TEST_TMP/fifo run_serial "$TEST_TMP/out3" &
pid=$!
exec 3>"$TEST_TMP/fifo"
n=0
while ! grep -q '^SERIAL READY' "$TEST_TMP/out3" 2>/dev/null && [ $n -lt 300 ]; do
	sleep 0.1 2>/dev/null || sleep 1
	n=$((n + 1))
done
if grep -q '^SERIAL READY' "$TEST_TMP/out3"; then
	ok "interactive: guest ready"
else
	not_ok "interactive: guest ready" "$TEST_TMP/out3"
fi
sleep 1
# Written with cat, not the shell: a VMM that died early must not take the
# test down with SIGPIPE.
printf 'late bytes' >"$TEST_TMP/late"
printf 'q' >"$TEST_TMP/q"
cat "$TEST_TMP/late" >&3 2>/dev/null
sleep 1
cat "$TEST_TMP/q" >&3 2>/dev/null
exec 3>&-
wait $pid
check_exit "interactive" $? "$TEST_TMP/out3"
check_summary "interactive" "$TEST_TMP/out3" "$TEST_TMP/late"
if grep -q '^SERIAL RX .* irqs [1-9][0-9]* ' "$TEST_TMP/out3"; then
	ok "interactive: input came by interrupt"
else
	not_ok "interactive: input came by interrupt" "$TEST_TMP/out3"
fi

done_testing
