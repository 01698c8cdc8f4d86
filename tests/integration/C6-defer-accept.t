#!/bin/sh
# C6-defer-accept.t -- server.defer_accept (TCP_DEFER_ACCEPT on the
# listeners).  A client that connects and sends its request a moment later
# is accepted only once the request is there: httpqd reads it at once, and
# a `Connection: close` request is answered and closed without entering
# the epoll set.  Before, accept4() returned at the handshake, the read
# found nothing, and the connection cost an EPOLL_CTL_ADD and a DEL (the
# bench's close mode, server and client on their own CPUs, hit that race
# on most connections).  A reload turning it off applies it to the
# listeners at once; then the same clients cost the ADD and DEL again.  A
# silent connection is held by the kernel first, then still gets its
# idle_connection close (the timer of a connection that has sent nothing;
# header_wait runs from the first byte).  strace, attached to httpqd, counts the calls; the
# counts do not depend on timing (the clients pause 0.3 s before sending,
# against a deferral of 3 s or more, or of 1 s for the silent one).
. "${HQ_TESTS:-$(cd "$(dirname "$0")/.." && pwd)}/integration/lib.sh"

need_strace

# defer_accept 5: the kernel hands a silent connection over after its
# third SYN-ACK retransmission, about 7 s.
CONFIG='
server: { workers: 1, defer_accept: 5 }
iplisten: [127.0.0.1]
timeouts: { idle_connection: 2 }
url_groups:
  - { name: app, prefixes: ["http://+:@PORT@/"], queue: q }
queues:
  - { name: q, module: hello }
'
start_httpqd "$CONFIG" || bail_out "httpqd did not start"
T=$HQ_DIR

# The listener's defer_accept in `httpqctl show servicestate --json`.
shown() {
	"$HTTPQCTL" -s "$HQ_CTL" show servicestate --json |
	    "$HQ_PYTHON" -S -c 'import json, sys
print(json.load(sys.stdin)["listeners"][0]["defer_accept"])'
}
# accept4() calls that returned a connection
accepted() { grep -c '^[0-9]* *accept4\?(.*) = [0-9]' "$1"; }
# read() calls on accepted connections that found nothing
empty_reads() {
	awk '/^[0-9]+ +accept4?\(.*\) = [0-9]+$/ { conn[$NF] = 1 }
	    /^[0-9]+ +read\(.*= -1 EAGAIN/ {
		fd = $2; sub(/^read\(/, "", fd); sub(/,.*/, "", fd)
		if (fd in conn) n++
	    }
	    END { print n + 0 }' "$1"
}

# client.py PORT N TRACE: N Connection: close GETs, one after the other;
# each connects, waits 0.3 s, notes whether httpqd accepted it meanwhile
# (an accept4 line more in TRACE), then sends the request and reads the
# answer.  Prints "answered N_OK early N_EARLY".
cat >"$T/client.py" <<'PY'
import re, socket, sys, time
port, n, trace = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
req = b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
acc = re.compile(r"^\d+ +accept4?\(.*\) = \d", re.M)

def accepted():
    with open(trace) as f:
        return len(acc.findall(f.read()))

good = early = 0
for i in range(n):
    before = accepted()
    s = socket.create_connection(("127.0.0.1", port), timeout=20)
    time.sleep(0.3)
    early += accepted() > before
    s.sendall(req)
    buf = b""
    while True:
        d = s.recv(4096)
        if not d:
            break
        buf += d
    s.close()
    good += buf.startswith(b"HTTP/1.1 200 ") and buf.endswith(b"Hello, world\n")
print("answered", good, "early", early)
PY

is "$(shown)" 5 "httpqctl show servicestate: the listener defers accept 5 s"
"$HTTPQCTL" -s "$HQ_CTL" show servicestate >"$T/state.txt"
like "$(grep -A1 'DEFER ACCEPT' "$T/state.txt")" "127\.0\.0\.1:$HQ_PORT .* 5 s" \
    "  and in its listener table"

N=8
trace_start "$T/on.trace" -e trace=accept4,accept,epoll_ctl,read,setsockopt
out=$("$HQ_PYTHON" -S "$T/client.py" "$HQ_PORT" $N "$T/on.trace")
trace_stop
is "$out" "answered $N early 0" \
    "defer_accept 5: $N close requests sent 0.3 s after connect are answered, none accepted before its request came"
is "$(accepted "$T/on.trace")" $N "  $N connections accepted"
n=$(trace_calls epoll_ctl "$T/on.trace")
diag "epoll_ctl calls for $N connections with defer_accept 5: $n"
is "$n" 0 "  no epoll_ctl for them: each was read, answered and closed at its accept"
is "$(empty_reads "$T/on.trace")" 0 "  no read() found nothing"

# A reload turns it off: applied to the listener at once.
sed -e 's/defer_accept: 5/defer_accept: off/' "$T/httpq.yaml" >"$T/httpq.yaml.new"
mv "$T/httpq.yaml.new" "$T/httpq.yaml"
trace_start "$T/off.trace" -e trace=accept4,accept,epoll_ctl,read,setsockopt
log_mark
reload_httpqd
like "$(wait_log 'reload: generation 2 loaded')" . "reload with defer_accept off"
end=$(($(date +%s) + 10))
until grep -q 'setsockopt(.*TCP_DEFER_ACCEPT, \[0\]' "$T/off.trace" ||
    [ "$(date +%s)" -gt "$end" ]; do
	sleep 0.05
done
is "$(grep -c 'setsockopt(.*TCP_DEFER_ACCEPT, \[0\]' "$T/off.trace")" 1 \
    "  the worker turned TCP_DEFER_ACCEPT off on its listener"
out=$("$HQ_PYTHON" -S "$T/client.py" "$HQ_PORT" $N "$T/off.trace")
trace_stop
set -- $out
is "$1 $2" "answered $N" "defer_accept off: the same $N requests are answered"
diag "connections accepted before their request came: $4 of $N"
num_between "$4" 1 $N "  connections are accepted before their request comes"
n=$(trace_calls epoll_ctl "$T/off.trace")
diag "epoll_ctl calls for $N connections with defer_accept off: $n"
num_between "$n" 2 $((N * 2)) "  they enter the epoll set: EPOLL_CTL_ADD, then DEL"
num_between "$(empty_reads "$T/off.trace")" 1 $N "  reads at accept found nothing"
is "$(shown)" 0 "  httpqctl show servicestate says so (0)"

# Back to the default (1 s); a silent connection is held by the kernel,
# then handed over, and still closed by idle_connection (2 s).
sed -e 's/, defer_accept: off//' "$T/httpq.yaml" >"$T/httpq.yaml.new"
mv "$T/httpq.yaml.new" "$T/httpq.yaml"
trace_start "$T/silent.trace" -e trace=accept4,accept,epoll_ctl,read,setsockopt
log_mark
reload_httpqd
like "$(wait_log 'reload: generation 3 loaded')" . "reload without defer_accept (default 1 s)"
end=$(($(date +%s) + 10))
until grep -q 'setsockopt(.*TCP_DEFER_ACCEPT, \[1\]' "$T/silent.trace" ||
    [ "$(date +%s)" -gt "$end" ]; do
	sleep 0.05
done
is "$(grep -c 'setsockopt(.*TCP_DEFER_ACCEPT, \[1\]' "$T/silent.trace")" 1 \
    "  the worker set TCP_DEFER_ACCEPT to 1 s"
out=$("$HQ_PYTHON" -S - "$HQ_PORT" "$T/silent.trace" <<'PY'
import re, socket, sys, time
port, trace = int(sys.argv[1]), sys.argv[2]
acc = re.compile(r"^\d+ +accept4?\(.*\) = \d", re.M)
def accepted():
    with open(trace) as f:
        return len(acc.findall(f.read()))
before = accepted()
s = socket.create_connection(("127.0.0.1", port), timeout=30)
time.sleep(0.3)
print("held" if accepted() == before else "accepted-at-once")
buf, end = b"", "timeout"
try:
    while True:
        d = s.recv(4096)
        if not d:
            end = "eof"
            break
        buf += d
except ConnectionResetError:
    end = "reset"
except socket.timeout:
    pass
print(end, len(buf), accepted() - before)
PY
)
trace_stop
is "$out" "held
eof 0 1" "silent connection: held by the kernel at first, then accepted and closed (FIN, no bytes)"
n=$(trace_calls epoll_ctl "$T/silent.trace")
is "$n" 2 "  it entered the epoll set once handed over (ADD, then DEL)"
is "$(shown)" 1 "  httpqctl show servicestate says so (1)"

hq_alive "$HQ_PID"
ok $? "httpqd runs on"
done_testing
