/*
 * sslbind.c -- SSL bindings of the setup store: checked and described with
 * OpenSSL.
 *
 * The store parses the bindings without OpenSSL (so that its fuzzer stays
 * small); this file opens the files they name.  httpqd runs the check when
 * it builds a snapshot (start, reload, -t) and httpqctl before it writes a
 * change, so that a binding whose key does not match its certificate is
 * refused with the file:line of the key, not found at the first handshake.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "hqshared.h"

/* Encrypted keys cannot be used by a daemon that starts unattended. */
static int
no_passphrase(char *buf, int size, int rwflag, void *u)
{
	return -1;
}

/* The last OpenSSL error as text, or what without one; clears the queue. */
static const char *
ssl_reason(const char *what)
{
	unsigned long e = ERR_peek_last_error();
	const char *r = e ? ERR_reason_error_string(e) : NULL;

	ERR_clear_error();
	return r ? r : what;
}

static FILE *
open_pem(const char *file, const struct hq_origin *at, const char *path,
    struct hq_errors *errs)
{
	FILE *f = fopen(file, "r");

	if (f == NULL)
		hq_errors_add(errs, at, path, "cannot read \"%s\": %s", file,
		    strerror(errno));
	return f;
}

static X509 *
read_cert(const char *file, const struct hq_origin *at, const char *path,
    struct hq_errors *errs)
{
	FILE *f = open_pem(file, at, path, errs);
	X509 *x;

	if (f == NULL)
		return NULL;
	x = PEM_read_X509(f, NULL, no_passphrase, NULL);
	fclose(f);
	if (x == NULL)
		hq_errors_add(errs, at, path, "no PEM certificate in \"%s\" (%s)",
		    file, ssl_reason("unreadable"));
	return x;
}

static EVP_PKEY *
read_key(const char *file, const struct hq_origin *at, const char *path,
    struct hq_errors *errs)
{
	FILE *f = open_pem(file, at, path, errs);
	EVP_PKEY *k;

	if (f == NULL)
		return NULL;
	k = PEM_read_PrivateKey(f, NULL, no_passphrase, NULL);
	fclose(f);
	if (k == NULL) {
		ERR_clear_error();
		hq_errors_add(errs, at, path, "no usable PEM private key in \"%s\" "
		    "(none, or encrypted: encrypted keys are not supported)", file);
	}
	return k;
}

/* A file of one or more PEM certificates (chain, CA). */
static int
read_certs(const char *file, const struct hq_origin *at, const char *path,
    struct hq_errors *errs)
{
	FILE *f = open_pem(file, at, path, errs);
	X509 *x;
	int n = 0;

	if (f == NULL)
		return -1;
	while ((x = PEM_read_X509(f, NULL, no_passphrase, NULL)) != NULL) {
		X509_free(x);
		n++;
	}
	fclose(f);
	/* The loop ends with "no start line" at the end of the file. */
	ERR_clear_error();
	if (n > 0)
		return 0;
	hq_errors_add(errs, at, path, "no PEM certificate in \"%s\"", file);
	return -1;
}

int
hq_sslbind_check(const struct hq_store_sslcert *c, size_t i, struct hq_errors *errs)
{
	size_t nerr = errs->total;
	char path[64];
	X509 *x;
	EVP_PKEY *k;

	snprintf(path, sizeof(path), "sslcerts[%zu].certfile", i);
	x = read_cert(c->certfile, &c->certfile_at, path, errs);
	snprintf(path, sizeof(path), "sslcerts[%zu].keyfile", i);
	k = read_key(c->keyfile, &c->keyfile_at, path, errs);
	if (x != NULL && k != NULL && X509_check_private_key(x, k) != 1) {
		ERR_clear_error();
		hq_errors_add(errs, &c->keyfile_at, path, "the key in \"%s\" does "
		    "not match the certificate in \"%s\"", c->keyfile, c->certfile);
	}
	X509_free(x);
	EVP_PKEY_free(k);
	if (c->chainfile != NULL) {
		snprintf(path, sizeof(path), "sslcerts[%zu].chainfile", i);
		read_certs(c->chainfile, &c->chainfile_at, path, errs);
	}
	if (c->cafile != NULL) {
		snprintf(path, sizeof(path), "sslcerts[%zu].cafile", i);
		read_certs(c->cafile, &c->cafile_at, path, errs);
	}
	return errs->total == nerr ? 0 : -1;
}

int
hq_sslbind_check_all(const struct hq_store *s, struct hq_errors *errs)
{
	int rc = 0;

	for (size_t i = 0; i < s->nsslcerts; i++)
		rc |= hq_sslbind_check(&s->sslcerts[i], i, errs);
	return rc;
}

/* A subject in RFC 2253 form, "CN=www.example.com,O=Example", as modules
 * see a client's (httpq_tls_info.client_subject); control characters and
 * non-ASCII bytes come escaped (\\0A, \\C3\\A9). */
void
hq_x509_subject(const X509 *x, char *buf, size_t size)
{
	BIO *b = BIO_new(BIO_s_mem());
	int n = 0;

	if (b != NULL && X509_NAME_print_ex(b, X509_get_subject_name(x), 0,
	    XN_FLAG_RFC2253) >= 0)
		n = BIO_read(b, buf, (int)size - 1);
	buf[n > 0 ? n : 0] = '\0';
	BIO_free(b);
	ERR_clear_error();
}

static void
describe_sans(const X509 *x, struct hq_sslinfo *info)
{
	GENERAL_NAMES *names = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	size_t len = 0;

	info->sans[0] = '\0';
	for (int i = 0; names != NULL && i < sk_GENERAL_NAME_num(names); i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(names, i);
		char ip[64] = "";
		const char *kind, *v;

		if (g->type == GEN_DNS) {
			kind = "DNS";
			v = (const char *)ASN1_STRING_get0_data(g->d.dNSName);
		} else if (g->type == GEN_IPADD) {
			const unsigned char *a = ASN1_STRING_get0_data(g->d.iPAddress);
			int al = ASN1_STRING_length(g->d.iPAddress);

			kind = "IP";
			if (al == 4)
				snprintf(ip, sizeof(ip), "%u.%u.%u.%u", a[0], a[1], a[2], a[3]);
			else
				for (int j = 0; j + 1 < al && j < 16; j += 2)
					snprintf(ip + strlen(ip), sizeof(ip) - strlen(ip),
					    "%s%x", j ? ":" : "", (a[j] << 8) | a[j + 1]);
			v = ip;
		} else {
			continue;
		}
		if (len < sizeof(info->sans))
			len += (size_t)snprintf(info->sans + len,
			    sizeof(info->sans) - len, "%s%s:%s", len ? ", " : "",
			    kind, v);
	}
	GENERAL_NAMES_free(names);
}

/*
 * The one description of a certificate, for the files of a binding (show
 * sslcert), for what a binding serves (tls_ctx.c) and for the log line when it
 * changes: so that the three read the same.
 */
void
hq_x509_describe(const X509 *x, struct hq_sslinfo *info)
{
	struct tm tm;

	memset(info, 0, sizeof(*info));
	hq_x509_subject(x, info->subject, sizeof(info->subject));
	describe_sans(x, info);
	if (ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm) == 1) {
		info->not_after = timegm(&tm);
		strftime(info->not_after_text, sizeof(info->not_after_text),
		    "%Y-%m-%d %H:%M:%S UTC", &tm);
	}
	hq_x509_sha256(x, true, info->sha256, sizeof(info->sha256));
	ERR_clear_error();
}

int
hq_x509_sha256(const X509 *x, bool colons, char *buf, size_t size)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	size_t len = 0;

	if (size == 0)
		return -1;
	buf[0] = '\0';
	if (X509_digest(x, EVP_sha256(), md, &mdlen) != 1 || mdlen != 32 ||
	    size < (colons ? 3 * 32 : 2 * 32 + 1)) {
		ERR_clear_error();
		return -1;
	}
	for (unsigned i = 0; i < mdlen; i++)
		len += (size_t)snprintf(buf + len, size - len,
		    colons ? "%s%02X" : "%s%02x", colons && i ? ":" : "", md[i]);
	return (int)len;
}

int
hq_sslbind_describe(const struct hq_store_sslcert *c, struct hq_sslinfo *info,
    char *err, size_t errlen)
{
	struct hq_errors errs = { 0 };
	X509 *x;

	memset(info, 0, sizeof(*info));
	x = read_cert(c->certfile, NULL, NULL, &errs);
	if (x == NULL) {
		snprintf(err, errlen, "%s", errs.n ? errs.msg[0] : "unreadable");
		hq_errors_free(&errs);
		return -1;
	}
	hq_x509_describe(x, info);
	X509_free(x);
	return 0;
}
