#!/usr/bin/env python3
"""regclient.py -- run-time registration for the integration tests.

A process that creates (or opens) a queue, adds and removes URLs at run
time, and serves what reaches it; built on qclient.py's codec.  Usage:

    regclient.py SOCKET (--create QUEUE | --open QUEUE [--role N])
                 [--url PREFIX]... [--remove PREFIX]... [--until FILE]

Prints one line per call, flushed, for the test to poll:
    create STATUS_NAME MESSAGE      (or open ...)
    add PREFIX STATUS_NAME MESSAGE
    remove PREFIX STATUS_NAME MESSAGE
    ready
then answers every request 200 "rt PATH from QUEUE" (printing "got ID PATH")
until the daemon closes the socket (prints "eof") or FILE exists (exits,
which closes the handle).
"""
import os
import select
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qclient import (A_COUNT, A_HEADER, A_PATH, A_QUEUE, A_ROLE,  # noqa: E402
                     A_STATUS, CREATE_QUEUE, END, OPEN_QUEUE, RECEIVE, REQUEST,
                     RESPONSE, RESPONSE_BODY, SHUTDOWN, Conn, attr, attrs,
                     frame, say, u32)

A_URL_TAG = 11
ADD_URL, REMOVE_URL = 5, 6
STATUS = ["OK", "PROTOCOL", "ACCESS_DENIED", "ALREADY_EXISTS", "NOT_FOUND",
          "INVALID", "LIMIT", "SHUTTING_DOWN"]


def name(st):
    if st is None:
        return "CLOSED"
    return STATUS[st] if st < len(STATUS) else str(st)


def main():
    args = sys.argv[1:]
    path = args.pop(0)
    create = open_ = until = None
    role = 3
    urls, removes = [], []
    while args:
        a = args.pop(0)
        if a == "--create":
            create = args.pop(0)
        elif a == "--open":
            open_ = args.pop(0)
        elif a == "--role":
            role = int(args.pop(0))
        elif a == "--url":
            urls.append(args.pop(0))
        elif a == "--remove":
            removes.append(args.pop(0))
        elif a == "--until":
            until = args.pop(0)
        else:
            sys.exit("regclient.py: unknown argument " + a)
    c = Conn(path)
    c.it = c.frames()
    c.hello()
    cid = 1
    if create:
        st, msg = c.call(CREATE_QUEUE, attr(A_QUEUE, create), cid)
        say("create", name(st), msg)
        queue = create
    else:
        st, msg = c.call(OPEN_QUEUE, attr(A_QUEUE, open_) + u32(A_ROLE, role), cid)
        say("open", name(st), msg)
        queue = open_
    for u in urls:
        cid += 1
        st, msg = c.call(ADD_URL, attr(A_URL_TAG, u), cid)
        say("add", u, name(st), msg)
    for u in removes:
        cid += 1
        st, msg = c.call(REMOVE_URL, attr(A_URL_TAG, u), cid)
        say("remove", u, name(st), msg)
    c.send(frame(RECEIVE, u32(A_COUNT, 16)))
    say("ready")
    while True:
        if until and os.path.exists(until):
            say("closing")
            return
        # frames already buffered come first; else wait a little for more
        if len(c.buf) < 16:
            r, _, _ = select.select([c.s], [], [], 0.05)
            if not r:
                continue
        f = next(c.it)
        if f is None:
            say("eof")
            return
        t, fl, fid, p = f
        if t == REQUEST:
            path_ = dict(attrs(p)).get(A_PATH, b"").decode()
            say("got", fid, path_)
            body = ("rt %s from %s\n" % (path_, queue)).encode()
            c.send(frame(RESPONSE, u32(A_STATUS, 200) +
                         attr(A_HEADER, "Content-Length:%d" % len(body)), 0, fid) +
                   frame(RESPONSE_BODY, body, END, fid) +
                   frame(RECEIVE, u32(A_COUNT, 1)))
        elif t == SHUTDOWN:
            say("shutdown")


if __name__ == "__main__":
    main()
