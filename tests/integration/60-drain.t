#!/bin/sh
# 60-drain.t -- SIGTERM drains: the request in flight completes, new
# connections are refused, and the daemon exits 0 once it is done.
. "${HQ_TESTS:-$(cd "$(dirname "$0")/.." && pwd)}/integration/lib.sh"

CONFIG='
server: { workers: 2 }
iplisten: [127.0.0.1]
url_groups:
  - { name: g, prefixes: ["http://+:@PORT@/"], queue: q }
queues:
  - { name: q, module: "@TESTMODDIR@/hold.so", length: 1, options: { hold_ms: 6000 } }
'
start_httpqd "$CONFIG" || bail_out "httpqd did not start"
T=$HQ_DIR

# a request held for 6 s: long enough that it is still in flight when SIGTERM
# comes, even on a loaded machine where each probe below takes a while
hold() {
	printf 'GET /held HTTP/1.1\r\nHost: localhost\r\n\r\n' | raw --timeout 10 >"$T/held" &
	held=$!
	bg_started $held
}
hold

# It is in flight once the queue (length 1) refuses a second request.
end=$(($(date +%s) + 3))
while :; do
	printf 'GET /probe?ms=0 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n' |
	    raw --read-until-close --timeout 2 >"$T/probe"
	[ "$(resp_code "$T/probe")" = 503 ] && break
	[ "$(date +%s)" -ge "$end" ] && break
	# the probe may have won the race for the slot: hold again
	if [ "$(resp_code "$T/held")" = 503 ]; then
		wait $held
		hold
	fi
	sleep 0.02
done
is "$(resp_code "$T/probe")" 503 "the held request occupies the queue"

t0=$(hq_now)
kill -TERM "$HQ_PID"

# New connections are refused once the daemon has taken the signal, while
# the held request is still in flight (it has several seconds left).
t_refused=$(pyhelper waitrefused "$HQ_PORT" "$HQ_PID" 3)
case $? in
0) ok 0 "new connections refused after SIGTERM while draining (after ${t_refused}s)" ;;
1) ok 1 "new connections refused after SIGTERM while draining"
   diag "the daemon exited before a connect was refused (${t_refused}s)" ;;
*) ok 1 "new connections refused after SIGTERM while draining"
   diag "connections still accepted ${t_refused}s after SIGTERM" ;;
esac

wait $held
is "$(resp_code "$T/held")" 200 "the held request completes with 200 during the drain"
is "$(resp_body "$T/held")" "held" "held request body"
like "$(resp_header "$T/held" connection)" '^[Cc]lose' "the response in the drain says Connection: close"

if hq_wait_gone "$HQ_PID" 10; then
	wait "$HQ_PID"
	is "$?" 0 "httpqd exits 0 after draining"
	num_between "$(elapsed_since "$t0")" 0 10 "and within a few seconds of SIGTERM"
else
	fail "httpqd exits after draining (still running 10 s after SIGTERM)"
	kill -KILL "$HQ_PID"
	wait "$HQ_PID"
fi
HQ_PID=
HQ_BGPIDS=

done_testing
