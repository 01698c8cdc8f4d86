#!/bin/sh
# 91-notify.t -- systemd notifications over NOTIFY_SOCKET: READY=1 once
# listening, WATCHDOG=1 keep-alives when WATCHDOG_USEC is set, RELOADING=1
# with MONOTONIC_USEC then READY=1 around a reload, "Reload failed" in
# STATUS= when a reload is refused, periodic STATUS= lines, STOPPING=1.
. "${HQ_TESTS:-$(cd "$(dirname "$0")/.." && pwd)}/integration/lib.sh"

hq_mktemp
N=$HQ_MKTEMP
"$HQ_PYTHON" -S "$HQ_TESTS/integration/notify.py" "$N/notify.sock" "$N/notify.log" &
bg_started $!
end=$(($(date +%s) + 5))
until [ -S "$N/notify.sock" ]; do
	[ "$(date +%s)" -gt "$end" ] && bail_out "notify socket not created"
	sleep 0.02
done

# WATCHDOG_PID must be the daemon's own pid: a wrapper exports it and execs.
cat >"$N/wrap.sh" <<WRAP
#!/bin/sh
WATCHDOG_PID=\$\$ WATCHDOG_USEC=300000 NOTIFY_SOCKET="$N/notify.sock" exec "$HTTPQD" "\$@"
WRAP
chmod +x "$N/wrap.sh"
REAL_HTTPQD=$HTTPQD
HTTPQD="$N/wrap.sh"

CONFIG='
server: { workers: 2 }
iplisten: [127.0.0.1]
url_groups:
  - { name: app, prefixes: ["http://+:@PORT@/"], queue: app }
queues:
  - { name: app, module: sample }
'
start_httpqd "$CONFIG" || bail_out "httpqd did not start"
HTTPQD=$REAL_HTTPQD

# wait_notify ERE [SECS]: the number of the first line of notify.log
# matching ERE (after line $NMARK), or nothing after the deadline.
NMARK=0
wait_notify() {
	_end=$(($(date +%s) + ${2:-10}))
	while :; do
		_n=$(awk -v m="$NMARK" -v re="$1" 'NR > m && $0 ~ re { print NR; exit }' "$N/notify.log")
		if [ -n "$_n" ]; then
			echo "$_n"
			return 0
		fi
		[ "$(date +%s)" -gt "$_end" ] && return 1
		sleep 0.05
	done
}
line_at() { sed -n "${1}p" "$N/notify.log"; }

n=$(wait_notify '^READY=1')
ok $? "READY=1 sent once listening"
like "$(line_at "$n")" "MAINPID=$HQ_PID" "  with MAINPID"
like "$(line_at "$n")" 'STATUS=generation 1, [0-9]+ connections?, 0 requests/s, 2 workers' "  and a STATUS= line"

n=$(wait_notify '^WATCHDOG=1$' 3)
ok $? "WATCHDOG=1 keep-alive sent (WATCHDOG_USEC=300000)"
NMARK=$n
n=$(wait_notify '^WATCHDOG=1$' 3)
ok $? "  and repeated from the main loop"

for i in 1 2 3 4 5; do hq_curl -o /dev/null "$(url /)"; done
NMARK=$(wc -l <"$N/notify.log")
reload_httpqd
r=$(wait_notify '^RELOADING=1')
ok $? "SIGHUP: RELOADING=1"
like "$(line_at "$r")" 'MONOTONIC_USEC=[0-9]+' "  with MONOTONIC_USEC"
NMARK=$r
n=$(wait_notify '^READY=1')
ok $? "  then READY=1 after the reload"
like "$(line_at "$n")" 'STATUS=generation 2' "  STATUS= names generation 2"

printf 'url_groups: [ { name: 1 } ]\n' >>"$HQ_DIR/httpq.yaml"
NMARK=$(wc -l <"$N/notify.log")
reload_httpqd
r=$(wait_notify '^RELOADING=1')
ok $? "refused reload: RELOADING=1"
NMARK=$r
n=$(wait_notify '^READY=1')
ok $? "  then READY=1"
like "$(line_at "$n")" 'STATUS=Reload failed: [0-9]+ errors?, keeping generation 2' \
    "  with STATUS=Reload failed"

NMARK=$(wc -l <"$N/notify.log")
n=$(wait_notify '^STATUS=generation 2, [0-9]+ connections?, [0-9]+ requests/s$' 8)
ok $? "a periodic STATUS= line with connections and requests/s"

NMARK=$(wc -l <"$N/notify.log")
kill -TERM "$HQ_PID"
n=$(wait_notify '^STOPPING=1' 5)
ok $? "SIGTERM: STOPPING=1"
like "$(line_at "$n")" 'STATUS=Draining' "  with STATUS=Draining"
hq_wait_gone "$HQ_PID" 10
wait "$HQ_PID"
is "$?" 0 "httpqd exited with status 0"
unlike "$(grep -E 'Sanitizer|runtime error:' "$HQ_LOG" | head -5)" '.' "no sanitizer report in the daemon log"
HQ_PID=

done_testing
