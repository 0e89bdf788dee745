/*
 * input.h — validating request JSON field by field.
 *
 * Every problem is collected (field + message) so one answer lists them all.
 * 400: a value that cannot be read as what the field is (a JSON type, or a
 * string format: date-time, date, HH:MM, id, email, E.164 phone) and unknown
 * fields. 422: a value that can be read but is not allowed (out of range, too
 * long, empty). The answer takes the most basic class seen (400 first).
 * Getters return true when the field is present and valid.
 */
#ifndef CLINICBOX_INPUT_H
#define CLINICBOX_INPUT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    json_t *errors; /* array of {field, message} */
    int status;     /* 0 while fine */
} verr_t;

void verr_init(verr_t *v);
void verr_add(verr_t *v, int status, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Frees what verr_init made unless it was handed to an answer. */
void verr_free(verr_t *v);

/* Reports any key of obj not in the NULL-terminated list. */
void in_only(json_t *obj, const char *const *allowed, verr_t *v);

/* Text. in_string: one line (names, time zone, token): no C0 control
 * characters at all (so no LF, CR or TAB), no DEL, no C1 controls
 * (U+0080-U+009F) and no U+2028/U+2029: such text ends up in email
 * subjects, headers and greetings. in_text: several lines (a reason): LF,
 * CR LF and TAB are allowed, other controls are not. Either is 400; too long
 * is 422; a required one must not be empty (422). */
bool in_string(json_t *obj, const char *key, bool required, size_t maxlen, char *out,
               size_t outlen, verr_t *v);
bool in_text(json_t *obj, const char *key, bool required, size_t maxlen, char *out,
             size_t outlen, verr_t *v);
/* Whether n bytes of UTF-8 are acceptable text by the rules above (a NUL
 * byte never is). */
bool input_text_ok(const char *s, size_t n, bool multiline);
bool in_name(json_t *obj, const char *key, bool required, size_t maxlen, char *out,
             size_t outlen, verr_t *v);
bool in_int(json_t *obj, const char *key, bool required, long long min, long long max,
            long long *out, verr_t *v);
bool in_bool(json_t *obj, const char *key, bool required, bool *out, verr_t *v);
/* An RFC 3339 date-time. */
bool in_time(json_t *obj, const char *key, bool required, int64_t *out, verr_t *v);
/* An id that looks like one of ours (a UUID). */
bool in_id(json_t *obj, const char *key, bool required, char *out, size_t outlen, verr_t *v);
bool in_email(json_t *obj, const char *key, char *out, size_t outlen, verr_t *v);
bool in_phone(json_t *obj, const char *key, char *out, size_t outlen, verr_t *v);

/* An array of up to CLINIC_MAX_REMINDERS distinct whole hours from 1 to
 * 168 ([] turns reminders off), stored in descending order. */
bool in_reminder_hours(json_t *obj, int *hours, int *n, verr_t *v);

/* Read-only fields a client may send back as it read them (id, created_at,
 * ...): their values are ignored, but they must still be strings. */
void in_echoed(json_t *obj, const char *const *keys, verr_t *v);

/* Characters (not bytes) in a UTF-8 string. */
size_t utf8_chars(const char *s);

/* Checks a JSON text's nesting depth before parsing it. */
bool input_depth_ok(const char *text, size_t len, int max_depth);

#endif
