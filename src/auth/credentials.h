/*
 * credentials.h — reading what a request presents as credentials, before
 * anything is looked up: an `Authorization: Bearer` API token, or the
 * session cookie. Pure parsing of header text (the fuzz target
 * tests/fuzz/fuzz_credentials.c feeds it anything).
 *
 * An Authorization header wins over a cookie (a script that sends both
 * means its token). Any other scheme than Bearer, or a token that is not
 * `cbx_` and 43 base64url characters, is CRED_MALFORMED: the request is then
 * answered 401 on routes that need credentials, never taken as anonymous
 * there. A cookie value that is not 43 base64url characters counts as no
 * session (CRED_MALFORMED too).
 */
#ifndef CLINICBOX_CREDENTIALS_H
#define CLINICBOX_CREDENTIALS_H

#include <stddef.h>

#include "core/ids.h"

enum cred_kind {
    CRED_NONE = 0,   /* nothing presented */
    CRED_BEARER,     /* secret holds the API token */
    CRED_COOKIE,     /* secret holds the session cookie's value */
    CRED_MALFORMED,  /* presented, but cannot be a token or a session */
};

#define CRED_SECRET_MAX 48 /* an API token (4 + 43) and its NUL */

struct credentials {
    enum cred_kind kind;
    char secret[CRED_SECRET_MAX];
};

/* authorization and cookies may be NULL (header absent). cookie_name is the
 * session cookie's name. Never reads past the NUL of either header. */
void cred_parse(const char *authorization, const char *cookies, const char *cookie_name,
                struct credentials *out);

#endif
