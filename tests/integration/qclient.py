#!/usr/bin/env python3
"""qclient.py -- a minimal attached process for the integration tests.

Speaks httpq-protocol(7) (the queue socket) with the standard library only,
just as far as the tests need.  Usage:

    qclient.py SOCKET QUEUE MODE [ARGS...] [--role N] [--credit N]

Modes (each prints one line per event, flushed, for the test to poll):
    serve                answer every request 200 "hello PATH from PID"
                         (after --delay SECS)
    echo                 read the body (BODY_CREDIT as it is read) and answer
                         "LEN SHA256"; with --hold FILE, return no body
                         credit until FILE exists
    chunked              answer with 3 RESPONSE_BODY chunks and TRAILERS
    file PATH            answer with RESPONSE_FILE (the fd of PATH)
    cancel               CANCEL every request
    hold                 take requests and never answer; prints "got ID"
    watch                as hold, and prints "disconnect ID REASON"
    open                 print the RESULT of OPEN_QUEUE and exit
    garbage              after HELLO, send a frame of unknown type; print
                         the ERROR and whether the daemon closed
"""
import hashlib
import os
import socket
import struct
import sys
import time

HELLO, RESULT, CREATE_QUEUE, OPEN_QUEUE, ADD_URL, REMOVE_URL, RECEIVE, REQUEST, \
    BODY, BODY_CREDIT, TRAILERS, RESPONSE, RESPONSE_BODY, RESPONSE_FILE, \
    SEND_CREDIT, CANCEL, DISCONNECT, SHUTDOWN, ERROR = range(1, 20)
A_VERSION, A_NAME, A_STATUS, A_MESSAGE, A_QUEUE, A_ROLE, A_COUNT = 1, 2, 6, 7, 8, 10, 12
A_METHOD, A_PATH, A_QUERY, A_HEADER, A_CONTENT_LENGTH = 13, 16, 17, 19, 25
A_BYTES, A_REASON, A_OFFSET, A_LENGTH64 = 32, 33, 34, 35
END, DISCONNECT_F = 1, 2


def say(*a):
    print(*a, flush=True)


def attr(tag, val):
    if isinstance(val, str):
        val = val.encode()
    return struct.pack(">HI", tag, len(val)) + val


def u32(tag, v):
    return attr(tag, struct.pack(">I", v))


def u64(tag, v):
    return attr(tag, struct.pack(">Q", v))


def frame(typ, payload=b"", flags=0, fid=0):
    return struct.pack(">IHHQ", len(payload), typ, flags, fid) + payload


def attrs(payload):
    out, i = [], 0
    while i + 6 <= len(payload):
        tag, n = struct.unpack_from(">HI", payload, i)
        out.append((tag, payload[i + 6:i + 6 + n]))
        i += 6 + n
    return out


class Conn:
    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.connect(path)
        self.buf = b""

    def send(self, data, fds=None):
        if fds:
            self.s.sendmsg([data], [(socket.SOL_SOCKET, socket.SCM_RIGHTS,
                                     struct.pack("i" * len(fds), *fds))])
        else:
            self.s.sendall(data)

    def frames(self):
        """Yields (type, flags, id, payload); None at EOF."""
        while True:
            while len(self.buf) >= 16:
                n, t, fl, fid = struct.unpack_from(">IHHQ", self.buf)
                if len(self.buf) < 16 + n:
                    break
                p = self.buf[16:16 + n]
                self.buf = self.buf[16 + n:]
                yield t, fl, fid, p
            try:
                d = self.s.recv(1 << 16)
            except ConnectionResetError:
                d = b""
            if not d:
                yield None
                return
            self.buf += d

    def hello(self):
        self.send(frame(HELLO, u32(A_VERSION, 1) + attr(A_NAME, "qclient")))
        f = next(self.it)
        assert f and f[0] == HELLO, f

    def call(self, typ, payload, cid):
        self.send(frame(typ, payload, 0, cid))
        for f in self.it:
            if f is None:
                return None, "closed"
            if f[0] == RESULT and f[2] == cid:
                d = dict(attrs(f[3]))
                st = struct.unpack(">I", d[A_STATUS])[0]
                return st, d.get(A_MESSAGE, b"").decode()
            if f[0] == ERROR:
                return None, "ERROR " + dict(attrs(f[3])).get(A_MESSAGE, b"").decode()


def main():
    args = sys.argv[1:]
    opts = {"--role": "1", "--credit": "4", "--hold": None, "--delay": "0"}
    rest = []
    i = 0
    while i < len(args):
        if args[i] in opts:
            opts[args[i]] = args[i + 1]
            i += 2
        else:
            rest.append(args[i])
            i += 1
    path, queue, mode = rest[0], rest[1], rest[2]
    c = Conn(path)
    c.it = c.frames()
    c.hello()
    if mode == "garbage":
        c.send(frame(77, b"xx"))
        for f in c.it:
            if f is None:
                say("closed")
                return
            if f[0] == ERROR:
                say("ERROR", dict(attrs(f[3])).get(A_MESSAGE, b"").decode())
        return
    st, msg = c.call(OPEN_QUEUE, attr(A_QUEUE, queue) + u32(A_ROLE, int(opts["--role"])), 1)
    if mode == "open":
        say("result", st, msg)
        return
    if st != 0:
        say("open failed", st, msg)
        sys.exit(1)
    credit = int(opts["--credit"])
    c.send(frame(RECEIVE, u32(A_COUNT, credit)))
    say("ready")
    reqs = {}      # id -> dict(path, body hash, len)
    send_left = {}  # id -> send window

    def answer(fid, status, body, extra=()):
        hdrs = b"".join(attr(A_HEADER, h) for h in extra)
        c.send(frame(RESPONSE, u32(A_STATUS, status) + attr(A_HEADER, "Content-Length:%d" % len(body)) + hdrs, 0, fid)
               + frame(RESPONSE_BODY, body, END, fid))
        c.send(frame(RECEIVE, u32(A_COUNT, 1)))

    for f in c.it:
        if f is None:
            say("eof")
            return
        t, fl, fid, p = f
        if t == REQUEST:
            d = attrs(p)
            path_ = dict(d).get(A_PATH, b"").decode() + dict(d).get(A_QUERY, b"").decode()
            reqs[fid] = {"path": path_, "h": hashlib.sha256(), "n": 0, "held": 0}
            say("got", fid, path_)
            if mode in ("hold", "watch"):
                continue
            if mode == "echo" and fl & 1:
                continue
            if mode == "cancel":
                c.send(frame(CANCEL, b"", 0, fid))
                continue
            if mode == "serve" or mode == "echo":
                time.sleep(float(opts["--delay"]))
                answer(fid, 200, ("hello %s from %d\n" % (path_, os.getpid())).encode())
            elif mode == "chunked":
                c.send(frame(RESPONSE, u32(A_STATUS, 200) + attr(A_HEADER, "X-Mode:chunked"), 0, fid))
                for k in range(3):
                    c.send(frame(RESPONSE_BODY, b"chunk%d;" % k, 0, fid))
                c.send(frame(TRAILERS, attr(A_HEADER, "X-Sum:done"), 0, fid))
                c.send(frame(RECEIVE, u32(A_COUNT, 1)))
            elif mode == "file":
                fd = os.open(rest[3], os.O_RDONLY)
                size = os.fstat(fd).st_size
                c.send(frame(RESPONSE, u32(A_STATUS, 200) + attr(A_HEADER, "Content-Length:%d" % size), 0, fid))
                c.send(frame(RESPONSE_FILE, u64(A_OFFSET, 0) + u64(A_LENGTH64, size), END, fid), [fd])
                os.close(fd)
                c.send(frame(RECEIVE, u32(A_COUNT, 1)))
        elif t == BODY:
            r = reqs.get(fid)
            if r is None:
                continue
            r["h"].update(p)
            r["n"] += len(p)
            if opts["--hold"] and not os.path.exists(opts["--hold"]):
                r["held"] += len(p)
                say("holding", fid, r["n"])
                # not reading: the daemon must stop at the body window
                while not os.path.exists(opts["--hold"]):
                    time.sleep(0.05)
                c.send(frame(BODY_CREDIT, u32(A_BYTES, r["held"]), 0, fid))
                r["held"] = 0
            elif len(p):
                c.send(frame(BODY_CREDIT, u32(A_BYTES, len(p)), 0, fid))
            if fl & END:
                answer(fid, 200, ("%d %s\n" % (r["n"], r["h"].hexdigest())).encode())
        elif t == DISCONNECT:
            say("disconnect", fid, dict(attrs(p)).get(A_REASON, b"").decode())
        elif t == SHUTDOWN:
            say("shutdown")
        elif t == ERROR:
            say("ERROR", dict(attrs(p)).get(A_MESSAGE, b"").decode())


if __name__ == "__main__":
    main()
