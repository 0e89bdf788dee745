/*
 * headers.c — the security headers of every answer (headers.h).
 *
 * HSTS only under TLS: a browser ignores it over plain HTTP, and sending it
 * there would promise something the box does not do.
 */
#include "http/headers.h"

#include <stdio.h>

size_t http_security_headers(char *buf, size_t len, bool tls)
{
    if (!buf || len == 0)
        return 0;
    int n = snprintf(buf, len,
                     "Content-Security-Policy: " HTTP_CSP "\r\n"
                     "X-Content-Type-Options: nosniff\r\n"
                     "Referrer-Policy: no-referrer\r\n"
                     "X-Frame-Options: DENY\r\n"
                     "%s",
                     tls ? "Strict-Transport-Security: max-age=31536000\r\n" /* a year */ : "");
    if (n < 0 || (size_t)n >= len) {
        buf[0] = '\0';
        return 0;
    }
    return (size_t)n;
}

bool http_tls_enabled(const app_t *app)
{
    return app->cfg.tls; /* the server then speaks HTTPS only (tls.c) */
}
