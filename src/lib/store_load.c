/*
 * store_load.c -- the setup store's loader: one file's YAML tree, walked
 * through the key table (store_keys.c) into a struct hq_store.
 *
 * Loading never stops at the first error: people fix a config in one pass
 * when they see every problem at once.  The result is all or nothing
 * (store_merge.c).
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "store_priv.h"

/* ---------------------------------------------------------------------
 * Small helpers
 * ------------------------------------------------------------------- */

static void *
field(void *base, size_t off)
{
	return (char *)base + off;
}

static struct hq_origin
origin(const struct ld *ld, const struct hq_ynode *n)
{
	return (struct hq_origin){ ld->file, n->line, n->col };
}

static void err(struct ld *ld, const struct hq_ynode *n, const char *path,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void
err(struct ld *ld, const struct hq_ynode *n, const char *path,
    const char *fmt, ...)
{
	struct hq_origin at = origin(ld, n);
	va_list ap;

	va_start(ap, fmt);
	hq_st_errors_vadd(ld->errs, &at, path, fmt, ap);
	va_end(ap);
}

char *
hq_st_join(const char *path, const char *name)
{
	return path[0] ? xasprintf("%s.%s", path, name) : xstrdup(name);
}

/* User text in a message: quoted, short, no control characters. */
const char *
hq_st_quote(const char *s, char *buf, size_t size)
{
	size_t max = size - 6, i;

	buf[0] = '"';
	for (i = 0; s[i] != '\0' && i < max; i++)
		buf[i + 1] = ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) ?
		    '?' : s[i];
	strcpy(buf + i + 1, s[i] != '\0' ? "...\"" : "\"");
	return buf;
}

/* "a mapping", "a list", "nothing" or the quoted scalar. */
static const char *
describe(const struct hq_ynode *n, char *buf, size_t size)
{
	if (hq_ynode_is_null(n))
		return "nothing";
	if (n->type == HQ_Y_MAP)
		return "a mapping";
	if (n->type == HQ_Y_SEQ)
		return "a list";
	return hq_st_quote(n->str, buf, size);
}

static void
type_error(struct ld *ld, const struct key *k, const struct hq_ynode *n,
    const char *path)
{
	char e[96], g[80];

	err(ld, n, path, "expected %s, got %s", hq_st_expected(k, e, sizeof(e)),
	    describe(n, g, sizeof(g)));
}

/* Decimal only, no sign: "010" is ten, not YAML 1.1's eight. */
int
hq_st_parse_uint(const char *s, uint64_t *v)
{
	uint64_t x = 0;

	if (*s == '\0')
		return -1;
	for (; *s >= '0' && *s <= '9'; s++) {
		if (x > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
			return -1;
		x = x * 10 + (uint64_t)(*s - '0');
	}
	if (*s != '\0')
		return -1;
	*v = x;
	return 0;
}

/* Bytes, or an integer with k, m or g (1024-based). */
static int
parse_size(const char *s, uint64_t *v)
{
	size_t n = strlen(s);
	unsigned shift = 0;
	char *digits;
	int rc;

	if (n > 1) {
		switch (s[n - 1]) {
		case 'k': case 'K': shift = 10; break;
		case 'm': case 'M': shift = 20; break;
		case 'g': case 'G': shift = 30; break;
		}
	}
	digits = xstrndup(s, shift ? n - 1 : n);
	rc = hq_st_parse_uint(digits, v);
	free(digits);
	if (rc < 0 || (shift && *v > (UINT64_MAX >> shift)))
		return -1;
	*v <<= shift;
	return 0;
}

bool
hq_name_valid(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || *s == '_' || *s == '.' ||
		    *s == '-'))
			return false;
	return true;
}

/* Edit distance, for "did you mean"; only called on short strings. */
static size_t
distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), d[65];

	if (la > 64 || lb > 64)
		return SIZE_MAX;
	for (size_t j = 0; j <= lb; j++)
		d[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = d[0];

		d[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = d[j], best = diag + (a[i - 1] != b[j - 1]);

			if (up + 1 < best)
				best = up + 1;
			if (d[j - 1] + 1 < best)
				best = d[j - 1] + 1;
			diag = up;
			d[j] = best;
		}
	}
	return d[lb];
}

/* The closest of names[0..n) to s, if it is close enough to be a typo. */
const char *
hq_st_closest(const char *s, const char *const *names, size_t n)
{
	const char *best = NULL;
	size_t bestd = 3;

	for (size_t i = 0; i < n; i++) {
		size_t d = distance(s, names[i]);

		if (d < bestd && d < strlen(names[i])) {
			bestd = d;
			best = names[i];
		}
	}
	return best;
}

/*
 * Makes room for element n of an array that grows one element at a time:
 * the capacity doubles when n reaches a power of two, so that n appends
 * copy O(n) bytes in all (one realloc each copied the whole list).  Only
 * for arrays that nothing else reallocates.
 */
static void *
grow(void *p, size_t n, size_t size)
{
	if (n == 0 || (n & (n - 1)) == 0)
		p = xrealloc(p, (n ? 2 * n : 1) * size);
	return p;
}

const char *
hq_st_intern(struct hq_store *s, const char *name)
{
	for (size_t i = 0; i < s->nfiles; i++)
		if (strcmp(s->files[i], name) == 0)
			return s->files[i];
	s->files = xrealloc(s->files, (s->nfiles + 1) * sizeof(*s->files));
	return s->files[s->nfiles++] = xstrdup(name);
}

void
hq_st_apply_defaults(const struct key *t, void *base)
{
	for (const struct key *k = t; k->name; k++) {
		void *f = field(base, k->off);

		switch (k->type) {
		case K_MAP:
			if (!(k->flags & K_INHERIT))
				hq_st_apply_defaults(k->sub, f);
			break;
		case K_UINT:
		case K_OFF_UINT:
		case K_SIZE:
			*(uint32_t *)f = (uint32_t)k->dnum;
			break;
		case K_SIZE64:
			*(uint64_t *)f = k->dnum;
			break;
		case K_BOOL:
			*(bool *)f = k->dnum != 0;
			break;
		case K_VERBOSITY:
			*(enum hq_verbosity *)f = (enum hq_verbosity)k->dnum;
			break;
		case K_ENUM:
			*(int *)f = (int)k->dnum;
			break;
		case K_STRING:
		case K_NAME:
			if (k->dstr != NULL)
				*(char **)f = xstrdup(k->dstr);
			break;
		case K_LIST:
		case K_OPTIONS:
		case K_PREFIX:
			break;
		}
	}
}

/* ---------------------------------------------------------------------
 * Walking a file's tree through the table
 * ------------------------------------------------------------------- */

static void *list_add(struct ld *ld, const struct key *k,
    const struct hq_ynode *n, const char *path);
static void list_item(struct ld *ld, const struct key *k, void *base,
    const struct hq_ynode *n, const char *path);
static void walk_map(struct ld *ld, const struct key *t, void *base,
    const struct hq_ynode *map, const char *path);

static void
set_number(struct ld *ld, const struct key *k, void *f,
    const struct hq_ynode *n, const char *path)
{
	uint64_t v;
	int rc;

	if (k->type == K_OFF_UINT && strcasecmp(n->str, "off") == 0) {
		*(uint32_t *)f = HQ_TIMEOUT_OFF;
		return;
	}
	if (k->type == K_SIZE || k->type == K_SIZE64)
		rc = parse_size(n->str, &v);
	else
		rc = hq_st_parse_uint(n->str, &v);
	if (rc < 0 || v < k->min || v > k->max) {
		type_error(ld, k, n, path);
		return;
	}
	if (k->type == K_SIZE64)
		*(uint64_t *)f = v;
	else
		*(uint32_t *)f = (uint32_t)v;
}

static void
set_string(struct ld *ld, const struct key *k, void *f,
    const struct hq_ynode *n, const char *path)
{
	if (n->len == 0 || (k->type == K_NAME && !hq_name_valid(n->str))) {
		type_error(ld, k, n, path);
		return;
	}
	free(*(char **)f);
	*(char **)f = xstrdup(n->str);
}

static void
set_verbosity(struct ld *ld, const struct key *k, void *f,
    const struct hq_ynode *n, const char *path)
{
	for (size_t i = 0; i < 3; i++) {
		if (strcmp(n->str, hq_st_verbosity_names[i]) == 0) {
			*(enum hq_verbosity *)f = (enum hq_verbosity)i;
			return;
		}
	}
	type_error(ld, k, n, path);
}

static void
set_enum(struct ld *ld, const struct key *k, void *f,
    const struct hq_ynode *n, const char *path)
{
	for (size_t i = 0; k->names[i]; i++) {
		if (strcmp(n->str, k->names[i]) == 0) {
			*(int *)f = (int)i;
			return;
		}
	}
	type_error(ld, k, n, path);
}

static void
set_prefix(struct ld *ld, void *f, const struct hq_ynode *n, const char *path)
{
	struct hq_prefix p;
	char msg[256];

	memset(&p, 0, sizeof(p));
	msg[0] = '\0';
	if (hq_prefix_parse(n->str, &p, msg, sizeof(msg)) < 0) {
		err(ld, n, path, "%s", msg);
		return;
	}
	hq_prefix_free(f);
	*(struct hq_prefix *)f = p;
}

/* A scalar key; returns 0 when the value was taken. */
static int
set_scalar(struct ld *ld, const struct key *k, void *base,
    const struct hq_ynode *n, const char *path)
{
	void *f = field(base, k->off);
	size_t nerr = ld->errs->total;
	bool b;

	if ((k->flags & K_NULLABLE) && hq_ynode_is_null(n)) {
		free(*(char **)f);
		*(char **)f = NULL;
		return 0;
	}
	if (n->type != HQ_Y_SCALAR || hq_ynode_is_null(n)) {
		type_error(ld, k, n, path);
		return -1;
	}
	switch (k->type) {
	case K_BOOL:
		if (hq_parse_bool(n->str, &b) < 0)
			type_error(ld, k, n, path);
		else
			*(bool *)f = b;
		break;
	case K_STRING:
	case K_NAME:
		set_string(ld, k, f, n, path);
		break;
	case K_VERBOSITY:
		set_verbosity(ld, k, f, n, path);
		break;
	case K_ENUM:
		set_enum(ld, k, f, n, path);
		break;
	case K_PREFIX:
		set_prefix(ld, f, n, path);
		break;
	default:
		set_number(ld, k, f, n, path);
		break;
	}
	return ld->errs->total == nerr ? 0 : -1;
}

static void
set_list(struct ld *ld, const struct key *k, void *base,
    const struct hq_ynode *n, const char *path)
{
	size_t count = 0;

	if (!hq_ynode_is_null(n)) {
		if (n->type != HQ_Y_SEQ) {
			type_error(ld, k, n, path);
			return;
		}
		count = n->n;
	}
	if (count < k->min)
		err(ld, n, path, "expected a non-empty list");
	for (size_t i = 0; i < count; i++) {
		const struct hq_ynode *item = n->kid[i];
		char *ipath = xasprintf("%s[%zu]", path, i);

		if (k->sub == NULL) {
			list_item(ld, k, base, item, ipath);
		} else if (item->type != HQ_Y_MAP) {
			char g[80];

			err(ld, item, ipath, "expected a mapping, got %s",
			    describe(item, g, sizeof(g)));
		} else {
			walk_map(ld, k->sub, list_add(ld, k, item, ipath), item,
			    ipath);
		}
		free(ipath);
	}
}

/* Options: a tree of mappings of scalars, flattened to "a.b.c" keys. */
/* The path that names a key itself: "server" + "wrokers". */
static const char *
key_path(const char *path, const char *key, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s", path, *path ? "." : "", key);
	return buf;
}

static void
flatten(struct ld *ld, struct hq_store_queue *q, const struct hq_ynode *map,
    const char *prefix, const char *path);

static void
option_add(struct ld *ld, struct hq_store_queue *q, const char *key,
    const struct hq_ynode *knode, const struct hq_ynode *v, const char *path)
{
	char buf[80], kp[256];

	/* "a.b: 1" next to "a: {b: 2}" names the same option twice. */
	for (size_t i = 0; i < q->noptions; i++) {
		if (strcmp(q->options[i].key, key) == 0) {
			err(ld, knode, key_path(path, knode->str, kp, sizeof(kp)),
			    "duplicate key %s", hq_st_quote(key, buf, sizeof(buf)));
			return;
		}
	}
	q->options = grow(q->options, q->noptions, sizeof(*q->options));
	q->options[q->noptions++] = (struct hq_kv){ xstrdup(key),
	    xstrdup(hq_ynode_is_null(v) ? "" : v->str), origin(ld, v) };
}

static void
dup_key(struct ld *ld, const struct hq_ynode *key, const char *path)
{
	char buf[80], kp[256];

	err(ld, key, key_path(path, key->str, kp, sizeof(kp)), "duplicate key %s",
	    hq_st_quote(key->str, buf, sizeof(buf)));
}

/*
 * The key of pair i of a mapping, or NULL (after an error) if unusable.
 * scan: look for an earlier equal key (free-form mappings only; the
 * table-driven walk finds duplicates in O(1) with its seen bits).
 */
static const char *
map_key(struct ld *ld, const struct hq_ynode *map, size_t i, const char *path,
    bool scan)
{
	const struct hq_ynode *key = map->kid[i];
	char buf[80];

	if (key->type != HQ_Y_SCALAR || key->len == 0) {
		err(ld, key, path, "expected a key name, got %s",
		    describe(key, buf, sizeof(buf)));
		return NULL;
	}
	for (size_t j = 0; scan && j < i; j += 2) {
		const struct hq_ynode *other = map->kid[j];

		if (other->type == HQ_Y_SCALAR &&
		    strcmp(other->str, key->str) == 0) {
			dup_key(ld, key, path);
			return NULL;
		}
	}
	return key->str;
}

static void
flatten(struct ld *ld, struct hq_store_queue *q, const struct hq_ynode *map,
    const char *prefix, const char *path)
{
	/* Duplicates are found pairwise: bound the pairs. */
	if (q->noptions + map->n / 2 > HQ_STORE_MAX_OPTIONS) {
		err(ld, map, path, "more than " HQ_XSTR(HQ_STORE_MAX_OPTIONS)
		    " options in one queue");
		return;
	}
	for (size_t i = 0; i + 1 < map->n; i += 2) {
		const struct hq_ynode *v = map->kid[i + 1];
		const char *name = map_key(ld, map, i, path, true);
		char *key, *kpath;

		if (name == NULL)
			continue;
		key = hq_st_join(prefix, name);
		kpath = hq_st_join(path, name);
		if (v->type == HQ_Y_MAP)
			flatten(ld, q, v, key, kpath);
		else if (v->type == HQ_Y_SEQ)
			err(ld, v, kpath, "lists are not supported in options");
		else
			option_add(ld, q, key, map->kid[i], v, path);
		free(key);
		free(kpath);
	}
}

static void
set_value(struct ld *ld, const struct key *k, void *base,
    const struct hq_ynode *v, const char *path)
{
	switch (k->type) {
	case K_MAP:
		if (k->flags & K_AT)
			*(struct hq_origin *)field(base, k->at_off) = origin(ld, v);
		walk_map(ld, k->sub, field(base, k->off), v, path);
		break;
	case K_LIST:
		set_list(ld, k, base, v, path);
		break;
	case K_OPTIONS:
		if (hq_ynode_is_null(v))
			break;
		if (v->type != HQ_Y_MAP)
			type_error(ld, k, v, path);
		else
			flatten(ld, base, v, "", path);
		break;
	default:
		if (set_scalar(ld, k, base, v, path) == 0 && (k->flags & K_AT))
			*(struct hq_origin *)field(base, k->at_off) =
			    origin(ld, v);
		break;
	}
}

static void
unknown_key(struct ld *ld, const struct key *t, const struct hq_ynode *key,
    const char *path)
{
	const char *names[32], *best;
	char buf[80], list[512] = "", kp[256];
	size_t n = 0;

	path = key_path(path, key->str, kp, sizeof(kp));
	for (const struct key *k = t; k->name && n < 32; k++)
		names[n++] = k->name;
	best = hq_st_closest(key->str, names, n);
	if (best != NULL) {
		err(ld, key, path, "unknown key %s (did you mean \"%s\"?)",
		    hq_st_quote(key->str, buf, sizeof(buf)), best);
	} else {
		size_t len = 0;

		for (size_t i = 0; i < n && len < sizeof(list); i++)
			len += (size_t)snprintf(list + len, sizeof(list) - len,
			    "%s%s", i ? ", " : "", names[i]);
		err(ld, key, path, "unknown key %s (known keys: %s)",
		    hq_st_quote(key->str, buf, sizeof(buf)), list);
	}
}

/* A mapping with K_ONE_OF keys has none of them (missing) or more. */
static void
one_of_error(struct ld *ld, const struct key *t, const struct hq_ynode *n,
    const char *path, bool missing)
{
	char list[256] = "";
	size_t len = 0, i = 0;

	for (const struct key *k = t; k->name; k++)
		if ((k->flags & K_ONE_OF) && len < sizeof(list))
			len += (size_t)snprintf(list + len, sizeof(list) - len,
			    "%s%s%s%s", i++ == 0 ? "" : " or ", missing ? "\"" : "",
			    k->name, missing ? "\"" : "");
	if (i == 0)
		return;
	if (missing)
		err(ld, n, path, "missing required key %s", list);
	else
		err(ld, n, path, "give %s, not both", list);
}

static void
walk_map(struct ld *ld, const struct key *t, void *base,
    const struct hq_ynode *map, const char *path)
{
	uint64_t seen = 0;
	const struct hq_ynode *alt = NULL;   /* a second K_ONE_OF key */
	size_t nalt = 0;

	if (hq_ynode_is_null(map))
		return;
	if (map->type != HQ_Y_MAP) {
		char g[80];

		err(ld, map, path, "expected a mapping, got %s",
		    describe(map, g, sizeof(g)));
		return;
	}
	for (size_t i = 0; i + 1 < map->n; i += 2) {
		const char *name = map_key(ld, map, i, path, false);
		const struct key *k;
		uint64_t bit;
		char *kpath;

		if (name == NULL)
			continue;
		for (k = t; k->name && strcmp(k->name, name) != 0; k++)
			;
		if (k->name == NULL) {
			unknown_key(ld, t, map->kid[i], path);
			continue;
		}
		bit = 1ULL << (k - t);
		if (seen & bit) {
			dup_key(ld, map->kid[i], path);
			continue;
		}
		seen |= bit;
		if ((k->flags & K_ONE_OF) && nalt++ == 1)
			alt = map->kid[i];
		kpath = hq_st_join(path, name);
		set_value(ld, k, base, map->kid[i + 1], kpath);
		free(kpath);
	}
	for (const struct key *k = t; k->name; k++)
		if ((k->flags & K_REQUIRED) && !(seen & (1ULL << (k - t))))
			err(ld, map, path, "missing required key \"%s\"",
			    k->name);
	if (nalt != 1)
		one_of_error(ld, t, nalt == 0 ? map : alt, path, nalt == 0);
}

/* ---------------------------------------------------------------------
 * List elements
 * ------------------------------------------------------------------- */

static void
path_add(char ***paths, size_t n, const char *path)
{
	*paths = grow(*paths, n, sizeof(**paths));
	(*paths)[n] = xstrdup(path);
}

static void *
group_add(struct ld *ld, const struct hq_ynode *n, const char *path)
{
	struct hq_store *s = ld->s;
	struct hq_store_group *g;

	s->groups = grow(s->groups, s->ngroups, sizeof(*s->groups));
	g = &s->groups[s->ngroups];
	memset(g, 0, sizeof(*g));
	hq_st_apply_defaults(hq_st_group_keys, g);
	g->at = origin(ld, n);
	path_add(&ld->gpath, s->ngroups++, path);
	return g;
}

static void *
queue_add(struct ld *ld, const struct hq_ynode *n, const char *path)
{
	struct hq_store *s = ld->s;
	struct hq_store_queue *q;

	s->queues = grow(s->queues, s->nqueues, sizeof(*s->queues));
	q = &s->queues[s->nqueues];
	memset(q, 0, sizeof(*q));
	hq_st_apply_defaults(hq_st_queue_keys, q);
	q->at = origin(ld, n);
	path_add(&ld->qpath, s->nqueues++, path);
	return q;
}

static void *
urlacl_add(struct ld *ld, const struct hq_ynode *n, const char *path)
{
	struct hq_store *s = ld->s;
	struct hq_store_urlacl *a;

	s->urlacls = grow(s->urlacls, s->nurlacls, sizeof(*s->urlacls));
	a = &s->urlacls[s->nurlacls];
	memset(a, 0, sizeof(*a));
	hq_st_apply_defaults(hq_st_urlacl_keys, a);
	a->at = origin(ld, n);
	path_add(&ld->upath, s->nurlacls++, path);
	return a;
}

static void *
gstate_add(struct ld *ld, const struct hq_ynode *n, const char *path)
{
	struct hq_store *s = ld->s;
	struct hq_store_gstate *g;

	s->gstates = grow(s->gstates, s->ngstates, sizeof(*s->gstates));
	g = &s->gstates[s->ngstates];
	memset(g, 0, sizeof(*g));
	hq_st_apply_defaults(hq_st_gstate_keys, g);
	g->at = origin(ld, n);
	path_add(&ld->gspath, s->ngstates++, path);
	return g;
}

static void *
sslcert_add(struct ld *ld, const struct hq_ynode *n, const char *path)
{
	struct hq_store *s = ld->s;
	struct hq_store_sslcert *c;

	s->sslcerts = grow(s->sslcerts, s->nsslcerts, sizeof(*s->sslcerts));
	c = &s->sslcerts[s->nsslcerts];
	memset(c, 0, sizeof(*c));
	hq_st_apply_defaults(hq_st_sslcert_keys, c);
	c->at = origin(ld, n);
	path_add(&ld->spath, s->nsslcerts++, path);
	return c;
}

static void
prefix_item(struct ld *ld, void *base, const struct hq_ynode *n,
    const char *path)
{
	struct hq_store_group *g = base;
	struct hq_prefix p;
	char msg[256], buf[80];

	if (n->type != HQ_Y_SCALAR || hq_ynode_is_null(n)) {
		err(ld, n, path, "expected a URL prefix, got %s",
		    describe(n, buf, sizeof(buf)));
		return;
	}
	memset(&p, 0, sizeof(p));
	msg[0] = '\0';
	if (hq_prefix_parse(n->str, &p, msg, sizeof(msg)) < 0) {
		err(ld, n, path, "%s", msg);
		return;
	}
	g->prefixes = grow(g->prefixes, g->nprefixes, sizeof(*g->prefixes));
	g->prefix_at = grow(g->prefix_at, g->nprefixes, sizeof(*g->prefix_at));
	g->prefixes[g->nprefixes] = p;
	g->prefix_at[g->nprefixes] = origin(ld, n);
	ld->prefs = grow(ld->prefs, ld->nprefs, sizeof(*ld->prefs));
	ld->prefs[ld->nprefs++] = (struct pref){ (size_t)(g - ld->s->groups),
	    g->nprefixes++, xstrdup(path) };
}

static void
logfield_item(struct ld *ld, void *base, const struct hq_ynode *n,
    const char *path)
{
	struct hq_store_alog *a = base;
	char buf[80];

	if (n->type != HQ_Y_SCALAR || hq_ynode_is_null(n) ||
	    !hq_logfield_valid(n->str)) {
		err(ld, n, path, "expected a W3C field name (date, time, c-ip, "
		    "c-port, cs-username, s-sitename, s-computername, s-ip, "
		    "s-port, cs-method, cs-uri-stem, cs-uri-query, cs-uri, "
		    "sc-status, sc-substatus, sc-win32-status, sc-bytes, "
		    "cs-bytes, time-taken, cs-version, cs-host, s-reason, "
		    "s-queuename or cs(HEADER)), got %s",
		    describe(n, buf, sizeof(buf)));
		return;
	}
	a->fields = grow(a->fields, a->nfields, sizeof(*a->fields));
	a->fields[a->nfields++] = xstrdup(n->str);
}

/*
 * "IP", "IP:PORT", "[v6]", "[v6]:PORT", or a bare v6 literal.  No port
 * stores port 0: every port some URL prefix registers.
 */
int
hq_st_parse_listen(const char *text, struct sockaddr_storage *ss, socklen_t *len)
{
	char host[INET6_ADDRSTRLEN];
	const char *h = text, *port = NULL, *end;
	uint64_t pn = 0;
	int family = AF_INET;
	size_t hl;

	if (*h == '[') {
		family = AF_INET6;
		if ((end = strchr(++h, ']')) == NULL)
			return -1;
		if (end[1] == ':')
			port = end + 2;
		else if (end[1] != '\0')
			return -1;
	} else if ((end = strchr(h, ':')) != NULL && strchr(end + 1, ':')) {
		family = AF_INET6;
		end = h + strlen(h);
	} else if (end != NULL) {
		port = end + 1;
	} else {
		end = h + strlen(h);
	}
	hl = (size_t)(end - h);
	if (hl == 0 || hl >= sizeof(host))
		return -1;
	memcpy(host, h, hl);
	host[hl] = '\0';
	if (port != NULL && (hq_st_parse_uint(port, &pn) < 0 || pn < 1 || pn > 65535))
		return -1;
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)pn);
		*len = sizeof(*sin);
		return inet_pton(AF_INET, host, &sin->sin_addr) == 1 ? 0 : -1;
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)pn);
		*len = sizeof(*sin6);
		return inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1 ? 0 : -1;
	}
}

static void
listen_item(struct ld *ld, void *base, const struct hq_ynode *n,
    const char *path)
{
	struct hq_store *s = base;
	struct hq_listen l;
	char buf[80];

	memset(&l, 0, sizeof(l));
	if (n->type != HQ_Y_SCALAR ||
	    hq_st_parse_listen(n->str, &l.addr, &l.addrlen) < 0) {
		err(ld, n, path, "expected an IP address with an optional "
		    "port 1-65535 (\"127.0.0.1\", \"[::1]:8080\"), got %s",
		    describe(n, buf, sizeof(buf)));
		return;
	}
	l.text = xstrdup(n->str);
	l.at = origin(ld, n);
	s->listens = grow(s->listens, s->nlistens, sizeof(*s->listens));
	s->listens[s->nlistens] = l;
	path_add(&ld->lpath, s->nlistens++, path);
}

/* An element of a list of mappings, appended with its defaults. */
static void *
list_add(struct ld *ld, const struct key *k, const struct hq_ynode *n,
    const char *path)
{
	switch (k->list) {
	case KL_GROUPS:
		return group_add(ld, n, path);
	case KL_QUEUES:
		return queue_add(ld, n, path);
	case KL_URLACLS:
		return urlacl_add(ld, n, path);
	case KL_SSLCERTS:
		return sslcert_add(ld, n, path);
	case KL_GSTATES:
		return gstate_add(ld, n, path);
	default:
		abort(); /* the table is wrong */
	}
}

/* One item of a list of scalars. */
static void
list_item(struct ld *ld, const struct key *k, void *base,
    const struct hq_ynode *n, const char *path)
{
	switch (k->list) {
	case KL_LISTENS:
		listen_item(ld, base, n, path);
		break;
	case KL_PREFIXES:
		prefix_item(ld, base, n, path);
		break;
	case KL_LOGFIELDS:
		logfield_item(ld, base, n, path);
		break;
	default:
		abort(); /* the table is wrong */
	}
}

/* ---------------------------------------------------------------------
 * A file's root
 * ------------------------------------------------------------------- */

void
hq_st_walk_top(struct ld *ld, const struct hq_ynode *root)
{
	char buf[80];

	if (hq_ynode_is_null(root))
		return; /* an empty file is a valid, empty drop-in */
	if (root->type != HQ_Y_MAP) {
		err(ld, root, NULL, "expected a mapping at the top level, "
		    "got %s", describe(root, buf, sizeof(buf)));
		return;
	}
	walk_map(ld, hq_st_top_keys, ld->s, root, "");
}
