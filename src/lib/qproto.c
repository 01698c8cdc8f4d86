/*
 * qproto.c -- the queue protocol's frames: the one codec of httpqd and
 * libhttpq (httpq-protocol(7) is its documentation).
 *
 * A frame is a 16-byte header (u32 payload length, u16 type, u16 flags,
 * u64 id; big-endian) and its payload: most often a list of attributes
 * (u16 tag, u32 length, value), raw bytes for BODY and RESPONSE_BODY.
 * Parsing checks what the frame layer can know on its own: the length
 * bound, the type and its flag bits.  It checks them from the header
 * alone, so that a peer announcing 4 GiB is refused before anything is
 * buffered.  What a frame means (its direction, its id, its attributes)
 * is for the caller, who knows the state of the conversation.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "httpq-internal.h"

static const struct {
	const char *name;
	uint16_t flags;     /* defined flag bits */
	unsigned dir;       /* HQ_QP_DIR_* */
} types[HQ_QP__COUNT] = {
	[HQ_QP_HELLO] = { "HELLO", 0, HQ_QP_DIR_C | HQ_QP_DIR_D },
	[HQ_QP_RESULT] = { "RESULT", 0, HQ_QP_DIR_D },
	[HQ_QP_CREATE_QUEUE] = { "CREATE_QUEUE", 0, HQ_QP_DIR_C },
	[HQ_QP_OPEN_QUEUE] = { "OPEN_QUEUE", 0, HQ_QP_DIR_C },
	[HQ_QP_ADD_URL] = { "ADD_URL", 0, HQ_QP_DIR_C },
	[HQ_QP_REMOVE_URL] = { "REMOVE_URL", 0, HQ_QP_DIR_C },
	[HQ_QP_RECEIVE] = { "RECEIVE", 0, HQ_QP_DIR_C },
	[HQ_QP_REQUEST] = { "REQUEST", HQ_QF_HAS_BODY | HQ_QF_TLS, HQ_QP_DIR_D },
	[HQ_QP_BODY] = { "BODY", HQ_QF_END, HQ_QP_DIR_D },
	[HQ_QP_BODY_CREDIT] = { "BODY_CREDIT", 0, HQ_QP_DIR_C },
	[HQ_QP_TRAILERS] = { "TRAILERS", 0, HQ_QP_DIR_C | HQ_QP_DIR_D },
	[HQ_QP_RESPONSE] = { "RESPONSE", HQ_QF_END | HQ_QF_DISCONNECT, HQ_QP_DIR_C },
	[HQ_QP_RESPONSE_BODY] = { "RESPONSE_BODY", HQ_QF_END | HQ_QF_DISCONNECT,
	    HQ_QP_DIR_C },
	[HQ_QP_RESPONSE_FILE] = { "RESPONSE_FILE", HQ_QF_END | HQ_QF_DISCONNECT,
	    HQ_QP_DIR_C },
	[HQ_QP_SEND_CREDIT] = { "SEND_CREDIT", 0, HQ_QP_DIR_D },
	[HQ_QP_CANCEL] = { "CANCEL", 0, HQ_QP_DIR_C },
	[HQ_QP_DISCONNECT] = { "DISCONNECT", 0, HQ_QP_DIR_D },
	[HQ_QP_SHUTDOWN] = { "SHUTDOWN", 0, HQ_QP_DIR_C | HQ_QP_DIR_D },
	[HQ_QP_ERROR] = { "ERROR", 0, HQ_QP_DIR_D },
};

static const char *const status_names[HQ_QS__COUNT] = {
	"OK", "PROTOCOL", "ACCESS_DENIED", "ALREADY_EXISTS", "NOT_FOUND", "INVALID",
	"LIMIT", "SHUTTING_DOWN",
};

static const char *const attr_names[HQ_QA__COUNT] = {
	[HQ_QA_VERSION] = "VERSION", [HQ_QA_NAME] = "NAME",
	[HQ_QA_MAX_PAYLOAD] = "MAX_PAYLOAD", [HQ_QA_BODY_WINDOW] = "BODY_WINDOW",
	[HQ_QA_SEND_WINDOW] = "SEND_WINDOW", [HQ_QA_STATUS] = "STATUS",
	[HQ_QA_MESSAGE] = "MESSAGE", [HQ_QA_QUEUE] = "QUEUE", [HQ_QA_LENGTH] = "LENGTH",
	[HQ_QA_ROLE] = "ROLE", [HQ_QA_URL] = "URL", [HQ_QA_COUNT] = "COUNT",
	[HQ_QA_METHOD] = "METHOD", [HQ_QA_RAW_URL] = "RAW_URL",
	[HQ_QA_COOKED_URL] = "COOKED_URL", [HQ_QA_PATH] = "PATH", [HQ_QA_QUERY] = "QUERY",
	[HQ_QA_HOST] = "HOST", [HQ_QA_HEADER] = "HEADER",
	[HQ_QA_REMOTE_ADDR] = "REMOTE_ADDR", [HQ_QA_LOCAL_ADDR] = "LOCAL_ADDR",
	[HQ_QA_URL_PREFIX] = "URL_PREFIX", [HQ_QA_URL_GROUP] = "URL_GROUP",
	[HQ_QA_CONNECTION_ID] = "CONNECTION_ID", [HQ_QA_CONTENT_LENGTH] = "CONTENT_LENGTH",
	[HQ_QA_TLS_PROTOCOL] = "TLS_PROTOCOL", [HQ_QA_TLS_CIPHER] = "TLS_CIPHER",
	[HQ_QA_TLS_SNI] = "TLS_SNI", [HQ_QA_TLS_CLIENT_SUBJECT] = "TLS_CLIENT_SUBJECT",
	[HQ_QA_TLS_CLIENT_FINGERPRINT] = "TLS_CLIENT_FINGERPRINT",
	[HQ_QA_TLS_CLIENT_VERIFIED] = "TLS_CLIENT_VERIFIED", [HQ_QA_BYTES] = "BYTES",
	[HQ_QA_REASON] = "REASON", [HQ_QA_OFFSET] = "OFFSET", [HQ_QA_LENGTH64] = "LENGTH64",
};

static uint16_t
rd16(const unsigned char *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t
rd32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t
rd64(const unsigned char *p)
{
	return (uint64_t)rd32(p) << 32 | rd32(p + 4);
}

static void
wr16(unsigned char *p, uint16_t v)
{
	p[0] = (unsigned char)(v >> 8);
	p[1] = (unsigned char)v;
}

static void
wr32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static void
wr64(unsigned char *p, uint64_t v)
{
	wr32(p, (uint32_t)(v >> 32));
	wr32(p + 4, (uint32_t)v);
}

const char *
hq_qp_type_name(uint16_t type)
{
	return type < HQ_QP__COUNT ? types[type].name : NULL;
}

const char *
hq_qp_status_name(uint32_t status)
{
	return status < HQ_QS__COUNT ? status_names[status] : NULL;
}

const char *
hq_qp_attr_name(uint16_t tag)
{
	return tag < HQ_QA__COUNT ? attr_names[tag] : NULL;
}

uint16_t
hq_qp_flags_defined(uint16_t type)
{
	return type < HQ_QP__COUNT ? types[type].flags : 0;
}

unsigned
hq_qp_dir(uint16_t type)
{
	return type < HQ_QP__COUNT ? types[type].dir : 0;
}

ssize_t
hq_qp_parse(const void *buf, size_t len, struct hq_qp_frame *f, char *err, size_t errlen)
{
	const unsigned char *p = buf;
	uint32_t plen;
	uint16_t type, flags;

	if (len < HQ_QP_HEADER_LEN)
		return 0;
	plen = rd32(p);
	type = rd16(p + 4);
	flags = rd16(p + 6);
	if (plen > HQ_QP_MAX_PAYLOAD) {
		snprintf(err, errlen, "payload %" PRIu32 " bytes over %u", plen,
		    HQ_QP_MAX_PAYLOAD);
		return -1;
	}
	if (hq_qp_type_name(type) == NULL) {
		snprintf(err, errlen, "frame type %u unknown", type);
		return -1;
	}
	if (flags & ~types[type].flags) {
		snprintf(err, errlen, "flags 0x%x not defined for %s",
		    flags & ~types[type].flags, types[type].name);
		return -1;
	}
	if (len - HQ_QP_HEADER_LEN < plen)
		return 0;
	f->type = type;
	f->flags = flags;
	f->id = rd64(p + 8);
	f->payload = p + HQ_QP_HEADER_LEN;
	f->len = plen;
	return (ssize_t)(HQ_QP_HEADER_LEN + plen);
}

void
hq_qp_iter_init(struct hq_qp_iter *it, const struct hq_qp_frame *f)
{
	it->p = f->payload;
	it->end = f->payload + f->len;
}

int
hq_qp_next(struct hq_qp_iter *it, uint16_t *tag, const unsigned char **val, uint32_t *vlen)
{
	size_t left = (size_t)(it->end - it->p);
	uint32_t n;

	if (left == 0)
		return 0;
	if (left < HQ_QP_ATTR_HEADER_LEN)
		goto truncated;
	n = rd32(it->p + 2);
	if (n > left - HQ_QP_ATTR_HEADER_LEN)
		goto truncated;
	*tag = rd16(it->p);
	*val = it->p + HQ_QP_ATTR_HEADER_LEN;
	*vlen = n;
	it->p += HQ_QP_ATTR_HEADER_LEN + n;
	return 1;
truncated:
	it->p = it->end;
	return -1;
}

int
hq_qp_get_u32(const unsigned char *v, uint32_t n, uint32_t *out)
{
	if (n != 4)
		return -1;
	*out = rd32(v);
	return 0;
}

int
hq_qp_get_u64(const unsigned char *v, uint32_t n, uint64_t *out)
{
	if (n != 8)
		return -1;
	*out = rd64(v);
	return 0;
}

int
hq_qp_get_i64(const unsigned char *v, uint32_t n, int64_t *out)
{
	uint64_t u;

	if (hq_qp_get_u64(v, n, &u) < 0)
		return -1;
	/* two's complement, without the implementation-defined conversion */
	*out = u <= INT64_MAX ? (int64_t)u : -(int64_t)(~u) - 1;
	return 0;
}

int
hq_qp_get_str(const unsigned char *v, uint32_t n, struct hq_str *out)
{
	if (n > 0 && memchr(v, 0, n) != NULL)
		return -1;
	out->p = (const char *)v;
	out->n = n;
	return 0;
}

char *
hq_qp_strdup(const unsigned char *v, uint32_t n)
{
	struct hq_str s;

	if (hq_qp_get_str(v, n, &s) < 0)
		return NULL;
	return xstrndup(s.p, s.n);
}

static bool
is_tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	    (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

int
hq_qp_split_header(const unsigned char *v, uint32_t n, struct hq_str *name,
    struct hq_str *value)
{
	const unsigned char *colon, *b, *e;

	if (n > 0 && memchr(v, 0, n) != NULL)
		return -1;
	colon = n > 0 ? memchr(v, ':', n) : NULL;
	if (colon == NULL || colon == v)
		return -1;
	for (const unsigned char *q = v; q < colon; q++)
		if (!is_tchar(*q))
			return -1;
	b = colon + 1;
	e = v + n;
	while (b < e && (*b == ' ' || *b == '\t'))
		b++;
	while (e > b && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	name->p = (const char *)v;
	name->n = (size_t)(colon - v);
	value->p = (const char *)b;
	value->n = (size_t)(e - b);
	return 0;
}

static unsigned char *
grow(struct hq_qp_buf *b, size_t n)
{
	unsigned char *at;

	if (b->cap - b->len < n) {
		size_t cap = b->cap ? b->cap : 256;

		while (cap - b->len < n)
			cap *= 2;
		b->p = xrealloc(b->p, cap);
		b->cap = cap;
	}
	at = b->p + b->len;
	b->len += n;
	return at;
}

void
hq_qp_begin(struct hq_qp_buf *b, uint16_t type, uint16_t flags, uint64_t id)
{
	unsigned char *h;

	b->start = b->len;
	h = grow(b, HQ_QP_HEADER_LEN);
	wr32(h, 0);
	wr16(h + 4, type);
	wr16(h + 6, flags);
	wr64(h + 8, id);
}

void
hq_qp_put(struct hq_qp_buf *b, uint16_t tag, const void *v, size_t n)
{
	unsigned char *a;

	/* over the bound: hq_qp_end drops the frame; the u32 cannot wrap then */
	if (n > HQ_QP_MAX_PAYLOAD)
		n = HQ_QP_MAX_PAYLOAD + 1;
	a = grow(b, HQ_QP_ATTR_HEADER_LEN + n);
	wr16(a, tag);
	wr32(a + 2, (uint32_t)n);
	if (n > 0 && n <= HQ_QP_MAX_PAYLOAD)
		memcpy(a + HQ_QP_ATTR_HEADER_LEN, v, n);
}

void
hq_qp_put_str(struct hq_qp_buf *b, uint16_t tag, const char *s)
{
	if (s != NULL)
		hq_qp_put(b, tag, s, strlen(s));
}

void
hq_qp_put_u32(struct hq_qp_buf *b, uint16_t tag, uint32_t v)
{
	unsigned char x[4];

	wr32(x, v);
	hq_qp_put(b, tag, x, sizeof x);
}

void
hq_qp_put_u64(struct hq_qp_buf *b, uint16_t tag, uint64_t v)
{
	unsigned char x[8];

	wr64(x, v);
	hq_qp_put(b, tag, x, sizeof x);
}

void
hq_qp_put_i64(struct hq_qp_buf *b, uint16_t tag, int64_t v)
{
	hq_qp_put_u64(b, tag, (uint64_t)v);
}

void
hq_qp_put_header(struct hq_qp_buf *b, const char *name, size_t nlen, const char *val,
    size_t vlen)
{
	unsigned char *a;
	size_t n = nlen + 1 + vlen;

	if (n > HQ_QP_MAX_PAYLOAD) {
		hq_qp_put(b, HQ_QA_HEADER, NULL, n); /* dropped by hq_qp_end */
		return;
	}
	a = grow(b, HQ_QP_ATTR_HEADER_LEN + n);
	wr16(a, HQ_QA_HEADER);
	wr32(a + 2, (uint32_t)n);
	a += HQ_QP_ATTR_HEADER_LEN;
	memcpy(a, name, nlen);
	a[nlen] = ':';
	if (vlen > 0)
		memcpy(a + nlen + 1, val, vlen);
}

void
hq_qp_put_raw(struct hq_qp_buf *b, const void *v, size_t n)
{
	if (n > HQ_QP_MAX_PAYLOAD)
		grow(b, HQ_QP_MAX_PAYLOAD + 1);  /* dropped by hq_qp_end */
	else if (n > 0)
		memcpy(grow(b, n), v, n);
}

int
hq_qp_end(struct hq_qp_buf *b)
{
	size_t plen = b->len - b->start - HQ_QP_HEADER_LEN;

	if (plen > HQ_QP_MAX_PAYLOAD) {
		b->len = b->start;
		return -1;
	}
	wr32(b->p + b->start, (uint32_t)plen);
	b->start = b->len;
	return 0;
}

void
hq_qp_buf_consume(struct hq_qp_buf *b, size_t n)
{
	if (n >= b->len) {
		b->len = 0;
		b->start = 0;
		return;
	}
	memmove(b->p, b->p + n, b->len - n);
	b->len -= n;
	b->start = b->start > n ? b->start - n : 0;
}

void
hq_qp_buf_free(struct hq_qp_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof *b);
}
