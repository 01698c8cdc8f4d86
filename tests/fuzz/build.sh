#!/bin/sh
# build.sh BUILD_DIR -- builds every tests/fuzz/fuzz_*.c harness with clang's
# libFuzzer, ASan and UBSan into BUILD_DIR.
#
# Each harness names what it links in comment lines at its top:
#   // fuzz-sources: src/lib/a.c src/lib/b.c
#   // fuzz-libs: -lyaml
# src/lib/util.c and src/lib/errors.c are always linked.  config.h is the one of a
# configured tree if there is one (or $CONFIG_H_DIR), else a minimal one;
# SYSCONFDIR and MODULEDIR come from the command line, as in Makefile.am.
set -eu

out=${1:?usage: build.sh BUILD_DIR}
top=$(cd "$(dirname "$0")/../.." && pwd)
CC=${CC:-clang}
FUZZ_CFLAGS=${FUZZ_CFLAGS:--g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all}

mkdir -p "$out"
out=$(cd "$out" && pwd)
cfgdir=${CONFIG_H_DIR:-}
if [ -z "$cfgdir" ] && [ -f "$top/config.h" ]; then
	cfgdir=$top
fi
if [ -z "$cfgdir" ]; then
	cfgdir=$out
	cat > "$out/config.h" <<'CFG'
/* Minimal config.h for fuzz builds outside configure. */
#define _GNU_SOURCE 1
#define PACKAGE_VERSION "fuzz"
CFG
fi

# The value of a "// fuzz-KEY:" line of file $1.
directive() {
	sed -n "s|^// fuzz-$2:[[:space:]]*||p" "$1" | head -n 1
}

status=0
for src in "$top"/tests/fuzz/fuzz_*.c; do
	[ -e "$src" ] || continue
	name=$(basename "$src" .c)
	srcs="src/lib/util.c src/lib/errors.c"
	for s in $(directive "$src" sources); do
		case " $srcs " in *" $s "*) ;; *) srcs="$srcs $s" ;; esac
	done
	libs=$(directive "$src" libs)
	files=""
	for s in $srcs; do
		files="$files $top/$s"
	done
	echo "build.sh: $name: $srcs $libs"
	# shellcheck disable=SC2086 # word splitting of the lists is wanted
	if ! $CC $FUZZ_CFLAGS -std=gnu11 -Wall -Wextra -Wno-unused-parameter \
	    -DSYSCONFDIR='"/etc"' -DMODULEDIR='"/usr/lib/httpq/modules"' \
	    -I"$cfgdir" -I"$top/include" -I"$top/src/lib" $files "$src" $libs -o "$out/$name"; then
		echo "build.sh: $name: build failed" >&2
		status=1
	fi
done
exit $status
