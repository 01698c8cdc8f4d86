/*
 * logfile.c -- access and error log files, written through per-worker
 * buffers.
 *
 * A log file is opened on the main thread (when a snapshot is built, and
 * again on SIGUSR1) and shared by every worker.  Each worker formats its
 * lines straight into its own buffer for that file: no lock per line.  A
 * buffer is written with one write() (O_APPEND, so buffers from several
 * workers never mix) when it is full, by the worker's one-second timer,
 * on `flush logbuffer` (hq_wlog_flush) and at exit: whole lines or none (log_write).  A
 * worker never waits for more than a write() of a buffer to a regular
 * file; there is no fsync.
 *
 * Reopening (logrotate) opens the path anew and dup2()s the new file onto
 * the old descriptor number, so workers never see a closed descriptor.
 * A file that no snapshot uses any more is retired: each worker writes
 * what it still buffers for it and lets go; the last one closes it.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "httpqd.h"

#define HQ_LOGBUF_SIZE (64 * 1024)   /* per worker and file */
#define HQ_LOG_FLUSH_MS 1000         /* the most a line waits in a buffer */
#define HQ_LOG_ERR_EVERY_S 10        /* write errors of a file: one message */

struct hq_logfile {
	atomic_int refs;           /* the registry, and workers' buffers */
	atomic_bool retired;       /* no snapshot uses it any more */
	int users;                 /* snapshots using it (main thread) */
	pthread_mutex_t mu;        /* log_write(), and dup2() on reopen */
	time_t err_logged;         /* under mu */
	int fd;
	char *path;
	struct hq_logspec spec;    /* for its header */
	struct hq_logfile *next;   /* registry (main thread) */
};

struct hq_alog {
	struct hq_logspec spec;
	struct hq_logfile *file;   /* NULL when only checking */
};

struct wbuf {
	struct hq_logfile *f;
	char *p;
	size_t len;
};

struct hq_wlog {
	struct hq_worker *w;
	struct event *tick;
	struct hq_logclock clk;
	struct wbuf *bufs;
	size_t nbufs;
};

static struct hq_logfile *registry;   /* main thread only */
static struct hq_logspec errlog_spec; /* HTTPERR fields, fixed */
static atomic_uint_fast64_t dropped_lines; /* not written: disk full, ... */

/* --- files (main thread) ---------------------------------------------------- */

/*
 * Writes whole lines or none.  A short write (disk full, RLIMIT_FSIZE)
 * leaves half a line, which the next write would glue onto: the file is
 * cut back to the end of the last whole line, and the lines not written are
 * counted as dropped.  f->mu orders the writers of a file (the workers'
 * buffers, headers, a reopen), so that the cut is only our own bytes; it is
 * taken once per buffer, not per line.
 */
static void
log_write(struct hq_logfile *f, const char *p, size_t n)
{
	size_t done = 0, whole;
	uint64_t lost = 0;
	struct stat st;
	int e = 0;

	pthread_mutex_lock(&f->mu);
	if (hq_write_all(f->fd, p, n, &done) == 0) {
		pthread_mutex_unlock(&f->mu);
		return;
	}
	e = errno;
	for (whole = done; whole > 0 && p[whole - 1] != '\n'; whole--)
		;
	if (whole < done && (fstat(f->fd, &st) < 0 ||
	    st.st_size < (off_t)(done - whole) ||
	    ftruncate(f->fd, st.st_size - (off_t)(done - whole)) < 0))
		hq_log(LOG_ERR, "log %s: cannot cut a partial line: %m", f->path);
	for (size_t i = whole; i < n; i++)
		lost += p[i] == '\n';
	if (p[n - 1] != '\n')
		lost++;
	atomic_fetch_add_explicit(&dropped_lines, lost, memory_order_relaxed);
	if (time(NULL) - f->err_logged >= HQ_LOG_ERR_EVERY_S) {
		f->err_logged = time(NULL);
		hq_log(LOG_ERR, "log %s: write failed: %s; %llu line%s dropped "
		    "(%llu since the start)", f->path, strerror(e),
		    (unsigned long long)lost, lost == 1 ? "" : "s",
		    (unsigned long long)atomic_load(&dropped_lines));
	}
	pthread_mutex_unlock(&f->mu);
}

uint64_t
hq_logs_dropped(void)
{
	return atomic_load_explicit(&dropped_lines, memory_order_relaxed);
}

static int
open_log(const char *path)
{
	return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0640);
}

static void
write_header(struct hq_logfile *f)
{
	char head[1024];
	size_t n = hq_logheader(&f->spec, time(NULL), head, sizeof(head));

	if (n > 0)
		log_write(f, head, n);
}

static bool
same_spec(const struct hq_logspec *a, const struct hq_logspec *b)
{
	if (a->format != b->format)
		return false;
	if (a->fields_line == NULL || b->fields_line == NULL)
		return a->fields_line == b->fields_line;
	return strcmp(a->fields_line, b->fields_line) == 0;
}

static void
logfile_unref(struct hq_logfile *f)
{
	if (atomic_fetch_sub_explicit(&f->refs, 1, memory_order_acq_rel) != 1)
		return;
	close(f->fd);
	pthread_mutex_destroy(&f->mu);
	free(f->path);
	hq_logspec_free(&f->spec);
	free(f);
}

/* The open file for path written with spec; shared with earlier snapshots.
 * A path used with another spec by a running snapshot is written by both
 * (W3C readers take a new #Fields line where it appears). */
static struct hq_logfile *
logfile_get(const char *path, const struct hq_logspec *spec, const struct hq_origin *at,
    const char *key, struct hq_errors *errs)
{
	struct hq_logfile *f;
	int fd;

	for (f = registry; f != NULL; f = f->next)
		if (strcmp(f->path, path) == 0 && same_spec(&f->spec, spec)) {
			f->users++;
			return f;
		}
	fd = open_log(path);
	if (fd < 0) {
		hq_errors_add(errs, at, key, "cannot open \"%s\": %s", path, strerror(errno));
		return NULL;
	}
	f = xcalloc(1, sizeof(*f));
	atomic_init(&f->refs, 1);
	atomic_init(&f->retired, false);
	pthread_mutex_init(&f->mu, NULL);
	f->users = 1;
	f->fd = fd;
	f->path = xstrdup(path);
	f->spec.format = spec->format;
	if (spec->fields_line != NULL)
		f->spec.fields_line = xstrdup(spec->fields_line);
	f->next = registry;
	registry = f;
	write_header(f);
	return f;
}

static void
logfile_release(struct hq_logfile *f)
{
	struct hq_logfile **pp;

	if (f == NULL || --f->users > 0)
		return;
	for (pp = &registry; *pp != NULL; pp = &(*pp)->next)
		if (*pp == f) {
			*pp = f->next;
			break;
		}
	atomic_store(&f->retired, true);
	logfile_unref(f);
}

void
hq_logs_reopen(void)
{
	unsigned n = 0;

	for (struct hq_logfile *f = registry; f != NULL; f = f->next) {
		int fd = open_log(f->path), rc;

		if (fd < 0) {
			hq_log(LOG_ERR, "reopen %s: %m; still writing to the old file", f->path);
			continue;
		}
		pthread_mutex_lock(&f->mu);
		rc = dup2(fd, f->fd);
		pthread_mutex_unlock(&f->mu);
		if (rc < 0)
			hq_log(LOG_ERR, "reopen %s: dup2: %m", f->path);
		else
			write_header(f);
		close(fd);
		n++;
	}
	hq_log(LOG_NOTICE, "reopened %u log file%s", n, n == 1 ? "" : "s");
}

/* --- snapshots -------------------------------------------------------------- */

static const struct hq_logspec *
httperr_spec(void)
{
	if (errlog_spec.fields_line == NULL)
		hq_logspec_parse(&errlog_spec, HQ_LOG_W3C, HQ_LOG_HTTPERR_FIELDS);
	return &errlog_spec;
}

int
hq_config_open_logs(struct hq_config *cfg, bool check_only, struct hq_errors *errs)
{
	int rc = 0;

	httperr_spec(); /* built here, on the main thread, before any worker uses it */
	for (size_t i = 0; i < cfg->ngroups; i++) {
		const struct hq_store_alog *sa = &cfg->groups[i].sg->access_log;
		struct hq_alog *a;
		char key[64];

		if (sa->path == NULL)
			continue;
		a = xcalloc(1, sizeof(*a));
		hq_logspec_init(&a->spec, sa->format, sa->nfields ? sa->fields : NULL,
		    sa->nfields);
		cfg->groups[i].alog = a;
		if (check_only)
			continue;
		snprintf(key, sizeof(key), "url_groups[%zu].access_log.path", i);
		a->file = logfile_get(sa->path, &a->spec, &sa->at, key, errs);
		if (a->file == NULL)
			rc = -1;
	}
	for (size_t i = 0; i < cfg->ngroups; i++) {
		const struct hq_alog *a = cfg->groups[i].alog;

		for (size_t j = 0; a && a->file && j < i; j++) {
			const struct hq_alog *b = cfg->groups[j].alog;

			if (b && b->file && b->file != a->file &&
			    strcmp(b->file->path, a->file->path) == 0) {
				hq_errors_add(errs, &cfg->groups[i].sg->access_log.at,
				    "access_log.path", "url groups \"%s\" and \"%s\" "
				    "log to \"%s\" with different formats or fields",
				    cfg->groups[j].sg->name, cfg->groups[i].sg->name,
				    a->file->path);
				rc = -1;
			}
		}
	}
	if (cfg->store->error_log != NULL && !check_only) {
		cfg->errlog = logfile_get(cfg->store->error_log, httperr_spec(), NULL,
		    "server.error_log", errs);
		if (cfg->errlog == NULL)
			rc = -1;
	}
	return rc;
}

void
hq_config_close_logs(struct hq_config *cfg)
{
	for (size_t i = 0; i < cfg->ngroups; i++) {
		struct hq_alog *a = cfg->groups[i].alog;

		if (a == NULL)
			continue;
		logfile_release(a->file);
		hq_logspec_free(&a->spec);
		free(a);
		cfg->groups[i].alog = NULL;
	}
	logfile_release(cfg->errlog);
	cfg->errlog = NULL;
}

void
hq_logs_free(void)
{
	hq_logspec_free(&errlog_spec);
}

/* --- worker buffers ----------------------------------------------------------- */

static void
wbuf_flush(struct wbuf *b)
{
	if (b->len == 0)
		return;
	log_write(b->f, b->p, b->len);
	b->len = 0;
}

/* Writes every buffer; lets go of retired files. */
static void
wlog_flush(struct hq_wlog *wl)
{
	size_t i = 0;

	while (i < wl->nbufs) {
		struct wbuf *b = &wl->bufs[i];

		wbuf_flush(b);
		if (!atomic_load(&b->f->retired)) {
			i++;
			continue;
		}
		logfile_unref(b->f);
		free(b->p);
		*b = wl->bufs[--wl->nbufs];
	}
}

static void
on_tick(evutil_socket_t fd, short what, void *arg)
{
	wlog_flush(arg);
}

static struct hq_wlog *
wlog_get(struct hq_worker *w)
{
	struct timeval tv = { HQ_LOG_FLUSH_MS / 1000, (HQ_LOG_FLUSH_MS % 1000) * 1000 };

	if (w->wlog != NULL)
		return w->wlog;
	w->wlog = xcalloc(1, sizeof(*w->wlog));
	w->wlog->w = w;
	w->wlog->tick = event_new(w->base, -1, EV_PERSIST, on_tick, w->wlog);
	event_add(w->wlog->tick, &tv);
	return w->wlog;
}

/* Room for one more line of f in this worker's buffer. */
static char *
wlog_reserve(struct hq_wlog *wl, struct hq_logfile *f, struct wbuf **bp)
{
	struct wbuf *b = NULL;

	for (size_t i = 0; i < wl->nbufs; i++)
		if (wl->bufs[i].f == f) {
			b = &wl->bufs[i];
			break;
		}
	if (b == NULL) {
		wl->bufs = xrealloc(wl->bufs, (wl->nbufs + 1) * sizeof(*wl->bufs));
		b = &wl->bufs[wl->nbufs++];
		atomic_fetch_add_explicit(&f->refs, 1, memory_order_relaxed);
		b->f = f;
		b->p = xmalloc(HQ_LOGBUF_SIZE);
		b->len = 0;
	}
	if (HQ_LOGBUF_SIZE - b->len < HQ_LOG_LINE_MAX)
		wbuf_flush(b);
	*bp = b;
	return b->p + b->len;
}

/* `flush logbuffer`, posted to every worker: w writes what it buffers. */
void
hq_wlog_flush(void *worker)
{
	struct hq_worker *w = worker;

	if (w->wlog != NULL)
		wlog_flush(w->wlog);
}

/* At exit, after the worker's thread is gone. */
void
hq_wlog_free(struct hq_worker *w)
{
	struct hq_wlog *wl = w->wlog;

	if (wl == NULL)
		return;
	for (size_t i = 0; i < wl->nbufs; i++) {
		wbuf_flush(&wl->bufs[i]);
		logfile_unref(wl->bufs[i].f);
		free(wl->bufs[i].p);
	}
	free(wl->bufs);
	event_free(wl->tick);
	free(wl);
	w->wlog = NULL;
}

/* --- lines ---------------------------------------------------------------------- */

/* The worker's clock for the line's date and time. */
static struct hq_wlog *
rec_clock(struct hq_worker *w, struct hq_logrec *rec)
{
	struct hq_wlog *wl = wlog_get(w);
	struct timeval tv;

	event_base_gettimeofday_cached(w->base, &tv);
	hq_logclock_set(&wl->clk, tv.tv_sec);
	rec->clk = &wl->clk;
	return wl;
}

/* At the end of a request of a URL group with an access log. */
void
hq_log_access(struct hq_worker *w, const struct hq_alog *a, struct hq_logrec *rec)
{
	struct hq_wlog *wl;
	struct wbuf *b;
	char *line;

	if (a->file == NULL)
		return;
	wl = rec_clock(w, rec);
	line = wlog_reserve(wl, a->file, &b);
	b->len += hq_logline(&a->spec, rec, line);
}

/*
 * One line per daemon-made response or dropped connection, with the fields
 * of http.sys's HTTPERR log: date time c-ip c-port s-ip s-port cs-version
 * cs-method cs-uri sc-status s-reason s-queuename.  Without
 * server.error_log, the same line goes to the daemon log.
 */
void
hq_log_httperr(struct hq_worker *w, struct hq_logfile *f, struct hq_logrec *rec)
{
	struct hq_wlog *wl = rec_clock(w, rec);
	struct wbuf *b;

	if (f != NULL) {
		char *line = wlog_reserve(wl, f, &b);

		b->len += hq_logline(httperr_spec(), rec, line);
	} else {
		char line[HQ_LOG_LINE_MAX];
		size_t n = hq_logline(httperr_spec(), rec, line);

		line[n - 1] = '\0';
		hq_log(LOG_INFO, "httperr: %s", line);
	}
}
