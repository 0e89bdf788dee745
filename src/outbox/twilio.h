/*
 * twilio.h — sends one SMS through the Twilio Messages API with libcurl:
 * POST {twilio_base_url}/2010-04-01/Accounts/{AccountSid}/Messages.json,
 * HTTP basic auth (account SID, auth token), form fields To, From (or
 * MessagingServiceSid for an "MG..." sender) and Body. One sender keeps one
 * curl handle (connection reuse). Not thread-safe: one per thread.
 */
#ifndef CLINICBOX_TWILIO_H
#define CLINICBOX_TWILIO_H

#include "core/config.h"
#include "outbox/policy.h"

typedef struct twilio_sender twilio_sender;

/* NULL when out of memory. The settings are copied. */
twilio_sender *twilio_new(const struct config *cfg);
void twilio_free(twilio_sender *t);

/* Sends body to the E.164 number `to` and classifies the outcome into *out
 * (see policy.h): 2xx SEND_OK with the message sid in provider_id; 5xx,
 * 429 (with its Retry-After) and broken or timed-out exchanges
 * SEND_TRANSIENT; 400 and other 4xx SEND_PERMANENT with Twilio's error code
 * and message; 401/403/404 SEND_TRANSIENT, since they mean the box's
 * settings are wrong, not the message. Unreachable API: SEND_UNREACHABLE. */
void twilio_send(twilio_sender *t, const char *to, const char *body, send_result *out);

#endif
