#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# The tree's layering, from what the compiler itself includes (-MM lists
# every header a file pulls in, through other headers too):
#   - a device (any .c or .h under lib/devices, lib/virtio) never
#     includes the VM core's private header lib/core/machine.h (struct
#     vmm), nor any other header of the library but the services of its
#     environment (bus, event loop, memory, state records, threads), the
#     key tables, the machine's layout, the public header and the device
#     model's own: it sees only that;
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
# deps FILE: the library headers FILE includes, as paths under lib/
# (however they were spelt: "../core/machine.h" is core/machine.h).
deps() {
	# shellcheck disable=SC2086
	$CC $CPPFLAGS -MM -D_GNU_SOURCE -include "$top_builddir/config.h" -I"$lib" \
		-x c "$1" 2>"$TEST_TMP/cc.err" | tr ' \\' '\n\n' | grep '\.h$' |
		xargs realpath -m | sed -n "s,^$(realpath "$lib")/,,p" | sort -u
}

# What a device may use of the library: the services of struct
# device_env, the key tables, the layout, and the devices' own headers.
services='core/(bus|console|event|memory|state|thread|util)\.h|config/keys\.h'
services="$services|arch/x86/layout\.h|vmmcore/vmm\.h|(devices|virtio)/.*"
devices=$(cd "$lib" && find devices virtio -name '*.[ch]' | sort)
core=$(cd "$lib" && ls core/*.c)
plan $(( $(echo "$devices" | wc -l) + $(echo "$core" | wc -l) ))

for f in $devices; do
	if ! d=$(deps "$lib/$f") || [ -z "$d" ]; then
		not_ok "$f: dependencies could be listed" "$TEST_TMP/cc.err"
	elif echo "$d" | grep -qx 'core/machine.h'; then
		echo "$d" >"$TEST_TMP/deps"
		not_ok "$f does not include the VM core's private header core/machine.h" "$TEST_TMP/deps"
	elif bad=$(echo "$d" | grep -vxE "$services"); then
		echo "$bad" >"$TEST_TMP/deps"
		not_ok "$f includes no library header but its environment's" "$TEST_TMP/deps"
	else
		ok "$f includes only its environment's headers, never core/machine.h"
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
