/*
 * registry.c -- what attached processes register at run time (main thread):
 * queue names (CREATE_QUEUE) and URL prefixes (ADD_URL, REMOVE_URL).
 *
 * http.sys's rules: a URL is registered only if the store's URL
 * reservations give the peer's uid or one of its groups the listen right
 * (root may register anything), and only once across YAML and run-time
 * registrations; a handle's queue and URLs vanish when it closes.  The
 * reservations are those of the current snapshot, so a reload (or
 * httpqctl, which reloads) applies to later registrations.
 *
 * Each change builds a new run-time snapshot (struct hq_rt, config.c) and
 * hands it to the workers: the request path reads only immutable data.
 * A reload keeps run-time registrations; should YAML now register a prefix
 * that a process registered, YAML is served (the tie rule of
 * hq_route_pick) and the run-time registration stays, shadowed, with a
 * warning in the log.  attach.c calls in here with the peer and what it
 * needs (the queue's consumer); nothing here calls attach.c.
 */
#include "config.h"

#include <pwd.h>
#include <stdlib.h>
#include <string.h>

#include "httpqd.h"

struct handle {
	const void *key;              /* attach.c's handle */
	pid_t pid;
	uid_t uid;
	char *queue;                  /* the queue its URLs are bound to */
	bool yaml;                    /* a YAML queue: consumer of R.cfg */
	struct hq_rt_consumer consumer;
	struct hq_prefix *urls;
	size_t nurls, capurls;
	struct handle *next;
};

struct rtqueue {
	char *name;
	const void *creator;
	pid_t pid;
	uid_t uid;
};

static struct {
	struct hq_config *cfg;        /* current snapshot (a reference) */
	struct hq_rt *rt;             /* current run-time snapshot (a reference) */
	unsigned serial;
	struct handle *handles;
	struct rtqueue *queues;
	size_t nqueues;
} R;

/* "uid 1000 (alice)" */
static void
who(uid_t uid, char *buf, size_t len)
{
	struct passwd *pw = getpwuid(uid);

	if (pw != NULL)
		snprintf(buf, len, "uid %ld (%s)", (long)uid, pw->pw_name);
	else
		snprintf(buf, len, "uid %ld", (long)uid);
}

static void
cfg_hold(void *cfg)
{
	hq_config_ref(cfg);
}

static void
cfg_release(void *cfg)
{
	hq_config_unref(cfg);
}

/* The consumer of YAML attach: queue name in the current snapshot, held
 * through a reference of the snapshot; false if YAML has no such queue. */
static bool
yaml_consumer(const char *name, struct hq_rt_consumer *out)
{
	const struct hq_config *cfg = R.cfg;

	for (size_t i = 0; i < cfg->nconsumers; i++)
		if (cfg->store->queues[i].attach &&
		    strcmp(cfg->store->queues[i].name, name) == 0) {
			*out = (struct hq_rt_consumer){ &cfg->consumers[i], cfg_hold,
			    cfg_release, R.cfg };
			return true;
		}
	return false;
}

static struct handle *
handle_find(const void *key)
{
	for (struct handle *h = R.handles; h != NULL; h = h->next)
		if (h->key == key)
			return h;
	return NULL;
}

static void
handle_owner_text(const struct handle *h, char *buf, size_t len)
{
	snprintf(buf, len, "pid %ld uid %ld queue \"%s\"", (long)h->pid, (long)h->uid,
	    h->queue);
}

/* The owner of the run-time registration of exactly p, or NULL: the
 * current snapshot holds every registration. */
static const struct hq_rt_owner *
rt_find(const struct hq_prefix *p)
{
	const struct hq_route *r = R.rt ? hq_router_find(R.rt->router, p) : NULL;

	return r ? ((const struct hq_group *)r->owner)->rt : NULL;
}

/* Builds the run-time snapshot from the handles and hands it out. */
static void
publish(void)
{
	struct hq_rt_spec *spec;
	const struct hq_prefix **all;
	size_t n = 0, total = 0, k = 0;
	struct hq_rt *rt;

	for (struct handle *h = R.handles; h != NULL; h = h->next)
		if (h->nurls > 0)
			n++, total += h->nurls;
	spec = xcalloc(n ? n : 1, sizeof(*spec));
	all = xcalloc(total ? total : 1, sizeof(*all));
	n = 0;
	for (struct handle *h = R.handles; h != NULL; h = h->next) {
		if (h->nurls == 0)
			continue;
		spec[n].owner.pid = h->pid;
		spec[n].owner.uid = h->uid;
		spec[n].owner.queue = h->queue;
		spec[n].consumer = h->consumer;
		spec[n].prefixes = all + k;
		spec[n].nprefixes = h->nurls;
		for (size_t i = 0; i < h->nurls; i++)
			all[k++] = &h->urls[i];
		n++;
	}
	/* No registration: the workers hold nothing and route() asks one router. */
	rt = n > 0 ? hq_rt_build(spec, n, R.cfg->store, ++R.serial) : NULL;
	free(spec);
	free(all);
	hq_workers_set_rt(rt);
	hq_rt_unref(R.rt);
	R.rt = rt;
}

/* Warns of run-time registrations that YAML now shadows, and of run-time
 * queue names that YAML now declares too. */
static void
check_shadowed(void)
{
	const struct hq_store *s = R.cfg->store;
	char owner[256], at[512];

	for (struct handle *h = R.handles; h != NULL; h = h->next)
		for (size_t i = 0; i < h->nurls; i++) {
			const struct hq_route *r = hq_router_find(R.cfg->router, &h->urls[i]);
			const struct hq_group *g;

			if (r == NULL)
				continue;
			g = r->owner;
			handle_owner_text(h, owner, sizeof(owner));
			hq_log(LOG_WARNING, "reload: url group \"%s\" (%s) now registers "
			    "%s, which %s registered at run time: the YAML group is "
			    "served; the run-time registration is shadowed until "
			    "YAML drops the prefix or the process removes it",
			    g->sg->name, hq_origin_text(&g->sg->at, at, sizeof(at)),
			    h->urls[i].text, owner);
		}
	for (size_t i = 0; i < R.nqueues; i++)
		for (size_t j = 0; j < s->nqueues; j++)
			if (strcmp(s->queues[j].name, R.queues[i].name) == 0)
				hq_log(LOG_WARNING, "reload: queue \"%s\" (%s) is also the "
				    "name of a run-time queue of pid %ld uid %ld; OPEN_QUEUE "
				    "finds the YAML one", R.queues[i].name,
				    hq_origin_text(&s->queues[j].at, at, sizeof(at)),
				    (long)R.queues[i].pid, (long)R.queues[i].uid);
}

void
hq_registry_set_config(struct hq_config *cfg)
{
	struct hq_config *old = R.cfg;

	hq_config_ref(cfg);
	R.cfg = cfg;
	hq_config_unref(old);
	if (old == NULL)
		return;
	/* URLs of YAML queues follow the queue into the new snapshot; a
	 * queue that YAML no longer has takes its URLs with it. */
	for (struct handle *h = R.handles; h != NULL; h = h->next) {
		if (!h->yaml)
			continue;
		if (!yaml_consumer(h->queue, &h->consumer)) {
			hq_log_about(LOG_WARNING, h->queue, NULL, "reload: the queue is "
			    "gone: %zu URL%s of pid %ld removed", h->nurls,
			    h->nurls == 1 ? "" : "s", (long)h->pid);
			for (size_t i = 0; i < h->nurls; i++)
				hq_prefix_free(&h->urls[i]);
			h->nurls = 0;
		}
	}
	check_shadowed();
	/* The global timeouts may have changed. */
	if (R.handles != NULL)
		publish();
}

/* --- queues ------------------------------------------------------------- */

static struct rtqueue *
rtqueue_find(const char *name)
{
	for (size_t i = 0; i < R.nqueues; i++)
		if (strcmp(R.queues[i].name, name) == 0)
			return &R.queues[i];
	return NULL;
}

uint32_t
hq_registry_create_queue(const void *h, const struct hq_reg_peer *p, const char *name,
    char *msg, size_t msglen)
{
	const struct rtqueue *q;
	size_t mine = 0;
	char at[512];

	if (!hq_name_valid(name) || strlen(name) > HQ_RT_QUEUE_NAME_MAX) {
		snprintf(msg, msglen, "queue name \"%.64s\": expected 1-%d of A-Z a-z "
		    "0-9 _ . -", name, HQ_RT_QUEUE_NAME_MAX);
		return HQ_QS_INVALID;
	}
	for (size_t i = 0; i < R.cfg->store->nqueues; i++)
		if (strcmp(R.cfg->store->queues[i].name, name) == 0) {
			snprintf(msg, msglen, "queue \"%s\" exists: declared at %s "
			    "(httpq.yaml; open it with OPEN_QUEUE)", name,
			    hq_origin_text(&R.cfg->store->queues[i].at, at, sizeof(at)));
			return HQ_QS_ALREADY_EXISTS;
		}
	if ((q = rtqueue_find(name)) != NULL) {
		snprintf(msg, msglen, "queue \"%s\" exists: created by pid %ld uid %ld",
		    name, (long)q->pid, (long)q->uid);
		return HQ_QS_ALREADY_EXISTS;
	}
	for (size_t i = 0; i < R.nqueues; i++) {
		if (R.queues[i].creator == h) {
			snprintf(msg, msglen, "this handle created queue \"%s\" already; "
			    "one queue per handle", R.queues[i].name);
			return HQ_QS_PROTOCOL;
		}
		mine += R.queues[i].uid == p->uid;
	}
	if (mine >= HQ_RT_QUEUES_PER_UID) {
		snprintf(msg, msglen, "uid %ld has %zu run-time queues, the most "
		    "allowed (HQ_RT_QUEUES_PER_UID)", (long)p->uid, mine);
		return HQ_QS_LIMIT;
	}
	R.queues = xrealloc(R.queues, (R.nqueues + 1) * sizeof(*R.queues));
	R.queues[R.nqueues++] = (struct rtqueue){ xstrdup(name), h, p->pid, p->uid };
	hq_log_about(LOG_INFO, name, NULL, "queue created at run time by pid %ld uid %ld",
	    (long)p->pid, (long)p->uid);
	return HQ_QS_OK;
}

uint32_t
hq_registry_open_queue(const char *name, const struct hq_reg_peer *p,
    const void **creator, char *msg, size_t msglen)
{
	const struct rtqueue *q = rtqueue_find(name);
	char peer[128];

	if (q == NULL) {
		snprintf(msg, msglen, "no queue named \"%.64s\"", name);
		return HQ_QS_NOT_FOUND;
	}
	if (p->uid != 0 && p->uid != q->uid) {
		who(p->uid, peer, sizeof(peer));
		snprintf(msg, msglen, "queue \"%s\" was created by uid %ld: only that "
		    "user or root may open it, not %s", name, (long)q->uid, peer);
		return HQ_QS_ACCESS_DENIED;
	}
	*creator = q->creator;
	return HQ_QS_OK;
}

/* --- URLs ----------------------------------------------------------------- */

/* Can a connection to la reach the IP-bound prefix p?  la listens on
 * p's address or on every address of p's family. */
static bool
listen_reaches(const struct hq_listen_addr *la, const struct hq_prefix *p)
{
	const struct sockaddr *sa = (const struct sockaddr *)&la->addr;

	if (sa->sa_family != p->ip_family)
		return false;
	if (la->wildcard)
		return true;
	if (sa->sa_family == AF_INET)
		return memcmp(&((const struct sockaddr_in *)sa)->sin_addr, p->ip, 4) == 0;
	return memcmp(&((const struct sockaddr_in6 *)sa)->sin6_addr, p->ip, 16) == 0;
}

/* Does httpqd listen on p's port with p's scheme (and, for an IP-bound
 * prefix, on its address)?  Listeners are fixed at start (http.sys's IP
 * listen list); msg says what it listens on. */
static bool
listened(const struct hq_prefix *p, char *msg, size_t msglen)
{
	const struct hq_listen_addr *la = NULL;
	size_t n = hq_workers_listeners(&la), len;
	bool port = false, scheme = false;

	for (size_t i = 0; i < n; i++) {
		if (la[i].port == p->port && la[i].https == p->https &&
		    (p->cls != HQ_HOST_IP || listen_reaches(&la[i], p)))
			return true;
		port |= la[i].port == p->port;
		scheme |= la[i].port == p->port && la[i].https == p->https;
	}
	if (scheme) {
		/* Only the address is missing: say where the port is served. */
		port = false;
		len = (size_t)snprintf(msg, msglen, "%s: httpqd does not listen on "
		    "%s port %u; it listens on", p->text, p->host, p->port);
	} else if (port)
		len = (size_t)snprintf(msg, msglen, "%s: httpqd serves port %u with "
		    "%s, not %s", p->text, p->port, p->https ? "http" : "https",
		    p->https ? "https" : "http");
	else
		len = (size_t)snprintf(msg, msglen, "%s: httpqd does not listen on "
		    "port %u; it listens on", p->text, p->port);
	for (size_t i = 0; !port && i < n && len < msglen; i++)
		len += (size_t)snprintf(msg + len, msglen - len, " %s (%s)", la[i].text,
		    la[i].https ? "https" : "http");
	if (len < msglen)
		snprintf(msg + len, msglen - len, "%s; listeners are fixed when httpqd "
		    "starts (a YAML prefix or iplisten entry on the port, then a restart)",
		    n == 0 && !port ? " nothing" : "");
	return false;
}

/* ACCESS_DENIED's message: which reservation is missing. */
static void
denied(const struct hq_prefix *p, const struct hq_reg_peer *peer, char *msg,
    size_t msglen)
{
	struct passwd *pw = getpwuid(peer->uid);

	hq_urlacl_refusal(R.cfg->store, p, peer->uid, pw ? pw->pw_name : NULL,
	    peer->gids, peer->ngids, msg, msglen);
}

static size_t
urls_of(uid_t uid)
{
	size_t n = 0;

	for (struct handle *h = R.handles; h != NULL; h = h->next)
		if (h->uid == uid)
			n += h->nurls;
	return n;
}

uint32_t
hq_registry_add_url(const void *key, const struct hq_reg_peer *peer,
    const char *queue, unsigned roles, const struct hq_rt_consumer *consumer,
    const char *url, char *msg, size_t msglen)
{
	struct hq_prefix p;
	const struct hq_route *r;
	const struct hq_rt_owner *other;
	struct handle *h;
	char err[256], at[512];
	uint32_t st = HQ_QS_OK;

	struct hq_rt_consumer k;
	bool yaml;

	if (queue == NULL) {
		snprintf(msg, msglen, "no queue: CREATE_QUEUE or OPEN_QUEUE first");
		return HQ_QS_NOT_FOUND;
	}
	/* a run-time queue's consumer comes from attach.c; else the YAML one */
	yaml = consumer == NULL && yaml_consumer(queue, &k);
	if (!yaml && consumer == NULL) {
		snprintf(msg, msglen, "no queue named \"%.64s\"", queue);
		return HQ_QS_NOT_FOUND;
	}
	if (!yaml)
		k = *consumer;
	if (!(roles & HQ_QP_ROLE_CONTROLLER)) {
		snprintf(msg, msglen, "queue \"%s\" was opened as a worker: adding "
		    "URLs needs the controller role", queue);
		return HQ_QS_ACCESS_DENIED;
	}
	if (hq_prefix_parse(url, &p, err, sizeof(err)) < 0) {
		snprintf(msg, msglen, "%s", err);
		return HQ_QS_INVALID;
	}
	if (!listened(&p, msg, msglen)) {
		st = HQ_QS_INVALID;
	} else if (!hq_urlacl_allows(R.cfg->store, &p, peer->uid, peer->gids,
	    peer->ngids, false)) {
		denied(&p, peer, msg, msglen);
		st = HQ_QS_ACCESS_DENIED;
	} else if ((r = hq_router_find(R.cfg->router, &p)) != NULL) {
		const struct hq_group *g = r->owner;

		snprintf(msg, msglen, "%s is registered by url group \"%s\" (%s)",
		    p.text, g->sg->name, hq_origin_text(&g->sg->at, at, sizeof(at)));
		st = HQ_QS_ALREADY_EXISTS;
	} else if ((other = rt_find(&p)) != NULL) {
		snprintf(msg, msglen, "%s is registered by pid %ld uid %ld queue "
		    "\"%s\"", p.text, (long)other->pid, (long)other->uid, other->queue);
		st = HQ_QS_ALREADY_EXISTS;
	} else if (urls_of(peer->uid) >= HQ_RT_URLS_PER_UID) {
		snprintf(msg, msglen, "uid %ld has %d URLs registered, the most "
		    "allowed (HQ_RT_URLS_PER_UID)", (long)peer->uid, HQ_RT_URLS_PER_UID);
		st = HQ_QS_LIMIT;
	}
	if (st != HQ_QS_OK) {
		hq_prefix_free(&p);
		return st;
	}
	if ((h = handle_find(key)) == NULL) {
		h = xcalloc(1, sizeof(*h));
		h->key = key;
		h->pid = peer->pid;
		h->uid = peer->uid;
		h->queue = xstrdup(queue);
		h->yaml = yaml;
		h->consumer = k;
		h->next = R.handles;
		R.handles = h;
	}
	if (h->nurls == h->capurls) {
		h->capurls = h->capurls ? 2 * h->capurls : 4;
		h->urls = xrealloc(h->urls, h->capurls * sizeof(*h->urls));
	}
	h->urls[h->nurls++] = p;
	hq_log_about(LOG_INFO, queue, NULL, "url %s registered by pid %ld uid %ld",
	    p.text, (long)peer->pid, (long)peer->uid);
	publish();
	return HQ_QS_OK;
}

static void
handle_free(struct handle *h)
{
	for (size_t i = 0; i < h->nurls; i++)
		hq_prefix_free(&h->urls[i]);
	free(h->urls);
	free(h->queue);
	free(h);
}

uint32_t
hq_registry_remove_url(const void *key, const char *url, char *msg, size_t msglen)
{
	struct handle *h = handle_find(key);
	struct hq_prefix p;
	char err[256];

	if (hq_prefix_parse(url, &p, err, sizeof(err)) < 0) {
		snprintf(msg, msglen, "%s", err);
		return HQ_QS_INVALID;
	}
	for (size_t i = 0; h != NULL && i < h->nurls; i++) {
		if (strcmp(h->urls[i].text, p.text) != 0)
			continue;
		hq_log_about(LOG_INFO, h->queue, NULL, "url %s removed by pid %ld",
		    p.text, (long)h->pid);
		hq_prefix_free(&h->urls[i]);
		h->urls[i] = h->urls[--h->nurls];
		hq_prefix_free(&p);
		publish();
		return HQ_QS_OK;
	}
	snprintf(msg, msglen, "%s is not registered by this handle", p.text);
	hq_prefix_free(&p);
	return HQ_QS_NOT_FOUND;
}

void
hq_registry_close(const void *key)
{
	struct handle **hp, *h = NULL;
	bool had_urls = false;

	for (hp = &R.handles; *hp != NULL; hp = &(*hp)->next)
		if ((*hp)->key == key) {
			h = *hp;
			*hp = h->next;
			break;
		}
	if (h != NULL) {
		had_urls = h->nurls > 0;
		if (had_urls)
			hq_log_about(LOG_INFO, h->queue, NULL, "pid %ld closed its handle: "
			    "%zu URL%s removed", (long)h->pid, h->nurls,
			    h->nurls == 1 ? "" : "s");
		handle_free(h);
	}
	for (size_t i = 0; i < R.nqueues; i++) {
		if (R.queues[i].creator != key)
			continue;
		/* The queue is gone: so are the URLs other handles of it added. */
		for (h = R.handles; h != NULL; h = h->next) {
			if (h->yaml || strcmp(h->queue, R.queues[i].name) != 0)
				continue;
			had_urls |= h->nurls > 0;
			for (size_t j = 0; j < h->nurls; j++)
				hq_prefix_free(&h->urls[j]);
			h->nurls = 0;
		}
		hq_log_about(LOG_INFO, R.queues[i].name, NULL, "run-time queue "
		    "gone: pid %ld closed its handle", (long)R.queues[i].pid);
		free(R.queues[i].name);
		R.queues[i] = R.queues[--R.nqueues];
		break;
	}
	if (had_urls)
		publish();
}

const struct hq_rt *
hq_registry_current(void)
{
	return R.rt;
}

size_t
hq_registry_queues(const char **name, pid_t *pid, uid_t *uid, size_t i)
{
	if (i < R.nqueues) {
		*name = R.queues[i].name;
		*pid = R.queues[i].pid;
		*uid = R.queues[i].uid;
	}
	return R.nqueues;
}

void
hq_registry_free(void)
{
	struct handle *h, *next;

	for (h = R.handles; h != NULL; h = next) {
		next = h->next;
		handle_free(h);
	}
	for (size_t i = 0; i < R.nqueues; i++)
		free(R.queues[i].name);
	free(R.queues);
	hq_rt_unref(R.rt);
	hq_config_unref(R.cfg);
	memset(&R, 0, sizeof(R));
}
