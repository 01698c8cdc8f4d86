/*
 * store_write.c -- replacing a file of the setup store atomically.
 *
 * The new text goes to a hidden temporary file in the same folder (hidden,
 * so the loader never takes it for a drop-in), is flushed to disk, then
 * renamed over the old name, and the folder is flushed so that the rename
 * itself survives a crash.  At every instant the name holds either the
 * whole old text or the whole new one.
 *
 * Also the key/value lists of httpqctl's model of its own drop-in.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "httpq-internal.h"

static int __attribute__((format(printf, 3, 4)))
fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

static char *
dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		return xstrdup(".");
	if (slash == path)
		return xstrdup("/");
	return xstrndup(path, (size_t)(slash - path));
}

char *
hq_store_write_temp(const char *path, const char *text, size_t len, char *err,
    size_t errlen)
{
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	char *dir = dir_of(path), *tmp;
	int fd, e;

	if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
		fail(err, errlen, "cannot create %s: %s", dir, strerror(errno));
		free(dir);
		return NULL;
	}
	tmp = xasprintf("%s/.%s.XXXXXX", dir, base);
	free(dir);
	if ((fd = mkstemp(tmp)) < 0) {
		fail(err, errlen, "cannot create a file beside %s: %s", path,
		    strerror(errno));
		free(tmp);
		return NULL;
	}
	if (fchmod(fd, 0644) < 0 || hq_write_all(fd, text, len, NULL) < 0 || fsync(fd) < 0) {
		e = errno;
		close(fd);
		unlink(tmp);
		fail(err, errlen, "cannot write %s: %s", tmp, strerror(e));
		free(tmp);
		return NULL;
	}
	if (close(fd) < 0) {
		e = errno;
		unlink(tmp);
		fail(err, errlen, "cannot write %s: %s", tmp, strerror(e));
		free(tmp);
		return NULL;
	}
	return tmp;
}

int
hq_store_write_commit(const char *tmp, const char *path, char *err, size_t errlen)
{
	char *dir = dir_of(path);
	int fd, rc = 0;

	if (rename(tmp, path) < 0) {
		rc = fail(err, errlen, "cannot rename %s to %s: %s", tmp, path,
		    strerror(errno));
		unlink(tmp);
	} else if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
	    fsync(fd) < 0) {
		rc = fail(err, errlen, "cannot flush folder %s: %s", dir,
		    strerror(errno));
		if (fd >= 0)
			close(fd);
	} else {
		close(fd);
	}
	free(dir);
	return rc;
}

int
hq_store_write(const char *path, const char *text, size_t len, char *err,
    size_t errlen)
{
	char *tmp = hq_store_write_temp(path, text, len, err, errlen);
	int rc;

	if (tmp == NULL)
		return -1;
	rc = hq_store_write_commit(tmp, path, err, errlen);
	free(tmp);
	return rc;
}

void
hq_kvlist_set(struct hq_kvlist *m, const char *k, const char *v)
{
	for (size_t i = 0; i < m->n; i++)
		if (strcmp(m->k[i], k) == 0) {
			free(m->v[i]);
			m->v[i] = xstrdup(v);
			return;
		}
	if (m->n == m->cap) {
		m->cap = m->cap ? 2 * m->cap : 8;
		m->k = xrealloc(m->k, m->cap * sizeof(*m->k));
		m->v = xrealloc(m->v, m->cap * sizeof(*m->v));
	}
	m->k[m->n] = xstrdup(k);
	m->v[m->n++] = xstrdup(v);
}

const char *
hq_kvlist_get(const struct hq_kvlist *m, const char *k)
{
	for (size_t i = 0; i < m->n; i++)
		if (strcmp(m->k[i], k) == 0)
			return m->v[i];
	return NULL;
}

void
hq_kvlist_free(struct hq_kvlist *m)
{
	for (size_t i = 0; i < m->n; i++) {
		free(m->k[i]);
		free(m->v[i]);
	}
	free(m->k);
	free(m->v);
	memset(m, 0, sizeof(*m));
}
