#!/bin/sh
# C2-head-lines.t -- a response head is written in a few pieces, each line
# joined in a local buffer first (a keep-alive answer cost 16 segment
# updates, 5939 instructions a request in callgrind; now 5044).  The bytes
# must not change: a reason phrase and field lines longer than those
# buffers (and some just fitting) come out whole and in order, as do Date,
# Server, the framing, and Connection for HTTP/1.0 and for close.
. "${HQ_TESTS:-$(cd "$(dirname "$0")/.." && pwd)}/integration/lib.sh"

CONFIG="
server: { workers: 1 }
iplisten: [127.0.0.1]
url_groups:
  - { name: g, prefixes: [\"http://+:@PORT@/\"], queue: q }
queues:
  - { name: q, module: \"$HQ_TESTMODDIR/stream.so\" }
"
start_httpqd "$CONFIG" || bail_out "httpqd did not start"
T=$HQ_DIR

cat >"$T/client.py" <<'PY'
import re, socket, sys

port = int(sys.argv[1])

def filled(n):
    return "v" + "".join(str(i % 10) for i in range(1, n))

def ask(req):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(req.encode())
    buf = b""
    while b"\r\n\r\n" not in buf:
        d = s.recv(65536)
        if not d:
            break
        buf += d
    s.close()
    return buf.decode("latin-1")

def check(name, cond, why=""):
    print(("ok %s" % name) if cond else ("not %s: %s" % (name, why)), flush=True)

for q, rlen in (("", 119), ("?s", 81)):
    for ver, conn, want_conn in (("1.1", "", None), ("1.1", "Connection: close\r\n", "close"),
                                 ("1.0", "Connection: keep-alive\r\n", "keep-alive")):
        tag = "HTTP/%s%s reason of %d" % (ver, " close" if want_conn == "close" else "", rlen)
        out = ask("GET /longhead%s HTTP/%s\r\nHost: a\r\n%s\r\n" % (q, ver, conn))
        head, _, body = out.partition("\r\n\r\n")
        lines = head.split("\r\n")
        check(tag + ": status line", lines[0] == "HTTP/1.1 299 " + "R" * rlen, repr(lines[0][:40]))
        want = ["X-Fits: " + filled(250), "X-A: " + filled(249), "X-B: " + filled(251),
                "X-Long: " + filled(400)]
        check(tag + ": the module's fields, whole and in order", lines[1:5] == want,
              repr([l[:20] + "...%d" % len(l) for l in lines[1:5]]))
        check(tag + ": Date", re.match(r"^Date: \w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT$",
              lines[5] if len(lines) > 5 else "") is not None, repr(lines[5:6]))
        check(tag + ": Server", len(lines) > 6 and lines[6].startswith("Server: httpq/"),
              repr(lines[6:7]))
        tail = ["Content-Length: 2"] + (["Connection: " + want_conn] if want_conn else [])
        check(tag + ": framing and Connection end the head", lines[7:] == tail, repr(lines[7:]))
        check(tag + ": the body", body == "ok", repr(body))
PY

out=$("$HQ_PYTHON" -S "$T/client.py" "$HQ_PORT" 2>&1)
relay_checks "$out" 36
stop_httpqd
done_testing
