/*
 * queue.c -- the queue handle: connect and HELLO, the calls the daemon
 * answers with RESULT (create, open, add, remove, shutdown), receiving
 * requests, and httpq_process() with its callbacks.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hqclient.h"

unsigned
httpq_client_version(void)
{
	return HTTPQ_CLIENT_VERSION;
}

static const char *
socket_path(const char *path)
{
	if (path && *path)
		return path;
	const char *env = secure_getenv(HTTPQ_QUEUE_SOCKET_ENV);
	return env && *env ? env : HTTPQ_QUEUE_SOCKET_DEFAULT;
}

static void
queue_free(httpq_queue *q)
{
	while (q->ready_head) {
		httpq_req *r = hqc_take(q);
		hqc_unlink(q, r);
		hqc_req_destroy(r);
	}
	for (size_t i = 0; i < q->nbuckets; i++) {
		while (q->table[i]) {
			httpq_req *r = q->table[i];
			hqc_unlink(q, r);
			hqc_req_destroy(r);
		}
	}
	free(q->table);
	hqc_io_free(q);
	free(q->server_name);
	free(q->result_msg);
	free(q);
}

httpq_queue *
httpq_connect_fd(int fd, const char *client_name)
{
	httpq_queue *q;
	int fl, e;

	if (fd < 0) {
		errno = EBADF;
		return NULL;
	}
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
		e = errno;
		close(fd);
		errno = e;
		return NULL;
	}
	q = xcalloc(1, sizeof *q);
	q->fd = fd;
	q->timeout_ms = HQC_HELLO_TIMEOUT_MS;
	hq_qp_begin(&q->out, HQ_QP_HELLO, 0, 0);
	hq_qp_put_u32(&q->out, HQ_QA_VERSION, HQ_QP_VERSION);
	if (client_name && !strchr(client_name, '\n'))
		hq_qp_put(&q->out, HQ_QA_NAME, client_name,
		    strnlen(client_name, 256));
	hq_qp_end(&q->out);

	int64_t dl = hqc_deadline(q, true);
	while (!q->hello_done) {
		int rc = hqc_pump(q, dl);
		if (rc < 0)
			goto fail;
		if (rc == 0) {
			errno = ETIMEDOUT;
			goto fail;
		}
	}
	q->timeout_ms = -1;
	return q;
fail:
	e = errno == ECONNRESET || errno == EPROTONOSUPPORT || errno == ETIMEDOUT ?
	    errno : EPROTO;
	queue_free(q);
	errno = e;
	return NULL;
}

httpq_queue *
httpq_connect(const char *path, const char *client_name)
{
	int fd = hqc_connect_path(socket_path(path));

	if (fd < 0)
		return NULL;
	return httpq_connect_fd(fd, client_name);
}

void
httpq_close(httpq_queue *q)
{
	if (!q)
		return;
	if (!q->broken)
		(void)hqc_flush(q);
	queue_free(q);
}

const char *
httpq_queue_error(const httpq_queue *q)
{
	return q->err;
}

const char *
httpq_server_name(const httpq_queue *q)
{
	return q->server_name ? q->server_name : "";
}

int
httpq_set_timeout(httpq_queue *q, int timeout_ms)
{
	if (timeout_ms < -1)
		return hqc_seterr(q, EINVAL, "timeout %d below -1", timeout_ms);
	q->timeout_ms = timeout_ms;
	return 0;
}

int
httpq_queue_fd(const httpq_queue *q)
{
	return q->fd;
}

int
httpq_queue_events(const httpq_queue *q)
{
	return HTTPQ_EV_READ | (q->out.len ? HTTPQ_EV_WRITE : 0);
}

/* --- calls -------------------------------------------------------------- */

static int
status_errno(uint32_t st)
{
	switch (st) {
	case HQ_QS_OK: return 0;
	case HQ_QS_ACCESS_DENIED: return EACCES;
	case HQ_QS_ALREADY_EXISTS: return EEXIST;
	case HQ_QS_NOT_FOUND: return ENOENT;
	case HQ_QS_INVALID: return EINVAL;
	case HQ_QS_LIMIT: return ENOSPC;
	case HQ_QS_SHUTTING_DOWN: return ESHUTDOWN;
	default: return EPROTO;
	}
}

/* Sends the call begun in q->out (with id q->call_id) and waits for its
 * RESULT: 0, or -1 with errno from the status and the daemon's message. */
static int
call(httpq_queue *q, const char *what)
{
	int64_t dl = hqc_deadline(q, true);

	hq_qp_end(&q->out);
	q->result_in = false;
	while (!q->result_in) {
		int rc = hqc_pump(q, dl);
		if (rc < 0)
			return -1;
		if (rc == 0 && !q->result_in)
			return hqc_seterr(q, ETIMEDOUT, "%s: no answer from httpqd", what);
	}
	if (q->result_status == HQ_QS_OK)
		return 0;
	const char *st = hq_qp_status_name(q->result_status);
	if (q->result_msg && *q->result_msg)
		return hqc_seterr(q, status_errno(q->result_status), "%s", q->result_msg);
	return hqc_seterr(q, status_errno(q->result_status), "%s: %s", what,
	    st ? st : "refused");
}

static int
begin_call(httpq_queue *q, uint16_t type, const char *arg)
{
	if (hqc_check(q))
		return -1;
	if (arg && (!*arg || strlen(arg) > 4096))
		return hqc_seterr(q, EINVAL, "%s: empty or over 4096 bytes",
		    hq_qp_type_name(type));
	hq_qp_begin(&q->out, type, 0, ++q->call_id);
	return 0;
}

int
httpq_create_queue(httpq_queue *q, const char *name, unsigned length)
{
	if (!name || length > HQ_QUEUE_LENGTH_MAX)
		return hqc_seterr(q, EINVAL, "CREATE_QUEUE: no name, or length over %d",
		    HQ_QUEUE_LENGTH_MAX);
	if (begin_call(q, HQ_QP_CREATE_QUEUE, name) < 0)
		return -1;
	hq_qp_put_str(&q->out, HQ_QA_QUEUE, name);
	if (length)
		hq_qp_put_u32(&q->out, HQ_QA_LENGTH, length);
	return call(q, "CREATE_QUEUE");
}

int
httpq_open_queue(httpq_queue *q, const char *name, unsigned role)
{
	if (!name || role == 0 || (role & ~(unsigned)HTTPQ_ROLE_BOTH))
		return hqc_seterr(q, EINVAL, "OPEN_QUEUE: no name, or role not 1, 2 or 3");
	if (begin_call(q, HQ_QP_OPEN_QUEUE, name) < 0)
		return -1;
	hq_qp_put_str(&q->out, HQ_QA_QUEUE, name);
	hq_qp_put_u32(&q->out, HQ_QA_ROLE, role);
	return call(q, "OPEN_QUEUE");
}

static int
url_call(httpq_queue *q, uint16_t type, const char *prefix)
{
	if (!prefix)
		return hqc_seterr(q, EINVAL, "no URL prefix");
	if (begin_call(q, type, prefix) < 0)
		return -1;
	hq_qp_put_str(&q->out, HQ_QA_URL, prefix);
	return call(q, hq_qp_type_name(type));
}

int
httpq_add_url(httpq_queue *q, const char *prefix)
{
	return url_call(q, HQ_QP_ADD_URL, prefix);
}

int
httpq_remove_url(httpq_queue *q, const char *prefix)
{
	return url_call(q, HQ_QP_REMOVE_URL, prefix);
}

int
httpq_shutdown(httpq_queue *q)
{
	if (begin_call(q, HQ_QP_SHUTDOWN, NULL) < 0)
		return -1;
	if (call(q, "SHUTDOWN") < 0)
		return -1;
	q->shutdown = true;
	q->credit = 0;
	return 0;
}

/* --- receiving ---------------------------------------------------------- */

int
httpq_receive_ahead(httpq_queue *q, unsigned n)
{
	if (n > HQ_QP_MAX_CREDIT)
		return hqc_seterr(q, EINVAL, "receive ahead %u over %d", n, HQ_QP_MAX_CREDIT);
	q->ahead = n;
	hqc_topup(q, false);
	if (!q->corked)
		(void)hqc_flush(q);
	return hqc_check(q);
}

httpq_req *
httpq_receive_request(httpq_queue *q)
{
	int64_t dl = hqc_deadline(q, false);

	for (;;) {
		httpq_req *r = hqc_take(q);
		if (r) {
			hqc_topup(q, false);
			if (!q->corked)
				(void)hqc_flush(q);
			return r;
		}
		if (hqc_check(q))
			return NULL;
		if (q->shutdown || q->shutdown_seen) {
			hqc_seterr(q, ESHUTDOWN, "the queue is shutting down");
			return NULL;
		}
		hqc_topup(q, true);
		/* A failure is seen above once what came before it is taken. */
		int rc = hqc_pump(q, dl);
		if (rc == 0 && !q->ready_head) {
			hqc_timed_out(q);
			return NULL;
		}
	}
}

/* --- event loop --------------------------------------------------------- */

void
httpq_set_callbacks(httpq_queue *q, const httpq_callbacks *cb, void *arg)
{
	memset(&q->cb, 0, sizeof q->cb);
	if (cb) {
		size_t n = cb->size < sizeof q->cb ? cb->size : sizeof q->cb;
		memcpy(&q->cb, cb, n);
	}
	q->cb.size = sizeof q->cb;
	q->cb_arg = arg;
}

/* Runs the callbacks of one request's events; it may be freed in them. */
static void
run_events(httpq_queue *q, httpq_req *r, unsigned ev)
{
	r->busy++;
	if ((ev & HQC_EV_BODY) && q->cb.body && !r->freed)
		q->cb.body(r, q->cb_arg);
	if ((ev & HQC_EV_WRITABLE) && q->cb.writable && !r->freed)
		q->cb.writable(r, q->cb_arg);
	if ((ev & HQC_EV_DISCONNECT) && q->cb.disconnect && !r->freed)
		q->cb.disconnect(r, q->cb_arg);
	r->busy--;
	if (r->freed && r->busy == 0) {
		hqc_unlink(q, r);
		hqc_req_destroy(r);
	}
}

int
httpq_process(httpq_queue *q)
{
	if (hqc_check(q))
		return -1;
	q->corked = true;
	for (int i = 0; i < 4; i++) {
		int rc = hqc_fill(q);
		if (rc < 0 || hqc_dispatch(q) < 0)
			break;
		if (rc == 0)
			break;
	}
	/* Callbacks only while the handle works: an error stops them. */
	while (!q->broken && q->cb.request && q->ready_head) {
		httpq_req *r = hqc_take(q);
		r->busy++;
		q->cb.request(q, r, q->cb_arg);
		r->busy--;
		if (r->freed) {
			hqc_unlink(q, r);
			hqc_req_destroy(r);
		}
	}
	while (!q->broken && q->ev_head) {
		httpq_req *r = q->ev_head;
		q->ev_head = r->enext;
		if (!q->ev_head)
			q->ev_tail = NULL;
		r->enext = NULL;
		r->in_ev = false;
		unsigned ev = r->ev;
		r->ev = 0;
		run_events(q, r, ev);
	}
	if (!q->broken && q->shutdown_seen && !q->shutdown_told) {
		q->shutdown_told = true;
		if (q->cb.shutdown)
			q->cb.shutdown(q, q->cb_arg);
	}
	hqc_topup(q, false);
	q->corked = false;
	if (!q->broken)
		(void)hqc_flush(q);
	return hqc_check(q);
}
