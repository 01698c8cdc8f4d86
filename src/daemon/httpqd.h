/*
 * httpqd.h -- the daemon's own layers: configuration snapshots, modules,
 * workers, listeners, connections, requests and responses.
 *
 * Top to bottom: a file calls only files on the lines below its own, but
 * for the hub, conn.c <-> request.c (tests/integration/00-layering.t reads
 * this list and checks it against the object files):
 *
 *   main.c
 *   lifecycle.c
 *   control.c metrics.c
 *   attach.c
 *   conn.c request.c
 *   h2.c
 *   cache.c
 *   response.c
 *   registry.c
 *   worker.c
 *   config.c
 *   tls_ctx.c
 *   tls_conn.c logfile.c
 *   listener.c
 *   sd.c mailbox.c stats.c
 *
 * Reaching up takes a pointer handed down, never a call: lifecycle.c gives
 * worker.c the connection layer's ops (the accept handler, drain, abort:
 * struct hq_worker_conn_ops), control.c its {current config, reload}
 * (struct hq_control_ops), sd.c what STATUS counts (struct hq_sd_counts)
 * and config.c the module API (hq_api of request.c) and the main mailbox;
 * control.c gives `show sslcert` (src/shared/) the served certificate.
 * conn.c gives h2.c what a stream's request needs from above (start,
 * abort, log: struct hq_h2_ops).
 * Workers link and unlink their own connections (hq_worker_link); conn.c
 * fills the hq_logrec that logfile.c writes.  attach.c's consumer reaches
 * config.c as hq_attach_module (hq_config_set_attach), and the main thread
 * (current config) through struct hq_attach_ops from lifecycle.c.
 *
 * Layer: src/daemon/, the event-driven daemon httpqd (libevent, OpenSSL,
 * threads).  May call: src/shared/ (hqshared.h), src/lib/
 * (httpq-internal.h), <httpq/module.h>.  Called by: nothing but itself;
 * loaded modules reach it only through struct httpq_api.
 */
#ifndef HTTPQD_H
#define HTTPQD_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <netinet/in.h>
#include <sys/uio.h>
#include <time.h>

#include <event2/event.h>
#include <event2/event_struct.h>
#include <event2/listener.h>

#include "httpq-internal.h"
#include "hqshared.h"

struct hq_conn;
struct hq_tls_facts;
struct ssl_st;
struct hq_worker;

/* ---------------------------------------------------------------------
 * mailbox.c -- run a function on another thread's event loop.
 * ------------------------------------------------------------------- */
struct hq_msg;
struct hq_mailbox {
	pthread_mutex_t mu;
	struct hq_msg *head, *tail;
	int efd;
	struct event ev;
	bool closed;
};
void hq_mailbox_init(struct hq_mailbox *mb, struct event_base *base);
/* Thread-safe.  Returns -1 if the mailbox is closed (fn is not run). */
int hq_mailbox_post(struct hq_mailbox *mb, void (*fn)(void *), void *arg);
/* Runs what is queued, then refuses further posts; frees the eventfd. */
void hq_mailbox_close(struct hq_mailbox *mb);

/* ---------------------------------------------------------------------
 * stats.c -- counters per worker, no lock: each written by its worker
 * only (hq_stat_add: relaxed load and store, no locked add), read by any
 * thread with relaxed loads and summed over the workers.
 * ------------------------------------------------------------------- */
#define HQ_LAT_BUCKETS  17        /* 16 bounds (hq_stats_lat_bounds_us) + Inf */
#define HQ_STATS_CHUNK  64        /* URL group slots per chunk */
#define HQ_STATS_CHUNKS 64
#define HQ_STATS_SLOTS  (HQ_STATS_CHUNK * HQ_STATS_CHUNKS)
enum hq_stat_503 { HQ_S503_QUEUE_FULL, HQ_S503_NO_CONSUMER, HQ_S503_UNBOUND,
	HQ_S503_SHUTDOWN, HQ_S503_CONN_LIMIT, HQ_S503_DISABLED, HQ_S503_N };
extern const uint64_t hq_stats_lat_bounds_us[HQ_LAT_BUCKETS - 1];
extern const char *const hq_stats_503_names[HQ_S503_N]; /* metric labels */

/* One URL group's counters on one worker. */
struct hq_gstats {
	atomic_uint_fast64_t status[6];       /* by status / 100; [0]: none */
	atomic_uint_fast64_t r503[HQ_S503_N];
	atomic_uint_fast64_t bytes_in, bytes_out;
	atomic_uint_fast64_t ttfb[HQ_LAT_BUCKETS], total[HQ_LAT_BUCKETS];
	atomic_uint_fast64_t ttfb_sum_us, total_sum_us;
};
/* The same summed over the workers. */
struct hq_gsum {
	uint64_t status[6], r503[HQ_S503_N], bytes_in, bytes_out;
	uint64_t ttfb[HQ_LAT_BUCKETS], total[HQ_LAT_BUCKETS];
	uint64_t ttfb_sum_us, total_sum_us;
};
struct hq_wstats {
	struct hq_gstats *_Atomic chunks[HQ_STATS_CHUNKS];
	atomic_uint_fast64_t tls_full, tls_resumed;
	atomic_uint_fast64_t h2_opened, h2_closed, h2_requests;
};
/* Written by one thread only: no locked add on the hot path. */
static inline void
hq_stat_add(atomic_uint_fast64_t *p, uint64_t n)
{
	atomic_store_explicit(p, atomic_load_explicit(p, memory_order_relaxed) + n,
	    memory_order_relaxed);
}
/* Main thread, before the workers run. */
struct hq_wstats *hq_stats_worker_new(void);
void hq_stats_free(void);
void hq_stats_start(void);
/* Main thread: the slot of a URL group name, the same for the daemon's
 * life; slot 0 counts requests routed to no group. */
unsigned hq_stats_slot(const char *name);
/* Worker thread: its own counters. */
struct hq_gstats *hq_stats_group(struct hq_wstats *ws, unsigned slot);
void hq_stats_request(struct hq_wstats *ws, unsigned slot, int status,
    uint64_t bytes_in, uint64_t bytes_out, uint64_t ttfb_us, uint64_t total_us);
void hq_stats_503(struct hq_wstats *ws, unsigned slot, enum hq_stat_503 why);
void hq_stats_tls(struct hq_wstats *ws, bool resumed);
void hq_stats_h2_conn(struct hq_wstats *ws, bool open);
void hq_stats_h2_request(struct hq_wstats *ws);
/* HQ_S503_N for an error that is no 503. */
enum hq_stat_503 hq_stats_503_of(enum hq_error e);
/* Any thread. */
void hq_stats_sum_group(unsigned slot, struct hq_gsum *out);
void hq_stats_sum_tls(uint64_t *full, uint64_t *resumed);
/* HTTP/2 connections open now, and requests over HTTP/2 since the start. */
void hq_stats_sum_h2(uint64_t *conns, uint64_t *requests);
void hq_stats_reload(bool ok);
void hq_stats_reloads(uint64_t *ok, uint64_t *failed);
uint64_t hq_stats_uptime_us(void);
/* QoS of a URL group, by slot, shared by the workers and kept across
 * reloads: connections (http.sys ConnectionLimit) and a token bucket of
 * bytes per second (http.sys Bandwidth). */
struct hq_gshared {
	atomic_uint conns;            /* connections whose requests go to it */
	atomic_uint max_conns;        /* 0 = unlimited */
	atomic_uint rate;             /* bytes/s, 0 = unlimited */
	atomic_int_fast64_t tokens;
	atomic_uint_fast64_t last_us;
};
struct hq_gshared *hq_stats_shared(unsigned slot);
/* Main thread, when a snapshot is built. */
void hq_stats_set_limits(unsigned slot, uint32_t max_conns, uint32_t rate);
/* false past max_conns. */
bool hq_group_conn_take(struct hq_gshared *g);
void hq_group_conn_put(struct hq_gshared *g);
uint64_t hq_bw_take(struct hq_gshared *g, uint64_t want, uint64_t *wait_us);
/* Gives back what was taken and not written (n > 0), or takes what was
 * written beyond (n < 0: TLS writes whole records). */
void hq_bw_refund(struct hq_gshared *g, int64_t n);

/* metrics.c: the built-in `metrics` module (Prometheus text format 0.0.4),
 * registered by lifecycle.c with hq_module_builtin(). */
extern const struct httpq_module hq_metrics_module;

/* request.c: the API table handed to modules (module.c is in src/lib/). */
extern const struct httpq_api hq_api;

/* ---------------------------------------------------------------------
 * config.c -- immutable, refcounted snapshots built from the store.
 * ------------------------------------------------------------------- */
struct hq_consumer {
	struct hq_queue *queue;
	struct httpq_ctx *ctx;  /* the module instance serving the queue */
};

struct hq_rt_owner;

struct hq_group {
	const struct hq_store_group *sg;
	const struct hq_rt_owner *rt; /* a run-time URL group: who owns it; NULL: YAML */
	struct hq_consumer *consumer; /* NULL: bound to no queue -> 503 */
	unsigned slot;                /* its counters (hq_stats_slot) */
	struct hq_timeouts t;         /* resolved: global where the group says 0 */
	uint64_t max_body_bytes;
	struct hq_alog *alog;         /* NULL: no access log */
};

struct hq_listen_addr {
	struct sockaddr_storage addr;
	socklen_t addrlen;
	uint16_t port;
	bool https;
	bool wildcard;               /* 0.0.0.0 or [::]: local address varies */
	char text[64];               /* "127.0.0.1:8080" */
};

struct hq_config {
	atomic_int refs;
	unsigned generation;
	struct hq_store *store;
	struct hq_router *router;     /* owners are struct hq_group */
	struct hq_group *groups;
	size_t ngroups;
	struct hq_consumer *consumers;
	size_t nconsumers;
	struct hq_listen_addr *listens;
	size_t nlistens;
	struct hq_tls *tls;           /* SSL bindings; NULL when none */
	struct hq_logfile *errlog;    /* NULL: the daemon log */
	bool has_ip_bound;            /* routing needs the local address */
};

/* Builds a snapshot; NULL with errs filled when anything is wrong.  Every
 * module is opened and its validate() run first; their init() runs last,
 * when all the rest is good.  With check_only, init() is not called. */
struct hq_config *hq_config_build(struct hq_store *store, const char *moddir_override,
    const struct httpq_api *api, bool check_only, struct hq_errors *errs);
void hq_config_ref(struct hq_config *cfg);
/* Any thread; the last reference frees on the main thread. */
void hq_config_unref(struct hq_config *cfg);
/* Called on the main thread: the last reference of a snapshot that drops
 * on another thread is freed through mb (module fini() and dlclose() run
 * on the main thread); NULL: where it drops. */
void hq_config_free_on(struct hq_mailbox *mb);
void hq_config_free_now(struct hq_config *cfg);
bool hq_config_same_listens(const struct hq_config *a, const struct hq_config *b);
/* The URL groups' QoS limits (kept by name in stats.c), once a snapshot
 * is the running one: a refused reload changes none. */
void hq_config_apply_limits(const struct hq_config *cfg);
void hq_config_registry_free(void);
/* The built-in module that consumes `attach:` queues (attach.c's
 * hq_attach_module), handed down by lifecycle.c before the first build;
 * its state is the queue's attach object. */
void hq_config_set_attach(const struct httpq_module *m);

/*
 * Run-time registrations (ADD_URL of attached processes): a second
 * immutable, refcounted snapshot beside the YAML one, rebuilt by
 * registry.c on the main thread at each change and handed to every worker
 * (hq_workers_set_rt).  A connection holds its reference as it holds its
 * config (conn.c switches both between requests); route() asks both
 * routers (hq_route_pick).  One run-time URL group per handle, named like
 * its queue, with the global timeouts and limits, bound to its queue's
 * consumer.
 */
struct hq_rt_owner {
	pid_t pid;
	uid_t uid;
	char *queue;                 /* the handle's queue */
};
/* A queue's consumer as run-time snapshots hold it: hold(arg) when a
 * snapshot takes it, release(arg) on the main thread when a snapshot
 * holding it is freed; NULL: k outlives every snapshot. */
struct hq_rt_consumer {
	struct hq_consumer *k;
	void (*hold)(void *arg);
	void (*release)(void *arg);
	void *arg;
};
/* One handle's URL group, as registry.c hands it to hq_rt_build. */
struct hq_rt_spec {
	struct hq_rt_owner owner;
	struct hq_rt_consumer consumer;
	const struct hq_prefix *const *prefixes;
	size_t nprefixes;
};
struct hq_rt {
	atomic_int refs;
	unsigned serial;              /* increases with each snapshot */
	struct hq_router *router;     /* owners are struct hq_group in groups */
	struct hq_group *groups;
	struct hq_store_group *sgroups; /* groups[i].sg: name and queue only */
	struct hq_rt_owner *owners;   /* groups[i].rt */
	struct hq_rt_consumer *consumers;
	size_t ngroups;
	bool has_ip_bound;
};
/* Main thread.  Timeouts are the global ones of s.  A prefix registered
 * twice (registry.c refuses that) is kept once, for the first group. */
struct hq_rt *hq_rt_build(const struct hq_rt_spec *spec, size_t n, const struct hq_store *s,
    unsigned serial);
void hq_rt_ref(struct hq_rt *rt);
/* Any thread; the last reference frees on the main thread (as a config). */
void hq_rt_unref(struct hq_rt *rt);

/* ---------------------------------------------------------------------
 * registry.c -- run-time queue names and URL registrations of attached
 * processes (main thread).  attach.c calls in with the peer's credentials;
 * each answer is an HQ_QS_* status, with msg saying why on failure (the
 * RESULT frame's MESSAGE).
 * ------------------------------------------------------------------- */
struct hq_reg_peer {
	pid_t pid;
	uid_t uid;
	const gid_t *gids;           /* supplementary groups and the primary one */
	size_t ngids;
};
/* lifecycle.c: the current snapshot, at start and after every reload
 * (run-time registrations are kept; see registry.c for a YAML clash). */
void hq_registry_set_config(struct hq_config *cfg);
/* CREATE_QUEUE for handle h: the name is unique among YAML and run-time
 * queues, at most HQ_RT_QUEUES_PER_UID per uid; it vanishes when h closes. */
uint32_t hq_registry_create_queue(const void *h, const struct hq_reg_peer *p,
    const char *name, char *msg, size_t msglen);
/* OPEN_QUEUE of a run-time queue: the creator's uid or root; *creator is
 * the handle that created it.  NOT_FOUND if no run-time queue has the name. */
uint32_t hq_registry_open_queue(const char *name, const struct hq_reg_peer *p,
    const void **creator, char *msg, size_t msglen);
/* ADD_URL by handle h, which opened queue (roles: HQ_QP_ROLE_* bits):
 * syntax, a port httpqd listens on, the URL reservations of the current
 * store, no other owner.  The URL is served by the consumer of the queue:
 * *consumer for a run-time queue (held by reference), else the YAML
 * queue's in the current snapshot (followed across reloads).  REMOVE_URL:
 * only a URL that h added. */
uint32_t hq_registry_add_url(const void *h, const struct hq_reg_peer *p,
    const char *queue, unsigned roles, const struct hq_rt_consumer *consumer,
    const char *url, char *msg, size_t msglen);
uint32_t hq_registry_remove_url(const void *h, const char *url, char *msg, size_t msglen);
/* Handle h closed (or its process died): its URLs and queue vanish. */
void hq_registry_close(const void *h);
/* For show: the current run-time snapshot (NULL: nothing registered), and
 * run-time queue i (returns how many there are; fills nothing past them). */
const struct hq_rt *hq_registry_current(void);
size_t hq_registry_queues(const char **name, pid_t *pid, uid_t *uid, size_t i);
void hq_registry_free(void);

/* ---------------------------------------------------------------------
 * tls_ctx.c -- SSL bindings: their OpenSSL contexts (main thread).
 * ------------------------------------------------------------------- */
struct hq_tls;
/* Builds the contexts of the store's sslcerts (main thread); NULL with
 * errs filled.  The store must outlive it. */
struct hq_tls *hq_tls_new(const struct hq_store *s, struct hq_errors *errs);
void hq_tls_free(struct hq_tls *t);
/* Logs what each binding serves and warns of readable key files. */
void hq_tls_started(struct hq_tls *t);
/* Main thread, every HQ_TLS_WATCH_S: rotates ticket keys, swaps the
 * context of bindings whose files changed. */
void hq_tls_tick(struct hq_tls *t);
/* What sslcerts[i] serves now (described as its files are: hq_x509_describe), for
 * `httpqctl show sslcert`; main thread.  0, or -1 without a context. */
int hq_tls_served(const struct hq_tls *t, size_t i, struct hq_sslinfo *info);

/* ---------------------------------------------------------------------
 * tls_conn.c -- TLS on one connection with OpenSSL (worker thread).
 * ------------------------------------------------------------------- */
int hq_tls_conn_new(struct hq_conn *c, struct hq_tls *t);
/* Sends what the connection's BIO holds, then closes (reset: drops it). */
void hq_tls_conn_close(struct hq_conn *c, bool reset);
/* Queues a close_notify (once, on a healthy session); it goes out with
 * the next flush. */
void hq_tls_shutdown(struct hq_conn *c);
/* Writes what OpenSSL's writes left in the connection's BIO (all: even
 * when c->pending does not count it yet, otherwise only then): 0, or -1
 * on a socket error.  *delta is what c->pending must add for the bytes
 * still held (negative once they went out). */
int hq_tls_flush(struct hq_conn *c, bool all, int64_t *delta);
/* The connection's BIO holds bytes not yet written. */
bool hq_tls_unsent(const struct hq_conn *c);
/* A read event: the socket may have bytes again (the BIO skips read()s
 * after one emptied it, until this). */
void hq_tls_readable(struct hq_conn *c);
void hq_tls_conn_free(struct hq_conn *c);
int hq_tls_handshake(struct hq_conn *c);
/* As read()/write(): -1 with errno EAGAIN when the socket is not ready. */
ssize_t hq_tls_read(struct hq_conn *c, void *buf, size_t len);
ssize_t hq_tls_write(struct hq_conn *c, const void *buf, size_t len);
/* Input is waiting inside OpenSSL (no read event will announce it). */
bool hq_tls_pending(const struct hq_conn *c);
const httpq_tls_info *hq_tls_info(struct hq_conn *c);
/* ALPN chose h2 on c (after the handshake). */
bool hq_tls_alpn_h2(struct hq_conn *c);

/* ---------------------------------------------------------------------
 * lifecycle.c -- the main thread.
 * ------------------------------------------------------------------- */
int hq_run(const char *path, const char *moddir, bool foreground);
int hq_check(const char *path, const char *moddir);

/* ---------------------------------------------------------------------
 * control.c -- the control socket (main thread, main event base).
 * ------------------------------------------------------------------- */
/* httpqd -s: overrides control.socket of the store. */
void hq_control_set_path(const char *path);
/* The socket's path is free or a socket (which the start replaces); -1,
 * logged, if it names anything else: httpqd then does not start. */
int hq_control_check(const struct hq_store *s);
/* What the control socket asks of the main thread, handed down by
 * lifecycle.c (the control socket never calls up). */
struct hq_control_ops {
	/* The current snapshot. */
	struct hq_config *(*current_config)(void);
	/* What SIGHUP does, with the outcome: 0 and the new generation, or -1
	 * with every error in errs (the caller frees errs either way). */
	int (*reload)(struct hq_errors *errs, unsigned *generation);
};
/* Listens on the socket; a failure is logged and the daemon runs without.
 * ops lives as long as the daemon. */
void hq_control_start(struct event_base *base, const struct hq_store *store,
    const struct hq_control_ops *ops);
void hq_control_stop(void);

/* ---------------------------------------------------------------------
 * attach.c -- queues served by attached processes: the queue socket and
 * its handles (main thread), and the built-in consumer (worker threads).
 * httpq-protocol(7); the ownership rules are at the top of attach.c.
 * ------------------------------------------------------------------- */
struct hq_attach_queue;   /* a queue's attach object: outlives snapshots */
struct hq_attach_handle;  /* one connection on the queue socket */
/* The consumer of `attach:` queues: a module built in (no dlopen). */
extern const struct httpq_module hq_attach_module;
struct hq_attach_ops {
	struct hq_config *(*current_config)(void);
};
/* Main thread, before the workers start: mb is the main mailbox.  Listens
 * on queue_socket.path (default HQ_DEFAULT_QUEUE_SOCKET); a failure is
 * logged and the daemon runs without.  ops lives as long as the daemon. */
/* httpqd -Q: overrides queue_socket.path of the store. */
void hq_attach_set_path(const char *path);
void hq_attach_start(struct event_base *base, struct hq_mailbox *mb,
    const struct hq_store *s, const struct hq_attach_ops *ops);
/* SIGTERM: SHUTDOWN to every handle, 503 to queued requests; held ones
 * may still be answered until the drain ends. */
void hq_attach_drain(void);
/* Closes the socket and every handle (before the workers stop). */
void hq_attach_stop(void);
/* Last, after the workers and the main mailbox are gone. */
void hq_attach_free(void);
/* `show queue NAME` / servicestate: the handles of the queue (text lines,
 * or with json `,"attached":[...],"waiting":N` inside the queue's object). */
void hq_attach_show(FILE *f, const char *queue, bool json);
/* servicestate: a table of every attached process; false if there is none. */
bool hq_attach_table(FILE *f);

/* Run-time registration: CREATE_QUEUE, ADD_URL and REMOVE_URL are
 * decoded and answered here and decided by registry.c (below), which
 * attach.c calls with the peer's credentials; a closing handle tells it. */
struct hq_attach_queue *hq_attach_queue_get(const char *name, bool create);
const char *hq_attach_queue_name(const struct hq_attach_queue *q);

/* ---------------------------------------------------------------------
 * worker.c -- threads with their own event base.
 * ------------------------------------------------------------------- */
struct hq_buf {
	char *p;
	size_t len, cap;
};

/* Per-worker free lists of the blocks a busy connection holds (worker.c):
 * an idle connection holds none. */
enum hq_pool_kind {
	HQ_POOL_BUF,     /* HQ_IBUF_SIZE: input, and output bytes */
	HQ_POOL_REQ,     /* struct hq_reqblock: request, header array, cooked path */
	HQ_POOL_SEGS,    /* HQ_SEGS_INITIAL output segments */
	HQ_POOL_EVENT,   /* struct event */
	HQ_NPOOLS
};
#define HQ_POOL_MAX 64 /* free blocks kept per kind: the rest goes back to malloc */
struct hq_pool {
	void *free[HQ_POOL_MAX];
	size_t n;
};

/*
 * A connection's timer (worker.c): a node in one of its worker's queues,
 * one queue per duration in seconds, each driven by one libevent timer.
 * Timers of one duration expire in the order they were set, so arming one
 * is O(1), and a connection holds 24 bytes instead of a struct event
 * (128).  Zeroed: not pending.
 */
struct hq_timer {
	struct hq_timer *next, *prev; /* NULL while not pending */
	uint64_t due_us;              /* hq_mono_us(true) */
};

/*
 * A precise timer of a worker (worker.c), for what a module times in
 * milliseconds (api->defer): CLOCK_MONOTONIC deadlines in a heap, behind
 * one timerfd.  Zeroed: not pending.
 */
struct hq_ptimer {
	uint64_t due_us;              /* hq_mono_us(false) */
	uint64_t seq;                 /* order of setting, for equal deadlines */
	size_t pos;                   /* 1 + index in the heap; 0: not pending */
	void (*fire)(struct hq_ptimer *t);
};
#define HQ_PTIMER_MAX_US (100ULL * 366 * 86400 * 1000000) /* longer: capped */

enum hq_accept_fail { HQ_ACCEPT_EMFILE, HQ_ACCEPT_ENFILE, HQ_ACCEPT_OTHER,
	HQ_ACCEPT_NFAILS };
#define HQ_ACCEPT_PAUSE_MS     100   /* after a failed accept(), doubling */
#define HQ_ACCEPT_PAUSE_MAX_MS 1000

/* A listening socket of a worker. */
struct hq_wlisten {
	struct event ev;
	int fd;
	unsigned burst;                /* accept()s per wakeup, at most */
	unsigned full;                 /* wakeups in a row that took burst */
	struct hq_worker *w;
};

struct hq_worker {
	int id;
	uint64_t nconn_ids, nreq_ids; /* ids handed out (hq_worker_next_id) */
	pthread_t thread;
	struct event_base *base;
	struct hq_mailbox mbox;
	struct hq_config *cfg;         /* this worker's reference */
	struct hq_rt *rt;              /* run-time registrations; NULL: none */
	struct hq_wlisten *listeners;  /* accepting sockets (worker.c) */
	struct hq_listen_addr *laddrs; /* parallel to listeners */
	size_t nlisteners;
	atomic_uint *lconns;           /* live connections per laddrs entry */
	atomic_uint_fast64_t *laccepted; /* accepted per laddrs entry (worker writes) */
	struct hq_wstats *stats;       /* its counters (stats.c) */
	size_t nladdrs;                /* laddrs (and lconns) entries, for life */
	struct hq_conn *conns;         /* every live connection (list) */
	atomic_uint nconns;            /* read by the main thread */
	bool draining;
	struct hq_pool pools[HQ_NPOOLS]; /* hq_worker_get/put */
	struct hq_tqueue **tqueues;    /* connection timers, one queue per duration */
	size_t ntqueues;
	/* precise timers: a min-heap by (due_us, seq), and its timerfd */
	struct hq_ptimer **pheap;
	size_t npheap, pheap_size;
	uint64_t pseq;
	uint64_t parmed_us;            /* the timerfd's deadline; 0: none */
	int ptfd;
	struct event ptev;
	/* Date header value, formatted once a second */
	time_t date_sec;
	char date[40];
	size_t date_len;
	struct hq_wlog *wlog;          /* log buffers (logfile.c), lazily */
	atomic_uint_fast64_t nreqs;    /* requests started; written by the worker only */
	/* accept() failures by reason (written by the worker only), and the
	 * current pause of the listeners after one (0: accepting) */
	atomic_uint_fast64_t accept_fails[HQ_ACCEPT_NFAILS];
	struct event *accept_timer;
	int accept_pause_ms;
	time_t accept_logged;          /* last "accept: ..." log line */
};

/* What a worker does with connections, handed down by lifecycle.c (the
 * connection layer, conn.c): the worker never calls up, as nginx's
 * listening sockets call ls->handler. */
struct hq_worker_conn_ops {
	/* A connection accepted on la; it is linked by hq_worker_link. */
	void (*accept)(struct hq_worker *w, const struct hq_listen_addr *la, int fd,
	    const struct sockaddr *peer, socklen_t peerlen);
	/* Shutdown: close when idle. */
	void (*drain)(struct hq_conn *c);
	void (*abort)(struct hq_conn *c, const char *why);
	/* A timer set by hq_timer_set expired (it is no longer pending). */
	void (*timeout)(struct hq_timer *t);
};
/* ops lives as long as the daemon. */
int hq_workers_start(unsigned n, struct hq_config *cfg, int **fds,
    const struct hq_worker_conn_ops *ops);
/* A connection or request id, unique among all workers for the daemon's
 * lifetime and increasing on one worker: counter * nworkers + id + 1.
 * Worker thread only; *counter is w->nconn_ids or w->nreq_ids. */
uint64_t hq_worker_next_id(const struct hq_worker *w, uint64_t *counter);
/* Worker thread: counts a request started on w and returns its id. */
uint64_t hq_worker_request_id(struct hq_worker *w);
/* Worker thread: c (accepted on c->la) joins or leaves w's connections
 * and their counts. */
void hq_worker_link(struct hq_worker *w, struct hq_conn *c);
void hq_worker_unlink(struct hq_worker *w, struct hq_conn *c);
void hq_workers_set_config(struct hq_config *cfg);
/* Main thread: every worker takes a reference of rt (NULL: none) and drops
 * its previous one; connections switch between requests. */
void hq_workers_set_rt(struct hq_rt *rt);
/* Stop accepting; idle connections close, busy ones finish. */
void hq_workers_drain(void);
unsigned hq_workers_connections(void);
/* Abort whatever is left, stop the loops and join the threads. */
void hq_workers_stop(void);
unsigned hq_workers_count(void);
/* Runs fn(worker) on every worker's loop (asynchronously). */
void hq_workers_post_all(void (*fn)(void *worker));
/* Requests started by all workers since the start (relaxed). */
uint64_t hq_workers_requests(void);
/* The listen addresses (fixed for the daemon's life) and, for entry i,
 * the connections open on it now, summed over the workers. */
size_t hq_workers_listeners(const struct hq_listen_addr **la);
unsigned hq_workers_listener_conns(size_t i);
uint64_t hq_workers_listener_accepted(size_t i);
/* accept() failures since the start, by enum hq_accept_fail (relaxed). */
void hq_workers_accept_fails(uint64_t n[HQ_ACCEPT_NFAILS]);
const char *hq_worker_date(struct hq_worker *w, size_t *len);
/* Worker thread: t expires in secs seconds (re-armed if pending), then
 * the worker calls its conn ops' timeout(t); or it is cancelled (a no-op
 * when it is not pending). */
void hq_timer_set(struct hq_worker *w, struct hq_timer *t, uint32_t secs);
void hq_timer_del(struct hq_timer *t);
/* Worker thread: t->fire(t) runs at least us microseconds from now (on
 * CLOCK_MONOTONIC, not the loop's coarse clock), once; re-armed if
 * pending.  del cancels it (a no-op when it is not pending). */
void hq_ptimer_set(struct hq_worker *w, struct hq_ptimer *t, uint64_t us);
void hq_ptimer_del(struct hq_worker *w, struct hq_ptimer *t);
#define HQ_IBUF_SIZE 16384
/* A new block of kind k, from malloc (worker.c knows the sizes). */
void *hq_worker_alloc(enum hq_pool_kind k);
/* A block of kind k from w's pool, or from malloc; put keeps at most
 * HQ_POOL_MAX of a kind and frees the rest; NULL is ignored.  Inline: a
 * keep-alive request takes and gives back several. */
static inline void *
hq_worker_get(struct hq_worker *w, enum hq_pool_kind k)
{
	struct hq_pool *p = &w->pools[k];

	return p->n > 0 ? p->free[--p->n] : hq_worker_alloc(k);
}
static inline void
hq_worker_put(struct hq_worker *w, enum hq_pool_kind k, void *block)
{
	struct hq_pool *p = &w->pools[k];

	if (block == NULL)
		return;
	if (p->n < HQ_POOL_MAX)
		p->free[p->n++] = block;
	else
		free(block);
}
static inline char *
hq_worker_getbuf(struct hq_worker *w, size_t *cap)
{
	*cap = HQ_IBUF_SIZE;
	return hq_worker_get(w, HQ_POOL_BUF);
}
/* Only standard-size buffers are kept; a grown one goes back to malloc. */
static inline void
hq_worker_putbuf(struct hq_worker *w, char *buf)
{
	hq_worker_put(w, HQ_POOL_BUF, buf);
}

/* ---------------------------------------------------------------------
 * listener.c -- listening sockets, one set per worker (SO_REUSEPORT).
 * ------------------------------------------------------------------- */
/* An address a TCP socket accepts from: 28 bytes, where a
 * sockaddr_storage takes 128 in every connection. */
union hq_inaddr {
	struct sockaddr sa;
	struct sockaddr_in in;
	struct sockaddr_in6 in6;
};
/* Opens nworkers sockets for each address of cfg; fds[w][i].  Logs and
 * returns -1 if any cannot be bound. */
int hq_listeners_open(const struct hq_config *cfg, unsigned nworkers, int ***fds);
/* server.defer_accept on la's listening socket fd: TCP_DEFER_ACCEPT of
 * secs, or 0 for HQ_TIMEOUT_OFF; a failure is logged. */
void hq_listener_defer(int fd, const struct hq_listen_addr *la, uint32_t secs);
/* At start: the soft RLIMIT_NOFILE up to the hard one (never beyond), logged. */
void hq_fd_limit_raise(void);
/* The soft RLIMIT_NOFILE now, and the hard one in *hard unless NULL. */
long hq_fd_limit(long *hard);
/* The local address of fd, accepted on la: la's own, or looked up once
 * (getsockname) for a wildcard address; *len is 0 until it is known.
 * Connections keep it in c->local (hq_conn_local). */
const struct sockaddr *hq_listen_local(const struct hq_listen_addr *la, int fd,
    union hq_inaddr *ss, socklen_t *len);
/* The control socket and the queue socket.  path is free, or a socket
 * (one an earlier httpqd left, which may be replaced): 0; anything else, a
 * symbolic link too, is refused: -1, logged as "WHO: PATH is a regular
 * file, not a socket: refusing to replace it (HINT)". */
int hq_unix_path_free(const char *path, const char *who, const char *hint);
/* Listens on the Unix stream socket path with the given mode (its folder
 * made if missing), replacing only a stale socket, never one a process
 * answers on.  The fd, or -1 with the reason logged under who. */
int hq_unix_listen(const char *path, mode_t mode, int backlog, const char *who,
    const char *hint);

/* ---------------------------------------------------------------------
 * sd.c -- systemd: notify, watchdog, socket activation.
 * ------------------------------------------------------------------- */
void hq_sd_collect_fds(void);
void hq_sd_journal_init(void);
int hq_sd_listen_fd(const struct hq_listen_addr *la);
void hq_sd_close_unused(void);
/* What the STATUS line counts, handed down by lifecycle.c. */
struct hq_sd_counts {
	unsigned (*connections)(void);
	uint64_t (*requests)(void);
};
/* counts lives as long as the daemon. */
void hq_sd_ready(struct event_base *base, unsigned generation, unsigned nworkers,
    const struct hq_sd_counts *counts);
void hq_sd_reloading(void);
void hq_sd_reloaded(unsigned generation);
void hq_sd_reload_failed(unsigned generation, size_t nerrors);
void hq_sd_stopping(unsigned nconns);
void hq_sd_free(void);

/* ---------------------------------------------------------------------
 * request.c / response.c / conn.c
 * ------------------------------------------------------------------- */
struct hq_defer;

/* Bytes shared by connections (a cache entry's body): they stay valid
 * while refs > 0; the last hq_ref_put calls release. */
struct hq_ref {
	atomic_uint refs;
	void (*release)(struct hq_ref *ref);
	const char *base;
};
static inline void
hq_ref_put(struct hq_ref *ref)
{
	if (atomic_fetch_sub_explicit(&ref->refs, 1, memory_order_acq_rel) == 1)
		ref->release(ref);
}

/* One output segment: bytes of c->out (fd == -1, ref NULL), a file range
 * (fd >= 0) or bytes at ref->base + off, of which it holds a reference. */
struct hq_seg {
	int fd;
	uint64_t off, len;
	struct hq_ref *ref;
};

struct httpq_request {
	struct hq_conn *c;
	uint64_t id;                 /* api->request_id(), set when framed */
	struct hq_str rid;           /* a trusted front proxy's id (in the head), or n = 0 */
	void *user_data;             /* api->set_user_data() */
	struct hq_capture *cap;      /* the response being kept (cache.c), or NULL */
	const struct hq_group *group;
	const struct hq_route *route;
	struct hq_head head;
	char *cooked;                /* cooked path (in c->cooked) */
	size_t cooked_len;
	struct hq_str query;
	char *cooked_url;            /* built on demand */
	uint64_t started_ms;
	uint64_t started_us, head_us; /* precise clock: framed, head queued */
	uint64_t out_mark;           /* c->bytes_out when the request began */

	/* request entity body */
	bool has_body;
	bool body_done;              /* all of the body has been consumed */
	bool body_reading;           /* a module reader is registered */
	bool body_paused;
	bool body_error;
	bool continue_sent;
	bool body_end_sent;
	int64_t body_left;           /* Content-Length bytes still to come */
	uint64_t body_seen;
	struct hq_chunked chunked;
	char *tr_raw;                /* the trailer section as received */
	size_t tr_len, tr_cap;
	struct hq_hdr *trailers;     /* views into tr_raw, once the body ended */
	size_t ntrailers;
	httpq_body_cb body_cb;
	void *body_arg;

	/* response */
	int status;
	bool head_sent;              /* send_head called */
	bool head_open;              /* framing not yet decided */
	bool chunked_out;
	bool close_delimited;
	bool no_body;                /* HEAD, 1xx, 204, 304 */
	bool resp_done;
	bool trailers_sent;          /* the last chunk went out with trailers */
	bool upgraded;               /* 101 sent: the connection is opaque */
	uint64_t opaque_mark;        /* bytes both ways when the idle timer was set */
	int64_t resp_cl;             /* Content-Length given by the module, or -1 */
	uint64_t resp_body;          /* entity bytes sent */

	/* ownership */
	bool owned;                  /* the module holds it */
	bool aborted;
	httpq_request_cb abort_cb, writable_cb;
	void *abort_arg, *writable_arg;
	struct hq_defer *defers;
	struct hq_h2s *h2s;          /* its HTTP/2 stream (h2.c); NULL: HTTP/1.x */
};

enum hq_conn_state {
	HQ_C_IDLE,      /* between requests, nothing received */
	HQ_C_HEAD,      /* receiving a request head */
	HQ_C_REQUEST,   /* a request is being handled */
	HQ_C_DRAIN,     /* response done, discarding the rest of the body */
	HQ_C_CLOSED,    /* socket closed, waiting for the module to finish */
	HQ_C_OPAQUE,    /* after a 101: raw bytes both ways, no more requests */
};

/*
 * A connection.  Between requests, with nothing buffered, it holds only
 * this struct and its read and timer events: its request, input and
 * output buffers, segments, header array, cooked path and write event go
 * back to the worker's pools (hq_worker_put) and come back with the next
 * bytes (conn.c, conn_release).  Keep it small: it is what an idle
 * connection costs (bools are bit-fields, addresses are not
 * sockaddr_storage).
 */
struct hq_conn {
	struct hq_worker *w;
	uint64_t id;                 /* api->connection_id() */
	const struct hq_listen_addr *la;
	struct hq_config *cfg;       /* reference; switched between requests */
	struct hq_rt *rt;            /* reference (NULL: none); switched as cfg */
	struct event rev;
	struct hq_timer timer;       /* the one timer the state needs */
	struct event *wev;           /* made when a write would block */
	int fd;
	enum hq_conn_state state;
	int in_callback;             /* depth: defer work and freeing up the stack */
	unsigned last_group_gen;
	uint8_t timer_kind;
	bool write_armed : 1, read_off : 1;
	bool close_after : 1;        /* no request after the current one */
	bool peer_eof : 1;           /* the client sent FIN */
	bool closed : 1;             /* socket gone */
	bool over_limit : 1;         /* past server.max_connections: 503 and close */
	/* TLS (tls_conn.c) */
	bool tls_hs : 1;             /* handshake not finished */
	bool tls_rww : 1;            /* TLS must write before reading goes on */
	bool tls_dead : 1;           /* fatal error: no close_notify */
	bool tls_quiet : 1;          /* the failure is logged already */
	bool tls_more : 1;           /* OpenSSL holds input the buffer had no room for */
	bool h2_tried : 1;           /* HTTP/2 or not is decided */
	bool linger : 1;             /* closed with input maybe unread: the socket
	                              * stays for a lingering close (conn.c) */
	bool lingering : 1;          /* in it: only struct, socket, rev and timer */
	socklen_t peerlen, locallen;
	union hq_inaddr peer, local;
	unsigned gslot;              /* URL group slot the connection counts in, 0 none */
	uint32_t timer_req;          /* nrequests (low bits) when the timer was set;
	                              * T_SEND: pending then (capped) */
	uint32_t req_seq;            /* which request req is, for late post()s */
	uint32_t linger_until;       /* lingering: end, in hq_mono_us(true) seconds */
	uint64_t nrequests;
	const struct hq_group *last_group; /* for per-group idle/header timeouts */
	struct event *bwev;          /* bandwidth timer (max_bandwidth), made on first use */

	/* input: ibuf[ipos..ilen) is unconsumed; NULL while idle.  32 bits:
	 * icap is at most max_request_bytes (16 MiB) + HQ_IBUF_SIZE + 1. */
	char *ibuf;
	uint32_t ipos, ilen, icap;
	uint32_t scanned;
	uint32_t head_base;          /* where the current head starts in ibuf */
	uint32_t nsegs, capsegs, seg0; /* segs[seg0..nsegs) pending */

	/* output: out.p and segs are NULL while idle */
	struct hq_buf out;
	struct hq_seg *segs;
	uint64_t pending;            /* bytes not yet written */
	uint64_t bytes_out;          /* bytes ever queued, for the access log */

	/* one request at a time (pipelining in order), with its header
	 * array and cooked path (struct hq_reqblock); NULL while idle */
	struct httpq_request *req;
	atomic_int posts;            /* post()s in flight: the conn outlives them */
	int tls_bind;                /* TLS: index of the binding, -1 before hello
	                              * (here, in a hole: the struct stays small) */
	struct hq_conn *prev, *next;

	struct ssl_st *ssl;          /* NULL on plain connections */
	struct hq_tls_facts *tls_facts;
	struct hq_h2 *h2;            /* HTTP/2 session (h2.c); NULL: HTTP/1.x */
};

/* conn.c */
#define HQ_OUT_LOWAT (64 * 1024)  /* on_writable fires below this */
#define HQ_HDRS_INITIAL 64        /* header entries a request starts with */
#define HQ_SEGS_INITIAL 8         /* output segments a connection starts with */
#define HQ_COOKED_INITIAL 256     /* cooked path bytes a request starts with */
/* A request with the header array and cooked path its head needs: one
 * pooled block (HQ_POOL_REQ), taken with the first bytes of a request and
 * given back when the connection idles.  r is first: c->req points at it.
 * Bigger arrays than the inline ones come from malloc. */
struct hq_reqblock {
	struct httpq_request r;       /* cleared for every request */
	struct hq_hdr *hdrs;          /* hdrs0, or a grown array */
	size_t hdr_cap;
	char *cooked;                 /* cooked0, or a bigger one */
	size_t cooked_cap;
	struct hq_hdr hdrs0[HQ_HDRS_INITIAL];
	char cooked0[HQ_COOKED_INITIAL];
};
/* Lingering close (RFC 9112 9.6): after a close with the client's bytes
 * maybe unread, a FIN, then its input is read and discarded until it
 * closes, goes quiet for HQ_LINGER_IDLE_S, or HQ_LINGER_MAX_S have passed
 * (nginx's lingering_timeout and lingering_time); at most HQ_LINGER_READS
 * reads of HQ_IBUF_SIZE per read event. */
#define HQ_LINGER_IDLE_S 5
#define HQ_LINGER_MAX_S 30
#define HQ_LINGER_READS 4
/* No further pipelined request is parsed (nor read) while this much output
 * is unsent; it goes on once the client has taken some. */
#define HQ_OUT_PIPELINE_MAX (64 * 1024)
void hq_conn_accept(struct hq_worker *w, const struct hq_listen_addr *la, int fd,
    const struct sockaddr *peer, socklen_t peerlen);
void hq_conn_drain(struct hq_conn *c);        /* shutdown: close when idle */
void hq_conn_abort(struct hq_conn *c, const char *why);
void hq_conn_timeout(struct hq_timer *t);  /* c->timer expired */
/* After anything touched a connection from outside its read path: write,
 * continue with pipelined input, or free. */
void hq_conn_kick(struct hq_conn *c);
void hq_conn_request_done(struct hq_conn *c);
/* A consumer hands back a request it owns: answered e (a 503) if nothing
 * of its response went out, else its connection closes (reset if asked);
 * reason goes to HTTPERR.  Releases the request. */
void hq_conn_giveup(httpq_request *r, enum hq_error e, const char *reason, bool reset);
void hq_conn_want_body(struct hq_conn *c);
/* After a 101 head (request.c): the connection becomes opaque, the bytes
 * after the request head are the module's (read_body), and no request
 * follows. */
void hq_conn_upgrade(struct hq_conn *c);
/* The local address, looked up once per connection when needed. */
const struct sockaddr *hq_conn_local(struct hq_conn *c);
/* Log lines about c's request (logfile.c writes them). */
void hq_access_log(struct hq_conn *c);
void hq_errlog(struct hq_conn *c, enum hq_error e, const char *reason, const char *queue);

/* A stream's request done with by request.c (response ended, finish):
 * the HTTP/2 counterpart of hq_conn_request_done. */
void hq_conn_stream_done(httpq_request *r);

/* h2.c -- HTTP/2 sessions (nghttp2) and their streams */
struct hq_h2;
struct hq_h2s;
/* What a stream's request needs from the layers above (conn.c). */
struct hq_h2_ops {
	/* Its head is complete: frame, route, admit, hand it to its module
	 * (or answer r->head.error). */
	void (*start)(struct hq_conn *c, httpq_request *r);
	/* The client reset the stream or the connection is gone. */
	void (*abort)(httpq_request *r);
	/* The body broke a limit (413): answer if possible, abort. */
	void (*body_fail)(struct hq_conn *c, httpq_request *r, enum hq_error e);
	/* The stream is over and its request released: log and count it. */
	void (*done)(struct hq_conn *c, httpq_request *r);
};
enum hq_h2_wait { HQ_H2_W_NONE, HQ_H2_W_IDLE, HQ_H2_W_HEAD, HQ_H2_W_BODY,
	HQ_H2_W_SEND };
/* ops lives as long as the daemon. */
struct hq_h2 *hq_h2_new(struct hq_conn *c, const struct hq_h2_ops *ops);
void hq_h2_free(struct hq_h2 *h);
/* Input bytes: 0, or -1 when the session failed (close the connection). */
int hq_h2_recv(struct hq_h2 *h, const char *p, size_t n);
/* Frames into c->out, up to a bound: 0, or -1 (close). */
int hq_h2_send(struct hq_h2 *h);
/* Starts requests, delivers bodies, runs aborts and on_writable (outside
 * nghttp2), frees the streams done with; true if anything ran. */
bool hq_h2_run(struct hq_h2 *h);
bool hq_h2_over(const struct hq_h2 *h);       /* the session has ended */
bool hq_h2_want_write(const struct hq_h2 *h);
bool hq_h2_readable(const struct hq_h2 *h);   /* input is still wanted */
/* A session that ended well (GOAWAY NO_ERROR): its close may linger for
 * frames on their way.  Not after a flood or a failed session. */
bool hq_h2_lingers(const struct hq_h2 *h);
void hq_h2_drain(struct hq_h2 *h);            /* GOAWAY: no new streams */
void hq_h2_close(struct hq_h2 *h);            /* connection gone: abort all */
size_t hq_h2_streams(const struct hq_h2 *h);  /* stream objects alive */
bool hq_h2_owned(const struct hq_h2 *h);      /* a module holds a request */
bool hq_h2_writable(const struct hq_h2 *h);   /* an on_writable is due */
enum hq_h2_wait hq_h2_waiting(struct hq_h2 *h, bool *progress);
uint64_t hq_h2_queued(const struct hq_h2 *h);
httpq_request *hq_h2_request(struct hq_h2 *h, uint64_t id);
void hq_h2_each_owned(struct hq_h2 *h, void (*fn)(struct hq_conn *, httpq_request *));
/* On a stream's request (r->h2s != NULL). */
void hq_h2_release(httpq_request *r);
void hq_h2_want_body(httpq_request *r);     /* read_body(): 100 if expected */
uint64_t hq_h2_bytes_out(const httpq_request *r);
size_t hq_h2_pending(const httpq_request *r);
int hq_h2_send_head(httpq_request *r, int status, const char *reason,
    const httpq_header *h, size_t n, unsigned flags);
int hq_h2_send_body(httpq_request *r, const void *data, size_t len, unsigned flags);
int hq_h2_send_file(httpq_request *r, int fd, uint64_t off, uint64_t len, unsigned flags);
int hq_h2_send_trailers(httpq_request *r, const httpq_header *t, size_t n);
void hq_h2_end(httpq_request *r);
void hq_h2_reset(httpq_request *r, bool refused);
void hq_h2_error(httpq_request *r, enum hq_error e, const char *queue);
/* A response of the cache on the stream (as hq_response_stored). */
struct hq_stored;
void hq_h2_stored(httpq_request *r, const struct hq_stored *st, uint64_t age_s);

/* response.c */
void hq_out_append(struct hq_conn *c, const void *p, size_t n);
void hq_out_file(struct hq_conn *c, int fd, uint64_t off, uint64_t len);
void hq_out_reset(struct hq_conn *c);
/* Writes as much as the socket takes, at most budget bytes (UINT64_MAX:
 * no limit): 0 ok (maybe pending), -1 error.  TLS: small records stay
 * in the connection's BIO until hq_out_tls_flush, unless earlier held
 * bytes wait for the socket. */
int hq_out_flush(struct hq_conn *c, uint64_t budget);
/* TLS, once per event-loop turn: what the connection's BIO holds goes
 * out; what the socket does not take counts in c->pending until it does.
 * 0, or -1 on a socket error. */
int hq_out_tls_flush(struct hq_conn *c);
int hq_response_head(httpq_request *r, int status, const char *reason,
    const httpq_header *headers, size_t n, unsigned flags);
void hq_response_close_head(httpq_request *r, uint64_t body_len, bool final);
/* A 101 head: the module's fields (never framing or Connection, which is
 * "upgrade"), no Date or Server.  -1, writing nothing, for a bad field. */
int hq_response_switch(httpq_request *r, const char *reason,
    const httpq_header *headers, size_t n);
void hq_response_error(struct hq_conn *c, enum hq_error e, const char *queue);
/* The body of a daemon-made answer to r (the page http.sys sends), its
 * length, and the status line's reason in *phrase. */
size_t hq_response_error_page(const httpq_request *r, enum hq_error e, const char *queue,
    char *body, size_t cap, const char **phrase);
/* A response of the cache, made when it is stored: head is the status
 * line and fields (without Date, Server, framing and Connection), tail the
 * Server field (if sent) and the framing (Content-Length; none for a 304). */
struct hq_stored {
	int status;
	const char *head, *tail, *body;
	size_t headlen, taillen, bodylen;
	/* Non-NULL: the body is sent from body (a reference taken for as long
	 * as it is queued), not copied. */
	struct hq_ref *ref;
};
/* Queues head, Age, Date, tail, Connection if due, the empty line, and the
 * body unless the request is a HEAD: head and fields with one copy. */
void hq_response_stored(httpq_request *r, const struct hq_stored *s, uint64_t age_s);
/* Writes the tail of a stored response (at most HQ_STORED_TAIL_MAX
 * bytes) to out; its length. */
#define HQ_STORED_TAIL_MAX 128
size_t hq_response_stored_tail(const struct hq_conn *c, int status, uint64_t bodylen,
    bool server, char *out);

/* cache.c -- the response cache (one table, read-locked on hits) */
/* Worker: answers c->req (routed, not admitted) from the cache; true if
 * it did (a hit), false to go on to the queue.  Counts hits and misses. */
/* How a hit is sent (under the table's read lock): hq_response_stored
 * (HTTP/1.1) or hq_h2_stored (a stream), as the caller hands it down. */
typedef void (*hq_cache_emit)(httpq_request *r, const struct hq_stored *s, uint64_t age_s);
bool hq_cache_serve(struct hq_conn *c, httpq_request *r, hq_cache_emit emit);
/* api->cache_policy(): starts (or, nocache, drops) r's capture. */
int hq_cache_mark(httpq_request *r, int policy, uint32_t ttl);
/* What the module sends, as it sends it (request.c); a capture that
 * cannot be kept is dropped on the way. */
void hq_cache_capture_head(httpq_request *r, int status, const char *reason,
    const httpq_header *h, size_t n, unsigned flags);
void hq_cache_capture_body(httpq_request *r, const void *p, size_t n, unsigned flags);
void hq_cache_capture_file(httpq_request *r, int fd, uint64_t off, uint64_t len,
    unsigned flags);
/* The response ended: a complete capture becomes an entry. */
void hq_cache_capture_end(httpq_request *r);
void hq_cache_capture_drop(httpq_request *r);
/* Main thread, every second: the scavenger. */
void hq_cache_tick(const struct hq_config *cfg);
/* Removes the entry of url (recursive: and those below it; NULL: all);
 * url as hq_cache_url_parse gives it.  Returns how many went. */
size_t hq_cache_flush(const char *url, bool recursive);
/* The live entries at or below url (NULL: all), for show cachestate; the
 * caller frees them (hq_cacheinfo_free). */
size_t hq_cache_state(const char *url, struct hq_cacheinfo **out);
void hq_cache_stats(const struct hq_config *cfg, struct hq_cachestats *st);
void hq_cache_free(void);

/* logfile.c -- access and error logs through per-worker buffers */
struct hq_alog;
struct hq_logfile;
struct hq_wlog;
int hq_config_open_logs(struct hq_config *cfg, bool check_only, struct hq_errors *errs);
void hq_config_close_logs(struct hq_config *cfg);
/* Worker w's thread: rec (its clk set here) to access log a, or to the
 * HTTPERR log f (NULL: the daemon log). */
void hq_log_access(struct hq_worker *w, const struct hq_alog *a, struct hq_logrec *rec);
void hq_log_httperr(struct hq_worker *w, struct hq_logfile *f, struct hq_logrec *rec);
/* Posted to every worker (hq_workers_post_all) for `flush logbuffer`: the
 * worker writes what it buffers. */
void hq_wlog_flush(void *worker);
/* Log lines not written (disk full, file too large) since the start. */
uint64_t hq_logs_dropped(void);
void hq_logs_reopen(void);
void hq_logs_free(void);
void hq_wlog_free(struct hq_worker *w);

/* request.c */
void hq_request_release(httpq_request *r);
void hq_request_abort(httpq_request *r);
void hq_request_cancel_defers(httpq_request *r);

#endif /* HTTPQD_H */
