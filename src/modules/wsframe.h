/*
 * wsframe.h -- the WebSocket frame codec of the websocket module (RFC 6455
 * section 5): an incremental reader of what a client sends, with every
 * check of the RFC that needs no more than the bytes (masking, reserved
 * bits and opcodes, control frames, minimal lengths, fragmentation order,
 * message size, UTF-8 of text and close reasons), and the writer of a
 * server's frame heads.
 *
 * Pure code (libc only): linked by the module, its unit test
 * (tests/unit/test_wsframe.c) and its fuzzer (tests/fuzz/fuzz_wsframe.c).
 */
#ifndef WSFRAME_H
#define WSFRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum ws_op {
	WS_OP_CONT = 0x0,
	WS_OP_TEXT = 0x1,
	WS_OP_BINARY = 0x2,
	WS_OP_CLOSE = 0x8,
	WS_OP_PING = 0x9,
	WS_OP_PONG = 0xA,
};

/* Close codes (RFC 6455 7.4.1) the codec and the module send. */
#define WS_CLOSE_NORMAL 1000
#define WS_CLOSE_PROTOCOL 1002
#define WS_CLOSE_NO_STATUS 1005 /* received: a close frame without a code */
#define WS_CLOSE_BAD_DATA 1007
#define WS_CLOSE_TOO_BIG 1009

#define WS_CONTROL_MAX 125 /* payload of a control frame */
#define WS_HEAD_MAX 14     /* the longest frame head */

/* What ws_rx_feed() found. */
enum ws_ev {
	WS_EV_NONE,   /* every byte taken; more are needed */
	WS_EV_DATA,   /* len bytes of the current message written to out */
	WS_EV_PING,   /* a whole ping: ctl[0..ctl_len) */
	WS_EV_PONG,   /* a whole pong */
	WS_EV_CLOSE,  /* a whole close: code (1005 if none), reason in ctl */
	WS_EV_ERROR,  /* the stream is broken: close with code, why says it */
};

struct ws_event {
	enum ws_ev ev;
	size_t len;          /* WS_EV_DATA: bytes written to out */
	enum ws_op op;       /* WS_EV_DATA: WS_OP_TEXT or WS_OP_BINARY */
	bool msg_end;        /* WS_EV_DATA: the message is complete */
	uint16_t code;       /* WS_EV_CLOSE, WS_EV_ERROR */
	const char *why;     /* WS_EV_ERROR: a static string */
	const uint8_t *reason; /* WS_EV_CLOSE: the reason text (UTF-8, checked) */
	size_t reason_len;
};

/* The reader's state; zero it with ws_rx_init(). */
struct ws_rx {
	uint64_t max_msg;    /* a message longer than this is 1009 */
	bool need_mask;      /* a server's reader: unmasked frames are 1002 */
	bool broken;         /* after WS_EV_ERROR: nothing more is read */
	uint16_t err;        /* its code and reason */
	const char *why;
	/* the frame being read */
	uint8_t head[WS_HEAD_MAX];
	uint8_t hlen;        /* head bytes so far; 0 between frames */
	bool in_payload;
	bool fin;
	uint8_t op;
	bool masked;
	uint8_t mask[4];
	uint64_t flen, fgot; /* payload length and bytes read of it */
	/* the message being read (data frames) */
	uint8_t msg_op;      /* 0: none; else WS_OP_TEXT or WS_OP_BINARY */
	uint64_t msg_len;
	uint32_t utf8;       /* ws_utf8() state of a text message */
	/* a control frame's payload */
	uint8_t ctl[WS_CONTROL_MAX];
	size_t ctl_len;
};

void ws_rx_init(struct ws_rx *rx, uint64_t max_msg, bool need_mask);

/*
 * Reads from in[0..n): returns how many bytes it took and fills *e.  Data
 * of a message is unmasked into out (at most outcap bytes per call; outcap
 * 0 with data waiting takes the head only, and returns WS_EV_NONE having
 * taken less than n: the caller must make room).  Call again with the rest
 * while bytes are left and the event is not WS_EV_NONE or WS_EV_ERROR.
 * After WS_EV_ERROR, every call returns it again and takes nothing.
 */
size_t ws_rx_feed(struct ws_rx *rx, const uint8_t *in, size_t n, uint8_t *out,
    size_t outcap, struct ws_event *e);

/*
 * Incremental UTF-8 check (RFC 3629: no overlongs, no surrogates, nothing
 * above U+10FFFF).  state starts at 0; returns the new state, or
 * WS_UTF8_BAD.  A text is valid when the state after its last byte is 0.
 */
#define WS_UTF8_BAD 0xFFFFFFFFu
uint32_t ws_utf8(uint32_t state, const uint8_t *p, size_t n);

/* Writes the head of a frame to buf (WS_HEAD_MAX bytes): masked with mask
 * unless mask is NULL.  Returns its length. */
size_t ws_frame_head(uint8_t *buf, bool fin, enum ws_op op, uint64_t len,
    const uint8_t *mask);

/* XORs p[0..n) with mask, starting at payload offset off. */
void ws_mask(uint8_t *p, size_t n, const uint8_t mask[4], uint64_t off);

/* Whether code may be sent in a close frame (RFC 6455 7.4). */
bool ws_close_code_ok(uint16_t code);

#endif /* WSFRAME_H */
