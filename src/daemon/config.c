/*
 * config.c -- immutable run-time snapshots built from the setup store.
 *
 * A snapshot holds the router, URL groups with resolved properties, the
 * queues they are bound to and the module instances consuming them.  It is
 * built completely (modules initialised) before it replaces the running
 * one, and freed when the last connection using it lets go (nginx's cycle).
 */
#include "config.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "httpqd.h"

/* The consumer of `attach:` queues (attach.c), handed down by lifecycle.c. */
static const struct httpq_module *attach_module;

void
hq_config_set_attach(const struct httpq_module *m)
{
	attach_module = m;
}

/* Queues outlive snapshots, found again by name (main thread only). */
static struct hq_queue **registry;
static size_t nregistry;

static struct hq_queue *
queue_for(const struct hq_store_queue *sq)
{
	for (size_t i = 0; i < nregistry; i++)
		if (strcmp(hq_queue_name(registry[i]), sq->name) == 0) {
			hq_queue_ref(registry[i]);
			return registry[i];
		}
	registry = xrealloc(registry, (nregistry + 1) * sizeof(*registry));
	registry[nregistry++] = hq_queue_new(sq->name, sq->length, sq->verbosity);
	hq_queue_ref(registry[nregistry - 1]);
	return registry[nregistry - 1];
}

void
hq_config_registry_free(void)
{
	for (size_t i = 0; i < nregistry; i++)
		hq_queue_unref(registry[i]);
	free(registry);
	registry = NULL;
	nregistry = 0;
}

static uint32_t
inherit(uint32_t group, uint32_t global)
{
	return group ? group : global;
}

static void
resolve_timeouts(struct hq_timeouts *t, const struct hq_timeouts *g,
    const struct hq_timeouts *global)
{
	t->entity_body = inherit(g->entity_body, global->entity_body);
	t->drain_entity_body = inherit(g->drain_entity_body, global->drain_entity_body);
	t->request_queue = inherit(g->request_queue, global->request_queue);
	t->idle_connection = inherit(g->idle_connection, global->idle_connection);
	t->header_wait = inherit(g->header_wait, global->header_wait);
	t->min_send_rate = inherit(g->min_send_rate, global->min_send_rate);
}

static int
build_consumers(struct hq_config *cfg, const char *moddir,
    const struct httpq_api *api, bool check_only, struct hq_errors *errs)
{
	const struct hq_store *s = cfg->store;
	int rc = 0;

	cfg->consumers = xcalloc(s->nqueues, sizeof(*cfg->consumers));
	for (size_t i = 0; i < s->nqueues; i++) {
		const struct hq_store_queue *sq = &s->queues[i];
		struct hq_consumer *k = &cfg->consumers[i];

		if (sq->attach)
			k->ctx = hq_module_builtin(attach_module, sq->name, sq, i);
		else
			k->ctx = hq_module_load(sq->module, moddir, sq, i, api, errs);
		if (k->ctx == NULL) {
			rc = -1;
			continue;
		}
		if (!check_only)
			k->queue = queue_for(sq);
	}
	cfg->nconsumers = s->nqueues;
	return rc;
}

/* Last, once every part of the snapshot is known to be good. */
static int
init_consumers(struct hq_config *cfg, const struct httpq_api *api, struct hq_errors *errs)
{
	for (size_t i = 0; i < cfg->nconsumers; i++)
		if (cfg->consumers[i].ctx != NULL &&
		    hq_module_init(cfg->consumers[i].ctx, api, errs) < 0)
			return -1;
	return 0;
}

static struct hq_consumer *
consumer_named(struct hq_config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->nconsumers; i++)
		if (strcmp(cfg->store->queues[i].name, name) == 0)
			return &cfg->consumers[i];
	return NULL;
}

static int
build_groups(struct hq_config *cfg, struct hq_errors *errs)
{
	const struct hq_store *s = cfg->store;
	int rc = 0;

	cfg->router = hq_router_new();
	cfg->groups = xcalloc(s->ngroups, sizeof(*cfg->groups));
	cfg->ngroups = s->ngroups;
	for (size_t i = 0; i < s->ngroups; i++) {
		const struct hq_store_group *sg = &s->groups[i];
		struct hq_group *g = &cfg->groups[i];

		g->sg = sg;
		g->consumer = sg->queue ? consumer_named(cfg, sg->queue) : NULL;
		g->max_body_bytes = sg->max_body_bytes;
		g->slot = hq_stats_slot(sg->name);
		resolve_timeouts(&g->t, &sg->timeouts, &s->timeouts);
		for (size_t j = 0; j < sg->nprefixes; j++) {
			void *other;
			char key[80];

			if (sg->prefixes[j].cls == HQ_HOST_IP)
				cfg->has_ip_bound = true;
			if (hq_router_add(cfg->router, &sg->prefixes[j], g, &other) == 0)
				continue;
			snprintf(key, sizeof(key), "url_groups[%zu].prefixes[%zu]", i, j);
			hq_errors_add(errs, &sg->prefix_at[j], key,
			    "prefix \"%s\" already registered by url group \"%s\"",
			    sg->prefixes[j].text, ((struct hq_group *)other)->sg->name);
			rc = -1;
		}
	}
	return rc;
}

static bool
have_listen(const struct hq_config *cfg, const struct sockaddr_storage *ss, uint16_t port)
{
	for (size_t i = 0; i < cfg->nlistens; i++) {
		const struct hq_listen_addr *l = &cfg->listens[i];

		if (l->port == port && l->addr.ss_family == ss->ss_family &&
		    memcmp(&l->addr, ss, l->addrlen) == 0)
			return true;
	}
	return false;
}

static void
add_listen(struct hq_config *cfg, const struct sockaddr_storage *ss, socklen_t len,
    uint16_t port, bool https)
{
	struct hq_listen_addr *l;
	struct sockaddr_storage a = *ss;

	if (a.ss_family == AF_INET)
		((struct sockaddr_in *)&a)->sin_port = htons(port);
	else
		((struct sockaddr_in6 *)&a)->sin6_port = htons(port);
	if (have_listen(cfg, &a, port))
		return;
	cfg->listens = xrealloc(cfg->listens, (cfg->nlistens + 1) * sizeof(*l));
	l = &cfg->listens[cfg->nlistens++];
	memset(l, 0, sizeof(*l));
	l->addr = a;
	l->addrlen = len;
	l->port = port;
	l->https = https;
	l->wildcard = a.ss_family == AF_INET ?
	    ((struct sockaddr_in *)&a)->sin_addr.s_addr == htonl(INADDR_ANY) :
	    IN6_IS_ADDR_UNSPECIFIED(&((struct sockaddr_in6 *)&a)->sin6_addr);
	hq_addr_text((const struct sockaddr *)&a, HQ_ADDR_PORT, l->text, sizeof(l->text));
}

static void
add_wildcards(struct hq_config *cfg, uint16_t port, bool https)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

	memset(&ss, 0, sizeof(ss));
	sin->sin_family = AF_INET;
	add_listen(cfg, &ss, sizeof(*sin), port, https);
	memset(&ss, 0, sizeof(ss));
	sin6->sin6_family = AF_INET6;
	add_listen(cfg, &ss, sizeof(*sin6), port, https);
}

/* Whether the prefixes registered on port are https (never mixed). */
static bool
port_https(const struct hq_config *cfg, uint16_t port)
{
	for (size_t i = 0; i < hq_router_count(cfg->router); i++) {
		const struct hq_prefix *p = &hq_router_at(cfg->router, i)->prefix;

		if (p->port == port)
			return p->https;
	}
	return false;
}

/*
 * http.sys listens on every registered port of each address in the IP
 * listen list (or of every address when the list is empty).  An entry with
 * a port listens on that port only.
 */
static void
build_listens(struct hq_config *cfg)
{
	const struct hq_store *s = cfg->store;

	for (size_t i = 0; i < hq_router_count(cfg->router); i++) {
		const struct hq_prefix *p = &hq_router_at(cfg->router, i)->prefix;

		if (s->nlistens == 0)
			add_wildcards(cfg, p->port, p->https);
		for (size_t j = 0; j < s->nlistens; j++) {
			const struct hq_listen *l = &s->listens[j];
			if (hq_sockaddr_port(&l->addr) == 0)
				add_listen(cfg, &l->addr, l->addrlen, p->port, p->https);
		}
	}
	for (size_t j = 0; j < s->nlistens; j++) {
		const struct hq_listen *l = &s->listens[j];
		uint16_t lport = hq_sockaddr_port(&l->addr);

		if (lport != 0)
			add_listen(cfg, &l->addr, l->addrlen, lport, port_https(cfg, lport));
	}
}

struct hq_config *
hq_config_build(struct hq_store *store, const char *moddir_override,
    const struct httpq_api *api, bool check_only, struct hq_errors *errs)
{
	struct hq_config *cfg = xcalloc(1, sizeof(*cfg));
	const char *moddir = moddir_override ? moddir_override :
	    store->module_path ? store->module_path : HQ_DEFAULT_MODULE_PATH;
	int rc = 0;

	atomic_init(&cfg->refs, 1);
	cfg->store = store;
	rc |= build_consumers(cfg, moddir, api, check_only, errs);
	rc |= build_groups(cfg, errs);
	if (hq_sslbind_check_all(store, errs) != 0)
		rc = -1;
	else if (store->nsslcerts > 0 && (cfg->tls = hq_tls_new(store, errs)) == NULL)
		rc = -1;
	build_listens(cfg);
	rc |= hq_config_open_logs(cfg, check_only, errs);
	if (rc == 0 && !check_only)
		rc = init_consumers(cfg, api, errs);
	if (rc != 0) {
		hq_config_free_now(cfg);
		return NULL;
	}
	return cfg;
}

void
hq_config_apply_limits(const struct hq_config *cfg)
{
	for (size_t i = 0; i < cfg->ngroups; i++)
		hq_stats_set_limits(cfg->groups[i].slot,
		    cfg->groups[i].sg->max_connections,
		    cfg->groups[i].sg->max_bandwidth);
}

void
hq_config_free_now(struct hq_config *cfg)
{
	for (size_t i = 0; i < cfg->nconsumers; i++) {
		hq_module_unload(cfg->consumers[i].ctx);
		hq_queue_unref(cfg->consumers[i].queue);
	}
	free(cfg->consumers);
	hq_config_close_logs(cfg);
	free(cfg->groups);
	hq_router_free(cfg->router);
	free(cfg->listens);
	hq_tls_free(cfg->tls);
	hq_store_free(cfg->store);
	free(cfg);
}

void
hq_config_ref(struct hq_config *cfg)
{
	atomic_fetch_add_explicit(&cfg->refs, 1, memory_order_relaxed);
}

static void
free_on_main(void *arg)
{
	hq_config_free_now(arg);
}

static void rt_free_on_main(void *arg);

/* Where the last reference is freed when it drops on another thread. */
static struct {
	struct hq_mailbox *mb;
	pthread_t thread;
} Main;

void
hq_config_free_on(struct hq_mailbox *mb)
{
	Main.mb = mb;
	Main.thread = pthread_self();
}

/* Module fini() and dlclose() run on the main thread, never under a worker. */
void
hq_config_unref(struct hq_config *cfg)
{
	if (cfg == NULL)
		return;
	if (atomic_fetch_sub_explicit(&cfg->refs, 1, memory_order_acq_rel) != 1)
		return;
	if (Main.mb == NULL || pthread_equal(pthread_self(), Main.thread) ||
	    hq_mailbox_post(Main.mb, free_on_main, cfg) != 0)
		hq_config_free_now(cfg);
}

bool
hq_config_same_listens(const struct hq_config *a, const struct hq_config *b)
{
	if (a->nlistens != b->nlistens)
		return false;
	for (size_t i = 0; i < a->nlistens; i++)
		if (!have_listen(b, &a->listens[i].addr, a->listens[i].port))
			return false;
	return true;
}

/* --- run-time registrations ------------------------------------------- */

struct hq_rt *
hq_rt_build(const struct hq_rt_spec *spec, size_t n, const struct hq_store *s,
    unsigned serial)
{
	struct hq_rt *rt = xcalloc(1, sizeof(*rt));

	atomic_init(&rt->refs, 1);
	rt->serial = serial;
	rt->router = hq_router_new();
	rt->ngroups = n;
	rt->groups = xcalloc(n ? n : 1, sizeof(*rt->groups));
	rt->sgroups = xcalloc(n ? n : 1, sizeof(*rt->sgroups));
	rt->owners = xcalloc(n ? n : 1, sizeof(*rt->owners));
	rt->consumers = xcalloc(n ? n : 1, sizeof(*rt->consumers));
	for (size_t i = 0; i < n; i++) {
		struct hq_group *g = &rt->groups[i];
		struct hq_store_group *sg = &rt->sgroups[i];

		rt->owners[i] = spec[i].owner;
		rt->owners[i].queue = xstrdup(spec[i].owner.queue);
		rt->consumers[i] = spec[i].consumer;
		if (spec[i].consumer.hold != NULL)
			spec[i].consumer.hold(spec[i].consumer.arg);
		sg->name = rt->owners[i].queue;
		sg->queue = rt->owners[i].queue;
		sg->max_body_bytes = HQ_DEFAULT_MAX_BODY_BYTES;
		g->sg = sg;
		g->rt = &rt->owners[i];
		g->consumer = spec[i].consumer.k;
		g->max_body_bytes = HQ_DEFAULT_MAX_BODY_BYTES;
		g->t = s->timeouts;
		for (size_t j = 0; j < spec[i].nprefixes; j++) {
			const struct hq_prefix *p = spec[i].prefixes[j];

			if (p->cls == HQ_HOST_IP)
				rt->has_ip_bound = true;
			hq_router_add(rt->router, p, g, NULL);
		}
	}
	return rt;
}

static void
rt_free_now(struct hq_rt *rt)
{
	for (size_t i = 0; i < rt->ngroups; i++) {
		if (rt->consumers[i].release != NULL)
			rt->consumers[i].release(rt->consumers[i].arg);
		free(rt->owners[i].queue);
	}
	hq_router_free(rt->router);
	free(rt->groups);
	free(rt->sgroups);
	free(rt->owners);
	free(rt->consumers);
	free(rt);
}

static void
rt_free_on_main(void *arg)
{
	rt_free_now(arg);
}

void
hq_rt_ref(struct hq_rt *rt)
{
	if (rt != NULL)
		atomic_fetch_add_explicit(&rt->refs, 1, memory_order_relaxed);
}

/* Consumers are released on the main thread, where registry.c runs. */
void
hq_rt_unref(struct hq_rt *rt)
{
	if (rt == NULL)
		return;
	if (atomic_fetch_sub_explicit(&rt->refs, 1, memory_order_acq_rel) != 1)
		return;
	if (Main.mb == NULL || pthread_equal(pthread_self(), Main.thread) ||
	    hq_mailbox_post(Main.mb, rt_free_on_main, rt) != 0)
		rt_free_now(rt);
}
