/*
 * fuzz_request.c — libFuzzer target: what the server does with a request's
 * headers and body before a handler runs, and the field validators the
 * handlers then use.
 *
 * Input: byte 0 chooses the route's body mode (% 3: ignored, optional,
 * required JSON object); then header lines "Name: value" (LF or CRLF) up to
 * an empty line; the rest is the body. The headers go through the framing
 * check (http_body_framing) as civetweb would hand them over, If-Match
 * through etag_cond_parse, the body through http_body_parse (content type,
 * depth, jansson with JSON_REJECT_DUPLICATES, an object) and then through
 * every field reader the handlers call (input.h), as the handlers call them.
 *
 * Checks beyond "no crash, no sanitizer report, no leak": a parsed body is
 * an object nested no deeper than HTTP_MAX_DEPTH (input_depth_ok must not be
 * fooled), and a validation answer is 0, 400 or 422 with as many errors as
 * it says.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/etag.h"
#include "core/ids.h"
#include "domain/slots.h"
#include "http/body.h"
#include "http/http.h"
#include "http/input.h"
#include "store/records.h"

#define MAX_HEADERS 64 /* civetweb's MG_MAX_HEADERS */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int depth_of(json_t *j)
{
    int deepest = 0;
    if (json_is_object(j)) {
        const char *k;
        json_t *v;
        json_object_foreach(j, k, v) {
            int d = depth_of(v);
            if (d > deepest)
                deepest = d;
        }
        return deepest + 1;
    }
    if (json_is_array(j)) {
        size_t i;
        json_t *v;
        json_array_foreach(j, i, v) {
            int d = depth_of(v);
            if (d > deepest)
                deepest = d;
        }
        return deepest + 1;
    }
    return 0;
}

static void check_verr(verr_t *v)
{
    if (v->status != 0 && v->status != 400 && v->status != 422)
        abort();
    if ((v->status == 0) != (json_array_size(v->errors) == 0))
        abort();
    verr_free(v);
    verr_init(v);
}

/* The field readers, called as the handlers call them (h_*.c). */
static void validate(json_t *b)
{
    static const char *const echoed[] = {"id", "created_at", "updated_at", NULL};
    static const char *const clinic_keys[] = {"name", "timezone", "grace_minutes",
                                              "reschedule_options", "offer_hours",
                                              "reminder_hours", "confirmations", "id",
                                              "created_at", "updated_at", NULL};
    static const char *const patient_keys[] = {"name",       "email",      "phone",
                                               "notify_email", "notify_sms", "id",
                                               "created_at", "updated_at", NULL};
    static const char *const appt_keys[] = {"doctor_id", "patient_id", "start",
                                            "duration_minutes", "reason", NULL};
    static const char *const rebook_keys[] = {"start", "offer_token", "option", NULL};
    char name[NAME_BUF], zone[65], email[EMAIL_MAX_LEN + 1], phone[PHONE_MAX_LEN + 1];
    char id[ID_LEN], reason[REASON_BUF], token[TOKEN_LEN];
    int hours[CLINIC_MAX_REMINDERS], nhours = 0;
    long long x;
    bool flag;
    int64_t t;
    verr_t v;

    verr_init(&v);
    /* PUT /api/clinic */
    in_only(b, clinic_keys, &v);
    in_echoed(b, echoed, &v);
    in_name(b, "name", false, NAME_MAX_LEN, name, sizeof name, &v);
    in_string(b, "timezone", false, 64, zone, sizeof zone, &v);
    in_int(b, "grace_minutes", false, 0, 1440, &x, &v);
    in_int(b, "reschedule_options", false, 1, OFFER_MAX_OPTIONS, &x, &v);
    in_int(b, "offer_hours", false, 1, 720, &x, &v);
    in_bool(b, "confirmations", false, &flag, &v);
    if (in_reminder_hours(b, hours, &nhours, &v)) {
        if (nhours < 0 || nhours > CLINIC_MAX_REMINDERS)
            abort();
        for (int i = 1; i < nhours; i++)
            if (hours[i] >= hours[i - 1])
                abort(); /* stored strictly descending */
    }
    check_verr(&v);
    /* POST /api/patients, PUT /api/doctors/{} */
    in_only(b, patient_keys, &v);
    in_echoed(b, echoed, &v);
    in_name(b, "name", true, NAME_MAX_LEN, name, sizeof name, &v);
    in_email(b, "email", email, sizeof email, &v);
    in_phone(b, "phone", phone, sizeof phone, &v);
    in_bool(b, "notify_email", false, &flag, &v);
    in_bool(b, "notify_sms", false, &flag, &v);
    in_int(b, "slot_minutes", false, 5, 480, &x, &v);
    check_verr(&v);
    /* POST /api/appointments, the actions */
    in_only(b, appt_keys, &v);
    in_id(b, "doctor_id", true, id, sizeof id, &v);
    in_id(b, "patient_id", true, id, sizeof id, &v);
    in_time(b, "start", true, &t, &v);
    in_int(b, "duration_minutes", false, 1, SLOTS_MAX_DURATION_MINUTES, &x, &v);
    in_text(b, "reason", false, REASON_MAX_LEN, reason, sizeof reason, &v);
    in_int(b, "options", false, 1, OFFER_MAX_OPTIONS, &x, &v);
    check_verr(&v);
    /* POST /api/appointments/{}/rebook */
    in_only(b, rebook_keys, &v);
    in_string(b, "offer_token", true, TOKEN_LEN, token, sizeof token, &v);
    in_int(b, "option", true, 1, OFFER_MAX_OPTIONS, &x, &v);
    in_time(b, "trusted_time", false, &t, &v);
    check_verr(&v);
    verr_free(&v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct mg_header headers[MAX_HEADERS];
    int nheaders = 0;
    const char *detail = NULL, *content_type = NULL, *if_match = NULL;
    char msg[300];

    if (size < 1)
        return 0;
    int mode = data[0] % 3;
    /* A writable NUL-terminated copy: header names and values point into it. */
    char *text = malloc(size);
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';
    size_t len = size - 1;
    char *p = text, *end = text + len, *body = end;
    while (p < end) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        char *line_end = nl ? nl : end;
        if (line_end > p && line_end[-1] == '\r')
            line_end[-1] = '\0';
        *line_end = '\0';
        if (!*p) { /* the empty line: the body follows */
            body = nl ? nl + 1 : end;
            break;
        }
        char *colon = strchr(p, ':');
        if (colon && nheaders < MAX_HEADERS) {
            *colon = '\0';
            char *value = colon + 1;
            while (*value == ' ' || *value == '\t')
                value++;
            headers[nheaders].name = p;
            headers[nheaders].value = value;
            if (!content_type && strcasecmp(p, "Content-Type") == 0)
                content_type = value;
            if (!if_match && strcasecmp(p, "If-Match") == 0)
                if_match = value;
            nheaders++;
        }
        p = nl ? nl + 1 : end;
    }

    etag_cond cond;
    if (etag_cond_parse(if_match, &cond)) {
        if (cond.n < 0 || cond.n > ETAG_COND_MAX)
            abort();
        etag_cond_holds(&cond, "\"12\"");
        etag_cond_holds(&cond, "\"12.7\"");
    }

    if (http_body_framing(headers, nheaders, &detail) != 0) {
        if (!detail)
            abort();
        free(text);
        return 0;
    }
    json_t *obj = NULL;
    /* The body as read off the connection: its own buffer of exactly its
     * length (no NUL after it), so a read past the end is caught. */
    size_t blen = (size_t)(end - body);
    char *buf = malloc(blen ? blen : 1);
    memcpy(buf, body, blen);
    int status = http_body_parse(buf, blen, mode, content_type, &obj, msg, sizeof msg);
    free(buf);
    if (status != 0 && status != 400 && status != 415)
        abort();
    if (status == 0 && obj) {
        if (!json_is_object(obj) || depth_of(obj) > HTTP_MAX_DEPTH)
            abort();
        validate(obj);
    }
    if (status != 0 && obj)
        abort();
    json_decref(obj);
    free(text);
    return 0;
}
