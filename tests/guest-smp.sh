#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The smp test guest starts every AP with INIT-SIPI-SIPI (real-mode
# trampoline up to long mode); each AP prints "AP <id> up", the BSP prints
# "SMP PASS <cpus>" once all checked in, within its own time limit.
. "$top_srcdir/tests/lib.sh"
require_kvm
tmpdir_make

ELF=$GUEST_DIR/smp.elf
BZ=$GUEST_DIR/smp.bzimage
for f in "$ELF" "$BZ"; do
	[ -f "$f" ] || { plan 1; not_ok "guest image $f exists"; done_testing; }
done

# smp_case DESC CPUS VMM-ARGS...
smp_case() {
	desc=$1; cpus=$2; shift 2
	out=$TEST_TMP/out.$tap_n
	run_vmm 60 "$out" "$@"
	rc=$?
	expect_exit0 "$desc" "$rc" "$out" "$@"
	missing=
	i=1
	while [ "$i" -lt "$cpus" ]; do
		grep -qx "AP $i up" "$out" || missing="$missing $i"
		i=$((i + 1))
	done
	if [ -z "$missing" ] && [ "$(grep -c '^AP [0-9]* up$' "$out")" -eq $((cpus - 1)) ]; then
		ok "$desc: every AP reported once"
	else
		not_ok "$desc: every AP reported once (missing:${missing:- none})" "$out"
	fi
	if grep -qx "SMP PASS $cpus" "$out" && grep -qx 'RESULT PASS' "$out" &&
	   ! grep -q '^FAIL' "$out"; then
		ok "$desc: SMP PASS $cpus"
	else
		not_ok "$desc: SMP PASS $cpus" "$out"
	fi
}

plan 15
for cpus in 1 2 4; do
	smp_case "ELF, $cpus vCPUs" $cpus --memory size_mib=128 --vcpu num=$cpus \
		--kernel "path=$ELF,cmdline=\"expect_cpus=$cpus\""
done
smp_case "ELF, 8 vCPUs" 8 --memory size_mib=256 --vcpu num=8 \
	--kernel "path=$ELF,cmdline=\"expect_cpus=8\""
smp_case "bzImage at 0x200000, 3 vCPUs" 3 --memory size_mib=128 --vcpu num=3 \
	--kernel "path=$BZ,kernel_load_addr=0x200000,cmdline=\"expect_cpus=3\""
done_testing
