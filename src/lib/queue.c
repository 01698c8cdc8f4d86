/*
 * queue.c -- request queues (http.sys HttpCreateRequestQueue).
 *
 * The length limit counts requests admitted and not yet completed by a
 * consumer, across every worker thread, so admission is a compare-and-swap
 * on one atomic counter: no lock on the request path.
 */
#include "config.h"

#include <stdatomic.h>
#include <stdlib.h>

#include "httpq-internal.h"

struct hq_queue {
	char *name;
	atomic_int refs;
	atomic_uint limit;
	atomic_int verbosity;
	atomic_uint current;
	atomic_uint peak;
	atomic_uint_fast64_t arrived;
	atomic_uint_fast64_t completed;
	atomic_uint_fast64_t rejected;
};

struct hq_queue *
hq_queue_new(const char *name, uint32_t limit, enum hq_verbosity v)
{
	struct hq_queue *q = xcalloc(1, sizeof(*q));

	q->name = xstrdup(name);
	atomic_init(&q->refs, 1);
	atomic_init(&q->limit, limit);
	atomic_init(&q->verbosity, (int)v);
	return q;
}

void
hq_queue_ref(struct hq_queue *q)
{
	atomic_fetch_add_explicit(&q->refs, 1, memory_order_relaxed);
}

void
hq_queue_unref(struct hq_queue *q)
{
	if (q == NULL)
		return;
	if (atomic_fetch_sub_explicit(&q->refs, 1, memory_order_acq_rel) != 1)
		return;
	free(q->name);
	free(q);
}

const char *
hq_queue_name(const struct hq_queue *q)
{
	return q->name;
}

/* A reload may change the limit and verbosity of a live queue; requests
 * already admitted stay admitted even if the new limit is lower. */
void
hq_queue_configure(struct hq_queue *q, uint32_t limit, enum hq_verbosity v)
{
	atomic_store(&q->limit, limit);
	atomic_store(&q->verbosity, (int)v);
}

enum hq_verbosity
hq_queue_verbosity(const struct hq_queue *q)
{
	return (enum hq_verbosity)atomic_load_explicit(&q->verbosity,
	    memory_order_relaxed);
}

static void
note_peak(struct hq_queue *q, unsigned now)
{
	unsigned peak = atomic_load_explicit(&q->peak, memory_order_relaxed);

	while (now > peak && !atomic_compare_exchange_weak_explicit(&q->peak,
	    &peak, now, memory_order_relaxed, memory_order_relaxed))
		;
}

enum hq_error
hq_queue_admit(struct hq_queue *q)
{
	unsigned limit = atomic_load_explicit(&q->limit, memory_order_relaxed);
	unsigned cur = atomic_load_explicit(&q->current, memory_order_relaxed);

	atomic_fetch_add_explicit(&q->arrived, 1, memory_order_relaxed);
	do {
		if (cur >= limit) {
			atomic_fetch_add_explicit(&q->rejected, 1,
			    memory_order_relaxed);
			return HQ_ERR_QUEUE_FULL;
		}
	} while (!atomic_compare_exchange_weak_explicit(&q->current, &cur,
	    cur + 1, memory_order_acq_rel, memory_order_relaxed));
	note_peak(q, cur + 1);
	return HQ_OK;
}

void
hq_queue_reject(struct hq_queue *q)
{
	atomic_fetch_add_explicit(&q->arrived, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&q->rejected, 1, memory_order_relaxed);
}

void
hq_queue_complete(struct hq_queue *q)
{
	atomic_fetch_sub_explicit(&q->current, 1, memory_order_acq_rel);
	atomic_fetch_add_explicit(&q->completed, 1, memory_order_relaxed);
}

/* An admitted request that leaves the queue with a 503 (attached processes:
 * none took it in time, or the one holding it died): counted as rejected. */
void
hq_queue_complete_rejected(struct hq_queue *q)
{
	atomic_fetch_sub_explicit(&q->current, 1, memory_order_acq_rel);
	atomic_fetch_add_explicit(&q->rejected, 1, memory_order_relaxed);
}

void
hq_queue_stats(const struct hq_queue *q, struct hq_queue_stats *st)
{
	struct hq_queue *mq = (struct hq_queue *)q;

	st->arrived = atomic_load(&mq->arrived);
	st->completed = atomic_load(&mq->completed);
	st->rejected = atomic_load(&mq->rejected);
	st->current = atomic_load(&mq->current);
	st->peak = atomic_load(&mq->peak);
	st->limit = atomic_load(&mq->limit);
	st->verbosity = hq_queue_verbosity(q);
}
