/*
 * test_ics.c — unit tests for src/outbox/ics.c (RFC 5545 single-event
 * VCALENDAR objects).
 *
 * Output is unfolded and split into properties by the small reader here,
 * which also checks the folding rules: CRLF line ends, at most 75 octets a
 * line, continuation lines starting with one space, no fold inside a UTF-8
 * character. Expected UTC times were computed independently on Debian 12
 * with `date -u -d @<t> +%Y%m%dT%H%M%SZ`.
 */
#include <stdbool.h>
#include <stdlib.h>

#include "outbox/ics.h"
#include "unit.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Folding problems in s: bare CR/LF, lines over 75 octets, a missing final
 * CRLF, a continuation whose content starts with a UTF-8 continuation
 * byte, a physical line ending inside a UTF-8 character. (A continuation
 * may start with two spaces: the second is content.)
 * *folds gets the number of folds. */
static int fold_problems(const char *s, int *folds)
{
    int bad = 0;
    size_t n = strlen(s), start = 0;
    *folds = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r'))
            bad++;
        if (s[i] != '\r')
            continue;
        if (s[i + 1] != '\n') {
            bad++;
            continue;
        }
        if (i - start > 75) {
            fprintf(stderr, "  line of %zu octets\n", i - start);
            bad++;
        }
        /* The last character before CRLF must be complete. */
        size_t j = i;
        while (j > start && ((unsigned char)s[j - 1] & 0xc0) == 0x80)
            j--;
        if (j > start && (unsigned char)s[j - 1] >= 0x80) {
            unsigned char lead = (unsigned char)s[j - 1];
            size_t want = (lead & 0xe0) == 0xc0 ? 2 : (lead & 0xf0) == 0xe0 ? 3 : 4;
            if (i - (j - 1) != want)
                bad++;
        }
        if (s[i + 2] == ' ') {
            (*folds)++;
            if (((unsigned char)s[i + 3] & 0xc0) == 0x80)
                bad++;
        }
        start = i + 2;
        i++;
    }
    if (n < 2 || strcmp(s + n - 2, "\r\n") != 0)
        bad++;
    return bad;
}

/* s with every CRLF + space removed (RFC 5545 §3.1 unfolding). */
static char *unfold(const char *s)
{
    size_t n = strlen(s), k = 0;
    char *out = malloc(n + 1);
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\r' && s[i + 1] == '\n' && s[i + 2] == ' ') {
            i += 2;
            continue;
        }
        out[k++] = s[i];
    }
    out[k] = '\0';
    return out;
}

/* The unfolded content lines, joined by '\n' (for one exact comparison). */
static char *lines_of(const char *ics)
{
    char *u = unfold(ics);
    size_t k = 0;
    for (size_t i = 0; u[i]; i++) {
        if (u[i] == '\r' && u[i + 1] == '\n')
            continue;
        u[k++] = u[i];
    }
    u[k] = '\0';
    return u;
}

/* The raw (still escaped) value of property `name` in the unfolded ics, or
 * NULL; malloc'd. Also counts occurrences in *count. */
static char *prop(const char *ics, const char *name, int *count)
{
    char *u = unfold(ics), *r = NULL;
    size_t nl = strlen(name);
    int c = 0;
    for (char *line = u; *line;) {
        char *eol = strstr(line, "\r\n");
        if (!eol)
            break;
        if (strncmp(line, name, nl) == 0 && line[nl] == ':') {
            c++;
            if (!r)
                r = strndup(line + nl + 1, (size_t)(eol - (line + nl + 1)));
        }
        line = eol + 2;
    }
    free(u);
    if (count)
        *count = c;
    return r;
}

/* RFC 5545 §3.3.11 TEXT unescaping; counts unknown escapes and unescaped
 * ';' or ',' in *bad. */
static char *unescape(const char *s, int *bad)
{
    char *out = malloc(strlen(s) + 1);
    size_t k = 0;
    for (; *s; s++) {
        if (*s == ';' || *s == ',') {
            (*bad)++;
        } else if (*s == '\\') {
            s++;
            if (*s == 'n' || *s == 'N')
                out[k++] = '\n';
            else if (*s == '\\' || *s == ';' || *s == ',')
                out[k++] = *s;
            else {
                (*bad)++;
                if (!*s)
                    break;
            }
            continue;
        }
        out[k++] = *s;
    }
    out[k] = '\0';
    return out;
}

/* Physical lines ending in an odd run of backslashes: an escape split by a
 * fold (legal after unfolding, but kept whole for sloppy readers). */
static int split_escapes(const char *ics)
{
    int n = 0;
    for (const char *p = strstr(ics, "\r\n"); p; p = strstr(p + 2, "\r\n")) {
        int run = 0;
        for (const char *q = p; q > ics && q[-1] == '\\'; q--)
            run++;
        n += run % 2;
    }
    return n;
}

static ics_event base_event(void)
{
    ics_event e = {
        .uid = "0190f3a2-7c1e-7d41-9b1f-3c2d1e0f9a8b@clinicbox",
        .method = "PUBLISH",
        .sequence = 0,
        .dtstamp = 1796000000,
        .start = 1796112000,
        .end = 1796113800,
        .summary = "Appointment with Dr Ana Lopez",
        .location = "Clinica Sol",
        .description = "Please arrive 10 minutes early.",
        .status = "CONFIRMED",
    };
    return e;
}

static void test_exact(void)
{
    ics_event e = base_event();
    char *ics = ics_build(&e);
    CHECK(ics != NULL);
    if (!ics)
        return;
    int folds = -1;
    CHECK_EQ_INT(fold_problems(ics, &folds), 0);
    CHECK_EQ_INT(folds, 0);
    CHECK_EQ_STR(ics, "BEGIN:VCALENDAR\r\n"
                      "VERSION:2.0\r\n"
                      "PRODID:-//clinicbox//clinicbox//EN\r\n"
                      "CALSCALE:GREGORIAN\r\n"
                      "METHOD:PUBLISH\r\n"
                      "BEGIN:VEVENT\r\n"
                      "UID:0190f3a2-7c1e-7d41-9b1f-3c2d1e0f9a8b@clinicbox\r\n"
                      "SEQUENCE:0\r\n"
                      "DTSTAMP:20261130T005320Z\r\n"
                      "DTSTART:20261201T080000Z\r\n"
                      "DTEND:20261201T083000Z\r\n"
                      "SUMMARY:Appointment with Dr Ana Lopez\r\n"
                      "LOCATION:Clinica Sol\r\n"
                      "DESCRIPTION:Please arrive 10 minutes early.\r\n"
                      "STATUS:CONFIRMED\r\n"
                      "END:VEVENT\r\n"
                      "END:VCALENDAR\r\n");
    free(ics);

    /* A cancellation without location and description. */
    e.method = "CANCEL";
    e.status = "CANCELLED";
    e.sequence = 2;
    e.location = NULL;
    e.description = "";
    ics = ics_build(&e);
    char *lines = ics ? lines_of(ics) : NULL;
    CHECK_EQ_STR(lines, "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//clinicbox//clinicbox//EN\n"
                        "CALSCALE:GREGORIAN\nMETHOD:CANCEL\nBEGIN:VEVENT\n"
                        "UID:0190f3a2-7c1e-7d41-9b1f-3c2d1e0f9a8b@clinicbox\nSEQUENCE:2\n"
                        "DTSTAMP:20261130T005320Z\nDTSTART:20261201T080000Z\n"
                        "DTEND:20261201T083000Z\nSUMMARY:Appointment with Dr Ana Lopez\n"
                        "STATUS:CANCELLED\nEND:VEVENT\nEND:VCALENDAR\n");
    free(lines);
    free(ics);

    /* Negative sequence is written as 0; no status, no STATUS line. */
    e = base_event();
    e.sequence = -5;
    e.status = NULL;
    ics = ics_build(&e);
    char *v = ics ? prop(ics, "SEQUENCE", NULL) : NULL;
    CHECK_EQ_STR(v, "0");
    free(v);
    int count = -1;
    v = ics ? prop(ics, "STATUS", &count) : NULL;
    CHECK(v == NULL);
    CHECK_EQ_INT(count, 0);
    free(ics);
}

static void test_times(void)
{
    static const struct {
        int64_t t;
        const char *want;
    } cases[] = {
        {1796112000, "20261201T080000Z"},
        {0, "19700101T000000Z"},
        {-1, "19691231T235959Z"},
        {1774769400, "20260329T073000Z"},
        {1709164799, "20240228T235959Z"},
        {1709251199, "20240229T235959Z"},
        {4102444800, "21000101T000000Z"},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        ics_event e = base_event();
        e.dtstamp = cases[i].t;
        e.start = cases[i].t;
        e.end = cases[i].t + 3600 + 59;
        char *ics = ics_build(&e);
        CHECK(ics != NULL);
        if (!ics)
            continue;
        char *v = prop(ics, "DTSTAMP", NULL);
        CHECK_EQ_STR(v, cases[i].want);
        free(v);
        v = prop(ics, "DTSTART", NULL);
        CHECK_EQ_STR(v, cases[i].want);
        free(v);
        /* DTEND is one hour and 59 s later: same date (for these), hour+1. */
        v = prop(ics, "DTEND", NULL);
        CHECK(v && strlen(v) == 16 && v[15] == 'Z' && v[8] == 'T');
        free(v);
        free(ics);
    }
    ics_event e = base_event();
    e.end = 1796112000 + 45 * 60;
    char *ics = ics_build(&e);
    char *v = ics ? prop(ics, "DTEND", NULL) : NULL;
    CHECK_EQ_STR(v, "20261201T084500Z");
    free(v);
    free(ics);
}

static void test_escaping(void)
{
    static const struct {
        const char *in, *want;
    } cases[] = {
        {"a,b;c\\d", "a\\,b\\;c\\\\d"},
        {"line1\nline2", "line1\\nline2"},
        {"crlf\r\nlone cr\rend", "crlf\\nlone cr\\nend"},
        {"tab\tkept", "tab\tkept"},
        {"ctl\x01\x1f\x7f gone", "ctl gone"},
        {"Dr Ana López: 10:00", "Dr Ana López: 10:00"},
        {"\\n is not a newline", "\\\\n is not a newline"},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        ics_event e = base_event();
        e.summary = cases[i].in;
        e.location = cases[i].in;
        e.description = cases[i].in;
        char *ics = ics_build(&e);
        CHECK(ics != NULL);
        if (!ics)
            continue;
        int folds;
        CHECK_EQ_INT(fold_problems(ics, &folds), 0);
        static const char *names[] = {"SUMMARY", "LOCATION", "DESCRIPTION"};
        for (size_t j = 0; j < ARRAY_LEN(names); j++) {
            int count = 0;
            char *v = prop(ics, names[j], &count);
            CHECK_EQ_STR(v, cases[i].want);
            CHECK_EQ_INT(count, 1);
            free(v);
        }
        free(ics);
    }
    /* A UID is TEXT too. */
    ics_event e = base_event();
    e.uid = "a,b@clinicbox";
    char *ics = ics_build(&e);
    char *v = ics ? prop(ics, "UID", NULL) : NULL;
    CHECK_EQ_STR(v, "a\\,b@clinicbox");
    free(v);
    free(ics);
}

static void test_folding(void)
{
    /* A 200-character non-ASCII description with line breaks and specials. */
    char desc[2048] = "";
    static const char *pieces[] = {"Zażółć gęślą jaźń; ", "予約の確認, ", "😀\n", "Grüße \\ ",
                                   "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa "};
    size_t chars = 0;
    for (size_t i = 0; chars < 200; i++) {
        strcat(desc, pieces[i % ARRAY_LEN(pieces)]);
        chars = 0;
        for (const char *p = desc; *p; p++)
            chars += ((unsigned char)*p & 0xc0) != 0x80;
    }
    ics_event e = base_event();
    e.description = desc;
    e.summary = desc;
    e.location = "Clínica São João de Deus — Unidade de Saúde Familiar, Rua 25 de Abril 1";
    char *ics = ics_build(&e);
    CHECK(ics != NULL);
    if (!ics)
        return;
    int folds = 0;
    CHECK_EQ_INT(fold_problems(ics, &folds), 0);
    CHECK(folds >= 2 * (int)(strlen(desc) / 75));
    static const char *names[] = {"SUMMARY", "DESCRIPTION", "LOCATION"};
    for (size_t j = 0; j < ARRAY_LEN(names); j++) {
        int bad = 0;
        char *v = prop(ics, names[j], NULL);
        char *text = v ? unescape(v, &bad) : NULL;
        CHECK_EQ_INT(bad, 0);
        CHECK_EQ_STR(text, j < 2 ? desc : e.location);
        free(text);
        free(v);
    }
    CHECK_EQ_INT(split_escapes(ics), 0);
    free(ics);

    /* Every offset of a 2-, 3- and 4-byte character and of an escape
     * around the 75-octet edge. */
    static const char *edge[] = {"é", "€", "😀", ",", "\n"};
    int problems = 0, mismatches = 0;
    for (size_t m = 0; m < ARRAY_LEN(edge); m++) {
        for (int pre = 50; pre <= 160; pre++) {
            char s[512];
            memset(s, 'x', (size_t)pre);
            s[pre] = '\0';
            strcat(s, edge[m]);
            strcat(s, edge[m]);
            strcat(s, "y");
            e = base_event();
            e.summary = s;
            ics = ics_build(&e);
            if (!ics) {
                problems++;
                continue;
            }
            problems += fold_problems(ics, &folds) + split_escapes(ics);
            int bad = 0;
            char *v = prop(ics, "SUMMARY", NULL);
            char *text = v ? unescape(v, &bad) : NULL;
            mismatches += bad + (!text || strcmp(text, s) != 0);
            free(text);
            free(v);
            free(ics);
        }
    }
    CHECK_EQ_INT(problems, 0);
    CHECK_EQ_INT(mismatches, 0);
}

static void test_rejects(void)
{
    ics_event e = base_event();
    CHECK(ics_build(NULL) == NULL);
    e.uid = NULL;
    CHECK(ics_build(&e) == NULL);
    e = base_event();
    e.uid = "";
    CHECK(ics_build(&e) == NULL);
    e = base_event();
    e.method = NULL;
    CHECK(ics_build(&e) == NULL);
    e = base_event();
    e.summary = NULL;
    CHECK(ics_build(&e) == NULL);
    e = base_event();
    e.method = "PUBLISH\r\nX-INJECT:1";
    CHECK(ics_build(&e) == NULL);
    e = base_event();
    e.method = "";
    CHECK(ics_build(&e) == NULL);
    e = base_event();
    e.status = "CONFIRMED;X=1";
    CHECK(ics_build(&e) == NULL);
    /* A summary may be empty. */
    e = base_event();
    e.summary = "";
    char *ics = ics_build(&e);
    char *v = ics ? prop(ics, "SUMMARY", NULL) : NULL;
    CHECK_EQ_STR(v, "");
    free(v);
    free(ics);
}

int main(void)
{
    RUN(test_exact);
    RUN(test_times);
    RUN(test_escaping);
    RUN(test_folding);
    RUN(test_rejects);
    return unit_summary();
}
