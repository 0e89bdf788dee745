/*
 * audit_hook.c — what of the HTTP traffic goes into the audit trail
 * (store/audit.h; docs/security.md, "Audit trail").
 *
 * Recorded: every routed request that may change something (any method but
 * GET and HEAD), whatever its outcome (a refused or failed attempt too),
 * and every read of patient data: the patient list and search, a patient,
 * the appointment list, an appointment, the message list (it shows
 * patients' addresses and messages), the offer list (its messages' errors
 * may quote an address). Not recorded: other reads, reads answered 304
 * (the caller already had what was asked for), paths
 * that match no route, and reading the audit trail itself (a client paging
 * through it would otherwise never reach its end).
 *
 * The entry is written after the answer was sent, in a write job of its
 * own (db_write waits for the commit, group commit batches it with others).
 * So a change commits before its audit entry: a crash between the two
 * commits loses that entry, never the other way round.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "auth/session.h"
#include "core/log.h"
#include "http/http.h"

/* GET routes whose answers hold patient data. */
static const char *const audited_reads[] = {
    "/api/patients", "/api/patients/{}", "/api/appointments", "/api/appointments/{}",
    "/api/notifications", "/api/offers", NULL,
};

/* Routes recorded under a name of their own, with the account as target:
 * the first action when the answer is a success (2xx), else the second. */
static const struct {
    const char *method, *pattern, *ok, *failed;
} named[] = {
    {"POST", "/api/session", "login", "login_failed"},
    {"DELETE", "/api/session", "logout", "logout_failed"},
    {"POST", "/api/session/password", "password_change", "password_change_failed"},
    {"POST", "/api/setup", "setup", "setup_failed"},
};

static bool audited(const struct route *route)
{
    if (strcmp(route->method, "GET") != 0 && strcmp(route->method, "HEAD") != 0)
        return true;
    for (int i = 0; audited_reads[i]; i++)
        if (strcmp(route->pattern, audited_reads[i]) == 0)
            return true;
    return false;
}

/* Copies s into out, printable ASCII kept and anything else made '?' (the
 * raw query may hold any byte; the entry must stay one line of text). */
static void copy_printable(char *out, size_t len, const char *s)
{
    size_t n = 0;
    for (; s && s[n] && n + 1 < len; n++)
        out[n] = isprint((unsigned char)s[n]) ? s[n] : '?';
    out[n] = '\0';
}

/* Login and first-run setup: the routes where the body names the account. */
static bool names_account(const struct route *route)
{
    return strcmp(route->method, "POST") == 0 &&
           (strcmp(route->pattern, "/api/session") == 0 || strcmp(route->pattern, "/api/setup") == 0);
}

bool http_audit_describe(const req_t *r, const struct route *route, audit_entry *e)
{
    if (!audited(route))
        return false;
    /* Refused before anyone was known (no or bad credentials, a foreign
     * Host or Origin): nothing was done, and recording every such request
     * would let anyone on the network fill the disk with rows that cannot
     * be deleted. Failed logins are recorded (they are throttled). */
    if (r->who.kind == PRINCIPAL_NONE && !(route->roles & AUTH_PUBLIC) &&
        (r->status == 401 || r->status == 403))
        return false;
    if (r->host_refused)
        return false;
    /* A read answered 304 sent nothing the caller did not have already (a
     * screen polling with its ETag): the read that fetched it is recorded. */
    if (r->status == 304 && !strcmp(route->method, "GET")) /* or a HEAD on it */
        return false;
    e->detail[0] = '\0';
    for (size_t i = 0; i < sizeof named / sizeof named[0]; i++) {
        if (strcmp(route->method, named[i].method) != 0 ||
            strcmp(route->pattern, named[i].pattern) != 0)
            continue;
        bool ok = r->status >= 200 && r->status < 300;
        snprintf(e->action, sizeof e->action, "%s", ok ? named[i].ok : named[i].failed);
        /* The account: the username sent (a login, the setup), else the
         * caller's. At most USERNAME_MAX characters: a longer one is no
         * username (and may be a password typed into the wrong field). */
        const char *name = names_account(route)
                               ? json_string_value(json_object_get(r->body, "username"))
                               : NULL;
        if (name)
            name = session_shown_name(name); /* a valid name, or a placeholder */
        bool token = !name && r->who.kind == PRINCIPAL_TOKEN;
        char account[USERNAME_MAX + 1];
        copy_printable(account, sizeof account, name ? name : r->who.name);
        snprintf(e->target, sizeof e->target, "%s:%s", token ? "token" : "user", account);
        return true;
    }
    /* the request's method: a HEAD, served by a GET route, is a HEAD */
    snprintf(e->action, sizeof e->action, "%s %s", r->method ? r->method : route->method,
             route->pattern);

    /* The record kind: the first segment after /api/, singular. */
    const char *kind = strncmp(route->pattern, "/api/", 5) == 0 ? route->pattern + 5
                                                                : route->pattern + 1;
    int klen = (int)strcspn(kind, "/");
    int slen = klen > 1 && kind[klen - 1] == 's' ? klen - 1 : klen;

    if (r->target[0]) { /* named by the handler: a route without {} (the patient link) */
        snprintf(e->target, sizeof e->target, "%s", r->target);
        if (r->created[0])
            snprintf(e->detail, sizeof e->detail, "created %s", r->created);
    } else if (r->params[0][0]) { /* a record: "appointment:ID" */
        snprintf(e->target, sizeof e->target, "%.*s:%s", slen, kind, r->params[0]);
        for (int i = 1; i < HTTP_MAX_PARAMS && r->params[i][0]; i++)
            snprintf(e->target + strlen(e->target), sizeof e->target - strlen(e->target), "/%s",
                     r->params[i]);
        if (r->created[0] && strcmp(r->created, r->params[0]) != 0)
            snprintf(e->detail, sizeof e->detail, "created %s", r->created);
    } else if (r->created[0]) { /* a new record: "patient:ID" */
        snprintf(e->target, sizeof e->target, "%.*s:%s", slen, kind, r->created);
    } else { /* a list, or a singleton: "appointments?doctor_id=..." */
        snprintf(e->target, sizeof e->target, "%.*s%s", klen, kind,
                 r->query && *r->query ? "?" : "");
        size_t used = strlen(e->target);
        copy_printable(e->target + used, sizeof e->target - used, r->query);
    }
    return true;
}

static int64_t wall_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Who and from where: the acting user and the client's address. */
static void who(req_t *r, audit_entry *e)
{
    e->at = wall_ms();
    copy_printable(e->actor, sizeof e->actor, r->actor);
    copy_printable(e->address, sizeof e->address, r->address);
}

void http_audit(req_t *r, const struct route *route)
{
    audit_entry e;
    memset(&e, 0, sizeof e);
    if (!http_audit_describe(r, route, &e))
        return;
    who(r, &e);
    snprintf(e.outcome, sizeof e.outcome, "%d", r->status);
    audit_record(r->app->db, &e); /* logs when it fails */
}

void http_audit_event(req_t *r, const char *action, const char *target, const char *outcome,
                      const char *detail)
{
    audit_entry e;
    memset(&e, 0, sizeof e);
    who(r, &e);
    copy_printable(e.action, sizeof e.action, action);
    copy_printable(e.target, sizeof e.target, target);
    copy_printable(e.outcome, sizeof e.outcome, outcome);
    copy_printable(e.detail, sizeof e.detail, detail);
    audit_record(r->app->db, &e);
}
