/*
 * h_users.c — what admins manage: users, live sessions, API tokens. Thin
 * handlers over auth/accounts.c and auth/session.c. Secrets never appear in
 * an answer, except a new API token, once, in the answer that made it.
 */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "auth/accounts.h"
#include "auth/session.h"
#include "http/http.h"
#include "http/render.h"

#define SECRET_MAX 1024

static json_t *user_json(const tz_t *tz, const user_rec *u)
{
    json_t *o = json_pack("{s:s,s:s,s:b,s:o,s:o}", "username", u->username, "role",
                          auth_role_name(u->role), "disabled", u->disabled, "created_at",
                          render_time(tz, u->created_at), "updated_at",
                          render_time(tz, u->updated_at));
    if (u->doctor_id[0])
        json_object_set_new(o, "doctor_id", json_string(u->doctor_id));
    return o;
}

struct list {
    json_t *arr;
    const tz_t *tz;
    int64_t now;
};

static void add_user(const user_rec *u, void *arg)
{
    struct list *l = arg;
    json_array_append_new(l->arr, user_json(l->tz, u));
}

void h_user_list(req_t *r)
{
    svc_err e = {0};
    struct list l = {json_array(), http_clinic_tz(r), r->now};
    if (acct_user_list(r->app, add_user, &l, &e) != SVC_OK) {
        json_decref(l.arr);
        http_svc_problem(r, &e);
        return;
    }
    http_json(r, 200, l.arr);
}

/* A password field (see h_session.c): the policy judges the rest. */
static bool in_password(json_t *obj, const char *key, bool required, char *out, size_t outlen,
                        verr_t *v)
{
    json_t *f = json_object_get(obj, key);
    out[0] = '\0';
    if (!f) {
        if (required)
            verr_add(v, 400, key, "is required");
        return false;
    }
    if (!json_is_string(f) || json_string_length(f) >= outlen ||
        memchr(json_string_value(f), '\0', json_string_length(f))) {
        verr_add(v, json_is_string(f) && json_string_length(f) >= outlen ? 422 : 400, key,
                 "must be a string of at most %zu bytes without NUL", outlen - 1);
        return false;
    }
    memcpy(out, json_string_value(f), json_string_length(f) + 1);
    return true;
}

void h_user_create(req_t *r)
{
    static const char *const allowed[] = {"username", "password", "role", "doctor_id", NULL};
    char username[USERNAME_MAX * 4 + 1], password[SECRET_MAX + 1], role_name[32],
        doctor_id[ID_LEN] = "";
    verr_t v;
    svc_err e = {0};
    unsigned role;
    user_rec u;
    verr_init(&v);
    in_only(r->body, allowed, &v);
    in_string(r->body, "username", true, USERNAME_MAX, username, sizeof username, &v);
    in_password(r->body, "password", true, password, sizeof password, &v);
    in_string(r->body, "role", true, 16, role_name, sizeof role_name, &v);
    if (json_object_get(r->body, "doctor_id"))
        in_id(r->body, "doctor_id", false, doctor_id, sizeof doctor_id, &v);
    if (http_verr_answer(r, &v))
        goto out;
    if (acct_role_check(r->app, role_name, doctor_id, &role, &e) ||
        acct_user_add(r->app, username, role, doctor_id, password, false, r->now, &u, &e)) {
        http_svc_problem(r, &e);
        goto out;
    }
    http_json(r, 201, user_json(http_clinic_tz(r), &u));
out:
    sodium_memzero(password, sizeof password);
}

void h_user_change(req_t *r)
{
    static const char *const allowed[] = {"password", "role", "doctor_id", "disabled", NULL};
    char password[SECRET_MAX + 1], role_name[32] = "", doctor_id[ID_LEN] = "";
    verr_t v;
    svc_err e = {0};
    bool disabled = false;
    struct acct_change ch = {.disabled = -1};
    user_rec u;
    verr_init(&v);
    in_only(r->body, allowed, &v);
    if (in_password(r->body, "password", false, password, sizeof password, &v))
        ch.password = password;
    bool has_role = json_object_get(r->body, "role") != NULL;
    if (has_role)
        in_string(r->body, "role", true, 16, role_name, sizeof role_name, &v);
    if (json_object_get(r->body, "doctor_id")) {
        if (!has_role)
            verr_add(&v, 422, "doctor_id", "goes with role");
        in_id(r->body, "doctor_id", false, doctor_id, sizeof doctor_id, &v);
    }
    if (json_object_get(r->body, "disabled") && in_bool(r->body, "disabled", true, &disabled, &v))
        ch.disabled = disabled;
    if (http_verr_answer(r, &v))
        goto out;
    if (has_role && acct_role_check(r->app, role_name, doctor_id, &ch.role, &e)) {
        http_svc_problem(r, &e);
        goto out;
    }
    ch.doctor_id = doctor_id;
    if (acct_user_change(r->app, r->params[0], &ch, r->now, &u, NULL, &e) != SVC_OK) {
        http_svc_problem(r, &e);
        goto out;
    }
    http_json(r, 200, user_json(http_clinic_tz(r), &u));
out:
    sodium_memzero(password, sizeof password);
}

static void add_session(const session_rec *s, void *arg)
{
    struct list *l = arg;
    int64_t idle_end = s->last_seen + SESSION_IDLE_SECONDS,
            max_end = s->created_at + SESSION_MAX_SECONDS;
    json_array_append_new(
        l->arr, json_pack("{s:s,s:s,s:s,s:s,s:s,s:o,s:o,s:o}", "id", s->id, "username",
                          s->user.username, "role", auth_role_name(s->user.role), "address",
                          s->address, "user_agent", s->user_agent, "created_at",
                          render_time(l->tz, s->created_at), "last_seen",
                          render_time(l->tz, s->last_seen), "expires_at",
                          render_time(l->tz, idle_end < max_end ? idle_end : max_end)));
}

void h_sessions_list(req_t *r)
{
    svc_err e = {0};
    struct list l = {json_array(), http_clinic_tz(r), r->now};
    if (session_list(r->app, r->now, add_session, &l, &e) != SVC_OK) {
        json_decref(l.arr);
        http_svc_problem(r, &e);
        return;
    }
    http_json(r, 200, l.arr);
}

void h_sessions_end(req_t *r)
{
    svc_err e = {0};
    if (session_end(r->app, r->params[0], &e) != SVC_OK) {
        http_svc_problem(r, &e);
        return;
    }
    http_no_content(r, NULL);
}

static json_t *token_json(const tz_t *tz, const token_rec *t)
{
    json_t *o = json_pack("{s:s,s:s,s:o,s:o,s:o}", "name", t->name, "role",
                          auth_role_name(t->role), "created_at", render_time(tz, t->created_at),
                          "last_used", t->last_used ? render_time(tz, t->last_used) : json_null(),
                          "revoked_at",
                          t->revoked_at ? render_time(tz, t->revoked_at) : json_null());
    if (t->doctor_id[0])
        json_object_set_new(o, "doctor_id", json_string(t->doctor_id));
    return o;
}

static void add_token(const token_rec *t, void *arg)
{
    struct list *l = arg;
    json_array_append_new(l->arr, token_json(l->tz, t));
}

void h_token_list(req_t *r)
{
    svc_err e = {0};
    struct list l = {json_array(), http_clinic_tz(r), r->now};
    if (acct_token_list(r->app, add_token, &l, &e) != SVC_OK) {
        json_decref(l.arr);
        http_svc_problem(r, &e);
        return;
    }
    http_json(r, 200, l.arr);
}

void h_token_create(req_t *r)
{
    static const char *const allowed[] = {"name", "role", "doctor_id", NULL};
    char name[USERNAME_MAX * 4 + 1], role_name[32], doctor_id[ID_LEN] = "",
        token[API_TOKEN_LEN];
    verr_t v;
    svc_err e = {0};
    unsigned role;
    token_rec t;
    verr_init(&v);
    in_only(r->body, allowed, &v);
    in_string(r->body, "name", true, USERNAME_MAX, name, sizeof name, &v);
    in_string(r->body, "role", true, 16, role_name, sizeof role_name, &v);
    if (json_object_get(r->body, "doctor_id"))
        in_id(r->body, "doctor_id", false, doctor_id, sizeof doctor_id, &v);
    if (http_verr_answer(r, &v))
        return;
    if (acct_role_check(r->app, role_name, doctor_id, &role, &e) ||
        acct_token_create(r->app, name, role, doctor_id, r->now, token, &t, &e)) {
        http_svc_problem(r, &e);
        return;
    }
    json_t *o = token_json(http_clinic_tz(r), &t);
    json_object_set_new(o, "token", json_string(token));
    sodium_memzero(token, sizeof token);
    http_json(r, 201, o);
}

void h_token_revoke(req_t *r)
{
    svc_err e = {0};
    if (acct_token_revoke(r->app, r->params[0], r->now, &e) != SVC_OK) {
        http_svc_problem(r, &e);
        return;
    }
    http_no_content(r, NULL);
}
