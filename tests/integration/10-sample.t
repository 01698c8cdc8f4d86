#!/bin/sh
# 10-sample.t -- the bundled sample module (the http.sys sample application)
# through the whole daemon: GET, HEAD, POST echo (small, 5 MB, chunked),
# 501 for other verbs, unsupported_status, Date/Server, keep-alive.
. "${HQ_TESTS:-$(cd "$(dirname "$0")/.." && pwd)}/integration/lib.sh"

CONFIG='
server: { workers: 2 }
iplisten: [127.0.0.1]
url_groups:
  - { name: g, prefixes: ["http://+:@PORT@/"], queue: q }
queues:
  - { name: q, module: sample, length: 1000, verbosity: limited }
'
start_httpqd "$CONFIG" || bail_out "httpqd did not start"
T=$HQ_DIR
printf 'Hey! You hit the server \r\n' >"$T/hey.expected"

# --- GET -----------------------------------------------------------------
hq_curl -D "$T/get.h" -o "$T/get.b" "$(url /)"
ok $? "GET / completes"
like "$(head -n1 "$T/get.h")" '^HTTP/1\.1 200 OK' "GET / -> 200 OK"
like "$(cat "$T/get.h")" '^[Cc]ontent-[Tt]ype: text/html' "GET / has Content-Type text/html"
file_is "$T/get.b" "$T/hey.expected" "GET / body is exactly 'Hey! You hit the server \\r\\n'"
like "$(cat "$T/get.h")" '^[Dd]ate: [A-Z][a-z]{2}, [0-9]{2} [A-Z][a-z]{2} [0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2} GMT' \
    "Date header present, IMF-fixdate"
like "$(cat "$T/get.h")" '^[Ss]erver: httpq' "Server header present"
like "$(cat "$T/get.h")" '^[Cc]ontent-[Ll]ength: 26' "GET / has Content-Length 26"

# the same over raw bytes: exact status line and length
printf 'GET /some/path?x=1 HTTP/1.1\r\nHost: localhost\r\n\r\n' | raw >"$T/raw.get"
is "$(resp_status "$T/raw.get")" "HTTP/1.1 200 OK" "raw GET: status line"
resp_body "$T/raw.get" >"$T/raw.get.b"
file_is "$T/raw.get.b" "$T/hey.expected" "raw GET of another path: same body"

# HTTP/1.0 without Host is fine
printf 'GET / HTTP/1.0\r\n\r\n' | raw --read-until-close >"$T/raw10"
ok $? "HTTP/1.0 request: connection closed after the response"
like "$(resp_status "$T/raw10")" '^HTTP/1\.[01] 200 OK' "HTTP/1.0 without Host -> 200"

# --- HEAD ----------------------------------------------------------------
hq_curl -I -o "$T/head.h" "$(url /)"
like "$(head -n1 "$T/head.h")" '^HTTP/1\.1 200 OK' "HEAD / -> 200"
like "$(cat "$T/head.h")" '^[Cc]ontent-[Tt]ype: text/html' "HEAD has Content-Type text/html"
like "$(cat "$T/head.h")" '^[Cc]ontent-[Ll]ength: 26' "HEAD has the GET's Content-Length"
printf 'HEAD / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n' |
    raw --read-until-close --no-body >"$T/raw.head"
ok $? "HEAD with Connection: close: server closes"
is "$(resp_count "$T/raw.head" --no-body)" 1 "HEAD: one response"
last4=$(tail -c 4 "$T/raw.head" | od -An -c | tr -d ' ')
is "$last4" '\r\n\r\n' "HEAD: nothing after the header block"

# --- POST echo -----------------------------------------------------------
hq_curl -D "$T/post.h" -o "$T/post.b" --data-binary 'hello, world' "$(url /)"
like "$(head -n1 "$T/post.h")" '^HTTP/1\.1 200 OK' "small POST -> 200"
is "$(cat "$T/post.b")" "hello, world" "small POST echoed"
like "$(cat "$T/post.h")" '^[Cc]ontent-[Ll]ength: 12' "small POST echo has Content-Length 12"

head -c 5242880 /dev/urandom >"$T/big.in"
hq_curl -D "$T/big.h" -o "$T/big.out" --data-binary @"$T/big.in" \
    -H 'Content-Type: application/octet-stream' "$(url /upload)"
ok $? "5 MB POST completes"
like "$(head -n1 "$T/big.h")" '^HTTP/1\.1 (100 Continue|200 OK)' "5 MB POST -> 200 (after 100 Continue)"
like "$(cat "$T/big.h")" '^HTTP/1\.1 200 OK' "5 MB POST final status 200"
like "$(cat "$T/big.h")" '^[Cc]ontent-[Ll]ength: 5242880' "5 MB echo has Content-Length 5242880"
file_is "$T/big.out" "$T/big.in" "5 MB POST echoed byte for byte"

printf 'chunked body\nsecond line\n' >"$T/chunk.in"
hq_curl -D "$T/chunk.h" -o "$T/chunk.out" -H 'Transfer-Encoding: chunked' \
    --data-binary @"$T/chunk.in" "$(url /)"
like "$(head -n1 "$T/chunk.h")" '^HTTP/1\.1 200 OK' "chunked POST -> 200"
file_is "$T/chunk.out" "$T/chunk.in" "chunked POST echoed"

# a chunked POST in raw bytes, several chunks plus a trailer
printf 'POST / HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n1;ext=1\r\n,\r\n6\r\n world\r\n0\r\nX-Trailer: 1\r\n\r\n' |
    raw >"$T/raw.chunk"
is "$(resp_code "$T/raw.chunk")" 200 "raw chunked POST with extension and trailer -> 200"
is "$(resp_body "$T/raw.chunk")" "hello, world" "raw chunked POST echoed decoded"

# --- other verbs ---------------------------------------------------------
for m in PUT DELETE; do
	printf '%s / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\n\r\n' "$m" | raw >"$T/raw.$m"
	is "$(resp_status "$T/raw.$m")" "HTTP/1.1 501 Not Implemented" "$m -> 501 Not Implemented"
done
hq_curl -o /dev/null -w '%{http_code}' -X DELETE "$(url /x)" >"$T/del.code"
is "$(cat "$T/del.code")" 501 "curl DELETE -> 501"

# --- keep-alive ----------------------------------------------------------
hq_curl -v -o /dev/null -o /dev/null "$(url /a)" "$(url /b)" 2>"$T/ka.err"
like "$(cat "$T/ka.err")" 'Re-using existing connection' "curl reuses the connection for a second request"
printf 'GET /1 HTTP/1.1\r\nHost: localhost\r\n\r\n@@@GET /2 HTTP/1.1\r\nHost: localhost\r\n\r\n' |
    raw --split >"$T/raw.ka"
ok $? "two requests one after the other on one connection"
is "$(resp_count "$T/raw.ka")" 2 "keep-alive: two responses"

stop_httpqd

# --- unsupported_status --------------------------------------------------
CONFIG503='
server: { workers: 1 }
iplisten: [127.0.0.1]
url_groups:
  - { name: g, prefixes: ["http://+:@PORT@/"], queue: q }
queues:
  - { name: q, module: sample, options: { unsupported_status: 503 } }
'
start_httpqd "$CONFIG503" || bail_out "httpqd did not start"
T=$HQ_DIR
printf 'PUT / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 3\r\n\r\nabc' | raw >"$T/raw.put"
is "$(resp_status "$T/raw.put")" "HTTP/1.1 503 Not Implemented" \
    "unsupported_status: 503 -> PUT gets '503 Not Implemented'"
hq_curl -i -X DELETE "$(url /)" >"$T/curl.del"
like "$(head -n1 "$T/curl.del")" '^HTTP/1\.1 503 Not Implemented' "curl DELETE -> 503 Not Implemented"
printf 'GET / HTTP/1.1\r\nHost: localhost\r\n\r\n' | raw >"$T/raw.get2"
is "$(resp_code "$T/raw.get2")" 200 "GET still 200 with unsupported_status"

done_testing
