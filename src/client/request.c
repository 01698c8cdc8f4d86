/*
 * request.c -- a received request: its facts, its entity body (with the
 * credit that lets the daemon send more), the response within the send
 * window, cancel and free.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "hqclient.h"

void
hqc_req_destroy(httpq_req *r)
{
	free(r->blob);
	free(r->headers);
	free(r->tblob);
	free(r->trailers);
	free(r->body);
	free(r->disconnect_reason);
	free(r);
}

/* Writes what was queued, unless httpq_process() writes once at its end.
 * A failed write fails the handle; the caller's call still succeeded. */
static void
flush_soon(httpq_queue *q)
{
	if (!q->corked)
		(void)hqc_flush(q);
}

/* --- facts -------------------------------------------------------------- */

uint64_t httpq_req_id(const httpq_req *r) { return r->id; }
httpq_queue *httpq_req_queue(const httpq_req *r) { return r->q; }
const char *httpq_req_method(const httpq_req *r) { return r->method; }
const char *httpq_req_raw_url(const httpq_req *r) { return r->raw_url; }
const char *httpq_req_cooked_url(const httpq_req *r) { return r->cooked_url; }
const char *httpq_req_path(const httpq_req *r) { return r->path; }
const char *httpq_req_query(const httpq_req *r) { return r->query; }
const char *httpq_req_host(const httpq_req *r) { return r->host; }
int httpq_req_version(const httpq_req *r) { return (int)r->version; }
const char *httpq_req_remote_addr(const httpq_req *r) { return r->remote_addr; }
const char *httpq_req_local_addr(const httpq_req *r) { return r->local_addr; }
const char *httpq_req_url_prefix(const httpq_req *r) { return r->url_prefix; }
const char *httpq_req_url_group(const httpq_req *r) { return r->url_group; }
uint64_t httpq_req_connection_id(const httpq_req *r) { return r->connection_id; }
int64_t httpq_req_content_length(const httpq_req *r) { return r->content_length; }
int httpq_req_has_body(const httpq_req *r) { return r->has_body; }
int httpq_req_is_tls(const httpq_req *r) { return r->tls; }
const char *httpq_req_tls_protocol(const httpq_req *r) { return r->tls_protocol; }
const char *httpq_req_tls_cipher(const httpq_req *r) { return r->tls_cipher; }
const char *httpq_req_tls_sni(const httpq_req *r) { return r->tls_sni; }
const char *httpq_req_tls_client_subject(const httpq_req *r) { return r->tls_subject; }
const char *httpq_req_tls_client_fingerprint(const httpq_req *r) { return r->tls_fingerprint; }
int httpq_req_tls_client_verified(const httpq_req *r) { return r->tls_verified != 0; }
void httpq_req_set_data(httpq_req *r, void *data) { r->data = data; }
void *httpq_req_data(const httpq_req *r) { return r->data; }
int httpq_req_disconnected(const httpq_req *r) { return r->disconnected; }

const char *
httpq_req_disconnect_reason(const httpq_req *r)
{
	return r->disconnect_reason ? r->disconnect_reason : "";
}

static const char *
field(const struct hqc_field *a, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcasecmp(a[i].name, name) == 0)
			return a[i].value;
	return NULL;
}

static int
field_at(const struct hqc_field *a, size_t n, size_t i, const char **name,
    const char **value)
{
	if (i >= n)
		return -1;
	if (name)
		*name = a[i].name;
	if (value)
		*value = a[i].value;
	return 0;
}

const char *
httpq_req_header(const httpq_req *r, const char *name)
{
	return field(r->headers, r->nheaders, name);
}

size_t httpq_req_header_count(const httpq_req *r) { return r->nheaders; }

int
httpq_req_header_at(const httpq_req *r, size_t i, const char **name, const char **value)
{
	return field_at(r->headers, r->nheaders, i, name, value);
}

const char *
httpq_req_trailer(const httpq_req *r, const char *name)
{
	return r->body_end ? field(r->trailers, r->ntrailers, name) : NULL;
}

size_t
httpq_req_trailer_count(const httpq_req *r)
{
	return r->body_end ? r->ntrailers : 0;
}

int
httpq_req_trailer_at(const httpq_req *r, size_t i, const char **name, const char **value)
{
	return field_at(r->trailers, r->body_end ? r->ntrailers : 0, i, name, value);
}

/* --- body --------------------------------------------------------------- */

/*
 * Returns what the application consumed to the daemon.  While bytes wait
 * here the credit is batched (a quarter window); once the buffer is empty
 * all of it goes, so a daemon that stopped at the window always hears.
 */
static void
body_credit(httpq_req *r)
{
	httpq_queue *q = r->q;
	bool empty = r->body_off == r->body_len;

	if (r->body_end || r->body_consumed == 0 || r->done || r->disconnected)
		return;
	if (!empty && r->body_consumed < q->body_window / 4)
		return;
	hq_qp_begin(&q->out, HQ_QP_BODY_CREDIT, 0, r->id);
	hq_qp_put_u32(&q->out, HQ_QA_BYTES, (uint32_t)r->body_consumed);
	hq_qp_end(&q->out);
	r->body_unacked -= r->body_consumed;
	r->body_consumed = 0;
}

ssize_t
httpq_receive_body(httpq_req *r, void *buf, size_t len)
{
	httpq_queue *q = r->q;
	int64_t dl = hqc_deadline(q, false);

	if (len == 0)
		return hqc_seterr(q, EINVAL, "httpq_receive_body: no room in buf");
	if (len > SSIZE_MAX)
		len = SSIZE_MAX;
	for (;;) {
		size_t avail = r->body_len - r->body_off;
		if (avail > 0) {
			size_t n = avail < len ? avail : len;
			memcpy(buf, r->body + r->body_off, n);
			r->body_off += n;
			r->body_consumed += n;
			if (r->body_off == r->body_len)
				r->body_off = r->body_len = 0;
			body_credit(r);
			flush_soon(q);
			return (ssize_t)n;
		}
		if (r->body_end)
			return 0;
		if (r->disconnected)
			return hqc_seterr(q, ECONNRESET, "request %llu: client disconnected: %s",
			    (unsigned long long)r->id, httpq_req_disconnect_reason(r));
		if (r->done)
			return hqc_seterr(q, ECANCELED, "request %llu: the response ended "
			    "before the body", (unsigned long long)r->id);
		if (hqc_check(q))
			return -1;
		/* A failure is seen above once the bytes before it are read. */
		int rc = hqc_pump(q, dl);
		if (rc == 0 && r->body_off == r->body_len && !r->body_end)
			return hqc_timed_out(q);
	}
}

/* --- response ----------------------------------------------------------- */

/* The request may still be answered: 0, or -1 with errno. */
static int
can_send(httpq_req *r, bool head)
{
	httpq_queue *q = r->q;

	if (hqc_check(q))
		return -1;
	if (r->disconnected)
		return hqc_seterr(q, ECONNRESET, "request %llu: client disconnected: %s",
		    (unsigned long long)r->id, httpq_req_disconnect_reason(r));
	if (r->done)
		return hqc_seterr(q, EINVAL, "request %llu: the response has ended",
		    (unsigned long long)r->id);
	if (head && r->head_sent)
		return hqc_seterr(q, EINVAL, "request %llu: the response head was sent "
		    "already", (unsigned long long)r->id);
	if (!head && !r->head_sent)
		return hqc_seterr(q, EINVAL, "request %llu: send the response head first",
		    (unsigned long long)r->id);
	return 0;
}

static bool
is_token(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s <= ' ' || *s >= 0x7f || strchr("\"(),/:;<=>?@[\\]{}", *s))
			return false;
	return true;
}

static int
put_fields(httpq_queue *q, const httpq_field *h, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (!h[i].name || !h[i].value || !is_token(h[i].name) ||
		    strpbrk(h[i].value, "\r\n"))
			return hqc_seterr(q, EINVAL, "field %zu: bad name or value", i);
		hq_qp_put_header(&q->out, h[i].name, strlen(h[i].name), h[i].value,
		    strlen(h[i].value));
	}
	return 0;
}

/* Ends the frame being built; -1 (dropped) when over the daemon's size. */
static int
end_frame(httpq_queue *q)
{
	size_t start = q->out.start;

	if (q->out.len - start - HQ_QP_HEADER_LEN > q->max_payload) {
		q->out.len = start;
		return hqc_seterr(q, EMSGSIZE, "frame over the daemon's %u bytes",
		    (unsigned)q->max_payload);
	}
	if (hq_qp_end(&q->out) < 0)
		return hqc_seterr(q, EMSGSIZE, "frame over %u bytes", HQ_QP_MAX_PAYLOAD);
	return 0;
}

static uint16_t
wire_flags(unsigned flags, bool last)
{
	uint16_t f = 0;

	if (last && !(flags & HTTPQ_FLAG_MORE_DATA))
		f |= HQ_QF_END;
	if (flags & HTTPQ_FLAG_DISCONNECT)
		f |= HQ_QF_DISCONNECT;
	return f;
}

int
httpq_send_response(httpq_req *r, int status, const char *reason,
    const httpq_field *headers, size_t n, unsigned flags)
{
	httpq_queue *q = r->q;
	size_t start = q->out.len;

	if (can_send(r, true) < 0)
		return -1;
	if (status < 200 || status > 999)
		return hqc_seterr(q, EINVAL, "status %d out of 200-999", status);
	if (reason && strpbrk(reason, "\r\n"))
		return hqc_seterr(q, EINVAL, "reason with CR or LF");
	hq_qp_begin(&q->out, HQ_QP_RESPONSE, wire_flags(flags, true), r->id);
	hq_qp_put_u32(&q->out, HQ_QA_STATUS, (uint32_t)status);
	if (reason)
		hq_qp_put_str(&q->out, HQ_QA_REASON, reason);
	if (put_fields(q, headers, n) < 0) {
		q->out.len = start;
		return -1;
	}
	if (end_frame(q) < 0)
		return -1;
	r->head_sent = true;
	if (!(flags & HTTPQ_FLAG_MORE_DATA))
		r->done = true;
	flush_soon(q);
	return 0;
}

/*
 * Waits until the send window holds need bytes.  0, or -1: timed out
 * (EAGAIN/ETIMEDOUT: the writable callback then tells when it grew), the
 * client went away, the connection failed.
 */
static int
wait_window(httpq_req *r, uint64_t need, int64_t dl)
{
	httpq_queue *q = r->q;

	while (r->send_window < need) {
		if (can_send(r, false) < 0)
			return -1;
		int rc = hqc_pump(q, dl);
		if (rc < 0)
			return -1;
		if (rc == 0 && r->send_window < need) {
			r->want_writable = true;
			return hqc_timed_out(q);
		}
	}
	return can_send(r, false);
}

ssize_t
httpq_send_body(httpq_req *r, const void *data, size_t len, unsigned flags)
{
	httpq_queue *q = r->q;
	int64_t dl = hqc_deadline(q, false);
	size_t taken = 0;

	if (can_send(r, false) < 0)
		return -1;
	if (len > SSIZE_MAX)
		return hqc_seterr(q, EINVAL, "len over SSIZE_MAX");
	if (len == 0) {
		if (flags & HTTPQ_FLAG_MORE_DATA)
			return 0;
		hq_qp_begin(&q->out, HQ_QP_RESPONSE_BODY, wire_flags(flags, true), r->id);
		hq_qp_end(&q->out);
		r->done = true;
		flush_soon(q);
		return 0;
	}
	while (taken < len) {
		if (r->send_window == 0 && wait_window(r, 1, dl) < 0) {
			if (taken > 0 && (errno == EAGAIN || errno == ETIMEDOUT))
				break;
			return taken > 0 && errno != ECONNRESET ? (ssize_t)taken : -1;
		}
		size_t chunk = len - taken;
		if (chunk > r->send_window)
			chunk = (size_t)r->send_window;
		if (chunk > q->max_payload)
			chunk = q->max_payload;
		bool last = taken + chunk == len;
		hq_qp_begin(&q->out, HQ_QP_RESPONSE_BODY, wire_flags(flags, last), r->id);
		hq_qp_put_raw(&q->out, (const char *)data + taken, chunk);
		hq_qp_end(&q->out);
		r->send_window -= chunk;
		taken += chunk;
		if (last && !(flags & HTTPQ_FLAG_MORE_DATA))
			r->done = true;
		/* Big bodies: let the socket take each frame as it is made. */
		if (q->out.len >= (size_t)q->max_payload)
			flush_soon(q);
	}
	flush_soon(q);
	return (ssize_t)taken;
}

int
httpq_send_file(httpq_req *r, int fd, uint64_t offset, uint64_t len, unsigned flags)
{
	httpq_queue *q = r->q;

	if (fd < 0) {
		hqc_seterr(q, EBADF, "httpq_send_file: no fd");
		return -1;
	}
	if (wait_window(r, HQ_QP_FILE_COST, hqc_deadline(q, false)) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	size_t at = q->out.len;
	hq_qp_begin(&q->out, HQ_QP_RESPONSE_FILE, wire_flags(flags, true), r->id);
	hq_qp_put_u64(&q->out, HQ_QA_OFFSET, offset);
	hq_qp_put_u64(&q->out, HQ_QA_LENGTH64, len);
	hq_qp_end(&q->out);
	hqc_queue_fd(q, at, fd);
	r->send_window -= HQ_QP_FILE_COST;
	if (!(flags & HTTPQ_FLAG_MORE_DATA))
		r->done = true;
	flush_soon(q);
	return 0;
}

int
httpq_send_trailers(httpq_req *r, const httpq_field *t, size_t n)
{
	httpq_queue *q = r->q;
	size_t start = q->out.len;

	if (can_send(r, false) < 0)
		return -1;
	hq_qp_begin(&q->out, HQ_QP_TRAILERS, 0, r->id);
	if (put_fields(q, t, n) < 0) {
		q->out.len = start;
		return -1;
	}
	if (end_frame(q) < 0)
		return -1;
	r->done = true;
	flush_soon(q);
	return 0;
}

size_t
httpq_send_window(const httpq_req *r)
{
	if (r->done || r->disconnected)
		return 0;
	return r->send_window > SIZE_MAX ? SIZE_MAX : (size_t)r->send_window;
}

/* --- ending ------------------------------------------------------------- */

int
httpq_wait_disconnect(httpq_req *r)
{
	httpq_queue *q = r->q;
	int64_t dl = hqc_deadline(q, false);

	for (;;) {
		if (r->disconnected)
			return 0;
		if (r->done)
			return hqc_seterr(q, EALREADY, "request %llu: the response has ended",
			    (unsigned long long)r->id);
		int rc = hqc_pump(q, dl);
		if (rc < 0 && !r->disconnected)
			return -1;
		if (rc == 0 && !r->disconnected)
			return hqc_timed_out(q);
	}
}

static void
send_cancel(httpq_req *r)
{
	httpq_queue *q = r->q;

	hq_qp_begin(&q->out, HQ_QP_CANCEL, 0, r->id);
	hq_qp_end(&q->out);
	r->done = true;
}

int
httpq_cancel(httpq_req *r)
{
	httpq_queue *q = r->q;

	if (hqc_check(q))
		return -1;
	if (r->done || r->disconnected)
		return hqc_seterr(q, EALREADY, "request %llu has ended already",
		    (unsigned long long)r->id);
	send_cancel(r);
	flush_soon(q);
	return 0;
}

void
httpq_req_free(httpq_req *r)
{
	if (!r)
		return;
	httpq_queue *q = r->q;
	if (!r->done && !r->disconnected && !q->broken) {
		send_cancel(r);
		flush_soon(q);
	}
	r->done = true;
	if (r->busy) {          /* inside its callback: httpq_process frees it */
		r->freed = true;
		return;
	}
	hqc_unlink(q, r);
	hqc_req_destroy(r);
}
