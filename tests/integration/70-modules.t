#!/bin/sh
# 70-modules.t -- module loading: a module built for another ABI major is
# refused naming the file and both versions; a missing module is named;
# good modules by name (module path) and by path load.
. "${HQ_TESTS:-$(cd "$(dirname "$0")/.." && pwd)}/integration/lib.sh"

hq_mktemp
T=$HQ_MKTEMP
HQ_PORT=$(freeport)

# conf FILE MODULE: a store with one queue using MODULE.
conf() {
	write_config "$1" "
server: { workers: 1 }
iplisten: [127.0.0.1]
url_groups:
  - { name: g, prefixes: [\"http://+:@PORT@/\"], queue: q }
queues:
  - { name: q, module: \"$2\" }
"
}

# --- wrong ABI ---------------------------------------------------------------
conf "$T/badabi.yaml" "$HQ_TESTMODDIR/badabi.so"
out=$("$HTTPQD" -t -c "$T/badabi.yaml" -M "$HQ_MODDIR" 2>&1)
is "$?" 1 "httpqd -t with a wrong-ABI module exits 1"
like "$out" 'badabi\.so' "the message names the module file"
like "$out" '99\.0' "the message names the module's ABI (99.0)"
like "$out" "[^0-9.]1\.$(sed -n 's/^#define HTTPQ_MODULE_ABI_MINOR //p' "$HQ_TESTS/../include/httpq/module.h")([^0-9]|$)" "the message names the daemon's ABI (1.minor)"
like "$out" 'badabi\.yaml:7:[0-9]+: queues\[0\]\.module: ' \
    "the message points at the queue's module key (file:line:col: queues[0].module)"
diag "$out"

# the daemon refuses to start with it, without listening
"$HTTPQD" -f -c "$T/badabi.yaml" -M "$HQ_MODDIR" >"$T/start.log" 2>&1 &
pid=$!
bg_started $pid
if hq_wait_gone $pid 10; then
	wait $pid
	isnt "$?" 0 "httpqd -f with a wrong-ABI module exits non-zero"
else
	fail "httpqd -f with a wrong-ABI module exits (still running after 10 s)"
	kill -TERM $pid
	wait $pid
fi
like "$(cat "$T/start.log")" 'badabi\.so' "its log names the module file"
HQ_BGPIDS=

# --- missing module: by path and by name --------------------------------------
conf "$T/nofile.yaml" "$T/no/such/module.so"
out=$("$HTTPQD" -t -c "$T/nofile.yaml" -M "$HQ_MODDIR" 2>&1)
is "$?" 1 "httpqd -t with a module path that does not exist exits 1"
like "$out" 'no/such/module\.so' "the message names the missing path"
like "$out" 'nofile\.yaml:7:[0-9]+: queues\[0\]\.module: ' \
    "the message points at the queue's module key (file:line:col: queues[0].module)"
diag "$out"

conf "$T/noname.yaml" "nosuchmodule"
out=$("$HTTPQD" -t -c "$T/noname.yaml" -M "$HQ_MODDIR" 2>&1)
is "$?" 1 "httpqd -t with an unknown module name exits 1"
like "$out" 'nosuchmodule' "the message names the module"
diag "$out"

# --- good modules ---------------------------------------------------------------
conf "$T/byname.yaml" "sample"
out=$("$HTTPQD" -t -c "$T/byname.yaml" -M "$HQ_MODDIR" 2>&1)
is "$?" 0 "a bundled module by name (looked up in -M) validates"
conf "$T/bypath.yaml" "$HQ_TESTMODDIR/hold.so"
out=$("$HTTPQD" -t -c "$T/bypath.yaml" -M "$HQ_MODDIR" 2>&1)
is "$?" 0 "a module by path validates"

# --- a reload to a wrong-ABI module is refused; the old module keeps serving ----
start_httpqd "
server: { workers: 1 }
iplisten: [127.0.0.1]
url_groups:
  - { name: g, prefixes: [\"http://+:@PORT@/\"], queue: q }
queues:
  - { name: q, module: hello }
" || bail_out "httpqd did not start"
is "$(hq_curl -o /dev/null -w '%{http_code}' "$(url /)")" 200 "hello module answers"
log_mark
conf "$HQ_DIR/httpq.yaml" "$HQ_TESTMODDIR/badabi.so"
reload_httpqd
line=$(wait_log 'reload refused')
ok $? "reload to a wrong-ABI module: 'reload refused'"
like "$(tail -n +"$((HQ_LOG_MARK + 1))" "$HQ_LOG")" 'badabi\.so' "the refusal names the module"
is "$(hq_curl -o /dev/null -w '%{http_code}' "$(url /)")" 200 "the old module still answers"

done_testing
