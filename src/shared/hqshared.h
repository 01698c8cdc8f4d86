/*
 * hqshared.h -- code that httpqd and httpqctl share and that needs OpenSSL.
 *
 * Layer: src/shared/, built as libhqshared.a and linked by src/daemon/
 * (httpqd) and src/ctl/ (httpqctl), never by the unit tests or fuzzers.
 * May call: src/lib/ (httpq-internal.h) and OpenSSL; never the daemon or
 * httpqctl (what only the daemon knows comes in as callbacks, such as
 * the served certificate of `show sslcert`).
 * Called by: src/daemon/ and src/ctl/.
 *
 * ctlshow.c needs no OpenSSL header itself, but it describes certificates
 * with sslbind.c, so the two live together.
 */
#ifndef HTTPQ_SHARED_H
#define HTTPQ_SHARED_H

#include "httpq-internal.h"

/* ---------------------------------------------------------------------
 * sslbind.c -- SSL bindings checked and described with OpenSSL (linked
 * into httpqd and httpqctl, not into the store's unit tests and fuzzer).
 * ------------------------------------------------------------------- */
struct hq_sslinfo {
	char subject[256];        /* RFC 2253: "CN=www.example.com,O=Example" */
	char sans[512];           /* "DNS:www.example.com, IP:127.0.0.1" */
	time_t not_after;
	char not_after_text[32];  /* "2027-11-25 17:00:00 UTC" */
	char sha256[96];          /* "AB:CD:...", of the DER certificate */
};
/* Files readable, PEM parses, key matches certificate, chain and CA parse.
 * Errors name the file:line of the key concerned, as "sslcerts[i].keyfile". */
int hq_sslbind_check(const struct hq_store_sslcert *c, size_t i, struct hq_errors *errs);
int hq_sslbind_check_all(const struct hq_store *s, struct hq_errors *errs);
int hq_sslbind_describe(const struct hq_store_sslcert *c, struct hq_sslinfo *info,
    char *err, size_t errlen);
/* The one description of a certificate (struct x509_st is OpenSSL's X509):
 * every subject, expiry and fingerprint shown or logged comes from here. */
struct x509_st;
void hq_x509_describe(const struct x509_st *x, struct hq_sslinfo *info);
void hq_x509_subject(const struct x509_st *x, char *buf, size_t size);
/* The SHA-256 fingerprint of the DER certificate: "AB:CD:..." with colons
 * (95 characters: hq_sslinfo.sha256, show sslcert, log lines), else 64
 * lower-case hex digits (httpq_tls_info.client_fingerprint_sha256).
 * Returns its length, or -1 with buf "" if it cannot be computed. */
int hq_x509_sha256(const struct x509_st *x, bool colons, char *buf, size_t size);

/* ---------------------------------------------------------------------
 * ctlshow.c -- show urlacl|sslcert|iplisten|timeout of a store, as text
 * tables or JSON; httpqd over the socket, httpqctl from the files.
 * ------------------------------------------------------------------- */
struct hq_table {
	size_t ncols, nrows;
	char **head;
	char ***rows;
};
struct hq_table *hq_table_new(size_t ncols, ...);
void hq_table_row(struct hq_table *t, ...);
void hq_table_print(FILE *f, struct hq_table *t, const char *empty);
void hq_json_str(FILE *f, const char *s);
void hq_json_origin(FILE *f, const struct hq_origin *at);
const char *hq_origin_text(const struct hq_origin *at, char *buf, size_t size);
void hq_show_urlacl(FILE *f, const struct hq_store *s, const char *only, bool json);
void hq_show_sslcert(FILE *f, const struct hq_store *s, const char *only, bool json);
/* What binding c (of s) serves right now, into info: 0, or -1 if unknown.
 * httpqd's control socket passes one to show what a daemon serves. */
typedef int hq_show_served_fn(const struct hq_store_sslcert *c, struct hq_sslinfo *info,
    void *arg);
/* hq_show_sslcert, plus what is served when served is not NULL. */
void hq_show_sslcert_served(FILE *f, const struct hq_store *s, const char *only, bool json,
    hq_show_served_fn *served, void *arg);
void hq_show_iplisten(FILE *f, const struct hq_store *s, bool json);
void hq_show_timeout(FILE *f, const struct hq_store *s, bool json);
/* show cachestate: entries of the daemon's response cache (filled by
 * src/daemon/cache.c) and its totals. */
struct hq_cacheinfo {
	char *url;               /* "http://host:port/path?query" */
	char *group;             /* URL group */
	char *accept_encoding;   /* keyed on it (Vary), else NULL */
	uint64_t bytes;          /* memory it takes */
	uint64_t body_bytes;
	uint64_t hits;
	int policy;              /* enum httpq_cache_policy */
	uint32_t ttl;            /* seconds, for a time to live */
	int64_t ttl_left;        /* seconds, -1 for user_invalidates */
	uint64_t age;            /* seconds since it was stored */
};
struct hq_cachestats {
	bool enabled;
	uint64_t entries, bytes, max_bytes, max_response_bytes;
	uint64_t hits, misses, inserts, evictions, flushed;
};
void hq_show_cachestate(FILE *f, const struct hq_cacheinfo *v, size_t n,
    const struct hq_cachestats *st, bool json);
void hq_cacheinfo_free(struct hq_cacheinfo *v, size_t n);

#endif /* HTTPQ_SHARED_H */
