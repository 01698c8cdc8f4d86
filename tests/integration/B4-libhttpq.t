#!/bin/sh
# B4-libhttpq.t -- libhttpq (libhttpq(3)) against the real daemon: the
# example contrib/httpq-echo-client serves a YAML attach queue, blocking and
# with its event loop, and a run-time queue with a URL it registers; curl
# sends GETs and streamed (chunked) POSTs.  Then the library as installed:
# only httpq_* exported, nothing but libc needed, and the example built
# from the DESTDIR tree with pkg-config --cflags --libs libhttpq.
. "${HQ_TESTS:-$(cd "$(dirname "$0")/.." && pwd)}/integration/lib.sh"

: "${HQ_BUILDDIR:=$HQ_TESTS/..}"
ECHO="$HQ_BUILDDIR/contrib/httpq-echo-client"
[ -x "$ECHO" ] || bail_out "$ECHO is not built"

CONFIG='
server: { workers: 2 }
iplisten: [127.0.0.1]
url_groups:
  - { name: app, prefixes: ["http://+:@PORT@/app/"], queue: app }
queues:
  - name: app
    attach: { user: root }
'
start_httpqd "$CONFIG" || bail_out "httpqd did not start"
T=$HQ_DIR

# wait_file FILE ERE [SECS]: polls FILE for a matching line.
wait_file() {
	_end=$(($(date +%s) + ${3:-10}))
	until grep -Eq -- "$2" "$1" 2>/dev/null; do
		[ "$(date +%s)" -gt "$_end" ] && return 1
		sleep 0.05
	done
}

# echo_client NAME ARGS...: the example in the background, its output in
# $T/NAME.out, its pid in $pid_NAME; waits for "ready" (or its death).
echo_client() {
	_n=$1
	shift
	"$ECHO" -s "$HQ_QSOCK" "$@" >"$T/$_n.out" 2>&1 &
	eval "pid_$_n=\$!"
	bg_started $!
	wait_file "$T/$_n.out" '^ready|httpq-echo-client:'
}

# A body that is not all one byte, so that order matters.
"$HQ_PYTHON" -S -c '
import sys
b = bytes((i * 7 + i // 251) & 255 for i in range(5 * 1024 * 1024 + 17))
sys.stdout.buffer.write(b)' >"$T/post.bin"
post_sum=$(sha256sum <"$T/post.bin" | cut -d' ' -f1)

# --- blocking model, YAML attach queue --------------------------------------
echo_client a -o app
is "$(cat "$T/a.out")" ready "the example opens the YAML queue app as a worker"
like "$(hq_curl "$(url '/app/x?y=1')")" '^GET /app/x\?y=1 from 127\.0\.0\.1:[0-9]+$' \
    "GET: answered by the process (method, raw URL, remote address)"
like "$(hq_curl -i "$(url /app/h)" | tr -d '\r')" '^Content-Type: text/plain$' \
    "GET: the response's header field"
# Chunked: curl streams the file, the daemon streams it through the body
# window, the process echoes each piece as it comes (chunked back).
got=$(hq_curl --max-time 60 -H 'Transfer-Encoding: chunked' -H 'Content-Type: application/x-test' \
    --data-binary @"$T/post.bin" "$(url /app/post)" | sha256sum | cut -d' ' -f1)
is "$got" "$post_sum" "streamed POST (5 MiB, chunked): echoed whole and in order"
got=$(hq_curl --max-time 60 --data-binary @"$T/post.bin" "$(url /app/post)" | sha256sum | cut -d' ' -f1)
is "$got" "$post_sum" "POST with Content-Length: echoed whole and in order"
kill "$pid_a"
wait "$pid_a" 2>/dev/null

# --- event-loop model: many requests at once ---------------------------------
echo_client b -o app -e
is "$(cat "$T/b.out")" ready "the event-loop example opens the queue"
for i in 1 2 3 4 5 6 7 8; do
	hq_curl --max-time 30 -H 'Transfer-Encoding: chunked' --data-binary @"$T/post.bin" \
	    "$(url /app/ev$i)" >"$T/ev$i.out" 2>&1 &
done
wait_file "$T/ev8.out" . 30
for i in 1 2 3 4 5 6 7; do wait_file "$T/ev$i.out" . 30; done
n=0
for i in 1 2 3 4 5 6 7 8; do
	[ "$(cat "$T/ev$i.out")" = "POST /app/ev$i: 5242897 bytes" ] && n=$((n + 1))
done
is "$n" 8 "event loop: 8 concurrent streamed POSTs each counted whole"
is "$(hq_curl "$(url /app/g)")" "GET /app/g: 0 bytes" "event loop: a GET"
kill "$pid_b"
wait "$pid_b" 2>/dev/null

# --- run-time queue and URL: gone with the process ------------------------------
echo_client c -c rtq "http://+:$HQ_PORT/rt/"
is "$(cat "$T/c.out")" ready "a run-time queue (-c) with a URL registered at run time"
like "$(hq_curl "$(url /rt/a)")" '^GET /rt/a from ' "  GET of the run-time URL"
echo_client d -c rtq2 "http://+:$HQ_PORT/rt/"
like "$(cat "$T/d.out")" "^httpq-echo-client: http://\\+:$HQ_PORT/rt/: .*pid $pid_c " \
    "  the same prefix again: refused, the daemon's message names the owner's pid"
kill "$pid_c"
wait "$pid_c" 2>/dev/null
code=$(hq_curl -o /dev/null -w '%{http_code}' "$(url /rt/a)")
is "$code" 404 "  the process exited: its URL is gone"

# --- the library as installed ---------------------------------------------------
SO="$HQ_BUILDDIR/src/client/.libs/libhttpq.so"
if command -v nm >/dev/null 2>&1; then
	bad=$(nm -D --defined-only "$SO" | awk '$2 ~ /^[TDBRVW]$/ && $3 !~ /^httpq_/ { print $3 }')
	is "$bad" "" "libhttpq.so exports httpq_* symbols only"
	und=$(nm -D --undefined-only "$SO" | awk '{ print $2 }' | grep -v '@GLIBC_' | grep -v '^_')
	is "$und" "" "libhttpq.so needs nothing but libc"
else
	skip "no nm"
	skip "no nm"
fi
like "$(objdump -p "$SO" 2>/dev/null | awk '/SONAME/ { print $2 }')" '^libhttpq\.so\.1$' \
    "soname libhttpq.so.1 (HTTPQ_CLIENT_VERSION_MAJOR)"

if [ -n "$HQ_INST_DIRS" ]; then
	eval "$HQ_INST_DIRS"
	D="$T/dest"
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -C "$HQ_BUILDDIR" install DESTDIR="$D" \
	    >"$T/install.log" 2>&1
	ok $? "make install DESTDIR=..." || diag "$(tail -n 20 "$T/install.log")"
	for f in "$includedir/httpq/client.h" "$libdir/libhttpq.so" "$libdir/libhttpq.so.1" \
	    "$libdir/pkgconfig/libhttpq.pc" "$mandir/man3/libhttpq.3"; do
		[ -e "$D$f" ]
		ok $? "installed: $f"
	done
	mkdir -p "$T/pc"
	sed "s|^prefix=.*|prefix=$D$prefix|" "$D$libdir/pkgconfig/libhttpq.pc" >"$T/pc/libhttpq.pc"
	flags=$(PKG_CONFIG_PATH="$T/pc" pkg-config --cflags --libs libhttpq)
	like "$flags" "-lhttpq" "pkg-config --libs libhttpq"
	# The compiler and flags of the build (a sanitizer build's library
	# needs its runtime in the program too).
	mkvar() { sed -n "s/^$1 = //p" "$HQ_BUILDDIR/Makefile" | head -n 1; }
	# shellcheck disable=SC2086
	$(mkvar CC) $(mkvar CFLAGS) -Wall -Wextra -Werror -o "$T/echo-inst" \
	    "$HQ_SRCDIR/contrib/httpq-echo-client.c" $flags $(mkvar LDFLAGS) >"$T/cc.log" 2>&1
	ok $? "the example builds against the installed header and library" ||
	    diag "$(cat "$T/cc.log")"
	ECHO="$T/echo-inst"
	LD_LIBRARY_PATH="$D$libdir" echo_client e -o app
	is "$(cat "$T/e.out")" ready "the installed build runs"
	like "$(hq_curl "$(url /app/inst)")" '^GET /app/inst from ' "  and serves"
	kill "$pid_e"
	wait "$pid_e" 2>/dev/null
else
	skip "HQ_INST_DIRS unset (run from make check)"
fi

kill -0 "$HQ_PID"
ok $? "the daemon is alive"
done_testing
