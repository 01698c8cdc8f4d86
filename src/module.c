/*
 * module.c -- loading handler modules.
 *
 * The ABI word is checked before any other symbol is used; a failed init
 * unwinds fully (Redis moduleLoad).  dlopen(RTLD_NOW | RTLD_LOCAL) so that a
 * missing symbol is reported at load, not at the first request, and two
 * modules cannot see each other's symbols.
 */
#include "config.h"

#include <dlfcn.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "httpqd.h"

static char *
module_file(const char *name, const char *module_path)
{
	if (strchr(name, '/') != NULL)
		return xstrdup(name);
	if (strlen(name) > 3 && strcmp(name + strlen(name) - 3, ".so") == 0)
		return xasprintf("%s/%s", module_path, name);
	return xasprintf("%s/%s.so", module_path, name);
}

static int
check_abi(const struct httpq_module *m, const char *path,
    const struct hq_store_queue *sq, const char *key, struct hq_errors *errs)
{
	unsigned major = m->abi >> 16, minor = m->abi & 0xffff;

	if (major == HTTPQ_MODULE_ABI_MAJOR && minor <= HTTPQ_MODULE_ABI_MINOR &&
	    m->handle != NULL)
		return 0;
	if (m->handle == NULL)
		hq_errors_add(errs, &sq->module_at, key,
		    "%s: module has no handle() callback", path);
	else
		hq_errors_add(errs, &sq->module_at, key,
		    "%s: built for ABI %u.%u, httpqd provides %u.%u: rebuild the module",
		    path, major, minor, HTTPQ_MODULE_ABI_MAJOR, HTTPQ_MODULE_ABI_MINOR);
	return -1;
}

struct httpq_ctx *
hq_module_load(const char *name, const char *module_path,
    const struct hq_store_queue *sq, const char *key, bool init,
    struct hq_errors *errs)
{
	struct httpq_ctx *ctx = xcalloc(1, sizeof(*ctx));
	const struct httpq_module *m;

	ctx->path = module_file(name, module_path);
	ctx->queue_name = xstrdup(sq->name);
	ctx->options = sq->options;
	ctx->noptions = sq->noptions;
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
	if (check_abi(m, ctx->path, sq, key, errs) < 0)
		goto fail;
	ctx->mod = m;
	if (init && m->init != NULL) {
		if (m->init(&hq_api, ctx, &ctx->state) != 0) {
			hq_errors_add(errs, &sq->module_at, key,
			    "module \"%s\" (%s) refused to start for queue \"%s\" (see its log lines)",
			    m->name ? m->name : name, ctx->path, sq->name);
			goto fail;
		}
	}
	ctx->inited = init;
	return ctx;
fail:
	ctx->mod = NULL;
	hq_module_unload(ctx);
	return NULL;
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
