#!/bin/sh
# 33-static.t -- the bundled static module: Content-Type and length, HEAD,
# index and the /dir -> /dir/ redirect, listing, dotfiles, ranges (one,
# many, If-Range, 416), conditionals (304, 412), precompressed files,
# traversal attempts, symlinks under each policy, a file truncated during
# a download, and validate() at httpqd -t.
. "${HQ_TESTS:-$(cd "$(dirname "$0")/.." && pwd)}/integration/lib.sh"

: "${HTTPQCTL:=$HQ_TESTS/../src/httpqctl}"
hq_mktemp
W=$HQ_MKTEMP/www
mkdir -p "$W/sub" "$W/nodir" "$W/big"
printf 'hello world\n' >"$W/hello.txt"
printf 'old\n' >"$W/old.txt"
printf 'w\n' >"$W/data.weird"
printf 'U\n' >"$W/UPPER.TXT"
touch -d '1999-01-02 03:04:05.000000123 UTC' "$W/old.txt"
printf '<p>page</p>\n' >"$W/page.html"
printf 'sub index\n' >"$W/sub/index.html"
printf 'a\n' >"$W/nodir/a<b>.txt"
printf 'z\n' >"$W/nodir/z.txt"
printf 'm\n' >"$W/nodir/m&\".txt"
printf 's\n' >"$W/nodir/.hidden"
printf 'secret\n' >"$W/.secret"
printf 'plain text\n' >"$W/pre.txt"
printf 'GZ-BYTES\n' >"$W/pre.txt.gz"
printf 'BR-BYTES\n' >"$W/pre.txt.br"
ln -s /etc/passwd "$W/passwd_link"
ln -s hello.txt "$W/same_link"
ln -s /etc "$W/etc_link"
ln -s sub "$W/sub_link"
mkfifo "$W/fifo"
# The link to /etc/passwd must belong to someone else than its target for
# the owner policy to refuse it (as root: give it to nobody).
[ "$(id -u)" = 0 ] && chown -h nobody "$W/passwd_link" "$W/etc_link" 2>/dev/null
truncate -s 64M "$W/big/file.bin"

CONFIG="
server: { workers: 2 }
iplisten: [127.0.0.1]
url_groups:
  - { name: g, prefixes: [\"http://+:@PORT@/\"], queue: q }
  - { name: f, prefixes: [\"http://+:@PORT@/follow/\"], queue: qf }
  - { name: d, prefixes: [\"http://+:@PORT@/deny/\"], queue: qd }
  - { name: t, prefixes: [\"http://+:@PORT@/typed/\"], queue: qt }
queues:
  - { name: q, module: static, options: { root: $W } }
  - name: qf
    module: static
    options: { root: $W, symlinks: follow, listing: true, precompressed: true,
               dotfiles: allow, cache_control: \"max-age=60\" }
  - { name: qd, module: static, options: { root: $W, symlinks: deny } }
  - { name: qt, module: static, options: { root: $W, default_type: text/x-test } }
"
start_httpqd "$CONFIG" || bail_out "httpqd did not start"
T=$HQ_DIR

# hdr FILE NAME: the value of header NAME in a curl -D dump (first match).
hdr() {
	tr -d '\r' <"$1" | sed -n "s/^$2: //Ip" | head -n1
}

# --- plain GET, HEAD ---------------------------------------------------------
hq_curl -D "$T/h" -o "$T/b" "$(url /hello.txt)"
like "$(head -n1 "$T/h")" '^HTTP/1\.1 200' "GET /hello.txt -> 200"
is "$(hdr "$T/h" Content-Type)" "text/plain" "Content-Type from the extension"
# The validators, byte for byte: "inode-size-mtime" in hex with the
# nanoseconds in 9 decimals, and the IMF-fixdate of the mtime.
set -- $(stat -c '%i %s %.9Y' "$W/hello.txt")
is "$(hdr "$T/h" ETag)" "$(printf '"%x-%x-%x%s"' "$1" "$2" "${3%.*}" "${3#*.}")" \
    "ETag is inode-size-mtime"
is "$(hdr "$T/h" Last-Modified)" "$(LC_ALL=C date -u -d "@${3%.*}" '+%a, %d %b %Y %H:%M:%S GMT')" \
    "Last-Modified is the mtime"
# Dates are formatted by hand and the last one kept: another mtime, and
# back to the first.
hq_curl -D "$T/h2" -o /dev/null "$(url /old.txt)"
is "$(hdr "$T/h2" Last-Modified)" "Sat, 02 Jan 1999 03:04:05 GMT" "Last-Modified of another file"
like "$(hdr "$T/h2" ETag)" '^"[0-9a-f]+-4-36[0-9a-f]{6}000000123"$' "... its ETag (nanoseconds in 9 digits)"
hq_curl -D "$T/h2" -o /dev/null "$(url /hello.txt)"
is "$(hdr "$T/h2" Last-Modified)" "$(hdr "$T/h" Last-Modified)" "... and the first file's again"
is "$(hdr "$T/h" Content-Length)" 12 "Content-Length is the file's size"
file_is "$T/b" "$W/hello.txt" "body is the file"
like "$(hdr "$T/h" ETag)" '^"[0-9a-f-]+"$' "strong ETag"
like "$(hdr "$T/h" Last-Modified)" '^[A-Z][a-z]{2}, [0-9]{2} [A-Z][a-z]{2} [0-9]{4} [0-9:]{8} GMT$' \
    "Last-Modified is an IMF-fixdate"
is "$(hdr "$T/h" Accept-Ranges)" bytes "Accept-Ranges: bytes"
is "$(hdr "$T/h" Vary)" "" "no Vary without precompressed"
ETAG=$(hdr "$T/h" ETag)
LM=$(hdr "$T/h" Last-Modified)

hq_curl -D "$T/h" -o /dev/null "$(url /page.html)"
is "$(hdr "$T/h" Content-Type)" "text/html" "page.html is text/html"

printf 'HEAD /hello.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' |
    raw --read-until-close --no-body >"$T/raw.head"
like "$(head -n1 "$T/raw.head")" '^HTTP/1\.1 200' "HEAD -> 200"
is "$(hdr "$T/raw.head" Content-Length)" 12 "HEAD has the GET's Content-Length"
last4=$(tail -c 4 "$T/raw.head" | od -An -c | tr -d ' ')
is "$last4" '\r\n\r\n' "HEAD: no body"

hq_curl -D "$T/h" -o /dev/null -X DELETE "$(url /hello.txt)"
like "$(head -n1 "$T/h")" '^HTTP/1\.1 405' "DELETE -> 405"
is "$(hdr "$T/h" Allow)" "GET, HEAD" "405 names the allowed methods"

# Types on one connection (one worker, which keeps the last extension it
# looked up): the instance's own default type for an unknown extension,
# case-insensitive extensions.
set --
for p in /page.html /hello.txt /page.html /data.weird /typed/data.weird /data.weird \
    /UPPER.TXT /typed/UPPER.TXT; do
	set -- "$@" -o /dev/null "$(url "$p")"
done
is "$(hq_curl -w '%{content_type} ' "$@")" \
    "text/html text/plain text/html application/octet-stream text/x-test application/octet-stream text/plain text/plain " \
    "Content-Type per extension and per instance, one file after the other"

# --- index, redirect, listing, dotfiles ------------------------------------------
is "$(hq_curl "$(url /sub/)")" "sub index" "GET /sub/ -> the index file"
hq_curl -D "$T/h" -o /dev/null "$(url '/sub?x=1&y=2')"
like "$(head -n1 "$T/h")" '^HTTP/1\.1 301' "GET /sub -> 301"
is "$(hdr "$T/h" Location)" "/sub/?x=1&y=2" "the redirect adds the slash and keeps the query"
hq_curl -D "$T/h" -o /dev/null "$(url /follow)"
is "$(hdr "$T/h" Location)" "/follow/" "the prefix's own folder without its slash is redirected"
hq_curl -D "$T/h" -o /dev/null "$(url /hello.txt/)"
like "$(head -n1 "$T/h")" '^HTTP/1\.1 404' "a file with a trailing slash -> 404"

hq_curl -D "$T/h" -o /dev/null "$(url /nodir/)"
like "$(head -n1 "$T/h")" '^HTTP/1\.1 403' "a folder without index, listing off -> 403"
hq_curl -D "$T/h" -o "$T/list" "$(url /follow/nodir/)"
like "$(head -n1 "$T/h")" '^HTTP/1\.1 200' "listing on -> 200"
like "$(hdr "$T/h" Content-Type)" '^text/html' "listing is HTML"
like "$(cat "$T/list")" '>a&lt;b&gt;\.txt<' "listing escapes names"
like "$(cat "$T/list")" 'href="a%3Cb%3E\.txt"' "listing links are percent-encoded"
like "$(cat "$T/list")" '>m&amp;&quot;\.txt<' "listing escapes & and \""
order=$(grep -o '>[amz][^<]*<' "$T/list" | tr -d '\n')
is "$order" '>a&lt;b&gt;.txt<>m&amp;&quot;.txt<>z.txt<' "listing is sorted"
like "$(cat "$T/list")" '\.hidden' "listing shows dotfiles when they are allowed"
# The root folder is the module's own fd: each listing reads it from the
# start (a dup shared its position, and the second listing was empty).
hq_curl -o "$T/list1" "$(url /follow/)"
hq_curl -o "$T/list2" "$(url /follow/)"
like "$(cat "$T/list1")" 'href="hello\.txt"' "listing of root names its files"
is "$(cat "$T/list2")" "$(cat "$T/list1")" "... and again, the same"

hq_curl -D "$T/h" -o /dev/null "$(url /.secret)"
like "$(head -n1 "$T/h")" '^HTTP/1\.1 404' "dotfile, default deny -> 404"
is "$(hq_curl "$(url /follow/.secret)")" "secret" "dotfiles: allow serves it"

# --- ranges ------------------------------------------------------------------------
hq_curl -D "$T/h" -o "$T/b" -H 'Range: bytes=0-4' "$(url /hello.txt)"
like "$(head -n1 "$T/h")" '^HTTP/1\.1 206' "one range -> 206"
is "$(cat "$T/b")" "hello" "one range: its bytes"
is "$(hdr "$T/h" Content-Range)" "bytes 0-4/12" "one range: Content-Range"
is "$(hdr "$T/h" Content-Length)" 5 "one range: Content-Length"
is "$(hq_curl -H 'Range: bytes=-6' "$(url /hello.txt)")" "world" "suffix range"
is "$(hq_curl -H 'Range: bytes=6-' "$(url /hello.txt)")" "world" "open range"

hq_curl -D "$T/h" -o "$T/b" -H 'Range: bytes=0-1,6-7' "$(url /hello.txt)"
like "$(head -n1 "$T/h")" '^HTTP/1\.1 206' "two ranges -> 206"
ctype=$(hdr "$T/h" Content-Type)
like "$ctype" '^multipart/byteranges; boundary=' "two ranges: multipart/byteranges"
bnd=${ctype#*boundary=}
is "$(hdr "$T/h" Content-Length)" "$(wc -c <"$T/b" | tr -d ' ')" "multipart: Content-Length is the body's"
printf '\r\n--%s\r\nContent-Type: text/plain\r\nContent-Range: bytes 0-1/12\r\n\r\nhe\r\n--%s\r\nContent-Type: text/plain\r\nContent-Range: bytes 6-7/12\r\n\r\nwo\r\n--%s--\r\n' \
    "$bnd" "$bnd" "$bnd" >"$T/mp.expected"
file_is "$T/b" "$T/mp.expected" "multipart body: parts with their Content-Range, closing boundary"

hq_curl -D "$T/h" -o /dev/null -H 'Range: bytes=100-200' "$(url /hello.txt)"
like "$(head -n1 "$T/h")" '^HTTP/1\.1 416' "unsatisfiable range -> 416"
is "$(hdr "$T/h" Content-Range)" "bytes */12" "416 names the length"
hq_curl -D "$T/h" -o "$T/b" -H 'Range: bytes=0-0,0-11' "$(url /hello.txt)"
like "$(head -n1 "$T/h")" '^HTTP/1\.1 200' "ranges adding up to more than the file are ignored"
hq_curl -D "$T/h" -o "$T/b" -H 'Range: lines=1-2' "$(url /hello.txt)"
like "$(head -n1 "$T/h")" '^HTTP/1\.1 200' "another range unit is ignored"
hq_curl -D "$T/h" -o /dev/null -I -H 'Range: bytes=0-4' "$(url /hello.txt)"
like "$(head -n1 "$T/h")" '^HTTP/1\.1 200' "HEAD ignores Range"

hq_curl -D "$T/h" -o "$T/b" -H 'Range: bytes=0-4' -H "If-Range: $ETAG" "$(url /hello.txt)"
like "$(head -n1 "$T/h")" '^HTTP/1\.1 206' "If-Range with the current ETag -> 206"
hq_curl -D "$T/h" -o "$T/b" -H 'Range: bytes=0-4' -H 'If-Range: "old"' "$(url /hello.txt)"
like "$(head -n1 "$T/h")" '^HTTP/1\.1 200' "If-Range with another ETag -> 200, whole file"
file_is "$T/b" "$W/hello.txt" "If-Range failed: the whole file"
hq_curl -D "$T/h" -o "$T/b" -H 'Range: bytes=0-4' -H "If-Range: $LM" "$(url /hello.txt)"
like "$(head -n1 "$T/h")" '^HTTP/1\.1 206' "If-Range with the Last-Modified date -> 206"
hq_curl -D "$T/h" -o "$T/b" -H 'Range: bytes=0-4' \
    -H 'If-Range: Sun, 06 Nov 1994 08:49:37 GMT' "$(url /hello.txt)"
like "$(head -n1 "$T/h")" '^HTTP/1\.1 200' "If-Range with an older date -> 200"

# --- conditionals (RFC 9110 13.2.2) ------------------------------------------------
rm -f "$T/b"
hq_curl -D "$T/h" -o "$T/b" -H "If-None-Match: \"x\", $ETAG" "$(url /hello.txt)"
like "$(head -n1 "$T/h")" '^HTTP/1\.1 304' "If-None-Match with the ETag -> 304"
is "$(hdr "$T/h" ETag)" "$ETAG" "304 carries the ETag"
is "$(cat "$T/b" 2>/dev/null)" "" "304 has no body"
hq_curl -D "$T/h" -o /dev/null -H "If-None-Match: W/$ETAG" "$(url /hello.txt)"
like "$(head -n1 "$T/h")" '^HTTP/1\.1 304' "If-None-Match compares weakly"
hq_curl -D "$T/h" -o /dev/null -H "If-Modified-Since: $LM" "$(url /hello.txt)"
like "$(head -n1 "$T/h")" '^HTTP/1\.1 304' "If-Modified-Since the Last-Modified date -> 304"
hq_curl -D "$T/h" -o /dev/null -H 'If-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT' "$(url /hello.txt)"
like "$(head -n1 "$T/h")" '^HTTP/1\.1 200' "If-Modified-Since an older date -> 200"
hq_curl -D "$T/h" -o /dev/null -H 'If-None-Match: "other"' -H "If-Modified-Since: $LM" "$(url /hello.txt)"
like "$(head -n1 "$T/h")" '^HTTP/1\.1 200' "If-None-Match wins over If-Modified-Since"
hq_curl -D "$T/h" -o /dev/null -H 'If-Match: "other"' "$(url /hello.txt)"
like "$(head -n1 "$T/h")" '^HTTP/1\.1 412' "If-Match with another ETag -> 412"
hq_curl -D "$T/h" -o /dev/null -H "If-Match: W/$ETAG" "$(url /hello.txt)"
like "$(head -n1 "$T/h")" '^HTTP/1\.1 412' "If-Match compares strongly: a weak tag -> 412"
hq_curl -D "$T/h" -o /dev/null -H "If-Match: $ETAG" "$(url /hello.txt)"
like "$(head -n1 "$T/h")" '^HTTP/1\.1 200' "If-Match with the ETag -> 200"
hq_curl -D "$T/h" -o /dev/null -H 'If-Unmodified-Since: Sun, 06 Nov 1994 08:49:37 GMT' "$(url /hello.txt)"
like "$(head -n1 "$T/h")" '^HTTP/1\.1 412' "If-Unmodified-Since an older date -> 412"
hq_curl -D "$T/h" -o /dev/null -H "If-Match: $ETAG" \
    -H 'If-Unmodified-Since: Sun, 06 Nov 1994 08:49:37 GMT' "$(url /hello.txt)"
like "$(head -n1 "$T/h")" '^HTTP/1\.1 200' "If-Match wins over If-Unmodified-Since"
hq_curl -D "$T/h" -o /dev/null -H 'If-Match: "other"' -H "If-None-Match: $ETAG" "$(url /hello.txt)"
like "$(head -n1 "$T/h")" '^HTTP/1\.1 412' "If-Match is evaluated before If-None-Match"

# --- precompressed ------------------------------------------------------------------
hq_curl -D "$T/h" -o "$T/b" -H 'Accept-Encoding: gzip' "$(url /follow/pre.txt)"
is "$(cat "$T/b")" "GZ-BYTES" "Accept-Encoding: gzip -> pre.txt.gz"
is "$(hdr "$T/h" Content-Encoding)" gzip "Content-Encoding: gzip"
is "$(hdr "$T/h" Content-Type)" "text/plain" "the type of pre.txt, not of .gz"
is "$(hdr "$T/h" Vary)" "Accept-Encoding" "Vary: Accept-Encoding"
is "$(hdr "$T/h" Cache-Control)" "max-age=60" "cache_control is sent"
hq_curl -D "$T/h" -o "$T/b" -H 'Accept-Encoding: gzip, br' "$(url /follow/pre.txt)"
is "$(cat "$T/b")" "BR-BYTES" "br preferred when both are accepted"
is "$(hdr "$T/h" Content-Encoding)" br "Content-Encoding: br"
hq_curl -D "$T/h" -o "$T/b" "$(url /follow/pre.txt)"
is "$(cat "$T/b")" "plain text" "no Accept-Encoding -> the plain file"
is "$(hdr "$T/h" Content-Encoding)" "" "no Content-Encoding"
is "$(hdr "$T/h" Vary)" "Accept-Encoding" "Vary even for the plain file"
is "$(hq_curl -H 'Accept-Encoding: gzip;q=0, br;q=0' "$(url /follow/pre.txt)")" "plain text" \
    "q=0 refuses a coding"
is "$(hq_curl -H 'Accept-Encoding: gzip' "$(url /pre.txt)")" "plain text" \
    "precompressed off -> the plain file"

# --- traversal ------------------------------------------------------------------------
for p in '/../etc/passwd' '/%2e%2e/%2e%2e/etc/passwd' '/sub/..%2f..%2f..%2fetc/passwd' \
    '/hello.txt%00' '/%00/../etc/passwd' '/follow/../../etc/passwd' '/sub/%2e%2e%5c..%5cetc/passwd'; do
	printf 'GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' "$p" |
	    raw --read-until-close >"$T/trav"
	code=$(resp_code "$T/trav")
	case $code in 400 | 403 | 404) r=0 ;; *) r=1 ;; esac
	ok $r "traversal $p refused ($code)"
	grep -q 'root:' "$T/trav"
	ok $((!$?)) "traversal $p: no /etc/passwd"
done

# --- symlinks -----------------------------------------------------------------------
hq_curl -D "$T/h" -o "$T/b" "$(url /passwd_link)"
like "$(head -n1 "$T/h")" '^HTTP/1\.1 403' "symlinks: owner -> a link owned by another user is refused"
is "$(hq_curl "$(url /same_link)")" "hello world" "symlinks: owner -> a link with its target's owner is followed"
hq_curl -D "$T/h" -o "$T/b" "$(url /follow/passwd_link)"
like "$(head -n1 "$T/h")" '^HTTP/1\.1 200' "symlinks: follow -> the link is followed"
grep -q 'root:' "$T/b"
ok $? "symlinks: follow serves the target"
hq_curl -D "$T/h" -o /dev/null "$(url /deny/passwd_link)"
like "$(head -n1 "$T/h")" '^HTTP/1\.1 403' "symlinks: deny -> the link to /etc/passwd is refused"
hq_curl -D "$T/h" -o /dev/null "$(url /deny/same_link)"
like "$(head -n1 "$T/h")" '^HTTP/1\.1 403' "symlinks: deny -> even a link inside root is refused"
is "$(hq_curl "$(url /deny/hello.txt)")" "hello world" "symlinks: deny serves plain files"
# A link in the middle of the path: checked component by component.
hq_curl -D "$T/h" -o "$T/b" "$(url /etc_link/passwd)"
like "$(head -n1 "$T/h")" '^HTTP/1\.1 403' "symlinks: owner -> a folder link to /etc is refused"
hq_curl -D "$T/h" -o "$T/b" "$(url /deny/etc_link/passwd)"
like "$(head -n1 "$T/h")" '^HTTP/1\.1 403' "symlinks: deny -> a folder link to /etc is refused"
hq_curl -D "$T/h" -o "$T/b" "$(url /follow/etc_link/passwd)"
like "$(head -n1 "$T/h")" '^HTTP/1\.1 200' "symlinks: follow -> a folder link is followed"
is "$(hq_curl "$(url /sub_link/index.html)")" "sub index" "symlinks: owner -> a folder link inside root is followed"
hq_curl -D "$T/h" -o /dev/null "$(url /deny/sub_link/index.html)"
like "$(head -n1 "$T/h")" '^HTTP/1\.1 403' "symlinks: deny -> a folder link inside root is refused"
# A FIFO is neither a file nor a folder: refused, and opening it does not
# block the worker.
hq_curl -D "$T/h" -o /dev/null "$(url /fifo)"
like "$(head -n1 "$T/h")" '^HTTP/1\.1 403' "a FIFO under root -> 403, no hang"

# --- a file truncated during a download ----------------------------------------------
curl --noproxy '*' -sS --max-time 60 --limit-rate 2M -o "$T/big.out" "$(url /big/file.bin)" \
    2>"$T/big.err" &
CURL=$!
bg_started $CURL
deadline=$(($(date +%s) + 20))
while [ "$(stat -c %s "$T/big.out" 2>/dev/null || echo 0)" -lt 200000 ] &&
    [ "$(date +%s)" -lt $deadline ]; do
	sleep 0.05
done
truncate -s 100000 "$W/big/file.bin"
wait $CURL
rc=$?
is "$rc" 18 "truncated during the download: curl reports a partial transfer"
num_between "$(stat -c %s "$T/big.out")" 200000 67108863 "the body stopped short of the announced length"
hq_alive "$HQ_PID"
ok $? "the daemon is alive"
is "$(hq_curl "$(url /hello.txt)")" "hello world" "and still serves"
hq_curl -D "$T/h" -o "$T/b" "$(url /big/file.bin)"
is "$(hdr "$T/h" Content-Length)" 100000 "the new length is served afterwards"

# --- validate() at httpqd -t -----------------------------------------------------------
printf 'x\n' >"$HQ_MKTEMP/afile"
check() {
	write_config "$HQ_MKTEMP/t.yaml" "
server: { workers: 1 }
iplisten: [127.0.0.1]
url_groups:
  - { name: g, prefixes: [\"http://+:@PORT@/\"], queue: q }
queues:
  - name: q
    module: static
    options: { $1 }
"
	"$HTTPQD" -t -c "$HQ_MKTEMP/t.yaml" -M "$HQ_MODDIR" 2>&1
}
out=$(check "index: index.html")
is "$?" 1 "httpqd -t: no root -> exit 1"
like "$out" 'queues\[0\]\.options\.root: required' "a missing root is named"
out=$(check "root: $HQ_MKTEMP/afile")
like "$out" 'queues\[0\]\.options\.root: .* is not a directory' "a root that is a file is named"
out=$(check "root: $HQ_MKTEMP/nothere")
like "$out" 'queues\[0\]\.options\.root: .*No such file' "a missing folder is named"
out=$(check "root: $W, symlinks: banana, listing: maybe")
like "$out" 'options\.symlinks: expected follow, owner or deny, got "banana"' "a bad symlinks value is named"
like "$out" 'options\.listing: expected true or false, got "maybe"' "every bad option is reported"
out=$(check "root: $W, precompressed: yes, dotfiles: deny")
is "$?" 0 "httpqd -t: good options pass"
out=$("$HTTPQCTL" -c "$HQ_MKTEMP/t.yaml" -M "$HQ_MODDIR" -t 2>&1)
is "$?" 0 "httpqctl -t: good options pass too"

hq_alive "$HQ_PID"
ok $? "daemon alive at the end"
done_testing
