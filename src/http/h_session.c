/*
 * h_session.c — logging in and out, and the first-run setup. Thin handlers:
 * validate, call auth/session.c or auth/accounts.c, answer.
 *
 * The cookie: HttpOnly, SameSite=Strict, Path=/, and under TLS Secure with
 * the __Host- prefix (so no other site or path can set it). No Max-Age: it
 * goes when the browser closes, and the box ends the session after 15
 * minutes idle or 12 hours in any case.
 */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "auth/accounts.h"
#include "auth/credentials.h"
#include "auth/session.h"
#include "core/timefmt.h"
#include "http/http.h"
#include "http/render.h"

#define SECRET_MAX 1024 /* bytes of a password in a body */

/* A password field: a JSON string of at most SECRET_MAX bytes, no NUL. The
 * policy (auth/password.h) judges the rest. */
static bool in_secret(json_t *obj, const char *key, char *out, size_t outlen, verr_t *v)
{
    json_t *f = json_object_get(obj, key);
    if (!f) {
        verr_add(v, 400, key, "is required");
        return false;
    }
    if (!json_is_string(f)) {
        verr_add(v, 400, key, "must be a string");
        return false;
    }
    size_t n = json_string_length(f);
    if (n >= outlen) {
        verr_add(v, 422, key, "must be at most %zu bytes", outlen - 1);
        return false;
    }
    if (memchr(json_string_value(f), '\0', n)) {
        verr_add(v, 400, key, "must not contain NUL");
        return false;
    }
    memcpy(out, json_string_value(f), n + 1);
    return true;
}

static json_t *session_json(req_t *r, const char *username, unsigned role, const char *doctor_id,
                            const char *session_id, const char *csrf, int64_t created_at)
{
    const tz_t *tz = http_clinic_tz(r);
    json_t *o = json_pack("{s:b,s:s,s:s,s:s}", "authenticated", true, "kind",
                          r->who.kind == PRINCIPAL_TOKEN ? "token" : "session", "username",
                          username, "role", auth_role_name(role));
    if (doctor_id && *doctor_id)
        json_object_set_new(o, "doctor_id", json_string(doctor_id));
    if (session_id && *session_id) {
        json_object_set_new(o, "session_id", json_string(session_id));
        json_object_set_new(o, "csrf_token", json_string(csrf));
        json_object_set_new(o, "expires_at", render_time(tz, created_at + SESSION_MAX_SECONDS));
        json_object_set_new(o, "idle_timeout_seconds", json_integer(SESSION_IDLE_SECONDS));
    }
    return o;
}

static void set_cookie_header(req_t *r, char *out, size_t len, const char *value, bool clear)
{
    snprintf(out, len, "Set-Cookie: %s=%s; Path=/; HttpOnly; SameSite=Strict%s%s\r\n",
             http_cookie_name(r), value, r->tls ? "; Secure" : "",
             clear ? "; Max-Age=0" : "");
}

void h_session_get(req_t *r)
{
    if (r->who.kind == PRINCIPAL_NONE) {
        /* Why not: an expired session says so (the UI tells the user). */
        struct credentials cred;
        cred_parse(NULL, mg_get_header(r->conn, "Cookie"), http_cookie_name(r), &cred);
        bool had = cred.kind != CRED_NONE;
        sodium_memzero(&cred, sizeof cred);
        http_json(r, 200,
                  json_pack("{s:b,s:b,s:b}", "authenticated", false, "session_ended", had,
                            "setup_required", acct_setup_open(r->app)));
        return;
    }
    http_json(r, 200, session_json(r, r->who.name, r->who.role, r->who.doctor_id,
                                   r->who.session_id, r->who.csrf, r->who.created_at));
}

/* Answers 201 with the new session and its cookie. */
static void logged_in(req_t *r, const session_rec *s, const char *secret)
{
    char cookie[200];
    set_cookie_header(r, cookie, sizeof cookie, secret, false);
    r->who.kind = PRINCIPAL_USER;
    http_json_headers(r, 201,
                      session_json(r, s->user.username, s->user.role, s->user.doctor_id, s->id,
                                   s->csrf, s->created_at),
                      cookie);
    sodium_memzero(cookie, sizeof cookie);
}

static bool read_login(req_t *r, char *username, size_t ulen, char *password, size_t plen)
{
    static const char *const allowed[] = {"username", "password", NULL};
    verr_t v;
    verr_init(&v);
    in_only(r->body, allowed, &v);
    in_string(r->body, "username", true, 64, username, ulen, &v);
    in_secret(r->body, "password", password, plen, &v);
    return !http_verr_answer(r, &v);
}

void h_session_login(req_t *r)
{
    char username[64 * 4 + 1], password[SECRET_MAX + 1], secret[TOKEN_LEN];
    session_rec s;
    svc_err e = {0};
    if (!read_login(r, username, sizeof username, password, sizeof password))
        return;
    const char *ua = mg_get_header(r->conn, "User-Agent");
    int rc = session_login(r->app, username, password, r->address, ua, r->now, secret, &s, &e);
    sodium_memzero(password, sizeof password);
    if (rc != SVC_OK) {
        http_svc_problem(r, &e);
        return;
    }
    snprintf(r->actor, sizeof r->actor, "user:%s", s.user.username);
    logged_in(r, &s, secret);
    sodium_memzero(secret, sizeof secret);
}

void h_session_logout(req_t *r)
{
    svc_err e = {0};
    char cookie[200];
    if (r->who.kind != PRINCIPAL_USER) {
        http_problem(r, 400, "this request was made with an API token, which has no session "
                             "(revoke the token to stop it)", NULL, NULL);
        return;
    }
    if (session_end(r->app, r->who.session_id, &e) != SVC_OK && e.status != SVC_NOT_FOUND) {
        http_svc_problem(r, &e);
        return;
    }
    set_cookie_header(r, cookie, sizeof cookie, "", true);
    http_no_content(r, cookie);
}

void h_session_password(req_t *r)
{
    static const char *const allowed[] = {"current_password", "new_password", NULL};
    char current[SECRET_MAX + 1], fresh[SECRET_MAX + 1], cookie[200];
    verr_t v;
    svc_err e = {0};
    if (r->who.kind != PRINCIPAL_USER) {
        http_problem(r, 400, "an API token has no password", NULL, NULL);
        return;
    }
    verr_init(&v);
    in_only(r->body, allowed, &v);
    in_secret(r->body, "current_password", current, sizeof current, &v);
    in_secret(r->body, "new_password", fresh, sizeof fresh, &v);
    if (http_verr_answer(r, &v))
        goto out;
    /* The current password, checked like a login (throttled, logged). */
    user_rec me;
    char rehashed[PW_HASH_BUF];
    bool rehash;
    if (session_check_password(r->app, r->who.name, current, r->address, r->now, &me, &rehash,
                               rehashed, &e) != SVC_OK) {
        if (e.status == SVC_UNAUTHORIZED) /* the caller is logged in: not a 401 */
            svc_fail(&e, SVC_FORBIDDEN, "current_password", "current_password is wrong");
        http_svc_problem(r, &e);
        goto out;
    }
    struct acct_change ch = {.password = fresh, .disabled = -1};
    user_rec u;
    int ended = 0;
    if (acct_user_change(r->app, r->who.name, &ch, r->now, &u, &ended, &e) != SVC_OK) {
        http_svc_problem(r, &e);
        goto out;
    }
    /* Every session of the user ended, this one too: log in again. */
    set_cookie_header(r, cookie, sizeof cookie, "", true);
    http_no_content(r, cookie);
out:
    sodium_memzero(current, sizeof current);
    sodium_memzero(fresh, sizeof fresh);
}

void h_setup(req_t *r)
{
    char username[64 * 4 + 1], password[SECRET_MAX + 1], secret[TOKEN_LEN];
    svc_err e = {0};
    user_rec u;
    session_rec s;
    if (!acct_setup_open(r->app)) {
        http_problem(r, 404, "there is no first-run setup: the box has an admin (log in)", NULL,
                     NULL);
        return;
    }
    if (!read_login(r, username, sizeof username, password, sizeof password))
        return;
    int rc = acct_user_add(r->app, username, AUTH_ADMIN, NULL, password, true, r->now, &u, &e);
    if (rc == SVC_OK)
        rc = session_login(r->app, username, password, r->address,
                           mg_get_header(r->conn, "User-Agent"), r->now, secret, &s, &e);
    sodium_memzero(password, sizeof password);
    if (rc != SVC_OK) {
        http_svc_problem(r, &e);
        return;
    }
    snprintf(r->actor, sizeof r->actor, "user:%s", u.username);
    logged_in(r, &s, secret);
    sodium_memzero(secret, sizeof secret);
}
