/*
 * httpq-echo-client -- an application process behind httpqd, through
 * libhttpq (libhttpq(3)).  It attaches to a request queue, registers URL
 * prefixes, and answers every request: the body of a request with one is
 * sent back as it streams in; a request without one gets a line naming
 * its method and URL.
 *
 *   httpq-echo-client [-s SOCKET] (-c QUEUE | -o QUEUE) [-e] [-H] [PREFIX...]
 *
 *   -s SOCKET  httpqd's queue socket (default $HTTPQ_QUEUE_SOCKET, else
 *              /run/httpq/queue.sock)
 *   -c QUEUE   create a run-time queue of that name (gone when we exit)
 *   -o QUEUE   open a queue declared in httpq.yaml with attach:
 *   -e         event-loop model: poll(2) on the handle's fd, callbacks,
 *              many requests at once; a body is counted, not echoed
 *   -H         a request without a body gets "Hello, world\n" (13 bytes,
 *              with its Content-Length), as the bundled hello module
 *              answers: contrib/bench's attached mode
 *
 * Build: cc -o httpq-echo-client httpq-echo-client.c $(pkg-config --cflags --libs libhttpq)
 * Prints "ready" on stdout once every prefix is registered.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <httpq/client.h>

static void
die(httpq_queue *q, const char *what)
{
	fprintf(stderr, "httpq-echo-client: %s: %s\n", what,
	    q ? httpq_queue_error(q) : strerror(errno));
	exit(1);
}

static int hello;        /* -H */

/* "Hello, world\n" with its length: head and body leave in one write. */
static void
answer_hello(httpq_req *req)
{
	const httpq_field h[] = { { "Content-Type", "text/plain" },
	    { "Content-Length", "13" } };

	if (httpq_send_response(req, 200, NULL, h, 2, HTTPQ_FLAG_MORE_DATA) == 0)
		httpq_send_body(req, "Hello, world\n", 13, 0);
}

/* --- blocking model: one request at a time ----------------------------- */

static void
answer(httpq_req *req)
{
	char buf[65536];
	ssize_t n;

	if (!httpq_req_has_body(req) && hello) {
		answer_hello(req);
		return;
	}
	if (!httpq_req_has_body(req)) {
		const httpq_field h[] = { { "Content-Type", "text/plain" } };
		snprintf(buf, sizeof buf, "%s %s from %s\n", httpq_req_method(req),
		    httpq_req_raw_url(req), httpq_req_remote_addr(req));
		if (httpq_send_response(req, 200, NULL, h, 1, HTTPQ_FLAG_MORE_DATA) == 0)
			httpq_send_body(req, buf, strlen(buf), 0);
		return;
	}
	/* No Content-Length: the echo goes out chunked as the body comes in. */
	const char *type = httpq_req_header(req, "Content-Type");
	const httpq_field h[] = { { "Content-Type", type ? type : "application/octet-stream" } };
	if (httpq_send_response(req, 200, NULL, h, 1, HTTPQ_FLAG_MORE_DATA) < 0)
		return;
	while ((n = httpq_receive_body(req, buf, sizeof buf)) > 0)
		if (httpq_send_body(req, buf, (size_t)n, HTTPQ_FLAG_MORE_DATA) < 0)
			return;
	if (n == 0)
		httpq_send_body(req, NULL, 0, 0);
}

static int
run_blocking(httpq_queue *q)
{
	httpq_req *req;

	while ((req = httpq_receive_request(q)) != NULL) {
		answer(req);
		httpq_req_free(req);
	}
	if (errno == ESHUTDOWN)
		return 0;
	die(q, "receive");
	return 1;
}

/* --- event-loop model: many requests at once ---------------------------- */

struct count {
	unsigned long long bytes;
};

static int held;        /* requests taken and not yet freed */
static int stopping;    /* the daemon shuts the queue down */

static void
finish(httpq_req *req, struct count *c)
{
	char line[128];
	const httpq_field h[] = { { "Content-Type", "text/plain" } };

	snprintf(line, sizeof line, "%s %s: %llu bytes\n", httpq_req_method(req),
	    httpq_req_raw_url(req), c ? c->bytes : 0);
	/* A short line fits the send window of a new request. */
	if (httpq_send_response(req, 200, NULL, h, 1, HTTPQ_FLAG_MORE_DATA) == 0)
		httpq_send_body(req, line, strlen(line), 0);
	free(c);
	httpq_req_free(req);
	held--;
}

static void
on_body(httpq_req *req, void *arg)
{
	struct count *c = httpq_req_data(req);
	char buf[65536];
	ssize_t n;

	(void)arg;
	while ((n = httpq_receive_body(req, buf, sizeof buf)) > 0)
		c->bytes += (unsigned long long)n;
	if (n == 0)
		finish(req, c);
	else if (errno != EAGAIN) {     /* the client went away */
		free(c);
		httpq_req_free(req);
		held--;
	}
}

static void
on_request(httpq_queue *q, httpq_req *req, void *arg)
{
	(void)q;
	held++;
	if (!httpq_req_has_body(req) && hello) {
		answer_hello(req);
		httpq_req_free(req);
		held--;
		return;
	}
	if (!httpq_req_has_body(req)) {
		finish(req, NULL);
		return;
	}
	httpq_req_set_data(req, calloc(1, sizeof(struct count)));
	on_body(req, arg);      /* bytes may be here already */
}

static void
on_shutdown(httpq_queue *q, void *arg)
{
	(void)q;
	(void)arg;
	stopping = 1;
}

static int
run_events(httpq_queue *q)
{
	const httpq_callbacks cb = {
		.size = sizeof cb, .request = on_request, .body = on_body,
		.shutdown = on_shutdown,
	};

	httpq_set_callbacks(q, &cb, NULL);
	httpq_set_timeout(q, 0);
	if (httpq_receive_ahead(q, 16) < 0)
		die(q, "receive ahead");
	while (!stopping || held > 0) {
		struct pollfd p = { httpq_queue_fd(q), 0, 0 };
		if (httpq_queue_events(q) & HTTPQ_EV_READ)
			p.events |= POLLIN;
		if (httpq_queue_events(q) & HTTPQ_EV_WRITE)
			p.events |= POLLOUT;
		if (poll(&p, 1, -1) < 0 && errno != EINTR)
			die(NULL, "poll");
		if (httpq_process(q) < 0)
			die(q, "process");
	}
	return 0;
}

int
main(int argc, char **argv)
{
	const char *sock = NULL, *create = NULL, *open = NULL;
	int c, events = 0;
	httpq_queue *q;

	while ((c = getopt(argc, argv, "s:c:o:eH")) != -1) {
		switch (c) {
		case 's': sock = optarg; break;
		case 'c': create = optarg; break;
		case 'o': open = optarg; break;
		case 'e': events = 1; break;
		case 'H': hello = 1; break;
		default: goto usage;
		}
	}
	if (!create == !open)
		goto usage;
	q = httpq_connect(sock, "httpq-echo-client");
	if (!q)
		die(NULL, "connect");
	if (create ? httpq_create_queue(q, create, 0) < 0 :
	    httpq_open_queue(q, open, optind < argc ? HTTPQ_ROLE_BOTH : HTTPQ_ROLE_WORKER) < 0)
		die(q, create ? "create queue" : "open queue");
	for (int i = optind; i < argc; i++)
		if (httpq_add_url(q, argv[i]) < 0)
			die(q, argv[i]);
	printf("ready\n");
	fflush(stdout);
	c = events ? run_events(q) : run_blocking(q);
	httpq_close(q);
	return c;
usage:
	fprintf(stderr, "usage: httpq-echo-client [-s SOCKET] (-c QUEUE | -o QUEUE) [-e] [-H] "
	    "[PREFIX...]\n");
	return 2;
}
