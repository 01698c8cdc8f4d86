// fuzz-sources: src/lib/http1.c
/*
 * fuzz_http1.c -- libFuzzer harness for the request head parser and the
 * chunked decoder.
 *
 * The input is a connection's bytes: heads are parsed one after another
 * (pipelining), Content-Length bodies skipped, chunked bodies decoded.  Each
 * head and body is also fed split in two at a point taken from the first
 * byte, and must give exactly the same result: the parser promises that its
 * answer depends on the bytes, not on how they arrive.  A difference aborts.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "httpq-internal.h"

#define NHDR      32
#define MAX_HEADS 64

static const struct hq_limits default_limits = {
	HQ_DEFAULT_MAX_REQUEST_BYTES, HQ_DEFAULT_MAX_FIELD_LENGTH,
	HQ_DEFAULT_MAX_URL_LENGTH, HQ_DEFAULT_MAX_HEADERS,
	HQ_DEFAULT_SEGMENT_MAX_LENGTH, HQ_DEFAULT_SEGMENT_MAX_COUNT,
};

/* Small enough for mutated inputs to reach every limit. */
static const struct hq_limits small_limits = { 256, 64, 48, 8, 260, 255 };

static void
check(bool ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_http1: %s\n", what);
		abort();
	}
}

static bool
inside(struct hq_str s, const char *buf, size_t len)
{
	return s.n == 0 || (s.p >= buf && s.p + s.n <= buf + len);
}

static int
parse(const char *buf, size_t len, size_t *scanned, const struct hq_limits *lim,
    struct hq_head *h, struct hq_hdr *hdrs)
{
	memset(h, 0, sizeof(*h));
	h->headers = hdrs;
	h->hdr_cap = NHDR;
	return hq_http1_parse_head(buf, len, scanned, lim, h);
}

/* What a complete head promises: views into it, sane framing. */
static void
check_head(const char *buf, int r, const struct hq_head *h)
{
	size_t n = (size_t)r;

	check(h->head_len == n && h->error == HQ_OK, "head_len/error");
	check(inside(h->method, buf, n) && h->method.n > 0, "method");
	check(inside(h->target, buf, n) && h->target.n > 0, "target");
	check(inside(h->host, buf, n), "host");
	check(inside(h->path, buf, n) || (h->path.n == 1 && h->path.p[0] == '/'),
	    "path");
	check(h->version == 10 || h->version == 11, "version");
	check(h->nheaders <= NHDR, "nheaders");
	for (size_t i = 0; i < h->nheaders; i++)
		check(inside(h->headers[i].name, buf, n) &&
		    inside(h->headers[i].value, buf, n), "header view");
	check(!(h->chunked && h->content_length >= 0), "CL and chunked");
	check(h->content_length >= -1, "content_length");
}

/* One head whole, then split at cut: the two answers must be equal. */
static int
parse_both_ways(const char *buf, size_t len, size_t cut,
    const struct hq_limits *lim, struct hq_head *h, struct hq_hdr *hdrs)
{
	static struct hq_hdr hdrs2[NHDR];
	struct hq_head h2;
	size_t scanned = 0, s2 = 0;
	int r = parse(buf, len, &scanned, lim, h, hdrs), r2;

	if (cut > len)
		cut = len;
	r2 = parse(buf, cut, &s2, lim, &h2, hdrs2);
	check(s2 <= cut, "scanned beyond len");
	if (r2 == 0)
		r2 = parse(buf, len, &s2, lim, &h2, hdrs2);
	check(r == r2, "split head gives another result");
	check(r >= 0 || h->error == h2.error, "split head gives another error");
	check(r <= 0 || (h->nheaders == h2.nheaders && h->chunked == h2.chunked &&
	    h->content_length == h2.content_length), "split head differs");
	check(r >= 0 || (h->error > HQ_OK && h->error < HQ_ERR__COUNT), "error code");
	return r;
}

struct body {
	uint64_t sum;     /* FNV-1a of the decoded bytes */
	size_t outlen;
	size_t consumed;
	bool done;
	bool failed;
	enum hq_error err;
};

static void
feed(struct hq_chunked *c, const char *p, size_t n, const struct hq_limits *lim,
    struct body *b)
{
	size_t pos = 0;

	while (!b->failed && !b->done && pos < n) {
		const char *d;
		size_t dl;
		bool done;
		ssize_t k = hq_chunked_decode(c, p + pos, n - pos, &d, &dl, &done,
		    lim, &b->err);

		if (k < 0) {
			b->failed = true;
			return;
		}
		check(k > 0 || done, "decoder made no progress");
		check((size_t)k <= n - pos, "decoder consumed too much");
		check(dl == 0 || (d >= p + pos && d + dl <= p + pos + (size_t)k),
		    "data outside what was consumed");
		check(c->tr_from == (size_t)-1 ||
		    (c->tr_from <= (size_t)k && (dl == 0 || d + dl <= p + pos + c->tr_from)),
		    "trailer section outside what was consumed, or over data");
		/* Splitting any slice never reads outside it. */
		if (c->tr_from != (size_t)-1)
			(void)hq_http1_trailers(p + pos + c->tr_from, (size_t)k - c->tr_from,
			    NULL, 0);
		for (size_t i = 0; i < dl; i++)
			b->sum = (b->sum ^ (unsigned char)d[i]) * 1099511628211ULL;
		b->outlen += dl;
		b->consumed += (size_t)k;
		pos += (size_t)k;
		b->done = done;
	}
}

static void
decode(const char *buf, size_t len, size_t cut, const struct hq_limits *lim,
    struct body *b)
{
	struct hq_chunked c;

	memset(b, 0, sizeof(*b));
	b->sum = 14695981039346656037ULL;
	hq_chunked_init(&c);
	feed(&c, buf, cut, lim, b);
	feed(&c, buf + cut, len - cut, lim, b);
}

/* Decodes whole and split; returns the bytes the body took (0 if unended). */
static size_t
chunked_body(const char *buf, size_t len, size_t cut, const struct hq_limits *lim)
{
	struct body a, b;

	decode(buf, len, len, lim, &a);
	decode(buf, len, cut > len ? len : cut, lim, &b);
	check(a.failed == b.failed && a.done == b.done, "split body: outcome");
	if (a.failed) {
		check(a.err == b.err, "split body: error");
		return 0;
	}
	check(a.consumed == b.consumed && a.outlen == b.outlen && a.sum == b.sum,
	    "split body: data");
	check(a.done || a.consumed == len, "unfinished body left bytes");
	return a.done ? a.consumed : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct hq_hdr hdrs[NHDR];
	const struct hq_limits *lim = size % 2 ? &small_limits : &default_limits;
	size_t off = 0, cut = size > 0 ? data[0] : 0;
	struct hq_head h;
	char *buf;

	/* A copy of exactly size bytes, so ASan sees any read past the end. */
	buf = malloc(size ? size : 1);
	memcpy(buf, data, size);
	for (int i = 0; i < MAX_HEADS && off < size; i++) {
		size_t len = size - off, n;
		int r = parse_both_ways(buf + off, len, cut, lim, &h, hdrs);

		if (r <= 0)
			break;
		check_head(buf + off, r, &h);
		off += (size_t)r;
		if (h.chunked) {
			if ((n = chunked_body(buf + off, size - off, cut, lim)) == 0)
				break;
			off += n;
		} else if (h.content_length > 0) {
			if ((uint64_t)h.content_length >= size - off)
				break;
			off += (size_t)h.content_length;
		}
	}
	free(buf);
	return 0;
}
