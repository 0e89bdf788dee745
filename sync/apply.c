/*
 * apply.c — see apply.h. Everything happens in one write job: each
 * document in its own savepoint (a refused one is rolled back alone), the
 * checkpoint and the box's clock at the end. The journal's triggers stay on
 * while applying, so the messages and offers a central change causes are
 * pushed like any other; the applied record itself is pushed back only when
 * the box's outcome differs from the central document, journaled as of
 * the central revision (never as a local edit of its own); otherwise its
 * journal rows from this job are dropped: nothing is echoed.
 */
#include "sync/apply.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ids.h"
#include "core/log.h"
#include "domain/appointment.h"
#include "outbox/outbox.h"
#include "service/booking.h"
#include "service/messages.h"
#include "store/store.h"
#include "sync/docmap.h"
#include "sync/hlc.h"
#include "sync/journal.h"
#include "sync/merge.h"

enum { APPLIED = 0, REFUSED = 1, STORAGE = -1 };

struct apply_job {
    app_t *app;
    const char *box_id;
    const struct central_doc *docs;
    long n;
    const struct pull_mark *mark;
    struct apply_result *out;
    clinic_rec clinic;
    int64_t now;
    hlc_clock clk;
};

/* What one document's apply decided. */
struct outcome {
    char why[300];   /* REFUSED: the reason */
    char actor[ACTOR_MAX_LEN + 1];
    bool local_wins; /* a concurrent local edit is later */
    bool conflict;   /* a central booking became a conflict */
    char kept[300];  /* an appointment's status central asked for, not taken: why */
    /* a local change of the record is pending: people and the clinic merge
     * field by field (merge.h), decided by merge */
    bool pending;
    struct merge_clock merge;
    bool missing_ref;  /* REFUSED: a record it refers to is not on the box */
    bool merged;       /* decided field by field */
    unsigned kept_fields; /* then: the box's fields kept (merge.h's bits) */
};

static int refuse(struct outcome *o, const char *fmt, const char *arg)
{
    snprintf(o->why, sizeof o->why, fmt, arg);
    return REFUSED;
}

/* A failed store call: a constraint (the central values broke a rule of the
 * schema) refuses the document; anything else is a storage failure. */
static int store_failed(db_conn_t *c, int rc, struct outcome *o)
{
    if (rc == STORE_CONFLICT || sqlite3_errcode(db_handle(c)) == SQLITE_CONSTRAINT)
        return refuse(o, "the box's database refused the values: %s",
                      sqlite3_errmsg(db_handle(c)));
    return STORAGE;
}

static bool exec_sql(sqlite3_stmt *st)
{
    return st && db_exec_stmt(st);
}

/* ---- field-level merge (merge.h) ------------------------------------------ */

/* The event of a record written from a central document; when the merge
 * kept fields of the box's, it names them (and so does the log). */
static int merge_event(db_conn_t *c, struct apply_job *j, const struct outcome *o,
                       const char *collection, const char *entity, const char *id,
                       const char *action, unsigned kept)
{
    char names[200], data[300];
    if (!kept)
        return store_event(c, j->now, o->actor, entity, id, action, NULL) == STORE_OK ? 0 : -1;
    sync_merge_names(collection, kept, names, sizeof names);
    json_t *ev = json_pack("{s:s}", "kept_from_box", names);
    char *text = ev ? json_dumps(ev, JSON_COMPACT) : NULL;
    snprintf(data, sizeof data, "%s", text ? text : "{}");
    free(text);
    json_decref(ev);
    log_info("sync", "%s %s: merged field by field with a local change: the box's %s kept, "
                     "the rest from central", collection, id, names);
    return store_event(c, j->now, o->actor, entity, id, action, data) == STORE_OK ? 0 : -1;
}

/* ---- clinic ---------------------------------------------------------------- */

static int apply_clinic(db_conn_t *c, struct apply_job *j, const bson_t *doc, const char *id,
                        struct outcome *o)
{
    clinic_rec cur;
    struct docmap_err e;
    if (store_clinic_get(c, j->app->cfg.grace_minutes, &cur) != STORE_OK)
        return STORAGE;
    if (strcmp(cur.id, id) != 0)
        return refuse(o, "clinic %s is not this box's clinic", id);
    clinic_rec nu = cur;
    bool decoded = docmap_to_clinic(doc, &nu, &e);
    unsigned kept = 0;
    int merged = decoded && o->pending
                     ? sync_merge_record(c, "clinics", id, &o->merge, &cur, &nu, &kept)
                     : 0;
    if (merged < 0)
        return STORAGE;
    o->merged = merged > 0;
    o->kept_fields = kept;
    if (!merged && o->local_wins) /* no base: the whole record, the later one */
        return APPLIED;
    if (!decoded)
        return refuse(o, "%s", e.why);
    if (kept && cur.updated_at > nu.updated_at) /* the later of the two edits */
        nu.updated_at = cur.updated_at;
    if (!nu.updated_at)
        nu.updated_at = j->now;
    int rc = store_clinic_update(c, &nu);
    if (rc != STORE_OK)
        return store_failed(c, rc, o);
    if (!sync_field_times_settle(c, "clinics", id, kept) ||
        merge_event(c, j, o, "clinics", "clinic", id, "updated", kept) != 0)
        return STORAGE;
    j->clinic = nu;
    if (!nu.grace_set)
        j->clinic.grace_minutes = j->app->cfg.grace_minutes;
    j->out->clinic_changed = true;
    return APPLIED;
}

/* ---- doctors and patients ------------------------------------------------- */

/* The two kinds of people differ only in their record; this table says how. */
struct person_kind {
    const char *entity; /* for the event log */
    const char *collection;
    size_t size;
    int (*get)(db_conn_t *, const char *, void *);
    int (*insert)(db_conn_t *, void *);
    int (*update)(db_conn_t *, void *);
    bool (*from_doc)(const bson_t *, void *, struct docmap_err *);
    const char *delete_sql; /* deletes ?1 unless an appointment refers to it */
    int64_t *(*created)(void *);
    int64_t *(*updated)(void *);
};

static int doctor_get(db_conn_t *c, const char *id, void *r) { return store_doctor_get(c, id, r); }
static int doctor_insert(db_conn_t *c, void *r) { return store_doctor_insert(c, r); }
static int doctor_update(db_conn_t *c, void *r) { return store_doctor_update(c, r); }
static bool doctor_from(const bson_t *d, void *r, struct docmap_err *e) { return docmap_to_doctor(d, r, e); }
static int64_t *doctor_created(void *r) { return &((doctor_rec *)r)->created_at; }
static int64_t *doctor_updated(void *r) { return &((doctor_rec *)r)->updated_at; }
static int patient_get(db_conn_t *c, const char *id, void *r) { return store_patient_get(c, id, r); }
static int patient_insert(db_conn_t *c, void *r) { return store_patient_insert(c, r); }
static int patient_update(db_conn_t *c, void *r) { return store_patient_update(c, r); }
static bool patient_from(const bson_t *d, void *r, struct docmap_err *e) { return docmap_to_patient(d, r, e); }
static int64_t *patient_created(void *r) { return &((patient_rec *)r)->created_at; }
static int64_t *patient_updated(void *r) { return &((patient_rec *)r)->updated_at; }

static const struct person_kind doctor_kind = {
    "doctor", "doctors", sizeof(doctor_rec), doctor_get, doctor_insert, doctor_update,
    doctor_from,
    "DELETE FROM doctors WHERE id = ?1 AND NOT EXISTS "
    "(SELECT 1 FROM appointments WHERE doctor_id = ?1)",
    doctor_created, doctor_updated};
static const struct person_kind patient_kind = {
    "patient", "patients", sizeof(patient_rec), patient_get, patient_insert, patient_update,
    patient_from,
    "DELETE FROM patients WHERE id = ?1 AND NOT EXISTS "
    "(SELECT 1 FROM appointments WHERE patient_id = ?1)",
    patient_created, patient_updated};

static int apply_person(db_conn_t *c, struct apply_job *j, const struct person_kind *k,
                        const bson_t *doc, const char *id, struct outcome *o)
{
    union {
        doctor_rec d;
        patient_rec p;
    } cur, nu;
    struct docmap_err e;
    int rc = k->get(c, id, &cur);
    if (rc != STORE_OK && rc != STORE_NOT_FOUND)
        return STORAGE;
    bool found = rc == STORE_OK;
    if (docmap_deleted(doc)) { /* a tombstone */
        if (!found || o->local_wins)
            return APPLIED;
        sqlite3_stmt *st = db_prepare(c, k->delete_sql);
        if (!st)
            return STORAGE;
        sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
        if (!db_exec_stmt(st))
            return store_failed(c, STORE_ERROR, o);
        if (sqlite3_changes(db_handle(c)) == 0)
            return refuse(o, "%s has appointments on the box and cannot be deleted", k->entity);
        return store_event(c, j->now, o->actor, k->entity, id, "deleted", NULL) == STORE_OK
                   ? APPLIED
                   : STORAGE;
    }
    /* A pending local edit of a record central changed too: merged field by
     * field against the base (merge.h). Without a base, a later local edit
     * stands whole; so does a later local delete (the record is gone and
     * its tombstone pending). */
    bool decoded = k->from_doc(doc, &nu, &e);
    unsigned kept = 0;
    int merged = decoded && found && o->pending
                     ? sync_merge_record(c, k->collection, id, &o->merge, &cur, &nu, &kept)
                     : 0;
    if (merged < 0)
        return STORAGE;
    o->merged = merged > 0;
    o->kept_fields = kept;
    if (!merged && o->local_wins)
        return APPLIED;
    if (!decoded)
        return refuse(o, "%s", e.why);
    if (found)
        *k->created(&nu) = *k->created(&cur);
    else if (!*k->created(&nu))
        *k->created(&nu) = j->now;
    if (kept && *k->updated(&cur) > *k->updated(&nu)) /* the later of the two edits */
        *k->updated(&nu) = *k->updated(&cur);
    if (!*k->updated(&nu))
        *k->updated(&nu) = j->now;
    rc = found ? k->update(c, &nu) : k->insert(c, &nu);
    if (rc != STORE_OK)
        return store_failed(c, rc, o);
    if (!sync_field_times_settle(c, k->collection, id, kept))
        return STORAGE;
    return merge_event(c, j, o, k->collection, k->entity, id, found ? "updated" : "created",
                       kept) == 0
               ? APPLIED
               : STORAGE;
}

/* ---- schedules --------------------------------------------------------------- */

static int apply_schedule(db_conn_t *c, struct apply_job *j, const bson_t *doc, const char *id,
                          struct outcome *o)
{
    doctor_rec d;
    schedule_rec s;
    struct docmap_err e;
    int rc = store_doctor_get(c, id, &d);
    if (rc == STORE_NOT_FOUND)
    {
        if (docmap_deleted(doc))
            return APPLIED;
        o->missing_ref = true;
        return refuse(o, "doctor %s is not on the box", id);
    }
    if (rc != STORE_OK)
        return STORAGE;
    if (o->local_wins || docmap_deleted(doc)) /* a live doctor keeps a schedule */
        return APPLIED;
    if (!docmap_to_schedule(doc, &s, &e)) {
        schedule_rec_free(&s);
        return refuse(o, "%s", e.why);
    }
    s.slot_minutes = d.slot_minutes;
    rc = store_schedule_replace(c, id, &s);
    schedule_rec_free(&s);
    if (rc != STORE_OK)
        return store_failed(c, rc, o);
    return store_event(c, j->now, o->actor, "schedule", id, "updated", NULL) == STORE_OK
               ? APPLIED
               : STORAGE;
}

/* ---- appointments ------------------------------------------------------------ */

/* A central booking whose time the box cannot give: kept as a conflict,
 * with an offer of free slots to its patient. */
static int book_as_conflict(db_conn_t *c, struct apply_job *j, appt_rec *a, const char *why,
                            struct outcome *o)
{
    struct offer_result offer;
    svc_err e;
    char data[400];
    snprintf(a->status, sizeof a->status, "conflict");
    snprintf(a->conflict_reason, sizeof a->conflict_reason, "%s", why);
    int rc = store_appt_insert(c, a);
    if (rc != STORE_OK)
        return store_failed(c, rc, o);
    json_t *ev = json_pack("{s:s}", "reason", why);
    char *text = ev ? json_dumps(ev, JSON_COMPACT) : NULL;
    snprintf(data, sizeof data, "%s", text ? text : "{}");
    free(text);
    json_decref(ev);
    if (store_event(c, j->now, o->actor, "appointment", a->id, "conflict", data) != STORE_OK)
        return STORAGE;
    if (booking_offer_in_tx(c, j->app, &j->clinic, a, 0, o->actor, PURPOSE_CONFLICT_OFFER,
                            j->now, &offer, &e) != 0)
        return STORAGE;
    o->conflict = true;
    snprintf(o->why, sizeof o->why, "booked as a conflict: %.270s", why);
    return APPLIED;
}

static int new_appointment(db_conn_t *c, struct apply_job *j, appt_rec *ca, struct outcome *o)
{
    svc_err e;
    if (!ca->created_at)
        ca->created_at = j->now;
    if (!ca->updated_at)
        ca->updated_at = ca->created_at;
    if (!ca->created_by[0])
        snprintf(ca->created_by, sizeof ca->created_by, "%s", o->actor);
    if (!ca->updated_by[0])
        snprintf(ca->updated_by, sizeof ca->updated_by, "%s", ca->created_by);
    if (appt_status_live(ca->status) && strcmp(ca->status, "booked") != 0)
        return refuse(o, "a new appointment from central must be booked, not %s", ca->status);
    if (!appt_status_live(ca->status)) { /* history (cancelled, completed, ...) as it is */
        int rc = store_appt_insert(c, ca);
        return rc == STORE_OK ? APPLIED : store_failed(c, rc, o);
    }
    if (!exec_sql(db_prepare(c, "SAVEPOINT central_booking")))
        return STORAGE;
    int rc = booking_insert_in_tx(c, &j->clinic, ca, o->actor, j->now, &e);
    if (rc == 0)
        return exec_sql(db_prepare(c, "RELEASE central_booking")) ? APPLIED : STORAGE;
    /* undo the half-made booking (its row without claims) */
    if (!exec_sql(db_prepare(c, "ROLLBACK TO central_booking")) ||
        !exec_sql(db_prepare(c, "RELEASE central_booking")))
        return STORAGE;
    if (rc == SVC_CONFLICT || rc == SVC_UNPROCESSABLE)
        return book_as_conflict(c, j, ca, e.detail, o);
    if (rc == SVC_NOT_FOUND) {
        o->missing_ref = true;
        return refuse(o, "%s", e.detail);
    }
    return STORAGE;
}

static int apply_appointment(db_conn_t *c, struct apply_job *j, const bson_t *doc,
                             const char *id, struct outcome *o)
{
    appt_rec ca, la;
    struct docmap_err de;
    svc_err e;
    if (!docmap_to_appt(doc, &ca, &de))
        return refuse(o, "%s", de.why);
    snprintf(ca.id, sizeof ca.id, "%.*s", (int)(sizeof ca.id - 1), id);
    int rc = store_appt_get(c, id, &la);
    if (rc == STORE_NOT_FOUND)
        return docmap_deleted(doc) ? APPLIED : new_appointment(c, j, &ca, o);
    if (rc != STORE_OK)
        return STORAGE;
    if (docmap_deleted(doc))
        return refuse(o, "%s", "appointments are cancelled, never deleted");
    /* doctor, patient and times are fixed once booked (the outcome, pushed
     * back, shows central the box's) */
    if (strcmp(la.status, ca.status) != 0) {
        enum appt_action steps[2];
        int nsteps = 0;
        if (!appt_path(la.status, ca.status, steps, &nsteps)) {
            log_info("sync", "appointment %s stays %s: central's %s does not follow from it", id,
                     la.status, ca.status);
            snprintf(o->kept, sizeof o->kept, "stays %s: %s does not follow from it", la.status,
                     ca.status);
        }
        for (int i = 0; i < nsteps; i++) {
            rc = booking_transition_in_tx(c, &j->clinic, &la, steps[i], ca.cancel_reason,
                                          o->actor, j->now, &e);
            if (rc == SVC_CONFLICT) {
                log_info("sync", "appointment %s: central's %s refused: %s", id, ca.status,
                         e.detail);
                snprintf(o->kept, sizeof o->kept, "stays %s: %s refused: %.200s", la.status,
                         ca.status, e.detail);
                break;
            }
            if (rc != 0)
                return STORAGE;
        }
    }
    if (!o->local_wins && strcmp(la.reason, ca.reason) != 0) {
        snprintf(la.reason, sizeof la.reason, "%s", ca.reason);
        la.updated_at = j->now;
        snprintf(la.updated_by, sizeof la.updated_by, "%s", o->actor);
        rc = store_appt_update(c, &la);
        if (rc != STORE_OK)
            return store_failed(c, rc, o);
    }
    return APPLIED;
}

/* ---- offers and messages ----------------------------------------------------- */

static int box_owned(db_conn_t *c, int collection, const char *id, struct outcome *o)
{
    bson_t probe = BSON_INITIALIZER;
    int rc = docmap_set_fields(c, docmap_collections[collection], id, &probe);
    bson_destroy(&probe);
    if (rc == STORE_NOT_FOUND)
        return refuse(o, "%s are made by the box, not centrally", docmap_collections[collection]);
    return rc == STORE_OK ? APPLIED : STORAGE;
}

/* ---- one document -------------------------------------------------------- */

/* Whether two values of the same field say the same: numbers by value,
 * dates to the second (the box keeps whole seconds: a central date with
 * milliseconds is no reason to push a record back), lists item by item,
 * documents key by key in any order with a missing key the same as null
 * (a closed day's `start: null` or none at all). */
static bool same_value(const bson_iter_t *a, const bson_iter_t *b)
{
    if (BSON_ITER_HOLDS_NUMBER(a) && BSON_ITER_HOLDS_NUMBER(b))
        return bson_iter_as_int64(a) == bson_iter_as_int64(b);
    if (bson_iter_type(a) != bson_iter_type(b))
        return false;
    switch (bson_iter_type(a)) {
    case BSON_TYPE_UTF8:
        return strcmp(bson_iter_utf8(a, NULL), bson_iter_utf8(b, NULL)) == 0;
    case BSON_TYPE_DATE_TIME: {
        int64_t ma = bson_iter_date_time(a), mb = bson_iter_date_time(b);
        return ma / 1000 - (ma % 1000 < 0) == mb / 1000 - (mb % 1000 < 0); /* rounded down */
    }
    case BSON_TYPE_BOOL:
        return bson_iter_bool(a) == bson_iter_bool(b);
    case BSON_TYPE_NULL:
        return true;
    case BSON_TYPE_ARRAY: {
        bson_iter_t ia, ib;
        if (!bson_iter_recurse(a, &ia) || !bson_iter_recurse(b, &ib))
            return false;
        for (;;) {
            bool more_a = bson_iter_next(&ia), more_b = bson_iter_next(&ib);
            if (!more_a || !more_b)
                return more_a == more_b;
            if (!same_value(&ia, &ib))
                return false;
        }
    }
    case BSON_TYPE_DOCUMENT: {
        /* each side's keys looked up in the other: a key one side lacks
         * must be null on the other */
        for (int side = 0; side < 2; side++) {
            const bson_iter_t *x = side ? b : a, *y = side ? a : b;
            bson_iter_t ix, iy;
            if (!bson_iter_recurse(x, &ix))
                return false;
            while (bson_iter_next(&ix)) {
                if (!bson_iter_recurse(y, &iy))
                    return false;
                if (!bson_iter_find(&iy, bson_iter_key(&ix))) {
                    if (bson_iter_type(&ix) != BSON_TYPE_NULL)
                        return false;
                } else if (!side && !same_value(&ix, &iy)) { /* compared once */
                    return false;
                }
            }
        }
        return true;
    }
    default:
        return false;
    }
}

/* 1 when the box's record (rendered as it would be pushed) says the same as
 * the central document, 0 when it differs, -1 when it is not on the box,
 * -2 on a storage error. */
static int same_as_central(db_conn_t *c, const char *collection, const char *id,
                           const bson_t *doc)
{
    bson_t mine = BSON_INITIALIZER;
    bson_iter_t it, theirs;
    int rc = docmap_set_fields(c, collection, id, &mine);
    int same = rc == STORE_NOT_FOUND ? -1 : rc != STORE_OK ? -2 : 1;
    if (same == 1 && bson_iter_init(&it, &mine))
        while (same == 1 && bson_iter_next(&it))
            if (bson_iter_init_find(&theirs, doc, bson_iter_key(&it))
                    ? !same_value(&it, &theirs)
                    : bson_iter_type(&it) != BSON_TYPE_NULL) /* missing is null */
                same = 0;
    bson_destroy(&mine);
    return same;
}

static void add_outcome(struct apply_result *out, const char *kind, int collection,
                        const char *id, const char *rev, const char *why,
                        const bson_t *removed_doc)
{
    struct rejection *grown =
        realloc(out->rejections, (size_t)(out->nrejections + 1) * sizeof *grown);
    if (!grown)
        return;
    out->rejections = grown;
    struct rejection *r = &grown[out->nrejections++];
    snprintf(r->kind, sizeof r->kind, "%s", kind);
    r->collection = collection;
    snprintf(r->id, sizeof r->id, "%s", id);
    snprintf(r->rev, sizeof r->rev, "%s", rev);
    snprintf(r->why, sizeof r->why, "%s", why);
    r->removed_doc = removed_doc ? bson_copy(removed_doc) : NULL;
}

static void add_rejection(struct apply_result *out, int collection, const char *id,
                          const char *rev, const char *why, const bson_t *removed_doc)
{
    add_outcome(out, "refused", collection, id, rev, why, removed_doc);
}

/* Written by a central writer (`_sync.by`), not pushed by a box. */
static bool central_write(const bson_t *doc)
{
    char by[48], box[48];
    return docmap_text(doc, "_sync.by", by, sizeof by) && by[0] &&
           !(docmap_text(doc, "_sync.box", box, sizeof box) && box[0]);
}

/* 1 when the record is on the box, 0 when not, -1 on a storage error. */
static int on_box(db_conn_t *c, const char *coll, const char *id)
{
    bson_t probe = BSON_INITIALIZER;
    int rc = docmap_set_fields(c, coll, id, &probe);
    bson_destroy(&probe);
    return rc == STORE_OK ? 1 : rc == STORE_NOT_FOUND ? 0 : -1;
}

/* The revision at which the box refused the record as a new one (0015's
 * sync_refused), into rev; 1 when there is one, 0 when not, -1 on error. */
static int refused_as_new(db_conn_t *c, const char *coll, const char *id, char *rev, size_t len)
{
    sqlite3_stmt *st = db_prepare(c, "SELECT rev FROM sync_refused "
                                     "WHERE entity = ?1 AND entity_id = ?2");
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, coll, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, id, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        snprintf(rev, len, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

static bool mark_refused_as_new(db_conn_t *c, const char *coll, const char *id, const char *rev)
{
    sqlite3_stmt *st = db_prepare(c, "INSERT OR REPLACE INTO sync_refused (entity, entity_id, rev) "
                                     "VALUES (?1, ?2, ?3)");
    if (!st)
        return false;
    sqlite3_bind_text(st, 1, coll, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, rev, -1, SQLITE_TRANSIENT);
    return db_exec_stmt(st);
}

static sqlite3_stmt *bind_forget_refused(db_conn_t *c, const char *coll, const char *id)
{
    sqlite3_stmt *st = db_prepare(c, "DELETE FROM sync_refused WHERE entity = ?1 AND entity_id = ?2");
    if (st) {
        sqlite3_bind_text(st, 1, coll, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, id, -1, SQLITE_TRANSIENT);
    }
    return st;
}

/* A refused central write that would stay behind centrally as a record no
 * clinic has (a phantom), and is therefore removed there: a live central
 * write of a record the box never had (no revision of it known before
 * this one), not on the box. A refusal for a record it refers to that
 * may still be on its way (above a gap of the change log) is not final
 * and removes nothing. */
static int new_and_refused(db_conn_t *c, const char *coll, const char *id, const bson_t *doc,
                           bool had_revision)
{
    if (had_revision || !central_write(doc) || docmap_deleted(doc))
        return 0;
    int here = on_box(c, coll, id);
    return here < 0 ? -1 : !here;
}

/* The refusal, everywhere it must show: the box's event log, its log, the
 * central `rejections` (with the document when it is removed there). */
static int report_refusal(db_conn_t *c, struct apply_job *j, const char *kind, int collection,
                          const char *id, const char *rev_text, const char *actor,
                          const char *why, const bson_t *removed_doc)
{
    const char *coll = collection >= 0 ? docmap_collections[collection] : "changes";
    json_t *ev = json_pack("{s:s,s:s,s:s,s:b}", "collection", coll, "rev", rev_text, "why", why,
                           "removed_centrally", removed_doc != NULL);
    char *data = ev ? json_dumps(ev, JSON_COMPACT) : NULL;
    int rc = store_event(c, j->now, actor, coll, id, "sync_refused", data);
    free(data);
    json_decref(ev);
    if (rc != STORE_OK)
        return STORAGE;
    log_warn("sync", "refused central change to %s %s: %s%s", coll, id, why,
             removed_doc ? " (removed centrally, kept in rejections)" : "");
    add_outcome(j->out, kind, collection, id, rev_text, why, removed_doc);
    j->out->rejected++;
    return 0;
}

/* A central document whose current revision is older than the box's: its
 * writer did not write over the revision it read (docs/sync.md). Skipping
 * it silently would leave central with values the box never had, and the
 * box's pushes guarded on its own revision could never replace them. So it
 * is reported, and the box's record is pushed over it: journaled as of the
 * box's revision (a later central edit still wins), with the stale
 * revision as the one seen, which the push's guard then matches. */
static int stale_write(db_conn_t *c, struct apply_job *j, const struct central_doc *d,
                       const char *id, const char *rev_text, const hlc_t *known,
                       const char *known_text, const char *actor)
{
    const char *coll = docmap_collections[d->collection];
    char why[300];
    snprintf(why, sizeof why,
             "revision %s is older than the box's %s: not written over the revision it read "
             "(docs/sync.md); the box's record is pushed over it",
             rev_text, known_text);
    int here = on_box(c, coll, id);
    if (here < 0 || report_refusal(c, j, "stale", d->collection, id, rev_text, actor, why,
                                   NULL) != 0)
        return STORAGE;
    bool person = d->collection == 1 || d->collection == 3;
    if (!here && !person) /* nothing of the box's to push over it */
        return 0;
    /* the record, or the tombstone of a person the box deleted */
    if (!sync_journal_add(c, coll, id, known->wall_ms) || !sync_rev_set(c, coll, id, rev_text) ||
        !sync_base_set(c, coll, id, rev_text, here ? d->doc : NULL))
        return STORAGE;
    return 0;
}

/* The decision for one document, by its collection. */
static int decide(db_conn_t *c, struct apply_job *j, const struct central_doc *d, const char *id,
                  struct outcome *o)
{
    switch (d->collection) {
    case 0:
        return apply_clinic(c, j, d->doc, id, o);
    case 1:
        return apply_person(c, j, &doctor_kind, d->doc, id, o);
    case 2:
        return apply_schedule(c, j, d->doc, id, o);
    case 3:
        return apply_person(c, j, &patient_kind, d->doc, id, o);
    case 4:
        return apply_appointment(c, j, d->doc, id, o);
    default: /* offers and messages are made by the box: its own come back */
        return box_owned(c, d->collection, id, o);
    }
}

static int apply_one(db_conn_t *c, struct apply_job *j, const struct central_doc *d)
{
    const char *coll = docmap_collections[d->collection];
    char id[ID_LEN + 8], rev_text[96], known_text[96] = "", by[48] = "";
    hlc_t rev, known;
    bool has_known = false;
    struct outcome o;
    memset(&o, 0, sizeof o);
    memset(&known, 0, sizeof known); /* copied into o.merge even when there is none */

    if (!docmap_text(d->doc, "_id", id, sizeof id) || !id[0]) {
        add_rejection(j->out, d->collection, "?", "", "_id is not a text id", NULL);
        j->out->rejected++;
        return 0;
    }

    if (!docmap_text(d->doc, "_sync.rev", rev_text, sizeof rev_text) ||
        !hlc_parse(rev_text, &rev)) {
        add_rejection(j->out, d->collection, id, "",
                      "no _sync.rev: write through `clinicbox central` (docs/sync.md)", NULL);
        j->out->rejected++;
        return 0;
    }
    if (!docmap_text(d->doc, "_sync.by", by, sizeof by))
        by[0] = 0;
    snprintf(o.actor, sizeof o.actor, "%s%s", strncmp(by, "central", 7) == 0 ? "" : "central:",
             by[0] ? by : "central");
    int got = sync_rev_get(c, coll, id, known_text, sizeof known_text);
    if (got < 0)
        return STORAGE;
    has_known = got == 1 && hlc_parse(known_text, &known);
    /* A record the box refused as a new one (never had): the refused
     * revision itself is seen; any other write of it is decided as new. */
    char refused_rev[96] = "";
    int refused = has_known ? refused_as_new(c, coll, id, refused_rev, sizeof refused_rev) : 0;
    if (refused < 0)
        return STORAGE;
    if (refused && strcmp(refused_rev, rev_text) == 0) {
        /* seen already; its central removal may not have got through (a
         * cut, a crash): done again, nothing counted */
        if (central_write(d->doc) && !docmap_deleted(d->doc))
            add_rejection(j->out, d->collection, id, rev_text, "refused before", d->doc);
        j->out->skipped++;
        return 0;
    }
    if (refused)
        has_known = false;
    bool box_had = has_known; /* a revision of the record known before this one */
    if (has_known && hlc_compare(&rev, &known) < 0 && d->current && central_write(d->doc) &&
        strcmp(rev.node, j->box_id) != 0)
        return stale_write(c, j, d, id, rev_text, &known, known_text, o.actor);
    if (has_known && hlc_compare(&rev, &known) <= 0) {
        j->out->skipped++; /* seen already */
        return 0;
    }

    /* concurrent local edit? its revision, from when it was made */
    bool clamped = false;
    hlc_t eff = hlc_observe(&j->clk, rev, j->now * 1000, SYNC_MAX_SKEW_MS, &clamped);
    if (clamped) {
        j->out->clamped = true;
        log_warn("sync", "%s %s: revision %s is more than %lld min ahead of the box's clock; "
                         "clamped", coll, id, rev_text, SYNC_MAX_SKEW_MS / 60000);
    }
    sqlite3_stmt *st = db_prepare(c, "SELECT max(at_ms), coalesce((SELECT max(seq) FROM sync_journal), 0) "
                       "FROM sync_journal WHERE entity = ?1 AND entity_id = ?2");
    if (!st)
        return STORAGE;
    sqlite3_bind_text(st, 1, coll, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, id, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(st) != SQLITE_ROW)
        return STORAGE;
    bool pending = sqlite3_column_type(st, 0) != SQLITE_NULL;
    int64_t pending_at = sqlite3_column_int64(st, 0), mark = sqlite3_column_int64(st, 1);
    sqlite3_reset(st);
    if (pending) {
        hlc_t mine = {.wall_ms = pending_at, .counter = 0};
        if (has_known && hlc_compare(&mine, &known) <= 0) {
            mine = known;
            mine.counter++;
        }
        snprintf(mine.node, sizeof mine.node, "%s", j->box_id);
        o.local_wins = hlc_compare(&mine, &eff) > 0;
    }
    /* field-level merge (merge.h): what decides a field both changed */
    o.pending = pending;
    o.merge = (struct merge_clock){.pending_at = pending_at, .has_known = has_known,
                                   .known = known, .known_rev = known_text, .central = eff,
                                   .box_id = j->box_id};
    if (!exec_sql(db_prepare(c, "SAVEPOINT central_doc")))
        return STORAGE;
    int rc = ids_valid(id) ? decide(c, j, d, id, &o)
                           : refuse(&o, "%s", "_id is not a UUID (docs/sync.md: a new "
                                              "document's _id is a UUID)");
    if (rc == STORAGE)
        return STORAGE;
    if (rc == REFUSED && o.missing_ref && j->mark && d->seq > j->mark->checkpoint) {
        /* what it refers to may still be on its way (a change above a gap
         * of the log, read again later): not final, nothing recorded */
        log_debug("sync", "%s %s waits for what it refers to: %s", coll, id, o.why);
        return exec_sql(db_prepare(c, "ROLLBACK TO central_doc")) &&
                       exec_sql(db_prepare(c, "RELEASE central_doc"))
                   ? 0
                   : STORAGE;
    }
    if (rc == REFUSED) {
        if (!exec_sql(db_prepare(c, "ROLLBACK TO central_doc")))
            return STORAGE;
        int gone = new_and_refused(c, coll, id, d->doc, box_had);
        if (gone < 0 || (gone && !mark_refused_as_new(c, coll, id, rev_text)) ||
            report_refusal(c, j, "refused", d->collection, id, rev_text, o.actor, o.why,
                           gone ? d->doc : NULL) != 0)
            return STORAGE;
    } else {
        if (refused && !exec_sql(bind_forget_refused(c, coll, id)))
            return STORAGE;
        j->out->applied++;
        if (o.conflict) {
            j->out->conflicts++;
            add_outcome(j->out, "conflict", d->collection, id, rev_text, o.why[0] ? o.why : "",
                        NULL);
        }
        if (o.kept[0])
            add_outcome(j->out, "status_kept", d->collection, id, rev_text, o.kept, NULL);
        if (o.merged && o.kept_fields) {
            char names[200], why[300];
            sync_merge_names(coll, o.kept_fields, names, sizeof names);
            snprintf(why, sizeof why,
                     "merged field by field with a concurrent edit on the box: the box's %s "
                     "kept, the rest taken",
                     names);
            add_outcome(j->out, "merged", d->collection, id, rev_text, why, NULL);
        } else if (o.local_wins && !o.merged) {
            add_outcome(j->out, "local_newer", d->collection, id, rev_text,
                        "a concurrent edit on the box is later: the box's version stands",
                        NULL);
        }
    }
    if (!exec_sql(db_prepare(c, "RELEASE central_doc")))
        return STORAGE;

    /* What this job journaled for the record itself (its triggers) is the
     * box's outcome of the central revision, not a local edit. Dated when
     * the job ran, it would pass for a concurrent local edit later than a
     * central edit made over this revision (`pending` above, when that one
     * is applied), and that central edit would be lost. So it goes. When
     * the outcome differs from the central document (a refused field, a
     * status kept, a time the box sets), one row pushes it back, dated at
     * the central revision: it loses to every later central edit, and a
     * pending local edit keeps its own time. Otherwise nothing is echoed. */
    int same = same_as_central(c, coll, id, d->doc);
    if (same == -2)
        return STORAGE;
    st = db_prepare(c, "DELETE FROM sync_journal WHERE entity = ?1 AND entity_id = ?2 "
                       "AND seq > ?3");
    if (!st)
        return STORAGE;
    sqlite3_bind_text(st, 1, coll, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 3, mark);
    if (!db_exec_stmt(st))
        return STORAGE;
    if (same == 0 && !sync_journal_add(c, coll, id, eff.wall_ms))
        return STORAGE;
    /* the revision seen, and the document of it: the base of a later
     * field-level merge (merge.h) */
    return sync_rev_set(c, coll, id, rev_text) &&
                   sync_base_set(c, coll, id, rev_text, d->doc)
               ? 0
               : STORAGE;
}

static int apply_job(db_conn_t *c, void *arg)
{
    struct apply_job *j = arg;
    char last[HLC_TEXT_MAX];
    hlc_t t;
    hlc_init(&j->clk, j->box_id);
    if (store_meta_get_text(c, "sync_hlc", last, sizeof last) == STORE_OK && hlc_parse(last, &t))
        hlc_observe(&j->clk, t, t.wall_ms, 0, NULL);
    for (long i = 0; j->mark && i < j->mark->nrefused; i++) {
        const struct rejection *x = &j->mark->refused_entries[i];
        if (report_refusal(c, j, "refused", -1, x->id, x->rev, "central", x->why, NULL) != 0)
            return -1;
    }
    for (long i = 0; i < j->n; i++)
        if (apply_one(c, j, &j->docs[i]) != 0)
            return -1;
    hlc_format(&j->clk.last, last);
    if (store_meta_set_text(c, "sync_hlc", last) != STORE_OK)
        return -1;
    if (j->mark) {
        if (store_meta_set_int(c, "sync_pull_checkpoint", j->mark->checkpoint) != STORE_OK ||
            store_meta_set_text(c, "sync_pull_gaps", j->mark->gaps) != STORE_OK ||
            store_meta_set_int(c, "sync_pull_max_seen", j->mark->max_seen) != STORE_OK ||
            store_meta_set_int(c, "sync_pull_at_ms", j->mark->pulled_at_ms) != STORE_OK)
            return -1;
    }
    return 0;
}

int sync_apply(app_t *app, const char *box_id, const struct central_doc *docs, long n,
               const struct pull_mark *mark, struct apply_result *out)
{
    struct apply_job j = {.app = app, .box_id = box_id, .docs = docs, .n = n, .mark = mark,
                          .out = out, .now = app_now()};
    memset(out, 0, sizeof *out);
    app_clinic(app, &j.clinic);
    int rc = db_write(app->db, apply_job, &j);
    if (rc != 0) {
        sync_apply_result_free(out);
        memset(out, 0, sizeof *out);
        return -1;
    }
    if (out->clinic_changed)
        app_clinic_reload(app);
    if (out->applied)
        outbox_kick(app);
    return 0;
}

void sync_apply_result_free(struct apply_result *r)
{
    for (long i = 0; i < r->nrejections; i++)
        if (r->rejections[i].removed_doc)
            bson_destroy(r->rejections[i].removed_doc);
    free(r->rejections);
    r->rejections = NULL;
    r->nrejections = 0;
}
