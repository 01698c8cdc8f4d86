/*
 * wsframe.c -- the WebSocket frame codec (wsframe.h).  RFC 6455 section 5;
 * every violation is reported as the close code the RFC asks for.
 */
#include "wsframe.h"

#include <string.h>

void
ws_rx_init(struct ws_rx *rx, uint64_t max_msg, bool need_mask)
{
	memset(rx, 0, sizeof(*rx));
	rx->max_msg = max_msg;
	rx->need_mask = need_mask;
}

uint32_t
ws_utf8(uint32_t st, const uint8_t *p, size_t n)
{
	unsigned need = st & 3, lo = (st >> 8) & 0xff, hi = (st >> 16) & 0xff;

	if (st == WS_UTF8_BAD)
		return WS_UTF8_BAD;
	for (size_t i = 0; i < n; i++) {
		uint8_t b = p[i];

		if (need > 0) {
			if (b < lo || b > hi)
				return WS_UTF8_BAD;
			need--;
			lo = 0x80, hi = 0xBF;
		} else if (b < 0x80) {
			continue;
		} else if (b < 0xC2) {
			return WS_UTF8_BAD; /* a continuation, or an overlong lead */
		} else if (b < 0xE0) {
			need = 1, lo = 0x80, hi = 0xBF;
		} else if (b < 0xF0) {
			/* E0: no overlong; ED: no surrogate */
			need = 2, lo = b == 0xE0 ? 0xA0 : 0x80, hi = b == 0xED ? 0x9F : 0xBF;
		} else if (b < 0xF5) {
			/* F0: no overlong; F4: nothing above U+10FFFF */
			need = 3, lo = b == 0xF0 ? 0x90 : 0x80, hi = b == 0xF4 ? 0x8F : 0xBF;
		} else {
			return WS_UTF8_BAD;
		}
	}
	return need == 0 ? 0 : need | lo << 8 | hi << 16;
}

void
ws_mask(uint8_t *p, size_t n, const uint8_t mask[4], uint64_t off)
{
	for (size_t i = 0; i < n; i++)
		p[i] ^= mask[(off + i) & 3];
}

bool
ws_close_code_ok(uint16_t code)
{
	return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
	    (code >= 3000 && code <= 4999);
}

size_t
ws_frame_head(uint8_t *buf, bool fin, enum ws_op op, uint64_t len, const uint8_t *mask)
{
	size_t n = 2;

	buf[0] = (uint8_t)((fin ? 0x80 : 0) | (op & 0x0f));
	if (len < 126) {
		buf[1] = (uint8_t)len;
	} else if (len <= 0xffff) {
		buf[1] = 126;
		buf[2] = (uint8_t)(len >> 8);
		buf[3] = (uint8_t)len;
		n = 4;
	} else {
		buf[1] = 127;
		for (int i = 0; i < 8; i++)
			buf[2 + i] = (uint8_t)(len >> (56 - 8 * i));
		n = 10;
	}
	if (mask != NULL) {
		buf[1] |= 0x80;
		memcpy(buf + n, mask, 4);
		n += 4;
	}
	return n;
}

static size_t
fail(struct ws_rx *rx, struct ws_event *e, size_t used, uint16_t code, const char *why)
{
	if (!rx->broken) {
		rx->broken = true;
		rx->err = code;
		rx->why = why;
	}
	e->ev = WS_EV_ERROR;
	e->code = rx->err;
	e->why = rx->why;
	return used;
}

/* The head's length once its first two bytes are in. */
static size_t
head_need(const struct ws_rx *rx)
{
	unsigned len7 = rx->head[1] & 0x7f;

	return 2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0) + (rx->head[1] & 0x80 ? 4 : 0);
}

/* The first two bytes: everything but the length can be judged. */
static const char *
check_start(struct ws_rx *rx)
{
	uint8_t op = rx->head[0] & 0x0f;

	rx->fin = (rx->head[0] & 0x80) != 0;
	rx->op = op;
	rx->masked = (rx->head[1] & 0x80) != 0;
	if (rx->head[0] & 0x70)
		return "reserved bits set (no extension was agreed)";
	if (op != WS_OP_CONT && op != WS_OP_TEXT && op != WS_OP_BINARY &&
	    op != WS_OP_CLOSE && op != WS_OP_PING && op != WS_OP_PONG)
		return "unknown opcode";
	if (rx->need_mask && !rx->masked)
		return "unmasked frame from a client";
	if (op & 0x8) {
		if (!rx->fin)
			return "fragmented control frame";
		if ((rx->head[1] & 0x7f) > WS_CONTROL_MAX)
			return "control frame longer than 125 bytes";
	} else if (op == WS_OP_CONT && rx->msg_op == 0) {
		return "continuation frame without a message";
	} else if (op != WS_OP_CONT && rx->msg_op != 0) {
		return "new message before the last one ended";
	}
	return NULL;
}

/* The whole head: the length (minimal, 63 bits) and the message size. */
static size_t
take_head(struct ws_rx *rx, struct ws_event *e, size_t used)
{
	unsigned len7 = rx->head[1] & 0x7f;
	size_t at = 2;

	rx->flen = len7;
	if (len7 == 126) {
		rx->flen = (uint64_t)rx->head[2] << 8 | rx->head[3];
		at = 4;
		if (rx->flen < 126)
			return fail(rx, e, used, WS_CLOSE_PROTOCOL, "frame length not minimal");
	} else if (len7 == 127) {
		rx->flen = 0;
		for (int i = 0; i < 8; i++)
			rx->flen = rx->flen << 8 | rx->head[2 + i];
		at = 10;
		if (rx->flen >> 63)
			return fail(rx, e, used, WS_CLOSE_PROTOCOL, "frame length over 63 bits");
		if (rx->flen <= 0xffff)
			return fail(rx, e, used, WS_CLOSE_PROTOCOL, "frame length not minimal");
	}
	if (rx->masked)
		memcpy(rx->mask, rx->head + at, 4);
	if (!(rx->op & 0x8)) {
		if (rx->op != WS_OP_CONT) {
			rx->msg_op = rx->op;
			rx->msg_len = 0;
			rx->utf8 = 0;
		}
		if (rx->flen > rx->max_msg || rx->msg_len > rx->max_msg - rx->flen)
			return fail(rx, e, used, WS_CLOSE_TOO_BIG, "message too big");
	}
	rx->hlen = 0;
	rx->in_payload = true;
	rx->fgot = 0;
	rx->ctl_len = 0;
	return used;
}

/* A control frame is whole: its event. */
static size_t
control_done(struct ws_rx *rx, struct ws_event *e, size_t used)
{
	rx->in_payload = false;
	if (rx->op == WS_OP_PING) {
		e->ev = WS_EV_PING;
		return used;
	}
	if (rx->op == WS_OP_PONG) {
		e->ev = WS_EV_PONG;
		return used;
	}
	e->ev = WS_EV_CLOSE;
	e->code = WS_CLOSE_NO_STATUS;
	if (rx->ctl_len == 0)
		return used;
	if (rx->ctl_len == 1)
		return fail(rx, e, used, WS_CLOSE_PROTOCOL, "close frame with a 1-byte payload");
	e->code = (uint16_t)(rx->ctl[0] << 8 | rx->ctl[1]);
	if (!ws_close_code_ok(e->code))
		return fail(rx, e, used, WS_CLOSE_PROTOCOL, "close code not allowed");
	if (ws_utf8(0, rx->ctl + 2, rx->ctl_len - 2) != 0)
		return fail(rx, e, used, WS_CLOSE_BAD_DATA, "close reason is not UTF-8");
	e->reason = rx->ctl + 2;
	e->reason_len = rx->ctl_len - 2;
	return used;
}

/* Data written; the frame (and the message) may be complete. */
static size_t
data_event(struct ws_rx *rx, struct ws_event *e, size_t used, size_t len)
{
	bool frame_end = rx->fgot == rx->flen;

	e->ev = WS_EV_DATA;
	e->len = len;
	e->op = (enum ws_op)rx->msg_op;
	e->msg_end = frame_end && rx->fin;
	if (e->msg_end && rx->msg_op == WS_OP_TEXT && rx->utf8 != 0)
		return fail(rx, e, used, WS_CLOSE_BAD_DATA, "text message is not UTF-8");
	if (frame_end)
		rx->in_payload = false;
	if (e->msg_end)
		rx->msg_op = 0;
	return used;
}

size_t
ws_rx_feed(struct ws_rx *rx, const uint8_t *in, size_t n, uint8_t *out,
    size_t outcap, struct ws_event *e)
{
	size_t used = 0;

	memset(e, 0, sizeof(*e));
	e->ev = WS_EV_NONE;
	if (rx->broken)
		return fail(rx, e, 0, 0, NULL);
	while (used < n) {
		if (!rx->in_payload) {
			const char *why;

			rx->head[rx->hlen++] = in[used++];
			if (rx->hlen == 2 && (why = check_start(rx)) != NULL)
				return fail(rx, e, used, WS_CLOSE_PROTOCOL, why);
			if (rx->hlen < 2 || rx->hlen < head_need(rx))
				continue;
			take_head(rx, e, used);
			if (rx->broken)
				return used;
			if (rx->flen > 0)
				continue;
			if (rx->op & 0x8)
				return control_done(rx, e, used);
			if (rx->fin)
				return data_event(rx, e, used, 0);
			rx->in_payload = false; /* an empty fragment: nothing to say */
			continue;
		}
		uint64_t left = rx->flen - rx->fgot;
		size_t take = n - used < left ? n - used : (size_t)left;

		if (rx->op & 0x8) {
			memcpy(rx->ctl + rx->ctl_len, in + used, take);
			if (rx->masked)
				ws_mask(rx->ctl + rx->ctl_len, take, rx->mask, rx->fgot);
			rx->ctl_len += take;
			rx->fgot += take;
			used += take;
			if (rx->fgot == rx->flen)
				return control_done(rx, e, used);
			continue;
		}
		if (take > outcap)
			take = outcap;
		if (take == 0)
			return used; /* no room: the caller makes some */
		memcpy(out, in + used, take);
		if (rx->masked)
			ws_mask(out, take, rx->mask, rx->fgot);
		rx->fgot += take;
		rx->msg_len += take;
		used += take;
		if (rx->msg_op == WS_OP_TEXT &&
		    (rx->utf8 = ws_utf8(rx->utf8, out, take)) == WS_UTF8_BAD)
			return fail(rx, e, used, WS_CLOSE_BAD_DATA, "text message is not UTF-8");
		return data_event(rx, e, used, take);
	}
	return used;
}
