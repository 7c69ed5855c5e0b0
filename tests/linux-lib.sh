# SPDX-License-Identifier: Apache-2.0
# Helpers for the real-Linux tests. Source after tests/lib.sh.

VMLINUX=$SHARED_GUEST_DIR/vmlinux
BZIMAGE=$SHARED_GUEST_DIR/bzImage

# Kernel options for the host, not the product. On KVM that runs guest code
# through its instruction emulator (nested, as on the project's CI machines;
# see ../shared/guest/README.md) these features make the kernel run
# instructions the emulator cannot (xrstor, popcnt, cmpxchg16b, clac).
# Harmless on native KVM; set VMM_TEST_KERNEL_QUIRKS= (empty) there.
: "${VMM_TEST_KERNEL_QUIRKS=clearcpuid=smap,smep,popcnt,cx16,xsave,avx,avx2,umip,pku,ospke,fsgsbase}"
# And for runs with several vCPUs: KVM hypercalls do not return on that
# host, and the kernel uses them (PV IPIs, PV spinlock kicks, PV yield) as
# soon as a second CPU is up, so the SMP bring-up stalls. QEMU with a CPU
# model that lacks those PV features brings the same kernel up there, and so
# does vmm-reference with nopv. (nopv also drops kvm-clock; with one vCPU it
# is not needed and not used.) Set VMM_TEST_SMP_QUIRKS= (empty) on native KVM.
: "${VMM_TEST_SMP_QUIRKS=nopv}"

# Seconds a kernel-level run may take before it counts as stuck.
: "${VMM_TEST_LINUX_TIMEOUT:=600}"

require_linux_kernels() {
	require_kvm
	if [ ! -r "$VMLINUX" ] || [ ! -r "$BZIMAGE" ]; then
		plan skip "test kernels not found in $SHARED_GUEST_DIR"
	fi
}

# make_initramfs DIR INIT-SCRIPT OUT: a busybox initramfs whose /init is
# INIT-SCRIPT (from Debian's busybox-static).
make_initramfs() {
	_d=$1/root
	mkdir -p "$_d/bin" "$_d/dev" "$_d/proc" "$_d/sys"
	_bb=$(command -v busybox || echo /bin/busybox)
	cp "$_bb" "$_d/bin/busybox" || return 1
	ln -s busybox "$_d/bin/sh"
	cp "$2" "$_d/init" && chmod 755 "$_d/init"
	mknod "$_d/dev/console" c 5 1 2>/dev/null || true
	(cd "$_d" && find . | cpio -o -H newc --quiet) >"$3"
}

have_busybox() {
	_bb=$(command -v busybox || echo /bin/busybox)
	[ -x "$_bb" ] && file -L "$_bb" | grep -q 'statically linked'
}

# Background runs, at most $VMM_TEST_JOBS at a time. Default 1: on the
# project's 2-core CI machines with emulating (nested) KVM, about one boot
# in fifteen run two at a time stopped making progress just before the
# kernel's switch to kvm-clock (the vCPU spins in KVM's emulator reading
# kvm-clock, and the guest clock does not advance) until its time limit; no
# boot run alone did. On native KVM set VMM_TEST_JOBS=2 or more.
: "${VMM_TEST_JOBS:=1}"
_jobs=0
# start_vm NAME args...: runs the VMM under the timeout into $TEST_TMP/NAME.log,
# the exit status into $TEST_TMP/NAME.rc and the wall time into NAME.secs.
start_vm() {
	_name=$1; shift
	if [ "$_jobs" -ge "$VMM_TEST_JOBS" ]; then
		wait
		_jobs=0
	fi
	(
		_t0=$(date +%s)
		run_vmm "$VMM_TEST_LINUX_TIMEOUT" "$TEST_TMP/$_name.log" "$@"
		echo $? >"$TEST_TMP/$_name.rc"
		echo $(( $(date +%s) - _t0 )) >"$TEST_TMP/$_name.secs"
	) &
	_jobs=$((_jobs + 1))
}
wait_vms() {
	wait
	_jobs=0
}

# vm_exited_by_itself NAME: the run ended with exit 0 (the guest's i8042
# reset), not by the test's timeout.
vm_exited_by_itself() {
	_rc=$(cat "$TEST_TMP/$1.rc")
	if [ "$_rc" -eq 0 ]; then
		ok "$1: the guest reset the machine and vmm-reference exited 0 by itself ($(cat "$TEST_TMP/$1.secs") s)"
	elif [ "$_rc" -eq 124 ] || [ "$_rc" -eq 137 ]; then
		not_ok "$1: still running after ${VMM_TEST_LINUX_TIMEOUT} s, killed" "$TEST_TMP/$1.log"
	else
		not_ok "$1: vmm-reference exited $_rc" "$TEST_TMP/$1.log"
	fi
}

# log_has NAME "description" fixed-string
log_has() {
	expect_grep "$1: $2" "$TEST_TMP/$1.log" "$3"
}
log_matches() {
	expect_egrep "$1: $2" "$TEST_TMP/$1.log" "$3"
}
