#include <httpq/module.h>

/*
 * badabi.c -- test fixture: a module built for an ABI major version that
 * httpqd does not provide.  The daemon must refuse it at load time, before
 * calling anything in it, with a message naming the file and both versions.
 */
#include <stdlib.h>

#define BADABI_MAJOR 99

static int
badabi_init(const struct httpq_api *api, httpq_ctx *ctx, void **state)
{
	/* Never reached: being called at all is the bug under test. */
	(void)api;
	(void)ctx;
	(void)state;
	abort();
}

static void
badabi_handle(void *state, httpq_request *req)
{
	(void)state;
	(void)req;
	abort();
}

const struct httpq_module httpq_module = {
	.abi = (BADABI_MAJOR << 16),
	.name = "badabi",
	.version = "1.0",
	.init = badabi_init,
	.handle = badabi_handle,
	.fini = NULL,
};
