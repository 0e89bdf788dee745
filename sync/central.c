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

bool central_report_box(central_t *c, const struct box_report *r, char *err, size_t errlen)
{
    bson_t selector = BSON_INITIALIZER, update = BSON_INITIALIZER, set, opts = BSON_INITIALIZER,
           reply;
    bson_error_t e;
    mongoc_collection_t *coll = mongoc_client_get_collection(c->client, c->db, "boxes");
    mongoc_write_concern_t *wc = mongoc_write_concern_new();

    BSON_APPEND_UTF8(&selector, "_id", r->box_id);
    BSON_APPEND_DOCUMENT_BEGIN(&update, "$set", &set);
    BSON_APPEND_UTF8(&set, "clinicId", r->clinic_id);
    BSON_APPEND_UTF8(&set, "clinicName", r->clinic_name);
    BSON_APPEND_UTF8(&set, "version", r->version);
    BSON_APPEND_UTF8(&set, "hostname", r->hostname);
    BSON_APPEND_DATE_TIME(&set, "lastContactAt", r->now * 1000);
    BSON_APPEND_INT64(&set, "queuedMessages", r->queued_messages);
    BSON_APPEND_INT64(&set, "deadMessages", r->dead_messages);
    BSON_APPEND_INT64(&set, "pendingChanges", r->pending_changes);
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
