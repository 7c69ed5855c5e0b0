#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The shared library exports exactly the vmm_ API of the version script,
# and the Debian symbols file (in a git tree) lists each with its node.
. "$top_srcdir/tests/lib.sh"
tmpdir_make

so=$(ls "$top_builddir"/lib/.libs/libvmmcore.so.*.*.* 2>/dev/null | head -n 1)
if [ -z "$so" ]; then
	plan skip "no shared libvmmcore built"
fi
plan 4
nm -D --defined-only "$so" | awk '$2 ~ /^[TDBRW]$/ {print $3}' | sed 's/@.*//' | sort -u >"$TEST_TMP/exported"
sed -n 's/^[[:space:]]*\(vmm_[a-z0-9_]*\);.*/\1/p' "$top_srcdir/lib/libvmmcore.sym" | sort -u >"$TEST_TMP/listed"
if grep -v '^LIBVMMCORE_' "$TEST_TMP/exported" | grep -qv '^vmm_'; then
	grep -v '^LIBVMMCORE_' "$TEST_TMP/exported" | grep -v '^vmm_' >"$TEST_TMP/extra"
	not_ok "only vmm_ symbols are exported" "$TEST_TMP/extra"
else
	ok "only vmm_ symbols are exported"
fi
if grep '^vmm_' "$TEST_TMP/exported" | diff - "$TEST_TMP/listed" >"$TEST_TMP/diff"; then
	ok "exported symbols match lib/libvmmcore.sym"
else
	not_ok "exported symbols match lib/libvmmcore.sym" "$TEST_TMP/diff"
fi
# Every function of the public header is exported.
sed -n 's/^[a-z].*[ *]\(vmm_[a-z0-9_]*\)(.*/\1/p' "$top_srcdir/lib/vmmcore/vmm.h" | sort -u >"$TEST_TMP/header"
if diff "$TEST_TMP/header" "$TEST_TMP/listed" >"$TEST_TMP/diff2"; then
	ok "every function of vmmcore/vmm.h is in the version script"
else
	not_ok "every function of vmmcore/vmm.h is in the version script" "$TEST_TMP/diff2"
fi
# The symbols file: SYMBOL@NODE for every symbol of the version script.
debsym=$top_srcdir/debian/libvmmcore1.symbols
if [ -f "$debsym" ]; then
	awk '/^LIBVMMCORE_[0-9.]* *\{/ { node = $1 } /^[ \t]*vmm_[a-z0-9_]*;/ {
		gsub(/[ \t;]/, ""); print $0 "@" node }' "$top_srcdir/lib/libvmmcore.sym" |
		sort >"$TEST_TMP/nodes"
	sed -n 's/^ \(vmm_[a-z0-9_]*@LIBVMMCORE_[0-9.]*\) .*/\1/p' "$debsym" | sort >"$TEST_TMP/deb"
	if diff "$TEST_TMP/nodes" "$TEST_TMP/deb" >"$TEST_TMP/diff3"; then
		ok "debian/libvmmcore1.symbols lists every symbol with its version node"
	else
		not_ok "debian/libvmmcore1.symbols lists every symbol with its version node" "$TEST_TMP/diff3"
	fi
else
	skip "debian/libvmmcore1.symbols lists every symbol" "no debian/ (a release tarball)"
fi
