/* accounts.c — see accounts.h. Every change is one write job. */
#include "auth/accounts.h"

#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "auth/password.h"
#include "core/log.h"

int acct_name_check(const char *name, const char *field, svc_err *e)
{
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n > USERNAME_MAX)
        return svc_fail(e, SVC_UNPROCESSABLE, field, "%s must be 1 to %d characters", field,
                        USERNAME_MAX);
    for (size_t i = 0; i < n; i++) {
        char ch = name[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' || ch == '-'))
            return svc_fail(e, SVC_UNPROCESSABLE, field,
                            "%s may hold only a-z, 0-9, '_' and '-'", field);
    }
    return SVC_OK;
}

int acct_role_check(app_t *app, const char *role_name, const char *doctor_id, unsigned *role,
                    svc_err *e)
{
    *role = auth_role_parse(role_name);
    if (!*role)
        return svc_fail(e, SVC_UNPROCESSABLE, "role",
                        "role must be admin, front_desk or doctor");
    bool has_doctor = doctor_id && *doctor_id;
    if (*role != AUTH_DOCTOR && has_doctor)
        return svc_fail(e, SVC_UNPROCESSABLE, "doctor_id", "only a doctor has a doctor_id");
    if (*role == AUTH_DOCTOR) {
        if (!has_doctor)
            return svc_fail(e, SVC_UNPROCESSABLE, "doctor_id",
                            "a doctor needs doctor_id: the doctor's record (GET /api/doctors)");
        db_conn_t *c = db_reader(app->db);
        if (!c)
            return svc_fail(e, SVC_UNAVAILABLE, NULL, "storage is unavailable");
        doctor_rec d;
        int rc = ids_valid(doctor_id) ? store_doctor_get(c, doctor_id, &d) : STORE_NOT_FOUND;
        db_reader_release(app->db, c);
        if (rc == STORE_NOT_FOUND)
            return svc_fail(e, SVC_UNPROCESSABLE, "doctor_id", "no doctor has that id");
        if (rc != STORE_OK)
            return svc_fail(e, SVC_UNAVAILABLE, NULL, "storage is unavailable");
    }
    return SVC_OK;
}

/* Hashes a password that passed the policy: 422 (refused) or 503 (too many
 * logins hashing at once). */
static int hash_new_password(const char *password, const char *username,
                             char out[PW_HASH_BUF], svc_err *e)
{
    char why[200];
    if (pw_policy_check(password, username, why, sizeof why) != PWP_OK)
        return svc_fail(e, SVC_UNPROCESSABLE, "password", "%s", why);
    int rc = pw_hash(password, out);
    if (rc == PW_BUSY) {
        e->retry_after = 2;
        return svc_fail(e, SVC_UNAVAILABLE, NULL,
                        "the box is busy checking other passwords; try again in a moment");
    }
    if (rc != PW_OK)
        return svc_fail(e, SVC_UNAVAILABLE, NULL, "cannot hash the password (out of memory?)");
    return SVC_OK;
}

struct add_job {
    user_rec *u;
    bool only_first;
    svc_err *e;
};

static int add_job(db_conn_t *c, void *arg)
{
    struct add_job *j = arg;
    long admins = 0;
    if (j->only_first) {
        if (store_user_count_admins(c, &admins) != STORE_OK)
            return svc_fail(j->e, SVC_UNAVAILABLE, NULL, "storage is unavailable");
        if (admins > 0)
            return svc_fail(j->e, SVC_CONFLICT, NULL,
                            "the box already has an admin: log in instead");
    }
    int rc = store_user_insert(c, j->u);
    if (rc == STORE_CONFLICT)
        return svc_fail(j->e, SVC_CONFLICT, "username", "a user named %s exists already",
                        j->u->username);
    if (rc != STORE_OK)
        return svc_fail(j->e, SVC_UNAVAILABLE, NULL, "storage is unavailable");
    return SVC_OK;
}

int acct_user_add(app_t *app, const char *username, unsigned role, const char *doctor_id,
                  const char *password, bool only_first, int64_t now, user_rec *out,
                  svc_err *e)
{
    memset(out, 0, sizeof *out);
    if (acct_name_check(username, "username", e))
        return e->status;
    int rc = hash_new_password(password, username, out->password_hash, e);
    if (rc)
        return rc;
    snprintf(out->username, sizeof out->username, "%s", username);
    snprintf(out->doctor_id, sizeof out->doctor_id, "%s", doctor_id ? doctor_id : "");
    out->role = role;
    out->created_at = out->updated_at = now;
    struct add_job j = {out, only_first, e};
    rc = db_write(app->db, add_job, &j);
    if (rc == DB_UNAVAILABLE)
        return svc_fail(e, SVC_UNAVAILABLE, NULL, "storage is unavailable");
    if (rc == SVC_OK)
        log_info("auth", "user %s added (%s)", out->username, auth_role_name(role));
    return rc;
}

struct change_job {
    const char *username;
    const struct acct_change *ch;
    const char *new_hash; /* NULL: keep */
    int64_t now;
    user_rec *out;
    int ended;
    svc_err *e;
};

static int change_job(db_conn_t *c, void *arg)
{
    struct change_job *j = arg;
    user_rec u;
    int rc = store_user_get(c, j->username, &u);
    if (rc != STORE_OK)
        return svc_store_fail(j->e, rc, "user");
    bool was_admin = u.role == AUTH_ADMIN && !u.disabled;
    if (j->ch->role) {
        u.role = j->ch->role;
        snprintf(u.doctor_id, sizeof u.doctor_id, "%s", j->ch->doctor_id ? j->ch->doctor_id : "");
    }
    if (j->ch->disabled >= 0)
        u.disabled = j->ch->disabled != 0;
    if (j->new_hash)
        snprintf(u.password_hash, sizeof u.password_hash, "%s", j->new_hash);
    u.updated_at = j->now;
    if (store_user_update(c, &u) != STORE_OK)
        return svc_fail(j->e, SVC_UNAVAILABLE, NULL, "storage is unavailable");
    if (was_admin && (u.role != AUTH_ADMIN || u.disabled)) {
        long admins = 0;
        if (store_user_count_admins(c, &admins) != STORE_OK)
            return svc_fail(j->e, SVC_UNAVAILABLE, NULL, "storage is unavailable");
        if (admins == 0)
            return svc_fail(j->e, SVC_CONFLICT, NULL,
                            "%s is the last admin: make another admin first", u.username);
    }
    if ((j->new_hash || u.disabled || j->ch->role) &&
        store_session_delete_user(c, u.id, &j->ended) != STORE_OK)
        return svc_fail(j->e, SVC_UNAVAILABLE, NULL, "storage is unavailable");
    *j->out = u;
    return SVC_OK;
}

int acct_user_change(app_t *app, const char *username, const struct acct_change *ch,
                     int64_t now, user_rec *out, int *ended, svc_err *e)
{
    char hash[PW_HASH_BUF];
    memset(out, 0, sizeof *out);
    if (ended)
        *ended = 0;
    if (ch->password) {
        int rc = hash_new_password(ch->password, username, hash, e);
        if (rc)
            return rc;
    }
    struct change_job j = {username, ch, ch->password ? hash : NULL, now, out, 0, e};
    int rc = db_write(app->db, change_job, &j);
    sodium_memzero(hash, sizeof hash);
    if (rc == DB_UNAVAILABLE)
        return svc_fail(e, SVC_UNAVAILABLE, NULL, "storage is unavailable");
    if (rc == SVC_OK) {
        if (ended)
            *ended = j.ended;
        log_info("auth", "user %s changed:%s%s%s%s (%d session(s) ended)", username,
                 ch->password ? " password" : "", ch->role ? " role" : "",
                 ch->disabled == 1 ? " disabled" : "", ch->disabled == 0 ? " enabled" : "",
                 j.ended);
    }
    return rc;
}

int acct_user_list(app_t *app, void (*fn)(const user_rec *, void *), void *ctx, svc_err *e)
{
    db_conn_t *c = db_reader(app->db);
    int rc = c ? store_user_list(c, fn, ctx) : STORE_ERROR;
    db_reader_release(app->db, c);
    return rc == STORE_OK ? SVC_OK : svc_fail(e, SVC_UNAVAILABLE, NULL, "storage is unavailable");
}

bool acct_setup_open(app_t *app)
{
    long admins = 1;
    db_conn_t *c = db_reader(app->db);
    if (c && store_user_count_admins(c, &admins) != STORE_OK)
        admins = 1;
    db_reader_release(app->db, c);
    return admins == 0;
}

struct token_job {
    token_rec *t;
    svc_err *e;
};

static int token_insert_job(db_conn_t *c, void *arg)
{
    struct token_job *j = arg;
    int rc = store_token_insert(c, j->t);
    if (rc == STORE_CONFLICT)
        return svc_fail(j->e, SVC_CONFLICT, "name",
                        "a token named %s exists (or existed: names are not reused)",
                        j->t->name);
    return rc == STORE_OK ? SVC_OK : svc_fail(j->e, SVC_UNAVAILABLE, NULL,
                                              "storage is unavailable");
}

int acct_token_create(app_t *app, const char *name, unsigned role, const char *doctor_id,
                      int64_t now, char token_out[API_TOKEN_LEN], token_rec *out, svc_err *e)
{
    char secret[TOKEN_LEN];
    memset(out, 0, sizeof *out);
    if (acct_name_check(name, "name", e))
        return e->status;
    ids_token(secret);
    snprintf(token_out, API_TOKEN_LEN, "%s%s", API_TOKEN_PREFIX, secret);
    sodium_memzero(secret, sizeof secret);
    ids_token_hash(token_out, out->token_hash);
    snprintf(out->name, sizeof out->name, "%s", name);
    snprintf(out->doctor_id, sizeof out->doctor_id, "%s", doctor_id ? doctor_id : "");
    out->role = role;
    out->created_at = now;
    struct token_job j = {out, e};
    int rc = db_write(app->db, token_insert_job, &j);
    if (rc == DB_UNAVAILABLE)
        rc = svc_fail(e, SVC_UNAVAILABLE, NULL, "storage is unavailable");
    if (rc != SVC_OK)
        sodium_memzero(token_out, API_TOKEN_LEN);
    else
        log_info("auth", "API token %s made (%s)", name, auth_role_name(role));
    return rc;
}

struct revoke_job {
    const char *name;
    int64_t now;
    svc_err *e;
};

static int revoke_job(db_conn_t *c, void *arg)
{
    struct revoke_job *j = arg;
    int rc = store_token_revoke(c, j->name, j->now);
    if (rc == STORE_NOT_FOUND)
        return svc_fail(j->e, SVC_NOT_FOUND, NULL, "token not found");
    return rc == STORE_OK ? SVC_OK : svc_fail(j->e, SVC_UNAVAILABLE, NULL,
                                              "storage is unavailable");
}

int acct_token_revoke(app_t *app, const char *name, int64_t now, svc_err *e)
{
    struct revoke_job j = {name, now, e};
    int rc = db_write(app->db, revoke_job, &j);
    if (rc == DB_UNAVAILABLE)
        return svc_fail(e, SVC_UNAVAILABLE, NULL, "storage is unavailable");
    if (rc == SVC_OK)
        log_info("auth", "API token %s revoked", name);
    return rc;
}

int acct_token_list(app_t *app, void (*fn)(const token_rec *, void *), void *ctx, svc_err *e)
{
    db_conn_t *c = db_reader(app->db);
    int rc = c ? store_token_list(c, fn, ctx) : STORE_ERROR;
    db_reader_release(app->db, c);
    return rc == STORE_OK ? SVC_OK : svc_fail(e, SVC_UNAVAILABLE, NULL, "storage is unavailable");
}
