/*
 * urlacl.c -- URL reservations (http.sys URL ACLs): may this user register
 * or delegate this URL prefix?
 *
 * http.sys's rules: the namespace is closed by default; the reservation
 * that decides is the one in the same bucket (scheme, host class, host and
 * port all equal) with the longest path at or above the prefix.  There is
 * no inheritance: a nearer reservation that does not name the caller
 * denies even when a broader one would allow.  Registering needs "listen"
 * on it; reserving below it for someone else needs "delegate" on the
 * nearest reservation strictly above (a reservation does not delegate
 * itself).  Root is always allowed, as Administrators are.
 *
 * The same user and group matching decides who may open an attach queue
 * (hq_store_queue_allows).
 */
#include "config.h"

#include <grp.h>
#include <stdio.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>

#include "httpq-internal.h"

static bool
same_bucket(const struct hq_prefix *a, const struct hq_prefix *p)
{
	if (a->https != p->https || a->port != p->port || a->cls != p->cls)
		return false;
	switch (a->cls) {
	case HQ_HOST_EXPLICIT:
		return strcmp(a->host, p->host) == 0;
	case HQ_HOST_IP:
		return a->ip_family == p->ip_family &&
		    memcmp(a->ip, p->ip, a->ip_family == AF_INET ? 4 : 16) == 0;
	default:
		return true;
	}
}

/* Paths end in '/', so a byte prefix is a whole-segment prefix. */
static bool
path_above(const struct hq_prefix *a, const struct hq_prefix *p, bool strict)
{
	if (a->path_len > p->path_len || (strict && a->path_len == p->path_len))
		return false;
	return memcmp(a->path, p->path, a->path_len) == 0;
}

const struct hq_store_urlacl *
hq_urlacl_find(const struct hq_store *s, const struct hq_prefix *p, bool strict)
{
	const struct hq_store_urlacl *best = NULL;

	for (size_t i = 0; i < s->nurlacls; i++) {
		const struct hq_store_urlacl *a = &s->urlacls[i];

		if (a->prefix.text == NULL || !same_bucket(&a->prefix, p) ||
		    !path_above(&a->prefix, p, strict))
			continue;
		if (best == NULL || a->prefix.path_len > best->prefix.path_len)
			best = a;
	}
	return best;
}

/* A name or a decimal id; -1 if neither resolves. */
static long
resolve(const char *name, bool group)
{
	char *end;
	long id = strtol(name, &end, 10);

	if (*name != '\0' && *end == '\0' && id >= 0)
		return id;
	if (group) {
		struct group *gr = getgrnam(name);

		return gr ? (long)gr->gr_gid : -1;
	} else {
		struct passwd *pw = getpwnam(name);

		return pw ? (long)pw->pw_uid : -1;
	}
}

bool
hq_urlacl_names(const struct hq_store_urlacl *a, uid_t uid, const gid_t *gids,
    size_t ngids)
{
	long id;

	if (a->user != NULL && (id = resolve(a->user, false)) >= 0 &&
	    (uid_t)id == uid)
		return true;
	if (a->group == NULL || (id = resolve(a->group, true)) < 0)
		return false;
	for (size_t i = 0; i < ngids; i++)
		if (gids[i] == (gid_t)id)
			return true;
	return false;
}

/* Does name (a user, or a group with group) match uid or one of gids? */
static bool
names(const char *name, bool group, uid_t uid, const gid_t *gids, size_t ngids)
{
	long id;

	if (name == NULL || (id = resolve(name, group)) < 0)
		return false;
	if (!group)
		return (uid_t)id == uid;
	for (size_t i = 0; i < ngids; i++)
		if (gids[i] == (gid_t)id)
			return true;
	return false;
}

bool
hq_store_queue_allows(const struct hq_store_queue *q, uid_t uid, const gid_t *gids,
    size_t ngids, unsigned role)
{
	const unsigned all = HQ_QP_ROLE_WORKER | HQ_QP_ROLE_CONTROLLER;
	bool controller, worker;

	if (!q->attach || role == 0 || (role & ~all) != 0)
		return false;
	if (uid == 0)
		return true;
	controller = names(q->controller_user, false, uid, gids, ngids) ||
	    names(q->controller_group, true, uid, gids, ngids);
	worker = controller || names(q->attach_user, false, uid, gids, ngids) ||
	    names(q->attach_group, true, uid, gids, ngids);
	if ((role & HQ_QP_ROLE_CONTROLLER) && !controller)
		return false;
	return !(role & HQ_QP_ROLE_WORKER) || worker;
}

bool
hq_urlacl_allows(const struct hq_store *s, const struct hq_prefix *p, uid_t uid,
    const gid_t *gids, size_t ngids, bool want_delegate)
{
	const struct hq_store_urlacl *a;

	if (uid == 0)
		return true;
	a = hq_urlacl_find(s, p, want_delegate);
	if (a == NULL || !hq_urlacl_names(a, uid, gids, ngids))
		return false;
	return want_delegate ? a->delegate : a->listen;
}

/*
 * The message of a refused registration (http.sys only says "access
 * denied"): the reservation that is missing, or the one that decides and
 * why it says no, with the httpqctl command that would allow it.
 */
void
hq_urlacl_refusal(const struct hq_store *s, const struct hq_prefix *p, uid_t uid,
    const char *name, const gid_t *gids, size_t ngids, char *buf, size_t len)
{
	const struct hq_store_urlacl *a = hq_urlacl_find(s, p, false);
	char who[128], user[64];

	if (name != NULL) {
		snprintf(who, sizeof(who), "uid %ld (%s)", (long)uid, name);
		snprintf(user, sizeof(user), "%s", name);
	} else {
		snprintf(who, sizeof(who), "uid %ld", (long)uid);
		snprintf(user, sizeof(user), "%ld", (long)uid);
	}
	if (a == NULL) {
		snprintf(buf, len, "no URL reservation for %s covers %s; add one "
		    "with: httpqctl add urlacl url=%s user=%s", who, p->text, p->text,
		    user);
	} else if (!hq_urlacl_names(a, uid, gids, ngids)) {
		snprintf(buf, len, "the URL reservation %s (%s%s%s%s%s, %s:%d) decides "
		    "for %s and names neither %s nor one of its groups; add one with: "
		    "httpqctl add urlacl url=%s user=%s", a->prefix.text,
		    a->user ? "user=" : "", a->user ? a->user : "",
		    a->user && a->group ? " " : "", a->group ? "group=" : "",
		    a->group ? a->group : "", a->at.file ? a->at.file : "?", a->at.line,
		    p->text, who, p->text, user);
	} else {
		snprintf(buf, len, "the URL reservation %s (%s:%d) names %s without "
		    "the listen right; give it with: httpqctl add urlacl url=%s "
		    "user=%s listen=yes", a->prefix.text, a->at.file ? a->at.file : "?",
		    a->at.line, who, a->prefix.text, user);
	}
}
