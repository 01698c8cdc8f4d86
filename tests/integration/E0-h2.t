#!/bin/sh
# E0-h2.t -- HTTP/2 (issue 12): ALPN h2 over TLS and h2c with prior
# knowledge; ALPN fallback to HTTP/1.1 and a binding with http2: false; the
# sample module's GET, HEAD and POST echo (a 5 MB streamed POST) over h2;
# nghttp: trailers both ways, many concurrent streams, version() == 20,
# post() from a thread, send_file, a module that finishes without answering;
# the access log says HTTP/2.0; an attached process answers an h2 request; a
# reload with http2.cleartext: false refuses the preface (505) again.
. "${HQ_TESTS:-$(cd "$(dirname "$0")/.." && pwd)}/integration/lib.sh"

command -v openssl >/dev/null 2>&1 || bail_out "no openssl CLI (apt-get install openssl)"
command -v nghttp >/dev/null 2>&1 || bail_out "no nghttp (apt-get install nghttp2-client)"
curl --version | grep -q HTTP2 || bail_out "curl without HTTP/2 (apt-get install curl)"

hq_mktemp
C=$HQ_MKTEMP
tls_ca "$C" && tls_cert "$C" localhost "DNS:localhost,IP:127.0.0.1" ||
	bail_out "openssl could not make the test certificates"
P3=$(freeport)   # TLS, http2: false
P4=$(freeport)   # h2c, the stream test module
QC="$HQ_TESTS/integration/qclient.py"

CONFIG="
server: { workers: 2 }
iplisten: [127.0.0.1]
http2: { cleartext: true }
url_groups:
  - name: g
    prefixes: [\"http://+:@PORT@/\", \"https://+:@PORT2@/\", \"https://+:$P3/\"]
    queue: q
    access_log: { path: @DIR@/access.log, fields: [cs-method, cs-uri-stem, sc-status, cs-version] }
  - { name: s, prefixes: [\"http://+:$P4/\"], queue: st }
  - { name: app, prefixes: [\"http://+:@PORT@/app/\"], queue: app }
queues:
  - { name: q, module: sample, length: 1000 }
  - { name: st, module: \"@TESTMODDIR@/stream.so\" }
  - { name: app, attach: { user: root } }
sslcerts:
  - { ipport: \"0.0.0.0:@PORT2@\", certfile: $C/localhost.crt, keyfile: $C/localhost.key }
  - { ipport: \"0.0.0.0:$P3\", certfile: $C/localhost.crt, keyfile: $C/localhost.key, http2: false }
"
start_httpqd "$CONFIG" || bail_out "httpqd did not start"
T=$HQ_DIR
chmod 755 "$T"
S="https://localhost:$HQ_PORT2"
printf 'Hey! You hit the server \r\n' >"$T/hey.expected"

tcurl() { hq_curl --cacert "$C/ca.crt" --resolve "localhost:$HQ_PORT2:127.0.0.1" \
    --resolve "localhost:$P3:127.0.0.1" "$@"; }

# --- negotiation ---------------------------------------------------------
tcurl --http2 -D "$T/tls.h" -o "$T/tls.b" "$S/"
ok $? "curl --http2 over TLS completes"
like "$(head -n1 "$T/tls.h")" '^HTTP/2 200' "TLS: ALPN h2, HTTP/2 200"
file_is "$T/tls.b" "$T/hey.expected" "TLS h2: the sample module's body"
like "$(cat "$T/tls.h")" '^date: ' "h2: a date field"
like "$(cat "$T/tls.h")" '^server: httpq' "h2: a server field"
out=$(openssl s_client -connect "127.0.0.1:$HQ_PORT2" -alpn h2,http/1.1 </dev/null 2>&1)
like "$out" '^ALPN protocol: h2' "ALPN: h2 chosen when offered"
is "$(tcurl --http1.1 -o /dev/null -w '%{http_version}' "$S/")" 1.1 \
    "ALPN fallback: a client offering only http/1.1 gets HTTP/1.1"
is "$(hq_curl --http2-prior-knowledge -o "$T/pk.b" -w '%{http_version} %{http_code}' "$(url /)")" \
    "2 200" "h2c with prior knowledge on the http:// listener"
file_is "$T/pk.b" "$T/hey.expected" "h2c: the sample module's body"
is "$(hq_curl -o /dev/null -w '%{http_version} %{http_code}' "$(url /)")" "1.1 200" \
    "with cleartext on, HTTP/1.1 is still served on the same port"
out=$(openssl s_client -connect "127.0.0.1:$P3" -alpn h2,http/1.1 </dev/null 2>&1)
unlike "$out" '^ALPN protocol: h2' "sslcerts[].http2: false: no h2 in ALPN"
is "$(tcurl --http2 -o /dev/null -w '%{http_version} %{http_code}' "https://localhost:$P3/")" \
    "1.1 200" "http2: false: curl --http2 gets HTTP/1.1"

# --- the sample module over h2 ------------------------------------------------
is "$(tcurl --http2 --data-binary 'hello, h2' "$S/")" "hello, h2" "h2 POST: small body echoed"
tcurl --http2 -I -o "$T/head.h" "$S/"
like "$(head -n1 "$T/head.h")" '^HTTP/2 200' "h2 HEAD -> 200"
head -c 5242880 /dev/urandom >"$T/big.in"
tcurl --http2 -o "$T/big.out" --data-binary @"$T/big.in" "$S/"
ok $? "h2 5 MB POST over TLS completes"
file_is "$T/big.out" "$T/big.in" "h2 5 MB POST over TLS echoed byte for byte"
hq_curl --http2-prior-knowledge -o "$T/big2.out" --data-binary @"$T/big.in" "$(url /)"
file_is "$T/big2.out" "$T/big.in" "h2c 5 MB POST echoed byte for byte"
nghttp -n -d "$T/big.in" -w 14 "http://127.0.0.1:$HQ_PORT/" >/dev/null 2>&1
ok $? "nghttp with a 16 KiB stream window: the 5 MB echo completes"

# --- many concurrent streams -----------------------------------------------------
n=$(nghttp -n -s -m 300 "http://127.0.0.1:$HQ_PORT/" 2>&1 | grep -c ' 200 ')
is "$n" 300 "nghttp: 300 requests on one connection, 300 answers 200"
n=$(nghttp -n -s -m 100 "$S/" 2>&1 | grep -c ' 200 ')
is "$n" 100 "nghttp over TLS: 100 concurrent streams, 100 answers 200"

# --- trailers, post(), send_file, a module that does not answer ------------------------
out=$(nghttp "http://127.0.0.1:$P4/chunks" -v 2>&1)
like "$out" 'chunk 3' "h2: a body sent in chunks from defer()"
like "$out" 'recv \(stream_id=[0-9]+\) x-checksum: abc123' "h2: response trailers (send_trailers)"
printf 'abcdef' >"$T/t.in"
out=$(nghttp --trailer='x-sum: 42' --trailer='x-other: yes' -d "$T/t.in" \
    "http://127.0.0.1:$P4/trailers" 2>&1)
like "$out" '^bytes=6$' "h2: the request body with trailers"
like "$out" '^before_end=0$' "h2: no trailer before the body ends"
like "$out" '^\[x-other\]=\[yes\]$' "h2: request trailers (trailer_at)"
like "$out" '^x-sum=42$' "h2: request trailer by name"
out=$(nghttp "http://127.0.0.1:$P4/info" 2>&1)
like "$out" '^version=20$' "h2: version() == 20"
like "$out" '^method=GET$' "h2: method() from :method"
like "$out" "^cooked=http://127.0.0.1:$P4/info\$" "h2: cooked_url from :authority"
is "$(nghttp "http://127.0.0.1:$P4/thread" 2>&1)" "from a thread" "h2: post() from a thread"
is "$(nghttp "http://127.0.0.1:$P4/file" 2>&1)" "file contents" "h2: send_file"
like "$(nghttp -v "http://127.0.0.1:$P4/nothing" 2>&1)" ':status: 500' \
    "h2: finish() without a response -> 500 on the stream"
like "$(nghttp -v "http://127.0.0.1:$P4/short" 2>&1)" 'RST_STREAM' \
    "h2: a body shorter than its Content-Length resets the stream"
is "$(nghttp "http://127.0.0.1:$P4/info" 2>&1 | grep -c '^method=GET')" 1 \
    "the connection serves again after those"

# --- an attached process answers an h2 request ------------------------------------
"$HQ_PYTHON" -S "$QC" "$HQ_QSOCK" app serve >"$T/qc.out" 2>&1 &
qc=$!
bg_started $qc
_end=$(($(date +%s) + 10))
until grep -q '^ready' "$T/qc.out" 2>/dev/null || [ "$(date +%s)" -gt "$_end" ]; do
	sleep 0.05
done
is "$(hq_curl --http2-prior-knowledge "$(url /app/x?y=1)")" "hello /app/x?y=1 from $qc" \
    "an attached process answers an h2 request"
kill "$qc" 2>/dev/null

# --- the access log ------------------------------------------------------------------
# Log lines are buffered per worker: flush them.
"${HTTPQCTL:-$HQ_TESTS/../src/httpqctl}" -s "$HQ_CTL" flush logbuffer >/dev/null 2>&1
_end=$(($(date +%s) + 10))
until grep -q 'HTTP/2.0' "$T/access.log" 2>/dev/null || [ "$(date +%s)" -gt "$_end" ]; do
	sleep 0.1
done
like "$(cat "$T/access.log")" '^POST / 200 HTTP/2\.0$' "access log: cs-version HTTP/2.0 for h2"
like "$(cat "$T/access.log")" '^GET / 200 HTTP/1\.1$' "access log: HTTP/1.1 for the others"

# --- reload: cleartext off for new connections ------------------------------------------
log_mark
write_config "$T/httpq.yaml" "$(printf '%s\n' "$CONFIG" | sed 's/cleartext: true/cleartext: false/')"
reload_httpqd
like "$(wait_log 'generation 2')" . "reload with http2.cleartext: false"
printf 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n' | raw >"$T/pri"
is "$(resp_code "$T/pri")" 505 "cleartext off: the preface gets 505 again"
is "$(tcurl --http2 -o /dev/null -w '%{http_version}' "$S/")" 2 "TLS h2 still served after the reload"

stop_httpqd
done_testing
