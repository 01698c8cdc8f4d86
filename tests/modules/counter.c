#define _GNU_SOURCE /* memmem */
#include <httpq/module.h>

/*
 * counter.c -- test fixture for the response cache (ABI 1.3): every call
 * of handle() is counted, and the answer says which call made it, so a
 * response from the cache is told from a fresh one.
 *
 * GET .../count answers the number of calls so far (never cached).  Any
 * other path answers 200 "call=N path=P\n", with X-Call: N, a fixed ETag
 * "\"etag-P\"" and Last-Modified, after asking for the cache policy of
 * option policy (user_invalidates, the default; ttl, with option ttl
 * seconds, default 2; nocache).  Words in the path change the answer:
 *   /ttlN/     policy time to live of N seconds
 *   /vary/     Vary: User-Agent        /varyae/   Vary: Accept-Encoding
 *   /cookie/   Set-Cookie              /private/  Cache-Control: private
 *   /bigN/     a body of N bytes       /chunked/  the body in 3 send_body
 *                                                 calls, no Content-Length
 *   /status404/ status 404             /async/    answered from post()
 * A body is "call=N path=P\n" padded with '.' to the size asked.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct httpq_api *api;
static atomic_ulong calls;

struct counter {
	int policy;
	uint32_t ttl;
};

static int
counter_init(const struct httpq_api *a, httpq_ctx *ctx, void **state)
{
	struct counter *s = calloc(1, sizeof(*s));
	const char *p = a->option(ctx, "policy"), *t = a->option(ctx, "ttl");

	if (s == NULL || a->minor < 3)
		return -1;
	api = a;
	s->policy = HTTPQ_CACHE_USER_INVALIDATES;
	if (p != NULL && strcmp(p, "ttl") == 0)
		s->policy = HTTPQ_CACHE_TIME_TO_LIVE;
	else if (p != NULL && strcmp(p, "nocache") == 0)
		s->policy = HTTPQ_CACHE_NOCACHE;
	s->ttl = t ? (uint32_t)atoi(t) : 2;
	*state = s;
	return 0;
}

static void
counter_fini(void *state)
{
	free(state);
}

/* The number after word in path ("/ttl5/" -> 5), or -1. */
static long
word_num(const char *path, const char *word)
{
	char pat[32];
	const char *p;

	snprintf(pat, sizeof(pat), "/%s", word);
	if ((p = strstr(path, pat)) == NULL)
		return -1;
	return strtol(p + strlen(pat), NULL, 10);
}

static int
has_word(const char *path, const char *word)
{
	char pat[32];

	snprintf(pat, sizeof(pat), "/%s/", word);
	return strstr(path, pat) != NULL;
}

#define HDR(n, v) ((httpq_header){ n, sizeof(n) - 1, v, strlen(v) })

static void
answer(httpq_request *req, void *arg)
{
	struct counter *s = arg;
	httpq_str ps = api->path(req);
	char path[512], num[24], etag[600], cl[24], *body;
	httpq_header h[10];
	size_t n = 0, len, pre;
	unsigned long call;
	long ttl, big;
	int policy = s->policy, status = 200;

	snprintf(path, sizeof(path), "%.*s", (int)ps.len, ps.ptr);
	if (strlen(path) >= 6 && strcmp(path + strlen(path) - 6, "/count") == 0) {
		snprintf(num, sizeof(num), "%lu\n", atomic_load(&calls));
		api->send_head(req, 200, NULL, NULL, 0, HTTPQ_SEND_MORE);
		api->send_body(req, num, strlen(num), 0);
		return;
	}
	call = atomic_fetch_add(&calls, 1) + 1;
	if ((ttl = word_num(path, "ttl")) > 0)
		policy = HTTPQ_CACHE_TIME_TO_LIVE;
	if (has_word(path, "status404"))
		status = 404;
	big = word_num(path, "big");
	pre = (size_t)snprintf(NULL, 0, "call=%lu path=%s\n", call, path);
	len = big > (long)pre ? (size_t)big : pre;
	if ((body = malloc(len + 1)) == NULL)
		abort();
	memset(body, '.', len);
	snprintf(body, len + 1, "call=%lu path=%s\n", call, path);
	if (pre < len)
		body[pre] = '.';
	snprintf(num, sizeof(num), "%lu", call);
	snprintf(etag, sizeof(etag), "\"etag-%s\"", path);
	h[n++] = HDR("Content-Type", "text/plain");
	h[n++] = HDR("X-Call", num);
	h[n++] = HDR("ETag", etag);
	h[n++] = HDR("Last-Modified", "Sun, 06 Nov 1994 08:49:37 GMT");
	if (has_word(path, "vary"))
		h[n++] = HDR("Vary", "User-Agent");
	if (has_word(path, "varyae"))
		h[n++] = HDR("Vary", "Accept-Encoding");
	if (has_word(path, "cookie"))
		h[n++] = HDR("Set-Cookie", "a=b");
	if (has_word(path, "private"))
		h[n++] = HDR("Cache-Control", "private, max-age=60");
	if (!has_word(path, "chunked")) {
		snprintf(cl, sizeof(cl), "%zu", len);
		h[n++] = HDR("Content-Length", cl);
	}
	api->cache_policy(req, policy, ttl > 0 ? (uint32_t)ttl : s->ttl);
	api->send_head(req, status, NULL, h, n, HTTPQ_SEND_MORE);
	if (has_word(path, "chunked") && len >= 3) {
		api->send_body(req, body, 1, HTTPQ_SEND_MORE);
		api->send_body(req, body + 1, 1, HTTPQ_SEND_MORE);
		api->send_body(req, body + 2, len - 2, 0);
	} else {
		api->send_body(req, body, len, 0);
	}
	free(body);
}

static void
counter_handle(void *state, httpq_request *req)
{
	httpq_str ps = api->path(req);

	if (ps.len >= 7 && memmem(ps.ptr, ps.len, "/async/", 7) != NULL &&
	    api->post(req, answer, state) == 0)
		return;
	answer(req, state);
}

const struct httpq_module httpq_module = {
	HTTPQ_MODULE_HEAD,
	.name = "counter",
	.version = "1.0",
	.init = counter_init,
	.handle = counter_handle,
	.fini = counter_fini,
};
