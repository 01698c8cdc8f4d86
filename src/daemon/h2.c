/*
 * h2.c -- HTTP/2 on a connection (RFC 9113), with nghttp2: the session,
 * and one stream per request.
 *
 * conn.c reads into its buffer and hands the bytes to hq_h2_recv; frames
 * leave through the connection's output queue (hq_h2_send appends what
 * nghttp2_session_mem_send makes to c->out, bounded by HQ_H2_OUT_MAX), so
 * TLS, bandwidth limits and the send timer are the connection's.  Each
 * stream owns an httpq_request (from the worker's pool), its header
 * bytes, the request body bytes not yet taken (at most the stream's window:
 * nghttp2's manual flow control, WINDOW_UPDATE as the module takes them) and
 * its response queue (bytes and file ranges, read by the DATA provider).
 *
 * nghttp2's callbacks only record: requests start, bodies are delivered,
 * aborts and on_writable run from hq_h2_run (conn_after), never inside
 * nghttp2, so a module may call anything from them.  Reaching up (start a
 * request, abort one, log one) goes through the ops conn.c hands down.
 *
 * A stream object lives until its request is released (the module
 * finished, or never had it) and nghttp2 has closed the stream (or the
 * connection is gone); it counts against max_concurrent_streams until then,
 * so resets cannot run more module work at once than the limit.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nghttp2/nghttp2.h>

#include "httpqd.h"

#define HQ_H2_OUT_MAX   (64 * 1024) /* frames made ahead of the socket */
#define HQ_H2_CHATTY_MAX 5000       /* PING/SETTINGS/WINDOW_UPDATE/PRIORITY/empty DATA per second */
#define HQ_H2_INVALID_MAX 100       /* invalid frames per connection */

/* A header field as received: offsets into the stream's header bytes (the
 * buffer may move while the block arrives). */
struct h2hdr {
	uint32_t name, nlen, value, vlen;
};

/* A run of the response queue: bytes of obuf (fd -1) or a file range. */
struct h2seg {
	int fd;
	uint64_t off, len;
};

struct hq_h2s {
	struct hq_h2 *h;
	httpq_request *r;
	int32_t id;
	struct hq_h2s *next;
	/* request head, then trailers, as received: their bytes in two
	 * buffers (the head's must not move once the request started) */
	struct hq_buf hb, tb;
	struct h2hdr *hf;
	size_t nhf, hfcap;
	size_t ntr_from;              /* hf[ntr_from..]: trailers */
	uint64_t hsize;               /* decoded bytes, RFC 9113 6.5.2 */
	struct h2hdr method, path, authority, scheme;
	enum hq_error herr;           /* the head is refused with it */
	/* request body bytes not yet delivered */
	char *ib;
	size_t iblen, ibcap;
	/* response queue */
	struct hq_buf ob;
	struct h2seg *segs;
	size_t nsegs, seg0, capsegs;
	uint64_t queued;              /* response bytes not yet framed */
	struct nvb *held;             /* a head waiting for its framing */
	nghttp2_nv *tnv;              /* trailers to send, or NULL */
	size_t ntnv;
	char *tbuf;
	uint64_t wire_out;            /* frame bytes of this stream */
	bool in_trailers : 1;         /* the HEADERS being received are trailers */
	bool ready : 1;               /* head complete: to start */
	bool started : 1;
	bool body_end : 1;            /* END_STREAM received */
	bool body_over : 1;           /* over the URL group's max_body_bytes */
	bool has_data : 1;            /* a DATA provider is attached */
	bool deferred : 1;            /* it said NGHTTP2_ERR_DEFERRED */
	bool eof : 1;                 /* the response is complete */
	bool abort_pending : 1;
	bool closed : 1;              /* nghttp2 closed the stream */
	bool released : 1;            /* the module gave its request back */
};

struct hq_h2 {
	struct hq_conn *c;
	nghttp2_session *s;
	const struct hq_h2_ops *ops;
	struct hq_h2s *streams, *tail;
	size_t nstreams;              /* stream objects alive */
	uint32_t max_streams, max_hlist;
	/* the header block being received: wire bytes and CONTINUATIONs */
	uint64_t hblock;
	unsigned ncont;
	/* floods, counted per second */
	uint64_t win_ms;
	unsigned nrst, nchatty, ninvalid;
	bool goaway : 1;              /* GOAWAY submitted */
	bool calmed : 1;              /* a flood: GOAWAY, read no more */
	bool dead : 1;                /* the session failed: close */
	bool progress : 1;            /* DATA received or sent since asked */
};

static void head_drop(struct hq_h2s *s);

static struct hq_h2s *
stream_of(struct hq_h2 *h, int32_t id)
{
	return nghttp2_session_get_stream_user_data(h->s, id);
}

static void
calm(struct hq_h2 *h, const char *why)
{
	if (!h->goaway)
		hq_log(LOG_NOTICE, "connection=%llu: HTTP/2 %s: GOAWAY ENHANCE_YOUR_CALM",
		    (unsigned long long)h->c->id, why);
	nghttp2_session_terminate_session(h->s, NGHTTP2_ENHANCE_YOUR_CALM);
	h->goaway = true;
	h->calmed = true;
}

/* Counters of the current second; true when one went over. */
static void
window_tick(struct hq_h2 *h)
{
	uint64_t now = hq_now_ms();

	if (now - h->win_ms >= 1000) {
		h->win_ms = now;
		h->nrst = h->nchatty = 0;
	}
}

/* --- header fields ------------------------------------------------------ */

static uint32_t
hb_put(struct hq_h2s *s, const uint8_t *p, size_t n)
{
	struct hq_buf *b = s->in_trailers ? &s->tb : &s->hb;
	uint32_t at = (uint32_t)b->len;

	if (b->cap - b->len < n) {
		b->cap = (b->len + n) * 2 + 256;
		if (b->cap < 1024)
			b->cap = 1024; /* most heads: one malloc */
		b->p = xrealloc(b->p, b->cap);
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
	return at;
}

/* A name or value of the head (or, trailer, of the trailers). */
static struct hq_str
hv(const struct hq_h2s *s, struct h2hdr f, bool name, bool trailer)
{
	const char *base = trailer ? s->tb.p : s->hb.p;

	if (name)
		return (struct hq_str){ base + f.name, f.nlen };
	return (struct hq_str){ f.vlen ? base + f.value : "", f.vlen };
}

static bool
is_pseudo(const uint8_t *n, size_t len, const char *lit)
{
	return len == strlen(lit) && memcmp(n, lit, len) == 0;
}

/* A field of a request head or trailer section, checked against the
 * limits of `limits:` and http2.max_header_list_size (431). */
static void
header_take(struct hq_h2s *s, const uint8_t *n, size_t nlen, const uint8_t *v,
    size_t vlen)
{
	const struct hq_limits *lim = &s->h->c->cfg->store->limits;
	struct h2hdr f;

	s->hsize += nlen + vlen + 32;
	if (s->herr != HQ_OK)
		return;
	if (s->hsize > s->h->max_hlist || s->hsize > lim->max_request_bytes + 32 * 64) {
		s->herr = HQ_ERR_REQUEST_TOO_LONG;
		return;
	}
	if (nlen > 0 && n[0] == ':' && !s->in_trailers) {
		struct h2hdr *to = is_pseudo(n, nlen, ":method") ? &s->method :
		    is_pseudo(n, nlen, ":path") ? &s->path :
		    is_pseudo(n, nlen, ":authority") ? &s->authority :
		    is_pseudo(n, nlen, ":scheme") ? &s->scheme : NULL;

		if (to == &s->path && vlen > lim->max_url_length)
			s->herr = HQ_ERR_URL_TOO_LONG;
		if (to != NULL && s->herr == HQ_OK)
			*to = (struct h2hdr){ 0, 0, hb_put(s, v, vlen), (uint32_t)vlen };
		return;
	}
	if (nlen + vlen + 2 > lim->max_field_length) {
		s->herr = HQ_ERR_FIELD_TOO_LONG;
		return;
	}
	if (s->nhf - (s->in_trailers ? s->ntr_from : 0) >= lim->max_headers) {
		s->herr = HQ_ERR_REQUEST_TOO_LONG;
		return;
	}
	if (s->nhf == s->hfcap) {
		s->hfcap = s->hfcap ? s->hfcap * 2 : 16;
		s->hf = xrealloc(s->hf, s->hfcap * sizeof(*s->hf));
	}
	f.name = hb_put(s, n, nlen);
	f.nlen = (uint32_t)nlen;
	f.value = hb_put(s, v, vlen);
	f.vlen = (uint32_t)vlen;
	s->hf[s->nhf++] = f;
}

static bool
parse_len(struct hq_str v, int64_t *out)
{
	int64_t x = 0;

	if (v.n == 0 || v.n > 18)
		return false;
	for (size_t i = 0; i < v.n; i++) {
		if (v.p[i] < '0' || v.p[i] > '9')
			return false;
		x = x * 10 + (v.p[i] - '0');
	}
	*out = x;
	return true;
}

/* The request head as an HTTP/1.1 parser would have left it: Host first
 * (from :authority), the fields as sent (lower case), version 20. */
static void
head_build(struct hq_h2s *s)
{
	httpq_request *r = s->r;
	struct hq_head *hd = &r->head;
	struct hq_hdr *out;
	size_t k = 0;
	bool host = s->authority.vlen > 0;

	out = xcalloc(s->nhf + 1, sizeof(*out));
	if (host)
		out[k++] = (struct hq_hdr){ HQ_STR("host"), hv(s, s->authority, false, false) };
	hd->content_length = -1;
	for (size_t i = 0; i < s->nhf; i++) {
		struct hq_hdr f = { hv(s, s->hf[i], true, false), hv(s, s->hf[i], false, false) };

		if (f.name.n == 4 && memcmp(f.name.p, "host", 4) == 0) {
			if (host)
				continue;
			host = true;
		}
		if (f.name.n == 14 && memcmp(f.name.p, "content-length", 14) == 0 &&
		    !parse_len(f.value, &hd->content_length))
			s->herr = HQ_ERR_BAD_CONTENT_LENGTH;
		if (f.name.n == 6 && memcmp(f.name.p, "expect", 6) == 0 &&
		    f.value.n == 12 && hq_mem_eq_nocase(f.value.p, "100-continue", 12))
			hd->expect_continue = true;
		out[k++] = f;
	}
	hd->headers = out;
	hd->hdr_cap = s->nhf + 1;
	hd->nheaders = k;
	for (size_t i = 0; i < k; i++)
		if (out[i].name.n == 4 && memcmp(out[i].name.p, "host", 4) == 0) {
			hd->host = out[i].value;
			break;
		}
	hd->method = hv(s, s->method, false, false);
	hd->target = hv(s, s->path, false, false);
	hd->path = hd->target;
	hd->version = 20;
	hd->keep_alive = true;
	hd->head_len = (size_t)s->hsize;
	/* No Content-Length and a body to come: its length is unknown, as
	 * for chunked (api->content_length() says -1). */
	hd->chunked = !s->body_end && hd->content_length < 0;
	if (hd->target.n == 1 && hd->target.p[0] == '*')
		hd->asterisk_form = true;
	if (s->herr == HQ_OK && (hd->method.n == 0 || hd->target.n == 0 ||
	    (hd->target.p[0] != '/' && !hd->asterisk_form)))
		s->herr = HQ_ERR_BAD_URL;
	if (s->herr == HQ_OK && !host)
		s->herr = HQ_ERR_BAD_HOST;
	if (s->herr == HQ_OK && s->body_end && hd->content_length > 0)
		s->herr = HQ_ERR_BAD_CONTENT_LENGTH;
	hd->error = s->herr;
	s->ntr_from = s->nhf;
}

/* The trailer section, once END_STREAM came with it. */
static void
trailers_build(struct hq_h2s *s)
{
	httpq_request *r = s->r;
	size_t n = s->nhf - s->ntr_from;

	if (n == 0 || r->trailers != NULL)
		return;
	r->trailers = xcalloc(n, sizeof(*r->trailers));
	for (size_t i = 0; i < n; i++)
		r->trailers[i] = (struct hq_hdr){ hv(s, s->hf[s->ntr_from + i], true, true),
			hv(s, s->hf[s->ntr_from + i], false, true) };
	r->ntrailers = n;
}

/* --- nghttp2 callbacks ------------------------------------------------------- */

static struct hq_h2s *
stream_new(struct hq_h2 *h, int32_t id)
{
	struct hq_conn *c = h->c;
	struct hq_h2s *s = xcalloc(1, sizeof(*s));
	httpq_request *r = hq_worker_get(c->w, HQ_POOL_REQ);

	memset(r, 0, sizeof(*r));
	r->c = c;
	r->h2s = s;
	r->resp_cl = -1;
	s->h = h;
	s->r = r;
	s->id = id;
	if (h->tail != NULL)
		h->tail->next = s;
	else
		h->streams = s;
	h->tail = s;
	h->nstreams++;
	nghttp2_session_set_stream_user_data(h->s, id, s);
	return s;
}

static int
on_begin_headers(nghttp2_session *ss, const nghttp2_frame *fr, void *arg)
{
	struct hq_h2 *h = arg;
	struct hq_h2s *s;

	if (fr->hd.type != NGHTTP2_HEADERS)
		return 0;
	if (fr->headers.cat != NGHTTP2_HCAT_REQUEST) {
		if ((s = stream_of(h, fr->hd.stream_id)) != NULL)
			s->in_trailers = true;
		return 0;
	}
	/* Streams whose module has not finished count too (rapid reset). */
	if (h->nstreams >= h->max_streams) {
		nghttp2_submit_rst_stream(ss, NGHTTP2_FLAG_NONE, fr->hd.stream_id,
		    NGHTTP2_REFUSED_STREAM);
		return 0;
	}
	stream_new(h, fr->hd.stream_id);
	return 0;
}

static int
on_header(nghttp2_session *ss, const nghttp2_frame *fr, const uint8_t *name,
    size_t namelen, const uint8_t *value, size_t valuelen, uint8_t flags, void *arg)
{
	struct hq_h2 *h = arg;
	struct hq_h2s *s = stream_of(h, fr->hd.stream_id);

	if (s == NULL || s->ready != s->in_trailers)
		return 0;
	header_take(s, name, namelen, value, valuelen);
	/* An HPACK bomb: far past the limit, the connection goes. */
	if (s->hsize > 4 * (uint64_t)h->max_hlist + 65536) {
		calm(h, "header list far over max_header_list_size");
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	}
	return 0;
}

/* The wire size of a header block, CONTINUATIONs included, before any
 * decoding: a block that never ends is stopped here. */
static int
on_begin_frame(nghttp2_session *ss, const nghttp2_frame_hd *hd, void *arg)
{
	struct hq_h2 *h = arg;

	if (hd->type == NGHTTP2_HEADERS) {
		h->hblock = hd->length;
		h->ncont = 0;
	} else if (hd->type == NGHTTP2_CONTINUATION) {
		h->hblock += hd->length;
		h->ncont++;
		if (h->hblock > 2 * (uint64_t)h->max_hlist + 16384 ||
		    h->ncont > 16 + h->max_hlist / 4096) {
			calm(h, "CONTINUATION flood");
		}
	}
	return 0;
}

static void
chatty(struct hq_h2 *h)
{
	window_tick(h);
	if (++h->nchatty > HQ_H2_CHATTY_MAX)
		calm(h, "control frame flood");
}

static int
on_frame_recv(nghttp2_session *ss, const nghttp2_frame *fr, void *arg)
{
	struct hq_h2 *h = arg;
	struct hq_h2s *s = stream_of(h, fr->hd.stream_id);
	bool end = fr->hd.flags & NGHTTP2_FLAG_END_STREAM;

	switch (fr->hd.type) {
	case NGHTTP2_HEADERS:
		if (s == NULL)
			break;
		if (end)
			s->body_end = true;
		if (!s->ready) {
			s->ready = true;
			head_build(s);
		} else if (end) {
			trailers_build(s);
		}
		break;
	case NGHTTP2_DATA:
		if (s != NULL && end)
			s->body_end = true;
		if (fr->hd.length == 0 && !end)
			chatty(h);
		break;
	case NGHTTP2_RST_STREAM:
		window_tick(h);
		if (++h->nrst > 2 * h->max_streams)
			calm(h, "rapid reset");
		break;
	case NGHTTP2_PING:
	case NGHTTP2_SETTINGS:
	case NGHTTP2_WINDOW_UPDATE:
	case NGHTTP2_PRIORITY:
		chatty(h);
		break;
	default:
		break;
	}
	return 0;
}

static int
on_invalid_frame(nghttp2_session *ss, const nghttp2_frame *fr, int err, void *arg)
{
	struct hq_h2 *h = arg;

	if (++h->ninvalid > HQ_H2_INVALID_MAX)
		calm(h, "invalid frames");
	return 0;
}

static int
on_data_chunk(nghttp2_session *ss, uint8_t flags, int32_t id, const uint8_t *data,
    size_t len, void *arg)
{
	struct hq_h2 *h = arg;
	struct hq_h2s *s = stream_of(h, id);
	httpq_request *r = s ? s->r : NULL;

	h->progress = true;
	nghttp2_session_consume_connection(ss, len);
	/* No one will read it: open the window again at once. */
	if (s == NULL || s->released || (s->started && !r->owned) || r->aborted ||
	    s->body_over) {
		nghttp2_session_consume_stream(ss, id, len);
		return 0;
	}
	r->body_seen += len;
	if (s->ibcap - s->iblen < len) {
		s->ibcap = s->iblen + len > 16384 ? s->iblen + len : 16384;
		s->ib = xrealloc(s->ib, s->ibcap);
	}
	memcpy(s->ib + s->iblen, data, len);
	s->iblen += len;
	return 0;
}

static int
on_stream_close(nghttp2_session *ss, int32_t id, uint32_t code, void *arg)
{
	struct hq_h2 *h = arg;
	struct hq_h2s *s = stream_of(h, id);

	if (s == NULL)
		return 0;
	s->closed = true;
	if (s->r->owned && !s->r->aborted && (code != NGHTTP2_NO_ERROR || !s->r->resp_done))
		s->abort_pending = true;
	return 0;
}

/* A response ended while the request body still comes: the rest is not
 * wanted (RFC 9113 8.1). */
static int
on_frame_send(nghttp2_session *ss, const nghttp2_frame *fr, void *arg)
{
	struct hq_h2 *h = arg;
	struct hq_h2s *s = fr->hd.stream_id ? stream_of(h, fr->hd.stream_id) : NULL;

	/* The client's WINDOW_UPDATEs that answer our DATA are no flood. */
	if (fr->hd.type == NGHTTP2_DATA && fr->hd.length > 0 && h->nchatty > 0)
		h->nchatty--;
	if (s == NULL)
		return 0;
	s->wire_out += fr->hd.length + 9;
	if ((fr->hd.flags & NGHTTP2_FLAG_END_STREAM) && !s->body_end &&
	    (fr->hd.type == NGHTTP2_HEADERS || fr->hd.type == NGHTTP2_DATA))
		nghttp2_submit_rst_stream(ss, NGHTTP2_FLAG_NONE, s->id, NGHTTP2_NO_ERROR);
	return 0;
}

/* --- the response queue ---------------------------------------------------- */

static void
oq_push(struct hq_h2s *s, int fd, uint64_t off, uint64_t len)
{
	if (fd < 0 && s->nsegs > s->seg0) {
		struct h2seg *l = &s->segs[s->nsegs - 1];

		if (l->fd < 0 && l->off + l->len == off) {
			l->len += len;
			s->queued += len;
			return;
		}
	}
	if (s->nsegs == s->capsegs) {
		if (s->seg0 > 0) {
			memmove(s->segs, s->segs + s->seg0,
			    (s->nsegs - s->seg0) * sizeof(*s->segs));
			s->nsegs -= s->seg0;
			s->seg0 = 0;
		}
		if (s->nsegs == s->capsegs) {
			s->capsegs = s->capsegs ? s->capsegs * 2 : 4;
			s->segs = xrealloc(s->segs, s->capsegs * sizeof(*s->segs));
		}
	}
	s->segs[s->nsegs++] = (struct h2seg){ fd, off, len };
	s->queued += len;
}

static void
oq_bytes(struct hq_h2s *s, const void *p, size_t n)
{
	struct hq_buf *b = &s->ob;

	if (b->cap - b->len < n) {
		/* what the provider took is dropped first */
		size_t used = s->seg0 < s->nsegs ? b->len : 0;

		for (size_t i = s->seg0; i < s->nsegs; i++)
			if (s->segs[i].fd < 0) {
				used = (size_t)s->segs[i].off;
				break;
			}
		if (used > 0) {
			memmove(b->p, b->p + used, b->len - used);
			b->len -= used;
			for (size_t i = s->seg0; i < s->nsegs; i++)
				if (s->segs[i].fd < 0)
					s->segs[i].off -= used;
		}
		if (b->cap - b->len < n) {
			b->cap = (b->len + n) * 2;
			b->p = xrealloc(b->p, b->cap);
		}
	}
	memcpy(b->p + b->len, p, n);
	oq_push(s, -1, b->len, n);
	b->len += n;
}

static void
oq_clear(struct hq_h2s *s)
{
	for (size_t i = s->seg0; i < s->nsegs; i++)
		if (s->segs[i].fd >= 0)
			close(s->segs[i].fd);
	free(s->segs);
	free(s->ob.p);
	s->segs = NULL;
	s->ob = (struct hq_buf){ 0 };
	s->nsegs = s->seg0 = s->capsegs = 0;
	s->queued = 0;
}

static ssize_t
data_read(nghttp2_session *ss, int32_t id, uint8_t *buf, size_t length,
    uint32_t *flags, nghttp2_data_source *src, void *arg)
{
	struct hq_h2s *s = src->ptr;
	size_t got = 0;

	while (got < length && s->seg0 < s->nsegs) {
		struct h2seg *g = &s->segs[s->seg0];
		size_t want = length - got < g->len ? length - got : (size_t)g->len;
		ssize_t n;

		if (g->fd < 0) {
			memcpy(buf + got, s->ob.p + g->off, want);
			n = (ssize_t)want;
		} else {
			n = pread(g->fd, buf + got, want, (off_t)g->off);
			if (n <= 0)
				return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
		}
		g->off += (uint64_t)n;
		g->len -= (uint64_t)n;
		s->queued -= (uint64_t)n;
		got += (size_t)n;
		if (g->len == 0) {
			if (g->fd >= 0)
				close(g->fd);
			s->seg0++;
		}
	}
	if (s->seg0 == s->nsegs) {
		s->seg0 = s->nsegs = 0;
		s->ob.len = 0;
	}
	if (got > 0)
		s->h->progress = true;
	if (s->queued == 0 && s->eof) {
		*flags |= NGHTTP2_DATA_FLAG_EOF;
		if (s->tnv != NULL) {
			*flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
			nghttp2_submit_trailer(ss, id, s->tnv, s->ntnv);
		}
		return (ssize_t)got;
	}
	if (got == 0) {
		s->deferred = true;
		return NGHTTP2_ERR_DEFERRED;
	}
	return (ssize_t)got;
}

static void
resume(struct hq_h2s *s)
{
	if (s->deferred && !s->closed) {
		s->deferred = false;
		nghttp2_session_resume_data(s->h->s, s->id);
	}
}

/* --- the session ------------------------------------------------------------ */

struct hq_h2 *
hq_h2_new(struct hq_conn *c, const struct hq_h2_ops *ops)
{
	const struct hq_store_http2 *cf = &c->cfg->store->http2;
	struct hq_h2 *h = xcalloc(1, sizeof(*h));
	nghttp2_session_callbacks *cb;
	nghttp2_option *opt;
	nghttp2_settings_entry iv[] = {
		{ NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, cf->max_concurrent_streams },
		{ NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, cf->initial_window_size },
		{ NGHTTP2_SETTINGS_MAX_FRAME_SIZE, cf->max_frame_size },
		{ NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, cf->max_header_list_size },
		{ NGHTTP2_SETTINGS_ENABLE_PUSH, 0 },
	};

	h->c = c;
	h->ops = ops;
	h->max_streams = cf->max_concurrent_streams;
	h->max_hlist = cf->max_header_list_size;
	h->win_ms = hq_now_ms();
	if (nghttp2_session_callbacks_new(&cb) != 0 || nghttp2_option_new(&opt) != 0)
		hq_fatal("nghttp2: out of memory");
	nghttp2_session_callbacks_set_on_begin_headers_callback(cb, on_begin_headers);
	nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
	nghttp2_session_callbacks_set_on_begin_frame_callback(cb, on_begin_frame);
	nghttp2_session_callbacks_set_on_frame_recv_callback(cb, on_frame_recv);
	nghttp2_session_callbacks_set_on_invalid_frame_recv_callback(cb, on_invalid_frame);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, on_data_chunk);
	nghttp2_session_callbacks_set_on_stream_close_callback(cb, on_stream_close);
	nghttp2_session_callbacks_set_on_frame_send_callback(cb, on_frame_send);
	/* The module takes the body at its pace: WINDOW_UPDATE follows it. */
	nghttp2_option_set_no_auto_window_update(opt, 1);
	nghttp2_option_set_max_deflate_dynamic_table_size(opt, 4096);
	/* Peers' streams beyond ours are refused at once (7). */
	nghttp2_option_set_max_send_header_block_length(opt, 65536);
#ifdef HAVE_NGHTTP2_OPTION_SET_MAX_OUTBOUND_ACK
	nghttp2_option_set_max_outbound_ack(opt, 1000);
#endif
#ifdef HAVE_NGHTTP2_OPTION_SET_MAX_SETTINGS
	nghttp2_option_set_max_settings(opt, 32);
#endif
#ifdef HAVE_NGHTTP2_OPTION_SET_MAX_CONTINUATIONS
	/* A backstop above on_begin_frame's own count: nghttp2's limit ends the
	 * session without a GOAWAY, ours sends ENHANCE_YOUR_CALM first. */
	nghttp2_option_set_max_continuations(opt, 2 * (16 + cf->max_header_list_size / 4096));
#endif
	if (nghttp2_session_server_new2(&h->s, cb, h, opt) != 0)
		hq_fatal("nghttp2: out of memory");
	nghttp2_option_del(opt);
	nghttp2_session_callbacks_del(cb);
	nghttp2_submit_settings(h->s, NGHTTP2_FLAG_NONE, iv, sizeof(iv) / sizeof(iv[0]));
	if (cf->connection_window_size > 65535)
		nghttp2_session_set_local_window_size(h->s, NGHTTP2_FLAG_NONE, 0,
		    (int32_t)cf->connection_window_size);
	return h;
}

static void
stream_free(struct hq_h2 *h, struct hq_h2s *s)
{
	httpq_request *r = s->r;

	if (s->started)
		h->ops->done(h->c, r);
	hq_cache_capture_drop(r);
	if (!s->closed)
		nghttp2_session_set_stream_user_data(h->s, s->id, NULL);
	oq_clear(s);
	free(r->cooked);
	free(r->cooked_url);
	free(r->trailers);
	free(r->head.headers);
	hq_worker_put(h->c->w, HQ_POOL_REQ, r);
	free(s->hb.p);
	free(s->tb.p);
	free(s->hf);
	free(s->ib);
	head_drop(s);
	free(s->tnv);
	free(s->tbuf);
	free(s);
	h->nstreams--;
}

/* Frees the streams that are done with: released, and closed (or the
 * connection is). */
static void
sweep(struct hq_h2 *h)
{
	struct hq_h2s **pp = &h->streams, *s;

	h->tail = NULL;
	while ((s = *pp) != NULL) {
		if (s->released && (s->closed || h->c->closed)) {
			*pp = s->next;
			stream_free(h, s);
			continue;
		}
		h->tail = s;
		pp = &s->next;
	}
}

void
hq_h2_free(struct hq_h2 *h)
{
	if (h == NULL)
		return;
	for (struct hq_h2s *s = h->streams; s != NULL; s = s->next)
		s->released = true;
	sweep(h);
	nghttp2_session_del(h->s);
	free(h);
}

int
hq_h2_recv(struct hq_h2 *h, const char *p, size_t n)
{
	ssize_t rc;

	if (h->dead || h->calmed)
		return -1;
	/* Streams closed by the last frames sent no longer count. */
	sweep(h);
	rc = nghttp2_session_mem_recv(h->s, (const uint8_t *)p, n);
	if (rc < 0) {
		if (rc != NGHTTP2_ERR_BAD_CLIENT_MAGIC)
			hq_log(LOG_INFO, "connection=%llu: HTTP/2: %s",
			    (unsigned long long)h->c->id, nghttp2_strerror((int)rc));
		h->dead = true;
		return -1;
	}
	return h->calmed ? -1 : 0;
}

bool
hq_h2_readable(const struct hq_h2 *h)
{
	return !h->dead && !h->calmed;
}

bool
hq_h2_lingers(const struct hq_h2 *h)
{
	return !h->dead && !h->calmed;
}

int
hq_h2_send(struct hq_h2 *h)
{
	struct hq_conn *c = h->c;

	while (c->pending < HQ_H2_OUT_MAX && !c->closed) {
		const uint8_t *p;
		ssize_t n = nghttp2_session_mem_send(h->s, &p);

		if (n < 0) {
			h->dead = true;
			return -1;
		}
		if (n == 0)
			break;
		hq_out_append(c, p, (size_t)n);
	}
	return 0;
}

bool
hq_h2_over(const struct hq_h2 *h)
{
	return h->dead || (!nghttp2_session_want_read(h->s) &&
	    !nghttp2_session_want_write(h->s));
}

bool
hq_h2_want_write(const struct hq_h2 *h)
{
	return !h->dead && nghttp2_session_want_write(h->s);
}

void
hq_h2_drain(struct hq_h2 *h)
{
	if (h->goaway || h->dead)
		return;
	h->goaway = true;
	nghttp2_submit_goaway(h->s, NGHTTP2_FLAG_NONE,
	    nghttp2_session_get_last_proc_stream_id(h->s), NGHTTP2_NO_ERROR, NULL, 0);
}

/* The connection closes: GOAWAY if there is still a session, and every
 * request of it is aborted (from hq_h2_run). */
void
hq_h2_close(struct hq_h2 *h)
{
	if (!h->dead && !h->goaway)
		nghttp2_session_terminate_session(h->s, NGHTTP2_NO_ERROR);
	h->goaway = true;
	for (struct hq_h2s *s = h->streams; s != NULL; s = s->next) {
		if (s->r->owned && !s->r->aborted)
			s->abort_pending = true;
		if (!s->started)
			s->released = true;
	}
}

/* --- running the streams ------------------------------------------------------- */

static void
stream_start(struct hq_h2 *h, struct hq_h2s *s)
{
	httpq_request *r = s->r;

	s->started = true;
	h->ops->start(h->c, r);
	if (!r->owned)
		s->released = true;
}

/* Gives the module what the stream holds of the body; the window opens
 * by as much. */
static void
body_deliver(struct hq_h2 *h, struct hq_h2s *s)
{
	httpq_request *r = s->r;
	size_t n = s->iblen;
	unsigned fl = s->body_end ? HTTPQ_BODY_END : 0;

	if (r->body_end_sent || !r->body_reading || r->body_paused || r->aborted ||
	    !r->owned || (n == 0 && !s->body_end))
		return;
	s->iblen = 0;
	if (fl)
		r->body_end_sent = r->body_done = true;
	if (n > 0 && !s->closed && !h->c->closed)
		nghttp2_session_consume_stream(h->s, s->id, n);
	if (r->body_cb != NULL)
		r->body_cb(r, r->body_arg, s->ib, n, fl);
}

static bool
stream_run(struct hq_h2 *h, struct hq_h2s *s)
{
	httpq_request *r = s->r;
	struct hq_conn *c = h->c;

	if (s->abort_pending) {
		s->abort_pending = false;
		h->ops->abort(r);
		return true;
	}
	if (s->ready && !s->started) {
		if (s->closed || c->closed || s->released) {
			s->started = false;
			s->released = true;
			return false;
		}
		stream_start(h, s);
		return true;
	}
	if (!s->started)
		return false;
	if (!s->body_over && r->group != NULL && r->body_seen > r->group->max_body_bytes) {
		s->body_over = true;
		h->ops->body_fail(c, r, HQ_ERR_ENTITY_TOO_LARGE);
		if (!s->closed)
			nghttp2_submit_rst_stream(h->s, NGHTTP2_FLAG_NONE, s->id,
			    NGHTTP2_NO_ERROR);
		return true;
	}
	if (!r->owned && s->iblen > 0) {
		if (!s->closed && !c->closed)
			nghttp2_session_consume_stream(h->s, s->id, s->iblen);
		s->iblen = 0;
	}
	if (r->body_reading && !r->body_end_sent && (s->iblen > 0 || s->body_end) &&
	    !r->body_paused && r->owned && !r->aborted) {
		body_deliver(h, s);
		return true;
	}
	if (r->writable_cb != NULL && r->owned && !r->aborted && s->queued < HQ_OUT_LOWAT) {
		httpq_request_cb cb = r->writable_cb;

		r->writable_cb = NULL;
		cb(r, r->writable_arg);
		return true;
	}
	return false;
}

bool
hq_h2_run(struct hq_h2 *h)
{
	bool did = false;

	for (struct hq_h2s *s = h->streams; s != NULL; s = s->next)
		for (int i = 0; i < 4 && stream_run(h, s); i++)
			did = true;
	sweep(h);
	return did;
}

/* A module waits for on_writable and its stream's queue has drained. */
bool
hq_h2_writable(const struct hq_h2 *h)
{
	for (const struct hq_h2s *s = h->streams; s != NULL; s = s->next)
		if (s->r->writable_cb != NULL && s->r->owned && !s->r->aborted &&
		    s->queued < HQ_OUT_LOWAT)
			return true;
	return false;
}

size_t
hq_h2_streams(const struct hq_h2 *h)
{
	return h->nstreams;
}

bool
hq_h2_owned(const struct hq_h2 *h)
{
	for (const struct hq_h2s *s = h->streams; s != NULL; s = s->next)
		if (s->r->owned)
			return true;
	return false;
}

/* What the connection timer should watch: a head being received, a body
 * the module waits for, output that flow control holds. */
enum hq_h2_wait
hq_h2_waiting(struct hq_h2 *h, bool *progress)
{
	enum hq_h2_wait w = HQ_H2_W_NONE;

	*progress = h->progress;
	h->progress = false;
	if (h->nstreams == 0)
		return HQ_H2_W_IDLE;
	for (const struct hq_h2s *s = h->streams; s != NULL; s = s->next) {
		const httpq_request *r = s->r;

		if (!s->ready && !s->closed)
			return HQ_H2_W_HEAD;
		if (s->queued > 0 && !s->closed)
			w = HQ_H2_W_SEND;
		else if (w == HQ_H2_W_NONE && r->body_reading && !r->body_paused &&
		    !s->body_end && !s->closed)
			w = HQ_H2_W_BODY;
	}
	return w;
}

uint64_t
hq_h2_queued(const struct hq_h2 *h)
{
	uint64_t n = 0;

	for (const struct hq_h2s *s = h->streams; s != NULL; s = s->next)
		n += s->queued;
	return n;
}

/* The request of a post() that was made for request id, if it is still
 * held by its module. */
httpq_request *
hq_h2_request(struct hq_h2 *h, uint64_t id)
{
	for (struct hq_h2s *s = h->streams; s != NULL; s = s->next)
		if (s->r->id == id)
			return s->r;
	return NULL;
}

/* Calls fn for every request a module still holds (a forced close). */
void
hq_h2_each_owned(struct hq_h2 *h, void (*fn)(struct hq_conn *, httpq_request *))
{
	for (struct hq_h2s *s = h->streams; s != NULL; s = s->next)
		if (s->r->owned)
			fn(h->c, s->r);
}

/* --- what request.c and conn.c do on a stream ------------------------------------ */

void
hq_h2_release(httpq_request *r)
{
	r->h2s->released = true;
}

uint64_t
hq_h2_bytes_out(const httpq_request *r)
{
	return r->h2s->wire_out;
}

size_t
hq_h2_pending(const httpq_request *r)
{
	return (size_t)r->h2s->queued;
}

/* Connection-specific fields have no place in HTTP/2 (RFC 9113 8.2.2). */
static bool
conn_specific(const char *n, size_t len)
{
	static const char *const drop[] = { "connection", "keep-alive",
		"proxy-connection", "transfer-encoding", "upgrade" };

	for (size_t i = 0; i < sizeof(drop) / sizeof(drop[0]); i++)
		if (len == strlen(drop[i]) && hq_mem_eq_nocase(n, drop[i], len))
			return true;
	return false;
}

/* A header list for nghttp2 (which copies it): in the struct for the
 * usual head (NVB_INIT, on the stack, no malloc), else on the heap ({ 0 }:
 * trailers, kept until they are sent). */
struct nvb {
	nghttp2_nv *nv;
	size_t n, cap;
	char *buf;                    /* lower-cased names and values */
	size_t len, bcap;
	nghttp2_nv nv0[24];
	char buf0[2048];
};
#define NVB_INIT(b) ((b)->nv = (b)->nv0, (b)->cap = 24, (b)->buf = (b)->buf0, \
	(b)->bcap = sizeof((b)->buf0), (b)->n = (b)->len = 0)

static void *
grow(void *p, const void *inl, size_t used, size_t cap)
{
	void *q = xmalloc(cap);

	if (used > 0)
		memcpy(q, p, used);
	if (p != inl)
		free(p);
	return q;
}

static void
nvb_add(struct nvb *b, const char *name, size_t nlen, const char *value, size_t vlen)
{
	if (b->n == b->cap) {
		b->cap = b->cap ? b->cap * 2 : 16;
		b->nv = grow(b->nv, b->nv0, b->n * sizeof(*b->nv), b->cap * sizeof(*b->nv));
	}
	if (b->bcap - b->len < nlen + vlen) {
		/* offsets until the end: the buffer moves */
		b->bcap = (b->len + nlen + vlen) * 2 + 256;
		b->buf = grow(b->buf, b->buf0, b->len, b->bcap);
	}
	for (size_t i = 0; i < nlen; i++) {
		char ch = name[i];

		b->buf[b->len + i] = ch >= 'A' && ch <= 'Z' ? (char)(ch + 32) : ch;
	}
	memcpy(b->buf + b->len + nlen, value, vlen);
	b->nv[b->n++] = (nghttp2_nv){ (uint8_t *)(uintptr_t)b->len,
		(uint8_t *)(uintptr_t)(b->len + nlen), nlen, vlen, NGHTTP2_NV_FLAG_NONE };
	b->len += nlen + vlen;
}

static void
nvb_fix(struct nvb *b)
{
	for (size_t i = 0; i < b->n; i++) {
		b->nv[i].name = (uint8_t *)b->buf + (uintptr_t)b->nv[i].name;
		b->nv[i].value = (uint8_t *)b->buf + (uintptr_t)b->nv[i].value;
	}
}

static void
nvb_free(struct nvb *b)
{
	if (b->nv != b->nv0)
		free(b->nv);
	if (b->buf != b->buf0)
		free(b->buf);
}

#define NVB_LIT(b, n, v, vl) nvb_add((b), (n), sizeof(n) - 1, (v), (vl))

static void
nvb_status(struct nvb *b, int status)
{
	char st[3] = { (char)('0' + status / 100 % 10), (char)('0' + status / 10 % 10),
		(char)('0' + status % 10) };

	NVB_LIT(b, ":status", st, 3);
}

/* Date, Server and the request id, unless the module gave them. */
static void
nvb_ours(struct nvb *b, httpq_request *r, bool date, bool server, bool rid)
{
	struct hq_conn *c = r->c;
	static const char sv[] = "httpq/" PACKAGE_VERSION;
	const char *name;
	size_t n;
	char num[24];

	if (rid && r->group != NULL && (name = r->group->sg->request_id_header) != NULL &&
	    r->id != 0) {
		if (r->rid.n > 0)
			nvb_add(b, name, strlen(name), r->rid.p, r->rid.n);
		else
			nvb_add(b, name, strlen(name), num,
			    (size_t)snprintf(num, sizeof(num), "%llu",
			    (unsigned long long)r->id));
	}
	if (date) {
		const char *d = hq_worker_date(c->w, &n);

		NVB_LIT(b, "date", d, n);
	}
	if (server && c->cfg->store->server_header)
		NVB_LIT(b, "server", sv, sizeof(sv) - 1);
}

static bool
stream_live(const httpq_request *r)
{
	const struct hq_h2s *s = r->h2s;

	return !s->closed && !r->c->closed && !s->h->dead;
}

/* read_body() on a request that carries "expect: 100-continue" and whose
 * body has not begun: a non-final 100 HEADERS, once (RFC 9110 10.1.1), as
 * HTTP/1.1's "100 Continue"; none once the response head is out. */
void
hq_h2_want_body(httpq_request *r)
{
	struct hq_h2s *s = r->h2s;
	struct nvb b;

	if (!r->head.expect_continue || r->continue_sent || r->head_sent ||
	    s->body_end || r->body_seen > 0 || !stream_live(r))
		return;
	r->continue_sent = true;
	NVB_INIT(&b);
	nvb_status(&b, 100);
	nvb_fix(&b);
	(void)nghttp2_submit_headers(s->h->s, NGHTTP2_FLAG_NONE, s->id, NULL, b.nv, b.n,
	    NULL);
	nvb_free(&b);
}

/* Submits the head; with a body to come, the DATA provider reads the
 * stream's queue. */
static int
submit(httpq_request *r, struct nvb *b, bool body)
{
	struct hq_h2s *s = r->h2s;
	nghttp2_data_provider dp = { .source.ptr = s, .read_callback = data_read };
	int rc;

	nvb_fix(b);
	rc = nghttp2_submit_response(s->h->s, s->id, b->nv, b->n, body ? &dp : NULL);
	nvb_free(b);
	if (rc != 0)
		return -1;
	s->has_data = body;
	return 0;
}

/*
 * A head the module sent with MORE and without Content-Length waits for
 * the first body call (as HTTP/1.1's head_open): if that call ends the
 * response, the head says how long the body is; else it goes without.
 * nghttp2 copies the list at submit: until then it lives on the heap.
 */
static void
head_hold(struct hq_h2s *s, struct nvb *b)
{
	struct nvb *k = xmalloc(sizeof(*k));

	*k = *b;
	if (b->nv == b->nv0)
		k->nv = k->nv0;
	if (b->buf == b->buf0)
		k->buf = k->buf0;
	s->held = k;
}

static void
head_drop(struct hq_h2s *s)
{
	if (s->held == NULL)
		return;
	nvb_free(s->held);
	free(s->held);
	s->held = NULL;
}

/* The first body call (n bytes, final: it ends the response). */
static int
head_release(httpq_request *r, uint64_t n, bool final)
{
	struct hq_h2s *s = r->h2s;
	struct nvb *b = s->held;
	char num[24];
	int rc;

	if (b == NULL)
		return 0;
	s->held = NULL;
	if (final) {
		r->resp_cl = (int64_t)(r->resp_body + n);
		NVB_LIT(b, "content-length", num, (size_t)snprintf(num, sizeof(num), "%lld",
		    (long long)r->resp_cl));
	}
	rc = submit(r, b, !r->no_body && !(final && r->resp_body + n == 0));
	free(b);
	return rc;
}

int
hq_h2_send_head(httpq_request *r, int status, const char *reason,
    const httpq_header *hd, size_t n, unsigned flags)
{
	struct nvb b;
	bool date = true, server = true, rid = true, more = flags & HTTPQ_SEND_MORE;
	const char *idh = r->group ? r->group->sg->request_id_header : NULL;
	int64_t cl = -1;
	char num[24];

	if (status < 200 || status > 999 || !stream_live(r))
		return -1;
	for (size_t i = 0; i < n; i++)
		if (!hq_http1_field_name_ok(hd[i].name, hd[i].name_len) ||
		    !hq_http1_field_value_ok(hd[i].value, hd[i].value_len))
			return -1;
	NVB_INIT(&b);
	nvb_status(&b, status);
	for (size_t i = 0; i < n; i++, hd++) {
		if (conn_specific(hd->name, hd->name_len))
			continue;
		if (hd->name_len == 14 && hq_mem_eq_nocase(hd->name, "content-length", 14)) {
			if (!parse_len((struct hq_str){ hd->value, hd->value_len }, &cl)) {
				nvb_free(&b);
				return -1;
			}
			continue;
		}
		if (hd->name_len == 4 && hq_mem_eq_nocase(hd->name, "date", 4))
			date = false;
		if (hd->name_len == 6 && hq_mem_eq_nocase(hd->name, "server", 6))
			server = false;
		if (idh != NULL && hd->name_len == strlen(idh) &&
		    hq_mem_eq_nocase(hd->name, idh, hd->name_len))
			rid = false;
		nvb_add(&b, hd->name, hd->name_len, hd->value, hd->value_len);
	}
	nvb_ours(&b, r, date, server, rid);
	if (status == 204 || status == 304)
		r->no_body = true;
	if (!more && cl < 0 && !r->no_body)
		cl = 0;
	if (cl >= 0 && status != 204 && status != 304)
		NVB_LIT(&b, "content-length", num,
		    (size_t)snprintf(num, sizeof(num), "%lld", (long long)cl));
	r->resp_cl = cl;
	if (more && cl < 0 && status != 204 && status != 304)
		head_hold(r->h2s, &b);
	else if (submit(r, &b, more && !r->no_body) < 0)
		return -1;
	if (flags & HTTPQ_SEND_DISCONNECT)
		hq_h2_drain(r->h2s->h);
	r->status = status;
	r->head_us = hq_mono_us(false);
	r->head_sent = true;
	return 0;
}

/* Checks and framing for n more body bytes. */
static int
body_begin(httpq_request *r, uint64_t n, unsigned flags)
{
	if (!r->owned || r->aborted || r->resp_done || !r->head_sent || !stream_live(r))
		return -1;
	if (r->h2s->held != NULL && head_release(r, n, !(flags & HTTPQ_SEND_MORE)) < 0)
		return -1;
	if (r->resp_cl >= 0 && r->resp_body + n > (uint64_t)r->resp_cl)
		return -1;
	if (flags & HTTPQ_SEND_DISCONNECT)
		hq_h2_drain(r->h2s->h);
	return 0;
}

int
hq_h2_send_body(httpq_request *r, const void *data, size_t len, unsigned flags)
{
	struct hq_h2s *s = r->h2s;

	if (body_begin(r, len, flags) < 0)
		return -1;
	r->resp_body += len;
	if (len > 0 && s->has_data) {
		oq_bytes(s, data, len);
		resume(s);
	}
	return 0;
}

int
hq_h2_send_file(httpq_request *r, int fd, uint64_t off, uint64_t len, unsigned flags)
{
	struct hq_h2s *s = r->h2s;

	if (body_begin(r, len, flags) < 0) {
		close(fd);
		return -1;
	}
	r->resp_body += len;
	if (len > 0 && s->has_data) {
		oq_push(s, fd, off, len);
		resume(s);
	} else {
		close(fd);
	}
	return 0;
}

int
hq_h2_send_trailers(httpq_request *r, const httpq_header *t, size_t n)
{
	struct hq_h2s *s = r->h2s;
	struct nvb b = { 0 };

	for (size_t i = 0; i < n; i++)
		if (!hq_http1_field_name_ok(t[i].name, t[i].name_len) ||
		    !hq_http1_field_value_ok(t[i].value, t[i].value_len) ||
		    conn_specific(t[i].name, t[i].name_len))
			return -1;
	if (body_begin(r, 0, HTTPQ_SEND_MORE) < 0)
		return -1;
	if (n == 0 || !s->has_data)
		return 0;
	for (size_t i = 0; i < n; i++)
		nvb_add(&b, t[i].name, t[i].name_len, t[i].value, t[i].value_len);
	nvb_fix(&b);
	s->tnv = b.nv;
	s->ntnv = b.n;
	s->tbuf = b.buf;
	return 0;
}

/* The module's response is complete: what is queued goes out, then
 * END_STREAM (or the trailers).  A body shorter than its Content-Length
 * resets the stream (the client must not take it for whole). */
void
hq_h2_end(httpq_request *r)
{
	struct hq_h2s *s = r->h2s;

	s->eof = true;
	if (r->resp_cl >= 0 && r->resp_body < (uint64_t)r->resp_cl && !r->no_body &&
	    stream_live(r)) {
		hq_log(LOG_WARNING, "request=%llu: module ended an HTTP/2 response after "
		    "%llu of %lld bytes; resetting the stream", (unsigned long long)r->id,
		    (unsigned long long)r->resp_body, (long long)r->resp_cl);
		nghttp2_submit_rst_stream(s->h->s, NGHTTP2_FLAG_NONE, s->id,
		    NGHTTP2_INTERNAL_ERROR);
		return;
	}
	resume(s);
}

/* The module finished without answering and its head is out: the stream is
 * reset (HTTP/1.1 closes the connection). */
void
hq_h2_reset(httpq_request *r, bool refused)
{
	struct hq_h2s *s = r->h2s;

	s->eof = true;
	if (stream_live(r))
		nghttp2_submit_rst_stream(s->h->s, NGHTTP2_FLAG_NONE, s->id,
		    refused ? NGHTTP2_REFUSED_STREAM : NGHTTP2_INTERNAL_ERROR);
}

/* "Name: value\r\n" lines of a stored head or tail into b, without the
 * connection-specific ones. */
static void
nvb_lines(struct nvb *b, const char *p, const char *end)
{
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p)), *colon;
		size_t len = eol ? (size_t)(eol - p) : (size_t)(end - p);

		if (len > 0 && p[len - 1] == '\r')
			len--;
		colon = memchr(p, ':', len);
		if (colon != NULL && !conn_specific(p, (size_t)(colon - p))) {
			const char *v = colon + 1;

			while (v < p + len && (*v == ' ' || *v == '\t'))
				v++;
			nvb_add(b, p, (size_t)(colon - p), v, (size_t)(p + len - v));
		}
		p = eol ? eol + 1 : end;
	}
}

/* A response of the cache (as hq_response_stored): its head as kept
 * ("HTTP/1.1 200 OK\r\n" and field lines, without framing), Age, Date,
 * then its tail (Server if sent, Content-Length); the body is copied onto
 * the stream, as the hit runs under the cache's lock. */
void
hq_h2_stored(httpq_request *r, const struct hq_stored *st, uint64_t age_s)
{
	struct hq_h2s *s = r->h2s;
	const char *end = st->head + st->headlen;
	const char *p = memchr(st->head, '\n', st->headlen);
	uint64_t bodylen = st->bodylen;
	struct nvb b;
	char num[24];

	r->status = st->status;
	r->head_us = hq_mono_us(false);
	r->head_sent = true;
	r->resp_done = true;
	r->resp_cl = (int64_t)bodylen;
	s->eof = true;
	if (!stream_live(r))
		return;
	NVB_INIT(&b);
	nvb_status(&b, st->status);
	nvb_lines(&b, p ? p + 1 : end, end);
	NVB_LIT(&b, "age", num, (size_t)snprintf(num, sizeof(num), "%llu",
	    (unsigned long long)age_s));
	nvb_ours(&b, r, true, false, false);
	nvb_lines(&b, st->tail, st->tail + st->taillen);
	if (r->no_body || st->status == 304)
		bodylen = 0;
	r->resp_body = bodylen;
	if (bodylen > 0)
		oq_bytes(s, st->body, bodylen);
	(void)submit(r, &b, bodylen > 0);
}

/* A daemon-made answer on the stream: the page response.c makes. */
void
hq_h2_error(httpq_request *r, enum hq_error e, const char *queue)
{
	struct hq_h2s *s = r->h2s;
	struct nvb b;
	char body[1024], num[24];
	const char *phrase;
	size_t n = hq_response_error_page(r, e, queue, body, sizeof(body), &phrase);
	static const char ct[] = "text/html; charset=us-ascii";

	r->status = hq_errinfo(e)->status;
	r->head_us = hq_mono_us(false);
	r->head_sent = true;
	r->resp_done = true;
	s->eof = true;
	if (!stream_live(r))
		return;
	NVB_INIT(&b);
	nvb_status(&b, r->status);
	NVB_LIT(&b, "content-type", ct, sizeof(ct) - 1);
	nvb_ours(&b, r, true, true, true);
	NVB_LIT(&b, "content-length", num, (size_t)snprintf(num, sizeof(num), "%zu", n));
	r->resp_cl = (int64_t)n;
	if (r->no_body)
		n = 0;
	r->resp_body = n;
	if (n > 0)
		oq_bytes(s, body, n);
	(void)submit(r, &b, n > 0);
}

