/*
 * central_tool.c — see central_tool.h. A small command-line program inside
 * the clinicbox binary: it talks only to the central MongoDB (never to a
 * box's database), so it runs anywhere the URI reaches.
 *
 *   clinicbox central [--uri URI] [--clinic ID] [--as NAME] ACTION ...
 *     put COLLECTION ID|new JSON   set fields (MongoDB extended JSON)
 *     book --doctor ID --patient ID --start TIME [--minutes N] [--reason T]
 *     cancel APPOINTMENT-ID [--reason T]
 *     delete COLLECTION ID         a tombstone (patients, doctors)
 *     get COLLECTION ID            print the document
 *
 * Before writing, the document as it would be is judged by the box's own
 * rules (central_check.h): what the box would refuse is refused here, with
 * exit status 2 and nothing written; what it would take but decide
 * otherwise (a booking it keeps as a conflict) is written with a warning.
 * Exit status 1 is for a central database that cannot be reached or read.
 */
#include "sync/central_tool.h"

#include <mongoc/mongoc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ids.h"
#include "core/timefmt.h"
#include "domain/slots.h"
#include "service/app.h"
#include "sync/central.h"
#include "sync/central_check.h"
#include "sync/docmap.h"
#include "sync/hlc.h"

#define WRITE_TRIES 8

struct tool {
    central_t *c;
    char clinic[72];
    bson_t *clinic_doc; /* the clinic's document in `clinics` */
    char by[HLC_NODE_MAX + 1]; /* "central:NAME" */
};

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: clinicbox central [--uri URI] [--clinic ID] [--as NAME] ACTION ...\n"
            "\n"
            "Writes a clinic's records in the central MongoDB the way its box picks them up\n"
            "(docs/sync.md). URI defaults to $CLINICBOX_MONGO_URI; the clinic (a document in\n"
            "`clinics`) to the only one there; NAME (who writes, for the box's event log)\n"
            "to \"central\".\n"
            "\n"
            "Actions:\n"
            "  put COLLECTION ID|new JSON  set the fields in JSON (MongoDB extended JSON,\n"
            "                              dates as {\"$date\": \"2026-12-01T09:00:00Z\"})\n"
            "  book --doctor ID --patient ID --start TIME [--minutes N] [--reason TEXT]\n"
            "                              TIME in RFC 3339; N a multiple of 5 up to 480\n"
            "                              (30 if not given)\n"
            "  cancel APPOINTMENT-ID [--reason TEXT]\n"
            "  delete COLLECTION ID        mark deleted (patients, doctors)\n"
            "  get COLLECTION ID           print the document\n"
            "\n"
            "Collections: clinics doctors schedules patients appointments (offers and\n"
            "notifications are the box's). put, book, cancel and delete print {\"id\", \"rev\",\n"
            "\"seq\"}. Before writing, each is checked by the box's own rules: what the box\n"
            "would refuse is refused here and nothing is written; a booking the box would\n"
            "keep as a conflict (outside the doctor's hours or slot grid, in the past, time\n"
            "taken) is written with a warning on stderr.\n"
            "\n"
            "Exit status: 0 written (or printed); 1 the central database could not be\n"
            "reached, read or written; 2 refused input (usage, an unknown clinic, doctor or\n"
            "patient, a field of the wrong type or out of range, a start off the 5-minute\n"
            "grid, ...): the message names the field, and nothing was written.\n");
}

/* A failure of the central database. */
static int fail(const char *what, const char *why)
{
    fprintf(stderr, "clinicbox central: %s%s%s\n", what, why ? ": " : "", why ? why : "");
    return 1;
}

/* A refused input: nothing was written. */
static int refuse(const char *why)
{
    fprintf(stderr, "clinicbox central: refused: %s\n", why);
    return 2;
}

/* The first document matching q, or NULL (e->code set on an error). */
static bson_t *find_one(struct tool *t, const char *collection, const bson_t *q, bson_error_t *e)
{
    bson_t opts = BSON_INITIALIZER;
    const bson_t *doc;
    bson_t *out = NULL;
    BSON_APPEND_INT64(&opts, "limit", 1);
    mongoc_collection_t *coll = central_collection(t->c, collection);
    mongoc_cursor_t *cur = mongoc_collection_find_with_opts(coll, q, &opts, NULL);
    memset(e, 0, sizeof *e);
    if (mongoc_cursor_next(cur, &doc))
        out = bson_copy(doc);
    else
        mongoc_cursor_error(cur, e);
    mongoc_cursor_destroy(cur);
    mongoc_collection_destroy(coll);
    bson_destroy(&opts);
    return out;
}

/* The clinic's next change number. */
static bool next_seq(struct tool *t, int64_t *seq, bson_error_t *e)
{
    bson_t sel = BSON_INITIALIZER, upd = BSON_INITIALIZER, inc, reply;
    bson_iter_t it;
    mongoc_collection_t *coll = central_collection(t->c, "counters");
    mongoc_find_and_modify_opts_t *o = mongoc_find_and_modify_opts_new();
    BSON_APPEND_UTF8(&sel, "_id", t->clinic);
    BSON_APPEND_DOCUMENT_BEGIN(&upd, "$inc", &inc);
    BSON_APPEND_INT64(&inc, "seq", 1);
    bson_append_document_end(&upd, &inc);
    mongoc_find_and_modify_opts_set_update(o, &upd);
    mongoc_find_and_modify_opts_set_flags(o, MONGOC_FIND_AND_MODIFY_UPSERT |
                                                 MONGOC_FIND_AND_MODIFY_RETURN_NEW);
    bool ok = mongoc_collection_find_and_modify_with_opts(coll, &sel, o, &reply, e) &&
              bson_iter_init(&it, &reply) && bson_iter_find_descendant(&it, "value.seq", &it) &&
              BSON_ITER_HOLDS_NUMBER(&it);
    if (ok)
        *seq = bson_iter_as_int64(&it);
    else if (!e->message[0])
        snprintf(e->message, sizeof e->message, "the counter gave no number");
    bson_destroy(&reply);
    bson_destroy(&sel);
    bson_destroy(&upd);
    mongoc_find_and_modify_opts_destroy(o);
    mongoc_collection_destroy(coll);
    return ok;
}

/* The document now, or NULL (*e->code set on an error). */
static bson_t *read_doc(struct tool *t, const char *collection, const char *id, bson_error_t *e)
{
    bson_t q = BSON_INITIALIZER;
    BSON_APPEND_UTF8(&q, "_id", id);
    bson_t *out = find_one(t, collection, &q, e);
    bson_destroy(&q);
    return out;
}

/* read_doc, but only a document of this clinic. */
static bson_t *read_mine(struct tool *t, const char *collection, const char *id, bson_error_t *e)
{
    char clinic[72];
    bson_t *d = read_doc(t, collection, id, e);
    if (d && (!docmap_text(d, "clinicId", clinic, sizeof clinic) || strcmp(clinic, t->clinic))) {
        bson_destroy(d);
        d = NULL;
    }
    return d;
}

/* What central holds around a document about to be written (the context of
 * central_check.h). */
struct around {
    bson_t *doctor, *patient, *schedule;
    char taken[ID_LEN + 8];
};

static void around_free(struct around *a)
{
    bson_destroy(a->doctor); /* NULL is fine */
    bson_destroy(a->patient);
    bson_destroy(a->schedule);
    memset(a, 0, sizeof *a);
}

/* Whether an appointment of this clinic names the person (key: doctorId or
 * patientId). -1 on an error. */
static int referenced(struct tool *t, const char *key, const char *id, bson_error_t *e)
{
    bson_t q = BSON_INITIALIZER;
    BSON_APPEND_UTF8(&q, "clinicId", t->clinic);
    BSON_APPEND_UTF8(&q, key, id);
    bson_t *d = find_one(t, "appointments", &q, e);
    int found = d ? 1 : e->code ? -1 : 0;
    bson_destroy(&q);
    bson_destroy(d);
    return found;
}

/* A live appointment of the doctor overlapping [start, end) other than id,
 * into a->taken. false on an error. */
static bool taken_by(struct tool *t, const char *doctor, const char *id, int64_t start,
                     int64_t end, struct around *a, bson_error_t *e)
{
    bson_t q = BSON_INITIALIZER, in, lt, gt, ne;
    BSON_APPEND_UTF8(&q, "clinicId", t->clinic);
    BSON_APPEND_UTF8(&q, "doctorId", doctor);
    BSON_APPEND_DOCUMENT_BEGIN(&q, "status", &in);
    bson_t arr;
    BSON_APPEND_ARRAY_BEGIN(&in, "$in", &arr);
    BSON_APPEND_UTF8(&arr, "0", "booked");
    BSON_APPEND_UTF8(&arr, "1", "checked_in");
    bson_append_array_end(&in, &arr);
    bson_append_document_end(&q, &in);
    BSON_APPEND_DOCUMENT_BEGIN(&q, "start", &lt);
    BSON_APPEND_DATE_TIME(&lt, "$lt", end * 1000);
    bson_append_document_end(&q, &lt);
    BSON_APPEND_DOCUMENT_BEGIN(&q, "end", &gt);
    BSON_APPEND_DATE_TIME(&gt, "$gt", start * 1000);
    bson_append_document_end(&q, &gt);
    BSON_APPEND_DOCUMENT_BEGIN(&q, "_id", &ne);
    BSON_APPEND_UTF8(&ne, "$ne", id);
    bson_append_document_end(&q, &ne);
    bson_t *d = find_one(t, "appointments", &q, e);
    bson_destroy(&q);
    a->taken[0] = 0;
    if (d && !docmap_text(d, "_id", a->taken, sizeof a->taken))
        snprintf(a->taken, sizeof a->taken, "?");
    bool ok = d || !e->code;
    bson_destroy(d);
    return ok;
}

/* Reads what central_check_doc needs to judge doc (as after the write) in
 * collection. false on a read error. */
static bool read_around(struct tool *t, const char *collection, const bson_t *doc,
                        const bson_t *cur, struct central_context *cx, struct around *a,
                        bson_error_t *e)
{
    char id[ID_LEN + 8], doctor[ID_LEN + 8], patient[ID_LEN + 8];
    memset(a, 0, sizeof *a);
    memset(cx, 0, sizeof *cx);
    memset(e, 0, sizeof *e);
    cx->clinic_id = t->clinic;
    cx->cur = cur;
    cx->clinic = t->clinic_doc;
    if (!docmap_text(doc, "_id", id, sizeof id))
        id[0] = 0;
    if (strcmp(collection, "schedules") == 0) {
        a->doctor = read_mine(t, "doctors", id, e);
    } else if (strcmp(collection, "doctors") == 0 || strcmp(collection, "patients") == 0) {
        if (docmap_deleted(doc)) {
            int n = referenced(t, collection[0] == 'd' ? "doctorId" : "patientId", id, e);
            if (n < 0)
                return false;
            cx->referenced = n > 0;
        }
    } else if (strcmp(collection, "appointments") == 0 && !cur) {
        int64_t start, end;
        if (docmap_text(doc, "doctorId", doctor, sizeof doctor) && doctor[0]) {
            if (!(a->doctor = read_mine(t, "doctors", doctor, e)) && e->code)
                return false;
            if (!(a->schedule = read_mine(t, "schedules", doctor, e)) && e->code)
                return false;
            if (docmap_date(doc, "start", &start) && docmap_date(doc, "end", &end) && start &&
                end > start && !taken_by(t, doctor, id, start, end, a, e))
                return false;
        }
        if (docmap_text(doc, "patientId", patient, sizeof patient) && patient[0] &&
            !(a->patient = read_mine(t, "patients", patient, e)) && e->code)
            return false;
    }
    cx->doctor = a->doctor;
    cx->patient = a->patient;
    cx->schedule = a->schedule;
    cx->taken_by = a->taken[0] ? a->taken : NULL;
    return !e->code;
}

/* The write protocol of central_tool.h, after central_check.h's verdict on
 * the document as it would be (a refusal writes nothing: no number taken,
 * no document, no change entry). id "new" makes one; must_exist refuses a
 * document that is not there (cancel). */
static int write_fields(struct tool *t, const char *collection, const char *id_in,
                        const bson_t *fields, bool must_exist)
{
    struct central_check verdict;
    char id[ID_LEN + 8], rev_text[HLC_TEXT_MAX] = "", old_rev[HLC_TEXT_MAX];
    char warning[sizeof verdict.why] = "";
    bson_error_t e;
    int64_t seq = 0, now_ms = app_now() * 1000;
    hlc_clock clk;
    hlc_init(&clk, t->by);
    if (!central_check_collection(collection, &verdict) || !central_check_names(fields, &verdict))
        return refuse(verdict.why);
    if (strcmp(id_in, "new") == 0) {
        if (strcmp(collection, "clinics") == 0 || strcmp(collection, "schedules") == 0)
            return refuse(strcmp(collection, "clinics") == 0
                              ? "clinics: a clinic is made by its box, not centrally"
                              : "schedules: a schedule's id is its doctor's, not new");
        ids_uuid(now_ms, id);
    } else {
        if (strlen(id_in) >= sizeof id)
            return refuse("_id: too long");
        snprintf(id, sizeof id, "%s", id_in);
    }

    bool written = false;
    bson_t *written_doc = NULL;
    for (int attempt = 0; !written && attempt < WRITE_TRIES; attempt++) {
        bson_t *cur = read_doc(t, collection, id, &e);
        if (!cur && e.code)
            return fail("cannot read the document", e.message);
        old_rev[0] = 0;
        if (cur) {
            char clinic[72];
            if (!docmap_text(cur, "clinicId", clinic, sizeof clinic))
                clinic[0] = 0;
            if (strcmp(clinic, t->clinic) != 0) {
                bson_destroy(cur);
                char why[400];
                snprintf(why, sizeof why, "_id: %s %s belongs to clinic %s, not %s", collection,
                         id, clinic[0] ? clinic : "(none)", t->clinic);
                return refuse(why);
            }
            if (!docmap_text(cur, "_sync.rev", old_rev, sizeof old_rev))
                old_rev[0] = 0;
        } else if (must_exist) {
            char why[200];
            snprintf(why, sizeof why, "_id: no %s %s in clinic %s", collection, id, t->clinic);
            return refuse(why);
        }
        /* the verdict on the document as it will be, with what central
         * holds around it; read again on every attempt. A refusal after
         * the first attempt (a concurrent writer changed the document)
         * leaves its number unused: the box passes over it after a minute. */
        struct central_context cx;
        struct around ar;
        bson_t *after = central_check_merge(cur, id, t->clinic, fields);
        bool read_ok = read_around(t, collection, after, cur, &cx, &ar, &e);
        if (read_ok)
            central_check_doc(collection, after, &cx, app_now(), &verdict);
        around_free(&ar);
        bson_destroy(after);
        if (!read_ok || verdict.verdict == CENTRAL_REFUSE) {
            bson_destroy(cur);
            return read_ok ? refuse(verdict.why) : fail("cannot read central", e.message);
        }
        snprintf(warning, sizeof warning, "%s",
                 verdict.verdict == CENTRAL_WARN ? verdict.why : "");
        if (!seq && !next_seq(t, &seq, &e)) {
            bson_destroy(cur);
            return fail("cannot take a change number", e.message);
        }
        if (cur) {
            /* not clamped: this edit follows the one read, whatever the
             * clocks (the box clamps when it compares concurrent edits) */
            hlc_t r;
            if (hlc_parse(old_rev, &r))
                hlc_observe(&clk, r, now_ms, INT64_MAX / 2, NULL);
        }
        hlc_t rev = hlc_tick(&clk, now_ms);
        hlc_format(&rev, rev_text);

        bson_t sel = BSON_INITIALIZER, upd = BSON_INITIALIZER, set, sync;
        BSON_APPEND_UTF8(&sel, "_id", id);
        if (cur && old_rev[0]) {
            BSON_APPEND_UTF8(&sel, "_sync.rev", old_rev);
        } else if (cur) {
            bson_t ex;
            BSON_APPEND_DOCUMENT_BEGIN(&sel, "_sync.rev", &ex);
            BSON_APPEND_BOOL(&ex, "$exists", false);
            bson_append_document_end(&sel, &ex);
        }
        BSON_APPEND_DOCUMENT_BEGIN(&upd, "$set", &set);
        bson_concat(&set, fields);
        BSON_APPEND_UTF8(&set, "clinicId", t->clinic);
        BSON_APPEND_DOCUMENT_BEGIN(&set, "_sync", &sync);
        BSON_APPEND_UTF8(&sync, "rev", rev_text);
        BSON_APPEND_UTF8(&sync, "by", t->by);
        BSON_APPEND_INT64(&sync, "seq", seq);
        BSON_APPEND_DATE_TIME(&sync, "at", now_ms);
        bson_append_document_end(&set, &sync);
        bson_append_document_end(&upd, &set);
        /* a new document is inserted by the upsert; one that appeared or
         * changed meanwhile fails on its _id or matches nothing: read again.
         * The document as written goes into the change entry. */
        bson_t reply;
        bson_iter_t it;
        mongoc_find_and_modify_opts_t *fam = mongoc_find_and_modify_opts_new();
        mongoc_find_and_modify_opts_set_update(fam, &upd);
        mongoc_find_and_modify_opts_set_flags(
            fam, MONGOC_FIND_AND_MODIFY_RETURN_NEW |
                     (cur == NULL ? MONGOC_FIND_AND_MODIFY_UPSERT : MONGOC_FIND_AND_MODIFY_NONE));
        mongoc_collection_t *coll = central_collection(t->c, collection);
        bool ok = mongoc_collection_find_and_modify_with_opts(coll, &sel, fam, &reply, &e);
        if (ok && bson_iter_init_find(&it, &reply, "value") && BSON_ITER_HOLDS_DOCUMENT(&it)) {
            uint32_t len;
            const uint8_t *data;
            bson_iter_document(&it, &len, &data);
            written_doc = bson_new_from_data(data, len);
        }
        bson_destroy(&reply);
        mongoc_find_and_modify_opts_destroy(fam);
        mongoc_collection_destroy(coll);
        bson_destroy(&sel);
        bson_destroy(&upd);
        bson_destroy(cur);
        if (!ok && e.code != 11000)
            return fail("cannot write the document", e.message);
        written = written_doc != NULL;
    }
    if (!written)
        return fail("the document kept changing; try again", NULL);

    /* the change entry, last: a box that sees it finds the document written */
    bson_t entry = BSON_INITIALIZER;
    char entry_id[128];
    snprintf(entry_id, sizeof entry_id, "%s:%lld", t->clinic, (long long)seq);
    BSON_APPEND_UTF8(&entry, "_id", entry_id);
    BSON_APPEND_UTF8(&entry, "clinicId", t->clinic);
    BSON_APPEND_INT64(&entry, "seq", seq);
    BSON_APPEND_UTF8(&entry, "collection", collection);
    BSON_APPEND_UTF8(&entry, "docId", id);
    BSON_APPEND_UTF8(&entry, "rev", rev_text);
    BSON_APPEND_UTF8(&entry, "by", t->by);
    BSON_APPEND_DATE_TIME(&entry, "at", now_ms);
    BSON_APPEND_DOCUMENT(&entry, "doc", written_doc);
    bson_destroy(written_doc);
    mongoc_collection_t *coll = central_collection(t->c, "changes");
    bool ok = mongoc_collection_insert_one(coll, &entry, NULL, NULL, &e);
    mongoc_collection_destroy(coll);
    bson_destroy(&entry);
    if (!ok)
        return fail("the document is written but its change entry is not (the box passes "
                    "over the gap after a minute; write the document again)",
                    e.message);
    if (warning[0])
        fprintf(stderr, "clinicbox central: warning: %s\n", warning);
    printf("{\"id\": \"%s\", \"rev\": \"%s\", \"seq\": %lld}\n", id, rev_text, (long long)seq);
    return 0;
}

/* The clinic: the one --clinic names (t->clinic set), else the only one in
 * `clinics`; its document into t->clinic_doc. 0, 1 (a read error) or 2. */
static int find_clinic(struct tool *t, bool named)
{
    bson_error_t e;
    if (named) {
        t->clinic_doc = read_doc(t, "clinics", t->clinic, &e);
        if (t->clinic_doc)
            return 0;
        if (e.code)
            return fail("cannot read `clinics`", e.message);
        char why[200];
        snprintf(why, sizeof why, "--clinic: no clinic %s in `clinics`", t->clinic);
        return refuse(why);
    }
    mongoc_collection_t *coll = central_collection(t->c, "clinics");
    bson_t q = BSON_INITIALIZER, opts = BSON_INITIALIZER;
    const bson_t *doc;
    int n = 0;
    BSON_APPEND_INT64(&opts, "limit", 2);
    mongoc_cursor_t *cur = mongoc_collection_find_with_opts(coll, &q, &opts, NULL);
    while (mongoc_cursor_next(cur, &doc))
        if (n++ == 0) {
            t->clinic_doc = bson_copy(doc);
            if (!docmap_text(doc, "_id", t->clinic, sizeof t->clinic))
                t->clinic[0] = 0;
        }
    bool error = mongoc_cursor_error(cur, &e);
    mongoc_cursor_destroy(cur);
    mongoc_collection_destroy(coll);
    bson_destroy(&q);
    bson_destroy(&opts);
    if (error)
        return fail("cannot read `clinics`", e.message);
    if (n != 1 || !t->clinic[0])
        return refuse("--clinic: say which clinic (there is not exactly one in `clinics`)");
    return 0;
}

static const char *opt(int argc, char **argv, const char *name)
{
    for (int i = 0; i + 1 < argc; i++)
        if (strcmp(argv[i], name) == 0)
            return argv[i + 1];
    return NULL;
}

static int cmd_book(struct tool *t, int argc, char **argv)
{
    const char *doctor = opt(argc, argv, "--doctor"), *patient = opt(argc, argv, "--patient");
    const char *start_s = opt(argc, argv, "--start"), *minutes_s = opt(argc, argv, "--minutes");
    const char *reason = opt(argc, argv, "--reason");
    int64_t start;
    long minutes = 30;
    char *end = NULL;
    char why[200];
    if (!doctor || !patient || !start_s)
        return refuse("book needs --doctor, --patient and --start");
    if (!timefmt_parse_rfc3339(start_s, &start)) {
        snprintf(why, sizeof why, "--start: %s is not an RFC 3339 time", start_s);
        return refuse(why);
    }
    if (minutes_s)
        minutes = strtol(minutes_s, &end, 10);
    if ((minutes_s && (end == minutes_s || *end)) || minutes < 5 ||
        minutes > SLOTS_MAX_DURATION_MINUTES || minutes % 5)
        return refuse("--minutes: a multiple of 5 from 5 to 480");
    /* the rest (the doctor, the patient, the grid) as for any new
     * appointment, in write_fields */
    bson_t f = BSON_INITIALIZER;
    BSON_APPEND_UTF8(&f, "doctorId", doctor);
    BSON_APPEND_UTF8(&f, "patientId", patient);
    BSON_APPEND_DATE_TIME(&f, "start", start * 1000);
    BSON_APPEND_DATE_TIME(&f, "end", (start + minutes * 60) * 1000);
    BSON_APPEND_UTF8(&f, "status", "booked");
    if (reason)
        BSON_APPEND_UTF8(&f, "reason", reason);
    else
        BSON_APPEND_NULL(&f, "reason");
    BSON_APPEND_UTF8(&f, "createdBy", t->by);
    BSON_APPEND_DATE_TIME(&f, "createdAt", app_now() * 1000);
    BSON_APPEND_UTF8(&f, "updatedBy", t->by);
    BSON_APPEND_DATE_TIME(&f, "updatedAt", app_now() * 1000);
    int rc = write_fields(t, "appointments", "new", &f, false);
    bson_destroy(&f);
    return rc;
}

static int cmd_cancel(struct tool *t, const char *id, int argc, char **argv)
{
    const char *reason = opt(argc, argv, "--reason");
    bson_t f = BSON_INITIALIZER;
    BSON_APPEND_UTF8(&f, "status", "cancelled");
    BSON_APPEND_UTF8(&f, "cancelReason", reason ? reason : "");
    BSON_APPEND_DATE_TIME(&f, "cancelledAt", app_now() * 1000);
    int rc = write_fields(t, "appointments", id, &f, true);
    bson_destroy(&f);
    return rc;
}

static int cmd_get(struct tool *t, const char *collection, const char *id)
{
    bson_error_t e;
    char why[200];
    if (docmap_index(collection) < 0) {
        snprintf(why, sizeof why, "unknown collection %s", collection);
        return refuse(why);
    }
    bson_t *d = read_doc(t, collection, id, &e);
    if (!d && e.code)
        return fail("cannot read the document", e.message);
    if (!d) {
        snprintf(why, sizeof why, "_id: no %s %s", collection, id);
        return refuse(why);
    }
    char *json = bson_as_relaxed_extended_json(d, NULL);
    printf("%s\n", json);
    bson_free(json);
    bson_destroy(d);
    return 0;
}

static int run(struct tool *t, int argc, char **argv)
{
    const char *action = argv[0];
    if (strcmp(action, "put") == 0 && argc == 4) {
        bson_error_t e;
        char why[sizeof e.message + 40];
        bson_t *f = bson_new_from_json((const uint8_t *)argv[3], -1, &e);
        if (!f) {
            snprintf(why, sizeof why, "JSON is not valid: %s", e.message);
            return refuse(why);
        }
        int rc = write_fields(t, argv[1], argv[2], f, false);
        bson_destroy(f);
        return rc;
    }
    if (strcmp(action, "book") == 0)
        return cmd_book(t, argc - 1, argv + 1);
    if (strcmp(action, "cancel") == 0 && argc >= 2)
        return cmd_cancel(t, argv[1], argc - 2, argv + 2);
    if (strcmp(action, "delete") == 0 && argc == 3) {
        if (strcmp(argv[1], "patients") != 0 && strcmp(argv[1], "doctors") != 0)
            return refuse("only patients and doctors are deleted; appointments are cancelled");
        bson_t f = BSON_INITIALIZER;
        BSON_APPEND_DATE_TIME(&f, "deletedAt", app_now() * 1000);
        int rc = write_fields(t, argv[1], argv[2], &f, true);
        bson_destroy(&f);
        return rc;
    }
    if (strcmp(action, "get") == 0 && argc == 3)
        return cmd_get(t, argv[1], argv[2]);
    usage(stderr);
    return 2;
}

int central_tool_main(int argc, char **argv)
{
    struct tool t;
    const char *uri = getenv("CLINICBOX_MONGO_URI"), *clinic = NULL, *as = "central";
    char err[700];
    int i = 0;
    memset(&t, 0, sizeof t);
    for (; i + 1 < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
        if (strcmp(argv[i], "--uri") == 0)
            uri = argv[i + 1];
        else if (strcmp(argv[i], "--clinic") == 0)
            clinic = argv[i + 1];
        else if (strcmp(argv[i], "--as") == 0)
            as = argv[i + 1];
        else
            break;
    }
    if (i >= argc || strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "help") == 0) {
        usage(i >= argc ? stderr : stdout);
        return i >= argc ? 2 : 0;
    }
    if (!uri || !uri[0])
        return refuse("--uri: none, and no CLINICBOX_MONGO_URI");
    if (clinic && strlen(clinic) >= sizeof t.clinic)
        return refuse("--clinic: too long");
    if (!ids_init())
        return fail("cannot initialise libsodium", NULL);
    snprintf(t.by, sizeof t.by, "central:%.*s", HLC_NODE_MAX - 8, as);
    central_global_init();
    t.c = central_open(uri, err, sizeof err);
    int rc;
    if (clinic)
        snprintf(t.clinic, sizeof t.clinic, "%s", clinic);
    if (!t.c)
        rc = fail("cannot use the URI", err);
    else if ((rc = find_clinic(&t, clinic != NULL)) == 0)
        rc = run(&t, argc - i, argv + i);
    bson_destroy(t.clinic_doc);
    central_close(t.c);
    central_global_cleanup();
    return rc;
}
