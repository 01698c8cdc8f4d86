#!/bin/sh
# C5-cache-shared-body.t -- a cache hit sends the entry's stored head in one
# copy and a large body from the entry itself (a reference the output
# holds until it is written), not a copy per connection.  Checked here:
# the bytes of a hit are those of the miss that filled the entry (with
# Age, its own Date, and Connection as the request asks), for a small
# (copied) and a large (referenced) body, GET, HEAD, 304, HTTP/1.0 and
# pipelined mixes; slow readers of a 6 MB entry (more than the kernel's
# send buffer takes) do not hold a copy each (before: a 6 MB copy in each
# connection's output buffer); and an
# entry flushed while slow clients still read it is freed only after them
# (they get the old bytes whole; ASan builds would report a
# use-after-free, plain builds read the bytes of the entry that replaced
# it).
. "${HQ_TESTS:-$(cd "$(dirname "$0")/.." && pwd)}/integration/lib.sh"

: "${HTTPQCTL:=$HQ_TESTS/../src/httpqctl}"

CONFIG="
server: { workers: 2 }
cache: { max_response_bytes: 16777216 }
iplisten: [127.0.0.1]
url_groups:
  - { name: c, prefixes: [\"http://+:@PORT@/c/\"], queue: counter }
queues:
  - { name: counter, module: @TESTMODDIR@/counter.so }
"
start_httpqd "$CONFIG" || bail_out "httpqd did not start"
T=$HQ_DIR

# One line per check: "ok NAME" or "not NAME: why".
cat >"$T/client.py" <<'PY'
import json, re, socket, subprocess, sys, time

port, pid, ctl, sock = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
BIG = 200000

def check(name, cond, why=""):
    print(("ok %s" % name) if cond else ("not %s: %s" % (name, why)), flush=True)

def rss_kib():
    try:
        with open("/proc/%s/smaps_rollup" % pid) as f:
            for line in f:
                if line.startswith("Rss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    with open("/proc/%s/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])

def hits():
    out = subprocess.run([ctl, "-s", sock, "show", "servicestate", "--json"],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out)["cache"]["hits"]

def conn(rcvbuf=None):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.settimeout(30)
    s.connect(("127.0.0.1", port))
    return s

def req(path, method="GET", version="1.1", extra=""):
    return ("%s %s HTTP/%s\r\nHost: 127.0.0.1:%d\r\n%s\r\n" %
            (method, path, version, port, extra)).encode()

def responses(s, n, head_only=()):
    """n raw responses read from s (bodies per Content-Length, none for
    the indexes in head_only and for 304)."""
    buf, out = b"", []
    while len(out) < n:
        h = buf.find(b"\r\n\r\n")
        if h >= 0:
            head = buf[:h + 4]
            m = re.search(rb"\r\ncontent-length: *(\d+)", head, re.I)
            cl = int(m.group(1)) if m else 0
            if len(out) in head_only or head.startswith(b"HTTP/1.1 304"):
                cl = 0
            if len(buf) >= h + 4 + cl:
                out.append(buf[:h + 4 + cl])
                buf = buf[h + 4 + cl:]
                continue
        d = s.recv(1 << 20)
        if not d:
            break
        buf += d
    return out, buf

def one(path, extra="", **kw):
    s = conn()
    s.sendall(req(path, extra=extra + "Connection: close\r\n", **kw))
    r, _ = responses(s, 1, head_only=(0,) if kw.get("method") == "HEAD" else ())
    s.close()
    return r[0] if r else b""

def norm(r):
    """The response without Age, with the Date value and Connection
    dropped: what must equal the miss's bytes."""
    head, _, body = r.partition(b"\r\n\r\n")
    lines = [l for l in head.split(b"\r\n")
             if not l.lower().startswith((b"age:", b"connection:"))]
    lines = [b"Date: X" if l.lower().startswith(b"date:") else l for l in lines]
    return b"\r\n".join(lines) + b"\r\n\r\n" + body

def field(r, name):
    m = re.search(rb"\r\n" + name.encode() + rb": *([^\r]*)", r, re.I)
    return m.group(1).decode() if m else None

# --- a hit is the miss's bytes -----------------------------------------------
for tag, path in (("small body", "/c/small"), ("large body", "/c/big%d/x" % BIG)):
    miss = one(path)
    hit = one(path)
    check("%s: the miss is the module's" % tag, field(miss, "X-Call") is not None and
          field(miss, "Age") is None, repr(miss[:200]))
    check("%s: the hit has an Age" % tag, field(hit, "Age") is not None, repr(hit[:300]))
    check("%s: the hit's bytes are the miss's (but Age, Date)" % tag,
          norm(hit) == norm(miss), "%r\n%r" % (norm(hit)[:400], norm(miss)[:400]))
    order = [l.split(b":")[0] for l in hit.partition(b"\r\n\r\n")[0].split(b"\r\n")[1:]]
    check("%s: Age, Date, Server, Content-Length, Connection in that order" % tag,
          order[-5:] == [b"Age", b"Date", b"Server", b"Content-Length", b"Connection"],
          repr(order))
    head = one(path, method="HEAD")
    check("%s: HEAD from the entry: the GET's head, no body" % tag,
          norm(head) == norm(hit).partition(b"\r\n\r\n")[0] + b"\r\n\r\n", repr(head[:300]))
    etag = field(miss, "ETag")
    nm = one(path, extra='If-None-Match: %s\r\n' % etag)
    check("%s: 304 from the entry" % tag, nm.startswith(b"HTTP/1.1 304 ") and
          nm.endswith(b"\r\n\r\n") and field(nm, "ETag") == etag and
          field(nm, "Content-Length") is None, repr(nm))
    s = conn()
    s.sendall(req(path, version="1.0", extra="Connection: keep-alive\r\n"))
    r, _ = responses(s, 1)
    s.close()
    check("%s: HTTP/1.0 keep-alive hit" % tag, r and field(r[0], "Connection") ==
          "keep-alive" and r[0].partition(b"\r\n\r\n")[2] == miss.partition(b"\r\n\r\n")[2],
          repr(r[:1])[:300])

# Pipelined: small and large hits, a HEAD and a 304 in one send, read by
# a slow client (output queued in many segments, written with writev).
etag_big = field(one("/c/big%d/x" % BIG), "ETag")
batch = (req("/c/small") + req("/c/big%d/x" % BIG) + req("/c/small", method="HEAD") +
         req("/c/big%d/x" % BIG, extra="If-None-Match: %s\r\n" % etag_big) +
         req("/c/big%d/x" % BIG) + req("/c/small", extra="Connection: close\r\n"))
s = conn(rcvbuf=4096)
s.sendall(batch)
time.sleep(0.5)   # let the output queue up behind the small window
r, rest = responses(s, 6, head_only=(2,))
s.close()
small, big = norm(one("/c/small")), norm(one("/c/big%d/x" % BIG))
check("pipelined hits: six answers, in order, nothing after",
      len(r) == 6 and rest == b"" and norm(r[0]) == small and norm(r[1]) == big and
      norm(r[2]) == small.partition(b"\r\n\r\n")[0] + b"\r\n\r\n" and
      r[3].startswith(b"HTTP/1.1 304") and norm(r[4]) == big and norm(r[5]) == small and
      field(r[5], "Connection") == "close",
      "%d answers, rest %d bytes: %r" % (len(r), len(rest), [x[:40] for x in r]))

# --- hit counts: per worker, exact in show cachestate ---------------------------
# Each worker counts a hit in a slot picked by the entry's hash (8 of them)
# and moves the count to the entry when another entry takes the slot: 20
# URLs share the slots, on connections spread over both workers.
def cachestate():
    out = subprocess.run([ctl, "-s", sock, "show", "cachestate", "--json"],
                         capture_output=True, text=True, check=True).stdout
    return {e["url"].rsplit(":%d" % port, 1)[1]: e["hits"] for e in json.loads(out)["cached"]}

urls = ["/c/n%d" % i for i in range(20)]
for u in urls:
    one(u)
want = dict((u, 0) for u in urls)
conns = [conn() for _ in range(8)]
for k in range(300):
    s = conns[k % len(conns)]
    batch = [urls[(k * 7 + j * 3) % len(urls)] for j in range(1 + k % 3)]
    s.sendall(b"".join(req(u) for u in batch))
    r, _ = responses(s, len(batch))
    for u in batch:
        want[u] += 1
for s in conns:
    s.close()
got = cachestate()
check("show cachestate: every hit counted, per entry",
      all(got.get(u) == want[u] for u in urls),
      "%r != %r" % ([got.get(u) for u in urls], [want[u] for u in urls]))
# An entry flushed and kept again starts from 0, whatever the slots held.
subprocess.run([ctl, "-s", sock, "delete", "cache", "url=http://127.0.0.1:%d/c/n3" % port],
               check=True, capture_output=True)
one("/c/n3")
for _ in range(5):
    one("/c/n3")
    one("/c/n4")
got2 = cachestate()
check("a flushed entry kept again counts from 0; the others go on",
      got2.get("/c/n3") == 5 and got2.get("/c/n4") == want["/c/n4"] + 5,
      "n3 %r n4 %r (was %r)" % (got2.get("/c/n3"), got2.get("/c/n4"), want["/c/n4"]))

# --- slow readers share the entry ----------------------------------------------
# The body is larger than what the kernel takes into a loopback socket's
# send buffer (up to tcp_wmem's 4 MB): the rest waits in the daemon.
N, BIG = 6, 6000000
path = "/c/big%d/shared" % BIG
first = one(path)
for _ in range(10):   # both workers have their buffers
    one(path)
time.sleep(0.2)
before, h0 = rss_kib(), hits()
held = []
for i in range(N):
    s = conn(rcvbuf=4096)
    s.sendall(req(path))
    held.append(s)
deadline = time.time() + 30
while hits() < h0 + N and time.time() < deadline:
    time.sleep(0.1)
check("%d slow readers answered from the cache" % N, hits() >= h0 + N, "hits %d" % (hits() - h0))
time.sleep(0.3)
after = rss_kib()
per = (after - before) / float(N)
print("# RSS %d KiB -> %d KiB with %d slow readers of a %d-byte entry: %.1f KiB each" %
      (before, after, N, BIG, per), flush=True)
check("a slow reader holds no copy of the body (under %d KiB each)" % (BIG // 1024 // 4),
      per < BIG / 1024 / 4, "%.1f KiB each" % per)

# --- flushed while they read --------------------------------------------------
subprocess.run([ctl, "-s", sock, "delete", "cache"], check=True, capture_output=True)
again = one(path)   # a new entry, maybe where the old one was
check("after the flush: the module again", field(again, "X-Call") != field(first, "X-Call"),
      repr(again[:200]))
one(path)
good = 0
for s in held:
    r, _ = responses(s, 1)
    if r and r[0].partition(b"\r\n\r\n")[2] == first.partition(b"\r\n\r\n")[2]:
        good += 1
    s.close()
check("the slow readers get the flushed entry's bytes whole", good == N, "%d of %d" % (good, N))
PY

out=$("$HQ_PYTHON" -S "$T/client.py" "$HQ_PORT" "$HQ_PID" "$HTTPQCTL" "$HQ_CTL" 2>&1)
printf '%s\n' "$out" | grep '^#'
relay_checks "$out" 21
hq_alive "$HQ_PID" || fail "httpqd is still running"
stop_httpqd
done_testing
