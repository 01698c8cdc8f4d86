/*
 * ctlproto.c -- the control protocol, shared by httpqd and httpqctl so
 * that the two can never disagree on it.
 *
 * One command per line (at most HQ_CTL_MAX_LINE bytes with its newline):
 *   VERB [NOUN] [ARG] [key=value ...] [--json]
 * Words are separated by blanks; a word may be double-quoted in whole or
 * in part ("a b", key="a b") with \" and \\ inside quotes.  The answer is
 * zero or more data lines, then one status line: "OK[ text]" or
 * "ERR <code> <message>" (1 refused or invalid, 2 usage).  So that no value
 * can end the answer early, httpqd sends data through hq_ctl_frame: a data
 * line that starts with "OK", "ERR" or a backslash gets one more backslash
 * in front, which the client takes off (hq_ctl_unframe), and a value never
 * holds a raw newline, as text output escapes every string it prints
 * (hq_ctl_put_text: \n, \t, \xNN, \\).  `socat - UNIX-CONNECT:...` is
 * still a client.
 *
 * The table below is the grammar: which verb takes which noun, argument
 * and keys.  The keys of the setup store are not spelled here: a command
 * takes the keys of a store section, from the store's key table.  Parsing
 * checks names, shapes and the values that are a few words (booleans,
 * enumerations); values that need the store (a URL prefix, a timeout
 * range) are checked where the store is.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "httpq-internal.h"

#define MAX_WORDS (HQ_CTL_MAX_KV + 4)

/* Which keys of its store section a command takes. */
enum which {
	KEYS_NONE,    /* none: the command has no section */
	KEYS_SELECT,  /* those that name an entry (hq_keyinfo.selects) */
	KEYS_SCALARS, /* every scalar key */
};

struct grammar {
	const char *verb, *noun;
	enum hq_ctl_cmd_id id;
	const char *arg;              /* name of the positional argument, or NULL */
	const char *const keys[3];    /* keys of no store section (NULL-ended); '*': required */
	const char *section;          /* the store section of the keys, or NULL */
	enum which which;
	bool required;                /* the section's required keys are */
	bool admin;                   /* changes something */
};

static const struct grammar grammar[] = {
	{ "show", "servicestate", HQ_CTL_SHOW_SERVICESTATE, NULL, { NULL }, NULL,
	  KEYS_NONE, false, false },
	{ "show", "urlacl", HQ_CTL_SHOW_URLACL, NULL, { NULL }, "urlacls",
	  KEYS_SELECT, false, false },
	{ "show", "sslcert", HQ_CTL_SHOW_SSLCERT, NULL, { NULL }, "sslcerts",
	  KEYS_SELECT, false, false },
	{ "show", "iplisten", HQ_CTL_SHOW_IPLISTEN, NULL, { NULL }, NULL,
	  KEYS_NONE, false, false },
	{ "show", "timeout", HQ_CTL_SHOW_TIMEOUT, NULL, { NULL }, NULL,
	  KEYS_NONE, false, false },
	{ "show", "queue", HQ_CTL_SHOW_QUEUE, "NAME", { NULL }, NULL,
	  KEYS_NONE, false, false },
	{ "show", "route", HQ_CTL_SHOW_ROUTE, "URL", { NULL }, NULL,
	  KEYS_NONE, false, false },
	{ "show", "store", HQ_CTL_SHOW_STORE, NULL, { NULL }, NULL,
	  KEYS_NONE, false, false },
	{ "show", "stats", HQ_CTL_SHOW_STATS, NULL, { NULL }, NULL,
	  KEYS_NONE, false, false },
	{ "add", "urlacl", HQ_CTL_ADD_URLACL, NULL, { NULL }, "urlacls",
	  KEYS_SCALARS, true, true },
	{ "delete", "urlacl", HQ_CTL_DELETE_URLACL, NULL, { NULL }, "urlacls",
	  KEYS_SELECT, true, true },
	{ "add", "sslcert", HQ_CTL_ADD_SSLCERT, NULL, { NULL }, "sslcerts",
	  KEYS_SCALARS, true, true },
	{ "delete", "sslcert", HQ_CTL_DELETE_SSLCERT, NULL, { NULL }, "sslcerts",
	  KEYS_SELECT, false, true },
	{ "add", "iplisten", HQ_CTL_ADD_IPLISTEN, NULL, { "*ipaddress", NULL },
	  NULL, KEYS_NONE, false, true },
	{ "delete", "iplisten", HQ_CTL_DELETE_IPLISTEN, NULL,
	  { "*ipaddress", NULL }, NULL, KEYS_NONE, false, true },
	{ "set", "timeout", HQ_CTL_SET_TIMEOUT, NULL, { NULL }, "timeouts",
	  KEYS_SCALARS, false, true },
	{ "set", "urlgroup", HQ_CTL_SET_URLGROUP, "NAME", { "*state", NULL },
	  "url_group_states", KEYS_NONE, false, true },
	{ "reload", NULL, HQ_CTL_RELOAD, NULL, { NULL }, NULL, KEYS_NONE, false, true },
	{ "flush", "logbuffer", HQ_CTL_FLUSH_LOGBUFFER, NULL, { NULL }, NULL,
	  KEYS_NONE, false, true },
	/* the response cache: netsh http show cachestate [url=] and
	 * delete cache [url=] [recursive=yes|no]; flush cache says the same */
	{ "show", "cachestate", HQ_CTL_SHOW_CACHESTATE, NULL, { "url", NULL },
	  NULL, KEYS_NONE, false, false },
	{ "delete", "cache", HQ_CTL_FLUSH_CACHE, NULL, { "url", "recursive" },
	  NULL, KEYS_NONE, false, true },
	{ "flush", "cache", HQ_CTL_FLUSH_CACHE, NULL, { "url", "recursive" },
	  NULL, KEYS_NONE, false, true },
};
#define NGRAMMAR (sizeof(grammar) / sizeof(grammar[0]))

static int __attribute__((format(printf, 4, 5)))
fail(char *err, size_t errlen, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return code;
}

void
hq_ctl_cmd_free(struct hq_ctl_cmd *cmd)
{
	free(cmd->arg);
	for (size_t i = 0; i < cmd->nkv; i++) {
		free(cmd->kv[i].key);
		free(cmd->kv[i].value);
	}
	memset(cmd, 0, sizeof(*cmd));
}

const char *
hq_ctl_get(const struct hq_ctl_cmd *cmd, const char *key)
{
	for (size_t i = 0; i < cmd->nkv; i++)
		if (strcmp(cmd->kv[i].key, key) == 0)
			return cmd->kv[i].value;
	return NULL;
}

/* Splits line into words; quotes and escapes as in the header comment. */
static int
split(const char *line, size_t len, char **words, size_t *nwords, char *err,
    size_t errlen)
{
	size_t n = 0, i = 0;
	char *w = xmalloc(len + 1);

	*nwords = 0;
	while (i < len) {
		size_t wl = 0;
		bool quoted = false, any = false;

		while (i < len && (line[i] == ' ' || line[i] == '\t'))
			i++;
		for (; i < len && (quoted || (line[i] != ' ' && line[i] != '\t')); i++) {
			unsigned char c = (unsigned char)line[i];

			any = true;
			if (c < 0x20 && c != '\t') {
				free(w);
				return fail(err, errlen, HQ_CTL_USAGE, "control "
				    "character 0x%02x at byte %zu", c, i + 1);
			}
			if (c == '"') {
				quoted = !quoted;
			} else if (quoted && c == '\\' && i + 1 < len &&
			    (line[i + 1] == '"' || line[i + 1] == '\\')) {
				w[wl++] = line[++i];
			} else {
				w[wl++] = (char)c;
			}
		}
		if (quoted) {
			free(w);
			return fail(err, errlen, HQ_CTL_USAGE, "unterminated quote");
		}
		if (!any)
			break;
		if (n == MAX_WORDS) {
			free(w);
			return fail(err, errlen, HQ_CTL_USAGE, "too many words "
			    "(at most %d)", MAX_WORDS);
		}
		words[n++] = xstrndup(w, wl);
		*nwords = n; /* the caller frees them, even after an error */
	}
	free(w);
	*nwords = n;
	return 0;
}

static const struct grammar *
find(const char *verb, const char *noun, bool *verb_known)
{
	*verb_known = false;
	for (size_t i = 0; i < NGRAMMAR; i++) {
		if (strcmp(grammar[i].verb, verb) != 0)
			continue;
		*verb_known = true;
		if (grammar[i].noun == NULL ||
		    (noun != NULL && strcmp(grammar[i].noun, noun) == 0))
			return &grammar[i];
	}
	return NULL;
}

/* "urlacl, sslcert, ..." for a verb, in table order. */
static void
nouns_of(const char *verb, char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < NGRAMMAR && len < size; i++)
		if (strcmp(grammar[i].verb, verb) == 0 && grammar[i].noun)
			len += (size_t)snprintf(buf + len, size - len, "%s%s",
			    len ? ", " : "", grammar[i].noun);
}

/* The i-th key g takes: true with its name and whether it is required. */
static bool
key_of(const struct grammar *g, size_t i, const char **name, bool *required)
{
	struct hq_keyinfo ki;

	for (size_t j = 0; g->keys[j]; j++, i--)
		if (i == 0) {
			*name = g->keys[j] + (g->keys[j][0] == '*');
			*required = g->keys[j][0] == '*';
			return true;
		}
	for (size_t j = 0; g->which != KEYS_NONE &&
	    hq_store_key_at(g->section, j, &ki); j++) {
		if (!ki.scalar || (g->which == KEYS_SELECT && !ki.selects))
			continue;
		if (i-- == 0) {
			*name = ki.name;
			*required = g->required && ki.required;
			return true;
		}
	}
	return false;
}

static bool
key_allowed(const struct grammar *g, const char *key)
{
	const char *name;
	bool required;

	for (size_t i = 0; key_of(g, i, &name, &required); i++)
		if (strcmp(name, key) == 0)
			return true;
	return false;
}

static void
keys_of(const struct grammar *g, char *buf, size_t size)
{
	const char *name;
	bool required;
	size_t len = 0;

	buf[0] = '\0';
	for (size_t i = 0; len < size && key_of(g, i, &name, &required); i++)
		len += (size_t)snprintf(buf + len, size - len, "%s%s",
		    len ? ", " : "", name);
}

/* Checks one key=value word and adds it. */
static int
add_kv(const struct grammar *g, struct hq_ctl_cmd *cmd, const char *word,
    char *err, size_t errlen)
{
	const char *eq = strchr(word, '=');
	char *key;
	char known[256];

	if (eq == NULL || eq == word)
		return fail(err, errlen, HQ_CTL_USAGE, "expected key=value, "
		    "got \"%.64s\"", word);
	key = xstrndup(word, (size_t)(eq - word));
	if (!key_allowed(g, key)) {
		keys_of(g, known, sizeof(known));
		fail(err, errlen, HQ_CTL_USAGE, "%s%s%s: unknown key \"%.64s\" "
		    "(known keys: %s)", g->verb, g->noun ? " " : "",
		    g->noun ? g->noun : "", key, known[0] ? known : "none");
		free(key);
		return HQ_CTL_USAGE;
	}
	if (hq_ctl_get(cmd, key) != NULL) {
		fail(err, errlen, HQ_CTL_USAGE, "%s: given twice", key);
		free(key);
		return HQ_CTL_USAGE;
	}
	/* The key table may grow past what a command holds: refuse, never
	 * write past kv[]. */
	if (cmd->nkv == HQ_CTL_MAX_KV) {
		fail(err, errlen, HQ_CTL_USAGE, "too many keys (at most %d)",
		    HQ_CTL_MAX_KV);
		free(key);
		return HQ_CTL_USAGE;
	}
	if (eq[1] == '\0') {
		fail(err, errlen, HQ_CTL_INVALID, "%s: empty value", key);
		free(key);
		return HQ_CTL_INVALID;
	}
	cmd->kv[cmd->nkv].key = key;
	cmd->kv[cmd->nkv++].value = xstrdup(eq + 1);
	return 0;
}

/*
 * Values that need no store: required keys, the values that are a few
 * words (booleans, enumerations), and one binding key where an entry is
 * named by one of several keys (sslcerts: ipport or hostnameport).
 */
static int
check_values(const struct grammar *g, const struct hq_ctl_cmd *cmd, char *err,
    size_t errlen)
{
	struct hq_keyinfo ki;
	const char *name;
	char expect[96];
	bool required;
	size_t nselect = 0, given = 0;

	for (size_t i = 0; key_of(g, i, &name, &required); i++)
		if (required && hq_ctl_get(cmd, name) == NULL)
			return fail(err, errlen, HQ_CTL_USAGE, "%s %s: missing "
			    "%s=", g->verb, g->noun, name);
	if (g->id == HQ_CTL_FLUSH_CACHE && hq_ctl_get(cmd, "recursive") != NULL &&
	    hq_parse_bool(hq_ctl_get(cmd, "recursive"), &(bool){ false }) < 0)
		return fail(err, errlen, HQ_CTL_INVALID, "recursive: expected yes "
		    "or no, got \"%.64s\"", hq_ctl_get(cmd, "recursive"));
	if (g->id == HQ_CTL_SET_TIMEOUT && cmd->nkv == 0)
		return fail(err, errlen, HQ_CTL_USAGE, "set timeout: expected "
		    "NAME=SECONDS, e.g. header_wait=30");
	for (size_t i = 0; g->section != NULL && i < cmd->nkv; i++)
		if (hq_store_key_check(g->section, cmd->kv[i].key,
		    cmd->kv[i].value, true, expect, sizeof(expect)) < 0)
			return fail(err, errlen, HQ_CTL_INVALID, "%s: expected "
			    "%s, got \"%.64s\"", cmd->kv[i].key, expect,
			    cmd->kv[i].value);
	/* An entry named by several keys takes exactly one of them. */
	for (size_t i = 0; g->section != NULL &&
	    hq_store_key_at(g->section, i, &ki); i++)
		if (ki.selects) {
			nselect++;
			given += hq_ctl_get(cmd, ki.name) != NULL;
		}
	if (nselect > 1 && g->id != HQ_CTL_SHOW_SSLCERT && given != 1)
		return fail(err, errlen, HQ_CTL_USAGE, "%s sslcert: expected "
		    "ipport=IP:PORT or hostnameport=NAME:PORT (one of them)",
		    g->verb);
	return 0;
}

int
hq_ctl_parse_words(char *const *all, size_t nall, struct hq_ctl_cmd *cmd,
    char *err, size_t errlen)
{
	const struct grammar *g;
	char known[160], *words[MAX_WORDS];
	bool verb_known;
	size_t i, n = 0;
	int rc;

	memset(cmd, 0, sizeof(*cmd));
	/* --json may go anywhere; it is not a word of the command. */
	for (i = 0; i < nall; i++) {
		if (strcmp(all[i], "--json") == 0)
			cmd->json = true;
		else if (n == MAX_WORDS)
			return fail(err, errlen, HQ_CTL_USAGE, "too many words "
			    "(at most %d)", MAX_WORDS);
		else
			words[n++] = all[i];
	}
	if (n == 0)
		return fail(err, errlen, HQ_CTL_USAGE, "empty command");
	g = find(words[0], n > 1 ? words[1] : NULL, &verb_known);
	if (!verb_known)
		return fail(err, errlen, HQ_CTL_USAGE, "unknown command \"%.64s\" "
		    "(commands: show, add, delete, set, reload, flush)", words[0]);
	if (g == NULL) {
		nouns_of(words[0], known, sizeof(known));
		if (n < 2)
			return fail(err, errlen, HQ_CTL_USAGE, "%s what? (%s)",
			    words[0], known);
		return fail(err, errlen, HQ_CTL_USAGE, "%s: unknown object "
		    "\"%.64s\" (%s)", words[0], words[1], known);
	}
	/* A show command travels to httpqd as a line (hq_ctl_join), so its
	 * words are checked as a line's are (split): a newline sent raw made
	 * httpqd read one word as two commands.  A change is made by
	 * httpqctl itself and may hold any value (a file name with a newline). */
	for (i = 0; !g->admin && i < n; i++)
		for (const char *c = words[i]; *c; c++)
			if ((unsigned char)*c < 0x20 && *c != '\t')
				return fail(err, errlen, HQ_CTL_USAGE, "control "
				    "character 0x%02x in word %zu", (unsigned char)*c,
				    i + 1);
	cmd->id = g->id;
	cmd->admin = g->admin;
	i = g->noun ? 2 : 1;
	if (g->arg != NULL) {
		if (i >= n || strchr(words[i], '=') != NULL)
			return fail(err, errlen, HQ_CTL_USAGE, "%s %s: missing %s",
			    g->verb, g->noun, g->arg);
		cmd->arg = xstrdup(words[i++]);
	}
	for (; i < n; i++)
		if ((rc = add_kv(g, cmd, words[i], err, errlen)) != 0)
			return rc;
	return check_values(g, cmd, err, errlen);
}

int
hq_ctl_parse(const char *line, size_t len, struct hq_ctl_cmd *cmd, char *err,
    size_t errlen)
{
	char *words[MAX_WORDS] = { NULL };
	size_t n = 0;
	int rc;

	memset(cmd, 0, sizeof(*cmd));
	if (len > 0 && line[len - 1] == '\n')
		len--;
	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (len + 1 > HQ_CTL_MAX_LINE)
		return fail(err, errlen, HQ_CTL_USAGE, "command longer than %d "
		    "bytes", HQ_CTL_MAX_LINE);
	if ((rc = split(line, len, words, &n, err, errlen)) == 0)
		rc = hq_ctl_parse_words(words, n, cmd, err, errlen);
	for (size_t i = 0; i < n; i++)
		free(words[i]);
	if (rc != 0)
		hq_ctl_cmd_free(cmd);
	return rc;
}

/* A word as the line parser reads it back: quoted when it must be (a
 * control character too, that the parser then refuses: a trailing \r
 * would be taken for the line's end). */
static void
put_word(FILE *f, const char *w)
{
	bool plain = *w != '\0';

	for (const char *c = w; *c; c++)
		if (*c == ' ' || *c == '\t' || *c == '"' || *c == '\\' ||
		    (unsigned char)*c < 0x20)
			plain = false;
	if (plain) {
		fputs(w, f);
		return;
	}
	fputc('"', f);
	for (const char *c = w; *c; c++) {
		if (*c == '"' || *c == '\\')
			fputc('\\', f);
		fputc(*c, f);
	}
	fputc('"', f);
}

char *
hq_ctl_join(char **words, size_t n)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	for (size_t i = 0; i < n; i++) {
		if (i)
			fputc(' ', f);
		put_word(f, words[i]);
	}
	fputc('\n', f);
	fclose(f);
	return buf;
}

/* The status line: "OK[ text]\n" or "ERR code message\n", one line, the
 * message escaped as text output is. */
char *
hq_ctl_status(int code, const char *msg)
{
	char *m = hq_ctl_text(msg && *msg ? msg : code ? "failed" : ""), *s;

	if (code == 0)
		s = *m ? xasprintf("OK %s\n", m) : xstrdup("OK\n");
	else
		s = xasprintf("ERR %d %s\n", code, m);
	free(m);
	return s;
}

/* For the client: is this line (without its newline) the status line?
 * Returns -1 if not, else the code (0 for OK) and *msg its text. */
int
hq_ctl_is_status(const char *line, const char **msg)
{
	char *end;
	long code;

	if (strcmp(line, "OK") == 0 || strncmp(line, "OK ", 3) == 0) {
		*msg = line[2] ? line + 3 : "";
		return 0;
	}
	if (strncmp(line, "ERR ", 4) != 0)
		return -1;
	code = strtol(line + 4, &end, 10);
	if (end == line + 4 || code < 1 || code > 99)
		return -1;
	*msg = *end == ' ' ? end + 1 : end;
	return (int)code;
}

/* ---------------------------------------------------------------------
 * Text output and framing
 * ------------------------------------------------------------------- */

/*
 * The one escaper of text output: every string from a store, a file name
 * or a certificate goes through it before it is printed, so that none can
 * break a line, fake a status line or send terminal controls.  Control
 * characters become \n, \r, \t or \xNN (DEL is \x7f), the backslash \\;
 * other bytes, UTF-8 included, stay.  hq_ctl_unescape reads it back.
 */
void
hq_ctl_put_text(FILE *f, const char *s)
{
	for (; s != NULL && *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '\\')
			fputs("\\\\", f);
		else if (c == '\n')
			fputs("\\n", f);
		else if (c == '\r')
			fputs("\\r", f);
		else if (c == '\t')
			fputs("\\t", f);
		else if (c < 0x20 || c == 0x7f)
			fprintf(f, "\\x%02x", c);
		else
			fputc(c, f);
	}
}

char *
hq_ctl_text(const char *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (f == NULL)
		hq_fatal("open_memstream: out of memory");
	hq_ctl_put_text(f, s);
	fclose(f);
	return buf;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The string hq_ctl_put_text escaped, or NULL if s is not such text (a
 * bad escape, or one that would make a NUL). */
char *
hq_ctl_unescape(const char *s)
{
	char *out = xmalloc(strlen(s) + 1), *o = out;

	for (; *s; s++) {
		int hi, lo;

		if (*s != '\\') {
			*o++ = *s;
			continue;
		}
		switch (*++s) {
		case '\\': *o++ = '\\'; break;
		case 'n': *o++ = '\n'; break;
		case 'r': *o++ = '\r'; break;
		case 't': *o++ = '\t'; break;
		case 'x':
			if ((hi = hexval(s[1])) < 0 || (lo = hexval(s[2])) < 0 ||
			    hi * 16 + lo == 0)
				goto bad;
			*o++ = (char)(hi * 16 + lo);
			s += 2;
			break;
		default:
			goto bad;
		}
	}
	*o = '\0';
	return out;
bad:
	free(out);
	return NULL;
}

static void
put_textv(FILE *f, const char *fmt, va_list ap)
{
	char *s;

	if (vasprintf(&s, fmt, ap) < 0)
		hq_fatal("vasprintf: out of memory");
	hq_ctl_put_text(f, s);
	free(s);
	fputc('\n', f);
}

/* One line of text output: the formatted text escaped, then a newline.
 * The format itself must be plain text (no backslash, no control). */
void
hq_ctl_text_line(FILE *f, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	put_textv(f, fmt, ap);
	va_end(ap);
}

/* "  name         value": the layout of show sslcert, queue and route. */
void
hq_ctl_text_field(FILE *f, const char *name, const char *fmt, ...)
{
	va_list ap;

	fprintf(f, "  %-12s ", name);
	va_start(ap, fmt);
	put_textv(f, fmt, ap);
	va_end(ap);
}

/* Would the client take this data line for a status line, or for a line
 * stuffed by hq_ctl_frame? */
static bool
needs_stuffing(const char *line, size_t len)
{
	return (len >= 2 && memcmp(line, "OK", 2) == 0) ||
	    (len >= 3 && memcmp(line, "ERR", 3) == 0) ||
	    (len >= 1 && line[0] == '\\');
}

/*
 * Data lines as sent: each line that could be taken for a status line gets
 * a backslash in front; a control character other than tab that a printer
 * let through becomes \xNN (belt and braces: the printers escape); the last
 * line gets its newline.  Returns the new text, its length in *outlen.
 */
char *
hq_ctl_frame(const char *data, size_t len, size_t *outlen)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, outlen);
	size_t i = 0;

	if (f == NULL)
		hq_fatal("open_memstream: out of memory");
	while (i < len) {
		const char *nl = memchr(data + i, '\n', len - i);
		size_t end = nl ? (size_t)(nl - data) : len;

		if (needs_stuffing(data + i, end - i))
			fputc('\\', f);
		for (; i < end; i++) {
			unsigned char c = (unsigned char)data[i];

			if ((c < 0x20 && c != '\t') || c == 0x7f)
				fprintf(f, "\\x%02x", c);
			else
				fputc(c, f);
		}
		fputc('\n', f);
		i = end + 1;
	}
	fclose(f);
	return buf;
}

/* The client's side: a data line (without its newline) as printed. */
const char *
hq_ctl_unframe(const char *line)
{
	return line[0] == '\\' ? line + 1 : line;
}
