/*
 * store_yaml.h -- the YAML tree that store_yaml.c hands to store_load.c.
 *
 * Private to the setup store: store_load.c interprets the tree through the key
 * table, store_yaml.c is the only file that talks to libyaml.  The tree is
 * plain data with 1-based marks, so that every error can name file:line:col.
 *
 * Layer: src/lib/, private to store_*.c and store_yaml.c (httpqctl and
 * test_store.c also read it for now).  May call: httpq-internal.h, libyaml.
 */
#ifndef HTTPQ_STORE_YAML_H
#define HTTPQ_STORE_YAML_H

#include "httpq-internal.h"

/* Deeper documents are refused: the walkers recurse, the fuzzer nests. */
#define HQ_YAML_MAX_DEPTH 64
/*
 * The loader's memory is bounded by the file: at most HQ_STORE_MAX_FILE
 * bytes (a store file bigger than this is a mistake, or /dev/zero) and at
 * most HQ_YAML_MAX_NODES nodes per file, each about a hundred bytes.
 * httpq.yaml(5) documents both.
 */
#define HQ_STORE_MAX_FILE_MIB 4
#define HQ_STORE_MAX_FILE (HQ_STORE_MAX_FILE_MIB * 1024u * 1024u)
#define HQ_YAML_MAX_NODES 200000
/* Module options of one queue (store_load.c checks them pairwise). */
#define HQ_STORE_MAX_OPTIONS 1000
#define HQ_XSTR_(x) #x
#define HQ_XSTR(x) HQ_XSTR_(x)

enum hq_ytype { HQ_Y_SCALAR, HQ_Y_MAP, HQ_Y_SEQ };

struct hq_ynode {
	enum hq_ytype type;
	int line, col;           /* start mark, 1-based */
	char *str;               /* scalar text, NUL-terminated, no NUL inside */
	size_t len;
	bool plain;              /* unquoted: "", "~" and "null" mean null */
	struct hq_ynode **kid;   /* map: key, value, key, value...; seq: items */
	size_t n, cap;
};

/*
 * Parses one YAML document from buf[0..len) into *root (NULL when the
 * document is empty).  name is used in messages.  Returns 0, or -1 with
 * one error added to errs (libyaml stops at the first syntax error).
 */
int hq_yaml_parse(const char *name, const char *buf, size_t len,
    struct hq_ynode **root, struct hq_errors *errs);
/* Reads path and parses it as above; "cannot open" errors name the file,
 * and so do refusals of anything but a regular file or a file too big. */
int hq_yaml_parse_file(const char *path, const char *name,
    struct hq_ynode **root, struct hq_errors *errs);
void hq_ynode_free(struct hq_ynode *n);
/* A plain "", "~" or "null": YAML's way of writing nothing. */
bool hq_ynode_is_null(const struct hq_ynode *n);

#endif /* HTTPQ_STORE_YAML_H */
