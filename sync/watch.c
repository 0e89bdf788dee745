/*
 * watch.c — see watch.h. One thread, one libmongoc client of its own. The
 * stream waits at most a second per call (maxAwaitTimeMS), so stopping takes
 * about a second; longer waits sleep on an eventfd that stop() signals.
 */
#include "sync/watch.h"

#include <mongoc/mongoc.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "core/log.h"
#include "sync/central.h"

#define UNAVAILABLE_RETRY_MS (10 * 60 * 1000)
#define FAILING_RETRY_MS (30 * 1000)
#define HISTORY_LOST 286

enum { W_STARTING, W_ACTIVE, W_UNAVAILABLE, W_FAILING };

struct sync_watch {
    char uri[2048];
    char clinic[72];
    void (*wake)(void *);
    void *wake_arg;
    pthread_t thread;
    int stop_fd;
    atomic_bool stopping;
    atomic_int state;
};

/* Sleeps ms unless stopped first; false when stopped. */
static bool nap(struct sync_watch *w, int ms)
{
    struct pollfd p = {.fd = w->stop_fd, .events = POLLIN};
    poll(&p, 1, ms);
    return !atomic_load(&w->stopping);
}

/* Follows one stream until it ends; returns the error code (0: stopped). */
static uint32_t follow(struct sync_watch *w, central_t *c)
{
    bson_t pipeline = BSON_INITIALIZER, stage, match, arr, opts = BSON_INITIALIZER;
    const bson_t *doc, *reply;
    bson_error_t e = {0};
    uint32_t code = 0;
    BSON_APPEND_ARRAY_BEGIN(&pipeline, "pipeline", &arr);
    BSON_APPEND_DOCUMENT_BEGIN(&arr, "0", &stage);
    BSON_APPEND_DOCUMENT_BEGIN(&stage, "$match", &match);
    BSON_APPEND_UTF8(&match, "operationType", "insert");
    BSON_APPEND_UTF8(&match, "fullDocument.clinicId", w->clinic);
    bson_append_document_end(&stage, &match);
    bson_append_document_end(&arr, &stage);
    bson_append_array_end(&pipeline, &arr);
    BSON_APPEND_INT64(&opts, "maxAwaitTimeMS", 1000);
    mongoc_collection_t *coll = central_collection(c, "changes");
    mongoc_change_stream_t *s = mongoc_collection_watch(coll, &pipeline, &opts);
    bool announced = false;
    while (!atomic_load(&w->stopping)) {
        if (mongoc_change_stream_next(s, &doc)) {
            w->wake(w->wake_arg);
            continue;
        }
        if (mongoc_change_stream_error_document(s, &e, &reply)) {
            code = e.code ? e.code : 1;
            break;
        }
        if (!announced) { /* a first empty wait without an error: it works */
            announced = true;
            if (atomic_exchange(&w->state, W_ACTIVE) != W_ACTIVE)
                log_info("sync", "following central changes with a change stream");
        }
    }
    if (code && atomic_load(&w->state) == W_ACTIVE)
        log_info("sync", "the change stream ended (%s); the rounds catch up by polling", e.message);
    if (code == HISTORY_LOST) /* never resumed from a stale token: reopen from now */
        w->wake(w->wake_arg);
    else if (code && e.domain != MONGOC_ERROR_SERVER && e.domain != MONGOC_ERROR_QUERY)
        atomic_store(&w->state, W_FAILING);
    else if (code && !announced && atomic_exchange(&w->state, W_UNAVAILABLE) != W_UNAVAILABLE)
        log_info("sync", "the central server has no change streams (%s); polling every round "
                         "instead", e.message);
    mongoc_change_stream_destroy(s);
    mongoc_collection_destroy(coll);
    bson_destroy(&pipeline);
    bson_destroy(&opts);
    return code;
}

static void *watch_main(void *arg)
{
    struct sync_watch *w = arg;
    char err[512];
    central_t *c = central_open(w->uri, err, sizeof err);
    while (c && !atomic_load(&w->stopping)) {
        uint32_t code = follow(w, c);
        if (!code || code == HISTORY_LOST)
            continue;
        int state = atomic_load(&w->state);
        if (!nap(w, state == W_UNAVAILABLE ? UNAVAILABLE_RETRY_MS : FAILING_RETRY_MS))
            break;
    }
    central_close(c);
    return NULL;
}

struct sync_watch *sync_watch_start(const char *uri, const char *clinic_id,
                                    void (*wake)(void *), void *wake_arg)
{
    struct sync_watch *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    snprintf(w->uri, sizeof w->uri, "%s", uri);
    snprintf(w->clinic, sizeof w->clinic, "%s", clinic_id);
    w->wake = wake;
    w->wake_arg = wake_arg;
    atomic_init(&w->stopping, false);
    atomic_init(&w->state, W_STARTING);
    w->stop_fd = eventfd(0, EFD_CLOEXEC);
    if (w->stop_fd < 0 || pthread_create(&w->thread, NULL, watch_main, w) != 0) {
        if (w->stop_fd >= 0)
            close(w->stop_fd);
        free(w);
        return NULL;
    }
    return w;
}

void sync_watch_stop(struct sync_watch *w)
{
    if (!w)
        return;
    uint64_t one = 1;
    atomic_store(&w->stopping, true);
    if (write(w->stop_fd, &one, sizeof one) < 0)
        log_debug("sync", "eventfd write failed");
    pthread_join(w->thread, NULL);
    close(w->stop_fd);
    free(w);
}

const char *sync_watch_state(struct sync_watch *w)
{
    static const char *const names[] = {"starting", "active", "unavailable", "failing"};
    return w ? names[atomic_load(&w->state)] : "off";
}
