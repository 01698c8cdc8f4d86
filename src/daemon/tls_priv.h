/*
 * tls_priv.h -- what the two halves of the TLS code share: the snapshot's
 * bindings (struct hq_tls, struct hq_tls_bind) and four helpers.
 *
 * tls_ctx.c, main thread: builds the contexts of a snapshot (hq_tls_new,
 * hq_tls_free), swaps a binding's context when its files change and
 * rotates the session ticket keys (hq_tls_tick), describes what is served
 * (hq_tls_started, hq_tls_served).  The callbacks it installs on its
 * contexts (tickets, ALPN, OCSP status) run on the workers during
 * handshakes, on the ticket keys under their lock or on data that is not
 * changed once the context is built.  May call: tls_conn.c (the client
 * hello callback it installs on the front context, the verify policy,
 * OpenSSL error text), src/shared/, src/lib/.
 *
 * tls_conn.c, worker threads: one TLS connection (hq_tls_conn_*,
 * handshake, reads and writes, hq_tls_info), the client hello callback
 * that moves it onto its binding's context, and the handshake-failure log.
 * It reads struct hq_tls but never changes it: a binding's ctx is taken
 * under b->lk (read), the only field the main thread swaps after
 * hq_tls_new.  May call: listener.c (hq_listen_local), src/shared/,
 * src/lib/; never tls_ctx.c, so the worker half stays below the main
 * thread's ("Top to bottom" in httpqd.h).
 *
 * Layer: src/daemon/, private to tls_ctx.c and tls_conn.c; the rest of the
 * daemon sees only the hq_tls_* functions of httpqd.h.
 */
#ifndef HQ_TLS_PRIV_H
#define HQ_TLS_PRIV_H

#include <pthread.h>
#include <sys/types.h>
#include <time.h>

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "httpqd.h"

/* The files behind a binding's context, by index into st[]. */
enum { F_CERT, F_KEY, F_CHAIN, F_CA, F_STAPLE, F__N };

struct fstamp {
	bool present;
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
};

struct hq_tls_bind {
	const struct hq_store_sslcert *sc;
	char name[96];               /* "hostnameport=a.example:443" */
	pthread_rwlock_t lk;         /* guards ctx */
	SSL_CTX *ctx;
	struct fstamp st[F__N];      /* of the files behind ctx (or refused) */
};

struct hq_tls {
	SSL_CTX *front;
	struct hq_tls_bind *b;
	struct hq_tls_key *keys;
	size_t n;
};

/* tls_conn.c */
/* The front context's client hello callback (arg: the struct hq_tls). */
int hq_tls_client_hello(SSL *s, int *al, void *arg);
/* The SSL_VERIFY_* mode of a binding's clientcert policy, and the verify
 * callback that goes with it (NULL: OpenSSL's own verdict). */
int hq_tls_verify_mode(const struct hq_store_sslcert *bc);
int hq_tls_accept_any(int ok, X509_STORE_CTX *st);
/* The last OpenSSL error as text in buf (the error queue is cleared). */
const char *hq_tls_ssl_err(char *buf, size_t len);

#endif
