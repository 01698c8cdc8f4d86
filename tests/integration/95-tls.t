#!/bin/sh
# 95-tls.t -- SSL bindings: certificate chosen by SNI name, else the ipport
# binding; TLS 1.0/1.1 and RSA key exchange refused; ALPN h2, http/1.1;
# resumption (TLS 1.2 and 1.3 tickets) across connections and threads;
# clientcert require; the TLS facts a module sees; garbage on the TLS port;
# a certificate file changed on disk is served without a reload, a bad one
# refused.  Certificates come from a throwaway CA made here with openssl.
. "${HQ_TESTS:-$(cd "$(dirname "$0")/.." && pwd)}/integration/lib.sh"

command -v openssl >/dev/null 2>&1 || { echo "1..0 # SKIP no openssl CLI"; exit 0; }

hq_mktemp
C=$HQ_MKTEMP
tls_ca "$C" && tls_ca "$C" rogue &&
	tls_cert "$C" a.example && tls_cert "$C" b.example &&
	tls_cert "$C" fallback "DNS:localhost,IP:127.0.0.1" &&
	tls_cert "$C" alice "DNS:alice" && tls_cert "$C" mallory "DNS:mallory" rogue &&
	tls_cert "$C" a2 "DNS:a.example" ||
	bail_out "openssl could not make the test certificates"
# A subject of several parts, whose order and separators show the format.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -subj "/O=httpq test/OU=ops/CN=multi.example" -keyout "$C/multi.key" \
    -out "$C/multi.crt" >/dev/null 2>&1 && chmod 600 "$C/multi.key" ||
	bail_out "openssl could not make the multi.example certificate"
# An OCSP response for a.example, as a responder would give it.
printf 'V\t%s\t\t%s\tunknown\t/CN=a.example\n' "$(date -u -d +2days +%y%m%d%H%M%SZ)" \
    "$(openssl x509 -in "$C/a.example.crt" -noout -serial | cut -d= -f2)" >"$C/index.txt"
openssl ocsp -issuer "$C/ca.crt" -cert "$C/a.example.crt" -reqout "$C/req.der" -no_nonce \
    >/dev/null 2>&1 &&
	openssl ocsp -index "$C/index.txt" -rsigner "$C/ca.crt" -rkey "$C/ca.key" \
	    -CA "$C/ca.crt" -reqin "$C/req.der" -respout "$C/a.ocsp" -ndays 1 >/dev/null 2>&1 ||
	bail_out "openssl could not make the OCSP response"

CONFIG="
server: { workers: 2 }
iplisten: [127.0.0.1]
url_groups:
  - { name: open, prefixes: [\"https://+:@PORT@/\"], queue: q }
  - { name: mtls, prefixes: [\"https://+:@PORT2@/\"], queue: q }
  - { name: echo, prefixes: [\"https://+:@PORT@/echo/\"], queue: sample }
queues:
  - { name: q, module: \"$HQ_TESTMODDIR/stream.so\" }
  - { name: sample, module: sample }
sslcerts:
  - { hostnameport: \"a.example:@PORT@\", certfile: $C/a.example.crt, keyfile: $C/a.example.key,
      ocsp_staple: $C/a.ocsp }
  - { hostnameport: \"b.example:@PORT@\", certfile: $C/b.example.crt, keyfile: $C/b.example.key }
  - { ipport: \"0.0.0.0:@PORT@\", certfile: $C/fallback.crt, keyfile: $C/fallback.key }
  - { ipport: \"0.0.0.0:@PORT2@\", certfile: $C/fallback.crt, keyfile: $C/fallback.key,
      clientcert: require, cafile: $C/ca.crt }
  - { hostnameport: \"opt.example:@PORT2@\", certfile: $C/fallback.crt, keyfile: $C/fallback.key,
      clientcert: request, cafile: $C/ca.crt }
  - { hostnameport: \"new.example:@PORT@\", certfile: $C/fallback.crt, keyfile: $C/fallback.key,
      min_protocol: tls1.3 }
  - { hostnameport: \"multi.example:@PORT@\", certfile: $C/multi.crt, keyfile: $C/multi.key }
"
start_httpqd "$CONFIG" || bail_out "httpqd did not start"
T=$HQ_DIR
P=$HQ_PORT

tcurl() {
	hq_curl --cacert "$C/ca.crt" "$@"
}

# --- one description of a certificate: files, served, log -------------------
: "${HTTPQCTL:=$HQ_TESTS/../src/httpqctl}"
out=$("$HTTPQCTL" -s "$HQ_CTL" show sslcert hostnameport=multi.example:$P 2>&1)
files=$(printf '%s\n' "$out" | sed -n 's/^  subject  *//p')
served=$(printf '%s\n' "$out" | sed -n 's/^  serving  *\(.*\), until .*/\1/p')
is "$files" "CN=multi.example,OU=ops,O=httpq test" \
    "show sslcert: the files' subject in RFC 2253 form, as modules see subjects"
is "$served" "$files" "show sslcert: what is served is described in the same format"
like "$(cat "$HQ_LOG")" 'multi\.example:[0-9]+: serving subject="CN=multi\.example,OU=ops,O=httpq test" not_after="[0-9-]+ [0-9:]+ UTC"' \
    "the log describes the certificate in the same format"

# --- certificate selection ---------------------------------------------------
is "$(tls_subject a.example)" a.example "SNI a.example gets the a.example certificate"
is "$(tls_subject b.example)" b.example "SNI b.example gets the b.example certificate"
is "$(tls_subject c.example)" fallback "an unknown SNI name gets the ipport binding"
is "$(tls_subject -)" fallback "no SNI name: the ipport binding"
is "$(tls_subject A.EXAMPLE.)" a.example "SNI names match without case and trailing dot"

tcurl --resolve "a.example:$P:127.0.0.1" -o "$T/a.b" "https://a.example:$P/tls"
ok $? "curl verifies a.example against the CA"
like "$(cat "$T/a.b")" '^is_tls=1$' "module: is_tls=1"
like "$(cat "$T/a.b")" '^sni=a\.example$' "module: the SNI name"
like "$(cat "$T/a.b")" '^protocol=TLSv1\.3$' "module: TLSv1.3 by default"
like "$(cat "$T/a.b")" '^cipher=TLS_AES_' "module: the cipher name"
like "$(cat "$T/a.b")" '^presented=0$' "module: no client certificate asked for"
tcurl -o "$T/ip.b" "https://127.0.0.1:$P/tls"
ok $? "curl by IP verifies the fallback certificate"

# --- protocols, ciphers, ALPN --------------------------------------------------
log_mark
for v in tls1 tls1_1; do
	out=$(openssl s_client -connect "127.0.0.1:$P" -"$v" -cipher 'DEFAULT:@SECLEVEL=0' \
	    -servername a.example </dev/null 2>&1)
	like "$out" 'Cipher is \(NONE\)' "-$v: no session"
	like "$out" 'alert protocol version|no protocols available|unsupported protocol' \
	    "-$v: refused"
done
wait_log 'handshake failed: peer=127\.0\.0\.1 .*unsupported protocol' 5 >/dev/null
ok $? "the failed handshake is logged with its reason"
out=$(openssl s_client -connect "127.0.0.1:$P" -tls1_2 -cipher AES128-GCM-SHA256 \
    -servername a.example </dev/null 2>&1)
unlike "$out" 'Cipher is AES128-GCM-SHA256' "TLS 1.2 RSA key exchange refused"
out=$(openssl s_client -connect "127.0.0.1:$P" -tls1_2 -servername a.example </dev/null 2>&1)
like "$out" 'Cipher is ECDHE-' "TLS 1.2 offers ECDHE"
out=$(openssl s_client -connect "127.0.0.1:$P" -tls1_2 -servername new.example </dev/null 2>&1)
like "$out" 'Cipher is \(NONE\)' "min_protocol tls1.3: TLS 1.2 refused for that binding"
out=$(openssl s_client -connect "127.0.0.1:$P" -tls1_3 -servername new.example </dev/null 2>&1)
like "$out" '^New, TLSv1\.3' "min_protocol tls1.3: TLS 1.3 served"
out=$(openssl s_client -connect "127.0.0.1:$P" -alpn h2,http/1.1 -servername a.example \
    </dev/null 2>&1)
like "$out" '^ALPN protocol: h2' "ALPN answers h2 first (issue 12)"
out=$(openssl s_client -connect "127.0.0.1:$P" -alpn http/1.1 -servername a.example \
    </dev/null 2>&1)
like "$out" '^ALPN protocol: http/1\.1' "ALPN answers http/1.1 to a client without h2"

# --- OCSP stapling -----------------------------------------------------------
out=$(openssl s_client -connect "127.0.0.1:$P" -servername a.example -status </dev/null 2>&1)
like "$out" 'Cert Status: good' "a.example: the OCSP response from ocsp_staple is stapled"
out=$(openssl s_client -connect "127.0.0.1:$P" -servername b.example -status </dev/null 2>&1)
like "$out" 'OCSP response: no response sent' "b.example: no staple configured, none sent"

# --- resumption -------------------------------------------------------------
req() { printf 'GET /tls HTTP/1.1\r\nHost: a.example\r\nConnection: close\r\n\r\n'; }
for v in tls1_2 tls1_3; do
	req | openssl s_client -connect "127.0.0.1:$P" -"$v" -servername a.example \
	    -sess_out "$T/sess.$v" -ign_eof >/dev/null 2>&1
	reused=0
	for i in 1 2 3 4; do
		req | openssl s_client -connect "127.0.0.1:$P" -"$v" -servername a.example \
		    -sess_in "$T/sess.$v" -ign_eof 2>/dev/null | grep -q '^Reused' &&
		    reused=$((reused + 1))
	done
	is "$reused" 4 "-$v: 4 new connections (any worker) resume the session"
done
out=$(req | openssl s_client -connect "127.0.0.1:$P" -tls1_3 -servername b.example \
    -sess_in "$T/sess.tls1_3" -ign_eof 2>/dev/null)
like "$out" '^New' "a session of a.example is not resumed for b.example"
# A TLS 1.3 ticket serves one resumption: the resumed connection gets a
# fresh one, or a client that keeps its last session (wrk) alternates
# between a resumption and a full handshake.
out=$(req | openssl s_client -connect "127.0.0.1:$P" -tls1_3 -servername a.example \
    -sess_in "$T/sess.tls1_3" -ign_eof 2>/dev/null)
like "$out" 'Reused, TLSv1.3' "-tls1_3: resumed again"
like "$out" 'New Session Ticket arrived' "-tls1_3: a resumed connection gets a new ticket"

# --- client certificates ------------------------------------------------------
tcurl -o /dev/null "https://127.0.0.1:$HQ_PORT2/tls" 2>/dev/null
isnt "$?" 0 "clientcert require: no certificate, no handshake"
tcurl --cert "$C/mallory.crt" --key "$C/mallory.key" -o /dev/null \
    "https://127.0.0.1:$HQ_PORT2/tls" 2>/dev/null
isnt "$?" 0 "clientcert require: a certificate of another CA is refused"
tcurl --cert "$C/alice.crt" --key "$C/alice.key" -o "$T/m.b" "https://127.0.0.1:$HQ_PORT2/tls"
ok $? "clientcert require: alice's certificate passes"
like "$(cat "$T/m.b")" '^presented=1$' "module: a certificate was presented"
like "$(cat "$T/m.b")" '^verified=1$' "module: it verified"
like "$(cat "$T/m.b")" '^subject=CN=alice$' "module: its subject"
fp=$(openssl x509 -in "$C/alice.crt" -noout -fingerprint -sha256 | sed 's/.*=//; s/://g' |
    tr 'A-F' 'a-f')
like "$(cat "$T/m.b")" "^sha256=$fp\$" "module: its SHA-256 fingerprint"

o=opt.example:$HQ_PORT2:127.0.0.1
tcurl -k --resolve "$o" -o "$T/o0.b" "https://opt.example:$HQ_PORT2/tls"
ok $? "clientcert request: no certificate, still served"
like "$(cat "$T/o0.b")" '^presented=0$' "module: nothing presented"
tcurl -k --resolve "$o" --cert "$C/mallory.crt" --key "$C/mallory.key" -o "$T/o1.b" \
    "https://opt.example:$HQ_PORT2/tls"
ok $? "clientcert request: an unverifiable certificate is still served"
like "$(cat "$T/o1.b")" '^presented=1$' "module: it was presented"
like "$(cat "$T/o1.b")" '^verified=0$' "module: it did not verify"
tcurl -k --resolve "$o" --cert "$C/alice.crt" --key "$C/alice.key" -o "$T/o2.b" \
    "https://opt.example:$HQ_PORT2/tls"
like "$(cat "$T/o2.b")" '^verified=1$' "clientcert request: alice's certificate verifies"

# --- bodies, files, pipelining over TLS ------------------------------------------
head -c 5000000 /dev/urandom >"$T/big"
tcurl --resolve "a.example:$P:127.0.0.1" --data-binary "@$T/big" -o "$T/big.echo" \
    "https://a.example:$P/echo/"
ok $? "5 MB POST over TLS completes"
file_is "$T/big.echo" "$T/big" "5 MB POST over TLS is echoed byte for byte"
tcurl --resolve "a.example:$P:127.0.0.1" -o "$T/file.b" "https://a.example:$P/file"
is "$(cat "$T/file.b")" "file contents" "send_file over TLS (read through a buffer)"
(printf 'GET /tls HTTP/1.1\r\nHost: a\r\n\r\nGET /file HTTP/1.1\r\nHost: a\r\n\r\n'
 printf 'GET /echo/ HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n') |
    openssl s_client -connect "127.0.0.1:$P" -servername a.example -quiet -ign_eof \
    2>/dev/null >"$T/pipe"
is "$(grep -c '^HTTP/1.1 200' "$T/pipe")" 3 "three pipelined requests over TLS, three answers"

# --- garbage on the TLS port ----------------------------------------------------
# It starts with a byte no TLS or SSLv2 record starts with: random bytes that
# announce a long record would make OpenSSL wait for the rest (rarely).
(printf 'G'; head -c 300 /dev/urandom; printf 'GET / HTTP/1.1\r\n\r\n') |
    raw --read-until-close --timeout 5 >/dev/null 2>&1
isnt "$?" 2 "garbage: the daemon closes the connection"
printf 'GET / HTTP/1.1\r\nHost: x\r\n\r\n' | raw --read-until-close --timeout 5 >"$T/plain" 2>&1
unlike "$(cat "$T/plain")" 'HTTP/1' "plain HTTP on the TLS port gets no HTTP answer"
tcurl --resolve "b.example:$P:127.0.0.1" -o /dev/null "https://b.example:$P/tls"
ok $? "after garbage, TLS still served"
is "$(grep -c 'handshake failed: peer=127' "$HQ_LOG")" 1 \
    "many failed handshakes, logged once per peer a minute"
hq_alive "$HQ_PID"
ok $? "daemon alive"

# --- a staple file changed on disk ------------------------------------------------
log_mark
echo garbage >"$C/a.ocsp"
wait_log 'a\.example:[0-9]+: no OCSP stapling: .*not a readable DER' 10 >/dev/null
ok $? "a bad new staple file: warned"
out=$(openssl s_client -connect "127.0.0.1:$P" -servername a.example -status </dev/null 2>&1)
like "$out" 'OCSP response: no response sent' "... and no longer stapled"
like "$out" 'CN *= *a\.example' "... while the certificate is still served"

# --- certificate files changed on disk -------------------------------------------
fp_served() {
	openssl s_client -connect "127.0.0.1:$P" -servername "$1" </dev/null 2>/dev/null |
	    openssl x509 -noout -fingerprint -sha256 2>/dev/null | sed 's/.*=//'
}
old=$(fp_served a.example)
new=$(openssl x509 -in "$C/a2.crt" -noout -fingerprint -sha256 | sed 's/.*=//')
log_mark
cp "$C/a2.key" "$C/a.example.key.new" && cp "$C/a2.crt" "$C/a.example.crt.new" &&
	mv "$C/a.example.key.new" "$C/a.example.key" && mv "$C/a.example.crt.new" "$C/a.example.crt"
wait_log 'hostnameport=a\.example:[0-9]+: files changed, now serving' 10 >/dev/null
ok $? "renewed certificate picked up without a reload"
is "$(fp_served a.example)" "$new" "new handshakes get the new certificate"
isnt "$new" "$old" "(it is another certificate)"
oldb=$(fp_served b.example)
log_mark
echo "not a certificate" >"$C/b.example.crt"
wait_log 'b\.example:[0-9]+: files changed but refused' 10 >/dev/null
ok $? "a bad new certificate file is refused with a log line"
is "$(fp_served b.example)" "$oldb" "the old certificate is still served"
out=$("$HTTPQCTL" -s "$HQ_CTL" show sslcert hostnameport=b.example:$P 2>&1)
like "$out" "serving +CN=b\\.example, until .*SHA-256 $oldb \\(not the files'" \
    "httpqctl show sslcert: what is served, and that the files differ"
out=$("$HTTPQCTL" -s "$HQ_CTL" show sslcert hostnameport=a.example:$P 2>&1)
like "$out" "serving +CN=a2, until .*SHA-256 $new\$" "httpqctl show sslcert: the renewed certificate"
log_mark
reload_httpqd
wait_log 'reload refused' 10 >/dev/null
ok $? "a reload with the bad certificate file is refused"
is "$(fp_served b.example)" "$oldb" "... and the old certificate is still served"
cp "$C/fallback.crt" "$C/b.example.crt" && cp "$C/fallback.key" "$C/b.example.key"
wait_log 'b\.example:[0-9]+: files changed, now serving subject="CN=fallback"' 10 >/dev/null
ok $? "fixed files are picked up"
log_mark
reload_httpqd
wait_log 'reload: generation 2 loaded' 10 >/dev/null
ok $? "then a reload succeeds"
is "$(tls_subject b.example)" fallback "after the reload: the files' certificate"
is "$(tls_subject a.example)" a2 "after the reload: the renewed a.example"
unlike "$(cat "$HQ_LOG")" 'PRIVATE KEY' "no key material in the log"

stop_httpqd

# --- regression: an iplisten entry with a port listened as plain http ------------
CONFIG2="
iplisten: [\"127.0.0.1:@PORT@\"]
url_groups:
  - { name: g, prefixes: [\"https://+:@PORT@/\"], queue: q }
queues:
  - { name: q, module: \"$HQ_TESTMODDIR/stream.so\" }
sslcerts:
  - { ipport: \"127.0.0.1:@PORT@\", certfile: $C/fallback.crt, keyfile: $C/fallback.key }
"
start_httpqd "$CONFIG2" || bail_out "httpqd did not start"
tcurl -o "$HQ_DIR/l.b" "https://127.0.0.1:$HQ_PORT/tls"
ok $? "iplisten IP:PORT with an https prefix on that port speaks TLS"
like "$(cat "$HQ_DIR/l.b")" '^is_tls=1$' "... and the module is told so"
stop_httpqd
done_testing
