#!/bin/sh
# 31-many-headers.t -- the shipped limits accept what real clients send: a
# browser behind proxies sends about 100 header fields (cookies,
# X-Forwarded-*, tracing), and as in http.sys only the bytes of a head limit
# it, not its count of fields.  Over max_request_bytes is still a 431.
. "${HQ_TESTS:-$(cd "$(dirname "$0")/.." && pwd)}/integration/lib.sh"

# The limits block of the shipped httpq.yaml, as is.
SHIPPED=$HQ_TESTS/../conf/httpq.yaml
LIMITS=$(sed -n '/^limits:/,/^$/p' "$SHIPPED")
like "$LIMITS" '^  max_request_bytes: 16k' "the shipped limits block is found"
CONFIG="
server: { workers: 1 }
iplisten: [127.0.0.1]
$LIMITS
url_groups:
  - { name: g, prefixes: [\"http://+:@PORT@/\"], queue: q }
queues:
  - { name: q, module: sample }
"
start_httpqd "$CONFIG" || bail_out "httpqd did not start"
T=$HQ_DIR

# browser_head N: a browser's GET through a proxy chain, N fields in all.
browser_head() {
	printf 'GET /app/page?id=42 HTTP/1.1\r\nHost: localhost\r\n'
	printf 'User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n'
	printf 'Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n'
	printf 'Accept-Language: en-GB,en;q=0.7,de;q=0.3\r\nAccept-Encoding: gzip, deflate, br, zstd\r\n'
	printf 'Cookie: session=%s; _ga=GA1.1.123456789.1700000000; consent=yes\r\n' "$(repeat s 200)"
	printf 'Sec-Fetch-Dest: document\r\nSec-Fetch-Mode: navigate\r\nSec-Fetch-Site: none\r\n'
	printf 'Sec-Fetch-User: ?1\r\nUpgrade-Insecure-Requests: 1\r\nDNT: 1\r\n'
	printf 'traceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\r\n'
	printf 'tracestate: congo=t61rcWkgMzE,rojo=00f067aa0ba902b7\r\n'
	printf 'X-Request-Id: 7b0c2f9e-1d4a-4c8e-9f1e-2a3b4c5d6e7f\r\n'
	printf 'Via: 1.1 proxy-a, 1.1 proxy-b\r\nForwarded: for=192.0.2.60;proto=https;by=203.0.113.43\r\n'
	_i=17
	while [ "$_i" -lt "$1" ]; do
		case $((_i % 4)) in
		0) printf 'X-Forwarded-For-%d: 192.0.2.%d, 198.51.100.%d\r\n' "$_i" "$_i" "$_i" ;;
		1) printf 'X-Amzn-Trace-Id-%d: Root=1-67891233-abcdef012345678912345678\r\n' "$_i" ;;
		2) printf 'X-B3-Span-%d: a2fb4a1d1a96d312\r\n' "$_i" ;;
		3) printf 'X-Custom-Header-%d: some-value-%d\r\n' "$_i" "$_i" ;;
		esac
		_i=$((_i + 1))
	done
	printf '\r\n'
}

# tiny_head N: N fields "a:1" (5 bytes each).
tiny_head() {
	printf 'GET / HTTP/1.1\r\nHost: localhost\r\n'
	repeat x "$1" | sed 's/x/a:1\r\n/g'
	printf '\r\n'
}

browser_head 110 >"$T/browser"
num_between "$(wc -c <"$T/browser")" 4000 16384 "the browser head is 4-16 KiB"
raw <"$T/browser" >"$T/browser.out"
is "$(resp_code "$T/browser.out")" 200 "a browser's request through proxies, 110 fields -> 200"

browser_head 150 >"$T/browser150"
raw <"$T/browser150" >"$T/browser150.out"
is "$(resp_code "$T/browser150.out")" 200 "150 realistic fields -> 200"

tiny_head 1000 >"$T/tiny1000"
raw <"$T/tiny1000" >"$T/tiny1000.out"
is "$(resp_code "$T/tiny1000.out")" 200 "1000 tiny fields -> 200"

# as many 5-byte fields as fit in 16 KiB
tiny_head 3260 >"$T/tiny3260"
num_between "$(wc -c <"$T/tiny3260")" 16000 16384 "3260 tiny fields fit in 16 KiB"
raw <"$T/tiny3260" >"$T/tiny3260.out"
is "$(resp_code "$T/tiny3260.out")" 200 "3260 tiny fields -> 200"

# and pipelined after one another on one connection, a small head last
{ cat "$T/tiny3260" "$T/browser"; printf 'GET / HTTP/1.1\r\nHost: localhost\r\n\r\n'; } |
    raw --responses 3 >"$T/three.out"
is "$(resp_code "$T/three.out" 0)$(resp_code "$T/three.out" 1)$(resp_code "$T/three.out" 2)" \
    200200200 "big heads then a small one on one connection -> 200 each"

# one byte over the byte limit is still a 431, and the connection closes
tiny_head 3270 >"$T/tiny3270"
num_between "$(wc -c <"$T/tiny3270")" 16385 17000 "3270 tiny fields do not fit in 16 KiB"
raw --read-until-close <"$T/tiny3270" >"$T/tiny3270.out"
is "$(resp_status "$T/tiny3270.out")" "HTTP/1.1 431 Request Header Fields Too Large" \
    "fields over max_request_bytes -> 431"

printf 'GET / HTTP/1.1\r\nHost: localhost\r\n\r\n' | raw >"$T/final"
is "$(resp_code "$T/final")" 200 "still serving"

done_testing
