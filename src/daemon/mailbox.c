/*
 * mailbox.c -- hand work to another thread's event loop.
 *
 * A mutex-protected list plus an eventfd that wakes the loop.  It lets the
 * worker bases run without libevent's own locks (EVENT_BASE_FLAG_NOLOCK):
 * the only cross-thread traffic is config swaps, post() and shutdown.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "httpqd.h"

struct hq_msg {
	void (*fn)(void *);
	void *arg;
	struct hq_msg *next;
};

static void
mailbox_run(evutil_socket_t fd, short what, void *arg)
{
	struct hq_mailbox *mb = arg;
	struct hq_msg *m, *next;
	uint64_t n;

	if (read(fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		hq_log(LOG_ERR, "mailbox: read: %m");
	pthread_mutex_lock(&mb->mu);
	m = mb->head;
	mb->head = mb->tail = NULL;
	pthread_mutex_unlock(&mb->mu);
	for (; m != NULL; m = next) {
		next = m->next;
		m->fn(m->arg);
		free(m);
	}
}

void
hq_mailbox_init(struct hq_mailbox *mb, struct event_base *base)
{
	pthread_mutex_init(&mb->mu, NULL);
	mb->head = mb->tail = NULL;
	mb->closed = false;
	mb->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (mb->efd < 0)
		hq_fatal("eventfd: %m");
	event_assign(&mb->ev, base, mb->efd, EV_READ | EV_PERSIST, mailbox_run, mb);
	event_add(&mb->ev, NULL);
}

int
hq_mailbox_post(struct hq_mailbox *mb, void (*fn)(void *), void *arg)
{
	struct hq_msg *m = xmalloc(sizeof(*m));
	uint64_t one = 1;

	m->fn = fn;
	m->arg = arg;
	m->next = NULL;
	pthread_mutex_lock(&mb->mu);
	if (mb->closed) {
		pthread_mutex_unlock(&mb->mu);
		free(m);
		return -1;
	}
	if (mb->tail)
		mb->tail->next = m;
	else
		mb->head = m;
	mb->tail = m;
	/* Written under the lock so that close() cannot free the fd meanwhile. */
	if (write(mb->efd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		hq_log(LOG_ERR, "mailbox: write: %m");
	pthread_mutex_unlock(&mb->mu);
	return 0;
}

void
hq_mailbox_close(struct hq_mailbox *mb)
{
	mailbox_run(mb->efd, EV_READ, mb);
	pthread_mutex_lock(&mb->mu);
	mb->closed = true;
	pthread_mutex_unlock(&mb->mu);
	mailbox_run(mb->efd, EV_READ, mb);
	event_del(&mb->ev);
	close(mb->efd);
	mb->efd = -1;
}
