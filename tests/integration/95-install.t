#!/bin/sh
# 95-install.t -- `make install DESTDIR=...` puts every file where httpqd(8)
# says, keeps an existing httpq.yaml, and the out-of-tree module template
# (contrib/module-template) builds against that tree with pkg-config and
# is loaded and served by httpqd.
. "${HQ_TESTS:-$(cd "$(dirname "$0")/.." && pwd)}/integration/lib.sh"

[ -n "$HQ_BUILDDIR" ] && [ -n "$HQ_INST_DIRS" ] || {
	skip "needs HQ_BUILDDIR and HQ_INST_DIRS (run from make check)"
	done_testing
}
eval "$HQ_INST_DIRS"
hq_mktemp
W=$HQ_MKTEMP
D="$W/dest"
# A sub-make of make check: no jobserver of the parent.
imake() { env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make "$@"; }

imake -C "$HQ_BUILDDIR" install DESTDIR="$D" >"$W/install.log" 2>&1
ok $? "make install DESTDIR=... succeeds" || diag "$(tail -n 20 "$W/install.log")"

check_file() { # PATH DESC
	[ -f "$D$1" ]
	ok $? "$2: $1"
}
[ -x "$D$sbindir/httpqd" ]
ok $? "httpqd in sbin: $sbindir/httpqd"
check_file "$moddir/sample.so" "bundled module in the module folder"
check_file "$moddir/hello.so" "bundled module in the module folder"
check_file "$moddir/static.so" "bundled static module in the module folder"
unlike "$(ls "$D$moddir")" '\.la$' "  no libtool archives beside the modules"
check_file "$includedir/httpq/module.h" "the module header"
check_file "$libdir/pkgconfig/httpq.pc" "pkg-config file"
check_file "$sysconfdir/httpq/httpq.yaml" "the default store"
[ -d "$D$sysconfdir/httpq/conf.d" ]
ok $? "the drop-in folder: $sysconfdir/httpq/conf.d"
check_file "$mandir/man8/httpqd.8" "man page"
check_file "$mandir/man5/httpq.yaml.5" "man page"
check_file "$mandir/man3/httpq-module.3" "man page"
check_file "$mandir/man7/httpq-http.7" "man page"
check_file "$mandir/man8/httpq-static.8" "man page"
check_file "$mandir/man7/httpq-protocol.7" "man page"
if [ -n "$unitdir" ]; then
	check_file "$unitdir/httpq.service" "systemd unit"
	check_file "$unitdir/httpq.socket" "systemd socket unit"
	like "$(cat "$D$unitdir/httpq.service")" "^ExecStart=$sbindir/httpqd -f -c $sysconfdir/httpq/httpq.yaml\$" \
	    "  the unit runs the installed httpqd in the foreground"
	like "$(cat "$D$unitdir/httpq.service")" '^Type=notify$' "  Type=notify"
else
	skip "configured --without-systemdsystemunitdir"
fi
like "$(cat "$D$libdir/pkgconfig/httpq.pc")" "^moduledir=" "httpq.pc has moduledir"

printf '# edited by the admin\n' >>"$D$sysconfdir/httpq/httpq.yaml"
imake -C "$HQ_BUILDDIR" install DESTDIR="$D" >"$W/install2.log" 2>&1
ok $? "a second make install succeeds"
like "$(tail -n 1 "$D$sysconfdir/httpq/httpq.yaml")" '^# edited by the admin$' \
    "  and keeps the existing httpq.yaml"

# The module template, against the DESTDIR tree: httpq.pc with its prefix
# moved into DESTDIR.
mkdir -p "$W/pc" "$W/tpl"
sed "s|^prefix=.*|prefix=$D$prefix|" "$D$libdir/pkgconfig/httpq.pc" >"$W/pc/httpq.pc"
cp "$HQ_TESTS/../contrib/module-template/template.c" "$HQ_TESTS/../contrib/module-template/Makefile" "$W/tpl/"
PKG_CONFIG_PATH="$W/pc" imake -C "$W/tpl" CFLAGS="-O2 -Wall -Wextra -Werror" >"$W/tpl.log" 2>&1
ok $? "the module template builds with pkg-config --cflags httpq" || diag "$(tail -n 20 "$W/tpl.log")"
like "$(cat "$W/tpl.log")" "-I$D$includedir" "  using the installed header"
PKG_CONFIG_PATH="$W/pc" imake -C "$W/tpl" install >>"$W/tpl.log" 2>&1
ok $? "make install of the template"
check_file "$moddir/template.so" "  into pkg-config --variable=moduledir httpq"

HQ_MODDIR="$D$moddir"
start_httpqd '
iplisten: [127.0.0.1]
url_groups:
  - { name: t, prefixes: ["http://+:@PORT@/"], queue: t }
queues:
  - { name: t, module: template, options: { greeting: "Hi there" } }
' || bail_out "httpqd with the template module did not start"
is "$(hq_curl "$(url /some/path)")" "Hi there: /some/path" "httpqd loads the template by name and it answers"
# A POST needs a length (P-FRAMING-9): -d '' sends Content-Length: 0.
is "$(hq_curl -o /dev/null -w '%{http_code}' -d '' "$(url /)")" 405 "  405 for POST"
done_testing
