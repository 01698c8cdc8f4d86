#!/bin/sh
# C8-lingering-close.t -- a close with the client's bytes unread is a
# lingering close (RFC 9112 9.6; nginx lingering_close): the answer goes
# out, then a FIN (shutdown), and the daemon reads and discards what the
# client still sends until it closes or goes quiet.  Before, close() with
# unread input made Linux send a RST, and the client lost the answer it
# had not read yet ("Connection reset by peer" instead of the 413).
. "${HQ_TESTS:-$(cd "$(dirname "$0")/.." && pwd)}/integration/lib.sh"

# TLS on the second port: the close_notify, then the same.
command -v openssl >/dev/null 2>&1 || skip "no openssl CLI"
hq_mktemp
C=$HQ_MKTEMP
tls_ca "$C" && tls_cert "$C" srv "DNS:localhost,IP:127.0.0.1" ||
	bail_out "openssl could not make the test certificates"

CONFIG="
server: { workers: 1 }
iplisten: [127.0.0.1]
url_groups:
  - { name: all, prefixes: [\"http://+:@PORT@/\"], queue: q }
  - { name: small, prefixes: [\"http://+:@PORT@/small/\", \"https://+:@PORT2@/small/\"],
      queue: q, max_body_bytes: 10 }
  - { name: hello, prefixes: [\"http://+:@PORT@/hello/\"], queue: h }
queues:
  - { name: q, module: sample }
  - { name: h, module: hello }
sslcerts:
  - { ipport: \"0.0.0.0:@PORT2@\", certfile: $C/srv.crt, keyfile: $C/srv.key }
"
start_httpqd "$CONFIG" || bail_out "httpqd did not start"
pyhelper waitport "$HQ_PORT2" "$HQ_PID" 10
ok $? "the TLS port $HQ_PORT2 accepts connections"
T=$HQ_DIR

# client.py PORT CASE N TLSPORT: N connections (tls413: 413 over TLS); each sends CASE's first bytes and
# 2 MiB more (the rest of a body, or more pipelined requests) while the
# answer comes, then reads to the end.  Prints ok=<whole answer, all sent,
# ended by a FIN> reset=<connections reset> and the first bad outcome.
cat >"$T/client.py" <<'PY'
import socket, ssl, sys, time

port, case, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
ctx = None
if case == "tls413":
    port, case = int(sys.argv[4]), "413"
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
get = b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"
if case == "413":
    first = (b"POST /small/ HTTP/1.1\r\nHost: localhost\r\n"
             b"Content-Length: 10000000\r\n\r\n" + b"x" * 4096)
    more, want = b"x" * 8192, b"HTTP/1.1 413 "
elif case == "pipeline":
    first = (b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
             + get * 200)
    more, want = get * 100, b"HTTP/1.1 200 "
elif case == "unread":
    first = (b"POST /hello/ HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
             b"Content-Length: 10000000\r\n\r\n" + b"x" * 4096)
    more, want = b"x" * 8192, b"HTTP/1.1 200 "
elif case == "bad":
    first = b"GET / HTTP/1.1\r\nHost: localhost\r\nBad Field\r\n\r\n" + get * 200
    more, want = get * 100, b"HTTP/1.1 400 "
ok, reset, bad = 0, 0, ""
for i in range(n):
    s = socket.create_connection(("127.0.0.1", port))
    if ctx is not None:
        s = ctx.wrap_socket(s)
    s.settimeout(10)
    data, err = b"", None
    try:
        # all of it, as curl sends a body before it reads the answer
        s.sendall(first)
        for k in range(256):
            s.sendall(more)
    except OSError as e:
        err = "send:" + type(e).__name__
    try:
        while True:
            d = s.recv(65536)
            if not d:
                break
            data += d
    except OSError as e:
        err = type(e).__name__
    s.close()
    if err is None and data.startswith(want) and data.count(b"HTTP/1.1 ") == 1:
        ok += 1
    else:
        if err is not None:
            reset += 1
        if err is None:
            err = "none"
        if not bad:
            bad = "%s:%r" % (err, data[:20])
print("ok=%d reset=%d first_bad=%s" % (ok, reset, bad.replace(" ", "_") or "none"))
PY

val() { printf '%s\n' "$line" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
for c in 413 pipeline unread bad tls413; do
	line=$("$HQ_PYTHON" -S "$T/client.py" "$HQ_PORT" $c 20 "$HQ_PORT2" 2>&1)
	diag "$c: $line"
	is "$(val ok)" 20 "$c: 20 of 20 answers read whole, then a clean FIN ($line)"
done

# A lingering connection ends when the client goes quiet: the daemon
# closes its socket (the server end's entry in /proc/net/tcp loses its
# inode) about 5 s (lingering timeout) after the client's last byte,
# though the client never closes.  Bytes sent after the FIN are still
# taken without a reset.  A client that sends forever is cut at the cap
# (30 s).
cat >"$T/quiet.py" <<'PY'
import socket, sys, time
port, forever = int(sys.argv[1]), sys.argv[2] == "forever"

def held(cport):
    """Whether a process holds the server end of the connection."""
    for line in open("/proc/net/tcp").readlines()[1:]:
        f = line.split()
        if (int(f[1].split(":")[1], 16) == port and
                int(f[2].split(":")[1], 16) == cport):
            return f[9] != "0"
    return False

s = socket.create_connection(("127.0.0.1", port))
cport = s.getsockname()[1]
s.sendall(b"POST /small/ HTTP/1.1\r\nHost: localhost\r\n"
          b"Content-Length: 10000000\r\n\r\n" + b"x" * 4096)
s.settimeout(20)
data, err = b"", "none"
try:
    while True:
        d = s.recv(65536)
        if not d:
            break
        data += d
    s.sendall(b"y" * 100000)  # after the FIN: read and discarded
except OSError as e:
    err = type(e).__name__
t0 = time.time()
was = held(cport)
while held(cport) and time.time() < t0 + 45:
    if forever:
        try:
            s.send(b"z" * 1024)
        except OSError:
            pass
    time.sleep(0.1)
print("status=%s err=%s held=%d secs=%d" % (data[9:12].decode() or "none", err,
      was, time.time() - t0))
PY
"$HQ_PYTHON" -S "$T/quiet.py" "$HQ_PORT" forever >"$T/forever" 2>&1 &
fpid=$!
line=$("$HQ_PYTHON" -S "$T/quiet.py" "$HQ_PORT" quiet 2>&1)
diag "quiet: $line"
is "$(val status)" 413 "a client that goes quiet gets its 413"
is "$(val err)" none "  and a FIN; what it sends after the FIN is taken, no reset"
is "$(val held)" 1 "  the daemon holds the socket while it lingers"
num_between "$(val secs)" 3 12 "  and closes it about 5 s after the client's last byte"
wait "$fpid"
line=$(cat "$T/forever")
diag "forever: $line"
is "$(val held)" 1 "a client that sends forever after its 413 is read from"
num_between "$(val secs)" 25 40 "  and cut at the 30 s cap"

hq_alive "$HQ_PID"
ok $? "httpqd is still running"
stop_httpqd
done_testing
