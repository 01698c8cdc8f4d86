/*
 * store.c -- the setup store: key table, validation, and the merge of
 * httpq.yaml with the drop-ins of its conf.d folder.
 *
 * Every key is declared once, in the tables below.  The loader dispatches
 * through them, defaults are applied from them, `httpqd --list-keys` prints
 * them, and error messages describe what a key expects from them, so the
 * four can never disagree.  The man page section mirrors the list-keys
 * output.
 *
 * Loading never stops at the first error: people fix a config in one pass
 * when they see every problem at once.  The result is all or nothing.
 */
#include "config.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "httpq-internal.h"
#include "store_yaml.h"

/* ---------------------------------------------------------------------
 * Collected errors
 * ------------------------------------------------------------------- */

static void
errors_vadd(struct hq_errors *e, const struct hq_origin *at, const char *path,
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
	errors_vadd(e, at, path, fmt, ap);
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

/* ---------------------------------------------------------------------
 * The key table
 * ------------------------------------------------------------------- */

enum ktype {
	K_MAP,       /* a section: its keys are in sub */
	K_LIST,      /* of mappings (sub + add) or of scalars (item) */
	K_UINT,      /* uint32_t, decimal */
	K_OFF_UINT,  /* uint32_t, decimal or "off" (HQ_TIMEOUT_OFF) */
	K_SIZE,      /* uint32_t, bytes with optional k/m/g */
	K_SIZE64,    /* uint64_t, the same */
	K_BOOL,      /* bool */
	K_STRING,    /* char *, not empty */
	K_NAME,      /* char *, [A-Za-z0-9_.-]+ */
	K_VERBOSITY, /* enum hq_verbosity */
	K_OPTIONS,   /* free-form mapping of scalars, flattened into hq_kv */
	K_PREFIX,    /* struct hq_prefix, parsed by hq_prefix_parse */
	K_ENUM,      /* int, one of names[] */
};

#define K_REQUIRED 0x1 /* must appear in its mapping */
#define K_NULLABLE 0x2 /* "~" unsets it (sets NULL) */
#define K_INHERIT  0x4 /* K_MAP whose values stay 0 = inherit */
#define K_AT       0x8 /* at_off names a struct hq_origin to fill */

struct ld;

struct key {
	const char *name;
	enum ktype type;
	unsigned flags;
	size_t off;              /* the field, from the base of its struct */
	size_t at_off;           /* with K_AT: where to record the origin */
	uint64_t min, max;       /* numbers: range; K_LIST: minimum items */
	uint64_t dnum;           /* default of numbers, bools, verbosity */
	const char *dstr;        /* default of strings (NULL: none) */
	const char *show;        /* the default as shown, when not computed */
	const char *what;        /* type as shown, for lists */
	const char *meaning;
	const struct key *sub;   /* K_MAP, K_LIST of mappings */
	const char *const *names; /* K_ENUM: the values, NULL-terminated */
	/* K_LIST of mappings: appends an element with defaults, returns it. */
	void *(*add)(struct ld *, const struct hq_ynode *, const char *path);
	/* K_LIST of scalars: handles one item. */
	void (*item)(struct ld *, void *base, const struct hq_ynode *,
	    const char *path);
};

static void *group_add(struct ld *, const struct hq_ynode *, const char *);
static void *queue_add(struct ld *, const struct hq_ynode *, const char *);
static void *urlacl_add(struct ld *, const struct hq_ynode *, const char *);
static void *sslcert_add(struct ld *, const struct hq_ynode *, const char *);
static void listen_item(struct ld *, void *, const struct hq_ynode *,
    const char *);
static void prefix_item(struct ld *, void *, const struct hq_ynode *,
    const char *);
static void logfield_item(struct ld *, void *, const struct hq_ynode *,
    const char *);

static const char *const logformat_names[] = {
	[HQ_LOG_W3C] = "w3c", [HQ_LOG_NCSA] = "ncsa", NULL
};

#define TO(f) offsetof(struct hq_timeouts, f)
static const struct key timeout_keys[] = {
	{ .name = "header_wait", .type = K_OFF_UINT, .off = TO(header_wait),
	  .min = 1, .max = 65535, .dnum = HQ_DEFAULT_TIMEOUT_S,
	  .meaning = "seconds to receive the request line and headers" },
	{ .name = "idle_connection", .type = K_OFF_UINT,
	  .off = TO(idle_connection), .min = 1, .max = 65535,
	  .dnum = HQ_DEFAULT_TIMEOUT_S,
	  .meaning = "seconds a keep-alive connection may stay idle" },
	{ .name = "entity_body", .type = K_OFF_UINT, .off = TO(entity_body),
	  .min = 1, .max = 65535, .dnum = HQ_DEFAULT_TIMEOUT_S,
	  .meaning = "seconds for the request entity body to arrive" },
	{ .name = "drain_entity_body", .type = K_OFF_UINT,
	  .off = TO(drain_entity_body), .min = 1, .max = 65535,
	  .dnum = HQ_DEFAULT_TIMEOUT_S,
	  .meaning = "seconds to drain a body the module did not read, "
	      "to keep the connection" },
	{ .name = "request_queue", .type = K_OFF_UINT,
	  .off = TO(request_queue), .min = 1, .max = 65535,
	  .dnum = HQ_DEFAULT_TIMEOUT_S,
	  .meaning = "seconds a request may wait in its queue for a consumer" },
	{ .name = "min_send_rate", .type = K_OFF_UINT,
	  .off = TO(min_send_rate), .min = 1, .max = 4294967294u,
	  .dnum = HQ_DEFAULT_MIN_SEND_RATE_BPS,
	  .meaning = "bytes per second a response must at least be sent at" },
	{ .name = NULL }
};
#undef TO

#define LI(f) (offsetof(struct hq_store, limits) + offsetof(struct hq_limits, f))
static const struct key limit_keys[] = {
	{ .name = "max_request_bytes", .type = K_SIZE,
	  .off = LI(max_request_bytes), .min = 256, .max = 16777216,
	  .dnum = HQ_DEFAULT_MAX_REQUEST_BYTES,
	  .meaning = "request line and headers; 431 beyond" },
	{ .name = "max_field_length", .type = K_SIZE,
	  .off = LI(max_field_length), .min = 64, .max = 65534,
	  .dnum = HQ_DEFAULT_MAX_FIELD_LENGTH,
	  .meaning = "one header field line; 431 beyond" },
	{ .name = "max_url_length", .type = K_SIZE, .off = LI(max_url_length),
	  .min = 64, .max = 16777216, .dnum = HQ_DEFAULT_MAX_URL_LENGTH,
	  .meaning = "request-target; 414 beyond" },
	{ .name = "max_headers", .type = K_UINT, .off = LI(max_headers),
	  .min = 1, .max = HQ_MAX_HEADERS_CAP, .dnum = HQ_DEFAULT_MAX_HEADERS,
	  .meaning = "header fields per request; 431 beyond" },
	{ .name = "url_segment_max_length", .type = K_UINT,
	  .off = LI(segment_max_length), .min = 0, .max = 32766,
	  .dnum = HQ_DEFAULT_SEGMENT_MAX_LENGTH,
	  .meaning = "characters per URL path segment, 0 = unlimited; "
	      "400 beyond" },
	{ .name = "url_segment_max_count", .type = K_UINT,
	  .off = LI(segment_max_count), .min = 0, .max = 16383,
	  .dnum = HQ_DEFAULT_SEGMENT_MAX_COUNT,
	  .meaning = "URL path segments, 0 = unlimited; 400 beyond" },
	{ .name = NULL }
};
#undef LI

#define SV(f) offsetof(struct hq_store, f)
static const struct key server_keys[] = {
	{ .name = "workers", .type = K_UINT, .off = SV(workers), .min = 0,
	  .max = 256, .dnum = 0,
	  .meaning = "worker threads, 0 = one per CPU core" },
	{ .name = "module_path", .type = K_STRING, .off = SV(module_path),
	  .dstr = HQ_DEFAULT_MODULE_PATH,
	  .meaning = "folder where modules named without a '/' are found" },
	{ .name = "server_header", .type = K_BOOL, .off = SV(server_header),
	  .dnum = true,
	  .meaning = "send a Server: httpq/VERSION header" },
	{ .name = "drain_timeout", .type = K_UINT, .off = SV(drain_timeout),
	  .min = 1, .max = 3600, .dnum = HQ_DEFAULT_DRAIN_TIMEOUT_S,
	  .meaning = "seconds a graceful stop waits for requests in flight" },
	{ .name = "error_log", .type = K_STRING, .flags = K_NULLABLE,
	  .off = SV(error_log), .show = "-",
	  .meaning = "file for the error log (HTTPERR); unset = the daemon log" },
	{ .name = NULL }
};
#undef SV

#define AL(f) offsetof(struct hq_store_alog, f)
static const struct key alog_keys[] = {
	{ .name = "path", .type = K_STRING, .flags = K_REQUIRED | K_AT,
	  .off = AL(path), .at_off = AL(at),
	  .meaning = "file the URL group's requests are logged to" },
	{ .name = "format", .type = K_ENUM, .off = AL(format),
	  .dnum = HQ_LOG_W3C, .names = logformat_names,
	  .meaning = "w3c (W3C extended, http.sys's default) or ncsa "
	      "(NCSA combined)" },
	{ .name = "fields", .type = K_LIST, .min = 1, .item = logfield_item,
	  .what = "list of W3C fields", .show = "see httpq.yaml(5)",
	  .meaning = "W3C fields, http.sys names: date time c-ip cs-method "
	      "cs-uri-stem sc-status time-taken cs(User-Agent) ..." },
	{ .name = NULL }
};
#undef AL

/*
 * A group's or queue's origin (at) is where its name is written, so that
 * "first defined at FILE:LINE" points at the line people look for; it is
 * the start of the entry's mapping until the name is read.
 */
#define GR(f) offsetof(struct hq_store_group, f)
static const struct key group_keys[] = {
	{ .name = "name", .type = K_NAME, .flags = K_REQUIRED | K_AT,
	  .off = GR(name), .at_off = GR(at),
	  .meaning = "unique name of the URL group" },
	{ .name = "prefixes", .type = K_LIST, .flags = K_REQUIRED, .min = 1,
	  .item = prefix_item, .what = "list of URL prefixes",
	  .meaning = "scheme://host:port/path/ URL prefixes the group owns" },
	{ .name = "queue", .type = K_STRING, .flags = K_NULLABLE | K_AT,
	  .off = GR(queue), .at_off = GR(queue_at), .show = "-",
	  .meaning = "the request queue it is bound to; none = 503" },
	{ .name = "max_body_bytes", .type = K_SIZE64, .off = GR(max_body_bytes),
	  .min = 0, .max = UINT64_MAX, .dnum = HQ_DEFAULT_MAX_BODY_BYTES,
	  .meaning = "largest request entity body; 413 beyond" },
	{ .name = "timeouts", .type = K_MAP, .flags = K_INHERIT,
	  .off = GR(timeouts), .sub = timeout_keys,
	  .meaning = "the global timeouts, per URL group" },
	{ .name = "access_log", .type = K_MAP, .off = GR(access_log),
	  .sub = alog_keys,
	  .meaning = "the URL group's access log; absent = none" },
	{ .name = NULL }
};
#undef GR

#define QU(f) offsetof(struct hq_store_queue, f)
static const struct key queue_keys[] = {
	{ .name = "name", .type = K_NAME, .flags = K_REQUIRED | K_AT,
	  .off = QU(name), .at_off = QU(at),
	  .meaning = "unique name of the request queue" },
	{ .name = "module", .type = K_STRING, .flags = K_REQUIRED | K_AT,
	  .off = QU(module), .at_off = QU(module_at),
	  .meaning = "handler module: a name in module_path, or a path" },
	{ .name = "length", .type = K_UINT, .off = QU(length),
	  .min = HQ_QUEUE_LENGTH_MIN, .max = HQ_QUEUE_LENGTH_MAX,
	  .dnum = HQ_DEFAULT_QUEUE_LENGTH,
	  .meaning = "requests admitted and not yet completed; 503 beyond" },
	{ .name = "verbosity", .type = K_VERBOSITY, .off = QU(verbosity),
	  .dnum = HQ_503_LIMITED,
	  .meaning = "how a 503 is sent: basic = reset, limited = plain 503, "
	      "full = 503 naming the reason" },
	{ .name = "options", .type = K_OPTIONS, .show = "-",
	  .meaning = "given to the module; nested keys are joined with '.'" },
	{ .name = NULL }
};
#undef QU

#define CT(f) (offsetof(struct hq_store, control) + offsetof(struct hq_store_control, f))
static const struct key control_keys[] = {
	{ .name = "socket", .type = K_STRING, .off = CT(socket),
	  .dstr = HQ_DEFAULT_CONTROL_SOCKET,
	  .meaning = "Unix socket of httpqctl; httpqd -s overrides it" },
	{ .name = "admin_group", .type = K_NAME, .off = CT(admin_group),
	  .dstr = HQ_DEFAULT_ADMIN_GROUP,
	  .meaning = "members (and root) may change things over the socket" },
	{ .name = "read_group", .type = K_NAME, .off = CT(read_group),
	  .dstr = HQ_DEFAULT_READ_GROUP,
	  .meaning = "members may only show; owns the socket (mode 0660)" },
	{ .name = NULL }
};
#undef CT

#define UA(f) offsetof(struct hq_store_urlacl, f)
static const struct key urlacl_keys[] = {
	{ .name = "url", .type = K_PREFIX, .flags = K_REQUIRED | K_AT,
	  .off = UA(prefix), .at_off = UA(at),
	  .meaning = "the reserved URL prefix" },
	{ .name = "user", .type = K_STRING, .off = UA(user), .show = "-",
	  .meaning = "user (name or uid) the reservation is for" },
	{ .name = "group", .type = K_STRING, .off = UA(group), .show = "-",
	  .meaning = "group (name or gid) the reservation is for; "
	      "user, group or both" },
	{ .name = "listen", .type = K_BOOL, .off = UA(listen), .dnum = true,
	  .meaning = "may register URLs at or below the prefix" },
	{ .name = "delegate", .type = K_BOOL, .off = UA(delegate),
	  .dnum = false,
	  .meaning = "may reserve URLs below the prefix for others" },
	{ .name = NULL }
};
#undef UA

static const char *const clientcert_names[] = { "none", "request", "require", NULL };
static const char *const min_protocol_names[] = { "tls1.2", "tls1.3", NULL };

#define SC(f) offsetof(struct hq_store_sslcert, f)
static const struct key sslcert_keys[] = {
	{ .name = "ipport", .type = K_STRING, .flags = K_AT, .off = SC(ipport),
	  .at_off = SC(at), .show = "-",
	  .meaning = "IP:PORT the certificate is for; 0.0.0.0:PORT or "
	      "[::]:PORT = every address" },
	{ .name = "hostnameport", .type = K_STRING, .flags = K_AT,
	  .off = SC(hostnameport), .at_off = SC(at), .show = "-",
	  .meaning = "NAME:PORT the certificate is for (SNI); "
	      "ipport or hostnameport" },
	{ .name = "certfile", .type = K_STRING, .flags = K_REQUIRED | K_AT,
	  .off = SC(certfile), .at_off = SC(certfile_at),
	  .meaning = "PEM certificate" },
	{ .name = "keyfile", .type = K_STRING, .flags = K_REQUIRED | K_AT,
	  .off = SC(keyfile), .at_off = SC(keyfile_at),
	  .meaning = "PEM private key matching the certificate" },
	{ .name = "chainfile", .type = K_STRING, .flags = K_AT,
	  .off = SC(chainfile), .at_off = SC(chainfile_at), .show = "-",
	  .meaning = "PEM intermediate certificates sent after it" },
	{ .name = "clientcert", .type = K_ENUM, .off = SC(clientcert),
	  .names = clientcert_names, .dnum = HQ_CLIENTCERT_NONE,
	  .meaning = "ask clients for a certificate: none, request "
	      "(optional) or require" },
	{ .name = "cafile", .type = K_STRING, .flags = K_AT, .off = SC(cafile),
	  .at_off = SC(cafile_at), .show = "-",
	  .meaning = "PEM CA certificates client certificates are checked "
	      "against; required unless clientcert is none" },
	{ .name = "ocsp_staple", .type = K_STRING, .flags = K_AT,
	  .off = SC(ocsp_staple), .at_off = SC(ocsp_staple_at), .show = "-",
	  .meaning = "DER OCSP response stapled to handshakes, reread when "
	      "it changes (kept fresh by a timer)" },
	{ .name = "min_protocol", .type = K_ENUM, .off = SC(min_protocol),
	  .names = min_protocol_names, .dnum = HQ_TLS_MIN_12,
	  .meaning = "oldest TLS version accepted: tls1.2 or tls1.3" },
	{ .name = NULL }
};
#undef SC

static const struct key top_keys[] = {
	{ .name = "server", .type = K_MAP, .sub = server_keys,
	  .meaning = "daemon settings" },
	{ .name = "iplisten", .type = K_LIST, .item = listen_item,
	  .what = "list of IP or IP:PORT", .show = "0.0.0.0 and [::]",
	  .meaning = "addresses to listen on; an IP without a port "
	      "listens on every port a URL prefix registers" },
	{ .name = "limits", .type = K_MAP, .sub = limit_keys,
	  .meaning = "request limits" },
	{ .name = "timeouts", .type = K_MAP, .sub = timeout_keys,
	  .off = offsetof(struct hq_store, timeouts),
	  .meaning = "global timeouts" },
	{ .name = "url_groups", .type = K_LIST, .sub = group_keys,
	  .add = group_add, .what = "list of mappings", .show = "-",
	  .meaning = "URL groups: prefixes sharing a queue, limits and "
	      "timeouts" },
	{ .name = "queues", .type = K_LIST, .sub = queue_keys,
	  .add = queue_add, .what = "list of mappings", .show = "-",
	  .meaning = "request queues, each served by a handler module" },
	{ .name = "control", .type = K_MAP, .sub = control_keys,
	  .meaning = "the control socket of httpqctl" },
	{ .name = "urlacls", .type = K_LIST, .sub = urlacl_keys,
	  .add = urlacl_add, .what = "list of mappings", .show = "-",
	  .meaning = "URL reservations: who may register URLs under a "
	      "prefix" },
	{ .name = "sslcerts", .type = K_LIST, .sub = sslcert_keys,
	  .add = sslcert_add, .what = "list of mappings", .show = "-",
	  .meaning = "SSL bindings: certificate and key per IP:PORT or "
	      "NAME:PORT" },
	{ .name = NULL }
};

static const char *const verbosity_names[] = {
	[HQ_503_BASIC] = "basic", [HQ_503_LIMITED] = "limited",
	[HQ_503_FULL] = "full",
};

/* ---------------------------------------------------------------------
 * Small helpers
 * ------------------------------------------------------------------- */

/* The loader's state while files are walked. */
struct ld {
	struct hq_store *s;
	struct hq_errors *errs;
	const char *file;        /* interned name of the file being walked */
	char **gpath, **qpath, **lpath; /* key path of each entry, as in its file */
	char **upath, **spath;   /* of urlacls and sslcerts */
	const char *override;    /* hq_store_load_override: this drop-in... */
	const char *otext;       /* ...is read from here */
	size_t olen;
	struct pref {            /* every parsed prefix, in load order */
		size_t g, j;     /* s->groups[g].prefixes[j] */
		char *path;
	} *prefs;
	size_t nprefs;
};

static void *
field(void *base, size_t off)
{
	return (char *)base + off;
}

static struct hq_origin
origin(const struct ld *ld, const struct hq_ynode *n)
{
	return (struct hq_origin){ ld->file, n->line, n->col };
}

static void err(struct ld *ld, const struct hq_ynode *n, const char *path,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void
err(struct ld *ld, const struct hq_ynode *n, const char *path,
    const char *fmt, ...)
{
	struct hq_origin at = origin(ld, n);
	va_list ap;

	va_start(ap, fmt);
	errors_vadd(ld->errs, &at, path, fmt, ap);
	va_end(ap);
}

static char *
join(const char *path, const char *name)
{
	return path[0] ? xasprintf("%s.%s", path, name) : xstrdup(name);
}

/* User text in a message: quoted, short, no control characters. */
static const char *
quote(const char *s, char *buf, size_t size)
{
	size_t max = size - 6, i;

	buf[0] = '"';
	for (i = 0; s[i] != '\0' && i < max; i++)
		buf[i + 1] = ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) ?
		    '?' : s[i];
	strcpy(buf + i + 1, s[i] != '\0' ? "...\"" : "\"");
	return buf;
}

/* "a mapping", "a list", "nothing" or the quoted scalar. */
static const char *
describe(const struct hq_ynode *n, char *buf, size_t size)
{
	if (hq_ynode_is_null(n))
		return "nothing";
	if (n->type == HQ_Y_MAP)
		return "a mapping";
	if (n->type == HQ_Y_SEQ)
		return "a list";
	return quote(n->str, buf, size);
}

static const char *
fmt_size(uint64_t v, char *buf, size_t size)
{
	static const char units[] = "gmk";

	for (int i = 0; i < 3; i++) {
		uint64_t u = 1ULL << (10 * (3 - i));

		if (v != 0 && v % u == 0) {
			snprintf(buf, size, "%llu%c",
			    (unsigned long long)(v / u), units[i]);
			return buf;
		}
	}
	snprintf(buf, size, "%llu", (unsigned long long)v);
	return buf;
}

/* "a, b or c" (or "a|b|c") from a K_ENUM's names. */
static const char *
enum_list(const struct key *k, char *buf, size_t size, const char *sep,
    const char *last)
{
	size_t len = 0;

	buf[0] = '\0';
	for (size_t i = 0; k->names[i] && len < size; i++)
		len += (size_t)snprintf(buf + len, size - len, "%s%s",
		    i == 0 ? "" : k->names[i + 1] ? sep : last, k->names[i]);
	return buf;
}

/* What a key expects, for "expected X, got Y". */
static const char *
expected(const struct key *k, char *buf, size_t size)
{
	char a[32], b[32];

	switch (k->type) {
	case K_UINT:
		snprintf(buf, size, "an integer %llu-%llu",
		    (unsigned long long)k->min, (unsigned long long)k->max);
		return buf;
	case K_OFF_UINT:
		snprintf(buf, size, "an integer %llu-%llu or off",
		    (unsigned long long)k->min, (unsigned long long)k->max);
		return buf;
	case K_SIZE:
	case K_SIZE64:
		if (k->max == UINT64_MAX)
			return "a size in bytes (or with suffix k, m or g)";
		snprintf(buf, size, "a size %s-%s (bytes, or with suffix "
		    "k, m or g)", fmt_size(k->min, a, sizeof(a)),
		    fmt_size(k->max, b, sizeof(b)));
		return buf;
	case K_BOOL:
		return "true or false";
	case K_STRING:
		return "a non-empty string";
	case K_NAME:
		return "a name of letters, digits, '_', '.' and '-'";
	case K_VERBOSITY:
		return "basic, limited or full";
	case K_LIST:
		return "a list";
	case K_MAP:
	case K_OPTIONS:
		return "a mapping";
	case K_PREFIX:
		return "a URL prefix";
	case K_ENUM:
		return enum_list(k, buf, size, ", ", " or ");
	}
	return "?";
}

static void
type_error(struct ld *ld, const struct key *k, const struct hq_ynode *n,
    const char *path)
{
	char e[96], g[80];

	err(ld, n, path, "expected %s, got %s", expected(k, e, sizeof(e)),
	    describe(n, g, sizeof(g)));
}

/* Decimal only, no sign: "010" is ten, not YAML 1.1's eight. */
static int
parse_uint(const char *s, uint64_t *v)
{
	uint64_t x = 0;

	if (*s == '\0')
		return -1;
	for (; *s >= '0' && *s <= '9'; s++) {
		if (x > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
			return -1;
		x = x * 10 + (uint64_t)(*s - '0');
	}
	if (*s != '\0')
		return -1;
	*v = x;
	return 0;
}

/* Bytes, or an integer with k, m or g (1024-based). */
static int
parse_size(const char *s, uint64_t *v)
{
	size_t n = strlen(s);
	unsigned shift = 0;
	char *digits;
	int rc;

	if (n > 1) {
		switch (s[n - 1]) {
		case 'k': case 'K': shift = 10; break;
		case 'm': case 'M': shift = 20; break;
		case 'g': case 'G': shift = 30; break;
		}
	}
	digits = xstrndup(s, shift ? n - 1 : n);
	rc = parse_uint(digits, v);
	free(digits);
	if (rc < 0 || (shift && *v > (UINT64_MAX >> shift)))
		return -1;
	*v <<= shift;
	return 0;
}

static int
parse_bool(const char *s, bool *v)
{
	static const char *const yes[] = { "true", "yes", "on" };
	static const char *const no[] = { "false", "no", "off" };

	for (size_t i = 0; i < 3; i++) {
		if (strcasecmp(s, yes[i]) == 0)
			return *v = true, 0;
		if (strcasecmp(s, no[i]) == 0)
			return *v = false, 0;
	}
	return -1;
}

static bool
valid_name(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || *s == '_' || *s == '.' ||
		    *s == '-'))
			return false;
	return true;
}

/* Edit distance, for "did you mean"; only called on short strings. */
static size_t
distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), d[65];

	if (la > 64 || lb > 64)
		return SIZE_MAX;
	for (size_t j = 0; j <= lb; j++)
		d[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = d[0];

		d[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = d[j], best = diag + (a[i - 1] != b[j - 1]);

			if (up + 1 < best)
				best = up + 1;
			if (d[j - 1] + 1 < best)
				best = d[j - 1] + 1;
			diag = up;
			d[j] = best;
		}
	}
	return d[lb];
}

/* The closest of names[0..n) to s, if it is close enough to be a typo. */
static const char *
closest(const char *s, const char *const *names, size_t n)
{
	const char *best = NULL;
	size_t bestd = 3;

	for (size_t i = 0; i < n; i++) {
		size_t d = distance(s, names[i]);

		if (d < bestd && d < strlen(names[i])) {
			bestd = d;
			best = names[i];
		}
	}
	return best;
}

/*
 * Makes room for element n of an array that grows one element at a time:
 * the capacity doubles when n reaches a power of two, so that n appends
 * copy O(n) bytes in all (one realloc each copied the whole list).  Only
 * for arrays that nothing else reallocates.
 */
static void *
grow(void *p, size_t n, size_t size)
{
	if (n == 0 || (n & (n - 1)) == 0)
		p = xrealloc(p, (n ? 2 * n : 1) * size);
	return p;
}

static const char *
intern(struct hq_store *s, const char *name)
{
	for (size_t i = 0; i < s->nfiles; i++)
		if (strcmp(s->files[i], name) == 0)
			return s->files[i];
	s->files = xrealloc(s->files, (s->nfiles + 1) * sizeof(*s->files));
	return s->files[s->nfiles++] = xstrdup(name);
}

static void
apply_defaults(const struct key *t, void *base)
{
	for (const struct key *k = t; k->name; k++) {
		void *f = field(base, k->off);

		switch (k->type) {
		case K_MAP:
			if (!(k->flags & K_INHERIT))
				apply_defaults(k->sub, f);
			break;
		case K_UINT:
		case K_OFF_UINT:
		case K_SIZE:
			*(uint32_t *)f = (uint32_t)k->dnum;
			break;
		case K_SIZE64:
			*(uint64_t *)f = k->dnum;
			break;
		case K_BOOL:
			*(bool *)f = k->dnum != 0;
			break;
		case K_VERBOSITY:
			*(enum hq_verbosity *)f = (enum hq_verbosity)k->dnum;
			break;
		case K_ENUM:
			*(int *)f = (int)k->dnum;
			break;
		case K_STRING:
		case K_NAME:
			if (k->dstr != NULL)
				*(char **)f = xstrdup(k->dstr);
			break;
		case K_LIST:
		case K_OPTIONS:
		case K_PREFIX:
			break;
		}
	}
}

/* ---------------------------------------------------------------------
 * Walking a file's tree through the table
 * ------------------------------------------------------------------- */

static void walk_map(struct ld *ld, const struct key *t, void *base,
    const struct hq_ynode *map, const char *path);

static void
set_number(struct ld *ld, const struct key *k, void *f,
    const struct hq_ynode *n, const char *path)
{
	uint64_t v;
	int rc;

	if (k->type == K_OFF_UINT && strcasecmp(n->str, "off") == 0) {
		*(uint32_t *)f = HQ_TIMEOUT_OFF;
		return;
	}
	if (k->type == K_SIZE || k->type == K_SIZE64)
		rc = parse_size(n->str, &v);
	else
		rc = parse_uint(n->str, &v);
	if (rc < 0 || v < k->min || v > k->max) {
		type_error(ld, k, n, path);
		return;
	}
	if (k->type == K_SIZE64)
		*(uint64_t *)f = v;
	else
		*(uint32_t *)f = (uint32_t)v;
}

static void
set_string(struct ld *ld, const struct key *k, void *f,
    const struct hq_ynode *n, const char *path)
{
	if (n->len == 0 || (k->type == K_NAME && !valid_name(n->str))) {
		type_error(ld, k, n, path);
		return;
	}
	free(*(char **)f);
	*(char **)f = xstrdup(n->str);
}

static void
set_verbosity(struct ld *ld, const struct key *k, void *f,
    const struct hq_ynode *n, const char *path)
{
	for (size_t i = 0; i < 3; i++) {
		if (strcmp(n->str, verbosity_names[i]) == 0) {
			*(enum hq_verbosity *)f = (enum hq_verbosity)i;
			return;
		}
	}
	type_error(ld, k, n, path);
}

static void
set_enum(struct ld *ld, const struct key *k, void *f,
    const struct hq_ynode *n, const char *path)
{
	for (size_t i = 0; k->names[i]; i++) {
		if (strcmp(n->str, k->names[i]) == 0) {
			*(int *)f = (int)i;
			return;
		}
	}
	type_error(ld, k, n, path);
}

static void
set_prefix(struct ld *ld, void *f, const struct hq_ynode *n, const char *path)
{
	struct hq_prefix p;
	char msg[256];

	memset(&p, 0, sizeof(p));
	msg[0] = '\0';
	if (hq_prefix_parse(n->str, &p, msg, sizeof(msg)) < 0) {
		err(ld, n, path, "%s", msg);
		return;
	}
	hq_prefix_free(f);
	*(struct hq_prefix *)f = p;
}

/* A scalar key; returns 0 when the value was taken. */
static int
set_scalar(struct ld *ld, const struct key *k, void *base,
    const struct hq_ynode *n, const char *path)
{
	void *f = field(base, k->off);
	size_t nerr = ld->errs->total;
	bool b;

	if ((k->flags & K_NULLABLE) && hq_ynode_is_null(n)) {
		free(*(char **)f);
		*(char **)f = NULL;
		return 0;
	}
	if (n->type != HQ_Y_SCALAR || hq_ynode_is_null(n)) {
		type_error(ld, k, n, path);
		return -1;
	}
	switch (k->type) {
	case K_BOOL:
		if (parse_bool(n->str, &b) < 0)
			type_error(ld, k, n, path);
		else
			*(bool *)f = b;
		break;
	case K_STRING:
	case K_NAME:
		set_string(ld, k, f, n, path);
		break;
	case K_VERBOSITY:
		set_verbosity(ld, k, f, n, path);
		break;
	case K_ENUM:
		set_enum(ld, k, f, n, path);
		break;
	case K_PREFIX:
		set_prefix(ld, f, n, path);
		break;
	default:
		set_number(ld, k, f, n, path);
		break;
	}
	return ld->errs->total == nerr ? 0 : -1;
}

static void
set_list(struct ld *ld, const struct key *k, void *base,
    const struct hq_ynode *n, const char *path)
{
	size_t count = 0;

	if (!hq_ynode_is_null(n)) {
		if (n->type != HQ_Y_SEQ) {
			type_error(ld, k, n, path);
			return;
		}
		count = n->n;
	}
	if (count < k->min)
		err(ld, n, path, "expected a non-empty list");
	for (size_t i = 0; i < count; i++) {
		const struct hq_ynode *item = n->kid[i];
		char *ipath = xasprintf("%s[%zu]", path, i);

		if (k->sub == NULL) {
			k->item(ld, base, item, ipath);
		} else if (item->type != HQ_Y_MAP) {
			char g[80];

			err(ld, item, ipath, "expected a mapping, got %s",
			    describe(item, g, sizeof(g)));
		} else {
			walk_map(ld, k->sub, k->add(ld, item, ipath), item,
			    ipath);
		}
		free(ipath);
	}
}

/* Options: a tree of mappings of scalars, flattened to "a.b.c" keys. */
/* The path that names a key itself: "server" + "wrokers". */
static const char *
key_path(const char *path, const char *key, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s", path, *path ? "." : "", key);
	return buf;
}

static void
flatten(struct ld *ld, struct hq_store_queue *q, const struct hq_ynode *map,
    const char *prefix, const char *path);

static void
option_add(struct ld *ld, struct hq_store_queue *q, const char *key,
    const struct hq_ynode *knode, const struct hq_ynode *v, const char *path)
{
	char buf[80], kp[256];

	/* "a.b: 1" next to "a: {b: 2}" names the same option twice. */
	for (size_t i = 0; i < q->noptions; i++) {
		if (strcmp(q->options[i].key, key) == 0) {
			err(ld, knode, key_path(path, knode->str, kp, sizeof(kp)),
			    "duplicate key %s", quote(key, buf, sizeof(buf)));
			return;
		}
	}
	q->options = grow(q->options, q->noptions, sizeof(*q->options));
	q->options[q->noptions++] = (struct hq_kv){ xstrdup(key),
	    xstrdup(hq_ynode_is_null(v) ? "" : v->str), origin(ld, v) };
}

static void
dup_key(struct ld *ld, const struct hq_ynode *key, const char *path)
{
	char buf[80], kp[256];

	err(ld, key, key_path(path, key->str, kp, sizeof(kp)), "duplicate key %s",
	    quote(key->str, buf, sizeof(buf)));
}

/*
 * The key of pair i of a mapping, or NULL (after an error) if unusable.
 * scan: look for an earlier equal key (free-form mappings only; the
 * table-driven walk finds duplicates in O(1) with its seen bits).
 */
static const char *
map_key(struct ld *ld, const struct hq_ynode *map, size_t i, const char *path,
    bool scan)
{
	const struct hq_ynode *key = map->kid[i];
	char buf[80];

	if (key->type != HQ_Y_SCALAR || key->len == 0) {
		err(ld, key, path, "expected a key name, got %s",
		    describe(key, buf, sizeof(buf)));
		return NULL;
	}
	for (size_t j = 0; scan && j < i; j += 2) {
		const struct hq_ynode *other = map->kid[j];

		if (other->type == HQ_Y_SCALAR &&
		    strcmp(other->str, key->str) == 0) {
			dup_key(ld, key, path);
			return NULL;
		}
	}
	return key->str;
}

static void
flatten(struct ld *ld, struct hq_store_queue *q, const struct hq_ynode *map,
    const char *prefix, const char *path)
{
	/* Duplicates are found pairwise: bound the pairs. */
	if (q->noptions + map->n / 2 > HQ_STORE_MAX_OPTIONS) {
		err(ld, map, path, "more than " HQ_XSTR(HQ_STORE_MAX_OPTIONS)
		    " options in one queue");
		return;
	}
	for (size_t i = 0; i + 1 < map->n; i += 2) {
		const struct hq_ynode *v = map->kid[i + 1];
		const char *name = map_key(ld, map, i, path, true);
		char *key, *kpath;

		if (name == NULL)
			continue;
		key = join(prefix, name);
		kpath = join(path, name);
		if (v->type == HQ_Y_MAP)
			flatten(ld, q, v, key, kpath);
		else if (v->type == HQ_Y_SEQ)
			err(ld, v, kpath, "lists are not supported in options");
		else
			option_add(ld, q, key, map->kid[i], v, path);
		free(key);
		free(kpath);
	}
}

static void
set_value(struct ld *ld, const struct key *k, void *base,
    const struct hq_ynode *v, const char *path)
{
	switch (k->type) {
	case K_MAP:
		walk_map(ld, k->sub, field(base, k->off), v, path);
		break;
	case K_LIST:
		set_list(ld, k, base, v, path);
		break;
	case K_OPTIONS:
		if (hq_ynode_is_null(v))
			break;
		if (v->type != HQ_Y_MAP)
			type_error(ld, k, v, path);
		else
			flatten(ld, base, v, "", path);
		break;
	default:
		if (set_scalar(ld, k, base, v, path) == 0 && (k->flags & K_AT))
			*(struct hq_origin *)field(base, k->at_off) =
			    origin(ld, v);
		break;
	}
}

static void
unknown_key(struct ld *ld, const struct key *t, const struct hq_ynode *key,
    const char *path)
{
	const char *names[32], *best;
	char buf[80], list[512] = "", kp[256];
	size_t n = 0;

	path = key_path(path, key->str, kp, sizeof(kp));
	for (const struct key *k = t; k->name && n < 32; k++)
		names[n++] = k->name;
	best = closest(key->str, names, n);
	if (best != NULL) {
		err(ld, key, path, "unknown key %s (did you mean \"%s\"?)",
		    quote(key->str, buf, sizeof(buf)), best);
	} else {
		size_t len = 0;

		for (size_t i = 0; i < n && len < sizeof(list); i++)
			len += (size_t)snprintf(list + len, sizeof(list) - len,
			    "%s%s", i ? ", " : "", names[i]);
		err(ld, key, path, "unknown key %s (known keys: %s)",
		    quote(key->str, buf, sizeof(buf)), list);
	}
}

static void
walk_map(struct ld *ld, const struct key *t, void *base,
    const struct hq_ynode *map, const char *path)
{
	uint64_t seen = 0;

	if (hq_ynode_is_null(map))
		return;
	if (map->type != HQ_Y_MAP) {
		char g[80];

		err(ld, map, path, "expected a mapping, got %s",
		    describe(map, g, sizeof(g)));
		return;
	}
	for (size_t i = 0; i + 1 < map->n; i += 2) {
		const char *name = map_key(ld, map, i, path, false);
		const struct key *k;
		uint64_t bit;
		char *kpath;

		if (name == NULL)
			continue;
		for (k = t; k->name && strcmp(k->name, name) != 0; k++)
			;
		if (k->name == NULL) {
			unknown_key(ld, t, map->kid[i], path);
			continue;
		}
		bit = 1ULL << (k - t);
		if (seen & bit) {
			dup_key(ld, map->kid[i], path);
			continue;
		}
		seen |= bit;
		kpath = join(path, name);
		set_value(ld, k, base, map->kid[i + 1], kpath);
		free(kpath);
	}
	for (const struct key *k = t; k->name; k++)
		if ((k->flags & K_REQUIRED) && !(seen & (1ULL << (k - t))))
			err(ld, map, path, "missing required key \"%s\"",
			    k->name);
}

/* ---------------------------------------------------------------------
 * List elements
 * ------------------------------------------------------------------- */

static void
path_add(char ***paths, size_t n, const char *path)
{
	*paths = grow(*paths, n, sizeof(**paths));
	(*paths)[n] = xstrdup(path);
}

static void *
group_add(struct ld *ld, const struct hq_ynode *n, const char *path)
{
	struct hq_store *s = ld->s;
	struct hq_store_group *g;

	s->groups = grow(s->groups, s->ngroups, sizeof(*s->groups));
	g = &s->groups[s->ngroups];
	memset(g, 0, sizeof(*g));
	apply_defaults(group_keys, g);
	g->at = origin(ld, n);
	path_add(&ld->gpath, s->ngroups++, path);
	return g;
}

static void *
queue_add(struct ld *ld, const struct hq_ynode *n, const char *path)
{
	struct hq_store *s = ld->s;
	struct hq_store_queue *q;

	s->queues = grow(s->queues, s->nqueues, sizeof(*s->queues));
	q = &s->queues[s->nqueues];
	memset(q, 0, sizeof(*q));
	apply_defaults(queue_keys, q);
	q->at = origin(ld, n);
	path_add(&ld->qpath, s->nqueues++, path);
	return q;
}

static void *
urlacl_add(struct ld *ld, const struct hq_ynode *n, const char *path)
{
	struct hq_store *s = ld->s;
	struct hq_store_urlacl *a;

	s->urlacls = grow(s->urlacls, s->nurlacls, sizeof(*s->urlacls));
	a = &s->urlacls[s->nurlacls];
	memset(a, 0, sizeof(*a));
	apply_defaults(urlacl_keys, a);
	a->at = origin(ld, n);
	path_add(&ld->upath, s->nurlacls++, path);
	return a;
}

static void *
sslcert_add(struct ld *ld, const struct hq_ynode *n, const char *path)
{
	struct hq_store *s = ld->s;
	struct hq_store_sslcert *c;

	s->sslcerts = grow(s->sslcerts, s->nsslcerts, sizeof(*s->sslcerts));
	c = &s->sslcerts[s->nsslcerts];
	memset(c, 0, sizeof(*c));
	apply_defaults(sslcert_keys, c);
	c->at = origin(ld, n);
	path_add(&ld->spath, s->nsslcerts++, path);
	return c;
}

static void
prefix_item(struct ld *ld, void *base, const struct hq_ynode *n,
    const char *path)
{
	struct hq_store_group *g = base;
	struct hq_prefix p;
	char msg[256], buf[80];

	if (n->type != HQ_Y_SCALAR || hq_ynode_is_null(n)) {
		err(ld, n, path, "expected a URL prefix, got %s",
		    describe(n, buf, sizeof(buf)));
		return;
	}
	memset(&p, 0, sizeof(p));
	msg[0] = '\0';
	if (hq_prefix_parse(n->str, &p, msg, sizeof(msg)) < 0) {
		err(ld, n, path, "%s", msg);
		return;
	}
	g->prefixes = grow(g->prefixes, g->nprefixes, sizeof(*g->prefixes));
	g->prefix_at = grow(g->prefix_at, g->nprefixes, sizeof(*g->prefix_at));
	g->prefixes[g->nprefixes] = p;
	g->prefix_at[g->nprefixes] = origin(ld, n);
	ld->prefs = grow(ld->prefs, ld->nprefs, sizeof(*ld->prefs));
	ld->prefs[ld->nprefs++] = (struct pref){ (size_t)(g - ld->s->groups),
	    g->nprefixes++, xstrdup(path) };
}

static void
logfield_item(struct ld *ld, void *base, const struct hq_ynode *n,
    const char *path)
{
	struct hq_store_alog *a = base;
	char buf[80];

	if (n->type != HQ_Y_SCALAR || hq_ynode_is_null(n) ||
	    !hq_logfield_valid(n->str)) {
		err(ld, n, path, "expected a W3C field name (date, time, c-ip, "
		    "c-port, cs-username, s-sitename, s-computername, s-ip, "
		    "s-port, cs-method, cs-uri-stem, cs-uri-query, cs-uri, "
		    "sc-status, sc-substatus, sc-win32-status, sc-bytes, "
		    "cs-bytes, time-taken, cs-version, cs-host, s-reason, "
		    "s-queuename or cs(HEADER)), got %s",
		    describe(n, buf, sizeof(buf)));
		return;
	}
	a->fields = grow(a->fields, a->nfields, sizeof(*a->fields));
	a->fields[a->nfields++] = xstrdup(n->str);
}

/*
 * "IP", "IP:PORT", "[v6]", "[v6]:PORT", or a bare v6 literal.  No port
 * stores port 0: every port some URL prefix registers.
 */
static int
parse_listen(const char *text, struct sockaddr_storage *ss, socklen_t *len)
{
	char host[INET6_ADDRSTRLEN];
	const char *h = text, *port = NULL, *end;
	uint64_t pn = 0;
	int family = AF_INET;
	size_t hl;

	if (*h == '[') {
		family = AF_INET6;
		if ((end = strchr(++h, ']')) == NULL)
			return -1;
		if (end[1] == ':')
			port = end + 2;
		else if (end[1] != '\0')
			return -1;
	} else if ((end = strchr(h, ':')) != NULL && strchr(end + 1, ':')) {
		family = AF_INET6;
		end = h + strlen(h);
	} else if (end != NULL) {
		port = end + 1;
	} else {
		end = h + strlen(h);
	}
	hl = (size_t)(end - h);
	if (hl == 0 || hl >= sizeof(host))
		return -1;
	memcpy(host, h, hl);
	host[hl] = '\0';
	if (port != NULL && (parse_uint(port, &pn) < 0 || pn < 1 || pn > 65535))
		return -1;
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)pn);
		*len = sizeof(*sin);
		return inet_pton(AF_INET, host, &sin->sin_addr) == 1 ? 0 : -1;
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)pn);
		*len = sizeof(*sin6);
		return inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1 ? 0 : -1;
	}
}

static void
listen_item(struct ld *ld, void *base, const struct hq_ynode *n,
    const char *path)
{
	struct hq_store *s = base;
	struct hq_listen l;
	char buf[80];

	memset(&l, 0, sizeof(l));
	if (n->type != HQ_Y_SCALAR ||
	    parse_listen(n->str, &l.addr, &l.addrlen) < 0) {
		err(ld, n, path, "expected an IP address with an optional "
		    "port 1-65535 (\"127.0.0.1\", \"[::1]:8080\"), got %s",
		    describe(n, buf, sizeof(buf)));
		return;
	}
	l.text = xstrdup(n->str);
	l.at = origin(ld, n);
	s->listens = grow(s->listens, s->nlistens, sizeof(*s->listens));
	s->listens[s->nlistens] = l;
	path_add(&ld->lpath, s->nlistens++, path);
}

/* ---------------------------------------------------------------------
 * Checks across entries and files, once everything is merged
 * ------------------------------------------------------------------- */

static void
xerr(struct ld *ld, const struct hq_origin *at, const char *path,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void
xerr(struct ld *ld, const struct hq_origin *at, const char *path,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	errors_vadd(ld->errs, at, path, fmt, ap);
	va_end(ap);
}

/*
 * Duplicate checks sort, so that a store of a hundred thousand entries is
 * checked in well under a second (pairwise, it took minutes).  Each entry
 * with a key gets a struct dkey; first_equal() returns, for every entry
 * index, the index of the first entry with the same key (itself if none
 * comes before it), or SIZE_MAX for entries without a key.
 */
struct dkey {
	const void *p;
	size_t len;
	size_t i;
};

static int
cmp_dkey(const void *a, const void *b)
{
	const struct dkey *x = a, *y = b;
	int c;

	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	if ((c = memcmp(x->p, y->p, x->len)) != 0)
		return c;
	return x->i < y->i ? -1 : x->i > y->i;
}

static size_t *
first_equal(struct dkey *k, size_t nk, size_t n)
{
	size_t *first = xmalloc((n ? n : 1) * sizeof(*first));

	for (size_t i = 0; i < n; i++)
		first[i] = SIZE_MAX;
	if (nk > 0)
		qsort(k, nk, sizeof(*k), cmp_dkey);
	for (size_t a = 0, b; a < nk; a = b) {
		for (b = a; b < nk && k[b].len == k[a].len &&
		    memcmp(k[b].p, k[a].p, k[a].len) == 0; b++)
			first[k[b].i] = k[a].i;
	}
	return first;
}

/* first_equal() over strings; NULL strings have no key. */
static size_t *
first_equal_str(const char *(*get)(const struct hq_store *, size_t),
    const struct hq_store *s, size_t n)
{
	struct dkey *k = xcalloc(n ? n : 1, sizeof(*k));
	size_t nk = 0, *first;

	for (size_t i = 0; i < n; i++) {
		const char *v = get(s, i);

		if (v != NULL)
			k[nk++] = (struct dkey){ v, strlen(v), i };
	}
	first = first_equal(k, nk, n);
	free(k);
	return first;
}

static bool
is_dup(const size_t *first, size_t i)
{
	return first[i] != SIZE_MAX && first[i] != i;
}

static const char *
group_name(const struct hq_store *s, size_t i)
{
	return s->groups[i].name;
}

static const char *
queue_name(const struct hq_store *s, size_t i)
{
	return s->queues[i].name;
}

static const char *
urlacl_text(const struct hq_store *s, size_t i)
{
	return s->urlacls[i].prefix.text;
}

static void
check_group_names(struct ld *ld)
{
	const struct hq_store *s = ld->s;
	size_t *first = first_equal_str(group_name, s, s->ngroups);

	for (size_t i = 0; i < s->ngroups; i++) {
		const struct hq_store_group *g = &s->groups[i], *o;
		char *path;

		if (!is_dup(first, i))
			continue;
		o = &s->groups[first[i]];
		path = join(ld->gpath[i], "name");
		xerr(ld, &g->at, path, "duplicate url group name "
		    "\"%s\" (first defined at %s:%d)", g->name,
		    o->at.file, o->at.line);
		free(path);
	}
	free(first);
}

static void
check_queue_names(struct ld *ld)
{
	const struct hq_store *s = ld->s;
	size_t *first = first_equal_str(queue_name, s, s->nqueues);

	for (size_t i = 0; i < s->nqueues; i++) {
		const struct hq_store_queue *q = &s->queues[i], *o;
		char *path;

		if (!is_dup(first, i))
			continue;
		o = &s->queues[first[i]];
		path = join(ld->qpath[i], "name");
		xerr(ld, &q->at, path, "duplicate queue name "
		    "\"%s\" (first defined at %s:%d)", q->name,
		    o->at.file, o->at.line);
		free(path);
	}
	free(first);
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void
check_queue_refs(struct ld *ld)
{
	const struct hq_store *s = ld->s;
	const char **names = xcalloc(s->nqueues + 1, sizeof(*names));
	size_t n = 0;

	for (size_t i = 0; i < s->nqueues; i++)
		if (s->queues[i].name != NULL)
			names[n++] = s->queues[i].name;
	if (n > 0)
		qsort(names, n, sizeof(*names), cmp_str);
	for (size_t i = 0; i < s->ngroups; i++) {
		const struct hq_store_group *g = &s->groups[i];
		const char *best = NULL;
		char *path, buf[80];

		if (g->queue == NULL || (n > 0 && bsearch(&g->queue, names, n,
		    sizeof(*names), cmp_str) != NULL))
			continue;
		path = join(ld->gpath[i], "queue");
		/* A suggestion costs a pass over the names: only for the
		 * messages that are kept. */
		if (ld->errs->n < HQ_ERRORS_MAX)
			best = closest(g->queue, names, n);
		xerr(ld, &g->queue_at, path, "no queue named %s%s%s%s",
		    quote(g->queue, buf, sizeof(buf)),
		    best ? " (did you mean \"" : "", best ? best : "",
		    best ? "\"?)" : "");
		free(path);
	}
	free(names);
}

/* An https prefix needs an SSL binding on its port: an ipport binding for
 * that port, or a hostnameport binding for it (http.sys would accept the
 * registration and fail every handshake; we say so at load).  bound has a
 * bit per port with a binding. */
static void
check_https_bound(struct ld *ld, const struct hq_prefix *p,
    const struct hq_origin *at, const char *path, const unsigned char *bound)
{
	if (!p->https || (bound[p->port / 8] & (1u << (p->port % 8))))
		return;
	xerr(ld, at, path, "https prefix \"%s\" has no SSL binding for port %u: "
	    "add an sslcerts entry with ipport \"0.0.0.0:%u\" or hostnameport "
	    "\"NAME:%u\"", p->text, p->port, p->port, p->port);
}

static const struct hq_prefix *
pref_prefix(const struct ld *ld, size_t i)
{
	return &ld->s->groups[ld->prefs[i].g].prefixes[ld->prefs[i].j];
}

/*
 * Checks every prefix against the ones loaded before it: the same text
 * twice, or http and https on one port.  The first earlier prefix that
 * conflicts is named, as a pairwise check would, but with a sort and a
 * table of the first prefix of each scheme on each port.
 */
static void
check_prefixes(struct ld *ld)
{
	const struct hq_store *s = ld->s;
	unsigned char *bound = xcalloc(65536 / 8, 1);
	size_t (*onport)[2] = xmalloc(65536 * sizeof(*onport));
	struct dkey *k = xcalloc(ld->nprefs ? ld->nprefs : 1, sizeof(*k));
	size_t *first;

	for (size_t i = 0; i < s->nsslcerts; i++)
		bound[s->sslcerts[i].port / 8] |=
		    (unsigned char)(1u << (s->sslcerts[i].port % 8));
	for (size_t i = 0; i < 65536; i++)
		onport[i][0] = onport[i][1] = SIZE_MAX;
	for (size_t i = 0; i < ld->nprefs; i++) {
		const struct hq_prefix *p = pref_prefix(ld, i);

		k[i] = (struct dkey){ p->text, strlen(p->text), i };
		if (onport[p->port][p->https] == SIZE_MAX)
			onport[p->port][p->https] = i;
	}
	first = first_equal(k, ld->nprefs, ld->nprefs);
	for (size_t i = 0; i < ld->nprefs; i++) {
		const struct pref *r = &ld->prefs[i];
		const struct hq_prefix *p = pref_prefix(ld, i);
		const struct hq_origin *at = &s->groups[r->g].prefix_at[r->j];
		size_t other = onport[p->port][!p->https];
		size_t t = is_dup(first, i) ? first[i] : SIZE_MAX;
		const struct hq_store_group *og;
		const struct hq_origin *oat;

		check_https_bound(ld, p, at, r->path, bound);
		if (t == SIZE_MAX && (other == SIZE_MAX || other > i))
			continue;
		if (t == SIZE_MAX || (other < t))
			t = other; /* the scheme clash comes first */
		og = &s->groups[ld->prefs[t].g];
		oat = &og->prefix_at[ld->prefs[t].j];
		if (t == first[i] && is_dup(first, i))
			xerr(ld, at, r->path, "prefix \"%s\" already registered "
			    "by url group \"%s\" at %s:%d", p->text,
			    og->name ? og->name : "?", oat->file, oat->line);
		else
			xerr(ld, at, r->path, "http and https cannot share port "
			    "%u (see %s:%d)", p->port, oat->file, oat->line);
	}
	free(first);
	free(k);
	free(onport);
	free(bound);
}

static void
check_listens(struct ld *ld)
{
	const struct hq_store *s = ld->s;
	struct dkey *k = xcalloc(s->nlistens ? s->nlistens : 1, sizeof(*k));
	size_t *first;

	for (size_t i = 0; i < s->nlistens; i++)
		k[i] = (struct dkey){ &s->listens[i].addr, s->listens[i].addrlen, i };
	first = first_equal(k, s->nlistens, s->nlistens);
	for (size_t i = 0; i < s->nlistens; i++) {
		const struct hq_listen *l = &s->listens[i], *o;

		if (!is_dup(first, i))
			continue;
		o = &s->listens[first[i]];
		xerr(ld, &l->at, ld->lpath[i], "duplicate iplisten "
		    "entry \"%s\" (first defined at %s:%d)", l->text,
		    o->at.file, o->at.line);
	}
	free(first);
	free(k);
}

static void
check_access_logs(struct ld *ld)
{
	const struct hq_store *s = ld->s;

	for (size_t i = 0; i < s->ngroups; i++) {
		const struct hq_store_alog *a = &s->groups[i].access_log;
		char *path;

		if (a->path == NULL || a->format != HQ_LOG_NCSA || a->nfields == 0)
			continue;
		path = join(ld->gpath[i], "access_log.fields");
		xerr(ld, &a->at, path, "fields apply to the w3c format; "
		    "ncsa combined has fixed fields");
		free(path);
	}
}

static void
check_urlacls(struct ld *ld)
{
	const struct hq_store *s = ld->s;
	size_t *first = first_equal_str(urlacl_text, s, s->nurlacls);

	for (size_t i = 0; i < s->nurlacls; i++) {
		const struct hq_store_urlacl *a = &s->urlacls[i], *o;

		if (a->user == NULL && a->group == NULL)
			xerr(ld, &a->at, ld->upath[i], "a reservation needs a "
			    "user, a group or both");
		if (!a->listen && !a->delegate)
			xerr(ld, &a->at, ld->upath[i], "grants nothing: listen "
			    "and delegate are both false");
		if (!is_dup(first, i))
			continue;
		o = &s->urlacls[first[i]];
		xerr(ld, &a->at, ld->upath[i], "duplicate urlacl for "
		    "\"%s\" (first defined at %s:%d)", a->prefix.text,
		    o->at.file, o->at.line);
	}
	free(first);
}

/* "NAME:PORT": a host name of letters, digits, '-' and '.', or "*". */
static int
parse_hostport(const char *text, char **host, uint16_t *port)
{
	const char *colon = strrchr(text, ':');
	uint64_t pn;

	if (colon == NULL || colon == text ||
	    colon - text > HQ_HOST_NAME_MAX_LEN ||
	    parse_uint(colon + 1, &pn) < 0 || pn < 1 || pn > 65535)
		return -1;
	for (const char *c = text; c < colon; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		    (*c >= '0' && *c <= '9') || *c == '-' || *c == '.' ||
		    (*c == '*' && colon - text == 1)))
			return -1;
	*host = xstrndup(text, (size_t)(colon - text));
	for (char *c = *host; *c; c++)
		if (*c >= 'A' && *c <= 'Z')
			*c = (char)(*c + 32);
	*port = (uint16_t)pn;
	return 0;
}

/* Fills by_host, host, addr and port from ipport or hostnameport. */
static void
sslcert_binding(struct ld *ld, struct hq_store_sslcert *c, const char *path)
{
	char *kp, buf[80];
	const char *colon;
	size_t hn;

	if (c->ipport != NULL && c->hostnameport != NULL) {
		xerr(ld, &c->at, path, "ipport and hostnameport exclude each "
		    "other: a binding is for one of them");
		return;
	}
	if (c->ipport == NULL && c->hostnameport == NULL) {
		xerr(ld, &c->at, path, "missing required key \"ipport\" or "
		    "\"hostnameport\"");
		return;
	}
	if (c->ipport != NULL) {
		c->text = xstrdup(c->ipport);
		if (parse_listen(c->ipport, &c->addr, &c->addrlen) == 0 &&
		    (c->port = hq_sockaddr_port(&c->addr)) != 0)
			return;
		kp = join(path, "ipport");
		xerr(ld, &c->at, kp, "expected IP:PORT (\"0.0.0.0:443\", "
		    "\"[::1]:8443\"), got %s", quote(c->ipport, buf, sizeof(buf)));
	} else {
		c->by_host = true;
		c->text = xstrdup(c->hostnameport);
		if (parse_hostport(c->hostnameport, &c->host, &c->port) == 0)
			return;
		kp = join(path, "hostnameport");
		colon = strrchr(c->hostnameport, ':');
		hn = colon ? (size_t)(colon - c->hostnameport) :
		    strlen(c->hostnameport);
		if (hn > HQ_HOST_NAME_MAX_LEN)
			xerr(ld, &c->at, kp, "expected NAME:PORT with a name of "
			    "at most %d characters, got %zu characters in %s",
			    HQ_HOST_NAME_MAX_LEN, hn,
			    quote(c->hostnameport, buf, sizeof(buf)));
		else
			xerr(ld, &c->at, kp, "expected NAME:PORT "
			    "(\"www.example.com:443\"), got %s",
			    quote(c->hostnameport, buf, sizeof(buf)));
	}
	free(kp);
}

/* The bytes that name a binding: the same for two entries that bind the
 * same NAME:PORT or IP:PORT; NULL when the binding did not parse. */
static unsigned char *
binding_key(const struct hq_store_sslcert *c, size_t *len)
{
	unsigned char *k;

	if (c->text == NULL || (c->by_host ? c->host == NULL : c->addrlen == 0))
		return NULL;
	if (c->by_host) {
		*len = 3 + strlen(c->host);
		k = xmalloc(*len);
		k[0] = 'H';
		k[1] = (unsigned char)(c->port >> 8);
		k[2] = (unsigned char)c->port;
		memcpy(k + 3, c->host, *len - 3);
	} else {
		*len = 1 + (size_t)c->addrlen;
		k = xmalloc(*len);
		k[0] = 'A';
		memcpy(k + 1, &c->addr, (size_t)c->addrlen);
	}
	return k;
}

/*
 * Parses every binding first, since the duplicate check needs them all, but
 * reports each entry's errors together, in entry order.
 */
static void
check_sslcerts(struct ld *ld)
{
	struct hq_store *s = ld->s;
	struct hq_errors *errs = ld->errs;
	struct hq_errors *mine = xcalloc(s->nsslcerts + 1, sizeof(*mine));
	struct dkey *k = xcalloc(s->nsslcerts + 1, sizeof(*k));
	size_t nk = 0, *first;

	for (size_t i = 0; i < s->nsslcerts; i++) {
		size_t len;
		unsigned char *key;

		ld->errs = &mine[i];
		sslcert_binding(ld, &s->sslcerts[i], ld->spath[i]);
		if ((key = binding_key(&s->sslcerts[i], &len)) != NULL)
			k[nk++] = (struct dkey){ key, len, i };
	}
	ld->errs = errs;
	first = first_equal(k, nk, s->nsslcerts);
	for (size_t i = 0; i < s->nsslcerts; i++) {
		const struct hq_store_sslcert *c = &s->sslcerts[i], *o;

		for (size_t j = 0; j < mine[i].n; j++)
			hq_errors_add(errs, NULL, NULL, "%s", mine[i].msg[j]);
		hq_errors_free(&mine[i]);
		if (c->clientcert != HQ_CLIENTCERT_NONE && c->cafile == NULL)
			xerr(ld, &c->at, ld->spath[i], "clientcert %s needs a "
			    "cafile to check client certificates against",
			    clientcert_names[c->clientcert]);
		if (!is_dup(first, i))
			continue;
		o = &s->sslcerts[first[i]];
		xerr(ld, &c->at, ld->spath[i], "duplicate SSL binding "
		    "for \"%s\" (first defined at %s:%d)", c->text,
		    o->at.file, o->at.line);
	}
	for (size_t i = 0; i < nk; i++)
		free((void *)k[i].p);
	free(k);
	free(mine);
	free(first);
	for (size_t i = 0; i < s->nsslcerts; i++) {
		free(s->sslcerts[i].ipport);
		free(s->sslcerts[i].hostnameport);
		s->sslcerts[i].ipport = s->sslcerts[i].hostnameport = NULL;
	}
}

const char *
hq_clientcert_name(enum hq_clientcert c)
{
	return (unsigned)c < 3 ? clientcert_names[c] : "?";
}

static void
check_all(struct ld *ld)
{
	check_listens(ld);
	check_access_logs(ld);
	check_urlacls(ld);
	check_sslcerts(ld);
	check_group_names(ld);
	check_queue_names(ld);
	check_queue_refs(ld);
	check_prefixes(ld);
}

/* ---------------------------------------------------------------------
 * Files and the public entry points
 * ------------------------------------------------------------------- */

static void
walk_top(struct ld *ld, const struct hq_ynode *root)
{
	char buf[80];

	if (hq_ynode_is_null(root))
		return; /* an empty file is a valid, empty drop-in */
	if (root->type != HQ_Y_MAP) {
		err(ld, root, NULL, "expected a mapping at the top level, "
		    "got %s", describe(root, buf, sizeof(buf)));
		return;
	}
	walk_map(ld, top_keys, ld->s, root, "");
}

static void
load_file(struct ld *ld, const char *path, const char *name)
{
	struct hq_ynode *root;
	int rc;

	ld->file = intern(ld->s, name);
	if (ld->override != NULL && strcmp(path, ld->override) == 0)
		rc = hq_yaml_parse(ld->file, ld->otext, ld->olen, &root, ld->errs);
	else
		rc = hq_yaml_parse_file(path, ld->file, &root, ld->errs);
	if (rc == 0)
		walk_top(ld, root);
	hq_ynode_free(root);
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool
is_dropin(const char *dir, const char *name)
{
	size_t n = strlen(name);
	struct stat st;
	char *full;
	bool ok;

	/* Hidden files are editors' backups and lock files. */
	if (name[0] == '.' || n <= 5 || strcmp(name + n - 5, ".yaml") != 0)
		return false;
	full = xasprintf("%s/%s", dir, name);
	ok = stat(full, &st) < 0 || !S_ISDIR(st.st_mode);
	free(full);
	return ok;
}

char *
hq_store_dropin_dir(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? xasprintf("%.*s/conf.d", (int)(slash - path), path) :
	    xstrdup("conf.d");
}

/* The name of the overriding drop-in, if it belongs in dir. */
static const char *
override_name(const struct ld *ld, const char *dir)
{
	size_t n = strlen(dir);

	if (ld->override == NULL || strncmp(ld->override, dir, n) != 0 ||
	    ld->override[n] != '/' || strchr(ld->override + n + 1, '/'))
		return NULL;
	return ld->override + n + 1;
}

/* Adds or removes the overriding drop-in from the names found on disk. */
static void
override_names(struct ld *ld, const char *dir, char ***names, size_t *n)
{
	const char *oname = override_name(ld, dir);
	size_t i;

	if (oname == NULL)
		return;
	for (i = 0; i < *n && strcmp((*names)[i], oname) != 0; i++)
		;
	if (i == *n && ld->otext != NULL) {
		*names = xrealloc(*names, (*n + 1) * sizeof(**names));
		(*names)[(*n)++] = xstrdup(oname);
	} else if (i < *n && ld->otext == NULL) {
		free((*names)[i]);
		(*names)[i] = (*names)[--*n];
	}
}

/* Every *.yaml in dirname(path)/conf.d, in strcmp order. */
static void
load_dropins(struct ld *ld, const char *path)
{
	char *dir = hq_store_dropin_dir(path);
	char **names = NULL;
	size_t n = 0;
	struct dirent *de;
	DIR *d;

	if ((d = opendir(dir)) == NULL) {
		if (errno != ENOENT && errno != ENOTDIR) {
			struct hq_origin at = { intern(ld->s, dir), 0, 0 };

			hq_errors_add(ld->errs, &at, NULL, "cannot open: %s",
			    strerror(errno));
			free(dir);
			return;
		}
	}
	while (d != NULL && (de = readdir(d)) != NULL) {
		if (!is_dropin(dir, de->d_name))
			continue;
		names = xrealloc(names, (n + 1) * sizeof(*names));
		names[n++] = xstrdup(de->d_name);
	}
	if (d != NULL)
		closedir(d);
	override_names(ld, dir, &names, &n);
	if (n > 0)
		qsort(names, n, sizeof(*names), cmp_names);
	for (size_t i = 0; i < n; i++) {
		char *full = xasprintf("%s/%s", dir, names[i]);

		load_file(ld, full, full);
		free(full);
		free(names[i]);
	}
	free(names);
	free(dir);
}

static void
ld_init(struct ld *ld, struct hq_errors *errs)
{
	memset(ld, 0, sizeof(*ld));
	ld->errs = errs;
	ld->s = xcalloc(1, sizeof(*ld->s));
	apply_defaults(top_keys, ld->s);
}

static void
free_paths(char **paths, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(paths[i]);
	free(paths);
}

/* Runs the cross checks; returns the store, or NULL if anything failed. */
static struct hq_store *
ld_finish(struct ld *ld, size_t nerr)
{
	struct hq_store *s = ld->s;

	check_all(ld);
	free_paths(ld->gpath, s->ngroups);
	free_paths(ld->qpath, s->nqueues);
	free_paths(ld->lpath, s->nlistens);
	free_paths(ld->upath, s->nurlacls);
	free_paths(ld->spath, s->nsslcerts);
	for (size_t i = 0; i < ld->nprefs; i++)
		free(ld->prefs[i].path);
	free(ld->prefs);
	if (ld->errs->total != nerr) {
		hq_store_free(s);
		return NULL;
	}
	return s;
}

struct hq_store *
hq_store_load(const char *path, struct hq_errors *errs)
{
	size_t nerr = errs->total;
	struct ld ld;

	ld_init(&ld, errs);
	load_file(&ld, path, path);
	load_dropins(&ld, path);
	return ld_finish(&ld, nerr);
}

struct hq_store *
hq_store_load_override(const char *path, const char *dropin, const char *text,
    size_t len, struct hq_errors *errs)
{
	size_t nerr = errs->total;
	struct ld ld;

	ld_init(&ld, errs);
	ld.override = dropin;
	ld.otext = text;
	ld.olen = len;
	load_file(&ld, path, path);
	load_dropins(&ld, path);
	return ld_finish(&ld, nerr);
}

struct hq_store *
hq_store_load_string(const char *name, const char *yaml, size_t len,
    struct hq_errors *errs)
{
	size_t nerr = errs->total;
	struct hq_ynode *root;
	struct ld ld;

	ld_init(&ld, errs);
	ld.file = intern(ld.s, name);
	if (hq_yaml_parse(ld.file, yaml, len, &root, errs) == 0)
		walk_top(&ld, root);
	hq_ynode_free(root);
	return ld_finish(&ld, nerr);
}

void
hq_store_free(struct hq_store *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < s->nfiles; i++)
		free(s->files[i]);
	free(s->files);
	free(s->module_path);
	free(s->error_log);
	for (size_t i = 0; i < s->nlistens; i++)
		free(s->listens[i].text);
	free(s->listens);
	for (size_t i = 0; i < s->ngroups; i++) {
		struct hq_store_group *g = &s->groups[i];

		for (size_t j = 0; j < g->nprefixes; j++)
			hq_prefix_free(&g->prefixes[j]);
		free(g->prefixes);
		free(g->prefix_at);
		free(g->name);
		free(g->queue);
		free(g->access_log.path);
		for (size_t j = 0; j < g->access_log.nfields; j++)
			free(g->access_log.fields[j]);
		free(g->access_log.fields);
	}
	free(s->groups);
	for (size_t i = 0; i < s->nqueues; i++) {
		struct hq_store_queue *q = &s->queues[i];

		for (size_t j = 0; j < q->noptions; j++) {
			free(q->options[j].key);
			free(q->options[j].value);
		}
		free(q->options);
		free(q->name);
		free(q->module);
	}
	free(s->queues);
	free(s->control.socket);
	free(s->control.admin_group);
	free(s->control.read_group);
	for (size_t i = 0; i < s->nurlacls; i++) {
		hq_prefix_free(&s->urlacls[i].prefix);
		free(s->urlacls[i].user);
		free(s->urlacls[i].group);
	}
	free(s->urlacls);
	for (size_t i = 0; i < s->nsslcerts; i++) {
		struct hq_store_sslcert *c = &s->sslcerts[i];

		free(c->host);
		free(c->text);
		free(c->certfile);
		free(c->keyfile);
		free(c->chainfile);
		free(c->cafile);
		free(c->ocsp_staple);
		free(c->ipport);
		free(c->hostnameport);
	}
	free(s->sslcerts);
	free(s);
}

/* ---------------------------------------------------------------------
 * httpqd --list-keys
 * ------------------------------------------------------------------- */

static const char *
type_name(const struct key *k, char *buf, size_t size)
{
	char a[32], b[32];

	switch (k->type) {
	case K_UINT:
	case K_OFF_UINT:
		snprintf(buf, size, "integer %llu-%llu%s",
		    (unsigned long long)k->min, (unsigned long long)k->max,
		    k->type == K_OFF_UINT ? "|off" : "");
		return buf;
	case K_SIZE:
	case K_SIZE64:
		if (k->max == UINT64_MAX)
			return "size";
		snprintf(buf, size, "size %s-%s", fmt_size(k->min, a, sizeof(a)),
		    fmt_size(k->max, b, sizeof(b)));
		return buf;
	case K_BOOL:
		return "bool";
	case K_STRING:
		return "string";
	case K_NAME:
		return "name";
	case K_VERBOSITY:
		return "basic|limited|full";
	case K_OPTIONS:
	case K_MAP:
		return "mapping";
	case K_LIST:
		return k->what;
	case K_PREFIX:
		return "URL prefix";
	case K_ENUM:
		return enum_list(k, buf, size, "|", "|");
	}
	return "?";
}

static const char *
default_text(const struct key *k, bool inherit, char *buf, size_t size)
{
	if (k->flags & K_REQUIRED)
		return "(required)";
	if (inherit)
		return "inherit";
	if (k->show != NULL)
		return k->show;
	switch (k->type) {
	case K_OFF_UINT:
		if (k->dnum == HQ_TIMEOUT_OFF)
			return "off";
		/* fall through */
	case K_UINT:
		snprintf(buf, size, "%llu", (unsigned long long)k->dnum);
		return buf;
	case K_SIZE:
	case K_SIZE64:
		return fmt_size(k->dnum, buf, size);
	case K_BOOL:
		return k->dnum ? "true" : "false";
	case K_VERBOSITY:
		return verbosity_names[k->dnum];
	case K_ENUM:
		return k->names[k->dnum];
	case K_STRING:
	case K_NAME:
		return k->dstr ? k->dstr : "-";
	default:
		return "-";
	}
}

static void
list_keys(FILE *f, const struct key *t, const char *prefix, bool inherit)
{
	char tb[64], db[64];

	for (const struct key *k = t; k->name; k++) {
		char *full = xasprintf("%s%s", prefix, k->name);
		char *sub = NULL;

		if (k->type == K_MAP) {
			sub = xasprintf("%s.", full);
			list_keys(f, k->sub, sub, inherit || (k->flags & K_INHERIT));
		} else {
			fprintf(f, "%s\t%s\t%s\t%s\n", full,
			    type_name(k, tb, sizeof(tb)),
			    default_text(k, inherit, db, sizeof(db)), k->meaning);
			if (k->type == K_LIST && k->sub != NULL) {
				sub = xasprintf("%s[].", full);
				list_keys(f, k->sub, sub, false);
			}
		}
		free(sub);
		free(full);
	}
}

void
hq_store_list_keys(FILE *f)
{
	list_keys(f, top_keys, "", false);
}
