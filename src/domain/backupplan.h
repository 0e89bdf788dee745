/*
 * backupplan.h — when the nightly backup is due. Pure: takes `now`.
 *
 * One backup per clinic day: due once the clinic's local time has reached
 * the configured hour on a day that has no backup yet. A box that was off
 * (or whose backup failed) at that hour makes up for it as soon as it can,
 * the same day; a failed attempt is retried after a pause, not at every
 * check. Days are the clinic's, so a backup at 00:30 local time counts for
 * the new day even where that is still yesterday in UTC.
 */
#ifndef CLINICBOX_BACKUPPLAN_H
#define CLINICBOX_BACKUPPLAN_H

#include <stdbool.h>
#include <stdint.h>

#include "core/tz.h"

/* Seconds between a failed attempt and the next. */
#define BACKUPPLAN_RETRY_SECONDS 900

/* Whether a backup is due at now. last_ok: the newest backup's time (0:
 * none); last_failed: the last failed attempt since (0: none); hour: the
 * local hour (0-23) from which a day's backup is due. */
bool backupplan_due(int64_t now, int64_t last_ok, int64_t last_failed, const tz_t *zone, int hour);

#endif
