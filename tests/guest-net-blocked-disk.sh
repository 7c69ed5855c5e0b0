#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# No device stalls another: the net guest (net_blk=1) submits a disk write
# and flush whose image lives on a frozen file system, so they cannot
# complete; meanwhile the guest must still answer pings over virtio-net
# and echo what arrives on its console. Once the file system thaws, the
# write and flush complete with status OK. The file system is a small
# ext4 image loop-mounted in the test's directory; it is thawed first on
# every way out, before anything is killed, unmounted or deleted.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/net-lib.sh"
require_kvm
tmpdir_make
netns_setup

ELF=$GUEST_DIR/net.elf
PEER=$top_builddir/tests/net-peer
GUEST_IP=192.0.2.2
MNT=$TEST_TMP/mnt
OUT=$TEST_TMP/vm.out
PING_WAIT=2             # seconds each ping may take
CONSOLE_WAIT=5          # seconds for the echo of a console byte
[ -f "$ELF" ] && [ -x "$PEER" ] || { plan 1; not_ok "$ELF and $PEER exist"; done_testing; }
for t in ping mkfs.ext4 fsfreeze mount umount mountpoint; do
	command -v "$t" >/dev/null 2>&1 ||
		plan skip "$t not found (Debian: iputils-ping, e2fsprogs, util-linux, mount)"
done

# Thaw, then stop the VM (it cannot end while its write is blocked), then
# unmount: what net-lib.sh deletes afterwards is no longer on the mount.
frozen=
vm=
disk_cleanup() {
	[ -n "$frozen" ] && fsfreeze -u "$MNT"
	frozen=
	if [ -n "$vm" ]; then
		kill "$vm" 2>/dev/null
		wait "$vm"
		vm=
	fi
	exec 3>&-
	if mountpoint -q "$MNT"; then
		umount "$MNT" || umount -l "$MNT"
	fi
}
NET_CLEANUP=disk_cleanup

truncate -s 32M "$TEST_TMP/fs.img" && mkfs.ext4 -q -F "$TEST_TMP/fs.img" ||
	plan skip "cannot make an ext4 image"
mkdir "$MNT"
mount -o loop "$TEST_TMP/fs.img" "$MNT" 2>"$TEST_TMP/mount.err" ||
	plan skip "cannot loop-mount an image: $(head -n 1 "$TEST_TMP/mount.err")"
# Only ever freeze that mount: on a plain directory fsfreeze would freeze
# the file system holding it.
if ! mountpoint -q "$MNT" || [ "$(stat -c %d "$MNT")" = "$(stat -c %d "$TEST_TMP")" ]; then
	plan skip "the loop mount is not where it should be"
fi
head -c 1048576 /dev/zero >"$MNT/disk.img" && sync || plan skip "cannot write the disk image"

plan 6

mkfifo "$TEST_TMP/console"
exec 3<>"$TEST_TMP/console"
fsfreeze -f "$MNT" && frozen=1 || { echo "Bail out! fsfreeze -f failed"; exit 1; }
"$TIMEOUT" -k 10 300 "$VMM" --memory size_mib=64 --vcpu num=1 --block "path=$MNT/disk.img" \
	--net "tap=$NET_TAP" --kernel "path=$ELF,cmdline=\"net_blk=1 net_serve=200\"" \
	<"$TEST_TMP/console" >"$OUT" 2>&1 &
vm=$!

# wait_line REGEX SECONDS: wait_output for the VM.
wait_line() {
	wait_output "$OUT" "$vm" "$1" "$2"
}

# 1. While the write is blocked: pings, each answered within PING_WAIT s.
if wait_line '^INFO blk: write of sector 0' 120; then
	sleep 1
	in_netns "$TIMEOUT" 60 ping -c 10 -i 0.2 -W "$PING_WAIT" "$GUEST_IP" >"$TEST_TMP/ping" 2>&1
	got=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$TEST_TMP/ping")
	rtt=$(sed -n 's/^rtt .* = [^/]*\/[^/]*\/\([^/]*\)\/.*/\1/p' "$TEST_TMP/ping")
	diag "disk write blocked: ${got:-0} of 10 pings answered, max RTT ${rtt:-none} ms"
	if [ "${got:-0}" -eq 10 ]; then
		ok "disk write blocked: 10 of 10 pings answered within $PING_WAIT s each"
	else
		not_ok "disk write blocked: 10 of 10 pings answered within $PING_WAIT s each" \
			"$TEST_TMP/ping"
	fi
else
	not_ok "disk write blocked: 10 pings answered (the guest never submitted its write)" "$OUT"
fi

# 2. ... and console input echoed.
printf Z >&3
if wait_line '^CONSOLE 5a' "$CONSOLE_WAIT"; then
	ok "disk write blocked: a console byte echoed within $CONSOLE_WAIT s"
else
	not_ok "disk write blocked: a console byte echoed within $CONSOLE_WAIT s" "$OUT"
fi

# 3. The write really was blocked all that time.
if grep -q '^BLK DONE' "$OUT"; then
	not_ok "the disk write did not complete while the file system was frozen" "$OUT"
else
	ok "the disk write did not complete while the file system was frozen"
fi

# 4. Thawed, the write and flush complete OK; then "quit".
fsfreeze -u "$MNT" && frozen=
if wait_line '^BLK DONE' 60 && grep -qx 'BLK DONE 0' "$OUT"; then
	ok "thawed: write and flush completed with status 0"
else
	not_ok "thawed: write and flush completed with status 0" "$OUT"
fi
for try in 1 2 3; do
	kill -0 "$vm" 2>/dev/null || break
	in_netns "$TIMEOUT" 10 "$PEER" send "$GUEST_IP" 7 quit >/dev/null 2>&1
	sleep 3
done
wait "$vm"
rc=$?
vm=
expect_exit0 "blocked disk" "$rc" "$OUT"
if grep -qx 'RESULT PASS' "$OUT" && ! grep -q '^FAIL' "$OUT" && grep -qx 'PASS net-blk' "$OUT" &&
   grep -qx 'PASS net-icmp' "$OUT" && grep -qx 'NET END quit' "$OUT"; then
	ok "guest checks pass, ended by quit"
else
	not_ok "guest checks pass, ended by quit" "$OUT"
fi

done_testing
