#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# virtio-net under the real kernel: in a network namespace of its own, a
# TAP with 192.0.2.1/24 and dnsmasq serving DHCP on it alone; the kernel's
# own IP autoconfiguration (ip=dhcp) takes a lease through Linux's
# virtio-net driver -- a DHCP discover out, the offer in, the request out,
# the ack in -- and the run ends at the i8042 reset (the kernel panics
# without a root file system, and panic=-1 reboots).
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/linux-lib.sh"
. "$top_srcdir/tests/net-lib.sh"
require_linux_kernels
require_dnsmasq
tmpdir_make
netns_setup

GUEST_IP=192.0.2.77
MAC=52:54:00:12:34:56
# A daemon (not a job of this shell, which waits for the VMM's).
in_netns dnsmasq --conf-file=/dev/null --interface="$NET_TAP" --bind-interfaces \
	--except-interface=lo --port=0 --log-dhcp --log-facility="$TEST_TMP/dnsmasq.log" \
	--dhcp-range="$GUEST_IP,$GUEST_IP,255.255.255.0,1h" \
	--dhcp-leasefile="$TEST_TMP/leases" --pid-file="$TEST_TMP/dnsmasq.pid" ||
	plan skip "dnsmasq does not start"
netns_track "$(cat "$TEST_TMP/dnsmasq.pid")"

base="console=ttyS0 earlyprintk=serial panic=-1 reboot=k ip=dhcp $VMM_TEST_KERNEL_QUIRKS"
start_vm dhcp --memory size_mib=128 --net "tap=$NET_TAP,mac=$MAC" \
	--kernel "path=$VMLINUX,cmdline=\"$base\""
wait_vms

log_has dhcp "the kernel registers the device's window" \
	"Registering device virtio-mmio.0 at 0xd0000000-0xd0000fff, IRQ 5"
log_has dhcp "DHCP answer from the host's server" \
	"IP-Config: Got DHCP answer from 192.0.2.1, my address is $GUEST_IP"
log_has dhcp "IP autoconfiguration complete" "IP-Config: Complete:"
log_has dhcp "on eth0 with the MAC given and the leased address" \
	"device=eth0, hwaddr=$MAC, ipaddr=$GUEST_IP, mask=255.255.255.0"
expect_grep "dnsmasq acked the lease to the guest's MAC" "$TEST_TMP/dnsmasq.log" \
	"DHCPACK($NET_TAP) $GUEST_IP $MAC"
vm_exited_by_itself dhcp
done_testing
