#!/bin/sh
# A0-httpqctl.t -- httpqctl against a live daemon (as root, as a member of
# the read group, as a stranger), then offline on the files alone.  Bad
# arguments of every command exit 1 or 2 and change nothing on disk.
. "${HQ_TESTS:-$(cd "$(dirname "$0")/.." && pwd)}/integration/lib.sh"

: "${HTTPQCTL:=$HQ_TESTS/../src/httpqctl}"
TESTUSER=httpqtest

CONFIG='
server: { workers: 2 }
iplisten: [127.0.0.1]
control: { socket: @DIR@/ctl.sock, read_group: httpqtest, admin_group: httpqtest-adm }
url_groups:
  - { name: app, prefixes: ["http://+:@PORT@/app/", "http://127.0.0.1:@PORT@/ip/"], queue: q }
  - { name: catchall, prefixes: ["http://*:@PORT@/"] }
queues:
  - { name: q, module: sample, length: 50 }
urlacls:
  - { url: "http://+:@PORT@/", user: root }
'

command -v openssl >/dev/null || bail_out "the openssl command is needed (apt-get install openssl)"
# The read group must exist when httpqd starts: it owns the socket.
if [ "$(id -u)" = 0 ] && ! id "$TESTUSER" >/dev/null 2>&1; then
	useradd -r -U -M -s /usr/sbin/nologin "$TESTUSER" ||
	    bail_out "cannot create the test user $TESTUSER"
fi
start_httpqd "$CONFIG" || bail_out "httpqd did not start"
T=$HQ_DIR
wait_log 'control: listening on' >/dev/null
ok $? "the control socket is announced in the log"

ctl() {
	"$HTTPQCTL" -c "$T/httpq.yaml" -s "$HQ_CTL" -M "$HQ_MODDIR" "$@"
}

# certificates: a good pair, a key of another pair
openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=www.example.com" \
    -addext "subjectAltName=DNS:www.example.com,IP:127.0.0.1" \
    -keyout "$T/a.key" -out "$T/a.pem" >/dev/null 2>&1 &&
openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=other" \
    -keyout "$T/b.key" -out "$T/b.pem" >/dev/null 2>&1
ok $? "test certificates generated with openssl"
FP=$(openssl x509 -in "$T/a.pem" -noout -fingerprint -sha256 | sed 's/.*=//')

# --- show, as root --------------------------------------------------------
for i in 1 2 3; do hq_curl -o /dev/null "$(url /app/)"; done
out=$(ctl show servicestate)
ok $? "show servicestate exits 0"
like "$out" '^URL GROUP +QUEUE +PREFIX' "servicestate: a table of URL groups"
like "$out" "^app +q +http://\\+:$HQ_PORT/app/ +.*httpq\\.yaml:6" "servicestate: each prefix with where it came from"
like "$out" '^q +50 +limited +sample +3 +3 +0 +0 +1$' "servicestate: queue limit, 503 verbosity, module, counters"
like "$out" "^127\\.0\\.0\\.1:$HQ_PORT +0 +[0-9]+ +1 s$" \
    "servicestate: connections open and accepted per listener, and its defer_accept"
like "$out" 'generation 1' "servicestate: the config generation"

# a connection held open shows up on its listener
out=$("$HQ_PYTHON" -S - "$HQ_PORT" "$HTTPQCTL" "$T/httpq.yaml" "$HQ_CTL" <<'PY'
import json, socket, subprocess, sys
port, ctl, store, sock = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
c = socket.create_connection(("127.0.0.1", port))
c.sendall(b"GET /app/ HTTP/1.1\r\nHost: x\r\n\r\n")
c.recv(4096)
st = json.loads(subprocess.check_output([ctl, "-c", store, "-s", sock, "show", "servicestate", "--json"]))
print(st["generation"], st["listeners"][0]["connections"], st["queues"][0]["arrived"],
      st["url_groups"][0]["prefixes"][0]["line"])
PY
)
is "$out" "1 1 4 6" "servicestate --json: valid JSON with generation, live connections, counters, origins"

out=$(ctl show queue q)
like "$out" '^  arrived +4$' "show queue NAME: counters"
like "$out" '^  url group +app$' "show queue NAME: the URL groups bound to it"
ctl show queue nosuch >/dev/null 2>&1
is $? 1 "show queue of an unknown queue exits 1"

out=$(ctl show route "http://localhost:$HQ_PORT/app/%41/../x?q")
like "$out" "prefix +http://\\+:$HQ_PORT/app/" "show route: the prefix a URL reaches"
like "$out" 'strong wildcard' "show route: why (the host class)"
like "$out" 'cooked path +/app/x' "show route: the cooked path"
out=$(ctl show route "http://127.0.0.1:$HQ_PORT/ip/" --json)
like "$out" '"matched":true.*"class":"ip"' "show route --json: an IP-bound prefix"
out=$(ctl show route "http://other:$HQ_PORT/nothing/")
like "$out" '"?prefix"? +http://\*:' "show route: the weak wildcard catches the rest"
out=$(ctl show route "http://x:1/")
like "$out" '400 Bad Request - Invalid Hostname' "show route: no prefix on the port"

# --- changes, as root ------------------------------------------------------
out=$(ctl add urlacl url="http://+:$HQ_PORT/app/" user=root delegate=yes)
ok $? "add urlacl exits 0"
like "$out" 'httpqd reloaded: generation 2' "add urlacl reloads the daemon"
out=$(ctl show urlacl)
like "$out" "^http://\\+:$HQ_PORT/app/ +root +- +listen,delegate +.*conf\\.d/99-httpqctl\\.yaml:[0-9]+$" \
    "show urlacl: the new reservation, from httpqctl's drop-in"
like "$out" "^http://\\+:$HQ_PORT/ +root .*httpq\\.yaml:11$" "show urlacl: the human's reservation with its line"

out=$(ctl add sslcert ipport=0.0.0.0:8443 certfile="$T/a.pem" keyfile="$T/a.key")
ok $? "add sslcert exits 0"
out=$(ctl show sslcert)
like "$out" '^SSL binding 0\.0\.0\.0:8443' "show sslcert: the binding"
like "$out" 'subject +CN=www\.example\.com' "show sslcert: subject"
like "$out" 'SANs +DNS:www\.example\.com, IP:127\.0\.0\.1' "show sslcert: SANs"
like "$out" 'expires +[0-9-]+ [0-9:]+ UTC \(in (29|30) days\)' "show sslcert: expiry"
like "$out" "SHA-256 +$FP" "show sslcert: the SHA-256 fingerprint openssl computes"

out=$(ctl set timeout header_wait=30 idle_connection=off)
ok $? "set timeout exits 0"
out=$(ctl show timeout --json)
like "$out" '"header_wait":30,"idle_connection":"off"' "show timeout: the daemon runs with the new values"
out=$(ctl reload)
like "$out" '^generation 5$' "reload answers the new generation"
out=$(ctl flush logbuffer)
ok $? "flush logbuffer exits 0"
out=$(ctl show urlacl url="http://+:$HQ_PORT/APP/" --json)
like "$out" '^\{"urlacls":\[\{"url":"http://\+:[0-9]+/app/","user":"root","group":null,"listen":true,"delegate":true,"file":".*99-httpqctl.yaml","line":[0-9]+\}\]\}$' \
    "show urlacl url=P --json: only that reservation"
out=$(ctl delete urlacl url="http://+:$HQ_PORT/app/" --json)
ok $? "delete urlacl of httpqctl's own reservation"
like "$out" '^\{"file":".*99-httpqctl\.yaml","reloaded":true,"generation":6,"note":null\}$' \
    "a change with --json: one object saying the reload happened"

# --- store strings in text output: escaped, never a fake status line -------
# A certificate file name with newlines and status-looking text (issue 8).
EVIL="$T/evil
OK generation 99
ERR 1 fake\\.pem"
cp "$T/a.pem" "$EVIL"
ctl add sslcert ipport=0.0.0.0:8444 certfile="$EVIL" keyfile="$T/a.key" >/dev/null &&
	ctl add sslcert ipport=0.0.0.0:8445 certfile="$T/a.pem" keyfile="$T/a.key" >/dev/null
ok $? "add sslcert with a file name holding newlines, then another binding"
out=$(ctl show sslcert)
is $? 0 "show sslcert exits 0"
printf '%s\n' "$out" | grep -qxF "  certfile     $T/evil\\nOK generation 99\\nERR 1 fake\\\\.pem"
ok $? "show sslcert: the file name escaped on its one line (\\n, \\\\)"
unlike "$out" '^(OK|ERR)' "show sslcert: no line looks like a status line"
like "$out" '^SSL binding 0\.0\.0\.0:8445 ' "show sslcert: the binding after it is still listed"
like "$out" '^  defined at .*99-httpqctl\.yaml:[0-9]+$' "show sslcert: the listing is complete"
# httpqctl takes the keys of an SSL binding from the store's key table:
# min_protocol and ocsp_staple were missing from its own list.
ctl add sslcert ipport=0.0.0.0:8446 certfile="$T/a.pem" keyfile="$T/a.key" \
    min_protocol=tls1.3 >/dev/null
ok $? "add sslcert takes min_protocol"
grep -qx '    min_protocol: "tls1.3"' "$T/conf.d/99-httpqctl.yaml"
ok $? "... and writes it to its drop-in"
like "$(ctl show sslcert)" '^SSL binding 0\.0\.0\.0:8446 ' "show sslcert: the binding with min_protocol"
# The protocol itself: one status line, the last, whatever the data hold.
out=$("$HQ_PYTHON" -S - "$HQ_CTL" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(b"show sslcert\nshow servicestate\n")
s.shutdown(socket.SHUT_WR)
data = b""
while True:
    b = s.recv(65536)
    if not b:
        break
    data += b
lines = data.decode("utf-8", "replace").split("\n")
status = [i for i, l in enumerate(lines) if l == "OK" or l.startswith("OK ") or l.startswith("ERR ")]
bad = [l for l in lines if any(ord(c) < 32 and c != "\t" for c in l)]
print(len(status), len(bad), "8445" in "\n".join(lines[:status[0]]) if status else False)
PY
)
is "$out" "2 0 True" "over the socket: one status line per command, no control character, the whole listing before it"

# --- httpqctl -s alone changes the store of the daemon behind the socket ----
DEF=$("$HTTPQCTL" --help | sed -n 's/^  -c file .*(default \(.*\))$/\1/p')
DEFDROP="$(dirname "$DEF")/conf.d/99-httpqctl.yaml"
defbefore=$(sha256sum "$DEFDROP" 2>/dev/null || echo absent)
out=$("$HTTPQCTL" -s "$HQ_CTL" show store --json)
like "$out" "^\\{\"store\":\"$T/httpq\\.yaml\",\"dropin_dir\":\"$T/conf\\.d\"," \
    "show store: the daemon's store and drop-in folder"
out=$("$HTTPQCTL" -s "$HQ_CTL" add urlacl url="http://+:$HQ_PORT/noc/" user=root 2>&1)
ok $? "add urlacl with -s and no -c exits 0"
like "$out" "^written to $T/conf\\.d/99-httpqctl\\.yaml$" "... says it wrote the daemon's drop-in"
like "$out" 'httpqd reloaded: generation' "... and reloaded the daemon"
grep -q "/noc/" "$T/conf.d/99-httpqctl.yaml"
ok $? "the drop-in in the daemon's conf.d holds the reservation"
out=$("$HTTPQCTL" -s "$HQ_CTL" show urlacl)
like "$out" "^http://\\+:$HQ_PORT/noc/ +root " "show urlacl lists it"
is "$(sha256sum "$DEFDROP" 2>/dev/null || echo absent)" "$defbefore" \
    "the compiled-in default store ($DEF) was not written"
hq_mktemp
OTHER=$HQ_MKTEMP
cp "$T/httpq.yaml" "$OTHER/httpq.yaml"
out=$("$HTTPQCTL" -c "$OTHER/httpq.yaml" -s "$HQ_CTL" add urlacl url="http://+:$HQ_PORT/other/" user=root 2>&1)
is $? 1 "-c naming another store than the daemon's: exit 1"
like "$out" "runs the store $T/httpq\\.yaml, not $OTHER/httpq\\.yaml: nothing written" \
    "... and says which store the daemon runs"
test ! -e "$OTHER/conf.d/99-httpqctl.yaml" && ! grep -q "/other/" "$T/conf.d/99-httpqctl.yaml"
ok $? "... nothing written anywhere"

# --- bad arguments of every command: exit 1 or 2, nothing changes ----------
hashes() { (cd "$T" && sha256sum httpq.yaml conf.d/*); }
before=$(hashes)
bad() { # EXPECTED_RC ARGS...
	_want=$1
	shift
	_out=$(ctl "$@" 2>&1)
	_rc=$?
	if [ "$_rc" = "$_want" ]; then
		pass "exit $_want: httpqctl $*"
	else
		fail "exit $_want: httpqctl $*"
		diag "exit $_rc: $_out"
	fi
}
bad 2
bad 2 frobnicate
bad 2 show
bad 2 show cache
bad 2 show cachestate extra
bad 2 show queue
bad 2 show route
bad 2 show servicestate extra
bad 1 show urlacl url=http://+/
bad 2 add
bad 2 add urlacl
bad 2 add urlacl url=http://+:9/ usr=root
bad 2 add urlacl url=http://+:9/ url=http://+:8/ user=root
bad 1 add urlacl url=http://+/ user=root
bad 1 add urlacl url=http://+:9/ user=no_such_user_x
bad 1 add urlacl url=http://+:9/ group=no_such_group_x
bad 1 add urlacl url=http://+:9/ user=root delegate=maybe
bad 1 add urlacl url=http://+:9/
bad 1 add urlacl url="http://+:$HQ_PORT/" user=root
bad 2 delete urlacl
bad 1 delete urlacl url=http://+:9/nothing/
bad 1 delete urlacl url="http://+:$HQ_PORT/"
bad 2 add sslcert certfile="$T/a.pem" keyfile="$T/a.key"
bad 2 add sslcert ipport=0.0.0.0:1 hostnameport=a:1 certfile="$T/a.pem" keyfile="$T/a.key"
bad 2 add sslcert ipport=0.0.0.0:1 certfile="$T/a.pem"
bad 1 add sslcert ipport=1.2.3.4 certfile="$T/a.pem" keyfile="$T/a.key"
bad 1 add sslcert hostnameport="a b:443" certfile="$T/a.pem" keyfile="$T/a.key"
bad 1 add sslcert ipport=0.0.0.0:8443 certfile="$T/a.pem" keyfile="$T/a.key"
bad 1 add sslcert ipport=0.0.0.0:1 certfile="$T/none.pem" keyfile="$T/a.key"
bad 1 add sslcert ipport=0.0.0.0:1 certfile="$T/a.pem" keyfile="$T/b.key"
bad 1 add sslcert ipport=0.0.0.0:1 certfile="$T/a.pem" keyfile="$T/a.key" clientcert=require
bad 1 add sslcert ipport=0.0.0.0:1 certfile="$T/a.pem" keyfile="$T/a.key" clientcert=often
bad 1 add sslcert ipport=0.0.0.0:1 certfile="$T/a.pem" keyfile="$T/a.key" chainfile="$T/httpq.yaml"
bad 2 delete sslcert
bad 1 delete sslcert ipport=9.9.9.9:1
bad 1 delete sslcert ipport=nonsense
bad 2 add iplisten
bad 2 add iplisten address=127.0.0.2
bad 1 add iplisten ipaddress=300.1.1.1
bad 1 add iplisten ipaddress=127.0.0.1
bad 2 delete iplisten
bad 1 delete iplisten ipaddress=127.0.0.1
bad 1 delete iplisten ipaddress=127.0.0.9
bad 2 set
bad 2 set timeout
bad 2 set timeout header_wiat=3
bad 1 set timeout header_wait=0
bad 1 set timeout header_wait=abc
bad 1 set timeout min_send_rate=
bad 2 reload now
bad 2 flush
bad 2 flush caches
bad 1 flush cache recursive=maybe
bad 2 delete cache http://h/
bad 2 -t extra
bad 2 -x
is "$(hashes)" "$before" "after every refused command the store files are byte for byte the same"

out=$(ctl add sslcert ipport=0.0.0.0:1 certfile="$T/a.pem" keyfile="$T/b.key" 2>&1)
like "$out" '99-httpqctl\.yaml:[0-9]+:[0-9]+: sslcerts\[[0-9]+\]\.keyfile: the key in ".*b\.key" does not match' \
    "a key that does not match: FILE:LINE:COL and the key path"
out=$(ctl delete urlacl url="http://+:$HQ_PORT/" 2>&1)
like "$out" "defined in $T/httpq\\.yaml:11" "deleting a human's entry: refused with FILE:LINE"

# --- as a member of the read group, and as a stranger ----------------------
if [ "$(id -u)" != 0 ]; then
	skip "not root: no test user"
else
	is "$(stat -c '%a %G' "$HQ_CTL")" "660 $TESTUSER" "the socket: mode 0660, group control.read_group"
	chmod 711 "$T"
	as_member() {
		setpriv --reuid="$TESTUSER" --regid="$TESTUSER" --clear-groups \
		    "$HTTPQCTL" -c "$T/httpq.yaml" -s "$HQ_CTL" "$@"
	}
	out=$(as_member show servicestate 2>&1)
	ok $? "read group member: show servicestate"
	like "$out" '^URL GROUP' "read group member: gets the table"
	out=$(as_member reload 2>&1)
	is $? 1 "read group member: reload exits 1"
	like "$out" 'permission denied' "read group member: reload is refused"
	like "$(cat "$HQ_LOG")" "permission denied to uid $(id -u "$TESTUSER") pid [0-9]+ for \"reload" \
	    "the refusal is logged with uid and pid"
	# A stranger: the socket mode keeps it out; with the mode opened up,
	# the daemon still refuses (peer credentials).
	out=$(setpriv --reuid="$TESTUSER" --regid=nogroup --clear-groups \
	    "$HTTPQCTL" -s "$HQ_CTL" show servicestate 2>&1)
	is $? 3 "stranger: the socket's mode 0660 keeps it out (exit 3)"
	like "$out" "cannot connect to httpqd at $HQ_CTL: Permission denied" \
	    "stranger: told the real error (EACCES), with the socket"
	out=$(setpriv --reuid="$TESTUSER" --regid=nogroup --clear-groups \
	    "$HTTPQCTL" -c "$T/httpq.yaml" -s "$HQ_CTL" show urlacl 2>&1)
	is $? 3 "stranger: show urlacl exits 3 (the daemon runs: not the files)"
	like "$out" "cannot connect to httpqd at $HQ_CTL: Permission denied" \
	    "stranger: show urlacl names the socket and the error"
	unlike "$out" 'not running' "stranger: never told httpqd is not running"
	out=$(setpriv --reuid="$TESTUSER" --regid=nogroup --clear-groups \
	    "$HTTPQCTL" -s "$HQ_CTL" add urlacl url="http://+:$HQ_PORT/s/" user=root 2>&1)
	is $? 3 "stranger: add urlacl exits 3"
	like "$out" "$HQ_CTL: Permission denied; nothing written" \
	    "stranger: add urlacl says why nothing was written"
	chmod 666 "$HQ_CTL"
	log_mark
	out=$(setpriv --reuid="$TESTUSER" --regid=nogroup --clear-groups \
	    "$HTTPQCTL" -s "$HQ_CTL" show servicestate 2>&1)
	is $? 1 "stranger on an open socket: exit 1"
	like "$out" 'permission denied' "stranger: permission denied"
	line=$(wait_log "permission denied to uid $(id -u "$TESTUSER") pid [0-9]+")
	ok $? "stranger: logged with uid and pid"
	diag "$line"
fi

# --- offline ----------------------------------------------------------------
stop_httpqd
out=$(ctl show urlacl 2>"$T/err")
ok $? "offline: show urlacl exits 0"
like "$(cat "$T/err")" 'httpqd is not running .*shown from the files' "offline: says it read the files"
like "$out" "^http://\\+:$HQ_PORT/ +root" "offline: the reservations from the files"
out=$(ctl show sslcert 2>/dev/null)
ok $? "offline: show sslcert exits 0"
printf '%s\n' "$out" | grep -qxF "  certfile     $T/evil\\nOK generation 99\\nERR 1 fake\\\\.pem"
ok $? "offline: show sslcert escapes the file name too"
ctl show servicestate >/dev/null 2>&1
is $? 3 "offline: show servicestate exits 3 (needs the daemon)"
ctl reload >/dev/null 2>&1
is $? 3 "offline: reload exits 3"
out=$(ctl add iplisten ipaddress=127.0.0.2 2>&1)
ok $? "offline: add iplisten exits 0"
like "$out" 'takes effect when it starts' "offline: says the change waits for the daemon"
like "$(cat "$T/conf.d/99-httpqctl.yaml")" '127\.0\.0\.2' "offline: the drop-in holds the change"
out=$(ctl -t 2>&1)
ok $? "httpqctl -t on the changed store exits 0"
printf 'sslcerts:\n  - ipport: 0.0.0.0:1\n    certfile: %s\n    keyfile: %s\n' "$T/a.pem" "$T/b.key" >"$T/conf.d/50-bad.yaml"
out=$(ctl -t 2>&1)
is $? 1 "httpqctl -t with a key that does not match exits 1"
like "$out" '50-bad\.yaml:4:[0-9]+: sslcerts\[[0-9]+\]\.keyfile: the key' "httpqctl -t names file:line and the key path"
out=$("$HTTPQD" -t -c "$T/httpq.yaml" -M "$HQ_MODDIR" 2>&1)
is $? 1 "httpqd -t with a key that does not match exits 1"
like "$out" '50-bad\.yaml:4:[0-9]+: sslcerts\[[0-9]+\]\.keyfile: the key' "httpqd -t names file:line and the key path"

done_testing
