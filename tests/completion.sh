#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# The bash completion (completion/vmm-reference.bash), run the way
# bash-completion runs it: COMP_LINE and COMP_POINT up to the cursor,
# COMP_WORDS and COMP_CWORD, then the function; COMPREPLY is checked.
# It completes from "vmm-reference --help", so every option and key that
# --help prints must come back, and the value kinds (files, on|off, TAP
# devices, words) are tried on the options that have them.
#
# Run by "make check"; by hand:  top_srcdir=. top_builddir=BUILD bash tests/completion.sh

: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
. "$top_srcdir/tests/lib.sh"

BASH_COMPLETION=${BASH_COMPLETION:-/usr/share/bash-completion/bash_completion}
[ -r "$BASH_COMPLETION" ] || plan skip "bash-completion is not installed"
[ -x "$VMM" ] || plan skip "$VMM does not exist yet"
tmpdir_make
"$VMM" --help >"$TEST_TMP/help" 2>&1 </dev/null || plan skip "$VMM --help failed"

# The options and keys of --help, found as tests/manpages.sh finds them.
opts=$(grep -oE -- '^ +(-[a-zA-Z], )?--[a-z][a-z0-9-]*' "$TEST_TMP/help" |
	grep -oE -- '-[a-zA-Z]|--[a-z][a-z0-9-]*' | sort -u)
# Options with key=value lists; "--name=VALUE" ones take a plain value.
valued=$(grep -E '^     --[a-z][a-z0-9-]*( |$)' "$TEST_TMP/help" |
	sed -n 's/^     --\([a-z][a-z0-9-]*\).*/\1/p')
has_serial=$(grep -c '^     --serial' "$TEST_TMP/help")
plan $((18 + $(echo "$valued" | wc -l)))

set +u
# shellcheck source=/dev/null
. "$BASH_COMPLETION"
# shellcheck source=/dev/null
. "$top_srcdir/completion/vmm-reference.bash"
PATH=$(dirname "$VMM"):$PATH
COMP_WORDBREAKS=$' \t\n"\'><=;|&(:'

# comp LINE: complete "vmm-reference LINE" with the cursor at the end;
# prints the replies sorted, one line.  The words are split at blanks
# only: bash-completion joins bash's splits at "=" and ":" again.
comp() {
	COMP_LINE="vmm-reference $1"
	COMP_POINT=${#COMP_LINE}
	read -ra COMP_WORDS <<<"$COMP_LINE"
	[[ $COMP_LINE == *' ' ]] && COMP_WORDS+=("")
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMPREPLY=()
	_vmm_reference vmm-reference "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
	printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' ' | sed 's/ $//'
}

# expect "description" LINE "sorted replies"
expect() {
	got=$(comp "$2")
	if [ "$got" = "$3" ]; then
		ok "$1"
	else
		not_ok "$1: '$2' gave [$got], not [$3]"
	fi
}

# contains "description" LINE WORD...: the replies include every WORD.
contains() {
	desc=$1 line=$2
	shift 2
	got=" $(comp "$line") "
	missing=
	for w in "$@"; do
		[[ $got == *" $w "* ]] || missing+=" $w"
	done
	if [ -z "$missing" ]; then ok "$desc"; else not_ok "$desc: '$line' lacks$missing"; fi
}

if complete -p vmm-reference 2>/dev/null | grep -q -- '-F _vmm_reference vmm-reference$'; then
	ok "complete -p vmm-reference names _vmm_reference"
else
	not_ok "complete -p vmm-reference names _vmm_reference"
fi

# shellcheck disable=SC2086 # the options are words
contains "every option of --help completes after -" "-" $opts
contains "the short options complete" "-" -q -v -h -V
expect "--me completes to --memory" "--me" "--memory"
expect "no value, no argument: the options" "--vcpu num=2 --qu" "--quiet"
expect "a dash after a value starts an option" "--rng -" "$(echo "$opts" | sort | tr '\n' ' ' | sed 's/ $//')"

# Each value option offers exactly its keys of --help.
for o in $valued; do
	want=$(awk -v o="--$o" '/^     --[a-z]/ { cur = $1 }
		/^          [a-z][a-z0-9_]*=/ && cur == o { split($1, kv, "="); print kv[1] "=" }' \
		"$TEST_TMP/help" | sort | tr '\n' ' ' | sed 's/ $//')
	# shellcheck disable=SC2086 # the keys are words
	contains "--$o offers its keys: $want" "--$o " $want
done

expect "--block offers path= read_only= id=" "--block " "id= path= read_only="
expect "on|off after read_only=, after a comma" "--block path=/tmp/x,read_only=" "off on"
expect "--opt=value: keys after a comma, without those given" \
	"--block=read_only=on,path=x," "x,id="

# File names after path= and initrd=, also after a comma.
mkdir -p "$TEST_TMP/d/sub"
: >"$TEST_TMP/d/a.img"
: >"$TEST_TMP/d/b.img"
expect "files after --kernel path=" "--kernel path=$TEST_TMP/d/" \
	"$TEST_TMP/d/a.img $TEST_TMP/d/b.img $TEST_TMP/d/sub"
expect "files after initrd= behind a comma" "--kernel path=vmlinux,initrd=$TEST_TMP/d/a" \
	"$TEST_TMP/d/a.img"

# Plain values: --log-level's words, --log-file's files.
expect "--log-level= offers its levels" "--log-level=" "debug error info warn"
expect "--seccomp= offers its modes" "--seccomp=" "log off on"
expect "files after --log-file " "--log-file $TEST_TMP/d/a" "$TEST_TMP/d/a.img"

# TAP devices after tap= (IFF_TAP set in tun_flags), not TUN devices.
mkdir -p "$TEST_TMP/net/tap7" "$TEST_TMP/net/tun7" "$TEST_TMP/net/eth7"
echo 0x1002 >"$TEST_TMP/net/tap7/tun_flags"
echo 0x1001 >"$TEST_TMP/net/tun7/tun_flags"
_vmm_reference_netdir=$TEST_TMP/net
expect "TAP devices after --net tap=" "--net tap=" "tap7"

# --serial: completed only once --help lists it.
if [ "$has_serial" -gt 0 ]; then
	contains "--serial offers stdio pty off file= socket=" "--serial " \
		stdio pty off file= socket=
	expect "files after --serial file=" "--serial file=$TEST_TMP/d/b" "$TEST_TMP/d/b.img"
	expect "--serial mode= offers its words" "--serial mode=" "off pty stdio"
else
	skip "--serial offers stdio pty off file= socket=" "--help has no --serial"
	skip "files after --serial file=" "--help has no --serial"
	skip "--serial mode= offers its words" "--help has no --serial"
fi

done_testing
