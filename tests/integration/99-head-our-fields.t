#!/bin/sh
# 99-head-our-fields.t -- a module's Content-Length, Transfer-Encoding and
# Connection fields are read once (their names are compared once, when the
# head is checked) and never copied: httpqd writes the framing and
# Connection itself.  The test module's /ourfields sends 70 fields, with
# those in other spellings at positions 2, 63, 64 and 69, on both sides of
# the 64 fields whose classification the check keeps for the copy.
. "${HQ_TESTS:-$(cd "$(dirname "$0")/.." && pwd)}/integration/lib.sh"

CONFIG="
server: { workers: 1 }
iplisten: [127.0.0.1]
url_groups:
  - { name: streams, prefixes: [\"http://+:@PORT@/\"], queue: q }
queues:
  - { name: q, module: \"$HQ_TESTMODDIR/stream.so\" }
"
start_httpqd "$CONFIG" || bail_out "httpqd did not start"
T=$HQ_DIR

printf 'GET /ourfields HTTP/1.1\r\nHost: a\r\n\r\nGET /ourfields?close HTTP/1.1\r\nHost: a\r\n\r\n' |
    raw --read-until-close --timeout 10 >"$T/out"
ok $? "the second response closes the connection (its module said Connection: close)"
is "$(resp_count "$T/out"):$(resp_rest "$T/out")" 2:0 "two responses, no stray bytes"
# The module's X- fields, but those replaced at 2, 63, 64 and 69 (and at
# 66 in the second response).
all=$(seq 0 69 | grep -vxE '2|63|64|69' | sed 's/^/X-/' | tr '\n' ' ')
for i in 0 1; do
	h=$(resp_headers "$T/out" $i | tr -d '\r')
	names=$(printf '%s\n' "$h" | sed -n 's/^\(X-[0-9]*\):.*/\1/p' | tr '\n' ' ')
	want=$all
	[ $i = 1 ] && want=$(printf '%s' "$all" | sed 's/X-66 //')
	is "$names" "$want" "response $((i + 1)): the module's other fields, in order"
	is "$(printf '%s\n' "$h" | grep -ci '^content-length:')" 1 "response $((i + 1)): one Content-Length"
	is "$(resp_header "$T/out" Content-Length $i)" 5 "response $((i + 1)): the module's length"
	is "$(printf '%s\n' "$h" | grep -ci '^transfer-encoding:')" 0 \
	    "response $((i + 1)): no Transfer-Encoding (the module's at 63 and 69 are not copied)"
	is "$(resp_body "$T/out" $i)" hello "response $((i + 1)): its body"
done
h=$(resp_headers "$T/out" 0 | tr -d '\r')
is "$(printf '%s\n' "$h" | grep -ci '^connection:')" 0 \
    "response 1: no Connection field (the module's keep-alive at 64 is not copied)"
h=$(resp_headers "$T/out" 1 | tr -d '\r')
is "$(printf '%s\n' "$h" | grep -i '^connection:')" "Connection: close" \
    "response 2: httpqd's own Connection: close, once"
done_testing
