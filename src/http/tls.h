/*
 * tls.h — HTTPS for the server (docs/security.md, "TLS"): the certificate,
 * the civetweb options for TLS 1.2+ with forward-secret AEAD ciphers, and
 * the optional plain-HTTP listener that only redirects to https.
 *
 * Threads: everything here runs once in the main thread at start and stop;
 * the worker threads only read what http_tls_info() returns.
 */
#ifndef CLINICBOX_HTTP_TLS_H
#define CLINICBOX_HTTP_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/config.h"
#include "core/tlscert.h"
#include "http/http.h"

/* The ciphers offered under TLS 1.2: ECDHE key exchange (forward secrecy)
 * with AES-GCM or ChaCha20-Poly1305 (AEAD) only. TLS 1.3's suites are all
 * of that kind and stay OpenSSL's defaults. */
#define HTTP_TLS_CIPHERS                                                                     \
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"                             \
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"                             \
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"

/* Readies the certificate (cfg->tls_cert/tls_key, or the self-signed one in
 * DATA/tls/, made now if absent) and adds the TLS options to civetweb's
 * option list: options[*n] onward, at most cap entries in all with the
 * final NULL; the "listening_ports" value already in the list gets the "s"
 * (TLS) suffix on each address. Logs what is wrong and returns false. */
bool http_tls_prepare(const struct config *cfg, int64_t now, const char **options, int *n,
                      int cap);

/* Right after mg_start(), whether it worked or not: removes the bundle of
 * key and certificate that civetweb has read by then. */
void http_tls_forget_key(void);

/* Starts the plain-HTTP redirect listener when TLS is on and
 * cfg->tls_redirect_listen is set. false (with a log line) when it cannot
 * listen there. */
bool http_tls_redirect_start(const struct config *cfg);

/* Stops the redirect listener (before mg_exit_library()). */
void http_tls_stop(void);

/* The served certificate, or NULL when TLS is off. */
const tlscert_info *http_tls_info(void);

/* The Location a plain-HTTP request is redirected to: https://HOST[:PORT]
 * followed by the request's path and query, HOST taken from the Host
 * header (without its port; a name or an IP literal, nothing else).
 * false when Host is missing or not of that form, or the path is not an
 * origin-form path of printable ASCII. */
bool http_tls_redirect_location(const char *host_header, const char *path, const char *query,
                                int https_port, char *out, size_t outlen);

/* GET /api/tls */
void h_tls(req_t *r);

#endif
