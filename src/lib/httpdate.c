/*
 * httpdate.c -- HTTP-date parsing (RFC 9110 5.6.7).  libc only: the static
 * module compiles this file in too (one parser, not two that drift).
 */
#include "config.h"

#include <string.h>

#include "httpdate.h"

static const char wdays[7][4] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
static const char *const wdays_long[7] = { "Sunday", "Monday", "Tuesday", "Wednesday",
	"Thursday", "Friday", "Saturday" };
static const char months[12][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul",
	"Aug", "Sep", "Oct", "Nov", "Dec" };

/* n digits at p ("  6" style for asctime's day: leading space allowed
 * when sp); -1 if not. */
static int
digits(const char *p, int n, int sp)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (sp && i == 0 && p[i] == ' ' && n > 1)
			continue;
		if (p[i] < '0' || p[i] > '9')
			return -1;
		v = v * 10 + (p[i] - '0');
	}
	return v;
}

static int
month(const char *p)
{
	for (int m = 0; m < 12; m++)
		if (memcmp(p, months[m], 3) == 0)
			return m;
	return -1;
}

static int
wday(const char *p)
{
	for (int d = 0; d < 7; d++)
		if (memcmp(p, wdays[d], 3) == 0)
			return d;
	return -1;
}

/* "HH:MM:SS" at p into *s (seconds of the day); 60 s allowed (a leap
 * second, RFC 9110 5.6.7). */
static int
clock_of(const char *p, int64_t *s)
{
	int h = digits(p, 2, 0), mi = digits(p + 3, 2, 0), se = digits(p + 6, 2, 0);

	if (p[2] != ':' || p[5] != ':' || h < 0 || h > 23 || mi < 0 || mi > 59 ||
	    se < 0 || se > 60)
		return -1;
	*s = (int64_t)h * 3600 + mi * 60 + se;
	return 0;
}

/* Days from 1970-01-01 to y-m-d (m 0-11), or -1 when the day does not
 * exist in that month. */
static int64_t
days_of(int y, int m, int d)
{
	static const int mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	int64_t yy, days;

	if (d < 1 || d > mdays[m] + (m == 1 && leap))
		return -1;
	/* Howard Hinnant's days_from_civil, March-based year */
	yy = m < 2 ? y - 1 : y;
	int64_t era = yy / 400, yoe = yy - era * 400;
	int64_t mp = (m + 10) % 12;  /* Mar 0 .. Feb 11 */
	int64_t doy = (153 * mp + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	days = era * 146097 + doe - 719468;
	return days;
}

int64_t
hq_http_date_parse(const char *p, size_t n)
{
	int y, m, d;
	int64_t secs, days;
	const char *t;

	if (p == NULL)
		return -1;
	if (n == 29 && p[3] == ',' && p[4] == ' ' && p[7] == ' ' && p[11] == ' ' &&
	    p[16] == ' ' && p[25] == ' ' && memcmp(p + 26, "GMT", 3) == 0) {
		/* IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT */
		if (wday(p) < 0)
			return -1;
		d = digits(p + 5, 2, 0);
		m = month(p + 8);
		y = digits(p + 12, 4, 0);
		t = p + 17;
	} else if (n == 24 && p[3] == ' ' && p[7] == ' ' && p[10] == ' ' && p[19] == ' ') {
		/* asctime: Sun Nov  6 08:49:37 1994 */
		if (wday(p) < 0)
			return -1;
		m = month(p + 4);
		d = digits(p + 8, 2, 1);
		y = digits(p + 20, 4, 0);
		t = p + 11;
	} else {
		/* RFC 850: Sunday, 06-Nov-94 08:49:37 GMT */
		const char *c = memchr(p, ',', n < 10 ? n : 10);
		size_t k;
		int w;

		if (c == NULL)
			return -1;
		k = (size_t)(c - p);
		for (w = 0; w < 7; w++)
			if (strlen(wdays_long[w]) == k && memcmp(p, wdays_long[w], k) == 0)
				break;
		if (w == 7 || n != k + 24)
			return -1;
		c++;
		if (c[0] != ' ' || c[3] != '-' || c[7] != '-' || c[10] != ' ' ||
		    c[19] != ' ' || memcmp(c + 20, "GMT", 3) != 0)
			return -1;
		d = digits(c + 1, 2, 0);
		m = month(c + 4);
		y = digits(c + 8, 2, 0);
		if (y >= 0)
			y += y < 70 ? 2000 : 1900;
		t = c + 11;
	}
	if (m < 0 || d < 0 || y < 1970 || clock_of(t, &secs) < 0)
		return -1;
	if ((days = days_of(y, m, d)) < 0)
		return -1;
	return days * 86400 + secs;
}
