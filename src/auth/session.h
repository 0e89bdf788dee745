/*
 * session.h — logins and who a request is: session cookies for staff in a
 * browser, API tokens for scripts (ASVS 7.2-7.5).
 *
 * A login checks the password (auth/password.h) unless the throttle says to
 * wait, then makes a session: a public id, a 256-bit secret for the cookie
 * (only its SHA-256 is stored), a CSRF token. A session ends after
 * SESSION_IDLE_SECONDS without a request, SESSION_MAX_SECONDS after the
 * login, at logout, when an admin ends it, and when its user is disabled or
 * changes password. last_seen is written at most every
 * SESSION_TOUCH_SECONDS, so the idle limit may end a session up to that much
 * early, never late; a background request (Clinicbox-Background: 1) does
 * not write it.
 *
 * Sessions are rows, so they survive a restart and a `clinicbox user
 * disable` from the command line ends them at once.
 */
#ifndef CLINICBOX_SESSION_H
#define CLINICBOX_SESSION_H

#include "auth/accounts.h"
#include "auth/roles.h"
#include "service/app.h"
#include "store/accounts.h"

#define SESSION_IDLE_SECONDS (15 * 60)
#define SESSION_MAX_SECONDS (12 * 3600)
#define SESSION_TOUCH_SECONDS 30

/* Failed logins (auth/throttle.h): an account from one address 5 free,
 * then waits doubling from 1 s up to 15 minutes; an address 20 free (a
 * clinic's desks share one NAT); an account from anywhere 50 free. */
#define LOGIN_FREE_PER_ACCOUNT 5
#define LOGIN_FREE_PER_ADDRESS 20
#define LOGIN_FREE_ACCOUNT_ANYWHERE 50
#define LOGIN_MAX_DELAY (15 * 60)
#define LOGIN_FORGET_AFTER (24 * 3600)

void session_module_init(void);
void session_module_free(void);

/* Checks the password and makes a session; token_out gets the cookie's
 * secret. 401 for a wrong name or password (the same answer for both, after
 * the same work), 429 with e->retry_after when the throttle says wait, 503
 * when too many passwords are being checked at once. Logs every attempt. */
int session_login(app_t *app, const char *username, const char *password, const char *address,
                  const char *user_agent, int64_t now, char token_out[TOKEN_LEN],
                  session_rec *out, svc_err *e);

/* The password check of a login, alone (throttled and logged like one;
 * makes no session): SVC_OK with the user in out, 401, 429 or 503.
 * *rehash: rehashed holds a new hash of the password for today's
 * parameters, to be stored. */
int session_check_password(app_t *app, const char *username, const char *password,
                           const char *address, int64_t now, user_rec *out, bool *rehash,
                           char rehashed[PW_HASH_BUF], svc_err *e);
/* username for logs and the audit trail: itself when it is a valid name,
 * else a placeholder (a password typed into the name field stays out). */
const char *session_shown_name(const char *username);

enum auth_result {
    AUTH_RESULT_OK = 0,
    AUTH_RESULT_UNKNOWN,     /* no such session or token (or revoked) */
    AUTH_RESULT_EXPIRED,     /* the session timed out (idle or absolute) */
    AUTH_RESULT_DISABLED,    /* its user is disabled */
    AUTH_RESULT_UNAVAILABLE, /* storage */
};

/* The principal of a session cookie's secret; touches last_seen when due,
 * unless !touch: a background request (a page polling for changes, header
 * SESSION_BACKGROUND_HEADER) is served but does not keep the session
 * alive, so that an open tab nobody uses still times out. */
#define SESSION_BACKGROUND_HEADER "Clinicbox-Background"
enum auth_result session_authenticate(app_t *app, const char *secret, int64_t now, bool touch,
                                      principal_t *out);
/* The principal of an API token (Authorization: Bearer). */
enum auth_result token_authenticate(app_t *app, const char *token, int64_t now,
                                    principal_t *out);

/* Ends a session by its public id (logout, or an admin). 404 if none. */
int session_end(app_t *app, const char *session_id, svc_err *e);
/* The live sessions (expired ones are not listed). */
int session_list(app_t *app, int64_t now, void (*fn)(const session_rec *, void *), void *ctx,
                 svc_err *e);

#endif
