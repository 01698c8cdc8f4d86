// fuzz-sources: src/lib/urlprefix.c
/*
 * fuzz_cook.c -- libFuzzer harness for the URL cooker (hq_url_cook), that
 * every request's path goes through before routing.
 *
 * The first byte picks the limits (none, http.sys's defaults, tiny ones
 * that mutated inputs reach); the rest is the path as sent, query
 * included.  Cooking must not crash, must write only within the capacity
 * the header promises to be enough (path length + 1), and when it succeeds
 * the result is a clean path: starts with '/', no empty, "." or ".."
 * segment, no control character, within the limits, the query a view of
 * the input.  It is also a fixed point: cooking the result again (with '%'
 * and '?' escaped, as a client would send it) gives it back.  A larger
 * output buffer gives the same answer.  A difference aborts.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "httpq-internal.h"

static const struct hq_limits limits[] = {
	{ 0, 0, 0, 0, 0, 0 },
	{ HQ_DEFAULT_MAX_REQUEST_BYTES, HQ_DEFAULT_MAX_FIELD_LENGTH,
	  HQ_DEFAULT_MAX_URL_LENGTH, HQ_DEFAULT_MAX_HEADERS,
	  HQ_DEFAULT_SEGMENT_MAX_LENGTH, HQ_DEFAULT_SEGMENT_MAX_COUNT },
	{ 0, 0, 0, 0, 4, 3 },
	{ 0, 0, 0, 0, 1, 1 },
};

static void
check(bool ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_cook: %s\n", what);
		abort();
	}
}

/* The properties of a cooked path out[0..n). */
static void
check_cooked(const char *out, size_t n, const struct hq_limits *lim)
{
	size_t nseg = 0;

	check(n >= 1 && out[0] == '/' && out[n] == '\0', "starts with /, ends NUL");
	for (size_t i = 1; i <= n; i++) {
		size_t s = i, len;

		while (i < n && out[i] != '/')
			i++;
		len = i - s;
		if (len == 0) {
			check(i == n, "empty segment inside the path");
			break;
		}
		check(!(len == 1 && out[s] == '.'), "\".\" segment left");
		check(!(len == 2 && out[s] == '.' && out[s + 1] == '.'), "\"..\" segment left");
		check(!lim->segment_max_length || len <= lim->segment_max_length,
		    "segment longer than the limit");
		nseg++;
	}
	check(!lim->segment_max_count || nseg <= lim->segment_max_count,
	    "more segments than the limit");
	for (size_t i = 0; i < n; i++)
		check((unsigned char)out[i] >= 0x20 && out[i] != 0x7f, "control character");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct hq_limits *lim;
	const char *raw;
	size_t n, outlen = 0, outlen2 = 0, outlen3 = 0, elen = 0;
	char *out, *big, *enc, *again;
	struct hq_str q, q2, q3;
	enum hq_error e, e2, e3;

	if (size < 1)
		return 0;
	lim = &limits[data[0] % (sizeof(limits) / sizeof(limits[0]))];
	raw = (const char *)data + 1;
	n = size - 1;

	/* The documented capacity, exactly (ASan sees a write past it). */
	out = malloc(n + 1);
	e = hq_url_cook(raw, n, lim, out, n + 1, &outlen, &q);
	check(e == HQ_OK || e == HQ_ERR_BAD_URL, "error code");
	check(q.p >= raw && q.p + q.n <= raw + n, "query outside the input");

	big = malloc(2 * n + 16);
	e2 = hq_url_cook(raw, n, lim, big, 2 * n + 16, &outlen2, &q2);
	check(e2 == e, "a larger buffer changes the answer");
	check(q2.p == q.p && q2.n == q.n, "a larger buffer changes the query");
	if (e != HQ_OK)
		goto done;
	check(outlen2 == outlen && memcmp(out, big, outlen + 1) == 0,
	    "a larger buffer changes the path");
	check(outlen <= n, "cooked path longer than the input");
	check_cooked(out, outlen, lim);
	{
		const char *qm = memchr(raw, '?', n);

		check(qm ? q.p == qm + 1 : q.n == 0, "query start");
	}

	/* A fixed point: the cooked path, sent again, cooks to itself. */
	enc = malloc(3 * outlen + 1);
	for (size_t i = 0; i < outlen; i++) {
		if (out[i] == '%' || out[i] == '?') {
			elen += (size_t)snprintf(enc + elen, 4, "%%%02X", (unsigned char)out[i]);
		} else {
			enc[elen++] = out[i];
		}
	}
	again = malloc(elen + 1);
	e3 = hq_url_cook(enc, elen, lim, again, elen + 1, &outlen3, &q3);
	check(e3 == HQ_OK, "the cooked path does not cook again");
	check(outlen3 == outlen && memcmp(again, out, outlen) == 0,
	    "cooking is not idempotent");
	check(q3.n == 0, "the cooked path has a query");
	free(again);
	free(enc);
done:
	free(big);
	free(out);
	return 0;
}
