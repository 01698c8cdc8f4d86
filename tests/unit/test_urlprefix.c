/*
 * test_urlprefix.c -- prefix syntax and URL cooking, one table row per case.
 */
#include "config.h"

#include <check.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "httpq-internal.h"
#include "check_main.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* --- accepted prefixes ------------------------------------------------ */

static const struct ok_case {
	const char *in;
	bool https;
	uint16_t port;
	enum hq_host_class cls;
	const char *host;
	int family;
	const char *path;
	const char *text;
} ok_cases[] = {
	{ "http://+:80/", false, 80, HQ_HOST_STRONG, "+", 0, "/", "http://+:80/" },
	{ "https://*:443/", true, 443, HQ_HOST_WEAK, "*", 0, "/", "https://*:443/" },
	{ "http://+:8080", false, 8080, HQ_HOST_STRONG, "+", 0, "/", "http://+:8080/" },
	{ "http://+:1/", false, 1, HQ_HOST_STRONG, "+", 0, "/", "http://+:1/" },
	{ "http://+:65535/", false, 65535, HQ_HOST_STRONG, "+", 0, "/", "http://+:65535/" },
	{ "http://+:80/app/", false, 80, HQ_HOST_STRONG, "+", 0, "/app/", "http://+:80/app/" },
	{ "http://Example.COM:80/App/Sub/", false, 80, HQ_HOST_EXPLICIT, "example.com", 0,
	    "/app/sub/", "http://example.com:80/app/sub/" },
	{ "http://my-host.example:81/x/", false, 81, HQ_HOST_EXPLICIT, "my-host.example", 0,
	    "/x/", "http://my-host.example:81/x/" },
	{ "http://localhost:80/", false, 80, HQ_HOST_EXPLICIT, "localhost", 0, "/",
	    "http://localhost:80/" },
	{ "http://123:80/", false, 80, HQ_HOST_EXPLICIT, "123", 0, "/", "http://123:80/" },
	{ "http://127.0.0.1:80/", false, 80, HQ_HOST_IP, "127.0.0.1", AF_INET, "/",
	    "http://127.0.0.1:80/" },
	{ "http://[::1]:80/", false, 80, HQ_HOST_IP, "::1", AF_INET6, "/", "http://[::1]:80/" },
	{ "http://[0:0::1]:80/a/", false, 80, HQ_HOST_IP, "::1", AF_INET6, "/a/",
	    "http://[::1]:80/a/" },
	{ "https://[FE80::A]:8443", true, 8443, HQ_HOST_IP, "fe80::a", AF_INET6, "/",
	    "https://[fe80::a]:8443/" },
	{ "http://[::ffff:10.0.0.1]:80/", false, 80, HQ_HOST_IP, "::ffff:10.0.0.1", AF_INET6,
	    "/", "http://[::ffff:10.0.0.1]:80/" },
	{ "http://+:80/a%20b/", false, 80, HQ_HOST_STRONG, "+", 0, "/a b/",
	    "http://+:80/a%20b/" },
	{ "http://+:80/a b/", false, 80, HQ_HOST_STRONG, "+", 0, "/a b/", "http://+:80/a%20b/" },
	{ "http://+:80/a%2fb/", false, 80, HQ_HOST_STRONG, "+", 0, "/a/b/", "http://+:80/a/b/" },
	{ "http://+:80/a%25b/", false, 80, HQ_HOST_STRONG, "+", 0, "/a%b/", "http://+:80/a%25b/" },
	{ "http://+:80/%41pp/", false, 80, HQ_HOST_STRONG, "+", 0, "/app/", "http://+:80/app/" },
	{ "http://+:80/%C3%A9t%C3%A9/", false, 80, HQ_HOST_STRONG, "+", 0,
	    "/\xc3\xa9t\xc3\xa9/", "http://+:80/%C3%A9t%C3%A9/" },
	{ "http://+:80/.well-known/", false, 80, HQ_HOST_STRONG, "+", 0, "/.well-known/",
	    "http://+:80/.well-known/" },
	{ "http://+:80/a./.../", false, 80, HQ_HOST_STRONG, "+", 0, "/a./.../",
	    "http://+:80/a./.../" },
};

START_TEST(test_parse_ok)
{
	const struct ok_case *c = &ok_cases[_i];
	struct hq_prefix p;
	char err[256] = "";

	ck_assert_msg(hq_prefix_parse(c->in, &p, err, sizeof(err)) == 0,
	    "%s: %s", c->in, err);
	ck_assert_int_eq(p.https, c->https);
	ck_assert_uint_eq(p.port, c->port);
	ck_assert_int_eq(p.cls, c->cls);
	ck_assert_str_eq(p.host, c->host);
	ck_assert_int_eq(p.ip_family, c->family);
	ck_assert_str_eq(p.path, c->path);
	ck_assert_uint_eq(p.path_len, strlen(c->path));
	ck_assert_str_eq(p.text, c->text);
	hq_prefix_free(&p);

	/* The canonical text parses back to itself. */
	ck_assert_int_eq(hq_prefix_parse(c->text, &p, err, sizeof(err)), 0);
	ck_assert_str_eq(p.text, c->text);
	hq_prefix_free(&p);
}
END_TEST

START_TEST(test_parse_ip_bytes)
{
	static const unsigned char v4[4] = { 10, 1, 2, 3 };
	static const unsigned char v6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
	struct hq_prefix p;
	char err[256];

	ck_assert_int_eq(hq_prefix_parse("http://10.1.2.3:80/", &p, err, sizeof(err)), 0);
	ck_assert_mem_eq(p.ip, v4, 4);
	hq_prefix_free(&p);
	ck_assert_int_eq(hq_prefix_parse("http://[2001:db8::1]:80/", &p, err, sizeof(err)), 0);
	ck_assert_mem_eq(p.ip, v6, 16);
	hq_prefix_free(&p);
}
END_TEST

/* --- refused prefixes: the exact message ------------------------------ */

static const struct err_case {
	const char *in;
	const char *msg;
} err_cases[] = {
	{ "HTTP://+:80/", "scheme must be \"http\" or \"https\" (lower case) in \"HTTP://+:80/\"" },
	{ "Https://+:80/", "scheme must be \"http\" or \"https\" (lower case) in \"Https://+:80/\"" },
	{ "ftp://+:80/", "scheme must be \"http\" or \"https\" (lower case) in \"ftp://+:80/\"" },
	{ "http:/+:80/", "scheme must be \"http\" or \"https\" (lower case) in \"http:/+:80/\"" },
	{ "+:80/", "scheme must be \"http\" or \"https\" (lower case) in \"+:80/\"" },
	{ "", "scheme must be \"http\" or \"https\" (lower case) in \"\"" },
	{ "http://+/app/", "port missing in \"http://+/app/\"" },
	{ "http://+", "port missing in \"http://+\"" },
	{ "http://+:/", "port missing in \"http://+:/\"" },
	{ "http://+:", "port missing in \"http://+:\"" },
	{ "http://[::1]/", "port missing in \"http://[::1]/\"" },
	{ "http://+:80a/", "bad port \"80a\" in \"http://+:80a/\"" },
	{ "http://+:-80/", "bad port \"-80\" in \"http://+:-80/\"" },
	{ "http://+:+80/", "bad port \"+80\" in \"http://+:+80/\"" },
	{ "http://+: 80/", "bad port \" 80\" in \"http://+: 80/\"" },
	{ "http://+:*/", "bad port \"*\" in \"http://+:*/\"" },
	{ "http://+:80?x/", "bad port \"80?x\" in \"http://+:80?x/\"" },
	{ "http://+:080/", "bad port \"080\" (leading zero) in \"http://+:080/\"" },
	{ "http://+:0/", "port out of range (1-65535) in \"http://+:0/\"" },
	{ "http://+:65536/", "port out of range (1-65535) in \"http://+:65536/\"" },
	{ "http://+:99999999999999999999999/",
	    "port out of range (1-65535) in \"http://+:99999999999999999999999/\"" },
	{ "http://:80/", "host missing in \"http://:80/\"" },
	{ "http:///", "host missing in \"http:///\"" },
	{ "http://a_b:80/", "bad host name \"a_b\" (letters, digits, \"-\" and \".\" allowed; "
	    "\"+\" or \"*\" for wildcards) in \"http://a_b:80/\"" },
	{ "http://++:80/", "bad host name \"++\" (letters, digits, \"-\" and \".\" allowed; "
	    "\"+\" or \"*\" for wildcards) in \"http://++:80/\"" },
	{ "http://*.example.com:80/", "bad host name \"*.example.com\" (letters, digits, \"-\" "
	    "and \".\" allowed; \"+\" or \"*\" for wildcards) in \"http://*.example.com:80/\"" },
	{ "http://user@host:80/", "bad host name \"user@host\" (letters, digits, \"-\" and "
	    "\".\" allowed; \"+\" or \"*\" for wildcards) in \"http://user@host:80/\"" },
	{ "http://a..b:80/", "bad host name \"a..b\" (empty label) in \"http://a..b:80/\"" },
	{ "http://.a:80/", "bad host name \".a\" (empty label) in \"http://.a:80/\"" },
	{ "http://a.:80/", "bad host name \"a.\" (empty label) in \"http://a.:80/\"" },
	{ "http://1.2.3.256:80/", "bad IPv4 address \"1.2.3.256\" in \"http://1.2.3.256:80/\"" },
	{ "http://1.2.3:80/", "bad IPv4 address \"1.2.3\" in \"http://1.2.3:80/\"" },
	{ "http://[zz]:80/", "bad IPv6 address \"zz\" in \"http://[zz]:80/\"" },
	{ "http://[]:80/", "bad IPv6 address \"\" in \"http://[]:80/\"" },
	{ "http://[fe80::1%eth0]:80/",
	    "bad IPv6 address \"fe80::1%eth0\" in \"http://[fe80::1%eth0]:80/\"" },
	{ "http://[::1:80/", "\"[\" without \"]\" in \"http://[::1:80/\"" },
	{ "http://[::1]x:80/", "expected \":port\" after the host in \"http://[::1]x:80/\"" },
	{ "http://+:80/app", "path must end in \"/\" in \"http://+:80/app\"" },
	{ "http://+:80/a/b", "path must end in \"/\" in \"http://+:80/a/b\"" },
	{ "http://+:80/a%2/", "path has a bad percent-escape in \"http://+:80/a%2/\"" },
	{ "http://+:80/a%zz/", "path has a bad percent-escape in \"http://+:80/a%zz/\"" },
	{ "http://+:80/a%", "path has a bad percent-escape in \"http://+:80/a%\"" },
	{ "http://+:80/a%00/", "path has a control character in \"http://+:80/a%00/\"" },
	{ "http://+:80/a%1f/", "path has a control character in \"http://+:80/a%1f/\"" },
	{ "http://+:80/a%7F/", "path has a control character in \"http://+:80/a%7F/\"" },
	{ "http://+:80/a\tb/", "path has a control character in \"http://+:80/a\tb/\"" },
	{ "http://+:80/a?b/", "path has \"?\" in \"http://+:80/a?b/\"" },
	{ "http://+:80/a%3Fb/", "path has \"?\" in \"http://+:80/a%3Fb/\"" },
	{ "http://+:80/a#b/", "path has \"#\" in \"http://+:80/a#b/\"" },
	{ "http://+:80/a%23b/", "path has \"#\" in \"http://+:80/a%23b/\"" },
	{ "http://+:80//", "path has an empty segment in \"http://+:80//\"" },
	{ "http://+:80/a//b/", "path has an empty segment in \"http://+:80/a//b/\"" },
	{ "http://+:80/a%2F/", "path has an empty segment in \"http://+:80/a%2F/\"" },
	{ "http://+:80/./", "path has a \".\" or \"..\" segment in \"http://+:80/./\"" },
	{ "http://+:80/a/../", "path has a \".\" or \"..\" segment in \"http://+:80/a/../\"" },
	{ "http://+:80/a/%2e%2E/",
	    "path has a \".\" or \"..\" segment in \"http://+:80/a/%2e%2E/\"" },
};

START_TEST(test_parse_err)
{
	const struct err_case *c = &err_cases[_i];
	struct hq_prefix p;
	char err[512] = "";

	ck_assert_int_eq(hq_prefix_parse(c->in, &p, err, sizeof(err)), -1);
	ck_assert_str_eq(err, c->msg);
	/* A failed parse leaves nothing to free. */
	ck_assert_ptr_null(p.host);
	ck_assert_ptr_null(p.path);
	ck_assert_ptr_null(p.text);
}
END_TEST

/* Lengths are generated: a 64-character label, a 254-character name. */
/*
 * The whole prefix is capped (100,000 characters used to be accepted):
 * "http://+:80/" then a path of a's and a '/', total length per row.
 */
static const struct { size_t len; const char *msg; } long_rows[] = {
	{ 14, NULL },
	{ HQ_PREFIX_MAX_LENGTH - 1, NULL },
	{ HQ_PREFIX_MAX_LENGTH, NULL },
	{ HQ_PREFIX_MAX_LENGTH + 1, "prefix of 2049 characters, longer than "
	  "2048, in \"http://+:80/aaaaaaaaaaaaaaaaaaaa...\"" },
	{ 100000, "prefix of 100000 characters, longer than 2048, in "
	  "\"http://+:80/aaaaaaaaaaaaaaaaaaaa...\"" },
};

START_TEST(test_parse_long_prefix)
{
	size_t len = long_rows[_i].len;
	char *text = xmalloc(len + 1), err[512] = "";
	struct hq_prefix p;
	int rc;

	memcpy(text, "http://+:80/", 12);
	memset(text + 12, 'a', len - 12);
	text[len - 1] = '/';
	text[len] = '\0';
	rc = hq_prefix_parse(text, &p, err, sizeof(err));
	if (long_rows[_i].msg == NULL) {
		ck_assert_msg(rc == 0, "%zu: %s", len, err);
		ck_assert_uint_eq(strlen(p.text), len);
		hq_prefix_free(&p);
	} else {
		ck_assert_int_eq(rc, -1);
		ck_assert_str_eq(err, long_rows[_i].msg);
		ck_assert_ptr_null(p.text);
	}
	free(text);
}
END_TEST

START_TEST(test_parse_long_host)
{
	static const struct { size_t label, labels; int rc; } rows[] = {
		{ 63, 1, 0 }, { 64, 1, -1 }, { 63, 4, -1 }, /* 4*63+3 = 255 > 253 */
		{ 62, 4, 0 },                                /* 4*62+3 = 251 */
	};
	char text[400], err[512];
	struct hq_prefix p;

	for (size_t r = 0; r < NELEM(rows); r++) {
		size_t o = (size_t)snprintf(text, sizeof(text), "http://");

		for (size_t l = 0; l < rows[r].labels; l++) {
			if (l)
				text[o++] = '.';
			memset(text + o, 'a', rows[r].label);
			o += rows[r].label;
		}
		snprintf(text + o, sizeof(text) - o, ":80/");
		ck_assert_msg(hq_prefix_parse(text, &p, err, sizeof(err)) == rows[r].rc,
		    "row %zu", r);
		if (rows[r].rc == 0)
			hq_prefix_free(&p);
		else
			ck_assert_ptr_nonnull(strstr(err, "longer than"));
	}
}
END_TEST

START_TEST(test_parse_small_err)
{
	struct hq_prefix p;
	char err[8];

	ck_assert_int_eq(hq_prefix_parse("http://+/", &p, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "port mi");
	ck_assert_int_eq(hq_prefix_parse("http://+/", &p, NULL, 0), -1);
	ck_assert_int_eq(hq_prefix_parse(NULL, &p, err, sizeof(err)), -1);
}
END_TEST

START_TEST(test_copy)
{
	struct hq_prefix a, b;
	char err[256];

	ck_assert_int_eq(hq_prefix_parse("https://[::1]:443/A/", &a, err, sizeof(err)), 0);
	hq_prefix_copy(&b, &a);
	ck_assert_ptr_ne(a.host, b.host);
	ck_assert_ptr_ne(a.path, b.path);
	ck_assert_ptr_ne(a.text, b.text);
	hq_prefix_free(&a);
	ck_assert_int_eq(b.https, true);
	ck_assert_uint_eq(b.port, 443);
	ck_assert_int_eq(b.cls, HQ_HOST_IP);
	ck_assert_int_eq(b.ip_family, AF_INET6);
	ck_assert_uint_eq(b.ip[15], 1);
	ck_assert_str_eq(b.host, "::1");
	ck_assert_str_eq(b.path, "/a/");
	ck_assert_uint_eq(b.path_len, 3);
	ck_assert_str_eq(b.text, "https://[::1]:443/a/");
	hq_prefix_free(&b);
	ck_assert_ptr_null(b.text);
	hq_prefix_free(&b); /* twice is harmless */
	hq_prefix_free(NULL);
}
END_TEST

/* --- cooking ---------------------------------------------------------- */

#define BAD NULL /* expected out of a row that must fail */

static const struct cook_case {
	const char *raw;
	uint32_t seg_len, seg_count; /* limits; 0 = unlimited */
	const char *out;             /* BAD: HQ_ERR_BAD_URL */
	const char *query;           /* NULL: no '?' at all */
} cook_cases[] = {
	{ "/", 0, 0, "/", NULL },
	{ "/a/b", 0, 0, "/a/b", NULL },
	{ "/a/b/", 0, 0, "/a/b/", NULL },
	{ "/a/b%20c/../d?x=1", 0, 0, "/a/d", "x=1" },
	{ "/a/./b", 0, 0, "/a/b", NULL },
	{ "/a/.", 0, 0, "/a/", NULL },
	{ "/a/./", 0, 0, "/a/", NULL },
	{ "/a/..", 0, 0, "/", NULL },
	{ "/a/b/..", 0, 0, "/a/", NULL },
	{ "/a/b/../", 0, 0, "/a/", NULL },
	{ "/.", 0, 0, "/", NULL },
	/* P-PATH-4: dot segments resolve after decoding, never above "/" */
	{ "/..", 0, 0, BAD, NULL },
	{ "/../../a", 0, 0, BAD, NULL },
	{ "/a/../../b/", 0, 0, BAD, NULL },
	{ "/a/b/../../c", 0, 0, "/c", NULL },
	{ "/%2e%2E", 0, 0, BAD, NULL },
	{ "/a%2F..%2F..%2Fb", 0, 0, BAD, NULL },
	{ "/a/b/c/../../d", 0, 0, "/a/d", NULL },
	{ "/a/.b/..c/...", 0, 0, "/a/.b/..c/...", NULL },
	{ "//a///b//", 0, 0, "/a/b/", NULL },
	{ "//", 0, 0, "/", NULL },
	/* P-PATH-2: %2F is a '/' once decoded, as in http.sys's cooked URL */
	{ "/a%2Fb", 0, 0, "/a/b", NULL },
	{ "/a%2fb%2F..%2Fc", 0, 0, "/a/c", NULL },
	{ "/a%2F%2Fb", 0, 0, "/a/b", NULL },
	{ "/%2E%2E/a", 0, 0, BAD, NULL },
	{ "/x/%2E%2E/a", 0, 0, "/a", NULL },
	{ "/a/%2e/b", 0, 0, "/a/b", NULL },
	{ "/a/b/%2e%2E", 0, 0, "/a/", NULL },
	{ "/A/B", 0, 0, "/A/B", NULL },
	{ "/%41%62", 0, 0, "/Ab", NULL },
	{ "/a%20", 0, 0, "/a ", NULL },
	{ "/a%25", 0, 0, "/a%", NULL },
	{ "/a%3Fb", 0, 0, "/a?b", NULL },
	/* P-PATH-5: the decoded path is UTF-8 (RFC 3629), raw or escaped */
	{ "/%C3%A9", 0, 0, "/\xc3\xa9", NULL },
	{ "/\xc3\xa9", 0, 0, "/\xc3\xa9", NULL },
	{ "/%E2%82%AC%F0%9F%98%80", 0, 0, "/\xe2\x82\xac\xf0\x9f\x98\x80", NULL },
	{ "/%ED%9F%BF%EE%80%80", 0, 0, "/\xed\x9f\xbf\xee\x80\x80", NULL },
	{ "/%F4%8F%BF%BF", 0, 0, "/\xf4\x8f\xbf\xbf", NULL },
	{ "/%C2%A0", 0, 0, "/\xc2\xa0", NULL },
	{ "/%C3", 0, 0, BAD, NULL },              /* truncated */
	{ "/%C3/", 0, 0, BAD, NULL },
	{ "/%E2%82", 0, 0, BAD, NULL },
	{ "/%A9", 0, 0, BAD, NULL },              /* lone continuation */
	{ "/\xe9", 0, 0, BAD, NULL },              /* Latin-1, raw */
	{ "/%E9", 0, 0, BAD, NULL },              /* Latin-1, escaped */
	{ "/%C0%AF", 0, 0, BAD, NULL },           /* overlong '/' */
	{ "/%C1%BF", 0, 0, BAD, NULL },
	{ "/%C0%AE%C0%AE/x", 0, 0, BAD, NULL },   /* overlong ".." */
	{ "/%E0%80%AF", 0, 0, BAD, NULL },        /* overlong, 3 bytes */
	{ "/%E0%9F%BF", 0, 0, BAD, NULL },
	{ "/%F0%80%80%AF", 0, 0, BAD, NULL },     /* overlong, 4 bytes */
	{ "/%F0%8F%BF%BF", 0, 0, BAD, NULL },
	{ "/%ED%A0%80", 0, 0, BAD, NULL },        /* surrogate U+D800 */
	{ "/%ED%BF%BF", 0, 0, BAD, NULL },        /* surrogate U+DFFF */
	{ "/%ED%A0%BD%ED%B8%80", 0, 0, BAD, NULL },  /* CESU-8 pair */
	{ "/%F4%90%80%80", 0, 0, BAD, NULL },     /* above U+10FFFF */
	{ "/%F5%80%80%80", 0, 0, BAD, NULL },
	{ "/%FE", 0, 0, BAD, NULL },
	{ "/%FF", 0, 0, BAD, NULL },
	{ "/%E2%28%A1", 0, 0, BAD, NULL },        /* bad continuation */
	/* P-PATH-6: no C1 control (U+0080-U+009F), as no C0 one */
	{ "/%C2%80", 0, 0, BAD, NULL },
	{ "/%C2%9F", 0, 0, BAD, NULL },
	{ "/\xc2\x85", 0, 0, BAD, NULL },
	{ "/a\\b", 0, 0, "/a\\b", NULL },
	{ "/a+b", 0, 0, "/a+b", NULL },
	{ "/?", 0, 0, "/", "" },
	{ "/a?b?c", 0, 0, "/a", "b?c" },
	{ "/a?x%zz&%00", 0, 0, "/a", "x%zz&%00" },
	{ "/a/../?q", 0, 0, "/", "q" },
	/* P-PATH-1: a bad percent-escape is refused */
	{ "/a%", 0, 0, BAD, NULL },
	{ "/a%2", 0, 0, BAD, NULL },
	{ "/a%zz", 0, 0, BAD, NULL },
	{ "/a%g0", 0, 0, BAD, NULL },
	{ "/a%2?x", 0, 0, BAD, "x" },
	/* P-PATH-3: %00 and every decoded control character */
	{ "/a%00", 0, 0, BAD, NULL },
	{ "/a%0a", 0, 0, BAD, NULL },
	{ "/a%1F", 0, 0, BAD, NULL },
	{ "/a%7f", 0, 0, BAD, NULL },
	{ "/a\x01", 0, 0, BAD, NULL },
	{ "/a\x7f", 0, 0, BAD, NULL },
	{ "", 0, 0, BAD, NULL },
	{ "a/b", 0, 0, BAD, NULL },
	{ "*", 0, 0, BAD, NULL },
	{ "?x", 0, 0, BAD, "x" },
	{ "http://h/a", 0, 0, BAD, NULL },
	/* P-PATH-7 segment length: max-1, max, max+1 (decoded bytes count) */
	{ "/ab", 3, 0, "/ab", NULL },
	{ "/abc", 3, 0, "/abc", NULL },
	{ "/abcd", 3, 0, BAD, NULL },
	{ "/abcd/", 3, 0, BAD, NULL },
	{ "/x/abcd/../y", 3, 0, BAD, NULL },
	{ "/%41%41%41", 3, 0, "/AAA", NULL },
	{ "/%41%41%41%41", 3, 0, BAD, NULL },
	{ "/abc/def/ghi/", 3, 0, "/abc/def/ghi/", NULL },
	{ "/abcdefghijklmnop", 0, 0, "/abcdefghijklmnop", NULL },
	/* segment count: max-1, max, max+1; the cooked path is counted */
	{ "/a/b", 0, 3, "/a/b", NULL },
	{ "/a/b/c", 0, 3, "/a/b/c", NULL },
	{ "/a/b/c/", 0, 3, "/a/b/c/", NULL },
	{ "/a/b/c/d", 0, 3, BAD, NULL },
	{ "/a/b/c/d/", 0, 3, BAD, NULL },
	{ "/a/b%2Fc/d", 0, 3, BAD, NULL },
	{ "/a/b/c/d/..", 0, 3, "/a/b/c/", NULL },
	{ "//a//b//c//", 0, 3, "/a/b/c/", NULL },
	{ "/", 0, 1, "/", NULL },
	{ "/a/b/c/d/e/f", 0, 0, "/a/b/c/d/e/f", NULL },
};

START_TEST(test_cook)
{
	const struct cook_case *c = &cook_cases[_i];
	struct hq_limits lim = { .segment_max_length = c->seg_len,
	    .segment_max_count = c->seg_count };
	size_t rawlen = strlen(c->raw), outlen = 12345;
	char *out = xmalloc(rawlen + 1); /* the documented capacity, exactly */
	struct hq_str q = { NULL, 99 };
	enum hq_error e = hq_url_cook(c->raw, rawlen, &lim, out, rawlen + 1, &outlen, &q);

	if (c->out == BAD) {
		ck_assert_msg(e == HQ_ERR_BAD_URL, "\"%s\" should fail", c->raw);
	} else {
		ck_assert_msg(e == HQ_OK, "\"%s\" failed", c->raw);
		ck_assert_uint_eq(outlen, strlen(c->out));
		ck_assert_mem_eq(out, c->out, outlen);
		ck_assert_int_eq(out[outlen], '\0');
	}
	if (c->query != NULL) {
		ck_assert_uint_eq(q.n, strlen(c->query));
		ck_assert_ptr_eq(q.p, strchr(c->raw, '?') + 1);
		ck_assert_mem_eq(q.p, c->query, q.n);
	} else if (e == HQ_OK) {
		ck_assert_uint_eq(q.n, 0);
		ck_assert_ptr_eq(q.p, c->raw + rawlen);
	}
	free(out);
}
END_TEST

/* The http.sys defaults (260 chars, 255 segments) at max-1, max, max+1. */
START_TEST(test_cook_default_limits)
{
	static const struct { size_t seglen, nseg; bool ok; } rows[] = {
		{ 259, 1, true }, { 260, 1, true }, { 261, 1, false },
		{ 1, 254, true }, { 1, 255, true }, { 1, 256, false },
		{ 260, 255, true }, { 261, 255, false }, { 260, 256, false },
	};
	const struct hq_limits lim = { .segment_max_length = HQ_DEFAULT_SEGMENT_MAX_LENGTH,
	    .segment_max_count = HQ_DEFAULT_SEGMENT_MAX_COUNT };

	for (size_t r = 0; r < NELEM(rows); r++) {
		size_t n = rows[r].nseg * (rows[r].seglen + 1), outlen;
		char *raw = xmalloc(n), *out = xmalloc(n + 1);
		struct hq_str q;

		for (size_t s = 0; s < rows[r].nseg; s++) {
			raw[s * (rows[r].seglen + 1)] = '/';
			memset(raw + s * (rows[r].seglen + 1) + 1, 'x', rows[r].seglen);
		}
		ck_assert_msg((hq_url_cook(raw, n, &lim, out, n + 1, &outlen, &q) == HQ_OK) ==
		    rows[r].ok, "row %zu", r);
		if (rows[r].ok)
			ck_assert_uint_eq(outlen, n);
		free(raw);
		free(out);
	}
}
END_TEST

/* Output capacity: too small fails without writing past outcap. */
START_TEST(test_cook_outcap)
{
	static const struct { const char *raw; size_t cap; bool ok; } rows[] = {
		{ "/abc", 5, true }, { "/abc", 4, false }, { "/abc/", 6, true },
		{ "/abc/", 5, false }, { "/", 2, true }, { "/", 1, false }, { "/", 0, false },
		{ "/a/../b", 8, true }, { "/a%20", 4, true }, { "/a%20", 3, false },
	};

	for (size_t r = 0; r < NELEM(rows); r++) {
		char buf[32];
		size_t outlen;
		struct hq_str q;

		memset(buf, '#', sizeof(buf));
		ck_assert_msg((hq_url_cook(rows[r].raw, strlen(rows[r].raw), NULL, buf,
		    rows[r].cap, &outlen, &q) == HQ_OK) == rows[r].ok, "row %zu", r);
		for (size_t i = rows[r].cap; i < sizeof(buf); i++)
			ck_assert_msg(buf[i] == '#', "row %zu wrote byte %zu", r, i);
	}
}
END_TEST

/* The target need not be NUL-terminated: it is a view into a buffer. */
START_TEST(test_cook_view)
{
	const char buf[] = "/a/b%2Fc HTTP/1.1";
	char out[32];
	size_t outlen;
	struct hq_str q;

	ck_assert_int_eq(hq_url_cook(buf, 8, NULL, out, sizeof(out), &outlen, &q), HQ_OK);
	ck_assert_uint_eq(outlen, 6);
	ck_assert_mem_eq(out, "/a/b/c", 6);
	ck_assert_ptr_eq(q.p, buf + 8);
	ck_assert_uint_eq(q.n, 0);
	/* an escape cut by the end of the view is bad, whatever follows */
	ck_assert_int_eq(hq_url_cook(buf, 6, NULL, out, sizeof(out), &outlen, &q),
	    HQ_ERR_BAD_URL);
}
END_TEST

Suite *
unit_suite(void)
{
	Suite *s = suite_create("urlprefix");
	TCase *tc = tcase_create("parse");

	tcase_add_loop_test(tc, test_parse_ok, 0, NELEM(ok_cases));
	tcase_add_loop_test(tc, test_parse_err, 0, NELEM(err_cases));
	tcase_add_test(tc, test_parse_ip_bytes);
	tcase_add_test(tc, test_parse_long_host);
	tcase_add_loop_test(tc, test_parse_long_prefix, 0, NELEM(long_rows));
	tcase_add_test(tc, test_parse_small_err);
	tcase_add_test(tc, test_copy);
	suite_add_tcase(s, tc);
	tc = tcase_create("cook");
	tcase_add_loop_test(tc, test_cook, 0, NELEM(cook_cases));
	tcase_add_test(tc, test_cook_default_limits);
	tcase_add_test(tc, test_cook_outcap);
	tcase_add_test(tc, test_cook_view);
	suite_add_tcase(s, tc);
	return s;
}
