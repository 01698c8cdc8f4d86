/*
 * static -- serves a folder of files (httpq-static(8)).
 *
 * The file is the request's cooked path minus the path of the URL prefix
 * that matched, below the option `root`.  The path was cooked by the
 * daemon already (percent-decoded, dot segments resolved), but it is not
 * trusted twice: "..", "." and empty segments and NUL are refused, and the
 * path is opened one component at a time with openat() relative to a
 * directory fd of root taken at init, each component with O_NOFOLLOW.  A
 * symbolic link is met explicitly and followed only as the `symlinks`
 * option says, so no link and no rename race leads outside root unless the
 * operator allowed links.
 *
 * Bodies go out with send_file (zero-copy).  The daemon closes the
 * connection when a file turns out shorter than the Content-Length sent
 * (sendfile or pread returning 0), so a file truncated during a download
 * never yields a silently wrong length.
 *
 * Conditionals follow RFC 9110 13.2.2, ranges RFC 9110 14: one range is a
 * 206 with Content-Range, several a multipart/byteranges body; more than
 * STATIC_MAX_RANGES ranges, or ranges adding up to more than the file
 * (overlap used to amplify), are ignored and the whole file is sent.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <stdarg.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <httpq/module.h>

#include "httpdate.h"

#define STATIC_DEFAULT_INDEX "index.html"
#define STATIC_DEFAULT_TYPE "application/octet-stream"
#define STATIC_MIME_TYPES "/etc/mime.types"
/* Ranges in one request; beyond, the Range field is ignored (200). */
#define STATIC_MAX_RANGES 32

static const struct httpq_api *api;
static atomic_uint_fast64_t instances;

enum symlinks { LINKS_DENY, LINKS_OWNER, LINKS_FOLLOW };

struct mime {
	char *ext;  /* lower case, without the dot */
	char *type;
};

/*
 * The MIME table, one for all the instances that read the same
 * mime.types (same file, size and modification time): n static queues
 * hold one table, and a reload after an edit of the file reads it again.
 */
struct mimetab {
	unsigned refs;         /* under mimes_lock */
	struct stat st;        /* of STATIC_MIME_TYPES when read; st_ino 0: not read */
	struct mime *mimes;
	size_t n;
	char *store;           /* the strings; NULL for the built-in table */
};
static pthread_mutex_t mimes_lock = PTHREAD_MUTEX_INITIALIZER;
static struct mimetab *mimes_last; /* the one a new instance may share */

struct stat_cfg {
	httpq_ctx *ctx;
	const char *root;
	const char *index;
	const char *default_type;
	const char *cache_control;
	int cache_policy; /* enum httpq_cache_policy for whole files */
	uint32_t cache_ttl;
	int dotfiles;     /* 1: served */
	enum symlinks symlinks;
	int listing;
	int precompressed;
	int rootfd;
	struct stat rootst;  /* root's, taken at init: a folder */
	uint64_t id;         /* this instance's number, from 1 */
	struct mimetab *mt;
};

/* Used when /etc/mime.types cannot be read. */
static const struct {
	const char *ext, *type;
} builtin_mimes[] = {
	{ "css", "text/css" }, { "csv", "text/csv" }, { "gif", "image/gif" },
	{ "htm", "text/html" }, { "html", "text/html" }, { "ico", "image/vnd.microsoft.icon" },
	{ "jpeg", "image/jpeg" }, { "jpg", "image/jpeg" }, { "js", "text/javascript" },
	{ "json", "application/json" }, { "mjs", "text/javascript" }, { "mp4", "video/mp4" },
	{ "pdf", "application/pdf" }, { "png", "image/png" }, { "svg", "image/svg+xml" },
	{ "txt", "text/plain" }, { "wasm", "application/wasm" }, { "webp", "image/webp" },
	{ "woff", "font/woff" }, { "woff2", "font/woff2" }, { "xml", "application/xml" },
	{ "zip", "application/zip" },
};

/* --- options --------------------------------------------------------------- */

static int
bool_value(const char *v, int *out)
{
	static const char *const yes[] = { "true", "yes", "on", "1" };
	static const char *const no[] = { "false", "no", "off", "0" };

	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(v, yes[i]) == 0)
			return *out = 1, 0;
		if (strcasecmp(v, no[i]) == 0)
			return *out = 0, 0;
	}
	return -1;
}

/* A header field value: visible ASCII, spaces and tabs, obs-text. */
static int
field_value_ok(const char *v)
{
	for (const unsigned char *p = (const unsigned char *)v; *p; p++)
		if ((*p < 0x20 && *p != '\t') || *p == 0x7f)
			return 0;
	return *v != '\0';
}

static void __attribute__((format(printf, 4, 5)))
bad(httpq_ctx *ctx, httpq_validation *v, const char *key, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (v != NULL)
		api->report(v, key, "%s", msg);
	else
		api->log(ctx, HTTPQ_LOG_ERR, "option %s: %s", key, msg);
}

/*
 * Reads the options into s.  From validate() (v set) every bad option is
 * reported by name; init() runs the same code and only logs.
 */
static int
static_options(httpq_ctx *ctx, httpq_validation *v, struct stat_cfg *s)
{
	const char *val;
	struct stat st;
	int rc = 0;

	memset(s, 0, sizeof(*s));
	s->ctx = ctx;
	s->rootfd = -1;
	s->index = STATIC_DEFAULT_INDEX;
	s->default_type = STATIC_DEFAULT_TYPE;
	s->symlinks = LINKS_OWNER;
	if ((val = api->option(ctx, "root")) == NULL) {
		bad(ctx, v, "root", "required: the folder to serve");
		rc = -1;
	} else if (val[0] != '/') {
		bad(ctx, v, "root", "expected an absolute path, got \"%s\"", val);
		rc = -1;
	} else if (stat(val, &st) < 0) {
		bad(ctx, v, "root", "\"%s\": %s", val, strerror(errno));
		rc = -1;
	} else if (!S_ISDIR(st.st_mode)) {
		bad(ctx, v, "root", "\"%s\" is not a directory", val);
		rc = -1;
	} else {
		s->root = val;
	}
	if ((val = api->option(ctx, "index")) != NULL) {
		if (*val == '\0' || strchr(val, '/') != NULL || strcmp(val, ".") == 0 ||
		    strcmp(val, "..") == 0) {
			bad(ctx, v, "index", "expected a file name without '/', got \"%s\"", val);
			rc = -1;
		} else {
			s->index = val;
		}
	}
	if ((val = api->option(ctx, "default_type")) != NULL) {
		if (!field_value_ok(val)) {
			bad(ctx, v, "default_type", "expected a media type, got \"%s\"", val);
			rc = -1;
		} else {
			s->default_type = val;
		}
	}
	if ((val = api->option(ctx, "cache_control")) != NULL) {
		if (!field_value_ok(val)) {
			bad(ctx, v, "cache_control", "expected a Cache-Control value "
			    "(printable, one line), got \"%s\"", val);
			rc = -1;
		} else {
			s->cache_control = val;
		}
	}
	if ((val = api->option(ctx, "cache")) != NULL) {
		char *end;
		unsigned long ttl = strtoul(val, &end, 10);

		if (strcmp(val, "user_invalidates") == 0) {
			s->cache_policy = HTTPQ_CACHE_USER_INVALIDATES;
		} else if (val[0] >= '1' && val[0] <= '9' && *end == '\0' &&
		    ttl <= 31536000) {
			s->cache_policy = HTTPQ_CACHE_TIME_TO_LIVE;
			s->cache_ttl = (uint32_t)ttl;
		} else if (strcmp(val, "off") != 0) {
			bad(ctx, v, "cache", "expected off, user_invalidates or seconds "
			    "to live (1-31536000), got \"%s\"", val);
			rc = -1;
		}
		if (s->cache_policy != HTTPQ_CACHE_NOCACHE && api->minor < 3) {
			bad(ctx, v, "cache", "needs httpqd with module ABI 1.3 "
			    "(this one has 1.%u)", (unsigned)api->minor);
			rc = -1;
		}
	}
	if ((val = api->option(ctx, "dotfiles")) != NULL) {
		if (strcmp(val, "allow") == 0) {
			s->dotfiles = 1;
		} else if (strcmp(val, "deny") != 0) {
			bad(ctx, v, "dotfiles", "expected allow or deny, got \"%s\"", val);
			rc = -1;
		}
	}
	if ((val = api->option(ctx, "symlinks")) != NULL) {
		if (strcmp(val, "follow") == 0) {
			s->symlinks = LINKS_FOLLOW;
		} else if (strcmp(val, "deny") == 0) {
			s->symlinks = LINKS_DENY;
		} else if (strcmp(val, "owner") != 0) {
			bad(ctx, v, "symlinks", "expected follow, owner or deny, got \"%s\"", val);
			rc = -1;
		}
	}
	if ((val = api->option(ctx, "listing")) != NULL && bool_value(val, &s->listing) < 0) {
		bad(ctx, v, "listing", "expected true or false, got \"%s\"", val);
		rc = -1;
	}
	if ((val = api->option(ctx, "precompressed")) != NULL &&
	    bool_value(val, &s->precompressed) < 0) {
		bad(ctx, v, "precompressed", "expected true or false, got \"%s\"", val);
		rc = -1;
	}
	return rc;
}

static int
static_validate(const struct httpq_api *a, httpq_ctx *ctx, httpq_validation *v)
{
	struct stat_cfg s;

	api = a;
	return static_options(ctx, v, &s);
}

/* --- MIME types ------------------------------------------------------------ */

static int
mime_cmp(const void *a, const void *b)
{
	return strcmp(((const struct mime *)a)->ext, ((const struct mime *)b)->ext);
}

/*
 * Reads /etc/mime.types ("type ext ext..." lines, '#' comments) into t,
 * or takes the built-in types.  A line's type is stored once for all its
 * extensions, and both tables are cut to their size: 1,552 extensions
 * take 61 KiB, not the 96 KiB of doubling buffers with a copy of the type
 * per extension.
 */
static void
mime_read(httpq_ctx *ctx, struct mimetab *t)
{
	FILE *f = fopen(STATIC_MIME_TYPES, "re");
	size_t cap = 0, n = 0, len = 0, scap = 0;
	char line[1024];

	if (f != NULL && fstat(fileno(f), &t->st) < 0)
		t->st.st_ino = 0;
	if (f != NULL) {
		while (fgets(line, sizeof(line), f) != NULL) {
			char *save, *type, *ext;
			size_t toff = SIZE_MAX;

			if (line[0] == '#' || (type = strtok_r(line, " \t\r\n", &save)) == NULL)
				continue;
			while ((ext = strtok_r(NULL, " \t\r\n", &save)) != NULL) {
				size_t tl = toff == SIZE_MAX ? strlen(type) + 1 : 0, el = strlen(ext) + 1;

				if (n == cap) {
					cap = cap ? cap * 2 : 1024;
					t->mimes = realloc(t->mimes, cap * sizeof(*t->mimes));
				}
				if (len + tl + el > scap) {
					/* Offsets, rebased below: the store may move. */
					scap = scap ? scap * 2 : 65536;
					while (len + tl + el > scap)
						scap *= 2;
					t->store = realloc(t->store, scap);
				}
				if (t->mimes == NULL || t->store == NULL)
					abort();
				if (toff == SIZE_MAX) {
					memcpy(t->store + len, type, tl);
					toff = len;
					len += tl;
				}
				for (char *p = ext; *p; p++)
					*p = (char)tolower((unsigned char)*p);
				memcpy(t->store + len, ext, el);
				t->mimes[n].ext = (char *)(uintptr_t)len;
				len += el;
				t->mimes[n].type = (char *)(uintptr_t)toff;
				n++;
			}
		}
		fclose(f);
	}
	if (n == 0) {
		t->st.st_ino = 0;
		api->log(ctx, HTTPQ_LOG_NOTICE, "cannot read %s; using %zu built-in "
		    "MIME types", STATIC_MIME_TYPES, sizeof(builtin_mimes) / sizeof(builtin_mimes[0]));
		free(t->mimes);
		free(t->store);
		t->store = NULL;
		n = sizeof(builtin_mimes) / sizeof(builtin_mimes[0]);
		if ((t->mimes = calloc(n, sizeof(*t->mimes))) == NULL)
			abort();
		for (size_t i = 0; i < n; i++) {
			t->mimes[i].ext = (char *)builtin_mimes[i].ext;
			t->mimes[i].type = (char *)builtin_mimes[i].type;
		}
	} else {
		char *store = realloc(t->store, len);
		struct mime *m = realloc(t->mimes, n * sizeof(*t->mimes));

		if (store != NULL)
			t->store = store;
		if (m != NULL)
			t->mimes = m;
		for (size_t i = 0; i < n; i++) {
			t->mimes[i].ext = t->store + (uintptr_t)t->mimes[i].ext;
			t->mimes[i].type = t->store + (uintptr_t)t->mimes[i].type;
		}
	}
	qsort(t->mimes, n, sizeof(*t->mimes), mime_cmp);
	t->n = n;
}

/* The table for a new instance: the last one read if mime.types is unchanged. */
static struct mimetab *
mime_get(httpq_ctx *ctx)
{
	struct mimetab *t;
	struct stat st;

	pthread_mutex_lock(&mimes_lock);
	t = mimes_last;
	if (t != NULL && stat(STATIC_MIME_TYPES, &st) == 0 && st.st_ino == t->st.st_ino &&
	    st.st_dev == t->st.st_dev && st.st_size == t->st.st_size &&
	    st.st_mtim.tv_sec == t->st.st_mtim.tv_sec &&
	    st.st_mtim.tv_nsec == t->st.st_mtim.tv_nsec) {
		t->refs++;
	} else {
		if ((t = calloc(1, sizeof(*t))) == NULL)
			abort();
		mime_read(ctx, t);
		t->refs = 1;
		if (t->st.st_ino != 0)
			mimes_last = t;
	}
	pthread_mutex_unlock(&mimes_lock);
	return t;
}

static void
mime_put(struct mimetab *t)
{
	pthread_mutex_lock(&mimes_lock);
	if (--t->refs == 0) {
		if (mimes_last == t)
			mimes_last = NULL;
		free(t->mimes);
		free(t->store);
		free(t);
	}
	pthread_mutex_unlock(&mimes_lock);
}

static const char *
mime_type(const struct stat_cfg *s, const char *name)
{
	/* The last extension looked up, per thread: files served one after
	 * the other mostly share theirs. */
	static _Thread_local uint64_t last_id;  /* the instance's, never reused */
	static _Thread_local char last_ext[32];
	static _Thread_local const char *last_type;
	const char *dot = strrchr(name, '.');
	char ext[32];
	struct mime key = { ext, NULL }, *m;
	size_t n;

	if (dot == NULL || dot == name || (n = strlen(dot + 1)) == 0 || n >= sizeof(ext))
		return s->default_type;
	for (size_t i = 0; i <= n; i++)
		ext[i] = (char)tolower((unsigned char)dot[1 + i]);
	if (last_id == s->id && memcmp(last_ext, ext, n + 1) == 0)
		return last_type;
	m = bsearch(&key, s->mt->mimes, s->mt->n, sizeof(*s->mt->mimes), mime_cmp);
	last_id = s->id;
	memcpy(last_ext, ext, n + 1);
	last_type = m != NULL ? m->type : s->default_type;
	return last_type;
}

/* --- instance -------------------------------------------------------------- */

static int
static_init(const struct httpq_api *a, httpq_ctx *ctx, void **state)
{
	struct stat_cfg *s = malloc(sizeof(*s));

	if (s == NULL)
		return -1;
	api = a;
	if (static_options(ctx, NULL, s) < 0) {
		free(s);
		return -1;
	}
	s->rootfd = open(s->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->rootfd >= 0 && fstat(s->rootfd, &s->rootst) < 0) {
		close(s->rootfd);
		s->rootfd = -1;
	}
	if (s->rootfd < 0) {
		api->log(ctx, HTTPQ_LOG_ERR, "option root: cannot open \"%s\": %s",
		    s->root, strerror(errno));
		free(s);
		return -1;
	}
	s->mt = mime_get(ctx);
	s->id = atomic_fetch_add(&instances, 1) + 1;
	*state = s;
	return 0;
}

static void
static_fini(void *state)
{
	struct stat_cfg *s = state;

	close(s->rootfd);
	mime_put(s->mt);
	free(s);
}

/* --- small responses --------------------------------------------------------- */

static void
send_status(httpq_request *req, int status, const httpq_header *extra, size_t nextra)
{
	httpq_header h[4];
	char body[64];
	size_t n = 0;
	int len = snprintf(body, sizeof(body), "%d\n", status);

	h[n++] = (httpq_header){ "Content-Type", 12, "text/plain", 10 };
	for (size_t i = 0; i < nextra && n < 4; i++)
		h[n++] = extra[i];
	if (api->send_head(req, status, NULL, h, n, HTTPQ_SEND_MORE) < 0 ||
	    api->send_body(req, body, (size_t)len, 0) < 0)
		api->finish(req);
}

#define HDR(n, v) ((httpq_header){ (n), sizeof(n) - 1, (v), strlen(v) })

/* --- path resolution ----------------------------------------------------------- */

/*
 * Opens name in directory dirfd as the symlink policy says.  Returns the fd
 * (O_RDONLY, non-blocking so a FIFO cannot hang the worker) and its stat,
 * or -1 with *status set to 404 or 403.
 */
static int
open_beneath(const struct stat_cfg *s, int dirfd, const char *name, struct stat *st,
    int *status)
{
	struct stat lst;
	int fd;

	fd = openat(dirfd, name, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == ELOOP) {
		/* A symbolic link (O_NOFOLLOW refuses it). */
		if (s->symlinks == LINKS_DENY ||
		    fstatat(dirfd, name, &lst, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISLNK(lst.st_mode)) {
			*status = 403;
			return -1;
		}
		fd = openat(dirfd, name, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
		if (fd >= 0 && s->symlinks == LINKS_OWNER &&
		    (fstat(fd, st) < 0 || st->st_uid != lst.st_uid)) {
			close(fd);
			*status = 403;
			return -1;
		}
	}
	if (fd < 0) {
		*status = errno == EACCES || errno == ELOOP ? 403 :
		    errno == ENOENT || errno == ENOTDIR || errno == ENAMETOOLONG ? 404 : 500;
		return -1;
	}
	if (fstat(fd, st) < 0 || !(S_ISREG(st->st_mode) || S_ISDIR(st->st_mode))) {
		close(fd);
		*status = 403;
		return -1;
	}
	return fd;
}

/* The length of the decoded path of a canonical prefix text
 * "scheme://host:port/path/" (bytes that cannot stand in a URL there are
 * percent-encoded). */
static size_t
prefix_path_len(httpq_str p)
{
	const char *e = p.ptr + p.len, *q;
	size_t n = 0;

	q = p.len > 3 ? memmem(p.ptr, p.len, "://", 3) : NULL;
	if (q == NULL || (q = memchr(q + 3, '/', (size_t)(e - q - 3))) == NULL)
		return 1;
	for (; q < e; q++, n++)
		if (*q == '%' && e - q >= 3)
			q += 2;
	return n;
}

struct target {
	int fd;          /* the file or directory (may be rootfd: do not close that) */
	int dirfd;       /* its directory (may be rootfd) */
	struct stat st;
	char name[256];  /* its last component, "" for root */
};

/* Closes fd unless it is root's. */
static void
close_nonroot(const struct stat_cfg *s, int fd)
{
	if (fd >= 0 && fd != s->rootfd)
		close(fd);
}

/*
 * Walks rel ("a/b/c", no leading '/') from root.  Returns 0 or an HTTP
 * status.  On 0, t->fd and t->dirfd are open (either may be rootfd, which
 * stands for root without a dup and an fstat per request).
 */
static int
resolve(const struct stat_cfg *s, const char *rel, size_t len, struct target *t)
{
	int dir = s->rootfd, status = 404;
	size_t i = 0;

	t->fd = s->rootfd;
	t->st = s->rootst;
	t->dirfd = s->rootfd;
	t->name[0] = '\0';
	if (memchr(rel, '\0', len) != NULL)
		return 404;
	while (i < len) {
		const char *seg = rel + i, *slash = memchr(seg, '/', len - i);
		size_t n = slash ? (size_t)(slash - seg) : len - i;

		i += n + 1;
		if (n == 0 && slash == NULL)
			break; /* trailing '/' */
		if (n == 0 || (n == 1 && seg[0] == '.') ||
		    (n == 2 && seg[0] == '.' && seg[1] == '.') || n >= sizeof(t->name))
			goto fail;
		if (seg[0] == '.' && !s->dotfiles)
			goto fail;
		if (!S_ISDIR(t->st.st_mode))
			goto fail; /* "file/more" */
		memcpy(t->name, seg, n);
		t->name[n] = '\0';
		close_nonroot(s, dir);
		dir = t->fd;
		t->fd = open_beneath(s, dir, t->name, &t->st, &status);
		if (t->fd < 0)
			goto fail;
	}
	t->dirfd = dir;
	return 0;
fail:
	close_nonroot(s, t->fd);
	close_nonroot(s, dir);
	t->fd = -1;
	t->dirfd = s->rootfd;
	return status;
}

static void
target_close(const struct stat_cfg *s, struct target *t)
{
	close_nonroot(s, t->fd);
	close_nonroot(s, t->dirfd);
}

/* --- text helpers ---------------------------------------------------------------- */

struct buf {
	char *p;
	size_t len, cap;
};

static void
buf_add(struct buf *b, const void *p, size_t n)
{
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 4096;

		while (cap < b->len + n)
			cap *= 2;
		if ((b->p = realloc(b->p, cap)) == NULL)
			abort();
		b->cap = cap;
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

static void
buf_str(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

/* Percent-encodes everything but unreserved characters and '/'. */
static void
buf_url(struct buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == '/') {
			buf_add(b, &s[i], 1);
		} else {
			char e[3] = { '%', hex[c >> 4], hex[c & 15] };

			buf_add(b, e, 3);
		}
	}
}

static void
buf_html(struct buf *b, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&': buf_str(b, "&amp;"); break;
		case '<': buf_str(b, "&lt;"); break;
		case '>': buf_str(b, "&gt;"); break;
		case '"': buf_str(b, "&quot;"); break;
		case '\'': buf_str(b, "&#39;"); break;
		default: buf_add(b, s, 1);
		}
	}
}

static const char *const wdays[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
	"Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

/* Two decimal digits of v (0-99) at p. */
static char *
put2(char *p, int v)
{
	p[0] = (char)('0' + v / 10 % 10);
	p[1] = (char)('0' + v % 10);
	return p + 2;
}

/* The IMF-fixdate of t.  Files served one after the other mostly share
 * their mtime: the last one is kept per thread, and neither gmtime nor
 * printf runs on the hot path. */
static void
http_date(time_t t, char out[32])
{
	static _Thread_local time_t last_t = -1;
	static _Thread_local char last[32];
	struct tm tm;
	char *p = last;

	if (t == last_t) {
		memcpy(out, last, sizeof(last));
		return;
	}
	gmtime_r(&t, &tm);
	if (tm.tm_year + 1900 < 0 || tm.tm_year + 1900 > 9999) {
		snprintf(out, 32, "%s, %02d %s %04d %02d:%02d:%02d GMT", wdays[tm.tm_wday],
		    tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour,
		    tm.tm_min, tm.tm_sec);
		return;
	}
	memcpy(p, wdays[tm.tm_wday], 3);
	p += 3;
	*p++ = ',';
	*p++ = ' ';
	p = put2(p, tm.tm_mday);
	*p++ = ' ';
	memcpy(p, months[tm.tm_mon], 3);
	p += 3;
	*p++ = ' ';
	p = put2(p, (tm.tm_year + 1900) / 100);
	p = put2(p, (tm.tm_year + 1900) % 100);
	*p++ = ' ';
	p = put2(p, tm.tm_hour);
	*p++ = ':';
	p = put2(p, tm.tm_min);
	*p++ = ':';
	p = put2(p, tm.tm_sec);
	memcpy(p, " GMT", 5);
	last_t = t;
	memcpy(out, last, sizeof(last));
}

/* v in hex (lower case, no leading zeros) at p; the end. */
static char *
put_hex(char *p, uint64_t v)
{
	char tmp[16];
	int n = 0;

	do {
		tmp[n++] = "0123456789abcdef"[v & 15];
		v >>= 4;
	} while (v != 0);
	while (n > 0)
		*p++ = tmp[--n];
	return p;
}

/* v in decimal, at least width digits (zero-padded); the end. */
static char *
put_dec(char *p, uint64_t v, int width)
{
	char tmp[20];
	int n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	while (n < width)
		tmp[n++] = '0';
	while (n > 0)
		*p++ = tmp[--n];
	return p;
}

/* An HTTP-date (RFC 9110 5.6.7): IMF-fixdate, RFC 850 or asctime, by
 * src/lib/httpdate.c, compiled into this module too.  Returns 0 and *out,
 * or -1. */
static int
parse_date(httpq_str v, time_t *out)
{
	int64_t t = hq_http_date_parse(v.ptr, v.len);

	if (t < 0)
		return -1;
	*out = (time_t)t;
	return 0;
}

/* --- conditionals (RFC 9110 13) ------------------------------------------------------ */

/*
 * True if the list in v (If-Match / If-None-Match) holds "*" or an entity
 * tag equal to etag: strong comparison, or weak (W/ ignored) when weak.
 */
static int
etag_list_match(httpq_str v, const char *etag, int weak)
{
	const char *p = v.ptr, *e = v.ptr + v.len;
	size_t el = strlen(etag);

	while (p < e) {
		int w = 0;
		const char *q;

		while (p < e && (*p == ' ' || *p == '\t' || *p == ','))
			p++;
		if (p == e)
			break;
		if (*p == '*')
			return 1;
		if (e - p >= 2 && p[0] == 'W' && p[1] == '/') {
			w = 1;
			p += 2;
		}
		if (p == e || *p != '"')
			return 0; /* malformed: no match */
		if ((q = memchr(p + 1, '"', (size_t)(e - p - 1))) == NULL)
			return 0;
		q++;
		if ((!w || weak) && (size_t)(q - p) == el && memcmp(p, etag, el) == 0)
			return 1;
		p = q;
	}
	return 0;
}

/* 0: go on; 304 or 412. */
static int
evaluate_preconditions(httpq_request *req, const char *etag, time_t mtime)
{
	httpq_str im = api->header(req, "If-Match");
	httpq_str ius = api->header(req, "If-Unmodified-Since");
	httpq_str inm = api->header(req, "If-None-Match");
	httpq_str ims = api->header(req, "If-Modified-Since");
	time_t t;

	if (im.ptr != NULL) {
		if (!etag_list_match(im, etag, 0))
			return 412;
	} else if (ius.ptr != NULL && parse_date(ius, &t) == 0 && mtime > t) {
		return 412;
	}
	if (inm.ptr != NULL) {
		if (etag_list_match(inm, etag, 1))
			return 304;
	} else if (ims.ptr != NULL && parse_date(ims, &t) == 0 && mtime <= t) {
		return 304;
	}
	return 0;
}

/* --- ranges (RFC 9110 14) ------------------------------------------------------------- */

struct range {
	uint64_t first, last;
};

static int
parse_u64(const char **pp, const char *e, uint64_t *out)
{
	const char *p = *pp;
	uint64_t v = 0;

	if (p == e || *p < '0' || *p > '9')
		return -1;
	for (; p < e && *p >= '0' && *p <= '9'; p++) {
		if (v > (UINT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	*pp = p;
	*out = v;
	return 0;
}

/*
 * Parses Range against a file of size bytes into r[].  Returns the number
 * of satisfiable ranges (> 0), 0 to ignore the field (send 200: bad syntax,
 * another unit, too many ranges, or more bytes than the file), or -1 when
 * no range is satisfiable (416).
 */
static int
parse_ranges(httpq_str v, uint64_t size, struct range *r)
{
	const char *p = v.ptr, *e = v.ptr + v.len;
	int n = 0, seen = 0;
	uint64_t total = 0;

	if (v.len < 6 || strncasecmp(p, "bytes=", 6) != 0)
		return 0;
	for (p += 6; p < e;) {
		uint64_t a, b;
		int suffix = 0;

		while (p < e && (*p == ' ' || *p == '\t'))
			p++;
		if (p < e && *p == ',') {
			p++;
			continue;
		}
		if (p == e)
			break;
		if (*p == '-') {
			suffix = 1;
			p++;
			if (parse_u64(&p, e, &b) < 0)
				return 0;
		} else {
			if (parse_u64(&p, e, &a) < 0 || p == e || *p++ != '-')
				return 0;
			b = UINT64_MAX;
			if (p < e && *p >= '0' && *p <= '9') {
				if (parse_u64(&p, e, &b) < 0 || b < a)
					return 0;
			}
		}
		while (p < e && (*p == ' ' || *p == '\t'))
			p++;
		if (p < e && *p != ',')
			return 0;
		if (++seen > STATIC_MAX_RANGES)
			return 0;
		if (suffix) {
			if (b == 0 || size == 0)
				continue; /* unsatisfiable */
			a = b >= size ? 0 : size - b;
			b = size - 1;
		} else {
			if (a >= size)
				continue;
			if (b >= size)
				b = size - 1;
		}
		r[n].first = a;
		r[n].last = b;
		total += b - a + 1;
		n++;
	}
	if (seen == 0)
		return 0;
	if (n == 0)
		return -1;
	if (total > size)
		return 0;
	return n;
}

/* True if If-Range is absent or holds for the file (then Range applies). */
static int
if_range_holds(httpq_request *req, const char *etag, time_t mtime)
{
	httpq_str v = api->header(req, "If-Range");
	time_t t;

	if (v.ptr == NULL)
		return 1;
	if (v.len > 0 && (v.ptr[0] == '"' || v.ptr[0] == 'W'))
		return v.len == strlen(etag) && memcmp(v.ptr, etag, v.len) == 0;
	return parse_date(v, &t) == 0 && t == mtime;
}

/* --- Accept-Encoding -------------------------------------------------------------------- */

/* The q-value of coding in Accept-Encoding (1000 = 1.0); "*" counts for
 * codings not named. */
static int
accept_q(httpq_str v, const char *coding)
{
	const char *p = v.ptr, *e = v.ptr + v.len;
	size_t cl = strlen(coding);
	int star = -1;

	if (p == NULL)
		return 0;
	while (p < e) {
		const char *tok, *end;
		size_t tl;
		int q = 1000;

		while (p < e && (*p == ' ' || *p == '\t' || *p == ','))
			p++;
		tok = p;
		while (p < e && *p != ',' && *p != ';' && *p != ' ' && *p != '\t')
			p++;
		tl = (size_t)(p - tok);
		end = memchr(p, ',', (size_t)(e - p));
		if (end == NULL)
			end = e;
		for (const char *s = p; s + 2 < end; s++) {
			if ((s[0] == 'q' || s[0] == 'Q') && s[1] == '=') {
				const char *d = s + 2;

				q = 0;
				if (d < end && *d == '1') {
					q = 1000;
				} else if (d < end && *d == '0') {
					int scale = 100;

					for (d++, d += d < end && *d == '.'; d < end && *d >= '0' &&
					    *d <= '9' && scale > 0; d++, scale /= 10)
						q += (*d - '0') * scale;
				}
				break;
			}
		}
		if (tl == cl && strncasecmp(tok, coding, cl) == 0)
			return q;
		if (tl == 1 && *tok == '*')
			star = q;
		p = end;
	}
	return star > 0 ? star : 0;
}

/*
 * With precompressed on: opens NAME.br or NAME.gz beside the file when the
 * client takes that coding, replacing t->fd and t->st.  Returns the
 * Content-Encoding, or NULL.
 */
static const char *
pick_encoding(const struct stat_cfg *s, httpq_request *req, struct target *t)
{
	static const char *const codings[][2] = { { "br", ".br" }, { "gzip", ".gz" } };
	httpq_str ae = api->header(req, "Accept-Encoding");
	char name[300];
	struct stat st;
	int fd, status;

	if (ae.ptr == NULL || t->name[0] == '\0')
		return NULL;
	for (size_t i = 0; i < 2; i++) {
		if (accept_q(ae, codings[i][0]) <= 0)
			continue;
		snprintf(name, sizeof(name), "%s%s", t->name, codings[i][1]);
		if ((fd = open_beneath(s, t->dirfd, name, &st, &status)) < 0)
			continue;
		if (!S_ISREG(st.st_mode)) {
			close(fd);
			continue;
		}
		close(t->fd);
		t->fd = fd;
		t->st = st;
		return codings[i][0];
	}
	return NULL;
}

/* --- serving ---------------------------------------------------------------------------- */

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
send_listing(const struct stat_cfg *s, httpq_request *req, struct target *t)
{
	httpq_str path = api->path(req);
	/* A new open file description: a dup would share the position of
	 * readdir with t->fd (rootfd for root, left at its end by the last
	 * listing). */
	int fd = openat(t->fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct buf b = { 0 };
	char cl[24], *title;
	httpq_header h[2];

	if (d == NULL) {
		if (fd >= 0)
			close(fd);
		send_status(req, 500, NULL, 0);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		struct stat st;
		int dir;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
		    (de->d_name[0] == '.' && !s->dotfiles))
			continue;
		dir = de->d_type == DT_DIR || (de->d_type == DT_UNKNOWN &&
		    fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISDIR(st.st_mode));
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			if ((names = realloc(names, cap * sizeof(*names))) == NULL)
				abort();
		}
		if (asprintf(&names[n], "%s%s", de->d_name, dir ? "/" : "") < 0)
			abort();
		n++;
	}
	closedir(d);
	qsort(names, n, sizeof(*names), name_cmp);
	if ((title = strndup(path.ptr, path.len)) == NULL)
		abort();
	buf_str(&b, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Index of ");
	buf_html(&b, title);
	buf_str(&b, "</title></head>\n<body><h1>Index of ");
	buf_html(&b, title);
	buf_str(&b, "</h1>\n<ul>\n<li><a href=\"../\">../</a></li>\n");
	for (size_t i = 0; i < n; i++) {
		/* The href is an escaped URL, the text an escaped name: a file
		 * called "<script>" or "a\"b" stays text. */
		struct buf u = { 0 };

		buf_url(&u, names[i], strlen(names[i]));
		buf_add(&u, "", 1);
		buf_str(&b, "<li><a href=\"");
		buf_html(&b, u.p);
		buf_str(&b, "\">");
		buf_html(&b, names[i]);
		buf_str(&b, "</a></li>\n");
		free(u.p);
		free(names[i]);
	}
	buf_str(&b, "</ul>\n</body></html>\n");
	free(names);
	free(title);
	snprintf(cl, sizeof(cl), "%zu", b.len);
	h[0] = HDR("Content-Type", "text/html; charset=utf-8");
	h[1] = HDR("Content-Length", cl);
	if (api->send_head(req, 200, NULL, h, 2, HTTPQ_SEND_MORE) < 0 ||
	    api->send_body(req, b.p, b.len, 0) < 0)
		api->finish(req);
	free(b.p);
}

static void
send_redirect(httpq_request *req)
{
	httpq_str path = api->path(req), q = api->query(req);
	struct buf b = { 0 };
	httpq_header h;

	buf_url(&b, path.ptr, path.len);
	buf_add(&b, "/", 1);
	if (q.len > 0) {
		buf_add(&b, "?", 1);
		buf_add(&b, q.ptr, q.len);
	}
	buf_add(&b, "", 1);
	h = HDR("Location", b.p);
	send_status(req, 301, &h, 1);
	free(b.p);
}

/* Sends the file t->fd (a regular file): conditionals, ranges, body. */
static void
send_file(const struct stat_cfg *s, httpq_request *req, struct target *t, int is_get,
    const char *type, const char *encoding)
{
	struct range r[STATIC_MAX_RANGES];
	int fds[STATIC_MAX_RANGES];
	char etag[64], lm[32], cl[24], cr[80], ctype[128];
	httpq_header h[12];
	size_t n = 0;
	uint64_t size = (uint64_t)t->st.st_size;
	time_t mtime = t->st.st_mtim.tv_sec;
	int nr = 0, status;

	/* "inode-size-mtime" in hex, the nanoseconds in 9 decimals */
	char *e = etag;

	*e++ = '"';
	e = put_hex(e, (uint64_t)t->st.st_ino);
	*e++ = '-';
	e = put_hex(e, size);
	*e++ = '-';
	e = put_hex(e, (uint64_t)mtime);
	e = put_dec(e, (uint64_t)t->st.st_mtim.tv_nsec % 1000000000u, 9);
	*e++ = '"';
	*e = '\0';
	http_date(mtime, lm);
	h[n++] = HDR("ETag", etag);
	h[n++] = HDR("Last-Modified", lm);
	if (s->cache_control != NULL)
		h[n++] = HDR("Cache-Control", s->cache_control);
	if (s->precompressed)
		h[n++] = HDR("Vary", "Accept-Encoding");
	if ((status = evaluate_preconditions(req, etag, mtime)) != 0) {
		if (status == 304) {
			if (api->send_head(req, 304, NULL, h, n, 0) < 0)
				api->finish(req);
		} else {
			send_status(req, 412, NULL, 0);
		}
		return;
	}
	if (encoding != NULL)
		h[n++] = HDR("Content-Encoding", encoding);
	h[n++] = HDR("Accept-Ranges", "bytes");
	httpq_str rv = api->header(req, "Range");
	if (is_get && rv.ptr != NULL && if_range_holds(req, etag, mtime))
		nr = parse_ranges(rv, size, r);
	if (nr < 0) {
		snprintf(cr, sizeof(cr), "bytes */%llu", (unsigned long long)size);
		h[n++] = HDR("Content-Range", cr);
		h[n++] = HDR("Content-Type", "text/plain");
		if (api->send_head(req, 416, NULL, h, n, HTTPQ_SEND_MORE) < 0 ||
		    api->send_body(req, "416\n", 4, 0) < 0)
			api->finish(req);
		return;
	}
	if (nr <= 1) {
		uint64_t off = nr == 1 ? r[0].first : 0;
		uint64_t len = nr == 1 ? r[0].last - r[0].first + 1 : size;

		h[n++] = HDR("Content-Type", type);
		*put_dec(cl, len, 1) = '\0';
		h[n++] = HDR("Content-Length", cl);
		/* A whole file may be kept by the daemon's response cache (a GET
		 * only: the daemon refuses the rest); ranges are not. */
		if (nr == 0 && is_get && s->cache_policy != HTTPQ_CACHE_NOCACHE)
			api->cache_policy(req, s->cache_policy, s->cache_ttl);
		if (nr == 1) {
			snprintf(cr, sizeof(cr), "bytes %llu-%llu/%llu",
			    (unsigned long long)r[0].first, (unsigned long long)r[0].last,
			    (unsigned long long)size);
			h[n++] = HDR("Content-Range", cr);
		}
		if (api->send_head(req, nr == 1 ? 206 : 200, NULL, h, n,
		    len > 0 ? HTTPQ_SEND_MORE : 0) < 0) {
			api->finish(req);
			return;
		}
		if (len > 0) {
			int fd = t->fd;

			t->fd = -1; /* the daemon owns it now */
			if (api->send_file(req, fd, off, len, 0) < 0)
				api->finish(req);
		}
		return;
	}

	/* multipart/byteranges: each part gets its own fd, as send_file
	 * takes ownership; all are taken before the head goes out. */
	char boundary[40], **parts = calloc((size_t)nr, sizeof(*parts));
	uint64_t total = 0;
	static const char close_fmt[] = "\r\n--%s--\r\n";
	char closing[64];
	int i;

	if (parts == NULL)
		abort();
	snprintf(boundary, sizeof(boundary), "httpq-%016llx",
	    (unsigned long long)(api->request_id(req) * 0x9e3779b97f4a7c15ULL ^
	    (uint64_t)time(NULL)));
	for (i = 0; i < nr; i++) {
		if (asprintf(&parts[i], "\r\n--%s\r\nContent-Type: %s\r\n"
		    "Content-Range: bytes %llu-%llu/%llu\r\n\r\n",
		    boundary, type, (unsigned long long)r[i].first,
		    (unsigned long long)r[i].last, (unsigned long long)size) < 0)
			abort();
		total += strlen(parts[i]) + (r[i].last - r[i].first + 1);
		fds[i] = is_get ? dup(t->fd) : -1;
		if (is_get && fds[i] < 0) {
			free(parts[i]);
			while (i-- > 0) {
				close(fds[i]);
				free(parts[i]);
			}
			free(parts);
			send_status(req, 503, NULL, 0);
			return;
		}
	}
	snprintf(closing, sizeof(closing), close_fmt, boundary);
	total += strlen(closing);
	snprintf(ctype, sizeof(ctype), "multipart/byteranges; boundary=%s", boundary);
	h[n++] = HDR("Content-Type", ctype);
	snprintf(cl, sizeof(cl), "%llu", (unsigned long long)total);
	h[n++] = HDR("Content-Length", cl);
	int rc = api->send_head(req, 206, NULL, h, n, HTTPQ_SEND_MORE);

	for (i = 0; i < nr; i++) {
		if (rc == 0)
			rc = api->send_body(req, parts[i], strlen(parts[i]), HTTPQ_SEND_MORE);
		if (rc == 0)
			rc = api->send_file(req, fds[i], r[i].first,
			    r[i].last - r[i].first + 1, HTTPQ_SEND_MORE);
		else if (fds[i] >= 0)
			close(fds[i]);
		free(parts[i]);
	}
	if (rc == 0)
		rc = api->send_body(req, closing, strlen(closing), 0);
	if (rc < 0)
		api->finish(req);
	free(parts);
}

static int
method_is(httpq_str m, const char *lit)
{
	return m.len == strlen(lit) && memcmp(m.ptr, lit, m.len) == 0;
}

static void
static_handle(void *state, httpq_request *req)
{
	struct stat_cfg *s = state;
	httpq_str m = api->method(req), path = api->path(req);
	size_t plen = prefix_path_len(api->url_prefix(req));
	struct target t;
	const char *rel, *encoding = NULL;
	size_t rlen;
	int status, is_get = method_is(m, "GET");

	if (!is_get && !method_is(m, "HEAD")) {
		httpq_header allow = HDR("Allow", "GET, HEAD");

		send_status(req, 405, &allow, 1);
		return;
	}
	/* "/app" under the prefix "/app/" is the root folder, to redirect. */
	if (path.len + 1 < plen || path.len == 0 || path.ptr[0] != '/') {
		send_status(req, 404, NULL, 0);
		return;
	}
	rel = path.len >= plen ? path.ptr + plen : path.ptr + path.len;
	rlen = path.len >= plen ? path.len - plen : 0;
	if ((status = resolve(s, rel, rlen, &t)) != 0) {
		send_status(req, status, NULL, 0);
		return;
	}
	if (S_ISDIR(t.st.st_mode)) {
		struct target it = t;
		int fd;

		if (path.ptr[path.len - 1] != '/') {
			target_close(s, &t);
			send_redirect(req);
			return;
		}
		snprintf(it.name, sizeof(it.name), "%s", s->index);
		fd = open_beneath(s, t.fd, s->index, &it.st, &status);
		if (fd < 0 || !S_ISREG(it.st.st_mode)) {
			if (fd >= 0)
				close(fd);
			if (s->listing && (fd < 0 && status == 404))
				send_listing(s, req, &t);
			else
				send_status(req, fd < 0 && status != 404 ? status : 403, NULL, 0);
			target_close(s, &t);
			return;
		}
		/* The index file, in the folder t.fd. */
		if (t.dirfd != s->rootfd)
			close(t.dirfd);
		it.dirfd = t.fd;
		it.fd = fd;
		t = it;
	} else if (path.ptr[path.len - 1] == '/') {
		target_close(s, &t);
		send_status(req, 404, NULL, 0);
		return;
	}
	const char *type = mime_type(s, t.name);

	if (s->precompressed)
		encoding = pick_encoding(s, req, &t);
	send_file(s, req, &t, is_get, type, encoding);
	target_close(s, &t);
}

const struct httpq_module httpq_module = {
	HTTPQ_MODULE_HEAD,
	.name = "static",
	.version = "1.0",
	.init = static_init,
	.handle = static_handle,
	.fini = static_fini,
	.validate = static_validate,
};
