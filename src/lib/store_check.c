/*
 * store_check.c -- the setup store's checks across entries and files, run
 * once httpq.yaml and every drop-in are loaded: duplicates, references
 * between sections, and SSL bindings.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "store_priv.h"

/* ---------------------------------------------------------------------
 * Checks across entries and files, once everything is merged
 * ------------------------------------------------------------------- */

static void
xerr(struct ld *ld, const struct hq_origin *at, const char *path,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void
xerr(struct ld *ld, const struct hq_origin *at, const char *path,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	hq_st_errors_vadd(ld->errs, at, path, fmt, ap);
	va_end(ap);
}

/*
 * Duplicate checks sort, so that a store of a hundred thousand entries is
 * checked in well under a second (pairwise, it took minutes).  Each entry
 * with a key gets a struct dkey; first_equal() returns, for every entry
 * index, the index of the first entry with the same key (itself if none
 * comes before it), or SIZE_MAX for entries without a key.
 */
struct dkey {
	const void *p;
	size_t len;
	size_t i;
};

static int
cmp_dkey(const void *a, const void *b)
{
	const struct dkey *x = a, *y = b;
	int c;

	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	if ((c = memcmp(x->p, y->p, x->len)) != 0)
		return c;
	return x->i < y->i ? -1 : x->i > y->i;
}

static size_t *
first_equal(struct dkey *k, size_t nk, size_t n)
{
	size_t *first = xmalloc((n ? n : 1) * sizeof(*first));

	for (size_t i = 0; i < n; i++)
		first[i] = SIZE_MAX;
	if (nk > 0)
		qsort(k, nk, sizeof(*k), cmp_dkey);
	for (size_t a = 0, b; a < nk; a = b) {
		for (b = a; b < nk && k[b].len == k[a].len &&
		    memcmp(k[b].p, k[a].p, k[a].len) == 0; b++)
			first[k[b].i] = k[a].i;
	}
	return first;
}

/* first_equal() over strings; NULL strings have no key. */
static size_t *
first_equal_str(const char *(*get)(const struct hq_store *, size_t),
    const struct hq_store *s, size_t n)
{
	struct dkey *k = xcalloc(n ? n : 1, sizeof(*k));
	size_t nk = 0, *first;

	for (size_t i = 0; i < n; i++) {
		const char *v = get(s, i);

		if (v != NULL)
			k[nk++] = (struct dkey){ v, strlen(v), i };
	}
	first = first_equal(k, nk, n);
	free(k);
	return first;
}

static bool
is_dup(const size_t *first, size_t i)
{
	return first[i] != SIZE_MAX && first[i] != i;
}

static const char *
group_name(const struct hq_store *s, size_t i)
{
	return s->groups[i].name;
}

static const char *
queue_name(const struct hq_store *s, size_t i)
{
	return s->queues[i].name;
}

static const char *
urlacl_text(const struct hq_store *s, size_t i)
{
	return s->urlacls[i].prefix.text;
}

static void
check_group_names(struct ld *ld)
{
	const struct hq_store *s = ld->s;
	size_t *first = first_equal_str(group_name, s, s->ngroups);

	for (size_t i = 0; i < s->ngroups; i++) {
		const struct hq_store_group *g = &s->groups[i], *o;
		char *path;

		if (!is_dup(first, i))
			continue;
		o = &s->groups[first[i]];
		path = hq_st_join(ld->gpath[i], "name");
		xerr(ld, &g->at, path, "duplicate url group name "
		    "\"%s\" (first defined at %s:%d)", g->name,
		    o->at.file, o->at.line);
		free(path);
	}
	free(first);
}

static void
check_queue_names(struct ld *ld)
{
	const struct hq_store *s = ld->s;
	size_t *first = first_equal_str(queue_name, s, s->nqueues);

	for (size_t i = 0; i < s->nqueues; i++) {
		const struct hq_store_queue *q = &s->queues[i], *o;
		char *path;

		if (!is_dup(first, i))
			continue;
		o = &s->queues[first[i]];
		path = hq_st_join(ld->qpath[i], "name");
		xerr(ld, &q->at, path, "duplicate queue name "
		    "\"%s\" (first defined at %s:%d)", q->name,
		    o->at.file, o->at.line);
		free(path);
	}
	free(first);
}

/* A queue is served by a module or by attached processes (exactly one
 * of the two keys: the loader checks that, K_ONE_OF). */
static void
check_queue_kinds(struct ld *ld)
{
	for (size_t i = 0; i < ld->s->nqueues; i++) {
		struct hq_store_queue *q = &ld->s->queues[i];

		q->attach = q->attach_at.file != NULL;
		if (q->attach && q->noptions > 0) {
			char *path = hq_st_join(ld->qpath[i], "options");

			xerr(ld, &q->options[0].at, path,
			    "options are given to a module; an attach queue has none");
			free(path);
		}
	}
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void
check_queue_refs(struct ld *ld)
{
	const struct hq_store *s = ld->s;
	const char **names = xcalloc(s->nqueues + 1, sizeof(*names));
	size_t n = 0;

	for (size_t i = 0; i < s->nqueues; i++)
		if (s->queues[i].name != NULL)
			names[n++] = s->queues[i].name;
	if (n > 0)
		qsort(names, n, sizeof(*names), cmp_str);
	for (size_t i = 0; i < s->ngroups; i++) {
		const struct hq_store_group *g = &s->groups[i];
		const char *best = NULL;
		char *path, buf[80];

		if (g->queue == NULL || (n > 0 && bsearch(&g->queue, names, n,
		    sizeof(*names), cmp_str) != NULL))
			continue;
		path = hq_st_join(ld->gpath[i], "queue");
		/* A suggestion costs a pass over the names: only for the
		 * messages that are kept. */
		if (ld->errs->n < HQ_ERRORS_MAX)
			best = hq_st_closest(g->queue, names, n);
		xerr(ld, &g->queue_at, path, "no queue named %s%s%s%s",
		    hq_st_quote(g->queue, buf, sizeof(buf)),
		    best ? " (did you mean \"" : "", best ? best : "",
		    best ? "\"?)" : "");
		free(path);
	}
	free(names);
}

/* An https prefix needs an SSL binding on its port: an ipport binding for
 * that port, or a hostnameport binding for it (http.sys would accept the
 * registration and fail every handshake; we say so at load).  bound has a
 * bit per port with a binding. */
static void
check_https_bound(struct ld *ld, const struct hq_prefix *p,
    const struct hq_origin *at, const char *path, const unsigned char *bound)
{
	if (!p->https || (bound[p->port / 8] & (1u << (p->port % 8))))
		return;
	xerr(ld, at, path, "https prefix \"%s\" has no SSL binding for port %u: "
	    "add an sslcerts entry with ipport \"0.0.0.0:%u\" or hostnameport "
	    "\"NAME:%u\"", p->text, p->port, p->port, p->port);
}

static const struct hq_prefix *
pref_prefix(const struct ld *ld, size_t i)
{
	return &ld->s->groups[ld->prefs[i].g].prefixes[ld->prefs[i].j];
}

/*
 * Checks every prefix against the ones loaded before it: the same text
 * twice, or http and https on one port.  The first earlier prefix that
 * conflicts is named, as a pairwise check would, but with a sort and a
 * table of the first prefix of each scheme on each port.
 */
static void
check_prefixes(struct ld *ld)
{
	const struct hq_store *s = ld->s;
	unsigned char *bound = xcalloc(65536 / 8, 1);
	size_t (*onport)[2] = xmalloc(65536 * sizeof(*onport));
	struct dkey *k = xcalloc(ld->nprefs ? ld->nprefs : 1, sizeof(*k));
	size_t *first;

	for (size_t i = 0; i < s->nsslcerts; i++)
		bound[s->sslcerts[i].port / 8] |=
		    (unsigned char)(1u << (s->sslcerts[i].port % 8));
	for (size_t i = 0; i < 65536; i++)
		onport[i][0] = onport[i][1] = SIZE_MAX;
	for (size_t i = 0; i < ld->nprefs; i++) {
		const struct hq_prefix *p = pref_prefix(ld, i);

		k[i] = (struct dkey){ p->text, strlen(p->text), i };
		if (onport[p->port][p->https] == SIZE_MAX)
			onport[p->port][p->https] = i;
	}
	first = first_equal(k, ld->nprefs, ld->nprefs);
	for (size_t i = 0; i < ld->nprefs; i++) {
		const struct pref *r = &ld->prefs[i];
		const struct hq_prefix *p = pref_prefix(ld, i);
		const struct hq_origin *at = &s->groups[r->g].prefix_at[r->j];
		size_t other = onport[p->port][!p->https];
		size_t t = is_dup(first, i) ? first[i] : SIZE_MAX;
		const struct hq_store_group *og;
		const struct hq_origin *oat;

		check_https_bound(ld, p, at, r->path, bound);
		if (t == SIZE_MAX && (other == SIZE_MAX || other > i))
			continue;
		if (t == SIZE_MAX || (other < t))
			t = other; /* the scheme clash comes first */
		og = &s->groups[ld->prefs[t].g];
		oat = &og->prefix_at[ld->prefs[t].j];
		if (t == first[i] && is_dup(first, i))
			xerr(ld, at, r->path, "prefix \"%s\" already registered "
			    "by url group \"%s\" at %s:%d", p->text,
			    og->name ? og->name : "?", oat->file, oat->line);
		else
			xerr(ld, at, r->path, "http and https cannot share port "
			    "%u (see %s:%d)", p->port, oat->file, oat->line);
	}
	free(first);
	free(k);
	free(onport);
	free(bound);
}

static void
check_listens(struct ld *ld)
{
	const struct hq_store *s = ld->s;
	struct dkey *k = xcalloc(s->nlistens ? s->nlistens : 1, sizeof(*k));
	size_t *first;

	for (size_t i = 0; i < s->nlistens; i++)
		k[i] = (struct dkey){ &s->listens[i].addr, s->listens[i].addrlen, i };
	first = first_equal(k, s->nlistens, s->nlistens);
	for (size_t i = 0; i < s->nlistens; i++) {
		const struct hq_listen *l = &s->listens[i], *o;

		if (!is_dup(first, i))
			continue;
		o = &s->listens[first[i]];
		xerr(ld, &l->at, ld->lpath[i], "duplicate iplisten "
		    "entry \"%s\" (first defined at %s:%d)", l->text,
		    o->at.file, o->at.line);
	}
	free(first);
	free(k);
}

static void
check_access_logs(struct ld *ld)
{
	const struct hq_store *s = ld->s;

	for (size_t i = 0; i < s->ngroups; i++) {
		const struct hq_store_alog *a = &s->groups[i].access_log;
		char *path;

		if (a->path == NULL || a->format != HQ_LOG_NCSA || a->nfields == 0)
			continue;
		path = hq_st_join(ld->gpath[i], "access_log.fields");
		xerr(ld, &a->at, path, "fields apply to the w3c format; "
		    "ncsa combined has fixed fields");
		free(path);
	}
}

static void
check_urlacls(struct ld *ld)
{
	const struct hq_store *s = ld->s;
	size_t *first = first_equal_str(urlacl_text, s, s->nurlacls);

	for (size_t i = 0; i < s->nurlacls; i++) {
		const struct hq_store_urlacl *a = &s->urlacls[i], *o;

		if (a->user == NULL && a->group == NULL)
			xerr(ld, &a->at, ld->upath[i], "a reservation needs a "
			    "user, a group or both");
		if (!a->listen && !a->delegate)
			xerr(ld, &a->at, ld->upath[i], "grants nothing: listen "
			    "and delegate are both false");
		if (!is_dup(first, i))
			continue;
		o = &s->urlacls[first[i]];
		xerr(ld, &a->at, ld->upath[i], "duplicate urlacl for "
		    "\"%s\" (first defined at %s:%d)", a->prefix.text,
		    o->at.file, o->at.line);
	}
	free(first);
}

/* "NAME:PORT": a host name of letters, digits, '-' and '.', or "*". */
static int
parse_hostport(const char *text, char **host, uint16_t *port)
{
	const char *colon = strrchr(text, ':');
	uint64_t pn;

	if (colon == NULL || colon == text ||
	    colon - text > HQ_HOST_NAME_MAX_LEN ||
	    hq_st_parse_uint(colon + 1, &pn) < 0 || pn < 1 || pn > 65535)
		return -1;
	for (const char *c = text; c < colon; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		    (*c >= '0' && *c <= '9') || *c == '-' || *c == '.' ||
		    (*c == '*' && colon - text == 1)))
			return -1;
	*host = xstrndup(text, (size_t)(colon - text));
	for (char *c = *host; *c; c++)
		if (*c >= 'A' && *c <= 'Z')
			*c = (char)(*c + 32);
	*port = (uint16_t)pn;
	return 0;
}

/* Fills by_host, host, addr and port from ipport or hostnameport. */
static void
sslcert_binding(struct ld *ld, struct hq_store_sslcert *c, const char *path)
{
	char *kp, buf[80];
	const char *colon;
	size_t hn;

	if (c->ipport != NULL && c->hostnameport != NULL) {
		xerr(ld, &c->at, path, "ipport and hostnameport exclude each "
		    "other: a binding is for one of them");
		return;
	}
	if (c->ipport == NULL && c->hostnameport == NULL) {
		xerr(ld, &c->at, path, "missing required key \"ipport\" or "
		    "\"hostnameport\"");
		return;
	}
	if (c->ipport != NULL) {
		c->text = xstrdup(c->ipport);
		if (hq_st_parse_listen(c->ipport, &c->addr, &c->addrlen) == 0 &&
		    (c->port = hq_sockaddr_port(&c->addr)) != 0)
			return;
		kp = hq_st_join(path, "ipport");
		xerr(ld, &c->at, kp, "expected IP:PORT (\"0.0.0.0:443\", "
		    "\"[::1]:8443\"), got %s", hq_st_quote(c->ipport, buf, sizeof(buf)));
	} else {
		c->by_host = true;
		c->text = xstrdup(c->hostnameport);
		if (parse_hostport(c->hostnameport, &c->host, &c->port) == 0)
			return;
		kp = hq_st_join(path, "hostnameport");
		colon = strrchr(c->hostnameport, ':');
		hn = colon ? (size_t)(colon - c->hostnameport) :
		    strlen(c->hostnameport);
		if (hn > HQ_HOST_NAME_MAX_LEN)
			xerr(ld, &c->at, kp, "expected NAME:PORT with a name of "
			    "at most %d characters, got %zu characters in %s",
			    HQ_HOST_NAME_MAX_LEN, hn,
			    hq_st_quote(c->hostnameport, buf, sizeof(buf)));
		else
			xerr(ld, &c->at, kp, "expected NAME:PORT "
			    "(\"www.example.com:443\"), got %s",
			    hq_st_quote(c->hostnameport, buf, sizeof(buf)));
	}
	free(kp);
}

/* The bytes that name a binding: the same for two entries that bind the
 * same NAME:PORT or IP:PORT; NULL when the binding did not parse. */
static unsigned char *
binding_key(const struct hq_store_sslcert *c, size_t *len)
{
	unsigned char *k;

	if (c->text == NULL || (c->by_host ? c->host == NULL : c->addrlen == 0))
		return NULL;
	if (c->by_host) {
		*len = 3 + strlen(c->host);
		k = xmalloc(*len);
		k[0] = 'H';
		k[1] = (unsigned char)(c->port >> 8);
		k[2] = (unsigned char)c->port;
		memcpy(k + 3, c->host, *len - 3);
	} else {
		*len = 1 + (size_t)c->addrlen;
		k = xmalloc(*len);
		k[0] = 'A';
		memcpy(k + 1, &c->addr, (size_t)c->addrlen);
	}
	return k;
}

/*
 * Parses every binding first, since the duplicate check needs them all, but
 * reports each entry's errors together, in entry order.
 */
static void
check_sslcerts(struct ld *ld)
{
	struct hq_store *s = ld->s;
	struct hq_errors *errs = ld->errs;
	struct hq_errors *mine = xcalloc(s->nsslcerts + 1, sizeof(*mine));
	struct dkey *k = xcalloc(s->nsslcerts + 1, sizeof(*k));
	size_t nk = 0, *first;

	for (size_t i = 0; i < s->nsslcerts; i++) {
		size_t len;
		unsigned char *key;

		ld->errs = &mine[i];
		sslcert_binding(ld, &s->sslcerts[i], ld->spath[i]);
		if ((key = binding_key(&s->sslcerts[i], &len)) != NULL)
			k[nk++] = (struct dkey){ key, len, i };
	}
	ld->errs = errs;
	first = first_equal(k, nk, s->nsslcerts);
	for (size_t i = 0; i < s->nsslcerts; i++) {
		const struct hq_store_sslcert *c = &s->sslcerts[i], *o;

		for (size_t j = 0; j < mine[i].n; j++)
			hq_errors_add(errs, NULL, NULL, "%s", mine[i].msg[j]);
		hq_errors_free(&mine[i]);
		if (c->clientcert != HQ_CLIENTCERT_NONE && c->cafile == NULL)
			xerr(ld, &c->at, ld->spath[i], "clientcert %s needs a "
			    "cafile to check client certificates against",
			    hq_clientcert_name(c->clientcert));
		if (!is_dup(first, i))
			continue;
		o = &s->sslcerts[first[i]];
		xerr(ld, &c->at, ld->spath[i], "duplicate SSL binding "
		    "for \"%s\" (first defined at %s:%d)", c->text,
		    o->at.file, o->at.line);
	}
	for (size_t i = 0; i < nk; i++)
		free((void *)k[i].p);
	free(k);
	free(mine);
	free(first);
	for (size_t i = 0; i < s->nsslcerts; i++) {
		s->sslcerts[i].alpn_h2 = s->sslcerts[i].http2 && s->http2.enabled;
		free(s->sslcerts[i].ipport);
		free(s->sslcerts[i].hostnameport);
		s->sslcerts[i].ipport = s->sslcerts[i].hostnameport = NULL;
	}
}

/*
 * url_group_states (httpqctl's drop-in) over the groups' own state: the
 * last entry for a name wins.  An entry whose group is gone is ignored, so
 * that removing a group from its file never makes the store unloadable.
 */
static void
apply_group_states(struct ld *ld)
{
	struct hq_store *s = ld->s;

	for (size_t i = 0; i < s->ngstates; i++)
		for (size_t g = 0; g < s->ngroups; g++)
			if (s->gstates[i].name && s->groups[g].name &&
			    strcmp(s->gstates[i].name, s->groups[g].name) == 0)
				s->groups[g].state = s->gstates[i].state;
}

void
hq_st_check_all(struct ld *ld)
{
	apply_group_states(ld);
	check_listens(ld);
	check_access_logs(ld);
	check_urlacls(ld);
	check_sslcerts(ld);
	check_group_names(ld);
	check_queue_names(ld);
	check_queue_kinds(ld);
	check_queue_refs(ld);
	check_prefixes(ld);
}
