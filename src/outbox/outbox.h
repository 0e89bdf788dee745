/*
 * outbox.h — the sender workers: they deliver the messages queued in the
 * notifications table (store/notifications.c) by email and by SMS.
 *
 * One thread per configured channel, so an SMTP outage never holds up SMS
 * and the other way round. A channel without settings (no smtp_url, no
 * Twilio credentials) has no thread: its messages stay queued until it is
 * configured. Delivery is at-least-once: a message is marked `sending` in
 * one transaction before it is handed over and `sent` in another after; a
 * crash in between leaves it `sending`, and the next start queues it again
 * (so that one message may arrive twice). policy.h has the retry rules.
 */
#ifndef CLINICBOX_OUTBOX_H
#define CLINICBOX_OUTBOX_H

#include <stdbool.h>
#include <stdint.h>

#include "service/app.h"

/* Queues again the messages a crash left in `sending`, then starts a thread
 * per configured channel. false if a thread could not be started. */
bool outbox_start(app_t *app);
/* Wakes the workers: new messages were committed. Cheap; any thread. */
void outbox_kick(app_t *app);
/* Stops the workers after the message each is sending. Accepts a box whose
 * outbox never started. */
void outbox_stop(app_t *app);

struct outbox_channel_status {
    bool configured;
    bool down;             /* the last attempt could not reach the provider */
    int64_t down_since;    /* wall time of the first failed probe */
    int64_t last_sent_at;
    char last_error[256];
    unsigned long long sent, failed, dead, expired; /* since start */
};

/* The state of "email" or "sms". */
void outbox_status(app_t *app, const char *channel, struct outbox_channel_status *out);

#endif
