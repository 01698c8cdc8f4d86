/*
 * httpq-overload -- a closed-loop HTTP/1.1 load generator that keeps the
 * latencies of each status apart (contrib/bench -m overload).
 *
 *   httpq-overload [-c CONNS] [-d SECONDS] [-r RATE] PORT PATH
 *
 * CONNS keep-alive connections to 127.0.0.1:PORT send GET PATH for
 * SECONDS, one request at a time each.  Without -r (closed loop) each
 * sends again as soon as its response is complete.  With -r (open loop)
 * RATE requests a second go out on whichever connections are free, at
 * evenly spaced times whatever the answers take; a request due while every
 * connection waits is not sent and counted as "missed" (raise CONNS).  A
 * connection the server closes is opened again.  Then one line per status
 * seen, and a total:
 *
 *   status 200 count 81234 p50_us 1100 p99_us 2400 max_us 9000
 *   status 503 count 512345 p50_us 60 p99_us 210 max_us 1500
 *   total 593579 rps 118715.8 errors 0
 *
 * Latency runs from the request's write to the last byte of its response
 * (CLOCK_MONOTONIC).  wrk cannot do this: its latency histogram mixes
 * every status.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct lat {
	int status;
	uint32_t *v;
	size_t n, cap;
};

struct conn {
	int fd;
	uint64_t t0;
	bool busy;
	struct conn *next_free;
	char buf[8192];
	size_t len;
};

static struct lat lats[8];
static size_t nlats;
static uint64_t errors;
static char req[512];
static size_t reqlen;
static struct sockaddr_in addr;
static int ep;
static bool open_loop;
static struct conn *free_conns;

static void
conn_free(struct conn *c)
{
	c->busy = false;
	c->next_free = free_conns;
	free_conns = c;
}

static uint64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static void
record(int status, uint64_t us)
{
	struct lat *l = NULL;

	for (size_t i = 0; i < nlats; i++)
		if (lats[i].status == status)
			l = &lats[i];
	if (l == NULL) {
		if (nlats == sizeof(lats) / sizeof(lats[0])) {
			errors++;
			return;
		}
		l = &lats[nlats++];
		l->status = status;
	}
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 65536;
		l->v = realloc(l->v, l->cap * sizeof(*l->v));
		if (l->v == NULL) {
			perror("realloc");
			exit(1);
		}
	}
	l->v[l->n++] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
}

static int
send_req(struct conn *c)
{
	c->t0 = now_us();
	c->len = 0;
	c->busy = true;
	return write(c->fd, req, reqlen) == (ssize_t)reqlen ? 0 : -1;
}

static void
open_conn(struct conn *c)
{
	struct epoll_event ev = { .events = EPOLLIN };
	int one = 1;

	c->fd = socket(AF_INET, SOCK_STREAM, 0);
	if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		perror("connect");
		exit(1);
	}
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	ev.data.ptr = c;
	epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
	if (open_loop)
		conn_free(c);
	else if (send_req(c) < 0)
		errors++;
}

static void
reopen(struct conn *c)
{
	close(c->fd);
	open_conn(c);
}

/* A whole response in c->buf: its status, or 0 while incomplete, -1 bad. */
static int
parse(struct conn *c, int *close_after)
{
	char *end, *p;
	long cl = 0;
	int status;

	c->buf[c->len] = '\0';
	end = strstr(c->buf, "\r\n\r\n");
	if (end == NULL)
		return c->len >= sizeof(c->buf) - 1 ? -1 : 0;
	if (sscanf(c->buf, "HTTP/1.1 %d", &status) != 1)
		return -1;
	*close_after = 0;
	for (p = strstr(c->buf, "\r\n"); p != NULL && p < end; p = strstr(p + 2, "\r\n")) {
		if (strncasecmp(p + 2, "content-length:", 15) == 0)
			cl = strtol(p + 17, NULL, 10);
		else if (strncasecmp(p + 2, "connection: close", 17) == 0)
			*close_after = 1;
	}
	if ((size_t)(end + 4 - c->buf) + (size_t)cl > c->len)
		return 0;
	return status;
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
	int conns = 500, secs = 5, opt;
	double rate = 0;
	struct epoll_event evs[256];
	struct conn *cs;
	uint64_t start, stop, total = 0, sent = 0, missed = 0;

	while ((opt = getopt(argc, argv, "c:d:r:")) != -1) {
		switch (opt) {
		case 'c': conns = atoi(optarg); break;
		case 'd': secs = atoi(optarg); break;
		case 'r': rate = atof(optarg); open_loop = rate > 0; break;
		default:
			fprintf(stderr, "usage: %s [-c CONNS] [-d SECONDS] PORT PATH\n", argv[0]);
			return 2;
		}
	}
	if (argc - optind != 2 || conns < 1 || secs < 1) {
		fprintf(stderr, "usage: %s [-c CONNS] [-d SECONDS] PORT PATH\n", argv[0]);
		return 2;
	}
	addr.sin_family = AF_INET;
	addr.sin_port = htons((uint16_t)atoi(argv[optind]));
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	reqlen = (size_t)snprintf(req, sizeof(req),
	    "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%s\r\n\r\n", argv[optind + 1], argv[optind]);
	ep = epoll_create1(0);
	cs = calloc((size_t)conns, sizeof(*cs));
	if (ep < 0 || cs == NULL || reqlen >= sizeof(req)) {
		perror("setup");
		return 1;
	}
	start = now_us();
	stop = start + (uint64_t)secs * 1000000;
	for (int i = 0; i < conns; i++)
		open_conn(&cs[i]);
	start = now_us();
	while (now_us() < stop) {
		int n, wait_ms = 100;

		if (open_loop) {
			/* Every request due by now: sent, or missed. */
			uint64_t due = (uint64_t)((double)(now_us() - start) * rate / 1e6);

			for (; sent < due; sent++) {
				struct conn *c = free_conns;

				if (c == NULL) {
					missed++;
					continue;
				}
				free_conns = c->next_free;
				if (send_req(c) < 0) {
					errors++;
					reopen(c);
				}
			}
			wait_ms = 1;
		}
		n = epoll_wait(ep, evs, 256, wait_ms);

		for (int i = 0; i < n; i++) {
			struct conn *c = evs[i].data.ptr;
			ssize_t r = read(c->fd, c->buf + c->len, sizeof(c->buf) - 1 - c->len);
			int st, close_after = 0;

			if (r <= 0) {
				if (r < 0 && errno == EAGAIN)
					continue;
				/* closed by the server between responses: reconnect */
				if (c->len > 0 || (open_loop && c->busy))
					errors++;
				if (open_loop && !c->busy) {
					/* free: take it out of the free list first */
					struct conn **pp = &free_conns;

					while (*pp != NULL && *pp != c)
						pp = &(*pp)->next_free;
					if (*pp == c)
						*pp = c->next_free;
				}
				reopen(c);
				continue;
			}
			c->len += (size_t)r;
			st = parse(c, &close_after);
			if (st == 0)
				continue;
			if (st < 0) {
				errors++;
				reopen(c);
				continue;
			}
			record(st, now_us() - c->t0);
			total++;
			if (close_after)
				reopen(c);
			else if (open_loop)
				conn_free(c);
			else if (send_req(c) < 0) {
				errors++;
				reopen(c);
			}
		}
	}
	stop = now_us();
	for (size_t i = 0; i < nlats; i++) {
		struct lat *l = &lats[i];

		qsort(l->v, l->n, sizeof(*l->v), cmp_u32);
		printf("status %d count %zu p50_us %u p99_us %u max_us %u\n", l->status, l->n,
		    l->v[l->n / 2], l->v[l->n * 99 / 100], l->v[l->n - 1]);
	}
	printf("total %llu rps %.1f errors %llu missed %llu\n", (unsigned long long)total,
	    (double)total * 1e6 / (double)(stop - start), (unsigned long long)errors,
	    (unsigned long long)missed);
	fflush(stdout);
	for (int i = 0; i < conns; i++)
		close(cs[i].fd);
	free(cs);
	for (size_t i = 0; i < nlats; i++)
		free(lats[i].v);
	close(ep);
	return 0;
}
