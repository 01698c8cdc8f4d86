/*
 * tls_conn.c -- TLS on one connection, on its worker thread.
 *
 * Every TLS connection starts on the snapshot's front context; the client
 * hello callback picks the binding (tlsselect.c) before anything else is
 * decided and moves the connection onto the binding's context, so that its
 * session id context, client certificate policy and certificate apply from
 * the start (a session issued by another binding is not resumed).  The
 * binding's context is taken under its read lock, as the main thread may
 * swap it (tls_ctx.c); SSL_set_SSL_CTX holds a reference, so open
 * connections are untouched by a swap.
 *
 * Layer: src/daemon/, worker threads (tls_priv.h says what each TLS file
 * runs on and may call).
 */
#include "config.h"

#include <errno.h>
#include <arpa/inet.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "httpqd.h"
#include "tls_priv.h"

/* --- handshake failures, one log line per peer per minute -------------- */

static struct {
	pthread_mutex_t mu;
	struct { uint64_t h; time_t t; } seen[64];
} FL = { .mu = PTHREAD_MUTEX_INITIALIZER };

static bool
fail_log_due(const char *peer)
{
	uint64_t h = 1469598103934665603ULL;
	time_t now = time(NULL);
	size_t slot, oldest = 0;
	bool due = true;

	for (const char *p = peer; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	pthread_mutex_lock(&FL.mu);
	for (slot = 0; slot < 64; slot++) {
		if (FL.seen[slot].h == h)
			break;
		if (FL.seen[slot].t < FL.seen[oldest].t)
			oldest = slot;
	}
	if (slot < 64 && now - FL.seen[slot].t < HQ_TLS_FAIL_LOG_S)
		due = false;
	if (slot == 64)
		slot = oldest;
	if (due) {
		FL.seen[slot].h = h;
		FL.seen[slot].t = now;
	}
	pthread_mutex_unlock(&FL.mu);
	return due;
}

static void
fail_log(struct hq_conn *c, const char *fmt, const char *arg)
{
	char peer[INET6_ADDRSTRLEN];

	if (hq_addr_text(&c->peer.sa, 0, peer, sizeof(peer)) < 0)
		snprintf(peer, sizeof(peer), "?");
	if (fail_log_due(peer))
		hq_log(LOG_INFO, "tls: handshake failed: peer=%s listen=%s: %s%s "
		    "(not logged again for this peer for %d s)", peer, c->la->text,
		    fmt, arg ? arg : "", HQ_TLS_FAIL_LOG_S);
}

/* --- helpers tls_ctx.c uses too ---------------------------------------- */

const char *
hq_tls_ssl_err(char *buf, size_t len)
{
	unsigned long e = ERR_peek_last_error();

	if (e == 0)
		snprintf(buf, len, "unknown OpenSSL error");
	else
		ERR_error_string_n(e, buf, len);
	ERR_clear_error();
	return buf;
}

int
hq_tls_accept_any(int ok, X509_STORE_CTX *st)
{
	return 1; /* clientcert request: the result is told to the module */
}

int
hq_tls_verify_mode(const struct hq_store_sslcert *bc)
{
	switch (bc->clientcert) {
	case HQ_CLIENTCERT_REQUEST:
		return SSL_VERIFY_PEER;
	case HQ_CLIENTCERT_REQUIRE:
		return SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
	default:
		return SSL_VERIFY_NONE;
	}
}

/* --- client hello: pick the binding ------------------------------------ */

/* The host_name of a server_name extension, or NULL. */
static const char *
client_sni(SSL *s, size_t *len)
{
	const unsigned char *p;
	size_t n, l;

	if (!SSL_client_hello_get0_ext(s, TLSEXT_TYPE_server_name, &p, &n) || n < 5)
		return NULL;
	l = ((size_t)p[0] << 8) | p[1];
	if (l + 2 != n || p[2] != TLSEXT_NAMETYPE_host_name)
		return NULL;
	l = ((size_t)p[3] << 8) | p[4];
	if (l == 0 || l + 5 > n || l > 255 || memchr(p + 5, '\0', l) != NULL)
		return NULL;
	*len = l;
	return (const char *)p + 5;
}

int
hq_tls_client_hello(SSL *s, int *al, void *arg)
{
	struct hq_tls *t = arg;
	struct hq_conn *c = SSL_get_app_data(s);
	const char *sni;
	size_t snilen = 0;
	ssize_t i;
	struct hq_tls_bind *b;
	char name[256];

	sni = client_sni(s, &snilen);
	i = hq_tls_select(t->keys, t->n, sni, snilen,
	    hq_listen_local(c->la, c->fd, &c->local, &c->locallen), c->la->port);
	if (i < 0) {
		snprintf(name, sizeof(name), "%.*s", (int)snilen, sni ? sni : "");
		fail_log(c, "no SSL binding for ", snilen ? name : "(no SNI name)");
		c->tls_quiet = true;
		*al = SSL_AD_UNRECOGNIZED_NAME;
		return SSL_CLIENT_HELLO_ERROR;
	}
	b = &t->b[i];
	pthread_rwlock_rdlock(&b->lk);
	SSL_set_SSL_CTX(s, b->ctx);
	pthread_rwlock_unlock(&b->lk);
	/* SSL_set_SSL_CTX takes the certificate, not the verify policy or
	 * the versions; the version is chosen after this callback. */
	if (b->sc->min_protocol == HQ_TLS_MIN_13)
		SSL_set_min_proto_version(s, TLS1_3_VERSION);
	SSL_set_verify(s, hq_tls_verify_mode(b->sc),
	    b->sc->clientcert == HQ_CLIENTCERT_REQUEST ? hq_tls_accept_any : NULL);
	c->tls_bind = (int)i;
	return SSL_CLIENT_HELLO_SUCCESS;
}

/* --- connections -------------------------------------------------------- */

int
hq_tls_conn_new(struct hq_conn *c, struct hq_tls *t)
{
	c->ssl = SSL_new(t->front);
	if (c->ssl == NULL || SSL_set_fd(c->ssl, c->fd) != 1) {
		ERR_clear_error();
		return -1;
	}
	SSL_set_app_data(c->ssl, c);
	SSL_set_accept_state(c->ssl);
	c->tls_hs = true;
	c->tls_bind = -1;
	return 0;
}

void
hq_tls_conn_close(struct hq_conn *c, bool reset)
{
	if (c->ssl == NULL)
		return;
	/* A close_notify if the session is healthy; never waits for the peer's. */
	if (!reset && !c->tls_hs && !c->tls_dead)
		SSL_shutdown(c->ssl);
	SSL_free(c->ssl);
	c->ssl = NULL;
	ERR_clear_error();
}

/* Maps an SSL result to read()/write() conventions: -1 with EAGAIN when
 * the call must be repeated once the socket is ready (a write event is
 * armed when TLS needs to write to go on reading). */
static ssize_t
io_result(struct hq_conn *c, int n, bool reading)
{
	int e = SSL_get_error(c->ssl, n);

	switch (e) {
	case SSL_ERROR_WANT_READ:
		errno = EAGAIN;
		return -1;
	case SSL_ERROR_WANT_WRITE:
		if (reading)
			c->tls_rww = true;
		errno = EAGAIN;
		return -1;
	case SSL_ERROR_ZERO_RETURN:
		return 0;
	default:
		c->tls_dead = true;
		ERR_clear_error();
		errno = ECONNRESET;
		return -1;
	}
}

/* 1 done, 0 in progress, -1 failed (logged). */
int
hq_tls_handshake(struct hq_conn *c)
{
	int n = SSL_do_handshake(c->ssl);
	int e;
	char why[256];

	if (n == 1) {
		c->tls_hs = false;
		hq_stats_tls(c->w->stats, SSL_session_reused(c->ssl) == 1);
		return 1;
	}
	e = SSL_get_error(c->ssl, n);
	if (e == SSL_ERROR_WANT_READ)
		return 0;
	if (e == SSL_ERROR_WANT_WRITE) {
		c->tls_rww = true;
		return 0;
	}
	c->tls_dead = true;
	if (c->tls_quiet || e == SSL_ERROR_ZERO_RETURN || ERR_peek_error() == 0) {
		ERR_clear_error(); /* logged already, or the peer just left */
		return -1;
	}
	fail_log(c, hq_tls_ssl_err(why, sizeof(why)), NULL);
	return -1;
}

ssize_t
hq_tls_read(struct hq_conn *c, void *buf, size_t len)
{
	int n = SSL_read(c->ssl, buf, len > INT_MAX ? INT_MAX : (int)len);

	return n > 0 ? n : io_result(c, n, true);
}

bool
hq_tls_pending(const struct hq_conn *c)
{
	return c->ssl != NULL && !c->tls_hs && SSL_has_pending(c->ssl);
}

ssize_t
hq_tls_write(struct hq_conn *c, const void *buf, size_t len)
{
	int n = SSL_write(c->ssl, buf, len > INT_MAX ? INT_MAX : (int)len);

	return n > 0 ? n : io_result(c, n, false);
}

/* --- facts for modules -------------------------------------------------- */

struct hq_tls_facts {
	httpq_tls_info info;
	char subject[512];
	char fp[65];
	char sni[256];
};

static httpq_str
hs(const char *s)
{
	return (httpq_str){ s, s ? strlen(s) : 0 };
}

bool
hq_tls_alpn_h2(struct hq_conn *c)
{
	const unsigned char *p = NULL;
	unsigned int n = 0;

	if (c->ssl == NULL)
		return false;
	SSL_get0_alpn_selected(c->ssl, &p, &n);
	return n == 2 && memcmp(p, "h2", 2) == 0;
}

const httpq_tls_info *
hq_tls_info(struct hq_conn *c)
{
	static const httpq_tls_info plain = { .size = sizeof(httpq_tls_info) };
	struct hq_tls_facts *f = c->tls_facts;
	X509 *cert;

	if (!c->la->https)
		return &plain;
	if (f != NULL)
		return &f->info;
	f = c->tls_facts = xcalloc(1, sizeof(*f));
	f->info.size = sizeof(f->info);
	f->info.is_tls = 1;
	if (c->ssl == NULL || c->tls_hs)
		return &f->info; /* gone: only the fact that it was TLS */
	f->info.protocol = hs(SSL_get_version(c->ssl));
	f->info.cipher = hs(SSL_CIPHER_get_name(SSL_get_current_cipher(c->ssl)));
	snprintf(f->sni, sizeof(f->sni), "%s",
	    SSL_get_servername(c->ssl, TLSEXT_NAMETYPE_host_name) ?
	    SSL_get_servername(c->ssl, TLSEXT_NAMETYPE_host_name) : "");
	f->info.sni = hs(f->sni);
	cert = SSL_get0_peer_certificate(c->ssl);
	if (cert != NULL) {
		f->info.client_cert_presented = 1;
		f->info.client_cert_verified = SSL_get_verify_result(c->ssl) == X509_V_OK;
		hq_x509_subject(cert, f->subject, sizeof(f->subject));
		f->info.client_subject = hs(f->subject);
		if (hq_x509_sha256(cert, false, f->fp, sizeof(f->fp)) == 64)
			f->info.client_fingerprint_sha256 = (httpq_str){ f->fp, 64 };
		ERR_clear_error();
	}
	return &f->info;
}

void
hq_tls_conn_free(struct hq_conn *c)
{
	free(c->tls_facts);
	c->tls_facts = NULL;
}
