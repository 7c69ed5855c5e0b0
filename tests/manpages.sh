#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# The manual pages: they format without a warning (groff, and mandoc where
# it is installed), vmm-reference(1) documents every option that
# "vmm-reference --help" prints, and libvmmcore(3) documents every exported
# function and every constant of <vmmcore/vmm.h>, with an example that
# compiles.
#
# Run by "make check"; by hand:  top_srcdir=. top_builddir=BUILD sh tests/manpages.sh

: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
. "$top_srcdir/tests/lib.sh"

tmpdir_make
PAGES="$top_srcdir/man/vmm-reference.1 $top_srcdir/man/libvmmcore.3"
HEADER="$top_srcdir/lib/vmmcore/vmm.h"
SYMS="$top_srcdir/lib/libvmmcore.sym"

# ------------------------------------------------------------------ groff
# -ww turns every warning on; -z formats without output.  groff's exit
# status stays 0 on a warning, so its standard error must be empty.  The
# pages are formatted for the typesetter and for an 80-column terminal.
if command -v groff >/dev/null 2>&1; then
	for page in $PAGES; do
		name=$(basename "$page")
		for dev in typesetter terminal; do
			if [ $dev = terminal ]; then
				set -- -Tutf8 -rLL=78n
			else
				set --
			fi
			if groff -man -ww -z "$@" "$page" >"$TEST_TMP/groff.out" 2>&1 &&
			   [ ! -s "$TEST_TMP/groff.out" ]; then
				ok "groff -man -ww ($dev): $name"
			else
				not_ok "groff -man -ww ($dev): $name" "$TEST_TMP/groff.out"
			fi
		done
	done
else
	skip "groff -man -ww" "groff is not installed"
fi

# ------------------------------------------------------------------ mandoc
# mandoc -Tlint -Wstyle reports errors, warnings and style suggestions.
# The pages are written to give none of them, with one exception:
# "referenced manual not found" is a STYLE message that mandoc gives for a
# cross-reference (.BR libvmmcore (3), fcntl (2), ...) when a mandoc.db
# search database exists and does not list the page.  That depends on what
# the machine has installed -- libvmmcore(3) itself is not installed while
# the tests run -- so it is not a defect of the page and is ignored.
# Everything else fails the test.
if command -v mandoc >/dev/null 2>&1; then
	for page in $PAGES; do
		name=$(basename "$page")
		mandoc -Tlint -Wstyle "$page" >"$TEST_TMP/mandoc.all" 2>&1
		grep -v 'STYLE: referenced manual not found' "$TEST_TMP/mandoc.all" \
			>"$TEST_TMP/mandoc.out"
		if [ -s "$TEST_TMP/mandoc.out" ]; then
			not_ok "mandoc -Tlint: $name" "$TEST_TMP/mandoc.out"
		else
			ok "mandoc -Tlint: $name"
		fi
	done
else
	skip "mandoc -Tlint" "mandoc is not installed"
fi

# Render a page as plain text (no overstrike, no hyphenation at line ends,
# wide lines so that an option is never split).
render() {
	groff -man -Tascii -P-cbou -rLL=250n -rHY=0 "$1" 2>/dev/null
}

# Print section $2 (e.g. OPTIONS) of the plain text $1.
section() {
	awk -v s="$2" '/^[A-Z][A-Z ]*$/ { in_s = ($0 == s); next } in_s' "$1"
}

# --------------------------------------------------- vmm-reference --help
if ! command -v groff >/dev/null 2>&1; then
	skip "--help options are documented" "groff is not installed"
elif [ ! -x "$VMM" ]; then
	skip "--help options are documented" "$VMM does not exist yet"
elif "$VMM" --help >"$TEST_TMP/help" 2>&1 </dev/null; status=$?; [ $status -ne 0 ]; then
	skip "--help options are documented" "$VMM --help failed (exit $status)"
else
	render "$top_srcdir/man/vmm-reference.1" >"$TEST_TMP/page1"
	section "$TEST_TMP/page1" OPTIONS >"$TEST_TMP/options"
	# Long options (--name) and short ones (-x) that --help mentions.
	grep -oE -- '--[a-z][a-z0-9-]*' "$TEST_TMP/help" | sort -u >"$TEST_TMP/long"
	grep -oE -- '(^|[^-a-zA-Z0-9])-[a-zA-Z]([^a-zA-Z0-9-]|$)' "$TEST_TMP/help" |
		grep -oE -- '-[a-zA-Z]' | sort -u >"$TEST_TMP/short"
	if [ ! -s "$TEST_TMP/long" ]; then
		not_ok "--help prints long options" "$TEST_TMP/help"
	else
		ok "--help prints long options"
	fi
	while read -r opt; do
		if grep -qE -- "(^|[^-a-zA-Z0-9])$opt([^-a-z0-9]|\$)" "$TEST_TMP/options"; then
			ok "vmm-reference(1) OPTIONS documents $opt"
		else
			not_ok "vmm-reference(1) OPTIONS documents $opt (printed by --help)"
		fi
	done <"$TEST_TMP/long"
	while read -r opt; do
		if grep -qE -- "(^|[^-a-zA-Z0-9])$opt([^-a-zA-Z0-9]|\$)" "$TEST_TMP/options"; then
			ok "vmm-reference(1) OPTIONS documents $opt"
		else
			not_ok "vmm-reference(1) OPTIONS documents $opt (printed by --help)"
		fi
	done <"$TEST_TMP/short"
	# Every key that --help shows (size_mib=, path=, ...) is in OPTIONS.
	grep -oE -- '[a-z][a-z0-9_]*=' "$TEST_TMP/help" | sort -u >"$TEST_TMP/keys"
	missing=
	while read -r key; do
		grep -qE -- "(^|[^a-z0-9_])$key" "$TEST_TMP/options" || missing="$missing $key"
	done <"$TEST_TMP/keys"
	if [ -z "$missing" ]; then
		ok "vmm-reference(1) OPTIONS documents every key of --help ($(wc -l <"$TEST_TMP/keys") keys)"
	else
		not_ok "vmm-reference(1) OPTIONS documents every key of --help (missing:$missing)"
	fi
	# Each option's keys (the key lines under it in --help, which come
	# from the library's key tables) have an entry of their own (a line
	# that starts with key=) in the body of that option's entry of
	# OPTIONS: after its tag line, before the next.
	awk '/^     --[a-z]/ { opt = $1 } /^          [a-z][a-z0-9_]*=/ && opt { split($1, kv, "="); print opt, kv[1] "=" }' \
		"$TEST_TMP/help" >"$TEST_TMP/optkeys"
	missing=
	while read -r opt key; do
		awk -v o="$opt" '/^       -/ { in_e = index($0, "       " o " ") == 1 || $0 == "       " o; next } in_e' \
			"$TEST_TMP/options" | grep -qE -- "^ +$key" || missing="$missing $opt:$key"
	done <"$TEST_TMP/optkeys"
	if [ -s "$TEST_TMP/optkeys" ] && [ -z "$missing" ]; then
		ok "vmm-reference(1) documents each key under its own option ($(wc -l <"$TEST_TMP/optkeys") keys)"
	else
		not_ok "vmm-reference(1) documents each key under its own option (missing:${missing:- no keys in --help})"
	fi
	# And the reverse: an option the page lists as an entry of OPTIONS
	# (a tag line: indented by the section indent alone, starting with
	# -x or --name) must exist in --help.
	grep -E -- '^ {7}-' "$TEST_TMP/options" | grep -oE -- '--[a-z][a-z0-9-]*' |
		sort -u >"$TEST_TMP/documented"
	while read -r opt; do
		if grep -qxF -- "$opt" "$TEST_TMP/long"; then
			ok "$opt of vmm-reference(1) is in --help"
		else
			not_ok "$opt of vmm-reference(1) is in --help" "$TEST_TMP/help"
		fi
	done <"$TEST_TMP/documented"
fi

# ------------------------------------------------------ libvmmcore(3) API
page3="$top_srcdir/man/libvmmcore.3"
if command -v groff >/dev/null 2>&1; then
	render "$page3" >"$TEST_TMP/page3"
	section "$TEST_TMP/page3" SYNOPSIS >"$TEST_TMP/synopsis"

	# Every exported function (lib/libvmmcore.sym) is in the SYNOPSIS.
	sed -n 's/^[[:space:]]*\(vmm_[a-z0-9_]*\);.*/\1/p' "$SYMS" | sort -u >"$TEST_TMP/syms"
	missing=
	while read -r sym; do
		grep -qE "[^a-z0-9_*]\*?$sym\(" "$TEST_TMP/synopsis" || missing="$missing $sym"
	done <"$TEST_TMP/syms"
	if [ -s "$TEST_TMP/syms" ] && [ -z "$missing" ]; then
		ok "libvmmcore(3) SYNOPSIS lists every exported function"
	else
		not_ok "libvmmcore(3) SYNOPSIS lists every exported function (missing:${missing:- none found in $SYMS})"
	fi

	# Every function in the SYNOPSIS is declared in vmm.h.
	grep -oE '\*?vmm_[a-z0-9_]+\(' "$TEST_TMP/synopsis" | tr -d '*(' | sort -u >"$TEST_TMP/syn_fns"
	missing=
	while read -r fn; do
		grep -qE "[^a-z0-9_]$fn\(" "$HEADER" || missing="$missing $fn"
	done <"$TEST_TMP/syn_fns"
	if [ -z "$missing" ]; then
		ok "every function in libvmmcore(3) SYNOPSIS is declared in vmm.h"
	else
		not_ok "every function in libvmmcore(3) SYNOPSIS is declared in vmm.h (not:$missing)"
	fi

	# Every constant and type of vmm.h (VMM_*, struct vmm_*) is in the page.
	{
		grep -oE '\<VMM_[A-Z0-9_]+' "$HEADER"
		grep -oE 'struct vmm_[a-z0-9_]+' "$HEADER"
	} | grep -v '^VMMCORE_' | sort -u >"$TEST_TMP/names"
	missing=
	while read -r n; do
		grep -qF -- "$n" "$TEST_TMP/page3" || missing="$missing $(echo "$n" | tr ' ' _)"
	done <"$TEST_TMP/names"
	if [ -z "$missing" ]; then
		ok "libvmmcore(3) documents every VMM_* constant and struct of vmm.h"
	else
		not_ok "libvmmcore(3) documents every VMM_* constant and struct of vmm.h (missing:$missing)"
	fi

	# Every field of the structs in vmm.h appears in the page.
	awk '/^struct vmm_[a-z_]+ \{/ { s = 1; next } s && /^\};/ { s = 0 } s' "$HEADER" |
		sed 's,/\*.*,,' | grep -oE '[a-z_][a-z0-9_]*(\[[A-Z0-9_]+\])?;' |
		sed 's/\[.*//; s/;//' | sort -u >"$TEST_TMP/fields"
	missing=
	while read -r f; do
		grep -qE "(^|[^a-z0-9_])$f([^a-z0-9_]|\$)" "$TEST_TMP/page3" || missing="$missing $f"
	done <"$TEST_TMP/fields"
	if [ -s "$TEST_TMP/fields" ] && [ -z "$missing" ]; then
		ok "libvmmcore(3) documents every struct field of vmm.h"
	else
		not_ok "libvmmcore(3) documents every struct field of vmm.h (missing:${missing:- no fields found})"
	fi
else
	skip "libvmmcore(3) documents the API" "groff is not installed"
fi

# The example program of libvmmcore(3) compiles against the header.
sed -n '/^\.SH EXAMPLES/,/^\.SH /p' "$page3" |
	awk '/^#include <stdio.h>/ { f = 1 } f && /^\.EE/ { exit } f' |
	sed 's/\\e/\\/g; s/\\-/-/g' >"$TEST_TMP/example.c"
cc=${CC:-cc}
if [ ! -s "$TEST_TMP/example.c" ]; then
	not_ok "libvmmcore(3) has an example program"
elif ! command -v "$cc" >/dev/null 2>&1; then
	skip "libvmmcore(3) example compiles" "no C compiler ($cc)"
elif "$cc" -std=gnu11 -Wall -Wextra -Werror -fsyntax-only -I"$top_srcdir/lib" \
		"$TEST_TMP/example.c" >"$TEST_TMP/cc.out" 2>&1; then
	ok "libvmmcore(3) example compiles"
else
	not_ok "libvmmcore(3) example compiles" "$TEST_TMP/cc.out"
fi

done_testing
