/*
 * log.c -- daemon messages.
 *
 * In the foreground (and under systemd, which reads stderr) every line is
 * "<N>httpqd: message" with the syslog priority N in front, which journald
 * turns into the record's priority.  Detached, messages go to syslog.
 * The same message repeated within HQ_LOG_REPEAT_WINDOW_MS is printed once,
 * then "last message repeated N times" (syslogd's way): an error storm
 * costs a line per window, not a line per event.
 */
#include "config.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "httpq-internal.h"

static bool use_stderr = true;
static hq_log_sink sink;
static pthread_mutex_t rl_mu = PTHREAD_MUTEX_INITIALIZER;
static struct hq_ratelimit rl;

static uint64_t
hash_text(const char *s)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

bool
hq_ratelimit(struct hq_ratelimit *r, const char *text, uint64_t now_ms,
    unsigned *flushed)
{
	uint64_t h = text ? hash_text(text) : 0;
	bool window_over = now_ms - r->first_ms >= HQ_LOG_REPEAT_WINDOW_MS;

	*flushed = 0;
	if (text == NULL) {
		if (r->repeats > 0 && window_over) {
			*flushed = r->repeats;
			r->repeats = 0;
			r->first_ms = now_ms;
		}
		return false;
	}
	if (r->any && h == r->hash && !window_over) {
		r->repeats++;
		return false;
	}
	*flushed = r->repeats;
	r->any = true;
	r->hash = h;
	r->first_ms = now_ms;
	r->repeats = 0;
	return true;
}

void
hq_log_set_sink(hq_log_sink s)
{
	sink = s;
}

static void
emit_about(int prio, const char *msg, const char *queue, const char *group)
{
	char line[2100];
	int n;

	if (sink != NULL && sink(prio, msg, queue, group) == 0)
		return;
	if (!use_stderr) {
		syslog(prio, "%s", msg);
		return;
	}
	/* One write per line, so lines from several threads never interleave. */
	n = snprintf(line, sizeof(line), "<%d>httpqd: %s\n", prio, msg);
	if (n > (int)sizeof(line) - 1) {
		n = sizeof(line) - 1;
		line[n - 1] = '\n';
	}
	fwrite(line, 1, (size_t)n, stderr);
	fflush(stderr);
}

static void
emit(int prio, const char *msg)
{
	emit_about(prio, msg, NULL, NULL);
}

static void
emit_repeats(int prio, unsigned n)
{
	char msg[64];

	snprintf(msg, sizeof(msg), "last message repeated %u time%s", n, n == 1 ? "" : "s");
	emit(prio, msg);
}

void
hq_log_tick(void)
{
	unsigned n;
	int prio;

	pthread_mutex_lock(&rl_mu);
	prio = rl.prio;
	hq_ratelimit(&rl, NULL, hq_now_ms(), &n);
	if (n > 0)
		emit_repeats(prio, n);
	pthread_mutex_unlock(&rl_mu);
}

void
hq_log_init(bool foreground)
{
	use_stderr = foreground;
	if (!foreground)
		openlog("httpqd", LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

static void
vlog_about(int prio, const char *queue, const char *group, const char *fmt, va_list ap)
{
	char msg[2048];
	unsigned repeats;
	int oldprio;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	pthread_mutex_lock(&rl_mu);
	oldprio = rl.prio;
	if (hq_ratelimit(&rl, msg, hq_now_ms(), &repeats)) {
		if (repeats > 0)
			emit_repeats(oldprio, repeats);
		rl.prio = prio;
		emit_about(prio, msg, queue, group);
	}
	pthread_mutex_unlock(&rl_mu);
}

void
hq_log_about(int prio, const char *queue, const char *group, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog_about(prio, queue, group, fmt, ap);
	va_end(ap);
}

void
hq_vlog(int prio, const char *fmt, va_list ap)
{
	vlog_about(prio, NULL, NULL, fmt, ap);
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
