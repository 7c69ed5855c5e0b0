#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# virtio-blk: the blk test guest drives the VMM's virtio-mmio block devices
# with its own minimal driver: reads (single, multi-segment, last sector,
# by interrupt), out-of-range and unsupported requests, GET_ID, write +
# flush (checked in the image file afterwards), read-only disks, several
# disks, and malformed requests followed by a device reset.
. "$top_srcdir/tests/lib.sh"
require_kvm
tmpdir_make

ELF=$GUEST_DIR/blk.elf
[ -f "$ELF" ] || { plan 1; not_ok "guest image $ELF exists"; done_testing; }

# make_disk FILE TAG SECTORS: sector n holds "DISK<tag> SECTOR <%08d>"
# padded with '.' to 511 bytes and a newline.
make_disk() {
	awk -v tag="$2" -v n="$3" 'BEGIN {
		pad = "."; while (length(pad) < 512) pad = pad pad
		for (i = 0; i < n; i++) {
			s = sprintf("DISK%s SECTOR %08d", tag, i)
			print s substr(pad, 1, 511 - length(s))
		}
	}' >"$1"
}

# sector FILE N: the first 32 bytes of sector N.
sector() {
	dd if="$1" bs=512 skip="$2" count=1 2>/dev/null | head -c 32
}

# blk_run DESC OUT VMM-ARGS...: exit status 0 and "BLK PASS".
blk_run() {
	desc=$1; out=$2; shift 2
	run_vmm 60 "$out" --memory size_mib=128 --vcpu num=1 "$@"
	rc=$?
	expect_exit0 "$desc" "$rc" "$out" "$@"
	if grep -q '^BLK PASS' "$out" && grep -qx 'RESULT PASS' "$out" &&
	   ! grep -q '^FAIL' "$out"; then
		ok "$desc: guest checks pass"
	else
		not_ok "$desc: guest checks pass" "$out"
	fi
}

plan 17

# 1. A writable disk of 2048 sectors with a serial number.
make_disk "$TEST_TMP/a.img" A 2048
blk_run "read-write disk" "$TEST_TMP/out1" --block "path=$TEST_TMP/a.img,id=guest-blk-0" \
	--kernel "path=$ELF,cmdline=\"expect_blk_tags=A expect_blk_sectors=2048 blk_write_sector=5\""
expect_grep "read-write disk: GET_ID serial" "$TEST_TMP/out1" "BLK 0 ID[guest-blk-0]"
if [ "$(sector "$TEST_TMP/a.img" 5)" = "GUEST WROTE SECTOR 00000005....." ]; then
	ok "read-write disk: the guest's write reached the image"
else
	not_ok "read-write disk: the guest's write reached the image (sector 5: $(sector "$TEST_TMP/a.img" 5))"
fi
if [ "$(sector "$TEST_TMP/a.img" 4)" = "DISKA SECTOR 00000004..........." ] &&
   [ "$(sector "$TEST_TMP/a.img" 7)" = "DISKA SECTOR 00000007..........." ]; then
	ok "read-write disk: other sectors untouched"
else
	not_ok "read-write disk: other sectors untouched"
fi
if grep -q '^PASS blk-write-zeroes sector 6' "$TEST_TMP/out1"; then
	if [ "$(dd if="$TEST_TMP/a.img" bs=512 skip=6 count=1 2>/dev/null | od -An -v -tx1 | tr -d ' \n' | tr -d 0)" = "" ]; then
		ok "read-write disk: write-zeroes reached the image"
	else
		not_ok "read-write disk: write-zeroes reached the image"
	fi
else
	skip "read-write disk: write-zeroes reached the image" "device does not offer WRITE_ZEROES"
fi
if [ "$(wc -c <"$TEST_TMP/a.img" | tr -d ' ')" -eq $((2048 * 512)) ]; then
	ok "read-write disk: image size unchanged"
else
	not_ok "read-write disk: image size unchanged"
fi

# 2. Read-only: writes fail, the image does not change.
make_disk "$TEST_TMP/r.img" R 100
cp "$TEST_TMP/r.img" "$TEST_TMP/r.orig"
blk_run "read-only disk" "$TEST_TMP/out2" --block "path=$TEST_TMP/r.img,read_only=on" \
	--kernel "path=$ELF,cmdline=\"expect_blk_tags=R expect_blk_sectors=100 expect_blk_ro=1\""
if cmp -s "$TEST_TMP/r.img" "$TEST_TMP/r.orig"; then
	ok "read-only disk: image unchanged"
else
	not_ok "read-only disk: image unchanged"
fi

# 3. Two disks, vda and vdb, in command-line order; an odd size.
make_disk "$TEST_TMP/b.img" B 37
make_disk "$TEST_TMP/c.img" C 64
blk_run "two disks" "$TEST_TMP/out3" --block "path=$TEST_TMP/b.img" --block "path=$TEST_TMP/c.img" \
	--kernel "path=$ELF,cmdline=\"expect_blk_tags=BC expect_blk_sectors=37 blk_write_sector=36\""
if [ "$(sector "$TEST_TMP/b.img" 36)" = "GUEST WROTE SECTOR 00000036....." ] &&
   [ "$(sector "$TEST_TMP/c.img" 36)" = "DISKC SECTOR 00000036..........." ]; then
	ok "two disks: the write went to vda only"
else
	not_ok "two disks: the write went to vda only"
fi

# 4. Malformed requests must not bring the VMM down; a reset recovers.
make_disk "$TEST_TMP/d.img" D 64
blk_run "malformed requests" "$TEST_TMP/out4" --block "path=$TEST_TMP/d.img" \
	--kernel "path=$ELF,cmdline=\"expect_blk_tags=D blk_abuse=1\""
expect_grep "malformed requests: device works after reset" "$TEST_TMP/out4" "PASS blk-reset-recovery"

# 5. No disk: no device at 0xd0000000.
run_vmm 60 "$TEST_TMP/out5" --memory size_mib=64 --vcpu num=1 --kernel "path=$ELF"
if grep -q '^BLK FAIL no device' "$TEST_TMP/out5"; then
	ok "no disk: no virtio device found"
else
	not_ok "no disk: no virtio device found" "$TEST_TMP/out5"
fi

done_testing
