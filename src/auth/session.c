/* session.c — see session.h. */
#include "auth/session.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "auth/password.h"
#include "auth/throttle.h"
#include "core/log.h"

/* Three counts per login: the account from this address (5 free: the
 * real user's typos), the address (20 free: a clinic's desks share one),
 * and the account from anywhere (50 free: guessing spread over many
 * addresses). The pair is what makes a user wait; an attacker elsewhere
 * has to get past the looser account count before the real user, from
 * their own address, waits too. */
static throttle_t by_pair, by_account, by_address;

void session_module_init(void)
{
    throttle_init(&by_pair, LOGIN_FREE_PER_ACCOUNT, LOGIN_MAX_DELAY, LOGIN_FORGET_AFTER);
    throttle_init(&by_account, LOGIN_FREE_ACCOUNT_ANYWHERE, LOGIN_MAX_DELAY, LOGIN_FORGET_AFTER);
    throttle_init(&by_address, LOGIN_FREE_PER_ADDRESS, LOGIN_MAX_DELAY, LOGIN_FORGET_AFTER);
}

void session_module_free(void)
{
    throttle_destroy(&by_pair);
    throttle_destroy(&by_account);
    throttle_destroy(&by_address);
}

const char *session_shown_name(const char *username)
{
    svc_err e;
    return acct_name_check(username, "username", &e) == SVC_OK ? username : "(not a username)";
}

struct attempt {
    throttle_t *t[3];
    char key[3][THROTTLE_KEY_MAX + 1];
    int begun;
};

/* Counts the attempt on all three; 0, or the seconds to wait (then none is
 * counted). */
static int64_t attempt_begin(struct attempt *a, const char *username, const char *address,
                             int64_t now)
{
    a->t[0] = &by_pair;
    a->t[1] = &by_account;
    a->t[2] = &by_address;
    snprintf(a->key[0], sizeof a->key[0], "%.32s@%.48s", username, address);
    snprintf(a->key[1], sizeof a->key[1], "%.32s", username);
    snprintf(a->key[2], sizeof a->key[2], "%.48s", address);
    for (a->begun = 0; a->begun < 3; a->begun++) {
        int64_t wait = throttle_begin(a->t[a->begun], a->key[a->begun], now);
        if (wait > 0) {
            for (int i = 0; i < a->begun; i++)
                throttle_end(a->t[i], a->key[i], true, false);
            a->begun = 0;
            return wait;
        }
    }
    return 0;
}

static void attempt_end(struct attempt *a, bool success)
{
    for (int i = 0; i < a->begun; i++)
        throttle_end(a->t[i], a->key[i], success, success && a->t[i] == &by_pair);
}

static int refused(svc_err *e, const char *username, const char *address, const char *why)
{
    log_warn("auth", "login refused for \"%s\" from %s: %s", session_shown_name(username),
             address, why);
    return svc_fail(e, SVC_UNAUTHORIZED, NULL, "wrong username or password");
}

int session_check_password(app_t *app, const char *username, const char *password,
                           const char *address, int64_t now, user_rec *out, bool *rehash,
                           char rehashed[PW_HASH_BUF], svc_err *e)
{
    struct attempt a;
    memset(out, 0, sizeof *out);
    *rehash = false;
    int64_t wait = attempt_begin(&a, username, address, now);
    if (wait > 0) {
        log_warn("auth", "login for \"%s\" from %s refused: too many failures, %lld s to wait",
                 session_shown_name(username), address, (long long)wait);
        e->retry_after = (int)wait;
        return svc_fail(e, SVC_TOO_MANY, NULL,
                        "too many failed logins: try again in %lld seconds", (long long)wait);
    }
    db_conn_t *c = db_reader(app->db);
    int rc = c ? store_user_get(c, username, out) : STORE_ERROR;
    db_reader_release(app->db, c);
    if (rc == STORE_ERROR) {
        attempt_end(&a, true); /* not the caller's failure */
        return svc_fail(e, SVC_UNAVAILABLE, NULL, "storage is unavailable");
    }
    /* An unknown name costs the same work as a real one. */
    int pw = rc == STORE_NOT_FOUND ? pw_dummy_verify(password)
                                   : pw_verify(out->password_hash, password);
    if (pw == PW_BUSY || pw == PW_ERROR) {
        attempt_end(&a, true);
        e->retry_after = 2;
        return svc_fail(e, SVC_UNAVAILABLE, NULL,
                        "the box is busy checking other passwords; try again in a moment");
    }
    if (pw != PW_OK || out->disabled) {
        attempt_end(&a, false);
        return refused(e, username, address,
                       rc == STORE_NOT_FOUND ? "no such user"
                       : pw != PW_OK         ? "wrong password"
                                             : "user is disabled");
    }
    attempt_end(&a, true);
    *rehash = pw_needs_rehash(out->password_hash) && pw_hash(password, rehashed) == PW_OK;
    return SVC_OK;
}

struct login_job {
    session_rec *s;
    const char *new_hash; /* a re-hash with today's parameters, or NULL */
    int64_t expired_idle, expired_max;
};

static int login_job(db_conn_t *c, void *arg)
{
    struct login_job *j = arg;
    user_rec u;
    /* The user may have been disabled or changed meanwhile. */
    if (store_user_get(c, j->s->user.username, &u) != STORE_OK || u.disabled ||
        strcmp(u.password_hash, j->s->user.password_hash) != 0)
        return SVC_UNAUTHORIZED;
    if (j->new_hash) {
        snprintf(u.password_hash, sizeof u.password_hash, "%s", j->new_hash);
        if (store_user_update(c, &u) != STORE_OK)
            return SVC_UNAVAILABLE;
    }
    if (store_session_delete_expired(c, j->expired_idle, j->expired_max) != STORE_OK ||
        store_session_insert(c, j->s) != STORE_OK)
        return SVC_UNAVAILABLE;
    return SVC_OK;
}

int session_login(app_t *app, const char *username, const char *password, const char *address,
                  const char *user_agent, int64_t now, char token_out[TOKEN_LEN],
                  session_rec *out, svc_err *e)
{
    char rehash[PW_HASH_BUF];
    bool do_rehash;
    memset(out, 0, sizeof *out);
    int rc = session_check_password(app, username, password, address, now, &out->user,
                                    &do_rehash, rehash, e);
    if (rc != SVC_OK)
        return rc;
    ids_uuid(now * 1000, out->id);
    ids_token(token_out);
    ids_token_hash(token_out, out->token_hash);
    ids_token(out->csrf);
    out->user_id = out->user.id;
    snprintf(out->address, sizeof out->address, "%s", address);
    /* printable ASCII only: it is shown to admins and must stay valid text */
    size_t n = 0;
    for (const char *u = user_agent ? user_agent : ""; *u && n < sizeof out->user_agent - 1; u++)
        out->user_agent[n++] = (*u >= 0x20 && *u < 0x7F) ? *u : '?';
    out->user_agent[n] = '\0';
    out->created_at = out->last_seen = now;
    struct login_job j = {out, do_rehash ? rehash : NULL, now - SESSION_IDLE_SECONDS,
                          now - SESSION_MAX_SECONDS};
    rc = db_write(app->db, login_job, &j);
    if (rc == SVC_UNAUTHORIZED) /* changed meanwhile */
        return refused(e, username, address, "the account changed meanwhile");
    if (rc != SVC_OK) {
        sodium_memzero(token_out, TOKEN_LEN);
        return svc_fail(e, SVC_UNAVAILABLE, NULL, "storage is unavailable");
    }
    log_info("auth", "login of %s (%s) from %s, session %s%s", out->user.username,
             auth_role_name(out->user.role), address, out->id,
             do_rehash ? "; password re-hashed with today's parameters" : "");
    return SVC_OK;
}

struct id_job {
    const char *id;
    int64_t when;
};

static int touch_job(db_conn_t *c, void *arg)
{
    struct id_job *j = arg;
    int rc = store_session_touch(c, j->id, j->when);
    return rc == STORE_OK || rc == STORE_NOT_FOUND ? 0 : 1;
}

static int delete_job(db_conn_t *c, void *arg)
{
    struct id_job *j = arg;
    int rc = store_session_delete(c, j->id);
    return rc == STORE_OK ? 0 : rc == STORE_NOT_FOUND ? SVC_NOT_FOUND : SVC_UNAVAILABLE;
}

static void principal_of(principal_t *p, enum principal_kind kind, unsigned role,
                         const char *name, const char *doctor_id, int64_t id)
{
    memset(p, 0, sizeof *p);
    p->kind = kind;
    p->role = role;
    snprintf(p->name, sizeof p->name, "%s", name);
    snprintf(p->doctor_id, sizeof p->doctor_id, "%s", doctor_id);
    p->user_id = id;
}

enum auth_result session_authenticate(app_t *app, const char *secret, int64_t now, bool touch,
                                      principal_t *out)
{
    char hash[TOKEN_HASH_LEN];
    session_rec s;
    if (strlen(secret) != TOKEN_LEN - 1)
        return AUTH_RESULT_UNKNOWN;
    ids_token_hash(secret, hash);
    db_conn_t *c = db_reader(app->db);
    if (!c)
        return AUTH_RESULT_UNAVAILABLE;
    int rc = store_session_lookup(c, hash, &s);
    db_reader_release(app->db, c);
    if (rc == STORE_NOT_FOUND)
        return AUTH_RESULT_UNKNOWN;
    if (rc != STORE_OK)
        return AUTH_RESULT_UNAVAILABLE;
    if (s.user.disabled)
        return AUTH_RESULT_DISABLED;
    /* A session from "the future" means the wall clock went back: it would
     * otherwise outlive its limits by that much, so it ends too. */
    bool from_future = s.created_at > now + SESSION_TOUCH_SECONDS ||
                       s.last_seen > now + SESSION_TOUCH_SECONDS;
    if (now - s.last_seen >= SESSION_IDLE_SECONDS || now - s.created_at >= SESSION_MAX_SECONDS ||
        from_future) {
        struct id_job j = {s.id, now};
        db_write(app->db, delete_job, &j);
        log_info("auth", "session %s of %s ended: %s", s.id, s.user.username,
                 from_future                               ? "the clock went back"
                 : now - s.created_at >= SESSION_MAX_SECONDS ? "12 hours since the login"
                                                             : "15 minutes without a request");
        return AUTH_RESULT_EXPIRED;
    }
    if (touch && now - s.last_seen >= SESSION_TOUCH_SECONDS) {
        struct id_job j = {s.id, now};
        db_write(app->db, touch_job, &j);
    }
    principal_of(out, PRINCIPAL_USER, s.user.role, s.user.username, s.user.doctor_id,
                 s.user.id);
    snprintf(out->session_id, sizeof out->session_id, "%s", s.id);
    snprintf(out->csrf, sizeof out->csrf, "%s", s.csrf);
    out->created_at = s.created_at;
    return AUTH_RESULT_OK;
}

struct token_touch {
    int64_t id, now;
};

static int token_touch_job(db_conn_t *c, void *arg)
{
    struct token_touch *j = arg;
    return store_token_touch(c, j->id, j->now) == STORE_ERROR;
}

enum auth_result token_authenticate(app_t *app, const char *token, int64_t now,
                                    principal_t *out)
{
    char hash[TOKEN_HASH_LEN];
    token_rec t;
    if (strlen(token) != API_TOKEN_LEN - 1 ||
        strncmp(token, API_TOKEN_PREFIX, strlen(API_TOKEN_PREFIX)) != 0)
        return AUTH_RESULT_UNKNOWN;
    ids_token_hash(token, hash);
    db_conn_t *c = db_reader(app->db);
    if (!c)
        return AUTH_RESULT_UNAVAILABLE;
    int rc = store_token_lookup(c, hash, &t);
    db_reader_release(app->db, c);
    if (rc == STORE_NOT_FOUND)
        return AUTH_RESULT_UNKNOWN;
    if (rc != STORE_OK)
        return AUTH_RESULT_UNAVAILABLE;
    /* last_used to the minute: one write a minute at most per token */
    if (now - t.last_used >= 60) {
        struct token_touch j = {t.id, now};
        db_write(app->db, token_touch_job, &j);
    }
    principal_of(out, PRINCIPAL_TOKEN, t.role, t.name, t.doctor_id, t.id);
    return AUTH_RESULT_OK;
}

int session_end(app_t *app, const char *session_id, svc_err *e)
{
    struct id_job j = {session_id, 0};
    int rc = db_write(app->db, delete_job, &j);
    if (rc == SVC_NOT_FOUND)
        return svc_fail(e, SVC_NOT_FOUND, NULL, "session not found");
    if (rc != 0)
        return svc_fail(e, SVC_UNAVAILABLE, NULL, "storage is unavailable");
    log_info("auth", "session %s ended", session_id);
    return SVC_OK;
}

struct list_ctx {
    int64_t now;
    void (*fn)(const session_rec *, void *);
    void *ctx;
};

static void list_live(const session_rec *s, void *arg)
{
    struct list_ctx *l = arg;
    if (l->now - s->last_seen < SESSION_IDLE_SECONDS && l->now - s->created_at < SESSION_MAX_SECONDS &&
        !s->user.disabled)
        l->fn(s, l->ctx);
}

int session_list(app_t *app, int64_t now, void (*fn)(const session_rec *, void *), void *ctx,
                 svc_err *e)
{
    struct list_ctx l = {now, fn, ctx};
    db_conn_t *c = db_reader(app->db);
    int rc = c ? store_session_list(c, list_live, &l) : STORE_ERROR;
    db_reader_release(app->db, c);
    return rc == STORE_OK ? SVC_OK : svc_fail(e, SVC_UNAVAILABLE, NULL, "storage is unavailable");
}
