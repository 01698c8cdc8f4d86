/*
 * test_client.c -- libhttpq (src/client/), driven as an application drives
 * it, against a fake daemon: a thread of the test process holding the
 * other end of a socketpair and speaking httpq-protocol(7) with the codec
 * of libhq.a.  Each test is a pair: what the daemon does (a thread) and
 * what the application does (the test itself).  The fake daemon checks
 * what the library sends; the application side checks what it gets.
 *
 * It includes <httpq/client.h> and <httpq/module.h> (through
 * httpq-internal.h) together: an application may use both headers.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "httpq-internal.h"
#include "httpq/client.h"
#include "check_main.h"

#define BODY_WINDOW (256u * 1024)
#define BIG_BODY    (3u * 1024 * 1024)

/* --- the fake daemon ------------------------------------------------------ */

struct fk {
	int fd;
	unsigned char *in;
	size_t off, len, cap;
	int fds[16];            /* received with SCM_RIGHTS, in order */
	size_t nfds;
	uint32_t send_window;   /* what our HELLO announces */
	uint32_t hello_version;
	struct hq_qp_buf out;
	int scenario;           /* for table-driven daemons */
};

static void
fk_flush(struct fk *d)
{
	ck_assert_int_eq(hq_write_all(d->fd, d->out.p, d->out.len, NULL), 0);
	d->out.len = 0;
}

/* The next frame from the library, or -1 at EOF.  The payload is valid
 * until the next call. */
static int
fk_frame(struct fk *d, struct hq_qp_frame *f)
{
	char err[128];

	if (!d->in) {
		d->cap = 131072;
		d->in = xmalloc(d->cap);
	}
	for (;;) {
		ssize_t n = hq_qp_parse(d->in + d->off, d->len - d->off, f, err, sizeof err);
		ck_assert_msg(n >= 0, "library sent a malformed frame: %s", err);
		if (n > 0) {
			d->off += (size_t)n;
			return 0;
		}
		if (d->off > 0) {
			memmove(d->in, d->in + d->off, d->len - d->off);
			d->len -= d->off;
			d->off = 0;
		}
		if (d->cap - d->len < 65536) {
			d->cap = d->cap ? d->cap * 2 : 131072;
			d->in = xrealloc(d->in, d->cap);
		}
		struct iovec iov = { d->in + d->len, d->cap - d->len };
		union { struct cmsghdr h; char b[CMSG_SPACE(4 * sizeof(int))]; } cm;
		struct msghdr mh = { 0 };
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		mh.msg_control = cm.b;
		mh.msg_controllen = sizeof cm.b;
		ssize_t r = recvmsg(d->fd, &mh, 0);
		if (r <= 0)
			return -1;
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
			if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
				continue;
			size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			for (size_t i = 0; i < k && d->nfds < 16; i++)
				memcpy(&d->fds[d->nfds++], CMSG_DATA(c) + i * sizeof(int), sizeof(int));
		}
		d->len += (size_t)r;
	}
}

static void
fk_expect(struct fk *d, struct hq_qp_frame *f, uint16_t type)
{
	ck_assert_int_eq(fk_frame(d, f), 0);
	ck_assert_msg(f->type == type, "expected %s, got %s", hq_qp_type_name(type),
	    hq_qp_type_name(f->type));
}

/* An attribute of f: 1 found (*v, *n set), 0 not. */
static int
attr(const struct hq_qp_frame *f, uint16_t tag, const unsigned char **v, uint32_t *n)
{
	struct hq_qp_iter it;
	uint16_t t;

	hq_qp_iter_init(&it, f);
	while (hq_qp_next(&it, &t, v, n) == 1)
		if (t == tag)
			return 1;
	return 0;
}

static uint32_t
attr_u32(const struct hq_qp_frame *f, uint16_t tag)
{
	const unsigned char *v;
	uint32_t n, x;

	ck_assert_msg(attr(f, tag, &v, &n) == 1, "%s without %s", hq_qp_type_name(f->type),
	    hq_qp_attr_name(tag));
	ck_assert_int_eq(hq_qp_get_u32(v, n, &x), 0);
	return x;
}

static uint64_t
attr_u64(const struct hq_qp_frame *f, uint16_t tag)
{
	const unsigned char *v;
	uint32_t n;
	uint64_t x;

	ck_assert(attr(f, tag, &v, &n) == 1);
	ck_assert_int_eq(hq_qp_get_u64(v, n, &x), 0);
	return x;
}

/* A string attribute into a static buffer ("" when absent). */
static const char *
attr_str(const struct hq_qp_frame *f, uint16_t tag)
{
	static char buf[4096];
	const unsigned char *v;
	uint32_t n;

	buf[0] = '\0';
	if (attr(f, tag, &v, &n) == 1) {
		ck_assert(n < sizeof buf);
		memcpy(buf, v, n);
		buf[n] = '\0';
	}
	return buf;
}

static void
fk_hello(struct fk *d)
{
	struct hq_qp_frame f;

	fk_expect(d, &f, HQ_QP_HELLO);
	ck_assert_uint_eq(attr_u32(&f, HQ_QA_VERSION), HQ_QP_VERSION);
	ck_assert_str_eq(attr_str(&f, HQ_QA_NAME), "test-app");
	hq_qp_begin(&d->out, HQ_QP_HELLO, 0, 0);
	hq_qp_put_u32(&d->out, HQ_QA_VERSION, d->hello_version ? d->hello_version : 1);
	hq_qp_put_str(&d->out, HQ_QA_NAME, "httpq/test");
	hq_qp_put_u32(&d->out, HQ_QA_MAX_PAYLOAD, HQ_QP_MAX_PAYLOAD);
	hq_qp_put_u32(&d->out, HQ_QA_BODY_WINDOW, BODY_WINDOW);
	hq_qp_put_u32(&d->out, HQ_QA_SEND_WINDOW, d->send_window ? d->send_window : 256 * 1024);
	hq_qp_end(&d->out);
	fk_flush(d);
}

/* Waits for RECEIVE credit of at least n (summing RECEIVE frames). */
static void
fk_receive(struct fk *d, uint32_t n)
{
	struct hq_qp_frame f;
	uint32_t got = 0;

	while (got < n) {
		fk_expect(d, &f, HQ_QP_RECEIVE);
		got += attr_u32(&f, HQ_QA_COUNT);
	}
}

static void
fk_result(struct fk *d, uint64_t id, uint32_t status, const char *msg)
{
	hq_qp_begin(&d->out, HQ_QP_RESULT, 0, id);
	hq_qp_put_u32(&d->out, HQ_QA_STATUS, status);
	hq_qp_put_str(&d->out, HQ_QA_MESSAGE, msg);
	hq_qp_end(&d->out);
	fk_flush(d);
}

/* A GET (or a POST with body when body is set) with a few headers. */
static void
fk_request(struct fk *d, uint64_t id, bool body, int64_t clen)
{
	hq_qp_begin(&d->out, HQ_QP_REQUEST, body ? HQ_QF_HAS_BODY : 0, id);
	hq_qp_put_str(&d->out, HQ_QA_METHOD, body ? "POST" : "GET");
	hq_qp_put_str(&d->out, HQ_QA_RAW_URL, "/app/x%20y?a=1");
	hq_qp_put_str(&d->out, HQ_QA_COOKED_URL, "http://localhost:8080/app/x y?a=1");
	hq_qp_put_str(&d->out, HQ_QA_PATH, "/app/x y");
	hq_qp_put_str(&d->out, HQ_QA_QUERY, "?a=1");
	hq_qp_put_str(&d->out, HQ_QA_HOST, "localhost:8080");
	hq_qp_put_u32(&d->out, HQ_QA_VERSION, 11);
	hq_qp_put_header(&d->out, "Host", 4, "localhost:8080", 14);
	hq_qp_put_header(&d->out, "X-A", 3, "one", 3);
	hq_qp_put_header(&d->out, "x-a", 3, "two", 3);
	hq_qp_put_header(&d->out, "Empty", 5, "", 0);
	hq_qp_put_str(&d->out, HQ_QA_REMOTE_ADDR, "127.0.0.1:40000");
	hq_qp_put_str(&d->out, HQ_QA_LOCAL_ADDR, "127.0.0.1:8080");
	hq_qp_put_str(&d->out, HQ_QA_URL_PREFIX, "http://+:8080/app/");
	hq_qp_put_str(&d->out, HQ_QA_URL_GROUP, "app");
	hq_qp_put_u64(&d->out, HQ_QA_CONNECTION_ID, 77);
	hq_qp_put_i64(&d->out, HQ_QA_CONTENT_LENGTH, clen);
	hq_qp_put_u32(&d->out, 999, 5);  /* an unknown tag is ignored */
	hq_qp_end(&d->out);
	fk_flush(d);
}

static void
fk_body(struct fk *d, uint64_t id, const void *p, size_t n, bool end)
{
	hq_qp_begin(&d->out, HQ_QP_BODY, end ? HQ_QF_END : 0, id);
	hq_qp_put_raw(&d->out, p, n);
	hq_qp_end(&d->out);
	fk_flush(d);
}

static void
fk_close(struct fk *d)
{
	for (size_t i = 0; i < d->nfds; i++)
		close(d->fds[i]);
	close(d->fd);
	free(d->in);
	hq_qp_buf_free(&d->out);
}

/* --- harness -------------------------------------------------------------- */

typedef void (*daemon_fn)(struct fk *d);

struct run {
	pthread_t t;
	struct fk d;
	daemon_fn fn;
};

static void *
daemon_main(void *arg)
{
	struct run *r = arg;

	r->fn(&r->d);
	fk_close(&r->d);
	return NULL;
}

/* Starts the fake daemon; returns the application's end, not yet
 * connected (see start()). */
static int
start_daemon(struct run *r, daemon_fn fn, uint32_t send_window, int scenario)
{
	int sv[2];

	signal(SIGPIPE, SIG_IGN);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	memset(r, 0, sizeof *r);
	r->d.fd = sv[0];
	r->d.send_window = send_window;
	r->d.scenario = scenario;
	r->fn = fn;
	ck_assert_int_eq(pthread_create(&r->t, NULL, daemon_main, r), 0);
	return sv[1];
}

static httpq_queue *
start(struct run *r, daemon_fn fn, uint32_t send_window)
{
	httpq_queue *q = httpq_connect_fd(start_daemon(r, fn, send_window, 0), "test-app");

	ck_assert_msg(q != NULL, "connect: %s", strerror(errno));
	/* No test may hang: a blocking call gives up after 10 s. */
	ck_assert_int_eq(httpq_set_timeout(q, 10000), 0);
	return q;
}

static void
finish(struct run *r, httpq_queue *q)
{
	httpq_close(q);
	pthread_join(r->t, NULL);
}

static unsigned char
pattern(size_t i)
{
	return (unsigned char)(i * 7 + i / 251);
}

/* Whether p[0..n) is the pattern from offset at: one check, not one per
 * byte (every passing ck_assert costs a write to Check's pipe). */
static bool
is_pattern(const void *p, size_t n, size_t at)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i] != pattern(at + i))
			return false;
	return true;
}

/* --- hello and calls ------------------------------------------------------- */

static void
d_calls(struct fk *d)
{
	struct hq_qp_frame f;

	fk_hello(d);
	fk_expect(d, &f, HQ_QP_CREATE_QUEUE);
	ck_assert_str_eq(attr_str(&f, HQ_QA_QUEUE), "app");
	ck_assert_uint_eq(attr_u32(&f, HQ_QA_LENGTH), 50);
	fk_result(d, f.id, HQ_QS_OK, NULL);
	fk_expect(d, &f, HQ_QP_ADD_URL);
	ck_assert_str_eq(attr_str(&f, HQ_QA_URL), "http://+:8080/denied/");
	fk_result(d, f.id, HQ_QS_ACCESS_DENIED,
	    "no URL reservation gives uid 1000 the listen right on http://+:8080/denied/");
	fk_expect(d, &f, HQ_QP_ADD_URL);
	fk_result(d, f.id, HQ_QS_ALREADY_EXISTS, "http://+:8080/app/ is registered by "
	    "pid 1234 uid 1000 queue \"other\"");
	fk_expect(d, &f, HQ_QP_ADD_URL);
	/* A stale RESULT (another call id) is ignored, then the real one. */
	fk_result(d, f.id + 100, HQ_QS_INVALID, "stale");
	fk_result(d, f.id, HQ_QS_OK, NULL);
	fk_expect(d, &f, HQ_QP_REMOVE_URL);
	ck_assert_str_eq(attr_str(&f, HQ_QA_URL), "http://+:8080/mine/");
	fk_result(d, f.id, HQ_QS_OK, NULL);
	fk_expect(d, &f, HQ_QP_OPEN_QUEUE);
	ck_assert_str_eq(attr_str(&f, HQ_QA_QUEUE), "nosuch");
	ck_assert_uint_eq(attr_u32(&f, HQ_QA_ROLE), 3);
	fk_result(d, f.id, HQ_QS_NOT_FOUND, NULL);
	fk_receive(d, 1);       /* one only, however often the app asks */
	fk_expect(d, &f, HQ_QP_SHUTDOWN);
	fk_result(d, f.id, HQ_QS_OK, NULL);
	ck_assert_int_eq(fk_frame(d, &f), -1);  /* closed: nothing else sent */
}

START_TEST(test_calls)
{
	struct run r;
	httpq_queue *q = start(&r, d_calls, 0);

	ck_assert_str_eq(httpq_server_name(q), "httpq/test");
	ck_assert_str_eq(httpq_queue_error(q), "");
	ck_assert_int_eq(httpq_create_queue(q, "app", 50), 0);
	errno = 0;
	ck_assert_int_eq(httpq_add_url(q, "http://+:8080/denied/"), -1);
	ck_assert_int_eq(errno, EACCES);
	ck_assert_str_eq(httpq_queue_error(q),
	    "no URL reservation gives uid 1000 the listen right on http://+:8080/denied/");
	ck_assert_int_eq(httpq_add_url(q, "http://+:8080/app/"), -1);
	ck_assert_int_eq(errno, EEXIST);
	ck_assert_str_eq(httpq_queue_error(q),
	    "http://+:8080/app/ is registered by pid 1234 uid 1000 queue \"other\"");
	ck_assert_int_eq(httpq_add_url(q, "http://+:8080/mine/"), 0);
	ck_assert_int_eq(httpq_remove_url(q, "http://+:8080/mine/"), 0);
	ck_assert_int_eq(httpq_open_queue(q, "nosuch", HTTPQ_ROLE_BOTH), -1);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_str_eq(httpq_queue_error(q), "OPEN_QUEUE: NOT_FOUND");
	/* Refused locally, nothing sent. */
	ck_assert_int_eq(httpq_open_queue(q, "x", 4), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(httpq_add_url(q, ""), -1);
	ck_assert_int_eq(errno, EINVAL);
	/* No request: at timeout 0 EAGAIN at once, else ETIMEDOUT. */
	ck_assert_int_eq(httpq_set_timeout(q, 0), 0);
	ck_assert_ptr_null(httpq_receive_request(q));
	ck_assert_int_eq(errno, EAGAIN);
	ck_assert_int_eq(httpq_set_timeout(q, 50), 0);
	ck_assert_ptr_null(httpq_receive_request(q));
	ck_assert_int_eq(errno, ETIMEDOUT);
	ck_assert_int_eq(httpq_set_timeout(q, -2), -1);
	ck_assert_int_eq(httpq_set_timeout(q, 0), 0);   /* calls wait all the same */
	ck_assert_int_eq(httpq_shutdown(q), 0);
	ck_assert_ptr_null(httpq_receive_request(q));
	ck_assert_int_eq(errno, ESHUTDOWN);
	finish(&r, q);
}
END_TEST

static void
d_version(struct fk *d)
{
	struct hq_qp_frame f;

	d->hello_version = 2;
	fk_hello(d);
	(void)fk_frame(d, &f);
}

START_TEST(test_version_mismatch)
{
	struct run r;
	int fd = start_daemon(&r, d_version, 0, 0);

	errno = 0;
	ck_assert_ptr_null(httpq_connect_fd(fd, "test-app"));
	ck_assert_int_eq(errno, EPROTONOSUPPORT);
	pthread_join(r.t, NULL);
	/* the handle closed fd: the daemon saw EOF and the thread ended */
	ck_assert_int_eq(fcntl(fd, F_GETFD), -1);
}
END_TEST

/* --- the default socket path ($HTTPQ_QUEUE_SOCKET) -------------------------- */

static void
d_hello_only(struct fk *d)
{
	struct hq_qp_frame f;

	fk_hello(d);
	(void)fk_frame(d, &f);
}

struct acc {
	int lfd;
	struct run *r;
};

static void *
accept_main(void *arg)
{
	struct acc *a = arg;

	a->r->d.fd = accept(a->lfd, NULL, NULL);
	ck_assert_int_ge(a->r->d.fd, 0);
	d_hello_only(&a->r->d);
	fk_close(&a->r->d);
	return NULL;
}

START_TEST(test_default_socket)
{
	char dir[] = "/tmp/test_client.XXXXXX";
	char path[64];
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct run r;
	struct acc a = { -1, &r };

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/queue.sock", dir);
	snprintf(sun.sun_path, sizeof sun.sun_path, "%s", path);
	a.lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	ck_assert_int_eq(bind(a.lfd, (struct sockaddr *)&sun, sizeof sun), 0);
	ck_assert_int_eq(listen(a.lfd, 1), 0);
	memset(&r, 0, sizeof r);
	ck_assert_int_eq(pthread_create(&r.t, NULL, accept_main, &a), 0);

	setenv(HTTPQ_QUEUE_SOCKET_ENV, path, 1);
	httpq_queue *q = httpq_connect(NULL, "test-app");
	ck_assert_msg(q != NULL, "connect %s: %s", path, strerror(errno));
	ck_assert_str_eq(httpq_server_name(q), "httpq/test");
	httpq_close(q);
	pthread_join(r.t, NULL);

	/* A path given wins over the variable: this one does not exist. */
	snprintf(path, sizeof path, "%s/none.sock", dir);
	ck_assert_ptr_null(httpq_connect(path, "test-app"));
	ck_assert_int_eq(errno, ENOENT);
	close(a.lfd);
	snprintf(path, sizeof path, "%s/queue.sock", dir);
	unlink(path);
	rmdir(dir);
}
END_TEST

/* --- a request: every fact, and the response ------------------------------- */

static void
d_facts(struct fk *d)
{
	struct hq_qp_frame f;

	fk_hello(d);
	fk_receive(d, 1);
	hq_qp_begin(&d->out, HQ_QP_REQUEST, HQ_QF_TLS, 42);
	hq_qp_put_str(&d->out, HQ_QA_METHOD, "GET");
	hq_qp_put_str(&d->out, HQ_QA_RAW_URL, "/app/x%20y?a=1");
	hq_qp_put_str(&d->out, HQ_QA_COOKED_URL, "https://localhost:8443/app/x y?a=1");
	hq_qp_put_str(&d->out, HQ_QA_PATH, "/app/x y");
	hq_qp_put_str(&d->out, HQ_QA_QUERY, "?a=1");
	hq_qp_put_str(&d->out, HQ_QA_HOST, "localhost:8443");
	hq_qp_put_u32(&d->out, HQ_QA_VERSION, 11);
	hq_qp_put_header(&d->out, "Host", 4, "localhost:8443", 14);
	hq_qp_put_header(&d->out, "X-A", 3, "one", 3);
	hq_qp_put(&d->out, HQ_QA_HEADER, "x-a:  two ", 10);
	hq_qp_put_header(&d->out, "Empty", 5, "", 0);
	hq_qp_put_str(&d->out, HQ_QA_REMOTE_ADDR, "[::1]:40000");
	hq_qp_put_str(&d->out, HQ_QA_LOCAL_ADDR, "[::1]:8443");
	hq_qp_put_str(&d->out, HQ_QA_URL_PREFIX, "https://+:8443/app/");
	hq_qp_put_str(&d->out, HQ_QA_URL_GROUP, "app");
	hq_qp_put_u64(&d->out, HQ_QA_CONNECTION_ID, 77);
	hq_qp_put_i64(&d->out, HQ_QA_CONTENT_LENGTH, 0);
	hq_qp_put_str(&d->out, HQ_QA_TLS_PROTOCOL, "TLSv1.3");
	hq_qp_put_str(&d->out, HQ_QA_TLS_CIPHER, "TLS_AES_128_GCM_SHA256");
	hq_qp_put_str(&d->out, HQ_QA_TLS_SNI, "localhost");
	hq_qp_put_str(&d->out, HQ_QA_TLS_CLIENT_SUBJECT, "CN=alice");
	hq_qp_put_str(&d->out, HQ_QA_TLS_CLIENT_FINGERPRINT, "ab12");
	hq_qp_put_u32(&d->out, HQ_QA_TLS_CLIENT_VERIFIED, 1);
	hq_qp_put_u32(&d->out, 999, 5);  /* an unknown tag is ignored */
	hq_qp_end(&d->out);
	fk_flush(d);

	fk_expect(d, &f, HQ_QP_RESPONSE);
	ck_assert_uint_eq(f.id, 42);
	ck_assert_uint_eq(f.flags, HQ_QF_DISCONNECT);
	ck_assert_uint_eq(attr_u32(&f, HQ_QA_STATUS), 201);
	ck_assert_str_eq(attr_str(&f, HQ_QA_REASON), "Made");
	ck_assert_str_eq(attr_str(&f, HQ_QA_HEADER), "Content-Type:text/plain");
	fk_expect(d, &f, HQ_QP_RESPONSE_BODY);
	ck_assert_uint_eq(f.flags, HQ_QF_DISCONNECT);
	ck_assert_uint_eq(f.len, 5);
	ck_assert(memcmp(f.payload, "hello", 5) == 0);
	fk_expect(d, &f, HQ_QP_TRAILERS);
	ck_assert_uint_eq(f.id, 42);
	ck_assert_str_eq(attr_str(&f, HQ_QA_HEADER), "X-Sum:5");
	ck_assert_int_eq(fk_frame(d, &f), -1);
}

START_TEST(test_request_facts)
{
	struct run r;
	httpq_queue *q = start(&r, d_facts, 0);
	httpq_req *req = httpq_receive_request(q);
	const char *n, *v;
	char buf[16];
	int dummy;

	ck_assert_msg(req != NULL, "receive: %s", httpq_queue_error(q));
	ck_assert_uint_eq(httpq_req_id(req), 42);
	ck_assert_ptr_eq(httpq_req_queue(req), q);
	ck_assert_str_eq(httpq_req_method(req), "GET");
	ck_assert_str_eq(httpq_req_raw_url(req), "/app/x%20y?a=1");
	ck_assert_str_eq(httpq_req_cooked_url(req), "https://localhost:8443/app/x y?a=1");
	ck_assert_str_eq(httpq_req_path(req), "/app/x y");
	ck_assert_str_eq(httpq_req_query(req), "?a=1");
	ck_assert_str_eq(httpq_req_host(req), "localhost:8443");
	ck_assert_int_eq(httpq_req_version(req), 11);
	ck_assert_uint_eq(httpq_req_header_count(req), 4);
	ck_assert_str_eq(httpq_req_header(req, "x-A"), "one");
	ck_assert_str_eq(httpq_req_header(req, "empty"), "");
	ck_assert_ptr_null(httpq_req_header(req, "X-None"));
	ck_assert_int_eq(httpq_req_header_at(req, 2, &n, &v), 0);
	ck_assert_str_eq(n, "x-a");
	ck_assert_str_eq(v, "two");
	ck_assert_int_eq(httpq_req_header_at(req, 0, &n, NULL), 0);
	ck_assert_str_eq(n, "Host");
	ck_assert_int_eq(httpq_req_header_at(req, 4, &n, &v), -1);
	ck_assert_str_eq(httpq_req_remote_addr(req), "[::1]:40000");
	ck_assert_str_eq(httpq_req_local_addr(req), "[::1]:8443");
	ck_assert_str_eq(httpq_req_url_prefix(req), "https://+:8443/app/");
	ck_assert_str_eq(httpq_req_url_group(req), "app");
	ck_assert_uint_eq(httpq_req_connection_id(req), 77);
	ck_assert_int_eq(httpq_req_content_length(req), 0);
	ck_assert_int_eq(httpq_req_has_body(req), 0);
	ck_assert_int_eq(httpq_req_is_tls(req), 1);
	ck_assert_str_eq(httpq_req_tls_protocol(req), "TLSv1.3");
	ck_assert_str_eq(httpq_req_tls_cipher(req), "TLS_AES_128_GCM_SHA256");
	ck_assert_str_eq(httpq_req_tls_sni(req), "localhost");
	ck_assert_str_eq(httpq_req_tls_client_subject(req), "CN=alice");
	ck_assert_str_eq(httpq_req_tls_client_fingerprint(req), "ab12");
	ck_assert_int_eq(httpq_req_tls_client_verified(req), 1);
	ck_assert_ptr_null(httpq_req_data(req));
	httpq_req_set_data(req, &dummy);
	ck_assert_ptr_eq(httpq_req_data(req), &dummy);
	/* No body: the end at once, no trailers. */
	ck_assert_int_eq(httpq_receive_body(req, buf, sizeof buf), 0);
	ck_assert_uint_eq(httpq_req_trailer_count(req), 0);

	/* Bad responses are refused before anything is sent. */
	const httpq_field bad[] = { { "Bad Name", "x" } };
	const httpq_field crlf[] = { { "X", "a\r\nInjected: 1" } };
	ck_assert_int_eq(httpq_send_body(req, "x", 1, 0), -1);          /* no head yet */
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(httpq_send_response(req, 100, NULL, NULL, 0, 0), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(httpq_send_response(req, 200, NULL, bad, 1, 0), -1);
	ck_assert_int_eq(httpq_send_response(req, 200, NULL, crlf, 1, 0), -1);
	ck_assert_int_eq(httpq_send_response(req, 200, "a\nb", NULL, 0, 0), -1);

	const httpq_field h[] = { { "Content-Type", "text/plain" } };
	const httpq_field t[] = { { "X-Sum", "5" } };
	ck_assert_int_eq(httpq_send_response(req, 201, "Made", h, 1,
	    HTTPQ_FLAG_MORE_DATA | HTTPQ_FLAG_DISCONNECT), 0);
	ck_assert_int_eq(httpq_send_response(req, 200, NULL, NULL, 0, 0), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(httpq_send_body(req, "hello", 5,
	    HTTPQ_FLAG_MORE_DATA | HTTPQ_FLAG_DISCONNECT), 5);
	ck_assert_int_eq(httpq_send_trailers(req, t, 1), 0);
	/* The response ended: nothing more, no CANCEL at free. */
	ck_assert_int_eq(httpq_send_body(req, "x", 1, 0), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(httpq_cancel(req), -1);
	ck_assert_int_eq(errno, EALREADY);
	ck_assert_int_eq(httpq_wait_disconnect(req), -1);
	ck_assert_int_eq(errno, EALREADY);
	httpq_req_free(req);
	finish(&r, q);
}
END_TEST

/* --- a 3 MB body through a 256 KiB window ---------------------------------- */

static void
d_big_body(struct fk *d)
{
	struct hq_qp_frame f;
	static unsigned char chunk[65536];
	size_t sent = 0;
	uint64_t unacked = 0, credited = 0;

	fk_hello(d);
	fk_receive(d, 1);
	fk_request(d, 9, true, BIG_BODY);
	while (sent < BIG_BODY) {
		/* Send as the window allows, then wait for credit. */
		size_t n = sizeof chunk;
		if (n > BIG_BODY - sent)
			n = BIG_BODY - sent;
		if (n > BODY_WINDOW - unacked)
			n = BODY_WINDOW - unacked;
		if (n > 0) {
			for (size_t i = 0; i < n; i++)
				chunk[i] = pattern(sent + i);
			fk_body(d, 9, chunk, n, sent + n == BIG_BODY);
			sent += n;
			unacked += n;
			continue;
		}
		fk_expect(d, &f, HQ_QP_BODY_CREDIT);
		ck_assert_uint_eq(f.id, 9);
		uint32_t b = attr_u32(&f, HQ_QA_BYTES);
		ck_assert_msg(b > 0 && b <= unacked, "credit %u with %llu unacknowledged", b,
		    (unsigned long long)unacked);
		unacked -= b;
		credited += b;
	}
	/* Credit for the last window may come before the response; none after
	 * the END (the body is complete: nothing more to send). */
	for (;;) {
		ck_assert_int_eq(fk_frame(d, &f), 0);
		if (f.type != HQ_QP_BODY_CREDIT)
			break;
		credited += attr_u32(&f, HQ_QA_BYTES);
	}
	ck_assert_uint_eq(f.type, HQ_QP_RESPONSE);
	ck_assert_uint_eq(f.flags, HQ_QF_END);
	ck_assert_uint_ge(credited, BIG_BODY - BODY_WINDOW);
	ck_assert_int_eq(fk_frame(d, &f), -1);
}

START_TEST(test_big_body)
{
	struct run r;
	httpq_queue *q = start(&r, d_big_body, 0);
	httpq_req *req = httpq_receive_request(q);
	static char buf[10000];
	size_t total = 0;
	ssize_t n;

	ck_assert_ptr_nonnull(req);
	ck_assert_int_eq(httpq_req_has_body(req), 1);
	ck_assert_int_eq(httpq_req_content_length(req), BIG_BODY);
	while ((n = httpq_receive_body(req, buf, sizeof buf)) > 0) {
		ck_assert_msg(is_pattern(buf, (size_t)n, total), "bytes %zu-%zu", total,
		    total + (size_t)n);
		total += (size_t)n;
	}
	ck_assert_msg(n == 0, "receive_body: %s", httpq_queue_error(q));
	ck_assert_uint_eq(total, BIG_BODY);
	ck_assert_int_eq(httpq_receive_body(req, buf, sizeof buf), 0);
	ck_assert_int_eq(httpq_send_response(req, 204, NULL, NULL, 0, 0), 0);
	httpq_req_free(req);
	finish(&r, q);
}
END_TEST

/* --- the send window: blocking, then without waiting ------------------------ */

#define SEND_WINDOW 65536u

static int go_pipe[2];          /* the app tells the daemon to go on */
#define BIG_RESPONSE (1024u * 1024 + 123)

static void
d_send_window(struct fk *d)
{
	struct hq_qp_frame f;
	uint64_t got = 0, window = SEND_WINDOW;

	fk_hello(d);
	fk_receive(d, 1);
	fk_request(d, 5, false, 0);
	fk_expect(d, &f, HQ_QP_RESPONSE);
	ck_assert_uint_eq(f.flags, 0);
	/* Blocking: the library waits for each credit. */
	for (;;) {
		fk_expect(d, &f, HQ_QP_RESPONSE_BODY);
		ck_assert_msg(f.len <= window, "%u bytes sent with a window of %llu", f.len,
		    (unsigned long long)window);
		ck_assert(is_pattern(f.payload, f.len, got));
		window -= f.len;
		got += f.len;
		if (f.flags & HQ_QF_END)
			break;
		if (window == 0) {
			hq_qp_begin(&d->out, HQ_QP_SEND_CREDIT, 0, 5);
			hq_qp_put_u32(&d->out, HQ_QA_BYTES, SEND_WINDOW);
			hq_qp_end(&d->out);
			/* credit for an id nobody holds is ignored */
			hq_qp_begin(&d->out, HQ_QP_SEND_CREDIT, 0, 12345);
			hq_qp_put_u32(&d->out, HQ_QA_BYTES, 1);
			hq_qp_end(&d->out);
			fk_flush(d);
			window = SEND_WINDOW;
		}
	}
	ck_assert_uint_eq(got, BIG_RESPONSE);

	/* Without waiting: the app gets a short count, then the writable
	 * callback when credit comes. */
	fk_receive(d, 1);
	fk_request(d, 6, false, 0);
	fk_expect(d, &f, HQ_QP_RESPONSE);
	fk_expect(d, &f, HQ_QP_RESPONSE_BODY);
	ck_assert_uint_eq(f.len, SEND_WINDOW);
	ck_assert_uint_eq(f.flags, 0);
	/* Credit only once the app saw its sends fall short. */
	char go;
	ck_assert_int_eq(read(go_pipe[0], &go, 1), 1);
	hq_qp_begin(&d->out, HQ_QP_SEND_CREDIT, 0, 6);
	hq_qp_put_u32(&d->out, HQ_QA_BYTES, 100);
	hq_qp_end(&d->out);
	fk_flush(d);
	fk_expect(d, &f, HQ_QP_RESPONSE_BODY);
	ck_assert_uint_eq(f.len, 100);
	ck_assert_uint_eq(f.flags, HQ_QF_END);
	ck_assert_int_eq(fk_frame(d, &f), -1);
}

static int writable_calls;

static void
on_writable(httpq_req *req, void *arg)
{
	static char buf[100];

	writable_calls++;
	ck_assert_uint_eq(httpq_send_window(req), 100);
	ck_assert_int_eq(httpq_send_body(req, buf, sizeof buf, 0), 100);
}

START_TEST(test_send_window)
{
	struct run r;
	httpq_queue *q = start(&r, d_send_window, SEND_WINDOW);
	httpq_req *req = httpq_receive_request(q);
	char *big = malloc(BIG_RESPONSE);

	ck_assert_ptr_nonnull(req);
	ck_assert_int_eq(pipe(go_pipe), 0);
	for (size_t i = 0; i < BIG_RESPONSE; i++)
		big[i] = (char)pattern(i);
	ck_assert_int_eq(httpq_send_response(req, 200, NULL, NULL, 0, HTTPQ_FLAG_MORE_DATA), 0);
	ck_assert_uint_eq(httpq_send_window(req), SEND_WINDOW);
	ck_assert_int_eq(httpq_send_body(req, big, BIG_RESPONSE, 0), BIG_RESPONSE);
	ck_assert_uint_eq(httpq_send_window(req), 0);   /* done */
	httpq_req_free(req);

	req = httpq_receive_request(q);
	ck_assert_ptr_nonnull(req);
	const httpq_callbacks cb = { .size = sizeof cb, .writable = on_writable };
	httpq_set_callbacks(q, &cb, NULL);
	httpq_set_timeout(q, 0);
	ck_assert_int_eq(httpq_send_response(req, 200, NULL, NULL, 0, HTTPQ_FLAG_MORE_DATA), 0);
	ck_assert_int_eq(httpq_send_body(req, big, BIG_RESPONSE, 0), SEND_WINDOW);
	ck_assert_int_eq(httpq_send_body(req, big, BIG_RESPONSE, 0), -1);
	ck_assert_int_eq(errno, EAGAIN);
	/* Nothing to send and more to come: nothing is sent. */
	ck_assert_int_eq(httpq_send_body(req, NULL, 0, HTTPQ_FLAG_MORE_DATA), 0);
	ck_assert_int_eq(writable_calls, 0);
	ck_assert_int_eq(write(go_pipe[1], "g", 1), 1);
	while (writable_calls == 0) {
		struct pollfd p = { httpq_queue_fd(q), POLLIN, 0 };
		ck_assert_int_eq(poll(&p, 1, 10000), 1);
		ck_assert_int_eq(httpq_process(q), 0);
	}
	ck_assert_int_eq(writable_calls, 1);
	httpq_req_free(req);
	free(big);
	finish(&r, q);
}
END_TEST

/* --- a file with SCM_RIGHTS -------------------------------------------------- */

static void
d_file(struct fk *d)
{
	struct hq_qp_frame f;
	char buf[64];

	fk_hello(d);
	fk_receive(d, 1);
	fk_request(d, 3, false, 0);
	fk_expect(d, &f, HQ_QP_RESPONSE);
	fk_expect(d, &f, HQ_QP_RESPONSE_BODY);
	ck_assert_uint_eq(f.len, 4);
	fk_expect(d, &f, HQ_QP_RESPONSE_FILE);
	ck_assert_uint_eq(f.id, 3);
	ck_assert_uint_eq(f.flags, HQ_QF_END);
	ck_assert_uint_eq(attr_u64(&f, HQ_QA_OFFSET), 6);
	ck_assert_uint_eq(attr_u64(&f, HQ_QA_LENGTH64), 5);
	ck_assert_uint_eq(d->nfds, 1);
	ssize_t n = pread(d->fds[0], buf, 5, 6);
	ck_assert_int_eq(n, 5);
	ck_assert(memcmp(buf, "world", 5) == 0);
	ck_assert_int_eq(fk_frame(d, &f), -1);
}

/*
 * The fd moved to a number far above the ones in use.  The fake daemon is a
 * thread of this process: the fd it receives takes the lowest free number,
 * which is the one the library just closed, and fcntl(fd) on a low number
 * then found that copy open under load (the thread had received it first).
 */
static int
high_fd(int fd)
{
	int hi;

	ck_assert_int_ge(fd, 0);
	hi = fcntl(fd, F_DUPFD_CLOEXEC, 900);
	ck_assert_int_ge(hi, 900);
	close(fd);
	return hi;
}

START_TEST(test_send_file)
{
	struct run r;
	httpq_queue *q = start(&r, d_file, 0);
	httpq_req *req = httpq_receive_request(q);
	char path[] = "/tmp/test_client_file.XXXXXX";
	int fd = high_fd(mkstemp(path));

	ck_assert_int_ge(fd, 0);
	unlink(path);
	ck_assert_int_eq(write(fd, "hello world!", 12), 12);
	ck_assert_ptr_nonnull(req);
	ck_assert_int_eq(httpq_send_response(req, 200, NULL, NULL, 0, HTTPQ_FLAG_MORE_DATA), 0);
	/* A frame before the file's: the fd must ride with the file's frame. */
	ck_assert_int_eq(httpq_send_body(req, "abcd", 4, HTTPQ_FLAG_MORE_DATA), 4);
	ck_assert_int_eq(httpq_send_file(req, fd, 6, 5, 0), 0);
	ck_assert_uint_eq(httpq_send_window(req), 0);
	/* The library passed the fd and closed its copy. */
	ck_assert_int_eq(fcntl(fd, F_GETFD), -1);
	ck_assert_int_eq(errno, EBADF);
	/* The response ended: -1, and the fd is closed all the same. */
	fd = high_fd(open("/dev/null", O_RDONLY));
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(httpq_send_file(req, fd, 0, 0, 0), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(fcntl(fd, F_GETFD), -1);
	httpq_req_free(req);
	finish(&r, q);
}
END_TEST

/* --- interleaved requests, disconnect and cancel ----------------------------- */

static void
d_interleave(struct fk *d)
{
	struct hq_qp_frame f;
	bool ok1 = false, ok2 = false, cancel3 = false, sent4 = false;

	fk_hello(d);
	fk_receive(d, 3);
	fk_request(d, 1, true, -1);
	fk_request(d, 2, true, 6);
	fk_request(d, 3, false, 0);
	fk_body(d, 2, "bbb", 3, false);
	fk_body(d, 1, "aaa", 3, false);
	/* trailers of a chunked body come right before its END */
	hq_qp_begin(&d->out, HQ_QP_TRAILERS, 0, 1);
	hq_qp_put_header(&d->out, "X-Check", 7, "ok", 2);
	hq_qp_end(&d->out);
	fk_flush(d);
	fk_body(d, 2, "BBB", 3, true);
	fk_body(d, 1, "AAA", 3, true);
	hq_qp_begin(&d->out, HQ_QP_DISCONNECT, 0, 3);
	hq_qp_put_str(&d->out, HQ_QA_REASON, "client gone");
	hq_qp_end(&d->out);
	/* frames for an id nobody holds are ignored */
	hq_qp_begin(&d->out, HQ_QP_BODY, 0, 999);
	hq_qp_end(&d->out);
	fk_flush(d);
	while (fk_frame(d, &f) == 0) {
		switch (f.type) {
		case HQ_QP_RECEIVE:     /* the library asks again: request 4 */
			if (!sent4)
				fk_request(d, 4, false, 0);
			sent4 = true;
			break;
		case HQ_QP_BODY_CREDIT:
			break;
		case HQ_QP_RESPONSE:
			ck_assert_msg(f.id == 1 || f.id == 2, "response for %llu",
			    (unsigned long long)f.id);
			ck_assert_uint_eq(f.flags, 0);     /* MORE_DATA */
			break;
		case HQ_QP_RESPONSE_BODY:
			if (f.id == 1) {
				ck_assert(f.len == 6 && memcmp(f.payload, "aaaAAA", 6) == 0);
				ok1 = true;
			} else {
				ck_assert_uint_eq(f.id, 2);
				ck_assert(f.len == 6 && memcmp(f.payload, "bbbBBB", 6) == 0);
				ok2 = true;
			}
			break;
		case HQ_QP_CANCEL:
			ck_assert_uint_eq(f.id, 4);
			cancel3 = true;
			break;
		default:
			ck_abort_msg("unexpected %s", hq_qp_type_name(f.type));
		}
	}
	ck_assert(ok1 && ok2 && cancel3);
}

static void
slurp(httpq_req *req, char *out, size_t cap)
{
	size_t len = 0;
	ssize_t n;

	while ((n = httpq_receive_body(req, out + len, cap - len - 1)) > 0)
		len += (size_t)n;
	ck_assert_int_eq(n, 0);
	out[len] = '\0';
}

START_TEST(test_interleaved)
{
	struct run r;
	httpq_queue *q = start(&r, d_interleave, 0);
	httpq_req *r1, *r2, *r3, *r4;
	char b1[32], b2[32];
	const char *n, *v;

	ck_assert_int_eq(httpq_receive_ahead(q, 3), 0);
	r1 = httpq_receive_request(q);
	r2 = httpq_receive_request(q);
	r3 = httpq_receive_request(q);
	ck_assert(r1 && r2 && r3);
	ck_assert_uint_eq(httpq_req_id(r1), 1);
	ck_assert_uint_eq(httpq_req_id(r2), 2);
	ck_assert_int_eq(httpq_req_content_length(r1), -1);
	/* The second's body first, though the first's bytes came between. */
	slurp(r2, b2, sizeof b2);
	ck_assert_str_eq(b2, "bbbBBB");
	ck_assert_uint_eq(httpq_req_trailer_count(r2), 0);
	slurp(r1, b1, sizeof b1);
	ck_assert_str_eq(b1, "aaaAAA");
	ck_assert_uint_eq(httpq_req_trailer_count(r1), 1);
	ck_assert_str_eq(httpq_req_trailer(r1, "x-check"), "ok");
	ck_assert_int_eq(httpq_req_trailer_at(r1, 0, &n, &v), 0);
	ck_assert_str_eq(n, "X-Check");
	ck_assert_int_eq(httpq_req_trailer_at(r1, 1, &n, &v), -1);
	/* The third's client went away. */
	ck_assert_int_eq(httpq_wait_disconnect(r3), 0);
	ck_assert_int_eq(httpq_req_disconnected(r3), 1);
	ck_assert_str_eq(httpq_req_disconnect_reason(r3), "client gone");
	ck_assert_int_eq(httpq_send_response(r3, 200, NULL, NULL, 0, 0), -1);
	ck_assert_int_eq(errno, ECONNRESET);
	ck_assert_int_eq(httpq_cancel(r3), -1);
	ck_assert_int_eq(errno, EALREADY);
	httpq_req_free(r3);     /* no CANCEL: the daemon ended it */

	ck_assert_int_eq(httpq_send_response(r2, 200, NULL, NULL, 0, HTTPQ_FLAG_MORE_DATA), 0);
	ck_assert_int_eq(httpq_send_response(r1, 200, NULL, NULL, 0, HTTPQ_FLAG_MORE_DATA), 0);
	ck_assert_int_eq(httpq_send_body(r1, b1, 6, 0), 6);
	ck_assert_int_eq(httpq_send_body(r2, b2, 6, 0), 6);
	httpq_req_free(r1);
	httpq_req_free(r2);
	/* Freed without an answer: CANCEL. */
	r4 = httpq_receive_request(q);
	ck_assert_ptr_nonnull(r4);
	httpq_req_free(r4);
	finish(&r, q);
}
END_TEST

/* --- the event loop: callbacks, many requests ------------------------------- */

#define EV_REQS 20

static void
d_events(struct fk *d)
{
	struct hq_qp_frame f;
	int answered = 0;
	uint32_t credit = 0;
	uint64_t next = 100;

	fk_hello(d);
	while (answered < EV_REQS) {
		/* send requests as far as credit goes, then read the answers */
		while (credit > 0 && next < 100 + EV_REQS) {
			fk_request(d, next, next % 2 == 0, next % 2 == 0 ? 5 : 0);
			if (next % 2 == 0)
				fk_body(d, next, "12345", 5, true);
			next++;
			credit--;
		}
		ck_assert_int_eq(fk_frame(d, &f), 0);
		if (f.type == HQ_QP_RECEIVE) {
			credit += attr_u32(&f, HQ_QA_COUNT);
			ck_assert_uint_le(credit, 4);
		} else if (f.type == HQ_QP_RESPONSE) {
			ck_assert_uint_eq(f.flags, HQ_QF_END);
			ck_assert_uint_eq(attr_u32(&f, HQ_QA_STATUS), f.id % 2 ? 200 : 202);
			answered++;
		} else {
			ck_assert_msg(f.type == HQ_QP_BODY_CREDIT, "got %s", hq_qp_type_name(f.type));
		}
	}
	hq_qp_begin(&d->out, HQ_QP_SHUTDOWN, 0, 0);
	hq_qp_end(&d->out);
	fk_flush(d);
	while (fk_frame(d, &f) == 0)
		ck_assert_msg(f.type == HQ_QP_RECEIVE || f.type == HQ_QP_BODY_CREDIT,
		    "after SHUTDOWN: %s", hq_qp_type_name(f.type));
}

static int ev_requests, ev_bodies, ev_shutdown;

static void
ev_body(httpq_req *req, void *arg)
{
	char buf[16];
	ssize_t n;

	while ((n = httpq_receive_body(req, buf, sizeof buf)) > 0)
		;
	if (n < 0) {
		ck_assert_int_eq(errno, EAGAIN);
		return;
	}
	ev_bodies++;
	ck_assert_int_eq(httpq_send_response(req, 202, NULL, NULL, 0, 0), 0);
	httpq_req_free(req);    /* inside its callback: freed after it */
}

static void
ev_request(httpq_queue *q, httpq_req *req, void *arg)
{
	ck_assert_ptr_eq(arg, &ev_requests);
	ev_requests++;
	if (httpq_req_has_body(req))
		return;         /* ev_body answers */
	ck_assert_int_eq(httpq_send_response(req, 200, NULL, NULL, 0, 0), 0);
	httpq_req_free(req);
}

static void
ev_shut(httpq_queue *q, void *arg)
{
	ev_shutdown++;
}

START_TEST(test_event_loop)
{
	struct run r;
	httpq_queue *q = start(&r, d_events, 0);
	httpq_callbacks cb = { .size = sizeof cb, .request = ev_request, .body = ev_body,
		.shutdown = ev_shut };

	httpq_set_callbacks(q, &cb, &ev_requests);
	httpq_set_timeout(q, 0);
	ck_assert_int_eq(httpq_receive_ahead(q, 4), 0);
	while (!ev_shutdown) {
		struct pollfd p = { httpq_queue_fd(q), 0, 0 };
		if (httpq_queue_events(q) & HTTPQ_EV_READ)
			p.events |= POLLIN;
		if (httpq_queue_events(q) & HTTPQ_EV_WRITE)
			p.events |= POLLOUT;
		ck_assert_int_eq(poll(&p, 1, 10000), 1);
		ck_assert_msg(httpq_process(q) == 0, "process: %s", httpq_queue_error(q));
	}
	ck_assert_int_eq(ev_requests, EV_REQS);
	ck_assert_int_eq(ev_bodies, EV_REQS / 2);
	ck_assert_ptr_null(httpq_receive_request(q));
	ck_assert_int_eq(errno, ESHUTDOWN);
	finish(&r, q);
}
END_TEST

/* --- the daemon fails: ERROR, close, malformed frames ------------------------ */

static void
d_error(struct fk *d)
{
	fk_hello(d);
	fk_receive(d, 1);
	hq_qp_begin(&d->out, HQ_QP_ERROR, 0, 0);
	hq_qp_put_str(&d->out, HQ_QA_MESSAGE, "RECEIVE count 70000 over 65535");
	hq_qp_end(&d->out);
	fk_flush(d);
}

START_TEST(test_daemon_error)
{
	struct run r;
	httpq_queue *q = start(&r, d_error, 0);

	ck_assert_ptr_null(httpq_receive_request(q));
	ck_assert_int_eq(errno, EPROTO);
	ck_assert_str_eq(httpq_queue_error(q), "httpqd: RECEIVE count 70000 over 65535");
	/* The handle stays failed, with the same message. */
	ck_assert_int_eq(httpq_add_url(q, "http://+:8080/"), -1);
	ck_assert_int_eq(errno, EPROTO);
	ck_assert_int_eq(httpq_process(q), -1);
	ck_assert_str_eq(httpq_queue_error(q), "httpqd: RECEIVE count 70000 over 65535");
	finish(&r, q);
}
END_TEST

static void
d_close(struct fk *d)
{
	fk_hello(d);
	fk_receive(d, 1);
	fk_request(d, 8, true, 100);
	fk_body(d, 8, "x", 1, false);
}

START_TEST(test_daemon_close)
{
	struct run r;
	httpq_queue *q = start(&r, d_close, 0);
	httpq_req *req = httpq_receive_request(q);
	char buf[8];

	ck_assert_msg(req != NULL, "%s", httpq_queue_error(q));
	ck_assert_int_eq(httpq_receive_body(req, buf, sizeof buf), 1);
	ck_assert_int_eq(httpq_receive_body(req, buf, sizeof buf), -1);
	ck_assert_int_eq(errno, ECONNRESET);
	ck_assert_str_eq(httpq_queue_error(q), "httpqd closed the connection");
	ck_assert_int_eq(httpq_send_response(req, 200, NULL, NULL, 0, 0), -1);
	ck_assert_int_eq(errno, ECONNRESET);
	httpq_req_free(req);
	finish(&r, q);
}
END_TEST

/* One row per way a daemon can break the protocol after HELLO, once the
 * library gave one RECEIVE credit: the application's receive fails with
 * EPROTO and this text, and nothing crashes. */
static const struct bad {
	const char *name;
	const char *expect;         /* in httpq_queue_error() */
} bads[] = {
	{ "unknown type", "frame type 77" },
	{ "undefined flag", "flags 0x4" },
	{ "payload too long", "over 1048576" },
	{ "client-only frame", "a frame only clients send" },
	{ "request id 0", "request id 0" },
	{ "request twice", "request id already held" },
	{ "request without credit", "no RECEIVE credit" },
	{ "truncated attribute", "malformed attribute" },
	{ "NUL in a string", "malformed attribute" },
	{ "request without method", "malformed attribute" },
	{ "u32 of 3 bytes", "malformed attribute" },
	{ "bad header", "bad HEADER attribute" },
	{ "body past the window", "body past the window" },
	{ "body after its end", "body after its end" },
	{ "credit without BYTES", "BYTES missing" },
	{ "credit overflow", "send window over" },
	{ "HELLO twice", "HELLO twice" },
	{ "RESULT without STATUS", "STATUS missing" },
	{ "DISCONNECT with NUL", "malformed REASON" },
};

static void
raw(struct fk *d, const void *p, size_t n)
{
	ck_assert_int_eq(hq_write_all(d->fd, p, n, NULL), 0);
}

static void
d_bad(struct fk *d)
{
	struct hq_qp_buf *o = &d->out;
	static unsigned char big[2 * BODY_WINDOW + 1];
	struct hq_qp_frame f;

	fk_hello(d);
	fk_receive(d, 1);
	switch (d->scenario) {
	case 0:
		raw(d, "\0\0\0\0\0\x4d\0\0\0\0\0\0\0\0\0\0", 16);
		break;
	case 1:
		raw(d, "\0\0\0\0\0\x09\0\x04\0\0\0\0\0\0\0\x01", 16);
		break;
	case 2:
		raw(d, "\0\x20\0\0\0\x09\0\0\0\0\0\0\0\0\0\x01", 16);
		break;
	case 3:
		hq_qp_begin(o, HQ_QP_RECEIVE, 0, 0);
		hq_qp_put_u32(o, HQ_QA_COUNT, 1);
		hq_qp_end(o);
		break;
	case 4:
		fk_request(d, 0, false, 0);
		break;
	case 5:
	case 6:
		fk_request(d, 1, false, 0);
		fk_request(d, d->scenario == 5 ? 1 : 2, false, 0);
		break;
	case 7:
		hq_qp_begin(o, HQ_QP_REQUEST, 0, 1);
		hq_qp_put_str(o, HQ_QA_METHOD, "GET");
		hq_qp_put_raw(o, "\0\x10\0\0", 4);   /* tag, half a length */
		hq_qp_end(o);
		break;
	case 8:
		hq_qp_begin(o, HQ_QP_REQUEST, 0, 1);
		hq_qp_put(o, HQ_QA_METHOD, "G\0T", 3);
		hq_qp_end(o);
		break;
	case 9:
		hq_qp_begin(o, HQ_QP_REQUEST, 0, 1);
		hq_qp_put_str(o, HQ_QA_PATH, "/");
		hq_qp_end(o);
		break;
	case 10:
		hq_qp_begin(o, HQ_QP_REQUEST, 0, 1);
		hq_qp_put_str(o, HQ_QA_METHOD, "GET");
		hq_qp_put(o, HQ_QA_VERSION, "\0\0\x0b", 3);
		hq_qp_end(o);
		break;
	case 11:
		hq_qp_begin(o, HQ_QP_REQUEST, 0, 1);
		hq_qp_put_str(o, HQ_QA_METHOD, "GET");
		hq_qp_put_str(o, HQ_QA_HEADER, "no colon");
		hq_qp_end(o);
		break;
	case 12:
		/* a window's slack is taken (httpqd's pause lags), not more */
		fk_request(d, 1, true, 2 * BODY_WINDOW + 1);
		fk_body(d, 1, big, 2 * BODY_WINDOW + 1, false);
		break;
	case 13:
		fk_request(d, 1, true, 1);
		fk_body(d, 1, "x", 1, true);
		fk_body(d, 1, "y", 1, false);
		break;
	case 14:
		fk_request(d, 1, false, 0);
		hq_qp_begin(o, HQ_QP_SEND_CREDIT, 0, 1);
		hq_qp_end(o);
		break;
	case 15:
		fk_request(d, 1, false, 0);
		for (int i = 0; i < 300; i++) {
			hq_qp_begin(o, HQ_QP_SEND_CREDIT, 0, 1);
			hq_qp_put_u32(o, HQ_QA_BYTES, UINT32_MAX);
			hq_qp_end(o);
			if (o->len > 65536)
				fk_flush(d);
		}
		break;
	case 16:
		d->hello_version = 1;
		hq_qp_begin(o, HQ_QP_HELLO, 0, 0);
		hq_qp_put_u32(o, HQ_QA_VERSION, 1);
		hq_qp_end(o);
		break;
	case 17:
		hq_qp_begin(o, HQ_QP_RESULT, 0, 1);
		hq_qp_end(o);
		break;
	case 18:
		fk_request(d, 1, false, 0);
		hq_qp_begin(o, HQ_QP_DISCONNECT, 0, 1);
		hq_qp_put(o, HQ_QA_REASON, "a\0b", 3);
		hq_qp_end(o);
		break;
	}
	if (o->len)
		fk_flush(d);
	while (fk_frame(d, &f) == 0)
		;
}

START_TEST(test_malformed)
{
	const struct bad *b = &bads[_i];
	struct run r;
	httpq_queue *q = httpq_connect_fd(start_daemon(&r, d_bad, 0, _i), "test-app");
	httpq_req *req;
	char buf[8];
	int e = 0;

	ck_assert_ptr_nonnull(q);
	httpq_set_timeout(q, 10000);
	/* Some rows need a request in hand to see the fault: take what comes. */
	while ((req = httpq_receive_request(q)) != NULL) {
		ssize_t n;
		while ((n = httpq_receive_body(req, buf, sizeof buf)) > 0)
			;
		if (n < 0 || httpq_wait_disconnect(req) < 0) {
			e = errno;
			httpq_req_free(req);
			break;
		}
		httpq_req_free(req);
	}
	if (!req)
		e = errno;
	ck_assert_msg(e == EPROTO, "%s: errno %d (%s)", b->name, e, httpq_queue_error(q));
	ck_assert_msg(strstr(httpq_queue_error(q), b->expect) != NULL, "%s: \"%s\" lacks \"%s\"",
	    b->name, httpq_queue_error(q), b->expect);
	ck_assert_int_eq(httpq_process(q), -1);
	finish(&r, q);
}
END_TEST

Suite *
unit_suite(void)
{
	Suite *s = suite_create("client");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_calls);
	tcase_add_test(tc, test_version_mismatch);
	tcase_add_test(tc, test_default_socket);
	tcase_add_test(tc, test_request_facts);
	tcase_add_test(tc, test_big_body);
	tcase_add_test(tc, test_send_window);
	tcase_add_test(tc, test_send_file);
	tcase_add_test(tc, test_interleaved);
	tcase_add_test(tc, test_event_loop);
	tcase_add_test(tc, test_daemon_error);
	tcase_add_test(tc, test_daemon_close);
	tcase_add_loop_test(tc, test_malformed, 0, (int)(sizeof bads / sizeof bads[0]));
	suite_add_tcase(s, tc);
	return s;
}
