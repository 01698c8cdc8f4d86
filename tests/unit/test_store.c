/*
 * test_store.c -- the setup store loader (src/lib/store_*.c, src/lib/store_yaml.c).
 *
 * Fixtures: store/good/ holds valid stores checked value by value;
 * store/bad/NAME.yaml (or NAME/httpq.yaml with a conf.d) holds one kind of
 * error each, and NAME.expect the exact messages.  Every NAME.expect is a
 * case, so adding a fixture pair adds a test.
 */
#include "config.h"

#include <arpa/inet.h>
#include <check.h>
#include <dirent.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "httpq-internal.h"
#include "check_main.h"
#include "store_yaml.h"

#ifndef TESTS_SRCDIR
#define TESTS_SRCDIR "tests"
#endif
#define GOOD TESTS_SRCDIR "/unit/store/good"
#define BAD TESTS_SRCDIR "/unit/store/bad"

static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t len = 0;
	FILE *m;
	int c;

	ck_assert_msg(f != NULL, "cannot open %s", path);
	m = open_memstream(&buf, &len);
	while ((c = fgetc(f)) != EOF)
		fputc(c, m);
	fclose(m);
	fclose(f);
	return buf;
}

static char *
errors_text(const struct hq_errors *e)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);

	hq_errors_print(e, m);
	fclose(m);
	return buf;
}

/* Loads a good fixture relative to GOOD, so that origins are short. */
static struct hq_store *
load_good(const char *name)
{
	struct hq_errors e = { 0 };
	struct hq_store *s;
	char *text;

	ck_assert_int_eq(chdir(GOOD), 0);
	s = hq_store_load(name, &e);
	text = errors_text(&e);
	ck_assert_msg(s != NULL && e.n == 0, "%s failed:\n%s", name, text);
	free(text);
	hq_errors_free(&e);
	return s;
}

static const struct hq_kv *
option(const struct hq_store_queue *q, const char *key)
{
	for (size_t i = 0; i < q->noptions; i++)
		if (strcmp(q->options[i].key, key) == 0)
			return &q->options[i];
	return NULL;
}

/* --- good stores ------------------------------------------------------ */

/*
 * http2: the defaults, every key set, and ALPN h2 per binding: on unless
 * the binding or the global switch says false (issue 12).
 */
static const struct h2_row {
	const char *yaml;
	bool enabled, cleartext;
	uint32_t streams, hlist, window, cwindow, frame;
	bool alpn0, alpn1;          /* sslcerts[0], [1]: h2 offered */
} h2_rows[] = {
	{ "", true, false, HQ_DEFAULT_H2_MAX_STREAMS, HQ_DEFAULT_H2_MAX_HEADER_LIST,
	  HQ_DEFAULT_H2_WINDOW, HQ_DEFAULT_H2_CONN_WINDOW, HQ_DEFAULT_H2_MAX_FRAME,
	  true, false },
	{ "http2: { cleartext: true, max_concurrent_streams: 7, "
	  "max_header_list_size: 8k, initial_window_size: 1k, "
	  "connection_window_size: 64k, max_frame_size: 32k }\n",
	  true, true, 7, 8192, 1024, 65536, 32768, true, false },
	{ "http2: { enabled: false }\n", false, false, HQ_DEFAULT_H2_MAX_STREAMS,
	  HQ_DEFAULT_H2_MAX_HEADER_LIST, HQ_DEFAULT_H2_WINDOW,
	  HQ_DEFAULT_H2_CONN_WINDOW, HQ_DEFAULT_H2_MAX_FRAME, false, false },
};

START_TEST(test_http2)
{
	const struct h2_row *r = &h2_rows[_i];
	struct hq_errors e = { 0 };
	char *yaml = xasprintf("%ssslcerts:\n"
	    "  - { ipport: '0.0.0.0:443', certfile: c, keyfile: k }\n"
	    "  - { ipport: '0.0.0.0:8443', certfile: c, keyfile: k, http2: false }\n",
	    r->yaml);
	struct hq_store *s = hq_store_load_string("t", yaml, strlen(yaml), &e);

	ck_assert_msg(s != NULL, "%s: %s", yaml, e.n ? e.msg[0] : "?");
	ck_assert_int_eq(s->http2.enabled, r->enabled);
	ck_assert_int_eq(s->http2.cleartext, r->cleartext);
	ck_assert_uint_eq(s->http2.max_concurrent_streams, r->streams);
	ck_assert_uint_eq(s->http2.max_header_list_size, r->hlist);
	ck_assert_uint_eq(s->http2.initial_window_size, r->window);
	ck_assert_uint_eq(s->http2.connection_window_size, r->cwindow);
	ck_assert_uint_eq(s->http2.max_frame_size, r->frame);
	ck_assert(s->sslcerts[0].http2);
	ck_assert(!s->sslcerts[1].http2);
	ck_assert_int_eq(s->sslcerts[0].alpn_h2, r->alpn0);
	ck_assert_int_eq(s->sslcerts[1].alpn_h2, r->alpn1);
	hq_store_free(s);
	hq_errors_free(&e);
	free(yaml);
}
END_TEST

START_TEST(test_empty_is_defaults)
{
	struct hq_store *s = load_good("empty.yaml");

	ck_assert_uint_eq(s->nfiles, 1);
	ck_assert_str_eq(s->files[0], "empty.yaml");
	ck_assert_uint_eq(s->workers, 0);
	ck_assert_str_eq(s->module_path, HQ_DEFAULT_MODULE_PATH);
	ck_assert(s->server_header);
	ck_assert_uint_eq(s->drain_timeout, HQ_DEFAULT_DRAIN_TIMEOUT_S);
	ck_assert_uint_eq(s->defer_accept, HQ_DEFAULT_DEFER_ACCEPT_S);
	ck_assert_ptr_null(s->error_log);
	ck_assert_uint_eq(s->limits.max_request_bytes, HQ_DEFAULT_MAX_REQUEST_BYTES);
	ck_assert_uint_eq(s->limits.max_field_length, HQ_DEFAULT_MAX_FIELD_LENGTH);
	ck_assert_uint_eq(s->limits.max_url_length, HQ_DEFAULT_MAX_URL_LENGTH);
	ck_assert_uint_eq(s->limits.max_headers, HQ_DEFAULT_MAX_HEADERS);
	ck_assert_uint_eq(s->limits.segment_max_length, HQ_DEFAULT_SEGMENT_MAX_LENGTH);
	ck_assert_uint_eq(s->limits.segment_max_count, HQ_DEFAULT_SEGMENT_MAX_COUNT);
	ck_assert_uint_eq(s->timeouts.header_wait, HQ_DEFAULT_TIMEOUT_S);
	ck_assert_uint_eq(s->timeouts.idle_connection, HQ_DEFAULT_TIMEOUT_S);
	ck_assert_uint_eq(s->timeouts.entity_body, HQ_DEFAULT_TIMEOUT_S);
	ck_assert_uint_eq(s->timeouts.drain_entity_body, HQ_DEFAULT_TIMEOUT_S);
	ck_assert_uint_eq(s->timeouts.request_queue, HQ_DEFAULT_TIMEOUT_S);
	ck_assert_uint_eq(s->timeouts.min_send_rate, HQ_DEFAULT_MIN_SEND_RATE_BPS);
	ck_assert_uint_eq(s->nlistens + s->ngroups + s->nqueues, 0);
	hq_store_free(s);
}
END_TEST

START_TEST(test_minimal)
{
	struct hq_store *s = load_good("minimal.yaml");
	const struct hq_store_group *g;
	const struct hq_store_queue *q;

	ck_assert_uint_eq(s->ngroups, 1);
	g = &s->groups[0];
	ck_assert_str_eq(g->name, "app");
	ck_assert_str_eq(g->at.file, "minimal.yaml");
	ck_assert_int_eq(g->at.line, 3);
	ck_assert_int_eq(g->at.col, 11);
	ck_assert_uint_eq(g->nprefixes, 1);
	ck_assert_str_eq(g->prefixes[0].text, "http://+:8080/app/");
	ck_assert_int_eq(g->prefix_at[0].line, 4);
	ck_assert_int_eq(g->prefix_at[0].col, 17);
	ck_assert_str_eq(g->queue, "app");
	ck_assert_int_eq(g->queue_at.line, 5);
	ck_assert_uint_eq(g->max_body_bytes, HQ_DEFAULT_MAX_BODY_BYTES);
	/* Absent group timeouts stay 0: inherit the global ones. */
	ck_assert_uint_eq(g->timeouts.header_wait, 0);
	ck_assert_uint_eq(g->timeouts.min_send_rate, 0);
	ck_assert_uint_eq(s->nqueues, 1);
	q = &s->queues[0];
	ck_assert_str_eq(q->name, "app");
	ck_assert_str_eq(q->module, "sample");
	ck_assert_int_eq(q->module_at.line, 8);
	ck_assert_uint_eq(q->length, HQ_DEFAULT_QUEUE_LENGTH);
	ck_assert_int_eq(q->verbosity, HQ_503_LIMITED);
	ck_assert_uint_eq(q->noptions, 0);
	hq_store_free(s);
}
END_TEST

static void
check_listen(const struct hq_listen *l, const char *text, int family,
    const char *ip, unsigned port)
{
	unsigned char want[16];

	ck_assert_str_eq(l->text, text);
	ck_assert_int_eq(l->addr.ss_family, family);
	ck_assert_int_eq(inet_pton(family, ip, want), 1);
	if (family == AF_INET) {
		const struct sockaddr_in *sin = (const void *)&l->addr;

		ck_assert_uint_eq(l->addrlen, sizeof(*sin));
		ck_assert_uint_eq(ntohs(sin->sin_port), port);
		ck_assert(memcmp(&sin->sin_addr, want, 4) == 0);
	} else {
		const struct sockaddr_in6 *sin6 = (const void *)&l->addr;

		ck_assert_uint_eq(l->addrlen, sizeof(*sin6));
		ck_assert_uint_eq(ntohs(sin6->sin6_port), port);
		ck_assert(memcmp(&sin6->sin6_addr, want, 16) == 0);
	}
}

START_TEST(test_full)
{
	struct hq_store *s = load_good("full.yaml");
	const struct hq_store_group *g;
	const struct hq_store_queue *q;

	ck_assert_uint_eq(s->workers, 8);
	ck_assert_str_eq(s->module_path, "/opt/httpq/modules");
	ck_assert(!s->server_header);
	ck_assert_uint_eq(s->drain_timeout, 3600);
	ck_assert_uint_eq(s->defer_accept, HQ_TIMEOUT_OFF);
	ck_assert_str_eq(s->error_log, "/var/log/httpq/httperr.log");
	ck_assert_uint_eq(s->nlistens, 5);
	check_listen(&s->listens[0], "127.0.0.1", AF_INET, "127.0.0.1", 0);
	check_listen(&s->listens[1], "10.0.0.1:8080", AF_INET, "10.0.0.1", 8080);
	check_listen(&s->listens[2], "[::1]", AF_INET6, "::1", 0);
	check_listen(&s->listens[3], "[2001:db8::1]:443", AF_INET6, "2001:db8::1", 443);
	check_listen(&s->listens[4], "::2", AF_INET6, "::2", 0);
	ck_assert_int_eq(s->listens[3].at.line, 13);
	ck_assert_uint_eq(s->limits.max_request_bytes, 65536);
	ck_assert_uint_eq(s->limits.max_field_length, 65534);
	ck_assert_uint_eq(s->limits.max_url_length, 1048576);
	ck_assert_uint_eq(s->limits.max_headers, 1024);
	ck_assert_uint_eq(s->limits.segment_max_length, 0);
	ck_assert_uint_eq(s->limits.segment_max_count, 16383);
	ck_assert_uint_eq(s->timeouts.header_wait, 5);
	ck_assert_uint_eq(s->timeouts.idle_connection, HQ_TIMEOUT_OFF);
	ck_assert_uint_eq(s->timeouts.entity_body, 65535);
	ck_assert_uint_eq(s->timeouts.drain_entity_body, 1);
	ck_assert_uint_eq(s->timeouts.request_queue, HQ_TIMEOUT_OFF);
	ck_assert_uint_eq(s->timeouts.min_send_rate, 4294967294u);

	ck_assert_uint_eq(s->ngroups, 2);
	g = &s->groups[0];
	ck_assert_uint_eq(g->nprefixes, 3);
	ck_assert_str_eq(g->prefixes[0].text, "http://shop.example.com:80/");
	ck_assert_int_eq(g->prefixes[1].cls, HQ_HOST_WEAK);
	ck_assert_int_eq(g->prefixes[2].cls, HQ_HOST_IP);
	ck_assert_uint_eq(g->max_body_bytes, 16ULL << 30);
	ck_assert_uint_eq(g->timeouts.entity_body, 30);
	ck_assert_uint_eq(g->timeouts.min_send_rate, HQ_TIMEOUT_OFF);
	ck_assert_uint_eq(g->timeouts.header_wait, 0);
	g = &s->groups[1];
	ck_assert_str_eq(g->name, "Unbound_group.1-x");
	ck_assert_ptr_null(g->queue);
	ck_assert_uint_eq(g->max_body_bytes, 0);

	ck_assert_uint_eq(s->nqueues, 2);
	q = &s->queues[0];
	ck_assert_str_eq(q->module, "/opt/shop/shop.so");
	ck_assert_uint_eq(q->length, 65535);
	ck_assert_int_eq(q->verbosity, HQ_503_FULL);
	ck_assert_uint_eq(q->noptions, 5);
	ck_assert_str_eq(option(q, "root")->value, "/srv/shop");
	ck_assert_str_eq(option(q, "cache.size")->value, "10m");
	ck_assert_str_eq(option(q, "cache.ttl")->value, "60");
	ck_assert_int_eq(option(q, "cache.ttl")->at.line, 53);
	ck_assert_str_eq(option(q, "quoted key")->value, "a string");
	ck_assert_str_eq(option(q, "empty")->value, "");
	q = &s->queues[1];
	ck_assert_uint_eq(q->length, 1);
	ck_assert_int_eq(q->verbosity, HQ_503_BASIC);
	hq_store_free(s);
}
END_TEST

/* Attach queues (issue 10): the policy's fields, and the socket. */
START_TEST(test_attach)
{
	struct hq_store *s = load_good("attach.yaml");
	const struct hq_store_queue *q;

	ck_assert_str_eq(s->queue_socket, "/run/test/queue.sock");
	ck_assert_uint_eq(s->nqueues, 4);
	q = &s->queues[0];
	ck_assert(q->attach);
	ck_assert_ptr_null(q->module);
	ck_assert_str_eq(q->attach_user, "www-app");
	ck_assert_str_eq(q->attach_group, "1001");
	ck_assert_str_eq(q->controller_user, "deploy");
	ck_assert_str_eq(q->controller_group, "ops");
	ck_assert_str_eq(q->attach_at.file, "attach.yaml");
	ck_assert_int_eq(q->attach_at.line, 7);
	ck_assert_uint_eq(q->length, 10);
	ck_assert_int_eq(q->verbosity, HQ_503_FULL);
	/* attach: with nothing, or {}: root only */
	for (size_t i = 1; i <= 2; i++) {
		q = &s->queues[i];
		ck_assert(q->attach);
		ck_assert(q->attach_user == NULL && q->attach_group == NULL &&
		    q->controller_user == NULL && q->controller_group == NULL);
		ck_assert_uint_eq(q->length, HQ_DEFAULT_QUEUE_LENGTH);
	}
	ck_assert_int_eq(s->queues[1].attach_at.line, 14);
	q = &s->queues[3];
	ck_assert(!q->attach);
	ck_assert_str_eq(q->module, "sample");
	ck_assert_ptr_null(q->attach_at.file);
	hq_store_free(s);
	/* the default socket */
	s = load_good("minimal.yaml");
	ck_assert_str_eq(s->queue_socket, HQ_DEFAULT_QUEUE_SOCKET);
	ck_assert(!s->queues[0].attach);
	hq_store_free(s);
}
END_TEST

START_TEST(test_access_log)
{
	struct hq_store *s = load_good("accesslog.yaml");
	const struct hq_store_alog *a;

	ck_assert_uint_eq(s->ngroups, 4);
	a = &s->groups[0].access_log;
	ck_assert_str_eq(a->path, "/var/log/httpq/a.log");
	ck_assert_int_eq(a->format, HQ_LOG_W3C);
	ck_assert_uint_eq(a->nfields, 0);
	ck_assert_int_eq(a->at.line, 4);
	a = &s->groups[1].access_log;
	ck_assert_int_eq(a->format, HQ_LOG_NCSA);
	a = &s->groups[2].access_log;
	ck_assert_uint_eq(a->nfields, 6);
	ck_assert_str_eq(a->fields[4], "cs(X-Request-Id)");
	ck_assert_ptr_null(s->groups[3].access_log.path);
	hq_store_free(s);
}
END_TEST

START_TEST(test_flow_style)
{
	struct hq_store *s = load_good("flow.yaml");

	ck_assert(s->server_header);
	ck_assert_uint_eq(s->ngroups, 1);
	ck_assert_str_eq(s->groups[0].prefixes[0].text, "http://+:80/a/");
	ck_assert_str_eq(option(&s->queues[0], "a.b.c")->value, "1");
	hq_store_free(s);
}
END_TEST

START_TEST(test_dropins)
{
	struct hq_store *s = load_good("dropins/httpq.yaml");

	/* Only *.yaml, no hidden files, no folders, in name order. */
	ck_assert_uint_eq(s->nfiles, 4);
	ck_assert_str_eq(s->files[0], "dropins/httpq.yaml");
	ck_assert_str_eq(s->files[1], "dropins/conf.d/10-shop.yaml");
	ck_assert_str_eq(s->files[2], "dropins/conf.d/20-api.yaml");
	ck_assert_str_eq(s->files[3], "dropins/conf.d/30-empty.yaml");
	/* Scalars: the last file wins. */
	ck_assert_uint_eq(s->workers, 4);
	ck_assert_uint_eq(s->timeouts.header_wait, HQ_TIMEOUT_OFF);
	ck_assert_uint_eq(s->timeouts.idle_connection, HQ_DEFAULT_TIMEOUT_S);
	/* Lists: appended, each entry knowing its file. */
	ck_assert_uint_eq(s->nlistens, 2);
	ck_assert_str_eq(s->listens[1].text, "[::1]");
	ck_assert_str_eq(s->listens[1].at.file, "dropins/conf.d/10-shop.yaml");
	ck_assert_uint_eq(s->ngroups, 3);
	ck_assert_str_eq(s->groups[0].name, "main");
	ck_assert_str_eq(s->groups[1].name, "shop");
	ck_assert_str_eq(s->groups[2].name, "api");
	ck_assert_str_eq(s->groups[2].at.file, "dropins/conf.d/20-api.yaml");
	ck_assert_int_eq(s->groups[2].at.line, 5);
	ck_assert_ptr_eq(s->groups[2].at.file, s->files[2]);
	ck_assert_str_eq(s->groups[2].queue, "main");
	ck_assert_uint_eq(s->nqueues, 2);
	ck_assert_str_eq(s->queues[1].module_at.file, "dropins/conf.d/10-shop.yaml");
	hq_store_free(s);
}
END_TEST

START_TEST(test_acl_ssl_control)
{
	struct hq_store *s = load_good("acl.yaml");
	const struct hq_store_urlacl *a;
	const struct hq_store_sslcert *c;
	const struct sockaddr_in6 *sin6;

	ck_assert_str_eq(s->control.socket, "/tmp/httpq.sock");
	ck_assert_str_eq(s->control.admin_group, "wheel");
	ck_assert_str_eq(s->control.read_group, "staff");
	ck_assert_uint_eq(s->nurlacls, 3);
	a = &s->urlacls[0];
	ck_assert_str_eq(a->prefix.text, "http://+:80/app/");
	ck_assert_str_eq(a->user, "www-data");
	ck_assert_ptr_null(a->group);
	ck_assert(a->listen && !a->delegate);
	ck_assert_int_eq(a->at.line, 7);
	ck_assert_int_eq(a->at.col, 10);
	a = &s->urlacls[1];
	ck_assert_int_eq(a->prefix.cls, HQ_HOST_WEAK);
	ck_assert_str_eq(a->group, "1000");
	ck_assert(!a->listen && a->delegate);
	a = &s->urlacls[2];
	ck_assert_str_eq(a->prefix.text, "http://example.com:80/a/");
	ck_assert_str_eq(a->user, "0");
	ck_assert_str_eq(a->group, "adm");

	ck_assert_uint_eq(s->nsslcerts, 3);
	c = &s->sslcerts[0];
	ck_assert(!c->by_host);
	ck_assert_str_eq(c->text, "0.0.0.0:443");
	ck_assert_uint_eq(c->port, 443);
	ck_assert_int_eq(c->addr.ss_family, AF_INET);
	ck_assert_str_eq(c->certfile, "/etc/ssl/a.pem");
	ck_assert_str_eq(c->keyfile, "/etc/ssl/a.key");
	ck_assert_ptr_null(c->chainfile);
	ck_assert_ptr_null(c->cafile);
	ck_assert_int_eq(c->clientcert, HQ_CLIENTCERT_NONE);
	ck_assert_int_eq(c->at.line, 14);
	ck_assert_int_eq(c->keyfile_at.line, 16);
	c = &s->sslcerts[1];
	sin6 = (const void *)&c->addr;
	ck_assert_int_eq(c->addr.ss_family, AF_INET6);
	ck_assert(IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr));
	ck_assert_uint_eq(c->port, 8443);
	ck_assert_str_eq(c->chainfile, "/etc/ssl/chain.pem");
	ck_assert_int_eq(c->clientcert, HQ_CLIENTCERT_REQUIRE);
	ck_assert_str_eq(c->cafile, "/etc/ssl/ca.pem");
	c = &s->sslcerts[2];
	ck_assert(c->by_host);
	ck_assert_str_eq(c->host, "www.example.com");
	ck_assert_str_eq(c->text, "WWW.example.com:443");
	ck_assert_uint_eq(c->port, 443);
	ck_assert_int_eq(c->clientcert, HQ_CLIENTCERT_REQUEST);
	hq_store_free(s);
}
END_TEST

/* httpqctl validates a change by reading its drop-in from memory. */
START_TEST(test_override)
{
	static const char text[] = "urlacls: [{url: 'http://+:81/', user: root}]\n";
	struct hq_errors e = { 0 };
	struct hq_store *s;

	ck_assert_int_eq(chdir(GOOD), 0);
	/* a new drop-in, in name order among the others */
	s = hq_store_load_override("dropins/httpq.yaml",
	    "dropins/conf.d/25-new.yaml", text, sizeof(text) - 1, &e);
	ck_assert_ptr_nonnull(s);
	ck_assert_uint_eq(s->nfiles, 5);
	ck_assert_str_eq(s->files[3], "dropins/conf.d/25-new.yaml");
	ck_assert_uint_eq(s->nurlacls, 1);
	ck_assert_str_eq(s->urlacls[0].at.file, "dropins/conf.d/25-new.yaml");
	hq_store_free(s);
	/* an existing one replaced, and one left out */
	s = hq_store_load_override("dropins/httpq.yaml",
	    "dropins/conf.d/20-api.yaml", text, sizeof(text) - 1, &e);
	ck_assert_ptr_nonnull(s);
	ck_assert_uint_eq(s->ngroups, 2);
	ck_assert_uint_eq(s->nurlacls, 1);
	hq_store_free(s);
	s = hq_store_load_override("dropins/httpq.yaml",
	    "dropins/conf.d/20-api.yaml", NULL, 0, &e);
	ck_assert_ptr_nonnull(s);
	ck_assert_uint_eq(s->nfiles, 3);
	hq_store_free(s);
	/* a store with no conf.d yet */
	s = hq_store_load_override("empty.yaml", "conf.d/99-httpqctl.yaml",
	    text, sizeof(text) - 1, &e);
	ck_assert_ptr_nonnull(s);
	ck_assert_uint_eq(s->nurlacls, 1);
	hq_store_free(s);
	ck_assert_uint_eq(e.n, 0);
}
END_TEST

/* The shipped default config must load and serve the sample module. */
START_TEST(test_shipped_config)
{
	struct hq_errors e = { 0 };
	struct hq_store *s = hq_store_load(TESTS_SRCDIR "/../conf/httpq.yaml", &e);
	char *text = errors_text(&e);
	const struct hq_kv *kv;

	ck_assert_msg(s != NULL, "conf/httpq.yaml:\n%s", text);
	free(text);
	ck_assert_str_eq(s->module_path, HQ_DEFAULT_MODULE_PATH);
	ck_assert_uint_eq(s->nlistens, 1);
	check_listen(&s->listens[0], "127.0.0.1", AF_INET, "127.0.0.1", 0);
	ck_assert_uint_eq(s->ngroups, 1);
	ck_assert_str_eq(s->groups[0].name, "default");
	ck_assert_str_eq(s->groups[0].prefixes[0].text, "http://+:8080/");
	ck_assert_str_eq(s->groups[0].queue, "sample");
	ck_assert_uint_eq(s->nqueues, 1);
	ck_assert_str_eq(s->queues[0].module, "sample");
	kv = option(&s->queues[0], "unsupported_status");
	ck_assert_ptr_nonnull(kv);
	ck_assert_str_eq(kv->value, "501");
	hq_store_free(s);
}
END_TEST

/* --- bad stores: exact messages --------------------------------------- */

static char **bad_cases;
static size_t nbad_cases;

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
find_bad_cases(void)
{
	DIR *d = opendir(BAD);
	struct dirent *de;

	if (d == NULL) {
		perror(BAD);
		exit(1);
	}
	while ((de = readdir(d)) != NULL) {
		size_t n = strlen(de->d_name);

		if (n <= 7 || strcmp(de->d_name + n - 7, ".expect") != 0)
			continue;
		bad_cases = realloc(bad_cases, (nbad_cases + 1) * sizeof(*bad_cases));
		bad_cases[nbad_cases++] = strndup(de->d_name, n - 7);
	}
	closedir(d);
	qsort(bad_cases, nbad_cases, sizeof(*bad_cases), cmp_str);
}

START_TEST(test_bad)
{
	const char *name = bad_cases[_i];
	struct hq_errors e = { 0 };
	struct hq_store *s;
	struct stat st;
	char *path, *expect_path, *expect, *got;

	ck_assert_int_eq(chdir(BAD), 0);
	/* A folder holds a main file with its conf.d. */
	if (stat(name, &st) == 0 && S_ISDIR(st.st_mode))
		path = xasprintf("%s/httpq.yaml", name);
	else
		path = xasprintf("%s.yaml", name);
	expect_path = xasprintf("%s.expect", name);
	expect = slurp(expect_path);
	free(expect_path);
	s = hq_store_load(path, &e);
	got = errors_text(&e);
	ck_assert_msg(s == NULL, "%s: loaded without errors", path);
	ck_assert_msg(strcmp(got, expect) == 0,
	    "%s: messages differ\n--- expected\n%s--- got\n%s", path, expect, got);
	free(got);
	free(expect);
	free(path);
	hq_errors_free(&e);
}
END_TEST

/* --- scalars, one row per case ---------------------------------------- */

static const struct {
	const char *yaml;
	const char *error; /* NULL: loads */
} scalar_rows[] = {
	{ "limits: {max_request_bytes: 16k}", NULL },
	{ "limits: {max_request_bytes: 16K}", NULL },
	{ "limits: {max_request_bytes: 16m}", NULL },
	{ "limits: {max_request_bytes: 256}", NULL },
	{ "limits: {max_request_bytes: 255}", "t:1:29: limits.max_request_bytes: "
	  "expected a size 256-16m (bytes, or with suffix k, m or g), got \"255\"" },
	{ "limits: {max_request_bytes: 16kb}", "t:1:29: limits.max_request_bytes: "
	  "expected a size 256-16m (bytes, or with suffix k, m or g), got \"16kb\"" },
	{ "limits: {max_request_bytes: k}", "t:1:29: limits.max_request_bytes: "
	  "expected a size 256-16m (bytes, or with suffix k, m or g), got \"k\"" },
	{ "limits: {max_request_bytes: 1.5k}", "t:1:29: limits.max_request_bytes: "
	  "expected a size 256-16m (bytes, or with suffix k, m or g), got \"1.5k\"" },
	{ "server: {workers: 0x10}", "t:1:19: server.workers: "
	  "expected an integer 0-256, got \"0x10\"" },
	{ "server: {workers: +5}", "t:1:19: server.workers: "
	  "expected an integer 0-256, got \"+5\"" },
	{ "server: {workers: 010}", NULL },
	{ "server: {workers: 18446744073709551616}", "t:1:19: server.workers: "
	  "expected an integer 0-256, got \"18446744073709551616\"" },
	{ "server: {workers: ~}", "t:1:19: server.workers: "
	  "expected an integer 0-256, got nothing" },
	{ "server: {server_header: Off}", NULL },
	{ "server: {server_header: YES}", NULL },
	{ "server: {server_header: 1}", "t:1:25: server.server_header: "
	  "expected true or false, got \"1\"" },
	{ "server: {error_log: ~}", NULL },
	{ "server: {module_path: \"\"}", "t:1:23: server.module_path: "
	  "expected a non-empty string, got \"\"" },
	{ "server: {defer_accept: off}", NULL },
	{ "server: {defer_accept: 3600}", NULL },
	{ "server: {defer_accept: 0}", "t:1:24: server.defer_accept: "
	  "expected an integer 1-3600 or off, got \"0\"" },
	{ "server: {defer_accept: 3601}", "t:1:24: server.defer_accept: "
	  "expected an integer 1-3600 or off, got \"3601\"" },
	{ "server: {defer_accept: yes}", "t:1:24: server.defer_accept: "
	  "expected an integer 1-3600 or off, got \"yes\"" },
	{ "server: {defer_accept: 1s}", "t:1:24: server.defer_accept: "
	  "expected an integer 1-3600 or off, got \"1s\"" },
	{ "timeouts: {header_wait: off}", NULL },
	{ "timeouts: {header_wait: 0}", "t:1:25: timeouts.header_wait: "
	  "expected an integer 1-65535 or off, got \"0\"" },
	{ "url_groups: [{name: g, prefixes: ['http://+:1/'], max_body_bytes: 15g}]",
	  NULL },
	{ "url_groups: [{name: g, prefixes: ['http://+:1/'], "
	  "max_body_bytes: 18446744073709551615}]", NULL },
	{ "url_groups: [{name: g, prefixes: ['http://+:1/'], "
	  "max_body_bytes: 18014398509481984k}]", "t:1:67: "
	  "url_groups[0].max_body_bytes: expected a size in bytes (or with "
	  "suffix k, m or g), got \"18014398509481984k\"" },
	{ "queues: [{name: q, module: m, verbosity: Full}]", "t:1:42: "
	  "queues[0].verbosity: expected basic, limited or full, got \"Full\"" },
	{ "queues: ~\nurl_groups:\niplisten: []\n", NULL },
	{ "", NULL },
	{ "---\n...\n", NULL },
	{ "42", "t:1:1: expected a mapping at the top level, got \"42\"" },
	{ "\"\\x01\\x02\": 1", "t:1:1: ??: unknown key \"??\" (known keys: "
	  "server, iplisten, limits, timeouts, url_groups, queues, control, "
	  "queue_socket, urlacls, sslcerts, cache, http2, url_group_states)" },
	{ "http2: { max_concurrent_streams: 0 }", "t:1:34: "
	  "http2.max_concurrent_streams: expected an integer 1-2147483647, got \"0\"" },
	{ "http2: { initial_window_size: 16m }", "t:1:31: http2.initial_window_size: "
	  "expected a size 1k-16777215 (bytes, or with suffix k, m or g), got \"16m\"" },
	{ "http2: { max_frame_size: 1k }", "t:1:26: http2.max_frame_size: "
	  "expected a size 16k-16777215 (bytes, or with suffix k, m or g), got \"1k\"" },
	{ "http2: { cleartext: maybe }", "t:1:21: http2.cleartext: expected true or false, got \"maybe\"" },
	{ "http2: { push: true }", "t:1:10: http2.push: unknown key \"push\" (known keys: enabled, cleartext, "
	  "max_concurrent_streams, max_header_list_size, initial_window_size, "
	  "connection_window_size, max_frame_size)" },
	{ "http2: { enabled: no, cleartext: yes, max_concurrent_streams: 2147483647, "
	  "max_header_list_size: 16m, initial_window_size: 16777215, "
	  "connection_window_size: 1g, max_frame_size: 16777215 }", NULL },
	{ "\xff: 1", "t: YAML syntax error: invalid leading UTF-8 octet at byte 0" },
};

START_TEST(test_scalars)
{
	struct hq_errors e = { 0 };
	const char *yaml = scalar_rows[_i].yaml;
	struct hq_store *s = hq_store_load_string("t", yaml, strlen(yaml), &e);

	if (scalar_rows[_i].error == NULL) {
		ck_assert_msg(s != NULL, "%s: %s", yaml, e.n ? e.msg[0] : "?");
	} else {
		ck_assert_ptr_null(s);
		ck_assert_uint_ge(e.n, 1);
		ck_assert_str_eq(e.msg[0], scalar_rows[_i].error);
	}
	hq_store_free(s);
	hq_errors_free(&e);
}
END_TEST

/* --- messages and the key table --------------------------------------- */

START_TEST(test_errors_format)
{
	struct hq_errors e = { 0 };
	struct hq_origin full = { "f.yaml", 3, 7 }, file = { "f.yaml", 0, 0 };

	hq_errors_add(&e, &full, "a.b[2]", "bad %s", "thing");
	hq_errors_add(&e, &full, NULL, "no path");
	hq_errors_add(&e, &file, "", "no line");
	hq_errors_add(&e, NULL, NULL, "nothing");
	ck_assert_uint_eq(e.n, 4);
	ck_assert_str_eq(e.msg[0], "f.yaml:3:7: a.b[2]: bad thing");
	ck_assert_str_eq(e.msg[1], "f.yaml:3:7: no path");
	ck_assert_str_eq(e.msg[2], "f.yaml: no line");
	ck_assert_str_eq(e.msg[3], "nothing");
	hq_errors_free(&e);
	ck_assert_uint_eq(e.n, 0);
}
END_TEST

/* Errors from several places are all collected, and a store with any
 * error is refused as a whole. */
START_TEST(test_collects_all)
{
	static const char yaml[] =
	    "server: {workers: 999}\n"
	    "queues: [{name: app}]\n"
	    "url_groups: [{name: g, prefixes: ['http://+/'], queue: ap}]\n";
	struct hq_errors e = { 0 };
	struct hq_store *s = hq_store_load_string("mem", yaml, sizeof(yaml) - 1, &e);

	ck_assert_ptr_null(s);
	ck_assert_uint_eq(e.n, 4);
	ck_assert_str_eq(e.msg[0], "mem:1:19: server.workers: expected an "
	    "integer 0-256, got \"999\"");
	ck_assert_str_eq(e.msg[1], "mem:2:10: queues[0]: missing required key "
	    "\"module\" or \"attach\"");
	ck_assert_str_eq(e.msg[2], "mem:3:35: url_groups[0].prefixes[0]: port "
	    "missing in \"http://+/\"");
	ck_assert_str_eq(e.msg[3], "mem:3:56: url_groups[0].queue: no queue named "
	    "\"ap\" (did you mean \"app\"?)");
	hq_errors_free(&e);
}
END_TEST

/* --- length caps on names and prefixes --------------------------------- */

/* An SSL binding's hostnameport and a urlacl's url: n characters of 'a'
 * (plus ":443", or in "http://+:80/.../"); 100,000 used to be accepted. */
static const struct {
	const char *fmt; /* %s: the a's */
	size_t n;
	const char *error; /* NULL: loads; else in the first message */
} len_rows[] = {
	{ "sslcerts: [{hostnameport: '%s:443', certfile: c, keyfile: k}]", 253,
	  NULL },
	{ "sslcerts: [{hostnameport: '%s:443', certfile: c, keyfile: k}]", 254,
	  "sslcerts[0].hostnameport: expected NAME:PORT with a name of at most "
	  "253 characters, got 254 characters in \"aaaa" },
	{ "sslcerts: [{hostnameport: '%s:443', certfile: c, keyfile: k}]", 100000,
	  "got 100000 characters" },
	{ "urlacls: [{url: 'http://+:80/%s/', user: root}]", 2048 - 13, NULL },
	{ "urlacls: [{url: 'http://+:80/%s/', user: root}]", 2048 - 12,
	  "urlacls[0].url: prefix of 2049 characters, longer than 2048, in "
	  "\"http://+:80/aaaa" },
	{ "urlacls: [{url: 'http://+:80/%s/', user: root}]", 100000,
	  "urlacls[0].url: prefix of 100013 characters, longer than 2048" },
};

START_TEST(test_length_caps)
{
	struct hq_errors e = { 0 };
	char *as = xmalloc(len_rows[_i].n + 1), *yaml;
	struct hq_store *s;

	memset(as, 'a', len_rows[_i].n);
	as[len_rows[_i].n] = '\0';
	yaml = xasprintf(len_rows[_i].fmt, as);
	s = hq_store_load_string("t", yaml, strlen(yaml), &e);
	if (len_rows[_i].error == NULL) {
		ck_assert_msg(s != NULL, "%s", e.n ? e.msg[0] : "?");
	} else {
		ck_assert_ptr_null(s);
		ck_assert_uint_eq(e.n, 1);
		ck_assert_msg(strstr(e.msg[0], len_rows[_i].error) != NULL,
		    "%.300s", e.msg[0]);
	}
	hq_store_free(s);
	hq_errors_free(&e);
	free(yaml);
	free(as);
}
END_TEST

/* --- what a store file may be, and how big ------------------------------ */

static char tmpdir[64];

static void
tmp_setup(void)
{
	strcpy(tmpdir, "/tmp/httpq-test-store.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void
tmp_teardown(void)
{
	char *cmd = xasprintf("rm -rf '%s'", tmpdir);

	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
}

static char *
tmp_path(const char *name)
{
	return xasprintf("%s/%s", tmpdir, name);
}

static void
tmp_write(const char *name, const char *text, size_t len)
{
	char *path = tmp_path(name);
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(text, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
	free(path);
}

/*
 * Each row makes httpq.yaml and conf.d/x.yaml in a fresh folder: a regular
 * file, a FIFO, a folder or a symbolic link.  A FIFO used to block the
 * loader in open() for ever (and the daemon's main thread with it).
 */
enum kind { REGULAR, FIFO, FOLDER, LINK_REGULAR, LINK_FIFO, DEVNULL };
static const struct {
	enum kind main, dropin;
	const char *error; /* NULL: loads; else the first message */
} kind_rows[] = {
	{ REGULAR, REGULAR, NULL },
	{ REGULAR, LINK_REGULAR, NULL },
	{ REGULAR, FIFO, "conf.d/x.yaml: not a regular file (a FIFO): a store "
	  "file must be a regular file or a symbolic link to one" },
	{ REGULAR, LINK_FIFO, "conf.d/x.yaml: not a regular file (a FIFO): a "
	  "store file must be a regular file or a symbolic link to one" },
	{ REGULAR, DEVNULL, "conf.d/x.yaml: not a regular file (a device): a "
	  "store file must be a regular file or a symbolic link to one" },
	{ FIFO, REGULAR, "httpq.yaml: not a regular file (a FIFO): a store file "
	  "must be a regular file or a symbolic link to one" },
	{ FOLDER, REGULAR, "httpq.yaml: not a regular file (a folder): a store "
	  "file must be a regular file or a symbolic link to one" },
};

static void
make_kind(const char *name, enum kind k)
{
	char *path = tmp_path(name), *target;

	switch (k) {
	case REGULAR:
		tmp_write(name, "iplisten: [127.0.0.1]\n", 22);
		if (strcmp(name, "httpq.yaml") != 0) /* another address */
			tmp_write(name, "iplisten: [127.0.0.2]\n", 22);
		break;
	case FIFO:
		ck_assert_int_eq(mkfifo(path, 0600), 0);
		break;
	case FOLDER:
		ck_assert_int_eq(mkdir(path, 0700), 0);
		break;
	case LINK_REGULAR:
	case LINK_FIFO:
		target = xasprintf("%s.target", path);
		if (k == LINK_FIFO)
			ck_assert_int_eq(mkfifo(target, 0600), 0);
		else
			tmp_write("conf.d/x.yaml.target",
			    "iplisten: ['::1']\n", 18);
		ck_assert_int_eq(symlink(target, path), 0);
		free(target);
		break;
	case DEVNULL:
		ck_assert_int_eq(symlink("/dev/null", path), 0);
		break;
	}
	free(path);
}

START_TEST(test_not_regular)
{
	struct hq_errors e = { 0 };
	char *main_path = tmp_path("httpq.yaml"), *dir = tmp_path("conf.d");
	struct hq_store *s;

	ck_assert_int_eq(mkdir(dir, 0700), 0);
	make_kind("httpq.yaml", kind_rows[_i].main);
	make_kind("conf.d/x.yaml", kind_rows[_i].dropin);
	s = hq_store_load(main_path, &e); /* hung here on a FIFO */
	if (kind_rows[_i].error == NULL) {
		ck_assert_msg(s != NULL, "%s", e.n ? e.msg[0] : "?");
		ck_assert_uint_eq(s->nlistens, 2); /* both files were read */
	} else {
		char *want = xasprintf("%s/%s", tmpdir, kind_rows[_i].error);

		ck_assert_ptr_null(s);
		ck_assert_uint_ge(e.n, 1);
		ck_assert_str_eq(e.msg[0], want);
		free(want);
	}
	hq_store_free(s);
	hq_errors_free(&e);
	free(main_path);
	free(dir);
}
END_TEST

/*
 * A store of a hundred thousand one-character scalars, each an error: the
 * loader used to keep (and print) every message, 8 million of them for
 * 16 MB.  Now the first HQ_ERRORS_MAX, then one line with the count.
 */
START_TEST(test_error_cap)
{
	const size_t nitems = 100000;
	struct hq_errors e = { 0 };
	char *path = tmp_path("httpq.yaml"), *text, *want;
	size_t len = 0;
	FILE *m = open_memstream(&text, &len);
	struct hq_store *s;

	fputs("iplisten:\n", m);
	for (size_t i = 0; i < nitems; i++)
		fputs("- a\n", m);
	fclose(m);
	tmp_write("httpq.yaml", text, len);
	s = hq_store_load(path, &e);
	ck_assert_ptr_null(s);
	ck_assert_uint_eq(e.total, nitems);
	ck_assert_uint_eq(e.n, HQ_ERRORS_MAX + 1);
	want = xasprintf("%s:101:3: iplisten[99]: expected an IP address with "
	    "an optional port 1-65535 (\"127.0.0.1\", \"[::1]:8080\"), got "
	    "\"a\"", path);
	ck_assert_str_eq(e.msg[HQ_ERRORS_MAX - 1], want);
	ck_assert_str_eq(e.msg[HQ_ERRORS_MAX], "and 99900 more errors");
	free(want);
	hq_errors_free(&e);
	ck_assert_uint_eq(e.total, 0);

	/* One past the cap: the summary is singular. */
	for (size_t i = 0; i <= HQ_ERRORS_MAX; i++)
		hq_errors_add(&e, NULL, NULL, "e%zu", i);
	ck_assert_uint_eq(e.n, HQ_ERRORS_MAX + 1);
	ck_assert_str_eq(e.msg[HQ_ERRORS_MAX], "and 1 more error");
	hq_errors_free(&e);
	hq_store_free(s);
	free(text);
	free(path);
}
END_TEST

/*
 * The loader's memory follows the file: a file over HQ_STORE_MAX_FILE is
 * refused before it is read, and so is a file of more than
 * HQ_YAML_MAX_NODES nodes (each costs about a hundred bytes, against two
 * bytes of text for "a,").
 */
START_TEST(test_size_caps)
{
	struct hq_errors e = { 0 };
	char *path = tmp_path("httpq.yaml"), *text, *want;
	size_t len = 4u * 1024 * 1024 + 1;
	struct hq_store *s;

	text = xmalloc(len);
	memset(text, '#', len);
	text[len - 1] = '\n';
	tmp_write("httpq.yaml", text, len);
	s = hq_store_load(path, &e);
	ck_assert_ptr_null(s);
	ck_assert_uint_eq(e.n, 1);
	want = xasprintf("%s: the file is 4194305 bytes, more than the limit "
	    "of 4 MiB (4194304 bytes)", path);
	ck_assert_str_eq(e.msg[0], want);
	free(want);
	hq_errors_free(&e);
	free(text);

	/* "iplisten: [a,a,...]": the map, its key, the list and 199998
	 * items make 200001 nodes; the last is at column 12 + 2 * 199997. */
	len = 0;
	FILE *m = open_memstream(&text, &len);

	fputs("iplisten: [a", m);
	for (size_t i = 1; i < 200000; i++)
		fputs(",a", m);
	fputs("]\n", m);
	fclose(m);
	tmp_write("httpq.yaml", text, len);
	s = hq_store_load(path, &e);
	ck_assert_ptr_null(s);
	ck_assert_uint_eq(e.n, 1);
	want = xasprintf("%s:1:400006: more than 200000 YAML nodes (keys, "
	    "values and list items) in one file", path);
	ck_assert_str_eq(e.msg[0], want);
	free(want);
	hq_errors_free(&e);
	free(text);
	free(path);
}
END_TEST

START_TEST(test_list_keys)
{
	char *buf = NULL, *man, *line, *save = NULL;
	size_t len = 0, nkeys = 0;
	FILE *m = open_memstream(&buf, &len);

	hq_store_list_keys(m);
	fclose(m);
	ck_assert_ptr_nonnull(strstr(buf, "timeouts.header_wait\tinteger 1-65535|off\t120\t"));
	ck_assert_ptr_nonnull(strstr(buf, "url_groups[].timeouts.header_wait\t"
	    "integer 1-65535|off\tinherit\t"));
	ck_assert_ptr_nonnull(strstr(buf, "\nurl_groups[].queue\tstring\t-\t"));
	ck_assert_ptr_nonnull(strstr(buf, "\nserver.defer_accept\tinteger 1-3600|off\t1\t"));
	ck_assert_ptr_nonnull(strstr(buf, "\nqueues[].verbosity\tbasic|limited|full\tlimited\t"));
	ck_assert_ptr_nonnull(strstr(buf, "\nlimits.max_request_bytes\tsize 256-16m\t16k\t"));
	/* Four fields a line, and the man page documents every key. */
	man = slurp(TESTS_SRCDIR "/../man/httpq.yaml.5");
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *tab = strchr(line, '\t'), *want;
		int tabs = 0;

		for (char *p = line; *p; p++)
			tabs += *p == '\t';
		ck_assert_msg(tabs == 3, "bad line: %s", line);
		want = xasprintf("\n.B %.*s\n", (int)(tab - line), line);
		ck_assert_msg(strstr(man, want) != NULL,
		    "man/httpq.yaml.5 does not document %.*s", (int)(tab - line), line);
		free(want);
		nkeys++;
	}
	ck_assert_uint_eq(nkeys, 86);
	free(man);
	free(buf);
}
END_TEST

/*
 * One boolean parser: the store and httpqctl (hq_parse_bool) take the
 * same spellings.  httpqctl's own parser refused on and off.
 */
static const struct bool_row {
	const char *text;
	int rc;
	bool value;
} bool_rows[] = {
	{ "true", 0, true }, { "yes", 0, true }, { "on", 0, true },
	{ "ON", 0, true }, { "Yes", 0, true },
	{ "false", 0, false }, { "no", 0, false }, { "off", 0, false },
	{ "OFF", 0, false }, { "No", 0, false },
	{ "1", -1, false }, { "maybe", -1, false }, { "", -1, false },
	{ "onn", -1, false },
};

START_TEST(test_one_bool)
{
	const struct bool_row *r = &bool_rows[_i];
	struct hq_errors e = { 0 };
	struct hq_store *s;
	bool v = !r->value;
	char *yaml = xasprintf("server: { server_header: \"%s\" }\n", r->text);

	ck_assert_int_eq(hq_parse_bool(r->text, &v), r->rc);
	if (r->rc == 0)
		ck_assert_int_eq(v, r->value);
	s = hq_store_load_string("t", yaml, strlen(yaml), &e);
	ck_assert_msg((s != NULL) == (r->rc == 0), "the loader and hq_parse_bool "
	    "disagree on \"%s\"", r->text);
	if (s != NULL)
		ck_assert_int_eq(s->server_header, r->value);
	hq_store_free(s);
	hq_errors_free(&e);
	free(yaml);
}
END_TEST

/* The lookups httpqctl and the control protocol use read the same table as
 * --list-keys. */
START_TEST(test_key_lookups)
{
	char *buf = NULL, *want;
	size_t len = 0, n = 0;
	FILE *m = open_memstream(&buf, &len);
	struct hq_keyinfo ki;
	struct hq_timeouts t = { .header_wait = 7, .min_send_rate = 9 };
	const char *name, *unit, *prev = NULL, *at;
	char expect[96];
	uint32_t v;

	hq_store_list_keys(m);
	fclose(m);
	for (size_t i = 0; hq_store_key_at("sslcerts", i, &ki); i++) {
		want = xasprintf("\nsslcerts[].%s\t", ki.name);
		ck_assert_msg(strstr(buf, want) != NULL, "%s", want);
		free(want);
		n++;
	}
	ck_assert_uint_eq(n, 10);
	ck_assert(hq_store_key_find("sslcerts", "ocsp_staple", &ki) && ki.file);
	ck_assert(hq_store_key_find("sslcerts", "min_protocol", &ki) && !ki.file &&
	    ki.words != NULL && strcmp(ki.words[1], "tls1.3") == 0);
	ck_assert(hq_store_key_find("sslcerts", "ipport", &ki) && ki.selects);
	ck_assert(hq_store_key_find("urlacls", "url", &ki) && ki.selects &&
	    ki.required);
	ck_assert(hq_store_key_find("urlacls", "delegate", &ki) && ki.boolean);
	ck_assert(hq_store_key_find("url_groups.access_log", "format", &ki));
	ck_assert(hq_store_key_find("", "server", &ki) && !ki.scalar);
	ck_assert(!hq_store_key_find("sslcerts", "colour", &ki));
	ck_assert(!hq_store_key_at("nosuch", 0, &ki));
	ck_assert(!hq_store_key_at("timeouts.header_wait", 0, &ki));
	ck_assert_int_eq(hq_store_key_check("sslcerts", "clientcert", "often",
	    false, expect, sizeof(expect)), -1);
	ck_assert_str_eq(expect, "none, request or require");
	ck_assert_int_eq(hq_store_key_check("urlacls", "listen", "off", true,
	    expect, sizeof(expect)), 0);
	ck_assert_int_eq(hq_store_key_check("urlacls", "listen", "2", true,
	    expect, sizeof(expect)), -1);
	ck_assert_str_eq(expect, "yes or no");
	ck_assert_int_eq(hq_store_key_check("queues", "verbosity", "loud", false,
	    expect, sizeof(expect)), -1);
	ck_assert_str_eq(expect, "basic, limited or full");
	ck_assert_str_eq(hq_verbosity_name(HQ_503_FULL), "full");
	/* show timeout: every timeout of the table, in its order, with its value. */
	n = 0;
	prev = buf;
	for (size_t i = 0; (name = hq_timeout_at(&t, i, &v, &unit)) != NULL; i++) {
		want = xasprintf("\ntimeouts.%s\t", name);
		at = strstr(buf, want);
		ck_assert_msg(at != NULL && at > prev, "%s", want);
		free(want);
		if (strcmp(name, "header_wait") == 0)
			ck_assert(v == 7 && strcmp(unit, "s") == 0);
		if (strcmp(name, "min_send_rate") == 0)
			ck_assert(v == 9 && strcmp(unit, "bytes/s") == 0);
		prev = at;
		n++;
	}
	ck_assert_uint_eq(n, 6);
	free(buf);
}
END_TEST

/*
 * Duplicate checks used to compare every pair: 60,000 addresses took
 * seconds (a store at the node cap, minutes).  They sort now.  The last
 * entry repeats the first and must still be found.
 */
START_TEST(test_many_entries)
{
	const size_t n = 60000;
	struct hq_errors e = { 0 };
	char *text, *want;
	size_t len = 0;
	FILE *m = open_memstream(&text, &len);
	struct hq_store *s;

	fputs("iplisten:\n", m);
	for (size_t i = 0; i < n; i++)
		fprintf(m, "- 127.%zu.%zu.%zu\n", i >> 16, (i >> 8) & 255, i & 255);
	fputs("- 127.0.0.0\n", m);
	fclose(m);
	s = hq_store_load_string("t", text, len, &e);
	ck_assert_ptr_null(s);
	ck_assert_uint_eq(e.total, 1);
	want = xasprintf("t:%zu:3: iplisten[%zu]: duplicate iplisten entry "
	    "\"127.0.0.0\" (first defined at t:2)", n + 2, n);
	ck_assert_str_eq(e.msg[0], want);
	free(want);
	hq_errors_free(&e);
	free(text);
}
END_TEST

/* 1234567 -> "1,234,567", as the man page writes numbers. */
static char *
commas(unsigned long v)
{
	char digits[32], *out = xcalloc(1, 48);
	size_t n = (size_t)snprintf(digits, sizeof(digits), "%lu", v), o = 0;

	for (size_t i = 0; i < n; i++) {
		if (i > 0 && (n - i) % 3 == 0)
			out[o++] = ',';
		out[o++] = digits[i];
	}
	return out;
}

/* The man pages state the limits the code applies, say what write access
 * to the store means, and no longer say that https is refused. */
START_TEST(test_man_limits)
{
	char *man = slurp(TESTS_SRCDIR "/../man/httpq.yaml.5");
	char *man8 = slurp(TESTS_SRCDIR "/../man/httpqd.8");
	char *nodes = commas(HQ_YAML_MAX_NODES), *opts = commas(HQ_STORE_MAX_OPTIONS);
	char *want[] = {
		xasprintf("at most %d MiB", HQ_STORE_MAX_FILE_MIB),
		xasprintf("at most %s YAML nodes", nodes),
		xasprintf("at most %s options", opts),
		xasprintf("A prefix is at most %d characters as written",
		    HQ_PREFIX_MAX_LENGTH),
		xasprintf("\nis at most %d characters.\n", HQ_HOST_NAME_MAX_LEN),
		xasprintf("The first %d errors are printed", HQ_ERRORS_MAX),
		xasprintf("\n.SH SECURITY\nWrite access to"),
	};

	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		ck_assert_msg(strstr(man, want[i]) != NULL,
		    "httpq.yaml(5) does not say \"%s\"", want[i]);
		free(want[i]);
	}
	ck_assert_ptr_null(strstr(man, "until TLS support lands"));
	ck_assert_ptr_nonnull(strstr(man8, "\n.SH SECURITY\n"));
	ck_assert_ptr_nonnull(strstr(man8, "can run code as root"));
	free(nodes);
	free(opts);
	free(man8);
	free(man);
}
END_TEST

/* After the run, for the leak checker (check_main.h). */
static void
free_bad_cases(void)
{
	for (size_t i = 0; i < nbad_cases; i++)
		free(bad_cases[i]);
	free(bad_cases);
}

Suite *
unit_suite(void)
{
	Suite *su = suite_create("store");
	TCase *good = tcase_create("good");
	TCase *bad = tcase_create("bad");
	TCase *units = tcase_create("units");
	TCase *files = tcase_create("files");

	find_bad_cases();
	atexit(free_bad_cases);
	tcase_add_test(good, test_empty_is_defaults);
	tcase_add_test(good, test_minimal);
	tcase_add_test(good, test_full);
	tcase_add_test(good, test_attach);
	tcase_add_test(good, test_flow_style);
	tcase_add_test(good, test_access_log);
	tcase_add_test(good, test_dropins);
	tcase_add_test(good, test_shipped_config);
	tcase_add_test(good, test_acl_ssl_control);
	tcase_add_test(good, test_override);
	tcase_add_loop_test(good, test_http2, 0, (int)(sizeof(h2_rows) / sizeof(h2_rows[0])));
	tcase_add_loop_test(bad, test_bad, 0, (int)nbad_cases);
	tcase_add_loop_test(units, test_scalars, 0,
	    (int)(sizeof(scalar_rows) / sizeof(scalar_rows[0])));
	tcase_add_test(units, test_errors_format);
	tcase_add_test(units, test_collects_all);
	tcase_add_test(units, test_list_keys);
	tcase_add_loop_test(units, test_one_bool, 0,
	    (int)(sizeof(bool_rows) / sizeof(bool_rows[0])));
	tcase_add_test(units, test_key_lookups);
	tcase_add_test(units, test_man_limits);
	tcase_add_loop_test(units, test_length_caps, 0,
	    (int)(sizeof(len_rows) / sizeof(len_rows[0])));
	suite_add_tcase(su, good);
	suite_add_tcase(su, bad);
	tcase_add_checked_fixture(files, tmp_setup, tmp_teardown);
	/* No test here asserts a duration (that is for benchmarks): large
	 * stores only have to load, and under a sanitizer that takes longer
	 * than Check's default 4 s.  A loader that hangs (a FIFO) or goes
	 * quadratic on 60,000 entries still runs into this. */
	tcase_set_timeout(files, 60);
	tcase_add_loop_test(files, test_not_regular, 0,
	    (int)(sizeof(kind_rows) / sizeof(kind_rows[0])));
	tcase_add_test(files, test_error_cap);
	tcase_add_test(files, test_size_caps);
	tcase_add_test(files, test_many_entries);
	suite_add_tcase(su, units);
	suite_add_tcase(su, files);
	return su;
}
