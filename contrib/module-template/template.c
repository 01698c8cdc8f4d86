/*
 * template.c -- a complete httpq handler module, built out of tree.
 *
 * Answers every GET and HEAD with a greeting (the queue option
 * "greeting", default "Hello from the template module") followed by the
 * path asked for; any other method gets 405.  Copy this folder, rename
 * it, and build with `make` against an installed httpq (pkg-config httpq).
 *
 * In httpq.yaml:
 *   queues:
 *     - name: mine
 *       module: template            # looked up as template.so in module_path
 *       options: { greeting: "Hi" }
 */
#include <stdlib.h>
#include <string.h>

#include <httpq/module.h>

struct state {
	const struct httpq_api *api;
	httpq_ctx *ctx;
	char *greeting;
};

/* Checks the options before anything is applied (httpqd -t, start, reload):
 * name the bad option, say what would be right, and return -1. */
static int
template_validate(const struct httpq_api *api, httpq_ctx *ctx, httpq_validation *v)
{
	const char *g = api->option(ctx, "greeting");

	if (g != NULL && *g == '\0') {
		api->report(v, "greeting", "expected some text, got an empty string");
		return -1;
	}
	return 0;
}

static int
template_init(const struct httpq_api *api, httpq_ctx *ctx, void **statep)
{
	struct state *st = calloc(1, sizeof(*st));
	const char *g;

	if (st == NULL)
		return -1;
	st->api = api;
	st->ctx = ctx;
	g = api->option(ctx, "greeting");
	st->greeting = strdup(g ? g : "Hello from the template module");
	if (st->greeting == NULL) {
		free(st);
		return -1;
	}
	*statep = st;
	return 0;
}

static void
template_handle(void *state, httpq_request *req)
{
	struct state *st = state;
	const struct httpq_api *api = st->api;
	httpq_str m = api->method(req), path = api->path(req);
	static const httpq_header hdrs[] = {
		{ "Content-Type", 12, "text/plain; charset=utf-8", 25 },
	};
	static const httpq_header allow[] = { { "Allow", 5, "GET, HEAD", 9 } };

	if (!(m.len == 3 && memcmp(m.ptr, "GET", 3) == 0) &&
	    !(m.len == 4 && memcmp(m.ptr, "HEAD", 4) == 0)) {
		api->send_head(req, 405, NULL, allow, 1, 0);
		return;
	}
	api->send_head(req, 200, NULL, hdrs, 1, HTTPQ_SEND_MORE);
	api->send_body(req, st->greeting, strlen(st->greeting), HTTPQ_SEND_MORE);
	api->send_body(req, ": ", 2, HTTPQ_SEND_MORE);
	api->send_body(req, path.ptr, path.len, HTTPQ_SEND_MORE);
	api->send_body(req, "\n", 1, 0);
}

static void
template_fini(void *state)
{
	struct state *st = state;

	free(st->greeting);
	free(st);
}

/* The one exported symbol; the ABI version is checked before anything.
 * HTTPQ_MODULE_HEAD sets .abi and .size. */
const struct httpq_module httpq_module = {
	HTTPQ_MODULE_HEAD,
	.name = "template",
	.version = "1.0",
	.init = template_init,
	.handle = template_handle,
	.fini = template_fini,
	.validate = template_validate,
};
