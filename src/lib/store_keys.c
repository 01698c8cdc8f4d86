/*
 * store_keys.c -- the key table of the setup store.
 *
 * Every key is declared once, in the tables below.  The loader dispatches
 * through them, defaults are applied from them, `httpqd --list-keys` prints
 * them, error messages describe what a key expects from them, and
 * httpqctl and the control protocol look their keys and values up in them
 * (hq_store_key_*), so none of these can disagree.  The man page section
 * mirrors the list-keys output (test_store.c checks it).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "store_priv.h"

/* ---------------------------------------------------------------------
 * The key table
 * ------------------------------------------------------------------- */

static const char *const group_state_names[] = {
	[HQ_GROUP_ENABLED] = "enabled", [HQ_GROUP_DISABLED] = "disabled", NULL
};

static const char *const logformat_names[] = {
	[HQ_LOG_W3C] = "w3c", [HQ_LOG_NCSA] = "ncsa", NULL
};

#define TO(f) offsetof(struct hq_timeouts, f)
static const struct key timeout_keys[] = {
	{ .name = "header_wait", .type = K_OFF_UINT, .off = TO(header_wait),
	  .min = 1, .max = 65535, .dnum = HQ_DEFAULT_TIMEOUT_S, .unit = "s",
	  .meaning = "seconds to receive the request line and headers" },
	{ .name = "idle_connection", .type = K_OFF_UINT,
	  .off = TO(idle_connection), .min = 1, .max = 65535,
	  .dnum = HQ_DEFAULT_TIMEOUT_S, .unit = "s",
	  .meaning = "seconds a keep-alive connection may stay idle" },
	{ .name = "entity_body", .type = K_OFF_UINT, .off = TO(entity_body),
	  .min = 1, .max = 65535, .dnum = HQ_DEFAULT_TIMEOUT_S, .unit = "s",
	  .meaning = "seconds for the request entity body to arrive" },
	{ .name = "drain_entity_body", .type = K_OFF_UINT,
	  .off = TO(drain_entity_body), .min = 1, .max = 65535,
	  .dnum = HQ_DEFAULT_TIMEOUT_S, .unit = "s",
	  .meaning = "seconds to drain a body the module did not read, "
	      "to keep the connection" },
	{ .name = "request_queue", .type = K_OFF_UINT,
	  .off = TO(request_queue), .min = 1, .max = 65535,
	  .dnum = HQ_DEFAULT_TIMEOUT_S, .unit = "s",
	  .meaning = "seconds a request may wait in its queue for a consumer" },
	{ .name = "min_send_rate", .type = K_OFF_UINT,
	  .off = TO(min_send_rate), .min = 1, .max = 4294967294u,
	  .dnum = HQ_DEFAULT_MIN_SEND_RATE_BPS, .unit = "bytes/s",
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
	{ .name = "max_connections", .type = K_UINT, .off = SV(max_connections),
	  .min = 0, .max = 4294967294u, .dnum = 0, .show = "0 (unlimited)",
	  .meaning = "connections open at once, 0 = unlimited; past it a "
	      "request is answered 503 (ConnLimit) and the connection closed" },
	{ .name = "defer_accept", .type = K_OFF_UINT, .off = SV(defer_accept),
	  .min = 1, .max = HQ_DEFER_ACCEPT_MAX_S, .dnum = HQ_DEFAULT_DEFER_ACCEPT_S,
	  .meaning = "seconds the kernel holds a new TCP connection until its "
	      "first bytes arrive (TCP_DEFER_ACCEPT), off = hand it over at once" },
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
	{ .name = "fields", .type = K_LIST, .min = 1, .list = KL_LOGFIELDS,
	  .what = "list of W3C fields", .show = "see httpq.yaml(5)",
	  .meaning = "W3C fields, http.sys names: date time c-ip cs-method "
	      "cs-uri-stem sc-status time-taken cs(User-Agent) ..." },
	{ .name = NULL }
};
#undef AL

#define GC(f) (offsetof(struct hq_store_group, cache) + \
	offsetof(struct hq_store_gcache, f))
static const struct key group_cache_keys[] = {
	{ .name = "enabled", .type = K_BOOL, .off = GC(enabled), .dnum = true,
	  .meaning = "responses of the group's modules may be cached "
	      "(the module asks, per response)" },
	{ .name = "max_bytes", .type = K_SIZE64, .off = GC(max_bytes),
	  .min = 0, .max = UINT64_MAX, .dnum = 0,
	  .meaning = "bytes of cached responses the group may hold, "
	      "0 = only cache.max_bytes" },
	{ .name = NULL }
};
#undef GC

/*
 * A group's or queue's origin (at) is where its name is written, so that
 * "first defined at FILE:LINE" points at the line people look for; it is
 * the start of the entry's mapping until the name is read.
 */
#define GR(f) offsetof(struct hq_store_group, f)
const struct key hq_st_group_keys[] = {
	{ .name = "name", .type = K_NAME, .flags = K_REQUIRED | K_AT,
	  .off = GR(name), .at_off = GR(at),
	  .meaning = "unique name of the URL group" },
	{ .name = "prefixes", .type = K_LIST, .flags = K_REQUIRED, .min = 1,
	  .list = KL_PREFIXES, .what = "list of URL prefixes",
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
	{ .name = "cache", .type = K_MAP, .sub = group_cache_keys,
	  .meaning = "the response cache, per URL group" },
	{ .name = "max_connections", .type = K_UINT, .off = GR(max_connections),
	  .min = 0, .max = 4294967294u, .dnum = 0, .show = "0 (unlimited)",
	  .meaning = "connections whose requests go to the group, 0 = "
	      "unlimited; past it 503 (ConnLimit)" },
	{ .name = "max_bandwidth", .type = K_SIZE, .off = GR(max_bandwidth),
	  .min = HQ_MIN_BANDWIDTH, .max = 4294967294u, .dnum = 0,
	  .show = "unlimited",
	  .meaning = "bytes per second shared by the group's responses "
	      "(at least 1024)" },
	{ .name = "state", .type = K_ENUM, .off = GR(state),
	  .names = group_state_names, .dnum = HQ_GROUP_ENABLED,
	  .meaning = "enabled, or disabled: 503 (Disabled) without touching "
	      "its queue; httpqctl set urlgroup overrides it" },
	{ .name = "request_id_header", .type = K_NAME, .flags = K_NULLABLE,
	  .off = GR(request_id_header), .show = "-",
	  .meaning = "response header carrying the request id, e.g. "
	      "X-Request-Id; unset = none" },
	{ .name = "trust_request_id", .type = K_NAME, .flags = K_NULLABLE,
	  .off = GR(trust_request_id), .show = "-",
	  .meaning = "request header whose id (from a front proxy) is logged "
	      "and echoed instead of the daemon's; unset = none" },
	{ .name = NULL }
};
#undef GR

#define QU(f) offsetof(struct hq_store_queue, f)
static const struct key attach_keys[] = {
	{ .name = "user", .type = K_STRING, .off = QU(attach_user), .show = "-",
	  .meaning = "user (name or uid) who may open the queue as a worker" },
	{ .name = "group", .type = K_STRING, .off = QU(attach_group), .show = "-",
	  .meaning = "group (name or gid) whose members may open it as "
	      "workers" },
	{ .name = "controller_user", .type = K_STRING,
	  .off = QU(controller_user), .show = "-",
	  .meaning = "user who may also add and remove the queue's URLs" },
	{ .name = "controller_group", .type = K_STRING,
	  .off = QU(controller_group), .show = "-",
	  .meaning = "group whose members may also add and remove its URLs" },
	{ .name = NULL }
};

const struct key hq_st_queue_keys[] = {
	{ .name = "name", .type = K_NAME, .flags = K_REQUIRED | K_AT,
	  .off = QU(name), .at_off = QU(at),
	  .meaning = "unique name of the request queue" },
	{ .name = "module", .type = K_STRING, .flags = K_ONE_OF | K_AT,
	  .off = QU(module), .at_off = QU(module_at), .show = "-",
	  .meaning = "handler module: a name in module_path, or a path; "
	      "module or attach" },
	{ .name = "attach", .type = K_MAP, .flags = K_ONE_OF | K_AT,
	  .at_off = QU(attach_at),
	  .sub = attach_keys,
	  .meaning = "processes attach to the queue (httpq-protocol(7)); "
	      "empty = root only" },
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

static const struct key queue_socket_keys[] = {
	{ .name = "path", .type = K_STRING,
	  .off = offsetof(struct hq_store, queue_socket),
	  .dstr = HQ_DEFAULT_QUEUE_SOCKET,
	  .meaning = "Unix socket processes attach to queues through "
	      "(mode 0666)" },
	{ .name = NULL }
};
#define CA(f) (offsetof(struct hq_store, cache) + offsetof(struct hq_store_cache, f))
static const struct key cache_keys[] = {
	{ .name = "enabled", .type = K_BOOL, .off = CA(enabled), .dnum = true,
	  .meaning = "the response cache is on (http.sys UriEnableCache)" },
	{ .name = "max_bytes", .type = K_SIZE64, .off = CA(max_bytes),
	  .min = 0, .max = UINT64_MAX, .dnum = HQ_DEFAULT_CACHE_MAX_BYTES,
	  .meaning = "bytes all cached responses may take; the least "
	      "recently used go first" },
	{ .name = "max_response_bytes", .type = K_SIZE,
	  .off = CA(max_response_bytes), .min = 4096, .max = 16777216,
	  .dnum = HQ_DEFAULT_CACHE_MAX_RESPONSE,
	  .meaning = "largest response kept, head and body "
	      "(http.sys UriMaxUriBytes)" },
	{ .name = "scavenger_period", .type = K_UINT,
	  .off = CA(scavenger_period), .min = 1, .max = 86400,
	  .dnum = HQ_DEFAULT_CACHE_SCAVENGER_S,
	  .meaning = "seconds an entry may stay unused before it is evicted "
	      "(http.sys UriScavengerPeriod)" },
	{ .name = NULL }
};
#undef CA

#define H2(f) (offsetof(struct hq_store, http2) + offsetof(struct hq_store_http2, f))
static const struct key http2_keys[] = {
	{ .name = "enabled", .type = K_BOOL, .off = H2(enabled), .dnum = true,
	  .meaning = "offer h2 in ALPN on TLS bindings (per binding: "
	      "sslcerts[].http2)" },
	{ .name = "cleartext", .type = K_BOOL, .off = H2(cleartext), .dnum = false,
	  .meaning = "accept h2c with prior knowledge on http:// listeners" },
	{ .name = "max_concurrent_streams", .type = K_UINT,
	  .off = H2(max_concurrent_streams), .min = 1, .max = 2147483647,
	  .dnum = HQ_DEFAULT_H2_MAX_STREAMS,
	  .meaning = "streams a client may open at once "
	      "(SETTINGS_MAX_CONCURRENT_STREAMS); REFUSED_STREAM beyond" },
	{ .name = "max_header_list_size", .type = K_SIZE,
	  .off = H2(max_header_list_size), .min = 1024, .max = 16777216,
	  .dnum = HQ_DEFAULT_H2_MAX_HEADER_LIST,
	  .meaning = "decoded header list of a request "
	      "(SETTINGS_MAX_HEADER_LIST_SIZE); 431 beyond" },
	{ .name = "initial_window_size", .type = K_SIZE,
	  .off = H2(initial_window_size), .min = 1024, .max = 16777215,
	  .dnum = HQ_DEFAULT_H2_WINDOW,
	  .meaning = "request body bytes a stream may send ahead "
	      "(SETTINGS_INITIAL_WINDOW_SIZE)" },
	{ .name = "connection_window_size", .type = K_SIZE,
	  .off = H2(connection_window_size), .min = 65536, .max = 1073741824,
	  .dnum = HQ_DEFAULT_H2_CONN_WINDOW,
	  .meaning = "request body bytes a connection may send ahead" },
	{ .name = "max_frame_size", .type = K_SIZE, .off = H2(max_frame_size),
	  .min = 16384, .max = 16777215, .dnum = HQ_DEFAULT_H2_MAX_FRAME,
	  .meaning = "largest frame payload accepted (SETTINGS_MAX_FRAME_SIZE)" },
	{ .name = NULL }
};
#undef H2

#define UA(f) offsetof(struct hq_store_urlacl, f)
const struct key hq_st_urlacl_keys[] = {
	{ .name = "url", .type = K_PREFIX,
	  .flags = K_SELECT | K_REQUIRED | K_AT,
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

#define GS(f) offsetof(struct hq_store_gstate, f)
const struct key hq_st_gstate_keys[] = {
	{ .name = "name", .type = K_NAME, .flags = K_SELECT | K_REQUIRED | K_AT,
	  .off = GS(name), .at_off = GS(at),
	  .meaning = "the URL group" },
	{ .name = "state", .type = K_ENUM, .flags = K_REQUIRED, .off = GS(state),
	  .names = group_state_names, .dnum = HQ_GROUP_ENABLED,
	  .meaning = "enabled or disabled" },
	{ .name = NULL }
};
#undef GS

static const char *const clientcert_names[] = { "none", "request", "require", NULL };
static const char *const min_protocol_names[] = { "tls1.2", "tls1.3", NULL };

#define SC(f) offsetof(struct hq_store_sslcert, f)
const struct key hq_st_sslcert_keys[] = {
	{ .name = "ipport", .type = K_STRING, .flags = K_SELECT | K_AT,
	  .off = SC(ipport), .at_off = SC(at), .show = "-",
	  .meaning = "IP:PORT the certificate is for; 0.0.0.0:PORT or "
	      "[::]:PORT = every address" },
	{ .name = "hostnameport", .type = K_STRING, .flags = K_SELECT | K_AT,
	  .off = SC(hostnameport), .at_off = SC(at), .show = "-",
	  .meaning = "NAME:PORT the certificate is for (SNI); "
	      "ipport or hostnameport" },
	{ .name = "certfile", .type = K_STRING,
	  .flags = K_FILE | K_REQUIRED | K_AT,
	  .off = SC(certfile), .at_off = SC(certfile_at),
	  .meaning = "PEM certificate" },
	{ .name = "keyfile", .type = K_STRING,
	  .flags = K_FILE | K_REQUIRED | K_AT,
	  .off = SC(keyfile), .at_off = SC(keyfile_at),
	  .meaning = "PEM private key matching the certificate" },
	{ .name = "chainfile", .type = K_STRING, .flags = K_FILE | K_AT,
	  .off = SC(chainfile), .at_off = SC(chainfile_at), .show = "-",
	  .meaning = "PEM intermediate certificates sent after it" },
	{ .name = "clientcert", .type = K_ENUM, .off = SC(clientcert),
	  .names = clientcert_names, .dnum = HQ_CLIENTCERT_NONE,
	  .meaning = "ask clients for a certificate: none, request "
	      "(optional) or require" },
	{ .name = "cafile", .type = K_STRING, .flags = K_FILE | K_AT,
	  .off = SC(cafile), .at_off = SC(cafile_at), .show = "-",
	  .meaning = "PEM CA certificates client certificates are checked "
	      "against; required unless clientcert is none" },
	{ .name = "ocsp_staple", .type = K_STRING, .flags = K_FILE | K_AT,
	  .off = SC(ocsp_staple), .at_off = SC(ocsp_staple_at), .show = "-",
	  .meaning = "DER OCSP response stapled to handshakes, reread when "
	      "it changes (kept fresh by a timer)" },
	{ .name = "min_protocol", .type = K_ENUM, .off = SC(min_protocol),
	  .names = min_protocol_names, .dnum = HQ_TLS_MIN_12,
	  .meaning = "oldest TLS version accepted: tls1.2 or tls1.3" },
	{ .name = "http2", .type = K_BOOL, .off = SC(http2), .dnum = true,
	  .meaning = "offer h2 in ALPN (http.sys DisableHttp2 when false)" },
	{ .name = NULL }
};
#undef SC

const struct key hq_st_top_keys[] = {
	{ .name = "server", .type = K_MAP, .sub = server_keys,
	  .meaning = "daemon settings" },
	{ .name = "iplisten", .type = K_LIST, .list = KL_LISTENS,
	  .what = "list of IP or IP:PORT", .show = "0.0.0.0 and [::]",
	  .meaning = "addresses to listen on; an IP without a port "
	      "listens on every port a URL prefix registers" },
	{ .name = "limits", .type = K_MAP, .sub = limit_keys,
	  .meaning = "request limits" },
	{ .name = "timeouts", .type = K_MAP, .sub = timeout_keys,
	  .off = offsetof(struct hq_store, timeouts),
	  .meaning = "global timeouts" },
	{ .name = "url_groups", .type = K_LIST, .sub = hq_st_group_keys,
	  .list = KL_GROUPS, .what = "list of mappings", .show = "-",
	  .meaning = "URL groups: prefixes sharing a queue, limits and "
	      "timeouts" },
	{ .name = "queues", .type = K_LIST, .sub = hq_st_queue_keys,
	  .list = KL_QUEUES, .what = "list of mappings", .show = "-",
	  .meaning = "request queues, each served by a handler module or "
	      "by attached processes" },
	{ .name = "control", .type = K_MAP, .sub = control_keys,
	  .meaning = "the control socket of httpqctl" },
	{ .name = "queue_socket", .type = K_MAP, .sub = queue_socket_keys,
	  .meaning = "the socket of attached processes" },
	{ .name = "urlacls", .type = K_LIST, .sub = hq_st_urlacl_keys,
	  .list = KL_URLACLS, .what = "list of mappings", .show = "-",
	  .meaning = "URL reservations: who may register URLs under a "
	      "prefix" },
	{ .name = "sslcerts", .type = K_LIST, .sub = hq_st_sslcert_keys,
	  .list = KL_SSLCERTS, .what = "list of mappings", .show = "-",
	  .meaning = "SSL bindings: certificate and key per IP:PORT or "
	      "NAME:PORT" },
	{ .name = "cache", .type = K_MAP, .sub = cache_keys,
	  .meaning = "the response cache (http.sys's kernel cache)" },
	{ .name = "http2", .type = K_MAP, .sub = http2_keys,
	  .meaning = "HTTP/2: ALPN h2, h2c, stream and window limits" },
	{ .name = "url_group_states", .type = K_LIST, .sub = hq_st_gstate_keys,
	  .list = KL_GSTATES, .what = "list of mappings", .show = "-",
	  .meaning = "states of URL groups set at run time by httpqctl set "
	      "urlgroup, over their state: key" },
	{ .name = NULL }
};

const char *const hq_st_verbosity_names[] = {
	[HQ_503_BASIC] = "basic", [HQ_503_LIMITED] = "limited",
	[HQ_503_FULL] = "full", NULL
};

const char *
hq_st_fmt_size(uint64_t v, char *buf, size_t size)
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
const char *
hq_st_enum_list(const struct key *k, char *buf, size_t size, const char *sep,
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
const char *
hq_st_expected(const struct key *k, char *buf, size_t size)
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
		    "k, m or g)", hq_st_fmt_size(k->min, a, sizeof(a)),
		    hq_st_fmt_size(k->max, b, sizeof(b)));
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
		return hq_st_enum_list(k, buf, size, ", ", " or ");
	}
	return "?";
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
		snprintf(buf, size, "size %s-%s", hq_st_fmt_size(k->min, a, sizeof(a)),
		    hq_st_fmt_size(k->max, b, sizeof(b)));
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
		return hq_st_enum_list(k, buf, size, "|", "|");
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
		return hq_st_fmt_size(k->dnum, buf, size);
	case K_BOOL:
		return k->dnum ? "true" : "false";
	case K_VERBOSITY:
		return hq_st_verbosity_names[k->dnum];
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
	list_keys(f, hq_st_top_keys, "", false);
}

const char *
hq_clientcert_name(enum hq_clientcert c)
{
	return (unsigned)c < 3 ? clientcert_names[c] : "?";
}

const char *
hq_group_state_name(int state)
{
	return (unsigned)state <= HQ_GROUP_DISABLED ? group_state_names[state] : "?";
}

const char *
hq_verbosity_name(enum hq_verbosity v)
{
	return (unsigned)v <= HQ_503_FULL ? hq_st_verbosity_names[v] : "?";
}

int
hq_parse_bool(const char *s, bool *v)
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

/* ---------------------------------------------------------------------
 * Lookups for code outside the store (httpqctl, the control protocol)
 * ------------------------------------------------------------------- */

/* The table of the mapping or list of mappings at section, or NULL. */
static const struct key *
section_keys(const char *section)
{
	const struct key *t = hq_st_top_keys;

	while (*section != '\0') {
		size_t n = strcspn(section, ".");
		const struct key *k;

		for (k = t; k->name; k++)
			if (strlen(k->name) == n &&
			    strncmp(k->name, section, n) == 0)
				break;
		if (k->name == NULL || k->sub == NULL)
			return NULL;
		t = k->sub;
		section += n + (section[n] == '.');
	}
	return t;
}

static void
key_info(const struct key *k, struct hq_keyinfo *ki)
{
	ki->name = k->name;
	ki->required = (k->flags & K_REQUIRED) != 0;
	ki->selects = (k->flags & K_SELECT) != 0;
	ki->file = (k->flags & K_FILE) != 0;
	ki->boolean = k->type == K_BOOL;
	ki->words = k->type == K_ENUM ? k->names :
	    k->type == K_VERBOSITY ? hq_st_verbosity_names : NULL;
	ki->scalar = k->type != K_MAP && k->type != K_LIST &&
	    k->type != K_OPTIONS;
}

static const struct key *
find_key(const char *section, const char *name)
{
	const struct key *t = section_keys(section);

	for (; t != NULL && t->name; t++)
		if (strcmp(t->name, name) == 0)
			return t;
	return NULL;
}

bool
hq_store_key_at(const char *section, size_t i, struct hq_keyinfo *ki)
{
	const struct key *t = section_keys(section);

	for (size_t j = 0; t != NULL && t[j].name; j++)
		if (j == i) {
			key_info(&t[j], ki);
			return true;
		}
	return false;
}

bool
hq_store_key_find(const char *section, const char *name,
    struct hq_keyinfo *ki)
{
	const struct key *k = find_key(section, name);

	if (k != NULL)
		key_info(k, ki);
	return k != NULL;
}

int
hq_store_key_check(const char *section, const char *name, const char *value,
    bool cli, char *expect, size_t len)
{
	const struct key *k = find_key(section, name);
	char buf[96];
	bool b;

	if (k == NULL)
		return 0;
	switch (k->type) {
	case K_BOOL:
		if (hq_parse_bool(value, &b) == 0)
			return 0;
		snprintf(expect, len, "%s", cli ? "yes or no" :
		    hq_st_expected(k, buf, sizeof(buf)));
		return -1;
	case K_VERBOSITY:
		for (size_t i = 0; i <= HQ_503_FULL; i++)
			if (strcmp(value, hq_st_verbosity_names[i]) == 0)
				return 0;
		break;
	case K_ENUM:
		for (size_t i = 0; k->names[i]; i++)
			if (strcmp(value, k->names[i]) == 0)
				return 0;
		break;
	default:
		return 0;
	}
	snprintf(expect, len, "%s", hq_st_expected(k, buf, sizeof(buf)));
	return -1;
}

const char *
hq_timeout_at(const struct hq_timeouts *t, size_t i, uint32_t *v,
    const char **unit)
{
	static const size_t n = sizeof(timeout_keys) /
	    sizeof(timeout_keys[0]) - 1;

	if (i >= n)
		return NULL;
	*v = *(const uint32_t *)((const char *)t + timeout_keys[i].off);
	*unit = timeout_keys[i].unit;
	return timeout_keys[i].name;
}
