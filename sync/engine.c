/*
 * engine.c — see engine.h. One thread; the status is guarded by e->lock,
 * never held across a round. Waiting is poll() on an eventfd, like the
 * other workers (a wake-up before the wait is kept).
 *
 * After a failed round the next one opens a fresh libmongoc client: the old
 * one keeps a server it could not reach in a 5 s cooldown and would fail
 * the rounds of a link that healed meanwhile with "No servers yet eligible
 * for rescan" (central.h). A new client costs one connection and handshake.
 */
#include "sync/engine.h"

#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "core/log.h"
#include "sync/central.h"
#include "sync/round.h"
#include "sync/watch.h"

struct sync_engine {
    app_t *app;
    pthread_t thread;
    int wake_fd;
    pthread_mutex_t lock; /* guards st and stopping */
    bool stopping;
    struct sync_status st;
    struct sync_watch *watch; /* wakes a round when central logs a change */
};

static bool is_stopping(struct sync_engine *e)
{
    pthread_mutex_lock(&e->lock);
    bool s = e->stopping;
    pthread_mutex_unlock(&e->lock);
    return s;
}

static void wake(struct sync_engine *e);

static void wake_cb(void *arg)
{
    wake(arg);
}

static bool stop_cb(void *arg)
{
    return is_stopping(arg);
}

/* A long round's batches show in the status as they commit. */
struct progress {
    struct sync_engine *e;
    unsigned long long base_pushed, base_pulled;
    long pushed, pulled;
};

static void progress_cb(void *arg, long pushed, long pulled)
{
    struct progress *p = arg;
    p->pushed += pushed;
    p->pulled += pulled;
    pthread_mutex_lock(&p->e->lock);
    p->e->st.pushed_total = p->base_pushed + (unsigned long long)p->pushed;
    p->e->st.pulled_total = p->base_pulled + (unsigned long long)p->pulled;
    pthread_mutex_unlock(&p->e->lock);
}

static bool progress_stop_cb(void *arg)
{
    return stop_cb(((struct progress *)arg)->e);
}

/* The box's document in `boxes` after a round (round.h); the status's clock
 * fields are what the report says. A report that fails fails a round that
 * was ok. */
static bool report(struct sync_engine *e, central_t *c, bool ok, const struct round_result *res,
                   char *err, size_t errlen)
{
    pthread_mutex_lock(&e->lock);
    bool clamped = e->st.clock_clamped;
    int64_t ahead = e->st.clock_ahead_ms;
    pthread_mutex_unlock(&e->lock);
    if (ok) {
        clamped = res->clamped;
        if (res->clock_ahead_ms || res->pulled) /* fresh central changes re-judge it */
            ahead = res->clock_ahead_ms;
    }
    struct round_outcome o = {ok, err, sync_watch_state(e->watch), clamped, ahead};
    char why[512];
    if (sync_report(e->app, c, &o, why, sizeof why) || !ok)
        return ok;
    snprintf(err, errlen, "%s", why);
    return false;
}

static void *engine_main(void *arg)
{
    struct sync_engine *e = arg;
    app_t *app = e->app;
    char err[512];
    central_t *c = NULL;
    bool fresh = true; /* open a new client before the next round */
    struct sync_ctl ctl = {progress_stop_cb, progress_cb, NULL, SYNC_BATCH_MAX};
    while (!is_stopping(e)) {
        struct round_result res = {0};
        err[0] = 0;
        if (fresh) {
            central_close(c);
            c = central_open(app->cfg.mongo_uri, err, sizeof err);
            if (!c && !e->st.rounds_failed) /* an invalid URI: said once */
                log_error("sync", "%s", err);
        }
        pthread_mutex_lock(&e->lock);
        e->st.running = true;
        pthread_mutex_unlock(&e->lock);
        /* the digests: at the first round, then once a day */
        bool reconcile = !e->st.last_reconcile_at ||
                         app_now() - e->st.last_reconcile_at >= SYNC_RECONCILE_SECONDS;
        pthread_mutex_lock(&e->lock);
        struct progress prog = {e, e->st.pushed_total, e->st.pulled_total, 0, 0};
        pthread_mutex_unlock(&e->lock);
        ctl.arg = &prog;
        bool round_ok = c && sync_round_on(app, c, reconcile, &ctl, &res, err, sizeof err);
        if (!c && !err[0])
            snprintf(err, sizeof err, "mongo_uri cannot be used");
        bool ok = round_ok;
        if (c && (round_ok || res.reached) && !is_stopping(e))
            ok = report(e, c, round_ok, &res, err, sizeof err);
        fresh = !ok;
        int64_t now = app_now();
        pthread_mutex_lock(&e->lock);
        bool was_ok = e->st.last_error[0] == 0;
        e->st.running = false;
        e->st.last_round_at = now;
        /* what the round committed counts, even if a later step failed */
        e->st.pushed_total = prog.base_pushed + (unsigned long long)res.pushed;
        e->st.pulled_total = prog.base_pulled + (unsigned long long)res.pulled;
        e->st.conflicts_total += (unsigned long long)res.conflicts;
        e->st.rejected_total += (unsigned long long)res.rejected;
        if (round_ok) {
            e->st.last_pull_at = now; /* the pull completed: the box is current */
            if (res.pushed > 0)
                e->st.last_push_at = now;
            e->st.clock_clamped = res.clamped;
            if (res.reconciled) {
                e->st.last_reconcile_at = now;
                e->st.drift_repaired_total += (unsigned long long)res.drift_repaired;
            }
            if (res.clock_ahead_ms || res.pulled) /* fresh central changes re-judge it */
                e->st.clock_ahead_ms = res.clock_ahead_ms;
        }
        if (ok) {
            e->st.rounds_ok++;
            e->st.last_success_at = now;
            e->st.last_error[0] = 0;
        } else {
            e->st.rounds_failed++;
            snprintf(e->st.last_error, sizeof e->st.last_error, "%s", err);
        }
        pthread_mutex_unlock(&e->lock);
        if (!ok && was_ok)
            log_warn("sync", "round failed, will retry every %d s: %s",
                     app->cfg.sync_interval_seconds, err);
        else if (ok && !was_ok)
            log_info("sync", "the central database answers again");

        struct pollfd p = {.fd = e->wake_fd, .events = POLLIN};
        uint64_t n;
        if (poll(&p, 1, app->cfg.sync_interval_seconds * 1000) > 0 &&
            read(e->wake_fd, &n, sizeof n) < 0)
            log_debug("sync", "eventfd read: nothing to read");
    }
    central_close(c);
    return NULL;
}

bool sync_engine_start(app_t *app)
{
    if (!app->cfg.mongo_uri[0])
        return true;
    struct sync_engine *e = calloc(1, sizeof *e);
    if (!e)
        return false;
    e->app = app;
    e->st.enabled = true;
    /* the kept counts, before the status can be asked for */
    struct sync_totals totals;
    if (sync_totals_get(app, &totals)) {
        e->st.rejected_total = totals.rejected;
        e->st.conflicts_total = totals.conflicts;
    }
    pthread_mutex_init(&e->lock, NULL);
    e->wake_fd = eventfd(0, EFD_CLOEXEC);
    if (e->wake_fd < 0)
        goto fail;
    /* the watcher first: the thread reads its state in every report */
    clinic_rec clinic;
    app_clinic(app, &clinic);
    e->watch = sync_watch_start(app->cfg.mongo_uri, clinic.id, wake_cb, e);
    if (!e->watch)
        log_warn("sync", "cannot start the change stream watcher; polling only");
    if (pthread_create(&e->thread, NULL, engine_main, e) != 0) {
        sync_watch_stop(e->watch);
        goto fail;
    }
    app->sync = e;
    return true;
fail:
    if (e->wake_fd >= 0)
        close(e->wake_fd);
    pthread_mutex_destroy(&e->lock);
    free(e);
    return false;
}

static void wake(struct sync_engine *e)
{
    uint64_t one = 1;
    if (write(e->wake_fd, &one, sizeof one) < 0)
        log_debug("sync", "eventfd write failed");
}

void sync_engine_stop(app_t *app)
{
    struct sync_engine *e = app->sync;
    if (!e)
        return;
    sync_watch_stop(e->watch); /* it wakes this thread: stop it first */
    pthread_mutex_lock(&e->lock);
    e->stopping = true;
    pthread_mutex_unlock(&e->lock);
    wake(e);
    pthread_join(e->thread, NULL);
    close(e->wake_fd);
    pthread_mutex_destroy(&e->lock);
    app->sync = NULL;
    free(e);
}

bool sync_engine_wake(app_t *app)
{
    if (!app->sync)
        return false;
    wake(app->sync);
    return true;
}

void sync_engine_status(app_t *app, struct sync_status *out)
{
    struct sync_engine *e = app->sync;
    memset(out, 0, sizeof *out);
    if (!e)
        return;
    pthread_mutex_lock(&e->lock);
    *out = e->st;
    pthread_mutex_unlock(&e->lock);
    out->change_stream = sync_watch_state(e->watch);
}
