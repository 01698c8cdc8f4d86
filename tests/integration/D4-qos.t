#!/bin/sh
# D4-qos.t -- http.sys's QoS and state properties per URL group (issue 14),
# with real clients: max_connections (the n+1-th connection gets 503
# ConnLimit, a freed place is taken again), max_bandwidth (a token bucket
# shared by the group's responses: a download takes size / rate within
# 20 %, two at once share it), state: disabled (503 Disabled, the queue
# untouched), and server.max_connections.
. "${HQ_TESTS:-$(cd "$(dirname "$0")/.." && pwd)}/integration/lib.sh"
: "${HTTPQCTL:=$HQ_TESTS/../src/httpqctl}"

hq_mktemp
W=$HQ_MKTEMP
head -c 524288 /dev/urandom >"$W/big.bin"
head -c 262144 /dev/urandom >"$W/half.bin"

CONFIG="
server: { workers: 2, error_log: \"@DIR@/httperr.log\", drain_timeout: 1 }
iplisten: [127.0.0.1]
url_groups:
  - { name: lim, prefixes: [\"http://+:@PORT@/lim/\"], queue: app, max_connections: 2 }
  - { name: free, prefixes: [\"http://+:@PORT@/free/\"], queue: app }
  - { name: slow, prefixes: [\"http://+:@PORT@/slow/\"], queue: files, max_bandwidth: 128k }
  - { name: off, prefixes: [\"http://+:@PORT@/off/\"], queue: app, state: disabled }
queues:
  - { name: app, module: sample }
  - { name: files, module: static, options: { root: $W } }
"
start_httpqd "$CONFIG" || bail_out "httpqd did not start"
T=$HQ_DIR

# conns PLAN: keep-alive connections to 127.0.0.1:$HQ_PORT driven by PLAN,
# words "open:NAME:PATH" (connect, one request, print NAME=STATUS),
# "close:NAME"; the others stay open until the end.
conns() {
	"$HQ_PYTHON" -S - "$HQ_PORT" "$@" <<'PY'
import socket, sys
port, socks = int(sys.argv[1]), {}
def status(s):
    buf = b""
    while b"\r\n\r\n" not in buf:
        d = s.recv(65536)
        if not d:
            break
        buf += d
    head = buf.split(b"\r\n\r\n")[0].decode("latin-1")
    cl = [l for l in head.split("\r\n") if l.lower().startswith("content-length:")]
    body = buf.split(b"\r\n\r\n", 1)[1] if b"\r\n\r\n" in buf else b""
    n = int(cl[0].split(":")[1]) if cl else 0
    while len(body) < n:
        d = s.recv(65536)
        if not d:
            break
        body += d
    return head.split(" ")[1] if head else "none"
for w in sys.argv[2:]:
    p = w.split(":")
    if p[0] == "open":
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        s.sendall(("GET %s HTTP/1.1\r\nHost: h\r\n\r\n" % p[2]).encode())
        socks[p[1]] = s
        print("%s=%s" % (p[1], status(s)))
    elif p[0] == "again":
        s = socks[p[1]]
        s.sendall(("GET %s HTTP/1.1\r\nHost: h\r\n\r\n" % p[2]).encode())
        print("%s=%s" % (p[1], status(s)))
    elif p[0] == "retry":
        # until the daemon has seen an earlier close (3 s)
        import time
        end = time.time() + 3
        refused = 0
        while True:
            s = socket.create_connection(("127.0.0.1", port), timeout=10)
            s.sendall(("GET %s HTTP/1.1\r\nHost: h\r\n\r\n" % p[2]).encode())
            st = status(s)
            if st == "200" or time.time() > end:
                break
            refused += st == "503"
            s.close()
            time.sleep(0.05)
        # the 503s (ConnLimit) of the tries before: a slow daemon (ASan)
        # may see the close late; the counts below add them
        import os
        with open(os.environ["HQ_RETRIES"], "a") as f:
            f.write("%d\n" % refused)
        socks[p[1]] = s
        print("%s=%s" % (p[1], st))
    elif p[0] == "use":
        # the URL group's connections as show servicestate --json says
        import json, os, subprocess
        j = json.loads(subprocess.run([os.environ["HTTPQCTL"], "-s", os.environ["HQ_CTL"],
            "show", "servicestate", "--json"], capture_output=True).stdout)
        g = [x for x in j["url_groups"] if x["name"] == p[1]][0]
        print("use=%d/%d" % (g["connections"], g["max_connections"]))
    elif p[0] == "close":
        socks.pop(p[1]).close()
PY
}

HQ_RETRIES=$T/retries
: >"$HQ_RETRIES"
export HTTPQCTL HQ_CTL HQ_RETRIES
# retried: the 503s that retry: steps got before their 200
retried() { awk '{ s += $1 } END { print s + 0 }' "$HQ_RETRIES"; }
out=$(conns open:a:/lim/ open:b:/lim/ use:lim open:c:/lim/ open:f:/free/ again:a:/lim/x \
    close:a retry:d:/lim/ open:e:/lim/ | tr '\n' ' ')
is "$out" "a=200 b=200 use=2/2 c=503 f=200 a=200 d=200 e=503 " \
    "max_connections 2: the third connection gets 503, another group does not; a freed place is taken again"
want=$((2 + $(retried)))
_end=$(($(date +%s) + 3))
until [ "$(grep -c ' 503 ConnLimit ' "$T/httperr.log" 2>/dev/null)" -ge "$want" ] ||
    [ "$(date +%s)" -gt "$_end" ]; do sleep 0.05; done
is "$(grep -c ' 503 ConnLimit ' "$T/httperr.log")" "$want" "  logged as ConnLimit in HTTPERR"

# A refused reload changes no limit: lim's 1 below never applies.
cp "$T/httpq.yaml" "$T/good.yaml"
sed -e 's/max_connections: 2/max_connections: 1/' \
    -e '/^queues:/a\  - { name: broken, module: nosuchmodule }' "$T/good.yaml" >"$T/httpq.yaml"
log_mark
reload_httpqd
wait_log 'reload refused' >/dev/null
ok $? "a reload with max_connections 1 and a missing module is refused"
out=$(conns retry:a:/lim/ open:b:/lim/ | tr '\n' ' ')
is "$out" "a=200 b=200 " "  the running limit stays 2"
cp "$T/good.yaml" "$T/httpq.yaml"

arrived() { "$HTTPQCTL" -s "$HQ_CTL" show queue app --json | sed 's/.*"arrived":\([0-9]*\).*/\1/'; }
a0=$(arrived)
code=$(hq_curl -o /dev/null -w '%{http_code}' "$(url /off/)")
is "$code" 503 "state: disabled answers 503"
is "$(arrived)" "$a0" "  without touching its queue (arrived stays $a0)"
grep -q ' /off/ 503 Disabled ' "$T/httperr.log" || sleep 1
like "$(cat "$T/httperr.log")" ' /off/ 503 Disabled ' "  logged as Disabled"
j=$("$HTTPQCTL" -s "$HQ_CTL" show servicestate --json)
want=$((2 + $(retried)))
like "$j" "\"name\":\"lim\",.*\"503\":\\{[^}]*\"ConnLimit\":$want[,}]" "  counted: $want ConnLimit 503s for lim"
like "$j" '"name":"off",.*"503":\{[^}]*"Disabled":1' "  counted: 1 Disabled 503 for off"

out=$("$HTTPQCTL" -s "$HQ_CTL" show servicestate)
like "$out" '^lim +enabled +[0-9]+ +2 +unlimited$' "show servicestate: lim's limits and use"
like "$out" '^slow +enabled +[0-9]+ +unlimited +131072 B/s$' "  slow's bandwidth"
like "$out" '^off +disabled ' "  off's state"

# dl PATH OUT: one download, its seconds (curl's, from its start: no
# process start-up counted)
dl() {
	hq_curl -o "$2" -w '%{time_total}' "$(url "$1")"
}
# two PATH: two downloads at once, the seconds from the first start to the
# last end
two() {
	_t0=$(hq_now)
	hq_curl -o "$T/h1" "$(url "$1")" &
	_p1=$!
	hq_curl -o "$T/h2" "$(url "$1")"
	wait $_p1
	elapsed_since "$_t0"
}
# timed LOW HIGH CMD...: runs CMD (it prints seconds) until the seconds are
# at most HIGH, 3 times at most, and prints them all.  Never below LOW is a
# property of the bucket, which load cannot break: every try must hold it.
# Above HIGH is what a loaded machine does to a daemon that waits on
# timers (the bucket keeps 1/8 s of tokens, a wakeup later than that loses
# some), so only a try that is slow 3 times in a row fails.
timed() {
	_lo=$1 _hi=$2 _all=
	shift 2
	for _try in 1 2 3; do
		_t=$("$@")
		_all="$_all $_t"
		awk -v t="$_t" -v lo="$_lo" 'BEGIN { exit !(t < lo) }' && break
		awk -v t="$_t" -v hi="$_hi" 'BEGIN { exit !(t <= hi) }' && break
	done
	echo "$_all"
}
# last of the times, and the least of them
last() { echo "$1" | awk '{ print $NF }'; }
least() { echo "$1" | awk '{ m = $1; for (i = 2; i <= NF; i++) if ($i < m) m = $i; print m }'; }
ts=$(timed 3.2 4.8 dl /slow/big.bin "$T/big.out")
file_is "$T/big.out" "$W/big.bin" "a throttled download arrives whole"
num_between "$(least "$ts")" 3.2 1000 "512 KiB at max_bandwidth 128k takes 4 s or more: the limit holds (tries:$ts s)"
num_between "$(last "$ts")" 3.2 4.8 "  and 4 s within 20 % (tries:$ts s)"
ts=$(timed 3.2 4.8 two /slow/half.bin)
num_between "$(least "$ts")" 3.2 1000 "two downloads of 256 KiB at once share the bucket: 4 s or more (tries:$ts s)"
num_between "$(last "$ts")" 3.2 4.8 "  and 4 s within 20 % (tries:$ts s)"
file_is "$T/h2" "$W/half.bin" "  and arrive whole"
ts=$(timed 0 1 dl /free/ "$T/free.out")
num_between "$(last "$ts")" 0 1 "another group is not throttled (tries:$ts s)"

# httpqctl set urlgroup NAME state=...: kept in httpqctl's drop-in.
ctl() { "$HTTPQCTL" -s "$HQ_CTL" "$@"; }
a0=$(arrived)
ctl set urlgroup free state=disabled >"$T/set.out" 2>&1
is $? 0 "httpqctl set urlgroup free state=disabled"
is "$(hq_curl -o /dev/null -w '%{http_code}' "$(url /free/)")" 503 "  free answers 503"
is "$(arrived)" "$a0" "  without touching its queue"
like "$(cat "$T/conf.d/99-httpqctl.yaml")" '^url_group_states:' "  the state is in httpqctl's drop-in"
like "$(ctl show servicestate)" '^free +disabled ' "  show servicestate says disabled"
ctl set urlgroup off state=enabled >/dev/null 2>&1
is "$(hq_curl -o /dev/null -w '%{http_code}' "$(url /off/)")" 200 "set urlgroup off state=enabled overrides its state: key"
ctl set urlgroup free state=enabled >/dev/null 2>&1
is "$(hq_curl -o /dev/null -w '%{http_code}' "$(url /free/)")" 200 "set urlgroup free state=enabled: 200 again"
ctl set urlgroup nosuch state=disabled >"$T/set.out" 2>&1
is $? 1 "set urlgroup of an unknown group: refused (1)"
ctl set urlgroup free state=off >"$T/set.out" 2>&1
is $? 1 "set urlgroup state=off: refused (1)"
like "$(cat "$T/set.out")" 'state: expected enabled or disabled' "  saying what is expected"
ctl set urlgroup free >/dev/null 2>&1
is $? 2 "set urlgroup without state=: usage (2)"

# A stop in the middle of a throttled download: the bandwidth timer goes
# with its connection (drain_timeout 1 s; no leak under the sanitizers).
hq_curl -o /dev/null "$(url /slow/big.bin)" 2>/dev/null &
bg_started $!
_end=$(($(date +%s) + 5))
until "$HTTPQCTL" -s "$HQ_CTL" show servicestate | grep -Eq '^slow +enabled +1 ' ||
    [ "$(date +%s)" -gt "$_end" ]; do sleep 0.05; done
like "$("$HTTPQCTL" -s "$HQ_CTL" show servicestate)" '^slow +enabled +1 ' "a throttled download in flight"
stop_httpqd

# server.max_connections: for the whole daemon.
CONFIG2='
server: { workers: 2, max_connections: 2 }
iplisten: [127.0.0.1]
url_groups:
  - { name: free, prefixes: ["http://+:@PORT@/free/"], queue: app }
queues:
  - { name: app, module: sample }
'
start_httpqd "$CONFIG2" || bail_out "httpqd did not start"
out=$(conns retry:a:/free/ open:b:/free/ open:c:/free/ close:a retry:d:/free/ | tr '\n' ' ')
is "$out" "a=200 b=200 c=503 d=200 " "server.max_connections 2: the third connection gets 503 until one closes"

done_testing
