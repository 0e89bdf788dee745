/*
 * twilio.c — see twilio.h. The API's answers are JSON: a Message resource
 * ({"sid": "SM...", "status": "queued", ...}) on success, an error
 * ({"code": 21211, "message": "...", "more_info": ..., "status": 400})
 * otherwise. Runs on the SMS worker's thread only.
 */
#include "outbox/twilio.h"

#include <curl/curl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define TWILIO_MAX_RESPONSE (64 * 1024)

struct twilio_sender {
    CURL *curl;
    struct config cfg;
    char url[700];
    char curl_error[CURL_ERROR_SIZE];
};

struct response {
    char *buf;
    size_t len;
    int retry_after;
};

static size_t body_cb(char *data, size_t size, size_t nmemb, void *arg)
{
    struct response *r = arg;
    size_t n = size * nmemb;
    if (r->len + n > TWILIO_MAX_RESPONSE)
        return n; /* keep the start; the rest is never needed */
    char *p = realloc(r->buf, r->len + n + 1);
    if (!p)
        return 0;
    memcpy(p + r->len, data, n);
    r->buf = p;
    r->len += n;
    r->buf[r->len] = 0;
    return n;
}

static size_t header_cb(char *data, size_t size, size_t nmemb, void *arg)
{
    struct response *r = arg;
    size_t n = size * nmemb;
    static const char name[] = "retry-after:";
    if (n > sizeof name && strncasecmp(data, name, sizeof name - 1) == 0) {
        char value[64];
        size_t vlen = n - (sizeof name - 1);
        if (vlen >= sizeof value)
            vlen = sizeof value - 1;
        memcpy(value, data + sizeof name - 1, vlen);
        value[vlen] = 0;
        char *end;
        long secs = strtol(value, &end, 10);
        if (end != value && secs >= 0) {
            r->retry_after = secs > 86400 ? 86400 : (int)secs;
        } else { /* an HTTP-date */
            time_t when = curl_getdate(value, NULL);
            time_t now = time(NULL);
            if (when > now)
                r->retry_after = when - now > 86400 ? 86400 : (int)(when - now);
        }
    }
    return n;
}

twilio_sender *twilio_new(const struct config *cfg)
{
    twilio_sender *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->cfg = *cfg;
    size_t blen = strlen(cfg->twilio_base_url);
    while (blen && cfg->twilio_base_url[blen - 1] == '/')
        blen--;
    snprintf(t->url, sizeof t->url, "%.*s/2010-04-01/Accounts/%s/Messages.json", (int)blen,
             cfg->twilio_base_url, cfg->twilio_account_sid);
    t->curl = curl_easy_init();
    if (!t->curl) {
        free(t);
        return NULL;
    }
    return t;
}

void twilio_free(twilio_sender *t)
{
    if (!t)
        return;
    curl_easy_cleanup(t->curl);
    free(t);
}

/* Appends "&key=escaped(value)" (no '&' first). false when out of memory. */
static bool form_add(CURL *c, char **form, size_t *len, const char *key, const char *value)
{
    char *esc = curl_easy_escape(c, value, 0);
    if (!esc)
        return false;
    size_t need = *len + strlen(key) + strlen(esc) + 3;
    char *p = realloc(*form, need);
    if (!p) {
        curl_free(esc);
        return false;
    }
    *len += (size_t)snprintf(p + *len, need - *len, "%s%s=%s", *len ? "&" : "", key, esc);
    *form = p;
    curl_free(esc);
    return true;
}

static void api_error(const struct response *r, long status, send_result *out)
{
    json_t *j = r->buf ? json_loads(r->buf, 0, NULL) : NULL;
    json_t *code = json_object_get(j, "code"), *msg = json_object_get(j, "message");
    if (json_is_integer(code) && json_is_string(msg))
        snprintf(out->error, sizeof out->error, "Twilio %ld, error %lld: %.180s", status,
                 (long long)json_integer_value(code), json_string_value(msg));
    else
        snprintf(out->error, sizeof out->error, "Twilio answered HTTP %ld", status);
    json_decref(j);
}

static void classify(CURLcode rc, long status, bool connected, const char *detail,
                     const struct response *r, send_result *out)
{
    const char *what = detail[0] ? detail : curl_easy_strerror(rc);
    if (rc != CURLE_OK) {
        bool down = rc == CURLE_COULDNT_RESOLVE_HOST || rc == CURLE_COULDNT_RESOLVE_PROXY ||
                    rc == CURLE_COULDNT_CONNECT || rc == CURLE_SSL_CONNECT_ERROR ||
                    rc == CURLE_PEER_FAILED_VERIFICATION ||
                    (rc == CURLE_OPERATION_TIMEDOUT && !connected);
        out->outcome = down ? SEND_UNREACHABLE : SEND_TRANSIENT;
        snprintf(out->error, sizeof out->error, "Twilio %s: %.180s",
                 down ? "unreachable" : "exchange failed", what);
        return;
    }
    if (status >= 200 && status < 300) {
        json_t *j = r->buf ? json_loads(r->buf, 0, NULL) : NULL;
        json_t *sid = json_object_get(j, "sid");
        out->outcome = SEND_OK;
        if (json_is_string(sid))
            snprintf(out->provider_id, sizeof out->provider_id, "%s", json_string_value(sid));
        json_decref(j);
        return;
    }
    api_error(r, status, out);
    if (status == 429) {
        out->outcome = SEND_TRANSIENT;
        out->retry_after = r->retry_after;
    } else if (status >= 500 || status == 401 || status == 403 || status == 404 ||
               status == 408) {
        out->outcome = SEND_TRANSIENT;
        out->retry_after = r->retry_after;
    } else {
        out->outcome = SEND_PERMANENT;
    }
}

void twilio_send(twilio_sender *t, const char *to, const char *body, send_result *out)
{
    struct response r = {NULL, 0, 0};
    char *form = NULL;
    size_t flen = 0;
    long status = 0;
    double connect_time = 0;
    CURL *c = t->curl;
    const char *from = t->cfg.twilio_from;
    bool service = strncmp(from, "MG", 2) == 0;

    memset(out, 0, sizeof *out);
    if (!form_add(c, &form, &flen, "To", to) ||
        !form_add(c, &form, &flen, service ? "MessagingServiceSid" : "From", from) ||
        !form_add(c, &form, &flen, "Body", body)) {
        out->outcome = SEND_TRANSIENT;
        snprintf(out->error, sizeof out->error, "out of memory");
        goto out;
    }
    t->curl_error[0] = 0;
    curl_easy_reset(c);
    curl_easy_setopt(c, CURLOPT_URL, t->url);
    curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
    curl_easy_setopt(c, CURLOPT_USERNAME, t->cfg.twilio_account_sid);
    curl_easy_setopt(c, CURLOPT_PASSWORD, t->cfg.twilio_auth_token);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, form);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)flen);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, body_cb);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, header_cb);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &r);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "clinicbox/" CLINICBOX_VERSION);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    if (t->cfg.tls_ca_file[0])
        curl_easy_setopt(c, CURLOPT_CAINFO, t->cfg.tls_ca_file);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, (long)t->cfg.outbox_timeout_seconds);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)t->cfg.outbox_timeout_seconds);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, t->curl_error);
    CURLcode rc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(c, CURLINFO_CONNECT_TIME, &connect_time);
    classify(rc, status, connect_time > 0, t->curl_error, &r, out);
out:
    free(form);
    free(r.buf);
}
