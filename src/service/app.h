/*
 * app.h — the running box: settings, storage, the cached clinic settings and
 * the no-show worker's state, shared by every thread.
 *
 * Service results. Service functions return SVC_OK or an svc_status whose
 * value is the HTTP status the API answers with, and fill an svc_err with a
 * sentence for the user (and the field it is about, if any). The mapping
 * lives here, once, so the HTTP handlers stay thin.
 */
#ifndef CLINICBOX_APP_H
#define CLINICBOX_APP_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/config.h"
#include "domain/clockguard.h"
#include "store/db.h"
#include "store/records.h"

enum svc_status {
    SVC_OK = 0,
    SVC_BAD_REQUEST = 400,
    SVC_UNAUTHORIZED = 401,
    SVC_FORBIDDEN = 403,
    SVC_NOT_FOUND = 404,
    SVC_CONFLICT = 409,
    SVC_GONE = 410,
    SVC_PRECONDITION_FAILED = 412, /* If-Match does not match: changed meanwhile */
    SVC_UNPROCESSABLE = 422,
    SVC_TOO_MANY = 429, /* login attempts: wait retry_after seconds */
    SVC_UNAVAILABLE = 503,
};

typedef struct {
    int status;
    char field[40];
    char detail[300];
    /* For a 409 on a slot: free alternatives next to the one asked for. */
    interval_t alternatives[5];
    int nalternatives;
    int retry_after; /* seconds, for a 429 or 503 (0: none) */
} svc_err;

typedef struct app {
    struct config cfg;
    db_t *db;
    pthread_mutex_t lock; /* guards clinic, guard, noshow_* */
    clinic_rec clinic;
    clockguard_t guard;
    int64_t noshow_last_run;
    long long noshow_total;
    bool stopping;
    int noshow_wake_fd; /* eventfd: wakes the no-show worker */
    pthread_t noshow_thread;
    bool noshow_started;
    struct outbox *outbox; /* outbox/outbox.h; NULL until started */
    struct sync_engine *sync; /* sync/engine.h; NULL when sync is off */
    struct nightly *nightly;  /* service/nightly.h; NULL when backups are off */
} app_t;

/* Sets e and returns status. */
int svc_fail(svc_err *e, int status, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Maps a store_rc from a failed store call to a status (404 or 503). */
int svc_store_fail(svc_err *e, int store_rc, const char *what);

/* Opens the database, creates the clinic row on first start, loads the
 * cached clinic. false with a message on failure. */
bool app_open(app_t *app, const struct config *cfg, int64_t now, char *err, size_t errlen);
void app_close(app_t *app);

/* A copy of the clinic settings. */
void app_clinic(app_t *app, clinic_rec *out);
/* Reloads the cache from the database after a committed change. */
void app_clinic_reload(app_t *app);

int64_t app_now(void);

#endif
