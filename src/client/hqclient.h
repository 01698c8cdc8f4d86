/*
 * hqclient.h -- the one header of src/client/, libhttpq.
 *
 * Layer: src/client/, built as libhttpq.so (libtool) with the codec files
 * of src/lib/ it needs compiled in (libhq.a is not PIC).  May call: libc
 * and src/lib/ (through httpq-internal.h: the frame codec qproto.c, util.c);
 * never src/shared/, src/daemon/ or src/ctl/.  Called by: applications,
 * through <httpq/client.h> only (only httpq_* symbols are exported), and
 * the unit tests (tests/unit/test_client.c).
 *
 * Top to bottom (a file calls only the files below it):
 *   queue.c    the handle: connect, HELLO, calls (create, open, add, remove,
 *              shutdown), receive_request, process and its callbacks
 *   request.c  a request: facts, body, response, cancel, free
 *   dispatch.c frames from the daemon applied to the handle and its
 *              requests; the request table; waiting (pump)
 *   io.c       the socket: output buffer with the fds to pass, reads
 */
#ifndef HTTPQ_CLIENT_INTERNAL_H
#define HTTPQ_CLIENT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "httpq/client.h"
#include "httpq-internal.h"

#define HQC_HELLO_TIMEOUT_MS 30000       /* the daemon's HELLO answer */
#define HQC_READ_CHUNK       (64 * 1024) /* bytes asked of one read() */
#define HQC_ERR_MAX          512         /* httpq_queue_error() text */
#define HQC_MAX_SEND_CREDIT  (1ull << 40) /* more than this is a broken daemon */

/* A header or trailer field: NUL-terminated views into the request's blob. */
struct hqc_field {
	const char *name, *value;
};

/* Request events for the callbacks (httpq_process). */
#define HQC_EV_BODY       1u
#define HQC_EV_WRITABLE   2u
#define HQC_EV_DISCONNECT 4u

struct httpq_req {
	httpq_queue *q;
	uint64_t id;
	void *data;                 /* httpq_req_set_data */

	/* Facts: views into blob (a copy of the REQUEST payload). */
	char *blob;
	const char *method, *raw_url, *cooked_url, *path, *query, *host;
	const char *remote_addr, *local_addr, *url_prefix, *url_group;
	const char *tls_protocol, *tls_cipher, *tls_sni, *tls_subject, *tls_fingerprint;
	uint32_t version, tls_verified;
	uint64_t connection_id;
	int64_t content_length;
	bool has_body, tls;
	struct hqc_field *headers;
	size_t nheaders;
	char *tblob;                /* TRAILERS payload copy */
	struct hqc_field *trailers;
	size_t ntrailers;

	/* Request body: bytes received and not yet read; at most the window. */
	unsigned char *body;
	size_t body_off, body_len, body_cap;
	uint64_t body_unacked;      /* received - credited (the daemon's view) */
	uint64_t body_consumed;     /* read by the app, not yet credited */
	bool body_end;

	/* Response. */
	bool head_sent, done;       /* done: END/TRAILERS/CANCEL sent */
	bool disconnected;          /* DISCONNECT received */
	bool want_writable;         /* a send fell short: EV_WRITABLE on credit */
	char *disconnect_reason;
	uint64_t send_window;

	/* Table chain, ready list, event list. */
	httpq_req *hnext, *rnext, *enext;
	unsigned ev;
	bool in_ev, ready, freed;
	int busy;                   /* in a callback: free later */
};

/* An fd to pass with the output byte at offset off (from out.p). */
struct hqc_fd {
	size_t off;
	int fd;
};

struct httpq_queue {
	int fd;
	int timeout_ms;
	char err[HQC_ERR_MAX];
	char *server_name;
	uint32_t max_payload, body_window, send_window;

	/* Output: whole frames; fds to pass ride with the byte at their off. */
	struct hq_qp_buf out;
	struct hqc_fd *fds;
	size_t nfds, fds_cap;
	bool corked;                /* in httpq_process: write once at the end */

	/* Input. */
	unsigned char *in;
	size_t in_off, in_len, in_cap;

	/* State. */
	int broken;                 /* errno of a failed connection, else 0 */
	bool hello_done, shutdown, shutdown_seen, shutdown_told;
	uint64_t call_id;           /* the call waiting for its RESULT */
	bool result_in;
	uint32_t result_status;
	char *result_msg;

	/* Requests: by id, received but not taken, with events. */
	httpq_req **table;
	size_t nbuckets, nreqs;
	httpq_req *ready_head, *ready_tail;
	size_t nready;
	httpq_req *ev_head, *ev_tail;
	uint32_t credit;            /* RECEIVE counts given - REQUESTs got */
	unsigned ahead;             /* httpq_receive_ahead */

	httpq_callbacks cb;
	void *cb_arg;
};

/* io.c */
int hqc_connect_path(const char *path);
/* Passes fd with the output byte at off (the first byte of its frame). */
void hqc_queue_fd(httpq_queue *q, size_t off, int fd);
int hqc_flush(httpq_queue *q);              /* 0 (maybe partial), -1 broken */
int hqc_fill(httpq_queue *q);               /* 1 read, 0 EAGAIN, -1 broken/EOF */
void hqc_io_free(httpq_queue *q);
int hqc_fail(httpq_queue *q, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int hqc_seterr(httpq_queue *q, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int hqc_check(httpq_queue *q);              /* -1 with errno if broken */

/* dispatch.c */
int hqc_dispatch(httpq_queue *q);           /* parse buffered frames: 0, -1 broken */
/* Absolute ms (hqc_now_ms) a wait may last to, -1 without limit; a call
 * (RESULT) never takes 0 as "do not wait". */
int64_t hqc_now_ms(void);
int64_t hqc_deadline(const httpq_queue *q, bool call);
/* errno for a wait that ran out: EAGAIN at timeout 0, else ETIMEDOUT. */
int hqc_timed_out(httpq_queue *q);
int hqc_pump(httpq_queue *q, int64_t deadline); /* 1 progress, 0 time up, -1 */
httpq_req *hqc_find(httpq_queue *q, uint64_t id);
void hqc_unlink(httpq_queue *q, httpq_req *r);  /* out of table and lists */
void hqc_event(httpq_req *r, unsigned ev);
httpq_req *hqc_take(httpq_queue *q);        /* pop the ready list */
void hqc_topup(httpq_queue *q, bool one);   /* RECEIVE credit as ahead says */

/* request.c */
void hqc_req_destroy(httpq_req *r);         /* free memory only */

#endif /* HTTPQ_CLIENT_INTERNAL_H */
