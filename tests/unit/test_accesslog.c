/*
 * test_accesslog.c -- log lines (W3C extended with http.sys field names,
 * NCSA combined, the HTTPERR fields), their escaping and headers, and the
 * rate limiter of repeated daemon messages (log.c).
 */
#include "config.h"

#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "httpq-internal.h"
#include "check_main.h"

#define S(lit) ((struct hq_str){ (lit), sizeof(lit) - 1 })

static struct sockaddr_in cli4, srv4;
static struct sockaddr_in6 cli6;
static struct hq_logclock clk;
static struct hq_hdr hdrs[3];

/* 2026-11-25 17:01:02 UTC */
#define T0 ((time_t)1795626062)

static struct hq_logrec
rec(void)
{
	struct hq_logrec r;

	memset(&cli4, 0, sizeof(cli4));
	cli4.sin_family = AF_INET;
	cli4.sin_port = htons(50123);
	inet_pton(AF_INET, "192.0.2.7", &cli4.sin_addr);
	memset(&srv4, 0, sizeof(srv4));
	srv4.sin_family = AF_INET;
	srv4.sin_port = htons(8080);
	inet_pton(AF_INET, "10.0.0.1", &srv4.sin_addr);
	memset(&clk, 0, sizeof(clk));
	hq_logclock_set(&clk, T0);
	hdrs[0] = (struct hq_hdr){ S("Host"), S("shop.example") };
	hdrs[1] = (struct hq_hdr){ S("user-agent"), S("Mozilla/5.0 (X11)") };
	hdrs[2] = (struct hq_hdr){ S("Referer"), S("http://a.example/?q=\"x\"") };
	memset(&r, 0, sizeof(r));
	r.clk = &clk;
	r.client = (const struct sockaddr *)&cli4;
	r.server = (const struct sockaddr *)&srv4;
	r.method = S("GET");
	r.target = S("/shop/a%20b?x=1");
	r.query = S("x=1");
	r.host = S("shop.example");
	r.version = 11;
	r.status = 200;
	r.bytes_sent = 1234;
	r.body_sent = 1000;
	r.bytes_recv = 321;
	r.time_taken_ms = 15;
	r.site = "shop";
	r.queue = "app";
	r.headers = hdrs;
	r.nheaders = 3;
	return r;
}

static char *
line(const char *fields, enum hq_logformat f, const struct hq_logrec *r)
{
	struct hq_logspec sp;
	static char out[HQ_LOG_LINE_MAX];
	size_t n;

	ck_assert_int_eq(hq_logspec_parse(&sp, f, fields ? fields : ""), 0);
	n = hq_logline(&sp, r, out);
	hq_logspec_free(&sp);
	ck_assert_uint_gt(n, 0);
	ck_assert_int_eq(out[n - 1], '\n');
	out[n - 1] = '\0';
	return out;
}

/* One row per field list: input record (the default one) -> line. */
static const struct {
	const char *fields, *want;
} w3c_rows[] = {
	{ "date time", "2026-11-25 17:01:02" },
	{ "c-ip c-port s-ip s-port", "192.0.2.7 50123 10.0.0.1 8080" },
	{ "cs-method cs-uri-stem cs-uri-query cs-uri", "GET /shop/a%20b x=1 /shop/a%20b?x=1" },
	{ "sc-status sc-substatus sc-win32-status", "200 0 0" },
	{ "sc-bytes cs-bytes time-taken", "1234 321 15" },
	{ "cs-version cs-host cs-username", "HTTP/1.1 shop.example -" },
	{ "s-sitename s-queuename s-reason", "shop app -" },
	{ "s-computername", NULL },        /* gethostname() */
	{ "cs(User-Agent)", "Mozilla/5.0+(X11)" },
	{ "cs(Referer)", "http://a.example/?q=\"x\"" },
	{ "cs(X-Missing) cs(host)", "- shop.example" },
	{ "s-request-id", "-" },           /* never framed: no id */
	{ HQ_LOG_W3C_DEFAULT_FIELDS, "2026-11-25 17:01:02 192.0.2.7 - 10.0.0.1 8080 GET "
	    "/shop/a%20b x=1 200 1234 321 15 HTTP/1.1 shop.example Mozilla/5.0+(X11) "
	    "http://a.example/?q=\"x\"" },
};

START_TEST(test_w3c_fields)
{
	struct hq_logrec r = rec();
	char host[256] = "";

	gethostname(host, sizeof(host) - 1);
	ck_assert_str_eq(line(w3c_rows[_i].fields, HQ_LOG_W3C, &r),
	    w3c_rows[_i].want ? w3c_rows[_i].want : host);
}
END_TEST

START_TEST(test_w3c_escaping)
{
	struct hq_logrec r = rec();

	r.method = S("G\tT");
	r.target = S("/a b\r\nc");
	r.query = (struct hq_str){ NULL, 0 };
	r.status = 0;
	r.version = 0;
	ck_assert_str_eq(line("cs-method cs-uri-stem cs-uri-query sc-status cs-version",
	    HQ_LOG_W3C, &r), "G+T /a+b++c - - -");
}
END_TEST

START_TEST(test_w3c_ipv6)
{
	struct hq_logrec r = rec();

	memset(&cli6, 0, sizeof(cli6));
	cli6.sin6_family = AF_INET6;
	cli6.sin6_port = htons(443);
	inet_pton(AF_INET6, "2001:db8::5", &cli6.sin6_addr);
	r.client = (const struct sockaddr *)&cli6;
	ck_assert_str_eq(line("c-ip c-port", HQ_LOG_W3C, &r), "2001:db8::5 443");
	inet_pton(AF_INET6, "::ffff:192.0.2.9", &cli6.sin6_addr);
	ck_assert_str_eq(line("c-ip", HQ_LOG_W3C, &r), "192.0.2.9");
	r.client = NULL;
	ck_assert_str_eq(line("c-ip c-port", HQ_LOG_W3C, &r), "- -");
}
END_TEST

START_TEST(test_httperr)
{
	struct hq_logrec r = rec();

	r.status = 503;
	r.reason = "QueueFull";
	ck_assert_str_eq(line(HQ_LOG_HTTPERR_FIELDS, HQ_LOG_W3C, &r),
	    "2026-11-25 17:01:02 192.0.2.7 50123 10.0.0.1 8080 HTTP/1.1 GET "
	    "/shop/a%20b?x=1 503 QueueFull app -");
	r.request_id = 4097;
	ck_assert_str_eq(line(HQ_LOG_HTTPERR_FIELDS, HQ_LOG_W3C, &r),
	    "2026-11-25 17:01:02 192.0.2.7 50123 10.0.0.1 8080 HTTP/1.1 GET "
	    "/shop/a%20b?x=1 503 QueueFull app 4097");
	r.request_id = 0;
	r.status = 0;
	r.reason = "Timer_HeaderWait";
	r.queue = NULL;
	r.method = (struct hq_str){ NULL, 0 };
	r.target = (struct hq_str){ NULL, 0 };
	r.version = 0;
	ck_assert_str_eq(line(HQ_LOG_HTTPERR_FIELDS, HQ_LOG_W3C, &r),
	    "2026-11-25 17:01:02 192.0.2.7 50123 10.0.0.1 8080 - - - - Timer_HeaderWait - -");
}
END_TEST

/* s-request-id: the numeric id, or a trusted foreign one instead. */
START_TEST(test_request_id)
{
	struct hq_logrec r = rec();

	r.request_id = 18446744073709551615ULL;
	ck_assert_str_eq(line("s-request-id sc-status", HQ_LOG_W3C, &r),
	    "18446744073709551615 200");
	r.request_id_text = S("f0e1-42:ab/c=");
	ck_assert_str_eq(line("s-request-id", HQ_LOG_W3C, &r), "f0e1-42:ab/c=");
}
END_TEST

/* Which foreign ids are taken: one row per id. */
static const struct {
	const char *id;
	bool ok;
} rid_rows[] = {
	{ "abc", true },
	{ "0b9a7c2e-5f3d-4e1a-9c8b-7d6e5f4a3b2c", true },
	{ "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=1", false }, /* ';' */
	{ "a b", false },
	{ "a\"b", false },
	{ "a\\b", false },
	{ "x\r\nSet-Cookie: y", false },
	{ "", false },
	{ "dGVzdA==", true },
	{ "urn:uuid:1/2", true },
	{ "caf\xc3\xa9", false },
};

START_TEST(test_request_id_ok)
{
	const char *id = rid_rows[_i].id;

	ck_assert_msg(hq_request_id_ok(id, strlen(id)) == rid_rows[_i].ok,
	    "row %d: \"%s\"", _i, id);
}
END_TEST

START_TEST(test_request_id_length)
{
	char id[HQ_REQUEST_ID_MAX + 1];

	memset(id, 'a', sizeof(id));
	ck_assert(hq_request_id_ok(id, HQ_REQUEST_ID_MAX));
	ck_assert(!hq_request_id_ok(id, HQ_REQUEST_ID_MAX + 1));
}
END_TEST

START_TEST(test_ncsa)
{
	struct hq_logrec r = rec();

	ck_assert_str_eq(line(NULL, HQ_LOG_NCSA, &r),
	    "192.0.2.7 - - [25/Nov/2026:17:01:02 +0000] \"GET /shop/a%20b?x=1 HTTP/1.1\" "
	    "200 1000 \"http://a.example/?q=\\x22x\\x22\" \"Mozilla/5.0 (X11)\"");
	r.body_sent = 0;
	r.nheaders = 0;
	r.target = S("/\x01\\");
	ck_assert_str_eq(line(NULL, HQ_LOG_NCSA, &r),
	    "192.0.2.7 - - [25/Nov/2026:17:01:02 +0000] \"GET /\\x01\\x5C HTTP/1.1\" "
	    "200 - \"-\" \"-\"");
}
END_TEST

START_TEST(test_long_line_is_cut)
{
	struct hq_logrec r = rec();
	char *big = malloc(20000);

	memset(big, 'a', 20000);
	hdrs[1].value = (struct hq_str){ big, 20000 };
	{
		char *l = line("cs(User-Agent) cs(User-Agent) sc-status", HQ_LOG_W3C, &r);

		ck_assert_uint_eq(strlen(l), HQ_LOG_LINE_MAX - 1);
	}
	free(big);
}
END_TEST

START_TEST(test_spec_and_header)
{
	struct hq_logspec sp;
	char head[512];
	size_t n;

	ck_assert(hq_logfield_valid("cs(X-Request-Id)"));
	ck_assert(!hq_logfield_valid("cs()"));
	ck_assert(!hq_logfield_valid("cs(a b)"));
	ck_assert(!hq_logfield_valid("c-ipp"));
	ck_assert_int_eq(hq_logspec_parse(&sp, HQ_LOG_W3C, "date nope"), -1);
	ck_assert_int_eq(hq_logspec_parse(&sp, HQ_LOG_W3C, "date time c-ip"), 0);
	n = hq_logheader(&sp, T0, head, sizeof(head));
	head[n] = '\0';
	ck_assert_str_eq(head, "#Software: httpq/" PACKAGE_VERSION "\n#Version: 1.0\n"
	    "#Date: 2026-11-25 17:01:02\n#Fields: date time c-ip\n");
	hq_logspec_free(&sp);
	ck_assert_int_eq(hq_logspec_init(&sp, HQ_LOG_W3C, NULL, 0), 0);
	ck_assert_str_eq(sp.fields_line, "#Fields: " HQ_LOG_W3C_DEFAULT_FIELDS "\n");
	hq_logspec_free(&sp);
	ck_assert_int_eq(hq_logspec_init(&sp, HQ_LOG_NCSA, NULL, 0), 0);
	ck_assert_uint_eq(hq_logheader(&sp, T0, head, sizeof(head)), 0);
	hq_logspec_free(&sp);
}
END_TEST

START_TEST(test_clock)
{
	struct hq_logclock c = { 0 };

	hq_logclock_set(&c, 0);
	ck_assert_str_eq(c.date, "1970-01-01");
	ck_assert_str_eq(c.clf, "01/Jan/1970:00:00:00 +0000");
	hq_logclock_set(&c, 951782400); /* leap day 2000 */
	ck_assert_str_eq(c.date, "2000-02-29");
	ck_assert_str_eq(c.time, "00:00:00");
}
END_TEST

/* --- rate limiter: one row per event; expected print and flushed count --- */
static const struct {
	const char *text;  /* NULL = a tick */
	uint64_t ms;
	bool print;
	unsigned flushed;
} rl_rows[] = {
	{ "accept: Too many open files", 0, true, 0 },
	{ "accept: Too many open files", 10, false, 0 },
	{ "accept: Too many open files", 20, false, 0 },
	{ NULL, 1000, false, 0 },                /* window not over */
	{ "other", 1500, true, 2 },              /* a new text reports the repeats */
	{ "other", 1600, false, 0 },
	{ NULL, 1500 + HQ_LOG_REPEAT_WINDOW_MS, false, 1 }, /* window over */
	{ "other", 1600 + HQ_LOG_REPEAT_WINDOW_MS, false, 0 }, /* a new window: counted */
	{ "other", 1500 + 3 * HQ_LOG_REPEAT_WINDOW_MS, true, 1 }, /* window over: printed */
	{ "third", 1500 + 3 * HQ_LOG_REPEAT_WINDOW_MS, true, 0 },
};

START_TEST(test_ratelimit)
{
	struct hq_ratelimit rl = { 0 };

	for (size_t i = 0; i < sizeof(rl_rows) / sizeof(rl_rows[0]); i++) {
		unsigned flushed = 99;
		bool p = hq_ratelimit(&rl, rl_rows[i].text, rl_rows[i].ms, &flushed);

		ck_assert_msg(p == rl_rows[i].print, "row %zu: print %d", i, p);
		ck_assert_msg(flushed == rl_rows[i].flushed, "row %zu: flushed %u, want %u",
		    i, flushed, rl_rows[i].flushed);
	}
}
END_TEST

Suite *
unit_suite(void)
{
	Suite *su = suite_create("accesslog");
	TCase *tc = tcase_create("lines");

	tcase_add_loop_test(tc, test_w3c_fields, 0, sizeof(w3c_rows) / sizeof(w3c_rows[0]));
	tcase_add_test(tc, test_w3c_escaping);
	tcase_add_test(tc, test_w3c_ipv6);
	tcase_add_test(tc, test_httperr);
	tcase_add_test(tc, test_ncsa);
	tcase_add_test(tc, test_request_id);
	tcase_add_loop_test(tc, test_request_id_ok, 0, sizeof(rid_rows) / sizeof(rid_rows[0]));
	tcase_add_test(tc, test_request_id_length);
	tcase_add_test(tc, test_long_line_is_cut);
	tcase_add_test(tc, test_spec_and_header);
	tcase_add_test(tc, test_clock);
	tcase_add_test(tc, test_ratelimit);
	suite_add_tcase(su, tc);
	return su;
}
