/*
 * store_merge.c -- the setup store's entry points: httpq.yaml merged with
 * the drop-ins of its conf.d folder (or with a drop-in's new text, for
 * httpqctl), checked as a whole, all or nothing.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "store_priv.h"

/* ---------------------------------------------------------------------
 * Files and the public entry points
 * ------------------------------------------------------------------- */

static void
load_file(struct ld *ld, const char *path, const char *name)
{
	struct hq_ynode *root;
	int rc;

	ld->file = hq_st_intern(ld->s, name);
	if (ld->override != NULL && strcmp(path, ld->override) == 0)
		rc = hq_yaml_parse(ld->file, ld->otext, ld->olen, &root, ld->errs);
	else
		rc = hq_yaml_parse_file(path, ld->file, &root, ld->errs);
	if (rc == 0)
		hq_st_walk_top(ld, root);
	hq_ynode_free(root);
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool
is_dropin(const char *dir, const char *name)
{
	size_t n = strlen(name);
	struct stat st;
	char *full;
	bool ok;

	/* Hidden files are editors' backups and lock files. */
	if (name[0] == '.' || n <= 5 || strcmp(name + n - 5, ".yaml") != 0)
		return false;
	full = xasprintf("%s/%s", dir, name);
	ok = stat(full, &st) < 0 || !S_ISDIR(st.st_mode);
	free(full);
	return ok;
}

char *
hq_store_dropin_dir(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? xasprintf("%.*s/conf.d", (int)(slash - path), path) :
	    xstrdup("conf.d");
}

/* The name of the overriding drop-in, if it belongs in dir. */
static const char *
override_name(const struct ld *ld, const char *dir)
{
	size_t n = strlen(dir);

	if (ld->override == NULL || strncmp(ld->override, dir, n) != 0 ||
	    ld->override[n] != '/' || strchr(ld->override + n + 1, '/'))
		return NULL;
	return ld->override + n + 1;
}

/* Adds or removes the overriding drop-in from the names found on disk. */
static void
override_names(struct ld *ld, const char *dir, char ***names, size_t *n)
{
	const char *oname = override_name(ld, dir);
	size_t i;

	if (oname == NULL)
		return;
	for (i = 0; i < *n && strcmp((*names)[i], oname) != 0; i++)
		;
	if (i == *n && ld->otext != NULL) {
		*names = xrealloc(*names, (*n + 1) * sizeof(**names));
		(*names)[(*n)++] = xstrdup(oname);
	} else if (i < *n && ld->otext == NULL) {
		free((*names)[i]);
		(*names)[i] = (*names)[--*n];
	}
}

/* Every *.yaml in dirname(path)/conf.d, in strcmp order. */
static void
load_dropins(struct ld *ld, const char *path)
{
	char *dir = hq_store_dropin_dir(path);
	char **names = NULL;
	size_t n = 0;
	struct dirent *de;
	DIR *d;

	if ((d = opendir(dir)) == NULL) {
		if (errno != ENOENT && errno != ENOTDIR) {
			struct hq_origin at = { hq_st_intern(ld->s, dir), 0, 0 };

			hq_errors_add(ld->errs, &at, NULL, "cannot open: %s",
			    strerror(errno));
			free(dir);
			return;
		}
	}
	while (d != NULL && (de = readdir(d)) != NULL) {
		if (!is_dropin(dir, de->d_name))
			continue;
		names = xrealloc(names, (n + 1) * sizeof(*names));
		names[n++] = xstrdup(de->d_name);
	}
	if (d != NULL)
		closedir(d);
	override_names(ld, dir, &names, &n);
	if (n > 0)
		qsort(names, n, sizeof(*names), cmp_names);
	for (size_t i = 0; i < n; i++) {
		char *full = xasprintf("%s/%s", dir, names[i]);

		load_file(ld, full, full);
		free(full);
		free(names[i]);
	}
	free(names);
	free(dir);
}

static void
ld_init(struct ld *ld, struct hq_errors *errs)
{
	memset(ld, 0, sizeof(*ld));
	ld->errs = errs;
	ld->s = xcalloc(1, sizeof(*ld->s));
	hq_st_apply_defaults(hq_st_top_keys, ld->s);
}

static void
free_paths(char **paths, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(paths[i]);
	free(paths);
}

/* Runs the cross checks; returns the store, or NULL if anything failed. */
static struct hq_store *
ld_finish(struct ld *ld, size_t nerr)
{
	struct hq_store *s = ld->s;

	hq_st_check_all(ld);
	free_paths(ld->gpath, s->ngroups);
	free_paths(ld->qpath, s->nqueues);
	free_paths(ld->lpath, s->nlistens);
	free_paths(ld->upath, s->nurlacls);
	free_paths(ld->spath, s->nsslcerts);
	free_paths(ld->gspath, s->ngstates);
	for (size_t i = 0; i < ld->nprefs; i++)
		free(ld->prefs[i].path);
	free(ld->prefs);
	if (ld->errs->total != nerr) {
		hq_store_free(s);
		return NULL;
	}
	return s;
}

struct hq_store *
hq_store_load(const char *path, struct hq_errors *errs)
{
	size_t nerr = errs->total;
	struct ld ld;

	ld_init(&ld, errs);
	load_file(&ld, path, path);
	load_dropins(&ld, path);
	return ld_finish(&ld, nerr);
}

struct hq_store *
hq_store_load_override(const char *path, const char *dropin, const char *text,
    size_t len, struct hq_errors *errs)
{
	size_t nerr = errs->total;
	struct ld ld;

	ld_init(&ld, errs);
	ld.override = dropin;
	ld.otext = text;
	ld.olen = len;
	load_file(&ld, path, path);
	load_dropins(&ld, path);
	return ld_finish(&ld, nerr);
}

struct hq_store *
hq_store_load_string(const char *name, const char *yaml, size_t len,
    struct hq_errors *errs)
{
	size_t nerr = errs->total;
	struct hq_ynode *root;
	struct ld ld;

	ld_init(&ld, errs);
	ld.file = hq_st_intern(ld.s, name);
	if (hq_yaml_parse(ld.file, yaml, len, &root, errs) == 0)
		hq_st_walk_top(&ld, root);
	hq_ynode_free(root);
	return ld_finish(&ld, nerr);
}

void
hq_store_free(struct hq_store *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < s->nfiles; i++)
		free(s->files[i]);
	free(s->files);
	free(s->module_path);
	free(s->error_log);
	for (size_t i = 0; i < s->nlistens; i++)
		free(s->listens[i].text);
	free(s->listens);
	for (size_t i = 0; i < s->ngroups; i++) {
		struct hq_store_group *g = &s->groups[i];

		for (size_t j = 0; j < g->nprefixes; j++)
			hq_prefix_free(&g->prefixes[j]);
		free(g->prefixes);
		free(g->prefix_at);
		free(g->name);
		free(g->queue);
		free(g->access_log.path);
		for (size_t j = 0; j < g->access_log.nfields; j++)
			free(g->access_log.fields[j]);
		free(g->access_log.fields);
		free(g->request_id_header);
		free(g->trust_request_id);
	}
	free(s->groups);
	for (size_t i = 0; i < s->nqueues; i++) {
		struct hq_store_queue *q = &s->queues[i];

		for (size_t j = 0; j < q->noptions; j++) {
			free(q->options[j].key);
			free(q->options[j].value);
		}
		free(q->options);
		free(q->name);
		free(q->module);
		free(q->attach_user);
		free(q->attach_group);
		free(q->controller_user);
		free(q->controller_group);
	}
	free(s->queues);
	free(s->control.socket);
	free(s->queue_socket);
	free(s->control.admin_group);
	free(s->control.read_group);
	for (size_t i = 0; i < s->nurlacls; i++) {
		hq_prefix_free(&s->urlacls[i].prefix);
		free(s->urlacls[i].user);
		free(s->urlacls[i].group);
	}
	free(s->urlacls);
	for (size_t i = 0; i < s->nsslcerts; i++) {
		struct hq_store_sslcert *c = &s->sslcerts[i];

		free(c->host);
		free(c->text);
		free(c->certfile);
		free(c->keyfile);
		free(c->chainfile);
		free(c->cafile);
		free(c->ocsp_staple);
		free(c->ipport);
		free(c->hostnameport);
	}
	free(s->sslcerts);
	for (size_t i = 0; i < s->ngstates; i++)
		free(s->gstates[i].name);
	free(s->gstates);
	free(s);
}
