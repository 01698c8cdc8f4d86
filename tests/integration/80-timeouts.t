#!/bin/sh
# 80-timeouts.t -- http.sys timers: header_wait cuts a client that sends half
# a head and stops; idle_connection closes an idle keep-alive connection.
# Both run at once; each is measured against a deadline.
. "${HQ_TESTS:-$(cd "$(dirname "$0")/.." && pwd)}/integration/lib.sh"

CONFIG='
server: { workers: 2 }
iplisten: [127.0.0.1]
timeouts: { header_wait: 2, idle_connection: 2 }
url_groups:
  - { name: g, prefixes: ["http://+:@PORT@/"], queue: q }
queues:
  - { name: q, module: sample }
'
start_httpqd "$CONFIG" || bail_out "httpqd did not start"
T=$HQ_DIR

# half a head, then silence (elapsed is measured from the end of the send)
printf 'GET / HTTP/1.1\r\nHost: loc' |
    raw --read-until-close --timeout 6 --stats >"$T/half" 2>"$T/half.stats" &
half=$!
bg_started $half

# a complete request, then an idle keep-alive connection (elapsed from the
# end of the send; the answer comes at once)
printf 'GET / HTTP/1.1\r\nHost: localhost\r\n\r\n' |
    raw --read-until-close --timeout 6 --stats >"$T/idle" 2>"$T/idle.stats" &
idle=$!
bg_started $idle

# a connection that sends nothing at all
printf '' | raw --read-until-close --timeout 6 --stats >"$T/silent" 2>"$T/silent.stats" &
silent=$!
bg_started $silent

wait $half
rc=$?
stats=$(cat "$T/half.stats")
case $rc in
0 | 3) ok 0 "half a head: the server closes the connection" ;;
*) ok 1 "half a head: the server closes the connection"; diag "rawhttp exit $rc: $stats" ;;
esac
num_between "$(printf '%s' "$stats" | sed -n 's/.*elapsed=\([0-9.]*\).*/\1/p')" 1.5 4.5 \
    "half a head: cut after header_wait (2 s)"
diag "$stats"
if [ -s "$T/half" ]; then
	like "$(resp_status "$T/half")" '^HTTP/1\.1 408 ' "half a head: nothing is answered (but a 408)"
else
	pass "half a head: nothing is answered (but a 408)"
fi

wait $idle
rc=$?
stats=$(cat "$T/idle.stats")
is "$(resp_code "$T/idle")" 200 "idle: the request is answered"
case $rc in
0 | 3) ok 0 "idle keep-alive connection: the server closes it" ;;
*) ok 1 "idle keep-alive connection: the server closes it"; diag "rawhttp exit $rc: $stats" ;;
esac
num_between "$(printf '%s' "$stats" | sed -n 's/.*elapsed=\([0-9.]*\).*/\1/p')" 1.5 4.5 \
    "idle keep-alive connection: closed after idle_connection (2 s)"
diag "$stats"
is "$(resp_count "$T/idle")" 1 "idle: nothing after the one response"

wait $silent
rc=$?
stats=$(cat "$T/silent.stats")
case $rc in
0 | 3) ok 0 "silent connection: the server closes it" ;;
*) ok 1 "silent connection: the server closes it"; diag "rawhttp exit $rc: $stats" ;;
esac
num_between "$(printf '%s' "$stats" | sed -n 's/.*elapsed=\([0-9.]*\).*/\1/p')" 1.5 4.5 \
    "silent connection: closed after 2 s"
diag "$stats"
HQ_BGPIDS=

done_testing
