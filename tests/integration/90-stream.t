#!/bin/sh
# 90-stream.t -- the asynchronous module ABI through the test module
# "stream": chunked responses with trailers sent from timers, answers
# posted from another thread, send_file, a short body (connection must
# close), finish() without a response (500), heads the daemon must refuse
# (and leave no trace of), and the request facts.
. "${HQ_TESTS:-$(cd "$(dirname "$0")/.." && pwd)}/integration/lib.sh"

CONFIG="
server: { workers: 2 }
iplisten: [127.0.0.1]
url_groups:
  - { name: streams, prefixes: [\"http://+:@PORT@/\"], queue: q }
queues:
  - { name: q, module: \"$HQ_TESTMODDIR/stream.so\" }
"
start_httpqd "$CONFIG" || bail_out "httpqd did not start"
T=$HQ_DIR

# --- chunked response with trailers, from defer() timers ----------------------
printf 'GET /chunks HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n' |
    raw --read-until-close >"$T/chunks"
ok $? "chunked response: the server closes after it"
like "$(cat "$T/chunks")" 'Transfer-Encoding: chunked' "no Content-Length known: chunked"
like "$(cat "$T/chunks")" 'chunk 3' "every chunk arrives"
like "$(tr -d '\r' <"$T/chunks" | tail -n 3 | head -n 2)" '^0$' "last chunk is 0"
like "$(tr -d '\r' <"$T/chunks")" 'X-Checksum: abc123' "the trailer field follows the last chunk"
hq_curl -o "$T/chunks.b" "$(url /chunks)"
is "$(cat "$T/chunks.b")" "$(printf 'chunk 1\nchunk 2\nchunk 3')" "curl decodes the chunked body"

# HTTP/1.0 cannot take chunks: close-delimited, trailers dropped
printf 'GET /chunks HTTP/1.0\r\n\r\n' | raw --read-until-close >"$T/chunks10"
unlike "$(cat "$T/chunks10")" 'Transfer-Encoding' "HTTP/1.0: no chunked encoding"
like "$(cat "$T/chunks10")" 'chunk 3' "HTTP/1.0: body delimited by the close"

# --- post() from another thread -----------------------------------------------
is "$(hq_curl "$(url /thread)")" "from a thread" "answer posted from another thread"
printf 'GET /thread HTTP/1.1\r\nHost: a\r\n\r\nGET /thread HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n' |
    raw --read-until-close >"$T/thread2"
is "$(resp_count "$T/thread2")" 2 "two pipelined posted answers, in order"

# --- send_file --------------------------------------------------------------------
is "$(hq_curl "$(url /file)")" "file contents" "send_file body"

# --- a body shorter than its Content-Length ---------------------------------------
printf 'GET /short HTTP/1.1\r\nHost: a\r\n\r\nGET /info HTTP/1.1\r\nHost: a\r\n\r\n' |
    raw --read-until-close --timeout 5 >"$T/short"
ok $? "short body: the server closes the connection"
unlike "$(cat "$T/short")" 'method=GET' "short body: the pipelined request is not answered"

# --- a refused head leaves the output as it was ------------------------------------
# in_packet NAME PATH: /info, PATH and /info again (closing) sent in one
# packet, so that /info's answer is still unsent when PATH's heads are
# refused (its output segment is where they would merge); then the same
# three one at a time.  The bytes received must be the same, Date aside.
in_packet() {
	printf 'GET /info HTTP/1.1\r\nHost: a\r\n\r\nGET %s HTTP/1.1\r\nHost: a\r\n\r\nGET /info HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n' "$2" |
	    raw --read-until-close --timeout 10 >"$T/$1"
	ok $? "$1: the server answers and closes"
	{
		printf 'GET /info HTTP/1.1\r\nHost: a\r\n\r\n' | raw
		printf 'GET %s HTTP/1.1\r\nHost: a\r\n\r\n' "$2" | raw
		printf 'GET /info HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n' |
		    raw --read-until-close
	} >"$T/$1.alone"
	grep -av '^Date: ' "$T/$1" >"$T/$1.nodate"
	grep -av '^Date: ' "$T/$1.alone" >"$T/$1.alone.nodate"
	file_is "$T/$1.nodate" "$T/$1.alone.nodate" \
	    "$1: exactly the three answers, as when sent one at a time"
}
# CR, LF, NUL, a bad Content-Length: refused before 0.1.1 too, but the
# rollback left bytes of the merged output segment behind
in_packet crlfhead '/badhead?5'
is "$(resp_body "$T/crlfhead" 1)" "rrrrr" "CR/LF heads refused, the fallback answer follows"
# and names that are not tokens, other control characters, side effects
in_packet badhead /badhead
is "$(resp_count "$T/badhead"):$(resp_rest "$T/badhead")" 3:0 "three responses, no stray bytes"
is "$(resp_body "$T/badhead" 1)" "rrrrrrrrrrr" "every bad head is refused (CR/LF, names, controls, reason)"
is "$(resp_header "$T/badhead" X-Tab 1)" "$(printf 'a\tb')" "HTAB and obs-text in a value are sent"
like "$(resp_body "$T/badhead" 2)" '^method=GET' "the next pipelined request is answered"
unlike "$(cat "$T/badhead" "$T/crlfhead")" 'EVIL|Bad Name|Injected' "no byte of a refused head is sent"

# --- finish() without a response ----------------------------------------------------
is "$(hq_curl -o /dev/null -w '%{http_code}' "$(url /nothing)")" 500 "finish() without response -> 500"

# --- request facts --------------------------------------------------------------------
hq_curl --path-as-is -A 'tester/1' -o "$T/info" "$(url '/a/./b/../c%20d?x=1&y')"
like "$(cat "$T/info")" 'raw=/a/\./b/\.\./c%20d\?x=1&y' "raw URL as sent"
like "$(cat "$T/info")" "cooked=http://127\\.0\\.0\\.1:$HQ_PORT/a/c d\\?x=1&y" "cooked URL: decoded, dot segments resolved"
like "$(cat "$T/info")" 'query=x=1&y' "query"
like "$(cat "$T/info")" "prefix=http://\\+:$HQ_PORT/" "matched prefix"
like "$(cat "$T/info")" 'group=streams' "URL group name"
like "$(cat "$T/info")" 'ua=tester/1' "header lookup is case-insensitive"
printf 'GET http://example.test:%s/x?q=1 HTTP/1.1\r\nHost: ignored\r\n\r\n' "$HQ_PORT" |
    raw >"$T/abs"
like "$(cat "$T/abs")" "cooked=http://example\\.test:$HQ_PORT/x\\?q=1" "absolute-form: authority is the host"
printf 'GET http://example.test:%s?q=2 HTTP/1.1\r\nHost: x\r\n\r\n' "$HQ_PORT" | raw >"$T/abs2"
like "$(cat "$T/abs2")" 'query=q=2' "absolute-form without a path keeps its query"

stop_httpqd
done_testing
