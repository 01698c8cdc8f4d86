/*
 * test_util.c -- the send timer: pending / min_send_rate + 1 seconds,
 * capped at HQ_SEND_TIMER_MAX_S however much is pending, off when the rate
 * is off.  Before the cap, a client that pipelined and never read stretched
 * the timer to 65535 s.
 */
#include "config.h"

#include <check.h>
#include <stdlib.h>

#include "httpq-internal.h"
#include "check_main.h"

static const struct {
	uint64_t pending;
	uint32_t rate;
	uint32_t want;
} send_cases[] = {
	{ 0, 150, 1 },
	{ 149, 150, 1 },
	{ 150, 150, 2 },
	{ 64 * 1024, 150, 437 > HQ_SEND_TIMER_MAX_S ? HQ_SEND_TIMER_MAX_S : 437 },
	{ (uint64_t)(HQ_SEND_TIMER_MAX_S - 1) * 150, 150, HQ_SEND_TIMER_MAX_S },
	{ (uint64_t)HQ_SEND_TIMER_MAX_S * 150, 150, HQ_SEND_TIMER_MAX_S },
	{ 229u * 1000 * 1000, 150, HQ_SEND_TIMER_MAX_S },  /* the 229 MB of issue 8 */
	{ UINT64_MAX, 1, HQ_SEND_TIMER_MAX_S },
	{ 1000, 1, HQ_SEND_TIMER_MAX_S },
	{ 1000000, 10000, 101 },
	{ 1000, HQ_TIMEOUT_OFF, HQ_TIMEOUT_OFF },
	{ 1000, 0, HQ_TIMEOUT_OFF },
};

START_TEST(send_timeout)
{
	uint32_t got = hq_send_timeout_s(send_cases[_i].pending, send_cases[_i].rate);

	ck_assert_msg(got == send_cases[_i].want,
	    "case %d: pending %llu at %u B/s: got %u s, want %u s", _i,
	    (unsigned long long)send_cases[_i].pending, send_cases[_i].rate, got,
	    send_cases[_i].want);
}
END_TEST

START_TEST(send_timeout_cap_is_short)
{
	/* Minutes, not hours: a stalled client is let go in bounded time. */
	ck_assert_uint_le(HQ_SEND_TIMER_MAX_S, 600);
	ck_assert_uint_le(hq_send_timeout_s(UINT64_MAX, 1), 600);
}
END_TEST

Suite *
unit_suite(void)
{
	Suite *s = suite_create("util");
	TCase *tc = tcase_create("send_timer");

	tcase_add_loop_test(tc, send_timeout, 0,
	    (int)(sizeof(send_cases) / sizeof(send_cases[0])));
	tcase_add_test(tc, send_timeout_cap_is_short);
	suite_add_tcase(s, tc);
	return s;
}
