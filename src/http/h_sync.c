/*
 * h_sync.c — the central sync over HTTP: its status, a round on demand, and
 * its part of /api/health and /metrics. Thin: the state comes from
 * sync/engine.h (its rejected and conflict counts from the box's database,
 * so they survive restarts: round.h), the pending count from the journal.
 */
#include <stdio.h>
#include <string.h>

#include "http/http.h"
#include "http/render.h"
#include "sync/engine.h"
#include "sync/journal.h"

static void set_time(json_t *o, const char *key, req_t *r, int64_t t)
{
    json_object_set_new(o, key, t ? render_time(http_clinic_tz(r), t) : json_null());
}

json_t *h_sync_json(req_t *r)
{
    struct sync_status s;
    sync_engine_status(r->app, &s);
    long pending = s.enabled ? sync_pending(r->app) : 0;
    const char *state = !s.enabled            ? "off"
                        : !s.last_round_at    ? "starting"
                        : s.last_error[0]     ? "failing"
                                              : "ok";
    json_t *o = json_pack("{s:b,s:s,s:b,s:I,s:I,s:I,s:I}", "enabled", s.enabled, "state", state,
                          "running", s.running, "pending_changes", (json_int_t)pending,
                          "rounds_ok", (json_int_t)s.rounds_ok, "rounds_failed",
                          (json_int_t)s.rounds_failed, "pushed_total",
                          (json_int_t)s.pushed_total);
    set_time(o, "last_round_at", r, s.last_round_at);
    set_time(o, "last_success_at", r, s.last_success_at);
    set_time(o, "last_push_at", r, s.last_push_at);
    set_time(o, "last_pull_at", r, s.last_pull_at);
    json_object_set_new(o, "pulled_total", json_integer((json_int_t)s.pulled_total));
    json_object_set_new(o, "conflicts_total", json_integer((json_int_t)s.conflicts_total));
    json_object_set_new(o, "rejected_total", json_integer((json_int_t)s.rejected_total));
    json_object_set_new(o, "clock_skew_suspected",
                        json_boolean(s.clock_clamped || s.clock_ahead_ms > 0));
    json_object_set_new(o, "change_stream",
                        json_string(s.change_stream ? s.change_stream : "off"));
    set_time(o, "last_reconcile_at", r, s.last_reconcile_at);
    json_object_set_new(o, "drift_repaired_total",
                        json_integer((json_int_t)s.drift_repaired_total));
    json_object_set_new(o, "clock_ahead_seconds",
                        s.clock_ahead_ms ? json_integer(s.clock_ahead_ms / 1000) : json_null());
    json_object_set_new(o, "lag_seconds",
                        s.enabled && s.last_success_at
                            ? json_integer(r->now > s.last_success_at ? r->now - s.last_success_at
                                                                      : 0)
                            : json_null());
    json_object_set_new(o, "last_error", s.last_error[0] ? json_string(s.last_error) : json_null());
    return o;
}

void h_sync_status(req_t *r)
{
    http_json(r, 200, h_sync_json(r));
}

void h_sync_run(req_t *r)
{
    if (!http_empty_body(r))
        return;
    if (!sync_engine_wake(r->app)) {
        http_problem(r, 409, "sync is off: no mongo_uri is set", NULL, NULL);
        return;
    }
    http_json(r, 202, json_pack("{s:s}", "status", "a round was asked for"));
}

void h_sync_metrics(req_t *r, FILE *f)
{
    struct sync_status s;
    sync_engine_status(r->app, &s);
    long pending = s.enabled ? sync_pending(r->app) : 0;
    fprintf(f,
            "# HELP clinicbox_sync_enabled 1 when a central database is configured.\n"
            "# TYPE clinicbox_sync_enabled gauge\nclinicbox_sync_enabled %d\n"
            "# HELP clinicbox_sync_pending_changes Local changes not yet pushed.\n"
            "# TYPE clinicbox_sync_pending_changes gauge\nclinicbox_sync_pending_changes %ld\n"
            "# HELP clinicbox_sync_rounds_total Sync rounds, by result.\n"
            "# TYPE clinicbox_sync_rounds_total counter\n"
            "clinicbox_sync_rounds_total{result=\"ok\"} %llu\n"
            "clinicbox_sync_rounds_total{result=\"failed\"} %llu\n"
            "# HELP clinicbox_sync_pushed_total Records pushed to the central database.\n"
            "# TYPE clinicbox_sync_pushed_total counter\nclinicbox_sync_pushed_total %llu\n"
            "# HELP clinicbox_sync_pulled_total Central changes taken in.\n"
            "# TYPE clinicbox_sync_pulled_total counter\nclinicbox_sync_pulled_total %llu\n"
            "# HELP clinicbox_sync_conflicts_total Central bookings whose time was taken "
            "(kept across restarts).\n"
            "# TYPE clinicbox_sync_conflicts_total counter\nclinicbox_sync_conflicts_total %llu\n"
            "# HELP clinicbox_sync_rejected_total Central changes the box refused (kept across "
            "restarts).\n"
            "# TYPE clinicbox_sync_rejected_total counter\nclinicbox_sync_rejected_total %llu\n"
            "# HELP clinicbox_sync_last_success_timestamp_seconds When a round last completed.\n"
            "# TYPE clinicbox_sync_last_success_timestamp_seconds gauge\n"
            "clinicbox_sync_last_success_timestamp_seconds %lld\n",
            s.enabled ? 1 : 0, pending < 0 ? 0 : pending, s.rounds_ok, s.rounds_failed,
            s.pushed_total, s.pulled_total, s.conflicts_total, s.rejected_total,
            (long long)s.last_success_at);
}
