/*
 * test_cacherules.c -- the response cache's rules: which requests may be
 * answered from it, which responses kept, conditionals from an entry,
 * HTTP-dates, the key's hash and the URLs of show and flush.
 */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "httpq-internal.h"
#include "check_main.h"

/* Parses a request head (must be valid) into h, with its own fields. */
static void
parse(const char *text, struct hq_head *h, struct hq_hdr *hdrs, size_t cap)
{
	struct hq_limits lim = {
		.max_request_bytes = 16384, .max_field_length = 16384,
		.max_url_length = 16384, .max_headers = 64,
		.segment_max_length = 260, .segment_max_count = 255,
	};
	size_t scanned = 0;

	memset(h, 0, sizeof(*h));
	h->headers = hdrs;
	h->hdr_cap = cap;
	ck_assert_int_gt(hq_http1_parse_head(text, strlen(text), &scanned, &lim, h), 0);
}

static const struct req_row {
	const char *head;
	enum hq_cache_req want;
} req_rows[] = {
	{ "GET /a HTTP/1.1\r\nHost: h\r\n\r\n", HQ_CREQ_GET },
	{ "HEAD /a HTTP/1.1\r\nHost: h\r\n\r\n", HQ_CREQ_HEAD },
	{ "POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\n\r\n", HQ_CREQ_NO },
	{ "PUT /a HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n", HQ_CREQ_NO },
	{ "OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n", HQ_CREQ_NO },
	{ "GET /a HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\n", HQ_CREQ_NO },
	{ "GET /a HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n", HQ_CREQ_NO },
	{ "GET /a HTTP/1.1\r\nHost: h\r\nAuthorization: Basic eDp5\r\n\r\n", HQ_CREQ_NO },
	{ "GET /a HTTP/1.1\r\nHost: h\r\nauthorization: x\r\n\r\n", HQ_CREQ_NO },
	{ "GET /a HTTP/1.1\r\nHost: h\r\nRange: bytes=0-1\r\n\r\n", HQ_CREQ_NO },
	{ "GET /a HTTP/1.1\r\nHost: h\r\nIf-Range: \"x\"\r\n\r\n", HQ_CREQ_NO },
	{ "GET /a HTTP/1.1\r\nHost: h\r\nIf-Match: \"x\"\r\n\r\n", HQ_CREQ_NO },
	{ "GET /a HTTP/1.1\r\nHost: h\r\nIf-Unmodified-Since: x\r\n\r\n", HQ_CREQ_NO },
	{ "GET /a HTTP/1.1\r\nHost: h\r\nIf-None-Match: \"x\"\r\n\r\n", HQ_CREQ_GET },
	{ "GET /a HTTP/1.0\r\nCookie: a=b\r\n\r\n", HQ_CREQ_GET },
};

START_TEST(request_rules)
{
	const struct req_row *r = &req_rows[_i];
	struct hq_hdr hdrs[16];
	struct hq_head h;

	parse(r->head, &h, hdrs, 16);
	ck_assert_msg(hq_cache_request(&h) == r->want, "%s", r->head);
}
END_TEST

#define H(n, v) { n, sizeof(n) - 1, v, sizeof(v) - 1 }

static const struct resp_row {
	int status;
	httpq_header h[3];
	size_t n;
	bool ok, vary_ae;
} resp_rows[] = {
	{ 200, { H("Content-Type", "text/plain") }, 1, true, false },
	{ 404, { H("Content-Type", "text/plain") }, 1, false, false },
	{ 206, { H("Content-Range", "bytes 0-1/2") }, 1, false, false },
	{ 200, { H("Set-Cookie", "a=b") }, 1, false, false },
	{ 200, { H("set-cookie", "a=b") }, 1, false, false },
	{ 200, { H("Cache-Control", "max-age=60, private") }, 1, false, false },
	{ 200, { H("Cache-Control", "no-store") }, 1, false, false },
	{ 200, { H("Cache-Control", "No-Cache") }, 1, false, false },
	{ 200, { H("Cache-Control", "public, max-age=60") }, 1, true, false },
	{ 200, { H("Cache-Control", "no-transform") }, 1, true, false },
	{ 200, { H("Vary", "Accept-Encoding") }, 1, true, true },
	{ 200, { H("Vary", "accept-encoding , Accept-Encoding") }, 1, true, true },
	{ 200, { H("Vary", "Accept-Encoding, User-Agent") }, 1, false, false },
	{ 200, { H("Vary", "*") }, 1, false, false },
	{ 200, { H("Vary", "Accept-Encoding"), H("Vary", "Cookie") }, 2, false, false },
	{ 200, { H("Date", "Sun, 06 Nov 1994 08:49:37 GMT") }, 1, false, false },
	{ 200, { H("Connection", "close") }, 1, false, false },
	{ 200, { H("ETag", "\"x\""), H("Server", "me") }, 2, true, false },
};

START_TEST(response_rules)
{
	const struct resp_row *r = &resp_rows[_i];
	struct hq_cache_resp f;
	const char *why = hq_cache_response(r->status, r->h, r->n, &f);

	ck_assert_msg((why == NULL) == r->ok, "row %d: %s", _i, why ? why : "ok");
	if (r->ok)
		ck_assert_int_eq(f.vary_ae, r->vary_ae);
}
END_TEST

START_TEST(response_facts)
{
	httpq_header h[] = { H("ETag", "W/\"v1\""),
		H("Last-Modified", "Sun, 06 Nov 1994 08:49:37 GMT"), H("Server", "x") };
	struct hq_cache_resp f;

	ck_assert_ptr_null(hq_cache_response(200, h, 3, &f));
	ck_assert_uint_eq(f.etag.n, 6);
	ck_assert(memcmp(f.etag.p, "W/\"v1\"", 6) == 0);
	ck_assert_int_eq(f.last_modified, 784111777);
	ck_assert(f.has_server);
	ck_assert(hq_cache_304_field("etag", 4));
	ck_assert(hq_cache_304_field("Cache-Control", 13));
	ck_assert(!hq_cache_304_field("Content-Type", 12));
	ck_assert(!hq_cache_304_field("Content-Length", 14));
}
END_TEST

static const struct cond_row {
	const char *fields;
	const char *etag;
	int64_t lm;
	int want;
} cond_rows[] = {
	{ "", "\"a\"", 1000, 200 },
	{ "If-None-Match: \"a\"\r\n", "\"a\"", 1000, 304 },
	{ "If-None-Match: W/\"a\"\r\n", "\"a\"", 1000, 304 },
	{ "If-None-Match: \"a\"\r\n", "W/\"a\"", 1000, 304 },
	{ "If-None-Match: \"b\", \"a\"\r\n", "\"a\"", 1000, 304 },
	{ "If-None-Match: \"b\"\r\n", "\"a\"", 1000, 200 },
	{ "If-None-Match: *\r\n", "\"a\"", 1000, 304 },
	{ "If-None-Match: \"a\"\r\n", "", 1000, 200 },
	/* If-None-Match decides: If-Modified-Since is not looked at */
	{ "If-None-Match: \"b\"\r\nIf-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\n",
	  "\"a\"", 0, 200 },
	{ "If-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\n", "\"a\"", 784111777, 304 },
	{ "If-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\n", "\"a\"", 784111778, 200 },
	{ "If-Modified-Since: Sunday, 06-Nov-94 08:49:37 GMT\r\n", "", 784111777, 304 },
	{ "If-Modified-Since: Sun Nov  6 08:49:37 1994\r\n", "", 784111777, 304 },
	{ "If-Modified-Since: yesterday\r\n", "", 784111777, 200 },
	{ "If-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\n", "", -1, 200 },
	/* the first of each field counts, in any case of its name */
	{ "If-None-Match: \"b\"\r\nIf-None-Match: \"a\"\r\n", "\"a\"", 1000, 200 },
	{ "if-none-match: \"a\"\r\nIf-None-Match: \"b\"\r\n", "\"a\"", 1000, 304 },
	{ "IF-MODIFIED-SINCE: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
	  "If-Modified-Since: Sun, 06 Nov 1994 08:49:36 GMT\r\n", "", 784111777, 304 },
	/* names of the same lengths that are not validators */
	{ "X-None-Match-: \"a\"\r\nX-Modified-Since-: Sun, 06 Nov 1994 08:49:37 GMT\r\n",
	  "\"a\"", 784111777, 200 },
};

START_TEST(conditionals)
{
	const struct cond_row *r = &cond_rows[_i];
	struct hq_hdr hdrs[16];
	struct hq_head h;
	char *text = xasprintf("GET / HTTP/1.1\r\nHost: h\r\n%s\r\n", r->fields);

	struct hq_cache_conds cd;

	parse(text, &h, hdrs, 16);
	ck_assert_msg(hq_cache_conditional(&h, (struct hq_str){ r->etag,
	    strlen(r->etag) }, r->lm) == r->want, "row %d", _i);
	/* a hit's way: the validators from hq_cache_request's pass */
	ck_assert_int_eq(hq_cache_request_conds(&h, &cd), HQ_CREQ_GET);
	ck_assert_msg(hq_cache_conditional_of(&cd, (struct hq_str){ r->etag,
	    strlen(r->etag) }, r->lm) == r->want, "row %d, one pass", _i);
	free(text);
}
END_TEST

START_TEST(dates)
{
	ck_assert_int_eq(hq_http_date_parse("Thu, 01 Jan 1970 00:00:00 GMT", 29), 0);
	ck_assert_int_eq(hq_http_date_parse("Sun, 06 Nov 1994 08:49:37 GMT", 29),
	    784111777);
	ck_assert_int_eq(hq_http_date_parse("Sun, 06 Foo 1994 08:49:37 GMT", 29), -1);
	ck_assert_int_eq(hq_http_date_parse("Sun, 06 Nov 1994 25:49:37 GMT", 29), -1);
	ck_assert_int_eq(hq_http_date_parse("", 0), -1);
	ck_assert_int_eq(hq_http_date_parse(NULL, 0), -1);
}
END_TEST

START_TEST(hash_and_urls)
{
	struct hq_str p = HQ_STR("/a/b"), q = HQ_STR("x=1"), none = { "", 0 };
	uint64_t h1 = hq_cache_hash(7, false, 1, HQ_STR("Example.COM:80"), p, q);
	char *u;

	ck_assert_uint_eq(h1, hq_cache_hash(7, false, 1, HQ_STR("example.com:80"), p, q));
	ck_assert_uint_ne(h1, hq_cache_hash(7, true, 1, HQ_STR("example.com:80"), p, q));
	ck_assert_uint_ne(h1, hq_cache_hash(7, false, 2, HQ_STR("example.com:80"), p, q));
	ck_assert_uint_ne(h1, hq_cache_hash(7, false, 1, HQ_STR("example.com:80"), p, none));
	/* the field boundaries count: host "a" path "/b" is not host "a/" path "b" */
	ck_assert_uint_ne(hq_cache_hash(7, false, 0, HQ_STR("a"), HQ_STR("/b"), none),
	    hq_cache_hash(7, false, 0, HQ_STR("a/"), HQ_STR("b"), none));
	/* Hosts are folded eight bytes at a time: every byte value at every
	 * place of hosts of 1 to 20 bytes against the byte with bit 0x20
	 * flipped: only letters hash the same ('@' and '`', '[' and '{',
	 * bytes over 0x7f differ). */
	for (size_t len = 1; len <= 20; len++)
		for (size_t at = 0; at < len; at++)
			for (int c = 0; c < 256; c++) {
				char a[20], b[20];
				bool letter = (c | 0x20) >= 'a' && (c | 0x20) <= 'z';

				memset(a, 'x', len);
				memcpy(b, a, len);
				a[at] = (char)c;
				b[at] = (char)(c ^ 0x20);
				ck_assert_msg((hq_cache_hash(7, false, 0, (struct hq_str){ a, len }, p, q) ==
				    hq_cache_hash(7, false, 0, (struct hq_str){ b, len }, p, q)) == letter,
				    "host byte 0x%02x at %zu of %zu", c, at, len);
			}
	/* the path and the query are not folded; their tails count */
	ck_assert_uint_ne(hq_cache_hash(7, false, 0, none, HQ_STR("/ABCDEFGHI"), none),
	    hq_cache_hash(7, false, 0, none, HQ_STR("/abcdefghi"), none));
	ck_assert_uint_ne(hq_cache_hash(7, false, 0, none, HQ_STR("/abcdefgh"), HQ_STR("x")),
	    hq_cache_hash(7, false, 0, none, HQ_STR("/abcdefgh"), HQ_STR("y")));
	ck_assert_uint_ne(hq_cache_hash(7, false, 0, none, HQ_STR("/a"), none),
	    hq_cache_hash(8, false, 0, none, HQ_STR("/a"), none));
	u = hq_cache_url(false, HQ_STR("Example.COM:8080"), 8080, p, q);
	ck_assert_str_eq(u, "http://example.com:8080/a/b?x=1");
	free(u);
	u = hq_cache_url(true, HQ_STR("[::1]:8443"), 8443, p, none);
	ck_assert_str_eq(u, "https://[::1]:8443/a/b");
	free(u);
	u = hq_cache_url(false, none, 80, HQ_STR("/"), none);
	ck_assert_str_eq(u, "http://:80/");
	free(u);
}
END_TEST

static const struct url_row {
	const char *in, *want;
} url_rows[] = {
	{ "http://Example.com/a/b", "http://example.com:80/a/b" },
	{ "https://example.com/", "https://example.com:443/" },
	{ "http://h:8080/a/%62/../c?q=1", "http://h:8080/a/c?q=1" },
	{ "http://h:8080", "http://h:8080/" },
	{ "http://h:8080?q", "http://h:8080/?q" },
	{ "http://[::1]:8080/x", "http://[::1]:8080/x" },
	{ "ftp://h/", NULL },
	{ "http://h:0/", NULL },
	{ "http://h:99999/", NULL },
	{ "http://h:80x/", NULL },
	{ "http:///a", NULL },
	{ "http://h/a#frag", NULL },
	{ "http://h/%zz", NULL },
	{ "h/a", NULL },
};

START_TEST(url_parse)
{
	const struct url_row *r = &url_rows[_i];
	char *u = hq_cache_url_parse(r->in);

	if (r->want == NULL)
		ck_assert_msg(u == NULL, "%s gave %s", r->in, u);
	else
		ck_assert_msg(u != NULL && strcmp(u, r->want) == 0, "%s gave %s",
		    r->in, u ? u : "NULL");
	free(u);
}
END_TEST

START_TEST(url_match)
{
	ck_assert(hq_cache_url_match("http://h:80/a", "http://h:80/a", false));
	ck_assert(!hq_cache_url_match("http://h:80/a/b", "http://h:80/a", false));
	ck_assert(hq_cache_url_match("http://h:80/a/b", "http://h:80/a", true));
	ck_assert(hq_cache_url_match("http://h:80/a/b", "http://h:80/a/", true));
	ck_assert(hq_cache_url_match("http://h:80/a?q", "http://h:80/a", true));
	ck_assert(!hq_cache_url_match("http://h:80/ab", "http://h:80/a", true));
	ck_assert(hq_cache_url_match("http://h:80/ab", "http://h:80/", true));
	ck_assert(!hq_cache_url_match("http://h:8080/a", "http://h:80/", true));
}
END_TEST

Suite *
unit_suite(void)
{
	Suite *s = suite_create("cacherules");
	TCase *tc = tcase_create("rules");

	tcase_add_loop_test(tc, request_rules, 0, sizeof(req_rows) / sizeof(req_rows[0]));
	tcase_add_loop_test(tc, response_rules, 0, sizeof(resp_rows) / sizeof(resp_rows[0]));
	tcase_add_test(tc, response_facts);
	tcase_add_loop_test(tc, conditionals, 0, sizeof(cond_rows) / sizeof(cond_rows[0]));
	tcase_add_test(tc, dates);
	tcase_add_test(tc, hash_and_urls);
	tcase_add_loop_test(tc, url_parse, 0, sizeof(url_rows) / sizeof(url_rows[0]));
	tcase_add_test(tc, url_match);
	suite_add_tcase(s, tc);
	return s;
}
