#!/bin/sh
# D0-request-id.t -- request ids (issue 14): the daemon's numeric id in the
# access log (s-request-id), at the end of HTTPERR lines, and in the
# response header a URL group names (request_id_header); a front proxy's id
# taken from the header a URL group trusts (trust_request_id) when it is
# sane, ignored when it could inject into a log line.
. "${HQ_TESTS:-$(cd "$(dirname "$0")/.." && pwd)}/integration/lib.sh"

CONFIG='
server: { workers: 2, error_log: "@DIR@/httperr.log" }
iplisten: [127.0.0.1]
url_groups:
  - name: app
    prefixes: ["http://+:@PORT@/app/"]
    queue: app
    request_id_header: X-Request-Id
    trust_request_id: X-Front-Id
    access_log: { path: "@DIR@/access.log", fields: [cs-uri-stem, sc-status, s-request-id] }
  - name: plain
    prefixes: ["http://+:@PORT@/plain/"]
    queue: app
    access_log: { path: "@DIR@/access.log", fields: [cs-uri-stem, sc-status, s-request-id] }
  - name: off
    prefixes: ["http://+:@PORT@/off/"]
    request_id_header: X-Request-Id
queues:
  - { name: app, module: sample }
'
start_httpqd "$CONFIG" || bail_out "httpqd did not start"
T=$HQ_DIR

# get PATH [EXTRA-HEADER-LINE]: one request, the answer in $T/r
get() {
	printf 'GET %s HTTP/1.1\r\nHost: h\r\n%bConnection: close\r\n\r\n' "$1" "${2:-}" |
	    raw --read-until-close >"$T/r"
}
# logged PATH: the s-request-id of PATH's access log line (3 s)
logged() {
	_end=$(($(date +%s) + 3))
	until _l=$(grep "^$1 " "$T/access.log" 2>/dev/null) && [ -n "$_l" ]; do
		[ "$(date +%s)" -gt "$_end" ] && break
		sleep 0.05
	done
	printf '%s\n' "$_l" | awk '{ print $3 }'
}

get /app/one
is "$(resp_code "$T/r")" 200 "a request to a group with request_id_header"
id1=$(resp_header "$T/r" X-Request-Id)
like "$id1" '^[0-9]+$' "  answers X-Request-Id with the numeric id ($id1)"
is "$(logged /app/one)" "$id1" "  the access log's s-request-id is the same id"
get /app/two
id2=$(resp_header "$T/r" X-Request-Id)
isnt "$id2" "$id1" "a second request has another id"

get /app/front 'X-Front-Id: 7f3e-proxy:42/ab==\r\n'
is "$(resp_header "$T/r" X-Request-Id)" "7f3e-proxy:42/ab==" \
    "a trusted front proxy's id is echoed"
is "$(logged /app/front)" "7f3e-proxy:42/ab==" "  and logged instead of the numeric id"

get /app/inject 'X-Front-Id: a b"c\r\n'
like "$(resp_header "$T/r" X-Request-Id)" '^[0-9]+$' \
    "an id with a blank and a quote is ignored: the numeric id is echoed"
like "$(logged /app/inject)" '^[0-9]+$' "  and logged"
get /app/long "X-Front-Id: $(repeat a 129)\r\n"
like "$(resp_header "$T/r" X-Request-Id)" '^[0-9]+$' "an id over 128 bytes is ignored"

get /plain/p 'X-Front-Id: front-1\r\n'
is "$(resp_header "$T/r" X-Request-Id)" "" "a group without request_id_header sends none"
like "$(logged /plain/p)" '^[0-9]+$' "  and logs its own id: trust is per URL group"

get /off/x
is "$(resp_code "$T/r")" 503 "an unbound group answers 503"
id3=$(resp_header "$T/r" X-Request-Id)
like "$id3" '^[0-9]+$' "  with its X-Request-Id"
_end=$(($(date +%s) + 3))
until grep -q ' 503 ' "$T/httperr.log" 2>/dev/null || [ "$(date +%s)" -gt "$_end" ]; do
	sleep 0.05
done
l=$(grep ' 503 ' "$T/httperr.log")
is "$(printf '%s\n' "$l" | awk '{ print $11, $13 }')" "Disabled $id3" \
    "  the HTTPERR line keeps http.sys's fields first and ends with the id"
like "$(grep '^#Fields' "$T/httperr.log")" 's-reason s-queuename s-request-id$' \
    "  #Fields: s-request-id last"

done_testing
