#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# virtio-net: the net test guest drives the VMM's network device (--net
# tap=NAME) with its own minimal driver, over a TAP in a network namespace
# of its own for each run (tests/net-lib.sh): ARP and ICMP from the guest,
# pings and 1000 UDP echoes (tests/net-peer) from the host, with and
# without VIRTIO_NET_F_MRG_RXBUF; the MAC given and the default ones; no
# busy loop while the guest posts no receive buffers and the host floods
# it; the usage errors.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/net-lib.sh"
require_kvm
tmpdir_make
netns_setup

ELF=$GUEST_DIR/net.elf
PEER=$top_builddir/tests/net-peer
GUEST_IP=192.0.2.2
VM_SECS=240
# The guest serves at most this long when no "quit" comes.
SERVE=150
[ -f "$ELF" ] && [ -x "$PEER" ] || { plan 1; not_ok "$ELF and $PEER exist"; done_testing; }
command -v ping >/dev/null 2>&1 || plan skip "ping not found (Debian: iputils-ping)"

# net_start NAME VMM-ARGS...: the VMM in the background, in the namespace
# and under the timeout, output into $TEST_TMP/NAME.out; $vm_pid is the
# timeout's PID, its child the VMM. Each is waited for with vm_wait.
vms=
net_start() {
	_out=$TEST_TMP/$1.out; shift
	"$TIMEOUT" -k 10 "$VM_SECS" "$VMM" --memory size_mib=64 --vcpu num=1 "$@" \
		</dev/null >"$_out" 2>&1 &
	vm_pid=$!
	vms="$vms $vm_pid"
}

# vm_wait PID: its exit status; from then on it is not ours to kill.
vm_wait() {
	wait "$1"
	_rc=$?
	vms=$(echo "$vms" | sed "s/ $1\b//")
	return "$_rc"
}

# At exit, the VMs still running (their timeout passes the signal on).
kill_vms() {
	for _p in $vms; do
		kill "$_p" 2>/dev/null
	done
}
NET_CLEANUP=kill_vms

# wait_line NAME REGEX SECONDS: wait_output for the VM NAME.
wait_line() {
	wait_output "$TEST_TMP/$1.out" "$vm_pid" "$2" "$3"
}

# quit_vm: "quit" to the guest's echo port until the VM ends (a datagram
# may be lost), then its exit status.
quit_vm() {
	for _try in 1 2 3; do
		kill -0 "$vm_pid" 2>/dev/null || break
		in_netns "$TIMEOUT" 10 "$PEER" send "$GUEST_IP" 7 quit >/dev/null 2>&1
		sleep 3
	done
	vm_wait "$vm_pid"
}

# guest_mac NAME N: the MAC the guest printed for its N-th net device.
guest_mac() {
	sed -n "s/^NET MAC $2 //p" "$TEST_TMP/$1.out" | head -n 1
}

# local_unicast MAC: six hex bytes, bit 1 of the first set, bit 0 clear.
local_unicast() {
	echo "$1" | grep -qE '^[0-9a-f][26ae](:[0-9a-f]{2}){5}$'
}

# guest_passed NAME LAST...: RESULT PASS, no FAIL, and each "PASS <LAST>".
guest_passed() {
	_o=$TEST_TMP/$1.out; shift
	grep -qx 'RESULT PASS' "$_o" && ! grep -q '^FAIL' "$_o" || return 1
	for _p in "$@"; do
		grep -qx "PASS $_p" "$_o" || return 1
	done
}

# echo_run NAME SEED CMDLINE VMM-ARGS...: a fresh namespace, the guest's
# ARP and ICMP checks, 3 pings and 1000 UDP echoes from the host, "quit".
# Five TAP points.
echo_run() {
	name=$1; seed=$2; cmd=$3; shift 3
	out=$TEST_TMP/$name.out
	netns_setup
	net_start "$name" "$@" --kernel "path=$ELF,cmdline=\"net_serve=$SERVE $cmd\""
	if wait_line "$name" '^NET READY' 120; then
		if in_netns "$TIMEOUT" 60 ping -c 3 -W 5 "$GUEST_IP" \
			>"$TEST_TMP/$name.ping" 2>&1; then
			ok "$name: 3 pings from the host answered"
			diag "$(tail -n 1 "$TEST_TMP/$name.ping")"
		else
			not_ok "$name: 3 pings from the host answered" "$TEST_TMP/$name.ping"
		fi
		if in_netns "$TIMEOUT" 300 "$PEER" echo "$GUEST_IP" 7 1000 "$seed" \
			>"$TEST_TMP/$name.peer" 2>&1; then
			ok "$name: 1000 UDP datagrams (seed $seed) echoed intact and in order"
			diag "$(cat "$TEST_TMP/$name.peer")"
		else
			not_ok "$name: 1000 UDP datagrams (seed $seed) echoed intact and in order" \
				"$TEST_TMP/$name.peer"
		fi
	else
		not_ok "$name: 3 pings from the host answered (the guest never got ready)" "$out"
		not_ok "$name: 1000 UDP datagrams echoed (the guest never got ready)"
	fi
	quit_vm
	expect_exit0 "$name" $? "$out" "$@"
	if guest_passed "$name" net-mac net-link net-arp net-icmp &&
	   grep -qx 'NET END quit' "$out"; then
		ok "$name: guest checks pass (link, ARP, ICMP, frames well-formed), ended by quit"
	else
		not_ok "$name: guest checks pass, ended by quit" "$out"
	fi
	if grep -qE '^NET COUNTERS .* udp 1000 ' "$out"; then
		ok "$name: the guest echoed exactly 1000 datagrams"
	else
		not_ok "$name: the guest echoed exactly 1000 datagrams" "$out"
	fi
}

# cpu_ticks PID: utime + stime of all its threads, in clock ticks.
cpu_ticks() {
	sed 's/^.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'
}

# now_ms: the wall clock in milliseconds.
now_ms() {
	echo $(( $(date +%s%N) / 1000000 ))
}

# expect_fail DESC STATUS VMM-ARGS...: exit STATUS; stderr in $TEST_TMP/fail.err.
expect_fail() {
	desc=$1; want=$2; shift 2
	"$TIMEOUT" -k 10 60 "$VMM" "$@" </dev/null >"$TEST_TMP/fail.out" 2>"$TEST_TMP/fail.err"
	got=$?
	[ "$got" -eq "$want" ] && return 0
	echo "# exit status $got, expected $want" >>"$TEST_TMP/fail.err"
	return 1
}

plan 24

# a, b. The MAC given; then the default one and MRG_RXBUF (512-byte
# buffers: a full-size frame spans three).
echo_run "fixed MAC" 1 "" --net "tap=$NET_TAP,mac=52:54:00:12:34:56"
if [ "$(guest_mac "fixed MAC" 0)" = 52:54:00:12:34:56 ]; then
	ok "fixed MAC: the guest reads the MAC given in its config space"
else
	not_ok "fixed MAC: the guest reads 52:54:00:12:34:56 (got '$(guest_mac "fixed MAC" 0)')"
fi

echo_run "MRG_RXBUF" 2 "net_mrg=1" --net "tap=$NET_TAP"
mac_b=$(guest_mac MRG_RXBUF 0)
if local_unicast "$mac_b"; then
	ok "default MAC $mac_b: locally administered unicast"
else
	not_ok "default MAC '$mac_b': locally administered unicast"
fi
mrg=$(sed -n 's/^NET MRG max buffers //p' "$TEST_TMP/MRG_RXBUF.out")
if [ "${mrg:-0}" -gt 1 ]; then
	ok "MRG_RXBUF: frames came merged from up to $mrg buffers"
else
	not_ok "MRG_RXBUF: frames came merged from several buffers (at most '$mrg')"
fi

# c. Default MACs: two devices of one VM, and a second VM on a third TAP
# at the same time, all differ.
netns_setup vmmtap0 vmmtap1 vmmtap2
net_start macs2 --net tap=vmmtap0 --net tap=vmmtap1 \
	--kernel "path=$ELF,cmdline=\"net_norx=1 net_serve=1\""
pid_a=$vm_pid
net_start macs1 --net tap=vmmtap2 --kernel "path=$ELF,cmdline=\"net_norx=1 net_serve=1\""
vm_wait "$pid_a"
expect_exit0 "two devices" $? "$TEST_TMP/macs2.out"
vm_wait "$vm_pid"
expect_exit0 "second VM" $? "$TEST_TMP/macs1.out"
m0=$(guest_mac macs2 0); m1=$(guest_mac macs2 1); m2=$(guest_mac macs1 0)
if local_unicast "$m0" && local_unicast "$m1" && [ "$m0" != "$m1" ]; then
	ok "two devices of one VM: default MACs $m0 and $m1, locally administered unicast, differ"
else
	not_ok "two devices of one VM: default MACs '$m0' and '$m1' differ" "$TEST_TMP/macs2.out"
fi
if local_unicast "$m2" && [ "$m2" != "$m0" ] && [ "$m2" != "$m1" ]; then
	ok "second VM: default MAC $m2 differs from the first VM's"
else
	not_ok "second VM: default MAC '$m2' differs from '$m0' and '$m1'" "$TEST_TMP/macs1.out"
fi

# d. No receive buffers while the host floods the guest: frames wait in
# the TAP, and the VMM must not spin on them. The guest cannot answer
# ARP, so the host gets its MAC as a static neighbour.
netns_setup
net_start norx --net "tap=$NET_TAP" --kernel "path=$ELF,cmdline=\"net_norx=1 net_serve=20\""
if wait_line norx '^NET READY' 120 &&
   vmm_pid=$(cat "/proc/$vm_pid/task/$vm_pid/children" 2>/dev/null | awk '{ print $1 }') &&
   [ -n "$vmm_pid" ] &&
   in_netns ip neigh add "$GUEST_IP" lladdr "$(guest_mac norx 0)" dev "$NET_TAP"; then
	c0=$(cpu_ticks "$vmm_pid"); t0=$(now_ms)
	in_netns "$TIMEOUT" 30 "$PEER" flood "$GUEST_IP" 7 5 >"$TEST_TMP/flood" 2>&1
	frc=$?
	c1=$(cpu_ticks "$vmm_pid"); t1=$(now_ms)
	hz=$(getconf CLK_TCK)
	cpu_ms=$(( (c1 - c0) * 1000 / hz )); wall_ms=$((t1 - t0))
	diag "$(cat "$TEST_TMP/flood")"
	diag "VMM CPU time during the flood: $cpu_ms ms in $wall_ms ms"
	if [ "$frc" -eq 0 ]; then
		ok "no receive buffers: the host flooded the guest"
	else
		not_ok "no receive buffers: the host flooded the guest" "$TEST_TMP/flood"
	fi
	desc="no receive buffers: VMM CPU time under 10% of the wall time"
	if [ $((cpu_ms * 10)) -lt "$wall_ms" ]; then
		ok "$desc ($cpu_ms of $wall_ms ms)"
	else
		not_ok "$desc ($cpu_ms of $wall_ms ms)"
	fi
else
	not_ok "no receive buffers: the guest got ready, the VMM's PID known" "$TEST_TMP/norx.out"
	not_ok "no receive buffers: VMM CPU time under 10% of the wall time (not measured)"
fi
vm_wait "$vm_pid"
rc=$?
if [ "$rc" -eq 0 ] && guest_passed norx net-mac net-link; then
	ok "no receive buffers: the VM ran on and exited 0 with RESULT PASS"
else
	not_ok "no receive buffers: the VM ran on and exited 0 with RESULT PASS (exit $rc)" \
		"$TEST_TMP/norx.out"
fi

# e. Usage errors: MACs that are no interface address; a TAP that does not
# exist is named, with how to create it, and is not created.
for bad in 01:00:5e:00:00:01 00:00:00:00:00:00; do
	if expect_fail "mac=$bad" 2 --net "tap=$NET_TAP,mac=$bad" --kernel "path=$ELF" &&
	   grep -q mac "$TEST_TMP/fail.err"; then
		ok "mac=$bad: exit status 2, stderr names mac"
	else
		not_ok "mac=$bad: exit status 2, stderr names mac" "$TEST_TMP/fail.err"
	fi
done
if expect_fail "missing TAP" 1 --net tap=nosuchtap9 --kernel "path=$ELF" &&
   grep nosuchtap9 "$TEST_TMP/fail.err" | grep -q 'ip tuntap add' &&
   ! in_netns ip link show nosuchtap9 >/dev/null 2>&1; then
	ok "missing TAP: exit status 1, stderr names it and 'ip tuntap add', nothing created"
else
	not_ok "missing TAP: exit status 1, stderr names it and 'ip tuntap add', nothing created" \
		"$TEST_TMP/fail.err"
fi

# f. At most 8 --net (names that do not exist: the count is a usage error
# before any TAP is looked at).
set --
for i in 0 1 2 3 4 5 6 7 8; do
	set -- "$@" --net "tap=nosuchtap$i"
done
if expect_fail "--net 9 times" 2 "$@" --kernel "path=$ELF" &&
   grep -q -- --net "$TEST_TMP/fail.err"; then
	ok "--net 9 times: exit status 2, stderr names --net"
else
	not_ok "--net 9 times: exit status 2, stderr names --net" "$TEST_TMP/fail.err"
fi

done_testing
