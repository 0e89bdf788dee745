/*
 * appointment.h — the appointment life cycle, as pure rules.
 *
 *   booked --check-in--> checked_in --complete--> completed
 *   booked --cancel----> cancelled
 *   booked --no-show---> no_show        (only from start + grace on)
 *   booked | cancelled | no_show --rebook--> rescheduled (+ a new booked one)
 *   booked | cancelled | no_show --reschedule--> (an offer; status unchanged)
 *
 * "Live" statuses (booked, checked_in) hold the doctor's time. No I/O here;
 * `now` is a parameter.
 */
#ifndef CLINICBOX_APPOINTMENT_H
#define CLINICBOX_APPOINTMENT_H

#include <stdbool.h>
#include <stdint.h>

enum appt_action {
    APPT_CHECK_IN,
    APPT_COMPLETE,
    APPT_CANCEL,
    APPT_NO_SHOW,
    APPT_REBOOK,
    APPT_OFFER,
};

bool appt_status_valid(const char *status);
bool appt_status_live(const char *status);

/* Decides whether `action` may happen to an appointment in `status` that
 * starts at `start`, at time `now`, with the clinic's grace period. On
 * success sets *to (the new status; for APPT_OFFER the unchanged status) and
 * returns true; otherwise sets *why to a sentence for the user. */
bool appt_transition(const char *status, enum appt_action action, int64_t start,
                     int grace_minutes, int64_t now, const char **to, const char **why);

const char *appt_action_name(enum appt_action action);

#endif
