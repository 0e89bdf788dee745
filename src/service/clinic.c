/*
 * clinic.c — the box's start-up and the clinic settings.
 *
 * At first start the clinic row is created with the host's time zone (from
 * the `timezone` setting, else /etc/timezone, else UTC). The clinic's grace
 * period is NULL until staff set one; until then the config's applies.
 */
#include "service/clinic.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/ids.h"
#include "core/log.h"
#include "core/tz.h"
#include "domain/language.h"
#include "store/store.h"

int svc_fail(svc_err *e, int status, const char *field, const char *fmt, ...)
{
    va_list ap;
    e->status = status;
    snprintf(e->field, sizeof e->field, "%s", field ? field : "");
    va_start(ap, fmt);
    vsnprintf(e->detail, sizeof e->detail, fmt, ap);
    va_end(ap);
    return status;
}

int svc_store_fail(svc_err *e, int store_rc, const char *what)
{
    if (store_rc == STORE_NOT_FOUND)
        return svc_fail(e, SVC_NOT_FOUND, NULL, "%s not found", what);
    return svc_fail(e, SVC_UNAVAILABLE, NULL, "storage is unavailable");
}

int64_t app_now(void)
{
    return (int64_t)time(NULL);
}

static void host_timezone(const struct config *cfg, char *out, size_t len)
{
    char buf[128] = "";
    FILE *f;
    if (cfg->timezone[0] && tz_get(cfg->timezone)) {
        snprintf(out, len, "%s", cfg->timezone);
        return;
    }
    f = fopen("/etc/timezone", "r");
    if (f) {
        if (fgets(buf, sizeof buf, f))
            buf[strcspn(buf, " \r\n")] = '\0';
        fclose(f);
    }
    snprintf(out, len, "%s", buf[0] && tz_get(buf) ? buf : "UTC");
}

struct ensure_job {
    const struct config *cfg;
    int64_t now;
};

static int ensure_job(db_conn_t *c, void *arg)
{
    struct ensure_job *j = arg;
    clinic_rec r;
    int rc = store_clinic_get(c, j->cfg->grace_minutes, &r);
    if (rc != STORE_NOT_FOUND)
        return rc == STORE_OK ? 0 : SVC_UNAVAILABLE;
    memset(&r, 0, sizeof r);
    if (j->cfg->clinic_id[0])
        snprintf(r.id, sizeof r.id, "%s", j->cfg->clinic_id);
    else
        ids_uuid(j->now * 1000, r.id);
    snprintf(r.name, sizeof r.name, "My clinic");
    host_timezone(j->cfg, r.timezone, sizeof r.timezone);
    r.reschedule_options = 3;
    r.offer_hours = 48;
    r.reminder_hours[0] = 24;
    r.reminder_hours[1] = 2;
    r.nreminders = 2;
    r.confirmations = true;
    snprintf(r.language, sizeof r.language, "%s", LANGUAGE_DEFAULT);
    r.created_at = r.updated_at = j->now;
    if (store_clinic_insert(c, &r) != STORE_OK)
        return SVC_UNAVAILABLE;
    log_info("app", "created clinic %s in time zone %s", r.id, r.timezone);
    return store_event(c, j->now, "system", "clinic", r.id, "created", NULL) == STORE_OK
               ? 0
               : SVC_UNAVAILABLE;
}

void app_clinic_reload(app_t *app)
{
    clinic_rec r;
    db_conn_t *c = db_reader(app->db);
    if (!c)
        return;
    if (store_clinic_get(c, app->cfg.grace_minutes, &r) == STORE_OK) {
        /* Two reloads after two changes may finish in either order: the
         * newer revision stays (revisions only grow, migration 0008). */
        pthread_mutex_lock(&app->lock);
        if (r.rev >= app->clinic.rev)
            app->clinic = r;
        pthread_mutex_unlock(&app->lock);
    }
    db_reader_release(app->db, c);
}

void app_clinic(app_t *app, clinic_rec *out)
{
    pthread_mutex_lock(&app->lock);
    *out = app->clinic;
    pthread_mutex_unlock(&app->lock);
}

bool app_open(app_t *app, const struct config *cfg, int64_t now, char *err, size_t errlen)
{
    memset(app, 0, sizeof *app);
    app->cfg = *cfg;
    pthread_mutex_init(&app->lock, NULL);
    app->db = db_open(cfg->data, err, errlen);
    if (!app->db)
        return false;
    struct ensure_job j = {cfg, now};
    if (db_write(app->db, ensure_job, &j) != 0) {
        snprintf(err, errlen, "cannot create the clinic in %s", db_path(app->db));
        db_close(app->db);
        app->db = NULL;
        return false;
    }
    app_clinic_reload(app);
    return true;
}

void app_close(app_t *app)
{
    db_close(app->db);
    app->db = NULL;
    pthread_mutex_destroy(&app->lock);
}

void clinic_etag(const clinic_rec *c, char *out)
{
    etag_format(out, ETAG_BUF, c->rev);
}

struct clinic_job {
    const clinic_rec *in;
    unsigned fields;
    const etag_cond *if_match;
    int config_grace;
    int64_t now;
    const char *actor;
    clinic_rec out;
    svc_err *e;
};

static void merge_clinic(clinic_rec *cur, const clinic_rec *in, unsigned f)
{
    if (f & CLINIC_F_NAME)
        snprintf(cur->name, sizeof cur->name, "%s", in->name);
    if (f & CLINIC_F_TIMEZONE)
        snprintf(cur->timezone, sizeof cur->timezone, "%s", in->timezone);
    if (f & CLINIC_F_GRACE) {
        cur->grace_minutes = in->grace_minutes;
        cur->grace_set = true;
    }
    if (f & CLINIC_F_RESCHEDULE_OPTIONS)
        cur->reschedule_options = in->reschedule_options;
    if (f & CLINIC_F_OFFER_HOURS)
        cur->offer_hours = in->offer_hours;
    if (f & CLINIC_F_REMINDER_HOURS) {
        memcpy(cur->reminder_hours, in->reminder_hours, sizeof cur->reminder_hours);
        cur->nreminders = in->nreminders;
    }
    if (f & CLINIC_F_CONFIRMATIONS)
        cur->confirmations = in->confirmations;
    if (f & CLINIC_F_LANGUAGE)
        snprintf(cur->language, sizeof cur->language, "%s", in->language);
}

/* Read, check, merge and write in one job: no other write comes between. */
static int clinic_put_job(db_conn_t *c, void *arg)
{
    struct clinic_job *j = arg;
    clinic_rec cur;
    char etag[ETAG_BUF];
    if (store_clinic_get(c, j->config_grace, &cur) != STORE_OK)
        return svc_fail(j->e, SVC_UNAVAILABLE, NULL, "storage is unavailable");
    clinic_etag(&cur, etag);
    const char *failed = etag_cond_failed(j->if_match, etag);
    if (failed && strcmp(failed, "If-None-Match") == 0)
        return svc_fail(j->e, SVC_PRECONDITION_FAILED, NULL,
                        "the clinic's settings have the ETag %s, which If-None-Match lists; "
                        "nothing was changed",
                        etag);
    if (failed)
        return svc_fail(j->e, SVC_PRECONDITION_FAILED, NULL,
                        "the clinic's settings were changed meanwhile (their ETag is now %s, "
                        "If-Match did not match); load them again and redo the change",
                        etag);
    merge_clinic(&cur, j->in, j->fields);
    cur.updated_at = j->now;
    if (store_clinic_update(c, &cur) != STORE_OK ||
        store_event(c, j->now, j->actor, "clinic", cur.id, "updated", NULL) != STORE_OK)
        return svc_fail(j->e, SVC_UNAVAILABLE, NULL, "storage is unavailable");
    j->out = cur;
    return 0;
}

int svc_clinic_put(app_t *app, const clinic_rec *in, unsigned fields, const etag_cond *if_match,
                   const char *actor, int64_t now, clinic_rec *out, svc_err *e)
{
    struct clinic_job j = {.in = in, .fields = fields, .if_match = if_match,
                           .config_grace = app->cfg.grace_minutes, .now = now, .actor = actor,
                           .e = e};
    if ((fields & CLINIC_F_TIMEZONE) && !tz_get(in->timezone))
        return svc_fail(e, SVC_UNPROCESSABLE, "timezone", "unknown time zone \"%s\"",
                        in->timezone);
    if ((fields & CLINIC_F_LANGUAGE) && !language_valid(in->language))
        return svc_fail(e, SVC_UNPROCESSABLE, "language", "language must be %s",
                        LANGUAGE_CHOICES);
    int rc = db_write(app->db, clinic_put_job, &j);
    if (rc == DB_UNAVAILABLE)
        return svc_fail(e, SVC_UNAVAILABLE, NULL, "storage is unavailable");
    if (rc != 0)
        return rc;
    app_clinic_reload(app);
    *out = j.out;
    return SVC_OK;
}
