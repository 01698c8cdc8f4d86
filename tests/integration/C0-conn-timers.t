#!/bin/sh
# C0-conn-timers.t -- every connection timer, several durations at once on
# one worker.  Connections keep their timer in a per-worker queue per
# duration instead of a libevent event each (struct hq_conn lost 104
# bytes); what the timers do must not change: entity_body cuts a body that
# stops, drain_entity_body one the module did not read, min_send_rate a
# client that takes nothing, idle_connection and header_wait restart with
# each request and byte-less wait respectively, and a connection whose
# timer was re-armed is not cut at its old deadline.  Each connection is
# measured against a window around its timeout, as 80-timeouts.t does.
. "${HQ_TESTS:-$(cd "$(dirname "$0")/.." && pwd)}/integration/lib.sh"

hq_mktemp
W=$HQ_MKTEMP
truncate -s 32M "$W/big.bin"
chmod 755 "$W"
chmod 644 "$W/big.bin"

CONFIG="
server: { workers: 1, error_log: \"@DIR@/httperr.log\" }
iplisten: [127.0.0.1]
timeouts: { header_wait: 3, idle_connection: 3, entity_body: 2,
            drain_entity_body: 4, min_send_rate: 8388608 }
url_groups:
  - { name: hello, prefixes: [\"http://+:@PORT@/\"], queue: hello }
  - { name: echo, prefixes: [\"http://+:@PORT@/echo/\"], queue: sample }
  - { name: files, prefixes: [\"http://+:@PORT@/files/\"], queue: files }
  - { name: slow, prefixes: [\"http://+:@PORT@/slow/\"], queue: hello,
      timeouts: { idle_connection: 5 } }
queues:
  - { name: hello, module: hello }
  - { name: sample, module: sample }
  - { name: files, module: static, options: { root: $W } }
"
start_httpqd "$CONFIG" || bail_out "httpqd did not start"
T=$HQ_DIR

# One line per check: "ok NAME" or "not NAME: why".
cat >"$T/client.py" <<'PY'
import socket, sys, threading, time

port = int(sys.argv[1])
results = {}

def connect():
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    return s

def head(path, extra=""):
    return ("GET %s HTTP/1.1\r\nHost: localhost\r\n%s\r\n" % (path, extra)).encode()

def until_closed(s, t0, limit=30):
    """Reads until EOF or reset; (seconds since t0, bytes, how)."""
    n, how = 0, "eof"
    s.settimeout(limit)
    try:
        while True:
            d = s.recv(65536)
            if not d:
                break
            n += len(d)
    except ConnectionResetError:
        how = "reset"
    except socket.timeout:
        how = "timeout"
    return time.monotonic() - t0, n, how

def response(s):
    buf = b""
    while b"\r\n\r\n" not in buf:
        d = s.recv(65536)
        if not d:
            raise EOFError("closed before a response")
        buf += d
    h, _, rest = buf.partition(b"\r\n\r\n")
    n = 0
    for l in h.split(b"\r\n")[1:]:
        k, _, v = l.partition(b":")
        if k.strip().lower() == b"content-length":
            n = int(v)
    while len(rest) < n:
        rest += s.recv(65536)
    return h.split(b"\r\n")[0].decode()

def run(name, fn):
    try:
        results[name] = fn()
    except Exception as e:
        results[name] = ("error", repr(e))

def body_stops():
    # sample reads the body: 10 of 100 bytes, then nothing (entity_body 2)
    s = connect()
    s.sendall(b"POST /echo/x HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100\r\n\r\n0123456789")
    return until_closed(s, time.monotonic())

def drain_stops():
    # hello answers without reading: the daemon drains (drain_entity_body 4)
    s = connect()
    s.sendall(b"POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100\r\n\r\n0123456789")
    t0 = time.monotonic()
    st = response(s)
    return until_closed(s, t0) + (st,)

def no_reader():
    # 32 MiB, nothing read: min_send_rate 8 MiB/s gives a few seconds at most
    s = connect()
    s.sendall(head("/files/big.bin"))
    t0 = time.monotonic()
    deadline = t0 + 25
    log = sys.argv[2]
    while time.monotonic() < deadline:
        try:
            if "Timer_MinBytesPerSecond" in open(log).read():
                break
        except OSError:
            pass
        time.sleep(0.05)
    t = time.monotonic() - t0
    return (t,) + until_closed(s, time.monotonic())[1:]

def idle_rearmed():
    # idle_connection 3: a request every second for 4 s keeps it open; then
    # it closes 3 s after the last answer.
    s = connect()
    for i in range(5):
        s.sendall(head("/"))
        st = response(s)
        if not st.startswith("HTTP/1.1 200"):
            return ("error", st)
        if i < 4:
            time.sleep(1)
    return until_closed(s, time.monotonic())

def idle_group():
    # the slow group's own idle_connection, 5 s
    s = connect()
    s.sendall(head("/slow/"))
    st = response(s)
    return until_closed(s, time.monotonic()) + (st,)

def head_wait():
    # header_wait 3 runs from the first byte, not from the last one
    s = connect()
    t0 = time.monotonic()
    s.sendall(b"GET / HTTP/1.1\r\n")

    def drip():
        for i in range(4):
            time.sleep(1)
            try:
                s.sendall(b"X-Drip: %d\r\n" % i)
            except OSError:
                break
    d = threading.Thread(target=drip)
    d.start()
    r = until_closed(s, t0)
    d.join()
    return r

tests = [body_stops, drain_stops, no_reader, idle_rearmed, idle_group, head_wait]
threads = [threading.Thread(target=run, args=(f.__name__, f)) for f in tests]
for t in threads:
    t.start()
for t in threads:
    t.join()

def check(name, cond, why):
    print(("ok %s" % name) if cond else ("not %s: %s" % (name, why)), flush=True)

def window(name, r, lo, hi, how=("eof",)):
    if r[0] == "error":
        check(name, False, r[1])
        return
    check(name, lo <= r[0] <= hi and r[2] in how,
          "closed after %.2f s (%s), expected %.1f-%.1f s" % (r[0], r[2], lo, hi))

window("entity_body: a body that stops is cut after 2 s", results["body_stops"], 1.5, 4.5)
window("drain_entity_body: an unread body that stops is cut after 4 s",
       results["drain_stops"], 3.5, 6.5)
r = results["no_reader"]
if r[0] != "error":
    check("min_send_rate: a client that reads nothing is cut (Timer_MinBytesPerSecond)",
          r[0] < 20, "no Timer_MinBytesPerSecond after %.1f s" % r[0])
    check("min_send_rate: the connection is closed", r[2] in ("eof", "reset"), r[2])
    check("min_send_rate: not all 32 MiB went out", r[1] < 32 << 20, "%d bytes" % r[1])
else:
    check("min_send_rate", False, r[1])
window("idle_connection restarts with each request (3 s after the last)",
       results["idle_rearmed"], 2.5, 5.5)
window("a URL group's own idle_connection (5 s)", results["idle_group"], 4.5, 7.5)
window("header_wait runs from the first byte of the head (3 s)", results["head_wait"],
       2.5, 3.9, ("eof", "reset"))
PY

out=$("$HQ_PYTHON" -S "$T/client.py" "$HQ_PORT" "$T/httperr.log" 2>&1)
relay_checks "$out" 8

# The error log names each timer (http.sys's HTTPERR reasons).
for reason in Timer_EntityBody Timer_MinBytesPerSecond Timer_HeaderWait; do
	grep -q " $reason " "$T/httperr.log" 2>/dev/null
	ok $? "the error log records $reason"
done
is "$(grep -c ' Timer_EntityBody ' "$T/httperr.log" 2>/dev/null)" 2 \
    "Timer_EntityBody twice (a body read, a body drained)"
hq_alive "$HQ_PID"
ok $? "httpqd is still running"
stop_httpqd
done_testing
