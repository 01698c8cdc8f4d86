/*
 * <httpq/module.h> -- the handler module ABI of httpqd.
 *
 * Layer: include/, the public header, installed as <httpq/module.h>.  Needs
 * only libc headers.  Used by modules, by src/lib/ and by src/daemon/.
 *
 * A module is a shared object that exports exactly one symbol:
 *
 *     const struct httpq_module httpq_module = {
 *         HTTPQ_MODULE_HEAD, .name = "mine", .version = "1.0",
 *         .init = mine_init, .handle = mine_handle, .fini = mine_fini,
 *     };
 *
 * httpqd checks .abi before it touches anything else: the major number must be
 * equal, the module's minor number must not exceed the daemon's.  The daemon
 * hands init() a table of functions (struct httpq_api); its .size and .minor
 * tell which functions exist, so a module built against an older header keeps
 * working when functions are added at the end of the table.
 *
 * struct httpq_module grows the same way (ABI 1.2): fields are only ever added
 * at its end, each marked with the minor that added it, and the daemon reads
 * a field only when the module's minor is at least that one and the module's
 * .size reaches past the field.  Modules built for 1.0 or 1.1 have no .size:
 * the daemon reads nothing after .fini from them, nor from a module that
 * leaves .size 0 (a 1.0/1.1 source rebuilt against this header).  Start the
 * initialiser with HTTPQ_MODULE_HEAD, which sets .abi and .size together.
 *
 * Threading: handle() runs on a worker thread, and every function taking a
 * request must be called on that request's worker thread, except
 * api->post(), which is the one thread-safe entry point.  The daemon never
 * blocks on a module: a module may complete a request at once or later.
 *
 * ABI changelog (newest last; bump MINOR for additions, MAJOR for breaks):
 *   2026-11-25  1.0  first ABI: init/handle/fini, request facts, streamed
 *                    request body, streamed response body and files,
 *                    post/defer, abort and writable notifications,
 *                    response trailers.
 *   2026-11-25  1.1  tls_info(): protocol, cipher, SNI name and client
 *                    certificate of an https request.
 *   2026-11-30  1.2  struct httpq_module grows: .size (required from 1.2,
 *                    HTTPQ_MODULE_HEAD) and validate(), which checks a
 *                    queue's options before anything is applied and names
 *                    the bad one through api->report().  API table:
 *                    report(), set_user_data()/user_data() (a per-request
 *                    slot), request_id() (64-bit, unique for the daemon's
 *                    lifetime) and connection_id(); trailer(),
 *                    trailer_count() and trailer_at(): the trailer fields
 *                    of a chunked request body, as header() and friends.
 *   2026-11-30  1.3  cache_policy(): a response may be kept in the
 *                    daemon's response cache (http.sys HTTP_CACHE_POLICY:
 *                    nocache, user_invalidates, time to live) and later
 *                    GETs of the same URL answered without the module.
 *   2026-11-30  1.4  send_head() takes 101 Switching Protocols for an
 *                    HTTP/1.1 request with Upgrade and Connection: upgrade
 *                    (http.sys's opaque mode): the connection then carries
 *                    raw bytes both ways through read_body()/send_body().
 */
#ifndef HTTPQ_MODULE_H
#define HTTPQ_MODULE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#ifdef __cplusplus
extern "C" {
#endif

/** ABI major version: a module built for another major is refused. */
#define HTTPQ_MODULE_ABI_MAJOR 1
/** ABI minor version: additions only; a module may need at most this. */
#define HTTPQ_MODULE_ABI_MINOR 4
/** The value a module puts in httpq_module.abi. */
#define HTTPQ_MODULE_ABI ((HTTPQ_MODULE_ABI_MAJOR << 16) | HTTPQ_MODULE_ABI_MINOR)
/** The first designated initialisers of every module's httpq_module:
 *  its ABI and the size of the structure it was built with (ABI 1.2). */
#define HTTPQ_MODULE_HEAD \
	.abi = HTTPQ_MODULE_ABI, .size = sizeof(struct httpq_module)

/** An admitted request, owned by the daemon; opaque to modules. */
typedef struct httpq_request httpq_request;
/** A module instance's context (one per request queue using the module). */
typedef struct httpq_ctx httpq_ctx;
/** Where validate() reports bad options (ABI 1.2); opaque to modules. */
typedef struct httpq_validation httpq_validation;

/** A byte string that is not NUL-terminated; valid as long as its request. */
typedef struct httpq_str {
	const char *ptr; /**< first byte, or NULL when absent */
	size_t len;      /**< length in bytes */
} httpq_str;

/** A header field, for sending responses. */
typedef struct httpq_header {
	const char *name;  /**< field name, e.g. "Content-Type" */
	size_t name_len;   /**< length of name */
	const char *value; /**< field value without surrounding spaces */
	size_t value_len;  /**< length of value */
} httpq_header;

/** Severity for api->log(); the same numbers as syslog(3). */
enum httpq_log_level {
	HTTPQ_LOG_ERR = 3,     /**< an error the operator must see */
	HTTPQ_LOG_WARNING = 4, /**< something odd but handled */
	HTTPQ_LOG_NOTICE = 5,  /**< normal but worth noting */
	HTTPQ_LOG_INFO = 6,    /**< informational */
	HTTPQ_LOG_DEBUG = 7,   /**< for developers */
};

/** Flags for send_head(), send_body() and send_file(). */
enum httpq_send_flags {
	/** More entity body follows in later send_body()/send_file() calls.
	 *  Without it, the call ends the response. */
	HTTPQ_SEND_MORE = 0x1,
	/** Close the connection after this response (http.sys DISCONNECT). */
	HTTPQ_SEND_DISCONNECT = 0x2,
};

/** Cache policies for api->cache_policy() (ABI 1.3), as http.sys's
 *  HTTP_CACHE_POLICY_TYPE. */
enum httpq_cache_policy {
	/** Not kept (the default of every response). */
	HTTPQ_CACHE_NOCACHE = 0,
	/** Kept until flushed (`httpqctl delete cache`), evicted for
	 *  memory, unused for cache.scavenger_period, or a reload. */
	HTTPQ_CACHE_USER_INVALIDATES = 1,
	/** Kept for ttl_s seconds at most (and as USER_INVALIDATES). */
	HTTPQ_CACHE_TIME_TO_LIVE = 2,
};

/** Flags given to a body callback. */
enum httpq_body_flags {
	HTTPQ_BODY_END = 0x1,   /**< the entity body is complete (data may be empty) */
	HTTPQ_BODY_ERROR = 0x2, /**< the body could not be read (client gone, timeout,
	                             bad framing); the request is aborted */
};

/**
 * Receives request entity body in order, decoded from chunked if it was.
 * data is valid only during the call.  Called on the request's worker thread.
 */
typedef void (*httpq_body_cb)(httpq_request *req, void *arg, const void *data,
    size_t len, unsigned flags);

/** A callback run on the request's worker thread (post, defer, notifications). */
typedef void (*httpq_request_cb)(httpq_request *req, void *arg);

/**
 * TLS facts of a request's connection (ABI 1.1), valid until the request is
 * released.  Strings are not NUL-terminated views; absent ones have ptr
 * NULL or len 0.
 */
typedef struct httpq_tls_info {
	size_t size;                   /**< sizeof as the daemon knows it */
	int is_tls;                    /**< 1: the request came over https */
	httpq_str protocol;            /**< "TLSv1.3", "TLSv1.2" */
	httpq_str cipher;              /**< OpenSSL name: "TLS_AES_128_GCM_SHA256" */
	httpq_str sni;                 /**< server name the client sent, or empty */
	int client_cert_presented;     /**< 1: the client sent a certificate */
	int client_cert_verified;      /**< 1: it verified against the binding's cafile */
	httpq_str client_subject;      /**< RFC 2253 subject: "CN=alice,O=Example" */
	httpq_str client_fingerprint_sha256; /**< 64 lower-case hex digits */
} httpq_tls_info;

/**
 * The daemon's functions, handed to init().  Check api->minor (or api->size)
 * before calling a function newer than ABI 1.0.
 */
struct httpq_api {
	uint32_t size;  /**< sizeof(struct httpq_api) in the daemon */
	uint32_t minor; /**< HTTPQ_MODULE_ABI_MINOR of the daemon */

	/* --- instance ---------------------------------------------------- */

	/** The value of option key from the queue's YAML `options:` block
	 *  (nested keys joined with '.'), or NULL if not given. */
	const char *(*option)(httpq_ctx *ctx, const char *key);
	/** Writes one line to the daemon's log, tagged with the module and queue. */
	void (*log)(httpq_ctx *ctx, int level, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
	/** The name of the request queue this instance serves. */
	const char *(*queue_name)(httpq_ctx *ctx);

	/* --- request facts (valid until the response is complete) -------- */

	/** The method token as sent, e.g. "GET". */
	httpq_str (*method)(httpq_request *req);
	/** The request-target as sent by the client (http.sys pRawUrl). */
	httpq_str (*raw_url)(httpq_request *req);
	/** The cooked full URL: scheme://host:port/path?query, path decoded and
	 *  normalised (http.sys CookedUrl.pFullUrl). */
	httpq_str (*cooked_url)(httpq_request *req);
	/** The cooked path (percent-decoded, dot segments resolved). */
	httpq_str (*path)(httpq_request *req);
	/** The raw query string without '?', empty if none. */
	httpq_str (*query)(httpq_request *req);
	/** The host the request was routed by (Host header or absolute URL). */
	httpq_str (*host)(httpq_request *req);
	/** 10 for HTTP/1.0, 11 for HTTP/1.1, 20 for HTTP/2. */
	int (*version)(httpq_request *req);
	/** The first header with this name (case-insensitive); ptr NULL if none. */
	httpq_str (*header)(httpq_request *req, const char *name);
	/** Number of request header fields. */
	size_t (*header_count)(httpq_request *req);
	/** Header field i (0-based) into *name and *value; -1 if out of range. */
	int (*header_at)(httpq_request *req, size_t i, httpq_str *name, httpq_str *value);
	/** The client's address; *len set to its length. */
	const struct sockaddr *(*remote_addr)(httpq_request *req, socklen_t *len);
	/** The local address the connection arrived on. */
	const struct sockaddr *(*local_addr)(httpq_request *req, socklen_t *len);
	/** Content-Length of the request body; -1 when chunked, 0 when none. */
	int64_t (*content_length)(httpq_request *req);
	/** The URL prefix that matched, e.g. "http://+:8080/app/". */
	httpq_str (*url_prefix)(httpq_request *req);
	/** The name of the URL group that matched (http.sys UrlContext). */
	httpq_str (*url_group)(httpq_request *req);

	/* --- request entity body ----------------------------------------- */

	/** Starts delivering the entity body to cb (sends "100 Continue" first if
	 *  the client asked for it).  A request without body gets one call with
	 *  HTTPQ_BODY_END at once.  Returns 0, or -1 if already reading. */
	int (*read_body)(httpq_request *req, httpq_body_cb cb, void *arg);
	/** Pauses (paused != 0) or resumes body delivery, for flow control. */
	void (*pause_body)(httpq_request *req, int paused);

	/* --- response ---------------------------------------------------- */

	/** Sends the status line and headers.  reason may be NULL (standard
	 *  phrase).  If the headers carry no Content-Length and HTTPQ_SEND_MORE is
	 *  set, the body is sent chunked (HTTP/1.1) or close-delimited (1.0).
	 *  Date and Server are added by the daemon.  Returns 0 or -1.
	 *
	 *  Status 101 (ABI 1.4; http.sys HTTP_SEND_RESPONSE_FLAG_OPAQUE): only
	 *  for an HTTP/1.1 request carrying Upgrade and Connection: upgrade
	 *  whose body, if it has one, was read to its end, and only with an
	 *  Upgrade field among headers; else -1 and nothing is sent (HTTP/1.0,
	 *  HTTP/2, no Upgrade asked or named, a body not read, a head already
	 *  sent), and the module answers as it would have.  The daemon adds
	 *  "Connection: upgrade" and no Date, Server or framing field; flags
	 *  are ignored.  From then on the connection is opaque: read_body()
	 *  (again, if the request body was read) delivers the client's bytes
	 *  raw as they come, those already received after the request head
	 *  first, never parsed as requests, and HTTPQ_BODY_END at the client's
	 *  FIN; pause_body() stops reading the socket; send_body() and
	 *  send_file() with HTTPQ_SEND_MORE send raw bytes, pending() and
	 *  on_writable() as usual; ending the response (no HTTPQ_SEND_MORE)
	 *  sends what is queued and closes the connection.  A reset, a timeout
	 *  or shutdown aborts the request (on_abort).  The request keeps its
	 *  queue slot until it ends; the idle_connection timeout applies,
	 *  restarted by bytes either way; the access log has one line, at the
	 *  end, with status 101 and the bytes of both directions. */
	int (*send_head)(httpq_request *req, int status, const char *reason,
	    const httpq_header *headers, size_t n, unsigned flags);
	/** Sends entity body bytes (copied).  Without HTTPQ_SEND_MORE this ends
	 *  the response.  Returns 0 or -1 (request aborted or misuse). */
	int (*send_body)(httpq_request *req, const void *data, size_t len, unsigned flags);
	/** Sends len bytes of file fd from offset; the daemon owns fd from now on
	 *  and closes it.  Without HTTPQ_SEND_MORE this ends the response. */
	int (*send_file)(httpq_request *req, int fd, uint64_t offset, uint64_t len,
	    unsigned flags);
	/** Bytes accepted but not yet written to the socket (for flow control). */
	size_t (*pending)(httpq_request *req);
	/** Calls cb once when pending() falls below the daemon's low-water mark. */
	void (*on_writable)(httpq_request *req, httpq_request_cb cb, void *arg);
	/** Calls cb if the request is aborted (client gone, timeout, shutdown)
	 *  before the response ends.  After that every send fails; the module must
	 *  still call finish(). */
	void (*on_abort)(httpq_request *req, httpq_request_cb cb, void *arg);
	/** Releases an aborted request (or one whose response ended): after it
	 *  the handle is invalid.  Ending a response with send_* releases too,
	 *  unless the request was aborted first. */
	void (*finish)(httpq_request *req);

	/* --- asynchrony -------------------------------------------------- */

	/** Runs cb(req, arg) on the request's worker thread; callable from any
	 *  thread.  Returns 0 or -1 (out of memory or shutting down). */
	int (*post)(httpq_request *req, httpq_request_cb cb, void *arg);
	/** Runs cb(req, arg) on the worker thread after ms milliseconds, never
	 *  sooner (counted from the call on CLOCK_MONOTONIC). */
	int (*defer)(httpq_request *req, uint64_t ms, httpq_request_cb cb, void *arg);

	/* --- trailers ----------------------------------------------------- */

	/** Ends a response whose body went out chunked, with trailer fields
	 *  (RFC 9112 7.1.2).  When the body is not chunked (a Content-Length
	 *  was given, or the client speaks HTTP/1.0) trailers cannot be sent
	 *  and are dropped.  Returns 0 or -1. */
	int (*send_trailers)(httpq_request *req, const httpq_header *trailers, size_t n);

	/* --- TLS (ABI 1.1: check api->minor >= 1) ------------------------- */

	/** The TLS facts of the request's connection; never NULL (is_tls is 0
	 *  for plain http).  The client certificate is asked for only by a
	 *  binding with clientcert request or require (httpq.yaml(5)). */
	const httpq_tls_info *(*tls_info)(httpq_request *req);

	/* --- ABI 1.2: check api->minor >= 2 --------------------------------- */

	/** From validate() only: reports that option key (as given to
	 *  option(), nested keys joined with '.') is wrong.  The daemon prints
	 *  "FILE:LINE:COL: queues[N].options.KEY: MESSAGE" with the place of
	 *  the option's value (of the queue when the option is absent).  key
	 *  may be NULL for an error about the options as a whole.  Say what
	 *  would be right: "expected 501 or 503, got \"banana\"". */
	void (*report)(httpq_validation *v, const char *key, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
	/** Attaches one pointer of the module's to the request.  It is NULL
	 *  when handle() is called and forgotten when the request is released;
	 *  the daemon never frees it. */
	void (*set_user_data)(httpq_request *req, void *data);
	/** The pointer given to set_user_data(), or NULL. */
	void *(*user_data)(httpq_request *req);
	/** The request's id: never 0, never reused while the daemon runs
	 *  (across workers, connections and reloads), and increasing for the
	 *  requests of one connection (http.sys HTTP_REQUEST_ID).  Ids of
	 *  different connections are not ordered. */
	uint64_t (*request_id)(httpq_request *req);
	/** The id of the request's connection: never 0, the same for every
	 *  request of one connection, never reused while the daemon runs
	 *  (http.sys ConnectionId). */
	uint64_t (*connection_id)(httpq_request *req);
	/** The first trailer field of the request body with this name
	 *  (case-insensitive); ptr NULL if none.  Trailers exist only for a
	 *  chunked body, and only once the body callback has been called with
	 *  HTTPQ_BODY_END (before that there are none).  Like headers they
	 *  are valid until the request is released; they are never merged
	 *  into the headers, and a trailer named like a framing or routing
	 *  field (Content-Length, Host...) has no effect. */
	httpq_str (*trailer)(httpq_request *req, const char *name);
	/** Number of request trailer fields (0 until the body has ended). */
	size_t (*trailer_count)(httpq_request *req);
	/** Trailer field i (0-based) into *name and *value; -1 if out of range. */
	int (*trailer_at)(httpq_request *req, size_t i, httpq_str *name, httpq_str *value);

	/* --- ABI 1.3: check api->minor >= 3 --------------------------------- */

	/** Asks the daemon to keep the response about to be sent in its
	 *  response cache (http.sys pCachePolicy of HttpSendHttpResponse):
	 *  policy is an enum httpq_cache_policy, ttl_s the seconds of
	 *  HTTPQ_CACHE_TIME_TO_LIVE (1 or more; ignored otherwise).  Call it
	 *  before send_head().  Later GETs and HEADs of the same URL (scheme,
	 *  host, cooked path and query, in the same URL group) are then
	 *  answered from memory, conditionals included, without calling the
	 *  module and without entering the queue.  The daemon keeps the
	 *  response only if the request and the response allow it
	 *  (httpqd(8), RESPONSE CACHE): a GET without Authorization, Range or
	 *  body; status 200, no Set-Cookie, no Cache-Control no-store,
	 *  private or no-cache, no Vary but Accept-Encoding, sent whole
	 *  (send_file ranges included) within cache.max_response_bytes;
	 *  otherwise it is sent as usual and not kept.  Returns 0 (also when
	 *  the response will not be kept), or -1 for a bad policy or ttl or
	 *  a call after send_head(). */
	int (*cache_policy)(httpq_request *req, int policy, uint32_t ttl_s);
};

/**
 * What a module exports as `httpq_module`.  New fields are added at the end
 * only, and read by the daemon only when abi's minor and .size both say that
 * the module has them (see the top of this file).
 */
struct httpq_module {
	/** HTTPQ_MODULE_ABI of the header the module was built with. */
	uint32_t abi;
	/** Short name, e.g. "sample". */
	const char *name;
	/** The module's own version string. */
	const char *version;
	/** Called once per queue that uses the module, on the main thread, with
	 *  the instance's context.  Sets *state.  Returns 0, or -1 after logging
	 *  why (the configuration is then refused). */
	int (*init)(const struct httpq_api *api, httpq_ctx *ctx, void **state);
	/** Called on a worker thread for every admitted request.  The module owns
	 *  the request until its response ends (or, once aborted, until finish()). */
	void (*handle)(void *state, httpq_request *req);
	/** Called once when the instance is retired (after a reload or at exit),
	 *  when none of its requests is in flight.  May be NULL. */
	void (*fini)(void *state);

	/* --- ABI 1.2 ------------------------------------------------------ */

	/** sizeof(struct httpq_module) in the header the module was built with
	 *  (HTTPQ_MODULE_HEAD sets it).  0: the daemon reads no field after
	 *  .fini (and refuses the module if it sets validate anyway). */
	uint32_t size;
	/** Checks the queue's options before anything of the configuration is
	 *  applied: at httpqd -t and httpqctl -t, at start and at every reload,
	 *  before init().  Called on the main thread (or in httpqctl) with the
	 *  instance's ctx; only the instance functions (option, log,
	 *  queue_name) and api->report() may be called, and nothing may be
	 *  kept: it must have no side effect, because a configuration that
	 *  passes may still be refused for another reason, and httpqctl -t
	 *  runs it outside the daemon.  Reports every bad option with
	 *  api->report(v, key, ...) and returns -1, or returns 0.  May be NULL. */
	int (*validate)(const struct httpq_api *api, httpq_ctx *ctx, httpq_validation *v);
};

#ifdef __cplusplus
}
#endif

#endif /* HTTPQ_MODULE_H */
