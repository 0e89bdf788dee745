/* accounts.c — users, sessions and API tokens (accounts.h). */
#include "store/accounts.h"

#include "store/rows.h"

#define USER_COLS "u.id, u.username, u.role, u.doctor_id, u.password_hash, u.disabled, " \
                  "u.created_at, u.updated_at"
#define SESSION_COLS "s.id, s.token_hash, s.user_id, s.csrf, s.address, s.user_agent, " \
                     "s.created_at, s.last_seen"
#define TOKEN_COLS "id, name, role, doctor_id, token_hash, created_at, last_used, revoked_at"

static void read_user(sqlite3_stmt *st, int col, user_rec *u)
{
    char role[16];
    memset(u, 0, sizeof *u);
    u->id = sqlite3_column_int64(st, col);
    rows_copy(st, col + 1, u->username, sizeof u->username);
    rows_copy(st, col + 2, role, sizeof role);
    u->role = auth_role_parse(role);
    rows_copy(st, col + 3, u->doctor_id, sizeof u->doctor_id);
    rows_copy(st, col + 4, u->password_hash, sizeof u->password_hash);
    u->disabled = sqlite3_column_int(st, col + 5) != 0;
    u->created_at = sqlite3_column_int64(st, col + 6);
    u->updated_at = sqlite3_column_int64(st, col + 7);
}

static void read_session(sqlite3_stmt *st, session_rec *s)
{
    memset(s, 0, sizeof *s);
    rows_copy(st, 0, s->id, sizeof s->id);
    rows_copy(st, 1, s->token_hash, sizeof s->token_hash);
    s->user_id = sqlite3_column_int64(st, 2);
    rows_copy(st, 3, s->csrf, sizeof s->csrf);
    rows_copy(st, 4, s->address, sizeof s->address);
    rows_copy(st, 5, s->user_agent, sizeof s->user_agent);
    s->created_at = sqlite3_column_int64(st, 6);
    s->last_seen = sqlite3_column_int64(st, 7);
    read_user(st, 8, &s->user);
}

static void read_token(sqlite3_stmt *st, token_rec *t)
{
    char role[16];
    memset(t, 0, sizeof *t);
    t->id = sqlite3_column_int64(st, 0);
    rows_copy(st, 1, t->name, sizeof t->name);
    rows_copy(st, 2, role, sizeof role);
    t->role = auth_role_parse(role);
    rows_copy(st, 3, t->doctor_id, sizeof t->doctor_id);
    rows_copy(st, 4, t->token_hash, sizeof t->token_hash);
    t->created_at = sqlite3_column_int64(st, 5);
    t->last_used = sqlite3_column_int64(st, 6);
    t->revoked_at = sqlite3_column_int64(st, 7);
}

int store_user_insert(db_conn_t *c, user_rec *u)
{
    sqlite3_stmt *st = db_prepare(c, "INSERT INTO users (username, role, doctor_id, "
                                     "password_hash, disabled, created_at, updated_at) "
                                     "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
    if (!st)
        return STORE_ERROR;
    rows_bind_text(st, 1, u->username);
    rows_bind_text(st, 2, auth_role_name(u->role));
    rows_bind_opt(st, 3, u->doctor_id);
    rows_bind_text(st, 4, u->password_hash);
    sqlite3_bind_int(st, 5, u->disabled);
    sqlite3_bind_int64(st, 6, u->created_at);
    sqlite3_bind_int64(st, 7, u->updated_at);
    int rc = rows_write_rc(st, sqlite3_step(st));
    if (rc == STORE_OK)
        u->id = sqlite3_last_insert_rowid(db_handle(c));
    return rc;
}

int store_user_get(db_conn_t *c, const char *username, user_rec *out)
{
    sqlite3_stmt *st = db_prepare(c, "SELECT " USER_COLS " FROM users u WHERE u.username = ?1");
    if (!st)
        return STORE_ERROR;
    rows_bind_text(st, 1, username);
    int rc = rows_find(st);
    if (rc == STORE_OK)
        read_user(st, 0, out);
    return rc;
}

int store_user_update(db_conn_t *c, const user_rec *u)
{
    sqlite3_stmt *st = db_prepare(c, "UPDATE users SET role = ?2, doctor_id = ?3, "
                                     "password_hash = ?4, disabled = ?5, updated_at = ?6 "
                                     "WHERE id = ?1");
    if (!st)
        return STORE_ERROR;
    sqlite3_bind_int64(st, 1, u->id);
    rows_bind_text(st, 2, auth_role_name(u->role));
    rows_bind_opt(st, 3, u->doctor_id);
    rows_bind_text(st, 4, u->password_hash);
    sqlite3_bind_int(st, 5, u->disabled);
    sqlite3_bind_int64(st, 6, u->updated_at);
    return rows_update_one(st);
}

int store_user_list(db_conn_t *c, void (*fn)(const user_rec *, void *), void *ctx)
{
    sqlite3_stmt *st = db_prepare(c, "SELECT " USER_COLS " FROM users u ORDER BY u.username");
    int rc;
    if (!st)
        return STORE_ERROR;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        user_rec u;
        read_user(st, 0, &u);
        fn(&u, ctx);
    }
    return rows_write_rc(st, rc);
}

int store_user_count_admins(db_conn_t *c, long *n)
{
    sqlite3_stmt *st =
        db_prepare(c, "SELECT count(*) FROM users WHERE role = 'admin' AND disabled = 0");
    if (!st)
        return STORE_ERROR;
    int rc = rows_find(st);
    if (rc == STORE_OK)
        *n = (long)sqlite3_column_int64(st, 0);
    return rc;
}

int store_session_insert(db_conn_t *c, const session_rec *s)
{
    sqlite3_stmt *st = db_prepare(c, "INSERT INTO sessions (id, token_hash, user_id, csrf, "
                                     "address, user_agent, created_at, last_seen) "
                                     "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
    if (!st)
        return STORE_ERROR;
    rows_bind_text(st, 1, s->id);
    rows_bind_text(st, 2, s->token_hash);
    sqlite3_bind_int64(st, 3, s->user_id);
    rows_bind_text(st, 4, s->csrf);
    rows_bind_text(st, 5, s->address);
    rows_bind_text(st, 6, s->user_agent);
    sqlite3_bind_int64(st, 7, s->created_at);
    sqlite3_bind_int64(st, 8, s->last_seen);
    return rows_write_rc(st, sqlite3_step(st));
}

int store_session_lookup(db_conn_t *c, const char *token_hash, session_rec *out)
{
    sqlite3_stmt *st = db_prepare(c, "SELECT " SESSION_COLS ", " USER_COLS
                                     " FROM sessions s JOIN users u ON u.id = s.user_id "
                                     "WHERE s.token_hash = ?1");
    if (!st)
        return STORE_ERROR;
    rows_bind_text(st, 1, token_hash);
    int rc = rows_find(st);
    if (rc == STORE_OK)
        read_session(st, out);
    return rc;
}

int store_session_touch(db_conn_t *c, const char *id, int64_t last_seen)
{
    sqlite3_stmt *st = db_prepare(c, "UPDATE sessions SET last_seen = ?2 WHERE id = ?1");
    if (!st)
        return STORE_ERROR;
    rows_bind_text(st, 1, id);
    sqlite3_bind_int64(st, 2, last_seen);
    return rows_update_one(st);
}

int store_session_delete(db_conn_t *c, const char *id)
{
    sqlite3_stmt *st = db_prepare(c, "DELETE FROM sessions WHERE id = ?1");
    if (!st)
        return STORE_ERROR;
    rows_bind_text(st, 1, id);
    return rows_update_one(st);
}

int store_session_delete_user(db_conn_t *c, int64_t user_id, int *n)
{
    sqlite3_stmt *st = db_prepare(c, "DELETE FROM sessions WHERE user_id = ?1");
    if (!st)
        return STORE_ERROR;
    sqlite3_bind_int64(st, 1, user_id);
    int rc = rows_write_rc(st, sqlite3_step(st));
    if (n)
        *n = rc == STORE_OK ? sqlite3_changes(db_handle(c)) : 0;
    return rc;
}

int store_session_delete_expired(db_conn_t *c, int64_t idle_before, int64_t created_before)
{
    sqlite3_stmt *st =
        db_prepare(c, "DELETE FROM sessions WHERE last_seen < ?1 OR created_at < ?2");
    if (!st)
        return STORE_ERROR;
    sqlite3_bind_int64(st, 1, idle_before);
    sqlite3_bind_int64(st, 2, created_before);
    return rows_write_rc(st, sqlite3_step(st));
}

int store_session_list(db_conn_t *c, void (*fn)(const session_rec *, void *), void *ctx)
{
    sqlite3_stmt *st = db_prepare(c, "SELECT " SESSION_COLS ", " USER_COLS
                                     " FROM sessions s JOIN users u ON u.id = s.user_id "
                                     "ORDER BY s.created_at, s.id");
    int rc;
    if (!st)
        return STORE_ERROR;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        session_rec s;
        read_session(st, &s);
        fn(&s, ctx);
    }
    return rows_write_rc(st, rc);
}

int store_token_insert(db_conn_t *c, token_rec *t)
{
    sqlite3_stmt *st = db_prepare(c, "INSERT INTO api_tokens (name, role, doctor_id, "
                                     "token_hash, created_at) VALUES (?1, ?2, ?3, ?4, ?5)");
    if (!st)
        return STORE_ERROR;
    rows_bind_text(st, 1, t->name);
    rows_bind_text(st, 2, auth_role_name(t->role));
    rows_bind_opt(st, 3, t->doctor_id);
    rows_bind_text(st, 4, t->token_hash);
    sqlite3_bind_int64(st, 5, t->created_at);
    int rc = rows_write_rc(st, sqlite3_step(st));
    if (rc == STORE_OK)
        t->id = sqlite3_last_insert_rowid(db_handle(c));
    return rc;
}

int store_token_lookup(db_conn_t *c, const char *token_hash, token_rec *out)
{
    sqlite3_stmt *st = db_prepare(c, "SELECT " TOKEN_COLS " FROM api_tokens "
                                     "WHERE token_hash = ?1 AND revoked_at IS NULL");
    if (!st)
        return STORE_ERROR;
    rows_bind_text(st, 1, token_hash);
    int rc = rows_find(st);
    if (rc == STORE_OK)
        read_token(st, out);
    return rc;
}

int store_token_touch(db_conn_t *c, int64_t id, int64_t now)
{
    sqlite3_stmt *st = db_prepare(c, "UPDATE api_tokens SET last_used = ?2 WHERE id = ?1");
    if (!st)
        return STORE_ERROR;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, now);
    return rows_update_one(st);
}

int store_token_revoke(db_conn_t *c, const char *name, int64_t now)
{
    sqlite3_stmt *st = db_prepare(c, "UPDATE api_tokens SET revoked_at = ?2 "
                                     "WHERE name = ?1 AND revoked_at IS NULL");
    if (!st)
        return STORE_ERROR;
    rows_bind_text(st, 1, name);
    sqlite3_bind_int64(st, 2, now);
    return rows_update_one(st);
}

int store_token_list(db_conn_t *c, void (*fn)(const token_rec *, void *), void *ctx)
{
    sqlite3_stmt *st = db_prepare(c, "SELECT " TOKEN_COLS " FROM api_tokens ORDER BY name");
    int rc;
    if (!st)
        return STORE_ERROR;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        token_rec t;
        read_token(st, &t);
        fn(&t, ctx);
    }
    return rows_write_rc(st, rc);
}
