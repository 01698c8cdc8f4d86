#!/bin/sh
# 01-manpages.t -- every man page in man/ renders without a warning.
#
# groff as man(1) runs it (tbl, the man macros, 78 columns): a table cell
# too narrow for a word, an unknown request or a bad escape shows up as
# text a reader of the page would see garbled, so it fails here.  Long
# identifiers in narrow table cells take \: (a break point that prints
# nothing).
. "${HQ_TESTS:-$(cd "$(dirname "$0")/.." && pwd)}/integration/lib.sh"

MANDIR="$HQ_TESTS/../man"
pages=$(ls "$MANDIR"/*.[1-8] 2>/dev/null)
version=$(sed -n 's/^AC_INIT(\[httpq\], *\[\([^]]*\)\].*/\1/p' "$HQ_TESTS/../configure.ac")
isnt "$version" "" "configure.ac has a version"
num_between "$(printf '%s\n' "$pages" | grep -c .)" 8 100 "man/ holds the pages"
for p in $pages; do
	out=$(groff -t -man -Tutf8 -ww -z -rcR=1 -rLL=78n "$p" 2>&1)
	is "$out" "" "$(basename "$p") renders at 78 columns without warnings"
	# .TH names the page as its file is named, and the version configure.ac
	# builds.
	name=$(basename "$p"); sect=${name##*.}; title=$(printf '%s' "${name%.*}" | tr 'a-z' 'A-Z')
	th=$(grep -m1 '^\.TH' "$p" | sed 's/\\-/-/g; s/"//g')
	is "$(printf '%s' "$th" | cut -d' ' -f2,3)" "$title $sect" "$name: .TH names ${name%.*}($sect)"
	like "$th" "httpq $version " "$name: .TH says httpq $version"
done
done_testing
