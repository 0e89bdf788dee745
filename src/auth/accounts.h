/*
 * accounts.h — staff accounts and API tokens as use cases: add a user, set a
 * password, disable, change a role; make and revoke API tokens. Used by the
 * `clinicbox user` and `clinicbox token` commands and by the admin API.
 *
 * Passwords are hashed (auth/password.h) before the write job, never on the
 * writer thread. A disabled user or a changed password ends the user's
 * sessions in the same transaction. The last enabled admin cannot be
 * disabled or demoted: the box would have no one left to manage it.
 */
#ifndef CLINICBOX_ACCOUNTS_H
#define CLINICBOX_ACCOUNTS_H

#include "service/app.h"
#include "store/accounts.h"

/* API tokens: "cbx_" and 43 base64url characters (256 random bits). */
#define API_TOKEN_PREFIX "cbx_"
#define API_TOKEN_LEN (4 + TOKEN_LEN)

/* 400/422 unless name is 1-32 of a-z, 0-9, '_', '-' (names go into paths). */
int acct_name_check(const char *name, const char *field, svc_err *e);
/* Parses a role name and checks doctor_id goes with it (a doctor needs
 * one, others none); 422 otherwise. */
int acct_role_check(app_t *app, const char *role_name, const char *doctor_id, unsigned *role,
                    svc_err *e);

/* A new user. only_first: refuse (409) when an enabled admin exists (the
 * first-run setup). 409 when the name is taken, 422 for a refused password. */
int acct_user_add(app_t *app, const char *username, unsigned role, const char *doctor_id,
                  const char *password, bool only_first, int64_t now, user_rec *out,
                  svc_err *e);

/* What acct_user_change() changes; unset fields stay. */
struct acct_change {
    const char *password;  /* NULL: keep */
    unsigned role;         /* 0: keep */
    const char *doctor_id; /* with role */
    int disabled;          /* -1: keep */
};
/* Changes a user; a new password or disabling ends the user's sessions
 * (*ended says how many). */
int acct_user_change(app_t *app, const char *username, const struct acct_change *ch,
                     int64_t now, user_rec *out, int *ended, svc_err *e);
int acct_user_list(app_t *app, void (*fn)(const user_rec *, void *), void *ctx, svc_err *e);
/* True when no enabled admin exists (the first-run setup is open). */
bool acct_setup_open(app_t *app);

/* A new API token: the secret goes to token_out, once; only its hash is kept. */
int acct_token_create(app_t *app, const char *name, unsigned role, const char *doctor_id,
                      int64_t now, char token_out[API_TOKEN_LEN], token_rec *out, svc_err *e);
int acct_token_revoke(app_t *app, const char *name, int64_t now, svc_err *e);
int acct_token_list(app_t *app, void (*fn)(const token_rec *, void *), void *ctx, svc_err *e);

#endif
