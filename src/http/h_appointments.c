/* h_appointments.c — booking, listing, the life cycle, offers and rebooking. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/appointment.h"
#include "http/http.h"
#include "http/metrics.h"
#include "http/render.h"
#include "service/booking.h"
#include "store/store.h"

#define LIST_DEFAULT_LIMIT 500
#define LIST_MAX_LIMIT 5000

/* An appointment with its ETag: its revision (migration 0008), and once a
 * reminder was sent the time of the latest, "<rev>.<reminded_at>", because
 * reminded_at is in the answer but is no change of the row (docs/design.md,
 * "Conditional GET"), then the clinic's zone mark (etag.h: the times are
 * written in that zone). Appointments take no If-Match. */
static void answer_appt(req_t *r, int status, const appt_rec *a)
{
    char etag[ETAG_BUF];
    if (a->reminded_at)
        etag_format2(etag, sizeof etag, a->rev, a->reminded_at);
    else
        etag_format(etag, sizeof etag, a->rev);
    http_record_etag(r, etag);
    http_json_etag(r, status, render_appt(http_clinic_tz(r), a), etag);
}

void h_appt_create(req_t *r)
{
    static const char *const allowed[] = {"doctor_id", "patient_id", "start", "duration_minutes",
                                          "reason", NULL};
    struct book_req q = {0};
    appt_rec a;
    verr_t v;
    long long dur;
    svc_err e = {0};

    verr_init(&v);
    in_only(r->body, allowed, &v);
    in_id(r->body, "doctor_id", true, q.doctor_id, sizeof q.doctor_id, &v);
    in_id(r->body, "patient_id", true, q.patient_id, sizeof q.patient_id, &v);
    in_time(r->body, "start", true, &q.start, &v);
    if (in_int(r->body, "duration_minutes", false, 1, SLOTS_MAX_DURATION_MINUTES, &dur, &v))
        q.duration_minutes = (int)dur;
    in_text(r->body, "reason", false, REASON_MAX_LEN, q.reason, sizeof q.reason, &v);
    if (http_verr_answer(r, &v))
        return;
    if (svc_book(r->app, &q, r->actor, r->now, &a, &e) != SVC_OK) {
        http_svc_problem(r, &e);
        return;
    }
    metrics_booking();
    answer_appt(r, 201, &a);
}

struct list_ctx {
    json_t *arr;
    const tz_t *tz;
};

static void add_appt(const appt_rec *a, void *ctx)
{
    struct list_ctx *l = ctx;
    json_array_append_new(l->arr, render_appt(l->tz, a));
}

void h_appt_list(req_t *r)
{
    char doctor[ID_LEN + 4] = "", patient[ID_LEN + 4] = "", status[24] = "";
    struct appt_filter f = {.limit = LIST_DEFAULT_LIMIT};
    bool has;

    if (!http_query_time(r, "from", false, &f.from, &has) ||
        !http_query_time(r, "to", true, &f.to, &has))
        return;
    if (http_query(r, "doctor_id", doctor, sizeof doctor)) {
        if (!ids_valid(doctor)) {
            http_problem(r, 400, "doctor_id must be an id", "doctor_id", NULL);
            return;
        }
        f.doctor_id = doctor;
    }
    if (r->who.role == AUTH_DOCTOR) { /* a doctor sees only their own */
        if (f.doctor_id && strcmp(f.doctor_id, r->who.doctor_id) != 0) {
            http_problem(r, 403, "a doctor sees only their own appointments", "doctor_id", NULL);
            return;
        }
        f.doctor_id = r->who.doctor_id;
    }
    if (http_query(r, "patient_id", patient, sizeof patient)) {
        if (!ids_valid(patient)) {
            http_problem(r, 400, "patient_id must be an id", "patient_id", NULL);
            return;
        }
        f.patient_id = patient;
    }
    if (http_query(r, "status", status, sizeof status)) {
        if (!appt_status_valid(status)) {
            http_problem(r, 400,
                         "status must be booked, checked_in, completed, cancelled, no_show or "
                         "rescheduled",
                         "status", NULL);
            return;
        }
        f.status = status;
    }
    long limit = LIST_DEFAULT_LIMIT;
    if (!http_query_int(r, "limit", 1, LIST_MAX_LIMIT, &limit))
        return;
    f.limit = (int)limit;
    /* checked after the checks above: the most basic problem answers */
    if (f.from && f.to && f.to <= f.from) {
        http_problem(r, 422, "to must be after from", "to", NULL);
        return;
    }
    struct list_ctx l = {json_array(), http_clinic_tz(r)};
    db_conn_t *c = db_reader(r->app->db);
    if (!c || store_appt_list(c, &f, add_appt, &l) != STORE_OK) {
        db_reader_release(r->app->db, c);
        json_decref(l.arr);
        http_problem(r, 503, "storage is unavailable", NULL, NULL);
        return;
    }
    db_reader_release(r->app->db, c);
    http_json(r, 200, json_pack("{s:o}", "appointments", l.arr));
}

void h_appt_get(req_t *r)
{
    appt_rec a;
    db_conn_t *c = db_reader(r->app->db);
    int rc = c ? store_appt_get(c, r->params[0], &a) : STORE_ERROR;
    db_reader_release(r->app->db, c);
    if (rc == STORE_NOT_FOUND)
        http_problem(r, 404, "appointment not found", NULL, NULL);
    else if (rc != STORE_OK)
        http_problem(r, 503, "storage is unavailable", NULL, NULL);
    else
        answer_appt(r, 200, &a);
}

static void transition(req_t *r, enum appt_action action)
{
    static const char *const allowed[] = {"reason", NULL};
    static const char *const none[] = {NULL};
    char reason[REASON_BUF] = "";
    appt_rec a;
    verr_t v;
    svc_err e = {0};
    verr_init(&v);
    if (r->body) {
        in_only(r->body, action == APPT_CANCEL ? allowed : none, &v);
        in_text(r->body, "reason", false, REASON_MAX_LEN, reason, sizeof reason, &v);
    }
    if (http_verr_answer(r, &v))
        return;
    if (svc_transition(r->app, r->params[0], action, reason, r->actor, r->now, &a, &e) !=
        SVC_OK) {
        http_svc_problem(r, &e);
        return;
    }
    if (action == APPT_NO_SHOW)
        metrics_no_shows(1);
    answer_appt(r, 200, &a);
}

void h_appt_check_in(req_t *r)
{
    transition(r, APPT_CHECK_IN);
}

void h_appt_complete(req_t *r)
{
    transition(r, APPT_COMPLETE);
}

void h_appt_cancel(req_t *r)
{
    transition(r, APPT_CANCEL);
}

void h_appt_no_show(req_t *r)
{
    transition(r, APPT_NO_SHOW);
}

void h_appt_reschedule(req_t *r)
{
    static const char *const allowed[] = {"options", NULL};
    struct offer_result o;
    long long n = 0;
    verr_t v;
    svc_err e = {0};
    verr_init(&v);
    if (r->body) {
        in_only(r->body, allowed, &v);
        in_int(r->body, "options", false, 1, OFFER_MAX_OPTIONS, &n, &v);
    }
    if (http_verr_answer(r, &v))
        return;
    if (svc_reschedule(r->app, r->params[0], (int)n, r->actor, r->now, &o, &e) != SVC_OK) {
        http_svc_problem(r, &e);
        return;
    }
    http_json(r, 201, render_offer(http_clinic_tz(r), &o));
}

void h_appt_rebook(req_t *r)
{
    /* Staff only. A patient rebooks through the link, with its token
     * (h_offer_link.c); staff rebooking onto an offer's option on the
     * patient's behalf give that option's start, and are recorded as who
     * they are. */
    static const char *const allowed[] = {"start", "offer_token", "option", NULL};
    int64_t start = 0;
    appt_rec nu, old;
    verr_t v;
    svc_err e = {0};

    verr_init(&v);
    in_only(r->body, allowed, &v);
    if (json_object_get(r->body, "offer_token") || json_object_get(r->body, "option"))
        verr_add(&v, 400, json_object_get(r->body, "offer_token") ? "offer_token" : "option",
                 "is not taken here: give start (an offer's option's start to rebook onto it); "
                 "the patient's link uses POST /api/offer-link/rebook");
    in_time(r->body, "start", true, &start, &v);
    if (http_verr_answer(r, &v))
        return;
    if (svc_rebook(r->app, r->params[0], start, r->actor, r->now, &nu, &old, &e) != SVC_OK) {
        http_svc_problem(r, &e);
        return;
    }
    metrics_booking();
    const tz_t *tz = http_clinic_tz(r);
    http_json(r, 201, json_pack("{s:o,s:o}", "appointment", render_appt(tz, &nu), "previous",
                                render_appt(tz, &old)));
}
