/*
 * response.c -- response heads and bodies, the output queue, daemon-made
 * error pages and the HTTPERR-style error log.
 *
 * Output is a queue of segments: runs of c->out (copied bytes), file
 * ranges (sent with sendfile) and shared bytes held by a reference (a
 * cache entry's body); consecutive memory segments go out with one
 * writev.  A response head is assembled with memcpy, no printf on the hot
 * path; the Date value is formatted once a second per worker.  The framing header (Content-Length or chunked) is decided as
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

/* A segment of c->out's bytes. */
static bool
seg_in_out(const struct hq_seg *s)
{
	return s->fd < 0 && s->ref == NULL;
}

static void
seg_release(struct hq_seg *s)
{
	if (s->fd >= 0)
		close(s->fd);
	else if (s->ref != NULL)
		hq_ref_put(s->ref);
}

static void
seg_push(struct hq_conn *c, int fd, struct hq_ref *ref, uint64_t off, uint64_t len)
{
	struct hq_seg *s;

	if (fd < 0 && ref == NULL && c->nsegs > c->seg0) {
		s = &c->segs[c->nsegs - 1];
		if (seg_in_out(s) && s->off + s->len == off) {
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
	c->segs[c->nsegs++] = (struct hq_seg){ fd, off, len, ref };
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
	seg_push(c, -1, NULL, c->out.len, n);
	c->out.len += n;
}

void
hq_out_file(struct hq_conn *c, int fd, uint64_t off, uint64_t len)
{
	if (c->closed || len == 0) {
		close(fd);
		return;
	}
	seg_push(c, fd, NULL, off, len);
}

/* Drops what is unsent and gives the buffer and segments back. */
void
hq_out_reset(struct hq_conn *c)
{
	for (size_t i = c->seg0; i < c->nsegs; i++)
		seg_release(&c->segs[i]);
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

	if (s->ref != NULL)
		return hq_tls_write(c, s->ref->base + s->off, (size_t)s->len);
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

/* What the connection's BIO holds (tls_conn.c) goes out; c->pending
 * counts what the socket did not take, as output not yet written. */
static int
tls_flush(struct hq_conn *c, bool all)
{
	int64_t delta;
	int rc = hq_tls_flush(c, all, &delta);

	c->pending = (uint64_t)((int64_t)c->pending + delta);
	return rc;
}

#define HQ_OUT_IOV 16

/* Writes at most max bytes from s on (a bandwidth limit's share): a file
 * range alone, memory segments up to the next file range with one writev;
 * *want is what was asked.  TLS, whose retried SSL_write must repeat its
 * length, writes a segment as before, and the bucket goes into debt
 * instead. */
static ssize_t
seg_write(struct hq_conn *c, struct hq_seg *s, struct hq_seg *end, uint64_t max,
    uint64_t *want)
{
	uint64_t len = s->len < max ? s->len : max;

	*want = len;
	if (c->ssl != NULL) {
		*want = s->len;
		return tls_seg_write(c, s);
	}
	if (s->fd < 0) {
		struct iovec iov[HQ_OUT_IOV];
		int n = 0;

		for (*want = 0; s < end && s->fd < 0 && n < HQ_OUT_IOV && *want < max; s++) {
			len = s->len < max - *want ? s->len : max - *want;
			iov[n].iov_base = (char *)(s->ref ? s->ref->base : c->out.p) + s->off;
			iov[n++].iov_len = (size_t)len;
			*want += len;
		}
		return n == 1 ? write(c->fd, iov[0].iov_base, iov[0].iov_len) :
		    writev(c->fd, iov, n);
	}
	off_t off = (off_t)s->off;
	size_t n = len > (1 << 20) ? (1 << 20) : (size_t)len;
	ssize_t w = sendfile(c->fd, s->fd, &off, n);

	*want = n;
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
		if (seg_in_out(&c->segs[i])) {
			sent = (size_t)c->segs[i].off;
			break;
		}
	if (sent >= HQ_IBUF_SIZE && sent >= c->out.len - sent) {
		memmove(c->out.p, c->out.p + sent, c->out.len - sent);
		c->out.len -= sent;
		for (size_t i = c->seg0; i < c->nsegs; i++)
			if (seg_in_out(&c->segs[i]))
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
		uint64_t want, left;
		ssize_t n = seg_write(c, s, c->segs + c->nsegs, budget, &want);

		/* 0: TLS saw the peer's close_notify; nothing will go out. */
		if (n <= 0) {
			if (n < 0 && (errno == EAGAIN || errno == EINTR))
				break;
			return -1;
		}
		c->pending -= (uint64_t)n;
		budget = (uint64_t)n < budget ? budget - (uint64_t)n : 0;
		/* what was written, segment by segment */
		for (left = (uint64_t)n; left > 0 && c->seg0 < c->nsegs; c->seg0++) {
			s = &c->segs[c->seg0];
			if (left < s->len) {
				s->off += left;
				s->len -= left;
				break;
			}
			left -= s->len;
			seg_release(s);
		}
		if ((uint64_t)n < want && c->ssl == NULL)
			break; /* short write: the socket is full */
		/* TLS writes a record at a time: go on */
	}
	/* TLS bytes held from an earlier turn go now (after the segments:
	 * writes go behind what the BIO holds). */
	if (c->ssl != NULL && tls_flush(c, false) < 0)
		return -1;
	if (c->seg0 < c->nsegs) {
		out_compact(c);
		return 0;
	}
	c->seg0 = c->nsegs = 0;
	c->out.len = 0;
	return 0;
}

int
hq_out_tls_flush(struct hq_conn *c)
{
	return tls_flush(c, true);
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
	case 426: return "Upgrade Required";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	default: return "Unknown";
	}
}

/* A head is a run of small appends: the common one, with room in c->out
 * right after its last segment, is a copy and four additions, inlined
 * (a literal's copy too). */
static inline void
put(struct hq_conn *c, const char *p, size_t n)
{
	struct hq_seg *s = c->nsegs > c->seg0 ? &c->segs[c->nsegs - 1] : NULL;

	if (s != NULL && c->out.len + n <= c->out.cap && seg_in_out(s) &&
	    s->off + s->len == c->out.len && !c->closed) {
		memcpy(c->out.p + c->out.len, p, n);
		c->out.len += n;
		s->len += n;
		c->pending += n;
		c->bytes_out += n;
		return;
	}
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

/*
 * A head goes out in a few put() calls, not one per piece: each costs a
 * segment update (about 110 instructions), and a keep-alive answer took
 * 16 of them.  The pieces of a line are joined in a local buffer first;
 * the cat_* helpers append to one and return the new end.
 */
static char *
cat(char *at, const char *p, size_t n)
{
	memcpy(at, p, n);
	return at + n;
}

#define CAT_LIT(at, lit) cat((at), (lit), sizeof(lit) - 1)

static void
put_status_line(struct hq_conn *c, int status, const char *reason)
{
	char line[96] = "HTTP/1.1 000 ";
	size_t rlen = strlen(reason);

	line[9] = (char)('0' + status / 100 % 10);
	line[10] = (char)('0' + status / 10 % 10);
	line[11] = (char)('0' + status % 10);
	if (rlen <= sizeof(line) - 15) {
		put(c, line, (size_t)(CAT_LIT(cat(line + 13, reason, rlen), "\r\n") - line));
		return;
	}
	put(c, line, 13);
	put(c, reason, rlen);
	PUT_LIT(c, "\r\n");
}

static void
put_date_server(struct hq_conn *c, bool date, bool server)
{
	char buf[sizeof("Date: \r\n") + sizeof(c->w->date) + sizeof(server_hdr)];
	char *at = buf;
	size_t n;
	const char *d;

	if (date) {
		d = hq_worker_date(c->w, &n);
		at = CAT_LIT(cat(CAT_LIT(at, "Date: "), d, n), "\r\n");
	}
	if (server && c->cfg->store->server_header)
		at = CAT_LIT(at, server_hdr);
	put(c, buf, (size_t)(at - buf));
}

static char *
cat_content_length(char *at, uint64_t n)
{
	at = CAT_LIT(at, "Content-Length: ");
	at += fmt_u64(at, n);
	return CAT_LIT(at, "\r\n");
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
	char buf[96], *at = buf;

	r->head_open = false;
	if (bodiless_status) {
		/* no framing at all */
	} else if (r->resp_cl >= 0) {
		at = cat_content_length(at, (uint64_t)r->resp_cl);
	} else if (final) {
		r->resp_cl = (int64_t)body_len;
		at = cat_content_length(at, body_len);
	} else if (r->head.version >= 11) {
		r->chunked_out = true;
		at = CAT_LIT(at, "Transfer-Encoding: chunked\r\n");
	} else {
		r->close_delimited = true;
		c->close_after = true;
	}
	if (c->close_after || c->w->draining) {
		c->close_after = true;
		at = CAT_LIT(at, "Connection: close\r\n");
	} else if (r->head.version == 10) {
		at = CAT_LIT(at, "Connection: keep-alive\r\n");
	}
	at = CAT_LIT(at, "\r\n");
	put(c, buf, (size_t)(at - buf));
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
		char line[256];

		if (i < 64 ? (f->ours >> i) & 1 : mod_field_ours(mod_field(h)))
			continue;
		if (h->name_len + h->value_len + 4 <= sizeof(line)) {
			char *at = cat(CAT_LIT(cat(line, h->name, h->name_len), ": "),
			    h->value, h->value_len);

			put(c, line, (size_t)(CAT_LIT(at, "\r\n") - line));
			continue;
		}
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

/* A 101 (api->send_head, request.c has checked the request): the
 * module's fields and "Connection: upgrade"; no Date or Server, and never
 * framing, as no message body follows, only the other protocol. */
int
hq_response_switch(httpq_request *r, const char *reason,
    const httpq_header *headers, size_t n)
{
	struct hq_conn *c = r->c;
	struct head_facts f;

	if (check_module_head(reason, headers, n, &f) < 0)
		return -1;
	r->status = 101;
	r->head_us = hq_mono_us(false);
	put_status_line(c, 101, reason ? reason : "Switching Protocols");
	put_module_headers(c, headers, n, &f);
	put_request_id(c, headers, n);
	PUT_LIT(c, "Connection: upgrade\r\n\r\n");
	r->head_sent = true;
	return 0;
}

size_t
hq_response_stored_tail(const struct hq_conn *c, int status, uint64_t bodylen,
    bool server, char *out)
{
	char *p = out;

	if (server && c->cfg->store->server_header) {
		memcpy(p, server_hdr, sizeof(server_hdr) - 1);
		p += sizeof(server_hdr) - 1;
	}
	if (status != 304) {
		memcpy(p, "Content-Length: ", 16);
		p += 16;
		p += fmt_u64(p, bodylen);
		memcpy(p, "\r\n", 2);
		p += 2;
	}
	return (size_t)(p - out);
}

/* The same bytes as hq_response_close_head would add after s->tail. */
void
hq_response_stored(httpq_request *r, const struct hq_stored *s, uint64_t age_s)
{
	static const char conn_close[] = "Connection: close\r\n";
	static const char conn_ka[] = "Connection: keep-alive\r\n";
	struct hq_conn *c = r->c;
	const char *d, *conn = NULL;
	size_t dn, connlen = 0, total, copy;
	char *p;

	r->status = s->status;
	r->resp_cl = (int64_t)s->bodylen;
	r->head_sent = true;
	r->head_open = false;
	if (s->status == 304)
		r->no_body = true;
	if (c->close_after || c->w->draining) {
		c->close_after = true;
		conn = conn_close;
		connlen = sizeof(conn_close) - 1;
	} else if (r->head.version == 10) {
		conn = conn_ka;
		connlen = sizeof(conn_ka) - 1;
	}
	r->resp_done = true;
	if (c->closed)
		return;
	d = hq_worker_date(c->w, &dn);
	copy = r->no_body || s->ref != NULL ? 0 : s->bodylen;
	total = s->headlen + 5 + 20 + 2 + 6 + dn + 2 + s->taillen + connlen + 2 + copy;
	p = out_reserve(c, total);
#define ADD(src, n) (memcpy(p, (src), (n)), p += (n))
	ADD(s->head, s->headlen);
	ADD("Age: ", 5);
	p += fmt_u64(p, age_s);
	ADD("\r\nDate: ", 8);
	ADD(d, dn);
	ADD("\r\n", 2);
	ADD(s->tail, s->taillen);
	if (conn != NULL)
		ADD(conn, connlen);
	ADD("\r\n", 2);
	if (copy > 0)
		ADD(s->body, copy);
#undef ADD
	total = (size_t)(p - (c->out.p + c->out.len));
	seg_push(c, -1, NULL, c->out.len, total);
	c->out.len += total;
	if (!r->no_body) {
		if (s->ref != NULL && s->bodylen > 0) {
			atomic_fetch_add_explicit(&s->ref->refs, 1, memory_order_relaxed);
			seg_push(c, -1, s->ref, (uint64_t)(s->body - s->ref->base), s->bodylen);
		}
		r->resp_body = s->bodylen;
	}
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
