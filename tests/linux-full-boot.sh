#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Boot to user space: init prints a marker, the CPU count and the memory,
# then reboots; ELF and bzImage, 1 and 2 vCPUs. Needs KVM that can run guest
# user space (native KVM): runs only with VMM_TEST_FULL_BOOT=1.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/linux-lib.sh"
if [ "${VMM_TEST_FULL_BOOT:-0}" != 1 ]; then
	echo "full boot-to-userspace tests skipped: set VMM_TEST_FULL_BOOT=1 on a host with native KVM" >&2
	plan skip "VMM_TEST_FULL_BOOT=1 not set (needs native KVM: guest user mode cannot run under this host's emulating KVM)"
fi
require_linux_kernels
have_busybox || plan skip "no static busybox (Debian: busybox-static)"
tmpdir_make
: "${VMM_TEST_KERNEL_QUIRKS=}"

cat >"$TEST_TMP/init" <<'EOI'
#!/bin/sh
/bin/busybox mount -t proc proc /proc
echo "VMMTEST-USERSPACE cpus=$(/bin/busybox grep -c ^processor /proc/cpuinfo) $(/bin/busybox grep MemTotal /proc/meminfo | /bin/busybox tr -s ' ')"
/bin/busybox reboot -f
EOI
make_initramfs "$TEST_TMP/rd" "$TEST_TMP/init" "$TEST_TMP/initrd.cpio"
VMM_TEST_LINUX_TIMEOUT=${VMM_TEST_FULL_BOOT_TIMEOUT:-120}
for img in vmlinux bzImage; do
	for n in 1 2; do
		start_vm "$img-$n" --memory size_mib=256 --vcpu num=$n --kernel \
			"path=$SHARED_GUEST_DIR/$img,initrd=$TEST_TMP/initrd.cpio,cmdline=\"console=ttyS0 reboot=k panic=-1 $VMM_TEST_KERNEL_QUIRKS\""
	done
done
# ext4 root on virtio-blk: init writes a file, syncs and reboots; the host
# reads the file back with debugfs.
PATH=$PATH:/sbin:/usr/sbin
rootdir=$TEST_TMP/rootfs
mkdir -p "$rootdir/bin" "$rootdir/dev" "$rootdir/proc"
cp "$(command -v busybox || echo /bin/busybox)" "$rootdir/bin/busybox"
ln -s busybox "$rootdir/bin/sh"
cat >"$rootdir/init" <<'EOI'
#!/bin/sh
/bin/busybox mount -o remount,rw /
echo "written by the guest" >/hello.txt
/bin/busybox sync
echo VMMTEST-ROOT-WRITTEN
/bin/busybox reboot -f
EOI
chmod 755 "$rootdir/init"
truncate -s 64M "$TEST_TMP/root.ext4"
mkfs.ext4 -q -F -d "$rootdir" "$TEST_TMP/root.ext4"
start_vm blk --memory size_mib=256 --block "path=$TEST_TMP/root.ext4" --kernel \
	"path=$VMLINUX,cmdline=\"console=ttyS0 reboot=k panic=-1 init=/init $VMM_TEST_KERNEL_QUIRKS\""
wait_vms
log_has blk "init ran from the ext4 root" "VMMTEST-ROOT-WRITTEN"
vm_exited_by_itself blk
if debugfs -R "cat /hello.txt" "$TEST_TMP/root.ext4" 2>/dev/null | grep -q "written by the guest"; then
	ok "blk: the file the guest wrote is in the image"
else
	not_ok "blk: the file the guest wrote is in the image"
fi
for img in vmlinux bzImage; do
	for n in 1 2; do
		log_matches "$img-$n" "init ran with $n CPUs" "VMMTEST-USERSPACE cpus=$n MemTotal: [0-9]+ kB"
		vm_exited_by_itself "$img-$n"
	done
done
done_testing
