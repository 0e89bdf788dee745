/*
 * round.c — see round.h. Reads on a pooled reader connection; the box id is
 * written once, in its own write job.
 */
#include "sync/round.h"

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
    char box[ID_LEN], host[256] = "";
    clinic_rec clinic;
    long counts[NOTE_OPEN_COUNT] = {0};
    int64_t oldest = 0;

    memset(res, 0, sizeof *res);
    if (!sync_box_id(app, box) || !sync_journal_enable(app, true)) {
        snprintf(err, errlen, "storage is unavailable");
        return false;
    }
    db_conn_t *rc = db_reader(app->db);
    bool counted = rc && store_notification_queue(rc, counts, &oldest) == STORE_OK;
    db_reader_release(app->db, rc);
    if (!counted) {
        snprintf(err, errlen, "storage is unavailable");
        return false;
    }
    app_clinic(app, &clinic);
    gethostname(host, sizeof host - 1);

    char epoch[ID_LEN + 8];
    if (!central_ping(c, err, errlen) ||
        !central_epoch(c, app_now(), epoch, sizeof epoch, err, errlen))
        return false;
    int reseed = sync_check_epoch(app, epoch);
    if (reseed < 0) {
        snprintf(err, errlen, "storage is unavailable");
        return false;
    }
    if (reseed)
        log_warn("sync", "the central database is not the one this box last synced with (it "
                         "was replaced or restarted empty); pushing every record again");
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
    struct box_report r = {
        .box_id = box,
        .clinic_id = clinic.id,
        .clinic_name = clinic.name,
        .version = CLINICBOX_VERSION,
        .hostname = host,
        .now = app_now(),
        .queued_messages = counts[0] + counts[1] + counts[2],
        .dead_messages = counts[3],
        .pending_changes = sync_pending(app),
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
    central_close(c);
    return ok;
}
