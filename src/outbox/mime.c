/*
 * mime.c — builds the outbox's email messages (RFC 5322 + MIME).
 *
 * Design: everything is appended to one growable buffer whose out-of-memory
 * state is sticky, so the builders stay linear and the caller checks once.
 * Header fields go through a small line writer that knows its column and
 * folds (CRLF + SP before a space, RFC 5322 §2.2.3) so that no header line
 * is longer than HDR_LINE_MAX (76) octets before its CRLF, under the 78 of
 * RFC 5322 §2.1.1 even counting the CRLF.
 *
 * - Display names and subjects (RFC 2047): a value is written as it is only
 *   when it is printable ASCII, holds no "=?" (which a reader could take for
 *   an encoded word), has no leading, trailing or doubled spaces (so folding
 *   never makes a whitespace-only line) and each word fits on a line.
 *   Display names containing RFC 5322 specials become a quoted-string
 *   (RFC 5322 §3.2.4) with \" and \\ escaped. Anything else becomes
 *   "=?UTF-8?B?...?=" encoded words of at most 75 octets (RFC 2047 §2),
 *   each holding whole UTF-8 characters (§5 rule 3), separated by folding
 *   whitespace, which readers drop between adjacent encoded words (§6.2).
 *   B encoding is used because its alphabet is allowed in every position,
 *   including phrases.
 * - Bodies: quoted-printable (RFC 2045 §6.7): '=', controls and bytes >= 0x80
 *   are =XX, as is whitespace before a line break and a '.' starting a line;
 *   lines are at most 76 characters, soft breaks ("=" CRLF) never split an
 *   =XX escape nor a UTF-8 character. \n (or \r\n) becomes CRLF.
 * - Attachment (RFC 2046 multipart/mixed): the calendar is base64 (RFC 2045
 *   §6.8) in 76-character lines. The boundary is "=_clinicbox_" plus a
 *   64-bit FNV-1a hash of the Message-ID in hex, so equal input gives equal
 *   output. It cannot occur in either part: in quoted-printable '=' is
 *   always followed by a hex digit or CRLF, never '_', and base64 has
 *   neither '_' nor '-' (RFC 2046 §5.1.1 asks for exactly this).
 *
 * Pure: no I/O, no state; every function only touches its arguments.
 */
#include "outbox/mime.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sbuf.h"
#include "core/utf8.h"
#include "core/tz.h"

enum {
    HDR_LINE_MAX = 76,   /* header line octets before CRLF */
    QP_LINE_MAX = 76,    /* RFC 2045 §6.7 rule 5 */
    B64_LINE_MAX = 76,   /* RFC 2045 §6.8 */
    EW_MAX = 75,         /* RFC 2047 §2: longest encoded word */
    EW_OVERHEAD = 12,    /* "=?UTF-8?B?" + "?=" */
    ADDR_MAX = 254,      /* RFC 5321 §4.5.3.1.3 path limit, minus brackets */
    FILENAME_MAX_LEN = 60,
};

static const char B64_ALPHABET[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char HEX_DIGITS[] = "0123456789ABCDEF";

/* Base64 of n bytes, no line breaks. */
static void sb_base64(sbuf *b, const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)s[i] << 16;
        if (i + 1 < n)
            v |= (unsigned)s[i + 1] << 8;
        if (i + 2 < n)
            v |= s[i + 2];
        char q[4] = {B64_ALPHABET[(v >> 18) & 63], B64_ALPHABET[(v >> 12) & 63],
                     i + 1 < n ? B64_ALPHABET[(v >> 6) & 63] : '=',
                     i + 2 < n ? B64_ALPHABET[v & 63] : '='};
        sbuf_put(b, q, 4);
    }
}

/* ---------------------------------------------------------------------------
 * Character helpers.
 */

static bool is_printable_ascii(unsigned char c) { return c >= 0x20 && c <= 0x7e; }

/* RFC 5322 §3.2.3 specials: a display name holding one must be quoted. */
static bool is_special(char c) { return c != '\0' && strchr("()<>[]:;@\\,.\"", c) != NULL; }


/* A value that may appear in a header as it is (see the design comment). */
static bool plain_ascii(const char *s, size_t n)
{
    if (n == 0)
        return true;
    if (s[0] == ' ' || s[n - 1] == ' ')
        return false;
    for (size_t i = 0; i < n; i++) {
        if (!is_printable_ascii((unsigned char)s[i]))
            return false;
        if (i + 1 < n && ((s[i] == '=' && s[i + 1] == '?') || (s[i] == ' ' && s[i + 1] == ' ')))
            return false;
    }
    return true;
}

/* ---------------------------------------------------------------------------
 * Header line writer: tracks the column and folds before a space.
 */

typedef struct {
    sbuf *b;
    size_t col; /* octets on the current physical line */
} hline;

static void h_begin(hline *h, sbuf *b, const char *name)
{
    h->b = b;
    sbuf_puts(b, name);
    sbuf_putc(b, ':');
    h->col = strlen(name) + 1;
}

static void h_end(hline *h) { sbuf_put(h->b, "\r\n", 2); }

static void h_fold(hline *h)
{
    sbuf_put(h->b, "\r\n", 2);
    h->col = 0;
}

/* Appends tok, after a space when `space`; folds at that space when the
 * line would get too long (only if the line holds something already). */
static void h_put(hline *h, const char *tok, size_t n, bool space)
{
    if (space && h->col > 1 && h->col + 1 + n > HDR_LINE_MAX)
        h_fold(h);
    if (space) {
        sbuf_putc(h->b, ' ');
        h->col++;
    }
    sbuf_put(h->b, tok, n);
    h->col += n;
}

/* Whether the space-separated words of s fit: the first on the current line
 * after a space, each later one on a line of its own. */
static bool words_fit(const char *s, size_t n, size_t col)
{
    size_t start = 0;
    bool first = true;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && s[i] != ' ')
            continue;
        size_t w = i - start;
        if (first ? col + 1 + w > HDR_LINE_MAX : 1 + w > HDR_LINE_MAX)
            return false;
        first = false;
        start = i + 1;
    }
    return true;
}

/* Writes s word by word (each after a space), folding as needed. */
static void h_words(hline *h, const char *s, size_t n)
{
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && s[i] != ' ')
            continue;
        h_put(h, s + start, i - start, true);
        start = i + 1;
    }
}

/* Bytes of whole characters from s that fit one encoded word of at most
 * `room` octets. */
static size_t ew_take(const unsigned char *s, size_t n, size_t room)
{
    if (room > EW_MAX)
        room = EW_MAX;
    size_t k = 0;
    while (k < n) {
        size_t c = utf8_len(s + k, n - k);
        if (EW_OVERHEAD + 4 * ((k + c + 2) / 3) > room)
            break;
        k += c;
    }
    return k;
}

/* RFC 2047 encoded words for s; the first after a space when `space`,
 * later ones after folding whitespace. */
static void h_encoded(hline *h, const char *str, size_t n, bool space)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    bool first = true;
    while (i < n) {
        bool sp = space || !first;
        size_t used = h->col + (sp ? 1 : 0);
        size_t k = used < HDR_LINE_MAX ? ew_take(s + i, n - i, HDR_LINE_MAX - used) : 0;
        if (k == 0) {
            /* Not even one character fits here; a fresh line always has
             * room for one (4 bytes -> 20 octets). */
            h_fold(h);
            space = true;
            continue;
        }
        size_t before = h->b->len;
        if (sp)
            sbuf_putc(h->b, ' ');
        sbuf_puts(h->b, "=?UTF-8?B?");
        sb_base64(h->b, s + i, k);
        sbuf_puts(h->b, "?=");
        h->col += h->b->len - before;
        i += k;
        first = false;
    }
}

/* Unstructured text (a subject), after a space. */
static void h_text(hline *h, const char *s)
{
    size_t n = strlen(s);
    if (n == 0)
        return;
    if (plain_ascii(s, n) && words_fit(s, n, h->col))
        h_words(h, s, n);
    else
        h_encoded(h, s, n, true);
}

/* A display name (RFC 5322 phrase), after a space: atoms, a quoted-string
 * or encoded words. */
static void h_phrase(hline *h, const char *s, size_t n)
{
    if (plain_ascii(s, n)) {
        bool quote = false;
        for (size_t i = 0; i < n; i++)
            quote = quote || is_special(s[i]);
        if (!quote) {
            if (words_fit(s, n, h->col)) {
                h_words(h, s, n);
                return;
            }
        } else {
            sbuf q = {0};
            sbuf_putc(&q, '"');
            for (size_t i = 0; i < n; i++) {
                if (s[i] == '"' || s[i] == '\\')
                    sbuf_putc(&q, '\\');
                sbuf_putc(&q, s[i]);
            }
            sbuf_putc(&q, '"');
            bool fit = !q.oom && words_fit(q.p, q.len, h->col);
            if (fit)
                h_words(h, q.p, q.len);
            else if (q.oom)
                h->b->oom = true;
            free(q.p);
            if (fit || h->b->oom)
                return;
        }
    }
    h_encoded(h, s, n, true);
}

/* "<s>" as one token, after a space. */
static void h_angle(hline *h, const char *addr)
{
    sbuf a = {0};
    sbuf_putc(&a, '<');
    sbuf_puts(&a, addr);
    sbuf_putc(&a, '>');
    if (a.oom)
        h->b->oom = true;
    else
        h_put(h, a.p, a.len, true);
    free(a.p);
}

/* "name <addr>" or a bare addr, after a space. */
static void h_mailbox(hline *h, const char *name, size_t name_len, const char *addr)
{
    if (name_len == 0) {
        h_put(h, addr, strlen(addr), true);
        return;
    }
    h_phrase(h, name, name_len);
    h_angle(h, addr);
}

/* ---------------------------------------------------------------------------
 * Public helpers.
 */

size_t mime_encode_word(const char *utf8, char *out, size_t outlen)
{
    size_t r = 0;
    sbuf b = {0};
    if (!utf8 || !out || outlen == 0)
        goto out;
    size_t n = strlen(utf8);
    bool plain = true;
    for (size_t i = 0; i < n && plain; i++)
        plain = is_printable_ascii((unsigned char)utf8[i]) &&
                !(utf8[i] == '=' && utf8[i + 1] == '?');
    if (plain) {
        sbuf_put(&b, utf8, n);
    } else {
        hline h = {.b = &b, .col = 0};
        h_encoded(&h, utf8, n, false);
    }
    if (b.oom || b.len >= outlen)
        goto out;
    memcpy(out, b.len ? b.p : "", b.len + 1);
    r = b.len;
out:
    if (r == 0 && out && outlen > 0)
        out[0] = '\0';
    free(b.p);
    return r;
}

static bool is_addr_char(unsigned char c)
{
    /* RFC 5322 atext plus '.' and '@'; no quoted local parts, no
     * whitespace, no controls, no brackets, no non-ASCII. */
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~.@", c) != NULL);
}

int mime_address(const char *from, char *addr, size_t len)
{
    if (addr && len > 0)
        addr[0] = '\0';
    if (!from || !addr || len == 0)
        return -1;
    const char *lt = strchr(from, '<');
    const char *a, *e;
    if (lt) {
        a = lt + 1;
        e = strchr(a, '>');
        if (!e)
            return -1;
        for (const char *p = e + 1; *p; p++)
            if (*p != ' ' && *p != '\t')
                return -1;
    } else {
        if (strchr(from, '>'))
            return -1;
        a = from;
        while (*a == ' ' || *a == '\t')
            a++;
        e = a + strlen(a);
        while (e > a && (e[-1] == ' ' || e[-1] == '\t'))
            e--;
    }
    size_t n = (size_t)(e - a);
    if (n < 3 || n > ADDR_MAX || n >= len)
        return -1;
    size_t ats = 0, at = 0;
    for (size_t i = 0; i < n; i++) {
        if (!is_addr_char((unsigned char)a[i]))
            return -1;
        if (a[i] == '@') {
            ats++;
            at = i;
        }
    }
    if (ats != 1 || at == 0 || at == n - 1)
        return -1;
    memcpy(addr, a, n);
    addr[n] = '\0';
    return 0;
}

/* ---------------------------------------------------------------------------
 * Quoted-printable.
 */

/* Encoded form of the n-byte unit s (one character) into q; returns its
 * length. `trailing`: whitespace before a line break; `line_start`: the
 * first thing on a physical line. */
static size_t qp_unit(const unsigned char *s, size_t n, bool trailing, bool line_start, char *q)
{
    unsigned char c = s[0];
    bool literal = n == 1 && ((c >= 33 && c <= 126 && c != '=') ||
                              ((c == ' ' || c == '\t') && !trailing));
    if (literal && c == '.' && line_start)
        literal = false;
    if (literal) {
        q[0] = (char)c;
        return 1;
    }
    for (size_t i = 0; i < n; i++) {
        q[3 * i] = '=';
        q[3 * i + 1] = HEX_DIGITS[s[i] >> 4];
        q[3 * i + 2] = HEX_DIGITS[s[i] & 15];
    }
    return 3 * n;
}

/* One logical line s[0..n) (no line break in it). */
static void qp_line(sbuf *b, const unsigned char *s, size_t n)
{
    size_t col = 0;
    char q[12];
    for (size_t i = 0; i < n;) {
        size_t c = utf8_len(s + i, n - i);
        bool last = i + c == n;
        size_t ql = qp_unit(s + i, c, last, col == 0, q);
        /* A soft break costs one '=' on this line, except that the last
         * unit may use the whole line since no break follows it. */
        if (col > 0 && col + ql > (last ? QP_LINE_MAX : QP_LINE_MAX - 1)) {
            sbuf_put(b, "=\r\n", 3);
            col = 0;
            ql = qp_unit(s + i, c, last, true, q);
        }
        sbuf_put(b, q, ql);
        col += ql;
        i += c;
    }
}

char *mime_qp_encode(const char *text)
{
    char *r = NULL;
    sbuf b = {0};
    if (!text)
        goto out;
    const unsigned char *s = (const unsigned char *)text;
    size_t n = strlen(text);
    sbuf_reserve(&b, n + n / 8 + 16);
    size_t start = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\n' || (s[i] == '\r' && i + 1 < n && s[i + 1] == '\n')) {
            qp_line(&b, s + start, i - start);
            sbuf_put(&b, "\r\n", 2);
            if (s[i] == '\r')
                i++;
            start = i + 1;
        }
    }
    qp_line(&b, s + start, n - start);
    if (b.oom)
        goto out;
    r = b.p;
    b.p = NULL;
out:
    free(b.p);
    return r;
}

/* ---------------------------------------------------------------------------
 * The message.
 */

/* "Tue, 01 Dec 2026 08:00:00 +0000" (RFC 5322 §3.3), clamped to years
 * 1..9999. */
static void format_date(int64_t t, char *buf, size_t len)
{
    static const char wd[7][4] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
    static const char mn[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    const int64_t lo = -62135596800, hi = 253402300799;
    if (t < lo)
        t = lo;
    if (t > hi)
        t = hi;
    int64_t days = t / 86400, sec = t % 86400;
    if (sec < 0) {
        sec += 86400;
        days--;
    }
    int y, m, d;
    tz_civil_from_days(days, &y, &m, &d);
    int w = tz_weekday(days);
    snprintf(buf, len, "%s, %02d %s %04d %02d:%02d:%02d +0000", wd[w - 1], d, mn[m - 1], y,
             (int)(sec / 3600), (int)(sec / 60 % 60), (int)(sec % 60));
}

/* id-left "@" id-right of RFC 5322 §3.6.4, loosely: visible ASCII, no
 * brackets, one '@' inside. */
static bool valid_message_id(const char *id)
{
    size_t n = strlen(id), ats = 0, at = 0;
    if (n < 3 || n > 200)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)id[i];
        if (c <= 0x20 || c >= 0x7f || c == '<' || c == '>' || c == '"' || c == '\\')
            return false;
        if (c == '@') {
            ats++;
            at = i;
        }
    }
    return ats == 1 && at > 0 && at < n - 1;
}

/* An RFC 2045 token for the method parameter. */
static bool valid_method(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 32)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-'))
            return false;
    }
    return true;
}

static uint64_t fnv1a64(const char *s)
{
    uint64_t h = 0xcbf29ce484222325u;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 0x100000001b3u;
    }
    return h;
}

/* The display name of "Name <addr>" (trimmed, a quoted-string unquoted)
 * into a malloc'd string; NULL only when out of memory. */
static char *from_display_name(const char *from)
{
    const char *lt = strchr(from, '<');
    const char *a = from, *e = lt ? lt : from;
    while (a < e && (*a == ' ' || *a == '\t'))
        a++;
    while (e > a && (e[-1] == ' ' || e[-1] == '\t'))
        e--;
    size_t n = (size_t)(e - a);
    char *r = malloc(n + 1);
    if (!r)
        return NULL;
    if (n >= 2 && a[0] == '"' && e[-1] == '"') {
        size_t k = 0;
        for (size_t i = 1; i + 1 < n; i++) {
            if (a[i] == '\\' && i + 2 < n)
                i++;
            r[k++] = a[i];
        }
        r[k] = '\0';
    } else {
        memcpy(r, a, n);
        r[n] = '\0';
    }
    return r;
}

/* The text/plain part's headers and quoted-printable body. */
static void put_text_part(sbuf *b, const char *qp)
{
    sbuf_puts(b, "Content-Type: text/plain; charset=UTF-8\r\n"
               "Content-Transfer-Encoding: quoted-printable\r\n\r\n");
    sbuf_puts(b, qp);
}

/* The calendar part: headers and base64 body in 76-character lines (the
 * last without CRLF: the delimiter that follows brings its own). */
static void put_calendar_part(sbuf *b, const mime_msg *m)
{
    hline h;
    h_begin(&h, b, "Content-Type");
    h_put(&h, "text/calendar;", 14, true);
    h_put(&h, "charset=UTF-8", 13, true);
    if (m->calendar_method && *m->calendar_method) {
        sbuf_putc(b, ';');
        h.col++;
        char param[48];
        int pn = snprintf(param, sizeof param, "method=%s", m->calendar_method);
        h_put(&h, param, (size_t)pn, true);
    }
    h_end(&h);

    /* The file name: visible ASCII without quotes, backslashes or path
     * separators (anything else becomes '_'); a missing or overlong one is
     * replaced by the default. */
    const char *name = m->calendar_name;
    if (!name || !*name || strlen(name) > FILENAME_MAX_LEN)
        name = "appointment.ics";
    char param[FILENAME_MAX_LEN + 16];
    size_t pn = (size_t)snprintf(param, sizeof param, "filename=\"%s\"", name);
    for (size_t i = 10; i + 1 < pn; i++) {
        unsigned char c = (unsigned char)param[i];
        if (!is_printable_ascii(c) || c == '"' || c == '\\' || c == '/')
            param[i] = '_';
    }
    h_begin(&h, b, "Content-Disposition");
    h_put(&h, "attachment;", 11, true);
    h_put(&h, param, pn, true);
    h_end(&h);
    sbuf_puts(b, "Content-Transfer-Encoding: base64\r\n\r\n");

    const unsigned char *s = (const unsigned char *)m->calendar;
    size_t n = strlen(m->calendar);
    const size_t per_line = B64_LINE_MAX / 4 * 3;
    for (size_t i = 0; i < n; i += per_line) {
        if (i)
            sbuf_put(b, "\r\n", 2);
        sb_base64(b, s + i, n - i < per_line ? n - i : per_line);
    }
}

char *mime_build(const mime_msg *m, size_t *len)
{
    char *r = NULL, *qp = NULL, *from_name = NULL;
    sbuf b = {0};
    char from_addr[ADDR_MAX + 1], to_addr[ADDR_MAX + 1];
    if (len)
        *len = 0;
    if (!m || !m->from || !m->to || !m->subject || !m->body || !m->message_id)
        goto out;
    if (mime_address(m->from, from_addr, sizeof from_addr) != 0 ||
        mime_address(m->to, to_addr, sizeof to_addr) != 0 || !valid_message_id(m->message_id))
        goto out;
    if (m->calendar && m->calendar_method && *m->calendar_method &&
        !valid_method(m->calendar_method))
        goto out;
    from_name = from_display_name(m->from);
    if (!from_name)
        goto out;
    if (!*from_name && m->from_name) {
        free(from_name);
        from_name = strdup(m->from_name);
        if (!from_name)
            goto out;
    }
    qp = mime_qp_encode(m->body);
    if (!qp)
        goto out;
    sbuf_reserve(&b, strlen(qp) + (m->calendar ? strlen(m->calendar) * 4 / 3 : 0) + 1024);

    char date[48];
    format_date(m->date, date, sizeof date);
    hline h;
    h_begin(&h, &b, "Date");
    h_put(&h, date, strlen(date), true);
    h_end(&h);

    h_begin(&h, &b, "From");
    h_mailbox(&h, from_name, strlen(from_name), from_addr);
    h_end(&h);

    h_begin(&h, &b, "To");
    h_mailbox(&h, m->to_name ? m->to_name : "", m->to_name ? strlen(m->to_name) : 0, to_addr);
    h_end(&h);

    h_begin(&h, &b, "Subject");
    h_text(&h, m->subject);
    h_end(&h);

    h_begin(&h, &b, "Message-ID");
    h_angle(&h, m->message_id); /* folded before it when long */
    h_end(&h);

    sbuf_puts(&b, "MIME-Version: 1.0\r\n");
    if (!m->calendar) {
        put_text_part(&b, qp);
        if (b.len < 2 || memcmp(b.p + b.len - 2, "\r\n", 2) != 0)
            sbuf_put(&b, "\r\n", 2);
    } else {
        char boundary[40];
        snprintf(boundary, sizeof boundary, "=_clinicbox_%016llx",
                 (unsigned long long)fnv1a64(m->message_id));
        char param[64];
        int pn = snprintf(param, sizeof param, "boundary=\"%s\"", boundary);
        h_begin(&h, &b, "Content-Type");
        h_put(&h, "multipart/mixed;", 16, true);
        h_put(&h, param, (size_t)pn, true);
        h_end(&h);
        sbuf_puts(&b, "\r\n");
        sbuf_puts(&b, "This is a multi-part message in MIME format.\r\n");
        sbuf_puts(&b, "\r\n--");
        sbuf_puts(&b, boundary);
        sbuf_puts(&b, "\r\n");
        put_text_part(&b, qp);
        /* The CRLF before a delimiter belongs to the delimiter (RFC 2046
         * §5.1.1), so a body ending in a line break keeps it. */
        sbuf_puts(&b, "\r\n--");
        sbuf_puts(&b, boundary);
        sbuf_puts(&b, "\r\n");
        put_calendar_part(&b, m);
        sbuf_puts(&b, "\r\n--");
        sbuf_puts(&b, boundary);
        sbuf_puts(&b, "--\r\n");
    }
    if (b.oom)
        goto out;
    r = b.p;
    b.p = NULL;
    if (len)
        *len = b.len;
out:
    free(b.p);
    free(qp);
    free(from_name);
    return r;
}
