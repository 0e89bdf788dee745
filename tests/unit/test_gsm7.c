/*
 * test_gsm7.c — unit tests for src/outbox/gsm7.c (GSM 03.38 / 3GPP TS 23.038
 * septet and segment counting, and gsm7_simplify).
 *
 * The alphabet below is written out as UTF-8 text in code order, transcribed
 * independently of the code-point table in gsm7.c. Segment sizes: 160 / 153
 * septets, 70 / 67 UTF-16 code units.
 */
#include <stdbool.h>
#include <stdlib.h>

#include "outbox/gsm7.h"
#include "unit.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Every character of the default alphabet except ESC (0x1B), in code order:
 * 0x00..0x1A, 0x1C..0x7F. 127 characters. */
static const char gsm_alphabet[] =
    "@£$¥èéùìòÇ\nØø\rÅå"      /* 0x00..0x0F */
    "Δ_ΦΓΛΩΠΨΣΘΞ"             /* 0x10..0x1A */
    "ÆæßÉ"                    /* 0x1C..0x1F */
    " !\"#¤%&'()*+,-./"       /* 0x20..0x2F */
    "0123456789:;<=>?"        /* 0x30..0x3F */
    "¡ABCDEFGHIJKLMNO"        /* 0x40..0x4F */
    "PQRSTUVWXYZÄÖÑÜ§"        /* 0x50..0x5F */
    "¿abcdefghijklmno"        /* 0x60..0x6F */
    "pqrstuvwxyzäöñüà";       /* 0x70..0x7F */

static const char gsm_extension[] = "\f^{}\\[~]|€";

/* Builds a heap string: pre copies of `a`, then mid (may be ""), then post
 * copies of `b`. Caller frees. */
static char *build(int pre, char a, const char *mid, int post, char b)
{
    size_t midlen = strlen(mid);
    char *s = malloc((size_t)pre + midlen + (size_t)post + 1);
    if (!s) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    memset(s, a, (size_t)pre);
    memcpy(s + pre, mid, midlen);
    memset(s + pre + midlen, b, (size_t)post);
    s[(size_t)pre + midlen + (size_t)post] = '\0';
    return s;
}

static int septets_of(int pre, const char *mid, int post)
{
    char *s = build(pre, 'a', mid, post, 'b');
    int n = gsm7_septets(s);
    free(s);
    return n;
}

static int segments_of(int pre, const char *mid, int post)
{
    char *s = build(pre, 'a', mid, post, 'b');
    int n = gsm7_segments(s);
    free(s);
    return n;
}

/* Length of the UTF-8 character starting with lead byte c (valid input). */
static size_t u8len(unsigned char c)
{
    return c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
}

static void test_empty(void)
{
    char out[8];
    memset(out, 'X', sizeof out);
    CHECK_EQ_INT(gsm7_septets(""), 0);
    CHECK_EQ_INT(gsm7_segments(""), 0);
    CHECK_EQ_INT(gsm7_simplify("", out, sizeof out), 0);
    CHECK_EQ_STR(out, "");
    /* NULL is treated as "" */
    CHECK_EQ_INT(gsm7_septets(NULL), 0);
    CHECK_EQ_INT(gsm7_segments(NULL), 0);
    CHECK_EQ_INT(gsm7_simplify(NULL, out, sizeof out), 0);
    CHECK_EQ_STR(out, "");
}

static void test_plain_boundaries(void)
{
    static const struct {
        int n, segs;
    } cases[] = {
        {1, 1},   {159, 1}, {160, 1}, {161, 2}, {305, 2}, {306, 2},
        {307, 3}, {459, 3}, {460, 4}, {612, 4}, {613, 5},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        CHECK_EQ_INT(septets_of(cases[i].n, "", 0), cases[i].n);
        CHECK_EQ_INT(segments_of(cases[i].n, "", 0), cases[i].segs);
    }
}

static void test_extension_boundaries(void)
{
    /* € costs 2 septets */
    CHECK_EQ_INT(gsm7_septets("€"), 2);
    CHECK_EQ_INT(gsm7_segments("€"), 1);
    CHECK_EQ_INT(septets_of(158, "€", 0), 160);
    CHECK_EQ_INT(segments_of(158, "€", 0), 1);
    CHECK_EQ_INT(septets_of(159, "€", 0), 161);
    CHECK_EQ_INT(segments_of(159, "€", 0), 2);
    CHECK_EQ_INT(septets_of(0, "€", 158), 160);
    CHECK_EQ_INT(segments_of(0, "€", 158), 1);
    CHECK_EQ_INT(segments_of(0, "€", 159), 2);
    CHECK_EQ_INT(segments_of(79, "€", 79), 1);
    CHECK_EQ_INT(segments_of(79, "€", 80), 2);
    /* 306 septets that split cleanly: 151 + € = 153 | 153 */
    CHECK_EQ_INT(septets_of(151, "€", 153), 306);
    CHECK_EQ_INT(segments_of(151, "€", 153), 2);
    CHECK_EQ_INT(segments_of(151, "€", 154), 3);
    /* 306 septets where ESC+€ would straddle the 153 boundary: the pair
     * moves whole to segment 2 (152 | 2 + 152 = 154 > 153) → 3 segments */
    CHECK_EQ_INT(septets_of(152, "€", 152), 306);
    CHECK_EQ_INT(segments_of(152, "€", 152), 3);
    CHECK_EQ_INT(segments_of(152, "€", 151), 2);
    /* 153 € = 306 septets, each segment holds 76 € (152 septets) + 1 wasted */
    {
        char buf[153 * 3 + 1];
        for (int i = 0; i < 153; i++)
            memcpy(buf + 3 * i, "€", 3);
        buf[153 * 3] = '\0';
        CHECK_EQ_INT(gsm7_septets(buf), 306);
        CHECK_EQ_INT(gsm7_segments(buf), 3);
        buf[80 * 3] = '\0'; /* 80 € = 160 septets */
        CHECK_EQ_INT(gsm7_septets(buf), 160);
        CHECK_EQ_INT(gsm7_segments(buf), 1);
        buf[80 * 3] = buf[0];
        buf[81 * 3] = '\0'; /* 81 € = 162 septets: 76 + 5 € */
        CHECK_EQ_INT(gsm7_segments(buf), 2);
    }
}

static void test_extension_table(void)
{
    /* 10 extension characters × 2 septets */
    CHECK_EQ_INT(gsm7_septets(gsm_extension), 20);
    const char *p = gsm_extension;
    int count = 0;
    while (*p) {
        char one[5] = {0};
        size_t n = u8len((unsigned char)*p);
        memcpy(one, p, n);
        if (gsm7_septets(one) != 2)
            fprintf(stderr, "  extension char \"%s\" not 2 septets\n", one);
        CHECK_EQ_INT(gsm7_septets(one), 2);
        p += n;
        count++;
    }
    CHECK_EQ_INT(count, 10);
}

static void test_default_alphabet(void)
{
    const char *p = gsm_alphabet;
    int count = 0;
    while (*p) {
        char one[5] = {0};
        size_t n = u8len((unsigned char)*p);
        memcpy(one, p, n);
        if (gsm7_septets(one) != 1)
            fprintf(stderr, "  code 0x%02X \"%s\" not 1 septet\n",
                    count < 0x1B ? count : count + 1, one);
        CHECK_EQ_INT(gsm7_septets(one), 1);
        CHECK_EQ_INT(gsm7_segments(one), 1);
        p += n;
        count++;
    }
    CHECK_EQ_INT(count, 127);
    CHECK_EQ_INT(gsm7_septets(gsm_alphabet), 127);
    CHECK_EQ_INT(gsm7_segments(gsm_alphabet), 1);
    /* the whole alphabet plus the whole extension table: 127 + 20 */
    char both[sizeof gsm_alphabet + sizeof gsm_extension];
    snprintf(both, sizeof both, "%s%s", gsm_alphabet, gsm_extension);
    CHECK_EQ_INT(gsm7_septets(both), 147);
    CHECK_EQ_INT(gsm7_segments(both), 1);
}

static void test_not_in_alphabet(void)
{
    static const char *bad[] = {
        "\x1B",   /* ESC itself is not a character */
        "`",      /* 0x60 is ¿ in GSM, grave accent is missing */
        "\t",     "\x01", "\x7F", "\v",
        "ç",      /* 0x09 is capital Ç per TS 23.038 */
        "ł",      "Ł",    "á",    "í", "ó", "ú", "ê", "â", "õ", "ã", "Ö\u0308",
        "\u00A0", /* no-break space */
        "‘",      "’",    "“",    "”", "–", "—", "…", "•",
        "α",      "Α",    /* Greek alpha: only capitals listed are GSM */
        "😀",     "中",   "\u200B",
    };
    for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
        if (gsm7_septets(bad[i]) != -1)
            fprintf(stderr, "  \"%s\" counted as GSM-7\n", bad[i]);
        CHECK_EQ_INT(gsm7_septets(bad[i]), -1);
        CHECK_EQ_INT(gsm7_segments(bad[i]), 1);
    }
    /* one bad character anywhere spoils the whole text */
    CHECK_EQ_INT(septets_of(100, "ł", 100), -1);
    CHECK_EQ_INT(septets_of(0, "\x1B", 5), -1);
}

static void test_ucs2_boundaries(void)
{
    static const struct {
        int n, segs; /* n = total characters, one of them 'ł' */
    } cases[] = {
        {1, 1},   {69, 1},  {70, 1},  {71, 2},  {133, 2}, {134, 2},
        {135, 3}, {201, 3}, {202, 4},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        CHECK_EQ_INT(segments_of(cases[i].n - 1, "ł", 0), cases[i].segs);
        CHECK_EQ_INT(segments_of(0, "ł", cases[i].n - 1), cases[i].segs);
        CHECK_EQ_INT(segments_of((cases[i].n - 1) / 2, "ł",
                                 cases[i].n - 1 - (cases[i].n - 1) / 2),
                     cases[i].segs);
    }
    /* a GSM-7 extension character costs one code unit in UCS-2 */
    CHECK_EQ_INT(segments_of(34, "ł€", 34), 1);  /* 70 units */
    CHECK_EQ_INT(segments_of(35, "ł€", 34), 2);  /* 71 units */
}

static void test_emoji(void)
{
    /* U+1F600 is outside the BMP: 2 UTF-16 code units */
    CHECK_EQ_INT(gsm7_septets("😀"), -1);
    CHECK_EQ_INT(gsm7_segments("😀"), 1);
    CHECK_EQ_INT(segments_of(68, "😀", 0), 1);   /* 70 units */
    CHECK_EQ_INT(segments_of(69, "😀", 0), 2);   /* 71 units */
    CHECK_EQ_INT(segments_of(0, "😀", 68), 1);
    CHECK_EQ_INT(segments_of(0, "😀", 69), 2);
    CHECK_EQ_INT(segments_of(65, "😀", 67), 2);  /* 67 | 67 */
    CHECK_EQ_INT(segments_of(65, "😀", 68), 3);
    CHECK_EQ_INT(segments_of(132, "😀", 0), 2);  /* 134 units: 67 | 67 */
    CHECK_EQ_INT(segments_of(133, "😀", 0), 3);  /* 135 units */
    /* 134 units where the surrogate pair would straddle the 67 boundary:
     * it moves whole to segment 2 (66 | 2 + 66 = 68 > 67) → 3 segments */
    CHECK_EQ_INT(segments_of(66, "😀", 66), 3);
    CHECK_EQ_INT(segments_of(66, "😀", 65), 2);
    /* 35 emoji = 70 units → 1; 36 = 72 → 2 (33 per concatenated segment) */
    {
        char buf[67 * 4 + 1];
        for (int i = 0; i < 67; i++)
            memcpy(buf + 4 * i, "😀", 4);
        buf[35 * 4] = '\0';
        CHECK_EQ_INT(gsm7_segments(buf), 1);
        buf[35 * 4] = buf[0];
        buf[36 * 4] = '\0';
        CHECK_EQ_INT(gsm7_segments(buf), 2);
        buf[36 * 4] = buf[0];
        buf[66 * 4] = '\0'; /* 66 emoji: 33 | 33 */
        CHECK_EQ_INT(gsm7_segments(buf), 2);
        buf[66 * 4] = buf[0];
        buf[67 * 4] = '\0'; /* 67 emoji: 33 | 33 | 1 */
        CHECK_EQ_INT(gsm7_segments(buf), 3);
    }
}

static void test_invalid_utf8(void)
{
    static const char *bad[] = {
        "\xFF",             "\x80",         "abc\x80",          "\xC0\xAF",
        "\xC1\xBF",         "\xE0\x80\xAF", "\xED\xA0\x80",     /* surrogate */
        "\xE2\x82",         /* truncated € */
        "\xE2\x82z",        "\xF0\x8F\xBF\xBF", /* overlong */
        "\xF4\x90\x80\x80", /* above U+10FFFF */
        "\xF5\x80\x80\x80", "\xF0\x9F\x98", /* truncated emoji */
        "a\xC3",            "\xC3(",
    };
    for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
        CHECK_EQ_INT(gsm7_septets(bad[i]), -1);
        CHECK_EQ_INT(gsm7_segments(bad[i]), 1);
    }
    /* UCS-2 with each maximal invalid subpart as one U+FFFD (1 unit) */
    CHECK_EQ_INT(segments_of(69, "\xFF", 0), 1);
    CHECK_EQ_INT(segments_of(70, "\xFF", 0), 2);
    {
        /* "\xE2\x82" is one maximal subpart: n of them = n units */
        char buf[71 * 2 + 1];
        for (int i = 0; i < 71; i++)
            memcpy(buf + 2 * i, "\xE2\x82", 2);
        buf[71 * 2] = '\0';
        CHECK_EQ_INT(gsm7_segments(buf), 2);
        buf[70 * 2] = '\0';
        CHECK_EQ_INT(gsm7_segments(buf), 1);
        /* "\xED\xA0\x80" (encoded surrogate) is three subparts */
        char sur[24 * 3 + 1];
        for (int i = 0; i < 24; i++)
            memcpy(sur + 3 * i, "\xED\xA0\x80", 3);
        sur[24 * 3] = '\0';
        CHECK_EQ_INT(gsm7_segments(sur), 2); /* 72 units */
        sur[23 * 3] = '\0';
        CHECK_EQ_INT(gsm7_segments(sur), 1); /* 69 units */
    }
}

static void test_simplify_maps(void)
{
    static const struct {
        const char *in, *want;
    } cases[] = {
        {"‘a’ ‚b’", "'a' 'b'"},
        {"“a” „b“", "\"a\" \"b\""},
        {"1–2 — 3", "1-2 - 3"},
        {"wait…", "wait..."},
        {"• item", "* item"},
        {"10\u00A0am", "10 am"},
        {"a\u2002b\u2003c\u2009d\u200Ae\u202Ff\u205Fg\u3000h\u1680i",
         "a b c d e f g h i"},
        {"plain text", "plain text"},
        {"€ {x} ÄÖÜ", "€ {x} ÄÖÜ"},
        /* not listed: copied unchanged */
        {"łódź 😀 \u200B ‹›", "łódź 😀 \u200B ‹›"},
        {"a\xFF" "b\xE2\x82", "a\xFF" "b\xE2\x82"},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        char out[128];
        size_t n = gsm7_simplify(cases[i].in, out, sizeof out);
        CHECK_EQ_STR(out, cases[i].want);
        CHECK_EQ_INT(n, strlen(cases[i].want));
    }
}

static void test_simplify_makes_gsm(void)
{
    const char *in = "Dr. O’Neil’s clinic: “Your visit” — Mon 10:00\u00A0am… "
                     "• bring ID – thanks!";
    char out[256];
    CHECK_EQ_INT(gsm7_septets(in), -1);
    size_t n = gsm7_simplify(in, out, sizeof out);
    CHECK_EQ_STR(out, "Dr. O'Neil's clinic: \"Your visit\" - Mon 10:00 am... "
                      "* bring ID - thanks!");
    CHECK_EQ_INT(n, strlen(out));
    CHECK_EQ_INT(gsm7_septets(out), (int)strlen(out));
    CHECK_EQ_INT(gsm7_segments(out), 1);

    /* 100 chars as UCS-2 = 2 segments; after simplify, 1 GSM-7 segment */
    char *s = build(99, 'a', "’", 0, 'b');
    CHECK_EQ_INT(gsm7_segments(s), 2);
    n = gsm7_simplify(s, out, sizeof out);
    CHECK_EQ_INT(n, 100);
    CHECK_EQ_INT(gsm7_segments(out), 1);
    free(s);

    /* a character with no stand-in keeps the text UCS-2 */
    n = gsm7_simplify("“Łódź”", out, sizeof out);
    CHECK_EQ_STR(out, "\"Łódź\"");
    CHECK_EQ_INT(gsm7_septets(out), -1);
}

static void test_simplify_truncation(void)
{
    /* every unit: 1-, 2-, 3-, 4-byte characters, and stand-ins of 1 and 3 */
    const char *in = "aé€😀…’b\u00A0ł";
    char full[64];
    size_t fulllen = gsm7_simplify(in, full, sizeof full);
    CHECK_EQ_STR(full, "aé€😀...'b ł");
    CHECK_EQ_INT(fulllen, strlen(full));

    /* legal cut points of the full output, in bytes */
    static const size_t cuts[] = {0, 1, 3, 6, 10, 13, 14, 15, 16, 18};
    for (size_t outlen = 0; outlen <= fulllen + 2; outlen++) {
        char buf[64];
        memset(buf, 'X', sizeof buf);
        size_t n = gsm7_simplify(in, buf, outlen);
        size_t want = 0;
        for (size_t k = 0; k < ARRAY_LEN(cuts); k++)
            if (outlen > 0 && cuts[k] <= outlen - 1)
                want = cuts[k];
        if (n != want)
            fprintf(stderr, "  outlen %zu: got %zu want %zu\n", outlen, n,
                    want);
        CHECK_EQ_INT(n, want);
        if (outlen == 0) {
            CHECK(buf[0] == 'X'); /* nothing written, not even a NUL */
            continue;
        }
        CHECK(n < outlen);
        CHECK(buf[n] == '\0');
        CHECK(memcmp(buf, full, n) == 0);
        for (size_t k = outlen; k < sizeof buf; k++)
            CHECK(buf[k] == 'X'); /* never writes past outlen */
        /* the prefix is still well-formed, countable text */
        CHECK(gsm7_segments(buf) >= (n > 0 ? 1 : 0));
    }

    /* small buffers around a multibyte character */
    char out[4];
    CHECK_EQ_INT(gsm7_simplify("aé", out, 2), 1);
    CHECK_EQ_STR(out, "a");
    CHECK_EQ_INT(gsm7_simplify("aé", out, 3), 1);
    CHECK_EQ_STR(out, "a");
    CHECK_EQ_INT(gsm7_simplify("aé", out, 4), 3);
    CHECK_EQ_STR(out, "aé");
    CHECK_EQ_INT(gsm7_simplify("😀", out, 4), 0);
    CHECK_EQ_STR(out, "");
    /* a stand-in is not split either: "..." needs 3 bytes */
    CHECK_EQ_INT(gsm7_simplify("a…", out, 4), 1);
    CHECK_EQ_STR(out, "a");
    CHECK_EQ_INT(gsm7_simplify("…", out, 4), 3);
    CHECK_EQ_STR(out, "...");
    /* invalid bytes are copied as units too */
    CHECK_EQ_INT(gsm7_simplify("a\xE2\x82", out, 3), 1);
    CHECK_EQ_STR(out, "a");
    CHECK_EQ_INT(gsm7_simplify(NULL, NULL, 0), 0);
}

int main(void)
{
    RUN(test_empty);
    RUN(test_plain_boundaries);
    RUN(test_extension_boundaries);
    RUN(test_extension_table);
    RUN(test_default_alphabet);
    RUN(test_not_in_alphabet);
    RUN(test_ucs2_boundaries);
    RUN(test_emoji);
    RUN(test_invalid_utf8);
    RUN(test_simplify_maps);
    RUN(test_simplify_makes_gsm);
    RUN(test_simplify_truncation);
    return unit_summary();
}
