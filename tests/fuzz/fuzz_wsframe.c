// fuzz-sources: src/modules/wsframe.c
/*
 * fuzz_wsframe.c -- libFuzzer harness for the websocket module's frame
 * reader (src/modules/wsframe.c): what a WebSocket client sends.
 *
 * The first two bytes choose the reader's settings (masking required or
 * not, the message size limit, the output room per call); the rest is a
 * stream of frames.  It is read three ways: whole, byte by byte, and cut
 * where the input says with a different output room.  Each way writes a
 * log of what it saw (whole messages, control frames, the error), and the
 * three logs must be the same.  Along the way:
 *   - a call takes no more than it is given, and WS_EV_NONE means all of
 *     it was taken; data never exceeds the room given;
 *   - a message is never longer than the limit; a text message and a
 *     close reason are UTF-8 by an independent check;
 *   - after an error every call repeats it and takes nothing.
 * Then the input is sent as one message, masked and fragmented as the
 * input says, and must come back unchanged (ws_frame_head, ws_mask).
 * The UTF-8 checker is also compared with the independent one, whole and
 * cut in two.  A difference aborts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/modules/wsframe.h"

#define LOG_MAX (1 << 20)

static void
check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_wsframe: %s\n", what);
		abort();
	}
}

/* An independent UTF-8 check: decode each sequence, then judge it. */
static int
utf8_ref(const uint8_t *p, size_t n)
{
	size_t i = 0;

	while (i < n) {
		uint32_t cp;
		size_t len;
		uint8_t b = p[i];

		if (b < 0x80) {
			i++;
			continue;
		}
		if ((b & 0xE0) == 0xC0)
			len = 2, cp = b & 0x1F;
		else if ((b & 0xF0) == 0xE0)
			len = 3, cp = b & 0x0F;
		else if ((b & 0xF8) == 0xF0)
			len = 4, cp = b & 0x07;
		else
			return 0;
		if (i + len > n)
			return 0;
		for (size_t k = 1; k < len; k++) {
			if ((p[i + k] & 0xC0) != 0x80)
				return 0;
			cp = cp << 6 | (p[i + k] & 0x3F);
		}
		if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) ||
		    (len == 4 && cp < 0x10000) || cp > 0x10FFFF ||
		    (cp >= 0xD800 && cp <= 0xDFFF))
			return 0;
		i += len;
	}
	return 1;
}

struct log {
	uint8_t *p;
	size_t len;
	uint8_t *msg;       /* the message being assembled */
	size_t mlen;
};

static void
put(struct log *l, const void *p, size_t n)
{
	if (n == 0)
		return;
	check(l->len + n <= LOG_MAX, "log overflow");
	memcpy(l->p + l->len, p, n);
	l->len += n;
}

static void
put_rec(struct log *l, uint8_t kind, uint32_t a, const void *p, size_t n)
{
	uint32_t len = (uint32_t)n;

	put(l, &kind, 1);
	put(l, &a, 4);
	put(l, &len, 4);
	put(l, p, n);
}

/* Reads in[0..n) as chunks of `step` bytes (0: all at once) with `room`
 * bytes of output per call; the log of what it saw into l. */
static void
read_stream(const uint8_t *in, size_t n, bool need_mask, uint64_t max, size_t step,
    size_t room, struct log *l)
{
	static uint8_t out[65536];
	struct ws_rx rx;
	size_t off = 0;

	ws_rx_init(&rx, max, need_mask);
	l->len = l->mlen = 0;
	while (off < n) {
		size_t chunk = step == 0 || n - off < step ? n - off : step;
		const uint8_t *p = in + off;

		off += chunk;
		while (chunk > 0) {
			struct ws_event e;
			size_t used = ws_rx_feed(&rx, p, chunk, out, room, &e);

			check(used <= chunk, "took more than given");
			p += used;
			chunk -= used;
			switch (e.ev) {
			case WS_EV_NONE:
				check(chunk == 0, "NONE with bytes left");
				break;
			case WS_EV_DATA:
				check(e.len <= room, "data beyond the room");
				check(e.op == WS_OP_TEXT || e.op == WS_OP_BINARY, "data op");
				check(l->mlen + e.len <= max, "message over the limit");
				memcpy(l->msg + l->mlen, out, e.len);
				l->mlen += e.len;
				if (e.msg_end) {
					if (e.op == WS_OP_TEXT)
						check(utf8_ref(l->msg, l->mlen), "text not UTF-8");
					put_rec(l, 'M', e.op, l->msg, l->mlen);
					l->mlen = 0;
				}
				break;
			case WS_EV_PING:
			case WS_EV_PONG:
				check(rx.ctl_len <= WS_CONTROL_MAX, "control too long");
				put_rec(l, e.ev == WS_EV_PING ? 'P' : 'O', 0, rx.ctl, rx.ctl_len);
				break;
			case WS_EV_CLOSE:
				check(e.code == WS_CLOSE_NO_STATUS || ws_close_code_ok(e.code),
				    "close code");
				check(utf8_ref(e.reason, e.reason_len), "close reason not UTF-8");
				put_rec(l, 'C', e.code, e.reason, e.reason_len);
				break;
			case WS_EV_ERROR: {
				struct ws_event again;

				check(e.why != NULL, "error without a reason");
				check(e.code == WS_CLOSE_PROTOCOL || e.code == WS_CLOSE_BAD_DATA ||
				    e.code == WS_CLOSE_TOO_BIG, "error code");
				check(ws_rx_feed(&rx, p, chunk, out, room, &again) == 0 &&
				    again.ev == WS_EV_ERROR && again.code == e.code,
				    "error not sticky");
				put_rec(l, 'E', e.code, NULL, 0);
				return;
			}
			}
		}
	}
}

/* The input as one message of op, masked, in fragments cut where the
 * input says: it must come back whole. */
static void
round_trip(const uint8_t *data, size_t size, enum ws_op op)
{
	static uint8_t wire[LOG_MAX];
	static const uint8_t mask[4] = { 0x12, 0x34, 0x56, 0x78 };
	static struct log l;
	static uint8_t lp[LOG_MAX], lm[LOG_MAX];
	size_t w = 0, off = 0;
	uint32_t want_len;

	l.p = lp;
	l.msg = lm;
	do {
		size_t frag = size - off;

		if (frag > 0 && data[off] % 3 == 0)
			frag = 1 + data[off] % frag; /* cut here */
		w += ws_frame_head(wire + w, off + frag == size,
		    off == 0 ? op : WS_OP_CONT, frag, mask);
		memcpy(wire + w, data + off, frag);
		ws_mask(wire + w, frag, mask, 0);
		w += frag;
		off += frag;
		if (off < size && data[off] % 5 == 0) { /* a ping in between */
			w += ws_frame_head(wire + w, true, WS_OP_PING, 1, mask);
			wire[w] = 'p' ^ mask[0];
			w++;
		}
	} while (off < size);
	read_stream(wire, w, true, size, 0, 4096, &l);
	/* the last record is the message: kind, op, length, bytes */
	check(l.len >= 9 + size, "round trip: no message");
	memcpy(&want_len, l.p + l.len - size - 4, 4);
	check(l.p[l.len - size - 9] == 'M' && want_len == size &&
	    memcmp(l.p + l.len - size, data, size) == 0, "round trip: message differs");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t a[LOG_MAX], b[LOG_MAX], c[LOG_MAX], msg[LOG_MAX];
	struct log la = { a, 0, msg, 0 }, lb = { b, 0, msg, 0 }, lc = { c, 0, msg, 0 };
	bool need_mask;
	uint64_t max;
	size_t room, cut;

	if (size < 2)
		return 0;
	need_mask = data[0] & 1;
	max = (data[0] & 2) ? 1 + data[1] * 16u : LOG_MAX / 2;
	room = 1 + (data[1] & 0x3f) * 97;
	read_stream(data + 2, size - 2, need_mask, max, 0, 4096, &la);
	read_stream(data + 2, size - 2, need_mask, max, 1, 1, &lb);
	check(la.len == lb.len && memcmp(a, b, la.len) == 0, "byte by byte differs");
	cut = 1 + (size_t)data[size - 1] % (size - 1);
	read_stream(data + 2, size - 2, need_mask, max, cut, room, &lc);
	check(la.len == lc.len && memcmp(a, c, la.len) == 0, "cut stream differs");

	/* UTF-8: the same verdict as the reference, also when cut in two */
	int ref = utf8_ref(data, size);
	uint32_t st = ws_utf8(0, data, size);

	check((st == 0) == (ref == 1), "UTF-8 verdict differs");
	cut = (size_t)data[0] % size;
	st = ws_utf8(ws_utf8(0, data, cut), data + cut, size - cut);
	check((st == 0) == (ref == 1), "UTF-8 verdict differs when cut");

	round_trip(data, size, WS_OP_BINARY);
	if (ref)
		round_trip(data, size, WS_OP_TEXT);
	return 0;
}
