#!/bin/sh
# 93-logs.t -- the access logs (W3C with the default and with chosen fields,
# NCSA combined) and the HTTPERR error log, field by field, for a 200, a 404
# from the module, a 503 and a 400; buffered lines reach the file within
# about a second; SIGUSR1 reopens a log that logrotate moved.
. "${HQ_TESTS:-$(cd "$(dirname "$0")/.." && pwd)}/integration/lib.sh"

CONFIG='
server: { workers: 2, error_log: "@DIR@/httperr.log" }
iplisten: [127.0.0.1]
url_groups:
  - name: app
    prefixes: ["http://+:@PORT@/app/"]
    queue: app
    access_log: { path: "@DIR@/access.log" }
  - name: short
    prefixes: ["http://+:@PORT@/short/"]
    queue: app
    access_log:
      path: "@DIR@/short.log"
      fields: [date, time, c-ip, c-port, s-sitename, s-queuename, cs-method, cs-uri, sc-status, "cs(X-Trace)"]
  - name: ncsa
    prefixes: ["http://+:@PORT@/ncsa/"]
    queue: app
    access_log: { path: "@DIR@/ncsa.log", format: ncsa }
  - name: off
    prefixes: ["http://+:@PORT@/off/"]
    access_log: { path: "@DIR@/access.log" }
queues:
  - { name: app, module: sample }
'
start_httpqd "$CONFIG" || bail_out "httpqd did not start"
T=$HQ_DIR

# wait_lines FILE N: polls until FILE has at least N lines not starting
# with '#' (3 s); prints the count.
wait_lines() {
	_end=$(($(date +%s) + 3))
	while :; do
		_c=$(grep -vc '^#' "$1" 2>/dev/null)
		[ "${_c:-0}" -ge "$2" ] && break
		[ "$(date +%s)" -gt "$_end" ] && break
		sleep 0.05
	done
	echo "${_c:-0}"
}
# field LINE N: the Nth space-separated field of LINE.
field() { printf '%s\n' "$1" | awk -v n="$2" '{ print $n }'; }

h=$(head -n 4 "$T/access.log")
like "$h" '^#Software: httpq/[0-9]' "W3C header: #Software: httpq/VERSION"
like "$h" '^#Version: 1\.0$' "  #Version: 1.0"
like "$h" '^#Date: [0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}$' "  #Date:"
is "$(sed -n 4p "$T/access.log")" \
    "#Fields: date time c-ip cs-username s-ip s-port cs-method cs-uri-stem cs-uri-query sc-status sc-bytes cs-bytes time-taken cs-version cs-host cs(User-Agent) cs(Referer)" \
    "  #Fields: the default list"
is "$(grep -c . "$T/ncsa.log")" 0 "NCSA log: no header"
like "$(cat "$T/httperr.log")" '^#Fields: date time c-ip c-port s-ip s-port cs-version cs-method cs-uri sc-status s-reason s-queuename s-request-id$' \
    "error log: the HTTPERR #Fields:"

printf 'GET /app/a%%20b?x=1&y=2 HTTP/1.1\r\nHost: localhost:%s\r\nUser-Agent: test agent/1.0\r\nReferer: http://ref.example/\r\nConnection: close\r\n\r\n' "$HQ_PORT" |
    raw --read-until-close >"$T/r1"
len1=$(wc -c <"$T/r1" | tr -d ' ')
printf 'POST /app/ HTTP/1.0\r\nContent-Length: 5\r\n\r\nhello' | raw --read-until-close >"$T/r2"
printf 'GET /short/q HTTP/1.1\r\nHost: h\r\nX-Trace: abc 123\r\nConnection: close\r\n\r\n' | raw --read-until-close >"$T/r3"
printf 'GET /ncsa/n?"q" HTTP/1.1\r\nHost: h\r\nUser-Agent: a"b\r\nConnection: close\r\n\r\n' | raw --read-until-close >"$T/r4"
printf 'GET /off/ HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n' | raw --read-until-close >"$T/r5"
is "$(resp_code "$T/r5")" 503 "a URL group bound to no queue answers 503"
printf 'GET /app/ HTTP/1.1\r\nHost: bad host\r\nConnection: close\r\n\r\n' | raw --read-until-close >"$T/r6"
is "$(resp_code "$T/r6")" 400 "a malformed Host answers 400"

is "$(wait_lines "$T/access.log" 3)" 3 "access.log: three lines within the flush interval"
l=$(grep -v '^#' "$T/access.log" | grep ' /app/a%20b ')
like "$(field "$l" 1)" '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' "200: date"
like "$(field "$l" 2)" '^[0-9]{2}:[0-9]{2}:[0-9]{2}$' "200: time"
is "$(field "$l" 3)" 127.0.0.1 "200: c-ip"
is "$(field "$l" 4)" - "200: cs-username"
is "$(field "$l" 5)" 127.0.0.1 "200: s-ip"
is "$(field "$l" 6)" "$HQ_PORT" "200: s-port"
is "$(field "$l" 7)" GET "200: cs-method"
is "$(field "$l" 8)" /app/a%20b "200: cs-uri-stem (as sent)"
is "$(field "$l" 9)" 'x=1&y=2' "200: cs-uri-query"
is "$(field "$l" 10)" 200 "200: sc-status"
is "$(field "$l" 11)" "$len1" "200: sc-bytes = every byte of the response"
num_between "$(field "$l" 12)" 100 200 "200: cs-bytes = the request head"
num_between "$(field "$l" 13)" 0 1000 "200: time-taken in ms"
is "$(field "$l" 14)" HTTP/1.1 "200: cs-version"
is "$(field "$l" 15)" "localhost:$HQ_PORT" "200: cs-host"
is "$(field "$l" 16)" 'test+agent/1.0' "200: cs(User-Agent), blanks as +"
is "$(field "$l" 17)" 'http://ref.example/' "200: cs(Referer)"
is "$(printf '%s\n' "$l" | awk '{ print NF }')" 17 "200: 17 fields"

l=$(grep -v '^#' "$T/access.log" | grep ' POST ')
is "$(field "$l" 10) $(field "$l" 12) $(field "$l" 14) $(field "$l" 15) $(field "$l" 16)" \
    "200 47 HTTP/1.0 - -" "POST: status, cs-bytes with the body, HTTP/1.0, no host, no agent"

l=$(grep -v '^#' "$T/access.log" | grep ' /off/ ')
is "$(field "$l" 7) $(field "$l" 8) $(field "$l" 10)" "GET /off/ 503" "503 of a URL group with a log: logged"

is "$(wait_lines "$T/short.log" 1)" 1 "short.log: one line"
l=$(grep -v '^#' "$T/short.log")
is "$(field "$l" 3)" 127.0.0.1 "chosen fields: c-ip"
like "$(field "$l" 4)" '^[0-9]+$' "chosen fields: c-port"
is "$(field "$l" 5) $(field "$l" 6) $(field "$l" 7) $(field "$l" 8) $(field "$l" 9) $(field "$l" 10)" \
    "short app GET /short/q 200 abc+123" "chosen fields: s-sitename s-queuename cs-method cs-uri sc-status cs(X-Trace)"

is "$(wait_lines "$T/ncsa.log" 1)" 1 "ncsa.log: one line"
like "$(cat "$T/ncsa.log")" \
    '^127\.0\.0\.1 - - \[[0-9]{2}/[A-Z][a-z]{2}/[0-9]{4}:[0-9]{2}:[0-9]{2}:[0-9]{2} \+0000\] "GET /ncsa/n\?\\x22q\\x22 HTTP/1\.1" 200 26 "-" "a\\x22b"$' \
    "NCSA combined line, quotes escaped"

is "$(wait_lines "$T/httperr.log" 2)" 2 "httperr.log: two lines (the 503 and the 400)"
l=$(grep -v '^#' "$T/httperr.log" | grep ' 503 ')
like "$(field "$l" 1) $(field "$l" 2)" '^[0-9-]{10} [0-9:]{8}$' "HTTPERR 503: date time"
is "$(field "$l" 3)" 127.0.0.1 "HTTPERR 503: c-ip"
like "$(field "$l" 4)" '^[0-9]+$' "HTTPERR 503: c-port"
is "$(field "$l" 5) $(field "$l" 6)" "127.0.0.1 $HQ_PORT" "HTTPERR 503: s-ip s-port"
is "$(field "$l" 7) $(field "$l" 8) $(field "$l" 9) $(field "$l" 10)" "HTTP/1.1 GET /off/ 503" \
    "HTTPERR 503: cs-version cs-method cs-uri sc-status"
is "$(field "$l" 11) $(field "$l" 12)" "Disabled -" "HTTPERR 503: s-reason s-queuename"
l=$(grep -v '^#' "$T/httperr.log" | grep ' 400 ')
is "$(field "$l" 7) $(field "$l" 8) $(field "$l" 9) $(field "$l" 10) $(field "$l" 11)" \
    "HTTP/1.1 GET /app/ 400 Hostname" "HTTPERR 400: version, method, URI, status, reason Hostname"
unlike "$(grep -v '^#' "$T/access.log" | grep ' 400 ')" '.' "the 400 (no URL group) is not in an access log"

# logrotate: move the file, SIGUSR1, new lines go to a new file.
mv "$T/access.log" "$T/access.log.1"
kill -USR1 "$HQ_PID"
wait_log 'reopened [0-9]+ log files' >/dev/null
ok $? "SIGUSR1: the daemon says it reopened its logs"
[ -f "$T/access.log" ]
ok $? "  a new access.log exists"
like "$(head -n 4 "$T/access.log")" '^#Fields: date time' "  with its W3C header"
hq_curl -o /dev/null "$(url /app/after-rotate)"
is "$(wait_lines "$T/access.log" 1)" 1 "  the next request lands in the new file"
unlike "$(cat "$T/access.log.1")" 'after-rotate' "  not in the moved one"
is "$(grep -vc '^#' "$T/access.log.1")" 3 "  the moved file keeps its three lines"

# Lines still buffered at exit are written.
hq_curl -o /dev/null "$(url /app/at-exit)"
stop_httpqd
like "$(cat "$T/access.log")" 'at-exit' "a line buffered at exit is written"
done_testing
