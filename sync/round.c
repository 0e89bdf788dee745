/*
 * round.c — see round.h. Reads on a pooled reader connection; the box id is
 * written once, in its own write job, and so are the kept counts. Which
 * epoch the indexes were made for is the process's (one sync thread, or
 * one `clinicbox sync --once`), under a mutex all the same.
 */
#include "sync/round.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/ids.h"
#include "core/log.h"
#include "store/store.h"
#include "sync/central.h"
#include "sync/digest.h"
#include "sync/docmap.h"
#include "sync/pull.h"
#include "sync/journal.h"
#include "sync/push.h"

#define PULL_BATCH 500
#define CONFLICT_PASSES 3

/* the epoch the indexes were made (or refused) for, in this process */
static pthread_mutex_t indexed_lock = PTHREAD_MUTEX_INITIALIZER;
static char indexed_epoch[ID_LEN + 8];

struct box_id_job {
    char *out;
    int64_t now;
};

static int box_id_job(db_conn_t *c, void *arg)
{
    struct box_id_job *j = arg;
    int rc = store_meta_get_text(c, "box_id", j->out, ID_LEN);
    if (rc == STORE_OK)
        return 0;
    if (rc != STORE_NOT_FOUND)
        return -1;
    ids_uuid(j->now * 1000, j->out);
    return store_meta_set_text(c, "box_id", j->out) == STORE_OK ? 0 : -1;
}

bool sync_box_id(app_t *app, char *out)
{
    struct box_id_job j = {out, app_now()};
    return db_write(app->db, box_id_job, &j) == 0;
}

/* ---- the kept counts ------------------------------------------------------ */

#define REJECTED_KEY "sync_rejected_total"
#define CONFLICTS_KEY "sync_conflicts_total"

static bool meta_count(db_conn_t *c, const char *key, int64_t *out)
{
    int rc = store_meta_get_int(c, key, out);
    if (rc == STORE_NOT_FOUND)
        *out = 0;
    return rc == STORE_OK || rc == STORE_NOT_FOUND;
}

bool sync_totals_get(app_t *app, struct sync_totals *out)
{
    int64_t rejected = 0, conflicts = 0;
    db_conn_t *c = db_reader(app->db);
    bool ok = c && meta_count(c, REJECTED_KEY, &rejected) &&
              meta_count(c, CONFLICTS_KEY, &conflicts);
    db_reader_release(app->db, c);
    out->rejected = ok && rejected > 0 ? (unsigned long long)rejected : 0;
    out->conflicts = ok && conflicts > 0 ? (unsigned long long)conflicts : 0;
    return ok;
}

struct totals_job {
    long rejected, conflicts;
};

static int totals_add_job(db_conn_t *c, void *arg)
{
    struct totals_job *j = arg;
    int64_t rejected, conflicts;
    if (!meta_count(c, REJECTED_KEY, &rejected) || !meta_count(c, CONFLICTS_KEY, &conflicts))
        return -1;
    return store_meta_set_int(c, REJECTED_KEY, rejected + j->rejected) == STORE_OK &&
                   store_meta_set_int(c, CONFLICTS_KEY, conflicts + j->conflicts) == STORE_OK
               ? 0
               : -1;
}

static void totals_add(app_t *app, const struct pull_stats *pulled)
{
    struct totals_job j = {pulled->rejected, pulled->conflicts};
    if ((j.rejected || j.conflicts) && db_write(app->db, totals_add_job, &j) != 0)
        log_warn("sync", "cannot keep this round's counts (%ld refused, %ld conflicts): "
                         "storage is unavailable", j.rejected, j.conflicts);
}

/* ---- indexes --------------------------------------------------------------- */

/* Once per process and central epoch; a refusal is logged, not retried
 * (until the epoch changes), and never fails the round. */
static void ensure_indexes(central_t *c, const char *epoch)
{
    char why[512];
    pthread_mutex_lock(&indexed_lock);
    bool done = strcmp(indexed_epoch, epoch) == 0;
    pthread_mutex_unlock(&indexed_lock);
    if (done)
        return;
    int r = central_ensure_indexes(c, why, sizeof why);
    if (r < 0)
        return; /* not reached: the next step fails the round; tried again next round */
    if (r == 0)
        log_warn("sync", "the central database did not create an index the box's queries "
                         "use (%s); sync works without it, slower on large collections "
                         "(docs/sync.md, Indexes)", why);
    else
        log_debug("sync", "the central indexes are in place");
    pthread_mutex_lock(&indexed_lock);
    snprintf(indexed_epoch, sizeof indexed_epoch, "%s", epoch);
    pthread_mutex_unlock(&indexed_lock);
}

/* Pushes; a record whose central document changed meanwhile is fetched,
 * decided (apply.h) and pushed again, a few passes at most per round. */
static long push_all(app_t *app, central_t *c, const char *box, struct sync_ctl *ctl,
                     struct pull_stats *pulled, char *err, size_t errlen)
{
    struct push_conflicts *cf = malloc(sizeof *cf);
    char(*ids)[ID_LEN + 8] = malloc(PUSH_MAX_CONFLICTS * sizeof *ids);
    long total = 0;
    if (!cf || !ids) {
        free(cf);
        free(ids);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (int pass = 0; pass < CONFLICT_PASSES; pass++) {
        long n = sync_push(app, c, box, ctl, cf, err, errlen);
        if (n < 0) {
            total = -1;
            break;
        }
        total += n;
        if (cf->n == 0)
            break;
        log_info("sync", "%ld record(s) changed centrally since this box last saw them; "
                         "taking those changes in first", cf->n);
        for (int k = 0; k < docmap_ncollections && total >= 0; k++) {
            long m = 0;
            for (long i = 0; i < cf->n; i++)
                if (cf->item[i].collection == k)
                    snprintf(ids[m++], sizeof ids[0], "%s", cf->item[i].id);
            if (m && !sync_pull_records(app, c, box, k, ids, m, pulled, err, errlen))
                total = -1;
        }
        if (total < 0)
            break;
    }
    free(cf);
    free(ids);
    return total;
}

bool sync_round_on(app_t *app, central_t *c, bool reconcile, struct sync_ctl *ctl,
                   struct round_result *res, char *err, size_t errlen)
{
    char box[ID_LEN];

    memset(res, 0, sizeof *res);
    if (!sync_box_id(app, box) || !sync_journal_enable(app, true)) {
        snprintf(err, errlen, "storage is unavailable");
        return false;
    }

    char epoch[ID_LEN + 8];
    if (!central_ping(c, err, errlen))
        return false;
    res->reached = true;
    if (!central_epoch(c, app_now(), epoch, sizeof epoch, err, errlen))
        return false;
    int reseed = sync_check_epoch(app, epoch);
    if (reseed < 0) {
        snprintf(err, errlen, "storage is unavailable");
        return false;
    }
    if (reseed)
        log_warn("sync", "the central database is not the one this box last synced with (it "
                         "was replaced or restarted empty); pushing every record again");
    if (app->cfg.sync_indexes)
        ensure_indexes(c, epoch);
    /* what a round committed counts even when a later step fails */
    struct pull_stats pulled = {0};
    bool ok = sync_pull(app, c, box, PULL_BATCH, ctl, &pulled, err, errlen);
    long pushed = ok ? push_all(app, c, box, ctl, &pulled, err, errlen) : 0;
    ok = ok && pushed >= 0;
    if (ok && reconcile && sync_pending(app) == 0) {
        struct digest_stats ds;
        ok = sync_reconcile(app, c, box, &ds, &pulled, err, errlen);
        res->reconciled = ok;
        res->drift_repaired = ds.pulled + ds.repushed;
        long again = ok && ds.repushed ? push_all(app, c, box, ctl, &pulled, err, errlen) : 0;
        ok = ok && again >= 0;
        pushed += again > 0 ? again : 0;
    }
    res->pushed = pushed > 0 ? pushed : 0;
    res->pulled = pulled.applied;
    res->conflicts = pulled.conflicts;
    res->rejected = pulled.rejected;
    res->clamped = pulled.clamped;
    res->clock_ahead_ms = pulled.clock_ahead_ms;
    totals_add(app, &pulled);
    if (!ok)
        return false;
    if (pulled.clock_ahead_ms)
        log_warn("sync", "this box's clock seems at least %lld minutes ahead of the central "
                         "writers' (a change written after the last pull is dated before it); "
                         "check the clock: until it is right, this box wins concurrent edits",
                 (long long)(pulled.clock_ahead_ms / 60000));
    if (pushed > 0 || pulled.applied > 0)
        log_info("sync", "pushed %ld record(s), took in %ld central change(s)%s", pushed,
                 pulled.applied, pulled.conflicts ? " (with booking conflicts)" : "");
    return true;
}

bool sync_report(app_t *app, central_t *c, const struct round_outcome *o, char *err,
                 size_t errlen)
{
    char box[ID_LEN], host[256] = "";
    clinic_rec clinic;
    long counts[NOTE_OPEN_COUNT] = {0}, pending = 0;
    int64_t oldest = 0, oldest_pending = 0, applied = 0, central_seq = -1, server_ms, rtt;
    struct sync_totals totals;

    if (!sync_box_id(app, box)) {
        snprintf(err, errlen, "storage is unavailable");
        return false;
    }
    db_conn_t *rc = db_reader(app->db);
    bool read = rc && store_notification_queue(rc, counts, &oldest) == STORE_OK &&
                meta_count(rc, "sync_pull_checkpoint", &applied);
    db_reader_release(app->db, rc);
    if (!read || !sync_pending_oldest(app, &pending, &oldest_pending) ||
        !sync_totals_get(app, &totals)) {
        snprintf(err, errlen, "storage is unavailable");
        return false;
    }
    app_clinic(app, &clinic);
    gethostname(host, sizeof host - 1);
    char why[256];
    if (!central_counter_seq(c, clinic.id, &central_seq, why, sizeof why))
        central_seq = -1; /* the document says null; the write below says whether it failed */
    int64_t now = app_now();
    bool skew_known = central_server_time(c, &server_ms, &rtt);
    struct box_report r = {
        .box_id = box,
        .clinic_id = clinic.id,
        .clinic_name = clinic.name,
        .timezone = clinic.timezone,
        .version = CLINICBOX_VERSION,
        .hostname = host,
        .now = now,
        .ok = o->ok,
        .error = o->ok ? NULL : o->error,
        .sync_interval_seconds = app->cfg.sync_interval_seconds,
        .queued_messages = counts[0] + counts[1] + counts[2],
        .dead_messages = counts[3],
        .pending_changes = pending,
        .oldest_pending_ms = pending ? oldest_pending : 0,
        .applied_seq = applied,
        .central_seq = central_seq,
        .rejected_total = totals.rejected,
        .conflicts_total = totals.conflicts,
        .clock_skew_suspected = o->clock_clamped || o->clock_ahead_ms > 0,
        .clock_ahead_ms = o->clock_ahead_ms,
        .clock_skew_known = skew_known,
        /* the server's clock read half a round trip ago */
        .clock_skew_ms = skew_known ? now * 1000 - (server_ms + rtt / 2) : 0,
        .change_stream = o->change_stream,
        .settings = {.grace_minutes = clinic.grace_minutes,
                     .grace_from_clinic = clinic.grace_set,
                     .reschedule_options = clinic.reschedule_options,
                     .offer_hours = clinic.offer_hours,
                     .reminder_hours = clinic.reminder_hours,
                     .nreminders = clinic.nreminders,
                     .confirmations = clinic.confirmations,
                     .language = clinic.language},
    };
    return central_report_box(c, &r, err, errlen);
}

bool sync_round(app_t *app, char *err, size_t errlen)
{
    struct round_result res;
    struct sync_ctl ctl = {.push_batch = SYNC_BATCH_MAX};
    if (!app->cfg.mongo_uri[0]) {
        snprintf(err, errlen, "mongo_uri is not set: sync is off");
        return false;
    }
    central_t *c = central_open(app->cfg.mongo_uri, err, errlen);
    bool ok = c && sync_round_on(app, c, true, &ctl, &res, err, errlen);
    if (c && (ok || res.reached)) {
        /* a failed round is reported too, when the server answers; its
         * reason stays the round's */
        char why[512];
        struct round_outcome o = {ok, err, "off", res.clamped, res.clock_ahead_ms};
        bool reported = sync_report(app, c, &o, why, sizeof why);
        if (ok && !reported) {
            snprintf(err, errlen, "%s", why);
            ok = false;
        }
    }
    central_close(c);
    return ok;
}
