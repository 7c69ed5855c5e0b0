#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Boots the boot test guest (tests/guests/boot.c) as an ELF and as a bzImage
# with several vCPU counts, memory sizes around the MMIO gap (3328 MiB),
# load addresses and an initrd; the guest checks the zero page, E820 map, MP
# table, CPUID and entry state against expectations passed on its command
# line and prints its command line back, which must match exactly.
. "$top_srcdir/tests/lib.sh"
require_kvm
tmpdir_make

ELF=$GUEST_DIR/boot.elf
BZ=$GUEST_DIR/boot.bzimage
for f in "$ELF" "$BZ"; do
	[ -f "$f" ] || { plan 1; not_ok "guest image $f exists"; done_testing; }
done

# An initrd with awkward size and content, and its weighted byte sum
# (sum of (i + 1) * byte[i] modulo 2^32, as the guest computes it).
INITRD=$TEST_TMP/initrd
head -c 70001 "$ELF" >"$INITRD"
initrd_size=$(wc -c <"$INITRD" | tr -d ' ')
initrd_sum=$(od -An -v -tu1 "$INITRD" |
	awk '{ for (i = 1; i <= NF; i++) { n++; s = (s + n * $i) % 4294967296 } }
	     END { printf "%.0f\n", s }')

# boot_case DESC EXPECTED_CMDLINE VMM-ARGS...
# Three TAP points: exit status 0, the guest's checks all pass, and the
# command line the guest saw equals EXPECTED_CMDLINE.
boot_case() {
	desc=$1; want=$2; shift 2
	out=$TEST_TMP/out.$tap_n
	run_vmm 60 "$out" "$@"
	rc=$?
	expect_exit0 "$desc" "$rc" "$out" "$@"
	if grep -qx 'RESULT PASS' "$out" && ! grep -q '^FAIL' "$out" &&
	   [ "$(grep -c '^PASS ' "$out")" -ge 10 ]; then
		ok "$desc: guest checks pass"
	else
		not_ok "$desc: guest checks pass" "$out"
	fi
	if grep -qxF "CMDLINE[$want]" "$out"; then
		ok "$desc: exact command line"
	else
		echo "# expected: CMDLINE[$want]" >>"$out"
		not_ok "$desc: exact command line" "$out"
	fi
}

plan 39

for cpus in 1 2 4; do
	c="expect_mem_mib=128 expect_cpus=$cpus expect_load=0x100000"
	boot_case "ELF, $cpus vCPUs, 128 MiB" "$c" \
		--memory size_mib=128 --vcpu num=$cpus --kernel "path=$ELF,cmdline=\"$c\""
done

for mem in 3327 3328 3329 4096; do
	c="expect_mem_mib=$mem expect_cpus=2"
	boot_case "ELF, 2 vCPUs, $mem MiB" "$c" \
		--memory size_mib=$mem --vcpu num=2 --kernel "path=$ELF,cmdline=\"$c\""
done

c="expect_mem_mib=128 expect_cpus=1 expect_load=0x100000"
boot_case "bzImage, default load address" "$c" \
	--memory size_mib=128 --vcpu num=1 --kernel "path=$BZ,cmdline=\"$c\""

c="expect_mem_mib=3329 expect_cpus=4 expect_load=0x200000"
boot_case "bzImage at 0x200000, 4 vCPUs, 3329 MiB" "$c" \
	--memory size_mib=3329 --vcpu num=4 --kernel "path=$BZ,kernel_load_addr=0x200000,cmdline=\"$c\""

c="expect_mem_mib=256 expect_cpus=1 expect_load=0x1000000"
boot_case "bzImage at 16 MiB" "$c" \
	--memory size_mib=256 --vcpu num=1 --kernel "path=$BZ,kernel_load_addr=0x1000000,cmdline=\"$c\""

c="expect_mem_mib=256 expect_cpus=1 expect_initrd_size=$initrd_size expect_initrd_sum=$initrd_sum"
boot_case "ELF with an initrd" "$c" \
	--memory size_mib=256 --vcpu num=1 --kernel "path=$ELF,initrd=$INITRD,cmdline=\"$c\""

c="expect_mem_mib=512 expect_cpus=2 expect_load=0x200000 expect_initrd_size=$initrd_size expect_initrd_sum=$initrd_sum"
boot_case "bzImage at 0x200000 with an initrd" "$c" \
	--memory size_mib=512 --vcpu num=2 --kernel "path=$BZ,kernel_load_addr=0x200000,initrd=$INITRD,cmdline=\"$c\""

# Commas, spaces and escaped quotes inside the quoted cmdline value.
c='expect_mem_mib=128 expect_cpus=1 list=a,b,c msg="hello, world"  two  spaces'
boot_case "quoted command line" "$c" \
	--memory size_mib=128 --vcpu num=1 \
	--kernel "path=$ELF,cmdline=\"expect_mem_mib=128 expect_cpus=1 list=a,b,c msg=\\\"hello, world\\\"  two  spaces\""

done_testing
