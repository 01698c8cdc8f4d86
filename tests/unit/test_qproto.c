/*
 * test_qproto.c -- the queue protocol's codec (src/lib/qproto.c): frames
 * built and parsed back, one row per frame type; malformed input, one row
 * per case, with the expected message; partial input at every length.
 */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "httpq-internal.h"
#include "check_main.h"

/* An attribute of a round-trip row: a string, a u32, a u64 or an i64. */
enum kind { S, U32, U64, I64, HDR };
struct attr {
	enum kind kind;
	uint16_t tag;
	const char *s;        /* S; HDR: "name" */
	const char *v;        /* HDR: value */
	uint64_t u;           /* U32, U64, I64 (as bits) */
};

static const struct rt {
	uint16_t type, flags;
	uint64_t id;
	const char *raw;      /* raw payload (BODY, RESPONSE_BODY) or NULL */
	struct attr a[8];
	size_t na;
} rts[] = {
	{ HQ_QP_HELLO, 0, 0, NULL, { { U32, HQ_QA_VERSION, NULL, NULL, 1 },
	  { S, HQ_QA_NAME, "libhttpq/0.2.0", NULL, 0 } }, 2 },
	{ HQ_QP_HELLO, 0, 0, NULL, { { U32, HQ_QA_VERSION, NULL, NULL, 1 },
	  { S, HQ_QA_NAME, "httpq/0.2.0", NULL, 0 },
	  { U32, HQ_QA_MAX_PAYLOAD, NULL, NULL, HQ_QP_MAX_PAYLOAD },
	  { U32, HQ_QA_BODY_WINDOW, NULL, NULL, HQ_QP_BODY_WINDOW },
	  { U32, HQ_QA_SEND_WINDOW, NULL, NULL, HQ_QP_SEND_WINDOW } }, 5 },
	{ HQ_QP_RESULT, 0, 7, NULL, { { U32, HQ_QA_STATUS, NULL, NULL, HQ_QS_ALREADY_EXISTS },
	  { S, HQ_QA_MESSAGE, "pid 1234 uid 1000 queue \"app\"", NULL, 0 } }, 2 },
	{ HQ_QP_CREATE_QUEUE, 0, 1, NULL, { { S, HQ_QA_QUEUE, "app", NULL, 0 },
	  { U32, HQ_QA_LENGTH, NULL, NULL, 65535 } }, 2 },
	{ HQ_QP_OPEN_QUEUE, 0, 2, NULL, { { S, HQ_QA_QUEUE, "app", NULL, 0 },
	  { U32, HQ_QA_ROLE, NULL, NULL, HQ_QP_ROLE_WORKER | HQ_QP_ROLE_CONTROLLER } }, 2 },
	{ HQ_QP_ADD_URL, 0, 3, NULL, { { S, HQ_QA_URL, "http://+:8080/app/", NULL, 0 } }, 1 },
	{ HQ_QP_REMOVE_URL, 0, UINT64_MAX, NULL,
	  { { S, HQ_QA_URL, "http://+:8080/app/", NULL, 0 } }, 1 },
	{ HQ_QP_RECEIVE, 0, 0, NULL, { { U32, HQ_QA_COUNT, NULL, NULL, 16 } }, 1 },
	{ HQ_QP_REQUEST, HQ_QF_HAS_BODY | HQ_QF_TLS, 0x0102030405060708ull, NULL,
	  { { S, HQ_QA_METHOD, "POST", NULL, 0 }, { S, HQ_QA_RAW_URL, "/a%20b?x", NULL, 0 },
	    { U32, HQ_QA_VERSION, NULL, NULL, 11 },
	    { HDR, HQ_QA_HEADER, "Host", "example.com", 0 },
	    { HDR, HQ_QA_HEADER, "X-Empty", "", 0 },
	    { U64, HQ_QA_CONNECTION_ID, NULL, NULL, 0xfedcba9876543210ull },
	    { I64, HQ_QA_CONTENT_LENGTH, NULL, NULL, (uint64_t)-1 },
	    { S, HQ_QA_REMOTE_ADDR, "[::1]:40000", NULL, 0 } }, 8 },
	{ HQ_QP_BODY, 0, 9, "hello", { { 0 } }, 0 },
	{ HQ_QP_BODY, HQ_QF_END, 9, "", { { 0 } }, 0 },
	{ HQ_QP_BODY_CREDIT, 0, 9, NULL, { { U32, HQ_QA_BYTES, NULL, NULL, 65536 } }, 1 },
	{ HQ_QP_TRAILERS, 0, 9, NULL, { { HDR, HQ_QA_HEADER, "Digest", "sha-256=x", 0 } }, 1 },
	{ HQ_QP_RESPONSE, HQ_QF_END | HQ_QF_DISCONNECT, 9, NULL,
	  { { U32, HQ_QA_STATUS, NULL, NULL, 404 }, { S, HQ_QA_REASON, "Not Found", NULL, 0 },
	    { HDR, HQ_QA_HEADER, "Content-Length", "0", 0 } }, 3 },
	{ HQ_QP_RESPONSE_BODY, HQ_QF_END, 9, "bye\0\xff", { { 0 } }, 0 },
	{ HQ_QP_RESPONSE_FILE, HQ_QF_END, 9, NULL, { { U64, HQ_QA_OFFSET, NULL, NULL, 0 },
	  { U64, HQ_QA_LENGTH64, NULL, NULL, 5000000000ull } }, 2 },
	{ HQ_QP_SEND_CREDIT, 0, 9, NULL, { { U32, HQ_QA_BYTES, NULL, NULL, 4096 } }, 1 },
	{ HQ_QP_CANCEL, 0, 9, NULL, { { 0 } }, 0 },
	{ HQ_QP_DISCONNECT, 0, 9, NULL, { { S, HQ_QA_REASON, "client closed", NULL, 0 } }, 1 },
	{ HQ_QP_SHUTDOWN, 0, 0, NULL, { { 0 } }, 0 },
	{ HQ_QP_ERROR, 0, 0, NULL, { { S, HQ_QA_MESSAGE, "frame type 77 unknown", NULL, 0 } },
	  1 },
};

static size_t
raw_len(const struct rt *r)
{
	/* RESPONSE_BODY's row holds a NUL and a 0xff: 5 bytes */
	return r->type == HQ_QP_RESPONSE_BODY ? 5 : strlen(r->raw);
}

static void
build(struct hq_qp_buf *b, const struct rt *r)
{
	hq_qp_begin(b, r->type, r->flags, r->id);
	if (r->raw != NULL)
		hq_qp_put_raw(b, r->raw, raw_len(r));
	for (size_t i = 0; i < r->na; i++) {
		const struct attr *a = &r->a[i];

		switch (a->kind) {
		case S: hq_qp_put_str(b, a->tag, a->s); break;
		case U32: hq_qp_put_u32(b, a->tag, (uint32_t)a->u); break;
		case U64: hq_qp_put_u64(b, a->tag, a->u); break;
		case I64: hq_qp_put_i64(b, a->tag, (int64_t)a->u); break;
		case HDR:
			hq_qp_put_header(b, a->s, strlen(a->s), a->v, strlen(a->v));
			break;
		}
	}
	ck_assert_int_eq(hq_qp_end(b), 0);
}

static void
check_frame(const struct hq_qp_frame *f, const struct rt *r)
{
	struct hq_qp_iter it;
	uint16_t tag;
	const unsigned char *v;
	uint32_t n, u32;
	uint64_t u64;
	int64_t i64;
	struct hq_str s, name, value;
	size_t i = 0;

	ck_assert_uint_eq(f->type, r->type);
	ck_assert_uint_eq(f->flags, r->flags);
	ck_assert(f->id == r->id);
	if (r->raw != NULL) {
		ck_assert_uint_eq(f->len, raw_len(r));
		ck_assert(memcmp(f->payload, r->raw, f->len) == 0);
		return;
	}
	hq_qp_iter_init(&it, f);
	while (hq_qp_next(&it, &tag, &v, &n) == 1) {
		const struct attr *a = &r->a[i++];

		ck_assert_uint_eq(tag, a->tag);
		switch (a->kind) {
		case S:
			ck_assert_int_eq(hq_qp_get_str(v, n, &s), 0);
			ck_assert_uint_eq(s.n, strlen(a->s));
			ck_assert(memcmp(s.p, a->s, s.n) == 0);
			break;
		case U32:
			ck_assert_int_eq(hq_qp_get_u32(v, n, &u32), 0);
			ck_assert_uint_eq(u32, a->u);
			break;
		case U64:
			ck_assert_int_eq(hq_qp_get_u64(v, n, &u64), 0);
			ck_assert(u64 == a->u);
			break;
		case I64:
			ck_assert_int_eq(hq_qp_get_i64(v, n, &i64), 0);
			ck_assert(i64 == (int64_t)a->u);
			break;
		case HDR:
			ck_assert_int_eq(hq_qp_split_header(v, n, &name, &value), 0);
			ck_assert_uint_eq(name.n, strlen(a->s));
			ck_assert(memcmp(name.p, a->s, name.n) == 0);
			ck_assert_uint_eq(value.n, strlen(a->v));
			ck_assert(memcmp(value.p, a->v, value.n) == 0);
			break;
		}
	}
	ck_assert_uint_eq(i, r->na);
}

/* Every row built, then parsed back; every row again, all in one buffer
 * (a batch, as many frames go in one write). */
START_TEST(roundtrip)
{
	const struct rt *r = &rts[_i];
	struct hq_qp_buf b = { 0 };
	struct hq_qp_frame f;
	char err[128] = "";
	ssize_t n;

	build(&b, r);
	n = hq_qp_parse(b.p, b.len, &f, err, sizeof err);
	ck_assert_msg(n == (ssize_t)b.len, "row %d: %zd of %zu: %s", _i, n, b.len, err);
	check_frame(&f, r);
	/* every shorter prefix needs more */
	for (size_t k = 0; k < b.len; k++)
		ck_assert_int_eq(hq_qp_parse(b.p, k, &f, err, sizeof err), 0);
	hq_qp_buf_free(&b);
}
END_TEST

START_TEST(batch)
{
	const size_t nrows = sizeof rts / sizeof rts[0];
	struct hq_qp_buf b = { 0 };
	struct hq_qp_frame f;
	char err[128];
	size_t off = 0, i = 0;
	ssize_t n;

	for (size_t k = 0; k < nrows; k++)
		build(&b, &rts[k]);
	while ((n = hq_qp_parse(b.p + off, b.len - off, &f, err, sizeof err)) > 0) {
		check_frame(&f, &rts[i++]);
		off += (size_t)n;
	}
	ck_assert_int_eq(n, 0);
	ck_assert_uint_eq(i, nrows);
	ck_assert_uint_eq(off, b.len);
	/* writes of 10 bytes, then of the rest of the first frame: the
	 * second frame comes first */
	n = hq_qp_parse(b.p, b.len, &f, err, sizeof err);
	hq_qp_buf_consume(&b, 10);
	hq_qp_buf_consume(&b, (size_t)n - 10);
	ck_assert_int_gt(hq_qp_parse(b.p, b.len, &f, err, sizeof err), 0);
	check_frame(&f, &rts[1]);
	hq_qp_buf_free(&b);
}
END_TEST

/* Malformed headers: 16 bytes as hex, and the message. */
static const struct bad {
	const char *hex;
	ssize_t rc;
	const char *err;
} bads[] = {
	{ "00000000 0000 0000 0000000000000000", -1, "frame type 0 unknown" },
	{ "00000000 004d 0000 0000000000000000", -1, "frame type 77 unknown" },
	{ "00000000 0014 0000 0000000000000000", -1, "frame type 20 unknown" },
	{ "00000000 ffff 0000 0000000000000000", -1, "frame type 65535 unknown" },
	{ "001e8480 0009 0000 0000000000000001", -1, "payload 2000000 bytes over 1048576" },
	{ "00100001 0009 0000 0000000000000001", -1, "payload 1048577 bytes over 1048576" },
	{ "ffffffff 0001 0000 0000000000000000", -1, "payload 4294967295 bytes over 1048576" },
	{ "00000000 0009 0004 0000000000000001", -1, "flags 0x4 not defined for BODY" },
	{ "00000000 0009 0002 0000000000000001", -1, "flags 0x2 not defined for BODY" },
	{ "00000000 0001 0001 0000000000000000", -1, "flags 0x1 not defined for HELLO" },
	{ "00000000 0008 8003 0000000000000001", -1, "flags 0x8000 not defined for REQUEST" },
	{ "00000000 000e 0004 0000000000000001", -1,
	  "flags 0x4 not defined for RESPONSE_FILE" },
	{ "00000000 0011 0001 0000000000000001", -1, "flags 0x1 not defined for DISCONNECT" },
	/* defined ones pass; a payload not yet there is 0 */
	{ "00000000 000c 0003 0000000000000001", 16, "" },
	{ "00100000 0009 0001 0000000000000001", 0, "" },
	{ "00000001 0010 0000 0000000000000001", 0, "" },
	/* the header is checked before the payload arrives */
	{ "00100000 0050 0000 0000000000000001", -1, "frame type 80 unknown" },
};

static size_t
unhex(const char *hex, unsigned char *out)
{
	size_t n = 0;

	for (const char *p = hex; *p != '\0';) {
		unsigned x;

		if (*p == ' ') {
			p++;
			continue;
		}
		ck_assert(sscanf(p, "%2x", &x) == 1);
		out[n++] = (unsigned char)x;
		p += 2;
	}
	return n;
}

START_TEST(malformed)
{
	const struct bad *r = &bads[_i];
	unsigned char buf[64];
	struct hq_qp_frame f;
	char err[128] = "";
	size_t n = unhex(r->hex, buf);

	ck_assert_uint_eq(n, HQ_QP_HEADER_LEN);
	ck_assert_int_eq(hq_qp_parse(buf, n, &f, err, sizeof err), r->rc);
	ck_assert_str_eq(err, r->err);
	/* fewer than 16 bytes: never an error, more is needed */
	for (size_t k = 0; k < n; k++)
		ck_assert_int_eq(hq_qp_parse(buf, k, &f, err, sizeof err), 0);
}
END_TEST

/* Attribute lists: payload as hex, the attributes hq_qp_next returns (1)
 * before its last answer (0 = clean end, -1 = truncated). */
static const struct attrs {
	const char *hex;
	int nattrs;
	int last;
} attrss[] = {
	{ "", 0, 0 },
	{ "0001 00000004 00000001", 1, 0 },
	{ "0001 00000004 00000001 0002 00000000", 2, 0 },
	{ "00", 0, -1 },                                     /* half a tag */
	{ "0001 000000", 0, -1 },                            /* length cut */
	{ "0001 00000004 000000", 0, -1 },                   /* value cut */
	{ "0001 00000004 00000001 0002 00000005 41", 1, -1 },
	{ "0001 ffffffff 00", 0, -1 },                       /* length past the end */
	{ "0001 00000004 00000001 0002", 1, -1 },
	{ "ffff 00000001 41", 1, 0 },                        /* unknown tag: the caller skips */
};

START_TEST(attributes)
{
	const struct attrs *r = &attrss[_i];
	unsigned char buf[64];
	struct hq_qp_frame f = { 0 };
	struct hq_qp_iter it;
	uint16_t tag;
	const unsigned char *v;
	uint32_t n;
	int rc, count = 0;

	f.payload = buf;
	f.len = (uint32_t)unhex(r->hex, buf);
	hq_qp_iter_init(&it, &f);
	while ((rc = hq_qp_next(&it, &tag, &v, &n)) == 1) {
		ck_assert(v + n <= buf + f.len);
		count++;
	}
	ck_assert_int_eq(rc, r->last);
	ck_assert_int_eq(count, r->nattrs);
	/* after the end or a truncation, the iterator stays at the end */
	ck_assert_int_eq(hq_qp_next(&it, &tag, &v, &n), 0);
}
END_TEST

START_TEST(values)
{
	static const unsigned char v[9] = { 0x80, 0, 0, 0, 0, 0, 0, 1, 2 };
	static const unsigned char m1[8] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	uint32_t u32 = 7;
	uint64_t u64 = 7;
	int64_t i64 = 7;
	struct hq_str s, name, value;
	char *d;

	/* integers are exactly 4 or 8 bytes */
	for (uint32_t n = 0; n <= 9; n++) {
		ck_assert_int_eq(hq_qp_get_u32(v, n, &u32), n == 4 ? 0 : -1);
		ck_assert_int_eq(hq_qp_get_u64(v, n, &u64), n == 8 ? 0 : -1);
		ck_assert_int_eq(hq_qp_get_i64(v, n, &i64), n == 8 ? 0 : -1);
	}
	ck_assert_uint_eq(u32, 0x80000000u);
	ck_assert(u64 == 0x8000000000000001ull);
	ck_assert(i64 == INT64_MIN + 1);
	ck_assert_int_eq(hq_qp_get_i64(m1, 8, &i64), 0);
	ck_assert(i64 == -1);

	/* strings: no NUL */
	ck_assert_int_eq(hq_qp_get_str((const unsigned char *)"ab", 2, &s), 0);
	ck_assert_uint_eq(s.n, 2);
	ck_assert_int_eq(hq_qp_get_str((const unsigned char *)"", 0, &s), 0);
	ck_assert_uint_eq(s.n, 0);
	ck_assert_int_eq(hq_qp_get_str((const unsigned char *)"a\0b", 3, &s), -1);
	ck_assert_int_eq(hq_qp_get_str((const unsigned char *)"\0", 1, &s), -1);
	d = hq_qp_strdup((const unsigned char *)"app!", 3);
	ck_assert_str_eq(d, "app");
	free(d);
	ck_assert_ptr_null(hq_qp_strdup((const unsigned char *)"a\0", 2));

	/* headers: token name, first ':' splits, blanks around the value go */
	ck_assert_int_eq(hq_qp_split_header((const unsigned char *)"Host: a:b \t", 11,
	    &name, &value), 0);
	ck_assert(name.n == 4 && memcmp(name.p, "Host", 4) == 0);
	ck_assert(value.n == 3 && memcmp(value.p, "a:b", 3) == 0);
	ck_assert_int_eq(hq_qp_split_header((const unsigned char *)"X:", 2, &name, &value), 0);
	ck_assert_uint_eq(value.n, 0);
	ck_assert_int_eq(hq_qp_split_header((const unsigned char *)"Host", 4, &name, &value),
	    -1);
	ck_assert_int_eq(hq_qp_split_header((const unsigned char *)":x", 2, &name, &value), -1);
	ck_assert_int_eq(hq_qp_split_header((const unsigned char *)"Ho st:x", 7, &name,
	    &value), -1);
	ck_assert_int_eq(hq_qp_split_header((const unsigned char *)"H\0:x", 4, &name, &value),
	    -1);
	ck_assert_int_eq(hq_qp_split_header((const unsigned char *)"H:x\0", 4, &name, &value),
	    -1);
	ck_assert_int_eq(hq_qp_split_header((const unsigned char *)"", 0, &name, &value), -1);
}
END_TEST

/* A frame over HQ_QP_MAX_PAYLOAD is dropped whole; the buffer keeps the
 * frames before it. */
START_TEST(builder_limits)
{
	struct hq_qp_buf b = { 0 };
	struct hq_qp_frame f;
	char err[128];
	char *big = xcalloc(1, HQ_QP_MAX_PAYLOAD + 1);
	size_t before;

	hq_qp_begin(&b, HQ_QP_CANCEL, 0, 5);
	ck_assert_int_eq(hq_qp_end(&b), 0);
	before = b.len;

	/* exactly the maximum: fine */
	hq_qp_begin(&b, HQ_QP_BODY, 0, 5);
	hq_qp_put_raw(&b, big, HQ_QP_MAX_PAYLOAD);
	ck_assert_int_eq(hq_qp_end(&b), 0);
	ck_assert_uint_eq(b.len, before + HQ_QP_HEADER_LEN + HQ_QP_MAX_PAYLOAD);
	ck_assert_int_eq(hq_qp_parse(b.p + before, b.len - before, &f, err, sizeof err),
	    (ssize_t)(HQ_QP_HEADER_LEN + HQ_QP_MAX_PAYLOAD));
	b.len = before;

	/* one byte over, raw, as an attribute, as a header, or summed up */
	hq_qp_begin(&b, HQ_QP_BODY, 0, 5);
	hq_qp_put_raw(&b, big, HQ_QP_MAX_PAYLOAD + 1);
	ck_assert_int_eq(hq_qp_end(&b), -1);
	ck_assert_uint_eq(b.len, before);
	hq_qp_begin(&b, HQ_QP_ERROR, 0, 0);
	hq_qp_put(&b, HQ_QA_MESSAGE, big, HQ_QP_MAX_PAYLOAD - 5);
	ck_assert_int_eq(hq_qp_end(&b), -1);
	ck_assert_uint_eq(b.len, before);
	hq_qp_begin(&b, HQ_QP_RESPONSE, 0, 5);
	hq_qp_put_header(&b, "X", 1, big, HQ_QP_MAX_PAYLOAD);
	ck_assert_int_eq(hq_qp_end(&b), -1);
	ck_assert_uint_eq(b.len, before);
	hq_qp_begin(&b, HQ_QP_RESPONSE, 0, 5);
	hq_qp_put(&b, HQ_QA_REASON, big, HQ_QP_MAX_PAYLOAD / 2);
	hq_qp_put(&b, HQ_QA_REASON, big, HQ_QP_MAX_PAYLOAD / 2);
	ck_assert_int_eq(hq_qp_end(&b), -1);
	ck_assert_uint_eq(b.len, before);

	/* the buffer still holds the CANCEL, and builds on */
	hq_qp_begin(&b, HQ_QP_RECEIVE, 0, 0);
	hq_qp_put_u32(&b, HQ_QA_COUNT, 1);
	ck_assert_int_eq(hq_qp_end(&b), 0);
	ck_assert_int_eq(hq_qp_parse(b.p, b.len, &f, err, sizeof err), HQ_QP_HEADER_LEN);
	ck_assert_uint_eq(f.type, HQ_QP_CANCEL);
	hq_qp_buf_consume(&b, HQ_QP_HEADER_LEN);
	ck_assert_int_eq(hq_qp_parse(b.p, b.len, &f, err, sizeof err), b.len);
	ck_assert_uint_eq(f.type, HQ_QP_RECEIVE);
	hq_qp_buf_consume(&b, b.len);
	ck_assert_uint_eq(b.len, 0);
	/* a NULL string is no attribute */
	hq_qp_begin(&b, HQ_QP_HELLO, 0, 0);
	hq_qp_put_str(&b, HQ_QA_NAME, NULL);
	ck_assert_int_eq(hq_qp_end(&b), 0);
	ck_assert_uint_eq(b.len, HQ_QP_HEADER_LEN);
	hq_qp_buf_free(&b);
	ck_assert_ptr_null(b.p);
	free(big);
}
END_TEST

/* The exact bytes of a HELLO, as httpq-protocol(7) shows them. */
START_TEST(wire_bytes)
{
	static const unsigned char want[] = {
		0, 0, 0, 10, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		0, 1, 0, 0, 0, 4, 0, 0, 0, 1,
	};
	struct hq_qp_buf b = { 0 };

	hq_qp_begin(&b, HQ_QP_HELLO, 0, 0);
	hq_qp_put_u32(&b, HQ_QA_VERSION, HQ_QP_VERSION);
	ck_assert_int_eq(hq_qp_end(&b), 0);
	ck_assert_uint_eq(b.len, sizeof want);
	ck_assert(memcmp(b.p, want, sizeof want) == 0);
	hq_qp_buf_free(&b);
}
END_TEST

START_TEST(names)
{
	ck_assert_str_eq(hq_qp_type_name(HQ_QP_BODY), "BODY");
	ck_assert_str_eq(hq_qp_type_name(HQ_QP_ERROR), "ERROR");
	ck_assert_ptr_null(hq_qp_type_name(0));
	ck_assert_ptr_null(hq_qp_type_name(HQ_QP__COUNT));
	ck_assert_str_eq(hq_qp_status_name(HQ_QS_ACCESS_DENIED), "ACCESS_DENIED");
	ck_assert_str_eq(hq_qp_status_name(HQ_QS_SHUTTING_DOWN), "SHUTTING_DOWN");
	ck_assert_ptr_null(hq_qp_status_name(8));
	ck_assert_str_eq(hq_qp_attr_name(HQ_QA_LENGTH64), "LENGTH64");
	ck_assert_str_eq(hq_qp_attr_name(HQ_QA_TLS_CLIENT_VERIFIED), "TLS_CLIENT_VERIFIED");
	ck_assert_ptr_null(hq_qp_attr_name(0));
	ck_assert_ptr_null(hq_qp_attr_name(36));
	/* every type and tag up to the last has a name (no gap in the tables) */
	for (uint16_t t = 1; t < HQ_QP__COUNT; t++)
		ck_assert_ptr_nonnull(hq_qp_type_name(t));
	for (uint16_t t = 1; t < HQ_QA__COUNT; t++)
		ck_assert_ptr_nonnull(hq_qp_attr_name(t));
	ck_assert_uint_eq(HQ_QA_LENGTH64, 35);
	ck_assert_uint_eq(HQ_QP_ERROR, 19);
	ck_assert_uint_eq(hq_qp_dir(HQ_QP_REQUEST), HQ_QP_DIR_D);
	ck_assert_uint_eq(hq_qp_dir(HQ_QP_RECEIVE), HQ_QP_DIR_C);
	ck_assert_uint_eq(hq_qp_dir(HQ_QP_TRAILERS), HQ_QP_DIR_C | HQ_QP_DIR_D);
	ck_assert_uint_eq(hq_qp_dir(99), 0);
	ck_assert_uint_eq(hq_qp_flags_defined(HQ_QP_RESPONSE_FILE),
	    HQ_QF_END | HQ_QF_DISCONNECT);
}
END_TEST

/* ---------------------------------------------------------------------
 * httpq-protocol(7) says what the codec does
 * ------------------------------------------------------------------- */

static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t len = 0;
	FILE *m;
	int c;

	ck_assert_msg(f != NULL, "cannot open %s", path);
	m = open_memstream(&buf, &len);
	while ((c = fgetc(f)) != EOF)
		fputc(c, m);
	fclose(m);
	fclose(f);
	return buf;
}

#define MAN TESTS_SRCDIR "/../man/httpq-protocol.7"

/* Every frame type and attribute tag, with its number, in the tables. */
START_TEST(man_tables)
{
	char *man = slurp(MAN), *want;

	for (uint16_t t = 1; t < HQ_QP__COUNT; t++) {
		want = xasprintf("\n%u|%s|", t, hq_qp_type_name(t));
		ck_assert_msg(strstr(man, want) != NULL, "no row %s", want + 1);
		free(want);
		want = xasprintf("\n.SS \"%s (%u)\"\n", hq_qp_type_name(t), t);
		ck_assert_msg(strstr(man, want) != NULL, "no section %s", want + 1);
		free(want);
	}
	for (uint16_t t = 1; t < HQ_QA__COUNT; t++) {
		want = xasprintf("\n%u|%s|", t, hq_qp_attr_name(t));
		ck_assert_msg(strstr(man, want) != NULL, "no row %s", want + 1);
		free(want);
	}
	for (uint32_t st = 0; st < HQ_QS__COUNT; st++) {
		want = xasprintf("\n%u|%s|", st, hq_qp_status_name(st));
		ck_assert_msg(strstr(man, want) != NULL, "no row %s", want + 1);
		free(want);
	}
	want = xasprintf("\nMAX_PAYLOAD|%u|", HQ_QP_MAX_PAYLOAD);
	ck_assert_msg(strstr(man, want) != NULL, "%s", want + 1);
	free(want);
	want = xasprintf("\nBODY_WINDOW|%u|", HQ_QP_BODY_WINDOW);
	ck_assert_msg(strstr(man, want) != NULL, "%s", want + 1);
	free(want);
	want = xasprintf("\nSEND_WINDOW|%u|", HQ_QP_SEND_WINDOW);
	ck_assert_msg(strstr(man, want) != NULL, "%s", want + 1);
	free(want);
	want = xasprintf("\nFILE_COST|%u|", HQ_QP_FILE_COST);
	ck_assert_msg(strstr(man, want) != NULL, "%s", want + 1);
	free(want);
	want = xasprintf("\nMAX_CREDIT|%u|", HQ_QP_MAX_CREDIT);
	ck_assert_msg(strstr(man, want) != NULL, "%s", want + 1);
	free(want);
	free(man);
}
END_TEST

static bool
all_hex(const char *w, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strchr("0123456789abcdef", w[i]))
			return false;
	return n > 0 && n % 2 == 0;
}

/* The bytes an EXAMPLES line shows: hex words, then a quoted string right
 * after an attribute's tag and length; the annotation ends it. */
static void
example_line(const char *line, struct hq_qp_buf *out)
{
	const char *p = line;
	size_t words = 0;

	for (;;) {
		size_t n;

		while (*p == ' ')
			p++;
		if (*p == '"' && words == 2) {
			const char *e = strchr(p + 1, '"');

			ck_assert_ptr_nonnull(e);
			hq_qp_put_raw(out, p + 1, (size_t)(e - p - 1));
			return;
		}
		n = strcspn(p, " ");
		if (!all_hex(p, n))
			return;
		for (size_t i = 0; i < n; i += 2) {
			unsigned x;
			unsigned char c;

			ck_assert(sscanf(p + i, "%2x", &x) == 1);
			c = (unsigned char)x;
			hq_qp_put_raw(out, &c, 1);
		}
		p += n;
		words++;
	}
}

/* The worked example of the man page is what the builder makes. */
START_TEST(man_example)
{
	char *man = slurp(MAN), *ex, *end, *line, *save = NULL;
	struct hq_qp_buf got = { 0 }, want = { 0 };
	bool in = false;
	struct hq_qp_buf *b = &want;

	ex = strstr(man, "\n.SH EXAMPLES\n");
	ck_assert_ptr_nonnull(ex);
	end = strstr(ex, "\n.SH FILES");
	ck_assert_ptr_nonnull(end);
	*end = '\0';
	/* roff escapes used there: \- and \e */
	for (char *r = ex, *w = ex; ; r++) {
		if (r[0] == '\\' && (r[1] == '-' || r[1] == 'e'))
			*w++ = r[1] == '-' ? '-' : '\\', r++;
		else
			*w++ = *r;
		if (*r == '\0')
			break;
	}
	for (line = strtok_r(ex, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (strcmp(line, ".nf") == 0)
			in = true;
		else if (strcmp(line, ".fi") == 0)
			in = false;
		else if (in)
			example_line(line, &got);
	}

	hq_qp_begin(b, HQ_QP_HELLO, 0, 0);
	hq_qp_put_u32(b, HQ_QA_VERSION, 1);
	hq_qp_put_str(b, HQ_QA_NAME, "demo");
	ck_assert_int_eq(hq_qp_end(b), 0);
	hq_qp_begin(b, HQ_QP_HELLO, 0, 0);
	hq_qp_put_u32(b, HQ_QA_VERSION, HQ_QP_VERSION);
	hq_qp_put_str(b, HQ_QA_NAME, "httpq/0.2.0");
	hq_qp_put_u32(b, HQ_QA_MAX_PAYLOAD, HQ_QP_MAX_PAYLOAD);
	hq_qp_put_u32(b, HQ_QA_BODY_WINDOW, HQ_QP_BODY_WINDOW);
	hq_qp_put_u32(b, HQ_QA_SEND_WINDOW, HQ_QP_SEND_WINDOW);
	ck_assert_int_eq(hq_qp_end(b), 0);
	hq_qp_begin(b, HQ_QP_OPEN_QUEUE, 0, 1);
	hq_qp_put_str(b, HQ_QA_QUEUE, "app");
	hq_qp_put_u32(b, HQ_QA_ROLE, HQ_QP_ROLE_WORKER);
	ck_assert_int_eq(hq_qp_end(b), 0);
	hq_qp_begin(b, HQ_QP_RECEIVE, 0, 0);
	hq_qp_put_u32(b, HQ_QA_COUNT, 8);
	ck_assert_int_eq(hq_qp_end(b), 0);
	hq_qp_begin(b, HQ_QP_RESULT, 0, 1);
	hq_qp_put_u32(b, HQ_QA_STATUS, HQ_QS_OK);
	ck_assert_int_eq(hq_qp_end(b), 0);
	hq_qp_begin(b, HQ_QP_REQUEST, 0, 42);
	hq_qp_put_str(b, HQ_QA_METHOD, "GET");
	hq_qp_put_str(b, HQ_QA_RAW_URL, "/app/hi");
	hq_qp_put_str(b, HQ_QA_COOKED_URL, "http://localhost:8080/app/hi");
	hq_qp_put_str(b, HQ_QA_PATH, "/app/hi");
	hq_qp_put_str(b, HQ_QA_HOST, "localhost:8080");
	hq_qp_put_u32(b, HQ_QA_VERSION, 11);
	hq_qp_put_header(b, "Host", 4, "localhost:8080", 14);
	hq_qp_put_str(b, HQ_QA_REMOTE_ADDR, "127.0.0.1:50000");
	hq_qp_put_str(b, HQ_QA_LOCAL_ADDR, "127.0.0.1:8080");
	hq_qp_put_str(b, HQ_QA_URL_PREFIX, "http://+:8080/app/");
	hq_qp_put_str(b, HQ_QA_URL_GROUP, "app");
	hq_qp_put_u64(b, HQ_QA_CONNECTION_ID, 7);
	hq_qp_put_i64(b, HQ_QA_CONTENT_LENGTH, 0);
	ck_assert_int_eq(hq_qp_end(b), 0);
	hq_qp_begin(b, HQ_QP_RESPONSE, 0, 42);
	hq_qp_put_u32(b, HQ_QA_STATUS, 200);
	hq_qp_put_header(b, "Content-Length", 14, "2", 1);
	ck_assert_int_eq(hq_qp_end(b), 0);
	hq_qp_begin(b, HQ_QP_RESPONSE_BODY, HQ_QF_END, 42);
	hq_qp_put_raw(b, "hi", 2);
	ck_assert_int_eq(hq_qp_end(b), 0);
	hq_qp_begin(b, HQ_QP_SEND_CREDIT, 0, 42);
	hq_qp_put_u32(b, HQ_QA_BYTES, 2);
	ck_assert_int_eq(hq_qp_end(b), 0);

	ck_assert_uint_eq(got.len, want.len);
	for (size_t i = 0; i < want.len; i++)
		ck_assert_msg(got.p[i] == want.p[i], "httpq-protocol(7) EXAMPLES: byte %zu "
		    "is %02x, the codec makes %02x", i, got.p[i], want.p[i]);
	hq_qp_buf_free(&got);
	hq_qp_buf_free(&want);
	free(man);
}
END_TEST

Suite *
unit_suite(void)
{
	Suite *s = suite_create("qproto");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, roundtrip, 0, (int)(sizeof rts / sizeof rts[0]));
	tcase_add_test(tc, batch);
	tcase_add_loop_test(tc, malformed, 0, (int)(sizeof bads / sizeof bads[0]));
	tcase_add_loop_test(tc, attributes, 0, (int)(sizeof attrss / sizeof attrss[0]));
	tcase_add_test(tc, values);
	tcase_add_test(tc, builder_limits);
	tcase_add_test(tc, wire_bytes);
	tcase_add_test(tc, names);
	tcase_add_test(tc, man_tables);
	tcase_add_test(tc, man_example);
	suite_add_tcase(s, tc);
	return s;
}
