/*
 * pull.c — see pull.h. The network round trips happen outside any write
 * job; each batch is one write job (sync_apply). Memory is bounded by the
 * batch: at most `batch` change entries and their documents at a time.
 *
 * Gaps are kept in the meta row sync_pull_gaps as "seq:first_seen_ms,..."
 * (a handful at most in practice).
 */
#include "sync/pull.h"

#include <mongoc/mongoc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "core/monotime.h"
#include "store/store.h"
#include "sync/docmap.h"
#include "sync/hlc.h"
#include "sync/journal.h"

#define MAX_GAPS 256

/* A catch-up shares the box's single writer with the clinic's requests.
 * When other write jobs ran during a batch (someone is booking), the next
 * batch waits CATCHUP_YIELD times as long as this one's apply took (at most
 * CATCHUP_YIELD_MAX_MS): the catch-up then takes about a quarter of the
 * writer and the clinic keeps most of its speed. With nobody else writing
 * it goes on at once. */
#define CATCHUP_YIELD 3
#define CATCHUP_YIELD_MAX_MS 2000

struct gap {
    int64_t seq, since_ms;
};

static long parse_gaps(const char *text, struct gap *out, long max)
{
    long n = 0;
    const char *p = text;
    while (*p && n < max) {
        char *end;
        long long s = strtoll(p, &end, 10);
        if (*end != ':')
            break;
        long long t = strtoll(end + 1, &end, 10);
        out[n].seq = s;
        out[n].since_ms = t;
        n++;
        p = *end == ',' ? end + 1 : end;
    }
    return n;
}

struct mark_read {
    int64_t cp, max_seen, pulled_at_ms;
};

static bool meta_int(db_conn_t *c, const char *key, int64_t *out)
{
    int rc = store_meta_get_int(c, key, out);
    if (rc == STORE_NOT_FOUND)
        *out = 0;
    return rc == STORE_OK || rc == STORE_NOT_FOUND;
}

static bool read_mark(app_t *app, struct mark_read *m, char *gaps, size_t len)
{
    db_conn_t *c = db_reader(app->db);
    if (!c)
        return false;
    bool ok = meta_int(c, "sync_pull_checkpoint", &m->cp) &&
              meta_int(c, "sync_pull_max_seen", &m->max_seen) &&
              meta_int(c, "sync_pull_at_ms", &m->pulled_at_ms);
    int b = store_meta_get_text(c, "sync_pull_gaps", gaps, len);
    db_reader_release(app->db, c);
    if (b == STORE_NOT_FOUND)
        gaps[0] = 0;
    return ok && (b == STORE_OK || b == STORE_NOT_FOUND);
}

struct entry {
    int64_t seq;
    int collection;
    char id[ID_LEN + 8];
    int64_t at_ms; /* when the central writer wrote it, by its clock */
    bson_t *doc;   /* the document as written, when the entry carries it */
};

static int by_seq(const void *a, const void *b)
{
    const struct entry *x = a, *y = b;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* The current documents of the records entries[0..n) name, each once, in
 * no particular order (assemble() puts them in the log's order). Returns
 * how many, -1 on error. */
/* The documents of entries[0..n) as they are centrally, into out[0..cap).
 * Returns how many, or -1 (err says why); more than asked for is an error,
 * never a write past out's end. */
static long fetch_docs(central_t *central, const char *clinic_id, struct entry *entries, long n,
                       struct central_doc *out, long cap, char *err, size_t errlen)
{
    long m = 0;
    bson_error_t e;
    for (int k = 0; k < docmap_ncollections; k++) {
        bson_t q = BSON_INITIALIZER, in, arr;
        char key[16];
        int count = 0;
        BSON_APPEND_UTF8(&q, "clinicId", clinic_id);
        BSON_APPEND_DOCUMENT_BEGIN(&q, "_id", &in);
        BSON_APPEND_ARRAY_BEGIN(&in, "$in", &arr);
        for (long i = 0; i < n; i++)
            if (entries[i].collection == k) {
                snprintf(key, sizeof key, "%d", count++);
                BSON_APPEND_UTF8(&arr, key, entries[i].id);
            }
        bson_append_array_end(&in, &arr);
        bson_append_document_end(&q, &in);
        if (count == 0) {
            bson_destroy(&q);
            continue;
        }
        mongoc_collection_t *coll = central_collection(central, docmap_collections[k]);
        mongoc_cursor_t *cur = mongoc_collection_find_with_opts(coll, &q, NULL, NULL);
        const bson_t *doc;
        int got = 0;
        bool too_many = false;
        while (mongoc_cursor_next(cur, &doc)) {
            /* One document per id asked for: a central answering more is
             * broken (or hostile), and must not write past out[]. */
            if (got >= count || m >= cap) {
                too_many = true;
                break;
            }
            out[m].collection = k;
            out[m].doc = bson_copy(doc);
            out[m].current = true;
            m++;
            got++;
        }
        bool failed = !too_many && mongoc_cursor_error(cur, &e);
        if (too_many) {
            failed = true;
            snprintf(e.message, sizeof e.message, "central returned more documents than asked for");
        }
        mongoc_cursor_destroy(cur);
        mongoc_collection_destroy(coll);
        bson_destroy(&q);
        if (failed) {
            snprintf(err, errlen, "pull of %s failed: %s", docmap_collections[k], e.message);
            for (long i = 0; i < m; i++)
                bson_destroy(out[i].doc);
            return -1;
        }
    }
    return m;
}

static void add_stats(struct pull_stats *st, const struct apply_result *r)
{
    st->applied += r->applied;
    st->skipped += r->skipped;
    st->rejected += r->rejected;
    st->conflicts += r->conflicts;
    st->clamped |= r->clamped;
}

/* Upserts one outcome document into coll; false (logged) when it failed. */
static bool upsert_outcome(mongoc_collection_t *coll, const char *clinic_id, const char *box_id,
                           const struct rejection *x, bool with_kind, bool removed)
{
    const char *name = x->collection >= 0 ? docmap_collections[x->collection] : "changes";
    bson_t sel = BSON_INITIALIZER, upd = BSON_INITIALIZER, set, opts = BSON_INITIALIZER;
    char id[420];
    if (with_kind)
        snprintf(id, sizeof id, "%s:%s:%s:%s", name, x->id, x->rev, x->kind);
    else
        snprintf(id, sizeof id, "%s:%s:%s", name, x->id, x->rev);
    BSON_APPEND_UTF8(&sel, "_id", id);
    BSON_APPEND_DOCUMENT_BEGIN(&upd, "$set", &set);
    BSON_APPEND_UTF8(&set, "clinicId", clinic_id);
    BSON_APPEND_UTF8(&set, "collection", name);
    BSON_APPEND_UTF8(&set, "docId", x->id);
    BSON_APPEND_UTF8(&set, "rev", x->rev);
    if (with_kind)
        BSON_APPEND_UTF8(&set, "outcome", x->kind);
    bool again = strcmp(x->why, "refused before") == 0; /* said already */
    if (!again)
        BSON_APPEND_UTF8(&set, "reason", x->why);
    BSON_APPEND_UTF8(&set, "box", box_id);
    if (!again || removed)
        BSON_APPEND_BOOL(&set, "removed", removed);
    if (x->removed_doc && !with_kind)
        BSON_APPEND_DOCUMENT(&set, "doc", x->removed_doc);
    BSON_APPEND_DATE_TIME(&set, "at", app_now() * 1000);
    bson_append_document_end(&upd, &set);
    BSON_APPEND_BOOL(&opts, "upsert", true);
    bson_error_t e;
    bool ok = mongoc_collection_update_one(coll, &sel, &upd, &opts, NULL, &e);
    if (!ok)
        log_warn("sync", "could not write the outcome of a central change to central: %s",
                 e.message);
    bson_destroy(&sel);
    bson_destroy(&upd);
    bson_destroy(&opts);
    return ok;
}

/* Writes what the box decided about central writes to central, so that a
 * central tool can show a writer what became of its write: every outcome
 * in `outcomes`, the refused ones (refused, stale) also in `rejections`.
 * Best effort (the box's event log has them too). A refused new record is
 * then removed from its collection, if it is still at the refused
 * revision: kept in the rejection first, never lost. */
static void report_outcomes(central_t *central, const char *clinic_id, const char *box_id,
                              const struct apply_result *r)
{
    if (!r->nrejections)
        return;
    mongoc_collection_t *rej = central_collection(central, "rejections");
    mongoc_collection_t *out = central_collection(central, "outcomes");
    for (long i = 0; i < r->nrejections; i++) {
        const struct rejection *x = &r->rejections[i];
        const char *name = x->collection >= 0 ? docmap_collections[x->collection] : "changes";
        bool refusal = strcmp(x->kind, "refused") == 0 || strcmp(x->kind, "stale") == 0;
        /* the rejection (with the document) first, then the removal, then
         * what the removal did */
        bool removed = false;
        if (refusal && upsert_outcome(rej, clinic_id, box_id, x, false, false) &&
            x->removed_doc) {
            bson_t del = BSON_INITIALIZER, reply;
            bson_iter_t it;
            bson_error_t e;
            mongoc_collection_t *records = central_collection(central, name);
            BSON_APPEND_UTF8(&del, "_id", x->id);
            BSON_APPEND_UTF8(&del, "clinicId", clinic_id);
            BSON_APPEND_UTF8(&del, "_sync.rev", x->rev);
            if (mongoc_collection_delete_one(records, &del, NULL, &reply, &e))
                removed = bson_iter_init_find(&it, &reply, "deletedCount") &&
                          BSON_ITER_HOLDS_NUMBER(&it) && bson_iter_as_int64(&it) > 0;
            else
                log_warn("sync", "could not remove the refused %s %s centrally: %s", name, x->id,
                         e.message);
            bson_destroy(&reply);
            mongoc_collection_destroy(records);
            bson_destroy(&del);
            if (removed)
                upsert_outcome(rej, clinic_id, box_id, x, false, true);
        }
        upsert_outcome(out, clinic_id, box_id, x, true, removed);
    }
    mongoc_collection_destroy(rej);
    mongoc_collection_destroy(out);
}

static int pulled_at_job(db_conn_t *c, void *arg)
{
    return store_meta_set_int(c, "sync_pull_at_ms", *(int64_t *)arg) == STORE_OK ? 0 : -1;
}

static void free_entries(struct entry *entries, long n)
{
    for (long i = 0; entries && i < n; i++)
        if (entries[i].doc)
            bson_destroy(entries[i].doc);
    free(entries);
}

/* One change entry, numbered seq, into x. */
static void parse_entry(const bson_t *doc, int64_t seq, struct entry *x)
{
    bson_iter_t it;
    char name[32];
    int k = docmap_text(doc, "collection", name, sizeof name) ? docmap_index(name) : -1;
    memset(x, 0, sizeof *x);
    x->seq = seq;
    x->collection = k;
    x->at_ms = bson_iter_init_find(&it, doc, "at") && BSON_ITER_HOLDS_DATE_TIME(&it)
                   ? bson_iter_date_time(&it)
                   : 0;
    if (k < 0 || !docmap_text(doc, "docId", x->id, sizeof x->id)) {
        log_warn("sync", "change %lld in the central log names no known record; passed",
                 (long long)seq);
        x->collection = -1;
    } else if (bson_iter_init_find(&it, doc, "doc") && BSON_ITER_HOLDS_DOCUMENT(&it)) {
        uint32_t len;
        const uint8_t *data;
        bson_iter_document(&it, &len, &data);
        x->doc = bson_new_from_data(data, len);
    }
}

/* Reads change entries above cp: with range, those numbered (cp, cp + max]
 * (unsorted: no server sort needed); else the next max in order. Returns
 * how many, -1 with e set. */
static long read_entries(central_t *central, const char *clinic_id, int64_t cp, long max,
                         bool range, struct entry *out, bson_error_t *e)
{
    bson_t q = BSON_INITIALIZER, gt, opts = BSON_INITIALIZER, sort;
    BSON_APPEND_UTF8(&q, "clinicId", clinic_id);
    BSON_APPEND_DOCUMENT_BEGIN(&q, "seq", &gt);
    BSON_APPEND_INT64(&gt, "$gt", cp);
    if (range)
        BSON_APPEND_INT64(&gt, "$lte", cp + max);
    bson_append_document_end(&q, &gt);
    if (!range) {
        BSON_APPEND_DOCUMENT_BEGIN(&opts, "sort", &sort);
        BSON_APPEND_INT32(&sort, "seq", 1);
        bson_append_document_end(&opts, &sort);
    }
    BSON_APPEND_INT64(&opts, "limit", max);
    mongoc_collection_t *coll = central_collection(central, "changes");
    mongoc_cursor_t *cur = mongoc_collection_find_with_opts(coll, &q, &opts, NULL);
    const bson_t *doc;
    long n = 0;
    while (n < max && mongoc_cursor_next(cur, &doc)) {
        bson_iter_t it;
        int64_t seq = bson_iter_init_find(&it, doc, "seq") && BSON_ITER_HOLDS_NUMBER(&it)
                          ? bson_iter_as_int64(&it)
                          : 0;
        if (seq <= cp)
            continue;
        parse_entry(doc, seq, &out[n++]);
    }
    bool failed = mongoc_cursor_error(cur, e);
    mongoc_cursor_destroy(cur);
    mongoc_collection_destroy(coll);
    bson_destroy(&q);
    bson_destroy(&opts);
    return failed ? -1 : n;
}

/* The documents to apply for entries[0..n) (sorted by seq), one per record,
 * at its first change: the snapshot of its last entry when the entries
 * carry them, else the document as it is now (fetched). Returns how many,
 * -1. */
static long assemble(central_t *central, const char *clinic_id, struct entry *entries, long n,
                     struct central_doc *out, char *err, size_t errlen)
{
    long m = 0, nfetch = 0, nfetched = 0;
    long *last = calloc((size_t)n + 1, sizeof *last); /* per first entry: its record's last */
    struct entry *want = calloc((size_t)n + 1, sizeof *want);
    struct central_doc *fetched = calloc((size_t)n + 1, sizeof *fetched);
    if (!last || !want || !fetched) {
        snprintf(err, errlen, "out of memory");
        m = -1;
        goto out;
    }
    for (long i = 0; i < n; i++) {
        last[i] = -1;
        if (entries[i].collection < 0)
            continue;
        long k = 0;
        while (k < i && !(entries[k].collection == entries[i].collection &&
                          strcmp(entries[k].id, entries[i].id) == 0))
            k++;
        if (k < i) {
            last[k] = i; /* a later change of a record seen before */
            continue;
        }
        last[i] = i;
    }
    for (long i = 0; i < n; i++)
        if (last[i] >= 0 && !entries[last[i]].doc) {
            want[nfetch] = entries[i];
            want[nfetch].doc = NULL;
            nfetch++;
        }
    if (nfetch) {
        nfetched = fetch_docs(central, clinic_id, want, nfetch, fetched, n + 1, err, errlen);
        if (nfetched < 0) {
            nfetched = 0;
            m = -1;
            goto out;
        }
    }
    for (long i = 0; i < n; i++) {
        if (last[i] < 0)
            continue;
        if (entries[last[i]].doc) {
            out[m].collection = entries[i].collection;
            out[m].seq = entries[last[i]].seq;
            out[m++].doc = bson_copy(entries[last[i]].doc);
            continue;
        }
        for (long f = 0; f < nfetched; f++) { /* gone centrally: nothing to apply */
            char id[ID_LEN + 8];
            if (fetched[f].doc && fetched[f].collection == entries[i].collection &&
                docmap_text(fetched[f].doc, "_id", id, sizeof id) &&
                strcmp(id, entries[i].id) == 0) {
                out[m] = fetched[f];
                out[m++].seq = entries[last[i]].seq;
                fetched[f].doc = NULL;
                break;
            }
        }
    }
out:
    for (long f = 0; fetched && f < nfetched; f++)
        if (fetched[f].doc)
            bson_destroy(fetched[f].doc);
    free(last);
    free(want);
    free(fetched);
    return m;
}

/* The clinic's last change number taken (its counter), -1 when unknown. */
static int64_t counter_top(central_t *central, const char *clinic_id)
{
    bson_t q = BSON_INITIALIZER;
    const bson_t *doc;
    bson_iter_t it;
    int64_t top = -1;
    BSON_APPEND_UTF8(&q, "_id", clinic_id);
    mongoc_collection_t *coll = central_collection(central, "counters");
    mongoc_cursor_t *cur = mongoc_collection_find_with_opts(coll, &q, NULL, NULL);
    if (mongoc_cursor_next(cur, &doc) && bson_iter_init_find(&it, doc, "seq") &&
        BSON_ITER_HOLDS_NUMBER(&it))
        top = bson_iter_as_int64(&it);
    mongoc_cursor_destroy(cur);
    mongoc_collection_destroy(coll);
    bson_destroy(&q);
    return top;
}

/* Numbers the query by clinicId and seq did not return may still be in the
 * log under their _id ("<clinicId>:<seq>") in a shape that query cannot
 * find: no clinicId, another clinic's, a seq that is not a number. Waiting
 * a minute for them would hold every later change back for nothing. Such
 * an entry is refused (refused[], for the event log and `rejections`) and
 * the record it names is fetched as it is now; one found well-formed (it
 * appeared between the two queries) is taken as it is. Appends to
 * entries[*n..cap). */
static void look_up_missing(central_t *central, const char *clinic_id, const int64_t *missing,
                            long nmissing, struct entry *entries, long *n, long cap,
                            struct rejection *refused, long *nrefused)
{
    bson_t q = BSON_INITIALIZER, in, arr;
    char key[24], id[96];
    BSON_APPEND_DOCUMENT_BEGIN(&q, "_id", &in);
    BSON_APPEND_ARRAY_BEGIN(&in, "$in", &arr);
    for (long i = 0; i < nmissing; i++) {
        snprintf(key, sizeof key, "%ld", i);
        snprintf(id, sizeof id, "%s:%lld", clinic_id, (long long)missing[i]);
        BSON_APPEND_UTF8(&arr, key, id);
    }
    bson_append_array_end(&in, &arr);
    bson_append_document_end(&q, &in);
    mongoc_collection_t *coll = central_collection(central, "changes");
    mongoc_cursor_t *cur = mongoc_collection_find_with_opts(coll, &q, NULL, NULL);
    const bson_t *doc;
    while (*n < cap && *nrefused < MAX_GAPS && mongoc_cursor_next(cur, &doc)) {
        bson_iter_t it;
        char clinic[96] = "", *colon;
        if (!docmap_text(doc, "_id", id, sizeof id) || !(colon = strrchr(id, ':')))
            continue;
        int64_t seq = strtoll(colon + 1, NULL, 10);
        bool has_clinic = docmap_text(doc, "clinicId", clinic, sizeof clinic) && clinic[0];
        bool seq_ok = bson_iter_init_find(&it, doc, "seq") && BSON_ITER_HOLDS_NUMBER(&it) &&
                      bson_iter_as_int64(&it) == seq;
        struct entry *x = &entries[(*n)++];
        parse_entry(doc, seq, x);
        if (has_clinic && strcmp(clinic, clinic_id) == 0 && seq_ok)
            continue; /* well-formed after all */
        struct rejection *r = &refused[(*nrefused)++];
        memset(r, 0, sizeof *r);
        r->collection = -1;
        snprintf(r->id, sizeof r->id, "%s", id);
        if (!docmap_text(doc, "rev", r->rev, sizeof r->rev))
            r->rev[0] = 0;
        snprintf(r->why, sizeof r->why,
                 "the change entry %s has %s (docs/sync.md: {_id, clinicId, seq, collection, "
                 "docId, rev, by, at, doc}); %s",
                 id,
                 !has_clinic ? "no clinicId"
                 : strcmp(clinic, clinic_id) != 0 ? "another clinic's clinicId"
                                                  : "a seq that is not the number in its _id",
                 x->collection >= 0 ? "the record it names is fetched as it is now"
                                    : "it names no record");
        if (x->doc) { /* its snapshot is not trusted: the record as it is now */
            bson_destroy(x->doc);
            x->doc = NULL;
        }
    }
    mongoc_cursor_destroy(cur);
    mongoc_collection_destroy(coll);
    bson_destroy(&q);
}

/* A change entry's snapshot older than the revision the box has for its
 * record is history the box has passed (it took a later version out of the
 * log's order: a push conflict, the digests), or a stale write (apply.h).
 * Only the document as central has it now can tell: those are fetched and
 * replace the snapshots. */
static bool recheck_older(app_t *app, central_t *central, const char *clinic_id,
                          const char *box_id, struct central_doc *docs, long m, char *err,
                          size_t errlen)
{
    struct entry *want = calloc((size_t)m + 1, sizeof *want);
    long *at = calloc((size_t)m + 1, sizeof *at), nwant = 0;
    struct central_doc *fetched = calloc((size_t)m + 1, sizeof *fetched);
    db_conn_t *c = db_reader(app->db);
    bool ok = want && at && fetched && c;
    for (long i = 0; ok && i < m; i++) {
        char rev_text[96], known_text[96];
        hlc_t rev, known;
        struct entry *w = &want[nwant];
        if (docs[i].current || !docmap_text(docs[i].doc, "_id", w->id, sizeof w->id) ||
            !docmap_text(docs[i].doc, "_sync.rev", rev_text, sizeof rev_text) ||
            !hlc_parse(rev_text, &rev) || strcmp(rev.node, box_id) == 0)
            continue;
        int got = sync_rev_get(c, docmap_collections[docs[i].collection], w->id, known_text,
                               sizeof known_text);
        ok = got >= 0;
        if (got == 1 && hlc_parse(known_text, &known) && hlc_compare(&rev, &known) < 0) {
            w->collection = docs[i].collection;
            at[nwant++] = i;
        }
    }
    if (c)
        db_reader_release(app->db, c);
    if (!ok)
        snprintf(err, errlen, "storage is unavailable");
    long nf = ok && nwant ? fetch_docs(central, clinic_id, want, nwant, fetched, m + 1, err,
                                       errlen)
                          : 0;
    ok = ok && nf >= 0;
    for (long f = 0; f < nf; f++) {
        char id[ID_LEN + 8];
        for (long w = 0; w < nwant; w++)
            if (fetched[f].doc && want[w].collection == fetched[f].collection &&
                docmap_text(fetched[f].doc, "_id", id, sizeof id) &&
                strcmp(id, want[w].id) == 0) {
                int64_t seq = docs[at[w]].seq;
                bson_destroy(docs[at[w]].doc);
                docs[at[w]] = fetched[f];
                docs[at[w]].seq = seq;
                fetched[f].doc = NULL;
            }
        if (fetched[f].doc)
            bson_destroy(fetched[f].doc);
    }
    free(want);
    free(at);
    free(fetched);
    return ok;
}

/* One batch. Returns the number of change entries read (0: nothing new),
 * -1 on error. *advanced tells whether the checkpoint moved. */
static long pull_batch(app_t *app, central_t *central, const char *box_id, long batch,
                       struct pull_stats *st, bool *advanced, int64_t *apply_ms, char *err,
                       size_t errlen)
{
    struct mark_read mr;
    char gaps_text[MAX_GAPS * 40];
    struct gap gaps[MAX_GAPS], kept[MAX_GAPS];
    clinic_rec clinic;
    bson_error_t e;
    *advanced = false;
    if (!read_mark(app, &mr, gaps_text, sizeof gaps_text)) {
        snprintf(err, errlen, "storage is unavailable");
        return -1;
    }
    long ngaps = parse_gaps(gaps_text, gaps, MAX_GAPS);
    int64_t cp = mr.cp, max_seen = mr.max_seen;
    app_clinic(app, &clinic);

    long cap = batch + MAX_GAPS; /* the batch, and entries found by their _id */
    struct entry *entries = calloc((size_t)cap, sizeof *entries);
    struct central_doc *docs = calloc((size_t)cap, sizeof *docs);
    struct rejection *refused = calloc(MAX_GAPS, sizeof *refused);
    long nrefused = 0;
    if (!entries || !docs || !refused) {
        free(entries);
        free(docs);
        free(refused);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    /* a range of numbers first (cheap even on a server that scans); when
     * it holds nothing, the next entries in order, past any gap */
    long n = read_entries(central, clinic.id, cp, batch, true, entries, &e);
    if (n == 0)
        n = read_entries(central, clinic.id, cp, batch, false, entries, &e);
    bool failed = n < 0;
    if (failed) {
        snprintf(err, errlen, "pull of changes failed: %s", e.message);
        free_entries(entries, cap);
        free(docs);
        free(refused);
        return -1;
    }
    /* numbers taken (the counter) that the query did not return, up to the
     * batch's end: looked up by their _id (look_up_missing) */
    int64_t top = counter_top(central, clinic.id), hi = cp;
    for (long k = 0; k < n; k++)
        if (entries[k].seq > hi)
            hi = entries[k].seq;
    if (top > hi)
        hi = top < cp + batch ? top : cp + batch;
    int64_t missing[MAX_GAPS];
    long nmissing = 0;
    for (int64_t s = cp + 1; s <= hi && nmissing < MAX_GAPS; s++) {
        bool seen = false;
        for (long k = 0; k < n && !seen; k++)
            seen = entries[k].seq == s;
        if (!seen)
            missing[nmissing++] = s;
    }
    if (nmissing)
        look_up_missing(central, clinic.id, missing, nmissing, entries, &n, cap, refused,
                        &nrefused);
    if (n == 0) {
        free_entries(entries, cap);
        free(docs);
        free(refused);
        /* remember when the box was last up to date (for the clock check) */
        int64_t at = app_now() * 1000;
        if (db_write(app->db, pulled_at_job, &at) != 0) {
            snprintf(err, errlen, "storage is unavailable");
            return -1;
        }
        return 0;
    }
    qsort(entries, (size_t)n, sizeof *entries, by_seq);

    /* the box's clock against the writers' (pull.h) */
    int64_t now_ms = app_now() * 1000;
    for (long k = 0; k < n; k++) {
        if (entries[k].seq <= mr.max_seen || !entries[k].at_ms || !mr.pulled_at_ms)
            continue;
        int64_t ahead = mr.pulled_at_ms - entries[k].at_ms;
        if (ahead > SYNC_MAX_SKEW_MS + SYNC_GAP_WAIT_MS && ahead > st->clock_ahead_ms)
            st->clock_ahead_ms = ahead;
    }
    if (entries[n - 1].seq > max_seen)
        max_seen = entries[n - 1].seq;

    /* the new checkpoint: up to the first gap still waited for */
    int64_t next = cp;
    long nkept = 0, i = 0;
    while (i < n) {
        if (entries[i].seq == next + 1) {
            next++;
            i++;
            continue;
        }
        if (entries[i].seq <= next) {
            i++;
            continue;
        }
        /* next + 1 is missing */
        int64_t since = now_ms;
        for (long g = 0; g < ngaps; g++)
            if (gaps[g].seq == next + 1)
                since = gaps[g].since_ms;
        if (now_ms - since >= SYNC_GAP_WAIT_MS) {
            log_warn("sync", "central change %lld never appeared in %lld s; passed over",
                     (long long)(next + 1), SYNC_GAP_WAIT_MS / 1000);
            next++;
            continue;
        }
        if (nkept < MAX_GAPS) {
            kept[nkept].seq = next + 1;
            kept[nkept].since_ms = since;
            nkept++;
        }
        /* later entries wait behind this gap (read again next round) */
        for (int64_t s = next + 2; s < entries[n - 1].seq && nkept < MAX_GAPS; s++) {
            bool seen = false;
            for (long k = i; k < n && !seen; k++)
                seen = entries[k].seq == s;
            if (seen)
                continue;
            int64_t t = now_ms;
            for (long g = 0; g < ngaps; g++)
                if (gaps[g].seq == s)
                    t = gaps[g].since_ms;
            kept[nkept].seq = s;
            kept[nkept].since_ms = t;
            nkept++;
        }
        break;
    }
    gaps_text[0] = 0;
    size_t off = 0;
    for (long g = 0; g < nkept && off + 48 < sizeof gaps_text; g++)
        off += (size_t)snprintf(gaps_text + off, sizeof gaps_text - off, "%s%lld:%lld",
                                g ? "," : "", (long long)kept[g].seq,
                                (long long)kept[g].since_ms);

    /* a refused entry above where the checkpoint stops is read again: it
     * is reported once, when the checkpoint passes it */
    long kept_refused = 0;
    for (long k = 0; k < nrefused; k++) {
        const char *colon = strrchr(refused[k].id, ':');
        if (colon && strtoll(colon + 1, NULL, 10) <= next)
            refused[kept_refused++] = refused[k];
    }
    nrefused = kept_refused;

    long m = assemble(central, clinic.id, entries, n, docs, err, errlen);
    free_entries(entries, cap);
    if (m < 0 || !recheck_older(app, central, clinic.id, box_id, docs, m, err, errlen)) {
        for (long k = 0; m > 0 && k < m; k++)
            bson_destroy(docs[k].doc);
        free(docs);
        free(refused);
        return -1;
    }
    struct pull_mark mark = {.refused_entries = refused, .nrefused = nrefused,
                             .checkpoint = next, .gaps = gaps_text, .max_seen = max_seen,
                             .pulled_at_ms = now_ms};
    struct apply_result r;
    int64_t t0 = monotime_ms();
    int rc = sync_apply(app, box_id, docs, m, &mark, &r);
    *apply_ms = monotime_ms() - t0;
    for (long k = 0; k < m; k++)
        bson_destroy(docs[k].doc);
    free(docs);
    free(refused);
    if (rc != 0) {
        snprintf(err, errlen, "storage is unavailable (the batch will be pulled again)");
        return -1;
    }
    add_stats(st, &r);
    report_outcomes(central, clinic.id, box_id, &r);
    sync_apply_result_free(&r);
    *advanced = next > cp;
    return n;
}

/* Waits ms, or less when the round is asked to stop. */
static void yield_writer(int64_t ms, const struct sync_ctl *ctl)
{
    int64_t end = monotime_ms() + ms;
    while (!sync_ctl_stop(ctl) && monotime_ms() < end) {
        struct timespec slice = {0, 20 * 1000 * 1000};
        nanosleep(&slice, NULL);
    }
}

bool sync_pull(app_t *app, central_t *c, const char *box_id, long batch,
               const struct sync_ctl *ctl, struct pull_stats *st, char *err, size_t errlen)
{
    bool advanced = true;
    memset(st, 0, sizeof *st);
    while (advanced) {
        if (sync_ctl_stop(ctl)) {
            snprintf(err, errlen, "stopped");
            return false;
        }
        long before = st->applied;
        unsigned long long commits, jobs0, jobs1;
        int64_t apply_ms = 0;
        db_stats(app->db, &commits, &jobs0);
        long n = pull_batch(app, c, box_id, batch, st, &advanced, &apply_ms, err, errlen);
        if (n < 0)
            return false;
        if (n == 0)
            break;
        sync_ctl_progress(ctl, 0, st->applied - before);
        db_stats(app->db, &commits, &jobs1);
        if (advanced && jobs1 > jobs0 + 1) { /* not only this batch's job */
            int64_t wait = apply_ms * CATCHUP_YIELD;
            yield_writer(wait < CATCHUP_YIELD_MAX_MS ? wait : CATCHUP_YIELD_MAX_MS, ctl);
        }
    }
    return true;
}

bool sync_pull_records(app_t *app, central_t *central, const char *box_id, int collection,
                       char (*ids)[ID_LEN + 8], long n, struct pull_stats *st, char *err,
                       size_t errlen)
{
    clinic_rec clinic;
    struct entry *entries = calloc((size_t)n + 1, sizeof *entries);
    struct central_doc *docs = calloc((size_t)n + 1, sizeof *docs);
    bool ok = false;
    if (!entries || !docs) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    for (long i = 0; i < n; i++) {
        entries[i].collection = collection;
        snprintf(entries[i].id, sizeof entries[i].id, "%s", ids[i]);
    }
    app_clinic(app, &clinic);
    long m = fetch_docs(central, clinic.id, entries, n, docs, n + 1, err, errlen);
    if (m < 0)
        goto out;
    struct apply_result r;
    int rc = sync_apply(app, box_id, docs, m, NULL, &r);
    for (long k = 0; k < m; k++)
        bson_destroy(docs[k].doc);
    if (rc != 0) {
        snprintf(err, errlen, "storage is unavailable");
        goto out;
    }
    add_stats(st, &r);
    report_outcomes(central, clinic.id, box_id, &r);
    sync_apply_result_free(&r);
    ok = true;
out:
    free(entries);
    free(docs);
    return ok;
}

int sync_pull_reset_in_tx(db_conn_t *c)
{
    if (store_meta_set_int(c, "sync_pull_checkpoint", 0) != STORE_OK ||
        store_meta_set_text(c, "sync_pull_gaps", "") != STORE_OK)
        return -1;
    return db_exec_stmt(db_prepare(c, "DELETE FROM sync_revs")) &&
                   db_exec_stmt(db_prepare(c, "DELETE FROM sync_refused"))
               ? 0
               : -1;
}
