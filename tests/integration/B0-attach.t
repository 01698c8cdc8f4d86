#!/bin/sh
# B0-attach.t -- a queue served by attached processes (issue 10): the
# daemon's side of httpq-protocol(7), driven by tests/integration/qclient.py.
# GET end to end; a chunked response with trailers; a file body passed as an
# fd (SCM_RIGHTS); a multi-megabyte POST streamed through the body window
# while the daemon's memory stays bounded; show queue; the role refused for
# an unprivileged user, with the reason; garbage frames -> ERROR and close,
# other handles unharmed.
. "${HQ_TESTS:-$(cd "$(dirname "$0")/.." && pwd)}/integration/lib.sh"

QC="$HQ_TESTS/integration/qclient.py"
CONFIG='
server: { workers: 2 }
iplisten: [127.0.0.1]
url_groups:
  - { name: app, prefixes: ["http://+:@PORT@/app/"], queue: app }
queues:
  - name: app
    attach: { user: root }
    length: 50
'
start_httpqd "$CONFIG" || bail_out "httpqd did not start"
T=$HQ_DIR
chmod 755 "$T"

# wait_file FILE ERE [SECS]: polls FILE for a matching line.
wait_file() {
	_end=$(($(date +%s) + ${3:-10}))
	until grep -Eq -- "$2" "$1" 2>/dev/null; do
		[ "$(date +%s)" -gt "$_end" ] && return 1
		sleep 0.05
	done
}

# client NAME MODE [ARGS]: an attached process in the background, its
# output in $T/NAME.out; waits until it holds the queue.
client() {
	_n=$1
	shift
	"$HQ_PYTHON" -S "$QC" "$HQ_QSOCK" app "$@" >"$T/$_n.out" 2>&1 &
	eval "pid_$_n=\$!"
	bg_started $!
	wait_file "$T/$_n.out" '^(ready|open failed)'
}

vmrss() {
	awk '/^VmRSS:/ { print $2 }' "/proc/$HQ_PID/status"
}

test -S "$HQ_QSOCK"
ok $? "the queue socket exists (-Q)"
is "$(stat -c %a "$HQ_QSOCK")" 666 "the queue socket is mode 0666"

# --- GET -----------------------------------------------------------------
client a serve
is "$(hq_curl "$(url /app/x?y=1)")" "hello /app/x?y=1 from $pid_a" \
    "GET: the attached process answers (PATH, and QUERY with its ?)"
like "$(wait_log 'attach: pid [0-9]+ uid 0 opened queue "app" as worker')" . \
    "the daemon logs the process that opened the queue"

# --- show queue ----------------------------------------------------------
: "${HTTPQCTL:=$HQ_TESTS/../src/httpqctl}"
out=$("$HTTPQCTL" -s "$HQ_CTL" show queue app 2>&1)
like "$out" "attached +pid $pid_a uid 0 worker credits [0-9]+ held 0" \
    "show queue: the attached process, its role and credits"
like "$out" "arrived +1\$" "show queue: the counters count the request"
like "$("$HTTPQCTL" -s "$HQ_CTL" show servicestate 2>&1)" "^app +$pid_a +0 +worker +[0-9]+ +0 " \
    "show servicestate: a table of the attached processes"
like "$("$HTTPQCTL" -s "$HQ_CTL" --json show queue app 2>&1)" "\"attached\":\\[\\{\"pid\":$pid_a,\"uid\":0,\"role\":\"worker\"" \
    "show queue --json: the attached processes"

# --- chunked response with trailers --------------------------------------
kill "$pid_a"
client b chunked
hq_curl -i --raw "$(url /app/c)" >"$T/chunked.txt"
like "$(cat "$T/chunked.txt")" "^Transfer-Encoding: chunked" "chunked: Transfer-Encoding chunked"
like "$(tr -d '\r' <"$T/chunked.txt")" "^chunk2;" "chunked: the third chunk"
like "$(tr -d '\r' <"$T/chunked.txt")" "^X-Sum: done" "chunked: the trailer field"
kill "$pid_b"

# --- RESPONSE_FILE with an fd --------------------------------------------
head -c 3000000 /dev/urandom >"$T/big.bin"
client c file "$T/big.bin"
hq_curl -o "$T/got.bin" "$(url /app/f)"
file_is "$T/got.bin" "$T/big.bin" "RESPONSE_FILE: 3 MB sent from the process's fd"
kill "$pid_c"

# --- POST streamed through the body window, memory bounded --------------
client d echo --hold "$T/go"
head -c 67108864 /dev/zero >"$T/post.bin"
rss0=$(vmrss)
hq_curl --max-time 60 --data-binary @"$T/post.bin" "$(url /app/e)" >"$T/post.out" 2>&1 &
post=$!
bg_started $post
wait_file "$T/d.out" '^holding' 10
ok $? "POST: the process got body and holds its credit back"
max=0
for i in 1 2 3 4 5 6 7 8 9 10; do
	r=$(vmrss)
	[ "$r" -gt "$max" ] && max=$r
	sleep 0.1
done
grown=$(( (max - rss0) / 1024 ))
num_between "$grown" -100 24 \
    "POST: the daemon buffers no more than the window (RSS grew ${grown} MiB of a 64 MiB body)"
kill -0 "$post" 2>/dev/null
ok $? "POST: the client is still sending (blocked by flow control)"
touch "$T/go"
wait "$post"
is "$(cat "$T/post.out")" "67108864 $(sha256sum "$T/post.bin" | cut -d' ' -f1)" \
    "POST: 64 MiB arrived whole, in order, through BODY_CREDIT"
kill "$pid_d"

# --- the role refused, with the reason -----------------------------------
py=$HQ_PYTHON
setpriv --reuid=65534 --regid=65534 --clear-groups "$py" -S -c 1 2>/dev/null || py=/usr/bin/python3
cp "$QC" "$T/qclient.py"
out=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$py" -S "$T/qclient.py" \
    "$HQ_QSOCK" app open --role 1 2>&1)
like "$out" '^result 2 uid 65534 .* may not open queue "app" as worker: attach.user is "root"' \
    "OPEN_QUEUE as nobody: ACCESS_DENIED naming what is missing"
out=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$py" -S "$T/qclient.py" \
    "$HQ_QSOCK" nosuch open --role 1 2>&1)
like "$out" '^result 4 no queue named "nosuch"' "OPEN_QUEUE of an unknown queue: NOT_FOUND"

# --- garbage: ERROR and close, other handles unharmed ---------------------
client e serve
out=$("$HQ_PYTHON" -S "$QC" "$HQ_QSOCK" app garbage 2>&1)
like "$out" '^ERROR frame type 77 unknown' "garbage: the daemon answers ERROR naming the fault"
like "$out" '^closed' "garbage: and closes that connection"
like "$(wait_log 'attach: pid [0-9]+ uid 0: protocol error: frame type 77 unknown')" . \
    "garbage: logged with the pid"
printf '\0\0\0\0' | "$HQ_PYTHON" -S -c '
import socket, sys, struct
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
s.sendall(b"\xff" * 64)
print(s.recv(4096))' "$HQ_QSOCK" >"$T/g2.out" 2>&1
like "$(cat "$T/g2.out")" "over 1048576|HELLO" "garbage before HELLO: ERROR"
is "$(hq_curl "$(url /app/after)")" "hello /app/after from $pid_e" \
    "garbage: the other process still serves"
kill -0 "$HQ_PID"
ok $? "the daemon is alive"

done_testing
