"""WSGI applications that tests/integration/B7-wsgi.t serves through httpqd
with httpq-wsgi: a plain callable (app) and, when Flask is installed, a
Flask one (flask_app).  Environment: HQ_WSGI_FILE, a file for /file."""

import hashlib
import json
import os


def app(environ, start_response):
    path = environ["PATH_INFO"]
    if path == "/hello":
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"Hello, WSGI\n"]
    if path == "/env":
        keys = ("REQUEST_METHOD", "SCRIPT_NAME", "PATH_INFO", "QUERY_STRING", "SERVER_NAME",
                "SERVER_PORT", "SERVER_PROTOCOL", "REMOTE_ADDR", "CONTENT_TYPE", "CONTENT_LENGTH",
                "HTTP_X_TWICE", "HTTP_HOST", "wsgi.url_scheme", "wsgi.multiprocess",
                "HTTPS", "SSL_PROTOCOL", "SSL_TLS_SNI")
        out = {k: environ.get(k) for k in keys}
        out["uid"] = os.getuid()
        body = json.dumps(out, sort_keys=True).encode() + b"\n"
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]
    if path == "/echo":
        # streams the body back as it reads it: never all of it at once
        inp = environ["wsgi.input"]
        headers = [("Content-Type", "application/octet-stream")]
        if environ.get("CONTENT_LENGTH"):
            headers.append(("Content-Length", environ["CONTENT_LENGTH"]))
        start_response("200 OK", headers)

        def gen():
            while True:
                chunk = inp.read(65536)
                if not chunk:
                    return
                yield chunk
        return gen()
    if path == "/sum":
        inp = environ["wsgi.input"]
        h = hashlib.sha256()
        n = biggest = 0
        while True:
            chunk = inp.read(1 << 20)
            if not chunk:
                break
            h.update(chunk)
            n += len(chunk)
            biggest = max(biggest, len(chunk))
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [("%s %d %d\n" % (h.hexdigest(), n, biggest)).encode()]
    if path == "/stream":
        n = int(environ.get("QUERY_STRING") or "100")
        start_response("200 OK", [("Content-Type", "text/plain")])

        def gen():
            for i in range(n):
                yield b"line %06d %s\n" % (i, b"x" * 1000)
        return gen()
    if path == "/file":
        f = open(os.environ["HQ_WSGI_FILE"], "rb")
        start_response("200 OK", [("Content-Type", "application/octet-stream")])
        return environ["wsgi.file_wrapper"](f, 65536)
    if path == "/boom":
        raise RuntimeError("the application failed on purpose")
    start_response("404 Not Found", [("Content-Type", "text/plain")])
    return [b"no such page\n"]


def _flask():
    from flask import Flask, Response, request, send_file, stream_with_context
    fa = Flask("hq_flask_test")

    @fa.route("/")
    def index():
        return "Hello from Flask at %s, uid %d\n" % (request.script_root, os.getuid())

    @fa.route("/echo", methods=["POST"])
    def echo():
        stream = request.stream

        def gen():
            while True:
                chunk = stream.read(65536)
                if not chunk:
                    return
                yield chunk
        return Response(stream_with_context(gen()), mimetype="application/octet-stream")

    @fa.route("/stream")
    def streamed():
        def gen():
            for i in range(200):
                yield "row %d\n" % i
        return Response(gen(), mimetype="text/plain")

    @fa.route("/file")
    def file():
        return send_file(os.environ["HQ_WSGI_FILE"], mimetype="application/octet-stream")

    @fa.route("/boom")
    def boom():
        raise RuntimeError("Flask view failed on purpose")

    from httpq.wsgi import FileWrapper

    def marked(environ, start_response):
        # X-Fd-Passed: whether the response went out as a file descriptor
        # (a FileWrapper over a regular file), as the test wants to know.
        held = []
        result = fa(environ, lambda s, h, e=None: held.append((s, h, e)))
        s, h, e = held[-1]
        fd = isinstance(result, FileWrapper) and result.regular_fd() is not None
        start_response(s, h + [("X-Fd-Passed", "yes" if fd else "no")], e)
        return result
    return marked


try:
    flask_app = _flask()
except ImportError:
    flask_app = None
