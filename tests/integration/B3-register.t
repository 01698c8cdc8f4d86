#!/bin/sh
# B3-register.t -- run-time registration by attached processes (issue 10,
# items 1 and 2): CREATE_QUEUE and ADD_URL served at once; URL reservations
# enforced with the peer's credentials (an unprivileged user refused with
# the missing reservation, then allowed after `httpqctl add urlacl`, no
# restart); conflicts with YAML and with another process name the owner;
# closing the handle removes its routes; http.sys precedence between YAML
# and run-time prefixes; a reload that gives YAML a run-time prefix.
. "${HQ_TESTS:-$(cd "$(dirname "$0")/.." && pwd)}/integration/lib.sh"
: "${HTTPQCTL:=$HQ_TESTS/../src/httpqctl}"
REG="$HQ_TESTS/integration/regclient.py"

CONFIG='
server: { workers: 2 }
iplisten: [127.0.0.1]
url_groups:
  - { name: static, prefixes: ["http://+:@PORT@/static/", "http://+:@PORT@/plus/"], queue: s }
  - { name: weak, prefixes: ["http://*:@PORT@/"], queue: s }
queues:
  - { name: s, module: sample }
  - { name: aq, attach: { user: root }, length: 10 }
'
start_httpqd "$CONFIG" || bail_out "httpqd did not start"
Q=$HQ_QSOCK
D=$HQ_DIR
chmod 755 "$D"

ctl() {
	"$HTTPQCTL" -c "$D/httpq.yaml" -s "$HQ_CTL" -M "$HQ_MODDIR" "$@"
}

# reg NAME ARGS...: a regclient in the background, output in $D/NAME.out;
# waits for "ready" (or its exit).  Stops when $D/NAME.stop exists.
reg() {
	_n=$1
	shift
	"$HQ_PYTHON" -S "$REG" "$Q" --until "$D/$_n.stop" "$@" >"$D/$_n.out" 2>&1 &
	eval "PID_$_n=\$!"
	bg_started $!
	wait_out "$_n" '^(ready|eof)$' || diag "$_n: no 'ready'" "$(cat "$D/$_n.out")"
}

# as_nobody NAME ARGS...: the same, as nobody (uid 65534, no groups)
reg_nobody() {
	_n=$1
	shift
	setpriv --reuid=65534 --regid=65534 --clear-groups \
	    "$HQ_PYTHON" -S "$REG" "$Q" --until "$D/$_n.stop" "$@" >"$D/$_n.out" 2>&1 &
	eval "PID_$_n=\$!"
	bg_started $!
	wait_out "$_n" '^(ready|eof)$' || diag "$_n: no 'ready'" "$(cat "$D/$_n.out")"
}

# wait_out NAME ERE: polls $D/NAME.out for a line (10 s)
wait_out() {
	_end=$(($(date +%s) + 10))
	until grep -Eq -- "$2" "$D/$1.out" 2>/dev/null; do
		[ "$(date +%s)" -gt "$_end" ] && return 1
		sleep 0.05
	done
}

# stop NAME: the client closes its handle and exits
stop() {
	touch "$D/$1.stop"
	eval "_p=\$PID_$1"
	hq_wait_gone "$_p" 10
}

get() { # get HOST PATH: the body
	hq_curl -H "Host: $1" "$(url "$2")"
}

# wait_body HOST PATH ERE: polls until the body matches (the workers take a
# new run-time snapshot through their mailboxes)
wait_body() {
	_end=$(($(date +%s) + 10))
	until get "$1" "$2" 2>/dev/null | grep -Eq -- "$3"; do
		[ "$(date +%s)" -gt "$_end" ] && return 1
		sleep 0.05
	done
}

_end=$(($(date +%s) + 10))
until [ -S "$Q" ] || [ "$(date +%s)" -gt "$_end" ]; do sleep 0.05; done
[ -S "$Q" ] || bail_out "no queue socket at $Q"

# --- root creates a queue and registers a URL: served at once ------------
reg a --create rtq --url "http://localhost:$HQ_PORT/app/" \
    --url "http://localhost:$HQ_PORT/plus/app/"
out=$(cat "$D/a.out")
like "$out" '^create OK' "root: CREATE_QUEUE rtq"
like "$out" "^add http://localhost:$HQ_PORT/app/ OK" "root: ADD_URL of an explicit-host prefix"
wait_body localhost /app/x '^rt /app/x from rtq$'
ok $? "a request for the run-time prefix reaches the process"
is "$(get LOCALHOST /APP/y)" "rt /APP/y from rtq" "host and path match case-insensitively"

# --- http.sys precedence across YAML and run-time prefixes -----------------
like "$(get localhost /plus/app/x)" '^Hey! You hit the server' \
    "YAML strong + /plus/ beats the longer run-time explicit-host /plus/app/"
is "$(get localhost /app/x)" "rt /app/x from rtq" \
    "the run-time explicit host beats the YAML weak wildcard http://*:PORT/"
like "$(get localhost /other)" '^Hey! You hit the server' \
    "a class without a path match does not decide: the weak wildcard answers"
like "$(get 127.0.0.1 /app/x)" '^Hey! You hit the server' \
    "another host falls to the YAML weak wildcard"

# --- observability ---------------------------------------------------------
out=$(ctl show servicestate)
like "$out" "^http://localhost:$HQ_PORT/app/ +rtq +$PID_a +0 +yes" \
    "show servicestate: the run-time URL with queue, pid, uid"
like "$out" "^rtq +$PID_a +0\$" "show servicestate: the run-time queue"
out=$(ctl show servicestate --json)
like "$out" "\"runtime_urls\":\\[\\{\"url\":\"http://localhost:$HQ_PORT/app/\",\"queue\":\"rtq\",\"pid\":$PID_a,\"uid\":0,\"shadowed_by\":null\\}" \
    "show servicestate --json: runtime_urls"
like "$out" "\"runtime_queues\":\\[\\{\"name\":\"rtq\",\"pid\":$PID_a,\"uid\":0\\}\\]" \
    "show servicestate --json: runtime_queues"
out=$(ctl show route "http://localhost:$HQ_PORT/app/x")
like "$out" "registered +at run time by pid $PID_a uid 0" "show route: the run-time owner"
like "$out" 'queue +rtq' "show route: its queue"
out=$(ctl show queue rtq)
like "$out" "created +at run time by pid $PID_a uid 0" "show queue: a run-time queue's creator"
like "$out" "url +http://localhost:$HQ_PORT/app/ \\(pid $PID_a\\)" "show queue: its URLs"
like "$out" 'arrived +[1-9]' "show queue: its counters"
out=$(ctl show route "http://localhost:$HQ_PORT/plus/app/x")
like "$out" 'url group +static' "show route: the YAML strong wildcard wins there"

# --- conflicts name the owner ------------------------------------------------
reg b --create other --url "http://+:$HQ_PORT/static/" \
    --url "http://LocalHost:$HQ_PORT/app/" --url "http://+:1/x/" \
    --url "http://+/x/" --url "https://+:$HQ_PORT/s/" \
    --url "http://127.0.0.2:$HQ_PORT/ip/" --url "http://[::1]:$HQ_PORT/ip6/" \
    --url "http://127.0.0.1:$HQ_PORT/ip/"
out=$(cat "$D/b.out")
like "$out" "^add http://\\+:$HQ_PORT/static/ ALREADY_EXISTS .*registered by url group \"static\" \\(.*httpq\\.yaml:[0-9]+\\)" \
    "a YAML prefix: ALREADY_EXISTS naming the url group and its file"
like "$out" "^add http://LocalHost:$HQ_PORT/app/ ALREADY_EXISTS .*registered by pid $PID_a uid 0 queue \"rtq\"" \
    "another process's prefix: ALREADY_EXISTS naming pid, uid and queue"
like "$out" '^add http://\+:1/x/ INVALID .*does not listen on port 1.*fixed when httpqd starts' \
    "a port httpqd does not listen on: INVALID, saying listeners are fixed"
like "$out" '^add http://\+/x/ INVALID .*port' "bad prefix syntax: INVALID with the parser's message"
like "$out" "^add https://\\+:$HQ_PORT/s/ INVALID .*serves port $HQ_PORT with http, not https" \
    "the wrong scheme for the port: INVALID"
like "$out" "^add http://127\\.0\\.0\\.2:$HQ_PORT/ip/ INVALID .*does not listen on 127\\.0\\.0\\.2 port $HQ_PORT; it listens on 127\\.0\\.0\\.1:$HQ_PORT \\(http\\)" \
    "an IP-bound prefix on an address httpqd does not listen on: INVALID, naming what it listens on"
like "$out" "^add http://\\[::1\\]:$HQ_PORT/ip6/ INVALID .*does not listen on ::1 port $HQ_PORT" \
    "an IPv6-bound prefix where httpqd listens on IPv4 only: INVALID"
like "$out" "^add http://127\\.0\\.0\\.1:$HQ_PORT/ip/ OK" \
    "an IP-bound prefix on the address httpqd listens on: OK"
reg c --create rtq
like "$(cat "$D/c.out")" '^create ALREADY_EXISTS queue "rtq" exists: created by pid' \
    "a run-time queue name twice: ALREADY_EXISTS naming the creator"
reg d --create s
like "$(cat "$D/d.out")" '^create ALREADY_EXISTS queue "s" exists: declared at .*httpq\.yaml' \
    "a YAML queue name: ALREADY_EXISTS"
stop b; stop c; stop d

# --- malformed and out-of-order calls: a RESULT each, the handle stays ------
out=$("$HQ_PYTHON" -S - "$Q" "$HQ_TESTS/integration" <<'PY'
import struct, sys
sys.path.insert(0, sys.argv[2])
from qclient import Conn, CREATE_QUEUE, ADD_URL, A_QUEUE, attr
A_LENGTH, A_URL = 9, 11
c = Conn(sys.argv[1])
c.it = c.frames()
c.hello()
calls = [
    ("add before a queue", ADD_URL, attr(A_URL, "http://+:1/x/")),
    ("create without QUEUE", CREATE_QUEUE, b""),
    ("create with a NUL", CREATE_QUEUE, attr(A_QUEUE, "a\0b")),
    ("create LENGTH 0", CREATE_QUEUE, attr(A_QUEUE, "z") + attr(A_LENGTH, struct.pack(">I", 0))),
    ("create LENGTH 2 bytes", CREATE_QUEUE, attr(A_QUEUE, "z") + attr(A_LENGTH, b"\0\1")),
    ("create a/b", CREATE_QUEUE, attr(A_QUEUE, "a/b")),
    ("create ok", CREATE_QUEUE, attr(A_QUEUE, "z") + attr(A_LENGTH, struct.pack(">I", 5))),
    ("create twice", CREATE_QUEUE, attr(A_QUEUE, "z2")),
    ("add without URL", ADD_URL, b""),
]
for i, (what, typ, payload) in enumerate(calls):
    st, msg = c.call(typ, payload, 100 + i)
    print("%s: %s %s" % (what, st, msg))
PY
)
like "$out" '^add before a queue: 4 no queue: CREATE_QUEUE or OPEN_QUEUE first' "ADD_URL before a queue: NOT_FOUND"
like "$out" '^create without QUEUE: 1 ' "CREATE_QUEUE without QUEUE: PROTOCOL"
like "$out" '^create with a NUL: 1 ' "a NUL in the name: PROTOCOL"
like "$out" '^create LENGTH 0: 5 CREATE_QUEUE: LENGTH 0 is not 1-65535' "LENGTH 0: INVALID"
like "$out" '^create LENGTH 2 bytes: 1 ' "LENGTH of 2 bytes: PROTOCOL"
like "$out" '^create a/b: 5 queue name "a/b": expected' "a bad queue name: INVALID"
like "$out" '^create ok: 0 $' "... and the handle still works"
like "$out" '^create twice: 5 this handle has queue "z" open already' "a second queue on one handle: INVALID"
like "$out" '^add without URL: 1 ADD_URL needs URL' "ADD_URL without URL: PROTOCOL"

# --- REMOVE_URL ------------------------------------------------------------
reg e --create rem --url "http://localhost:$HQ_PORT/rem/" \
    --remove "http://localhost:$HQ_PORT/rem/" --remove "http://localhost:$HQ_PORT/app/"
out=$(cat "$D/e.out")
like "$out" "^remove http://localhost:$HQ_PORT/rem/ OK" "REMOVE_URL of its own URL"
like "$out" "^remove http://localhost:$HQ_PORT/app/ NOT_FOUND .*not registered by this handle" \
    "REMOVE_URL of another handle's URL: NOT_FOUND"
is "$(get localhost /app/x)" "rt /app/x from rtq" "... which still serves"
like "$(get localhost /rem/x)" '^Hey!' "the removed URL falls to the YAML weak wildcard"
stop e

# --- the controller role, on a YAML attach: queue --------------------------
reg f --open aq --role 1 --url "http://localhost:$HQ_PORT/aq/"
like "$(cat "$D/f.out")" "^add .* ACCESS_DENIED .*controller role" \
    "a worker handle may not add URLs"
stop f
reg g --open aq --role 3 --url "http://localhost:$HQ_PORT/aq/"
like "$(cat "$D/g.out")" "^add http://localhost:$HQ_PORT/aq/ OK" \
    "a controller handle of a YAML attach: queue adds a URL"
wait_body localhost /aq/z '^rt /aq/z from aq$'
ok $? "... served by that queue's processes"

# --- closing the handle removes its routes and its queue -------------------
stop a
ok $? "the creator closes its handle"
wait_body localhost /app/x '^Hey! You hit the server'
ok $? "its URL is gone: the YAML weak wildcard answers"
out=$(ctl show servicestate)
unlike "$out" "/app/ +rtq" "show servicestate: its URLs are gone"
unlike "$out" "^rtq " "show servicestate: its queue is gone"
reg a2 --create rtq
like "$(cat "$D/a2.out")" '^create OK' "the queue name is free again"
stop a2
stop g

# --- an unprivileged user: refused, then allowed by a reservation ---------
reg_nobody n1 --create nq --url "http://+:$HQ_PORT/nobody/"
out=$(cat "$D/n1.out")
like "$out" '^create OK' "nobody: CREATE_QUEUE (any user may)"
like "$out" "^add http://\\+:$HQ_PORT/nobody/ ACCESS_DENIED no URL reservation for uid 65534 \\(nobody\\) covers http://\\+:$HQ_PORT/nobody/; add one with: httpqctl add urlacl url=http://\\+:$HQ_PORT/nobody/ user=nobody\$" \
    "nobody: refused, the message says which reservation is missing"
like "$(get h /nobody/x)" '^Hey!' "nothing was registered"
stop n1
out=$(ctl add urlacl url="http://+:$HQ_PORT/nobody/" user=nobody 2>&1)
ok $? "httpqctl add urlacl for nobody (the daemon reloads; no restart)"
reg_nobody n2 --create nq --url "http://+:$HQ_PORT/nobody/" \
    --url "http://+:$HQ_PORT/nobody/deeper/"
out=$(cat "$D/n2.out")
like "$out" "^add http://\\+:$HQ_PORT/nobody/ OK" "nobody: allowed with the reservation"
like "$out" "^add http://\\+:$HQ_PORT/nobody/deeper/ OK" "... and below it"
wait_body h /nobody/x '^rt /nobody/x from nq$'
ok $? "nobody's process serves its prefix"
out=$(ctl add urlacl url="http://+:$HQ_PORT/rootonly/" user=root 2>&1)
reg_nobody n3 --create nq2 --url "http://+:$HQ_PORT/rootonly/sub/"
like "$(cat "$D/n3.out")" "^add http://\\+:$HQ_PORT/rootonly/sub/ ACCESS_DENIED the URL reservation http://\\+:$HQ_PORT/rootonly/ \\(user=root, .*\\) decides for http://\\+:$HQ_PORT/rootonly/sub/ and names neither uid 65534 \\(nobody\\)" \
    "a reservation that does not name the user: the refusal names it"
stop n3
reg_nobody n4 --open nq
like "$(cat "$D/n4.out")" '^open OK' "the creator's uid may open its run-time queue"
stop n4
reg root1 --create rootq
reg_nobody n6 --open rootq
like "$(cat "$D/n6.out")" '^open ACCESS_DENIED queue "rootq" was created by uid 0: only that user or root may open it, not uid 65534 \(nobody\)' \
    "another user may not open a run-time queue"
stop n6
stop root1
reg n5 --open nq --role 3
like "$(cat "$D/n5.out")" '^open OK' "root may open it too"
stop n5

# --- at most HQ_RT_QUEUES_PER_UID (64) run-time queues per uid --------------
out=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$HQ_PYTHON" -S - "$Q" \
    "$HQ_TESTS/integration" <<'PY'
import sys
sys.path.insert(0, sys.argv[2])
from qclient import Conn, CREATE_QUEUE, A_QUEUE, attr
conns, last = [], None
for i in range(65):
    c = Conn(sys.argv[1])
    c.it = c.frames()
    c.hello()
    st, msg = c.call(CREATE_QUEUE, attr(A_QUEUE, "lim%d" % i), 1)
    conns.append(c)
    if st != 0:
        print("queue", i, st, msg)
        break
PY
)
is "$(printf '%s' "$out" | cut -d' ' -f1-3)" "queue 63 6" \
    "nobody's 64th run-time queue (it has nq already) is refused with LIMIT"
like "$out" 'uid 65534 has 64 run-time queues, the most allowed' "... saying so"

# --- a reload that gives YAML a run-time prefix: YAML is served -----------
reg r --create late --url "http://localhost:$HQ_PORT/late/"
wait_body localhost /late/x '^rt /late/x from late$'
ok $? "a run-time prefix before the reload"
log_mark
sed -i "s|\"http://+:$HQ_PORT/plus/\"\\]|\"http://+:$HQ_PORT/plus/\", \"http://localhost:$HQ_PORT/late/\"]|" "$D/httpq.yaml"
grep -q "localhost:$HQ_PORT/late/" "$D/httpq.yaml" || diag "sed did not change httpq.yaml"
reload_httpqd
line=$(wait_log "now registers http://localhost:$HQ_PORT/late/, which pid $PID_r uid 0 queue \"late\" registered at run time")
ok $? "the reload warns that YAML now shadows the run-time registration"
wait_body localhost /late/x '^Hey! You hit the server'
ok $? "YAML wins: the YAML group serves the prefix"
like "$(ctl show servicestate)" "^http://localhost:$HQ_PORT/late/ +late +$PID_r +0 +no: url group static" \
    "show servicestate: the run-time registration is shadowed"
is "$(get h /nobody/x)" "rt /nobody/x from nq" "other run-time registrations survive the reload"
stop r
kill -KILL "$PID_n2"
wait_body h /nobody/x '^Hey!'
ok $? "nobody's process killed (kill -9): its URLs are gone"
unlike "$(ctl show servicestate)" '^nq ' "... and its queue"

done_testing
