/*
 * test_http1.c -- request head parser and chunked decoder, one table row per
 * case.  Every head row is also fed a byte at a time and split in two, and
 * must give the same answer: the parser's result depends on the bytes only.
 */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "httpq-internal.h"
#include "check_main.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
/* A raw byte string and its length: rows may hold NUL bytes. */
#define RAW(s) s, sizeof(s) - 1
#define NHDR 128

#define INCOMPLETE (-2) /* expected: parse returns 0 */
#define H11 " / HTTP/1.1\r\nHost: h\r\n"

static const struct hq_limits deflim = {
	HQ_DEFAULT_MAX_REQUEST_BYTES, HQ_DEFAULT_MAX_FIELD_LENGTH,
	HQ_DEFAULT_MAX_URL_LENGTH, HQ_DEFAULT_MAX_HEADERS,
	HQ_DEFAULT_SEGMENT_MAX_LENGTH, HQ_DEFAULT_SEGMENT_MAX_COUNT,
};

static struct hq_hdr hdrs[NHDR];

static void
head_init(struct hq_head *h, size_t cap)
{
	memset(h, 0, sizeof(*h));
	h->headers = hdrs;
	h->hdr_cap = cap;
}

/* Result as one int: head_len, 0, or -1000 - error. */
static int
outcome(int ret, const struct hq_head *h)
{
	return ret < 0 ? -1000 - (int)h->error : ret;
}

static int
parse_whole(const char *raw, size_t len, const struct hq_limits *lim,
    struct hq_head *h)
{
	size_t scanned = 0;

	head_init(h, NHDR);
	return outcome(hq_http1_parse_head(raw, len, &scanned, lim, h), h);
}

/*
 * Feeds raw[0..k) for k = 1..len, as a connection would, carrying *scanned.
 * Checks that the scan never goes back and never lags more than the
 * three bytes an LF and its look-ahead take, so the total work is O(len).
 */
static int
parse_dribble(const char *raw, size_t len, const struct hq_limits *lim,
    struct hq_head *h)
{
	size_t scanned = 0, prev = 0;
	int r = 0;

	for (size_t k = 1; k <= len && r == 0; k++) {
		head_init(h, NHDR);
		r = outcome(hq_http1_parse_head(raw, k, &scanned, lim, h), h);
		ck_assert_uint_ge(scanned, prev);
		if (r == 0 && k > 2 * 4 + 1)
			ck_assert_uint_ge(scanned + 3, k);
		prev = scanned;
	}
	return r;
}

/* raw[0..cut) first, then all of it. */
static int
parse_split(const char *raw, size_t len, size_t cut,
    const struct hq_limits *lim, struct hq_head *h)
{
	size_t scanned = 0;
	int r;

	head_init(h, NHDR);
	r = outcome(hq_http1_parse_head(raw, cut, &scanned, lim, h), h);
	if (r != 0)
		return r;
	head_init(h, NHDR);
	return outcome(hq_http1_parse_head(raw, len, &scanned, lim, h), h);
}

/* Whole, dribbled and every 2-way split agree; returns the outcome. */
static int
parse_all_ways(const char *raw, size_t len, const struct hq_limits *lim,
    struct hq_head *h)
{
	int whole = parse_whole(raw, len, lim, h), r;
	struct hq_head tmp;

	r = parse_dribble(raw, len, lim, &tmp);
	ck_assert_msg(r == whole, "dribbled %d, whole %d", r, whole);
	for (size_t cut = 0; cut < len && len < 600; cut++) {
		r = parse_split(raw, len, cut, lim, &tmp);
		ck_assert_msg(r == whole, "split at %zu: %d, whole %d", cut, r, whole);
	}
	return whole;
}

static bool
str_is(struct hq_str s, const char *lit)
{
	return s.n == strlen(lit) && (s.n == 0 || memcmp(s.p, lit, s.n) == 0);
}

/* Every view points into the head (path may be the static "/"). */
static void
assert_inside(const char *raw, const struct hq_head *h)
{
	const struct hq_str *v[] = { &h->method, &h->target, &h->host };

	for (size_t i = 0; i < NELEM(v); i++)
		if (v[i]->n > 0)
			ck_assert(v[i]->p >= raw && v[i]->p + v[i]->n <= raw + h->head_len);
	ck_assert(str_is(h->path, "/") ||
	    (h->path.p >= raw && h->path.p + h->path.n <= raw + h->head_len));
	for (size_t i = 0; i < h->nheaders; i++) {
		ck_assert(h->headers[i].name.p >= raw);
		ck_assert(h->headers[i].value.p + h->headers[i].value.n <=
		    raw + h->head_len);
	}
}

/* --- outcome of each rule ----------------------------------------------- */

static const struct err_case {
	const char *raw;
	size_t len;
	int err; /* HQ_OK (the whole row is one head), INCOMPLETE, or an error */
} err_cases[] = {
	/* line endings: P-LINE-3 bare LF is a line end, P-LINE-4 bare CR
	 * and NUL are refused */
	{ RAW("GET / HTTP/1.1\r\nHost: h\r\n\r\n"), HQ_OK },
	{ RAW("GET / HTTP/1.1\nHost: h\n\n"), HQ_OK },
	{ RAW("GET / HTTP/1.1\r\nHost: h\n\r\n"), HQ_OK },
	{ RAW("GET / HTTP/1.1\nHost: h\r\n\n"), HQ_OK },
	{ RAW("GET / HTTP/1.1\rHost: h\r\n\r\n"), HQ_ERR_BAD_CRLF },
	{ RAW("GET / HTTP/1.1\r\r\nHost: h\r\n\r\n"), HQ_ERR_BAD_CRLF },
	{ RAW("GET /\r HTTP/1.1\r\nHost: h\r\n\r\n"), HQ_ERR_BAD_CRLF },
	{ RAW("GET" H11 "X: a\rb\r\n\r\n"), HQ_ERR_BAD_CRLF },
	{ RAW("GET" H11 "X: a\r\r\n\r\n"), HQ_ERR_BAD_CRLF },
	{ RAW("GET" H11 "X\r: a\r\n\r\n"), HQ_ERR_BAD_CRLF },
	{ RAW("GET" H11 "\r\r\n\r\n"), HQ_ERR_BAD_CRLF },
	{ RAW("GET" H11 "\rX: a\r\n\r\n"), HQ_ERR_BAD_CRLF },
	{ RAW("GET" H11 "\n\rX"), HQ_OK }, /* head ends at the empty line */
	{ RAW("G\0T / HTTP/1.1\r\nHost: h\r\n\r\n"), HQ_ERR_BAD_CRLF },
	{ RAW("GET /\0 HTTP/1.1\r\nHost: h\r\n\r\n"), HQ_ERR_BAD_CRLF },
	{ RAW("GET / HTTP/1.\0\r\nHost: h\r\n\r\n"), HQ_ERR_BAD_CRLF },
	{ RAW("GET / HTTP/1.1\r\nHo\0st: h\r\n\r\n"), HQ_ERR_BAD_CRLF },
	{ RAW("GET" H11 "X: a\0b\r\n\r\n"), HQ_ERR_BAD_CRLF },
	{ RAW("GET" H11 "\0\r\n\r\n"), HQ_ERR_BAD_CRLF },
	/* P-LINE-2: empty lines before the request line */
	{ RAW("\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n"), HQ_OK },
	{ RAW("\n\r\n\r\n\nGET / HTTP/1.1\r\nHost: h\r\n\r\n"), HQ_OK },
	{ RAW("\r\n\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n"),
	    HQ_ERR_BAD_REQUEST },
	{ RAW("\r\n\r\n"), INCOMPLETE },
	{ RAW("\r"), INCOMPLETE },
	{ RAW("\rGET / HTTP/1.1\r\nHost: h\r\n\r\n"), HQ_ERR_BAD_CRLF },
	/* incomplete heads */
	{ RAW(""), INCOMPLETE },
	{ RAW("GET / HTTP/1.1"), INCOMPLETE },
	{ RAW("GET / HTTP/1.1\r\nHost: h\r\n"), INCOMPLETE },
	{ RAW("GET / HTTP/1.1\r\nHost: h\r\n\r"), INCOMPLETE },
	{ RAW("GET / HTTP/1.1\r\nHost: h\n"), INCOMPLETE },
	{ RAW("GARBAGE\x16\x03\x01"), INCOMPLETE },
	/* request line: P-LINE-1 one SP, P-VERSION-2 505, P-VERSION-3 no
	 * version, P-VERSION-4 version syntax */
	{ RAW("GET  / HTTP/1.1\r\nHost: h\r\n\r\n"), HQ_ERR_BAD_REQUEST },
	{ RAW("GET /  HTTP/1.1\r\nHost: h\r\n\r\n"), HQ_ERR_BAD_REQUEST },
	{ RAW("GET / HTTP/1.1 \r\nHost: h\r\n\r\n"), HQ_ERR_BAD_REQUEST },
	{ RAW("GET / HTTP/1.1 x\r\nHost: h\r\n\r\n"), HQ_ERR_BAD_REQUEST },
	{ RAW("GET\r\nHost: h\r\n\r\n"), HQ_ERR_BAD_REQUEST },
	{ RAW("GET /\r\nHost: h\r\n\r\n"), HQ_ERR_BAD_REQUEST },
	{ RAW("GET / \r\nHost: h\r\n\r\n"), HQ_ERR_BAD_REQUEST },
	{ RAW(" GET / HTTP/1.1\r\nHost: h\r\n\r\n"), HQ_ERR_BAD_VERB },
	{ RAW("GET\t/ HTTP/1.1\r\nHost: h\r\n\r\n"), HQ_ERR_BAD_VERB },
	{ RAW("GE(T / HTTP/1.1\r\nHost: h\r\n\r\n"), HQ_ERR_BAD_VERB },
	{ RAW("G\xc3\x89T / HTTP/1.1\r\nHost: h\r\n\r\n"), HQ_ERR_BAD_VERB },
	{ RAW("GET/ HTTP/1.1\r\nHost: h\r\n\r\n"), HQ_ERR_BAD_VERB },
	/* P-METHOD-2: methods are case-sensitive, lower case is refused */
	{ RAW("get / HTTP/1.1\r\nHost: h\r\n\r\n"), HQ_ERR_BAD_VERB },
	{ RAW("Get / HTTP/1.1\r\nHost: h\r\n\r\n"), HQ_ERR_BAD_VERB },
	{ RAW("post / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\n\r\n"),
	    HQ_ERR_BAD_VERB },
	/* P-METHOD-1: any other upper-case token goes to the module */
	{ RAW("M-SEARCH_X.~! / HTTP/1.1\r\nHost: h\r\n\r\n"), HQ_OK },
	{ RAW("PURGE / HTTP/1.1\r\nHost: h\r\n\r\n"), HQ_OK },
	/* P-METHOD-5: TRACE is a method like another; the module answers */
	{ RAW("TRACE / HTTP/1.1\r\nHost: h\r\n\r\n"), HQ_OK },
	{ RAW("GET / HTTP/1.0\r\n\r\n"), HQ_OK },
	{ RAW("GET / HTTP/2.0\r\nHost: h\r\n\r\n"), HQ_ERR_VERSION },
	{ RAW("GET / HTTP/1.2\r\nHost: h\r\n\r\n"), HQ_ERR_VERSION },
	{ RAW("GET / HTTP/0.9\r\nHost: h\r\n\r\n"), HQ_ERR_VERSION },
	{ RAW("GET / HTTP/9.9\r\nHost: h\r\n\r\n"), HQ_ERR_VERSION },
	{ RAW("GET / http/1.1\r\nHost: h\r\n\r\n"), HQ_ERR_BAD_REQUEST },
	{ RAW("GET / HTTP/1.10\r\nHost: h\r\n\r\n"), HQ_ERR_BAD_REQUEST },
	{ RAW("GET / HTTP/1\r\nHost: h\r\n\r\n"), HQ_ERR_BAD_REQUEST },
	{ RAW("GET / HTTP/1.x\r\nHost: h\r\n\r\n"), HQ_ERR_BAD_REQUEST },
	{ RAW("GET / HTTPS/1.1\r\nHost: h\r\n\r\n"), HQ_ERR_BAD_REQUEST },
	{ RAW("GET / HTTP/1.1\t\r\nHost: h\r\n\r\n"), HQ_ERR_BAD_REQUEST },
	/* request-target: P-LINE-5 forms, P-LINE-6 bytes */
	{ RAW("GET /a\tb HTTP/1.1\r\nHost: h\r\n\r\n"), HQ_ERR_BAD_URL },
	{ RAW("GET /a\x7f HTTP/1.1\r\nHost: h\r\n\r\n"), HQ_ERR_BAD_URL },
	{ RAW("GET /a\x01 HTTP/1.1\r\nHost: h\r\n\r\n"), HQ_ERR_BAD_URL },
	{ RAW("GET /a\x1f HTTP/1.1\r\nHost: h\r\n\r\n"), HQ_ERR_BAD_URL },
	{ RAW("GET /caf\xc3\xa9 HTTP/1.1\r\nHost: h\r\n\r\n"), HQ_OK },
	{ RAW("GET /a\"<>{}|\\^`#[] HTTP/1.1\r\nHost: h\r\n\r\n"), HQ_OK },
	{ RAW("GET example.com:443 HTTP/1.1\r\nHost: h\r\n\r\n"), HQ_ERR_BAD_URL },
	/* P-METHOD-4: CONNECT in any form */
	{ RAW("CONNECT h:443 HTTP/1.1\r\nHost: h\r\n\r\n"), HQ_ERR_BAD_URL },
	{ RAW("CONNECT / HTTP/1.1\r\nHost: h\r\n\r\n"), HQ_ERR_BAD_URL },
	{ RAW("CONNECT http://h/ HTTP/1.1\r\nHost: h\r\n\r\n"), HQ_ERR_BAD_URL },
	{ RAW("GET ftp://h/ HTTP/1.1\r\nHost: h\r\n\r\n"), HQ_ERR_BAD_URL },
	{ RAW("GET http:/h/ HTTP/1.1\r\nHost: h\r\n\r\n"), HQ_ERR_BAD_URL },
	{ RAW("GET a/b HTTP/1.1\r\nHost: h\r\n\r\n"), HQ_ERR_BAD_URL },
	{ RAW("GET ?q HTTP/1.1\r\nHost: h\r\n\r\n"), HQ_ERR_BAD_URL },
	{ RAW("GET http:///x HTTP/1.1\r\nHost: h\r\n\r\n"), HQ_ERR_BAD_HOST },
	{ RAW("GET http://u@h/ HTTP/1.1\r\nHost: h\r\n\r\n"), HQ_ERR_BAD_HOST },
	{ RAW("GET http://h:80a/ HTTP/1.1\r\nHost: h\r\n\r\n"), HQ_ERR_BAD_HOST },
	{ RAW("GET http://h#f HTTP/1.1\r\nHost: h\r\n\r\n"), HQ_ERR_BAD_HOST },
	{ RAW("GET http://h/ HTTP/1.1\r\n\r\n"), HQ_ERR_BAD_HOST },
	{ RAW("GET http://h/ HTTP/1.1\r\nHost:\r\n\r\n"), HQ_OK },
	{ RAW("GET http://h/ HTTP/1.0\r\n\r\n"), HQ_OK },
	{ RAW("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n"), HQ_OK },
	{ RAW("OPTIONS *x HTTP/1.1\r\nHost: h\r\n\r\n"), HQ_ERR_BAD_URL },
	{ RAW("options * HTTP/1.1\r\nHost: h\r\n\r\n"), HQ_ERR_BAD_VERB },
	{ RAW("GET * HTTP/1.1\r\nHost: h\r\n\r\n"), HQ_ERR_BAD_URL },
	{ RAW("OPTIONS * HTTP/1.1\r\nHost:\r\n\r\n"), HQ_ERR_BAD_HOST },
	/* field lines: P-FIELD-1 space before colon, P-FIELD-2 obs-fold,
	 * P-FIELD-3 name, P-FIELD-4 value */
	{ RAW("GET" H11 "X: v\r\n\r\n"), HQ_OK },
	{ RAW("GET" H11 "X:\r\n\r\n"), HQ_OK },
	{ RAW("GET" H11 "X: caf\xe9\r\n\r\n"), HQ_OK },
	{ RAW("GET" H11 "X: a\tb \t\r\n\r\n"), HQ_OK },
	{ RAW("GET / HTTP/1.1\r\nHost : h\r\n\r\n"), HQ_ERR_BAD_HEADER },
	{ RAW("GET / HTTP/1.1\r\nHost\t: h\r\n\r\n"), HQ_ERR_BAD_HEADER },
	{ RAW("GET" H11 " X: folded\r\n\r\n"), HQ_ERR_OBS_FOLD },
	{ RAW("GET" H11 "\tfolded\r\n\r\n"), HQ_ERR_OBS_FOLD },
	{ RAW("GET / HTTP/1.1\r\n Host: h\r\n\r\n"), HQ_ERR_OBS_FOLD },
	{ RAW("GET" H11 "NoColon\r\n\r\n"), HQ_ERR_BAD_HEADER },
	{ RAW("GET" H11 ": v\r\n\r\n"), HQ_ERR_BAD_HEADER },
	{ RAW("GET" H11 "X(: v\r\n\r\n"), HQ_ERR_BAD_HEADER },
	{ RAW("GET" H11 "X\xe9: v\r\n\r\n"), HQ_ERR_BAD_HEADER },
	{ RAW("GET" H11 "X: a\x01z\r\n\r\n"), HQ_ERR_BAD_HEADER },
	{ RAW("GET" H11 "X: a\x7fz\r\n\r\n"), HQ_ERR_BAD_HEADER },
	{ RAW("GET" H11 "X: a\x0bz\r\n\r\n"), HQ_ERR_BAD_HEADER },
	/* Host: P-HOST-1 missing, P-HOST-2 twice, P-HOST-3 malformed */
	{ RAW("GET / HTTP/1.1\r\n\r\n"), HQ_ERR_BAD_HOST },
	{ RAW("GET / HTTP/1.1\r\nHost: h\r\nHost: h\r\n\r\n"), HQ_ERR_BAD_HOST },
	{ RAW("GET / HTTP/1.1\r\nHost: a\r\nhOST: b\r\n\r\n"), HQ_ERR_BAD_HOST },
	{ RAW("GET / HTTP/1.1\r\nHost:\r\n\r\n"), HQ_ERR_BAD_HOST },
	{ RAW("GET / HTTP/1.1\r\nHost:   \r\n\r\n"), HQ_ERR_BAD_HOST },
	{ RAW("GET / HTTP/1.0\r\n\r\n"), HQ_OK },
	{ RAW("GET / HTTP/1.0\r\nHost:\r\n\r\n"), HQ_OK },
	{ RAW("GET / HTTP/1.0\r\nHost: h\r\nHost: h\r\n\r\n"), HQ_ERR_BAD_HOST },
	{ RAW("GET / HTTP/1.1\r\nHost: a b\r\n\r\n"), HQ_ERR_BAD_HOST },
	{ RAW("GET / HTTP/1.1\r\nHost: h:8080\r\n\r\n"), HQ_OK },
	{ RAW("GET / HTTP/1.1\r\nHost: h:\r\n\r\n"), HQ_OK },
	{ RAW("GET / HTTP/1.1\r\nHost: h:65535\r\n\r\n"), HQ_OK },
	{ RAW("GET / HTTP/1.1\r\nHost: h:123456\r\n\r\n"), HQ_ERR_BAD_HOST },
	{ RAW("GET / HTTP/1.1\r\nHost: h:8a\r\n\r\n"), HQ_ERR_BAD_HOST },
	{ RAW("GET / HTTP/1.1\r\nHost: h:80:80\r\n\r\n"), HQ_ERR_BAD_HOST },
	{ RAW("GET / HTTP/1.1\r\nHost: :80\r\n\r\n"), HQ_ERR_BAD_HOST },
	{ RAW("GET / HTTP/1.1\r\nHost: 10.0.0.1:80\r\n\r\n"), HQ_OK },
	{ RAW("GET / HTTP/1.1\r\nHost: [::1]:80\r\n\r\n"), HQ_OK },
	{ RAW("GET / HTTP/1.1\r\nHost: [::ffff:10.0.0.1]\r\n\r\n"), HQ_OK },
	{ RAW("GET / HTTP/1.1\r\nHost: [::1\r\n\r\n"), HQ_ERR_BAD_HOST },
	{ RAW("GET / HTTP/1.1\r\nHost: [beef]\r\n\r\n"), HQ_ERR_BAD_HOST },
	{ RAW("GET / HTTP/1.1\r\nHost: [::g]\r\n\r\n"), HQ_ERR_BAD_HOST },
	{ RAW("GET / HTTP/1.1\r\nHost: [::1]x\r\n\r\n"), HQ_ERR_BAD_HOST },
	{ RAW("GET / HTTP/1.1\r\nHost: a%41b.Ex-am_ple~!$&'()*+,;=\r\n\r\n"), HQ_OK },
	{ RAW("GET / HTTP/1.1\r\nHost: a%4\r\n\r\n"), HQ_ERR_BAD_HOST },
	{ RAW("GET / HTTP/1.1\r\nHost: a%zz\r\n\r\n"), HQ_ERR_BAD_HOST },
	{ RAW("GET / HTTP/1.1\r\nHost: u@h\r\n\r\n"), HQ_ERR_BAD_HOST },
	{ RAW("GET / HTTP/1.1\r\nHost: h/x\r\n\r\n"), HQ_ERR_BAD_HOST },
	{ RAW("GET / HTTP/1.1\r\nHost: h\xc3\xa9\r\n\r\n"), HQ_ERR_BAD_HOST },
	/* Content-Length: P-FRAMING-3 */
	{ RAW("POST" H11 "Content-Length: 5\r\n\r\n"), HQ_OK },
	/* P-FRAMING-2: one Content-Length, one number: no list, no repeat */
	{ RAW("POST" H11 "Content-Length: 5, 5,5\r\n\r\n"), HQ_ERR_BAD_CONTENT_LENGTH },
	{ RAW("POST" H11 "Content-Length: 5,5\r\n\r\n"), HQ_ERR_BAD_CONTENT_LENGTH },
	{ RAW("POST" H11 "Content-Length: 5\r\ncontent-length: 005\r\n\r\n"),
	    HQ_ERR_BAD_CONTENT_LENGTH },
	{ RAW("POST" H11 "Content-Length: 5\r\nContent-Length: 5\r\n\r\n"),
	    HQ_ERR_BAD_CONTENT_LENGTH },
	/* P-FRAMING-3: leading zeros are digits; a sign is not */
	{ RAW("POST" H11 "Content-Length: 005\r\n\r\n"), HQ_OK },
	{ RAW("POST" H11 "Content-Length: 0000000000000000000000000\r\n\r\n"), HQ_OK },
	{ RAW("POST" H11 "Content-Length: 5, 6\r\n\r\n"), HQ_ERR_BAD_CONTENT_LENGTH },
	{ RAW("POST" H11 "Content-Length: 5\r\nContent-Length: 6\r\n\r\n"),
	    HQ_ERR_BAD_CONTENT_LENGTH },
	{ RAW("POST" H11 "Content-Length: -1\r\n\r\n"), HQ_ERR_BAD_CONTENT_LENGTH },
	{ RAW("POST" H11 "Content-Length: +1\r\n\r\n"), HQ_ERR_BAD_CONTENT_LENGTH },
	{ RAW("POST" H11 "Content-Length: 1a\r\n\r\n"), HQ_ERR_BAD_CONTENT_LENGTH },
	{ RAW("POST" H11 "Content-Length: 0x10\r\n\r\n"), HQ_ERR_BAD_CONTENT_LENGTH },
	{ RAW("POST" H11 "Content-Length:\r\n\r\n"), HQ_ERR_BAD_CONTENT_LENGTH },
	{ RAW("POST" H11 "Content-Length: 5,\r\n\r\n"), HQ_ERR_BAD_CONTENT_LENGTH },
	{ RAW("POST" H11 "Content-Length: 5,,5\r\n\r\n"), HQ_ERR_BAD_CONTENT_LENGTH },
	{ RAW("POST" H11 "Content-Length: 1 2\r\n\r\n"), HQ_ERR_BAD_CONTENT_LENGTH },
	{ RAW("POST" H11 "Content-Length: 4611686018427387904\r\n\r\n"), HQ_OK },
	{ RAW("POST" H11 "Content-Length: 4611686018427387905\r\n\r\n"),
	    HQ_ERR_BAD_CONTENT_LENGTH },
	{ RAW("POST" H11 "Content-Length: 99999999999999999999999\r\n\r\n"),
	    HQ_ERR_BAD_CONTENT_LENGTH },
	/* Transfer-Encoding: P-FRAMING-4 not chunked (501), P-FRAMING-5
	 * chunked not last, P-FRAMING-6 in HTTP/1.0, P-FRAMING-1 with CL */
	{ RAW("POST" H11 "Transfer-Encoding: chunked\r\n\r\n"), HQ_OK },
	{ RAW("POST" H11 "Transfer-Encoding: CHUNKED \r\n\r\n"), HQ_OK },
	{ RAW("POST" H11 "Transfer-Encoding: gzip, chunked\r\n\r\n"),
	    HQ_ERR_NOT_IMPLEMENTED },
	{ RAW("POST" H11 "Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n"),
	    HQ_ERR_NOT_IMPLEMENTED },
	{ RAW("POST" H11 "Transfer-Encoding: identity\r\n\r\n"), HQ_ERR_NOT_IMPLEMENTED },
	{ RAW("POST" H11 "Transfer-Encoding: deflate\r\n\r\n"), HQ_ERR_NOT_IMPLEMENTED },
	{ RAW("POST" H11 "Transfer-Encoding: x-unknown\r\n\r\n"), HQ_ERR_NOT_IMPLEMENTED },
	{ RAW("POST" H11 "Transfer-Encoding: chunked;q=1\r\n\r\n"), HQ_ERR_NOT_IMPLEMENTED },
	{ RAW("POST" H11 "Transfer-Encoding: chunked, gzip\r\n\r\n"), HQ_ERR_BAD_REQUEST },
	{ RAW("POST" H11 "Transfer-Encoding: chunked, chunked\r\n\r\n"),
	    HQ_ERR_BAD_REQUEST },
	{ RAW("POST" H11 "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n"),
	    HQ_ERR_BAD_REQUEST },
	{ RAW("POST" H11 "Transfer-Encoding:\r\n\r\n"), HQ_ERR_BAD_REQUEST },
	{ RAW("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"), HQ_ERR_BAD_REQUEST },
	{ RAW("POST" H11 "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"),
	    HQ_ERR_CL_AND_TE },
	{ RAW("POST" H11 "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n"),
	    HQ_ERR_CL_AND_TE },
	/* P-FRAMING-9: POST and PUT need a length, in 1.1 and in 1.0 */
	{ RAW("POST" H11 "\r\n"), HQ_ERR_LENGTH_REQUIRED },
	{ RAW("PUT" H11 "X: y\r\n\r\n"), HQ_ERR_LENGTH_REQUIRED },
	{ RAW("POST / HTTP/1.0\r\n\r\n"), HQ_ERR_LENGTH_REQUIRED },
	{ RAW("PUT / HTTP/1.0\r\n\r\n"), HQ_ERR_LENGTH_REQUIRED },
	{ RAW("POST / HTTP/1.1\r\n\r\n"), HQ_ERR_LENGTH_REQUIRED }, /* before Host */
	{ RAW("POST" H11 "Content-Length: 0\r\n\r\n"), HQ_OK },
	{ RAW("POST / HTTP/1.0\r\nContent-Length: 0\r\n\r\n"), HQ_OK },
	{ RAW("PATCH" H11 "\r\n"), HQ_OK },
	{ RAW("DELETE" H11 "\r\n"), HQ_OK },
	/* P-EXPECT-3: any expectation but 100-continue is 417 */
	{ RAW("GET" H11 "Expect: 100-continue\r\n\r\n"), HQ_OK },
	{ RAW("GET" H11 "Expect: 100-CONTINUE\r\n\r\n"), HQ_OK },
	{ RAW("GET" H11 "Expect:\r\n\r\n"), HQ_OK },
	{ RAW("GET" H11 "Expect: ,\r\n\r\n"), HQ_OK },
	{ RAW("GET" H11 "Expect: something\r\n\r\n"), HQ_ERR_EXPECTATION_FAILED },
	{ RAW("GET" H11 "Expect: 100-continue, x\r\n\r\n"), HQ_ERR_EXPECTATION_FAILED },
	{ RAW("GET" H11 "Expect: 100-continue\r\nExpect: x\r\n\r\n"),
	    HQ_ERR_EXPECTATION_FAILED },
	{ RAW("GET" H11 "Expect: 200-ok\r\n\r\n"), HQ_ERR_EXPECTATION_FAILED },
	{ RAW("GET / HTTP/1.0\r\nExpect: x\r\n\r\n"), HQ_ERR_EXPECTATION_FAILED },
};

START_TEST(test_err_cases)
{
	const struct err_case *c = &err_cases[_i];
	struct hq_head h;
	int r = parse_all_ways(c->raw, c->len, &deflim, &h);
	int want = c->err == INCOMPLETE ? 0 :
	    c->err == HQ_OK ? -1 : -1000 - c->err;

	if (want == -1) {
		/* A complete head: all of the row, unless it says "\n\rX". */
		ck_assert_msg(r > 0, "row %d: got %d", _i, r);
		if (c->raw[c->len - 1] != 'X')
			ck_assert_int_eq(r, (int)c->len);
		assert_inside(c->raw, &h);
	} else
		ck_assert_msg(r == want, "row %d: got %d, want %d", _i, r, want);
}
END_TEST

/* --- what a good head says ---------------------------------------------- */

static const struct ok_case {
	const char *raw;
	const char *method, *target, *path, *host;
	int version;
	int64_t cl;
	bool chunked, keep_alive, expect, absolute, asterisk;
	size_t nheaders;
} ok_cases[] = {
	{ "GET /a?b HTTP/1.1\r\nHost: ex.com\r\n\r\n",
	    "GET", "/a?b", "/a?b", "ex.com", 11, -1, false, true, false, false, false, 1 },
	{ "GET / HTTP/1.0\r\n\r\n",
	    "GET", "/", "/", "", 10, -1, false, false, false, false, false, 0 },
	{ "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n",
	    "GET", "/", "/", "", 10, -1, false, true, false, false, false, 1 },
	{ "GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n",
	    "GET", "/", "/", "", 10, -1, false, false, false, false, false, 1 },
	{ "GET / HTTP/1.0\r\nConnection: foo\r\nConnection: ,keep-alive,\r\n\r\n",
	    "GET", "/", "/", "", 10, -1, false, true, false, false, false, 2 },
	{ "GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
	    "GET", "/", "/", "h", 11, -1, false, false, false, false, false, 2 },
	{ "GET / HTTP/1.1\r\nHost: h\r\nConnection: Upgrade, CLOSE\r\n\r\n",
	    "GET", "/", "/", "h", 11, -1, false, false, false, false, false, 2 },
	{ "GET / HTTP/1.1\r\nHost: h\r\nConnection: upgrade\r\n\r\n",
	    "GET", "/", "/", "h", 11, -1, false, true, false, false, false, 2 },
	{ "GET / HTTP/1.1\r\nHost: h\r\nConnection: closed\r\n\r\n",
	    "GET", "/", "/", "h", 11, -1, false, true, false, false, false, 2 },
	{ "PUT /u HTTP/1.1\r\nHost: h\r\nExpect: 100-Continue\r\nContent-Length: 10\r\n\r\n",
	    "PUT", "/u", "/u", "h", 11, 10, false, true, true, false, false, 3 },
	{ "PUT /u HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 10\r\n\r\n",
	    "PUT", "/u", "/u", "", 10, 10, false, false, false, false, false, 2 },
	/* P-EXPECT-1, P-EXPECT-2: 100-continue in 1.1 only, in a list too */
	{ "PUT /u HTTP/1.1\r\nHost: h\r\nExpect: ,100-continue,\r\nContent-Length: 1\r\n\r\n",
	    "PUT", "/u", "/u", "h", 11, 1, false, true, true, false, false, 3 },
	{ "POST /p HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n",
	    "POST", "/p", "/p", "h", 11, -1, true, true, false, false, false, 2 },
	{ "POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n",
	    "POST", "/p", "/p", "h", 11, 0, false, true, false, false, false, 2 },
	{ "GET http://Ex.com:8080/a/b?c HTTP/1.1\r\nHost: other\r\n\r\n",
	    "GET", "http://Ex.com:8080/a/b?c", "/a/b?c", "Ex.com:8080", 11, -1,
	    false, true, false, true, false, 1 },
	{ "GET HTTPS://h HTTP/1.1\r\nHost: h\r\n\r\n",
	    "GET", "HTTPS://h", "/", "h", 11, -1, false, true, false, true, false, 1 },
	/* No '/' before the query: path is "/" and the query is only in target. */
	{ "GET http://h?q=1 HTTP/1.1\r\nHost: h\r\n\r\n",
	    "GET", "http://h?q=1", "/", "h", 11, -1, false, true, false, true, false, 1 },
	{ "GET https://[::1]:443/x HTTP/1.0\r\n\r\n",
	    "GET", "https://[::1]:443/x", "/x", "[::1]:443", 10, -1,
	    false, false, false, true, false, 0 },
	{ "OPTIONS * HTTP/1.1\r\nHost: h:1\r\n\r\n",
	    "OPTIONS", "*", "*", "h:1", 11, -1, false, true, false, false, true, 1 },
	{ "\r\n\nGET / HTTP/1.1\nHost:  h \t\n\n",
	    "GET", "/", "/", "h", 11, -1, false, true, false, false, false, 1 },
};

/* P-VERSION-1: keep-alive by version and Connection */
START_TEST(test_ok_cases)
{
	const struct ok_case *c = &ok_cases[_i];
	struct hq_head h;
	size_t len = strlen(c->raw);

	ck_assert_int_eq(parse_all_ways(c->raw, len, &deflim, &h), (int)len);
	ck_assert_uint_eq(h.head_len, len);
	ck_assert_int_eq(h.error, HQ_OK);
	ck_assert(str_is(h.method, c->method));
	ck_assert(str_is(h.target, c->target));
	ck_assert(str_is(h.path, c->path));
	ck_assert_msg(str_is(h.host, c->host), "host %.*s", (int)h.host.n, h.host.p);
	ck_assert_int_eq(h.version, c->version);
	ck_assert_int_eq(h.content_length, c->cl);
	ck_assert_int_eq(h.chunked, c->chunked);
	ck_assert_int_eq(h.keep_alive, c->keep_alive);
	ck_assert_int_eq(h.expect_continue, c->expect);
	ck_assert_int_eq(h.absolute_form, c->absolute);
	ck_assert_int_eq(h.asterisk_form, c->asterisk);
	ck_assert_uint_eq(h.nheaders, c->nheaders);
	assert_inside(c->raw, &h);
}
END_TEST

/* P-FIELD-5: every field, repeated ones too, as sent and in order */
START_TEST(test_fields)
{
	static const char raw[] = "GET / HTTP/1.1\r\nHost: h\r\nX-A:a\r\n"
	    "x-b: \t b c \t\r\nX-Empty:\r\nX-Obs: \xe9t\xe9\r\nx-a: a2\r\n\r\n";
	static const char *const want[][2] = {
		{ "Host", "h" }, { "X-A", "a" }, { "x-b", "b c" }, { "X-Empty", "" },
		{ "X-Obs", "\xe9t\xe9" }, { "x-a", "a2" },
	};
	struct hq_head h;

	ck_assert_int_eq(parse_whole(raw, sizeof(raw) - 1, &deflim, &h),
	    (int)sizeof(raw) - 1);
	ck_assert_uint_eq(h.nheaders, NELEM(want));
	for (size_t i = 0; i < NELEM(want); i++) {
		ck_assert(str_is(h.headers[i].name, want[i][0]));
		ck_assert(str_is(h.headers[i].value, want[i][1]));
	}
}
END_TEST

/* --- limits: max-1, max, max+1 ------------------------------------------ */

/* Writes "GET <target> HTTP/1.1\r\nHost: h\r\n<fields>\r\n" into buf. */
static size_t
make_head(char *buf, size_t target_len, size_t value_len, size_t nfields)
{
	size_t n = 0;

	n += (size_t)sprintf(buf, "GET /");
	memset(buf + n, 'a', target_len - 1);
	n += target_len - 1;
	n += (size_t)sprintf(buf + n, " HTTP/1.1\r\nHost: h\r\n");
	if (value_len != (size_t)-1) {
		n += (size_t)sprintf(buf + n, "X: ");
		memset(buf + n, 'v', value_len);
		n += value_len;
		n += (size_t)sprintf(buf + n, "\r\n");
	}
	for (size_t i = 0; i < nfields; i++)
		n += (size_t)sprintf(buf + n, "F%zu: x\r\n", i);
	n += (size_t)sprintf(buf + n, "\r\n");
	return n;
}

static const int NO_VALUE = -1;

/* P-LINE-7 */
START_TEST(test_url_length)
{
	struct hq_limits lim = deflim;
	char buf[512];
	struct hq_head h;
	size_t n;

	lim.max_url_length = 32;
	n = make_head(buf, 31, (size_t)NO_VALUE, 0);
	ck_assert_int_eq(parse_all_ways(buf, n, &lim, &h), (int)n);
	n = make_head(buf, 32, (size_t)NO_VALUE, 0);
	ck_assert_int_eq(parse_all_ways(buf, n, &lim, &h), (int)n);
	ck_assert_uint_eq(h.target.n, 32);
	n = make_head(buf, 33, (size_t)NO_VALUE, 0);
	ck_assert_int_eq(parse_all_ways(buf, n, &lim, &h), -1000 - HQ_ERR_URL_TOO_LONG);
}
END_TEST

/* An unterminated request line is 414 once it cannot be a good one. */
START_TEST(test_url_length_early)
{
	struct hq_limits lim = deflim;
	char buf[512];
	size_t max = 32 + 64, scanned = 0;
	struct hq_head h;

	lim.max_url_length = 32;
	memcpy(buf, "GET /", 5);
	memset(buf + 5, 'a', sizeof(buf) - 5);
	ck_assert_int_eq(parse_whole(buf, max - 1, &lim, &h), 0);
	ck_assert_int_eq(parse_whole(buf, max, &lim, &h), -1000 - HQ_ERR_URL_TOO_LONG);
	ck_assert_int_eq(parse_dribble(buf, max, &lim, &h), -1000 - HQ_ERR_URL_TOO_LONG);
	/* the same with two empty lines first */
	memcpy(buf, "\r\n\nGET /", 8);
	ck_assert_int_eq(parse_whole(buf, max + 2, &lim, &h), 0);
	ck_assert_int_eq(parse_whole(buf, max + 3, &lim, &h), -1000 - HQ_ERR_URL_TOO_LONG);
	/* Over max_request_bytes first: still the URL's fault. */
	lim.max_url_length = 1000;
	lim.max_request_bytes = 100;
	head_init(&h, NHDR);
	ck_assert_int_eq(hq_http1_parse_head(buf, 103, &scanned, &lim, &h), -1);
	ck_assert_int_eq(h.error, HQ_ERR_URL_TOO_LONG);
	ck_assert_int_eq(parse_dribble(buf, 103, &lim, &h), -1000 - HQ_ERR_URL_TOO_LONG);
}
END_TEST

/* P-FIELD-6 */
START_TEST(test_request_bytes)
{
	struct hq_limits lim = deflim;
	char buf[512];
	struct hq_head h;
	size_t base, n;

	/* The head without the value is base bytes; pad to max-1, max, max+1. */
	base = make_head(buf, 1, 0, 0);
	lim.max_request_bytes = 128;
	n = make_head(buf, 1, 128 - 1 - base, 0);
	ck_assert_uint_eq(n, 127);
	ck_assert_int_eq(parse_all_ways(buf, n, &lim, &h), (int)n);
	n = make_head(buf, 1, 128 - base, 0);
	ck_assert_uint_eq(n, 128);
	ck_assert_int_eq(parse_all_ways(buf, n, &lim, &h), (int)n);
	n = make_head(buf, 1, 128 + 1 - base, 0);
	ck_assert_int_eq(parse_all_ways(buf, n, &lim, &h),
	    -1000 - HQ_ERR_REQUEST_TOO_LONG);
	/* Incomplete but already over: 431 at once, not at the end. */
	ck_assert_int_eq(parse_whole(buf, 127, &lim, &h), 0);
	ck_assert_int_eq(parse_whole(buf, 128, &lim, &h), -1000 - HQ_ERR_REQUEST_TOO_LONG);
	/* Empty lines before the request line do not count. */
	n = make_head(buf + 2, 1, 128 - base, 0);
	memcpy(buf, "\r\n", 2);
	ck_assert_int_eq(parse_all_ways(buf, n + 2, &lim, &h), (int)n + 2);
	/* With a bare LF end the same bytes are one shorter. */
	n = make_head(buf, 1, 128 - base + 1, 0);
	memcpy(buf + n - 2, "\n", 1);
	ck_assert_int_eq(parse_all_ways(buf, n - 1, &lim, &h), (int)n - 1);
}
END_TEST

START_TEST(test_field_length)
{
	struct hq_limits lim = deflim;
	char buf[512];
	struct hq_head h;
	size_t n;

	/* "X: " + value: the line is value_len + 3 bytes without CRLF. */
	lim.max_field_length = 40;
	n = make_head(buf, 1, 36, 0);
	ck_assert_int_eq(parse_all_ways(buf, n, &lim, &h), (int)n);
	n = make_head(buf, 1, 37, 0);
	ck_assert_int_eq(parse_all_ways(buf, n, &lim, &h), (int)n);
	n = make_head(buf, 1, 38, 0);
	ck_assert_int_eq(parse_all_ways(buf, n, &lim, &h), -1000 - HQ_ERR_FIELD_TOO_LONG);
	/* An unterminated field line filling max_request_bytes says why. */
	lim.max_request_bytes = 128;
	n = make_head(buf, 1, 300, 0);
	ck_assert_int_eq(parse_all_ways(buf, n, &lim, &h), -1000 - HQ_ERR_FIELD_TOO_LONG);
	ck_assert_int_eq(parse_whole(buf, 128, &lim, &h), -1000 - HQ_ERR_FIELD_TOO_LONG);
	/* and a bad request line in that window comes first */
	memcpy(buf, "G(T", 3);
	ck_assert_int_eq(parse_whole(buf, 128, &lim, &h), -1000 - HQ_ERR_BAD_VERB);
	/* many short lines over the limit: the head's fault */
	n = make_head(buf, 1, (size_t)NO_VALUE, 20);
	ck_assert_int_eq(parse_all_ways(buf, n, &lim, &h), -1000 - HQ_ERR_REQUEST_TOO_LONG);
}
END_TEST

START_TEST(test_max_headers)
{
	struct hq_limits lim = deflim;
	char buf[512];
	struct hq_head h;
	size_t n, scanned;

	/* Host + nfields */
	lim.max_headers = 3;
	n = make_head(buf, 1, (size_t)NO_VALUE, 1);
	ck_assert_int_eq(parse_all_ways(buf, n, &lim, &h), (int)n);
	n = make_head(buf, 1, (size_t)NO_VALUE, 2);
	ck_assert_int_eq(parse_all_ways(buf, n, &lim, &h), (int)n);
	ck_assert_uint_eq(h.nheaders, 3);
	n = make_head(buf, 1, (size_t)NO_VALUE, 3);
	ck_assert_int_eq(parse_all_ways(buf, n, &lim, &h), -1000 - HQ_ERR_REQUEST_TOO_LONG);
	/* the caller's array is a limit too */
	lim.max_headers = 100;
	head_init(&h, 3);
	scanned = 0;
	ck_assert_int_eq(hq_http1_parse_head(buf, n, &scanned, &lim, &h), -1);
	ck_assert_int_eq(h.error, HQ_ERR_REQUEST_TOO_LONG);
	head_init(&h, 4);
	scanned = 0;
	ck_assert_int_eq(hq_http1_parse_head(buf, n, &scanned, &lim, &h), (int)n);
}
END_TEST

/* --- the field array grows on demand ---------------------------------------- */

static size_t ngrows;

static bool
grow_heap(struct hq_head *h, size_t need)
{
	ngrows++;
	h->headers = realloc(h->headers, need * sizeof(*h->headers));
	h->hdr_cap = need;
	return h->headers != NULL;
}

/* "GET / HTTP/1.1\r\nHost: h\r\n", then n fields "a:\n" (the shortest
 * field line), then the empty line: 3 n + 26 bytes. */
static size_t
tiny_fields_head(char *buf, size_t nfields)
{
	size_t n = (size_t)sprintf(buf, "GET / HTTP/1.1\r\nHost: h\r\n");

	for (size_t i = 0; i < nfields; i++, n += 3)
		memcpy(buf + n, "a:\n", 3);
	buf[n++] = '\n';
	return n;
}

START_TEST(test_headers_grow)
{
	static char buf[HQ_DEFAULT_MAX_REQUEST_BYTES + 64];
	const size_t most = (HQ_DEFAULT_MAX_REQUEST_BYTES - 26) / 3;
	struct hq_head h;
	size_t n, scanned = 0;

	/* As many fields as the default byte limit holds: accepted with the
	 * default limits, the array grown from 2 entries a few times only. */
	n = tiny_fields_head(buf, most);
	ck_assert_uint_le(n, HQ_DEFAULT_MAX_REQUEST_BYTES);
	memset(&h, 0, sizeof(h));
	h.headers = malloc(2 * sizeof(*h.headers));
	h.hdr_cap = 2;
	h.grow = grow_heap;
	ngrows = 0;
	ck_assert_int_eq(hq_http1_parse_head(buf, n, &scanned, &deflim, &h), (int)n);
	ck_assert_uint_eq(h.nheaders, most + 1);
	ck_assert_uint_le(ngrows, 12);
	/* grown in proportion to the head, not to max_headers */
	ck_assert_uint_eq(h.hdr_cap, most + 1);
	ck_assert(h.headers[0].name.n == 4 && memcmp(h.headers[0].name.p, "Host", 4) == 0);
	ck_assert(h.headers[most].name.n == 1 && h.headers[most].name.p[0] == 'a');
	/* One more byte's worth of fields is the byte limit's 431. */
	n = tiny_fields_head(buf, most + 1);
	ck_assert_uint_gt(n, HQ_DEFAULT_MAX_REQUEST_BYTES);
	scanned = 0;
	ck_assert_int_eq(hq_http1_parse_head(buf, n, &scanned, &deflim, &h), -1);
	ck_assert_int_eq(h.error, HQ_ERR_REQUEST_TOO_LONG);
	free(h.headers);
}
END_TEST

/* max_headers still counts, grow or not; a grow that fails is a 431. */
START_TEST(test_headers_grow_limit)
{
	struct hq_limits lim = deflim;
	char buf[512];
	struct hq_head h;
	size_t n, scanned = 0;

	lim.max_headers = 20;
	n = tiny_fields_head(buf, 19);
	memset(&h, 0, sizeof(h));
	h.headers = malloc(sizeof(*h.headers));
	h.hdr_cap = 1;
	h.grow = grow_heap;
	ck_assert_int_eq(hq_http1_parse_head(buf, n, &scanned, &lim, &h), (int)n);
	ck_assert_uint_eq(h.nheaders, 20);
	ck_assert_uint_eq(h.hdr_cap, 20);
	n = tiny_fields_head(buf, 20);
	scanned = 0;
	ck_assert_int_eq(hq_http1_parse_head(buf, n, &scanned, &lim, &h), -1);
	ck_assert_int_eq(h.error, HQ_ERR_REQUEST_TOO_LONG);
	free(h.headers);
}
END_TEST

/* --- response fields a module sends --------------------------------------- */

static const struct field_case {
	const char *s;
	size_t n;
	bool name_ok, value_ok;
} field_cases[] = {
	{ RAW("Content-Type"), true, true },
	{ RAW("x-a.b_c~d!#$%&'*+^`|"), true, true },
	{ RAW("0"), true, true },
	{ RAW(""), false, true },           /* empty value passes, empty name not */
	{ RAW("Bad Name"), false, true },   /* SP: not a token */
	{ RAW("Bad:Name"), false, true },
	{ RAW("a\tb"), false, true },        /* HTAB: in a value only */
	{ RAW("caf\xc3\xa9"), false, true }, /* obs-text: in a value only */
	{ RAW("\"q\""), false, true },
	{ RAW("(x)"), false, true },
	{ RAW("a/b"), false, true },
	{ RAW("a,b;c=d"), false, true },
	{ RAW("a\r\nX: y"), false, false },
	{ RAW("a\nb"), false, false },
	{ RAW("a\rb"), false, false },
	{ RAW("a\0b"), false, false },
	{ RAW("a\x01"), false, false },
	{ RAW("\x1f"), false, false },
	{ RAW("a\x7f"), false, false },      /* DEL is a control character */
};

START_TEST(test_field_cases)
{
	const struct field_case *fc = &field_cases[_i];

	ck_assert_msg(hq_http1_field_name_ok(fc->s, fc->n) == fc->name_ok,
	    "row %d: name_ok should be %d", _i, fc->name_ok);
	ck_assert_msg(hq_http1_field_value_ok(fc->s, fc->n) == fc->value_ok,
	    "row %d: value_ok should be %d", _i, fc->value_ok);
}
END_TEST

/* Every byte: a name byte is a tchar, a value byte is not a CTL but HTAB. */
START_TEST(test_field_bytes)
{
	static const char tchar_extra[] = "!#$%&'*+-.^_`|~";

	for (int b = 0; b < 256; b++) {
		char c = (char)b;
		bool tchar = (b >= '0' && b <= '9') || (b >= 'A' && b <= 'Z') ||
		    (b >= 'a' && b <= 'z') || (b != 0 && strchr(tchar_extra, b) != NULL);
		bool value = b == '\t' || (b >= 0x20 && b != 0x7f);

		ck_assert_msg(hq_http1_field_name_ok(&c, 1) == tchar, "byte 0x%02x name", b);
		ck_assert_msg(hq_http1_field_value_ok(&c, 1) == value, "byte 0x%02x value", b);
	}
}
END_TEST

/* --- several requests, dribbled requests -------------------------------- */

START_TEST(test_pipelined)
{
	static const char buf[] =
	    "GET /one HTTP/1.1\r\nHost: h\r\n\r\n"
	    "POST /two HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello"
	    "\r\nGET /three HTTP/1.1\nHost: h\nConnection: close\n\n"
	    "GET /four HTTP/1.1\r\nHo";
	static const char *const paths[] = { "/one", "/two", "/three" };
	size_t off = 0, len = sizeof(buf) - 1, scanned;
	struct hq_head h;

	for (size_t i = 0; i < NELEM(paths); i++) {
		int r;

		head_init(&h, NHDR);
		scanned = 0;
		r = hq_http1_parse_head(buf + off, len - off, &scanned, &deflim, &h);
		ck_assert_int_gt(r, 0);
		ck_assert(str_is(h.path, paths[i]));
		ck_assert(h.method.p >= buf + off && h.path.p < buf + off + r);
		off += (size_t)r;
		if (h.content_length > 0)
			off += (size_t)h.content_length;
		ck_assert_int_eq(h.keep_alive, i < 2);
	}
	head_init(&h, NHDR);
	scanned = 0;
	ck_assert_int_eq(hq_http1_parse_head(buf + off, len - off, &scanned, &deflim, &h), 0);
}
END_TEST

START_TEST(test_dribbled)
{
	static const char raw[] =
	    "GET /index.html?x=1 HTTP/1.1\r\nHost: www.example.com\r\n"
	    "User-Agent: test/1.0\r\nAccept: */*\r\nAccept-Encoding: gzip\r\n"
	    "Accept-Language: en\r\nCookie: a=b; c=d\r\n\r\n";
	size_t len = sizeof(raw) - 1, scanned = 0, work = 0, prev = 0;
	struct hq_head h;
	int r = 0;

	for (size_t k = 1; k <= len; k++) {
		head_init(&h, NHDR);
		r = hq_http1_parse_head(raw, k, &scanned, &deflim, &h);
		/* Each call re-reads at most the 2 bytes it could not judge. */
		ck_assert_uint_ge(scanned, prev);
		ck_assert_uint_le(k - prev, 3);
		work += k - prev;
		prev = scanned;
		if (k < len)
			ck_assert_int_eq(r, 0);
	}
	ck_assert_int_eq(r, (int)len);
	ck_assert_uint_le(work, 3 * len);
	ck_assert_uint_eq(h.nheaders, 6);
	ck_assert(str_is(h.headers[5].value, "a=b; c=d"));
}
END_TEST

/* A caller's stale *scanned beyond the data must not make it read past len. */
START_TEST(test_scanned_clamped)
{
	static const char raw[] = "GET / HTTP/1.1\r\nHost: h\r\n\r\n";
	size_t scanned = 1000;
	struct hq_head h;

	head_init(&h, NHDR);
	ck_assert_int_eq(hq_http1_parse_head(raw, 10, &scanned, &deflim, &h), 0);
	ck_assert_uint_le(scanned, 10);
}
END_TEST

/* --- chunked decoder ----------------------------------------------------- */

struct feed {
	char out[8192];
	size_t outlen;
	char tr[4096];       /* the trailer section, from tr_from on */
	size_t trlen;
	size_t consumed;
	bool done;
	bool failed;
	enum hq_error err;
};

/* Gives p[0..n) to the decoder as a connection would, until it stops. */
static void
feed(struct hq_chunked *c, const char *p, size_t n, const struct hq_limits *lim,
    struct feed *f)
{
	size_t pos = 0;

	while (!f->failed && !f->done && pos < n) {
		const char *d;
		size_t dl;
		bool done;
		ssize_t k = hq_chunked_decode(c, p + pos, n - pos, &d, &dl, &done,
		    lim, &f->err);

		if (k < 0) {
			f->failed = true;
			ck_assert_int_ne(f->err, HQ_OK);
			return;
		}
		ck_assert(k > 0 || done);
		if (c->tr_from != (size_t)-1) {
			size_t tn = (size_t)k - c->tr_from;

			ck_assert_uint_le(c->tr_from, (size_t)k);
			ck_assert_uint_le(f->trlen + tn, sizeof(f->tr));
			memcpy(f->tr + f->trlen, p + pos + c->tr_from, tn);
			f->trlen += tn;
		}
		if (dl > 0) {
			ck_assert(d >= p + pos && d + dl <= p + pos + (size_t)k);
			ck_assert_uint_le(f->outlen + dl, sizeof(f->out));
			memcpy(f->out + f->outlen, d, dl);
			f->outlen += dl;
		}
		pos += (size_t)k;
		f->consumed += (size_t)k;
		f->done = done;
	}
}

/* Splits raw at the given cut points (ascending, ending with len). */
static void
decode_pieces(const char *raw, const size_t *cuts, size_t ncuts,
    const struct hq_limits *lim, struct feed *f)
{
	struct hq_chunked c;
	size_t from = 0;

	memset(f, 0, sizeof(*f));
	hq_chunked_init(&c);
	for (size_t i = 0; i < ncuts && !f->failed && !f->done; i++) {
		feed(&c, raw + from, cuts[i] - from, lim, f);
		from = cuts[i];
	}
}

static void
assert_same(const struct feed *a, const struct feed *b, const char *how, size_t at)
{
	/* After an error only the error matters. */
	ck_assert_msg(a->failed == b->failed && a->done == b->done &&
	    (a->failed ? a->err == b->err : a->consumed == b->consumed &&
	    a->outlen == b->outlen && memcmp(a->out, b->out, a->outlen) == 0 &&
	    a->trlen == b->trlen && memcmp(a->tr, b->tr, a->trlen) == 0),
	    "%s at %zu differs: failed %d/%d err %d/%d consumed %zu/%zu",
	    how, at, a->failed, b->failed, a->err, b->err, a->consumed, b->consumed);
}

/* Whole, a byte at a time and every 2-way split give the same. */
static void
decode_all_ways(const char *raw, size_t len, const struct hq_limits *lim,
    struct feed *whole)
{
	static struct feed f;
	size_t cuts[2];
	struct hq_chunked c;

	decode_pieces(raw, &len, 1, lim, whole);
	memset(&f, 0, sizeof(f));
	hq_chunked_init(&c);
	for (size_t i = 0; i < len && !f.failed && !f.done; i++)
		feed(&c, raw + i, 1, lim, &f);
	assert_same(whole, &f, "bytewise", 0);
	for (size_t k = 0; k <= len; k++) {
		cuts[0] = k;
		cuts[1] = len;
		decode_pieces(raw, cuts, 2, lim, &f);
		assert_same(whole, &f, "split", k);
	}
}

static const struct chunk_case {
	const char *raw;
	size_t len;
	const char *data;  /* decoded bytes */
	size_t dlen;
	int end;           /* 1 done, 0 needs more, -1 error */
	enum hq_error err;
} chunk_cases[] = {
	{ RAW("5\r\nhello\r\n0\r\n\r\n"), RAW("hello"), 1, HQ_OK },
	{ RAW("5\nhello\n0\n\n"), RAW("hello"), 1, HQ_OK },
	{ RAW("5\r\nhello\n0\r\n\n"), RAW("hello"), 1, HQ_OK },
	{ RAW("3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"), RAW("abcde"), 1, HQ_OK },
	{ RAW("A\r\n0123456789\r\na\r\nabcdefghij\r\n0\r\n\r\n"),
	    RAW("0123456789abcdefghij"), 1, HQ_OK },
	{ RAW("0005\r\nhello\r\n0000\r\n\r\n"), RAW("hello"), 1, HQ_OK },
	{ RAW("5;ext\r\nhello\r\n0;last=1\r\n\r\n"), RAW("hello"), 1, HQ_OK },
	{ RAW("5 \t;a=b;c=\"q; \\\" \xe9\"\r\nhello\r\n0\r\n\r\n"), RAW("hello"), 1, HQ_OK },
	/* P-CHUNK-2: whitespace only before a ';' */
	{ RAW("5 \r\nhello\r\n0\r\n\r\n"), RAW(""), -1, HQ_ERR_BAD_CHUNK },
	{ RAW("5\t\n"), RAW(""), -1, HQ_ERR_BAD_CHUNK },
	{ RAW("5 ;x\r\nhello\r\n0\r\n\r\n"), RAW("hello"), 1, HQ_OK },
	{ RAW("1\r\n\r\r\n0\r\n\r\n"), RAW("\r"), 1, HQ_OK },
	{ RAW("1\r\n\0\r\n0\r\n\r\n"), RAW("\0"), 1, HQ_OK },
	{ RAW("0\r\n\r\n"), RAW(""), 1, HQ_OK },
	{ RAW("0\r\nX-T: v\r\nY:\r\nZ: a \t\xe9\n\r\n"), RAW(""), 1, HQ_OK },
	{ RAW("0\r\n"), RAW(""), 0, HQ_OK },
	{ RAW("0\r\nX: v\r\n"), RAW(""), 0, HQ_OK },
	{ RAW("5\r\nhel"), RAW("hel"), 0, HQ_OK },
	{ RAW("5\r\nhello"), RAW("hello"), 0, HQ_OK },
	{ RAW("5\r\nhello\r"), RAW("hello"), 0, HQ_OK },
	{ RAW("ffffffffffffffff\r\nab"), RAW("ab"), 0, HQ_OK },
	{ RAW("0000000000000000000000000000001\r\na"), RAW("a"), 0, HQ_OK },
	/* size line: P-CHUNK-1 size, P-CHUNK-3 extensions */
	{ RAW("\r\n"), RAW(""), -1, HQ_ERR_BAD_CHUNK },
	{ RAW("\n"), RAW(""), -1, HQ_ERR_BAD_CHUNK },
	{ RAW(";x\r\n"), RAW(""), -1, HQ_ERR_BAD_CHUNK },
	{ RAW("g\r\n"), RAW(""), -1, HQ_ERR_BAD_CHUNK },
	{ RAW("-5\r\n"), RAW(""), -1, HQ_ERR_BAD_CHUNK },
	{ RAW("+5\r\n"), RAW(""), -1, HQ_ERR_BAD_CHUNK },
	{ RAW(" 5\r\n"), RAW(""), -1, HQ_ERR_BAD_CHUNK },
	{ RAW("0x5\r\n"), RAW(""), -1, HQ_ERR_BAD_CHUNK },
	{ RAW("5x\r\n"), RAW(""), -1, HQ_ERR_BAD_CHUNK },
	{ RAW("5 5\r\n"), RAW(""), -1, HQ_ERR_BAD_CHUNK },
	{ RAW("10000000000000000\r\n"), RAW(""), -1, HQ_ERR_BAD_CHUNK },
	{ RAW("5;a\x01\r\n"), RAW(""), -1, HQ_ERR_BAD_CHUNK },
	{ RAW("5;a\x7f\r\n"), RAW(""), -1, HQ_ERR_BAD_CHUNK },
	{ RAW("5\rX"), RAW(""), -1, HQ_ERR_BAD_CRLF },
	{ RAW("5;a\rX"), RAW(""), -1, HQ_ERR_BAD_CRLF },
	{ RAW("5\0\r\n"), RAW(""), -1, HQ_ERR_BAD_CRLF },
	{ RAW("\0"), RAW(""), -1, HQ_ERR_BAD_CRLF },
	{ RAW("5;a\0\r\n"), RAW(""), -1, HQ_ERR_BAD_CRLF },
	/* P-CHUNK-4: after the data */
	{ RAW("5\r\nhelloX"), RAW("hello"), -1, HQ_ERR_BAD_CHUNK },
	{ RAW("5\r\nhello\rX"), RAW("hello"), -1, HQ_ERR_BAD_CHUNK },
	{ RAW("5\r\nhello\r\r\n"), RAW("hello"), -1, HQ_ERR_BAD_CHUNK },
	{ RAW("5\r\nhello0\r\n"), RAW("hello"), -1, HQ_ERR_BAD_CHUNK },
	/* trailers: P-TRAILER-1 checked as fields */
	{ RAW("0\r\n X: v\r\n\r\n"), RAW(""), -1, HQ_ERR_BAD_CHUNK },
	{ RAW("0\r\n\tX: v\r\n\r\n"), RAW(""), -1, HQ_ERR_BAD_CHUNK },
	{ RAW("0\r\nX : v\r\n\r\n"), RAW(""), -1, HQ_ERR_BAD_CHUNK },
	{ RAW("0\r\nNoColon\r\n\r\n"), RAW(""), -1, HQ_ERR_BAD_CHUNK },
	{ RAW("0\r\n: v\r\n\r\n"), RAW(""), -1, HQ_ERR_BAD_CHUNK },
	{ RAW("0\r\nX: \x01\r\n\r\n"), RAW(""), -1, HQ_ERR_BAD_CHUNK },
	{ RAW("0\r\nX: a\rb\r\n\r\n"), RAW(""), -1, HQ_ERR_BAD_CRLF },
	{ RAW("0\r\nX: a\0\r\n\r\n"), RAW(""), -1, HQ_ERR_BAD_CRLF },
	{ RAW("0\r\nX\0: a\r\n\r\n"), RAW(""), -1, HQ_ERR_BAD_CRLF },
	{ RAW("0\r\n\0\r\n"), RAW(""), -1, HQ_ERR_BAD_CRLF },
	{ RAW("0\r\n\rX"), RAW(""), -1, HQ_ERR_BAD_CRLF },
};

START_TEST(test_chunk_cases)
{
	const struct chunk_case *c = &chunk_cases[_i];
	static struct feed f;

	decode_all_ways(c->raw, c->len, &deflim, &f);
	ck_assert_msg(f.failed == (c->end < 0), "row %d: failed %d err %d", _i,
	    f.failed, f.err);
	if (c->end < 0) {
		ck_assert_msg(f.err == c->err, "row %d: err %d, want %d", _i, f.err, c->err);
		return;
	}
	ck_assert_int_eq(f.done, c->end == 1);
	ck_assert_uint_eq(f.consumed, c->len);
	ck_assert_uint_eq(f.outlen, c->dlen);
	ck_assert(memcmp(f.out, c->data, c->dlen) == 0);
}
END_TEST

/* The decoder stops at the end of the body; the next request follows. */
START_TEST(test_chunked_then_pipelined)
{
	static const char raw[] = "4;x=y\r\nWiki\r\n5\r\npedia\r\nE\r\n in\r\n\r\nchunks."
	    "\r\n0\r\nExpires: never\r\n\r\nGET /next HTTP/1.1\r\nHost: h\r\n\r\n";
	size_t body = (size_t)(strstr(raw, "GET") - raw);
	static struct feed f;
	struct hq_head h;
	size_t scanned = 0;

	decode_all_ways(raw, sizeof(raw) - 1, &deflim, &f);
	ck_assert(f.done && !f.failed);
	ck_assert_uint_eq(f.consumed, body);
	ck_assert_uint_eq(f.outlen, 23);
	ck_assert(memcmp(f.out, "Wikipedia in\r\n\r\nchunks.", 23) == 0);
	head_init(&h, NHDR);
	ck_assert_int_gt(hq_http1_parse_head(raw + f.consumed, sizeof(raw) - 1 - f.consumed,
	    &scanned, &deflim, &h), 0);
	ck_assert(str_is(h.path, "/next"));
}
END_TEST

/* One data run per call; the framing after it is consumed with it. */
START_TEST(test_chunked_one_run)
{
	static const char raw[] = "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
	struct hq_chunked c;
	const char *d;
	size_t dl;
	bool done;
	enum hq_error err;

	hq_chunked_init(&c);
	ck_assert_int_eq(hq_chunked_decode(&c, raw, sizeof(raw) - 1, &d, &dl, &done,
	    &deflim, &err), 11);
	ck_assert(dl == 3 && d == raw + 3 && !done);
	ck_assert_int_eq(hq_chunked_decode(&c, raw + 11, sizeof(raw) - 12, &d, &dl, &done,
	    &deflim, &err), (ssize_t)sizeof(raw) - 12);
	ck_assert(dl == 2 && d == raw + 11 && done);
	/* once done it stays done and takes nothing */
	ck_assert_int_eq(hq_chunked_decode(&c, "5\r\n", 3, &d, &dl, &done, &deflim, &err), 0);
	ck_assert(done && dl == 0);
}
END_TEST

START_TEST(test_chunk_line_length)
{
	char raw[2048];
	static struct feed f;
	size_t n;

	/* "5;" + extension: the line is 1024 bytes, then 1025 */
	memcpy(raw, "5;", 2);
	memset(raw + 2, 'e', 1022);
	n = 1024 + (size_t)sprintf(raw + 1024, "\r\nhello\r\n0\r\n\r\n");
	decode_all_ways(raw, n, &deflim, &f);
	ck_assert(f.done && f.outlen == 5);
	memset(raw + 2, 'e', 1023);
	n = 1025 + (size_t)sprintf(raw + 1025, "\r\nhello\r\n0\r\n\r\n");
	decode_all_ways(raw, n, &deflim, &f);
	ck_assert(f.failed && f.err == HQ_ERR_BAD_CHUNK);
	/* leading zeros count too */
	memset(raw, '0', 1023);
	n = 1023 + (size_t)sprintf(raw + 1023, "5\r\nhello\r\n0\r\n\r\n");
	decode_all_ways(raw, n, &deflim, &f);
	ck_assert(f.done && f.outlen == 5);
	memset(raw, '0', 1024);
	n = 1024 + (size_t)sprintf(raw + 1024, "5\r\nhello\r\n0\r\n\r\n");
	decode_all_ways(raw, n, &deflim, &f);
	ck_assert(f.failed && f.err == HQ_ERR_BAD_CHUNK);
}
END_TEST

START_TEST(test_trailer_bytes)
{
	static const char raw[] = "0\r\nX-Checksum: 12345\r\nY: 1\r\n\r\nNEXT";
	size_t trailers = sizeof(raw) - 1 - 3 - 4; /* fields and the empty line */
	struct hq_limits lim = deflim;
	static struct feed f;

	lim.max_request_bytes = (uint32_t)trailers;
	decode_all_ways(raw, sizeof(raw) - 1, &lim, &f);
	ck_assert(f.done && f.consumed == sizeof(raw) - 1 - 4);
	lim.max_request_bytes = (uint32_t)trailers - 1;
	decode_all_ways(raw, sizeof(raw) - 1, &lim, &f);
	ck_assert(f.failed && f.err == HQ_ERR_REQUEST_TOO_LONG);
}
END_TEST

/* P-TRAILER-1: the trailer section is handed over, however it is split,
 * and splits into fields as a head does. */
START_TEST(test_trailer_fields)
{
	static const char raw[] = "3;x\r\nabc\r\n0\r\nX-Sum: 12 \r\ny:\n"
	    "Content-Length: 99\r\nZ:\t a b\t\r\n\r\nNEXT";
	static struct feed f;
	struct hq_hdr tr[4];
	size_t n;

	decode_all_ways(raw, sizeof(raw) - 1, &deflim, &f);
	ck_assert(f.done && f.consumed == sizeof(raw) - 1 - 4);
	ck_assert(f.outlen == 3);
	ck_assert(f.trlen == sizeof(raw) - 1 - 4 - 13);
	n = hq_http1_trailers(f.tr, f.trlen, NULL, 0);
	ck_assert_uint_eq(n, 4);
	ck_assert_uint_eq(hq_http1_trailers(f.tr, f.trlen, tr, 4), 4);
	ck_assert(str_is(tr[0].name, "X-Sum") && str_is(tr[0].value, "12"));
	ck_assert(str_is(tr[1].name, "y") && str_is(tr[1].value, ""));
	ck_assert(str_is(tr[2].name, "Content-Length") && str_is(tr[2].value, "99"));
	ck_assert(str_is(tr[3].name, "Z") && str_is(tr[3].value, "a b"));
	/* no trailers: only the empty line */
	decode_all_ways(RAW("1\r\na\r\n0\r\n\r\n"), &deflim, &f);
	ck_assert(f.done && f.trlen == 2);
	ck_assert_uint_eq(hq_http1_trailers(f.tr, f.trlen, tr, 4), 0);
}
END_TEST

/* P-TRAILER-2: trailers have the head's limits, line and count too. */
START_TEST(test_trailer_limits)
{
	char raw[512];
	struct hq_limits lim = deflim;
	static struct feed f;
	size_t n;

	lim.max_field_length = 10;
	n = (size_t)sprintf(raw, "0\r\nX: 4567890\r\n\r\n"); /* 10 bytes */
	decode_all_ways(raw, n, &lim, &f);
	ck_assert(f.done);
	n = (size_t)sprintf(raw, "0\r\nX: 45678901\r\n\r\n");
	decode_all_ways(raw, n, &lim, &f);
	ck_assert(f.failed && f.err == HQ_ERR_FIELD_TOO_LONG);
	lim = deflim;
	lim.max_headers = 2;
	n = (size_t)sprintf(raw, "0\r\nA: 1\r\nB: 2\r\n\r\n");
	decode_all_ways(raw, n, &lim, &f);
	ck_assert(f.done);
	n = (size_t)sprintf(raw, "0\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n");
	decode_all_ways(raw, n, &lim, &f);
	ck_assert(f.failed && f.err == HQ_ERR_REQUEST_TOO_LONG);
}
END_TEST

/* A big chunk passes through in runs, without being buffered. */
START_TEST(test_chunk_large)
{
	static char raw[3 * 4096];
	struct hq_chunked c;
	const char *d;
	size_t dl, total = 0, pos = 0, n;
	bool done = false;
	enum hq_error err;
	ssize_t k;

	n = (size_t)sprintf(raw, "2000\r\n");
	memset(raw + n, 'x', 0x2000);
	n += 0x2000;
	n += (size_t)sprintf(raw + n, "\r\n0\r\n\r\n");
	hq_chunked_init(&c);
	while (!done) {
		size_t piece = n - pos < 1000 ? n - pos : 1000;

		k = hq_chunked_decode(&c, raw + pos, piece, &d, &dl, &done, &deflim, &err);
		ck_assert_int_gt(k, 0);
		total += dl;
		pos += (size_t)k;
	}
	ck_assert_uint_eq(total, 0x2000);
	ck_assert_uint_eq(pos, n);
}
END_TEST

Suite *
unit_suite(void)
{
	Suite *s = suite_create("http1");
	TCase *tc = tcase_create("head");

	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_err_cases, 0, NELEM(err_cases));
	tcase_add_loop_test(tc, test_ok_cases, 0, NELEM(ok_cases));
	tcase_add_test(tc, test_fields);
	tcase_add_test(tc, test_url_length);
	tcase_add_test(tc, test_url_length_early);
	tcase_add_test(tc, test_request_bytes);
	tcase_add_test(tc, test_field_length);
	tcase_add_test(tc, test_max_headers);
	tcase_add_test(tc, test_headers_grow);
	tcase_add_test(tc, test_headers_grow_limit);
	tcase_add_loop_test(tc, test_field_cases, 0, NELEM(field_cases));
	tcase_add_test(tc, test_field_bytes);
	tcase_add_test(tc, test_pipelined);
	tcase_add_test(tc, test_dribbled);
	tcase_add_test(tc, test_scanned_clamped);
	suite_add_tcase(s, tc);
	tc = tcase_create("chunked");
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_chunk_cases, 0, NELEM(chunk_cases));
	tcase_add_test(tc, test_chunked_then_pipelined);
	tcase_add_test(tc, test_chunked_one_run);
	tcase_add_test(tc, test_chunk_line_length);
	tcase_add_test(tc, test_trailer_bytes);
	tcase_add_test(tc, test_trailer_fields);
	tcase_add_test(tc, test_trailer_limits);
	tcase_add_test(tc, test_chunk_large);
	suite_add_tcase(s, tc);
	return s;
}
