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
 */
#include "sync/central_tool.h"

#include <mongoc/mongoc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ids.h"
#include "core/timefmt.h"
#include "service/app.h"
#include "sync/central.h"
#include "sync/docmap.h"
#include "sync/hlc.h"

#define WRITE_TRIES 8

struct tool {
    central_t *c;
    char clinic[72];
    char by[HLC_NODE_MAX + 1]; /* "central:NAME" */
};

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: clinicbox central [--uri URI] [--clinic ID] [--as NAME] ACTION ...\n"
            "\n"
            "Writes a clinic's records in the central MongoDB the way its box picks them up\n"
            "(docs/sync.md). URI defaults to $CLINICBOX_MONGO_URI; the clinic to the only\n"
            "one in `clinics`; NAME (who writes, for the box's event log) to \"central\".\n"
            "\n"
            "Actions:\n"
            "  put COLLECTION ID|new JSON  set the fields in JSON (MongoDB extended JSON,\n"
            "                              dates as {\"$date\": \"2026-12-01T09:00:00Z\"})\n"
            "  book --doctor ID --patient ID --start TIME [--minutes N] [--reason TEXT]\n"
            "  cancel APPOINTMENT-ID [--reason TEXT]\n"
            "  delete COLLECTION ID        mark deleted (patients, doctors)\n"
            "  get COLLECTION ID           print the document\n"
            "\n"
            "Collections: clinics doctors schedules patients appointments.\n"
            "put, book, cancel and delete print {\"id\", \"rev\", \"seq\"}.\n");
}

static int fail(const char *what, const char *why)
{
    fprintf(stderr, "clinicbox central: %s%s%s\n", what, why ? ": " : "", why ? why : "");
    return 1;
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
    const bson_t *doc;
    bson_t *out = NULL;
    BSON_APPEND_UTF8(&q, "_id", id);
    mongoc_collection_t *coll = central_collection(t->c, collection);
    mongoc_cursor_t *cur = mongoc_collection_find_with_opts(coll, &q, NULL, NULL);
    memset(e, 0, sizeof *e);
    if (mongoc_cursor_next(cur, &doc))
        out = bson_copy(doc);
    else
        mongoc_cursor_error(cur, e);
    mongoc_cursor_destroy(cur);
    mongoc_collection_destroy(coll);
    bson_destroy(&q);
    return out;
}

/* The write protocol of central_tool.h. id "new" makes one. */
static int write_fields(struct tool *t, const char *collection, const char *id_in,
                        const bson_t *fields)
{
    char id[ID_LEN + 8], rev_text[HLC_TEXT_MAX] = "", old_rev[HLC_TEXT_MAX];
    bson_error_t e;
    int64_t seq, now_ms = app_now() * 1000;
    hlc_clock clk;
    hlc_init(&clk, t->by);
    if (docmap_index(collection) < 0)
        return fail("unknown collection", collection);
    if (strcmp(id_in, "new") == 0)
        ids_uuid(now_ms, id);
    else
        snprintf(id, sizeof id, "%s", id_in);
    if (!next_seq(t, &seq, &e))
        return fail("cannot take a change number", e.message);

    bool written = false;
    bson_t *written_doc = NULL;
    for (int attempt = 0; !written && attempt < WRITE_TRIES; attempt++) {
        bson_t *cur = read_doc(t, collection, id, &e);
        if (!cur && e.code)
            return fail("cannot read the document", e.message);
        old_rev[0] = 0;
        if (cur) {
            char clinic[72];
            docmap_text(cur, "clinicId", clinic, sizeof clinic);
            if (!docmap_text(cur, "_sync.rev", old_rev, sizeof old_rev))
                old_rev[0] = 0;
            bson_destroy(cur);
            if (strcmp(clinic, t->clinic) != 0)
                return fail("the document belongs to another clinic", clinic);
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
    printf("{\"id\": \"%s\", \"rev\": \"%s\", \"seq\": %lld}\n", id, rev_text, (long long)seq);
    return 0;
}

/* The only clinic in `clinics`, when --clinic was not given. */
static bool default_clinic(struct tool *t)
{
    mongoc_collection_t *coll = central_collection(t->c, "clinics");
    bson_t q = BSON_INITIALIZER, opts = BSON_INITIALIZER;
    const bson_t *doc;
    int n = 0;
    BSON_APPEND_INT64(&opts, "limit", 2);
    mongoc_cursor_t *cur = mongoc_collection_find_with_opts(coll, &q, &opts, NULL);
    while (mongoc_cursor_next(cur, &doc))
        if (n++ == 0)
            docmap_text(doc, "_id", t->clinic, sizeof t->clinic);
    mongoc_cursor_destroy(cur);
    mongoc_collection_destroy(coll);
    bson_destroy(&q);
    bson_destroy(&opts);
    return n == 1;
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
    long minutes = minutes_s ? strtol(minutes_s, NULL, 10) : 30;
    if (!doctor || !patient || !start_s)
        return fail("book needs --doctor, --patient and --start", NULL);
    if (!timefmt_parse_rfc3339(start_s, &start))
        return fail("--start is not an RFC 3339 time", start_s);
    if (minutes < 5 || minutes > 480)
        return fail("--minutes must be 5 to 480", NULL);
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
    int rc = write_fields(t, "appointments", "new", &f);
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
    int rc = write_fields(t, "appointments", id, &f);
    bson_destroy(&f);
    return rc;
}

static int cmd_get(struct tool *t, const char *collection, const char *id)
{
    bson_error_t e;
    bson_t *d = read_doc(t, collection, id, &e);
    if (!d)
        return fail(e.code ? "cannot read the document" : "no such document",
                    e.code ? e.message : id);
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
        bson_t *f = bson_new_from_json((const uint8_t *)argv[3], -1, &e);
        if (!f)
            return fail("JSON is not valid", e.message);
        int rc = write_fields(t, argv[1], argv[2], f);
        bson_destroy(f);
        return rc;
    }
    if (strcmp(action, "book") == 0)
        return cmd_book(t, argc - 1, argv + 1);
    if (strcmp(action, "cancel") == 0 && argc >= 2)
        return cmd_cancel(t, argv[1], argc - 2, argv + 2);
    if (strcmp(action, "delete") == 0 && argc == 3) {
        if (strcmp(argv[1], "patients") != 0 && strcmp(argv[1], "doctors") != 0)
            return fail("only patients and doctors are deleted; appointments are cancelled",
                        NULL);
        bson_t f = BSON_INITIALIZER;
        BSON_APPEND_DATE_TIME(&f, "deletedAt", app_now() * 1000);
        int rc = write_fields(t, argv[1], argv[2], &f);
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
        return fail("no --uri and no CLINICBOX_MONGO_URI", NULL);
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
    else if (!clinic && !default_clinic(&t))
        rc = fail("say which clinic with --clinic (there is not exactly one in `clinics`)", NULL);
    else
        rc = run(&t, argc - i, argv + i);
    central_close(t.c);
    central_global_cleanup();
    return rc;
}
