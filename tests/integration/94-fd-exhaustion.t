#!/bin/sh
# 94-fd-exhaustion.t -- out of file descriptors, accept() fails with EMFILE:
# the worker pauses its listeners instead of spinning on them (it once took
# a whole core, and `httpqctl reload` hung), counts the refused accepts in
# `show servicestate`, and serves again once descriptors are free.  At
# start httpqd raises its soft RLIMIT_NOFILE to the hard limit, not beyond
# (as root it could).
. "${HQ_TESTS:-$(cd "$(dirname "$0")/.." && pwd)}/integration/lib.sh"
: "${HTTPQCTL:=$HQ_TESTS/../src/httpqctl}"

command -v prlimit >/dev/null 2>&1 || {
	skip "prlimit (util-linux) is not installed"
	done_testing
}
# httpqd under soft 40 / hard 64 open files (prlimit execs: same pid).
hq_mktemp
W=$HQ_MKTEMP
printf '#!/bin/sh\nexec prlimit --nofile=40:64 "%s" "$@"\n' "$HTTPQD" >"$W/httpqd"
chmod +x "$W/httpqd"
HTTPQD=$W/httpqd

CONFIG='
server: { workers: 1 }
iplisten: [127.0.0.1]
url_groups:
  - { name: app, prefixes: ["http://+:@PORT@/"], queue: q }
queues:
  - { name: q, module: sample }
'
start_httpqd "$CONFIG" || bail_out "httpqd did not start"
T=$HQ_DIR
ctl() { timeout 20 "$HTTPQCTL" -s "$HQ_CTL" "$@"; }

lim=$(awk '/^Max open files/ { print $4, $5 }' "/proc/$HQ_PID/limits")
is "$lim" "64 64" "the soft fd limit is raised to the hard one, not beyond"
like "$(wait_log 'open files' 5)" 'limit 64 \(raised from 40, hard 64\)' \
    "the start log says the fd limit"

# cpu_ticks: user + system time of httpqd, in clock ticks.
cpu_ticks() { sed 's/.*) //' "/proc/$HQ_PID/stat" | awk '{ print $12 + $13 }'; }

# 150 idle connections: far more than 64 descriptors.  The kernel completes
# the handshakes (backlog 511); httpqd runs out while accepting them.
"$HQ_PYTHON" -S - "$HQ_PORT" "$T" <<'PY' &
import os, socket, sys, time
port, d = int(sys.argv[1]), sys.argv[2]
socks = []
for i in range(150):
    s = socket.socket()
    s.connect(("127.0.0.1", port))
    socks.append(s)
open(d + "/connected", "w").close()
end = time.monotonic() + 60
while not os.path.exists(d + "/release") and time.monotonic() < end:
    time.sleep(0.02)
for s in socks:
    s.close()
PY
bg_started $!
log_mark
like "$(wait_log 'accept.*(Too many open files)' 10)" 'Too many open files' \
    "httpqd runs out of descriptors (EMFILE)"
# A control client during the shortage: answered once descriptors are back.
ctl show servicestate >"$T/during" 2>&1 &
ctlpid=$!
bg_started $ctlpid

c0=$(cpu_ticks)
t0=$(hq_now)
sleep 2
c1=$(cpu_ticks)
el=$(elapsed_since "$t0")
tck=$(getconf CLK_TCK)
cpu=$(awk -v a="$c0" -v b="$c1" -v t="$tck" 'BEGIN { printf "%.2f\n", (b - a) / t }')
diag "httpqd used ${cpu} s of CPU in ${el} s while out of descriptors"
num_between "$cpu" 0 0.2 "out of descriptors, httpqd does not spin (CPU ${cpu} s in ${el} s)"
hq_alive "$HQ_PID"
ok $? "httpqd is alive"

touch "$T/release"
# A normal request succeeds again (accepting resumes within a second).
end=$(($(date +%s) + 15))
while :; do
	code=$(hq_curl -o /dev/null -w '%{http_code}' --max-time 2 "$(url /x)" 2>/dev/null)
	[ "$code" = 200 ] && break
	[ "$(date +%s)" -gt "$end" ] && break
	sleep 0.1
done
is "$code" 200 "after the idle connections close, a request is served"

wait "$ctlpid"
is "$?" 0 "the control client waiting during the shortage got its answer"
like "$(cat "$T/during")" 'accepts refused' "  (servicestate)"

out=$(ctl show servicestate)
like "$out" 'fd limit 64 \(hard 64\)' "servicestate shows the fd limit"
like "$out" 'accepts refused [1-9][0-9]* ' "servicestate counts refused accepts"
ctl show servicestate --json >"$T/json"
"$HQ_PYTHON" -S -c '
import json, sys
d = json.load(open(sys.argv[1]))
f, a = d["fd_limit"], d["accepts_refused"]
assert f == {"soft": 64, "hard": 64}, f
assert a["emfile"] > 0 and a["total"] == a["emfile"] + a["enfile"] + a["other"], a
' "$T/json" 2>"$T/json.err"
ok $? "servicestate --json: fd_limit and accepts_refused"
[ -s "$T/json.err" ] && diag "$(cat "$T/json.err")"

out=$(ctl reload 2>&1)
ok $? "httpqctl reload answers"
like "$out" 'generation 2' "  and the reload succeeds"
done_testing
