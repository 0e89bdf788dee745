/*
 * central_check.c — see central_check.h. Each check mirrors a decision of
 * sync/apply.c on a pulled document and calls what it calls: the docmap_to_*
 * decoders (what they refuse, the box refuses), appt_status_* and appt_path
 * for the life cycle, slots_round_duration and slots_check for a new
 * booking (what they turn down, the box keeps as a conflict). The few
 * decisions apply.c makes inline (a new central appointment must be booked;
 * appointments are never deleted; a doctor or patient with appointments
 * stays) are repeated here with its words.
 */
#include "sync/central_check.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/tz.h"
#include "domain/appointment.h"
#include "domain/slots.h"
#include "store/store.h"
#include "sync/docmap.h"

static const char *const writable[] = {"clinics", "doctors", "schedules", "patients",
                                       "appointments"};

static void say(struct central_check *r, enum central_verdict v, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void say(struct central_check *r, enum central_verdict v, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->why, sizeof r->why, fmt, ap);
    va_end(ap);
    r->verdict = v;
}

bool central_check_collection(const char *collection, struct central_check *r)
{
    r->verdict = CENTRAL_OK;
    r->why[0] = 0;
    for (size_t i = 0; i < sizeof writable / sizeof writable[0]; i++)
        if (strcmp(writable[i], collection) == 0)
            return true;
    if (docmap_index(collection) >= 0) /* offers, notifications (apply.c, box_owned) */
        say(r, CENTRAL_REFUSE, "%s are made by the box, not centrally", collection);
    else
        say(r, CENTRAL_REFUSE,
            "unknown collection %s (clinics, doctors, schedules, patients, appointments)",
            collection);
    return false;
}

bool central_check_names(const bson_t *fields, struct central_check *r)
{
    bson_iter_t it;
    r->verdict = CENTRAL_OK;
    r->why[0] = 0;
    if (!bson_iter_init(&it, fields))
        return true;
    while (bson_iter_next(&it)) {
        const char *k = bson_iter_key(&it);
        if (strcmp(k, "_id") == 0 || strcmp(k, "clinicId") == 0 || strcmp(k, "_sync") == 0) {
            say(r, CENTRAL_REFUSE, "%s: written by `clinicbox central` itself, not by put", k);
            return false;
        }
        if (k[0] == '$' || strchr(k, '.')) {
            say(r, CENTRAL_REFUSE, "%s: put sets whole fields: no operators, no dotted paths",
                k);
            return false;
        }
    }
    return true;
}

bson_t *central_check_merge(const bson_t *cur, const char *id, const char *clinic_id,
                            const bson_t *fields)
{
    bson_t *out = bson_new();
    bson_iter_t it;
    if (cur && bson_iter_init(&it, cur)) {
        while (bson_iter_next(&it)) {
            const char *k = bson_iter_key(&it);
            if (strcmp(k, "clinicId") != 0 && !bson_has_field(fields, k))
                bson_append_iter(out, k, -1, &it);
        }
    } else {
        BSON_APPEND_UTF8(out, "_id", id);
    }
    bson_concat(out, fields);
    BSON_APPEND_UTF8(out, "clinicId", clinic_id);
    return out;
}

/* ---- the collections ------------------------------------------------------- */

static void text_of(const bson_t *d, const char *key, char *out, size_t len)
{
    if (!d || !docmap_text(d, key, out, len))
        snprintf(out, len, "?");
}

/* apply_clinic: only the box's own clinic, decoded by docmap_to_clinic. */
static void check_clinic(const bson_t *doc, const struct central_context *cx,
                         struct central_check *r)
{
    char id[80];
    clinic_rec c;
    struct docmap_err e;
    text_of(doc, "_id", id, sizeof id);
    if (strcmp(id, cx->clinic_id) != 0) {
        say(r, CENTRAL_REFUSE, "_id: clinic %s is not clinic %s (--clinic)", id, cx->clinic_id);
        return;
    }
    memset(&c, 0, sizeof c);
    if (!docmap_to_clinic(doc, &c, &e))
        say(r, CENTRAL_REFUSE, "%s", e.why);
}

/* apply_person: a tombstone, refused while appointments name the person;
 * anything else decoded by docmap_to_doctor/_patient. */
static void check_person(const char *kind, const bson_t *doc, const struct central_context *cx,
                         struct central_check *r)
{
    struct docmap_err e;
    if (docmap_deleted(doc)) {
        char id[80];
        text_of(doc, "_id", id, sizeof id);
        if (!cx->cur)
            say(r, CENTRAL_REFUSE, "_id: no %s %s in clinic %s to delete", kind, id,
                cx->clinic_id);
        else if (cx->referenced)
            say(r, CENTRAL_REFUSE, "deletedAt: %s %s has appointments and cannot be deleted",
                kind, id);
        return;
    }
    bool ok;
    if (strcmp(kind, "doctor") == 0) {
        doctor_rec d;
        ok = docmap_to_doctor(doc, &d, &e);
    } else {
        patient_rec p;
        ok = docmap_to_patient(doc, &p, &e);
    }
    if (!ok)
        say(r, CENTRAL_REFUSE, "%s", e.why);
}

/* A doctor or patient an appointment or schedule names: in this clinic and
 * not deleted (else the box has no such record, and refuses). */
static bool person_there(const char *field, const char *kind, const char *id, const bson_t *d,
                         const struct central_context *cx, struct central_check *r)
{
    if (!d)
        say(r, CENTRAL_REFUSE, "%s: no %s %s in `%ss` of clinic %s", field, kind, id, kind,
            cx->clinic_id);
    else if (docmap_deleted(d))
        say(r, CENTRAL_REFUSE, "%s: %s %s is deleted", field, kind, id);
    return r->verdict != CENTRAL_REFUSE;
}

/* apply_schedule: the doctor must be on the box; the box keeps the doctor's
 * slotMinutes whatever the schedule says. */
static void check_schedule(const bson_t *doc, const struct central_context *cx,
                           struct central_check *r)
{
    char id[80];
    schedule_rec s;
    struct docmap_err e;
    text_of(doc, "_id", id, sizeof id);
    if (docmap_deleted(doc)) {
        if (cx->doctor && !docmap_deleted(cx->doctor))
            say(r, CENTRAL_WARN, "deletedAt: a live doctor keeps a schedule; the box ignores it");
        return;
    }
    if (!person_there("_id (a schedule's is its doctor's)", "doctor", id, cx->doctor, cx, r))
        return;
    bool ok = docmap_to_schedule(doc, &s, &e);
    schedule_rec_free(&s);
    if (!ok) {
        say(r, CENTRAL_REFUSE, "%s", e.why);
        return;
    }
    bson_iter_t a, b;
    if (bson_iter_init_find(&a, doc, "slotMinutes") && BSON_ITER_HOLDS_NUMBER(&a) &&
        bson_iter_init_find(&b, cx->doctor, "slotMinutes") && BSON_ITER_HOLDS_NUMBER(&b) &&
        bson_iter_as_int64(&a) != bson_iter_as_int64(&b))
        say(r, CENTRAL_WARN,
            "slotMinutes: the box uses the doctor's (%lld, `doctors`); to change the grid, "
            "put it on the doctor",
            (long long)bson_iter_as_int64(&b));
}

/* A new booked appointment: insert_booking (service/booking.c) turns down
 * what slots_check turns down, and apply.c keeps it as a conflict. */
static void check_grid(const appt_rec *a, const struct central_context *cx, int64_t now,
                       struct central_check *r)
{
    char zone[80];
    doctor_rec d;
    schedule_rec s;
    struct docmap_err e;
    const tz_t *tz = NULL;
    if (cx->clinic && docmap_text(cx->clinic, "timezone", zone, sizeof zone))
        tz = tz_get(zone);
    if (!tz) {
        say(r, CENTRAL_WARN, "timezone: the clinic's is not a known time zone; the doctor's "
                             "hours are not checked");
        return;
    }
    if (!docmap_to_doctor(cx->doctor, &d, &e)) {
        say(r, CENTRAL_WARN,
            "doctorId: the doctor's document is not one the box takes (%s); the slot grid is "
            "not checked", e.why);
        return;
    }
    memset(&s, 0, sizeof s);
    if (cx->schedule && !docmap_deleted(cx->schedule) &&
        !docmap_to_schedule(cx->schedule, &s, &e)) {
        schedule_rec_free(&s);
        say(r, CENTRAL_WARN,
            "doctorId: the doctor's schedule is not one the box takes (%s); the hours are not "
            "checked", e.why);
        return;
    }
    s.slot_minutes = d.slot_minutes; /* apply_schedule: the doctor's */
    int64_t minutes = (a->end - a->start) / 60;
    int rounded = slots_round_duration(minutes > 100000 ? 100000 : (int)minutes, s.slot_minutes);
    schedule_t view = schedule_view(&s);
    enum slot_check chk = rounded ? slots_check(&view, tz, a->start, rounded, now)
                                  : SLOT_BAD_DURATION;
    schedule_rec_free(&s);
    if (chk != SLOT_OK)
        say(r, CENTRAL_WARN,
            "%s: the box will keep this booking as a conflict (it holds no time, and the "
            "patient is offered other times): %s",
            chk == SLOT_BAD_DURATION ? "end" : "start", slots_check_message(chk));
    else if (cx->taken_by)
        say(r, CENTRAL_WARN,
            "start: central shows the doctor booked then (appointment %s); unless the box has "
            "cancelled that one, it keeps this booking as a conflict",
            cx->taken_by);
    else if ((int64_t)rounded * 60 != a->end - a->start)
        say(r, CENTRAL_WARN,
            "end: the box books whole slots of %d minutes: the appointment lasts %d minutes",
            s.slot_minutes, rounded);
}

/* apply_appointment and new_appointment. */
static void check_appointment(const bson_t *doc, const struct central_context *cx, int64_t now,
                              struct central_check *r)
{
    appt_rec a, old;
    struct docmap_err e;
    if (docmap_deleted(doc)) {
        say(r, CENTRAL_REFUSE, "deletedAt: appointments are cancelled, never deleted");
        return;
    }
    if (!docmap_to_appt(doc, &a, &e)) {
        say(r, CENTRAL_REFUSE, "%s", e.why);
        return;
    }
    if (cx->cur) {
        /* doctor, patient and times are fixed once booked; the status moves
         * along the life cycle only */
        enum appt_action steps[2];
        int nsteps;
        if (!docmap_to_appt(cx->cur, &old, &e))
            return;
        if (strcmp(old.doctor_id, a.doctor_id) != 0 || strcmp(old.patient_id, a.patient_id) != 0 ||
            old.start != a.start || old.end != a.end)
            say(r, CENTRAL_WARN,
                "doctorId, patientId, start, end: fixed once booked; the box keeps its own (to "
                "move an appointment, book the new time and cancel the old one)");
        else if (strcmp(old.status, a.status) != 0 &&
                 !appt_path(old.status, a.status, steps, &nsteps))
            say(r, CENTRAL_WARN, "status: the box keeps %s: %s does not follow from it",
                old.status, a.status);
        return;
    }
    if (appt_status_live(a.status) && strcmp(a.status, "booked") != 0) {
        say(r, CENTRAL_REFUSE, "status: a new appointment from central must be booked, not %s",
            a.status);
        return;
    }
    if (!person_there("doctorId", "doctor", a.doctor_id, cx->doctor, cx, r) ||
        !person_there("patientId", "patient", a.patient_id, cx->patient, cx, r))
        return;
    if (appt_status_live(a.status))
        check_grid(&a, cx, now, r);
}

void central_check_doc(const char *collection, const bson_t *doc,
                       const struct central_context *cx, int64_t now, struct central_check *r)
{
    r->verdict = CENTRAL_OK;
    r->why[0] = 0;
    if (!central_check_collection(collection, r))
        return;
    if (strcmp(collection, "clinics") == 0)
        check_clinic(doc, cx, r);
    else if (strcmp(collection, "doctors") == 0)
        check_person("doctor", doc, cx, r);
    else if (strcmp(collection, "patients") == 0)
        check_person("patient", doc, cx, r);
    else if (strcmp(collection, "schedules") == 0)
        check_schedule(doc, cx, r);
    else
        check_appointment(doc, cx, now, r);
}
