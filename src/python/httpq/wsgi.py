"""httpq-wsgi: a WSGI (PEP 3333) server on an httpq request queue.

httpq-wsgi --queue NAME [--url PREFIX]... [--socket PATH] [--workers N]
           [--length N] MODULE:CALLABLE

Each serving process takes one request at a time (RECEIVE credit 1): more
requests in parallel take more processes (--workers), which httpqd feeds by
pull, as http.sys does.  See httpq-wsgi(1).
"""

import argparse
import importlib
import io
import os
import re
import signal
import stat
import sys
import time
import traceback
import urllib.parse

from . import client
from .client import Disconnected, ProtocolError, QueueError

PROG = "httpq-wsgi"

# Hop-by-hop fields (RFC 9110 7.6.1) a WSGI application may not set (PEP
# 3333); "Connection: close" is taken as a wish and becomes the DISCONNECT
# flag instead.
_HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization",
               "te", "trailer", "trailers", "transfer-encoding", "upgrade"}
# 200-999: httpqd sends 100 Continue itself, and version 1 of the protocol
# has no other interim response
_STATUS_RE = re.compile(r"^[2-9][0-9]{2} [^\r\n]*\Z")
_TOKEN_RE = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+\Z")


def _latin1(b):
    return b.decode("latin-1") if b is not None else ""


def _split_hostport(text, default_port=""):
    """"ip:port" or "[v6]:port" -> (host, port)."""
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        return host, rest[1:] if rest.startswith(":") else default_port
    if text.count(":") == 1:
        host, _, port = text.partition(":")
        return host, port
    return text, default_port


def prefix_path(prefix):
    """The path part of a URL prefix, decoded as PATH is, without the
    trailing '/': "http://+:80/app/" -> "/app"."""
    p = prefix
    i = p.find("://")
    if i >= 0:
        j = p.find("/", i + 3)
        p = p[j:] if j >= 0 else "/"
    return urllib.parse.unquote(p, "latin-1").rstrip("/")


class Input:
    """wsgi.input: reads the request body from BODY frames as the
    application asks (each read returns credit to httpqd), never more than
    the body window ahead.  readline() keeps at most one line buffered."""

    def __init__(self, req):
        self._req = req
        self._buf = bytearray()

    def _fill(self):
        data = self._req.read(65536)
        self._buf += data
        return len(data)

    def read(self, size=-1):
        if size is None or size < 0:
            data = bytes(self._buf) + self._req.read(-1)
            self._buf.clear()
            return data
        if self._buf:
            data = bytes(self._buf[:size])
            del self._buf[:size]
            return data
        return self._req.read(size)

    def read1(self, size=-1):
        return self.read(size if size is not None and size >= 0 else 65536)

    def readline(self, size=-1):
        limit = size if size is not None and size >= 0 else None
        start = 0
        while True:
            i = self._buf.find(b"\n", start)
            if i >= 0 and (limit is None or i < limit):
                n = i + 1
                break
            if limit is not None and len(self._buf) >= limit:
                n = limit
                break
            start = len(self._buf)
            if not self._fill():
                n = len(self._buf) if limit is None else min(limit, len(self._buf))
                break
        line = bytes(self._buf[:n])
        del self._buf[:n]
        return line

    def readlines(self, hint=-1):
        lines = []
        total = 0
        while True:
            line = self.readline()
            if not line:
                return lines
            lines.append(line)
            total += len(line)
            if hint is not None and 0 < hint <= total:
                return lines

    def __iter__(self):
        return self

    def __next__(self):
        line = self.readline()
        if not line:
            raise StopIteration
        return line

    def readable(self):
        return True

    def close(self):
        pass


class FileWrapper:
    """wsgi.file_wrapper: a regular file with a fileno() goes to httpqd as
    a file descriptor (RESPONSE_FILE: the daemon sends it, this process
    copies nothing); anything else is read in blocks."""

    def __init__(self, filelike, blksize=8192):
        self.filelike = filelike
        self.blksize = blksize
        if hasattr(filelike, "close"):
            self.close = filelike.close

    def __iter__(self):
        while True:
            data = self.filelike.read(self.blksize)
            if not data:
                return
            yield data

    def regular_fd(self):
        """(fd, offset, size) when the object is a regular file, else None."""
        try:
            fd = self.filelike.fileno()
        except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
            return None
        if not isinstance(fd, int) or fd < 0:
            return None
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                return None
            if hasattr(self.filelike, "tell"):
                offset = self.filelike.tell()
            else:
                offset = os.lseek(fd, 0, os.SEEK_CUR)
        except (OSError, ValueError, io.UnsupportedOperation):
            return None
        return fd, offset, max(0, st.st_size - offset)


class Response:
    """start_response() and the streaming of one response."""

    def __init__(self, req, environ):
        self.req = req
        self.environ = environ
        self.status = None
        self.headers = None
        self.length = None        # Content-Length the application set
        self.disconnect = False
        self.sent = 0
        self.head = req.method == b"HEAD"

    def start_response(self, status, headers, exc_info=None):
        if exc_info:
            try:
                if self.req.started:
                    raise exc_info[1].with_traceback(exc_info[2])
            finally:
                exc_info = None
        elif self.status is not None:
            raise AssertionError("start_response() called a second time without exc_info")
        if type(status) is not str or not _STATUS_RE.match(status):
            raise AssertionError("WSGI status must be a str like '200 OK' (200-999), got %r" % (status,))
        out = []
        length = None
        disconnect = False
        for item in headers:
            if type(item) is not tuple or len(item) != 2:
                raise AssertionError("WSGI headers must be (name, value) tuples, got %r" % (item,))
            name, value = item
            if type(name) is not str or type(value) is not str or not _TOKEN_RE.match(name):
                raise AssertionError("bad WSGI header %r" % (item,))
            if "\r" in value or "\n" in value or "\0" in value:
                raise AssertionError("WSGI header %s: value contains CR, LF or NUL" % name)
            value.encode("latin-1")
            lname = name.lower()
            if lname == "connection" and value.strip().lower() == "close":
                disconnect = True
                continue
            if lname in _HOP_BY_HOP:
                raise AssertionError("hop-by-hop header %s is not for a WSGI application (PEP 3333)" % name)
            if lname == "content-length":
                try:
                    length = int(value.strip())
                    if length < 0:
                        raise ValueError
                except ValueError:
                    raise AssertionError("Content-Length %r is not a number" % value) from None
            out.append((name, value))
        self.status = status
        self.headers = out
        self.length = length
        self.disconnect = disconnect
        return self.write

    def _start(self, end, extra=()):
        if self.status is None:
            raise AssertionError("the application returned without calling start_response()")
        code = int(self.status[:3])
        reason = self.status[4:]
        self.req.send_response(code, reason, list(self.headers) + list(extra),
                               end=end, disconnect=self.disconnect and end)

    def write(self, data):
        """The body bytes (also start_response()'s write callable)."""
        if type(data) is not bytes:
            raise AssertionError("WSGI body items must be bytes, got %s" % type(data).__name__)
        if not data or self.head:
            return          # a HEAD response's head goes out in finish()
        if not self.req.started:
            self._start(end=False)
        end = False
        if self.length is not None:
            room = self.length - self.sent
            if len(data) >= room:
                if len(data) > room:
                    print("%s: %s: the application sent more than its Content-Length %d; cut"
                          % (PROG, self.environ.get("REQUEST_URI"), self.length), file=sys.stderr)
                if self.req.done:
                    return
                data = data[:room]
                end = True      # the last byte: END rides on this frame
        self.sent += len(data)
        self.req.send_body(data, end=end, disconnect=end and self.disconnect)

    def finish(self):
        """The end of the body (the head too if nothing was sent)."""
        if not self.req.started:
            extra = ()
            code = int(self.status[:3]) if self.status else 0
            if self.length is None and not self.head and code >= 200 and code not in (204, 304):
                extra = (("Content-Length", "0"),)
            self._start(end=True, extra=extra)
        elif not self.req.done:
            self.req.send_body(b"", end=True, disconnect=self.disconnect)

    def run(self, result):
        """Streams the application's iterable."""
        if isinstance(result, FileWrapper) and not self.head and self.status is not None:
            info = result.regular_fd()
            if info is not None:
                fd, offset, size = info
                length = size if self.length is None else min(size, self.length)
                if self.length is not None and length < self.length:
                    print("%s: file shorter than its Content-Length %d" % (PROG, self.length), file=sys.stderr)
                if length == 0:
                    self._start(end=True, extra=() if self.length is not None else (("Content-Length", "0"),))
                    return
                self._start(end=False, extra=() if self.length is not None else (("Content-Length", str(length)),))
                self.req.send_file(fd, offset, length, end=True, disconnect=self.disconnect)
                return
        if isinstance(result, (list, tuple)) and len(result) == 1 and self.status is not None \
                and self.length is None and type(result[0]) is bytes and not self.req.started:
            # one known piece: a Content-Length instead of chunks
            self.length = len(result[0])
            self.headers.append(("Content-Length", str(self.length)))
        for data in result:
            if self.head and self.status is not None:
                break       # a HEAD response needs the head only
            self.write(data)
        self.finish()


def _tls_environ(req, env):
    env["HTTPS"] = "on"
    for attr_name, key in (("tls_protocol", "SSL_PROTOCOL"), ("tls_cipher", "SSL_CIPHER"),
                           ("tls_sni", "SSL_TLS_SNI"), ("tls_client_subject", "SSL_CLIENT_S_DN"),
                           ("tls_client_fingerprint", "SSL_CLIENT_FINGERPRINT")):
        v = getattr(req, attr_name)
        if v is not None:
            env[key] = _latin1(v)
    if req.tls_client_verified is not None:
        env["SSL_CLIENT_VERIFY"] = "SUCCESS" if req.tls_client_verified else "NONE"


def make_environ(req, multiprocess=False):
    """The PEP 3333 environ of a request (values are latin-1 native str)."""
    path = _latin1(req.path)
    script = prefix_path(_latin1(req.url_prefix)) if req.url_prefix else ""
    if script and path.lower().startswith(script.lower()) and \
            (len(path) == len(script) or path[len(script)] == "/"):
        script, path_info = path[:len(script)], path[len(script):]
    else:
        script, path_info = "", path
    version = {10: "HTTP/1.0", 11: "HTTP/1.1", 20: "HTTP/2"}.get(req.version, "HTTP/1.1")
    local_host, local_port = _split_hostport(_latin1(req.local_addr))
    remote_host, remote_port = _split_hostport(_latin1(req.remote_addr))
    scheme = "https" if req.tls else "http"
    host = _latin1(req.host)
    if host:
        if host.startswith("["):
            server_name = host[:host.find("]") + 1] if "]" in host else host
        else:
            server_name = host.partition(":")[0]
    else:
        server_name = local_host
    env = {
        "REQUEST_METHOD": _latin1(req.method),
        "SCRIPT_NAME": script,
        "PATH_INFO": path_info,
        "QUERY_STRING": _latin1(req.query),
        "SERVER_NAME": server_name,
        "SERVER_PORT": local_port or ("443" if req.tls else "80"),
        "SERVER_PROTOCOL": version,
        "REMOTE_ADDR": remote_host,
        "REMOTE_PORT": remote_port,
        "REQUEST_URI": _latin1(req.raw_url),
        "RAW_URI": _latin1(req.raw_url),
        "SERVER_SOFTWARE": "httpq-wsgi (%s)" % (req.handle.server_name or "httpq"),
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scheme,
        "wsgi.input": Input(req),
        "wsgi.input_terminated": True,
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": multiprocess,
        "wsgi.run_once": False,
        "wsgi.file_wrapper": FileWrapper,
        "httpq.request_id": req.id,
        "httpq.connection_id": req.connection_id,
        "httpq.url_prefix": _latin1(req.url_prefix),
        "httpq.url_group": _latin1(req.url_group),
        "httpq.request": req,
    }
    if req.tls:
        _tls_environ(req, env)
    seen = {}
    content_length_header = None
    for name, value in req.headers:
        lname = name.lower()
        if lname == b"content-type":
            env["CONTENT_TYPE"] = _latin1(value)
            continue
        if lname == b"content-length":
            content_length_header = _latin1(value)
            continue
        # "X_Foo" and "X-Foo" would both be HTTP_X_FOO: a field with '_'
        # could pass for one a front end vouches for; it is left out.
        if b"_" in name:
            continue
        key = "HTTP_" + _latin1(name).upper().replace("-", "_")
        if key in seen:
            # several fields of one name: one value, comma-joined (RFC 9110
            # 5.3); Cookie fields with "; " (RFC 9113 8.2.3, RFC 6265)
            sep = "; " if lname == b"cookie" else ", "
            env[key] = env[key] + sep + _latin1(value)
        else:
            seen[key] = True
            env[key] = _latin1(value)
    if "HTTP_HOST" not in env and host:
        env["HTTP_HOST"] = host
    if req.content_length > 0:
        env["CONTENT_LENGTH"] = str(req.content_length)
    elif content_length_header is not None and req.content_length == 0:
        env["CONTENT_LENGTH"] = "0"
    return env


def handle_request(req, app, multiprocess=False, errors=None):
    """Runs the application for one request and streams its response.
    Daemon-side failures (ProtocolError) propagate; everything the
    application does wrong ends this request only."""
    errors = errors or sys.stderr
    environ = make_environ(req, multiprocess)
    resp = Response(req, environ)
    result = None
    try:
        result = app(environ, resp.start_response)
        resp.run(result)
    except ProtocolError:
        raise
    except Disconnected as e:
        print("%s: %s %s: %s" % (PROG, environ["REQUEST_METHOD"], environ["REQUEST_URI"], e.strerror),
              file=errors)
    except Exception:
        print("%s: %s %s: the application failed:" % (PROG, environ["REQUEST_METHOD"], environ["REQUEST_URI"]),
              file=errors)
        traceback.print_exc(file=errors)
        _fail(req)
    finally:
        if result is not None and hasattr(result, "close"):
            try:
                result.close()
            except ProtocolError:
                raise
            except Exception:
                print("%s: close() of the application's iterable failed:" % PROG, file=errors)
                traceback.print_exc(file=errors)
                _fail(req)
        errors.flush()
    if not req.done:
        req.cancel()


def _fail(req):
    if req.done:
        return
    if not req.started:
        body = b"Internal Server Error\n"
        req.send_response(500, "Internal Server Error",
                          [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
        req.send_body(body, end=True)
    else:
        req.cancel()       # the client must not take a cut body for a whole one


# --- processes ----------------------------------------------------------------

class _Signals:
    """SIGTERM/SIGINT (and SIGCHLD for the parent) set flags and wake the
    poll through a pipe (signal.set_wakeup_fd)."""

    def __init__(self, child_too=False):
        self.stop = False
        self.child = False
        self.r, self.w = os.pipe()
        os.set_blocking(self.r, False)
        os.set_blocking(self.w, False)
        signal.set_wakeup_fd(self.w, warn_on_full_buffer=False)
        signal.signal(signal.SIGTERM, self._on_stop)
        signal.signal(signal.SIGINT, self._on_stop)
        if child_too:
            signal.signal(signal.SIGCHLD, self._on_child)

    def _on_stop(self, signum, frame):
        self.stop = True

    def _on_child(self, signum, frame):
        self.child = True

    def drain(self):
        try:
            while os.read(self.r, 512):
                pass
        except BlockingIOError:
            pass

    def close(self):
        signal.set_wakeup_fd(-1)
        os.close(self.r)
        os.close(self.w)


def serve(handle, app, sig, multiprocess=False):
    """Takes requests one at a time until a signal or the daemon's SHUTDOWN;
    then HttpShutdownRequestQueue, finishes what it holds, closes.
    Returns the exit status."""
    while not sig.stop and not handle.shutdown_received:
        handle.receive(1)
        req = None
        while req is None and not sig.stop and not handle.shutdown_received:
            req = handle.next_request(wake_fd=sig.r)
            if req is None:
                sig.drain()     # (not per request: one read(2) less)
        if req is not None:
            handle_request(req, app, multiprocess)
    if handle.shutdown_received:
        # httpqd's SHUTDOWN: finish what was delivered, then close
        while handle.pending:
            handle_request(handle.pending.popleft(), app, multiprocess)
        handle.close()
        return 0
    try:
        handle.shutdown()
        while handle.pending:
            handle_request(handle.pending.popleft(), app, multiprocess)
        handle.flush()
    except QueueError as e:
        if e.status != client.S_SHUTTING_DOWN:
            raise
    handle.close()
    return 0


def load_app(spec):
    """MODULE:CALLABLE (the callable may be a dotted attribute path)."""
    mod_name, sep, attr_path = spec.partition(":")
    if not sep or not mod_name or not attr_path:
        raise SystemExit("%s: %r: expected MODULE:CALLABLE, e.g. myapp:app" % (PROG, spec))
    if "" not in sys.path and os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        obj = importlib.import_module(mod_name)
    except Exception as e:
        traceback.print_exc()
        raise SystemExit("%s: cannot import %s: %s" % (PROG, mod_name, e))
    for part in attr_path.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise SystemExit("%s: %s has no attribute %s" % (PROG, mod_name, attr_path)) from None
    if not callable(obj):
        raise SystemExit("%s: %s is not callable" % (PROG, spec))
    return obj


def open_queue(args, role):
    """Connects, opens the queue (creates it if there is none), adds the
    URLs.  Returns the handle."""
    h = client.Handle(args.socket, name="%s %s" % (PROG, args.app))
    try:
        try:
            h.open_queue(args.queue, role)
            created = False
        except QueueError as e:
            if e.status != client.S_NOT_FOUND:
                raise
            h.create_queue(args.queue, args.length)
            created = True
        for url in args.url:
            h.add_url(url)
    except BaseException:
        h.close()
        raise
    print("%s: queue %s %s%s" % (PROG, args.queue, "created" if created else "opened",
                                 "; URLs " + " ".join(args.url) if args.url else ""),
          file=sys.stderr, flush=True)
    return h


def _worker(args, app, parent_handle):
    """A worker process (after fork): its own handle, role worker."""
    code = 1
    try:
        parent_handle.sock.close()
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        sig = _Signals()
        h = client.Handle(args.socket, name="%s %s worker" % (PROG, args.app))
        h.open_queue(args.queue, client.ROLE_WORKER)
        code = serve(h, app, sig, multiprocess=args.workers > 1)
    except QueueError as e:
        print("%s: worker %d: %s" % (PROG, os.getpid(), e), file=sys.stderr)
    except (ProtocolError, OSError) as e:
        print("%s: worker %d: %s" % (PROG, os.getpid(), e), file=sys.stderr)
    except BaseException:
        traceback.print_exc()
    finally:
        try:
            sys.stderr.flush()
            sys.stdout.flush()
        finally:
            os._exit(code)


def run_workers(args, app, handle, sig):
    """The parent: holds the queue handle (the queue and its URLs live as
    long as it does), keeps N workers running, stops them on a signal or
    when httpqd shuts the queue down."""
    workers = {}            # pid -> start time
    restart_at = []         # times at which to start a replacement
    fast_deaths = 0

    def spawn():
        pid = os.fork()
        if pid == 0:
            sig.close()
            _worker(args, app, handle)
        workers[pid] = time.monotonic()

    for _ in range(args.workers):
        spawn()
    status = 0
    while True:
        now = time.monotonic()
        while restart_at and restart_at[0] <= now:
            restart_at.pop(0)
            spawn()
        timeout = max(0.0, restart_at[0] - now) if restart_at else None
        try:
            handle.next_request(timeout=timeout, wake_fd=sig.r)
        except ProtocolError as e:
            print("%s: %s" % (PROG, e), file=sys.stderr)
            status = 1
            break
        sig.drain()
        if handle.shutdown_received:
            print("%s: httpqd shuts queue %s down" % (PROG, args.queue), file=sys.stderr)
            break
        if sig.stop:
            break
        while True:
            try:
                pid, st = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
            started = workers.pop(pid, None)
            if started is None:
                continue
            how = ("exit status %d" % os.WEXITSTATUS(st)) if os.WIFEXITED(st) \
                else "signal %d" % os.WTERMSIG(st)
            if time.monotonic() - started < 1.0:
                fast_deaths += 1
            else:
                fast_deaths = 0
            if fast_deaths >= 5:
                print("%s: worker %d ended (%s); 5 workers died within a second of starting: giving up"
                      % (PROG, pid, how), file=sys.stderr)
                status = 1
                sig.stop = True
                break
            delay = 0.0 if fast_deaths == 0 else min(5.0, 0.2 * 2 ** fast_deaths)
            print("%s: worker %d ended (%s); starting another%s"
                  % (PROG, pid, how, " in %.1f s" % delay if delay else ""), file=sys.stderr)
            restart_at.append(time.monotonic() + delay)
            restart_at.sort()
        if sig.stop:
            break
    # stop: each worker shuts its handle down, finishes, exits
    for pid in workers:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + 30
    while workers:
        try:
            pid, st = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if pid == 0:
            if time.monotonic() > deadline:
                for p in workers:
                    print("%s: worker %d did not stop in 30 s: killed" % (PROG, p), file=sys.stderr)
                    os.kill(p, signal.SIGKILL)
                deadline = float("inf")
            time.sleep(0.02)
            continue
        workers.pop(pid, None)
    try:
        handle.shutdown()
    except (QueueError, ProtocolError, OSError):
        pass
    handle.close()
    return status


def parse_args(argv):
    p = argparse.ArgumentParser(prog=PROG, description="Serve a WSGI application from an httpq request queue.")
    p.add_argument("--queue", required=True, help="request queue name (opened, or created if there is none)")
    p.add_argument("--url", action="append", default=[], metavar="PREFIX",
                   help="URL prefix to register for the queue (repeatable)")
    p.add_argument("--socket", default=os.environ.get("HTTPQ_QUEUE_SOCKET", client.DEFAULT_SOCKET),
                   metavar="PATH", help="httpqd's queue socket (default %(default)s)")
    p.add_argument("--workers", type=int, default=0, metavar="N",
                   help="worker processes (default 0: this process serves)")
    p.add_argument("--length", type=int, default=None, metavar="N",
                   help="queue length when the queue is created (1-65535)")
    p.add_argument("app", metavar="MODULE:CALLABLE")
    args = p.parse_args(argv)
    if args.workers < 0 or args.workers > 1024:
        p.error("--workers: 0 to 1024")
    if args.length is not None and not 1 <= args.length <= 65535:
        p.error("--length: 1 to 65535")
    return args


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    app = load_app(args.app)
    if args.workers == 0:
        role = client.ROLE_WORKER | (client.ROLE_CONTROLLER if args.url else 0)
    else:
        role = client.ROLE_CONTROLLER if args.url else client.ROLE_WORKER
    sig = _Signals(child_too=args.workers > 0)
    try:
        handle = open_queue(args, role)
    except QueueError as e:
        print("%s: %s" % (PROG, e), file=sys.stderr)
        return 1
    except (ProtocolError, OSError) as e:
        print("%s: %s" % (PROG, e), file=sys.stderr)
        return 1
    try:
        if args.workers == 0:
            return serve(handle, app, sig)
        return run_workers(args, app, handle, sig)
    except ProtocolError as e:
        print("%s: %s" % (PROG, e), file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
