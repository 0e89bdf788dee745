/*
 * h_system.c — health, metrics, the clinic's settings and the clock
 * confirmation. Thin handlers: validate, call the service, render.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/timefmt.h"
#include "domain/language.h"
#include "http/http.h"
#include "http/metrics.h"
#include "http/render.h"
#include "service/clinic.h"
#include "service/nightly.h"
#include "service/noshow.h"
#include "store/migrate.h"
#include "store/store.h"

struct counts {
    bool ok;
    long appts[6];
    long notes[7];
};

static const char *const appt_statuses[] = {"booked",    "checked_in", "completed",
                                            "cancelled", "no_show",    "rescheduled"};
static const char *const note_statuses[] = {"queued", "sending", "sent",   "failed",
                                            "dead",   "skipped", "expired"};

/* Counts for /metrics (scans; /api/health reads only the outbox index). */
static void read_counts(app_t *app, struct counts *c)
{
    db_conn_t *conn = db_reader(app->db);
    memset(c, 0, sizeof *c);
    if (!conn)
        return;
    c->ok = store_notification_status_counts(conn, note_statuses, 7, c->notes) == STORE_OK &&
            store_appt_status_counts(conn, appt_statuses, 6, c->appts) == STORE_OK;
    db_reader_release(app->db, conn);
}

/* The nightly backup's part of the health answer (no paths). */
static json_t *backup_json(req_t *r)
{
    struct nightly_status b;
    nightly_status(r->app, &b);
    const char *state = !b.enabled                      ? "off"
                        : b.last_failed_at > b.last_ok_at ? "failing"
                        : b.last_ok_at                    ? "ok"
                                                          : "none_yet";
    json_t *o = json_pack("{s:s}", "state", state);
    if (b.last_ok_at)
        json_object_set_new(o, "last_ok_at", render_time(http_clinic_tz(r), b.last_ok_at));
    if (b.last_failed_at)
        json_object_set_new(o, "last_failed_at", render_time(http_clinic_tz(r), b.last_failed_at));
    return o;
}

void h_health(req_t *r)
{
    struct noshow_status ns;
    bool ok;
    if (r->who.kind == PRINCIPAL_NONE) {
        /* Anyone who can reach the box: up or down, and the version. The
         * database check is the cheapest read there is. */
        db_conn_t *c = db_reader(r->app->db);
        ok = c && db_exec_stmt(db_prepare(c, "SELECT 1"));
        db_reader_release(r->app->db, c);
        http_json(r, ok ? 200 : 503, json_pack("{s:s,s:s}", "status", ok ? "ok" : "degraded",
                                               "version", CLINICBOX_VERSION));
        return;
    }
    /* The queue counts read the outbox index only: cheap enough for every
     * probe; they double as the database check. */
    json_t *outbox = h_outbox_health(r, &ok);
    noshow_status(r->app, &ns);
    json_t *noshow = json_pack("{s:b,s:I}", "held", ns.held, "total", (json_int_t)ns.total);
    if (ns.held)
        json_object_set_new(noshow, "reason", json_string(ns.reason));
    if (ns.last_run)
        json_object_set_new(noshow, "last_run", render_time(http_clinic_tz(r), ns.last_run));
    /* No file path: the health check is for anyone who can reach the box. */
    json_t *body = json_pack("{s:s,s:s,s:{s:b,s:i},s:o,s:o,s:o,s:o}", "status",
                             ok ? "ok" : "degraded", "version", CLINICBOX_VERSION, "db", "ok", ok,
                             "schema_version", migrate_latest(),
                             "outbox", outbox, "sync", h_sync_json(r), "noshow", noshow,
                             "backup", backup_json(r));
    http_json(r, ok ? 200 : 503, body);
}

void h_metrics(req_t *r)
{
    char *text = NULL;
    size_t len = 0;
    struct counts c;
    struct noshow_status ns;
    unsigned long long commits, jobs;
    FILE *f = open_memstream(&text, &len);
    if (!f) {
        http_problem(r, 503, "out of memory", NULL, NULL);
        return;
    }
    read_counts(r->app, &c);
    noshow_status(r->app, &ns);
    db_stats(r->app->db, &commits, &jobs);
    metrics_write(f);
    fprintf(f, "# HELP clinicbox_appointments Appointments stored, by status.\n"
               "# TYPE clinicbox_appointments gauge\n");
    for (int i = 0; i < 6; i++)
        fprintf(f, "clinicbox_appointments{status=\"%s\"} %ld\n", appt_statuses[i], c.appts[i]);
    fprintf(f, "# HELP clinicbox_notifications Notifications, by status.\n"
               "# TYPE clinicbox_notifications gauge\n");
    for (int i = 0; i < 7; i++)
        fprintf(f, "clinicbox_notifications{status=\"%s\"} %ld\n", note_statuses[i], c.notes[i]);
    fprintf(f,
            "# HELP clinicbox_db_commits_total Write transactions committed (group commits).\n"
            "# TYPE clinicbox_db_commits_total counter\nclinicbox_db_commits_total %llu\n"
            "# HELP clinicbox_db_write_jobs_total Writes carried by those commits.\n"
            "# TYPE clinicbox_db_write_jobs_total counter\nclinicbox_db_write_jobs_total %llu\n"
            "# HELP clinicbox_no_shows_total Appointments marked as no-show, by who marked them.\n"
            "# TYPE clinicbox_no_shows_total counter\n"
            "clinicbox_no_shows_total{source=\"staff\"} %llu\n"
            "clinicbox_no_shows_total{source=\"detector\"} %lld\n"
            "# HELP clinicbox_noshow_held 1 while no-show detection waits for a plausible clock.\n"
            "# TYPE clinicbox_noshow_held gauge\nclinicbox_noshow_held %d\n"
            "# HELP clinicbox_db_up 1 when the database answers.\n"
            "# TYPE clinicbox_db_up gauge\nclinicbox_db_up %d\n",
            commits, jobs, metrics_no_shows_marked(), ns.total, ns.held ? 1 : 0, c.ok ? 1 : 0);
    struct nightly_status b;
    nightly_status(r->app, &b);
    fprintf(f,
            "# HELP clinicbox_backup_enabled 1 when nightly backups are on (backup_dir).\n"
            "# TYPE clinicbox_backup_enabled gauge\nclinicbox_backup_enabled %d\n"
            "# HELP clinicbox_backup_last_success_timestamp_seconds The newest backup in the "
            "folder (0: none).\n"
            "# TYPE clinicbox_backup_last_success_timestamp_seconds gauge\n"
            "clinicbox_backup_last_success_timestamp_seconds %lld\n"
            "# HELP clinicbox_backup_failing 1 while the last nightly backup attempt failed.\n"
            "# TYPE clinicbox_backup_failing gauge\nclinicbox_backup_failing %d\n"
            "# HELP clinicbox_backups_total Nightly backups attempted since the start, by result.\n"
            "# TYPE clinicbox_backups_total counter\n"
            "clinicbox_backups_total{result=\"ok\"} %lld\n"
            "clinicbox_backups_total{result=\"failed\"} %lld\n",
            b.enabled ? 1 : 0, (long long)b.last_ok_at, b.last_failed_at > b.last_ok_at ? 1 : 0,
            b.ok_total, b.failed_total);
    h_outbox_metrics(r, f);
    h_sync_metrics(r, f);
    fclose(f);
    http_text(r, 200, "text/plain; version=0.0.4; charset=utf-8", text, len);
    free(text);
}

void h_clinic_get(req_t *r)
{
    clinic_rec c;
    char etag[ETAG_BUF];
    app_clinic(r->app, &c);
    clinic_etag(&c, etag);
    http_json_etag(r, 200, render_clinic(&c), etag);
}

void h_clinic_put(req_t *r)
{
    static const char *const allowed[] = {"name", "timezone", "grace_minutes",
                                          "reschedule_options", "offer_hours",
                                          "reminder_hours", "confirmations", "language", "id",
                                          "created_at", "updated_at", NULL};
    clinic_rec c = {0}, out;
    verr_t v;
    long long x;
    char name[NAME_BUF], zone[65], etag[ETAG_BUF];
    unsigned f = 0;
    etag_cond ifm;
    svc_err e = {0};

    static const char *const echoed[] = {"id", "created_at", "updated_at", NULL};
    if (!http_if_match(r, &ifm))
        return;
    /* fields left out keep their value: the service merges the ones sent
     * (f) into the stored settings inside its write job */
    verr_init(&v);
    in_only(r->body, allowed, &v);
    in_echoed(r->body, echoed, &v);
    if (in_name(r->body, "name", false, NAME_MAX_LEN, name, sizeof name, &v)) {
        snprintf(c.name, sizeof c.name, "%s", name);
        f |= CLINIC_F_NAME;
    }
    if (in_string(r->body, "timezone", false, 64, zone, sizeof zone, &v)) {
        snprintf(c.timezone, sizeof c.timezone, "%s", zone);
        f |= CLINIC_F_TIMEZONE;
    }
    if (in_int(r->body, "grace_minutes", false, 0, 1440, &x, &v)) {
        c.grace_minutes = (int)x;
        c.grace_set = true;
        f |= CLINIC_F_GRACE;
    }
    if (in_int(r->body, "reschedule_options", false, 1, OFFER_MAX_OPTIONS, &x, &v)) {
        c.reschedule_options = (int)x;
        f |= CLINIC_F_RESCHEDULE_OPTIONS;
    }
    if (in_int(r->body, "offer_hours", false, 1, 720, &x, &v)) {
        c.offer_hours = (int)x;
        f |= CLINIC_F_OFFER_HOURS;
    }
    if (in_bool(r->body, "confirmations", false, &c.confirmations, &v))
        f |= CLINIC_F_CONFIRMATIONS;
    if (in_reminder_hours(r->body, c.reminder_hours, &c.nreminders, &v))
        f |= CLINIC_F_REMINDER_HOURS;
    char language[65 * 4];
    if (in_string(r->body, "language", false, 64, language, sizeof language, &v)) {
        if (language_valid(language)) {
            memcpy(c.language, language, strlen(language) + 1); /* a valid one fits */
            f |= CLINIC_F_LANGUAGE;
        } else {
            verr_add(&v, 422, "language", "must be %s", LANGUAGE_CHOICES);
        }
    }
    if (http_verr_answer(r, &v))
        return;
    if (svc_clinic_put(r->app, &c, f, &ifm, r->actor, r->now, &out, &e) != SVC_OK) {
        http_svc_problem(r, &e);
        return;
    }
    clinic_etag(&out, etag);
    http_json_etag(r, 200, render_clinic(&out), etag);
}

void h_clock_confirm(req_t *r)
{
    struct noshow_status ns;
    if (!http_empty_body(r))
        return;
    noshow_confirm_clock(r->app);
    noshow_status(r->app, &ns);
    http_json(r, 200, json_pack("{s:o,s:b}", "trusted_time", render_time(http_clinic_tz(r), ns.trusted_until),
                                "held", ns.held));
}
