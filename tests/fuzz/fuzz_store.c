// fuzz-sources: src/lib/store_keys.c src/lib/store_load.c src/lib/store_check.c src/lib/store_merge.c src/lib/store_errors.c src/lib/store_yaml.c src/lib/urlprefix.c src/lib/router.c src/lib/accesslog.c
// fuzz-libs: -lyaml
/*
 * fuzz_store.c -- libFuzzer harness for the setup store loader.
 *
 * Any byte string is a candidate httpq.yaml: the loader must return a
 * store or errors, never crash, hang or leak.  When it loads, every
 * string the store hands out must be usable, and the errors printable.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "httpq-internal.h"

static void
touch_store(const struct hq_store *s)
{
	size_t n = 0;

	for (size_t i = 0; i < s->ngroups; i++) {
		const struct hq_store_group *g = &s->groups[i];

		n += strlen(g->name) + (g->queue ? strlen(g->queue) : 0);
		for (size_t j = 0; j < g->nprefixes; j++)
			n += strlen(g->prefixes[j].text) + strlen(g->prefix_at[j].file);
	}
	for (size_t i = 0; i < s->nqueues; i++) {
		const struct hq_store_queue *q = &s->queues[i];

		/* a queue has a module or attach:, exactly one */
		if ((q->module == NULL) != q->attach)
			__builtin_trap();
		n += strlen(q->name) + (q->module ? strlen(q->module) : 0);
		n += (q->attach_user ? strlen(q->attach_user) : 0) +
		    (q->attach_group ? strlen(q->attach_group) : 0) +
		    (q->controller_user ? strlen(q->controller_user) : 0) +
		    (q->controller_group ? strlen(q->controller_group) : 0);
		for (size_t j = 0; j < q->noptions; j++)
			n += strlen(q->options[j].key) + strlen(q->options[j].value);
	}
	n += strlen(s->queue_socket);
	for (size_t i = 0; i < s->nlistens; i++)
		n += strlen(s->listens[i].text);
	if (n == SIZE_MAX)
		fputs("unreachable\n", stderr);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hq_errors errs = { 0 };
	struct hq_store *s;
	FILE *null = fopen("/dev/null", "w");

	s = hq_store_load_string("fuzz.yaml", (const char *)data, size, &errs);
	if (s != NULL)
		touch_store(s);
	else if (errs.n == 0)
		__builtin_trap(); /* refused without saying why */
	if (null != NULL) {
		hq_errors_print(&errs, null);
		fclose(null);
	}
	hq_store_free(s);
	hq_errors_free(&errs);
	return 0;
}
