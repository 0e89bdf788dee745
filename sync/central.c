/*
 * central.c — see central.h. Documents are built with libbson's builders;
 * times are BSON dates, so Compass and mongosh show them as dates.
 * Thread use: a central_t belongs to one thread (libmongoc clients are not
 * thread-safe); the global init/cleanup run on the main thread.
 */
#include "sync/central.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <mongoc/mongoc.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/ids.h"
#include "core/log.h"

#define DEFAULT_TIMEOUT_MS 5000
#define SOCKET_TIMEOUT_MS 30000

struct central {
    mongoc_client_t *client;
    char db[128];
};

static void log_handler(mongoc_log_level_t level, const char *domain, const char *message,
                        void *data)
{
    (void)data;
    /* libmongoc does not print credentials. Its warnings are about the
     * server's answers (a test server without endSessions, say), not
     * problems of the box: info. */
    if (level <= MONGOC_LOG_LEVEL_ERROR)
        log_error("mongoc", "%s: %s", domain, message);
    else if (level <= MONGOC_LOG_LEVEL_WARNING)
        log_info("mongoc", "%s: %s", domain, message);
    else
        log_debug("mongoc", "%s: %s", domain, message);
}

void central_global_init(void)
{
    /* The handler first, so that whatever mongoc_init() says is in the
     * box's format (libmongoc may also have initialised itself when it was
     * loaded: then this init does nothing, see central_process_start()). */
    mongoc_log_set_handler(log_handler, NULL);
    mongoc_init();
}

/* Removes /dev/shm/mongoc-PID names of this user whose process is gone:
 * left by a process killed before it reached main() (or by a libFuzzer
 * target, which ends with _Exit), they would make a later process that
 * gets the same pid print libmongoc's warning in its own format, before
 * main(), where no handler of the box can catch it (CI, 2026-12-07). */
static void sweep_dead_counter_files(void)
{
    DIR *d = opendir("/dev/shm");
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        const char *digits = e->d_name + strlen("mongoc-");
        char *end;
        if (strncmp(e->d_name, "mongoc-", strlen("mongoc-")) != 0 || !*digits)
            continue;
        long pid = strtol(digits, &end, 10);
        struct stat st;
        if (*end || pid <= 0 || pid > INT32_MAX ||
            fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
            st.st_uid != geteuid())
            continue;
        if (kill((pid_t)pid, 0) == -1 && errno == ESRCH) {
            char name[sizeof e->d_name + 1];
            snprintf(name, sizeof name, "/%s", e->d_name);
            shm_unlink(name);
        }
    }
    closedir(d);
}

void central_process_start(void)
{
    /* libmongoc initialises itself when the program is loaded, before
     * main(), and keeps counters (for its mongoc-stat tool) in
     * /dev/shm/mongoc-PID, which only a clean exit removes. A kill -9
     * leaves the file, and a later process that gets the same pid finds it
     * and warns "Falling back to malloc for counters" in libmongoc's own
     * format, before any handler of the box can be set. Removing our own
     * name now keeps the mapping (the counters work as before) and leaves
     * nothing behind; the files of processes that died before they got
     * here go too. The packaged service sets MONGOC_DISABLE_SHM, so that
     * libmongoc makes none at all. */
    char name[40];
    snprintf(name, sizeof name, "/mongoc-%ld", (long)getpid());
    shm_unlink(name);
    sweep_dead_counter_files();
}

void central_global_cleanup(void)
{
    mongoc_cleanup();
}

void central_redact_uri(const char *uri, char *out, size_t len)
{
    /* scheme://user:password@hosts/... : mask what is between the first
     * ':' after "//" and the last '@' before the path. */
    const char *start = strstr(uri, "//");
    const char *slash, *at = NULL, *colon;
    snprintf(out, len, "%s", uri);
    if (!start)
        return;
    start += 2;
    slash = strchr(start, '/');
    for (const char *p = start; *p && (!slash || p < slash); p++)
        if (*p == '@')
            at = p;
    if (!at)
        return;
    colon = memchr(start, ':', (size_t)(at - start));
    if (!colon)
        return;
    snprintf(out, len, "%.*s*****%s", (int)(colon + 1 - uri), uri, at);
}

central_t *central_open(const char *uri_text, char *err, size_t errlen)
{
    bson_error_t e;
    char safe[1100];
    central_t *c = NULL;
    mongoc_uri_t *uri = mongoc_uri_new_with_error(uri_text, &e);

    central_redact_uri(uri_text, safe, sizeof safe);
    if (!uri) {
        /* libmongoc's message may quote the URI: give our own, redacted */
        snprintf(err, errlen, "mongo_uri is not a valid MongoDB URI: %s", safe);
        return NULL;
    }
    if (!mongoc_uri_has_option(uri, MONGOC_URI_SERVERSELECTIONTIMEOUTMS))
        mongoc_uri_set_option_as_int32(uri, MONGOC_URI_SERVERSELECTIONTIMEOUTMS,
                                       DEFAULT_TIMEOUT_MS);
    if (!mongoc_uri_has_option(uri, MONGOC_URI_CONNECTTIMEOUTMS))
        mongoc_uri_set_option_as_int32(uri, MONGOC_URI_CONNECTTIMEOUTMS, DEFAULT_TIMEOUT_MS);
    /* a write or read that hangs (a half-open link, a server that crawls)
     * fails the round in half a minute, not libmongoc's five; the push then
     * halves its batch (ctl.h) */
    if (!mongoc_uri_has_option(uri, MONGOC_URI_SOCKETTIMEOUTMS))
        mongoc_uri_set_option_as_int32(uri, MONGOC_URI_SOCKETTIMEOUTMS, SOCKET_TIMEOUT_MS);
    mongoc_uri_set_appname(uri, "clinicbox");
    c = calloc(1, sizeof *c);
    if (c)
        c->client = mongoc_client_new_from_uri_with_error(uri, &e);
    if (!c || !c->client) {
        snprintf(err, errlen, "cannot use mongo_uri %s: %s", safe, c ? e.message : "out of memory");
        free(c);
        mongoc_uri_destroy(uri);
        return NULL;
    }
    const char *db = mongoc_uri_get_database(uri);
    snprintf(c->db, sizeof c->db, "%s", db && *db ? db : "clinicbox");
    mongoc_client_set_error_api(c->client, MONGOC_ERROR_API_VERSION_2);
    mongoc_uri_destroy(uri);
    return c;
}

void central_close(central_t *c)
{
    if (!c)
        return;
    mongoc_client_destroy(c->client);
    free(c);
}

const char *central_db_name(const central_t *c)
{
    return c->db;
}

bool central_ping(central_t *c, char *err, size_t errlen)
{
    bson_t cmd = BSON_INITIALIZER, reply;
    bson_error_t e;
    BSON_APPEND_INT32(&cmd, "ping", 1);
    bool ok = mongoc_client_command_simple(c->client, "admin", &cmd, NULL, &reply, &e);
    if (!ok)
        snprintf(err, errlen, "the central database does not answer: %s", e.message);
    bson_destroy(&cmd);
    bson_destroy(&reply);
    return ok;
}

/* A date, or null when t is 0. */
static void append_date_or_null(bson_t *b, const char *key, int64_t ms)
{
    if (ms)
        BSON_APPEND_DATE_TIME(b, key, ms);
    else
        BSON_APPEND_NULL(b, key);
}

bool central_report_box(central_t *c, const struct box_report *r, char *err, size_t errlen)
{
    bson_t selector = BSON_INITIALIZER, update = BSON_INITIALIZER, set, opts = BSON_INITIALIZER,
           reply, settings, hours;
    bson_error_t e;
    mongoc_collection_t *coll = mongoc_client_get_collection(c->client, c->db, "boxes");
    mongoc_write_concern_t *wc = mongoc_write_concern_new();

    BSON_APPEND_UTF8(&selector, "_id", r->box_id);
    BSON_APPEND_DOCUMENT_BEGIN(&update, "$set", &set);
    BSON_APPEND_UTF8(&set, "clinicId", r->clinic_id);
    BSON_APPEND_UTF8(&set, "clinicName", r->clinic_name);
    BSON_APPEND_UTF8(&set, "timezone", r->timezone);
    BSON_APPEND_UTF8(&set, "version", r->version);
    BSON_APPEND_UTF8(&set, "hostname", r->hostname);
    BSON_APPEND_UTF8(&set, "state", r->ok ? "ok" : "failing");
    if (r->ok || !r->error)
        BSON_APPEND_NULL(&set, "lastError");
    else
        BSON_APPEND_UTF8(&set, "lastError", r->error);
    BSON_APPEND_DATE_TIME(&set, "lastContactAt", r->now * 1000);
    if (r->ok)
        BSON_APPEND_DATE_TIME(&set, "lastSuccessAt", r->now * 1000);
    BSON_APPEND_INT32(&set, "syncIntervalSeconds", r->sync_interval_seconds);
    BSON_APPEND_INT64(&set, "appliedSeq", r->applied_seq);
    if (r->central_seq >= 0) {
        BSON_APPEND_INT64(&set, "centralSeq", r->central_seq);
        BSON_APPEND_INT64(&set, "pullLag",
                          r->central_seq > r->applied_seq ? r->central_seq - r->applied_seq : 0);
    } else {
        BSON_APPEND_NULL(&set, "centralSeq");
        BSON_APPEND_NULL(&set, "pullLag");
    }
    BSON_APPEND_INT64(&set, "pendingChanges", r->pending_changes);
    append_date_or_null(&set, "oldestPendingAt", r->oldest_pending_ms);
    BSON_APPEND_INT64(&set, "pushLagSeconds",
                      r->oldest_pending_ms && r->now * 1000 > r->oldest_pending_ms
                          ? (r->now * 1000 - r->oldest_pending_ms) / 1000
                          : 0);
    BSON_APPEND_INT64(&set, "queuedMessages", r->queued_messages);
    BSON_APPEND_INT64(&set, "deadMessages", r->dead_messages);
    BSON_APPEND_INT64(&set, "rejectedTotal", (int64_t)r->rejected_total);
    BSON_APPEND_INT64(&set, "conflictsTotal", (int64_t)r->conflicts_total);
    BSON_APPEND_BOOL(&set, "clockSkewSuspected", r->clock_skew_suspected);
    if (r->clock_ahead_ms)
        BSON_APPEND_INT64(&set, "clockAheadSeconds", r->clock_ahead_ms / 1000);
    else
        BSON_APPEND_NULL(&set, "clockAheadSeconds");
    if (r->clock_skew_known)
        BSON_APPEND_INT64(&set, "clockSkewSeconds", r->clock_skew_ms / 1000);
    else
        BSON_APPEND_NULL(&set, "clockSkewSeconds");
    BSON_APPEND_UTF8(&set, "changeStream", r->change_stream ? r->change_stream : "off");
    BSON_APPEND_DOCUMENT_BEGIN(&set, "settings", &settings);
    BSON_APPEND_INT32(&settings, "graceMinutes", r->settings.grace_minutes);
    BSON_APPEND_UTF8(&settings, "graceFrom", r->settings.grace_from_clinic ? "clinic" : "config");
    BSON_APPEND_INT32(&settings, "rescheduleOptions", r->settings.reschedule_options);
    BSON_APPEND_INT32(&settings, "offerHours", r->settings.offer_hours);
    BSON_APPEND_ARRAY_BEGIN(&settings, "reminderHours", &hours);
    for (int i = 0; i < r->settings.nreminders; i++) {
        char key[16];
        snprintf(key, sizeof key, "%d", i);
        BSON_APPEND_INT32(&hours, key, r->settings.reminder_hours[i]);
    }
    bson_append_array_end(&settings, &hours);
    BSON_APPEND_BOOL(&settings, "confirmations", r->settings.confirmations);
    BSON_APPEND_UTF8(&settings, "language", r->settings.language ? r->settings.language : "auto");
    bson_append_document_end(&set, &settings);
    bson_append_document_end(&update, &set);
    BSON_APPEND_BOOL(&opts, "upsert", true);
    /* majority where the server has a replica set; a standalone server
     * treats it as an acknowledged write */
    mongoc_write_concern_set_wmajority(wc, 0);
    mongoc_write_concern_append(wc, &opts);

    bool ok = mongoc_collection_update_one(coll, &selector, &update, &opts, &reply, &e);
    if (!ok)
        snprintf(err, errlen, "cannot write this box's document: %s", e.message);
    bson_destroy(&reply);
    bson_destroy(&selector);
    bson_destroy(&update);
    bson_destroy(&opts);
    mongoc_write_concern_destroy(wc);
    mongoc_collection_destroy(coll);
    return ok;
}

/* The indexes (docs/sync.md, "Indexes"). Named as the server would name
 * them, so that one an admin made with the same keys is the same index. */
static const struct {
    const char *collection, *name;
    const char *keys[2];
    bool unique;
} indexes[] = {
    {"changes", "clinicId_1_seq_1", {"clinicId", "seq"}, true},
    {"appointments", "clinicId_1_start_1", {"clinicId", "start"}, false},
    {"clinics", "clinicId_1", {"clinicId", NULL}, false},
    {"doctors", "clinicId_1", {"clinicId", NULL}, false},
    {"schedules", "clinicId_1", {"clinicId", NULL}, false},
    {"patients", "clinicId_1", {"clinicId", NULL}, false},
    {"offers", "clinicId_1", {"clinicId", NULL}, false},
    {"notifications", "clinicId_1", {"clinicId", NULL}, false},
    {"rejections", "clinicId_1_at_1", {"clinicId", "at"}, false},
};

int central_ensure_indexes(central_t *c, char *err, size_t errlen)
{
    int result = 1;
    for (size_t i = 0; i < sizeof indexes / sizeof indexes[0]; i++) {
        bson_t cmd = BSON_INITIALIZER, list, spec, key, reply;
        bson_error_t e;
        BSON_APPEND_UTF8(&cmd, "createIndexes", indexes[i].collection);
        BSON_APPEND_ARRAY_BEGIN(&cmd, "indexes", &list);
        BSON_APPEND_DOCUMENT_BEGIN(&list, "0", &spec);
        BSON_APPEND_DOCUMENT_BEGIN(&spec, "key", &key);
        for (int k = 0; k < 2 && indexes[i].keys[k]; k++)
            BSON_APPEND_INT32(&key, indexes[i].keys[k], 1);
        bson_append_document_end(&spec, &key);
        BSON_APPEND_UTF8(&spec, "name", indexes[i].name);
        if (indexes[i].unique)
            BSON_APPEND_BOOL(&spec, "unique", true);
        bson_append_document_end(&list, &spec);
        bson_append_array_end(&cmd, &list);
        bool ok = mongoc_client_write_command_with_opts(c->client, c->db, &cmd, NULL, &reply, &e);
        bson_destroy(&cmd);
        bson_destroy(&reply);
        if (ok)
            continue;
        /* the server answered no (a privilege, a duplicate, a conflicting
         * index): the others are still worth making */
        if (e.domain == MONGOC_ERROR_SERVER || e.domain == MONGOC_ERROR_QUERY ||
            e.domain == MONGOC_ERROR_WRITE_CONCERN) {
            if (result == 1)
                snprintf(err, errlen, "%s {%s%s%s}: %s", indexes[i].collection,
                         indexes[i].keys[0], indexes[i].keys[1] ? ", " : "",
                         indexes[i].keys[1] ? indexes[i].keys[1] : "", e.message);
            result = 0;
            continue;
        }
        snprintf(err, errlen, "the central database does not answer: %s", e.message);
        return -1;
    }
    return result;
}

bool central_counter_seq(central_t *c, const char *clinic_id, int64_t *seq, char *err,
                         size_t errlen)
{
    bson_t q = BSON_INITIALIZER;
    bson_error_t e;
    const bson_t *doc;
    bson_iter_t it;
    mongoc_collection_t *coll = central_collection(c, "counters");
    BSON_APPEND_UTF8(&q, "_id", clinic_id);
    mongoc_cursor_t *cur = mongoc_collection_find_with_opts(coll, &q, NULL, NULL);
    *seq = 0;
    if (mongoc_cursor_next(cur, &doc) && bson_iter_init_find(&it, doc, "seq") &&
        BSON_ITER_HOLDS_NUMBER(&it))
        *seq = bson_iter_as_int64(&it);
    bool ok = !mongoc_cursor_error(cur, &e);
    if (!ok)
        snprintf(err, errlen, "cannot read the clinic's change counter: %s", e.message);
    mongoc_cursor_destroy(cur);
    mongoc_collection_destroy(coll);
    bson_destroy(&q);
    return ok;
}

bool central_server_time(central_t *c, int64_t *server_ms, int64_t *rtt_ms)
{
    bson_t cmd = BSON_INITIALIZER, reply;
    bson_error_t e;
    bson_iter_t it;
    BSON_APPEND_INT32(&cmd, "hello", 1);
    int64_t t0 = bson_get_monotonic_time();
    bool ok = mongoc_client_command_simple(c->client, "admin", &cmd, NULL, &reply, &e) &&
              bson_iter_init_find(&it, &reply, "localTime") && BSON_ITER_HOLDS_DATE_TIME(&it);
    *rtt_ms = (bson_get_monotonic_time() - t0) / 1000;
    if (ok)
        *server_ms = bson_iter_date_time(&it);
    bson_destroy(&cmd);
    bson_destroy(&reply);
    return ok;
}

mongoc_collection_t *central_collection(central_t *c, const char *name)
{
    return mongoc_client_get_collection(c->client, c->db, name);
}

bool central_epoch(central_t *c, int64_t now, char *out, size_t len, char *err, size_t errlen)
{
    bson_t sel = BSON_INITIALIZER, upd = BSON_INITIALIZER, soi, opts = BSON_INITIALIZER, reply;
    bson_error_t e;
    char fresh[ID_LEN];
    const bson_t *doc;
    bson_iter_t it;
    bool ok = false;
    mongoc_collection_t *coll = central_collection(c, "central");
    mongoc_write_concern_t *wc = mongoc_write_concern_new();
    mongoc_cursor_t *cur = NULL;

    ids_uuid(now * 1000, fresh);
    BSON_APPEND_UTF8(&sel, "_id", "epoch");
    BSON_APPEND_DOCUMENT_BEGIN(&upd, "$setOnInsert", &soi);
    BSON_APPEND_UTF8(&soi, "epoch", fresh);
    BSON_APPEND_DATE_TIME(&soi, "createdAt", now * 1000);
    bson_append_document_end(&upd, &soi);
    BSON_APPEND_BOOL(&opts, "upsert", true);
    mongoc_write_concern_set_wmajority(wc, 0);
    mongoc_write_concern_append(wc, &opts);
    bool written = mongoc_collection_update_one(coll, &sel, &upd, &opts, &reply, &e);
    bson_destroy(&reply); /* initialised by libmongoc either way */
    /* two boxes inserting at once: one loses on _id, and reads below */
    if (!written && e.code != 11000) {
        snprintf(err, errlen, "cannot read the central epoch: %s", e.message);
        goto out;
    }
    cur = mongoc_collection_find_with_opts(coll, &sel, NULL, NULL);
    if (mongoc_cursor_next(cur, &doc) && bson_iter_init_find(&it, doc, "epoch") &&
        BSON_ITER_HOLDS_UTF8(&it)) {
        snprintf(out, len, "%s", bson_iter_utf8(&it, NULL));
        ok = true;
    } else if (mongoc_cursor_error(cur, &e)) {
        snprintf(err, errlen, "cannot read the central epoch: %s", e.message);
    } else {
        snprintf(err, errlen, "the central epoch document has no epoch");
    }
out:
    mongoc_cursor_destroy(cur);
    bson_destroy(&sel);
    bson_destroy(&upd);
    bson_destroy(&opts);
    mongoc_write_concern_destroy(wc);
    mongoc_collection_destroy(coll);
    return ok;
}
