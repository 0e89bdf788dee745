/*
 * reminders.h — queues reminder messages before appointments (the clinic's
 * reminder_hours; domain/reminder.h decides which one is due). Run by the
 * no-show worker on each tick, under the same clock guard: a wall clock that
 * jumped ahead must not fire a day's reminders at once.
 */
#ifndef CLINICBOX_REMINDERS_H
#define CLINICBOX_REMINDERS_H

#include "service/app.h"

/* Queues the reminders due at `now`, each at most once per appointment and
 * lead. Returns how many appointments got one, or -1 on a storage error. */
long svc_reminder_sweep(app_t *app, int64_t now);

#endif
