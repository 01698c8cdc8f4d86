#include <httpq/module.h>

/*
 * abi11.c -- test fixture: a module built against the frozen ABI 1.1 header
 * (tests/modules/abi11/httpq/module.h, first on this target's include path).
 * Its httpq_module has no .size and no validate(): a newer daemon must read
 * it as a 1.1 struct and serve with it unchanged.  It answers every request
 * with the ABI it was built for, the daemon's API minor and whether the
 * request came over TLS (tls_info(), ABI 1.1).
 */
#include <stdint.h>
#include <stdio.h>

_Static_assert(HTTPQ_MODULE_ABI_MAJOR == 1 && HTTPQ_MODULE_ABI_MINOR == 1,
    "abi11.c must be built against tests/modules/abi11/httpq/module.h");

static int
abi11_init(const struct httpq_api *api, httpq_ctx *ctx, void **state)
{
	*state = (void *)api;
	return api->option(ctx, "refuse") != NULL ? -1 : 0;
}

static void
abi11_handle(void *state, httpq_request *req)
{
	const struct httpq_api *api = state;
	httpq_header h = { "Content-Type", 12, "text/plain", 10 };
	char body[128];
	int n, tls = -1;

	if (api->minor >= 1)
		tls = api->tls_info(req)->is_tls;
	n = snprintf(body, sizeof(body), "built for ABI %d.%d, api minor %u, tls %d\n",
	    HTTPQ_MODULE_ABI_MAJOR, HTTPQ_MODULE_ABI_MINOR, (unsigned)api->minor, tls);
	if (api->send_head(req, 200, NULL, &h, 1, HTTPQ_SEND_MORE) != 0 ||
	    api->send_body(req, body, (size_t)n, 0) != 0)
		api->finish(req);
}

/*
 * A 1.1 struct has nothing after .fini, so a daemon must not read further.
 * To make that visible, the exported httpq_module is the head of a larger
 * object whose next bytes look like a 1.2 .size and .validate: a daemon
 * that reads them from a 1.1 module calls poison_validate(), which refuses
 * every configuration.
 */
static int
poison_validate(const void *api, httpq_ctx *ctx, void *v)
{
	(void)api;
	(void)ctx;
	(void)v;
	return -1;
}

static const struct {
	struct httpq_module m;
	uint32_t size;                  /* where 1.2 has .size ... */
	int (*validate)(const void *, httpq_ctx *, void *); /* ... and .validate */
} abi11_module = {
	.m = {
		.abi = HTTPQ_MODULE_ABI,
		.name = "abi11",
		.version = "1.1",
		.init = abi11_init,
		.handle = abi11_handle,
		.fini = NULL,
	},
	.size = 0xffffffff,
	.validate = poison_validate,
};

extern const struct httpq_module httpq_module __attribute__((alias("abi11_module")));
