#!/bin/sh
# 32-http-policy.t -- the rows of httpq-http(7) that only a connection can
# show: which errors close the connection and which keep it, 411 and 417,
# 100-continue, request trailers reaching a module.  Each test name carries
# its row id (P-...); the end of this file checks that every id of the man
# page is named by some test under tests/.
. "${HQ_TESTS:-$(cd "$(dirname "$0")/.." && pwd)}/integration/lib.sh"

# Port 1: the sample module (echoes POST bodies), for localhost only, so a
# request without a usable host finds no prefix.  Port 2: the test module
# "stream" on a strong wildcard (it reports what it was given).
CONFIG="
server: { workers: 1 }
iplisten: [127.0.0.1]
url_groups:
  - { name: root, prefixes: [\"http://localhost:@PORT@/\"], queue: q }
  - { name: streams, prefixes: [\"http://+:@PORT2@/\"], queue: s }
queues:
  - { name: q, module: sample }
  - { name: s, module: \"$HQ_TESTMODDIR/stream.so\" }
"
start_httpqd "$CONFIG" || bail_out "httpqd did not start"
T=$HQ_DIR
pyhelper waitport "$HQ_PORT2" "$HQ_PID" 10
ok $? "second port $HQ_PORT2 accepts connections"

FOLLOW='GET /follow HTTP/1.1\r\nHost: localhost\r\n\r\n'
CASE=0

# expect_close NAME CODE: sends $T/req with a valid request after it; the
# daemon must answer CODE once, say Connection: close, and close.
expect_close() {
	CASE=$((CASE + 1))
	_f="$T/case$CASE"
	{ cat "$T/req"; printf "$FOLLOW"; } | raw --read-until-close --timeout 3 >"$_f"
	_rc=$?
	is "$(resp_code "$_f")" "$2" "$1: $2"
	like "$(resp_header "$_f" connection)" '^close' "$1: Connection: close"
	case $_rc in
	0 | 3) ok 0 "$1: connection closed afterwards" ;;
	*)
		ok 1 "$1: connection closed afterwards"
		diag "rawhttp exit $_rc (2 = still open after 3 s)"
		;;
	esac
	is "$(resp_count "$_f")" 1 "$1: what followed was not answered"
}

# expect_open NAME CODE [PORT]: the same, but the connection must stay and
# the valid request after it be answered 200.
expect_open() {
	CASE=$((CASE + 1))
	_f="$T/case$CASE"
	{ cat "$T/req"; printf "$FOLLOW"; } |
	    raw_port "${3:-$HQ_PORT}" --responses 2 --timeout 3 >"$_f"
	_rc=$?
	is "$(resp_code "$_f")" "$2" "$1: $2"
	is "$_rc" 0 "$1: connection stays open"
	is "$(resp_code "$_f" 1)" 200 "$1: the next request gets 200"
}

H='Host: localhost\r\n'

# --- 411: POST and PUT need a length ---------------------------------------
printf "POST / HTTP/1.1\r\n$H\r\n" >"$T/req"
expect_close "P-FRAMING-9 POST without length, HTTP/1.1" 411
printf "PUT / HTTP/1.1\r\n$H\r\n" >"$T/req"
expect_close "P-FRAMING-9 PUT without length, HTTP/1.1" 411
printf "POST / HTTP/1.0\r\n$H\r\n" >"$T/req"
expect_close "P-FRAMING-9 POST without length, HTTP/1.0" 411
like "$(resp_body "$T/case$CASE")" 'Length Required' "P-FRAMING-9 the page names Length Required"
printf "POST / HTTP/1.1\r\n${H}Content-Length: 0\r\n\r\n" >"$T/req"
expect_open "P-FRAMING-9 POST with Content-Length: 0" 200
printf "DELETE / HTTP/1.1\r\n$H\r\n" >"$T/req"
expect_open "P-FRAMING-9 DELETE without length has no body" 501

# --- Expect ---------------------------------------------------------------
printf "GET / HTTP/1.1\r\n${H}Expect: x-magic\r\n\r\n" >"$T/req"
expect_close "P-EXPECT-3 unknown expectation" 417
printf "POST / HTTP/1.1\r\n${H}Expect: 100-continue, x\r\nContent-Length: 3\r\n\r\nabc" >"$T/req"
expect_close "P-EXPECT-3 100-continue next to another expectation" 417
hq_curl -v -H 'Host: localhost' -H 'Expect: 100-continue' --data-binary hello "$(url /)" -o "$T/cont.b" 2>"$T/cont.err"
like "$(cat "$T/cont.err")" 'HTTP/1.1 100 Continue' "P-EXPECT-1 100 Continue before the body is read"
is "$(cat "$T/cont.b")" hello "P-EXPECT-1 the body is then read and echoed"
printf "POST / HTTP/1.0\r\n${H}Expect: 100-continue\r\nConnection: keep-alive\r\nContent-Length: 3\r\n\r\nabc" |
    raw >"$T/cont10"
unlike "$(cat "$T/cont10")" ' 100 Continue' "P-EXPECT-2 no 100 Continue in HTTP/1.0"
is "$(resp_body "$T/cont10")" abc "P-EXPECT-2 the HTTP/1.0 body is read"
# The client waits for 100 and sends no body; the final answer comes first.
printf "POST / HTTP/1.1\r\nHost: other.example\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n" |
    raw --read-until-close --timeout 3 >"$T/cont400"
is "$?" 0 "P-EXPECT-4 answered without 100 Continue: the connection closes"
is "$(resp_code "$T/cont400")" 400 "P-EXPECT-4 the final response (400) is sent"
unlike "$(cat "$T/cont400")" ' 100 Continue' "P-EXPECT-4 no 100 Continue"

# --- framing doubt closes (P-CONN-1) ---------------------------------------------
printf "POST / HTTP/1.1\r\n${H}Content-Length: 3\r\nContent-Length: 3\r\n\r\nabc" >"$T/req"
expect_close "P-CONN-1 P-FRAMING-2 repeated identical Content-Length" 400
printf "POST / HTTP/1.1\r\n${H}Content-Length: 3, 3\r\n\r\nabc" >"$T/req"
expect_close "P-CONN-1 P-FRAMING-2 Content-Length list" 400
printf "POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n3 \r\nabc\r\n0\r\n\r\n" >"$T/req"
expect_close "P-CONN-1 P-CHUNK-2 whitespace after the chunk size" 400
printf "get / HTTP/1.1\r\n$H\r\n" >"$T/req"
expect_close "P-CONN-1 P-METHOD-2 lower-case method" 400
printf "CONNECT localhost:443 HTTP/1.1\r\n$H\r\n" >"$T/req"
expect_close "P-CONN-1 P-METHOD-4 CONNECT authority-form" 400
printf "CONNECT / HTTP/1.1\r\n$H\r\n" >"$T/req"
expect_close "P-CONN-1 P-METHOD-4 CONNECT origin-form" 400
printf "GET / HTTP/1.2\r\n$H\r\n" >"$T/req"
expect_close "P-CONN-1 P-VERSION-2 HTTP/1.2" 505
printf "GET /\r\n$H\r\n" >"$T/req"
expect_close "P-CONN-1 P-VERSION-3 HTTP/0.9 request line" 400

# --- known framing keeps the connection (P-CONN-2) ---------------------------------
printf "GET /../x HTTP/1.1\r\n$H\r\n" >"$T/req"
expect_open "P-CONN-2 P-PATH-4 a path climbing above /" 400
printf "POST /%%C0%%AF HTTP/1.1\r\n${H}Content-Length: 3\r\n\r\nabc" >"$T/req"
expect_open "P-CONN-2 P-PATH-5 overlong UTF-8, body drained" 400
printf "GET /%%ED%%A0%%80 HTTP/1.1\r\n$H\r\n" >"$T/req"
expect_open "P-CONN-2 P-PATH-5 a UTF-16 surrogate" 400
printf "GET /%%C2%%85 HTTP/1.1\r\n$H\r\n" >"$T/req"
expect_open "P-CONN-2 P-PATH-6 a C1 control" 400
printf "GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n" >"$T/req"
expect_open "P-CONN-2 P-HOST-2 Host twice" 400
printf "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n" >"$T/req"
expect_open "P-CONN-2 P-HOST-5 HTTP/1.0 without Host, explicit-host prefix only" 400

printf "GET / HTTP/1.1\r\n${H}Content-Length: 3\r\n\r\nabc" >"$T/req"
expect_open "P-FRAMING-8 a body on GET is framed and skipped" 200

# --- routed to the module -------------------------------------------------------
FOLLOW='GET /f HTTP/1.1\r\nHost: x\r\n\r\n'
printf "GET /info HTTP/1.0\r\nConnection: keep-alive\r\n\r\n" >"$T/req"
expect_open "P-HOST-5 HTTP/1.0 without Host on a wildcard prefix" 200 "$HQ_PORT2"
printf "GET http://a.example/info HTTP/1.1\r\nHost: b.example\r\n\r\n" >"$T/req"
expect_open "P-HOST-4 absolute-form, another Host" 200 "$HQ_PORT2"
like "$(resp_body "$T/case$CASE")" "cooked=http://a.example:$HQ_PORT2/info" "P-HOST-4 the target's authority wins"
printf "OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n" >"$T/req"
expect_open "P-METHOD-3 OPTIONS * reaches the module" 200 "$HQ_PORT2"
like "$(resp_body "$T/case$CASE")" 'raw=\*' "P-METHOD-3 the module sees the raw target *"
printf "TRACE /t HTTP/1.1\r\nHost: x\r\n\r\n" >"$T/req"
expect_open "P-METHOD-5 TRACE reaches the module" 200 "$HQ_PORT2"
like "$(resp_body "$T/case$CASE")" 'method=TRACE' "P-METHOD-5 the module answered it"
printf "PURGE /t HTTP/1.1\r\nHost: x\r\n\r\n" >"$T/req"
expect_open "P-METHOD-1 an unknown method reaches the module" 200 "$HQ_PORT2"

# --- request trailers reach the module (ABI 1.2) --------------------------------
printf 'POST /trailers HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;e=1\r\n world\r\n0\r\nX-Sum: 42 \r\nContent-Length: 1\r\nX-Empty:\r\n\r\n' |
    raw_port "$HQ_PORT2" >"$T/tr"
is "$(resp_code "$T/tr")" 200 "P-TRAILER-1 chunked POST with trailers -> 200"
is "$(resp_body "$T/tr")" "$(printf 'bytes=11\nbefore_end=0\ncount=3\n[X-Sum]=[42]\n[Content-Length]=[1]\n[X-Empty]=[]\nx-sum=42')" \
    "P-TRAILER-1 the module sees each trailer, by index and by name, only at the end"
printf 'POST /trailers HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\n\r\n' |
    raw_port "$HQ_PORT2" >"$T/tr0"
like "$(resp_body "$T/tr0")" 'count=0' "P-TRAILER-1 no trailers: count 0"
like "$(resp_body "$T/tr0")" 'x-sum=$' "P-TRAILER-1 no trailers: lookup finds none"
{
	printf 'POST /trailers HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\nX-Big: '
	repeat a 20000
	printf '\r\n\r\n'
	printf 'GET /f HTTP/1.1\r\nHost: x\r\n\r\n'
} | raw_port "$HQ_PORT2" --read-until-close --timeout 3 >"$T/trbig"
is "$?" 0 "P-TRAILER-2 a trailer over max_field_length: the connection closes"
is "$(resp_code "$T/trbig")" 431 "P-TRAILER-2 ... after 431"
is "$(resp_count "$T/trbig")" 1 "P-TRAILER-2 ... and nothing after it is answered"
hq_alive "$HQ_PID"
ok $? "httpqd survived"

# --- every row of httpq-http(7) has a test -------------------------------------
MAN="$HQ_TESTS/../man/httpq-http.7"
ids=$(grep -o '^P-[A-Z]*-[0-9]*' "$MAN" | sort -u)
num_between "$(printf '%s\n' "$ids" | wc -l)" 40 1000 "httpq-http(7) has its rows"
missing=
for id in $ids; do
	grep -rqw -e "$id" "$HQ_TESTS/unit" "$HQ_TESTS/integration" || missing="$missing $id"
done
is "$missing" "" "every row id of httpq-http(7) is named by a test"

stop_httpqd
done_testing
