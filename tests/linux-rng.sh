#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# virtio-rng and virtio-blk together under the real kernel: both devices
# are on its command line in the order given, the kernel registers both,
# its hw_random core reads the entropy device (the source is a file of 16
# bytes, so the VMM soon says it has no more), vda is the disk even though
# the rng took the first slot, and the run ends at the i8042 reset.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/linux-lib.sh"
require_linux_kernels
command -v mkfs.ext4 >/dev/null 2>&1 || PATH=$PATH:/sbin:/usr/sbin
command -v mkfs.ext4 >/dev/null 2>&1 || plan skip "mkfs.ext4 not found (Debian: e2fsprogs)"
tmpdir_make

base="console=ttyS0 earlyprintk=serial panic=-1 reboot=k $VMM_TEST_KERNEL_QUIRKS"
truncate -s 64M "$TEST_TMP/root.ext4" && mkfs.ext4 -q -F "$TEST_TMP/root.ext4" >/dev/null 2>&1
head -c 16 /dev/urandom >"$TEST_TMP/seed"

start_vm rng --memory size_mib=128 --rng "source=$TEST_TMP/seed" \
	--block "path=$TEST_TMP/root.ext4" --kernel "path=$VMLINUX,cmdline=\"$base\""
wait_vms

log_has rng "both devices on the command line, rng first" \
	"virtio_mmio.device=4K@0xd0000000:5 virtio_mmio.device=4K@0xd0001000:6"
log_has rng "the kernel registers the rng's window" \
	"Registering device virtio-mmio.0 at 0xd0000000-0xd0000fff, IRQ 5"
log_has rng "the kernel registers the disk's window" \
	"Registering device virtio-mmio.1 at 0xd0001000-0xd0001fff, IRQ 6"
log_has rng "the kernel's hw_random core read the entropy device to its end" \
	"virtio-rng $TEST_TMP/seed: the source has no more bytes"
log_has rng "the disk is vda" "[vda] 131072 512-byte logical blocks"
log_has rng "its ext4 root mounted" "EXT4-fs (vda): mounted filesystem"
vm_exited_by_itself rng
done_testing
