/*
 * attach.c -- request queues served by attached processes (http.sys's
 * request-queue handles), over the queue socket and httpq-protocol(7).
 *
 * Two halves, one per thread, that share only struct areq and talk by
 * messages:
 *
 *  - The consumer (worker threads).  A queue with `attach:` gets a
 *    consumer whose module is hq_attach_module, built in: config.c and
 *    conn.c see a module like any other.  Its handle() builds the REQUEST
 *    frame (the codec is pure) and posts it to the main thread; it reads
 *    the request body only once a process holds the request, and applies
 *    what the process answers with the public struct httpq_api.
 *
 *  - The handles (main thread).  The queue socket and every connection on
 *    it live on the main event base, as the control socket does.  A
 *    connection is one handle: it opens one queue, asks for requests with
 *    RECEIVE credit, and answers them.  Frames from a process are checked
 *    here (order, credits, windows) and then passed to the request's worker.
 *
 * Ownership of a request (the invariant that keeps this free of leaks and
 * use-after-free):
 *  - Only the worker releases a request (a final send, or finish()).  It
 *    does so only when it applies a message that main marked `last`; main
 *    sends exactly one last message per request, and nothing after it.
 *  - A request aborted on the worker (client gone, timer: on_abort) is not
 *    finished there: the worker posts W_ABORT; main then sends DISCONNECT
 *    to the process and the last message (M_FINISH), on which the worker
 *    calls finish().  If main had already sent a last message (the process
 *    answered, or died, at the same time), W_ABORT finds the request done
 *    and is dropped, and the worker finishes when it applies that last
 *    message: the send fails on the aborted request, so it calls finish().
 *    Either way finish() (or the releasing send) runs once, on the worker,
 *    for the one last message.
 *  - A worker that cannot apply a frame (a head the daemon refuses) marks
 *    the request broken and posts W_ABORT, as for an abort.
 *  - Main reaches the worker only through the request's inbox: messages are
 *    appended under the request's mutex, and one api->post() wakes the
 *    worker when the inbox was empty.  Main posts only while `wlive` (the
 *    worker has not begun to release), checked under the same mutex, so a
 *    post never reaches a connection that moved on to another request.
 *  - struct areq is reference counted: the worker holds one until it has
 *    released the request, main one until it sent the last message (or
 *    never got the request), and each worker->main message one.  What a
 *    stopping daemon abandons (a worker gave up a request at the drain
 *    timeout) is swept by hq_attach_free() once every thread is gone.
 *
 * Flow control (httpq-protocol(7)): a handle gets requests only against
 * RECEIVE credit; request body is read from the client only while less than
 * BODY_WINDOW bytes are unacknowledged (pause_body otherwise); response
 * bytes count against SEND_WINDOW, returned (SEND_CREDIT) as the worker's
 * output drains below HQ_OUT_LOWAT.  A handle's output is bounded by those
 * plus HQ_AT_OUT_CAP: above it the handle gets no new request and its input
 * is not read.  The daemon never blocks on a process.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "httpqd.h"

#define HQ_AT_OUT_CAP    (4u << 20)  /* a handle's unsent output: no more requests above */
#define HQ_AT_MAX_FDS    16          /* received fds not yet claimed by RESPONSE_FILE */
#define HQ_AT_MAX_GROUPS 256
#define HQ_AT_READ       (64 * 1024)
#define HQ_AT_IN_MAX     (HQ_QP_HEADER_LEN + HQ_QP_MAX_PAYLOAD + HQ_AT_READ)
#define HQ_AT_BODY_CHUNK (64 * 1024) /* BODY frames carry at most this */
#define HQ_AT_OPEN_S     10          /* from connect to a queue opened */

/* Main -> worker messages beyond the frame types they carry. */
enum { M_DELIVER = 100, M_FINISH, M_REJECT, M_CANCEL };

struct amsg {
	struct amsg *next;
	uint16_t type, flags;
	bool last;
	int fd;                        /* RESPONSE_FILE */
	uint32_t n;                    /* BODY_CREDIT bytes */
	uint64_t off, len;             /* RESPONSE_FILE */
	enum hq_error e;               /* M_REJECT */
	const char *reason;            /* M_REJECT, M_CANCEL: static */
	uint32_t plen;
	unsigned char payload[];       /* RESPONSE, RESPONSE_BODY, TRAILERS */
};

enum astate { A_NEW, A_QUEUED, A_HELD, A_DONE };

struct hq_attach_queue;
struct hq_attach_handle;

struct areq {
	atomic_int refs;
	httpq_request *r;
	struct hq_attach_queue *aq;
	uint64_t id;
	bool has_body;

	/* the inbox (main -> worker) */
	pthread_mutex_t mu;
	struct amsg *in_head, *in_tail;
	bool kicked;                   /* a wake-up is posted */
	bool wlive;                    /* the worker has not begun to release */

	/* worker thread only */
	bool reading, paused, broken, writable_armed, released;
	uint64_t body_out;             /* body bytes handed on, not acknowledged */
	unsigned char *held;           /* body bytes past the window, kept until */
	size_t nheld;                  /* credit comes: bounded by what arrives */
	bool held_end;                 /* before pause_body() takes hold */
	uint64_t owed;                 /* send credit not yet returned */

	/* main thread only */
	enum astate st;
	struct hq_attach_handle *h;
	struct areq *qnext, *qprev;    /* the queue's FIFO */
	struct areq *hnext;            /* the handle's table */
	struct event *timer;           /* request_queue */
	uint32_t wait_s;
	unsigned char *reqframe;       /* REQUEST, built on the worker */
	size_t reqlen;
	bool resp_started;
	uint64_t body_unacked;
	uint64_t send_avail;

	/* every areq, for the sweep at exit (A.all_mu) */
	struct areq *gprev, *gnext;
};

/* Worker -> main messages. */
enum wkind { W_NEW, W_BODY, W_CREDIT, W_ABORT };
struct wmsg {
	struct areq *a;
	enum wkind k;
	uint64_t n;
	const char *reason;
	size_t len;
	unsigned char data[];
};

/* A queue's attach object: outlives snapshots (found by name), main thread. */
struct hq_attach_queue {
	char *name;
	int cfg_refs;                  /* consumers (snapshots) using it */
	struct hq_attach_handle *handles;
	struct hq_attach_handle *wait_head, *wait_tail; /* handles with credit */
	struct areq *fifo_head, *fifo_tail;
	size_t nqueued;
	struct hq_attach_queue *next;
};

struct hq_attach_handle {
	int fd;
	struct event rev, wev, tev;
	bool wev_on, read_off;
	bool flush_due;                /* wev made active for this loop turn */
	bool dead;                     /* closed; freed at the end of its callback */
	int busy;                      /* inside one of its callbacks */
	pid_t pid;
	uid_t uid;
	gid_t gid;
	gid_t *gids;
	size_t ngids;
	char cmd[128];                 /* /proc/PID/cmdline, for show */
	char name[64];                 /* HELLO NAME */
	time_t since;
	bool hello;
	bool shut;                     /* SHUTDOWN either way: no more requests */
	unsigned role;
	struct hq_attach_queue *aq;
	uint32_t credits;
	bool waiting;
	struct hq_attach_handle *wprev, *wnext;
	struct hq_attach_handle *prev, *next;
	struct areq **tab;
	size_t tabsize, nheld;
	uint64_t delivered;
	struct hq_qp_buf out;
	unsigned char *in;
	size_t inlen, incap;
	int fds[HQ_AT_MAX_FDS];
	size_t nfds;
	struct hq_attach_rtq *rtq;     /* its run-time queue's consumer (a reference) */
	bool creator;                  /* it created that queue (CREATE_QUEUE) */
};

static struct {
	struct event_base *base;
	struct hq_mailbox *mb;
	const struct httpq_api *api;
	const struct hq_attach_ops *ops;
	char *override;                /* httpqd -Q */
	char *path;
	struct evconnlistener *lev;
	struct event *resume;
	struct hq_attach_queue *queues;
	struct hq_attach_handle *loose; /* handles without a queue */
	bool draining, stopped;
	pthread_mutex_t all_mu;
	struct areq *all;
} A = { .all_mu = PTHREAD_MUTEX_INITIALIZER };

/* ---------------------------------------------------------------------
 * struct areq
 * ------------------------------------------------------------------- */

static void
msg_free(struct amsg *m)
{
	if (m->type == HQ_QP_RESPONSE_FILE && m->fd >= 0)
		close(m->fd);
	free(m);
}

static void
areq_free(struct areq *a)
{
	struct amsg *m, *next;

	for (m = a->in_head; m != NULL; m = next) {
		next = m->next;
		msg_free(m);
	}
	free(a->reqframe);
	free(a->held);
	pthread_mutex_destroy(&a->mu);
	free(a);
}

static void
areq_unref(struct areq *a)
{
	if (atomic_fetch_sub_explicit(&a->refs, 1, memory_order_acq_rel) != 1)
		return;
	pthread_mutex_lock(&A.all_mu);
	if (a->gprev)
		a->gprev->gnext = a->gnext;
	else
		A.all = a->gnext;
	if (a->gnext)
		a->gnext->gprev = a->gprev;
	pthread_mutex_unlock(&A.all_mu);
	areq_free(a);
}

/* ---------------------------------------------------------------------
 * The consumer: worker threads
 * ------------------------------------------------------------------- */

static void main_on_wmsg(void *arg);
static void rt_closed(struct hq_attach_handle *h);
static void aq_retire(struct hq_attach_queue *q);
static const char *role_name(unsigned role);

/* Posts a message to the main thread; it holds a reference of a. */
static int
w_post(struct areq *a, enum wkind k, uint64_t n, const char *reason,
    const void *data, size_t len)
{
	struct wmsg *w = xmalloc(sizeof(*w) + len);

	w->a = a;
	w->k = k;
	w->n = n;
	w->reason = reason;
	w->len = len;
	if (len > 0)
		memcpy(w->data, data, len);
	atomic_fetch_add_explicit(&a->refs, 1, memory_order_relaxed);
	if (hq_mailbox_post(A.mb, main_on_wmsg, w) != 0) {
		atomic_fetch_sub_explicit(&a->refs, 1, memory_order_relaxed);
		free(w);
		return -1;
	}
	return 0;
}

static void
put_addr(struct hq_qp_buf *b, uint16_t tag, const struct sockaddr *sa)
{
	char text[80];

	if (sa != NULL && hq_addr_text(sa, HQ_ADDR_PORT, text, sizeof(text)) > 0)
		hq_qp_put_str(b, tag, text);
}

static void
put_hs(struct hq_qp_buf *b, uint16_t tag, httpq_str s)
{
	if (s.ptr != NULL)
		hq_qp_put(b, tag, s.ptr, s.len);
}

/* QUERY with its '?' (http.sys's CookedUrl.pQueryString), if there is one. */
static void
put_query(struct hq_qp_buf *b, httpq_str q)
{
	char *s;

	if (q.ptr == NULL || q.len == 0)
		return;
	s = xmalloc(q.len + 1);
	s[0] = '?';
	memcpy(s + 1, q.ptr, q.len);
	hq_qp_put(b, HQ_QA_QUERY, s, q.len + 1);
	free(s);
}

/* The REQUEST frame of r: -1 if it would be over MAX_PAYLOAD. */
static int
build_request(struct hq_qp_buf *b, const struct httpq_api *api, httpq_request *r,
    bool has_body)
{
	const httpq_tls_info *tls = api->tls_info(r);
	size_t nh = api->header_count(r);
	socklen_t len;
	unsigned flags = has_body ? HQ_QF_HAS_BODY : 0;

	if (tls != NULL && tls->is_tls)
		flags |= HQ_QF_TLS;
	hq_qp_begin(b, HQ_QP_REQUEST, (uint16_t)flags, api->request_id(r));
	put_hs(b, HQ_QA_METHOD, api->method(r));
	put_hs(b, HQ_QA_RAW_URL, api->raw_url(r));
	put_hs(b, HQ_QA_COOKED_URL, api->cooked_url(r));
	put_hs(b, HQ_QA_PATH, api->path(r));
	put_query(b, api->query(r));
	put_hs(b, HQ_QA_HOST, api->host(r));
	hq_qp_put_u32(b, HQ_QA_VERSION, (uint32_t)api->version(r));
	for (size_t i = 0; i < nh; i++) {
		httpq_str n, v;

		if (api->header_at(r, i, &n, &v) == 0)
			hq_qp_put_header(b, n.ptr, n.len, v.ptr ? v.ptr : "", v.len);
	}
	put_addr(b, HQ_QA_REMOTE_ADDR, api->remote_addr(r, &len));
	put_addr(b, HQ_QA_LOCAL_ADDR, api->local_addr(r, &len));
	put_hs(b, HQ_QA_URL_PREFIX, api->url_prefix(r));
	put_hs(b, HQ_QA_URL_GROUP, api->url_group(r));
	hq_qp_put_u64(b, HQ_QA_CONNECTION_ID, api->connection_id(r));
	hq_qp_put_i64(b, HQ_QA_CONTENT_LENGTH, api->content_length(r));
	if (flags & HQ_QF_TLS) {
		put_hs(b, HQ_QA_TLS_PROTOCOL, tls->protocol);
		put_hs(b, HQ_QA_TLS_CIPHER, tls->cipher);
		put_hs(b, HQ_QA_TLS_SNI, tls->sni);
		put_hs(b, HQ_QA_TLS_CLIENT_SUBJECT, tls->client_subject);
		put_hs(b, HQ_QA_TLS_CLIENT_FINGERPRINT, tls->client_fingerprint_sha256);
		hq_qp_put_u32(b, HQ_QA_TLS_CLIENT_VERIFIED, (uint32_t)tls->client_cert_verified);
	}
	return hq_qp_end(b);
}

static void
w_on_abort(httpq_request *r, void *arg)
{
	struct areq *a = arg;

	if (a->released || a->broken)
		return;
	a->broken = true;
	w_post(a, W_ABORT, 0, NULL, NULL, 0);
}

/* Request body from the client: BODY frames (TRAILERS before the END). */
/* Hands body bytes on as BODY frames (the last with END, after the
 * trailers); the caller keeps them within the window. */
static void
w_send_body(struct areq *a, httpq_request *r, const unsigned char *p, size_t len,
    bool end)
{
	const struct httpq_api *api = A.api;
	struct hq_qp_buf b = { 0 };
	size_t left = len;

	do {
		size_t n = left < HQ_AT_BODY_CHUNK ? left : HQ_AT_BODY_CHUNK;
		bool last = end && n == left;

		if (last && api->trailer_count(r) > 0) {
			hq_qp_begin(&b, HQ_QP_TRAILERS, 0, a->id);
			for (size_t i = 0; i < api->trailer_count(r); i++) {
				httpq_str tn, tv;

				if (api->trailer_at(r, i, &tn, &tv) == 0)
					hq_qp_put_header(&b, tn.ptr, tn.len,
					    tv.ptr ? tv.ptr : "", tv.len);
			}
			hq_qp_end(&b);
		}
		hq_qp_begin(&b, HQ_QP_BODY, last ? HQ_QF_END : 0, a->id);
		hq_qp_put_raw(&b, p, n);
		hq_qp_end(&b);
		p += n;
		left -= n;
	} while (left > 0);
	a->body_out += len;
	w_post(a, W_BODY, len, NULL, b.p, b.len);
	hq_qp_buf_free(&b);
}

static size_t
w_body_room(const struct areq *a)
{
	return a->body_out < HQ_QP_BODY_WINDOW ? HQ_QP_BODY_WINDOW - a->body_out : 0;
}

/*
 * The body as the daemon reads it.  At most the window is in flight
 * (httpq-protocol(7)); what arrives past it, before pause_body() takes
 * hold (at most one read of the connection), waits in a->held for
 * BODY_CREDIT (w_body_credit).
 */
static void
w_on_body(httpq_request *r, void *arg, const void *data, size_t len, unsigned flags)
{
	struct areq *a = arg;
	const unsigned char *p = data;
	bool end = (flags & HTTPQ_BODY_END) != 0;
	size_t now;

	if ((flags & HTTPQ_BODY_ERROR) || a->released || a->broken)
		return;
	now = a->nheld > 0 ? 0 : w_body_room(a);
	if (now > len)
		now = len;
	if (now > 0 || (len == 0 && end && a->nheld == 0))
		w_send_body(a, r, p, now, end && now == len);
	if (now < len || (end && a->nheld > 0)) {
		a->held = xrealloc(a->held, a->nheld + (len - now));
		memcpy(a->held + a->nheld, p + now, len - now);
		a->nheld += len - now;
		a->held_end = end;
	}
	if ((a->body_out >= HQ_QP_BODY_WINDOW || a->nheld > 0) && !a->paused && !end) {
		a->paused = true;
		A.api->pause_body(r, 1);
	}
}

/* BODY_CREDIT: what was held goes first, then reading resumes. */
static void
w_body_credit(struct areq *a, httpq_request *r, uint64_t n)
{
	a->body_out -= n < a->body_out ? n : a->body_out;
	if (a->broken)
		return;
	if (a->nheld > 0) {
		size_t now = w_body_room(a);

		if (now > a->nheld)
			now = a->nheld;
		if (now == 0)
			return;
		w_send_body(a, r, a->held, now, a->held_end && now == a->nheld);
		memmove(a->held, a->held + now, a->nheld - now);
		a->nheld -= now;
		if (a->nheld > 0)
			return;
		free(a->held);
		a->held = NULL;
		if (a->held_end)
			return;
	}
	if (a->paused && a->body_out < HQ_QP_BODY_WINDOW) {
		a->paused = false;
		A.api->pause_body(r, 0);
	}
}

static void w_credit(struct areq *a);

static void
w_on_writable(httpq_request *r, void *arg)
{
	struct areq *a = arg;

	a->writable_armed = false;
	w_credit(a);
}

/* Returns send credit once the response bytes have (mostly) left. */
static void
w_credit(struct areq *a)
{
	if (a->released || a->broken || a->owed == 0)
		return;
	if (A.api->pending(a->r) < HQ_OUT_LOWAT) {
		w_post(a, W_CREDIT, a->owed, NULL, NULL, 0);
		a->owed = 0;
	} else if (!a->writable_armed) {
		a->writable_armed = true;
		A.api->on_writable(a->r, w_on_writable, a);
	}
}

#define HQ_AT_MAX_HEADERS 256

/* The HEADER attributes of a checked frame (RESPONSE, TRAILERS). */
static size_t
frame_headers(const unsigned char *p, uint32_t n, httpq_header *h, size_t cap,
    uint32_t *status, char **reason)
{
	struct hq_qp_frame f = { .payload = p, .len = n };
	struct hq_qp_iter it;
	const unsigned char *v;
	uint32_t vlen;
	uint16_t tag;
	size_t nh = 0;

	hq_qp_iter_init(&it, &f);
	while (hq_qp_next(&it, &tag, &v, &vlen) == 1) {
		struct hq_str hn, hv;

		if (tag == HQ_QA_HEADER && nh < cap &&
		    hq_qp_split_header(v, vlen, &hn, &hv) == 0)
			h[nh++] = (httpq_header){ hn.p, hn.n, hv.p ? hv.p : "", hv.n };
		else if (tag == HQ_QA_STATUS && status != NULL)
			hq_qp_get_u32(v, vlen, status);
		else if (tag == HQ_QA_REASON && reason != NULL && *reason == NULL)
			*reason = hq_qp_strdup(v, vlen);
	}
	return nh;
}

/* Before a call that may release the request: main posts nothing more. */
static void
w_stop_posts(struct areq *a)
{
	pthread_mutex_lock(&a->mu);
	a->wlive = false;
	pthread_mutex_unlock(&a->mu);
}

static unsigned
send_flags(const struct amsg *m)
{
	return (m->flags & HQ_QF_END ? 0u : (unsigned)HTTPQ_SEND_MORE) |
	    (m->flags & HQ_QF_DISCONNECT ? (unsigned)HTTPQ_SEND_DISCONNECT : 0u);
}

/* The worker could not apply a frame: like an abort. */
static void
w_broken(struct areq *a, const char *why)
{
	if (a->broken)
		return;
	a->broken = true;
	w_post(a, W_ABORT, 0, why, NULL, 0);
}

/* Applies one message of the inbox.  A `last` one releases the request. */
static void
w_apply(struct areq *a, struct amsg *m)
{
	const struct httpq_api *api = A.api;
	httpq_request *r = a->r;
	httpq_header hdrs[HQ_AT_MAX_HEADERS];
	int rc = 0;

	if (a->released)
		return;
	if (m->last)
		w_stop_posts(a);
	switch (m->type) {
	case M_DELIVER:
		if (a->has_body && !a->broken && !a->reading) {
			a->reading = true;
			api->read_body(r, w_on_body, a);
		}
		break;
	case HQ_QP_BODY_CREDIT:
		w_body_credit(a, r, m->n);
		break;
	case HQ_QP_RESPONSE: {
		uint32_t status = 0;
		char *reason = NULL;
		size_t nh = frame_headers(m->payload, m->plen, hdrs, HQ_AT_MAX_HEADERS,
		    &status, &reason);

		rc = a->broken ? -1 : api->send_head(r, (int)status, reason, hdrs, nh,
		    send_flags(m));
		free(reason);
		break;
	}
	case HQ_QP_RESPONSE_BODY:
		rc = a->broken ? -1 : api->send_body(r, m->payload, m->plen, send_flags(m));
		a->owed += m->plen;
		break;
	case HQ_QP_RESPONSE_FILE:
		if (a->broken) {
			close(m->fd);
			rc = -1;
		} else {
			rc = api->send_file(r, m->fd, m->off, m->len, send_flags(m));
		}
		m->fd = -1;
		a->owed += HQ_QP_FILE_COST;
		break;
	case HQ_QP_TRAILERS: {
		size_t nh = frame_headers(m->payload, m->plen, hdrs, HQ_AT_MAX_HEADERS,
		    NULL, NULL);

		rc = a->broken ? -1 : api->send_trailers(r, hdrs, nh);
		break;
	}
	case M_REJECT:
		hq_conn_giveup(r, m->e, m->reason, false);
		a->released = true;
		return;
	case M_CANCEL:
		hq_conn_giveup(r, HQ_OK, m->reason, true);
		a->released = true;
		return;
	case M_FINISH:
		rc = -1;
		break;
	}
	if (m->last) {
		/* The send released the request, or it failed: finish(). */
		if (rc < 0)
			api->finish(r);
		a->released = true;
	} else if (rc < 0) {
		w_broken(a, "the daemon refused the response (bad head, or more "
		    "body than its Content-Length)");
	}
}

/* Wakes on main's post: applies the inbox in order. */
static void
w_on_kick(httpq_request *r, void *arg)
{
	struct areq *a = arg;

	for (;;) {
		struct amsg *m, *next;

		pthread_mutex_lock(&a->mu);
		m = a->in_head;
		a->in_head = a->in_tail = NULL;
		if (m == NULL)
			a->kicked = false;
		pthread_mutex_unlock(&a->mu);
		if (m == NULL)
			break;
		for (; m != NULL; m = next) {
			next = m->next;
			w_apply(a, m);
			msg_free(m);
		}
	}
	if (a->released)
		areq_unref(a);
	else
		w_credit(a);
}

static void
at_handle(void *state, httpq_request *r)
{
	const struct httpq_api *api = A.api;
	struct areq *a = xcalloc(1, sizeof(*a));
	struct hq_qp_buf b = { 0 };

	atomic_init(&a->refs, 1);      /* the worker's */
	pthread_mutex_init(&a->mu, NULL);
	a->r = r;
	a->aq = state;
	a->id = api->request_id(r);
	a->has_body = api->content_length(r) != 0;
	a->wlive = true;
	a->send_avail = HQ_QP_SEND_WINDOW;
	a->wait_s = r->group->t.request_queue;
	if (build_request(&b, api, r, a->has_body) < 0) {
		hq_qp_buf_free(&b);
		areq_free(a);
		hq_conn_giveup(r, HQ_ERR_INTERNAL, "Internal", false);
		return;
	}
	a->reqframe = b.p;
	a->reqlen = b.len;
	api->set_user_data(r, a);
	api->on_abort(r, w_on_abort, a);
	pthread_mutex_lock(&A.all_mu);
	a->gnext = A.all;
	if (A.all)
		A.all->gprev = a;
	A.all = a;
	pthread_mutex_unlock(&A.all_mu);
	if (w_post(a, W_NEW, 0, NULL, NULL, 0) < 0) {
		/* The main thread is gone: stopping. */
		a->released = true;
		hq_conn_giveup(r, HQ_ERR_SHUTDOWN, "AppShutdown", false);
		areq_unref(a);
	}
}

/* ---------------------------------------------------------------------
 * Queues (main thread)
 * ------------------------------------------------------------------- */

static struct hq_attach_queue *
aq_find(const char *name)
{
	for (struct hq_attach_queue *q = A.queues; q != NULL; q = q->next)
		if (strcmp(q->name, name) == 0)
			return q;
	return NULL;
}

struct hq_attach_queue *
hq_attach_queue_get(const char *name, bool create)
{
	struct hq_attach_queue *q = aq_find(name);

	if (q != NULL || !create)
		return q;
	q = xcalloc(1, sizeof(*q));
	q->name = xstrdup(name);
	q->next = A.queues;
	A.queues = q;
	return q;
}

const char *
hq_attach_queue_name(const struct hq_attach_queue *q)
{
	return q->name;
}

static void
fifo_remove(struct hq_attach_queue *q, struct areq *a)
{
	if (a->qprev)
		a->qprev->qnext = a->qnext;
	else
		q->fifo_head = a->qnext;
	if (a->qnext)
		a->qnext->qprev = a->qprev;
	else
		q->fifo_tail = a->qprev;
	a->qnext = a->qprev = NULL;
	q->nqueued--;
}

static void
waiter_remove(struct hq_attach_handle *h)
{
	struct hq_attach_queue *q = h->aq;

	if (!h->waiting)
		return;
	if (h->wprev)
		h->wprev->wnext = h->wnext;
	else
		q->wait_head = h->wnext;
	if (h->wnext)
		h->wnext->wprev = h->wprev;
	else
		q->wait_tail = h->wprev;
	h->wprev = h->wnext = NULL;
	h->waiting = false;
}

static void
waiter_append(struct hq_attach_handle *h)
{
	struct hq_attach_queue *q = h->aq;

	if (h->waiting || h->shut || h->dead || h->credits == 0)
		return;
	h->waiting = true;
	h->wprev = q->wait_tail;
	h->wnext = NULL;
	if (q->wait_tail)
		q->wait_tail->wnext = h;
	else
		q->wait_head = h;
	q->wait_tail = h;
}

/* --- the handle's table of held requests, by id --- */

static size_t
tab_slot(const struct hq_attach_handle *h, uint64_t id)
{
	return (size_t)((id * 0x9E3779B97F4A7C15ull) >> 32) & (h->tabsize - 1);
}

static void
tab_insert(struct hq_attach_handle *h, struct areq *a)
{
	if (h->nheld + 1 > h->tabsize) {
		size_t old = h->tabsize;
		struct areq **t = h->tab;

		h->tabsize = old ? old * 2 : 64;
		h->tab = xcalloc(h->tabsize, sizeof(*h->tab));
		for (size_t i = 0; i < old; i++)
			for (struct areq *x = t[i], *nx; x != NULL; x = nx) {
				size_t s = tab_slot(h, x->id);

				nx = x->hnext;
				x->hnext = h->tab[s];
				h->tab[s] = x;
			}
		free(t);
	}
	size_t s = tab_slot(h, a->id);

	a->hnext = h->tab[s];
	h->tab[s] = a;
	h->nheld++;
}

static struct areq *
tab_find(const struct hq_attach_handle *h, uint64_t id)
{
	if (h->tabsize == 0)
		return NULL;
	for (struct areq *a = h->tab[tab_slot(h, id)]; a != NULL; a = a->hnext)
		if (a->id == id)
			return a;
	return NULL;
}

static void
tab_remove(struct hq_attach_handle *h, struct areq *a)
{
	struct areq **pp = &h->tab[tab_slot(h, a->id)];

	for (; *pp != NULL; pp = &(*pp)->hnext)
		if (*pp == a) {
			*pp = a->hnext;
			h->nheld--;
			return;
		}
}

/* --- main -> worker --- */

/* The request_queue timer exists only while the request waits (main). */
static void
timer_drop(struct areq *a)
{
	if (a->timer != NULL) {
		event_free(a->timer);
		a->timer = NULL;
	}
}

static struct amsg *
msg_new(uint16_t type, uint16_t flags, const void *payload, uint32_t plen)
{
	struct amsg *m = xcalloc(1, sizeof(*m) + plen);

	m->type = type;
	m->flags = flags;
	m->fd = -1;
	m->plen = plen;
	if (plen > 0)
		memcpy(m->payload, payload, plen);
	return m;
}

/* Appends m to a's inbox and wakes the worker (main thread). */
static void
to_worker(struct areq *a, struct amsg *m)
{
	pthread_mutex_lock(&a->mu);
	if (!a->wlive || A.stopped) {
		pthread_mutex_unlock(&a->mu);
		msg_free(m);
		return;
	}
	if (a->in_tail)
		a->in_tail->next = m;
	else
		a->in_head = m;
	a->in_tail = m;
	if (!a->kicked) {
		/* Under the mutex: the worker cannot begin to release now, so
		 * the post reaches this request (or is dropped by request.c
		 * if it is released before it runs). */
		a->kicked = A.api->post(a->r, w_on_kick, a) == 0;
	}
	pthread_mutex_unlock(&a->mu);
}

/* Main is done with a: m is the last message.  Drops main's reference. */
static void
main_done(struct areq *a, struct amsg *m)
{
	struct hq_attach_handle *h = a->h;

	if (a->st == A_QUEUED)
		fifo_remove(a->aq, a);
	else if (a->st == A_HELD && h != NULL)
		tab_remove(h, a);
	a->st = A_DONE;
	a->h = NULL;
	timer_drop(a);
	m->last = true;
	to_worker(a, m);
	areq_unref(a);
}

static void
main_reject(struct areq *a, enum hq_error e, const char *reason)
{
	struct amsg *m = msg_new(M_REJECT, 0, NULL, 0);

	m->e = e;
	m->reason = reason;
	main_done(a, m);
}

static void h_out_changed(struct hq_attach_handle *h);

/* Bytes of whole frames to h's output. */
static void
out_append(struct hq_attach_handle *h, const void *p, size_t n)
{
	struct hq_qp_buf *o = &h->out;

	if (o->cap - o->len < n) {
		o->cap = (o->len + n) * 2;
		o->p = xrealloc(o->p, o->cap);
	}
	memcpy(o->p + o->len, p, n);
	o->len += n;
	o->start = o->len;
}

static bool
h_can_take(const struct hq_attach_handle *h)
{
	return h->credits > 0 && !h->shut && !h->dead && h->out.len < HQ_AT_OUT_CAP;
}

/* Hands a to h: its REQUEST frame goes out, its body may start. */
static void
deliver(struct hq_attach_handle *h, struct areq *a)
{
	timer_drop(a);
	out_append(h, a->reqframe, a->reqlen);
	free(a->reqframe);
	a->reqframe = NULL;
	a->h = h;
	a->st = A_HELD;
	tab_insert(h, a);
	h->credits--;
	h->delivered++;
	waiter_remove(h);
	waiter_append(h);  /* to the tail: the longest-waiting handle goes first */
	if (a->has_body)   /* the body starts to flow now */
		to_worker(a, msg_new(M_DELIVER, 0, NULL, 0));
	h_out_changed(h);
}

/* Queued requests to handles with credit, oldest first. */
static void
aq_pump(struct hq_attach_queue *q)
{
	while (q->fifo_head != NULL) {
		struct hq_attach_handle *h = q->wait_head;

		while (h != NULL && !h_can_take(h))
			h = h->wnext;
		if (h == NULL)
			return;
		struct areq *a = q->fifo_head;

		fifo_remove(q, a);
		deliver(h, a);
	}
}

static void
on_queue_timer(evutil_socket_t fd, short what, void *arg)
{
	struct areq *a = arg;

	if (a->st != A_QUEUED)
		return;
	hq_log_about(LOG_INFO, a->aq->name, NULL, "request %llu waited %u s in "
	    "queue \"%s\" and no process took it: 503",
	    (unsigned long long)a->id, a->wait_s, a->aq->name);
	main_reject(a, HQ_ERR_NO_CONSUMER, "Timer_ReqQueue");
}

/* A new request: to a handle with credit, else into the queue. */
static void
main_new(struct areq *a)
{
	struct hq_attach_queue *q = a->aq;

	a->st = A_NEW;
	if (A.draining || q->cfg_refs == 0) {
		main_reject(a, HQ_ERR_SHUTDOWN, "AppShutdown");
		return;
	}
	a->st = A_QUEUED;
	a->qprev = q->fifo_tail;
	if (q->fifo_tail)
		q->fifo_tail->qnext = a;
	else
		q->fifo_head = a;
	q->fifo_tail = a;
	q->nqueued++;
	if (a->wait_s != HQ_TIMEOUT_OFF) {
		a->timer = evtimer_new(A.base, on_queue_timer, a);
		event_add(a->timer, &(struct timeval){ (time_t)a->wait_s, 0 });
	}
	aq_pump(q);
}

static const char *
abort_reason(const struct areq *a, const char *why)
{
	return why ? why : "the client's connection ended: the client closed it, "
	    "a timer expired, or its body was malformed";
}

/* A message from a worker. */
static void
main_on_wmsg(void *arg)
{
	struct wmsg *w = arg;
	struct areq *a = w->a;
	struct hq_attach_handle *h = a->h;

	if (A.stopped) {
		/* Nothing goes to the workers any more. */
	} else if (w->k == W_NEW) {
		main_new(a);
		free(w);
		return; /* its reference is main's now */
	} else if (w->k == W_BODY && a->st == A_HELD) {
		out_append(h, w->data, w->len);
		a->body_unacked += w->n;
		h_out_changed(h);
	} else if (w->k == W_CREDIT && a->st == A_HELD) {
		hq_qp_begin(&h->out, HQ_QP_SEND_CREDIT, 0, a->id);
		hq_qp_put_u32(&h->out, HQ_QA_BYTES, (uint32_t)w->n);
		hq_qp_end(&h->out);
		a->send_avail += w->n;
		h_out_changed(h);
	} else if (w->k == W_ABORT && (a->st == A_QUEUED || a->st == A_HELD)) {
		if (a->st == A_HELD) {
			hq_qp_begin(&h->out, HQ_QP_DISCONNECT, 0, a->id);
			hq_qp_put_str(&h->out, HQ_QA_REASON, abort_reason(a, w->reason));
			hq_qp_end(&h->out);
			h_out_changed(h);
		}
		main_done(a, msg_new(M_FINISH, 0, NULL, 0));
	}
	areq_unref(a);
	free(w);
}

/* ---------------------------------------------------------------------
 * Handles (main thread)
 * ------------------------------------------------------------------- */

static void
h_list_remove(struct hq_attach_handle *h)
{
	struct hq_attach_handle **head = h->aq ? &h->aq->handles : &A.loose;

	if (h->prev)
		h->prev->next = h->next;
	else if (*head == h)
		*head = h->next;
	if (h->next)
		h->next->prev = h->prev;
	h->prev = h->next = NULL;
}

static void
h_list_add(struct hq_attach_handle *h)
{
	struct hq_attach_handle **head = h->aq ? &h->aq->handles : &A.loose;

	h->prev = NULL;
	h->next = *head;
	if (*head)
		(*head)->prev = h;
	*head = h;
}

/* h holds q now, with role (HQ_QP_ROLE_* bits). */
static void
h_take_queue(struct hq_attach_handle *h, struct hq_attach_queue *q, unsigned role)
{
	h_list_remove(h);
	h->aq = q;
	h->role = role;
	h_list_add(h);
}

static void
h_free(struct hq_attach_handle *h)
{
	event_del(&h->tev);
	hq_qp_buf_free(&h->out);
	free(h->in);
	free(h->tab);
	free(h->gids);
	free(h);
}

/* Closes h: its held requests get 503 (response not started) or lose
 * their connection; nothing is freed (h_release does, out of callbacks). */
static void
h_close(struct hq_attach_handle *h, int prio, const char *why)
{
	if (h->dead)
		return;
	h->dead = true;
	hq_log_about(prio, h->aq ? h->aq->name : NULL, NULL, "attach: pid %ld uid "
	    "%ld%s%s%s: %s; %zu request%s held", (long)h->pid, (long)h->uid,
	    h->aq ? " queue \"" : "", h->aq ? h->aq->name : "", h->aq ? "\"" : "",
	    why, h->nheld, h->nheld == 1 ? "" : "s");
	event_del(&h->rev);
	event_del(&h->wev);
	event_del(&h->tev);
	close(h->fd);
	h->fd = -1;
	for (size_t i = 0; i < h->nfds; i++)
		close(h->fds[i]);
	h->nfds = 0;
	if (h->aq)
		waiter_remove(h);
	h_list_remove(h);
	for (size_t i = 0; i < h->tabsize; i++)
		while (h->tab[i] != NULL)
			main_reject(h->tab[i], HQ_ERR_NO_CONSUMER,
			    "Connection_Abandoned_By_ReqQueue");
	rt_closed(h);
}

/* At the end of each of h's callbacks. */
static void
h_release(struct hq_attach_handle *h)
{
	if (h->busy == 0 && h->dead)
		h_free(h);
}

static void
h_out_changed(struct hq_attach_handle *h)
{
	if (h->dead || h->out.len == 0 || h->wev_on || h->flush_due)
		return;
	/* Written once per loop turn, with what piled up by then: the write
	 * callback runs after this turn's other callbacks, and is armed in
	 * epoll only if the socket does not take everything. */
	h->flush_due = true;
	event_active(&h->wev, EV_WRITE, 1);
}

static void __attribute__((format(printf, 4, 5)))
h_result(struct hq_attach_handle *h, uint64_t id, uint32_t status, const char *fmt, ...)
{
	char msg[512] = "";
	va_list ap;

	if (fmt != NULL) {
		va_start(ap, fmt);
		vsnprintf(msg, sizeof(msg), fmt, ap);
		va_end(ap);
	}
	hq_qp_begin(&h->out, HQ_QP_RESULT, 0, id);
	hq_qp_put_u32(&h->out, HQ_QA_STATUS, status);
	if (msg[0])
		hq_qp_put_str(&h->out, HQ_QA_MESSAGE, msg);
	hq_qp_end(&h->out);
	h_out_changed(h);
}

/* A protocol violation: ERROR, a best-effort write, and close. */
static void __attribute__((format(printf, 2, 3)))
h_violation(struct hq_attach_handle *h, const char *fmt, ...)
{
	char msg[400];
	va_list ap;
	char why[480];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	hq_qp_begin(&h->out, HQ_QP_ERROR, 0, 0);
	hq_qp_put_str(&h->out, HQ_QA_MESSAGE, msg);
	hq_qp_end(&h->out);
	if (write(h->fd, h->out.p, h->out.len) < 0) {
		/* closing anyway */
	}
	snprintf(why, sizeof(why), "protocol error: %s; closed", msg);
	h_close(h, LOG_WARNING, why);
}

/* --- frames from the process --- */

static void
on_hello(struct hq_attach_handle *h, const struct hq_qp_frame *f)
{
	struct hq_qp_iter it;
	const unsigned char *v;
	uint32_t vlen, version = 0;
	uint16_t tag;
	int rc;

	hq_qp_iter_init(&it, f);
	while ((rc = hq_qp_next(&it, &tag, &v, &vlen)) == 1) {
		if (tag == HQ_QA_VERSION && hq_qp_get_u32(v, vlen, &version) < 0) {
			h_violation(h, "HELLO: VERSION is not a u32");
			return;
		}
		if (tag == HQ_QA_NAME)
			snprintf(h->name, sizeof(h->name), "%.*s",
			    (int)(vlen < 63 ? vlen : 63), (const char *)v);
	}
	if (rc < 0) {
		h_violation(h, "HELLO: truncated attribute");
		return;
	}
	if (version != HQ_QP_VERSION) {
		h_violation(h, "protocol version %u not spoken: httpqd speaks %u",
		    version, HQ_QP_VERSION);
		return;
	}
	for (char *p = h->name; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	h->hello = true;
	hq_qp_begin(&h->out, HQ_QP_HELLO, 0, 0);
	hq_qp_put_u32(&h->out, HQ_QA_VERSION, HQ_QP_VERSION);
	hq_qp_put_str(&h->out, HQ_QA_NAME, "httpq/" PACKAGE_VERSION);
	hq_qp_put_u32(&h->out, HQ_QA_MAX_PAYLOAD, HQ_QP_MAX_PAYLOAD);
	hq_qp_put_u32(&h->out, HQ_QA_BODY_WINDOW, HQ_QP_BODY_WINDOW);
	hq_qp_put_u32(&h->out, HQ_QA_SEND_WINDOW, HQ_QP_SEND_WINDOW);
	hq_qp_end(&h->out);
	h_out_changed(h);
}

/* ---------------------------------------------------------------------
 * Run-time registration: CREATE_QUEUE, ADD_URL, REMOVE_URL (registry.c
 * decides and owns names and URLs; this file decodes, answers and keeps
 * the run-time queues' consumers).
 * ------------------------------------------------------------------- */

/* A run-time queue's consumer: its queue (length, counters) and an
 * instance of the built-in module, held by every handle that has the queue
 * open and by every run-time snapshot routing to it (main thread). */
struct hq_attach_rtq {
	struct hq_consumer k;
	int refs;
};

static void
rtq_hold(void *arg)
{
	((struct hq_attach_rtq *)arg)->refs++;
}

static void
rtq_release(void *arg)
{
	struct hq_attach_rtq *r = arg;

	if (--r->refs > 0)
		return;
	hq_module_unload(r->k.ctx);   /* at_fini: SHUTDOWN to what is left */
	hq_queue_unref(r->k.queue);
	free(r);
}

static void
reg_peer(const struct hq_attach_handle *h, struct hq_reg_peer *p)
{
	p->pid = h->pid;
	p->uid = h->uid;
	p->gids = h->gids;
	p->ngids = h->ngids;
}

/* The first attribute want of f as a string (*s, NULL if absent), and the
 * optional u32 LENGTH (unless len32 is NULL).  False, *s freed, if one is
 * malformed (a NUL in the string, LENGTH not 4 bytes, truncated). */
static bool
call_attrs(const struct hq_qp_frame *f, uint16_t want, char **s, uint32_t *len32)
{
	struct hq_qp_iter it;
	const unsigned char *v;
	uint32_t vlen;
	uint16_t tag;
	bool seen = false;
	int rc;

	*s = NULL;
	hq_qp_iter_init(&it, f);
	while ((rc = hq_qp_next(&it, &tag, &v, &vlen)) == 1) {
		if (tag == want && !seen) {
			seen = true;
			if ((*s = hq_qp_strdup(v, vlen)) == NULL)
				return false;
		} else if (tag == HQ_QA_LENGTH && len32 != NULL &&
		    hq_qp_get_u32(v, vlen, len32) < 0) {
			rc = -1;
			break;
		}
	}
	if (rc < 0) {
		free(*s);
		*s = NULL;
		return false;
	}
	return true;
}

static void
on_create_queue(struct hq_attach_handle *h, const struct hq_qp_frame *f)
{
	uint32_t length = HQ_DEFAULT_QUEUE_LENGTH, st;
	char *name = NULL;
	struct hq_reg_peer p;
	struct hq_attach_rtq *r;
	struct hq_errors errs = { 0 };
	char msg[512];

	if (!call_attrs(f, HQ_QA_QUEUE, &name, &length) || name == NULL) {
		h_result(h, f->id, HQ_QS_PROTOCOL, "CREATE_QUEUE needs QUEUE (a name "
		    "without NUL) and optionally LENGTH (a u32)");
		goto out;
	}
	if (length < HQ_QUEUE_LENGTH_MIN || length > HQ_QUEUE_LENGTH_MAX) {
		h_result(h, f->id, HQ_QS_INVALID, "CREATE_QUEUE: LENGTH %u is not "
		    "%d-%d", length, HQ_QUEUE_LENGTH_MIN, HQ_QUEUE_LENGTH_MAX);
		goto out;
	}
	if (h->aq != NULL) {
		h_result(h, f->id, HQ_QS_INVALID, "this handle has queue \"%s\" open "
		    "already (one queue per connection)", h->aq->name);
		goto out;
	}
	if (A.draining) {
		h_result(h, f->id, HQ_QS_SHUTTING_DOWN, "httpqd is stopping");
		goto out;
	}
	reg_peer(h, &p);
	if ((st = hq_registry_create_queue(h, &p, name, msg, sizeof(msg))) != HQ_QS_OK) {
		h_result(h, f->id, st, "%s", msg);
		goto out;
	}
	r = xcalloc(1, sizeof(*r));
	r->refs = 1;                  /* the creator's */
	r->k.queue = hq_queue_new(name, length, HQ_503_LIMITED);
	r->k.ctx = hq_module_builtin(&hq_attach_module, name, NULL, 0);
	hq_module_init(r->k.ctx, A.api, &errs);   /* at_init cannot fail */
	hq_errors_free(&errs);
	h->rtq = r;
	h->creator = true;
	h_take_queue(h, hq_attach_queue_get(name, true), HQ_QP_ROLE_WORKER |
	    HQ_QP_ROLE_CONTROLLER);
	h_result(h, f->id, HQ_QS_OK, NULL);
out:
	free(name);
}

static void
on_url_call(struct hq_attach_handle *h, const struct hq_qp_frame *f)
{
	char *url = NULL, msg[1024] = "";
	struct hq_reg_peer p;
	struct hq_rt_consumer k = { 0 };
	uint32_t st;

	if (!call_attrs(f, HQ_QA_URL, &url, NULL) || url == NULL) {
		h_result(h, f->id, HQ_QS_PROTOCOL, "%s needs URL (a prefix without NUL)",
		    hq_qp_type_name(f->type));
		return;
	}
	reg_peer(h, &p);
	if (f->type == HQ_QP_REMOVE_URL) {
		st = hq_registry_remove_url(h, url, msg, sizeof(msg));
	} else {
		if (h->rtq != NULL)
			k = (struct hq_rt_consumer){ &h->rtq->k, rtq_hold, rtq_release, h->rtq };
		st = hq_registry_add_url(h, &p, h->aq ? h->aq->name : NULL, h->role,
		    h->rtq ? &k : NULL, url, msg, sizeof(msg));
	}
	if (st == HQ_QS_OK)
		h_result(h, f->id, st, NULL);
	else
		h_result(h, f->id, st, "%s", msg);
	free(url);
}

/* OPEN_QUEUE of a queue that YAML does not declare: a run-time queue, for
 * its creator's uid or root (registry.c); the handle shares its consumer. */
static void
open_runtime(struct hq_attach_handle *h, uint64_t id, const char *name, unsigned role)
{
	struct hq_reg_peer p;
	const void *key = NULL;
	struct hq_attach_handle *creator;
	char msg[512];
	uint32_t st;

	reg_peer(h, &p);
	if ((st = hq_registry_open_queue(name, &p, &key, msg, sizeof(msg))) != HQ_QS_OK) {
		h_result(h, id, st, "%s", msg);
		return;
	}
	creator = (struct hq_attach_handle *)key;
	h->rtq = creator->rtq;
	rtq_hold(h->rtq);
	h_take_queue(h, creator->aq, role);
	hq_log_about(LOG_INFO, name, NULL, "attach: pid %ld uid %ld opened run-time "
	    "queue \"%s\" as %s", (long)h->pid, (long)h->uid, name, role_name(role));
	h_result(h, id, HQ_QS_OK, NULL);
}

/* h closed: its URLs and the queue it created vanish (registry.c); the
 * other handles of that queue get SHUTDOWN, as when YAML drops a queue. */
static void
rt_closed(struct hq_attach_handle *h)
{
	hq_registry_close(h);
	if (h->rtq == NULL)
		return;
	if (h->creator && h->aq != NULL)
		aq_retire(h->aq);
	rtq_release(h->rtq);
	h->rtq = NULL;
}

static const char *
role_name(unsigned role)
{
	return role == 3 ? "worker and controller" : role == 2 ? "controller" : "worker";
}

static void
describe_policy(const struct hq_store_queue *sq, unsigned role, char *buf, size_t size)
{
	if (role & HQ_QP_ROLE_CONTROLLER)
		snprintf(buf, size, "controller_user is %s%s%s, controller_group is %s%s%s",
		    sq->controller_user ? "\"" : "", sq->controller_user ?
		    sq->controller_user : "not set", sq->controller_user ? "\"" : "",
		    sq->controller_group ? "\"" : "", sq->controller_group ?
		    sq->controller_group : "not set", sq->controller_group ? "\"" : "");
	else
		snprintf(buf, size, "attach.user is %s%s%s, attach.group is %s%s%s",
		    sq->attach_user ? "\"" : "", sq->attach_user ? sq->attach_user :
		    "not set", sq->attach_user ? "\"" : "",
		    sq->attach_group ? "\"" : "", sq->attach_group ? sq->attach_group :
		    "not set", sq->attach_group ? "\"" : "");
}

static const struct hq_store_queue *
store_queue(const char *name)
{
	const struct hq_store *s = A.ops->current_config()->store;

	for (size_t i = 0; i < s->nqueues; i++)
		if (strcmp(s->queues[i].name, name) == 0)
			return &s->queues[i];
	return NULL;
}

static void
on_open_queue(struct hq_attach_handle *h, const struct hq_qp_frame *f)
{
	struct hq_qp_iter it;
	const unsigned char *v;
	uint32_t vlen, role = 0;
	uint16_t tag;
	char *name = NULL, policy[400];
	const struct hq_store_queue *sq;
	struct hq_attach_queue *q;

	hq_qp_iter_init(&it, f);
	while (hq_qp_next(&it, &tag, &v, &vlen) == 1) {
		if (tag == HQ_QA_QUEUE && name == NULL)
			name = hq_qp_strdup(v, vlen);
		else if (tag == HQ_QA_ROLE)
			hq_qp_get_u32(v, vlen, &role);
	}
	if (name == NULL || role < 1 || role > 3) {
		h_result(h, f->id, HQ_QS_PROTOCOL, "OPEN_QUEUE needs QUEUE (a name) and "
		    "ROLE (1 worker, 2 controller, 3 both)");
		goto out;
	}
	if (h->aq != NULL) {
		h_result(h, f->id, HQ_QS_INVALID, "this handle has queue \"%s\" open "
		    "already (one queue per connection)", h->aq->name);
		goto out;
	}
	if (A.draining) {
		h_result(h, f->id, HQ_QS_SHUTTING_DOWN, "httpqd is stopping");
		goto out;
	}
	sq = store_queue(name);
	if (sq == NULL) {
		open_runtime(h, f->id, name, role);
		goto out;
	}
	q = aq_find(name);
	if (q == NULL || q->cfg_refs == 0) {
		h_result(h, f->id, HQ_QS_NOT_FOUND, "no queue named \"%.100s\"", name);
		goto out;
	}
	if (!sq->attach) {
		h_result(h, f->id, HQ_QS_INVALID, "queue \"%.100s\" is served by module "
		    "\"%s\", not by attached processes (it has no attach: block)",
		    name, sq->module ? sq->module : "?");
		goto out;
	}
	if (!hq_store_queue_allows(sq, h->uid, h->gids, h->ngids, role)) {
		struct passwd *pw = getpwuid(h->uid);

		describe_policy(sq, role, policy, sizeof(policy));
		hq_log_about(LOG_WARNING, name, NULL, "attach: pid %ld uid %ld refused "
		    "queue \"%s\" as %s: %s", (long)h->pid, (long)h->uid, name,
		    role_name(role), policy);
		h_result(h, f->id, HQ_QS_ACCESS_DENIED, "uid %ld (%s) may not open "
		    "queue \"%.100s\" as %s: %s; root always may", (long)h->uid,
		    pw ? pw->pw_name : "no user name", name, role_name(role), policy);
		goto out;
	}
	h_take_queue(h, q, role);
	hq_log_about(LOG_INFO, name, NULL, "attach: pid %ld uid %ld opened queue "
	    "\"%s\" as %s", (long)h->pid, (long)h->uid, name, role_name(role));
	h_result(h, f->id, HQ_QS_OK, NULL);
out:
	free(name);
}

static void
on_receive(struct hq_attach_handle *h, const struct hq_qp_frame *f)
{
	struct hq_qp_iter it;
	const unsigned char *v;
	uint32_t vlen, count = 0;
	uint16_t tag;
	bool have = false;

	if (h->aq == NULL || !(h->role & HQ_QP_ROLE_WORKER)) {
		h_violation(h, "RECEIVE before OPEN_QUEUE with the worker role");
		return;
	}
	hq_qp_iter_init(&it, f);
	while (hq_qp_next(&it, &tag, &v, &vlen) == 1) {
		if (tag != HQ_QA_COUNT)
			continue;
		if (hq_qp_get_u32(v, vlen, &count) < 0) {
			h_violation(h, "RECEIVE: COUNT is not a u32");
			return;
		}
		have = true;
	}
	if (!have) {
		h_violation(h, "RECEIVE without COUNT");
		return;
	}
	/* After the client's SHUTDOWN, RECEIVE is ignored. */
	if (h->shut)
		return;
	if ((uint64_t)h->credits + count > HQ_QP_MAX_CREDIT) {
		h_violation(h, "RECEIVE: %u + %u credits, more than %u", h->credits,
		    count, HQ_QP_MAX_CREDIT);
		return;
	}
	h->credits += count;
	waiter_append(h);
	aq_pump(h->aq);
}

static void
on_shutdown_call(struct hq_attach_handle *h, const struct hq_qp_frame *f)
{
	/* HttpShutdownRequestQueue: no more requests to this handle; queued
	 * ones stay for the others, held ones complete. */
	h->shut = true;
	h->credits = 0;
	if (h->aq)
		waiter_remove(h);
	h_result(h, f->id, HQ_QS_OK, NULL);
}

/* Checks the head of a RESPONSE or the fields of TRAILERS before they go
 * to the worker: a bad one is the process's protocol error. */
static bool
check_fields(struct hq_attach_handle *h, const struct hq_qp_frame *f, bool response)
{
	struct hq_qp_iter it;
	const unsigned char *v;
	uint32_t vlen, status = 0;
	uint16_t tag;
	size_t nh = 0;
	int rc;

	hq_qp_iter_init(&it, f);
	while ((rc = hq_qp_next(&it, &tag, &v, &vlen)) == 1) {
		struct hq_str n, val;

		if (tag == HQ_QA_HEADER) {
			if (hq_qp_split_header(v, vlen, &n, &val) < 0 ||
			    !hq_http1_field_value_ok(val.p ? val.p : "", val.n)) {
				h_violation(h, "%s for request %llu: HEADER %zu is not "
				    "a valid \"name:value\" field", hq_qp_type_name(f->type),
				    (unsigned long long)f->id, nh + 1);
				return false;
			}
			if (++nh > HQ_AT_MAX_HEADERS) {
				h_violation(h, "%s for request %llu: more than %d "
				    "fields", hq_qp_type_name(f->type),
				    (unsigned long long)f->id, HQ_AT_MAX_HEADERS);
				return false;
			}
		} else if (response && tag == HQ_QA_STATUS) {
			if (hq_qp_get_u32(v, vlen, &status) < 0)
				status = 0;
		} else if (response && tag == HQ_QA_REASON) {
			if (memchr(v, 0, vlen) != NULL ||
			    !hq_http1_field_value_ok((const char *)v, vlen)) {
				h_violation(h, "RESPONSE for request %llu: bad REASON",
				    (unsigned long long)f->id);
				return false;
			}
		}
	}
	if (rc < 0) {
		h_violation(h, "%s for request %llu: truncated attribute",
		    hq_qp_type_name(f->type), (unsigned long long)f->id);
		return false;
	}
	if (response && (status < 200 || status > 999)) {
		h_violation(h, "RESPONSE for request %llu: STATUS %u (200-999; "
		    "interim 1xx responses are not supported)",
		    (unsigned long long)f->id, status);
		return false;
	}
	return true;
}

static bool
get_u64_attr(const struct hq_qp_frame *f, uint16_t want, uint64_t *out)
{
	struct hq_qp_iter it;
	const unsigned char *v;
	uint32_t vlen;
	uint16_t tag;

	hq_qp_iter_init(&it, f);
	while (hq_qp_next(&it, &tag, &v, &vlen) == 1)
		if (tag == want)
			return hq_qp_get_u64(v, vlen, out) == 0;
	return false;
}

static bool
get_u32_attr(const struct hq_qp_frame *f, uint16_t want, uint32_t *out)
{
	struct hq_qp_iter it;
	const unsigned char *v;
	uint32_t vlen;
	uint16_t tag;

	hq_qp_iter_init(&it, f);
	while (hq_qp_next(&it, &tag, &v, &vlen) == 1)
		if (tag == want)
			return hq_qp_get_u32(v, vlen, out) == 0;
	return false;
}

/* A frame about one request held by h. */
static void
on_request_frame(struct hq_attach_handle *h, const struct hq_qp_frame *f)
{
	unsigned long long id = (unsigned long long)f->id;
	const char *tn = hq_qp_type_name(f->type);
	struct areq *a;
	struct amsg *m;
	int fd = -1;
	uint32_t n = 0;
	uint64_t off = 0, len = 0;
	struct stat st;

	if (f->type == HQ_QP_RESPONSE_FILE) {
		/* The fd goes with the frame whether or not the id is held. */
		if (h->nfds == 0) {
			h_violation(h, "RESPONSE_FILE for request %llu came without a "
			    "file descriptor (SCM_RIGHTS)", id);
			return;
		}
		fd = h->fds[0];
		memmove(h->fds, h->fds + 1, --h->nfds * sizeof(int));
	}
	a = tab_find(h, f->id);
	if (a == NULL) {
		/* Not (or no longer) held: a race, ignored (httpq-protocol(7)). */
		if (fd >= 0)
			close(fd);
		return;
	}
	switch (f->type) {
	case HQ_QP_BODY_CREDIT:
		if (!get_u32_attr(f, HQ_QA_BYTES, &n) || n > a->body_unacked) {
			h_violation(h, "BODY_CREDIT for request %llu: %u bytes, but "
			    "%llu sent and not yet acknowledged", id, n,
			    (unsigned long long)a->body_unacked);
			return;
		}
		a->body_unacked -= n;
		m = msg_new(HQ_QP_BODY_CREDIT, 0, NULL, 0);
		m->n = n;
		to_worker(a, m);
		return;
	case HQ_QP_RESPONSE:
		if (a->resp_started) {
			h_violation(h, "a second RESPONSE for request %llu", id);
			return;
		}
		if (!check_fields(h, f, true))
			return;
		a->resp_started = true;
		break;
	case HQ_QP_RESPONSE_BODY:
	case HQ_QP_RESPONSE_FILE:
	case HQ_QP_TRAILERS:
		if (!a->resp_started) {
			if (fd >= 0)
				close(fd);
			h_violation(h, "%s for request %llu before its RESPONSE", tn, id);
			return;
		}
		if (f->type == HQ_QP_TRAILERS && !check_fields(h, f, false))
			return;
		len = f->type == HQ_QP_RESPONSE_FILE ? HQ_QP_FILE_COST :
		    f->type == HQ_QP_RESPONSE_BODY ? f->len : 0;
		if (len > a->send_avail) {
			if (fd >= 0)
				close(fd);
			h_violation(h, "%s for request %llu: %llu bytes over the send "
			    "window (%llu left)", tn, id, (unsigned long long)len,
			    (unsigned long long)a->send_avail);
			return;
		}
		a->send_avail -= len;
		break;
	case HQ_QP_CANCEL:
		m = msg_new(M_CANCEL, 0, NULL, 0);
		m->reason = "Request_Cancelled";
		main_done(a, m);
		return;
	}
	if (f->type == HQ_QP_RESPONSE_FILE) {
		/* A file shorter than asked closes the client's connection
		 * when the daemon gets there (response.c), as for a module. */
		if (!get_u64_attr(f, HQ_QA_OFFSET, &off) ||
		    !get_u64_attr(f, HQ_QA_LENGTH64, &len) || fstat(fd, &st) < 0 ||
		    !S_ISREG(st.st_mode)) {
			close(fd);
			h_violation(h, "RESPONSE_FILE for request %llu: needs OFFSET, "
			    "LENGTH64 and a descriptor of a regular file", id);
			return;
		}
		m = msg_new(f->type, f->flags, NULL, 0);
		m->fd = fd;
		m->off = off;
		m->len = len;
	} else {
		m = msg_new(f->type, f->flags, f->payload, f->len);
	}
	if (f->type == HQ_QP_TRAILERS || (f->flags & HQ_QF_END))
		main_done(a, m);
	else
		to_worker(a, m);
}

static void
on_frame(struct hq_attach_handle *h, const struct hq_qp_frame *f)
{
	if (!h->hello) {
		if (f->type != HQ_QP_HELLO)
			h_violation(h, "the first frame must be HELLO, not %s",
			    hq_qp_type_name(f->type));
		else
			on_hello(h, f);
		return;
	}
	switch (f->type) {
	case HQ_QP_OPEN_QUEUE:
		on_open_queue(h, f);
		break;
	case HQ_QP_CREATE_QUEUE:
		on_create_queue(h, f);
		break;
	case HQ_QP_ADD_URL:
	case HQ_QP_REMOVE_URL:
		on_url_call(h, f);
		break;
	case HQ_QP_RECEIVE:
		on_receive(h, f);
		break;
	case HQ_QP_SHUTDOWN:
		on_shutdown_call(h, f);
		break;
	case HQ_QP_BODY_CREDIT:
	case HQ_QP_RESPONSE:
	case HQ_QP_RESPONSE_BODY:
	case HQ_QP_RESPONSE_FILE:
	case HQ_QP_TRAILERS:
	case HQ_QP_CANCEL:
		on_request_frame(h, f);
		break;
	default:
		h_violation(h, "%s is not a frame a client sends",
		    hq_qp_type_name(f->type));
		break;
	}
}

/* Takes the fds of one recvmsg(); false after a violation. */
static bool
take_fds(struct hq_attach_handle *h, struct msghdr *mh)
{
	bool ok = true;

	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c != NULL; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		const int *fds = (const int *)CMSG_DATA(c);

		for (size_t i = 0; i < n; i++) {
			int fd;

			memcpy(&fd, fds + i, sizeof(fd));
			if (ok && h->nfds < HQ_AT_MAX_FDS)
				h->fds[h->nfds++] = fd;
			else {
				close(fd);
				ok = false;
			}
		}
	}
	if (!ok)
		h_violation(h, "more than %d file descriptors sent ahead of their "
		    "RESPONSE_FILE frames", HQ_AT_MAX_FDS);
	else if (mh->msg_flags & MSG_CTRUNC)
		h_violation(h, "file descriptors truncated (one per RESPONSE_FILE)");
	return ok && !(mh->msg_flags & MSG_CTRUNC);
}

static void
on_hread(evutil_socket_t fd, short what, void *arg)
{
	struct hq_attach_handle *h = arg;
	union {
		/* room for more than the limit: a few too many is told as
		 * such; beyond that the kernel truncates (MSG_CTRUNC) */
		char buf[CMSG_SPACE(2 * HQ_AT_MAX_FDS * sizeof(int))];
		struct cmsghdr align;
	} cbuf;
	struct iovec iov;
	struct msghdr mh = { 0 };
	size_t pos = 0;
	ssize_t n;

	h->busy++;
	if (h->incap - h->inlen < HQ_AT_READ) {
		h->incap = h->inlen + HQ_AT_READ;
		h->in = xrealloc(h->in, h->incap);
	}
	iov.iov_base = h->in + h->inlen;
	iov.iov_len = h->incap - h->inlen;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cbuf.buf;
	mh.msg_controllen = sizeof(cbuf.buf);
	n = recvmsg(h->fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		goto out;
	if (n <= 0) {
		h_close(h, LOG_INFO, n == 0 ? "closed its connection" : strerror(errno));
		goto out;
	}
	if (!take_fds(h, &mh))
		goto out;
	h->inlen += (size_t)n;
	while (!h->dead) {
		struct hq_qp_frame f;
		char err[160];
		ssize_t used = hq_qp_parse(h->in + pos, h->inlen - pos, &f, err, sizeof(err));

		if (used == 0)
			break;
		if (used < 0) {
			h_violation(h, "%s", err);
			break;
		}
		if (hq_qp_dir(f.type) == HQ_QP_DIR_D) {
			h_violation(h, "%s is not a frame a client sends",
			    hq_qp_type_name(f.type));
			break;
		}
		pos += (size_t)used;
		on_frame(h, &f);
	}
	if (!h->dead) {
		memmove(h->in, h->in + pos, h->inlen - pos);
		h->inlen -= pos;
		if (h->inlen == 0 && h->incap > 4 * HQ_AT_READ) {
			free(h->in);
			h->in = NULL;
			h->incap = 0;
		}
		/* A process that does not read its output is not read either. */
		if (h->out.len >= HQ_AT_OUT_CAP && !h->read_off) {
			event_del(&h->rev);
			h->read_off = true;
		}
	}
out:
	h->busy--;
	h_release(h);
}

static void
on_hwrite(evutil_socket_t fd, short what, void *arg)
{
	struct hq_attach_handle *h = arg;
	ssize_t n;

	h->busy++;
	h->flush_due = false;
	n = h->out.len ? send(h->fd, h->out.p, h->out.len, MSG_NOSIGNAL | MSG_DONTWAIT) : 0;
	if (n < 0 && errno != EAGAIN && errno != EINTR) {
		h_close(h, LOG_INFO, strerror(errno));
		goto out;
	}
	if (n > 0)
		hq_qp_buf_consume(&h->out, (size_t)n);
	if (h->out.len > 0 && !h->wev_on) {
		event_add(&h->wev, NULL);
		h->wev_on = true;
	}
	if (h->out.len == 0) {
		if (h->wev_on)
			event_del(&h->wev);
		h->wev_on = false;
		if (h->out.cap > HQ_AT_OUT_CAP) {
			hq_qp_buf_free(&h->out);
			memset(&h->out, 0, sizeof(h->out));
		}
	}
	if (h->read_off && h->out.len < HQ_AT_OUT_CAP / 2) {
		event_add(&h->rev, NULL);
		h->read_off = false;
	}
	if (h->aq != NULL && h_can_take(h))
		aq_pump(h->aq);
out:
	h->busy--;
	h_release(h);
}

/* A connection that opens no queue does not hold a descriptor for long. */
static void
on_htimer(evutil_socket_t fd, short what, void *arg)
{
	struct hq_attach_handle *h = arg;

	if (h->aq != NULL)
		return;
	h->busy++;
	h_violation(h, "no queue opened within %d s of connecting", HQ_AT_OPEN_S);
	h->busy--;
	h_release(h);
}

static size_t
peer_groups(int fd, const struct ucred *cr, gid_t *groups)
{
	socklen_t len = HQ_AT_MAX_GROUPS * sizeof(gid_t);
	struct passwd *pw;
	int n = HQ_AT_MAX_GROUPS;

#ifdef SO_PEERGROUPS
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) == 0)
		return len / sizeof(gid_t);
#endif
	if ((pw = getpwuid(cr->uid)) == NULL ||
	    getgrouplist(pw->pw_name, cr->gid, groups, &n) < 0)
		return 0;
	return (size_t)n;
}

static void
read_cmdline(pid_t pid, char *buf, size_t size)
{
	char path[64];
	ssize_t n;
	int fd;

	buf[0] = '\0';
	snprintf(path, sizeof(path), "/proc/%ld/cmdline", (long)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	for (ssize_t i = 0; i < n; i++)
		if (buf[i] == '\0')
			buf[i] = i == n - 1 ? '\0' : ' ';
		else if ((unsigned char)buf[i] < 0x20 || buf[i] == 0x7f)
			buf[i] = '?';
}

static void
on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
    int salen, void *arg)
{
	struct hq_attach_handle *h;
	struct ucred cr;
	socklen_t len = sizeof(cr);
	gid_t groups[HQ_AT_MAX_GROUPS];

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0) {
		hq_log(LOG_ERR, "attach: SO_PEERCRED: %m");
		close(fd);
		return;
	}
	evutil_make_socket_nonblocking(fd);
	h = xcalloc(1, sizeof(*h));
	h->fd = fd;
	h->pid = cr.pid;
	h->uid = cr.uid;
	h->gid = cr.gid;
	h->ngids = peer_groups(fd, &cr, groups);
	h->gids = xmalloc((h->ngids + 1) * sizeof(gid_t));
	memcpy(h->gids, groups, h->ngids * sizeof(gid_t));
	h->gids[h->ngids++] = cr.gid;  /* the primary group counts too */
	h->since = time(NULL);
	read_cmdline(cr.pid, h->cmd, sizeof(h->cmd));
	event_assign(&h->rev, A.base, fd, EV_READ | EV_PERSIST, on_hread, h);
	event_assign(&h->wev, A.base, fd, EV_WRITE | EV_PERSIST, on_hwrite, h);
	evtimer_assign(&h->tev, A.base, on_htimer, h);
	event_add(&h->rev, NULL);
	event_add(&h->tev, &(struct timeval){ HQ_AT_OPEN_S, 0 });
	h_list_add(h);
	if (A.draining) {
		hq_qp_begin(&h->out, HQ_QP_SHUTDOWN, 0, 0);
		hq_qp_end(&h->out);
		h->shut = true;
		h_out_changed(h);
	}
}

/* ---------------------------------------------------------------------
 * The built-in module
 * ------------------------------------------------------------------- */

static int
at_init(const struct httpq_api *api, httpq_ctx *ctx, void **state)
{
	struct hq_attach_queue *q = hq_attach_queue_get(api->queue_name(ctx), true);

	A.api = api;
	q->cfg_refs++;
	*state = q;
	return 0;
}

/* No snapshot uses q any more (a reload removed the queue, or the daemon
 * stops): SHUTDOWN to its handles, 503 to what waits in it. */
static void
aq_retire(struct hq_attach_queue *q)
{
	while (q->fifo_head != NULL)
		main_reject(q->fifo_head, HQ_ERR_SHUTDOWN, "AppShutdown");
	for (struct hq_attach_handle *h = q->handles; h != NULL; h = h->next) {
		if (h->shut)
			continue;
		h->shut = true;
		waiter_remove(h);
		hq_qp_begin(&h->out, HQ_QP_SHUTDOWN, 0, 0);
		hq_qp_end(&h->out);
		h_out_changed(h);
	}
}

static void
at_fini(void *state)
{
	struct hq_attach_queue *q = state;

	if (--q->cfg_refs == 0 && !A.stopped) {
		hq_log_about(LOG_NOTICE, q->name, NULL, "attach: queue \"%s\" is no "
		    "longer configured: SHUTDOWN to its processes", q->name);
		aq_retire(q);
	}
}

const struct httpq_module hq_attach_module = {
	HTTPQ_MODULE_HEAD,
	.name = "attach",
	.version = PACKAGE_VERSION,
	.init = at_init,
	.handle = at_handle,
	.fini = at_fini,
};

/* ---------------------------------------------------------------------
 * The socket, start and stop
 * ------------------------------------------------------------------- */

/* Mode 0666: anyone may connect; what a peer may do is decided per queue. */
static int
open_socket(const char *path)
{
	int fd = hq_unix_listen(path, 0666, 128, "attach",
	    "remove it, or choose another queue_socket.path or httpqd -Q");

	if (fd < 0)
		hq_log(LOG_ERR, "attach: running without a queue socket");
	return fd;
}

static void
on_resume(evutil_socket_t fd, short what, void *arg)
{
	if (A.lev != NULL)
		evconnlistener_enable(A.lev);
}

static void
on_accept_error(struct evconnlistener *l, void *arg)
{
	hq_log(LOG_ERR, "attach: accept: %s; pausing for 1 s", strerror(errno));
	evconnlistener_disable(l);
	event_add(A.resume, &(struct timeval){ 1, 0 });
}

void
hq_attach_set_path(const char *path)
{
	free(A.override);
	A.override = xstrdup(path);
}

void
hq_attach_start(struct event_base *base, struct hq_mailbox *mb,
    const struct hq_store *s, const struct hq_attach_ops *ops)
{
	const char *path = A.override ? A.override : s->queue_socket ?
	    s->queue_socket : HQ_DEFAULT_QUEUE_SOCKET;
	int fd;

	A.base = base;
	A.mb = mb;
	A.ops = ops;
	if ((fd = open_socket(path)) < 0)
		return;
	A.lev = evconnlistener_new(base, on_accept, NULL,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, -1, fd);
	if (A.lev == NULL) {
		close(fd);
		unlink(path);
		return;
	}
	A.resume = evtimer_new(base, on_resume, NULL);
	evconnlistener_set_error_cb(A.lev, on_accept_error);
	A.path = xstrdup(path);
	hq_log(LOG_NOTICE, "attach: queue socket listening on %s", path);
}

void
hq_attach_drain(void)
{
	A.draining = true;
	for (struct hq_attach_queue *q = A.queues; q != NULL; q = q->next)
		aq_retire(q);
	for (struct hq_attach_handle *h = A.loose; h != NULL; h = h->next)
		if (!h->shut) {
			h->shut = true;
			hq_qp_begin(&h->out, HQ_QP_SHUTDOWN, 0, 0);
			hq_qp_end(&h->out);
			h_out_changed(h);
		}
}

void
hq_attach_stop(void)
{
	struct stat st;

	A.draining = true;
	for (struct hq_attach_queue *q = A.queues; q != NULL; q = q->next) {
		while (q->fifo_head != NULL)
			main_reject(q->fifo_head, HQ_ERR_SHUTDOWN, "AppShutdown");
		while (q->handles != NULL) {
			struct hq_attach_handle *h = q->handles;

			h_close(h, LOG_INFO, "httpqd stops");
			h_free(h);
		}
	}
	while (A.loose != NULL) {
		struct hq_attach_handle *h = A.loose;

		h_close(h, LOG_INFO, "httpqd stops");
		h_free(h);
	}
	A.stopped = true;
	if (A.lev != NULL) {
		evconnlistener_free(A.lev);
		A.lev = NULL;
		event_free(A.resume);
		A.resume = NULL;
		if (lstat(A.path, &st) == 0 && S_ISSOCK(st.st_mode))
			unlink(A.path);
	}
	free(A.path);
	free(A.override);
	A.path = A.override = NULL;
}

void
hq_attach_free(void)
{
	/* Every thread is gone: what is left was abandoned mid-way. */
	while (A.all != NULL) {
		struct areq *a = A.all;

		A.all = a->gnext;
		areq_free(a);
	}
	while (A.queues != NULL) {
		struct hq_attach_queue *q = A.queues;

		A.queues = q->next;
		free(q->name);
		free(q);
	}
}

/* --- show --- */

static void
show_handle(FILE *f, const struct hq_attach_handle *h, bool json)
{
	struct tm tm;
	char since[32];

	gmtime_r(&h->since, &tm);
	strftime(since, sizeof(since), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (json) {
		fprintf(f, "{\"pid\":%ld,\"uid\":%ld,\"role\":\"%s\",\"credits\":%u,"
		    "\"held\":%zu,\"delivered\":%llu,\"shutdown\":%s,\"since\":\"%s\","
		    "\"name\":", (long)h->pid, (long)h->uid, role_name(h->role),
		    h->credits, h->nheld, (unsigned long long)h->delivered,
		    h->shut ? "true" : "false", since);
		hq_json_str(f, h->name);
		fputs(",\"command\":", f);
		hq_json_str(f, h->cmd);
		fputc('}', f);
		return;
	}
	hq_ctl_text_field(f, "attached", "pid %ld uid %ld %s credits %u held %zu "
	    "delivered %llu%s since %s: %s", (long)h->pid, (long)h->uid,
	    role_name(h->role), h->credits, h->nheld, (unsigned long long)h->delivered,
	    h->shut ? " (shut down)" : "", since, h->cmd[0] ? h->cmd : "?");
}

void
hq_attach_show(FILE *f, const char *queue, bool json)
{
	struct hq_attach_queue *q = aq_find(queue);
	bool first = true;

	if (json)
		fputs(",\"attached\":[", f);
	for (const struct hq_attach_handle *h = q ? q->handles : NULL; h; h = h->next) {
		if (json && !first)
			fputc(',', f);
		first = false;
		show_handle(f, h, json);
	}
	if (json)
		fprintf(f, "],\"waiting\":%zu", q ? q->nqueued : (size_t)0);
	else if (q != NULL)
		hq_ctl_text_field(f, "waiting", "%zu request%s in the queue, no "
		    "process took them yet", q->nqueued, q->nqueued == 1 ? "" : "s");
}
bool
hq_attach_table(FILE *f)
{
	struct hq_table *t;

	if (A.queues == NULL)
		return false;
	t = hq_table_new(8, "ATTACHED TO", "PID", "UID", "ROLE", "CREDITS",
	    "HELD", "SINCE", "COMMAND");

	for (const struct hq_attach_queue *q = A.queues; q != NULL; q = q->next)
		for (const struct hq_attach_handle *h = q->handles; h; h = h->next) {
			char n[4][24], since[32];
			struct tm tm;

			gmtime_r(&h->since, &tm);
			strftime(since, sizeof(since), "%Y-%m-%dT%H:%M:%SZ", &tm);
			snprintf(n[0], sizeof(n[0]), "%ld", (long)h->pid);
			snprintf(n[1], sizeof(n[1]), "%ld", (long)h->uid);
			snprintf(n[2], sizeof(n[2]), "%u", h->credits);
			snprintf(n[3], sizeof(n[3]), "%zu", h->nheld);
			hq_table_row(t, q->name, n[0], n[1], role_name(h->role), n[2], n[3],
			    since, h->cmd[0] ? h->cmd : "?");
		}
	hq_table_print(f, t, "no process attached to a queue");
	return true;
}

