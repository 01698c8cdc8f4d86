/*
 * sd.c -- systemd integration: readiness and status notifications, the
 * watchdog, and listening sockets passed by socket activation.
 *
 * Without systemd (no NOTIFY_SOCKET, no LISTEN_FDS) every function here is
 * a cheap no-op and httpqd binds its own sockets.
 *
 * Notifications (Type=notify): READY=1 once every listener is bound and
 * every module loaded; RELOADING=1 with MONOTONIC_USEC= when a reload
 * starts and READY=1 when it ends, with STATUS= saying whether it was
 * refused (the protocol has no "reload failed", as HAProxy notes);
 * STOPPING=1 when the drain starts; a STATUS= line every few seconds with
 * the generation, the connections and the requests per second; WATCHDOG=1
 * from the main loop at half of WATCHDOG_USEC, so a wedged main loop gets
 * the service restarted.
 *
 * Socket activation: each passed socket is matched to the listen address
 * it is bound to (getsockname).  SO_REUSEPORT cannot give every worker
 * its own clone of a socket systemd bound, so every worker accepts from
 * a dup() of the one socket: the kernel hands each connection to one of
 * them (libevent retries the losers' EAGAIN).  Addresses not passed are
 * bound as usual; passed sockets that match no address are closed.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/stat.h>
#include <sys/uio.h>

#include <systemd/sd-daemon.h>
#include <systemd/sd-journal.h>

#include "httpqd.h"

#define HQ_SD_STATUS_INTERVAL_S 5

static struct {
	struct event *status_ev, *wd_ev;
	uint64_t wd_usec;
	unsigned generation;
	uint64_t last_requests, last_ms;
	const struct hq_sd_counts *counts; /* from lifecycle.c */
	bool stopping;
	/* socket activation */
	int *fds;
	char **names;
	bool *used;
	int nfds;
} S;

static void
status_line(char *buf, size_t len, double rps)
{
	unsigned n = S.counts->connections();

	snprintf(buf, len, "generation %u, %u connection%s, %.0f requests/s",
	    S.generation, n, n == 1 ? "" : "s", rps);
}

static void
on_status(evutil_socket_t fd, short what, void *arg)
{
	uint64_t now = hq_mono_us(false) / 1000, reqs = S.counts->requests();
	double rps = 0;
	char st[160];

	hq_log_tick();
	if (now > S.last_ms)
		rps = (double)(reqs - S.last_requests) * 1000.0 / (double)(now - S.last_ms);
	S.last_requests = reqs;
	S.last_ms = now;
	if (S.stopping)
		return;
	status_line(st, sizeof(st), rps);
	sd_notifyf(0, "STATUS=%s", st);
}

static void
on_watchdog(evutil_socket_t fd, short what, void *arg)
{
	sd_notify(0, "WATCHDOG=1");
}

void
hq_sd_ready(struct event_base *base, unsigned generation, unsigned nworkers,
    const struct hq_sd_counts *counts)
{
	struct timeval tv = { HQ_SD_STATUS_INTERVAL_S, 0 };
	char st[160];

	S.generation = generation;
	S.counts = counts;
	S.last_ms = hq_mono_us(false) / 1000;
	status_line(st, sizeof(st), 0);
	sd_notifyf(0, "READY=1\nMAINPID=%lu\nSTATUS=%s, %u worker%s", (unsigned long)getpid(),
	    st, nworkers, nworkers == 1 ? "" : "s");
	S.status_ev = event_new(base, -1, EV_PERSIST, on_status, NULL);
	event_add(S.status_ev, &tv);
	if (sd_watchdog_enabled(0, &S.wd_usec) > 0 && S.wd_usec > 0) {
		struct timeval wtv = { (time_t)(S.wd_usec / 2 / 1000000),
		    (suseconds_t)(S.wd_usec / 2 % 1000000) };

		S.wd_ev = event_new(base, -1, EV_PERSIST, on_watchdog, NULL);
		event_add(S.wd_ev, &wtv);
		sd_notify(0, "WATCHDOG=1");
		hq_log(LOG_INFO, "watchdog: keep-alive every %llu ms",
		    (unsigned long long)(S.wd_usec / 2000));
	}
}

void
hq_sd_reloading(void)
{
	sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu\nSTATUS=Reloading configuration",
	    (unsigned long long)hq_mono_us(false));
}

void
hq_sd_reloaded(unsigned generation)
{
	char st[160];

	S.generation = generation;
	status_line(st, sizeof(st), 0);
	sd_notifyf(0, "READY=1\nSTATUS=%s", st);
}

void
hq_sd_reload_failed(unsigned generation, size_t nerrors)
{
	sd_notifyf(0, "READY=1\nSTATUS=Reload failed: %zu error%s, keeping generation %u",
	    nerrors, nerrors == 1 ? "" : "s", generation);
}

void
hq_sd_stopping(unsigned nconns)
{
	S.stopping = true;
	sd_notifyf(0, "STOPPING=1\nSTATUS=Draining %u connection%s", nconns,
	    nconns == 1 ? "" : "s");
}

void
hq_sd_free(void)
{
	if (S.status_ev)
		event_free(S.status_ev);
	if (S.wd_ev)
		event_free(S.wd_ev);
	S.status_ev = S.wd_ev = NULL;
	for (int i = 0; i < S.nfds; i++) {
		if (!S.used[i])
			close(S.fds[i]);
		free(S.names[i]);
	}
	free(S.fds);
	free(S.names);
	free(S.used);
	S.fds = NULL;
	S.names = NULL;
	S.used = NULL;
	S.nfds = 0;
}

/* --- journald ------------------------------------------------------------ */

static int
journal_sink(int prio, const char *msg, const char *queue, const char *group)
{
	char p[16], *q = NULL, *g = NULL, *m;
	struct iovec iov[5];
	int n = 0, rc;

	m = xasprintf("MESSAGE=%s", msg);
	snprintf(p, sizeof(p), "PRIORITY=%d", prio);
	iov[n++] = (struct iovec){ m, strlen(m) };
	iov[n++] = (struct iovec){ p, strlen(p) };
	iov[n++] = (struct iovec){ (char *)"SYSLOG_IDENTIFIER=httpqd", 24 };
	if (queue != NULL) {
		q = xasprintf("HTTPQ_QUEUE=%s", queue);
		iov[n++] = (struct iovec){ q, strlen(q) };
	}
	if (group != NULL) {
		g = xasprintf("HTTPQ_URL_GROUP=%s", group);
		iov[n++] = (struct iovec){ g, strlen(g) };
	}
	rc = sd_journal_sendv(iov, n);
	free(m);
	free(q);
	free(g);
	return rc < 0 ? -1 : 0;
}

/*
 * Under journald (stderr is the stream JOURNAL_STREAM names), messages go
 * through sd_journal_send with HTTPQ_QUEUE=/HTTPQ_URL_GROUP= fields where
 * they concern one; anything it cannot send goes to stderr as before.
 */
void
hq_sd_journal_init(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (js == NULL || sscanf(js, "%llu:%llu", &dev, &ino) != 2 ||
	    fstat(STDERR_FILENO, &st) < 0 ||
	    (unsigned long long)st.st_dev != dev || (unsigned long long)st.st_ino != ino)
		return;
	/* sd_journal_send drops messages silently when journald is gone. */
	if (access("/run/systemd/journal/socket", W_OK) != 0)
		return;
	hq_log_set_sink(journal_sink);
}

/* --- socket activation ------------------------------------------------------ */

/* Takes the sockets systemd passed (before daemon() changes the pid). */
void
hq_sd_collect_fds(void)
{
	char **names = NULL;
	int n = sd_listen_fds_with_names(1, &names);

	if (n <= 0) {
		if (n < 0)
			hq_log(LOG_ERR, "socket activation: %s", strerror(-n));
		return;
	}
	S.nfds = n;
	S.fds = xcalloc((size_t)n, sizeof(*S.fds));
	S.names = xcalloc((size_t)n, sizeof(*S.names));
	S.used = xcalloc((size_t)n, sizeof(*S.used));
	for (int i = 0; i < n; i++) {
		S.fds[i] = SD_LISTEN_FDS_START + i;
		S.names[i] = names && names[i] ? names[i] : xstrdup("unknown");
		fcntl(S.fds[i], F_SETFD, FD_CLOEXEC);
	}
	free(names);
}

static bool
same_addr(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;

		return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	if (a->ss_family == AF_INET6) {
		const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;

		return x->sin6_port == y->sin6_port &&
		    memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr)) == 0;
	}
	return false;
}

/* The passed socket bound to la's address, or -1.  Nonblocking. */
int
hq_sd_listen_fd(const struct hq_listen_addr *la)
{
	for (int i = 0; i < S.nfds; i++) {
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);
		int fl;

		if (S.used[i] || sd_is_socket(S.fds[i], AF_UNSPEC, SOCK_STREAM, 1) <= 0)
			continue;
		if (getsockname(S.fds[i], (struct sockaddr *)&ss, &len) < 0 ||
		    !same_addr(&ss, &la->addr))
			continue;
		S.used[i] = true;
		fl = fcntl(S.fds[i], F_GETFL);
		if (fl >= 0)
			fcntl(S.fds[i], F_SETFL, fl | O_NONBLOCK);
		hq_log(LOG_INFO, "socket activation: %s from systemd (%s)", la->text, S.names[i]);
		return S.fds[i];
	}
	return -1;
}

/* Passed sockets that match no listen address are closed, with a word. */
void
hq_sd_close_unused(void)
{
	for (int i = 0; i < S.nfds; i++) {
		if (S.used[i])
			continue;
		hq_log(LOG_WARNING, "socket activation: socket %d (%s) matches no listen "
		    "address of the store; closing it", S.fds[i], S.names[i]);
		close(S.fds[i]);
		S.used[i] = true;
	}
}
