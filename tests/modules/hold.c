#include <httpq/module.h>

/*
 * hold.c -- test fixture: holds every request for a while, then answers
 * "200 held".
 *
 * The hold time comes from the query ("?ms=N") or else from the option
 * hold_ms (default 1000).  The request is parked with api->defer, so a held
 * request occupies its queue slot without blocking the worker: the tests use
 * it to fill queues (503), to have a request in flight during a drain, and to
 * watch aborts.  If the request is aborted while held (client gone, timeout,
 * shutdown), the module calls api->finish and forgets it.  It logs nothing per
 * request, so tests can grep the daemon's log without noise.
 */
#include <stdlib.h>
#include <string.h>

#define HOLD_DEFAULT_MS 1000

struct hold {
	const struct httpq_api *api;
	uint64_t hold_ms;
};

/* One held request.  Freed by whichever of release paths runs last. */
struct held {
	const struct httpq_api *api;
	int sending; /* inside send_*: an abort now is handled after it returns */
	int aborted;
	int done;    /* the request was released (response ended or finish()) */
};

static int
parse_ms(const char *p, size_t n, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (n == 0 || n > 10)
		return -1;
	for (i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		v = v * 10 + (uint64_t)(p[i] - '0');
	}
	*out = v;
	return 0;
}

/* Looks for ms=N among the &-separated query parameters. */
static int
query_ms(httpq_str q, uint64_t *out)
{
	const char *p = q.ptr, *end;

	if (p == NULL)
		return -1;
	end = p + q.len;
	while (p < end) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		const char *stop = amp ? amp : end;

		if (stop - p > 3 && memcmp(p, "ms=", 3) == 0 &&
		    parse_ms(p + 3, (size_t)(stop - p - 3), out) == 0)
			return 0;
		p = stop + 1;
	}
	return -1;
}

static void
hold_abort(httpq_request *req, void *arg)
{
	struct held *h = arg;

	h->aborted = 1;
	if (h->sending)
		return; /* hold_fire() finishes once send_* returns */
	if (!h->done) {
		h->done = 1;
		h->api->finish(req);
	}
	free(h);
}

static void
hold_fire(httpq_request *req, void *arg)
{
	static const char body[] = "held\n";
	static const httpq_header hdrs[] = {
		{ "Content-Type", 12, "text/plain", 10 },
		{ "Content-Length", 14, "5", 1 },
	};
	struct held *h = arg;
	const struct httpq_api *api = h->api;
	int rc;

	h->sending = 1;
	rc = api->send_head(req, 200, NULL, hdrs, 2, HTTPQ_SEND_MORE);
	if (rc == 0 && !h->aborted)
		rc = api->send_body(req, body, sizeof(body) - 1, 0);
	h->sending = 0;
	if (rc == 0 && !h->aborted) {
		h->done = 1; /* the last send_body ended and released the request */
		free(h);
		return;
	}
	/* Aborted (before or during the sends) or refused: release it. */
	if (!h->done) {
		h->done = 1;
		api->finish(req);
	}
	free(h);
}

static int
hold_init(const struct httpq_api *api, httpq_ctx *ctx, void **state)
{
	struct hold *s;
	const char *opt = api->option(ctx, "hold_ms");
	uint64_t ms = HOLD_DEFAULT_MS;

	if (opt != NULL && parse_ms(opt, strlen(opt), &ms) != 0) {
		api->log(ctx, HTTPQ_LOG_ERR,
		    "hold_ms: expected a number of milliseconds, got \"%s\"", opt);
		return -1;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return -1;
	s->api = api;
	s->hold_ms = ms;
	*state = s;
	return 0;
}

static void
hold_handle(void *state, httpq_request *req)
{
	struct hold *s = state;
	const struct httpq_api *api = s->api;
	struct held *h;
	uint64_t ms = s->hold_ms;

	(void)query_ms(api->query(req), &ms);
	h = calloc(1, sizeof(*h));
	if (h == NULL) {
		api->send_head(req, 500, NULL, NULL, 0, 0);
		return;
	}
	h->api = api;
	api->on_abort(req, hold_abort, h);
	if (api->defer(req, ms, hold_fire, h) != 0) {
		static const httpq_header hdrs[] = {
			{ "Content-Length", 14, "0", 1 },
		};

		/* Shutting down or out of memory: answer at once. */
		h->sending = 1;
		if (api->send_head(req, 503, NULL, hdrs, 1, 0) != 0 || h->aborted)
			api->finish(req);
		free(h);
	}
}

static void
hold_fini(void *state)
{
	free(state);
}

const struct httpq_module httpq_module = {
	.abi = HTTPQ_MODULE_ABI,
	.name = "hold",
	.version = "1.0",
	.init = hold_init,
	.handle = hold_handle,
	.fini = hold_fini,
};
