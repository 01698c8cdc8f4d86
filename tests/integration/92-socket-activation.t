#!/bin/sh
# 92-socket-activation.t -- systemd-socket-activate hands httpqd a listening
# socket (LISTEN_FDS): the daemon serves through it with two workers instead
# of binding the address itself, and closes a passed socket that matches no
# address of the store.
. "${HQ_TESTS:-$(cd "$(dirname "$0")/.." && pwd)}/integration/lib.sh"

command -v systemd-socket-activate >/dev/null 2>&1 || {
	fail "systemd-socket-activate is installed (apt-get install systemd)"
	done_testing
}
hq_mktemp
HQ_DIR=$HQ_MKTEMP
HQ_PORT=$(freeport)
HQ_PORT2=$(freeport)
while [ "$HQ_PORT2" = "$HQ_PORT" ]; do HQ_PORT2=$(freeport); done
HQ_LOG="$HQ_DIR/httpqd.log"
write_config "$HQ_DIR/httpq.yaml" '
server: { workers: 2 }
iplisten: [127.0.0.1]
url_groups:
  - { name: app, prefixes: ["http://+:@PORT@/"], queue: app }
queues:
  - { name: app, module: sample }
'
# The activator binds both ports and execs httpqd (same pid) on the first
# connection.
systemd-socket-activate -l "127.0.0.1:$HQ_PORT" -l "127.0.0.1:$HQ_PORT2" \
    --fdname=web:extra "$HTTPQD" -f -c "$HQ_DIR/httpq.yaml" -M "$HQ_MODDIR" \
    >"$HQ_LOG" 2>&1 &
HQ_PID=$!
pyhelper waitport "$HQ_PORT" "$HQ_PID" 10
ok $? "systemd-socket-activate listening on port $HQ_PORT"

body=$(hq_curl "$(url /)")
is "$body" "$(printf 'Hey! You hit the server \r')" "first request (it starts httpqd) answered through the passed socket"
line=$(wait_log "socket activation: 127\.0\.0\.1:$HQ_PORT from systemd")
ok $? "httpqd says it took the socket from systemd"
like "$line" '\(web\)' "  with its FileDescriptorName"
line=$(wait_log "socket activation: socket [0-9]+ \(extra\) matches no listen address")
ok $? "the passed socket not in the store is logged and closed"
unlike "$(grep -E 'cannot listen' "$HQ_LOG")" '.' "httpqd did not bind the address itself"

# server.defer_accept (default 1 s) is set on the passed socket too: each
# worker's listening descriptor, examined through pidfd_getfd(2).
out=$("$HQ_PYTHON" -S - "$HQ_PID" "$HQ_PORT" <<'PY'
import ctypes, os, socket, sys
pid, port = int(sys.argv[1]), int(sys.argv[2])
libc = ctypes.CDLL(None, use_errno=True)
try:
    pidfd = os.pidfd_open(pid)
except (AttributeError, OSError) as e:
    print("skip pidfd_open: %s" % e)
    sys.exit(0)
got = []
for name in sorted(os.listdir("/proc/%d/fd" % pid), key=int):
    if not os.readlink("/proc/%d/fd/%s" % (pid, name)).startswith("socket:"):
        continue
    dup = libc.syscall(438, pidfd, int(name), 0)  # SYS_pidfd_getfd
    if dup < 0:
        print("skip pidfd_getfd: %s" % os.strerror(ctypes.get_errno()))
        sys.exit(0)
    s = socket.socket(fileno=dup)
    try:
        if (s.family == socket.AF_INET and s.getsockname()[1] == port and
                s.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN)):
            got.append(str(s.getsockopt(socket.IPPROTO_TCP, socket.TCP_DEFER_ACCEPT)))
    finally:
        s.close()
print("defer", " ".join(got))
PY
)
case $out in
skip*) skip "pidfd_getfd(2) is not allowed here: ${out#skip }" ;;
*) is "$out" "defer 1 1" "both workers' descriptors of the passed socket have TCP_DEFER_ACCEPT 1 s" ;;
esac

# Both workers accept from the one socket: many connections all answered.
okc=0
for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
	[ "$(hq_curl -o /dev/null -w '%{http_code}' "$(url /x$i)")" = 200 ] && okc=$((okc + 1))
done
is "$okc" 20 "20 connections, 20 answers"

reload_httpqd
wait_log 'reload: generation 2 loaded' >/dev/null
ok $? "a reload keeps the passed socket"
is "$(hq_curl -o /dev/null -w '%{http_code}' "$(url /)")" 200 "  and serves after it"

stop_httpqd
done_testing
