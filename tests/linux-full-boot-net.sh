#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Boot to user space with a network: init configures eth0 (virtio-net on
# a TAP in the test's own namespace) as 192.0.2.2/24 and pings the host's
# 192.0.2.1, then reboots. Needs KVM that can run guest user space (native
# KVM): runs only with VMM_TEST_FULL_BOOT=1.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/linux-lib.sh"
. "$top_srcdir/tests/net-lib.sh"
if [ "${VMM_TEST_FULL_BOOT:-0}" != 1 ]; then
	plan skip "VMM_TEST_FULL_BOOT=1 not set (needs native KVM: guest user mode cannot run under this host's emulating KVM)"
fi
require_linux_kernels
have_busybox || plan skip "no static busybox (Debian: busybox-static)"
tmpdir_make
netns_setup
: "${VMM_TEST_KERNEL_QUIRKS=}"

cat >"$TEST_TMP/init" <<'EOI'
#!/bin/sh
/bin/busybox mount -t proc proc /proc
/bin/busybox ip link set lo up
/bin/busybox ip addr add 192.0.2.2/24 dev eth0
/bin/busybox ip link set eth0 up
/bin/busybox ping -c 3 -W 5 192.0.2.1 && echo VMMTEST-PING-OK
/bin/busybox reboot -f
EOI
make_initramfs "$TEST_TMP/rd" "$TEST_TMP/init" "$TEST_TMP/initrd.cpio"
VMM_TEST_LINUX_TIMEOUT=${VMM_TEST_FULL_BOOT_TIMEOUT:-120}
start_vm ping --memory size_mib=256 --net "tap=$NET_TAP" --kernel \
	"path=$VMLINUX,initrd=$TEST_TMP/initrd.cpio,cmdline=\"console=ttyS0 reboot=k panic=-1 $VMM_TEST_KERNEL_QUIRKS\""
wait_vms
log_matches ping "the guest's eth0 got replies from the host" "3 packets transmitted, 3 packets received"
log_has ping "init saw ping succeed" "VMMTEST-PING-OK"
vm_exited_by_itself ping
done_testing
