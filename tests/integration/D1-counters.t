#!/bin/sh
# D1-counters.t -- the counters kept per worker and summed when read
# (issue 14), checked against known traffic through `show servicestate
# --json`: requests by status class per URL group, 503s by reason, bytes
# in and out, connections accepted per listener, reloads and failures.
. "${HQ_TESTS:-$(cd "$(dirname "$0")/.." && pwd)}/integration/lib.sh"
: "${HTTPQCTL:=$HQ_TESTS/../src/httpqctl}"

CONFIG='
server: { workers: 2 }
iplisten: [127.0.0.1]
url_groups:
  - name: app
    prefixes: ["http://+:@PORT@/app/"]
    queue: app
  - name: off
    prefixes: ["http://+:@PORT@/off/"]
queues:
  - { name: app, module: sample }
'
start_httpqd "$CONFIG" || bail_out "httpqd did not start"
T=$HQ_DIR
"$HTTPQCTL" -s "$HQ_CTL" show servicestate --json >"$T/s0.json"
acc0=$("$HQ_PYTHON" -S -c 'import json, sys
print(json.load(open(sys.argv[1]))["listeners"][0]["accepted"])' "$T/s0.json")

# One connection per request, so that both workers take some.
req() {
	printf 'GET %s HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n' "$1" >"$T/q"
	raw --read-until-close <"$T/q" >"$T/r"
	inb=$((inb + $(wc -c <"$T/q")))
	outb=$((outb + $(wc -c <"$T/r")))
}
inb=0 outb=0
for i in 1 2 3 4 5 6; do req /app/x$i; done
app_in=$inb app_out=$outb
inb=0 outb=0
for i in 1 2 3; do req /off/y$i; done
off_in=$inb off_out=$outb
req /nowhere/

# st PYEXPR: a value of the servicestate JSON (j), polled until it settles.
"$HTTPQCTL" -s "$HQ_CTL" show servicestate --json >"$T/s.json"
st() {
	"$HQ_PYTHON" -S -c 'import json, sys
j = json.load(open(sys.argv[1]))
g = {x["name"]: x for x in j["url_groups"]}
print(eval(sys.argv[2]))' "$T/s.json" "$1"
}
is "$(st 'g["app"]["requests"]["2xx"]')" 6 "app: 6 requests 2xx"
is "$(st 'sum(g["app"]["requests"].values())')" 6 "app: nothing in the other classes"
is "$(st 'g["app"]["bytes_in"]')" "$app_in" "app: bytes in = the request heads sent ($app_in)"
is "$(st 'g["app"]["bytes_out"]')" "$app_out" "app: bytes out = every byte received ($app_out)"
is "$(st 'g["off"]["requests"]["5xx"]')" 3 "off (unbound): 3 requests 5xx"
is "$(st 'g["off"]["503"]["Unbound"]')" 3 "off: 3 503s with the reason Unbound"
is "$(st 'sum(g["off"]["503"].values())')" 3 "  and no other reason"
is "$(st 'g["off"]["bytes_out"]')" "$off_out" "off: bytes out of the 503 pages"
is "$(st 'j["unrouted"]["requests"]["4xx"]')" 1 "the 404 of no prefix counts as unrouted 4xx"
is "$(st 'j["listeners"][0]["accepted"]')" $((acc0 + 10)) "listener: 10 connections accepted (after $acc0 at start)"
is "$(st 'j["reloads"]')" "{'ok': 0, 'failed': 0}" "no reload yet"

reload_httpqd
wait_log 'generation 2 loaded' >/dev/null
ok $? "reload"
cp "$T/httpq.yaml" "$T/good.yaml"
printf 'bad: [\n' >>"$T/httpq.yaml"
log_mark
reload_httpqd
wait_log 'reload refused' >/dev/null
ok $? "a bad store is refused"
cp "$T/good.yaml" "$T/httpq.yaml"
"$HTTPQCTL" -s "$HQ_CTL" show servicestate --json >"$T/s.json"
is "$(st 'j["reloads"]')" "{'ok': 1, 'failed': 1}" "reloads: 1 ok, 1 failed"
is "$(st 'g["app"]["requests"]["2xx"]')" 6 "the counters of a URL group live across a reload"

out=$("$HTTPQCTL" -s "$HQ_CTL" show servicestate)
like "$out" '^app +6 +6 +0 +0 +0 ' "text: the URL group's row of counters"

done_testing
