// fuzz-sources: src/lib/http1.c src/lib/urlprefix.c src/lib/cacherules.c src/lib/httpdate.c
/*
 * fuzz_cacherules.c -- libFuzzer harness for what the response cache reads
 * from clients: a request head (parsed as the daemon does) is checked for
 * cacheability and evaluated as a conditional request against an entry's
 * ETag and Last-Modified taken from the input's first line; every line is
 * also parsed as an HTTP-date.  Nothing may crash or read out of bounds.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "httpq-internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct hq_limits lim = { 16384, 16384, 16384, 256, 260, 255 };
	const char *p = (const char *)data, *nl = memchr(p, '\n', size);
	size_t first = nl ? (size_t)(nl - p) : size, rest = nl ? size - first - 1 : 0;
	const char *tab = memchr(p, '\t', first);
	struct hq_str etag = { p, tab ? (size_t)(tab - p) : first };
	struct hq_hdr hdrs[256];
	struct hq_head h;
	size_t scanned = 0;
	int64_t lm = hq_http_date_parse(tab ? tab + 1 : p, tab ? first - etag.n - 1 : 0);

	(void)hq_http_date_parse(p, first);
	if (nl == NULL)
		return 0;
	memset(&h, 0, sizeof(h));
	h.headers = hdrs;
	h.hdr_cap = 256;
	if (hq_http1_parse_head(nl + 1, rest, &scanned, &lim, &h) <= 0)
		return 0;
	(void)hq_cache_request(&h);
	(void)hq_cache_conditional(&h, etag, lm);
	for (size_t i = 0; i < h.nheaders; i++)
		(void)hq_http_date_parse(h.headers[i].value.p, h.headers[i].value.n);
	return 0;
}
