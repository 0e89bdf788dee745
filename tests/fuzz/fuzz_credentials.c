/*
 * fuzz_credentials.c — libFuzzer target: what a request presents as
 * credentials (src/auth/credentials.c, cred_parse): the Authorization header
 * (an API token, `Bearer cbx_...`) and the session cookie in the Cookie
 * header, before anything is looked up.
 *
 * Input: the Authorization value, a LF, the Cookie value (either may be
 * absent: no LF means no Cookie header, an input starting with a LF no
 * Authorization). Both cookie names the server uses are tried
 * (clinicbox_session over HTTP, __Host-clinicbox under TLS).
 *
 * Checks: a token or cookie taken is exactly what the format allows (cbx_
 * and 43 base64url characters, or 43 base64url characters) and appears in
 * the header it came from; anything presented but not taken is
 * CRED_MALFORMED with nothing left in secret; nothing presented is
 * CRED_NONE.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth/credentials.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool b64url(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            return false;
    }
    return true;
}

static void check(const char *authorization, const char *cookies, const char *name)
{
    struct credentials c;
    memset(&c, 0x55, sizeof c); /* no NUL: an unterminated secret shows */
    cred_parse(authorization, cookies, name, &c);
    size_t n = strnlen(c.secret, sizeof c.secret);
    switch (c.kind) {
    case CRED_BEARER:
        if (!authorization || n != 47 || strncmp(c.secret, "cbx_", 4) != 0 ||
            !b64url(c.secret + 4, 43) || !strstr(authorization, c.secret))
            abort();
        break;
    case CRED_COOKIE:
        if (authorization || !cookies || n != 43 || !b64url(c.secret, 43) ||
            !strstr(cookies, c.secret))
            abort();
        break;
    case CRED_MALFORMED:
        if (n != 0 || (!authorization && !cookies))
            abort();
        break;
    case CRED_NONE:
        if (authorization || n != 0)
            abort();
        break;
    default:
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    const char *authorization = text, *cookies = NULL;
    char *nl = memchr(text, '\n', size);
    if (nl) {
        *nl = '\0';
        cookies = nl + 1;
        if (nl == text)
            authorization = NULL;
    }
    check(authorization, cookies, "clinicbox_session");
    check(authorization, cookies, "__Host-clinicbox");
    free(text);
    return 0;
}
