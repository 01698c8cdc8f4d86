#!/usr/bin/env python3
"""rawhttp.py -- exact-bytes HTTP client and response parser for the
integration tests (standard library only).

Client mode:
    rawhttp.py HOST PORT [options] < request-bytes
Sends stdin as is (write it with printf and \\r\\n escapes), then prints every
byte received to stdout.  By default it stops after one complete final
response (1xx interim responses are printed but not counted).
  --responses N            stop after N complete final responses
  --read-until-close       read until the server closes (or resets)
  --half-close-after-send  shutdown(SHUT_WR) once everything is sent
  --split                  stdin holds several parts separated by "@@@":
                           send a part, wait for one response, send the next
  --no-body                responses carry no body (answers to HEAD)
  --timeout SECS           give up after SECS of waiting (default 5)
  --reset-after SECS       after sending, read for SECS, then reset the
                           connection (SO_LINGER 0: RST); exit 0
  --stats                  print "end=... elapsed=... responses=... bytes=..."
                           to stderr; elapsed counts from the last send
Exit status: 0 done (N responses, or the close asked for), 2 timed out,
3 connection reset, 4 connect failed, 5 closed before N responses, 1 usage.

Helper modes (used by lib.sh):
    rawhttp.py parse FILE [--no-body] count
    rawhttp.py parse FILE [--no-body] rest    bytes after the last complete one
    rawhttp.py parse FILE [--no-body] status|headers|body [INDEX]
    rawhttp.py parse FILE [--no-body] header NAME [INDEX]
    rawhttp.py freeport
    rawhttp.py waitport PORT PID SECS      0 once the port accepts
    rawhttp.py waitrefused PORT PID SECS   0 once a connect is refused while
                                           PID still runs (1: PID gone first)
"""

import errno
import os
import socket
import struct
import sys
import time

EXIT_OK, EXIT_USAGE, EXIT_TIMEOUT, EXIT_RESET, EXIT_CONNECT, EXIT_EOF = 0, 1, 2, 3, 4, 5


class Incomplete(Exception):
    pass


def parse_one(buf, pos, no_body, at_eof):
    """Parses one response at buf[pos:].  Returns (status, head, body, end).
    Raises Incomplete if more bytes are needed."""
    hend = buf.find(b"\r\n\r\n", pos)
    sep = 4
    if hend < 0:
        hend = buf.find(b"\n\n", pos)
        sep = 2
        if hend < 0:
            raise Incomplete()
    head = buf[pos:hend]
    lines = head.split(b"\n")
    status_line = lines[0].rstrip(b"\r")
    parts = status_line.split(b" ", 2)
    try:
        status = int(parts[1])
    except (IndexError, ValueError):
        status = 0
    headers = []
    for ln in lines[1:]:
        ln = ln.rstrip(b"\r")
        if b":" in ln:
            k, v = ln.split(b":", 1)
            headers.append((k.strip().lower(), v.strip()))
    bstart = hend + sep
    hmap = {}
    for k, v in headers:
        hmap.setdefault(k, v)
    if no_body or 100 <= status < 200 or status in (204, 304):
        return status, head, b"", bstart
    te = hmap.get(b"transfer-encoding", b"").lower()
    if b"chunked" in te:
        body = b""
        p = bstart
        while True:
            le = buf.find(b"\r\n", p)
            if le < 0:
                raise Incomplete()
            size = int(buf[p:le].split(b";")[0].strip() or b"0", 16)
            p = le + 2
            if size == 0:
                # trailers up to an empty line
                while True:
                    le = buf.find(b"\r\n", p)
                    if le < 0:
                        raise Incomplete()
                    if le == p:
                        return status, head, body, le + 2
                    p = le + 2
            if len(buf) < p + size + 2:
                raise Incomplete()
            body += buf[p:p + size]
            p += size + 2
    if b"content-length" in hmap:
        n = int(hmap[b"content-length"])
        if len(buf) < bstart + n:
            raise Incomplete()
        return status, head, buf[bstart:bstart + n], bstart + n
    # close-delimited
    if not at_eof:
        raise Incomplete()
    return status, head, buf[bstart:], len(buf)


def parse_all(buf, no_body, at_eof):
    """Returns the list of complete final responses (1xx skipped)."""
    out = []
    pos = 0
    while pos < len(buf):
        try:
            r = parse_one(buf, pos, no_body, at_eof)
        except Incomplete:
            break
        except ValueError:
            break
        if r[3] <= pos:
            break
        pos = r[3]
        if not 100 <= r[0] < 200:
            out.append(r)
    return out


def client(argv):
    opts = {"responses": 1, "until_close": False, "half_close": False,
            "split": False, "no_body": False, "timeout": 5.0, "stats": False,
            "reset_after": None}
    pos = []
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "--responses":
            i += 1
            opts["responses"] = int(argv[i])
        elif a == "--read-until-close":
            opts["until_close"] = True
        elif a == "--half-close-after-send":
            opts["half_close"] = True
        elif a == "--split":
            opts["split"] = True
        elif a == "--no-body":
            opts["no_body"] = True
        elif a == "--timeout":
            i += 1
            opts["timeout"] = float(argv[i])
        elif a == "--stats":
            opts["stats"] = True
        elif a == "--reset-after":
            i += 1
            opts["reset_after"] = float(argv[i])
        elif a.startswith("--"):
            sys.stderr.write("rawhttp: unknown option %s\n" % a)
            return EXIT_USAGE
        else:
            pos.append(a)
        i += 1
    if len(pos) != 2:
        sys.stderr.write("usage: rawhttp.py HOST PORT [options] < request\n")
        return EXIT_USAGE
    host, port = pos[0], int(pos[1])
    data = sys.stdin.buffer.read()
    parts = data.split(b"@@@") if opts["split"] else [data]
    if opts["split"] and not opts["until_close"]:
        opts["responses"] = max(opts["responses"], len(parts))

    out = sys.stdout.buffer
    received = bytearray()
    end = "none"
    t_send = time.monotonic()

    def stats(code):
        if opts["stats"]:
            n = len(parse_all(bytes(received), opts["no_body"],
                              end in ("eof", "reset")))
            sys.stderr.write("end=%s elapsed=%.3f responses=%d bytes=%d\n" % (
                end, time.monotonic() - t_send, n, len(received)))
        out.flush()
        return code

    try:
        s = socket.create_connection((host, port), timeout=opts["timeout"])
    except OSError as e:
        end = "connect-" + (errno.errorcode.get(e.errno, str(e.errno))
                            if e.errno else "failed")
        return stats(EXIT_CONNECT)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def send(b):
        nonlocal t_send
        if b:
            s.sendall(b)
        t_send = time.monotonic()

    def recv_until(want):
        """Reads until `want` final responses are complete (None = EOF).
        Returns the end kind: "ok", "eof", "timeout", "reset"."""
        deadline = time.monotonic() + opts["timeout"]
        while True:
            if want is not None and len(parse_all(bytes(received),
                                                  opts["no_body"], False)) >= want:
                return "ok"
            left = deadline - time.monotonic()
            if left <= 0:
                return "timeout"
            s.settimeout(left)
            try:
                b = s.recv(65536)
            except socket.timeout:
                return "timeout"
            except ConnectionResetError:
                return "reset"
            except OSError as e:
                if e.errno in (errno.ECONNRESET, errno.EPIPE):
                    return "reset"
                raise
            if not b:
                return "eof"
            received.extend(b)
            out.write(b)
            out.flush()

    try:
        for k, part in enumerate(parts):
            last = k == len(parts) - 1
            try:
                send(part)
                if last and opts["half_close"]:
                    s.shutdown(socket.SHUT_WR)
            except (BrokenPipeError, ConnectionResetError):
                end = "reset"
                # the server may have answered before resetting
                recv_until(None)
                return stats(EXIT_RESET)
            if last:
                break
            r = recv_until(k + 1)
            if r != "ok":
                end = r
                return stats({"timeout": EXIT_TIMEOUT, "reset": EXIT_RESET,
                              "eof": EXIT_EOF}[r])
        if opts["reset_after"] is not None:
            opts["timeout"] = opts["reset_after"]
            r = recv_until(None)
            end = "abort" if r == "timeout" else r
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                         struct.pack("ii", 1, 0))
            return stats(EXIT_OK)
        if opts["until_close"]:
            r = recv_until(None)
            end = r
            return stats({"eof": EXIT_OK, "timeout": EXIT_TIMEOUT,
                          "reset": EXIT_RESET}[r])
        r = recv_until(opts["responses"])
        end = r
        return stats({"ok": EXIT_OK, "timeout": EXIT_TIMEOUT,
                      "reset": EXIT_RESET, "eof": EXIT_EOF}[r])
    finally:
        s.close()


def parse_mode(argv):
    if len(argv) < 2:
        return EXIT_USAGE
    path = argv[0]
    args = argv[1:]
    no_body = False
    if args and args[0] == "--no-body":
        no_body = True
        args = args[1:]
    with open(path, "rb") as f:
        buf = f.read()
    rs = parse_all(buf, no_body, True)
    what = args[0]
    out = sys.stdout.buffer
    if what == "count":
        out.write(b"%d\n" % len(rs))
        return EXIT_OK
    if what == "rest":
        out.write(b"%d\n" % (len(buf) - (rs[-1][3] if rs else 0)))
        return EXIT_OK
    if what == "header":
        name = args[1].lower().encode()
        idx = int(args[2]) if len(args) > 2 else 0
    else:
        idx = int(args[1]) if len(args) > 1 else 0
    if idx >= len(rs):
        return EXIT_EOF
    status, head, body, _ = rs[idx]
    if what == "status":
        out.write(head.split(b"\n")[0].rstrip(b"\r") + b"\n")
    elif what == "headers":
        out.write(head.replace(b"\r\n", b"\n") + b"\n")
    elif what == "body":
        out.write(body)
    elif what == "header":
        for ln in head.split(b"\n")[1:]:
            ln = ln.rstrip(b"\r")
            if b":" in ln:
                k, v = ln.split(b":", 1)
                if k.strip().lower() == name:
                    out.write(v.strip() + b"\n")
                    return EXIT_OK
        return EXIT_EOF
    else:
        return EXIT_USAGE
    return EXIT_OK


def freeport():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    print(s.getsockname()[1])
    s.close()
    return EXIT_OK


def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            st = f.read()
    except OSError:
        return False
    return st[st.rfind(")") + 2:][:1] not in ("Z", "X")


def waitport(port, pid, secs):
    """0 when 127.0.0.1:port accepts, 1 if pid died first, 2 on timeout."""
    deadline = time.monotonic() + secs
    while time.monotonic() < deadline:
        try:
            c = socket.create_connection(("127.0.0.1", port), timeout=0.5)
            c.close()
            return EXIT_OK
        except OSError:
            pass
        if not alive(pid):
            return 1
        time.sleep(0.02)
    return EXIT_TIMEOUT


def waitrefused(port, pid, secs):
    """0 when a connect to 127.0.0.1:port is refused while pid still runs,
    1 if pid is gone first, 2 on timeout.  Prints the seconds it took."""
    t0 = time.monotonic()
    deadline = t0 + secs
    while time.monotonic() < deadline:
        try:
            c = socket.create_connection(("127.0.0.1", port), timeout=0.5)
            c.close()
        except ConnectionRefusedError:
            up = alive(pid)
            print("%.3f" % (time.monotonic() - t0))
            return EXIT_OK if up else 1
        except OSError:
            pass
        if not alive(pid):
            print("%.3f" % (time.monotonic() - t0))
            return 1
        time.sleep(0.01)
    print("%.3f" % (time.monotonic() - t0))
    return EXIT_TIMEOUT


def main(argv):
    if argv and argv[0] == "parse":
        return parse_mode(argv[1:])
    if argv and argv[0] == "freeport":
        return freeport()
    if argv and argv[0] == "waitport":
        return waitport(int(argv[1]), int(argv[2]), float(argv[3]))
    if argv and argv[0] == "waitrefused":
        return waitrefused(int(argv[1]), int(argv[2]), float(argv[3]))
    return client(argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
