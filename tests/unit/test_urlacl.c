/*
 * test_urlacl.c -- the URL reservation check (src/lib/urlacl.c), one row per
 * case: a prefix, who asks, for what, and the answer http.sys would give.
 */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "httpq-internal.h"
#include "check_main.h"

/* Users and groups are numeric so that the test needs no passwd entries. */
static const char store_yaml[] =
    "urlacls:\n"
    "  - { url: 'http://+:80/', user: '1000' }\n"                     /* 1000 everywhere on +:80 */
    "  - { url: 'http://+:80/private/', user: '1001' }\n"             /* no inheritance */
    "  - { url: 'http://+:80/team/', group: '500', delegate: yes }\n"
    "  - { url: 'http://+:80/team/lead/', user: '1002', listen: no, delegate: yes }\n"
    "  - { url: 'http://*:8080/app/', user: '1003' }\n"
    "  - { url: 'http://www.example.com:80/', user: '1004' }\n"
    "  - { url: 'http://127.0.0.1:80/ip/', group: '501' }\n"
    "  - { url: 'http://[::1]:80/ip6/', user: '1005' }\n"
    "  - { url: 'https://+:443/', user: '1006', group: '502' }\n";

static const struct row {
	const char *prefix;
	unsigned uid;
	unsigned gid;       /* the one supplementary group, 0 = none */
	bool delegate;
	bool want;
	const char *why;
} rows[] = {
	{ "http://+:80/", 1000, 0, false, true, "exact reservation" },
	{ "http://+:80/a/b/", 1000, 0, false, true, "below a reservation" },
	{ "http://+:80/A/", 1000, 0, false, true, "paths are case-insensitive" },
	{ "http://+:80/private/", 1000, 0, false, false, "nearer reservation without the user: no inheritance" },
	{ "http://+:80/private/x/", 1001, 0, false, true, "nearer reservation names the user" },
	{ "http://+:80/privatex/", 1001, 0, false, false, "whole segments only: /privatex/ is not under /private/" },
	{ "http://+:80/privatex/", 1000, 0, false, true, "/privatex/ falls back to the root reservation" },
	{ "http://+:81/", 1000, 0, false, false, "other port: deny by default" },
	{ "https://+:80/", 1000, 0, false, false, "other scheme: deny by default" },
	{ "http://*:80/", 1000, 0, false, false, "weak wildcard is another bucket than strong" },
	{ "http://localhost:80/", 1000, 0, false, false, "explicit host is another bucket than strong" },
	{ "http://+:80/", 4242, 0, false, false, "nobody named: deny" },
	{ "http://+:80/x/", 0, 0, false, true, "root always" },
	{ "http://+:9999/", 0, 0, true, true, "root always, even to delegate" },
	{ "http://+:80/team/x/", 4242, 500, false, true, "group member may listen" },
	{ "http://+:80/team/x/", 4242, 501, false, false, "other group: deny" },
	{ "http://+:80/team/x/", 4242, 500, true, true, "group member may delegate below" },
	{ "http://+:80/team/", 4242, 500, true, false, "delegate needs a reservation strictly above" },
	{ "http://+:80/team/", 1000, 0, true, false, "root reservation grants listen only" },
	{ "http://+:80/team/lead/", 1002, 0, false, false, "listen: no" },
	{ "http://+:80/team/lead/x/", 1002, 0, true, true, "delegate: yes" },
	{ "http://+:80/team/lead/x/", 4242, 500, false, false, "the group's reservation is not the nearest" },
	{ "http://*:8080/app/v1/", 1003, 0, false, true, "weak wildcard reservation" },
	{ "http://+:8080/app/v1/", 1003, 0, false, false, "strong wildcard is not covered by a weak one" },
	{ "http://www.example.com:80/shop/", 1004, 0, false, true, "explicit host" },
	{ "http://WWW.Example.com:80/", 1004, 0, false, true, "host names are case-insensitive" },
	{ "http://example.com:80/", 1004, 0, false, false, "another host" },
	{ "http://127.0.0.1:80/ip/z/", 4242, 501, false, true, "IP-bound, by group" },
	{ "http://127.0.0.2:80/ip/z/", 4242, 501, false, false, "another IP" },
	{ "http://[::1]:80/ip6/", 1005, 0, false, true, "IPv6 literal" },
	{ "http://[0:0::1]:80/ip6/a/", 1005, 0, false, true, "IPv6 literal, other spelling" },
	{ "https://+:443/s/", 1006, 0, false, true, "user or group: the user" },
	{ "https://+:443/s/", 4242, 502, false, true, "user or group: the group" },
	{ "https://+:443/s/", 4242, 503, false, false, "user or group: neither" },
};

START_TEST(test_allows)
{
	const struct row *r = &rows[_i];
	struct hq_errors e = { 0 };
	struct hq_store *s = hq_store_load_string("acl", store_yaml,
	    sizeof(store_yaml) - 1, &e);
	struct hq_prefix p;
	char err[256];
	gid_t gids[1] = { (gid_t)r->gid };

	ck_assert_msg(s != NULL, "%s", e.n ? e.msg[0] : "?");
	ck_assert_msg(hq_prefix_parse(r->prefix, &p, err, sizeof(err)) == 0,
	    "%s: %s", r->prefix, err);
	ck_assert_msg(hq_urlacl_allows(s, &p, (uid_t)r->uid, gids, r->gid ? 1 : 0,
	    r->delegate) == r->want, "%s uid %u gid %u %s: expected %s (%s)",
	    r->prefix, r->uid, r->gid, r->delegate ? "delegate" : "listen",
	    r->want ? "allow" : "deny", r->why);
	hq_prefix_free(&p);
	hq_store_free(s);
	hq_errors_free(&e);
}
END_TEST

/*
 * hq_store_queue_allows: who may open an attach queue in which role.
 * Names are Debian's base-passwd entries (daemon = uid 1 and gid 1, bin =
 * uid 2 and gid 2), so that names resolve everywhere the tests run.
 */
static const char queue_yaml[] =
    "queues:\n"
    "  - { name: users, attach: { user: daemon, controller_user: '1000' } }\n"
    "  - { name: groups, attach: { group: '500', controller_group: bin } }\n"
    "  - { name: rootonly, attach: ~ }\n"
    "  - { name: mod, module: sample }\n"
    "  - { name: ids, attach: { user: '1001', group: daemon } }\n"
    "  - { name: ghost, attach: { user: no-such-user-x, group: no-such-group-x } }\n";

enum { W = HQ_QP_ROLE_WORKER, C = HQ_QP_ROLE_CONTROLLER };

static const struct qrow {
	size_t queue;
	unsigned uid;
	unsigned gid;       /* the one group, 0 = none */
	unsigned role;
	bool want;
	const char *why;
} qrows[] = {
	{ 0, 1, 0, W, true, "user by name" },
	{ 0, 1, 0, C, false, "a worker is not a controller" },
	{ 0, 1, 0, W | C, false, "both roles need both" },
	{ 0, 1000, 0, C, true, "controller by uid" },
	{ 0, 1000, 0, W | C, true, "a controller may also work" },
	{ 0, 1000, 0, W, true, "a controller may work alone" },
	{ 0, 2, 0, W, false, "another user" },
	{ 0, 4242, 1, W, false, "user entries do not match groups" },
	{ 0, 0, 0, W | C, true, "root always" },
	{ 1, 4242, 500, W, true, "group member by gid" },
	{ 1, 4242, 501, W, false, "not a member" },
	{ 1, 4242, 2, C, true, "controller group by name" },
	{ 1, 4242, 2, W | C, true, "controller group works too" },
	{ 1, 500, 0, W, false, "a uid equal to the gid is no member" },
	{ 1, 4242, 500, C, false, "worker group is no controller" },
	{ 2, 1000, 0, W, false, "attach without entries: root only" },
	{ 2, 0, 0, C, true, "attach without entries: root" },
	{ 3, 0, 0, W, false, "a module queue opens for nobody" },
	{ 3, 1000, 0, W, false, "a module queue opens for nobody, users neither" },
	{ 4, 1001, 0, W, true, "numeric user" },
	{ 4, 4242, 1, W, true, "group by name" },
	{ 4, 1001, 0, C, false, "no controller named: root only" },
	{ 5, 4242, 0, W, false, "unknown names match nobody" },
	{ 0, 1, 0, 0, false, "no role" },
	{ 0, 0, 0, 4, false, "undefined role bit, even for root" },
	{ 0, 1000, 0, C | 8, false, "undefined role bit" },
};

START_TEST(test_queue_allows)
{
	const struct qrow *r = &qrows[_i];
	struct hq_errors e = { 0 };
	struct hq_store *s = hq_store_load_string("q", queue_yaml,
	    sizeof(queue_yaml) - 1, &e);
	gid_t gids[2] = { 4242, (gid_t)r->gid };

	ck_assert_msg(s != NULL, "%s", e.n ? e.msg[0] : "?");
	ck_assert_msg(hq_store_queue_allows(&s->queues[r->queue], (uid_t)r->uid,
	    gids, r->gid ? 2 : 1, r->role) == r->want,
	    "queue %s uid %u gid %u role %u: expected %s (%s)",
	    s->queues[r->queue].name, r->uid, r->gid, r->role,
	    r->want ? "allow" : "deny", r->why);
	hq_store_free(s);
	hq_errors_free(&e);
}
END_TEST

START_TEST(test_find)
{
	struct hq_errors e = { 0 };
	struct hq_store *s = hq_store_load_string("acl", store_yaml,
	    sizeof(store_yaml) - 1, &e);
	const struct hq_store_urlacl *a;
	struct hq_prefix p;
	char err[256];

	ck_assert_int_eq(hq_prefix_parse("http://+:80/team/lead/", &p, err,
	    sizeof(err)), 0);
	a = hq_urlacl_find(s, &p, false);
	ck_assert_str_eq(a->prefix.text, "http://+:80/team/lead/");
	a = hq_urlacl_find(s, &p, true);
	ck_assert_str_eq(a->prefix.text, "http://+:80/team/");
	ck_assert_int_eq(a->at.line, 4);
	hq_prefix_free(&p);
	ck_assert_int_eq(hq_prefix_parse("http://+:1/", &p, err, sizeof(err)), 0);
	ck_assert_ptr_null(hq_urlacl_find(s, &p, false));
	hq_prefix_free(&p);
	hq_store_free(s);
}
END_TEST

/* The message of a refusal: which reservation is missing, or which one
 * decides and what it lacks; the command to fix it. */
static const struct refusal_row {
	const char *prefix;
	unsigned uid, gid;
	const char *name;
	const char *want;
} refusal_rows[] = {
	{ "http://+:81/x/", 1000, 0, "alice",
	  "no URL reservation for uid 1000 (alice) covers http://+:81/x/; add one "
	  "with: httpqctl add urlacl url=http://+:81/x/ user=alice" },
	{ "http://localhost:80/", 4242, 0, NULL,
	  "no URL reservation for uid 4242 covers http://localhost:80/; add one "
	  "with: httpqctl add urlacl url=http://localhost:80/ user=4242" },
	{ "http://+:80/private/a/", 1000, 0, "alice",
	  "the URL reservation http://+:80/private/ (user=1001, acl:3) decides for "
	  "http://+:80/private/a/ and names neither uid 1000 (alice) nor one of its "
	  "groups; add one with: httpqctl add urlacl url=http://+:80/private/a/ "
	  "user=alice" },
	{ "https://+:443/s/", 4242, 503, "bob",
	  "the URL reservation https://+:443/ (user=1006 group=502, acl:10) decides "
	  "for https://+:443/s/ and names neither uid 4242 (bob) nor one of its "
	  "groups; add one with: httpqctl add urlacl url=https://+:443/s/ user=bob" },
	{ "http://+:80/team/x/", 4242, 501, "bob",
	  "the URL reservation http://+:80/team/ (group=500, acl:4) decides for "
	  "http://+:80/team/x/ and names neither uid 4242 (bob) nor one of its "
	  "groups; add one with: httpqctl add urlacl url=http://+:80/team/x/ user=bob" },
	{ "http://+:80/team/lead/", 1002, 0, NULL,
	  "the URL reservation http://+:80/team/lead/ (acl:5) names uid 1002 without "
	  "the listen right; give it with: httpqctl add urlacl "
	  "url=http://+:80/team/lead/ user=1002 listen=yes" },
};

START_TEST(test_refusal)
{
	const struct refusal_row *r = &refusal_rows[_i];
	struct hq_errors e = { 0 };
	struct hq_store *s = hq_store_load_string("acl", store_yaml,
	    sizeof(store_yaml) - 1, &e);
	struct hq_prefix p;
	char err[256], msg[1024];
	gid_t gids[1] = { (gid_t)r->gid };

	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(hq_prefix_parse(r->prefix, &p, err, sizeof(err)), 0);
	ck_assert(!hq_urlacl_allows(s, &p, r->uid, gids, r->gid ? 1 : 0, false));
	hq_urlacl_refusal(s, &p, r->uid, r->name, gids, r->gid ? 1 : 0, msg, sizeof(msg));
	ck_assert_str_eq(msg, r->want);
	hq_prefix_free(&p);
	hq_store_free(s);
	hq_errors_free(&e);
}
END_TEST

Suite *
unit_suite(void)
{
	Suite *su = suite_create("urlacl");
	TCase *tc = tcase_create("urlacl");

	tcase_add_loop_test(tc, test_queue_allows, 0,
	    (int)(sizeof(qrows) / sizeof(qrows[0])));
	tcase_add_loop_test(tc, test_allows, 0, (int)(sizeof(rows) / sizeof(rows[0])));
	tcase_add_test(tc, test_find);
	tcase_add_loop_test(tc, test_refusal, 0,
	    (int)(sizeof(refusal_rows) / sizeof(refusal_rows[0])));
	suite_add_tcase(su, tc);
	return su;
}
