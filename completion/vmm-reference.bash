# SPDX-License-Identifier: Apache-2.0
# bash completion for vmm-reference                        -*- shell-script -*-
#
# The options and their keys are read from "vmm-reference --help" rather
# than listed here: --help is generated from the library's own option
# tables (vmm_option_get()), so a new option or key needs no change here
# and a build tree's ./src/vmm-reference completes its own options.  The
# parse is cached per command path for the life of the shell (a new shell
# sees a rebuilt binary).  A key's value is completed from the placeholder
# --help shows for it: FILE or PATH file names, a|b|c its words, and tap=
# the host's TAP devices.

# Candidates are words without blanks: compgen's output is split as is.
# shellcheck disable=SC2206,SC2207

# Where TAP devices are listed (a test points it elsewhere).
_vmm_reference_netdir=/sys/class/net

# _vmm_reference_load CMD: CMD --help into _vmm_reference_{opts,keys,bare}.
_vmm_reference_load()
{
    [[ $1 == "${_vmm_reference_cmd-}" ]] && return
    _vmm_reference_cmd=$1
    _vmm_reference_opts=()                  # every -x and --name
    declare -gA _vmm_reference_keys=()      # name -> " key=VALUE ..."
    declare -gA _vmm_reference_bare=()      # name -> words valid without key=
    declare -gA _vmm_reference_plain=()     # name -> VALUE of "--name=VALUE"
    local line opt='' val
    # " -q, --quiet ...", "     --block path=FILE[,...]", "          key=VALUE help"
    local re_flag='^ -([a-zA-Z]), --([a-z][a-z0-9-]*)' \
        re_opt='^     --([a-z][a-z0-9-]*)( |$)' \
        re_plain='^     --([a-z][a-z0-9-]*)=([^ ]+)$' \
        re_key='^          ([a-z][a-z0-9_]*)=([^ ]*) *(.*)'
    while IFS= read -r line; do
        if [[ $line =~ $re_flag ]]; then
            _vmm_reference_opts+=("-${BASH_REMATCH[1]}" "--${BASH_REMATCH[2]}")
            opt=
        elif [[ $line =~ $re_plain ]]; then
            # An option of the command's own with a plain value.
            _vmm_reference_opts+=("--${BASH_REMATCH[1]}")
            _vmm_reference_plain[${BASH_REMATCH[1]}]=${BASH_REMATCH[2]}
            opt=
        elif [[ $line =~ $re_opt ]]; then
            opt=${BASH_REMATCH[1]}
            _vmm_reference_opts+=("--$opt")
            _vmm_reference_keys[$opt]=
        elif [[ $opt && $line =~ $re_key ]]; then
            val=${BASH_REMATCH[2]}
            _vmm_reference_keys[$opt]+=" ${BASH_REMATCH[1]}=$val"
            # A key whose help says "also --serial pty" takes its words bare.
            [[ $val == *'|'* && ${BASH_REMATCH[3]} == *"also --$opt "* ]] &&
                _vmm_reference_bare[$opt]+=" ${val//|/ }"
        fi
    done < <(LC_ALL=C "$1" --help 2>/dev/null)
}

# _vmm_reference_files PREFIX: file names (COMPREPLY) for the word PREFIX.
_vmm_reference_files()
{
    local cur=$1
    _filedir
}

_vmm_reference()
{
    # shellcheck disable=SC2034 # cword and split are set for _init_completion
    local cur prev words cword split
    # Keep "key=value" and "a:b" whole: the value is parsed below.
    _init_completion -s -n =: || return
    _vmm_reference_load "${words[0]}"

    local opt=${prev#--} head='' seg=$cur key val c
    if [[ $prev == --* && ${_vmm_reference_plain[$opt]+set} && $cur != -* ]]; then
        # A plain value: a file, or one of its words.
        c=${_vmm_reference_plain[$opt]}
        if [[ $c == *FILE* || $c == *PATH* ]]; then
            _vmm_reference_files "$cur"
        else
            COMPREPLY=($(compgen -W "${c//|/ }" -- "$cur"))
        fi
    elif [[ $cur == -* || $prev != --* || -z ${_vmm_reference_keys[$opt]+set} ]]; then
        # Not an option's value: the command takes options only.
        COMPREPLY=($(compgen -W "${_vmm_reference_opts[*]}" -- "$cur"))
    else
        # One value: key=value pairs separated by commas; complete the last.
        if [[ $cur == *,* ]]; then
            head=${cur%,*},
            seg=${cur##*,}
        fi
        if [[ $seg == *=* ]]; then
            key=${seg%%=*}
            val=${seg#*=}
            head+=$key=
            for c in ${_vmm_reference_keys[$opt]}; do
                [[ ${c%%=*} == "$key" ]] && break
                c=
            done
            c=${c#*=}
            if [[ $key == tap ]]; then
                local f taps=()
                for f in "$_vmm_reference_netdir"/*/tun_flags; do
                    # IFF_TAP (0x0002): a TAP, not a TUN device.
                    [[ -r $f ]] && (($(<"$f") & 0x0002)) || continue
                    f=${f%/tun_flags}
                    taps+=("${f##*/}")
                done
                COMPREPLY=($(compgen -W "${taps[*]}" -- "$val"))
            elif [[ $c == *FILE* || $c == *PATH* ]]; then
                _vmm_reference_files "$val"
            elif [[ $c =~ ^[a-z0-9]+(\|[a-z0-9]+)+$ ]]; then
                COMPREPLY=($(compgen -W "${c//|/ }" -- "$val"))
            fi
        else
            # The keys not given yet in this value; the bare words first off.
            local keys=()
            for c in ${_vmm_reference_keys[$opt]}; do
                [[ ,$head == *,${c%%=*}=* ]] || keys+=("${c%%=*}=")
            done
            [[ $head ]] || keys+=(${_vmm_reference_bare[$opt]-})
            COMPREPLY=($(compgen -W "${keys[*]}" -- "$seg"))
            [[ ${COMPREPLY[*]} == *= ]] && compopt -o nospace 2>/dev/null
        fi
        COMPREPLY=("${COMPREPLY[@]/#/$head}")
    fi

    # Readline replaces only the text after the word's last break
    # character ("=" and ":" by default): drop what comes before it.
    local i
    for ((i = ${#cur} - 1; i >= 0; i--)); do
        if [[ $COMP_WORDBREAKS == *"${cur:i:1}"* ]]; then
            COMPREPLY=("${COMPREPLY[@]#"${cur:0:i+1}"}")
            break
        fi
    done
} &&
    complete -F _vmm_reference vmm-reference
