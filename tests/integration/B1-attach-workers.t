#!/bin/sh
# B1-attach-workers.t -- attached processes come and go (issue 10): two
# share a queue and one is killed with SIGKILL mid-request (its client gets
# 503 Connection_Abandoned_By_ReqQueue, the other keeps serving, no fd is
# left behind); with no process a request waits, and the next process to
# attach gets it; after timeouts.request_queue it gets 503 Timer_ReqQueue;
# the queue length still bounds what waits; a client that goes away is a
# DISCONNECT; CANCEL resets; a reload that removes the queue and SIGTERM
# send SHUTDOWN, and a request in flight still completes at SIGTERM.
. "${HQ_TESTS:-$(cd "$(dirname "$0")/.." && pwd)}/integration/lib.sh"

QC="$HQ_TESTS/integration/qclient.py"
: "${HTTPQCTL:=$HQ_TESTS/../src/httpqctl}"
CONFIG='
server: { workers: 2, drain_timeout: 10 }
iplisten: [127.0.0.1]
timeouts: { request_queue: 2 }
url_groups:
  - { name: app, prefixes: ["http://+:@PORT@/app/"], queue: app }
  - { name: short, prefixes: ["http://+:@PORT@/short/"], queue: short }
queues:
  - { name: app, attach: { user: root } }
  - { name: short, attach: { user: root }, length: 2 }
'
start_httpqd "$CONFIG" || bail_out "httpqd did not start"
T=$HQ_DIR

wait_file() {
	_end=$(($(date +%s) + ${3:-10}))
	until grep -Eq -- "$2" "$1" 2>/dev/null; do
		[ "$(date +%s)" -gt "$_end" ] && return 1
		sleep 0.05
	done
}

# client NAME QUEUE MODE [ARGS]: an attached process in the background.
client() {
	_n=$1
	shift
	"$HQ_PYTHON" -S "$QC" "$HQ_QSOCK" "$@" >"$T/$_n.out" 2>&1 &
	eval "pid_$_n=\$!"
	bg_started $!
	wait_file "$T/$_n.out" '^(ready|open failed)'
}

nfds() {
	ls "/proc/$HQ_PID/fd" | wc -l
}

# get PATH NAME: a GET in the background, status and body in $T/NAME.
get() {
	hq_curl -s -o "$T/$2.body" -w '%{http_code}\n' "$(url "$1")" >"$T/$2" 2>&1 &
	eval "get_$2=\$!"
	bg_started $!
}

fds0=$(nfds)

# --- two processes, one killed mid-request --------------------------------
client h app hold --credit 1
client s app serve --credit 1
get /app/one one
wait_file "$T/h.out" '^got ' 10
ok $? "kill -9: the first process to ask got the request"
kill -KILL "$pid_h"
wait "$get_one"
is "$(cat "$T/one")" 503 "kill -9: its client gets 503"
like "$(wait_log 'GET /app/one 503 Connection_Abandoned_By_ReqQueue app')" . \
    "kill -9: HTTPERR Connection_Abandoned_By_ReqQueue naming the queue"
is "$(hq_curl "$(url /app/two)")" "hello /app/two from $pid_s" \
    "kill -9: the other process keeps serving"
kill "$pid_s"
wait "$pid_s" 2>/dev/null
wait_log 'pid '"$pid_s"' uid 0 queue "app": closed its connection' >/dev/null
_end=$(($(date +%s) + 5))
while [ "$(nfds)" -ne "$fds0" ] && [ "$(date +%s)" -le "$_end" ]; do sleep 0.05; done
is "$(nfds)" "$fds0" "kill -9: no descriptor left behind in the daemon"

# --- no process: the request waits for the next one ----------------------
get /app/wait wait
sleep 0.5
kill -0 "$get_wait" 2>/dev/null
ok $? "no process attached: the request waits"
client w app serve
wait "$get_wait"
is "$(cat "$T/wait")" 200 "a process attaches and gets the waiting request"
is "$(cat "$T/wait.body")" "hello /app/wait from $pid_w" "  and answers it"
kill "$pid_w"

# --- the request_queue timer and the queue length ------------------------
get /short/a sa
get /short/b sb
_end=$(($(date +%s) + 5))
until [ "$("$HTTPQCTL" -s "$HQ_CTL" show queue short 2>/dev/null |
    awk '$1 == "current" { print $2 }')" = 2 ] || [ "$(date +%s)" -gt "$_end" ]; do
	sleep 0.05
done
is "$(hq_curl -s -o /dev/null -w '%{http_code}' "$(url /short/c)")" 503 \
    "queue length 2 reached: the third request gets 503 at once"
like "$(wait_log 'GET /short/c 503 QueueFull short')" . "  HTTPERR QueueFull"
wait "$get_sa"
is "$(cat "$T/sa")" 503 "no process within timeouts.request_queue: 503"
like "$(wait_log 'GET /short/a 503 Timer_ReqQueue short')" . "  HTTPERR Timer_ReqQueue"
like "$("$HTTPQCTL" -s "$HQ_CTL" show queue short)" 'rejected +3' \
    "show queue: every 503 counted as rejected"
wait "$get_sb"

# --- a client that goes away: DISCONNECT -----------------------------------
client d app watch
hq_curl --max-time 1 "$(url /app/gone)" >/dev/null 2>&1
wait_file "$T/d.out" '^disconnect [0-9]+ ' 10
ok $? "client gone: the process gets DISCONNECT for the request"
kill "$pid_d"

# --- CANCEL ----------------------------------------------------------------
client x app cancel
out=$(printf 'GET /app/cancel HTTP/1.1\r\nHost: localhost\r\n\r\n' |
    raw --read-until-close --timeout 5 2>&1)
is "$out" "" "CANCEL: the client gets no response (connection reset)"
kill "$pid_x"

# --- reload removes the queue: SHUTDOWN --------------------------------------
client r short serve
log_mark
write_config "$T/httpq.yaml" '
server: { workers: 2, drain_timeout: 10 }
iplisten: [127.0.0.1]
timeouts: { request_queue: 2 }
url_groups:
  - { name: app, prefixes: ["http://+:@PORT@/app/"], queue: app }
queues:
  - { name: app, attach: { user: root } }
'
reload_httpqd
wait_log 'generation 2 loaded' >/dev/null
wait_file "$T/r.out" '^shutdown' 10
ok $? "a reload that removes the queue sends SHUTDOWN to its processes"
kill "$pid_r"

# --- SIGTERM: SHUTDOWN, and the request in flight completes ----------------
client z app serve --delay 1
get /app/last last
wait_file "$T/z.out" '^got ' 10
kill -TERM "$HQ_PID"
wait_file "$T/z.out" '^shutdown' 10
ok $? "SIGTERM: the process gets SHUTDOWN"
wait "$get_last"
is "$(cat "$T/last")" 200 "SIGTERM: the request in flight is still answered"
hq_wait_gone "$HQ_PID" 10
wait "$HQ_PID"
is $? 0 "httpqd exits 0"
unlike "$(grep -E 'Sanitizer|runtime error:' "$HQ_LOG" | head -5)" '.' \
    "no sanitizer report in the daemon log"
HQ_PID=

done_testing
