/*
 * <httpq/client.h> -- libhttpq, the client library of httpqd's request
 * queues: an application process attaches to a queue and serves requests.
 *
 * Layer: include/, a public header, installed as <httpq/client.h>.  Needs
 * only libc headers.  Implemented by src/client/ (libhttpq.so, pkg-config
 * name libhttpq); speaks httpq-protocol(7) to httpqd.  Manual: libhttpq(3).
 *
 * The model is http.sys's.  httpqd owns the ports; a process connects to
 * httpqd's queue socket (one connection is one queue handle), creates a
 * queue or opens one declared in httpq.yaml (HttpCreateRequestQueue),
 * registers URL prefixes (HttpAddUrlToUrlGroup, checked against the URL
 * ACLs with the process's credentials), then receives requests
 * (HttpReceiveHttpRequest), reads their entity bodies
 * (HttpReceiveRequestEntityBody) and answers (HttpSendHttpResponse,
 * HttpSendResponseEntityBody).  Closing the handle, or the process dying,
 * removes the queue it created and every URL it registered.
 *
 * Two ways to use it, which may be mixed on one handle:
 *  - blocking: every call waits (up to the handle's timeout, see
 *    httpq_set_timeout()) for what it needs: a request, body bytes, send
 *    credit, the daemon's answer;
 *  - event loop: watch httpq_queue_fd() for httpq_queue_events(), call
 *    httpq_process() when it is ready, and react to the callbacks of
 *    httpq_set_callbacks() with a timeout of 0, where calls return -1 with
 *    errno EAGAIN instead of waiting.
 * Many requests may be in flight on one handle at once; the frames of
 * different requests interleave and the library buffers them per request,
 * within the daemon's flow-control windows (a request body is never held
 * whole: at most the daemon's body window, 256 KiB by default, per
 * request).
 *
 * Errors: functions returning int or ssize_t return -1 and those
 * returning a pointer NULL, with errno set; httpq_queue_error() then holds
 * a message (for a refused registration, the daemon's own text, naming
 * the missing reservation or the owner of the prefix).
 *
 * Threads: a handle and its requests are not thread-safe.  Use one handle
 * per thread (each is its own connection and may open the same queue), or
 * serialise every call on a handle and its requests with one lock.
 * Handles share no state, and no call blocks on another handle.
 *
 * Strings: every const char * the library returns is NUL-terminated and
 * valid until the request (or, for httpq_queue_error(), the next call on
 * the handle) is freed; absent facts are "" (httpq_req_header() and
 * httpq_req_trailer() return NULL for a field that is not there).
 *
 * Version changelog (newest last; MINOR for additions, MAJOR for breaks;
 * libhttpq.so's soname follows MAJOR):
 *   2026-11-30  1.0  first version: connect, create/open queue, add/remove
 *                    URL, receive request and body (with trailers), send
 *                    response, body, file (SCM_RIGHTS) and trailers within
 *                    the send window, wait for disconnect, cancel,
 *                    shutdown; blocking calls with a timeout, and a
 *                    pollable fd with callbacks.
 */
#ifndef HTTPQ_CLIENT_H
#define HTTPQ_CLIENT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Major version of this header: a break in the API or ABI bumps it. */
#define HTTPQ_CLIENT_VERSION_MAJOR 1
/** Minor version of this header: additions only. */
#define HTTPQ_CLIENT_VERSION_MINOR 0
/** The version as one number, (MAJOR << 16) | MINOR; compare with
 *  httpq_client_version() for the library actually loaded. */
#define HTTPQ_CLIENT_VERSION \
	((HTTPQ_CLIENT_VERSION_MAJOR << 16) | HTTPQ_CLIENT_VERSION_MINOR)

/** httpqd's queue socket when neither a path nor $HTTPQ_QUEUE_SOCKET is
 *  given (the store key queue_socket.path, httpq.yaml(5)). */
#define HTTPQ_QUEUE_SOCKET_DEFAULT "/run/httpq/queue.sock"
/** The environment variable naming the queue socket (ignored in setuid
 *  and setgid programs). */
#define HTTPQ_QUEUE_SOCKET_ENV "HTTPQ_QUEUE_SOCKET"

/** A queue handle: one connection to httpqd (http.sys: the request
 *  queue HANDLE).  Opaque. */
typedef struct httpq_queue httpq_queue;
/** A request received on a handle, owned by the application from
 *  httpq_receive_request() until httpq_req_free().  Opaque. */
typedef struct httpq_req httpq_req;

/** A header or trailer field to send.  Both strings are NUL-terminated;
 *  name is an RFC 9110 token, value carries no CR, LF or NUL. */
typedef struct httpq_field {
	const char *name;  /**< e.g. "Content-Type" */
	const char *value; /**< e.g. "text/plain", without surrounding spaces */
} httpq_field;

/** Roles for httpq_open_queue(), bits that may be combined. */
enum httpq_role {
	/** Receive and answer requests (the queue's attach.user/group). */
	HTTPQ_ROLE_WORKER = 0x1,
	/** Add and remove URLs (attach.controller_user/group). */
	HTTPQ_ROLE_CONTROLLER = 0x2,
	/** Both. */
	HTTPQ_ROLE_BOTH = 0x3,
};

/** Flags for httpq_send_response(), httpq_send_body() and httpq_send_file(). */
enum httpq_send_flag {
	/** More entity body follows in later calls (http.sys
	 *  HTTP_SEND_RESPONSE_FLAG_MORE_DATA).  Without it the call ends the
	 *  response, and the request is done. */
	HTTPQ_FLAG_MORE_DATA = 0x1,
	/** Close the client's connection after this response (http.sys
	 *  HTTP_SEND_RESPONSE_FLAG_DISCONNECT). */
	HTTPQ_FLAG_DISCONNECT = 0x2,
};

/** Bits of httpq_queue_events(): the same values as poll(2)'s. */
enum httpq_events {
	HTTPQ_EV_READ = 0x001,  /**< POLLIN: wait for the fd to be readable */
	HTTPQ_EV_WRITE = 0x004, /**< POLLOUT: output is pending */
};

/** The version of the library loaded, as HTTPQ_CLIENT_VERSION. */
unsigned httpq_client_version(void);

/* --- handle ------------------------------------------------------------ */

/**
 * Connects to httpqd's queue socket and exchanges HELLO.  socket_path NULL
 * takes $HTTPQ_QUEUE_SOCKET, else HTTPQ_QUEUE_SOCKET_DEFAULT.  client_name
 * (may be NULL) is shown by `httpqctl show servicestate`.  Waits at most
 * 30 s for the daemon's HELLO.  Returns a handle, or NULL with errno set
 * (ENOENT, ECONNREFUSED, EACCES from connect(2); EPROTO for a daemon that
 * does not answer HELLO correctly, EPROTONOSUPPORT if it speaks no version
 * the library knows, ETIMEDOUT).
 */
httpq_queue *httpq_connect(const char *socket_path, const char *client_name);
/**
 * The same over an already connected stream socket fd (inherited, or one
 * end of a socketpair(2) in tests).  The handle owns fd from now on, also
 * when the call fails (then fd is closed).
 */
httpq_queue *httpq_connect_fd(int fd, const char *client_name);
/**
 * Closes the handle (http.sys HttpCloseRequestQueue): pending output is
 * written if the socket takes it at once, then the connection is closed;
 * httpqd removes the queue the handle created and every URL it added, and
 * answers the requests it still held with 503 (or closes their
 * connections).  Requests not yet freed are freed.  NULL is ignored.
 * Must not be called from a callback.
 */
void httpq_close(httpq_queue *q);
/**
 * The message of the last failure on the handle or one of its requests,
 * or "" if none.  Valid until the next call on the handle.
 */
const char *httpq_queue_error(const httpq_queue *q);
/** The daemon's name and version from its HELLO, e.g. "httpq/0.2.0". */
const char *httpq_server_name(const httpq_queue *q);
/**
 * How long blocking calls on the handle and its requests wait, in
 * milliseconds: -1 (the default) without limit, 0 not at all (they return
 * -1 with errno EAGAIN when they would wait: the event-loop model), > 0
 * at most that long (then errno ETIMEDOUT).  The registration calls
 * (create, open, add, remove, shutdown) always wait for the daemon's
 * answer: without limit when the timeout is 0 or -1.  Returns 0, or -1
 * with EINVAL for a value below -1.
 */
int httpq_set_timeout(httpq_queue *q, int timeout_ms);

/* --- queue and URL group (controller) ----------------------------------- */

/**
 * Creates a run-time queue named name, owned by this handle as controller
 * and worker (http.sys HttpCreateRequestQueue with a name).  length is
 * the number of requests that may wait in it (1-65535; 0 for the daemon's
 * default, 1000).  The queue vanishes when the handle closes.  Returns 0
 * or -1: EEXIST (the name is taken), EINVAL (bad name), ENOSPC (too many
 * queues), EACCES, ESHUTDOWN; httpq_queue_error() has the daemon's text.
 */
int httpq_create_queue(httpq_queue *q, const char *name, unsigned length);
/**
 * Opens a queue declared in httpq.yaml with attach:, or created by
 * another handle of the same user, with role (enum httpq_role) (http.sys
 * HttpCreateRequestQueue with HTTP_CREATE_REQUEST_QUEUE_FLAG_OPEN_EXISTING).
 * Returns 0 or -1: ENOENT (no such queue), EACCES (the queue's attach
 * policy does not name the user for that role).
 */
int httpq_open_queue(httpq_queue *q, const char *name, unsigned role);
/**
 * Registers a URL prefix ("http://+:8080/app/", as in httpq.yaml) for the
 * handle's queue (http.sys HttpAddUrlToUrlGroup); controller role.  The
 * daemon checks it against the URL reservations with the process's user
 * and groups (root may register anything).  Returns 0 or -1: EACCES (no
 * reservation gives the user the listen right: the message names the
 * prefix), EEXIST (registered already: the message names the owner, its
 * pid, uid and queue), EINVAL (bad prefix, or a port httpqd does not
 * listen on), ENOSPC.
 */
int httpq_add_url(httpq_queue *q, const char *prefix);
/** Removes a prefix this handle added (http.sys
 *  HttpRemoveUrlFromUrlGroup).  0, or -1 (ENOENT: not added by this
 *  handle). */
int httpq_remove_url(httpq_queue *q, const char *prefix);
/**
 * Takes no more requests on this handle (http.sys
 * HttpShutdownRequestQueue): requests it holds may still be answered;
 * httpq_receive_request() then fails with ESHUTDOWN.  Returns 0 or -1.
 */
int httpq_shutdown(httpq_queue *q);

/* --- receiving (worker) --------------------------------------------------- */

/**
 * Asks the daemon to keep up to n requests coming to this handle without
 * a httpq_receive_request() call for each: what an event-loop application
 * serving many requests at once wants (1-65535; 0, the default, asks for
 * one request per httpq_receive_request() when none is ready, as
 * http.sys's pull model).  Requests the handle holds are not given to
 * other processes attached to the queue, so a busy process should keep n
 * small.  Returns 0 or -1 (EINVAL).
 */
int httpq_receive_ahead(httpq_queue *q, unsigned n);
/**
 * The next request for the handle (http.sys HttpReceiveHttpRequest),
 * waiting for one as the timeout says.  The caller owns it until
 * httpq_req_free().  NULL with errno: EAGAIN or ETIMEDOUT (none yet),
 * ESHUTDOWN (the queue is shutting down or httpq_shutdown() was called:
 * finish the requests held, then close), EPROTO or ECONNRESET (the
 * connection to httpqd failed: close the handle).
 */
httpq_req *httpq_receive_request(httpq_queue *q);

/* --- event loop --------------------------------------------------------- */

/** The connection's fd, to watch in the application's event loop; the
 *  library keeps it non-blocking.  Do not read, write or close it. */
int httpq_queue_fd(const httpq_queue *q);
/** What to wait for on httpq_queue_fd(): HTTPQ_EV_READ, plus
 *  HTTPQ_EV_WRITE while output could not be written at once. */
int httpq_queue_events(const httpq_queue *q);

/** Callbacks of httpq_process().  Any may be NULL.  They may call every
 *  function but httpq_close() and httpq_process(). */
typedef struct httpq_callbacks {
	/** sizeof(httpq_callbacks) as the application knows it: fields past
	 *  it are taken as NULL, so the structure can grow. */
	size_t size;
	/** A new request.  NULL: requests wait for httpq_receive_request(). */
	void (*request)(httpq_queue *q, httpq_req *req, void *arg);
	/** Body bytes, or the body's end, are ready for httpq_receive_body(). */
	void (*body)(httpq_req *req, void *arg);
	/** The send window of a request grew after a send fell short of it. */
	void (*writable)(httpq_req *req, void *arg);
	/** The request ended without the response's end: the client went
	 *  away, timed out or the daemon cancelled it (HttpWaitForDisconnect). */
	void (*disconnect)(httpq_req *req, void *arg);
	/** The daemon shuts the queue down: finish the requests held, then
	 *  close the handle. */
	void (*shutdown)(httpq_queue *q, void *arg);
} httpq_callbacks;

/** Sets the callbacks (copied; NULL removes them) and their argument. */
void httpq_set_callbacks(httpq_queue *q, const httpq_callbacks *cb, void *arg);
/**
 * Reads what the fd has without waiting, applies it, and runs the
 * callbacks of what happened (also of what a blocking call read before:
 * call it after blocking calls in an event loop).  Writes pending output
 * at its end, in one write where it can.  Returns 0, or -1 with errno
 * when the connection failed (EPROTO: the daemon broke the protocol or
 * sent ERROR; ECONNRESET: it closed the connection): close the handle.
 */
int httpq_process(httpq_queue *q);

/* --- request facts (valid until httpq_req_free()) ------------------------ */

/** The request id (http.sys HTTP_REQUEST_ID): never 0, and unique on
 *  the handle's connection. */
uint64_t httpq_req_id(const httpq_req *req);
/** The handle the request came on. */
httpq_queue *httpq_req_queue(const httpq_req *req);
/** The method token as sent, e.g. "GET". */
const char *httpq_req_method(const httpq_req *req);
/** The request-target as sent (http.sys pRawUrl). */
const char *httpq_req_raw_url(const httpq_req *req);
/** The cooked full URL: scheme://host:port/path?query (http.sys
 *  CookedUrl.pFullUrl). */
const char *httpq_req_cooked_url(const httpq_req *req);
/** The cooked path (percent-decoded, dot segments resolved). */
const char *httpq_req_path(const httpq_req *req);
/** The query with its '?' ("?a=1"), "" if the URL has none. */
const char *httpq_req_query(const httpq_req *req);
/** The host the request was routed by. */
const char *httpq_req_host(const httpq_req *req);
/** 10, 11 or 20 for HTTP/1.0, 1.1, 2. */
int httpq_req_version(const httpq_req *req);
/** The first header field with this name (case-insensitive), or NULL. */
const char *httpq_req_header(const httpq_req *req, const char *name);
/** Number of request header fields. */
size_t httpq_req_header_count(const httpq_req *req);
/** Header field i (0-based, in the order sent) into *name and *value
 *  (either may be NULL).  0, or -1 if i is out of range. */
int httpq_req_header_at(const httpq_req *req, size_t i, const char **name,
    const char **value);
/** The client's address, "192.0.2.1:34567" or "[2001:db8::1]:34567". */
const char *httpq_req_remote_addr(const httpq_req *req);
/** The local address the connection arrived on, in the same form. */
const char *httpq_req_local_addr(const httpq_req *req);
/** The URL prefix that matched, e.g. "http://+:8080/app/". */
const char *httpq_req_url_prefix(const httpq_req *req);
/** The URL group that matched (http.sys UrlContext). */
const char *httpq_req_url_group(const httpq_req *req);
/** The connection's id (http.sys ConnectionId): the same for the
 *  requests of one connection. */
uint64_t httpq_req_connection_id(const httpq_req *req);
/** Content-Length of the request body: -1 when chunked, 0 when none. */
int64_t httpq_req_content_length(const httpq_req *req);
/** 1 if an entity body follows (read it with httpq_receive_body()). */
int httpq_req_has_body(const httpq_req *req);
/** 1 if the request came over https; the TLS facts below are "" (and
 *  httpq_req_tls_client_verified() 0) otherwise. */
int httpq_req_is_tls(const httpq_req *req);
/** TLS protocol, e.g. "TLSv1.3". */
const char *httpq_req_tls_protocol(const httpq_req *req);
/** TLS cipher, OpenSSL name, e.g. "TLS_AES_128_GCM_SHA256". */
const char *httpq_req_tls_cipher(const httpq_req *req);
/** The server name the client sent (SNI), or "". */
const char *httpq_req_tls_sni(const httpq_req *req);
/** The client certificate's RFC 2253 subject, or "" if none was sent. */
const char *httpq_req_tls_client_subject(const httpq_req *req);
/** The client certificate's SHA-256 fingerprint, 64 hex digits, or "". */
const char *httpq_req_tls_client_fingerprint(const httpq_req *req);
/** 1 if the client certificate verified against the binding's CA. */
int httpq_req_tls_client_verified(const httpq_req *req);
/** Attaches one pointer of the application's to the request (never
 *  freed by the library). */
void httpq_req_set_data(httpq_req *req, void *data);
/** The pointer given to httpq_req_set_data(), or NULL. */
void *httpq_req_data(const httpq_req *req);

/* --- request body ------------------------------------------------------- */

/**
 * Reads entity body bytes into buf (http.sys HttpReceiveRequestEntityBody),
 * decoded from chunked if it was, waiting as the timeout says.  Returns
 * the number of bytes (> 0), 0 at the end of the body (at once for a
 * request without one), or -1: EAGAIN/ETIMEDOUT (nothing yet),
 * ECONNRESET (the client went away: httpq_req_disconnected()), ECANCELED
 * (the request was answered or cancelled before its body ended), EPROTO.
 * As the application consumes bytes the library returns credit to the
 * daemon, which then sends more: a body of any size flows through a
 * bounded window.
 */
ssize_t httpq_receive_body(httpq_req *req, void *buf, size_t len);
/** The first trailer field of a chunked body with this name
 *  (case-insensitive), or NULL; there are none before
 *  httpq_receive_body() returned 0. */
const char *httpq_req_trailer(const httpq_req *req, const char *name);
/** Number of trailer fields (0 until the body has ended). */
size_t httpq_req_trailer_count(const httpq_req *req);
/** Trailer field i into *name and *value; 0, or -1 if out of range. */
int httpq_req_trailer_at(const httpq_req *req, size_t i, const char **name,
    const char **value);

/* --- response ------------------------------------------------------------ */

/**
 * Sends the status line and headers (http.sys HttpSendHttpResponse).
 * reason may be NULL (the standard phrase).  Without
 * HTTPQ_FLAG_MORE_DATA the response is complete (no body); with it and
 * without a Content-Length header the body goes chunked (HTTP/1.1).
 * Date and Server are added by httpqd.  Returns 0 or -1: EINVAL (status
 * out of 200-999: httpqd sends 100 Continue itself, a response already sent), EMSGSIZE (headers over
 * the daemon's frame size), ECONNRESET (client gone).
 */
int httpq_send_response(httpq_req *req, int status, const char *reason,
    const httpq_field *headers, size_t n, unsigned flags);
/**
 * Sends entity body bytes (http.sys HttpSendResponseEntityBody), within
 * the request's send window: when it is used up the call waits for the
 * daemon's credit as the timeout says.  Without HTTPQ_FLAG_MORE_DATA the
 * call ends the response once all len bytes are sent.  Returns the number
 * of bytes taken: len when blocking, possibly fewer with a timeout of 0 or
 * when a positive timeout expires (then the end of the response is not
 * sent: call again with the rest).  -1: EAGAIN/ETIMEDOUT (nothing taken),
 * EINVAL (no response head yet, or the response ended), ECONNRESET.
 */
ssize_t httpq_send_body(httpq_req *req, const void *data, size_t len, unsigned flags);
/**
 * Sends len bytes of the file fd from offset as body (the http.sys
 * file-handle data chunk): fd itself goes to httpqd (SCM_RIGHTS), which
 * sends the file with no copy through this process.  The library owns fd
 * from this call on and closes it, also when the call fails.  Takes 4096
 * bytes of the send window, waiting for them as httpq_send_body().
 * Returns 0 or -1 as httpq_send_body().
 */
int httpq_send_file(httpq_req *req, int fd, uint64_t offset, uint64_t len,
    unsigned flags);
/**
 * Ends a response whose body went out chunked with trailer fields
 * (HTTP/1.1 only: httpqd drops them for a body with Content-Length or an
 * HTTP/1.0 client).  Returns 0 or -1 as httpq_send_body().
 */
int httpq_send_trailers(httpq_req *req, const httpq_field *trailers, size_t n);
/** Response bytes that may be sent now without waiting. */
size_t httpq_send_window(const httpq_req *req);

/* --- ending ------------------------------------------------------------ */

/**
 * Waits until the client disconnects from the request (http.sys
 * HttpWaitForDisconnect): the daemon ends it without the response's end.
 * Returns 0 then, or -1: EAGAIN/ETIMEDOUT, EALREADY (the response ended
 * or the request was cancelled: there is nothing to wait for).
 */
int httpq_wait_disconnect(httpq_req *req);
/** 1 if the daemon ended the request (client disconnected, timeout...). */
int httpq_req_disconnected(const httpq_req *req);
/** The daemon's reason for the disconnect, or "". */
const char *httpq_req_disconnect_reason(const httpq_req *req);
/**
 * Aborts the request (http.sys HttpCancelHttpRequest): a response not
 * started resets the client's connection, one started closes it.  The
 * request stays the caller's until httpq_req_free().  0, or -1 (EALREADY:
 * the request ended already).
 */
int httpq_cancel(httpq_req *req);
/**
 * Frees the request.  One whose response has not ended is cancelled
 * first.  NULL is ignored.
 */
void httpq_req_free(httpq_req *req);

#ifdef __cplusplus
}
#endif

#endif /* HTTPQ_CLIENT_H */
