/*
 * lifecycle.c -- the main thread: setup, run, reload, drain, in reverse.
 *
 * Setup: store -> snapshot (modules initialised) -> listening sockets ->
 * workers.  Reload (SIGHUP) validates a whole new snapshot before it
 * replaces the running one; a bad store changes nothing.  Stop (SIGTERM,
 * SIGINT) closes the listeners, lets requests in flight finish up to
 * server.drain_timeout, then aborts the rest, joins the workers and frees
 * everything in reverse order.
 */
#include "config.h"

#include <pthread.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "httpqd.h"

static struct {
	struct event_base *base;
	struct hq_mailbox mbox;
	struct hq_config *cfg;       /* current snapshot (main's reference) */
	const char *path, *moddir;
	struct event *sighup, *sigterm, *sigint, *sigusr1, *drain_tick, *tls_tick;
	struct event *cache_tick;
	uint64_t drain_deadline_ms;
	bool stopping;
} M;

static void
log_errors(int prio, const struct hq_errors *errs)
{
	for (size_t i = 0; i < errs->n; i++)
		hq_log(prio, "%s", errs->msg[i]);
}

/* Loads and builds a snapshot; NULL (errors logged) on any problem. */
/*
 * Gives back the pages that loading a store freed in the middle of the heap
 * (the YAML tree, the errors, modules' scratch tables): glibc returns only
 * the top of a heap by itself.  Once per start or reload, never per request.
 */
static void
trim_heap(void)
{
#ifdef __GLIBC__
	malloc_trim(0);
#endif
}

static struct hq_config *
load(bool check_only, struct hq_errors *errs)
{
	struct hq_store *store = hq_store_load(M.path, errs);
	struct hq_config *cfg;

	if (store == NULL)
		return NULL;
	cfg = hq_config_build(store, M.moddir, &hq_api, check_only, errs);
	if (cfg == NULL)
		return NULL; /* hq_config_build freed the store */
	return cfg;
}

int
hq_check(const char *path, const char *moddir)
{
	struct hq_errors errs = { 0 };
	struct hq_config *cfg;

	M.path = path;
	M.moddir = moddir;
	hq_config_set_attach(&hq_attach_module);
	hq_module_register_builtin(&hq_metrics_module);
	cfg = load(true, &errs);
	if (cfg == NULL) {
		hq_errors_print(&errs, stderr);
		fprintf(stderr, "httpqd: %s: test failed (%zu error%s)\n", path, errs.total,
		    errs.total == 1 ? "" : "s");
		hq_errors_free(&errs);
		hq_logs_free();
		return 1;
	}
	hq_config_free_now(cfg);
	hq_logs_free();
	hq_errors_free(&errs);
	fprintf(stderr, "httpqd: %s: test is successful\n", path);
	return 0;
}

/* What SIGHUP and `reload` do: 0, or -1 with every error in errs (which
 * the caller frees). */
static int
reload(struct hq_errors *errs)
{
	struct hq_config *cfg, *old = M.cfg;

	hq_log(LOG_NOTICE, "reload: reading %s", M.path);
	hq_sd_reloading();
	cfg = load(false, errs);
	if (cfg == NULL) {
		hq_log(LOG_ERR, "reload refused, keeping generation %u (%zu error%s):",
		    old->generation, errs->total, errs->total == 1 ? "" : "s");
		log_errors(LOG_ERR, errs);
		hq_sd_reload_failed(old->generation, errs->total);
		hq_stats_reload(false);
		return -1;
	}
	cfg->generation = old->generation + 1;
	if (!hq_config_same_listens(old, cfg))
		hq_log(LOG_WARNING, "reload: the listen addresses changed; they take "
		    "effect when httpqd restarts (like http.sys's IP listen list)");
	M.cfg = cfg;
	hq_config_apply_limits(cfg);
	hq_tls_started(cfg->tls);
	hq_workers_set_config(cfg);
	hq_registry_set_config(cfg);
	hq_config_unref(old);
	hq_log(LOG_NOTICE, "reload: generation %u loaded", cfg->generation);
	hq_sd_reloaded(cfg->generation);
	hq_stats_reload(true);
	trim_heap();
	return 0;
}

static void
on_reload(evutil_socket_t sig, short what, void *arg)
{
	struct hq_errors errs = { 0 };

	if (M.stopping)
		return;
	reload(&errs);
	hq_errors_free(&errs);
}

/* Certificate files changed on disk, ticket keys due (tls_ctx.c). */
static void
tls_tick(evutil_socket_t fd, short what, void *arg)
{
	hq_tls_tick(M.cfg->tls);
}

/* The response cache's scavenger (cache.c). */
static void
cache_tick(evutil_socket_t fd, short what, void *arg)
{
	hq_cache_tick(M.cfg);
}

/* The control socket's view of the main thread (struct hq_control_ops). */
static struct hq_config *
current_config(void)
{
	return M.cfg;
}

static int
control_reload(struct hq_errors *errs, unsigned *generation)
{
	int rc;

	if (M.stopping) {
		hq_errors_add(errs, NULL, NULL, "httpqd is stopping");
		return -1;
	}
	rc = reload(errs);
	*generation = M.cfg->generation;
	return rc;
}

/* The connection layer, handed down to the workers. */
static const struct hq_worker_conn_ops conn_ops = {
	.accept = hq_conn_accept,
	.drain = hq_conn_drain,
	.abort = hq_conn_abort,
	.timeout = hq_conn_timeout,
};

/* What systemd's STATUS line counts. */
static const struct hq_sd_counts sd_counts = {
	.connections = hq_workers_connections,
	.requests = hq_workers_requests,
};

static const struct hq_attach_ops attach_ops = {
	.current_config = current_config,
};

static const struct hq_control_ops control_ops = {
	.current_config = current_config,
	.reload = control_reload,
};

static void
drain_check(evutil_socket_t fd, short what, void *arg)
{
	unsigned n = hq_workers_connections();

	if (n == 0 || hq_now_ms() >= M.drain_deadline_ms) {
		if (n > 0)
			hq_log(LOG_WARNING, "stop: drain timeout, aborting %u connection%s",
			    n, n == 1 ? "" : "s");
		event_base_loopbreak(M.base);
	}
}

static void
on_stop(evutil_socket_t sig, short what, void *arg)
{
	struct timeval tick = { 0, 50 * 1000 };
	uint32_t secs = M.cfg->store->drain_timeout;

	if (M.stopping) {
		hq_log(LOG_NOTICE, "stop: second signal, not waiting any longer");
		event_base_loopbreak(M.base);
		return;
	}
	M.stopping = true;
	hq_sd_stopping(hq_workers_connections());
	hq_log(LOG_NOTICE, "stop: signal %d, draining %u connection%s (up to %u s)",
	    (int)sig, hq_workers_connections(),
	    hq_workers_connections() == 1 ? "" : "s", secs);
	hq_workers_drain();
	hq_attach_drain();
	M.drain_deadline_ms = hq_now_ms() + (uint64_t)secs * 1000;
	M.drain_tick = event_new(M.base, -1, EV_PERSIST, drain_check, NULL);
	event_add(M.drain_tick, &tick);
}

/* SIGUSR1: logrotate moved the logs; open them again. */
static void
on_reopen(evutil_socket_t sig, short what, void *arg)
{
	hq_logs_reopen();
}

static unsigned
worker_count(const struct hq_store *s)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	if (s->workers > 0)
		return s->workers;
	return n > 0 ? (unsigned)n : 1;
}

static void
log_ready(unsigned nworkers)
{
	char addrs[512] = "";
	size_t len = 0;

	for (size_t i = 0; i < M.cfg->nlistens && len < sizeof(addrs) - 70; i++)
		len += (size_t)snprintf(addrs + len, sizeof(addrs) - len, "%s%s",
		    i ? " " : "", M.cfg->listens[i].text);
	hq_log(LOG_NOTICE, "ready: generation %u, %u worker%s, listening on %s",
	    M.cfg->generation, nworkers, nworkers == 1 ? "" : "s",
	    len ? addrs : "nothing (no URL prefix registered)");
}

static int
setup(bool foreground, unsigned *nworkers, int ***fds)
{
	struct hq_errors errs = { 0 };

	if (!foreground) {
		/* Validate before detaching so that errors reach the terminal;
		 * modules start after the fork so their threads survive it. */
		struct hq_config *probe = load(true, &errs);
		int rc;

		if (probe == NULL)
			goto fail;
		rc = hq_control_check(probe->store);
		hq_config_free_now(probe);
		if (rc < 0)
			goto fail_quiet;
		/* Keep the working folder: relative paths in the store then
		 * mean what they meant to `httpqd -t` from the same place. */
		if (daemon(1, 0) < 0) {
			hq_log(LOG_ERR, "daemon: %m");
			return -1;
		}
	}
	M.cfg = load(false, &errs);
	if (M.cfg == NULL)
		goto fail;
	if (hq_control_check(M.cfg->store) < 0)
		goto fail_quiet;
	M.cfg->generation = 1;
	hq_config_apply_limits(M.cfg);
	hq_stats_start();
	*nworkers = worker_count(M.cfg->store);
	if (hq_listeners_open(M.cfg, *nworkers, fds) < 0)
		return -1;
	hq_errors_free(&errs);
	return 0;
fail_quiet: /* the reason is logged */
	hq_log(LOG_ERR, "not starting");
	hq_errors_free(&errs);
	return -1;
fail:
	log_errors(LOG_ERR, &errs);
	hq_log(LOG_ERR, "%s: not starting (%zu error%s)", M.path, errs.total,
	    errs.total == 1 ? "" : "s");
	hq_errors_free(&errs);
	return -1;
}

static void
teardown(void)
{
	hq_control_stop();
	hq_attach_stop();
	hq_workers_stop();
	hq_registry_free();
	hq_cache_free();
	hq_sd_free();
	hq_config_unref(M.cfg);
	M.cfg = NULL;
	hq_logs_free();
	hq_mailbox_close(&M.mbox);
	hq_attach_free();
	hq_config_free_on(NULL);
	hq_config_registry_free();
	hq_stats_free();
	if (M.drain_tick)
		event_free(M.drain_tick);
	if (M.tls_tick)
		event_free(M.tls_tick);
	if (M.cache_tick)
		event_free(M.cache_tick);
	event_free(M.sighup);
	event_free(M.sigterm);
	event_free(M.sigint);
	event_free(M.sigusr1);
	event_base_free(M.base);
	libevent_global_shutdown();
}

int
hq_run(const char *path, const char *moddir, bool foreground)
{
	unsigned nworkers = 0;
	int **fds = NULL;

	M.path = path;
	M.moddir = moddir;
	hq_config_set_attach(&hq_attach_module);
	hq_module_register_builtin(&hq_metrics_module);
	signal(SIGPIPE, SIG_IGN);
	/* RLIMIT_FSIZE reached: write() fails with EFBIG (logfile.c copes). */
	signal(SIGXFSZ, SIG_IGN);
	hq_fd_limit_raise();
	hq_sd_collect_fds();
	if (foreground)
		hq_sd_journal_init();
	if (setup(foreground, &nworkers, &fds) < 0) {
		if (M.cfg)
			hq_config_free_now(M.cfg);
		hq_attach_free();
		hq_config_registry_free();
		hq_sd_free();
		hq_logs_free();
		return 1;
	}
	M.base = event_base_new();
	hq_mailbox_init(&M.mbox, M.base);
	hq_config_free_on(&M.mbox);
	M.sighup = evsignal_new(M.base, SIGHUP, on_reload, NULL);
	M.sigterm = evsignal_new(M.base, SIGTERM, on_stop, NULL);
	M.sigint = evsignal_new(M.base, SIGINT, on_stop, NULL);
	evsignal_add(M.sighup, NULL);
	evsignal_add(M.sigterm, NULL);
	evsignal_add(M.sigint, NULL);
	M.sigusr1 = evsignal_new(M.base, SIGUSR1, on_reopen, NULL);
	evsignal_add(M.sigusr1, NULL);
	hq_attach_start(M.base, &M.mbox, M.cfg->store, &attach_ops);
	hq_workers_start(nworkers, M.cfg, fds, &conn_ops);
	hq_registry_set_config(M.cfg);
	for (unsigned i = 0; i < nworkers; i++)
		free(fds[i]);
	free(fds);
	hq_control_start(M.base, M.cfg->store, &control_ops);
	log_ready(nworkers);
	hq_tls_started(M.cfg->tls);
	M.tls_tick = event_new(M.base, -1, EV_PERSIST, tls_tick, NULL);
	event_add(M.tls_tick, &(struct timeval){ HQ_TLS_WATCH_S, 0 });
	M.cache_tick = event_new(M.base, -1, EV_PERSIST, cache_tick, NULL);
	event_add(M.cache_tick, &(struct timeval){ 1, 0 });
	hq_sd_ready(M.base, M.cfg->generation, nworkers, &sd_counts);
	trim_heap();
	event_base_dispatch(M.base);
	teardown();
	hq_log(LOG_NOTICE, "stopped");
	return 0;
}
