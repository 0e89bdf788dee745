/*
 * smtp.c — see smtp.h. Implements the client side of RFC 5321 through
 * libcurl's SMTP protocol (which does the dot-stuffing of RFC 5321 §4.5.2),
 * RFC 3207 STARTTLS (CURLUSESSL_TRY on smtp://) and RFC 8314 implicit TLS
 * (smtps://). Runs on the email worker's thread only.
 */
#include "outbox/smtp.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "outbox/mime.h"

struct smtp_sender {
    CURL *curl;
    struct config cfg;
    char from_addr[300];
    char curl_error[CURL_ERROR_SIZE];
};

struct upload {
    const char *data;
    size_t len, pos;
};

static size_t read_cb(char *buf, size_t size, size_t nmemb, void *arg)
{
    struct upload *u = arg;
    size_t n = size * nmemb;
    if (n > u->len - u->pos)
        n = u->len - u->pos;
    memcpy(buf, u->data + u->pos, n);
    u->pos += n;
    return n;
}

smtp_sender *smtp_new(const struct config *cfg)
{
    smtp_sender *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->cfg = *cfg;
    if (mime_address(cfg->smtp_from, s->from_addr, sizeof s->from_addr) != 0)
        s->from_addr[0] = 0;
    s->curl = curl_easy_init();
    if (!s->curl) {
        free(s);
        return NULL;
    }
    return s;
}

void smtp_free(smtp_sender *s)
{
    if (!s)
        return;
    curl_easy_cleanup(s->curl);
    free(s);
}

static void classify(CURLcode rc, long code, const char *detail, send_result *out)
{
    const char *what = detail[0] ? detail : curl_easy_strerror(rc);
    switch (rc) {
    case CURLE_OK:
        out->outcome = SEND_OK;
        return;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_USE_SSL_FAILED:
        out->outcome = SEND_UNREACHABLE;
        snprintf(out->error, sizeof out->error, "SMTP server unreachable: %.180s", what);
        return;
    case CURLE_LOGIN_DENIED:
        out->outcome = SEND_TRANSIENT;
        snprintf(out->error, sizeof out->error,
                 "SMTP login refused (check smtp_user and smtp_password): %.180s", what);
        return;
    default:
        break;
    }
    if (code == 530 || code == 534 || code == 535 || code == 538) {
        /* Authentication required/refused: the box's settings, not the
         * message (RFC 4954 §6). */
        out->outcome = SEND_TRANSIENT;
        snprintf(out->error, sizeof out->error,
                 "SMTP server wants authentication (check smtp_user, smtp_password, smtp_url): "
                 "%.150s", what);
    } else if (code >= 500 && code < 600) {
        out->outcome = SEND_PERMANENT;
        snprintf(out->error, sizeof out->error, "SMTP server refused the message: %.180s", what);
    } else if (code == 0 && rc == CURLE_OPERATION_TIMEDOUT) {
        out->outcome = SEND_UNREACHABLE;
        snprintf(out->error, sizeof out->error, "SMTP server did not answer: %.180s", what);
    } else {
        out->outcome = SEND_TRANSIENT;
        snprintf(out->error, sizeof out->error, "SMTP: %.180s", what);
    }
}

void smtp_send(smtp_sender *s, const char *rcpt, const char *msg, size_t len, send_result *out)
{
    struct upload u = {msg, len, 0};
    struct curl_slist *rcpts = NULL;
    char rcpt_arg[300];
    long code = 0;
    CURL *c = s->curl;

    memset(out, 0, sizeof *out);
    if (!s->from_addr[0]) {
        out->outcome = SEND_TRANSIENT;
        snprintf(out->error, sizeof out->error, "smtp_from is not a valid address");
        return;
    }
    snprintf(rcpt_arg, sizeof rcpt_arg, "<%s>", rcpt);
    rcpts = curl_slist_append(NULL, rcpt_arg);
    if (!rcpts) {
        out->outcome = SEND_TRANSIENT;
        snprintf(out->error, sizeof out->error, "out of memory");
        return;
    }
    s->curl_error[0] = 0;
    curl_easy_reset(c);
    curl_easy_setopt(c, CURLOPT_URL, s->cfg.smtp_url);
    curl_easy_setopt(c, CURLOPT_USE_SSL, (long)CURLUSESSL_TRY);
    if (s->cfg.smtp_user[0]) {
        curl_easy_setopt(c, CURLOPT_USERNAME, s->cfg.smtp_user);
        curl_easy_setopt(c, CURLOPT_PASSWORD, s->cfg.smtp_password);
    }
    curl_easy_setopt(c, CURLOPT_MAIL_FROM, s->from_addr);
    curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpts);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, read_cb);
    curl_easy_setopt(c, CURLOPT_READDATA, &u);
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    if (s->cfg.tls_ca_file[0])
        curl_easy_setopt(c, CURLOPT_CAINFO, s->cfg.tls_ca_file);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, (long)s->cfg.outbox_timeout_seconds);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)s->cfg.outbox_timeout_seconds);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, s->curl_error);
    CURLcode rc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    curl_slist_free_all(rcpts);
    classify(rc, code, s->curl_error, out);
}
