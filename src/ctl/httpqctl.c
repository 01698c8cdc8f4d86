/*
 * httpqctl.c -- the administrator's tool, in the spirit of `netsh http`.
 *
 * Shows go to httpqd over its control socket, or, with the daemon down, are
 * read from the files (and httpqctl says so).  add, delete and set change
 * only httpqctl's own drop-in, conf.d/99-httpqctl.yaml: the whole store is
 * validated with the change first (nothing is written if it would be
 * invalid), the drop-in is replaced atomically, then the daemon reloads.
 * A human's file is never rewritten; deleting what one defines is refused
 * with its FILE:LINE.  The store changed is the one the daemon behind the
 * socket runs (it says so: `show store`), so that -s alone is enough.
 *
 * Exit codes: 0 ok, 1 refused or invalid, 2 usage, 3 daemon unreachable.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "httpq-internal.h"
#include "hqshared.h"
#include "store_yaml.h"

#define EXIT_REFUSED     1
#define EXIT_USAGE       2
#define EXIT_UNREACHABLE 3
#define HQ_CTL_CLIENT_TIMEOUT_S 60    /* a reload loads modules */

static struct {
	const char *store;            /* -c, else the daemon's, else the default */
	bool store_given;             /* -c */
	const char *socket;           /* -s, else control.socket of the store */
	const char *moddir;           /* -M, else server.module_path (for -t) */
	bool json;
} O = { .store = HQ_DEFAULT_CONFIG_FILE };

/* "[key=F] [key=a|b]..." of a section's keys that are not required and
 * name no entry, from the key table, wrapped after indent. */
static void
optional_keys(FILE *f, const char *section, const char *indent, size_t col)
{
	struct hq_keyinfo ki;

	for (size_t i = 0; hq_store_key_at(section, i, &ki); i++) {
		char *w = NULL;
		size_t len = 0;
		FILE *m;

		if (ki.required || ki.selects || !ki.scalar)
			continue;
		m = open_memstream(&w, &len);
		fprintf(m, " [%s=", ki.name);
		if (ki.file)
			fputs("F", m);
		else if (ki.boolean)
			fputs("yes|no", m);
		else if (ki.words)
			for (size_t j = 0; ki.words[j]; j++)
				fprintf(m, "%s%s", j ? "|" : "", ki.words[j]);
		else
			fputs("V", m);
		fputs("]", m);
		fclose(m);
		if (col + len > 78) {
			fprintf(f, "\n%s", indent);
			col = strlen(indent);
		}
		fputs(w, f);
		col += len;
		free(w);
	}
	fputc('\n', f);
}

static void
usage(FILE *f)
{
	struct hq_keyinfo ki;

	fprintf(f,
	    "usage: httpqctl [-s socket] [-c file] [--json] COMMAND...\n"
	    "       httpqctl [-c file] [-M moddir] -t\n"
	    "commands:\n"
	    "  show servicestate | urlacl [url=P] | sslcert [ipport=|hostnameport=]\n"
	    "  show iplisten | timeout | store | stats | queue NAME | route URL\n"
	    "  top [--once | -n ITERATIONS] [-d SECONDS]   live rates, as varnishstat\n"
	    "  add urlacl url=PREFIX [user=U] [group=G] [listen=yes|no] [delegate=yes|no]\n"
	    "  delete urlacl url=PREFIX\n"
	    "  add sslcert ipport=IP:PORT|hostnameport=NAME:PORT certfile=F keyfile=F\n"
	    "             ");
	optional_keys(f, "sslcerts", "             ", 13);
	fprintf(f,
	    "  delete sslcert ipport=IP:PORT|hostnameport=NAME:PORT\n"
	    "  add iplisten ipaddress=IP[:PORT]    delete iplisten ipaddress=IP[:PORT]\n"
	    "  set urlgroup NAME state=enabled|disabled\n"
	    "  set timeout NAME=SECONDS...  NAME:");
	for (size_t i = 0, col = 36; hq_store_key_at("timeouts", i, &ki); i++) {
		fputs(i ? "," : "", f);
		if (col + strlen(ki.name) + 2 > 78) {
			fputs("\n                              ", f);
			col = 30;
		}
		fprintf(f, " %s", ki.name);
		col += strlen(ki.name) + 2;
	}
	fprintf(f, "\n"
	    "  show cachestate [url=URL]\n"
	    "  delete cache [url=URL] [recursive=yes|no]   (also: flush cache ...)\n"
	    "  reload | flush logbuffer\n"
	    "  -c file   setup store (default %s)\n"
	    "            (a change goes to the running daemon's store, as it says)\n"
	    "  -s socket control socket (default: control.socket of the store)\n"
	    "  -t        validate the store and its modules and exit, like httpqd -t\n"
	    "  -M moddir module folder for -t, overriding server.module_path\n"
	    "  --json    JSON output for scripts\n"
	    "exit: 0 ok, 1 refused or invalid, 2 usage, 3 httpqd unreachable\n",
	    HQ_DEFAULT_CONFIG_FILE);
}

/* A message on stderr, escaped as all text output is (a file name with a
 * newline stays on its line). */
static void __attribute__((format(printf, 1, 2)))
say(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		hq_fatal("vasprintf: out of memory");
	va_end(ap);
	fputs("httpqctl: ", stderr);
	hq_ctl_put_text(stderr, s);
	fputc('\n', stderr);
	free(s);
}

/* ---------------------------------------------------------------------
 * Talking to httpqd
 * ------------------------------------------------------------------- */

/* Did connect() fail because no daemon runs there?  Anything else
 * (EACCES, ENOTSOCK...) is reported as it is, never as "not running". */
static bool
not_running(int err)
{
	return err == ENOENT || err == ECONNREFUSED;
}

/* A connected socket, or -1 with the errno in *err. */
static int
connect_daemon(const char *path, int *err)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct timeval tv = { HQ_CTL_CLIENT_TIMEOUT_S, 0 };
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		*err = ENAMETOOLONG;
		return -1;
	}
	strcpy(sun.sun_path, path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		*err = errno;
		if (fd >= 0)
			close(fd);
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	return fd;
}

/*
 * Sends one command, prints the data lines to out (as text, escaped by
 * httpqd) and returns the status: 0, an ERR code, or -1 if the connection
 * broke.  msg: the status text, unescaped.
 */
static int
ask(int fd, const char *line, FILE *out, char *msg, size_t msglen)
{
	FILE *in;
	char *buf = NULL;
	size_t cap = 0;
	ssize_t n;
	int code = -1;

	/* A refused peer is answered at once and closed: the write may fail,
	 * the answer is still there to read. */
	if (hq_write_all(fd, line, strlen(line), NULL) < 0)
		snprintf(msg, msglen, "cannot send: %s", strerror(errno));
	else
		snprintf(msg, msglen, "httpqd closed the connection without an "
		    "answer");
	shutdown(fd, SHUT_WR);
	in = fdopen(fd, "r");
	while ((n = getline(&buf, &cap, in)) > 0) {
		const char *text;

		if (buf[n - 1] == '\n')
			buf[--n] = '\0';
		if ((code = hq_ctl_is_status(buf, &text)) >= 0) {
			char *raw = hq_ctl_unescape(text);

			snprintf(msg, msglen, "%s", raw ? raw : text);
			free(raw);
			break;
		}
		fprintf(out, "%s\n", hq_ctl_unframe(buf));
	}
	free(buf);
	fclose(in);
	return code;
}

/* What the daemon's status means for our exit code. */
static int
status_exit(int code, const char *msg)
{
	if (code == 0)
		return 0;
	if (code < 0) {
		say("%s", msg);
		return EXIT_UNREACHABLE;
	}
	say("%s", msg);
	return code == HQ_CTL_USAGE ? EXIT_USAGE : EXIT_REFUSED;
}

/* ---------------------------------------------------------------------
 * The files
 * ------------------------------------------------------------------- */

static struct hq_store *
load_store(bool quiet)
{
	struct hq_errors errs = { 0 };
	struct hq_store *s = hq_store_load(O.store, &errs);

	if (s != NULL && hq_sslbind_check_all(s, &errs) != 0) {
		hq_store_free(s);
		s = NULL;
	}
	if (s == NULL && !quiet) {
		hq_errors_print(&errs, stderr);
		say("%s: invalid (%zu error%s)", O.store, errs.total,
		    errs.total == 1 ? "" : "s");
	}
	hq_errors_free(&errs);
	return s;
}

static char *
dropin_path(void)
{
	char *dir = hq_store_dropin_dir(O.store);
	char *p = xasprintf("%s/%s", dir, HQ_CTL_DROPIN);

	free(dir);
	return p;
}

/* The socket: -s, else control.socket of a store that loads. */
static const char *
socket_path(void)
{
	static char *path;
	struct hq_errors errs = { 0 };
	struct hq_store *s;

	if (O.socket != NULL)
		return O.socket;
	if (path != NULL)
		return path;
	s = hq_store_load(O.store, &errs);
	path = xstrdup(s ? s->control.socket : HQ_DEFAULT_CONTROL_SOCKET);
	hq_store_free(s);
	hq_errors_free(&errs);
	return path;
}

/* A module's api->log() during validate(): say who speaks. */
static int
module_log(int prio, const char *msg, const char *queue, const char *group)
{
	fprintf(stderr, "httpqctl: %s\n", msg);
	return 0;
}

/*
 * As httpqd -t does: open every queue's module, check its ABI and run its
 * validate() on the queue's options, never its init().  This runs module
 * code (constructors, validate()) in httpqctl, as httpqd -t does in httpqd.
 */
static int
check_modules(const struct hq_store *s)
{
	const char *moddir = O.moddir ? O.moddir :
	    s->module_path ? s->module_path : HQ_DEFAULT_MODULE_PATH;
	struct hq_errors errs = { 0 };
	size_t n;

	hq_log_set_sink(module_log);
	for (size_t i = 0; i < s->nqueues; i++)
		if (!s->queues[i].attach)
			hq_module_unload(hq_module_load(s->queues[i].module, moddir,
			    &s->queues[i], i, &hq_api_offline, &errs));
	hq_log_set_sink(NULL);
	n = errs.total;
	if (n > 0) {
		hq_errors_print(&errs, stderr);
		say("%s: invalid (%zu error%s)", O.store, n, n == 1 ? "" : "s");
	}
	hq_errors_free(&errs);
	return n == 0 ? 0 : -1;
}

static bool
same_file(const char *a, const char *b)
{
	struct stat sa, sb;

	if (stat(a, &sa) == 0 && stat(b, &sb) == 0)
		return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
	return strcmp(a, b) == 0;
}

/* The store of the daemon at sock, as `show store` says it, or NULL. */
static char *
daemon_store(int fd, const char *sock, int *rc)
{
	char *buf = NULL, *line, *save = NULL, *path = NULL, msg[1024];
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	int code = ask(fd, "show store\n", out, msg, sizeof(msg));

	fclose(out);
	for (line = strtok_r(buf, "\n", &save); code == 0 && line != NULL &&
	    path == NULL; line = strtok_r(NULL, "\n", &save))
		if (strncmp(line, "store ", 6) == 0)
			path = hq_ctl_unescape(line + 6);
	free(buf);
	if (path != NULL)
		return path;
	if (code != 0)
		say("httpqd at %s: %s; nothing written", sock, msg);
	else
		say("httpqd at %s did not say which store it runs; nothing written",
		    sock);
	*rc = code < 0 ? EXIT_UNREACHABLE : EXIT_REFUSED;
	return NULL;
}

/*
 * Which store a change goes to.  A running daemon says which it runs:
 * without -c that one is changed; a -c that names another file is refused,
 * as the change would go where that daemon never reads it.  With no daemon
 * running: -c, or the default.  Returns 0 or an exit code.
 */
static int
pick_store(void)
{
	static char *theirs;
	const char *sock = socket_path();
	int err = 0, rc = EXIT_REFUSED;
	int fd = connect_daemon(sock, &err);

	if (fd < 0 && not_running(err))
		return 0;
	if (fd < 0) {
		say("cannot connect to httpqd at %s: %s; nothing written (is the "
		    "socket yours to use?)", sock, strerror(err));
		return EXIT_UNREACHABLE;
	}
	free(theirs);
	if ((theirs = daemon_store(fd, sock, &rc)) == NULL)
		return rc;
	if (!O.store_given) {
		O.store = theirs;
		return 0;
	}
	if (same_file(O.store, theirs))
		return 0;
	say("httpqd at %s runs the store %s, not %s: nothing written (without "
	    "-c, httpqctl changes the store of the daemon it talks to)", sock,
	    theirs, O.store);
	return EXIT_REFUSED;
}

static int
check_only(void)
{
	struct hq_store *s = load_store(false);
	int rc;

	if (s == NULL)
		return EXIT_REFUSED;
	rc = check_modules(s);
	hq_store_free(s);
	if (rc < 0)
		return EXIT_REFUSED;
	fprintf(stderr, "httpqctl: %s: the store and its modules are valid\n",
	    O.store);
	return 0;
}

/* ---------------------------------------------------------------------
 * httpqctl's drop-in, as a model it rewrites whole
 * ------------------------------------------------------------------- */

struct model {
	struct hq_kvlist *acl, *ssl, *listen, *gst;
	size_t nacl, nssl, nlisten, ngst;
	struct hq_kvlist timeouts;
};

static struct hq_kvlist *
model_add(struct hq_kvlist **list, size_t *n)
{
	*list = xrealloc(*list, (*n + 1) * sizeof(**list));
	memset(&(*list)[*n], 0, sizeof(**list));
	return &(*list)[(*n)++];
}

static void
model_remove(struct hq_kvlist *list, size_t *n, size_t i)
{
	hq_kvlist_free(&list[i]);
	memmove(list + i, list + i + 1, (*n - i - 1) * sizeof(*list));
	(*n)--;
}

static void
model_free(struct model *m)
{
	for (size_t i = 0; i < m->nacl; i++)
		hq_kvlist_free(&m->acl[i]);
	for (size_t i = 0; i < m->nssl; i++)
		hq_kvlist_free(&m->ssl[i]);
	for (size_t i = 0; i < m->nlisten; i++)
		hq_kvlist_free(&m->listen[i]);
	for (size_t i = 0; i < m->ngst; i++)
		hq_kvlist_free(&m->gst[i]);
	free(m->gst);
	free(m->acl);
	free(m->ssl);
	free(m->listen);
	hq_kvlist_free(&m->timeouts);
}

/* A list of flat mappings of scalars (urlacls, sslcerts). */
static int
read_list(const struct hq_ynode *v, struct hq_kvlist **list, size_t *n)
{
	if (hq_ynode_is_null(v))
		return 0;
	if (v->type != HQ_Y_SEQ)
		return -1;
	for (size_t i = 0; i < v->n; i++) {
		const struct hq_ynode *item = v->kid[i];
		struct hq_kvlist *e;

		if (item->type != HQ_Y_MAP)
			return -1;
		e = model_add(list, n);
		for (size_t j = 0; j + 1 < item->n; j += 2) {
			if (item->kid[j + 1]->type != HQ_Y_SCALAR)
				return -1;
			hq_kvlist_set(e, item->kid[j]->str, item->kid[j + 1]->str);
		}
	}
	return 0;
}

/*
 * Reads the drop-in (absent = empty).  The store has already validated it;
 * what is checked here is that it holds only what httpqctl writes, so that
 * rewriting it loses nothing.
 */
static int
model_read(const char *path, struct model *m)
{
	struct hq_errors errs = { 0 };
	struct hq_ynode *root = NULL;
	int rc = 0;

	memset(m, 0, sizeof(*m));
	if (access(path, F_OK) < 0)
		return 0;
	if (hq_yaml_parse_file(path, path, &root, &errs) < 0) {
		hq_errors_print(&errs, stderr);
		hq_errors_free(&errs);
		return -1;
	}
	for (size_t i = 0; root && root->type == HQ_Y_MAP && i + 1 < root->n; i += 2) {
		const char *k = root->kid[i]->str;
		const struct hq_ynode *v = root->kid[i + 1];

		if (strcmp(k, "urlacls") == 0)
			rc |= read_list(v, &m->acl, &m->nacl);
		else if (strcmp(k, "sslcerts") == 0)
			rc |= read_list(v, &m->ssl, &m->nssl);
		else if (strcmp(k, "url_group_states") == 0)
			rc |= read_list(v, &m->gst, &m->ngst);
		else if (strcmp(k, "iplisten") == 0 && v->type == HQ_Y_SEQ)
			for (size_t j = 0; j < v->n; j++)
				hq_kvlist_set(model_add(&m->listen, &m->nlisten),
				    "ipaddress", v->kid[j]->str ? v->kid[j]->str : "");
		else if (strcmp(k, "timeouts") == 0 && v->type == HQ_Y_MAP)
			for (size_t j = 0; j + 1 < v->n; j += 2)
				hq_kvlist_set(&m->timeouts, v->kid[j]->str,
				    v->kid[j + 1]->str ? v->kid[j + 1]->str : "");
		else if (!hq_ynode_is_null(v))
			rc = -1;
	}
	if (root != NULL && root->type != HQ_Y_MAP)
		rc = -1;
	if (rc != 0)
		say("%s is httpqctl's own file but holds more than it writes; "
		    "move that to another file of conf.d first", path);
	hq_ynode_free(root);
	return rc;
}

static void
yaml_str(FILE *f, const char *s)
{
	/* JSON strings are YAML double-quoted scalars. */
	hq_json_str(f, s);
}

static void
write_list(FILE *f, const char *key, const struct hq_kvlist *list, size_t n)
{
	if (n == 0)
		return;
	fprintf(f, "%s:\n", key);
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < list[i].n; j++) {
			fprintf(f, "%s%s: ", j ? "    " : "  - ", list[i].k[j]);
			yaml_str(f, list[i].v[j]);
			fputc('\n', f);
		}
}

static char *
model_text(const struct model *m, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);

	fprintf(f, "# Written by httpqctl (add, delete, set); do not edit: "
	    "it is rewritten whole.\n# Put your own settings in httpq.yaml or "
	    "another file of conf.d.\n");
	write_list(f, "urlacls", m->acl, m->nacl);
	write_list(f, "sslcerts", m->ssl, m->nssl);
	write_list(f, "url_group_states", m->gst, m->ngst);
	if (m->nlisten > 0) {
		fputs("iplisten:\n", f);
		for (size_t i = 0; i < m->nlisten; i++) {
			fputs("  - ", f);
			yaml_str(f, m->listen[i].v[0]);
			fputc('\n', f);
		}
	}
	if (m->timeouts.n > 0) {
		fputs("timeouts:\n", f);
		for (size_t i = 0; i < m->timeouts.n; i++) {
			fprintf(f, "  %s: ", m->timeouts.k[i]);
			yaml_str(f, m->timeouts.v[i]);
			fputc('\n', f);
		}
	}
	fclose(f);
	return buf;
}

/* ---------------------------------------------------------------------
 * Changes
 * ------------------------------------------------------------------- */

/* The store's own reading of one entry, so that "0.0.0.0:443" and
 * "0.0.0.0:0443" name the same binding. */
static struct hq_store *
parse_entry(const char *yaml_fmt, const char *value, char *err, size_t errlen)
{
	struct hq_errors errs = { 0 };
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct hq_store *s;

	fprintf(f, yaml_fmt, "");
	yaml_str(f, value);
	fputs("\n", f);
	fclose(f);
	s = hq_store_load_string("argument", buf, len, &errs);
	free(buf);
	if (s == NULL && errs.n > 0) {
		/* "argument:2:14: iplisten[0]: expected ..." -> from the key on */
		const char *m = strstr(errs.msg[0], ": ");

		snprintf(err, errlen, "%s", m ? m + 2 : errs.msg[0]);
	}
	hq_errors_free(&errs);
	return s;
}

static bool
same_listen(const struct hq_listen *a, const struct hq_listen *b)
{
	return a->addrlen == b->addrlen && memcmp(&a->addr, &b->addr, a->addrlen) == 0;
}

static bool
same_binding(const struct hq_store_sslcert *a, const struct hq_store_sslcert *b)
{
	if (a->by_host != b->by_host || a->port != b->port)
		return false;
	if (a->by_host)
		return strcmp(a->host, b->host) == 0;
	return a->addrlen == b->addrlen && memcmp(&a->addr, &b->addr, a->addrlen) == 0;
}

/* Refuses to touch an entry that a human's file defines. */
static int
owned(const struct hq_origin *at, const char *dropin, const char *what)
{
	if (strcmp(at->file, dropin) == 0)
		return 0;
	say("%s is defined in %s:%d; httpqctl changes only %s: edit that file "
	    "instead", what, at->file, at->line, dropin);
	return -1;
}

static bool
principal_exists(const char *name, bool group)
{
	char *end;

	strtol(name, &end, 10);
	if (*name != '\0' && *end == '\0')
		return true;
	return group ? getgrnam(name) != NULL : getpwnam(name) != NULL;
}

static int
add_urlacl(const struct hq_ctl_cmd *cmd, struct model *m, const struct hq_store *s)
{
	const char *url = hq_ctl_get(cmd, "url");
	const char *user = hq_ctl_get(cmd, "user"), *group = hq_ctl_get(cmd, "group");
	struct hq_prefix p;
	char err[256];
	struct hq_kvlist *e;
	struct hq_keyinfo ki;
	bool b;

	if (hq_prefix_parse(url, &p, err, sizeof(err)) < 0) {
		say("url: %s", err);
		return -1;
	}
	for (size_t i = 0; i < s->nurlacls; i++)
		if (strcmp(s->urlacls[i].prefix.text, p.text) == 0) {
			say("url: %s is already reserved (%s:%d); delete it first",
			    p.text, s->urlacls[i].at.file, s->urlacls[i].at.line);
			hq_prefix_free(&p);
			return -1;
		}
	if (user == NULL && group == NULL) {
		say("add urlacl: user=, group= or both are needed");
		hq_prefix_free(&p);
		return -1;
	}
	if (user && !principal_exists(user, false)) {
		say("user: no such user \"%s\"", user);
		hq_prefix_free(&p);
		return -1;
	}
	if (group && !principal_exists(group, true)) {
		say("group: no such group \"%s\"", group);
		hq_prefix_free(&p);
		return -1;
	}
	e = model_add(&m->acl, &m->nacl);
	hq_kvlist_set(e, "url", p.text);
	if (user)
		hq_kvlist_set(e, "user", user);
	if (group)
		hq_kvlist_set(e, "group", group);
	/* Booleans are written as YAML writes them, whatever the spelling. */
	for (size_t i = 0; hq_store_key_at("urlacls", i, &ki); i++) {
		const char *v = hq_ctl_get(cmd, ki.name);

		if (ki.boolean && v != NULL && hq_parse_bool(v, &b) == 0)
			hq_kvlist_set(e, ki.name, b ? "true" : "false");
	}
	hq_prefix_free(&p);
	return 0;
}

static int
delete_urlacl(const struct hq_ctl_cmd *cmd, struct model *m, const struct hq_store *s,
    const char *dropin)
{
	struct hq_prefix p;
	char err[256];
	size_t i;

	if (hq_prefix_parse(hq_ctl_get(cmd, "url"), &p, err, sizeof(err)) < 0) {
		say("url: %s", err);
		return -1;
	}
	for (i = 0; i < s->nurlacls && strcmp(s->urlacls[i].prefix.text, p.text); i++)
		;
	if (i == s->nurlacls) {
		say("url: no reservation for %s", p.text);
		hq_prefix_free(&p);
		return -1;
	}
	if (owned(&s->urlacls[i].at, dropin, "this reservation") < 0) {
		hq_prefix_free(&p);
		return -1;
	}
	for (i = 0; i < m->nacl; i++) {
		struct hq_prefix q;

		if (hq_prefix_parse(hq_kvlist_get(&m->acl[i], "url"), &q, err, sizeof(err)) < 0)
			continue;
		if (strcmp(q.text, p.text) == 0) {
			model_remove(m->acl, &m->nacl, i);
			hq_prefix_free(&q);
			break;
		}
		hq_prefix_free(&q);
	}
	hq_prefix_free(&p);
	return 0;
}

/* A relative file name is made absolute: httpqd runs in "/". */
static char *
absolute(const char *file)
{
	char cwd[4096];

	if (file[0] == '/' || getcwd(cwd, sizeof(cwd)) == NULL)
		return xstrdup(file);
	return xasprintf("%s/%s", cwd, file);
}

static int
add_sslcert(const struct hq_ctl_cmd *cmd, struct model *m)
{
	struct hq_kvlist *e = model_add(&m->ssl, &m->nssl);
	struct hq_keyinfo ki;

	/* Every key of an SSL binding, in the key table's order. */
	for (size_t i = 0; hq_store_key_at("sslcerts", i, &ki); i++) {
		const char *v = hq_ctl_get(cmd, ki.name);
		char *abs;

		if (v == NULL)
			continue;
		if (!ki.file) {
			hq_kvlist_set(e, ki.name, v);
			continue;
		}
		abs = absolute(v);
		hq_kvlist_set(e, ki.name, abs);
		free(abs);
	}
	return 0;
}

static const struct hq_store_sslcert *
find_binding(const struct hq_ctl_cmd *cmd, const struct hq_store *s,
    struct hq_store **key)
{
	const char *ip = hq_ctl_get(cmd, "ipport");
	char err[256] = "";

	*key = parse_entry(ip ? "sslcerts:\n  - certfile: x\n    keyfile: x\n"
	    "    ipport: %s" : "sslcerts:\n  - certfile: x\n    keyfile: x\n"
	    "    hostnameport: %s", ip ? ip : hq_ctl_get(cmd, "hostnameport"),
	    err, sizeof(err));
	if (*key == NULL) {
		say("%s", err);
		return NULL;
	}
	for (size_t i = 0; i < s->nsslcerts; i++)
		if (same_binding(&s->sslcerts[i], &(*key)->sslcerts[0]))
			return &s->sslcerts[i];
	say("%s: no SSL binding for %s", ip ? "ipport" : "hostnameport",
	    (*key)->sslcerts[0].text);
	return NULL;
}

static int
delete_sslcert(const struct hq_ctl_cmd *cmd, struct model *m,
    const struct hq_store *s, const char *dropin)
{
	struct hq_store *key = NULL;
	const struct hq_store_sslcert *c = find_binding(cmd, s, &key);
	int rc = -1;

	if (c == NULL || owned(&c->at, dropin, "this SSL binding") < 0)
		goto out;
	for (size_t i = 0; i < m->nssl; i++) {
		const char *t = hq_kvlist_get(&m->ssl[i], c->by_host ? "hostnameport" : "ipport");

		if (t != NULL && strcmp(t, c->text) == 0) {
			model_remove(m->ssl, &m->nssl, i);
			break;
		}
	}
	rc = 0;
out:
	hq_store_free(key);
	return rc;
}

static int
iplisten(const struct hq_ctl_cmd *cmd, struct model *m, const struct hq_store *s,
    const char *dropin, bool add)
{
	const char *text = hq_ctl_get(cmd, "ipaddress");
	char err[256] = "";
	struct hq_store *key = parse_entry("iplisten:\n  - %s", text, err, sizeof(err));
	size_t i;
	int rc = -1;

	if (key == NULL) {
		say("ipaddress: %s", strstr(err, "expected") ? strstr(err, "expected") : err);
		return -1;
	}
	for (i = 0; i < s->nlistens && !same_listen(&s->listens[i], &key->listens[0]); i++)
		;
	if (add && i < s->nlistens) {
		say("ipaddress: %s is already in the IP listen list (%s:%d)", text,
		    s->listens[i].at.file, s->listens[i].at.line);
	} else if (add) {
		hq_kvlist_set(model_add(&m->listen, &m->nlisten), "ipaddress", text);
		rc = 0;
	} else if (i == s->nlistens) {
		say("ipaddress: %s is not in the IP listen list", text);
	} else if (owned(&s->listens[i].at, dropin, "this address") == 0) {
		for (size_t j = 0; j < m->nlisten; j++) {
			struct hq_store *o = parse_entry("iplisten:\n  - %s",
			    m->listen[j].v[0], err, sizeof(err));

			if (o != NULL && same_listen(&o->listens[0], &key->listens[0])) {
				hq_store_free(o);
				model_remove(m->listen, &m->nlisten, j);
				break;
			}
			hq_store_free(o);
		}
		rc = 0;
	}
	hq_store_free(key);
	return rc;
}

static int
set_timeout(const struct hq_ctl_cmd *cmd, struct model *m)
{
	for (size_t i = 0; i < cmd->nkv; i++)
		hq_kvlist_set(&m->timeouts, cmd->kv[i].key, cmd->kv[i].value);
	return 0;
}

/* set urlgroup NAME state=enabled|disabled (http.sys's
 * HttpServerStateProperty), kept in the drop-in over the group's own
 * state: key. */
static int
set_urlgroup(const struct hq_ctl_cmd *cmd, struct model *m, const struct hq_store *s)
{
	const char *state = hq_ctl_get(cmd, "state");
	size_t i;

	for (i = 0; i < s->ngroups && strcmp(s->groups[i].name, cmd->arg) != 0; i++)
		;
	if (i == s->ngroups) {
		say("no url group named \"%s\"", cmd->arg);
		return -1;
	}
	for (i = 0; i < m->ngst; i++)
		if (hq_kvlist_get(&m->gst[i], "name") != NULL &&
		    strcmp(hq_kvlist_get(&m->gst[i], "name"), cmd->arg) == 0)
			break;
	if (i == m->ngst)
		hq_kvlist_set(model_add(&m->gst, &m->ngst), "name", cmd->arg);
	hq_kvlist_set(&m->gst[i], "state", state);
	return 0;
}

static int
apply(const struct hq_ctl_cmd *cmd, struct model *m, const struct hq_store *s,
    const char *dropin)
{
	switch (cmd->id) {
	case HQ_CTL_ADD_URLACL:
		return add_urlacl(cmd, m, s);
	case HQ_CTL_DELETE_URLACL:
		return delete_urlacl(cmd, m, s, dropin);
	case HQ_CTL_ADD_SSLCERT:
		return add_sslcert(cmd, m);
	case HQ_CTL_DELETE_SSLCERT:
		return delete_sslcert(cmd, m, s, dropin);
	case HQ_CTL_ADD_IPLISTEN:
		return iplisten(cmd, m, s, dropin, true);
	case HQ_CTL_DELETE_IPLISTEN:
		return iplisten(cmd, m, s, dropin, false);
	case HQ_CTL_SET_TIMEOUT:
		return set_timeout(cmd, m);
	case HQ_CTL_SET_URLGROUP:
		return set_urlgroup(cmd, m, s);
	default:
		return -1;
	}
}

/* The store with the new drop-in text, validated as httpqd would. */
static int
validate(const char *dropin, const char *text, size_t len)
{
	struct hq_errors errs = { 0 };
	struct hq_store *s = hq_store_load_override(O.store, dropin, text, len, &errs);

	if (s != NULL)
		hq_sslbind_check_all(s, &errs);
	hq_store_free(s);
	if (errs.n == 0)
		return 0;
	hq_errors_print(&errs, stderr);
	say("change refused, nothing written (%zu error%s)", errs.total,
	    errs.total == 1 ? "" : "s");
	hq_errors_free(&errs);
	return -1;
}

/* After a change: reload, or say that it waits for the daemon.  With
 * --json, one object: {"file", "reloaded", "generation", "note"}. */
static int
reload_after(const char *dropin, bool json, const char *note)
{
	char msg[1024];
	int err = 0, fd = connect_daemon(socket_path(), &err), code = -2;
	bool down = fd < 0 && not_running(err);

	if (fd >= 0)
		code = ask(fd, "reload\n", stderr, msg, sizeof(msg));
	else if (!down)
		snprintf(msg, sizeof(msg), "cannot connect to httpqd at %s: %s",
		    socket_path(), strerror(err));
	if (json) {
		fputs("{\"file\":", stdout);
		hq_json_str(stdout, dropin);
		printf(",\"reloaded\":%s,\"generation\":", code == 0 ? "true" : "false");
		if (code == 0 && strncmp(msg, "generation ", 11) == 0)
			hq_ctl_put_text(stdout, msg + 11);
		else
			fputs("null", stdout);
		fputs(",\"note\":", stdout);
		hq_json_str(stdout, down ? "httpqd is not running: the change takes "
		    "effect when it starts" : note);
		fputs("}\n", stdout);
	} else {
		hq_ctl_text_line(stdout, "written to %s", dropin);
		if (note != NULL)
			hq_ctl_text_line(stdout, "note: %s", note);
		if (down)
			hq_ctl_text_line(stdout, "httpqd is not running (%s: %s): the "
			    "change takes effect when it starts", socket_path(),
			    strerror(err));
		else if (code == 0)
			hq_ctl_text_line(stdout, "httpqd reloaded: %s", msg);
	}
	if (down || code == 0)
		return 0;
	say("the change is in %s, but the reload failed: %s", dropin, msg);
	return code < 0 ? EXIT_UNREACHABLE : EXIT_REFUSED;
}

static int
change(const struct hq_ctl_cmd *cmd)
{
	char *dropin, *text = NULL, err[512];
	struct hq_store *s;
	struct model m;
	size_t len = 0;
	int rc;

	if ((rc = pick_store()) != 0)
		return rc;
	rc = EXIT_REFUSED;
	dropin = dropin_path();
	s = load_store(false);
	if (s == NULL) {
		say("fix the store first: nothing written");
		free(dropin);
		return EXIT_REFUSED;
	}
	if (model_read(dropin, &m) < 0)
		goto out;
	if (apply(cmd, &m, s, dropin) < 0)
		goto out;
	text = model_text(&m, &len);
	if (validate(dropin, text, len) < 0)
		goto out;
	if (hq_store_write(dropin, text, len, err, sizeof(err)) < 0) {
		say("%s", err);
		goto out;
	}
	rc = reload_after(dropin, cmd->json, cmd->id == HQ_CTL_ADD_IPLISTEN ||
	    cmd->id == HQ_CTL_DELETE_IPLISTEN ? "the IP listen list takes effect "
	    "when httpqd restarts (as with http.sys)" : NULL);
out:
	model_free(&m);
	free(text);
	hq_store_free(s);
	free(dropin);
	return rc;
}

/* ---------------------------------------------------------------------
 * Shows and daemon commands
 * ------------------------------------------------------------------- */

static bool
shows_from_files(enum hq_ctl_cmd_id id)
{
	return id == HQ_CTL_SHOW_URLACL || id == HQ_CTL_SHOW_SSLCERT ||
	    id == HQ_CTL_SHOW_IPLISTEN || id == HQ_CTL_SHOW_TIMEOUT;
}

static int
show_files(const struct hq_ctl_cmd *cmd, int why)
{
	struct hq_errors errs = { 0 };
	struct hq_store *s = hq_store_load(O.store, &errs);
	const char *ip = hq_ctl_get(cmd, "ipport");

	if (s == NULL) {
		hq_errors_print(&errs, stderr);
		hq_errors_free(&errs);
		say("%s: invalid", O.store);
		return EXIT_REFUSED;
	}
	hq_errors_free(&errs);
	say("httpqd is not running (%s: %s): shown from the files of %s",
	    socket_path(), strerror(why), O.store);
	switch (cmd->id) {
	case HQ_CTL_SHOW_URLACL:
		hq_show_urlacl(stdout, s, hq_ctl_get(cmd, "url"), cmd->json);
		break;
	case HQ_CTL_SHOW_SSLCERT:
		hq_show_sslcert(stdout, s, ip ? ip : hq_ctl_get(cmd, "hostnameport"),
		    cmd->json);
		break;
	case HQ_CTL_SHOW_IPLISTEN:
		hq_show_iplisten(stdout, s, cmd->json);
		break;
	default:
		hq_show_timeout(stdout, s, cmd->json);
		break;
	}
	hq_store_free(s);
	return 0;
}

static int
daemon_command(const struct hq_ctl_cmd *cmd, const char *line)
{
	char msg[1024];
	int err = 0, fd = connect_daemon(socket_path(), &err), code;
	struct hq_prefix p;

	if (cmd->id == HQ_CTL_SHOW_URLACL && hq_ctl_get(cmd, "url") &&
	    hq_prefix_parse(hq_ctl_get(cmd, "url"), &p, msg, sizeof(msg)) < 0) {
		say("url: %s", msg);
		if (fd >= 0)
			close(fd);
		return EXIT_REFUSED;
	} else if (cmd->id == HQ_CTL_SHOW_URLACL && hq_ctl_get(cmd, "url")) {
		hq_prefix_free(&p);
	}
	if (fd < 0 && not_running(err) && shows_from_files(cmd->id))
		return show_files(cmd, err);
	if (fd < 0 && not_running(err)) {
		say("cannot reach httpqd at %s: %s (is it running? -s names "
		    "another socket)", socket_path(), strerror(err));
		return EXIT_UNREACHABLE;
	}
	if (fd < 0) {
		say("cannot connect to httpqd at %s: %s", socket_path(),
		    strerror(err));
		return EXIT_UNREACHABLE;
	}
	code = ask(fd, line, stdout, msg, sizeof(msg));
	if (code == 0 && msg[0] != '\0' && !cmd->json)
		hq_ctl_text_line(stdout, "%s", msg);
	return status_exit(code, msg);
}

/* ---------------------------------------------------------------------
 * top: two readings of `show stats` a period apart, shown as rates
 * ------------------------------------------------------------------- */

#define TOP_VALUES 8

struct top_row {
	char kind;                    /* 'g'roup, 'q'ueue, 'l'istener */
	char name[128], queue[128];
	uint64_t v[TOP_VALUES];
};

struct top_sample {
	uint64_t up_us;
	unsigned conns;
	struct top_row *rows;
	size_t n;
};

static void
top_free(struct top_sample *t)
{
	free(t->rows);
	memset(t, 0, sizeof(*t));
}

/* One reading: 0, or an exit code with the reason said. */
static int
top_take(struct top_sample *t)
{
	char msg[1024], *buf = NULL, *line, *save = NULL;
	size_t len = 0;
	int err = 0, fd = connect_daemon(socket_path(), &err), code;
	FILE *out;

	if (fd < 0) {
		say("cannot reach httpqd at %s: %s", socket_path(), strerror(err));
		return EXIT_UNREACHABLE;
	}
	out = open_memstream(&buf, &len);
	code = ask(fd, "show stats\n", out, msg, sizeof(msg));
	fclose(out);
	if (code != 0) {
		free(buf);
		return status_exit(code, msg);
	}
	top_free(t);
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct top_row r = { 0 };
		unsigned long long v[TOP_VALUES] = { 0 }, up;
		int n = 0;

		if (sscanf(line, "uptime_us %llu connections %u", &up, &t->conns) == 2) {
			t->up_us = up;
			continue;
		}
		if (strncmp(line, "group ", 6) == 0)
			r.kind = 'g', n = sscanf(line + 6, "%127s %127s %llu %llu %llu %llu "
			    "%llu %llu %llu %llu", r.name, r.queue, &v[0], &v[1], &v[2],
			    &v[3], &v[4], &v[5], &v[6], &v[7]) - 2;
		else if (strncmp(line, "queue ", 6) == 0)
			r.kind = 'q', n = sscanf(line + 6, "%127s %llu %llu %llu %llu %llu "
			    "%llu", r.name, &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) - 1;
		else if (strncmp(line, "listener ", 9) == 0)
			r.kind = 'l', n = sscanf(line + 9, "%127s %llu %llu", r.name,
			    &v[0], &v[1]) - 1;
		if (n <= 0)
			continue;
		for (int i = 0; i < TOP_VALUES; i++)
			r.v[i] = v[i];
		t->rows = xrealloc(t->rows, (t->n + 1) * sizeof(*t->rows));
		t->rows[t->n++] = r;
	}
	free(buf);
	return 0;
}

static const struct top_row *
top_find(const struct top_sample *t, const struct top_row *r)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->rows[i].kind == r->kind && strcmp(t->rows[i].name, r->name) == 0)
			return &t->rows[i];
	return NULL;
}

/* The rate of value i of r since the previous reading (0 for a new row). */
static double
top_rate(const struct top_sample *prev, const struct top_row *r, size_t i, double dt)
{
	const struct top_row *p = top_find(prev, r);

	if (p == NULL || dt <= 0 || r->v[i] < p->v[i])
		return 0;
	return (double)(r->v[i] - p->v[i]) / dt;
}

static void
top_show(const struct top_sample *prev, const struct top_sample *now, bool tty)
{
	double dt = (double)(now->up_us - prev->up_us) / 1e6;
	uint64_t up = now->up_us / 1000000;

	if (tty)
		fputs("\033[H\033[2J", stdout);
	printf("httpqd at %s  up %llud %02llu:%02llu:%02llu  connections %u  "
	    "(rates over %.1f s)\n\n", socket_path(), (unsigned long long)up / 86400,
	    (unsigned long long)up / 3600 % 24, (unsigned long long)up / 60 % 60,
	    (unsigned long long)up % 60, now->conns, dt);
	printf("%-20s %-16s %9s %8s %8s %8s %8s %11s %11s %10s\n", "URL GROUP",
	    "QUEUE", "REQ/S", "2XX/S", "4XX/S", "5XX/S", "503/S", "IN B/S",
	    "OUT B/S", "REQUESTS");
	for (size_t i = 0; i < now->n; i++) {
		const struct top_row *r = &now->rows[i];
		double req = 0;
		uint64_t total = 0;

		if (r->kind != 'g')
			continue;
		for (size_t k = 0; k < 5; k++) {
			req += top_rate(prev, r, k, dt);
			total += r->v[k];
		}
		printf("%-20.20s %-16.16s %9.1f %8.1f %8.1f %8.1f %8.1f %11.0f %11.0f %10llu\n",
		    strcmp(r->name, "-") == 0 ? "(no group)" : r->name, r->queue, req,
		    top_rate(prev, r, 1, dt), top_rate(prev, r, 3, dt),
		    top_rate(prev, r, 4, dt), top_rate(prev, r, 5, dt),
		    top_rate(prev, r, 6, dt), top_rate(prev, r, 7, dt),
		    (unsigned long long)total);
	}
	printf("\n%-20s %7s %7s %7s %10s %10s %10s\n", "QUEUE", "DEPTH", "PEAK",
	    "LIMIT", "ARRIVED/S", "REJECT/S", "ARRIVED");
	for (size_t i = 0; i < now->n; i++) {
		const struct top_row *r = &now->rows[i];

		if (r->kind == 'q')
			printf("%-20.20s %7llu %7llu %7llu %10.1f %10.1f %10llu\n", r->name,
			    (unsigned long long)r->v[0], (unsigned long long)r->v[1],
			    (unsigned long long)r->v[2], top_rate(prev, r, 3, dt),
			    top_rate(prev, r, 5, dt), (unsigned long long)r->v[3]);
	}
	printf("\n%-28s %7s %10s %10s\n", "LISTENER", "OPEN", "ACCEPT/S", "ACCEPTED");
	for (size_t i = 0; i < now->n; i++) {
		const struct top_row *r = &now->rows[i];

		if (r->kind == 'l')
			printf("%-28.28s %7llu %10.1f %10llu\n", r->name,
			    (unsigned long long)r->v[0], top_rate(prev, r, 1, dt),
			    (unsigned long long)r->v[1]);
	}
	fflush(stdout);
}

/* httpqctl top [--once | -n N] [-d SECONDS]: N screens (0: until killed). */
static int
top(char **words, size_t n)
{
	struct top_sample a = { 0 }, b = { 0 };
	long iterations = 0;
	double period = 1;
	bool tty = isatty(STDOUT_FILENO);
	int rc;

	for (size_t i = 1; i < n; i++) {
		char *end = NULL;

		if (strcmp(words[i], "--once") == 0) {
			iterations = 1;
		} else if (strcmp(words[i], "-n") == 0 && i + 1 < n) {
			iterations = strtol(words[++i], &end, 10);
			if (*end != '\0' || iterations < 0)
				goto usage;
		} else if (strcmp(words[i], "-d") == 0 && i + 1 < n) {
			period = strtod(words[++i], &end);
			if (*end != '\0' || !(period >= 0.1 && period <= 3600))
				goto usage;
		} else {
			goto usage;
		}
	}
	if ((rc = top_take(&a)) != 0)
		return rc;
	for (long it = 0; iterations == 0 || it < iterations; it++) {
		struct timespec ts = { (time_t)period,
		    (long)((period - (double)(time_t)period) * 1e9) };

		while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
			;
		if ((rc = top_take(&b)) != 0)
			break;
		if (!tty && it > 0)
			putchar('\n');
		top_show(&a, &b, tty);
		top_free(&a);
		a = b;
		memset(&b, 0, sizeof(b));
	}
	top_free(&a);
	top_free(&b);
	return rc;
usage:
	say("usage: httpqctl top [--once | -n ITERATIONS] [-d SECONDS (0.1-3600)]");
	return EXIT_USAGE;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	struct hq_ctl_cmd cmd;
	bool test = false;
	char err[512], *line, **words;
	size_t n = 0;
	int ch, rc;

	signal(SIGPIPE, SIG_IGN);
	while ((ch = getopt_long(argc, argv, "+c:s:M:th", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c': O.store = optarg; O.store_given = true; break;
		case 's': O.socket = optarg; break;
		case 'M': O.moddir = optarg; break;
		case 't': test = true; break;
		case 'j': O.json = true; break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("httpqctl %s\n", PACKAGE_VERSION); return 0;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (test) {
		if (optind != argc) {
			say("-t takes no command");
			return EXIT_USAGE;
		}
		return check_only();
	}
	if (optind == argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[optind], "top") == 0)
		return top(argv + optind, (size_t)(argc - optind));
	/* The words without --json, which goes last, as the daemon reads it. */
	words = xcalloc((size_t)(argc - optind) + 2, sizeof(char *));
	for (int i = optind; i < argc; i++)
		if (strcmp(argv[i], "--json") != 0)
			words[n++] = argv[i];
		else
			O.json = true;
	if (O.json)
		words[n++] = "--json";
	line = hq_ctl_join(words, n);
	rc = hq_ctl_parse_words(words, n, &cmd, err, sizeof(err));
	free(words);
	if (rc != 0) {
		say("%s", err);
		if (rc == HQ_CTL_USAGE)
			fprintf(stderr, "see httpqctl --help\n");
		hq_ctl_cmd_free(&cmd);
		free(line);
		return rc == HQ_CTL_USAGE ? EXIT_USAGE : EXIT_REFUSED;
	}
	if (cmd.admin && cmd.id != HQ_CTL_RELOAD && cmd.id != HQ_CTL_FLUSH_LOGBUFFER &&
	    cmd.id != HQ_CTL_FLUSH_CACHE)
		rc = change(&cmd);
	else
		rc = daemon_command(&cmd, line);
	hq_ctl_cmd_free(&cmd);
	free(line);
	return rc;
}
