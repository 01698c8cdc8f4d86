/*
 * listener.c -- listening sockets.
 *
 * Every worker gets its own socket per address, bound with SO_REUSEPORT, so
 * the kernel spreads connections over the workers and no accept lock or
 * shared queue exists (a shared listener cost 9-16 % more CPU here).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "httpqd.h"

#define HQ_LISTEN_BACKLOG 511

/*
 * TCP_DEFER_ACCEPT (server.defer_accept, nginx's `listen ... deferred`):
 * accept() returns a connection once its first bytes are there, so the
 * read that follows it finds the request, and a `Connection: close`
 * request is answered without ever entering epoll.  A connection that
 * sends nothing costs the daemon nothing (no descriptor, no timer) until
 * the kernel hands it over anyway, after about secs: rounded up to its
 * SYN-ACK retransmissions, 1, 3, 7, 15 s...  A socket that refuses it is
 * logged and serves on without.
 */
void
hq_listener_defer(int fd, const struct hq_listen_addr *la, uint32_t secs)
{
#ifdef TCP_DEFER_ACCEPT
	int v = secs == HQ_TIMEOUT_OFF ? 0 : (int)secs;

	if (setsockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &v, sizeof(v)) == 0)
		return;
#else
	(void)fd;
	if (secs == HQ_TIMEOUT_OFF)
		return;
	errno = ENOPROTOOPT;
#endif
	hq_log(LOG_WARNING, "%s: TCP_DEFER_ACCEPT: %m (server.defer_accept "
	    "has no effect)", la->text);
}

static int
open_one(const struct hq_listen_addr *la, uint32_t defer)
{
	int fd, one = 1;

	fd = socket(la->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0)
		goto fail;
	/* [::] must not also take IPv4: 0.0.0.0 has its own socket. */
	if (la->addr.ss_family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0)
		goto fail;
	/* Accepted sockets inherit it on Linux: no setsockopt per connection. */
	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0)
		goto fail;
	if (bind(fd, (const struct sockaddr *)&la->addr, la->addrlen) < 0 ||
	    listen(fd, HQ_LISTEN_BACKLOG) < 0)
		goto fail;
	hq_listener_defer(fd, la, defer);
	return fd;
fail:
	{
		int e = errno;

		close(fd);
		errno = e;
	}
	return -1;
}

int
hq_listeners_open(const struct hq_config *cfg, unsigned nworkers, int ***fdsp)
{
	int **fds = xcalloc(nworkers, sizeof(*fds));
	int *passed = xcalloc(cfg->nlistens + 1, sizeof(int));
	uint32_t defer = cfg->store->defer_accept;

	/* Sockets passed by systemd: every worker accepts from a dup (sd.c). */
	for (size_t i = 0; i < cfg->nlistens; i++) {
		int one = 1;

		passed[i] = hq_sd_listen_fd(&cfg->listens[i]);
		/* As open_one() does: accepted sockets inherit TCP_NODELAY. */
		if (passed[i] >= 0 && setsockopt(passed[i], IPPROTO_TCP,
		    TCP_NODELAY, &one, sizeof(one)) < 0)
			hq_log(LOG_WARNING, "%s: TCP_NODELAY: %m", cfg->listens[i].text);
		/* The store decides, over the unit's DeferAcceptSec=. */
		if (passed[i] >= 0)
			hq_listener_defer(passed[i], &cfg->listens[i], defer);
	}
	hq_sd_close_unused();
	for (unsigned w = 0; w < nworkers; w++) {
		fds[w] = xcalloc(cfg->nlistens + 1, sizeof(int));
		for (size_t i = 0; i < cfg->nlistens; i++) {
			if (passed[i] >= 0)
				fds[w][i] = w == 0 ? passed[i] :
				    fcntl(passed[i], F_DUPFD_CLOEXEC, 0);
			else
				fds[w][i] = open_one(&cfg->listens[i], defer);
			if (fds[w][i] >= 0)
				continue;
			hq_log(LOG_ERR, "cannot listen on %s: %m", cfg->listens[i].text);
			for (size_t j = 0; j < i; j++)
				close(fds[w][j]);
			for (unsigned v = 0; v < w; v++) {
				for (size_t j = 0; j < cfg->nlistens; j++)
					close(fds[v][j]);
				free(fds[v]);
			}
			free(fds[w]);
			free(fds);
			free(passed);
			return -1;
		}
	}
	free(passed);
	*fdsp = fds;
	return 0;
}

const struct sockaddr *
hq_listen_local(const struct hq_listen_addr *la, int fd, union hq_inaddr *ss,
    socklen_t *len)
{
	if (*len == 0) {
		*len = sizeof(*ss);
		if (getsockname(fd, &ss->sa, len) < 0 || *len > sizeof(*ss)) {
			*len = la->addrlen < sizeof(*ss) ? la->addrlen : sizeof(*ss);
			memcpy(ss, &la->addr, *len);
		}
	}
	return &ss->sa;
}

long
hq_fd_limit(long *hard)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return -1;
	if (hard != NULL)
		*hard = rl.rlim_max == RLIM_INFINITY ? -1 : (long)rl.rlim_max;
	return rl.rlim_cur == RLIM_INFINITY ? -1 : (long)rl.rlim_cur;
}

/*
 * Every connection holds a descriptor, and the usual soft limit (1024) is
 * far below what a server meets; the hard one is what the administrator
 * (or LimitNOFILE= in httpq.service) allows.  Never above it, even as
 * root: that is the administrator's choice.
 */
void
hq_fd_limit_raise(void)
{
	struct rlimit rl;
	rlim_t was;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0) {
		hq_log(LOG_WARNING, "getrlimit(RLIMIT_NOFILE): %m");
		return;
	}
	was = rl.rlim_cur;
	if (rl.rlim_cur != rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0) {
			hq_log(LOG_WARNING, "open files: cannot raise the limit "
			    "from %llu to %llu: %m", (unsigned long long)was,
			    (unsigned long long)rl.rlim_max);
			rl.rlim_cur = was;
		}
	}
	if (rl.rlim_cur == was)
		hq_log(LOG_INFO, "open files: limit %llu (hard %llu)",
		    (unsigned long long)rl.rlim_cur, (unsigned long long)rl.rlim_max);
	else
		hq_log(LOG_INFO, "open files: limit %llu (raised from %llu, hard "
		    "%llu)", (unsigned long long)rl.rlim_cur,
		    (unsigned long long)was, (unsigned long long)rl.rlim_max);
}

/* --- Unix sockets: the control socket and the queue socket ------------- */

/* mkdir -p of the folder holding path. */
static void
make_parent(const char *path)
{
	char *dir = xstrdup(path), *p;

	if ((p = strrchr(dir, '/')) != NULL && p != dir) {
		*p = '\0';
		for (p = dir + 1; *p; p++) {
			if (*p != '/')
				continue;
			*p = '\0';
			mkdir(dir, 0755);
			*p = '/';
		}
		mkdir(dir, 0755);
	}
	free(dir);
}

static const char *
file_kind(mode_t m)
{
	return S_ISREG(m) ? "a regular file" : S_ISLNK(m) ? "a symbolic link" :
	    S_ISDIR(m) ? "a folder" : S_ISFIFO(m) ? "a FIFO" :
	    S_ISCHR(m) || S_ISBLK(m) ? "a device" : "not a socket";
}

int
hq_unix_path_free(const char *path, const char *who, const char *hint)
{
	struct stat st;

	if (lstat(path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		hq_log(LOG_ERR, "%s: %s: %m", who, path);
		return -1;
	}
	if (S_ISSOCK(st.st_mode))
		return 0;
	hq_log(LOG_ERR, "%s: %s is %s, not a socket: refusing to replace "
	    "it (%s)", who, path, file_kind(st.st_mode), hint);
	return -1;
}

/* Is another process (another httpqd) answering on sun? */
static bool
socket_live(const struct sockaddr_un *sun)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool live;

	if (fd < 0)
		return false;
	live = connect(fd, (const struct sockaddr *)sun, sizeof(*sun)) == 0;
	close(fd);
	return live;
}

int
hq_unix_listen(const char *path, mode_t mode, int backlog, const char *who,
    const char *hint)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	mode_t old;
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		hq_log(LOG_ERR, "%s: socket path too long: %s", who, path);
		return -1;
	}
	strcpy(sun.sun_path, path);
	make_parent(path);
	if (hq_unix_path_free(path, who, hint) < 0)
		return -1;
	if (socket_live(&sun)) {
		hq_log(LOG_ERR, "%s: %s is in use by another process", who, path);
		return -1;
	}
	if (unlink(path) < 0 && errno != ENOENT)
		hq_log(LOG_WARNING, "%s: unlink %s: %m", who, path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	/* Never more open than mode, not even between bind and chmod. */
	old = umask(~mode & 0777);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 || listen(fd, backlog) < 0) {
		umask(old);
		hq_log(LOG_ERR, "%s: cannot listen on %s: %m", who, path);
		close(fd);
		return -1;
	}
	umask(old);
	chmod(path, mode);
	return fd;
}
