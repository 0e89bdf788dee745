/*
 * docmap.c — see docmap.h. One table per collection says which column
 * becomes which field, as what; documents are built with libbson's builders
 * and read with its iterators.
 */
#include "sync/docmap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/tz.h"
#include "domain/appointment.h"
#include "domain/language.h"

const char *const docmap_collections[] = {"clinics",  "doctors",      "schedules", "patients",
                                          "appointments", "offers", "notifications"};
const int docmap_ncollections = (int)(sizeof docmap_collections / sizeof docmap_collections[0]);

int docmap_index(const char *collection)
{
    for (int i = 0; i < docmap_ncollections; i++)
        if (strcmp(docmap_collections[i], collection) == 0)
            return i;
    return -1;
}

enum kind { K_TEXT, K_INT, K_BOOL, K_DATE, K_INT_ARRAY, K_OPTIONS };

struct field {
    const char *name; /* in the document; the SELECT's columns come in this order */
    enum kind kind;
};

struct entity {
    const char *collection;
    const char *sql; /* selects the record's columns by id (?1), id first */
    const struct field *fields;
    int nfields;
};

#define F(n, k) {n, k}
static const struct field clinic_fields[] = {
    F("_id", K_TEXT), F("name", K_TEXT), F("timezone", K_TEXT), F("graceMinutes", K_INT),
    F("rescheduleOptions", K_INT), F("offerHours", K_INT), F("reminderHours", K_INT_ARRAY),
    F("confirmations", K_BOOL), F("language", K_TEXT), F("createdAt", K_DATE),
    F("updatedAt", K_DATE)};
static const struct field doctor_fields[] = {
    F("_id", K_TEXT), F("name", K_TEXT), F("email", K_TEXT), F("phone", K_TEXT),
    F("slotMinutes", K_INT), F("createdAt", K_DATE), F("updatedAt", K_DATE)};
static const struct field patient_fields[] = {
    F("_id", K_TEXT), F("name", K_TEXT), F("email", K_TEXT), F("phone", K_TEXT),
    F("notifyEmail", K_BOOL), F("notifySms", K_BOOL), F("createdAt", K_DATE),
    F("updatedAt", K_DATE)};
static const struct field appt_fields[] = {
    F("_id", K_TEXT), F("doctorId", K_TEXT), F("patientId", K_TEXT), F("start", K_DATE),
    F("end", K_DATE), F("status", K_TEXT), F("reason", K_TEXT), F("cancelReason", K_TEXT),
    F("checkedInAt", K_DATE), F("completedAt", K_DATE), F("cancelledAt", K_DATE),
    F("noShowAt", K_DATE), F("rescheduledFrom", K_TEXT), F("rescheduledTo", K_TEXT),
    F("createdAt", K_DATE), F("createdBy", K_TEXT), F("updatedAt", K_DATE),
    F("updatedBy", K_TEXT), F("conflictReason", K_TEXT)};
static const struct field offer_fields[] = {
    F("_id", K_TEXT), F("appointmentId", K_TEXT), F("options", K_OPTIONS),
    F("createdAt", K_DATE), F("createdBy", K_TEXT), F("expiresAt", K_DATE),
    F("usedAt", K_DATE), F("usedOption", K_INT), F("newAppointmentId", K_TEXT)};
static const struct field note_fields[] = {
    F("_id", K_TEXT), F("appointmentId", K_TEXT), F("offerId", K_TEXT),
    F("patientId", K_TEXT), F("channel", K_TEXT), F("recipient", K_TEXT),
    F("purpose", K_TEXT), F("status", K_TEXT), F("attempts", K_INT), F("lastError", K_TEXT),
    F("nextAttemptAt", K_DATE), F("sentAt", K_DATE), F("expiresAt", K_DATE),
    F("providerId", K_TEXT), F("createdAt", K_DATE), F("updatedAt", K_DATE)};
#undef F

#define N(a) (int)(sizeof a / sizeof a[0])
static const struct entity entities[] = {
    {"clinics",
     "SELECT id, name, timezone, grace_minutes, reschedule_options, offer_hours, "
     "reminder_hours, confirmations, language, created_at, updated_at FROM clinic "
     "WHERE id = ?1",
     clinic_fields, N(clinic_fields)},
    {"doctors",
     "SELECT id, name, email, phone, slot_minutes, created_at, updated_at FROM doctors "
     "WHERE id = ?1",
     doctor_fields, N(doctor_fields)},
    {"patients",
     "SELECT id, name, email, phone, notify_email, notify_sms, created_at, updated_at "
     "FROM patients WHERE id = ?1",
     patient_fields, N(patient_fields)},
    {"appointments",
     "SELECT id, doctor_id, patient_id, start_utc, end_utc, status, reason, cancel_reason, "
     "checked_in_at, completed_at, cancelled_at, no_show_at, rescheduled_from, "
     "rescheduled_to, created_at, created_by, updated_at, updated_by, conflict_reason "
     "FROM appointments "
     "WHERE id = ?1",
     appt_fields, N(appt_fields)},
    {"offers",
     "SELECT id, appointment_id, options, created_at, created_by, expires_at, used_at, "
     "used_option, new_appointment_id FROM offers WHERE id = ?1",
     offer_fields, N(offer_fields)},
    {"notifications",
     "SELECT id, appointment_id, offer_id, patient_id, channel, recipient, purpose, status, "
     "attempts, last_error, next_attempt_at, sent_at, expires_at, provider_id, created_at, "
     "updated_at FROM notifications WHERE id = ?1",
     note_fields, N(note_fields)},
};
#undef N

static const struct entity *entity_named(const char *collection)
{
    for (size_t i = 0; i < sizeof entities / sizeof entities[0]; i++)
        if (strcmp(entities[i].collection, collection) == 0)
            return &entities[i];
    return NULL;
}

/* "[24,2]" or "[[s,e],...]" (the box's own JSON, written by the store). */
static void append_numbers(bson_t *doc, const char *name, const char *json, bool pairs)
{
    bson_t arr, pair;
    char key[16];
    const char *p = json ? json : "[]";
    int i = 0;
    bson_append_array_begin(doc, name, -1, &arr);
    while (*p) {
        char *end;
        long long a = strtoll(p, &end, 10);
        if (end == p) {
            p++;
            continue;
        }
        snprintf(key, sizeof key, "%d", i++);
        if (!pairs) {
            BSON_APPEND_INT64(&arr, key, a);
            p = end;
            continue;
        }
        p = end;
        while (*p && (*p == ',' || *p == ' '))
            p++;
        long long b = strtoll(p, &end, 10);
        p = end;
        bson_append_document_begin(&arr, key, -1, &pair);
        BSON_APPEND_DATE_TIME(&pair, "start", a * 1000);
        BSON_APPEND_DATE_TIME(&pair, "end", b * 1000);
        bson_append_document_end(&arr, &pair);
    }
    bson_append_array_end(doc, &arr);
}

/* The record's current state as the fields of a $set. STORE_NOT_FOUND if it
 * is gone. */
static int record_fields(db_conn_t *c, const struct entity *e, const char *id, bson_t *set)
{
    sqlite3_stmt *st = db_prepare(c, e->sql);
    if (!st)
        return STORE_ERROR;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        sqlite3_reset(st);
        return rc == SQLITE_DONE ? STORE_NOT_FOUND : STORE_ERROR;
    }
    for (int i = 1; i < e->nfields; i++) { /* _id is the selector */
        const struct field *f = &e->fields[i];
        bool null = sqlite3_column_type(st, i) == SQLITE_NULL;
        const char *text = (const char *)sqlite3_column_text(st, i);
        int64_t v = sqlite3_column_int64(st, i);
        if (null && f->kind != K_INT_ARRAY && f->kind != K_OPTIONS) {
            BSON_APPEND_NULL(set, f->name);
            continue;
        }
        switch (f->kind) {
        case K_TEXT:
            BSON_APPEND_UTF8(set, f->name, text ? text : "");
            break;
        case K_INT:
            BSON_APPEND_INT64(set, f->name, v);
            break;
        case K_BOOL:
            BSON_APPEND_BOOL(set, f->name, v != 0);
            break;
        case K_DATE:
            /* 0 means "not set" in the box's rows */
            if (v)
                BSON_APPEND_DATE_TIME(set, f->name, v * 1000);
            else
                BSON_APPEND_NULL(set, f->name);
            break;
        case K_INT_ARRAY:
            append_numbers(set, f->name, text, false);
            break;
        case K_OPTIONS:
            append_numbers(set, f->name, text, true);
            break;
        }
    }
    /* The row is copied into `set`: reset now, so that the statement does
     * not hold its read transaction (and the WAL) open across the push's
     * network calls. */
    sqlite3_reset(st);
    return STORE_OK;
}

/* A doctor's schedule as one document. */
static int schedule_fields(db_conn_t *c, const char *doctor_id, bson_t *set)
{
    schedule_rec s;
    bson_t arr, item;
    char key[24], hm[32];
    int rc = store_schedule_get(c, doctor_id, &s);
    if (rc != STORE_OK)
        return rc;
    BSON_APPEND_UTF8(set, "doctorId", doctor_id);
    BSON_APPEND_INT32(set, "slotMinutes", s.slot_minutes);
    bson_append_array_begin(set, "weekly", -1, &arr);
    for (size_t i = 0; i < s.nweekly; i++) {
        snprintf(key, sizeof key, "%zu", i);
        bson_append_document_begin(&arr, key, -1, &item);
        BSON_APPEND_INT32(&item, "weekday", s.weekly[i].weekday);
        snprintf(hm, sizeof hm, "%02d:%02d", s.weekly[i].start_min / 60, s.weekly[i].start_min % 60);
        BSON_APPEND_UTF8(&item, "start", hm);
        snprintf(hm, sizeof hm, "%02d:%02d", s.weekly[i].end_min / 60, s.weekly[i].end_min % 60);
        BSON_APPEND_UTF8(&item, "end", hm);
        bson_append_document_end(&arr, &item);
    }
    bson_append_array_end(set, &arr);
    bson_append_array_begin(set, "exceptions", -1, &arr);
    for (size_t i = 0; i < s.nexceptions; i++) {
        const sched_exception_t *x = &s.exceptions[i];
        char date[16];
        snprintf(key, sizeof key, "%zu", i);
        snprintf(date, sizeof date, "%04d-%02d-%02d", x->y, x->mon, x->day);
        bson_append_document_begin(&arr, key, -1, &item);
        BSON_APPEND_UTF8(&item, "date", date);
        BSON_APPEND_BOOL(&item, "closed", x->closed);
        if (x->closed) { /* docs/sync.md: absent values as null */
            BSON_APPEND_NULL(&item, "start");
            BSON_APPEND_NULL(&item, "end");
        } else {
            snprintf(hm, sizeof hm, "%02d:%02d", x->start_min / 60, x->start_min % 60);
            BSON_APPEND_UTF8(&item, "start", hm);
            snprintf(hm, sizeof hm, "%02d:%02d", x->end_min / 60, x->end_min % 60);
            BSON_APPEND_UTF8(&item, "end", hm);
        }
        bson_append_document_end(&arr, &item);
    }
    bson_append_array_end(set, &arr);
    schedule_rec_free(&s);
    return STORE_OK;
}


int docmap_set_fields(db_conn_t *c, const char *collection, const char *id, bson_t *set)
{
    if (strcmp(collection, "schedules") == 0)
        return schedule_fields(c, id, set);
    const struct entity *e = entity_named(collection);
    if (!e)
        return STORE_ERROR;
    int rc = record_fields(c, e, id, set);
    /* a tombstone stays a tombstone until the record is live again */
    if (rc == STORE_OK && (strcmp(collection, "patients") == 0 || strcmp(collection, "doctors") == 0))
        BSON_APPEND_NULL(set, "deletedAt");
    return rc;
}

/* ---- reading ------------------------------------------------------------- */

/* 0001-01-01T00:00:00Z and 9999-12-31T23:59:59.999Z in ms since 1970. */
#define DOCMAP_DATE_MIN_MS INT64_C(-62135596800000)
#define DOCMAP_DATE_MAX_MS INT64_C(253402300799999)

/* key may be a dotted path ("_sync.rev"). */
static bool find(const bson_t *d, const char *key, bson_iter_t *it)
{
    bson_iter_t top;
    return bson_iter_init(&top, d) && bson_iter_find_descendant(&top, key, it) &&
           bson_iter_type(it) != BSON_TYPE_NULL;
}

bool docmap_text(const bson_t *d, const char *key, char *out, size_t len)
{
    bson_iter_t it;
    out[0] = 0;
    if (!find(d, key, &it))
        return true;
    if (!BSON_ITER_HOLDS_UTF8(&it))
        return false;
    uint32_t n;
    const char *s = bson_iter_utf8(&it, &n);
    if (n >= len || strlen(s) != n) /* too long, or a NUL inside */
        return false;
    memcpy(out, s, n + 1);
    return true;
}

bool docmap_date(const bson_t *d, const char *key, int64_t *out)
{
    bson_iter_t it;
    *out = 0;
    if (!find(d, key, &it))
        return true;
    if (!BSON_ITER_HOLDS_DATE_TIME(&it))
        return false;
    int64_t ms = bson_iter_date_time(&it);
    /* Years 1..9999, the box's range (tz.h): beyond it a date is no use,
     * and seconds * 1000 on the way back would overflow. */
    if (ms < DOCMAP_DATE_MIN_MS || ms > DOCMAP_DATE_MAX_MS)
        return false;
    *out = ms / 1000 - (ms % 1000 < 0); /* rounded down */
    return true;
}

static bool number(const bson_t *d, const char *key, int64_t *out, bool *present)
{
    bson_iter_t it;
    *present = false;
    if (!find(d, key, &it))
        return true;
    *present = true;
    if (BSON_ITER_HOLDS_INT32(&it) || BSON_ITER_HOLDS_INT64(&it)) {
        *out = bson_iter_as_int64(&it);
        return true;
    }
    if (BSON_ITER_HOLDS_DOUBLE(&it)) {
        /* A whole number in int64_t's range (NaN fails both tests); the
         * conversion of one outside it is undefined behaviour. */
        double v = bson_iter_double(&it);
        if (!(v >= -0x1p63 && v < 0x1p63))
            return false;
        *out = (int64_t)v;
        return v == (double)*out;
    }
    return false;
}

static bool boolean(const bson_t *d, const char *key, bool *out)
{
    bson_iter_t it;
    if (!find(d, key, &it))
        return true; /* keeps the default */
    if (!BSON_ITER_HOLDS_BOOL(&it))
        return false;
    *out = bson_iter_bool(&it);
    return true;
}

bool docmap_deleted(const bson_t *d)
{
    bson_iter_t it;
    return find(d, "deletedAt", &it);
}

static bool fail(struct docmap_err *e, const char *field, const char *what)
{
    snprintf(e->why, sizeof e->why, "%s: %s", field, what);
    return false;
}

#define TEXT(d, key, buf, e) \
    if (!docmap_text(d, key, buf, sizeof buf)) \
        return fail(e, key, "not a text, or too long");
#define DATE(d, key, var, e) \
    if (!docmap_date(d, key, &(var))) \
        return fail(e, key, "not a date");

static bool int_in(const bson_t *d, const char *key, long lo, long hi, int *out, bool required,
                   struct docmap_err *e)
{
    int64_t v = 0;
    bool present;
    if (!number(d, key, &v, &present))
        return fail(e, key, "not a whole number");
    if (!present)
        return required ? fail(e, key, "missing") : true;
    if (v < lo || v > hi)
        return fail(e, key, "out of range");
    *out = (int)v;
    return true;
}

bool docmap_to_clinic(const bson_t *d, clinic_rec *out, struct docmap_err *e)
{
    /* out holds the box's clinic; the document's fields replace its own */
    TEXT(d, "name", out->name, e);
    if (!out->name[0])
        return fail(e, "name", "missing");
    char zone[sizeof out->timezone];
    TEXT(d, "timezone", zone, e);
    if (!tz_get(zone))
        return fail(e, "timezone", "not a known time zone");
    snprintf(out->timezone, sizeof out->timezone, "%s", zone);
    bson_iter_t it;
    out->grace_set = find(d, "graceMinutes", &it);
    if (out->grace_set && !int_in(d, "graceMinutes", 0, 1440, &out->grace_minutes, true, e))
        return false;
    if (!int_in(d, "rescheduleOptions", 1, 20, &out->reschedule_options, true, e) ||
        !int_in(d, "offerHours", 1, 720, &out->offer_hours, true, e))
        return false;
    if (!boolean(d, "confirmations", &out->confirmations))
        return fail(e, "confirmations", "not true or false");
    if (find(d, "language", &it)) { /* absent (an older box or writer): kept */
        char language[LANGUAGE_BUF];
        if (!docmap_text(d, "language", language, sizeof language) || !language_valid(language))
            return fail(e, "language", "not auto, en or de");
        snprintf(out->language, sizeof out->language, "%s", language);
    }
    if (find(d, "reminderHours", &it)) {
        bson_iter_t arr;
        if (!BSON_ITER_HOLDS_ARRAY(&it) || !bson_iter_recurse(&it, &arr))
            return fail(e, "reminderHours", "not a list");
        out->nreminders = 0;
        while (bson_iter_next(&arr)) {
            int64_t h = BSON_ITER_HOLDS_NUMBER(&arr) ? bson_iter_as_int64(&arr) : -1;
            if (h < 1 || h > 720 || out->nreminders == CLINIC_MAX_REMINDERS ||
                (out->nreminders && h >= out->reminder_hours[out->nreminders - 1]))
                return fail(e, "reminderHours", "up to 4 hours, each 1-720, descending");
            out->reminder_hours[out->nreminders++] = (int)h;
        }
    }
    DATE(d, "updatedAt", out->updated_at, e);
    return true;
}

bool docmap_to_doctor(const bson_t *d, doctor_rec *out, struct docmap_err *e)
{
    memset(out, 0, sizeof *out);
    TEXT(d, "_id", out->id, e);
    TEXT(d, "name", out->name, e);
    if (!out->name[0])
        return fail(e, "name", "missing");
    TEXT(d, "email", out->email, e);
    TEXT(d, "phone", out->phone, e);
    if (!int_in(d, "slotMinutes", 5, 480, &out->slot_minutes, true, e))
        return false;
    if (out->slot_minutes % 5)
        return fail(e, "slotMinutes", "not a multiple of 5");
    DATE(d, "createdAt", out->created_at, e);
    DATE(d, "updatedAt", out->updated_at, e);
    return true;
}

bool docmap_to_patient(const bson_t *d, patient_rec *out, struct docmap_err *e)
{
    memset(out, 0, sizeof *out);
    out->notify_email = out->notify_sms = true;
    TEXT(d, "_id", out->id, e);
    TEXT(d, "name", out->name, e);
    if (!out->name[0])
        return fail(e, "name", "missing");
    TEXT(d, "email", out->email, e);
    TEXT(d, "phone", out->phone, e);
    if (!boolean(d, "notifyEmail", &out->notify_email))
        return fail(e, "notifyEmail", "not true or false");
    if (!boolean(d, "notifySms", &out->notify_sms))
        return fail(e, "notifySms", "not true or false");
    DATE(d, "createdAt", out->created_at, e);
    DATE(d, "updatedAt", out->updated_at, e);
    return true;
}

bool docmap_to_appt(const bson_t *d, appt_rec *out, struct docmap_err *e)
{
    memset(out, 0, sizeof *out);
    TEXT(d, "_id", out->id, e);
    TEXT(d, "doctorId", out->doctor_id, e);
    TEXT(d, "patientId", out->patient_id, e);
    if (!out->doctor_id[0])
        return fail(e, "doctorId", "missing");
    if (!out->patient_id[0])
        return fail(e, "patientId", "missing");
    DATE(d, "start", out->start, e);
    DATE(d, "end", out->end, e);
    /* the message names the field at fault, start before end */
    static const char grid[] = "start and end must be dates on the 5-minute grid, end after start";
    if (!out->start)
        return fail(e, "start", "missing");
    if (!out->end)
        return fail(e, "end", "missing");
    if (out->start % 300)
        return fail(e, "start", grid);
    if (out->end % 300 || out->end <= out->start)
        return fail(e, "end", grid);
    TEXT(d, "status", out->status, e);
    if (!out->status[0])
        snprintf(out->status, sizeof out->status, "booked");
    if (!appt_status_valid(out->status))
        return fail(e, "status", "not a known status");
    TEXT(d, "reason", out->reason, e);
    TEXT(d, "cancelReason", out->cancel_reason, e);
    TEXT(d, "createdBy", out->created_by, e);
    TEXT(d, "updatedBy", out->updated_by, e);
    DATE(d, "createdAt", out->created_at, e);
    DATE(d, "updatedAt", out->updated_at, e);
    return true;
}

/* "HH:MM" into minutes of the day, on the 5-minute grid. */
static bool hhmm(const bson_t *d, const char *key, int *out)
{
    char s[8];
    int h, m;
    char tail;
    if (!docmap_text(d, key, s, sizeof s) || sscanf(s, "%d:%d%c", &h, &m, &tail) != 2 || h < 0 ||
        h > 24 || m < 0 || m > 59 || (h == 24 && m) || m % 5)
        return false;
    *out = h * 60 + m;
    return true;
}

bool docmap_to_schedule(const bson_t *d, schedule_rec *out, struct docmap_err *e)
{
    bson_iter_t it, arr, item;
    memset(out, 0, sizeof *out);
    for (int part = 0; part < 2; part++) {
        const char *key = part ? "exceptions" : "weekly";
        if (!find(d, key, &it))
            continue;
        if (!BSON_ITER_HOLDS_ARRAY(&it) || !bson_iter_recurse(&it, &arr))
            return fail(e, key, "not a list");
        while (bson_iter_next(&arr)) {
            uint32_t len;
            const uint8_t *data;
            bson_t sub;
            if (!BSON_ITER_HOLDS_DOCUMENT(&arr))
                return fail(e, key, "items must be documents");
            bson_iter_document(&arr, &len, &data);
            if (!bson_init_static(&sub, data, len))
                return fail(e, key, "not a document");
            (void)item;
            if (!part) {
                sched_weekly_t w = {0};
                if (!int_in(&sub, "weekday", 1, 7, &w.weekday, true, e))
                    return false;
                if (!hhmm(&sub, "start", &w.start_min) || !hhmm(&sub, "end", &w.end_min) ||
                    w.start_min >= w.end_min)
                    return fail(e, "weekly", "start and end must be HH:MM on the 5-minute grid");
                sched_weekly_t *grown = realloc(out->weekly, (out->nweekly + 1) * sizeof *grown);
                if (!grown)
                    return fail(e, key, "out of memory");
                out->weekly = grown;
                out->weekly[out->nweekly++] = w;
            } else {
                sched_exception_t x = {0};
                char date[16], tail;
                bool closed = false;
                if (!docmap_text(&sub, "date", date, sizeof date) ||
                    sscanf(date, "%4d-%2d-%2d%c", &x.y, &x.mon, &x.day, &tail) != 3 ||
                    x.mon < 1 || x.mon > 12 || x.day < 1 || x.day > 31)
                    return fail(e, "exceptions", "date must be YYYY-MM-DD");
                if (!boolean(&sub, "closed", &closed))
                    return fail(e, "exceptions", "closed must be true or false");
                x.closed = closed;
                if (!closed && (!hhmm(&sub, "start", &x.start_min) ||
                                !hhmm(&sub, "end", &x.end_min) || x.start_min >= x.end_min))
                    return fail(e, "exceptions", "start and end must be HH:MM on the 5-minute grid");
                sched_exception_t *grown =
                    realloc(out->exceptions, (out->nexceptions + 1) * sizeof *grown);
                if (!grown)
                    return fail(e, key, "out of memory");
                out->exceptions = grown;
                out->exceptions[out->nexceptions++] = x;
            }
        }
    }
    return true;
}

/* ---- the whole box, as documents ----------------------------------------- */

int docmap_dump(db_conn_t *c, FILE *out)
{
    static const char *const ids_sql[] = {
        "SELECT id FROM clinic ORDER BY id",       "SELECT id FROM doctors ORDER BY id",
        "SELECT id FROM doctors ORDER BY id",      "SELECT id FROM patients ORDER BY id",
        "SELECT id FROM appointments ORDER BY id", "SELECT id FROM offers ORDER BY id",
        /* a message skipped when made and never pushed stays on the box */
        ("SELECT id FROM notifications WHERE status <> 'skipped' OR id IN "
         "(SELECT entity_id FROM sync_revs WHERE entity = 'notifications') ORDER BY id"),
    };
    long n = 0;
    for (int k = 0; k < docmap_ncollections; k++) {
        sqlite3_stmt *st = db_prepare(c, ids_sql[k]);
        if (!st)
            return -1;
        while (sqlite3_step(st) == SQLITE_ROW) {
            const char *id = (const char *)sqlite3_column_text(st, 0);
            bson_t doc = BSON_INITIALIZER;
            BSON_APPEND_UTF8(&doc, "collection", docmap_collections[k]);
            BSON_APPEND_UTF8(&doc, "_id", id);
            int rc = docmap_set_fields(c, docmap_collections[k], id, &doc);
            if (rc == STORE_OK) {
                char *json = bson_as_relaxed_extended_json(&doc, NULL);
                fprintf(out, "%s\n", json);
                bson_free(json);
                n++;
            }
            bson_destroy(&doc);
            if (rc == STORE_ERROR) {
                sqlite3_reset(st);
                return -1;
            }
        }
        sqlite3_reset(st);
    }
    (void)n;
    return 0;
}
