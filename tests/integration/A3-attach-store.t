#!/bin/sh
# A3-attach-store.t -- a queue with `attach:` instead of `module:` (issue
# 10): httpqd -t and httpqctl -t accept it, the daemon starts and
# reloads with it, loads no module for it, answers its requests 503 while
# no process serves it (after timeouts.request_queue at most), keeps
# serving the module queue beside it, and httpqctl shows it as "attach".
. "${HQ_TESTS:-$(cd "$(dirname "$0")/.." && pwd)}/integration/lib.sh"

: "${HTTPQCTL:=$HQ_TESTS/../src/httpqctl}"

CONFIG='
server: { workers: 2 }
iplisten: [127.0.0.1]
timeouts: { request_queue: 1 }
queue_socket: { path: @DIR@/queue.sock }
url_groups:
  - { name: app, prefixes: ["http://+:@PORT@/app/"], queue: app }
  - { name: mod, prefixes: ["http://+:@PORT@/mod/"], queue: mod }
queues:
  - { name: app, attach: { user: nobody, controller_user: root }, verbosity: full }
  - { name: mod, module: sample }
'
start_httpqd "$CONFIG" || bail_out "httpqd did not start"
T=$HQ_DIR

out=$("$HTTPQD" -t -c "$T/httpq.yaml" -M "$HQ_MODDIR" 2>&1)
ok $? "httpqd -t accepts an attach queue"
out=$("$HTTPQCTL" -c "$T/httpq.yaml" -M "$HQ_MODDIR" -t 2>&1)
rc=$?
ok $rc "httpqctl -t accepts it (no module loaded for it)"
[ $rc -eq 0 ] || diag "$out"

printf 'GET /app/x HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n' |
    raw --read-until-close --timeout 5 >"$T/app"
is "$(resp_code "$T/app")" 503 "a request to the attach queue with no process -> 503"
wait_log ' GET /app/x 503 ' >/dev/null
ok $? "  logged in HTTPERR"
printf 'GET /mod/ HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n' |
    raw --read-until-close --timeout 5 >"$T/mod"
is "$(resp_code "$T/mod")" 200 "the module queue beside it serves"

out=$("$HTTPQCTL" -s "$HQ_CTL" show queue app)
like "$out" '^  module +attach$' "show queue: the attach queue's module is \"attach\""
like "$out" '^  rejected +1$' "  its 503 is counted as rejected"
out=$("$HTTPQCTL" -s "$HQ_CTL" show queue app --json)
like "$out" '"name":"app","limit":1000,"verbosity":"full","module":"attach"' "show queue --json: \"module\":\"attach\""
out=$("$HTTPQCTL" -s "$HQ_CTL" show servicestate)
like "$out" '^app +1000 +full +attach ' "show servicestate: the queue's MODULE is attach"
out=$("$HTTPQCTL" -s "$HQ_CTL" show route "http://127.0.0.1:$HQ_PORT/app/x")
like "$out" '^  module +attach$' "show route: module attach"

log_mark
reload_httpqd
wait_log 'generation 2 loaded' >/dev/null
ok $? "reload with an attach queue"
printf 'GET /app/ HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n' |
    raw --read-until-close --timeout 5 >"$T/app2"
is "$(resp_code "$T/app2")" 503 "after the reload: still 503"
hq_alive "$HQ_PID"; ok $? "httpqd is alive"

stop_httpqd
done_testing
