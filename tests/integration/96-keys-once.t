#!/bin/sh
# 96-keys-once.t -- every configuration key is declared once, in the key
# table (src/lib/store_keys.c).  No other source file may list key names:
# a list is two quoted key names, or value words of the table
# ("basic|limited|full"), in a row, as `"header_wait", "idle_connection"`
# once was in ctlproto.c and httpqctl.c and `{ "basic", "limited", "full" }`
# in control.c.  One quoted name (reading one key, labelling one field of
# output) is a use of the table's key, not a second declaration.
. "${HQ_TESTS:-$(cd "$(dirname "$0")/.." && pwd)}/integration/lib.sh"

SRC=${HQ_SRCDIR:-$HQ_TESTS/..}
[ -d "$SRC/src/lib" ] || bail_out "no source tree at $SRC"

# Key names (the last part of each key path) and the value words of keys
# whose type is a list of words.
words=$("$HTTPQD" --list-keys | awk -F'\t' '{
	n = $1; sub(/.*[.]/, "", n); print n
	if ($2 ~ /^[a-z0-9.]+([|][a-z0-9.]+)+$/) {
		m = split($2, w, "|")
		for (i = 1; i <= m; i++) print w[i]
	}
}' | sort -u)
nwords=$(printf '%s\n' "$words" | grep -c .)
test "$nwords" -gt 50
ok $? "httpqd --list-keys gives the key names and words ($nwords)"

alt=$(printf '%s\n' "$words" | sed 's/[.]/\\./g' | paste -sd '|' -)
pat="\"($alt)\"[[:space:]]*,[[:space:]]*\"($alt)\""
# The pattern finds the lists it is meant to find.
printf '%s\n' 'static const char *const t[] = { "header_wait",' \
    '	"idle_connection", NULL };' | tr '\n\t' '  ' | grep -Eq "$pat"
ok $? "the check finds a list of key names broken over lines"

found=
for f in $(cd "$SRC" && find src include -name '*.[ch]' | sort); do
	case $f in src/lib/store_keys.c) continue ;; esac
	# Lines joined: a list broken over lines is still one list.
	hits=$(tr '\n\t' '  ' <"$SRC/$f" | grep -Eo "$pat")
	[ -n "$hits" ] && found="$found$f: $hits
"
done
is "$found" "" "no source file but src/lib/store_keys.c lists configuration keys"
done_testing
