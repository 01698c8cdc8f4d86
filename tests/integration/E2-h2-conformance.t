#!/bin/sh
# E2-h2-conformance.t -- HTTP/2 as real clients use it (issue 12): nghttp
# and curl (nghttp2-client, curl with HTTP/2) over TLS with ALPN h2 and over
# h2c prior knowledge: 100 concurrent streams on a connection, flow control
# through tiny windows both ways, trailers both ways, HEAD, 304 from the
# static module's ETag, a header list beyond max_header_list_size -> 431,
# a 503 on each stream beyond the queue length while the admitted ones are
# served, priorities (PRIORITY frames, HEADERS with priority) accepted and
# ignored.
. "${HQ_TESTS:-$(cd "$(dirname "$0")/.." && pwd)}/integration/lib.sh"

for t in nghttp curl openssl; do
	command -v "$t" >/dev/null 2>&1 || bail_out "no $t (apt-get install nghttp2-client curl openssl)"
done
curl -V | grep -q HTTP2 || bail_out "curl without HTTP/2"
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
"$PY" -c 'import hpack' 2>/dev/null || bail_out "no python3-h2 (apt-get install python3-h2)"
PEER="$HQ_TESTS/h2/hostile.py"

hq_mktemp
C=$HQ_MKTEMP
tls_ca "$C" && tls_cert "$C" localhost "DNS:localhost,IP:127.0.0.1" ||
	bail_out "openssl could not make the test certificates"
mkdir -p "$C/www" && chmod 755 "$C" "$C/www"
head -c 1048576 /dev/urandom >"$C/www/big" && printf 'static\n' >"$C/www/small" &&
    head -c 2500000 /dev/urandom >"$C/post" || bail_out "could not write the test files"

# initial_window_size 16k: the daemon's own window makes the client wait too.
CONFIG="
server: { workers: 2 }
iplisten: [127.0.0.1]
http2: { cleartext: true, max_concurrent_streams: 128, max_header_list_size: 16k,
         initial_window_size: 16k }
url_groups:
  - { name: stream, prefixes: [\"http://+:@PORT@/\", \"https://+:@PORT2@/\"], queue: stream }
  - { name: echo, prefixes: [\"http://+:@PORT@/echo/\", \"https://+:@PORT2@/echo/\"], queue: sample }
  - { name: files, prefixes: [\"http://+:@PORT@/files/\", \"https://+:@PORT2@/files/\"], queue: files }
  - { name: held, prefixes: [\"http://+:@PORT@/held/\"], queue: held }
queues:
  - { name: stream, module: \"@TESTMODDIR@/stream.so\" }
  - { name: sample, module: sample }
  - { name: files, module: static, options: { root: $C/www } }
  - { name: held, module: \"@TESTMODDIR@/hold.so\", length: 2, options: { hold_ms: 1500 } }
sslcerts:
  - { ipport: \"0.0.0.0:@PORT2@\", certfile: $C/localhost.crt, keyfile: $C/localhost.key }
"
start_httpqd "$CONFIG" || bail_out "httpqd did not start"
T=$HQ_DIR
H=http://127.0.0.1:$HQ_PORT
S=https://127.0.0.1:$HQ_PORT2

# codes: the status codes of an `nghttp -s` run, sorted and counted
# ("100x200").  nghttp's statistics list one line per completed request.
codes() {
	awk '/^id +responseEnd/ { t = 1; next } t && NF >= 6 { print $5 }' "$1" |
	    sort | uniq -c | awk '{ printf "%s%sx%s", sep, $1, $2; sep = " " }'
}
ngh() { timeout 60 nghttp "$@"; }
# fact FILE KEY: the first value hostile.py printed for KEY
fact() { sed -n "s/^$2 //p" "$1" | head -n 1; }

# --- negotiation ------------------------------------------------------------------
is "$(hq_curl --http2 --cacert "$C/ca.crt" -o "$T/b" -w '%{http_code} %{http_version}' "$S/echo/")" \
    "200 2" "curl --http2 over TLS: ALPN h2, 200"
is "$(hq_curl --http2-prior-knowledge -o "$T/b" -w '%{http_code} %{http_version}' "$H/echo/")" \
    "200 2" "curl --http2-prior-knowledge (h2c): 200"

# --- many concurrent streams -------------------------------------------------------
u=''
for i in $(seq 1 100); do u="$u $H/echo/?n=$i"; done
# shellcheck disable=SC2086
ngh -n -s $u >"$T/many" 2>&1
is "$(codes "$T/many")" "100x200" "100 streams at once on one h2c connection: 100 x 200"
# shellcheck disable=SC2086
ngh -n -s $(echo "$u" | sed "s|$H|$S|g") >"$T/many.tls" 2>&1
is "$(codes "$T/many.tls")" "100x200" "100 streams at once over TLS: 100 x 200"
ngh -n -s -m 300 "$H/echo/" >"$T/many300" 2>&1
is "$(codes "$T/many300")" "300x200" \
    "300 requests, more than max_concurrent_streams (128): nghttp waits, all 200"

# --- flow control -----------------------------------------------------------------
# A 1 MiB response through a 4095-byte stream window (-w 12) and a 65535
# connection window (-W 16): the daemon waits for each WINDOW_UPDATE.
ngh -w 12 -W 16 "$H/files/big" >"$T/big.h2c" 2>"$T/big.err"
file_is "$T/big.h2c" "$C/www/big" "1 MiB through a 4 KiB client window (h2c): every byte, in order"
ngh -w 12 -W 16 "$S/files/big" >"$T/big.tls" 2>"$T/big.err"
file_is "$T/big.tls" "$C/www/big" "1 MiB through a 4 KiB client window (TLS): every byte, in order"
# Both ways: 2.4 MB POSTed through the daemon's 16k window, echoed back
# through the client's 4 KiB one.
ngh -w 12 -W 16 -d "$C/post" "$H/echo/" >"$T/post.out" 2>"$T/post.err"
file_is "$T/post.out" "$C/post" "2.4 MB POST echoed through small windows both ways"
# Five of them at once on one connection.
ngh -w 14 -W 17 -m 5 -d "$C/post" -s "$H/echo/" >"$T/post5" 2>&1
is "$(codes "$T/post5")" "5x200" "five 2.4 MB POSTs at once: five 200"

# --- trailers both ways --------------------------------------------------------------
ngh -v "$H/chunks" >"$T/chunks" 2>&1
like "$(cat "$T/chunks")" 'recv \(stream_id=[0-9]+\) x-checksum: abc123' \
    "response trailers: the module's send_trailers arrives as a trailing HEADERS"
like "$(grep -A3 'x-checksum: abc123' "$T/chunks" | grep -A1 'recv HEADERS')" 'END_STREAM' \
    "  which ends the stream"
like "$(grep -c 'recv DATA frame' "$T/chunks")" '^[1-9]' "  after the DATA"
printf 'twelve bytes' >"$T/tbody"
ngh --trailer 'x-sum: 42' --trailer 'x-other: yes' -d "$T/tbody" "$H/trailers" >"$T/trail" 2>&1
is "$(cat "$T/trail")" "bytes=12
before_end=0
count=2
[x-sum]=[42]
[x-other]=[yes]
x-sum=42" "request trailers (HEADERS after DATA) reach trailer() and trailer_at(), after the body"

# --- Expect: 100-continue ------------------------------------------------------------
# The client holds its body until a 100 comes (the peer waits 10 s at most):
# the sample module's read_body() is what sends it, once.
head -c 5000 /dev/urandom >"$T/ebody"
"$PY" "$PEER" expect --port "$HQ_PORT" --path /echo/ --body-file "$T/ebody" --wait 10 >"$T/expect" 2>&1
is "$(fact "$T/expect" informational)" "100" \
    "P-EXPECT-5 expect: 100-continue without END_STREAM: a non-final :status 100 before any DATA"
is "$(fact "$T/expect" status) $(fact "$T/expect" echo) $(fact "$T/expect" informational_after)" \
    "200 same 100" "  then the body, echoed whole, and only one 100"
"$PY" "$PEER" get --port "$HQ_PORT" --method POST --path /echo/ --header "expect: 100-continue" \
    --body-file "$T/ebody" >"$T/expect2" 2>&1
is "$(fact "$T/expect2" status) $(fact "$T/expect2" body_bytes)" "200 5000" \
    "  a body sent at once with the HEADERS: no wait, echoed"
"$PY" "$PEER" expect --port "$HQ_PORT" --path '/held/?ms=0' --body-file "$T/ebody" --wait 10 \
    >"$T/expect3" 2>&1
is "$(fact "$T/expect3" informational_after) $(fact "$T/expect3" status)" "none 200" \
    "  a module that answers without reading the body: no 100, its answer"

# --- HEAD and 304 -------------------------------------------------------------------
"$PY" "$PEER" get --port "$HQ_PORT" --method HEAD --path /echo/ >"$T/head" 2>&1
is "$(fact "$T/head" status) $(fact "$T/head" body_bytes)" "200 0" \
    "HEAD: 200 and no DATA"
like "$(cat "$T/head")" '^header content-type: text/html' "  with the GET's content-type"
# The sample module sends its head with MORE, then the whole body in one
# call: as HTTP/1.1 (head_open), the HEADERS wait for it and carry its length.
h1cl=$(hq_curl --http1.1 -I "$H/echo/" | sed -n 's/^content-length: *//Ip' | tr -d '\r')
like "$h1cl" '^[1-9][0-9]*$' "  (HTTP/1.1 HEAD: Content-Length $h1cl)"
is "$(sed -n 's/^header content-length: //p' "$T/head")" "$h1cl" \
    "  and the same content-length as HTTP/1.1 gives"
"$PY" "$PEER" get --port "$HQ_PORT" --path /echo/ >"$T/get" 2>&1
is "$(sed -n 's/^header content-length: //p' "$T/get")" "$(fact "$T/get" body_bytes)" \
    "GET of the same over h2: a content-length, the body's length"
"$PY" "$PEER" get --port "$HQ_PORT" --method HEAD --path /files/big >"$T/head2" 2>&1
is "$(fact "$T/head2" status) $(fact "$T/head2" body_bytes)" "200 0" "HEAD of a 1 MiB file: 200 and no DATA"
like "$(cat "$T/head2")" '^header content-length: 1048576$' "  with its content-length"
etag=$(hq_curl --http2-prior-knowledge -D - -o /dev/null "$H/files/small" |
    sed -n 's/^etag: *//Ip' | tr -d '\r')
like "$etag" '^(W/)?"' "static module: an ETag over h2"
"$PY" "$PEER" get --port "$HQ_PORT" --path /files/small --header "if-none-match: $etag" >"$T/304" 2>&1
is "$(fact "$T/304" status) $(fact "$T/304" body_bytes)" "304 0" \
    "If-None-Match with that ETag: 304 and no DATA"
is "$(hq_curl --http2-prior-knowledge -o /dev/null -w '%{http_code}' -H 'If-None-Match: "other"' \
    "$H/files/small")" 200 "  another ETag: 200"

# --- header list beyond max_header_list_size (16k) ----------------------------------------
big=$(repeat a 20000)
is "$(hq_curl --http2-prior-knowledge -o /dev/null -w '%{http_code}' -H "x-big: $big" "$H/echo/")" \
    431 "one 20000-byte field (list over 16k): 431"
set --
for i in $(seq 1 40); do set -- "$@" -H "x-f$i: $(repeat b 500)"; done
is "$(hq_curl --http2-prior-knowledge -o /dev/null -w '%{http_code}' "$@" "$H/echo/")" 431 \
    "40 fields of 500 bytes (list over 16k): 431"
set --
for i in $(seq 1 20); do set -- "$@" -H "x-f$i: $(repeat b 500)"; done
is "$(hq_curl --http2-prior-knowledge -o /dev/null -w '%{http_code}' "$@" "$H/echo/")" 200 \
    "20 fields of 500 bytes (under 16k): 200"
is "$(hq_curl --http2 --cacert "$C/ca.crt" -o /dev/null -w '%{http_code}' -H "x-big: $big" "$S/echo/")" \
    431 "over TLS the same: 431"
is "$(hq_curl --http2-prior-knowledge -o /dev/null -w '%{http_code}' "$H/echo/")" 200 \
    "the daemon serves on"

# --- 503 per stream beyond the queue length --------------------------------------------
# Six streams on one connection to a queue of length 2 held 1.5 s: two 200,
# four 503, each on its own stream; the 503s come at once, before the held
# ones are answered.
u=''
for i in 1 2 3 4 5 6; do u="$u $H/held/?n=$i"; done
t0=$(hq_now)
# shellcheck disable=SC2086
ngh -n -s $u >"$T/held" 2>&1
is "$(codes "$T/held")" "2x200 4x503" "6 streams, queue length 2: 2 x 200 and 4 x 503 on one connection"
first503=$(awk '/^id +responseEnd/ { t = 1; next } t && $5 == 503 { print $2; exit }' "$T/held")
like "$first503" '^\+[0-9.]+(us|ms)$|^\+0\.[0-9]+s$' \
    "  the first 503 comes before the held ones end (at $first503)"
is "$(hq_curl --http2-prior-knowledge -o /dev/null -w '%{http_code}' "$H/held/?ms=0")" 200 \
    "  then the queue admits again"

# --- priorities: accepted and ignored --------------------------------------------------
"$PY" "$PEER" priority --port "$HQ_PORT" --streams 30 --path /echo/ >"$T/prio" 2>&1
is "$(fact "$T/prio" n200)/$(fact "$T/prio" other)/$(fact "$T/prio" goaway)" \
    "30/none/none" "PRIORITY frames, HEADERS with priorities, a reprioritisation: all 30 served, no error"
ngh -n -s --weight=1 --weight=256 "$H/echo/?a" "$H/echo/?b" >"$T/weights" 2>&1
is "$(codes "$T/weights")" "2x200" "nghttp --weight 1 and 256: both served"

unlike "$(grep -E 'Sanitizer|runtime error:' "$HQ_LOG" | head -5)" '.' "no sanitizer report so far"
done_testing
