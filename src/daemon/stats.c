/*
 * stats.c -- counters kept per worker thread, summed when read.
 *
 * Every counter of a worker is written by that worker only, with a relaxed
 * load and store (no locked read-modify-write, no lock), and read by any
 * thread with relaxed loads: a reader sees each counter as it was a moment
 * ago, which is all `show servicestate`, `httpqctl top` and the metrics
 * module ask.  URL groups are counted in slots, one per group name for the
 * daemon's life (found again by name after a reload, as queues are), in
 * chunks a worker allocates the first time it counts a slot in them.
 *
 * A leaf of the daemon: calls nothing above it.  Workers register their
 * counters here (hq_stats_worker_new) so that summing needs no worker.c.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "httpqd.h"

/* Upper bounds of the latency buckets, microseconds: 1-2.5-5 steps. */
const uint64_t hq_stats_lat_bounds_us[HQ_LAT_BUCKETS - 1] = {
	100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000,
	250000, 500000, 1000000, 2500000, 5000000, 10000000,
};

const char *const hq_stats_503_names[HQ_S503_N] = {
	[HQ_S503_QUEUE_FULL] = "QueueFull", [HQ_S503_NO_CONSUMER] = "AppOffline",
	[HQ_S503_UNBOUND] = "Unbound", [HQ_S503_SHUTDOWN] = "AppShutdown",
	[HQ_S503_CONN_LIMIT] = "ConnLimit", [HQ_S503_DISABLED] = "Disabled",
};

static struct {
	struct hq_wstats **w;        /* every worker's counters */
	size_t n;
	char *names[HQ_STATS_SLOTS]; /* slot -> URL group name (main thread) */
	size_t nnames;
	atomic_uint_fast64_t reloads, reload_fails;
	uint64_t started_us;
	struct hq_gshared shared[HQ_STATS_SLOTS]; /* by slot, shared by workers */
} S;

struct hq_wstats *
hq_stats_worker_new(void)
{
	struct hq_wstats *ws = xcalloc(1, sizeof(*ws));

	S.w = xrealloc(S.w, (S.n + 1) * sizeof(*S.w));
	S.w[S.n++] = ws;
	return ws;
}

void
hq_stats_free(void)
{
	for (size_t i = 0; i < S.n; i++) {
		for (size_t j = 0; j < HQ_STATS_CHUNKS; j++)
			free(atomic_load(&S.w[i]->chunks[j]));
		free(S.w[i]);
	}
	free(S.w);
	S.w = NULL;
	S.n = 0;
	for (size_t i = 0; i < S.nnames; i++)
		free(S.names[i]);
	S.nnames = 0;
}

unsigned
hq_stats_slot(const char *name)
{
	if (S.nnames == 0) {
		S.names[0] = xstrdup("-");
		S.nnames = 1;
	}
	for (size_t i = 1; i < S.nnames; i++)
		if (strcmp(S.names[i], name) == 0)
			return (unsigned)i;
	/* Beyond the last slot, groups share it: counts stay bounded. */
	if (S.nnames == HQ_STATS_SLOTS)
		return HQ_STATS_SLOTS - 1;
	S.names[S.nnames] = xstrdup(name);
	return (unsigned)S.nnames++;
}

/* The worker's counters of slot, allocated on first use (worker thread). */
struct hq_gstats *
hq_stats_group(struct hq_wstats *ws, unsigned slot)
{
	struct hq_gstats *chunk;
	size_t ci = slot / HQ_STATS_CHUNK, i = slot % HQ_STATS_CHUNK;

	chunk = atomic_load_explicit(&ws->chunks[ci], memory_order_relaxed);
	if (chunk == NULL) {
		chunk = xcalloc(HQ_STATS_CHUNK, sizeof(*chunk));
		/* Readers load it with acquire: they see it zeroed. */
		atomic_store_explicit(&ws->chunks[ci], chunk, memory_order_release);
	}
	return &chunk[i];
}

static unsigned
lat_bucket(uint64_t us)
{
	unsigned b = 0;

	while (b < HQ_LAT_BUCKETS - 1 && us > hq_stats_lat_bounds_us[b])
		b++;
	return b;
}

void
hq_stats_request(struct hq_wstats *ws, unsigned slot, int status,
    uint64_t bytes_in, uint64_t bytes_out, uint64_t ttfb_us, uint64_t total_us)
{
	struct hq_gstats *g = hq_stats_group(ws, slot);
	unsigned cls = status >= 100 && status < 600 ? (unsigned)status / 100 : 0;

	hq_stat_add(&g->status[cls], 1);
	hq_stat_add(&g->bytes_in, bytes_in);
	hq_stat_add(&g->bytes_out, bytes_out);
	hq_stat_add(&g->ttfb[lat_bucket(ttfb_us)], 1);
	hq_stat_add(&g->ttfb_sum_us, ttfb_us);
	hq_stat_add(&g->total[lat_bucket(total_us)], 1);
	hq_stat_add(&g->total_sum_us, total_us);
}

void
hq_stats_503(struct hq_wstats *ws, unsigned slot, enum hq_stat_503 why)
{
	hq_stat_add(&hq_stats_group(ws, slot)->r503[why], 1);
}

enum hq_stat_503
hq_stats_503_of(enum hq_error e)
{
	switch (e) {
	case HQ_ERR_QUEUE_FULL: return HQ_S503_QUEUE_FULL;
	case HQ_ERR_NO_CONSUMER: return HQ_S503_NO_CONSUMER;
	case HQ_ERR_UNBOUND: return HQ_S503_UNBOUND;
	case HQ_ERR_SHUTDOWN: return HQ_S503_SHUTDOWN;
	case HQ_ERR_CONN_LIMIT: return HQ_S503_CONN_LIMIT;
	case HQ_ERR_DISABLED: return HQ_S503_DISABLED;
	default: return HQ_S503_N;
	}
}

static uint64_t
ld(const atomic_uint_fast64_t *p)
{
	return atomic_load_explicit(p, memory_order_relaxed);
}

void
hq_stats_sum_group(unsigned slot, struct hq_gsum *out)
{
	size_t ci = slot / HQ_STATS_CHUNK, i = slot % HQ_STATS_CHUNK;

	memset(out, 0, sizeof(*out));
	for (size_t w = 0; w < S.n; w++) {
		const struct hq_gstats *chunk = atomic_load_explicit(
		    &S.w[w]->chunks[ci], memory_order_acquire);
		const struct hq_gstats *g;

		if (chunk == NULL)
			continue;
		g = &chunk[i];
		for (size_t k = 0; k < 6; k++)
			out->status[k] += ld(&g->status[k]);
		for (size_t k = 0; k < HQ_S503_N; k++)
			out->r503[k] += ld(&g->r503[k]);
		out->bytes_in += ld(&g->bytes_in);
		out->bytes_out += ld(&g->bytes_out);
		for (size_t k = 0; k < HQ_LAT_BUCKETS; k++) {
			out->ttfb[k] += ld(&g->ttfb[k]);
			out->total[k] += ld(&g->total[k]);
		}
		out->ttfb_sum_us += ld(&g->ttfb_sum_us);
		out->total_sum_us += ld(&g->total_sum_us);
	}
}

void
hq_stats_tls(struct hq_wstats *ws, bool resumed)
{
	hq_stat_add(resumed ? &ws->tls_resumed : &ws->tls_full, 1);
}

/* HTTP/2: a connection that became one (open) or ended, a stream's
 * request started. */
void
hq_stats_h2_conn(struct hq_wstats *ws, bool open)
{
	hq_stat_add(open ? &ws->h2_opened : &ws->h2_closed, 1);
}

void
hq_stats_h2_request(struct hq_wstats *ws)
{
	hq_stat_add(&ws->h2_requests, 1);
}

void
hq_stats_sum_h2(uint64_t *conns, uint64_t *requests)
{
	uint64_t open = 0, closed = 0;

	*requests = 0;
	for (size_t w = 0; w < S.n; w++) {
		open += ld(&S.w[w]->h2_opened);
		closed += ld(&S.w[w]->h2_closed);
		*requests += ld(&S.w[w]->h2_requests);
	}
	*conns = open > closed ? open - closed : 0;
}

void
hq_stats_sum_tls(uint64_t *full, uint64_t *resumed)
{
	*full = *resumed = 0;
	for (size_t w = 0; w < S.n; w++) {
		*full += ld(&S.w[w]->tls_full);
		*resumed += ld(&S.w[w]->tls_resumed);
	}
}

/* Main thread only: one writer, a plain add would do; atomic for readers. */
void
hq_stats_reload(bool ok)
{
	atomic_fetch_add_explicit(ok ? &S.reloads : &S.reload_fails, 1,
	    memory_order_relaxed);
}

void
hq_stats_reloads(uint64_t *ok, uint64_t *failed)
{
	*ok = ld(&S.reloads);
	*failed = ld(&S.reload_fails);
}

/* --- QoS: per URL group state shared by every worker ------------------- */

struct hq_gshared *
hq_stats_shared(unsigned slot)
{
	return &S.shared[slot < HQ_STATS_SLOTS ? slot : HQ_STATS_SLOTS - 1];
}

/* The burst of a bandwidth limit: an eighth of a second's bytes, so that
 * a transfer takes its size / rate within a few percent, but at least one
 * write's worth. */
static int64_t
burst(uint32_t rate)
{
	return rate / 8 > 16384 ? rate / 8 : 16384;
}

void
hq_stats_set_limits(unsigned slot, uint32_t max_conns, uint32_t rate)
{
	struct hq_gshared *g = hq_stats_shared(slot);

	atomic_store(&g->max_conns, max_conns);
	if (atomic_exchange(&g->rate, rate) != rate) {
		atomic_store(&g->tokens, burst(rate));
		atomic_store(&g->last_us, hq_mono_us(false));
	}
}

bool
hq_group_conn_take(struct hq_gshared *g)
{
	unsigned max = atomic_load_explicit(&g->max_conns, memory_order_relaxed);
	unsigned cur = atomic_load_explicit(&g->conns, memory_order_relaxed);

	/* Once per connection and group, not per request: a CAS is fine. */
	do {
		if (max != 0 && cur >= max)
			return false;
	} while (!atomic_compare_exchange_weak_explicit(&g->conns, &cur, cur + 1,
	    memory_order_relaxed, memory_order_relaxed));
	return true;
}

void
hq_group_conn_put(struct hq_gshared *g)
{
	atomic_fetch_sub_explicit(&g->conns, 1, memory_order_relaxed);
}

/*
 * A token bucket shared by the group's responses on every worker: refilled
 * at rate bytes/s up to burst(rate), by whoever takes first after time
 * passed.  Returns how many of want bytes may be written now (all of them
 * without a limit); 0 with *wait_us set when the bucket is empty.
 */
uint64_t
hq_bw_take(struct hq_gshared *g, uint64_t want, uint64_t *wait_us)
{
	uint32_t rate = atomic_load_explicit(&g->rate, memory_order_relaxed);
	uint64_t now, last;
	int64_t t, cap;

	*wait_us = 0;
	if (rate == 0)
		return want;
	cap = burst(rate);
	now = hq_mono_us(false);
	last = atomic_load_explicit(&g->last_us, memory_order_relaxed);
	if (now > last && atomic_compare_exchange_strong(&g->last_us, &last, now)) {
		int64_t add = (int64_t)((now - last) * rate / 1000000);

		t = atomic_fetch_add(&g->tokens, add) + add;
		if (t > cap)
			atomic_fetch_sub(&g->tokens, t - cap);
	}
	t = atomic_load(&g->tokens);
	if (t <= 0) {
		/* Until the deficit and a little more have been earned. */
		*wait_us = (uint64_t)(-t + 4096) * 1000000 / rate;
		if (*wait_us < 2000)
			*wait_us = 2000;
		if (*wait_us > 250000)
			*wait_us = 250000;
		return 0;
	}
	if ((uint64_t)t < want)
		want = (uint64_t)t;
	atomic_fetch_sub(&g->tokens, (int64_t)want);
	return want;
}

void
hq_bw_refund(struct hq_gshared *g, int64_t n)
{
	if (n != 0 && atomic_load_explicit(&g->rate, memory_order_relaxed) != 0)
		atomic_fetch_add(&g->tokens, n);
}

void
hq_stats_start(void)
{
	S.started_us = hq_mono_us(false);
}

uint64_t
hq_stats_uptime_us(void)
{
	return hq_mono_us(false) - S.started_us;
}
