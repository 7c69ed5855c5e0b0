#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The command line: help, version, usage errors (exit 2, one line naming the
# option and key) and build failures (exit 1).
. "$top_srcdir/tests/lib.sh"
tmpdir_make

# expect_status "description" STATUS PATTERN args...
#   runs the VMM, wants exit STATUS and PATTERN (ERE) on stderr's first line
expect_status() {
	desc=$1; want=$2; pat=$3; shift 3
	# shellcheck disable=SC2086 # $VMM may carry a command prefix
	"$TIMEOUT" -k 5 20 $VMM "$@" </dev/null >"$TEST_TMP/out" 2>"$TEST_TMP/err"
	got=$?
	first=$(head -n 1 "$TEST_TMP/err")
	if [ "$got" -ne "$want" ]; then
		not_ok "$desc: exit $got, wanted $want" "$TEST_TMP/err"
	elif [ -n "$pat" ] && ! printf '%s\n' "$first" | grep -qE -- "$pat"; then
		not_ok "$desc: stderr '$first' does not match '$pat'" "$TEST_TMP/err"
	else
		ok "$desc"
	fi
}

K="path=$TEST_TMP/kernel"
printf 'not a kernel, just text\n' >"$TEST_TMP/kernel"

"$VMM" --help >"$TEST_TMP/help" 2>&1
check "--help exits 0" [ $? -eq 0 ]
for o in --memory --vcpu --kernel --serial --block --rng --net --quiet --help --version size= size_mib= num= path= cmdline= kernel_load_addr= initrd= mode= file= socket= read_only= id= source= tap= mac= "Ctrl-A x"; do
	expect_grep "--help mentions $o" "$TEST_TMP/help" "$o"
done
"$VMM" --version >"$TEST_TMP/version" 2>&1
check "--version exits 0" [ $? -eq 0 ]
expect_egrep "--version prints the version" "$TEST_TMP/version" "^vmm-reference [0-9]+\.[0-9]+"
expect_egrep "--version names the C library" "$TEST_TMP/version" "^C library: (glibc [0-9]+\.[0-9]+|musl \(static\))$"
expect_egrep "--version lists the device options" "$TEST_TMP/version" "^device options: --block --rng --net$"

expect_status "no arguments" 2 "--kernel path=FILE is required"
expect_status "unknown option" 2 "^vmm-reference: unknown option '--frobnicate'$" --frobnicate
expect_status "misspelt option" 2 "^vmm-reference: unknown option '--memroy'; did you mean --memory\\?$" --memroy size_mib=64 --kernel "$K"
expect_status "misspelt option with a value" 2 "unknown option '--vcpus'; did you mean --vcpu\\?$" --vcpus=num=2 --kernel "$K"
expect_status "unknown short option" 2 "^vmm-reference: unknown option '-x'$" -x
expect_status "option without its value" 2 "^vmm-reference: --kernel needs a value: --kernel path=FILE\\[,cmdline=STRING\\]" --kernel
expect_status "stray argument" 2 "unexpected argument 'extra'" --kernel "$K" extra
expect_status "--memory unknown key" 2 "^vmm-reference: --memory: unknown key 'mem'" --memory mem=1 --kernel "$K"
expect_status "--memory repeated key" 2 "--memory: key 'size_mib' given more than once" --memory size_mib=64,size_mib=64 --kernel "$K"
expect_status "--memory empty value" 2 "--memory: key 'size_mib' needs a value" --memory size_mib= --kernel "$K"
expect_status "--memory bad number" 2 "--memory: key 'size_mib': '12MB' is not a number" --memory size_mib=12MB --kernel "$K"
expect_status "--memory overflow" 2 "--memory: key 'size_mib'.*out of range" --memory size_mib=184467440737095516160 --kernel "$K"
expect_status "--memory too small" 2 "--memory: key 'size_mib': 1 is out of range \(16\.\.1048576\)" --memory size_mib=1 --kernel "$K"
expect_status "--vcpu out of range" 2 "--vcpu: key 'num': 255 is out of range \(1\.\.254\)" --vcpu num=255 --kernel "$K"
expect_status "--vcpu zero" 2 "--vcpu: key 'num'" --vcpu num=0 --kernel "$K"
expect_status "--vcpu hex accepted, kernel rejected" 1 "" --vcpu num=0x2 --kernel "$K"
expect_status "--kernel without path" 2 "--kernel: key 'path' is required" --kernel cmdline=quiet
expect_status "--kernel empty path" 2 "--kernel: key 'path' needs a value" --kernel path=
expect_status "--kernel bad load address" 2 "--kernel: key 'kernel_load_addr': '0xg' is not a number" --kernel "$K,kernel_load_addr=0xg"
expect_status "--kernel unaligned load address" 2 "not 4 KiB aligned" --kernel "$K,kernel_load_addr=0x100001"
expect_status "--kernel unterminated quote" 2 "--kernel: key 'cmdline': unterminated quoted value" --kernel "$K,cmdline=\"console=ttyS0"
expect_status "--kernel given twice" 2 "--kernel given more than once" --kernel "$K" --kernel "$K"
expect_status "--block without path" 2 "--block: key 'path' is required" --block read_only=on --kernel "$K"
expect_status "--block bad boolean" 2 "--block: key 'read_only': 'sometimes' is not on or off" --block "path=$TEST_TMP/kernel,read_only=sometimes" --kernel "$K"
expect_status "--net without tap" 2 "--net: key 'tap' is required" --net mac=02:00:00:00:00:01 --kernel "$K"
expect_status "--net multicast MAC" 2 "--net: key 'mac': 01:00:5e:00:00:01 is multicast" --net tap=vmmt0,mac=01:00:5e:00:00:01 --kernel "$K"
expect_status "--net nine times" 2 "--net: at most 8 allowed" --net tap=a --net tap=b --net tap=c --net tap=d --net tap=e --net tap=f --net tap=g --net tap=h --net tap=i --kernel "$K"

# The messages that say how to fix an error: tests/errors.sh.

# Build failures: exit 1 with a message naming the file.
if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
	expect_status "missing kernel file" 1 "kernel $TEST_TMP/missing: No such file or directory" --kernel "path=$TEST_TMP/missing"
	expect_status "kernel is a directory" 1 "kernel $TEST_TMP: Is a directory" --kernel "path=$TEST_TMP"
	expect_status "kernel is not a kernel" 1 "not an ELF vmlinux or bzImage" --kernel "$K"
	expect_status "missing initrd" 1 "initrd $TEST_TMP/none: No such file or directory" --kernel "path=$GUEST_DIR/boot.elf,initrd=$TEST_TMP/none"
	for m in "2G 2048" "size=768M 768" "size_mib=320 320"; do
		run_vmm 60 "$TEST_TMP/mem.out" --memory "${m% *}" \
			--kernel "path=$GUEST_DIR/boot.elf,cmdline=\"expect_mem_mib=${m#* }\""
		if [ $? -eq 0 ] && grep -qx 'RESULT PASS' "$TEST_TMP/mem.out"; then
			ok "--memory ${m% *}: the guest sees ${m#* } MiB"
		else
			not_ok "--memory ${m% *}: the guest sees ${m#* } MiB" "$TEST_TMP/mem.out"
		fi
	done
	"$TIMEOUT" -k 5 60 "$VMM" --kernel "path=$GUEST_DIR/boot.elf" </dev/null >"$TEST_TMP/out" 2>"$TEST_TMP/err"
	if [ $? -eq 0 ] && grep -qxE 'vmm-reference: stopped after [0-9]+\.[0-9] s: guest reset' "$TEST_TMP/err"; then
		ok "a guest reset: exit 0 and one line saying so, with the time"
	else
		not_ok "a guest reset: exit 0 and one line saying so, with the time" "$TEST_TMP/err"
	fi
	"$TIMEOUT" -k 5 60 "$VMM" --quiet --kernel "path=$GUEST_DIR/boot.elf" </dev/null >"$TEST_TMP/out" 2>"$TEST_TMP/err"
	if [ $? -eq 0 ] && [ ! -s "$TEST_TMP/err" ] && grep -qx 'RESULT PASS' "$TEST_TMP/out"; then
		ok "--quiet: nothing on stderr when all went well"
	else
		not_ok "--quiet: nothing on stderr when all went well" "$TEST_TMP/err"
	fi
	# Log levels and the log file; the test guests write the boot marker.
	run_vmm 60 "$TEST_TMP/info.out" --log-level=info --kernel "path=$GUEST_DIR/boot.elf"
	expect_egrep "--log-level=info: the guest's boot marker, wall and CPU" "$TEST_TMP/info.out" \
		'^vmm-reference: guest boot marker: [0-9]+\.[0-9]{2} ms wall, [0-9]+\.[0-9]{2} ms CPU since the process started$'
	run_vmm 60 "$TEST_TMP/debug.out" --log-level=debug --kernel "path=$GUEST_DIR/boot.elf"
	for p in '^vmm-reference: set-up: open KVM: [0-9.]+ ms$' \
		'^vmm-reference: set-up: register guest memory: [0-9.]+ ms$' \
		'^vmm-reference: first KVM_RUN [0-9.]+ ms after the process started$' \
		'^vmm-reference: counter exits\.io = [1-9][0-9]*$' \
		'^vmm-reference: counter serial\.0\.exits = [1-9][0-9]*$' \
		'^vmm-reference: counter boot_marker\.0\.marks = 1$'; do
		expect_egrep "--log-level=debug: $p" "$TEST_TMP/debug.out" "$p"
	done
	rm -f "$TEST_TMP/vmm.log"
	"$TIMEOUT" -k 5 60 "$VMM" --log-level=info --log-file="$TEST_TMP/vmm.log" \
		--kernel "path=$GUEST_DIR/boot.elf" </dev/null >"$TEST_TMP/out" 2>"$TEST_TMP/err"
	if [ $? -eq 0 ] && [ ! -s "$TEST_TMP/err" ] && grep -q 'guest boot marker' "$TEST_TMP/vmm.log" &&
	   grep -q 'stopped after' "$TEST_TMP/vmm.log"; then
		ok "--log-file: the messages and the stop line in the file, none on stderr"
	else
		not_ok "--log-file: the messages and the stop line in the file, none on stderr" "$TEST_TMP/err"
	fi
	expect_status "missing TAP" 1 "no network interface vmmnosuchtap0: create the TAP with 'ip tuntap add dev vmmnosuchtap0 mode tap" --net tap=vmmnosuchtap0 --kernel "path=$GUEST_DIR/boot.elf"
else
	for d in "missing kernel file" "kernel is a directory" "kernel is not a kernel" "missing initrd" \
		"--log-level=info" "--log-level=debug" "--log-level=debug" "--log-level=debug" \
		"--log-level=debug" "--log-level=debug" "--log-level=debug" "--log-file" \
		"--memory 2G" "--memory size=768M" "--memory size_mib=320" \
		"a guest reset: exit 0 and one line saying so, with the time" \
		"--quiet: nothing on stderr when all went well" "missing TAP"; do
		skip "$d" "/dev/kvm not available"
	done
fi
done_testing
