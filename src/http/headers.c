/*
 * headers.c — the security headers and the Date of every answer (headers.h).
 *
 * HSTS only under TLS: a browser ignores it over plain HTTP, and sending it
 * there would promise something the box does not do.
 */
#include "http/headers.h"

#include <stdio.h>
#include <time.h>

#include "core/timefmt.h"

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

size_t http_date_header(char *buf, size_t len)
{
    char date[TIMEFMT_HTTP_DATE_LEN];
    timefmt_format_http_date((int64_t)time(NULL), date, sizeof date);
    int n = snprintf(buf, len, "Date: %s\r\n", date);
    return n < 0 || (size_t)n >= len ? 0 : (size_t)n;
}

bool http_tls_enabled(const app_t *app)
{
    return app->cfg.tls; /* the server then speaks HTTPS only (tls.c) */
}
