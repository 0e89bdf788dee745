/* credentials.c — see credentials.h. */
#include "auth/credentials.h"

#include <sodium.h>
#include <string.h>
#include <strings.h>

#include "auth/accounts.h"

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

static void malformed(struct credentials *out)
{
    sodium_memzero(out->secret, sizeof out->secret);
    out->kind = CRED_MALFORMED;
}

/* The value of cookie `name` in a Cookie header ("a=1; b=2"): the first one
 * of that name (RFC 6265 5.4: browsers send the most specific first). */
static const char *cookie_value(const char *cookies, const char *name, size_t *len)
{
    size_t nlen = strlen(name);
    const char *p = cookies;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ';')
            p++;
        const char *end = p + strcspn(p, ";");
        const char *eq = memchr(p, '=', (size_t)(end - p));
        if (eq && (size_t)(eq - p) == nlen && memcmp(p, name, nlen) == 0) {
            const char *v = eq + 1, *ve = end;
            while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
                ve--;
            *len = (size_t)(ve - v);
            return v;
        }
        p = end;
    }
    return NULL;
}

void cred_parse(const char *authorization, const char *cookies, const char *cookie_name,
                struct credentials *out)
{
    memset(out, 0, sizeof *out);
    const size_t plen = strlen(API_TOKEN_PREFIX);
    if (authorization) {
        const char *t = authorization;
        if (strncasecmp(t, "Bearer ", 7) != 0)
            return malformed(out);
        t += 7;
        while (*t == ' ')
            t++;
        size_t n = strlen(t);
        while (n && (t[n - 1] == ' ' || t[n - 1] == '\t'))
            n--;
        if (n != API_TOKEN_LEN - 1 || strncmp(t, API_TOKEN_PREFIX, plen) != 0 ||
            !b64url(t + plen, n - plen))
            return malformed(out);
        memcpy(out->secret, t, n);
        out->kind = CRED_BEARER;
        return;
    }
    if (!cookies)
        return;
    size_t n = 0;
    const char *v = cookie_value(cookies, cookie_name, &n);
    if (!v)
        return;
    if (n != TOKEN_LEN - 1 || !b64url(v, n))
        return malformed(out);
    memcpy(out->secret, v, n);
    out->kind = CRED_COOKIE;
}
