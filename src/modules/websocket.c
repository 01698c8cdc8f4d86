/*
 * websocket -- a WebSocket echo server (RFC 6455) on the daemon's opaque
 * connections (ABI 1.4: send_head(101) and raw bytes both ways).
 *
 * The handshake takes GET with Upgrade: websocket, Connection: upgrade,
 * Sec-WebSocket-Version 13 (else 426 naming 13) and a Sec-WebSocket-Key of
 * 16 bytes in base64 (else 400); a request asking for no WebSocket gets 426
 * with Upgrade: websocket, and its connection stays usable.  Then every text
 * and binary message comes back as one frame, reassembled from its
 * fragments; pings get pongs; a close is answered with the same code and the
 * connection closed.  A broken stream is closed with the code the RFC
 * names: 1002 (unmasked frame, bad opcode, reserved bits, control frame
 * fragmented or over 125 bytes, bad fragment order), 1007 (text that is
 * not UTF-8), 1009 (a message over max_message_bytes).
 *
 * Memory per connection is bounded: one message (at most max_message_bytes,
 * given back after a large one), and at most WS_PENDING_MAX bytes of echoes
 * waiting for the client before reading stops (pause_body) until it has
 * taken them (on_writable).
 *
 * Option: max_message_bytes (1 to 1073741824, default 1048576).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include <httpq/module.h>

#include "wsframe.h"

#define WS_MAX_MESSAGE_DEFAULT (1024 * 1024)
#define WS_MAX_MESSAGE_LIMIT (1024 * 1024 * 1024)
/* Echoes the client has not taken yet, beyond which reading stops. */
#define WS_PENDING_MAX (256 * 1024)
/* A message buffer above this goes back after its message. */
#define WS_KEEP_BUF (64 * 1024)

static const struct httpq_api *api;

struct wsmod {
	httpq_ctx *ctx;
	uint64_t max_message;
};

/* One WebSocket connection. */
struct ws {
	struct wsmod *m;
	httpq_request *req;
	struct ws_rx rx;
	uint8_t *msg;       /* the message being received */
	size_t len, cap;
	int depth;          /* in on_data: free at its end */
	bool ended;         /* the request is released (or finished) */
};

static int
ws_options(const struct httpq_api *a, httpq_ctx *ctx, httpq_validation *v,
    struct wsmod *m)
{
	const char *val = a->option(ctx, "max_message_bytes");
	unsigned long long n;
	char *end;

	m->max_message = WS_MAX_MESSAGE_DEFAULT;
	if (val == NULL)
		return 0;
	errno = 0;
	n = strtoull(val, &end, 10);
	if (*val < '0' || *val > '9' || *end != '\0' || errno != 0 || n < 1 ||
	    n > WS_MAX_MESSAGE_LIMIT) {
		if (v != NULL)
			a->report(v, "max_message_bytes", "expected a number of bytes "
			    "from 1 to %d, got \"%s\"", WS_MAX_MESSAGE_LIMIT, val);
		else
			a->log(ctx, HTTPQ_LOG_ERR, "option max_message_bytes: expected "
			    "1 to %d, got \"%s\"", WS_MAX_MESSAGE_LIMIT, val);
		return -1;
	}
	m->max_message = n;
	return 0;
}

static int
ws_validate(const struct httpq_api *a, httpq_ctx *ctx, httpq_validation *v)
{
	struct wsmod m;

	return ws_options(a, ctx, v, &m);
}

static int
ws_init(const struct httpq_api *a, httpq_ctx *ctx, void **state)
{
	struct wsmod *m;

	if (a->minor < 4) {
		a->log(ctx, HTTPQ_LOG_ERR, "needs httpqd with module ABI 1.4 (101 "
		    "Switching Protocols), this one has 1.%u", (unsigned)a->minor);
		return -1;
	}
	if ((m = calloc(1, sizeof(*m))) == NULL)
		return -1;
	api = a;
	m->ctx = ctx;
	if (ws_options(a, ctx, NULL, m) < 0) {
		free(m);
		return -1;
	}
	*state = m;
	return 0;
}

static void
ws_fini(void *state)
{
	free(state);
}

/* --- the connection ------------------------------------------------------ */

static void
ws_free(struct ws *ws)
{
	free(ws->msg);
	free(ws);
}

/* Ends the stream: what is queued goes out, then the connection closes. */
static void
ws_end(struct ws *ws)
{
	if (ws->ended)
		return;
	ws->ended = true;
	api->send_body(ws->req, NULL, 0, 0);
}

static void
ws_send(struct ws *ws, enum ws_op op, const void *p, size_t n)
{
	uint8_t head[WS_HEAD_MAX];
	size_t hl = ws_frame_head(head, true, op, n, NULL);

	api->send_body(ws->req, head, hl, HTTPQ_SEND_MORE);
	if (n > 0)
		api->send_body(ws->req, p, n, HTTPQ_SEND_MORE);
}

static void
ws_close(struct ws *ws, uint16_t code, const char *why)
{
	uint8_t p[WS_CONTROL_MAX];
	size_t n = 0;

	if (code != WS_CLOSE_NO_STATUS) {
		p[0] = (uint8_t)(code >> 8);
		p[1] = (uint8_t)code;
		n = 2;
		if (why != NULL) {
			size_t wl = strlen(why);

			if (wl > sizeof(p) - 2)
				wl = sizeof(p) - 2;
			memcpy(p + 2, why, wl);
			n += wl;
		}
	}
	ws_send(ws, WS_OP_CLOSE, p, n);
	ws_end(ws);
}

/* Room for more of the message: the buffer grows up to max_message (the
 * reader refuses longer messages before their bytes come). */
static void
ws_room(struct ws *ws)
{
	size_t cap;

	if (ws->cap - ws->len >= 4096 || ws->cap >= ws->m->max_message)
		return;
	cap = ws->cap < 4096 ? 4096 : ws->cap * 2;
	if (cap > ws->m->max_message)
		cap = (size_t)ws->m->max_message;
	if (cap <= ws->cap)
		return;
	uint8_t *p = realloc(ws->msg, cap);

	if (p == NULL)
		return;
	ws->msg = p;
	ws->cap = cap;
}

static void
on_writable(httpq_request *req, void *arg)
{
	(void)arg;
	api->pause_body(req, 0);
}

static void
on_data(httpq_request *req, void *arg, const void *data, size_t n, unsigned flags)
{
	struct ws *ws = arg;
	const uint8_t *p = data;

	if (flags & HTTPQ_BODY_ERROR)
		return; /* on_abort follows */
	ws->depth++;
	while (n > 0 && !ws->ended) {
		struct ws_event e;
		size_t used;

		ws_room(ws);
		used = ws_rx_feed(&ws->rx, p, n, ws->msg + ws->len, ws->cap - ws->len, &e);
		p += used;
		n -= used;
		switch (e.ev) {
		case WS_EV_NONE:
			if (used == 0 && n > 0)
				ws_close(ws, 1011, "out of memory");
			break;
		case WS_EV_DATA:
			ws->len += e.len;
			if (!e.msg_end)
				break;
			ws_send(ws, e.op, ws->msg, ws->len);
			ws->len = 0;
			if (ws->cap > WS_KEEP_BUF) {
				free(ws->msg);
				ws->msg = NULL;
				ws->cap = 0;
			}
			break;
		case WS_EV_PING:
			ws_send(ws, WS_OP_PONG, ws->rx.ctl, ws->rx.ctl_len);
			break;
		case WS_EV_PONG:
			break;
		case WS_EV_CLOSE:
			/* The close handshake: the same code back, then the
			 * server closes the TCP connection (RFC 6455 7.1.1). */
			ws_close(ws, e.code, NULL);
			break;
		case WS_EV_ERROR:
			ws_close(ws, e.code, e.why);
			break;
		}
	}
	if (!ws->ended && (flags & HTTPQ_BODY_END))
		ws_end(ws); /* the client went without a close frame */
	if (!ws->ended && api->pending(req) > WS_PENDING_MAX) {
		/* The client does not read: stop reading it until it does. */
		api->pause_body(req, 1);
		api->on_writable(req, on_writable, ws);
	}
	if (--ws->depth == 0 && ws->ended)
		ws_free(ws);
}

static void
on_abort(httpq_request *req, void *arg)
{
	struct ws *ws = arg;

	api->finish(req);
	ws->ended = true;
	if (ws->depth == 0)
		ws_free(ws);
}

/* --- the handshake -------------------------------------------------------- */

/* Whether field name of req lists token tok (comma-separated). */
static bool
has_token(httpq_request *req, const char *name, const char *tok)
{
	size_t tl = strlen(tok);
	httpq_str name_s, v;

	for (size_t i = 0; api->header_at(req, i, &name_s, &v) == 0; i++) {
		const char *s = v.ptr, *e = v.ptr + v.len;

		if (name_s.len != strlen(name) || strncasecmp(name_s.ptr, name, name_s.len) != 0)
			continue;
		while (s < e) {
			const char *c = memchr(s, ',', (size_t)(e - s));
			const char *te = c ? c : e;

			while (s < te && (*s == ' ' || *s == '\t'))
				s++;
			while (te > s && (te[-1] == ' ' || te[-1] == '\t'))
				te--;
			if ((size_t)(te - s) == tl && strncasecmp(s, tok, tl) == 0)
				return true;
			s = c ? c + 1 : e;
		}
	}
	return false;
}

static void
answer(httpq_request *req, int status, const httpq_header *extra, size_t nextra,
    const char *body)
{
	httpq_header h[4] = { { "Content-Type", 12, "text/plain", 10 } };
	size_t n = 1;

	for (size_t i = 0; i < nextra && n < 4; i++)
		h[n++] = extra[i];
	if (api->send_head(req, status, NULL, h, n, HTTPQ_SEND_MORE) < 0 ||
	    api->send_body(req, body, strlen(body), 0) < 0)
		api->finish(req);
}

/* A Sec-WebSocket-Key: 16 bytes in base64, 24 characters. */
static bool
key_ok(httpq_str k)
{
	static const char b64[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

	if (k.ptr == NULL || k.len != 24 || k.ptr[22] != '=' || k.ptr[23] != '=')
		return false;
	for (size_t i = 0; i < 22; i++)
		if (k.ptr[i] == '\0' || strchr(b64, k.ptr[i]) == NULL)
			return false;
	/* the last character carries 2 bits: its low 4 are zero */
	return (strchr(b64, k.ptr[21]) - b64) % 16 == 0;
}

/* Sec-WebSocket-Accept: base64(SHA-1(key + the RFC's GUID)). */
static bool
accept_value(httpq_str key, char out[32])
{
	static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
	unsigned char in[24 + sizeof(guid)], md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	memcpy(in, key.ptr, 24);
	memcpy(in + 24, guid, sizeof(guid) - 1);
	if (!EVP_Digest(in, 24 + sizeof(guid) - 1, md, &mdlen, EVP_sha1(), NULL) ||
	    mdlen != 20)
		return false;
	return EVP_EncodeBlock((unsigned char *)out, md, 20) == 28;
}

static void
ws_handle(void *state, httpq_request *req)
{
	struct wsmod *m = state;
	httpq_str method = api->method(req), ver, key;
	char acc[32];
	struct ws *ws;

	if (!has_token(req, "Upgrade", "websocket")) {
		static const httpq_header up = { "Upgrade", 7, "websocket", 9 };

		answer(req, 426, &up, 1, "This is a WebSocket endpoint.\n");
		return;
	}
	ver = api->header(req, "Sec-WebSocket-Version");
	if (ver.ptr == NULL || ver.len != 2 || memcmp(ver.ptr, "13", 2) != 0) {
		static const httpq_header h[] = {
			{ "Upgrade", 7, "websocket", 9 },
			{ "Sec-WebSocket-Version", 21, "13", 2 },
		};

		answer(req, 426, h, 2, "WebSocket version 13 only.\n");
		return;
	}
	key = api->header(req, "Sec-WebSocket-Key");
	if (method.len != 3 || memcmp(method.ptr, "GET", 3) != 0 ||
	    api->version(req) != 11 || !has_token(req, "Connection", "upgrade") ||
	    !key_ok(key) || !accept_value(key, acc)) {
		answer(req, 400, NULL, 0, "Bad WebSocket handshake.\n");
		return;
	}
	httpq_header h[] = {
		{ "Upgrade", 7, "websocket", 9 },
		{ "Sec-WebSocket-Accept", 20, acc, 28 },
	};
	if ((ws = calloc(1, sizeof(*ws))) == NULL) {
		api->finish(req); /* 500 */
		return;
	}
	if (api->send_head(req, 101, NULL, h, 2, HTTPQ_SEND_MORE) < 0) {
		/* a request body, or a daemon that cannot upgrade this one */
		free(ws);
		answer(req, 400, NULL, 0, "This request cannot be upgraded.\n");
		return;
	}
	ws->m = m;
	ws->req = req;
	ws_rx_init(&ws->rx, m->max_message, true);
	api->on_abort(req, on_abort, ws);
	api->read_body(req, on_data, ws);
}

const struct httpq_module httpq_module = {
	HTTPQ_MODULE_HEAD,
	.name = "websocket",
	.version = "1.0",
	.init = ws_init,
	.handle = ws_handle,
	.fini = ws_fini,
	.validate = ws_validate,
};
