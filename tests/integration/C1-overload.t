#!/bin/sh
# C1-overload.t -- what contrib/bench -m overload stands on: a full queue
# answers 503 QueueFull and keeps the connection (no error, no reconnect in
# httpq-overload), the admitted requests are answered 200, and hold.so's
# serial option holds one request at a time per worker, so that the queue
# drains at 1000 / hold_ms a second: with hold_ms 50, 2 s of load cannot
# admit more than about 40 requests (without serial, about 400).  Counts
# only: no timing is checked.
. "${HQ_TESTS:-$(cd "$(dirname "$0")/.." && pwd)}/integration/lib.sh"

OVERLOAD=${HQ_OVERLOAD:-$HQ_TESTS/../contrib/httpq-overload}
[ -x "$OVERLOAD" ] || bail_out "no $OVERLOAD: build first (make)"

CONFIG="
server: { workers: 1 }
iplisten: [127.0.0.1]
url_groups:
  - { name: g, prefixes: [\"http://+:@PORT@/\"], queue: q }
queues:
  - { name: q, module: \"@TESTMODDIR@/hold.so\", length: 10, verbosity: limited,
      options: { hold_ms: 50, serial: 1 } }
"
start_httpqd "$CONFIG" || bail_out "httpqd did not start"
T=$HQ_DIR

# count STATUS FILE: answers of that status in an httpq-overload report
count() {
	awk -v s="$1" '$1 == "status" && $2 == s { n = $4 } END { print n + 0 }' "$2"
}

# Closed loop: 40 connections against a queue of 10.
"$OVERLOAD" -c 40 -d 2 "$HQ_PORT" / >"$T/closed" 2>&1
ok $? "httpq-overload ran (closed loop)"
diag "$(cat "$T/closed")"
ok200=$(count 200 "$T/closed")
n503=$(count 503 "$T/closed")
num_between "$ok200" 1 60 "serial: 1 to 60 requests admitted in 2 s of 50 ms each (got $ok200)"
num_between "$n503" 100 100000000 "a full queue answers 503 (got $n503)"
like "$(grep '^total' "$T/closed")" ' errors 0 ' "503 QueueFull keeps the connection: no error"
is "$(grep -c '^status' "$T/closed")" 2 "only 200 and 503 answers"

# Open loop: 200 requests a second over 100 connections, none missed.
"$OVERLOAD" -c 100 -d 2 -r 200 "$HQ_PORT" / >"$T/open" 2>&1
ok $? "httpq-overload ran (open loop)"
diag "$(cat "$T/open")"
like "$(grep '^total' "$T/open")" ' errors 0 missed 0$' "open loop: no error, nothing missed"
total=$(awk '$1 == "total" { print $2 }' "$T/open")
num_between "$total" 300 420 "open loop: about 400 requests sent in 2 s (got $total)"
num_between "$(count 503 "$T/open")" 1 1000 "open loop: the excess gets 503"

hq_alive "$HQ_PID"
ok $? "httpqd is still running"
stop_httpqd
done_testing
