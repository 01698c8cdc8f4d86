// fuzz-sources: src/lib/ctlproto.c src/lib/log.c src/lib/store_keys.c src/lib/store_load.c src/lib/store_check.c src/lib/store_merge.c src/lib/store_errors.c src/lib/store_yaml.c src/lib/urlprefix.c src/lib/router.c src/lib/accesslog.c
// fuzz-libs: -lyaml
/*
 * fuzz_ctlproto.c -- libFuzzer harness for the control protocol: what
 * httpqd reads from its socket and what httpqctl reads back.
 *
 * Every input is tried in each role:
 *   - a command line, as httpqd parses it (hq_ctl_parse): a parsed command
 *     must be well formed;
 *   - httpqctl's argv, the words split at NUL bytes (hq_ctl_parse_words):
 *     unless it is a change (that httpqctl makes itself), the line
 *     hq_ctl_join makes of them must parse back to the very same command
 *     (or be refused alike), so that what httpqctl checked is what httpqd
 *     runs;
 *   - text output: hq_ctl_unescape(hq_ctl_text(s)) is s, the escaped text
 *     holds no control character, and whatever hq_ctl_unescape accepts
 *     escapes and unescapes back to itself;
 *   - data lines: hq_ctl_frame never makes a line the client takes for the
 *     status line, and hq_ctl_unframe gives each line back;
 *   - a status line (hq_ctl_status), read back by hq_ctl_is_status.
 * A difference aborts.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "httpq-internal.h"

#define MAX_ARGV 40

static void
check(bool ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_ctlproto: %s\n", what);
		abort();
	}
}

static bool
no_control(const char *s, size_t n, bool tab_ok)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c < 0x20 && !(tab_ok && c == '\t')) || c == 0x7f)
			return false;
	}
	return true;
}

/* What a command may hold: no byte that breaks or fakes a line (DEL may
 * stay: text output escapes it). */
static bool
no_line_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 && *s != '\t')
			return false;
	return true;
}

/* Any command: known id, named keys once each, no empty value. */
static void
check_cmd_keys(const struct hq_ctl_cmd *c)
{
	check((int)c->id >= 0 && c->id < HQ_CTL__COUNT, "id");
	check(c->nkv <= HQ_CTL_MAX_KV, "nkv");
	for (size_t i = 0; i < c->nkv; i++) {
		check(c->kv[i].key[0] != '\0' && strchr(c->kv[i].key, '=') == NULL, "key");
		check(no_line_control(c->kv[i].key), "control character in a key");
		check(c->kv[i].value[0] != '\0', "empty value");
		check(hq_ctl_get(c, c->kv[i].key) == c->kv[i].value, "duplicate key");
	}
}

/* A command that travels as a line: nothing in it can break the line. */
static void
check_cmd(const struct hq_ctl_cmd *c)
{
	check_cmd_keys(c);
	for (size_t i = 0; i < c->nkv; i++)
		check(no_line_control(c->kv[i].value), "control character in a value");
	if (c->arg != NULL)
		check(no_line_control(c->arg), "control character in arg");
}

static bool
same_cmd(const struct hq_ctl_cmd *a, const struct hq_ctl_cmd *b)
{
	if (a->id != b->id || a->admin != b->admin || a->json != b->json ||
	    a->nkv != b->nkv || (a->arg == NULL) != (b->arg == NULL) ||
	    (a->arg != NULL && strcmp(a->arg, b->arg) != 0))
		return false;
	for (size_t i = 0; i < a->nkv; i++)
		if (strcmp(a->kv[i].key, b->kv[i].key) != 0 ||
		    strcmp(a->kv[i].value, b->kv[i].value) != 0)
			return false;
	return true;
}

/* httpqd: a line from the socket. */
static void
as_line(const char *s, size_t n)
{
	struct hq_ctl_cmd cmd;
	char err[256];

	if (hq_ctl_parse(s, n, &cmd, err, sizeof(err)) == 0)
		check_cmd(&cmd);
	hq_ctl_cmd_free(&cmd);
}

/* httpqctl: argv, then the line it sends. */
static void
as_words(const char *s, size_t n)
{
	char *copy = malloc(n + 1), *words[MAX_ARGV], *line, err[256], err2[256];
	struct hq_ctl_cmd a, b;
	size_t nw = 0;
	int ra, rb;

	memcpy(copy, s, n);
	copy[n] = '\0';
	for (size_t i = 0; i <= n && nw < MAX_ARGV; ) {
		words[nw++] = copy + i;
		i += strlen(copy + i) + 1;
	}
	if (n == 0)
		nw = 0;
	ra = hq_ctl_parse_words(words, nw, &a, err, sizeof(err));
	line = hq_ctl_join(words, nw);
	/* A change is made by httpqctl, never sent: its values may be any. */
	if (ra == 0 && a.admin && a.id != HQ_CTL_RELOAD && a.id != HQ_CTL_FLUSH_LOGBUFFER)
		check_cmd_keys(&a);
	else if (strlen(line) <= HQ_CTL_MAX_LINE) {
		rb = hq_ctl_parse(line, strlen(line), &b, err2, sizeof(err2));
		if ((ra == 0) != (rb == 0)) {
			fprintf(stderr, "fuzz_ctlproto: words %s (%s), their line %s (%s)\n",
			    ra ? "refused" : "accepted", ra ? err : "",
			    rb ? "refused" : "accepted", rb ? err2 : "");
			abort();
		}
		if (ra == 0) {
			check_cmd(&a);
			check(same_cmd(&a, &b), "the joined line parses to another command");
		}
		hq_ctl_cmd_free(&b);
	}
	hq_ctl_cmd_free(&a);
	free(line);
	free(copy);
}

/* Text output and its reading back. */
static void
as_text(const char *s, size_t n)
{
	char *str = strndup(s, n), *t, *u, *t2, *u2;

	t = hq_ctl_text(str);
	check(no_control(t, strlen(t), false), "control character in escaped text");
	u = hq_ctl_unescape(t);
	check(u != NULL && strcmp(u, str) == 0, "unescape(escape(s)) != s");
	free(u);
	free(t);

	u = hq_ctl_unescape(str);
	if (u != NULL) {
		t2 = hq_ctl_text(u);
		u2 = hq_ctl_unescape(t2);
		check(u2 != NULL && strcmp(u2, u) == 0, "an unescaped string does not round-trip");
		free(u2);
		free(t2);
		free(u);
	}
	free(str);
}

/* Data lines as sent, and as the client prints them. */
static void
as_data(const char *s, size_t n)
{
	size_t flen = 0, i = 0, j = 0;
	char *f = hq_ctl_frame(s, n, &flen);

	check(n == 0 || (flen > 0 && f[flen - 1] == '\n'), "last newline");
	while (i < flen) {
		char *nl = memchr(f + i, '\n', flen - i);
		size_t end, dend;
		const char *text, *dnl;

		check(nl != NULL, "framed text does not end in a newline");
		end = (size_t)(nl - f);
		*nl = '\0';
		check(hq_ctl_is_status(f + i, &text) < 0, "a data line reads as the status");
		check(no_control(f + i, end - i, true), "control character in a data line");
		dnl = j < n ? memchr(s + j, '\n', n - j) : NULL;
		dend = dnl ? (size_t)(dnl - s) : n;
		check(j <= n, "more lines out than in");
		/* A line without controls comes back as it was. */
		if (no_control(s + j, dend - j, true)) {
			const char *back = hq_ctl_unframe(f + i);

			check(strlen(back) == dend - j && memcmp(back, s + j, dend - j) == 0,
			    "unframe(frame(line)) != line");
		}
		j = dend + 1;
		i = end + 1;
	}
	check(j >= n, "fewer lines out than in");
	free(f);
}

/* The status line. */
static void
as_status(const char *s, size_t n)
{
	int code = n ? (unsigned char)s[0] % 100 : 0;
	char *msg = n ? strndup(s + 1, n - 1) : strdup(""), *st, *u;
	const char *text;
	size_t len;

	st = hq_ctl_status(code, msg);
	len = strlen(st);
	check(len > 0 && st[len - 1] == '\n' && memchr(st, '\n', len - 1) == NULL,
	    "the status is not one line");
	st[len - 1] = '\0';
	check(hq_ctl_is_status(st, &text) == code, "status code read back");
	u = hq_ctl_unescape(text);
	check(u != NULL, "status text does not unescape");
	check(strcmp(u, msg[0] ? msg : code ? "failed" : "") == 0, "status text read back");
	free(u);
	free(st);
	free(msg);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;

	if (size > 2 * HQ_CTL_MAX_LINE)
		return 0;
	as_line(s, size);
	as_words(s, size);
	as_text(s, size);
	as_data(s, size);
	as_status(s, size);
	return 0;
}
