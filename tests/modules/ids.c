#include <httpq/module.h>

/*
 * ids.c -- test fixture for ABI 1.2: validate(), the per-request user-data
 * slot, request_id() and connection_id().
 *
 * Option status (default 200) is the status it answers with; validate()
 * refuses anything but a number 200-599, naming the option.  Every request
 * is answered from a deferred callback that finds its state again through
 * api->user_data(); the body is "conn=C req=R ud=ok|stale|lost".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ids {
	const struct httpq_api *api;
	int status;
};

struct one {
	struct ids *s;
	int stale;   /* user_data() was not NULL in handle() */
};

static int
parse_status(const char *v)
{
	char *end;
	long n;

	if (v == NULL)
		return 200;
	n = strtol(v, &end, 10);
	if (*v < '0' || *v > '9' || *end != '\0' || n < 200 || n > 599)
		return -1;
	return (int)n;
}

static int
ids_validate(const struct httpq_api *api, httpq_ctx *ctx, httpq_validation *v)
{
	const char *s = api->option(ctx, "status");

	if (parse_status(s) < 0) {
		api->report(v, "status", "expected a status 200-599, got \"%s\"", s);
		return -1;
	}
	return 0;
}

static int
ids_init(const struct httpq_api *api, httpq_ctx *ctx, void **state)
{
	struct ids *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return -1;
	s->api = api;
	s->status = parse_status(api->option(ctx, "status"));
	*state = s;
	return 0;
}

static void
ids_abort(httpq_request *req, void *arg)
{
	struct ids *s = arg;

	free(s->api->user_data(req));
	s->api->finish(req);
}

static void
ids_fire(httpq_request *req, void *arg)
{
	struct ids *s = arg;
	const struct httpq_api *api = s->api;
	struct one *o = api->user_data(req);
	httpq_header h = { "Content-Type", 12, "text/plain", 10 };
	char body[128];
	int n;

	n = snprintf(body, sizeof(body), "conn=%llu req=%llu ud=%s\n",
	    (unsigned long long)api->connection_id(req),
	    (unsigned long long)api->request_id(req),
	    o == NULL || o->s != s ? "lost" : o->stale ? "stale" : "ok");
	api->set_user_data(req, NULL);
	free(o);
	if (api->send_head(req, s->status, NULL, &h, 1, HTTPQ_SEND_MORE) != 0 ||
	    api->send_body(req, body, (size_t)n, 0) != 0)
		api->finish(req);
}

static void
ids_handle(void *state, httpq_request *req)
{
	struct ids *s = state;
	const struct httpq_api *api = s->api;
	struct one *o = calloc(1, sizeof(*o));

	if (o == NULL) {
		api->send_head(req, 500, NULL, NULL, 0, 0);
		return;
	}
	o->s = s;
	o->stale = api->user_data(req) != NULL;
	api->set_user_data(req, o);
	api->on_abort(req, ids_abort, s);
	if (api->defer(req, 1, ids_fire, s) != 0)
		ids_fire(req, s);
}

static void
ids_fini(void *state)
{
	free(state);
}

const struct httpq_module httpq_module = {
	HTTPQ_MODULE_HEAD,
	.name = "ids",
	.version = "1.2",
	.init = ids_init,
	.handle = ids_handle,
	.fini = ids_fini,
	.validate = ids_validate,
};
