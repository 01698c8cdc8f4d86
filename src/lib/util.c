/*
 * util.c -- allocation wrappers, small string helpers, the send timer.
 *
 * Out of memory is not recoverable in a daemon that promises never to lose a
 * request silently, so every allocation aborts with a message instead of
 * returning NULL (as lighttpd, Redis and h2o do).
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "httpq-internal.h"

static void
oom(size_t n)
{
	fprintf(stderr, "<2>httpq: out of memory allocating %zu bytes\n", n);
	abort();
}

void *
xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		oom(n);
	return p;
}

void *
xcalloc(size_t nmemb, size_t size)
{
	void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);

	if (p == NULL)
		oom(nmemb * size);
	return p;
}

void *
xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (q == NULL)
		oom(n);
	return q;
}

char *
xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *
xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *
xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		oom(strlen(fmt));
	va_end(ap);
	return s;
}

static inline unsigned char
lower(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? c + 32 : c;
}

bool
hq_mem_eq_nocase(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (lower((unsigned char)a[i]) != lower((unsigned char)b[i]))
			return false;
	return true;
}

bool
hq_str_eq_nocase(struct hq_str a, const char *lit)
{
	size_t n = strlen(lit);

	return a.n == n && hq_mem_eq_nocase(a.p, lit, n);
}

/* The port of an IPv4 or IPv6 address, in host order (0 when unset). */
uint16_t
hq_sockaddr_port(const struct sockaddr_storage *ss)
{
	return ntohs(ss->ss_family == AF_INET ?
	    ((const struct sockaddr_in *)ss)->sin_port :
	    ((const struct sockaddr_in6 *)ss)->sin6_port);
}

/* The timer is re-armed on progress, so it bounds how long no byte moves;
 * without the cap, many pending bytes stretched it to hours. */
uint32_t
hq_send_timeout_s(uint64_t pending, uint32_t rate)
{
	uint64_t s;

	if (rate == HQ_TIMEOUT_OFF || rate == 0)
		return HQ_TIMEOUT_OFF;
	s = pending / rate;
	return s >= HQ_SEND_TIMER_MAX_S ? HQ_SEND_TIMER_MAX_S : (uint32_t)s + 1;
}
