/*
 * sample -- the http.sys "HTTP Server Sample Application", done right.
 *
 * GET (and HEAD) answers 200 text/html "Hey! You hit the server \r\n".
 * POST echoes the entity body back with a Content-Length.  The body is read
 * in chunks as it arrives; past spool_threshold bytes it is spooled to an
 * unlinked temporary file (as the original does) and sent back with
 * send_file, so a 1 GiB POST does not take 1 GiB of memory.
 * Any other method gets 501 Not Implemented; `unsupported_status: 503`
 * reproduces the original, which sends 503 with the reason "Not Implemented".
 *
 * Options: unsupported_status (501|503, default 501), spool_threshold
 * (bytes kept in memory, default 65536), spool_dir (default $TMPDIR or /tmp).
 * validate() refuses bad values by name, so httpqd -t catches them.
 */
#define _GNU_SOURCE /* O_TMPFILE */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <httpq/module.h>

static const struct httpq_api *api;

struct sample {
	httpq_ctx *ctx;
	int unsupported_status;
	size_t spool_threshold;
	const char *spool_dir;
};

/* One POST being echoed. */
struct echo {
	struct sample *s;
	char *mem;
	size_t len, cap;
	int fd;             /* spool file once past the threshold, else -1 */
	uint64_t total;
	int failed;
};

/*
 * Reads the options into s.  From validate() (v set) every bad option is
 * reported by name, so httpqd -t and a reload point at it; init() runs the
 * same code and only logs, as it is reached only when validate() passed.
 */
static int
sample_options(const struct httpq_api *a, httpq_ctx *ctx, httpq_validation *v,
    struct sample *s)
{
	const char *val;
	char *end;
	int rc = 0;

	s->unsupported_status = 501;
	s->spool_threshold = 65536;
	s->spool_dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	if ((val = a->option(ctx, "unsupported_status")) != NULL) {
		if (strcmp(val, "501") == 0 || strcmp(val, "503") == 0) {
			s->unsupported_status = atoi(val);
		} else {
			if (v != NULL)
				a->report(v, "unsupported_status",
				    "expected 501 or 503, got \"%s\"", val);
			else
				a->log(ctx, HTTPQ_LOG_ERR, "option unsupported_status: "
				    "expected 501 or 503, got \"%s\"", val);
			rc = -1;
		}
	}
	if ((val = a->option(ctx, "spool_threshold")) != NULL) {
		errno = 0;
		s->spool_threshold = strtoul(val, &end, 10);
		if (*val < '0' || *val > '9' || *end != '\0' || errno != 0) {
			if (v != NULL)
				a->report(v, "spool_threshold",
				    "expected a number of bytes, got \"%s\"", val);
			else
				a->log(ctx, HTTPQ_LOG_ERR, "option spool_threshold: "
				    "expected a number of bytes, got \"%s\"", val);
			rc = -1;
		}
	}
	if ((val = a->option(ctx, "spool_dir")) != NULL)
		s->spool_dir = val;
	return rc;
}

static int
sample_validate(const struct httpq_api *a, httpq_ctx *ctx, httpq_validation *v)
{
	struct sample s;

	return sample_options(a, ctx, v, &s);
}

static int
sample_init(const struct httpq_api *a, httpq_ctx *ctx, void **state)
{
	struct sample *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return -1;
	api = a;
	s->ctx = ctx;
	if (sample_options(a, ctx, NULL, s) < 0) {
		free(s);
		return -1;
	}
	*state = s;
	return 0;
}

static void
sample_fini(void *state)
{
	free(state);
}

static void
send_simple(httpq_request *req, int status, const char *reason,
    const char *type, const char *body)
{
	httpq_header h = { "Content-Type", 12, type, type ? strlen(type) : 0 };

	if (body == NULL) {
		api->send_head(req, status, reason, type ? &h : NULL, type ? 1 : 0, 0);
		return;
	}
	api->send_head(req, status, reason, &h, 1, HTTPQ_SEND_MORE);
	api->send_body(req, body, strlen(body), 0);
}

static int
spool_open(struct echo *e)
{
	char path[4096];
	int fd;

	fd = open(e->s->spool_dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd >= 0)
		return fd;
	/* File systems without O_TMPFILE: create, then unlink at once. */
	snprintf(path, sizeof(path), "%s/httpq-sample-XXXXXX", e->s->spool_dir);
	fd = mkstemp(path);
	if (fd >= 0)
		unlink(path);
	return fd;
}

static int
write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int
echo_store(struct echo *e, const void *data, size_t len)
{
	if (e->fd < 0 && e->len + len > e->s->spool_threshold) {
		e->fd = spool_open(e);
		if (e->fd < 0 || write_all(e->fd, e->mem, e->len) < 0)
			return -1;
		free(e->mem);
		e->mem = NULL;
		e->len = e->cap = 0;
	}
	if (e->fd >= 0)
		return write_all(e->fd, data, len);
	if (e->len + len > e->cap) {
		size_t cap = e->cap ? e->cap * 2 : 4096;
		char *m;

		while (cap < e->len + len)
			cap *= 2;
		if ((m = realloc(e->mem, cap)) == NULL)
			return -1;
		e->mem = m;
		e->cap = cap;
	}
	memcpy(e->mem + e->len, data, len);
	e->len += len;
	return 0;
}

static void
echo_free(struct echo *e)
{
	if (e->fd >= 0)
		close(e->fd);
	free(e->mem);
	free(e);
}

static void
echo_send(httpq_request *req, struct echo *e)
{
	char cl[24];
	httpq_header h[2] = {
		{ "Content-Type", 12, "application/octet-stream", 24 },
		{ "Content-Length", 14, cl, 0 },
	};

	h[1].value_len = (size_t)snprintf(cl, sizeof(cl), "%llu",
	    (unsigned long long)e->total);
	if (e->total == 0) {
		api->send_head(req, 200, NULL, &h[1], 1, 0);
	} else if (e->fd >= 0) {
		api->send_head(req, 200, NULL, h, 2, HTTPQ_SEND_MORE);
		api->send_file(req, e->fd, 0, e->total, 0);
		e->fd = -1; /* the daemon owns it now */
	} else {
		api->send_head(req, 200, NULL, h, 2, HTTPQ_SEND_MORE);
		api->send_body(req, e->mem, e->len, 0);
	}
}

static void
echo_body(httpq_request *req, void *arg, const void *data, size_t len, unsigned flags)
{
	struct echo *e = arg;

	if (flags & HTTPQ_BODY_ERROR)
		return; /* on_abort frees and finishes */
	if (!e->failed && len > 0 && echo_store(e, data, len) < 0) {
		api->log(e->s->ctx, HTTPQ_LOG_ERR, "cannot spool the body: %s",
		    strerror(errno));
		e->failed = 1;
	}
	e->total += len;
	if (!(flags & HTTPQ_BODY_END))
		return;
	if (e->failed)
		send_simple(req, 500, NULL, "text/plain", "cannot store the body\n");
	else
		echo_send(req, e);
	echo_free(e);
}

static void
echo_abort(httpq_request *req, void *arg)
{
	echo_free(arg);
	api->finish(req);
}

static void
sample_handle(void *state, httpq_request *req)
{
	struct sample *s = state;
	httpq_str m = api->method(req);

	if ((m.len == 3 && memcmp(m.ptr, "GET", 3) == 0) ||
	    (m.len == 4 && memcmp(m.ptr, "HEAD", 4) == 0)) {
		send_simple(req, 200, NULL, "text/html", "Hey! You hit the server \r\n");
	} else if (m.len == 4 && memcmp(m.ptr, "POST", 4) == 0) {
		struct echo *e = calloc(1, sizeof(*e));

		if (e == NULL) {
			send_simple(req, 500, NULL, "text/plain", "out of memory\n");
			return;
		}
		e->s = s;
		e->fd = -1;
		api->on_abort(req, echo_abort, e);
		api->read_body(req, echo_body, e);
	} else if (s->unsupported_status == 503) {
		send_simple(req, 503, "Not Implemented", NULL, NULL);
	} else {
		send_simple(req, 501, NULL, "text/plain", "Not Implemented\n");
	}
}

const struct httpq_module httpq_module = {
	HTTPQ_MODULE_HEAD,
	.name = "sample",
	.version = "1.0",
	.init = sample_init,
	.handle = sample_handle,
	.fini = sample_fini,
	.validate = sample_validate,
};
