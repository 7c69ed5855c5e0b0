#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The shared Linux 6.1 kernel (ELF vmlinux and bzImage) runs its whole
# initialisation under vmm-reference; the test asserts on the kernel's own
# log lines and on the i8042 reset that ends the run (panic=-1 reboot=k:
# where user space cannot run, init dies, the kernel panics and resets).
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/linux-lib.sh"
require_linux_kernels
tmpdir_make

base="console=ttyS0 earlyprintk=serial panic=-1 reboot=k $VMM_TEST_KERNEL_QUIRKS"
# A quoted value with a comma and a space inside (key=value parser).
elf_cmdline="$base vmmtest.list=a,b vmmtest.words=\"x y\""
kopt() {  # kopt PATH CMDLINE [extra keys]  ->  the --kernel value
	_c=$(printf '%s' "$2" | sed 's/\\/\\\\/g; s/"/\\"/g')
	printf 'path=%s,cmdline="%s"%s' "$1" "$_c" "${3:-}"
}

initrd=
if have_busybox; then
	cat >"$TEST_TMP/init" <<'EOI'
#!/bin/sh
echo VMMTEST-INIT-RAN
/bin/busybox reboot -f
EOI
	make_initramfs "$TEST_TMP/initramfs" "$TEST_TMP/init" "$TEST_TMP/initrd.cpio" && initrd="$TEST_TMP/initrd.cpio"
fi

# ELF, 1 vCPU, 128 MiB, initramfs.
start_vm elf --memory size_mib=128 --vcpu num=1 \
	--kernel "$(kopt "$VMLINUX" "$elf_cmdline" "${initrd:+,initrd=$initrd}")"
# bzImage, 1 vCPU, 256 MiB, initramfs (the shipped one is not relocatable:
# the guest tests cover other load addresses).
start_vm bzimage --memory size_mib=256 --kernel \
	"$(kopt "$BZIMAGE" "$base" "${initrd:+,initrd=$initrd}")"
# SMP: 2 and 4 vCPUs.
start_vm smp2 --memory size_mib=256 --vcpu num=2 --kernel "$(kopt "$VMLINUX" "$base $VMM_TEST_SMP_QUIRKS")"
start_vm smp4 --memory size_mib=256 --vcpu num=4 --kernel "$(kopt "$VMLINUX" "$base $VMM_TEST_SMP_QUIRKS")"
wait_vms

# Memory above the 32-bit gap: the E820 map the kernel prints first thing.
# (Initialising 3 GiB of page structures takes minutes under emulation, so
# this run is stopped with SIGTERM once the map is out: vmm-reference must
# then stop cleanly with status 0.)
"$TIMEOUT" -k 10 "$VMM_TEST_LINUX_TIMEOUT" "$VMM" --memory size_mib=3329 \
	--kernel "$(kopt "$VMLINUX" "$base")" </dev/null >"$TEST_TMP/gap.log" 2>&1 &
gap_pid=$!
i=0
while [ $i -lt 300 ] && ! grep -q "BIOS-e820: \[mem 0x0000000100000000" "$TEST_TMP/gap.log" 2>/dev/null; do
	sleep 1; i=$((i + 1))
done
sleep 1
kill -TERM $gap_pid 2>/dev/null
wait $gap_pid
echo $? >"$TEST_TMP/gap.rc"

# ---- ELF
log_has elf "Linux version" "Linux version 6.1"
log_has elf "the command line arrives verbatim (quoted value with a comma)" "Command line: $elf_cmdline"
log_has elf "E820 base memory" "BIOS-e820: [mem 0x0000000000000000-0x000000000009fbff] usable"
log_has elf "E820 reserved EBDA/BIOS area" "BIOS-e820: [mem 0x000000000009fc00-0x00000000000fffff] reserved"
log_has elf "E820 high memory = 128 MiB" "BIOS-e820: [mem 0x0000000000100000-0x0000000007ffffff] usable"
log_matches elf "memory available" "Memory: [0-9]+K/1[23][0-9]{4}K available"
log_has elf "MP table found" "found SMP MP-table at [mem 0x000f0000-0x000f000f]"
log_has elf "1 CPU allowed" "smpboot: Allowing 1 CPUs"
log_has elf "1 CPU up" "smp: Brought up 1 node, 1 CPU"
log_has elf "16550 probed with IRQ 4" "ttyS0 at I/O 0x3f8 (irq = 4, base_baud = 115200) is a 16550A"
log_has elf "i8042 found" "serio: i8042 KBD port at 0x60,0x64 irq 1"
if [ -n "$initrd" ]; then
	log_has elf "initramfs unpacked and init started" "Run /init as init process"
else
	skip "elf: initramfs unpacked and init started" "no static busybox (Debian: busybox-static)"
fi
log_has elf "the kernel panics when init cannot run" "Kernel panic - not syncing"
vm_exited_by_itself elf

# ---- bzImage
log_has bzimage "Linux version" "Linux version 6.1"
log_has bzimage "command line" "Command line: $base"
log_has bzimage "E820 high memory = 256 MiB" "BIOS-e820: [mem 0x0000000000100000-0x000000000fffffff] usable"
log_has bzimage "16550 probed with IRQ 4" "ttyS0 at I/O 0x3f8 (irq = 4"
if [ -n "$initrd" ]; then
	log_has bzimage "initramfs unpacked and init started" "Run /init as init process"
else
	skip "bzimage: initramfs unpacked and init started" "no static busybox (Debian: busybox-static)"
fi
vm_exited_by_itself bzimage

# ---- SMP
for n in 2 4; do
	log_has smp$n "$n CPUs in the MP table" "Processors: $n"
	log_has smp$n "$n CPUs allowed" "smpboot: Allowing $n CPUs"
	log_has smp$n "all $n CPUs brought up" "smp: Brought up 1 node, $n CPUs"
	vm_exited_by_itself smp$n
done

# ---- memory above 4 GiB
log_has gap "E820 below the gap ends at 3328 MiB" "BIOS-e820: [mem 0x0000000000100000-0x00000000cfffffff] usable"
log_has gap "E820 above 4 GiB holds the last MiB" "BIOS-e820: [mem 0x0000000100000000-0x00000001000fffff] usable"
if [ "$(cat "$TEST_TMP/gap.rc")" -eq 0 ]; then
	ok "gap: SIGTERM stops the VM cleanly with status 0"
else
	not_ok "gap: SIGTERM stops the VM cleanly with status 0 (got $(cat "$TEST_TMP/gap.rc"))" "$TEST_TMP/gap.log"
fi
done_testing
