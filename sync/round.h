/*
 * round.h — one sync round with the central MongoDB: what `clinicbox sync
 * --once` runs, and what the sync thread (engine.h) runs every
 * sync_interval_seconds. Today a round connects, pushes the journal's
 * changes (push.h) and reports the box (central.h); pulling central changes
 * is the next step of issue 4 (docs/sync.md).
 */
#ifndef CLINICBOX_ROUND_H
#define CLINICBOX_ROUND_H

#include <stdbool.h>
#include <stddef.h>

#include "service/app.h"
#include "sync/central.h"

/* This box's id (a UUID made and kept in the database at first use), into
 * out (ID_LEN). false on a storage error. */
bool sync_box_id(app_t *app, char *out);

/* One round on its own connection. true when it completed; else false
 * with the reason (never the password) in err. */
bool sync_round(app_t *app, char *err, size_t errlen);

/* One round on an open client (the sync thread keeps one); *pushed gets
 * the number of records pushed. */
bool sync_round_on(app_t *app, central_t *c, long *pushed, char *err, size_t errlen);

#endif
