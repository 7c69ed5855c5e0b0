# SPDX-License-Identifier: Apache-2.0
# Network namespaces for the virtio-net tests. Source after tests/lib.sh
# and call tmpdir_make first. Every test makes its own namespace with a
# TAP in it, runs the VMM inside it, and removes it when it ends, failed
# or not; nothing in it is routed anywhere: only the documentation range
# 192.0.2.0/24 (the host side is 192.0.2.1) is used.

NET_HOST_IP=192.0.2.1
NET_TAP=vmmtap0
_net_pids=
_net_n=0
_net_vmm=$VMM
# A command the test may set, run first at exit (e.g. to thaw a file system).
NET_CLEANUP=

# require_dnsmasq: the test skips without Debian's dnsmasq-base.
require_dnsmasq() {
	command -v dnsmasq >/dev/null 2>&1 || PATH=$PATH:/usr/sbin:/sbin
	command -v dnsmasq >/dev/null 2>&1 || plan skip "dnsmasq not found (Debian: dnsmasq-base)"
}

_netns_cleanup() {
	[ -n "$NET_CLEANUP" ] && $NET_CLEANUP
	for _p in $_net_pids; do
		kill "$_p" 2>/dev/null
	done
	[ -n "${NET_NS:-}" ] && ip netns del "$NET_NS" 2>/dev/null
	rm -rf "$TEST_TMP"
}

# Skips the test before its plan, bails out after it.
_net_skip() {
	[ -n "$tap_planned" ] && { echo "Bail out! $1"; exit 1; }
	plan skip "$1"
}

# netns_setup [TAP...]: namespace $NET_NS with loopback up and each TAP
# (default $NET_TAP) up, the first with $NET_HOST_IP/24; from then on
# $VMM runs inside it. Skips the test where namespaces cannot be made.
# Called again, it replaces the namespace with a fresh one.
netns_setup() {
	[ "$(id -u)" -eq 0 ] || _net_skip "needs root for a network namespace"
	command -v ip >/dev/null 2>&1 || PATH=$PATH:/usr/sbin:/sbin
	[ -n "${NET_NS:-}" ] && ip netns del "$NET_NS"
	_net_n=$((_net_n + 1))
	NET_NS=vmmtest-$$-$(basename "$0" .sh)-$_net_n
	trap _netns_cleanup EXIT
	trap 'exit 1' HUP INT TERM
	ip netns add "$NET_NS" 2>/dev/null || { NET_NS=; _net_skip "cannot create a network namespace"; }
	in_netns ip link set lo up
	_first=1
	for _t in ${*:-$NET_TAP}; do
		in_netns ip tuntap add dev "$_t" mode tap || _net_skip "cannot create a TAP device"
		[ "$_first" = 1 ] && in_netns ip addr add "$NET_HOST_IP/24" dev "$_t"
		in_netns ip link set "$_t" up
		_first=0
	done
	printf '#!/bin/sh\nexec ip netns exec %s %s "$@"\n' "$NET_NS" "$_net_vmm" >"$TEST_TMP/vmm-in-netns"
	chmod +x "$TEST_TMP/vmm-in-netns"
	VMM=$TEST_TMP/vmm-in-netns
}

# in_netns CMD...: run CMD in the test's namespace.
in_netns() {
	ip netns exec "$NET_NS" "$@"
}

# netns_track PID: kill PID (a server the test started) at the end.
netns_track() {
	_net_pids="$_net_pids $1"
}

