/*
 * push.c — see push.h. Reads on pooled reader connections, writes (the
 * journal's trimming, the clock) in write jobs; the network round trips
 * happen outside both. Documents are built with libbson's builders
 * (docmap.h).
 */
#include "sync/push.h"

#include <mongoc/mongoc.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "store/store.h"
#include "sync/docmap.h"
#include "sync/hlc.h"
#include "sync/journal.h"
#include "sync/merge.h"

/* ---- pushing ------------------------------------------------------------- */

enum { WAITING, PUSHED, CONFLICT };

struct change {
    int collection; /* index into docmap_collections */
    char id[ID_LEN + 8];
    int64_t at_ms;
    char known[HLC_TEXT_MAX]; /* the central revision the box last saw ("": none) */
    char rev[HLC_TEXT_MAX];   /* the revision pushed */
    int state;
    /* the merged fields pushed (merge.h; NULL for other records and
     * deletes): the record's base once central acknowledged them */
    bson_t *base;
};

/* Keeps what a push says of the record's merged fields: doc is the
 * document inserted or the update (its `$set`). */
static void keep_base(struct change *ch, const bson_t *doc)
{
    bson_iter_t it;
    uint32_t len;
    const uint8_t *data;
    bson_t set;
    if (ch->base)
        bson_destroy(ch->base);
    ch->base = NULL;
    if (bson_iter_init_find(&it, doc, "$set") && BSON_ITER_HOLDS_DOCUMENT(&it)) {
        bson_iter_document(&it, &len, &data);
        if (!bson_init_static(&set, data, len))
            return;
        doc = &set;
    }
    if (!bson_iter_init_find(&it, doc, "deletedAt") || BSON_ITER_HOLDS_NULL(&it))
        ch->base = sync_base_fields(docmap_collections[ch->collection], doc);
}

/* Reads up to max journal rows, newest change per record, each with the
 * revision the box knows. Returns the number of distinct records, -1 on
 * error; *upto = the last seq read. */
static long read_batch(app_t *app, struct change *out, long max, int64_t *upto, hlc_clock *clk)
{
    db_conn_t *c = db_reader(app->db);
    long n = 0;
    char last[HLC_TEXT_MAX];
    hlc_t t;
    if (!c)
        return -1;
    if (store_meta_get_text(c, "sync_hlc", last, sizeof last) == STORE_OK && hlc_parse(last, &t))
        hlc_observe(clk, t, t.wall_ms, 0, NULL); /* never issue a revision below the last */
    sqlite3_stmt *st = db_prepare(c, "SELECT seq, entity, entity_id, at_ms FROM sync_journal "
                                     "ORDER BY seq LIMIT ?1");
    if (!st) {
        db_reader_release(app->db, c);
        return -1;
    }
    sqlite3_bind_int64(st, 1, max);
    *upto = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        int k = docmap_index((const char *)sqlite3_column_text(st, 1));
        const char *id = (const char *)sqlite3_column_text(st, 2);
        int64_t at = sqlite3_column_int64(st, 3);
        *upto = sqlite3_column_int64(st, 0);
        long i = 0;
        while (i < n && !(out[i].collection == k && strcmp(out[i].id, id) == 0))
            i++;
        if (k < 0)
            continue;
        if (i == n) {
            memset(&out[n], 0, sizeof out[n]);
            out[n].collection = k;
            snprintf(out[n].id, sizeof out[n].id, "%s", id);
            out[n].at_ms = at;
            n++;
        } else if (at > out[i].at_ms) {
            out[i].at_ms = at;
        }
    }
    sqlite3_reset(st);
    bool ok = true;
    for (long i = 0; ok && i < n; i++)
        ok = sync_rev_get(c, docmap_collections[out[i].collection], out[i].id, out[i].known,
                          sizeof out[i].known) >= 0;
    db_reader_release(app->db, c);
    return ok ? n : -1;
}

struct trim_job {
    const struct change *ch;
    long n;
    int64_t upto;
    const char *hlc;
};

/* Drops the journal rows of what was pushed (not of conflicts, which are
 * pushed again once the central change is in) and records the revisions. */
static int trim_job(db_conn_t *c, void *arg)
{
    struct trim_job *j = arg;
    for (long i = 0; i < j->n; i++) {
        if (j->ch[i].state != PUSHED)
            continue;
        const char *coll = docmap_collections[j->ch[i].collection];
        sqlite3_stmt *st = db_prepare(c, "DELETE FROM sync_journal WHERE entity = ?1 AND "
                                         "entity_id = ?2 AND seq <= ?3");
        if (!st)
            return -1;
        sqlite3_bind_text(st, 1, coll, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, j->ch[i].id, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, j->upto);
        if (!db_exec_stmt(st))
            return -1;
        if (!sync_rev_set(c, coll, j->ch[i].id, j->ch[i].rev) ||
            !sync_base_set(c, coll, j->ch[i].id, j->ch[i].rev, j->ch[i].base) ||
            !sync_field_times_pushed(c, coll, j->ch[i].id))
            return -1;
    }
    return store_meta_set_text(c, "sync_hlc", j->hlc) == STORE_OK ? 0 : -1;
}

/* A batch central did not acknowledge may have reached it all the same (a
 * lost reply): what it said of merged fields is kept beside each record's
 * base, so that a central document carrying it is not taken for a central
 * edit of those fields (merge.h). */
static int unconfirmed_job(db_conn_t *c, void *arg)
{
    struct trim_job *j = arg;
    for (long i = 0; i < j->n; i++)
        if (j->ch[i].base && j->ch[i].state != CONFLICT &&
            !sync_base_sent(c, docmap_collections[j->ch[i].collection], j->ch[i].id,
                            j->ch[i].base))
            return -1;
    return 0;
}

/* The update of one record: `$set` of its fields, only over the central
 * revision the box saw, or over what this box wrote itself. A record gone
 * from the box (a deleted patient or doctor, and its schedule) becomes a
 * tombstone: `deletedAt` set, its last fields kept. */
static int build_update(db_conn_t *c, const struct change *ch, const char *clinic_id,
                        const char *box_id, bson_t *sel, bson_t *upd)
{
    const char *coll = docmap_collections[ch->collection];
    bson_t set, sync, or, alt;
    BSON_APPEND_UTF8(sel, "_id", ch->id);
    BSON_APPEND_ARRAY_BEGIN(sel, "$or", &or);
    /* over what this box wrote, if not newer: a stale push (a retried
     * write arriving late) cannot overwrite a later one. The text form of
     * a revision sorts like the revisions of one node. */
    bson_t lte;
    BSON_APPEND_DOCUMENT_BEGIN(&or, "0", &alt);
    BSON_APPEND_UTF8(&alt, "_sync.box", box_id);
    BSON_APPEND_DOCUMENT_BEGIN(&alt, "_sync.rev", &lte);
    BSON_APPEND_UTF8(&lte, "$lte", ch->rev);
    bson_append_document_end(&alt, &lte);
    bson_append_document_end(&or, &alt);
    if (ch->known[0]) {
        BSON_APPEND_DOCUMENT_BEGIN(&or, "1", &alt);
        BSON_APPEND_UTF8(&alt, "_sync.rev", ch->known);
        bson_append_document_end(&or, &alt);
    }
    bson_append_array_end(sel, &or);
    BSON_APPEND_DOCUMENT_BEGIN(upd, "$set", &set);
    BSON_APPEND_UTF8(&set, "clinicId", clinic_id);
    int rc = docmap_set_fields(c, coll, ch->id, &set);
    if (rc == STORE_NOT_FOUND) {
        if (strcmp(coll, "patients") != 0 && strcmp(coll, "doctors") != 0 &&
            strcmp(coll, "schedules") != 0) {
            bson_append_document_end(upd, &set);
            return rc; /* the box never deletes the others */
        }
        BSON_APPEND_DATE_TIME(&set, "deletedAt", ch->at_ms);
    } else if (rc != STORE_OK) {
        bson_append_document_end(upd, &set);
        return rc;
    }
    BSON_APPEND_DOCUMENT_BEGIN(&set, "_sync", &sync);
    BSON_APPEND_UTF8(&sync, "rev", ch->rev);
    BSON_APPEND_UTF8(&sync, "box", box_id);
    BSON_APPEND_DATE_TIME(&sync, "pushedAt", app_now() * 1000);
    bson_append_document_end(&set, &sync);
    bson_append_document_end(upd, &set);
    return STORE_OK;
}

/* After a bulk that failed: marks the records whose update hit a newer
 * central document (duplicate key: the guarded upsert found the _id taken)
 * as conflicts. true only when every error was such a conflict; false when
 * anything else failed, and also when the reply names no write error at all
 * (a connection reset or a lost reply: what the server did is unknown, so
 * nothing of the batch counts as pushed). */
static bool sort_errors(const bson_t *reply, struct change *ch, const long *op_change,
                        long nops, char *why, size_t whylen)
{
    bson_iter_t it, arr;
    bool other = false;
    long conflicts = 0;
    if (bson_iter_init_find(&it, reply, "writeConcernErrors") && BSON_ITER_HOLDS_ARRAY(&it) &&
        bson_iter_recurse(&it, &arr) && bson_iter_next(&arr))
        other = true;
    if (!bson_iter_init_find(&it, reply, "writeErrors") || !BSON_ITER_HOLDS_ARRAY(&it) ||
        !bson_iter_recurse(&it, &arr))
        return false;
    while (bson_iter_next(&arr)) {
        bson_iter_t f;
        uint32_t len;
        const uint8_t *data;
        bson_t item;
        if (!BSON_ITER_HOLDS_DOCUMENT(&arr))
            continue;
        bson_iter_document(&arr, &len, &data);
        if (!bson_init_static(&item, data, len))
            continue;
        int64_t index = bson_iter_init_find(&f, &item, "index") ? bson_iter_as_int64(&f) : -1;
        int64_t code = bson_iter_init_find(&f, &item, "code") ? bson_iter_as_int64(&f) : 0;
        if (code == 11000 && index >= 0 && index < nops) {
            ch[op_change[index]].state = CONFLICT;
            conflicts++;
        } else {
            other = true;
            if (bson_iter_init_find(&f, &item, "errmsg") && BSON_ITER_HOLDS_UTF8(&f))
                snprintf(why, whylen, "%s", bson_iter_utf8(&f, NULL));
        }
    }
    return conflicts > 0 && !other;
}

/* A bulk write to one collection, unordered (the server may apply the
 * operations in any order), with majority write concern. */
static mongoc_bulk_operation_t *new_bulk(mongoc_collection_t *coll)
{
    bson_t opts = BSON_INITIALIZER;
    mongoc_write_concern_t *wc = mongoc_write_concern_new();
    mongoc_write_concern_set_wmajority(wc, 0);
    BSON_APPEND_BOOL(&opts, "ordered", false);
    mongoc_write_concern_append(wc, &opts);
    mongoc_bulk_operation_t *bulk = mongoc_collection_create_bulk_operation_with_opts(coll, &opts);
    mongoc_write_concern_destroy(wc);
    bson_destroy(&opts);
    return bulk;
}

/* The whole document of a record central has never had (no revision
 * known), for an insert. STORE_NOT_FOUND for a record gone from the box. */
static int build_insert(db_conn_t *c, const struct change *ch, const char *clinic_id,
                        const char *box_id, bson_t *doc)
{
    bson_t sync;
    BSON_APPEND_UTF8(doc, "_id", ch->id);
    BSON_APPEND_UTF8(doc, "clinicId", clinic_id);
    int rc = docmap_set_fields(c, docmap_collections[ch->collection], ch->id, doc);
    if (rc != STORE_OK)
        return rc;
    BSON_APPEND_DOCUMENT_BEGIN(doc, "_sync", &sync);
    BSON_APPEND_UTF8(&sync, "rev", ch->rev);
    BSON_APPEND_UTF8(&sync, "box", box_id);
    BSON_APPEND_DATE_TIME(&sync, "pushedAt", app_now() * 1000);
    bson_append_document_end(doc, &sync);
    return STORE_OK;
}

/* The guarded updates of op_change[0..nops), one command each: a duplicate
 * key marks that record a conflict; any other failure fails them all (what
 * went through goes again, harmlessly: the guard lets the box overwrite
 * its own revision). */
static bool push_one_by_one(db_conn_t *c, mongoc_collection_t *coll, struct change *ch,
                            const long *op_change, long nops, const char *clinic_id,
                            const char *box_id, bson_error_t *e)
{
    bool ok = true;
    for (long i = 0; ok && i < nops; i++) {
        struct change *one = &ch[op_change[i]];
        bson_t sel = BSON_INITIALIZER, upd = BSON_INITIALIZER, opts = BSON_INITIALIZER;
        bson_t reply;
        mongoc_write_concern_t *wc = mongoc_write_concern_new();
        mongoc_write_concern_set_wmajority(wc, 0);
        mongoc_write_concern_append(wc, &opts);
        mongoc_write_concern_destroy(wc);
        BSON_APPEND_BOOL(&opts, "upsert", true);
        int rc = build_update(c, one, clinic_id, box_id, &sel, &upd);
        if (rc == STORE_OK) {
            keep_base(one, &upd); /* built again: what this command says */
            if (mongoc_collection_update_one(coll, &sel, &upd, &opts, &reply, e))
                one->state = PUSHED;
            else if (e->domain == MONGOC_ERROR_SERVER && e->code == 11000)
                one->state = CONFLICT;
            else
                ok = false;
            bson_destroy(&reply);
        } else if (rc == STORE_NOT_FOUND) {
            one->state = PUSHED; /* gone meanwhile: nothing to say */
        } else {
            ok = false;
            snprintf(e->message, sizeof e->message, "storage is unavailable");
        }
        bson_destroy(&sel);
        bson_destroy(&upd);
        bson_destroy(&opts);
    }
    return ok;
}

/* Pushes the batch's records of collection k. Records central has never
 * had go first as one insert (a bulk of inserts costs a server that copies
 * on write, like jongodb, one write instead of one per record); if any is
 * there after all (a retried batch), they all go again as guarded updates,
 * which is what every other record gets. */
static bool push_collection(db_conn_t *c, central_t *central, int k, struct change *ch, long n,
                            long *op_change, const char *clinic_id, const char *box_id,
                            hlc_clock *clk, char *last_rev, char *err, size_t errlen)
{
    bson_error_t e = {0};
    bson_t reply;
    bool ok = true, inserted = false;
    long nins = 0, nops = 0;
    mongoc_collection_t *coll = central_collection(central, docmap_collections[k]);

    mongoc_bulk_operation_t *ins = new_bulk(coll);
    for (long i = 0; ok && i < n; i++) {
        if (ch[i].collection != k)
            continue;
        hlc_t t = hlc_tick(clk, ch[i].at_ms);
        hlc_format(&t, ch[i].rev);
        snprintf(last_rev, HLC_TEXT_MAX, "%s", ch[i].rev);
        ch[i].state = WAITING;
        if (ch[i].known[0])
            continue;
        bson_t doc = BSON_INITIALIZER;
        int rc = build_insert(c, &ch[i], clinic_id, box_id, &doc);
        if (rc == STORE_OK) {
            keep_base(&ch[i], &doc);
            ok = mongoc_bulk_operation_insert_with_opts(ins, &doc, NULL, &e);
            ch[i].state = PUSHED; /* provisionally: see below */
            nins++;
        } else if (rc != STORE_NOT_FOUND) {
            ok = false;
            snprintf(e.message, sizeof e.message, "storage is unavailable");
        }
        bson_destroy(&doc);
    }
    if (ok && nins > 0) {
        inserted = mongoc_bulk_operation_execute(ins, &reply, &e);
        bson_destroy(&reply);
    }
    mongoc_bulk_operation_destroy(ins);

    mongoc_bulk_operation_t *bulk = new_bulk(coll);
    for (long i = 0; ok && i < n; i++) {
        if (ch[i].collection != k || (ch[i].state == PUSHED && inserted))
            continue;
        bson_t sel = BSON_INITIALIZER, upd = BSON_INITIALIZER, uopts = BSON_INITIALIZER;
        int rc = build_update(c, &ch[i], clinic_id, box_id, &sel, &upd);
        BSON_APPEND_BOOL(&uopts, "upsert", true);
        if (rc == STORE_OK) {
            keep_base(&ch[i], &upd);
            ok = mongoc_bulk_operation_update_one_with_opts(bulk, &sel, &upd, &uopts, &e);
            op_change[nops++] = i;
            ch[i].state = PUSHED;
        } else if (rc == STORE_NOT_FOUND) {
            ch[i].state = PUSHED; /* nothing to say */
        } else {
            ok = false;
            snprintf(e.message, sizeof e.message, "storage is unavailable");
        }
        bson_destroy(&sel);
        bson_destroy(&upd);
        bson_destroy(&uopts);
    }
    if (ok && nops > 0) {
        char why[256] = "";
        if (!mongoc_bulk_operation_execute(bulk, &reply, &e) &&
            !sort_errors(&reply, ch, op_change, nops, why, sizeof why)) {
            if (e.domain == MONGOC_ERROR_SERVER && e.code == 11000 && !why[0]) {
                /* a duplicate key the server named for the whole command,
                 * not per update (jongodb does so): which of them met a
                 * newer central document is unknown, so each goes alone */
                ok = push_one_by_one(c, coll, ch, op_change, nops, clinic_id, box_id, &e);
            } else {
                ok = false;
                if (why[0])
                    snprintf(e.message, sizeof e.message, "%s", why);
            }
        }
        bson_destroy(&reply);
    }
    if (!ok)
        snprintf(err, errlen, "push to %s failed: %s", docmap_collections[k], e.message);
    mongoc_bulk_operation_destroy(bulk);
    mongoc_collection_destroy(coll);
    return ok;
}

/* One batch: returns records pushed (0 when the journal is empty), -1. */
static long push_batch(app_t *app, central_t *central, const char *box_id, long batch,
                       hlc_clock *clk, struct push_conflicts *conflicts, char *err,
                       size_t errlen)
{
    struct change *ch = calloc((size_t)batch, sizeof *ch);
    long *op_change = calloc((size_t)batch, sizeof *op_change);
    int64_t upto = 0;
    long n, pushed = 0;
    clinic_rec clinic;
    char last_rev[HLC_TEXT_MAX] = "";
    bool ok = true;
    if (!ch || !op_change) {
        free(ch);
        free(op_change);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    n = read_batch(app, ch, batch, &upto, clk);
    if (n <= 0) {
        free(ch);
        free(op_change);
        if (n < 0)
            snprintf(err, errlen, "storage is unavailable");
        return n;
    }
    app_clinic(app, &clinic);
    db_conn_t *c = db_reader(app->db);
    if (!c) {
        free(ch);
        free(op_change);
        snprintf(err, errlen, "storage is unavailable");
        return -1;
    }
    for (int k = 0; ok && k < docmap_ncollections; k++)
        ok = push_collection(c, central, k, ch, n, op_change, clinic.id, box_id, clk, last_rev,
                             err, errlen);
    db_reader_release(app->db, c);
    free(op_change);
    if (!ok) {
        struct trim_job tj = {ch, n, upto, last_rev};
        (void)db_write(app->db, unconfirmed_job, &tj); /* at worst, a merge is less exact */
    }
    if (ok) {
        struct trim_job tj = {ch, n, upto, last_rev};
        if (db_write(app->db, trim_job, &tj) != 0) {
            snprintf(err, errlen, "storage is unavailable (the batch will be pushed again)");
            ok = false;
        }
    }
    for (long i = 0; ok && i < n; i++) {
        if (ch[i].state == PUSHED)
            pushed++;
        else if (ch[i].state == CONFLICT && conflicts->n < PUSH_MAX_CONFLICTS) {
            conflicts->item[conflicts->n].collection = ch[i].collection;
            snprintf(conflicts->item[conflicts->n].id, sizeof conflicts->item[0].id, "%s",
                     ch[i].id);
            conflicts->n++;
        }
    }
    for (long i = 0; i < n; i++)
        if (ch[i].base)
            bson_destroy(ch[i].base);
    free(ch);
    return ok ? pushed : -1;
}

long sync_push(app_t *app, central_t *central, const char *box_id, struct sync_ctl *ctl,
               struct push_conflicts *conflicts, char *err, size_t errlen)
{
    hlc_clock clk;
    long total = 0, n;
    hlc_init(&clk, box_id);
    conflicts->n = 0;
    for (;;) {
        if (sync_ctl_stop(ctl)) {
            snprintf(err, errlen, "stopped");
            return -1;
        }
        long batch = ctl->push_batch;
        n = push_batch(app, central, box_id, batch, &clk, conflicts, err, errlen);
        if (n < 0) {
            ctl->push_batch = batch / 2 < SYNC_BATCH_MIN ? SYNC_BATCH_MIN : batch / 2;
            return -1;
        }
        if (n == 0)
            break;
        ctl->push_batch = batch * 2 > SYNC_BATCH_MAX ? SYNC_BATCH_MAX : batch * 2;
        total += n;
        sync_ctl_progress(ctl, n, 0);
        if (conflicts->n)
            break; /* the round takes the central changes in, then pushes again */
    }
    return total;
}
