#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The bad-input catalogue: malformed invocations from one table, each
# with the message that says how to fix it. For every row: the exit
# status, and that stderr holds exactly the one line "vmm-reference:
# MESSAGE" with its hint -- followed, for a usage error (status 2), by
# the "Try --help" line, and for a warning (status 0) by the stop line --
# with no control character unescaped; and that the VMM neither hung
# (the time limit), nor died of a signal, nor dumped core. Rows run on a
# pseudo-terminal also check that the terminal's settings are as before.
# Rows that need /dev/kvm, root, another user, a read-only file system
# or a pseudo-terminal skip without them.
. "$top_srcdir/tests/lib.sh"
tmpdir_make

T=$(cd "$TEST_TMP" && pwd)
K=$T/kernel
BOOT=$GUEST_DIR/boot.elf
BZ=$GUEST_DIR/boot.bzimage
SERIAL_ELF=$GUEST_DIR/serial.elf
ROW_SECS=20             # a row that takes longer hangs
NL='
'
ESC=$(printf '\033')
LONG=$(head -c 2040 /dev/zero | tr '\0' x)
HUGE=$(head -c 5000 /dev/zero | tr '\0' y)
avail=$(awk '/^MemAvailable:/ { print int($2 / 1024) }' /proc/meminfo)
BIG=$((${avail:-0} * 2))
AS_NOBODY="setpriv --reuid=65534 --regid=65534 --clear-groups"
# Root without the capabilities that let it read and write any file.
NO_DAC="setpriv --bounding-set=-dac_override,-dac_read_search"
mkdir "$T/cwd"          # where a core dump would land

# poke FILE OFFSET BYTES: overwrite bytes (printf escapes) in place.
poke() { printf "$3" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none; }

# The inputs: files of every wrong kind.
printf 'not a kernel, just text\n' >"$K"
: >"$T/empty"
mkfifo "$T/fifo"
head -c 40 "$BOOT" >"$T/elf40" 2>/dev/null
head -c 1000 "$BZ" >"$T/bz1000" 2>/dev/null
head -c 3000 "$BZ" >"$T/bz3000" 2>/dev/null
head -c 8192 "$BZ" >"$T/bz0" 2>/dev/null
poke "$T/bz0" 513 '\0'
cp "$BOOT" "$T/aarch64.elf" && poke "$T/aarch64.elf" 18 '\267\0'        # EM_AARCH64
cp "$BOOT" "$T/i386.elf" && poke "$T/i386.elf" 4 '\1' &&               # ELFCLASS32,
	poke "$T/i386.elf" 18 '\3\0'                                     # EM_386
cp "$BOOT" "$T/rel.elf" && poke "$T/rel.elf" 16 '\1\0'                  # ET_REL
# far.elf: the first PT_LOAD segment moved to 1 GiB, past 256 MiB of RAM.
u() { od -An -t "u$1" -j "$2" -N "$1" "$BOOT" | tr -d ' '; }
phoff=$(u 8 32) phnum=$(u 2 56) i=0
while [ "$i" -lt "${phnum:-0}" ] && [ "$(u 4 $((phoff + i * 56)))" != 1 ]; do
	i=$((i + 1))
done
cp "$BOOT" "$T/far.elf" && poke "$T/far.elf" $((phoff + i * 56 + 24)) '\0\0\0\100\0\0\0\0'
truncate -s 300M "$T/big.initrd"
truncate -s 1M "$T/disk.img" "$T/lock.img" "$T/noread.img" "$T/ro.img"
truncate -s 1000 "$T/odd.img"
cp "$BOOT" "$T/noread"
chmod 000 "$T/noread" "$T/noread.img"
chmod 444 "$T/ro.img"

# A read-only file system holding an image, in a mount namespace of its
# own (root only): opening it for writing fails with EROFS.
RO=$T/ro
ROFS='mount -t tmpfs -o size=4m none "$1" && truncate -s 1M "$1/disk.img" &&
	mount -o remount,ro "$1" && shift && exec "$@"'

kvm_ok() { [ -r /dev/kvm ] && [ -w /dev/kvm ]; }
root_kvm() { kvm_ok && [ "$(id -u)" -eq 0 ]; }

# Why a row cannot run here, or nothing.
missing() {
	case $1 in
	any) ;;
	kvm | locked) kvm_ok || echo "/dev/kvm is not available" ;;
	nobody)
		if ! root_kvm || ! command -v setpriv >/dev/null 2>&1 ||
		   $AS_NOBODY test -w /dev/kvm || ! $AS_NOBODY "$VMM" --version </dev/null >/dev/null 2>&1; then
			echo "needs root, setpriv, a /dev/kvm other users cannot open and a VMM they can run"
		fi ;;
	nodac)
		if ! root_kvm || ! command -v setpriv >/dev/null 2>&1 ||
		   ! $NO_DAC true 2>/dev/null || $NO_DAC cat "$T/noread" >/dev/null 2>&1; then
			echo "needs /dev/kvm, root and setpriv that can drop CAP_DAC_OVERRIDE"
		fi ;;
	rofs)
		mkdir -p "$RO"
		if ! root_kvm || ! unshare -m true </dev/null 2>/dev/null; then
			echo "needs /dev/kvm, root and mount namespaces"
		fi ;;
	blkdev)
		# The node of the first loop device: a block device of our own.
		if ! root_kvm || ! { [ -b "$T/blk" ] || mknod "$T/blk" b 7 0 2>/dev/null; } ||
		   ! dd if="$T/blk" of=/dev/null count=0 status=none 2>/dev/null; then
			echo "needs /dev/kvm, root and a loop device"
		fi ;;
	aslimit)
		# Sanitizers and memcheck need more address space themselves.
		if ! kvm_ok || ! command -v prlimit >/dev/null 2>&1 ||
		   [ -n "${SANITIZE_CFLAGS:-}" ] || [ "$TIMEOUT_SCALE" != 1 ]; then
			echo "needs /dev/kvm, prlimit and the VMM running natively"
		fi ;;
	pty)
		if ! kvm_ok || ! command -v script >/dev/null 2>&1 ||
		   ! script -qec true /dev/null </dev/null >/dev/null 2>&1; then
			echo "needs /dev/kvm and script(1) for a pseudo-terminal"
		fi ;;
	esac
}

# shquote WORD: WORD quoted for sh.
shquote() { printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"; }

# run_pty ARGS...: the VMM with a new pseudo-terminal as its stdin and
# stdout (stderr to the file as ever), in the terminal's foreground as
# from a shell, the terminal's settings saved before and after it.
# Returns: the VMM's status.
run_pty() {
	{
		echo "cd '$T/cwd' && ulimit -c unlimited 2>/dev/null"
		echo "stty -g >'$T/tty.before'"
		printf '%s --foreground -k 5 %s %s' "$(shquote "$TIMEOUT")" "$ROW_SECS" \
			"$(shquote "$VMM")"
		for _a; do printf ' %s' "$(shquote "$_a")"; done
		echo " 2>'$T/err'"
		echo "echo \$? >'$T/status'"
		echo "stty -g >'$T/tty.after'"
	} >"$T/pty.sh"
	rm -f "$T/status" "$T/tty.before" "$T/tty.after"
	"$TIMEOUT" -k 5 $((ROW_SECS + 10)) script -qec "sh '$T/pty.sh'" /dev/null \
		</dev/null >"$T/out" 2>&1
	[ -s "$T/status" ] || { echo "# no status from the pseudo-terminal" >>"$T/err"; return 125; }
	return "$(cat "$T/status")"
}

# hold_disk: a first VMM (the serial guest idles) holding the lock on
# lock.img, until release_disk. False when it did not get that far.
hold_disk() {
	rm -f "$T/holder.out"
	"$TIMEOUT" -k 5 60 "$VMM" --serial file="$T/holder.out" --block path="$T/lock.img" \
		--kernel path="$SERIAL_ELF" </dev/null >/dev/null 2>"$T/holder.err" &
	holder=$!
	wait_output "$T/holder.out" "$holder" "SERIAL READY" 10
}
release_disk() { kill "$holder" 2>/dev/null; wait "$holder" 2>/dev/null; }

# run NEED ARGS...: the VMM as the row needs it, in $T/cwd with core
# dumps on. Returns: its status.
run() {
	_need=$1; shift
	rm -f "$T/err" "$T/cwd/"core*
	case $_need in
	pty) run_pty "$@"; return ;;
	locked)
		if ! hold_disk; then
			{ echo "# the first VMM did not start:"; cat "$T/holder.err"; } >"$T/err"
			release_disk
			return 125
		fi ;;
	esac
	case $_need in
	nobody) set -- $AS_NOBODY "$VMM" "$@" ;;
	nodac) set -- $NO_DAC "$VMM" "$@" ;;
	rofs) set -- unshare -m sh -c "$ROFS" sh "$RO" "$VMM" "$@" ;;
	aslimit) set -- prlimit --as=1073741824 "$VMM" "$@" ;;
	*) set -- "$VMM" "$@" ;;
	esac
	(cd "$T/cwd" && { ulimit -c unlimited 2>/dev/null || :; } &&
	 exec "$TIMEOUT" -k 5 "$ROW_SECS" "$@" </dev/null >"$T/out" 2>"$T/err")
	_st=$?
	[ "$_need" != locked ] || release_disk
	return "$_st"
}

# check_row NEED STATUS PATTERN: what is wrong with the row's run, or
# nothing.
check_row() {
	_lines=$(wc -l <"$T/err")
	_second=$(sed -n 2p "$T/err")
	case $2 in
	2) _follow="^Try 'vmm-reference --help' for more information\.$" ;;
	0) _follow='^vmm-reference: stopped after [0-9.]+ s: ' ;;
	*) _follow= ;;
	esac
	if [ "$got" -eq 124 ] || [ "$got" -eq 137 ]; then
		echo "hung: killed after $ROW_SECS s (exit $got)"
	elif [ "$got" -gt 128 ] && [ "$got" -ne 125 ]; then
		echo "died of signal $((got - 128))"
	elif ls "$T/cwd/"core* >/dev/null 2>&1; then
		echo "dumped core"
	elif [ "$got" -ne "$2" ]; then
		echo "exit $got, wanted $2"
	elif LC_ALL=C grep -q '[[:cntrl:]]' "$T/err"; then
		echo "a control character reached stderr unescaped"
	elif ! head -n 1 "$T/err" | grep -qE -- "^vmm-reference: $3"; then
		echo "the first line does not match"
	elif [ -z "$_follow" ] && [ "$_lines" -ne 1 ]; then
		echo "$_lines lines, wanted one"
	elif [ -n "$_follow" ] && { [ "$_lines" -ne 2 ] ||
	     ! printf '%s\n' "$_second" | grep -qE -- "$_follow"; }; then
		echo "not the one line and what follows it"
	elif [ "$1" = pty ] && ! cmp -s "$T/tty.before" "$T/tty.after"; then
		echo "the terminal's settings changed: $(cat "$T/tty.before") -> $(cat "$T/tty.after")"
	fi
}

ROWS=$(grep -v '^#' <<'TABLE'
# need  status  arguments (shell words)  ::  the message (ERE, after "vmm-reference: ")
#
# The command line: options and their keys.
any  2  -q  ::  no kernel: --kernel path=FILE is required$
any  2  --memroy size_mib=64 --kernel path=$K  ::  unknown option '--memroy'; did you mean --memory\?$
any  2  --kernel path=$K --$HUGE  ::  unknown option '--y+'$
any  2  -x --kernel path=$K  ::  unknown option '-x'$
any  2  -vx --kernel path=$K  ::  unknown option '-x'$
any  2  "-${ESC}" --kernel path=$K  ::  unknown option '-\\x1b'$
any  2  --quiet=1 --kernel path=$K  ::  --quiet takes no value: give it alone$
any  2  --log --kernel path=$K  ::  option '--log' is ambiguous: --log-level, --log-file$
any  2  --kernel path=$K stray  ::  unexpected argument 'stray'$
any  2  --kernel  ::  --kernel needs a value: --kernel path=FILE\[,cmdline=STRING\]\[,kernel_load_addr=ADDR\]\[,initrd=FILE\]$
any  2  --kernel /boot/vmlinuz  ::  --kernel needs path=FILE: try --kernel path=/boot/vmlinuz$
any  2  --kernel ""  ::  --kernel: empty value; expected key=value\[,key=value\.\.\.\]$
any  2  --kernel path=  ::  --kernel: key 'path' needs a value$
any  2  --kernel path=$K,path=$K  ::  --kernel: key 'path' given more than once$
any  2  --kernel path=$K --kernel path=$K  ::  --kernel given more than once$
any  2  --kernel "path=\"$K"  ::  --kernel: key 'path': unterminated quoted value$
any  2  --kernel "path=\"$K\"x"  ::  --kernel: key 'path': unexpected text after the closing quote$
any  2  --kernel "path=$K,cmdline=clearcpuid=smap,smep"  ::  --kernel: unknown key 'smep' \(keys: [a-z_, ]+\); quote a value that holds commas: key="a,b"$
any  2  --kernel "path=$K,$HUGE=1"  ::  --kernel: unknown key 'y+\.\.\.y+' \(keys: [a-z_, ]+\); quote a value that holds commas: key="a,b"$
any  2  --kernel path=$K,kernel_load_addr=0x1001  ::  --kernel: key 'kernel_load_addr': 0x1001 is not 4 KiB aligned: give a multiple of 0x1000$
any  2  --kernel path=$K,kernel_load_addr=high  ::  --kernel: key 'kernel_load_addr': 'high' is not a number$
any  2  --kernel path=$K,kernel_load_addr=0x10000000000000000  ::  --kernel: key 'kernel_load_addr': 0x10000000000000000 is out of range \(0\.\.18446744073709551615\)$
any  2  --kernel path=$K,initrd=  ::  --kernel: key 'initrd' needs a value$
any  2  --kernel path=$K,  ::  --kernel: trailing comma$
any  2  --kernel ,path=$K  ::  --kernel: missing key at position 1$
any  2  --memory size_mib=1G --kernel path=$K  ::  --memory: key 'size_mib': '1G' is not a number: for a size with a suffix write size=1G$
any  2  --memory 2G,size_mib=64 --kernel path=$K  ::  --memory: give 'size' or 'size_mib', not both$
any  2  --memory size=64,size=64 --kernel path=$K  ::  --memory: key 'size' given more than once$
any  2  --memory colour=red --kernel path=$K  ::  --memory: unknown key 'colour' \(keys: size, size_mib\)$
any  2  --memory "" --kernel path=$K  ::  --memory: empty value; expected key=value\[,key=value\.\.\.\]$
any  2  --memory size_mib= --kernel path=$K  ::  --memory: key 'size_mib' needs a value$
any  2  --memory "size=\"64" --kernel path=$K  ::  --memory: key 'size': unterminated quoted value$
any  2  --memory 1.5G --kernel path=$K  ::  --memory: key 'size': '1\.5G' is not a size \(N MiB, or N with K, M, G or T, in whole MiB\)$
any  2  --memory 1000K --kernel path=$K  ::  --memory: key 'size': '1000K' is not a size \(N MiB, or N with K, M, G or T, in whole MiB\)$
any  2  --memory size=0 --kernel path=$K  ::  --memory: key 'size': 0 is out of range \(16M\.\.1048576M\)$
any  2  --memory size=2000000G --kernel path=$K  ::  --memory: key 'size': 2000000G is out of range \(16M\.\.1048576M\)$
any  2  --memory size_mib=99999999999999999999x --kernel path=$K  ::  --memory: key 'size_mib': '99999999999999999999x' is not a number$
any  2  --memory size_mib=99999999999999999999 --kernel path=$K  ::  --memory: key 'size_mib': 99999999999999999999 is out of range \(16\.\.1048576\)$
any  2  --memory "size_mib=1${NL}2" --kernel path=$K  ::  --memory: key 'size_mib': '1\\n2' is not a number$
any  2  --memory "size_mib=${ESC}[31m" --kernel path=$K  ::  --memory: key 'size_mib': '\\x1b\[31m' is not a number$
any  2  --memory "size${ESC}_mib=64" --kernel path=$K  ::  --memory: invalid character '\\x1b' in key at position 5$
any  2  --memory "size=$HUGE" --kernel path=$K  ::  --memory: key 'size': 'y+\.\.\.y+' is not a size \(N MiB, or N with K, M, G or T, in whole MiB\)$
any  2  --memory -q --kernel path=$K  ::  --memory needs a value: --memory \[size=SIZE\]\[,size_mib=N\]$
any  2  --vcpu num=0 --kernel path=$K  ::  --vcpu: key 'num': 0 is out of range \(1\.\.254\)$
any  2  --vcpu num=4294967296 --kernel path=$K  ::  --vcpu: key 'num': 4294967296 is out of range \(1\.\.254\)$
any  2  --vcpu num=two --kernel path=$K  ::  --vcpu: key 'num': 'two' is not a number$
any  2  --vcpu num= --kernel path=$K  ::  --vcpu: key 'num' needs a value$
any  2  --vcpu num=1,num=2 --kernel path=$K  ::  --vcpu: key 'num' given more than once$
any  2  --vcpu num=1 --vcpu num=2 --kernel path=$K  ::  --vcpu given more than once$
any  2  --vcpu cores=2 --kernel path=$K  ::  --vcpu: unknown key 'cores' \(keys: num\)$
any  2  --vcpu 2 --kernel path=$K  ::  --vcpu needs num=N: try --vcpu num=2$
any  2  --vcpu "num=\"2" --kernel path=$K  ::  --vcpu: key 'num': unterminated quoted value$
any  2  --vcpu "num=2${ESC}" --kernel path=$K  ::  --vcpu: key 'num': '2\\x1b' is not a number$
any  2  --serial "" --kernel path=$K  ::  --serial: empty value; expected key=value\[,key=value\.\.\.\]$
any  2  --serial bogus --kernel path=$K  ::  --serial: unknown console 'bogus': use stdio, pty, off, file=PATH or socket=PATH$
any  2  --serial pty,socket=$T/s --kernel path=$K  ::  --serial takes one of stdio, pty, off, file=PATH or socket=PATH$
any  2  --serial mode=pty,mode=off --kernel path=$K  ::  --serial: key 'mode' given more than once$
any  2  --serial stdio --serial pty --kernel path=$K  ::  --serial given more than once$
any  2  --serial colour=1 --kernel path=$K  ::  --serial: unknown key 'colour' \(keys: mode, file, socket\)$
any  2  --serial file= --kernel path=$K  ::  --serial: key 'file' needs a value$
any  2  --serial "file=\"x" --kernel path=$K  ::  --serial: key 'file': unterminated quoted value$
any  2  --serial "mode=p${ESC}ty" --kernel path=$K  ::  --serial: unknown console 'p\\x1bty': use stdio, pty, off, file=PATH or socket=PATH$
any  2  --serial "mode=$HUGE" --kernel path=$K  ::  --serial: unknown console 'y+\.\.\.y+': use stdio, pty, off, file=PATH or socket=PATH$
any  2  --block --kernel path=$K  ::  --block needs a value: --block path=FILE\[,read_only=on\|off\]\[,id=NAME\]$
any  2  --block read_only=on --kernel path=$K  ::  --block: key 'path' is required$
any  2  --block path= --kernel path=$K  ::  --block: key 'path' needs a value$
any  2  --block path=$T/disk.img,read_only=maybe --kernel path=$K  ::  --block: key 'read_only': 'maybe' is not on or off$
any  2  --block path=$T/disk.img,path=$T/disk.img --kernel path=$K  ::  --block: key 'path' given more than once$
any  2  --block path=$T/disk.img,size=1 --kernel path=$K  ::  --block: unknown key 'size' \(keys: path, read_only, id\); quote a value that holds commas: key="a,b"$
any  2  --block "path=\"$T/disk.img" --kernel path=$K  ::  --block: key 'path': unterminated quoted value$
any  2  --block path=$T/disk.img,id=abcdefghijklmnopqrstu --kernel path=$K  ::  --block: key 'id': value longer than 20 bytes$
any  2  --block "path=$T/disk.img,read_only=$HUGE" --kernel path=$K  ::  --block: key 'read_only': 'y+\.\.\.y+' is not on or off$
any  2  --rng source= --kernel path=$K  ::  --rng: key 'source' needs a value$
any  2  --rng source=/dev/urandom,source=/dev/random --kernel path=$K  ::  --rng: key 'source' given more than once$
any  2  --rng rate=1 --kernel path=$K  ::  --rng: unknown key 'rate' \(keys: source\)$
any  2  --rng --rng --kernel path=$K  ::  --rng: at most 1 allowed$
any  2  --rng "source=\"/dev/urandom" --kernel path=$K  ::  --rng: key 'source': unterminated quoted value$
any  2  --rng=/dev/urandom --kernel path=$K  ::  --rng needs source=PATH: try --rng source=/dev/urandom$
any  2  --net --kernel path=$K  ::  --net needs a value: --net tap=NAME\[,mac=xx:xx:xx:xx:xx:xx\]\[,id=NAME\]$
any  2  --net tap= --kernel path=$K  ::  --net: key 'tap' needs a value$
any  2  --net tap=t0,tap=t1 --kernel path=$K  ::  --net: key 'tap' given more than once$
any  2  --net tap=t0,vlan=1 --kernel path=$K  ::  --net: unknown key 'vlan' \(keys: tap, mac, id\); quote a value that holds commas: key="a,b"$
any  2  --net tap=0123456789abcdef --kernel path=$K  ::  --net: key 'tap': value longer than 15 bytes$
any  2  --net tap=t0,mac=zz --kernel path=$K  ::  --net: key 'mac': 'zz' is not a MAC address \(xx:xx:xx:xx:xx:xx\)$
any  2  --net tap=t0,mac=01:00:5e:00:00:01 --kernel path=$K  ::  --net: key 'mac': 01:00:5e:00:00:01 is multicast, not an interface address$
any  2  --net "tap=t0,mac=$HUGE" --kernel path=$K  ::  --net: key 'mac': value longer than 17 bytes$
any  2  --log-level=loud --kernel path=$K  ::  --log-level: unknown level 'loud': use error, warn, info or debug$
any  2  --kernel path=$K --log-level  ::  --log-level needs a value$
any  2  --log-level="de${ESC}bug" --kernel path=$K  ::  --log-level: unknown level 'de\\x1bbug': use error, warn, info or debug$
any  2  --log-file= --kernel path=$K  ::  --log-file needs a value: --log-file=PATH$
any  2  --seccomp=strict --kernel path=$K  ::  --seccomp must be on, off or log, not 'strict'$
any  2  --seccomp="o${ESC}n" --kernel path=$K  ::  --seccomp must be on, off or log, not 'o\\x1bn'$
any  2  --kernel path=$K --seccomp  ::  --seccomp needs a value$
any  2  --log-file --quiet --kernel path=$K  ::  --log-file needs a value: --log-file=PATH$
any  1  --log-file=$T/fifo --kernel path=$K  ::  log file [^ ]*/fifo is a FIFO that nothing reads: start its reader first$
any  1  --log-file=$T --kernel path=$K  ::  cannot open log file [^ ]*: Is a directory$
#
# The kernel and the initrd.
kvm  1  --kernel path=$T/missing  ::  kernel [^ ]*/missing: No such file or directory$
kvm  1  --kernel path=$T  ::  kernel [^ ]*: Is a directory$
kvm  1  --kernel path=$T/empty  ::  kernel [^ ]*/empty: empty file$
kvm  1  --kernel path=/dev/zero  ::  kernel /dev/zero: is a character device, not a file$
kvm  1  --kernel path=$T/fifo  ::  kernel [^ ]*/fifo: is a FIFO, not a file$
kvm  1  --kernel path=$K  ::  kernel [^ ]*/kernel: not an ELF vmlinux or bzImage$
kvm  1  --kernel path=$T/elf40  ::  kernel [^ ]*/elf40: ELF image truncated: 40 bytes$
kvm  1  --kernel path=$T/bz1000  ::  kernel [^ ]*/bz1000: bzImage truncated: 1000 bytes$
kvm  1  --kernel path=$T/bz3000  ::  kernel [^ ]*/bz3000: bzImage truncated: [0-9]+ bytes of protected-mode code, header says [0-9]+$
kvm  1  --kernel path=$T/bz0  ::  kernel [^ ]*/bz0: bzImage setup header ends too early \(at 0x202, byte 0x201 is 0\): not a kernel of boot protocol 2\.12 or later$
kvm  1  --kernel path=$T/aarch64.elf  ::  kernel [^ ]*/aarch64\.elf: ELF image is for another machine \(e_machine 183, not x86_64's 62\): give an x86_64 vmlinux or bzImage$
kvm  1  --kernel path=$T/i386.elf  ::  kernel [^ ]*/i386\.elf: ELF image is not 64-bit little-endian \(an i386 or big-endian build\?\): give an x86_64 vmlinux or bzImage$
kvm  1  --kernel path=/bin/ls  ::  kernel /bin/ls: ELF image is a shared object or a position-independent program, not a kernel: give a vmlinux or a bzImage$
kvm  1  --kernel path=$T/rel.elf  ::  kernel [^ ]*/rel\.elf: ELF image is an object file, not a kernel: give a vmlinux or a bzImage$
kvm  1  --kernel path=$BZ,kernel_load_addr=0x1000  ::  kernel [^ ]*/boot\.bzimage: bzImage load address 0x1000 is below 1 MiB: give kernel_load_addr=0x100000 or more$
kvm  1  --kernel path=$BZ,kernel_load_addr=0xfffffffffffff000  ::  kernel [^ ]*/boot\.bzimage: bzImage \([0-9]+ bytes at 0xfffffffffffff000\) does not fit in guest RAM below 0x10000000: no --memory gives RAM there, in or past the MMIO gap$
kvm  1  --kernel path=$T/far.elf  ::  kernel [^ ]*/far\.elf: ELF segment [0-9]+ \[0x40000000, 0x[0-9a-f]+\) does not fit in guest RAM below 0x10000000: give the guest more memory \(--memory\)$
kvm  1  --kernel "path=$T/a${ESC}[2J"  ::  kernel [^ ]*/a\\x1b\[2J: No such file or directory$
kvm  1  --kernel "path=$T/$HUGE"  ::  kernel [^ ]*\.\.\.y+: File ?name too long$
kvm  1  --rng --kernel "path=$BOOT,cmdline=$LONG"  ::  kernel command line: yours is 2040 bytes and the devices' parameters add 35, the kernel takes at most 2047: shorten yours to 2012 bytes$
kvm  1  --kernel "path=$BOOT,cmdline=$HUGE"  ::  kernel command line: yours is 5000 bytes, the kernel takes at most 2047: shorten it$
kvm  1  --kernel path=$BOOT,initrd=$T/missing  ::  initrd [^ ]*/missing: No such file or directory$
kvm  1  --kernel path=$BOOT,initrd=/dev/zero  ::  initrd /dev/zero: is a character device, not a file$
kvm  1  --kernel path=$BOOT,initrd=$T/empty  ::  initrd [^ ]*/empty: empty file$
kvm  1  --memory 64 --kernel path=$BOOT,initrd=$T/big.initrd  ::  initrd [^ ]*/big\.initrd: initrd \(314572800 bytes\) does not fit between the kernel \(end 0x[0-9a-f]+\) and 0x4000000: give the guest more memory \(--memory\) or a smaller initrd$
kvm  1  --kernel "path=$BOOT,initrd=$T/i${NL}rd"  ::  initrd [^ ]*/i\\nrd: No such file or directory$
nodac  1  --kernel path=$T/noread  ::  kernel [^ ]*/noread: Permission denied$
nodac  1  --kernel path=$BOOT,initrd=$T/noread  ::  initrd [^ ]*/noread: Permission denied$
#
# Disks.
kvm  1  --block path=$T/missing.img --kernel path=$BOOT  ::  virtio-blk: cannot open disk image [^ ]*/missing\.img for writing: No such file or directory$
kvm  1  --block path=$T,read_only=on --kernel path=$BOOT  ::  virtio-blk: disk image [^ ]* is a directory$
kvm  1  --block path=$T/odd.img --kernel path=$BOOT  ::  virtio-blk: size of disk image [^ ]*/odd\.img \(1000 bytes\) is not a multiple of 512$
kvm  1  --block path=$T/fifo,read_only=on --kernel path=$BOOT  ::  virtio-blk: disk image [^ ]*/fifo is neither a regular file nor a block device$
kvm  1  --block path=/dev/null --kernel path=$BOOT  ::  virtio-blk: disk image /dev/null is neither a regular file nor a block device$
kvm  1  --block "path=$T/d${ESC}[31m" --kernel path=$BOOT  ::  virtio-blk: cannot open disk image [^ ]*/d\\x1b\[31m for writing: No such file or directory$
kvm  1  --block "path=$T/$HUGE" --kernel path=$BOOT  ::  virtio-blk: cannot open disk image [^ ]*y for writing: File ?name too long$
blkdev  1  --block path=$T/blk,read_only=on --kernel path=$K  ::  kernel [^ ]*/kernel: not an ELF vmlinux or bzImage$
locked  1  --block path=$T/lock.img --kernel path=$BOOT  ::  virtio-blk: disk image [^ ]*/lock\.img is in use: another program holds a lock on it \(another VMM\?\): stop it first, or give this one a copy$
nodac  1  --block path=$T/noread.img,read_only=on --kernel path=$BOOT  ::  virtio-blk: cannot open disk image [^ ]*/noread\.img: Permission denied$
nodac  1  --block path=$T/ro.img --kernel path=$BOOT  ::  virtio-blk: cannot open disk image [^ ]*/ro\.img for writing: Permission denied \(add read_only=on for a read-only disk\)$
rofs  1  --block path=$RO/disk.img --kernel path=$BOOT  ::  virtio-blk: cannot open disk image [^ ]*/disk\.img for writing: Read-only file system \(add read_only=on for a read-only disk\)$
#
# The entropy source, the console, the network.
kvm  1  --rng source=$T/missing --kernel path=$BOOT  ::  virtio-rng: cannot open the entropy source [^ ]*/missing: No such file or directory$
kvm  1  --rng source=$T --kernel path=$BOOT  ::  virtio-rng: the entropy source [^ ]* is a directory$
kvm  1  --rng "source=$T/r${ESC}c" --kernel path=$BOOT  ::  virtio-rng: cannot open the entropy source [^ ]*/r\\x1bc: No such file or directory$
kvm  1  --serial file=/nonexistent/console --kernel path=$BOOT  ::  serial: cannot open /nonexistent/console: No such file or directory$
kvm  1  --serial file=$T/fifo --kernel path=$BOOT  ::  serial: [^ ]*/fifo is a FIFO that nothing reads: start its reader first$
kvm  1  --serial file=$T --kernel path=$BOOT  ::  serial: cannot open [^ ]*: Is a directory$
kvm  1  --serial "file=$T/$HUGE" --kernel path=$BOOT  ::  serial: cannot open [^ ]*\.\.\.y+: File ?name too long$
kvm  1  --serial socket=$K --kernel path=$BOOT  ::  serial: [^ ]*/kernel exists: remove it or pick another socket path$
kvm  1  --serial "socket=$T/$HUGE" --kernel path=$BOOT  ::  serial: socket path [^ ]*\.\.\.y+ is longer than 107 bytes: pick a shorter one$
kvm  1  --net "tap=t${ESC}0" --kernel path=$BOOT  ::  virtio-net: no network interface t\\x1b0: create the TAP with 'ip tuntap add dev t\\x1b0 mode tap user \$\(id -un\)' and 'ip link set t\\x1b0 up'$
#
# The host: /dev/kvm and memory.
nobody  1  --kernel path=$BOOT  ::  cannot open /dev/kvm: Permission denied \(add your user to the kvm group: sudo usermod -aG kvm "\$USER", then log in again\)$
kvm  0  --memory size_mib=$BIG --kernel path=$BOOT  ::  guest memory of [0-9]+ MiB is more than the host has available \([0-9]+ MiB\): the guest may be killed or the host swap once it uses it$
aslimit  1  --memory 2G --kernel path=$BOOT  ::  cannot map 2048 MiB of guest memory: (Cannot allocate memory|Out of memory): give the guest less \(--memory\), or raise the address-space limit \(ulimit -v\)$
#
# On a terminal: it is as it was after each.
pty  2  --vcpu num=0 --kernel path=$K  ::  --vcpu: key 'num': 0 is out of range \(1\.\.254\)$
pty  1  --kernel path=$K  ::  kernel [^ ]*/kernel: not an ELF vmlinux or bzImage$
pty  1  --block path=$T/fifo,read_only=on --kernel path=$BOOT  ::  virtio-blk: disk image [^ ]*/fifo is neither a regular file nor a block device$
pty  1  --serial pty --kernel path=$T/bz0  ::  kernel [^ ]*/bz0: bzImage setup header ends too early
pty  0  --memory size_mib=$BIG --kernel path=$BOOT  ::  guest memory of [0-9]+ MiB is more than the host has available
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
	bad=$(check_row "$need" "$status" "$pat")
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
