#!/bin/sh
# C3-defer-clock.t -- api->defer(ms) is counted from the call on the
# precise clock: no deferred callback runs before ms have passed.  Before,
# defers were libevent timers on CLOCK_MONOTONIC_COARSE (4 ms ticks), due
# at the loop's cached coarse time + ms: when anything else woke the loop
# (other requests, other timers), one could run well before ms had passed,
# and a lone 1 ms defer took 1 to 4 ms.  The defer.so fixture measures
# each wait with CLOCK_MONOTONIC.  Load only lengthens a wait, so nothing
# here depends on the machine's speed; the lengths are printed, not checked.
. "${HQ_TESTS:-$(cd "$(dirname "$0")/.." && pwd)}/integration/lib.sh"

CONFIG="
server: { workers: 1 }
iplisten: [127.0.0.1]
url_groups:
  - { name: g, prefixes: [\"http://+:@PORT@/\"], queue: q }
queues:
  - { name: q, module: \"@TESTMODDIR@/defer.so\" }
"
start_httpqd "$CONFIG" || bail_out "httpqd did not start"
T=$HQ_DIR

val() { printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }

for q in "n=20&ms=1" "n=10&ms=2" "n=5&ms=5"; do
	out=$(hq_curl "$(url "/?$q")")
	diag "$q: $out"
	is "n=$(val "$out" n)" "${q%%&*}" "$q: every wait of the chain ran"
	is "$(val "$out" early)" 0 "$q: none ended before its ms had passed"
done

# 0 ms: a chain of immediate defers still completes (each waits for the
# next turn of the loop rather than running inside the previous one).
out=$(hq_curl "$(url "/?n=200&ms=0")")
is "$(val "$out" n)" 200 "a chain of 200 defers of 0 ms completes"

# Many pending at once, of mixed lengths: each fires once, none early.
i=0 pids=
while [ $i -lt 24 ]; do
	hq_curl "$(url "/?n=6&ms=$((i % 6))")" >"$T/par.$i" 2>&1 &
	pids="$pids $!"
	i=$((i + 1))
done
# shellcheck disable=SC2086
wait $pids
bad=0 done=0 i=0
while [ $i -lt 24 ]; do
	out=$(cat "$T/par.$i")
	[ "$(val "$out" n)" = 6 ] && done=$((done + 1))
	[ "$(val "$out" early)" = 0 ] || { bad=$((bad + 1)); diag "$out"; }
	i=$((i + 1))
done
is "$done" 24 "24 chains pending together, of 0 to 5 ms: all complete"
is "$bad" 0 "  and no wait of theirs ended early"

# A client gone in the middle of a chain: the daemon lives on.
"$HQ_PYTHON" -S - "$HQ_PORT" <<'PY'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"GET /?n=50&ms=2 HTTP/1.1\r\nHost: h\r\n\r\n")
time.sleep(0.02)
s.close()
PY
out=$(hq_curl "$(url "/?n=2&ms=1")")
is "$(val "$out" early)" 0 "after a client left mid-chain, the next request is served"

# A module asking for the largest wait there is: capped (no overflow into
# the past), so it does not fire; the client gives up, the module
# finishes the aborted request, the daemon drops its pending wait, and the
# worker serves on (and stops at once on SIGTERM below).
out=$(hq_curl --max-time 1 "$(url "/?n=1&drop=1&ms=18446744073709551615")")
is "$out" "" "defer(UINT64_MAX ms) does not fire at once"
out=$(hq_curl "$(url "/?n=2&ms=1")")
is "$(val "$out" n)" 2 "  and the next request is served"

hq_alive "$HQ_PID"
ok $? "httpqd is still running"

done_testing
