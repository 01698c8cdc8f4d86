#!/bin/sh
# run.sh BUILD_DIR SECONDS -- runs every fuzz_* harness in BUILD_DIR for
# SECONDS seconds on a temporary copy of its seed corpus
# (tests/fuzz/corpus/<name without fuzz_>/), so the repository's corpus stays
# small.  Exits non-zero if any harness crashed, leaked or had a sanitizer
# report; its log and the crashing input are kept in BUILD_DIR/artifacts/.
set -eu

dir=${1:?usage: run.sh BUILD_DIR SECONDS}
secs=${2:?usage: run.sh BUILD_DIR SECONDS}
top=$(cd "$(dirname "$0")/../.." && pwd)
dir=$(cd "$dir" && pwd)
arts=$dir/artifacts
mkdir -p "$arts"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

status=0
found=0
for bin in "$dir"/fuzz_*; do
	if [ ! -f "$bin" ] || [ ! -x "$bin" ]; then
		continue
	fi
	found=1
	name=${bin##*/fuzz_}
	corpus=$tmp/$name
	log=$arts/$name.log
	mkdir -p "$corpus"
	if [ -d "$top/tests/fuzz/corpus/$name" ]; then
		cp -R "$top/tests/fuzz/corpus/$name/." "$corpus/"
	fi
	echo "run.sh: fuzz_$name for ${secs}s"
	rc=0
	"$bin" -max_total_time="$secs" -print_final_stats=1 \
	    -artifact_prefix="$arts/$name-" "$corpus" > "$log" 2>&1 || rc=$?
	# A sanitizer report that did not stop the run still fails it.
	if [ $rc -ne 0 ] || grep -Eq \
	    'ERROR: (AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|libFuzzer)|runtime error:' \
	    "$log"; then
		echo "run.sh: fuzz_$name FAILED (exit $rc), log: $log" >&2
		grep -E -A 20 'ERROR:|runtime error:' "$log" | head -n 40 >&2 || true
		status=1
	else
		runs=$(sed -n 's/^stat::number_of_executed_units:[[:space:]]*//p' "$log")
		echo "run.sh: fuzz_$name ok, ${runs:-?} runs"
	fi
done
if [ $found -eq 0 ]; then
	echo "run.sh: no fuzz_* harness in $dir" >&2
	exit 1
fi
exit $status
