/*
 * headers.h — the security headers that go out on every answer: the API's
 * (server.c), the UI's files (static.c) and civetweb's own error pages
 * (its additional_header option). One place, so that they cannot drift.
 */
#ifndef CLINICBOX_HEADERS_H
#define CLINICBOX_HEADERS_H

#include <stdbool.h>
#include <stddef.h>

#include "service/app.h"

/* Room for the lines http_security_headers() writes, with its NUL. */
#define HTTP_SECURITY_HEADERS_MAX 512

/* The Content-Security-Policy: no inline script or style, nothing from
 * another origin, no framing, no plugins (docs/security.md). */
#define HTTP_CSP                                                                           \
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "     \
    "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; " \
    "object-src 'none'"

/* Writes the security header lines ("Name: value\r\n" each) into buf:
 * Content-Security-Policy, X-Content-Type-Options, Referrer-Policy,
 * X-Frame-Options, and Strict-Transport-Security when tls. Returns the
 * length written; 0 (and an empty buf) when len is too small. Cache-Control
 * is the caller's: no-store for the API, no-cache for the UI's files. */
size_t http_security_headers(char *buf, size_t len, bool tls);

/* Room for the line http_date_header() writes, with its NUL. */
#define HTTP_DATE_HEADER_MAX 40

/* Writes "Date: <now as an HTTP date>\r\n" into buf (RFC 9110 section
 * 6.6.1: an origin server with a clock sends it on every 2xx, 3xx and 4xx
 * answer). Returns the length written. */
size_t http_date_header(char *buf, size_t len);

/* Whether the server answers over TLS (then HSTS is sent). */
bool http_tls_enabled(const app_t *app);

#endif
