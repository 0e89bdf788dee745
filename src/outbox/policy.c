/* policy.c — see policy.h. Pure functions; no state. */
#include "outbox/policy.h"

#include <string.h>

#define BACKOFF_BASE_SECONDS 5

int policy_backoff(int attempt, int max_backoff, double r01)
{
    int64_t d = BACKOFF_BASE_SECONDS;
    for (int i = 1; i < attempt && d < max_backoff; i++)
        d *= 2;
    if (d > max_backoff)
        d = max_backoff;
    if (r01 < 0 || r01 >= 1)
        r01 = 0;
    int64_t half = d / 2;
    int64_t out = (d - half) + (int64_t)(r01 * (double)(half + 1));
    if (out > d)
        out = d;
    return out < 1 ? 1 : (int)out;
}

struct policy_decision policy_after_attempt(const send_result *r, int attempts,
                                            int max_attempts, int max_backoff,
                                            int outage_streak, int64_t now, double r01)
{
    struct policy_decision d = {"failed", attempts, 0};
    int wait;

    switch (r->outcome) {
    case SEND_OK:
        d.status = "sent";
        d.attempts = attempts + 1;
        return d;
    case SEND_PERMANENT:
        d.status = "dead";
        d.attempts = attempts + 1;
        return d;
    case SEND_UNREACHABLE:
        /* Not counted: the channel was down. The outage is probed with
         * growing gaps. */
        wait = policy_backoff(outage_streak < 1 ? 1 : outage_streak, max_backoff, r01);
        break;
    case SEND_TRANSIENT:
    default:
        d.attempts = attempts + 1;
        if (d.attempts >= max_attempts) {
            d.status = "dead";
            return d;
        }
        wait = policy_backoff(d.attempts, max_backoff, r01);
        break;
    }
    /* The provider's Retry-After wins when it is not shorter (bounded: a
     * day). `now` is whole seconds, up to one behind the real time, so one
     * second more keeps the retry from coming early. */
    if (r->retry_after > 0 && r->retry_after >= wait)
        wait = (r->retry_after > 86400 ? 86400 : r->retry_after) + 1;
    d.next_attempt_at = now + wait;
    return d;
}

const char *policy_purpose_passed(const char *purpose, int64_t now, int64_t expires_at,
                                  const char *appt_status, bool offer_used)
{
    bool offer = strstr(purpose, "offer") != NULL;
    if (expires_at && now >= expires_at)
        return offer ? "the offer expired before it could be sent"
                     : "the appointment began before the message could be sent";
    if (offer && offer_used)
        return "the patient already used the offer";
    if ((strcmp(purpose, "confirmation") == 0 || strncmp(purpose, "reminder", 8) == 0) &&
        appt_status[0] && strcmp(appt_status, "booked") != 0)
        return "the appointment is no longer booked";
    return NULL;
}
