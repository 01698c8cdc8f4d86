#!/bin/sh
# A1-ctlsocket.t -- the control socket's line protocol, spoken raw (as socat
# would): several commands on one connection, malformed and oversized
# commands, a half-sent command, and a client that never reads its answers
# while others are served; a data line that looks like a status line.
. "${HQ_TESTS:-$(cd "$(dirname "$0")/.." && pwd)}/integration/lib.sh"

CONFIG='
server: { workers: 1 }
iplisten: [127.0.0.1]
url_groups:
  - { name: app, prefixes: ["http://+:@PORT@/"], queue: q }
  - { name: "OK", prefixes: ["http://+:@PORT@/ok/"] }
queues:
  - { name: q, module: sample }
'
start_httpqd "$CONFIG" || bail_out "httpqd did not start"
wait_log 'control: listening on' >/dev/null
ok $? "the control socket is up"

# The Python part prints "0 DESC" or "1 DESC" per check, and "# ..." lines.
"$HQ_PYTHON" -S - "$HQ_CTL" >"$HQ_DIR/checks" <<'PY'
import socket, sys, time
path = sys.argv[1]
def ok(cond, desc, got=None):
    print("%d %s" % (0 if cond else 1, desc))
    if not cond and got is not None:
        print("# got: %r" % (got,))
    sys.stdout.flush()

def conn():
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(15)
    s.connect(path)
    return s

def read_all(s):
    buf = b""
    while True:
        try:
            b = s.recv(65536)
        except socket.timeout:
            return buf + b"<timeout>"
        if not b:
            return buf
        buf += b

def status_lines(buf):
    return [l for l in buf.split(b"\n") if l == b"OK" or l.startswith(b"OK ") or l.startswith(b"ERR ")]

# several commands on one connection, answered in order
s = conn()
s.sendall(b"show timeout\nshow iplisten --json\nfrobnicate\nshow queue q\n")
s.shutdown(socket.SHUT_WR)
out = read_all(s)
st = status_lines(out)
ok(st == [b"OK", b"OK", b"ERR 2 unknown command \"frobnicate\" (commands: show, add, delete, set, reload, flush)", b"OK"],
   "four commands on one connection: four status lines, in order", st)
ok(b"header_wait" in out and b'{"iplisten":[{"address":"127.0.0.1"' in out,
   "each command's data lines come before its status", out[:300])

# the last command may lack its newline (socat at end of input)
s = conn()
s.sendall(b"show timeout --json")
s.shutdown(socket.SHUT_WR)
out = read_all(s)
ok(out.endswith(b"}}\nOK\n"), "a last command without newline is answered", out)

# malformed: control characters, bad quotes, unknown keys
for line, want in [(b"show\x01 timeout\n", b"ERR 2 control character"),
                   (b"show \"urlacl\n", b"ERR 2 unterminated quote"),
                   (b"add urlacl url=http://+:1/ user=root\n", b"ERR 1 the setup store is changed by httpqctl"),
                   (b"\n", b"ERR 2 empty command")]:
    s = conn()
    s.sendall(line)
    s.shutdown(socket.SHUT_WR)
    out = read_all(s)
    ok(out.startswith(want), "malformed %r: %r" % (line[:20], want), out)

# oversized: an error and the connection closed, even with no newline
s = conn()
try:
    s.sendall(b"show route http://x:1/" + b"a" * 8000)
except OSError:
    pass
out = read_all(s)
ok(out == b"ERR 2 command longer than 4096 bytes\n", "an oversized command: ERR 2 and closed", out)

# a line of exactly 4096 bytes with its newline is taken, one more is not
for extra, want in [(0, [b"OK"]), (1, [b"ERR 2 command longer than 4096 bytes"])]:
    s = conn()
    line = b"show timeout" + b" " * (4095 - 12 + extra) + b"\n"
    s.sendall(line)
    s.shutdown(socket.SHUT_WR)
    out = read_all(s)
    ok(status_lines(out) == want, "a %d-byte command: %r" % (len(line), want[0]), out[-100:])

# a client that never reads: the daemon serves others meanwhile
slow = conn()
slow.setblocking(False)
sent = 0
try:
    for i in range(4000):
        sent += slow.send(b"show servicestate --json\n")
except BlockingIOError:
    pass
t0 = time.monotonic()
s = conn()
s.sendall(b"show servicestate\n")
s.shutdown(socket.SHUT_WR)
out = read_all(s)
ok(status_lines(out) == [b"OK"] and time.monotonic() - t0 < 2,
   "with a client not reading its answers, another is served at once (%.3fs)" % (time.monotonic() - t0), out[-200:])

# a half-sent command: closed after 10 s, with an error
h = conn()
h.sendall(b"show serv")
t0 = time.monotonic()
out = read_all(h)
el = time.monotonic() - t0
ok(out.startswith(b"ERR 2 incomplete command"), "a half-sent command gets ERR 2", out)
ok(8 <= el <= 13, "  after the 10 s timeout (%.1fs)" % el)
# the slow reader is dropped 10 s after the daemon last got to write to
# it, which may be a few seconds into the wait above on a loaded machine
# (an ASan build): its socket is closed within 15 s more
try:
    slow.setblocking(True)
    slow.settimeout(15)
    data = b""
    while True:
        b = slow.recv(1 << 20)
        if not b:
            break
        data += b
    dropped = True
except (ConnectionResetError, BrokenPipeError):
    dropped = True
except socket.timeout:
    dropped = False
ok(dropped, "the client that did not read was dropped")
PY
while IFS= read -r l; do
	case $l in
	'#'*) printf '%s\n' "$l" ;;
	*) ok "${l%% *}" "${l#* }" ;;
	esac
done <"$HQ_DIR/checks"
[ "$HQ_NTESTS" -ge 14 ]
ok $? "every check of the Python part ran"
# A URL group named OK starts a data line of show servicestate with "OK":
# it is sent stuffed (\OK), and httpqctl prints the whole table.
: "${HTTPQCTL:=$HQ_TESTS/../src/httpqctl}"
out=$(printf 'show servicestate\n' | "$HQ_PYTHON" -S -c '
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(sys.stdin.buffer.read())
s.shutdown(socket.SHUT_WR)
while True:
    b = s.recv(65536)
    if not b:
        break
    sys.stdout.buffer.write(b)
' "$HQ_CTL")
is "$(printf '%s\n' "$out" | grep -cE '^(OK|ERR )')" 1 "over the socket: the group named OK is not a status line"
like "$out" '^\\OK +\(none: 503\)' "... it is sent with a backslash in front"
out=$("$HTTPQCTL" -s "$HQ_CTL" show servicestate)
is $? 0 "httpqctl show servicestate exits 0"
like "$out" '^OK +\(none: 503\) +http://\+:[0-9]+/ok/' "httpqctl prints the OK group's row as it is"
like "$out" '^127\.0\.0\.1:[0-9]+ +[0-9]+ +[0-9]+ +1 s$' "httpqctl prints the tables after it"

hq_alive "$HQ_PID"
ok $? "httpqd is still alive"
done_testing
