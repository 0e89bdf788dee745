/*
 * offerlink.c — see offerlink.h.
 *
 * Threads: HTTP worker threads. The view reads on a pooled connection; the
 * rebook is one db_write() job (the move, its events, the offer used up and
 * its messages' tokens dropped commit together), whose answer is built in
 * the same transaction.
 */
#include "service/offerlink.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/tz.h"
#include "domain/appointment.h"
#include "domain/slots.h"
#include "outbox/outbox.h"
#include "service/booking.h"
#include "service/notify.h"
#include "store/store.h"

static int unavailable(svc_err *e)
{
    return svc_fail(e, SVC_UNAVAILABLE, NULL, "storage is unavailable");
}

/* The offer a link's token names, read on c: SVC_OK, else the 404 or 503
 * it answers (the token itself is never stored, only its hash). */
static int offer_of_token(db_conn_t *c, const char *token, offer_rec *o, svc_err *e)
{
    char hash[TOKEN_HASH_LEN];
    ids_token_hash(token, hash);
    int got = store_offer_by_token(c, hash, o);
    if (got == STORE_NOT_FOUND)
        return svc_fail(e, SVC_NOT_FOUND, "offer_token", "no offer has this token");
    return got == STORE_OK ? SVC_OK : unavailable(e);
}

/* What every answer shows, from offer o and its appointment a. */
static int fill_view(db_conn_t *c, const clinic_rec *clinic, const offer_rec *o,
                     const appt_rec *a, int64_t now, struct offer_link_view *v)
{
    doctor_rec d;
    const char *to, *why;
    memset(v, 0, sizeof *v);
    snprintf(v->appointment_id, sizeof v->appointment_id, "%s", a->id);
    if (store_doctor_get(c, a->doctor_id, &d) != STORE_OK)
        return -1;
    snprintf(v->clinic_name, sizeof v->clinic_name, "%s", clinic->name);
    snprintf(v->clinic_timezone, sizeof v->clinic_timezone, "%s", clinic->timezone);
    snprintf(v->clinic_language, sizeof v->clinic_language, "%s",
             clinic->language[0] ? clinic->language : LANGUAGE_DEFAULT);
    snprintf(v->doctor_name, sizeof v->doctor_name, "%s", d.name);
    v->appt = (interval_t){a->start, a->end};
    snprintf(v->appt_status, sizeof v->appt_status, "%s", a->status);
    v->expires_at = o->expires_at;
    v->used = o->used_at != 0;
    v->rebookable = !v->used && appt_transition(a->status, APPT_REBOOK, a->start,
                                                clinic->grace_minutes, now, &to, &why);
    if (v->used && o->used_option >= 1 && o->used_option <= o->noptions)
        v->chosen = (struct offer_link_option){o->used_option, o->options[o->used_option - 1]};
    return 0;
}

/* The options of a rebookable offer that could still be booked now: in the
 * doctor's hours, not past, not overlapping another live appointment. They
 * keep the numbers the message gave them. */
static int fill_free_options(db_conn_t *c, const clinic_rec *clinic, const offer_rec *o,
                             const appt_rec *a, int64_t now, struct offer_link_view *v)
{
    schedule_rec s;
    interval_t *busy = NULL;
    const tz_t *tz = tz_get(clinic->timezone);
    int64_t from = 0, to = 0;
    if (!v->rebookable || o->noptions == 0)
        return 0;
    if (!tz || store_schedule_get(c, a->doctor_id, &s) != STORE_OK)
        return -1;
    int minutes = slots_round_duration((int)((a->end - a->start) / 60), s.slot_minutes);
    for (int i = 0; i < o->noptions; i++) {
        if (i == 0 || o->options[i].start < from)
            from = o->options[i].start;
        if (o->options[i].start + (int64_t)minutes * 60 > to)
            to = o->options[i].start + (int64_t)minutes * 60;
    }
    long nbusy = store_appt_busy(c, a->doctor_id, from, to, &busy);
    if (nbusy < 0) {
        schedule_rec_free(&s);
        return -1;
    }
    schedule_t view = schedule_view(&s);
    for (int i = 0; minutes && i < o->noptions; i++) {
        int64_t start = o->options[i].start, end = start + (int64_t)minutes * 60;
        bool ok = slots_check(&view, tz, start, minutes, now) == SLOT_OK;
        for (long k = 0; ok && k < nbusy; k++)
            /* the appointment's own time is freed when it moves (a doctor's
             * live appointments never overlap, so an equal one is its own) */
            if (busy[k].start < end && start < busy[k].end &&
                !(busy[k].start == a->start && busy[k].end == a->end))
                ok = false;
        if (ok)
            v->options[v->noptions++] = (struct offer_link_option){i + 1, o->options[i]};
    }
    free(busy);
    schedule_rec_free(&s);
    return 0;
}

int svc_offer_link_view(app_t *app, const char *token, int64_t now, struct offer_link_view *out,
                        svc_err *e)
{
    clinic_rec clinic;
    offer_rec o;
    appt_rec a;

    app_clinic(app, &clinic);
    memset(out, 0, sizeof *out);
    db_conn_t *c = db_reader(app->db);
    if (!c)
        return unavailable(e);
    int rc = offer_of_token(c, token, &o, e);
    if (rc == SVC_OK && now >= o.expires_at) {
        snprintf(out->appointment_id, sizeof out->appointment_id, "%s", o.appointment_id);
        rc = svc_fail(e, SVC_GONE, "offer_token", "this offer has expired");
    } else if (rc == SVC_OK && (store_appt_get(c, o.appointment_id, &a) != STORE_OK ||
                                fill_view(c, &clinic, &o, &a, now, out) != 0 ||
                                fill_free_options(c, &clinic, &o, &a, now, out) != 0)) {
        rc = unavailable(e);
    }
    db_reader_release(app->db, c);
    return rc;
}

/* Appointments the clinic took away from the patient after the rebook. */
static bool withdrawn(const char *status)
{
    return strcmp(status, "cancelled") == 0 || strcmp(status, "rescheduled") == 0 ||
           strcmp(status, "conflict") == 0;
}

int svc_offer_link_calendar(app_t *app, const char *token, int64_t now, char **ics,
                            struct offer_link_view *out, svc_err *e)
{
    clinic_rec clinic;
    offer_rec o;
    appt_rec a;
    doctor_rec d;
    int got;

    *ics = NULL;
    app_clinic(app, &clinic);
    memset(out, 0, sizeof *out);
    db_conn_t *c = db_reader(app->db);
    if (!c)
        return unavailable(e);
    int rc = offer_of_token(c, token, &o, e);
    if (rc == SVC_OK) {
        snprintf(out->appointment_id, sizeof out->appointment_id, "%s",
                 o.used_at && o.new_appointment_id[0] ? o.new_appointment_id : o.appointment_id);
        if (now >= o.expires_at)
            rc = svc_fail(e, SVC_GONE, "offer_token", "this offer has expired");
        else if (!o.used_at || !o.new_appointment_id[0])
            rc = svc_fail(e, SVC_CONFLICT, "offer_token",
                          "this offer has not been used yet: pick one of its times first");
        else if ((got = store_appt_get(c, o.new_appointment_id, &a)) != STORE_OK ||
                 (got = store_doctor_get(c, a.doctor_id, &d)) != STORE_OK)
            /* Appointments are never deleted (nor a doctor who has any), so
             * a missing one is a damaged database, not a storage outage:
             * this offer can no longer give a calendar file. */
            rc = got == STORE_NOT_FOUND
                     ? svc_fail(e, SVC_CONFLICT, "offer_token",
                                "the appointment this offer made no longer exists; please "
                                "call the clinic")
                     : unavailable(e);
        else if (withdrawn(a.status))
            rc = svc_fail(e, SVC_CONFLICT, NULL,
                          "the clinic has changed this appointment since; please call the "
                          "clinic");
        else if (!(*ics = notify_calendar(&clinic, &d, &a, false, now)))
            rc = svc_fail(e, SVC_UNAVAILABLE, NULL, "out of memory");
    }
    db_reader_release(app->db, c);
    return rc;
}

struct link_rebook_job {
    const clinic_rec *clinic;
    const char *token;
    int option;
    int64_t now;
    struct offer_link_view *out;
    svc_err *e;
};

static int link_rebook_job(db_conn_t *c, void *arg)
{
    struct link_rebook_job *j = arg;
    offer_rec o;
    appt_rec old, nu;
    memset(&o, 0, sizeof o);
    memset(j->out, 0, sizeof *j->out);
    int rc = booking_rebook_offer_in_tx(c, j->clinic, j->token, j->option, OFFER_LINK_ACTOR,
                                        j->now, &o, &old, &nu, j->e);
    if (rc != 0) {
        /* o is filled as far as the token found an offer */
        snprintf(j->out->appointment_id, sizeof j->out->appointment_id, "%s", o.appointment_id);
        return rc;
    }
    if (fill_view(c, j->clinic, &o, &old, j->now, j->out) != 0)
        return unavailable(j->e);
    snprintf(j->out->new_appointment_id, sizeof j->out->new_appointment_id, "%s", nu.id);
    return 0;
}

/* The link's answers name nothing but the offer: a problem from deeper down
 * (a doctor or patient gone, with its id; a time that is no longer free,
 * with the doctor's other free times) becomes a plain one about the offer. */
static void offer_only(svc_err *e)
{
    bool own = strcmp(e->field, "offer_token") == 0 || strcmp(e->field, "option") == 0;
    e->nalternatives = 0;
    if (own || e->status == SVC_UNAVAILABLE || (e->status == SVC_CONFLICT && !e->field[0]))
        return;
    if (strcmp(e->field, "start") == 0 || strcmp(e->field, "duration_minutes") == 0)
        svc_fail(e, SVC_CONFLICT, "option",
                 "that time can no longer be booked; please pick another option");
    else
        svc_fail(e, SVC_CONFLICT, NULL, "this offer can no longer be used; please call the clinic");
}

int svc_offer_link_rebook(app_t *app, const char *token, int option, int64_t now,
                          struct offer_link_view *out, svc_err *e)
{
    clinic_rec clinic;
    app_clinic(app, &clinic);
    struct link_rebook_job j = {&clinic, token, option, now, out, e};
    int rc = db_write(app->db, link_rebook_job, &j);
    if (rc == 0) {
        outbox_kick(app);
        return SVC_OK;
    }
    if (rc == DB_UNAVAILABLE)
        return unavailable(e);
    offer_only(e);
    return e->status ? e->status : rc;
}
