/*
 * test_util.c -- the helpers of util.c.
 *
 * The send timer: pending / min_send_rate + 1 seconds, capped at
 * HQ_SEND_TIMER_MAX_S however much is pending, off when the rate is off.
 * Before the cap, a client that pipelined and never read stretched the
 * timer to 65535 s.
 *
 * The one address text, monotonic clock and whole write, that replaced
 * four, three and two copies: each row is what one former copy printed.
 */
#include "config.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <unistd.h>

#include "httpq-internal.h"
#include "check_main.h"

static const struct {
	uint64_t pending;
	uint32_t rate;
	uint32_t want;
} send_cases[] = {
	{ 0, 150, 1 },
	{ 149, 150, 1 },
	{ 150, 150, 2 },
	{ 64 * 1024, 150, 437 > HQ_SEND_TIMER_MAX_S ? HQ_SEND_TIMER_MAX_S : 437 },
	{ (uint64_t)(HQ_SEND_TIMER_MAX_S - 1) * 150, 150, HQ_SEND_TIMER_MAX_S },
	{ (uint64_t)HQ_SEND_TIMER_MAX_S * 150, 150, HQ_SEND_TIMER_MAX_S },
	{ 229u * 1000 * 1000, 150, HQ_SEND_TIMER_MAX_S },  /* the 229 MB of issue 8 */
	{ UINT64_MAX, 1, HQ_SEND_TIMER_MAX_S },
	{ 1000, 1, HQ_SEND_TIMER_MAX_S },
	{ 1000000, 10000, 101 },
	{ 1000, HQ_TIMEOUT_OFF, HQ_TIMEOUT_OFF },
	{ 1000, 0, HQ_TIMEOUT_OFF },
};

START_TEST(send_timeout)
{
	uint32_t got = hq_send_timeout_s(send_cases[_i].pending, send_cases[_i].rate);

	ck_assert_msg(got == send_cases[_i].want,
	    "case %d: pending %llu at %u B/s: got %u s, want %u s", _i,
	    (unsigned long long)send_cases[_i].pending, send_cases[_i].rate, got,
	    send_cases[_i].want);
}
END_TEST

START_TEST(send_timeout_cap_is_short)
{
	/* Minutes, not hours: a stalled client is let go in bounded time. */
	ck_assert_uint_le(HQ_SEND_TIMER_MAX_S, 600);
	ck_assert_uint_le(hq_send_timeout_s(UINT64_MAX, 1), 600);
}
END_TEST

/* --- hq_addr_text ------------------------------------------------------ */

static const struct {
	int family;            /* AF_INET, AF_INET6, AF_UNIX, or 0 for NULL */
	const char *ip;
	uint16_t port;
	unsigned flags;
	const char *want;      /* NULL: -1 and "" */
} addr_cases[] = {
	/* listen addresses (config.c) and ipport bindings (tls_ctx.c) */
	{ AF_INET, "127.0.0.1", 8080, HQ_ADDR_PORT, "127.0.0.1:8080" },
	{ AF_INET, "0.0.0.0", 443, HQ_ADDR_PORT, "0.0.0.0:443" },
	{ AF_INET, "255.255.255.255", 65535, HQ_ADDR_PORT, "255.255.255.255:65535" },
	{ AF_INET6, "::1", 8443, HQ_ADDR_PORT, "[::1]:8443" },
	{ AF_INET6, "::", 80, HQ_ADDR_PORT, "[::]:80" },
	{ AF_INET6, "2001:DB8:0:0:0:0:0:1", 1, HQ_ADDR_PORT, "[2001:db8::1]:1" },
	{ AF_INET6, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 65535, HQ_ADDR_PORT,
	    "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535" },
	{ AF_INET6, "::ffff:10.0.0.1", 80, HQ_ADDR_PORT, "[::ffff:10.0.0.1]:80" },
	/* handshake failure peers (tls_conn.c): the address alone, as inet_ntop */
	{ AF_INET, "192.0.2.7", 5555, 0, "192.0.2.7" },
	{ AF_INET6, "fe80::1", 5555, 0, "fe80::1" },
	{ AF_INET6, "::ffff:192.0.2.7", 5555, 0, "::ffff:192.0.2.7" },
	/* access log %a and %A (accesslog.c): mapped IPv4 as IPv4 */
	{ AF_INET6, "::ffff:192.0.2.7", 5555, HQ_ADDR_UNMAP, "192.0.2.7" },
	{ AF_INET6, "::ffff:0.0.0.0", 0, HQ_ADDR_UNMAP, "0.0.0.0" },
	{ AF_INET6, "::192.0.2.7", 0, HQ_ADDR_UNMAP, "::192.0.2.7" },
	{ AF_INET6, "2001:db8::2", 0, HQ_ADDR_UNMAP, "2001:db8::2" },
	{ AF_INET, "10.1.2.3", 0, HQ_ADDR_UNMAP, "10.1.2.3" },
	/* both flags: a mapped address is an IPv4 one, without brackets */
	{ AF_INET6, "::ffff:10.0.0.1", 80, HQ_ADDR_PORT | HQ_ADDR_UNMAP, "10.0.0.1:80" },
	/* no IP: the caller writes its placeholder */
	{ AF_UNIX, NULL, 0, HQ_ADDR_PORT, NULL },
	{ AF_UNIX, NULL, 0, 0, NULL },
	{ 0, NULL, 0, HQ_ADDR_PORT | HQ_ADDR_UNMAP, NULL },
};

START_TEST(addr_text)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	char buf[HQ_ADDR_TEXT_MAX];
	int n;

	memset(&ss, 0, sizeof(ss));
	ss.ss_family = (sa_family_t)addr_cases[_i].family;
	if (addr_cases[_i].family == AF_INET) {
		ck_assert_int_eq(inet_pton(AF_INET, addr_cases[_i].ip, &sin->sin_addr), 1);
		sin->sin_port = htons(addr_cases[_i].port);
	} else if (addr_cases[_i].family == AF_INET6) {
		ck_assert_int_eq(inet_pton(AF_INET6, addr_cases[_i].ip, &sin6->sin6_addr), 1);
		sin6->sin6_port = htons(addr_cases[_i].port);
	} else if (addr_cases[_i].family == AF_UNIX) {
		strcpy(((struct sockaddr_un *)&ss)->sun_path, "/run/httpq/control.sock");
	}
	memset(buf, 'x', sizeof(buf));
	n = hq_addr_text(addr_cases[_i].family ? (struct sockaddr *)&ss : NULL,
	    addr_cases[_i].flags, buf, sizeof(buf));
	if (addr_cases[_i].want == NULL) {
		ck_assert_msg(n == -1 && buf[0] == '\0', "case %d: got %d \"%s\"", _i, n, buf);
		return;
	}
	ck_assert_str_eq(buf, addr_cases[_i].want);
	ck_assert_int_eq(n, (int)strlen(addr_cases[_i].want));
}
END_TEST

START_TEST(addr_text_cut)
{
	struct sockaddr_in6 sin6;
	char buf[8];
	const char *full = "[2001:db8::1]:443";

	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	sin6.sin6_port = htons(443);
	inet_pton(AF_INET6, "2001:db8::1", &sin6.sin6_addr);
	/* As snprintf: cut and terminated, the full length returned. */
	ck_assert_int_eq(hq_addr_text((struct sockaddr *)&sin6, HQ_ADDR_PORT, buf,
	    sizeof(buf)), (int)strlen(full));
	ck_assert_str_eq(buf, "[2001:d");
}
END_TEST

/* --- hq_mono_us, hq_now_ms ---------------------------------------------- */

START_TEST(mono_clock)
{
	uint64_t p0 = hq_mono_us(false), c0 = hq_mono_us(true), m0 = hq_now_ms();
	uint64_t p1, c1, m1;
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	/* The same clock as systemd's, in microseconds (MONOTONIC_USEC=). */
	ck_assert_uint_le(p0, (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000);
	ck_assert_uint_ge(p0 + 1000000, (uint64_t)ts.tv_sec * 1000000);
	/* Coarse is the same clock, at most a few ticks late. */
	ck_assert_uint_le(c0, hq_mono_us(false));
	ck_assert_uint_ge(c0 + 100000, p0);
	ck_assert_uint_ge(m0 * 1000 + 100000, c0);
	ck_assert_uint_le(m0, hq_mono_us(true) / 1000);
	for (int i = 0; i < 1000; i++) {
		p1 = hq_mono_us(false);
		c1 = hq_mono_us(true);
		m1 = hq_now_ms();
		ck_assert_uint_ge(p1, p0);
		ck_assert_uint_ge(c1, c0);
		ck_assert_uint_ge(m1, m0);
		p0 = p1, c0 = c1, m0 = m1;
	}
}
END_TEST

/* --- hq_write_all -------------------------------------------------------- */

enum wtarget { W_FILE, W_FULL, W_PIPE_NB, W_CLOSED };

static const struct {
	enum wtarget target;
	size_t n;
	int want_rc;
	int want_errno;
	size_t want_min, want_max; /* bytes written */
} write_cases[] = {
	{ W_FILE, 0, 0, 0, 0, 0 },
	{ W_FILE, 1, 0, 0, 1, 1 },
	{ W_FILE, 1 << 20, 0, 0, 1 << 20, 1 << 20 },
	{ W_FULL, 100, -1, ENOSPC, 0, 0 },         /* /dev/full: the disk is full */
	{ W_PIPE_NB, 100, 0, 0, 100, 100 },
	/* A short write then EAGAIN: what was written is reported (logfile.c
	 * cuts the partial line with it). */
	{ W_PIPE_NB, 1 << 20, -1, EAGAIN, 1, (1 << 20) - 1 },
	{ W_CLOSED, 10, -1, EBADF, 0, 0 },
};

START_TEST(write_all)
{
	size_t n = write_cases[_i].n, done = 12345;
	char *data = xmalloc(n);
	int fd = -1, pfd[2] = { -1, -1 }, rc, e;
	char path[] = "/tmp/test_util.XXXXXX";

	for (size_t i = 0; i < n; i++)
		data[i] = (char)('a' + i % 26);
	switch (write_cases[_i].target) {
	case W_FILE:
		fd = mkstemp(path);
		ck_assert_int_ge(fd, 0);
		unlink(path);
		break;
	case W_FULL:
		fd = open("/dev/full", O_WRONLY);
		if (fd < 0) {
			free(data);
			return; /* no /dev/full in this sandbox */
		}
		break;
	case W_PIPE_NB:
		ck_assert_int_eq(pipe(pfd), 0);
		ck_assert_int_eq(fcntl(pfd[1], F_SETFL, O_NONBLOCK), 0);
		fd = pfd[1];
		break;
	case W_CLOSED:
		ck_assert_int_eq(pipe(pfd), 0);
		close(pfd[1]);
		fd = pfd[1];
		pfd[1] = -1;
		break;
	}
	errno = 0;
	rc = hq_write_all(fd, data, n, &done);
	e = errno;
	ck_assert_msg(rc == write_cases[_i].want_rc, "case %d: rc %d", _i, rc);
	if (rc < 0)
		ck_assert_msg(e == write_cases[_i].want_errno, "case %d: errno %d", _i, e);
	ck_assert_msg(done >= write_cases[_i].want_min && done <= write_cases[_i].want_max,
	    "case %d: %zu bytes written", _i, done);
	if (write_cases[_i].target == W_FILE) {
		char *back = xmalloc(n);

		ck_assert_int_eq(pread(fd, back, n, 0), (ssize_t)n);
		ck_assert(memcmp(back, data, n) == 0);
		free(back);
	}
	/* written may be NULL */
	if (write_cases[_i].target == W_FILE)
		ck_assert_int_eq(hq_write_all(fd, data, n, NULL), 0);
	if (write_cases[_i].target != W_CLOSED)
		close(fd);
	if (pfd[0] >= 0)
		close(pfd[0]);
	free(data);
}
END_TEST

Suite *
unit_suite(void)
{
	Suite *s = suite_create("util");
	TCase *tc = tcase_create("send_timer");

	tcase_add_loop_test(tc, send_timeout, 0,
	    (int)(sizeof(send_cases) / sizeof(send_cases[0])));
	tcase_add_test(tc, send_timeout_cap_is_short);
	suite_add_tcase(s, tc);

	tc = tcase_create("addr_text");
	tcase_add_loop_test(tc, addr_text, 0,
	    (int)(sizeof(addr_cases) / sizeof(addr_cases[0])));
	tcase_add_test(tc, addr_text_cut);
	suite_add_tcase(s, tc);

	tc = tcase_create("clock");
	tcase_add_test(tc, mono_clock);
	suite_add_tcase(s, tc);

	tc = tcase_create("write_all");
	tcase_add_loop_test(tc, write_all, 0,
	    (int)(sizeof(write_cases) / sizeof(write_cases[0])));
	suite_add_tcase(s, tc);
	return s;
}
