#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# virtio-blk under the real kernel, no initramfs: the kernel's driver finds
# vda (and vdb), mounts the ext4 root from the image, and the mount's own
# superblock update is visible on the host afterwards (rw), or not (ro).
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/linux-lib.sh"
require_linux_kernels
for t in mkfs.ext4 dumpe2fs; do
	command -v $t >/dev/null 2>&1 || PATH=$PATH:/sbin:/usr/sbin
	command -v $t >/dev/null 2>&1 || plan skip "$t not found (Debian: e2fsprogs)"
done
tmpdir_make

base="console=ttyS0 earlyprintk=serial panic=-1 reboot=k $VMM_TEST_KERNEL_QUIRKS"
mkimg() {  # mkimg FILE MiB
	truncate -s "${2}M" "$1" && mkfs.ext4 -q -F -L vmmtest "$1" >/dev/null 2>&1
}
sb() {  # sb FILE FIELD  -> value of a dumpe2fs -h field
	dumpe2fs -h "$1" 2>/dev/null | sed -n "s/^$2: *//p"
}
mkimg "$TEST_TMP/rw.ext4" 64
mkimg "$TEST_TMP/ro.ext4" 32
truncate -s 8M "$TEST_TMP/data.img"
rw_count0=$(sb "$TEST_TMP/rw.ext4" "Mount count")
ro_count0=$(sb "$TEST_TMP/ro.ext4" "Mount count")
ro_sum0=$(cksum <"$TEST_TMP/ro.ext4")

start_vm rw --memory size_mib=128 --kernel "path=$VMLINUX,cmdline=\"$base\"" \
	--block "path=$TEST_TMP/rw.ext4"
start_vm ro --memory size_mib=128 --kernel "path=$VMLINUX,cmdline=\"$base\"" \
	--block "path=$TEST_TMP/ro.ext4,read_only=on,id=rootdisk" --block "path=$TEST_TMP/data.img,id=data"
wait_vms

log_has rw "root=/dev/vda rw appended to the command line" "root=/dev/vda rw"
log_has rw "virtio-mmio device on the command line" "virtio_mmio.device=4K@0xd0000000:5"
log_has rw "the kernel finds vda with the image's size" "[vda] 131072 512-byte logical blocks"
log_has rw "ext4 root mounted" "EXT4-fs (vda): mounted filesystem"
log_matches rw "VFS mounted the root read-write" "VFS: Mounted root \(ext4 filesystem\) on device"
vm_exited_by_itself rw
rw_count1=$(sb "$TEST_TMP/rw.ext4" "Mount count")
if [ -n "$rw_count0" ] && [ "$rw_count1" = $((rw_count0 + 1)) ]; then
	ok "rw: the guest's mount reached the image (mount count $rw_count0 -> $rw_count1)"
else
	not_ok "rw: the guest's mount reached the image (mount count $rw_count0 -> $rw_count1)"
fi
lm=$(sb "$TEST_TMP/rw.ext4" "Last mount time")
if [ -n "$lm" ] && [ "$lm" != "n/a" ]; then ok "rw: last mount time set ($lm)"; else not_ok "rw: last mount time set ($lm)"; fi

log_has ro "root=/dev/vda ro appended to the command line" "root=/dev/vda ro"
log_has ro "two devices on the command line" "virtio_mmio.device=4K@0xd0001000:6"
log_has ro "vda with the root image's size" "[vda] 65536 512-byte logical blocks"
log_has ro "vdb with the data image's size" "[vdb] 16384 512-byte logical blocks"
log_matches ro "the read-only disk is seen as such" "EXT4-fs \(vda\): mounted filesystem .*r/o|EXT4-fs \(vda\): INFO: recovery required on readonly|Mounted root \(ext4 filesystem\) readonly"
log_has ro "VFS mounted the root read-only" "VFS: Mounted root (ext4 filesystem) readonly"
vm_exited_by_itself ro
ro_count1=$(sb "$TEST_TMP/ro.ext4" "Mount count")
if [ "$ro_count1" = "$ro_count0" ] && [ "$(cksum <"$TEST_TMP/ro.ext4")" = "$ro_sum0" ]; then
	ok "ro: the image is unchanged (mount count $ro_count0)"
else
	not_ok "ro: the image is unchanged (mount count $ro_count0 -> $ro_count1)"
fi
done_testing
