/*
 * nightly.h — the nightly backup (docs/backup.md): a thread of its own that
 * once a minute asks domain/backupplan.h whether today's backup is due and,
 * if so, writes one into backup_dir (a USB stick, say) with
 * store/backup.h and keeps the newest backup_keep of them. The newest
 * backup is read from the folder's file names at every check, so a stick
 * that is swapped gets its own backup the same day. Off while backup_dir is
 * empty. Health and metrics show how it went.
 */
#ifndef CLINICBOX_NIGHTLY_H
#define CLINICBOX_NIGHTLY_H

#include <stdbool.h>
#include <stdint.h>

#include "service/app.h"

struct nightly_status {
    bool enabled;
    int64_t last_ok_at;      /* the newest backup in the folder (0: none) */
    long long last_bytes;    /* its size, when this run of the box made it */
    int64_t last_failed_at;  /* the last failed attempt (0: none since start) */
    char last_error[300];    /* why, "" when the last attempt worked */
    long long ok_total, failed_total; /* since start */
};

bool nightly_start(app_t *app); /* true also when off */
void nightly_stop(app_t *app);
void nightly_status(app_t *app, struct nightly_status *out);

#endif
