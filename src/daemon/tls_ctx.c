/*
 * tls_ctx.c -- SSL bindings served with OpenSSL: their contexts, built and
 * reloaded on the main thread.
 *
 * Each snapshot has one "front" SSL_CTX (policy, no certificate) that every
 * TLS connection starts from, and one SSL_CTX per binding; the front's
 * client hello callback (tls_conn.c) moves a connection onto its binding's
 * context.
 *
 * A binding's context can be swapped by the main thread when its files
 * change on disk (hq_tls_tick); handshakes take it under a read lock, and
 * SSL_set_SSL_CTX holds a reference, so open connections are untouched.
 *
 * Session tickets (TLS 1.2 and 1.3) are sealed with process-wide keys,
 * rotated every HQ_TLS_TICKET_ROTATE_S and shared by every worker, so a
 * client resumes on any thread; the previous key still opens tickets.
 *
 * Layer: src/daemon/, main thread but for the callbacks set on the contexts
 * (tls_priv.h says what each TLS file runs on and may call).
 */
#include "config.h"

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
#include "tls_priv.h"

/* Server preference order; ECDHE with AEAD only for TLS 1.2. */
#define TLS12_CIPHERS \
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:" \
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:" \
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"
#define TLS13_SUITES \
	"TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256"
#define TLS_GROUPS "X25519:P-256"

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

	/* No TLS context was ever made: no keys, and no reason to wake
	 * OpenSSL's random generator (2 MiB of its pages in the RSS). */
	if (K.made == 0 || now - K.made < HQ_TLS_TICKET_ROTATE_S)
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

/* --- contexts ---------------------------------------------------------- */

/* ALPN: h2 first where the binding serves it (arg non-NULL), then
 * http/1.1; a client that offers neither gets no ALPN (and HTTP/1.1).
 * Our cipher list has no suite RFC 9113 9.2.2 forbids. */
static int
alpn_cb(SSL *s, const unsigned char **out, unsigned char *outlen,
    const unsigned char *in, unsigned int inlen, void *arg)
{
	static const unsigned char both[] = "\x02h2\x08http/1.1";
	const unsigned char *mine = arg != NULL ? both : both + 3;
	unsigned int n = arg != NULL ? sizeof(both) - 1 : sizeof(both) - 4;

	if (SSL_select_next_proto((unsigned char **)out, outlen, mine, n,
	    in, inlen) != OPENSSL_NPN_NEGOTIATED)
		return SSL_TLSEXT_ERR_NOACK;
	return SSL_TLSEXT_ERR_OK;
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

	/* Any non-NULL pointer says h2 (the store outlives the context). */
	if (bc->alpn_h2)
		SSL_CTX_set_alpn_select_cb(x, alpn_cb, (void *)bc);

	ERR_clear_error();
	if (SSL_CTX_use_certificate_chain_file(x, bc->certfile) != 1) {
		snprintf(why, whylen, "certificate \"%s\": %s", bc->certfile,
		    hq_tls_ssl_err(e, sizeof(e)));
		goto fail;
	}
	if (bc->chainfile != NULL && add_chain_file(x, bc->chainfile) < 0) {
		snprintf(why, whylen, "chain \"%s\": %s", bc->chainfile,
		    hq_tls_ssl_err(e, sizeof(e)));
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(x, bc->keyfile, SSL_FILETYPE_PEM) != 1) {
		snprintf(why, whylen, "key \"%s\": %s", bc->keyfile,
		    hq_tls_ssl_err(e, sizeof(e)));
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
			snprintf(why, whylen, "CA file \"%s\": %s", bc->cafile,
			    hq_tls_ssl_err(e, sizeof(e)));
			goto fail;
		}
		SSL_CTX_set_client_CA_list(x, names);
	} else if (bc->clientcert != HQ_CLIENTCERT_NONE) {
		snprintf(why, whylen, "clientcert %s needs a cafile",
		    bc->clientcert == HQ_CLIENTCERT_REQUIRE ? "require" : "request");
		goto fail;
	}
	SSL_CTX_set_verify(x, hq_tls_verify_mode(bc),
	    bc->clientcert == HQ_CLIENTCERT_REQUEST ? hq_tls_accept_any : NULL);
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
	SSL_CTX_set_client_hello_cb(t->front, hq_tls_client_hello, t);
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
