#!/usr/bin/env python3
"""Unit tests of src/python/httpq (the queue protocol codec, the Handle, the
WSGI adapter and httpq-wsgi's start-up) against a fake httpqd written here,
on a socketpair or a Unix socket.  Prints TAP (tests/integration/B5-pyclient.t
runs it under make check)."""

import io
import os
import socket
import struct
import sys
import tempfile
import threading
import traceback
import unittest
import contextlib

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.environ.get("HQ_PYSRC", os.path.join(HERE, "..", "..", "src", "python")))

from httpq import client as C          # noqa: E402
from httpq import wsgi as W            # noqa: E402


class FakeDaemon:
    """The daemon side of one connection, run by a scenario function in a
    thread.  It checks what a real httpqd enforces: the body window (credit
    never exceeds what was delivered), the send window (never overrun), one
    fd per RESPONSE_FILE."""

    def __init__(self, sock, body_window=C.BODY_WINDOW, send_window=C.SEND_WINDOW):
        self.sock = sock
        self.sock.settimeout(20)
        self.buf = bytearray()
        self.fds = []
        self.body_window = body_window
        self.send_window = send_window
        self.recvs = []          # sizes of each recv (batching)

    def _recv(self):
        fds = []
        data, anc, flags, _ = self.sock.recvmsg(1 << 20, socket.CMSG_SPACE(4 * 8))
        for level, typ, cdata in anc:
            if level == socket.SOL_SOCKET and typ == socket.SCM_RIGHTS:
                n = len(cdata) // 4
                fds.extend(struct.unpack("%di" % n, cdata[:n * 4]))
        # fds are taken in order by RESPONSE_FILE frames (Linux may hand
        # them out with bytes of an earlier frame in the same recvmsg)
        self.fds.extend(fds)
        if not data:
            raise EOFError("client closed")
        self.recvs.append(len(data))
        self.buf += data

    def frame(self):
        """The next frame: (type, flags, id, attrs list, payload, fds)."""
        while True:
            f = C.parse(self.buf)
            if f is not None:
                end, t, flags, fid, payload = f
                fds = []
                if t == C.RESPONSE_FILE and self.fds:
                    fds = [self.fds.pop(0)]
                del self.buf[:end]
                a = C.attrs(payload) if t not in (C.RESPONSE_BODY,) else []
                return t, flags, fid, a, payload, fds
            self._recv()

    def expect(self, t):
        f = self.frame()
        assert f[0] == t, "expected %s, got %s" % (C.TYPE_NAMES[t], C.TYPE_NAMES[f[0]])
        return f

    def send(self, t, flags=0, fid=0, payload=b""):
        self.sock.sendall(C.frame(t, flags, fid, payload))

    def hello(self):
        f = self.expect(C.HELLO)
        assert dict(f[3])[C.A_VERSION] == struct.pack(">I", 1)
        self.send(C.HELLO, 0, 0, C.attr_u32(C.A_VERSION, 1) + C.attr(C.A_NAME, "httpq/fake") +
                  C.attr_u32(C.A_MAX_PAYLOAD, C.MAX_PAYLOAD) + C.attr_u32(C.A_BODY_WINDOW, self.body_window) +
                  C.attr_u32(C.A_SEND_WINDOW, self.send_window))

    def answer(self, t, status=0, message=None):
        f = self.expect(t)
        p = C.attr_u32(C.A_STATUS, status)
        if message:
            p += C.attr(C.A_MESSAGE, message)
        self.send(C.RESULT, 0, f[2], p)
        return f

    def receive_credit(self):
        f = self.expect(C.RECEIVE)
        return C.get_u32(dict(f[3])[C.A_COUNT])

    def request(self, rid, method=b"GET", path=b"/", query=None, headers=(), prefix=b"http://+:8080/",
                body_len=0, tls=False):
        p = [C.attr(C.A_METHOD, method), C.attr(C.A_RAW_URL, path + (b"?" + query if query is not None else b"")),
             C.attr(C.A_PATH, path), C.attr(C.A_HOST, b"example.test:8080"),
             C.attr_u32(C.A_VERSION, 11)]
        if query is not None:           # QUERY with its '?', only when there is one
            p.append(C.attr(C.A_QUERY, b"?" + query))
        p += [C.attr_header(n, v) for n, v in headers]
        p += [C.attr(C.A_REMOTE_ADDR, b"127.0.0.1:40000"), C.attr(C.A_LOCAL_ADDR, b"127.0.0.1:8080"),
              C.attr(C.A_URL_PREFIX, prefix), C.attr(C.A_URL_GROUP, b"g"),
              C.attr_u64(C.A_CONNECTION_ID, 7), C.attr_i64(C.A_CONTENT_LENGTH, body_len)]
        if tls:
            p += [C.attr(C.A_TLS_PROTOCOL, b"TLSv1.3"), C.attr(C.A_TLS_CIPHER, b"TLS_AES_128_GCM_SHA256"),
                  C.attr(C.A_TLS_SNI, b"example.test"), C.attr_u32(C.A_TLS_CLIENT_VERIFIED, 0)]
        flags = (C.F_HAS_BODY if body_len else 0) | (C.F_TLS if tls else 0)
        self.send(C.REQUEST, flags, rid, b"".join(p))

    def response(self, rid, body=None):
        """Reads one whole response for rid (granting SEND_CREDIT as bytes
        arrive, checking the window): (status, headers, body bytes, last
        flags, frames seen)."""
        f = self.expect(C.RESPONSE)
        assert f[2] == rid
        a = f[3]
        status = C.get_u32(dict(a)[C.A_STATUS])
        headers = [C._split_header(v) for t, v in a if t == C.A_HEADER]
        out = bytearray()
        seen = [f[0]]
        if f[1] & C.F_END:
            return status, headers, bytes(out), f[1], seen
        window = self.send_window
        while True:
            t, flags, fid, a, payload, fds = self.frame()
            seen.append(t)
            assert fid == rid, "frame for request %d, expected %d" % (fid, rid)
            if t == C.RESPONSE_BODY:
                assert len(payload) <= window, "send window overrun: %d bytes, window %d" % (len(payload), window)
                window -= len(payload)
                out += payload
                if payload and not flags & C.F_END:
                    self.send(C.SEND_CREDIT, 0, rid, C.attr_u32(C.A_BYTES, len(payload)))
                    window += len(payload)
            elif t == C.RESPONSE_FILE:
                assert len(fds) == 1, "RESPONSE_FILE with %d fds" % len(fds)
                d = dict(a)
                off, n = C.get_u64(d[C.A_OFFSET]), C.get_u64(d[C.A_LENGTH64])
                out += os.pread(fds[0], n, off)
                os.close(fds[0])
            elif t in (C.CANCEL, C.TRAILERS):
                return status, headers, bytes(out), 0, seen
            else:
                raise AssertionError("unexpected %s" % C.TYPE_NAMES[t])
            if flags & C.F_END:
                return status, headers, bytes(out), flags, seen


class Peer:
    """A FakeDaemon scenario in a thread; join() re-raises its failure."""

    def __init__(self, scenario, **kw):
        self.csock, dsock = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        self.d = FakeDaemon(dsock, **kw)
        self.error = None
        self.result = None
        self.t = threading.Thread(target=self._run, args=(scenario,), daemon=True)
        self.t.start()

    def _run(self, scenario):
        try:
            self.result = scenario(self.d)
        except BaseException:
            self.error = traceback.format_exc()
        finally:
            try:
                self.d.sock.shutdown(socket.SHUT_WR)
            except OSError:
                pass

    def join(self):
        self.t.join(30)
        assert not self.t.is_alive(), "fake daemon still running"
        if self.error:
            raise AssertionError("fake daemon: " + self.error)
        return self.result


def serve_one(app, scenario, **kw):
    """Hello, one RECEIVE and one request through handle_request."""
    peer = Peer(scenario, **kw)
    h = C.Handle.from_socket(peer.csock)
    h.receive(1)
    req = h.next_request(timeout=20)
    assert req is not None, "no request"
    w0 = h.writes
    W.handle_request(req, app, errors=io.StringIO())
    h.receive(1)
    h.flush()
    serve_one.writes = h.writes - w0
    res = peer.join()
    h.close()
    return res


class Codec(unittest.TestCase):
    def test_roundtrip_and_partial(self):
        f = C.frame(C.BODY, C.F_END, 5, b"abc")
        self.assertEqual(len(f), 19)
        self.assertEqual(f[:16], struct.pack(">IHHQ", 3, 9, 1, 5))
        self.assertEqual(C.parse(f), (19, C.BODY, 1, 5, b"abc"))
        for cut in range(len(f)):
            self.assertIsNone(C.parse(f[:cut]), "partial frame of %d bytes" % cut)
        two = f + C.frame(C.RECEIVE, 0, 0, C.attr_u32(C.A_COUNT, 3))
        end = C.parse(two)[0]
        self.assertEqual(C.parse(two, end)[1], C.RECEIVE)
        self.assertEqual(C.attrs(C.attr_u32(C.A_COUNT, 3) + C.attr(C.A_URL, "u")),
                         [(C.A_COUNT, b"\0\0\0\3"), (C.A_URL, b"u")])

    def test_malformed(self):
        cases = [
            (struct.pack(">IHHQ", C.MAX_PAYLOAD + 1, C.BODY, 0, 1), "payload 1048577 bytes over 1048576"),
            (struct.pack(">IHHQ", 0, 77, 0, 0), "frame type 77 unknown"),
            (struct.pack(">IHHQ", 0, C.BODY, 4, 1), "flags 0x4 not defined for BODY"),
            (struct.pack(">IHHQ", 0, C.RESULT, 1, 1), "flags 0x1 not defined for RESULT"),
        ]
        for data, msg in cases:
            with self.assertRaises(C.ProtocolError) as cm:
                C.parse(data)
            self.assertEqual(str(cm.exception), msg)
        for bad in (b"\0\1\0\0", b"\0\1\0\0\0\5ab"):
            self.assertRaises(C.ProtocolError, C.attrs, bad)
        self.assertRaises(C.ProtocolError, C.get_u32, b"abc")
        self.assertRaises(ValueError, C.attr_header, "X", "a\r\nb")

    def test_prefix_path(self):
        for prefix, want in [("http://+:80/", ""), ("http://+:80/app/", "/app"),
                             ("https://example.test:443/a%20b/", "/a b"), ("http://*:8080/x/y/", "/x/y")]:
            self.assertEqual(W.prefix_path(prefix), want, prefix)


class HandleCalls(unittest.TestCase):
    def test_hello_and_refusal(self):
        def scenario(d):
            d.hello()
            d.answer(C.OPEN_QUEUE, C.S_NOT_FOUND, 'no queue "app"')
            f = d.answer(C.CREATE_QUEUE)
            d.answer(C.ADD_URL, C.S_ACCESS_DENIED, "no URL reservation gives uid 1000 the listen right on http://+:80/x/")
            return dict(f[3])
        peer = Peer(scenario, body_window=1000, send_window=2000)
        h = C.Handle.from_socket(peer.csock)
        self.assertEqual((h.server_name, h.body_window, h.send_window), ("httpq/fake", 1000, 2000))
        with self.assertRaises(C.QueueError) as cm:
            h.open_queue("app", C.ROLE_BOTH)
        self.assertEqual(cm.exception.status, C.S_NOT_FOUND)
        h.create_queue("app", 50)
        with self.assertRaises(C.QueueError) as cm:
            h.add_url("http://+:80/x/")
        self.assertEqual(str(cm.exception), "ADD_URL http://+:80/x/: ACCESS_DENIED: "
                         "no URL reservation gives uid 1000 the listen right on http://+:80/x/")
        created = peer.join()
        self.assertEqual(created[C.A_QUEUE], b"app")
        self.assertEqual(created[C.A_LENGTH], struct.pack(">I", 50))
        h.close()

    def test_daemon_error_closes(self):
        def scenario(d):
            d.hello()
            d.expect(C.OPEN_QUEUE)
            d.send(C.ERROR, 0, 0, C.attr(C.A_MESSAGE, "frame type 77 unknown"))
        peer = Peer(scenario)
        h = C.Handle.from_socket(peer.csock)
        with self.assertRaises(C.ProtocolError) as cm:
            h.open_queue("q")
        self.assertEqual(str(cm.exception), "httpqd: frame type 77 unknown")
        peer.join()
        h.close()

    def test_request_without_credit_is_an_error(self):
        def scenario(d):
            d.hello()
            d.request(1)
        peer = Peer(scenario)
        with self.assertRaises(C.ProtocolError) as cm:
            # the REQUEST may come in the same read as the HELLO answer
            h = C.Handle.from_socket(peer.csock)
            h.next_request(10)
        self.assertEqual(str(cm.exception), "REQUEST 1 without RECEIVE credit")
        peer.join()
        peer.csock.close()


class Wsgi(unittest.TestCase):
    def test_get_environ_and_batching(self):
        seen = {}

        def app(environ, start_response):
            seen.update(environ)
            start_response("200 OK", [("Content-Type", "text/plain")])
            return [b"hi"]

        def scenario(d):
            d.hello()
            assert d.receive_credit() == 1
            d.request(3, path=b"/app/x y", query=b"a=1&b=%20",
                      headers=[(b"Host", b"example.test:8080"), (b"Accept", b"a"), (b"accept", b"b"),
                               (b"Cookie", b"c=1"), (b"Cookie", b"d=2"), (b"X_Forwarded_For", b"evil"),
                               (b"Content-Type", b"text/x")],
                      prefix=b"http://+:8080/app/")
            n = len(d.recvs)
            res = d.response(3)
            assert d.receive_credit() == 1
            return res, len(d.recvs) - n

        (status, headers, body, flags, frames), recvs = serve_one(app, scenario)
        self.assertEqual((status, body), (200, b"hi"))
        self.assertIn((b"Content-Length", b"2"), headers)
        self.assertEqual(frames, [C.RESPONSE, C.RESPONSE_BODY])
        self.assertEqual(serve_one.writes, 1, "response head, body with END and the next RECEIVE in one write")
        self.assertEqual(recvs, 1, "and the fake read them in one recv")
        want = {"REQUEST_METHOD": "GET", "SCRIPT_NAME": "/app", "PATH_INFO": "/x y",
                "QUERY_STRING": "a=1&b=%20", "SERVER_NAME": "example.test", "SERVER_PORT": "8080",
                "REMOTE_ADDR": "127.0.0.1", "REMOTE_PORT": "40000", "SERVER_PROTOCOL": "HTTP/1.1",
                "HTTP_ACCEPT": "a, b", "HTTP_COOKIE": "c=1; d=2", "CONTENT_TYPE": "text/x",
                "HTTP_HOST": "example.test:8080", "wsgi.url_scheme": "http", "wsgi.input_terminated": True,
                "REQUEST_URI": "/app/x y?a=1&b=%20", "wsgi.version": (1, 0)}
        for k, v in want.items():
            self.assertEqual(seen.get(k), v, k)
        for k in ("HTTP_X_FORWARDED_FOR", "HTTP_CONTENT_TYPE", "CONTENT_LENGTH", "HTTPS"):
            self.assertNotIn(k, seen)

    def test_query_forms_and_no_interim_status(self):
        seen = []

        def app(environ, start_response):
            seen.append(environ["QUERY_STRING"])
            if environ["PATH_INFO"] == "/early":
                start_response("103 Early Hints", [])
            else:
                start_response("200 OK", [])
            return [b"x"]

        def scenario(d):
            d.hello()
            out = []
            for rid, path, query in ((1, b"/a", b"?b"), (2, b"/a", None), (3, b"/a", b""), (4, b"/early", None)):
                d.receive_credit()
                d.request(rid, path=path, query=query)
                out.append(d.response(rid)[0])
            d.receive_credit()
            return out
        peer = Peer(scenario)
        h = C.Handle.from_socket(peer.csock)
        for _ in range(4):
            h.receive(1)
            W.handle_request(h.next_request(timeout=10), app, errors=io.StringIO())
        h.receive(1)
        h.flush()
        codes = peer.join()
        h.close()
        self.assertEqual(seen, ["?b", "", "", ""], "QUERY's own '?' taken off, once")
        self.assertEqual(codes, [200, 200, 200, 500], "an interim status is an application error")

    def test_tls_environ(self):
        seen = {}

        def app(environ, start_response):
            seen.update(environ)
            start_response("204 No Content", [])
            return []

        def scenario(d):
            d.hello()
            d.receive_credit()
            d.request(1, tls=True)
            r = d.response(1)
            d.receive_credit()
            return r
        status, headers, body, flags, frames = serve_one(app, scenario)
        self.assertEqual((status, flags & C.F_END, frames), (204, C.F_END, [C.RESPONSE]))
        self.assertNotIn(b"Content-Length", [n for n, v in headers])
        for k, v in {"HTTPS": "on", "wsgi.url_scheme": "https", "SSL_PROTOCOL": "TLSv1.3",
                     "SSL_TLS_SNI": "example.test", "SSL_CLIENT_VERIFY": "NONE"}.items():
            self.assertEqual(seen.get(k), v, k)

    def test_post_streamed_echo_within_windows(self):
        body = os.urandom(3 * 1024 * 1024 + 123)
        reads = []

        def app(environ, start_response):
            inp = environ["wsgi.input"]
            start_response("200 OK", [("Content-Type", "application/octet-stream")])

            def gen():
                while True:
                    chunk = inp.read(50000)
                    if not chunk:
                        return
                    reads.append(len(chunk))
                    yield chunk
            return gen()

        def scenario(d):
            d.hello()
            d.receive_credit()
            d.request(9, method=b"POST", path=b"/echo", body_len=len(body),
                      headers=[(b"Content-Length", str(len(body)).encode())])
            sent = acked = 0
            window = d.body_window
            out = bytearray()
            send_window = d.send_window
            head = None
            max_outstanding = 0
            while True:
                # deliver what the window allows
                while sent < len(body) and sent - acked < window:
                    n = min(40000, window - (sent - acked), len(body) - sent)
                    end = sent + n == len(body)
                    d.send(C.BODY, C.F_END if end else 0, 9, body[sent:sent + n])
                    sent += n
                max_outstanding = max(max_outstanding, sent - acked)
                t, flags, fid, a, payload, fds = d.frame()
                if t == C.BODY_CREDIT:
                    acked += C.get_u32(dict(a)[C.A_BYTES])
                    assert acked <= sent, "credit for %d bytes, only %d delivered" % (acked, sent)
                elif t == C.RESPONSE:
                    head = a
                elif t == C.RESPONSE_BODY:
                    assert head is not None
                    assert len(payload) <= send_window, "send window overrun"
                    send_window -= len(payload)
                    out += payload
                    if flags & C.F_END:
                        break
                    d.send(C.SEND_CREDIT, 0, 9, C.attr_u32(C.A_BYTES, len(payload)))
                    send_window += len(payload)
                else:
                    raise AssertionError("unexpected %s" % C.TYPE_NAMES[t])
            d.receive_credit()
            return bytes(out), head, max_outstanding, acked

        out, head, max_outstanding, acked = serve_one(app, scenario, body_window=65536, send_window=32768)
        self.assertEqual(len(out), len(body))
        self.assertTrue(out == body, "echo differs")
        self.assertNotIn(C.A_HEADER, [t for t, v in head if v.lower().startswith(b"content-length")])
        self.assertLessEqual(max_outstanding, 65536)
        self.assertGreater(len(reads), 60, "the application read the body in pieces")
        self.assertLessEqual(max(reads), 50000)
        self.assertGreaterEqual(acked, len(body) - 65536, "credits returned as the body was read")

    def test_input_readline(self):
        lines = []

        def app(environ, start_response):
            inp = environ["wsgi.input"]
            lines.append(inp.readline())
            lines.append(inp.readline(3))
            lines.extend(inp)
            start_response("200 OK", [])
            return [b"x"]

        def scenario(d):
            d.hello()
            d.receive_credit()
            data = b"first\nsecond line\n" + b"z" * 70000 + b"\nlast"
            d.request(2, method=b"POST", body_len=len(data))
            for i in range(0, len(data), 7):
                d.send(C.BODY, C.F_END if i + 7 >= len(data) else 0, 2, data[i:i + 7])
            while True:
                t = d.frame()
                if t[0] == C.RESPONSE:
                    break
            while d.frame()[0] != C.RESPONSE_BODY:
                pass
            d.receive_credit()
        serve_one(app, scenario)
        self.assertEqual(lines, [b"first\n", b"sec", b"ond line\n", b"z" * 70000 + b"\n", b"last"])

    def test_file_wrapper_passes_the_fd(self):
        with tempfile.NamedTemporaryFile() as tf:
            data = os.urandom(300000)
            tf.write(data)
            tf.flush()

            def app(environ, start_response):
                f = open(tf.name, "rb")
                f.seek(1000)
                start_response("200 OK", [("Content-Type", "application/octet-stream")])
                return environ["wsgi.file_wrapper"](f)

            def scenario(d):
                d.hello()
                d.receive_credit()
                d.request(4)
                r = d.response(4)
                d.receive_credit()
                return r
            status, headers, body, flags, frames = serve_one(app, scenario)
        self.assertEqual(frames, [C.RESPONSE, C.RESPONSE_FILE])
        self.assertEqual(flags & C.F_END, C.F_END)
        self.assertIn((b"Content-Length", b"299000"), headers)
        self.assertTrue(body == data[1000:], "the file's bytes from the offset")

    def test_file_wrapper_without_fileno_streams(self):
        def app(environ, start_response):
            start_response("200 OK", [])
            return environ["wsgi.file_wrapper"](io.BytesIO(b"a" * 20000), 8192)

        def scenario(d):
            d.hello()
            d.receive_credit()
            d.request(4)
            r = d.response(4)
            d.receive_credit()
            return r
        status, headers, body, flags, frames = serve_one(app, scenario)
        self.assertEqual(body, b"a" * 20000)
        self.assertNotIn(C.RESPONSE_FILE, frames)

    def test_app_exception_500(self):
        closed = []

        class Result:
            def __iter__(self):
                raise RuntimeError("boom")

            def close(self):
                closed.append(True)

        def app(environ, start_response):
            start_response("200 OK", [])
            return Result()

        def scenario(d):
            d.hello()
            d.receive_credit()
            d.request(5)
            r = d.response(5)
            d.receive_credit()
            return r
        status, headers, body, flags, frames = serve_one(app, scenario)
        self.assertEqual((status, body), (500, b"Internal Server Error\n"))
        self.assertEqual(closed, [True], "close() called")

    def test_exception_after_start_cancels(self):
        def app(environ, start_response):
            start_response("200 OK", [])
            yield b"part"
            raise RuntimeError("late")

        def scenario(d):
            d.hello()
            d.receive_credit()
            d.request(6)
            r = d.response(6)
            d.receive_credit()
            return r
        status, headers, body, flags, frames = serve_one(app, scenario)
        self.assertEqual((status, body, frames[-1]), (200, b"part", C.CANCEL))

    def test_exc_info_replaces_the_head(self):
        def app(environ, start_response):
            start_response("200 OK", [("X-A", "1")])
            try:
                raise ValueError("x")
            except ValueError:
                start_response("503 Busy", [("Retry-After", "1")], sys.exc_info())
            return [b"later"]

        def scenario(d):
            d.hello()
            d.receive_credit()
            d.request(7)
            r = d.response(7)
            d.receive_credit()
            return r
        status, headers, body, flags, frames = serve_one(app, scenario)
        self.assertEqual((status, body), (503, b"later"))
        self.assertIn((b"Retry-After", b"1"), headers)
        self.assertNotIn((b"X-A", b"1"), headers)

    def test_head_sends_no_body(self):
        def app(environ, start_response):
            start_response("200 OK", [("Content-Length", "5")])
            return [b"hello"]

        def scenario(d):
            d.hello()
            d.receive_credit()
            d.request(8, method=b"HEAD")
            r = d.response(8)
            d.receive_credit()
            return r
        status, headers, body, flags, frames = serve_one(app, scenario)
        self.assertEqual((status, body, frames), (200, b"", [C.RESPONSE]))
        self.assertIn((b"Content-Length", b"5"), headers)

    def test_hop_by_hop_is_an_app_error_and_connection_close_a_flag(self):
        def app(environ, start_response):
            if environ["PATH_INFO"] == "/te":
                start_response("200 OK", [("Transfer-Encoding", "chunked")])
            else:
                start_response("200 OK", [("Connection", "close")])
            return [b"x"]

        def scenario(d):
            d.hello()
            d.receive_credit()
            d.request(1, path=b"/te")
            r1 = d.response(1)
            d.receive_credit()
            d.request(2, path=b"/close")
            r2 = d.response(2)
            d.receive_credit()
            return r1, r2
        peer = Peer(scenario)
        h = C.Handle.from_socket(peer.csock)
        for _ in range(2):
            h.receive(1)
            W.handle_request(h.next_request(timeout=10), app, errors=io.StringIO())
        h.receive(1)
        h.flush()
        r1, r2 = peer.join()
        h.close()
        self.assertEqual(r1[0], 500)
        self.assertEqual(r2[0], 200)
        self.assertEqual(r2[3] & C.F_DISCONNECT, C.F_DISCONNECT)
        self.assertNotIn(b"Connection", [n for n, v in r2[1]])

    def test_body_read_after_the_response_ended(self):
        got = []

        def app(environ, start_response):
            write = start_response("200 OK", [("Content-Length", "2")])
            write(b"ok")                        # END goes with these bytes
            got.append(environ["wsgi.input"].read())
            return []

        def scenario(d):
            d.hello()
            d.receive_credit()
            d.request(12, method=b"POST", body_len=100)    # no BODY frame yet
            r = d.response(12)
            d.receive_credit()
            return r

        import signal

        def late(signum, frame):
            raise TimeoutError("wsgi.input.read() still waiting after 10 s")
        old = signal.signal(signal.SIGALRM, late)
        signal.alarm(10)
        try:
            status, headers, body, flags, frames = serve_one(app, scenario)
        finally:
            signal.alarm(0)
            signal.signal(signal.SIGALRM, old)
        self.assertEqual((status, body, got), (200, b"ok", [b""]))

    def test_disconnect_while_reading(self):
        errors = []

        def app(environ, start_response):
            try:
                environ["wsgi.input"].read()
            except OSError as e:
                errors.append(str(e))
                raise
            start_response("200 OK", [])
            return [b"never"]

        def scenario(d):
            d.hello()
            d.receive_credit()
            d.request(11, method=b"POST", body_len=100)
            d.send(C.BODY, 0, 11, b"x" * 10)
            d.expect(C.BODY_CREDIT)
            d.send(C.DISCONNECT, 0, 11, C.attr(C.A_REASON, "client closed the connection"))
            f = d.frame()
            assert f[0] == C.RECEIVE, "nothing for a disconnected request, got %s" % C.TYPE_NAMES[f[0]]
        serve_one(app, scenario)
        self.assertEqual(len(errors), 1)
        self.assertIn("client closed the connection", errors[0])


class Startup(unittest.TestCase):
    """httpq-wsgi's main() against a fake daemon on a Unix socket."""

    def run_main(self, argv, scenario):
        tmp = tempfile.mkdtemp()
        path = os.path.join(tmp, "q.sock")
        ls = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        ls.bind(path)
        ls.listen(1)
        result = {}

        def server():
            try:
                ls.settimeout(20)
                s, _ = ls.accept()
                result["r"] = scenario(FakeDaemon(s))
                s.close()
            except BaseException:
                result["e"] = traceback.format_exc()
        t = threading.Thread(target=server, daemon=True)
        t.start()
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            code = W.main(["--socket", path] + argv)
        t.join(20)
        ls.close()
        os.unlink(path)
        os.rmdir(tmp)
        if "e" in result:
            raise AssertionError("fake daemon: " + result["e"])
        return code, err.getvalue(), result.get("r")

    def test_denied_url_is_reported(self):
        msg = 'no URL reservation gives uid 65534 the listen right on http://+:8080/x/ or a parent'

        def scenario(d):
            d.hello()
            f = d.answer(C.OPEN_QUEUE, C.S_NOT_FOUND, "no queue app")
            role = C.get_u32(dict(f[3])[C.A_ROLE])
            d.answer(C.CREATE_QUEUE)
            d.answer(C.ADD_URL, C.S_ACCESS_DENIED, msg)
            try:
                d.frame()
            except EOFError:
                return role, "closed"
            return role, "open"
        code, err, (role, state) = self.run_main(
            ["--queue", "app", "--url", "http://+:8080/x/", "httpq.wsgi:FileWrapper"], scenario)
        self.assertEqual(code, 1)
        self.assertEqual(role, C.ROLE_BOTH)
        self.assertEqual(state, "closed")
        self.assertIn("httpq-wsgi: ADD_URL http://+:8080/x/: ACCESS_DENIED: " + msg, err)

    def test_serves_then_stops_on_shutdown(self):
        def app(environ, start_response):
            start_response("200 OK", [("Content-Type", "text/plain")])
            return [environ["PATH_INFO"].encode()]

        import types
        mod = types.ModuleType("hq_test_app")
        mod.app = app
        sys.modules["hq_test_app"] = mod

        def scenario(d):
            d.hello()
            f = d.answer(C.OPEN_QUEUE)
            role = C.get_u32(dict(f[3])[C.A_ROLE])
            d.receive_credit()
            d.request(1, path=b"/hello")
            r = d.response(1)
            d.receive_credit()
            d.send(C.SHUTDOWN)
            try:
                d.frame()
            except EOFError:
                return role, r
            raise AssertionError("still open after SHUTDOWN")
        code, err, (role, r) = self.run_main(["--queue", "app", "hq_test_app:app"], scenario)
        self.assertEqual(code, 0, err)
        self.assertEqual(role, C.ROLE_WORKER)
        self.assertEqual((r[0], r[2]), (200, b"/hello"))


class Workers(unittest.TestCase):
    """httpq-wsgi --workers 2 as a process against a fake daemon that
    accepts any number of connections: the parent holds its handle, each
    worker opens the queue as a worker and serves, a killed worker is
    replaced, SIGTERM ends everything with SHUTDOWN and status 0."""

    def test_workers_restart_and_clean_stop(self):
        import subprocess
        import signal
        import time
        tmp = tempfile.mkdtemp()
        with open(os.path.join(tmp, "wapp.py"), "w") as f:
            f.write("import os\n"
                    "def app(environ, start_response):\n"
                    "    start_response('200 OK', [('Content-Type', 'text/plain')])\n"
                    "    return [str(os.getpid()).encode()]\n")
        path = os.path.join(tmp, "q.sock")
        ls = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        ls.bind(path)
        ls.listen(8)
        lock = threading.Condition()
        conns = []          # dicts: role, pids served, shutdown, closed
        errors = []

        def conn_thread(sock):
            st = {"role": None, "pids": [], "shutdown": False, "closed": False}
            d = FakeDaemon(sock)
            try:
                d.sock.settimeout(60)
                d.hello()
                f = d.answer(C.OPEN_QUEUE)
                st["role"] = C.get_u32(dict(f[3])[C.A_ROLE])
                with lock:
                    conns.append(st)
                    lock.notify_all()
                rid = 0
                while True:
                    try:
                        t, flags, fid, a, payload, fds = d.frame()
                    except (EOFError, ConnectionResetError):
                        break
                    if t == C.RECEIVE and not st["shutdown"]:
                        rid += 1
                        try:
                            d.request(rid, path=b"/pid")
                        except (BrokenPipeError, ConnectionResetError):
                            break       # the worker killed meanwhile
                    elif t == C.RESPONSE_BODY:
                        with lock:
                            st["pids"].append(int(payload))
                            lock.notify_all()
                    elif t == C.SHUTDOWN:
                        st["shutdown"] = True
                        d.send(C.RESULT, 0, fid, C.attr_u32(C.A_STATUS, 0))
            except BaseException:
                errors.append(traceback.format_exc())
            with lock:
                st["closed"] = True
                lock.notify_all()
            sock.close()

        def acceptor():
            while True:
                try:
                    s, _ = ls.accept()
                except OSError:
                    return
                threading.Thread(target=conn_thread, args=(s,), daemon=True).start()
        threading.Thread(target=acceptor, daemon=True).start()

        def wait_for(pred, what, secs=20):
            end = time.monotonic() + secs
            with lock:
                while not pred():
                    left = end - time.monotonic()
                    if left <= 0:
                        raise AssertionError("timed out waiting for " + what + ": " + repr(conns))
                    lock.wait(left)

        env = dict(os.environ, PYTHONPATH=os.path.join(HERE, "..", "..", "src", "python")
                   if "HQ_PYSRC" not in os.environ else os.environ["HQ_PYSRC"])
        proc = subprocess.Popen([sys.executable, "-c", "import sys; from httpq.wsgi import main; sys.exit(main())",
                                 "--socket", path, "--queue", "q", "--workers", "2", "wapp:app"],
                                cwd=tmp, env=env, stderr=subprocess.PIPE)
        try:
            wait_for(lambda: len(conns) >= 3 and sum(1 for c in conns if c["pids"]) >= 2, "2 workers serving")
            self.assertEqual(conns[0]["role"], C.ROLE_WORKER, "the parent (no --url) opens as a worker...")
            self.assertEqual(conns[0]["pids"], [], "...but takes no requests")
            pids = sorted({c["pids"][0] for c in conns if c["pids"]})
            self.assertEqual(len(pids), 2)
            self.assertNotIn(proc.pid, pids)
            os.kill(pids[0], signal.SIGKILL)
            wait_for(lambda: len(conns) >= 4 and conns[3]["pids"], "a replacement worker serving")
            self.assertNotIn(conns[3]["pids"][0], pids)
            proc.send_signal(signal.SIGTERM)
            _, err = proc.communicate(timeout=30)
            self.assertEqual(proc.returncode, 0, err.decode())
            wait_for(lambda: all(c["closed"] for c in conns), "every connection closed")
            killed = [c for c in conns if c["pids"] and c["pids"][0] == pids[0]]
            self.assertEqual(len(killed), 1)
            self.assertFalse(killed[0]["shutdown"], "the killed worker said nothing")
            self.assertEqual([c for c in conns if c is not killed[0] and not c["shutdown"]], [],
                             "the parent and each live worker sent SHUTDOWN before closing")
            self.assertIn(b"starting another", err)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            ls.close()
            os.unlink(path)
            for f in os.listdir(tmp):
                os.unlink(os.path.join(tmp, f)) if os.path.isfile(os.path.join(tmp, f)) else None
        self.assertEqual(errors, [])


def main():
    loader = unittest.TestLoader()
    suite = loader.loadTestsFromModule(sys.modules[__name__])
    tests = list(_flatten(suite))
    n = 0
    failed = 0
    for test in tests:
        n += 1
        res = unittest.TestResult()
        test.run(res)
        name = test.id().split(".", 1)[1]
        if res.wasSuccessful():
            print("ok %d - %s" % (n, name))
        else:
            failed += 1
            print("not ok %d - %s" % (n, name))
            for _, tb in res.failures + res.errors:
                for line in tb.rstrip().splitlines():
                    print("# " + line)
        sys.stdout.flush()
    print("1..%d" % n)
    return 1 if failed else 0


def _flatten(suite):
    for t in suite:
        if isinstance(t, unittest.TestSuite):
            yield from _flatten(t)
        else:
            yield t


if __name__ == "__main__":
    sys.exit(main())
