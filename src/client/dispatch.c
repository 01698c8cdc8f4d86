/*
 * dispatch.c -- frames from httpqd applied to a handle and its requests,
 * the table of requests by id, and waiting (the pump every blocking call
 * turns).
 *
 * The daemon is trusted to be httpqd but not to be bug-free: a frame that
 * breaks httpq-protocol(7) (malformed, wrong direction, a REQUEST nobody
 * asked for, body past the window) fails the handle with EPROTO and a
 * message naming the frame; it never crashes the application.  Frames for
 * ids the handle does not hold (any more) are ignored: those races are
 * normal.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hqclient.h"

int64_t
hqc_now_ms(void)
{
	return (int64_t)(hq_mono_us(false) / 1000);
}

int64_t
hqc_deadline(const httpq_queue *q, bool call)
{
	if (q->timeout_ms < 0 || (call && q->timeout_ms == 0))
		return -1;
	return hqc_now_ms() + q->timeout_ms;
}

int
hqc_timed_out(httpq_queue *q)
{
	int e = q->timeout_ms == 0 ? EAGAIN : ETIMEDOUT;

	return hqc_seterr(q, e, "%s", e == EAGAIN ? "would wait" : "timed out");
}

/* --- request table ------------------------------------------------------ */

static size_t
bucket(const httpq_queue *q, uint64_t id)
{
	return (size_t)((id * 0x9E3779B97F4A7C15ull) >> 32) & (q->nbuckets - 1);
}

httpq_req *
hqc_find(httpq_queue *q, uint64_t id)
{
	if (q->nbuckets == 0)
		return NULL;
	for (httpq_req *r = q->table[bucket(q, id)]; r; r = r->hnext)
		if (r->id == id)
			return r;
	return NULL;
}

static void
table_add(httpq_queue *q, httpq_req *r)
{
	if (q->nreqs >= q->nbuckets) {
		size_t n = q->nbuckets ? q->nbuckets * 2 : 16;
		httpq_req **old = q->table;
		size_t oldn = q->nbuckets;
		q->table = xcalloc(n, sizeof *q->table);
		q->nbuckets = n;
		for (size_t i = 0; i < oldn; i++) {
			while (old[i]) {
				httpq_req *x = old[i];
				old[i] = x->hnext;
				size_t b = bucket(q, x->id);
				x->hnext = q->table[b];
				q->table[b] = x;
			}
		}
		free(old);
	}
	size_t b = bucket(q, r->id);
	r->hnext = q->table[b];
	q->table[b] = r;
	q->nreqs++;
}

void
hqc_unlink(httpq_queue *q, httpq_req *r)
{
	if (q->nbuckets) {
		for (httpq_req **pp = &q->table[bucket(q, r->id)]; *pp; pp = &(*pp)->hnext) {
			if (*pp == r) {
				*pp = r->hnext;
				q->nreqs--;
				break;
			}
		}
	}
	if (r->ready) {
		httpq_req *prev = NULL;
		for (httpq_req *x = q->ready_head; x; prev = x, x = x->rnext) {
			if (x != r)
				continue;
			if (prev)
				prev->rnext = r->rnext;
			else
				q->ready_head = r->rnext;
			if (q->ready_tail == r)
				q->ready_tail = prev;
			break;
		}
		r->ready = false;
		q->nready--;
	}
	if (r->in_ev) {
		httpq_req *prev = NULL;
		for (httpq_req *x = q->ev_head; x; prev = x, x = x->enext) {
			if (x != r)
				continue;
			if (prev)
				prev->enext = r->enext;
			else
				q->ev_head = r->enext;
			if (q->ev_tail == r)
				q->ev_tail = prev;
			break;
		}
		r->in_ev = false;
	}
}

void
hqc_event(httpq_req *r, unsigned ev)
{
	httpq_queue *q = r->q;

	r->ev |= ev;
	if (r->in_ev || r->ready)   /* a new request's events follow its request callback */
		return;
	r->in_ev = true;
	r->enext = NULL;
	if (q->ev_tail)
		q->ev_tail->enext = r;
	else
		q->ev_head = r;
	q->ev_tail = r;
}

/* The first ready request, now the application's (NULL if none); events
 * that came while it waited go to the event list. */
httpq_req *
hqc_take(httpq_queue *q)
{
	httpq_req *r = q->ready_head;

	if (!r)
		return NULL;
	q->ready_head = r->rnext;
	if (!q->ready_head)
		q->ready_tail = NULL;
	r->rnext = NULL;
	r->ready = false;
	q->nready--;
	if (r->ev) {
		unsigned ev = r->ev;
		r->ev = 0;
		hqc_event(r, ev);
	}
	return r;
}

/* RECEIVE credit: one when asked (a blocking receive), else keep `ahead`. */
void
hqc_topup(httpq_queue *q, bool one)
{
	uint32_t want = 0;

	if (q->broken || q->shutdown || q->shutdown_seen)
		return;
	if (q->ahead > 0) {
		uint64_t have = (uint64_t)q->credit + q->nready;
		if (have < q->ahead && (have == 0 || q->ahead - have >= (q->ahead + 1) / 2))
			want = (uint32_t)(q->ahead - have);
	} else if (one && q->credit == 0 && q->nready == 0) {
		want = 1;
	}
	if (want == 0 || q->credit + want > HQ_QP_MAX_CREDIT)
		return;
	hq_qp_begin(&q->out, HQ_QP_RECEIVE, 0, 0);
	hq_qp_put_u32(&q->out, HQ_QA_COUNT, want);
	hq_qp_end(&q->out);
	q->credit += want;
}

/* --- frames ------------------------------------------------------------- */

struct view {
	const unsigned char *p;
	uint32_t n;
};

static int
perr(httpq_queue *q, const struct hq_qp_frame *f, const char *what)
{
	const char *t = hq_qp_type_name(f->type);

	return hqc_fail(q, EPROTO, "httpqd broke the protocol: %s frame (id %" PRIu64 "): %s",
	    t ? t : "?", f->id, what);
}

/*
 * Copies a payload and NUL-terminates the string views into it.  Each
 * value is followed by the next attribute's header, read before the NUL
 * overwrites it; the last one by the extra byte.
 */
static char *
blob_copy(const struct hq_qp_frame *f)
{
	char *b = xmalloc((size_t)f->len + 1);

	if (f->len)
		memcpy(b, f->payload, f->len);
	b[f->len] = '\0';
	return b;
}

static const char *
term(char *blob, const struct hq_qp_frame *f, const unsigned char *v, uint32_t n)
{
	char *s = blob + (v - f->payload);

	s[n] = '\0';
	return s;
}

/* HEADER attributes of f into an array of NUL-terminated fields in blob. */
static int
fields(httpq_queue *q, const struct hq_qp_frame *f, char *blob, struct hqc_field **out,
    size_t *nout)
{
	struct hq_qp_iter it;
	uint16_t tag;
	const unsigned char *v;
	uint32_t n;
	size_t count = 0, i = 0;
	int rc;

	hq_qp_iter_init(&it, f);
	while ((rc = hq_qp_next(&it, &tag, &v, &n)) == 1)
		if (tag == HQ_QA_HEADER)
			count++;
	if (rc < 0)
		return perr(q, f, "truncated attribute");
	struct hqc_field *a = xcalloc(count ? count : 1, sizeof *a);
	struct { char *ne, *ve; } *ends = xcalloc(count ? count : 1, sizeof *ends);
	hq_qp_iter_init(&it, f);
	while (hq_qp_next(&it, &tag, &v, &n) == 1) {
		struct hq_str nm, val;
		if (tag != HQ_QA_HEADER)
			continue;
		if (hq_qp_split_header(v, n, &nm, &val) < 0) {
			free(a);
			free(ends);
			return perr(q, f, "bad HEADER attribute");
		}
		char *base = blob + (v - f->payload);
		a[i].name = base + (nm.p - (const char *)v);
		a[i].value = base + (val.p - (const char *)v);
		ends[i].ne = (char *)a[i].name + nm.n;
		ends[i].ve = (char *)a[i].value + val.n;
		i++;
	}
	/* Terminate only now: a NUL may overwrite the next attribute's tag. */
	for (i = 0; i < count; i++) {
		*ends[i].ne = '\0';
		*ends[i].ve = '\0';
	}
	free(ends);
	*out = a;
	*nout = count;
	return 0;
}

static int
on_request(httpq_queue *q, const struct hq_qp_frame *f)
{
	struct hq_qp_iter it;
	uint16_t tag;
	const unsigned char *v;
	uint32_t n;
	int rc;
	struct { const char **dst; const unsigned char *v; uint32_t n; } s[16];
	size_t ns = 0;

	if (f->id == 0)
		return perr(q, f, "request id 0");
	if (hqc_find(q, f->id))
		return perr(q, f, "request id already held");
	if (q->credit == 0)
		return perr(q, f, "no RECEIVE credit was given");
	httpq_req *r = xcalloc(1, sizeof *r);
	r->q = q;
	r->id = f->id;
	r->has_body = (f->flags & HQ_QF_HAS_BODY) != 0;
	r->tls = (f->flags & HQ_QF_TLS) != 0;
	r->body_end = !r->has_body;
	r->send_window = q->send_window;
	r->blob = blob_copy(f);
	r->method = r->raw_url = r->cooked_url = r->path = r->query = r->host = "";
	r->remote_addr = r->local_addr = r->url_prefix = r->url_group = "";
	r->tls_protocol = r->tls_cipher = r->tls_sni = r->tls_subject = r->tls_fingerprint = "";

	hq_qp_iter_init(&it, f);
	while ((rc = hq_qp_next(&it, &tag, &v, &n)) == 1) {
		const char **dst = NULL;
		switch (tag) {
		case HQ_QA_METHOD: dst = &r->method; break;
		case HQ_QA_RAW_URL: dst = &r->raw_url; break;
		case HQ_QA_COOKED_URL: dst = &r->cooked_url; break;
		case HQ_QA_PATH: dst = &r->path; break;
		case HQ_QA_QUERY: dst = &r->query; break;
		case HQ_QA_HOST: dst = &r->host; break;
		case HQ_QA_REMOTE_ADDR: dst = &r->remote_addr; break;
		case HQ_QA_LOCAL_ADDR: dst = &r->local_addr; break;
		case HQ_QA_URL_PREFIX: dst = &r->url_prefix; break;
		case HQ_QA_URL_GROUP: dst = &r->url_group; break;
		case HQ_QA_TLS_PROTOCOL: dst = &r->tls_protocol; break;
		case HQ_QA_TLS_CIPHER: dst = &r->tls_cipher; break;
		case HQ_QA_TLS_SNI: dst = &r->tls_sni; break;
		case HQ_QA_TLS_CLIENT_SUBJECT: dst = &r->tls_subject; break;
		case HQ_QA_TLS_CLIENT_FINGERPRINT: dst = &r->tls_fingerprint; break;
		case HQ_QA_VERSION:
			if (hq_qp_get_u32(v, n, &r->version) < 0)
				goto bad;
			break;
		case HQ_QA_TLS_CLIENT_VERIFIED:
			if (hq_qp_get_u32(v, n, &r->tls_verified) < 0)
				goto bad;
			break;
		case HQ_QA_CONNECTION_ID:
			if (hq_qp_get_u64(v, n, &r->connection_id) < 0)
				goto bad;
			break;
		case HQ_QA_CONTENT_LENGTH:
			if (hq_qp_get_i64(v, n, &r->content_length) < 0)
				goto bad;
			break;
		default:
			break;
		}
		if (!dst)
			continue;
		if (memchr(v, '\0', n))
			goto bad;
		/* A repeated attribute: the last one wins; the table stays small. */
		size_t i;
		for (i = 0; i < ns; i++)
			if (s[i].dst == dst)
				break;
		s[i].dst = dst;
		s[i].v = v;
		s[i].n = n;
		if (i == ns)
			ns++;
	}
	if (rc < 0)
		goto bad;
	if (fields(q, f, r->blob, &r->headers, &r->nheaders) < 0)
		goto fail;
	for (size_t i = 0; i < ns; i++)
		*s[i].dst = term(r->blob, f, s[i].v, s[i].n);
	if (*r->method == '\0')
		goto bad;

	q->credit--;
	table_add(q, r);
	r->ready = true;
	if (q->ready_tail)
		q->ready_tail->rnext = r;
	else
		q->ready_head = r;
	q->ready_tail = r;
	q->nready++;
	return 0;
bad:
	perr(q, f, "malformed attribute");
fail:
	hqc_req_destroy(r);
	return -1;
}

static int
on_body(httpq_queue *q, const struct hq_qp_frame *f)
{
	httpq_req *r = hqc_find(q, f->id);

	if (!r || r->done)
		return 0;
	if (r->body_end)
		return perr(q, f, "body after its end");
	/* httpqd never has more than the window unacknowledged
	 * (httpq-protocol(7)); that also bounds what a request buffers here. */
	if (r->body_unacked + f->len > (uint64_t)q->body_window) {
		char what[96];
		snprintf(what, sizeof what, "body past the window (%llu + %u bytes over %u)",
		    (unsigned long long)r->body_unacked, f->len, q->body_window);
		return perr(q, f, what);
	}
	if (f->len) {
		if (r->body_off > 0 && r->body_cap - r->body_len < f->len) {
			memmove(r->body, r->body + r->body_off, r->body_len - r->body_off);
			r->body_len -= r->body_off;
			r->body_off = 0;
		}
		if (r->body_cap - r->body_len < f->len) {
			size_t cap = r->body_cap ? r->body_cap : 4096;
			while (cap - r->body_len < f->len)
				cap *= 2;
			r->body = xrealloc(r->body, cap);
			r->body_cap = cap;
		}
		memcpy(r->body + r->body_len, f->payload, f->len);
		r->body_len += f->len;
		r->body_unacked += f->len;
	}
	if (f->flags & HQ_QF_END)
		r->body_end = true;
	hqc_event(r, HQC_EV_BODY);
	return 0;
}

static int
on_trailers(httpq_queue *q, const struct hq_qp_frame *f)
{
	httpq_req *r = hqc_find(q, f->id);

	if (!r || r->done)
		return 0;
	if (r->body_end || r->tblob)
		return perr(q, f, "trailers after the body's end");
	r->tblob = blob_copy(f);
	if (fields(q, f, r->tblob, &r->trailers, &r->ntrailers) < 0)
		return -1;
	return 0;
}

static int
u32_attr(const struct hq_qp_frame *f, uint16_t want, uint32_t *out)
{
	struct hq_qp_iter it;
	uint16_t tag;
	const unsigned char *v;
	uint32_t n;
	int rc, found = 0;

	hq_qp_iter_init(&it, f);
	while ((rc = hq_qp_next(&it, &tag, &v, &n)) == 1) {
		if (tag != want)
			continue;
		if (hq_qp_get_u32(v, n, out) < 0)
			return -1;
		found = 1;
	}
	return rc < 0 ? -1 : found;
}

/* A string attribute, copied; NULL if absent; *bad on a malformed one. */
static char *
str_attr(const struct hq_qp_frame *f, uint16_t want, bool *bad)
{
	struct hq_qp_iter it;
	uint16_t tag;
	const unsigned char *v;
	uint32_t n;
	int rc;
	char *s = NULL;

	hq_qp_iter_init(&it, f);
	while ((rc = hq_qp_next(&it, &tag, &v, &n)) == 1) {
		if (tag != want)
			continue;
		free(s);
		s = hq_qp_strdup(v, n);
		if (!s)
			*bad = true;
	}
	if (rc < 0)
		*bad = true;
	return s;
}

static int
on_send_credit(httpq_queue *q, const struct hq_qp_frame *f)
{
	httpq_req *r = hqc_find(q, f->id);
	uint32_t bytes;

	if (u32_attr(f, HQ_QA_BYTES, &bytes) != 1)
		return perr(q, f, "BYTES missing or malformed");
	if (!r || r->done)
		return 0;
	r->send_window += bytes;
	if (r->send_window > HQC_MAX_SEND_CREDIT)
		return perr(q, f, "send window over 2^40 bytes");
	if (r->want_writable) {
		r->want_writable = false;
		hqc_event(r, HQC_EV_WRITABLE);
	}
	return 0;
}

static int
on_disconnect(httpq_queue *q, const struct hq_qp_frame *f)
{
	httpq_req *r = hqc_find(q, f->id);
	bool bad = false;
	char *reason = str_attr(f, HQ_QA_REASON, &bad);

	if (bad) {
		free(reason);
		return perr(q, f, "malformed REASON");
	}
	if (!r || r->done || r->disconnected) {
		free(reason);
		return 0;
	}
	r->disconnected = true;
	r->disconnect_reason = reason;
	hqc_event(r, HQC_EV_DISCONNECT);
	return 0;
}

static int
on_result(httpq_queue *q, const struct hq_qp_frame *f)
{
	uint32_t st;
	bool bad = false;

	if (u32_attr(f, HQ_QA_STATUS, &st) != 1)
		return perr(q, f, "STATUS missing or malformed");
	char *msg = str_attr(f, HQ_QA_MESSAGE, &bad);
	if (bad) {
		free(msg);
		return perr(q, f, "malformed MESSAGE");
	}
	if (f->id != q->call_id || q->result_in) {
		free(msg);      /* the answer to a call that timed out */
		return 0;
	}
	q->result_in = true;
	q->result_status = st;
	free(q->result_msg);
	q->result_msg = msg;
	return 0;
}

static int
on_hello(httpq_queue *q, const struct hq_qp_frame *f)
{
	struct hq_qp_iter it;
	uint16_t tag;
	const unsigned char *v;
	uint32_t n, x, version = 0;
	int rc;

	if (q->hello_done)
		return perr(q, f, "HELLO twice");
	hq_qp_iter_init(&it, f);
	while ((rc = hq_qp_next(&it, &tag, &v, &n)) == 1) {
		uint32_t *dst = NULL;
		switch (tag) {
		case HQ_QA_VERSION: dst = &version; break;
		case HQ_QA_MAX_PAYLOAD: dst = &q->max_payload; break;
		case HQ_QA_BODY_WINDOW: dst = &q->body_window; break;
		case HQ_QA_SEND_WINDOW: dst = &q->send_window; break;
		case HQ_QA_NAME:
			free(q->server_name);
			q->server_name = hq_qp_strdup(v, n);
			if (!q->server_name)
				return perr(q, f, "malformed NAME");
			continue;
		default:
			continue;
		}
		if (hq_qp_get_u32(v, n, &x) < 0)
			return perr(q, f, "malformed attribute");
		*dst = x;
	}
	if (rc < 0)
		return perr(q, f, "truncated attribute");
	if (version != HQ_QP_VERSION)
		return hqc_fail(q, EPROTONOSUPPORT,
		    "httpqd speaks queue protocol version %" PRIu32 ", libhttpq %d",
		    version, HQ_QP_VERSION);
	/* A send window below a file's cost could never pass a file. */
	if (q->max_payload < 4096 || q->max_payload > HQ_QP_MAX_PAYLOAD ||
	    q->body_window == 0 || q->send_window < HQ_QP_FILE_COST)
		return perr(q, f, "MAX_PAYLOAD, BODY_WINDOW or SEND_WINDOW out of range");
	q->hello_done = true;
	return 0;
}

static int
on_frame(httpq_queue *q, const struct hq_qp_frame *f)
{
	if (!(hq_qp_dir(f->type) & HQ_QP_DIR_D))
		return perr(q, f, "a frame only clients send");
	if (!q->hello_done && f->type != HQ_QP_HELLO && f->type != HQ_QP_ERROR)
		return perr(q, f, "before HELLO");
	switch (f->type) {
	case HQ_QP_HELLO: return on_hello(q, f);
	case HQ_QP_RESULT: return on_result(q, f);
	case HQ_QP_REQUEST: return on_request(q, f);
	case HQ_QP_BODY: return on_body(q, f);
	case HQ_QP_TRAILERS: return on_trailers(q, f);
	case HQ_QP_SEND_CREDIT: return on_send_credit(q, f);
	case HQ_QP_DISCONNECT: return on_disconnect(q, f);
	case HQ_QP_SHUTDOWN:
		q->shutdown_seen = true;
		q->credit = 0;
		return 0;
	case HQ_QP_ERROR: {
		bool bad = false;
		char *msg = str_attr(f, HQ_QA_MESSAGE, &bad);
		hqc_fail(q, EPROTO, "httpqd: %s", msg ? msg : "ERROR without a message");
		free(msg);
		return -1;
	}
	default:
		return perr(q, f, "unexpected frame type");
	}
}

int
hqc_dispatch(httpq_queue *q)
{
	char err[128];

	while (!q->broken && q->in_off < q->in_len) {
		struct hq_qp_frame f;
		ssize_t n = hq_qp_parse(q->in + q->in_off, q->in_len - q->in_off, &f, err,
		    sizeof err);
		if (n == 0)
			break;
		if (n < 0)
			return hqc_fail(q, EPROTO, "httpqd broke the protocol: %s", err);
		q->in_off += (size_t)n;
		if (on_frame(q, &f) < 0)
			return -1;
	}
	if (q->in_off == q->in_len)
		q->in_off = q->in_len = 0;
	return hqc_check(q);
}

/*
 * One turn of waiting: writes what is pending, waits for the socket until
 * deadline (-1: no limit), reads what came and applies it.  1 = something
 * happened, 0 = the deadline passed, -1 = the connection failed.
 */
int
hqc_pump(httpq_queue *q, int64_t deadline)
{
	struct pollfd pfd;
	int timeout = -1, rc;

	if (hqc_flush(q) < 0)
		return -1;
	if (deadline >= 0) {
		int64_t left = deadline - hqc_now_ms();
		timeout = left <= 0 ? 0 : left > INT32_MAX ? INT32_MAX : (int)left;
	}
	pfd.fd = q->fd;
	pfd.events = POLLIN | (q->out.len ? POLLOUT : 0);
	do
		rc = poll(&pfd, 1, timeout);
	while (rc < 0 && errno == EINTR);
	if (rc < 0)
		return hqc_fail(q, errno, "poll: %s", strerror(errno));
	if (rc == 0)
		return 0;
	if (pfd.revents & POLLOUT && hqc_flush(q) < 0)
		return -1;
	if (pfd.revents & (POLLIN | POLLHUP | POLLERR)) {
		/* A few reads at most: a flood must not starve the caller. */
		for (int i = 0; i < 4; i++) {
			rc = hqc_fill(q);
			if (rc < 0 || hqc_dispatch(q) < 0)
				return -1;
			if (rc == 0)
				break;
		}
	}
	return 1;
}
