#!/bin/sh
# B2-attach-hostile.t -- hostile or broken attached processes (issue 10):
# each violation of httpq-protocol(7) gets ERROR naming it and the
# connection closed; the HTTP client of a request the process held gets 503
# (nothing sent yet) or a closed connection (response started); stray
# descriptors are closed; frames split byte by byte and many frames in one
# write work; the daemon keeps serving another process throughout.
. "${HQ_TESTS:-$(cd "$(dirname "$0")/.." && pwd)}/integration/lib.sh"

CONFIG='
server: { workers: 2 }
iplisten: [127.0.0.1]
url_groups:
  - { name: app, prefixes: ["http://+:@PORT@/app/"], queue: app }
  - { name: good, prefixes: ["http://+:@PORT@/good/"], queue: good }
queues:
  - { name: app, attach: { user: root } }
  - { name: good, attach: { user: root } }
'
start_httpqd "$CONFIG" || bail_out "httpqd did not start"
T=$HQ_DIR

"$HQ_PYTHON" -S "$HQ_TESTS/integration/qclient.py" "$HQ_QSOCK" good serve \
    --credit 100 >"$T/good.out" 2>&1 &
bg_started $!
good=$!
_end=$(($(date +%s) + 10))
until grep -q ready "$T/good.out" || [ "$(date +%s)" -gt "$_end" ]; do sleep 0.05; done

fds0=$(ls "/proc/$HQ_PID/fd" | wc -l)

# a connection that never opens a queue: closed after 10 s (checked last)
"$HQ_PYTHON" -S -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); t = time.time()
d = s.recv(4096)
print("%.0f" % (time.time() - t), d[22:].decode(errors="replace"))' "$HQ_QSOCK" >"$T/idle.out" 2>&1 &
idle=$!
bg_started $idle

"$HQ_PYTHON" -S - "$HQ_TESTS/integration" "$HQ_QSOCK" "$HQ_PORT" >"$T/py.out" 2>&1 <<'PY'
import os, socket, struct, sys, threading, time
sys.path.insert(0, sys.argv[1])
import qclient as q
path, port = sys.argv[2], int(sys.argv[3])

def http(p, box):
    s = socket.create_connection(("127.0.0.1", port))
    s.settimeout(10)
    s.sendall(b"GET " + p.encode() + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    out = b""
    try:
        while True:
            d = s.recv(65536)
            if not d:
                break
            out += d
            if b"\r\n\r\n" in out and (b"503" in out.split(b"\r\n")[0]) and out.endswith(b"</HTML>\r\n"):
                break
    except (socket.timeout, ConnectionResetError):
        pass
    box.append(out)

def session(name, steps, need_request=True):
    """Opens app, takes one request (if asked), runs steps(conn, id), then
    reads the ERROR and whether the daemon closed.  Prints one line each."""
    c = q.Conn(path)
    c.s.settimeout(30)  # a wrong expectation fails, never hangs
    c.it = c.frames()
    c.hello()
    st, msg = c.call(q.OPEN_QUEUE, q.attr(q.A_QUEUE, "app") + q.u32(q.A_ROLE, 1), 1)
    box, t, fid = [], None, 0
    if need_request:
        c.send(q.frame(q.RECEIVE, q.u32(q.A_COUNT, 1)))
        t = threading.Thread(target=http, args=("/app/" + name, box))
        t.start()
        for f in c.it:
            if f and f[0] == q.REQUEST:
                fid = f[2]
                break
    steps(c, fid)
    err, closed = "", False
    for f in c.it:
        if f is None:
            closed = True
            break
        if f[0] == q.ERROR:
            err = dict(q.attrs(f[3])).get(q.A_MESSAGE, b"").decode()
    print(name, "error:", err)
    print(name, "closed:", closed)
    if t:
        t.join()
        line = box[0].split(b"\r\n")[0].decode() if box and box[0] else "(nothing)"
        print(name, "http:", line)
    sys.stdout.flush()

# a body before its RESPONSE: nothing sent yet -> 503
session("early", lambda c, i: c.send(q.frame(q.RESPONSE_BODY, b"x", 1, i)))
# the send window overrun after the head went out -> connection closed.
# One frame over the whole window: with a body in two frames, the credit
# for the first may come back before the daemon reads the second (a slow
# machine), and then the second is within the window.
session("overrun", lambda c, i: c.send(
    q.frame(q.RESPONSE, q.u32(q.A_STATUS, 200), 0, i) +
    q.frame(q.RESPONSE_BODY, b"a" * 300000, 0, i)))
# more body credit than body sent
session("credit", lambda c, i: c.send(q.frame(q.BODY_CREDIT, q.u32(q.A_BYTES, 5), 0, i)))
# a head field that would split the response
session("crlf", lambda c, i: c.send(q.frame(q.RESPONSE, q.u32(q.A_STATUS, 200) +
    q.attr(q.A_HEADER, "X-A:1\r\nSet-Cookie: evil=1"), 1, i)))
# RESPONSE_FILE without a descriptor
session("nofd", lambda c, i: c.send(q.frame(q.RESPONSE, q.u32(q.A_STATUS, 200), 0, i) +
    q.frame(q.RESPONSE_FILE, q.u64(q.A_OFFSET, 0) + q.u64(q.A_LENGTH64, 1), 1, i)))
# 17 descriptors ahead of their frames
def many_fds(c, i):
    fds = [os.open("/dev/null", os.O_RDONLY) for _ in range(17)]
    c.send(q.frame(q.RECEIVE, q.u32(q.A_COUNT, 1)), fds)
    for fd in fds:
        os.close(fd)
session("fds", many_fds, need_request=False)
# credit beyond 65535
session("credit65536", lambda c, i: c.send(q.frame(q.RECEIVE, q.u32(q.A_COUNT, 65535)) +
    q.frame(q.RECEIVE, q.u32(q.A_COUNT, 1))), need_request=False)
# a frame of the daemon's
session("direction", lambda c, i: c.send(q.frame(q.REQUEST, b"", 0, 1)), need_request=False)

# RECEIVE before OPEN_QUEUE
c = q.Conn(path); c.it = c.frames(); c.hello()
c.send(q.frame(q.RECEIVE, q.u32(q.A_COUNT, 1)))
f = next(c.it)
print("noopen error:", dict(q.attrs(f[3])).get(q.A_MESSAGE, b"").decode() if f else "eof")

# byte by byte, then many frames in one write: 20 requests answered at once
c = q.Conn(path); c.it = c.frames()
hello = q.frame(q.HELLO, q.u32(q.A_VERSION, 1))
for b in hello:
    c.s.send(bytes([b]))
    time.sleep(0.002)
f = next(c.it)
print("bytewise hello:", f[0] if f else "eof")
st, msg = c.call(q.OPEN_QUEUE, q.attr(q.A_QUEUE, "app") + q.u32(q.A_ROLE, 1), 1)
c.send(q.frame(q.RECEIVE, q.u32(q.A_COUNT, 20)))
boxes = [[] for _ in range(20)]
ts = [threading.Thread(target=http, args=("/app/b%d" % k, boxes[k])) for k in range(20)]
for t in ts:
    t.start()
ids = []
for f in c.it:
    if f and f[0] == q.REQUEST:
        ids.append(f[2])
        if len(ids) == 20:
            break
c.send(b"".join(q.frame(q.RESPONSE, q.u32(q.A_STATUS, 200) + q.attr(q.A_HEADER, "Content-Length:2"), 0, i) +
                q.frame(q.RESPONSE_BODY, b"ok", 1, i) for i in ids))
for t in ts:
    t.join()
print("batch ok:", sum(1 for b in boxes if b and b[0].startswith(b"HTTP/1.1 200") and b[0].endswith(b"ok")))
PY
out=$(cat "$T/py.out")

like "$out" '^early error: RESPONSE_BODY for request [0-9]+ before its RESPONSE$' \
    "RESPONSE_BODY before RESPONSE: ERROR naming it"
like "$out" '^early closed: True$' "  and the connection is closed"
like "$out" '^early http: HTTP/1.1 503 ' "  its HTTP client gets 503 (nothing was sent)"
like "$out" '^overrun error: RESPONSE_BODY for request [0-9]+: 300000 bytes over the send window \(262144 left\)$' \
    "send window overrun: ERROR with the numbers"
like "$out" '^overrun http: HTTP/1.1 200 ' "  the started response's connection is closed (no 503 after a 200)"
like "$out" '^credit error: BODY_CREDIT for request [0-9]+: 5 bytes, but 0 sent' \
    "BODY_CREDIT beyond what was sent: ERROR"
like "$out" '^crlf error: RESPONSE for request [0-9]+: HEADER 1 is not a valid' \
    "a header field with CR LF: ERROR, no response splitting"
like "$out" '^crlf http: HTTP/1.1 503 ' "  its client gets 503"
like "$out" '^nofd error: RESPONSE_FILE for request [0-9]+ came without a file descriptor' \
    "RESPONSE_FILE without SCM_RIGHTS: ERROR"
like "$out" '^fds error: more than 16 file descriptors' "17 descriptors ahead: ERROR"
like "$out" '^credit65536 error: RECEIVE: 65535 \+ 1 credits, more than 65535$' \
    "credit beyond 65535: ERROR"
like "$out" '^direction error: REQUEST is not a frame a client sends$' \
    "a daemon-only frame from a client: ERROR"
like "$out" '^noopen error: RECEIVE before OPEN_QUEUE with the worker role$' \
    "RECEIVE before OPEN_QUEUE: ERROR"
like "$out" '^bytewise hello: 1$' "a HELLO split byte by byte is answered"
like "$out" '^batch ok: 20$' "20 responses in one write, 20 clients answered"
[ "$(printf '%s\n' "$out" | grep -c ' closed: True$')" -eq 8 ]
ok $? "every violating connection was closed"
[ "$(printf '%s\n' "$out" | grep -c ' closed: True$')" -eq 8 ] || diag "$out"

is "$(hq_curl "$(url /good/x)")" "hello /good/x from $good" "the other queue's process still serves"
wait "$idle"
like "$(cat "$T/idle.out")" '^1[0-2] no queue opened within 10 s of connecting$' \
    "a connection that opens no queue: ERROR and closed after 10 s"
_end=$(($(date +%s) + 5))
while [ "$(ls "/proc/$HQ_PID/fd" | wc -l)" -ne "$fds0" ] && [ "$(date +%s)" -le "$_end" ]; do
	sleep 0.05
done
is "$(ls "/proc/$HQ_PID/fd" | wc -l)" "$fds0" "no descriptor left in the daemon (the 17 were closed)"
like "$(grep -c 'protocol error' "$HQ_LOG")" '^(1[0-9])$' "each violation logged"
like "$(grep -m1 'protocol error' "$HQ_LOG")" 'attach: pid [0-9]+ uid 0 queue "app": protocol error' \
    "  with the pid"

done_testing
