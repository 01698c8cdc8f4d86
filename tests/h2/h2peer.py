"""h2peer -- a small HTTP/2 client that sends exactly the frames it is told.

The hostile peers of tests/h2/ (and E1-h2-hostile.t, E2-h2-conformance.t)
are built on it.  python3-h2's connection object refuses to send most of
what they need (a CONTINUATION without end, an HPACK block that decodes to
megabytes, thousands of SETTINGS without reading the acks), so frames are
built by hand here (RFC 9113 section 4) and header blocks encoded by hand
(RFC 7541); what the server sends back is decoded with python3-hpack's
decoder (a dependency of python3-h2).  Every socket operation has a
deadline: nothing here can hang.

Frames received are folded into a Peer's state: per stream its status,
headers, body bytes, trailers, RST_STREAM code, end; the connection's GOAWAY
(last stream id, error code) and how it ended (eof, reset).
"""
import socket
import ssl
import struct
import time

import hpack

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

DATA, HEADERS, PRIORITY, RST_STREAM, SETTINGS, PUSH_PROMISE, PING, GOAWAY, \
    WINDOW_UPDATE, CONTINUATION = range(10)
END_STREAM, ACK, END_HEADERS, PADDED, PRIORITY_FLAG = 0x1, 0x1, 0x4, 0x8, 0x20

S_HEADER_TABLE_SIZE, S_ENABLE_PUSH, S_MAX_CONCURRENT_STREAMS, \
    S_INITIAL_WINDOW_SIZE, S_MAX_FRAME_SIZE, S_MAX_HEADER_LIST_SIZE = range(1, 7)

ERRORS = ["NO_ERROR", "PROTOCOL_ERROR", "INTERNAL_ERROR", "FLOW_CONTROL_ERROR",
          "SETTINGS_TIMEOUT", "STREAM_CLOSED", "FRAME_SIZE_ERROR",
          "REFUSED_STREAM", "CANCEL", "COMPRESSION_ERROR", "CONNECT_ERROR",
          "ENHANCE_YOUR_CALM", "INADEQUATE_SECURITY", "HTTP_1_1_REQUIRED"]


def error_name(code):
    return ERRORS[code] if 0 <= code < len(ERRORS) else "0x%x" % code


# --- frames -----------------------------------------------------------------

def frame(ftype, flags, sid, payload=b""):
    n = len(payload)
    return struct.pack(">BHBBI", n >> 16, n & 0xffff, ftype, flags,
                       sid & 0x7fffffff) + payload


def settings(pairs=(), ack=False):
    if ack:
        return frame(SETTINGS, ACK, 0)
    return frame(SETTINGS, 0, 0, b"".join(struct.pack(">HI", k, v) for k, v in pairs))


def ping(data=b"12345678", ack=False):
    return frame(PING, ACK if ack else 0, 0, data)


def rst_stream(sid, code=8):
    return frame(RST_STREAM, 0, sid, struct.pack(">I", code))


def window_update(sid, inc):
    return frame(WINDOW_UPDATE, 0, sid, struct.pack(">I", inc))


def data(sid, payload, end=False):
    return frame(DATA, END_STREAM if end else 0, sid, payload)


def priority(sid, dep=0, weight=16, exclusive=False):
    return frame(PRIORITY, 0, sid, struct.pack(">IB", dep | (exclusive << 31), weight - 1))


def goaway(last=0, code=0):
    return frame(GOAWAY, 0, 0, struct.pack(">II", last, code))


# --- HPACK, by hand (RFC 7541) ------------------------------------------------

def hp_int(value, prefix_bits, first=0):
    """An integer with an N-bit prefix; first holds the pattern bits."""
    limit = (1 << prefix_bits) - 1
    if value < limit:
        return bytes([first | value])
    out = [first | limit]
    value -= limit
    while value >= 128:
        out.append((value & 0x7f) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def hp_str(s):
    if isinstance(s, str):
        s = s.encode("latin-1")
    return hp_int(len(s), 7) + s


def hp_literal(name, value, index=False):
    """A literal field with a new name: without indexing (0x00), or with
    incremental indexing (0x40: it enters the server's dynamic table)."""
    return (b"\x40" if index else b"\x00") + hp_str(name) + hp_str(value)


def hp_indexed(i):
    return hp_int(i, 7, 0x80)


def header_block(fields):
    """A block of literals without indexing: no dynamic-table state to keep."""
    return b"".join(hp_literal(k, v) for k, v in fields)


def request_fields(method="GET", path="/", authority="localhost", scheme="http",
                   extra=()):
    return [(":method", method), (":scheme", scheme), (":authority", authority),
            (":path", path)] + list(extra)


def headers(sid, block, end_stream=False, end_headers=True, prio=None):
    flags = (END_STREAM if end_stream else 0) | (END_HEADERS if end_headers else 0)
    if prio is not None:
        dep, weight, excl = prio
        flags |= PRIORITY_FLAG
        block = struct.pack(">IB", dep | (excl << 31), weight - 1) + block
    return frame(HEADERS, flags, sid, block)


def continuation(sid, block, end_headers=False):
    return frame(CONTINUATION, END_HEADERS if end_headers else 0, sid, block)


# --- the peer -----------------------------------------------------------------

class Stream:
    def __init__(self, sid):
        self.sid = sid
        self.status = None
        self.headers = []
        self.trailers = []
        self.body = bytearray()
        self.rst = None
        self.ended = False
        self.informational = []

    def done(self):
        return self.ended or self.rst is not None


class Peer:
    """One connection.  settings: what our SETTINGS frame says; tls: ALPN h2;
    rcvbuf: a small SO_RCVBUF, set before connect (for clients that must not
    take what the server sends); auto_window: answer DATA with
    WINDOW_UPDATEs (False: the window only closes)."""

    def __init__(self, port, host="127.0.0.1", tls=False, timeout=10.0,
                 settings_pairs=((S_ENABLE_PUSH, 0),), rcvbuf=None,
                 auto_window=True, ack_settings=True, preface=True,
                 authority="localhost"):
        self.timeout = timeout
        self.auto_window = auto_window
        self.ack_settings = ack_settings
        self.authority = authority
        self.scheme = "https" if tls else "http"
        s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
        if rcvbuf:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        s.settimeout(timeout)
        s.connect((host, port))
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if tls:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            ctx.set_alpn_protocols(["h2"])
            s = ctx.wrap_socket(s, server_hostname="localhost")
            if s.selected_alpn_protocol() != "h2":
                raise RuntimeError("ALPN chose %r, not h2" % s.selected_alpn_protocol())
        self.sock = s
        self.buf = bytearray()
        self.dec = hpack.Decoder()
        self.dec.max_header_list_size = 1 << 30
        self.dec.max_allowed_table_size = 1 << 16
        self.streams = {}
        self.goaway = None           # (last_stream_id, code, debug)
        self.closed = None           # "eof", "reset" or None
        self.server_settings = {}
        self.settings_acked = 0      # SETTINGS ACKs received
        self.settings_seen = 0       # server SETTINGS frames received
        self.pings = 0               # PING ACKs received
        self.frames_in = 0
        self.bytes_in = 0
        self.hblock = None           # (sid, type, bytearray) of a header block in progress
        self.next_sid = 1
        if preface:
            self.send(PREFACE + settings(settings_pairs))

    # sending
    def send(self, b, timeout=None):
        """Sends everything, or returns False if the server closed or stopped
        taking bytes for `timeout` seconds (a blocked send is not an error)."""
        self.sock.settimeout(self.timeout if timeout is None else timeout)
        try:
            self.sock.sendall(b)
            return True
        except socket.timeout:
            return False
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, OSError):
            if self.closed is None:
                self.closed = "reset"
            return False
        finally:
            self.sock.settimeout(self.timeout)

    def new_sid(self):
        sid = self.next_sid
        self.next_sid += 2
        return sid

    def request(self, method="GET", path="/", extra=(), body=None, end_stream=None,
                sid=None, prio=None):
        sid = sid or self.new_sid()
        self.streams.setdefault(sid, Stream(sid))
        if end_stream is None:
            end_stream = body is None
        block = header_block(request_fields(method, path, self.authority, self.scheme, extra))
        out = headers(sid, block, end_stream=end_stream, prio=prio)
        if body is not None:
            out += data(sid, body, end=True)
        self.send(out)
        return sid

    # receiving
    def _frames(self):
        while len(self.buf) >= 9:
            n = (self.buf[0] << 16) | (self.buf[1] << 8) | self.buf[2]
            if len(self.buf) < 9 + n:
                return
            ftype, flags = self.buf[3], self.buf[4]
            sid = struct.unpack(">I", self.buf[5:9])[0] & 0x7fffffff
            payload = bytes(self.buf[9:9 + n])
            del self.buf[:9 + n]
            self.frames_in += 1
            self._on_frame(ftype, flags, sid, payload)

    def stream(self, sid):
        return self.streams.setdefault(sid, Stream(sid))

    def _on_frame(self, ftype, flags, sid, p):
        if ftype == SETTINGS:
            if flags & ACK:
                self.settings_acked += 1
            else:
                self.settings_seen += 1
                for i in range(0, len(p) - 5, 6):
                    k, v = struct.unpack(">HI", p[i:i + 6])
                    self.server_settings[k] = v
                if self.ack_settings:
                    self.send(settings(ack=True))
        elif ftype == PING:
            if flags & ACK:
                self.pings += 1
            else:
                self.send(ping(p, ack=True))
        elif ftype == GOAWAY:
            last, code = struct.unpack(">II", p[:8])
            self.goaway = (last & 0x7fffffff, code, p[8:])
        elif ftype == RST_STREAM:
            self.stream(sid).rst = struct.unpack(">I", p[:4])[0]
        elif ftype == DATA:
            if flags & PADDED:
                p = p[1:len(p) - p[0]]
            st = self.stream(sid)
            st.body += p
            if flags & END_STREAM:
                st.ended = True
            if self.auto_window and p:
                self.send(window_update(0, len(p)) +
                          (b"" if st.ended else window_update(sid, len(p))))
        elif ftype in (HEADERS, PUSH_PROMISE):
            if ftype == HEADERS:
                if flags & PADDED:
                    p = p[1:len(p) - p[0]]
                if flags & PRIORITY_FLAG:
                    p = p[5:]
            else:
                p = p[4:]
            self.hblock = (sid, ftype, flags, bytearray(p))
            if flags & END_HEADERS:
                self._end_block()
        elif ftype == CONTINUATION and self.hblock is not None:
            self.hblock[3].extend(p)
            if flags & END_HEADERS:
                self._end_block()

    def _end_block(self):
        sid, ftype, flags, block = self.hblock
        self.hblock = None
        fields = [(k if isinstance(k, str) else k.decode("latin-1"),
                   v if isinstance(v, str) else v.decode("latin-1"))
                  for k, v in self.dec.decode(bytes(block))]
        if ftype != HEADERS:
            return
        st = self.stream(sid)
        status = dict(fields).get(":status")
        if status is not None and status.startswith("1"):
            st.informational.append(int(status))
        elif st.status is None:
            st.status = int(status) if status else None
            st.headers = [(k, v) for k, v in fields if not k.startswith(":")]
        else:
            st.trailers = fields
        if flags & END_STREAM:
            st.ended = True

    def pump(self, until=None, timeout=None):
        """Reads frames until until(self) is true, the connection ends, or
        timeout seconds pass.  Returns until(self) (or True at the end of the
        connection when no condition is given)."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while True:
            if until is not None and until(self):
                return True
            if self.closed is not None:
                return until is None
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            self.sock.settimeout(min(left, 1.0))
            try:
                b = self.sock.recv(65536)
            except socket.timeout:
                continue
            except (ConnectionResetError, ssl.SSLError, OSError):
                self.closed = "reset"
                continue
            if not b:
                self.closed = "eof"
                continue
            self.bytes_in += len(b)
            self.buf += b
            self._frames()

    def handshake(self, timeout=None):
        """Until the server's SETTINGS came and acked ours."""
        return self.pump(lambda p: p.settings_seen and p.settings_acked, timeout)

    def wait_streams(self, sids, timeout=None):
        return self.pump(lambda p: all(p.stream(s).done() for s in sids), timeout)

    def ended(self):
        return self.closed is not None or self.goaway is not None

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def describe(self):
        """One line for test diagnostics."""
        parts = []
        for sid in sorted(self.streams):
            st = self.streams[sid]
            parts.append("%d:%s%s%s" % (sid, st.status, "" if st.rst is None else
                                        " rst=" + error_name(st.rst),
                                        " end" if st.ended else ""))
        ga = "-" if self.goaway is None else "%s/last=%d" % (error_name(self.goaway[1]),
                                                             self.goaway[0])
        return "streams [%s] goaway %s closed %s frames_in %d" % (
            ", ".join(parts[:20]) + (" ..." if len(parts) > 20 else ""), ga,
            self.closed, self.frames_in)


def rss_kib(pid):
    """VmRSS of a process, KiB (smaps_rollup when present: VmRSS lags in a
    threaded process)."""
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
    return 0
