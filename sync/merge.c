/*
 * merge.c — see merge.h. One table per kind of record lists its merged
 * fields: the name in the central document (also the name in
 * sync_field_times) and where the value is in the box's record.
 */
#include "sync/merge.h"

#include <sqlite3.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "sync/docmap.h"

enum mkind { M_TEXT, M_INT, M_BOOL, M_GRACE, M_REMINDERS };

struct mfield {
    const char *name;
    enum mkind kind;
    size_t off, size; /* of the value in the record (M_TEXT, M_INT, M_BOOL) */
};

struct mtable {
    const char *collection;
    const struct mfield *fields;
    int n;
};

#define F(rec, n, k, m) {n, k, offsetof(rec, m), sizeof(((rec *)0)->m)}
static const struct mfield patient_fields[] = {
    F(patient_rec, "name", M_TEXT, name),
    F(patient_rec, "email", M_TEXT, email),
    F(patient_rec, "phone", M_TEXT, phone),
    F(patient_rec, "notifyEmail", M_BOOL, notify_email),
    F(patient_rec, "notifySms", M_BOOL, notify_sms)};
static const struct mfield doctor_fields[] = {
    F(doctor_rec, "name", M_TEXT, name),
    F(doctor_rec, "email", M_TEXT, email),
    F(doctor_rec, "phone", M_TEXT, phone),
    F(doctor_rec, "slotMinutes", M_INT, slot_minutes)};
/* every setting the clinics document carries (docmap.c) */
static const struct mfield clinic_fields[] = {
    F(clinic_rec, "name", M_TEXT, name),
    F(clinic_rec, "timezone", M_TEXT, timezone),
    F(clinic_rec, "graceMinutes", M_GRACE, grace_minutes), /* with grace_set */
    F(clinic_rec, "rescheduleOptions", M_INT, reschedule_options),
    F(clinic_rec, "offerHours", M_INT, offer_hours),
    F(clinic_rec, "reminderHours", M_REMINDERS, reminder_hours), /* with nreminders */
    F(clinic_rec, "confirmations", M_BOOL, confirmations),
    F(clinic_rec, "language", M_TEXT, language)};
#undef F

#define N(a) (int)(sizeof a / sizeof a[0])
static const struct mtable tables[] = {
    {"patients", patient_fields, N(patient_fields)},
    {"doctors", doctor_fields, N(doctor_fields)},
    {"clinics", clinic_fields, N(clinic_fields)},
};
#undef N

static const struct mtable *table(const char *collection)
{
    for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++)
        if (strcmp(tables[i].collection, collection) == 0)
            return &tables[i];
    return NULL;
}

bool sync_merge_collection(const char *collection)
{
    return table(collection) != NULL;
}

int sync_merge_nfields(const char *collection)
{
    const struct mtable *t = table(collection);
    return t ? t->n : 0;
}

const char *sync_merge_field(const char *collection, int i)
{
    const struct mtable *t = table(collection);
    return t && i >= 0 && i < t->n ? t->fields[i].name : NULL;
}

/* ---- the pure merge ---------------------------------------------------------- */

static bool same(const struct mfield *f, const void *a, const void *b)
{
    const char *pa = (const char *)a + f->off, *pb = (const char *)b + f->off;
    const clinic_rec *ca = a, *cb = b;
    switch (f->kind) {
    case M_TEXT:
        return strcmp(pa, pb) == 0;
    case M_INT:
        return *(const int *)pa == *(const int *)pb;
    case M_BOOL:
        return *(const bool *)pa == *(const bool *)pb;
    case M_GRACE: /* not set: the configuration's, whatever the number */
        return ca->grace_set == cb->grace_set &&
               (!ca->grace_set || ca->grace_minutes == cb->grace_minutes);
    case M_REMINDERS:
        return ca->nreminders == cb->nreminders &&
               memcmp(ca->reminder_hours, cb->reminder_hours,
                      (size_t)ca->nreminders * sizeof ca->reminder_hours[0]) == 0;
    }
    return false;
}

static void copy(const struct mfield *f, void *dst, const void *src)
{
    clinic_rec *cd = dst;
    const clinic_rec *cs = src;
    switch (f->kind) {
    case M_TEXT:
    case M_INT:
    case M_BOOL:
        memcpy((char *)dst + f->off, (const char *)src + f->off, f->size);
        break;
    case M_GRACE:
        cd->grace_set = cs->grace_set;
        cd->grace_minutes = cs->grace_minutes;
        break;
    case M_REMINDERS:
        memcpy(cd->reminder_hours, cs->reminder_hours, sizeof cd->reminder_hours);
        cd->nreminders = cs->nreminders;
        break;
    }
}

unsigned sync_merge_fields(const char *collection, const void *const *bases, int nbases,
                           const void *box, void *central,
                           bool (*box_later)(int field, void *ctx), void *ctx)
{
    const struct mtable *t = table(collection);
    unsigned kept = 0;
    for (int i = 0; t && nbases > 0 && i < t->n; i++) {
        const struct mfield *f = &t->fields[i];
        if (same(f, box, central) || same(f, box, bases[0]))
            continue; /* agreed, or only central changed it: central's */
        /* the box changed it: kept unless central changed it too, later.
         * A central value the box sent is the box's, not a change. */
        bool central_changed = true;
        for (int b = 0; central_changed && b < nbases; b++)
            central_changed = !same(f, central, bases[b]);
        if (!central_changed || box_later(i, ctx)) {
            copy(f, central, box);
            kept |= 1u << i;
        }
    }
    return kept;
}

bool sync_merge_box_later(const struct merge_clock *mc, int64_t at_ms)
{
    hlc_t mine = {.wall_ms = at_ms, .counter = 0};
    if (mc->has_known && hlc_compare(&mine, &mc->known) <= 0) {
        mine = mc->known;
        mine.counter++;
    }
    snprintf(mine.node, sizeof mine.node, "%s", mc->box_id);
    return hlc_compare(&mine, &mc->central) > 0;
}

void sync_merge_names(const char *collection, unsigned kept, char *out, size_t len)
{
    const struct mtable *t = table(collection);
    size_t n = 0;
    out[0] = 0;
    for (int i = 0; t && i < t->n && n < len; i++)
        if (kept & (1u << i))
            n += (size_t)snprintf(out + n, len - n, "%s%s", n ? "," : "", t->fields[i].name);
}

/* ---- the base -------------------------------------------------------------- */

bson_t *sync_base_fields(const char *collection, const bson_t *doc)
{
    const struct mtable *t = table(collection);
    if (!t)
        return NULL;
    bson_t *out = bson_new();
    bson_iter_t it;
    for (int i = 0; i < t->n; i++)
        if (bson_iter_init_find(&it, doc, t->fields[i].name))
            bson_append_iter(out, t->fields[i].name, -1, &it);
    return out;
}

bool sync_base_set(db_conn_t *c, const char *collection, const char *id, const char *rev,
                   const bson_t *doc)
{
    if (!table(collection))
        return true;
    if (!doc) {
        sqlite3_stmt *st =
            db_prepare(c, "DELETE FROM sync_base WHERE entity = ?1 AND entity_id = ?2");
        if (!st)
            return false;
        sqlite3_bind_text(st, 1, collection, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, id, -1, SQLITE_TRANSIENT);
        return db_exec_stmt(st);
    }
    bson_t *fields = sync_base_fields(collection, doc);
    sqlite3_stmt *st = db_prepare(c, "INSERT OR REPLACE INTO sync_base (entity, entity_id, rev, "
                                     "doc, sent) VALUES (?1, ?2, ?3, ?4, NULL)");
    bool ok = st != NULL;
    if (ok) {
        sqlite3_bind_text(st, 1, collection, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, id, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 3, rev, -1, SQLITE_TRANSIENT);
        sqlite3_bind_blob(st, 4, bson_get_data(fields), (int)fields->len, SQLITE_TRANSIENT);
        ok = db_exec_stmt(st);
    }
    bson_destroy(fields);
    return ok;
}

/* One stored document decoded like a central one into out (a clinic over
 * the box's, as apply.c decodes one). */
static bool decode(const char *collection, const uint8_t *data, size_t len, const void *box,
                   void *out)
{
    bson_t doc;
    struct docmap_err e;
    if (!data || !len || !bson_init_static(&doc, data, len))
        return false;
    if (strcmp(collection, "patients") == 0)
        return docmap_to_patient(&doc, out, &e);
    if (strcmp(collection, "doctors") == 0)
        return docmap_to_doctor(&doc, out, &e);
    memcpy(out, box, sizeof(clinic_rec));
    return docmap_to_clinic(&doc, out, &e);
}

/* The base of the record at revision rev into out[0], and what was sent
 * since into out[1..]: the number of them, 0 when there is no base of that
 * revision or it does not decode (a refused central document), -1. A sent
 * document that does not decode is left out. */
static int base_get(db_conn_t *c, const char *collection, const char *id, const char *rev,
                    const void *box, void *out, size_t size)
{
    sqlite3_stmt *st = db_prepare(c, "SELECT doc, sent FROM sync_base WHERE entity = ?1 AND "
                                     "entity_id = ?2 AND rev = ?3");
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, collection, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, rev, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        sqlite3_reset(st);
        return rc == SQLITE_DONE ? 0 : -1;
    }
    int n = 0;
    if (decode(collection, sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0), box,
               out))
        n = 1;
    bson_t sent;
    bson_iter_t it;
    const uint8_t *data = sqlite3_column_blob(st, 1);
    size_t len = (size_t)sqlite3_column_bytes(st, 1);
    if (n && data && len && bson_init_static(&sent, data, len) && bson_iter_init(&it, &sent))
        while (n < 1 + SYNC_MERGE_MAX_SENT && bson_iter_next(&it)) {
            uint32_t dlen;
            const uint8_t *d;
            if (!BSON_ITER_HOLDS_DOCUMENT(&it))
                continue;
            bson_iter_document(&it, &dlen, &d);
            if (decode(collection, d, dlen, box, (char *)out + (size_t)n * size))
                n++;
        }
    sqlite3_reset(st);
    return n;
}

bool sync_base_sent(db_conn_t *c, const char *collection, const char *id, const bson_t *fields)
{
    if (!table(collection) || !fields)
        return true;
    sqlite3_stmt *st =
        db_prepare(c, "SELECT sent FROM sync_base WHERE entity = ?1 AND entity_id = ?2");
    if (!st)
        return false;
    sqlite3_bind_text(st, 1, collection, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, id, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        sqlite3_reset(st);
        if (rc != SQLITE_DONE)
            return false;
        /* no base: a record central never acknowledged (its insert's reply
         * was lost). If it landed, central's document started from it: the
         * base, of no revision (sync_revs has none for the record). */
        return sync_base_set(c, collection, id, "", fields);
    }
    /* the last SYNC_MERGE_MAX_SENT - 1 of them, then the new one */
    bson_t old, arr = BSON_INITIALIZER;
    bson_iter_t it;
    const uint8_t *data = sqlite3_column_blob(st, 0);
    size_t len = (size_t)sqlite3_column_bytes(st, 0);
    char key[16];
    int have = 0, n = 0;
    if (data && len && bson_init_static(&old, data, len)) {
        have = (int)bson_count_keys(&old);
        if (bson_iter_init(&it, &old))
            for (int i = 0; bson_iter_next(&it); i++)
                if (i >= have - (SYNC_MERGE_MAX_SENT - 1)) {
                    snprintf(key, sizeof key, "%d", n++);
                    bson_append_iter(&arr, key, -1, &it);
                }
    }
    sqlite3_reset(st);
    snprintf(key, sizeof key, "%d", n);
    BSON_APPEND_DOCUMENT(&arr, key, fields);
    st = db_prepare(c, "UPDATE sync_base SET sent = ?3 WHERE entity = ?1 AND entity_id = ?2");
    bool ok = st != NULL;
    if (ok) {
        sqlite3_bind_text(st, 1, collection, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, id, -1, SQLITE_TRANSIENT);
        sqlite3_bind_blob(st, 3, bson_get_data(&arr), (int)arr.len, SQLITE_TRANSIENT);
        ok = db_exec_stmt(st);
    }
    bson_destroy(&arr);
    return ok;
}

struct field_ctx {
    db_conn_t *c;
    const char *collection, *id;
    const struct merge_clock *mc;
    bool failed;
};

/* A field both changed: the box's value is as late as the local edit that
 * set it (the record's latest local change when that is not known). */
static bool field_box_later(int i, void *arg)
{
    struct field_ctx *x = arg;
    int64_t at = x->mc->pending_at;
    sqlite3_stmt *st = db_prepare(x->c, "SELECT at_ms FROM sync_field_times WHERE entity = ?1 "
                                        "AND entity_id = ?2 AND field = ?3");
    if (!st) {
        x->failed = true;
        return false;
    }
    sqlite3_bind_text(st, 1, x->collection, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, x->id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, sync_merge_field(x->collection, i), -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        at = sqlite3_column_int64(st, 0);
    else if (rc != SQLITE_DONE)
        x->failed = true;
    sqlite3_reset(st);
    return sync_merge_box_later(x->mc, at);
}

int sync_merge_record(db_conn_t *c, const char *collection, const char *id,
                      const struct merge_clock *mc, const void *box, void *central,
                      unsigned *kept)
{
    union rec {
        patient_rec p;
        doctor_rec d;
        clinic_rec k;
    } recs[1 + SYNC_MERGE_MAX_SENT];
    const void *bases[1 + SYNC_MERGE_MAX_SENT];
    *kept = 0;
    if (!table(collection) || !mc->known_rev) /* "": an unacknowledged insert's */
        return 0;
    int n = base_get(c, collection, id, mc->known_rev, box, recs, sizeof recs[0]);
    if (n <= 0)
        return n;
    for (int i = 0; i < n; i++)
        bases[i] = &recs[i];
    struct field_ctx x = {c, collection, id, mc, false};
    *kept = sync_merge_fields(collection, bases, n, box, central, field_box_later, &x);
    return x.failed ? -1 : 1;
}

/* ---- local edit times -------------------------------------------------------- */

bool sync_field_times_settle(db_conn_t *c, const char *collection, const char *id,
                             unsigned kept)
{
    const struct mtable *t = table(collection);
    for (int i = 0; t && i < t->n; i++) {
        if (kept & (1u << i))
            continue;
        sqlite3_stmt *st = db_prepare(c, "DELETE FROM sync_field_times WHERE entity = ?1 AND "
                                         "entity_id = ?2 AND field = ?3");
        if (!st)
            return false;
        sqlite3_bind_text(st, 1, collection, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, id, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 3, t->fields[i].name, -1, SQLITE_STATIC);
        if (!db_exec_stmt(st))
            return false;
    }
    return true;
}

bool sync_field_times_pushed(db_conn_t *c, const char *collection, const char *id)
{
    if (!table(collection))
        return true;
    sqlite3_stmt *st = db_prepare(c, "DELETE FROM sync_field_times WHERE entity = ?1 AND "
                                     "entity_id = ?2 AND NOT EXISTS (SELECT 1 FROM "
                                     "sync_journal WHERE entity = ?1 AND entity_id = ?2)");
    if (!st)
        return false;
    sqlite3_bind_text(st, 1, collection, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, id, -1, SQLITE_TRANSIENT);
    return db_exec_stmt(st);
}
