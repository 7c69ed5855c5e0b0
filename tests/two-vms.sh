#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Two VMs in one process (tests/two-vms.c), under a time limit.
. "$top_srcdir/tests/lib.sh"
exec "$TIMEOUT" -k 5 60 "$top_builddir/tests/two-vms" "$GUEST_DIR/boot.elf"
