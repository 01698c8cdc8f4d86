#!/bin/sh
# D2-metrics.t -- the built-in `metrics` module (issue 14): Prometheus text
# format 0.0.4 on the prefix of its URL group, read by the real parser
# (python3-prometheus-client) and checked against known traffic: requests
# by status class, 503s by reason, bytes, latency histograms, queue depth,
# listeners, process facts.  `module: metrics` needs no .so: httpqd -t and
# httpqctl -t accept it.
. "${HQ_TESTS:-$(cd "$(dirname "$0")/.." && pwd)}/integration/lib.sh"
: "${HTTPQCTL:=$HQ_TESTS/../src/httpqctl}"

# The parser lives in the system's site-packages (not python -S).
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
if ! "$PY" -c 'import prometheus_client.parser' 2>/dev/null; then
	skip "python3-prometheus-client is not installed"
	done_testing
fi

CONFIG='
server: { workers: 2 }
iplisten: [127.0.0.1]
url_groups:
  - name: app
    prefixes: ["http://+:@PORT@/app/"]
    queue: app
  - name: off
    prefixes: ["http://+:@PORT@/off/"]
  - name: mon
    prefixes: ["http://+:@PORT@/metrics/"]
    queue: mon
queues:
  - { name: app, module: sample }
  - { name: mon, module: metrics }
'
hq_mktemp
HQ_PORT=$(freeport)
write_config "$HQ_MKTEMP/check.yaml" "$CONFIG"
"$HTTPQD" -t -c "$HQ_MKTEMP/check.yaml" -M "$HQ_MODDIR" >"$HQ_MKTEMP/t.out" 2>&1
ok $? "httpqd -t: module: metrics is built in (no metrics.so in $HQ_MODDIR)"
"$HTTPQCTL" -t -c "$HQ_MKTEMP/check.yaml" -M "$HQ_MODDIR" >"$HQ_MKTEMP/t.out" 2>&1
ok $? "httpqctl -t accepts it too"

start_httpqd "$CONFIG" || bail_out "httpqd did not start"
T=$HQ_DIR

inb=0
for i in 1 2 3 4 5; do
	printf 'GET /app/x%s HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n' "$i" >"$T/q"
	raw --read-until-close <"$T/q" >"$T/r"
	inb=$((inb + $(wc -c <"$T/q")))
done
for i in 1 2; do hq_curl -o /dev/null "$(url /off/)"; done
hq_curl -o /dev/null "$(url /nowhere/)"

hq_curl -D "$T/h" -o "$T/m1" "$(url /metrics/)"
ok $? "GET /metrics/"
like "$(tr -d '\r' <"$T/h")" '^Content-Type: text/plain; version=0\.0\.4; charset=utf-8$' \
    "  Content-Type of the text format 0.0.4"
hq_curl -o "$T/m2" "$(url /metrics/)"

# m FILE NAME LABELS: one sample's value, by the real parser; "none" if absent.
cat >"$T/get.py" <<'PY'
import sys
from prometheus_client.parser import text_string_to_metric_families
want = dict(kv.split("=", 1) for kv in sys.argv[3].split(",") if kv)
for fam in text_string_to_metric_families(open(sys.argv[1]).read()):
    for s in fam.samples:
        if s.name == sys.argv[2] and all(s.labels.get(k) == v for k, v in want.items()):
            v = s.value
            print(int(v) if v == int(v) else v)
            sys.exit(0)
print("none")
PY
m() { "$PY" "$T/get.py" "$@"; }

"$PY" - "$T/m1" <<'PY' >"$T/parse.out" 2>&1
import sys
from prometheus_client.parser import text_string_to_metric_families
fams = list(text_string_to_metric_families(open(sys.argv[1]).read()))
names = {f.name for f in fams}
for want in ("httpq_requests", "httpq_request_duration_seconds", "httpq_queue_depth"):
    assert want in names, (want, names)
print(len(fams), "families")
PY
ok $? "the whole page parses with prometheus_client ($(cat "$T/parse.out"))"

is "$(m "$T/m1" httpq_requests_total url_group=app,queue=app,code=2xx)" 5 "app: 5 requests 2xx"
is "$(m "$T/m1" httpq_requests_total url_group=app,code=4xx)" 0 "app: 0 4xx"
is "$(m "$T/m1" httpq_requests_total url_group=off,code=5xx)" 2 "off: 2 requests 5xx"
is "$(m "$T/m1" httpq_unavailable_total url_group=off,reason=Unbound)" 2 "off: 2 503s Unbound"
is "$(m "$T/m1" httpq_unavailable_total url_group=off,reason=QueueFull)" 0 "off: 0 503s QueueFull"
is "$(m "$T/m1" httpq_requests_total url_group=,code=4xx)" 1 "the 404 of no prefix: url_group=\"\" 4xx"
is "$(m "$T/m1" httpq_received_bytes_total url_group=app)" "$inb" "app: bytes received = the heads sent"
is "$(m "$T/m1" httpq_request_duration_seconds_count url_group=app)" 5 "duration histogram: count 5"
is "$(m "$T/m1" httpq_request_duration_seconds_bucket url_group=app,le=+Inf)" 5 "  bucket +Inf = count"
is "$(m "$T/m1" httpq_time_to_first_byte_seconds_count url_group=app)" 5 "ttfb histogram: count 5"
is "$(m "$T/m1" httpq_request_duration_seconds_bucket url_group=app,le=10)" 5 \
    "  all 5 under 10 s"
is "$(m "$T/m1" httpq_queue_arrived_total queue=app)" 5 "queue app: 5 arrived"
is "$(m "$T/m1" httpq_queue_depth queue=app)" 0 "queue app: depth 0"
is "$(m "$T/m1" httpq_queue_depth queue=mon)" 1 "queue mon: depth 1 (the scrape itself)"
is "$(m "$T/m1" httpq_requests_total url_group=mon,code=2xx)" 0 "mon: the first scrape is not counted yet"
is "$(m "$T/m2" httpq_requests_total url_group=mon,code=2xx)" 1 "  the second sees the first"
num_between "$(m "$T/m1" httpq_listener_accepted_total listener=127.0.0.1:$HQ_PORT)" 9 11 \
    "listener: the connections accepted (8 + the scrape + the start probe)"
is "$(m "$T/m1" httpq_listener_connections listener=127.0.0.1:$HQ_PORT)" 1 "listener: 1 open (the scrape)"
num_between "$(m "$T/m1" process_resident_memory_bytes '')" 100000 10000000000 "process_resident_memory_bytes"
num_between "$(m "$T/m1" process_open_fds '')" 5 100000 "process_open_fds"
num_between "$(m "$T/m1" httpq_uptime_seconds '')" 0 3600 "httpq_uptime_seconds"
is "$(m "$T/m1" httpq_reloads_total result=ok)" 0 "httpq_reloads_total"
is "$(m "$T/m1" httpq_tls_handshakes_total kind=full)" 0 "httpq_tls_handshakes_total (no https)"

is "$(hq_curl -o /dev/null -w '%{http_code}' -d x "$(url /metrics/)")" 405 "POST: 405"

# TLS handshakes, full and resumed: a session saved, then offered again.
hq_mktemp
K=$HQ_MKTEMP
tls_ca "$K" && tls_cert "$K" localhost "DNS:localhost,IP:127.0.0.1"
ok $? "a throwaway CA and certificate"
TLSCONFIG="
server: { workers: 1 }
iplisten: [127.0.0.1]
url_groups:
  - { name: s, prefixes: [\"https://+:@PORT@/\"], queue: app }
  - { name: m, prefixes: [\"http://+:@PORT2@/metrics/\"], queue: mon }
queues:
  - { name: app, module: sample }
  - { name: mon, module: metrics }
sslcerts:
  - { ipport: \"0.0.0.0:@PORT@\", certfile: $K/localhost.crt, keyfile: $K/localhost.key }
"
start_httpqd "$TLSCONFIG" || bail_out "httpqd did not start"
get_tls() {
	printf 'GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n' |
	    timeout 10 openssl s_client -ign_eof -connect "127.0.0.1:$HQ_PORT" -servername localhost "$@" 2>/dev/null
}
get_tls -sess_out "$K/sess" >"$K/o1"
like "$(cat "$K/o1")" '^HTTP/1\.1 200' "https: a first request"
get_tls -sess_in "$K/sess" >"$K/o2"
like "$(cat "$K/o2")" '^Reused, ' "  a second connection resumes the session"
hq_curl -o "$T/m3" "http://127.0.0.1:$HQ_PORT2/metrics/"
# the start probe connected to the https port without a handshake
is "$(m "$T/m3" httpq_tls_handshakes_total kind=full)" 1 "httpq_tls_handshakes_total: 1 full"
is "$(m "$T/m3" httpq_tls_handshakes_total kind=resumed)" 1 "  1 resumed"

done_testing
