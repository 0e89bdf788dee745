/*
 * nightly.c — see nightly.h. The copy runs on this thread through its own
 * SQLite connection (store/backup.c), so the server keeps booking while it
 * runs; only the status is shared, under the worker's own mutex. It waits
 * with poll() on an eventfd (a relative timeout), like the other workers:
 * a timed condition wait misbehaves under libfaketime, which the tests use.
 */
#include "service/nightly.h"

#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "core/tz.h"
#include "domain/backupplan.h"
#include "store/backup.h"

#define CHECK_SECONDS 60
#define MAX_FILES 4096

struct nightly {
    app_t *app;
    pthread_t thread;
    pthread_mutex_t lock;
    int wake_fd; /* eventfd: stop */
    bool stop;
    struct nightly_status st;
};

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The backup files in dir, sorted oldest first (their names sort by time);
 * *n of them. NULL with errno when the folder cannot be read. */
static char **list_backups(const char *dir, int *n)
{
    DIR *d = opendir(dir);
    *n = 0;
    if (!d)
        return NULL;
    char **names = calloc(MAX_FILES, sizeof *names);
    struct dirent *e;
    while (names && *n < MAX_FILES && (e = readdir(d)))
        if (backup_is_file_name(e->d_name) && (names[*n] = strdup(e->d_name)))
            (*n)++;
    closedir(d);
    if (names)
        qsort(names, (size_t)*n, sizeof *names, by_name);
    return names;
}

static void free_list(char **names, int n)
{
    for (int i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

/* clinicbox-YYYYMMDDTHHMMSSZ.db -> its time. */
static int64_t time_of(const char *name)
{
    struct tm tm = {0};
    if (sscanf(name, "clinicbox-%4d%2d%2dT%2d%2d%2dZ.db", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
               &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6)
        return 0;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return (int64_t)timegm(&tm);
}

/* Removes the oldest backups beyond keep; only files named like ours. */
static void prune(const char *dir, int keep)
{
    int n;
    char **names = list_backups(dir, &n);
    char path[1100];
    for (int i = 0; names && i < n - keep; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        if (unlink(path) == 0)
            log_info("backup", "removed the old backup %s (keeping the newest %d)", path, keep);
        else
            log_warn("backup", "cannot remove the old backup %s: %s", path, strerror(errno));
    }
    free_list(names, n);
}

static void check(struct nightly *nw)
{
    app_t *app = nw->app;
    const struct config *cfg = &app->cfg;
    int64_t now = app_now();
    int n;
    char err[1500] = "", dest[1100];
    char **names = list_backups(cfg->backup_dir, &n);
    int64_t last_ok = names && n > 0 ? time_of(names[n - 1]) : 0;
    bool readable = names != NULL;
    free_list(names, n);

    clinic_rec cl;
    app_clinic(app, &cl);
    const tz_t *zone = tz_get(cl.timezone[0] ? cl.timezone : "UTC");

    pthread_mutex_lock(&nw->lock);
    nw->st.last_ok_at = last_ok;
    int64_t last_failed = nw->st.last_failed_at;
    pthread_mutex_unlock(&nw->lock);
    if (!backupplan_due(now, last_ok, last_failed, zone, cfg->backup_hour))
        return;

    backup_summary s;
    bool ok = false;
    if (!readable) {
        snprintf(err, sizeof err, "the backup folder %s cannot be read: %s (is the stick plugged in?)",
                 cfg->backup_dir, strerror(errno));
    } else {
        char db[700];
        snprintf(db, sizeof db, "%s/clinicbox.db", cfg->data);
        backup_file_name(cfg->backup_dir, now, dest, sizeof dest);
        ok = backup_make(db, dest, now, &s, err, sizeof err);
    }
    pthread_mutex_lock(&nw->lock);
    if (ok) {
        nw->st.last_ok_at = now;
        nw->st.last_bytes = s.bytes;
        nw->st.last_error[0] = '\0';
        nw->st.ok_total++;
    } else {
        nw->st.last_failed_at = now;
        snprintf(nw->st.last_error, sizeof nw->st.last_error, "%.280s", err);
        nw->st.failed_total++;
    }
    pthread_mutex_unlock(&nw->lock);
    if (ok) {
        char line[900];
        backup_describe(&s, line, sizeof line);
        log_info("backup", "nightly backup written to %s (%lld bytes), integrity_check ok: %s",
                 dest, s.bytes, line);
        prune(cfg->backup_dir, cfg->backup_keep);
    } else {
        log_error("backup", "nightly backup failed: %s; trying again in %d minutes", err,
                  BACKUPPLAN_RETRY_SECONDS / 60);
    }
}

static void *nightly_main(void *arg)
{
    struct nightly *nw = arg;
    for (;;) {
        pthread_mutex_lock(&nw->lock);
        bool stop = nw->stop;
        pthread_mutex_unlock(&nw->lock);
        if (stop)
            break;
        check(nw);
        struct pollfd p = {.fd = nw->wake_fd, .events = POLLIN};
        if (poll(&p, 1, CHECK_SECONDS * 1000) < 0 && errno != EINTR)
            break;
    }
    return NULL;
}

bool nightly_start(app_t *app)
{
    if (!app->cfg.backup_dir[0])
        return true;
    struct nightly *nw = calloc(1, sizeof *nw);
    if (!nw)
        return false;
    nw->app = app;
    nw->st.enabled = true;
    nw->wake_fd = eventfd(0, EFD_CLOEXEC);
    pthread_mutex_init(&nw->lock, NULL);
    if (nw->wake_fd < 0 || pthread_create(&nw->thread, NULL, nightly_main, nw) != 0) {
        if (nw->wake_fd >= 0)
            close(nw->wake_fd);
        pthread_mutex_destroy(&nw->lock);
        free(nw);
        return false;
    }
    app->nightly = nw;
    log_info("backup", "nightly backups into %s from %02d:00 clinic time, keeping %d",
             app->cfg.backup_dir, app->cfg.backup_hour, app->cfg.backup_keep);
    return true;
}

void nightly_stop(app_t *app)
{
    struct nightly *nw = app->nightly;
    if (!nw)
        return;
    pthread_mutex_lock(&nw->lock);
    nw->stop = true;
    pthread_mutex_unlock(&nw->lock);
    uint64_t one = 1;
    if (write(nw->wake_fd, &one, sizeof one) != sizeof one)
        log_warn("backup", "cannot wake the nightly backup thread");
    pthread_join(nw->thread, NULL);
    close(nw->wake_fd);
    pthread_mutex_destroy(&nw->lock);
    free(nw);
    app->nightly = NULL;
}

void nightly_status(app_t *app, struct nightly_status *out)
{
    struct nightly *nw = app->nightly;
    memset(out, 0, sizeof *out);
    if (!nw)
        return;
    pthread_mutex_lock(&nw->lock);
    *out = nw->st;
    pthread_mutex_unlock(&nw->lock);
}
