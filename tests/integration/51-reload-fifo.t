#!/bin/sh
# 51-reload-fifo.t -- a FIFO in conf.d used to block the reload in open():
# the main thread hung, the control socket stopped answering and SIGTERM
# was ignored.  Now the reload is refused, naming the file, and the daemon
# keeps serving, answering its control socket and SIGTERM.
. "${HQ_TESTS:-$(cd "$(dirname "$0")/.." && pwd)}/integration/lib.sh"
: "${HTTPQCTL:=$HQ_TESTS/../src/httpqctl}"

start_httpqd '
server: { workers: 1 }
iplisten: [127.0.0.1]
url_groups:
  - { name: one, prefixes: ["http://+:@PORT@/one/"], queue: q }
queues:
  - { name: q, module: sample }
' || bail_out "httpqd did not start"

code() {
	hq_curl -o /dev/null -w '%{http_code}' "$(url "$1")"
}

is "$(code /one/)" 200 "before: /one/ answers"

mkdir "$HQ_DIR/conf.d"
mkfifo "$HQ_DIR/conf.d/pipe.yaml" || bail_out "mkfifo failed"
log_mark
reload_httpqd
line=$(wait_log 'reload refused')
ok $? "SIGHUP with a FIFO in conf.d: the reload is refused"
diag "$line"
like "$(tail -n +"$((HQ_LOG_MARK + 1))" "$HQ_LOG")" \
    'conf\.d/pipe\.yaml: not a regular file \(a FIFO\)' "the refusal names the FIFO"
is "$(code /one/)" 200 "after: the old configuration still serves /one/"

# The main thread is free: the control socket answers (with a deadline, so
# that a hung daemon fails the test instead of hanging it).
out=$(timeout 10 "$HTTPQCTL" -s "$HQ_CTL" show servicestate 2>&1)
is "$?" 0 "httpqctl show servicestate answers after the refused reload"
diag "$(printf '%s\n' "$out" | head -3)"

# httpqctl reload goes through the same loader: refused, not hung.
out=$(timeout 10 "$HTTPQCTL" -s "$HQ_CTL" reload 2>&1)
rc=$?
ok "$([ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] && echo 0 || echo 1)" \
    "httpqctl reload is refused at once (exit $rc)"
like "$out" 'pipe\.yaml: not a regular file' "httpqctl reload names the FIFO"

# SIGTERM is answered: stop_httpqd fails if the daemon does not exit in 10 s.
stop_httpqd

done_testing
