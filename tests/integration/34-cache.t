#!/bin/sh
# 34-cache.t -- the response cache (issue 13): a response a module marks
# cacheable answers later GETs and HEADs without calling the module (the
# counter module counts its calls) and without entering the queue;
# conditionals answered 304 from the entry; what is never kept
# (Authorization, Vary, Set-Cookie, private, 404, too large) and what is
# (chunked, Vary: Accept-Encoding keyed on it, answered later from post());
# time to live; flush of one URL, recursive and all; show cachestate and
# the hit and miss counters of show servicestate; eviction at a group's
# memory limit (least recently used first); a group with the cache off;
# pipelined hits; the static module's files (stale after an edit until a
# flush); a reload empties the cache; the scavenger.
. "${HQ_TESTS:-$(cd "$(dirname "$0")/.." && pwd)}/integration/lib.sh"

: "${HTTPQCTL:=$HQ_TESTS/../src/httpqctl}"
hq_mktemp
W=$HQ_MKTEMP/www
mkdir -p "$W"
printf 'version one\n' >"$W/page.txt"
printf 'plain text\n' >"$W/pre.txt"
printf 'GZ-BYTES\n' >"$W/pre.txt.gz"

CONFIG="
server: { workers: 2 }
iplisten: [127.0.0.1]
url_groups:
  - { name: c, prefixes: [\"http://+:@PORT@/c/\"], queue: counter }
  - { name: small, prefixes: [\"http://+:@PORT@/small/\"], queue: counter,
      cache: { max_bytes: 40k } }
  - { name: off, prefixes: [\"http://+:@PORT@/off/\"], queue: counter,
      cache: { enabled: false } }
  - { name: s, prefixes: [\"http://+:@PORT@/s/\"], queue: st }
queues:
  - { name: counter, module: @TESTMODDIR@/counter.so }
  - { name: st, module: static, options: { root: $W, cache: user_invalidates,
      precompressed: true } }
"
start_httpqd "$CONFIG" || bail_out "httpqd did not start"
T=$HQ_DIR

ctl() { "$HTTPQCTL" -s "$HQ_CTL" "$@"; }
# call PATH [curl args]: the X-Call of the answer (which module call made it)
call() {
	_p=$1
	shift
	hq_curl -o /dev/null -D - "$@" "$(url "$_p")" | tr -d '\r' | sed -n 's/^X-Call: //Ip'
}
count() { hq_curl "$(url /c/count)"; }
# alive WHAT: the daemon survived WHAT, or the test stops with its log
alive() { hq_alive "$HQ_PID" || { hq_dump_log; bail_out "httpqd died: $1"; }; }
hdr() { tr -d '\r' <"$1" | sed -n "s/^$2: //Ip" | head -n1; }
# get ARGS: curl writing the head to $T/h and the body to $T/b (which curl
# leaves alone when the body is empty: removed first)
get() { rm -f "$T/h" "$T/b"; hq_curl -D "$T/h" -o "$T/b" "$@"; touch "$T/b"; }

# --- a hit does not call the module -------------------------------------------
is "$(call /c/a)" 1 "first GET /c/a: the module's first call"
get "$(url /c/a)"
is "$(hdr "$T/h" X-Call)" 1 "second GET /c/a: the same answer, from the cache"
is "$(cat "$T/b")" "call=1 path=/c/a" "... the same body"
is "$(hdr "$T/h" Content-Length)" 17 "... with its Content-Length"
like "$(hdr "$T/h" Date)" '^[A-Z][a-z]{2}, [0-9]{2} [A-Z][a-z]{2} 20[0-9]{2} ' "... a Date of its own"
like "$(hdr "$T/h" Age)" '^[0-9]+$' "... and an Age"
like "$(hdr "$T/h" Server)" '^httpq/' "... and the Server header"
is "$(hdr "$T/h" ETag)" '"etag-/c/a"' "... the module's own fields kept"
is "$(count)" 1 "the module was called once for two GETs"
rm -f "$T/b"; hq_curl -I -o "$T/h" "$(url /c/a)"
like "$(head -n1 "$T/h")" '^HTTP/1\.1 200' "HEAD /c/a: 200 from the GET's entry"
is "$(hdr "$T/h" X-Call)" 1 "... the GET's fields"
is "$(hdr "$T/h" Content-Length)" 17 "... and its Content-Length"
printf 'HEAD /c/a HTTP/1.1\r\nHost: 127.0.0.1:%s\r\nConnection: close\r\n\r\n' "$HQ_PORT" |
	raw >"$T/r"
is "$(resp_count "$T/r" --no-body)/$(resp_rest "$T/r" --no-body)" "1/0" \
    "... no body (on the wire)"
is "$(count)" 1 "... the module not called"
arrived() { ctl show queue counter | sed -n 's/^ *arrived *//p'; }
a0=$(arrived)
call /c/a >/dev/null
call /c/a >/dev/null
is "$(arrived)" "$a0" "show queue: hits do not enter the queue"

alive "before conditionals from the entry"
# --- conditionals from the entry ------------------------------------------------
get -H 'If-None-Match: "etag-/c/a"' "$(url /c/a)"
like "$(head -n1 "$T/h")" '^HTTP/1\.1 304' "If-None-Match matching the entry: 304"
is "$(hdr "$T/h" ETag)" '"etag-/c/a"' "... with the ETag"
is "$(hdr "$T/h" Content-Type)" "" "... without the representation's Content-Type"
is "$(wc -c <"$T/b")" 0 "... and no body"
get -H 'If-None-Match: W/"etag-/c/a"' "$(url /c/a)"
like "$(head -n1 "$T/h")" '^HTTP/1\.1 304' "a weak If-None-Match: 304 (weak comparison)"
get -H 'If-None-Match: "other"' "$(url /c/a)"
like "$(head -n1 "$T/h")" '^HTTP/1\.1 200' "If-None-Match not matching: 200"
is "$(hdr "$T/h" X-Call)" 1 "... from the entry"
get -H 'If-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT' "$(url /c/a)"
like "$(head -n1 "$T/h")" '^HTTP/1\.1 304' "If-Modified-Since at Last-Modified: 304"
get -H 'If-Modified-Since: Sat, 05 Nov 1994 08:49:37 GMT' "$(url /c/a)"
like "$(head -n1 "$T/h")" '^HTTP/1\.1 200' "If-Modified-Since before Last-Modified: 200"
is "$(count)" 1 "conditionals did not call the module"
get -H 'If-Match: "etag-/c/a"' "$(url /c/a)"
is "$(hdr "$T/h" X-Call)" 2 "If-Match goes to the module"
is "$(call /c/a -H 'Range: bytes=0-3')" 3 "Range goes to the module"

alive "before what is never kept"
# --- what is never kept ---------------------------------------------------------
is "$(call /c/auth -H 'Authorization: Basic eDp5')" 4 "GET with Authorization: the module"
is "$(call /c/auth -H 'Authorization: Basic eDp5')" 5 "... and again: never kept"
is "$(call /c/auth)" 6 "... without Authorization: the module (nothing was kept)"
is "$(call /c/auth)" 6 "... which keeps this one"
is "$(call /c/auth -H 'Authorization: Basic eDp5')" 7 "a request with Authorization is not answered from the cache"
is "$(call /c/vary/)" 8 "Vary: User-Agent"
is "$(call /c/vary/)" 9 "... is not kept"
is "$(call /c/cookie/)" 10 "Set-Cookie"
is "$(call /c/cookie/)" 11 "... is not kept"
is "$(call /c/private/)" 12 "Cache-Control: private"
is "$(call /c/private/)" 13 "... is not kept"
is "$(call /c/status404/)" 14 "a 404"
is "$(call /c/status404/)" 15 "... is not kept"
is "$(call /c/big300000/)" 16 "a response over cache.max_response_bytes (256k)"
is "$(call /c/big300000/)" 17 "... is not kept"
is "$(call /off/a)" 18 "a group with cache.enabled false"
is "$(call /off/a)" 19 "... keeps nothing"
hq_curl -o /dev/null -d x "$(url /c/post)"
is "$(call /c/post)" 21 "a POST is not kept, a GET of its URL calls the module"
n=$(count)

alive "before what is kept"
# --- what is kept ----------------------------------------------------------------
is "$(call /c/chunked/)" $((n + 1)) "a body sent in pieces without Content-Length"
get "$(url /c/chunked/)"
is "$(hdr "$T/h" X-Call)" $((n + 1)) "... is kept"
is "$(hdr "$T/h" Content-Length)" "$(wc -c <"$T/b" | tr -d ' ')" "... and answered with a Content-Length"
is "$(hdr "$T/h" Transfer-Encoding)" "" "... not chunked"
is "$(call /c/async/)" $((n + 2)) "an answer sent later, from post()"
is "$(call /c/async/)" $((n + 2)) "... is kept"
is "$(call /c/big200000/)" $((n + 3)) "a 200000-byte body (under the limit)"
get "$(url /c/big200000/)"
is "$(hdr "$T/h" X-Call)" $((n + 3)) "... is kept"
is "$(wc -c <"$T/b" | tr -d ' ')" 200000 "... all of it"
is "$(call /c/varyae/ -H 'Accept-Encoding: gzip')" $((n + 4)) "Vary: Accept-Encoding, gzip"
is "$(call /c/varyae/ -H 'Accept-Encoding: gzip')" $((n + 4)) "... kept for gzip"
is "$(call /c/varyae/ -H 'Accept-Encoding: br')" $((n + 5)) "... not answered to br"
is "$(call /c/varyae/ -H 'Accept-Encoding: br')" $((n + 5)) "... which has its own entry"
is "$(call /c/varyae/ -H 'Accept-Encoding: gzip')" $((n + 4)) "... and gzip still its own"
is "$(call /c/varyae/)" $((n + 6)) "... and no Accept-Encoding one more"
is "$(call '/c/q?x=1')" $((n + 7)) "the query is part of the key"
is "$(call '/c/q?x=2')" $((n + 8)) "... another query, another entry"
is "$(call '/c/q?x=1')" $((n + 7)) "... each kept"
is "$(call /c/a -H 'Host: other.example')" $((n + 9)) "another Host: another entry"
n=$((n + 9))

alive "before pipelined hits"
# --- pipelined hits and HTTP/1.0 ---------------------------------------------------
printf 'GET /c/a HTTP/1.1\r\nHost: x\r\n\r\nGET /c/a HTTP/1.1\r\nHost: x\r\n\r\nHEAD /c/a HTTP/1.1\r\nHost: x\r\n\r\nGET /c/a HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' |
	raw >"$T/r"
is "$(resp_count "$T/r" --no-body)" 4 "four pipelined requests for one cached URL: four answers"
is "$(resp_header "$T/r" X-Call 0)" "$((n + 1))" "... the first fills the entry (another Host)"
is "$(resp_header "$T/r" X-Call 1)" "$((n + 1))" "... the second is a hit"
is "$(resp_header "$T/r" Connection 3)" "close" "... the last says close"
is "$(count)" $((n + 1)) "... one module call"
n=$((n + 1))
printf 'GET /c/a HTTP/1.0\r\nHost: 127.0.0.1:%s\r\n\r\n' "$HQ_PORT" | raw >"$T/r"
is "$(resp_code "$T/r")" 200 "HTTP/1.0 hit"
is "$(resp_body "$T/r")" "call=1 path=/c/a" "... the entry's body"

alive "before time to live"
# --- time to live ------------------------------------------------------------------
is "$(call /c/ttl2/x)" $((n + 1)) "time to live 2 s"
is "$(call /c/ttl2/x)" $((n + 1)) "... kept"
like "$(ctl show cachestate url="$(url /c/ttl2/x)")" 'time_to_live' "show cachestate names the policy"
end=$(($(date +%s) + 10))
while [ "$(call /c/ttl2/x)" = $((n + 1)) ] && [ "$(date +%s)" -le "$end" ]; do sleep 0.2; done
is "$(call /c/ttl2/x)" $((n + 2)) "... expired within seconds: the module again"
n=$((n + 2))

alive "before show cachestate, servicestate"
# --- show cachestate, servicestate --------------------------------------------------
out=$(ctl show cachestate)
is $? 0 "show cachestate exits 0"
like "$out" "^response cache on: [0-9]+ entries" "... a summary line"
like "$out" "^http://127\.0\.0\.1:$HQ_PORT/c/a +c +[0-9]+ +[0-9]+ +user_invalidates +- " \
    "... a row per entry: URL, group, bytes, hits, policy, TTL"
like "$out" "^http://other\.example:$HQ_PORT/c/a " "... the Host names the URL"
out=$(ctl show cachestate --json)
is "$(printf '%s' "$out" | "$HQ_PYTHON" -c '
import json, sys
d = json.load(sys.stdin)
e = [x for x in d["cached"] if x["url"].endswith("/c/a") and x["url"].startswith("http://127")]
print(e[0]["hits"] >= 8, e[0]["policy"], e[0]["ttl"], d["hits"] > 0, d["misses"] > 0)')" \
    "True user_invalidates None True True" "show cachestate --json: entries, hits, policy, totals"
out=$(ctl show servicestate)
like "$out" '^response cache on +entries [0-9]+ +bytes [0-9]+ of 67108864 +hits [1-9][0-9]* +misses [1-9]' \
    "show servicestate: hits and misses"
is "$(ctl show servicestate --json | "$HQ_PYTHON" -c '
import json, sys
c = json.load(sys.stdin)["cache"]
print(c["hits"] > 0, c["misses"] > 0, c["max_bytes"])')" "True True 67108864" \
    "show servicestate --json: the cache's counters"
ctl show cachestate url=ftp://x/ >/dev/null 2>&1
is $? 1 "show cachestate with a URL that is no http URL: refused"

alive "before flush"
# --- flush ----------------------------------------------------------------------------
is "$(call /c/u/a)" $((n + 1)) "kept: /c/u/a"
is "$(call /c/u/b)" $((n + 2)) "kept: /c/u/b"
is "$(call /c/v/c)" $((n + 3)) "kept: /c/v/c"
is "$(call /c/u/a)$(call /c/u/b)$(call /c/v/c)" "$((n + 1))$((n + 2))$((n + 3))" "... all three"
out=$(ctl delete cache url="$(url /c/u/a)")
is "$out" "1 cached response removed" "delete cache url=/c/u/a: one entry"
is "$(call /c/u/a)" $((n + 4)) "... /c/u/a calls the module again"
is "$(call /c/u/b)" $((n + 2)) "... /c/u/b is still kept"
out=$(ctl delete cache url="$(url /c/u)" recursive=no)
is "$out" "0 cached responses removed" "not recursive: /c/u is no entry"
out=$(ctl flush cache url="$(url /c/u/)" recursive=yes)
is "$out" "2 cached responses removed" "recursive=yes: every entry below /c/u/"
is "$(call /c/u/b)" $((n + 5)) "... /c/u/b calls the module again"
is "$(call /c/v/c)" $((n + 3)) "... /c/v/c is still kept"
ctl delete cache >/dev/null
is "$(call /c/v/c)" $((n + 6)) "delete cache without url: everything"
like "$(tail -n 20 "$HQ_LOG")" 'control: cache flush of everything' "a flush is logged"
n=$((n + 6))

alive "before a group's memory limit"
# --- a group's memory limit: the least recently used go -------------------------------
for i in 1 2 3 4 5; do call "/small/big10000/$i" >/dev/null; done
n=$((n + 5))
out=$(ctl show cachestate url="$(url /small/)" --json)
is "$(printf '%s' "$out" | "$HQ_PYTHON" -c '
import json, sys
d = json.load(sys.stdin)
print(len(d["cached"]) < 5, sum(x["bytes"] for x in d["cached"]) <= 40960, d["evictions"] >= 2)')" \
    "True True True" "cache.max_bytes 40k of group small: five 10 KB answers do not all stay"
is "$(call /small/big10000/5)" $n "... the last one is kept"
is "$(call /small/big10000/1)" $((n + 1)) "... the first one, least recently used, is gone"
n=$((n + 1))

alive "before the static module's files"
# --- the static module's files --------------------------------------------------------
hq_curl -o "$T/b" "$(url /s/page.txt)"
is "$(cat "$T/b")" "version one" "static: GET /s/page.txt"
printf 'version two\n' >"$W/page.txt"
get "$(url /s/page.txt)"
is "$(cat "$T/b")" "version one" "... edited: still the kept version (user_invalidates)"
like "$(hdr "$T/h" Age)" '^[0-9]+$' "... from the cache (Age)"
etag=$(hdr "$T/h" ETag)
get -H "If-None-Match: $etag" "$(url /s/page.txt)"
like "$(head -n1 "$T/h")" '^HTTP/1\.1 304' "... a conditional GET: 304 from the entry"
hq_curl -o "$T/b" -H 'Range: bytes=0-6' "$(url /s/page.txt)"
is "$(cat "$T/b")" "version" "... a Range request goes to the module"
ctl delete cache url="$(url /s/page.txt)" >/dev/null
hq_curl -o "$T/b" "$(url /s/page.txt)"
is "$(cat "$T/b")" "version two" "... after delete cache: the new version"
hq_curl -o "$T/b" -H 'Accept-Encoding: gzip' "$(url /s/pre.txt)"
is "$(cat "$T/b")" "GZ-BYTES" "static precompressed: gzip"
hq_curl -o "$T/b" "$(url /s/pre.txt)"
is "$(cat "$T/b")" "plain text" "... without Accept-Encoding: the plain file, not the gzip entry"
printf 'changed\n' >"$W/pre.txt.gz"
hq_curl -o "$T/b" -H 'Accept-Encoding: gzip' "$(url /s/pre.txt)"
is "$(cat "$T/b")" "GZ-BYTES" "... and gzip again from its entry"

alive "before a reload empties"
# --- a reload empties the cache -------------------------------------------------------
is "$(call /c/a)" $((n + 1)) "before a reload: /c/a kept"
is "$(call /c/a)" $((n + 1)) "... and answered from the cache"
n=$((n + 1))
log_mark
reload_httpqd
wait_log 'reload: generation 2' >/dev/null
ok $? "reloaded"
is "$(call /c/a)" $((n + 1)) "after a reload: the module again"
is "$(call /c/a)" $((n + 1)) "... and kept again"

# --- the scavenger ---------------------------------------------------------------------
stop_httpqd
CONFIG2="
server: { workers: 1 }
iplisten: [127.0.0.1]
cache: { scavenger_period: 3 }
url_groups:
  - { name: c, prefixes: [\"http://+:@PORT@/c/\"], queue: counter }
queues:
  - { name: counter, module: @TESTMODDIR@/counter.so }
"
start_httpqd "$CONFIG2" || bail_out "httpqd did not start"
is "$(call /c/a)" 1 "scavenger_period 3: /c/a kept"
like "$(ctl show cachestate)" '1 entry' "... one entry"
end=$(($(date +%s) + 15))
while ! ctl show cachestate | grep -q '0 entries' && [ "$(date +%s)" -le "$end" ]; do sleep 0.2; done
like "$(ctl show cachestate)" '0 entries' "... evicted by the scavenger once unused"
is "$(call /c/a)" 2 "... the module again"

hq_alive "$HQ_PID"
ok $? "httpqd is still alive"
stop_httpqd
done_testing
