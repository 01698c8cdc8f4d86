#include <httpq/module.h>

/*
 * defer.c -- test fixture for api->defer: each request waits n times in a
 * chain, ms milliseconds each ("?n=N&ms=M", default 20 and 1), and the
 * answer says how long each wait really took, on CLOCK_MONOTONIC:
 *
 *   n=20 ms=1 early=0 min_us=1012 max_us=1090 total_us=21003
 *
 * early counts the waits that ended before ms had passed.  Before the
 * waits, the module works (spins) for 0, 4, 8 and 12 ms in turn: a module
 * that computes before deferring, whose deferral must still be counted
 * from the call, not from when the event loop last read its clock (with
 * 12 ms, more than a tick of a 100 Hz coarse clock).  Load can only
 * lengthen a wait, so early=0 holds on any machine.  With "&drop=1" an
 * abort finishes the request at once (the daemon must cancel its pending
 * wait) instead of letting the wait fire first.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DEFER_MAX_N 1000

static const struct httpq_api *api;

struct chain {
	unsigned i, n, early;
	uint64_t ms, start_ns, min_ns, max_ns, total_ns;
	int aborted, drop;
};

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The number after "name=" in the query, or dflt. */
static uint64_t
qnum(httpq_str q, const char *name, uint64_t dflt)
{
	size_t k = strlen(name);
	const char *p = q.ptr, *end = q.ptr + q.len;

	if (p == NULL)
		return dflt;
	while (p < end) {
		const char *amp = memchr(p, '&', (size_t)(end - p)), *stop = amp ? amp : end;

		if ((size_t)(stop - p) > k && memcmp(p, name, k) == 0 && p[k] == '=') {
			uint64_t v = 0;

			for (p += k + 1; p < stop && *p >= '0' && *p <= '9'; p++)
				v = v * 10 + (uint64_t)(*p - '0');
			return v > 100000 ? 100000 : v;
		}
		p = stop + 1;
	}
	return dflt;
}

static void step(httpq_request *req, void *arg);

static void
wait_next(httpq_request *req, struct chain *c)
{
	uint64_t spin = (uint64_t)(c->i % 4) * 4000000, t0 = now_ns();

	while (now_ns() - t0 < spin)
		;
	c->start_ns = now_ns();
	if (api->defer(req, c->ms, step, c) != 0) {
		api->send_head(req, 500, NULL, NULL, 0, 0);
		free(c);
	}
}

static void
step(httpq_request *req, void *arg)
{
	struct chain *c = arg;
	uint64_t d = now_ns() - c->start_ns;
	char body[160];
	int len;

	if (c->aborted) {
		api->finish(req);
		free(c);
		return;
	}
	if (d < c->ms * 1000000)
		c->early++;
	if (c->i == 0 || d < c->min_ns)
		c->min_ns = d;
	if (d > c->max_ns)
		c->max_ns = d;
	c->total_ns += d;
	if (++c->i < c->n) {
		wait_next(req, c);
		return;
	}
	len = snprintf(body, sizeof(body), "n=%u ms=%llu early=%u min_us=%llu max_us=%llu total_us=%llu\n",
	    c->n, (unsigned long long)c->ms, c->early, (unsigned long long)(c->min_ns / 1000),
	    (unsigned long long)(c->max_ns / 1000), (unsigned long long)(c->total_ns / 1000));
	free(c);
	api->send_head(req, 200, NULL, NULL, 0, HTTPQ_SEND_MORE);
	api->send_body(req, body, (size_t)len, 0);
}

/* Aborted while waiting (client gone): the pending wait still fires, and
 * step() releases the request then; with drop, released now. */
static void
defer_abort(httpq_request *req, void *arg)
{
	struct chain *c = arg;

	c->aborted = 1;
	if (c->drop) {
		api->finish(req);
		free(c);
	}
}

static int
defer_init(const struct httpq_api *a, httpq_ctx *ctx, void **state)
{
	(void)ctx;
	api = a;
	*state = NULL;
	return 0;
}

static void
defer_handle(void *state, httpq_request *req)
{
	struct chain *c = calloc(1, sizeof(*c));

	(void)state;
	if (c == NULL) {
		api->send_head(req, 500, NULL, NULL, 0, 0);
		return;
	}
	c->n = (unsigned)qnum(api->query(req), "n", 20);
	c->ms = qnum(api->query(req), "ms", 1);
	c->drop = qnum(api->query(req), "drop", 0) != 0;
	if (c->n == 0 || c->n > DEFER_MAX_N) {
		free(c);
		api->send_head(req, 400, NULL, NULL, 0, 0);
		return;
	}
	api->on_abort(req, defer_abort, c);
	wait_next(req, c);
}

const struct httpq_module httpq_module = {
	.abi = HTTPQ_MODULE_ABI,
	.name = "defer",
	.version = "1.0",
	.init = defer_init,
	.handle = defer_handle,
};
