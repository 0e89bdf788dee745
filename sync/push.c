/*
 * push.c — see push.h. Reads on pooled reader connections, writes (the
 * journal's trimming, the clock) in write jobs; the network round trips
 * happen outside both. Documents are built with libbson's builders from a
 * table per collection: which column becomes which field, as what.
 */
#include "sync/push.h"

#include <mongoc/mongoc.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "store/store.h"
#include "sync/hlc.h"

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
    F("confirmations", K_BOOL), F("createdAt", K_DATE), F("updatedAt", K_DATE)};
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
    F("updatedBy", K_TEXT)};
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
     "reminder_hours, confirmations, created_at, updated_at FROM clinic WHERE id = ?1",
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
     "rescheduled_to, created_at, created_by, updated_at, updated_by FROM appointments "
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
static int record_doc(db_conn_t *c, const struct entity *e, const char *id, bson_t *set)
{
    sqlite3_stmt *st = db_prepare(c, e->sql);
    if (!st)
        return STORE_ERROR;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE)
        return STORE_NOT_FOUND;
    if (rc != SQLITE_ROW)
        return STORE_ERROR;
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
    return STORE_OK;
}

/* A doctor's schedule as one document. */
static int schedule_doc(db_conn_t *c, const char *doctor_id, bson_t *set)
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
        if (!x->closed) {
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

/* ---- enabling ------------------------------------------------------------ */

/* Journals every record (the seed of an empty central database). */
static int journal_all(db_conn_t *c)
{
    static const char *const seed[] = {
        "INSERT INTO sync_journal (entity, entity_id, at_ms) SELECT 'clinics', id, updated_at * 1000 FROM clinic",
        "INSERT INTO sync_journal (entity, entity_id, at_ms) SELECT 'doctors', id, updated_at * 1000 FROM doctors",
        "INSERT INTO sync_journal (entity, entity_id, at_ms) SELECT 'schedules', id, updated_at * 1000 FROM doctors",
        "INSERT INTO sync_journal (entity, entity_id, at_ms) SELECT 'patients', id, updated_at * 1000 FROM patients",
        "INSERT INTO sync_journal (entity, entity_id, at_ms) SELECT 'appointments', id, updated_at * 1000 FROM appointments",
        "INSERT INTO sync_journal (entity, entity_id, at_ms) SELECT 'offers', id, created_at * 1000 FROM offers",
        "INSERT INTO sync_journal (entity, entity_id, at_ms) SELECT 'notifications', id, updated_at * 1000 FROM notifications",
    };
    for (size_t i = 0; i < sizeof seed / sizeof seed[0]; i++)
        if (!db_exec_stmt(db_prepare(c, seed[i])))
            return -1;
    return 0;
}

struct enable_job {
    bool on;
};

static int enable_job(db_conn_t *c, void *arg)
{
    struct enable_job *j = arg;
    sqlite3_stmt *st = db_prepare(c, "SELECT enabled FROM sync_state");
    if (!st || sqlite3_step(st) != SQLITE_ROW)
        return -1;
    bool was = sqlite3_column_int(st, 0) != 0;
    sqlite3_reset(st);
    if (was == j->on)
        return 0;
    st = db_prepare(c, "UPDATE sync_state SET enabled = ?1");
    if (!st)
        return -1;
    sqlite3_bind_int(st, 1, j->on);
    if (!db_exec_stmt(st))
        return -1;
    if (!j->on) /* what changes while off is found by the seed when it is on again */
        return db_exec_stmt(db_prepare(c, "DELETE FROM sync_journal")) ? 0 : -1;
    return journal_all(c);
}

struct epoch_job {
    const char *epoch;
    bool reseeded;
};

static int epoch_job(db_conn_t *c, void *arg)
{
    struct epoch_job *j = arg;
    char known[ID_LEN + 8] = "";
    int rc = store_meta_get_text(c, "central_epoch", known, sizeof known);
    if (rc != STORE_OK && rc != STORE_NOT_FOUND)
        return -1;
    if (rc == STORE_OK && strcmp(known, j->epoch) == 0)
        return 0;
    /* A central database this box has not seen before (at first contact
     * the enable seed already journaled everything): push everything. */
    if (rc == STORE_OK) {
        if (journal_all(c) != 0)
            return -1;
        j->reseeded = true;
    }
    return store_meta_set_text(c, "central_epoch", j->epoch) == STORE_OK ? 0 : -1;
}

int sync_check_epoch(app_t *app, const char *epoch)
{
    struct epoch_job j = {epoch, false};
    if (db_write(app->db, epoch_job, &j) != 0)
        return -1;
    return j.reseeded ? 1 : 0;
}

bool sync_journal_enable(app_t *app, bool on)
{
    struct enable_job j = {on};
    return db_write(app->db, enable_job, &j) == 0;
}

long sync_pending(app_t *app)
{
    db_conn_t *c = db_reader(app->db);
    sqlite3_stmt *st = c ? db_prepare(c, "SELECT count(*) FROM sync_journal") : NULL;
    long n = st && sqlite3_step(st) == SQLITE_ROW ? (long)sqlite3_column_int64(st, 0) : -1;
    if (st)
        sqlite3_reset(st);
    db_reader_release(app->db, c);
    return n;
}

/* ---- pushing ------------------------------------------------------------- */

struct change {
    char entity[24];
    char id[ID_LEN + 8];
    int64_t at_ms;
};

struct trim_job {
    int64_t upto;
    const char *hlc;
};

static int trim_job(db_conn_t *c, void *arg)
{
    struct trim_job *j = arg;
    sqlite3_stmt *st = db_prepare(c, "DELETE FROM sync_journal WHERE seq <= ?1");
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, j->upto);
    if (!db_exec_stmt(st))
        return -1;
    return store_meta_set_text(c, "sync_hlc", j->hlc) == STORE_OK ? 0 : -1;
}

/* Reads up to max journal rows, newest change per record. Returns the
 * number of distinct records, -1 on error; *upto = the last seq read. */
static long read_batch(app_t *app, struct change *out, long max, int64_t *upto, hlc_clock *clk)
{
    db_conn_t *c = db_reader(app->db);
    long n = 0;
    char last[HLC_TEXT_MAX];
    hlc_t t;
    if (!c)
        return -1;
    if (store_meta_get_text(c, "sync_hlc", last, sizeof last) == STORE_OK && hlc_parse(last, &t))
        hlc_observe(clk, t, t.wall_ms, 0, NULL); /* never issue a revision below the last */
    sqlite3_stmt *st = db_prepare(c, "SELECT seq, entity, entity_id, at_ms FROM sync_journal "
                                     "ORDER BY seq LIMIT ?1");
    if (!st) {
        db_reader_release(app->db, c);
        return -1;
    }
    sqlite3_bind_int64(st, 1, max);
    *upto = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *entity = (const char *)sqlite3_column_text(st, 1);
        const char *id = (const char *)sqlite3_column_text(st, 2);
        int64_t at = sqlite3_column_int64(st, 3);
        *upto = sqlite3_column_int64(st, 0);
        long k = 0;
        while (k < n && !(strcmp(out[k].entity, entity) == 0 && strcmp(out[k].id, id) == 0))
            k++;
        if (k == n) {
            snprintf(out[n].entity, sizeof out[n].entity, "%s", entity);
            snprintf(out[n].id, sizeof out[n].id, "%s", id);
            out[n].at_ms = at;
            n++;
        } else if (at > out[k].at_ms) {
            out[k].at_ms = at;
        }
    }
    sqlite3_reset(st);
    db_reader_release(app->db, c);
    return n;
}

/* One batch: returns records pushed, 0 when the journal is empty, -1. */
static long push_batch(app_t *app, central_t *central, const char *box_id, long batch,
                       hlc_clock *clk, char *err, size_t errlen)
{
    struct change *ch = calloc((size_t)batch, sizeof *ch);
    int64_t upto = 0;
    long n, pushed = 0;
    clinic_rec clinic;
    char rev[HLC_TEXT_MAX] = "";
    bson_error_t e;
    bool ok = true;
    if (!ch) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    n = read_batch(app, ch, batch, &upto, clk);
    if (n <= 0) {
        free(ch);
        if (n < 0)
            snprintf(err, errlen, "storage is unavailable");
        return n;
    }
    app_clinic(app, &clinic);
    db_conn_t *c = db_reader(app->db);
    if (!c) {
        free(ch);
        snprintf(err, errlen, "storage is unavailable");
        return -1;
    }
    /* one bulk write per collection, unordered: the server may apply them in
     * any order, and a retry repeats the same $set */
    static const char *const order[] = {"clinics",      "doctors", "schedules",    "patients",
                                        "appointments", "offers",  "notifications"};
    for (size_t o = 0; ok && o < sizeof order / sizeof order[0]; o++) {
        bson_t opts = BSON_INITIALIZER, reply;
        mongoc_write_concern_t *wc = mongoc_write_concern_new();
        mongoc_write_concern_set_wmajority(wc, 0);
        BSON_APPEND_BOOL(&opts, "ordered", false);
        mongoc_write_concern_append(wc, &opts);
        mongoc_collection_t *coll = central_collection(central, order[o]);
        mongoc_bulk_operation_t *bulk = mongoc_collection_create_bulk_operation_with_opts(coll, &opts);
        long in_bulk = 0;
        for (long i = 0; ok && i < n; i++) {
            if (strcmp(ch[i].entity, order[o]) != 0)
                continue;
            bson_t sel = BSON_INITIALIZER, upd = BSON_INITIALIZER, set, sync, uopts = BSON_INITIALIZER;
            BSON_APPEND_UTF8(&sel, "_id", ch[i].id);
            BSON_APPEND_DOCUMENT_BEGIN(&upd, "$set", &set);
            BSON_APPEND_UTF8(&set, "clinicId", clinic.id);
            const struct entity *ent = entity_named(order[o]);
            int rc = ent ? record_doc(c, ent, ch[i].id, &set) : schedule_doc(c, ch[i].id, &set);
            hlc_t t = hlc_tick(clk, ch[i].at_ms);
            hlc_format(&t, rev);
            BSON_APPEND_DOCUMENT_BEGIN(&set, "_sync", &sync);
            BSON_APPEND_UTF8(&sync, "rev", rev);
            BSON_APPEND_UTF8(&sync, "box", box_id);
            BSON_APPEND_DATE_TIME(&sync, "pushedAt", app_now() * 1000);
            bson_append_document_end(&set, &sync);
            bson_append_document_end(&upd, &set);
            BSON_APPEND_BOOL(&uopts, "upsert", true);
            if (rc == STORE_OK) {
                ok = mongoc_bulk_operation_update_one_with_opts(bulk, &sel, &upd, &uopts, &e);
                in_bulk++;
            } else if (rc != STORE_NOT_FOUND) {
                ok = false;
                snprintf(e.message, sizeof e.message, "storage is unavailable");
            }
            bson_destroy(&sel);
            bson_destroy(&upd);
            bson_destroy(&uopts);
        }
        if (ok && in_bulk > 0 && !mongoc_bulk_operation_execute(bulk, &reply, &e))
            ok = false;
        else if (in_bulk > 0)
            bson_destroy(&reply);
        if (!ok)
            snprintf(err, errlen, "push to %s failed: %s", order[o], e.message);
        pushed += in_bulk;
        mongoc_bulk_operation_destroy(bulk);
        mongoc_collection_destroy(coll);
        mongoc_write_concern_destroy(wc);
        bson_destroy(&opts);
    }
    db_reader_release(app->db, c);
    free(ch);
    if (!ok)
        return -1;
    struct trim_job tj = {upto, rev};
    if (db_write(app->db, trim_job, &tj) != 0) {
        snprintf(err, errlen, "storage is unavailable (the batch will be pushed again)");
        return -1;
    }
    return pushed;
}

long sync_push(app_t *app, central_t *central, const char *box_id, long batch, char *err,
               size_t errlen)
{
    hlc_clock clk;
    long total = 0, n;
    hlc_init(&clk, box_id);
    while ((n = push_batch(app, central, box_id, batch, &clk, err, errlen)) > 0)
        total += n;
    return n < 0 ? -1 : total;
}
