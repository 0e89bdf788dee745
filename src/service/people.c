/* people.c — see people.h. Every change is one write job with its event. */
#include "service/people.h"

#include <stdio.h>
#include <string.h>

#include "core/ids.h"
#include "store/store.h"

enum kind { DOCTOR_NEW, DOCTOR_EDIT, PATIENT_NEW, PATIENT_EDIT, PATIENT_DELETE, SCHEDULE };

struct people_job {
    enum kind kind;
    doctor_rec *d;
    patient_rec *p;
    unsigned fields; /* PEOPLE_F_*: what an edit changes */
    const etag_cond *if_match;
    const char *doctor_id;
    const schedule_rec *s;
    const char *actor;
    int64_t now;
    svc_err *e;
};

void people_doctor_etag(const doctor_rec *d, char *out)
{
    etag_format(out, ETAG_BUF, d->rev);
}

void people_patient_etag(const patient_rec *p, char *out)
{
    etag_format(out, ETAG_BUF, p->rev);
}

void people_schedule_etag(const schedule_rec *s, char *out)
{
    etag_format2(out, ETAG_BUF, s->doctor_rev, s->rev);
}

static int changed_meanwhile(svc_err *e, const char *what, const char *etag,
                             const char *failed)
{
    if (strcmp(failed, "If-None-Match") == 0)
        return svc_fail(e, SVC_PRECONDITION_FAILED, NULL,
                        "the %s exists with a revision If-None-Match lists (its ETag's revision "
                        "is %s); nothing was changed",
                        what, etag);
    return svc_fail(e, SVC_PRECONDITION_FAILED, NULL,
                    "the %s was changed meanwhile (its ETag's revision is now %s, If-Match did "
                    "not match); load it again and redo the change",
                    what, etag);
}

static void merge_doctor(doctor_rec *cur, const doctor_rec *in, unsigned f)
{
    if (f & PEOPLE_F_NAME)
        snprintf(cur->name, sizeof cur->name, "%s", in->name);
    if (f & PEOPLE_F_EMAIL)
        snprintf(cur->email, sizeof cur->email, "%s", in->email);
    if (f & PEOPLE_F_PHONE)
        snprintf(cur->phone, sizeof cur->phone, "%s", in->phone);
    if (f & PEOPLE_F_SLOT_MINUTES)
        cur->slot_minutes = in->slot_minutes;
}

static void merge_patient(patient_rec *cur, const patient_rec *in, unsigned f)
{
    if (f & PEOPLE_F_NAME)
        snprintf(cur->name, sizeof cur->name, "%s", in->name);
    if (f & PEOPLE_F_EMAIL)
        snprintf(cur->email, sizeof cur->email, "%s", in->email);
    if (f & PEOPLE_F_PHONE)
        snprintf(cur->phone, sizeof cur->phone, "%s", in->phone);
    if (f & PEOPLE_F_NOTIFY_EMAIL)
        cur->notify_email = in->notify_email;
    if (f & PEOPLE_F_NOTIFY_SMS)
        cur->notify_sms = in->notify_sms;
}

static int people_job(db_conn_t *c, void *arg)
{
    struct people_job *j = arg;
    int rc = STORE_ERROR;
    const char *entity = "doctor", *id = NULL, *type = "updated";
    doctor_rec cur_d;
    patient_rec cur_p;
    schedule_rec cur_s;
    char etag[ETAG_BUF];
    const char *failed;

    switch (j->kind) {
    case DOCTOR_NEW:
        ids_uuid(j->now * 1000, j->d->id);
        j->d->created_at = j->d->updated_at = j->now;
        rc = store_doctor_insert(c, j->d);
        id = j->d->id;
        type = "created";
        break;
    case DOCTOR_EDIT:
        /* read, check, merge and write in this one job: nothing can come
         * between them (the writer runs one job at a time) */
        rc = store_doctor_get(c, j->d->id, &cur_d);
        if (rc != STORE_OK)
            return svc_store_fail(j->e, rc, "doctor");
        people_doctor_etag(&cur_d, etag);
        if ((failed = etag_cond_failed(j->if_match, etag)))
            return changed_meanwhile(j->e, "doctor", etag, failed);
        merge_doctor(&cur_d, j->d, j->fields);
        cur_d.updated_at = j->now;
        *j->d = cur_d;
        rc = store_doctor_update(c, j->d);
        id = j->d->id;
        break;
    case SCHEDULE:
        rc = store_doctor_get(c, j->doctor_id, &cur_d);
        if (rc != STORE_OK)
            return svc_store_fail(j->e, rc, "doctor");
        if (etag_cond_sent(j->if_match)) {
            rc = store_schedule_get(c, j->doctor_id, &cur_s);
            if (rc != STORE_OK)
                return svc_store_fail(j->e, rc, "doctor");
            people_schedule_etag(&cur_s, etag);
            schedule_rec_free(&cur_s);
            if ((failed = etag_cond_failed(j->if_match, etag)))
                return changed_meanwhile(j->e, "schedule", etag, failed);
        }
        rc = store_schedule_replace(c, j->doctor_id, j->s);
        id = j->doctor_id;
        entity = "schedule";
        break;
    case PATIENT_NEW:
        ids_uuid(j->now * 1000, j->p->id);
        j->p->created_at = j->p->updated_at = j->now;
        rc = store_patient_insert(c, j->p);
        entity = "patient";
        id = j->p->id;
        type = "created";
        break;
    case PATIENT_DELETE:
        if (etag_cond_sent(j->if_match)) {
            rc = store_patient_get(c, j->p->id, &cur_p);
            if (rc != STORE_OK)
                return svc_store_fail(j->e, rc, "patient");
            people_patient_etag(&cur_p, etag);
            if ((failed = etag_cond_failed(j->if_match, etag)))
                return changed_meanwhile(j->e, "patient", etag, failed);
        }
        rc = store_patient_delete(c, j->p->id);
        if (rc == STORE_CONFLICT)
            return svc_fail(j->e, SVC_CONFLICT, NULL,
                            "the patient has appointments or messages; their history stays");
        entity = "patient";
        id = j->p->id;
        type = "deleted";
        break;
    case PATIENT_EDIT:
        rc = store_patient_get(c, j->p->id, &cur_p);
        if (rc != STORE_OK)
            return svc_store_fail(j->e, rc, "patient");
        people_patient_etag(&cur_p, etag);
        if ((failed = etag_cond_failed(j->if_match, etag)))
            return changed_meanwhile(j->e, "patient", etag, failed);
        merge_patient(&cur_p, j->p, j->fields);
        cur_p.updated_at = j->now;
        *j->p = cur_p;
        rc = store_patient_update(c, j->p);
        entity = "patient";
        id = j->p->id;
        break;
    }
    if (rc == STORE_OK)
        rc = store_event(c, j->now, j->actor, entity, id, type, NULL);
    if (rc != STORE_OK)
        return svc_store_fail(j->e, rc, entity);
    return 0;
}

static int run(app_t *app, struct people_job *j)
{
    int rc = db_write(app->db, people_job, j);
    if (rc == DB_UNAVAILABLE)
        return svc_fail(j->e, SVC_UNAVAILABLE, NULL, "storage is unavailable");
    return rc;
}

int svc_doctor_create(app_t *app, doctor_rec *d, const char *actor, int64_t now, svc_err *e)
{
    struct people_job j = {.kind = DOCTOR_NEW, .d = d, .actor = actor, .now = now, .e = e};
    return run(app, &j);
}

int svc_doctor_update(app_t *app, doctor_rec *d, unsigned fields, const etag_cond *if_match,
                      const char *actor, int64_t now, svc_err *e)
{
    struct people_job j = {.kind = DOCTOR_EDIT, .d = d, .fields = fields, .if_match = if_match,
                           .actor = actor, .now = now, .e = e};
    return run(app, &j);
}

int svc_schedule_put(app_t *app, const char *doctor_id, const schedule_rec *s,
                     const etag_cond *if_match, const char *actor, int64_t now, svc_err *e)
{
    struct people_job j = {.kind = SCHEDULE, .doctor_id = doctor_id, .s = s,
                           .if_match = if_match, .actor = actor, .now = now, .e = e};
    return run(app, &j);
}

int svc_patient_create(app_t *app, patient_rec *p, const char *actor, int64_t now, svc_err *e)
{
    struct people_job j = {.kind = PATIENT_NEW, .p = p, .actor = actor, .now = now, .e = e};
    return run(app, &j);
}

int svc_patient_update(app_t *app, patient_rec *p, unsigned fields, const etag_cond *if_match,
                       const char *actor, int64_t now, svc_err *e)
{
    struct people_job j = {.kind = PATIENT_EDIT, .p = p, .fields = fields, .if_match = if_match,
                           .actor = actor, .now = now, .e = e};
    return run(app, &j);
}

int svc_patient_delete(app_t *app, const char *id, const etag_cond *if_match, const char *actor,
                       int64_t now, svc_err *e)
{
    patient_rec p = {0};
    snprintf(p.id, sizeof p.id, "%s", id);
    struct people_job j = {.kind = PATIENT_DELETE, .p = &p, .if_match = if_match, .actor = actor,
                           .now = now, .e = e};
    return run(app, &j);
}
