#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# The tree's layering, from what the compiler itself includes (-MM lists
# every header a file pulls in, through other headers too):
#   - a device (lib/devices, lib/virtio) never includes the VM core's
#     private header lib/core/machine.h (struct vmm), nor any other
#     header of the core but the services of its environment (bus,
#     event loop, memory, state records, threads): it sees only that;
#   - the VM core (lib/core) reaches devices only through the device
#     model and the registry, never a device's own header.
#
# Run by "make check"; by hand:  top_srcdir=. top_builddir=BUILD sh tests/layering.sh
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
. "$top_srcdir/tests/lib.sh"
: "${CC:=cc}"
tmpdir_make

lib=$top_srcdir/lib
# deps FILE: the library headers FILE includes, as paths under lib/.
deps() {
	# shellcheck disable=SC2086
	$CC $CPPFLAGS -MM -D_GNU_SOURCE -include "$top_builddir/config.h" -I"$lib" "$1" \
		2>"$TEST_TMP/cc.err" | tr ' \\' '\n\n' | grep '\.h$' |
		sed -n "s,^$lib/,,p" | sort -u
}

# What a device may use of the core: the services of struct device_env.
services='bus|console|event|memory|state|thread|util'
devices=$(cd "$lib" && ls devices/*.c virtio/*.c)
core=$(cd "$lib" && ls core/*.c)
plan $(( $(echo "$devices" | wc -l) + $(echo "$core" | wc -l) ))

for f in $devices; do
	if ! d=$(deps "$lib/$f") || [ -z "$d" ]; then
		not_ok "$f: dependencies could be listed" "$TEST_TMP/cc.err"
	elif echo "$d" | grep -qx 'core/machine.h'; then
		echo "$d" >"$TEST_TMP/deps"
		not_ok "$f does not include the VM core's private header core/machine.h" "$TEST_TMP/deps"
	elif bad=$(echo "$d" | grep '^core/' | grep -vxE "core/($services)\.h"); then
		echo "$bad" >"$TEST_TMP/deps"
		not_ok "$f includes no header of the VM core but its services" "$TEST_TMP/deps"
	else
		ok "$f includes only the core's services, never core/machine.h"
	fi
done

for f in $core; do
	if ! d=$(deps "$lib/$f") || [ -z "$d" ]; then
		not_ok "$f: dependencies could be listed" "$TEST_TMP/cc.err"
		continue
	fi
	bad=$(echo "$d" | grep -E '^(devices|virtio)/' | grep -vxE 'devices/(device|registry)\.h')
	if [ -n "$bad" ]; then
		echo "$bad" >"$TEST_TMP/deps"
		not_ok "$f reaches devices only through devices/device.h and devices/registry.h" \
			"$TEST_TMP/deps"
	else
		ok "$f reaches devices only through devices/device.h and devices/registry.h"
	fi
done
done_testing
