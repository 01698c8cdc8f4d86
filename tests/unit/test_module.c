/*
 * test_module.c -- the module instances of module.c that need no file:
 * built-in modules (the attach consumer, metrics).
 *
 * A built-in module whose init() fails is reported with its queue's store
 * place when the queue is in the store, and by the queue's name when it was
 * made at run time (no store entry: sq is NULL, which the error path used
 * to read).
 */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "httpq-internal.h"
#include "check_main.h"

static int
init_fails(const struct httpq_api *api, httpq_ctx *ctx, void **state)
{
	(void)api; (void)ctx; (void)state;
	return -1;
}

static int
init_works(const struct httpq_api *api, httpq_ctx *ctx, void **state)
{
	(void)api; (void)ctx;
	*state = &init_works;   /* any non-NULL value */
	return 0;
}

static void
fini_noop(void *state)
{
	(void)state;
}

static const struct httpq_module failing = {
	HTTPQ_MODULE_HEAD, .name = "failing", .version = "1", .init = init_fails,
	.fini = fini_noop,
};
static const struct httpq_module working = {
	HTTPQ_MODULE_HEAD, .name = "working", .version = "1", .init = init_works,
	.fini = fini_noop,
};
static const struct httpq_api api = { .size = sizeof(api), .minor = HTTPQ_MODULE_ABI_MINOR };

START_TEST(runtime_queue_init_fails)
{
	struct hq_errors errs = { 0 };
	struct httpq_ctx *ctx = hq_module_builtin(&failing, "rtq", NULL, 0);

	ck_assert_int_eq(hq_module_init(ctx, &api, &errs), -1);
	ck_assert_uint_eq(errs.n, 1);
	ck_assert_msg(strstr(errs.msg[0], "queue \"rtq\"") != NULL, "%s", errs.msg[0]);
	ck_assert_msg(strstr(errs.msg[0], "\"failing\"") != NULL, "%s", errs.msg[0]);
	hq_errors_free(&errs);
	hq_module_unload(ctx);
}
END_TEST

START_TEST(store_queue_init_fails)
{
	struct hq_errors errs = { 0 };
	struct hq_store_queue sq = { .name = "q1", .module = "failing" };
	struct httpq_ctx *ctx;

	sq.module_at.file = "/etc/httpq/httpq.yaml";
	sq.module_at.line = 12;
	sq.module_at.col = 13;
	ctx = hq_module_builtin(&failing, "q1", &sq, 3);
	ck_assert_int_eq(hq_module_init(ctx, &api, &errs), -1);
	ck_assert_uint_eq(errs.n, 1);
	ck_assert_msg(strstr(errs.msg[0], "/etc/httpq/httpq.yaml:12:13: queues[3].module") != NULL,
	    "%s", errs.msg[0]);
	ck_assert_msg(strstr(errs.msg[0], "queue \"q1\"") != NULL, "%s", errs.msg[0]);
	hq_errors_free(&errs);
	hq_module_unload(ctx);
}
END_TEST

START_TEST(init_works_no_error)
{
	struct hq_errors errs = { 0 };
	struct httpq_ctx *ctx = hq_module_builtin(&working, "rtq", NULL, 0);

	ck_assert_int_eq(hq_module_init(ctx, &api, &errs), 0);
	ck_assert_uint_eq(errs.n, 0);
	hq_module_unload(ctx);
}
END_TEST

Suite *
unit_suite(void)
{
	Suite *s = suite_create("module");
	TCase *tc = tcase_create("builtin");

	tcase_add_test(tc, runtime_queue_init_fails);
	tcase_add_test(tc, store_queue_init_fails);
	tcase_add_test(tc, init_works_no_error);
	suite_add_tcase(s, tc);
	return s;
}
