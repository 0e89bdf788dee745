/* appointment.c — see appointment.h for the state diagram. */
#include "domain/appointment.h"

#include <string.h>

static const char *const statuses[] = {"booked",  "checked_in",  "completed", "cancelled",
                                       "no_show", "rescheduled", "conflict"};

bool appt_status_valid(const char *status)
{
    for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++)
        if (status && strcmp(status, statuses[i]) == 0)
            return true;
    return false;
}

bool appt_status_live(const char *status)
{
    return strcmp(status, "booked") == 0 || strcmp(status, "checked_in") == 0;
}

const char *appt_action_name(enum appt_action action)
{
    switch (action) {
    case APPT_CHECK_IN:
        return "check-in";
    case APPT_COMPLETE:
        return "complete";
    case APPT_CANCEL:
        return "cancel";
    case APPT_NO_SHOW:
        return "no-show";
    case APPT_REBOOK:
        return "rebook";
    case APPT_OFFER:
        return "reschedule";
    }
    return "?";
}

bool appt_transition(const char *status, enum appt_action action, int64_t start,
                     int grace_minutes, int64_t now, const char **to, const char **why)
{
    bool booked = strcmp(status, "booked") == 0;
    bool conflict = strcmp(status, "conflict") == 0;
    bool movable = booked || conflict || strcmp(status, "cancelled") == 0 ||
                   strcmp(status, "no_show") == 0;

    *to = NULL;
    *why = NULL;
    switch (action) {
    case APPT_CHECK_IN:
        if (booked) {
            *to = "checked_in";
            return true;
        }
        *why = "only a booked appointment can be checked in";
        return false;
    case APPT_COMPLETE:
        if (strcmp(status, "checked_in") == 0) {
            *to = "completed";
            return true;
        }
        *why = "only a checked-in appointment can be completed";
        return false;
    case APPT_CANCEL:
        if (booked || conflict) {
            *to = "cancelled";
            return true;
        }
        *why = "only a booked appointment (or a sync conflict) can be cancelled";
        return false;
    case APPT_NO_SHOW:
        if (!booked) {
            *why = strcmp(status, "checked_in") == 0
                       ? "the patient has checked in"
                       : "only a booked appointment can be marked as a no-show";
            return false;
        }
        if (now < start + (int64_t)grace_minutes * 60) {
            *why = "the grace period after the start has not passed yet";
            return false;
        }
        *to = "no_show";
        return true;
    case APPT_REBOOK:
        if (movable) {
            *to = "rescheduled";
            return true;
        }
        *why = "only a booked, cancelled, no-show or conflict appointment can be rebooked";
        return false;
    case APPT_OFFER:
        if (movable) {
            *to = status;
            return true;
        }
        *why = "only a booked, cancelled, no-show or conflict appointment can be rescheduled";
        return false;
    }
    *why = "unknown action";
    return false;
}

bool appt_path(const char *from, const char *to, enum appt_action *steps, int *nsteps)
{
    /* the edges of the diagram in appointment.h that a status alone names
     * (rebooking and offers need more than a status) */
    static const struct {
        const char *from, *to;
        enum appt_action action;
    } edges[] = {
        {"booked", "checked_in", APPT_CHECK_IN}, {"checked_in", "completed", APPT_COMPLETE},
        {"booked", "cancelled", APPT_CANCEL},    {"conflict", "cancelled", APPT_CANCEL},
        {"booked", "no_show", APPT_NO_SHOW},
    };
    const size_t n = sizeof edges / sizeof edges[0];
    *nsteps = 0;
    if (strcmp(from, to) == 0)
        return true;
    for (size_t i = 0; i < n; i++)
        if (strcmp(edges[i].from, from) == 0 && strcmp(edges[i].to, to) == 0) {
            steps[(*nsteps)++] = edges[i].action;
            return true;
        }
    for (size_t i = 0; i < n; i++) /* two steps: booked -> checked_in -> completed */
        for (size_t k = 0; k < n; k++)
            if (strcmp(edges[i].from, from) == 0 && strcmp(edges[i].to, edges[k].from) == 0 &&
                strcmp(edges[k].to, to) == 0) {
                steps[0] = edges[i].action;
                steps[1] = edges[k].action;
                *nsteps = 2;
                return true;
            }
    return false;
}
