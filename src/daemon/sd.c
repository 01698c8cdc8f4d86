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
 *
 * The protocols are spoken here directly, as sd_notify(3) invites: a
 * datagram to NOTIFY_SOCKET, a few environment variables, a datagram to
 * journald's native socket.  libsystemd would cost the daemon 1 MiB of
 * resident memory (with libgcrypt, liblzma, libzstd, liblz4 and libcap,
 * which it needs for nothing here).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>

#include "httpqd.h"

#define HQ_SD_STATUS_INTERVAL_S 5
#define HQ_SD_LISTEN_FDS_START 3
#define HQ_SD_JOURNAL_SOCKET "/run/systemd/journal/socket"

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

/* --- the protocols ---------------------------------------------------------- */

/*
 * Sends iov as one datagram to the AF_UNIX socket path ('@' first: an
 * abstract name).  0, or -1 with errno.
 */
static int
dgram_send(const char *path, const struct iovec *iov, size_t iovlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t len = strlen(path);
	struct msghdr mh = { .msg_name = &sa, .msg_iov = (struct iovec *)iov,
		.msg_iovlen = iovlen };
	int fd;

	if ((path[0] != '/' && path[0] != '@') || len < 2 || len >= sizeof(sa.sun_path)) {
		errno = EINVAL;
		return -1;
	}
	memcpy(sa.sun_path, path, len);
	if (path[0] == '@')
		sa.sun_path[0] = '\0';
	mh.msg_namelen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	if (sendmsg(fd, &mh, MSG_NOSIGNAL) < 0) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	close(fd);
	return 0;
}

/* sd_notify(3): one datagram of "KEY=value" lines to NOTIFY_SOCKET, when set. */
static void
notify(const char *state)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct iovec iov = { (void *)state, strlen(state) };

	/* As sd_notify: a manager that is gone is no error of ours. */
	if (path != NULL)
		(void)dgram_send(path, &iov, 1);
}

static void __attribute__((format(printf, 1, 2)))
notifyf(const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	if (getenv("NOTIFY_SOCKET") == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	notify(buf);
}

/* An unsigned decimal environment variable; false when unset or not one. */
static bool
env_u64(const char *name, uint64_t *v)
{
	const char *s = getenv(name);
	char *end;
	unsigned long long n;

	if (s == NULL || *s < '0' || *s > '9')
		return false;
	errno = 0;
	n = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return false;
	*v = n;
	return true;
}

/* sd_watchdog_enabled(3): WATCHDOG_USEC, for us (WATCHDOG_PID, when set). */
static uint64_t
watchdog_usec(void)
{
	uint64_t usec, pid;

	if (!env_u64("WATCHDOG_USEC", &usec) || usec == 0)
		return 0;
	if (getenv("WATCHDOG_PID") != NULL &&
	    (!env_u64("WATCHDOG_PID", &pid) || pid != (uint64_t)getpid()))
		return 0;
	return usec;
}

/*
 * sd_listen_fds_with_names(3): the number of sockets passed from fd 3 on
 * when LISTEN_PID is ours, their names in *names (NULL when
 * LISTEN_FDNAMES is unset), and the variables unset so that no child
 * takes them for its own.  -1 when they are malformed.
 */
static int
listen_fds(char ***names)
{
	uint64_t pid, n;
	const char *fdnames = getenv("LISTEN_FDNAMES");
	int rc = 0;

	*names = NULL;
	if (!env_u64("LISTEN_PID", &pid) || pid != (uint64_t)getpid())
		goto out;
	if (!env_u64("LISTEN_FDS", &n) || n > 4096) {
		rc = -1;
		goto out;
	}
	if (fdnames != NULL && n > 0) {
		char **v = xcalloc((size_t)n, sizeof(*v));
		const char *p = fdnames;

		for (uint64_t i = 0; i < n; i++) {
			size_t len = strcspn(p, ":");

			v[i] = xstrndup(p, len);
			p += len;
			if (*p == ':')
				p++;
			else if (i + 1 < n)
				break;
		}
		*names = v;
	}
	rc = (int)n;
out:
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	return rc;
}

/* sd_is_socket(fd, AF_UNSPEC, SOCK_STREAM, 1): a listening stream socket. */
static bool
is_listening_stream(int fd)
{
	struct stat st;
	int type = 0, acc = 0;
	socklen_t l1 = sizeof(type), l2 = sizeof(acc);

	return fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode) &&
	    getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &l1) == 0 && type == SOCK_STREAM &&
	    getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &acc, &l2) == 0 && acc == 1;
}

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
	notifyf("STATUS=%s", st);
}

static void
on_watchdog(evutil_socket_t fd, short what, void *arg)
{
	notify("WATCHDOG=1");
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
	notifyf("READY=1\nMAINPID=%lu\nSTATUS=%s, %u worker%s", (unsigned long)getpid(),
	    st, nworkers, nworkers == 1 ? "" : "s");
	S.status_ev = event_new(base, -1, EV_PERSIST, on_status, NULL);
	event_add(S.status_ev, &tv);
	if ((S.wd_usec = watchdog_usec()) > 0) {
		struct timeval wtv = { (time_t)(S.wd_usec / 2 / 1000000),
		    (suseconds_t)(S.wd_usec / 2 % 1000000) };

		S.wd_ev = event_new(base, -1, EV_PERSIST, on_watchdog, NULL);
		event_add(S.wd_ev, &wtv);
		notify("WATCHDOG=1");
		hq_log(LOG_INFO, "watchdog: keep-alive every %llu ms",
		    (unsigned long long)(S.wd_usec / 2000));
	}
}

void
hq_sd_reloading(void)
{
	notifyf("RELOADING=1\nMONOTONIC_USEC=%llu\nSTATUS=Reloading configuration",
	    (unsigned long long)hq_mono_us(false));
}

void
hq_sd_reloaded(unsigned generation)
{
	char st[160];

	S.generation = generation;
	status_line(st, sizeof(st), 0);
	notifyf("READY=1\nSTATUS=%s", st);
}

void
hq_sd_reload_failed(unsigned generation, size_t nerrors)
{
	notifyf("READY=1\nSTATUS=Reload failed: %zu error%s, keeping generation %u",
	    nerrors, nerrors == 1 ? "" : "s", generation);
}

void
hq_sd_stopping(unsigned nconns)
{
	S.stopping = true;
	notifyf("STOPPING=1\nSTATUS=Draining %u connection%s", nconns,
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

/*
 * One field of journald's native protocol (systemd.journal-fields(7),
 * "Native Journal Protocol"): NAME=value and a newline, or, for a value
 * with a newline in it, NAME, a newline, the length as 64-bit little
 * endian, the value and a newline.  iov gets up to 4 entries; len is the
 * room of the 8-byte length.
 */
static size_t
journal_field(struct iovec *iov, const char *name, const char *value, unsigned char len[8])
{
	size_t vl = strlen(value), n = 0;

	iov[n++] = (struct iovec){ (void *)name, strlen(name) };
	if (memchr(value, '\n', vl) == NULL) {
		iov[n++] = (struct iovec){ (void *)"=", 1 };
	} else {
		iov[n++] = (struct iovec){ (void *)"\n", 1 };
		for (int i = 0; i < 8; i++)
			len[i] = (unsigned char)((uint64_t)vl >> (8 * i));
		iov[n++] = (struct iovec){ len, 8 };
	}
	iov[n++] = (struct iovec){ (void *)value, vl };
	iov[n++] = (struct iovec){ (void *)"\n", 1 };
	return n;
}

static int
journal_sink(int prio, const char *msg, const char *queue, const char *group)
{
	unsigned char lens[5][8];
	struct iovec iov[5 * 5];
	char p[4];
	size_t n = 0;

	snprintf(p, sizeof(p), "%d", prio & 7);
	n += journal_field(iov + n, "MESSAGE", msg, lens[0]);
	n += journal_field(iov + n, "PRIORITY", p, lens[1]);
	n += journal_field(iov + n, "SYSLOG_IDENTIFIER", "httpqd", lens[2]);
	if (queue != NULL)
		n += journal_field(iov + n, "HTTPQ_QUEUE", queue, lens[3]);
	if (group != NULL)
		n += journal_field(iov + n, "HTTPQ_URL_GROUP", group, lens[4]);
	/* Too big for one datagram (EMSGSIZE): stderr takes it. */
	return dgram_send(HQ_SD_JOURNAL_SOCKET, iov, n);
}

/*
 * Under journald (stderr is the stream JOURNAL_STREAM names), messages go
 * to journald's socket with HTTPQ_QUEUE=/HTTPQ_URL_GROUP= fields where
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
	/* Checked once: a message journald does not take goes to stderr. */
	if (access(HQ_SD_JOURNAL_SOCKET, W_OK) != 0)
		return;
	hq_log_set_sink(journal_sink);
}

/* --- socket activation ------------------------------------------------------ */

/* Takes the sockets systemd passed (before daemon() changes the pid). */
void
hq_sd_collect_fds(void)
{
	char **names = NULL;
	int n = listen_fds(&names);

	if (n <= 0) {
		if (n < 0)
			hq_log(LOG_ERR, "socket activation: LISTEN_FDS is not a number of sockets");
		return;
	}
	S.nfds = n;
	S.fds = xcalloc((size_t)n, sizeof(*S.fds));
	S.names = xcalloc((size_t)n, sizeof(*S.names));
	S.used = xcalloc((size_t)n, sizeof(*S.used));
	for (int i = 0; i < n; i++) {
		S.fds[i] = HQ_SD_LISTEN_FDS_START + i;
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

		if (S.used[i] || !is_listening_stream(S.fds[i]))
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
