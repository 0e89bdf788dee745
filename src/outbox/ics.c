/*
 * ics.c — a single-event iCalendar object (RFC 5545) for confirmation and
 * cancellation emails.
 *
 * Design: each property is first assembled as one logical content line
 * (RFC 5545 §3.1) in a scratch buffer, then appended to the output folded:
 * a physical line holds at most 75 octets before its CRLF, continuation
 * lines start with a single space (which counts), and a fold never falls
 * inside a UTF-8 character or between a backslash and the character it
 * escapes (RFC 5545 only forbids the former; keeping escapes whole helps
 * sloppy readers). Buffers have a sticky out-of-memory flag so the builder
 * stays linear and checks once.
 *
 * TEXT values (SUMMARY, LOCATION, DESCRIPTION, UID) are escaped per
 * §3.3.11: backslash, semicolon and comma get a backslash, a line break
 * (\n, \r\n or a lone \r) becomes "\n"; other control characters, which
 * TEXT cannot hold, are dropped. METHOD and STATUS must be iana-tokens
 * (letters, digits, '-'), which also keeps line breaks out of the object.
 * Times are UTC DATE-TIME "YYYYMMDDTHHMMSSZ" (§3.3.5 form #2), formatted
 * with core/timefmt.h so no libc time state is involved; the caller is
 * expected to pass end > start.
 *
 * Pure: no I/O, no state.
 */
#include "outbox/ics.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sbuf.h"
#include "core/utf8.h"
#include "core/timefmt.h"

enum {
    ICS_LINE_MAX = 75, /* RFC 5545 §3.1: octets per line, excluding CRLF */
    TOKEN_MAX = 64,
};

/* ---------------------------------------------------------------------------
 * Content lines.
 */

/* Appends the logical line s[0..n) to out, folded, with its CRLF. */
static void put_folded(sbuf *out, const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t col = 0;
    for (size_t i = 0; i < n;) {
        size_t c = utf8_len(s + i, n - i);
        if (s[i] == '\\' && i + 1 < n)
            c = 1 + utf8_len(s + i + 1, n - i - 1);
        if (col + c > ICS_LINE_MAX) {
            sbuf_put(out, "\r\n ", 3);
            col = 1;
        }
        sbuf_put(out, str + i, c);
        col += c;
        i += c;
    }
    sbuf_put(out, "\r\n", 2);
}

/* TEXT escaping (RFC 5545 §3.3.11). */
static void put_text(sbuf *b, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '\\' || c == ';' || c == ',') {
            sbuf_putc(b, '\\');
            sbuf_putc(b, (char)c);
        } else if (c == '\n' || c == '\r') {
            sbuf_put(b, "\\n", 2);
            if (c == '\r' && s[1] == '\n')
                s++;
        } else if (c >= 0x20 && c != 0x7f) {
            sbuf_putc(b, (char)c);
        } else if (c == '\t') {
            sbuf_putc(b, (char)c);
        }
    }
}

/* "NAME:" + value, escaped as TEXT when `text`, then folded into out. */
static void add_prop(sbuf *out, sbuf *line, const char *name, const char *value, bool text)
{
    line->len = 0;
    sbuf_puts(line, name);
    sbuf_putc(line, ':');
    if (text)
        put_text(line, value);
    else
        sbuf_puts(line, value);
    if (!line->oom)
        put_folded(out, line->p, line->len);
}

/* "YYYYMMDDTHHMMSSZ" (RFC 5545 §3.3.5, UTC). */
static void add_time(sbuf *out, sbuf *line, const char *name, int64_t t)
{
    char iso[TIMEFMT_RFC3339_LEN], basic[TIMEFMT_RFC3339_LEN];
    timefmt_format_rfc3339(t, 0, true, iso, sizeof iso); /* 2026-12-01T08:00:00Z */
    size_t k = 0;
    for (const char *p = iso; *p; p++)
        if (*p != '-' && *p != ':')
            basic[k++] = *p;
    basic[k] = '\0';
    add_prop(out, line, name, basic, false);
}

/* An iana-token (RFC 5545 §3.1): letters, digits and '-'. */
static bool valid_token(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > TOKEN_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-'))
            return false;
    }
    return true;
}

char *ics_build(const ics_event *e)
{
    char *r = NULL;
    sbuf out = {0}, line = {0};
    if (!e || !e->uid || !*e->uid || !e->method || !e->summary)
        goto out;
    if (!valid_token(e->method) || (e->status && *e->status && !valid_token(e->status)))
        goto out;

    char seq[24];
    snprintf(seq, sizeof seq, "%d", e->sequence > 0 ? e->sequence : 0);

    sbuf_reserve(&out, 512 + 2 * (strlen(e->summary) + strlen(e->uid) +
                                (e->location ? strlen(e->location) : 0) +
                                (e->description ? strlen(e->description) : 0)));
    sbuf_puts(&out, "BEGIN:VCALENDAR\r\n"
                  "VERSION:2.0\r\n"
                  "PRODID:-//clinicbox//clinicbox//EN\r\n"
                  "CALSCALE:GREGORIAN\r\n");
    add_prop(&out, &line, "METHOD", e->method, false);
    sbuf_puts(&out, "BEGIN:VEVENT\r\n");
    add_prop(&out, &line, "UID", e->uid, true);
    add_prop(&out, &line, "SEQUENCE", seq, false);
    add_time(&out, &line, "DTSTAMP", e->dtstamp);
    add_time(&out, &line, "DTSTART", e->start);
    add_time(&out, &line, "DTEND", e->end);
    add_prop(&out, &line, "SUMMARY", e->summary, true);
    if (e->location && *e->location)
        add_prop(&out, &line, "LOCATION", e->location, true);
    if (e->description && *e->description)
        add_prop(&out, &line, "DESCRIPTION", e->description, true);
    if (e->status && *e->status)
        add_prop(&out, &line, "STATUS", e->status, false);
    sbuf_puts(&out, "END:VEVENT\r\n"
                  "END:VCALENDAR\r\n");
    if (out.oom || line.oom)
        goto out;
    r = out.p;
    out.p = NULL;
out:
    free(out.p);
    free(line.p);
    return r;
}
