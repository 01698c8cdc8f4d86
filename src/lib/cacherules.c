/*
 * cacherules.c -- the rules of the response cache, without the cache:
 * which requests may be answered from it, which responses may be kept,
 * conditional requests answered from an entry, the key's hash and the
 * URL an entry is shown and flushed by.
 *
 * http.sys's kernel response cache is the model (HttpSendHttpResponse
 * with an HTTP_CACHE_POLICY): a complete GET without a body, without
 * Authorization and without Range or If-Range; a 200 response sent whole,
 * of at most UriMaxUriBytes.  RFC 9111 adds what a shared cache must not
 * keep: Set-Cookie, Cache-Control private, no-store or no-cache, and a Vary
 * it cannot honour (only Vary: Accept-Encoding is, by keying on the
 * request's Accept-Encoding).  The store of entries is the daemon's
 * (src/daemon/cache.c); nothing here allocates but hq_cache_url*.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "httpq-internal.h"

static const struct hq_str *
req_header(const struct hq_head *h, const char *name)
{
	size_t n = strlen(name);

	for (size_t i = 0; i < h->nheaders; i++)
		if (h->headers[i].name.n == n &&
		    hq_mem_eq_nocase(h->headers[i].name.p, name, n))
			return &h->headers[i].value;
	return NULL;
}

static bool
method_is(struct hq_str m, const char *lit)
{
	return m.n == strlen(lit) && memcmp(m.p, lit, m.n) == 0;
}

/* Fields that send a request past the cache (true), and the validators
 * of a conditional answered from an entry (the first of each, into cd):
 * one pass over the head, names compared only where the length matches
 * (this runs on every GET). */
static bool
bypass_field(const struct hq_hdr *f, struct hq_cache_conds *cd)
{
	struct hq_str n = f->name;

	switch (n.n) {
	case 5:
		return hq_mem_eq_nocase(n.p, "Range", 5);
	case 8:
		return hq_mem_eq_nocase(n.p, "If-Range", 8) ||
		    hq_mem_eq_nocase(n.p, "If-Match", 8);
	case 13:
		if (cd->inm == NULL && hq_mem_eq_nocase(n.p, "If-None-Match", 13))
			cd->inm = &f->value;
		return hq_mem_eq_nocase(n.p, "Authorization", 13);
	case 17:
		if (cd->ims == NULL && hq_mem_eq_nocase(n.p, "If-Modified-Since", 17))
			cd->ims = &f->value;
		return false;
	case 19:
		return hq_mem_eq_nocase(n.p, "If-Unmodified-Since", 19);
	default:
		return false;
	}
}

enum hq_cache_req
hq_cache_request(const struct hq_head *h)
{
	struct hq_cache_conds cd;

	return hq_cache_request_conds(h, &cd);
}

enum hq_cache_req
hq_cache_request_conds(const struct hq_head *h, struct hq_cache_conds *cd)
{
	enum hq_cache_req k;

	*cd = (struct hq_cache_conds){ NULL, NULL };

	if (method_is(h->method, "GET"))
		k = HQ_CREQ_GET;
	else if (method_is(h->method, "HEAD"))
		k = HQ_CREQ_HEAD;
	else
		return HQ_CREQ_NO;
	if (h->chunked || h->content_length > 0 || h->asterisk_form)
		return HQ_CREQ_NO;
	for (size_t i = 0; i < h->nheaders; i++)
		if (bypass_field(&h->headers[i], cd))
			return HQ_CREQ_NO;
	return k;
}

/* --- lists of tokens ---------------------------------------------------------- */

/* The next element of a comma-separated list at *p (before e), trimmed;
 * false at the end. */
static bool
list_next(const char **p, const char *e, struct hq_str *item)
{
	const char *s, *t;

	while (*p < e && (**p == ' ' || **p == '\t' || **p == ','))
		(*p)++;
	if (*p == e)
		return false;
	s = *p;
	while (*p < e && **p != ',')
		(*p)++;
	t = *p;
	while (t > s && (t[-1] == ' ' || t[-1] == '\t'))
		t--;
	*item = (struct hq_str){ s, (size_t)(t - s) };
	return true;
}

/* The directive name of a Cache-Control element ("max-age=5" -> max-age). */
static bool
directive_is(struct hq_str d, const char *name)
{
	size_t n = strlen(name);

	return d.n >= n && hq_mem_eq_nocase(d.p, name, n) &&
	    (d.n == n || d.p[n] == '=' || d.p[n] == ' ' || d.p[n] == '\t');
}

#define NAME_IS(h, lit) ((h)->name_len == sizeof(lit) - 1 && \
	hq_mem_eq_nocase((h)->name, (lit), sizeof(lit) - 1))

const char *
hq_cache_response(int status, const httpq_header *h, size_t n,
    struct hq_cache_resp *out)
{
	*out = (struct hq_cache_resp){ .last_modified = -1 };
	if (status != 200)
		return "status other than 200";
	for (size_t i = 0; i < n; i++, h++) {
		const char *p = h->value, *e = h->value + h->value_len;
		struct hq_str d;

		if (NAME_IS(h, "Set-Cookie"))
			return "Set-Cookie";
		if (NAME_IS(h, "Date"))
			return "a Date of the module's";
		if (NAME_IS(h, "Connection"))
			return "Connection";
		if (NAME_IS(h, "Cache-Control"))
			while (list_next(&p, e, &d))
				if (directive_is(d, "no-store") ||
				    directive_is(d, "private") ||
				    directive_is(d, "no-cache"))
					return "Cache-Control no-store, private "
					    "or no-cache";
		if (NAME_IS(h, "Vary")) {
			while (list_next(&p, e, &d)) {
				if (d.n != 15 || !hq_mem_eq_nocase(d.p,
				    "Accept-Encoding", 15))
					return "Vary other than Accept-Encoding";
				out->vary_ae = true;
			}
		}
		if (NAME_IS(h, "ETag"))
			out->etag = (struct hq_str){ h->value, h->value_len };
		if (NAME_IS(h, "Last-Modified"))
			out->last_modified = hq_http_date_parse(h->value, h->value_len);
		if (NAME_IS(h, "Server"))
			out->has_server = true;
	}
	return NULL;
}

bool
hq_cache_304_field(const char *name, size_t n)
{
	static const char *const keep[] = {
		"ETag", "Last-Modified", "Cache-Control", "Expires", "Vary",
		"Content-Location", NULL
	};

	for (size_t i = 0; keep[i]; i++)
		if (n == strlen(keep[i]) && hq_mem_eq_nocase(name, keep[i], n))
			return true;
	return false;
}

/* --- conditionals (RFC 9110 13.1.2, 13.1.3) --------------------------------- */

/* An entity tag without its weakness: W/"x" -> "x". */
static struct hq_str
opaque(struct hq_str t)
{
	if (t.n >= 2 && t.p[0] == 'W' && t.p[1] == '/')
		return (struct hq_str){ t.p + 2, t.n - 2 };
	return t;
}

int
hq_cache_conditional(const struct hq_head *h, struct hq_str etag,
    int64_t last_modified)
{
	struct hq_cache_conds cd = { req_header(h, "If-None-Match"),
		req_header(h, "If-Modified-Since") };

	return hq_cache_conditional_of(&cd, etag, last_modified);
}

int
hq_cache_conditional_of(const struct hq_cache_conds *cd, struct hq_str etag,
    int64_t last_modified)
{
	const struct hq_str *inm = cd->inm, *ims = cd->ims;

	if (inm != NULL) {
		const char *p = inm->p, *e = inm->p + inm->n;
		struct hq_str t, mine = opaque(etag);

		/* Weak comparison; "*" matches any current representation. */
		while (list_next(&p, e, &t)) {
			if (t.n == 1 && t.p[0] == '*')
				return 304;
			t = opaque(t);
			if (etag.n > 0 && t.n == mine.n && memcmp(t.p, mine.p, t.n) == 0)
				return 304;
		}
		return 200; /* If-Modified-Since is ignored after If-None-Match */
	}
	if (ims != NULL && last_modified >= 0) {
		int64_t since = hq_http_date_parse(ims->p, ims->n);

		if (since >= 0 && last_modified <= since)
			return 304;
	}
	return 200;
}

/* --- key and URL ------------------------------------------------------------------ */

/*
 * The key's hash: eight bytes at a time (a hit hashes host, path and
 * query, and byte-wise FNV cost 300 instructions of it), each word
 * multiplied into the state, the lengths mixed in between the fields so
 * that "a" "/b" and "a/" "b" differ, and the MurmurHash3 finaliser at the
 * end.  The host is folded to lower case a word at a time.  The seed,
 * drawn at start, keeps the buckets unpredictable; chains are bounded
 * anyway (cache.c).
 */
#define HASH_MUL 0x9fb21c651e98df25ULL

static uint64_t
hash_word(uint64_t h, uint64_t w)
{
	h = (h ^ w) * HASH_MUL;
	return h ^ (h >> 29);
}

/* ASCII A-Z in the eight bytes of w to a-z, nothing else changed. */
static uint64_t
fold_word(uint64_t w)
{
	const uint64_t hi = 0x8080808080808080ULL;
	uint64_t b = w & ~hi;                       /* bytes 0-0x7f: no carry below */
	uint64_t ge_a = b + 0x3f3f3f3f3f3f3f3fULL;  /* bit 7 set: >= 'A' */
	uint64_t gt_z = b + 0x2525252525252525ULL;  /* bit 7 set: > 'Z' */

	return w | ((ge_a & ~gt_z & ~w & hi) >> 2);
}

static uint64_t
hash_bytes(uint64_t h, const char *p, size_t n, bool lower)
{
	const char *end = p + n;
	uint64_t w = 0;

	h = hash_word(h, n);
	if (n >= 8) {
		for (; end - p > 8; p += 8) {
			memcpy(&w, p, 8);
			h = hash_word(h, lower ? fold_word(w) : w);
		}
		memcpy(&w, end - 8, 8); /* the last eight, over the word before */
	} else {
		for (size_t i = 0; i < n; i++)
			w |= (uint64_t)(unsigned char)p[i] << (8 * i);
	}
	return hash_word(h, lower ? fold_word(w) : w);
}

uint64_t
hq_cache_hash(uint64_t seed, bool https, uint32_t group, struct hq_str host,
    struct hq_str path, struct hq_str query)
{
	uint64_t h = hash_word(seed, ((uint64_t)group << 1) | https);

	h = hash_bytes(h, host.p, host.n, true);
	h = hash_bytes(h, path.p, path.n, false);
	h = hash_bytes(h, query.p, query.n, false);
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	return h ^ (h >> 33);
}

/* The length of the host part of a Host value: without ":port". */
static size_t
host_len(struct hq_str h)
{
	if (h.n > 0 && h.p[0] == '[') {
		const char *e = memchr(h.p, ']', h.n);

		return e ? (size_t)(e - h.p) + 1 : h.n;
	}
	for (size_t i = 0; i < h.n; i++)
		if (h.p[i] == ':')
			return i;
	return h.n;
}

char *
hq_cache_url(bool https, struct hq_str host, uint16_t port, struct hq_str path,
    struct hq_str query)
{
	size_t hl = host_len(host);
	char *url = xasprintf("%s://%.*s:%u%.*s%s%.*s", https ? "https" : "http",
	    (int)hl, host.p ? host.p : "", port, (int)path.n, path.p ? path.p : "",
	    query.n ? "?" : "", (int)query.n, query.p ? query.p : "");
	size_t skip = https ? 8 : 7;

	for (size_t i = skip; i < skip + hl; i++)
		if (url[i] >= 'A' && url[i] <= 'Z')
			url[i] = (char)(url[i] + 32);
	return url;
}

char *
hq_cache_url_parse(const char *in)
{
	struct hq_limits lim = {
		.max_url_length = HQ_DEFAULT_MAX_URL_LENGTH,
		.segment_max_length = 0, .segment_max_count = 0,
	};
	const char *a, *end;
	bool https;
	unsigned long port;
	char *cooked, *pe, *url = NULL;
	size_t plen = 0, n;
	struct hq_str query, host;
	const char *path;

	if (strncmp(in, "http://", 7) == 0)
		https = false, a = in + 7;
	else if (strncmp(in, "https://", 8) == 0)
		https = true, a = in + 8;
	else
		return NULL;
	end = a + strcspn(a, "/?#");
	n = (size_t)(end - a);
	if (n == 0 || n > HQ_HOST_NAME_MAX_LEN + 8)
		return NULL;
	host = (struct hq_str){ a, host_len((struct hq_str){ a, n }) };
	port = https ? 443 : 80;
	if (host.n < n) {
		if (a[host.n] != ':')
			return NULL;
		port = strtoul(a + host.n + 1, &pe, 10);
		if (pe != end || port < 1 || port > 65535)
			return NULL;
	}
	if (host.n == 0 || *end == '#')
		return NULL;
	if (strchr(end, '#') != NULL)
		return NULL;
	/* "http://h:80?q" is the path "/" with a query */
	path = xasprintf("%s%s", *end == '/' ? "" : "/", end);
	cooked = xmalloc(strlen(path) + 2);
	if (hq_url_cook(path, strlen(path), &lim, cooked, strlen(path) + 2, &plen,
	    &query) == HQ_OK)
		url = hq_cache_url(https, host, (uint16_t)port,
		    (struct hq_str){ cooked, plen }, query);
	free(cooked);
	free((char *)path);
	return url;
}

bool
hq_cache_url_match(const char *url, const char *want, bool recursive)
{
	size_t n = strlen(want);

	if (!recursive)
		return strcmp(url, want) == 0;
	if (strncmp(url, want, n) != 0)
		return false;
	/* whole segments: /a matches /a, /a/b and /a?q, never /ab */
	return url[n] == '\0' || want[n - 1] == '/' || url[n] == '/' || url[n] == '?';
}
