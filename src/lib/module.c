/*
 * module.c -- loading handler modules.
 *
 * The ABI word is checked before any other symbol is used; a failed init
 * unwinds fully (Redis moduleLoad).  dlopen(RTLD_NOW | RTLD_LOCAL) so that a
 * missing symbol is reported at load, not at the first request, and two
 * modules cannot see each other's symbols.
 *
 * Loading is split from init(): all the modules of a configuration are
 * opened and validated before any of them is initialised, and httpqctl -t
 * validates without initialising.
 */
#include "config.h"

#include <dlfcn.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "httpq-internal.h"

/*
 * Modules built into httpqd (the metrics module needs the daemon's
 * counters, which no ABI function exposes): found by their bare name
 * before module_path is searched, without dlopen.  httpqd registers them
 * (hq_module_register_builtin); elsewhere (httpqctl -t) a name of HQ_BUILTIN_NAMES
 * stands for a module with nothing to validate.
 */
static const char *const builtin_names[] = { HQ_BUILTIN_NAMES, NULL };
static const struct httpq_module *builtins[8];
static size_t nbuiltins;

static void
builtin_stub_handle(void *state, httpq_request *req)
{
	(void)state;
	(void)req;
}

void
hq_module_register_builtin(const struct httpq_module *m)
{
	if (nbuiltins < sizeof(builtins) / sizeof(builtins[0]))
		builtins[nbuiltins++] = m;
}

/* The built-in module named name, a stub for it outside httpqd, or NULL. */
static const struct httpq_module *
builtin(const char *name)
{
	static struct httpq_module stubs[sizeof(builtin_names) / sizeof(builtin_names[0])];

	for (size_t i = 0; i < nbuiltins; i++)
		if (strcmp(builtins[i]->name, name) == 0)
			return builtins[i];
	for (size_t i = 0; builtin_names[i]; i++)
		if (strcmp(builtin_names[i], name) == 0) {
			stubs[i] = (struct httpq_module){ HTTPQ_MODULE_HEAD,
			    .name = builtin_names[i], .handle = builtin_stub_handle };
			return &stubs[i];
		}
	return NULL;
}

static char *
module_file(const char *name, const char *module_path)
{
	if (strchr(name, '/') != NULL)
		return xstrdup(name);
	if (strlen(name) > 3 && strcmp(name + strlen(name) - 3, ".so") == 0)
		return xasprintf("%s/%s", module_path, name);
	return xasprintf("%s/%s.so", module_path, name);
}

/*
 * Whether the module's struct has a field added in ABI 1.minor_added: a
 * module built for an older minor has no such field (its struct may end
 * before it, so it must not even be read), and .size itself exists only
 * from 1.2 on.
 */
#define MOD_HAS(m, minor_added, field)                                  \
	(((m)->abi & 0xffff) >= (minor_added) &&                        \
	    (m)->size >= offsetof(struct httpq_module, field) + sizeof((m)->field))

static int
check_abi(const struct httpq_module *m, const char *path,
    const struct hq_store_queue *sq, const char *key, struct hq_errors *errs)
{
	unsigned major = m->abi >> 16, minor = m->abi & 0xffff;

	if (major != HTTPQ_MODULE_ABI_MAJOR || minor > HTTPQ_MODULE_ABI_MINOR) {
		hq_errors_add(errs, &sq->module_at, key,
		    "%s: built for ABI %u.%u, httpqd provides %u.%u: rebuild the module",
		    path, major, minor, HTTPQ_MODULE_ABI_MAJOR, HTTPQ_MODULE_ABI_MINOR);
		return -1;
	}
	/*
	 * .size 0 is a module written for 1.0/1.1 and recompiled against a
	 * newer header (.abi = HTTPQ_MODULE_ABI, no HTTPQ_MODULE_HEAD): read
	 * it as such, nothing after .fini.  Its minor says the 1.2 fields are
	 * there, so a validate() it set without .size can be seen, and is
	 * refused rather than silently never called.
	 */
	if (minor >= 2 && m->size == 0 && m->validate != NULL) {
		hq_errors_add(errs, &sq->module_at, key,
		    "%s: sets validate() but not httpq_module.size: start its "
		    "initialiser with HTTPQ_MODULE_HEAD", path);
		return -1;
	}
	if (minor >= 2 && m->size != 0 && !MOD_HAS(m, 2, size)) {
		hq_errors_add(errs, &sq->module_at, key,
		    "%s: httpq_module.size is %u, less than any ABI %u.%u layout: "
		    "start its initialiser with HTTPQ_MODULE_HEAD", path,
		    (unsigned)m->size, major, minor);
		return -1;
	}
	if (m->handle == NULL) {
		hq_errors_add(errs, &sq->module_at, key,
		    "%s: module has no handle() callback", path);
		return -1;
	}
	return 0;
}

struct httpq_validation {
	const httpq_ctx *ctx;
	struct hq_errors *errs;
	size_t nreported;
};

/* Runs the module's validate(): 0, or -1 with its errors in errs. */
static int
validate(httpq_ctx *ctx, const struct httpq_api *api, struct hq_errors *errs)
{
	struct httpq_validation v = { ctx, errs, 0 };
	const struct hq_store_queue *sq = ctx->sq;
	char key[64];
	int rc;

	if (ctx->validate == NULL)
		return 0;
	rc = ctx->validate(api, ctx, &v);
	if (rc == 0 && v.nreported == 0)
		return 0;
	if (v.nreported == 0) {
		snprintf(key, sizeof(key), "queues[%zu].options", ctx->qindex);
		hq_errors_add(errs, &sq->at, key,
		    "module \"%s\" (%s) refused the options of queue \"%s\" "
		    "(see its log lines)", ctx->mod->name ? ctx->mod->name : sq->module,
		    ctx->path, sq->name);
	}
	return -1;
}

struct httpq_ctx *
hq_module_load(const char *name, const char *module_path,
    const struct hq_store_queue *sq, size_t qindex,
    const struct httpq_api *api, struct hq_errors *errs)
{
	struct httpq_ctx *ctx = xcalloc(1, sizeof(*ctx));
	const struct httpq_module *m;
	char key[64];

	snprintf(key, sizeof(key), "queues[%zu].module", qindex);
	ctx->path = module_file(name, module_path);
	ctx->queue_name = xstrdup(sq->name);
	ctx->sq = sq;
	ctx->qindex = qindex;
	ctx->options = sq->options;
	ctx->noptions = sq->noptions;
	if ((m = builtin(name)) != NULL) {
		free(ctx->path);
		ctx->path = xasprintf("(built into httpqd) %s", name);
		goto found;
	}
	if (access(ctx->path, R_OK) != 0) {
		hq_errors_add(errs, &sq->module_at, key,
		    "cannot load module \"%s\": %s: %m", name, ctx->path);
		goto fail;
	}
	ctx->dl = dlopen(ctx->path, RTLD_NOW | RTLD_LOCAL);
	if (ctx->dl == NULL) {
		hq_errors_add(errs, &sq->module_at, key,
		    "cannot load module \"%s\": %s", name, dlerror());
		goto fail;
	}
	m = dlsym(ctx->dl, "httpq_module");
	if (m == NULL) {
		hq_errors_add(errs, &sq->module_at, key,
		    "%s: no symbol httpq_module: not an httpq module", ctx->path);
		goto fail;
	}
found:
	if (check_abi(m, ctx->path, sq, key, errs) < 0)
		goto fail;
	ctx->mod = m;
	ctx->validate = MOD_HAS(m, 2, validate) ? m->validate : NULL;
	if (validate(ctx, api, errs) < 0)
		goto fail;
	return ctx;
fail:
	ctx->mod = NULL;
	hq_module_unload(ctx);
	return NULL;
}

/* A module built into the daemon (attached processes): no file, no
 * dlopen, no options; sq may be NULL for a queue made at run time. */
struct httpq_ctx *
hq_module_builtin(const struct httpq_module *m, const char *queue_name,
    const struct hq_store_queue *sq, size_t qindex)
{
	struct httpq_ctx *ctx = xcalloc(1, sizeof(*ctx));

	ctx->mod = m;
	ctx->path = xstrdup(m->name);  /* shown as the module: "attach" */
	ctx->queue_name = xstrdup(queue_name);
	ctx->sq = sq;
	ctx->qindex = qindex;
	return ctx;
}

int
hq_module_init(struct httpq_ctx *ctx, const struct httpq_api *api,
    struct hq_errors *errs)
{
	const struct hq_store_queue *sq = ctx->sq;
	char key[64];

	if (ctx->mod->init != NULL && ctx->mod->init(api, ctx, &ctx->state) != 0) {
		/* A run-time queue (attach.c) has no store entry to point at. */
		if (sq != NULL)
			snprintf(key, sizeof(key), "queues[%zu].module", ctx->qindex);
		else
			snprintf(key, sizeof(key), "queue %s", ctx->queue_name);
		hq_errors_add(errs, sq != NULL ? &sq->module_at : NULL, key,
		    "module \"%s\" (%s) refused to start for queue \"%s\" (see its log lines)",
		    ctx->mod->name ? ctx->mod->name :
		    sq != NULL ? sq->module : "?", ctx->path, ctx->queue_name);
		return -1;
	}
	ctx->inited = true;
	return 0;
}

void
hq_module_unload(struct httpq_ctx *ctx)
{
	if (ctx == NULL)
		return;
	if (ctx->inited && ctx->mod && ctx->mod->fini)
		ctx->mod->fini(ctx->state);
	/* Under ASan keep the object mapped so leak reports can name it. */
	if (ctx->dl != NULL && getenv("HTTPQ_NO_DLCLOSE") == NULL)
		dlclose(ctx->dl);
	free(ctx->path);
	free(ctx->queue_name);
	free(ctx);
}

/* --- the instance part of the API table ------------------------------- */

const char *
hq_api_option(httpq_ctx *ctx, const char *key)
{
	for (size_t i = 0; i < ctx->noptions; i++)
		if (strcmp(ctx->options[i].key, key) == 0)
			return ctx->options[i].value;
	return NULL;
}

void
hq_api_log(httpq_ctx *ctx, int level, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	hq_log_about(level, ctx->queue_name, NULL, "module=%s queue=%s: %s",
	    ctx->mod && ctx->mod->name ? ctx->mod->name : "?", ctx->queue_name, msg);
}

const char *
hq_api_queue_name(httpq_ctx *ctx)
{
	return ctx->queue_name;
}

/*
 * The error names the option's key path and points at its value; an option
 * the module misses (absent) points at the queue.
 */
void
hq_api_report(httpq_validation *v, const char *key, const char *fmt, ...)
{
	const struct hq_store_queue *sq;
	const struct hq_origin *at;
	char msg[1024], path[300];
	va_list ap;

	if (v == NULL || fmt == NULL)
		return;
	sq = v->ctx->sq;
	at = &sq->at;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (key == NULL) {
		snprintf(path, sizeof(path), "queues[%zu].options", v->ctx->qindex);
	} else {
		snprintf(path, sizeof(path), "queues[%zu].options.%.200s",
		    v->ctx->qindex, key);
		for (size_t i = 0; i < v->ctx->noptions; i++)
			if (strcmp(v->ctx->options[i].key, key) == 0)
				at = &v->ctx->options[i].at;
	}
	v->nreported++;
	hq_errors_add(v->errs, at, path, "%s", msg);
}

const struct httpq_api hq_api_offline = {
	.size = sizeof(struct httpq_api),
	.minor = HTTPQ_MODULE_ABI_MINOR,
	.option = hq_api_option,
	.log = hq_api_log,
	.queue_name = hq_api_queue_name,
	.report = hq_api_report,
};
