#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# timeout(1) with its durations (the limit and -k's) multiplied by
# $TIMEOUT_SCALE; runs $TIMEOUT_PROGRAM. tests/lib.sh puts it in TIMEOUT
# when TIMEOUT_SCALE is not 1. The tests write durations as whole seconds
# and options without spaces.
: "${TIMEOUT_PROGRAM:=timeout}"
: "${TIMEOUT_SCALE:?TIMEOUT_SCALE is not set}"

# scale D: D times the factor when D is a whole number of seconds.
scale() {
	case $1 in
	'' | *[!0-9]*) echo "$1" ;;
	*) echo $(($1 * TIMEOUT_SCALE)) ;;
	esac
}

opts=
while :; do
	case $1 in
	-k) opts="$opts -k $(scale "$2")"; shift 2 ;;
	-s) opts="$opts -s $2"; shift 2 ;;
	--kill-after=*) opts="$opts -k $(scale "${1#--kill-after=}")"; shift ;;
	-*) opts="$opts $1"; shift ;;
	*) break ;;
	esac
done
limit=$(scale "$1")
shift
# shellcheck disable=SC2086 # the options are words
exec "$TIMEOUT_PROGRAM" $opts "$limit" "$@"
