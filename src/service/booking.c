/*
 * booking.c — see booking.h.
 *
 * Threads: called from HTTP worker threads and the no-show worker. Writes go
 * through db_write() jobs (run on the writer thread); reads borrow a pooled
 * connection. The clinic settings are copied once per call.
 */
#include "service/booking.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/tz.h"
#include "domain/slots.h"
#include "outbox/outbox.h"
#include "service/messages.h"
#include "service/notify.h"
#include "store/store.h"

#define ALTERNATIVES_DAYS 14
#define OFFER_SEARCH_DAYS 28
/* A patient reads the offer and has to get to the clinic: no option starts
 * sooner than this after the offer is made (a slot starting this very
 * minute would also be gone before the patient could pick it). */
#define OFFER_MIN_NOTICE_MINUTES 60
#define NOSHOW_BATCH 64

static int unavailable(svc_err *e)
{
    return svc_fail(e, SVC_UNAVAILABLE, NULL, "storage is unavailable");
}

/* Free slots in the loaded schedule s of doctor_id, on connection c; shared
 * by alternatives, available slots and offers. With spread, the slots do not
 * overlap each other. Caller frees *out; -1 on a storage error. */
static long free_slots(db_conn_t *c, const tz_t *tz, const schedule_rec *s,
                       const char *doctor_id, int64_t from, int64_t to, int duration,
                       int64_t now, size_t max, bool spread, interval_t **out)
{
    interval_t *busy = NULL;
    long n, nbusy;
    *out = NULL;
    if (duration == 0)
        duration = s->slot_minutes;
    duration = slots_round_duration(duration, s->slot_minutes);
    /* A slot may start just before `to` and run up to `duration` past it, so
     * the bookings that matter are those overlapping [from, to + duration),
     * not only those starting before `to` (issue 9). */
    nbusy = store_appt_busy(c, doctor_id, from < now ? now : from, to + (int64_t)duration * 60,
                            &busy);
    if (nbusy < 0)
        return -1;
    /* Suggestions (spread) should be different times, not 09:00, 09:15 and
     * 09:30 for a 30-minute visit: ask for enough starts, keep those that
     * do not overlap the one before. */
    size_t want = spread && duration > 0 ? max * (size_t)(duration / s->slot_minutes + 1) : max;
    schedule_t view = schedule_view(s);
    n = slots_find(&view, tz, busy, (size_t)nbusy, from, to, duration, now, want, out);
    if (spread && n > 0) {
        long k = 0;
        for (long i = 0; i < n && (size_t)k < max; i++)
            if (k == 0 || (*out)[i].start >= (*out)[k - 1].end)
                (*out)[k++] = (*out)[i];
        n = k;
    }
    free(busy);
    return n;
}

/* free_slots() after loading the doctor's schedule. */
static long find_free(db_conn_t *c, const clinic_rec *clinic, const char *doctor_id,
                      int64_t from, int64_t to, int duration, int64_t now, size_t max,
                      bool spread, interval_t **out)
{
    schedule_rec s;
    const tz_t *tz = tz_get(clinic->timezone);
    *out = NULL;
    if (!tz || store_schedule_get(c, doctor_id, &s) != STORE_OK)
        return -1;
    long n = free_slots(c, tz, &s, doctor_id, from, to, duration, now, max, spread, out);
    schedule_rec_free(&s);
    return n;
}

static void fill_alternatives(app_t *app, const clinic_rec *clinic, const char *doctor_id,
                              int64_t near, int duration, int64_t now, svc_err *e)
{
    interval_t *alt = NULL;
    db_conn_t *c = db_reader(app->db);
    size_t max = sizeof e->alternatives / sizeof e->alternatives[0];
    if (!c)
        return;
    long n = find_free(c, clinic, doctor_id, near, near + ALTERNATIVES_DAYS * 86400, duration,
                       now, max > 3 ? 3 : max, true, &alt);
    for (long i = 0; i < n; i++)
        e->alternatives[e->nalternatives++] = alt[i];
    free(alt);
    db_reader_release(app->db, c);
}

static void event_data_times(char *buf, size_t len, const appt_rec *a)
{
    snprintf(buf, len, "{\"start\":%lld,\"end\":%lld,\"doctor_id\":\"%s\",\"patient_id\":\"%s\"}",
             (long long)a->start, (long long)a->end, a->doctor_id, a->patient_id);
}

/* ---- booking ---------------------------------------------------------- */

struct book_job {
    const struct book_req *req;
    const clinic_rec *clinic;
    const char *actor;
    int64_t now;
    appt_rec *out;
    svc_err *e;
    int duration; /* out: the rounded duration */
};

/* Validates against the schedule and inserts a new booked appointment. */
static int insert_booking(db_conn_t *c, const clinic_rec *clinic, appt_rec *a, int duration,
                          const char *actor, int64_t now, bool keep_id, int *rounded, svc_err *e)
{
    schedule_rec s;
    patient_rec p;
    char data[256];
    int rc = store_schedule_get(c, a->doctor_id, &s);
    const tz_t *tz = tz_get(clinic->timezone);

    if (rc != STORE_OK)
        return rc == STORE_NOT_FOUND
                   ? svc_fail(e, SVC_NOT_FOUND, "doctor_id", "doctor %s not found", a->doctor_id)
                   : unavailable(e);
    rc = store_patient_get(c, a->patient_id, &p);
    if (rc != STORE_OK) {
        schedule_rec_free(&s);
        return rc == STORE_NOT_FOUND ? svc_fail(e, SVC_NOT_FOUND, "patient_id",
                                                "patient %s not found", a->patient_id)
                                     : unavailable(e);
    }
    if (duration == 0)
        duration = s.slot_minutes;
    *rounded = slots_round_duration(duration, s.slot_minutes);
    schedule_t view = schedule_view(&s);
    enum slot_check chk = *rounded ? (tz ? slots_check(&view, tz, a->start, *rounded, now)
                                         : SLOT_OUTSIDE_HOURS)
                                   : SLOT_BAD_DURATION;
    if (chk == SLOT_OK && a->start % SLOT_UNIT_SECONDS != 0)
        chk = SLOT_OFF_GRID; /* a zone offset with seconds (only in old history) */
    schedule_rec_free(&s);
    if (chk != SLOT_OK)
        return svc_fail(e, SVC_UNPROCESSABLE, chk == SLOT_BAD_DURATION ? "duration_minutes" : "start",
                        "%s", slots_check_message(chk));
    a->end = a->start + (int64_t)*rounded * 60;
    snprintf(a->status, sizeof a->status, "booked");
    if (!keep_id) {
        ids_uuid(now * 1000, a->id);
        a->created_at = a->updated_at = now;
        snprintf(a->created_by, sizeof a->created_by, "%s", actor);
        snprintf(a->updated_by, sizeof a->updated_by, "%s", actor);
    }
    rc = store_appt_insert(c, a);
    if (rc == STORE_CONFLICT)
        return svc_fail(e, SVC_CONFLICT, "start", "the doctor is already booked at that time");
    if (rc != STORE_OK)
        return unavailable(e);
    event_data_times(data, sizeof data, a);
    if (store_event(c, now, actor, "appointment", a->id, "booked", data) != STORE_OK)
        return unavailable(e);
    if (clinic->confirmations) {
        notify_what what = {PURPOSE_CONFIRMATION, NULL, NULL, 0, &p, NULL, 0};
        if (notify_queue(c, clinic, a, &what, now, NULL) != 0)
            return unavailable(e);
    }
    return 0;
}

static int book_job(db_conn_t *c, void *arg)
{
    struct book_job *j = arg;
    memset(j->out, 0, sizeof *j->out);
    snprintf(j->out->doctor_id, sizeof j->out->doctor_id, "%s", j->req->doctor_id);
    snprintf(j->out->patient_id, sizeof j->out->patient_id, "%s", j->req->patient_id);
    snprintf(j->out->reason, sizeof j->out->reason, "%s", j->req->reason);
    j->out->start = j->req->start;
    return insert_booking(c, j->clinic, j->out, j->req->duration_minutes, j->actor, j->now,
                          false, &j->duration, j->e);
}

int booking_insert_in_tx(db_conn_t *c, const clinic_rec *clinic, appt_rec *a, const char *actor,
                         int64_t now, svc_err *e)
{
    int rounded = 0;
    return insert_booking(c, clinic, a, (int)((a->end - a->start) / 60), actor, now, true,
                          &rounded, e);
}

int svc_book(app_t *app, const struct book_req *req, const char *actor, int64_t now,
             appt_rec *out, svc_err *e)
{
    clinic_rec clinic;
    app_clinic(app, &clinic);
    struct book_job j = {req, &clinic, actor, now, out, e, 0};
    int rc = db_write(app->db, book_job, &j);
    if (rc == 0)
        outbox_kick(app);
    if (rc == DB_UNAVAILABLE)
        return unavailable(e);
    if (rc == SVC_CONFLICT)
        fill_alternatives(app, &clinic, req->doctor_id, req->start, j.duration, now, e);
    return rc;
}

/* ---- life cycle -------------------------------------------------------- */

struct transition_job {
    const clinic_rec *clinic;
    const char *id;
    enum appt_action action;
    const char *reason;
    const char *actor;
    int64_t now;
    appt_rec *out;
    svc_err *e;
};

int booking_transition_in_tx(db_conn_t *c, const clinic_rec *clinic, appt_rec *a,
                             enum appt_action action, const char *reason, const char *actor,
                             int64_t now, svc_err *e)
{
    const char *to, *why;
    if (!appt_transition(a->status, action, a->start, clinic->grace_minutes, now, &to, &why))
        return svc_fail(e, SVC_CONFLICT, NULL, "cannot %s: %s (status is %s)",
                        appt_action_name(action), why, a->status);
    snprintf(a->status, sizeof a->status, "%s", to);
    switch (action) {
    case APPT_CHECK_IN:
        a->checked_in_at = now;
        break;
    case APPT_COMPLETE:
        a->completed_at = now;
        break;
    case APPT_CANCEL:
        a->cancelled_at = now;
        snprintf(a->cancel_reason, sizeof a->cancel_reason, "%s", reason ? reason : "");
        break;
    case APPT_NO_SHOW:
        a->no_show_at = now;
        break;
    default:
        break;
    }
    a->updated_at = now;
    snprintf(a->updated_by, sizeof a->updated_by, "%s", actor);
    if (store_appt_update(c, a) != STORE_OK ||
        store_event(c, now, actor, "appointment", a->id, to, NULL) != STORE_OK)
        return unavailable(e);
    if (action == APPT_CANCEL && a->start > now) {
        notify_what what = {PURPOSE_CANCELLATION, NULL, NULL, 0, NULL, NULL, 0};
        if (notify_queue(c, clinic, a, &what, now, NULL) != 0)
            return unavailable(e);
    }
    return 0;
}

static int transition_job(db_conn_t *c, void *arg)
{
    struct transition_job *j = arg;
    int rc = store_appt_get(c, j->id, j->out);
    if (rc != STORE_OK)
        return svc_store_fail(j->e, rc, "appointment");
    return booking_transition_in_tx(c, j->clinic, j->out, j->action, j->reason, j->actor, j->now,
                                    j->e);
}

int svc_transition(app_t *app, const char *id, enum appt_action action, const char *reason,
                   const char *actor, int64_t now, appt_rec *out, svc_err *e)
{
    clinic_rec clinic;
    app_clinic(app, &clinic);
    struct transition_job j = {&clinic, id, action, reason, actor, now, out, e};
    int rc = db_write(app->db, transition_job, &j);
    if (rc == 0)
        outbox_kick(app);
    return rc == DB_UNAVAILABLE ? unavailable(e) : rc;
}

/* ---- free slots ---------------------------------------------------------- */

int svc_available(app_t *app, const char *doctor_id, int64_t from, int64_t to, int duration,
                  int64_t now, interval_t **out, long *n, svc_err *e)
{
    clinic_rec clinic;
    schedule_rec s;
    int rc = SVC_OK;
    db_conn_t *c = db_reader(app->db);
    *out = NULL;
    *n = 0;
    if (!c)
        return unavailable(e);
    app_clinic(app, &clinic);
    const tz_t *tz = tz_get(clinic.timezone);
    int got = store_schedule_get(c, doctor_id, &s); /* also tells whether the doctor exists */
    if (got != STORE_OK) {
        db_reader_release(app->db, c);
        return svc_store_fail(e, got, "doctor");
    }
    if (duration && !slots_round_duration(duration, s.slot_minutes))
        rc = svc_fail(e, SVC_UNPROCESSABLE, "duration", "%s",
                      slots_check_message(SLOT_BAD_DURATION));
    else if (!tz || (*n = free_slots(c, tz, &s, doctor_id, from, to, duration, now, 5000, false,
                                     out)) < 0) {
        *n = 0;
        rc = unavailable(e);
    }
    schedule_rec_free(&s);
    db_reader_release(app->db, c);
    return rc;
}

/* ---- offers ---------------------------------------------------------------- */

int booking_offer_in_tx(db_conn_t *c, app_t *app, const clinic_rec *clinic, const appt_rec *a,
                        int options, const char *actor, const char *purpose, int64_t now,
                        struct offer_result *out, svc_err *e)
{
    interval_t *opts = NULL;
    char token[TOKEN_LEN], hash[TOKEN_HASH_LEN], link[700];
    const tz_t *tz = tz_get(clinic->timezone);
    int duration = (int)((a->end - a->start) / 60);
    offer_rec *o = &out->offer;

    memset(out, 0, sizeof *out);
    if (!tz)
        return unavailable(e);
    if (options <= 0)
        options = clinic->reschedule_options;
    if (options > OFFER_MAX_OPTIONS)
        options = OFFER_MAX_OPTIONS;
    int64_t first = now + OFFER_MIN_NOTICE_MINUTES * 60;
    long n = find_free(c, clinic, a->doctor_id, first, now + OFFER_SEARCH_DAYS * 86400, duration,
                       now, (size_t)options, true, &opts);
    if (n < 0)
        return unavailable(e);
    for (long i = 0; i < n; i++)
        o->options[o->noptions++] = opts[i];
    free(opts);

    ids_uuid(now * 1000, o->id);
    snprintf(o->appointment_id, sizeof o->appointment_id, "%s", a->id);
    o->created_at = now;
    o->expires_at = now + (int64_t)clinic->offer_hours * 3600;
    ids_token(token);
    ids_token_hash(token, hash);
    if (store_offer_insert(c, o, hash, actor) != STORE_OK)
        return unavailable(e);
    snprintf(link, sizeof link, "%s" OFFER_LINK_PATH "%s", app->cfg.public_url, token);

    /* a no-show's offer came due at the end of the grace period */
    int64_t due_at = strcmp(purpose, "no_show_offer") == 0
                         ? a->start + (int64_t)clinic->grace_minutes * 60
                         : 0;
    notify_what what = {purpose, o, link, 0, NULL, token, due_at};
    if (notify_queue(c, clinic, a, &what, now, out->notes) != 0)
        return unavailable(e);
    out->nnotes = NOTIFY_CHANNELS;
    char data[128];
    snprintf(data, sizeof data, "{\"offer_id\":\"%s\",\"options\":%d}", o->id, o->noptions);
    if (store_event(c, now, actor, "appointment", a->id, "offer_made", data) != STORE_OK)
        return unavailable(e);
    return 0;
}

struct offer_job {
    app_t *app;
    const clinic_rec *clinic;
    const char *id;
    int options;
    const char *actor;
    int64_t now;
    struct offer_result *out;
    svc_err *e;
};

static int offer_job(db_conn_t *c, void *arg)
{
    struct offer_job *j = arg;
    appt_rec a;
    const char *to, *why;
    int rc = store_appt_get(c, j->id, &a);
    if (rc != STORE_OK)
        return svc_store_fail(j->e, rc, "appointment");
    if (!appt_transition(a.status, APPT_OFFER, a.start, j->clinic->grace_minutes, j->now, &to,
                         &why))
        return svc_fail(j->e, SVC_CONFLICT, NULL, "cannot reschedule: %s (status is %s)", why,
                        a.status);
    return booking_offer_in_tx(c, j->app, j->clinic, &a, j->options, j->actor,
                               "reschedule_offer", j->now, j->out, j->e);
}

int svc_reschedule(app_t *app, const char *id, int options, const char *actor, int64_t now,
                   struct offer_result *out, svc_err *e)
{
    clinic_rec clinic;
    app_clinic(app, &clinic);
    struct offer_job j = {app, &clinic, id, options, actor, now, out, e};
    int rc = db_write(app->db, offer_job, &j);
    if (rc == 0)
        outbox_kick(app);
    return rc == DB_UNAVAILABLE ? unavailable(e) : rc;
}

/* ---- rebook ---------------------------------------------------------------- */

/* Moves `old` (read in this transaction) to a new appointment at `start`
 * with the same doctor, patient, reason and length, as `actor`: the old one
 * becomes rescheduled, pointing at the new one. Its own time is freed first,
 * so a move within it works. offer_id/option name the offer used, or NULL. */
static int move_appt(db_conn_t *c, const clinic_rec *clinic, appt_rec *old, int64_t start,
                     const char *actor, const char *offer_id, int option, int64_t now,
                     appt_rec *nu, svc_err *e)
{
    const char *to, *why;
    char data[200];
    int duration = (int)((old->end - old->start) / 60);
    if (!appt_transition(old->status, APPT_REBOOK, old->start, clinic->grace_minutes, now, &to,
                         &why))
        return svc_fail(e, SVC_CONFLICT, NULL, "cannot rebook: %s (status is %s)", why,
                        old->status);

    snprintf(old->status, sizeof old->status, "%s", to);
    old->updated_at = now;
    snprintf(old->updated_by, sizeof old->updated_by, "%s", actor);
    if (store_appt_update(c, old) != STORE_OK)
        return unavailable(e);

    memset(nu, 0, sizeof *nu);
    snprintf(nu->doctor_id, sizeof nu->doctor_id, "%s", old->doctor_id);
    snprintf(nu->patient_id, sizeof nu->patient_id, "%s", old->patient_id);
    snprintf(nu->reason, sizeof nu->reason, "%s", old->reason);
    snprintf(nu->rescheduled_from, sizeof nu->rescheduled_from, "%s", old->id);
    nu->start = start;
    int rounded;
    int rc = insert_booking(c, clinic, nu, duration, actor, now, false, &rounded, e);
    if (rc != 0)
        return rc;
    snprintf(old->rescheduled_to, sizeof old->rescheduled_to, "%s", nu->id);
    if (offer_id)
        snprintf(data, sizeof data, "{\"rescheduled_to\":\"%s\",\"offer_id\":\"%s\",\"option\":%d}",
                 nu->id, offer_id, option);
    else
        snprintf(data, sizeof data, "{\"rescheduled_to\":\"%s\"}", nu->id);
    if (store_appt_update(c, old) != STORE_OK ||
        store_event(c, now, actor, "appointment", old->id, "rescheduled", data) != STORE_OK)
        return unavailable(e);
    return 0;
}

struct rebook_job {
    const clinic_rec *clinic;
    const char *id;
    int64_t start;
    const char *actor;
    int64_t now;
    appt_rec *new_appt, *old_appt;
    svc_err *e;
    int duration; /* out */
};

static int rebook_job(db_conn_t *c, void *arg)
{
    struct rebook_job *j = arg;
    int rc = store_appt_get(c, j->id, j->old_appt);
    if (rc != STORE_OK)
        return svc_store_fail(j->e, rc, "appointment");
    j->duration = (int)((j->old_appt->end - j->old_appt->start) / 60);
    return move_appt(c, j->clinic, j->old_appt, j->start, j->actor, NULL, 0, j->now, j->new_appt,
                     j->e);
}

int svc_rebook(app_t *app, const char *id, int64_t start, const char *actor, int64_t now,
               appt_rec *new_appt, appt_rec *old_appt, svc_err *e)
{
    clinic_rec clinic;
    app_clinic(app, &clinic);
    struct rebook_job j = {&clinic, id, start, actor, now, new_appt, old_appt, e, 0};
    int rc = db_write(app->db, rebook_job, &j);
    if (rc == 0)
        outbox_kick(app);
    if (rc == DB_UNAVAILABLE)
        return unavailable(e);
    if (rc == SVC_CONFLICT && strcmp(e->field, "start") == 0)
        fill_alternatives(app, &clinic, old_appt->doctor_id, start, j.duration, now, e);
    return rc;
}

int booking_rebook_offer_in_tx(db_conn_t *c, const clinic_rec *clinic, const char *token,
                               int option, const char *actor, int64_t now, offer_rec *o,
                               appt_rec *old, appt_rec *nu, svc_err *e)
{
    char hash[TOKEN_HASH_LEN];
    ids_token_hash(token, hash);
    int rc = store_offer_by_token(c, hash, o);
    if (rc == STORE_NOT_FOUND)
        return svc_fail(e, SVC_NOT_FOUND, "offer_token", "no offer has this token");
    if (rc != STORE_OK)
        return unavailable(e);
    /* Expiry first: past it the token is worth nothing, used or not. */
    if (now >= o->expires_at)
        return svc_fail(e, SVC_GONE, "offer_token", "this offer has expired");
    if (o->used_at)
        return svc_fail(e, SVC_CONFLICT, "offer_token", "this offer was already used");
    if (option < 1 || option > o->noptions)
        return o->noptions
                   ? svc_fail(e, SVC_UNPROCESSABLE, "option",
                              "option must be a number from 1 to %d", o->noptions)
                   : svc_fail(e, SVC_UNPROCESSABLE, "option", "this offer has no options");
    if (store_appt_get(c, o->appointment_id, old) != STORE_OK)
        return unavailable(e);
    rc = move_appt(c, clinic, old, o->options[option - 1].start, actor, o->id, option, now, nu,
                   e);
    if (rc != 0)
        return rc;
    /* Single use, in the same transaction as the move. */
    if (store_offer_mark_used(c, o->id, now, option, nu->id) != STORE_OK)
        return svc_fail(e, SVC_CONFLICT, "offer_token", "this offer was already used");
    o->used_at = now;
    o->used_option = option;
    snprintf(o->new_appointment_id, sizeof o->new_appointment_id, "%s", nu->id);
    /* A used offer's link is worthless: its messages forget the token. */
    if (store_notification_drop_offer_tokens(c, old->id, o->id) != STORE_OK)
        return unavailable(e);
    return 0;
}

/* ---- no-show sweep ------------------------------------------------------- */

struct sweep_job {
    app_t *app;
    const clinic_rec *clinic;
    int64_t now;
    long marked;
    bool more;
};

static int sweep_job(db_conn_t *c, void *arg)
{
    struct sweep_job *j = arg;
    char ids[NOSHOW_BATCH][ID_LEN];
    svc_err e;
    struct offer_result offer;
    long n = store_appt_due_no_show(c, j->now - (int64_t)j->clinic->grace_minutes * 60, ids,
                                    NOSHOW_BATCH);
    if (n < 0)
        return SVC_UNAVAILABLE;
    j->more = n == NOSHOW_BATCH;
    for (long i = 0; i < n; i++) {
        appt_rec a;
        const char *to, *why;
        if (store_appt_get(c, ids[i], &a) != STORE_OK)
            return SVC_UNAVAILABLE;
        if (!appt_transition(a.status, APPT_NO_SHOW, a.start, j->clinic->grace_minutes, j->now,
                             &to, &why))
            continue;
        snprintf(a.status, sizeof a.status, "%s", to);
        a.no_show_at = a.updated_at = j->now;
        snprintf(a.updated_by, sizeof a.updated_by, "system:no-show");
        if (store_appt_update(c, &a) != STORE_OK ||
            store_event(c, j->now, "system:no-show", "appointment", a.id, "no_show", NULL) !=
                STORE_OK)
            return SVC_UNAVAILABLE;
        int rc = booking_offer_in_tx(c, j->app, j->clinic, &a, 0, "system:no-show",
                                     "no_show_offer", j->now, &offer, &e);
        if (rc != 0)
            return rc;
        j->marked++;
    }
    return 0;
}

long svc_noshow_sweep(app_t *app, int64_t now)
{
    clinic_rec clinic;
    long total = 0;
    app_clinic(app, &clinic);
    for (;;) {
        struct sweep_job j = {app, &clinic, now, 0, false};
        int rc = db_write(app->db, sweep_job, &j);
        if (rc == 0)
            outbox_kick(app);
        if (rc != 0) {
            log_error("noshow", "sweep failed (%d); will retry", rc);
            return -1;
        }
        total += j.marked;
        if (!j.more)
            break;
    }
    return total;
}
