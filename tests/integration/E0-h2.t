#!/bin/sh
# E0-h2.t -- HTTP/2 (issue 12): ALPN h2 over TLS and h2c with prior
# knowledge; ALPN fallback to HTTP/1.1 and a binding with http2: false; the
# sample module's GET, HEAD and POST echo (a 5 MB streamed POST) over h2;
# nghttp: trailers both ways, many concurrent streams, version() == 20,
# post() from a thread, send_file, a module that finishes without answering;
# the access log says HTTP/2.0; attached processes answer h2 requests (and
# stream a 5 MB body back through httpq-echo-client); a
# reload with http2.cleartext: false refuses the preface (505) again;
# servicestate counts HTTP/2.0; a TLS client that leaves with output queued
# (close_notify) does not make the daemon spin; SIGTERM: GOAWAY, the open
# stream ends whole; admission per stream (503 on a stream, the connection
# goes on); the idle and header_wait timers close with GOAWAY.
. "${HQ_TESTS:-$(cd "$(dirname "$0")/.." && pwd)}/integration/lib.sh"

command -v openssl >/dev/null 2>&1 || bail_out "no openssl CLI (apt-get install openssl)"
command -v nghttp >/dev/null 2>&1 || bail_out "no nghttp (apt-get install nghttp2-client)"
curl --version | grep -q HTTP2 || bail_out "curl without HTTP/2 (apt-get install curl)"

hq_mktemp
C=$HQ_MKTEMP
tls_ca "$C" && tls_cert "$C" localhost "DNS:localhost,IP:127.0.0.1" ||
	bail_out "openssl could not make the test certificates"
P3=$(freeport)   # TLS, http2: false
P4=$(freeport)   # h2c, the stream test module
QC="$HQ_TESTS/integration/qclient.py"

CONFIG="
server: { workers: 2 }
iplisten: [127.0.0.1]
http2: { cleartext: true }
url_groups:
  - name: g
    prefixes: [\"http://+:@PORT@/\", \"https://+:@PORT2@/\", \"https://+:$P3/\"]
    queue: q
    access_log: { path: @DIR@/access.log, fields: [cs-method, cs-uri-stem, sc-status, cs-version] }
  - { name: s, prefixes: [\"http://+:$P4/\"], queue: st }
  - { name: c, prefixes: [\"http://+:$P4/c/\"], queue: counter }
  - { name: app, prefixes: [\"http://+:@PORT@/app/\"], queue: app }
queues:
  - { name: q, module: sample, length: 1000 }
  - { name: st, module: \"@TESTMODDIR@/stream.so\" }
  - { name: counter, module: \"@TESTMODDIR@/counter.so\" }
  - { name: app, attach: { user: root } }
sslcerts:
  - { ipport: \"0.0.0.0:@PORT2@\", certfile: $C/localhost.crt, keyfile: $C/localhost.key }
  - { ipport: \"0.0.0.0:$P3\", certfile: $C/localhost.crt, keyfile: $C/localhost.key, http2: false }
"
start_httpqd "$CONFIG" || bail_out "httpqd did not start"
T=$HQ_DIR
chmod 755 "$T"
S="https://localhost:$HQ_PORT2"
printf 'Hey! You hit the server \r\n' >"$T/hey.expected"

tcurl() { hq_curl --cacert "$C/ca.crt" --resolve "localhost:$HQ_PORT2:127.0.0.1" \
    --resolve "localhost:$P3:127.0.0.1" "$@"; }

# --- negotiation ---------------------------------------------------------
tcurl --http2 -D "$T/tls.h" -o "$T/tls.b" "$S/"
ok $? "curl --http2 over TLS completes"
like "$(head -n1 "$T/tls.h")" '^HTTP/2 200' "TLS: ALPN h2, HTTP/2 200"
file_is "$T/tls.b" "$T/hey.expected" "TLS h2: the sample module's body"
like "$(cat "$T/tls.h")" '^date: ' "h2: a date field"
like "$(cat "$T/tls.h")" '^server: httpq' "h2: a server field"
out=$(openssl s_client -connect "127.0.0.1:$HQ_PORT2" -alpn h2,http/1.1 </dev/null 2>&1)
like "$out" '^ALPN protocol: h2' "ALPN: h2 chosen when offered"
is "$(tcurl --http1.1 -o /dev/null -w '%{http_version}' "$S/")" 1.1 \
    "ALPN fallback: a client offering only http/1.1 gets HTTP/1.1"
is "$(hq_curl --http2-prior-knowledge -o "$T/pk.b" -w '%{http_version} %{http_code}' "$(url /)")" \
    "2 200" "h2c with prior knowledge on the http:// listener"
file_is "$T/pk.b" "$T/hey.expected" "h2c: the sample module's body"
is "$(hq_curl -o /dev/null -w '%{http_version} %{http_code}' "$(url /)")" "1.1 200" \
    "with cleartext on, HTTP/1.1 is still served on the same port"
out=$(openssl s_client -connect "127.0.0.1:$P3" -alpn h2,http/1.1 </dev/null 2>&1)
unlike "$out" '^ALPN protocol: h2' "sslcerts[].http2: false: no h2 in ALPN"
is "$(tcurl --http2 -o /dev/null -w '%{http_version} %{http_code}' "https://localhost:$P3/")" \
    "1.1 200" "http2: false: curl --http2 gets HTTP/1.1"

# --- the sample module over h2 ------------------------------------------------
is "$(tcurl --http2 --data-binary 'hello, h2' "$S/")" "hello, h2" "h2 POST: small body echoed"
tcurl --http2 -I -o "$T/head.h" "$S/"
like "$(head -n1 "$T/head.h")" '^HTTP/2 200' "h2 HEAD -> 200"
head -c 5242880 /dev/urandom >"$T/big.in"
tcurl --http2 -o "$T/big.out" --data-binary @"$T/big.in" "$S/"
ok $? "h2 5 MB POST over TLS completes"
file_is "$T/big.out" "$T/big.in" "h2 5 MB POST over TLS echoed byte for byte"
hq_curl --http2-prior-knowledge -o "$T/big2.out" --data-binary @"$T/big.in" "$(url /)"
file_is "$T/big2.out" "$T/big.in" "h2c 5 MB POST echoed byte for byte"
nghttp -n -d "$T/big.in" -w 14 "http://127.0.0.1:$HQ_PORT/" >/dev/null 2>&1
ok $? "nghttp with a 16 KiB stream window: the 5 MB echo completes"

# --- many concurrent streams -----------------------------------------------------
n=$(nghttp -n -s -m 300 "http://127.0.0.1:$HQ_PORT/" 2>&1 | grep -c ' 200 ')
is "$n" 300 "nghttp: 300 requests on one connection, 300 answers 200"
n=$(nghttp -n -s -m 100 "$S/" 2>&1 | grep -c ' 200 ')
is "$n" 100 "nghttp over TLS: 100 concurrent streams, 100 answers 200"

# --- trailers, post(), send_file, a module that does not answer ------------------------
out=$(nghttp "http://127.0.0.1:$P4/chunks" -v 2>&1)
like "$out" 'chunk 3' "h2: a body sent in chunks from defer()"
like "$out" 'recv \(stream_id=[0-9]+\) x-checksum: abc123' "h2: response trailers (send_trailers)"
printf 'abcdef' >"$T/t.in"
out=$(nghttp --trailer='x-sum: 42' --trailer='x-other: yes' -d "$T/t.in" \
    "http://127.0.0.1:$P4/trailers" 2>&1)
like "$out" '^bytes=6$' "h2: the request body with trailers"
like "$out" '^before_end=0$' "h2: no trailer before the body ends"
like "$out" '^\[x-other\]=\[yes\]$' "h2: request trailers (trailer_at)"
like "$out" '^x-sum=42$' "h2: request trailer by name"
out=$(nghttp "http://127.0.0.1:$P4/info" 2>&1)
like "$out" '^version=20$' "h2: version() == 20"
like "$out" '^method=GET$' "h2: method() from :method"
like "$out" "^cooked=http://127.0.0.1:$P4/info\$" "h2: cooked_url from :authority"
is "$(nghttp "http://127.0.0.1:$P4/thread" 2>&1)" "from a thread" "h2: post() from a thread"
is "$(nghttp "http://127.0.0.1:$P4/file" 2>&1)" "file contents" "h2: send_file"
like "$(nghttp -v "http://127.0.0.1:$P4/nothing" 2>&1)" ':status: 500' \
    "h2: finish() without a response -> 500 on the stream"
like "$(nghttp -v "http://127.0.0.1:$P4/short" 2>&1)" 'RST_STREAM' \
    "h2: a body shorter than its Content-Length resets the stream"
is "$(nghttp "http://127.0.0.1:$P4/info" 2>&1 | grep -c '^method=GET')" 1 \
    "the connection serves again after those"

# --- the response cache over h2 --------------------------------------------------------
hdr() { tr -d '\r' <"$1" | sed -n "s/^$2: //Ip" | head -n1; }
C4="http://127.0.0.1:$P4/c"
hq_curl --http2-prior-knowledge -D "$T/c1.h" -o "$T/c1.b" "$C4/a"
is "$(hdr "$T/c1.h" X-Call)" 1 "cache: h2 GET /c/a calls the module"
hq_curl --http2-prior-knowledge -D "$T/c2.h" -o "$T/c2.b" "$C4/a"
is "$(hdr "$T/c2.h" X-Call)" 1 "cache: the second h2 GET is answered from the entry"
like "$(hdr "$T/c2.h" age)" '^[0-9]+$' "... with an age field"
is "$(cat "$T/c2.b")" "call=1 path=/c/a" "... and the body"
hq_curl -D "$T/c3.h" -o /dev/null "$C4/a"
is "$(hdr "$T/c3.h" X-Call)" 1 "cache: an HTTP/1.1 GET gets the entry an h2 response made"
hq_curl -o /dev/null "$C4/b"
hq_curl --http2-prior-knowledge -D "$T/c4.h" -o /dev/null "$C4/b"
is "$(hdr "$T/c4.h" X-Call)" 2 "cache: an h2 GET gets the entry an HTTP/1.1 response made"

# --- an attached process answers an h2 request ------------------------------------
"$HQ_PYTHON" -S "$QC" "$HQ_QSOCK" app serve >"$T/qc.out" 2>&1 &
qc=$!
bg_started $qc
_end=$(($(date +%s) + 10))
until grep -q '^ready' "$T/qc.out" 2>/dev/null || [ "$(date +%s)" -gt "$_end" ]; do
	sleep 0.05
done
is "$(hq_curl --http2-prior-knowledge "$(url /app/x?y=1)")" "hello /app/x?y=1 from $qc" \
    "an attached process answers an h2 request"
kill "$qc" 2>/dev/null
# contrib/httpq-echo-client (libhttpq) echoes a body as it streams in: the
# daemon returns its send credit through pending() and on_writable().
ECHO="$HQ_BUILDDIR/contrib/httpq-echo-client"
"$ECHO" -s "$HQ_QSOCK" -o app >"$T/echo.out" 2>&1 &
ec=$!
bg_started $ec
_end=$(($(date +%s) + 10))
until grep -Eq '^ready|httpq-echo-client:' "$T/echo.out" 2>/dev/null || [ "$(date +%s)" -gt "$_end" ]; do
	sleep 0.05
done
hq_curl --http2-prior-knowledge -o "$T/echo.b" --data-binary @"$T/big.in" "$(url /app/e)"
file_is "$T/echo.b" "$T/big.in" "httpq-echo-client streams a 5 MB h2 POST back (on_writable)"
kill "$ec" 2>/dev/null

# --- a client held on an h2 connection: servicestate, then a drain ------------------
H2PY=$HQ_PYTHON
"$H2PY" -c 'import h2' 2>/dev/null || H2PY=/usr/bin/python3
"$H2PY" -c 'import h2' 2>/dev/null || bail_out "no python3-h2 (apt-get install python3-h2)"
cat >"$T/h2hold.py" <<'PY'
# h2c: POST half a body to the echo, and a PING; at its ACK the daemon has
# the stream: print "started" and wait until the file HOLD is not empty.
# Then wait for GOAWAY (print "goaway CODE LAST"), send the rest and print
# "complete LENGTH" when the echo ends (or "cut").
import socket, sys, time
import h2.connection, h2.config, h2.events
port, hold = int(sys.argv[1]), sys.argv[2]
half = b"y" * 100000
s = socket.create_connection(("127.0.0.1", port))
s.settimeout(20)
c = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
c.initiate_connection()
c.send_headers(1, [(":method", "POST"), (":path", "/"), (":scheme", "http"),
    (":authority", "127.0.0.1:%d" % port), ("content-length", str(2 * len(half)))])
def pump(until):
    while not until():
        d = s.recv(65536)
        if not d:
            return False
        for e in c.receive_data(d):
            if isinstance(e, h2.events.PingAckReceived):
                st["ack"] = True
            elif isinstance(e, h2.events.ConnectionTerminated):
                st["goaway"] = (int(e.error_code), e.last_stream_id)
                print("goaway", int(e.error_code), e.last_stream_id, flush=True)
                # python3-h2 would send nothing more; RFC 9113 6.8 lets
                # streams up to the last one finish.
                c.state_machine.state = h2.connection.ConnectionState.CLIENT_OPEN
            elif isinstance(e, h2.events.DataReceived):
                st["body"] += len(e.data)
                c.acknowledge_received_data(e.flow_controlled_length, e.stream_id)
            elif isinstance(e, h2.events.StreamEnded):
                st["done"] = True
        try:
            s.sendall(c.data_to_send())
        except OSError:
            if not st["done"]:   # after the last stream the daemon closes
                raise
    return True
def send(data, end):
    while data:
        n = min(len(data), c.local_flow_control_window(1), c.max_outbound_frame_size)
        if n == 0:
            pump(lambda: c.local_flow_control_window(1) > 0)
            continue
        c.send_data(1, data[:n], end_stream=end and n == len(data))
        data = data[n:]
        s.sendall(c.data_to_send())
st = {"ack": False, "goaway": None, "body": 0, "done": False}
s.sendall(c.data_to_send())
send(half, False)
c.ping(b"12345678")
s.sendall(c.data_to_send())
pump(lambda: st["ack"])
print("started", flush=True)
while open(hold).read() == "":
    time.sleep(0.02)
pump(lambda: st["goaway"] is not None)
send(half, True)
pump(lambda: st["done"])
print("complete" if st["done"] else "cut", st["body"], flush=True)
PY
: >"$T/hold"
"$H2PY" "$T/h2hold.py" "$HQ_PORT" "$T/hold" >"$T/hold.out" 2>&1 &
hp=$!
bg_started $hp
_end=$(($(date +%s) + 10))
until grep -q '^started' "$T/hold.out" || [ "$(date +%s)" -gt "$_end" ]; do sleep 0.05; done
CTL="${HTTPQCTL:-$HQ_TESTS/../src/httpqctl}"
like "$("$CTL" -s "$HQ_CTL" show servicestate 2>&1)" \
    'HTTP/2\.0 connections [1-9][0-9]* requests [1-9]' \
    "show servicestate: HTTP/2.0 connections and requests"
like "$("$CTL" -s "$HQ_CTL" --json show servicestate 2>&1)" \
    '"protocol":"HTTP/2\.0","connections":[1-9][0-9]*,"requests":[1-9]' \
    "show servicestate --json: \"protocol\":\"HTTP/2.0\""

# --- an h2 client that goes away with output queued ------------------------------------
cat >"$T/gone.py" <<'PY'
# TLS h2: a 5 MB POST to the echo, the answer never read, then close_notify
# and close while the daemon still has output queued.
import socket, ssl, sys, time
import h2.connection, h2.config
port, ca = int(sys.argv[1]), sys.argv[2]
ctx = ssl.create_default_context(cafile=ca)
ctx.set_alpn_protocols(["h2"])
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port)), server_hostname="localhost")
c = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
c.local_settings.initial_window_size = 2**31 - 1
c.initiate_connection()
c.increment_flow_control_window(2**30)
s.sendall(c.data_to_send())
body = b"x" * 5242880
c.send_headers(1, [(":method", "POST"), (":path", "/"), (":scheme", "https"),
    (":authority", "localhost"), ("content-length", str(len(body)))])
sent = 0
s.settimeout(5)
while sent < len(body):
    n = min(c.local_flow_control_window(1), c.max_outbound_frame_size, len(body) - sent)
    if n > 0:
        c.send_data(1, body[sent:sent + n], end_stream=sent + n == len(body))
        sent += n
        s.sendall(c.data_to_send())
        continue
    c.receive_data(s.recv(65536))
    s.sendall(c.data_to_send())
time.sleep(1.5)
s.settimeout(0.5)
try:
    s.unwrap()
except (OSError, ssl.SSLError):
    pass
s.close()
print("sent", sent)
PY
cpu() { awk '{ print $14 + $15 }' "/proc/$HQ_PID/stat"; }
is "$("$H2PY" "$T/gone.py" "$HQ_PORT2" "$C/ca.crt" 2>&1)" "sent 5242880" \
    "a TLS h2 client sends 5 MB and leaves without reading the echo"
sleep 1
t0=$(cpu)
sleep 2
num_between $(($(cpu) - t0)) 0 50 "... the daemon does not spin on the dead connection"
is "$(tcurl --http2 -o /dev/null -w '%{http_code}' "$S/")" 200 "... and serves"

# --- the preface in two parts ----------------------------------------------------------
cat >"$T/split.py" <<'PY'
# h2c whose preface comes in two writes: its first 18 bytes are a whole
# HTTP/1.1 head ("PRI * HTTP/2.0"), which must not be answered 505.
import socket, sys, time
import h2.connection, h2.config, h2.events
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.settimeout(10)
c = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
c.initiate_connection()
data = c.data_to_send()
s.sendall(data[:int(sys.argv[2])])
time.sleep(0.3)     # two TCP segments, two reads
s.sendall(data[int(sys.argv[2]):])
c.send_headers(1, [(":method", "GET"), (":path", "/"), (":scheme", "http"),
    (":authority", "127.0.0.1")], end_stream=True)
s.sendall(c.data_to_send())
status, body = b"", b""
while True:
    d = s.recv(65536)
    if not d:
        break
    try:
        evs = c.receive_data(d)
    except Exception:
        print("not h2:", d[:12])
        sys.exit(0)
    for e in evs:
        if isinstance(e, h2.events.ResponseReceived):
            status = dict(e.headers)[b":status"]
        elif isinstance(e, h2.events.DataReceived):
            body += e.data
        elif isinstance(e, h2.events.StreamEnded):
            print(status.decode(), body.decode().strip())
            sys.exit(0)
    s.sendall(c.data_to_send())
print("closed")
PY
for cut in 5 18 20; do
	is "$("$H2PY" "$T/split.py" "$HQ_PORT" $cut 2>&1)" "200 Hey! You hit the server" \
	    "h2c: the preface split after $cut bytes"
done

# --- the access log ------------------------------------------------------------------
# Log lines are buffered per worker: flush them.
"${HTTPQCTL:-$HQ_TESTS/../src/httpqctl}" -s "$HQ_CTL" flush logbuffer >/dev/null 2>&1
_end=$(($(date +%s) + 10))
until grep -q 'HTTP/2.0' "$T/access.log" 2>/dev/null || [ "$(date +%s)" -gt "$_end" ]; do
	sleep 0.1
done
like "$(cat "$T/access.log")" '^POST / 200 HTTP/2\.0$' "access log: cs-version HTTP/2.0 for h2"
like "$(cat "$T/access.log")" '^GET / 200 HTTP/1\.1$' "access log: HTTP/1.1 for the others"

# --- reload: cleartext off for new connections ------------------------------------------
log_mark
write_config "$T/httpq.yaml" "$(printf '%s\n' "$CONFIG" | sed 's/cleartext: true/cleartext: false/')"
reload_httpqd
like "$(wait_log 'generation 2')" . "reload with http2.cleartext: false"
printf 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n' | raw >"$T/pri"
is "$(resp_code "$T/pri")" 505 "cleartext off: the preface gets 505 again"
is "$(tcurl --http2 -o /dev/null -w '%{http_version}' "$S/")" 2 "TLS h2 still served after the reload"

# --- drain: SIGTERM with a stream in flight -----------------------------------------
# The held client's connection predates the reload: it is still h2c.  Half
# of its body comes after SIGTERM's GOAWAY; the echo ends whole.
kill -TERM "$HQ_PID"
echo go >"$T/hold"
wait "$hp"
like "$(cat "$T/hold.out")" '^goaway 0 1$' "SIGTERM: GOAWAY NO_ERROR with the last stream id"
like "$(cat "$T/hold.out")" '^complete 200000$' \
    "SIGTERM: the open stream (its body still coming) finishes whole"
# The SIGTERM is sent: no second one (stop_httpqd), which may come while
# the daemon is exiting.
hq_wait_gone "$HQ_PID" 10
wait "$HQ_PID"
is $? 0 "httpqd exited with status 0 after the drain"
unlike "$(grep -E 'Sanitizer|runtime error:' "$T/httpqd.log" | head -5)" '.' \
    "no sanitizer report in the daemon log"
HQ_PID=

# --- admission per stream, timers ----------------------------------------------------
CONFIG2="
server: { workers: 1 }
iplisten: [127.0.0.1]
http2: { cleartext: true }
timeouts: { idle_connection: 2, header_wait: 1 }
url_groups:
  - { name: s, prefixes: [\"http://+:@PORT@/\"], queue: st }
queues:
  - { name: st, module: \"@TESTMODDIR@/stream.so\", length: 2 }
"
start_httpqd "$CONFIG2" || bail_out "httpqd did not start (2)"
T=$HQ_DIR
out=$(nghttp -n -s -m 6 "$(url /chunks)" 2>&1)
is "$(printf '%s\n' "$out" | grep -c ' 200 ')" 2 \
    "queue length 2: two of six streams answered 200 ..."
is "$(printf '%s\n' "$out" | grep -c ' 503 ')" 4 \
    "... the four others 503 on their own streams of the same connection"
cat >"$T/stall.py" <<'PY'
# h2c preface and SETTINGS, then (head) a HEADERS frame without END_HEADERS;
# prints the seconds until the daemon closes and whether a GOAWAY came.
import socket, sys, time
port, mode = int(sys.argv[1]), sys.argv[2]
s = socket.create_connection(("127.0.0.1", port))
s.settimeout(20)
msg = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + b"\0\0\0\x04\0\0\0\0\0"
if mode == "head":
    msg += b"\0\0\x03\x01\0\0\0\0\x01" + b"\x82\x84\x86"
s.sendall(msg)
t, data = time.time(), b""
while True:
    d = s.recv(65536)
    if not d:
        break
    data += d
print("%.1f %s" % (time.time() - t, b"\0\0\x08\x07\0\0\0\0\0" in data))
PY
set -- $("$H2PY" "$T/stall.py" "$HQ_PORT" idle)
num_between "$1" 1.5 6 "idle_connection (2 s) closes an h2 connection without streams"
is "$2" True "... with GOAWAY"
log_mark
set -- $("$H2PY" "$T/stall.py" "$HQ_PORT" head)
num_between "$1" 0.5 5 "header_wait (1 s) closes a connection whose HEADERS never end"
is "$2" True "... with GOAWAY"
like "$(wait_log 'Timer_HeaderWait')" . "... logged Timer_HeaderWait"

stop_httpqd
done_testing
