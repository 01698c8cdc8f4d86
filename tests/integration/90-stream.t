#!/bin/sh
# 90-stream.t -- the asynchronous module ABI through the test module
# "stream": chunked responses with trailers sent from timers, answers
# posted from another thread, send_file, a short body (connection must
# close), finish() without a response (500), and the request facts.
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
