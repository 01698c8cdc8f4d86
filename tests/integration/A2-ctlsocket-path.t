#!/bin/sh
# A2-ctlsocket-path.t -- the control socket's path replaces only a socket:
# `httpqd -s FILE` once deleted FILE.  A regular file, a symbolic link (to a
# file, or to a socket) or a folder there: httpqd refuses to start, names
# the path, and leaves it as it was.  A stale socket left by a killed
# daemon is still replaced.
. "${HQ_TESTS:-$(cd "$(dirname "$0")/.." && pwd)}/integration/lib.sh"
: "${HTTPQCTL:=$HQ_TESTS/../src/httpqctl}"

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

# refused KIND PATH: httpqd -f -s PATH exits 1 within 10 s, and says why.
refused() {
	timeout 10 "$HTTPQD" -f -c "$T/httpq.yaml" -M "$HQ_MODDIR" -s "$2" \
	    >"$T/out" 2>&1
	is "$?" 1 "-s naming $1: httpqd does not start (status 1)"
	like "$(cat "$T/out")" "control: $2 is $1, not a socket: refusing" \
	    "  and says so, naming the path"
}

printf 'precious data\n' >"$T/file"
refused "a regular file" "$T/file"
is "$(cat "$T/file")" "precious data" "  the file still holds its data"

ln -s "$T/file" "$T/link"
refused "a symbolic link" "$T/link"
[ -L "$T/link" ] && [ "$(cat "$T/file")" = "precious data" ]
ok $? "  the link and its target are untouched"

# A link to the running daemon's socket is not followed either.
ln -s "$HQ_CTL" "$T/link2"
refused "a symbolic link" "$T/link2"
[ -L "$T/link2" ] && [ -S "$HQ_CTL" ]
ok $? "  the link and the socket it names are untouched"

mkdir "$T/dir"
refused "a folder" "$T/dir"
[ -d "$T/dir" ]
ok $? "  the folder is still there"

# A stale socket: the daemon was killed and could not remove its socket.
kill -KILL "$HQ_PID"
wait "$HQ_PID" 2>/dev/null
HQ_PID=
[ -S "$HQ_CTL" ]
ok $? "a killed httpqd leaves its socket behind"
HQ_LOG=$T/httpqd.log
"$HTTPQD" -f -c "$T/httpq.yaml" -M "$HQ_MODDIR" -s "$HQ_CTL" >"$HQ_LOG" 2>&1 &
HQ_PID=$!
like "$(wait_log 'control: listening on' 10)" "$HQ_CTL" "the stale socket is replaced"
out=$(timeout 10 "$HTTPQCTL" -s "$HQ_CTL" show timeout 2>&1)
ok $? "httpqctl talks to the new daemon"
like "$out" 'header_wait' "  (show timeout)"
stop_httpqd
[ ! -e "$HQ_CTL" ]
ok $? "at exit the daemon removes its socket"
done_testing
