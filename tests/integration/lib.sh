# lib.sh -- sourced by every tests/integration/*.t script (POSIX sh).
#
# TAP output, one daemon per script started from a YAML body, raw HTTP
# through rawhttp.py.  Nothing here sleeps a fixed time to wait for the
# server: every wait polls with a deadline.
#
# Environment (exported by `make check`, see Makefile.am):
#   HTTPQD         the daemon binary
#   HQ_MODDIR      bundled modules (sample.so, hello.so)
#   HQ_TESTMODDIR  test modules (hold.so, badabi.so)
#   HQ_TESTS       the tests/ source folder
#
# After start_httpqd:
#   HQ_DIR   the daemon's temporary folder (httpq.yaml, httpqd.log); tests
#            put their own scratch files there too
#   HQ_PORT  the loopback port that replaced @PORT@ (HQ_PORT2 for @PORT2@)
#   HQ_PID   the daemon's process id
#   HQ_LOG   the daemon's log (stdout and stderr)
#   HQ_CTL   the daemon's control socket ($HQ_DIR/ctl.sock, given with -s)
#   HQ_QSOCK the daemon's queue socket ($HQ_DIR/queue.sock, given with -Q)

: "${HQ_TESTS:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${HTTPQD:=$HQ_TESTS/../src/httpqd}"
: "${HQ_MODDIR:=$HQ_TESTS/../src/modules/.libs}"
: "${HQ_TESTMODDIR:=$HQ_TESTS/modules/.libs}"
export HQ_TESTS HTTPQD HQ_MODDIR HQ_TESTMODDIR
PYTHONDONTWRITEBYTECODE=1
export PYTHONDONTWRITEBYTECODE
HQ_RAWHTTP="$HQ_TESTS/integration/rawhttp.py"
# The interpreter itself, not a version-manager shim (pyenv's costs 100 ms a
# call); -S skips site-packages: the helpers use the standard library only.
HQ_PYTHON=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null)
[ -x "$HQ_PYTHON" ] || HQ_PYTHON=python3
pyhelper() {
	"$HQ_PYTHON" -S "$HQ_RAWHTTP" "$@"
}

HQ_NTESTS=0
HQ_NFAIL=0
HQ_PID=
HQ_DIR=
HQ_PORT=
HQ_PORT2=
HQ_LOG=
HQ_LOG_MARK=0
HQ_BGPIDS=
HQ_TMPDIRS=

# --- TAP -----------------------------------------------------------------

# diag LINE...: each argument on its own "# " line.
diag() {
	for _l in "$@"; do printf '%s\n' "$_l"; done | sed 's/^/# /'
}

# ok STATUS DESC: passes when STATUS is 0 (`test ...; ok $? "desc"`).
ok() {
	HQ_NTESTS=$((HQ_NTESTS + 1))
	if [ "$1" -eq 0 ] 2>/dev/null; then
		printf 'ok %d - %s\n' "$HQ_NTESTS" "$2"
		return 0
	fi
	HQ_NFAIL=$((HQ_NFAIL + 1))
	printf 'not ok %d - %s\n' "$HQ_NTESTS" "$2"
	return 1
}

pass() { ok 0 "$1"; }
fail() { ok 1 "$1"; }

# is GOT EXPECTED DESC
is() {
	if [ "$1" = "$2" ]; then
		ok 0 "$3"
		return 0
	fi
	ok 1 "$3"
	diag "got:      '$1'" "expected: '$2'"
	return 1
}

# isnt GOT UNEXPECTED DESC
isnt() {
	if [ "$1" != "$2" ]; then
		ok 0 "$3"
		return 0
	fi
	ok 1 "$3"
	diag "got: '$1' (should differ)"
	return 1
}

# like GOT ERE DESC: some line of GOT matches the extended regex.
like() {
	if printf '%s\n' "$1" | grep -Eq -- "$2"; then
		ok 0 "$3"
		return 0
	fi
	ok 1 "$3"
	diag "got: $(printf '%s' "$1" | head -c 2000)" "expected to match: $2"
	return 1
}

# unlike GOT ERE DESC: no line of GOT matches.
unlike() {
	if printf '%s\n' "$1" | grep -Eq -- "$2"; then
		ok 1 "$3"
		diag "got: $(printf '%s' "$1" | head -c 2000)" "expected not to match: $2"
		return 1
	fi
	ok 0 "$3"
	return 0
}

# file_is FILE1 FILE2 DESC: byte-for-byte equal.
file_is() {
	if cmp -s "$1" "$2"; then
		ok 0 "$3"
		return 0
	fi
	ok 1 "$3"
	diag "got:      $(od -c "$1" | head -n 4)" \
	    "expected: $(od -c "$2" | head -n 4)" \
	    "(sizes $(wc -c <"$1") and $(wc -c <"$2"))"
	return 1
}

# num_between VALUE MIN MAX DESC (decimals allowed)
num_between() {
	if awk -v v="$1" -v lo="$2" -v hi="$3" \
	    'BEGIN { exit !(v != "" && v + 0 >= lo + 0 && v + 0 <= hi + 0) }'; then
		ok 0 "$4"
		return 0
	fi
	ok 1 "$4"
	diag "got: '$1', expected between $2 and $3"
	return 1
}

# skip REASON: a test point that could not run.  Under CI (CI set) that is a
# failure: what a test needs is installed by README's test command.
skip() {
	if [ -n "${CI:-}" ]; then
		ok 1 "skipped under CI: $1"
		return
	fi
	HQ_NTESTS=$((HQ_NTESTS + 1))
	printf 'ok %d # SKIP %s\n' "$HQ_NTESTS" "$1"
}

bail_out() {
	printf 'Bail out! %s\n' "$*"
	hq_dump_log
	exit 1
}

# relay_checks OUT MIN: a helper client's "ok DESC" / "not ok DESC" lines
# in OUT become test points here; fewer than MIN of them fails (the client
# stopped early), showing OUT.
relay_checks() {
	_n=0
	_lines=$(printf '%s\n' "$1" | grep -E '^(ok|not) ')
	while IFS= read -r _line; do
		[ -n "$_line" ] || continue
		_n=$((_n + 1))
		case $_line in
		ok\ *) pass "${_line#ok }" ;;
		*) fail "${_line#not }" ;;
		esac
	done <<EOF_RELAY
$_lines
EOF_RELAY
	[ "$_n" -ge "$2" ] || { fail "the client ran every check ($_n of $2)"; diag "$1"; }
}

done_testing() {
	if [ -n "$HQ_PID" ]; then
		stop_httpqd
	fi
	[ "$HQ_NFAIL" -gt 0 ] && hq_dump_log
	printf '1..%d\n' "$HQ_NTESTS"
	[ "$HQ_NFAIL" -eq 0 ] && exit 0
	exit 1
}

hq_dump_log() {
	if [ -n "$HQ_LOG" ] && [ -s "$HQ_LOG" ]; then
		diag "--- $HQ_LOG (last 60 lines)"
		tail -n 60 "$HQ_LOG" | sed 's/^/# /'
	fi
}

# --- cleanup: only what this script started -----------------------------

hq_cleanup() {
	[ -z "$HQ_WATCHDOG" ] || kill -TERM "$HQ_WATCHDOG" 2>/dev/null
	for p in $HQ_BGPIDS; do
		kill "$p" 2>/dev/null
	done
	if [ -n "$HQ_PID" ] && hq_alive "$HQ_PID"; then
		kill -TERM "$HQ_PID" 2>/dev/null
		hq_wait_gone "$HQ_PID" 5 || kill -KILL "$HQ_PID" 2>/dev/null
	fi
	for d in $HQ_TMPDIRS; do
		case "$d" in /*) rm -rf "$d" ;; esac
	done
}
trap 'hq_cleanup' EXIT
trap 'hq_cleanup; trap - EXIT; exit 130' INT
trap 'hq_cleanup; trap - EXIT; exit 143' TERM
trap 'hq_cleanup; trap - EXIT; exit 129' HUP
trap 'hq_cleanup; trap - EXIT; exit 141' PIPE

# The watchdog: a script still running after HQ_TEST_TIMEOUT seconds
# (default 1200) has hung (a client waiting for an answer that will never
# come): everything it started is killed, then the script gets SIGTERM, so
# that it fails (exit 143) instead of stalling `make check`.  It is a
# separate sh so that it knows its own pid; its output goes nowhere, so
# that the TAP pipe closes when the script ends.
HQ_WATCHDOG_SH='
	sleep "$2" & s=$!
	trap "kill $s 2>/dev/null; exit 0" TERM
	wait "$s" || exit 0
	kids() { for k in $(cat /proc/"$1"/task/*/children 2>/dev/null); do echo "$k"; kids "$k"; done; }
	for p in $(kids "$1"); do
		[ "$p" = "$$" ] || [ "$p" = "$s" ] || kill -KILL "$p" 2>/dev/null
	done
	kill -TERM "$1"'
HQ_WATCHDOG=
sh -c "$HQ_WATCHDOG_SH" hq-watchdog "$$" "${HQ_TEST_TIMEOUT:-1200}" </dev/null >/dev/null 2>&1 &
HQ_WATCHDOG=$!

# bg_started PID: remembers a background helper for the cleanup trap.
bg_started() {
	HQ_BGPIDS="$HQ_BGPIDS $1"
}

# --- processes ----------------------------------------------------------

# hq_alive PID: true while PID runs (a zombie counts as gone).
hq_alive() {
	[ -r "/proc/$1/stat" ] || return 1
	# field 3 after "(comm)" is the state
	case "$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1)" in
	Z | X | '') return 1 ;;
	esac
	return 0
}

# hq_wait_gone PID SECS: polls until PID is gone; false on timeout.
hq_wait_gone() {
	_end=$(($(date +%s) + $2))
	while hq_alive "$1"; do
		[ "$(date +%s)" -gt "$_end" ] && return 1
		sleep 0.02
	done
	return 0
}

hq_now() {
	date +%s.%N
}

# elapsed_since T0: seconds since T0 (from hq_now), 3 decimals.
elapsed_since() {
	awk -v a="$1" -v b="$(hq_now)" 'BEGIN { printf "%.3f\n", b - a }'
}

# hq_mktemp: a new folder in $HQ_MKTEMP, removed by the cleanup trap.  (Not
# for $(...): a subshell could not register it.)
hq_mktemp() {
	HQ_MKTEMP=$(mktemp -d "${TMPDIR:-/tmp}/httpq-test.XXXXXX") || bail_out "mktemp failed"
	HQ_TMPDIRS="$HQ_TMPDIRS $HQ_MKTEMP"
}

freeport() {
	pyhelper freeport
}

# write_config FILE BODY: BODY with @PORT@, @PORT2@, @DIR@, @TESTMODDIR@ and
# @MODDIR@ replaced.
write_config() {
	printf '%s\n' "$2" | sed -e "s|@PORT@|$HQ_PORT|g" -e "s|@PORT2@|$HQ_PORT2|g" \
	    -e "s|@DIR@|$HQ_DIR|g" -e "s|@TESTMODDIR@|$HQ_TESTMODDIR|g" \
	    -e "s|@MODDIR@|$HQ_MODDIR|g" >"$1"
}

# start_httpqd CONFIG_BODY: a fresh folder, httpq.yaml from the body, the
# daemon in the foreground (-f) in the background; returns once the port
# accepts connections (10 s deadline).  Emits one TAP line.
start_httpqd() {
	[ -n "$HQ_PID" ] && stop_httpqd
	[ -x "$HTTPQD" ] || bail_out "HTTPQD=$HTTPQD is not an executable"
	hq_mktemp
	HQ_DIR=$HQ_MKTEMP
	HQ_PORT=$(freeport)
	HQ_PORT2=$(freeport)
	while [ "$HQ_PORT2" = "$HQ_PORT" ]; do HQ_PORT2=$(freeport); done
	HQ_LOG="$HQ_DIR/httpqd.log"
	HQ_LOG_MARK=0
	write_config "$HQ_DIR/httpq.yaml" "$1"
	# Each daemon has its own control socket, never the system's.
	HQ_CTL="$HQ_DIR/ctl.sock"
	# and its own queue socket (httpq-protocol(7)), for attached processes
	HQ_QSOCK="$HQ_DIR/queue.sock"
	"$HTTPQD" -f -c "$HQ_DIR/httpq.yaml" -M "$HQ_MODDIR" -s "$HQ_CTL" -Q "$HQ_QSOCK" \
	    >"$HQ_LOG" 2>&1 &
	HQ_PID=$!
	pyhelper waitport "$HQ_PORT" "$HQ_PID" 10
	_rc=$?
	case $_rc in
	0) ok 0 "httpqd started (pid $HQ_PID, port $HQ_PORT)" ;;
	1)
		wait "$HQ_PID"
		_st=$?
		ok 1 "httpqd started"
		diag "httpqd exited with status $_st before listening"
		hq_dump_log
		HQ_PID=
		return 1
		;;
	*)
		ok 1 "httpqd started"
		diag "port $HQ_PORT not accepting connections after 10 s"
		hq_dump_log
		return 1
		;;
	esac
	return 0
}

# stop_httpqd: SIGTERM, up to 10 s to exit; one TAP line saying whether it
# exited with status 0.
stop_httpqd() {
	[ -n "$HQ_PID" ] || return 0
	kill -TERM "$HQ_PID" 2>/dev/null
	if hq_wait_gone "$HQ_PID" 10; then
		wait "$HQ_PID"
		_st=$?
		is "$_st" 0 "httpqd exited with status 0 after SIGTERM"
		# Under --enable-sanitizers a report (leak, overflow, UB) is a failure.
		unlike "$(grep -E 'Sanitizer|runtime error:' "$HQ_DIR/httpqd.log" | head -5)" \
		    '.' "no sanitizer report in the daemon log"
	else
		ok 1 "httpqd exited within 10 s of SIGTERM"
		kill -KILL "$HQ_PID" 2>/dev/null
		wait "$HQ_PID" 2>/dev/null
	fi
	HQ_PID=
}

reload_httpqd() {
	kill -HUP "$HQ_PID"
}

# log_mark: later wait_log calls only look at lines written after this.
log_mark() {
	HQ_LOG_MARK=$(wc -l <"$HQ_LOG" | tr -d ' ')
}

# wait_log ERE [SECS]: polls the log (after the mark) for a matching line;
# prints it.  False after the deadline (default 10 s).
wait_log() {
	_end=$(($(date +%s) + ${2:-10}))
	while :; do
		_line=$(tail -n +"$((HQ_LOG_MARK + 1))" "$HQ_LOG" | grep -E -m1 -- "$1")
		if [ -n "$_line" ]; then
			printf '%s\n' "$_line"
			return 0
		fi
		[ "$(date +%s)" -gt "$_end" ] && return 1
		hq_alive "$HQ_PID" || {
			# one last look: the line may come with the exit
			tail -n +"$((HQ_LOG_MARK + 1))" "$HQ_LOG" | grep -E -m1 -- "$1"
			return $?
		}
		sleep 0.05
	done
}

# --- HTTP ----------------------------------------------------------------

# raw [rawhttp options] < bytes: sends the exact bytes to 127.0.0.1:$HQ_PORT
# and prints what comes back (see rawhttp.py for options and exit codes).
raw() {
	pyhelper 127.0.0.1 "$HQ_PORT" "$@"
}

# raw_port PORT [options] < bytes
raw_port() {
	_p=$1
	shift
	pyhelper 127.0.0.1 "$_p" "$@"
}

# Response accessors over a file written by raw; INDEX counts final
# responses from 0.  Add --no-body right after FILE for answers to HEAD.
resp_count() { pyhelper parse "$1" ${2:+"$2"} count; }
resp_rest() { pyhelper parse "$1" ${2:+"$2"} rest; }
resp_status() { pyhelper parse "$1" status "${2:-0}"; }
resp_code() { resp_status "$@" | cut -d' ' -f2; }
resp_header() { pyhelper parse "$1" header "$2" "${3:-0}"; }
resp_headers() { pyhelper parse "$1" headers "${2:-0}"; }
resp_body() { pyhelper parse "$1" body "${2:-0}"; }

# url PATH: http://127.0.0.1:$HQ_PORT/PATH
url() {
	printf 'http://127.0.0.1:%s%s\n' "$HQ_PORT" "$1"
}

# hq_curl ARGS: curl with short timeouts, never a proxy.
hq_curl() {
	curl --noproxy '*' -sS --max-time 15 "$@"
}

# repeat CHAR N: prints CHAR N times.
repeat() {
	head -c "$2" /dev/zero | tr '\0' "$1"
}

# --- strace --------------------------------------------------------------

# need_strace: the test needs strace attached to httpqd; skips it (which
# fails under CI=true) when strace is missing or may not trace here.
need_strace() {
	command -v strace >/dev/null 2>&1 || {
		skip "strace is not installed"
		done_testing
	}
	strace -f -qq -o /dev/null true 2>/dev/null || {
		skip "strace may not trace here (ptrace not allowed)"
		done_testing
	}
}

# trace_start FILE STRACE-OPTION...: strace on httpqd ($HQ_PID) into FILE
# with those options (e.g. -e trace=read), once every thread is traced.
hq_tracer=
hq_traced() {
	for f in /proc/"$HQ_PID"/task/*/status; do
		grep -q '^TracerPid:[[:space:]]*[1-9]' "$f" 2>/dev/null || return 1
	done
	return 0
}
trace_start() {
	local out=$1 end
	shift
	strace -f -qq -o "$out" "$@" -p "$HQ_PID" 2>"$HQ_DIR/strace.err" &
	hq_tracer=$!
	bg_started $hq_tracer
	end=$(($(date +%s) + 10))
	while ! hq_traced && [ "$(date +%s)" -le "$end" ] && kill -0 "$hq_tracer" 2>/dev/null; do
		sleep 0.02
	done
	hq_traced && return 0
	skip "strace could not attach to httpqd: $(tail -n 1 "$HQ_DIR/strace.err")"
	trace_stop
	done_testing
	exit 0
}

# trace_stop: strace detached, once no thread has a tracer (it has written
# everything).
trace_stop() {
	local end
	kill "$hq_tracer" 2>/dev/null
	wait "$hq_tracer" 2>/dev/null
	end=$(($(date +%s) + 10))
	while [ "$(date +%s)" -le "$end" ]; do
		grep -q '^TracerPid:[[:space:]]*[1-9]' /proc/"$HQ_PID"/task/*/status 2>/dev/null ||
			break
		sleep 0.02
	done
}

# trace_calls NAME FILE: how many NAME() calls (a grep pattern) FILE, written
# by trace_start, records.
trace_calls() { grep -c "^[0-9]* *$1(" "$2"; }

# --- TLS -----------------------------------------------------------------

# tls_ca DIR [NAME]: a throwaway CA, DIR/NAME.crt and DIR/NAME.key (default
# NAME ca), EC P-256 so that it takes milliseconds.
tls_ca() {
	openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$1/${2:-ca}.key" -out "$1/${2:-ca}.crt" -subj "/CN=httpq test ${2:-ca}" \
	    -days 2 -addext basicConstraints=critical,CA:TRUE \
	    -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
}

# tls_cert DIR NAME [SAN [CA]]: DIR/NAME.crt and DIR/NAME.key (mode 600)
# signed by DIR/CA (default ca), subject CN=NAME, subjectAltName SAN
# (default DNS:NAME).
tls_cert() {
	_ca=${4:-ca}
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$1/$2.key" -out "$1/$2.csr" -subj "/CN=$2" \
	    -addext "subjectAltName=${3:-DNS:$2}" 2>/dev/null &&
	openssl x509 -req -in "$1/$2.csr" -CA "$1/$_ca.crt" -CAkey "$1/$_ca.key" \
	    -CAcreateserial -days 2 -copy_extensions copy -out "$1/$2.crt" 2>/dev/null &&
	chmod 600 "$1/$2.key"
}

# tls_subject HOST [PORT] [s_client options]: the subject CN of the
# certificate served to SNI name HOST ("-" for none) on 127.0.0.1:PORT.
tls_subject() {
	_h=$1
	_p=${2:-$HQ_PORT}
	shift
	[ $# -gt 0 ] && shift
	if [ "$_h" = - ]; then set -- -noservername "$@"; else set -- -servername "$_h" "$@"; fi
	openssl s_client -connect "127.0.0.1:$_p" "$@" </dev/null 2>/dev/null |
	    openssl x509 -noout -subject 2>/dev/null | sed 's/.*CN *= *//'
}
