/*
 * noshow.c — see noshow.h.
 *
 * Thread: one worker thread; app->lock guards the guard and the counters.
 * The clock guard's high-water mark is stored in meta.clock_high_water so
 * that a restart can tell a plausible gap (the box was off) from a clock
 * that jumped; it is written at most once a minute.
 */
#include "service/noshow.h"

#include <poll.h>
#include <stdio.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "service/booking.h"
#include "service/notify.h"
#include "service/reminders.h"
#include "store/store.h"

#define CLOCK_TOLERANCE_SECONDS 300
#define HIGH_WATER_KEY "clock_high_water"

static int64_t mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec;
}

struct hw_job {
    int64_t value;
};

static int hw_job(db_conn_t *c, void *arg)
{
    struct hw_job *j = arg;
    return store_meta_set_int(c, HIGH_WATER_KEY, j->value) == STORE_OK ? 0 : SVC_UNAVAILABLE;
}

#define HELD_LOG_EVERY_SECONDS 600

static void tick(app_t *app, int64_t *saved_hw)
{
    static int64_t last_held_log; /* only this worker thread uses it */
    int64_t wall = app_now(), mono = mono_now();
    pthread_mutex_lock(&app->lock);
    bool was_held = app->guard.held;
    bool ok = clockguard_observe(&app->guard, wall, mono);
    int64_t hw = app->guard.high_water;
    char reason[200];
    snprintf(reason, sizeof reason, "%s", app->guard.reason);
    pthread_mutex_unlock(&app->lock);

    if (!ok) {
        if (!was_held || mono - last_held_log >= HELD_LOG_EVERY_SECONDS) {
            log_warn("noshow", "holding no-show detection: %s", reason);
            last_held_log = mono;
        }
        return;
    }
    if (was_held)
        log_info("noshow", "the wall clock is plausible again; no-show detection resumes");
    long n = svc_noshow_sweep(app, wall);
    if (n > 0)
        log_info("noshow", "marked %ld appointment(s) as no-show", n);
    if (svc_reminder_sweep(app, wall) < 0)
        log_error("reminders", "the reminder sweep failed; it runs again on the next tick");
    if (svc_notification_token_sweep(app, wall) < 0)
        log_error("outbox", "could not forget the tokens of expired offers; trying again on "
                            "the next tick");
    pthread_mutex_lock(&app->lock);
    app->noshow_last_run = wall;
    if (n > 0)
        app->noshow_total += n;
    pthread_mutex_unlock(&app->lock);
    if (hw - *saved_hw >= 60 || hw < *saved_hw) {
        struct hw_job j = {hw};
        if (db_write(app->db, hw_job, &j) == 0)
            *saved_hw = hw;
    }
}

/* Waits up to `seconds` or until noshow_stop/noshow_confirm_clock write to
 * the wake-up eventfd. poll() with a relative timeout rather than a timed
 * condition wait: it needs no absolute clock, so a jumping wall clock (or
 * libfaketime in the tests) cannot turn it into a busy loop. */
static void wait_for_wake(app_t *app, int seconds)
{
    struct pollfd p = {.fd = app->noshow_wake_fd, .events = POLLIN};
    uint64_t n;
    if (poll(&p, 1, seconds * 1000) > 0 && read(app->noshow_wake_fd, &n, sizeof n) < 0)
        log_debug("noshow", "wake-up read failed");
}

static void *noshow_main(void *arg)
{
    app_t *app = arg;
    int64_t saved_hw = app->guard.high_water;
    for (;;) {
        pthread_mutex_lock(&app->lock);
        bool stop = app->stopping;
        pthread_mutex_unlock(&app->lock);
        if (stop)
            break;
        tick(app, &saved_hw);
        wait_for_wake(app, app->cfg.noshow_interval_seconds);
    }
    return NULL;
}

static void wake(app_t *app)
{
    uint64_t one = 1;
    if (write(app->noshow_wake_fd, &one, sizeof one) < 0)
        log_warn("noshow", "cannot wake the worker");
}

bool noshow_start(app_t *app)
{
    int64_t hw = 0;
    db_conn_t *c = db_reader(app->db);
    if (!c)
        return false;
    store_meta_get_int(c, HIGH_WATER_KEY, &hw);
    db_reader_release(app->db, c);
    clockguard_init(&app->guard, hw, (int64_t)app->cfg.clock_max_catchup_hours * 3600,
                    CLOCK_TOLERANCE_SECONDS);
    app->noshow_wake_fd = eventfd(0, EFD_CLOEXEC);
    if (app->noshow_wake_fd < 0)
        return false;
    app->noshow_started = pthread_create(&app->noshow_thread, NULL, noshow_main, app) == 0;
    return app->noshow_started;
}

void noshow_stop(app_t *app)
{
    pthread_mutex_lock(&app->lock);
    app->stopping = true;
    pthread_mutex_unlock(&app->lock);
    if (app->noshow_started) {
        wake(app);
        pthread_join(app->noshow_thread, NULL);
        close(app->noshow_wake_fd);
    }
    app->noshow_started = false;
}

void noshow_confirm_clock(app_t *app)
{
    pthread_mutex_lock(&app->lock);
    clockguard_confirm(&app->guard, app_now(), mono_now());
    pthread_mutex_unlock(&app->lock);
    wake(app);
    log_info("noshow", "staff confirmed the wall clock; no-show detection resumes");
}

void noshow_status(app_t *app, struct noshow_status *out)
{
    pthread_mutex_lock(&app->lock);
    out->held = app->guard.held;
    snprintf(out->reason, sizeof out->reason, "%s", app->guard.reason);
    out->last_run = app->noshow_last_run;
    out->trusted_until = app->guard.high_water;
    out->total = app->noshow_total;
    pthread_mutex_unlock(&app->lock);
}
