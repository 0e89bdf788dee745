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
    const char *doctor_id;
    const schedule_rec *s;
    const char *actor;
    int64_t now;
    svc_err *e;
};

static int people_job(db_conn_t *c, void *arg)
{
    struct people_job *j = arg;
    int rc = STORE_ERROR;
    const char *entity = "doctor", *id = NULL, *type = "updated";
    doctor_rec cur_d;
    patient_rec cur_p;

    switch (j->kind) {
    case DOCTOR_NEW:
        ids_uuid(j->now * 1000, j->d->id);
        j->d->created_at = j->d->updated_at = j->now;
        rc = store_doctor_insert(c, j->d);
        id = j->d->id;
        type = "created";
        break;
    case DOCTOR_EDIT:
        rc = store_doctor_get(c, j->d->id, &cur_d);
        if (rc != STORE_OK)
            return svc_store_fail(j->e, rc, "doctor");
        j->d->created_at = cur_d.created_at;
        j->d->updated_at = j->now;
        rc = store_doctor_update(c, j->d);
        id = j->d->id;
        break;
    case SCHEDULE:
        rc = store_doctor_get(c, j->doctor_id, &cur_d);
        if (rc != STORE_OK)
            return svc_store_fail(j->e, rc, "doctor");
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
        j->p->created_at = cur_p.created_at;
        j->p->updated_at = j->now;
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

int svc_doctor_update(app_t *app, doctor_rec *d, const char *actor, int64_t now, svc_err *e)
{
    struct people_job j = {.kind = DOCTOR_EDIT, .d = d, .actor = actor, .now = now, .e = e};
    return run(app, &j);
}

int svc_schedule_put(app_t *app, const char *doctor_id, const schedule_rec *s,
                     const char *actor, int64_t now, svc_err *e)
{
    struct people_job j = {.kind = SCHEDULE, .doctor_id = doctor_id, .s = s, .actor = actor,
                           .now = now, .e = e};
    return run(app, &j);
}

int svc_patient_create(app_t *app, patient_rec *p, const char *actor, int64_t now, svc_err *e)
{
    struct people_job j = {.kind = PATIENT_NEW, .p = p, .actor = actor, .now = now, .e = e};
    return run(app, &j);
}

int svc_patient_update(app_t *app, patient_rec *p, const char *actor, int64_t now, svc_err *e)
{
    struct people_job j = {.kind = PATIENT_EDIT, .p = p, .actor = actor, .now = now, .e = e};
    return run(app, &j);
}

int svc_patient_delete(app_t *app, const char *id, const char *actor, int64_t now, svc_err *e)
{
    patient_rec p = {0};
    snprintf(p.id, sizeof p.id, "%s", id);
    struct people_job j = {.kind = PATIENT_DELETE, .p = &p, .actor = actor, .now = now, .e = e};
    return run(app, &j);
}
