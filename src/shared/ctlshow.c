/*
 * ctlshow.c -- `show urlacl|sslcert|iplisten|timeout` of a setup store,
 * as readable tables or JSON.
 *
 * httpqd answers these over the control socket from its running store;
 * httpqctl prints the same from the files when the daemon is down.  One
 * function each, so that the two outputs cannot drift apart.  Every string
 * of the store is printed escaped (hq_ctl_put_text), so that a file name
 * with a newline shows as one line.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "hqshared.h"

/* ---------------------------------------------------------------------
 * JSON and tables
 * ------------------------------------------------------------------- */

void
hq_json_str(FILE *f, const char *s)
{
	if (s == NULL) {
		fputs("null", f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

/* "origin": {"file": ..., "line": N} */
void
hq_json_origin(FILE *f, const struct hq_origin *at)
{
	fputs("\"file\":", f);
	hq_json_str(f, at->file);
	fprintf(f, ",\"line\":%d", at->line);
}

struct hq_table *
hq_table_new(size_t ncols, ...)
{
	struct hq_table *t = xcalloc(1, sizeof(*t));
	va_list ap;

	t->ncols = ncols;
	va_start(ap, ncols);
	t->head = xcalloc(ncols, sizeof(char *));
	for (size_t i = 0; i < ncols; i++)
		t->head[i] = xstrdup(va_arg(ap, const char *));
	va_end(ap);
	return t;
}

/* One string per column, escaped; NULL shows as "-". */
void
hq_table_row(struct hq_table *t, ...)
{
	va_list ap;
	char **row = xcalloc(t->ncols, sizeof(char *));

	va_start(ap, t);
	for (size_t i = 0; i < t->ncols; i++) {
		const char *c = va_arg(ap, const char *);

		row[i] = hq_ctl_text(c ? c : "-");
	}
	va_end(ap);
	t->rows = xrealloc(t->rows, (t->nrows + 1) * sizeof(*t->rows));
	t->rows[t->nrows++] = row;
}

static void
print_row(FILE *f, char **cells, const size_t *w, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (i + 1 < n)
			fprintf(f, "%-*s  ", (int)w[i], cells[i]);
		else
			fprintf(f, "%s\n", cells[i]);
	}
}

static void
table_free(struct hq_table *t)
{
	for (size_t r = 0; r < t->nrows; r++) {
		for (size_t i = 0; i < t->ncols; i++)
			free(t->rows[r][i]);
		free(t->rows[r]);
	}
	for (size_t i = 0; i < t->ncols; i++)
		free(t->head[i]);
	free(t->head);
	free(t->rows);
	free(t);
}

/* Prints the table, columns as wide as their widest cell, and frees it;
 * with no rows, prints empty instead. */
void
hq_table_print(FILE *f, struct hq_table *t, const char *empty)
{
	size_t *w;

	if (t->nrows == 0) {
		fprintf(f, "%s\n", empty);
		table_free(t);
		return;
	}
	w = xcalloc(t->ncols, sizeof(*w));
	for (size_t i = 0; i < t->ncols; i++) {
		w[i] = strlen(t->head[i]);
		for (size_t r = 0; r < t->nrows; r++)
			if (strlen(t->rows[r][i]) > w[i])
				w[i] = strlen(t->rows[r][i]);
	}
	print_row(f, t->head, w, t->ncols);
	for (size_t r = 0; r < t->nrows; r++)
		print_row(f, t->rows[r], w, t->ncols);
	free(w);
	table_free(t);
}

const char *
hq_origin_text(const struct hq_origin *at, char *buf, size_t size)
{
	snprintf(buf, size, "%s:%d", at->file ? at->file : "?", at->line);
	return buf;
}

/* ---------------------------------------------------------------------
 * show urlacl [url=PREFIX]
 * ------------------------------------------------------------------- */

static const char *
rights(const struct hq_store_urlacl *a)
{
	return a->listen && a->delegate ? "listen,delegate" :
	    a->listen ? "listen" : "delegate";
}

static void
urlacl_json(FILE *f, const struct hq_store_urlacl *a)
{
	fputs("{\"url\":", f);
	hq_json_str(f, a->prefix.text);
	fputs(",\"user\":", f);
	hq_json_str(f, a->user);
	fputs(",\"group\":", f);
	hq_json_str(f, a->group);
	fprintf(f, ",\"listen\":%s,\"delegate\":%s,",
	    a->listen ? "true" : "false", a->delegate ? "true" : "false");
	hq_json_origin(f, &a->at);
	fputc('}', f);
}

/* only: a prefix as given by the user, or NULL for all. */
void
hq_show_urlacl(FILE *f, const struct hq_store *s, const char *only, bool json)
{
	struct hq_prefix p = { 0 };
	struct hq_table *t = NULL;
	char at[512], err[256];
	size_t n = 0;

	if (only != NULL && hq_prefix_parse(only, &p, err, sizeof(err)) < 0)
		only = NULL; /* the caller checked it */
	if (json)
		fputs("{\"urlacls\":[", f);
	else
		t = hq_table_new(5, "URL", "USER", "GROUP", "RIGHTS", "DEFINED AT");
	for (size_t i = 0; i < s->nurlacls; i++) {
		const struct hq_store_urlacl *a = &s->urlacls[i];

		if (only != NULL && strcmp(p.text, a->prefix.text) != 0)
			continue;
		if (json) {
			fputs(n++ ? "," : "", f);
			urlacl_json(f, a);
		} else {
			hq_table_row(t, a->prefix.text, a->user, a->group,
			    rights(a), hq_origin_text(&a->at, at, sizeof(at)));
		}
	}
	if (json)
		fputs("]}\n", f);
	else
		hq_table_print(f, t, only ? "no URL reservation for this prefix" :
		    "no URL reservations: only root may register URLs");
	hq_prefix_free(&p);
}

/* ---------------------------------------------------------------------
 * show sslcert [ipport=|hostnameport=]
 * ------------------------------------------------------------------- */

static void
sslcert_text(FILE *f, const struct hq_store_sslcert *c, hq_show_served_fn *served_fn,
    void *arg)
{
	struct hq_sslinfo served;
	struct hq_sslinfo info;
	char at[512], err[512];
	time_t now = time(NULL);

	hq_ctl_text_line(f, "SSL binding %s (%s)", c->text,
	    c->by_host ? "hostname:port, SNI" : "ip:port");
	hq_ctl_text_field(f, "certfile", "%s", c->certfile);
	hq_ctl_text_field(f, "keyfile", "%s", c->keyfile);
	hq_ctl_text_field(f, "chainfile", "%s", c->chainfile ? c->chainfile : "-");
	hq_ctl_text_field(f, "clientcert", "%s", hq_clientcert_name(c->clientcert));
	hq_ctl_text_field(f, "cafile", "%s", c->cafile ? c->cafile : "-");
	if (hq_sslbind_describe(c, &info, err, sizeof(err)) < 0) {
		hq_ctl_text_field(f, "problem", "%s", err);
	} else {
		hq_ctl_text_field(f, "subject", "%s", info.subject);
		hq_ctl_text_field(f, "SANs", "%s", info.sans[0] ? info.sans : "-");
		hq_ctl_text_field(f, "expires", "%s (%s %lld days)",
		    info.not_after_text, info.not_after < now ? "EXPIRED" : "in",
		    (long long)((info.not_after > now ? info.not_after - now :
		    now - info.not_after) / 86400));
		hq_ctl_text_field(f, "SHA-256", "%s", info.sha256);
	}
	if (served_fn != NULL && served_fn(c, &served, arg) == 0)
		hq_ctl_text_field(f, "serving", "%s, until %s, SHA-256 %s%s",
		    served.subject, served.not_after_text, served.sha256,
		    strcmp(served.sha256, info.sha256) == 0 ? "" :
		    " (not the files': a change was refused, or is not picked up yet)");
	hq_ctl_text_field(f, "defined at", "%s", hq_origin_text(&c->at, at, sizeof(at)));
}

static void
json_kv(FILE *f, const char *key, const char *v)
{
	fprintf(f, ",\"%s\":", key);
	hq_json_str(f, v);
}

static void
sslcert_json(FILE *f, const struct hq_store_sslcert *c, hq_show_served_fn *served_fn,
    void *arg)
{
	struct hq_sslinfo info;
	char err[512];

	fputs("{\"binding\":", f);
	hq_json_str(f, c->text);
	json_kv(f, "kind", c->by_host ? "hostnameport" : "ipport");
	json_kv(f, "certfile", c->certfile);
	json_kv(f, "keyfile", c->keyfile);
	json_kv(f, "chainfile", c->chainfile);
	json_kv(f, "clientcert", hq_clientcert_name(c->clientcert));
	json_kv(f, "cafile", c->cafile);
	if (hq_sslbind_describe(c, &info, err, sizeof(err)) < 0) {
		json_kv(f, "problem", err);
	} else {
		json_kv(f, "subject", info.subject);
		json_kv(f, "sans", info.sans);
		json_kv(f, "not_after", info.not_after_text);
		fprintf(f, ",\"not_after_epoch\":%lld", (long long)info.not_after);
		json_kv(f, "sha256", info.sha256);
	}
	if (served_fn != NULL && served_fn(c, &info, arg) == 0) {
		json_kv(f, "serving_subject", info.subject);
		json_kv(f, "serving_not_after", info.not_after_text);
		json_kv(f, "serving_sha256", info.sha256);
	}
	fputc(',', f);
	hq_json_origin(f, &c->at);
	fputc('}', f);
}

/* only: "ipport" or "hostnameport" text to match, or NULL. */
void
hq_show_sslcert(FILE *f, const struct hq_store *s, const char *only, bool json)
{
	hq_show_sslcert_served(f, s, only, json, NULL, NULL);
}

void
hq_show_sslcert_served(FILE *f, const struct hq_store *s, const char *only, bool json,
    hq_show_served_fn *served, void *arg)
{
	size_t n = 0;

	if (json)
		fputs("{\"sslcerts\":[", f);
	for (size_t i = 0; i < s->nsslcerts; i++) {
		const struct hq_store_sslcert *c = &s->sslcerts[i];

		if (only != NULL && strcasecmp(only, c->text) != 0)
			continue;
		if (json) {
			fputs(n ? "," : "", f);
			sslcert_json(f, c, served, arg);
		} else {
			if (n)
				fputc('\n', f);
			sslcert_text(f, c, served, arg);
		}
		n++;
	}
	if (json)
		fputs("]}\n", f);
	else if (n == 0)
		fprintf(f, "%s\n", only ? "no SSL binding for this address" :
		    "no SSL bindings");
}

/* ---------------------------------------------------------------------
 * show iplisten, show timeout
 * ------------------------------------------------------------------- */

void
hq_show_iplisten(FILE *f, const struct hq_store *s, bool json)
{
	struct hq_table *t;
	char at[512];

	if (json) {
		fputs("{\"iplisten\":[", f);
		for (size_t i = 0; i < s->nlistens; i++) {
			fputs(i ? ",{\"address\":" : "{\"address\":", f);
			hq_json_str(f, s->listens[i].text);
			fputc(',', f);
			hq_json_origin(f, &s->listens[i].at);
			fputc('}', f);
		}
		fputs("]}\n", f);
		return;
	}
	t = hq_table_new(2, "ADDRESS", "DEFINED AT");
	for (size_t i = 0; i < s->nlistens; i++)
		hq_table_row(t, s->listens[i].text,
		    hq_origin_text(&s->listens[i].at, at, sizeof(at)));
	hq_table_print(f, t, "IP listen list empty: listening on 0.0.0.0 and "
	    "[::] on every registered port");
}

static const char *
timeout_text(uint32_t v, const char *unit, char *buf, size_t size)
{
	if (v == HQ_TIMEOUT_OFF)
		return "off";
	snprintf(buf, size, "%u %s", v, unit);
	return buf;
}

void
hq_show_timeout(FILE *f, const struct hq_store *s, bool json)
{
	const char *name, *unit;
	struct hq_table *tb;
	char buf[32];
	uint32_t v;

	if (json) {
		fputs("{\"timeouts\":{", f);
		for (size_t i = 0; (name = hq_timeout_at(&s->timeouts, i, &v,
		    &unit)) != NULL; i++) {
			fprintf(f, "%s\"%s\":", i ? "," : "", name);
			if (v == HQ_TIMEOUT_OFF)
				fputs("\"off\"", f);
			else
				fprintf(f, "%u", v);
		}
		fputs("}}\n", f);
		return;
	}
	tb = hq_table_new(2, "TIMEOUT", "VALUE");
	for (size_t i = 0; (name = hq_timeout_at(&s->timeouts, i, &v,
	    &unit)) != NULL; i++)
		hq_table_row(tb, name, timeout_text(v, unit, buf, sizeof(buf)));
	hq_table_print(f, tb, "");
}

/* ---------------------------------------------------------------------
 * show cachestate: the response cache (netsh http show cachestate)
 * ------------------------------------------------------------------- */

static const char *
policy_name(int policy)
{
	return policy == HTTPQ_CACHE_TIME_TO_LIVE ? "time_to_live" :
	    policy == HTTPQ_CACHE_USER_INVALIDATES ? "user_invalidates" : "nocache";
}

void
hq_show_cachestate(FILE *f, const struct hq_cacheinfo *v, size_t n,
    const struct hq_cachestats *st, bool json)
{
	struct hq_table *tb;
	char num[5][24], ttl[32];

	if (json) {
		fprintf(f, "{\"enabled\":%s,\"entries\":%llu,\"bytes\":%llu,"
		    "\"max_bytes\":%llu,\"max_response_bytes\":%llu,\"hits\":%llu,"
		    "\"misses\":%llu,\"inserts\":%llu,\"evictions\":%llu,"
		    "\"flushed\":%llu,\"cached\":[", st->enabled ? "true" : "false",
		    (unsigned long long)st->entries, (unsigned long long)st->bytes,
		    (unsigned long long)st->max_bytes,
		    (unsigned long long)st->max_response_bytes,
		    (unsigned long long)st->hits, (unsigned long long)st->misses,
		    (unsigned long long)st->inserts, (unsigned long long)st->evictions,
		    (unsigned long long)st->flushed);
		for (size_t i = 0; i < n; i++) {
			fputs(i ? ",{\"url\":" : "{\"url\":", f);
			hq_json_str(f, v[i].url);
			fputs(",\"url_group\":", f);
			hq_json_str(f, v[i].group);
			fputs(",\"accept_encoding\":", f);
			hq_json_str(f, v[i].accept_encoding);
			fprintf(f, ",\"bytes\":%llu,\"body_bytes\":%llu,\"hits\":%llu,"
			    "\"policy\":\"%s\",\"age\":%llu,\"ttl\":",
			    (unsigned long long)v[i].bytes,
			    (unsigned long long)v[i].body_bytes,
			    (unsigned long long)v[i].hits, policy_name(v[i].policy),
			    (unsigned long long)v[i].age);
			if (v[i].ttl_left < 0)
				fputs("null,\"ttl_left\":null}", f);
			else
				fprintf(f, "%u,\"ttl_left\":%lld}", v[i].ttl,
				    (long long)v[i].ttl_left);
		}
		fputs("]}\n", f);
		return;
	}
	fprintf(f, "response cache %s: %llu entr%s, %llu of %llu bytes; hits %llu, "
	    "misses %llu, evictions %llu\n", st->enabled ? "on" : "off",
	    (unsigned long long)st->entries, st->entries == 1 ? "y" : "ies",
	    (unsigned long long)st->bytes, (unsigned long long)st->max_bytes,
	    (unsigned long long)st->hits, (unsigned long long)st->misses,
	    (unsigned long long)st->evictions);
	fputc('\n', f);
	tb = hq_table_new(8, "URL", "URL GROUP", "BYTES", "HITS", "POLICY",
	    "TTL LEFT", "AGE", "ACCEPT-ENCODING");
	for (size_t i = 0; i < n; i++) {
		snprintf(num[0], sizeof(num[0]), "%llu", (unsigned long long)v[i].bytes);
		snprintf(num[1], sizeof(num[1]), "%llu", (unsigned long long)v[i].hits);
		snprintf(num[2], sizeof(num[2]), "%llu", (unsigned long long)v[i].age);
		if (v[i].ttl_left < 0)
			snprintf(ttl, sizeof(ttl), "-");
		else
			snprintf(ttl, sizeof(ttl), "%lld s", (long long)v[i].ttl_left);
		hq_table_row(tb, v[i].url, v[i].group, num[0], num[1],
		    policy_name(v[i].policy), ttl, num[2],
		    v[i].accept_encoding == NULL ? "-" :
		    v[i].accept_encoding[0] ? v[i].accept_encoding : "(none)");
	}
	hq_table_print(f, tb, "no cached responses");
}

void
hq_cacheinfo_free(struct hq_cacheinfo *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].url);
		free(v[i].group);
		free(v[i].accept_encoding);
	}
	free(v);
}
