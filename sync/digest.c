/*
 * digest.c — see digest.h. Buckets live in a small open-addressing table
 * keyed by (collection, day); a record's contribution is the FNV-1a hash of
 * "id|rev", combined by addition (order-free, so both sides may stream in any
 * order). Days of the second pass are the ones whose buckets differ.
 */
#include "sync/digest.h"

#include <mongoc/mongoc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "store/store.h"
#include "sync/docmap.h"
#include "sync/hlc.h"
#include "sync/journal.h"

#define NO_DAY (-1)
#define RECORD_BATCH 500

/* ---- buckets ---------------------------------------------------------------- */

struct bucket {
    int64_t key; /* collection * 2^40 + day + 1; 0: empty slot */
    long count[2]; /* [0] the box, [1] central */
    uint64_t hash[2];
};

struct table {
    struct bucket *b;
    size_t cap, used;
};

static int64_t bucket_key(int coll, int64_t day)
{
    return ((int64_t)coll << 40) + day + 2;
}

static uint64_t mix(uint64_t k)
{
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdULL;
    k ^= k >> 33;
    return k;
}

static struct bucket *bucket_at(struct table *t, int64_t key, bool add)
{
    if (add && (t->used + 1) * 2 > t->cap) { /* grow: keep it under half full */
        struct table n = {calloc(t->cap ? t->cap * 2 : 64, sizeof *n.b), t->cap ? t->cap * 2 : 64, 0};
        if (!n.b)
            return NULL;
        for (size_t i = 0; i < t->cap; i++)
            if (t->b[i].key) {
                size_t j = mix((uint64_t)t->b[i].key) & (n.cap - 1);
                while (n.b[j].key)
                    j = (j + 1) & (n.cap - 1);
                n.b[j] = t->b[i];
                n.used++;
            }
        free(t->b);
        *t = n;
    }
    if (!t->cap)
        return NULL;
    size_t i = mix((uint64_t)key) & (t->cap - 1);
    while (t->b[i].key && t->b[i].key != key)
        i = (i + 1) & (t->cap - 1);
    if (!t->b[i].key) {
        if (!add)
            return NULL;
        t->b[i].key = key;
        t->used++;
    }
    return &t->b[i];
}

static uint64_t record_hash(const char *id, const char *rev)
{
    uint64_t h = 1469598103934665603ULL;
    for (const char *p = id; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    h = (h ^ '|') * 1099511628211ULL;
    for (const char *p = rev; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    return h;
}

static int64_t day_of(int64_t unix_seconds)
{
    return unix_seconds > 0 ? unix_seconds / 86400 : NO_DAY;
}

/* ---- the two sides ----------------------------------------------------------- */

/* id, rev (NULL: never pushed), created_at of every record of collection k. */
static const char *const box_sql[] = {
    "SELECT t.id, r.rev, t.created_at FROM clinic t LEFT JOIN sync_revs r "
    "ON r.entity = 'clinics' AND r.entity_id = t.id",
    "SELECT t.id, r.rev, t.created_at FROM doctors t LEFT JOIN sync_revs r "
    "ON r.entity = 'doctors' AND r.entity_id = t.id",
    "SELECT t.id, r.rev, 0 FROM doctors t LEFT JOIN sync_revs r "
    "ON r.entity = 'schedules' AND r.entity_id = t.id",
    "SELECT t.id, r.rev, t.created_at FROM patients t LEFT JOIN sync_revs r "
    "ON r.entity = 'patients' AND r.entity_id = t.id",
    "SELECT t.id, r.rev, t.created_at FROM appointments t LEFT JOIN sync_revs r "
    "ON r.entity = 'appointments' AND r.entity_id = t.id",
    "SELECT t.id, r.rev, t.created_at FROM offers t LEFT JOIN sync_revs r "
    "ON r.entity = 'offers' AND r.entity_id = t.id",
    /* a message skipped when made and never pushed stays on the box */
    "SELECT t.id, r.rev, t.created_at FROM notifications t LEFT JOIN sync_revs r "
    "ON r.entity = 'notifications' AND r.entity_id = t.id "
    "WHERE t.status <> 'skipped' OR r.rev IS NOT NULL",
};

struct item {
    char id[ID_LEN + 8];
    char rev[HLC_TEXT_MAX];
};

struct list {
    struct item *v;
    long n, cap;
};

static bool list_add(struct list *l, const char *id, const char *rev)
{
    if (l->n == l->cap) {
        long cap = l->cap ? l->cap * 2 : 64;
        struct item *v = realloc(l->v, (size_t)cap * sizeof *v);
        if (!v)
            return false;
        l->v = v;
        l->cap = cap;
    }
    snprintf(l->v[l->n].id, sizeof l->v[0].id, "%s", id);
    snprintf(l->v[l->n].rev, sizeof l->v[0].rev, "%s", rev);
    l->n++;
    return true;
}

/* Pass 1 (out == NULL): adds the box's records to the buckets. Pass 2: lists
 * the records of collection k whose day differs. */
static bool box_side(app_t *app, int k, struct table *t, struct list *out)
{
    db_conn_t *c = db_reader(app->db);
    sqlite3_stmt *st = c ? db_prepare(c, box_sql[k]) : NULL;
    bool ok = st != NULL;
    while (ok && sqlite3_step(st) == SQLITE_ROW) {
        const char *id = (const char *)sqlite3_column_text(st, 0);
        const char *rev = (const char *)sqlite3_column_text(st, 1);
        int64_t key = bucket_key(k, day_of(sqlite3_column_int64(st, 2)));
        if (!out) {
            struct bucket *b = bucket_at(t, key, true);
            if (!b) {
                ok = false;
                break;
            }
            b->count[0]++;
            b->hash[0] += record_hash(id, rev ? rev : "");
        } else {
            struct bucket *b = bucket_at(t, key, false);
            if (b && (b->count[0] != b->count[1] || b->hash[0] != b->hash[1]))
                ok = list_add(out, id, rev ? rev : "");
        }
    }
    if (st)
        sqlite3_reset(st);
    db_reader_release(app->db, c);
    return ok;
}

/* The same for the central documents of the clinic (tombstones left out). */
static bool central_side(central_t *central, const char *clinic_id, int k, struct table *t,
                         struct list *out, char *err, size_t errlen)
{
    bson_t q = BSON_INITIALIZER, opts = BSON_INITIALIZER, proj;
    bson_error_t e;
    const bson_t *doc;
    bool ok = true;
    BSON_APPEND_UTF8(&q, "clinicId", clinic_id);
    BSON_APPEND_DOCUMENT_BEGIN(&opts, "projection", &proj);
    BSON_APPEND_INT32(&proj, "_id", 1);
    BSON_APPEND_INT32(&proj, "_sync.rev", 1);
    BSON_APPEND_INT32(&proj, "createdAt", 1);
    BSON_APPEND_INT32(&proj, "deletedAt", 1);
    bson_append_document_end(&opts, &proj);
    mongoc_collection_t *coll = central_collection(central, docmap_collections[k]);
    mongoc_cursor_t *cur = mongoc_collection_find_with_opts(coll, &q, &opts, NULL);
    while (ok && mongoc_cursor_next(cur, &doc)) {
        char id[ID_LEN + 8], rev[HLC_TEXT_MAX] = "";
        int64_t created = 0;
        if (docmap_deleted(doc) || !docmap_text(doc, "_id", id, sizeof id))
            continue;
        if (!docmap_text(doc, "_sync.rev", rev, sizeof rev))
            rev[0] = 0;
        if (strcmp(docmap_collections[k], "schedules") != 0)
            docmap_date(doc, "createdAt", &created);
        int64_t key = bucket_key(k, day_of(created));
        if (!out) {
            struct bucket *b = bucket_at(t, key, true);
            if (!b) {
                ok = false;
                snprintf(err, errlen, "out of memory");
                break;
            }
            b->count[1]++;
            b->hash[1] += record_hash(id, rev);
        } else {
            struct bucket *b = bucket_at(t, key, false);
            if (!b || b->count[0] != b->count[1] || b->hash[0] != b->hash[1])
                ok = list_add(out, id, rev);
        }
    }
    if (ok && mongoc_cursor_error(cur, &e)) {
        snprintf(err, errlen, "reading %s for the digests failed: %s", docmap_collections[k],
                 e.message);
        ok = false;
    }
    mongoc_cursor_destroy(cur);
    mongoc_collection_destroy(coll);
    bson_destroy(&q);
    bson_destroy(&opts);
    return ok;
}

/* ---- repairs ------------------------------------------------------------- */

struct journal_job {
    const char *collection;
    char (*ids)[ID_LEN + 8];
    long n;
};

static int journal_job(db_conn_t *c, void *arg)
{
    struct journal_job *j = arg;
    int64_t now_ms = app_now() * 1000;
    for (long i = 0; i < j->n; i++)
        if (!sync_journal_add(c, j->collection, j->ids[i], now_ms))
            return -1;
    return 0;
}

static int by_id(const void *a, const void *b)
{
    return strcmp(((const struct item *)a)->id, ((const struct item *)b)->id);
}

/* Whether a revision was issued by this box (its node id ends it). */
static bool by_box(const char *rev, const char *box_id)
{
    hlc_t t;
    return hlc_parse(rev, &t) && strcmp(t.node, box_id) == 0;
}

/* Central is newer than the box for this record: take it in. */
static bool central_newer(const char *central_rev, const char *box_rev)
{
    hlc_t a, b;
    if (!hlc_parse(central_rev, &a))
        return false;
    return !hlc_parse(box_rev, &b) || hlc_compare(&a, &b) > 0;
}

struct actions {
    char (*pull)[ID_LEN + 8];
    char (*push)[ID_LEN + 8];
    long npull, npush;
};

static bool flush(app_t *app, central_t *central, const char *box_id, int k, struct actions *a,
                  struct digest_stats *ds, struct pull_stats *ps, char *err, size_t errlen)
{
    /* only what changed something counts as drift: a record seen and
     * decided before (one refused, say) is no drift */
    long before = ps->applied + ps->rejected;
    if (a->npull && !sync_pull_records(app, central, box_id, k, a->pull, a->npull, ps, err,
                                       errlen))
        return false;
    struct journal_job j = {docmap_collections[k], a->push, a->npush};
    if (a->npush && db_write(app->db, journal_job, &j) != 0) {
        snprintf(err, errlen, "storage is unavailable");
        return false;
    }
    ds->pulled += ps->applied + ps->rejected - before;
    ds->repushed += a->npush;
    a->npull = a->npush = 0;
    return true;
}

static bool repair(app_t *app, central_t *central, const char *box_id, int k, struct list *mine,
                   struct list *theirs, struct digest_stats *ds, struct pull_stats *ps,
                   char *err, size_t errlen)
{
    struct actions a = {malloc(RECORD_BATCH * sizeof *a.pull),
                        malloc(RECORD_BATCH * sizeof *a.push), 0, 0};
    bool ok = a.pull && a.push;
    /* a side with nothing on the differing days has no array at all
     * (qsort must not be given NULL, even for no items) */
    if (mine->n > 1)
        qsort(mine->v, (size_t)mine->n, sizeof *mine->v, by_id);
    if (theirs->n > 1)
        qsort(theirs->v, (size_t)theirs->n, sizeof *theirs->v, by_id);
    long i = 0, j = 0;
    while (ok && (i < mine->n || j < theirs->n)) {
        int cmp = i == mine->n ? 1 : j == theirs->n ? -1 : strcmp(mine->v[i].id, theirs->v[j].id);
        const char *id = cmp <= 0 ? mine->v[i].id : theirs->v[j].id;
        bool pull = false, push = false;
        /* a record with a local change not pushed yet is on its way, not
         * drift: the push carries it (a record made while the digests were
         * read would otherwise count as drift) */
        db_conn_t *c = db_reader(app->db);
        int pending = c ? sync_journal_has(c, docmap_collections[k], id) : -1;
        /* a doctor's schedule is a record from the doctor's creation on,
         * before any of its rows is journaled: the doctor's change is its */
        if (pending == 0 && strcmp(docmap_collections[k], "schedules") == 0)
            pending = sync_journal_has(c, "doctors", id);
        db_reader_release(app->db, c);
        if (pending < 0) {
            ok = false;
            snprintf(err, errlen, "storage is unavailable");
            break;
        }
        if (pending) {
        } else if (cmp < 0) {
            push = true; /* central lacks it (or holds a tombstone) */
        } else if (cmp > 0) {
            /* only central has it: the box deleted it (push the tombstone) or
             * never saw it */
            if (by_box(theirs->v[j].rev, box_id))
                push = true;
            else
                pull = true;
        } else if (strcmp(mine->v[i].rev, theirs->v[j].rev) != 0) {
            if (!by_box(theirs->v[j].rev, box_id) && central_newer(theirs->v[j].rev, mine->v[i].rev))
                pull = true;
            else
                push = true; /* an older central copy (a restored backup) */
        }
        if (pull)
            snprintf(a.pull[a.npull++], sizeof a.pull[0], "%s", id);
        if (push)
            snprintf(a.push[a.npush++], sizeof a.push[0], "%s", id);
        if (a.npull == RECORD_BATCH || a.npush == RECORD_BATCH)
            ok = flush(app, central, box_id, k, &a, ds, ps, err, errlen);
        if (cmp <= 0)
            i++;
        if (cmp >= 0)
            j++;
    }
    if (ok)
        ok = flush(app, central, box_id, k, &a, ds, ps, err, errlen);
    else if (!a.pull || !a.push)
        snprintf(err, errlen, "out of memory");
    free(a.pull);
    free(a.push);
    return ok;
}

bool sync_reconcile(app_t *app, central_t *central, const char *box_id, struct digest_stats *ds,
                    struct pull_stats *ps, char *err, size_t errlen)
{
    clinic_rec clinic;
    bool ok = true;
    memset(ds, 0, sizeof *ds);
    err[0] = 0;
    app_clinic(app, &clinic);
    for (int k = 0; ok && k < docmap_ncollections; k++) {
        struct table t = {0};
        struct list mine = {0}, theirs = {0};
        ok = box_side(app, k, &t, NULL) &&
             central_side(central, clinic.id, k, &t, NULL, err, errlen);
        long differing = 0;
        for (size_t i = 0; ok && i < t.cap; i++)
            if (t.b[i].key) {
                ds->days_compared++;
                if (t.b[i].count[0] != t.b[i].count[1] || t.b[i].hash[0] != t.b[i].hash[1])
                    differing++;
            }
        ds->days_differing += differing;
        if (ok && differing)
            ok = box_side(app, k, &t, &mine) &&
                 central_side(central, clinic.id, k, &t, &theirs, err, errlen) &&
                 repair(app, central, box_id, k, &mine, &theirs, ds, ps, err, errlen);
        if (!ok && !err[0])
            snprintf(err, errlen, "storage is unavailable");
        free(t.b);
        free(mine.v);
        free(theirs.v);
    }
    if (ok && (ds->pulled || ds->repushed))
        log_warn("sync", "the digests found drift on %ld day(s): %ld record(s) taken from "
                         "central, %ld to push again",
                 ds->days_differing, ds->pulled, ds->repushed);
    return ok;
}
