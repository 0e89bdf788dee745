/*
 * test_mime.c — unit tests for src/outbox/mime.c (RFC 5322 messages, RFC 2047
 * encoded words, quoted-printable bodies, multipart/mixed with an .ics).
 *
 * Messages are parsed back with small independent decoders written here
 * (header unfolding, RFC 2047 "B" words, quoted-printable, base64), which
 * also check the rules the encoder must keep: CRLF everywhere, no line over
 * 76 octets (78 with the CRLF), upper-case hex escapes, no whitespace before
 * a hard line break, encoded words of at most 75 octets holding whole UTF-8
 * characters. The Date expectation was computed with
 * `date -u -d @1796112000 '+%a, %d %b %Y %H:%M:%S +0000'` on Debian 12.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <strings.h>

#include "outbox/ics.h"
#include "outbox/mime.h"
#include "unit.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

enum { LINE_MAX_OCTETS = 76 }; /* excluding CRLF */

/* ---------------------------------------------------------------------------
 * Independent decoders and checkers.
 */

/* Whether s[0..n) is a sequence of complete, valid UTF-8 characters. */
static bool utf8_complete(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        size_t want = s[i] < 0x80 ? 1 : (s[i] & 0xe0) == 0xc0 ? 2 : (s[i] & 0xf0) == 0xe0 ? 3
                                   : (s[i] & 0xf8) == 0xf0 ? 4 : 0;
        if (want == 0 || i + want > n)
            return false;
        for (size_t j = 1; j < want; j++)
            if ((s[i + j] & 0xc0) != 0x80)
                return false;
        i += want;
    }
    return true;
}

static size_t utf8_chars(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xc0) != 0x80;
    return n;
}

/* Problems with line structure: bare CR or LF, lines over `max` octets
 * (excluding CRLF), a missing final CRLF, embedded NULs. */
static int line_problems(const char *msg, size_t len, size_t max)
{
    int bad = 0;
    size_t col = 0;
    if (strlen(msg) != len)
        bad++;
    for (size_t i = 0; i < len; i++) {
        if (msg[i] == '\r') {
            if (i + 1 >= len || msg[i + 1] != '\n') {
                bad++;
                continue;
            }
            if (col > max) {
                fprintf(stderr, "  line of %zu octets before offset %zu\n", col, i);
                bad++;
            }
            col = 0;
            i++;
        } else if (msg[i] == '\n') {
            bad++;
            col = 0;
        } else {
            col++;
        }
    }
    if (len < 2 || memcmp(msg + len - 2, "\r\n", 2) != 0)
        bad++;
    return bad;
}

/* End of the header block that starts at h: just after the CRLF of its last
 * line (the empty line follows), or NULL. */
static const char *header_block_end(const char *h)
{
    if (strncmp(h, "\r\n", 2) == 0)
        return h;
    const char *e = strstr(h, "\r\n\r\n");
    return e ? e + 2 : NULL;
}

/* The unfolded value (CRLFs removed, leading whitespace dropped) of field
 * `name` in the header block at h; malloc'd, or NULL when absent. */
static char *header_get(const char *h, const char *name)
{
    const char *end = header_block_end(h);
    size_t nl = strlen(name);
    if (!end)
        return NULL;
    for (const char *line = h; line < end;) {
        const char *eol = strstr(line, "\r\n");
        if (line[0] != ' ' && line[0] != '\t' && strncasecmp(line, name, nl) == 0 &&
            line[nl] == ':') {
            char *v = malloc((size_t)(end - line) + 1);
            size_t k = 0;
            const char *p = line + nl + 1;
            for (;;) {
                memcpy(v + k, p, (size_t)(eol - p));
                k += (size_t)(eol - p);
                p = eol + 2;
                if (p >= end || (*p != ' ' && *p != '\t'))
                    break;
                eol = strstr(p, "\r\n");
            }
            v[k] = '\0';
            size_t skip = strspn(v, " \t");
            memmove(v, v + skip, k - skip + 1);
            return v;
        }
        line = eol + 2;
    }
    return NULL;
}

/* Number of fields named `name` in the header block at h. */
static int header_count(const char *h, const char *name)
{
    const char *end = header_block_end(h);
    size_t nl = strlen(name);
    int n = 0;
    for (const char *line = h; end && line < end; line = strstr(line, "\r\n") + 2)
        if (strncasecmp(line, name, nl) == 0 && line[nl] == ':')
            n++;
    return n;
}

/* The field names of the header block at h, in order, joined by ','. */
static void header_names(const char *h, char *out, size_t len)
{
    const char *end = header_block_end(h);
    out[0] = '\0';
    for (const char *line = h; end && line < end; line = strstr(line, "\r\n") + 2) {
        if (line[0] == ' ' || line[0] == '\t')
            continue;
        const char *colon = strchr(line, ':');
        size_t k = strlen(out);
        snprintf(out + k, len - k, "%s%.*s", k ? "," : "", (int)(colon - line), line);
    }
}

static int b64_value(int c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    return c == '+' ? 62 : c == '/' ? 63 : -1;
}

/* Base64 (line breaks skipped); counts invalid characters in *bad. */
static unsigned char *b64_decode(const char *s, size_t n, size_t *out_len, int *bad)
{
    unsigned char *out = malloc(n + 1);
    size_t k = 0;
    unsigned acc = 0;
    int bits = 0;
    bool pad = false;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\r' || s[i] == '\n')
            continue;
        if (s[i] == '=') {
            pad = true;
            continue;
        }
        int v = b64_value((unsigned char)s[i]);
        if (v < 0 || pad) {
            (*bad)++;
            continue;
        }
        acc = ((acc << 6) | (unsigned)v) & 0xffffff;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[k++] = (unsigned char)(acc >> bits);
        }
    }
    out[k] = '\0';
    *out_len = k;
    return out;
}

/* Decodes RFC 2047 "=?UTF-8?B?...?=" words in an unfolded header value,
 * dropping whitespace between adjacent encoded words (RFC 2047 §6.2).
 * Counts in *bad: words over 75 octets, words whose bytes are not whole
 * UTF-8 characters, bad base64. */
static char *ew_decode(const char *v, int *bad)
{
    size_t n = strlen(v);
    char *out = malloc(n + 1);
    size_t k = 0;
    bool prev_ew = false;
    const char *p = v;
    while (*p) {
        const char *ws = p;
        while (*p == ' ' || *p == '\t')
            p++;
        const char *tok = p;
        while (*p && *p != ' ' && *p != '\t')
            p++;
        size_t tl = (size_t)(p - tok);
        bool ew = tl >= 12 && strncasecmp(tok, "=?UTF-8?B?", 10) == 0 && tok[tl - 2] == '?' &&
                  tok[tl - 1] == '=';
        if (!(ew && prev_ew) || tl == 0) {
            memcpy(out + k, ws, (size_t)(tok - ws));
            k += (size_t)(tok - ws);
        }
        if (ew) {
            size_t dl;
            if (tl > 75)
                (*bad)++;
            unsigned char *d = b64_decode(tok + 10, tl - 12, &dl, bad);
            if (!utf8_complete(d, dl))
                (*bad)++;
            memcpy(out + k, d, dl);
            k += dl;
            free(d);
        } else {
            memcpy(out + k, tok, tl);
            k += tl;
        }
        if (tl > 0)
            prev_ew = ew;
    }
    out[k] = '\0';
    return out;
}

/* Splits a mailbox "phrase <addr>" / "addr" header value: the decoded
 * display name (quoted-string unescaped, or encoded words decoded) and the
 * address; both malloc'd. */
static void parse_mailbox(const char *v, char **name, char **addr, int *bad)
{
    size_t n = strlen(v);
    const char *lt = n && v[n - 1] == '>' ? strrchr(v, '<') : NULL;
    if (!lt) {
        *name = strdup("");
        *addr = strdup(v);
        return;
    }
    *addr = strndup(lt + 1, (size_t)(v + n - 1 - (lt + 1)));
    const char *e = lt;
    while (e > v && e[-1] == ' ')
        e--;
    char *phrase = strndup(v, (size_t)(e - v));
    size_t pl = strlen(phrase);
    if (pl >= 2 && phrase[0] == '"' && phrase[pl - 1] == '"') {
        char *u = malloc(pl);
        size_t k = 0;
        for (size_t i = 1; i + 1 < pl; i++) {
            if (phrase[i] == '\\')
                i++;
            else if (phrase[i] == '"')
                (*bad)++; /* unescaped quote inside */
            u[k++] = phrase[i];
        }
        u[k] = '\0';
        *name = u;
    } else {
        *name = ew_decode(phrase, bad);
    }
    free(phrase);
}

static int hex_upper(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Quoted-printable to text with \n line ends. Counts in *bad: '=' not
 * followed by two upper-case hex digits or CRLF, lines over 76 characters,
 * whitespace before a hard line break or at the very end, literal bytes
 * that must be encoded, bare CR or LF. */
static char *qp_decode(const char *s, int *bad)
{
    size_t n = strlen(s), k = 0, col = 0;
    char *out = malloc(n + 1);
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\r' && s[i + 1] == '\n') {
            if (i > 0 && (s[i - 1] == ' ' || s[i - 1] == '\t'))
                (*bad)++;
            if (col > 76)
                (*bad)++;
            col = 0;
            out[k++] = '\n';
            i += 2;
        } else if (c == '=' && s[i + 1] == '\r' && s[i + 2] == '\n') {
            if (col + 1 > 76)
                (*bad)++;
            col = 0;
            i += 3;
        } else if (c == '=') {
            int hi = hex_upper((unsigned char)s[i + 1]);
            int lo = hi < 0 ? -1 : hex_upper((unsigned char)s[i + 2]);
            if (lo < 0) {
                (*bad)++;
                i++;
                continue;
            }
            out[k++] = (char)(hi * 16 + lo);
            col += 3;
            i += 3;
        } else {
            if (c == '\r' || c == '\n' || (c < 0x20 && c != '\t') || c >= 0x7f)
                (*bad)++;
            out[k++] = (char)c;
            col++;
            i++;
        }
    }
    if (col > 76)
        (*bad)++;
    if (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        (*bad)++;
    out[k] = '\0';
    return out;
}

/* Physical QP lines whose decoded bytes are not whole UTF-8 characters
 * (a soft break inside a character) or start with a literal '.'. */
static int qp_split_chars(const char *s)
{
    int bad = 0;
    while (*s) {
        const char *eol = strstr(s, "\r\n");
        size_t n = eol ? (size_t)(eol - s) : strlen(s);
        char *line = strndup(s, n);
        if (n > 0 && line[n - 1] == '=')
            line[n - 1] = '\0';
        if (line[0] == '.')
            bad++;
        int ignored = 0;
        char *d = qp_decode(line, &ignored);
        if (!utf8_complete((const unsigned char *)d, strlen(d)))
            bad++;
        free(d);
        free(line);
        s += n + (eol ? 2 : 0);
    }
    return bad;
}

/* The QP encoding of text decodes back to text (with \r\n read as \n when
 * `crlf_in`), keeps every rule, and never splits a character. */
static void check_qp_round_trip(const char *text, const char *want)
{
    char *qp = mime_qp_encode(text);
    CHECK(qp != NULL);
    if (!qp)
        return;
    int bad = 0;
    char *back = qp_decode(qp, &bad);
    CHECK_EQ_INT(bad, 0);
    CHECK_EQ_STR(back, want ? want : text);
    CHECK_EQ_INT(qp_split_chars(qp), 0);
    CHECK(strstr(qp, "=_") == NULL);
    free(back);
    free(qp);
}

/* ---------------------------------------------------------------------------
 * Tests.
 */

static void test_address(void)
{
    static const struct {
        const char *in, *want; /* want NULL: rejected */
    } cases[] = {
        {"Clinic <a@b.c>", "a@b.c"},
        {"a@b.c", "a@b.c"},
        {"  a@b.c  ", "a@b.c"},
        {"\"Smith, John\" <john.smith+tag@mail.example.org>", "john.smith+tag@mail.example.org"},
        {"Clínica Sol <sol@clinic.example>", "sol@clinic.example"},
        {"<a@b.c>", "a@b.c"},
        {"Clinic <a@b.c> ", "a@b.c"},
        {"bad", NULL},
        {"<a@b", NULL},
        {"a@b>", NULL},
        {"Clinic <a@b.c> x", NULL},
        {"Clinic <>", NULL},
        {"", NULL},
        {"@b.c", NULL},
        {"a@", NULL},
        {"a@@b.c", NULL},
        {"a@b@c", NULL},
        {"a b@c.d", NULL},
        {"<a b@c.d>", NULL},
        {"a@b.c\r\nBcc: x@y.z", NULL},
        {"Clinic <a@b.c\r\n>", NULL},
        {"josé@b.c", NULL},
    };
    char addr[64];
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        memset(addr, 'x', sizeof addr);
        int rc = mime_address(cases[i].in, addr, sizeof addr);
        if (cases[i].want) {
            if (rc != 0)
                fprintf(stderr, "  rejected \"%s\"\n", cases[i].in);
            CHECK_EQ_INT(rc, 0);
            CHECK_EQ_STR(addr, cases[i].want);
        } else {
            if (rc == 0)
                fprintf(stderr, "  accepted \"%s\"\n", cases[i].in);
            CHECK_EQ_INT(rc, -1);
            CHECK_EQ_STR(addr, "");
        }
    }
    /* Too long for the buffer, too long for SMTP. */
    char small[6];
    CHECK_EQ_INT(mime_address("a@b.c", small, sizeof small), 0);
    CHECK_EQ_INT(mime_address("ab@b.c", small, sizeof small), -1);
    char big[400], out[400];
    memset(big, 'a', 300);
    memcpy(big + 300, "@b.c", 5);
    CHECK_EQ_INT(mime_address(big, out, sizeof out), -1);
    CHECK_EQ_INT(mime_address(NULL, out, sizeof out), -1);
    CHECK_EQ_INT(mime_address("a@b.c", NULL, 10), -1);
}

static void test_encode_word(void)
{
    char out[1024];
    CHECK_EQ_INT(mime_encode_word("Ana Lopez", out, sizeof out), 9);
    CHECK_EQ_STR(out, "Ana Lopez");
    CHECK_EQ_INT(mime_encode_word("Smith, John (Dr.)", out, sizeof out), 17);
    CHECK_EQ_STR(out, "Smith, John (Dr.)");

    /* Known value: base64("José") = "Sm9zw6k=". */
    size_t n = mime_encode_word("José", out, sizeof out);
    CHECK_EQ_STR(out, "=?UTF-8?B?Sm9zw6k=?=");
    CHECK_EQ_INT(n, strlen("=?UTF-8?B?Sm9zw6k=?="));

    static const char *names[] = {
        "José Müller-Łukasiewicz",
        "Zażółć gęślą jaźń — 予約の確認 😀😀😀 Ünïcödé ünd sehr lange Namen, die umbrechen",
        "a\r\nBcc: evil@x.example",
        "=?UTF-8?B?Zm9v?=", /* looks encoded: must be encoded again */
        "tab\there",
    };
    for (size_t i = 0; i < ARRAY_LEN(names); i++) {
        n = mime_encode_word(names[i], out, sizeof out);
        CHECK(n > 0);
        CHECK_EQ_INT(n, strlen(out));
        CHECK(strncmp(out, "=?UTF-8?B?", 10) == 0);
        /* Lines: CRLF + space between words, each line one word <= 75. */
        size_t start = 0;
        int lines = 0;
        for (size_t j = 0; j <= n; j++) {
            if (j < n && out[j] != '\r')
                continue;
            size_t w = j - start - (lines ? 1 : 0);
            CHECK(w <= 75);
            if (lines)
                CHECK(out[start] == ' ');
            if (j < n) {
                CHECK(out[j + 1] == '\n');
                j++;
            }
            start = j + 1;
            lines++;
        }
        CHECK(strchr(out, '\n') == NULL || strstr(out, "\r\n ") != NULL);
        /* Unfold and decode. */
        char unfolded[1024];
        size_t k = 0;
        for (size_t j = 0; j < n; j++) {
            if (out[j] == '\r' && out[j + 1] == '\n') {
                j++;
                continue;
            }
            unfolded[k++] = out[j];
        }
        unfolded[k] = '\0';
        int bad = 0;
        char *dec = ew_decode(unfolded, &bad);
        CHECK_EQ_INT(bad, 0);
        CHECK_EQ_STR(dec, names[i]);
        free(dec);
    }

    /* Out too small: 0 and an empty string. */
    char tiny[8];
    CHECK_EQ_INT(mime_encode_word("José", tiny, sizeof tiny), 0);
    CHECK_EQ_STR(tiny, "");
    CHECK_EQ_INT(mime_encode_word("Ana Lopez", tiny, sizeof tiny), 0);
    CHECK_EQ_INT(mime_encode_word("1234567", tiny, sizeof tiny), 7);
    CHECK_EQ_INT(mime_encode_word("", out, sizeof out), 0);
    CHECK_EQ_STR(out, "");
    CHECK_EQ_INT(mime_encode_word(NULL, out, sizeof out), 0);
}

static void test_qp_exact(void)
{
    static const struct {
        const char *in, *want;
    } cases[] = {
        {"", ""},
        {"hello", "hello"},
        {"a=b", "a=3Db"},
        {"hi \nthere\t\n", "hi=20\r\nthere=09\r\n"},
        {"end ", "end=20"},
        {"a b", "a b"},
        {"José", "Jos=C3=A9"},
        {"line1\nline2", "line1\r\nline2"},
        {"\n\n", "\r\n\r\n"},
        {".\nx", "=2E\r\nx"},
        {"a\r\nb", "a\r\nb"},
        {"a\rb", "a=0Db"},
        {"\x01\x7f", "=01=7F"},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        char *qp = mime_qp_encode(cases[i].in);
        CHECK_EQ_STR(qp, cases[i].want);
        free(qp);
    }
    CHECK(mime_qp_encode(NULL) == NULL);

    /* Exactly 76 characters fit; 77 need a soft break after 75 + '='. */
    char in[400], want[400];
    memset(in, 'x', 76);
    in[76] = '\0';
    char *qp = mime_qp_encode(in);
    CHECK_EQ_STR(qp, in);
    free(qp);
    memset(in, 'x', 77);
    in[77] = '\0';
    memset(want, 'x', 75);
    memcpy(want + 75, "=\r\nxx", 6);
    qp = mime_qp_encode(in);
    CHECK_EQ_STR(qp, want);
    free(qp);
    /* An escape is never split: 74 x then '=' -> "=3D" does not fit in 75. */
    memset(in, 'x', 74);
    memcpy(in + 74, "=y", 3);
    memset(want, 'x', 74);
    memcpy(want + 74, "=\r\n=3Dy", 8);
    qp = mime_qp_encode(in);
    CHECK_EQ_STR(qp, want);
    free(qp);
    /* Trailing space as the 76th character still gets its =20 room. */
    memset(in, 'x', 75);
    memcpy(in + 75, " ", 2);
    memset(want, 'x', 75);
    memcpy(want + 75, "=\r\n=20", 7);
    qp = mime_qp_encode(in);
    CHECK_EQ_STR(qp, want);
    free(qp);
}

static void test_qp_round_trip(void)
{
    static const char *texts[] = {
        "",
        "Hello Ana,\n\nyour appointment is confirmed.\n",
        "a=b==c=\n=\n==3D\n",
        "trailing spaces   \ntrailing tab\t\n \n\t\nend with space ",
        ".\n..\n.leading dot\nFrom the clinic\n",
        "Grüße aus Łódź — 予約の確認 😀\n",
        "no final newline",
        "\n",
    };
    for (size_t i = 0; i < ARRAY_LEN(texts); i++)
        check_qp_round_trip(texts[i], NULL);

    /* \r\n in the input is a line break too. */
    check_qp_round_trip("a\r\nb\r\n", "a\nb\n");

    /* 300-character lines: ASCII, '=' heavy, spaces, and multibyte. */
    char buf[2048];
    memset(buf, 'a', 300);
    buf[300] = '\0';
    check_qp_round_trip(buf, NULL);
    for (int i = 0; i < 300; i++)
        buf[i] = "a=b c"[i % 5];
    check_qp_round_trip(buf, NULL);
    memset(buf, ' ', 300);
    check_qp_round_trip(buf, NULL);
    buf[0] = '\0';
    while (utf8_chars(buf) < 300)
        strcat(buf, "é€😀x");
    strcat(buf, "\nsecond line\n");
    check_qp_round_trip(buf, NULL);

    /* A multibyte character at every position around the 76-character
     * edge, for 2-, 3- and 4-byte characters. */
    static const char *mb[] = {"é", "€", "😀", "=", " "};
    for (size_t m = 0; m < ARRAY_LEN(mb); m++) {
        for (int pre = 40; pre <= 80; pre++) {
            memset(buf, 'x', (size_t)pre);
            buf[pre] = '\0';
            strcat(buf, mb[m]);
            strcat(buf, mb[m]);
            strcat(buf, "tail\n");
            check_qp_round_trip(buf, NULL);
            buf[pre] = '\0';
            strcat(buf, mb[m]); /* at the very end of a line */
            strcat(buf, "\n");
            check_qp_round_trip(buf, NULL);
        }
    }
}

static mime_msg base_msg(void)
{
    mime_msg m = {
        .from = "noreply@clinic.example",
        .from_name = "Clinic Demo",
        .to = "ana@patient.example",
        .to_name = "José Müller-Łukasiewicz",
        .subject = "Appointment confirmed",
        .body = "Hello,\n\nyour appointment is on Tue 1 Dec at 09:00.\n",
        .message_id = "0190f3a2-7c1e-7d41-9b1f-3c2d1e0f9a8b@clinic.example",
        .date = 1796112000,
    };
    return m;
}

/* Builds m, checks the line rules and returns the message (caller frees). */
static char *build_checked(const mime_msg *m)
{
    size_t len = 12345;
    char *msg = mime_build(m, &len);
    CHECK(msg != NULL);
    if (!msg)
        return NULL;
    CHECK_EQ_INT(len, strlen(msg));
    CHECK_EQ_INT(line_problems(msg, len, LINE_MAX_OCTETS), 0);
    return msg;
}

static void test_build_single(void)
{
    /* A subject of 120 non-ASCII-heavy characters. */
    char subject[1024] = "";
    static const char *pieces[] = {"Terminbestätigung ", "für ", "Zażółć gęślą jaźń ",
                                   "— 予約の確認 ", "😀 "};
    for (size_t i = 0; utf8_chars(subject) < 120; i++)
        strcat(subject, pieces[i % ARRAY_LEN(pieces)]);
    while (utf8_chars(subject) > 120) { /* cut back to exactly 120 characters */
        size_t n = strlen(subject);
        do
            n--;
        while (((unsigned char)subject[n] & 0xc0) == 0x80);
        subject[n] = '\0';
    }
    CHECK_EQ_INT(utf8_chars(subject), 120);

    mime_msg m = base_msg();
    m.subject = subject;
    m.body = "Hello José,\n\nprice = 0 €; line with trailing space \n"
             "A long line: Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do "
             "eiusmod tempor incididunt ut labore et dolore magna aliqua.\n.\n";
    char *msg = build_checked(&m);
    if (!msg)
        return;

    char names[256];
    header_names(msg, names, sizeof names);
    CHECK_EQ_STR(names, "Date,From,To,Subject,Message-ID,MIME-Version,Content-Type,"
                        "Content-Transfer-Encoding");

    char *v = header_get(msg, "Date");
    CHECK_EQ_STR(v, "Tue, 01 Dec 2026 08:00:00 +0000");
    free(v);
    v = header_get(msg, "From");
    CHECK_EQ_STR(v, "Clinic Demo <noreply@clinic.example>");
    free(v);

    int bad = 0;
    char *name = NULL, *addr = NULL;
    v = header_get(msg, "To");
    parse_mailbox(v, &name, &addr, &bad);
    CHECK_EQ_STR(name, "José Müller-Łukasiewicz");
    CHECK_EQ_STR(addr, "ana@patient.example");
    CHECK_EQ_INT(bad, 0);
    free(v);
    free(name);
    free(addr);

    v = header_get(msg, "Subject");
    CHECK(v && strncmp(v, "=?UTF-8?B?", 10) == 0);
    char *dec = ew_decode(v, &bad);
    CHECK_EQ_STR(dec, subject);
    CHECK_EQ_INT(bad, 0);
    free(dec);
    free(v);
    /* It took more than one line. */
    const char *sl = strstr(msg, "\r\nSubject:");
    CHECK(sl && strncmp(strstr(sl + 2, "\r\n") + 2, " =?UTF-8?B?", 11) == 0);

    v = header_get(msg, "Message-ID");
    CHECK_EQ_STR(v, "<0190f3a2-7c1e-7d41-9b1f-3c2d1e0f9a8b@clinic.example>");
    free(v);
    v = header_get(msg, "MIME-Version");
    CHECK_EQ_STR(v, "1.0");
    free(v);
    v = header_get(msg, "Content-Type");
    CHECK_EQ_STR(v, "text/plain; charset=UTF-8");
    free(v);
    v = header_get(msg, "Content-Transfer-Encoding");
    CHECK_EQ_STR(v, "quoted-printable");
    free(v);

    const char *body = strstr(msg, "\r\n\r\n");
    CHECK(body != NULL);
    if (body) {
        char *text = qp_decode(body + 4, &bad);
        CHECK_EQ_INT(bad, 0);
        CHECK_EQ_STR(text, m.body);
        free(text);
        CHECK_EQ_INT(qp_split_chars(body + 4), 0);
    }
    free(msg);
}

/* The decoded display name and address of header `field` in msg. */
static void check_mailbox(const char *msg, const char *field, const char *want_name,
                          const char *want_addr)
{
    int bad = 0;
    char *name = NULL, *addr = NULL, *v = header_get(msg, field);
    CHECK(v != NULL);
    if (!v)
        return;
    parse_mailbox(v, &name, &addr, &bad);
    CHECK_EQ_STR(name, want_name);
    CHECK_EQ_STR(addr, want_addr);
    CHECK_EQ_INT(bad, 0);
    free(v);
    free(name);
    free(addr);
}

static void test_build_names(void)
{
    static const struct {
        const char *from, *from_name, *to_name;
        const char *want_from_header; /* exact, or NULL to check decoded */
        const char *want_from_name, *want_from_addr, *want_to_name;
    } cases[] = {
        {"noreply@clinic.example", NULL, NULL, "noreply@clinic.example", "",
         "noreply@clinic.example", ""},
        {"noreply@clinic.example", "", "", "noreply@clinic.example", "",
         "noreply@clinic.example", ""},
        {"Clinic <a@b.c>", NULL, "Ana Lopez", "Clinic <a@b.c>", "Clinic", "a@b.c", "Ana Lopez"},
        {"Clinic <a@b.c>", "Ignored", "Ana", "Clinic <a@b.c>", "Clinic", "a@b.c", "Ana"},
        {"<a@b.c>", "Fallback Name", NULL, "Fallback Name <a@b.c>", "Fallback Name", "a@b.c",
         ""},
        {"\"Smith, John\" <a@b.c>", NULL, "Dr. O'Neil", "\"Smith, John\" <a@b.c>",
         "Smith, John", "a@b.c", "Dr. O'Neil"},
        {"Clínica Sol <sol@clinic.example>", NULL, "Ann \"Bee\" \\ C", NULL, "Clínica Sol",
         "sol@clinic.example", "Ann \"Bee\" \\ C"},
        {"a@b.c", "Clínica São João", "Eve\r\nBcc: evil@x.example", NULL, "Clínica São João",
         "a@b.c", "Eve\r\nBcc: evil@x.example"},
        {"a@b.c", "x: y; z", "=?UTF-8?B?Zm9v?=", "\"x: y; z\" <a@b.c>", "x: y; z", "a@b.c",
         "=?UTF-8?B?Zm9v?="},
        {"a@b.c", " padded ", "two  spaces", NULL, " padded ", "a@b.c", "two  spaces"},
        {"a@b.c", "A very long clinic name that goes on and on, far beyond one line, "
                  "Praxisgemeinschaft am Marktplatz",
         "Züri Gesundheitszentrum für Allgemeinmedizin und Physiotherapie am See",
         NULL, "A very long clinic name that goes on and on, far beyond one line, "
               "Praxisgemeinschaft am Marktplatz",
         "a@b.c", "Züri Gesundheitszentrum für Allgemeinmedizin und Physiotherapie am See"},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        mime_msg m = base_msg();
        m.from = cases[i].from;
        m.from_name = cases[i].from_name;
        m.to_name = cases[i].to_name;
        char *msg = build_checked(&m);
        if (!msg)
            continue;
        if (cases[i].want_from_header) {
            char *v = header_get(msg, "From");
            CHECK_EQ_STR(v, cases[i].want_from_header);
            free(v);
        }
        check_mailbox(msg, "From", cases[i].want_from_name, cases[i].want_from_addr);
        check_mailbox(msg, "To", cases[i].want_to_name, "ana@patient.example");
        /* Nothing injected: exactly one of each field, no Bcc. */
        CHECK_EQ_INT(header_count(msg, "Bcc"), 0);
        CHECK_EQ_INT(header_count(msg, "From"), 1);
        CHECK_EQ_INT(header_count(msg, "To"), 1);
        free(msg);
    }

    /* A bare To without a name. */
    mime_msg m = base_msg();
    m.to_name = NULL;
    char *msg = build_checked(&m);
    char *v = msg ? header_get(msg, "To") : NULL;
    CHECK_EQ_STR(v, "ana@patient.example");
    free(v);
    free(msg);
}

static void test_build_subjects(void)
{
    char long_ascii[512] = "";
    while (strlen(long_ascii) < 200)
        strcat(long_ascii, "Your appointment at the clinic is confirmed ");
    long_ascii[strlen(long_ascii) - 1] = '\0'; /* no trailing space */
    char long_word[128];
    memset(long_word, 'w', 100);
    long_word[100] = '\0';
    static const char *plain[] = {"Appointment confirmed", "Re: [clinic] a, b; c (d) \"e\""};
    const char *encoded[] = {long_word, "=?UTF-8?B?Zm9v?=", " leading", "trailing ",
                             "double  space", "tab\tin", "line\r\nBcc: evil@x.example",
                             "Grüße"};

    for (size_t i = 0; i < ARRAY_LEN(plain); i++) {
        mime_msg m = base_msg();
        m.subject = plain[i];
        char *msg = build_checked(&m);
        char *v = msg ? header_get(msg, "Subject") : NULL;
        CHECK_EQ_STR(v, plain[i]);
        free(v);
        free(msg);
    }
    /* Long ASCII: folded at spaces, unfolds to the same text. */
    mime_msg m = base_msg();
    m.subject = long_ascii;
    char *msg = build_checked(&m);
    char *v = msg ? header_get(msg, "Subject") : NULL;
    CHECK_EQ_STR(v, long_ascii);
    /* It was folded: the Subject field spans at least three lines. */
    const char *sl = msg ? strstr(msg, "\r\nSubject:") : NULL;
    int lines = 0;
    for (const char *p = sl ? strstr(sl + 2, "\r\n") : NULL; p && p[2] == ' ';
         p = strstr(p + 2, "\r\n"))
        lines++;
    CHECK(lines >= 2);
    free(v);
    free(msg);

    for (size_t i = 0; i < ARRAY_LEN(encoded); i++) {
        m = base_msg();
        m.subject = encoded[i];
        msg = build_checked(&m);
        v = msg ? header_get(msg, "Subject") : NULL;
        CHECK(v && strncmp(v, "=?UTF-8?B?", 10) == 0);
        int bad = 0;
        char *dec = v ? ew_decode(v, &bad) : NULL;
        CHECK_EQ_STR(dec, encoded[i]);
        CHECK_EQ_INT(bad, 0);
        if (msg)
            CHECK_EQ_INT(header_count(msg, "Bcc"), 0);
        free(dec);
        free(v);
        free(msg);
    }

    /* Empty subject. */
    m = base_msg();
    m.subject = "";
    msg = build_checked(&m);
    CHECK(msg && strstr(msg, "\r\nSubject:\r\n") != NULL);
    free(msg);
}

/* mime_build(m) must fail; `what` names the bad field for the log. */
static void check_rejected(const mime_msg *m, const char *what)
{
    size_t len = 99;
    char *r = mime_build(m, &len);
    if (r)
        fprintf(stderr, "  accepted bad %s\n", what);
    CHECK(r == NULL);
    CHECK_EQ_INT(len, 0);
    free(r);
}

static void test_build_rejects(void)
{
    size_t len = 99;
    CHECK(mime_build(NULL, &len) == NULL);
    CHECK_EQ_INT(len, 0);
    static const struct {
        int field; /* 0 from, 1 to, 2 subject, 3 body, 4 message_id */
        const char *value;
    } cases[] = {
        {0, NULL}, {1, NULL}, {2, NULL}, {3, NULL}, {4, NULL},
        {0, "bad"}, {0, "Clinic <a@b"}, {1, "<a@b"}, {1, "x@y.z\r\nBcc: evil@x.example"},
        {4, "no-at-sign"}, {4, "a b@c"}, {4, "<a@b>"}, {4, "a@b\r\nX: y"}, {4, ""},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        mime_msg m = base_msg();
        const char **f[] = {&m.from, &m.to, &m.subject, &m.body, &m.message_id};
        *f[cases[i].field] = cases[i].value;
        char what[96];
        snprintf(what, sizeof what, "field %d = %s", cases[i].field,
                 cases[i].value ? cases[i].value : "NULL");
        check_rejected(&m, what);
    }
    mime_msg m = base_msg();
    m.calendar = "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n";
    m.calendar_method = "PUBLISH\r\nX: y";
    check_rejected(&m, "calendar_method");
}

static void test_deterministic(void)
{
    mime_msg m = base_msg();
    m.calendar = "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n";
    m.calendar_name = "appointment.ics";
    m.calendar_method = "PUBLISH";
    size_t l1 = 0, l2 = 0;
    char *a = mime_build(&m, &l1);
    char *b = mime_build(&m, &l2);
    CHECK(a && b);
    CHECK_EQ_INT(l1, l2);
    CHECK(a && b && l1 == l2 && memcmp(a, b, l1) == 0);
    m.message_id = "other@clinic.example";
    char *c = mime_build(&m, NULL);
    char *ba = a ? header_get(a, "Content-Type") : NULL;
    char *bc = c ? header_get(c, "Content-Type") : NULL;
    CHECK(ba && bc && strcmp(ba, bc) != 0); /* boundary follows the id */
    free(ba);
    free(bc);
    free(a);
    free(b);
    free(c);
}

/* Part `idx` (0-based) of a multipart body with the given boundary, as
 * pointers to its header block and content end; false if malformed. */
static bool multipart_part(const char *body, const char *boundary, int idx,
                           const char **part, const char **end)
{
    char delim[128];
    snprintf(delim, sizeof delim, "\r\n--%s", boundary);
    const char *p = strstr(body, delim); /* the preamble comes first */
    for (int i = 0; p; i++) {
        p += strlen(delim);
        if (strncmp(p, "--\r\n", 4) == 0)
            return false; /* close delimiter: no such part */
        if (strncmp(p, "\r\n", 2) != 0)
            return false;
        p += 2;
        const char *next = strstr(p, delim);
        if (!next)
            return false;
        if (i == idx) {
            *part = p;
            *end = next;
            return true;
        }
        p = next;
    }
    return false;
}

static void check_multipart(const mime_msg *m, const char *want_ct, const char *want_cd)
{
    char *msg = build_checked(m);
    if (!msg)
        return;
    char names[256];
    header_names(msg, names, sizeof names);
    CHECK_EQ_STR(names, "Date,From,To,Subject,Message-ID,MIME-Version,Content-Type");

    char *ct = header_get(msg, "Content-Type");
    char boundary[64] = "";
    CHECK(ct && sscanf(ct, "multipart/mixed; boundary=\"%63[^\"]\"", boundary) == 1);
    CHECK_EQ_INT(strlen(boundary), 12 + 16);
    CHECK(strncmp(boundary, "=_clinicbox_", 12) == 0);
    CHECK_EQ_INT(strspn(boundary + 12, "0123456789abcdef"), 16);
    free(ct);

    const char *body = strstr(msg, "\r\n\r\n") + 2; /* keep the CRLF: delimiters start with it */
    /* The boundary appears exactly three times: two delimiters and the close. */
    int count = 0;
    for (const char *p = strstr(body, boundary); p; p = strstr(p + 1, boundary))
        count++;
    CHECK_EQ_INT(count, 3);
    char close[96];
    snprintf(close, sizeof close, "\r\n--%s--\r\n", boundary);
    size_t ml = strlen(msg), cl = strlen(close);
    CHECK(ml > cl && strcmp(msg + ml - cl, close) == 0);

    const char *part = NULL, *end = NULL;
    CHECK(multipart_part(body, boundary, 0, &part, &end));
    if (part) {
        char *v = header_get(part, "Content-Type");
        CHECK_EQ_STR(v, "text/plain; charset=UTF-8");
        free(v);
        v = header_get(part, "Content-Transfer-Encoding");
        CHECK_EQ_STR(v, "quoted-printable");
        free(v);
        const char *content = strstr(part, "\r\n\r\n") + 4;
        char *qp = strndup(content, (size_t)(end - content));
        int bad = 0;
        char *text = qp_decode(qp, &bad);
        CHECK_EQ_INT(bad, 0);
        CHECK_EQ_STR(text, m->body);
        free(text);
        free(qp);
    }
    part = end = NULL;
    CHECK(multipart_part(body, boundary, 1, &part, &end));
    if (part) {
        char hdrs[256];
        header_names(part, hdrs, sizeof hdrs);
        CHECK_EQ_STR(hdrs, "Content-Type,Content-Disposition,Content-Transfer-Encoding");
        char *v = header_get(part, "Content-Type");
        CHECK_EQ_STR(v, want_ct);
        free(v);
        v = header_get(part, "Content-Disposition");
        CHECK_EQ_STR(v, want_cd);
        free(v);
        v = header_get(part, "Content-Transfer-Encoding");
        CHECK_EQ_STR(v, "base64");
        free(v);
        const char *content = strstr(part, "\r\n\r\n") + 4;
        size_t dl = 0;
        int bad = 0;
        unsigned char *cal = b64_decode(content, (size_t)(end - content), &dl, &bad);
        CHECK_EQ_INT(bad, 0);
        CHECK_EQ_INT(dl, strlen(m->calendar));
        CHECK(dl == strlen(m->calendar) && memcmp(cal, m->calendar, dl) == 0);
        free(cal);
        /* base64 lines are full 76 except the last. */
        for (const char *l = content; l < end;) {
            const char *eol = strstr(l, "\r\n");
            size_t n = (size_t)(eol - l);
            CHECK(n == 76 || eol == end);
            CHECK(n % 4 == 0);
            l = eol + 2;
        }
    }
    CHECK(!multipart_part(body, boundary, 2, &part, &end));
    free(msg);
}

static void test_multipart(void)
{
    ics_event e = {
        .uid = "0190f3a2-7c1e-7d41-9b1f-3c2d1e0f9a8b@clinicbox",
        .method = "PUBLISH",
        .sequence = 0,
        .dtstamp = 1796000000,
        .start = 1796112000,
        .end = 1796113800,
        .summary = "Appointment with Dr Ana López",
        .location = "Clínica Sol, Calle Mayor 1",
        .description = "Please arrive 10 minutes early.\nBring your insurance card; thanks!",
        .status = "CONFIRMED",
    };
    char *ics = ics_build(&e);
    CHECK(ics != NULL);
    if (!ics)
        return;
    mime_msg m = base_msg();
    m.calendar = ics;
    m.calendar_name = "appointment.ics";
    m.calendar_method = "PUBLISH";
    check_multipart(&m, "text/calendar; charset=UTF-8; method=PUBLISH",
                    "attachment; filename=\"appointment.ics\"");

    /* Body without a final newline; other name and method. */
    m.body = "Cancelled. = no trailing newline";
    m.calendar_name = "a\"b/c\\d.ics";
    m.calendar_method = "CANCEL";
    check_multipart(&m, "text/calendar; charset=UTF-8; method=CANCEL",
                    "attachment; filename=\"a_b_c_d.ics\"");

    /* No name, no method; empty body. */
    m.body = "";
    m.calendar_name = NULL;
    m.calendar_method = NULL;
    check_multipart(&m, "text/calendar; charset=UTF-8", "attachment; filename=\"appointment.ics\"");

    /* A long, non-ASCII body. */
    char body[4096] = "";
    while (strlen(body) < 3000)
        strcat(body, "Grüße aus der Praxis — 予約 😀 = ok; trailing \n");
    m.body = body;
    m.calendar_name = "appointment.ics";
    m.calendar_method = "PUBLISH";
    check_multipart(&m, "text/calendar; charset=UTF-8; method=PUBLISH",
                    "attachment; filename=\"appointment.ics\"");
    free(ics);
}

int main(void)
{
    RUN(test_address);
    RUN(test_encode_word);
    RUN(test_qp_exact);
    RUN(test_qp_round_trip);
    RUN(test_build_single);
    RUN(test_build_names);
    RUN(test_build_subjects);
    RUN(test_build_rejects);
    RUN(test_deterministic);
    RUN(test_multipart);
    return unit_summary();
}
