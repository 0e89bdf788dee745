/*
 * policy.h — the outbox's rules, as pure functions of their inputs: how long
 * to wait before the next attempt, what an attempt's outcome means for the
 * message, and when a message's purpose has passed. No I/O, no clock: `now`
 * and the random draw are parameters, so the rules are unit-tested exactly.
 *
 * Outcomes of one delivery attempt (smtp.c and twilio.c classify them):
 *   SEND_OK           delivered to the provider
 *   SEND_UNREACHABLE  the provider was never reached (refused, DNS, TLS,
 *                     connect timeout): the channel is down, not the message
 *   SEND_TRANSIENT    the provider answered "not now" (SMTP 4xx, HTTP 5xx,
 *                     429, a timeout after connecting, a dropped connection)
 *   SEND_PERMANENT    the provider refused this message for good (SMTP 5xx,
 *                     Twilio 400 such as an invalid number)
 *
 * What happens to the message (policy_after_attempt):
 *   OK → sent. PERMANENT → dead at once, with the reason. TRANSIENT → the
 *   attempt counts; after max_attempts the message is dead, else it waits
 *   the back-off (or the provider's Retry-After plus a second, whichever
 *   is longer).
 *   UNREACHABLE → the attempt does not count toward max_attempts: an
 *   internet outage of any length never kills a message; the message waits
 *   the channel's back-off and, at the latest, expires with its purpose.
 */
#ifndef CLINICBOX_POLICY_H
#define CLINICBOX_POLICY_H

#include <stdbool.h>
#include <stdint.h>

enum send_outcome { SEND_OK, SEND_UNREACHABLE, SEND_TRANSIENT, SEND_PERMANENT };

typedef struct {
    enum send_outcome outcome;
    int retry_after;        /* seconds the provider asked us to wait, 0 if none */
    char provider_id[320];   /* Twilio sid / email Message-ID when sent */
    char error[256];        /* what went wrong, for last_error */
} send_result;

/* The delay before attempt number `attempt` + 1 after `attempt` failures
 * (attempt >= 1): 5 s doubling each time, capped at max_backoff, with
 * "equal jitter": half the delay fixed, half random. r01 is a uniform draw
 * from [0, 1). Always >= 1 s. */
int policy_backoff(int attempt, int max_backoff, double r01);

struct policy_decision {
    const char *status;      /* "sent", "failed" or "dead" */
    int attempts;            /* the new attempt count */
    int64_t next_attempt_at; /* 0 when there is no next attempt */
};

/* What one attempt's result does to a message that had `attempts` counted
 * attempts before it. outage_streak: consecutive SEND_UNREACHABLE results on
 * the channel, this one included (the back-off of an outage grows with it). */
struct policy_decision policy_after_attempt(const send_result *r, int attempts,
                                            int max_attempts, int max_backoff,
                                            int outage_streak, int64_t now, double r01);

/* Why a message must not be sent any more, or NULL if it still should be.
 * expires_at: the message's deadline (0: none). appt_status: the status of
 * its appointment ("" if none). offer_used: its offer was already used.
 * Confirmations and reminders are only for appointments still booked. */
const char *policy_purpose_passed(const char *purpose, int64_t now, int64_t expires_at,
                                  const char *appt_status, bool offer_used);

#endif
