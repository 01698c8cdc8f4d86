#!/bin/sh
# 21-unread-pipelining.t -- a client that pipelines requests and never reads
# must not make the daemon buffer every answer: httpqd stops reading and
# parsing a connection while its unsent output is above a bound (as nginx
# and h2o do), so TCP holds the client back.  Once the client reads, every
# answer arrives, in order.  (Before: 40 MiB of pipelined GETs gave 229 MB
# of RSS.)
. "${HQ_TESTS:-$(cd "$(dirname "$0")/.." && pwd)}/integration/lib.sh"

CONFIG='
server: { workers: 1 }
iplisten: [127.0.0.1]
url_groups:
  - { name: all, prefixes: ["http://+:@PORT@/"], queue: q }
  - { name: trickle, prefixes: ["http://+:@PORT@/trickle/"], queue: q,
      timeouts: { min_send_rate: 5000 } }
queues:
  - { name: q, module: sample }
'
start_httpqd "$CONFIG" || bail_out "httpqd did not start"
T=$HQ_DIR

# The client: a small receive buffer, GETs with a numbered POST (echoed by
# the sample module) every 500 requests, sent until 16 MiB went out or the
# socket stayed full for 2 s; then the daemon's peak RSS over 1 s; then it
# reads everything (and sends a last request with Connection: close).
cat >"$T/client.py" <<'PY'
import os, re, select, socket, sys, time

port, pid = int(sys.argv[1]), sys.argv[2]
LIMIT, PER_CHUNK, POST_EVERY = 16 << 20, 1000, 500

def rss_kb():
    with open("/proc/%s/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1

get = b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"
def chunk(k):
    parts = []
    for i in range(PER_CHUNK):
        n = k * PER_CHUNK + i
        if n % POST_EVERY == 0:
            parts.append(b"POST /seq HTTP/1.1\r\nHost: localhost\r\n"
                         b"Content-Length: 8\r\n\r\n%08d" % n)
        else:
            parts.append(get)
    return b"".join(parts)

base = rss_kb()
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect(("127.0.0.1", port))
s.setblocking(False)
sent, chunks, buf, peak, stalled = 0, 0, b"", base, 0
deadline = time.time() + 60
while sent < LIMIT and time.time() < deadline:
    if not buf:
        buf = chunk(chunks)
        chunks += 1
    _, w, _ = select.select([], [s], [], 2.0)
    if not w:
        stalled = 1  # the socket stayed full: the daemon stopped reading
        break
    try:
        n = s.send(buf)
    except BlockingIOError:
        continue
    sent += n
    buf = buf[n:]
    peak = max(peak, rss_kb())
end = time.time() + 1.0
while time.time() < end:
    peak = max(peak, rss_kb())
    time.sleep(0.05)
print("sent=%d requests=%d stalled=%d rss_base=%d rss_peak=%d" %
      (sent, chunks * PER_CHUNK, stalled, base, peak))
sys.stdout.flush()

# Now read, finishing the last chunk and asking to close at the end.
buf += b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
data = bytearray()
deadline = time.time() + 120
while time.time() < deadline:
    r, w, _ = select.select([s], [s] if buf else [], [], 5.0)
    if w:
        try:
            n = s.send(buf)
            buf = buf[n:]
        except BlockingIOError:
            pass
    if r:
        d = s.recv(1 << 20)
        if not d:
            break
        data += d
    if not r and not w:
        break

want = chunks * PER_CHUNK + 1
count, bad, order, pos, getbody = 0, 0, 0, 0, None
clre = re.compile(rb"\r\ncontent-length: *(\d+)", re.I)
while pos < len(data):
    h = data.find(b"\r\n\r\n", pos)
    if h < 0:
        break
    head = bytes(data[pos:h])
    m = clre.search(head)
    if not m:
        bad += 1
        break
    body = bytes(data[h + 4:h + 4 + int(m.group(1))])
    if not head.startswith(b"HTTP/1.1 200 "):
        bad += 1
    if count < want - 1 and count % POST_EVERY == 0:
        if body != b"%08d" % count:
            order += 1
    elif getbody is None:
        getbody = body
    elif body != getbody:
        bad += 1
    count += 1
    pos = h + 4 + int(m.group(1))
print("responses=%d want=%d bad=%d misordered=%d trailing=%d" %
      (count, want, bad, order, len(data) - pos))
PY

"$HQ_PYTHON" -S "$T/client.py" "$HQ_PORT" "$HQ_PID" >"$T/out" 2>"$T/err"
ok $? "the client ran"
diag "$(cat "$T/out" "$T/err")"
line=$(sed -n 1p "$T/out")
val() { printf '%s\n' "$line" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
peak=$(val rss_peak)
num_between "$peak" 1 40960 "the daemon's RSS stayed under 40 MB while the client did not read (${peak} kB)"
# What the daemon does not read stays in the socket buffers, which the
# kernel grows only for an application that reads.
is "$(val stalled)" 1 "the client was held back: its sends stalled ($(val sent) bytes out)"
line=$(sed -n 2p "$T/out")
is "$(val responses)" "$(val want)" "once it reads, every pipelined request is answered"
is "$(val bad)" 0 "  each answer is a correct 200"
is "$(val misordered)" 0 "  in order (the numbered POSTs come back in sequence)"
is "$(val trailing)" 0 "  with no stray bytes after the last one"

# A client that pipelines, half-closes (FIN) once everything is sent, and
# reads at its own pace: every answer still comes, then the close (a FIN
# after pipelined requests is no abort; unsent answers are not dropped).
cat >"$T/halfclose.py" <<'PY'
import select, socket, sys, time

port, n = int(sys.argv[1]), int(sys.argv[2])
buf = b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n" * n
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect(("127.0.0.1", port))
s.setblocking(False)
data, shut, eof = bytearray(), False, False
deadline = time.time() + 60
while not eof and time.time() < deadline:
    r, w, _ = select.select([s], [s] if buf else [], [], 5.0)
    if not r and not w:
        break
    if w:
        try:
            k = s.send(buf[:65536])
            buf = buf[k:]
        except BlockingIOError:
            pass
        if not buf and not shut:
            s.shutdown(socket.SHUT_WR)
            shut = True
    if r:
        try:
            d = s.recv(8192)
        except ConnectionResetError:
            print("reset")
            break
        if not d:
            eof = True
        data += d
        time.sleep(0.0002)
print("responses=%d eof=%d" % (data.count(b"HTTP/1.1 200 "), eof))
PY
"$HQ_PYTHON" -S "$T/halfclose.py" "$HQ_PORT" 200000 >"$T/hc" 2>&1
line=$(cat "$T/hc")
is "$(val responses)" 200000 "pipelined, then FIN, reading slowly: all 200000 answers arrive"
is "$(val eof)" 1 "  then the daemon closes"

# A client that pipelines a few requests a millisecond and does not read:
# the socket fills while a few answers are pending, and the answers to the
# requests after it pile up unsent (up to 64 KiB).  The send timer must
# give them their own time at min_send_rate (5000 B/s here: 14 s for
# 64 KiB): it used to keep the 1 to 2 s of the few bytes pending when the
# socket filled, and cut the client off during its pause
# (Timer_MinBytesPerSecond; with its requests unread, a reset: seen under
# load in the first part of this test, at 150 B/s).
cat >"$T/trickle.py" <<'PY'
import select, socket, sys, time

port = int(sys.argv[1])
req = b"GET /trickle/ HTTP/1.1\r\nHost: localhost\r\n\r\n"
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect(("127.0.0.1", port))
s.setblocking(False)
n, buf, err = 0, b"", ""
end = time.time() + 3.0
try:
    # 16 requests a millisecond for 3 s (7 MB of answers, more than the
    # socket buffers hold), written as far as the daemon takes them
    while time.time() < end:
        buf += req * 16
        n += 16
        try:
            buf = buf[s.send(buf):]
        except BlockingIOError:
            pass
        time.sleep(0.001)
    time.sleep(2.0)  # reads nothing for 2 s more
    buf += b"GET /trickle/ HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    n += 1
    data = bytearray()
    deadline = time.time() + 60
    while time.time() < deadline:
        r, w, _ = select.select([s], [s] if buf else [], [], 10.0)
        if not r and not w:
            break
        if w:
            try:
                buf = buf[s.send(buf):]
            except BlockingIOError:
                pass
        if r:
            d = s.recv(1 << 20)
            if not d:
                break
            data += d
except OSError as e:
    err = type(e).__name__
print("sent=%d answers=%d err=%s" % (n, data.count(b"HTTP/1.1 200 ") if not err else 0, err or "none"))
PY
"$HQ_PYTHON" -S "$T/trickle.py" "$HQ_PORT" >"$T/tr" 2>&1
line=$(cat "$T/tr")
diag "$line"
is "$(val answers)" "$(val sent)" "pipelined 16 a millisecond, unread for 5 s: every request is answered"
is "$(val err)" none "  without a reset"
unlike "$(cat "$HQ_LOG")" 'Timer_MinBytesPerSecond' "  no Timer_MinBytesPerSecond on the way"

hq_alive "$HQ_PID"
ok $? "httpqd is still running"

done_testing
