/*
 * hello -- a fixed 13-byte answer, for benchmarks (contrib/bench).
 */
#include <string.h>

#include <httpq/module.h>

static const struct httpq_api *api;

static int
hello_init(const struct httpq_api *a, httpq_ctx *ctx, void **state)
{
	api = a;
	*state = NULL;
	return 0;
}

static void
hello_handle(void *state, httpq_request *req)
{
	static const char body[] = "Hello, world\n";
	static const httpq_header hdrs[] = {
		{ "Content-Type", 12, "text/plain", 10 },
		{ "Content-Length", 14, "13", 2 },
	};

	api->send_head(req, 200, NULL, hdrs, 2, HTTPQ_SEND_MORE);
	api->send_body(req, body, sizeof(body) - 1, 0);
}

const struct httpq_module httpq_module = {
	HTTPQ_MODULE_HEAD,
	.name = "hello",
	.version = "1.0",
	.init = hello_init,
	.handle = hello_handle,
};
