#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Every error message that says how to fix it, from one table: for each
# row, the exit status, and that stderr holds exactly the one line
# "vmm-reference: MESSAGE" with its hint -- followed, for a usage error
# (status 2), by the "Try --help" line, and for a warning (status 0) by
# the stop line. Rows that need /dev/kvm, another user, or a read-only
# file system skip without them.
. "$top_srcdir/tests/lib.sh"
tmpdir_make

T=$TEST_TMP
K=$T/kernel
BOOT=$GUEST_DIR/boot.elf
printf 'not a kernel, just text\n' >"$K"
mkfifo "$T/fifo"
NL='
'
ESC=$(printf '\033')
LONG=$(head -c 2040 /dev/zero | tr '\0' x)
head -c 8192 "$GUEST_DIR/boot.bzimage" >"$T/bz0" 2>/dev/null
printf '\0' | dd of="$T/bz0" bs=1 seek=513 conv=notrunc status=none
avail=$(awk '/^MemAvailable:/ { print int($2 / 1024) }' /proc/meminfo)
BIG=$((${avail:-0} * 2))
AS_NOBODY="setpriv --reuid=65534 --regid=65534 --clear-groups"

# A read-only file system holding an image, in a mount namespace of its
# own (root only): opening it for writing fails with EROFS.
RO=$T/ro
ROFS='mount -t tmpfs -o size=4m none "$1" && truncate -s 1M "$1/disk.img" &&
	mount -o remount,ro "$1" && shift && exec "$@"'

kvm_ok() { [ -r /dev/kvm ] && [ -w /dev/kvm ]; }

# Why a row cannot run here, or nothing.
missing() {
	case $1 in
	any) ;;
	kvm) kvm_ok || echo "/dev/kvm is not available" ;;
	nobody)
		if ! kvm_ok || [ "$(id -u)" -ne 0 ] || ! command -v setpriv >/dev/null 2>&1 ||
		   $AS_NOBODY test -w /dev/kvm || ! $AS_NOBODY "$VMM" --version </dev/null >/dev/null 2>&1; then
			echo "needs root, setpriv, a /dev/kvm other users cannot open and a VMM they can run"
		fi ;;
	rofs)
		mkdir -p "$RO"
		if ! kvm_ok || [ "$(id -u)" -ne 0 ] || ! unshare -m true </dev/null 2>/dev/null; then
			echo "needs /dev/kvm, root and mount namespaces"
		fi ;;
	esac
}

# run NEED ARGS...: the VMM as the row needs it.
run() {
	_need=$1; shift
	case $_need in
	nobody) set -- $AS_NOBODY "$VMM" "$@" ;;
	rofs) set -- unshare -m sh -c "$ROFS" sh "$RO" "$VMM" "$@" ;;
	*) set -- "$VMM" "$@" ;;
	esac
	"$TIMEOUT" -k 5 60 "$@" </dev/null >"$T/out" 2>"$T/err"
}

# check STATUS PATTERN: the status, the one line, what may follow it.
check_row() {
	_lines=$(wc -l <"$T/err")
	_second=$(sed -n 2p "$T/err")
	case $1 in
	2) _follow="^Try 'vmm-reference --help' for more information\.$" ;;
	0) _follow='^vmm-reference: stopped after [0-9.]+ s: ' ;;
	*) _follow= ;;
	esac
	if [ "$got" -ne "$1" ]; then
		echo "exit $got, wanted $1"
	elif ! head -n 1 "$T/err" | grep -qE -- "^vmm-reference: $2"; then
		echo "the first line does not match"
	elif [ -z "$_follow" ] && [ "$_lines" -ne 1 ]; then
		echo "$_lines lines, wanted one"
	elif [ -n "$_follow" ] && { [ "$_lines" -ne 2 ] ||
	     ! printf '%s\n' "$_second" | grep -qE -- "$_follow"; }; then
		echo "not the one line and what follows it"
	fi
}

ROWS=$(grep -v '^#' <<'TABLE'
# need  status  arguments (shell words)  ::  the message (ERE, after "vmm-reference: ")
any  2  --memroy size_mib=64 --kernel path=$K  ::  unknown option '--memroy'; did you mean --memory\?$
any  2  --kernel /boot/vmlinuz  ::  --kernel needs path=FILE: try --kernel path=/boot/vmlinuz$
any  2  --kernel "path=$K,cmdline=clearcpuid=smap,smep"  ::  --kernel: unknown key 'smep' \(keys: [a-z_, ]+\); quote a value that holds commas: key="a,b"$
any  2  --memory size_mib=1G --kernel path=$K  ::  --memory: key 'size_mib': '1G' is not a number: for a size with a suffix write size=1G$
any  2  --memory 2G,size_mib=64 --kernel path=$K  ::  --memory: give 'size' or 'size_mib', not both$
any  2  --serial bogus --kernel path=$K  ::  --serial: unknown console 'bogus': use stdio, pty, off, file=PATH or socket=PATH$
any  2  --serial pty,socket=$T/s --kernel path=$K  ::  --serial takes one of stdio, pty, off, file=PATH or socket=PATH$
any  2  --memory "size_mib=1${NL}2" --kernel path=$K  ::  --memory: key 'size_mib': '1\\n2' is not a number$
any  2  --memory "size_mib=${ESC}[31m" --kernel path=$K  ::  --memory: key 'size_mib': '\\x1b\[31m' is not a number$
any  2  --memory "size${ESC}_mib=64" --kernel path=$K  ::  --memory: invalid character '\\x1b' in key at position 5$
any  2  --memory size_mib=99999999999999999999x --kernel path=$K  ::  --memory: key 'size_mib': '99999999999999999999x' is not a number$
kvm  1  --block path=$T/fifo,read_only=on --kernel path=$BOOT  ::  virtio-blk: disk image [^ ]*/fifo is neither a regular file nor a block device$
kvm  1  --kernel path=/bin/ls  ::  kernel /bin/ls: ELF image is a shared object or a position-independent program, not a kernel: give a vmlinux or a bzImage$
kvm  1  --kernel path=/dev/zero  ::  kernel /dev/zero: is a character device, not a file$
kvm  1  --kernel path=$T/fifo  ::  kernel [^ ]*/fifo: is a FIFO, not a file$
kvm  1  --rng --kernel "path=$BOOT,cmdline=$LONG"  ::  kernel command line: yours is 2040 bytes and the devices' parameters add 35, the kernel takes at most 2047: shorten yours to 2012 bytes$
kvm  1  --kernel path=$T/bz0  ::  kernel [^ ]*/bz0: bzImage setup header ends too early \(at 0x202, byte 0x201 is 0\): not a kernel of boot protocol 2\.12 or later$
kvm  1  --serial file=/nonexistent/console --kernel path=$BOOT  ::  serial: cannot open /nonexistent/console: No such file or directory$
kvm  0  --memory size_mib=$BIG --kernel path=$BOOT  ::  guest memory of [0-9]+ MiB is more than the host has available \([0-9]+ MiB\): the guest may be killed or the host swap once it uses it$
nobody  1  --kernel path=$BOOT  ::  cannot open /dev/kvm: Permission denied \(add your user to the kvm group: sudo usermod -aG kvm "\$USER", then log in again\)$
rofs  1  --block path=$RO/disk.img --kernel path=$BOOT  ::  virtio-blk: cannot open disk image [^ ]*/disk\.img for writing: Read-only file system \(add read_only=on for a read-only disk\)$
TABLE
)

plan "$(printf '%s\n' "$ROWS" | grep -c .)"

while read -r need status rest; do
	[ -n "$need" ] || continue
	args=${rest%%  ::  *}
	pat=${rest#*  ::  }
	desc="$args"
	why=$(missing "$need")
	if [ -n "$why" ]; then
		skip "$desc" "$why"
		continue
	fi
	eval "set -- $args"
	run "$need" "$@"
	got=$?
	bad=$(check_row "$status" "$pat")
	if [ -z "$bad" ]; then
		ok "exit $status, one line: $desc"
	else
		echo "# $bad; wanted: vmm-reference: $pat" >>"$T/err"
		not_ok "exit $status, one line: $desc" "$T/err"
	fi
done <<EOF
$ROWS
EOF

done_testing
