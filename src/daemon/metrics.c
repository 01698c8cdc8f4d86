/*
 * metrics.c -- the built-in `metrics` module: the daemon's counters in the
 * Prometheus text exposition format 0.0.4, on whatever prefix its URL
 * group has (`module: metrics` on a queue).
 *
 * Built in rather than a .so: it reads the daemon's own counters (stats.c,
 * the queues, the listeners), which the module ABI does not expose and
 * should not freeze into a stable structure.  Requests still go through
 * the API table handed to init(), as any module's.  A scrape sums every
 * worker's counters with relaxed loads: no lock, and nothing on the
 * request path of other URL groups.
 */
#include "config.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "httpqd.h"

struct metrics {
	const struct httpq_api *api;
};

static int
metrics_init(const struct httpq_api *api, httpq_ctx *ctx, void **state)
{
	struct metrics *m = xcalloc(1, sizeof(*m));

	(void)ctx;
	m->api = api;
	*state = m;
	return 0;
}

static void
metrics_fini(void *state)
{
	free(state);
}

/* A label value: backslash, double quote and newline escaped. */
static void
label(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			fputc('\\', f);
		if (*s == '\n') {
			fputs("\\n", f);
			continue;
		}
		fputc(*s, f);
	}
}

static void
head(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

struct gl {
	const char *group, *queue;
};

static void
group_labels(FILE *f, const struct gl *g)
{
	fputs("url_group=\"", f);
	label(f, g->group);
	fputs("\",queue=\"", f);
	label(f, g->queue);
	fputc('"', f);
}

static void
histogram(FILE *f, const char *name, const struct gl *g, const uint64_t *b,
    uint64_t sum_us)
{
	uint64_t cum = 0;

	for (size_t k = 0; k < HQ_LAT_BUCKETS; k++) {
		cum += b[k];
		fprintf(f, "%s_bucket{", name);
		group_labels(f, g);
		if (k < HQ_LAT_BUCKETS - 1)
			fprintf(f, ",le=\"%g\"} %llu\n",
			    (double)hq_stats_lat_bounds_us[k] / 1e6,
			    (unsigned long long)cum);
		else
			fprintf(f, ",le=\"+Inf\"} %llu\n", (unsigned long long)cum);
	}
	fprintf(f, "%s_sum{", name);
	group_labels(f, g);
	fprintf(f, "} %.6f\n%s_count{", (double)sum_us / 1e6, name);
	group_labels(f, g);
	fprintf(f, "} %llu\n", (unsigned long long)cum);
}

/* The groups of the snapshot, then slot 0 (requests routed to none). */
static size_t
groups(const struct hq_config *cfg, struct gl *gl, unsigned *slot)
{
	size_t n = 0;

	for (size_t i = 0; i < cfg->ngroups; i++, n++) {
		gl[n].group = cfg->groups[i].sg->name;
		gl[n].queue = cfg->groups[i].sg->queue ? cfg->groups[i].sg->queue : "";
		slot[n] = cfg->groups[i].slot;
	}
	gl[n] = (struct gl){ "", "" };
	slot[n] = 0;
	return n + 1;
}

static void
group_metrics(FILE *f, const struct hq_config *cfg)
{
	struct gl *gl = xcalloc(cfg->ngroups + 1, sizeof(*gl));
	unsigned *slot = xcalloc(cfg->ngroups + 1, sizeof(*slot));
	struct hq_gsum *sum = xcalloc(cfg->ngroups + 1, sizeof(*sum));
	size_t n = groups(cfg, gl, slot);

	for (size_t i = 0; i < n; i++)
		hq_stats_sum_group(slot[i], &sum[i]);
	head(f, "httpq_requests_total", "counter", "Requests answered, by URL "
	    "group, its queue and status class (url_group=\"\": routed to none).");
	for (size_t i = 0; i < n; i++)
		for (size_t k = 1; k <= 5; k++) {
			fputs("httpq_requests_total{", f);
			group_labels(f, &gl[i]);
			fprintf(f, ",code=\"%zuxx\"} %llu\n", k,
			    (unsigned long long)sum[i].status[k]);
		}
	head(f, "httpq_unavailable_total", "counter", "503s the daemon answered "
	    "(or reset, with the basic verbosity), by reason.");
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < HQ_S503_N; k++) {
			fputs("httpq_unavailable_total{", f);
			group_labels(f, &gl[i]);
			fprintf(f, ",reason=\"%s\"} %llu\n", hq_stats_503_names[k],
			    (unsigned long long)sum[i].r503[k]);
		}
	head(f, "httpq_received_bytes_total", "counter",
	    "Request bytes received: heads and bodies.");
	for (size_t i = 0; i < n; i++) {
		fputs("httpq_received_bytes_total{", f);
		group_labels(f, &gl[i]);
		fprintf(f, "} %llu\n", (unsigned long long)sum[i].bytes_in);
	}
	head(f, "httpq_sent_bytes_total", "counter",
	    "Response bytes queued: heads and bodies.");
	for (size_t i = 0; i < n; i++) {
		fputs("httpq_sent_bytes_total{", f);
		group_labels(f, &gl[i]);
		fprintf(f, "} %llu\n", (unsigned long long)sum[i].bytes_out);
	}
	head(f, "httpq_time_to_first_byte_seconds", "histogram",
	    "From a complete request head to its response head.");
	for (size_t i = 0; i < n; i++)
		histogram(f, "httpq_time_to_first_byte_seconds", &gl[i],
		    sum[i].ttfb, sum[i].ttfb_sum_us);
	head(f, "httpq_request_duration_seconds", "histogram",
	    "From a complete request head to the end of its response.");
	for (size_t i = 0; i < n; i++)
		histogram(f, "httpq_request_duration_seconds", &gl[i],
		    sum[i].total, sum[i].total_sum_us);
	free(sum);
	free(slot);
	free(gl);
}

static void
queue_metrics(FILE *f, const struct hq_config *cfg)
{
	static const struct { const char *name, *type, *help; } q[] = {
		{ "httpq_queue_depth", "gauge", "Requests admitted and not yet completed." },
		{ "httpq_queue_peak", "gauge", "Highest depth since the start." },
		{ "httpq_queue_limit", "gauge", "The queue's length limit." },
		{ "httpq_queue_arrived_total", "counter", "Requests routed to the queue." },
		{ "httpq_queue_rejected_total", "counter", "503s answered for the queue." },
	};

	for (size_t m = 0; m < sizeof(q) / sizeof(q[0]); m++) {
		head(f, q[m].name, q[m].type, q[m].help);
		for (size_t i = 0; i < cfg->nconsumers; i++) {
			struct hq_queue_stats st;
			uint64_t v;

			if (cfg->consumers[i].queue == NULL)
				continue;
			hq_queue_stats(cfg->consumers[i].queue, &st);
			v = m == 0 ? st.current : m == 1 ? st.peak : m == 2 ? st.limit :
			    m == 3 ? st.arrived : st.rejected;
			fprintf(f, "%s{queue=\"", q[m].name);
			label(f, cfg->store->queues[i].name);
			fprintf(f, "\"} %llu\n", (unsigned long long)v);
		}
	}
}

static void
listener_metrics(FILE *f)
{
	const struct hq_listen_addr *la = NULL;
	size_t n = hq_workers_listeners(&la);

	head(f, "httpq_listener_connections", "gauge", "Connections open now.");
	for (size_t i = 0; i < n; i++) {
		fputs("httpq_listener_connections{listener=\"", f);
		label(f, la[i].text);
		fprintf(f, "\"} %u\n", hq_workers_listener_conns(i));
	}
	head(f, "httpq_listener_accepted_total", "counter", "Connections accepted.");
	for (size_t i = 0; i < n; i++) {
		fputs("httpq_listener_accepted_total{listener=\"", f);
		label(f, la[i].text);
		fprintf(f, "\"} %llu\n", (unsigned long long)hq_workers_listener_accepted(i));
	}
}

static long
open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	long n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1; /* the folder's own descriptor */
}

static long long
rss_bytes(void)
{
	long long size = 0, rss = 0;
	FILE *f = fopen("/proc/self/statm", "re");

	if (f == NULL)
		return -1;
	if (fscanf(f, "%lld %lld", &size, &rss) != 2)
		rss = -1;
	fclose(f);
	return rss < 0 ? -1 : rss * sysconf(_SC_PAGESIZE);
}

static void
process_metrics(FILE *f)
{
	uint64_t full, resumed, ok, failed;
	double up = (double)hq_stats_uptime_us() / 1e6;
	long fds = open_fds();
	long long rss = rss_bytes();
	long hard = -1, soft = hq_fd_limit(&hard);

	hq_stats_sum_tls(&full, &resumed);
	hq_stats_reloads(&ok, &failed);
	head(f, "httpq_tls_handshakes_total", "counter", "TLS handshakes completed.");
	fprintf(f, "httpq_tls_handshakes_total{kind=\"full\"} %llu\n"
	    "httpq_tls_handshakes_total{kind=\"resumed\"} %llu\n",
	    (unsigned long long)full, (unsigned long long)resumed);
	head(f, "httpq_reloads_total", "counter", "Reloads of the setup store.");
	fprintf(f, "httpq_reloads_total{result=\"ok\"} %llu\n"
	    "httpq_reloads_total{result=\"failed\"} %llu\n",
	    (unsigned long long)ok, (unsigned long long)failed);
	head(f, "httpq_uptime_seconds", "gauge", "Seconds since httpqd started.");
	fprintf(f, "httpq_uptime_seconds %.3f\n", up);
	head(f, "process_start_time_seconds", "gauge",
	    "Start time of the process since the epoch, in seconds.");
	fprintf(f, "process_start_time_seconds %.3f\n", (double)time(NULL) - up);
	if (rss >= 0) {
		head(f, "process_resident_memory_bytes", "gauge",
		    "Resident memory size in bytes.");
		fprintf(f, "process_resident_memory_bytes %lld\n", rss);
	}
	if (fds >= 0) {
		head(f, "process_open_fds", "gauge", "Open file descriptors.");
		fprintf(f, "process_open_fds %ld\n", fds);
	}
	head(f, "process_max_fds", "gauge", "The soft limit of open file descriptors.");
	fprintf(f, "process_max_fds %ld\n", soft);
	head(f, "httpq_info", "gauge", "The version of httpqd.");
	fprintf(f, "httpq_info{version=\"%s\"} 1\n", PACKAGE_VERSION);
}

static void
send_text(const struct httpq_api *api, httpq_request *r, int status,
    const char *type, const char *body, size_t len)
{
	httpq_header h = { "Content-Type", 12, type, strlen(type) };

	if (api->send_head(r, status, NULL, &h, 1, HTTPQ_SEND_MORE) == 0)
		api->send_body(r, body, len, 0);
	else
		api->finish(r);
}

static void
metrics_handle(void *state, httpq_request *r)
{
	struct metrics *m = state;
	const struct httpq_api *api = m->api;
	httpq_str method = api->method(r);
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	if (!(method.len == 3 && memcmp(method.ptr, "GET", 3) == 0) &&
	    !(method.len == 4 && memcmp(method.ptr, "HEAD", 4) == 0)) {
		static const char no[] = "GET only\n";

		send_text(api, r, 405, "text/plain", no, sizeof(no) - 1);
		return;
	}
	f = open_memstream(&buf, &len);
	if (f == NULL) {
		send_text(api, r, 500, "text/plain", "", 0);
		return;
	}
	group_metrics(f, r->c->cfg);
	queue_metrics(f, r->c->cfg);
	listener_metrics(f);
	process_metrics(f);
	fclose(f);
	send_text(api, r, 200, "text/plain; version=0.0.4; charset=utf-8", buf, len);
	free(buf);
}

const struct httpq_module hq_metrics_module = {
	HTTPQ_MODULE_HEAD,
	.name = "metrics",
	.version = PACKAGE_VERSION,
	.init = metrics_init,
	.handle = metrics_handle,
	.fini = metrics_fini,
};
