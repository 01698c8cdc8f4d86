#!/bin/sh
# 94-log-full-disk.t -- a log file that cannot grow (RLIMIT_FSIZE here, a
# full disk elsewhere: write() comes back short, then fails) keeps whole
# lines: a short write once left half a line for the next one to glue
# onto.  The lines not written are counted in `show servicestate`, and
# SIGXFSZ does not kill httpqd.
. "${HQ_TESTS:-$(cd "$(dirname "$0")/.." && pwd)}/integration/lib.sh"
: "${HTTPQCTL:=$HQ_TESTS/../src/httpqctl}"

command -v prlimit >/dev/null 2>&1 || {
	skip "prlimit (util-linux) is not installed"
	done_testing
}
# No file of httpqd grows beyond 16 KiB (its own log on stderr neither:
# it stays far below).  prlimit execs: same pid.
LIMIT=16384
hq_mktemp
W=$HQ_MKTEMP
printf '#!/bin/sh\nexec prlimit --fsize=%s "%s" "$@"\n' "$LIMIT" "$HTTPQD" >"$W/httpqd"
chmod +x "$W/httpqd"
HTTPQD=$W/httpqd

CONFIG='
server: { workers: 2 }
iplisten: [127.0.0.1]
url_groups:
  - name: app
    prefixes: ["http://+:@PORT@/"]
    queue: q
    access_log: { path: "@DIR@/access.log" }
queues:
  - { name: q, module: sample }
'
start_httpqd "$CONFIG" || bail_out "httpqd did not start"
T=$HQ_DIR
ctl() { timeout 20 "$HTTPQCTL" -s "$HQ_CTL" "$@"; }

# accounted: lines in the log (headers aside) + lines dropped.
accounted() {
	_l=$(grep -vc '^#' "$T/access.log")
	_d=$(ctl show servicestate | sed -n 's/^log lines dropped \([0-9]*\)$/\1/p')
	echo $((_l + ${_d:-0}))
}

# round N PATHLEN: N pipelined requests for a path of PATHLEN bytes on one
# connection, then `flush logbuffer` and a wait (10 s at most) until every
# request so far is accounted for.  R_N: the responses received.
SENT=0
round() {
	_p=/$(repeat a "$2")
	_i=1
	while [ "$_i" -le "$1" ]; do
		[ "$_i" -eq "$1" ] && _c='Connection: close\r\n' || _c=
		printf "GET $_p?n=$_i HTTP/1.1\r\nHost: h\r\n$_c\r\n"
		_i=$((_i + 1))
	done | raw --read-until-close --timeout 10 >"$T/resp"
	R_N=$(resp_count "$T/resp")
	SENT=$((SENT + R_N))
	ctl flush logbuffer >/dev/null
	_end=$(($(date +%s) + 10))
	while [ "$(accounted)" -lt "$SENT" ] && [ "$(date +%s)" -le "$_end" ]; do
		sleep 0.1
	done
}

round 30 200
is "$R_N" 30 "30 requests answered (about 9 KiB of log)"
round 30 200
is "$R_N" 30 "30 more: the log reaches the limit in the middle of a line"
round 20 50
is "$R_N" 20 "20 shorter ones: some may still fit"
hq_alive "$HQ_PID"
ok $? "httpqd is alive (SIGXFSZ ignored)"

size=$(wc -c <"$T/access.log" | tr -d ' ')
num_between "$size" 1 "$LIMIT" "the log stays within the limit ($size bytes)"
is "$(tail -c 1 "$T/access.log" | od -An -c | tr -d ' ')" '\n' "the log ends with a whole line"
# Every data line is a whole W3C line of the default 17 fields.
bad=$(grep -v '^#' "$T/access.log" | awk '
    !($1 ~ /^[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]$/ && NF == 17 &&
      $7 == "GET" && $8 ~ /^\/a+$/ && $9 ~ /^n=[0-9]+$/ && $10 == 200 &&
      $14 == "HTTP/1.1" && $15 == "h") { print NR ": " $0 }')
is "$bad" "" "every line in the log is whole"
lines=$(grep -vc '^#' "$T/access.log")

out=$(ctl show servicestate)
dropped=$(printf '%s\n' "$out" | sed -n 's/^log lines dropped \([0-9]*\)$/\1/p')
num_between "$dropped" 1 1000000 "servicestate: log lines dropped > 0"
is "$((lines + dropped))" "$SENT" "lines in the log + lines dropped = requests ($lines + $dropped)"
ctl show servicestate --json >"$T/json"
"$HQ_PYTHON" -S -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["log_lines_dropped"] == int(sys.argv[2]), d["log_lines_dropped"]
' "$T/json" "$dropped" 2>"$T/json.err"
ok $? "servicestate --json: log_lines_dropped"
[ -s "$T/json.err" ] && diag "$(cat "$T/json.err")"
like "$(wait_log 'access\.log: write failed: File too large; [0-9]+ lines? dropped' 5)" \
    'dropped' "the write error is logged, naming the file"
done_testing
