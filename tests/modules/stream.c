/*
 * stream -- a test module for the asynchronous parts of the ABI.
 *
 *   GET /chunks   three chunks 50 ms apart (defer), then trailers
 *   GET /thread   answered from another thread through post()
 *   GET /file     a body sent with send_file from a temporary file
 *   GET /short    promises 10 bytes, sends 4: the daemon must close
 *   GET /nothing  finish() without a response: the daemon answers 500
 *   GET /info     the request facts, one per line
 *   GET /tls      the TLS facts (ABI 1.1), one per line
 *   GET /badhead  send_head with heads the daemon must refuse (CR/LF in a
 *                 value, "Bad Name", control characters...), some with side
 *                 effects (Content-Length, Connection: close, DISCONNECT)
 *                 that must not stick; then a valid 200 whose body has one
 *                 letter per attempt: r refused, A accepted.  ?N (1-9): only
 *                 the first N bad heads
 *   GET /longhead a reason phrase and field lines too long for the buffers
 *                 response.c joins a line's pieces in (94 and 256
 *                 bytes), and some just short enough
 *   POST /trailers reads the body and answers what it saw: its length, the
 *                 trailer count seen before the end (must be 0), then each
 *                 request trailer (ABI 1.2 trailer_count/trailer_at) and
 *                 trailer("x-sum") looked up by name
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <httpq/module.h>

static const struct httpq_api *api;

static int
stream_init(const struct httpq_api *a, httpq_ctx *ctx, void **state)
{
	api = a;
	*state = NULL;
	return 0;
}

static int
path_is(httpq_request *req, const char *p)
{
	httpq_str s = api->path(req);

	return s.len == strlen(p) && memcmp(s.ptr, p, s.len) == 0;
}

static void
next_chunk(httpq_request *req, void *arg)
{
	static const httpq_header trailers[] = { { "X-Checksum", 10, "abc123", 6 } };
	int n = (int)(intptr_t)arg;
	char buf[32];

	snprintf(buf, sizeof(buf), "chunk %d\n", n);
	api->send_body(req, buf, strlen(buf), HTTPQ_SEND_MORE);
	if (n < 3)
		api->defer(req, 50, next_chunk, (void *)(intptr_t)(n + 1));
	else
		api->send_trailers(req, trailers, 1);
}

static void
answer_from_thread(httpq_request *req, void *arg)
{
	static const httpq_header h[] = { { "Content-Type", 12, "text/plain", 10 } };

	api->send_head(req, 200, NULL, h, 1, HTTPQ_SEND_MORE);
	api->send_body(req, "from a thread\n", 14, 0);
}

static void *
thread_main(void *arg)
{
	usleep(20000);
	api->post(arg, answer_from_thread, NULL);
	return NULL;
}

static void
send_file(httpq_request *req)
{
	char path[] = "/tmp/httpq-stream-XXXXXX";
	int fd = mkstemp(path);
	static const char text[] = "file contents\n";

	unlink(path);
	if (fd < 0 || write(fd, text, sizeof(text) - 1) != sizeof(text) - 1) {
		api->send_head(req, 500, NULL, NULL, 0, 0);
		return;
	}
	api->send_head(req, 200, NULL, NULL, 0, HTTPQ_SEND_MORE);
	api->send_file(req, fd, 0, sizeof(text) - 1, 0);
}

static void
send_info(httpq_request *req)
{
	char buf[2048];
	httpq_str m = api->method(req), raw = api->raw_url(req), cooked = api->cooked_url(req);
	httpq_str q = api->query(req), pre = api->url_prefix(req), grp = api->url_group(req);
	httpq_str ua = api->header(req, "user-agent");
	int n = snprintf(buf, sizeof(buf),
	    "method=%.*s\nraw=%.*s\ncooked=%.*s\nquery=%.*s\nprefix=%.*s\ngroup=%.*s\n"
	    "version=%d\nheaders=%zu\nua=%.*s\nqueue=%s\n",
	    (int)m.len, m.ptr, (int)raw.len, raw.ptr, (int)cooked.len, cooked.ptr,
	    (int)q.len, q.ptr, (int)pre.len, pre.ptr, (int)grp.len, grp.ptr,
	    api->version(req), api->header_count(req), (int)ua.len, ua.ptr ? ua.ptr : "",
	    "-");

	api->send_head(req, 200, NULL, NULL, 0, HTTPQ_SEND_MORE);
	api->send_body(req, buf, (size_t)n, 0);
}

static void
send_tls(httpq_request *req)
{
	char buf[1024];
	const httpq_tls_info *t = api->tls_info(req);
	int n = snprintf(buf, sizeof(buf),
	    "is_tls=%d\nprotocol=%.*s\ncipher=%.*s\nsni=%.*s\npresented=%d\n"
	    "verified=%d\nsubject=%.*s\nsha256=%.*s\n", t->is_tls,
	    (int)t->protocol.len, t->protocol.ptr ? t->protocol.ptr : "",
	    (int)t->cipher.len, t->cipher.ptr ? t->cipher.ptr : "",
	    (int)t->sni.len, t->sni.ptr ? t->sni.ptr : "",
	    t->client_cert_presented, t->client_cert_verified,
	    (int)t->client_subject.len, t->client_subject.ptr ? t->client_subject.ptr : "",
	    (int)t->client_fingerprint_sha256.len,
	    t->client_fingerprint_sha256.ptr ? t->client_fingerprint_sha256.ptr : "");

	api->send_head(req, 200, NULL, NULL, 0, HTTPQ_SEND_MORE);
	api->send_body(req, buf, (size_t)n, 0);
}

#define HDR(n, v) { n, sizeof(n) - 1, v, sizeof(v) - 1 }
struct bad_head {
	const char *reason;
	unsigned flags;
	size_t n;
	httpq_header h[3];
};

/* The first five were refused before 0.1.1 too (CR, LF, NUL, a bad
 * Content-Length), but left bytes behind; the rest went out. */
static const struct bad_head bad_heads[] = {
	{ NULL, 0, 2, { HDR("Content-Type", "text/plain"),
	    HDR("X-Evil", "a\r\nInjected: EVIL") } },
	{ NULL, 0, 2, { HDR("Content-Type", "text/plain"), HDR("X-Nul", "EVIL\0x") } },
	{ NULL, 0, 2, { HDR("X-Ok", "fine"), HDR("X-Lf", "EVIL\nx") } },
	{ NULL, 0, 2, { HDR("X-Ok", "fine"), HDR("Content-Length", "12a") } },
	{ "EVIL\r\nInjected: yes", 0, 0, { { 0 } } },
	{ NULL, 0, 2, { HDR("Connection", "close"), HDR("Bad Name", "EVIL") } },
	{ NULL, 0, 2, { HDR("Content-Length", "999"), HDR("X-Ctl", "EVIL\x01") } },
	{ NULL, HTTPQ_SEND_DISCONNECT, 1, { HDR("Bad:Name", "EVIL") } },
	{ NULL, 0, 1, { HDR("", "EVIL") } },
	{ NULL, 0, 1, { HDR("X-Del", "EVIL\x7f") } },
	{ NULL, 0, 1, { HDR("B\xc3\xa4" "d", "EVIL") } },
};

#define NBAD (sizeof(bad_heads) / sizeof(bad_heads[0]))

static void
send_bad_heads(httpq_request *req)
{
	static const httpq_header good[] = {
		HDR("X-Tab", "a\tb"), HDR("X-Obs", "caf\xc3\xa9"), HDR("X-Empty", ""),
	};
	char out[NBAD + 1];
	httpq_str q = api->query(req);
	size_t i, len = 0, nbad = NBAD;
	int accepted = 0;

	/* ?N: only the first N heads */
	if (q.len == 1 && q.ptr[0] >= '1' && q.ptr[0] <= '9')
		nbad = (size_t)(q.ptr[0] - '0');
	for (i = 0; i < nbad && !accepted; i++) {
		const struct bad_head *b = &bad_heads[i];

		accepted = api->send_head(req, 200, b->reason, b->h, b->n,
		    b->flags | HTTPQ_SEND_MORE) == 0;
		out[len++] = accepted ? 'A' : 'r';
	}
	out[len++] = '\n';
	if (!accepted)
		api->send_head(req, 200, NULL, good, 3, HTTPQ_SEND_MORE);
	api->send_body(req, out, len, 0);
}

/*
 * 70 fields with the ones httpqd writes itself (framing, Connection) in
 * other spellings at positions 2, 63, 64 and 69, around the 64 whose
 * names httpqd classifies once: ?close adds "connection: close" at 66.
 */
static void
send_our_fields(httpq_request *req)
{
	static char names[70][8], values[70][8];
	httpq_header h[70];
	httpq_str q = api->query(req);

	for (size_t i = 0; i < 70; i++) {
		snprintf(names[i], sizeof(names[i]), "X-%zu", i);
		snprintf(values[i], sizeof(values[i]), "v%zu", i);
		h[i] = (httpq_header){ names[i], strlen(names[i]), values[i], strlen(values[i]) };
	}
	h[2] = (httpq_header){ "content-length", 14, "5", 1 };
	h[63] = (httpq_header){ "TRANSFER-ENCODING", 17, "chunked", 7 };
	h[64] = (httpq_header){ "Connection", 10, "keep-alive", 10 };
	h[69] = (httpq_header){ "Transfer-Encoding", 17, "gzip", 4 };
	if (q.len == 5 && memcmp(q.ptr, "close", 5) == 0)
		h[66] = (httpq_header){ "connection", 10, "close", 5 };
	api->send_head(req, 200, NULL, h, 70, HTTPQ_SEND_MORE);
	api->send_body(req, "hello", 5, 0);
}

struct tr_seen {
	size_t bytes, before_end;
};

static void
trailers_body(httpq_request *req, void *arg, const void *data, size_t len,
    unsigned flags)
{
	struct tr_seen *t = arg;
	char buf[4096];
	size_t n;
	httpq_str name, value, sum;

	t->bytes += len;
	if (flags & HTTPQ_BODY_ERROR) {
		free(t);
		api->finish(req);
		return;
	}
	if (!(flags & HTTPQ_BODY_END)) {
		t->before_end += api->trailer_count(req);
		return;
	}
	sum = api->trailer(req, "x-sum");
	n = (size_t)snprintf(buf, sizeof(buf), "bytes=%zu\nbefore_end=%zu\ncount=%zu\n",
	    t->bytes, t->before_end, api->trailer_count(req));
	for (size_t i = 0; api->trailer_at(req, i, &name, &value) == 0 &&
	    n < sizeof(buf) - 600; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "[%.*s]=[%.*s]\n",
		    (int)(name.len > 200 ? 200 : name.len), name.ptr,
		    (int)(value.len > 200 ? 200 : value.len), value.ptr);
	n += (size_t)snprintf(buf + n, sizeof(buf) - n, "x-sum=%.*s\n",
	    (int)sum.len, sum.ptr ? sum.ptr : "");
	free(t);
	api->send_head(req, 200, NULL, NULL, 0, HTTPQ_SEND_MORE);
	api->send_body(req, buf, n, 0);
}

/* Field values of n bytes: "v" then digits, easy to check whole. */
static const char *
filled(char *buf, size_t n)
{
	for (size_t i = 0; i < n; i++)
		buf[i] = (char)(i == 0 ? 'v' : '0' + i % 10);
	return buf;
}

static void
send_long_head(httpq_request *req)
{
	static char reason[120], v1[250], v2[251], v3[400];
	httpq_header h[] = {
		{ "X-Fits", 6, filled(v1, sizeof(v1)), sizeof(v1) },   /* 6+250+4 = 260 */
		{ "X-A", 3, filled(v2, sizeof(v2) - 2), sizeof(v2) - 2 }, /* 3+249+4 = 256 */
		{ "X-B", 3, filled(v2, sizeof(v2)), sizeof(v2) },      /* 3+251+4 = 258 */
		{ "X-Long", 6, filled(v3, sizeof(v3)), sizeof(v3) },
		{ "Content-Length", 14, "2", 1 },
	};
	const char *q = api->query(req).ptr;
	size_t rlen = q != NULL && q[0] == 's' ? 81 : sizeof(reason) - 1;

	memset(reason, 'R', sizeof(reason) - 1);
	reason[rlen] = '\0';
	api->send_head(req, 299, reason, h, 5, HTTPQ_SEND_MORE);
	api->send_body(req, "ok", 2, 0);
}

static void
stream_handle(void *state, httpq_request *req)
{
	pthread_t t;

	if (path_is(req, "/chunks")) {
		api->send_head(req, 200, NULL, NULL, 0, HTTPQ_SEND_MORE);
		next_chunk(req, (void *)(intptr_t)1);
	} else if (path_is(req, "/thread")) {
		if (pthread_create(&t, NULL, thread_main, req) == 0)
			pthread_detach(t);
	} else if (path_is(req, "/file")) {
		send_file(req);
	} else if (path_is(req, "/short")) {
		static const httpq_header h[] = { { "Content-Length", 14, "10", 2 } };

		api->send_head(req, 200, NULL, h, 1, HTTPQ_SEND_MORE);
		api->send_body(req, "abcd", 4, 0);
	} else if (path_is(req, "/tls") && api->minor >= 1) {
		send_tls(req);
	} else if (path_is(req, "/badhead")) {
		send_bad_heads(req);
	} else if (path_is(req, "/trailers") && api->minor >= 2) {
		api->read_body(req, trailers_body, calloc(1, sizeof(struct tr_seen)));
	} else if (path_is(req, "/ourfields")) {
		send_our_fields(req);
	} else if (path_is(req, "/longhead")) {
		send_long_head(req);
	} else if (path_is(req, "/nothing")) {
		api->finish(req);
	} else {
		send_info(req);
	}
}

const struct httpq_module httpq_module = {
	.abi = HTTPQ_MODULE_ABI,
	.name = "stream",
	.version = "1.0",
	.init = stream_init,
	.handle = stream_handle,
};
