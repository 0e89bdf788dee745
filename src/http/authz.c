/* authz.c — see authz.h. */
#include "http/authz.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "auth/credentials.h"
#include "auth/session.h"
#include "core/log.h"
#include "http/hostcheck.h"
#include "store/store.h"

#define CSRF_HEADER "X-CSRF-Token"

const char *http_cookie_name(const req_t *r)
{
    return r->tls ? "__Host-clinicbox" : "clinicbox_session";
}

/* Refusals come before the body is read. A body of up to HTTP_MAX_BODY is
 * read and dropped first, so that a client still sending it gets the answer
 * rather than a reset; otherwise (chunked, too big, too slow) the
 * connection closes after the answer (what is left must not be read as the
 * next request). */
static int refuse(req_t *r, int status, const char *detail, const char *extra)
{
    const struct mg_request_info *ri = mg_get_request_info(r->conn);
    if ((ri->content_length > 0 || mg_get_header(r->conn, "Transfer-Encoding")) &&
        !http_drain_body(r))
        r->close = true;
    http_problem_headers(r, status, detail, extra);
    return status;
}

bool authz_host_ok(req_t *r)
{
    const char *host = mg_get_header(r->conn, "Host");
    if (!hostcheck_host_ok(host)) {
        r->host_refused = true;
        refuse(r, 403,
               "the Host header does not name this box (add the name to the hostnames setting)",
               NULL);
        return false;
    }
    if (!hostcheck_origin_ok(mg_get_header(r->conn, "Origin"), host, r->tls)) {
        r->host_refused = true;
        refuse(r, 403, "the request comes from a page of another origin (Origin header)", NULL);
        return false;
    }
    return true;
}

/* A request the UI makes by itself (polling for changes), not for a user's
 * action: "Clinicbox-Background: 1". It is served as any other, but does
 * not count as the session's last request (docs/security.md, "Sessions"). */
static bool background(req_t *r)
{
    const char *v = mg_get_header(r->conn, SESSION_BACKGROUND_HEADER);
    return v && strcmp(v, "1") == 0;
}

/* Credentials: an Authorization header (Bearer only), else the cookie. */
static enum auth_result identify(req_t *r, bool *presented, bool *by_cookie)
{
    struct credentials cred;
    cred_parse(mg_get_header(r->conn, "Authorization"), mg_get_header(r->conn, "Cookie"),
               http_cookie_name(r), &cred);
    *presented = cred.kind != CRED_NONE;
    *by_cookie = cred.kind == CRED_COOKIE ||
                 (cred.kind == CRED_MALFORMED && !mg_get_header(r->conn, "Authorization"));
    enum auth_result res = AUTH_RESULT_UNKNOWN;
    if (cred.kind == CRED_BEARER)
        res = token_authenticate(r->app, cred.secret, r->now, &r->who);
    else if (cred.kind == CRED_COOKIE)
        res = session_authenticate(r->app, cred.secret, r->now, !background(r), &r->who);
    sodium_memzero(&cred, sizeof cred);
    return res;
}

/* For a doctor: does the route's {} belong to them? */
static bool in_scope(req_t *r, enum auth_scope scope)
{
    if (r->who.role != AUTH_DOCTOR || scope == SCOPE_NONE)
        return true;
    if (scope == SCOPE_DOCTOR)
        return strcmp(r->params[0], r->who.doctor_id) == 0;
    db_conn_t *c = db_reader(r->app->db);
    if (!c)
        return false;
    bool ok = false;
    if (scope == SCOPE_APPOINTMENT) {
        appt_rec a;
        int rc = store_appt_get(c, r->params[0], &a);
        /* an unknown id goes on to the handler's 404 */
        ok = rc == STORE_NOT_FOUND || (rc == STORE_OK && strcmp(a.doctor_id, r->who.doctor_id) == 0);
    } else if (scope == SCOPE_PATIENT) {
        bool has = false;
        ok = store_appt_patient_sees_doctor(c, r->params[0], r->who.doctor_id, &has) == STORE_OK &&
             has;
    }
    db_reader_release(r->app->db, c);
    return ok;
}

static bool is_change(const char *method)
{
    return strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0;
}

int authz_request(req_t *r, const struct route *route)
{
    bool presented, by_cookie;
    enum auth_result res = identify(r, &presented, &by_cookie);
    if (res != AUTH_RESULT_OK)
        memset(&r->who, 0, sizeof r->who);
    if (res == AUTH_RESULT_UNAVAILABLE)
        return refuse(r, 503, "storage is unavailable", NULL);
    switch (r->who.kind) {
    case PRINCIPAL_USER: snprintf(r->actor, sizeof r->actor, "user:%s", r->who.name); break;
    case PRINCIPAL_TOKEN: snprintf(r->actor, sizeof r->actor, "token:%s", r->who.name); break;
    default: snprintf(r->actor, sizeof r->actor, "anonymous"); break;
    }
    if (route->roles & AUTH_PUBLIC)
        return 0; /* credentials optional, and not what such a route acts on */
    if (r->who.kind == PRINCIPAL_NONE) {
        const char *detail =
            res == AUTH_RESULT_EXPIRED ? "the session has expired: log in again"
            : res == AUTH_RESULT_DISABLED ? "the account is disabled"
            : presented && !by_cookie ? "the API token is not valid (revoked or mistyped)"
            : presented ? "the session has ended: log in again"
                        : "log in first (POST /api/session), or send an API token";
        return refuse(r, 401, detail, "WWW-Authenticate: Bearer realm=\"clinicbox\"\r\n");
    }
    if (!(route->roles & r->who.role)) {
        char detail[160];
        snprintf(detail, sizeof detail, "the %s role may not do this",
                 auth_role_name(r->who.role));
        return refuse(r, 403, detail, NULL);
    }
    if (!in_scope(r, route->scope))
        return refuse(r, 403, "a doctor may do this only for their own records", NULL);
    if (by_cookie && r->who.kind == PRINCIPAL_USER && is_change(r->method)) {
        const char *sent = mg_get_header(r->conn, CSRF_HEADER);
        size_t n = strlen(r->who.csrf);
        if (!sent || strlen(sent) != n || sodium_memcmp(sent, r->who.csrf, n) != 0)
            return refuse(r, 403,
                          "a change made with the session cookie needs the session's CSRF "
                          "token in the X-CSRF-Token header (GET /api/session gives it)",
                          NULL);
    }
    return 0;
}
