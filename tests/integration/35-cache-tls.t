#!/bin/sh
# 35-cache-tls.t -- the response cache over https (issue 13): hits without
# a module call, HEAD and conditionals from the entry, on TLS connections
# (keep-alive and new ones); an http and an https prefix of one URL group
# keep separate entries; the static module's files over TLS.
. "${HQ_TESTS:-$(cd "$(dirname "$0")/.." && pwd)}/integration/lib.sh"

command -v openssl >/dev/null 2>&1 || skip "no openssl CLI"
: "${HTTPQCTL:=$HQ_TESTS/../src/httpqctl}"

hq_mktemp
C=$HQ_MKTEMP
mkdir -p "$C/www"
printf 'over tls\n' >"$C/www/f.txt"
tls_ca "$C" && tls_cert "$C" srv "DNS:localhost,IP:127.0.0.1" ||
	bail_out "openssl could not make the test certificates"

CONFIG="
server: { workers: 2 }
iplisten: [127.0.0.1]
url_groups:
  - { name: c, prefixes: [\"https://+:@PORT@/c/\", \"http://+:@PORT2@/c/\"], queue: counter }
  - { name: s, prefixes: [\"https://+:@PORT@/s/\"], queue: st }
queues:
  - { name: counter, module: @TESTMODDIR@/counter.so }
  - { name: st, module: static, options: { root: $C/www, cache: 60 } }
sslcerts:
  - { ipport: \"0.0.0.0:@PORT@\", certfile: $C/srv.crt, keyfile: $C/srv.key }
"
start_httpqd "$CONFIG" || bail_out "httpqd did not start"
T=$HQ_DIR
S="https://127.0.0.1:$HQ_PORT"

# HTTP/1.1 over TLS (curl would pick h2: the cache over HTTP/2 is in E0-h2.t)
tcurl() { hq_curl --http1.1 --cacert "$C/ca.crt" "$@"; }
hdr() { tr -d '\r' <"$1" | sed -n "s/^$2: //Ip" | head -n1; }
get() { rm -f "$T/h" "$T/b"; tcurl -D "$T/h" -o "$T/b" "$@"; touch "$T/b"; }

get "$S/c/a"
is "$(hdr "$T/h" X-Call)" 1 "https GET /c/a: the module"
get "$S/c/a"
is "$(hdr "$T/h" X-Call)" 1 "... again on a new TLS connection: from the cache"
like "$(hdr "$T/h" Age)" '^[0-9]+$' "... with an Age"
is "$(cat "$T/b")" "call=1 path=/c/a" "... the body"
# three on one keep-alive TLS connection: GET, HEAD, conditional
# (curl --next forgets every option: each names the CA again)
tcurl -o /dev/null -D "$T/k1" "$S/c/a" --next --cacert "$C/ca.crt" -I -o "$T/k2" "$S/c/a" \
    --next --cacert "$C/ca.crt" -D "$T/k3" -o "$T/k3b" -H 'If-None-Match: "etag-/c/a"' \
    "$S/c/a" 2>"$T/k.err"
like "$(cat "$T/k.err")" '^$' "three requests on one TLS connection (curl --next)"
is "$(hdr "$T/k1" X-Call)" 1 "keep-alive TLS: GET from the cache"
like "$(head -n1 "$T/k2")" '^HTTP/1\.1 200' "... HEAD from the GET's entry"
is "$(hdr "$T/k2" Content-Length)" 17 "... with its Content-Length"
like "$(head -n1 "$T/k3")" '^HTTP/1\.1 304' "... If-None-Match: 304 from the entry"
is "$(hq_curl "http://127.0.0.1:$HQ_PORT2/c/count")" 1 "the module was called once"
# the http prefix of the same group: its own entry
is "$(hq_curl -D - -o /dev/null "http://127.0.0.1:$HQ_PORT2/c/a" | tr -d '\r' |
    sed -n 's/^X-Call: //p')" 2 "http prefix of the same group: not the https entry"
get "$S/c/a" -H 'Authorization: Bearer x'
is "$(hdr "$T/h" X-Call)" 3 "https with Authorization: the module"

# static files over TLS, time to live 60 s
get "$S/s/f.txt"
is "$(cat "$T/b")" "over tls" "static over TLS"
printf 'changed!\n' >"$C/www/f.txt"
get "$S/s/f.txt"
is "$(cat "$T/b")" "over tls" "... kept (cache: 60) after an edit"
like "$(hdr "$T/h" Age)" '^[0-9]+$' "... from the cache"
lm=$(hdr "$T/h" Last-Modified)
get "$S/s/f.txt" -H "If-Modified-Since: $lm"
like "$(head -n1 "$T/h")" '^HTTP/1\.1 304' "... If-Modified-Since: 304 from the entry"
out=$("$HTTPQCTL" -s "$HQ_CTL" show cachestate url="$S/s/")
like "$out" "^https://127\.0\.0\.1:$HQ_PORT/s/f\.txt +s +[0-9]+ +[0-9]+ +time_to_live +[0-9]+ s " \
    "show cachestate: the https entry, time to live"
"$HTTPQCTL" -s "$HQ_CTL" delete cache url="$S/s/" recursive=yes >/dev/null
get "$S/s/f.txt"
is "$(cat "$T/b")" "changed!" "... after delete cache: the new file"

hq_alive "$HQ_PID"
ok $? "httpqd is still alive"
stop_httpqd
done_testing
