/*
 * http1.c -- zero-copy HTTP/1.1 request head parser and chunked decoder.
 *
 * Strict as http.sys is (RFC 9112): one SP between the parts of the request
 * line, no whitespace before a field's colon, no obs-fold, no bare CR, no NUL,
 * one Host, unambiguous framing.  Bare LF line endings are accepted.  Each
 * choice is a row of httpq-http(7), whose ids (P-...) name the tests.
 *
 * The head parser works in two steps.  It first looks for the empty line that
 * ends the head, resuming where the previous call stopped (*scanned), so a
 * head that dribbles in costs O(n) in all; only a complete head is parsed.
 * The result is therefore a function of the bytes alone, not of how they were
 * split: limits are checked on fixed windows of the input, and when the head
 * does not fit in max_request_bytes the error is chosen from that window only.
 * Syntax errors are found once the head is complete (or over the limit).
 * Where several things are wrong, the first offending byte in order decides.
 */
#include "config.h"

#include <limits.h>
#include <string.h>

#include "httpq-internal.h"

/* Empty lines tolerated before the request line (RFC 9112 2.2). */
#define LEADING_EMPTY_MAX   4
/* Request line bytes beyond max_url_length allowed for method, two SP and
 * version: a longer unterminated line is answered 414 without waiting for
 * max_request_bytes. */
#define REQLINE_SLACK       64
#define CONTENT_LENGTH_MAX  ((int64_t)1 << 62)
/* Chunk size line, extensions included, terminator excluded. */
#define CHUNK_LINE_MAX      1024

/* Character classes: one table lookup per byte on the hot path. */
#define C_TCHAR  0x01 /* token (RFC 9110 5.6.2) */
#define C_TARGET 0x02 /* request-target byte: 0x21-0x7E, obs-text */
#define C_VALUE  0x04 /* field-content byte: VCHAR, obs-text, SP, HTAB */
#define C_REG    0x08 /* reg-name: unreserved, sub-delims, '%' */
#define C_HEX    0x10

#define TUVR (C_TCHAR | C_TARGET | C_VALUE | C_REG)
#define TUV  (C_TCHAR | C_TARGET | C_VALUE)
#define UVR  (C_TARGET | C_VALUE | C_REG)
#define UV   (C_TARGET | C_VALUE)

static const unsigned char cls[256] = {
	['\t'] = C_VALUE, [' '] = C_VALUE,
	['!'] = TUVR, ['"'] = UV, ['#'] = TUV, ['$'] = TUVR, ['%'] = TUVR,
	['&'] = TUVR, ['\''] = TUVR, ['('] = UVR, [')'] = UVR, ['*'] = TUVR,
	['+'] = TUVR, [','] = UVR, ['-'] = TUVR, ['.'] = TUVR, ['/'] = UV,
	['0' ... '9'] = TUVR | C_HEX,
	[':'] = UV, [';'] = UVR, ['<'] = UV, ['='] = UVR, ['>'] = UV,
	['?'] = UV, ['@'] = UV,
	['A' ... 'F'] = TUVR | C_HEX, ['G' ... 'Z'] = TUVR,
	['['] = UV, ['\\'] = UV, [']'] = UV, ['^'] = TUV, ['_'] = TUVR,
	['`'] = TUV,
	['a' ... 'f'] = TUVR | C_HEX, ['g' ... 'z'] = TUVR,
	['{'] = UV, ['|'] = TUV, ['}'] = UV, ['~'] = TUVR,
	[0x80 ... 0xff] = UV,
};

static inline bool
is(unsigned char c, unsigned char mask)
{
	return (cls[c] & mask) != 0;
}

static inline bool
is_ows(char c)
{
	return c == ' ' || c == '\t';
}

static inline bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* An offending byte that is a NUL or a CR is reported as such. */
static inline enum hq_error
byte_error(char c, enum hq_error e)
{
	return (c == '\r' || c == '\0') ? HQ_ERR_BAD_CRLF : e;
}

static const char slash[] = "/";

/* ---------------------------------------------------------------------
 * Host and absolute-form authority.
 * ------------------------------------------------------------------- */

/* [IPv6 or IPv4-suffixed literal]; *pp is at '[' and moves past ']'. */
static bool
ip_literal(const char **pp, const char *e)
{
	const char *s = *pp + 1, *q = s;

	while (q < e && (is(*q, C_HEX) || *q == ':' || *q == '.'))
		q++;
	if (q == e || *q != ']' || memchr(s, ':', q - s) == NULL)
		return false;
	*pp = q + 1;
	return true;
}

/* reg-name or IPv4 with valid percent-encodings; non-empty. */
static bool
reg_name(const char **pp, const char *e)
{
	const char *s = *pp, *q = s;

	while (q < e && is(*q, C_REG)) {
		if (*q == '%') {
			if (e - q < 3 || !is(q[1], C_HEX) || !is(q[2], C_HEX))
				return false;
			q += 3;
		} else
			q++;
	}
	*pp = q;
	return q > s;
}

/* Empty, or host [":" port] with at most 5 port digits. */
static bool
valid_authority(struct hq_str a)
{
	const char *q = a.p, *e = a.p + a.n;

	if (a.n == 0)
		return true;
	if (!(*q == '[' ? ip_literal(&q, e) : reg_name(&q, e)))
		return false;
	if (q == e)
		return true;
	if (*q++ != ':' || e - q > 5)
		return false;
	for (; q < e; q++)
		if (!is_digit(*q))
			return false;
	return true;
}

/* ---------------------------------------------------------------------
 * Request line.
 * ------------------------------------------------------------------- */

static size_t
scheme_len(struct hq_str t)
{
	if (t.n >= 7 && hq_mem_eq_nocase(t.p, "http://", 7))
		return 7;
	if (t.n >= 8 && hq_mem_eq_nocase(t.p, "https://", 8))
		return 8;
	return 0;
}

/*
 * absolute-form: host is the authority, path the rest.  A query directly
 * after the authority ("http://h?q") cannot be kept: path must be one view
 * and "/?q" is not in the buffer, so path is "/" and the query is only in
 * h->target.
 */
static enum hq_error
absolute_form(struct hq_head *h, size_t skip)
{
	const char *a = h->target.p + skip, *e = h->target.p + h->target.n;
	const char *q = a;

	while (q < e && *q != '/' && *q != '?')
		q++;
	h->host = (struct hq_str){ a, (size_t)(q - a) };
	if (h->host.n == 0 || !valid_authority(h->host))
		return HQ_ERR_BAD_HOST;
	h->absolute_form = true;
	if (q < e && *q == '/')
		h->path = (struct hq_str){ q, (size_t)(e - q) };
	else
		h->path = (struct hq_str){ slash, 1 };
	return HQ_OK;
}

static enum hq_error
target_form(struct hq_head *h)
{
	struct hq_str t = h->target;
	size_t skip;

	/* An origin server opens no tunnel: CONNECT is refused in any form,
	 * before the client can start sending tunnel bytes (P-METHOD-4). */
	if (h->method.n == 7 && memcmp(h->method.p, "CONNECT", 7) == 0)
		return HQ_ERR_BAD_URL;
	if (t.p[0] == '/') {
		h->path = t;
		return HQ_OK;
	}
	if (t.n == 1 && t.p[0] == '*') {
		/* Methods are case-sensitive. */
		if (h->method.n != 7 || memcmp(h->method.p, "OPTIONS", 7) != 0)
			return HQ_ERR_BAD_URL;
		h->asterisk_form = true;
		h->path = t;
		return HQ_OK;
	}
	if ((skip = scheme_len(t)) == 0)
		return HQ_ERR_BAD_URL; /* authority-form and anything else */
	return absolute_form(h, skip);
}

/* "HTTP/1.1" or "HTTP/1.0"; other HTTP/d.d is 505, anything else 400. */
static enum hq_error
version(const char *p, size_t n, int *v)
{
	if (n == 8 && memcmp(p, "HTTP/", 5) == 0 && is_digit(p[5]) &&
	    p[6] == '.' && is_digit(p[7])) {
		if (p[5] != '1' || (p[7] != '0' && p[7] != '1'))
			return HQ_ERR_VERSION;
		*v = p[7] == '1' ? 11 : 10;
		return HQ_OK;
	}
	for (size_t i = 0; i < n; i++)
		if (p[i] == '\r' || p[i] == '\0')
			return HQ_ERR_BAD_CRLF;
	return HQ_ERR_BAD_REQUEST;
}

/* method SP request-target SP HTTP-version, one SP each. */
static enum hq_error
request_line(struct hq_str l, const struct hq_limits *lim, struct hq_head *h)
{
	const char *p = l.p, *e = l.p + l.n, *q = p;
	enum hq_error err;
	bool lower = false;

	for (; q < e && is(*q, C_TCHAR); q++)
		if (*q >= 'a' && *q <= 'z')
			lower = true;
	if (q == e)
		return HQ_ERR_BAD_REQUEST; /* a lone word: missing parts */
	if (*q != ' ' || q == p)
		return byte_error(*q, HQ_ERR_BAD_VERB);
	/* Methods are case-sensitive and every registered one is upper
	 * case: "get" is refused, as http.sys refuses it (P-METHOD-2). */
	if (lower)
		return HQ_ERR_BAD_VERB;
	h->method = (struct hq_str){ p, (size_t)(q - p) };
	p = ++q;
	while (q < e && is(*q, C_TARGET))
		q++;
	if (q < e && *q != ' ')
		return byte_error(*q, HQ_ERR_BAD_URL);
	if (q == p || q == e)
		return HQ_ERR_BAD_REQUEST; /* empty target or no version */
	h->target = (struct hq_str){ p, (size_t)(q - p) };
	if (h->target.n > lim->max_url_length)
		return HQ_ERR_URL_TOO_LONG;
	q++;
	if ((err = version(q, (size_t)(e - q), &h->version)) != HQ_OK)
		return err;
	return target_form(h);
}

/* ---------------------------------------------------------------------
 * Header fields.
 * ------------------------------------------------------------------- */

/* What the fields said, combined once they are all read. */
struct fields {
	unsigned nhost;
	bool bad_host;
	bool bad_expect;
	bool te;
	bool close;
	bool keep_alive;
	struct hq_str host;
};

/* name ":" OWS value OWS; the value is returned without the OWS. */
static enum hq_error
field_line(struct hq_str l, const struct hq_limits *lim, struct hq_hdr *f)
{
	const char *p = l.p, *e = l.p + l.n, *q = p, *v;

	if (l.n > lim->max_field_length)
		return HQ_ERR_FIELD_TOO_LONG;
	if (is_ows(*p))
		return HQ_ERR_OBS_FOLD;
	while (q < e && is(*q, C_TCHAR))
		q++;
	if (q == e)
		return HQ_ERR_BAD_HEADER; /* no colon */
	if (*q != ':')
		return byte_error(*q, HQ_ERR_BAD_HEADER);
	if (q == p)
		return HQ_ERR_BAD_HEADER; /* no name */
	f->name = (struct hq_str){ p, (size_t)(q - p) };
	for (q++; q < e && is_ows(*q); q++)
		;
	for (v = q; q < e && is(*q, C_VALUE); q++)
		;
	if (q < e)
		return byte_error(*q, HQ_ERR_BAD_HEADER);
	while (q > v && is_ows(q[-1]))
		q--;
	f->value = (struct hq_str){ v, (size_t)(q - v) };
	return HQ_OK;
}

/*
 * Fields a module sends (RFC 9110 5.1, 5.5): the name is a token, the value
 * holds no control character but HTAB.  The same table as for requests, so
 * that the daemon never sends what it would refuse to receive.
 */
bool
hq_http1_field_name_ok(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!is((unsigned char)p[i], C_TCHAR))
			return false;
	return n > 0;
}

bool
hq_http1_field_value_ok(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!is((unsigned char)p[i], C_VALUE))
			return false;
	return true;
}

/*
 * A request id taken from a front proxy's header: 1 to HQ_REQUEST_ID_MAX
 * bytes of token characters, or '/', '=' and ':' (base64, URNs), so that it
 * can go into a log line or a response header as it is: no blank, no quote,
 * no control character.
 */
bool
hq_request_id_ok(const char *p, size_t n)
{
	if (n == 0 || n > HQ_REQUEST_ID_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!is((unsigned char)p[i], C_TCHAR) && p[i] != '/' &&
		    p[i] != '=' && p[i] != ':')
			return false;
	return true;
}

/* Next non-empty element of a comma-separated list, without OWS. */
static bool
next_element(const char **pp, const char *e, struct hq_str *out)
{
	const char *p = *pp, *s;

	for (;;) {
		while (p < e && (is_ows(*p) || *p == ','))
			p++;
		if (p == e)
			return false;
		for (s = p; p < e && *p != ','; p++)
			;
		*pp = p;
		while (is_ows(p[-1]))
			p--;
		*out = (struct hq_str){ s, (size_t)(p - s) };
		return true;
	}
}

/*
 * 1*DIGIT, in one field.  RFC 9110 8.6 lets a recipient merge a list of
 * identical values or repeated identical fields; http.sys's way is to
 * refuse what it would have to repair (P-FRAMING-2).  Leading zeros are
 * 1*DIGIT and read as decimal (P-FRAMING-3).
 */
static enum hq_error
content_length(struct hq_str v, int64_t *cl)
{
	const char *p = v.p, *e = v.p + v.n;
	int64_t n = 0;

	if (*cl >= 0 || p == e)
		return HQ_ERR_BAD_CONTENT_LENGTH;
	for (; p < e; p++) {
		int d = *p - '0';

		if (!is_digit(*p) || n > (CONTENT_LENGTH_MAX - d) / 10)
			return HQ_ERR_BAD_CONTENT_LENGTH;
		n = n * 10 + d;
	}
	*cl = n;
	return HQ_OK;
}

/* Only chunked is implemented, and it must be applied last and once. */
static enum hq_error
transfer_encoding(struct hq_str v, bool *chunked)
{
	const char *p = v.p, *e = v.p + v.n;
	struct hq_str c;

	while (next_element(&p, e, &c)) {
		if (*chunked)
			return HQ_ERR_BAD_REQUEST; /* chunked not last, or twice */
		if (!hq_str_eq_nocase(c, "chunked"))
			return HQ_ERR_NOT_IMPLEMENTED;
		*chunked = true;
	}
	return HQ_OK;
}

/* Expect (RFC 9110 10.1.1): 100-continue is the one expectation; any
 * other member is answered 417 (P-EXPECT-3).  An empty list expects
 * nothing.  100-continue means something in HTTP/1.1 only (P-EXPECT-2). */
static void
expect(struct hq_head *h, struct hq_str v, struct fields *fs)
{
	const char *p = v.p, *e = v.p + v.n;
	struct hq_str t;

	while (next_element(&p, e, &t)) {
		if (!hq_str_eq_nocase(t, "100-continue"))
			fs->bad_expect = true;
		else if (h->version == 11)
			h->expect_continue = true;
	}
}

static void
connection(struct hq_str v, struct fields *fs)
{
	const char *p = v.p, *e = v.p + v.n;
	struct hq_str t;

	while (next_element(&p, e, &t)) {
		if (hq_str_eq_nocase(t, "close"))
			fs->close = true;
		else if (hq_str_eq_nocase(t, "keep-alive"))
			fs->keep_alive = true;
	}
}

/* The fields with a meaning for framing, routing or the connection. */
static enum hq_error
known_field(struct hq_head *h, const struct hq_hdr *f, struct fields *fs)
{
	switch (f->name.n) {
	case 4:
		if (!hq_str_eq_nocase(f->name, "host"))
			break;
		/* Not a framing error: noted, and reported once the whole
		 * head (and so its body framing) is known. */
		if (++fs->nhost > 1 || !valid_authority(f->value))
			fs->bad_host = true;
		fs->host = f->value;
		break;
	case 6:
		if (hq_str_eq_nocase(f->name, "expect"))
			expect(h, f->value, fs);
		break;
	case 10:
		if (hq_str_eq_nocase(f->name, "connection"))
			connection(f->value, fs);
		break;
	case 14:
		if (!hq_str_eq_nocase(f->name, "content-length"))
			break;
		if (fs->te)
			return HQ_ERR_CL_AND_TE;
		return content_length(f->value, &h->content_length);
	case 17:
		if (!hq_str_eq_nocase(f->name, "transfer-encoding"))
			break;
		if (h->version == 10)
			return HQ_ERR_BAD_REQUEST;
		if (h->content_length >= 0)
			return HQ_ERR_CL_AND_TE;
		fs->te = true;
		return transfer_encoding(f->value, &h->chunked);
	}
	return HQ_OK;
}

/* POST and PUT carry content (RFC 9110 9.3.3, 9.3.4; RFC 1945 7.2.2 makes
 * Content-Length mandatory for them in HTTP/1.0). */
static bool
needs_length(struct hq_str m)
{
	return (m.n == 4 && memcmp(m.p, "POST", 4) == 0) ||
	    (m.n == 3 && memcmp(m.p, "PUT", 3) == 0);
}

/* Checks that need every field: Host presence, final coding, keep-alive. */
static enum hq_error
finish(struct hq_head *h, const struct fields *fs)
{
	if (fs->te && !h->chunked)
		return HQ_ERR_BAD_REQUEST; /* an empty Transfer-Encoding */
	if (h->version == 11)
		h->keep_alive = !fs->close;
	else
		h->keep_alive = fs->keep_alive && !fs->close;
	/* A POST or PUT without framing may be a client that means to send
	 * a body anyway: http.sys answers 411 and closes (P-FRAMING-9). */
	if (!h->chunked && h->content_length < 0 && needs_length(h->method))
		return HQ_ERR_LENGTH_REQUIRED;
	if (fs->bad_expect)
		return HQ_ERR_EXPECTATION_FAILED;
	if (fs->bad_host)
		return HQ_ERR_BAD_HOST;
	/* HTTP/1.1 needs a Host even in absolute-form (RFC 9112 3.2), where it
	 * may be empty: the authority is the host then. */
	if (h->version == 11 && fs->nhost == 0)
		return HQ_ERR_BAD_HOST;
	if (!h->absolute_form) {
		if (h->version == 11 && fs->host.n == 0)
			return HQ_ERR_BAD_HOST;
		h->host = fs->host;
	}
	return HQ_OK;
}

/* ---------------------------------------------------------------------
 * The head as a whole.
 * ------------------------------------------------------------------- */

/* The line at *pos (which has an LF before end), without its CRLF or LF. */
static struct hq_str
next_line(const char *buf, size_t *pos, size_t end)
{
	const char *s = buf + *pos;
	const char *lf = memchr(s, '\n', end - *pos);
	size_t n = (size_t)(lf - s);

	*pos += n + 1;
	if (n > 0 && s[n - 1] == '\r')
		n--;
	return (struct hq_str){ s, n };
}

/*
 * headers[] is full and the field at hand needs a slot: asks the caller for
 * twice the room, but never more than max_headers nor than the rest of the
 * head can fill (left bytes: each field line takes at least 3, "a:\n", and
 * the empty line 1), so that the array stays in proportion to the head.
 */
static bool
more_fields(struct hq_head *h, const struct hq_limits *lim, size_t left,
    size_t *cap)
{
	size_t need = *cap < 8 ? 16 : *cap * 2;
	size_t most = h->nheaders + 1 + (left > 0 ? (left - 1) / 3 : 0);

	if (*cap >= lim->max_headers || h->grow == NULL)
		return false;
	if (need > lim->max_headers)
		need = lim->max_headers;
	if (need > most)
		need = most;
	if (!h->grow(h, need) || h->hdr_cap < need)
		return false;
	*cap = need;
	return true;
}

/* Parses the complete head buf[start..end), which ends with an empty line. */
static enum hq_error
parse_full(const char *buf, size_t start, size_t end,
    const struct hq_limits *lim, struct hq_head *h)
{
	struct fields fs = { 0 };
	size_t pos = start, cap = h->hdr_cap;
	struct hq_str l;
	enum hq_error err;

	if (cap > lim->max_headers)
		cap = lim->max_headers;
	if ((err = request_line(next_line(buf, &pos, end), lim, h)) != HQ_OK)
		return err;
	while ((l = next_line(buf, &pos, end)).n > 0) {
		struct hq_hdr *f;

		if (h->nheaders == cap && !more_fields(h, lim, end - pos, &cap))
			return HQ_ERR_REQUEST_TOO_LONG;
		f = &h->headers[h->nheaders];
		if ((err = field_line(l, lim, f)) != HQ_OK ||
		    (err = known_field(h, f, &fs)) != HQ_OK)
			return err;
		h->nheaders++;
	}
	/* Every field is known: a Host error now leaves the framing usable,
	 * which head_len tells the caller. */
	h->head_len = end;
	err = finish(h, &fs);
	if (err != HQ_OK && err != HQ_ERR_BAD_HOST)
		h->head_len = 0;
	return err;
}

/*
 * Skips the empty lines a client may send before the request line.
 * *start == len means more bytes are needed.
 */
static enum hq_error
skip_empty_lines(const char *buf, size_t len, size_t *start)
{
	size_t i = 0;

	for (int k = 0;; k++) {
		size_t eol;

		if (i < len && buf[i] == '\n')
			eol = 1;
		else if (i + 1 < len && buf[i] == '\r' && buf[i + 1] == '\n')
			eol = 2;
		else if (i + 1 == len && buf[i] == '\r')
			i = len, eol = 0; /* CR LF or bare CR: cannot tell yet */
		else
			break;
		if (eol && k == LEADING_EMPTY_MAX)
			return HQ_ERR_BAD_REQUEST;
		i += eol;
		if (i == len)
			break;
	}
	*start = i;
	return HQ_OK;
}

/*
 * Looks for the empty line ending the head in buf[from..wend).  Returns the
 * offset past it, or 0 with *scanned at the first byte still to look at (an
 * LF whose next bytes have not arrived is looked at again).
 */
static size_t
find_end(const char *buf, size_t from, size_t wend, size_t *scanned)
{
	size_t i = from;

	while (i < wend) {
		const char *lf = memchr(buf + i, '\n', wend - i);

		if (lf == NULL) {
			i = wend;
			break;
		}
		i = (size_t)(lf - buf);
		if (i + 1 == wend)
			break;
		if (buf[i + 1] == '\n')
			return *scanned = i + 2;
		if (buf[i + 1] == '\r') {
			if (i + 2 == wend)
				break;
			if (buf[i + 2] == '\n')
				return *scanned = i + 3;
		}
		i++;
	}
	*scanned = i;
	return 0;
}

/*
 * The head does not fit in max_request_bytes: say why, from the window
 * buf[start..wend) alone.  The request line is judged first (a line with no
 * end is an over-long URL), then the length of each field line.
 */
static enum hq_error
overflow(const char *buf, size_t start, size_t wend, const struct hq_limits *lim)
{
	struct hq_head tmp = { .content_length = -1 };
	size_t pos = start;
	const char *lf;
	enum hq_error err;

	if (memchr(buf + start, '\n', wend - start) == NULL)
		return HQ_ERR_URL_TOO_LONG;
	if ((err = request_line(next_line(buf, &pos, wend), lim, &tmp)) != HQ_OK)
		return err;
	while (pos < wend) {
		lf = memchr(buf + pos, '\n', wend - pos);
		size_t n = (lf ? (size_t)(lf - buf) : wend) - pos;

		if (lf && n > 0 && lf[-1] == '\r')
			n--;
		if (n > lim->max_field_length)
			return HQ_ERR_FIELD_TOO_LONG;
		if (lf == NULL)
			break;
		pos = (size_t)(lf - buf) + 1;
	}
	return HQ_ERR_REQUEST_TOO_LONG;
}

/* No LF within the first max_url_length + slack bytes of the request line. */
static bool
request_line_too_long(const char *buf, size_t len, size_t start, size_t from,
    const struct hq_limits *lim)
{
	size_t max = (size_t)lim->max_url_length + REQLINE_SLACK;

	/* Looked at once: when the scan first reaches that far. */
	return len - start >= max && from - start < max &&
	    memchr(buf + start, '\n', max) == NULL;
}

static void
reset(struct hq_head *h)
{
	static const struct hq_str none = { NULL, 0 };

	h->method = h->target = h->path = h->host = none;
	h->version = 0;
	h->nheaders = 0;
	h->content_length = -1;
	h->chunked = h->keep_alive = h->expect_continue = false;
	h->absolute_form = h->asterisk_form = false;
	h->head_len = 0;
	h->error = HQ_OK;
}

static int
fail(struct hq_head *h, enum hq_error err)
{
	h->error = err;
	return -1;
}

int
hq_http1_parse_head(const char *buf, size_t len, size_t *scanned,
    const struct hq_limits *lim, struct hq_head *h)
{
	/* head_len must fit the int we return. */
	size_t max = lim->max_request_bytes < INT_MAX - 64 ?
	    lim->max_request_bytes : INT_MAX - 64;
	size_t start, from, wend, end;
	enum hq_error err;

	reset(h);
	if ((err = skip_empty_lines(buf, len, &start)) != HQ_OK)
		return fail(h, err);
	if (start == len)
		return 0;
	wend = len - start > max ? start + max : len;
	from = *scanned < start ? start : *scanned > wend ? wend : *scanned;
	if (request_line_too_long(buf, len, start, from, lim))
		return fail(h, HQ_ERR_URL_TOO_LONG);
	if ((end = find_end(buf, from, wend, scanned)) == 0) {
		if (len - start >= max)
			return fail(h, overflow(buf, start, start + max, lim));
		return 0;
	}
	if ((err = parse_full(buf, start, end, lim, h)) != HQ_OK)
		return fail(h, err);
	h->head_len = end;
	return (int)end;
}

/* ---------------------------------------------------------------------
 * Chunked transfer-coding (RFC 9112 7.1), one byte of framing at a time;
 * chunk data goes through in runs.
 * ------------------------------------------------------------------- */
enum {
	CS_SIZE,      /* chunk-size digits */
	CS_SIZE_WS,   /* BWS after the size, before ';' */
	CS_EXT,       /* chunk extensions: skipped, no CTLs */
	CS_SIZE_LF,   /* CR seen at the end of the size line */
	CS_DATA,
	CS_DATA_CR,   /* CRLF after the data */
	CS_DATA_LF,
	CS_TR_START,  /* start of a trailer line, or of the final empty line */
	CS_TR_NAME,
	CS_TR_VALUE,
	CS_TR_LF,
	CS_END_LF,    /* CR of the final empty line seen */
	CS_DONE,
};

void
hq_chunked_init(struct hq_chunked *c)
{
	c->state = CS_SIZE;
	c->remaining = 0;
	c->line_bytes = 0;
	c->trailer_bytes = 0;
	c->trailer_lines = 0;
	c->tr_from = (size_t)-1;
}

static int
hexval(unsigned char ch)
{
	if (ch <= '9')
		return ch - '0';
	return (ch | 0x20) - 'a' + 10;
}

static enum hq_error
size_line_end(struct hq_chunked *c)
{
	c->line_bytes = 0;
	c->state = c->remaining > 0 ? CS_DATA : CS_TR_START;
	return HQ_OK;
}

/* Bytes of the size line after the size: BWS, extensions, CR, LF. */
static enum hq_error
size_line_byte(struct hq_chunked *c, unsigned char ch)
{
	/* Whitespace is allowed only before a ';' (BWS, RFC 9112 7.1.1):
	 * "5 \r\n" is refused, not trimmed (P-CHUNK-2). */
	if ((ch == '\r' || ch == '\n') && c->state == CS_SIZE_WS)
		return HQ_ERR_BAD_CHUNK;
	if (ch == '\r') {
		c->state = CS_SIZE_LF;
		return HQ_OK;
	}
	if (ch == '\n')
		return size_line_end(c);
	if (ch == '\0')
		return HQ_ERR_BAD_CRLF;
	if (++c->line_bytes > CHUNK_LINE_MAX)
		return HQ_ERR_BAD_CHUNK;
	if (ch == ';')
		c->state = CS_EXT;
	else if (c->state == CS_EXT)
		return (ch == '\t' || (ch >= 0x20 && ch != 0x7f)) ? HQ_OK : HQ_ERR_BAD_CHUNK;
	else if (is_ows((char)ch))
		c->state = CS_SIZE_WS;
	else
		return HQ_ERR_BAD_CHUNK;
	return HQ_OK;
}

static enum hq_error
size_byte(struct hq_chunked *c, unsigned char ch)
{
	if (is(ch, C_HEX)) {
		if (c->remaining >> 60)
			return HQ_ERR_BAD_CHUNK; /* would overflow */
		c->remaining = c->remaining << 4 | (uint64_t)hexval(ch);
		return ++c->line_bytes > CHUNK_LINE_MAX ? HQ_ERR_BAD_CHUNK : HQ_OK;
	}
	if (c->line_bytes == 0) /* no digits */
		return ch == '\0' ? HQ_ERR_BAD_CRLF : HQ_ERR_BAD_CHUNK;
	return size_line_byte(c, ch);
}

/*
 * Trailer fields, checked as header fields are; malformed is BAD_CHUNK.
 * They are held to the head's limits: max_field_length per line,
 * max_headers lines, max_request_bytes in all (P-TRAILER-2).
 */
static enum hq_error
trailer_byte(struct hq_chunked *c, unsigned char ch, const struct hq_limits *lim)
{
	if (++c->trailer_bytes > lim->max_request_bytes)
		return HQ_ERR_REQUEST_TOO_LONG;
	if (c->state == CS_TR_NAME || c->state == CS_TR_VALUE) {
		if (ch != '\r' && ch != '\n' &&
		    ++c->line_bytes > lim->max_field_length)
			return HQ_ERR_FIELD_TOO_LONG;
	}
	switch (c->state) {
	case CS_TR_START:
		if (ch == '\r')
			c->state = CS_END_LF;
		else if (ch == '\n')
			c->state = CS_DONE;
		else if (is(ch, C_TCHAR)) {
			if (++c->trailer_lines > lim->max_headers)
				return HQ_ERR_REQUEST_TOO_LONG;
			c->line_bytes = 1;
			c->state = CS_TR_NAME;
		} else
			return byte_error((char)ch, HQ_ERR_BAD_CHUNK);
		return HQ_OK;
	case CS_TR_NAME:
		if (ch == ':')
			c->state = CS_TR_VALUE;
		else if (!is(ch, C_TCHAR))
			return ch == '\0' ? HQ_ERR_BAD_CRLF : HQ_ERR_BAD_CHUNK;
		return HQ_OK;
	case CS_TR_VALUE:
		if (ch == '\r')
			c->state = CS_TR_LF;
		else if (ch == '\n')
			c->state = CS_TR_START;
		else if (!is(ch, C_VALUE))
			return byte_error((char)ch, HQ_ERR_BAD_CHUNK);
		return HQ_OK;
	case CS_TR_LF:
	case CS_END_LF:
		if (ch != '\n')
			return HQ_ERR_BAD_CRLF;
		c->state = c->state == CS_TR_LF ? CS_TR_START : CS_DONE;
		return HQ_OK;
	}
	return HQ_ERR_INTERNAL;
}

static enum hq_error
framing_byte(struct hq_chunked *c, unsigned char ch, const struct hq_limits *lim)
{
	switch (c->state) {
	case CS_SIZE:
		return size_byte(c, ch);
	case CS_SIZE_WS:
	case CS_EXT:
		return size_line_byte(c, ch);
	case CS_SIZE_LF:
		return ch == '\n' ? size_line_end(c) : HQ_ERR_BAD_CRLF;
	case CS_DATA_CR:
	case CS_DATA_LF:
		if (ch == '\r' && c->state == CS_DATA_CR)
			c->state = CS_DATA_LF;
		else if (ch == '\n')
			c->state = CS_SIZE;
		else
			return HQ_ERR_BAD_CHUNK;
		return HQ_OK;
	default:
		return trailer_byte(c, ch, lim);
	}
}

ssize_t
hq_chunked_decode(struct hq_chunked *c, const char *buf, size_t len,
    const char **data, size_t *data_len, bool *done,
    const struct hq_limits *lim, enum hq_error *err)
{
	size_t i = 0;

	*data = NULL;
	*data_len = 0;
	*err = HQ_OK;
	c->tr_from = (size_t)-1;
	while (i < len && c->state != CS_DONE) {
		if (c->state >= CS_TR_START && c->tr_from == (size_t)-1)
			c->tr_from = i;
		if (c->state == CS_DATA) {
			size_t n;

			if (*data != NULL)
				break; /* one run per call */
			n = len - i < c->remaining ? len - i : (size_t)c->remaining;
			*data = buf + i;
			*data_len = n;
			c->remaining -= n;
			i += n;
			if (c->remaining == 0)
				c->state = CS_DATA_CR;
			continue;
		}
		if ((*err = framing_byte(c, (unsigned char)buf[i], lim)) != HQ_OK) {
			*done = false;
			return -1;
		}
		i++;
	}
	*done = c->state == CS_DONE;
	return (ssize_t)i;
}

/*
 * The trailer section buf[0..len) as the decoder passed it (each line
 * checked already, ending with the empty line): fills out[0..cap) with
 * views into buf and returns the number of fields, however many fit.
 */
size_t
hq_http1_trailers(const char *buf, size_t len, struct hq_hdr *out, size_t cap)
{
	size_t pos = 0, n = 0;

	while (pos < len && memchr(buf + pos, '\n', len - pos) != NULL) {
		struct hq_str l = next_line(buf, &pos, len);
		const char *colon, *v, *e;

		if (l.n == 0)
			break;
		if ((colon = memchr(l.p, ':', l.n)) == NULL)
			continue; /* not from the decoder */
		for (v = colon + 1, e = l.p + l.n; v < e && is_ows(*v); v++)
			;
		while (e > v && is_ows(e[-1]))
			e--;
		if (n < cap)
			out[n] = (struct hq_hdr){
				{ l.p, (size_t)(colon - l.p) }, { v, (size_t)(e - v) } };
		n++;
	}
	return n;
}
