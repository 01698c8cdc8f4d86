/*
 * test_wsframe.c -- the websocket module's frame codec
 * (src/modules/wsframe.c): each row is a stream of client frames and what
 * the reader must make of it, read whole and again byte by byte; frame
 * heads; UTF-8; close codes.
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <string.h>

#include "wsframe.h"
#include "check_main.h"

/* Masked with a zero key, a payload reads as itself. */
#define Z "\0\0\0\0"

static const struct rx_row {
	const char *name;
	const char *in;
	size_t len;
	uint64_t max;
	bool need_mask;
	const char *want; /* T:text B:hex P:ping O:pong Cnnnn:reason Ennnn */
} rx_rows[] = {
#define R(name, s, max, mask, want) { name, s, sizeof(s) - 1, max, mask, want }
	R("text", "\x81\x82" Z "hi", 100, true, "T:hi|"),
	R("binary", "\x82\x83" Z "\x00\x01\xff", 100, true, "B:0001ff|"),
	R("real mask", "\x81\x82\x01\x02\x03\x04" "\x69\x6b", 100, true, "T:hi|"),
	R("empty text", "\x81\x80" Z, 100, true, "T:|"),
	R("fragments, ping between", "\x01\x81" Z "a" "\x89\x81" Z "p" "\x80\x81" Z "b",
	    100, true, "P:p|T:ab|"),
	R("empty fragment", "\x01\x80" Z "\x80\x81" Z "x", 100, true, "T:x|"),
	R("unmasked from a client", "\x81\x02hi", 100, true, "E1002|"),
	R("unmasked allowed", "\x81\x02hi", 100, false, "T:hi|"),
	R("reserved bit", "\xc1\x80" Z, 100, true, "E1002|"),
	R("opcode 3", "\x83\x80" Z, 100, true, "E1002|"),
	R("opcode 11", "\x8b\x80" Z, 100, true, "E1002|"),
	R("fragmented ping", "\x09\x80" Z, 100, true, "E1002|"),
	R("ping of 126 bytes", "\x89\xfe\x00\x7e" Z, 100, true, "E1002|"),
	R("continuation first", "\x80\x80" Z, 100, true, "E1002|"),
	R("new message inside one", "\x01\x80" Z "\x81\x80" Z, 100, true, "E1002|"),
	R("too big", "\x82\x84" Z "abcd", 3, true, "E1009|"),
	R("too big in fragments", "\x02\x82" Z "ab" "\x80\x82" Z "cd", 3, true, "E1009|"),
	R("just fits", "\x02\x82" Z "ab" "\x80\x81" Z "c", 3, true, "B:616263|"),
	R("16-bit length not minimal", "\x82\xfe\x00\x05" Z "abcde", 100, true, "E1002|"),
	R("64-bit length not minimal", "\x82\xff\0\0\0\0\0\0\0\x05" Z "abcde", 100, true,
	    "E1002|"),
	R("64-bit length top bit", "\x82\xff\x80\0\0\0\0\0\0\0" Z, 100, true, "E1002|"),
	R("surrogate in text", "\x81\x83" Z "\xed\xa0\x80", 100, true, "E1007|"),
	R("overlong in text", "\x81\x82" Z "\xc0\x80", 100, true, "E1007|"),
	R("UTF-8 across fragments", "\x01\x81" Z "\xc3" "\x80\x81" Z "\xa9", 100, true,
	    "T:\xc3\xa9|"),
	R("UTF-8 cut at the end", "\x81\x81" Z "\xc3", 100, true, "E1007|"),
	R("binary is not UTF-8", "\x82\x81" Z "\xff", 100, true, "B:ff|"),
	R("close 1000 bye", "\x88\x85" Z "\x03\xe8" "bye", 100, true, "C1000:bye|"),
	R("close without code", "\x88\x80" Z, 100, true, "C1005:|"),
	R("close of 1 byte", "\x88\x81" Z "\x03", 100, true, "E1002|"),
	R("close code 1005", "\x88\x82" Z "\x03\xed", 100, true, "E1002|"),
	R("close code 999", "\x88\x82" Z "\x03\xe7", 100, true, "E1002|"),
	R("close code 4999", "\x88\x82" Z "\x13\x87", 100, true, "C4999:|"),
	R("close reason not UTF-8", "\x88\x83" Z "\x03\xe8\xff", 100, true, "E1007|"),
	R("pong", "\x8a\x81" Z "z", 100, true, "O:z|"),
	R("frame not complete", "\x81\x85" Z "he", 100, true, ""),
	R("nothing after an error", "\x83\x80" Z "\x81\x82" Z "hi", 100, true, "E1002|"),
#undef R
};

/* What the reader makes of in, fed step bytes at a time (0: whole). */
static void
run(const struct rx_row *r, size_t step, char *out, size_t outlen)
{
	struct ws_rx rx;
	uint8_t buf[256], msg[256];
	size_t mlen = 0, off = 0, o = 0;
	const uint8_t *in = (const uint8_t *)r->in;

	out[0] = '\0';
	ws_rx_init(&rx, r->max, r->need_mask);
	while (off < r->len) {
		size_t n = step == 0 || r->len - off < step ? r->len - off : step;
		const uint8_t *p = in + off;

		off += n;
		while (n > 0) {
			struct ws_event e;
			size_t used = ws_rx_feed(&rx, p, n, buf, sizeof(buf), &e);

			p += used;
			n -= used;
			if (e.ev == WS_EV_DATA) {
				memcpy(msg + mlen, buf, e.len);
				mlen += e.len;
				if (!e.msg_end)
					continue;
				if (e.op == WS_OP_TEXT) {
					o += (size_t)snprintf(out + o, outlen - o, "T:%.*s|",
					    (int)mlen, msg);
				} else {
					o += (size_t)snprintf(out + o, outlen - o, "B:");
					for (size_t i = 0; i < mlen; i++)
						o += (size_t)snprintf(out + o, outlen - o, "%02x",
						    msg[i]);
					o += (size_t)snprintf(out + o, outlen - o, "|");
				}
				mlen = 0;
			} else if (e.ev == WS_EV_PING || e.ev == WS_EV_PONG) {
				o += (size_t)snprintf(out + o, outlen - o, "%c:%.*s|",
				    e.ev == WS_EV_PING ? 'P' : 'O', (int)rx.ctl_len, rx.ctl);
			} else if (e.ev == WS_EV_CLOSE) {
				o += (size_t)snprintf(out + o, outlen - o, "C%u:%.*s|", e.code,
				    (int)e.reason_len, e.reason);
			} else if (e.ev == WS_EV_ERROR) {
				o += (size_t)snprintf(out + o, outlen - o, "E%u|", e.code);
				return;
			}
		}
	}
}

START_TEST(reader)
{
	const struct rx_row *r = &rx_rows[_i];
	char whole[512], bytewise[512];

	run(r, 0, whole, sizeof(whole));
	ck_assert_msg(strcmp(whole, r->want) == 0, "%s: got \"%s\", want \"%s\"",
	    r->name, whole, r->want);
	run(r, 1, bytewise, sizeof(bytewise));
	ck_assert_msg(strcmp(bytewise, r->want) == 0, "%s byte by byte: got \"%s\"",
	    r->name, bytewise);
}
END_TEST

/* No room for data: the head is taken, the data waits. */
START_TEST(no_room)
{
	static const uint8_t in[] = "\x82\x83" Z "abc";
	struct ws_rx rx;
	struct ws_event e;
	uint8_t out[4];
	size_t used;

	ws_rx_init(&rx, 100, true);
	used = ws_rx_feed(&rx, in, 9, out, 0, &e);
	ck_assert_uint_eq(used, 6);
	ck_assert_int_eq(e.ev, WS_EV_NONE);
	used = ws_rx_feed(&rx, in + 6, 3, out, 2, &e);
	ck_assert_uint_eq(used, 2);
	ck_assert_int_eq(e.ev, WS_EV_DATA);
	ck_assert(!e.msg_end);
	used = ws_rx_feed(&rx, in + 8, 1, out, 2, &e);
	ck_assert_uint_eq(used, 1);
	ck_assert(e.msg_end);
}
END_TEST

static const struct head_row {
	uint64_t len;
	bool masked;
	size_t want_len;
	const char *want;
} head_rows[] = {
	{ 0, false, 2, "\x82\x00" },
	{ 125, false, 2, "\x82\x7d" },
	{ 126, false, 4, "\x82\x7e\x00\x7e" },
	{ 65535, false, 4, "\x82\x7e\xff\xff" },
	{ 65536, false, 10, "\x82\x7f\0\0\0\0\0\x01\0\0" },
	{ 5, true, 6, "\x82\x85\x01\x02\x03\x04" },
};

START_TEST(frame_heads)
{
	static const uint8_t mask[4] = { 1, 2, 3, 4 };
	const struct head_row *r = &head_rows[_i];
	uint8_t buf[WS_HEAD_MAX];
	size_t n = ws_frame_head(buf, true, WS_OP_BINARY, r->len, r->masked ? mask : NULL);

	ck_assert_uint_eq(n, r->want_len);
	ck_assert(memcmp(buf, r->want, n) == 0);
}
END_TEST

static const struct utf8_row {
	const char *s;
	bool ok;
} utf8_rows[] = {
	{ "plain ascii", true },
	{ "\xc3\xa9t\xc3\xa9", true },
	{ "\xe2\x82\xac", true },               /* U+20AC */
	{ "\xf0\x9f\x98\x80", true },           /* U+1F600 */
	{ "\xf4\x8f\xbf\xbf", true },           /* U+10FFFF */
	{ "\xef\xbf\xbf", true },               /* U+FFFF, a noncharacter, valid */
	{ "\x80", false },                      /* a lone continuation */
	{ "\xc0\xaf", false },                  /* overlong '/' */
	{ "\xc1\xbf", false },
	{ "\xe0\x80\xaf", false },              /* overlong */
	{ "\xed\xa0\x80", false },              /* U+D800, a surrogate */
	{ "\xed\xbf\xbf", false },              /* U+DFFF */
	{ "\xf0\x8f\xbf\xbf", false },          /* overlong */
	{ "\xf4\x90\x80\x80", false },          /* U+110000 */
	{ "\xf5\x80\x80\x80", false },
	{ "\xff", false },
	{ "\xc3", false },                      /* cut short */
	{ "\xe2\x82", false },
};

START_TEST(utf8)
{
	const struct utf8_row *r = &utf8_rows[_i];
	const uint8_t *p = (const uint8_t *)r->s;
	size_t n = strlen(r->s);

	ck_assert_msg((ws_utf8(0, p, n) == 0) == r->ok, "row %d", _i);
	/* the same verdict fed byte by byte */
	uint32_t st = 0;

	for (size_t i = 0; i < n; i++)
		st = ws_utf8(st, p + i, 1);
	ck_assert_msg((st == 0) == r->ok, "row %d byte by byte", _i);
}
END_TEST

START_TEST(close_codes)
{
	static const struct { uint16_t code; bool ok; } rows[] = {
		{ 999, false }, { 1000, true }, { 1003, true }, { 1004, false },
		{ 1005, false }, { 1006, false }, { 1007, true }, { 1011, true },
		{ 1015, false }, { 2999, false }, { 3000, true }, { 4999, true },
		{ 5000, false },
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		ck_assert_msg(ws_close_code_ok(rows[i].code) == rows[i].ok, "code %u",
		    rows[i].code);
}
END_TEST

Suite *
unit_suite(void)
{
	Suite *s = suite_create("wsframe");
	TCase *tc = tcase_create("codec");

	tcase_add_loop_test(tc, reader, 0, sizeof(rx_rows) / sizeof(rx_rows[0]));
	tcase_add_test(tc, no_room);
	tcase_add_loop_test(tc, frame_heads, 0, sizeof(head_rows) / sizeof(head_rows[0]));
	tcase_add_loop_test(tc, utf8, 0, sizeof(utf8_rows) / sizeof(utf8_rows[0]));
	tcase_add_test(tc, close_codes);
	suite_add_tcase(s, tc);
	return s;
}
