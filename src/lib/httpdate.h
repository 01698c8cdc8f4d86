/*
 * httpdate.h -- HTTP-date parsing (RFC 9110 5.6.7), libc only: compiled
 * into libhq (the response cache) and into the static module, which links
 * only against <httpq/module.h>.
 */
#ifndef HTTPQ_HTTPDATE_H
#define HTTPQ_HTTPDATE_H

#include <stddef.h>
#include <stdint.h>

/* p[0..n): an IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT"), or the
 * obsolete RFC 850 ("Sunday, 06-Nov-94 08:49:37 GMT", years 70-99 are
 * 19xx, 00-69 20xx) or asctime ("Sun Nov  6 08:49:37 1994") forms, exactly
 * (no spaces around, no other widths).  Returns seconds since the epoch,
 * or -1 for anything else, a date that does not exist, or one before 1970. */
int64_t hq_http_date_parse(const char *p, size_t n);

#endif
