/*
 * smtp.h — hands one email to the clinic's SMTP server with libcurl.
 *
 * smtp://host:587 upgrades with STARTTLS when the server offers it,
 * smtps://host:465 is TLS from the start; AUTH when smtp_user is set. One
 * sender keeps one curl handle, so its connection is reused between
 * messages. Not thread-safe: one sender per thread (the email worker).
 */
#ifndef CLINICBOX_SMTP_H
#define CLINICBOX_SMTP_H

#include <stddef.h>

#include "core/config.h"
#include "outbox/policy.h"

typedef struct smtp_sender smtp_sender;

/* NULL when out of memory. The settings are copied. */
smtp_sender *smtp_new(const struct config *cfg);
void smtp_free(smtp_sender *s);

/* Sends msg (a whole RFC 5322 message, CRLF lines) from the address of
 * smtp_from to rcpt, and classifies the outcome into *out (see policy.h):
 * refused/unresolvable/TLS failures are SEND_UNREACHABLE, SMTP 4xx and
 * broken connections SEND_TRANSIENT, SMTP 5xx SEND_PERMANENT. A rejected
 * login is SEND_TRANSIENT: it is the box's settings that are wrong, not the
 * message, so the message waits for a fix. */
void smtp_send(smtp_sender *s, const char *rcpt, const char *msg, size_t len, send_result *out);

#endif
