#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# virtio-rng: the rng test guest drives the VMM's entropy device (--rng)
# with its own minimal driver: 4 KiB reads (one by interrupt), scattered
# and indirect chains, an oversized buffer, chains with device-readable
# descriptors, a device reset. With source=FILE the bytes the guest got
# must be the file's, in order. Also: no rng without --rng, the rng among
# block devices in either order, and the usage and open errors.
. "$top_srcdir/tests/lib.sh"
require_kvm
tmpdir_make

ELF=$GUEST_DIR/rng.elf
[ -f "$ELF" ] || { plan 1; not_ok "guest image $ELF exists"; done_testing; }

# rng_run DESC OUT LAST VMM-ARGS...: exit status 0, "RESULT PASS", no FAIL
# and "PASS <LAST>" (the guest's last check ran).
rng_run() {
	desc=$1; out=$2; last=$3; shift 3
	run_vmm 60 "$out" --memory size_mib=128 --vcpu num=1 "$@"
	rc=$?
	expect_exit0 "$desc" "$rc" "$out" "$@"
	if grep -qx 'RESULT PASS' "$out" && grep -qx "PASS $last" "$out" &&
	   ! grep -q '^FAIL' "$out"; then
		ok "$desc: guest checks pass"
	else
		not_ok "$desc: guest checks pass" "$out"
	fi
}

# expect_fail DESC STATUS TEXT VMM-ARGS...: exit STATUS, TEXT on stderr,
# and not as an unknown option (a VMM without --rng names it too).
expect_fail() {
	desc=$1; want=$2; text=$3; shift 3
	"$TIMEOUT" -k 10 60 "$VMM" "$@" </dev/null >"$TEST_TMP/fail.out" 2>"$TEST_TMP/fail.err"
	got=$?
	if [ "$got" -ne "$want" ]; then
		not_ok "$desc: exit status $want (got $got)" "$TEST_TMP/fail.err"
	elif ! grep -qF -- "$text" "$TEST_TMP/fail.err" ||
	     grep -qE 'unrecognized option|unknown option' "$TEST_TMP/fail.err"; then
		not_ok "$desc: stderr names $text" "$TEST_TMP/fail.err"
	else
		ok "$desc: exit status $want, stderr names $text"
	fi
}

# hexat FILE OFFSET COUNT: those bytes of FILE in hex.
hexat() {
	od -An -v -tx1 -j "$2" -N "$3" "$1" | tr -d ' \n'
}

# sumat FILE OFFSET COUNT: sum of (j + 1) * byte[j] modulo 2^32 over them.
sumat() {
	od -An -v -tu1 -j "$2" -N "$3" "$1" |
	awk '{ for (i = 1; i <= NF; i++) { n++; s = (s + n * $i) % 4294967296 } }
	     END { printf "%.0f\n", s }'
}

# guest_val OUT KEY: the value on the guest's line "RNG <KEY> <value>".
guest_val() {
	sed -n "s/^RNG $2 //p" "$1" | head -n 1
}

# from_file DESC OUT FILE WHAT SHOWN SIZE OFFSET...: the guest's
# "RNG <WHAT> <k> <hex>" lines (SHOWN bytes of part k, SIZE bytes long)
# match FILE at the k-th OFFSET; for READ, "RNG SUM <k>" too.
from_file() {
	desc=$1; out=$2; file=$3; what=$4; shown=$5; size=$6; shift 6
	k=0; bad=
	for off in "$@"; do
		got=$(guest_val "$out" "$what $k")
		want=$(hexat "$file" "$off" "$shown")
		[ "$got" = "$want" ] || bad="$bad $what $k: got '$got', file has '$want';"
		if [ "$what" = READ ]; then
			got=$(guest_val "$out" "SUM $k")
			want=$(sumat "$file" "$off" "$size")
			[ "$got" = "$want" ] || bad="$bad SUM $k: got '$got', file has '$want';"
		fi
		k=$((k + 1))
	done
	if [ -z "$bad" ]; then
		ok "$desc"
	else
		echo "#$bad" >>"$out"
		not_ok "$desc" "$out"
	fi
}

# two_devices DESC OUT SLOT: two virtio_mmio.device= entries on the command
# line the guest saw, the rng in slot SLOT (command-line order).
two_devices() {
	desc=$1; out=$2; slot=$3
	n=$(grep '^INFO cmdline:' "$out" | grep -o 'virtio_mmio\.device=' | wc -l | tr -d ' ')
	if [ "$n" -eq 2 ] && grep -qx 'RNG DEVICES 2' "$out"; then
		ok "$desc: two virtio_mmio.device= entries"
	else
		not_ok "$desc: two virtio_mmio.device= entries (got $n)" "$out"
	fi
	expect_egrep "$desc: rng in slot $slot" "$out" "^RNG FOUND $slot "
	# root= for the disk comes after every device's own parameter.
	expect_egrep "$desc: root= after both devices" "$out" \
		'^INFO cmdline: .*virtio_mmio\.device=[^ ]+ virtio_mmio\.device=[^ ]+ root=/dev/vda rw$'
}

plan 27

# 1. The default source, getrandom(); then with EVENT_IDX negotiated.
rng_run "getrandom" "$TEST_TMP/out1" rng-reset-recovery --rng --kernel "path=$ELF"
rng_run "getrandom, EVENT_IDX" "$TEST_TMP/out1e" rng-reset-recovery --rng \
	--kernel "path=$ELF,cmdline=\"rng_event_idx=1\""

# 2. A character device.
rng_run "/dev/urandom" "$TEST_TMP/out2" rng-reset-recovery --rng source=/dev/urandom \
	--kernel "path=$ELF"

# 3. A regular file, read in order. The guest's first requests are read 0
# and read 1 (4 KiB each), then 3 x 1000 bytes scattered, then 3 x 1000
# through an indirect table; later requests (the 128 KiB one takes up to
# 64 KiB) are not compared. The file is large enough that the guest never
# reaches its end.
SEED=$TEST_TMP/seed
head -c 262144 /dev/urandom >"$SEED"
rng_run "file source" "$TEST_TMP/out3" rng-reset-recovery --rng "source=$SEED" \
	--kernel "path=$ELF"
from_file "file source: reads 0 and 1 are the file's bytes 0 and 4096 on" \
	"$TEST_TMP/out3" "$SEED" READ 32 4096 0 4096
from_file "file source: the scattered chain got the next 3 x 1000 bytes" \
	"$TEST_TMP/out3" "$SEED" SCATTER 16 1000 8192 9192 10192
from_file "file source: the indirect chain got the next 3 x 1000 bytes" \
	"$TEST_TMP/out3" "$SEED" INDIRECT 16 1000 11192 12192 13192

# 4. No --rng: no device with ID 4, alone or among block devices.
IMG=$TEST_TMP/disk.img
head -c 1048576 /dev/zero >"$IMG"
rng_run "no --rng" "$TEST_TMP/out4" rng-absent --kernel "path=$ELF,cmdline=\"expect_rng=0\""
rng_run "no --rng, a disk" "$TEST_TMP/out4b" rng-absent --block "path=$IMG" \
	--kernel "path=$ELF,cmdline=\"expect_rng=0\""

# 5. Next to a disk: the slots follow the command-line order.
rng_run "disk then rng" "$TEST_TMP/out5" rng-reset-recovery --block "path=$IMG" --rng \
	--kernel "path=$ELF"
two_devices "disk then rng" "$TEST_TMP/out5" 1
rng_run "rng then disk" "$TEST_TMP/out5b" rng-reset-recovery --rng --block "path=$IMG" \
	--kernel "path=$ELF"
two_devices "rng then disk" "$TEST_TMP/out5b" 0

# 6. At most one --rng.
expect_fail "--rng twice" 2 "--rng" --rng --rng --kernel "path=$ELF"

# 7. A source that cannot be opened.
expect_fail "missing source" 1 "$TEST_TMP/missing" --rng "source=$TEST_TMP/missing" \
	--kernel "path=$ELF"

done_testing
