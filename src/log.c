/*
 * log.c -- daemon messages.
 *
 * In the foreground (and under systemd, which reads stderr) every line is
 * "<N>httpqd: message" with the syslog priority N in front, which journald
 * turns into the record's priority.  Detached, messages go to syslog.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "httpq-internal.h"

static bool use_stderr = true;

void
hq_log_init(bool foreground)
{
	use_stderr = foreground;
	if (!foreground)
		openlog("httpqd", LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void
hq_vlog(int prio, const char *fmt, va_list ap)
{
	char line[2048];
	int n;

	if (!use_stderr) {
		vsyslog(prio, fmt, ap);
		return;
	}
	/* One write per line, so lines from several threads never interleave. */
	n = snprintf(line, sizeof(line), "<%d>httpqd: ", prio);
	n += vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	if (n > (int)sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	fwrite(line, 1, n, stderr);
	fflush(stderr);
}

void
hq_log(int prio, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	hq_vlog(prio, fmt, ap);
	va_end(ap);
}

void
hq_fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	hq_vlog(LOG_CRIT, fmt, ap);
	va_end(ap);
	abort();
}
