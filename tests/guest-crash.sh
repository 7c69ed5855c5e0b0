#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# A guest that crashes must make the VMM exit 3 with a message naming the
# KVM exit reason and the guest RIP (not hang, not exit 0); a guest poking
# unbacked ports and MMIO must not bring the VMM down; the i8042 answers
# its self tests and resets the machine through its output port too.
. "$top_srcdir/tests/lib.sh"
require_kvm
tmpdir_make

ELF=$GUEST_DIR/crash.elf
[ -f "$ELF" ] || { plan 1; not_ok "guest image $ELF exists"; done_testing; }

# crash_case DESC MODE CPUS REASON-REGEXP
crash_case() {
	desc=$1; mode=$2; cpus=$3; reason=$4
	out=$TEST_TMP/out.$tap_n
	run_vmm 60 "$out" --memory size_mib=64 --vcpu num=$cpus \
		--kernel "path=$ELF,cmdline=\"crash=$mode\""
	rc=$?
	if [ "$rc" -eq 3 ]; then
		ok "$desc: exit status 3"
	else
		not_ok "$desc: exit status 3 (got $rc)" "$out"
	fi
	rip=$(sed -n "s/^CRASH $mode rip 0x\\([0-9a-f]*\\)\$/\\1/p" "$out")
	if [ -z "$rip" ]; then
		not_ok "$desc: guest got to the crash" "$out"
		return
	fi
	if grep -v '^CRASH' "$out" | grep -qEi "$reason"; then
		ok "$desc: the message names the exit reason"
	else
		not_ok "$desc: the message names the exit reason (/$reason/)" "$out"
	fi
	if grep -v '^CRASH' "$out" | grep -qEi "rip[^0-9a-z]*(0x)?0*$rip([^0-9a-f]|\$)"; then
		ok "$desc: the message names RIP 0x$rip"
	else
		not_ok "$desc: the message names RIP 0x$rip" "$out"
	fi
}

plan 13
crash_case "triple fault" triple 1 'shutdown|triple'
crash_case "triple fault, 2 vCPUs" triple 2 'shutdown|triple'
crash_case "instruction fetch from MMIO" mmio-exec 1 'internal|emulat'

out=$TEST_TMP/fuzz
run_vmm 60 "$out" --memory size_mib=64 --vcpu num=1 --kernel "path=$ELF,cmdline=\"crash=fuzz\""
rc=$?
expect_exit0 "port and MMIO fuzz" "$rc" "$out"
if grep -q '^FUZZ DONE' "$out" && grep -qx 'RESULT PASS' "$out"; then
	ok "port and MMIO fuzz: guest finished"
else
	not_ok "port and MMIO fuzz: guest finished" "$out"
fi

# i8042 controller basics, then a reset through its output port.
out=$TEST_TMP/i8042
run_vmm 60 "$out" --memory size_mib=64 --vcpu num=1 --kernel "path=$ELF,cmdline=\"crash=i8042\""
rc=$?
expect_exit0 "i8042" "$rc" "$out"
if grep -qx 'I8042 PASS' "$out" && grep -qx 'I8042 OUTPORT RESET' "$out" &&
   ! grep -q '^FAIL' "$out" && ! grep -q '^RESULT' "$out"; then
	ok "i8042: controller checks pass, output port reset stops the VM"
else
	not_ok "i8042: controller checks pass, output port reset stops the VM" "$out"
fi
done_testing
