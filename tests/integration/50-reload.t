#!/bin/sh
# 50-reload.t -- SIGHUP reloads: a bad store is refused and the running
# configuration stays; a good one is swapped in (generation 2).  And
# `httpqd -t` on good and bad files.
. "${HQ_TESTS:-$(cd "$(dirname "$0")/.." && pwd)}/integration/lib.sh"

GOOD='
server: { workers: 2 }
iplisten: [127.0.0.1]
url_groups:
  - { name: one, prefixes: ["http://+:@PORT@/one/"], queue: q }
queues:
  - { name: q, module: sample }
'
# line 4, column 3: an unknown key
BAD='
server:
  workers: 2
  no_such_key: 1
iplisten: [127.0.0.1]
url_groups:
  - { name: one, prefixes: ["http://+:@PORT@/one/"], queue: q }
queues:
  - { name: q, module: sample }
'
GOOD2='
server: { workers: 2 }
iplisten: [127.0.0.1]
url_groups:
  - { name: one, prefixes: ["http://+:@PORT@/one/"], queue: q }
  - { name: two, prefixes: ["http://+:@PORT@/two/"], queue: q }
queues:
  - { name: q, module: sample }
'
start_httpqd "$GOOD" || bail_out "httpqd did not start"
T=$HQ_DIR

code() {
	hq_curl -o /dev/null -w '%{http_code}' "$(url "$1")"
}

is "$(code /one/)" 200 "generation 1: /one/ answers"
is "$(code /two/)" 404 "generation 1: /two/ is not routed"

# --- a broken store is refused; the old one keeps serving --------------------
log_mark
write_config "$HQ_DIR/httpq.yaml" "$BAD"
reload_httpqd
line=$(wait_log 'reload refused')
ok $? "SIGHUP with a broken store: log says 'reload refused'"
diag "$line"
# The key path may name the unknown key or the mapping holding it; the
# message must name the key either way.
like "$(tail -n +"$((HQ_LOG_MARK + 1))" "$HQ_LOG")" 'httpq\.yaml:4:3: server(\.no_such_key)?: .*no_such_key' \
    "the refusal names file:line:col and the key path"
is "$(code /one/)" 200 "after the refused reload the old configuration serves /one/"
hq_alive "$HQ_PID"
ok $? "daemon process still alive"

# --- a good store with a second URL group ------------------------------------
log_mark
write_config "$HQ_DIR/httpq.yaml" "$GOOD2"
reload_httpqd
line=$(wait_log 'generation 2')
ok $? "SIGHUP with a good store: log says 'generation 2'"
diag "$line"
is "$(code /two/)" 200 "generation 2: /two/ answers"
is "$(code /one/)" 200 "generation 2: /one/ still answers"

# a connection kept alive across a reload keeps working
"$HQ_PYTHON" -S - "$HQ_PORT" "$HQ_PID" "$HQ_LOG" >"$T/ka.out" <<'PY'
import os, signal, socket, sys, time
sys.path.insert(0, os.environ.get("HQ_TESTS", ".") + "/integration")
from rawhttp import parse_all
port, pid, log = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
s = socket.create_connection(("127.0.0.1", port), timeout=5)
def ask(path):
    s.sendall(b"GET " + path + b" HTTP/1.1\r\nHost: localhost\r\n\r\n")
    buf = b""
    while not parse_all(buf, False, False):
        b = s.recv(4096)
        if not b:
            return "closed"
        buf += b
    return buf.split(b"\r\n", 1)[0].decode()
print(ask(b"/one/"))
os.kill(pid, signal.SIGHUP)
deadline = time.monotonic() + 10
while time.monotonic() < deadline:
    with open(log, "rb") as f:
        if b"generation 3" in f.read():
            break
    time.sleep(0.05)
print(ask(b"/two/"))
PY
is "$(sed -n 1p "$T/ka.out")" "HTTP/1.1 200 OK" "kept-alive connection: request before the reload"
is "$(sed -n 2p "$T/ka.out")" "HTTP/1.1 200 OK" "kept-alive connection: request after the reload (generation 3)"

# --- httpqd -t ----------------------------------------------------------------
write_config "$T/bad.yaml" "$BAD"
write_config "$T/good.yaml" "$GOOD2"
out=$("$HTTPQD" -t -c "$T/bad.yaml" -M "$HQ_MODDIR" 2>&1)
is "$?" 1 "httpqd -t on a bad file exits 1"
like "$out" 'bad\.yaml:4:3: server(\.no_such_key)?: .*no_such_key' "httpqd -t prints FILE:LINE:COL: key.path: message"
diag "$out"

# several errors: every one is printed
write_config "$T/bad2.yaml" '
server: { workers: 2, bogus_a: 1 }
iplisten: [127.0.0.1]
url_groups:
  - { name: one, prefixes: ["http://+:@PORT@/one/"], queue: q, bogus_b: 2 }
queues:
  - { name: q, module: sample, length: 70000 }
'
out=$("$HTTPQD" -t -c "$T/bad2.yaml" -M "$HQ_MODDIR" 2>&1)
is "$?" 1 "httpqd -t on a file with three errors exits 1"
like "$out" 'bad2\.yaml:2:[0-9]+: server(\.bogus_a)?: .*bogus_a' "first error printed"
like "$out" 'bad2\.yaml:5:[0-9]+: url_groups\[0\](\.bogus_b)?: .*bogus_b' "second error printed"
like "$out" 'bad2\.yaml:7:[0-9]+: queues\[0\]\.length: .*70000' "third error printed"
diag "$out"

out=$("$HTTPQD" -t -c "$T/good.yaml" -M "$HQ_MODDIR" 2>&1)
is "$?" 0 "httpqd -t on a good file exits 0"

done_testing
