/*
 * test_router.c -- http.sys routing rules, one table row per case.
 *
 * Each row names its routes as "OWNER=prefix" words; the owner of a route is
 * its name, so a row says which route a request reaches by name.
 */
#include "config.h"

#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "httpq-internal.h"
#include "check_main.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* Builds a router from "A=http://+:80/ B=http://+:81/x/"; owners are the
 * names, freed by free_router. */
static struct hq_router *
build(const char *routes)
{
	struct hq_router *r = hq_router_new();
	char *copy = xstrdup(routes), *save = NULL;

	for (char *w = strtok_r(copy, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
		char *eq = strchr(w, '='), err[256];
		struct hq_prefix p;
		void *conflict = NULL;

		ck_assert_ptr_nonnull(eq);
		*eq = '\0';
		ck_assert_msg(hq_prefix_parse(eq + 1, &p, err, sizeof(err)) == 0, "%s", err);
		ck_assert_msg(hq_router_add(r, &p, xstrdup(w), &conflict) == 0,
		    "%s conflicts", w);
		hq_prefix_free(&p);
	}
	free(copy);
	return r;
}

static void
free_router(struct hq_router *r)
{
	for (size_t i = 0; i < hq_router_count(r); i++)
		free(hq_router_at(r, i)->owner);
	hq_router_free(r);
}

/* "10.0.0.1", "::1", "::ffff:10.0.0.1" or NULL. */
static const struct sockaddr *
local_addr(const char *ip, struct sockaddr_storage *ss)
{
	struct sockaddr_in *in = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (ip == NULL)
		return NULL;
	if (inet_pton(AF_INET, ip, &in->sin_addr) == 1) {
		in->sin_family = AF_INET;
	} else {
		ck_assert_int_eq(inet_pton(AF_INET6, ip, &in6->sin6_addr), 1);
		in6->sin6_family = AF_INET6;
	}
	return (const struct sockaddr *)ss;
}

#define HTTP false, 80
#define L4 "10.0.0.1"
#define SNA "Q1=http://+:80/ Q2=http://+:80/dir/sna/"
#define APP "A=http://+:80/app/"
#define EX "E=http://example.com:8080/"

static const struct match_case {
	const char *routes;
	bool https;
	uint16_t port;
	const char *local;
	const char *host;
	const char *path;
	const char *want;      /* owner name, or NULL when err is expected */
	enum hq_error err;
} match_cases[] = {
	/* the http.sys example: longest path on whole segments */
	{ SNA, HTTP, L4, "h", "/dir/app.htm", "Q1", HQ_OK },
	{ SNA, HTTP, L4, "h", "/dir/sna/x.htm", "Q2", HQ_OK },
	{ SNA, HTTP, L4, "h", "/dir/sna/", "Q2", HQ_OK },
	{ SNA, HTTP, L4, "h", "/dir/sna", "Q2", HQ_OK },
	{ SNA, HTTP, L4, "h", "/dir/snack", "Q1", HQ_OK },
	{ SNA, HTTP, L4, "h", "/", "Q1", HQ_OK },
	/* the same routes added longest first */
	{ "Q2=http://+:80/dir/sna/ Q1=http://+:80/", HTTP, L4, "h", "/dir/app.htm", "Q1", HQ_OK },
	{ "Q2=http://+:80/dir/sna/ Q1=http://+:80/", HTTP, L4, "h", "/dir/sna/x", "Q2", HQ_OK },
	/* "/app" routes to "/app/"; "/apple" does not */
	{ APP, HTTP, L4, "h", "/app", "A", HQ_OK },
	{ APP, HTTP, L4, "h", "/app/", "A", HQ_OK },
	{ APP, HTTP, L4, "h", "/app/x/y", "A", HQ_OK },
	{ APP, HTTP, L4, "h", "/apple", NULL, HQ_ERR_NOT_FOUND },
	{ APP, HTTP, L4, "h", "/apple/", NULL, HQ_ERR_NOT_FOUND },
	{ APP, HTTP, L4, "h", "/ap", NULL, HQ_ERR_NOT_FOUND },
	{ APP, HTTP, L4, "h", "/", NULL, HQ_ERR_NOT_FOUND },
	{ APP, HTTP, L4, "h", "/x/app/", NULL, HQ_ERR_NOT_FOUND },
	/* paths are case-insensitive */
	{ APP, HTTP, L4, "h", "/APP", "A", HQ_OK },
	{ APP, HTTP, L4, "h", "/App/X", "A", HQ_OK },
	{ "A=http://+:80/App/Sub/", HTTP, L4, "h", "/aPP/sUB/y", "A", HQ_OK },
	{ "A=http://+:80/%C3%A9/", HTTP, L4, "h", "/\xc3\xa9/x", "A", HQ_OK },
	/* class order: a strong match wins over a longer explicit one */
	{ "S=http://+:80/ E=http://example.com:80/app/long/", HTTP, L4, "example.com",
	    "/app/long/x", "S", HQ_OK },
	/* a class without a path match does not decide */
	{ "S=http://+:80/api/ E=http://example.com:80/", HTTP, L4, "example.com", "/x",
	    "E", HQ_OK },
	{ "S=http://+:80/api/ W=http://*:80/", HTTP, L4, "h", "/other", "W", HQ_OK },
	/* explicit beats IP-bound beats weak */
	{ "I=http://10.0.0.1:80/ E=http://example.com:80/", HTTP, L4, "example.com", "/x",
	    "E", HQ_OK },
	{ "I=http://10.0.0.1:80/ E=http://example.com:80/", HTTP, L4, "other.com", "/x",
	    "I", HQ_OK },
	{ "E=http://example.com:80/ I=http://10.0.0.1:80/app/", HTTP, L4, "example.com",
	    "/app/x", "E", HQ_OK },
	{ "W=http://*:80/app/ I=http://10.0.0.1:80/", HTTP, L4, "h", "/app/x", "I", HQ_OK },
	{ "W=http://*:80/app/ I=http://10.0.0.1:80/", HTTP, "10.0.0.2", "h", "/app/x", "W",
	    HQ_OK },
	{ "W=http://*:80/ E=http://example.com:80/ I=http://10.0.0.1:80/ S=http://+:80/",
	    HTTP, L4, "example.com", "/", "S", HQ_OK },
	/* longest within a class, among the routes accepting the host */
	{ "E1=http://example.com:80/ E2=http://example.com:80/a/ O=http://other.com:80/a/b/",
	    HTTP, L4, "example.com", "/a/b/c", "E2", HQ_OK },
	{ "A=http://a.com:80/x/ B=http://b.com:80/x/", HTTP, L4, "b.com", "/x/", "B", HQ_OK },
	{ "W1=http://*:80/ W2=http://*:80/x/", HTTP, L4, "h", "/x/y", "W2", HQ_OK },
	{ "W1=http://*:80/ W2=http://*:80/x/", HTTP, L4, "h", "/y", "W1", HQ_OK },
	/* Host: port, case, trailing dot, brackets */
	{ EX, false, 8080, L4, "example.com", "/", "E", HQ_OK },
	{ EX, false, 8080, L4, "example.com:8080", "/", "E", HQ_OK },
	{ EX, false, 8080, L4, "EXAMPLE.Com", "/", "E", HQ_OK },
	{ EX, false, 8080, L4, "Example.COM:8080", "/", "E", HQ_OK },
	{ EX, false, 8080, L4, "example.com.", "/", "E", HQ_OK },
	{ EX, false, 8080, L4, "example.com.:8080", "/", "E", HQ_OK },
	{ EX, false, 8080, L4, "example.com..", "/", NULL, HQ_ERR_BAD_HOST },
	{ EX, false, 8080, L4, "example.co", "/", NULL, HQ_ERR_BAD_HOST },
	{ EX, false, 8080, L4, "www.example.com", "/", NULL, HQ_ERR_BAD_HOST },
	{ EX, false, 8080, L4, "", "/", NULL, HQ_ERR_BAD_HOST },
	{ EX, false, 8080, L4, "[::1]:8080", "/", NULL, HQ_ERR_BAD_HOST },
	{ "I=http://[::1]:80/", HTTP, "::1", "[::1]:80", "/", "I", HQ_OK },
	{ "I=http://[::1]:80/", HTTP, "::1", "[::1]", "/", "I", HQ_OK },
	{ "S=http://+:80/", HTTP, "::1", "[::1]:80", "/", "S", HQ_OK },
	/* IP-bound: local address, IPv4-mapped IPv6 included */
	{ "I=http://10.0.0.1:80/", HTTP, "10.0.0.2", "h", "/", NULL, HQ_ERR_BAD_HOST },
	{ "I=http://10.0.0.1:80/", HTTP, "::ffff:10.0.0.1", "h", "/", "I", HQ_OK },
	{ "I=http://10.0.0.1:80/", HTTP, "::ffff:10.0.0.2", "h", "/", NULL, HQ_ERR_BAD_HOST },
	{ "I=http://[::ffff:10.0.0.1]:80/", HTTP, L4, "h", "/", "I", HQ_OK },
	{ "I=http://[::1]:80/", HTTP, "::1", "h", "/", "I", HQ_OK },
	{ "I=http://[::1]:80/", HTTP, "127.0.0.1", "h", "/", NULL, HQ_ERR_BAD_HOST },
	{ "I=http://127.0.0.1:80/", HTTP, "::1", "h", "/", NULL, HQ_ERR_BAD_HOST },
	{ "I=http://10.0.0.1:80/", HTTP, NULL, "h", "/", NULL, HQ_ERR_BAD_HOST },
	{ "I=http://10.0.0.1:80/", HTTP, L4, "10.0.0.2", "/", "I", HQ_OK },
	{ "I=http://10.0.0.1:80/a/", HTTP, L4, "h", "/b", NULL, HQ_ERR_NOT_FOUND },
	/* no match: 400 Invalid Hostname vs 404 */
	{ "E=http://example.com:80/app/", HTTP, L4, "example.com", "/x", NULL,
	    HQ_ERR_NOT_FOUND },
	{ "E=http://example.com:80/app/", HTTP, L4, "other.com", "/app/", NULL,
	    HQ_ERR_BAD_HOST },
	{ "S=http://+:80/app/", HTTP, L4, "any", "/x", NULL, HQ_ERR_NOT_FOUND },
	{ "W=http://*:80/app/", HTTP, L4, "", "/x", NULL, HQ_ERR_NOT_FOUND },
	{ "W=http://*:80/", HTTP, L4, "", "/x", "W", HQ_OK },
	{ "E=http://example.com:80/ W=http://*:81/", HTTP, L4, "other.com", "/", NULL,
	    HQ_ERR_BAD_HOST },
	{ "", HTTP, L4, "h", "/", NULL, HQ_ERR_BAD_HOST },
	/* scheme and port must match the connection */
	{ "S=http://+:80/", true, 80, L4, "h", "/", NULL, HQ_ERR_BAD_HOST },
	{ "S=http://+:80/", false, 81, L4, "h", "/", NULL, HQ_ERR_BAD_HOST },
	{ "S=https://+:443/", true, 443, L4, "h", "/", "S", HQ_OK },
	{ "S=https://+:443/", false, 443, L4, "h", "/", NULL, HQ_ERR_BAD_HOST },
	{ "H=http://+:8080/ T=https://+:8443/", true, 8443, L4, "h", "/", "T", HQ_OK },
	{ "A=http://+:80/a/ B=http://+:81/a/b/", HTTP, L4, "h", "/a/b/c", "A", HQ_OK },
};

START_TEST(test_match)
{
	const struct match_case *c = &match_cases[_i];
	struct hq_router *r = build(c->routes);
	struct sockaddr_storage ss;
	const struct sockaddr *local = local_addr(c->local, &ss);
	struct hq_str host = { c->host, strlen(c->host) };
	struct hq_str path = { c->path, strlen(c->path) };
	enum hq_error err = HQ_OK;
	const struct hq_route *rt = hq_router_match(r, c->https, c->port, local, host,
	    path, &err);

	if (c->want != NULL) {
		ck_assert_msg(rt != NULL, "%s %s: no route, error %d", c->host, c->path, err);
		ck_assert_str_eq(rt->owner, c->want);
	} else {
		ck_assert_msg(rt == NULL, "%s %s: got %s", c->host, c->path,
		    rt ? (char *)rt->owner : "");
		ck_assert_int_eq(err, c->err);
	}
	free_router(r);
}
END_TEST

/* A Host value is a view into the request buffer: no NUL after it. */
START_TEST(test_match_views)
{
	struct hq_router *r = build("E=http://example.com:80/app/");
	const char buf[] = "example.com.:80/app/x?q";
	enum hq_error err;
	const struct hq_route *rt;

	rt = hq_router_match(r, false, 80, NULL, (struct hq_str){ buf, 15 },
	    (struct hq_str){ buf + 15, 4 }, &err);
	ck_assert_ptr_nonnull(rt);
	ck_assert_str_eq(rt->owner, "E");
	rt = hq_router_match(r, false, 80, NULL, (struct hq_str){ NULL, 0 },
	    (struct hq_str){ buf + 15, 4 }, &err);
	ck_assert_ptr_null(rt);
	ck_assert_int_eq(err, HQ_ERR_BAD_HOST);
	free_router(r);
}
END_TEST

static const struct dup_case {
	const char *routes;
	const char *add;
	const char *conflict; /* NULL: accepted */
} dup_cases[] = {
	{ "A=http://+:80/a/", "http://+:80/a/", "A" },
	{ "A=http://+:80/a/", "http://+:80/A/", "A" },
	{ "A=http://+:80/a%20b/", "http://+:80/a b/", "A" },
	{ "A=http://+:80/ B=http://+:80/a/", "http://+:80/a/", "B" },
	{ "A=http://*:80/a/", "http://*:80/a/", "A" },
	{ "A=http://example.com:80/a/", "http://EXAMPLE.com:80/a/", "A" },
	{ "A=http://[::1]:80/", "http://[0::1]:80/", "A" },
	{ "A=http://10.0.0.1:80/", "http://10.0.0.1:80/", "A" },
	{ "A=http://10.0.0.1:80/", "http://[::ffff:10.0.0.1]:80/", "A" },
	{ "A=https://+:443/x/", "https://+:443/x/", "A" },
	/* different classes, hosts, paths, ports or schemes never conflict */
	{ "A=http://+:80/a/", "http://*:80/a/", NULL },
	{ "A=http://+:80/a/", "http://example.com:80/a/", NULL },
	{ "A=http://+:80/a/", "http://10.0.0.1:80/a/", NULL },
	{ "A=http://example.com:80/a/", "http://example.org:80/a/", NULL },
	{ "A=http://example.com:80/a/", "http://10.0.0.1:80/a/", NULL },
	{ "A=http://10.0.0.1:80/", "http://10.0.0.2:80/", NULL },
	{ "A=http://10.0.0.1:80/", "http://[::1]:80/", NULL },
	{ "A=http://+:80/a/", "http://+:80/a/b/", NULL },
	{ "A=http://+:80/a/", "http://+:80/b/", NULL },
	{ "A=http://+:80/a/", "http://+:81/a/", NULL },
	{ "A=http://+:80/a/", "https://+:80/a/", NULL },
};

START_TEST(test_duplicate)
{
	const struct dup_case *c = &dup_cases[_i];
	struct hq_router *r = build(c->routes);
	size_t before = hq_router_count(r);
	struct hq_prefix p;
	char err[256], *owner = xstrdup("NEW");
	void *conflict = NULL;
	int rc;

	ck_assert_int_eq(hq_prefix_parse(c->add, &p, err, sizeof(err)), 0);
	rc = hq_router_add(r, &p, owner, &conflict);
	hq_prefix_free(&p);
	if (c->conflict != NULL) {
		ck_assert_int_eq(rc, -1);
		ck_assert_ptr_nonnull(conflict);
		ck_assert_str_eq(conflict, c->conflict);
		ck_assert_uint_eq(hq_router_count(r), before);
		free(owner);
	} else {
		ck_assert_int_eq(rc, 0);
		ck_assert_uint_eq(hq_router_count(r), before + 1);
	}
	free_router(r);
}
END_TEST

/* Enumeration is in insertion order, over every port and class, and the
 * router owns copies of the prefixes it was given. */
START_TEST(test_enumerate)
{
	static const char *texts[] = {
		"http://*:80/", "https://+:443/a/", "http://example.com:80/x/",
		"http://[::1]:8080/", "http://+:80/",
	};
	struct hq_router *r = hq_router_new();
	char err[256];

	for (size_t i = 0; i < NELEM(texts); i++) {
		struct hq_prefix p;

		ck_assert_int_eq(hq_prefix_parse(texts[i], &p, err, sizeof(err)), 0);
		ck_assert_int_eq(hq_router_add(r, &p, (void *)texts[i], NULL), 0);
		hq_prefix_free(&p);
	}
	ck_assert_uint_eq(hq_router_count(r), NELEM(texts));
	for (size_t i = 0; i < NELEM(texts); i++) {
		const struct hq_route *rt = hq_router_at(r, i);

		ck_assert_ptr_eq(rt->owner, texts[i]);
		ck_assert_str_eq(rt->prefix.text, texts[i]);
	}
	ck_assert_ptr_null(hq_router_at(r, NELEM(texts)));
	/* the route a match returns is the one enumerated */
	{
		enum hq_error e;
		const struct hq_route *rt = hq_router_match(r, false, 80, NULL,
		    HQ_STR("h"), HQ_STR("/"), &e);

		ck_assert_ptr_eq(rt, hq_router_at(r, 4));
	}
	hq_router_free(r);
	hq_router_free(NULL);
}
END_TEST

/* Routes handed out stay valid while more routes are added. */
START_TEST(test_stable_pointers)
{
	struct hq_router *r = build("A=http://+:80/a/");
	const struct hq_route *first = hq_router_at(r, 0);
	char text[64], err[256];

	for (int i = 0; i < 100; i++) {
		struct hq_prefix p;

		snprintf(text, sizeof(text), "http://+:80/p%d/", i);
		ck_assert_int_eq(hq_prefix_parse(text, &p, err, sizeof(err)), 0);
		ck_assert_int_eq(hq_router_add(r, &p, xstrdup(text), NULL), 0);
		hq_prefix_free(&p);
	}
	ck_assert_ptr_eq(hq_router_at(r, 0), first);
	ck_assert_str_eq(first->prefix.text, "http://+:80/a/");
	free_router(r);
}
END_TEST

/*
 * Two routers (the YAML one and the run-time one) answer as their union
 * would: every match row, its routes dealt alternately to two routers, in
 * both orders of the pair.
 */
START_TEST(test_pick_union)
{
	const struct match_case *c = &match_cases[_i];
	char *copy = xstrdup(c->routes), *save = NULL, *half[2];
	size_t n = 0;
	struct sockaddr_storage ss;
	const struct sockaddr *local = local_addr(c->local, &ss);
	struct hq_str host = { c->host, strlen(c->host) };
	struct hq_str path = { c->path, strlen(c->path) };

	half[0] = xstrdup("");
	half[1] = xstrdup("");
	for (char *w = strtok_r(copy, " ", &save); w; w = strtok_r(NULL, " ", &save), n++) {
		char *h = xasprintf("%s %s", half[n % 2], w);

		free(half[n % 2]);
		half[n % 2] = h;
	}
	for (int order = 0; order < 2; order++) {
		struct hq_router *a = build(half[order]), *b = build(half[1 - order]);
		enum hq_error ea = HQ_OK, eb = HQ_OK, err = HQ_OK;
		const struct hq_route *ra = hq_router_match(a, c->https, c->port, local,
		    host, path, &ea);
		const struct hq_route *rb = hq_router_match(b, c->https, c->port, local,
		    host, path, &eb);
		const struct hq_route *rt = hq_route_pick(ra, ea, rb, eb, &err);

		if (c->want != NULL) {
			ck_assert_msg(rt != NULL, "[%s] [%s] %s %s: no route, error %d",
			    half[order], half[1 - order], c->host, c->path, err);
			ck_assert_str_eq(rt->owner, c->want);
		} else {
			ck_assert_msg(rt == NULL, "%s %s: got %s", c->host, c->path,
			    rt ? (char *)rt->owner : "");
			ck_assert_int_eq(err, c->err);
		}
		free_router(a);
		free_router(b);
	}
	free(half[0]);
	free(half[1]);
	free(copy);
}
END_TEST

/* Run-time registrations against YAML ones, as route() in conn.c picks. */
static const struct pick_case {
	const char *a, *b;     /* "OWNER=prefix ..." of the two routers */
	const char *host, *path;
	const char *want;      /* owner, or NULL with err */
	enum hq_error err;
} pick_cases[] = {
	/* a static strong wildcard beats a run-time explicit host, even longer */
	{ "S=http://+:80/", "R=http://localhost:80/app/", "localhost", "/app/x", "S", HQ_OK },
	/* a static weak wildcard loses to it */
	{ "W=http://*:80/", "R=http://localhost:80/app/", "localhost", "/app/x", "R", HQ_OK },
	{ "W=http://*:80/", "R=http://localhost:80/app/", "other", "/app/x", "W", HQ_OK },
	{ "W=http://*:80/", "R=http://localhost:80/app/", "localhost", "/x", "W", HQ_OK },
	/* the same class: the longer path, from either router */
	{ "S=http://+:80/", "R=http://+:80/app/", "h", "/app/x", "R", HQ_OK },
	{ "S=http://+:80/app/", "R=http://+:80/", "h", "/app/x", "S", HQ_OK },
	{ "S=http://+:80/app/", "R=http://+:80/", "h", "/other", "R", HQ_OK },
	/* the same prefix in both (a reload added it to YAML): a wins */
	{ "S=http://+:80/app/", "R=http://+:80/app/", "h", "/app/", "S", HQ_OK },
	/* errors: 404 if either accepted the host, else 400 */
	{ "S=http://+:80/app/", "R=http://x.com:80/", "h", "/b", NULL, HQ_ERR_NOT_FOUND },
	{ "E=http://x.com:80/", "R=http://+:80/app/", "h", "/b", NULL, HQ_ERR_NOT_FOUND },
	{ "E=http://x.com:80/", "R=http://y.com:80/", "h", "/", NULL, HQ_ERR_BAD_HOST },
	{ "", "", "h", "/", NULL, HQ_ERR_BAD_HOST },
	{ "", "R=http://+:80/app/", "h", "/", NULL, HQ_ERR_NOT_FOUND },
	{ "E=http://x.com:80/", "", "h", "/", NULL, HQ_ERR_BAD_HOST },
};

START_TEST(test_pick)
{
	const struct pick_case *c = &pick_cases[_i];
	struct hq_router *a = build(c->a), *b = build(c->b);
	struct hq_str host = { c->host, strlen(c->host) };
	struct hq_str path = { c->path, strlen(c->path) };
	enum hq_error ea = HQ_OK, eb = HQ_OK, err = HQ_OK;
	const struct hq_route *ra = hq_router_match(a, false, 80, NULL, host, path, &ea);
	const struct hq_route *rb = hq_router_match(b, false, 80, NULL, host, path, &eb);
	const struct hq_route *rt = hq_route_pick(ra, ea, rb, eb, &err);

	if (c->want != NULL) {
		ck_assert_msg(rt != NULL, "%s %s: no route, error %d", c->host, c->path, err);
		ck_assert_str_eq(rt->owner, c->want);
	} else {
		ck_assert_msg(rt == NULL, "got %s", rt ? (char *)rt->owner : "");
		ck_assert_int_eq(err, c->err);
	}
	free_router(a);
	free_router(b);
}
END_TEST

/* find: exactly the prefix, as add's conflict check sees it */
START_TEST(test_find)
{
	const struct dup_case *c = &dup_cases[_i];
	struct hq_router *r = build(c->routes);
	struct hq_prefix p;
	char err[256];
	const struct hq_route *rt;

	ck_assert_int_eq(hq_prefix_parse(c->add, &p, err, sizeof(err)), 0);
	rt = hq_router_find(r, &p);
	if (c->conflict != NULL) {
		ck_assert_ptr_nonnull(rt);
		ck_assert_str_eq(rt->owner, c->conflict);
	} else {
		ck_assert_ptr_null(rt);
	}
	hq_prefix_free(&p);
	free_router(r);
}
END_TEST

Suite *
unit_suite(void)
{
	Suite *s = suite_create("router");
	TCase *tc = tcase_create("match");

	tcase_add_loop_test(tc, test_match, 0, NELEM(match_cases));
	tcase_add_test(tc, test_match_views);
	suite_add_tcase(s, tc);
	tc = tcase_create("add");
	tcase_add_loop_test(tc, test_duplicate, 0, NELEM(dup_cases));
	tcase_add_test(tc, test_enumerate);
	tcase_add_test(tc, test_stable_pointers);
	tcase_add_loop_test(tc, test_find, 0, NELEM(dup_cases));
	suite_add_tcase(s, tc);
	tc = tcase_create("pick");
	tcase_add_loop_test(tc, test_pick_union, 0, NELEM(match_cases));
	tcase_add_loop_test(tc, test_pick, 0, NELEM(pick_cases));
	suite_add_tcase(s, tc);
	return s;
}
