/*
 * test_tlsselect.c -- which SSL binding serves a handshake: hostnameport by
 * SNI name and port first, else ipport of the local address (the specific
 * address before 0.0.0.0 / [::]).  One row per case.
 */
#include "config.h"

#include <arpa/inet.h>
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "httpq-internal.h"
#include "check_main.h"

static struct sockaddr_storage
ip(const char *text)
{
	struct sockaddr_storage ss;

	memset(&ss, 0, sizeof(ss));
	if (strchr(text, ':') != NULL) {
		ss.ss_family = AF_INET6;
		inet_pton(AF_INET6, text, &((struct sockaddr_in6 *)&ss)->sin6_addr);
	} else {
		ss.ss_family = AF_INET;
		inet_pton(AF_INET, text, &((struct sockaddr_in *)&ss)->sin_addr);
	}
	return ss;
}

/* The bindings every row is checked against. */
static struct sockaddr_storage a_any4, a_any6, a_lo, a_lo6, a_ten;
static struct hq_tls_key keys[10];
static size_t nkeys;

static void
setup(void)
{
	a_any4 = ip("0.0.0.0");
	a_any6 = ip("::");
	a_lo = ip("127.0.0.1");
	a_lo6 = ip("::1");
	a_ten = ip("10.0.0.1");
	nkeys = 0;
	keys[nkeys++] = (struct hq_tls_key){ true, "a.example", NULL, 443 };   /* 0 */
	keys[nkeys++] = (struct hq_tls_key){ true, "b.example", NULL, 443 };   /* 1 */
	keys[nkeys++] = (struct hq_tls_key){ false, NULL, &a_any4, 443 };      /* 2 */
	keys[nkeys++] = (struct hq_tls_key){ false, NULL, &a_lo, 443 };        /* 3 */
	keys[nkeys++] = (struct hq_tls_key){ false, NULL, &a_any6, 443 };      /* 4 */
	keys[nkeys++] = (struct hq_tls_key){ true, "a.example", NULL, 8443 };  /* 5 */
	keys[nkeys++] = (struct hq_tls_key){ false, NULL, &a_lo6, 8443 };      /* 6 */
	keys[nkeys++] = (struct hq_tls_key){ false, NULL, &a_any4, 9000 };     /* 7 */
}

static const struct {
	const char *sni;   /* NULL: no SNI */
	const char *local;
	uint16_t port;
	int want;
} rows[] = {
	{ "a.example", "127.0.0.1", 443, 0 },
	{ "b.example", "10.0.0.1", 443, 1 },
	{ "A.Example", "127.0.0.1", 443, 0 },      /* names match without case */
	{ "a.example.", "127.0.0.1", 443, 0 },     /* and without the root dot */
	{ "a.example", "127.0.0.1", 8443, 5 },     /* port is part of the key */
	{ "c.example", "127.0.0.1", 443, 3 },      /* unknown name: ipport, specific */
	{ "c.example", "10.0.0.1", 443, 2 },       /* ... else 0.0.0.0 */
	{ NULL, "127.0.0.1", 443, 3 },             /* no SNI */
	{ NULL, "10.0.0.1", 443, 2 },
	{ NULL, "::1", 443, 4 },                   /* [::] for IPv6 only */
	{ NULL, "::2", 8443, -1 },                 /* only [::1]:8443 there */
	{ NULL, "::1", 8443, 6 },
	{ NULL, "::1", 9000, 7 },                  /* 0.0.0.0 alone serves IPv6 too */
	{ NULL, "10.0.0.1", 9000, 7 },
	{ "b.example", "127.0.0.1", 8443, -1 },    /* no binding for 127.0.0.1:8443 */
	{ NULL, "127.0.0.1", 9443, -1 },
	{ "b.example.com", "10.0.0.1", 443, 2 },   /* no prefix matching of names */
	{ "example", "10.0.0.1", 443, 2 },
};

START_TEST(select_row)
{
	struct sockaddr_storage local = ip(rows[_i].local);
	const char *sni = rows[_i].sni;
	ssize_t got = hq_tls_select(keys, nkeys, sni, sni ? strlen(sni) : 0,
	    (struct sockaddr *)&local, rows[_i].port);

	ck_assert_msg(got == rows[_i].want, "row %d: sni=%s local=%s port=%u: got %zd, want %d",
	    _i, sni ? sni : "(none)", rows[_i].local, rows[_i].port, got, rows[_i].want);
}
END_TEST

START_TEST(no_local_address)
{
	ck_assert_int_eq(hq_tls_select(keys, nkeys, "a.example", 9, NULL, 443), 0);
	ck_assert_int_eq(hq_tls_select(keys, nkeys, NULL, 0, NULL, 443), -1);
	ck_assert_int_eq(hq_tls_select(keys, 0, "a.example", 9, NULL, 443), -1);
}
END_TEST

Suite *
unit_suite(void)
{
	Suite *s = suite_create("tlsselect");
	TCase *tc = tcase_create("select");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_loop_test(tc, select_row, 0, (int)(sizeof(rows) / sizeof(rows[0])));
	tcase_add_test(tc, no_local_address);
	suite_add_tcase(s, tc);
	return s;
}
