/*
 * test_queue.c -- request queue accounting: admission against the length
 * limit, counters, peak, reconfiguration, and admission from many threads.
 */
#include "config.h"

#include <check.h>
#include <pthread.h>
#include <stdlib.h>

#include "httpq-internal.h"
#include "check_main.h"

static struct hq_queue_stats
stats(struct hq_queue *q)
{
	struct hq_queue_stats st;

	hq_queue_stats(q, &st);
	return st;
}

START_TEST(admit_until_full)
{
	struct hq_queue *q = hq_queue_new("q", 2, HQ_503_LIMITED);

	ck_assert_int_eq(hq_queue_admit(q), HQ_OK);
	ck_assert_int_eq(hq_queue_admit(q), HQ_OK);
	ck_assert_int_eq(hq_queue_admit(q), HQ_ERR_QUEUE_FULL);
	ck_assert_uint_eq(stats(q).arrived, 3);
	ck_assert_uint_eq(stats(q).rejected, 1);
	ck_assert_uint_eq(stats(q).current, 2);
	hq_queue_complete(q);
	ck_assert_int_eq(hq_queue_admit(q), HQ_OK);
	ck_assert_uint_eq(stats(q).completed, 1);
	ck_assert_uint_eq(stats(q).peak, 2);
	hq_queue_unref(q);
}
END_TEST

START_TEST(peak_and_current)
{
	struct hq_queue *q = hq_queue_new("q", 10, HQ_503_FULL);

	for (int i = 0; i < 7; i++)
		ck_assert_int_eq(hq_queue_admit(q), HQ_OK);
	for (int i = 0; i < 5; i++)
		hq_queue_complete(q);
	ck_assert_uint_eq(stats(q).current, 2);
	ck_assert_uint_eq(stats(q).peak, 7);
	ck_assert_uint_eq(stats(q).completed, 5);
	ck_assert_int_eq(stats(q).verbosity, HQ_503_FULL);
	hq_queue_unref(q);
}
END_TEST

START_TEST(reconfigure_keeps_admitted)
{
	struct hq_queue *q = hq_queue_new("q", 5, HQ_503_LIMITED);

	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(hq_queue_admit(q), HQ_OK);
	/* A reload lowering the limit keeps what was admitted ... */
	hq_queue_configure(q, 2, HQ_503_BASIC);
	ck_assert_uint_eq(stats(q).current, 4);
	ck_assert_int_eq(hq_queue_verbosity(q), HQ_503_BASIC);
	/* ... and admits again only below the new limit. */
	ck_assert_int_eq(hq_queue_admit(q), HQ_ERR_QUEUE_FULL);
	hq_queue_complete(q);
	hq_queue_complete(q);
	hq_queue_complete(q);
	ck_assert_int_eq(hq_queue_admit(q), HQ_OK);
	hq_queue_unref(q);
}
END_TEST

START_TEST(reject_counts)
{
	struct hq_queue *q = hq_queue_new("q", 5, HQ_503_LIMITED);

	hq_queue_reject(q);
	ck_assert_uint_eq(stats(q).arrived, 1);
	ck_assert_uint_eq(stats(q).rejected, 1);
	ck_assert_uint_eq(stats(q).current, 0);
	ck_assert_str_eq(hq_queue_name(q), "q");
	hq_queue_unref(q);
}
END_TEST

#define THREADS 4
#define ROUNDS 20000

static void *
hammer(void *arg)
{
	struct hq_queue *q = arg;

	for (int i = 0; i < ROUNDS; i++)
		if (hq_queue_admit(q) == HQ_OK)
			hq_queue_complete(q);
	return NULL;
}

/* The limit holds under concurrency: current never passes it and every
 * admission is matched by exactly one completion. */
START_TEST(concurrent_admission)
{
	struct hq_queue *q = hq_queue_new("q", 3, HQ_503_LIMITED);
	pthread_t t[THREADS];
	struct hq_queue_stats st;

	for (int i = 0; i < THREADS; i++)
		pthread_create(&t[i], NULL, hammer, q);
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	st = stats(q);
	ck_assert_uint_eq(st.arrived, THREADS * ROUNDS);
	ck_assert_uint_eq(st.completed + st.rejected, THREADS * ROUNDS);
	ck_assert_uint_eq(st.current, 0);
	ck_assert_uint_le(st.peak, 3);
	hq_queue_unref(q);
}
END_TEST

Suite *
unit_suite(void)
{
	Suite *s = suite_create("queue");
	TCase *tc = tcase_create("accounting");

	tcase_add_test(tc, admit_until_full);
	tcase_add_test(tc, peak_and_current);
	tcase_add_test(tc, reconfigure_keeps_admitted);
	tcase_add_test(tc, reject_counts);
	tcase_add_test(tc, concurrent_admission);
	suite_add_tcase(s, tc);
	return s;
}
