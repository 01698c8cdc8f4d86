/*
 * store_errors.c -- collected errors (struct hq_errors): every problem of
 * a load, each naming file:line:column and the key path, capped at
 * HQ_ERRORS_MAX lines.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "store_priv.h"

/* ---------------------------------------------------------------------
 * Collected errors
 * ------------------------------------------------------------------- */

void
hq_st_errors_vadd(struct hq_errors *e, const struct hq_origin *at, const char *path,
    const char *fmt, va_list ap)
{
	char *msg, *where, *full;

	e->total++;
	if (e->n > HQ_ERRORS_MAX) {
		/* Past the cap: only the count in the last line changes. */
		free(e->msg[HQ_ERRORS_MAX]);
		e->msg[HQ_ERRORS_MAX] = xasprintf("and %zu more errors",
		    e->total - HQ_ERRORS_MAX);
		return;
	}
	if (e->n == HQ_ERRORS_MAX) {
		e->msg = xrealloc(e->msg, (e->n + 1) * sizeof(*e->msg));
		e->msg[e->n++] = xstrdup("and 1 more error");
		return;
	}
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = xstrdup(fmt);
	if (at == NULL || at->file == NULL)
		where = xstrdup("");
	else if (at->line > 0)
		where = xasprintf("%s:%d:%d: ", at->file, at->line, at->col);
	else
		where = xasprintf("%s: ", at->file);
	if (path != NULL && path[0] != '\0')
		full = xasprintf("%s%s: %s", where, path, msg);
	else
		full = xasprintf("%s%s", where, msg);
	free(where);
	free(msg);
	/* Keys and values are user text: keep terminals and logs sane. */
	for (char *c = full; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = '?';
	e->msg = xrealloc(e->msg, (e->n + 1) * sizeof(*e->msg));
	e->msg[e->n++] = full;
}

void
hq_errors_add(struct hq_errors *e, const struct hq_origin *at,
    const char *path, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	hq_st_errors_vadd(e, at, path, fmt, ap);
	va_end(ap);
}

void
hq_errors_print(const struct hq_errors *e, FILE *f)
{
	for (size_t i = 0; i < e->n; i++)
		fprintf(f, "%s\n", e->msg[i]);
}

void
hq_errors_free(struct hq_errors *e)
{
	for (size_t i = 0; i < e->n; i++)
		free(e->msg[i]);
	free(e->msg);
	e->msg = NULL;
	e->n = 0;
	e->total = 0;
}
