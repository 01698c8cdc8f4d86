#!/bin/sh
# 40-queue503.t -- a full request queue refuses by its 503 verbosity:
# limited (503 Service Unavailable), full (503 naming the reason), basic
# (reset, no response); a URL group bound to no queue answers 503.
# One daemon, three queues of length 1, each filled by one held request.
. "${HQ_TESTS:-$(cd "$(dirname "$0")/.." && pwd)}/integration/lib.sh"

CONFIG='
server: { workers: 2 }
iplisten: [127.0.0.1]
url_groups:
  - { name: lim, prefixes: ["http://+:@PORT@/limited/"], queue: ql }
  - { name: ful, prefixes: ["http://+:@PORT@/full/"], queue: qf }
  - { name: bas, prefixes: ["http://+:@PORT@/basic/"], queue: qb }
  - { name: unbound, prefixes: ["http://+:@PORT@/none/"] }
queues:
  - { name: ql, module: "@TESTMODDIR@/hold.so", length: 1, verbosity: limited, options: { hold_ms: 3000 } }
  - { name: qf, module: "@TESTMODDIR@/hold.so", length: 1, verbosity: full, options: { hold_ms: 3000 } }
  - { name: qb, module: "@TESTMODDIR@/hold.so", length: 1, verbosity: basic, options: { hold_ms: 3000 } }
'
start_httpqd "$CONFIG" || bail_out "httpqd did not start"
T=$HQ_DIR

# hold Q: fills queue Q with one request held for 3 s, in the background.
hold() {
	printf 'GET /%s/ HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n' "$1" |
	    raw --timeout 10 >"$T/held.$1" 2>&1 &
	eval "held_$1=\$!"
	bg_started $!
}

# probe Q: asks for a 0 ms hold until the queue refuses (its held request is
# then admitted) or 6 s pass; leaves the last answer in $T/probe.Q.
probe() {
	_end=$(($(date +%s) + 6))
	while :; do
		printf 'GET /%s/?ms=0 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n' "$1" |
		    raw --read-until-close --timeout 2 >"$T/probe.$1"
		_rc=$?
		[ "$(resp_code "$T/probe.$1")" = 200 ] || return $_rc
		[ "$(date +%s)" -ge "$_end" ] && return 99
		# the probe may have won the race for the slot: the held request
		# was then refused (503, or a reset with basic): hold again
		eval "_hp=\$held_$1"
		if [ "$(resp_code "$T/held.$1")" = 503 ] || ! kill -0 "$_hp" 2>/dev/null; then
			eval "wait \$held_$1"
			hold "$1"
		fi
		sleep 0.02
	done
}

hold limited
probe limited
rc=$?
is "$(resp_status "$T/probe.limited")" "HTTP/1.1 503 Service Unavailable" \
    "verbosity limited: second request -> 503 Service Unavailable"
unlike "$(resp_body "$T/probe.limited")" 'queue is full' "verbosity limited: the reason is not told"
is "$rc" 0 "verbosity limited: connection closed after the 503 (Connection: close)"

hold full
probe full
rc=$?
is "$(resp_code "$T/probe.full")" 503 "verbosity full: second request -> 503"
like "$(resp_status "$T/probe.full"; resp_body "$T/probe.full")" 'queue is full' \
    "verbosity full: the 503 says the queue is full"

hold basic
probe basic
rc=$?
is "$(wc -c <"$T/probe.basic" | tr -d ' ')" 0 "P-CONN-3 verbosity basic: no response bytes"
case $rc in
0 | 3) ok 0 "verbosity basic: connection reset or closed" ;;
*)
	ok 1 "verbosity basic: connection reset or closed"
	diag "rawhttp exit $rc (2 = timeout, 99 = never refused)"
	;;
esac

# a URL group bound to no queue
printf 'GET /none/ HTTP/1.1\r\nHost: localhost\r\n\r\n' | raw >"$T/none"
is "$(resp_code "$T/none")" 503 "URL group with no queue -> 503"
is "$(resp_status "$T/none")" "HTTP/1.1 503 Service Unavailable" "  with the limited status line"

# the held requests complete normally
for q in limited full basic; do
	eval "wait \$held_$q"
	is "$(resp_code "$T/held.$q")" 200 "$q: the held request completes with 200"
	is "$(resp_body "$T/held.$q")" "held" "$q: held request body"
done
HQ_BGPIDS=

# once the slot is free the queue admits again
printf 'GET /limited/?ms=0 HTTP/1.1\r\nHost: localhost\r\n\r\n' | raw >"$T/again"
is "$(resp_code "$T/again")" 200 "after completion the queue admits again"

# A client that resets its connection while held aborts the request: the
# module is told (on_abort), calls finish(), and the slot is free long
# before the 5 s hold would have ended.
printf 'GET /limited/?ms=5000 HTTP/1.1\r\nHost: localhost\r\n\r\n' >"$T/req5"
raw --reset-after 0.3 <"$T/req5" >"$T/aborted"
t0=$(hq_now)
end=$(($(date +%s) + 3))
while :; do
	printf 'GET /limited/?ms=0 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n' |
	    raw --read-until-close --timeout 2 >"$T/after.abort"
	[ "$(resp_code "$T/after.abort")" = 200 ] && break
	[ "$(date +%s)" -ge "$end" ] && break
	sleep 0.05
done
is "$(resp_code "$T/after.abort")" 200 \
    "a request aborted by a client reset frees its queue slot (after $(elapsed_since "$t0")s, hold was 5 s)"
is "$(wc -c <"$T/aborted" | tr -d ' ')" 0 "  the aborted request was not answered before the reset"

# A client that closes cleanly (FIN) while held is gone too: the request is
# aborted as on a reset (http.sys: HttpWaitForDisconnect), the module's
# on_abort finishes it, and the slot is free long before the 10 s hold ends.
log_mark
printf 'GET /limited/?ms=10000 HTTP/1.1\r\nHost: localhost\r\n\r\n' |
    raw --half-close-after-send --read-until-close --timeout 3 >"$T/fin"
rc=$?
is "$rc" 0 "a held request whose client sent FIN: the connection is closed at once"
is "$(wc -c <"$T/fin" | tr -d ' ')" 0 "  and the request is not answered"
t0=$(hq_now)
end=$(($(date +%s) + 3))
while :; do
	printf 'GET /limited/?ms=0 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n' |
	    raw --read-until-close --timeout 2 >"$T/after.fin"
	[ "$(resp_code "$T/after.fin")" = 200 ] && break
	[ "$(date +%s)" -ge "$end" ] && break
	sleep 0.05
done
is "$(resp_code "$T/after.fin")" 200 \
    "a request aborted by a client FIN frees its queue slot (after $(elapsed_since "$t0")s, hold was 10 s)"
like "$(wait_log 'Connection_Dropped' 5)" 'ms=10000.*Connection_Dropped' "  the drop is in the error log"

# A FIN after pipelined requests still gets every answer (the last one
# arrives held, with the FIN already read), then the close.
printf 'GET /limited/?ms=100 HTTP/1.1\r\nHost: localhost\r\n\r\nGET /limited/?ms=100 HTTP/1.1\r\nHost: localhost\r\n\r\n' |
    raw --half-close-after-send --read-until-close --timeout 5 >"$T/finpipe"
rc=$?
is "$rc" 0 "pipelined requests then FIN: the server closes after answering"
is "$(resp_count "$T/finpipe")" 2 "  both pipelined requests are answered"
is "$(resp_code "$T/finpipe" 1)" 200 "  the second with 200"

done_testing
