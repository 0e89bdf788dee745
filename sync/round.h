/*
 * round.h — one sync round with the central MongoDB: what `clinicbox sync
 * --once` runs, and (next) what the sync thread runs every
 * sync_interval_seconds. Today a round connects, pushes the journal's
 * changes (push.h) and reports the box (central.h); pulling central changes
 * is the next step of issue 4 (docs/sync.md).
 */
#ifndef CLINICBOX_ROUND_H
#define CLINICBOX_ROUND_H

#include <stdbool.h>
#include <stddef.h>

#include "service/app.h"

/* This box's id (a UUID made and kept in the database at first use), into
 * out (ID_LEN). false on a storage error. */
bool sync_box_id(app_t *app, char *out);

/* One round. true when it completed; else false with the reason (never
 * the password) in err. */
bool sync_round(app_t *app, char *err, size_t errlen);

#endif
