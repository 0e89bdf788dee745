/* input.c — see input.h. JSON null counts as "absent" for optional fields. */
#include "http/input.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/ids.h"
#include "core/timefmt.h"
#include "store/records.h"

void verr_init(verr_t *v)
{
    v->errors = json_array();
    v->status = 0;
}

void verr_free(verr_t *v)
{
    json_decref(v->errors);
    v->errors = NULL;
}

void verr_add(verr_t *v, int status, const char *field, const char *fmt, ...)
{
    char msg[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    json_array_append_new(v->errors, json_pack("{s:s,s:s}", "field", field, "message", msg));
    if (v->status == 0 || status < v->status)
        v->status = status;
}

void in_only(json_t *obj, const char *const *allowed, verr_t *v)
{
    const char *key;
    json_t *val;
    json_object_foreach(obj, key, val) {
        bool ok = false;
        for (const char *const *a = allowed; *a; a++)
            if (strcmp(*a, key) == 0)
                ok = true;
        if (!ok)
            verr_add(v, 400, key, "unknown field");
    }
}

static json_t *field(json_t *obj, const char *key, bool required, verr_t *v)
{
    json_t *f = json_object_get(obj, key);
    if (!f || json_is_null(f)) {
        if (required)
            verr_add(v, 400, key, "is required");
        return NULL;
    }
    return f;
}

bool input_text_ok(const char *s, size_t n, bool multiline)
{
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = u[i];
        if (c < 0x20) { /* C0, NUL included */
            if (!multiline)
                return false;
            if (c == '\n' || c == '\t')
                continue;
            if (c == '\r' && i + 1 < n && u[i + 1] == '\n')
                continue;
            return false;
        }
        if (c == 0x7F) /* DEL */
            return false;
        if (c == 0xC2 && i + 1 < n && u[i + 1] >= 0x80 && u[i + 1] <= 0x9F)
            return false; /* C1: U+0080..U+009F, NEL (U+0085) among them */
        if (!multiline && c == 0xE2 && i + 2 < n && u[i + 1] == 0x80 &&
            (u[i + 2] == 0xA8 || u[i + 2] == 0xA9))
            return false; /* U+2028 LINE SEPARATOR, U+2029 PARAGRAPH SEPARATOR */
    }
    return true;
}

size_t utf8_chars(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80)
            n++;
    return n;
}

static bool text_field(json_t *obj, const char *key, bool required, bool multiline,
                       size_t maxlen, char *out, size_t outlen, verr_t *v)
{
    json_t *f = field(obj, key, required, v);
    if (out && outlen)
        out[0] = '\0';
    if (!f)
        return false;
    if (!json_is_string(f)) {
        verr_add(v, 400, key, "must be a string");
        return false;
    }
    const char *s = json_string_value(f);
    if (!input_text_ok(s, json_string_length(f), multiline)) {
        verr_add(v, 400, key,
                 multiline ? "must not contain control characters other than tab and line breaks"
                           : "must be one line without control characters (no line breaks, "
                             "tabs, DEL or U+0080-U+009F)");
        return false;
    }
    if (utf8_chars(s) > maxlen || strlen(s) >= outlen) {
        verr_add(v, 422, key, "must be at most %zu characters", maxlen);
        return false;
    }
    if (required && !*s) {
        verr_add(v, 422, key, "must not be empty");
        return false;
    }
    memcpy(out, s, strlen(s) + 1);
    return true;
}

bool in_string(json_t *obj, const char *key, bool required, size_t maxlen, char *out,
               size_t outlen, verr_t *v)
{
    return text_field(obj, key, required, false, maxlen, out, outlen, v);
}

bool in_text(json_t *obj, const char *key, bool required, size_t maxlen, char *out,
             size_t outlen, verr_t *v)
{
    return text_field(obj, key, required, true, maxlen, out, outlen, v);
}

bool in_name(json_t *obj, const char *key, bool required, size_t maxlen, char *out,
             size_t outlen, verr_t *v)
{
    if (!in_string(obj, key, required, maxlen, out, outlen, v))
        return false;
    if (!*out) {
        verr_add(v, 422, key, "must not be empty");
        return false;
    }
    return true;
}

bool in_int(json_t *obj, const char *key, bool required, long long min, long long max,
            long long *out, verr_t *v)
{
    json_t *f = field(obj, key, required, v);
    if (!f)
        return false;
    if (!json_is_integer(f)) {
        verr_add(v, 400, key, "must be a whole number");
        return false;
    }
    long long x = json_integer_value(f);
    if (x < min || x > max) {
        verr_add(v, 422, key, "must be from %lld to %lld", min, max);
        return false;
    }
    *out = x;
    return true;
}

bool in_bool(json_t *obj, const char *key, bool required, bool *out, verr_t *v)
{
    json_t *f = field(obj, key, required, v);
    if (!f)
        return false;
    if (!json_is_boolean(f)) {
        verr_add(v, 400, key, "must be true or false");
        return false;
    }
    *out = json_is_true(f);
    return true;
}

bool in_time(json_t *obj, const char *key, bool required, int64_t *out, verr_t *v)
{
    json_t *f = field(obj, key, required, v);
    if (!f)
        return false;
    if (!json_is_string(f) || !timefmt_parse_rfc3339(json_string_value(f), out)) {
        verr_add(v, 400, key,
                 "must be an RFC 3339 date-time with an offset, like 2026-03-29T09:30:00+02:00");
        return false;
    }
    return true;
}

bool in_id(json_t *obj, const char *key, bool required, char *out, size_t outlen, verr_t *v)
{
    json_t *f = field(obj, key, required, v);
    if (!f)
        return false;
    if (!json_is_string(f) || !ids_valid(json_string_value(f))) {
        verr_add(v, 400, key, "must be an id (a UUID string)");
        return false;
    }
    snprintf(out, outlen, "%s", json_string_value(f));
    return true;
}

/* The string value of an optional field, or NULL (absent, null, or not a
 * string: then a 400 is recorded). */
static const char *opt_string(json_t *obj, const char *key, verr_t *v)
{
    json_t *f = field(obj, key, false, v);
    if (!f)
        return NULL;
    if (!json_is_string(f)) {
        verr_add(v, 400, key, "must be a string");
        return NULL;
    }
    if (strlen(json_string_value(f)) != json_string_length(f)) {
        verr_add(v, 400, key, "must not contain control characters");
        return NULL;
    }
    return json_string_value(f);
}

static bool email_ok(const char *s)
{
    const char *at = strchr(s, '@');
    size_t n = strlen(s);
    return n <= 254 && at && at != s && !strchr(at + 1, '@') && strchr(at + 1, '.') &&
           s[n - 1] != '.' && !strpbrk(s, " \t\n\r<>()[],;:\"\\") && input_text_ok(s, n, false);
}

static bool phone_ok(const char *s)
{
    size_t n = strlen(s);
    if (s[0] != '+' || n < 8 || n > 16 || s[1] == '0')
        return false;
    for (size_t i = 1; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

/* An optional string field in a format that ok() accepts (400 otherwise). */
static bool in_formatted(json_t *obj, const char *key, bool (*ok)(const char *), const char *what,
                         char *out, size_t outlen, verr_t *v)
{
    const char *s = opt_string(obj, key, v);
    out[0] = '\0';
    if (!s || !*s)
        return false;
    if (!ok(s) || strlen(s) >= outlen) {
        verr_add(v, 400, key, "must be %s", what);
        return false;
    }
    memcpy(out, s, strlen(s) + 1);
    return true;
}

bool in_email(json_t *obj, const char *key, char *out, size_t outlen, verr_t *v)
{
    return in_formatted(obj, key, email_ok,
                        "an email address like name@example.org (at most 254 characters)", out,
                        outlen, v);
}

bool in_phone(json_t *obj, const char *key, char *out, size_t outlen, verr_t *v)
{
    return in_formatted(obj, key, phone_ok, "an E.164 phone number like +4915112345678", out,
                        outlen, v);
}

bool input_depth_ok(const char *text, size_t len, int max_depth)
{
    int depth = 0;
    bool in_str = false;
    for (size_t i = 0; i < len; i++) {
        char ch = text[i];
        if (in_str) {
            if (ch == '\\')
                i++;
            else if (ch == '"')
                in_str = false;
        } else if (ch == '"') {
            in_str = true;
        } else if (ch == '[' || ch == '{') {
            if (++depth > max_depth)
                return false;
        } else if (ch == ']' || ch == '}') {
            depth--;
        }
    }
    return true;
}

void in_echoed(json_t *obj, const char *const *keys, verr_t *v)
{
    for (const char *const *k = keys; *k; k++) {
        json_t *f = json_object_get(obj, *k);
        if (f && !json_is_string(f))
            verr_add(v, 400, *k, "is read-only; when sent back it must be the string it was");
    }
}

bool in_reminder_hours(json_t *obj, int *hours, int *n, verr_t *v)
{
    const char *key = "reminder_hours";
    json_t *f = field(obj, key, false, v), *h;
    int got[CLINIC_MAX_REMINDERS], k = 0;
    size_t i;
    if (!f)
        return false;
    if (!json_is_array(f)) {
        verr_add(v, 400, key, "must be an array of hours, like [24, 2]");
        return false;
    }
    if (json_array_size(f) > CLINIC_MAX_REMINDERS) {
        verr_add(v, 422, key, "at most %d reminders", CLINIC_MAX_REMINDERS);
        return false;
    }
    json_array_foreach(f, i, h) {
        if (!json_is_integer(h)) {
            verr_add(v, 400, key, "must be an array of whole hours, like [24, 2]");
            return false;
        }
        json_int_t x = json_integer_value(h);
        if (x < 1 || x > 168) {
            verr_add(v, 422, key, "each reminder must be 1 to 168 hours before");
            return false;
        }
        for (int j = 0; j < k; j++)
            if (got[j] == (int)x) {
                verr_add(v, 422, key, "%d hours is listed twice", (int)x);
                return false;
            }
        /* insert in descending order */
        int j = k++;
        while (j > 0 && got[j - 1] < (int)x) {
            got[j] = got[j - 1];
            j--;
        }
        got[j] = (int)x;
    }
    memcpy(hours, got, sizeof(int) * (size_t)k);
    *n = k;
    return true;
}
