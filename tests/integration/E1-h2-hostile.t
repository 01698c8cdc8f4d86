#!/bin/sh
# E1-h2-hostile.t -- the HTTP/2 defences (issue 12, the seven of the h2
# contract), each against a hostile peer of tests/h2/hostile.py (hand-built
# frames over h2c prior knowledge, one scenario over TLS): rapid reset
# (CVE-2023-44487), CONTINUATION flood, HPACK bomb and oversized dynamic
# table, SETTINGS / PING / empty DATA / WINDOW_UPDATE floods, a zero-window
# stall, a stream per request beyond the queue length (503 on the stream),
# streams beyond max_concurrent_streams (REFUSED_STREAM).  After each: the
# daemon still runs, a normal client was served while the attack went on
# and after it, and the daemon's RSS grew by less than a bound far below
# what the attack would cost without the defence.
. "${HQ_TESTS:-$(cd "$(dirname "$0")/.." && pwd)}/integration/lib.sh"

# python3-h2's hpack (not python -S: the system's site-packages).
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
if ! "$PY" -c 'import hpack' 2>/dev/null; then
	skip "python3-h2 is not installed (apt-get install python3-h2)"
	done_testing
fi
command -v curl >/dev/null 2>&1 && curl -V | grep -q HTTP2 ||
	bail_out "no curl with HTTP/2 (apt-get install curl)"
command -v openssl >/dev/null 2>&1 || bail_out "no openssl CLI (apt-get install openssl)"
HOSTILE="$HQ_TESTS/h2/hostile.py"

# Freed memory goes back to the allocator at once under ASan too (its
# quarantine would otherwise hold up to 256 MiB of churn and blur the RSS
# bounds below).
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=8"
export ASAN_OPTIONS

hq_mktemp
C=$HQ_MKTEMP
tls_ca "$C" && tls_cert "$C" localhost "DNS:localhost,IP:127.0.0.1" ||
	bail_out "openssl could not make the test certificates"
mkdir -p "$C/www" && chmod 755 "$C" "$C/www"
# 8 MiB: ten zero-window streams of it would cost 80 MiB if buffered whole.
head -c 8388608 /dev/zero >"$C/www/big" && printf 'small\n' >"$C/www/small" ||
	bail_out "could not write the static files"

CONFIG="
server: { workers: 2 }
iplisten: [127.0.0.1]
http2: { cleartext: true, max_concurrent_streams: 10, max_header_list_size: 16k }
# 2 MB/s: the zero-window stall (5) of an 8 MiB answer is cut in seconds.
timeouts: { min_send_rate: 2000000 }
url_groups:
  - { name: hello, prefixes: [\"http://+:@PORT@/\", \"https://+:@PORT2@/\"], queue: hello }
  - { name: held, prefixes: [\"http://+:@PORT@/held/\"], queue: held }
  - { name: one, prefixes: [\"http://+:@PORT@/one/\"], queue: one }
  - { name: linger, prefixes: [\"http://+:@PORT@/linger/\"], queue: linger }
  - { name: slow, prefixes: [\"http://+:@PORT@/slow/\", \"https://+:@PORT2@/slow/\"], queue: slow }
  - { name: echo, prefixes: [\"http://+:@PORT@/echo/\"], queue: sample }
  - { name: big, prefixes: [\"http://+:@PORT@/files/\"], queue: files }
queues:
  - { name: hello, module: hello }
  - { name: held, module: \"@TESTMODDIR@/hold.so\", length: 3, options: { hold_ms: 2000 } }
  - { name: one, module: \"@TESTMODDIR@/hold.so\", length: 1, options: { hold_ms: 10000 } }
  # heads at once; an aborted request is finished 3 s after its on_abort
  - { name: linger, module: \"@TESTMODDIR@/hold.so\", length: 100,
      options: { hold_ms: 60000, early_head: 1, linger_ms: 3000 } }
  - { name: slow, module: \"@TESTMODDIR@/hold.so\", length: 1000, options: { hold_ms: 1500 } }
  - { name: sample, module: sample }
  - { name: files, module: static, options: { root: $C/www } }
sslcerts:
  - { ipport: \"0.0.0.0:@PORT2@\", certfile: $C/localhost.crt, keyfile: $C/localhost.key }
"
start_httpqd "$CONFIG" || bail_out "httpqd did not start"
T=$HQ_DIR

rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$HQ_PID/status" 2>/dev/null; }

# hostile SCENARIO ARGS...: runs it against the h2c port; its facts in $T/out.
hostile() {
	"$PY" "$HOSTILE" "$@" --port "$HQ_PORT" >"$T/out" 2>"$T/err"
	_rc=$?
	[ "$_rc" -eq 0 ] || diag "hostile.py $* exited $_rc: $(tail -n 3 "$T/err")"
	diag "$(tr '\n' ' ' <"$T/out")"
	return "$_rc"
}
# fact KEY: the value hostile.py printed for KEY.
fact() { sed -n "s/^$1 //p" "$T/out" | head -n 1; }

# calmed DESC [ERE]: the connection got GOAWAY ENHANCE_YOUR_CALM.  A peer
# still sending when the daemon closes gets a TCP reset, which throws away
# the GOAWAY it had not read yet: then the connection must have been cut
# and the daemon's log (since log_mark) must say why (ERE, by default its
# GOAWAY ENHANCE_YOUR_CALM line).
calmed() {
	_v="$(fact goaway)/$(fact closed)"
	case $_v in
	ENHANCE_YOUR_CALM/*) pass "$1 (GOAWAY ENHANCE_YOUR_CALM)" ;;
	none/eof | none/reset)
		_l=$(wait_log "${2:-GOAWAY ENHANCE_YOUR_CALM}" 5)
		ok $? "$1 (cut: $_v; the log: ${_l#*httpqd: })" ;;
	*) fail "$1 (got $_v)" ;;
	esac
}

# after NAME RSS_BEFORE: the daemon runs, serves a normal h2 and HTTP/1.1
# client, and its RSS grew by less than 32 MiB.
after() {
	hq_alive "$HQ_PID" || bail_out "$1: httpqd died"
	is "$(hq_curl --http2-prior-knowledge -o /dev/null -w '%{http_code} %{http_version}' \
	    "$(url /)")" "200 2" "$1: then an h2c GET is served"
	is "$(hq_curl --http1.1 -o /dev/null -w '%{http_code}' "$(url /)")" 200 \
	    "$1: and an HTTP/1.1 GET"
	_after=$(rss)
	num_between "$((_after - $2))" -1000000 32768 \
	    "$1: RSS grew by less than 32 MiB (${2} -> ${_after} KiB)"
}

# Warm up both workers (and their pools) before the first RSS reading.
for i in 1 2 3 4 5 6; do
	hq_curl --http2-prior-knowledge -o /dev/null "$(url /)"
	hq_curl --http2-prior-knowledge -o /dev/null "$(url /files/small)"
	"$PY" "$HOSTILE" get --port "$HQ_PORT" --path /echo/ >/dev/null 2>&1
done
"$PY" "$HOSTILE" get --port "$HQ_PORT" >"$T/out" 2>&1
is "$(fact status) $(fact goaway)" "200 none" "the peer of these tests gets a plain GET answered"

# --- 1. rapid reset (CVE-2023-44487) ---------------------------------------
# 2000 HEADERS + RST_STREAM pairs in a burst, to a module that would hold
# each request 1.5 s: past 2 x max_concurrent_streams (20) resets in a
# second the connection gets GOAWAY ENHANCE_YOUR_CALM and is closed.
r0=$(rss)
log_mark
hostile rapid-reset --count 2000 --path /slow/
calmed "1 rapid reset: GOAWAY ENHANCE_YOUR_CALM" 'rapid reset.*ENHANCE_YOUR_CALM'
isnt "$(fact closed)" no "1 rapid reset: and the connection is closed"
is "$(fact meanwhile)" 200 "1 rapid reset: another connection is served meanwhile"
after "1 rapid reset" "$r0"
# Over TLS (ALPN h2) the same.
r0=$(rss)
log_mark
"$PY" "$HOSTILE" rapid-reset --count 2000 --path /slow/ --tls --port "$HQ_PORT2" >"$T/out" 2>"$T/err" ||
	diag "$(tail -n 3 "$T/err")"
diag "$(tr '\n' ' ' <"$T/out")"
calmed "1 rapid reset over TLS: GOAWAY ENHANCE_YOUR_CALM" 'rapid reset.*ENHANCE_YOUR_CALM'
is "$(fact meanwhile)" 200 "1 rapid reset over TLS: another connection is served meanwhile"
after "1 rapid reset over TLS" "$r0"
# A reset aborts the request at once: the module's on_abort finishes it and
# its queue slot (length 1, a 10 s hold) is free for the next stream.
hostile reset-one --path /one/?ms=10000 --after /one/?ms=0
is "$(fact after)" 200 "1 a stream reset while held frees its queue slot at once"
num_between "$(fact after_seconds)" 0 3 "  within 3 s of the reset, not after the 10 s hold ($(fact after_seconds) s)"
is "$(fact goaway)" none "1 one reset: no GOAWAY"
# A few resets are normal browsing: no GOAWAY.
hostile rapid-reset --count 5 --path /slow/ --timeout 3
is "$(fact goaway)" none "1 five resets: no GOAWAY"
# A reset stream keeps its place against max_concurrent_streams (10) until
# its module finishes it: ten held streams reset at once, the module lets
# them go 3 s after on_abort; until then a new stream on that connection
# gets RST_STREAM REFUSED_STREAM (no more module work in parallel than the
# limit), then it is served.
hostile reset-held --streams 10 --path /linger/ --after /
is "$(fact heads)" 10 "1 ten streams held by a module slow to let go (heads out)"
is "$(fact during)" "rst REFUSED_STREAM" \
    "  reset: they keep their places until it finishes, a new stream is refused"
is "$(fact meanwhile)" 200 "  another connection is served meanwhile"
is "$(fact after)" 200 "  once the module finished them, a new stream on the connection is served"
num_between "$(fact after_seconds)" 2 20 "  not before (2 s of the module's 3 s; $(fact after_seconds) s)"
is "$(fact goaway)" none "  and no GOAWAY"

# --- TLS peers gone with answers on their way ------------------------------
# Fifty TLS connections each send ten GETs, then close_notify and close at
# once: the daemon's GOAWAY and answers go to a peer that is gone.  (An
# SSL_write after the peer's close_notify gave "0 bytes written", which the
# output loop retried for ever: a worker spun in conn_close, its
# connections dead.)
r0=$(rss)
"$PY" "$HOSTILE" close-notify --tls --port "$HQ_PORT2" --count 50 --path /slow/?ms=10 >"$T/out" 2>"$T/err" ||
	diag "$(tail -n 3 "$T/err")"
diag "$(tr '\n' ' ' <"$T/out")"
is "$(fact meanwhile)" 200 "TLS peers gone (close_notify) with answers on their way: another is served"
after "TLS peers gone with answers on their way" "$r0"

# --- 2. CONTINUATION flood -------------------------------------------------
# One header block of 1000-byte fields, CONTINUATION after CONTINUATION,
# up to 64 MiB: past max_header_list_size (16k) the stream gets 431 or the
# connection a GOAWAY with an error, long before 64 MiB were taken.
r0=$(rss)
log_mark
hostile continuation --path / --bytes 67108864
case "$(fact status)/$(fact goaway)" in
431/*) pass "2 CONTINUATION flood: 431 on the stream" ;;
*) calmed "2 CONTINUATION flood: GOAWAY ENHANCE_YOUR_CALM" 'CONTINUATION.*ENHANCE_YOUR_CALM' ;;
esac
num_between "$(fact sent_kib)" 0 1024 "2 CONTINUATION flood: cut within 1 MiB of header block"
is "$(fact meanwhile)" 200 "2 CONTINUATION flood: another connection is served meanwhile"
after "2 CONTINUATION flood" "$r0"

# --- 3. HPACK bomb -----------------------------------------------------------
# 4000 bytes into the dynamic table once, then 2000 one-byte references to
# it: 6 KiB on the wire, 7.8 MiB decoded.
r0=$(rss)
hostile hpack-bomb --count 2000 --path /
v="$(fact status)/$(fact goaway)"
case $v in
431/* | */PROTOCOL_ERROR | */COMPRESSION_ERROR | */ENHANCE_YOUR_CALM)
	pass "3 HPACK bomb: 431 or GOAWAY COMPRESSION/PROTOCOL error ($v)" ;;
*) fail "3 HPACK bomb: 431 or GOAWAY COMPRESSION/PROTOCOL error (got $v)" ;;
esac
is "$(fact meanwhile)" 200 "3 HPACK bomb: another connection is served meanwhile"
after "3 HPACK bomb" "$r0"
# A dynamic table size update beyond SETTINGS_HEADER_TABLE_SIZE (4096).
hostile hpack-table --path /
is "$(fact goaway)" COMPRESSION_ERROR "3 a 1 MiB dynamic table: GOAWAY COMPRESSION_ERROR"

# --- 4. floods -----------------------------------------------------------------
# Frames that each want an answer (SETTINGS, PING) or none (WINDOW_UPDATE,
# empty DATA), sent without reading through a 4 KiB receive buffer: the
# connection gets GOAWAY ENHANCE_YOUR_CALM (nghttp2's limit of 1000 acks
# queued, or the daemon's count of such frames a second), and the acks do
# not pile up in the daemon.
for kind in settings:200000 ping:300000 window-update:300000 empty-data:300000; do
	k=${kind%%:*}
	r0=$(rss)
	log_mark
	hostile flood --kind "$k" --count "${kind#*:}" --post-path /echo/
	calmed "4 $k flood: GOAWAY ENHANCE_YOUR_CALM" 'ENHANCE_YOUR_CALM|Flooding was detected'
	num_between "$(fact sent)" 0 "$((${kind#*:} - 1))" "4 $k flood: cut before the ${kind#*:} frames were all taken"
	is "$(fact meanwhile)" 200 "4 $k flood: another connection is served meanwhile"
	after "4 $k flood" "$r0"
done

# --- 5. zero-window stall ---------------------------------------------------------
# SETTINGS_INITIAL_WINDOW_SIZE 0 and ten GETs of an 8 MiB file: the heads
# come, no byte of body, and min_send_rate (2 MB/s: 4 s for
# 8 MiB) ends the streams or the connection; meanwhile the daemon holds far
# less than the 80 MiB it was asked for.
r0=$(rss)
hostile zero-window --path /files/big --streams 10 --stall 90 --pid "$HQ_PID"
is "$(fact heads)" 10 "5 zero window: the ten heads are sent (HEADERS are not flow controlled)"
is "$(fact body_bytes)" 0 "5 zero window: no DATA beyond the zero window"
num_between "$(($(fact rss_stalled_kib) - r0))" -1000000 32768 \
    "5 zero window: the stalled streams hold less than 32 MiB ($r0 -> $(fact rss_stalled_kib) KiB)"
v="$(fact streams_cut)/$(fact goaway)/$(fact closed)"
case $v in
10/*) pass "5 zero window: the timers end the stall ($v after $(fact cut_after) s)" ;;
*/none/no) fail "5 zero window: the timers end the stall (got $v after $(fact cut_after) s)" ;;
*) pass "5 zero window: the timers end the stall ($v after $(fact cut_after) s)" ;;
esac
is "$(fact meanwhile)" 200 "5 zero window: another connection is served meanwhile"
after "5 zero window" "$r0"

# --- 6. a stream per request beyond the queue length ------------------------------
# Ten streams at once to a queue of length 3 held 2 s: the three admitted
# get 200, the seven others their own 503 at once, and the connection goes
# on serving (an eleventh stream after them).
r0=$(rss)
hostile queue503 --path /held/ --streams 10 --after /
is "$(fact n200) $(fact n503) $(fact other)" "3 7 none" \
    "6 beyond the queue: 3 streams admitted (200), 7 get 503 on their stream"
is "$(fact after)" 200 "6 beyond the queue: the connection goes on serving"
is "$(fact goaway)/$(fact closed)" "none/no" "6 beyond the queue: no GOAWAY, no close"
after "6 beyond the queue" "$r0"

# --- 7. streams beyond max_concurrent_streams ----------------------------------------
# Fifteen streams at once before the client has acked SETTINGS
# (max_concurrent_streams 10): five get RST_STREAM REFUSED_STREAM, the ten
# are served, and the connection goes on.
r0=$(rss)
hostile refused --path /slow/?ms=1000 --streams 15 --after /
is "$(fact n200) $(fact refused) $(fact other)" "10 5 none" \
    "7 beyond max_concurrent_streams: 10 served, 5 REFUSED_STREAM"
is "$(fact after)" 200 "7 beyond max_concurrent_streams: the connection goes on serving"
is "$(fact goaway)" none "7 beyond max_concurrent_streams: no GOAWAY"
after "7 beyond max_concurrent_streams" "$r0"
# The same once the client has acked SETTINGS: nghttp2 then makes it a
# connection error (GOAWAY PROTOCOL_ERROR, as Apache httpd's mod_http2 does;
# RFC 9113 5.1.2 asks for a stream error), a GOAWAY that the TCP reset of a
# close with the peer's bytes unread may throw away.  Either way no stream
# beyond the ten is served, and other connections are.
r0=$(rss)
hostile refused --after-ack --path /slow/?ms=1000 --streams 15 --after /
case "$(fact refused)/$(fact goaway)/$(fact closed)" in
5/none/no) pass "7 beyond max_concurrent_streams after the SETTINGS ACK: 5 REFUSED_STREAM" ;;
*/PROTOCOL_ERROR/*) pass "7 beyond max_concurrent_streams after the SETTINGS ACK: GOAWAY PROTOCOL_ERROR" ;;
*/none/eof | */none/reset) pass "7 beyond max_concurrent_streams after the SETTINGS ACK: the connection is cut" ;;
*) fail "7 beyond max_concurrent_streams after the SETTINGS ACK: REFUSED_STREAM or GOAWAY PROTOCOL_ERROR (got $(fact refused)/$(fact goaway)/$(fact closed))" ;;
esac
num_between "$(fact n200)" 0 10 "7 after the SETTINGS ACK: no more than 10 streams served"
is "$(fact meanwhile)" 200 "7 after the SETTINGS ACK: another connection is served meanwhile"
after "7 beyond max_concurrent_streams after the SETTINGS ACK" "$r0"

unlike "$(grep -E 'Sanitizer|runtime error:' "$HQ_LOG" | head -5)" '.' "no sanitizer report so far"
done_testing
