/* h_patients.c — patients and their notification preferences. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/http.h"
#include "http/render.h"
#include "service/people.h"
#include "store/store.h"

/* Reads the fields sent into p; returns which (PEOPLE_F_*). */
static unsigned read_patient_fields(req_t *r, patient_rec *p, bool create, verr_t *v)
{
    unsigned f = 0;
    static const char *const allowed[] = {"name",       "email",      "phone",
                                          "notify_email", "notify_sms", "id",
                                          "created_at", "updated_at", NULL};
    char name[NAME_BUF];
    static const char *const echoed[] = {"id", "created_at", "updated_at", NULL};
    in_only(r->body, allowed, v);
    in_echoed(r->body, echoed, v);
    if (in_name(r->body, "name", create, NAME_MAX_LEN, name, sizeof name, v)) {
        snprintf(p->name, sizeof p->name, "%s", name);
        f |= PEOPLE_F_NAME;
    }
    /* On update a field that is present (also as null) replaces the old one. */
    if (json_object_get(r->body, "email") || create) {
        in_email(r->body, "email", p->email, sizeof p->email, v);
        f |= PEOPLE_F_EMAIL;
    }
    if (json_object_get(r->body, "phone") || create) {
        in_phone(r->body, "phone", p->phone, sizeof p->phone, v);
        f |= PEOPLE_F_PHONE;
    }
    if (in_bool(r->body, "notify_email", false, &p->notify_email, v))
        f |= PEOPLE_F_NOTIFY_EMAIL;
    if (in_bool(r->body, "notify_sms", false, &p->notify_sms, v))
        f |= PEOPLE_F_NOTIFY_SMS;
    return f;
}

static void answer_patient(req_t *r, int status, const patient_rec *p)
{
    char etag[ETAG_BUF];
    people_patient_etag(p, etag);
    http_record_etag(r, etag);
    http_json_etag(r, status, render_patient(http_clinic_tz(r), p), etag);
}

void h_patient_create(req_t *r)
{
    patient_rec p = {.notify_email = true, .notify_sms = true};
    verr_t v;
    svc_err e = {0};
    verr_init(&v);
    read_patient_fields(r, &p, true, &v);
    if (http_verr_answer(r, &v))
        return;
    if (svc_patient_create(r->app, &p, r->actor, r->now, &e) != SVC_OK) {
        http_svc_problem(r, &e);
        return;
    }
    answer_patient(r, 201, &p);
}

struct patient_list {
    json_t *arr;
    const tz_t *tz;
};

static void add_patient(const patient_rec *p, void *ctx)
{
    struct patient_list *l = ctx;
    json_array_append_new(l->arr, render_patient(l->tz, p));
}

void h_patient_list(req_t *r)
{
    char q[NAME_BUF * 2] = "";
    long limit = 50;
    if (!http_query_int(r, "limit", 1, 1000, &limit))
        return;
    if (http_query(r, "q", q, sizeof q) && utf8_chars(q) > NAME_MAX_LEN) {
        http_problem(r, 422, "q must be at most 200 characters", "q", NULL);
        return;
    }
    struct patient_list l = {json_array(), http_clinic_tz(r)};
    db_conn_t *c = db_reader(r->app->db);
    if (!c || store_patient_search(c, q, (int)limit, add_patient, &l) != STORE_OK) {
        db_reader_release(r->app->db, c);
        json_decref(l.arr);
        http_problem(r, 503, "storage is unavailable", NULL, NULL);
        return;
    }
    db_reader_release(r->app->db, c);
    http_json(r, 200, json_pack("{s:o}", "patients", l.arr));
}

static bool load_patient(req_t *r, patient_rec *p)
{
    db_conn_t *c = db_reader(r->app->db);
    int rc = c ? store_patient_get(c, r->params[0], p) : STORE_ERROR;
    db_reader_release(r->app->db, c);
    if (rc == STORE_NOT_FOUND)
        http_problem(r, 404, "patient not found", NULL, NULL);
    else if (rc != STORE_OK)
        http_problem(r, 503, "storage is unavailable", NULL, NULL);
    return rc == STORE_OK;
}

void h_patient_get(req_t *r)
{
    patient_rec p;
    if (load_patient(r, &p))
        answer_patient(r, 200, &p);
}

/* A merge: fields left out keep their value. The service reads the stored
 * record, checks If-Match and merges inside its write job. */
void h_patient_put(req_t *r)
{
    patient_rec p = {0};
    verr_t v;
    etag_cond ifm;
    svc_err e = {0};
    if (!http_if_match(r, &ifm))
        return;
    verr_init(&v);
    unsigned fields = read_patient_fields(r, &p, false, &v);
    if (http_verr_answer(r, &v))
        return;
    if (strlen(r->params[0]) >= sizeof p.id) { /* no id is that long */
        http_problem(r, 404, "patient not found", NULL, NULL);
        return;
    }
    memcpy(p.id, r->params[0], strlen(r->params[0]) + 1);
    if (svc_patient_update(r->app, &p, fields, &ifm, r->actor, r->now, &e) != SVC_OK) {
        http_svc_problem(r, &e);
        return;
    }
    answer_patient(r, 200, &p);
}

void h_patient_delete(req_t *r)
{
    svc_err e = {0};
    etag_cond ifm;
    if (!http_if_match(r, &ifm))
        return;
    if (svc_patient_delete(r->app, r->params[0], &ifm, r->actor, r->now, &e) != SVC_OK) {
        http_svc_problem(r, &e);
        return;
    }
    http_text(r, 204, "application/json", "", 0);
}
