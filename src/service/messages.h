/*
 * messages.h — the words of every patient message: confirmations,
 * cancellations, reminders and rescheduling offers, by email and by SMS.
 *
 * Times are written in the clinic's local time ("Tue 01 Dec 09:30").
 * Emails are plain text, addressed to the patient by name. SMS texts must
 * fit in two segments: typographic characters are replaced by GSM-7 ones,
 * then the wordings are tried from the most to the least detailed (full
 * clinic name and doctor; shortened clinic name; bare minimum), an offer
 * listing all its options first and fewer after (its link shows them all).
 * The first GSM-7 text that fits in two segments (306 septets) wins; if
 * none does (a name only UCS-2 can carry), the first UCS-2 text that fits
 * in two segments (134 characters); failing that, the shortest wording.
 * Offer options are numbered.
 * Pure: no I/O.
 */
#ifndef CLINICBOX_MESSAGES_H
#define CLINICBOX_MESSAGES_H

#include <stddef.h>

#include "core/tz.h"
#include "store/records.h"

/* Purposes of messages, as stored in notifications.purpose. */
#define PURPOSE_CONFIRMATION "confirmation"
#define PURPOSE_CANCELLATION "cancellation"
#define PURPOSE_NO_SHOW_OFFER "no_show_offer"
#define PURPOSE_RESCHEDULE_OFFER "reschedule_offer"
#define PURPOSE_CONFLICT_OFFER "conflict_offer" /* a central booking's time was taken */
#define PURPOSE_REMINDER_PREFIX "reminder_" /* + hours + "h", e.g. reminder_24h */

#define SMS_MAX_SEGMENTS 2

typedef struct {
    const tz_t *tz;
    const clinic_rec *clinic;
    const patient_rec *patient;
    const doctor_rec *doctor;
    const appt_rec *appt;
    const offer_rec *offer; /* offers only */
    const char *link;       /* offers only: the rebooking link */
    int reminder_hours;     /* reminders only */
} message_facts;

/* "Tue 01 Dec 09:30" in the zone. */
void messages_local_time(const tz_t *tz, int64_t t, char *buf, size_t len);

/* Subject and body of the email for purpose. */
void messages_email(const char *purpose, const message_facts *f, char *subject,
                    size_t subject_len, char *body, size_t body_len);

/* The SMS text for purpose (see the top of this file for its length). */
void messages_sms(const char *purpose, const message_facts *f, char *body, size_t body_len);

#endif
