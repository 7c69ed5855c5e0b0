#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# The installed API, as a program that uses the library sees it:
#   - <vmmcore/vmm.h> compiles alone as strict C99 and as C++11;
#   - the example program of libvmmcore(3) builds against a staged
#     "make install" (header, library, libvmmcore.pc found by pkg-config);
#   - that program boots the boot test guest and exits 0 when the guest
#     resets itself with its checks passed (needs /dev/kvm).
#
# Run by "make check" (which exports CC, CXX and MAKE); by hand:
#   top_srcdir=. top_builddir=BUILD sh tests/api.sh

: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
. "$top_srcdir/tests/lib.sh"
: "${CC:=cc}"
: "${CXX:=c++}"
: "${MAKE:=make}"
: "${PKG_CONFIG:=pkg-config}"

tmpdir_make
plan 7

INST=$TEST_TMP/inst
PAGE=$top_srcdir/man/libvmmcore.3
GUEST=$GUEST_DIR/boot.elf
# What the example of libvmmcore(3) configures: 512 MiB, two vCPUs.
GUEST_CMDLINE="expect_mem_mib=512 expect_cpus=2"

# have PROGRAM: the first word of a command ("$CC" may be "gcc -m64") exists.
have() {
	set -- $1
	[ $# -gt 0 ] && command -v "$1" >/dev/null 2>&1
}

# ----------------------------------------------------------- staged install
# A real "make install" into a DESTDIR, so that what follows uses the files
# a user gets, not the build tree.  MAKEFLAGS of the "make check" that runs
# this test (jobserver, variables, -k) are not passed on.
staged=
if (unset MAKEFLAGS MFLAGS; $MAKE -C "$top_builddir" install DESTDIR="$INST") \
		>"$TEST_TMP/install.log" 2>&1; then
	pc=$(find "$INST" -name libvmmcore.pc -type f | head -n 1)
	header=$(find "$INST" -path '*/vmmcore/vmm.h' -type f | head -n 1)
	if [ -n "$pc" ] && [ -n "$header" ]; then
		staged=yes
		ok "make install DESTDIR=... installs vmmcore/vmm.h and libvmmcore.pc"
	else
		find "$INST" >>"$TEST_TMP/install.log"
		not_ok "make install DESTDIR=... installs vmmcore/vmm.h and libvmmcore.pc" \
			"$TEST_TMP/install.log"
	fi
else
	not_ok "make install DESTDIR=... succeeds" "$TEST_TMP/install.log"
fi

# --------------------------------------------------------- header: C, C++
# The installed header when there is one, the source header otherwise (the
# failed install is reported above; the header's own checks still run).
if [ -n "$staged" ]; then
	hdr_inc=${header%/vmmcore/vmm.h}
	hdr_what="installed"
else
	hdr_inc=$top_srcdir/lib
	hdr_what="source (no staged install)"
fi

cat >"$TEST_TMP/api.c" <<'EOF'
#include <vmmcore/vmm.h>

static void log_fn(void *data, int priority, const char *fmt, va_list args)
{
	(void)data;
	(void)priority;
	(void)fmt;
	(void)args;
}

int use_api(struct vmm_config *cfg, const struct vmm *vm);

int use_api(struct vmm_config *cfg, const struct vmm *vm)
{
	const struct vmm_exit_info *info = vmm_exit_info(vm);
	enum vmm_stop_reason reason = info->reason;
	vmm_log_fn fn = log_fn;
	uint64_t mib = VMM_MEMORY_DEFAULT_MIB;
	bool on = vmm_config_get_handle_signals(cfg);
	const char *name;
	unsigned int flags;

	vmm_config_set_log_fn(cfg, fn, NULL);
	if (vmm_option_get(0, &name, &flags, NULL, NULL) == 0 && (flags & VMM_OPTION_DEVICE))
		return 1;
	return (reason == VMM_STOP_RESET) + on + (int)(mib + sizeof(info->code)) +
	       vmm_config_set_option(cfg, "memory", "size_mib=16") + VMM_LOG_DEBUG;
}
EOF
cc=$CC
if ! have "$cc"; then
	skip "<vmmcore/vmm.h> compiles as C99" "no C compiler ($cc)"
elif $cc -std=c99 -pedantic -Wall -Wextra -Werror -fsyntax-only -I"$hdr_inc" \
		"$TEST_TMP/api.c" >"$TEST_TMP/c99.out" 2>&1; then
	ok "<vmmcore/vmm.h> compiles as C99 -pedantic ($hdr_what header)"
else
	not_ok "<vmmcore/vmm.h> compiles as C99 -pedantic ($hdr_what header)" "$TEST_TMP/c99.out"
fi

# C++: the extern "C" block, bool without <stdbool.h>, and function
# pointers of the right types bound to the declarations.  The function
# vmm_exit_info() hides the struct's name, as stat() does in C++: the type
# is spelled "struct vmm_exit_info".
cat >"$TEST_TMP/api.cc" <<'EOF'
#include <vmmcore/vmm.h>

namespace {
int (*const config_new)(vmm_config **) = vmm_config_new;
void (*const config_free)(vmm_config *) = vmm_config_free;
int (*const set_option)(vmm_config *, const char *, const char *) = vmm_config_set_option;
int (*const add_device)(vmm_config *, const char *, const char *) = vmm_config_add_device;
void (*const set_signals)(vmm_config *, bool) = vmm_config_set_handle_signals;
const char *(*const config_error)(const vmm_config *) = vmm_config_error;
int (*const create)(const vmm_config *, vmm **) = vmm_create;
int (*const run)(vmm *) = vmm_run;
const struct vmm_exit_info *(*const exit_info)(const vmm *) = vmm_exit_info;
void (*const destroy)(vmm *) = vmm_destroy;
}

int main()
{
	vmm_config *cfg = nullptr;
	vmm *vm = nullptr;
	int ret = config_new(&cfg);

	if (ret)
		return 1;
	set_signals(cfg, true);
	ret = set_option(cfg, "vcpu", "num=2");
	if (!ret)
		ret = add_device(cfg, "rng", nullptr);
	if (!ret)
		ret = create(cfg, &vm);
	if (ret && *config_error(cfg))
		ret = -1;
	config_free(cfg);
	if (!ret)
		ret = run(vm);
	if (!ret && exit_info(vm)->reason != VMM_STOP_RESET)
		ret = 1;
	destroy(vm);
	return ret ? 1 : 0;
}
EOF
cxx=${CXX:-c++}
if ! have "$cxx"; then
	skip "<vmmcore/vmm.h> compiles as C++11" "no C++ compiler ($cxx)"
elif $cxx -std=c++11 -pedantic -Wall -Wextra -Werror -fsyntax-only -I"$hdr_inc" \
		"$TEST_TMP/api.cc" >"$TEST_TMP/cxx.out" 2>&1; then
	ok "<vmmcore/vmm.h> compiles as C++11 -pedantic ($hdr_what header)"
else
	not_ok "<vmmcore/vmm.h> compiles as C++11 -pedantic ($hdr_what header)" "$TEST_TMP/cxx.out"
fi

# ------------------------------------------------------------- pkg-config
# pkg-config with the staged .pc: the sysroot prefixes its -I and -L, and
# nothing is dropped as a "system" directory (a --prefix=/usr build).
pc_run() {
	env PKG_CONFIG_PATH="$pcdir" PKG_CONFIG_SYSROOT_DIR="$INST" \
		PKG_CONFIG_ALLOW_SYSTEM_CFLAGS=1 PKG_CONFIG_ALLOW_SYSTEM_LIBS=1 \
		$PKG_CONFIG "$@"
}

flags=
why=
if [ -z "$staged" ]; then
	why="the staged install failed"
	skip "pkg-config finds the staged libvmmcore" "$why"
elif ! have "$PKG_CONFIG"; then
	why="$PKG_CONFIG is not installed"
	skip "pkg-config finds the staged libvmmcore" "$why"
else
	pcdir=$(dirname "$pc")
	libdir=
	if pc_run --libs-only-L libvmmcore >"$TEST_TMP/pc.L" 2>&1; then
		libdir=$(tr ' ' '\n' <"$TEST_TMP/pc.L" | sed -n 's/^-L//p' | head -n 1)
	fi
	# A static-only install links with the private libraries too.
	static=
	ls "$libdir"/libvmmcore.so* >/dev/null 2>&1 || static=--static
	if [ -n "$libdir" ] && [ -d "$libdir" ] &&
	   flags=$(pc_run $static --cflags --libs libvmmcore 2>"$TEST_TMP/pc.err") &&
	   flags=$(printf '%s\n' "$flags" | sed 's/[[:space:]]*$//') &&
	   case $flags in *"-I$INST/"*) true ;; *) false ;; esac; then
		ok "pkg-config finds the staged libvmmcore ($flags)"
	else
		{ echo "libdir: '$libdir' flags: '$flags'"; cat "$TEST_TMP/pc.L" "$TEST_TMP/pc.err"; } \
			>"$TEST_TMP/pc.out" 2>/dev/null
		not_ok "pkg-config finds the staged libvmmcore" "$TEST_TMP/pc.out"
		why="pkg-config failed"
		flags=
	fi
fi

# ------------------------------------------------------ the manual example
# Extracted as tests/manpages.sh does: from "#include <stdio.h>" to .EE,
# with the roff escapes \e and \- undone.
sed -n '/^\.SH EXAMPLES/,/^\.SH /p' "$PAGE" |
	awk '/^#include <stdio.h>/ { f = 1 } f && /^\.EE/ { exit } f' |
	sed 's/\\e/\\/g; s/\\-/-/g' >"$TEST_TMP/example.c"
EXAMPLE=$TEST_TMP/example
built=
if [ -n "$why" ]; then
	skip "libvmmcore(3) example builds against the installed library" "$why"
elif [ ! -s "$TEST_TMP/example.c" ]; then
	not_ok "libvmmcore(3) example builds against the installed library (no example in $PAGE)"
	why="no example program"
elif ! have "$cc"; then
	why="no C compiler ($cc)"
	skip "libvmmcore(3) example builds against the installed library" "$why"
# A library built with sanitizers (--enable-sanitizers) needs them in the
# program too: their runtime must come first.
elif $cc ${SANITIZE_CFLAGS:-} -Wall -Wextra -Werror -o "$EXAMPLE" "$TEST_TMP/example.c" $flags \
		>"$TEST_TMP/example.out" 2>&1; then
	built=yes
	ok "libvmmcore(3) example builds against the installed library"
else
	echo "command: $cc ${SANITIZE_CFLAGS:-} -Wall -Wextra -Werror -o $EXAMPLE example.c $flags" \
		>>"$TEST_TMP/example.out"
	not_ok "libvmmcore(3) example builds against the installed library" "$TEST_TMP/example.out"
	why="the example did not build"
fi

# ------------------------------------------------------ the example boots
# The boot guest checks memory and vCPUs against its command line, which
# must match what the example configures; a disk whose name needs the
# example's quoting, and the example's entropy device, come along.
desc="libvmmcore(3) example boots the boot guest"
if [ -z "$built" ]; then
	skip "$desc: exit status 0" "$why"
	skip "$desc: guest checks pass" "$why"
elif [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
	skip "$desc: exit status 0" "/dev/kvm is not available"
	skip "$desc: guest checks pass" "/dev/kvm is not available"
elif [ ! -f "$GUEST" ]; then
	not_ok "$desc: exit status 0 (no guest image $GUEST)"
	skip "$desc: guest checks pass" "no guest image"
else
	disk="$TEST_TMP/disk, 1.img"
	dd if=/dev/zero of="$disk" bs=512 count=2048 2>/dev/null
	out=$TEST_TMP/boot.out
	LD_LIBRARY_PATH="$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
		"$TIMEOUT" -k 10 60 "$EXAMPLE" "$GUEST" "$GUEST_CMDLINE" "$disk" \
		</dev/null >"$out" 2>&1
	rc=$?
	if [ "$rc" -eq 0 ]; then
		ok "$desc: exit status 0"
	else
		echo "command: $EXAMPLE $GUEST '$GUEST_CMDLINE' '$disk'" >>"$out"
		not_ok "$desc: exit status 0 (got $rc)" "$out"
	fi
	if grep -qx 'RESULT PASS' "$out"; then
		ok "$desc: guest checks pass"
	else
		not_ok "$desc: guest checks pass" "$out"
	fi
fi

done_testing
