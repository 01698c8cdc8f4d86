/*
 * urlprefix.c -- http.sys URL prefix syntax, and URL cooking.
 *
 * A prefix is "scheme://host:port/path/" as http.sys spells it: lower-case
 * scheme, a mandatory port, a case-insensitive path that ends in '/'.  We
 * parse strictly and say exactly what is wrong, quoting the prefix, because
 * a prefix that silently means something else is the worst kind of typo.
 *
 * Cooking turns a request-target into the path that routing and modules see.
 * It runs on every request, so it writes into the caller's buffer and never
 * allocates.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "httpq-internal.h"

#define HOST_NAME_MAX_LEN HQ_HOST_NAME_MAX_LEN
#define HOST_LABEL_MAX_LEN 63

static inline int
hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static inline unsigned char
lower(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? c + 32 : c;
}

static inline bool
is_ctl(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

/* Decodes "%XY" at s (s[0] == '%', n bytes available); -1 if malformed. */
static inline int
pct_decode(const char *s, size_t n)
{
	int hi, lo;

	if (n < 3 || (hi = hexval((unsigned char)s[1])) < 0 ||
	    (lo = hexval((unsigned char)s[2])) < 0)
		return -1;
	return hi << 4 | lo;
}

/* Writes `<what> in "<text>"` into err; always returns -1. */
static int __attribute__((format(printf, 4, 5)))
fail(char *err, size_t errlen, const char *text, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (err == NULL || errlen == 0)
		return -1;
	va_start(ap, fmt);
	n = vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t)n < errlen)
		snprintf(err + n, errlen - n, " in \"%s\"", text);
	return -1;
}

/* --- prefix parsing --------------------------------------------------- */

/* True for text made of digits and dots with at least one dot: meant as an
 * IPv4 literal, so "1.2.3.256" is a bad address rather than a host name. */
static bool
looks_ipv4(const char *h, size_t n)
{
	bool dot = false;

	for (size_t i = 0; i < n; i++) {
		if (h[i] == '.')
			dot = true;
		else if (h[i] < '0' || h[i] > '9')
			return false;
	}
	return dot;
}

static int
check_host_name(const char *h, size_t n, const char *text, char *err, size_t errlen)
{
	size_t label = 0;

	if (n > HOST_NAME_MAX_LEN)
		return fail(err, errlen, text, "host name longer than %d characters",
		    HOST_NAME_MAX_LEN);
	for (size_t i = 0; i <= n; i++) {
		unsigned char c = i < n ? (unsigned char)h[i] : '.';

		if (c == '.') {
			if (label == 0)
				return fail(err, errlen, text,
				    "bad host name \"%.*s\" (empty label)", (int)n, h);
			label = 0;
		} else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-') {
			if (++label > HOST_LABEL_MAX_LEN)
				return fail(err, errlen, text,
				    "bad host name \"%.*s\" (label longer than %d)",
				    (int)n, h, HOST_LABEL_MAX_LEN);
		} else {
			return fail(err, errlen, text,
			    "bad host name \"%.*s\" (letters, digits, \"-\" and \".\" "
			    "allowed; \"+\" or \"*\" for wildcards)", (int)n, h);
		}
	}
	return 0;
}

/* Stores an IP literal in its inet_ntop form, so that equal addresses have
 * equal text. */
static int
set_ip(struct hq_prefix *out, int family, const char *h, size_t n,
    const char *text, char *err, size_t errlen)
{
	char buf[INET6_ADDRSTRLEN];

	if (n < sizeof(buf)) {
		memcpy(buf, h, n);
		buf[n] = '\0';
	}
	if (n >= sizeof(buf) || inet_pton(family, buf, out->ip) != 1)
		return fail(err, errlen, text, "bad %s address \"%.*s\"",
		    family == AF_INET ? "IPv4" : "IPv6", (int)n, h);
	inet_ntop(family, out->ip, buf, sizeof(buf));
	out->cls = HQ_HOST_IP;
	out->ip_family = family;
	out->host = xstrdup(buf);
	return 0;
}

/* Parses the host at *pp; leaves *pp just after it. */
static int
parse_host(const char **pp, struct hq_prefix *out, const char *text,
    char *err, size_t errlen)
{
	const char *h = *pp, *e;
	size_t n;

	if (*h == '[') {
		if ((e = strchr(h, ']')) == NULL)
			return fail(err, errlen, text, "\"[\" without \"]\"");
		*pp = e + 1;
		return set_ip(out, AF_INET6, h + 1, e - h - 1, text, err, errlen);
	}
	n = strcspn(h, ":/");
	*pp = h + n;
	if (n == 0)
		return fail(err, errlen, text, "host missing");
	if (n == 1 && (*h == '+' || *h == '*')) {
		out->cls = *h == '+' ? HQ_HOST_STRONG : HQ_HOST_WEAK;
		out->host = xstrndup(h, 1);
		return 0;
	}
	if (looks_ipv4(h, n))
		return set_ip(out, AF_INET, h, n, text, err, errlen);
	if (check_host_name(h, n, text, err, errlen) < 0)
		return -1;
	out->cls = HQ_HOST_EXPLICIT;
	out->host = xstrndup(h, n);
	for (char *c = out->host; *c; c++)
		*c = (char)lower((unsigned char)*c);
	return 0;
}

/* Parses ":port" at *pp: decimal, 1-65535, no sign, no leading zero. */
static int
parse_port(const char **pp, struct hq_prefix *out, const char *text,
    char *err, size_t errlen)
{
	const char *s = *pp;
	size_t n;
	unsigned long v = 0;

	if (*s != ':') {
		if (*s == '\0' || *s == '/')
			return fail(err, errlen, text, "port missing");
		return fail(err, errlen, text, "expected \":port\" after the host");
	}
	s++;
	n = strcspn(s, "/");
	*pp = s + n;
	if (n == 0)
		return fail(err, errlen, text, "port missing");
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return fail(err, errlen, text, "bad port \"%.*s\"", (int)n, s);
	if (n > 1 && s[0] == '0')
		return fail(err, errlen, text, "bad port \"%.*s\" (leading zero)",
		    (int)n, s);
	for (size_t i = 0; i < n && v <= 65535; i++)
		v = v * 10 + (unsigned long)(s[i] - '0');
	if (v < 1 || v > 65535)
		return fail(err, errlen, text, "port out of range (1-65535)");
	out->port = (uint16_t)v;
	return 0;
}

/* Checks the segments of a decoded path that starts with '/'. */
static int
check_segments(const char *p, size_t n, const char *text, char *err, size_t errlen)
{
	if (p[n - 1] != '/')
		return fail(err, errlen, text, "path must end in \"/\"");
	for (size_t i = 1, start = 1; i < n; i++) {
		size_t len;

		if (p[i] != '/')
			continue;
		len = i - start;
		if (len == 0)
			return fail(err, errlen, text, "path has an empty segment");
		if ((len == 1 && p[start] == '.') ||
		    (len == 2 && p[start] == '.' && p[start + 1] == '.'))
			return fail(err, errlen, text, "path has a \".\" or \"..\" segment");
		start = i + 1;
	}
	return 0;
}

/* Decodes and lower-cases the path at s into out->path. */
static int
parse_path(const char *s, struct hq_prefix *out, const char *text,
    char *err, size_t errlen)
{
	size_t n = strlen(s), o = 0;
	char *p;

	if (n == 0) {           /* an absent path is the root */
		s = "/";
		n = 1;
	}
	p = xmalloc(n + 1);
	for (size_t i = 0; i < n; i++) {
		int c = (unsigned char)s[i];

		if (c == '%') {
			if ((c = pct_decode(s + i, n - i)) < 0) {
				free(p);
				return fail(err, errlen, text, "path has a bad percent-escape");
			}
			i += 2;
		}
		if (is_ctl((unsigned char)c) || c == '?' || c == '#') {
			free(p);
			return fail(err, errlen, text, "path has %s",
			    is_ctl((unsigned char)c) ? "a control character" :
			    c == '?' ? "\"?\"" : "\"#\"");
		}
		p[o++] = (char)lower((unsigned char)c);
	}
	p[o] = '\0';
	if (check_segments(p, o, text, err, errlen) < 0) {
		free(p);
		return -1;
	}
	out->path = p;
	out->path_len = o;
	return 0;
}

/* Rebuilds the canonical text; bytes that cannot stand in a URL are
 * percent-encoded so that the text parses back to the same prefix. */
static char *
canonical_text(const struct hq_prefix *p)
{
	static const char hex[] = "0123456789ABCDEF";
	bool v6 = p->cls == HQ_HOST_IP && p->ip_family == AF_INET6;
	size_t cap = strlen(p->host) + 3 * p->path_len + 32, o;
	char *t = xmalloc(cap);

	o = (size_t)snprintf(t, cap, "%s://%s%s%s:%u", p->https ? "https" : "http",
	    v6 ? "[" : "", p->host, v6 ? "]" : "", (unsigned)p->port);
	for (size_t i = 0; i < p->path_len; i++) {
		unsigned char c = (unsigned char)p->path[i];

		if (c <= 0x20 || c >= 0x7f || c == '%' || c == '"') {
			t[o++] = '%';
			t[o++] = hex[c >> 4];
			t[o++] = hex[c & 15];
		} else {
			t[o++] = (char)c;
		}
	}
	t[o] = '\0';
	return t;
}

int
hq_prefix_parse(const char *text, struct hq_prefix *out, char *err, size_t errlen)
{
	const char *p;

	memset(out, 0, sizeof(*out));
	if (text == NULL)
		text = "";
	if (strlen(text) > HQ_PREFIX_MAX_LENGTH) {
		/* Not fail(): the message quotes only the start. */
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "prefix of %zu characters, longer "
			    "than %d, in \"%.32s...\"", strlen(text),
			    HQ_PREFIX_MAX_LENGTH, text);
		return -1;
	}
	if (strncmp(text, "http://", 7) == 0) {
		p = text + 7;
	} else if (strncmp(text, "https://", 8) == 0) {
		out->https = true;
		p = text + 8;
	} else {
		return fail(err, errlen, text,
		    "scheme must be \"http\" or \"https\" (lower case)");
	}
	if (parse_host(&p, out, text, err, errlen) < 0 ||
	    parse_port(&p, out, text, err, errlen) < 0 ||
	    parse_path(p, out, text, err, errlen) < 0)
		goto fail;
	out->text = canonical_text(out);
	return 0;
fail:
	hq_prefix_free(out);
	return -1;
}

void
hq_prefix_free(struct hq_prefix *p)
{
	if (p == NULL)
		return;
	free(p->host);
	free(p->path);
	free(p->text);
	memset(p, 0, sizeof(*p));
}

void
hq_prefix_copy(struct hq_prefix *dst, const struct hq_prefix *src)
{
	*dst = *src;
	dst->host = src->host ? xstrdup(src->host) : NULL;
	dst->path = src->path ? xstrndup(src->path, src->path_len) : NULL;
	dst->text = src->text ? xstrdup(src->text) : NULL;
}

/* --- URL cooking ------------------------------------------------------ */

/*
 * Cooking state: out[0..o) is the path so far; while a segment is being
 * copied it starts at seg, and out[seg - 1] is the '/' before it.
 */
struct cook {
	char *out;
	size_t cap, o, seg, nseg;
	const struct hq_limits *lim;
};

/* Ends the segment out[seg..o).  last: no separator follows it. */
static bool
end_segment(struct cook *c, bool last)
{
	size_t len = c->o - c->seg;
	const char *s = c->out + c->seg;

	if (len == 0)
		return true;            /* "//" collapses; trailing '/' stays */
	if (len == 1 && s[0] == '.') {
		c->o = c->seg;
		return true;
	}
	if (len == 2 && s[0] == '.' && s[1] == '.') {
		c->o = c->seg;
		/* Above "/" is no place: refused, not clamped (P-PATH-4). */
		if (c->o <= 1)
			return false;
		c->o--;                 /* drop the previous segment */
		while (c->out[c->o - 1] != '/')
			c->o--;
		c->nseg--;
		c->seg = c->o;
		return true;
	}
	if (c->lim && c->lim->segment_max_length && len > c->lim->segment_max_length)
		return false;
	c->nseg++;
	if (!last) {
		if (c->o + 1 >= c->cap)
			return false;
		c->out[c->o++] = '/';
		c->seg = c->o;
	}
	return true;
}

/*
 * Well-formed UTF-8 (RFC 3629 4): no overlong form, no surrogate, nothing
 * above U+10FFFF, no truncated sequence; and, as http.sys without
 * AllowRestrictedChars, no C1 control U+0080-U+009F (P-PATH-5, P-PATH-6).
 */
static bool
utf8_ok(const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		unsigned char b = s[i];
		size_t k;
		unsigned char lo = 0x80, hi = 0xbf;

		if (b < 0x80) {
			i++;
			continue;
		}
		if (b >= 0xc2 && b <= 0xdf)
			k = 1, lo = b == 0xc2 ? 0xa0 : 0x80;
		else if (b >= 0xe0 && b <= 0xef)
			k = 2, lo = b == 0xe0 ? 0xa0 : 0x80, hi = b == 0xed ? 0x9f : 0xbf;
		else if (b >= 0xf0 && b <= 0xf4)
			k = 3, lo = b == 0xf0 ? 0x90 : 0x80, hi = b == 0xf4 ? 0x8f : 0xbf;
		else
			return false;   /* 80-C1: continuation or overlong; F5-FF */
		if (n - i <= k || s[i + 1] < lo || s[i + 1] > hi)
			return false;
		for (size_t j = 2; j <= k; j++)
			if (s[i + j] < 0x80 || s[i + j] > 0xbf)
				return false;
		i += k + 1;
	}
	return true;
}

enum hq_error
hq_url_cook(const char *raw, size_t rawlen, const struct hq_limits *lim,
    char *out, size_t outcap, size_t *outlen, struct hq_str *query)
{
	const char *q = rawlen ? memchr(raw, '?', rawlen) : NULL;
	size_t n = q ? (size_t)(q - raw) : rawlen;
	struct cook c = { out, outcap, 1, 1, 0, lim };

	query->p = q ? q + 1 : raw + rawlen;
	query->n = q ? rawlen - n - 1 : 0;
	if (n == 0 || raw[0] != '/' || outcap < 2)
		return HQ_ERR_BAD_URL;
	out[0] = '/';
	for (size_t i = 1; i < n; i++) {
		int ch = (unsigned char)raw[i];

		if (ch == '%') {
			if ((ch = pct_decode(raw + i, n - i)) < 0)
				return HQ_ERR_BAD_URL;
			i += 2;
		}
		if (is_ctl((unsigned char)ch))
			return HQ_ERR_BAD_URL;
		if (ch == '/') {
			if (!end_segment(&c, false))
				return HQ_ERR_BAD_URL;
			continue;
		}
		if (c.o + 1 >= c.cap)
			return HQ_ERR_BAD_URL;
		out[c.o++] = (char)ch;
	}
	if (!end_segment(&c, true))
		return HQ_ERR_BAD_URL;
	if (lim && lim->segment_max_count && c.nseg > lim->segment_max_count)
		return HQ_ERR_BAD_URL;
	if (!utf8_ok((const unsigned char *)out, c.o))
		return HQ_ERR_BAD_URL;
	out[c.o] = '\0';
	*outlen = c.o;
	return HQ_OK;
}
