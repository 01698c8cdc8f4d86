/*
 * hello -- a fixed 13-byte answer, for benchmarks (contrib/bench).
 *
 * Option cache: off (default), user_invalidates or seconds to live: the
 * answer is kept in httpqd's response cache (ABI 1.3), so that the bench
 * measures a cached module response.
 */
#include <stdlib.h>
#include <string.h>

#include <httpq/module.h>

static const struct httpq_api *api;

/* The cache policy asked for, or HTTPQ_CACHE_NOCACHE. */
struct hello {
	int policy;
	uint32_t ttl;
};

static int
hello_init(const struct httpq_api *a, httpq_ctx *ctx, void **state)
{
	struct hello h = { HTTPQ_CACHE_NOCACHE, 0 };
	const char *c = a->option(ctx, "cache");

	api = a;
	h.policy = HTTPQ_CACHE_NOCACHE;
	if (c != NULL && strcmp(c, "user_invalidates") == 0) {
		h.policy = HTTPQ_CACHE_USER_INVALIDATES;
	} else if (c != NULL && strcmp(c, "off") != 0) {
		h.policy = HTTPQ_CACHE_TIME_TO_LIVE;
		h.ttl = (uint32_t)strtoul(c, NULL, 10);
		if (h.ttl == 0) {
			a->log(ctx, HTTPQ_LOG_ERR, "option cache: expected off, "
			    "user_invalidates or seconds, got \"%s\"", c);
			return -1;
		}
	}
	if (h.policy != HTTPQ_CACHE_NOCACHE && a->minor < 3) {
		a->log(ctx, HTTPQ_LOG_ERR, "option cache: needs module ABI 1.3");
		return -1;
	}
	if ((*state = malloc(sizeof(h))) == NULL)
		return -1;
	memcpy(*state, &h, sizeof(h));
	return 0;
}

static void
hello_fini(void *state)
{
	free(state);
}

static void
hello_handle(void *state, httpq_request *req)
{
	const struct hello *h = state;
	static const char body[] = "Hello, world\n";
	static const httpq_header hdrs[] = {
		{ "Content-Type", 12, "text/plain", 10 },
		{ "Content-Length", 14, "13", 2 },
	};

	if (h->policy != HTTPQ_CACHE_NOCACHE)
		api->cache_policy(req, h->policy, h->ttl);
	api->send_head(req, 200, NULL, hdrs, 2, HTTPQ_SEND_MORE);
	api->send_body(req, body, sizeof(body) - 1, 0);
}

const struct httpq_module httpq_module = {
	HTTPQ_MODULE_HEAD,
	.name = "hello",
	.version = "1.0",
	.init = hello_init,
	.handle = hello_handle,
	.fini = hello_fini,
};
