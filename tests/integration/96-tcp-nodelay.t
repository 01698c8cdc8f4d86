#!/bin/sh
# 96-tcp-nodelay.t -- accepted connections have TCP_NODELAY (without it, a
# response written as head and body in two sends waits 40 ms for the
# client's delayed ACK), and they get it from the listening socket, which
# Linux copies to every accepted socket: no setsockopt per connection.
# strace, attached to the running httpqd, records its setsockopt and accept4
# calls; the option on the accepted sockets is read from duplicates taken
# with pidfd_getfd(2).
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

strace -f -qq -o "$T/trace" -e trace=setsockopt,accept4,accept -p "$HQ_PID" 2>"$T/strace.err" &
tracer=$!
bg_started $tracer
# Attached once every thread of httpqd has a tracer.
traced() {
	for f in /proc/"$HQ_PID"/task/*/status; do
		grep -q '^TracerPid:[[:space:]]*[1-9]' "$f" 2>/dev/null || return 1
	done
	return 0
}
end=$(($(date +%s) + 10))
while ! traced && [ "$(date +%s)" -le "$end" ] && kill -0 "$tracer" 2>/dev/null; do
	sleep 0.02
done
traced || {
	skip "strace could not attach to httpqd: $(tail -n 1 "$T/strace.err")"
	kill "$tracer" 2>/dev/null
	wait "$tracer" 2>/dev/null
	done_testing
}

# Three keep-alive connections, each answered, held open while their
# server-side sockets are examined; the fds come from strace's accept4 lines.
out=$("$HQ_PYTHON" -S - "$HQ_PORT" "$HQ_PID" "$T/trace" <<'PY'
import ctypes, os, re, socket, sys, time
port, pid, trace = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
socks = []
for i in range(3):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    buf = b""
    while b"Hello, world\n" not in buf:
        d = s.recv(4096)
        if not d:
            sys.exit("connection %d closed" % i)
        buf += d
    socks.append(s)
end = time.monotonic() + 10
fds = []
while time.monotonic() < end:
    with open(trace) as f:
        fds = [int(m.group(1)) for m in re.finditer(r"accept4?\(.*\) = (\d+)", f.read())]
    if len(fds) >= 3:
        break
    time.sleep(0.05)
print("accepted", len(fds))
print("clients", *sorted(c.getsockname()[1] for c in socks))
libc = ctypes.CDLL(None, use_errno=True)
SYS_pidfd_getfd = 438
try:
    pidfd = os.pidfd_open(pid)
except (AttributeError, OSError) as e:
    print("nodelay skip pidfd_open: %s" % e)
    sys.exit(0)
for fd in fds:
    dup = libc.syscall(SYS_pidfd_getfd, pidfd, fd, 0)
    if dup < 0:
        print("nodelay skip pidfd_getfd: %s" % os.strerror(ctypes.get_errno()))
        sys.exit(0)
    s = socket.socket(fileno=dup)
    print("nodelay", s.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY), s.getpeername()[1])
    s.close()
PY
)
diag "$out"
kill "$tracer" 2>/dev/null
wait "$tracer" 2>/dev/null

n=$(echo "$out" | awk '$1 == "accepted" { print $2 }')
is "${n:-0}" 3 "strace saw httpqd accept the three connections"
case $out in
*"nodelay skip"*)
	skip "pidfd_getfd(2) is not allowed here: $(echo "$out" | sed -n 's/^nodelay skip //p')"
	;;
*)
	clients=$(echo "$out" | awk '$1 == "clients" { $1 = ""; print substr($0, 2) }')
	got=$(echo "$out" | awk '$1 == "nodelay" { print $3 }' | sort -n | tr '\n' ' ')
	is "$got" "$clients " "the sockets examined are those of the three connections"
	is "$(echo "$out" | awk '$1 == "nodelay" { print $2 }' | tr '\n' ' ')" "1 1 1 " \
	    "each accepted connection has TCP_NODELAY"
	;;
esac
is "$(grep -c TCP_NODELAY "$T/trace")" 0 \
    "no setsockopt(TCP_NODELAY) per connection: it comes from the listener"
hq_alive "$HQ_PID"
ok $? "httpqd runs on after strace detached"

done_testing
