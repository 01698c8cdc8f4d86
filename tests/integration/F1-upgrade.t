#!/bin/sh
# F1-upgrade.t -- 101 Switching Protocols (module ABI 1.4, http.sys's opaque
# mode) through the test module "upgrade", which echoes the stream
# upper-cased: the 101 head; bytes pipelined after the upgrade request are
# the stream's, never a request; send_head(101) refused for HTTP/1.0, a
# request without Upgrade or Connection: upgrade, a head without Upgrade,
# after a head, twice, with an unread body (and then the connection goes
# on); the end of the stream at the client's FIN and at the module's end;
# flow control both ways; one access log line at the end; the idle timer,
# restarted by traffic; an attached process cannot send 101 (queue protocol
# v1); SIGTERM's drain aborts an upgraded connection at drain_timeout.
. "${HQ_TESTS:-$(cd "$(dirname "$0")/.." && pwd)}/integration/lib.sh"

CONFIG="
server: { workers: 1, drain_timeout: 2 }
iplisten: [127.0.0.1]
url_groups:
  - name: up
    prefixes: [\"http://+:@PORT@/up/\"]
    queue: up
    timeouts: { idle_connection: 2 }
    access_log: { path: \"@DIR@/access.log\", fields: [cs-uri-stem, sc-status, sc-bytes, cs-bytes] }
  - { name: s, prefixes: [\"http://+:@PORT@/s/\"], queue: s }
  - { name: att, prefixes: [\"http://+:@PORT@/att/\"], queue: att }
queues:
  - { name: up, module: \"$HQ_TESTMODDIR/upgrade.so\" }
  - { name: s, module: sample }
  - { name: att, attach: { user: root } }
"
start_httpqd "$CONFIG" || bail_out "httpqd did not start"
T=$HQ_DIR

UP='Upgrade: echo\r\nConnection: Upgrade\r\n'

# --- accepted -------------------------------------------------------------
printf "GET /up/x HTTP/1.1\r\nHost: a\r\n$UP\r\nGET /s/ HTTP/1.1\r\nHost: a\r\n\r\nhello" |
    raw --half-close-after-send --read-until-close >"$T/ok"
ok $? "an upgraded stream ends at the client's FIN, then the connection closes"
is "$(head -n 1 "$T/ok" | tr -d '\r')" "HTTP/1.1 101 Switching Protocols" "101 Switching Protocols"
head=$(sed -n '1,/^\r$/p' "$T/ok" | tr -d '\r')
like "$head" '^Connection: upgrade$' "  the daemon's Connection: upgrade"
like "$head" '^Upgrade: echo$' "  the module's Upgrade"
unlike "$head" '^(Date|Content-Length|Transfer-Encoding|Server):' \
    "  no Date, Server or framing field"
is "$(sed '1,/^\r$/d' "$T/ok" | tr -d '\r')" "$(printf 'GET /S/ HTTP/1.1\nHOST: A\n\nHELLO')" \
    "bytes pipelined after the upgrade request are the stream's (echoed), not a request"

# --- refused: the module answers as usual, the connection goes on -------------
printf "GET /up/x HTTP/1.0\r\n$UP\r\n" | raw --half-close-after-send --read-until-close >"$T/http10"
is "$(resp_body "$T/http10")" "refused" "send_head(101) refused for HTTP/1.0"
printf 'GET /up/x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n' |
    raw --half-close-after-send --read-until-close >"$T/noup"
is "$(resp_body "$T/noup")" "refused" "refused without Upgrade in the request"
printf 'GET /up/x HTTP/1.1\r\nHost: a\r\nUpgrade: echo\r\nConnection: close\r\n\r\n' |
    raw --half-close-after-send --read-until-close >"$T/noconn"
is "$(resp_body "$T/noconn")" "refused" "refused without Connection: upgrade"
printf "GET /up/x HTTP/1.1\r\nHost: a\r\nUpgrade: echo\r\nConnection: keep-alive , UPGRADE\r\n\r\nab" |
    raw --half-close-after-send --read-until-close >"$T/list"
is "$(head -n 1 "$T/list" | tr -d '\r')" "HTTP/1.1 101 Switching Protocols" \
    "  accepted with upgrade inside the Connection list"
printf "GET /up/noname/ HTTP/1.1\r\nHost: a\r\n$UP\r\n" | raw --half-close-after-send --read-until-close >"$T/noname"
is "$(resp_body "$T/noname")" "refused" "refused when the module's head has no Upgrade"
printf "GET /up/after/ HTTP/1.1\r\nHost: a\r\n$UP\r\nGET /s/ HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n" |
    raw --half-close-after-send --read-until-close >"$T/after"
like "$(cat "$T/after")" 'refused' "refused after a head was sent"
printf "GET /up/twice/ HTTP/1.1\r\nHost: a\r\n$UP\r\nxy" | raw --half-close-after-send --read-until-close >"$T/twice"
is "$(sed '1,/^\r$/d' "$T/twice")" "XY" "a second 101 is refused"
printf "POST /up/x HTTP/1.1\r\nHost: a\r\n${UP}Content-Length: 3\r\n\r\nabcGET /s/ HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n" |
    raw --half-close-after-send --read-until-close >"$T/body"
is "$(resp_body "$T/body" 0)" "refused" "refused while the request body is unread"
like "$(resp_body "$T/body" 1)" 'Hey! You hit the server' \
    "  and a plain request after it on the same connection is answered"
printf "POST /up/readfirst/ HTTP/1.1\r\nHost: a\r\n${UP}Content-Length: 3\r\n\r\nabcdef" |
    raw --half-close-after-send --read-until-close >"$T/readfirst"
is "$(sed '1,/^\r$/d' "$T/readfirst")" "DEF" "accepted once the body was read; the stream starts after it"
printf "GET /up/bye/ HTTP/1.1\r\nHost: a\r\n$UP\r\n" | raw --half-close-after-send --read-until-close >"$T/bye"
ok $? "the module ends the stream: the server closes the connection"
is "$(sed '1,/^\r$/d' "$T/bye")" "bye" "  after sending what it queued"

# A module that reads a body late: the input buffer grows under the
# request's head (it moved with it; it used to point into freed memory).
"$HQ_PYTHON" - "$HQ_PORT" >"$T/late" 2>&1 <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.settimeout(10)
probe = "p" * 3000
body = b"b" * 60000
s.sendall(("POST /up/late/some/path?q=1 HTTP/1.1\r\nHost: a\r\nX-Probe: %s\r\n"
           "Content-Length: %d\r\nConnection: close\r\n\r\n" % (probe, len(body))).encode() + body)
out = b""
while True:
    d = s.recv(65536)
    if not d:
        break
    out += d
want = "POST /up/late/some/path?q=1 %s %d\n" % (probe, len(body))
print("late head intact:", out.split(b"\r\n\r\n", 1)[-1].decode(errors="replace") == want)
PY
like "$(cat "$T/late")" 'late head intact: True' \
    "a body read late: the request head survives the input buffer growing"

# --- flow control, the log line, the idle timer ---------------------------------
"$HQ_PYTHON" - "$HQ_PORT" >"$T/flow" 2>&1 <<'PY'
import socket, sys, time
port = int(sys.argv[1])
s = socket.create_connection(("127.0.0.1", port))
s.sendall(b"GET /up/flow HTTP/1.1\r\nHost: a\r\nUpgrade: echo\r\nConnection: upgrade\r\n\r\n")
s.setblocking(False)
chunk = bytes(range(97, 123)) * 2520   # 65520 bytes of a-z
sent, end = 0, time.time() + 2
while time.time() < end and sent < 64 << 20:
    try:
        sent += s.send(chunk[sent % len(chunk):])
    except BlockingIOError:
        time.sleep(0.01)
print("sent while not reading:", "bounded" if sent < 32 << 20 else "unbounded", sent)
s.setblocking(True)
s.settimeout(20)
s.shutdown(socket.SHUT_WR)
got = b""
while True:
    d = s.recv(1 << 20)
    if not d:
        break
    got += d
body = got.split(b"\r\n\r\n", 1)[1]
want = (chunk.upper() * (sent // len(chunk) + 1))[:sent]
print("echo complete:", body == want, len(body), sent)
PY
like "$(cat "$T/flow")" 'sent while not reading: bounded' \
    "a client that does not read is stopped by TCP (the module pauses reading)"
like "$(cat "$T/flow")" 'echo complete: True' "  and then gets every byte back, in order"

"$HQ_PYTHON" - "$HQ_PORT" >"$T/idle" 2>&1 <<'PY'
import socket, sys, time
port = int(sys.argv[1])
def up():
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"GET /up/idle HTTP/1.1\r\nHost: a\r\nUpgrade: echo\r\nConnection: upgrade\r\n\r\n")
    s.settimeout(10)
    return s
# talks every 0.5 s for 4 s (twice the idle timeout): still open
s = up()
t, alive = time.time(), True
while time.time() - t < 4:
    s.sendall(b"x")
    time.sleep(0.5)
    try:
        if s.recv(4096) == b"":
            alive = False
            break
    except socket.timeout:
        pass
print("busy alive:", alive)
# silent: closed by the idle timer after about 2 s
q = up()
t, data = time.time(), b""
while True:
    d = q.recv(4096)
    if not d:
        break
    data += d
print("quiet closed after: %.0f" % (time.time() - t))
PY
like "$(cat "$T/idle")" 'busy alive: True' "traffic restarts the idle timer of an upgraded connection"
like "$(cat "$T/idle")" 'quiet closed after: [234]$' "  a quiet one is closed by it (idle_connection 2 s)"

_end=$(($(date +%s) + 5))
until grep -q '^/up/flow ' "$T/access.log" || [ "$(date +%s)" -gt "$_end" ]; do sleep 0.1; done
line=$(grep '^/up/flow ' "$T/access.log")
is "$(printf '%s\n' "$line" | grep -c .)" 1 "one access log line for an upgraded connection"
like "$line" '^/up/flow 101 [0-9]{7,} [0-9]{7,}$' "  at its end: status 101, the bytes of both directions"

# --- an attached process cannot send 101 (queue protocol v1) -------------------
"$HQ_PYTHON" -S - "$HQ_TESTS/integration" "$HQ_QSOCK" "$HQ_PORT" >"$T/att" 2>&1 <<'PY'
import socket, sys, threading
sys.path.insert(0, sys.argv[1])
import qclient as q
path, port = sys.argv[2], int(sys.argv[3])
box = []
def http():
    s = socket.create_connection(("127.0.0.1", port))
    s.settimeout(20)
    s.sendall(b"GET /att/x HTTP/1.1\r\nHost: a\r\nUpgrade: echo\r\nConnection: upgrade\r\n\r\n")
    out = b""
    try:
        while b"\r\n\r\n" not in out:
            d = s.recv(65536)
            if not d:
                break
            out += d
    except socket.timeout:
        pass
    box.append(out.split(b"\r\n")[0].decode())
c = q.Conn(path)
c.s.settimeout(20)
c.it = c.frames()
c.hello()
c.call(q.OPEN_QUEUE, q.attr(q.A_QUEUE, "att") + q.u32(q.A_ROLE, 1), 1)
c.send(q.frame(q.RECEIVE, q.u32(q.A_COUNT, 1)))
t = threading.Thread(target=http)
t.start()
fid = 0
for f in c.it:
    if f and f[0] == q.REQUEST:
        fid = f[2]
        break
c.send(q.frame(q.RESPONSE, q.u32(q.A_STATUS, 101) + q.attr(q.A_HEADER, "Upgrade:echo"), 0, fid))
err = ""
for f in c.it:
    if f is None:
        break
    if f[0] == q.ERROR:
        err = dict(q.attrs(f[3])).get(q.A_MESSAGE, b"").decode()
t.join()
print("error:", err)
print("http:", box[0] if box else "(nothing)")
PY
like "$(cat "$T/att")" 'error: RESPONSE for request [0-9]+: STATUS 101 \(upgrades are not in queue protocol version 1\)' \
    "an attached process sending 101 gets ERROR"
like "$(cat "$T/att")" 'http: HTTP/1.1 5[0-9][0-9] ' "  and its HTTP client a 5xx"

# --- SIGTERM: the drain aborts an upgraded connection at drain_timeout ----------
"$HQ_PYTHON" - "$HQ_PORT" >"$T/drain" 2>&1 <<'PY' &
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"GET /up/drain HTTP/1.1\r\nHost: a\r\nUpgrade: echo\r\nConnection: upgrade\r\n\r\n")
s.settimeout(30)
got = b""
while b"\r\n\r\n" not in got:
    got += s.recv(4096)
print("upgraded", flush=True)
t = time.time()
while True:
    s.sendall(b"k")   # busy: never idle
    s.settimeout(0.3)
    try:
        d = s.recv(4096)
        if not d:
            break
    except socket.timeout:
        pass
    except ConnectionResetError:
        break
print("closed", flush=True)
PY
bg_started $!
drain=$!
_end=$(($(date +%s) + 10))
until grep -q upgraded "$T/drain" || [ "$(date +%s)" -gt "$_end" ]; do sleep 0.05; done
log_mark
kill -TERM "$HQ_PID"
wait_log 'drain timeout, aborting 1 connection' 8 >/dev/null
ok $? "SIGTERM: the upgraded connection is aborted at drain_timeout"
wait "$drain"
like "$(cat "$T/drain")" 'closed' "  its client sees the connection closed"
# already signalled: wait for the exit (a second SIGTERM could come after
# the handlers are gone)
if hq_wait_gone "$HQ_PID" 20; then
	wait "$HQ_PID"
	is $? 0 "httpqd exited with status 0"
else
	fail "httpqd exited within 20 s of SIGTERM"
	kill -KILL "$HQ_PID" 2>/dev/null
fi
unlike "$(grep -E 'Sanitizer|runtime error:' "$HQ_LOG" | head -5)" '.' \
    "no sanitizer report in the daemon log"
HQ_PID=
done_testing
