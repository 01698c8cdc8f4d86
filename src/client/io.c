/*
 * io.c -- the socket of a queue handle: connecting, the output buffer (whole
 * frames, and the fds that ride with some of them), reading, and the
 * handle's error text.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "hqclient.h"

int
hqc_connect_path(const char *path)
{
	struct sockaddr_un sun;
	int fd;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sun.sun_path) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	while (connect(fd, (struct sockaddr *)&sun, sizeof sun) < 0) {
		if (errno == EINTR)
			continue;
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

static int
vseterr(httpq_queue *q, int err, const char *fmt, va_list ap)
{
	vsnprintf(q->err, sizeof q->err, fmt, ap);
	errno = err;
	return -1;
}

/* A failure of one call: the handle stays usable. */
int
hqc_seterr(httpq_queue *q, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vseterr(q, err, fmt, ap);
	va_end(ap);
	return -1;
}

/* The connection failed: every later call fails with err and this text. */
int
hqc_fail(httpq_queue *q, int err, const char *fmt, ...)
{
	va_list ap;

	if (q->broken) {
		errno = q->broken;
		return -1;
	}
	va_start(ap, fmt);
	vseterr(q, err, fmt, ap);
	va_end(ap);
	q->broken = err;
	errno = err;
	return -1;
}

int
hqc_check(httpq_queue *q)
{
	if (!q->broken)
		return 0;
	errno = q->broken;
	return -1;
}

void
hqc_queue_fd(httpq_queue *q, size_t off, int fd)
{
	if (q->nfds == q->fds_cap) {
		q->fds_cap = q->fds_cap ? q->fds_cap * 2 : 8;
		q->fds = xrealloc(q->fds, q->fds_cap * sizeof *q->fds);
	}
	q->fds[q->nfds].off = off;
	q->fds[q->nfds].fd = fd;
	q->nfds++;
}

/* Sends out.p[0..n), with fd (if >= 0) in the same sendmsg. */
static ssize_t
send_some(httpq_queue *q, size_t n, int fd)
{
	struct iovec iov = { q->out.p, n };
	struct msghdr mh;
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} cm;
	ssize_t w;

	memset(&mh, 0, sizeof mh);
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (fd >= 0) {
		memset(&cm, 0, sizeof cm);
		mh.msg_control = cm.buf;
		mh.msg_controllen = sizeof cm.buf;
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof fd);
	}
	do
		w = sendmsg(q->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
	while (w < 0 && errno == EINTR);
	return w;
}

/*
 * Writes what the socket takes now.  An fd goes in the sendmsg() that
 * starts with the first byte of its frame (httpq-protocol(7)), so the
 * bytes before it go in a sendmsg() of their own.
 */
int
hqc_flush(httpq_queue *q)
{
	if (hqc_check(q))
		return -1;
	while (q->out.len > 0) {
		bool withfd = q->nfds > 0 && q->fds[0].off == 0;
		size_t n = q->out.len;
		if (q->nfds > withfd)
			n = q->fds[withfd].off;
		ssize_t w = send_some(q, n, withfd ? q->fds[0].fd : -1);
		if (w < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			return hqc_fail(q, errno == EPIPE ? ECONNRESET : errno,
			    "writing to httpqd: %s", strerror(errno));
		}
		if (withfd) {
			close(q->fds[0].fd);
			memmove(q->fds, q->fds + 1, (q->nfds - 1) * sizeof *q->fds);
			q->nfds--;
		}
		hq_qp_buf_consume(&q->out, (size_t)w);
		for (size_t i = 0; i < q->nfds; i++)
			q->fds[i].off -= (size_t)w;
	}
	return 0;
}

/*
 * Reads once into the input buffer.  1 = bytes came, 0 = none now, -1 =
 * the connection failed or the daemon closed it.  fds the daemon sends
 * are not part of the protocol: they are closed.
 */
int
hqc_fill(httpq_queue *q)
{
	struct iovec iov;
	struct msghdr mh;
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(4 * sizeof(int))];
	} cm;
	ssize_t r;

	if (hqc_check(q))
		return -1;
	if (q->in_off > 0 && (q->in_off == q->in_len || q->in_off > q->in_cap / 2)) {
		memmove(q->in, q->in + q->in_off, q->in_len - q->in_off);
		q->in_len -= q->in_off;
		q->in_off = 0;
	}
	if (q->in_cap - q->in_len < HQC_READ_CHUNK / 2) {
		q->in_cap = q->in_cap ? q->in_cap * 2 : HQC_READ_CHUNK;
		q->in = xrealloc(q->in, q->in_cap);
	}
	iov.iov_base = q->in + q->in_len;
	iov.iov_len = q->in_cap - q->in_len;
	memset(&mh, 0, sizeof mh);
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cm.buf;
	mh.msg_controllen = sizeof cm.buf;
	do
		r = recvmsg(q->fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	while (r < 0 && errno == EINTR);
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); r >= 0 && c; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		size_t nfd = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < nfd; i++) {
			int fd;
			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
			close(fd);
		}
	}
	if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return 0;
	/* A reset is a close with our last bytes unread: the same to us. */
	if (r == 0 || (r < 0 && errno == ECONNRESET))
		return hqc_fail(q, ECONNRESET, "httpqd closed the connection");
	if (r < 0)
		return hqc_fail(q, errno, "reading from httpqd: %s", strerror(errno));
	q->in_len += (size_t)r;
	return 1;
}

void
hqc_io_free(httpq_queue *q)
{
	for (size_t i = 0; i < q->nfds; i++)
		close(q->fds[i].fd);
	free(q->fds);
	hq_qp_buf_free(&q->out);
	free(q->in);
	if (q->fd >= 0)
		close(q->fd);
	q->fd = -1;
}
