#!/bin/sh
# B7-wsgi.t -- httpq-wsgi(1) end to end: WSGI applications (a plain
# callable and Flask) run as nobody, attached to httpqd's queues declared in
# YAML, answer curl: GET, the environ (also over TLS), streamed POST echoes
# of megabytes (with a length and chunked), a streamed generator response
# (chunked), a file sent as a file descriptor (wsgi.file_wrapper), an
# application exception (500), a killed worker replaced, a clean stop on
# SIGTERM; and with --url, a queue created and a prefix registered at run
# time under a URL reservation, the refusals (no reservation, the prefix
# taken) printed as httpqd words them.
. "${HQ_TESTS:-$(cd "$(dirname "$0")/.." && pwd)}/integration/lib.sh"

PY=${HQ_PYTHON_CONF:-$HQ_PYTHON}
SRC=${HQ_SRCDIR:-$HQ_TESTS/..}

hq_mktemp
C=$HQ_MKTEMP
tls_ca "$C" && tls_cert "$C" localhost "DNS:localhost,IP:127.0.0.1" ||
	bail_out "openssl could not make the test certificates"
chmod 755 "$C"
start_httpqd '
server: { workers: 2 }
iplisten: [127.0.0.1]
timeouts: { request_queue: 2 }
urlacls:
  - { url: "http://+:@PORT@/rt/", user: nobody }
url_groups:
  - { name: py, prefixes: ["http://+:@PORT@/app/", "https://+:@PORT2@/app/"], queue: py }
  - { name: fl, prefixes: ["http://+:@PORT@/flask/"], queue: fl }
queues:
  - { name: py, attach: { user: nobody } }
  - { name: fl, attach: { user: nobody } }
sslcerts:
  - { ipport: "0.0.0.0:@PORT2@", certfile: '"$C/localhost.crt"', keyfile: '"$C/localhost.key"' }
' || bail_out "httpqd did not start"
T=$HQ_DIR
# nobody reaches the socket, the applications and the package through a
# folder of its own (the source tree may be private)
chmod 755 "$T"
mkdir "$T/py"
cp -R "$SRC/src/python/httpq" "$SRC/tests/python/wsgi_apps.py" "$T/py/"
sed -e "s|@PYTHON@|$PY|" -e "s|@pythondir@|$T/py|" "$SRC/src/python/httpq-wsgi.in" >"$T/py/httpq-wsgi"
head -c 3000000 /dev/urandom >"$T/py/file.bin"
chmod -R a+rX "$T/py"
chmod 755 "$T/py/httpq-wsgi"

# wsgi NAME ARGS...: httpq-wsgi as nobody in the background, its pid in
# WSGI_PID, its output in $T/NAME.log
wsgi() {
	_n=$1
	shift
	setpriv --reuid=65534 --regid=65534 --clear-groups \
	    env PYTHONPATH="$T/py" PYTHONDONTWRITEBYTECODE=1 HQ_WSGI_FILE="$T/py/file.bin" \
	    "$PY" "$T/py/httpq-wsgi" --socket "$HQ_QSOCK" "$@" >"$T/$_n.log" 2>&1 &
	WSGI_PID=$!
	bg_started "$WSGI_PID"
}

# children PID: the live child processes of PID, one a line (from /proc:
# no procps needed)
children() {
	for _s in /proc/[0-9]*/stat; do
		{ read -r _l <"$_s"; } 2>/dev/null || continue
		set -- ${_l##*) } "$1"
		# fields after "(comm) ": state, ppid; the last is the parent asked for
		eval "_want=\${$#}"
		[ "$1" != Z ] && [ "$2" = "$_want" ] && { _d=${_s#/proc/}; printf '%s\n' "${_d%/stat}"; }
		set -- "$_want"
	done
}

# wait_200 URL: polls until URL answers 200 (10 s)
wait_200() {
	_end=$(($(date +%s) + 10))
	while [ "$(hq_curl -o /dev/null -w '%{http_code}' "$1" 2>/dev/null)" != 200 ]; do
		[ "$(date +%s)" -gt "$_end" ] && return 1
		sleep 0.05
	done
}

# --- a plain WSGI callable, two workers ----------------------------------
wsgi py --queue py --workers 2 wsgi_apps:app
PYPID=$WSGI_PID
wait_200 "$(url /app/hello)"
ok $? "httpq-wsgi --workers 2 serves the attach queue" || diag "$(cat "$T/py.log")"
is "$(hq_curl "$(url /app/hello)")" "Hello, WSGI" "GET /app/hello"

hq_curl -H 'X-Twice: a' -H 'X-Twice: b' "$(url '/app/env?x=1&y=%20')" >"$T/env.json"
envget() { "$HQ_PYTHON" -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$T/env.json" "$1"; }
is "$(envget uid)" 65534 "the application runs as nobody"
is "$(envget SCRIPT_NAME)" /app "SCRIPT_NAME is the URL prefix's path"
is "$(envget PATH_INFO)" /env "PATH_INFO the rest"
is "$(envget QUERY_STRING)" 'x=1&y=%20' "QUERY_STRING as sent"
is "$(envget HTTP_X_TWICE)" 'a, b' "a header twice: joined"
is "$(envget SERVER_PORT)" "$HQ_PORT" "SERVER_PORT"
is "$(envget REMOTE_ADDR)" 127.0.0.1 "REMOTE_ADDR"
is "$(envget wsgi.multiprocess)" True "wsgi.multiprocess with two workers"

hq_curl --cacert "$C/ca.crt" --resolve "localhost:$HQ_PORT2:127.0.0.1" \
    "https://localhost:$HQ_PORT2/app/env" >"$T/env.json"
is "$(envget wsgi.url_scheme) $(envget HTTPS) $(envget SERVER_PORT)" "https on $HQ_PORT2" \
    "over TLS: wsgi.url_scheme https, HTTPS on"
like "$(envget SSL_PROTOCOL) $(envget SSL_TLS_SNI)" '^TLSv1\.[23] localhost$' "  SSL_PROTOCOL and SSL_TLS_SNI from httpqd"

head -c 5000000 /dev/urandom >"$T/big.in"
hq_curl -D "$T/echo.h" -o "$T/echo.out" --data-binary @"$T/big.in" \
    -H 'Content-Type: application/octet-stream' "$(url /app/echo)"
ok $? "POST of 5 MB to a streaming echo completes"
like "$(cat "$T/echo.h")" '^[Cc]ontent-[Ll]ength: 5000000' "  the application's Content-Length passed through"
file_is "$T/echo.out" "$T/big.in" "  echoed byte for byte"

hq_curl -D "$T/echoc.h" -o "$T/echoc.out" -H 'Transfer-Encoding: chunked' \
    --data-binary @"$T/big.in" "$(url /app/echo)"
like "$(cat "$T/echoc.h")" '^HTTP/1\.1 200' "chunked POST of 5 MB -> 200"
like "$(cat "$T/echoc.h")" '^[Tt]ransfer-[Ee]ncoding: chunked' "  echoed chunked (no length known)"
file_is "$T/echoc.out" "$T/big.in" "  byte for byte"

# the body reaches the application in pieces of at most the body window
head -c 8000000 /dev/urandom >"$T/sum.in"
want=$(sha256sum <"$T/sum.in" | cut -d' ' -f1)
set -- $(hq_curl --data-binary @"$T/sum.in" "$(url /app/sum)")
is "$1 $2" "$want 8000000" "8 MB POST: the application read all of it, hash equal"
num_between "$2" 1 8000000 "  (size)"
num_between "${3:-0}" 1 262144 "  no read returned more than the 256 KiB body window (streamed, not buffered)"

hq_curl -D "$T/stream.h" -o "$T/stream.out" "$(url '/app/stream?3000')"
like "$(cat "$T/stream.h")" '^[Tt]ransfer-[Ee]ncoding: chunked' "a generator response goes out chunked"
is "$(wc -l <"$T/stream.out" | tr -d ' ')" 3000 "  all 3000 pieces"
is "$(wc -c <"$T/stream.out" | tr -d ' ')" $((3000 * 1013)) "  ~3 MB"

hq_curl -D "$T/file.h" -o "$T/file.out" "$(url /app/file)"
like "$(cat "$T/file.h")" '^[Cc]ontent-[Ll]ength: 3000000' "wsgi.file_wrapper: Content-Length of the file"
file_is "$T/file.out" "$T/py/file.bin" "  the file's bytes (sent by httpqd from the passed fd)"

code=$(hq_curl -o "$T/boom.out" -w '%{http_code}' "$(url /app/boom)")
is "$code" 500 "an application exception -> 500"
like "$(cat "$T/py.log")" 'RuntimeError: the application failed on purpose' "  its traceback on the standard error"
is "$(hq_curl "$(url /app/hello)")" "Hello, WSGI" "  and the worker serves on"

# a worker killed: the parent starts another, the queue keeps serving
kids=$(children "$PYPID" | tr '\n' ' ')
set -- $kids
is "$#" 2 "two worker processes under the parent"
kill -KILL "$1"
_end=$(($(date +%s) + 10))
while :; do
	set -- $(children "$PYPID")
	[ $# -eq 2 ] && ! printf '%s\n' "$@" | grep -qx "${kids%% *}" && break
	[ "$(date +%s)" -gt "$_end" ] && break
	sleep 0.05
done
is "$#" 2 "a killed worker is replaced"
wait_200 "$(url /app/hello)"
ok $? "  the queue serves on"

# --- Flask, one process ----------------------------------------------------
if "$PY" -c 'import flask' 2>/dev/null; then
	wsgi fl --queue fl wsgi_apps:flask_app
	wait_200 "$(url /flask/)"
	ok $? "httpq-wsgi serves a Flask application" || diag "$(cat "$T/fl.log")"
	is "$(hq_curl "$(url /flask/)")" "Hello from Flask at /flask, uid 65534" "Flask GET: script_root, as nobody"
	hq_curl -o "$T/fecho.out" --data-binary @"$T/big.in" "$(url /flask/echo)"
	file_is "$T/fecho.out" "$T/big.in" "Flask streams a 5 MB POST back"
	hq_curl -D "$T/fstream.h" -o "$T/fstream.out" "$(url /flask/stream)"
	like "$(cat "$T/fstream.h")" '^[Tt]ransfer-[Ee]ncoding: chunked' "Flask generator response chunked"
	is "$(tail -n 1 "$T/fstream.out")" "row 199" "  whole"
	hq_curl -D "$T/ffile.h" -o "$T/ffile.out" "$(url /flask/file)"
	file_is "$T/ffile.out" "$T/py/file.bin" "Flask send_file"
	like "$(cat "$T/ffile.h")" '^X-Fd-Passed: yes' "  went out as a file descriptor (wsgi.file_wrapper)"
	is "$(hq_curl -o /dev/null -w '%{http_code}' "$(url /flask/boom)")" 500 "a Flask view exception -> 500"
	kill -TERM "$WSGI_PID"
	hq_wait_gone "$WSGI_PID" 10
	ok $? "the Flask server stops on SIGTERM"
	wait "$WSGI_PID"
	is "$?" 0 "  with status 0"
else
	skip "Flask is not installed for $PY (apt-get install python3-flask)"
fi

# --- run time: a queue created and a URL registered by httpq-wsgi ---------
RT="http://+:$HQ_PORT/rt/"
wsgi rt --queue rtq --url "$RT" --workers 2 wsgi_apps:app
RTPID=$WSGI_PID
wait_200 "$(url /rt/hello)"
ok $? "--url: httpq-wsgi as nobody creates its queue, registers $RT (reserved for nobody), serves" ||
    diag "$(cat "$T/rt.log")"
like "$(cat "$T/rt.log")" '^httpq-wsgi: queue rtq created; URLs ' "  it says it created the queue"
hq_curl "$(url /rt/env)" >"$T/env.json"
is "$(envget SCRIPT_NAME) $(envget PATH_INFO) $(envget uid)" "/rt /env 65534" "  SCRIPT_NAME from the registered prefix"

wsgi den --queue dq --url "http://+:$HQ_PORT/denied/" wsgi_apps:app
wait "$WSGI_PID"
is "$?" 1 "a prefix nobody has no reservation for: exit status 1"
like "$(cat "$T/den.log")" "^httpq-wsgi: ADD_URL http://\\+:$HQ_PORT/denied/: ACCESS_DENIED: no URL reservation for uid 65534 .*covers" \
    "  with httpqd's message naming what is missing"
diag "$(cat "$T/den.log")"

wsgi dup --queue rtq2 --url "$RT" wsgi_apps:app
wait "$WSGI_PID"
is "$?" 1 "the same prefix again: exit status 1"
like "$(cat "$T/dup.log")" "^httpq-wsgi: ADD_URL http://\\+:$HQ_PORT/rt/: ALREADY_EXISTS: .*pid $RTPID uid 65534 queue \"rtq\"" \
    "  naming the owner: the parent's pid, uid and queue"
diag "$(cat "$T/dup.log")"

kill -TERM "$RTPID"
hq_wait_gone "$RTPID" 15
ok $? "SIGTERM: the --url server stops"
wait "$RTPID"
is "$?" 0 "  with status 0"
code=$(hq_curl -o /dev/null -w '%{http_code}' "$(url /rt/hello)")
is "$code" 404 "  and its URL is gone with it (404)"

# --- a clean stop ----------------------------------------------------------
kill -TERM "$PYPID"
hq_wait_gone "$PYPID" 15
ok $? "SIGTERM: the parent stops its workers and exits"
wait "$PYPID"
is "$?" 0 "  with status 0"
is "$(children "$PYPID" | wc -l | tr -d ' ')" 0 "  no worker left"
is "$(grep -c -E 'Traceback|giving up' "$T/py.log")" 1 "  nothing but the application's own failure in the log" ||
    diag "$(cat "$T/py.log")"
is "$(hq_curl -o /dev/null -w '%{http_code}' "$(url /app/hello)")" 503 "no process attached: 503 after the request_queue timer"

done_testing
