/*
 * httpq-internal.h -- the one header of src/lib/, the pure library.
 *
 * Layer: src/lib/, built as libhq.a: no libevent, no OpenSSL, no threads
 * of its own (module.c uses dlopen only).  May call: libc, libyaml (in
 * store_yaml.c only) and <httpq/module.h>; never src/shared/, src/daemon/
 * or src/ctl/.  Called by: every layer above (src/shared/, src/daemon/,
 * src/ctl/), the unit tests (tests/unit/) and the fuzzers (tests/fuzz/).
 *
 * Grouped by file, leaves first.  Leaves (util, errors, http1, urlprefix,
 * router, store) know nothing of the layers above them (conn, worker,
 * lifecycle), so they can be unit-tested and fuzzed on their own.
 */
#ifndef HTTPQ_INTERNAL_H
#define HTTPQ_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <syslog.h>
#include <time.h>

#include "httpq/module.h"
#include "httpdate.h"

/* ---------------------------------------------------------------------
 * defaults.h-style table: every default in one place, with its unit.
 * Docs, `httpqd --list-keys` and the code read these.
 * ------------------------------------------------------------------- */
#define HQ_DEFAULT_CONFIG_FILE          SYSCONFDIR "/httpq/httpq.yaml"
#define HQ_DEFAULT_MODULE_PATH          MODULEDIR
#define HQ_DEFAULT_TIMEOUT_S            120     /* every http.sys timer */
#define HQ_DEFAULT_MIN_SEND_RATE_BPS    150     /* bytes per second */
#define HQ_SEND_TIMER_MAX_S             300     /* longest wait for a write to progress */
#define HQ_DEFAULT_QUEUE_LENGTH         1000
#define HQ_QUEUE_LENGTH_MIN             1
#define HQ_QUEUE_LENGTH_MAX             65535
#define HQ_DEFAULT_MAX_REQUEST_BYTES    16384   /* request line + headers */
#define HQ_DEFAULT_MAX_FIELD_LENGTH     16384   /* one header field line */
#define HQ_DEFAULT_MAX_URL_LENGTH       16384   /* request-target; 414 beyond */
/* Header fields per request: more than fit in the default max_request_bytes
 * (a field line takes at least 3 bytes, "a:\n"), so that, as in http.sys,
 * only bytes limit a head.  The field array grows on demand (hq_head.grow). */
#define HQ_DEFAULT_MAX_HEADERS          8192
#define HQ_DEFAULT_SEGMENT_MAX_LENGTH   260     /* chars per path segment */
#define HQ_DEFAULT_SEGMENT_MAX_COUNT    255     /* path segments */
#define HQ_DEFAULT_MAX_BODY_BYTES       (1024ULL * 1024 * 1024 * 4) /* 4 GiB */
#define HQ_DEFAULT_DRAIN_TIMEOUT_S      30      /* graceful stop */
/* TCP_DEFER_ACCEPT: the kernel hands a connection over once its first bytes
 * are there, or after this long anyway (nginx's `deferred` uses 1 s). */
#define HQ_DEFAULT_DEFER_ACCEPT_S       1
#define HQ_DEFER_ACCEPT_MAX_S           3600
#define HQ_RT_QUEUES_PER_UID            64      /* run-time queues (CREATE_QUEUE) a uid may own */
#define HQ_RT_URLS_PER_UID              1024    /* run-time URL registrations (ADD_URL) per uid */
#define HQ_RT_QUEUE_NAME_MAX            64      /* characters of a run-time queue name */
#define HQ_TIMEOUT_OFF                  UINT32_MAX /* "off" in YAML */
#define HQ_MAX_HEADERS_CAP              65536   /* hard cap of max_headers */
#define HQ_TLS_TICKET_ROTATE_S          3600    /* new session ticket key */
#define HQ_TLS_WATCH_S                  2       /* certificate files polled */
#define HQ_TLS_FAIL_LOG_S               60      /* one handshake failure line per peer */
#define HQ_DEFAULT_CONTROL_SOCKET       "/run/httpq/control.sock"
#define HQ_DEFAULT_ADMIN_GROUP          "httpq-admin" /* may change things */
#define HQ_DEFAULT_READ_GROUP           "httpq"       /* may only show */
#define HQ_CTL_MAX_LINE                 4096    /* one control command, bytes */
#define HQ_CTL_DROPIN                   "99-httpqctl.yaml" /* httpqctl's own file */
/* The response cache (http.sys UriEnableCache, UriMaxUriBytes,
 * UriScavengerPeriod; http.sys bounds the total by free memory) */
#define HQ_DEFAULT_CACHE_MAX_BYTES      (64ULL * 1024 * 1024)
#define HQ_DEFAULT_CACHE_MAX_RESPONSE   262144  /* bytes, head and body */
#define HQ_DEFAULT_CACHE_SCAVENGER_S    120     /* unused this long: evicted */
/* HTTP/2 (http2:, RFC 9113 SETTINGS; nginx 128 streams, h2o 100) */
#define HQ_DEFAULT_H2_MAX_STREAMS       100
#define HQ_DEFAULT_H2_MAX_HEADER_LIST   65536   /* decoded bytes; 431 beyond */
#define HQ_DEFAULT_H2_WINDOW            65536   /* per stream, receive */
#define HQ_DEFAULT_H2_CONN_WINDOW       (1u << 20) /* per connection, receive */
#define HQ_DEFAULT_H2_MAX_FRAME         16384

/* ---------------------------------------------------------------------
 * util.c
 * ------------------------------------------------------------------- */

/* A {ptr,len} view; on the hot path it points into a connection buffer. */
struct hq_str {
	const char *p;
	size_t n;
};
#define HQ_STR(lit) ((struct hq_str){ (lit), sizeof(lit) - 1 })

/* Out of memory aborts with a message: one policy, no untestable branches. */
void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

bool hq_str_eq_nocase(struct hq_str a, const char *lit);
bool hq_mem_eq_nocase(const char *a, const char *b, size_t n);
uint16_t hq_sockaddr_port(const struct sockaddr_storage *ss);

/* The one monotonic clock, in microseconds.  coarse reads
 * CLOCK_MONOTONIC_COARSE: cheap, one tick (a few ms) late, for the hot path;
 * otherwise CLOCK_MONOTONIC, as systemd wants in MONOTONIC_USEC= (a coarse
 * reading could predate the reload systemd just started). */
uint64_t hq_mono_us(bool coarse);
/* hq_mono_us(true) in milliseconds: request start, drain deadline, log
 * rate limits. */
uint64_t hq_now_ms(void);

/* The one address text.  IPv4 "192.0.2.1", IPv6 "2001:db8::1" (inet_ntop);
 * with HQ_ADDR_PORT the port of sa follows: "192.0.2.1:80", "[2001:db8::1]:80";
 * with HQ_ADDR_UNMAP an IPv4-mapped IPv6 address is written as the IPv4
 * address it is (access log).  Returns the length snprintf would give (the
 * text is cut to size), or -1 with buf "" for NULL or another family: the
 * caller writes its own placeholder ("-", "?").  HQ_ADDR_TEXT_MAX holds any. */
#define HQ_ADDR_PORT      1u
#define HQ_ADDR_UNMAP     2u
#define HQ_ADDR_TEXT_MAX  64 /* "[" INET6_ADDRSTRLEN "]:65535" */
int hq_addr_text(const struct sockaddr *sa, unsigned flags, char *buf, size_t size);

/* The one whole write: writes all n bytes, retrying on EINTR and short
 * writes.  0, or -1 with errno (ENOSPC when write() wrote nothing); written,
 * if not NULL, gets the bytes that did go out either way. */
int hq_write_all(int fd, const void *buf, size_t n, size_t *written);

/* ---------------------------------------------------------------------
 * errors.c -- every response the daemon makes by itself.
 * ------------------------------------------------------------------- */
enum hq_error {
	HQ_OK = 0,
	HQ_ERR_BAD_REQUEST,       /* 400 generic malformed request */
	HQ_ERR_BAD_VERB,          /* 400 method not a token */
	HQ_ERR_BAD_URL,           /* 400 bad request-target / cooking failed */
	HQ_ERR_BAD_HEADER,        /* 400 malformed header field */
	HQ_ERR_BAD_HOST,          /* 400 Host missing/duplicate/malformed/unrouted */
	HQ_ERR_BAD_CONTENT_LENGTH,/* 400 bad or differing Content-Length */
	HQ_ERR_CL_AND_TE,         /* 400 both Content-Length and Transfer-Encoding */
	HQ_ERR_BAD_CHUNK,         /* 400 bad chunk size line / chunk framing */
	HQ_ERR_BAD_CRLF,          /* 400 NUL or bare CR */
	HQ_ERR_OBS_FOLD,          /* 400 obsolete line folding */
	HQ_ERR_NOT_FOUND,         /* 404 host matched, no path prefix did */
	HQ_ERR_ENTITY_TOO_LARGE,  /* 413 body over the URL group's limit */
	HQ_ERR_URL_TOO_LONG,      /* 414 request-target over max_url_length */
	HQ_ERR_FIELD_TOO_LONG,    /* 431 one field line over max_field_length */
	HQ_ERR_REQUEST_TOO_LONG,  /* 431 head over max_request_bytes or max_headers */
	HQ_ERR_NOT_IMPLEMENTED,   /* 501 unknown transfer-coding */
	HQ_ERR_VERSION,           /* 505 HTTP version other than 1.0/1.1 */
	HQ_ERR_LENGTH_REQUIRED,   /* 411 POST/PUT with neither CL nor TE */
	HQ_ERR_EXPECTATION_FAILED,/* 417 an Expect other than 100-continue */
	HQ_ERR_QUEUE_FULL,        /* 503 queue at its length limit */
	HQ_ERR_NO_CONSUMER,       /* 503 queue has no live consumer */
	HQ_ERR_UNBOUND,           /* 503 URL group bound to no queue */
	HQ_ERR_SHUTDOWN,          /* 503 daemon or queue shutting down */
	HQ_ERR_INTERNAL,          /* 500 */
	HQ_ERR_CONN_LIMIT,        /* 503 URL group's or server's max_connections */
	HQ_ERR_DISABLED,          /* 503 URL group's state is disabled */
	HQ_ERR__COUNT
};

struct hq_errinfo {
	int status;              /* 400 */
	const char *phrase;      /* status line reason: "Bad Request" */
	const char *title;       /* HTML title: "Bad Request - Invalid Hostname" */
	const char *text;        /* "The request hostname is invalid." */
	const char *reason;      /* error-log reason code: "Hostname" */
	bool close;              /* framing is lost: close after answering */
};
const struct hq_errinfo *hq_errinfo(enum hq_error e);

/* ---------------------------------------------------------------------
 * Limits and timeouts shared by parser, router and connections.
 * ------------------------------------------------------------------- */
struct hq_limits {
	uint32_t max_request_bytes;
	uint32_t max_field_length;
	uint32_t max_url_length;
	uint32_t max_headers;
	uint32_t segment_max_length;
	uint32_t segment_max_count;
};

/* Seconds; min_send_rate in bytes/s.  0 = inherit (URL group level only),
 * HQ_TIMEOUT_OFF = disabled. */
struct hq_timeouts {
	uint32_t entity_body;
	uint32_t drain_entity_body;
	uint32_t request_queue;
	uint32_t idle_connection;
	uint32_t header_wait;
	uint32_t min_send_rate;
};

/* util.c: seconds the send timer (min_send_rate, re-armed whenever a write
 * makes progress) allows for `pending` unsent bytes: pending / rate + 1,
 * at most HQ_SEND_TIMER_MAX_S however much is pending; HQ_TIMEOUT_OFF when
 * the rate is off. */
uint32_t hq_send_timeout_s(uint64_t pending, uint32_t rate);

/* ---------------------------------------------------------------------
 * http1.c -- zero-copy HTTP/1.1 request head parser and chunked decoder.
 * No allocation; every hq_str points into the caller's buffer.
 * ------------------------------------------------------------------- */
struct hq_hdr {
	struct hq_str name, value; /* value without surrounding OWS */
};

struct hq_head {
	struct hq_str method;
	struct hq_str target;       /* request-target as sent */
	struct hq_str path;         /* origin-form part: "/a/b?q" (from absolute-form too) */
	struct hq_str host;         /* authority of absolute-form, else Host value; n=0 if none */
	int version;                /* 10 or 11 */
	struct hq_hdr *headers;     /* caller's array of hdr_cap entries */
	size_t hdr_cap;
	/* Optional: called when headers[] is full and max_headers allows more.
	 * Must make headers[] (first nheaders entries kept) hold at least need
	 * entries, setting headers and hdr_cap; false gives 431. */
	bool (*grow)(struct hq_head *h, size_t need);
	void *grow_arg;             /* the caller's, for grow */
	size_t nheaders;
	int64_t content_length;     /* -1 if no Content-Length */
	bool chunked;               /* Transfer-Encoding: chunked */
	bool keep_alive;            /* per version and Connection */
	bool expect_continue;       /* Expect: 100-continue */
	bool absolute_form;
	bool asterisk_form;         /* OPTIONS * */
	size_t head_len;            /* bytes consumed incl. the empty line */
	enum hq_error error;        /* set when parse returns -1 */
};

/*
 * Parses one request head from buf[0..len).  *scanned is the caller's state
 * (0 for a new request): how far the search for the end of the head got, so
 * that a head arriving a byte at a time costs O(n) in all.
 * Returns head_len (>0) when complete, 0 when more bytes are needed, -1 on
 * error with h->error set (limits included: 414/431 even when incomplete).
 * On error h->head_len is nonzero when the whole head was parsed and its
 * body framing is known (a missing, duplicate or bad Host): the caller may
 * answer, skip the body and keep the connection.
 * h->headers/hdr_cap (and grow/grow_arg, or NULL) must be set by the
 * caller; the rest is filled in.
 */
int hq_http1_parse_head(const char *buf, size_t len, size_t *scanned,
    const struct hq_limits *lim, struct hq_head *h);

/*
 * Response fields from a module: a name must be a non-empty RFC 9110 token;
 * a value (or a reason phrase) may hold VCHAR, obs-text, SP and HTAB only,
 * no other control character (CR, LF, NUL, DEL...).  Empty values pass.
 */
bool hq_http1_field_name_ok(const char *p, size_t n);
bool hq_http1_field_value_ok(const char *p, size_t n);
/*
 * A request id from a trusted front proxy (url_groups[].trust_request_id):
 * at most HQ_REQUEST_ID_MAX bytes of token characters, '/', '=' or ':'.
 * Anything else is ignored and the daemon's own numeric id is used.
 */
#define HQ_REQUEST_ID_MAX 128
bool hq_request_id_ok(const char *p, size_t n);

/* Incremental chunked transfer-coding decoder. */
struct hq_chunked {
	int state;
	uint64_t remaining;      /* bytes left in the current chunk */
	size_t line_bytes;       /* bytes of the current size/ext/trailer line */
	size_t trailer_bytes;    /* total trailer bytes so far */
	size_t trailer_lines;    /* trailer fields so far */
	/* Set by each hq_chunked_decode() call: the offset in its buf of the
	 * first byte of the trailer section it consumed (the section runs to
	 * the end of what it consumed), or (size_t)-1 if none. */
	size_t tr_from;
};
void hq_chunked_init(struct hq_chunked *c);
/*
 * Decodes from buf[0..len).  Returns bytes consumed (>= 0) or -1 on error
 * (*err set: HQ_ERR_BAD_CHUNK, HQ_ERR_BAD_CRLF, HQ_ERR_REQUEST_TOO_LONG,
 * HQ_ERR_FIELD_TOO_LONG: trailers have the head's limits).
 * At most one run of data is reported per call, in *data and *data_len, pointing
 * into buf; *done is set once the last chunk and its trailers are consumed.
 * Call again with the rest while it consumes something.
 */
ssize_t hq_chunked_decode(struct hq_chunked *c, const char *buf, size_t len,
    const char **data, size_t *data_len, bool *done,
    const struct hq_limits *lim, enum hq_error *err);
/*
 * Splits a trailer section the decoder accepted (the bytes from tr_from on,
 * up to its final empty line) into fields pointing into buf: fills
 * out[0..cap) and returns how many fields there are.
 */
size_t hq_http1_trailers(const char *buf, size_t len, struct hq_hdr *out, size_t cap);

/* ---------------------------------------------------------------------
 * urlprefix.c -- http.sys URL prefix syntax, and URL cooking.
 * ------------------------------------------------------------------- */
enum hq_host_class {
	HQ_HOST_STRONG,   /* + */
	HQ_HOST_EXPLICIT, /* a host name */
	HQ_HOST_IP,       /* an IPv4 or [IPv6] literal: bound to that local IP */
	HQ_HOST_WEAK,     /* * */
};

struct hq_prefix {
	bool https;
	uint16_t port;
	enum hq_host_class cls;
	char *host;       /* lower-cased name or IP text (IPv6 without brackets); "+"/"*" */
	int ip_family;    /* AF_INET/AF_INET6 for HQ_HOST_IP, else 0 */
	unsigned char ip[16];
	char *path;       /* lower-cased, decoded, starts and ends with '/' */
	size_t path_len;
	char *text;       /* canonical form: "http://+:8080/app/" */
};

/*
 * A prefix is at most HQ_PREFIX_MAX_LENGTH characters as written: far more
 * than any real one, and well under the 16 KiB default of
 * limits.max_url_length, so that every accepted prefix can be reached.
 * A host name (in a prefix or an SSL binding's hostnameport) is at most
 * HQ_HOST_NAME_MAX_LEN characters: DNS's 255 octets on the wire.
 */
#define HQ_PREFIX_MAX_LENGTH 2048
#define HQ_HOST_NAME_MAX_LEN 253
/* Parses text; on error returns -1 and writes a message such as
 * `port missing in "http://+/app/"` into err. */
int hq_prefix_parse(const char *text, struct hq_prefix *out, char *err, size_t errlen);
void hq_prefix_free(struct hq_prefix *p);
void hq_prefix_copy(struct hq_prefix *dst, const struct hq_prefix *src);

/*
 * Cooks the path of an origin-form target ("/a/%62/../c?x"): percent-decodes,
 * resolves "." and ".." (never above "/"), checks segment length and count.
 * Writes the path (no query) into out (outcap >= path length + 1 suffices)
 * and the raw query (without '?') into *query, pointing into raw.
 * Returns HQ_OK or HQ_ERR_BAD_URL.
 */
enum hq_error hq_url_cook(const char *raw, size_t rawlen, const struct hq_limits *lim,
    char *out, size_t outcap, size_t *outlen, struct hq_str *query);

/* ---------------------------------------------------------------------
 * cacherules.c -- what the response cache may answer and keep (http.sys's
 * kernel cache rules and RFC 9111), conditionals from an entry, its key.
 * ------------------------------------------------------------------- */
enum hq_cache_req { HQ_CREQ_NO, HQ_CREQ_GET, HQ_CREQ_HEAD };
/* Whether a parsed request may be answered from the cache (and, a GET,
 * fill it): GET or HEAD, no body, no Authorization, no Range or If-Range,
 * no If-Match or If-Unmodified-Since (those go to the module). */
enum hq_cache_req hq_cache_request(const struct hq_head *h);
/* The validators hq_cache_conditional_of reads: the first If-None-Match
 * and If-Modified-Since of a head (NULL: none), views into it. */
struct hq_cache_conds {
	const struct hq_str *inm, *ims;
};
/* hq_cache_request, and *cd from the same pass (a cache hit's). */
enum hq_cache_req hq_cache_request_conds(const struct hq_head *h,
    struct hq_cache_conds *cd);
/* What a cacheable response says about itself; views into its headers. */
struct hq_cache_resp {
	bool vary_ae;           /* Vary: Accept-Encoding (keyed on it) */
	bool has_server;        /* the module sent its own Server */
	struct hq_str etag;     /* ETag value, n 0 if none */
	int64_t last_modified;  /* Last-Modified, -1 if none or unparsable */
};
/* NULL if a module's response head may be kept, else why not: a status
 * other than 200, Set-Cookie, the module's own Date or Connection,
 * Cache-Control no-store, private or no-cache, a Vary other than
 * Accept-Encoding. */
const char *hq_cache_response(int status, const httpq_header *h, size_t n,
    struct hq_cache_resp *out);
/* Whether a field of a kept 200 goes into the 304 made from it (RFC 9110
 * 15.4.5: ETag, Last-Modified, Cache-Control, Expires, Vary,
 * Content-Location). */
bool hq_cache_304_field(const char *name, size_t n);
/* 304 or 200 for a request answered from an entry with this ETag and
 * Last-Modified: If-None-Match (weak comparison) first, else
 * If-Modified-Since. */
int hq_cache_conditional(const struct hq_head *h, struct hq_str etag,
    int64_t last_modified);
/* The same with the validators hq_cache_request_conds found. */
int hq_cache_conditional_of(const struct hq_cache_conds *cd, struct hq_str etag,
    int64_t last_modified);
/* httpdate.h: hq_http_date_parse (shared with the static module). */
/* The hash of a key: scheme, URL group (index in its snapshot), host
 * (case-insensitive), cooked path and raw query, under a seed the daemon
 * draws at random (not a keyed MAC: the cache also caps its chains). */
uint64_t hq_cache_hash(uint64_t seed, bool https, uint32_t group,
    struct hq_str host, struct hq_str path, struct hq_str query);
/* The URL an entry is shown and flushed by: "http://host:port/path?query",
 * scheme and host in lower case, the port always written. */
char *hq_cache_url(bool https, struct hq_str host, uint16_t port,
    struct hq_str path, struct hq_str query);
/* The same from a URL given to show cachestate or flush cache (default
 * port added, path cooked), or NULL if it is no http(s) URL. */
char *hq_cache_url_parse(const char *url);
/* Whether entry url is want (recursive: or below it, on whole segments). */
bool hq_cache_url_match(const char *url, const char *want, bool recursive);

/* ---------------------------------------------------------------------
 * router.c -- http.sys matching: strong, explicit host, IP-bound, weak;
 * longest whole-segment path within the first class that matches.
 * ------------------------------------------------------------------- */
struct hq_router;
struct hq_route {
	struct hq_prefix prefix;
	void *owner;
};
struct hq_router *hq_router_new(void);
void hq_router_free(struct hq_router *r);
/* Copies p.  Returns 0, or -1 if the same prefix is already registered in
 * the same class (then *conflict is the other owner). */
int hq_router_add(struct hq_router *r, const struct hq_prefix *p, void *owner, void **conflict);
/*
 * Finds the route for a request.  host is the Host value (may carry ":port",
 * may be a bracketed IPv6 literal); path is the cooked path.  On no match
 * returns NULL with *err HQ_ERR_BAD_HOST (no prefix on scheme+port accepts
 * the host) or HQ_ERR_NOT_FOUND (host accepted, no path prefix matches).
 */
const struct hq_route *hq_router_match(const struct hq_router *r, bool https,
    uint16_t port, const struct sockaddr *local, struct hq_str host,
    struct hq_str path, enum hq_error *err);
/* The route of exactly p (scheme, port, host class, host, path), or NULL. */
const struct hq_route *hq_router_find(const struct hq_router *r, const struct hq_prefix *p);
/*
 * Of two routers' answers to one request (each a route, or NULL with its
 * error), the one http.sys routes to as if the routers were one: the host
 * class checked first wins, then the longer path; a wins a tie (the same
 * prefix in both).  NULL if neither matched, with *err HQ_ERR_NOT_FOUND if
 * either router accepted the host, else HQ_ERR_BAD_HOST.
 */
const struct hq_route *hq_route_pick(const struct hq_route *a, enum hq_error ea,
    const struct hq_route *b, enum hq_error eb, enum hq_error *err);
size_t hq_router_count(const struct hq_router *r);
const struct hq_route *hq_router_at(const struct hq_router *r, size_t i);

/* ---------------------------------------------------------------------
 * store_*.c, store_yaml.c -- the setup store: httpq.yaml plus conf.d drop-ins.
 * Plain data with origins; nothing outside store_*.c reads YAML.
 * ------------------------------------------------------------------- */
struct hq_origin {
	const char *file; /* owned by the store (interned) */
	int line, col;    /* 1-based */
};

/*
 * Collected error messages, each "file:line:col: path: message".  Only the
 * first HQ_ERRORS_MAX are kept; after them msg[HQ_ERRORS_MAX] says "and N
 * more errors", so n is at most HQ_ERRORS_MAX + 1.  total counts every
 * error added: compare it, not n, to tell whether a step failed.
 */
#define HQ_ERRORS_MAX 100
struct hq_errors {
	char **msg;
	size_t n;     /* lines in msg */
	size_t total; /* errors added */
};
void hq_errors_add(struct hq_errors *e, const struct hq_origin *at,
    const char *path, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void hq_errors_print(const struct hq_errors *e, FILE *f);
void hq_errors_free(struct hq_errors *e);

enum hq_verbosity { HQ_503_BASIC, HQ_503_LIMITED, HQ_503_FULL };

struct hq_kv {
	char *key;   /* nested keys joined with '.' */
	char *value;
	struct hq_origin at;
};

struct hq_listen {
	char *text;                   /* as written: "127.0.0.1", "[::1]:8080" */
	struct sockaddr_storage addr; /* port 0 = every registered port */
	socklen_t addrlen;
	struct hq_origin at;
};

/* url_groups[].state (http.sys HttpServerStateProperty) */
enum hq_group_state { HQ_GROUP_ENABLED, HQ_GROUP_DISABLED };
#define HQ_MIN_BANDWIDTH 1024   /* bytes/s, http.sys's minimum */

/* url_group_states[]: a URL group's state set by httpqctl (its drop-in),
 * over the group's own state: key. */
struct hq_store_gstate {
	char *name;
	int state;                    /* enum hq_group_state */
	struct hq_origin at;
};

/* url_groups[].access_log */
enum hq_logformat { HQ_LOG_W3C, HQ_LOG_NCSA };
struct hq_store_alog {
	char *path;                   /* NULL = no access log */
	struct hq_origin at;
	enum hq_logformat format;
	char **fields;                /* W3C field names, validated */
	size_t nfields;               /* 0 = the default list */
};

struct hq_store_group {
	char *name;
	struct hq_origin at;
	struct hq_prefix *prefixes;   /* parsed and validated */
	struct hq_origin *prefix_at;
	size_t nprefixes;
	char *queue;                  /* NULL = bound to no queue (answers 503) */
	struct hq_origin queue_at;
	uint64_t max_body_bytes;
	struct hq_timeouts timeouts;  /* 0 = inherit from the global ones */
	struct hq_store_alog access_log;
	struct hq_store_gcache {      /* url_groups[].cache */
		bool enabled;
		uint64_t max_bytes;   /* 0 = only the global limit */
	} cache;
	char *request_id_header;      /* response header echoing the id; NULL = none */
	uint32_t max_connections;     /* 0 = unlimited; 503 ConnLimit beyond */
	uint32_t max_bandwidth;       /* bytes/s, 0 = unlimited (else >= 1024) */
	int state;                    /* enum hq_group_state, after url_group_states */
	char *trust_request_id;       /* request header whose id is taken; NULL = none */
};

struct hq_store_queue {
	char *name;
	struct hq_origin at;
	uint32_t length;
	enum hq_verbosity verbosity;
	char *module;                 /* name (looked up in module_path) or path */
	struct hq_origin module_at;
	struct hq_kv *options;
	size_t noptions;
	/* attach: processes open the queue over the queue socket
	 * (httpq-protocol(7)) instead of a module serving it */
	bool attach;                              /* `attach:` given (then module is NULL) */
	char *attach_user, *attach_group;         /* may open as worker; NULL = nobody but root */
	char *controller_user, *controller_group; /* may also add/remove URLs; NULL = root only */
	struct hq_origin attach_at;
};

/* A URL reservation (http.sys URL ACL): who may register URLs at or below
 * the prefix (listen) and reserve below it for others (delegate). */
struct hq_store_urlacl {
	struct hq_prefix prefix;
	char *user;                   /* name or numeric uid; NULL = none */
	char *group;                  /* name or numeric gid; NULL = none */
	bool listen;
	bool delegate;
	struct hq_origin at;          /* of the url */
};

enum hq_clientcert { HQ_CLIENTCERT_NONE, HQ_CLIENTCERT_REQUEST, HQ_CLIENTCERT_REQUIRE };

/* An SSL binding: a certificate for ip:port, or for hostname:port (SNI). */
struct hq_store_sslcert {
	bool by_host;                 /* hostnameport (SNI) rather than ipport */
	char *host;                   /* by_host: the lower-cased name */
	struct sockaddr_storage addr; /* !by_host: 0.0.0.0 or [::] = every address */
	socklen_t addrlen;
	uint16_t port;
	char *text;                   /* the binding as written: "0.0.0.0:443" */
	char *certfile, *keyfile, *chainfile, *cafile; /* chain, ca: NULL = none */
	enum hq_clientcert clientcert;
	struct hq_origin at;          /* of ipport or hostnameport */
	struct hq_origin certfile_at, keyfile_at, chainfile_at, cafile_at;
	/* while loading only: the two spellings of the binding */
	char *ipport, *hostnameport;
	char *ocsp_staple;            /* DER OCSP response to staple; NULL = none */
	struct hq_origin ocsp_staple_at;
	enum hq_min_protocol { HQ_TLS_MIN_12, HQ_TLS_MIN_13 } min_protocol;
	bool http2;                   /* h2 in ALPN, as written */
	bool alpn_h2;                 /* resolved: http2 and http2.enabled */
};

struct hq_store_control {
	char *socket;                 /* Unix socket path (httpqd -s overrides) */
	char *admin_group;            /* members may change things */
	char *read_group;             /* members may only show */
};

struct hq_store {
	char **files;                 /* every file read, in merge order */
	size_t nfiles;
	/* server: */
	uint32_t workers;             /* 0 = number of cores */
	char *module_path;
	bool server_header;
	uint32_t drain_timeout;       /* seconds */
	char *error_log;              /* NULL = daemon log */
	/* limits: and timeouts: */
	struct hq_limits limits;
	struct hq_timeouts timeouts;
	struct hq_listen *listens;
	size_t nlistens;
	struct hq_store_group *groups;
	size_t ngroups;
	struct hq_store_queue *queues;
	size_t nqueues;
	struct hq_store_control control;
	struct hq_store_urlacl *urlacls;
	size_t nurlacls;
	struct hq_store_sslcert *sslcerts;
	size_t nsslcerts;
	char *queue_socket;           /* queue_socket.path; NULL = default */
	struct hq_store_cache {       /* cache: the response cache */
		bool enabled;
		uint64_t max_bytes;
		uint32_t max_response_bytes;
		uint32_t scavenger_period; /* seconds */
	} cache;
	struct hq_store_gstate *gstates;
	size_t ngstates;
	uint32_t max_connections;     /* server.max_connections, 0 = unlimited */
	uint32_t defer_accept;        /* server.defer_accept, seconds or HQ_TIMEOUT_OFF */
	struct hq_store_http2 {       /* http2: */
		bool enabled;         /* h2 in ALPN on TLS bindings */
		bool cleartext;       /* h2c prior knowledge on http:// */
		uint32_t max_concurrent_streams;
		uint32_t max_header_list_size;
		uint32_t initial_window_size;
		uint32_t connection_window_size;
		uint32_t max_frame_size;
	} http2;
};

/*
 * Loads path and then every .yaml file in the conf.d folder beside it, in name
 * order.  Lists (iplisten, url_groups, queues) append; scalars set later
 * override.  Validates everything (types, ranges, unknown keys, prefix
 * syntax, duplicate prefixes and names, references between groups and
 * queues).  Returns the store, or NULL with every error in *errs.
 */
struct hq_store *hq_store_load(const char *path, struct hq_errors *errs);
/* The same from memory (name used in messages); no conf.d.  For tests/fuzz. */
struct hq_store *hq_store_load_string(const char *name, const char *yaml, size_t len,
    struct hq_errors *errs);
void hq_store_free(struct hq_store *s);
/*
 * hq_store_load, with the drop-in file `dropin` (a path in conf.d, as
 * hq_store_load would name it) read from text[0..len) instead of the disk,
 * whether the file exists or not; text NULL leaves it out.  httpqctl
 * validates a change with it before writing anything.
 */
struct hq_store *hq_store_load_override(const char *path, const char *dropin,
    const char *text, size_t len, struct hq_errors *errs);
/* The conf.d folder beside path (allocated). */
char *hq_store_dropin_dir(const char *path);
const char *hq_clientcert_name(enum hq_clientcert c);
const char *hq_verbosity_name(enum hq_verbosity v);
const char *hq_group_state_name(int state);
/* Prints the key table: key, type, default, meaning (httpqd --list-keys). */
void hq_store_list_keys(FILE *f);
/*
 * The key table, for code that names keys outside the store (httpqctl's
 * commands and drop-in writer, the control protocol, show timeout), so
 * that every key is declared once.  section is the key path of a mapping
 * or of a list of mappings, without "[]": "timeouts", "urlacls",
 * "sslcerts", "url_groups.access_log"; "" is the top level.
 */
struct hq_keyinfo {
	const char *name;
	bool required;    /* must appear in its mapping */
	bool selects;     /* names its entry (urlacls: url; sslcerts: ipport
	                   * or hostnameport), as delete and show take it */
	bool file;        /* a file name */
	bool boolean;     /* true or false (hq_parse_bool) */
	const char *const *words; /* its values, if one of a few words
	                   * (NULL-terminated), else NULL */
	bool scalar;      /* not a mapping or a list */
};
/* The i-th key of section: true and *ki filled, false past the last one
 * (or if section names no mapping). */
bool hq_store_key_at(const char *section, size_t i, struct hq_keyinfo *ki);
bool hq_store_key_find(const char *section, const char *name,
    struct hq_keyinfo *ki);
/*
 * Checks value for a key whose values are a few words (booleans,
 * enumerations) as the loader would; other values need the store and a
 * file to be checked and pass here.  Returns 0, or -1 with what the key
 * expects in expect ("none, request or require"); cli: booleans are
 * described as "yes or no", the words of netsh, else "true or false".
 */
int hq_store_key_check(const char *section, const char *name,
    const char *value, bool cli, char *expect, size_t len);
/* The i-th timeout of the table: its name, its value in t in *v and its
 * unit in *unit ("s", "bytes/s"); NULL past the last. */
const char *hq_timeout_at(const struct hq_timeouts *t, size_t i, uint32_t *v,
    const char **unit);
/* The one boolean: true, yes, on / false, no, off, in any case (YAML 1.1's
 * words).  Returns 0, or -1 for anything else. */
int hq_parse_bool(const char *s, bool *v);

/* ---------------------------------------------------------------------
 * tlsselect.c -- which SSL binding serves a handshake (http.sys rules).
 * ------------------------------------------------------------------- */
struct hq_tls_key {
	bool by_host;                        /* hostnameport, else ipport */
	const char *host;                    /* lower-case name (by_host) */
	const struct sockaddr_storage *addr; /* ipport address (not by_host) */
	uint16_t port;
};
/* The index of the binding for a handshake on local:port with the SNI name
 * sni[0..snilen) (snilen 0: none), or -1.  A hostnameport binding for the
 * name and port first, else the ipport binding of the local address, the
 * specific address before the wildcard of its family, then the other
 * family's wildcard. */
ssize_t hq_tls_select(const struct hq_tls_key *k, size_t n, const char *sni,
    size_t snilen, const struct sockaddr *local, uint16_t port);

/* ---------------------------------------------------------------------
 * accesslog.c -- access and error log lines: W3C extended (http.sys's
 * default, field names as in http.sys) and NCSA combined.  No allocation
 * and no printf per line; the date is formatted once a second.
 * ------------------------------------------------------------------- */
#define HQ_LOG_LINE_MAX     8192   /* longer lines are cut, '\n' kept */
#define HQ_LOG_URI_MAX      4096   /* URL bytes logged, as http.sys */
#define HQ_LOG_W3C_DEFAULT_FIELDS "date time c-ip cs-username s-ip s-port " \
	"cs-method cs-uri-stem cs-uri-query sc-status sc-bytes cs-bytes " \
	"time-taken cs-version cs-host cs(User-Agent) cs(Referer)"
#define HQ_LOG_HTTPERR_FIELDS "date time c-ip c-port s-ip s-port " \
	"cs-version cs-method cs-uri sc-status s-reason s-queuename s-request-id"

struct hq_logfield {
	int id;                 /* enum in accesslog.c */
	char *hdr;              /* cs(NAME): the header name */
	size_t hdrlen;
};

struct hq_logspec {
	enum hq_logformat format;
	struct hq_logfield *fields;  /* W3C only */
	size_t nfields;
	char *fields_line;           /* "#Fields: ...\n" (W3C), else NULL */
};

/* The date and time of a second, formatted once for every line in it. */
struct hq_logclock {
	time_t sec;
	char date[11], time[9];      /* 2026-11-25  17:01:02 */
	char clf[27];                /* 25/Nov/2026:17:01:02 +0000 */
};

/* What one line may say about one request; views, nothing owned. */
struct hq_logrec {
	const struct hq_logclock *clk;
	const struct sockaddr *client, *server;
	struct hq_str method, target, host, query;
	int version;                 /* 10, 11, 0 = unknown */
	int status;                  /* 0 = none */
	uint64_t bytes_sent;         /* head and body */
	uint64_t body_sent;          /* entity body only (NCSA %b) */
	uint64_t bytes_recv;
	uint64_t time_taken_ms;
	const char *site;            /* URL group name */
	const char *queue;
	const char *reason;          /* HTTPERR reason */
	uint64_t request_id;         /* 0 = none (the head was never framed) */
	struct hq_str request_id_text; /* a trusted foreign id, else n = 0 */
	const struct hq_hdr *headers;
	size_t nheaders;
};

/* Is NAME a W3C field we know ("cs(X-Anything)" included)? */
bool hq_logfield_valid(const char *name);
/* Builds a spec; names NULL = the default list.  -1 on an unknown name. */
int hq_logspec_init(struct hq_logspec *sp, enum hq_logformat f,
    char *const *names, size_t n);
int hq_logspec_parse(struct hq_logspec *sp, enum hq_logformat f, const char *list);
void hq_logspec_free(struct hq_logspec *sp);
void hq_logclock_set(struct hq_logclock *clk, time_t sec);
/* Formats one line, '\n' included, into out (HQ_LOG_LINE_MAX bytes);
 * returns its length. */
size_t hq_logline(const struct hq_logspec *sp, const struct hq_logrec *rec, char *out);
/* The W3C directives written at the top of a file when it is opened. */
size_t hq_logheader(const struct hq_logspec *sp, time_t now, char *out, size_t cap);

/* ---------------------------------------------------------------------
 * store_write.c -- replace a store file atomically: hidden temporary file
 * in the same folder (created if missing), fsync, rename, folder fsync.
 * ------------------------------------------------------------------- */
int hq_store_write(const char *path, const char *text, size_t len, char *err,
    size_t errlen);
/* The two halves of hq_store_write; a crash between them leaves the old
 * file whole.  write_temp returns the temporary file's name. */
char *hq_store_write_temp(const char *path, const char *text, size_t len,
    char *err, size_t errlen);
int hq_store_write_commit(const char *tmp, const char *path, char *err,
    size_t errlen);
/*
 * One flat entry of httpqctl's drop-in (an urlacl, an SSL binding, the
 * timeouts): keys in the order first set, as many as the entry has (a fixed
 * array of 8 silently dropped the ninth).  Zero-initialise; set copies.
 */
struct hq_kvlist {
	char **k, **v;
	size_t n, cap;
};
/* Sets k to v, replacing an earlier value of k or appending. */
void hq_kvlist_set(struct hq_kvlist *m, const char *k, const char *v);
/* The value of k, or NULL. */
const char *hq_kvlist_get(const struct hq_kvlist *m, const char *k);
/* Frees the keys and values; m is empty (and reusable) after. */
void hq_kvlist_free(struct hq_kvlist *m);

/* store_load.c: a URL group or queue name: 1 or more of A-Z a-z 0-9 _ . - */
bool hq_name_valid(const char *s);

/* ---------------------------------------------------------------------
 * urlacl.c -- URL reservations: the http.sys access check.
 * ------------------------------------------------------------------- */
/* May uid (with groups gids, its primary group included) open queue q
 * with role (HQ_QP_ROLE_* bits, at least one, no other)?  Only an attach
 * queue can be opened; root always may.  The worker role takes
 * attach.user or attach.group, or a controller_* entry (a controller may
 * also work); the controller role takes controller_user or
 * controller_group. */
bool hq_store_queue_allows(const struct hq_store_queue *q, uid_t uid, const gid_t *gids,
    size_t ngids, unsigned role);
/* The reservation deciding for p: same scheme, host class, host and port,
 * longest path at or above p's (strictly above with strict); NULL if none. */
const struct hq_store_urlacl *hq_urlacl_find(const struct hq_store *s,
    const struct hq_prefix *p, bool strict);
/* Does the reservation name this user, or one of these groups? */
bool hq_urlacl_names(const struct hq_store_urlacl *a, uid_t uid, const gid_t *gids,
    size_t ngids);
/* May uid (with groups gids) register p, or with want_delegate reserve p
 * for others?  Deny by default; root always may. */
bool hq_urlacl_allows(const struct hq_store *s, const struct hq_prefix *p, uid_t uid,
    const gid_t *gids, size_t ngids, bool want_delegate);
/* Why uid (user name, or NULL) may not register p, which hq_urlacl_allows
 * refused: the missing reservation, or the deciding one and what it lacks,
 * with the `httpqctl add urlacl` that would allow it. */
void hq_urlacl_refusal(const struct hq_store *s, const struct hq_prefix *p, uid_t uid,
    const char *name, const gid_t *gids, size_t ngids, char *buf, size_t len);

/* ---------------------------------------------------------------------
 * ctlproto.c -- the control protocol of httpqd and httpqctl.
 * ------------------------------------------------------------------- */
#define HQ_CTL_INVALID 1   /* status codes: refused or invalid */
#define HQ_CTL_USAGE   2   /* malformed command */
#define HQ_CTL_MAX_KV  12

enum hq_ctl_cmd_id {
	HQ_CTL_SHOW_SERVICESTATE, HQ_CTL_SHOW_URLACL, HQ_CTL_SHOW_SSLCERT,
	HQ_CTL_SHOW_IPLISTEN, HQ_CTL_SHOW_TIMEOUT, HQ_CTL_SHOW_QUEUE,
	HQ_CTL_SHOW_ROUTE, HQ_CTL_ADD_URLACL, HQ_CTL_DELETE_URLACL,
	HQ_CTL_ADD_SSLCERT, HQ_CTL_DELETE_SSLCERT, HQ_CTL_ADD_IPLISTEN,
	HQ_CTL_DELETE_IPLISTEN, HQ_CTL_SET_TIMEOUT, HQ_CTL_RELOAD,
	HQ_CTL_FLUSH_LOGBUFFER, HQ_CTL_SHOW_STORE, HQ_CTL_SHOW_CACHESTATE,
	HQ_CTL_FLUSH_CACHE, HQ_CTL_SHOW_STATS, HQ_CTL_SET_URLGROUP,
	HQ_CTL__COUNT                 /* not a command: how many there are */
};

struct hq_ctl_cmd {
	enum hq_ctl_cmd_id id;
	char *arg;                    /* show queue NAME, show route URL */
	struct { char *key, *value; } kv[HQ_CTL_MAX_KV];
	size_t nkv;
	bool json;                    /* --json */
	bool admin;                   /* changes something */
};
/*
 * Parses one command line (its newline optional).  Returns 0, or
 * HQ_CTL_USAGE / HQ_CTL_INVALID with a message naming the bad word or key
 * in err.  _words: the same from already split words (httpqctl's argv).
 */
int hq_ctl_parse(const char *line, size_t len, struct hq_ctl_cmd *cmd, char *err,
    size_t errlen);
int hq_ctl_parse_words(char *const *words, size_t n, struct hq_ctl_cmd *cmd,
    char *err, size_t errlen);
void hq_ctl_cmd_free(struct hq_ctl_cmd *cmd);
const char *hq_ctl_get(const struct hq_ctl_cmd *cmd, const char *key);
/* words joined into a line that hq_ctl_parse reads back the same. */
char *hq_ctl_join(char **words, size_t n);
char *hq_ctl_status(int code, const char *msg);
int hq_ctl_is_status(const char *line, const char **msg);
/* Text output: every string from a store, a file or a certificate is
 * printed escaped (control characters as \n, \r, \t, \xNN; the backslash
 * as \\), through these and only these. */
void hq_ctl_put_text(FILE *f, const char *s);
char *hq_ctl_text(const char *s);
char *hq_ctl_unescape(const char *s);
void hq_ctl_text_line(FILE *f, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void hq_ctl_text_field(FILE *f, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Framing of data lines: httpqd sends hq_ctl_frame(data), the client
 * prints hq_ctl_unframe(line) of each line that is not the status. */
char *hq_ctl_frame(const char *data, size_t len, size_t *outlen);
const char *hq_ctl_unframe(const char *line);

/* ---------------------------------------------------------------------
 * qproto.c -- the queue protocol's frames (httpq-protocol(7)): the codec
 * that httpqd and libhttpq share.  Pure: no I/O, no event loop.
 * ------------------------------------------------------------------- */
#define HQ_QP_VERSION           1
#define HQ_QP_HEADER_LEN        16
#define HQ_QP_MAX_PAYLOAD       (1u << 20)      /* bytes after the header */
#define HQ_QP_BODY_WINDOW       (256u * 1024)   /* unacknowledged request body bytes */
#define HQ_QP_SEND_WINDOW       (256u * 1024)   /* initial response send credit */
#define HQ_QP_FILE_COST         4096            /* a RESPONSE_FILE's send-window cost */
#define HQ_QP_MAX_CREDIT        65535           /* outstanding RECEIVE count per handle */
#define HQ_QP_ATTR_HEADER_LEN   6               /* u16 tag, u32 length */
#define HQ_RT_QUEUES_PER_UID    64              /* run-time queues one uid may create */
#define HQ_DEFAULT_QUEUE_SOCKET "/run/httpq/queue.sock"

enum hq_qp_type {
	HQ_QP_HELLO = 1, HQ_QP_RESULT, HQ_QP_CREATE_QUEUE, HQ_QP_OPEN_QUEUE, HQ_QP_ADD_URL,
	HQ_QP_REMOVE_URL, HQ_QP_RECEIVE, HQ_QP_REQUEST, HQ_QP_BODY, HQ_QP_BODY_CREDIT,
	HQ_QP_TRAILERS, HQ_QP_RESPONSE, HQ_QP_RESPONSE_BODY, HQ_QP_RESPONSE_FILE,
	HQ_QP_SEND_CREDIT, HQ_QP_CANCEL, HQ_QP_DISCONNECT, HQ_QP_SHUTDOWN, HQ_QP_ERROR,
	HQ_QP__COUNT
};

enum hq_qp_attr {
	HQ_QA_VERSION = 1, HQ_QA_NAME, HQ_QA_MAX_PAYLOAD, HQ_QA_BODY_WINDOW,
	HQ_QA_SEND_WINDOW, HQ_QA_STATUS, HQ_QA_MESSAGE, HQ_QA_QUEUE,
	HQ_QA_LENGTH, HQ_QA_ROLE, HQ_QA_URL, HQ_QA_COUNT,
	HQ_QA_METHOD, HQ_QA_RAW_URL, HQ_QA_COOKED_URL, HQ_QA_PATH,
	HQ_QA_QUERY, HQ_QA_HOST, HQ_QA_HEADER, HQ_QA_REMOTE_ADDR,
	HQ_QA_LOCAL_ADDR, HQ_QA_URL_PREFIX, HQ_QA_URL_GROUP, HQ_QA_CONNECTION_ID,
	HQ_QA_CONTENT_LENGTH, HQ_QA_TLS_PROTOCOL, HQ_QA_TLS_CIPHER, HQ_QA_TLS_SNI,
	HQ_QA_TLS_CLIENT_SUBJECT, HQ_QA_TLS_CLIENT_FINGERPRINT, HQ_QA_TLS_CLIENT_VERIFIED,
	HQ_QA_BYTES, HQ_QA_REASON, HQ_QA_OFFSET, HQ_QA_LENGTH64 = 35,
	HQ_QA__COUNT
};

enum hq_qp_status {
	HQ_QS_OK = 0, HQ_QS_PROTOCOL, HQ_QS_ACCESS_DENIED, HQ_QS_ALREADY_EXISTS,
	HQ_QS_NOT_FOUND, HQ_QS_INVALID, HQ_QS_LIMIT, HQ_QS_SHUTTING_DOWN, HQ_QS__COUNT
};

#define HQ_QF_END        1u   /* BODY, RESPONSE, RESPONSE_BODY, RESPONSE_FILE */
#define HQ_QF_DISCONNECT 2u   /* RESPONSE, RESPONSE_BODY, RESPONSE_FILE */
#define HQ_QF_HAS_BODY   1u   /* REQUEST */
#define HQ_QF_TLS        2u   /* REQUEST */
#define HQ_QP_ROLE_WORKER     1u
#define HQ_QP_ROLE_CONTROLLER 2u

/* Who sends a frame type (hq_qp_dir): the client, the daemon, or both. */
#define HQ_QP_DIR_C 1u
#define HQ_QP_DIR_D 2u

/* One parsed frame; payload points into the caller's buffer. */
struct hq_qp_frame {
	uint16_t type, flags;
	uint64_t id;
	const unsigned char *payload;
	uint32_t len;
};
/*
 * One frame from buf[0..len).  Returns the bytes it takes (> 0), 0 when
 * more bytes are needed, -1 when malformed, with err set ("frame type 77
 * unknown", "payload 2000000 bytes over 1048576", "flags 0x4 not defined
 * for BODY").  The header is checked as soon as its 16 bytes are there,
 * before the payload arrives.  Checks framing only (length, type, flag
 * bits): ids, direction and attributes are the caller's.
 */
ssize_t hq_qp_parse(const void *buf, size_t len, struct hq_qp_frame *f, char *err,
    size_t errlen);
/* The flag bits defined for a frame type (0 for an unknown one). */
uint16_t hq_qp_flags_defined(uint16_t type);
/* HQ_QP_DIR_C and/or HQ_QP_DIR_D; 0 for an unknown type. */
unsigned hq_qp_dir(uint16_t type);

/* The attributes of a frame, in order. */
struct hq_qp_iter {
	const unsigned char *p, *end;
};
void hq_qp_iter_init(struct hq_qp_iter *it, const struct hq_qp_frame *f);
/* 1 = *tag, *val, *vlen set; 0 = end; -1 = truncated attribute (then the
 * iterator stays at the end). */
int hq_qp_next(struct hq_qp_iter *it, uint16_t *tag, const unsigned char **val,
    uint32_t *vlen);
/* Values: 0, or -1 if n is not 4 (u32) / 8 (u64, i64). */
int hq_qp_get_u32(const unsigned char *v, uint32_t n, uint32_t *out);
int hq_qp_get_u64(const unsigned char *v, uint32_t n, uint64_t *out);
int hq_qp_get_i64(const unsigned char *v, uint32_t n, int64_t *out);
/* A string attribute as a view: 0, or -1 if it holds a NUL byte (the
 * protocol forbids them; a receiver treats it as a protocol error). */
int hq_qp_get_str(const unsigned char *v, uint32_t n, struct hq_str *out);
/* The same, copied and NUL-terminated (allocated); NULL if it holds a NUL. */
char *hq_qp_strdup(const unsigned char *v, uint32_t n);
/* A HEADER value "name:value" split at the first ':'.  -1 if there is no
 * ':', the name is empty or not an RFC 9110 token, or a NUL is in it.
 * The value is returned without surrounding blanks. */
int hq_qp_split_header(const unsigned char *v, uint32_t n, struct hq_str *name,
    struct hq_str *value);

/*
 * Builder: frames appended to a growable byte buffer (xrealloc: out of
 * memory aborts).  hq_qp_begin writes a header, hq_qp_put* append
 * attributes (or raw bytes), hq_qp_end writes the payload length.  start
 * is where the frame being built begins.  A zeroed struct is an empty
 * buffer.  Whole frames are what a sender writes: p[0..len) after _end.
 */
struct hq_qp_buf {
	unsigned char *p;
	size_t len, cap;
	size_t start;
};
void hq_qp_begin(struct hq_qp_buf *b, uint16_t type, uint16_t flags, uint64_t id);
void hq_qp_put(struct hq_qp_buf *b, uint16_t tag, const void *v, size_t n);
/* strlen(s) bytes; s NULL puts nothing (optional attributes). */
void hq_qp_put_str(struct hq_qp_buf *b, uint16_t tag, const char *s);
void hq_qp_put_u32(struct hq_qp_buf *b, uint16_t tag, uint32_t v);
void hq_qp_put_u64(struct hq_qp_buf *b, uint16_t tag, uint64_t v);
void hq_qp_put_i64(struct hq_qp_buf *b, uint16_t tag, int64_t v);
/* A HEADER attribute "name:value". */
void hq_qp_put_header(struct hq_qp_buf *b, const char *name, size_t nlen, const char *val,
    size_t vlen);
/* Raw payload bytes (BODY, RESPONSE_BODY). */
void hq_qp_put_raw(struct hq_qp_buf *b, const void *v, size_t n);
/* Writes the frame's length.  0, or -1 if the payload is over
 * HQ_QP_MAX_PAYLOAD: then the frame is dropped (len back to start). */
int hq_qp_end(struct hq_qp_buf *b);
/* Removes the first n bytes (after a partial write). */
void hq_qp_buf_consume(struct hq_qp_buf *b, size_t n);
void hq_qp_buf_free(struct hq_qp_buf *b);
/* Names for messages and logs: "BODY", "ACCESS_DENIED", "COOKED_URL";
 * NULL for an unknown number. */
const char *hq_qp_type_name(uint16_t type);
const char *hq_qp_status_name(uint32_t status);
const char *hq_qp_attr_name(uint16_t tag);

/* ---------------------------------------------------------------------
 * log.c -- daemon messages with <N> priority prefixes (journald reads them).
 * ------------------------------------------------------------------- */
void hq_log_init(bool foreground);
void hq_log(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void hq_vlog(int prio, const char *fmt, va_list ap);
void hq_fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
/* A message about a queue or URL group: under journald the names go in
 * HTTPQ_QUEUE= and HTTPQ_URL_GROUP= fields (either may be NULL). */
void hq_log_about(int prio, const char *queue, const char *group, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* A structured sink replacing stderr (sd.c, under journald); it returns -1
 * when the message could not be sent, and stderr gets it. */
typedef int (*hq_log_sink)(int prio, const char *msg, const char *queue, const char *group);
void hq_log_set_sink(hq_log_sink sink);
/* Says "last message repeated N times" when a window has passed; the main
 * loop calls it every few seconds. */
void hq_log_tick(void);

/* Repeated identical messages within HQ_LOG_REPEAT_WINDOW_MS become one line
 * and then "last message repeated N times". */
#define HQ_LOG_REPEAT_WINDOW_MS 5000
struct hq_ratelimit {
	uint64_t hash;
	uint64_t first_ms;       /* when the last printed line went out */
	unsigned repeats;        /* suppressed since */
	int prio;
	bool any;
};
/*
 * Decides about a message at now_ms.  Returns true when it is to be
 * printed; *flushed is then set to the number of earlier repeats to
 * report first (0 = none).  Without text (NULL) only reports repeats
 * whose window is over.
 */
bool hq_ratelimit(struct hq_ratelimit *rl, const char *text, uint64_t now_ms,
    unsigned *flushed);

/* ---------------------------------------------------------------------
 * queue.c -- request queues: length limit, 503 verbosity, counters.
 * Shared by all worker threads, so every field is atomic; a queue lives
 * across reloads (found again by name) so that its counters and its
 * in-flight requests carry over.
 * ------------------------------------------------------------------- */
struct hq_queue;
struct hq_queue_stats {
	uint64_t arrived;    /* requests routed to the queue */
	uint64_t completed;  /* admitted requests whose module finished */
	uint64_t rejected;   /* 503s answered for this queue */
	uint32_t current;    /* admitted and not yet completed */
	uint32_t peak;       /* highest current seen */
	uint32_t limit;
	enum hq_verbosity verbosity;
};
struct hq_queue *hq_queue_new(const char *name, uint32_t limit, enum hq_verbosity v);
void hq_queue_ref(struct hq_queue *q);
void hq_queue_unref(struct hq_queue *q);
const char *hq_queue_name(const struct hq_queue *q);
void hq_queue_configure(struct hq_queue *q, uint32_t limit, enum hq_verbosity v);
enum hq_verbosity hq_queue_verbosity(const struct hq_queue *q);
/* Counts an arrival and admits it: HQ_OK, or HQ_ERR_QUEUE_FULL (counted
 * as rejected). */
enum hq_error hq_queue_admit(struct hq_queue *q);
/* Counts a 503 given for another reason (no consumer, shutting down). */
void hq_queue_reject(struct hq_queue *q);
void hq_queue_complete(struct hq_queue *q);
/* An admitted request answered 503 after all: current--, rejected++. */
void hq_queue_complete_rejected(struct hq_queue *q);
void hq_queue_stats(const struct hq_queue *q, struct hq_queue_stats *st);

/* ---------------------------------------------------------------------
 * module.c -- loading handler modules: open, ABI check, validate(), init().
 * No event loop: httpqctl -t validates with it too.
 * ------------------------------------------------------------------- */
struct httpq_ctx {
	const struct httpq_module *mod;
	void *dl;
	char *path;            /* the file actually loaded */
	char *queue_name;
	const struct hq_store_queue *sq; /* owned by the store */
	size_t qindex;         /* sq's index, for key paths: queues[N] */
	const struct hq_kv *options;
	size_t noptions;
	/* httpq_module fields newer than ABI 1.0, NULL when the module's
	 * minor or .size says it has none */
	int (*validate)(const struct httpq_api *, httpq_ctx *, httpq_validation *);
	void *state;
	bool inited;
};
/* Finds, dlopens and ABI-checks the module for queue qindex of the store,
 * then runs its validate() with api; every error goes to errs with the
 * origin and key path.  NULL on any error.  Does not call init(). */
struct httpq_ctx *hq_module_load(const char *name, const char *module_path,
    const struct hq_store_queue *sq, size_t qindex,
    const struct httpq_api *api, struct hq_errors *errs);
/* Modules built into httpqd, by name; a queue's `module: metrics` finds
 * one before module_path is searched.  httpqd registers each at start
 * (main thread, before any store is loaded). */
#define HQ_BUILTIN_NAMES "metrics"
void hq_module_register_builtin(const struct httpq_module *m);
/* A module compiled into the daemon (attached processes' consumer): a
 * context without a file; sq NULL for a run-time queue. */
struct httpq_ctx *hq_module_builtin(const struct httpq_module *m, const char *queue_name,
    const struct hq_store_queue *sq, size_t qindex);
/* Calls the module's init(): 0, or -1 with an error in errs. */
int hq_module_init(struct httpq_ctx *ctx, const struct httpq_api *api,
    struct hq_errors *errs);
/* fini() if init() succeeded, then dlclose. */
void hq_module_unload(struct httpq_ctx *ctx);
/* The instance part of every API table. */
const char *hq_api_option(httpq_ctx *ctx, const char *key);
void hq_api_log(httpq_ctx *ctx, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
const char *hq_api_queue_name(httpq_ctx *ctx);
void hq_api_report(httpq_validation *v, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The table for validate() outside the daemon (httpqctl -t): the instance
 * functions and report() only; the request functions are NULL. */
extern const struct httpq_api hq_api_offline;

#endif /* HTTPQ_INTERNAL_H */
