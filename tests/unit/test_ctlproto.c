/*
 * test_ctlproto.c -- the control protocol (src/lib/ctlproto.c): one row per
 * command line, with the expected command or the expected error.
 */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "httpq-internal.h"
#include "check_main.h"

static const struct row {
	const char *line;
	int rc;
	int id;               /* when rc == 0 */
	const char *expect;   /* rc == 0: "arg|k=v|k=v" (+ " json"); else the error */
} rows[] = {
	{ "show servicestate", 0, HQ_CTL_SHOW_SERVICESTATE, "" },
	{ "show servicestate --json\n", 0, HQ_CTL_SHOW_SERVICESTATE, " json" },
	{ "--json show   urlacl\r\n", 0, HQ_CTL_SHOW_URLACL, " json" },
	{ "show urlacl url=http://+:80/", 0, HQ_CTL_SHOW_URLACL, "|url=http://+:80/" },
	{ "show queue app", 0, HQ_CTL_SHOW_QUEUE, "app" },
	{ "show route http://127.0.0.1:80/x", 0, HQ_CTL_SHOW_ROUTE, "http://127.0.0.1:80/x" },
	{ "add urlacl url=http://+:80/a/ user=www-data delegate=yes", 0,
	  HQ_CTL_ADD_URLACL, "|url=http://+:80/a/|user=www-data|delegate=yes" },
	{ "add urlacl url=\"http://+:80/a b/\" group=\"x\\\"y\"", 0, HQ_CTL_ADD_URLACL,
	  "|url=http://+:80/a b/|group=x\"y" },
	{ "add urlacl \"url=a\\\\b\" user=u", 0, HQ_CTL_ADD_URLACL, "|url=a\\b|user=u" },
	{ "delete urlacl url=http://+:80/a/", 0, HQ_CTL_DELETE_URLACL, "|url=http://+:80/a/" },
	{ "add sslcert ipport=0.0.0.0:443 certfile=/c keyfile=/k clientcert=require cafile=/ca",
	  0, HQ_CTL_ADD_SSLCERT,
	  "|ipport=0.0.0.0:443|certfile=/c|keyfile=/k|clientcert=require|cafile=/ca" },
	{ "delete sslcert hostnameport=www.example.com:443", 0, HQ_CTL_DELETE_SSLCERT,
	  "|hostnameport=www.example.com:443" },
	{ "add iplisten ipaddress=127.0.0.1:8080", 0, HQ_CTL_ADD_IPLISTEN,
	  "|ipaddress=127.0.0.1:8080" },
	{ "delete iplisten ipaddress=::1", 0, HQ_CTL_DELETE_IPLISTEN, "|ipaddress=::1" },
	{ "set timeout header_wait=30 idle_connection=off", 0, HQ_CTL_SET_TIMEOUT,
	  "|header_wait=30|idle_connection=off" },
	{ "show timeout", 0, HQ_CTL_SHOW_TIMEOUT, "" },
	{ "show store --json", 0, HQ_CTL_SHOW_STORE, " json" },
	{ "reload", 0, HQ_CTL_RELOAD, "" },
	{ "flush logbuffer", 0, HQ_CTL_FLUSH_LOGBUFFER, "" },
	{ "\t show \t iplisten \t", 0, HQ_CTL_SHOW_IPLISTEN, "" },

	{ "", 2, 0, "empty command" },
	{ "   \n", 2, 0, "empty command" },
	{ "--json", 2, 0, "empty command" },
	{ "frobnicate", 2, 0, "unknown command \"frobnicate\" (commands: show, add, "
	  "delete, set, reload, flush)" },
	{ "show", 2, 0, "show what? (servicestate, urlacl, sslcert, iplisten, timeout, "
	  "queue, route, store, stats, cachestate)" },
	{ "show cache", 2, 0, "show: unknown object \"cache\" (servicestate, "
	  "urlacl, sslcert, iplisten, timeout, queue, route, store, stats, cachestate)" },
	/* The response cache, in netsh's words (issue 13). */
	{ "show cachestate", 0, HQ_CTL_SHOW_CACHESTATE, "" },
	{ "show cachestate url=http://h:80/a/ --json", 0, HQ_CTL_SHOW_CACHESTATE,
	  "|url=http://h:80/a/ json" },
	{ "delete cache", 0, HQ_CTL_FLUSH_CACHE, "" },
	{ "delete cache url=http://h/a recursive=yes", 0, HQ_CTL_FLUSH_CACHE,
	  "|url=http://h/a|recursive=yes" },
	{ "flush cache url=http://h/a recursive=off", 0, HQ_CTL_FLUSH_CACHE,
	  "|url=http://h/a|recursive=off" },
	{ "delete cache recursive=maybe", 1, 0,
	  "recursive: expected yes or no, got \"maybe\"" },
	{ "delete cache http://h/a", 2, 0, "expected key=value, got \"http://h/a\"" },
	{ "show cachestate recursive=yes", 2, 0, "show cachestate: unknown key "
	  "\"recursive\" (known keys: url)" },
	{ "flush cache depth=1", 2, 0, "flush cache: unknown key \"depth\" "
	  "(known keys: url, recursive)" },
	{ "add timeout", 2, 0, "add: unknown object \"timeout\" (urlacl, sslcert, iplisten)" },
	{ "delete timeout", 2, 0, "delete: unknown object \"timeout\" (urlacl, sslcert, "
	  "iplisten, cache)" },
	{ "show queue", 2, 0, "show queue: missing NAME" },
	{ "show route url=x", 2, 0, "show route: missing URL" },
	{ "show servicestate extra", 2, 0, "expected key=value, got \"extra\"" },
	{ "add urlacl user=x", 2, 0, "add urlacl: missing url=" },
	{ "add urlacl url=http://+:80/ usr=x", 2, 0, "add urlacl: unknown key \"usr\" "
	  "(known keys: url, user, group, listen, delegate)" },
	{ "add urlacl url=a url=b", 2, 0, "url: given twice" },
	{ "add urlacl url= user=x", 1, 0, "url: empty value" },
	{ "add urlacl =x", 2, 0, "expected key=value, got \"=x\"" },
	{ "add urlacl url=http://+:80/ user=x delegate=maybe", 1, 0,
	  "delegate: expected yes or no, got \"maybe\"" },
	{ "add sslcert certfile=/c keyfile=/k", 2, 0, "add sslcert: expected "
	  "ipport=IP:PORT or hostnameport=NAME:PORT (one of them)" },
	{ "add sslcert ipport=a:1 hostnameport=b:1 certfile=/c keyfile=/k", 2, 0,
	  "add sslcert: expected ipport=IP:PORT or hostnameport=NAME:PORT (one of them)" },
	{ "add sslcert ipport=a:1 certfile=/c", 2, 0, "add sslcert: missing keyfile=" },
	{ "add sslcert ipport=a:1 certfile=/c keyfile=/k clientcert=always", 1, 0,
	  "clientcert: expected none, request or require, got \"always\"" },
	{ "delete sslcert", 2, 0, "delete sslcert: expected ipport=IP:PORT or "
	  "hostnameport=NAME:PORT (one of them)" },
	{ "add iplisten address=1.2.3.4", 2, 0, "add iplisten: unknown key \"address\" "
	  "(known keys: ipaddress)" },
	{ "set timeout", 2, 0, "set timeout: expected NAME=SECONDS, e.g. header_wait=30" },
	{ "set timeout header_wiat=3", 2, 0, "set timeout: unknown key \"header_wiat\" "
	  "(known keys: header_wait, idle_connection, entity_body, drain_entity_body, "
	  "request_queue, min_send_rate)" },
	{ "reload now", 2, 0, "expected key=value, got \"now\"" },
	{ "reload x=1", 2, 0, "reload: unknown key \"x\" (known keys: none)" },
	/* Keys and words come from the store's key table (issue 9). */
	{ "add sslcert ipport=a:1 certfile=/c keyfile=/k ocsp_staple=/o "
	  "min_protocol=tls1.3", 0, HQ_CTL_ADD_SSLCERT,
	  "|ipport=a:1|certfile=/c|keyfile=/k|ocsp_staple=/o|min_protocol=tls1.3" },
	{ "add sslcert ipport=a:1 certfile=/c keyfile=/k min_protocol=tls1.1", 1, 0,
	  "min_protocol: expected tls1.2 or tls1.3, got \"tls1.1\"" },
	{ "add sslcert ipport=a:1 certfile=/c keyfile=/k colour=red", 2, 0,
	  "add sslcert: unknown key \"colour\" (known keys: ipport, hostnameport, "
	  "certfile, keyfile, chainfile, clientcert, cafile, ocsp_staple, "
	  "min_protocol, http2)" },
	/* netsh's disablehttp2 (issue 12) */
	{ "add sslcert ipport=a:1 certfile=/c keyfile=/k http2=false", 0,
	  HQ_CTL_ADD_SSLCERT, "|ipport=a:1|certfile=/c|keyfile=/k|http2=false" },
	{ "delete sslcert ipport=a:1 certfile=/c", 2, 0, "delete sslcert: unknown "
	  "key \"certfile\" (known keys: ipport, hostnameport)" },
	{ "show urlacl user=x", 2, 0, "show urlacl: unknown key \"user\" "
	  "(known keys: url)" },
	/* One boolean parser: on and off, as in httpq.yaml. */
	{ "add urlacl url=http://+:80/ user=x listen=on delegate=OFF", 0,
	  HQ_CTL_ADD_URLACL, "|url=http://+:80/|user=x|listen=on|delegate=OFF" },
	{ "show \"urlacl", 2, 0, "unterminated quote" },
	{ "show\001urlacl", 2, 0, "control character 0x01 at byte 5" },
	{ "show urlacl url=\x1b[2J", 2, 0, "control character 0x1b at byte 17" },
};

static char *
describe(const struct hq_ctl_cmd *c)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	fputs(c->arg ? c->arg : "", f);
	for (size_t i = 0; i < c->nkv; i++)
		fprintf(f, "|%s=%s", c->kv[i].key, c->kv[i].value);
	if (c->json)
		fputs(" json", f);
	fclose(f);
	return buf;
}

START_TEST(test_parse)
{
	const struct row *r = &rows[_i];
	struct hq_ctl_cmd c;
	char err[256] = "";
	int rc = hq_ctl_parse(r->line, strlen(r->line), &c, err, sizeof(err));

	ck_assert_msg(rc == r->rc, "%s: rc %d, expected %d (%s)", r->line, rc,
	    r->rc, err);
	if (rc == 0) {
		char *got = describe(&c);

		ck_assert_int_eq(c.id, r->id);
		ck_assert_str_eq(got, r->expect);
		free(got);
		hq_ctl_cmd_free(&c);
	} else {
		ck_assert_str_eq(err, r->expect);
	}
}
END_TEST

START_TEST(test_reload_message)
{
	/* the "(null)" above must not happen: verbs without a noun say so */
	struct hq_ctl_cmd c;
	char err[256];

	ck_assert_int_eq(hq_ctl_parse("reload x=1", 10, &c, err, sizeof(err)), 2);
	ck_assert_ptr_null(strstr(err, "(null)"));
}
END_TEST

START_TEST(test_admin)
{
	struct hq_ctl_cmd c;
	char err[64];

	ck_assert_int_eq(hq_ctl_parse("show servicestate", 17, &c, err, sizeof(err)), 0);
	ck_assert(!c.admin);
	hq_ctl_cmd_free(&c);
	ck_assert_int_eq(hq_ctl_parse("reload", 6, &c, err, sizeof(err)), 0);
	ck_assert(c.admin);
	hq_ctl_cmd_free(&c);
	ck_assert_int_eq(hq_ctl_parse("flush logbuffer", 15, &c, err, sizeof(err)), 0);
	ck_assert(c.admin);
	hq_ctl_cmd_free(&c);
}
END_TEST

START_TEST(test_too_long)
{
	char line[HQ_CTL_MAX_LINE + 2];
	struct hq_ctl_cmd c;
	char err[128];

	memset(line, 'a', sizeof(line));
	memcpy(line, "show route ", 11);
	line[HQ_CTL_MAX_LINE - 1] = '\n';
	ck_assert_int_eq(hq_ctl_parse(line, HQ_CTL_MAX_LINE, &c, err, sizeof(err)), 0);
	hq_ctl_cmd_free(&c);
	line[HQ_CTL_MAX_LINE] = '\n';
	ck_assert_int_eq(hq_ctl_parse(line, HQ_CTL_MAX_LINE + 1, &c, err, sizeof(err)), 2);
	ck_assert_str_eq(err, "command longer than 4096 bytes");
}
END_TEST

/* Whatever httpqctl joins, the daemon splits back into the same words. */
START_TEST(test_join_roundtrip)
{
	char *words[] = { "add", "urlacl", "url=http://+:80/a b/", "group=x\"y\\z",
		"--json" };
	char *line = hq_ctl_join(words, 5);
	struct hq_ctl_cmd c;
	char err[128];

	ck_assert_str_eq(line, "add urlacl \"url=http://+:80/a b/\" "
	    "\"group=x\\\"y\\\\z\" --json\n");
	ck_assert_int_eq(hq_ctl_parse(line, strlen(line), &c, err, sizeof(err)), 0);
	ck_assert_str_eq(hq_ctl_get(&c, "url"), "http://+:80/a b/");
	ck_assert_str_eq(hq_ctl_get(&c, "group"), "x\"y\\z");
	ck_assert(c.json);
	hq_ctl_cmd_free(&c);
	free(line);
}
END_TEST

/*
 * httpqctl's argv of a show command, sent to httpqd as a line, is checked
 * as httpqd checks a line.  A word holding a newline was accepted and
 * joined raw, so that httpqd read `httpqctl show queue "$(printf
 * 'a\nreload')"` as two commands, the second one never checked by httpqctl
 * (found by fuzz_ctlproto).  A change, made by httpqctl itself, may hold
 * any value: a certificate file name may have a newline.
 */
static const struct words_row {
	const char *words[8];
	int rc;
	const char *err;
} words_rows[] = {
	{ { "show", "queue", "a\nreload", NULL }, HQ_CTL_USAGE,
	  "control character 0x0a in word 3" },
	{ { "show", "queue", "a\r", NULL }, HQ_CTL_USAGE, "control character 0x0d in word 3" },
	{ { "show", "urlacl", "url=http://+:80/\x1b[2J", NULL }, HQ_CTL_USAGE,
	  "control character 0x1b in word 3" },
	{ { "show", "timeout", "--json", "--json\n", NULL }, HQ_CTL_USAGE,
	  "control character 0x0a in word 3" },
	{ { "show", "queue", "a\tb", NULL }, 0, NULL },     /* a tab is quoted */
	{ { "show", "queue", "a\x7f", NULL }, 0, NULL },    /* as in a line */
	{ { "add", "sslcert", "ipport=0.0.0.0:1", "certfile=/a\nOK\n.pem",
	    "keyfile=/k\r", NULL }, 0, NULL },
};

START_TEST(test_words_control)
{
	const struct words_row *r = &words_rows[_i];
	char *words[8], err[128] = "", *line;
	struct hq_ctl_cmd a, b;
	size_t n = 0;
	int rc;

	while (n < 8 && r->words[n] != NULL) {
		words[n] = (char *)r->words[n];
		n++;
	}
	rc = hq_ctl_parse_words(words, n, &a, err, sizeof(err));
	ck_assert_int_eq(rc, r->rc);
	if (r->err != NULL)
		ck_assert_str_eq(err, r->err);
	if (rc == 0 && a.admin) {
		/* a change: httpqctl makes it, nothing is sent */
		ck_assert_str_eq(hq_ctl_get(&a, "certfile"), "/a\nOK\n.pem");
		ck_assert_str_eq(hq_ctl_get(&a, "keyfile"), "/k\r");
		hq_ctl_cmd_free(&a);
		return;
	}
	/* The line httpqctl would send says the same to httpqd. */
	line = hq_ctl_join(words, n);
	ck_assert_int_eq(hq_ctl_parse(line, strlen(line), &b, err, sizeof(err)), rc);
	if (rc == 0 && a.arg != NULL)
		ck_assert_str_eq(a.arg, b.arg);
	hq_ctl_cmd_free(&a);
	hq_ctl_cmd_free(&b);
	free(line);
}
END_TEST

START_TEST(test_status)
{
	const char *msg;
	char *s;

	s = hq_ctl_status(0, NULL);
	ck_assert_str_eq(s, "OK\n");
	free(s);
	s = hq_ctl_status(0, "generation 3");
	ck_assert_str_eq(s, "OK generation 3\n");
	free(s);
	s = hq_ctl_status(1, "bad\nthing");
	ck_assert_str_eq(s, "ERR 1 bad\\nthing\n");
	free(s);
	s = hq_ctl_status(0, "a\nOK\r");
	ck_assert_str_eq(s, "OK a\\nOK\\r\n");
	free(s);
	ck_assert_int_eq(hq_ctl_is_status("OK", &msg), 0);
	ck_assert_str_eq(msg, "");
	ck_assert_int_eq(hq_ctl_is_status("OK generation 2", &msg), 0);
	ck_assert_str_eq(msg, "generation 2");
	ck_assert_int_eq(hq_ctl_is_status("ERR 2 usage: x", &msg), 2);
	ck_assert_str_eq(msg, "usage: x");
	ck_assert_int_eq(hq_ctl_is_status("OKAPI 1000", &msg), -1);
	ck_assert_int_eq(hq_ctl_is_status("ERR x", &msg), -1);
	ck_assert_int_eq(hq_ctl_is_status("  OK", &msg), -1);
}
END_TEST

/* The one escaper of text output: one row per string. */
static const struct esc_row {
	const char *in, *out;
} esc_rows[] = {
	{ "", "" },
	{ "/etc/ssl/a.pem", "/etc/ssl/a.pem" },
	{ "a b\"c", "a b\"c" },
	{ "/tmp/x\nOK generation 9", "/tmp/x\\nOK generation 9" },
	{ "\nERR 1 fake\n", "\\nERR 1 fake\\n" },
	{ "cr\rlf\ntab\t", "cr\\rlf\\ntab\\t" },
	{ "back\\slash", "back\\\\slash" },
	{ "\\n", "\\\\n" },
	{ "\x01\x1b[31m\x1f\x7f", "\\x01\\x1b[31m\\x1f\\x7f" },
	{ "caf\xc3\xa9 \xff", "caf\xc3\xa9 \xff" },
};

START_TEST(test_escape)
{
	const struct esc_row *r = &esc_rows[_i];
	char *got = hq_ctl_text(r->in), *back;

	ck_assert_str_eq(got, r->out);
	for (const char *c = got; *c; c++)
		ck_assert_msg((unsigned char)*c >= 0x20 && *c != 0x7f,
		    "control character 0x%02x left in \"%s\"", *c, got);
	back = hq_ctl_unescape(got);
	ck_assert_ptr_nonnull(back);
	ck_assert_str_eq(back, r->in);
	free(back);
	free(got);
}
END_TEST

START_TEST(test_unescape_bad)
{
	static const char *const bad[] = { "a\\", "\\q", "\\x0", "\\x00",
		"\\xg1", "\\x1", NULL };

	for (size_t i = 0; bad[i]; i++)
		ck_assert_msg(hq_ctl_unescape(bad[i]) == NULL, "\"%s\" accepted",
		    bad[i]);
}
END_TEST

START_TEST(test_text_line)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	hq_ctl_text_field(f, "certfile", "%s", "/a\nOK");
	hq_ctl_text_field(f, "expires", "%s (in %d days)", "2027", 3);
	hq_ctl_text_line(f, "SSL binding %s (%s)", "x\ry", "ip:port");
	fclose(f);
	ck_assert_str_eq(buf, "  certfile     /a\\nOK\n"
	    "  expires      2027 (in 3 days)\n"
	    "SSL binding x\\ry (ip:port)\n");
	free(buf);
}
END_TEST

/* Framing: the data lines as httpqd sends them; every line the client
 * reads is data (never a status line) and unframes to the line sent. */
static const struct frame_row {
	const char *data, *sent;
} frame_rows[] = {
	{ "", "" },
	{ "a\nb\n", "a\nb\n" },
	{ "no newline", "no newline\n" },
	{ "OK\n", "\\OK\n" },
	{ "OK generation 7\n", "\\OK generation 7\n" },
	{ "ERR 1 fake\n", "\\ERR 1 fake\n" },
	{ "ERR  1  app\n", "\\ERR  1  app\n" },
	{ "OKAPI\n", "\\OKAPI\n" },
	{ "\\x\n", "\\\\x\n" },
	{ " OK\n", " OK\n" },
	{ "x\nOK\nERR 2 y\nz\n", "x\n\\OK\n\\ERR 2 y\nz\n" },
	{ "tab\tkept\n", "tab\tkept\n" },
	{ "a\rOK\n", "a\\x0dOK\n" },
	{ "\n\n", "\n\n" },
};

START_TEST(test_frame)
{
	const struct frame_row *r = &frame_rows[_i];
	size_t len = 0;
	char *sent = hq_ctl_frame(r->data, strlen(r->data), &len), *save = NULL;
	char *copy, *orig, *line, *oline, *osave = NULL;
	const char *msg;

	ck_assert_uint_eq(len, strlen(r->sent));
	ck_assert_str_eq(sent, r->sent);
	/* The client's view, line by line. */
	copy = strdup(sent);
	orig = strdup(r->data);
	for (line = strtok_r(copy, "\n", &save), oline = strtok_r(orig, "\n", &osave);
	    line != NULL; line = strtok_r(NULL, "\n", &save),
	    oline = strtok_r(NULL, "\n", &osave)) {
		ck_assert_int_eq(hq_ctl_is_status(line, &msg), -1);
		ck_assert_ptr_nonnull(oline);
		if (strchr(oline, '\r') == NULL)
			ck_assert_str_eq(hq_ctl_unframe(line), oline);
	}
	free(copy);
	free(orig);
	free(sent);
}
END_TEST

Suite *
unit_suite(void)
{
	Suite *su = suite_create("ctlproto");
	TCase *tc = tcase_create("ctlproto");

	tcase_add_loop_test(tc, test_parse, 0, (int)(sizeof(rows) / sizeof(rows[0])));
	tcase_add_test(tc, test_reload_message);
	tcase_add_test(tc, test_admin);
	tcase_add_test(tc, test_too_long);
	tcase_add_test(tc, test_join_roundtrip);
	tcase_add_loop_test(tc, test_words_control, 0,
	    (int)(sizeof(words_rows) / sizeof(words_rows[0])));
	tcase_add_test(tc, test_status);
	tcase_add_loop_test(tc, test_escape, 0, (int)(sizeof(esc_rows) / sizeof(esc_rows[0])));
	tcase_add_test(tc, test_unescape_bad);
	tcase_add_test(tc, test_text_line);
	tcase_add_loop_test(tc, test_frame, 0,
	    (int)(sizeof(frame_rows) / sizeof(frame_rows[0])));
	suite_add_tcase(su, tc);
	return su;
}
