/*
 * util.c -- allocation wrappers, small string helpers, the send timer, and
 * the one helper each for the monotonic clock, address text and whole writes.
 *
 * Out of memory is not recoverable in a daemon that promises never to lose a
 * request silently, so every allocation aborts with a message instead of
 * returning NULL (as lighttpd, Redis and h2o do).
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
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
	/* Most names come spelled as the literal they are compared with
	 * ("Content-Length"): one memcmp, not a loop of case folds. */
	if (memcmp(a, b, n) == 0)
		return true;
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

uint64_t
hq_mono_us(bool coarse)
{
	struct timespec ts;

	clock_gettime(coarse ? CLOCK_MONOTONIC_COARSE : CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

uint64_t
hq_now_ms(void)
{
	return hq_mono_us(true) / 1000;
}

int
hq_addr_text(const struct sockaddr *sa, unsigned flags, char *buf, size_t size)
{
	char ip[INET6_ADDRSTRLEN];
	uint16_t port;
	int n;

	if (size > 0)
		buf[0] = '\0';
	if (sa == NULL)
		return -1;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;

		inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof(ip));
		port = ntohs(sin->sin_port);
		n = (flags & HQ_ADDR_PORT) ? snprintf(buf, size, "%s:%u", ip, port) :
		    snprintf(buf, size, "%s", ip);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;
		const struct in6_addr *a = &sin6->sin6_addr;
		bool v4 = (flags & HQ_ADDR_UNMAP) && IN6_IS_ADDR_V4MAPPED(a);

		if (v4)
			inet_ntop(AF_INET, &a->s6_addr[12], ip, sizeof(ip));
		else
			inet_ntop(AF_INET6, a, ip, sizeof(ip));
		port = ntohs(sin6->sin6_port);
		if (!(flags & HQ_ADDR_PORT))
			n = snprintf(buf, size, "%s", ip);
		else
			n = snprintf(buf, size, v4 ? "%s:%u" : "[%s]:%u", ip, port);
	} else {
		return -1;
	}
	return n < 0 ? -1 : n;
}

int
hq_write_all(int fd, const void *buf, size_t n, size_t *written)
{
	const char *p = buf;
	size_t done = 0;
	int rc = 0;

	while (done < n) {
		ssize_t w = write(fd, p + done, n - done);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			if (w == 0)
				errno = ENOSPC;
			rc = -1;
			break;
		}
		done += (size_t)w;
	}
	if (written != NULL)
		*written = done;
	return rc;
}
