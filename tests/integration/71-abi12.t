#!/bin/sh
# 71-abi12.t -- module ABI 1.2.  validate() runs at httpqd -t, httpqctl -t,
# start and reload, and its errors name file:line:col and the option (the
# sample module's `unsupported_status: banana` passed -t before); a reload
# refused by validate() keeps the old configuration serving.  Request and
# connection ids, the user-data slot.  A module built against the frozen
# 1.1 header loads and serves unchanged.
. "${HQ_TESTS:-$(cd "$(dirname "$0")/.." && pwd)}/integration/lib.sh"

: "${HTTPQCTL:=$HQ_TESTS/../src/httpqctl}"
hq_mktemp
T=$HQ_MKTEMP
HQ_PORT=$(freeport)

# sample STATUS: a store whose sample queue has unsupported_status: STATUS
# (line 9 of the file: write_config starts with an empty line).
sample() {
	write_config "$1" "
server: { workers: 1 }
iplisten: [127.0.0.1]
url_groups:
  - { name: g, prefixes: [\"http://+:@PORT@/\"], queue: q }
queues:
  - name: q
    module: sample
    options: { unsupported_status: $2 }
"
}

# --- validate() at -t: the bundled sample module ------------------------------
sample "$T/banana.yaml" banana
out=$("$HTTPQD" -t -c "$T/banana.yaml" -M "$HQ_MODDIR" 2>&1)
is "$?" 1 "httpqd -t: sample with unsupported_status: banana exits 1"
like "$out" 'banana\.yaml:9:[0-9]+: queues\[0\]\.options\.unsupported_status: expected 501 or 503, got "banana"' \
    "httpqd -t names file:line:col, the option's key path and what is expected"
diag "$out"
out=$("$HTTPQCTL" -c "$T/banana.yaml" -M "$HQ_MODDIR" -t 2>&1)
is "$?" 1 "httpqctl -t: the same store exits 1"
like "$out" 'banana\.yaml:9:[0-9]+: queues\[0\]\.options\.unsupported_status: expected 501 or 503' \
    "httpqctl -t runs the module's validate() too and names the option"
sample "$T/good.yaml" 503
out=$("$HTTPQD" -t -c "$T/good.yaml" -M "$HQ_MODDIR" 2>&1)
is "$?" 0 "httpqd -t: unsupported_status: 503 is valid"
out=$("$HTTPQCTL" -c "$T/good.yaml" -M "$HQ_MODDIR" -t 2>&1)
is "$?" 0 "httpqctl -t: unsupported_status: 503 is valid"

# and at start: the daemon does not start, and says why the same way
"$HTTPQD" -f -c "$T/banana.yaml" -M "$HQ_MODDIR" -s "$T/ctl.sock" >"$T/start.log" 2>&1 &
pid=$!
bg_started $pid
if hq_wait_gone $pid 10; then
	wait $pid
	isnt "$?" 0 "httpqd -f with unsupported_status: banana exits non-zero"
else
	fail "httpqd -f with unsupported_status: banana exits (still running after 10 s)"
	kill -TERM $pid
	wait $pid
fi
like "$(cat "$T/start.log")" 'queues\[0\]\.options\.unsupported_status: expected 501 or 503' \
    "at start the log names the option"
HQ_BGPIDS=

# --- a 1.2 test module: ids.so ------------------------------------------------
CONFIG='
server: { workers: 2 }
iplisten: [127.0.0.1]
control: { socket: @DIR@/ctl.sock, admin_group: ADMIN }
url_groups:
  - { name: ids, prefixes: ["http://+:@PORT@/ids/"], queue: ids }
  - { name: old, prefixes: ["http://+:@PORT@/old/"], queue: old }
queues:
  - name: ids
    module: @TESTMODDIR@/ids.so
    options:
      status: STATUS
  - { name: old, module: @TESTMODDIR@/abi11.so }
'
ids_config() {
	# The test's own group may reload, root or not.
	printf '%s\n' "$CONFIG" | sed -e "s/STATUS/$1/" -e "s/ADMIN/$(id -gn)/"
}

write_config "$T/ids.yaml" "$(ids_config 99)"
out=$("$HTTPQD" -t -c "$T/ids.yaml" -M "$HQ_MODDIR" 2>&1)
is "$?" 1 "httpqd -t: a 1.2 module refusing its option exits 1"
like "$out" 'ids\.yaml:12:[0-9]+: queues\[0\]\.options\.status: expected a status 200-599, got "99"' \
    "the module's report() names file:line:col and queues[0].options.status"

start_httpqd "$(ids_config 200)" || bail_out "httpqd did not start"

# --- a module built against the 1.1 header ------------------------------------
out=$(hq_curl "$(url /old/)")
minor=$(sed -n 's/^#define HTTPQ_MODULE_ABI_MINOR //p' "$HQ_TESTS/../include/httpq/module.h")
is "$out" "built for ABI 1.1, api minor $minor, tls 0" \
    "the ABI 1.1 module (no .size, no validate) serves, and sees the daemon's API minor"

# --- request and connection ids, user data ------------------------------------
# field NAME BODY: the number after NAME= in BODY
field() {
	printf '%s\n' "$2" | sed -n "s/.*$1=\\([0-9]*\\).*/\\1/p"
}

printf 'GET /ids/a HTTP/1.1\r\nHost: x\r\n\r\nGET /ids/b HTTP/1.1\r\nHost: x\r\n\r\n' |
    raw --responses 2 >"$T/two"
is "$(resp_count "$T/two")" 2 "two requests on one connection: two responses"
b0=$(resp_body "$T/two" 0)
b1=$(resp_body "$T/two" 1)
diag "$b0 / $b1"
like "$b0" 'ud=ok' "user data set in handle() is found again in a later callback"
like "$b1" 'ud=ok' "user data starts NULL for the next request of the connection"
c0=$(field conn "$b0")
c1=$(field conn "$b1")
r0=$(field req "$b0")
r1=$(field req "$b1")
ok "$([ -n "$c0" ] && [ "$c0" != 0 ] && [ "$c0" = "$c1" ]; echo $?)" \
    "both requests have the same, non-zero connection id ($c0, $c1)"
ok "$([ -n "$r0" ] && [ -n "$r1" ] && [ "$r0" != 0 ] && [ "$r1" -gt "$r0" ]; echo $?)" \
    "the second request's id is greater than the first's ($r0 < $r1)"

# 12 connections of two requests each, spread over both workers
: >"$T/reqs"
: >"$T/conns"
printf '%s\n%s\n' "$r0" "$r1" >>"$T/reqs"
echo "$c0" >>"$T/conns"
i=0
while [ $i -lt 12 ]; do
	printf 'GET /ids/%d HTTP/1.1\r\nHost: x\r\n\r\nGET /ids/%d HTTP/1.1\r\nHost: x\r\n\r\n' $i $i |
	    raw --responses 2 >"$T/c$i"
	for k in 0 1; do
		b=$(resp_body "$T/c$i" $k)
		field req "$b" >>"$T/reqs"
		[ $k = 0 ] && field conn "$b" >>"$T/conns"
	done
	i=$((i + 1))
done
is "$(grep -c . "$T/reqs")" 26 "26 request ids collected"
is "$(sort -u "$T/reqs" | grep -c .)" 26 "request ids are unique across connections and workers"
is "$(sort -u "$T/conns" | grep -c .)" 13 "13 connections have 13 different connection ids"
unlike "$(grep -x 0 "$T/reqs" "$T/conns")" '.' "no id is 0"

# --- a reload refused by validate() --------------------------------------------
write_config "$HQ_DIR/httpq.yaml" "$(ids_config banana)"
out=$("$HTTPQCTL" -c "$HQ_DIR/httpq.yaml" -s "$HQ_CTL" reload 2>&1)
is "$?" 1 "httpqctl reload with a bad module option exits 1"
like "$out" 'httpq\.yaml:12:[0-9]+: queues\[0\]\.options\.status: expected a status 200-599, got "banana"' \
    "the daemon's reply names file:line:col and the option"
diag "$out"
like "$out" 'reload refused, keeping generation 1' "the reload is refused"
is "$(hq_curl -o /dev/null -w '%{http_code}' "$(url /ids/)")" 200 \
    "the old configuration keeps serving (status 200)"

log_mark
reload_httpqd
line=$(wait_log 'reload refused')
ok $? "SIGHUP with the bad option: the log says 'reload refused'"
like "$(tail -n +"$((HQ_LOG_MARK + 1))" "$HQ_LOG")" 'queues\[0\]\.options\.status: expected' \
    "the log names the option"
is "$(hq_curl -o /dev/null -w '%{http_code}' "$(url /ids/)")" 200 \
    "still the old configuration"

write_config "$HQ_DIR/httpq.yaml" "$(ids_config 203)"
out=$("$HTTPQCTL" -c "$HQ_DIR/httpq.yaml" -s "$HQ_CTL" reload 2>&1)
is "$?" 0 "a reload with a good option is taken ($out)"
is "$(hq_curl -o /dev/null -w '%{http_code}' "$(url /ids/)")" 203 \
    "the new option applies (status 203)"

stop_httpqd
done_testing
