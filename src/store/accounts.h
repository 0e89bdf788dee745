/*
 * accounts.h — staff accounts, their sessions and API tokens (migration
 * 0010). The queries only: the rules (passwords, expiry, who may do what)
 * live in src/auth/. Same conventions as store.h: the caller's connection,
 * STORE_OK / STORE_NOT_FOUND / STORE_CONFLICT / STORE_ERROR.
 */
#ifndef CLINICBOX_STORE_ACCOUNTS_H
#define CLINICBOX_STORE_ACCOUNTS_H

#include <stdbool.h>
#include <stdint.h>

#include "auth/roles.h"
#include "store/store.h"

#define PW_HASH_BUF 128 /* crypto_pwhash_STRBYTES */
#define ADDRESS_BUF 48  /* an IPv6 address as text */
#define USER_AGENT_BUF 200

typedef struct {
    int64_t id;
    char username[USERNAME_MAX + 1];
    unsigned role; /* one AUTH_* bit */
    char doctor_id[ID_LEN];
    char password_hash[PW_HASH_BUF];
    bool disabled;
    int64_t created_at, updated_at;
} user_rec;

typedef struct {
    char id[ID_LEN];               /* public id */
    char token_hash[TOKEN_HASH_LEN];
    int64_t user_id;
    char csrf[TOKEN_LEN];
    char address[ADDRESS_BUF];
    char user_agent[USER_AGENT_BUF];
    int64_t created_at, last_seen;
    user_rec user; /* the account, read along (lookup and list) */
} session_rec;

typedef struct {
    int64_t id;
    char name[USERNAME_MAX + 1];
    unsigned role;
    char doctor_id[ID_LEN];
    char token_hash[TOKEN_HASH_LEN];
    int64_t created_at, last_used, revoked_at;
} token_rec;

int store_user_insert(db_conn_t *c, user_rec *u); /* sets u->id; CONFLICT: name taken */
int store_user_get(db_conn_t *c, const char *username, user_rec *out);
/* Writes role, doctor_id, password_hash, disabled and updated_at. */
int store_user_update(db_conn_t *c, const user_rec *u);
int store_user_list(db_conn_t *c, void (*fn)(const user_rec *, void *), void *ctx);
/* Admins that are not disabled. */
int store_user_count_admins(db_conn_t *c, long *n);

int store_session_insert(db_conn_t *c, const session_rec *s);
/* The session with this token hash and its user. */
int store_session_lookup(db_conn_t *c, const char *token_hash, session_rec *out);
int store_session_touch(db_conn_t *c, const char *id, int64_t last_seen);
int store_session_delete(db_conn_t *c, const char *id);
/* Every session of the user (disabled, or password changed); *n how many. */
int store_session_delete_user(db_conn_t *c, int64_t user_id, int *n);
/* Sessions idle since before idle_before or made before created_before. */
int store_session_delete_expired(db_conn_t *c, int64_t idle_before, int64_t created_before);
int store_session_list(db_conn_t *c, void (*fn)(const session_rec *, void *), void *ctx);

int store_token_insert(db_conn_t *c, token_rec *t); /* CONFLICT: name taken */
/* A token that is not revoked. */
int store_token_lookup(db_conn_t *c, const char *token_hash, token_rec *out);
int store_token_touch(db_conn_t *c, int64_t id, int64_t now);
/* NOT_FOUND when no live token has that name. */
int store_token_revoke(db_conn_t *c, const char *name, int64_t now);
int store_token_list(db_conn_t *c, void (*fn)(const token_rec *, void *), void *ctx);

#endif
