// fuzz-sources: src/lib/urlprefix.c src/lib/router.c
/*
 * fuzz_router.c -- libFuzzer harness for the router's match, that every
 * request's Host and cooked path go through.
 *
 * The router is built once, from a fixed set of prefixes covering every
 * host class (strong '+', host names, IPv4 and IPv6-bound, weak '*') on a
 * few ports and both schemes.  The input is one request: the first byte
 * picks the scheme, the port and the local address; then comes the Host
 * value up to the first newline, then the path as sent, which is cooked
 * as conn.c does before matching.  The answer must be what http.sys's rules
 * give, computed here the slow way over every route: the first class
 * (strong, explicit host, IP-bound, weak) holding a route whose host
 * accepts the request and whose path is a whole-segment prefix of it, the
 * longest such path in that class.  The answer must not depend on the
 * case of the host or the path, on a ":port" or trailing dot after a host
 * name.  The raw path, uncooked, must not crash the match either.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "httpq-internal.h"

static const char *const prefixes[] = {
	"http://+:80/",
	"http://+:80/app/",
	"http://+:80/App/Deep/Er/",
	"http://www.example.com:80/app/shop/",
	"http://Example.COM:80/",
	"http://example.com:80/only/",
	"http://127.0.0.1:80/ip/",
	"http://[::1]:80/v6/",
	"http://10.0.0.1:80/",
	"http://*:80/",
	"http://*:80/weak/deep/",
	"https://+:443/secure/",
	"https://a.example:443/",
	"https://*:443/",
	"https://[2001:db8::5]:443/v6/",
	"http://+:8080/x/",
	"http://host.example:8080/",
	"http://*:8080/x/y/",
	"http://[2001:db8::5]:8080/",
	"http://127.0.0.1:8080/",
	"http://xn--caf-dma.example:8080/%7Euser/",
};
#define NPREFIXES (sizeof(prefixes) / sizeof(prefixes[0]))

static const uint16_t ports[] = { 80, 443, 8080, 81 };
static const char *const locals[] = {
	NULL, "127.0.0.1", "10.0.0.1", "::1", "::ffff:10.0.0.1", "::ffff:127.0.0.1",
	"2001:db8::5", "unix",
};

static const struct hq_limits limits = {
	HQ_DEFAULT_MAX_REQUEST_BYTES, HQ_DEFAULT_MAX_FIELD_LENGTH,
	HQ_DEFAULT_MAX_URL_LENGTH, HQ_DEFAULT_MAX_HEADERS,
	HQ_DEFAULT_SEGMENT_MAX_LENGTH, HQ_DEFAULT_SEGMENT_MAX_COUNT,
};

static struct hq_router *router;
static struct sockaddr_storage local_ss[sizeof(locals) / sizeof(locals[0])];

static void
check(bool ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_router: %s\n", what);
		abort();
	}
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	router = hq_router_new();
	for (size_t i = 0; i < NPREFIXES; i++) {
		struct hq_prefix p;
		char err[256];

		if (hq_prefix_parse(prefixes[i], &p, err, sizeof(err)) != 0) {
			fprintf(stderr, "fuzz_router: %s: %s\n", prefixes[i], err);
			abort();
		}
		check(hq_router_add(router, &p, (void *)prefixes[i], NULL) == 0,
		    "a fixed prefix conflicts");
		hq_prefix_free(&p);
	}
	for (size_t i = 0; i < sizeof(locals) / sizeof(locals[0]); i++) {
		struct sockaddr_in *in = (struct sockaddr_in *)&local_ss[i];
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&local_ss[i];

		if (locals[i] == NULL)
			continue;
		if (strcmp(locals[i], "unix") == 0) {
			local_ss[i].ss_family = AF_UNIX;
			strcpy(((struct sockaddr_un *)&local_ss[i])->sun_path, "/run/x");
		} else if (inet_pton(AF_INET, locals[i], &in->sin_addr) == 1) {
			in->sin_family = AF_INET;
		} else {
			check(inet_pton(AF_INET6, locals[i], &in6->sin6_addr) == 1, "local");
			in6->sin6_family = AF_INET6;
		}
	}
	return 0;
}

static unsigned char
lc(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

/* The host name of a Host value, the slow way. */
static struct hq_str
ref_host(struct hq_str h)
{
	size_t i;

	if (h.n > 0 && h.p[0] == '[') {
		for (i = 1; i < h.n; i++)
			if (h.p[i] == ']')
				return (struct hq_str){ h.p + 1, i - 1 };
		return (struct hq_str){ h.p, 0 };
	}
	for (i = 0; i < h.n && h.p[i] != ':'; i++)
		;
	if (i > 0 && h.p[i - 1] == '.')
		i--;
	return (struct hq_str){ h.p, i };
}

/* The local address as 4 or 16 bytes, an IPv4-mapped address as IPv4. */
static int
ref_local(const struct sockaddr *sa, unsigned char ip[16])
{
	static const unsigned char mapped[12] = { [10] = 0xff, [11] = 0xff };

	if (sa == NULL)
		return 0;
	if (sa->sa_family == AF_INET) {
		memcpy(ip, &((const struct sockaddr_in *)sa)->sin_addr, 4);
		return AF_INET;
	}
	if (sa->sa_family != AF_INET6)
		return 0;
	memcpy(ip, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
	if (memcmp(ip, mapped, 12) == 0) {
		memmove(ip, ip + 12, 4);
		return AF_INET;
	}
	return AF_INET6;
}

static bool
ref_host_accepts(const struct hq_prefix *p, struct hq_str name, int lfam,
    const unsigned char *lip)
{
	unsigned char pip[16];
	int pfam = p->ip_family;

	switch (p->cls) {
	case HQ_HOST_EXPLICIT:
		if (name.n == 0 || strlen(p->host) != name.n)
			return false;
		for (size_t i = 0; i < name.n; i++)
			if (lc((unsigned char)name.p[i]) != lc((unsigned char)p->host[i]))
				return false;
		return true;
	case HQ_HOST_IP:
		memcpy(pip, p->ip, 16);
		if (pfam == AF_INET6 && memcmp(pip, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0) {
			memmove(pip, pip + 12, 4);
			pfam = AF_INET;
		}
		return pfam == lfam && memcmp(pip, lip, pfam == AF_INET ? 4 : 16) == 0;
	default:
		return true;
	}
}

/* Whole segments, without case: "/app" is under "/app/". */
static bool
ref_path_under(const struct hq_prefix *p, struct hq_str path)
{
	size_t n = p->path_len;

	if (path.n + 1 == n)
		n--;
	else if (path.n < n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (lc((unsigned char)path.p[i]) != lc((unsigned char)p->path[i]))
			return false;
	return true;
}

static const struct hq_route *
ref_match(bool https, uint16_t port, const struct sockaddr *local, struct hq_str host,
    struct hq_str path, enum hq_error *err)
{
	struct hq_str name = ref_host(host);
	unsigned char lip[16] = { 0 };
	int lfam = ref_local(local, lip);
	bool accepted = false;
	static const enum hq_host_class order[] = {
		HQ_HOST_STRONG, HQ_HOST_EXPLICIT, HQ_HOST_IP, HQ_HOST_WEAK,
	};

	for (size_t c = 0; c < 4; c++) {
		const struct hq_route *best = NULL;

		for (size_t i = 0; i < hq_router_count(router); i++) {
			const struct hq_route *r = hq_router_at(router, i);
			const struct hq_prefix *p = &r->prefix;

			if (p->https != https || p->port != port || p->cls != order[c] ||
			    !ref_host_accepts(p, name, lfam, lip))
				continue;
			accepted = true;
			if (ref_path_under(p, path) &&
			    (best == NULL || p->path_len > best->prefix.path_len))
				best = r;
		}
		if (best != NULL)
			return best;
	}
	*err = accepted ? HQ_ERR_NOT_FOUND : HQ_ERR_BAD_HOST;
	return NULL;
}

static void
same(const struct hq_route *a, enum hq_error ea, const struct hq_route *b,
    enum hq_error eb, const char *what)
{
	if (a != b || (a == NULL && ea != eb)) {
		fprintf(stderr, "fuzz_router: %s: %s (%d) vs %s (%d)\n", what,
		    a ? (const char *)a->owner : "none", (int)ea,
		    b ? (const char *)b->owner : "none", (int)eb);
		abort();
	}
}

static void
match_all(bool https, uint16_t port, const struct sockaddr *local, struct hq_str host,
    struct hq_str path)
{
	enum hq_error e = HQ_OK, re = HQ_OK, e2 = HQ_OK;
	const struct hq_route *r, *ref, *r2;
	char *h2 = malloc(host.n + 8), *p2 = malloc(path.n + 1);
	struct hq_str name = ref_host(host);

	r = hq_router_match(router, https, port, local, host, path, &e);
	ref = ref_match(https, port, local, host, path, &re);
	same(r, e, ref, re, "router vs the rules");
	if (r != NULL)
		check(r->prefix.https == https && r->prefix.port == port, "scheme/port");

	/* Case does not matter, in the host or the path. */
	for (size_t i = 0; i < host.n; i++) {
		unsigned char c = (unsigned char)host.p[i];

		h2[i] = (char)(c >= 'a' && c <= 'z' ? c - 32 : c >= 'A' && c <= 'Z' ? c + 32 : c);
	}
	for (size_t i = 0; i < path.n; i++) {
		unsigned char c = (unsigned char)path.p[i];

		p2[i] = (char)(c >= 'a' && c <= 'z' ? c - 32 : c);
	}
	r2 = hq_router_match(router, https, port, local, (struct hq_str){ h2, host.n },
	    (struct hq_str){ p2, path.n }, &e2);
	same(r, e, r2, e2, "case changes the route");

	/* Nor does a port or a trailing dot after a plain host name. */
	if (name.n == host.n && (host.n == 0 || host.p[host.n - 1] != '.') &&
	    memchr(host.p, '[', host.n) == NULL) {
		memcpy(h2, host.p, host.n);
		memcpy(h2 + host.n, ".:8080", 6);
		r2 = hq_router_match(router, https, port, local,
		    (struct hq_str){ h2, host.n + 6 }, path, &e2);
		same(r, e, r2, e2, "\".:port\" after the host changes the route");
	}
	free(h2);
	free(p2);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *nl, *raw;
	struct hq_str host, query;
	size_t rawlen, cooklen = 0;
	const struct sockaddr *local;
	bool https;
	uint16_t port;
	char *cooked;
	unsigned li;

	if (size < 1)
		return 0;
	https = data[0] & 1;
	port = ports[(data[0] >> 1) & 3];
	li = (data[0] >> 3) % (sizeof(locals) / sizeof(locals[0]));
	local = locals[li] ? (const struct sockaddr *)&local_ss[li] : NULL;
	data++, size--;
	nl = memchr(data, '\n', size);
	host = (struct hq_str){ (const char *)data, nl ? (size_t)(nl - (const char *)data) : size };
	raw = nl ? nl + 1 : (const char *)data + size;
	rawlen = (size_t)((const char *)data + size - raw);

	/* As conn.c: the cooked path is matched. */
	cooked = malloc(rawlen + 2);
	if (hq_url_cook(raw, rawlen, &limits, cooked, rawlen + 2, &cooklen, &query) == HQ_OK)
		match_all(https, port, local, host, (struct hq_str){ cooked, cooklen });
	/* Whatever the path, the match must not crash. */
	match_all(https, port, local, host, (struct hq_str){ raw, rawlen });
	free(cooked);
	return 0;
}
