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
 * Each connection's SSL reads and writes the socket through this file's
 * BIO ("the connection's BIO" below), which holds small writes until the
 * connection flushes them once per event-loop turn.
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
#include <sys/uio.h>
#include <unistd.h>

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

/* --- the connection's BIO ---------------------------------------------- */

/*
 * OpenSSL writes every flight, record, session ticket and alert to its BIO
 * as soon as it is made, and a socket BIO makes each one a write(): a
 * resumed TLS 1.3 handshake answered with `Connection: close` took four
 * (server flight, ticket, response, close_notify), each a TCP segment and
 * a wakeup of the client.  This BIO holds writes in a buffer that the
 * connection flushes once per event-loop turn (hq_tls_flush, from conn.c
 * through response.c), so the ticket, the response and the close_notify
 * leave in one write(); a write that does not fit goes out at once after
 * what is held, with one writev (a large response is not copied).
 * OpenSSL's own flush requests are ignored: the turn's flush does it.
 *
 * Reads: a read() that returned less than it asked for emptied the
 * socket.  Until the next read event (hq_tls_readable), OpenSSL is told
 * to retry instead of making a read() that would say EAGAIN: after its
 * flight the handshake reads at once for the client's answer, which
 * cannot be there yet.  The read event is level-triggered, so bytes that
 * arrive meanwhile are not missed, only read on the next turn.
 */
#define TLS_WBUF (16 * 1024)

struct tls_io {
	int fd;
	bool drained;                /* the last read() emptied the socket */
	uint32_t wlen;               /* bytes held in wbuf */
	uint32_t counted;            /* what c->pending counts of them (hq_tls_flush) */
	char *wbuf;                  /* TLS_WBUF bytes, while some are held */
};

static BIO_METHOD *io_method;

static bool
io_again(void)
{
	return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
}

static void
io_consume(struct tls_io *io, size_t n)
{
	if (n < io->wlen) {
		memmove(io->wbuf, io->wbuf + n, io->wlen - n);
		io->wlen -= (uint32_t)n;
		return;
	}
	io->wlen = 0;
	free(io->wbuf);
	io->wbuf = NULL;
}

static void
io_hold(struct tls_io *io, const char *p, size_t n)
{
	if (io->wbuf == NULL)
		io->wbuf = xmalloc(TLS_WBUF);
	memcpy(io->wbuf + io->wlen, p, n);
	io->wlen += (uint32_t)n;
}

/* What is held goes to the socket: 0 (some may remain), -1 error. */
static int
io_push(struct tls_io *io)
{
	ssize_t n;

	if (io->wlen == 0)
		return 0;
	n = write(io->fd, io->wbuf, io->wlen);
	if (n < 0)
		return io_again() ? 0 : -1;
	io_consume(io, (size_t)n);
	return 0;
}

static int
io_write(BIO *b, const char *p, int len)
{
	struct tls_io *io = BIO_get_data(b);
	struct iovec iov[2];
	size_t held = io->wlen;
	ssize_t n;

	BIO_clear_retry_flags(b);
	if (len <= 0)
		return 0;
	if (held + (size_t)len <= TLS_WBUF) {
		io_hold(io, p, (size_t)len);
		return len;
	}
	iov[0] = (struct iovec){ io->wbuf, held };
	iov[1] = (struct iovec){ (void *)p, (size_t)len };
	n = held > 0 ? writev(io->fd, iov, 2) : write(io->fd, p, (size_t)len);
	if (n < 0) {
		if (io_again())
			BIO_set_retry_write(b);
		return -1;
	}
	io_consume(io, (size_t)n < held ? (size_t)n : held);
	if ((size_t)n > held)
		return (int)((size_t)n - held);
	if (io->wlen == 0 && (size_t)len <= TLS_WBUF) {
		io_hold(io, p, (size_t)len);
		return len;
	}
	BIO_set_retry_write(b); /* the socket is full */
	return -1;
}

static int
io_read(BIO *b, char *p, int len)
{
	struct tls_io *io = BIO_get_data(b);
	ssize_t n;

	BIO_clear_retry_flags(b);
	if (io->drained) {
		BIO_set_retry_read(b);
		return -1;
	}
	n = read(io->fd, p, (size_t)len);
	if (n < 0) {
		if (io_again()) {
			io->drained = errno != EINTR;
			BIO_set_retry_read(b);
		}
		return -1;
	}
	if (n > 0 && n < len)
		io->drained = true;
	return (int)n;
}

static long
io_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	struct tls_io *io = BIO_get_data(b);

	switch (cmd) {
	case BIO_CTRL_FLUSH:
	case BIO_CTRL_DUP:
		return 1;
	case BIO_CTRL_WPENDING:
		return io != NULL ? (long)io->wlen : 0;
	case BIO_C_GET_FD:
		if (io == NULL)
			return -1;
		if (ptr != NULL)
			*(int *)ptr = io->fd;
		return io->fd;
	default:
		return 0;
	}
}

static int
io_destroy(BIO *b)
{
	struct tls_io *io = BIO_get_data(b);

	if (io != NULL) {
		free(io->wbuf);
		free(io);
	}
	BIO_set_data(b, NULL);
	return 1;
}

static void
io_method_init(void)
{
	io_method = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "httpq socket");
	if (io_method == NULL || !BIO_meth_set_write(io_method, io_write) ||
	    !BIO_meth_set_read(io_method, io_read) ||
	    !BIO_meth_set_ctrl(io_method, io_ctrl) ||
	    !BIO_meth_set_destroy(io_method, io_destroy))
		hq_fatal("tls: cannot make the connection BIO");
}

static struct tls_io *
conn_io(const struct hq_conn *c)
{
	return BIO_get_data(SSL_get_rbio(c->ssl));
}

int
hq_tls_flush(struct hq_conn *c, bool all, int64_t *delta)
{
	struct tls_io *io;

	*delta = 0;
	if (c->ssl == NULL)
		return 0;
	io = conn_io(c);
	if (!all && io->counted == 0)
		return 0;
	if (io_push(io) < 0)
		return -1;
	*delta = (int64_t)io->wlen - (int64_t)io->counted;
	io->counted = io->wlen;
	return 0;
}

bool
hq_tls_unsent(const struct hq_conn *c)
{
	return c->ssl != NULL && conn_io(c)->wlen > 0;
}

void
hq_tls_readable(struct hq_conn *c)
{
	conn_io(c)->drained = false;
}

/* --- connections -------------------------------------------------------- */

int
hq_tls_conn_new(struct hq_conn *c, struct hq_tls *t)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	struct tls_io *io;
	BIO *bio;

	pthread_once(&once, io_method_init);
	c->ssl = SSL_new(t->front);
	if (c->ssl == NULL || (bio = BIO_new(io_method)) == NULL) {
		ERR_clear_error();
		return -1;
	}
	io = xcalloc(1, sizeof(*io));
	io->fd = c->fd;
	BIO_set_data(bio, io);
	BIO_set_init(bio, 1);
	SSL_set_bio(c->ssl, bio, bio);
	SSL_set_app_data(c->ssl, c);
	SSL_set_accept_state(c->ssl);
	c->tls_hs = true;
	c->tls_bind = -1;
	return 0;
}

void
hq_tls_shutdown(struct hq_conn *c)
{
	/* A close_notify if the session is healthy, once; never waits for
	 * the peer's. */
	if (c->ssl != NULL && !c->tls_hs && !c->tls_dead &&
	    !(SSL_get_shutdown(c->ssl) & SSL_SENT_SHUTDOWN))
		SSL_shutdown(c->ssl);
}

void
hq_tls_conn_close(struct hq_conn *c, bool reset)
{
	if (c->ssl == NULL)
		return;
	/* What is held (a close_notify, an alert after a failed handshake)
	 * goes out as far as the socket takes it now. */
	if (!reset) {
		hq_tls_shutdown(c);
		(void)io_push(conn_io(c));
	}
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
