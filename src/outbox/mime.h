/*
 * mime.h — builds the email messages the outbox sends (RFC 5322 + MIME).
 *
 * Implements RFC 5322 (message format), RFC 2045/2046 (MIME, multipart),
 * RFC 2047 (encoded words for non-ASCII display names and subjects) and
 * quoted-printable bodies (RFC 2045 §6.7). Output lines end in CRLF and stay
 * under 78 octets; SMTP dot-stuffing is left to libcurl. Pure: no I/O.
 */
#ifndef CLINICBOX_MIME_H
#define CLINICBOX_MIME_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    const char *from;          /* smtp_from: "addr@x" or "Display Name <addr@x>" */
    const char *from_name;     /* UTF-8 display name used when `from` is a bare address; may be NULL */
    const char *to;            /* recipient address */
    const char *to_name;       /* UTF-8 display name; may be NULL or "" */
    const char *subject;       /* UTF-8 */
    const char *body;          /* UTF-8 plain text with \n line ends */
    const char *message_id;    /* without angle brackets: "local@domain" */
    int64_t date;              /* unix seconds; written in UTC as "+0000" */
    const char *calendar;      /* text/calendar content, or NULL for no attachment */
    const char *calendar_name; /* attachment file name, e.g. "appointment.ics" */
    const char *calendar_method; /* iCalendar METHOD for the Content-Type, e.g. "PUBLISH" */
} mime_msg;

/* The whole message (headers, blank line, body). Without a calendar: a
 * single text/plain; charset=UTF-8 part, quoted-printable. With one:
 * multipart/mixed of that text part and a text/calendar; charset=UTF-8;
 * method=... part with Content-Disposition: attachment; filename=...
 * The boundary is derived from message_id, so the output is deterministic.
 * Returns a malloc'd NUL-terminated string (caller frees) and its length in
 * *len, or NULL when out of memory or a required field is missing. */
char *mime_build(const mime_msg *m, size_t *len);

/* A header value for a display name or subject: printable ASCII is copied as
 * it is; anything else becomes RFC 2047 "=?UTF-8?B?...?=" words of at most
 * 75 octets each, split only between whole UTF-8 characters and separated by
 * CRLF + space (folding). Returns the length written (excluding the NUL), or
 * 0 if out is too small. */
size_t mime_encode_word(const char *utf8, char *out, size_t outlen);

/* The addr-spec of "Name <a@b>" or "a@b" into addr. Returns 0, or -1 if there
 * is no plausible address (no '@', unbalanced brackets, too long). */
int mime_address(const char *from, char *addr, size_t len);

/* Quoted-printable encoding of UTF-8 text with \n line ends into CRLF lines
 * of at most 76 characters (soft breaks "=\r\n"). Returns a malloc'd string,
 * or NULL when out of memory. */
char *mime_qp_encode(const char *text);

#endif
