/*
 * h_notifications.c — the outbox over HTTP: the message list, retrying a
 * dead or failed message, and the outbox's part of /api/health and
 * /metrics. Thin handlers: validate, call the store or the service, render.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ids.h"
#include "http/http.h"
#include "http/render.h"
#include "outbox/outbox.h"
#include "service/notify.h"
#include "store/store.h"

#define NOTE_LIST_DEFAULT 100
#define NOTE_LIST_MAX 1000

static const char *const statuses[] = {"queued", "sending", "sent",    "failed",
                                       "dead",   "skipped", "expired", NULL};

struct list_ctx {
    json_t *arr;
    const tz_t *tz;
};

static void add_note(const notification_rec *n, void *arg)
{
    struct list_ctx *l = arg;
    json_array_append_new(l->arr, render_notification(l->tz, n));
}

void h_notification_list(req_t *r)
{
    char status[24] = "", appt[ID_LEN + 4] = "";
    const char *st = NULL, *ap = NULL;
    long limit = NOTE_LIST_DEFAULT;

    if (http_query(r, "status", status, sizeof status)) {
        bool known = false;
        for (int i = 0; statuses[i]; i++)
            known |= strcmp(status, statuses[i]) == 0;
        if (!known) {
            http_problem(r, 400,
                         "status must be queued, sending, sent, failed, dead, skipped or expired",
                         "status", NULL);
            return;
        }
        st = status;
    }
    if (http_query(r, "appointment_id", appt, sizeof appt)) {
        if (!ids_valid(appt)) {
            http_problem(r, 400, "appointment_id must be an id", "appointment_id", NULL);
            return;
        }
        ap = appt;
    }
    if (!http_query_int(r, "limit", 1, NOTE_LIST_MAX, &limit))
        return;
    struct list_ctx l = {json_array(), http_clinic_tz(r)};
    db_conn_t *c = db_reader(r->app->db);
    if (!c || store_notification_list(c, st, ap, (int)limit, add_note, &l) != STORE_OK) {
        db_reader_release(r->app->db, c);
        json_decref(l.arr);
        http_problem(r, 503, "storage is unavailable", NULL, NULL);
        return;
    }
    db_reader_release(r->app->db, c);
    http_json(r, 200, json_pack("{s:o}", "notifications", l.arr));
}

void h_notification_retry(req_t *r)
{
    notification_rec n;
    svc_err e = {0};

    if (!http_empty_body(r))
        return;
    if (!ids_valid(r->params[0])) {
        http_problem(r, 404, "notification not found", NULL, NULL);
        return;
    }
    if (svc_notification_retry(r->app, r->params[0], r->actor, r->now, &n, &e) != SVC_OK) {
        http_svc_problem(r, &e);
        return;
    }
    http_json(r, 200, render_notification(http_clinic_tz(r), &n));
}

static json_t *channel_json(req_t *r, const char *name)
{
    struct outbox_channel_status s;
    outbox_status(r->app, name, &s);
    const char *state = !s.configured ? "not_configured" : s.down ? "unreachable" : "ok";
    json_t *o = json_pack("{s:b,s:s,s:I,s:I,s:I,s:I}", "configured", s.configured, "state",
                          state, "sent", (json_int_t)s.sent, "failed", (json_int_t)s.failed,
                          "dead", (json_int_t)s.dead, "expired", (json_int_t)s.expired);
    if (s.last_error[0])
        json_object_set_new(o, "last_error", json_string(s.last_error));
    if (s.last_sent_at)
        json_object_set_new(o, "last_sent_at", render_time(http_clinic_tz(r), s.last_sent_at));
    if (s.down_since)
        json_object_set_new(o, "unreachable_since",
                            render_time(http_clinic_tz(r), s.down_since));
    return o;
}

/* Reads the queue counts; false when storage did not answer. */
static bool queue_counts(req_t *r, long *counts, int64_t *oldest)
{
    db_conn_t *c = db_reader(r->app->db);
    bool ok = c && store_notification_queue(c, counts, oldest) == STORE_OK;
    db_reader_release(r->app->db, c);
    return ok;
}

json_t *h_outbox_health(req_t *r, bool *ok)
{
    long counts[NOTE_OPEN_COUNT];
    int64_t oldest = 0;
    *ok = queue_counts(r, counts, &oldest);
    json_t *o = json_object();
    for (int i = 0; *ok && i < NOTE_OPEN_COUNT; i++)
        json_object_set_new(o, NOTE_OPEN_STATUSES[i], json_integer(counts[i]));
    if (*ok)
        json_object_set_new(o, "oldest_queued_age_seconds",
                            json_integer(oldest ? (r->now > oldest ? r->now - oldest : 0) : 0));
    json_object_set_new(o, "email", channel_json(r, "email"));
    json_object_set_new(o, "sms", channel_json(r, "sms"));
    return o;
}

void h_outbox_metrics(req_t *r, FILE *f)
{
    long counts[NOTE_OPEN_COUNT];
    int64_t oldest = 0;
    struct outbox_channel_status s[2];
    static const char *const names[] = {"email", "sms"};

    if (queue_counts(r, counts, &oldest))
        fprintf(f,
                "# HELP clinicbox_outbox_queue_depth Messages waiting to go out "
                "(queued, sending or failed and waiting to retry).\n"
                "# TYPE clinicbox_outbox_queue_depth gauge\nclinicbox_outbox_queue_depth %ld\n"
                "# HELP clinicbox_outbox_oldest_queued_age_seconds Age of the oldest message "
                "waiting to go out.\n"
                "# TYPE clinicbox_outbox_oldest_queued_age_seconds gauge\n"
                "clinicbox_outbox_oldest_queued_age_seconds %lld\n",
                counts[0] + counts[1] + counts[2],
                (long long)(oldest && r->now > oldest ? r->now - oldest : 0));
    for (int i = 0; i < 2; i++)
        outbox_status(r->app, names[i], &s[i]);
    fprintf(f, "# HELP clinicbox_outbox_sent_total Messages handed to the provider since "
               "start.\n# TYPE clinicbox_outbox_sent_total counter\n");
    for (int i = 0; i < 2; i++)
        fprintf(f, "clinicbox_outbox_sent_total{channel=\"%s\"} %llu\n", names[i], s[i].sent);
    fprintf(f, "# HELP clinicbox_outbox_failures_total Failed delivery attempts since start, "
               "by what became of the message.\n"
               "# TYPE clinicbox_outbox_failures_total counter\n");
    for (int i = 0; i < 2; i++)
        fprintf(f,
                "clinicbox_outbox_failures_total{channel=\"%s\",result=\"retry\"} %llu\n"
                "clinicbox_outbox_failures_total{channel=\"%s\",result=\"dead\"} %llu\n",
                names[i], s[i].failed, names[i], s[i].dead);
    fprintf(f, "# HELP clinicbox_outbox_expired_total Messages dropped unsent because their "
               "purpose had passed.\n# TYPE clinicbox_outbox_expired_total counter\n");
    for (int i = 0; i < 2; i++)
        fprintf(f, "clinicbox_outbox_expired_total{channel=\"%s\"} %llu\n", names[i],
                s[i].expired);
    fprintf(f, "# HELP clinicbox_outbox_channel_up 1 when the channel is configured and its "
               "provider was reachable at the last attempt.\n"
               "# TYPE clinicbox_outbox_channel_up gauge\n");
    for (int i = 0; i < 2; i++)
        fprintf(f, "clinicbox_outbox_channel_up{channel=\"%s\"} %d\n", names[i],
                s[i].configured && !s[i].down);
}
