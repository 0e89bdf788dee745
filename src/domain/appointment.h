/*
 * appointment.h — the appointment life cycle, as pure rules.
 *
 *   booked --check-in--> checked_in --complete--> completed
 *   booked --cancel----> cancelled
 *   booked --no-show---> no_show        (only from start + grace on)
 *   booked | cancelled | no_show | conflict --rebook--> rescheduled (+ a new booked one)
 *   booked | cancelled | no_show | conflict --reschedule--> (an offer; status unchanged)
 *   conflict --cancel--> cancelled
 *
 * "conflict" is a booking made centrally for time the box had already given
 * away (docs/sync.md); it holds no time and waits for rescheduling.
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

/* The actions (at most 2) that take an appointment from status `from` to
 * `to`, into steps. false when no sequence of life-cycle actions does (a
 * check-in is never undone by a cancel, a cancel never by a booking): the
 * sync takes a central status change only along such a path. */
bool appt_path(const char *from, const char *to, enum appt_action *steps, int *nsteps);

#endif
