/*
 * router.c -- which URL prefix a request reaches, by http.sys's rules.
 *
 * Routes are grouped by (scheme, port), then by host class in matching order:
 * strong '+', explicit host, IP-bound, weak '*'.  The first class holding a
 * match decides; within a class the longest path wins, so each class list is
 * kept sorted by path length, longest first, and the first hit is the answer.
 *
 * Matching runs on every request: it allocates nothing and compares
 * precomputed lengths before bytes.  Routes are allocated one by one so that
 * the pointers handed out stay valid while more routes are added.
 */
#include "config.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "httpq-internal.h"

#define NCLASSES 4

struct entry {
	struct hq_route route;     /* first: a route pointer is an entry pointer */
	size_t host_len;
	int family;                /* AF_INET (also IPv4-mapped IPv6) or AF_INET6 */
	unsigned char ip[16];      /* 4 or 16 significant bytes */
};

struct list {
	struct entry **v;
	size_t n, cap;
};

struct portgroup {
	bool https;
	uint16_t port;
	struct list cls[NCLASSES]; /* indexed by enum hq_host_class */
};

struct hq_router {
	struct portgroup *groups;
	size_t ngroups;
	struct list all;           /* insertion order, for hq_router_count/at */
};

static const unsigned char v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

static inline unsigned char
lower(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? c + 32 : c;
}

static void
list_insert(struct list *l, size_t at, struct entry *e)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 4;
		l->v = xrealloc(l->v, l->cap * sizeof(*l->v));
	}
	memmove(l->v + at + 1, l->v + at, (l->n - at) * sizeof(*l->v));
	l->v[at] = e;
	l->n++;
}

/* An IPv4-mapped IPv6 address is its IPv4 address: a v4 client reaching a
 * dual-stack socket must match "http://10.0.0.1:80/". */
static int
normalize_ip(int family, const unsigned char *ip, unsigned char out[16])
{
	if (family == AF_INET6 && memcmp(ip, v4mapped, 12) == 0) {
		memcpy(out, ip + 12, 4);
		return AF_INET;
	}
	memcpy(out, ip, family == AF_INET ? 4 : 16);
	return family;
}

static bool
same_ip(int fa, const unsigned char *a, int fb, const unsigned char *b)
{
	return fa == fb && memcmp(a, b, fa == AF_INET ? 4 : 16) == 0;
}

struct hq_router *
hq_router_new(void)
{
	return xcalloc(1, sizeof(struct hq_router));
}

void
hq_router_free(struct hq_router *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->all.n; i++) {
		hq_prefix_free(&r->all.v[i]->route.prefix);
		free(r->all.v[i]);
	}
	for (size_t g = 0; g < r->ngroups; g++)
		for (int c = 0; c < NCLASSES; c++)
			free(r->groups[g].cls[c].v);
	free(r->groups);
	free(r->all.v);
	free(r);
}

static struct portgroup *
find_group(const struct hq_router *r, bool https, uint16_t port)
{
	for (size_t i = 0; i < r->ngroups; i++)
		if (r->groups[i].port == port && r->groups[i].https == https)
			return &r->groups[i];
	return NULL;
}

static struct portgroup *
get_group(struct hq_router *r, bool https, uint16_t port)
{
	struct portgroup *g = find_group(r, https, port);

	if (g != NULL)
		return g;
	r->groups = xrealloc(r->groups, (r->ngroups + 1) * sizeof(*r->groups));
	g = &r->groups[r->ngroups++];
	memset(g, 0, sizeof(*g));
	g->https = https;
	g->port = port;
	return g;
}

/* Same host within one class: the class itself for '+' and '*'. */
static bool
same_host(const struct entry *a, const struct entry *b)
{
	switch (a->route.prefix.cls) {
	case HQ_HOST_EXPLICIT:
		return a->host_len == b->host_len &&
		    memcmp(a->route.prefix.host, b->route.prefix.host, a->host_len) == 0;
	case HQ_HOST_IP:
		return same_ip(a->family, a->ip, b->family, b->ip);
	default:
		return true;
	}
}

/* The entry of l with e's host and path, or NULL. */
static struct entry *
list_find(const struct list *l, const struct entry *e)
{
	const struct hq_prefix *p = &e->route.prefix;

	for (size_t i = 0; i < l->n; i++) {
		const struct hq_prefix *q = &l->v[i]->route.prefix;

		if (q->path_len == p->path_len && same_host(l->v[i], e) &&
		    memcmp(q->path, p->path, p->path_len) == 0)
			return l->v[i];
	}
	return NULL;
}

static void
entry_init(struct entry *e, const struct hq_prefix *p)
{
	e->route.prefix = *p;
	e->host_len = p->host ? strlen(p->host) : 0;
	if (p->cls == HQ_HOST_IP)
		e->family = normalize_ip(p->ip_family, p->ip, e->ip);
}

const struct hq_route *
hq_router_find(const struct hq_router *r, const struct hq_prefix *p)
{
	const struct portgroup *g = find_group(r, p->https, p->port);
	struct entry key;
	struct entry *e;

	if (g == NULL)
		return NULL;
	memset(&key, 0, sizeof(key));
	entry_init(&key, p);  /* a view of p: nothing to free */
	e = list_find(&g->cls[p->cls], &key);
	return e ? &e->route : NULL;
}

int
hq_router_add(struct hq_router *r, const struct hq_prefix *p, void *owner, void **conflict)
{
	struct entry *e = xcalloc(1, sizeof(*e)), *dup;
	struct list *l;
	size_t at;

	entry_init(e, p);
	hq_prefix_copy(&e->route.prefix, p);
	e->route.owner = owner;
	l = &get_group(r, p->https, p->port)->cls[p->cls];
	if ((dup = list_find(l, e)) != NULL) {
		if (conflict != NULL)
			*conflict = dup->route.owner;
		hq_prefix_free(&e->route.prefix);
		free(e);
		return -1;
	}
	/* Longest path first; equal lengths keep insertion order. */
	for (at = 0; at < l->n && l->v[at]->route.prefix.path_len >= p->path_len; at++)
		;
	list_insert(l, at, e);
	list_insert(&r->all, r->all.n, e);
	return 0;
}

/* True if the cooked path lies under the prefix path pp (lower case, ends in
 * '/'), on whole segments; "/app" counts as "/app/". */
static bool
path_matches(const char *pp, size_t pn, struct hq_str path)
{
	size_t n;

	if (path.n >= pn)
		n = pn;
	else if (path.n == pn - 1)
		n = pn - 1;
	else
		return false;
	for (size_t i = 0; i < n; i++)
		if (lower((unsigned char)path.p[i]) != (unsigned char)pp[i])
			return false;
	return true;
}

/* The host of a Host value: no ":port", no brackets, no trailing dot. */
static struct hq_str
host_name(struct hq_str h)
{
	const char *e;

	if (h.n == 0)
		return h;
	if (h.p[0] == '[') {
		e = memchr(h.p, ']', h.n);
		return e ? (struct hq_str){ h.p + 1, (size_t)(e - h.p - 1) } :
		    (struct hq_str){ h.p, 0 };
	}
	if ((e = memchr(h.p, ':', h.n)) != NULL)
		h.n = (size_t)(e - h.p);
	if (h.n > 0 && h.p[h.n - 1] == '.')
		h.n--;
	return h;
}

/* The local address as (family, bytes); 0 if none usable. */
static int
local_ip(const struct sockaddr *sa, unsigned char out[16])
{
	if (sa == NULL)
		return 0;
	if (sa->sa_family == AF_INET) {
		memcpy(out, &((const struct sockaddr_in *)sa)->sin_addr, 4);
		return AF_INET;
	}
	if (sa->sa_family == AF_INET6)
		return normalize_ip(AF_INET6,
		    ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr, out);
	return 0;
}

/* Does e's host accept this request?  Wildcards accept every host. */
static bool
host_accepts(const struct entry *e, struct hq_str host, int lfam, const unsigned char *lip)
{
	switch (e->route.prefix.cls) {
	case HQ_HOST_EXPLICIT:
		return e->host_len == host.n && host.n > 0 &&
		    hq_mem_eq_nocase(e->route.prefix.host, host.p, host.n);
	case HQ_HOST_IP:
		return same_ip(e->family, e->ip, lfam, lip);
	default:
		return true;
	}
}

const struct hq_route *
hq_router_match(const struct hq_router *r, bool https, uint16_t port,
    const struct sockaddr *local, struct hq_str host, struct hq_str path,
    enum hq_error *err)
{
	const struct portgroup *g = find_group(r, https, port);
	struct hq_str name = host_name(host);
	unsigned char lip[16];
	int lfam = local_ip(local, lip);
	bool accepted = false;

	for (int c = 0; g != NULL && c < NCLASSES; c++) {
		const struct list *l = &g->cls[c];

		for (size_t i = 0; i < l->n; i++) {
			const struct entry *e = l->v[i];

			if (!host_accepts(e, name, lfam, lip))
				continue;
			accepted = true;
			if (path_matches(e->route.prefix.path, e->route.prefix.path_len, path))
				return &e->route;
		}
	}
	*err = accepted ? HQ_ERR_NOT_FOUND : HQ_ERR_BAD_HOST;
	return NULL;
}

/*
 * Two routers answering one request as if they were one: a class checked
 * earlier wins whatever the paths, then the longer path.  Both matches
 * accept the host, so within one class they have the same host (one name,
 * or the one local address): an equal path is the same prefix, and a wins.
 */
const struct hq_route *
hq_route_pick(const struct hq_route *a, enum hq_error ea, const struct hq_route *b,
    enum hq_error eb, enum hq_error *err)
{
	if (a != NULL && b != NULL) {
		if (a->prefix.cls != b->prefix.cls)
			return a->prefix.cls < b->prefix.cls ? a : b;
		return b->prefix.path_len > a->prefix.path_len ? b : a;
	}
	if (a != NULL || b != NULL)
		return a != NULL ? a : b;
	*err = (ea == HQ_ERR_NOT_FOUND || eb == HQ_ERR_NOT_FOUND) ?
	    HQ_ERR_NOT_FOUND : HQ_ERR_BAD_HOST;
	return NULL;
}

size_t
hq_router_count(const struct hq_router *r)
{
	return r->all.n;
}

const struct hq_route *
hq_router_at(const struct hq_router *r, size_t i)
{
	return i < r->all.n ? &r->all.v[i]->route : NULL;
}
