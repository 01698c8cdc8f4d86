/*
 * store_priv.h -- what the files of the setup store share.
 *
 * The store is five files, one job each: store_keys.c (the key table, and
 * what is printed or checked from it), store_load.c (walking one file's
 * YAML tree through the table), store_check.c (checks across entries and
 * files), store_merge.c (httpq.yaml and its conf.d drop-ins, the public
 * entry points) and store_errors.c (collected errors).  Calls go
 * merge -> check -> load -> keys, never back (the table names the
 * loader's list handlers by enum klist, not by pointer); store_errors.c
 * calls none of them.
 *
 * Layer: src/lib/, private to store_*.c.  May call: httpq-internal.h,
 * store_yaml.h.
 */
#ifndef HTTPQ_STORE_PRIV_H
#define HTTPQ_STORE_PRIV_H

#include <stdarg.h>

#include "httpq-internal.h"
#include "store_yaml.h"

/* ---------------------------------------------------------------------
 * store_keys.c: the key table
 * ------------------------------------------------------------------- */

enum ktype {
	K_MAP,       /* a section: its keys are in sub */
	K_LIST,      /* of mappings (sub + add) or of scalars (item) */
	K_UINT,      /* uint32_t, decimal */
	K_OFF_UINT,  /* uint32_t, decimal or "off" (HQ_TIMEOUT_OFF) */
	K_SIZE,      /* uint32_t, bytes with optional k/m/g */
	K_SIZE64,    /* uint64_t, the same */
	K_BOOL,      /* bool */
	K_STRING,    /* char *, not empty */
	K_NAME,      /* char *, [A-Za-z0-9_.-]+ */
	K_VERBOSITY, /* enum hq_verbosity */
	K_OPTIONS,   /* free-form mapping of scalars, flattened into hq_kv */
	K_PREFIX,    /* struct hq_prefix, parsed by hq_prefix_parse */
	K_ENUM,      /* int, one of names[] */
};

#define K_REQUIRED 0x1 /* must appear in its mapping */
#define K_NULLABLE 0x2 /* "~" unsets it (sets NULL) */
#define K_INHERIT  0x4 /* K_MAP whose values stay 0 = inherit */
#define K_AT       0x8 /* at_off names a struct hq_origin to fill (K_MAP too) */
#define K_SELECT   0x10 /* names its entry in httpqctl's delete and show */
#define K_FILE     0x20 /* a file name (httpqctl makes it absolute) */
#define K_ONE_OF   0x40 /* exactly one of the K_ONE_OF keys of a mapping */

struct ld;

/* The lists: of mappings (an element with defaults is appended for each
 * item, then walked through sub) or of scalars (each item is handled). */
enum klist {
	KL_NONE,
	KL_GROUPS, KL_QUEUES, KL_URLACLS, KL_SSLCERTS, /* of mappings */
	KL_GSTATES,
	KL_LISTENS, KL_PREFIXES, KL_LOGFIELDS,         /* of scalars */
};

struct key {
	const char *name;
	enum ktype type;
	unsigned flags;
	size_t off;              /* the field, from the base of its struct */
	size_t at_off;           /* with K_AT: where to record the origin */
	uint64_t min, max;       /* numbers: range; K_LIST: minimum items */
	uint64_t dnum;           /* default of numbers, bools, verbosity */
	const char *dstr;        /* default of strings (NULL: none) */
	const char *show;        /* the default as shown, when not computed */
	const char *what;        /* type as shown, for lists */
	const char *unit;        /* timeouts: of the value, as shown */
	const char *meaning;
	const struct key *sub;   /* K_MAP, K_LIST of mappings */
	const char *const *names; /* K_ENUM: the values, NULL-terminated */
	/* K_LIST: what its items are; store_load.c adds or handles each. */
	enum klist list;
};

/* The root of the table: the top-level keys of httpq.yaml. */
extern const struct key hq_st_top_keys[];
/* The keys of one entry of url_groups, queues, urlacls and sslcerts. */
extern const struct key hq_st_group_keys[], hq_st_queue_keys[];
extern const struct key hq_st_urlacl_keys[], hq_st_sslcert_keys[];
extern const struct key hq_st_gstate_keys[];
/* Indexed by enum hq_verbosity, NULL-terminated. */
extern const char *const hq_st_verbosity_names[];
/* 16k, 4m, 1g or plain bytes. */
const char *hq_st_fmt_size(uint64_t v, char *buf, size_t size);
/* What a key expects, for "expected X, got Y" (buf may be returned). */
const char *hq_st_expected(const struct key *k, char *buf, size_t size);
/* "a, b or c" (or "a|b|c") from a K_ENUM's names. */
const char *hq_st_enum_list(const struct key *k, char *buf, size_t size,
    const char *sep, const char *last);

/* ---------------------------------------------------------------------
 * store_load.c: one file's tree, walked through the table
 * ------------------------------------------------------------------- */

/* The loader's state while files are walked. */
struct ld {
	struct hq_store *s;
	struct hq_errors *errs;
	const char *file;        /* interned name of the file being walked */
	char **gpath, **qpath, **lpath; /* key path of each entry, as in its file */
	char **upath, **spath;   /* of urlacls and sslcerts */
	char **gspath;           /* of url_group_states */
	const char *override;    /* hq_store_load_override: this drop-in... */
	const char *otext;       /* ...is read from here */
	size_t olen;
	struct pref {            /* every parsed prefix, in load order */
		size_t g, j;     /* s->groups[g].prefixes[j] */
		char *path;
	} *prefs;
	size_t nprefs;
};

/* Sets every default of table t in the struct at base. */
void hq_st_apply_defaults(const struct key *t, void *base);
/* The name of a file, kept once in s->files (origins point at it). */
const char *hq_st_intern(struct hq_store *s, const char *name);
/* path + "." + name, or name at the top. */
char *hq_st_join(const char *path, const char *name);
/* User text in a message: quoted, short, no control characters. */
const char *hq_st_quote(const char *s, char *buf, size_t size);
/* The closest of names[0..n) to s, if it is close enough to be a typo. */
const char *hq_st_closest(const char *s, const char *const *names, size_t n);
/* Decimal only, no sign. */
int hq_st_parse_uint(const char *s, uint64_t *v);
/* An iplisten entry: IP or IP:PORT (port 0 when absent). */
int hq_st_parse_listen(const char *text, struct sockaddr_storage *ss,
    socklen_t *len);
/* Walks a file's root mapping through hq_st_top_keys. */
void hq_st_walk_top(struct ld *ld, const struct hq_ynode *root);

/* ---------------------------------------------------------------------
 * store_check.c: checks across entries and files
 * ------------------------------------------------------------------- */

/* Runs every check once all files are merged; errors go to ld->errs. */
void hq_st_check_all(struct ld *ld);

/* ---------------------------------------------------------------------
 * store_errors.c: collected errors
 * ------------------------------------------------------------------- */

void hq_st_errors_vadd(struct hq_errors *e, const struct hq_origin *at,
    const char *path, const char *fmt, va_list ap);

#endif /* HTTPQ_STORE_PRIV_H */
