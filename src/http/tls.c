/*
 * tls.c — HTTPS for the server: which certificate, civetweb's TLS options,
 * and the plain-HTTP listener that only redirects (see tls.h).
 *
 * civetweb (Debian's libcivetweb 1.15) loads libssl.so and libcrypto.so at
 * run time; server.c checks that mg_init_library() really loaded them, so
 * a box never falls back to plain HTTP when TLS is on. civetweb reads the
 * certificate and key from one PEM file: a bundle of both is written into
 * DATA/tls/ (mode 0600) for mg_start() and removed as soon as it returns.
 * civetweb itself always sets SSL_OP_NO_COMPRESSION and
 * SSL_OP_NO_RENEGOTIATION; ssl_protocol_version 4 means "TLS 1.2 and
 * later" (its ssl_get_protocol() sets SSL_OP_NO_SSLv2 ... SSL_OP_NO_TLSv1_1).
 *
 * State: one struct written in the main thread before any worker starts,
 * read-only afterwards.
 */
#include "http/tls.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"
#include "core/timefmt.h"
#include "http/headers.h"

static struct {
    bool on;
    tlscert_info info;
    char ports[400];
    char bundle[640];
    int https_port;
    struct mg_context *redirect;
} tls;

const tlscert_info *http_tls_info(void)
{
    return tls.on ? &tls.info : NULL;
}

/* listening_ports with the "s" suffix on every address. */
static bool tls_ports(const char *listen, char *out, size_t outlen)
{
    size_t used = 0;
    out[0] = '\0';
    for (const char *p = listen; *p;) {
        size_t n = strcspn(p, ",");
        while (n && isspace((unsigned char)p[n - 1]))
            n--;
        if (n == 0) {
            log_error("tls", "listen \"%s\" has an empty address", listen);
            return false;
        }
        char last = p[n - 1];
        if (!isdigit((unsigned char)last) && last != 's') {
            log_error("tls", "listen \"%s\": an address ends with its port (a redirecting port "
                             "goes in tls_redirect_listen)", listen);
            return false;
        }
        int w = snprintf(out + used, outlen - used, "%s%.*s%s", used ? "," : "", (int)n, p,
                         last == 's' ? "" : "s");
        if (w < 0 || (size_t)w >= outlen - used) {
            log_error("tls", "listen \"%s\" is too long", listen);
            return false;
        }
        used += (size_t)w;
        p += strcspn(p, ",");
        if (*p == ',')
            p++;
        while (isspace((unsigned char)*p))
            p++;
    }
    return used > 0;
}

/* The port of the first address in listen ("[::1]:8443", "8443s"). */
static int first_port(const char *listen)
{
    size_t n = strcspn(listen, ",");
    while (n && (listen[n - 1] == 's' || isspace((unsigned char)listen[n - 1])))
        n--;
    size_t start = n;
    while (start && isdigit((unsigned char)listen[start - 1]))
        start--;
    int port = 0;
    for (size_t i = start; i < n && port < 65536; i++)
        port = port * 10 + (listen[i] - '0');
    return port;
}

/* The self-signed certificate in DATA/tls/, made when missing, or when the
 * clock is outside its validity (expired after ten years, or made by a
 * clock that was far ahead). */
static bool self_signed(const struct config *cfg, int64_t now, char *cert, size_t certlen,
                        char *key, size_t keylen, char *err, size_t errlen)
{
    char dir[530], host[256] = "", san[4096];
    struct stat st;
    snprintf(dir, sizeof dir, "%s/tls", cfg->data);
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "cannot create %s: %s", dir, strerror(errno));
        return false;
    }
    if (stat(dir, &st) == 0 && (st.st_mode & 077) && chmod(dir, 0700) != 0)
        log_warn("tls", "cannot make %s private (mode 0700): %s", dir, strerror(errno));
    snprintf(cert, certlen, "%s/cert.pem", dir);
    snprintf(key, keylen, "%s/key.pem", dir);
    bool have_cert = access(cert, F_OK) == 0, have_key = access(key, F_OK) == 0;
    const char *why = NULL;
    if (have_cert && have_key) {
        tlscert_info info;
        if (!tlscert_load(cert, key, NULL, &info, err, errlen)) {
            size_t len = strlen(err);
            snprintf(err + len, errlen - len,
                     " (the box made these files; move %s away to get a new certificate)", dir);
            return false;
        }
        if (now >= info.not_before && now <= info.not_after)
            return true;
        why = now > info.not_after ? "it has expired" : "it starts in the future (clock changed?)";
    } else if (have_cert || have_key) {
        why = have_cert ? "its key is missing" : "the certificate is missing";
    }
    gethostname(host, sizeof host - 1);
    if (!tlscert_san_list(host, cfg->listen, cfg->hostnames, san, sizeof san)) {
        snprintf(err, errlen, "too many names for the certificate (listen = %s)", cfg->listen);
        return false;
    }
    if (!tlscert_make_self_signed(cert, key, host, san, now, err, errlen))
        return false;
    if (why)
        log_warn("tls", "made a new self-signed certificate in %s because %s: its fingerprint "
                        "has changed", dir, why);
    else
        log_info("tls", "made a self-signed certificate in %s for %s", dir, san);
    return true;
}

bool http_tls_prepare(const struct config *cfg, int64_t now, const char **options, int *n,
                      int cap)
{
    char cert[640], key[640], err[1600];
    memset(&tls, 0, sizeof tls);
    if (!cfg->tls) {
        if (cfg->tls_redirect_listen[0]) {
            log_error("tls", "tls_redirect_listen is set but tls is off: there is no https "
                             "address to redirect to");
            return false;
        }
        return true;
    }
    if (cfg->tls_key[0] && !cfg->tls_cert[0]) {
        log_error("tls", "tls_key is set without tls_cert: set both, or neither for the "
                         "self-signed certificate");
        return false;
    }
    if (*n + 8 >= cap || !tls_ports(cfg->listen, tls.ports, sizeof tls.ports))
        return false;
    tls.https_port = first_port(cfg->listen);
    if (cfg->tls_cert[0]) {
        snprintf(cert, sizeof cert, "%s", cfg->tls_cert);
        snprintf(key, sizeof key, "%s", cfg->tls_key[0] ? cfg->tls_key : cfg->tls_cert);
    } else if (!self_signed(cfg, now, cert, sizeof cert, key, sizeof key, err, sizeof err)) {
        log_error("tls", "%s", err);
        return false;
    }
    /* The bundle beside the data, never in a directory others can read. */
    char dir[530];
    snprintf(dir, sizeof dir, "%s/tls", cfg->data);
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        log_error("tls", "cannot create %s: %s", dir, strerror(errno));
        return false;
    }
    snprintf(tls.bundle, sizeof tls.bundle, "%s/.served.pem", dir);
    if (!tlscert_load(cert, key, tls.bundle, &tls.info, err, sizeof err)) {
        log_error("tls", "%s", err);
        unlink(tls.bundle);
        tls.bundle[0] = '\0';
        return false;
    }
    char until[TIMEFMT_RFC3339_LEN];
    timefmt_format_rfc3339(tls.info.not_after, 0, true, until, sizeof until);
    if (now > tls.info.not_after)
        log_warn("tls", "the certificate in %s expired at %s: browsers will refuse it", cert,
                 until);
    else if (now < tls.info.not_before)
        log_warn("tls", "the certificate in %s is not valid yet: browsers will refuse it", cert);
    log_info("tls", "certificate %s (%s%s), valid until %s, SHA-256 fingerprint %s", cert,
             tls.info.subject, tls.info.self_signed ? ", self-signed" : "", until,
             tls.info.fingerprint_sha256);

    for (int i = 0; i + 1 < *n; i += 2)
        if (strcmp(options[i], "listening_ports") == 0)
            options[i + 1] = tls.ports;
    const char *add[] = {"ssl_certificate", tls.bundle,
                         /* the intermediates after the leaf, when the file has them */
                         "ssl_certificate_chain", tls.bundle,
                         "ssl_protocol_version", "4",
                         "ssl_cipher_list", HTTP_TLS_CIPHERS};
    for (size_t i = 0; i < sizeof add / sizeof add[0]; i++)
        options[(*n)++] = add[i];
    options[*n] = NULL;
    tls.on = true;
    return true;
}

void http_tls_forget_key(void)
{
    if (tls.bundle[0] && unlink(tls.bundle) != 0 && errno != ENOENT)
        log_warn("tls", "cannot remove %s: %s", tls.bundle, strerror(errno));
    tls.bundle[0] = '\0';
}

/* --- the redirect listener ---------------------------------------------- */

bool http_tls_redirect_location(const char *host_header, const char *path, const char *query,
                                int https_port, char *out, size_t outlen)
{
    char host[260];
    size_t hl;
    if (!host_header || !path || path[0] != '/')
        return false;
    const char *h = host_header;
    if (h[0] == '[') {
        hl = strspn(h + 1, "0123456789abcdefABCDEF:.");
        if (hl == 0 || h[1 + hl] != ']')
            return false;
        hl += 2; /* with the brackets */
    } else {
        hl = strspn(h, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_");
        if (hl == 0)
            return false;
    }
    if (hl >= sizeof host)
        return false;
    if (h[hl] == ':') { /* the plain port: dropped */
        size_t digits = strspn(h + hl + 1, "0123456789");
        if (h[hl + 1 + digits] != '\0')
            return false;
    } else if (h[hl] != '\0') {
        return false;
    }
    memcpy(host, h, hl);
    host[hl] = '\0';
    for (const char *p = path; *p; p++)
        if (*p <= 0x20 || *p >= 0x7F)
            return false;
    for (const char *p = query ? query : ""; *p; p++)
        if (*p <= 0x20 || *p >= 0x7F)
            return false;
    char port[8] = "";
    if (https_port != 443)
        snprintf(port, sizeof port, ":%d", https_port);
    int w = snprintf(out, outlen, "https://%s%s%s%s%s", host, port, path,
                     query && *query ? "?" : "", query ? query : "");
    return w > 0 && (size_t)w < outlen;
}

static int redirect(struct mg_connection *conn, void *cbdata)
{
    (void)cbdata;
    const struct mg_request_info *ri = mg_get_request_info(conn);
    char location[2300], date[HTTP_DATE_HEADER_MAX];
    http_date_header(date, sizeof date);
    if (http_tls_redirect_location(mg_get_header(conn, "Host"), ri->local_uri_raw,
                                   ri->query_string, tls.https_port, location, sizeof location)) {
        mg_printf(conn,
                  "HTTP/1.1 308 Permanent Redirect\r\n%sLocation: %s\r\nContent-Length: 0\r\n"
                  "Connection: close\r\n\r\n",
                  date, location);
        return 308;
    }
    static const char msg[] = "This address only redirects to https; the request's Host header "
                              "or path cannot be used for that.\n";
    mg_printf(conn,
              "HTTP/1.1 400 Bad Request\r\n%sContent-Type: text/plain; charset=utf-8\r\n"
              "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
              date, sizeof msg - 1, msg);
    return 400;
}

static int redirect_log(const struct mg_connection *conn, const char *message)
{
    (void)conn;
    log_warn("civetweb", "redirect listener: %s", message);
    return 1;
}

/* Registered before the listener accepts connections (see server.c). */
static void redirect_handlers(const struct mg_context *cctx)
{
    mg_set_request_handler((struct mg_context *)cctx, "**", redirect, NULL);
}

bool http_tls_redirect_start(const struct config *cfg)
{
    if (!tls.on || !cfg->tls_redirect_listen[0])
        return true;
    const char *options[] = {"listening_ports", cfg->tls_redirect_listen,
                             "num_threads", "4",
                             "enable_keep_alive", "no",
                             "request_timeout_ms", "5000",
                             NULL};
    struct mg_callbacks cb;
    memset(&cb, 0, sizeof cb);
    cb.log_message = redirect_log;
    cb.init_context = redirect_handlers;
    tls.redirect = mg_start(&cb, NULL, options);
    if (!tls.redirect) {
        log_error("tls", "tls_redirect_listen: cannot listen on %s (in use, or not a valid "
                         "ADDR:PORT?)", cfg->tls_redirect_listen);
        return false;
    }
    log_info("tls", "plain HTTP on %s answers with a redirect to https (port %d)",
             cfg->tls_redirect_listen, tls.https_port);
    return true;
}

void http_tls_stop(void)
{
    if (tls.redirect)
        mg_stop(tls.redirect);
    tls.redirect = NULL;
}
