#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Every fuzz target's seeds and regression inputs (fuzz/corpus/TARGET,
# fuzz/regressions/TARGET), replayed through the target's entry point
# without libFuzzer: an input that once crashed a parser must not again.
# In a sanitizer build the replay is checked by ASan and UBSan too.
. "$top_srcdir/tests/lib.sh"
tmpdir_make

targets="virtq loader config blk net rng mmio uart i8042"
plan 9

for t in $targets; do
	set --
	for f in "$top_srcdir/fuzz/corpus/$t"/* "$top_srcdir/fuzz/regressions/$t"/*; do
		[ -f "$f" ] && set -- "$@" "$f"
	done
	if [ $# -eq 0 ]; then
		echo "no inputs for $t" >"$TEST_TMP/log"
		not_ok "$t: its seeds and regression inputs replay cleanly" "$TEST_TMP/log"
	elif "$TIMEOUT" -k 5 120 "$top_builddir/fuzz/$t-replay" "$@" >"$TEST_TMP/log" 2>&1; then
		ok "$t: its $# seeds and regression inputs replay cleanly"
	else
		not_ok "$t: its seeds and regression inputs replay cleanly" "$TEST_TMP/log"
	fi
done
done_testing
