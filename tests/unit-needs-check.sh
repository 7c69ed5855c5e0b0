#!/bin/sh
# Stands in for the unit tests when configure did not find Check.
echo "The unit tests need Check (libcheck): install it (Debian: apt-get install check pkg-config) and run configure again." >&2
exit 77
