/*
 * response.c -- response heads and bodies, the output queue, daemon-made
 * error pages and the HTTPERR-style error log.
 *
 * Output is a queue of segments: runs of c->out (copied bytes) and file
 * ranges (sent with sendfile).  A response head is assembled with memcpy,
 * no printf on the hot path; the Date value is formatted once a second per
 * worker.  The framing header (Content-Length or chunked) is decided as
 * late as possible, so that a module sending a head and then one body
 * chunk gets a Content-Length, not chunked encoding.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <time.h>
#include <unistd.h>

#include "httpqd.h"

static const char server_hdr[] = "Server: httpq/" PACKAGE_VERSION "\r\n";

/* --- the output queue ----------------------------------------------------- */

static void
seg_push(struct hq_conn *c, int fd, uint64_t off, uint64_t len)
{
	struct hq_seg *s;

	if (fd < 0 && c->nsegs > c->seg0) {
		s = &c->segs[c->nsegs - 1];
		if (s->fd < 0 && s->off + s->len == off) {
			s->len += len;
			c->pending += len;
			c->bytes_out += len;
			return;
		}
	}
	if (c->segs == NULL) {
		c->segs = hq_worker_get(c->w, HQ_POOL_SEGS);
		c->capsegs = HQ_SEGS_INITIAL;
	} else if (c->nsegs == c->capsegs) {
		c->capsegs *= 2;
		c->segs = xrealloc(c->segs, c->capsegs * sizeof(*c->segs));
	}
	c->segs[c->nsegs++] = (struct hq_seg){ fd, off, len };
	c->pending += len;
	c->bytes_out += len;
}

static char *
out_reserve(struct hq_conn *c, size_t n)
{
	if (c->out.p == NULL)
		c->out.p = hq_worker_getbuf(c->w, &c->out.cap);
	if (c->out.len + n > c->out.cap) {
		size_t cap = c->out.cap * 2;

		while (cap < c->out.len + n)
			cap *= 2;
		c->out.p = xrealloc(c->out.p, cap);
		c->out.cap = cap;
	}
	return c->out.p + c->out.len;
}

void
hq_out_append(struct hq_conn *c, const void *p, size_t n)
{
	if (n == 0 || c->closed)
		return;
	memcpy(out_reserve(c, n), p, n);
	seg_push(c, -1, c->out.len, n);
	c->out.len += n;
}

void
hq_out_file(struct hq_conn *c, int fd, uint64_t off, uint64_t len)
{
	if (c->closed || len == 0) {
		close(fd);
		return;
	}
	seg_push(c, fd, off, len);
}

/* Drops what is unsent and gives the buffer and segments back. */
void
hq_out_reset(struct hq_conn *c)
{
	for (size_t i = c->seg0; i < c->nsegs; i++)
		if (c->segs[i].fd >= 0)
			close(c->segs[i].fd);
	c->seg0 = c->nsegs = 0;
	c->pending = 0;
	c->out.len = 0;
	if (c->out.p != NULL) {
		if (c->out.cap == HQ_IBUF_SIZE)
			hq_worker_putbuf(c->w, c->out.p);
		else
			free(c->out.p);
		c->out.p = NULL;
		c->out.cap = 0;
	}
	if (c->capsegs == HQ_SEGS_INITIAL)
		hq_worker_put(c->w, HQ_POOL_SEGS, c->segs);
	else
		free(c->segs);
	c->segs = NULL;
	c->capsegs = 0;
}

/* TLS: file ranges go through a buffer, as SSL_write needs the bytes. */
static ssize_t
tls_seg_write(struct hq_conn *c, struct hq_seg *s)
{
	static _Thread_local char buf[16384];
	size_t want = s->len > sizeof(buf) ? sizeof(buf) : (size_t)s->len;
	ssize_t n;

	if (s->fd < 0)
		return hq_tls_write(c, c->out.p + s->off, (size_t)s->len);
	n = pread(s->fd, buf, want, (off_t)s->off);
	if (n <= 0) {
		if (n == 0)
			errno = EIO; /* the file shrank under us */
		return -1;
	}
	return hq_tls_write(c, buf, (size_t)n);
}

/* Writes at most max bytes of s (a bandwidth limit's share); TLS, whose
 * retried SSL_write must repeat its length, writes as before, and the
 * bucket goes into debt instead. */
static ssize_t
seg_write(struct hq_conn *c, struct hq_seg *s, uint64_t max)
{
	uint64_t len = s->len < max ? s->len : max;

	if (c->ssl != NULL)
		return tls_seg_write(c, s);
	if (s->fd < 0)
		return write(c->fd, c->out.p + s->off, len);
	off_t off = (off_t)s->off;
	size_t n = len > (1 << 20) ? (1 << 20) : (size_t)len;
	ssize_t w = sendfile(c->fd, s->fd, &off, n);

	if (w == 0)
		errno = EIO; /* the file shrank under us */
	return w == 0 ? -1 : w;
}

/*
 * Output that never quite drains (a client taking it as fast as pipelined
 * answers are added) would keep every byte ever sent in c->out, and every
 * segment in c->segs: once the sent part is the larger one, move what is
 * left to the front.  Only here, after writing, never while a head is
 * being assembled.
 */
static void
out_compact(struct hq_conn *c)
{
	size_t sent = c->out.len;

	for (size_t i = c->seg0; i < c->nsegs; i++)
		if (c->segs[i].fd < 0) {
			sent = (size_t)c->segs[i].off;
			break;
		}
	if (sent >= HQ_IBUF_SIZE && sent >= c->out.len - sent) {
		memmove(c->out.p, c->out.p + sent, c->out.len - sent);
		c->out.len -= sent;
		for (size_t i = c->seg0; i < c->nsegs; i++)
			if (c->segs[i].fd < 0)
				c->segs[i].off -= sent;
	}
	if (c->seg0 >= 64 && c->seg0 >= c->nsegs - c->seg0) {
		memmove(c->segs, c->segs + c->seg0,
		    (c->nsegs - c->seg0) * sizeof(*c->segs));
		c->nsegs -= c->seg0;
		c->seg0 = 0;
	}
}

int
hq_out_flush(struct hq_conn *c, uint64_t budget)
{
	while (c->seg0 < c->nsegs && budget > 0) {
		struct hq_seg *s = &c->segs[c->seg0];
		ssize_t n = seg_write(c, s, budget);

		/* 0: TLS saw the peer's close_notify; nothing will go out. */
		if (n <= 0) {
			if (n < 0 && (errno == EAGAIN || errno == EINTR))
				break;
			return -1;
		}
		s->off += (uint64_t)n;
		s->len -= (uint64_t)n;
		c->pending -= (uint64_t)n;
		budget = (uint64_t)n < budget ? budget - (uint64_t)n : 0;
		if (budget == 0 && s->len > 0)
			break; /* the bandwidth limit's share is written */
		if (s->len > 0 && c->ssl == NULL)
			break; /* short write: the socket is full */
		if (s->len > 0)
			continue; /* TLS writes a record at a time */
		if (s->fd >= 0)
			close(s->fd);
		c->seg0++;
	}
	if (c->seg0 < c->nsegs) {
		out_compact(c);
		return 0;
	}
	c->seg0 = c->nsegs = 0;
	c->out.len = 0;
	return 0;
}

/* --- response heads -------------------------------------------------------- */

static const char *
status_phrase(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 206: return "Partial Content";
	case 301: return "Moved Permanently";
	case 302: return "Found";
	case 303: return "See Other";
	case 304: return "Not Modified";
	case 307: return "Temporary Redirect";
	case 308: return "Permanent Redirect";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 410: return "Gone";
	case 411: return "Length Required";
	case 412: return "Precondition Failed";
	case 413: return "Payload Too Large";
	case 415: return "Unsupported Media Type";
	case 416: return "Range Not Satisfiable";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	default: return "Unknown";
	}
}

static void
put(struct hq_conn *c, const char *p, size_t n)
{
	hq_out_append(c, p, n);
}

#define PUT_LIT(c, lit) put((c), (lit), sizeof(lit) - 1)

static size_t
fmt_u64(char *buf, uint64_t v)
{
	char tmp[24];
	size_t n = 0, i;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	for (i = 0; i < n; i++)
		buf[i] = tmp[n - 1 - i];
	return n;
}

static void
put_status_line(struct hq_conn *c, int status, const char *reason)
{
	char line[16] = "HTTP/1.1 000 ";

	line[9] = (char)('0' + status / 100 % 10);
	line[10] = (char)('0' + status / 10 % 10);
	line[11] = (char)('0' + status % 10);
	put(c, line, 13);
	put(c, reason, strlen(reason));
	PUT_LIT(c, "\r\n");
}

static void
put_date_server(struct hq_conn *c, bool date, bool server)
{
	size_t n;
	const char *d;

	if (date) {
		d = hq_worker_date(c->w, &n);
		PUT_LIT(c, "Date: ");
		put(c, d, n);
		PUT_LIT(c, "\r\n");
	}
	if (server && c->cfg->store->server_header)
		PUT_LIT(c, server_hdr);
}

static void
put_content_length(struct hq_conn *c, uint64_t n)
{
	char num[24];

	PUT_LIT(c, "Content-Length: ");
	put(c, num, fmt_u64(num, n));
	PUT_LIT(c, "\r\n");
}

/* The request id header of the URL group (request_id_header), unless the
 * module sent one itself: the trusted foreign id, else the numeric one. */
static void
put_request_id(struct hq_conn *c, const httpq_header *h, size_t n)
{
	const httpq_request *r = c->req;
	const char *name;
	size_t len;
	char num[24];

	if (r->group == NULL || (name = r->group->sg->request_id_header) == NULL ||
	    r->id == 0)
		return;
	len = strlen(name);
	for (size_t i = 0; i < n; i++)
		if (h[i].name_len == len && hq_mem_eq_nocase(h[i].name, name, len))
			return;
	put(c, name, len);
	PUT_LIT(c, ": ");
	if (r->rid.n > 0)
		put(c, r->rid.p, r->rid.n);
	else
		put(c, num, fmt_u64(num, r->id));
	PUT_LIT(c, "\r\n");
}

/* Ends the head: framing, Connection, empty line. */
void
hq_response_close_head(httpq_request *r, uint64_t body_len, bool final)
{
	struct hq_conn *c = r->c;
	bool bodiless_status = r->status < 200 || r->status == 204 || r->status == 304;

	r->head_open = false;
	if (bodiless_status) {
		/* no framing at all */
	} else if (r->resp_cl >= 0) {
		put_content_length(c, (uint64_t)r->resp_cl);
	} else if (final) {
		r->resp_cl = (int64_t)body_len;
		put_content_length(c, body_len);
	} else if (r->head.version >= 11) {
		r->chunked_out = true;
		PUT_LIT(c, "Transfer-Encoding: chunked\r\n");
	} else {
		r->close_delimited = true;
		c->close_after = true;
	}
	if (c->close_after || c->w->draining) {
		c->close_after = true;
		PUT_LIT(c, "Connection: close\r\n");
	} else if (r->head.version == 10) {
		PUT_LIT(c, "Connection: keep-alive\r\n");
	}
	PUT_LIT(c, "\r\n");
	if (bodiless_status || r->status == 0)
		r->no_body = true;
}

static bool
parse_cl(const char *p, size_t n, int64_t *out)
{
	int64_t v = 0;

	if (n == 0 || n > 18)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return false;
		v = v * 10 + (p[i] - '0');
	}
	*out = v;
	return true;
}

/* The module header names the daemon acts on. */
enum mod_field { MF_OTHER, MF_CONTENT_LENGTH, MF_TRANSFER_ENCODING, MF_CONNECTION,
	MF_DATE, MF_SERVER };

/* Which of them h is: the names differ in length, so a name is compared
 * once, and only with the one literal of its length. */
static enum mod_field
mod_field(const httpq_header *h)
{
#define IS(lit, f) (hq_mem_eq_nocase(h->name, lit, sizeof(lit) - 1) ? (f) : MF_OTHER)
	switch (h->name_len) {
	case 4: return IS("Date", MF_DATE);
	case 6: return IS("Server", MF_SERVER);
	case 10: return IS("Connection", MF_CONNECTION);
	case 14: return IS("Content-Length", MF_CONTENT_LENGTH);
	case 17: return IS("Transfer-Encoding", MF_TRANSFER_ENCODING);
	default: return MF_OTHER;
	}
#undef IS
}

/* Fields the daemon writes itself: framing and Connection. */
static bool
mod_field_ours(enum mod_field f)
{
	return f == MF_CONTENT_LENGTH || f == MF_TRANSFER_ENCODING || f == MF_CONNECTION;
}

/* What a module's head says about framing, once every field is valid. */
struct head_facts {
	int64_t cl;       /* its Content-Length, -1 if none */
	bool close;       /* Connection: close */
	bool has_date;
	bool has_server;
	/* Bit i: field i (i < 64) is one put_module_headers() leaves out, as
	 * check_module_head() found; fields past 64 are looked at again. */
	uint64_t ours;
};

/*
 * Checks the module's whole head before a byte of it is written: a refused
 * head must leave the output queue as it was, and an earlier pipelined
 * response may still sit in its last segment.
 */
static int
check_module_head(const char *reason, const httpq_header *h, size_t n,
    struct head_facts *f)
{
	*f = (struct head_facts){ .cl = -1 };
	if (reason != NULL && !hq_http1_field_value_ok(reason, strlen(reason)))
		return -1;
	for (size_t i = 0; i < n; i++, h++) {
		enum mod_field k;

		if (!hq_http1_field_name_ok(h->name, h->name_len) ||
		    !hq_http1_field_value_ok(h->value, h->value_len))
			return -1;
		k = mod_field(h);
		if (i < 64 && mod_field_ours(k))
			f->ours |= (uint64_t)1 << i;
		if (k == MF_CONTENT_LENGTH && !parse_cl(h->value, h->value_len, &f->cl))
			return -1;
		if (k == MF_CONNECTION && h->value_len == 5 &&
		    hq_mem_eq_nocase(h->value, "close", 5))
			f->close = true;
		if (k == MF_DATE)
			f->has_date = true;
		if (k == MF_SERVER)
			f->has_server = true;
	}
	return 0;
}

/* Copies the module's checked headers; framing and Connection are ours. */
static void
put_module_headers(struct hq_conn *c, const httpq_header *h, size_t n,
    const struct head_facts *f)
{
	for (size_t i = 0; i < n; i++, h++) {
		if (i < 64 ? (f->ours >> i) & 1 : mod_field_ours(mod_field(h)))
			continue;
		put(c, h->name, h->name_len);
		PUT_LIT(c, ": ");
		put(c, h->value, h->value_len);
		PUT_LIT(c, "\r\n");
	}
}

int
hq_response_head(httpq_request *r, int status, const char *reason,
    const httpq_header *headers, size_t n, unsigned flags)
{
	struct hq_conn *c = r->c;
	struct head_facts f;

	if (status < 200 || status > 999 ||
	    check_module_head(reason, headers, n, &f) < 0)
		return -1;
	/* Nothing fails from here on: the head goes out whole. */
	r->status = status;
	r->head_us = hq_mono_us(false);
	if (f.cl >= 0)
		r->resp_cl = f.cl;
	if (f.close || (flags & HTTPQ_SEND_DISCONNECT))
		c->close_after = true;
	put_status_line(c, status, reason ? reason : status_phrase(status));
	put_module_headers(c, headers, n, &f);
	put_request_id(c, headers, n);
	/* The module's own Date or Server wins. */
	put_date_server(c, !f.has_date, !f.has_server);
	r->head_sent = true;
	r->head_open = true;
	if (!(flags & HTTPQ_SEND_MORE) || r->resp_cl >= 0 || r->status == 204 ||
	    r->status == 304)
		hq_response_close_head(r, 0, !(flags & HTTPQ_SEND_MORE));
	return 0;
}

void
hq_response_stored(httpq_request *r, int status, const char *head, size_t headlen,
    bool server, uint64_t age_s, const char *body, size_t bodylen)
{
	struct hq_conn *c = r->c;
	char num[24];

	r->status = status;
	put(c, head, headlen);
	PUT_LIT(c, "Age: ");
	put(c, num, fmt_u64(num, age_s));
	PUT_LIT(c, "\r\n");
	put_date_server(c, true, server);
	r->resp_cl = (int64_t)bodylen;
	r->head_sent = true;
	r->head_open = true;
	hq_response_close_head(r, bodylen, true);
	if (!r->no_body) {
		put(c, body, bodylen);
		r->resp_body = bodylen;
	}
	r->resp_done = true;
}

/* --- daemon-made responses -------------------------------------------------- */

static const char *
full_phrase(enum hq_error e)
{
	switch (e) {
	case HQ_ERR_QUEUE_FULL: return "Service Unavailable - Queue Full";
	case HQ_ERR_NO_CONSUMER: return "Service Unavailable - No Consumer";
	case HQ_ERR_UNBOUND: return "Service Unavailable - Queue Not Bound";
	case HQ_ERR_SHUTDOWN: return "Service Unavailable - Shutting Down";
	default: return hq_errinfo(e)->phrase;
	}
}

/* The page http.sys sends, so that people who know one recognise the other;
 * the full 503 verbosity also names the queue. */
size_t
hq_response_error_page(const httpq_request *r, enum hq_error e, const char *queue,
    char *body, size_t cap, const char **phrase)
{
	const struct hq_errinfo *ei = hq_errinfo(e);
	bool full = queue != NULL && ei->status == 503 &&
	    r->group && r->group->consumer &&
	    hq_queue_verbosity(r->group->consumer->queue) == HQ_503_FULL;
	const char *title = ei->status == 503 && !full ? "Service Unavailable" : ei->title;
	const char *text = ei->status == 503 && !full ? "The service is unavailable." : ei->text;
	char qtext[300] = "";
	int n;

	if (full)
		snprintf(qtext, sizeof(qtext), " (queue \"%s\")", queue);
	n = snprintf(body, cap,
	    "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\"\"http://www.w3.org/TR/html4/strict.dtd\">\r\n"
	    "<HTML><HEAD><TITLE>%s</TITLE>\r\n"
	    "<META HTTP-EQUIV=\"Content-Type\" Content=\"text/html; charset=us-ascii\"></HEAD>\r\n"
	    "<BODY><h2>%s</h2>\r\n<hr><p>HTTP Error %d. %s%s</p>\r\n</BODY></HTML>\r\n",
	    title, title, ei->status, text, qtext);
	if (n < 0 || (size_t)n >= cap)
		n = 0;
	*phrase = full ? full_phrase(e) : ei->phrase;
	return (size_t)n;
}

void
hq_response_error(struct hq_conn *c, enum hq_error e, const char *queue)
{
	const struct hq_errinfo *ei = hq_errinfo(e);
	httpq_request *r = c->req;
	char body[1024];
	const char *phrase;
	size_t n = hq_response_error_page(r, e, queue, body, sizeof(body), &phrase);

	if (ei->close)
		c->close_after = true;
	r->status = ei->status;
	r->head_us = hq_mono_us(false);
	put_status_line(c, ei->status, phrase);
	PUT_LIT(c, "Content-Type: text/html; charset=us-ascii\r\n");
	put_request_id(c, NULL, 0);
	put_date_server(c, true, true);
	r->resp_cl = (int64_t)n;
	r->head_open = true;
	hq_response_close_head(r, (uint64_t)n, true);
	if (!hq_str_eq_nocase(r->head.method, "HEAD"))
		put(c, body, n);
	r->head_sent = true;
	r->resp_done = true;
}
