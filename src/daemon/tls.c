/*
 * tls.c -- SSL bindings served with OpenSSL, on the connection itself.
 *
 * Each snapshot has one "front" SSL_CTX (policy, no certificate) that every
 * TLS connection starts from, and one SSL_CTX per binding.  The client
 * hello callback picks the binding (tlsselect.c) before anything else is
 * decided and moves the connection onto the binding's context, so that its
 * session id context, client certificate policy and certificate apply from
 * the start (a session issued by another binding is not resumed).
 *
 * A binding's context can be swapped by the main thread when its files
 * change on disk (hq_tls_tick); handshakes take it under a read lock, and
 * SSL_set_SSL_CTX holds a reference, so open connections are untouched.
 *
 * Session tickets (TLS 1.2 and 1.3) are sealed with process-wide keys,
 * rotated every HQ_TLS_TICKET_ROTATE_S and shared by every worker, so a
 * client resumes on any thread; the previous key still opens tickets.
 */
#include "config.h"

#include <errno.h>
#include <arpa/inet.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "httpqd.h"

/* Server preference order; ECDHE with AEAD only for TLS 1.2. */
#define TLS12_CIPHERS \
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:" \
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:" \
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"
#define TLS13_SUITES \
	"TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256"
#define TLS_GROUPS "X25519:P-256"

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

/* --- session ticket keys ----------------------------------------------- */

struct tkey {
	unsigned char name[16], aes[32], hmac[32];
};

static struct {
	pthread_rwlock_t lk;
	struct tkey cur, prev;
	bool have_prev;
	time_t made;
} K = { .lk = PTHREAD_RWLOCK_INITIALIZER };

static void
tkey_new(struct tkey *k)
{
	if (RAND_priv_bytes(k->name, sizeof(k->name)) <= 0 ||
	    RAND_priv_bytes(k->aes, sizeof(k->aes)) <= 0 ||
	    RAND_priv_bytes(k->hmac, sizeof(k->hmac)) <= 0)
		hq_fatal("tls: no random bytes for a session ticket key");
}

static int staple_idx = -1;

static void
staple_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp);

static void
tkeys_init(void)
{
	tkey_new(&K.cur);
	K.made = time(NULL);
	staple_idx = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, staple_free);
}

/* Main thread: a new key, the old one kept for decryption only. */
static void
tkeys_rotate(time_t now)
{
	struct tkey k;

	if (now - K.made < HQ_TLS_TICKET_ROTATE_S)
		return;
	tkey_new(&k);
	pthread_rwlock_wrlock(&K.lk);
	K.prev = K.cur;
	K.have_prev = true;
	K.cur = k;
	K.made = now;
	pthread_rwlock_unlock(&K.lk);
	OPENSSL_cleanse(&k, sizeof(k));
}

static int
ticket_cb(SSL *s, unsigned char name[16], unsigned char *iv, EVP_CIPHER_CTX *ectx,
    EVP_MAC_CTX *hctx, int enc)
{
	struct tkey k;
	OSSL_PARAM params[3];
	int rc = 1;

	pthread_rwlock_rdlock(&K.lk);
	if (enc) {
		k = K.cur;
	} else if (memcmp(name, K.cur.name, 16) == 0) {
		k = K.cur;
		/* TLS 1.3: a ticket should serve one resumption (RFC 8446
		 * C.4) and OpenSSL's client does not offer it twice, so
		 * without a fresh one every other connection is a full
		 * handshake.  OpenSSL sends a NewSessionTicket after a 1.3
		 * resumption only when told to renew (nginx does the same). */
		if (SSL_version(s) >= TLS1_3_VERSION)
			rc = 2;
	} else if (K.have_prev && memcmp(name, K.prev.name, 16) == 0) {
		k = K.prev;
		rc = 2; /* valid, but issue a ticket under the current key */
	} else {
		rc = 0; /* unknown key: a full handshake */
	}
	pthread_rwlock_unlock(&K.lk);
	if (rc == 0)
		return 0;
	params[0] = OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY, k.hmac,
	    sizeof(k.hmac));
	params[1] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
	    (char *)"SHA256", 0);
	params[2] = OSSL_PARAM_construct_end();
	if (enc) {
		memcpy(name, k.name, 16);
		if (RAND_bytes(iv, 16) <= 0 ||
		    !EVP_EncryptInit_ex(ectx, EVP_aes_256_cbc(), NULL, k.aes, iv))
			rc = -1;
	} else if (!EVP_DecryptInit_ex(ectx, EVP_aes_256_cbc(), NULL, k.aes, iv)) {
		rc = -1;
	}
	if (rc > 0 && !EVP_MAC_CTX_set_params(hctx, params))
		rc = -1;
	OPENSSL_cleanse(&k, sizeof(k));
	return rc;
}

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

	if (hq_addr_text((const struct sockaddr *)&c->peer, 0, peer, sizeof(peer)) < 0)
		snprintf(peer, sizeof(peer), "?");
	if (fail_log_due(peer))
		hq_log(LOG_INFO, "tls: handshake failed: peer=%s listen=%s: %s%s "
		    "(not logged again for this peer for %d s)", peer, c->la->text,
		    fmt, arg ? arg : "", HQ_TLS_FAIL_LOG_S);
}

/* --- contexts ---------------------------------------------------------- */

static int
alpn_cb(SSL *s, const unsigned char **out, unsigned char *outlen,
    const unsigned char *in, unsigned int inlen, void *arg)
{
	static const unsigned char mine[] = "\x08http/1.1";

	if (SSL_select_next_proto((unsigned char **)out, outlen, mine, sizeof(mine) - 1,
	    in, inlen) != OPENSSL_NPN_NEGOTIATED)
		return SSL_TLSEXT_ERR_NOACK;
	return SSL_TLSEXT_ERR_OK;
}

static const char *
ssl_err(char *buf, size_t len)
{
	unsigned long e = ERR_peek_last_error();

	if (e == 0)
		snprintf(buf, len, "unknown OpenSSL error");
	else
		ERR_error_string_n(e, buf, len);
	ERR_clear_error();
	return buf;
}

static SSL_CTX *
ctx_policy(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	SSL_CTX *x = SSL_CTX_new(TLS_server_method());

	pthread_once(&once, tkeys_init);
	if (x == NULL)
		hq_fatal("tls: SSL_CTX_new failed");
	SSL_CTX_set_min_proto_version(x, TLS1_2_VERSION);
	SSL_CTX_set_max_proto_version(x, TLS1_3_VERSION);
	SSL_CTX_set_options(x, SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_RENEGOTIATION |
	    SSL_OP_NO_COMPRESSION | SSL_OP_IGNORE_UNEXPECTED_EOF);
	if (!SSL_CTX_set_cipher_list(x, TLS12_CIPHERS) ||
	    !SSL_CTX_set_ciphersuites(x, TLS13_SUITES) ||
	    !SSL_CTX_set1_groups_list(x, TLS_GROUPS))
		hq_fatal("tls: this OpenSSL lacks the ciphers or groups httpqd uses");
	/* Idle connections give their buffers back; writes may be partial and
	 * retried from a buffer that moved (c->out grows by realloc). */
	SSL_CTX_set_mode(x, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	/* Stateless tickets only: nothing to share between threads but keys. */
	SSL_CTX_set_session_cache_mode(x, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_num_tickets(x, 1);
	/* One recv() per batch of records, not two per record. */
	SSL_CTX_set_read_ahead(x, 1);
	SSL_CTX_set_timeout(x, 2 * HQ_TLS_TICKET_ROTATE_S);
	SSL_CTX_set_tlsext_ticket_key_evp_cb(x, ticket_cb);
	SSL_CTX_set_alpn_select_cb(x, alpn_cb, NULL);
	return x;
}

/* --- OCSP stapling from a file --------------------------------------------- */

struct staple {
	unsigned char *der;
	size_t len;
	time_t next_update;
};

static void
staple_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
	struct staple *st = ptr;

	if (st != NULL)
		free(st->der);
	free(st);
}

static int
status_cb(SSL *s, void *arg)
{
	const struct staple *st = arg;
	unsigned char *copy;

	/* A stale response would make strict clients fail: none is better. */
	if (st == NULL || st->next_update <= time(NULL))
		return SSL_TLSEXT_ERR_NOACK;
	copy = OPENSSL_memdup(st->der, st->len);
	if (copy == NULL)
		return SSL_TLSEXT_ERR_NOACK;
	SSL_set_tlsext_status_ocsp_resp(s, copy, (long)st->len);
	return SSL_TLSEXT_ERR_OK;
}

static unsigned char *
read_small(const char *file, size_t *len)
{
	FILE *f = fopen(file, "rb");
	unsigned char *buf = xmalloc(65536);

	*len = f ? fread(buf, 1, 65536, f) : 0;
	if (f == NULL || ferror(f) || *len == 0 || *len == 65536) {
		if (f)
			fclose(f);
		free(buf);
		return NULL;
	}
	fclose(f);
	return buf;
}

/* Checks the staple file (a good status for this certificate, not yet
 * stale) and hangs it on the context; on a problem says why and the
 * binding is served without stapling. */
static int
staple_load(SSL_CTX *x, const struct hq_store_sslcert *bc, char *why, size_t whylen)
{
	struct staple *st = xcalloc(1, sizeof(*st));
	const unsigned char *p;
	OCSP_RESPONSE *r = NULL;
	OCSP_BASICRESP *br = NULL;
	OCSP_SINGLERESP *one;
	ASN1_GENERALIZEDTIME *next = NULL;
	const ASN1_INTEGER *serial = NULL;
	struct tm tm;
	int status, reason;

	st->der = read_small(bc->ocsp_staple, &st->len);
	p = st->der;
	if (st->der == NULL || (r = d2i_OCSP_RESPONSE(NULL, &p, (long)st->len)) == NULL) {
		snprintf(why, whylen, "\"%s\" is not a readable DER OCSP response",
		    bc->ocsp_staple);
		goto fail;
	}
	if (OCSP_response_status(r) != OCSP_RESPONSE_STATUS_SUCCESSFUL ||
	    (br = OCSP_response_get1_basic(r)) == NULL ||
	    (one = OCSP_resp_get0(br, 0)) == NULL) {
		snprintf(why, whylen, "\"%s\": not a successful OCSP response", bc->ocsp_staple);
		goto fail;
	}
	status = OCSP_single_get0_status(one, &reason, NULL, NULL, &next);
	OCSP_id_get0_info(NULL, NULL, NULL, (ASN1_INTEGER **)&serial,
	    (OCSP_CERTID *)OCSP_SINGLERESP_get0_id(one));
	if (serial == NULL || ASN1_INTEGER_cmp(serial,
	    X509_get0_serialNumber(SSL_CTX_get0_certificate(x))) != 0) {
		snprintf(why, whylen, "\"%s\" is about another certificate", bc->ocsp_staple);
		goto fail;
	}
	if (status != V_OCSP_CERTSTATUS_GOOD) {
		snprintf(why, whylen, "\"%s\" says the certificate is %s", bc->ocsp_staple,
		    OCSP_cert_status_str(status));
		goto fail;
	}
	st->next_update = next != NULL && ASN1_TIME_to_tm(next, &tm) == 1 ?
	    timegm(&tm) : time(NULL) + 86400;
	if (st->next_update <= time(NULL)) {
		snprintf(why, whylen, "\"%s\" is stale (next update passed)", bc->ocsp_staple);
		goto fail;
	}
	OCSP_BASICRESP_free(br);
	OCSP_RESPONSE_free(r);
	SSL_CTX_set_ex_data(x, staple_idx, st);
	SSL_CTX_set_tlsext_status_cb(x, status_cb);
	SSL_CTX_set_tlsext_status_arg(x, st);
	return 0;
fail:
	OCSP_BASICRESP_free(br);
	OCSP_RESPONSE_free(r);
	staple_free(NULL, st, NULL, 0, 0, NULL);
	ERR_clear_error();
	return -1;
}

static int
accept_any(int ok, X509_STORE_CTX *st)
{
	return 1; /* clientcert request: the result is told to the module */
}

static int
verify_mode(const struct hq_store_sslcert *bc)
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

static int
add_chain_file(SSL_CTX *x, const char *file)
{
	BIO *bio = BIO_new_file(file, "r");
	X509 *cert;
	int n = 0;

	if (bio == NULL)
		return -1;
	while ((cert = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
		if (!SSL_CTX_add0_chain_cert(x, cert)) {
			X509_free(cert);
			BIO_free(bio);
			return -1;
		}
		n++;
	}
	BIO_free(bio);
	ERR_clear_error(); /* the end of the file */
	return n > 0 ? 0 : -1;
}

/* A context for one binding from its files; NULL with *why on failure. */
static SSL_CTX *
ctx_load(const struct hq_store_sslcert *bc, char *why, size_t whylen)
{
	SSL_CTX *x = ctx_policy();
	char e[256], *desc;
	unsigned char sid[EVP_MAX_MD_SIZE];
	unsigned int sidlen = 0;

	ERR_clear_error();
	if (SSL_CTX_use_certificate_chain_file(x, bc->certfile) != 1) {
		snprintf(why, whylen, "certificate \"%s\": %s", bc->certfile, ssl_err(e, sizeof(e)));
		goto fail;
	}
	if (bc->chainfile != NULL && add_chain_file(x, bc->chainfile) < 0) {
		snprintf(why, whylen, "chain \"%s\": %s", bc->chainfile, ssl_err(e, sizeof(e)));
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(x, bc->keyfile, SSL_FILETYPE_PEM) != 1) {
		snprintf(why, whylen, "key \"%s\": %s", bc->keyfile, ssl_err(e, sizeof(e)));
		goto fail;
	}
	if (SSL_CTX_check_private_key(x) != 1) {
		snprintf(why, whylen, "key \"%s\" does not match certificate \"%s\"",
		    bc->keyfile, bc->certfile);
		ERR_clear_error();
		goto fail;
	}
	if (bc->cafile != NULL) {
		STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(bc->cafile);

		if (names == NULL || SSL_CTX_load_verify_locations(x, bc->cafile, NULL) != 1) {
			sk_X509_NAME_pop_free(names, X509_NAME_free);
			snprintf(why, whylen, "CA file \"%s\": %s", bc->cafile, ssl_err(e, sizeof(e)));
			goto fail;
		}
		SSL_CTX_set_client_CA_list(x, names);
	} else if (bc->clientcert != HQ_CLIENTCERT_NONE) {
		snprintf(why, whylen, "clientcert %s needs a cafile",
		    bc->clientcert == HQ_CLIENTCERT_REQUIRE ? "require" : "request");
		goto fail;
	}
	SSL_CTX_set_verify(x, verify_mode(bc),
	    bc->clientcert == HQ_CLIENTCERT_REQUEST ? accept_any : NULL);
	/* Sessions resume only on the binding that made them, with the same
	 * client certificate policy (across reloads too). */
	desc = xasprintf("%s|%s|%d|%s", bc->by_host ? "host" : "ip",
	    bc->text ? bc->text : "", (int)bc->clientcert, bc->cafile ? bc->cafile : "");
	if (!EVP_Digest(desc, strlen(desc), sid, &sidlen, EVP_sha256(), NULL) ||
	    !SSL_CTX_set_session_id_context(x, sid, sidlen))
		hq_fatal("tls: cannot set a session id context");
	free(desc);
	if (bc->ocsp_staple != NULL && staple_load(x, bc, e, sizeof(e)) < 0)
		hq_log(LOG_WARNING, "tls: %s: no OCSP stapling: %s", bc->text, e);
	return x;
fail:
	SSL_CTX_free(x);
	return NULL;
}

static void
stamp(const char *file, struct fstamp *f)
{
	struct stat st;

	memset(f, 0, sizeof(*f));
	if (file == NULL || stat(file, &st) < 0)
		return;
	f->present = true;
	f->dev = st.st_dev;
	f->ino = st.st_ino;
	f->size = st.st_size;
	f->mtime = st.st_mtim;
}

static bool
stamp_same(const struct fstamp *a, const struct fstamp *b)
{
	return a->present == b->present && a->dev == b->dev && a->ino == b->ino &&
	    a->size == b->size && a->mtime.tv_sec == b->mtime.tv_sec &&
	    a->mtime.tv_nsec == b->mtime.tv_nsec;
}

static const char *
bind_file(const struct hq_store_sslcert *bc, int i)
{
	switch (i) {
	case F_CERT: return bc->certfile;
	case F_KEY: return bc->keyfile;
	case F_CHAIN: return bc->chainfile;
	case F_CA: return bc->cafile;
	case F_STAPLE: return bc->ocsp_staple;
	default: return NULL;
	}
}

static void
stamp_all(struct hq_tls_bind *b)
{
	for (int i = 0; i < F__N; i++)
		stamp(bind_file(b->sc, i), &b->st[i]);
}

static void
warn_key_mode(const struct hq_tls_bind *b)
{
	struct stat st;

	if (stat(b->sc->keyfile, &st) == 0 && (st.st_mode & 077) != 0)
		hq_log(LOG_WARNING, "tls: %s: key file \"%s\" is readable by group or "
		    "others (mode %03o); chmod 600 it", b->name, b->sc->keyfile,
		    (unsigned)(st.st_mode & 0777));
}

/* One line about what a binding now serves: subject, expiry, fingerprint. */
static void
log_served(const struct hq_tls_bind *b, SSL_CTX *x, const char *what)
{
	X509 *cert = SSL_CTX_get0_certificate(x);
	struct hq_sslinfo info;

	if (cert == NULL)
		return;
	hq_x509_describe(cert, &info);
	hq_log(LOG_NOTICE, "tls: %s: %s subject=\"%s\" not_after=\"%s\" sha256=%s",
	    b->name, what, info.subject, info.not_after_text, info.sha256);
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

static int
client_hello_cb(SSL *s, int *al, void *arg)
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
	SSL_set_verify(s, verify_mode(b->sc),
	    b->sc->clientcert == HQ_CLIENTCERT_REQUEST ? accept_any : NULL);
	c->tls_bind = (int)i;
	return SSL_CLIENT_HELLO_SUCCESS;
}

/* --- snapshot ----------------------------------------------------------- */

static void
bind_name(struct hq_tls_bind *b)
{
	const struct hq_store_sslcert *bc = b->sc;
	char ip[HQ_ADDR_TEXT_MAX];

	if (bc->by_host) {
		snprintf(b->name, sizeof(b->name), "hostnameport=%s:%u", bc->host, bc->port);
		return;
	}
	/* The store took bc->port from bc->addr. */
	hq_addr_text((const struct sockaddr *)&bc->addr, HQ_ADDR_PORT, ip, sizeof(ip));
	snprintf(b->name, sizeof(b->name), "ipport=%s", ip);
}

struct hq_tls *
hq_tls_new(const struct hq_store *s, struct hq_errors *errs)
{
	struct hq_tls *t = xcalloc(1, sizeof(*t));
	size_t n = s->nsslcerts;
	int rc = 0;

	t->front = ctx_policy();
	SSL_CTX_set_client_hello_cb(t->front, client_hello_cb, t);
	t->b = xcalloc(n ? n : 1, sizeof(*t->b));
	t->keys = xcalloc(n ? n : 1, sizeof(*t->keys));
	t->n = n;
	for (size_t i = 0; i < n; i++) {
		struct hq_tls_bind *b = &t->b[i];
		char why[512], path[32];

		b->sc = &s->sslcerts[i];
		pthread_rwlock_init(&b->lk, NULL);
		bind_name(b);
		t->keys[i] = (struct hq_tls_key){ b->sc->by_host, b->sc->host,
			&b->sc->addr, b->sc->port };
		stamp_all(b);
		b->ctx = ctx_load(b->sc, why, sizeof(why));
		if (b->ctx == NULL) {
			snprintf(path, sizeof(path), "sslcerts[%zu]", i);
			hq_errors_add(errs, &b->sc->at, path, "%s: %s", b->name, why);
			rc = -1;
		}
	}
	if (rc == 0)
		return t;
	hq_tls_free(t);
	return NULL;
}

void
hq_tls_free(struct hq_tls *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < t->n; i++) {
		SSL_CTX_free(t->b[i].ctx);
		pthread_rwlock_destroy(&t->b[i].lk);
	}
	SSL_CTX_free(t->front);
	free(t->b);
	free(t->keys);
	free(t);
}

void
hq_tls_started(struct hq_tls *t)
{
	for (size_t i = 0; t != NULL && i < t->n; i++) {
		warn_key_mode(&t->b[i]);
		log_served(&t->b[i], t->b[i].ctx, "serving");
	}
}

/* Main thread, every HQ_TLS_WATCH_S: swap the context of a binding whose
 * files changed (certbot renewal); a bad new file keeps the old one. */
void
hq_tls_tick(struct hq_tls *t)
{
	tkeys_rotate(time(NULL));
	for (size_t i = 0; t != NULL && i < t->n; i++) {
		struct hq_tls_bind *b = &t->b[i];
		struct fstamp now[F__N];
		bool changed = false;
		SSL_CTX *x, *old;
		char why[512];

		for (int f = 0; f < F__N; f++) {
			stamp(bind_file(b->sc, f), &now[f]);
			changed |= !stamp_same(&now[f], &b->st[f]);
		}
		if (!changed)
			continue;
		memcpy(b->st, now, sizeof(now));
		x = ctx_load(b->sc, why, sizeof(why));
		if (x == NULL) {
			hq_log(LOG_ERR, "tls: %s: files changed but refused, still serving "
			    "the previous certificate: %s", b->name, why);
			continue;
		}
		pthread_rwlock_wrlock(&b->lk);
		old = b->ctx;
		b->ctx = x;
		pthread_rwlock_unlock(&b->lk);
		SSL_CTX_free(old);
		warn_key_mode(b);
		log_served(b, x, "files changed, now serving");
	}
}

/* What binding i serves right now (main thread): the certificate of its
 * context, which differs from the files' after a refused change. */
int
hq_tls_served(const struct hq_tls *t, size_t i, struct hq_sslinfo *info)
{
	X509 *cert;

	memset(info, 0, sizeof(*info));
	if (t == NULL || i >= t->n || (cert = SSL_CTX_get0_certificate(t->b[i].ctx)) == NULL)
		return -1;
	hq_x509_describe(cert, info);
	return 0;
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
	fail_log(c, ssl_err(why, sizeof(why)), NULL);
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
