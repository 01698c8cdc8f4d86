/*
 * cache.c -- the response cache, in front of the queues (http.sys's
 * kernel response cache).
 *
 * A module marks a response with api->cache_policy(); request.c hands
 * what the module sends to a capture here, and a capture that ends
 * complete and cacheable (cacherules.c) becomes an entry.  A later GET or
 * HEAD for the same key is answered by the worker that reads it, after
 * routing and before queue admission: no module call, no queue slot.
 *
 * One table for the daemon, as http.sys has one cache: one miss per URL
 * whatever the worker, one exact memory limit, and `show cachestate` and
 * `delete cache` answered at once on the main thread.  Entries are
 * immutable once inserted (one allocation each); the table is guarded by
 * a reader-writer lock that prefers writers.  A hit takes the read lock,
 * copies the entry into the connection's output and bumps two relaxed
 * atomics of the entry (hits, the clock's reference bit): hits on all
 * workers run in parallel, and only a miss that inserts, the scavenger,
 * a flush and an eviction write.  Per-worker caches would make hits
 * lock-free but cost a miss and a copy per worker, divide the limit and
 * need a round trip through every worker's mailbox for show and flush.
 *
 * Eviction at the limit is least-recently-used approximated by the clock
 * algorithm (a hit sets the entry's reference bit, the hand clears it and
 * evicts the first entry found clear), so that a hit never moves a list.
 * The scavenger (hq_cache_tick, main thread, every second) frees entries
 * whose time to live is over, entries unused for cache.scavenger_period
 * and, after a reload, every entry: a key names a URL group by its index
 * in one snapshot, so entries never outlive their snapshot (a reload
 * empties the cache, as removing a URL from a group flushes it in
 * http.sys).  Expired entries are never served, scavenged or not.
 *
 * Hits and misses are counted per worker, on separate cache lines, and
 * summed when shown.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "httpqd.h"

#define HQ_CACHE_WORKERS_MAX 257   /* server.workers is at most 256 */
#define HQ_CACHE_BUCKETS_MIN 256
/* Entries of one hash chain at most: keys an attacker makes collide
 * (many Hosts or queries) cost a bounded walk, and are not kept beyond. */
#define HQ_CACHE_CHAIN_MAX   16

struct entry {
	struct entry *hnext;          /* hash chain */
	struct entry *prev, *next;    /* the clock's ring */
	uint64_t hash;
	unsigned gidx;                /* URL group, in the snapshot of K.gen */
	bool https;
	bool vary_ae;
	bool has_server;
	int policy;
	uint32_t ttl;
	uint64_t created_ms, expires_ms; /* expires_ms 0: no time to live */
	int64_t last_modified;
	atomic_uint_fast64_t hits;
	atomic_uint_fast64_t last_used_ms;
	atomic_bool referenced;
	size_t bytes;                 /* what it counts against the limits */
	struct hq_str host, path, query, ae, etag;
	const char *url, *group;
	const char *head, *head304, *body;
	size_t headlen, head304len, bodylen;
	char data[];
};

struct hq_capture {
	int policy;
	uint32_t ttl;
	uint64_t limit;               /* cache.max_response_bytes */
	int64_t cl;                   /* the module's Content-Length, or -1 */
	bool vary_ae, has_server;
	int64_t last_modified;
	char *etag;
	size_t etaglen;
	struct hq_buf head, head304, body;
};

/* One worker's counters, alone on its cache line. */
struct counters {
	_Alignas(64) atomic_uint_fast64_t hits, misses;
	char pad[64 - 2 * sizeof(atomic_uint_fast64_t)];
};

static struct {
	pthread_once_t once;
	pthread_rwlock_t lock;
	uint64_t seed;                /* of the hash, drawn at start */
	struct entry **buckets;
	size_t nbuckets;
	atomic_size_t n;              /* entries (read without the lock) */
	struct entry *hand;           /* the clock; NULL when empty */
	uint64_t bytes;
	unsigned gen;                 /* the snapshot the entries belong to */
	uint64_t *gbytes;             /* per URL group of that snapshot */
	size_t ngbytes;
	atomic_uint_fast64_t next_expiry_ms; /* earliest expires_ms, or 0 */
	uint64_t last_scan_ms;
	atomic_uint_fast64_t inserts, evictions, flushed;
	struct counters ctr[HQ_CACHE_WORKERS_MAX];
} K = { .once = PTHREAD_ONCE_INIT };

static void
cache_init(void)
{
	pthread_rwlockattr_t a;

	pthread_rwlockattr_init(&a);
	/* A miss must get its entry in while hits keep coming. */
	pthread_rwlockattr_setkind_np(&a, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&K.lock, &a);
	pthread_rwlockattr_destroy(&a);
	K.nbuckets = HQ_CACHE_BUCKETS_MIN;
	K.buckets = xcalloc(K.nbuckets, sizeof(*K.buckets));
	if (getrandom(&K.seed, sizeof(K.seed), 0) != sizeof(K.seed))
		K.seed = hq_mono_us(false) * 0x9e3779b97f4a7c15ULL;
}

static void
rdlock(void)
{
	pthread_once(&K.once, cache_init);
	pthread_rwlock_rdlock(&K.lock);
}

static void
wrlock(void)
{
	pthread_once(&K.once, cache_init);
	pthread_rwlock_wrlock(&K.lock);
}

static void
unlock(void)
{
	pthread_rwlock_unlock(&K.lock);
}

static struct counters *
counters(const struct hq_worker *w)
{
	return &K.ctr[w->id >= 0 && w->id < HQ_CACHE_WORKERS_MAX ? w->id : 0];
}

/* --- the table (under the write lock) -------------------------------------- */

static bool
same_str(struct hq_str a, struct hq_str b)
{
	return a.n == b.n && (a.n == 0 || memcmp(a.p, b.p, a.n) == 0);
}

static bool
same_base(const struct entry *e, uint64_t hash, bool https, unsigned gidx,
    struct hq_str host, struct hq_str path, struct hq_str query)
{
	return e->hash == hash && e->https == https && e->gidx == gidx &&
	    e->host.n == host.n && hq_mem_eq_nocase(e->host.p, host.p, host.n) &&
	    same_str(e->path, path) && same_str(e->query, query);
}

static void
unlink_entry(struct entry *e)
{
	struct entry **pp = &K.buckets[e->hash & (K.nbuckets - 1)];

	while (*pp != e)
		pp = &(*pp)->hnext;
	*pp = e->hnext;
	if (e->next == e) {
		K.hand = NULL;
	} else {
		e->prev->next = e->next;
		e->next->prev = e->prev;
		if (K.hand == e)
			K.hand = e->next;
	}
	K.bytes -= e->bytes;
	if (e->gidx < K.ngbytes)
		K.gbytes[e->gidx] -= e->bytes;
	atomic_fetch_sub_explicit(&K.n, 1, memory_order_relaxed);
	free(e);
}

static void
link_entry(struct entry *e)
{
	struct entry **b = &K.buckets[e->hash & (K.nbuckets - 1)];

	e->hnext = *b;
	*b = e;
	if (K.hand == NULL) {
		e->prev = e->next = e;
		K.hand = e;
	} else {
		/* just behind the hand: the last one it reaches */
		e->next = K.hand;
		e->prev = K.hand->prev;
		e->prev->next = e;
		K.hand->prev = e;
	}
	K.bytes += e->bytes;
	if (e->gidx < K.ngbytes)
		K.gbytes[e->gidx] += e->bytes;
	atomic_fetch_add_explicit(&K.n, 1, memory_order_relaxed);
}

static void
grow(void)
{
	size_t nb = K.nbuckets * 2;
	struct entry **b = xcalloc(nb, sizeof(*b));

	for (size_t i = 0; i < K.nbuckets; i++)
		for (struct entry *e = K.buckets[i], *next; e; e = next) {
			next = e->hnext;
			e->hnext = b[e->hash & (nb - 1)];
			b[e->hash & (nb - 1)] = e;
		}
	free(K.buckets);
	K.buckets = b;
	K.nbuckets = nb;
}

static void
remove_all(void)
{
	while (K.hand != NULL)
		unlink_entry(K.hand);
}

/* The clock: evicts one entry (of group g, unless g is -1); false if
 * none can go. */
static bool
evict_one(long g)
{
	size_t steps = 2 * atomic_load_explicit(&K.n, memory_order_relaxed) + 1;

	while (K.hand != NULL && steps-- > 0) {
		struct entry *e = K.hand;

		K.hand = e->next;
		if (g >= 0 && e->gidx != (unsigned)g)
			continue;
		if (atomic_exchange_explicit(&e->referenced, false, memory_order_relaxed))
			continue;
		unlink_entry(e);
		atomic_fetch_add_explicit(&K.evictions, 1, memory_order_relaxed);
		return true;
	}
	return false;
}

/* A new snapshot: its entries only from now on. */
static void
switch_gen(const struct hq_config *cfg)
{
	remove_all();
	K.gen = cfg->generation;
	free(K.gbytes);
	K.ngbytes = cfg->ngroups;
	K.gbytes = xcalloc(K.ngbytes + 1, sizeof(*K.gbytes));
}

/* --- hits ------------------------------------------------------------------ */

static struct hq_str
req_value(const httpq_request *r, const char *name)
{
	size_t n = strlen(name);

	for (size_t i = 0; i < r->head.nheaders; i++) {
		const struct hq_hdr *h = &r->head.headers[i];

		if (h->name.n == n && hq_mem_eq_nocase(h->name.p, name, n))
			return h->value;
	}
	return (struct hq_str){ "", 0 };
}

static bool
group_caches(const struct hq_conn *c, const httpq_request *r)
{
	/* Run-time URL groups (registry.c) are not in c->cfg->groups, which
	 * entries are indexed by: they are not cached. */
	return c->cfg->store->cache.enabled && r->group != NULL &&
	    r->group->rt == NULL && r->group->sg->cache.enabled;
}

static struct hq_str
cooked(const httpq_request *r)
{
	return (struct hq_str){ r->cooked, r->cooked_len };
}

static unsigned
group_index(const struct hq_conn *c, const httpq_request *r)
{
	return (unsigned)(r->group - c->cfg->groups);
}

/* Under the read lock: the live entry for r, or NULL. */
static struct entry *
lookup(const struct hq_conn *c, const httpq_request *r, uint64_t now)
{
	unsigned gidx = group_index(c, r);
	uint64_t hash = hq_cache_hash(K.seed, c->la->https, gidx, r->head.host,
	    cooked(r), r->query);
	struct hq_str ae = { NULL, 0 };

	if (c->cfg->generation != K.gen)
		return NULL;
	for (struct entry *e = K.buckets[hash & (K.nbuckets - 1)]; e; e = e->hnext) {
		if (!same_base(e, hash, c->la->https, gidx, r->head.host, cooked(r),
		    r->query))
			continue;
		if (e->expires_ms != 0 && now >= e->expires_ms)
			continue;
		if (e->vary_ae) {
			if (ae.p == NULL)
				ae = req_value(r, "Accept-Encoding");
			if (!same_str(e->ae, ae))
				continue;
		}
		return e;
	}
	return NULL;
}

bool
hq_cache_serve(struct hq_conn *c, httpq_request *r, hq_cache_emit emit)
{
	struct entry *e;
	uint64_t now = r->started_ms;
	int status;

	if (!group_caches(c, r) || hq_cache_request(&r->head) == HQ_CREQ_NO)
		return false;
	if (atomic_load_explicit(&K.n, memory_order_relaxed) == 0) {
		atomic_fetch_add_explicit(&counters(c->w)->misses, 1, memory_order_relaxed);
		return false;
	}
	rdlock();
	if ((e = lookup(c, r, now)) == NULL) {
		unlock();
		atomic_fetch_add_explicit(&counters(c->w)->misses, 1, memory_order_relaxed);
		return false;
	}
	status = hq_cache_conditional(&r->head, e->etag, e->last_modified);
	if (status == 304)
		emit(r, 304, e->head304, e->head304len, !e->has_server,
		    (now - e->created_ms) / 1000, NULL, 0);
	else
		emit(r, 200, e->head, e->headlen, !e->has_server,
		    (now - e->created_ms) / 1000, e->body, e->bodylen);
	atomic_fetch_add_explicit(&e->hits, 1, memory_order_relaxed);
	if (!atomic_load_explicit(&e->referenced, memory_order_relaxed))
		atomic_store_explicit(&e->referenced, true, memory_order_relaxed);
	if (atomic_load_explicit(&e->last_used_ms, memory_order_relaxed) != now)
		atomic_store_explicit(&e->last_used_ms, now, memory_order_relaxed);
	unlock();
	atomic_fetch_add_explicit(&counters(c->w)->hits, 1, memory_order_relaxed);
	return true;
}

/* --- capture --------------------------------------------------------------- */

/* Room for n more bytes at b->p + b->len. */
static char *
buf_room(struct hq_buf *b, size_t n)
{
	if (b->len + n > b->cap) {
		b->cap = b->cap ? b->cap * 2 : 512;
		while (b->cap < b->len + n)
			b->cap *= 2;
		b->p = xrealloc(b->p, b->cap);
	}
	return b->p + b->len;
}

static void
buf_add(struct hq_buf *b, const void *p, size_t n)
{
	if (n > 0)
		memcpy(buf_room(b, n), p, n);
	b->len += n;
}

static void
buf_str(struct hq_buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

static void
capture_free(struct hq_capture *k)
{
	if (k == NULL)
		return;
	free(k->etag);
	free(k->head.p);
	free(k->head304.p);
	free(k->body.p);
	free(k);
}

void
hq_cache_capture_drop(httpq_request *r)
{
	capture_free(r->cap);
	r->cap = NULL;
}

static uint64_t
captured(const struct hq_capture *k)
{
	return k->head.len + k->head304.len + k->body.len + k->etaglen;
}

int
hq_cache_mark(httpq_request *r, int policy, uint32_t ttl)
{
	struct hq_conn *c = r->c;
	struct hq_capture *k;

	if (policy == HTTPQ_CACHE_NOCACHE) {
		hq_cache_capture_drop(r);
		return 0;
	}
	if ((policy != HTTPQ_CACHE_USER_INVALIDATES &&
	    policy != HTTPQ_CACHE_TIME_TO_LIVE) ||
	    (policy == HTTPQ_CACHE_TIME_TO_LIVE && ttl == 0))
		return -1;
	if (!group_caches(c, r) || hq_cache_request(&r->head) != HQ_CREQ_GET)
		return 0;
	k = r->cap ? r->cap : xcalloc(1, sizeof(*k));
	k->policy = policy;
	k->ttl = policy == HTTPQ_CACHE_TIME_TO_LIVE ? ttl : 0;
	k->limit = c->cfg->store->cache.max_response_bytes;
	r->cap = k;
	return 0;
}

#define NAME_IS(h, lit) ((h)->name_len == sizeof(lit) - 1 && \
	hq_mem_eq_nocase((h)->name, (lit), sizeof(lit) - 1))

void
hq_cache_capture_head(httpq_request *r, int status, const char *reason,
    const httpq_header *h, size_t n, unsigned flags)
{
	struct hq_capture *k = r->cap;
	struct hq_cache_resp facts;
	char line[32];

	if (k == NULL)
		return;
	if ((flags & HTTPQ_SEND_DISCONNECT) ||
	    hq_cache_response(status, h, n, &facts) != NULL) {
		hq_cache_capture_drop(r);
		return;
	}
	k->vary_ae = facts.vary_ae;
	k->has_server = facts.has_server;
	k->last_modified = facts.last_modified;
	k->cl = r->resp_cl;
	if (facts.etag.n > 0) {
		k->etag = xstrndup(facts.etag.p, facts.etag.n);
		k->etaglen = facts.etag.n;
	}
	snprintf(line, sizeof(line), "HTTP/1.1 %d ", status);
	buf_str(&k->head, line);
	buf_str(&k->head, reason ? reason : "OK");
	buf_str(&k->head, "\r\n");
	buf_str(&k->head304, "HTTP/1.1 304 Not Modified\r\n");
	for (size_t i = 0; i < n; i++, h++) {
		if (NAME_IS(h, "Content-Length") || NAME_IS(h, "Transfer-Encoding"))
			continue;
		buf_add(&k->head, h->name, h->name_len);
		buf_add(&k->head, ": ", 2);
		buf_add(&k->head, h->value, h->value_len);
		buf_add(&k->head, "\r\n", 2);
		if (hq_cache_304_field(h->name, h->name_len)) {
			buf_add(&k->head304, h->name, h->name_len);
			buf_add(&k->head304, ": ", 2);
			buf_add(&k->head304, h->value, h->value_len);
			buf_add(&k->head304, "\r\n", 2);
		}
	}
	if (captured(k) > k->limit ||
	    (k->cl >= 0 && captured(k) + (uint64_t)k->cl > k->limit))
		hq_cache_capture_drop(r);
}

void
hq_cache_capture_body(httpq_request *r, const void *p, size_t n, unsigned flags)
{
	struct hq_capture *k = r->cap;

	if (k == NULL)
		return;
	if ((flags & HTTPQ_SEND_DISCONNECT) || captured(k) + n > k->limit) {
		hq_cache_capture_drop(r);
		return;
	}
	buf_add(&k->body, p, n);
}

/* The bytes of a file range, read now: a file body is cached whole, as
 * http.sys caches FromFileHandle chunks (small ones: the limit bounds it). */
void
hq_cache_capture_file(httpq_request *r, int fd, uint64_t off, uint64_t len,
    unsigned flags)
{
	struct hq_capture *k = r->cap;

	if (k == NULL)
		return;
	if ((flags & HTTPQ_SEND_DISCONNECT) || captured(k) + len > k->limit) {
		hq_cache_capture_drop(r);
		return;
	}
	buf_room(&k->body, (size_t)len);
	while (len > 0) {
		ssize_t got = pread(fd, k->body.p + k->body.len, (size_t)len, (off_t)off);

		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0) {
			hq_cache_capture_drop(r); /* shorter than said: not kept */
			return;
		}
		k->body.len += (size_t)got;
		off += (uint64_t)got;
		len -= (uint64_t)got;
	}
}

static char *
put_str(char **at, const void *p, size_t n)
{
	char *s = *at;

	if (n > 0)
		memcpy(s, p, n);
	s[n] = '\0';
	*at += n + 1;
	return s;
}

static uint64_t
earliest(uint64_t a, uint64_t b)
{
	return a == 0 ? b : b == 0 ? a : a < b ? a : b;
}

/* A complete capture becomes an entry, replacing the one of its key. */
void
hq_cache_capture_end(httpq_request *r)
{
	struct hq_conn *c = r->c;
	struct hq_capture *k = r->cap;
	const struct hq_store *s = c->cfg->store;
	struct hq_str ae = { "", 0 };
	unsigned gidx;
	uint64_t hash, gmax;
	size_t size, chain;
	struct entry *e;
	char *url, *at;
	const char *gname;

	if (k == NULL)
		return;
	r->cap = NULL;
	if ((k->cl >= 0 && (uint64_t)k->cl != k->body.len) || r->trailers_sent) {
		capture_free(k);
		return;
	}
	gidx = group_index(c, r);
	gname = r->group->sg->name;
	if (k->vary_ae)
		ae = req_value(r, "Accept-Encoding");
	pthread_once(&K.once, cache_init);
	hash = hq_cache_hash(K.seed, c->la->https, gidx, r->head.host, cooked(r),
	    r->query);
	url = hq_cache_url(c->la->https, r->head.host, c->la->port, cooked(r), r->query);
	size = sizeof(*e) + r->head.host.n + r->cooked_len + r->query.n + ae.n +
	    k->etaglen + strlen(url) + strlen(gname) + k->head.len + k->head304.len +
	    k->body.len + 10;
	e = xcalloc(1, size);
	at = e->data;
	e->hash = hash;
	e->gidx = gidx;
	e->https = c->la->https;
	e->vary_ae = k->vary_ae;
	e->has_server = k->has_server;
	e->policy = k->policy;
	e->ttl = k->ttl;
	e->created_ms = r->started_ms;
	e->expires_ms = k->ttl ? e->created_ms + (uint64_t)k->ttl * 1000 : 0;
	e->last_modified = k->last_modified;
	atomic_init(&e->hits, 0);
	atomic_init(&e->last_used_ms, e->created_ms);
	atomic_init(&e->referenced, false);
	e->bytes = size;
	e->host = (struct hq_str){ put_str(&at, r->head.host.p, r->head.host.n),
		r->head.host.n };
	e->path = (struct hq_str){ put_str(&at, r->cooked, r->cooked_len), r->cooked_len };
	e->query = (struct hq_str){ put_str(&at, r->query.p, r->query.n), r->query.n };
	e->ae = (struct hq_str){ put_str(&at, ae.p, ae.n), ae.n };
	e->etag = (struct hq_str){ put_str(&at, k->etag, k->etaglen), k->etaglen };
	e->url = put_str(&at, url, strlen(url));
	e->group = put_str(&at, gname, strlen(gname));
	e->head = put_str(&at, k->head.p, k->head.len);
	e->headlen = k->head.len;
	e->head304 = put_str(&at, k->head304.p, k->head304.len);
	e->head304len = k->head304.len;
	e->body = put_str(&at, k->body.p, k->body.len);
	e->bodylen = k->body.len;
	free(url);
	capture_free(k);

	gmax = r->group->sg->cache.max_bytes;
	wrlock();
	if (c->cfg->generation > K.gen || K.gbytes == NULL)
		switch_gen(c->cfg);
	if (c->cfg->generation != K.gen || size > s->cache.max_bytes ||
	    (gmax != 0 && size > gmax)) {
		unlock();
		free(e);
		return;
	}
	/* the entry of the same key (and Accept-Encoding, if it varies) */
	chain = 0;
	for (struct entry *o = K.buckets[hash & (K.nbuckets - 1)], *next; o; o = next) {
		next = o->hnext;
		if (same_base(o, hash, e->https, gidx, e->host, e->path, e->query) &&
		    (!o->vary_ae || !e->vary_ae || same_str(o->ae, e->ae)))
			unlink_entry(o);
		else
			chain++;
	}
	if (chain >= HQ_CACHE_CHAIN_MAX) {
		unlock();
		free(e);
		return;
	}
	while (gmax != 0 && K.gbytes[gidx] + size > gmax && evict_one((long)gidx))
		;
	while (K.bytes + size > s->cache.max_bytes && evict_one(-1))
		;
	if (K.bytes + size > s->cache.max_bytes ||
	    (gmax != 0 && K.gbytes[gidx] + size > gmax)) {
		unlock();
		free(e);
		return;
	}
	if (atomic_load_explicit(&K.n, memory_order_relaxed) >= K.nbuckets)
		grow();
	link_entry(e);
	atomic_store_explicit(&K.next_expiry_ms, earliest(atomic_load_explicit(
	    &K.next_expiry_ms, memory_order_relaxed), e->expires_ms),
	    memory_order_relaxed);
	atomic_fetch_add_explicit(&K.inserts, 1, memory_order_relaxed);
	unlock();
}

/* --- main thread: scavenger, show, flush ------------------------------------- */

void
hq_cache_tick(const struct hq_config *cfg)
{
	uint64_t now = hq_now_ms(), next = 0;
	uint64_t period = (uint64_t)cfg->store->cache.scavenger_period * 1000;
	uint64_t due = atomic_load_explicit(&K.next_expiry_ms, memory_order_relaxed);

	if (atomic_load_explicit(&K.n, memory_order_relaxed) == 0)
		return;
	/* Unused entries are looked for every half period (1 s to 60 s):
	 * one goes between one and one and a half periods after its last
	 * use.  Expired ones go at the next tick. */
	uint64_t every = period / 2 < 1000 ? 1000 : period / 2 > 60000 ? 60000 :
	    period / 2;

	if ((due == 0 || now < due) && now - K.last_scan_ms < every &&
	    cfg->generation == K.gen && cfg->store->cache.enabled)
		return;
	wrlock();
	if (cfg->generation != K.gen || !cfg->store->cache.enabled) {
		remove_all();
	} else if (K.hand != NULL) {
		struct entry *e = K.hand, *stop = K.hand->prev;

		for (;;) {
			struct entry *after = e->next;
			bool last = e == stop;
			uint64_t used = atomic_load_explicit(&e->last_used_ms,
			    memory_order_relaxed);

			if ((e->expires_ms != 0 && now >= e->expires_ms) ||
			    (now > used && now - used >= period))
				unlink_entry(e);
			else
				next = earliest(next, e->expires_ms);
			if (last || K.hand == NULL)
				break;
			e = after;
		}
	}
	atomic_store_explicit(&K.next_expiry_ms, next, memory_order_relaxed);
	K.last_scan_ms = now;
	unlock();
}

size_t
hq_cache_flush(const char *url, bool recursive)
{
	size_t n = 0;

	wrlock();
	if (url == NULL) {
		n = atomic_load_explicit(&K.n, memory_order_relaxed);
		remove_all();
	} else if (K.hand != NULL) {
		struct entry *e = K.hand, *stop = K.hand->prev;

		for (;;) {
			struct entry *after = e->next;
			bool last = e == stop;

			if (hq_cache_url_match(e->url, url, recursive)) {
				unlink_entry(e);
				n++;
			}
			if (last || K.hand == NULL)
				break;
			e = after;
		}
	}
	atomic_fetch_add_explicit(&K.flushed, n, memory_order_relaxed);
	unlock();
	return n;
}

void
hq_cache_stats(const struct hq_config *cfg, struct hq_cachestats *st)
{
	memset(st, 0, sizeof(*st));
	for (size_t i = 0; i < HQ_CACHE_WORKERS_MAX; i++) {
		st->hits += atomic_load_explicit(&K.ctr[i].hits, memory_order_relaxed);
		st->misses += atomic_load_explicit(&K.ctr[i].misses, memory_order_relaxed);
	}
	st->enabled = cfg->store->cache.enabled;
	st->max_bytes = cfg->store->cache.max_bytes;
	st->max_response_bytes = cfg->store->cache.max_response_bytes;
	st->inserts = atomic_load_explicit(&K.inserts, memory_order_relaxed);
	st->evictions = atomic_load_explicit(&K.evictions, memory_order_relaxed);
	st->flushed = atomic_load_explicit(&K.flushed, memory_order_relaxed);
	rdlock();
	st->entries = atomic_load_explicit(&K.n, memory_order_relaxed);
	st->bytes = K.bytes;
	unlock();
}

size_t
hq_cache_state(const char *url, struct hq_cacheinfo **out)
{
	struct hq_cacheinfo *v = NULL;
	size_t n = 0, cap = 0;
	uint64_t now = hq_now_ms();

	rdlock();
	if (K.hand != NULL) {
		struct entry *e = K.hand;

		do {
			struct hq_cacheinfo *i;

			if (url != NULL && !hq_cache_url_match(e->url, url, true))
				continue;
			if (e->expires_ms != 0 && now >= e->expires_ms)
				continue; /* never served again */
			if (n == cap) {
				cap = cap ? cap * 2 : 16;
				v = xrealloc(v, cap * sizeof(*v));
			}
			i = &v[n++];
			memset(i, 0, sizeof(*i));
			i->url = xstrdup(e->url);
			i->group = xstrdup(e->group);
			i->accept_encoding = e->vary_ae ? xstrndup(e->ae.p, e->ae.n) : NULL;
			i->bytes = e->bytes;
			i->body_bytes = e->bodylen;
			i->hits = atomic_load_explicit(&e->hits, memory_order_relaxed);
			i->policy = e->policy;
			i->ttl = e->ttl;
			i->ttl_left = e->expires_ms ? (int64_t)(e->expires_ms - now + 999) / 1000 : -1;
			i->age = now > e->created_ms ? (now - e->created_ms) / 1000 : 0;
		} while ((e = e->next) != K.hand);
	}
	unlock();
	*out = v;
	return n;
}

void
hq_cache_free(void)
{
	wrlock();
	remove_all();
	free(K.gbytes);
	K.gbytes = NULL;
	K.ngbytes = 0;
	unlock();
}
