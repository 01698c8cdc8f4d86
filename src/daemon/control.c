/*
 * control.c -- the control socket: httpqctl (or socat) talks to httpqd.
 *
 * A Unix stream socket served by the main thread's event base.  The peer's
 * credentials (SO_PEERCRED, SO_PEERGROUPS) decide at connect time: root and
 * members of control.admin_group may change things, members of
 * control.read_group may only show, anyone else is told no and logged.
 *
 * A client never blocks the daemon: input is bounded (one line of at most
 * HQ_CTL_MAX_LINE bytes, completed within HQ_CTL_TIMEOUT_S), output is
 * buffered up to HQ_CTL_OUT_HIGH before the client's next command is read,
 * and a reader that does not drain it within HQ_CTL_TIMEOUT_S is dropped.
 * The protocol itself is in ctlproto.c.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <grp.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>

#include "httpqd.h"

#define HQ_CTL_TIMEOUT_S  10            /* half-sent command, or output not read;
                                         * the messages below say 10 s */
#define HQ_CTL_OUT_HIGH   (256 * 1024)  /* stop reading commands above this */
#define HQ_CTL_MAX_GROUPS 256

enum level { L_NONE, L_READ, L_ADMIN };

struct client {
	struct bufferevent *bev;
	pid_t pid;
	uid_t uid;
	enum level level;
	bool closing;                 /* free once the output is written */
	struct client *prev, *next;
};

_Static_assert(HQ_CTL_MAX_LINE == 4096, "the messages below say 4096 bytes");

static struct {
	char *override;               /* httpqd -s */
	char *path;                   /* the socket we created, to unlink */
	struct evconnlistener *lev;
	struct event *resume;         /* re-enables lev after accept failed */
	struct event_base *base;
	struct client *clients;
	time_t started;
	const struct hq_control_ops *ops; /* from lifecycle.c */
} C;

static bool process(struct client *c, bool at_eof);

void
hq_control_set_path(const char *path)
{
	free(C.override);
	C.override = xstrdup(path);
}

/* ---------------------------------------------------------------------
 * Clients
 * ------------------------------------------------------------------- */

/* Unread input makes close() reset the connection, and the peer would lose
 * the answer already sent (the ERR of an oversized command): read it away. */
static void
discard_input(int fd)
{
	char buf[4096];

	for (int i = 0; i < 64 && recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0; i++)
		;
}

static void
client_free(struct client *c)
{
	discard_input(bufferevent_getfd(c->bev));
	if (c->prev)
		c->prev->next = c->next;
	else
		C.clients = c->next;
	if (c->next)
		c->next->prev = c->prev;
	bufferevent_free(c->bev);
	free(c);
}

/* Frees now (true), or once what is queued has been written. */
static bool
client_close(struct client *c)
{
	c->closing = true;
	bufferevent_disable(c->bev, EV_READ);
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) != 0)
		return false;
	client_free(c);
	return true;
}

static void
reply_status(struct client *c, int code, const char *msg)
{
	char *s = hq_ctl_status(code, msg);

	bufferevent_write(c->bev, s, strlen(s));
	free(s);
}

static bool
in_group(const char *name, gid_t gid, const gid_t *groups, size_t n)
{
	struct group *gr = name ? getgrnam(name) : NULL;

	if (gr == NULL)
		return false;
	if (gr->gr_gid == gid)
		return true;
	for (size_t i = 0; i < n; i++)
		if (groups[i] == gr->gr_gid)
			return true;
	return false;
}

/* The peer's supplementary groups: from the kernel, else from the user
 * database. */
static size_t
peer_groups(int fd, const struct ucred *cr, gid_t *groups)
{
	socklen_t len = HQ_CTL_MAX_GROUPS * sizeof(gid_t);
	struct passwd *pw;
	int n = HQ_CTL_MAX_GROUPS;

#ifdef SO_PEERGROUPS
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) == 0)
		return len / sizeof(gid_t);
#endif
	if ((pw = getpwuid(cr->uid)) == NULL ||
	    getgrouplist(pw->pw_name, cr->gid, groups, &n) < 0)
		return 0;
	return (size_t)n;
}

static enum level
peer_level(int fd, struct client *c, const struct hq_store *s)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);
	gid_t groups[HQ_CTL_MAX_GROUPS];
	size_t n;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0) {
		hq_log(LOG_ERR, "control: SO_PEERCRED: %m");
		c->uid = (uid_t)-1;
		return L_NONE;
	}
	c->pid = cr.pid;
	c->uid = cr.uid;
	if (cr.uid == 0)
		return L_ADMIN;
	n = peer_groups(fd, &cr, groups);
	if (in_group(s->control.admin_group, cr.gid, groups, n))
		return L_ADMIN;
	if (in_group(s->control.read_group, cr.gid, groups, n))
		return L_READ;
	return L_NONE;
}

static void
on_write(struct bufferevent *bev, void *arg)
{
	struct client *c = arg;

	if (c->closing) {
		client_free(c);
		return;
	}
	/* Output drained: take the next command. */
	bufferevent_enable(c->bev, EV_READ);
	process(c, false);
}

static void
on_read(struct bufferevent *bev, void *arg)
{
	process(arg, false);
}

static void
on_event(struct bufferevent *bev, short what, void *arg)
{
	struct client *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);

	if ((what & BEV_EVENT_TIMEOUT) && (what & BEV_EVENT_READING) &&
	    evbuffer_get_length(in) > 0 && !c->closing) {
		reply_status(c, HQ_CTL_USAGE, "incomplete command: no newline "
		    "within 10 s");
		client_close(c);
		return;
	}
	if (what & BEV_EVENT_EOF && !c->closing) {
		/* socat sends its last line and shuts down writing: answer it,
		 * even without a newline. */
		if (!process(c, true) && !c->closing)
			client_close(c);
		return;
	}
	client_free(c);
}

static void
on_resume(evutil_socket_t fd, short what, void *arg)
{
	if (C.lev != NULL)
		evconnlistener_enable(C.lev);
}

/* Out of descriptors: the listener would fire again at once and spin;
 * pause it for a second (worker.c does the same for HTTP). */
static void
on_accept_error(struct evconnlistener *l, void *arg)
{
	hq_log(LOG_ERR, "control: accept: %s; pausing for 1 s", strerror(errno));
	evconnlistener_disable(l);
	event_add(C.resume, &(struct timeval){ 1, 0 });
}

static void
on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
    int salen, void *arg)
{
	struct timeval tv = { HQ_CTL_TIMEOUT_S, 0 };
	struct client *c = xcalloc(1, sizeof(*c));
	const struct hq_store *s = C.ops->current_config()->store;

	c->level = peer_level(fd, c, s);
	c->bev = bufferevent_socket_new(C.base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (c->bev == NULL) {
		close(fd);
		free(c);
		return;
	}
	bufferevent_setcb(c->bev, on_read, on_write, on_event, c);
	bufferevent_setwatermark(c->bev, EV_READ, 0, HQ_CTL_MAX_LINE + 1);
	bufferevent_set_timeouts(c->bev, &tv, &tv);
	c->next = C.clients;
	if (C.clients)
		C.clients->prev = c;
	C.clients = c;
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	if (c->level != L_NONE)
		return;
	hq_log(LOG_WARNING, "control: permission denied to uid %ld pid %ld: "
	    "neither root nor in group \"%s\" or \"%s\"", (long)(int)c->uid,
	    (long)c->pid, s->control.admin_group, s->control.read_group);
	reply_status(c, HQ_CTL_INVALID, "permission denied");
	client_close(c);
}

/* ---------------------------------------------------------------------
 * Commands
 * ------------------------------------------------------------------- */

struct answer {
	FILE *f;                      /* data lines */
	int code;
	char msg[512];
};

static void __attribute__((format(printf, 3, 4)))
answer(struct answer *a, int code, const char *fmt, ...)
{
	va_list ap;

	a->code = code;
	va_start(ap, fmt);
	vsnprintf(a->msg, sizeof(a->msg), fmt, ap);
	va_end(ap);
}

static void
uptime_text(time_t secs, char *buf, size_t size)
{
	snprintf(buf, size, "%lldd %02lld:%02lld:%02lld", (long long)secs / 86400,
	    (long long)secs / 3600 % 24, (long long)secs / 60 % 60,
	    (long long)secs % 60);
}

/* Descriptors and what was lost for want of them or of disk space. */
static void
servicestate_limits(FILE *f, bool json)
{
	uint64_t n[HQ_ACCEPT_NFAILS];
	long hard = -1, soft = hq_fd_limit(&hard);

	hq_workers_accept_fails(n);
	fprintf(f, json ? ",\"fd_limit\":{\"soft\":%ld,\"hard\":%ld},"
	    "\"accepts_refused\":{\"total\":%llu,\"emfile\":%llu,\"enfile\":%llu,"
	    "\"other\":%llu},\"log_lines_dropped\":%llu" :
	    "fd limit %ld (hard %ld)  accepts refused %llu (EMFILE %llu, ENFILE "
	    "%llu, other %llu)\nlog lines dropped %llu\n", soft, hard,
	    (unsigned long long)(n[0] + n[1] + n[2]), (unsigned long long)n[0],
	    (unsigned long long)n[1], (unsigned long long)n[2],
	    (unsigned long long)hq_logs_dropped());
}

/*
 * What attached processes registered at run time (registry.c): URLs with
 * their owner, and queues they created.  A URL that YAML registers too
 * (after a reload) is shadowed: YAML serves it.
 */
static const char *
shadowed_by(const struct hq_config *cfg, const struct hq_prefix *p)
{
	const struct hq_route *r = hq_router_find(cfg->router, p);

	return r ? ((const struct hq_group *)r->owner)->sg->name : NULL;
}

static void
runtime_text(FILE *f, const struct hq_config *cfg)
{
	const struct hq_rt *rt = hq_registry_current();
	struct hq_table *t = hq_table_new(5, "RUN-TIME URL", "QUEUE", "PID", "UID",
	    "SERVED");
	const char *name;
	char n[3][24], served[128];
	pid_t pid;
	uid_t uid;

	for (size_t i = 0; rt != NULL && i < hq_router_count(rt->router); i++) {
		const struct hq_route *r = hq_router_at(rt->router, i);
		const struct hq_rt_owner *o = ((const struct hq_group *)r->owner)->rt;
		const char *by = shadowed_by(cfg, &r->prefix);

		snprintf(n[0], sizeof(n[0]), "%ld", (long)o->pid);
		snprintf(n[1], sizeof(n[1]), "%ld", (long)o->uid);
		if (by != NULL)
			snprintf(served, sizeof(served), "no: url group %s", by);
		hq_table_row(t, r->prefix.text, o->queue, n[0], n[1],
		    by ? served : "yes");
	}
	hq_table_print(f, t, "no URLs registered at run time");
	fputc('\n', f);
	t = hq_table_new(3, "RUN-TIME QUEUE", "PID", "UID");
	for (size_t i = 0; i < hq_registry_queues(&name, &pid, &uid, i); i++) {
		snprintf(n[0], sizeof(n[0]), "%ld", (long)pid);
		snprintf(n[1], sizeof(n[1]), "%ld", (long)uid);
		hq_table_row(t, name, n[0], n[1]);
	}
	hq_table_print(f, t, "no queues created at run time");
	fputc('\n', f);
}

static void
runtime_json(FILE *f, const struct hq_config *cfg)
{
	const struct hq_rt *rt = hq_registry_current();
	const char *name;
	pid_t pid;
	uid_t uid;

	fputs(",\"runtime_urls\":[", f);
	for (size_t i = 0; rt != NULL && i < hq_router_count(rt->router); i++) {
		const struct hq_route *r = hq_router_at(rt->router, i);
		const struct hq_rt_owner *o = ((const struct hq_group *)r->owner)->rt;

		fputs(i ? ",{\"url\":" : "{\"url\":", f);
		hq_json_str(f, r->prefix.text);
		fputs(",\"queue\":", f);
		hq_json_str(f, o->queue);
		fprintf(f, ",\"pid\":%ld,\"uid\":%ld,\"shadowed_by\":", (long)o->pid,
		    (long)o->uid);
		hq_json_str(f, shadowed_by(cfg, &r->prefix));
		fputc('}', f);
	}
	fputs("],\"runtime_queues\":[", f);
	for (size_t i = 0; i < hq_registry_queues(&name, &pid, &uid, i); i++) {
		fputs(i ? ",{\"name\":" : "{\"name\":", f);
		hq_json_str(f, name);
		fprintf(f, ",\"pid\":%ld,\"uid\":%ld}", (long)pid, (long)uid);
	}
	fputc(']', f);
}

/* The response cache's counters (http.sys: URI cache hits and misses). */
static void
servicestate_cache(FILE *f, const struct hq_config *cfg, bool json)
{
	struct hq_cachestats st;

	hq_cache_stats(cfg, &st);
	fprintf(f, json ? ",\"cache\":{\"enabled\":%s,\"entries\":%llu,"
	    "\"bytes\":%llu,\"max_bytes\":%llu,\"hits\":%llu,\"misses\":%llu}" :
	    "response cache %s  entries %llu  bytes %llu of %llu  hits %llu  "
	    "misses %llu\n", st.enabled ? json ? "true" : "on" : json ? "false" :
	    "off", (unsigned long long)st.entries, (unsigned long long)st.bytes,
	    (unsigned long long)st.max_bytes, (unsigned long long)st.hits,
	    (unsigned long long)st.misses);
}

/* Connections and requests by protocol: HTTP/1.x and HTTP/2.0 (issue 12). */
static void
servicestate_protocols(FILE *f, bool json)
{
	uint64_t h2c, h2r, all = hq_workers_requests();
	unsigned conns = hq_workers_connections();
	unsigned long long c1, r1;

	hq_stats_sum_h2(&h2c, &h2r);
	c1 = conns > h2c ? conns - h2c : 0;
	r1 = all > h2r ? all - h2r : 0;
	if (json)
		fprintf(f, ",\"protocols\":[{\"protocol\":\"HTTP/1.1\",\"connections\":%llu,"
		    "\"requests\":%llu},{\"protocol\":\"HTTP/2.0\",\"connections\":%llu,"
		    "\"requests\":%llu}]", c1, r1, (unsigned long long)h2c,
		    (unsigned long long)h2r);
	else
		fprintf(f, "protocols  HTTP/1.1 connections %llu requests %llu  "
		    "HTTP/2.0 connections %llu requests %llu\n", c1, r1,
		    (unsigned long long)h2c, (unsigned long long)h2r);
}

static void
servicestate_text(FILE *f, const struct hq_config *cfg)
{
	const struct hq_store *s = cfg->store;
	const struct hq_listen_addr *la = NULL;
	size_t nla = hq_workers_listeners(&la);
	struct hq_table *t;
	char up[64], at[512], gat[512], n[8][24];

	uptime_text(time(NULL) - C.started, up, sizeof(up));
	fprintf(f, "httpqd %s  pid %ld  up %s  generation %u  workers %u\n",
	    PACKAGE_VERSION, (long)getpid(), up, cfg->generation,
	    hq_workers_count());
	hq_ctl_text_line(f, "store %s (%zu file%s)", s->files[0], s->nfiles,
	    s->nfiles == 1 ? "" : "s");
	servicestate_limits(f, false);
	servicestate_cache(f, cfg, false);
	fprintf(f, "connections %u  max connections ", hq_workers_connections());
	fprintf(f, s->max_connections ? "%u\n" : "unlimited\n", s->max_connections);
	servicestate_protocols(f, false);
	fputc('\n', f);
	t = hq_table_new(5, "URL GROUP", "QUEUE", "PREFIX", "PREFIX DEFINED AT",
	    "GROUP DEFINED AT");
	for (size_t i = 0; i < s->ngroups; i++) {
		const struct hq_store_group *g = &s->groups[i];

		hq_origin_text(&g->at, gat, sizeof(gat));
		for (size_t j = 0; j < g->nprefixes; j++)
			hq_table_row(t, g->name, g->queue ? g->queue : "(none: 503)",
			    g->prefixes[j].text,
			    hq_origin_text(&g->prefix_at[j], at, sizeof(at)), gat);
	}
	hq_table_print(f, t, "no URL groups");
	fputc('\n', f);
	t = hq_table_new(9, "QUEUE", "LIMIT", "503", "MODULE", "ARRIVED",
	    "COMPLETED", "REJECTED", "CURRENT", "PEAK");
	for (size_t i = 0; i < cfg->nconsumers; i++) {
		const struct hq_store_queue *sq = &s->queues[i];
		struct hq_queue_stats st;

		hq_queue_stats(cfg->consumers[i].queue, &st);
		snprintf(n[0], sizeof(n[0]), "%u", st.limit);
		snprintf(n[1], sizeof(n[1]), "%llu", (unsigned long long)st.arrived);
		snprintf(n[2], sizeof(n[2]), "%llu", (unsigned long long)st.completed);
		snprintf(n[3], sizeof(n[3]), "%llu", (unsigned long long)st.rejected);
		snprintf(n[4], sizeof(n[4]), "%u", st.current);
		snprintf(n[5], sizeof(n[5]), "%u", st.peak);
		hq_table_row(t, sq->name, n[0], hq_verbosity_name(st.verbosity),
		    sq->attach ? "attach" : sq->module, n[1], n[2], n[3], n[4], n[5]);
	}
	hq_table_print(f, t, "no queues");
	fputc('\n', f);
	if (hq_attach_table(f))
		fputc('\n', f);
	runtime_text(f, cfg);
	t = hq_table_new(8, "URL GROUP", "REQUESTS", "2XX", "3XX", "4XX", "5XX",
	    "BYTES IN", "BYTES OUT");
	for (size_t i = 0; i <= s->ngroups; i++) {
		struct hq_gsum g;
		uint64_t all;

		hq_stats_sum_group(i < s->ngroups ? cfg->groups[i].slot : 0, &g);
		all = g.status[0] + g.status[1] + g.status[2] + g.status[3] +
		    g.status[4] + g.status[5];
		snprintf(n[0], sizeof(n[0]), "%llu", (unsigned long long)all);
		for (size_t k = 2; k <= 5; k++)
			snprintf(n[k - 1], sizeof(n[0]), "%llu",
			    (unsigned long long)g.status[k]);
		snprintf(n[5], sizeof(n[0]), "%llu", (unsigned long long)g.bytes_in);
		snprintf(n[6], sizeof(n[0]), "%llu", (unsigned long long)g.bytes_out);
		hq_table_row(t, i < s->ngroups ? s->groups[i].name : "(no group)",
		    n[0], n[1], n[2], n[3], n[4], n[5], n[6]);
	}
	hq_table_print(f, t, "no URL groups");
	fputc('\n', f);
	t = hq_table_new(5, "URL GROUP", "STATE", "CONNECTIONS", "MAX CONNECTIONS",
	    "MAX BANDWIDTH");
	for (size_t i = 0; i < s->ngroups; i++) {
		const struct hq_store_group *g = &s->groups[i];

		snprintf(n[0], sizeof(n[0]), "%u", atomic_load_explicit(
		    &hq_stats_shared(cfg->groups[i].slot)->conns, memory_order_relaxed));
		snprintf(n[1], sizeof(n[1]), g->max_connections ? "%u" : "unlimited",
		    g->max_connections);
		snprintf(n[2], sizeof(n[2]), g->max_bandwidth ? "%u B/s" : "unlimited",
		    g->max_bandwidth);
		hq_table_row(t, g->name, hq_group_state_name(g->state), n[0], n[1], n[2]);
	}
	hq_table_print(f, t, "no URL groups");
	fputc('\n', f);
	t = hq_table_new(4, "LISTENER", "CONNECTIONS", "ACCEPTED", "DEFER ACCEPT");
	if (s->defer_accept == HQ_TIMEOUT_OFF)
		snprintf(n[2], sizeof(n[2]), "off");
	else
		snprintf(n[2], sizeof(n[2]), "%u s", s->defer_accept);
	for (size_t i = 0; i < nla; i++) {
		snprintf(n[0], sizeof(n[0]), "%u", hq_workers_listener_conns(i));
		snprintf(n[1], sizeof(n[1]), "%llu",
		    (unsigned long long)hq_workers_listener_accepted(i));
		hq_table_row(t, la[i].text, n[0], n[1], n[2]);
	}
	hq_table_print(f, t, "no listeners (no URL prefix registered)");
}

static void
queue_json(FILE *f, const struct hq_store_queue *sq, const struct hq_queue *q)
{
	struct hq_queue_stats st;

	hq_queue_stats(q, &st);
	fputs("{\"name\":", f);
	hq_json_str(f, sq->name);
	fprintf(f, ",\"limit\":%u,\"verbosity\":\"%s\",\"module\":", st.limit,
	    hq_verbosity_name(st.verbosity));
	hq_json_str(f, sq->attach ? "attach" : sq->module);
	fprintf(f, ",\"arrived\":%llu,\"completed\":%llu,\"rejected\":%llu,"
	    "\"current\":%u,\"peak\":%u,", (unsigned long long)st.arrived,
	    (unsigned long long)st.completed, (unsigned long long)st.rejected,
	    st.current, st.peak);
	hq_json_origin(f, &sq->at);
	hq_attach_show(f, sq->name, true);
	fputc('}', f);
}

/* A URL group's counters, summed over the workers (stats.c). */
static void
group_counts_json(FILE *f, unsigned slot)
{
	struct hq_gsum g;

	hq_stats_sum_group(slot, &g);
	fprintf(f, ",\"requests\":{\"1xx\":%llu,\"2xx\":%llu,\"3xx\":%llu,"
	    "\"4xx\":%llu,\"5xx\":%llu},\"503\":{",
	    (unsigned long long)g.status[1], (unsigned long long)g.status[2],
	    (unsigned long long)g.status[3], (unsigned long long)g.status[4],
	    (unsigned long long)g.status[5]);
	for (size_t k = 0; k < HQ_S503_N; k++)
		fprintf(f, "%s\"%s\":%llu", k ? "," : "", hq_stats_503_names[k],
		    (unsigned long long)g.r503[k]);
	fprintf(f, "},\"bytes_in\":%llu,\"bytes_out\":%llu",
	    (unsigned long long)g.bytes_in, (unsigned long long)g.bytes_out);
	if (slot != 0)
		fprintf(f, ",\"connections\":%u", atomic_load_explicit(
		    &hq_stats_shared(slot)->conns, memory_order_relaxed));
}

static void
group_json(FILE *f, const struct hq_store_group *g, unsigned slot)
{
	fputs("{\"name\":", f);
	hq_json_str(f, g->name);
	fputs(",\"queue\":", f);
	hq_json_str(f, g->queue);
	fprintf(f, ",\"state\":\"%s\",\"max_connections\":%u,"
	    "\"max_bandwidth\":%u,", hq_group_state_name(g->state),
	    g->max_connections, g->max_bandwidth);
	hq_json_origin(f, &g->at);
	fputs(",\"prefixes\":[", f);
	for (size_t j = 0; j < g->nprefixes; j++) {
		fputs(j ? ",{\"url\":" : "{\"url\":", f);
		hq_json_str(f, g->prefixes[j].text);
		fputc(',', f);
		hq_json_origin(f, &g->prefix_at[j]);
		fputc('}', f);
	}
	fputc(']', f);
	group_counts_json(f, slot);
	fputc('}', f);
}

static void
servicestate_json(FILE *f, const struct hq_config *cfg)
{
	const struct hq_store *s = cfg->store;
	const struct hq_listen_addr *la = NULL;
	size_t nla = hq_workers_listeners(&la);
	uint64_t tls[2], rl[2];

	fprintf(f, "{\"version\":\"%s\",\"pid\":%ld,\"uptime\":%lld,"
	    "\"generation\":%u,\"workers\":%u,\"store\":", PACKAGE_VERSION,
	    (long)getpid(), (long long)(time(NULL) - C.started),
	    cfg->generation, hq_workers_count());
	hq_json_str(f, s->files[0]);
	fprintf(f, ",\"connections\":%u,\"max_connections\":%u",
	    hq_workers_connections(), s->max_connections);
	servicestate_limits(f, true);
	servicestate_cache(f, cfg, true);
	fputs(",\"url_groups\":[", f);
	for (size_t i = 0; i < s->ngroups; i++) {
		fputs(i ? "," : "", f);
		group_json(f, &s->groups[i], cfg->groups[i].slot);
	}
	fputs("],\"unrouted\":{\"name\":\"-\"", f);
	group_counts_json(f, 0);
	fputs("},\"queues\":[", f);
	for (size_t i = 0; i < cfg->nconsumers; i++) {
		fputs(i ? "," : "", f);
		queue_json(f, &s->queues[i], cfg->consumers[i].queue);
	}
	fputc(']', f);
	runtime_json(f, cfg);
	fputs(",\"listeners\":[", f);
	for (size_t i = 0; i < nla; i++) {
		fputs(i ? ",{\"address\":" : "{\"address\":", f);
		hq_json_str(f, la[i].text);
		fprintf(f, ",\"connections\":%u,\"accepted\":%llu,"
		    "\"defer_accept\":%u}", hq_workers_listener_conns(i),
		    (unsigned long long)hq_workers_listener_accepted(i),
		    s->defer_accept == HQ_TIMEOUT_OFF ? 0 : s->defer_accept);
	}
	fputc(']', f);
	servicestate_protocols(f, true);
	hq_stats_sum_tls(&tls[0], &tls[1]);
	hq_stats_reloads(&rl[0], &rl[1]);
	fprintf(f, ",\"tls_handshakes\":{\"full\":%llu,\"resumed\":%llu},"
	    "\"reloads\":{\"ok\":%llu,\"failed\":%llu}}\n",
	    (unsigned long long)tls[0], (unsigned long long)tls[1],
	    (unsigned long long)rl[0], (unsigned long long)rl[1]);
}

/* show queue NAME of a queue created at run time: its creator, its URLs
 * and its counters (once it has a URL).  False if there is none. */
static bool
show_runtime_queue(FILE *f, const char *name, bool json)
{
	const struct hq_rt *rt = hq_registry_current();
	const struct hq_queue *q = NULL;
	const char *qn;
	pid_t pid;
	uid_t uid;
	size_t i, n, k = 0;
	struct hq_queue_stats st;

	for (i = 0, n = hq_registry_queues(&qn, &pid, &uid, 0); i < n; i++)
		if (hq_registry_queues(&qn, &pid, &uid, i) && strcmp(qn, name) == 0)
			break;
	if (i == n)
		return false;
	for (size_t g = 0; rt != NULL && g < rt->ngroups && q == NULL; g++)
		if (strcmp(rt->owners[g].queue, name) == 0 && rt->groups[g].consumer)
			q = rt->groups[g].consumer->queue;
	if (q != NULL)
		hq_queue_stats(q, &st);
	if (json) {
		fputs("{\"name\":", f);
		hq_json_str(f, name);
		fprintf(f, ",\"runtime\":true,\"pid\":%ld,\"uid\":%ld", (long)pid,
		    (long)uid);
		if (q != NULL)
			fprintf(f, ",\"limit\":%u,\"arrived\":%llu,\"completed\":%llu,"
			    "\"rejected\":%llu,\"current\":%u,\"peak\":%u", st.limit,
			    (unsigned long long)st.arrived, (unsigned long long)st.completed,
			    (unsigned long long)st.rejected, st.current, st.peak);
		fputs(",\"urls\":[", f);
	} else {
		hq_ctl_text_line(f, "queue %s", name);
		hq_ctl_text_field(f, "created", "at run time by pid %ld uid %ld",
		    (long)pid, (long)uid);
		if (q != NULL) {
			hq_ctl_text_field(f, "limit", "%u", st.limit);
			hq_ctl_text_field(f, "arrived", "%llu", (unsigned long long)st.arrived);
			hq_ctl_text_field(f, "completed", "%llu",
			    (unsigned long long)st.completed);
			hq_ctl_text_field(f, "rejected", "%llu",
			    (unsigned long long)st.rejected);
			hq_ctl_text_field(f, "current", "%u", st.current);
			hq_ctl_text_field(f, "peak", "%u", st.peak);
		}
	}
	for (size_t j = 0; rt != NULL && j < hq_router_count(rt->router); j++) {
		const struct hq_route *r = hq_router_at(rt->router, j);
		const struct hq_rt_owner *o = ((const struct hq_group *)r->owner)->rt;

		if (strcmp(o->queue, name) != 0)
			continue;
		if (json) {
			fputs(k++ ? "," : "", f);
			hq_json_str(f, r->prefix.text);
		} else {
			hq_ctl_text_field(f, "url", "%s (pid %ld)", r->prefix.text,
			    (long)o->pid);
		}
	}
	if (json)
		fputs("]}\n", f);
	return true;
}

static void
show_queue(struct answer *a, const struct hq_config *cfg, const char *name,
    bool json)
{
	const struct hq_store *s = cfg->store;
	struct hq_queue_stats st;
	char at[512];
	size_t i;

	for (i = 0; i < cfg->nconsumers && strcmp(s->queues[i].name, name) != 0; i++)
		;
	if (i == cfg->nconsumers) {
		if (!show_runtime_queue(a->f, name, json))
			answer(a, HQ_CTL_INVALID, "no queue named \"%.64s\"", name);
		return;
	}
	if (json) {
		queue_json(a->f, &s->queues[i], cfg->consumers[i].queue);
		fputc('\n', a->f);
		return;
	}
	hq_queue_stats(cfg->consumers[i].queue, &st);
	hq_ctl_text_line(a->f, "queue %s", name);
	hq_ctl_text_field(a->f, "defined at", "%s", hq_origin_text(&s->queues[i].at,
	    at, sizeof(at)));
	hq_ctl_text_field(a->f, "module", "%s", s->queues[i].attach ? "attach" :
	    s->queues[i].module);
	hq_ctl_text_field(a->f, "limit", "%u", st.limit);
	hq_ctl_text_field(a->f, "503", "%s", hq_verbosity_name(st.verbosity));
	hq_ctl_text_field(a->f, "arrived", "%llu", (unsigned long long)st.arrived);
	hq_ctl_text_field(a->f, "completed", "%llu", (unsigned long long)st.completed);
	hq_ctl_text_field(a->f, "rejected", "%llu", (unsigned long long)st.rejected);
	hq_ctl_text_field(a->f, "current", "%u", st.current);
	hq_ctl_text_field(a->f, "peak", "%u", st.peak);
	for (size_t g = 0; g < s->ngroups; g++)
		if (s->groups[g].queue && strcmp(s->groups[g].queue, name) == 0)
			hq_ctl_text_field(a->f, "url group", "%s", s->groups[g].name);
	hq_attach_show(a->f, name, false);
}

/*
 * show stats: the raw counters, one object a line, for `httpqctl top`
 * (which takes two readings and shows rates) and scripts:
 *   uptime_us N connections N
 *   group NAME QUEUE 1xx 2xx 3xx 4xx 5xx 503s bytes_in bytes_out
 *   queue NAME depth peak limit arrived completed rejected
 *   listener ADDRESS open accepted
 * Names are store names (letters, digits, '_', '.', '-'); "-" for none.
 */
static void
show_stats(FILE *f, const struct hq_config *cfg)
{
	const struct hq_store *s = cfg->store;
	const struct hq_listen_addr *la = NULL;
	size_t nla = hq_workers_listeners(&la);

	fprintf(f, "uptime_us %llu connections %u\n",
	    (unsigned long long)hq_stats_uptime_us(), hq_workers_connections());
	for (size_t i = 0; i <= s->ngroups; i++) {
		struct hq_gsum g;
		uint64_t r503 = 0;

		hq_stats_sum_group(i < s->ngroups ? cfg->groups[i].slot : 0, &g);
		for (size_t k = 0; k < HQ_S503_N; k++)
			r503 += g.r503[k];
		fprintf(f, "group %s %s %llu %llu %llu %llu %llu %llu %llu %llu\n",
		    i < s->ngroups ? s->groups[i].name : "-",
		    i < s->ngroups && s->groups[i].queue ? s->groups[i].queue : "-",
		    (unsigned long long)g.status[1], (unsigned long long)g.status[2],
		    (unsigned long long)g.status[3], (unsigned long long)g.status[4],
		    (unsigned long long)g.status[5], (unsigned long long)r503,
		    (unsigned long long)g.bytes_in, (unsigned long long)g.bytes_out);
	}
	for (size_t i = 0; i < cfg->nconsumers; i++) {
		struct hq_queue_stats st;

		if (cfg->consumers[i].queue == NULL)
			continue;
		hq_queue_stats(cfg->consumers[i].queue, &st);
		fprintf(f, "queue %s %u %u %u %llu %llu %llu\n", s->queues[i].name,
		    st.current, st.peak, st.limit, (unsigned long long)st.arrived,
		    (unsigned long long)st.completed, (unsigned long long)st.rejected);
	}
	for (size_t i = 0; i < nla; i++)
		fprintf(f, "listener %s %u %llu\n", la[i].text,
		    hq_workers_listener_conns(i),
		    (unsigned long long)hq_workers_listener_accepted(i));
}

/* ---------------------------------------------------------------------
 * show route URL: which prefix a URL reaches, and why
 * ------------------------------------------------------------------- */

struct target {
	bool https;
	uint16_t port;
	char authority[256];          /* the Host value: "name:port", "[v6]:port" */
	char host[256];               /* without brackets and port */
	const char *path;             /* origin-form: "/a/b?q" */
	struct sockaddr_storage local; /* the host, when it is an IP literal */
	bool has_local;
};

static int
parse_target(const char *url, struct target *t)
{
	const char *a, *end, *colon;
	size_t n;
	unsigned long port;
	char *pe;

	memset(t, 0, sizeof(*t));
	if (strncasecmp(url, "http://", 7) == 0)
		a = url + 7;
	else if (strncasecmp(url, "https://", 8) == 0)
		a = url + 8, t->https = true;
	else
		return -1;
	end = a + strcspn(a, "/?#");
	n = (size_t)(end - a);
	if (n == 0 || n >= sizeof(t->authority))
		return -1;
	memcpy(t->authority, a, n);
	t->authority[n] = '\0';
	colon = a[0] == '[' ? memchr(a, ']', n) : a;
	if (colon == NULL)
		return -1;
	colon = memchr(colon, ':', (size_t)(end - colon));
	port = t->https ? 443 : 80;
	if (colon != NULL) {
		port = strtoul(colon + 1, &pe, 10);
		if (pe != end || port < 1 || port > 65535)
			return -1;
	}
	t->port = (uint16_t)port;
	n = (size_t)((colon ? colon : end) - a);
	if (a[0] == '[')
		snprintf(t->host, sizeof(t->host), "%.*s", (int)n - 2, a + 1);
	else
		snprintf(t->host, sizeof(t->host), "%.*s", (int)n, a);
	t->path = *end == '/' ? end : "/";
	if (inet_pton(AF_INET, t->host, &((struct sockaddr_in *)&t->local)->sin_addr) == 1)
		t->local.ss_family = AF_INET, t->has_local = true;
	else if (inet_pton(AF_INET6, t->host,
	    &((struct sockaddr_in6 *)&t->local)->sin6_addr) == 1)
		t->local.ss_family = AF_INET6, t->has_local = true;
	return 0;
}

static const char *const class_text[] = {
	[HQ_HOST_STRONG] = "strong wildcard +: the first class checked",
	[HQ_HOST_EXPLICIT] = "explicit host: checked after strong wildcards",
	[HQ_HOST_IP] = "IP-bound: checked after explicit hosts",
	[HQ_HOST_WEAK] = "weak wildcard *: the last class checked",
};
static const char *const class_name[] = {
	[HQ_HOST_STRONG] = "strong", [HQ_HOST_EXPLICIT] = "explicit",
	[HQ_HOST_IP] = "ip", [HQ_HOST_WEAK] = "weak",
};

static const struct hq_origin *
prefix_origin(const struct hq_store_group *g, const struct hq_prefix *p)
{
	for (size_t j = 0; j < g->nprefixes; j++)
		if (strcmp(g->prefixes[j].text, p->text) == 0)
			return &g->prefix_at[j];
	return &g->at;
}

/* A route registered at run time by an attached process. */
static void
route_runtime(FILE *f, const char *url, const struct hq_route *r, const char *cooked,
    bool json)
{
	const struct hq_rt_owner *o = ((const struct hq_group *)r->owner)->rt;

	if (json) {
		fputs("{\"url\":", f);
		hq_json_str(f, url);
		fputs(",\"matched\":true,\"cooked_path\":", f);
		hq_json_str(f, cooked);
		fputs(",\"prefix\":", f);
		hq_json_str(f, r->prefix.text);
		fprintf(f, ",\"class\":\"%s\",\"runtime\":true,\"queue\":",
		    class_name[r->prefix.cls]);
		hq_json_str(f, o->queue);
		fprintf(f, ",\"pid\":%ld,\"uid\":%ld}\n", (long)o->pid, (long)o->uid);
		return;
	}
	hq_ctl_text_line(f, "route for %s", url);
	hq_ctl_text_field(f, "cooked path", "%s", cooked);
	hq_ctl_text_field(f, "prefix", "%s", r->prefix.text);
	hq_ctl_text_field(f, "why", "%s; within it the longest path wins",
	    class_text[r->prefix.cls]);
	hq_ctl_text_field(f, "registered", "at run time by pid %ld uid %ld",
	    (long)o->pid, (long)o->uid);
	hq_ctl_text_field(f, "queue", "%s", o->queue);
}

static void
route_found(FILE *f, const char *url, const struct hq_route *r, const char *cooked,
    bool json)
{
	const struct hq_group *g = r->owner;
	const struct hq_store_group *sg = g->sg;
	const char *module = g->consumer == NULL ? NULL :
	    g->consumer->ctx == NULL ? "attach" : g->consumer->ctx->path;
	char at[512], gat[512];

	if (g->rt != NULL) {
		route_runtime(f, url, r, cooked, json);
		return;
	}
	if (json) {
		fputs("{\"url\":", f);
		hq_json_str(f, url);
		fputs(",\"matched\":true,\"cooked_path\":", f);
		hq_json_str(f, cooked);
		fputs(",\"prefix\":", f);
		hq_json_str(f, r->prefix.text);
		fprintf(f, ",\"class\":\"%s\",", class_name[r->prefix.cls]);
		hq_json_origin(f, prefix_origin(sg, &r->prefix));
		fputs(",\"url_group\":", f);
		hq_json_str(f, sg->name);
		fputs(",\"queue\":", f);
		hq_json_str(f, sg->queue);
		fputs(",\"module\":", f);
		hq_json_str(f, module);
		fputs("}\n", f);
		return;
	}
	hq_ctl_text_line(f, "route for %s", url);
	hq_ctl_text_field(f, "cooked path", "%s", cooked);
	hq_ctl_text_field(f, "prefix", "%s", r->prefix.text);
	hq_ctl_text_field(f, "why", "%s; within it the longest path wins",
	    class_text[r->prefix.cls]);
	hq_ctl_text_field(f, "defined at", "%s", hq_origin_text(prefix_origin(sg,
	    &r->prefix), at, sizeof(at)));
	hq_ctl_text_field(f, "url group", "%s (%s)", sg->name,
	    hq_origin_text(&sg->at, gat, sizeof(gat)));
	hq_ctl_text_field(f, "queue", "%s", sg->queue ? sg->queue :
	    "none: answered 503");
	if (module)
		hq_ctl_text_field(f, "module", "%s", module);
}

static void
route_missing(FILE *f, const char *url, const struct target *t, enum hq_error e,
    bool json)
{
	const struct hq_errinfo *ei = hq_errinfo(e);
	char why[600];

	if (e == HQ_ERR_BAD_HOST)
		snprintf(why, sizeof(why), "no prefix on %s port %u accepts host "
		    "\"%s\"%s", t->https ? "https" : "http", t->port, t->host,
		    t->has_local ? "" : " (IP-bound prefixes match the local "
		    "address: name the IP in the URL to test them)");
	else
		snprintf(why, sizeof(why), "the host is accepted, but no prefix "
		    "path matches");
	if (json) {
		fputs("{\"url\":", f);
		hq_json_str(f, url);
		fprintf(f, ",\"matched\":false,\"status\":%d,\"title\":", ei->status);
		hq_json_str(f, ei->title);
		fputs(",\"why\":", f);
		hq_json_str(f, why);
		fputs("}\n", f);
		return;
	}
	hq_ctl_text_line(f, "route for %s", url);
	hq_ctl_text_field(f, "no route", "%d %s", ei->status, ei->title);
	hq_ctl_text_field(f, "why", "%s", why);
}

static void
show_route(struct answer *a, const struct hq_config *cfg, const char *url, bool json)
{
	const struct hq_route *r;
	struct target t;
	enum hq_error e = HQ_OK;
	size_t plen = 0, cap;
	struct hq_str query;
	char *cooked;

	if (parse_target(url, &t) < 0) {
		answer(a, HQ_CTL_INVALID, "URL: expected http://HOST[:PORT]/PATH "
		    "or https://..., got \"%.200s\"", url);
		return;
	}
	cap = strlen(t.path) + 1;
	cooked = xmalloc(cap);
	if (hq_url_cook(t.path, strlen(t.path), &cfg->store->limits, cooked, cap,
	    &plen, &query) != HQ_OK) {
		answer(a, HQ_CTL_INVALID, "URL: the path \"%.200s\" would be "
		    "refused with 400 (bad escape, a segment too long, or too "
		    "many)", t.path);
		free(cooked);
		return;
	}
	cooked[plen] = '\0';
	r = hq_router_match(cfg->router, t.https, t.port,
	    t.has_local ? (const struct sockaddr *)&t.local : NULL,
	    (struct hq_str){ t.authority, strlen(t.authority) },
	    (struct hq_str){ cooked, plen }, &e);
	if (hq_registry_current() != NULL) {
		/* as route() in conn.c: both routers, by http.sys's precedence */
		enum hq_error ert = HQ_OK;
		const struct hq_route *rr = hq_router_match(hq_registry_current()->router,
		    t.https, t.port, t.has_local ? (const struct sockaddr *)&t.local : NULL,
		    (struct hq_str){ t.authority, strlen(t.authority) },
		    (struct hq_str){ cooked, plen }, &ert);

		r = hq_route_pick(r, e, rr, ert, &e);
	}
	if (r != NULL)
		route_found(a->f, url, r, cooked, json);
	else
		route_missing(a->f, url, &t, e, json);
	free(cooked);
}

/*
 * show store: the files this daemon runs, so that httpqctl changes the
 * drop-in of this daemon's store and not of another (httpqctl -s).  The
 * path is made absolute with the daemon's working folder.
 */
static void
show_store(FILE *f, const struct hq_store *s, bool json)
{
	char cwd[4096];
	char *main_file, *dir;

	if (s->files[0][0] == '/' || getcwd(cwd, sizeof(cwd)) == NULL)
		main_file = xstrdup(s->files[0]);
	else
		main_file = xasprintf("%s/%s", cwd, s->files[0]);
	dir = hq_store_dropin_dir(main_file);
	if (json) {
		fputs("{\"store\":", f);
		hq_json_str(f, main_file);
		fputs(",\"dropin_dir\":", f);
		hq_json_str(f, dir);
		fputs(",\"files\":[", f);
		for (size_t i = 0; i < s->nfiles; i++) {
			fputs(i ? "," : "", f);
			hq_json_str(f, s->files[i]);
		}
		fputs("]}\n", f);
	} else {
		hq_ctl_text_line(f, "store %s", main_file);
		hq_ctl_text_line(f, "conf.d %s", dir);
		for (size_t i = 0; i < s->nfiles; i++)
			hq_ctl_text_line(f, "file %s", s->files[i]);
	}
	free(dir);
	free(main_file);
}

/* show cachestate [url=]: a URL or a prefix of URLs (netsh's url=). */
static void
show_cachestate(struct answer *a, const struct hq_config *cfg, const char *url,
    bool json)
{
	struct hq_cacheinfo *v = NULL;
	struct hq_cachestats st;
	char *want = NULL;
	size_t n;

	if (url != NULL && (want = hq_cache_url_parse(url)) == NULL) {
		answer(a, HQ_CTL_INVALID, "url: expected http://HOST[:PORT]/PATH "
		    "or https://..., got \"%.200s\"", url);
		return;
	}
	n = hq_cache_state(want, &v);
	hq_cache_stats(cfg, &st);
	hq_show_cachestate(a->f, v, n, &st, json);
	hq_cacheinfo_free(v, n);
	free(want);
}

/* delete cache [url=] [recursive=yes|no] (netsh http delete cache). */
static void
flush_cache(struct answer *a, struct client *c, const struct hq_ctl_cmd *cmd)
{
	const char *url = hq_ctl_get(cmd, "url"), *rec = hq_ctl_get(cmd, "recursive");
	bool recursive = false;
	char *want = NULL;
	size_t n;

	if (rec != NULL)
		hq_parse_bool(rec, &recursive);
	if (url != NULL && (want = hq_cache_url_parse(url)) == NULL) {
		answer(a, HQ_CTL_INVALID, "url: expected http://HOST[:PORT]/PATH "
		    "or https://..., got \"%.200s\"", url);
		return;
	}
	n = hq_cache_flush(want, recursive);
	hq_log(LOG_NOTICE, "control: cache flush%s%s%s by uid %ld pid %ld: %zu "
	    "entr%s removed", want ? " of " : " of everything", want ? want : "",
	    recursive ? " (recursive)" : "", (long)c->uid, (long)c->pid, n,
	    n == 1 ? "y" : "ies");
	answer(a, 0, "%zu cached response%s removed", n, n == 1 ? "" : "s");
	free(want);
}

static void
reload(struct answer *a)
{
	struct hq_errors errs = { 0 };
	unsigned gen = 0;

	if (C.ops->reload(&errs, &gen) == 0) {
		answer(a, 0, "generation %u", gen);
	} else {
		for (size_t i = 0; i < errs.n; i++)
			hq_ctl_text_line(a->f, "  %s", errs.msg[i]);
		answer(a, HQ_CTL_INVALID, "reload refused, keeping generation "
		    "%u (%zu error%s)", gen, errs.total, errs.total == 1 ? "" : "s");
	}
	hq_errors_free(&errs);
}

/* `show sslcert`: what binding c of the running store serves right now. */
static int
served_now(const struct hq_store_sslcert *c, struct hq_sslinfo *info, void *arg)
{
	const struct hq_config *cfg = arg;
	const struct hq_store *s = cfg->store;

	if (c < s->sslcerts || c >= s->sslcerts + s->nsslcerts)
		return -1;
	return hq_tls_served(cfg->tls, (size_t)(c - s->sslcerts), info);
}

static void
dispatch(struct answer *a, struct client *c, const struct hq_ctl_cmd *cmd)
{
	struct hq_config *cfg = C.ops->current_config();
	const struct hq_store *s = cfg->store;

	switch (cmd->id) {
	case HQ_CTL_SHOW_SERVICESTATE:
		(cmd->json ? servicestate_json : servicestate_text)(a->f, cfg);
		break;
	case HQ_CTL_SHOW_URLACL:
		hq_show_urlacl(a->f, s, hq_ctl_get(cmd, "url"), cmd->json);
		break;
	case HQ_CTL_SHOW_SSLCERT:
		hq_show_sslcert_served(a->f, s, hq_ctl_get(cmd, "ipport") ?
		    hq_ctl_get(cmd, "ipport") : hq_ctl_get(cmd, "hostnameport"),
		    cmd->json, served_now, cfg);
		break;
	case HQ_CTL_SHOW_IPLISTEN:
		hq_show_iplisten(a->f, s, cmd->json);
		break;
	case HQ_CTL_SHOW_TIMEOUT:
		hq_show_timeout(a->f, s, cmd->json);
		break;
	case HQ_CTL_SHOW_QUEUE:
		show_queue(a, cfg, cmd->arg, cmd->json);
		break;
	case HQ_CTL_SHOW_ROUTE:
		show_route(a, cfg, cmd->arg, cmd->json);
		break;
	case HQ_CTL_SHOW_STORE:
		show_store(a->f, s, cmd->json);
		break;
	case HQ_CTL_SHOW_STATS:
		show_stats(a->f, cfg);
		break;
	case HQ_CTL_RELOAD:
		hq_log(LOG_NOTICE, "control: reload asked by uid %ld pid %ld",
		    (long)c->uid, (long)c->pid);
		reload(a);
		break;
	case HQ_CTL_FLUSH_LOGBUFFER:
		hq_workers_post_all(hq_wlog_flush);
		answer(a, 0, "every worker writes its log buffers now");
		break;
	case HQ_CTL_SHOW_CACHESTATE:
		show_cachestate(a, cfg, hq_ctl_get(cmd, "url"), cmd->json);
		break;
	case HQ_CTL_FLUSH_CACHE:
		flush_cache(a, c, cmd);
		break;
	default:
		answer(a, HQ_CTL_INVALID, "the setup store is changed by httpqctl "
		    "on its files (then it asks for a reload); the socket only "
		    "shows, reloads and flushes");
		break;
	}
}

/* Answers one command line; line[len] is its newline. */
static void
run_line(struct client *c, const char *line, size_t len)
{
	struct answer a = { 0 };
	struct hq_ctl_cmd cmd;
	char *buf = NULL, *framed;
	size_t blen = 0, flen = 0;
	const struct hq_store *s = C.ops->current_config()->store;
	int parsed;

	a.f = open_memstream(&buf, &blen);
	a.code = parsed = hq_ctl_parse(line, len, &cmd, a.msg, sizeof(a.msg));
	if (a.code == 0 && cmd.admin && c->level != L_ADMIN) {
		hq_log(LOG_WARNING, "control: permission denied to uid %ld pid %ld "
		    "for \"%.*s\": not root nor in group \"%s\"", (long)c->uid,
		    (long)c->pid, (int)(len > 80 ? 80 : len), line,
		    s->control.admin_group);
		answer(&a, HQ_CTL_INVALID, "permission denied: root or group "
		    "\"%s\" only", s->control.admin_group);
	} else if (a.code == 0) {
		dispatch(&a, c, &cmd);
	}
	if (parsed == 0)
		hq_ctl_cmd_free(&cmd);
	fclose(a.f);
	framed = hq_ctl_frame(buf, blen, &flen);
	bufferevent_write(c->bev, framed, flen);
	free(framed);
	free(buf);
	reply_status(c, a.code, a.msg);
}

/* Takes complete lines while the output is small; refuses an overlong one.
 * At the end of input, what is left is a line.  Returns true if c was
 * freed. */
static bool
process(struct client *c, bool at_eof)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	struct evbuffer *out = bufferevent_get_output(c->bev);

	while (!c->closing) {
		struct evbuffer_ptr eol;
		size_t eol_len = 0, len;
		char *line;

		if (evbuffer_get_length(out) > HQ_CTL_OUT_HIGH) {
			/* on_write takes the next command once this is read */
			bufferevent_disable(c->bev, EV_READ);
			return false;
		}
		eol = evbuffer_search_eol(in, NULL, &eol_len, EVBUFFER_EOL_LF);
		if (eol.pos < 0 && at_eof && evbuffer_get_length(in) > 0 &&
		    evbuffer_get_length(in) < HQ_CTL_MAX_LINE)
			eol.pos = (ev_off_t)evbuffer_get_length(in) - 1;
		else if (eol.pos < 0 && evbuffer_get_length(in) < HQ_CTL_MAX_LINE)
			return false; /* wait for more, up to the read timeout */
		if (eol.pos < 0 || (size_t)eol.pos + 1 > HQ_CTL_MAX_LINE) {
			reply_status(c, HQ_CTL_USAGE, "command longer than "
			    "4096 bytes");
			return client_close(c);
		}
		len = (size_t)eol.pos + 1;
		line = xmalloc(len + 1);
		evbuffer_remove(in, line, len);
		line[len] = '\0';
		run_line(c, line, len);
		free(line);
	}
	return false;
}

/* ---------------------------------------------------------------------
 * The socket
 * ------------------------------------------------------------------- */

#define CTL_HINT "remove it, or choose another control.socket or httpqd -s"

int
hq_control_check(const struct hq_store *s)
{
	return hq_unix_path_free(C.override ? C.override : s->control.socket,
	    "control", CTL_HINT);
}

/* Mode 0660, owned by control.read_group: who may connect may show. */
static int
open_socket(const char *path, const struct hq_store *s)
{
	struct group *gr;
	int fd = hq_unix_listen(path, 0660, 16, "control", CTL_HINT);

	if (fd < 0) {
		hq_log(LOG_ERR, "control: running without a control socket");
		return -1;
	}
	if ((gr = getgrnam(s->control.read_group)) != NULL &&
	    chown(path, (uid_t)-1, gr->gr_gid) < 0)
		hq_log(LOG_WARNING, "control: chown %s to group %s: %m", path,
		    s->control.read_group);
	return fd;
}

void
hq_control_start(struct event_base *base, const struct hq_store *s,
    const struct hq_control_ops *ops)
{
	const char *path = C.override ? C.override : s->control.socket;
	int fd;

	C.base = base;
	C.ops = ops;
	C.started = time(NULL);
	if ((fd = open_socket(path, s)) < 0)
		return;
	C.lev = evconnlistener_new(base, on_accept, NULL,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, -1, fd);
	if (C.lev == NULL) {
		close(fd);
		unlink(path);
		return;
	}
	C.resume = evtimer_new(base, on_resume, NULL);
	evconnlistener_set_error_cb(C.lev, on_accept_error);
	C.path = xstrdup(path);
	hq_log(LOG_NOTICE, "control: listening on %s", path);
}

void
hq_control_stop(void)
{
	struct stat st;

	while (C.clients != NULL)
		client_free(C.clients);
	if (C.lev != NULL) {
		evconnlistener_free(C.lev);
		C.lev = NULL;
		event_free(C.resume);
		C.resume = NULL;
		/* Ours, not whatever may have replaced it since. */
		if (lstat(C.path, &st) == 0 && S_ISSOCK(st.st_mode))
			unlink(C.path);
	}
	free(C.path);
	free(C.override);
	C.path = C.override = NULL;
}
