/*
 * conn.c -- the connection state machine, the hub of the daemon.
 *
 * IDLE -> HEAD -> REQUEST -> (DRAIN) -> IDLE ..., one request at a time, so
 * pipelined requests are answered in order.  The read event is persistent;
 * a read callback parses every complete request in the buffer and their
 * responses leave in one write at the end (conn_after), arming a write event
 * only when the socket would block.  Every entry point (read, write, timer,
 * module callbacks) ends in conn_after(), which continues processing,
 * flushes, sets the one timer the state needs, and frees the connection
 * when it is closed and no module holds its request.
 */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "httpqd.h"

enum timer_kind { T_NONE, T_IDLE, T_HEADER, T_BODY, T_DRAIN, T_SEND };

static void conn_after(struct hq_conn *c);
static void conn_close(struct hq_conn *c, bool reset);
static void conn_destroy(struct hq_conn *c);
static void h2_after(struct hq_conn *c);
static bool h2_detect(struct hq_conn *c);

#define C_TIMER_KIND(c) ((enum timer_kind)(c)->timer_kind)

static const struct hq_timeouts *
conn_timeouts(const struct hq_conn *c)
{
	/* Idle and header-wait belong to the daemon until a first request
	 * has told us which URL group owns the connection (http.sys). */
	if (c->last_group != NULL && c->last_group_gen == c->cfg->generation)
		return &c->last_group->t;
	return &c->cfg->store->timeouts;
}

/* The timeouts and body limit of the request in c->req: its URL group's,
 * or the global ones when the daemon answered it before it was routed
 * (bad Host, bad URL, 404) and only drains its body. */
static const struct hq_timeouts *
req_timeouts(const struct hq_conn *c)
{
	if (c->req->group != NULL)
		return &c->req->group->t;
	return &c->cfg->store->timeouts;
}

static uint64_t
req_max_body(const httpq_request *r)
{
	if (r->group != NULL)
		return r->group->max_body_bytes;
	return HQ_DEFAULT_MAX_BODY_BYTES;
}

static void
timer_set(struct hq_conn *c, enum timer_kind k, uint32_t secs)
{
	c->timer_req = k == T_SEND ? (uint32_t)(c->pending < UINT32_MAX ? c->pending : UINT32_MAX)
	    : (uint32_t)c->nrequests;
	c->timer_kind = k;
	if (k == T_NONE || secs == HQ_TIMEOUT_OFF)
		hq_timer_del(&c->timer);
	else
		hq_timer_set(c->w, &c->timer, secs); /* O(1), re-arms */
}

static uint32_t
send_timeout(const struct hq_conn *c)
{
	return hq_send_timeout_s(c->pending, conn_timeouts(c)->min_send_rate);
}

/*
 * Output queued while none could be written (a client that pipelines and
 * does not read) gets its own time at min_send_rate, as http.sys counts
 * MinSendRate per response: the send timer moves later by what the added
 * bytes allow, still counted from the last byte that moved, so it stays
 * within HQ_SEND_TIMER_MAX_S of it (plus 1 s of rounding per move).
 * Before, it kept the deadline of the few bytes pending at the last
 * progress, and a pipelining client that paused reading for 2 s was cut
 * off (Timer_MinBytesPerSecond) with its requests unread, so reset.
 */
static void
send_timer_extend(struct hq_conn *c)
{
	uint32_t rate = conn_timeouts(c)->min_send_rate;
	uint32_t was = hq_send_timeout_s(c->timer_req, rate);
	uint32_t need = hq_send_timeout_s(c->pending, rate);
	uint64_t now, due;

	if (need == HQ_TIMEOUT_OFF || need <= was || c->timer.next == NULL)
		return;
	due = c->timer.due_us + (uint64_t)(need - was) * 1000000;
	now = hq_mono_us(true);
	hq_timer_set(c->w, &c->timer, due > now ? (uint32_t)((due - now + 999999) / 1000000) : 0);
	c->timer_req = (uint32_t)(c->pending < UINT32_MAX ? c->pending : UINT32_MAX);
}

/* Chooses the one timer this state needs; re-arms only on a change of kind
 * (body and send timers are re-armed on progress by their callers). */
static void
timer_update(struct hq_conn *c)
{
	const struct hq_timeouts *t = conn_timeouts(c);
	httpq_request *r = c->req;
	enum timer_kind want = T_NONE;
	uint32_t secs = 0;
	bool again = false;

	if (c->state == HQ_C_CLOSED) {
		want = T_NONE;
	} else if (c->write_armed) {
		want = T_SEND, secs = send_timeout(c);
	} else if (c->state == HQ_C_IDLE) {
		want = T_IDLE, secs = t->idle_connection;
	} else if (c->state == HQ_C_HEAD) {
		want = T_HEADER, secs = c->cfg->store->timeouts.header_wait;
		if (c->last_group != NULL && c->last_group_gen == c->cfg->generation)
			secs = t->header_wait;
	} else if (c->state == HQ_C_DRAIN) {
		want = T_DRAIN, secs = req_timeouts(c)->drain_entity_body;
	} else if (c->state == HQ_C_OPAQUE) {
		/* An upgraded connection is idle until bytes move either way. */
		want = T_IDLE, secs = t->idle_connection;
		again = r->opaque_mark != r->body_seen + c->bytes_out;
		r->opaque_mark = r->body_seen + c->bytes_out;
	} else if (r->body_reading && !r->body_done && !r->body_paused) {
		want = T_BODY, secs = req_timeouts(c)->entity_body;
	}
	/* Idle and header-wait restart with every request. */
	if (want != C_TIMER_KIND(c) || again ||
	    ((want == T_IDLE || want == T_HEADER) && c->timer_req != (uint32_t)c->nrequests))
		timer_set(c, want, secs);
	else if (want == T_SEND && c->pending > c->timer_req)
		send_timer_extend(c);
}

static void
timer_rearm(struct hq_conn *c, enum timer_kind k, uint32_t secs)
{
	if (C_TIMER_KIND(c) == k)
		timer_set(c, k, secs);
}

/* --- buffers ----------------------------------------------------------- */

/* Whether the module holds c's request (there is none while idle). */
static bool
req_owned(const struct hq_conn *c)
{
	return c->req != NULL && c->req->owned;
}

static void
ibuf_release(struct hq_conn *c)
{
	if (c->ibuf == NULL)
		return;
	if (c->icap == HQ_IBUF_SIZE)
		hq_worker_putbuf(c->w, c->ibuf);
	else
		free(c->ibuf);
	c->ibuf = NULL;
	c->ipos = c->ilen = c->icap = 0;
}

/* A request running (or an upgraded one) keeps its head in ibuf. */
static bool
ibuf_holds_head(const struct hq_conn *c)
{
	return c->state == HQ_C_REQUEST || c->state == HQ_C_OPAQUE;
}

static size_t
ibuf_keep(const struct hq_conn *c)
{
	return ibuf_holds_head(c) ? c->head_base + c->req->head.head_len : 0;
}

static size_t
ibuf_maxcap(const struct hq_conn *c)
{
	size_t maxcap = c->cfg->store->limits.max_request_bytes + 1;

	return ibuf_holds_head(c) ? maxcap + HQ_IBUF_SIZE : maxcap;
}

/* Whether reading can go on: false when the buffer is full of bytes that
 * nobody has consumed yet (a paused or busy module), which stops reading. */
static bool
ibuf_can_grow(const struct hq_conn *c)
{
	return c->ibuf == NULL || c->ilen < c->icap || c->ipos > ibuf_keep(c) ||
	    c->icap < ibuf_maxcap(c);
}

static void
str_rebase(struct hq_str *s, uintptr_t old, size_t len, char *buf)
{
	uintptr_t p = (uintptr_t)s->p;

	if (s->p != NULL && p >= old && p <= old + len)
		s->p = buf + (p - old);
}

/* The running request's head is views into ibuf: when a paused reader
 * (or an upgraded stream) makes ibuf grow, they move with it. */
static void
head_rebase(struct hq_conn *c, uintptr_t old)
{
	httpq_request *r = c->req;
	struct hq_head *h = &r->head;

	str_rebase(&h->method, old, c->ilen, c->ibuf);
	str_rebase(&h->target, old, c->ilen, c->ibuf);
	str_rebase(&h->path, old, c->ilen, c->ibuf);
	str_rebase(&h->host, old, c->ilen, c->ibuf);
	str_rebase(&r->query, old, c->ilen, c->ibuf);
	str_rebase(&r->rid, old, c->ilen, c->ibuf);
	for (size_t i = 0; i < h->nheaders; i++) {
		str_rebase(&h->headers[i].name, old, c->ilen, c->ibuf);
		str_rebase(&h->headers[i].value, old, c->ilen, c->ibuf);
	}
}

/* Makes room at the end of ibuf.  Bytes still referenced (the current head
 * while a request runs) stay in place; unconsumed bytes move down. */
static bool
ibuf_room(struct hq_conn *c)
{
	size_t keep = ibuf_keep(c), maxcap = ibuf_maxcap(c);
	uintptr_t old = (uintptr_t)c->ibuf;

	if (c->ibuf == NULL) {
		size_t cap;

		c->ibuf = hq_worker_getbuf(c->w, &cap);
		c->icap = (uint32_t)cap;
		c->ipos = c->ilen = 0;
		return true;
	}
	if (c->ilen < c->icap)
		return true;
	if (c->ipos > keep) {
		memmove(c->ibuf + keep, c->ibuf + c->ipos, c->ilen - c->ipos);
		c->ilen -= c->ipos - keep;
		c->ipos = keep;
		if (!ibuf_holds_head(c))
			c->head_base = 0;
		return true;
	}
	/* A head may be as long as max_request_bytes: grow for it (the parser
	 * needs one byte more to see it is too long). */
	if (c->icap >= maxcap)
		return false;
	c->icap = c->icap * 2 < maxcap ? c->icap * 2 : maxcap;
	if (c->icap < HQ_IBUF_SIZE * 2)
		c->icap = HQ_IBUF_SIZE * 2;
	c->ibuf = xrealloc(c->ibuf, c->icap);
	if ((uintptr_t)c->ibuf != old && ibuf_holds_head(c))
		head_rebase(c, old);
	return true;
}

static void
read_enable(struct hq_conn *c, bool on)
{
	if (on && c->read_off && !c->peer_eof) {
		event_add(&c->rev, NULL);
		c->read_off = false;
	} else if (!on && !c->read_off) {
		event_del(&c->rev);
		c->read_off = true;
	}
}

/* --- requests ---------------------------------------------------------- */

/* Between requests: the worker's run-time snapshot.  Done as soon as a
 * request ends too, so that an idle connection does not keep an old one
 * (and the consumers of closed handles' queues) alive. */
static void
conn_switch_rt(struct hq_conn *c)
{
	if (c->rt == c->w->rt)
		return;
	/* The last URL group may be a run-time one of the old snapshot. */
	if (c->last_group != NULL && c->last_group->rt != NULL)
		c->last_group = NULL;
	hq_rt_ref(c->w->rt);
	hq_rt_unref(c->rt);
	c->rt = c->w->rt;
}

static void
conn_switch_config(struct hq_conn *c)
{
	conn_switch_rt(c);
	if (c->cfg == c->w->cfg)
		return;
	hq_config_ref(c->w->cfg);
	hq_config_unref(c->cfg);
	c->cfg = c->w->cfg;
}

const struct sockaddr *
hq_conn_local(struct hq_conn *c)
{
	return hq_listen_local(c->la, c->fd, &c->local, &c->locallen);
}

/* --- log lines (written by logfile.c from an hq_logrec) ------------------------ */

static void
rec_init(struct hq_conn *c, const httpq_request *r, struct hq_logrec *rec)
{
	memset(rec, 0, sizeof(*rec));
	rec->client = &c->peer.sa;
	rec->server = hq_conn_local(c);
	if (r == NULL)
		return;
	rec->method = r->head.method;
	rec->target = r->head.target;
	rec->host = r->head.host;
	rec->query = r->query;
	rec->version = r->head.version;
	rec->headers = r->head.headers;
	rec->nheaders = r->head.nheaders;
	rec->request_id = r->id;
	rec->request_id_text = r->rid;
	if (r->group != NULL)
		rec->site = r->group->sg->name;
}

/* Bytes sent for r: its share of the connection's output (HTTP/1.1), or
 * its stream's frames. */
static uint64_t
req_bytes_out(const struct hq_conn *c, const httpq_request *r)
{
	return r->h2s != NULL ? hq_h2_bytes_out(r) : c->bytes_out - r->out_mark;
}

static void
access_log(struct hq_conn *c, const httpq_request *r)
{
	struct hq_logrec rec;
	uint64_t now = hq_now_ms();

	rec_init(c, r, &rec);
	rec.status = r->status;
	rec.bytes_sent = req_bytes_out(c, r);
	rec.body_sent = r->resp_body;
	rec.bytes_recv = r->head.head_len + r->body_seen;
	rec.time_taken_ms = r->started_ms && now > r->started_ms ? now - r->started_ms : 0;
	if (r->group->consumer != NULL && r->group->consumer->queue != NULL)
		rec.queue = hq_queue_name(r->group->consumer->queue);
	hq_log_access(c->w, r->group->alog, &rec);
}

/* At the end of a request of a URL group with an access log. */
void
hq_access_log(struct hq_conn *c)
{
	access_log(c, c->req);
}

/* A daemon-made response or a dropped request, to the HTTPERR log. */
static void
errlog(struct hq_conn *c, const httpq_request *r, enum hq_error e, const char *reason,
    const char *queue)
{
	struct hq_logrec rec;

	rec_init(c, r, &rec);
	rec.status = e == HQ_OK ? 0 : hq_errinfo(e)->status;
	rec.reason = reason ? reason : hq_errinfo(e)->reason;
	rec.queue = queue;
	hq_log_httperr(c->w, c->cfg->errlog, &rec);
}

void
hq_errlog(struct hq_conn *c, enum hq_error e, const char *reason, const char *queue)
{
	errlog(c, c->req, e, reason, queue);
}

/* Counters of a daemon-made answer: its 503 reason; a broken head that was
 * never framed never reaches conn_next, so it is counted here. */
static void
conn_count_error(struct hq_conn *c, const httpq_request *r, enum hq_error e)
{
	enum hq_stat_503 why = hq_stats_503_of(e);
	unsigned slot = r->group ? r->group->slot : 0;

	if (why != HQ_S503_N)
		hq_stats_503(c->w->stats, slot, why);
	if (r->started_us == 0)
		hq_stats_request(c->w->stats, 0, hq_errinfo(e)->status,
		    c->ilen - c->ipos, 0, 0, 0);
}

/* A daemon-made answer to r (or to a broken head): on its stream, or on
 * the connection. */
static void
req_error(struct hq_conn *c, httpq_request *r, enum hq_error e, const struct hq_queue *q)
{
	bool reset = false;

	if (q != NULL && e != HQ_ERR_INTERNAL &&
	    hq_errinfo(e)->status == 503 && hq_queue_verbosity(q) == HQ_503_BASIC)
		reset = true;
	errlog(c, r, e, NULL, q ? hq_queue_name(q) : NULL);
	conn_count_error(c, r, e);
	r->resp_done = true;
	r->owned = false;
	if (r->h2s != NULL) {
		/* http.sys's basic verbosity resets: here only the stream. */
		if (reset)
			hq_h2_reset(r, true);
		else
			hq_h2_error(r, e, q ? hq_queue_name(q) : NULL);
		return;
	}
	if (reset) {
		/* http.sys's default: no answer, the connection is reset. */
		conn_close(c, true);
		return;
	}
	hq_response_error(c, e, q ? hq_queue_name(q) : NULL);
	if (hq_errinfo(e)->close)
		c->close_after = true;
}

static void
conn_error(struct hq_conn *c, enum hq_error e, const struct hq_queue *q)
{
	req_error(c, c->req, e, q);
}

static struct hq_reqblock *
reqblock(httpq_request *r)
{
	return (struct hq_reqblock *)r;
}

/* The parser found more fields than the array holds (up to max_headers). */
static bool
hdrs_grow(struct hq_head *h, size_t need)
{
	struct hq_reqblock *b = h->grow_arg;

	if (b->hdrs == b->hdrs0) {
		b->hdrs = xmalloc(need * sizeof(*b->hdrs));
		memcpy(b->hdrs, b->hdrs0, b->hdr_cap * sizeof(*b->hdrs));
	} else {
		b->hdrs = xrealloc(b->hdrs, need * sizeof(*b->hdrs));
	}
	b->hdr_cap = need;
	h->headers = b->hdrs;
	h->hdr_cap = need;
	return true;
}

/* A head with many fields does not leave its array behind. */
static void
reqblock_hdrs_trim(struct hq_reqblock *b)
{
	if (b->hdrs != b->hdrs0)
		free(b->hdrs);
	b->hdrs = b->hdrs0;
	b->hdr_cap = HQ_HDRS_INITIAL;
}

/* c->req, with what it grew, back to the worker's pool. */
static void
reqblock_put(struct hq_conn *c)
{
	struct hq_reqblock *b = reqblock(c->req);

	c->req = NULL;
	if (b == NULL)
		return;
	reqblock_hdrs_trim(b);
	if (b->cooked != b->cooked0)
		free(b->cooked);
	hq_worker_put(c->w, HQ_POOL_REQ, b);
}

/* Frees what the request in c->req owns. */
static void
request_clear(struct hq_conn *c)
{
	httpq_request *r = c->req;

	hq_request_cancel_defers(r);
	hq_cache_capture_drop(r);
	free(r->cooked_url);
	free(r->tr_raw);
	free(r->trailers);
}

/* A fresh request in c->req, from the pool when the connection was idle. */
static void
request_reset(struct hq_conn *c)
{
	httpq_request *r = c->req;

	struct hq_reqblock *b;

	if (r != NULL) {
		request_clear(c);
		b = reqblock(r);
		reqblock_hdrs_trim(b);
	} else {
		b = hq_worker_get(c->w, HQ_POOL_REQ);
		r = c->req = &b->r;
		b->hdrs = b->hdrs0;
		b->hdr_cap = HQ_HDRS_INITIAL;
		b->cooked = b->cooked0;
		b->cooked_cap = HQ_COOKED_INITIAL;
	}
	c->req_seq++;
	memset(r, 0, sizeof(*r));
	r->c = c;
	r->head.headers = b->hdrs;
	r->head.hdr_cap = b->hdr_cap;
	r->head.grow = hdrs_grow;
	r->head.grow_arg = b;
	r->resp_cl = -1;
	r->out_mark = c->bytes_out;
}

/* Room for a cooked path of n bytes: the request block's buffer, or for a
 * stream (many at once) one of its own (freed with it, by h2.c). */
static char *
cooked_buf(httpq_request *r, size_t n, size_t *cap)
{
	struct hq_reqblock *b = reqblock(r);

	if (r->h2s != NULL) {
		*cap = n + 64;
		return xmalloc(*cap);
	}
	if (b->cooked_cap < n + 2) {
		if (b->cooked != b->cooked0)
			free(b->cooked);
		b->cooked_cap = n + 64;
		b->cooked = xmalloc(b->cooked_cap);
	}
	*cap = b->cooked_cap;
	return b->cooked;
}

static bool
cook_path(struct hq_conn *c, httpq_request *r)
{
	struct hq_str p = r->head.path;
	enum hq_error e;
	char *buf;
	size_t cap;

	if (r->head.asterisk_form)
		p = HQ_STR("/");
	buf = cooked_buf(r, p.n, &cap);
	e = hq_url_cook(p.p, p.n, &c->cfg->store->limits, buf, cap,
	    &r->cooked_len, &r->query);
	r->cooked = buf;
	/* "http://host?q" has no path for the parser to point at: the
	 * query is still in the target. */
	if (e == HQ_OK && r->head.absolute_form && r->query.n == 0) {
		const char *q = memchr(r->head.target.p, '?', r->head.target.n);

		if (q != NULL)
			r->query = (struct hq_str){ q + 1,
			    (size_t)(r->head.target.p + r->head.target.n - q - 1) };
	}
	if (e == HQ_OK)
		return true;
	req_error(c, r, e, NULL);
	return false;
}

/* The connection counts in the URL group its requests go to (http.sys
 * counts a connection against the group it serves); false, leaving it
 * counted nowhere, when the group has max_connections already. */
static void
conn_leave_group(struct hq_conn *c)
{
	if (c->gslot != 0)
		hq_group_conn_put(hq_stats_shared(c->gslot));
	c->gslot = 0;
}

static bool
conn_join_group(struct hq_conn *c, const struct hq_group *g)
{
	if (c->gslot == g->slot)
		return true;
	conn_leave_group(c);
	if (!hq_group_conn_take(hq_stats_shared(g->slot)))
		return false;
	c->gslot = g->slot;
	return true;
}

/* A front proxy's id, if the group trusts its header and it is sane: it
 * goes into the logs and the response header instead of the numeric id
 * (api->request_id() stays numeric). */
static void
trusted_id(httpq_request *r, const char *name)
{
	size_t n = strlen(name);

	for (size_t i = 0; i < r->head.nheaders; i++) {
		const struct hq_hdr *h = &r->head.headers[i];

		if (h->name.n == n && hq_mem_eq_nocase(h->name.p, name, n)) {
			if (hq_request_id_ok(h->value.p, h->value.n))
				r->rid = h->value;
			return;
		}
	}
}

static bool
route(struct hq_conn *c, httpq_request *r)
{
	const struct sockaddr *local = NULL;
	enum hq_error e = HQ_OK;

	struct hq_str path = { r->cooked, r->cooked_len };

	if (c->cfg->has_ip_bound || (c->rt != NULL && c->rt->has_ip_bound))
		local = hq_conn_local(c);
	r->route = hq_router_match(c->cfg->router, c->la->https, c->la->port, local,
	    r->head.host, path, &e);
	/* Run-time registrations (attached processes) compete by http.sys's
	 * precedence; YAML wins a tie. */
	if (c->rt != NULL && hq_router_count(c->rt->router) > 0) {
		enum hq_error ert = HQ_OK;
		const struct hq_route *rt = hq_router_match(c->rt->router,
		    c->la->https, c->la->port, local, r->head.host, path, &ert);

		r->route = hq_route_pick(r->route, e, rt, ert, &e);
	}
	if (r->route == NULL) {
		req_error(c, r, e, NULL);
		return false;
	}
	r->group = r->route->owner;
	if (r->group->sg->trust_request_id != NULL)
		trusted_id(r, r->group->sg->trust_request_id);
	/* http.sys's state and QoS properties of the URL group. */
	if (r->group->sg->state == HQ_GROUP_DISABLED) {
		req_error(c, r, HQ_ERR_DISABLED, NULL);
		return false;
	}
	if (!conn_join_group(c, r->group)) {
		req_error(c, r, HQ_ERR_CONN_LIMIT, NULL);
		return false;
	}
	c->last_group = r->group;
	c->last_group_gen = c->cfg->generation;
	return true;
}

static bool
admit(struct hq_conn *c, httpq_request *r)
{
	const struct hq_consumer *k = r->group->consumer;
	enum hq_error e;

	if (r->head.content_length > 0 &&
	    (uint64_t)r->head.content_length > req_max_body(r)) {
		req_error(c, r, HQ_ERR_ENTITY_TOO_LARGE, NULL);
		return false;
	}
	if (k == NULL) {
		req_error(c, r, HQ_ERR_UNBOUND, NULL);
		return false;
	}
	if (c->w->draining) {
		hq_queue_reject(k->queue);
		req_error(c, r, HQ_ERR_SHUTDOWN, k->queue);
		return false;
	}
	if (k->ctx == NULL) {
		/* an attach queue: nothing to serve it yet */
		hq_queue_reject(k->queue);
		req_error(c, r, HQ_ERR_NO_CONSUMER, k->queue);
		return false;
	}
	e = hq_queue_admit(k->queue);
	if (e != HQ_OK) {
		req_error(c, r, e, k->queue);
		return false;
	}
	return true;
}

/* The request's id and clocks, once it is framed. */
static void
request_stamp(struct hq_conn *c, httpq_request *r)
{
	c->nrequests++;
	r->id = hq_worker_request_id(c->w);
	r->started_ms = hq_now_ms();
	r->started_us = hq_mono_us(false);
	r->no_body = hq_str_eq_nocase(r->head.method, "HEAD");
}

/* Routed and admitted: the module has it. */
static void
request_handle(httpq_request *r)
{
	const struct hq_consumer *k = r->group->consumer;

	r->owned = true;
	k->ctx->mod->handle(k->ctx->state, r);
}

/* A complete head is at ibuf[ipos]: take its framing. */
static void
request_frame(struct hq_conn *c, size_t head_len)
{
	httpq_request *r = c->req;

	c->head_base = c->ipos;
	c->ipos += head_len;
	c->scanned = 0;
	c->state = HQ_C_REQUEST;
	request_stamp(c, r);
	r->has_body = r->head.chunked || r->head.content_length > 0;
	r->body_done = !r->has_body;
	r->body_left = r->head.content_length > 0 ? r->head.content_length : 0;
	if (r->head.chunked)
		hq_chunked_init(&r->chunked);
	if (!r->head.keep_alive)
		c->close_after = true;
}

/* Routes the framed request and hands it to its module. */
static void
request_start(struct hq_conn *c, size_t head_len)
{
	httpq_request *r = c->req;

	request_frame(c, head_len);
	if (c->over_limit) {
		conn_error(c, HQ_ERR_CONN_LIMIT, NULL); /* and close */
		return;
	}
	if (!cook_path(c, r) || !route(c, r) || hq_cache_serve(c, r, hq_response_stored) ||
	    !admit(c, r))
		return;
	request_handle(r);
}


static bool
conn_parse(struct hq_conn *c)
{
	httpq_request *r = c->req;
	size_t scanned;
	int rc;

	if (c->ipos == c->ilen) {
		c->state = HQ_C_IDLE;
		return false;
	}
	if (c->state == HQ_C_IDLE) {
		c->state = HQ_C_HEAD;
		conn_switch_config(c);
		request_reset(c);
		r = c->req;
	}
	scanned = c->scanned;
	rc = hq_http1_parse_head(c->ibuf + c->ipos, c->ilen - c->ipos, &scanned,
	    &c->cfg->store->limits, &r->head);
	c->scanned = (uint32_t)scanned;
	if (rc == 0)
		return false;
	if (rc < 0) {
		enum hq_error e = r->head.error;

		/* A bad Host leaves the framing known: answer, skip the body,
		 * keep the connection.  Anything else loses the framing. */
		if (r->head.head_len > 0 && !hq_errinfo(e)->close) {
			request_frame(c, r->head.head_len);
			conn_error(c, e, NULL);
			return true;
		}
		c->state = HQ_C_REQUEST;
		c->close_after = true;
		conn_error(c, e, NULL);
		return false;
	}
	request_start(c, (size_t)rc);
	return true;
}

/* --- request body ------------------------------------------------------- */

static void
body_deliver(httpq_request *r, const char *p, size_t n, unsigned flags)
{
	if (r->body_reading && r->body_cb != NULL && !r->aborted)
		r->body_cb(r, r->body_arg, p, n, flags);
}

static void
body_fail(struct hq_conn *c, enum hq_error e)
{
	httpq_request *r = c->req;

	r->body_error = true;
	r->body_done = true;
	c->close_after = true;
	if (!r->head_sent && r->owned) {
		hq_errlog(c, e, NULL, NULL);
		hq_response_error(c, e, NULL);
	}
	if (r->owned)
		hq_request_abort(r);
}

/*
 * Keeps the trailer section a decode call consumed, buf[from..used): the
 * decoder bounds it by max_request_bytes, max_field_length and max_headers,
 * as a head is bounded.  Once the body has ended it is split into fields
 * for api->trailer() (P-TRAILER-1); they are freed with the request.
 */
static void
trailers_keep(httpq_request *r, const char *buf, size_t from, size_t used,
    bool done)
{
	if (from < used) {
		size_t n = used - from;

		if (r->tr_cap - r->tr_len < n) {
			r->tr_cap = r->tr_len + n + 256;
			r->tr_raw = xrealloc(r->tr_raw, r->tr_cap);
		}
		memcpy(r->tr_raw + r->tr_len, buf + from, n);
		r->tr_len += n;
	}
	if (done && r->tr_len > 0 && r->trailers == NULL) {
		size_t n = hq_http1_trailers(r->tr_raw, r->tr_len, NULL, 0);

		if (n == 0)
			return;
		r->trailers = xmalloc(n * sizeof(*r->trailers));
		r->ntrailers = hq_http1_trailers(r->tr_raw, r->tr_len, r->trailers, n);
	}
}

/* Hands buffered body bytes to the module (or discards them in DRAIN). */
static void
body_feed(struct hq_conn *c)
{
	httpq_request *r = c->req;
	bool discard = c->state == HQ_C_DRAIN;
	uint64_t before = r->body_seen;

	while (!r->body_done && c->ipos < c->ilen && !c->closed &&
	    (discard || (r->body_reading && !r->body_paused))) {
		const char *data = NULL;
		size_t n = 0;
		bool done = false;

		if (r->head.chunked) {
			enum hq_error e = HQ_OK;
			ssize_t used = hq_chunked_decode(&r->chunked, c->ibuf + c->ipos,
			    c->ilen - c->ipos, &data, &n, &done,
			    &c->cfg->store->limits, &e);

			if (used < 0) {
				body_fail(c, e);
				return;
			}
			if (used == 0 && !done)
				break;
			if (!discard)
				trailers_keep(r, c->ibuf + c->ipos, r->chunked.tr_from,
				    (size_t)used, done);
			c->ipos += (size_t)used;
		} else {
			n = c->ilen - c->ipos;
			if ((int64_t)n > r->body_left)
				n = (size_t)r->body_left;
			data = c->ibuf + c->ipos;
			c->ipos += n;
			r->body_left -= (int64_t)n;
			done = r->body_left == 0;
		}
		r->body_seen += n;
		if (r->body_seen > req_max_body(r)) {
			body_fail(c, HQ_ERR_ENTITY_TOO_LARGE);
			return;
		}
		r->body_done = done;
		r->body_end_sent = done;
		if (!discard && (n > 0 || done))
			body_deliver(r, data, n, done ? HTTPQ_BODY_END : 0);
	}
	if (r->body_seen != before)
		timer_rearm(c, c->state == HQ_C_DRAIN ? T_DRAIN : T_BODY,
		    c->state == HQ_C_DRAIN ? req_timeouts(c)->drain_entity_body :
		    req_timeouts(c)->entity_body);
	/* A request with no body still gets its one END call. */
	if (!r->has_body && r->body_reading && !r->body_end_sent && !discard) {
		r->body_end_sent = true;
		body_deliver(r, NULL, 0, HTTPQ_BODY_END);
	}
}

void
hq_conn_want_body(struct hq_conn *c)
{
	httpq_request *r = c->req;
	static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";

	if (r->head.expect_continue && r->has_body && !r->continue_sent &&
	    r->head.version == 11 && !r->head_sent) {
		r->continue_sent = true;
		hq_out_append(c, cont, sizeof(cont) - 1);
	}
	hq_conn_kick(c);
}

/* --- upgraded connections (101) --------------------------------------------- */

/* What the client sent, raw, to the module: all that is buffered in one
 * call, then the end at its FIN. */
static void
opaque_feed(struct hq_conn *c)
{
	httpq_request *r = c->req;

	if (!r->owned || !r->body_reading || r->body_paused || r->aborted ||
	    r->body_end_sent)
		return;
	if (c->ipos < c->ilen) {
		const char *p = c->ibuf + c->ipos;
		size_t n = c->ilen - c->ipos;

		c->ipos = c->ilen;
		r->body_seen += n;
		body_deliver(r, p, n, 0);
	}
	/* The callback may have ended the response (and released r). */
	if (c->peer_eof && c->ipos == c->ilen && !c->closed && r->owned &&
	    !r->body_paused && !r->aborted && !r->body_end_sent) {
		r->body_end_sent = true;
		body_deliver(r, NULL, 0, HTTPQ_BODY_END);
	}
}

void
hq_conn_upgrade(struct hq_conn *c)
{
	httpq_request *r = c->req;

	c->state = HQ_C_OPAQUE;
	c->close_after = true; /* never another request */
	(void)hq_conn_local(c); /* for the log line, written after the close */
	r->upgraded = true;
	r->head_open = r->no_body = r->chunked_out = false;
	r->close_delimited = true;
	r->resp_cl = -1;
	/* A new reader takes the stream (the request body, if any, is read).
	 * body_done stays set: what follows is no request body (body_feed
	 * leaves it alone); body_end_sent tells when the stream ended. */
	r->has_body = r->body_done = true;
	r->body_reading = r->body_paused = r->body_end_sent = false;
	r->continue_sent = true;
	r->body_cb = NULL;
	r->body_arg = NULL;
	r->body_seen = 0;
	r->opaque_mark = 0;
	timer_set(c, T_NONE, 0);
}

/* --- moving on ------------------------------------------------------------ */

/* A request answered: its URL group's counters (stats.c). */
static void
conn_count(struct hq_conn *c, const httpq_request *r)
{
	uint64_t now = hq_mono_us(false);
	uint64_t total = now - r->started_us;
	uint64_t ttfb = r->head_us > r->started_us ? r->head_us - r->started_us : total;

	hq_stats_request(c->w->stats, r->group ? r->group->slot : 0, r->status,
	    r->head.head_len + r->body_seen, req_bytes_out(c, r), ttfb, total);
}

/* An upgraded connection's one log line, at its end: 101, bytes both ways. */
static void
opaque_log(struct hq_conn *c)
{
	conn_count(c, c->req);
	if (c->req->group != NULL && c->req->group->alog != NULL)
		hq_access_log(c);
}

static void
conn_next(struct hq_conn *c)
{
	httpq_request *r = c->req;

	/* A client told to wait for 100-continue may never send the body. */
	if (r->has_body && !r->body_done && r->head.expect_continue && !r->continue_sent)
		c->close_after = true;
	if (!r->body_done && !c->close_after) {
		c->state = HQ_C_DRAIN;
		return;
	}
	conn_count(c, r);
	if (r->group != NULL && r->group->alog != NULL)
		hq_access_log(c);
	request_reset(c);
	conn_switch_rt(c);
	c->state = HQ_C_IDLE;
	c->head_base = c->ipos;
}

/* Whether so much output is unsent that no further pipelined request
 * starts: a client that sends and never reads must not make the daemon
 * hold every answer (nginx and h2o also wait for one response to leave). */
static bool
out_full(const struct hq_conn *c)
{
	return c->pending >= HQ_OUT_PIPELINE_MAX;
}

/* Between requests: the next one waits for unsent output to go out. */
static bool
parse_blocked(const struct hq_conn *c)
{
	return (c->state == HQ_C_IDLE || c->state == HQ_C_HEAD) && !c->closed &&
	    !c->close_after && out_full(c);
}

/* Handles what the input holds.  True when it stopped because of unsent
 * output with pipelined input left: call again once the output drains. */
static bool
conn_process(struct hq_conn *c)
{
	for (;;) {
		httpq_request *r = c->req;

		if (c->closed)
			return false;
		if (c->state == HQ_C_IDLE || c->state == HQ_C_HEAD) {
			if (parse_blocked(c))
				return c->ipos < c->ilen;
			if (c->close_after || !conn_parse(c))
				return false;
			continue;
		}
		body_feed(c);
		if (c->closed)
			return false;
		if (c->state == HQ_C_REQUEST) {
			if (!r->resp_done || r->owned)
				return false;
			conn_next(c);
			if (c->state == HQ_C_DRAIN)
				continue;
		} else if (c->state == HQ_C_DRAIN) {
			if (!r->body_done)
				return false;
			conn_next(c);
		} else if (c->state == HQ_C_OPAQUE) {
			opaque_feed(c);
			return false;
		}
		if (c->close_after)
			return false;
	}
}

/* --- events --------------------------------------------------------------- */

/* TLS: the handshake comes before the first head.  False while it is not
 * finished (or when it failed and the connection is closed). */
static bool
tls_ready(struct hq_conn *c)
{
	int rc;

	c->tls_rww = false;
	hq_tls_readable(c);
	if (!c->tls_hs)
		return true;
	rc = hq_tls_handshake(c);
	if (rc < 0)
		conn_close(c, false);
	return rc > 0;
}

/* read() or SSL_read(): with TLS, takes what OpenSSL holds decrypted as
 * far as the buffer goes (no read event would announce it). */
static ssize_t
conn_recv(struct hq_conn *c)
{
	ssize_t n, got = 0;

	if (c->ssl == NULL)
		return read(c->fd, c->ibuf + c->ilen, c->icap - c->ilen);
	do {
		n = hq_tls_read(c, c->ibuf + c->ilen + got, c->icap - c->ilen - (size_t)got);
		if (n > 0)
			got += n;
	} while (n > 0 && c->ilen + (size_t)got < c->icap && hq_tls_pending(c));
	/* Stopped by a full buffer with bytes still inside OpenSSL. */
	c->tls_more = n > 0 && hq_tls_pending(c);
	return got > 0 ? got : n;
}

static void
on_read(evutil_socket_t fd, short what, void *arg)
{
	struct hq_conn *c = arg;
	ssize_t n;

	c->in_callback++;
	/* After a FIN only the buffer is left: a parse resumed (conn_after). */
	if (c->peer_eof)
		goto out;
	if (c->ssl != NULL && !tls_ready(c))
		goto out;
	if (!ibuf_room(c)) {
		read_enable(c, false);
		goto out;
	}
	n = conn_recv(c);
	if (n > 0) {
		c->ilen += (size_t)n;
		if (!c->h2_tried && !h2_detect(c))
			goto out;
		if (c->h2 != NULL) {
			if (hq_h2_recv(c->h2, c->ibuf + c->ipos, c->ilen - c->ipos) < 0)
				c->close_after = true;
			c->ipos = c->ilen = 0;
		} else {
			conn_process(c);
		}
	} else if (n < 0 && errno != EAGAIN && errno != EINTR) {
		/* A reset: the client is gone, whatever it asked for.  A held
		 * request is aborted (and frees its queue slot). */
		if (c->state != HQ_C_IDLE)
			hq_errlog(c, HQ_OK, "Connection_Dropped", NULL);
		c->peer_eof = true; /* nothing to linger for */
		conn_close(c, false);
	} else if (n == 0) {
		/* A client may half-close after pipelined requests and still
		 * want their answers: those go out, then the connection
		 * closes (conn_after).  A FIN with nothing more to answer
		 * is a client gone, as http.sys's HttpWaitForDisconnect
		 * says: a held request is aborted, as on a reset, so that
		 * its module learns it and its queue slot is freed. */
		c->peer_eof = true;
		read_enable(c, false);
		if (c->state == HQ_C_REQUEST && !c->req->body_done) {
			body_fail(c, HQ_ERR_BAD_REQUEST);
			conn_close(c, false);
		} else if (c->state == HQ_C_REQUEST && c->req->owned &&
		    !c->req->resp_done && c->ipos == c->ilen) {
			hq_errlog(c, HQ_OK, "Connection_Dropped", NULL);
			conn_close(c, false);
		} else if (c->state == HQ_C_DRAIN) {
			c->close_after = true;
		}
	}
out:
	c->in_callback--;
	conn_after(c);
}

static void
on_write(evutil_socket_t fd, short what, void *arg)
{
	struct hq_conn *c = arg;

	if (c->ssl != NULL && c->tls_rww) {
		on_read(fd, EV_READ, arg); /* TLS wrote what it needed to read on */
		return;
	}
	conn_after(c);
}

void
hq_conn_timeout(struct hq_timer *t)
{
	struct hq_conn *c = (struct hq_conn *)((char *)t - offsetof(struct hq_conn, timer));
	enum timer_kind k = C_TIMER_KIND(c);
	static const char *const reason[] = {
		[T_IDLE] = "Timer_ConnectionIdle", [T_HEADER] = "Timer_HeaderWait",
		[T_BODY] = "Timer_EntityBody", [T_DRAIN] = "Timer_EntityBody",
		[T_SEND] = "Timer_MinBytesPerSecond",
	};

	if (c->lingering) {
		conn_destroy(c); /* quiet for HQ_LINGER_IDLE_S, or at the cap */
		return;
	}
	c->timer_kind = T_NONE;
	c->in_callback++;
	if (k != T_IDLE)
		hq_errlog(c, HQ_OK, reason[k], NULL);
	if (req_owned(c))
		hq_request_abort(c->req);
	conn_close(c, false);
	c->in_callback--;
	conn_after(c);
}

/*
 * Between requests, with nothing received or left to send, a connection
 * keeps only its struct and events: the request (reset by conn_next, or
 * cleared by conn_free), buffers, segments, header array and cooked path
 * go back to the worker's pools, and come back with its next bytes (nginx
 * and h2o do the same).
 */
static void
conn_release(struct hq_conn *c)
{
	reqblock_put(c);
	ibuf_release(c);
	hq_out_reset(c);
	if (c->wev != NULL && !c->write_armed) {
		hq_worker_put(c->w, HQ_POOL_EVENT, c->wev);
		c->wev = NULL;
	}
}

/* The write event is made the first time a write would block (most
 * connections never need one) and given back with the buffers. */
static void
write_arm(struct hq_conn *c, bool on)
{
	if (on && c->wev == NULL) {
		c->wev = hq_worker_get(c->w, HQ_POOL_EVENT);
		event_assign(c->wev, c->w->base, c->fd, EV_WRITE | EV_PERSIST, on_write, c);
	}
	if (on && !c->write_armed)
		event_add(c->wev, NULL);
	else if (!on && c->write_armed)
		event_del(c->wev);
	c->write_armed = on;
}

/* The end of a connection: its struct, and its socket if a lingering
 * close kept it. */
static void
conn_destroy(struct hq_conn *c)
{
	hq_worker_unlink(c->w, c);
	hq_timer_del(&c->timer);
	if (c->fd >= 0) {
		event_del(&c->rev);
		close(c->fd);
	}
	free(c);
}

/*
 * Lingering close.  A close() with unread input makes Linux send a RST
 * instead of a FIN, and a RST makes the client lose what it has not read
 * yet of the answer (curl: "Connection reset by peer" instead of a 413),
 * or fail its send of the rest of the body before it reads the answer.
 * So when the client may still be sending, conn_close sends a FIN
 * (shutdown) after the answer and keeps the socket; once the connection
 * has given back everything else (conn_free) it reads and discards the
 * client's bytes into a pooled buffer, and closes when the client does,
 * when it goes quiet, or at the cap, whichever comes first.  A lingering
 * connection holds no request, buffer, queue slot, group or snapshot; it
 * still counts as a connection (it holds a socket, as in nginx), and a
 * drain or shutdown ends it at once.
 */
static void
on_linger(evutil_socket_t fd, short what, void *arg)
{
	struct hq_conn *c = arg;
	uint32_t now, left;
	size_t cap;
	char *buf = hq_worker_getbuf(c->w, &cap);
	ssize_t n = -1;
	bool got = false;

	for (int i = 0; i < HQ_LINGER_READS; i++) {
		n = read(fd, buf, cap);
		if (n > 0)
			got = true;
		if (n < (ssize_t)cap)
			break; /* drained for now; a level event says if more comes */
	}
	hq_worker_putbuf(c->w, buf);
	now = (uint32_t)(hq_mono_us(true) / 1000000);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR) ||
	    now >= c->linger_until) {
		conn_destroy(c);
		return;
	}
	if (got) {
		left = c->linger_until - now;
		hq_timer_set(c->w, &c->timer, left < HQ_LINGER_IDLE_S ? left : HQ_LINGER_IDLE_S);
	}
}

static bool
linger_start(struct hq_conn *c)
{
	c->lingering = true;
	c->linger_until = (uint32_t)(hq_mono_us(true) / 1000000) + HQ_LINGER_MAX_S;
	event_assign(&c->rev, c->w->base, c->fd, EV_READ | EV_PERSIST, on_linger, c);
	if (event_add(&c->rev, NULL) < 0)
		return false;
	hq_timer_set(c->w, &c->timer, HQ_LINGER_IDLE_S);
	return true;
}

/* Whether the client may still be sending as the daemon closes: bytes
 * unread in the buffer, a request body not read to its end, or HTTP/2
 * (frames may be on their way after the GOAWAY; not after a flood or a
 * protocol error, which are cut).  Not after its FIN, nor
 * with output unsent (a close that gives up on the client), nor while the
 * worker drains. */
static bool
input_pending(const struct hq_conn *c)
{
	if (c->peer_eof || c->pending > 0 || c->w->draining)
		return false;
	if (c->h2 != NULL)
		return hq_h2_lingers(c->h2);
	if (c->ipos < c->ilen)
		return true;
	return c->req != NULL && !c->req->body_done &&
	    (c->state == HQ_C_REQUEST || c->state == HQ_C_DRAIN);
}

static void
conn_free(struct hq_conn *c)
{
	if (c->req != NULL && c->req->upgraded)
		opaque_log(c);
	if (c->h2 != NULL) {
		hq_h2_free(c->h2);
		c->h2 = NULL;
		hq_stats_h2_conn(c->w->stats, false);
	}
	if (c->req != NULL)
		request_clear(c);
	conn_release(c);
	hq_tls_conn_free(c);
	hq_timer_del(&c->timer);
	if (c->bwev != NULL)
		event_free(c->bwev);
	c->bwev = NULL;
	hq_config_unref(c->cfg);
	hq_rt_unref(c->rt);
	c->cfg = NULL;
	c->rt = NULL;
	if (c->linger && linger_start(c))
		return;
	conn_destroy(c);
}

static void
conn_close(struct hq_conn *c, bool reset)
{
	if (c->closed)
		return;
	if (c->h2 != NULL && !reset) {
		/* GOAWAY, as far as the socket takes it now */
		hq_h2_close(c->h2);
		if (hq_h2_send(c->h2) == 0)
			(void)hq_out_flush(c, UINT64_MAX);
	}
	c->linger = !reset && input_pending(c);
	c->closed = true;
	c->state = HQ_C_CLOSED;
	conn_leave_group(c);
	event_del(&c->rev);
	write_arm(c, false);
	timer_set(c, T_NONE, 0);
	if (reset) {
		struct linger lg = { 1, 0 };

		setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	}
	hq_tls_conn_close(c, reset);
	/* The answer (and TLS's close_notify) is out: a FIN, and the socket
	 * stays for the lingering close (conn_free). */
	if (c->linger && shutdown(c->fd, SHUT_WR) < 0)
		c->linger = false;
	if (!c->linger) {
		close(c->fd);
		c->fd = -1;
	}
	hq_out_reset(c);
	if (req_owned(c) && !c->req->resp_done)
		hq_request_abort(c->req);
	if (c->h2 != NULL)
		hq_h2_close(c->h2); /* its requests are aborted by h2_after */
}

/* The bandwidth timer: the group's bucket has bytes again. */
static void
on_bw_timer(evutil_socket_t fd, short what, void *arg)
{
	conn_after(arg);
}

/* The share of the pending output that the URL group's bandwidth limit
 * lets out now (UINT64_MAX without one); 0 arms the bandwidth timer. */
static uint64_t
bw_budget(struct hq_conn *c, struct hq_gshared **g)
{
	uint64_t wait_us, n;
	struct timeval tv;

	*g = NULL;
	if (c->gslot == 0)
		return UINT64_MAX;
	*g = hq_stats_shared(c->gslot);
	if (atomic_load_explicit(&(*g)->rate, memory_order_relaxed) == 0) {
		*g = NULL;
		return UINT64_MAX;
	}
	if (c->bwev != NULL && evtimer_pending(c->bwev, NULL))
		return 0;
	n = hq_bw_take(*g, c->pending, &wait_us);
	if (n == 0) {
		tv.tv_sec = (time_t)(wait_us / 1000000);
		tv.tv_usec = (suseconds_t)(wait_us % 1000000);
		if (c->bwev == NULL)
			c->bwev = evtimer_new(c->w->base, on_bw_timer, c);
		if (c->bwev == NULL || evtimer_add(c->bwev, &tv) < 0)
			return c->pending; /* no timer: unthrottled rather than stuck */
	}
	return n;
}

static void
conn_flush(struct hq_conn *c)
{
	uint64_t before = c->pending, budget;
	struct hq_gshared *g;

	if (c->pending == 0 || c->closed)
		return;
	budget = bw_budget(c, &g);
	if (budget == 0)
		return; /* the bandwidth timer goes on */
	if (hq_out_flush(c, budget) < 0) {
		if (g != NULL)
			hq_bw_refund(g, (int64_t)budget);
		if (req_owned(c))
			hq_request_abort(c->req);
		conn_close(c, false);
		return;
	}
	if (g != NULL) {
		hq_bw_refund(g, (int64_t)budget - (int64_t)(before - c->pending));
		/* The share is out and more waits: the timer, not the
		 * write event (the socket is writable; the bucket is not). */
		if (c->pending > 0 && before - c->pending >= budget) {
			if (c->write_armed)
				write_arm(c, false);
			conn_flush(c);
			return;
		}
	}
	if (c->pending > 0 && !c->write_armed)
		write_arm(c, true);
	else if (c->pending == 0 && c->write_armed)
		write_arm(c, false);
	if (c->pending != before && c->write_armed)
		timer_rearm(c, T_SEND, send_timeout(c));
}

static void
notify_writable(struct hq_conn *c)
{
	httpq_request *r = c->req;
	httpq_request_cb cb = r->writable_cb;

	if (cb == NULL || !r->owned || r->aborted || c->pending >= HQ_OUT_LOWAT)
		return;
	r->writable_cb = NULL;
	c->in_callback++;
	cb(r, r->writable_arg);
	c->in_callback--;
}

/*
 * TLS: once per turn, what OpenSSL wrote (a handshake flight, a session
 * ticket, responses, a close_notify) leaves the connection's BIO in one
 * write (tls_conn.c); what the socket does not take waits for a write
 * event, counted in c->pending.
 */
static void
tls_flush(struct hq_conn *c)
{
	if (!hq_tls_unsent(c))
		return;
	if (hq_out_tls_flush(c) < 0) {
		if (req_owned(c))
			hq_request_abort(c->req);
		conn_close(c, false);
	} else if (c->pending > 0 && !c->write_armed) {
		write_arm(c, true);
	}
}

/* A close with everything answered.  TLS: the close_notify goes out with
 * the last bytes the BIO holds, and the socket is closed once they are
 * out (a later turn, when the socket was full). */
static void
conn_end(struct hq_conn *c)
{
	if (c->ssl != NULL) {
		hq_tls_shutdown(c);
		c->in_callback++;
		tls_flush(c);
		c->in_callback--;
		if (c->closed || c->pending > 0)
			return;
	}
	conn_close(c, false);
}

/* TLS: a write event while OpenSSL must write to go on reading; a read
 * event made by hand for bytes OpenSSL already holds. */
static void
tls_events(struct hq_conn *c)
{
	if (c->tls_rww && !c->write_armed)
		write_arm(c, true);
	else if (!c->tls_rww && c->pending == 0 && c->write_armed)
		write_arm(c, false);
	if (!c->read_off && c->tls_more)
		event_active(&c->rev, EV_READ, 1);
}

static void
conn_after(struct hq_conn *c)
{
	bool blocked = false;

	if (c->h2 != NULL) {
		h2_after(c);
		return;
	}
	if (c->in_callback > 0)
		return;
	c->in_callback++;
	for (int round = 0; round < 4; round++) {
		blocked = conn_process(c);
		conn_flush(c);
		if (c->closed)
			break;
		if (c->req != NULL && c->req->writable_cb != NULL &&
		    c->pending < HQ_OUT_LOWAT)
			notify_writable(c);
		else if (!blocked || out_full(c))
			break;
	}
	c->in_callback--;
	/* Pipelined requests wait while the output drained in the last
	 * round: go on from the event loop, after the other connections. */
	if (blocked && !c->closed && !out_full(c))
		event_active(&c->rev, EV_READ, 1);
	if (!c->closed && c->pending == 0) {
		bool between = !ibuf_holds_head(c) ||
		    (c->req->resp_done && !c->req->owned) ||
		    (c->state == HQ_C_OPAQUE && !c->req->owned);

		if (c->close_after && between) {
			conn_end(c);
		} else if (c->peer_eof && !blocked &&
		    (c->state == HQ_C_IDLE || c->state == HQ_C_HEAD)) {
			/* Everything answered; a head cut short by the FIN
			 * is a dropped request. */
			if (c->state == HQ_C_HEAD)
				hq_errlog(c, HQ_OK, "Connection_Dropped", NULL);
			conn_end(c);
		}
		else if (c->state == HQ_C_IDLE && c->ipos == c->ilen)
			conn_release(c);
	}
	if (!c->closed && c->ssl != NULL) {
		c->in_callback++; /* an abort's callback must not free c */
		tls_flush(c);
		c->in_callback--;
	}
	if (!c->closed) {
		/* Stop reading too while output waits: the client's requests
		 * stay in the socket buffers, and TCP slows it down. */
		read_enable(c, ibuf_can_grow(c) && !parse_blocked(c));
		if (c->ssl != NULL)
			tls_events(c);
		timer_update(c);
		return;
	}
	if (!req_owned(c) && atomic_load(&c->posts) == 0)
		conn_free(c);
}

/* --- HTTP/2 ------------------------------------------------------------------ */

/* h2.c's way up (struct hq_h2_ops): a stream's request goes the way of an
 * HTTP/1.1 one, through the same route(), admit() and error paths. */
static void
stream_start(struct hq_conn *c, httpq_request *r)
{
	request_stamp(c, r);
	hq_stats_h2_request(c->w->stats);
	if (r->head.error != HQ_OK) {
		req_error(c, r, r->head.error, NULL);
		return;
	}
	if (c->over_limit) {
		req_error(c, r, HQ_ERR_CONN_LIMIT, NULL);
		c->close_after = true; /* GOAWAY */
		return;
	}
	if (!cook_path(c, r) || !route(c, r) || hq_cache_serve(c, r, hq_h2_stored) ||
	    !admit(c, r))
		return;
	request_handle(r);
}

static void
stream_abort(httpq_request *r)
{
	if (!r->owned || r->aborted)
		return;
	if (!r->resp_done)
		errlog(r->c, r, HQ_OK, "Connection_Dropped", NULL);
	hq_request_abort(r);
}

static void
stream_body_fail(struct hq_conn *c, httpq_request *r, enum hq_error e)
{
	r->body_error = true;
	r->body_done = true;
	if (!r->head_sent && r->owned) {
		errlog(c, r, e, NULL, NULL);
		hq_h2_error(r, e, NULL);
	}
	if (r->owned)
		hq_request_abort(r);
}

static void
stream_log(struct hq_conn *c, httpq_request *r)
{
	conn_count(c, r);
	if (r->group != NULL && r->group->alog != NULL)
		access_log(c, r);
}

static const struct hq_h2_ops h2_ops = {
	.start = stream_start,
	.abort = stream_abort,
	.body_fail = stream_body_fail,
	.done = stream_log,
};

/* hq_conn_giveup on a stream: true if it was refused (a 503). */
static bool
stream_giveup(struct hq_conn *c, httpq_request *r, enum hq_error e, const char *reason,
    struct hq_queue *q)
{
	bool refused = false;

	if (e != HQ_OK && !r->head_sent && !r->aborted && !c->closed) {
		errlog(c, r, e, reason, hq_queue_name(q));
		refused = hq_errinfo(e)->status == 503;
		if (hq_queue_verbosity(q) == HQ_503_BASIC && refused)
			hq_h2_reset(r, true);
		else
			hq_h2_error(r, e, hq_queue_name(q));
	} else {
		if (!r->aborted)
			errlog(c, r, HQ_OK, reason, hq_queue_name(q));
		if (!r->resp_done)
			hq_h2_reset(r, false);
	}
	return refused;
}

/* Worker stop: a module that did not finish an aborted stream. */
static void
stream_forget(struct hq_conn *c, httpq_request *r)
{
	r->owned = false;
	if (r->group != NULL && r->group->consumer != NULL)
		hq_queue_complete(r->group->consumer->queue);
	hq_request_cancel_defers(r);
	hq_h2_release(r);
}

/*
 * HTTP/2 or not, decided once, on the first bytes: ALPN said h2 (TLS), or
 * they are the client preface and h2c is on (prior knowledge).  False
 * while the first bytes could still be a preface.  Its first 18 bytes
 * decide: with them HTTP/1.1 would see a whole head ("PRI * HTTP/2.0") and
 * answer 505; fewer cannot end a head.
 */
static bool
h2_detect(struct hq_conn *c)
{
	static const char preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
	size_t have = c->ilen - c->ipos, n = have < 24 ? have : 24;
	bool h2;

	if (c->ssl != NULL)
		h2 = hq_tls_alpn_h2(c);
	else if (!c->cfg->store->http2.cleartext ||
	    memcmp(c->ibuf + c->ipos, preface, n) != 0)
		h2 = false;
	else if (have < 18)
		return false;
	else
		h2 = true;
	c->h2_tried = true;
	if (h2) {
		c->state = HQ_C_IDLE; /* a head begun as HTTP/1.1 was the preface */
		c->h2 = hq_h2_new(c, &h2_ops);
		hq_stats_h2_conn(c->w->stats, true);
	}
	return true;
}

/* The one timer of an HTTP/2 connection: the send timer while output
 * waits (on the socket, or on the client's flow control), header_wait
 * while a head is incomplete, entity_body while a module waits for a
 * body, idle_connection without streams. */
static void
h2_timer(struct hq_conn *c)
{
	const struct hq_timeouts *t = conn_timeouts(c);
	bool progress;
	enum hq_h2_wait w = hq_h2_waiting(c->h2, &progress);
	enum timer_kind want = T_NONE;
	uint32_t secs = 0;

	if (c->write_armed)
		want = T_SEND, secs = send_timeout(c);
	else if (w == HQ_H2_W_IDLE)
		want = T_IDLE, secs = t->idle_connection;
	else if (w == HQ_H2_W_HEAD)
		want = T_HEADER, secs = t->header_wait;
	else if (w == HQ_H2_W_BODY)
		want = T_BODY, secs = t->entity_body;
	else if (w == HQ_H2_W_SEND)
		want = T_SEND, secs = hq_send_timeout_s(hq_h2_queued(c->h2), t->min_send_rate);
	if (want != C_TIMER_KIND(c) || (progress && (want == T_BODY || want == T_SEND)))
		timer_set(c, want, secs);
}

/* conn_after for HTTP/2: run the streams, frame, write; close when the
 * session is over; free when no stream is left. */
static void
h2_after(struct hq_conn *c)
{
	struct hq_h2 *h = c->h2;
	bool more = false;

	if (c->in_callback > 0)
		return;
	/* Between streams, a reload's snapshot (routing, limits), as
	 * HTTP/1.1 between requests. */
	if (hq_h2_streams(h) == 0 && !c->closed)
		conn_switch_config(c);
	c->in_callback++;
	for (int round = 0; !c->closed; round++) {
		bool ran = hq_h2_run(h);

		if (c->close_after)
			hq_h2_drain(h);
		if (hq_h2_send(h) < 0)
			c->close_after = true;
		conn_flush(c);
		if (!ran && (c->pending > 0 || !hq_h2_want_write(h)) &&
		    !hq_h2_writable(h))
			break;
		if (round == 8) {
			/* Fair to the other connections: go on from the
			 * event loop, after them. */
			more = c->pending == 0;
			break;
		}
	}
	/* An HTTP/2 client does not half-close: a FIN is a client gone. */
	if (!c->closed && c->peer_eof)
		conn_close(c, false);
	else if (!c->closed && c->pending == 0 && hq_h2_over(h))
		conn_end(c);
	if (!c->closed && c->ssl != NULL)
		tls_flush(c);
	if (c->closed)
		hq_h2_run(h); /* the aborts; the streams done with go */
	c->in_callback--;
	/* Without streams or output, an idle HTTP/2 connection gives its
	 * buffers back, as an HTTP/1.1 one does between requests. */
	if (!c->closed && c->pending == 0 && hq_h2_streams(h) == 0) {
		ibuf_release(c);
		hq_out_reset(c);
	}
	if (!c->closed) {
		read_enable(c, c->pending < HQ_OUT_PIPELINE_MAX && hq_h2_readable(h));
		if (c->ssl != NULL)
			tls_events(c);
		h2_timer(c);
		if (more)
			event_active(&c->rev, EV_READ, 1);
		return;
	}
	if (hq_h2_streams(h) == 0 && atomic_load(&c->posts) == 0)
		conn_free(c);
}

void
hq_conn_kick(struct hq_conn *c)
{
	conn_after(c);
}

void
hq_conn_stream_done(httpq_request *r)
{
	struct hq_conn *c = r->c;

	r->owned = false;
	hq_queue_complete(r->group->consumer->queue);
	hq_request_cancel_defers(r);
	hq_h2_release(r);
	conn_after(c);
}

void
hq_conn_request_done(struct hq_conn *c)
{
	httpq_request *r = c->req;

	r->owned = false;
	hq_queue_complete(r->group->consumer->queue);
	hq_request_cancel_defers(r);
	conn_after(c);
}

/*
 * A consumer gives back a request it owns (attach.c: its process died, the
 * request waited too long in the queue, the process cancelled it).  Not
 * answered yet and e given: the daemon answers e as admission would (reset
 * at verbosity basic), else the connection closes (reset when asked).
 * HTTPERR gets reason.  The request is released: after the call it is
 * gone.  No abort callback runs (the consumer knows).
 */
void
hq_conn_giveup(httpq_request *r, enum hq_error e, const char *reason, bool reset)
{
	struct hq_conn *c = r->c;
	struct hq_queue *q = r->group->consumer->queue;
	bool refused = false;

	if (!r->owned)
		return;
	c->in_callback++;
	r->abort_cb = NULL;
	r->writable_cb = NULL;
	r->body_cb = NULL;
	if (r->h2s != NULL) {
		refused = stream_giveup(c, r, e, reason, q);
	} else if (e != HQ_OK && !r->head_sent && !r->aborted && !c->closed) {
		hq_errlog(c, e, reason, hq_queue_name(q));
		refused = hq_errinfo(e)->status == 503;
		if (hq_queue_verbosity(q) == HQ_503_BASIC && refused)
			conn_close(c, true);
		else
			hq_response_error(c, e, hq_queue_name(q));
	} else {
		if (!r->aborted)
			hq_errlog(c, HQ_OK, reason, hq_queue_name(q));
		r->resp_done = true;
		c->close_after = true;
		/* What is queued of a started response goes out first (best
		 * effort, non-blocking): the client sees it cut short rather
		 * than nothing. */
		if (!c->closed && r->head_sent && !reset)
			(void)hq_out_flush(c, UINT64_MAX);
		conn_close(c, reset && !r->head_sent);
	}
	r->resp_done = true;
	r->owned = false;
	if (refused)
		hq_queue_complete_rejected(q);
	else
		hq_queue_complete(q);
	hq_request_cancel_defers(r);
	if (r->h2s != NULL)
		hq_h2_release(r);
	c->in_callback--;
	conn_after(c);
}

void
hq_conn_accept(struct hq_worker *w, const struct hq_listen_addr *la, int fd,
    const struct sockaddr *peer, socklen_t peerlen)
{
	struct hq_conn *c = xcalloc(1, sizeof(*c));

	/* With Nagle and a split head/body write, a request took 40 ms:
	 * fd has TCP_NODELAY from its listener (listener.c), and the
	 * listener accepted it non-blocking already (accept4). */
	c->w = w;
	c->id = hq_worker_next_id(w, &w->nconn_ids);
	c->la = la;
	c->fd = fd;
	if (peerlen > sizeof(c->peer))
		peerlen = sizeof(c->peer);
	memcpy(&c->peer, peer, peerlen);
	c->peerlen = peerlen;
	if (!la->wildcard && la->addrlen <= sizeof(c->local)) {
		memcpy(&c->local, &la->addr, la->addrlen);
		c->locallen = la->addrlen;
	}
	hq_config_ref(w->cfg);
	c->cfg = w->cfg;
	hq_rt_ref(w->rt);
	c->rt = w->rt;
	/* server.max_connections: the connection is taken, and its first
	 * request answered 503 ConnLimit (a client told, not reset). */
	if (c->cfg->store->max_connections != 0 &&
	    hq_workers_connections() >= c->cfg->store->max_connections)
		c->over_limit = true;
	c->tls_bind = -1;
	if (la->https && (c->cfg->tls == NULL || hq_tls_conn_new(c, c->cfg->tls) < 0)) {
		/* No binding covers the port (the store refuses that) or no memory. */
		hq_tls_conn_free(c);
		if (c->ssl != NULL)
			hq_tls_conn_close(c, true);
		hq_config_unref(c->cfg);
		hq_rt_unref(c->rt);
		close(fd);
		free(c);
		return;
	}
	event_assign(&c->rev, w->base, fd, EV_READ | EV_PERSIST, on_read, c);
	hq_worker_link(w, c);
	/* The request is most often there already: read it before asking
	 * epoll.  A connection answered and closed here never enters the
	 * epoll set (no EPOLL_CTL_ADD, then no DEL); conn_after() adds the
	 * read event when it has to wait, and may free c. */
	c->read_off = true;
	on_read(fd, EV_READ, c);
}

void
hq_conn_drain(struct hq_conn *c)
{
	if (c->lingering) {
		conn_destroy(c);
		return;
	}
	c->close_after = true;
	if (c->h2 != NULL) {
		hq_h2_drain(c->h2); /* GOAWAY; open streams finish */
		conn_after(c);
		return;
	}
	if (c->state == HQ_C_IDLE || c->state == HQ_C_HEAD) {
		c->in_callback++;
		conn_close(c, false);
		c->in_callback--;
	}
	conn_after(c);
}

void
hq_conn_abort(struct hq_conn *c, const char *why)
{
	if (c->lingering) {
		conn_destroy(c);
		return;
	}
	c->in_callback++;
	if (req_owned(c) && !c->req->aborted)
		hq_errlog(c, HQ_OK, "Connection_Abandoned", NULL);
	conn_close(c, false);
	c->in_callback--;
	if (c->h2 != NULL)
		hq_h2_each_owned(c->h2, stream_forget);
	if (req_owned(c)) {
		/* The module did not finish an aborted request: give up on it. */
		c->req->owned = false;
		if (c->req->group && c->req->group->consumer)
			hq_queue_complete(c->req->group->consumer->queue);
	}
	conn_after(c);
}
