/*
 * messages.h — the text of patient messages (offers for now; the outbox
 * issue adds confirmations and reminders). Times are written in the
 * clinic's local time. Pure: no I/O.
 */
#ifndef CLINICBOX_MESSAGES_H
#define CLINICBOX_MESSAGES_H

#include <stddef.h>

#include "core/tz.h"
#include "store/records.h"

/* "Tue 01 Dec 09:30" in the zone. */
void messages_local_time(const tz_t *tz, int64_t t, char *buf, size_t len);

/* Writes the subject (email only) and body of an offer message. purpose is
 * "no_show_offer" or "reschedule_offer". link may be relative. */
void messages_offer(const tz_t *tz, const clinic_rec *clinic, const patient_rec *p,
                    const doctor_rec *d, const appt_rec *a, const offer_rec *o,
                    const char *purpose, const char *link, bool sms, char *subject,
                    size_t subject_len, char *body, size_t body_len);

#endif
