#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Hostile guests: an x87 load from MMIO (KVM's emulator refuses it) ends
# with exit status 3; a serial flood into a slow pipe does not grow the
# VMM's memory, and when the pipe's reader goes away the VMM stops (exit
# 1, "Broken pipe") instead of running on; bad accesses to a virtio-mmio
# window for 2 s leave the VMM up and its log at one line per device.
# The flood is 256 KiB here: on a nested KVM each byte is an exit (about
# 57 KiB/s measured); VMM_TEST_FULL_BOOT=1 (native KVM) floods 100 MiB.
. "$top_srcdir/tests/lib.sh"
require_kvm
tmpdir_make

ELF=$GUEST_DIR/crash.elf
[ -f "$ELF" ] || { plan 1; not_ok "guest image $ELF exists"; done_testing; }
KIB=256
[ "${VMM_TEST_FULL_BOOT:-0}" = 1 ] && KIB=102400

plan 9
out=$TEST_TMP/x87
run_vmm 30 "$out" --memory size_mib=64 --kernel "path=$ELF,cmdline=\"crash=mmio-x87\""
rc=$?
if [ "$rc" -eq 3 ]; then ok "x87 load from MMIO: exit status 3"; else not_ok "x87 load from MMIO: exit status 3 (got $rc)" "$out"; fi
expect_egrep "x87 load from MMIO: the message names the emulation failure" "$out" \
	'KVM_EXIT_INTERNAL_ERROR.*emulation failure'

# hwm PID: its peak resident set, in KiB.
hwm() { sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB$/\1/p' "/proc/$1/status" 2>/dev/null; }

# A slow reader: nothing for 3 s, then everything.
f=$TEST_TMP/flood
{ "$TIMEOUT" -k 5 300 sh -c 'echo $$ >"$0.pid"; exec "$@"' "$f" "$VMM" --memory size_mib=64 \
	--kernel "path=$ELF,cmdline=\"crash=flood flood_kib=$KIB\"" 2>"$f.err" </dev/null
  echo $? >"$f.status"; } | { sleep 3; cat >"$f.out"; } &
reader=$!
sleep 1
pid=$(cat "$f.pid" 2>/dev/null)
first=$(hwm "$pid"); last=$first
while kill -0 "$pid" 2>/dev/null; do
	h=$(hwm "$pid"); [ -n "$h" ] && last=$h
	sleep 0.2
done
wait "$reader"
if [ "$(cat "$f.status")" = 0 ] && grep -q "^FLOOD DONE $KIB KiB" "$f.out" &&
   [ "$(wc -c <"$f.out")" -gt $((KIB * 1024)) ]; then
	ok "flood into a slow pipe: all $KIB KiB arrive, exit status 0"
else
	not_ok "flood into a slow pipe: all $KIB KiB arrive, exit status 0" "$f.err"
fi
diag "flood: VmHWM ${first:-?} kB after 1 s, ${last:-?} kB at the end"
if [ -n "$first" ] && [ $((last - first)) -lt 16384 ]; then
	ok "flood into a slow pipe: memory grows by less than 16 MiB"
else
	not_ok "flood into a slow pipe: memory grows by less than 16 MiB (${first:-?} -> ${last:-?} kB)"
fi

# The reader goes away after 64 KiB of an endless flood.
g=$TEST_TMP/gone
start=$(date +%s)
{ "$TIMEOUT" -k 5 60 "$VMM" --memory size_mib=64 \
	--kernel "path=$ELF,cmdline=\"crash=flood flood_kib=100000000\"" 2>"$g.err" </dev/null
  echo $? >"$g.status"; } | head -c 65536 >/dev/null
secs=$(($(date +%s) - start))
st=$(cat "$g.status")
if [ "$st" = 1 ]; then ok "reader gone: exit status 1"; else not_ok "reader gone: exit status 1 (got $st)" "$g.err"; fi
if [ "$(wc -l <"$g.err")" -eq 1 ] && grep -q 'stopped after .*host error: Broken pipe' "$g.err"; then
	ok "reader gone: one line says Broken pipe"
else
	not_ok "reader gone: one line says Broken pipe" "$g.err"
fi
if [ "$secs" -lt 20 ]; then ok "reader gone: the VMM ends at once (${secs} s)"; else not_ok "reader gone: the VMM ends at once (${secs} s)"; fi

h=$TEST_TMP/hammer
"$TIMEOUT" -k 5 60 "$VMM" --memory size_mib=64 --rng \
	--kernel "path=$ELF,cmdline=\"crash=mmio-hammer hammer_ms=2000\"" </dev/null >"$h" 2>"$h.err"
rc=$?
expect_exit0 "MMIO hammer" "$rc" "$h.err"
n=$(sed -n 's/^HAMMER DONE \([0-9]*\) accesses.*/\1/p' "$h")
diag "MMIO hammer: ${n:-no} accesses, $(wc -c <"$h.err") bytes on stderr"
if [ -n "$n" ] && [ "$(wc -l <"$h.err")" -le 2 ] && [ "$(wc -c <"$h.err")" -lt 1024 ]; then
	ok "MMIO hammer: guest finished, stderr rate-limited (at most 2 lines)"
else
	not_ok "MMIO hammer: guest finished, stderr rate-limited (at most 2 lines)" "$h.err"
fi
done_testing
