/*
 * request.c -- what a module can do with a request: the httpq_api table.
 *
 * Every function runs on the request's worker thread, except post().  A
 * request belongs to its module from handle() until the response ends
 * (or, once aborted, until finish()); calls outside that window fail.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "httpqd.h"

struct hq_defer {
	struct hq_ptimer pt;  /* first: on_defer's argument */
	httpq_request *r;
	httpq_request_cb cb;
	void *arg;
	struct hq_defer *next;
};

static httpq_str
hs(struct hq_str s)
{
	return (httpq_str){ s.n ? s.p : (s.p ? s.p : ""), s.n };
}

static bool
live(const httpq_request *r)
{
	return r->owned && !r->aborted && !r->resp_done;
}

/* --- facts ------------------------------------------------------------------ */

static httpq_str
api_method(httpq_request *r)
{
	return hs(r->head.method);
}

static httpq_str
api_raw_url(httpq_request *r)
{
	return hs(r->head.target);
}

static httpq_str
api_path(httpq_request *r)
{
	return (httpq_str){ r->cooked, r->cooked_len };
}

static httpq_str
api_query(httpq_request *r)
{
	return hs(r->query);
}

static httpq_str
api_host(httpq_request *r)
{
	return hs(r->head.host);
}

static size_t
host_without_port(struct hq_str h)
{
	size_t n = h.n;

	if (n > 0 && h.p[0] == '[') {
		const char *e = memchr(h.p, ']', n);

		return e ? (size_t)(e - h.p) + 1 : n;
	}
	for (size_t i = 0; i < n; i++)
		if (h.p[i] == ':')
			return i;
	return n;
}

/* http.sys's CookedUrl: scheme://host:port/cooked-path?query, built only
 * when a module asks for it. */
static httpq_str
api_cooked_url(httpq_request *r)
{
	struct hq_conn *c = r->c;
	struct hq_str h = r->head.host;
	char local[64];

	if (r->cooked_url == NULL) {
		if (h.n == 0) {
			const struct hq_listen_addr *la = c->la;
			size_t colon = strlen(la->text);

			while (colon > 0 && la->text[colon - 1] != ':')
				colon--;
			snprintf(local, sizeof(local), "%.*s", (int)(colon ? colon - 1 : 0),
			    la->text);
			h = (struct hq_str){ local, strlen(local) };
		}
		r->cooked_url = xasprintf("%s://%.*s:%u%.*s%s%.*s",
		    c->la->https ? "https" : "http", (int)host_without_port(h), h.p,
		    c->la->port, (int)r->cooked_len, r->cooked, r->query.n ? "?" : "",
		    (int)r->query.n, r->query.p ? r->query.p : "");
	}
	return (httpq_str){ r->cooked_url, strlen(r->cooked_url) };
}

static int
api_version(httpq_request *r)
{
	return r->head.version;
}

static httpq_str
api_header(httpq_request *r, const char *name)
{
	size_t n = strlen(name);

	for (size_t i = 0; i < r->head.nheaders; i++) {
		const struct hq_hdr *h = &r->head.headers[i];

		if (h->name.n == n && hq_mem_eq_nocase(h->name.p, name, n))
			return hs(h->value);
	}
	return (httpq_str){ NULL, 0 };
}

static size_t
api_header_count(httpq_request *r)
{
	return r->head.nheaders;
}

static int
api_header_at(httpq_request *r, size_t i, httpq_str *name, httpq_str *value)
{
	if (i >= r->head.nheaders)
		return -1;
	*name = hs(r->head.headers[i].name);
	*value = hs(r->head.headers[i].value);
	return 0;
}

/* Trailers (ABI 1.2): the request's, once its chunked body has ended. */
static httpq_str
api_trailer(httpq_request *r, const char *name)
{
	size_t n = strlen(name);

	for (size_t i = 0; i < r->ntrailers; i++) {
		const struct hq_hdr *h = &r->trailers[i];

		if (h->name.n == n && hq_mem_eq_nocase(h->name.p, name, n))
			return hs(h->value);
	}
	return (httpq_str){ NULL, 0 };
}

static size_t
api_trailer_count(httpq_request *r)
{
	return r->ntrailers;
}

static int
api_trailer_at(httpq_request *r, size_t i, httpq_str *name, httpq_str *value)
{
	if (i >= r->ntrailers)
		return -1;
	*name = hs(r->trailers[i].name);
	*value = hs(r->trailers[i].value);
	return 0;
}

static const struct sockaddr *
api_remote_addr(httpq_request *r, socklen_t *len)
{
	*len = r->c->peerlen;
	return &r->c->peer.sa;
}

static const struct sockaddr *
api_local_addr(httpq_request *r, socklen_t *len)
{
	const struct sockaddr *sa = hq_conn_local(r->c);

	*len = r->c->locallen;
	return sa;
}

static int64_t
api_content_length(httpq_request *r)
{
	if (r->head.chunked)
		return -1;
	return r->head.content_length > 0 ? r->head.content_length : 0;
}

/* Empty for a request that was never routed (a module holding a request
 * after releasing it): never a NULL dereference. */
static httpq_str
api_url_prefix(httpq_request *r)
{
	const char *t = r->route != NULL ? r->route->prefix.text : "";

	return (httpq_str){ t, strlen(t) };
}

static httpq_str
api_url_group(httpq_request *r)
{
	const char *t = r->group != NULL ? r->group->sg->name : "";

	return (httpq_str){ t, strlen(t) };
}

/* --- body ---------------------------------------------------------------------- */

static int
api_read_body(httpq_request *r, httpq_body_cb cb, void *arg)
{
	if (!r->owned || r->aborted || r->body_reading || cb == NULL)
		return -1;
	r->body_reading = true;
	r->body_cb = cb;
	r->body_arg = arg;
	if (r->h2s != NULL) {
		hq_h2_want_body(r);
		hq_conn_kick(r->c);
	} else {
		hq_conn_want_body(r->c);
	}
	return 0;
}

static void
api_pause_body(httpq_request *r, int paused)
{
	r->body_paused = paused != 0;
	if (!paused)
		hq_conn_kick(r->c);
}

/* --- response ------------------------------------------------------------------- */

static void
response_ended(httpq_request *r)
{
	struct hq_conn *c = r->c;

	if (r->h2s != NULL) {
		hq_h2_end(r);
		hq_cache_capture_end(r);
		r->resp_done = true;
		hq_conn_stream_done(r);
		return;
	}
	/* A short body breaks the framing: the connection cannot be reused. */
	if (r->resp_cl >= 0 && r->resp_body < (uint64_t)r->resp_cl && !r->no_body) {
		hq_log(LOG_WARNING, "queue=%s request=%llu: module ended a response "
		    "after %llu of %lld bytes; closing the connection",
		    hq_queue_name(r->group->consumer->queue), (unsigned long long)r->id,
		    (unsigned long long)r->resp_body, (long long)r->resp_cl);
		c->close_after = true;
	}
	if (r->chunked_out && !r->no_body && !r->trailers_sent) {
		static const char last[] = "0\r\n\r\n";

		hq_out_append(c, last, sizeof(last) - 1);
	}
	hq_cache_capture_end(r);
	r->resp_done = true;
	hq_conn_request_done(c);
}

/* Whether a field named name (any of them: lists may be split) holds
 * token tok in its comma-separated list, case-insensitively. */
static bool
has_token(const httpq_request *r, const char *name, const char *tok)
{
	size_t nl = strlen(name), tl = strlen(tok);

	for (size_t i = 0; i < r->head.nheaders; i++) {
		const struct hq_hdr *h = &r->head.headers[i];
		const char *p = h->value.p, *e = p + h->value.n;

		if (h->name.n != nl || !hq_mem_eq_nocase(h->name.p, name, nl))
			continue;
		while (p < e) {
			const char *q = memchr(p, ',', (size_t)(e - p));
			const char *te = q ? q : e;

			while (p < te && (*p == ' ' || *p == '\t'))
				p++;
			while (te > p && (te[-1] == ' ' || te[-1] == '\t'))
				te--;
			if ((size_t)(te - p) == tl && hq_mem_eq_nocase(p, tok, tl))
				return true;
			p = q ? q + 1 : e;
		}
	}
	return false;
}

/*
 * 101 Switching Protocols (ABI 1.4; http.sys's opaque mode): only for an
 * HTTP/1.1 request asking for it (Upgrade, Connection: upgrade) whose body,
 * if any, is read to its end, and a head naming the protocol (Upgrade).
 * Then the connection is the module's byte stream: read_body() again for
 * what the client sends, send_body(MORE) for raw bytes, and the end of the
 * response closes the connection.
 */
static int
send_switch(httpq_request *r, const char *reason, const httpq_header *h, size_t n)
{
	bool named = false;

	for (size_t i = 0; i < n; i++)
		if (h[i].name_len == 7 && hq_mem_eq_nocase(h[i].name, "Upgrade", 7) &&
		    h[i].value_len > 0)
			named = true;
	if (!named || r->head.version != 11 || !r->body_done ||
	    api_header(r, "Upgrade").len == 0 || !has_token(r, "Connection", "upgrade"))
		return -1;
	if (hq_response_switch(r, reason, h, n) < 0)
		return -1;
	hq_cache_capture_drop(r);
	hq_conn_upgrade(r->c);
	return 0;
}

static int
api_send_head(httpq_request *r, int status, const char *reason,
    const httpq_header *headers, size_t n, unsigned flags)
{
	if (!live(r) || r->head_sent)
		return -1;
	if (r->h2s != NULL) {
		if (hq_h2_send_head(r, status, reason, headers, n, flags) < 0)
			return -1;
	} else if (status == 101) {
		return send_switch(r, reason, headers, n);
	} else if (hq_response_head(r, status, reason, headers, n, flags) < 0) {
		return -1;
	}
	hq_cache_capture_head(r, status, reason, headers, n, flags);
	if (!(flags & HTTPQ_SEND_MORE))
		response_ended(r);
	return 0;
}

/* Framing for n more body bytes; -1 if they would overrun Content-Length. */
static int
body_begin(httpq_request *r, uint64_t n, unsigned flags)
{
	if (!live(r) || !r->head_sent)
		return -1;
	if (flags & HTTPQ_SEND_DISCONNECT)
		r->c->close_after = true;
	if (r->head_open)
		hq_response_close_head(r, n, !(flags & HTTPQ_SEND_MORE));
	if (r->resp_cl >= 0 && r->resp_body + n > (uint64_t)r->resp_cl)
		return -1;
	return 0;
}

static void
chunk_size_line(struct hq_conn *c, uint64_t n)
{
	char line[24];
	int len = snprintf(line, sizeof(line), "%llx\r\n", (unsigned long long)n);

	hq_out_append(c, line, (size_t)len);
}

static int
api_send_body(httpq_request *r, const void *data, size_t len, unsigned flags)
{
	struct hq_conn *c = r->c;

	if (r->h2s != NULL) {
		if (hq_h2_send_body(r, data, len, flags) < 0)
			return -1;
		hq_cache_capture_body(r, data, len, flags);
		if (!(flags & HTTPQ_SEND_MORE))
			response_ended(r);
		return 0;
	}
	if (body_begin(r, len, flags) < 0)
		return -1;
	hq_cache_capture_body(r, data, len, flags);
	r->resp_body += len;
	if (!r->no_body && len > 0) {
		if (r->chunked_out)
			chunk_size_line(c, len);
		hq_out_append(c, data, len);
		if (r->chunked_out)
			hq_out_append(c, "\r\n", 2);
	}
	if (!(flags & HTTPQ_SEND_MORE))
		response_ended(r);
	return 0;
}

static int
api_send_file(httpq_request *r, int fd, uint64_t offset, uint64_t len, unsigned flags)
{
	struct hq_conn *c = r->c;

	if (r->h2s != NULL) {
		/* read for the cache before the stream owns (or closes) fd */
		if (r->cap != NULL && r->head_sent && !r->resp_done)
			hq_cache_capture_file(r, fd, offset, len, flags);
		if (hq_h2_send_file(r, fd, offset, len, flags) < 0)
			return -1;
		if (!(flags & HTTPQ_SEND_MORE))
			response_ended(r);
		return 0;
	}
	if (body_begin(r, len, flags) < 0) {
		close(fd);
		return -1;
	}
	hq_cache_capture_file(r, fd, offset, len, flags);
	r->resp_body += len;
	if (r->no_body || len == 0) {
		close(fd);
	} else {
		if (r->chunked_out)
			chunk_size_line(c, len);
		hq_out_file(c, fd, offset, len);
		if (r->chunked_out)
			hq_out_append(c, "\r\n", 2);
	}
	if (!(flags & HTTPQ_SEND_MORE))
		response_ended(r);
	return 0;
}

static int
api_send_trailers(httpq_request *r, const httpq_header *t, size_t n)
{
	struct hq_conn *c = r->c;

	if (r->h2s != NULL) {
		if (hq_h2_send_trailers(r, t, n) < 0)
			return -1;
		if (n > 0)
			hq_cache_capture_drop(r); /* trailers are not kept */
		response_ended(r);
		return 0;
	}
	for (size_t i = 0; i < n; i++)
		if (!hq_http1_field_name_ok(t[i].name, t[i].name_len) ||
		    !hq_http1_field_value_ok(t[i].value, t[i].value_len))
			return -1;
	if (body_begin(r, 0, HTTPQ_SEND_MORE) < 0)
		return -1;
	if (n > 0)
		hq_cache_capture_drop(r); /* trailers are not kept */
	if (r->chunked_out && !r->no_body) {
		hq_out_append(c, "0\r\n", 3);
		for (size_t i = 0; i < n; i++) {
			hq_out_append(c, t[i].name, t[i].name_len);
			hq_out_append(c, ": ", 2);
			hq_out_append(c, t[i].value, t[i].value_len);
			hq_out_append(c, "\r\n", 2);
		}
		hq_out_append(c, "\r\n", 2);
		r->trailers_sent = true;
	}
	response_ended(r);
	return 0;
}

static size_t
api_pending(httpq_request *r)
{
	return r->h2s != NULL ? hq_h2_pending(r) : (size_t)r->c->pending;
}

static void
api_on_writable(httpq_request *r, httpq_request_cb cb, void *arg)
{
	r->writable_cb = cb;
	r->writable_arg = arg;
	hq_conn_kick(r->c);
}

static void
api_on_abort(httpq_request *r, httpq_request_cb cb, void *arg)
{
	r->abort_cb = cb;
	r->abort_arg = arg;
}

void
hq_request_abort(httpq_request *r)
{
	httpq_request_cb cb = r->abort_cb;

	if (r->aborted || !r->owned)
		return;
	r->aborted = true;
	r->abort_cb = NULL;
	if (r->body_reading && !r->body_end_sent && r->body_cb != NULL) {
		r->body_end_sent = true;
		r->body_cb(r, r->body_arg, NULL, 0, HTTPQ_BODY_ERROR);
	}
	if (cb != NULL)
		cb(r, r->abort_arg);
}

static void
api_finish(httpq_request *r)
{
	if (!r->owned)
		return;
	if (!r->aborted && !r->resp_done) {
		/* Finishing without a response: answer 500 for the module, or
		 * close (reset the stream) if its head is already out. */
		if (r->h2s != NULL && !r->head_sent) {
			hq_h2_error(r, HQ_ERR_INTERNAL, NULL);
		} else if (r->h2s != NULL) {
			hq_h2_reset(r, false);
		} else {
			r->c->close_after = true;
			if (!r->head_sent)
				hq_response_error(r->c, HQ_ERR_INTERNAL, NULL);
		}
		hq_request_abort(r);
	}
	if (r->h2s != NULL)
		hq_conn_stream_done(r);
	else
		hq_conn_request_done(r->c);
}

/* --- asynchrony ------------------------------------------------------------------ */

void
hq_request_cancel_defers(httpq_request *r)
{
	struct hq_defer *d, *next;

	for (d = r->defers; d != NULL; d = next) {
		next = d->next;
		hq_ptimer_del(r->c->w, &d->pt);
		free(d);
	}
	r->defers = NULL;
}

static void
defer_unlink(httpq_request *r, struct hq_defer *d)
{
	struct hq_defer **pp;

	for (pp = &r->defers; *pp != NULL; pp = &(*pp)->next)
		if (*pp == d) {
			*pp = d->next;
			return;
		}
}

static void
run_module_cb(httpq_request *r, httpq_request_cb cb, void *arg)
{
	struct hq_conn *c = r->c;

	c->in_callback++;
	cb(r, arg);
	c->in_callback--;
	hq_conn_kick(c);
}

static void
on_defer(struct hq_ptimer *t)
{
	struct hq_defer *d = (struct hq_defer *)t;
	httpq_request *r = d->r;
	httpq_request_cb cb = d->cb;
	void *cbarg = d->arg;

	defer_unlink(r, d);
	free(d);
	run_module_cb(r, cb, cbarg);
}

static int
api_defer(httpq_request *r, uint64_t ms, httpq_request_cb cb, void *arg)
{
	struct hq_defer *d;

	if (!r->owned || cb == NULL)
		return -1;
	d = xcalloc(1, sizeof(*d));
	d->r = r;
	d->cb = cb;
	d->arg = arg;
	d->next = r->defers;
	r->defers = d;
	d->pt.fire = on_defer;
	/* On the precise clock: libevent's coarse one fired 1 ms after 0 to 4 ms. */
	hq_ptimer_set(r->c->w, &d->pt, ms > HQ_PTIMER_MAX_US / 1000 ? HQ_PTIMER_MAX_US : ms * 1000);
	return 0;
}

struct post {
	struct hq_conn *c;
	uint64_t seq;                /* HTTP/2: the request's id */
	httpq_request_cb cb;
	void *arg;
};

/* The connection waits for its posts before it is freed; a post that
 * arrives after its request was released is dropped. */
static void
on_post(void *arg)
{
	struct post *p = arg;
	struct hq_conn *c = p->c;
	httpq_request *r = NULL;

	atomic_fetch_sub(&c->posts, 1);
	if (c->h2 != NULL)
		r = hq_h2_request(c->h2, p->seq);
	else if (c->req_seq == p->seq)
		r = c->req;
	if (r != NULL && r->owned)
		run_module_cb(r, p->cb, p->arg);
	else
		hq_conn_kick(c);
	free(p);
}

static int
api_post(httpq_request *r, httpq_request_cb cb, void *arg)
{
	struct post *p = xmalloc(sizeof(*p));

	p->c = r->c;
	p->seq = r->h2s != NULL ? r->id : r->c->req_seq;
	p->cb = cb;
	p->arg = arg;
	atomic_fetch_add(&r->c->posts, 1);
	if (hq_mailbox_post(&r->c->w->mbox, on_post, p) != 0) {
		atomic_fetch_sub(&r->c->posts, 1);
		free(p);
		return -1;
	}
	return 0;
}

/* --- the table -------------------------------------------------------------------- */

/* ABI 1.3 */
static int
api_cache_policy(httpq_request *r, int policy, uint32_t ttl_s)
{
	if (!live(r) || r->head_sent)
		return -1;
	return hq_cache_mark(r, policy, ttl_s);
}

static const httpq_tls_info *
api_tls_info(httpq_request *r)
{
	return hq_tls_info(r->c);
}

static void
api_set_user_data(httpq_request *r, void *data)
{
	r->user_data = data;
}

static void *
api_user_data(httpq_request *r)
{
	return r->user_data;
}

static uint64_t
api_request_id(httpq_request *r)
{
	return r->id;
}

static uint64_t
api_connection_id(httpq_request *r)
{
	return r->c->id;
}

const struct httpq_api hq_api = {
	.size = sizeof(struct httpq_api),
	.minor = HTTPQ_MODULE_ABI_MINOR,
	.option = hq_api_option,
	.log = hq_api_log,
	.queue_name = hq_api_queue_name,
	.method = api_method,
	.raw_url = api_raw_url,
	.cooked_url = api_cooked_url,
	.path = api_path,
	.query = api_query,
	.host = api_host,
	.version = api_version,
	.header = api_header,
	.header_count = api_header_count,
	.header_at = api_header_at,
	.remote_addr = api_remote_addr,
	.local_addr = api_local_addr,
	.content_length = api_content_length,
	.url_prefix = api_url_prefix,
	.url_group = api_url_group,
	.read_body = api_read_body,
	.pause_body = api_pause_body,
	.send_head = api_send_head,
	.send_body = api_send_body,
	.send_file = api_send_file,
	.pending = api_pending,
	.on_writable = api_on_writable,
	.on_abort = api_on_abort,
	.finish = api_finish,
	.post = api_post,
	.defer = api_defer,
	.send_trailers = api_send_trailers,
	.tls_info = api_tls_info,
	.report = hq_api_report,
	.set_user_data = api_set_user_data,
	.user_data = api_user_data,
	.request_id = api_request_id,
	.connection_id = api_connection_id,
	.trailer = api_trailer,
	.trailer_count = api_trailer_count,
	.trailer_at = api_trailer_at,
	.cache_policy = api_cache_policy,
};
