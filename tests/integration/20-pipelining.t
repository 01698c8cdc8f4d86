#!/bin/sh
# 20-pipelining.t -- pipelined requests written in one send are answered
# in order on one connection.
. "${HQ_TESTS:-$(cd "$(dirname "$0")/.." && pwd)}/integration/lib.sh"

CONFIG='
server: { workers: 2 }
iplisten: [127.0.0.1]
url_groups:
  - { name: g, prefixes: ["http://+:@PORT@/"], queue: q }
  - { name: h, prefixes: ["http://+:@PORT@/hold/"], queue: hq }
queues:
  - { name: q, module: sample }
  - { name: hq, module: "@TESTMODDIR@/hold.so", options: { hold_ms: 1000 } }
'
start_httpqd "$CONFIG" || bail_out "httpqd did not start"
T=$HQ_DIR
printf 'Hey! You hit the server \r\n' >"$T/hey"

# --- three GETs in one write -----------------------------------------------
printf 'GET /1 HTTP/1.1\r\nHost: localhost\r\n\r\nGET /2 HTTP/1.1\r\nHost: localhost\r\n\r\nGET /3 HTTP/1.1\r\nHost: localhost\r\n\r\n' |
    raw --responses 3 >"$T/g3"
ok $? "three pipelined GETs: three complete responses"
is "$(resp_count "$T/g3")" 3 "exactly three responses"
for i in 0 1 2; do
	is "$(resp_status "$T/g3" $i)" "HTTP/1.1 200 OK" "response $((i + 1)) is 200 OK"
	resp_body "$T/g3" $i >"$T/g3.$i"
	file_is "$T/g3.$i" "$T/hey" "response $((i + 1)) body"
done

# --- order: a slow request first, a fast one after: answers stay in order --
printf 'GET /hold/?ms=300 HTTP/1.1\r\nHost: localhost\r\n\r\nGET /fast HTTP/1.1\r\nHost: localhost\r\n\r\n' |
    raw --responses 2 >"$T/order"
ok $? "held request then fast request: two responses"
is "$(resp_body "$T/order" 0)" "held" "first response is the held one"
resp_body "$T/order" 1 >"$T/order.1"
file_is "$T/order.1" "$T/hey" "second response is the fast one"

# --- a POST with a body, then a GET, in one write ---------------------------
printf 'POST /echo HTTP/1.1\r\nHost: localhost\r\nContent-Length: 11\r\n\r\nhello worldGET /after HTTP/1.1\r\nHost: localhost\r\n\r\n' |
    raw --responses 2 >"$T/pg"
ok $? "pipelined POST + GET: two responses"
is "$(resp_count "$T/pg")" 2 "exactly two responses"
is "$(resp_code "$T/pg" 0)" 200 "POST -> 200"
is "$(resp_body "$T/pg" 0)" "hello world" "POST body echoed, and only its 11 bytes"
is "$(resp_code "$T/pg" 1)" 200 "GET after the POST -> 200"
resp_body "$T/pg" 1 >"$T/pg.1"
file_is "$T/pg.1" "$T/hey" "GET after the POST answered by the GET handler"

# a chunked POST, then a GET
printf 'POST / HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\nGET / HTTP/1.1\r\nHost: localhost\r\n\r\n' |
    raw --responses 2 >"$T/cg"
ok $? "pipelined chunked POST + GET: two responses"
is "$(resp_body "$T/cg" 0)" "abc" "chunked POST echoed"
resp_body "$T/cg" 1 >"$T/cg.1"
file_is "$T/cg.1" "$T/hey" "GET after the chunked POST"

# the last request asks to close: answered, then the connection closes
printf 'GET /1 HTTP/1.1\r\nHost: localhost\r\n\r\nGET /2 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n' |
    raw --read-until-close >"$T/cl"
ok $? "pipelined GET + GET with Connection: close: server closes"
is "$(resp_count "$T/cl")" 2 "both answered before the close"

done_testing
