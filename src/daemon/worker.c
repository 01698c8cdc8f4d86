/*
 * worker.c -- worker threads.
 *
 * Each worker owns an event base, its listening sockets and every
 * connection it accepts, for life: no lock on the request path.  The main
 * thread talks to a worker only through its mailbox.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "httpqd.h"

#define HQ_ACCEPT_LOG_S 10
#define HQ_ACCEPT_BURST_MAX 64 /* connections accepted per wakeup, at most */
#define HQ_ACCEPT_GROW_AFTER 4

static struct hq_worker **workers;
static unsigned nworkers;
static const struct hq_worker_conn_ops *conn_ops; /* from lifecycle.c */

static void accept_failed(struct hq_worker *w, int e);
static void tqueues_free(struct hq_worker *w);
static void on_ptimer(evutil_socket_t fd, short what, void *arg);

/*
 * Accepting until EAGAIN (as libevent's evconnlistener does) costs a failed
 * accept4() per wakeup: 0.44 per request under light `Connection: close`
 * load, where most wakeups find one connection.  Accepting one per wakeup
 * (nginx without multi_accept) costs an epoll_wait() per connection
 * instead under heavy load, where the backlog is long.  So a wakeup
 * accepts at most l->burst connections: it doubles (up to
 * HQ_ACCEPT_BURST_MAX) after HQ_ACCEPT_GROW_AFTER wakeups in a row took
 * that many, and drops to what was there when one found the backlog
 * empty.  The listening socket is level-triggered: what is left brings
 * the loop back on its next turn.
 */
static void
on_accept(evutil_socket_t fd, short what, void *arg)
{
	struct hq_wlisten *l = arg;
	struct hq_worker *w = l->w;
	unsigned n;

	for (n = 0; n < l->burst; n++) {
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);
		int cfd = accept4(fd, (struct sockaddr *)&ss, &len,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (cfd < 0) {
			/* Empty (another worker may have taken it when a
			 * socket passed by systemd is shared), or the
			 * client gave up. */
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ||
			    errno == ECONNABORTED)
				l->burst = n > 0 ? n : 1, l->full = 0;
			else
				accept_failed(w, errno);
			return;
		}
		w->accept_pause_ms = 0;
		conn_ops->accept(w, &w->laddrs[l - w->listeners], cfd,
		    (struct sockaddr *)&ss, len);
		if (w->nlisteners == 0)
			return; /* drained from the callback: l is closed */
	}
	if (++l->full >= HQ_ACCEPT_GROW_AFTER && l->burst < HQ_ACCEPT_BURST_MAX)
		l->burst *= 2, l->full = 0;
}

/* The pause after a failed accept() is over: listen again. */
static void
accept_resume(evutil_socket_t fd, short what, void *arg)
{
	struct hq_worker *w = arg;

	for (size_t i = 0; i < w->nlisteners; i++)
		event_add(&w->listeners[i].ev, NULL);
}

/*
 * accept() failed for want of descriptors or memory: the connection stays
 * in the backlog, and the listener, level-triggered, would fire again at
 * once and spin.  Pause this worker's listeners, HQ_ACCEPT_PAUSE_MS at
 * first and twice as long at each failure in a row up to
 * HQ_ACCEPT_PAUSE_MAX_MS (nginx pauses 500 ms); closed connections free
 * descriptors meanwhile.  Logged once per HQ_ACCEPT_LOG_S; counted always.
 */
static void
accept_failed(struct hq_worker *w, int e)
{
	enum hq_accept_fail why = e == EMFILE ? HQ_ACCEPT_EMFILE :
	    e == ENFILE ? HQ_ACCEPT_ENFILE : HQ_ACCEPT_OTHER;
	struct timeval tv;

	atomic_fetch_add_explicit(&w->accept_fails[why], 1, memory_order_relaxed);
	if (time(NULL) - w->accept_logged >= HQ_ACCEPT_LOG_S) {
		w->accept_logged = time(NULL);
		hq_log(LOG_ERR, "worker %d: accept: %s (fd limit %ld); pausing "
		    "the listeners up to %d ms at a time until it succeeds",
		    w->id, strerror(e), hq_fd_limit(NULL), HQ_ACCEPT_PAUSE_MAX_MS);
	}
	if (w->accept_pause_ms == 0)
		w->accept_pause_ms = HQ_ACCEPT_PAUSE_MS;
	else if (w->accept_pause_ms < HQ_ACCEPT_PAUSE_MAX_MS) {
		w->accept_pause_ms *= 2;
		if (w->accept_pause_ms > HQ_ACCEPT_PAUSE_MAX_MS)
			w->accept_pause_ms = HQ_ACCEPT_PAUSE_MAX_MS;
	}
	for (size_t i = 0; i < w->nlisteners; i++)
		event_del(&w->listeners[i].ev);
	tv.tv_sec = w->accept_pause_ms / 1000;
	tv.tv_usec = (w->accept_pause_ms % 1000) * 1000;
	evtimer_add(w->accept_timer, &tv);
}

static void *
worker_main(void *arg)
{
	struct hq_worker *w = arg;

	event_base_loop(w->base, 0);
	return NULL;
}

static struct hq_worker *
worker_new(int id, struct hq_config *cfg, int *fds)
{
	struct hq_worker *w = xcalloc(1, sizeof(*w));
	struct event_config *ec = event_config_new();

	w->id = id;
	/* Lock-free base: cross-thread work comes through the mailbox only. */
	event_config_set_flag(ec, EVENT_BASE_FLAG_NOLOCK);
	w->base = event_base_new_with_config(ec);
	event_config_free(ec);
	if (w->base == NULL)
		hq_fatal("event_base_new failed");
	hq_mailbox_init(&w->mbox, w->base);
	w->ptfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (w->ptfd < 0)
		hq_fatal("timerfd_create: %m");
	event_assign(&w->ptev, w->base, w->ptfd, EV_READ | EV_PERSIST, on_ptimer, w);
	if (event_add(&w->ptev, NULL) < 0)
		hq_fatal("cannot watch a timerfd");
	hq_config_ref(cfg);
	w->cfg = cfg;
	w->nlisteners = cfg->nlistens;
	w->listeners = xcalloc(cfg->nlistens + 1, sizeof(*w->listeners));
	w->laddrs = xcalloc(cfg->nlistens + 1, sizeof(*w->laddrs));
	for (size_t i = 0; i < cfg->nlistens; i++) {
		w->laddrs[i] = cfg->listens[i];
		w->listeners[i].w = w;
		w->listeners[i].fd = fds[i];
		w->listeners[i].burst = 1;
		event_assign(&w->listeners[i].ev, w->base, fds[i], EV_READ | EV_PERSIST,
		    on_accept, &w->listeners[i]);
		if (event_add(&w->listeners[i].ev, NULL) < 0)
			hq_fatal("cannot watch a listening socket");
	}
	w->accept_timer = evtimer_new(w->base, accept_resume, w);
	atomic_init(&w->nconns, 0);
	atomic_init(&w->nreqs, 0);
	for (size_t i = 0; i < HQ_ACCEPT_NFAILS; i++)
		atomic_init(&w->accept_fails[i], 0);
	w->nladdrs = cfg->nlistens;
	w->lconns = xcalloc(cfg->nlistens + 1, sizeof(*w->lconns));
	w->laccepted = xcalloc(cfg->nlistens + 1, sizeof(*w->laccepted));
	w->stats = hq_stats_worker_new();
	for (size_t i = 0; i < w->nladdrs; i++)
		atomic_init(&w->lconns[i], 0);
	return w;
}

int
hq_workers_start(unsigned n, struct hq_config *cfg, int **fds,
    const struct hq_worker_conn_ops *ops)
{
	sigset_t all, old;

	conn_ops = ops;
	workers = xcalloc(n, sizeof(*workers));
	nworkers = n;
	for (unsigned i = 0; i < n; i++)
		workers[i] = worker_new((int)i, cfg, fds[i]);
	/* Signals are the main thread's: workers start with them blocked. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (unsigned i = 0; i < n; i++)
		if (pthread_create(&workers[i]->thread, NULL, worker_main, workers[i]) != 0)
			hq_fatal("pthread_create: %m");
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return 0;
}

uint64_t
hq_worker_next_id(const struct hq_worker *w, uint64_t *counter)
{
	return (*counter)++ * nworkers + (uint64_t)w->id + 1;
}

uint64_t
hq_worker_request_id(struct hq_worker *w)
{
	/* Only this worker writes it: a plain load and store, no locked add. */
	atomic_store_explicit(&w->nreqs,
	    atomic_load_explicit(&w->nreqs, memory_order_relaxed) + 1,
	    memory_order_relaxed);
	return hq_worker_next_id(w, &w->nreq_ids);
}

void
hq_worker_link(struct hq_worker *w, struct hq_conn *c)
{
	c->next = w->conns;
	if (w->conns)
		w->conns->prev = c;
	w->conns = c;
	atomic_fetch_add(&w->nconns, 1);
	atomic_fetch_add_explicit(&w->lconns[c->la - w->laddrs], 1, memory_order_relaxed);
	hq_stat_add(&w->laccepted[c->la - w->laddrs], 1);
}

void
hq_worker_unlink(struct hq_worker *w, struct hq_conn *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		w->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	atomic_fetch_sub(&w->nconns, 1);
	atomic_fetch_sub_explicit(&w->lconns[c->la - w->laddrs], 1, memory_order_relaxed);
}

unsigned
hq_workers_count(void)
{
	return nworkers;
}

void
hq_workers_post_all(void (*fn)(void *worker))
{
	for (unsigned i = 0; i < nworkers; i++)
		hq_mailbox_post(&workers[i]->mbox, fn, workers[i]);
}

uint64_t
hq_workers_requests(void)
{
	uint64_t n = 0;

	for (unsigned i = 0; i < nworkers; i++)
		n += atomic_load_explicit(&workers[i]->nreqs, memory_order_relaxed);
	return n;
}

size_t
hq_workers_listeners(const struct hq_listen_addr **la)
{
	if (nworkers == 0)
		return 0;
	*la = workers[0]->laddrs;
	return workers[0]->nladdrs;
}

void
hq_workers_accept_fails(uint64_t n[HQ_ACCEPT_NFAILS])
{
	for (size_t i = 0; i < HQ_ACCEPT_NFAILS; i++) {
		n[i] = 0;
		for (unsigned w = 0; w < nworkers; w++)
			n[i] += atomic_load_explicit(&workers[w]->accept_fails[i],
			    memory_order_relaxed);
	}
}

unsigned
hq_workers_listener_conns(size_t i)
{
	unsigned n = 0;

	for (unsigned w = 0; w < nworkers; w++)
		if (i < workers[w]->nladdrs)
			n += atomic_load_explicit(&workers[w]->lconns[i],
			    memory_order_relaxed);
	return n;
}

uint64_t
hq_workers_listener_accepted(size_t i)
{
	uint64_t n = 0;

	for (unsigned w = 0; w < nworkers; w++)
		if (i < workers[w]->nladdrs)
			n += atomic_load_explicit(&workers[w]->laccepted[i],
			    memory_order_relaxed);
	return n;
}

struct cfg_msg {
	struct hq_worker *w;
	struct hq_config *cfg;
};

static void
set_config(void *arg)
{
	struct cfg_msg *m = arg;
	struct hq_worker *w = m->w;
	struct hq_config *old = w->cfg;

	/* The listeners stay (new addresses wait for a restart); a new
	 * server.defer_accept applies to them at once. */
	if (m->cfg->store->defer_accept != old->store->defer_accept)
		for (size_t i = 0; i < w->nlisteners; i++)
			hq_listener_defer(w->listeners[i].fd, &w->laddrs[i],
			    m->cfg->store->defer_accept);
	w->cfg = m->cfg;
	hq_config_unref(old);
	free(m);
}

/* Each worker adopts the new snapshot between requests; connections
 * switch when their next request starts. */
void
hq_workers_set_config(struct hq_config *cfg)
{
	for (unsigned i = 0; i < nworkers; i++) {
		struct cfg_msg *m = xmalloc(sizeof(*m));

		m->w = workers[i];
		m->cfg = cfg;
		hq_config_ref(cfg);
		if (hq_mailbox_post(&workers[i]->mbox, set_config, m) != 0) {
			hq_config_unref(cfg);
			free(m);
		}
	}
}

struct rt_msg {
	struct hq_worker *w;
	struct hq_rt *rt;
};

static void
set_rt(void *arg)
{
	struct rt_msg *m = arg;
	struct hq_rt *old = m->w->rt;

	m->w->rt = m->rt;
	hq_rt_unref(old);
	free(m);
}

void
hq_workers_set_rt(struct hq_rt *rt)
{
	for (unsigned i = 0; i < nworkers; i++) {
		struct rt_msg *m = xmalloc(sizeof(*m));

		m->w = workers[i];
		m->rt = rt;
		hq_rt_ref(rt);
		if (hq_mailbox_post(&workers[i]->mbox, set_rt, m) != 0) {
			hq_rt_unref(rt);
			free(m);
		}
	}
}

static void
close_listeners(struct hq_worker *w)
{
	for (size_t i = 0; i < w->nlisteners; i++) {
		event_del(&w->listeners[i].ev);
		close(w->listeners[i].fd);
	}
	w->nlisteners = 0;
}

static void
drain_worker(void *arg)
{
	struct hq_worker *w = arg;
	struct hq_conn *c, *next;

	w->draining = true;
	close_listeners(w);
	for (c = w->conns; c != NULL; c = next) {
		next = c->next;
		conn_ops->drain(c);
	}
}

void
hq_workers_drain(void)
{
	for (unsigned i = 0; i < nworkers; i++)
		hq_mailbox_post(&workers[i]->mbox, drain_worker, workers[i]);
}

unsigned
hq_workers_connections(void)
{
	unsigned n = 0;

	for (unsigned i = 0; i < nworkers; i++)
		n += atomic_load(&workers[i]->nconns);
	return n;
}

static void
stop_worker(void *arg)
{
	struct hq_worker *w = arg;
	struct hq_conn *c, *next;

	drain_worker(w);
	for (c = w->conns; c != NULL; c = next) {
		next = c->next;
		conn_ops->abort(c, "shutdown");
	}
	event_base_loopbreak(w->base);
}

static void
worker_free(struct hq_worker *w)
{
	struct hq_conn *c, *next;

	hq_mailbox_close(&w->mbox);
	/* Whatever a module still holds after the drain is abandoned. */
	for (c = w->conns; c != NULL; c = next) {
		next = c->next;
		conn_ops->abort(c, "shutdown");
	}
	close_listeners(w);
	tqueues_free(w);
	event_del(&w->ptev);
	close(w->ptfd);
	for (size_t i = 0; i < w->npheap; i++)
		w->pheap[i]->pos = 0;
	free(w->pheap);
	event_free(w->accept_timer);
	hq_wlog_free(w);
	free(w->listeners);
	free(w->laddrs);
	free(w->lconns);
	free(w->laccepted);
	for (size_t k = 0; k < HQ_NPOOLS; k++) {
		for (size_t i = 0; i < w->pools[k].n; i++)
			free(w->pools[k].free[i]);
	}
	hq_config_unref(w->cfg);
	hq_rt_unref(w->rt);
	event_base_free(w->base);
	free(w);
}

void
hq_workers_stop(void)
{
	for (unsigned i = 0; i < nworkers; i++)
		hq_mailbox_post(&workers[i]->mbox, stop_worker, workers[i]);
	for (unsigned i = 0; i < nworkers; i++)
		pthread_join(workers[i]->thread, NULL);
	for (unsigned i = 0; i < nworkers; i++)
		worker_free(workers[i]);
	free(workers);
	workers = NULL;
	nworkers = 0;
}

const char *
hq_worker_date(struct hq_worker *w, size_t *len)
{
	struct timeval tv;
	struct tm tm;

	event_base_gettimeofday_cached(w->base, &tv);
	if (tv.tv_sec != w->date_sec) {
		w->date_sec = tv.tv_sec;
		gmtime_r(&w->date_sec, &tm);
		w->date_len = strftime(w->date, sizeof(w->date),
		    "%a, %d %b %Y %H:%M:%S GMT", &tm);
	}
	*len = w->date_len;
	return w->date;
}

/*
 * Blocks of a few fixed sizes that connections hold only while they have
 * something to do: an idle connection gives them back, and the next bytes
 * take them again, most often the same ones (LIFO, still in the cache).
 */
static const size_t pool_size[HQ_NPOOLS] = {
	[HQ_POOL_BUF] = HQ_IBUF_SIZE,
	[HQ_POOL_REQ] = sizeof(struct hq_reqblock),
	[HQ_POOL_SEGS] = HQ_SEGS_INITIAL * sizeof(struct hq_seg),
	[HQ_POOL_EVENT] = sizeof(struct event),
};

void *
hq_worker_alloc(enum hq_pool_kind k)
{
	return xmalloc(pool_size[k]);
}

/*
 * Connection timers.  A queue holds the timers of one duration in the
 * order they were set, which is also the order they expire, and keeps one
 * libevent timer for its head.  Cancelling leaves that timer alone: it
 * fires for nothing at worst and is set again for the new head.  The
 * durations in use are few (the configured timeouts, and the send
 * timeouts, at most HQ_SEND_TIMER_MAX_S), and so are the queues: they last
 * as long as the worker.
 */
struct hq_tqueue {
	struct hq_worker *w;
	uint32_t secs;
	bool armed;            /* ev is pending */
	struct hq_timer head;  /* sentinel of a circular list */
	struct event ev;
};

static void
timer_unlink(struct hq_timer *t)
{
	t->prev->next = t->next;
	t->next->prev = t->prev;
	t->next = t->prev = NULL;
}

static void
timer_append(struct hq_timer *head, struct hq_timer *t)
{
	t->prev = head->prev;
	t->next = head;
	head->prev->next = t;
	head->prev = t;
}

static void
tqueue_arm(struct hq_tqueue *q, uint64_t now)
{
	uint64_t due, wait;
	struct timeval tv;

	if (q->armed || q->head.next == &q->head)
		return;
	due = q->head.next->due_us;
	wait = due > now ? due - now : 0;
	tv.tv_sec = (time_t)(wait / 1000000);
	tv.tv_usec = (suseconds_t)(wait % 1000000);
	if (evtimer_add(&q->ev, &tv) == 0)
		q->armed = true;
}

static void
on_tqueue(evutil_socket_t fd, short what, void *arg)
{
	struct hq_tqueue *q = arg;
	struct hq_timer due, *t;
	/* The clock libevent uses too (without EVENT_BASE_FLAG_PRECISE_TIMER). */
	uint64_t now = hq_mono_us(true);

	q->armed = false;
	/* Expired ones move to a list of their own first: a callback may set
	 * or cancel any timer, this one included. */
	due.next = due.prev = &due;
	while ((t = q->head.next) != &q->head && t->due_us <= now) {
		timer_unlink(t);
		timer_append(&due, t);
	}
	while ((t = due.next) != &due) {
		timer_unlink(t);
		conn_ops->timeout(t);
	}
	tqueue_arm(q, hq_mono_us(true));
}

static struct hq_tqueue *
tqueue_get(struct hq_worker *w, uint32_t secs)
{
	struct hq_tqueue *q;

	for (size_t i = 0; i < w->ntqueues; i++)
		if (w->tqueues[i]->secs == secs)
			return w->tqueues[i];
	q = xcalloc(1, sizeof(*q));
	q->w = w;
	q->secs = secs;
	q->head.next = q->head.prev = &q->head;
	evtimer_assign(&q->ev, w->base, on_tqueue, q);
	w->tqueues = xrealloc(w->tqueues, (w->ntqueues + 1) * sizeof(*w->tqueues));
	w->tqueues[w->ntqueues++] = q;
	return q;
}

void
hq_timer_set(struct hq_worker *w, struct hq_timer *t, uint32_t secs)
{
	struct hq_tqueue *q = tqueue_get(w, secs);
	uint64_t now = hq_mono_us(true);

	if (t->next != NULL)
		timer_unlink(t);
	t->due_us = now + (uint64_t)secs * 1000000;
	timer_append(&q->head, t);
	tqueue_arm(q, now);
}

void
hq_timer_del(struct hq_timer *t)
{
	if (t->next != NULL)
		timer_unlink(t);
}

/* At the worker's end: timers still set (abandoned connections) are
 * left not pending. */
static void
tqueues_free(struct hq_worker *w)
{
	for (size_t i = 0; i < w->ntqueues; i++) {
		struct hq_tqueue *q = w->tqueues[i];

		while (q->head.next != &q->head)
			timer_unlink(q->head.next);
		event_del(&q->ev);
		free(q);
	}
	free(w->tqueues);
	w->tqueues = NULL;
	w->ntqueues = 0;
}

/*
 * Precise timers.  libevent runs on CLOCK_MONOTONIC_COARSE (4 ms ticks
 * with HZ=250) and computes deadlines from the time it cached at the start
 * of the loop turn, so a 1 ms event timer fired 0 to 4 ms later, sometimes
 * before 1 ms had passed.  EVENT_BASE_FLAG_PRECISE_TIMER would make the
 * whole loop precise, but libevent then calls timerfd_settime before every
 * epoll_wait: 0.28 more system calls per keep-alive request (2.28 to
 * 2.56) for the few requests that wait on a timer.  These timers keep
 * their own heap on CLOCK_MONOTONIC instead, behind one timerfd that is
 * set only when the earliest deadline moves: nothing per request while
 * none is pending.  Connection timers (hq_timer_set, whole seconds) stay
 * on the coarse clock.
 */
static bool
pt_before(const struct hq_ptimer *a, const struct hq_ptimer *b)
{
	return a->due_us < b->due_us || (a->due_us == b->due_us && a->seq < b->seq);
}

static void
pt_put(struct hq_worker *w, size_t i, struct hq_ptimer *t)
{
	w->pheap[i] = t;
	t->pos = i + 1;
}

/* t goes to hole i, moving up or down as its deadline says. */
static void
pt_sift(struct hq_worker *w, size_t i, struct hq_ptimer *t)
{
	while (i > 0 && pt_before(t, w->pheap[(i - 1) / 2])) {
		pt_put(w, i, w->pheap[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	for (;;) {
		size_t k = 2 * i + 1;

		if (k >= w->npheap)
			break;
		if (k + 1 < w->npheap && pt_before(w->pheap[k + 1], w->pheap[k]))
			k++;
		if (!pt_before(w->pheap[k], t))
			break;
		pt_put(w, i, w->pheap[k]);
		i = k;
	}
	pt_put(w, i, t);
}

static void
pt_remove(struct hq_worker *w, struct hq_ptimer *t)
{
	size_t i = t->pos - 1;
	struct hq_ptimer *last = w->pheap[--w->npheap];

	t->pos = 0;
	if (last != t)
		pt_sift(w, i, last);
}

/* The timerfd is set for the earliest deadline unless it already goes off
 * at or before it (then it fires for nothing at worst, and is set again). */
static void
pt_arm(struct hq_worker *w)
{
	struct itimerspec its = { { 0, 0 }, { 0, 0 } };
	uint64_t due;

	if (w->npheap == 0)
		return;
	due = w->pheap[0]->due_us;
	if (w->parmed_us != 0 && w->parmed_us <= due)
		return;
	its.it_value.tv_sec = (time_t)(due / 1000000);
	its.it_value.tv_nsec = (long)(due % 1000000) * 1000;
	if (timerfd_settime(w->ptfd, TFD_TIMER_ABSTIME, &its, NULL) < 0)
		hq_fatal("timerfd_settime: %m");
	w->parmed_us = due;
}

static void
on_ptimer(evutil_socket_t fd, short what, void *arg)
{
	struct hq_worker *w = arg;
	uint64_t ticks, now, seq = w->pseq;
	struct hq_ptimer *t;

	(void)what;
	/* EAGAIN: set again since it went off; nothing to clear. */
	if (read(fd, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN)
		hq_fatal("read(timerfd): %m");
	w->parmed_us = 0;
	now = hq_mono_us(false);
	/* Timers set by these callbacks wait for the next turn, even when
	 * due already (a module deferring 0 ms in a loop). */
	while (w->npheap > 0 && (t = w->pheap[0])->due_us <= now && t->seq < seq) {
		pt_remove(w, t);
		t->fire(t);
	}
	pt_arm(w);
}

void
hq_ptimer_set(struct hq_worker *w, struct hq_ptimer *t, uint64_t us)
{
	/* Rounded up: hq_mono_us truncates, and no timer fires early. */
	uint64_t now = hq_mono_us(false) + 1;

	if (us > HQ_PTIMER_MAX_US)
		us = HQ_PTIMER_MAX_US;
	if (t->pos != 0)
		pt_remove(w, t);
	t->due_us = now + us;
	t->seq = w->pseq++;
	if (w->npheap == w->pheap_size) {
		w->pheap_size = w->pheap_size ? 2 * w->pheap_size : 16;
		w->pheap = xrealloc(w->pheap, w->pheap_size * sizeof(*w->pheap));
	}
	w->npheap++;
	pt_sift(w, w->npheap - 1, t);
	pt_arm(w);
}

void
hq_ptimer_del(struct hq_worker *w, struct hq_ptimer *t)
{
	if (t->pos != 0)
		pt_remove(w, t);
}
