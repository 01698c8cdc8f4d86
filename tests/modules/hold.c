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
 *
 * With the option serial: 1, a worker thread holds one request at a time,
 * the others wait in arrival order: an application that takes hold_ms per
 * request and drains its queue at 1000 / hold_ms requests per second and
 * worker (contrib/bench -m overload).
 *
 * With the option early_head: 1, the head (Content-Length: 5) goes out at
 * once and only the body waits: a client sees that the module has the
 * request.  With linger_ms: N, an aborted request is finished only N ms
 * after on_abort (a module slow to let go): E1 shows that a reset stream
 * keeps its place against max_concurrent_streams until then.
 */
#include <stdlib.h>
#include <string.h>

#define HOLD_DEFAULT_MS 1000

struct hold {
	const struct httpq_api *api;
	uint64_t hold_ms;
	uint64_t linger_ms;
	int serial;
	int early_head;
};

/* One held request.  Freed by whichever of release paths runs last. */
struct held {
	const struct httpq_api *api;
	int sending; /* inside send_*: an abort now is handled after it returns */
	int aborted;
	int lingering; /* aborted, to be finished by linger_fire */
	int early;     /* the head is out */
	uint64_t linger_ms;
	int done;    /* the request was released (response ended or finish()) */
	/* serial: */
	httpq_request *req;
	struct held *next;
	int waiting; /* in the line, not yet held */
};

/* serial: this worker's line, and the request it holds (a worker thread
 * runs its requests' callbacks). */
static __thread struct {
	struct held *head, *tail, *active;
	uint64_t ms;
} line;

static void line_next(void);

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
linger_fire(httpq_request *req, void *arg)
{
	struct held *h = arg;

	h->done = 1;
	h->api->finish(req);
	free(h);
}

static void
hold_abort(httpq_request *req, void *arg)
{
	struct held *h = arg;

	if (h->waiting) {
		struct held **pp = &line.head, *prev = NULL;

		while (*pp != h)
			prev = *pp, pp = &(*pp)->next;
		*pp = h->next;
		if (line.tail == h)
			line.tail = prev;
		h->waiting = 0;
	} else if (line.active == h) {
		line.active = NULL;
		line_next();
	}
	h->aborted = 1;
	if (h->sending)
		return; /* hold_fire() finishes once send_* returns */
	if (!h->done && h->linger_ms > 0 &&
	    h->api->defer(req, h->linger_ms, linger_fire, h) == 0) {
		h->lingering = 1;
		return;
	}
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
	int rc = 0;

	if (h->lingering)
		return; /* linger_fire finishes it */
	h->sending = 1;
	if (!h->early)
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

static void
serial_fire(httpq_request *req, void *arg)
{
	line.active = NULL;
	hold_fire(req, arg);
	line_next();
}

/* The next request of the line, if nothing is held. */
static void
line_next(void)
{
	struct held *h;

	while (line.active == NULL && (h = line.head) != NULL) {
		line.head = h->next;
		if (line.head == NULL)
			line.tail = NULL;
		h->waiting = 0;
		line.active = h;
		if (h->api->defer(h->req, line.ms, serial_fire, h) != 0) {
			line.active = NULL;
			h->done = 1;
			h->api->finish(h->req);
			free(h);
		}
	}
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
	opt = api->option(ctx, "serial");
	s->serial = opt != NULL && strcmp(opt, "1") == 0;
	opt = api->option(ctx, "early_head");
	s->early_head = opt != NULL && strcmp(opt, "1") == 0;
	opt = api->option(ctx, "linger_ms");
	if (opt != NULL && parse_ms(opt, strlen(opt), &s->linger_ms) != 0) {
		api->log(ctx, HTTPQ_LOG_ERR,
		    "linger_ms: expected a number of milliseconds, got \"%s\"", opt);
		free(s);
		return -1;
	}
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
	h->linger_ms = s->linger_ms;
	if (s->early_head && !s->serial) {
		static const httpq_header eh[] = {
			{ "Content-Type", 12, "text/plain", 10 },
			{ "Content-Length", 14, "5", 1 },
		};

		h->early = 1;
		if (api->send_head(req, 200, NULL, eh, 2, HTTPQ_SEND_MORE) != 0) {
			api->finish(req);
			free(h);
			return;
		}
	}
	api->on_abort(req, hold_abort, h);
	if (s->serial) {
		h->req = req;
		h->waiting = 1;
		line.ms = ms;
		if (line.tail != NULL)
			line.tail->next = h;
		else
			line.head = h;
		line.tail = h;
		line_next();
		return;
	}
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
