#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# 100 VMs one after another and 20 at once in one process, and nothing
# left behind (tests/lifecycle.c), under a time limit: it takes seconds,
# the limit allows for a loaded host.
. "$top_srcdir/tests/lib.sh"
tmpdir_make
# A read-only disk for the VMs' virtio-blk device.
dd if=/dev/zero of="$TEST_TMP/disk.img" bs=64k count=16 2>/dev/null
"$TIMEOUT" -k 5 300 "$top_builddir/tests/lifecycle" "$GUEST_DIR/boot.elf" "$TEST_TMP/disk.img"
