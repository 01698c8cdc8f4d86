#!/bin/sh
# 30-errors.t -- every response the daemon makes by itself (errors.c): the
# status line, a short HTML body naming the title, and whether the
# connection survives.  After a framing error the connection must close
# without answering what follows (no request smuggling); after a routing
# error (400 Invalid Hostname, 404) it stays usable.
. "${HQ_TESTS:-$(cd "$(dirname "$0")/.." && pwd)}/integration/lib.sh"

# Port 1 has only host-bound prefixes, so a foreign Host matches nothing
# (400 Invalid Hostname).  Port 2 has a strong wildcard for /app/ only, so
# any host matches and /other/ is a 404.
CONFIG='
server: { workers: 2 }
iplisten: [127.0.0.1]
url_groups:
  - { name: root, prefixes: ["http://localhost:@PORT@/"], queue: q }
  - { name: small, prefixes: ["http://localhost:@PORT@/small/"], queue: q, max_body_bytes: 10 }
  - { name: plus, prefixes: ["http://+:@PORT2@/app/"], queue: q }
queues:
  - { name: q, module: sample, verbosity: limited }
'
start_httpqd "$CONFIG" || bail_out "httpqd did not start"
T=$HQ_DIR
pyhelper waitport "$HQ_PORT2" "$HQ_PID" 10
ok $? "second port $HQ_PORT2 accepts connections"

FOLLOW='GET /follow HTTP/1.1\r\nHost: localhost\r\n\r\n'
CASE=0

# check_error NAME FILE STATUS_LINE TITLE_ERE: the common checks.
check_error() {
	is "$(resp_status "$2")" "$3" "$1: status line '$3'"
	_b=$(resp_body "$2")
	like "$_b" "$4" "$1: body names the title"
	like "$_b" '<[Hh][Tt][Mm][Ll]' "$1: body is HTML"
	num_between "$(resp_body "$2" | wc -c)" 1 2048 "$1: body is short"
	like "$(resp_header "$2" content-type)" '^text/html' "$1: Content-Type text/html"
}

# expect_close NAME STATUS_LINE TITLE_ERE: sends the request in $T/req (the
# helpers run in this shell, not in a pipeline, so the TAP counter holds); a
# valid request is
# appended; the server must answer once and close.
expect_close() {
	CASE=$((CASE + 1))
	_f="$T/case$CASE"
	{ cat "$T/req"; printf "$FOLLOW"; } | raw --read-until-close --timeout 2 >"$_f"
	_rc=$?
	check_error "$1" "$_f" "$2" "$3"
	case $_rc in
	0 | 3) ok 0 "$1: connection closed afterwards" ;;
	*)
		ok 1 "$1: connection closed afterwards"
		diag "rawhttp exit $_rc (2 = still open after 2 s)"
		;;
	esac
	is "$(resp_count "$_f")" 1 "$1: exactly one response (what followed was not answered)"
}

# expect_open NAME STATUS_LINE TITLE_ERE [PORT]: sends $T/req; a valid request is
# appended; both must be answered on the same connection.
expect_open() {
	CASE=$((CASE + 1))
	_f="$T/case$CASE"
	{ cat "$T/req"; printf "$FOLLOW"; } | raw_port "${4:-$HQ_PORT}" --responses 2 --timeout 3 >"$_f"
	_rc=$?
	check_error "$1" "$_f" "$2" "$3"
	is "$_rc" 0 "$1: connection stays open, the next request is answered"
	is "$(resp_code "$_f" 1)" 200 "$1: the next request gets 200"
}

S400='HTTP/1.1 400 Bad Request'

# --- Host ------------------------------------------------------------------
printf 'GET / HTTP/1.1\r\nUser-Agent: t\r\n\r\n' >"$T/req"
expect_open "P-HOST-1 missing Host in HTTP/1.1" "$S400" 'Bad Request - Invalid Hostname'
printf 'GET / HTTP/1.1\r\nHost: localhost\r\nHost: localhost\r\n\r\n' >"$T/req"
expect_open "duplicate Host" "$S400" 'Bad Request - Invalid Hostname'
printf 'GET / HTTP/1.1\r\nHost: other.example\r\n\r\n' >"$T/req"
expect_open "Host matching no prefix" "$S400" 'Bad Request - Invalid Hostname'
FOLLOW='GET /app/ HTTP/1.1\r\nHost: localhost\r\n\r\n'
printf 'GET /other/ HTTP/1.1\r\nHost: localhost\r\n\r\n' >"$T/req"
expect_open "host matches, path does not (404)" 'HTTP/1.1 404 Not Found' 'Not Found' "$HQ_PORT2"
printf 'GET /other/ HTTP/1.1\r\nHost: anything.example\r\n\r\n' >"$T/req"
expect_open "strong wildcard, foreign host, unknown path (404)" 'HTTP/1.1 404 Not Found' 'Not Found' "$HQ_PORT2"
FOLLOW='GET /follow HTTP/1.1\r\nHost: localhost\r\n\r\n'

# --- answered before routing, with a body to skip ------------------------------
# The daemon drains the body of a request it answered itself and keeps the
# connection: there is no URL group then (the drain used to dereference it
# and kill the daemon with SIGSEGV).
printf 'POST / HTTP/1.1\r\nHost: a b\r\nContent-Length: 5\r\n\r\nhello' >"$T/req"
expect_open "bad Host with a Content-Length body" "$S400" 'Bad Request - Invalid Hostname'
printf 'POST / HTTP/1.1\r\nHost: a b\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n' >"$T/req"
expect_open "bad Host with a chunked body" "$S400" 'Bad Request - Invalid Hostname'
printf 'POST / HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc' >"$T/req"
expect_open "missing Host with a body" "$S400" 'Bad Request - Invalid Hostname'
printf 'POST /a%%zz HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\n\r\nhello' >"$T/req"
expect_open "bad URL with a body" "$S400" 'Bad Request - Invalid URL'
{ printf 'POST / HTTP/1.1\r\nHost: other.example\r\nContent-Length: 300000\r\n\r\n'; repeat x 300000; } >"$T/req"
expect_open "unrouted Host with a 300000-byte body" "$S400" 'Bad Request - Invalid Hostname'
FOLLOW='GET /app/ HTTP/1.1\r\nHost: localhost\r\n\r\n'
printf 'POST /other/ HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\n\r\nhello' >"$T/req"
expect_open "404 with a Content-Length body" 'HTTP/1.1 404 Not Found' 'Not Found' "$HQ_PORT2"
printf 'POST /other/ HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n' >"$T/req"
expect_open "404 with a chunked body" 'HTTP/1.1 404 Not Found' 'Not Found' "$HQ_PORT2"
FOLLOW='GET /follow HTTP/1.1\r\nHost: localhost\r\n\r\n'
hq_alive "$HQ_PID"
ok $? "httpqd survived requests with bodies it answered before routing"

# --- framing -----------------------------------------------------------------
printf 'POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n' >"$T/req"
expect_close "Content-Length with Transfer-Encoding" "$S400" 'Bad Request - Invalid Framing'
printf 'POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: abc\r\n\r\n' >"$T/req"
expect_close "Content-Length: abc" "$S400" 'Bad Request - Invalid Content-Length'
printf 'POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd' >"$T/req"
expect_close "differing Content-Lengths" "$S400" 'Bad Request - Invalid Content-Length'
printf 'POST / HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n' >"$T/req"
expect_close "P-CONN-4 bad chunk size" "$S400" 'Bad Request - Invalid Chunk'
printf 'GET / HTTP/1.1\r\nHost: localhost\r\nX-A: a\000b\r\n\r\n' >"$T/req"
expect_close "NUL in a header" "$S400" 'Bad Request'
printf 'GET / HTTP/1.1\r\nHost: localhost\r\nX-A: a\rb\r\n\r\n' >"$T/req"
expect_close "bare CR in a header" "$S400" 'Bad Request'
printf 'GET / HTTP/1.1\r\nHost: localhost\r\nX-A: a\r\n b\r\n\r\n' >"$T/req"
expect_close "obs-fold" "$S400" 'Bad Request - Invalid Header'
printf 'GET / HTTP/1.1\r\nHost: localhost\r\nX-A : b\r\n\r\n' >"$T/req"
expect_close "space before colon" "$S400" 'Bad Request - Invalid Header'

# --- limits ------------------------------------------------------------------
printf 'POST /small/ HTTP/1.1\r\nHost: localhost\r\nContent-Length: 10\r\n\r\n0123456789' | raw >"$T/ten"
is "$(resp_code "$T/ten")" 200 "max_body_bytes 10: a 10-byte body is accepted"
printf 'POST /small/ HTTP/1.1\r\nHost: localhost\r\nContent-Length: 11\r\n\r\n0123456789a' >"$T/req"
expect_close "P-FRAMING-7 body over max_body_bytes (413)" 'HTTP/1.1 413 Payload Too Large' 'Request Entity Too Large'
printf 'POST /small/ HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n6\r\n012345\r\n5\r\n6789a\r\n0\r\n\r\n' >"$T/req"
expect_close "chunked body over max_body_bytes (413)" 'HTTP/1.1 413 Payload Too Large' 'Request Entity Too Large'
{ printf 'GET /'; repeat a 20000; printf ' HTTP/1.1\r\nHost: localhost\r\n\r\n'; } >"$T/req"
expect_close "20000-byte path (414)" 'HTTP/1.1 414 URI Too Long' 'Request URL Too Long'
{ printf 'GET / HTTP/1.1\r\nHost: localhost\r\nX-Big: '; repeat a 20000; printf '\r\n\r\n'; } >"$T/req"
expect_close "one 20000-byte header (431)" 'HTTP/1.1 431 Request Header Fields Too Large' \
    'Bad Request - (Header Field|Request) Too Long'
{
	printf 'GET / HTTP/1.1\r\nHost: localhost\r\n'
	i=0
	while [ $i -lt 80 ]; do
		printf 'X-H%d: ' $i
		repeat b 240
		printf '\r\n'
		i=$((i + 1))
	done
	printf '\r\n'
} >"$T/req"
expect_close "80 headers of 250 bytes, over max_request_bytes (431)" \
    'HTTP/1.1 431 Request Header Fields Too Large' 'Bad Request - Request Too Long'

# --- not implemented, version ---------------------------------------------------
printf 'POST / HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: gzip\r\n\r\nxxxx' >"$T/req"
expect_close "Transfer-Encoding: gzip (501)" 'HTTP/1.1 501 Not Implemented' 'Not Implemented'
printf 'GET / HTTP/2.0\r\nHost: localhost\r\n\r\n' >"$T/req"
expect_close "HTTP/2.0 request line (505)" 'HTTP/1.1 505 HTTP Version Not Supported' 'HTTP Version Not Supported'
printf 'GET / HTTP/3.1\r\nHost: localhost\r\n\r\n' >"$T/req"
expect_close "HTTP/3.1 request line (505)" 'HTTP/1.1 505 HTTP Version Not Supported' 'HTTP Version Not Supported'

# the daemon still serves after all that
printf 'GET / HTTP/1.1\r\nHost: localhost\r\n\r\n' | raw >"$T/final"
is "$(resp_code "$T/final")" 200 "still serving after the errors"

done_testing
