#!/bin/sh
# 92-socket-activation.t -- systemd-socket-activate hands httpqd a listening
# socket (LISTEN_FDS): the daemon serves through it with two workers instead
# of binding the address itself, and closes a passed socket that matches no
# address of the store.
. "${HQ_TESTS:-$(cd "$(dirname "$0")/.." && pwd)}/integration/lib.sh"

command -v systemd-socket-activate >/dev/null 2>&1 || {
	fail "systemd-socket-activate is installed (apt-get install systemd)"
	done_testing
}
hq_mktemp
HQ_DIR=$HQ_MKTEMP
HQ_PORT=$(freeport)
HQ_PORT2=$(freeport)
while [ "$HQ_PORT2" = "$HQ_PORT" ]; do HQ_PORT2=$(freeport); done
HQ_LOG="$HQ_DIR/httpqd.log"
write_config "$HQ_DIR/httpq.yaml" '
server: { workers: 2 }
iplisten: [127.0.0.1]
url_groups:
  - { name: app, prefixes: ["http://+:@PORT@/"], queue: app }
queues:
  - { name: app, module: sample }
'
# The activator binds both ports and execs httpqd (same pid) on the first
# connection.
systemd-socket-activate -l "127.0.0.1:$HQ_PORT" -l "127.0.0.1:$HQ_PORT2" \
    --fdname=web:extra "$HTTPQD" -f -c "$HQ_DIR/httpq.yaml" -M "$HQ_MODDIR" \
    >"$HQ_LOG" 2>&1 &
HQ_PID=$!
pyhelper waitport "$HQ_PORT" "$HQ_PID" 10
ok $? "systemd-socket-activate listening on port $HQ_PORT"

body=$(hq_curl "$(url /)")
is "$body" "$(printf 'Hey! You hit the server \r')" "first request (it starts httpqd) answered through the passed socket"
line=$(wait_log "socket activation: 127\.0\.0\.1:$HQ_PORT from systemd")
ok $? "httpqd says it took the socket from systemd"
like "$line" '\(web\)' "  with its FileDescriptorName"
line=$(wait_log "socket activation: socket [0-9]+ \(extra\) matches no listen address")
ok $? "the passed socket not in the store is logged and closed"
unlike "$(grep -E 'cannot listen' "$HQ_LOG")" '.' "httpqd did not bind the address itself"

# Both workers accept from the one socket: many connections all answered.
okc=0
for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
	[ "$(hq_curl -o /dev/null -w '%{http_code}' "$(url /x$i)")" = 200 ] && okc=$((okc + 1))
done
is "$okc" 20 "20 connections, 20 answers"

reload_httpqd
wait_log 'reload: generation 2 loaded' >/dev/null
ok $? "a reload keeps the passed socket"
is "$(hq_curl -o /dev/null -w '%{http_code}' "$(url /)")" 200 "  and serves after it"

stop_httpqd
done_testing
