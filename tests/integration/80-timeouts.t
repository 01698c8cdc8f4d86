#!/bin/sh
# 80-timeouts.t -- http.sys timers: header_wait cuts a client that sends half
# a head and stops; idle_connection closes an idle keep-alive connection.
# Both run at once; each is measured against a deadline.
#
# Each connection must end with what the timer sends, not merely end: a
# FIN (not a reset, not rawhttp's own timeout), no bytes where http.sys
# sends none, and the Timer_HeaderWait line in the error log.  (The test
# used to pass as well when nothing at all arrived on the cut connections.)
. "${HQ_TESTS:-$(cd "$(dirname "$0")/.." && pwd)}/integration/lib.sh"

# defer_accept off: the kernel would hold the silent connection 1 s before
# httpqd sees it (C6-defer-accept.t checks that); here the timer alone.
CONFIG='
server: { workers: 2, error_log: "@DIR@/httperr.log", defer_accept: off }
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

# stats_field NAME FILE: one field of rawhttp's --stats line
stats_field() {
	sed -n "s/.*$1=\([^ ]*\).*/\1/p" "$2"
}

wait $half
rc=$?
stats=$(cat "$T/half.stats")
is "$rc/$(stats_field end "$T/half.stats")" 0/eof \
    "half a head: the server closes the connection (FIN)"
num_between "$(stats_field elapsed "$T/half.stats")" 1.5 4.5 \
    "half a head: cut after header_wait (2 s)"
diag "$stats"
# http.sys answers nothing when Timer_HeaderWait fires: it closes, and
# says why in its error log.
is "$(stats_field bytes "$T/half.stats")" 0 "half a head: no bytes are answered"
_end=$(($(date +%s) + 5))
until grep -q ' Timer_HeaderWait ' "$T/httperr.log" 2>/dev/null ||
    [ "$(date +%s)" -gt "$_end" ]; do
	sleep 0.05
done
is "$(grep -c ' Timer_HeaderWait ' "$T/httperr.log" 2>/dev/null)" 1 \
    "half a head: the error log records Timer_HeaderWait once"

wait $idle
rc=$?
stats=$(cat "$T/idle.stats")
is "$(resp_code "$T/idle")" 200 "idle: the request is answered"
is "$rc/$(stats_field end "$T/idle.stats")" 0/eof \
    "idle keep-alive connection: the server closes it (FIN)"
num_between "$(stats_field elapsed "$T/idle.stats")" 1.5 4.5 \
    "idle keep-alive connection: closed after idle_connection (2 s)"
diag "$stats"
is "$(resp_count "$T/idle")" 1 "idle: nothing after the one response"

wait $silent
rc=$?
stats=$(cat "$T/silent.stats")
is "$rc/$(stats_field end "$T/silent.stats")" 0/eof \
    "silent connection: the server closes it (FIN)"
num_between "$(stats_field elapsed "$T/silent.stats")" 1.5 4.5 \
    "silent connection: closed after 2 s"
is "$(stats_field bytes "$T/silent.stats")" 0 "silent connection: no bytes are answered"
diag "$stats"
HQ_BGPIDS=

# The timers closed connections; nothing else went down.
hq_alive "$HQ_PID"
ok $? "the daemon is still running"
is "$(hq_curl -o /dev/null -w '%{http_code}' "$(url /)")" 200 "and still answers"

done_testing
