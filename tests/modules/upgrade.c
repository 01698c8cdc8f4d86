#define _GNU_SOURCE /* strcasestr */
#include <httpq/module.h>

/*
 * upgrade.c -- test fixture for 101 Switching Protocols (ABI 1.4).
 *
 * Every request tries send_head(101) with "Upgrade: echo" (and the words
 * of its path change how); refused, it answers 200 "refused\n" with a
 * Content-Length, so the connection goes on.  Accepted, the connection
 * echoes every byte the client sends, upper-cased, so that the echo is
 * told from a reflection, with flow control (pause_body above 256 KiB
 * pending, on_writable), and ends the stream at the client's FIN.  Words:
 *   /noname/    the head has no Upgrade field
 *   /after/     a 200 head with HTTPQ_SEND_MORE goes first
 *   /readfirst/ the request body is read to its end before the 101
 *   /twice/     a second send_head(101) after the first must fail
 *   /bye/       after the 101, sends "bye\n" and ends the stream at once
 *   /late/      no 101: waits 300 ms before reading the body, then answers
 *               200 "METHOD PATH X-Probe BODYLEN\n" (the request head must
 *               survive the input buffer growing under it meanwhile)
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct httpq_api *api;

#define PENDING_MAX (256 * 1024)

static int
up_init(const struct httpq_api *a, httpq_ctx *ctx, void **state)
{
	if (a->minor < 4)
		return -1;
	api = a;
	*state = NULL;
	return 0;
}

static void
refuse(httpq_request *req, int after)
{
	static const httpq_header cl = { "Content-Length", 14, "8", 1 };

	if (!after)
		api->send_head(req, 200, NULL, &cl, 1, HTTPQ_SEND_MORE);
	api->send_body(req, "refused\n", 8, 0);
}

static void
on_writable(httpq_request *req, void *arg)
{
	api->pause_body(req, 0);
}

static void
on_abort(httpq_request *req, void *arg)
{
	api->finish(req);
}

static void
on_stream(httpq_request *req, void *arg, const void *data, size_t n, unsigned flags)
{
	char buf[4096];
	const char *p = data;

	if (flags & HTTPQ_BODY_ERROR)
		return;
	while (n > 0) {
		size_t k = n < sizeof(buf) ? n : sizeof(buf);

		for (size_t i = 0; i < k; i++)
			buf[i] = (char)toupper((unsigned char)p[i]);
		api->send_body(req, buf, k, HTTPQ_SEND_MORE);
		p += k;
		n -= k;
	}
	if (flags & HTTPQ_BODY_END) {
		api->send_body(req, NULL, 0, 0);
		return;
	}
	if (api->pending(req) > PENDING_MAX) {
		api->pause_body(req, 1);
		api->on_writable(req, on_writable, NULL);
	}
}

static void
try_switch(httpq_request *req)
{
	httpq_str path = api->path(req);
	char p[256];
	static const httpq_header h[] = { { "Upgrade", 7, "echo", 4 },
		{ "X-Test", 6, "upgrade", 7 } };
	int named = 1;

	snprintf(p, sizeof(p), "%.*s", (int)path.len, path.ptr);
	if (strstr(p, "/noname/"))
		named = 0;
	if (strstr(p, "/after/")) {
		api->send_head(req, 200, NULL, NULL, 0, HTTPQ_SEND_MORE);
		if (api->send_head(req, 101, NULL, h, 2, 0) == 0)
			return; /* wrong: the test sees no "refused" */
		refuse(req, 1);
		return;
	}
	if (api->send_head(req, 101, NULL, named ? h : h + 1, named ? 2 : 1, 0) < 0) {
		refuse(req, 0);
		return;
	}
	if (strstr(p, "/twice/") && api->send_head(req, 101, NULL, h, 2, 0) == 0)
		api->send_body(req, "TWICE-ACCEPTED\n", 15, HTTPQ_SEND_MORE);
	if (strstr(p, "/bye/")) {
		api->send_body(req, "bye\n", 4, 0);
		return;
	}
	api->on_abort(req, on_abort, NULL);
	api->read_body(req, on_stream, NULL);
}

static void
on_request_body(httpq_request *req, void *arg, const void *data, size_t n,
    unsigned flags)
{
	if (flags & HTTPQ_BODY_ERROR) {
		api->finish(req);
		return;
	}
	if (flags & HTTPQ_BODY_END)
		try_switch(req);
}

static void
on_late_body(httpq_request *req, void *arg, const void *data, size_t n,
    unsigned flags)
{
	size_t *total = arg;
	char out[8192];
	int len;

	if (flags & HTTPQ_BODY_ERROR) {
		free(total);
		api->finish(req);
		return;
	}
	*total += n;
	if (!(flags & HTTPQ_BODY_END))
		return;
	httpq_str m = api->method(req), u = api->raw_url(req);
	httpq_str x = api->header(req, "X-Probe");

	len = snprintf(out, sizeof(out), "%.*s %.*s %.*s %zu\n", (int)m.len, m.ptr,
	    (int)u.len, u.ptr, (int)x.len, x.ptr ? x.ptr : "", *total);
	free(total);
	if (len < 0 || (size_t)len >= sizeof(out))
		len = 0;
	api->send_head(req, 200, NULL, NULL, 0, HTTPQ_SEND_MORE);
	api->send_body(req, out, (size_t)len, 0);
}

static void
late_read(httpq_request *req, void *arg)
{
	size_t *total = calloc(1, sizeof(*total));

	if (total == NULL || api->read_body(req, on_late_body, total) < 0) {
		free(total);
		api->finish(req);
	}
}

static void
up_handle(void *state, httpq_request *req)
{
	httpq_str path = api->path(req);

	if (path.len >= 6 && memmem(path.ptr, path.len, "/late/", 6)) {
		api->defer(req, 300, late_read, NULL);
		return;
	}

	if (path.len >= 11 && memmem(path.ptr, path.len, "/readfirst/", 11)) {
		api->read_body(req, on_request_body, NULL);
		return;
	}
	try_switch(req);
}

const struct httpq_module httpq_module = {
	HTTPQ_MODULE_HEAD,
	.name = "upgrade",
	.version = "1.0",
	.init = up_init,
	.handle = up_handle,
};
