#!/usr/bin/python3
"""hostile.py -- hostile HTTP/2 peers for E1-h2-hostile.t (see H2 defences).

  hostile.py SCENARIO --port PORT [--tls] [options]

Each scenario attacks one connection, then prints what the server did, one
fact a line ("goaway ENHANCE_YOUR_CALM", "status 431", "meanwhile 200"...),
for the test script to judge.  "meanwhile" is a normal GET on a second
connection made while the attack is under way (after its frames went out,
before its outcome is read).  Exit status 0 unless the peer itself failed
(no connection, no handshake): the verdict is the test's.

Scenarios (numbers as in the defences of the HTTP/2 contract):
  rapid-reset     1. HEADERS + RST_STREAM(CANCEL) pairs, --count of them
  reset-one       1. one stream reset while its request is held, then
                     --after on the same connection
  reset-held      1. --streams held streams reset at once, then --after on the
                     same connection until it is served
  close-notify       TLS peers that close (close_notify, FIN) with answers
                     on their way, --count of them
  continuation    2. a HEADERS without END_HEADERS, then CONTINUATION frames
                     of 1000-byte fields, up to --bytes, then END_HEADERS
  hpack-bomb      3. one field of 4000 bytes into the dynamic table, then
                     --count one-byte references to it
  hpack-table     3. a dynamic table size update beyond SETTINGS (4096)
  flood           4. --kind settings|ping|empty-data|window-update, --count
                     frames, sent without reading (a 4 KiB receive buffer)
  zero-window     5. INITIAL_WINDOW_SIZE 0, --streams GETs of --path
  queue503        6. --streams GETs of --path at once on one connection,
                     then one more GET of --after on the same connection
  refused         7. --streams GETs of --path at once, before acking the
                     server's SETTINGS (--after-ack: after), then --after
  get                a plain request (--method, --header, --body-file)
  priority           PRIORITY frames and HEADERS with priorities, --streams
  expect             a POST with expect: 100-continue whose --body-file goes
                     out only after a 100 (or --wait seconds)
"""
import argparse
import sys
import time

sys.path.insert(0, __import__("os").path.dirname(__file__))
import h2peer as h  # noqa: E402


def out(key, value):
    print("%s %s" % (key, value), flush=True)


def verdict(p, sid=None):
    """The common facts: the stream's fate and the connection's (after a
    GOAWAY, a few seconds for the server to close)."""
    if p.goaway is not None and p.closed is None:
        p.pump(lambda q: q.closed is not None, timeout=5)
    if sid is not None:
        st = p.stream(sid)
        out("status", st.status if st.status is not None else "none")
        out("rst", h.error_name(st.rst) if st.rst is not None else "none")
    out("goaway", h.error_name(p.goaway[1]) if p.goaway else "none")
    out("closed", p.closed or "no")


def meanwhile(a, path=None):
    """A normal GET on another connection: its status, or the failure."""
    try:
        q = h.Peer(a.port, tls=a.tls, timeout=a.timeout)
        sid = q.request(path=path or a.normal)
        if not q.wait_streams([sid]):
            out("meanwhile", "timeout " + q.describe())
        else:
            st = q.stream(sid)
            out("meanwhile", st.status if st.rst is None else "rst " + h.error_name(st.rst))
        q.close()
    except (OSError, RuntimeError) as e:
        out("meanwhile", "error %s" % e)


def peer(a, **kw):
    kw.setdefault("timeout", a.timeout)
    return h.Peer(a.port, tls=a.tls, **kw)


# 1. -----------------------------------------------------------------------
def rapid_reset(a):
    p = peer(a)
    if not p.handshake():
        sys.exit("no handshake: " + p.describe())
    block = h.header_block(h.request_fields("GET", a.path, scheme=p.scheme))
    sent = 0
    t0 = time.monotonic()
    while sent < a.count and not p.ended():
        batch = b""
        for _ in range(min(100, a.count - sent)):
            sid = p.new_sid()
            batch += h.headers(sid, block, end_stream=True) + h.rst_stream(sid, 8)
        if not p.send(batch, timeout=5):
            break
        sent += min(100, a.count - sent)
        # Let the answer come before more is sent: a server that closes
        # with our bytes unread resets the connection, and a reset throws
        # away what we had not read yet (its GOAWAY).  20 batches in at
        # most 4 s are still 500 resets a second.
        p.pump(lambda q: q.ended(), timeout=0.2)
    out("sent", sent)
    out("send_seconds", "%.3f" % (time.monotonic() - t0))
    meanwhile(a)
    p.pump(lambda q: q.ended(), timeout=a.timeout)
    out("answered", sum(1 for s in p.streams.values() if s.status is not None))
    verdict(p)


def reset_one(a):
    """One stream to --path, reset after 0.3 s (CANCEL), then --after on the
    same connection: its status and how long it took."""
    p = peer(a)
    if not p.handshake():
        sys.exit("no handshake: " + p.describe())
    sid = p.request(path=a.path)
    p.pump(lambda q: q.ended() or q.stream(sid).done(), timeout=0.3)
    out("answered_before_reset", p.stream(sid).status or "none")
    p.send(h.rst_stream(sid, 8))
    t0 = time.monotonic()
    # Until the slot is free (a 503 while the abort is under way), 5 s at most.
    while True:
        sid2 = p.request(path=a.after)
        p.wait_streams([sid2])
        if p.stream(sid2).status != 503 or time.monotonic() - t0 > 5 or p.ended():
            break
        time.sleep(0.05)
    out("after", p.stream(sid2).status)
    out("after_seconds", "%.2f" % (time.monotonic() - t0))
    verdict(p)


def reset_held(a):
    """--streams GETs of --path (a module that sends its head at once and
    lets an aborted request go only some time after on_abort), reset
    (CANCEL) once every head came; then a GET of --after on the same
    connection at once ("during": its fate), and again every 0.1 s until
    one is answered ("after", "after_seconds": since the resets)."""
    p = peer(a)
    if not p.handshake():
        sys.exit("no handshake: " + p.describe())
    sids = [p.request(path=a.path) for _ in range(a.streams)]
    p.pump(lambda q: q.ended() or all(q.stream(s).status for s in sids), timeout=a.timeout)
    out("heads", sum(1 for s in sids if p.stream(s).status == 200))
    p.send(b"".join(h.rst_stream(s, 8) for s in sids))
    t0 = time.monotonic()

    def one():
        sid = p.request(path=a.after)
        p.wait_streams([sid])
        st = p.stream(sid)
        return str(st.status) if st.rst is None else "rst " + h.error_name(st.rst)
    out("during", one())
    meanwhile(a)
    while True:
        k = one()
        if k != "rst REFUSED_STREAM" or time.monotonic() - t0 > a.timeout or p.ended():
            break
        time.sleep(0.1)
    out("after", k)
    out("after_seconds", "%.2f" % (time.monotonic() - t0))
    verdict(p)


def close_notify(a):
    """--count TLS connections that each send ten GETs of --path and at once
    their close_notify and a TCP close, answers unread: the daemon writes to
    a peer that is gone."""
    if not a.tls:
        sys.exit("close-notify needs --tls")
    for _ in range(a.count):
        p = peer(a)
        p.handshake()
        for _ in range(10):
            p.request(path=a.path)
        try:
            p.sock.settimeout(0.05)
            p.sock.unwrap()
        except (OSError, ValueError):
            pass
        p.close()
    out("sent", a.count)
    meanwhile(a)


# 2. -----------------------------------------------------------------------
def continuation(a):
    p = peer(a)
    if not p.handshake():
        sys.exit("no handshake: " + p.describe())
    sid = p.new_sid()
    block = h.header_block(h.request_fields("GET", a.path, scheme=p.scheme))
    p.send(h.headers(sid, block, end_stream=True, end_headers=False))
    sent, i = len(block), 0
    st = p.stream(sid)
    while sent < a.bytes and not p.ended() and not st.done() and st.status is None:
        chunk = b""
        for _ in range(64):
            chunk += h.continuation(sid, h.hp_literal("x-fill-%d" % i, "a" * 990))
            i += 1
        if not p.send(chunk, timeout=5):
            break
        sent += len(chunk)
        # (as in rapid_reset: read the answer before sending more)
        p.pump(lambda q: q.ended() or st.done() or st.status is not None, timeout=0.03)
    out("sent_kib", sent // 1024)
    cut_early = p.ended() or st.done() or st.status is not None
    out("cut_early", "yes" if cut_early else "no")
    if not cut_early:
        p.send(h.continuation(sid, b"", end_headers=True))
    meanwhile(a)
    p.pump(lambda q: q.ended() or st.done(), timeout=a.timeout)
    verdict(p, sid)


# 3. -----------------------------------------------------------------------
def hpack_bomb(a):
    p = peer(a)
    if not p.handshake():
        sys.exit("no handshake: " + p.describe())
    sid = p.new_sid()
    # 4000 + 6 + 32 octets: fits the default 4096-octet table; index 62.
    block = h.header_block(h.request_fields("GET", a.path, scheme=p.scheme))
    block += h.hp_literal("x-bomb", "b" * 4000, index=True)
    block += h.hp_indexed(62) * a.count
    # Split into frames of at most 16384 octets (the default max frame size).
    frames = [block[i:i + 16000] for i in range(0, len(block), 16000)]
    out_ = h.headers(sid, frames[0], end_stream=True, end_headers=len(frames) == 1)
    for j, f in enumerate(frames[1:], 1):
        out_ += h.continuation(sid, f, end_headers=j == len(frames) - 1)
    p.send(out_)
    out("encoded_bytes", len(block))
    out("decoded_kib", (4000 + 6) * (a.count + 1) // 1024)
    meanwhile(a)
    p.pump(lambda q: q.ended() or q.stream(sid).done(), timeout=a.timeout)
    verdict(p, sid)


def hpack_table(a):
    p = peer(a)
    if not p.handshake():
        sys.exit("no handshake: " + p.describe())
    sid = p.new_sid()
    # 001xxxxx: dynamic table size update, to 1 MiB, then a request.
    block = h.hp_int(1 << 20, 5, 0x20)
    block += h.header_block(h.request_fields("GET", a.path, scheme=p.scheme))
    p.send(h.headers(sid, block, end_stream=True))
    meanwhile(a)
    p.pump(lambda q: q.ended() or q.stream(sid).done(), timeout=a.timeout)
    verdict(p, sid)


# 4. -----------------------------------------------------------------------
def flood(a):
    p = peer(a, rcvbuf=4096, auto_window=False)
    if not p.handshake():
        sys.exit("no handshake: " + p.describe())
    if a.kind == "settings":
        one = h.settings([(h.S_ENABLE_PUSH, 0)])
    elif a.kind == "ping":
        one = h.ping()
    elif a.kind == "window-update":
        one = h.window_update(0, 1)
    elif a.kind == "empty-data":
        # A POST whose body never comes: zero-length DATA frames only.
        sid = p.request("POST", a.post_path, end_stream=False)
        one = h.data(sid, b"")
    else:
        sys.exit("unknown --kind " + a.kind)
    sent, blocked = 0, False
    batch = one * 1000
    t0 = time.monotonic()
    while sent < a.count:
        if not p.send(batch, timeout=3):
            blocked = p.closed is None
            break
        sent += 1000
    out("sent", sent)
    out("send_seconds", "%.3f" % (time.monotonic() - t0))
    out("blocked", "yes" if blocked else "no")
    meanwhile(a)
    # Now read what came back: the acks, then the GOAWAY and the end.
    p.pump(lambda q: q.ended(), timeout=a.timeout)
    out("acks", p.pings if a.kind == "ping" else p.settings_acked)
    verdict(p)


# 5. -----------------------------------------------------------------------
def zero_window(a):
    p = peer(a, settings_pairs=((h.S_ENABLE_PUSH, 0), (h.S_INITIAL_WINDOW_SIZE, 0)),
             auto_window=False)
    if not p.handshake():
        sys.exit("no handshake: " + p.describe())
    t0 = time.monotonic()
    sids = [p.request(path=a.path) for _ in range(a.streams)]
    # The heads come (HEADERS are not flow controlled), then nothing.
    p.pump(lambda q: all(q.stream(s).status is not None or q.stream(s).done() for s in sids),
           timeout=a.timeout)
    out("heads", sum(1 for s in sids if p.stream(s).status is not None))
    if a.pid:
        time.sleep(1)
        out("rss_stalled_kib", h.rss_kib(a.pid))
    meanwhile(a)
    p.pump(lambda q: q.ended() or all(q.stream(s).done() for s in sids), timeout=a.stall)
    out("cut_after", "%.1f" % (time.monotonic() - t0))
    out("body_bytes", sum(len(p.stream(s).body) for s in sids))
    out("streams_cut", sum(1 for s in sids if p.stream(s).rst is not None))
    verdict(p)


# 6. -----------------------------------------------------------------------
def count_status(p, sids):
    n = {}
    for s in sids:
        st = p.stream(s)
        k = ("rst " + h.error_name(st.rst)) if st.rst is not None else str(st.status)
        n[k] = n.get(k, 0) + 1
    return n


def queue503(a):
    p = peer(a)
    if not p.handshake():
        sys.exit("no handshake: " + p.describe())
    sids = [p.request(path=a.path) for _ in range(a.streams)]
    meanwhile(a)
    p.pump(lambda q: q.ended() or all(q.stream(s).done() for s in sids), timeout=a.timeout)
    n = count_status(p, sids)
    out("n200", n.get("200", 0))
    out("n503", n.get("503", 0))
    out("other", sorted((k, v) for k, v in n.items() if k not in ("200", "503")) or "none")
    sid = p.request(path=a.after)
    p.wait_streams([sid])
    out("after", p.stream(sid).status)
    verdict(p)


# 7. -----------------------------------------------------------------------
def refused(a):
    p = peer(a, ack_settings=a.after_ack)
    if a.after_ack and not p.handshake():
        sys.exit("no handshake: " + p.describe())
    sids = [p.request(path=a.path) for _ in range(a.streams)]
    meanwhile(a)
    p.pump(lambda q: q.ended() or all(q.stream(s).done() for s in sids), timeout=a.timeout)
    n = count_status(p, sids)
    out("n200", n.get("200", 0))
    out("refused", n.get("rst REFUSED_STREAM", 0))
    out("other", sorted((k, v) for k, v in n.items()
                        if k not in ("200", "rst REFUSED_STREAM")) or "none")
    if not p.ended():
        if not a.after_ack:
            p.send(h.settings(ack=True))
        sid = p.request(path=a.after)
        p.wait_streams([sid])
        out("after", p.stream(sid).status)
    verdict(p)


# a plain request, for the tests' own checks ---------------------------------
def get(a):
    p = peer(a)
    body = None
    if a.body_file:
        with open(a.body_file, "rb") as f:
            body = f.read()
    extra = [tuple(x.split(": ", 1)) for x in a.header]
    sid = p.request(method=a.method, path=a.path, extra=extra, body=body)
    p.wait_streams([sid])
    st = p.stream(sid)
    out("status", st.status)
    out("body_bytes", len(st.body))
    for k, v in st.headers:
        out("header", "%s: %s" % (k, v))
    for k, v in st.trailers:
        out("trailer", "%s: %s" % (k, v))
    if a.save:
        with open(a.save, "wb") as f:
            f.write(st.body)
    verdict(p, sid)


# Expect: 100-continue ----------------------------------------------------------
def expect(a):
    """HEADERS with expect: 100-continue and no END_STREAM; the body only
    after a 100 came (or --wait seconds passed without one), then its
    answer: "informational" is what came before the body was sent."""
    p = peer(a)
    with open(a.body_file, "rb") as f:
        body = f.read()
    extra = [("expect", "100-continue"), ("content-length", str(len(body)))]
    sid = p.request(method="POST", path=a.path, extra=extra, end_stream=False)
    st = p.stream(sid)
    p.pump(lambda q: st.informational or st.done(), timeout=a.wait)
    out("informational", " ".join(map(str, st.informational)) or "none")
    if not st.done():
        p.send(h.data(sid, body, end=True))
    p.wait_streams([sid])
    out("status", st.status)
    out("echo", "same" if bytes(st.body) == body else "differs (%d bytes)" % len(st.body))
    out("informational_after", " ".join(map(str, st.informational)) or "none")
    verdict(p)


# priorities: accepted and ignored --------------------------------------------
def prio(a):
    """PRIORITY frames on idle streams, HEADERS with the PRIORITY flag and
    exclusive dependencies, a PRIORITY that moves an open stream, one that
    names a stream never opened: every request is answered, no error."""
    p = peer(a)
    if not p.handshake():
        sys.exit("no handshake: " + p.describe())
    # idle streams as group nodes (as Firefox did): 3, 5, 7
    p.send(h.priority(3, 0, 201) + h.priority(5, 0, 101) + h.priority(7, 3, 1, True))
    p.next_sid = 9
    sids = []
    for i in range(a.streams):
        sid = p.new_sid()
        dep = sids[-1] if sids and i % 2 else 7
        sids.append(p.request(path=a.path, sid=sid, prio=(dep, 1 + (i * 37) % 256, i % 3 == 0)))
    # move the first open stream under the last, and name a far idle one
    p.send(h.priority(sids[0], sids[-1], 256) + h.priority(1001, 0, 16))
    p.wait_streams(sids)
    n = count_status(p, sids)
    out("n200", n.get("200", 0))
    out("other", sorted((k, v) for k, v in n.items() if k != "200") or "none")
    verdict(p)


SCENARIOS = {"rapid-reset": rapid_reset, "continuation": continuation,
             "hpack-bomb": hpack_bomb, "hpack-table": hpack_table, "flood": flood,
             "zero-window": zero_window, "queue503": queue503, "refused": refused,
             "get": get, "priority": prio, "reset-one": reset_one,
             "close-notify": close_notify, "expect": expect,
             "reset-held": reset_held}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("scenario", choices=sorted(SCENARIOS))
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--tls", action="store_true")
    ap.add_argument("--timeout", type=float, default=20.0,
                    help="seconds to wait for the server's answer (ASan is slow)")
    ap.add_argument("--path", default="/")
    ap.add_argument("--normal", default="/", help="path of the meanwhile GET")
    ap.add_argument("--post-path", default="/")
    ap.add_argument("--after", default="/")
    ap.add_argument("--count", type=int, default=2000)
    ap.add_argument("--bytes", type=int, default=8 << 20)
    ap.add_argument("--kind", default="settings")
    ap.add_argument("--streams", type=int, default=10)
    ap.add_argument("--stall", type=float, default=60.0)
    ap.add_argument("--pid", default=None)
    ap.add_argument("--after-ack", action="store_true")
    ap.add_argument("--method", default="GET")
    ap.add_argument("--header", action="append", default=[], help="NAME: VALUE (get)")
    ap.add_argument("--body-file", default=None, help="the request body (get)")
    ap.add_argument("--wait", type=float, default=5.0,
                    help="seconds to wait for a 100 before sending the body (expect)")
    ap.add_argument("--save", default=None, help="where the response body goes (get)")
    a = ap.parse_args()
    try:
        SCENARIOS[a.scenario](a)
    except Exception as e:  # noqa: BLE001 -- any failure of the peer itself
        sys.exit("%s: %s: %s" % (a.scenario, type(e).__name__, e))


if __name__ == "__main__":
    main()
