#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# virtio-blk durability: a flushed write survives kill -9 of the VMM.
#
# Each iteration boots the blk guest with blk_durable=SEED (a new random
# seed each time, alternately even and odd) on a fresh copy of a 2048-sector
# image. The guest writes a pattern derived from SEED to four regions (one
# of them a 3-segment request, one the last sector; with an even seed all
# four writes are in flight at once), waits until every write has
# completed with status OK, only then submits VIRTIO_BLK_T_FLUSH, and once
# the flush completed OK prints "DURABLE <SEED>" and halts for good. The
# test reads the VMM's output as it arrives and sends SIGKILL the moment it
# sees the marker, then compares the whole image with what it computes on
# its own: the base pattern with exactly those sectors replaced.
#
# What this can and cannot catch: a process kill leaves the page cache
# alone, so it does not prove that fdatasync ran; it does prove that the
# data had been handed to the kernel (pwritev issued and finished) before
# the device completed the FLUSH, e.g. a VMM that completes requests before
# doing the I/O, or loses or misplaces segments, fails here.
#
# Every VMM run is bounded: "$TIMEOUT" kills it after 20 s whatever
# happens (a run normally takes well under a second), and the iteration
# fails. After 3 failed iterations the rest are reported failed without
# running, so a broken VMM costs about a minute at most.
. "$top_srcdir/tests/lib.sh"
require_kvm
tmpdir_make

ELF=$GUEST_DIR/blk.elf
[ -f "$ELF" ] || { plan 1; not_ok "guest image $ELF exists"; done_testing; }

ITERATIONS=${DURABILITY_ITERATIONS:-100}
SECTORS=2048
CR=$(printf '\r')

# image FILE [SEED]: the base image (sector n holds "DISKA SECTOR <%08d>"
# padded with '.' to 511 bytes and a newline); with SEED, the regions the
# guest writes for SEED hold its pattern instead (see durable() in
# tests/guests/blk.c): "SEED <%010d> SECTOR <%08d> " then the letter
# 'a' + (SEED + 7 n + i) % 26 at each offset i from 32 to 510, then '\n'.
image() {
	_seed=${2:--1}
	if [ "$_seed" -ge 0 ]; then
		_r1=$((1 + _seed % 97))
		_r2=$((128 + _seed * 13 % 256))
		_r3=$((512 + _seed * 31 % 1024))
	else
		_r1=-100; _r2=-100; _r3=-100
	fi
	_seedstr=$(printf '%010d' "$_seed")
	awk -v seed="$_seed" -v seedstr="$_seedstr" -v n="$SECTORS" -v r1="$_r1" -v r2="$_r2" -v r3="$_r3" 'BEGIN {
		pad = "."; while (length(pad) < 512) pad = pad pad
		abc = "abcdefghijklmnopqrstuvwxyz"
		for (i = 0; i < n; i++) {
			if (seed >= 0 && (i == r1 || (i >= r2 && i < r2 + 8) ||
					  (i >= r3 && i < r3 + 16) || i == n - 1)) {
				s = sprintf("SEED %s SECTOR %08d ", seedstr, i)
				for (k = 32; k < 511; k++)
					s = s substr(abc, (seed + 7 * i + k) % 26 + 1, 1)
				print s
			} else {
				s = sprintf("DISKA SECTOR %08d", i)
				print s substr(pad, 1, 511 - length(s))
			}
		}
	}' >"$1"
}

# A random 32-bit number.
random_u32() {
	od -An -N4 -tu4 /dev/urandom | tr -d ' \n'
}

# durable_run SEED IMAGE OUT: runs the guest, copies its output to OUT and
# kills the VMM with SIGKILL on the marker line. Writes to OUT.state
# "killed" when the marker came and the VMM was still there to be killed,
# else "no-marker" or "gone" (the VMM had exited before the kill). The
# wrapper shell prints its pid, then becomes the VMM (exec), so the pid is
# the VMM's; "$TIMEOUT" bounds the run.
durable_run() {
	# (In a subshell with stderr discarded: the shell would report the
	# killed pipeline as "Killed".)
	( "$TIMEOUT" -k 5 20 sh -c 'echo "VMMPID $$"; exec "$@"' sh "$VMM" \
		--memory size_mib=64 --vcpu num=1 --block "path=$2" \
		--kernel "path=$ELF,cmdline=\"blk_durable=$1\"" </dev/null 2>&1 |
	{
		_pid=
		_state=no-marker
		while IFS= read -r _line; do
			_line=${_line%"$CR"}
			printf '%s\n' "$_line" >>"$3"
			case $_line in
			"VMMPID "*)
				[ -n "$_pid" ] || _pid=${_line#VMMPID } ;;
			"DURABLE $1")
				if [ "$_state" = no-marker ] && [ -n "$_pid" ]; then
					if kill -9 "$_pid" 2>/dev/null; then
						_state=killed
					else
						_state=gone
					fi
				fi ;;
			esac
		done
		echo "$_state" >"$3.state"
	} ) 2>/dev/null
}

plan "$ITERATIONS"

image "$TEST_TMP/base.img"
if [ "$(wc -c <"$TEST_TMP/base.img" | tr -d ' ')" -ne $((SECTORS * 512)) ]; then
	diag "cannot build the base image"
fi

it=1
while [ "$it" -le "$ITERATIONS" ]; do
	r=$(random_u32)
	seed=$((r / 4 * 2 + it % 2))          # below 2^31, parity from it
	img=$TEST_TMP/disk.img
	out=$TEST_TMP/out$it
	desc="iteration $it, seed $seed"
	if [ "$tap_failed" -ge 3 ]; then
		not_ok "$desc: not run after $tap_failed failed iterations"
		it=$((it + 1))
		continue
	fi
	cp "$TEST_TMP/base.img" "$img"
	: >"$out"
	durable_run "$seed" "$img" "$out"
	state=$(cat "$out.state" 2>/dev/null)
	image "$TEST_TMP/expect.img" "$seed"
	if [ "$state" != killed ]; then
		echo "# VMM state: ${state:-unknown} (no marker, or the VMM had exited)" >>"$out"
		not_ok "$desc: guest flushed and the VMM was killed with SIGKILL" "$out"
	elif ! grep -q '^PASS blk-durable-flush' "$out" || grep -q '^FAIL' "$out"; then
		not_ok "$desc: guest checks pass" "$out"
	elif ! cmp "$img" "$TEST_TMP/expect.img" >"$out.cmp" 2>&1; then
		cmp -l "$img" "$TEST_TMP/expect.img" 2>&1 | head -n 5 >>"$out.cmp"
		grep '^INFO durable' "$out" >>"$out.cmp"
		not_ok "$desc: the image holds exactly the flushed data after kill -9" "$out.cmp"
	else
		ok "$desc: the image holds exactly the flushed data after kill -9"
	fi
	it=$((it + 1))
done

done_testing
