/*
 * accesslog.c -- the lines of the access and error logs.
 *
 * W3C extended log format as http.sys writes it (space-separated fields
 * named by a "#Fields:" directive, blanks and controls as '+', an empty
 * value as '-', UTC) and NCSA combined.  A line is built with memcpy and
 * a hand-rolled integer conversion: no printf and no allocation per
 * request; the date of the current second is formatted once.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "httpq-internal.h"

enum lf {
	LF_DATE, LF_TIME, LF_C_IP, LF_C_PORT, LF_CS_USERNAME, LF_S_SITENAME,
	LF_S_COMPUTERNAME, LF_S_IP, LF_S_PORT, LF_CS_METHOD, LF_CS_URI_STEM,
	LF_CS_URI_QUERY, LF_CS_URI, LF_SC_STATUS, LF_SC_SUBSTATUS,
	LF_SC_WIN32_STATUS, LF_SC_BYTES, LF_CS_BYTES, LF_TIME_TAKEN,
	LF_CS_VERSION, LF_CS_HOST, LF_S_REASON, LF_S_QUEUENAME, LF_S_REQUEST_ID, LF_CS_HEADER,
};

/* http.sys's names (HTTP_LOG_FIELD_* and the HTTPERR fields). */
static const char *const lf_names[] = {
	[LF_DATE] = "date", [LF_TIME] = "time", [LF_C_IP] = "c-ip",
	[LF_C_PORT] = "c-port", [LF_CS_USERNAME] = "cs-username",
	[LF_S_SITENAME] = "s-sitename", [LF_S_COMPUTERNAME] = "s-computername",
	[LF_S_IP] = "s-ip", [LF_S_PORT] = "s-port", [LF_CS_METHOD] = "cs-method",
	[LF_CS_URI_STEM] = "cs-uri-stem", [LF_CS_URI_QUERY] = "cs-uri-query",
	[LF_CS_URI] = "cs-uri", [LF_SC_STATUS] = "sc-status",
	[LF_SC_SUBSTATUS] = "sc-substatus", [LF_SC_WIN32_STATUS] = "sc-win32-status",
	[LF_SC_BYTES] = "sc-bytes", [LF_CS_BYTES] = "cs-bytes",
	[LF_TIME_TAKEN] = "time-taken", [LF_CS_VERSION] = "cs-version",
	[LF_CS_HOST] = "cs-host", [LF_S_REASON] = "s-reason",
	[LF_S_QUEUENAME] = "s-queuename", [LF_S_REQUEST_ID] = "s-request-id",
};
#define NAMED_FIELDS (sizeof(lf_names) / sizeof(lf_names[0]))

/* s-computername: looked up once, when a spec that uses it is built (on
 * the main thread, before any worker formats a line with it). */
static char hostname[256];

/* "cs(Name)": any request header, by its token name. */
static bool
header_field(const char *name, size_t *hlen)
{
	size_t n = strlen(name);

	if (n < 5 || strncmp(name, "cs(", 3) != 0 || name[n - 1] != ')')
		return false;
	for (size_t i = 3; i < n - 1; i++) {
		unsigned char ch = (unsigned char)name[i];

		if (ch <= ' ' || ch >= 0x7f || strchr("()<>@,;:\\\"/[]?={}", ch))
			return false;
	}
	*hlen = n - 4;
	return true;
}

static int
field_id(const char *name)
{
	size_t hl;

	for (size_t i = 0; i < NAMED_FIELDS; i++)
		if (strcmp(name, lf_names[i]) == 0)
			return (int)i;
	return header_field(name, &hl) ? LF_CS_HEADER : -1;
}

bool
hq_logfield_valid(const char *name)
{
	return field_id(name) >= 0;
}

int
hq_logspec_init(struct hq_logspec *sp, enum hq_logformat f, char *const *names,
    size_t n)
{
	size_t len = sizeof("#Fields:\n");

	memset(sp, 0, sizeof(*sp));
	sp->format = f;
	if (f != HQ_LOG_W3C)
		return 0;
	if (names == NULL)
		return hq_logspec_parse(sp, f, HQ_LOG_W3C_DEFAULT_FIELDS);
	sp->fields = xcalloc(n + 1, sizeof(*sp->fields));
	for (size_t i = 0; i < n; i++) {
		int id = field_id(names[i]);

		if (id < 0) {
			hq_logspec_free(sp);
			return -1;
		}
		sp->fields[i].id = id;
		if (id == LF_S_COMPUTERNAME && hostname[0] == '\0' &&
		    gethostname(hostname, sizeof(hostname) - 1) < 0)
			strcpy(hostname, "-");
		if (id == LF_CS_HEADER) {
			sp->fields[i].hdrlen = strlen(names[i]) - 4;
			sp->fields[i].hdr = xstrndup(names[i] + 3, sp->fields[i].hdrlen);
		}
		len += strlen(names[i]) + 1;
	}
	sp->nfields = n;
	sp->fields_line = xmalloc(len);
	strcpy(sp->fields_line, "#Fields:");
	for (size_t i = 0; i < n; i++) {
		strcat(sp->fields_line, " ");
		strcat(sp->fields_line, names[i]);
	}
	strcat(sp->fields_line, "\n");
	return 0;
}

int
hq_logspec_parse(struct hq_logspec *sp, enum hq_logformat f, const char *list)
{
	char *copy = xstrdup(list), *save = NULL, **names = NULL;
	size_t n = 0;
	int rc;

	for (char *t = strtok_r(copy, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
		names = xrealloc(names, (n + 1) * sizeof(*names));
		names[n++] = t;
	}
	rc = hq_logspec_init(sp, f, names, n);
	free(names);
	free(copy);
	return rc;
}

void
hq_logspec_free(struct hq_logspec *sp)
{
	for (size_t i = 0; i < sp->nfields; i++)
		free(sp->fields[i].hdr);
	free(sp->fields);
	free(sp->fields_line);
	memset(sp, 0, sizeof(*sp));
}

static const char months[][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
	"Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

static void
two(char *p, int v)
{
	p[0] = (char)('0' + v / 10 % 10);
	p[1] = (char)('0' + v % 10);
}

void
hq_logclock_set(struct hq_logclock *clk, time_t sec)
{
	struct tm tm;
	int y;

	if (clk->sec == sec && clk->date[0] != '\0')
		return;
	clk->sec = sec;
	gmtime_r(&sec, &tm);
	y = tm.tm_year + 1900;
	two(clk->date, y / 100);
	two(clk->date + 2, y % 100);
	clk->date[4] = '-';
	two(clk->date + 5, tm.tm_mon + 1);
	clk->date[7] = '-';
	two(clk->date + 8, tm.tm_mday);
	clk->date[10] = '\0';
	two(clk->time, tm.tm_hour);
	clk->time[2] = ':';
	two(clk->time + 3, tm.tm_min);
	clk->time[5] = ':';
	two(clk->time + 6, tm.tm_sec);
	clk->time[8] = '\0';
	/* 25/Nov/2026:17:01:02 +0000 */
	two(clk->clf, tm.tm_mday);
	clk->clf[2] = '/';
	memcpy(clk->clf + 3, months[tm.tm_mon], 3);
	clk->clf[6] = '/';
	memcpy(clk->clf + 7, clk->date, 4);
	clk->clf[11] = ':';
	memcpy(clk->clf + 12, clk->time, 8);
	memcpy(clk->clf + 20, " +0000", 7);
}

/* --- the line builder: bounded, always room for the final '\n' ------------ */

struct ob {
	char *p;
	size_t n, cap;
};

static void
put(struct ob *o, const char *s, size_t n)
{
	if (n > o->cap - o->n)
		n = o->cap - o->n;
	memcpy(o->p + o->n, s, n);
	o->n += n;
}

static void
putc1(struct ob *o, char ch)
{
	if (o->n < o->cap)
		o->p[o->n++] = ch;
}

static void
put_cstr(struct ob *o, const char *s)
{
	put(o, s, strlen(s));
}

static void
put_u64(struct ob *o, uint64_t v)
{
	char b[20];
	size_t i = sizeof(b);

	do {
		b[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	put(o, b + i, sizeof(b) - i);
}

/* A W3C value: blanks and controls become '+', nothing becomes '-'. */
static void
put_w3c(struct ob *o, const char *s, size_t n)
{
	if (s == NULL || n == 0) {
		putc1(o, '-');
		return;
	}
	if (n > o->cap - o->n)
		n = o->cap - o->n;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		o->p[o->n++] = ch <= ' ' || ch == 0x7f ? '+' : (char)ch;
	}
}

static void
put_w3c_str(struct ob *o, const char *s)
{
	put_w3c(o, s, s ? strlen(s) : 0);
}

/* Inside NCSA quotes: '"', '\' and controls as \xHH (nginx's escaping). */
static void
put_ncsa(struct ob *o, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";

	for (size_t i = 0; i < n && o->n < o->cap; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch < ' ' || ch == 0x7f || ch == '"' || ch == '\\') {
			char e[4] = { '\\', 'x', hex[ch >> 4], hex[ch & 15] };

			put(o, e, 4);
		} else {
			o->p[o->n++] = (char)ch;
		}
	}
}

static void
put_ip(struct ob *o, const struct sockaddr *sa)
{
	char ip[HQ_ADDR_TEXT_MAX];

	/* ::ffff:1.2.3.4 is logged as the IPv4 address it is. */
	if (hq_addr_text(sa, HQ_ADDR_UNMAP, ip, sizeof(ip)) < 0)
		putc1(o, '-');
	else
		put_cstr(o, ip);
}

static void
put_port(struct ob *o, const struct sockaddr *sa)
{
	if (sa != NULL && sa->sa_family == AF_INET)
		put_u64(o, ntohs(((const struct sockaddr_in *)sa)->sin_port));
	else if (sa != NULL && sa->sa_family == AF_INET6)
		put_u64(o, ntohs(((const struct sockaddr_in6 *)sa)->sin6_port));
	else
		putc1(o, '-');
}

static struct hq_str
header(const struct hq_logrec *rec, const char *name, size_t n)
{
	for (size_t i = 0; i < rec->nheaders; i++) {
		const struct hq_hdr *h = &rec->headers[i];

		if (h->name.n == n && hq_mem_eq_nocase(h->name.p, name, n))
			return h->value;
	}
	return (struct hq_str){ NULL, 0 };
}

static struct hq_str
uri_stem(const struct hq_logrec *rec)
{
	struct hq_str t = rec->target;
	const char *q = t.p ? memchr(t.p, '?', t.n) : NULL;

	if (q != NULL)
		t.n = (size_t)(q - t.p);
	return t;
}

static const char *
version_text(int v)
{
	return v == 10 ? "HTTP/1.0" : v == 11 ? "HTTP/1.1" : v == 20 ? "HTTP/2.0" : NULL;
}

static void
w3c_field(struct ob *o, const struct hq_logfield *f, const struct hq_logrec *r)
{
	struct hq_str s;

	switch ((enum lf)f->id) {
	case LF_DATE: put_cstr(o, r->clk->date); break;
	case LF_TIME: put_cstr(o, r->clk->time); break;
	case LF_C_IP: put_ip(o, r->client); break;
	case LF_C_PORT: put_port(o, r->client); break;
	case LF_CS_USERNAME: putc1(o, '-'); break;
	case LF_S_SITENAME: put_w3c_str(o, r->site); break;
	case LF_S_COMPUTERNAME: put_w3c_str(o, hostname); break;
	case LF_S_IP: put_ip(o, r->server); break;
	case LF_S_PORT: put_port(o, r->server); break;
	case LF_CS_METHOD: put_w3c(o, r->method.p, r->method.n > 255 ? 255 : r->method.n); break;
	case LF_CS_URI_STEM:
		s = uri_stem(r);
		put_w3c(o, s.p, s.n > HQ_LOG_URI_MAX ? HQ_LOG_URI_MAX : s.n);
		break;
	case LF_CS_URI_QUERY:
		put_w3c(o, r->query.p, r->query.n > HQ_LOG_URI_MAX ? HQ_LOG_URI_MAX : r->query.n);
		break;
	case LF_CS_URI:
		put_w3c(o, r->target.p, r->target.n > HQ_LOG_URI_MAX ? HQ_LOG_URI_MAX : r->target.n);
		break;
	case LF_SC_STATUS:
		if (r->status > 0)
			put_u64(o, (uint64_t)r->status);
		else
			putc1(o, '-');
		break;
	case LF_SC_SUBSTATUS:
	case LF_SC_WIN32_STATUS: putc1(o, '0'); break;
	case LF_SC_BYTES: put_u64(o, r->bytes_sent); break;
	case LF_CS_BYTES: put_u64(o, r->bytes_recv); break;
	case LF_TIME_TAKEN: put_u64(o, r->time_taken_ms); break;
	case LF_CS_VERSION: put_w3c_str(o, version_text(r->version)); break;
	case LF_CS_HOST: put_w3c(o, r->host.p, r->host.n); break;
	case LF_S_REASON: put_w3c_str(o, r->reason); break;
	case LF_S_QUEUENAME: put_w3c_str(o, r->queue); break;
	case LF_S_REQUEST_ID:
		/* A foreign id was checked (hq_request_id_ok): no blank. */
		if (r->request_id_text.n > 0)
			put_w3c(o, r->request_id_text.p, r->request_id_text.n);
		else if (r->request_id > 0)
			put_u64(o, r->request_id);
		else
			putc1(o, '-');
		break;
	case LF_CS_HEADER:
		s = header(r, f->hdr, f->hdrlen);
		put_w3c(o, s.p, s.n);
		break;
	}
}

/* %h %l %u [%t] "%r" %>s %b "%{Referer}i" "%{User-Agent}i" */
static void
ncsa_line(struct ob *o, const struct hq_logrec *r)
{
	const char *v = version_text(r->version);
	struct hq_str s;

	put_ip(o, r->client);
	put(o, " - - [", 6);
	put_cstr(o, r->clk->clf);
	put(o, "] \"", 3);
	put_ncsa(o, r->method.p, r->method.n);
	putc1(o, ' ');
	put_ncsa(o, r->target.p, r->target.n > HQ_LOG_URI_MAX ? HQ_LOG_URI_MAX : r->target.n);
	if (v != NULL) {
		putc1(o, ' ');
		put_cstr(o, v);
	}
	put(o, "\" ", 2);
	if (r->status > 0)
		put_u64(o, (uint64_t)r->status);
	else
		putc1(o, '-');
	putc1(o, ' ');
	if (r->body_sent > 0)
		put_u64(o, r->body_sent);
	else
		putc1(o, '-');
	put(o, " \"", 2);
	s = header(r, "Referer", 7);
	if (s.n > 0)
		put_ncsa(o, s.p, s.n);
	else
		putc1(o, '-');
	put(o, "\" \"", 3);
	s = header(r, "User-Agent", 10);
	if (s.n > 0)
		put_ncsa(o, s.p, s.n);
	else
		putc1(o, '-');
	putc1(o, '"');
}

size_t
hq_logline(const struct hq_logspec *sp, const struct hq_logrec *rec, char *out)
{
	struct ob o = { out, 0, HQ_LOG_LINE_MAX - 1 };

	if (sp->format == HQ_LOG_NCSA) {
		ncsa_line(&o, rec);
	} else {
		for (size_t i = 0; i < sp->nfields; i++) {
			if (i > 0)
				putc1(&o, ' ');
			w3c_field(&o, &sp->fields[i], rec);
		}
	}
	out[o.n++] = '\n';
	return o.n;
}

size_t
hq_logheader(const struct hq_logspec *sp, time_t now, char *out, size_t cap)
{
	struct ob o = { out, 0, cap };
	struct hq_logclock clk = { 0 };

	if (sp->format != HQ_LOG_W3C || sp->fields_line == NULL)
		return 0;
	hq_logclock_set(&clk, now);
	put_cstr(&o, "#Software: httpq/" PACKAGE_VERSION "\n#Version: 1.0\n#Date: ");
	put_cstr(&o, clk.date);
	putc1(&o, ' ');
	put_cstr(&o, clk.time);
	putc1(&o, '\n');
	put_cstr(&o, sp->fields_line);
	return o.n;
}
