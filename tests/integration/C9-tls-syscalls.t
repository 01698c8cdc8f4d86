#!/bin/sh
# C9-tls-syscalls.t -- system calls of TLS connections (issue 11), and the
# buffered TLS writes that cut them.
#
# OpenSSL used to write each handshake flight, session ticket, record and
# alert with its own write(): a resumed TLS 1.3 connection answered with
# `Connection: close` took four (flight, ticket, response, close_notify),
# and a read() that could only say EAGAIN right after the flight.  The
# connection's BIO (tls_conn.c) now holds what OpenSSL writes until the
# end of the event-loop turn, and skips a read() after one emptied the
# socket until the next read event: two writes per connection.  strace,
# attached to the running httpqd, counts the calls over resumptions made
# one after the other (counts that do not depend on timing, within the
# bounds below).
#
# Then what the buffering must not break: the close_notify still ends
# every connection, pipelined requests on one TLS connection are answered
# in order, and a 1 MiB file reaches a client that reads it slowly through
# a small receive buffer (the socket fills up while the BIO holds bytes).
. "${HQ_TESTS:-$(cd "$(dirname "$0")/.." && pwd)}/integration/lib.sh"

command -v openssl >/dev/null 2>&1 || skip "no openssl CLI"
need_strace

hq_mktemp
C=$HQ_MKTEMP
mkdir -p "$C/www"
"$HQ_PYTHON" -S -c 'import sys; sys.stdout.buffer.write(bytes(range(251)) * 4178)' \
    >"$C/www/big.bin"
tls_ca "$C" && tls_cert "$C" srv "DNS:localhost,IP:127.0.0.1" ||
	bail_out "openssl could not make the test certificates"

CONFIG="
server: { workers: 1 }
iplisten: [127.0.0.1]
url_groups:
  - { name: app, prefixes: [\"https://+:@PORT@/\"], queue: q }
  - { name: files, prefixes: [\"https://+:@PORT@/files/\"], queue: st }
queues:
  - { name: q, module: hello }
  - { name: st, module: static, options: { root: $C/www } }
sslcerts:
  - { ipport: \"0.0.0.0:@PORT@\", certfile: $C/srv.crt, keyfile: $C/srv.key }
"
start_httpqd "$CONFIG" || bail_out "httpqd did not start"
T=$HQ_DIR

# calls NAME FILE: NAME() calls on sockets (not log files or eventfds) in FILE.
calls() { grep -c "^[0-9]* *$1([0-9]*<\(socket\|TCP\)" "$2"; }

cat >"$T/client.py" <<'PY'
import socket, ssl, sys, time
port, mode = int(sys.argv[1]), sys.argv[2]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
ctx.set_alpn_protocols(["http/1.1"])

def connect(sess=None, rcvbuf=0):
    raw = socket.socket()
    if rcvbuf:
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    raw.settimeout(20)
    raw.connect(("127.0.0.1", port))
    # ragged EOFs raise: a connection must end with a close_notify
    return ctx.wrap_socket(raw, server_hostname="localhost", session=sess,
                           suppress_ragged_eofs=False)

def read_all(s, chunk=65536, pause=0):
    data = b""
    while True:
        try:
            b = s.recv(chunk)
        except ssl.SSLEOFError:
            return data, False
        if not b:
            return data, True
        data += b
        if pause:
            time.sleep(pause)

def resumed_get(sess):
    """One Connection: close GET on a new connection offering sess, the
    client's Finished and the request sent together (one segment, as
    wrk and browsers do), so that the server's count does not depend on
    timing.  Returns (answer, ended by a close_notify, resumed, session)."""
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(inc, out, server_hostname="localhost", session=sess)
    s = socket.create_connection(("127.0.0.1", port), timeout=20)
    while True:
        try:
            obj.do_handshake()
            break
        except ssl.SSLWantReadError:
            if out.pending:
                s.sendall(out.read())
            d = s.recv(65536)
            if not d:
                raise OSError("EOF during the handshake")
            inc.write(d)
    # The server has sent its flight and waits: a read() it makes now
    # finds nothing (before, OpenSSL made one at once: EAGAIN).
    time.sleep(0.05)
    obj.write(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    s.sendall(out.read())
    data, notify = b"", None
    while notify is None:
        try:
            b = obj.read(65536)
            if not b:
                notify = True   # SSL_ERROR_ZERO_RETURN: a close_notify
            data += b
        except ssl.SSLWantReadError:
            d = s.recv(65536)
            if d:
                inc.write(d)
            else:
                inc.write_eof()
        except ssl.SSLEOFError:
            notify = False      # TCP closed without a close_notify
    s.close()
    return data, notify, obj.session_reused, obj.session

hello = b"HTTP/1.1 200 ", b"Hello, world\n"
if mode == "resume":
    # N connections, each resuming the previous one's session
    n = int(sys.argv[3])
    sess, good, resumed, clean = None, 0, 0, 0
    for i in range(n):
        data, notify, reused, sess = resumed_get(sess)
        good += data.startswith(hello[0]) and data.endswith(hello[1])
        resumed += reused
        clean += notify
    print(good, resumed, clean)
elif mode == "pipeline":
    s = connect()
    s.sendall(b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n" * 4 +
              b"GET /files/big.bin HTTP/1.1\r\nHost: x\r\n\r\n" +
              b"GET /b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    data, notify = read_all(s)
    print(data.count(b"HTTP/1.1 200 "), data.count(hello[1]),
          len(data) > 1048576 and data.endswith(hello[1]), notify)
elif mode == "slow":
    want = open(sys.argv[3], "rb").read()
    s = connect(rcvbuf=4096)
    s.sendall(b"GET /files/big.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    data, notify = read_all(s, chunk=4096, pause=0.0005)
    head, _, body = data.partition(b"\r\n\r\n")
    print(head.startswith(b"HTTP/1.1 200 ") and body == want, notify)
PY

N=30
trace_start "$T/resume.trace" -y -e trace=read,write,writev,close
set -- $("$HQ_PYTHON" -S "$T/client.py" "$HQ_PORT" resume $N)
trace_stop
is "$1" $N "$N Connection: close requests over TLS, one connection each, are answered"
is "$2" $((N - 1)) "every connection after the first resumes the previous session"
is "$3" $N "every connection ends with a close_notify"
w=$(($(calls write "$T/resume.trace") + $(calls writev "$T/resume.trace")))
r=$(calls read "$T/resume.trace")
# read()s that said EAGAIN right after a write() on the same connection
e=$(awk '$2 ~ /^(read|write|writev|close)\([0-9]+<(socket|TCP)/ {
	fd = $2; sub(/^[a-z]+\(/, "", fd); sub(/<.*/, "", fd)
	call = $2; sub(/\(.*/, "", call)
	if (call == "read" && / EAGAIN / && last[fd] == "write") n++
	last[fd] = call == "writev" ? "write" : call
    } END { print n + 0 }' "$T/resume.trace")
diag "for $N TLS connections: $w write()/writev(), $r read(), $e read() = EAGAIN just after a write()"
num_between "$w" $((N * 2)) $((N * 5 / 2)) \
    "at most 2.5 write()s per resumed TLS connection (was 4: flight, ticket, response, close_notify)"
num_between "$e" 0 $((N / 5)) \
    "no read() that can only say EAGAIN after the server flight (was one per connection)"

set -- $("$HQ_PYTHON" -S "$T/client.py" "$HQ_PORT" pipeline)
is "$1 $2" "6 5" "six pipelined requests on one TLS connection: six answers"
is "$3" True "... the 1 MiB file among them whole, the last answer after it"
is "$4" True "... then a close_notify"

set -- $("$HQ_PYTHON" -S "$T/client.py" "$HQ_PORT" slow "$C/www/big.bin")
is "$1" True "a 1 MiB file over TLS to a client reading slowly through a 4 KiB buffer: whole"
is "$2" True "... then a close_notify"

hq_alive "$HQ_PID"
ok $? "httpqd runs on"
done_testing
