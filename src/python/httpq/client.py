"""httpq queue protocol client, version 1 (httpq-protocol(7)).

Pure standard library.  One Handle is one connection to httpqd's queue
socket, which is one request-queue handle in http.sys terms: open or create
a queue, add URLs, then take requests with receive() and next_request() and
answer each through its Request object.

The handle is single-threaded and blocking from the caller's view, but its
socket is non-blocking underneath: whenever it waits to write it also reads,
so neither side can wedge the other.  Outgoing frames are queued and written
together (one sendmsg() for a response head, its body and the next RECEIVE);
incoming bytes are read in large pieces and split into frames.  Flow control
is honoured both ways: request body bytes are acknowledged with BODY_CREDIT
as the application consumes them, and response bytes are sent only within
the send window the daemon grants with SEND_CREDIT.
"""

import collections
import errno
import os
import select
import socket
import struct

VERSION = 1
HEADER_LEN = 16
MAX_PAYLOAD = 1 << 20
BODY_WINDOW = 256 * 1024
SEND_WINDOW = 256 * 1024
FILE_COST = 4096
MAX_CREDIT = 65535
DEFAULT_SOCKET = "/run/httpq/queue.sock"

# Frame types
HELLO = 1
RESULT = 2
CREATE_QUEUE = 3
OPEN_QUEUE = 4
ADD_URL = 5
REMOVE_URL = 6
RECEIVE = 7
REQUEST = 8
BODY = 9
BODY_CREDIT = 10
TRAILERS = 11
RESPONSE = 12
RESPONSE_BODY = 13
RESPONSE_FILE = 14
SEND_CREDIT = 15
CANCEL = 16
DISCONNECT = 17
SHUTDOWN = 18
ERROR = 19
TYPE_NAMES = {
    HELLO: "HELLO", RESULT: "RESULT", CREATE_QUEUE: "CREATE_QUEUE",
    OPEN_QUEUE: "OPEN_QUEUE", ADD_URL: "ADD_URL", REMOVE_URL: "REMOVE_URL",
    RECEIVE: "RECEIVE", REQUEST: "REQUEST", BODY: "BODY",
    BODY_CREDIT: "BODY_CREDIT", TRAILERS: "TRAILERS", RESPONSE: "RESPONSE",
    RESPONSE_BODY: "RESPONSE_BODY", RESPONSE_FILE: "RESPONSE_FILE",
    SEND_CREDIT: "SEND_CREDIT", CANCEL: "CANCEL", DISCONNECT: "DISCONNECT",
    SHUTDOWN: "SHUTDOWN", ERROR: "ERROR",
}

# Flags
F_END = 1            # BODY, RESPONSE, RESPONSE_BODY, RESPONSE_FILE
F_DISCONNECT = 2     # RESPONSE, RESPONSE_BODY, RESPONSE_FILE
F_HAS_BODY = 1       # REQUEST
F_TLS = 2            # REQUEST
# Flags each type may carry; any other bit is a protocol error.
_FLAGS_ALLOWED = {
    BODY: F_END, REQUEST: F_HAS_BODY | F_TLS,
    RESPONSE: F_END | F_DISCONNECT, RESPONSE_BODY: F_END | F_DISCONNECT,
    RESPONSE_FILE: F_END | F_DISCONNECT,
}

ROLE_WORKER = 1
ROLE_CONTROLLER = 2
ROLE_BOTH = 3

# Attribute tags
A_VERSION = 1
A_NAME = 2
A_MAX_PAYLOAD = 3
A_BODY_WINDOW = 4
A_SEND_WINDOW = 5
A_STATUS = 6
A_MESSAGE = 7
A_QUEUE = 8
A_LENGTH = 9
A_ROLE = 10
A_URL = 11
A_COUNT = 12
A_METHOD = 13
A_RAW_URL = 14
A_COOKED_URL = 15
A_PATH = 16
A_QUERY = 17
A_HOST = 18
A_HEADER = 19
A_REMOTE_ADDR = 20
A_LOCAL_ADDR = 21
A_URL_PREFIX = 22
A_URL_GROUP = 23
A_CONNECTION_ID = 24
A_CONTENT_LENGTH = 25
A_TLS_PROTOCOL = 26
A_TLS_CIPHER = 27
A_TLS_SNI = 28
A_TLS_CLIENT_SUBJECT = 29
A_TLS_CLIENT_FINGERPRINT = 30
A_TLS_CLIENT_VERIFIED = 31
A_BYTES = 32
A_REASON = 33
A_OFFSET = 34
A_LENGTH64 = 35

# RESULT status codes
OK = 0
S_PROTOCOL = 1
S_ACCESS_DENIED = 2
S_ALREADY_EXISTS = 3
S_NOT_FOUND = 4
S_INVALID = 5
S_LIMIT = 6
S_SHUTTING_DOWN = 7
STATUS_NAMES = ["OK", "PROTOCOL", "ACCESS_DENIED", "ALREADY_EXISTS",
                "NOT_FOUND", "INVALID", "LIMIT", "SHUTTING_DOWN"]

_HDR = struct.Struct(">IHHQ")
_ATTR = struct.Struct(">HI")
_U32 = struct.Struct(">I")
_U64 = struct.Struct(">Q")
_I64 = struct.Struct(">q")


class ProtocolError(Exception):
    """The peer broke the protocol (or the daemon sent ERROR)."""


class QueueError(Exception):
    """A call was refused: .status (number), .status_name, .message."""

    def __init__(self, call, status, message):
        self.call = call
        self.status = status
        self.status_name = status_name(status)
        self.message = message
        text = "%s: %s" % (call, self.status_name)
        if message:
            text += ": " + message
        super().__init__(text)


class Disconnected(OSError):
    """The request ended without our END: the client went away, a timeout,
    or the daemon cancelled it (the DISCONNECT frame's reason)."""


class ConnectError(OSError):
    """The queue socket could not be reached; str() is the whole message."""

    def __str__(self):
        return self.strerror


def status_name(status):
    if 0 <= status < len(STATUS_NAMES):
        return STATUS_NAMES[status]
    return "status %d" % status


# --- codec ------------------------------------------------------------------

def frame(ftype, flags=0, fid=0, payload=b""):
    """One encoded frame: the 16-byte header, then the payload."""
    if len(payload) > MAX_PAYLOAD:
        raise ValueError("payload %d bytes over %d" % (len(payload), MAX_PAYLOAD))
    return _HDR.pack(len(payload), ftype, flags, fid) + payload


def attr(tag, value):
    """One attribute: value is bytes, str (UTF-8) or an already packed int."""
    if isinstance(value, str):
        value = value.encode("utf-8")
    return _ATTR.pack(tag, len(value)) + value


def attr_u32(tag, v):
    return _ATTR.pack(tag, 4) + _U32.pack(v)


def attr_u64(tag, v):
    return _ATTR.pack(tag, 8) + _U64.pack(v)


def attr_i64(tag, v):
    return _ATTR.pack(tag, 8) + _I64.pack(v)


def attr_header(name, value):
    """A HEADER attribute "name:value"; name and value as bytes or latin-1 str."""
    if isinstance(name, str):
        name = name.encode("latin-1")
    if isinstance(value, str):
        value = value.encode("latin-1")
    v = name + b":" + value.strip(b" \t")
    if b"\0" in v or b"\r" in v or b"\n" in v:
        raise ValueError("header %r contains NUL, CR or LF" % name)
    return _ATTR.pack(A_HEADER, len(v)) + v


def parse(buf, start=0):
    """One frame from buf[start:]: (end, type, flags, id, payload) or None
    when more bytes are needed.  Raises ProtocolError when malformed."""
    if len(buf) - start < HEADER_LEN:
        return None
    length, ftype, flags, fid = _HDR.unpack_from(buf, start)
    if length > MAX_PAYLOAD:
        raise ProtocolError("payload %d bytes over %d" % (length, MAX_PAYLOAD))
    if ftype not in TYPE_NAMES:
        raise ProtocolError("frame type %d unknown" % ftype)
    if flags & ~_FLAGS_ALLOWED.get(ftype, 0):
        raise ProtocolError("flags 0x%x not defined for %s" % (flags, TYPE_NAMES[ftype]))
    end = start + HEADER_LEN + length
    if len(buf) < end:
        return None
    return end, ftype, flags, fid, bytes(buf[start + HEADER_LEN:end])


def attrs(payload):
    """The attributes of a payload as a list of (tag, bytes)."""
    out = []
    i, n = 0, len(payload)
    while i < n:
        if n - i < 6:
            raise ProtocolError("truncated attribute at offset %d" % i)
        tag, vlen = _ATTR.unpack_from(payload, i)
        i += 6
        if vlen > n - i:
            raise ProtocolError("attribute %d: %d bytes, %d left" % (tag, vlen, n - i))
        out.append((tag, payload[i:i + vlen]))
        i += vlen
    return out


def get_u32(v):
    if len(v) != 4:
        raise ProtocolError("u32 attribute of %d bytes" % len(v))
    return _U32.unpack(v)[0]


def get_u64(v):
    if len(v) != 8:
        raise ProtocolError("u64 attribute of %d bytes" % len(v))
    return _U64.unpack(v)[0]


def get_i64(v):
    if len(v) != 8:
        raise ProtocolError("i64 attribute of %d bytes" % len(v))
    return _I64.unpack(v)[0]


def _text(v):
    return v.decode("utf-8", "replace")


# --- requests ---------------------------------------------------------------

_STR_FIELDS = {
    A_METHOD: "method", A_RAW_URL: "raw_url", A_COOKED_URL: "cooked_url",
    A_PATH: "path", A_QUERY: "query", A_HOST: "host",
    A_REMOTE_ADDR: "remote_addr", A_LOCAL_ADDR: "local_addr",
    A_URL_PREFIX: "url_prefix", A_URL_GROUP: "url_group",
    A_TLS_PROTOCOL: "tls_protocol", A_TLS_CIPHER: "tls_cipher",
    A_TLS_SNI: "tls_sni", A_TLS_CLIENT_SUBJECT: "tls_client_subject",
    A_TLS_CLIENT_FINGERPRINT: "tls_client_fingerprint",
}


class Request:
    """One request held by this handle.  String fields are bytes as they
    came (method, raw_url, path, ...; query without its '?'), None when
    absent; headers is a list of (name, value) bytes pairs in order.  read() returns body bytes as the daemon delivers
    them; send_response()/send_body()/send_file()/send_trailers() answer."""

    def __init__(self, handle, fid, flags, payload):
        self.handle = handle
        self.id = fid
        self.flags = flags
        self.has_body = bool(flags & F_HAS_BODY)
        self.tls = bool(flags & F_TLS)
        for name in _STR_FIELDS.values():
            setattr(self, name, None)
        self.version = 11
        self.headers = []
        self.trailers = []
        self.connection_id = 0
        self.content_length = 0
        self.tls_client_verified = None
        for tag, v in attrs(payload):
            if tag in _STR_FIELDS:
                setattr(self, _STR_FIELDS[tag], v)
            elif tag == A_HEADER:
                self.headers.append(_split_header(v))
            elif tag == A_VERSION:
                self.version = get_u32(v)
            elif tag == A_CONNECTION_ID:
                self.connection_id = get_u64(v)
            elif tag == A_CONTENT_LENGTH:
                self.content_length = get_i64(v)
            elif tag == A_TLS_CLIENT_VERIFIED:
                self.tls_client_verified = get_u32(v)
        # QUERY comes with its '?' (http.sys's pQueryString); .query is the
        # query string itself, None when the target had no '?'
        if self.query is not None and self.query.startswith(b"?"):
            self.query = self.query[1:]
        # request body: chunks delivered and not yet read
        self._chunks = collections.deque()
        self._buffered = 0
        self._unacked = 0           # bytes read by the app, not yet credited
        self.body_done = not self.has_body
        # response side
        self.send_credit = handle.send_window
        self.started = False        # RESPONSE sent
        self.done = False           # our END/TRAILERS/CANCEL sent, or DISCONNECT
        self.disconnect_reason = None

    def header(self, name):
        """The first value of a request header (bytes), or None."""
        name = name.lower().encode("latin-1") if isinstance(name, str) else name.lower()
        for n, v in self.headers:
            if n.lower() == name:
                return v
        return None

    # -- request body
    def _deliver(self, data, end):
        if data:
            self._chunks.append(data)
            self._buffered += len(data)
        if end:
            self.body_done = True

    def read(self, size=-1):
        """Up to size body bytes (all of the rest if size < 0); b"" at the
        end of the body.  Blocks until at least one byte or the end."""
        h = self.handle
        while not self._chunks and not self.body_done:
            if self.disconnect_reason is not None:
                raise Disconnected(errno.ECONNRESET, "request %d: %s" % (self.id, self.disconnect_reason))
            if self.done:
                return b""      # answered: the rest of the body is not ours
            self._credit(force=True)
            h._wait_input()
        if self.disconnect_reason is not None and not self._chunks:
            raise Disconnected(errno.ECONNRESET, "request %d: %s" % (self.id, self.disconnect_reason))
        if size == 0:
            return b""
        if size is None or size < 0:
            parts = []
            while True:
                part = self.read(MAX_PAYLOAD)
                if not part:
                    return b"".join(parts)
                parts.append(part)
        out = []
        want = size
        while want > 0 and self._chunks:
            c = self._chunks[0]
            if len(c) <= want:
                self._chunks.popleft()
                out.append(c)
                want -= len(c)
            else:
                out.append(c[:want])
                self._chunks[0] = c[want:]
                want = 0
        data = b"".join(out)
        self._buffered -= len(data)
        self._unacked += len(data)
        self._credit(force=False)
        return data

    def _credit(self, force):
        # Acknowledge consumed bytes: at once when we are about to wait for
        # more, else in batches of a quarter window.
        if self._unacked and not self.body_done and self.disconnect_reason is None and \
                (force or self._unacked >= self.handle.body_window // 4):
            self.handle._queue(frame(BODY_CREDIT, 0, self.id, attr_u32(A_BYTES, self._unacked)))
            self._unacked = 0

    # -- response
    def _check_open(self):
        if self.disconnect_reason is not None:
            raise Disconnected(errno.EPIPE, "request %d: %s" % (self.id, self.disconnect_reason))
        if self.done:
            raise ProtocolError("request %d is already complete" % self.id)

    def send_response(self, status, reason=None, headers=(), end=False, disconnect=False):
        """The response head: status, optional reason, headers as (name,
        value) pairs.  end: no body follows.  Queued; sent with what follows."""
        self._check_open()
        if self.started:
            raise ProtocolError("request %d: response already started" % self.id)
        parts = [attr_u32(A_STATUS, status)]
        if reason:
            parts.append(attr(A_REASON, reason if isinstance(reason, bytes) else reason.encode("latin-1")))
        for n, v in headers:
            parts.append(attr_header(n, v))
        flags = (F_END if end else 0) | (F_DISCONNECT if disconnect else 0)
        payload = b"".join(parts)
        if len(payload) > self.handle.max_payload:
            raise ValueError("response head of %d bytes over %d" % (len(payload), self.handle.max_payload))
        self.started = True
        if end:
            self.done = True
        self.handle._queue(frame(RESPONSE, flags, self.id, payload))
        if end:
            self.handle._finished(self)

    def send_body(self, data, end=False, disconnect=False):
        """Response body bytes, within the send window (waits for
        SEND_CREDIT as needed, in frames of at most MAX_PAYLOAD)."""
        self._check_open()
        if not self.started:
            raise ProtocolError("request %d: body before the response head" % self.id)
        h = self.handle
        view = memoryview(data).cast("B") if data else memoryview(b"")
        while len(view):
            while self.send_credit <= 0:
                h._wait_input()
                self._check_open()
            n = min(len(view), self.send_credit, h.max_payload)
            last = n == len(view) and end
            flags = (F_END if last else 0) | (F_DISCONNECT if last and disconnect else 0)
            self.send_credit -= n
            h._queue(frame(RESPONSE_BODY, flags, self.id, bytes(view[:n])))
            view = view[n:]
            if last:
                self.done = True
                h._finished(self)
                return
        if end:
            flags = F_END | (F_DISCONNECT if disconnect else 0)
            self.done = True
            h._queue(frame(RESPONSE_BODY, flags, self.id))
            h._finished(self)

    def send_file(self, fd, offset, length, end=False, disconnect=False):
        """length bytes of the open file fd from offset, sent by the daemon
        from the file itself (the fd travels with SCM_RIGHTS; this call
        duplicates it, the caller keeps and closes its own)."""
        self._check_open()
        if not self.started:
            raise ProtocolError("request %d: file before the response head" % self.id)
        h = self.handle
        while self.send_credit < FILE_COST:
            h._wait_input()
            self._check_open()
        self.send_credit -= FILE_COST
        flags = (F_END if end else 0) | (F_DISCONNECT if disconnect else 0)
        if end:
            self.done = True
        h._queue(frame(RESPONSE_FILE, flags, self.id,
                       attr_u64(A_OFFSET, offset) + attr_u64(A_LENGTH64, length)),
                 fd=os.dup(fd))
        if end:
            h._finished(self)

    def send_trailers(self, headers):
        """Ends a (chunked) response with trailer fields."""
        self._check_open()
        self.done = True
        self.handle._queue(frame(TRAILERS, 0, self.id, b"".join(attr_header(n, v) for n, v in headers)))
        self.handle._finished(self)

    def cancel(self):
        """http.sys HttpCancelHttpRequest: the daemon resets (response not
        started) or closes (started) the client's connection."""
        if self.done:
            return
        self.done = True
        if self.disconnect_reason is None:
            self.handle._queue(frame(CANCEL, 0, self.id))
        self.handle._finished(self)

    @property
    def disconnected(self):
        return self.disconnect_reason is not None


def _split_header(v):
    i = v.find(b":")
    if i <= 0:
        raise ProtocolError("HEADER attribute without a name: %r" % v[:40])
    return v[:i], v[i + 1:].strip(b" \t")


# --- the handle -------------------------------------------------------------

class Handle:
    """A connection to httpqd's queue socket: one request-queue handle."""

    def __init__(self, path=None, name=None):
        self.path = path or DEFAULT_SOCKET
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            self.sock.connect(self.path)
        except OSError as e:
            self.sock.close()
            raise ConnectError(e.errno, "cannot connect to httpqd queue socket %s: %s"
                               % (self.path, e.strerror)) from None
        self.sock.setblocking(False)
        self._init_state()
        self.hello(name)

    @classmethod
    def from_socket(cls, sock, name=None):
        """A handle over an already connected socket (tests, socketpair)."""
        self = cls.__new__(cls)
        self.path = None
        self.sock = sock
        self.sock.setblocking(False)
        self._init_state()
        self.hello(name)
        return self

    def _init_state(self):
        self._in = bytearray()
        self._rbuf = bytearray(1 << 18)
        self._out = bytearray()
        self._fds = collections.deque()   # (offset in _out, fd), offsets ascending
        self._calls = {}                  # call id -> (status, message) once answered
        self._next_call = 1
        self.requests = {}                # id -> Request held
        self.pending = collections.deque()  # delivered, not yet taken by next_request()
        self.closed = False
        self.eof = False
        self.shutdown_received = False
        self.error_message = None
        self.server_name = None
        self.max_payload = MAX_PAYLOAD
        self.body_window = BODY_WINDOW
        self.send_window = SEND_WINDOW
        self.credit = 0                   # RECEIVE credit outstanding
        self.frames_in = 0                # counters (tests, diagnostics)
        self.reads = 0
        self.writes = 0

    def fileno(self):
        return self.sock.fileno()

    # -- calls
    def hello(self, name=None):
        payload = attr_u32(A_VERSION, VERSION)
        if name:
            payload += attr(A_NAME, name)
        self._queue(frame(HELLO, 0, 0, payload))
        self._hello = None
        while self._hello is None:
            self._wait_input()
        for tag, v in self._hello:
            if tag == A_VERSION and get_u32(v) != VERSION:
                raise ProtocolError("httpqd speaks protocol version %d, this client %d" % (get_u32(v), VERSION))
            elif tag == A_NAME:
                self.server_name = _text(v)
            elif tag == A_MAX_PAYLOAD:
                self.max_payload = max(4096, min(get_u32(v), MAX_PAYLOAD))
            elif tag == A_BODY_WINDOW:
                self.body_window = get_u32(v)
            elif tag == A_SEND_WINDOW:
                self.send_window = get_u32(v)

    def _call(self, ftype, payload, what):
        cid = self._next_call
        self._next_call += 1
        self._queue(frame(ftype, 0, cid, payload))
        while cid not in self._calls:
            self._wait_input()
        status, message = self._calls.pop(cid)
        if status != OK:
            raise QueueError(what, status, message)

    def create_queue(self, name, length=None):
        """HttpCreateRequestQueue with a name: a run-time queue owned by this
        handle (it and its URLs vanish when the handle closes)."""
        p = attr(A_QUEUE, name)
        if length is not None:
            p += attr_u32(A_LENGTH, length)
        self._call(CREATE_QUEUE, p, "CREATE_QUEUE %s" % name)

    def open_queue(self, name, role=ROLE_BOTH):
        self._call(OPEN_QUEUE, attr(A_QUEUE, name) + attr_u32(A_ROLE, role), "OPEN_QUEUE %s" % name)

    def add_url(self, url):
        self._call(ADD_URL, attr(A_URL, url), "ADD_URL %s" % url)

    def remove_url(self, url):
        self._call(REMOVE_URL, attr(A_URL, url), "REMOVE_URL %s" % url)

    def shutdown(self):
        """HttpShutdownRequestQueue for this handle: no more requests; the
        ones held still complete (and any delivered before the answer are
        in self.pending)."""
        self._call(SHUTDOWN, b"", "SHUTDOWN")
        self.credit = 0       # the daemon dropped what was outstanding

    def receive(self, count=1):
        """Pull credit: this handle will take count more requests."""
        if count <= 0:
            return
        if self.credit + count > MAX_CREDIT:
            raise ValueError("RECEIVE credit over %d" % MAX_CREDIT)
        self.credit += count
        self._queue(frame(RECEIVE, 0, 0, attr_u32(A_COUNT, count)))

    def next_request(self, timeout=None, wake_fd=None):
        """The next delivered request, waiting for one (after receive()).
        None on timeout, when wake_fd became readable, or when the daemon
        shut the queue down (self.shutdown_received) or closed (self.eof)."""
        while not self.pending:
            if self.eof or self.shutdown_received:
                return None
            if not self._wait_input(timeout=timeout, wake_fd=wake_fd):
                return None
        return self.pending.popleft()

    def flush(self):
        """Writes every queued frame (reading meanwhile)."""
        while self._out:
            self._wait_input(until_flushed=True)

    def close(self):
        if self.closed:
            return
        self.closed = True
        try:
            if self._out and not self.eof:
                try:
                    self.flush()
                except (OSError, ProtocolError):
                    pass
        finally:
            for _, fd in self._fds:
                os.close(fd)
            self._fds.clear()
            self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- plumbing
    def _queue(self, data, fd=None):
        if self.eof or self.closed:
            if fd is not None:
                os.close(fd)
            raise ProtocolError(self.error_message or "httpqd closed the queue connection")
        if fd is not None:
            self._fds.append((len(self._out), fd))
        self._out += data
        # Large queues are written now; small frames wait for the next
        # blocking point so that many go out in one write.
        if len(self._out) >= 256 * 1024:
            self._try_write()

    def _finished(self, req):
        self.requests.pop(req.id, None)

    def _try_write(self):
        """Writes what the socket takes now; False if it would block."""
        while self._out:
            try:
                if self._fds and self._fds[0][0] == 0:
                    fd = self._fds[0][1]
                    end = self._fds[1][0] if len(self._fds) > 1 else len(self._out)
                    n = self.sock.sendmsg([memoryview(self._out)[:end]], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, struct.pack("i", fd))])
                    self._fds.popleft()
                    os.close(fd)
                else:
                    end = self._fds[0][0] if self._fds else len(self._out)
                    n = self.sock.send(memoryview(self._out)[:end])
            except (BlockingIOError, InterruptedError):
                return False
            except OSError as e:
                if e.errno in (errno.EPIPE, errno.ECONNRESET):
                    self._set_eof()
                    raise ProtocolError(self.error_message or "httpqd closed the queue connection") from None
                raise
            self.writes += 1
            del self._out[:n]
            if self._fds:
                self._fds = collections.deque((o - n, f) for o, f in self._fds)
        return True

    def _set_eof(self):
        self.eof = True
        for req in list(self.requests.values()):
            if req.disconnect_reason is None:
                req.disconnect_reason = self.error_message or "httpqd closed the queue connection"
        self._out.clear()
        for _, fd in self._fds:
            os.close(fd)
        self._fds.clear()

    def _wait_input(self, timeout=None, wake_fd=None, until_flushed=False):
        """Blocks until some frames were read (or, with until_flushed, until
        everything queued is written).  Writes queued frames meanwhile.
        False on timeout or wake_fd readable."""
        if self.eof:
            raise ProtocolError(self.error_message or "httpqd closed the queue connection")
        poller = select.poll()
        while True:
            if self._out:
                self._try_write()
                if until_flushed and not self._out:
                    return True
            ev = select.POLLIN
            if self._out:
                ev |= select.POLLOUT
            poller.register(self.sock, ev)
            if wake_fd is not None:
                poller.register(wake_fd, select.POLLIN)
            ms = None if timeout is None else max(0, int(timeout * 1000))
            got = poller.poll(ms)
            if not got:
                return False
            for fd, e in got:
                if fd == wake_fd:
                    return False
            for fd, e in got:
                if e & (select.POLLIN | select.POLLHUP | select.POLLERR):
                    if self._read():
                        return True
                if e & select.POLLOUT:
                    self._try_write()
                    if until_flushed and not self._out:
                        return True

    def _read(self):
        """Reads what is there and dispatches every complete frame; True if
        at least one frame arrived (or the connection ended)."""
        try:
            # into one buffer kept for the handle's life: a fresh 256 KiB
            # object per read costs an mmap and a munmap
            n = self.sock.recv_into(self._rbuf)
        except (BlockingIOError, InterruptedError):
            return False
        except ConnectionResetError:
            n = 0
        self.reads += 1
        if not n:
            self._set_eof()
            raise ProtocolError(self.error_message or "httpqd closed the queue connection")
        self._in += memoryview(self._rbuf)[:n]
        pos = 0
        got = False
        try:
            while True:
                f = parse(self._in, pos)
                if f is None:
                    break
                pos, ftype, flags, fid, payload = f
                got = True
                self._dispatch(ftype, flags, fid, payload)
        finally:
            del self._in[:pos]
        return got

    def _dispatch(self, ftype, flags, fid, payload):
        self.frames_in += 1
        if ftype == BODY:
            req = self.requests.get(fid)
            if req is not None and not req.body_done:
                req._deliver(payload, flags & F_END)
        elif ftype == SEND_CREDIT:
            req = self.requests.get(fid)
            if req is not None:
                req.send_credit += _attr_u32(payload, A_BYTES, 0)
        elif ftype == REQUEST:
            if self.credit <= 0:
                raise ProtocolError("REQUEST %d without RECEIVE credit" % fid)
            self.credit -= 1
            req = Request(self, fid, flags, payload)
            self.requests[fid] = req
            self.pending.append(req)
        elif ftype == TRAILERS:
            req = self.requests.get(fid)
            if req is not None:
                req.trailers.extend(_split_header(v) for t, v in attrs(payload) if t == A_HEADER)
        elif ftype == DISCONNECT:
            req = self.requests.pop(fid, None)
            if req is not None:
                reason = _attr_str(payload, A_REASON) or "disconnected"
                req.disconnect_reason = reason
                req.done = True
        elif ftype == RESULT:
            self._calls[fid] = (_attr_u32(payload, A_STATUS, S_PROTOCOL), _attr_str(payload, A_MESSAGE))
        elif ftype == HELLO:
            self._hello = attrs(payload)
        elif ftype == SHUTDOWN:
            if fid == 0:
                self.shutdown_received = True
            else:   # answer to our SHUTDOWN call
                self._calls[fid] = (_attr_u32(payload, A_STATUS, OK), _attr_str(payload, A_MESSAGE))
        elif ftype == ERROR:
            self.error_message = "httpqd: " + (_attr_str(payload, A_MESSAGE) or "protocol error")
            self._set_eof()
            raise ProtocolError(self.error_message)
        else:
            raise ProtocolError("unexpected %s frame from httpqd" % TYPE_NAMES[ftype])


def _attr_u32(payload, tag, default):
    for t, v in attrs(payload):
        if t == tag:
            return get_u32(v)
    return default


def _attr_str(payload, tag):
    for t, v in attrs(payload):
        if t == tag:
            return _text(v)
    return None
