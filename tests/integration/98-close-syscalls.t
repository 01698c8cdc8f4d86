#!/bin/sh
# 98-close-syscalls.t -- system calls of `Connection: close` requests.
# A connection whose request is there when it is accepted is read at once,
# answered and closed without entering the epoll set (before: an
# EPOLL_CTL_ADD and a DEL per connection).  A wakeup of the listening
# socket accepts no more connections than recent wakeups found, so light
# load does not pay a failed accept4() per connection (before: every
# wakeup accepted until EAGAIN, two accept4() per connection when they
# come one at a time).  strace, attached to the running httpqd, counts
# the calls; what is counted does not depend on timing.
. "${HQ_TESTS:-$(cd "$(dirname "$0")/.." && pwd)}/integration/lib.sh"

need_strace

CONFIG='
server: { workers: 1 }
iplisten: [127.0.0.1]
url_groups:
  - { name: app, prefixes: ["http://+:@PORT@/"], queue: q }
queues:
  - { name: q, module: hello }
'
start_httpqd "$CONFIG" || bail_out "httpqd did not start"
T=$HQ_DIR

# N Connection: close GETs; with "seq" each connects after the previous one
# closed, with "batch" all connect and send first (httpqd is stopped
# meanwhile), then every answer is read.
cat >"$T/client.py" <<'PY'
import os, signal, socket, sys
port, mode, n, pid = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
req = b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"

def answer(s):
    buf = b""
    while True:
        d = s.recv(4096)
        if not d:
            break
        buf += d
    s.close()
    return buf.startswith(b"HTTP/1.1 200 ") and buf.endswith(b"Hello, world\n")

good = 0
if mode == "seq":
    for i in range(n):
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        s.sendall(req)
        good += answer(s)
else:
    os.kill(pid, signal.SIGSTOP)
    socks = []
    try:
        for i in range(n):
            s = socket.create_connection(("127.0.0.1", port), timeout=10)
            s.sendall(req)
            socks.append(s)
    finally:
        os.kill(pid, signal.SIGCONT)
    for s in socks:
        good += answer(s)
print(good)
PY

N=40
trace_start "$T/seq.trace" -e trace=accept4,accept,epoll_ctl
good=$("$HQ_PYTHON" -S "$T/client.py" "$HQ_PORT" seq $N "$HQ_PID")
trace_stop
is "$good" $N "$N Connection: close requests one after the other are answered"
n=$(trace_calls 'accept4\?' "$T/seq.trace")
diag "accept4 calls for $N connections one at a time: $n"
num_between "$n" $N $((N * 3 / 2 - 1)) \
    "fewer than 1.5 accept4() per connection when they come one at a time (was 2)"

N=20
trace_start "$T/batch.trace" -e trace=accept4,accept,epoll_ctl
good=$("$HQ_PYTHON" -S "$T/client.py" "$HQ_PORT" batch $N "$HQ_PID")
trace_stop
is "$good" $N "$N Connection: close requests sent before the accept are answered"
n=$(trace_calls epoll_ctl "$T/batch.trace")
diag "epoll_ctl calls for $N connections whose request was there at accept: $n"
num_between "$n" 0 $((N - 1)) \
    "fewer than one epoll_ctl() per such connection (was 2: ADD, then DEL)"

hq_alive "$HQ_PID"
ok $? "httpqd runs on after strace detached"
done_testing
