/*
 * store_yaml.c -- reads YAML into a small tree with line:column marks.
 *
 * libyaml's event API, not its document API: the loader resolves aliases by
 * sharing nodes, which makes "billion laughs" documents explode when walked,
 * and it recurses once per nesting level.  Building our own tree from events
 * lets us refuse aliases and bound the depth in one place.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <yaml.h>

#include "httpq-internal.h"
#include "store_yaml.h"

struct builder {
	const char *name;
	struct hq_errors *errs;
	struct hq_ynode *root;
	struct hq_ynode *open[HQ_YAML_MAX_DEPTH]; /* open mappings and lists */
	int depth;
	int docs;
	size_t nodes;
};

void
hq_ynode_free(struct hq_ynode *n)
{
	if (n == NULL)
		return;
	for (size_t i = 0; i < n->n; i++)
		hq_ynode_free(n->kid[i]);
	free(n->kid);
	free(n->str);
	free(n);
}

bool
hq_ynode_is_null(const struct hq_ynode *n)
{
	if (n == NULL)
		return true;
	if (n->type != HQ_Y_SCALAR || !n->plain)
		return false;
	return n->len == 0 || strcmp(n->str, "~") == 0 ||
	    strcmp(n->str, "null") == 0 || strcmp(n->str, "Null") == 0 ||
	    strcmp(n->str, "NULL") == 0;
}

static void
error_at(struct builder *b, yaml_mark_t m, const char *msg)
{
	struct hq_origin at = { b->name, (int)m.line + 1, (int)m.column + 1 };

	hq_errors_add(b->errs, &at, NULL, "%s", msg);
}

static struct hq_ynode *
node_new(enum hq_ytype type, yaml_mark_t m)
{
	struct hq_ynode *n = xcalloc(1, sizeof(*n));

	n->type = type;
	n->line = (int)m.line + 1;
	n->col = (int)m.column + 1;
	return n;
}

static void
kid_add(struct hq_ynode *parent, struct hq_ynode *kid)
{
	if (parent->n == parent->cap) {
		parent->cap = parent->cap ? parent->cap * 2 : 4;
		parent->kid = xrealloc(parent->kid, parent->cap * sizeof(*parent->kid));
	}
	parent->kid[parent->n++] = kid;
}

/* Hangs n under the innermost open collection, or makes it the root. */
static void
attach(struct builder *b, struct hq_ynode *n)
{
	if (b->depth > 0)
		kid_add(b->open[b->depth - 1], n);
	else if (b->root == NULL)
		b->root = n;
	else
		hq_ynode_free(n); /* cannot happen: libyaml gives one root */
}

/*
 * Every node costs about a hundred bytes, and one-character scalars cost two
 * bytes of text: without a bound, a file of junk takes fifty times its size.
 */
static int
count_node(struct builder *b, yaml_mark_t m)
{
	if (++b->nodes <= HQ_YAML_MAX_NODES)
		return 0;
	error_at(b, m, "more than " HQ_XSTR(HQ_YAML_MAX_NODES) " YAML nodes "
	    "(keys, values and list items) in one file");
	return -1;
}

static int
on_scalar(struct builder *b, const yaml_event_t *ev)
{
	struct hq_ynode *n;
	size_t len = ev->data.scalar.length;

	if (count_node(b, ev->start_mark) < 0)
		return -1;

	/* "\0" is legal YAML, but every consumer of the store uses C strings. */
	if (memchr(ev->data.scalar.value, '\0', len) != NULL) {
		error_at(b, ev->start_mark, "NUL characters are not supported");
		return -1;
	}
	n = node_new(HQ_Y_SCALAR, ev->start_mark);
	n->str = xstrndup((const char *)ev->data.scalar.value, len);
	n->len = len;
	n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
	attach(b, n);
	return 0;
}

static int
on_open(struct builder *b, const yaml_event_t *ev, enum hq_ytype type)
{
	struct hq_ynode *n;

	if (b->depth == HQ_YAML_MAX_DEPTH) {
		error_at(b, ev->start_mark, "nesting is deeper than "
		    HQ_XSTR(HQ_YAML_MAX_DEPTH) " levels");
		return -1;
	}
	if (count_node(b, ev->start_mark) < 0)
		return -1;
	n = node_new(type, ev->start_mark);
	attach(b, n);
	b->open[b->depth++] = n;
	return 0;
}

/* Returns 1 at the end of the stream, 0 to go on, -1 on error. */
static int
on_event(struct builder *b, const yaml_event_t *ev)
{
	switch (ev->type) {
	case YAML_STREAM_END_EVENT:
		return 1;
	case YAML_DOCUMENT_START_EVENT:
		if (++b->docs > 1) {
			error_at(b, ev->start_mark,
			    "only one YAML document per file is supported");
			return -1;
		}
		return 0;
	case YAML_ALIAS_EVENT:
		error_at(b, ev->start_mark, "aliases are not supported");
		return -1;
	case YAML_SCALAR_EVENT:
		return on_scalar(b, ev);
	case YAML_SEQUENCE_START_EVENT:
		return on_open(b, ev, HQ_Y_SEQ);
	case YAML_MAPPING_START_EVENT:
		return on_open(b, ev, HQ_Y_MAP);
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		if (b->depth > 0)
			b->depth--;
		return 0;
	default:
		return 0;
	}
}

/* libyaml's own words, with the place it points at. */
static void
syntax_error(struct builder *b, const yaml_parser_t *p)
{
	struct hq_origin at = { b->name, (int)p->problem_mark.line + 1,
	    (int)p->problem_mark.column + 1 };
	const char *problem = p->problem ? p->problem : "unknown error";

	if (p->error == YAML_READER_ERROR) {
		/* The reader has no mark, only a byte offset. */
		at.line = 0;
		hq_errors_add(b->errs, &at, NULL,
		    "YAML syntax error: %s at byte %zu", problem,
		    p->problem_offset);
	} else if (p->context != NULL) {
		hq_errors_add(b->errs, &at, NULL,
		    "YAML syntax error: %s (%s at line %d)", problem,
		    p->context, (int)p->context_mark.line + 1);
	} else {
		hq_errors_add(b->errs, &at, NULL, "YAML syntax error: %s",
		    problem);
	}
}

int
hq_yaml_parse(const char *name, const char *buf, size_t len,
    struct hq_ynode **root, struct hq_errors *errs)
{
	struct builder b = { .name = name, .errs = errs };
	yaml_parser_t p;
	yaml_event_t ev;
	int rc = 0;

	*root = NULL;
	if (!yaml_parser_initialize(&p)) {
		/* Only fails on malloc: the same policy as xmalloc(). */
		fputs("<2>httpq: out of memory in libyaml\n", stderr);
		abort();
	}
	yaml_parser_set_input_string(&p, (const unsigned char *)buf, len);
	while (rc == 0) {
		if (!yaml_parser_parse(&p, &ev)) {
			syntax_error(&b, &p);
			rc = -1;
			break;
		}
		rc = on_event(&b, &ev);
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&p);
	if (rc < 0) {
		hq_ynode_free(b.root);
		return -1;
	}
	*root = b.root;
	return 0;
}

/* Reads the whole of fd, a regular file of about size bytes. */
static int
read_all(int fd, off_t size, char **buf, size_t *len)
{
	size_t cap = (size_t)size + 1, n = 0;
	char *p = xmalloc(cap);
	ssize_t got;

	for (;;) {
		if (n == cap)
			p = xrealloc(p, cap *= 2);
		got = read(fd, p + n, cap - n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		n += (size_t)got;
		if (n > HQ_STORE_MAX_FILE) /* it grew while we read it */
			break;
	}
	if (got < 0) {
		free(p);
		return -1;
	}
	*buf = p;
	*len = n;
	return 0;
}

static int
too_big(const char *name, size_t size, struct hq_errors *errs)
{
	struct hq_origin at = { name, 0, 0 };

	hq_errors_add(errs, &at, NULL, "the file is %zu bytes, more than the "
	    "limit of " HQ_XSTR(HQ_STORE_MAX_FILE_MIB) " MiB (%u bytes)", size,
	    (unsigned)HQ_STORE_MAX_FILE);
	return -1;
}

/*
 * A FIFO or a device in conf.d would block the reload (and the whole main
 * thread with it) in open() or read(): only regular files are read.  A
 * symbolic link to a regular file is fine.  stat() first, so that nothing
 * else is even opened; fstat() after, since the name may have changed.
 */
static int
open_regular(const char *path, const char *name, struct hq_errors *errs,
    off_t *size)
{
	struct hq_origin at = { name, 0, 0 };
	struct stat st;
	int fd;

	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode))
		goto irregular;
	fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		hq_errors_add(errs, &at, NULL, "cannot open: %s", strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0) {
		hq_errors_add(errs, &at, NULL, "cannot open: %s", strerror(errno));
		close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		goto irregular;
	}
	*size = st.st_size;
	return fd;
irregular:
	hq_errors_add(errs, &at, NULL, "not a regular file (%s): a store file "
	    "must be a regular file or a symbolic link to one",
	    S_ISDIR(st.st_mode) ? "a folder" : S_ISFIFO(st.st_mode) ? "a FIFO" :
	    S_ISSOCK(st.st_mode) ? "a socket" : S_ISCHR(st.st_mode) ||
	    S_ISBLK(st.st_mode) ? "a device" : "unknown type");
	return -1;
}

int
hq_yaml_parse_file(const char *path, const char *name,
    struct hq_ynode **root, struct hq_errors *errs)
{
	struct hq_origin at = { name, 0, 0 };
	off_t size = 0;
	char *buf;
	size_t len;
	int fd, rc;

	*root = NULL;
	if ((fd = open_regular(path, name, errs, &size)) < 0)
		return -1;
	if (size > (off_t)HQ_STORE_MAX_FILE) {
		close(fd);
		return too_big(name, (size_t)size, errs);
	}
	rc = read_all(fd, size, &buf, &len);
	if (rc < 0)
		hq_errors_add(errs, &at, NULL, "cannot read: %s", strerror(errno));
	close(fd);
	if (rc < 0)
		return -1;
	if (len > HQ_STORE_MAX_FILE) {
		free(buf);
		return too_big(name, len, errs);
	}
	rc = hq_yaml_parse(name, buf, len, root, errs);
	free(buf);
	return rc;
}
