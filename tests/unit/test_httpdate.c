/*
 * test_httpdate.c -- src/lib/httpdate.c: HTTP-dates (RFC 9110 5.6.7), the
 * three forms a recipient must accept and what it must refuse.  The static
 * module compiles the same file.
 */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "httpdate.h"
#include "check_main.h"

static const struct {
	const char *in;
	int64_t want; /* -1: refused */
} rows[] = {
	/* IMF-fixdate */
	{ "Sun, 06 Nov 1994 08:49:37 GMT", 784111777 },
	{ "Thu, 01 Jan 1970 00:00:00 GMT", 0 },
	{ "Tue, 29 Feb 2000 23:59:59 GMT", 951868799 },
	{ "Sat, 31 Dec 2016 23:59:60 GMT", 1483228800 },   /* leap second */
	{ "Fri, 31 Dec 9999 23:59:59 GMT", 253402300799 },
	/* obsolete RFC 850: 2-digit year, 70-99 are 19xx */
	{ "Sunday, 06-Nov-94 08:49:37 GMT", 784111777 },
	{ "Wednesday, 01-Jan-20 00:00:00 GMT", 1577836800 },
	{ "Thursday, 01-Jan-70 00:00:00 GMT", 0 },
	/* obsolete asctime: day padded with a space, or two digits */
	{ "Sun Nov  6 08:49:37 1994", 784111777 },
	{ "Sun Nov 06 08:49:37 1994", 784111777 },
	/* refused */
	{ "", -1 },
	{ "Sun, 06 Nov 1994 08:49:37 UTC", -1 },           /* not GMT */
	{ "Sun, 06 Nov 1994 08:49:37 GMT ", -1 },          /* trailing space */
	{ " Sun, 06 Nov 1994 08:49:37 GMT", -1 },
	{ "Sun, 6 Nov 1994 08:49:37 GMT", -1 },            /* 1-digit day */
	{ "Sun, 06 Nov 94 08:49:37 GMT", -1 },
	{ "Sun, 06 Foo 1994 08:49:37 GMT", -1 },           /* month */
	{ "Sun, 06 nov 1994 08:49:37 GMT", -1 },           /* case-sensitive */
	{ "Xyz, 06 Nov 1994 08:49:37 GMT", -1 },           /* day name */
	{ "Sun, 06 Nov 1994 24:00:00 GMT", -1 },           /* hour */
	{ "Sun, 06 Nov 1994 08:60:37 GMT", -1 },
	{ "Sun, 06 Nov 1994 08:49:61 GMT", -1 },
	{ "Sun, 06 Nov 1994 -8:49:37 GMT", -1 },           /* sign */
	{ "Sun, 06 Nov 1994 08-49-37 GMT", -1 },
	{ "Sun, 00 Nov 1994 08:49:37 GMT", -1 },           /* day 0 */
	{ "Sun, 31 Nov 1994 08:49:37 GMT", -1 },           /* no such day */
	{ "Sun, 29 Feb 1900 08:49:37 GMT", -1 },
	{ "Sun, 29 Feb 2001 08:49:37 GMT", -1 },
	{ "Wed, 31 Dec 1969 23:59:59 GMT", -1 },           /* before the epoch */
	{ "Sun, 06 Nov 19a4 08:49:37 GMT", -1 },
	{ "Sunday, 06-Nov-1994 08:49:37 GMT", -1 },        /* 850 with 4 digits */
	{ "Sun, 06-Nov-94 08:49:37 GMT", -1 },             /* 850, short name */
	{ "Sonday, 06-Nov-94 08:49:37 GMT", -1 },
	{ "Sunday, 06-Nov-94 08:49:37", -1 },
	{ "Sun Nov  6 08:49:37 1994 GMT", -1 },            /* asctime + zone */
	{ "Sun Nov   6 08:49:37 1994", -1 },
	{ "Sun Nov  x 08:49:37 1994", -1 },
	{ "Sun Nov 6 08:49:37 1994", -1 },
};

START_TEST(parse)
{
	const char *in = rows[_i].in;

	ck_assert_msg(hq_http_date_parse(in, strlen(in)) == rows[_i].want,
	    "\"%s\": got %lld, want %lld", in, (long long)hq_http_date_parse(in, strlen(in)),
	    (long long)rows[_i].want);
}
END_TEST

START_TEST(bounds)
{
	/* only n bytes are read: a valid date with more after it */
	static const char s[] = "Sun, 06 Nov 1994 08:49:37 GMTXXXX";

	ck_assert_int_eq(hq_http_date_parse(s, 29), 784111777);
	ck_assert_int_eq(hq_http_date_parse(s, 28), -1);
	ck_assert_int_eq(hq_http_date_parse(NULL, 0), -1);
	ck_assert_int_eq(hq_http_date_parse("Sunday,", 7), -1);
}
END_TEST

Suite *
unit_suite(void)
{
	Suite *s = suite_create("httpdate");
	TCase *tc = tcase_create("parse");

	tcase_add_loop_test(tc, parse, 0, (int)(sizeof(rows) / sizeof(rows[0])));
	tcase_add_test(tc, bounds);
	suite_add_tcase(s, tc);
	return s;
}
