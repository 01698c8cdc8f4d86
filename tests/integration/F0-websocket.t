#!/bin/sh
# F0-websocket.t -- the bundled websocket module (RFC 6455 echo) on the
# daemon's upgraded connections: driven by Debian's python3-websockets
# (text, binary, a 1 MB message, fragments, ping/pong, the close handshake,
# many messages), then by hand over raw sockets: frames pipelined with the
# handshake, hostile frames closed with the RFC's codes (unmasked, too big,
# bad UTF-8, bad opcode, long or fragmented control frame), a client that
# never reads (bounded memory, and every echo once it reads), handshakes
# refused (426, 400) with the connection still usable, and the option's
# validation.
. "${HQ_TESTS:-$(cd "$(dirname "$0")/.." && pwd)}/integration/lib.sh"

# python3-websockets is Debian's package, for Debian's interpreter.
WSPY=
for p in /usr/bin/python3 "$HQ_PYTHON"; do
	if "$p" -c 'import websockets' 2>/dev/null; then WSPY=$p; break; fi
done
[ -n "$WSPY" ] || skip "python3-websockets is not installed (apt-get install python3-websockets)"

command -v openssl >/dev/null 2>&1 || skip "no openssl CLI"
hq_mktemp
C=$HQ_MKTEMP
tls_ca "$C" && tls_cert "$C" srv "DNS:localhost,IP:127.0.0.1" ||
	bail_out "openssl could not make the test certificates"

CONFIG='
server: { workers: 2 }
iplisten: [127.0.0.1]
url_groups:
  - { name: ws, prefixes: ["http://+:@PORT@/ws/"], queue: ws }
  - { name: small, prefixes: ["http://+:@PORT@/small/"], queue: small }
  - { name: s, prefixes: ["http://+:@PORT@/s/"], queue: s }
  - name: quiet
    prefixes: ["http://+:@PORT@/quiet/"]
    queue: ws
    timeouts: { idle_connection: 4, min_send_rate: 1000000 }
  - { name: tls, prefixes: ["https://+:@PORT2@/wss/"], queue: ws }
sslcerts:
  - { ipport: "0.0.0.0:@PORT2@", certfile: @C@/srv.crt, keyfile: @C@/srv.key }
queues:
  - { name: ws, module: websocket }
  - { name: small, module: websocket, options: { max_message_bytes: 1000 } }
  - { name: s, module: sample }
'
start_httpqd "$(printf '%s\n' "$CONFIG" | sed "s|@C@|$C|g")" || bail_out "httpqd did not start"
T=$HQ_DIR

# --- a real client -------------------------------------------------------------
"$WSPY" - "$HQ_PORT" >"$T/client" 2>&1 <<'PY'
import asyncio, sys, websockets
url = "ws://127.0.0.1:%s/ws/echo" % sys.argv[1]
async def main():
    async with websockets.connect(url, max_size=4 << 20) as ws:
        await ws.send("héllo wörld")
        print("text:", await ws.recv() == "héllo wörld")
        await ws.send(bytes(range(256)))
        print("binary:", await ws.recv() == bytes(range(256)))
        big = bytes(i % 251 for i in range(1000000))
        await ws.send(big)
        print("1 MB:", await ws.recv() == big)
        await ws.send(["frag", "men", "ted ", "ñ"])
        print("fragmented:", await ws.recv() == "fragmented ñ")
        pong = await ws.ping(b"ping-data")
        await asyncio.wait_for(pong, 10)
        print("ping: pong")
        for i in range(1000):
            await ws.send("message %d" % i)
        n = 0
        for i in range(1000):
            if await ws.recv() == "message %d" % i:
                n += 1
        print("many:", n)
        await ws.close(code=4001, reason="done")
        print("close:", ws.close_code)
asyncio.run(main())
PY
out=$(cat "$T/client")
like "$out" '^text: True$' "python3-websockets: a text message echoed"
like "$out" '^binary: True$' "  a binary message"
like "$out" '^1 MB: True$' "  a 1 MB message"
like "$out" '^fragmented: True$' "  a fragmented message, reassembled"
like "$out" '^ping: pong$' "  ping answered with pong"
like "$out" '^many: 1000$' "  1000 messages, in order"
like "$out" '^close: 4001$' "  the close handshake returns the client's code"
[ "$(printf '%s\n' "$out" | grep -c .)" -eq 7 ] || diag "$out"

# over TLS (wss://)
"$WSPY" - "$HQ_PORT2" "$C/ca.crt" >"$T/wss" 2>&1 <<'PY'
import asyncio, ssl, sys, websockets
ctx = ssl.create_default_context(cafile=sys.argv[2])
async def main():
    async with websockets.connect("wss://127.0.0.1:%s/wss/" % sys.argv[1], ssl=ctx,
                                  max_size=4 << 20) as ws:
        big = bytes(i % 253 for i in range(1000000))
        await ws.send(big)
        print("wss 1 MB:", await ws.recv() == big)
        await ws.send("tls")
        print("wss text:", await ws.recv())
asyncio.run(main())
PY
like "$(cat "$T/wss")" '^wss 1 MB: True$' "wss://: a 1 MB message over TLS" || diag "$(cat "$T/wss")"
like "$(cat "$T/wss")" '^wss text: tls$' "  and a text one"

# A quiet but healthy WebSocket outlives the send timer (whatever
# min_send_rate says: nothing waits to be sent), within idle_connection.
"$WSPY" - "$HQ_PORT" >"$T/quiet" 2>&1 <<'PY'
import asyncio, sys, websockets
async def main():
    async with websockets.connect("ws://127.0.0.1:%s/quiet/" % sys.argv[1],
                                  ping_interval=None) as ws:
        await ws.send("one")
        await ws.recv()
        await asyncio.sleep(2.5)
        await ws.send("two")
        print("after a quiet 2.5 s:", await asyncio.wait_for(ws.recv(), 10))
asyncio.run(main())
PY
like "$(cat "$T/quiet")" '^after a quiet 2.5 s: two$' \
    "a quiet WebSocket is not closed by min_send_rate" || diag "$(cat "$T/quiet")"

# --- by hand -------------------------------------------------------------------
"$HQ_PYTHON" - "$HQ_PORT" "$HQ_PID" >"$T/raw" 2>&1 <<'PY'
import os, socket, struct, sys, threading, time
port, pid = int(sys.argv[1]), sys.argv[2]

def frame(op, payload, fin=True, mask=True, rsv=0, length=None):
    n = len(payload) if length is None else length
    b = bytes([(0x80 if fin else 0) | rsv | op])
    m = 0x80 if mask else 0
    if n < 126:
        b += bytes([m | n])
    elif n < 65536:
        b += bytes([m | 126]) + struct.pack(">H", n)
    else:
        b += bytes([m | 127]) + struct.pack(">Q", n)
    if mask:
        k = os.urandom(4)
        b += k + bytes(c ^ k[i % 4] for i, c in enumerate(payload))
    else:
        b += payload
    return b

HS = (b"GET /%s HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")

def connect(path="ws/", extra=b""):
    s = socket.create_connection(("127.0.0.1", port))
    s.settimeout(10)
    s.sendall(HS % path.encode() + extra)
    head = b""
    while b"\r\n\r\n" not in head:
        d = s.recv(1)
        if not d:
            break
        head += d
    return s, head

def read_frame(s):
    def need(n):
        b = b""
        while len(b) < n:
            d = s.recv(n - len(b))
            if not d:
                raise EOFError
            b += d
        return b
    h = need(2)
    n = h[1] & 0x7f
    if n == 126:
        n = struct.unpack(">H", need(2))[0]
    elif n == 127:
        n = struct.unpack(">Q", need(8))[0]
    return h[0] & 0x0f, need(n)

def closed_with(s, data):
    """Sends data; the close frame's code, and whether the server then closed."""
    try:
        s.sendall(data)
        while True:
            op, p = read_frame(s)
            if op == 8:
                break
        code = struct.unpack(">H", p[:2])[0] if len(p) >= 2 else None
        end = s.recv(10) == b""
    except (EOFError, ConnectionResetError, socket.timeout):
        return None, False
    return code, end

s, head = connect()
print("handshake:", head.split(b"\r\n")[0].decode())
print("accept:", b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" in head)
s.close()

# a frame in the same write as the handshake: the stream's first bytes
s, head = connect(extra=frame(1, b"early"))
print("pipelined:", read_frame(s))
print("close handshake:", closed_with(s, frame(8, struct.pack(">H", 1000) + b"bye")))

for name, data, path in [
        ("unmasked", frame(1, b"x", mask=False), "ws/"),
        ("too big", frame(2, b"", length=2 << 20), "ws/"),
        ("too big in fragments", frame(2, b"a" * 600, fin=False) + frame(0, b"b" * 600), "small/"),
        ("bad utf-8", frame(1, b"\xed\xa0\x80"), "ws/"),
        ("bad opcode", frame(3, b""), "ws/"),
        ("reserved bit", frame(1, b"x", rsv=0x40), "ws/"),
        ("long ping", frame(9, b"p" * 126), "ws/"),
        ("fragmented ping", frame(9, b"p", fin=False), "ws/"),
        ("lone continuation", frame(0, b"x"), "ws/")]:
    s, head = connect(path)
    print(name + ":", closed_with(s, data))

# a client that sends and never reads: reading stops, memory stays bounded;
# once it reads, every echo arrives
def rss():
    with open("/proc/%s/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
msg = frame(2, bytes(65536))
s, head = connect()
before = rss()
s.setblocking(False)
stream, off, end = msg * 1024, 0, time.time() + 3
while time.time() < end and off < len(stream):
    try:
        off += s.send(stream[off:off + (1 << 20)])
    except BlockingIOError:
        time.sleep(0.02)
grown = rss() - before
print("never reads: sent %s MiB, daemon grew %s MiB" % ("<32" if off < 32 << 20 else ">=32",
      "<24" if grown < 24 << 20 else "%d" % (grown >> 20)))
s.setblocking(True)
s.settimeout(20)
count = [0]
def reader():
    try:
        while True:
            op, p = read_frame(s)
            if op == 2 and len(p) == 65536:
                count[0] += 1
            if op == 8:
                return
    except Exception as e:
        print("reader:", e)
t = threading.Thread(target=reader)
t.start()
whole = -(-off // len(msg))   # the frame cut short is finished now
s.sendall(stream[off:whole * len(msg)] + frame(8, struct.pack(">H", 1000)))
t.join()
print("then reads: %d of %d echoes" % (count[0], whole))

# not a WebSocket: 426 and the connection goes on
s = socket.create_connection(("127.0.0.1", port))
s.settimeout(10)
s.sendall(b"GET /ws/ HTTP/1.1\r\nHost: a\r\nUpgrade: foo\r\nConnection: Upgrade\r\n\r\n"
          b"GET /s/ HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
out = b""
while True:
    d = s.recv(65536)
    if not d:
        break
    out += d
print("upgrade foo:", out.split(b"\r\n")[0].decode(), b"Upgrade: websocket" in out)
print("then:", b"Hey! You hit the server" in out)
s, head = connect()
s.close()
s = socket.create_connection(("127.0.0.1", port))
s.settimeout(10)
s.sendall((HS % b"ws/").replace(b"Version: 13", b"Version: 8"))
out = s.recv(65536)
print("version 8:", out.split(b"\r\n")[0].decode(), b"Sec-WebSocket-Version: 13" in out)
s.sendall((HS % b"ws/").replace(b"dGhlIHNhbXBsZSBub25jZQ==", b"short"))
out = s.recv(65536)
print("bad key:", out.split(b"\r\n")[0].decode())
PY
out=$(cat "$T/raw")
like "$out" '^handshake: HTTP/1.1 101 Switching Protocols$' "by hand: the handshake"
like "$out" '^accept: True$' "  Sec-WebSocket-Accept of RFC 6455's example key"
like "$out" "^pipelined: \(1, b'early'\)$" "a frame sent with the handshake is echoed"
like "$out" '^close handshake: \(1000, True\)$' "a close is answered with its code, then the server closes"
like "$out" '^unmasked: \(1002, True\)$' "an unmasked frame: 1002"
like "$out" '^too big: \(1009, True\)$' "a message over 1 MiB: 1009 at its head"
like "$out" '^too big in fragments: \(1009, True\)$' "  and over max_message_bytes in fragments"
like "$out" '^bad utf-8: \(1007, True\)$' "text that is not UTF-8: 1007"
like "$out" '^bad opcode: \(1002, True\)$' "opcode 3: 1002"
like "$out" '^reserved bit: \(1002, True\)$' "a reserved bit: 1002"
like "$out" '^long ping: \(1002, True\)$' "a ping of 126 bytes: 1002"
like "$out" '^fragmented ping: \(1002, True\)$' "a fragmented ping: 1002"
like "$out" '^lone continuation: \(1002, True\)$' "a continuation without a message: 1002"
like "$out" '^never reads: sent <32 MiB, daemon grew <24 MiB$' \
    "a client that never reads: stopped by TCP, the daemon's memory bounded"
like "$out" '^then reads: ([0-9]+) of \1 echoes$' "  once it reads, every message comes back"
like "$out" '^upgrade foo: HTTP/1.1 426 Upgrade Required True$' \
    "Upgrade: foo: 426 with Upgrade: websocket"
like "$out" '^then: True$' "  and the next request on that connection is answered"
like "$out" '^version 8: HTTP/1.1 426 Upgrade Required True$' \
    "Sec-WebSocket-Version 8: 426 naming 13"
like "$out" '^bad key: HTTP/1.1 400 ' "a bad Sec-WebSocket-Key: 400"
unlike "$out" 'Traceback|reader:' "no client error" || diag "$out"
hq_alive "$HQ_PID"
ok $? "the daemon is still running"

# --- the option ------------------------------------------------------------------
write_config "$T/bad.yaml" '
iplisten: [127.0.0.1]
url_groups:
  - { name: ws, prefixes: ["http://+:@PORT@/ws/"], queue: ws }
queues:
  - { name: ws, module: websocket, options: { max_message_bytes: 0 } }
'
"$HTTPQD" -t -c "$T/bad.yaml" -M "$HQ_MODDIR" >"$T/bad.out" 2>&1
isnt $? 0 "httpqd -t refuses max_message_bytes: 0"
like "$(cat "$T/bad.out")" 'queues\[0\]\.options\.max_message_bytes: expected a number of bytes from 1 to 1073741824, got "0"' \
    "  naming the option and what would be right"

stop_httpqd
done_testing
