#!/bin/sh
# C7-idle-rss.t -- the resident memory of an idle httpqd: started on a
# fixed store (hello and 16 static queues, one worker, no TLS), after a
# few answered GETs, nothing held.  (Before: 7.1 MiB measured here on
# Debian 12, x86-64, kernel 6.18: libsystemd mapped 1.0 MiB with
# libgcrypt, libgpg-error, liblzma, libzstd, liblz4 and libcap, and the
# static module read a MIME table of 96 KiB per queue; 5.8 MiB without
# libsystemd and with tables of 61 KiB, one per queue.  After: 4.8-4.9
# MiB, with one table for all the queues.)
#
# RSS counts the pages of shared libraries the process touched, so it
# depends on the machine's libraries and kernel; the bound has 0.5 MiB of
# margin on the machine above.  control.read_group is root: a group that
# /etc/group lacks would make glibc load the next NSS module of
# nsswitch.conf (libnss_systemd and libm, 0.6 MiB) and measure the
# machine, not httpqd.  Under AddressSanitizer the shadow memory is the
# RSS: the bound is skipped, and says so.
. "${HQ_TESTS:-$(cd "$(dirname "$0")/.." && pwd)}/integration/lib.sh"

command -v curl >/dev/null 2>&1 || bail_out "no curl (apt-get install curl)"

BOUND_KIB=5530   # 5.4 MiB

hq_mktemp
W=$HQ_MKTEMP/www
mkdir -p "$W"
printf 'Hello, world\n' >"$W/hello.txt"

# 14 more static queues, each an instance of the module with its MIME table.
GROUPS='' QUEUES=''
i=1
while [ $i -le 14 ]; do
	GROUPS="$GROUPS$(printf '\n  - { name: s%d, prefixes: ["http://+:@PORT@/s%d/"], queue: s%d }' $i $i $i)"
	QUEUES="$QUEUES$(printf '\n  - { name: s%d, module: static, options: { root: %s } }' $i "$W")"
	i=$((i + 1))
done

CONFIG="
control: { read_group: root }
server: { workers: 1 }
iplisten: [127.0.0.1]
url_groups:
  - { name: hello, prefixes: [\"http://+:@PORT@/\"], queue: hello }
  - { name: cached, prefixes: [\"http://+:@PORT@/cached/\"], queue: cached }
  - { name: files, prefixes: [\"http://+:@PORT@/static/\"], queue: files }
  - { name: nocache, prefixes: [\"http://+:@PORT@/nocache/\"], queue: nocache }
$GROUPS
queues:
  - { name: hello, module: hello }
  - { name: cached, module: hello, options: { cache: user_invalidates } }
  - { name: files, module: static, options: { root: $W, cache: user_invalidates } }
  - { name: nocache, module: static, options: { root: $W } }
$QUEUES
"
start_httpqd "$CONFIG" || bail_out "httpqd did not start"

n=0
for p in / /cached/ /static/hello.txt /nocache/hello.txt /s14/hello.txt; do
	b=$(curl -sS --max-time 10 "http://127.0.0.1:$HQ_PORT$p") && [ "$b" = "Hello, world" ] &&
		n=$((n + 1))
done
is "$n" 5 "five GETs answered with the 13 bytes"
# One more answer on another connection: the worker is done with the others.
curl -sS --max-time 10 -o /dev/null "http://127.0.0.1:$HQ_PORT/"

# smaps_rollup walks the page tables (VmRSS is approximate in a threaded
# process); Rss and Anonymous in KiB.
rss=$(awk '/^Rss:/ { print $2 }' "/proc/$HQ_PID/smaps_rollup")
anon=$(awk '/^Anonymous:/ { print $2 }' "/proc/$HQ_PID/smaps_rollup")
diag "idle RSS $rss KiB, of which anonymous $anon KiB"

libs=$(awk '$6 ~ /\/lib(systemd|gcrypt|gpg-error|lzma|zstd|lz4)\./ { print $6 }' \
    "/proc/$HQ_PID/maps" | sort -u | tr '\n' ' ')
is "$libs" "" "httpqd maps no libsystemd, nor the compression and crypto libraries it pulls in"

if grep -q __asan_init "$HTTPQD" 2>/dev/null; then
	HQ_NTESTS=$((HQ_NTESTS + 1))
	printf 'ok %d # SKIP idle RSS under %s KiB: httpqd is built with AddressSanitizer, whose shadow memory is most of its RSS (%s KiB)\n' \
	    "$HQ_NTESTS" "$BOUND_KIB" "$rss"
else
	[ -n "$rss" ] && [ "$rss" -le "$BOUND_KIB" ]
	ok $? "idle RSS $rss KiB, at most $BOUND_KIB KiB"
fi

hq_alive "$HQ_PID" || fail "httpqd is still running"
stop_httpqd
done_testing
