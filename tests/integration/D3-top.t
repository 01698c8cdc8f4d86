#!/bin/sh
# D3-top.t -- `httpqctl top` (issue 14): rates per URL group, queue and
# listener from two readings of `show stats`, with --once / -n for scripts.
. "${HQ_TESTS:-$(cd "$(dirname "$0")/.." && pwd)}/integration/lib.sh"
: "${HTTPQCTL:=$HQ_TESTS/../src/httpqctl}"

CONFIG='
server: { workers: 2 }
iplisten: [127.0.0.1]
url_groups:
  - name: app
    prefixes: ["http://+:@PORT@/app/"]
    queue: app
  - name: idle
    prefixes: ["http://+:@PORT@/idle/"]
    queue: app
queues:
  - { name: app, module: sample }
'
start_httpqd "$CONFIG" || bail_out "httpqd did not start"
T=$HQ_DIR
ctl() { "$HTTPQCTL" -s "$HQ_CTL" "$@"; }

for i in 1 2 3; do hq_curl -o /dev/null "$(url /app/)"; done
out=$(ctl show stats)
like "$out" '^uptime_us [0-9]+ connections [0-9]+$' "show stats: uptime and connections"
like "$out" '^group app app 0 3 0 0 0 0 [0-9]+ [0-9]+$' "show stats: the group's counters"
like "$out" '^queue app 0 1 1000 3 3 0$' "show stats: the queue's"
like "$out" "^listener 127\\.0\\.0\\.1:$HQ_PORT [0-9]+ [0-9]+\$" "show stats: the listener's"

# Steady traffic while top measures: a bounded loop (at most 400 requests).
(i=0; while [ $i -lt 400 ] && [ ! -f "$T/stop" ]; do
	hq_curl -o /dev/null "$(url /app/)" || break; i=$((i + 1)); done) &
bg_started $!
ctl top -n 2 -d 0.5 >"$T/top" 2>&1
rc=$?
touch "$T/stop"
is "$rc" 0 "top -n 2 exits 0"
is "$(grep -c '^URL GROUP' "$T/top")" 2 "  two screens"
like "$(cat "$T/top")" '^httpqd at .* up 0d 00:[0-9:]+ +connections [0-9]+ +\(rates over 0\.[0-9] s\)$' \
    "  a title with uptime and the period"
app=$(awk '$1 == "app" && $2 == "app"' "$T/top" | tail -n 1)
num_between "$(echo "$app" | awk '{ print $3 }')" 1 100000 "  app: REQ/S above 0 under traffic ($app)"
is "$(echo "$app" | awk '{ print $3 == $4 }')" 1 "  app: all of them 2XX/S ($app)"
is "$(awk '$1 == "idle"' "$T/top" | tail -n 1 | awk '{ print $3, $10 }')" "0.0 0" "  idle: no rate"
like "$(cat "$T/top")" '^app +[0-9]+ +[0-9]+ +1000 +[0-9.]+ +0\.0 +[0-9]+$' "  the queue's row"
like "$(cat "$T/top")" "^127\\.0\\.0\\.1:$HQ_PORT +[0-9]+ +[0-9.]+ +[0-9]+\$" "  the listener's row"

ctl top --once -d 0.2 >"$T/once"
is "$(grep -c '^URL GROUP' "$T/once")" 1 "top --once: one screen"
ctl top -n x >/dev/null 2>&1
is $? 2 "top -n x: usage error (2)"

done_testing
