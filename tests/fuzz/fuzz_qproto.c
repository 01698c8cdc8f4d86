// fuzz-sources: src/lib/qproto.c
/*
 * fuzz_qproto.c -- libFuzzer harness for the queue protocol's frames:
 * what httpqd reads from an attached process and libhttpq from httpqd.
 *
 * The input is a stream of frames, parsed as a reader does: frame after
 * frame until one is malformed or incomplete.  For each frame:
 *   - every attribute is walked and decoded as each kind of value (u32,
 *     u64, i64, string, header), and a value never reaches past the frame;
 *   - the frame is built again with the builder, from its header and its
 *     attributes (or raw bytes), and must come out byte for byte the same
 *     (when its attribute list is whole);
 *   - every prefix of the frame parses as "need more" (0), at one cut
 *     chosen by the input, so a reader never takes a frame early.
 * The stream is also parsed again with the input cut where its first byte
 * says: the frames before the cut must be the same ones.  A difference
 * aborts.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "httpq-internal.h"

#define MAX_FRAMES 4096

static void
check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_qproto: %s\n", what);
		abort();
	}
}

static bool
is_raw(uint16_t type)
{
	return type == HQ_QP_BODY || type == HQ_QP_RESPONSE_BODY;
}

static void
walk(const struct hq_qp_frame *f, const unsigned char *frame, size_t flen)
{
	struct hq_qp_iter it;
	struct hq_qp_buf b = { 0 };
	uint16_t tag;
	const unsigned char *v;
	uint32_t n, u32;
	uint64_t u64;
	int64_t i64;
	struct hq_str s, name, value;
	int rc;
	bool whole = true;

	check(f->payload == frame + HQ_QP_HEADER_LEN, "payload not after the header");
	check(f->len == flen - HQ_QP_HEADER_LEN, "length");
	check(hq_qp_type_name(f->type) != NULL, "unknown type parsed");
	check((f->flags & ~hq_qp_flags_defined(f->type)) == 0, "undefined flag parsed");
	check(hq_qp_dir(f->type) != 0, "no direction");

	hq_qp_begin(&b, f->type, f->flags, f->id);
	if (is_raw(f->type))
		hq_qp_put_raw(&b, f->payload, f->len);
	hq_qp_iter_init(&it, f);
	while ((rc = hq_qp_next(&it, &tag, &v, &n)) == 1) {
		check(v >= f->payload && v + n <= f->payload + f->len, "value out of the frame");
		if (hq_qp_get_u32(v, n, &u32) == 0)
			check(n == 4, "u32 not 4 bytes");
		if (hq_qp_get_u64(v, n, &u64) == 0 && hq_qp_get_i64(v, n, &i64) == 0)
			check(n == 8 && (uint64_t)i64 == u64, "i64 is not u64's bits");
		if (hq_qp_get_str(v, n, &s) == 0) {
			char *d = hq_qp_strdup(v, n);

			check(d != NULL && strlen(d) == n && memcmp(d, v, n) == 0, "strdup");
			free(d);
		} else {
			check(memchr(v, 0, n) != NULL, "string refused without a NUL");
			check(hq_qp_strdup(v, n) == NULL, "strdup took a NUL");
		}
		if (hq_qp_split_header(v, n, &name, &value) == 0) {
			check(name.n > 0 && name.p == (const char *)v && name.p[name.n] == ':',
			    "header name");
			check(value.p >= (const char *)v + name.n + 1 &&
			    value.p + value.n <= (const char *)v + n, "header value");
			check(memchr(v, 0, n) == NULL, "header with a NUL");
		}
		(void)hq_qp_attr_name(tag);
		if (!is_raw(f->type))
			hq_qp_put(&b, tag, v, n);
	}
	if (rc < 0) {
		whole = false;
		check(hq_qp_next(&it, &tag, &v, &n) == 0, "iterator not at the end");
	}
	check(hq_qp_end(&b) == 0, "rebuilt frame over the limit");
	if (whole || is_raw(f->type))
		check(b.len == flen && memcmp(b.p, frame, flen) == 0, "rebuilt frame differs");
	hq_qp_buf_free(&b);
}

/* Parses data[0..size) as a stream; the end offset of each frame in ends. */
static size_t
stream(const uint8_t *data, size_t size, size_t *ends, ssize_t *last, bool deep)
{
	size_t off = 0, nf = 0;
	struct hq_qp_frame f;
	char err[128] = "";
	ssize_t n = 0;

	while (nf < MAX_FRAMES &&
	    (n = hq_qp_parse(data + off, size - off, &f, err, sizeof err)) > 0) {
		check((size_t)n >= HQ_QP_HEADER_LEN && (size_t)n <= size - off, "frame size");
		if (deep) {
			size_t cut = HQ_QP_HEADER_LEN + (size_t)data[0] % (size_t)n;

			walk(&f, data + off, (size_t)n);
			if (cut < (size_t)n) {
				struct hq_qp_frame g;

				check(hq_qp_parse(data + off, cut, &g, err, sizeof err) == 0,
				    "prefix of a frame taken");
			}
		}
		off += (size_t)n;
		ends[nf++] = off;
	}
	*last = nf < MAX_FRAMES ? n : 1;
	if (*last < 0)
		check(err[0] != '\0', "error without a message");
	return nf;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static size_t ends[MAX_FRAMES], ends2[MAX_FRAMES];
	ssize_t last, last2;
	size_t nf, nf2, cut;

	if (size == 0)
		return 0;
	nf = stream(data, size, ends, &last, true);
	/* the same stream, arriving cut short */
	cut = size > 1 ? (size_t)data[size - 1] * 257 % size : 0;
	nf2 = stream(data, cut, ends2, &last2, false);
	check(nf2 <= nf, "more frames from less input");
	for (size_t i = 0; i < nf2; i++)
		check(ends2[i] == ends[i], "frames differ when cut");
	if (nf2 < nf)
		check(last2 == 0 && ends[nf2] > cut, "cut stream not waiting for more");
	return 0;
}
