/*
 * reminder.h — which reminder an appointment is due for. Pure.
 *
 * A clinic sends reminders at fixed leads before each appointment (by
 * default 24 and 2 hours). At any moment only the nearest lead that has come
 * counts, so a box that was off when the 24-hour reminder was due sends the
 * 2-hour one, not both at once. An appointment booked inside a lead's window
 * (a same-day booking, say) gets no reminder for that lead: the patient has
 * just been told.
 */
#ifndef CLINICBOX_REMINDER_H
#define CLINICBOX_REMINDER_H

#include <stdint.h>

/* The lead in hours of the reminder due now for an appointment starting at
 * `start` that was booked at `booked_at`, or 0 if none. hours: the leads,
 * any order, n of them. */
int reminder_due(const int *hours, int n, int64_t start, int64_t booked_at, int64_t now);

#endif
