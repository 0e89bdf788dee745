/*
 * gsm7.c — SMS length rules: which texts fit the GSM 7-bit default alphabet,
 * how many septets / UTF-16 code units they need, and how many segments.
 *
 * Design: the default alphabet and its extension table are transcribed from
 * 3GPP TS 23.038 (formerly GSM 03.38) section 6.2.1 / 6.2.1.1 as two small
 * tables of Unicode code points and looked up linearly (SMS texts are short;
 * a 128-entry scan per character is cheap and obviously correct). Where the
 * Unicode Consortium's GSM0338.TXT deviates from the standard, the standard
 * wins: code 0x09 is U+00C7 (capital C-cedilla), so U+00E7 is not GSM-7.
 * The escape code 0x1B is not a character a user types; it has no entry, so
 * U+001B in a text (like any other control except LF and CR, and form feed
 * from the extension table) forces UCS-2. The extension codes that are not
 * characters (0x0D "CR2", 0x1B "SS2") have no entry either.
 *
 * UTF-8 is decoded strictly (RFC 3629: no overlong forms, no surrogates,
 * nothing above U+10FFFF). Invalid UTF-8 makes gsm7_septets() return -1;
 * gsm7_segments() then counts the text as UCS-2 with each maximal invalid
 * subpart (The Unicode Standard, chapter 3, "U+FFFD Substitution of
 * Maximal Subparts") replaced by one U+FFFD, i.e. one UTF-16 code unit:
 * what a sender that repairs the text before encoding would transmit.
 *
 * Segment counting is the exact split, not a division: a concatenated
 * segment holds 153 septets (or 67 UTF-16 code units), and an extension
 * character (ESC + code) or a surrogate pair is never split across two
 * segments, so it moves whole to the next segment, as phones and
 * SMSCs that fragment correctly do. This equals ceil(n / 153) (resp. 67)
 * except when a two-unit character would straddle a boundary, where it may
 * need one segment more.
 *
 * gsm7_simplify() replaces exactly the characters its header lists; an
 * invalid UTF-8 sequence counts as "everything else" and is copied
 * unchanged (a maximal subpart at a time, so truncation does not cut one
 * either). It stops at the first unit (a character or its whole stand-in)
 * that does not fit, so the output is always a prefix of the full result.
 *
 * Counts saturate at INT_MAX rather than overflow. A NULL text counts as "".
 * Pure: no I/O, no global state.
 */
#include "gsm7.h"

#include <limits.h>
#include <stdint.h>
#include <string.h>

enum {
    SINGLE_SEPTETS = 160, /* one GSM-7 segment */
    MULTI_SEPTETS = 153,  /* per segment with a 6-octet concatenation UDH */
    SINGLE_UNITS = 70,    /* one UCS-2 segment, in UTF-16 code units */
    MULTI_UNITS = 67,
    NO_CHAR = 0xFFFF,     /* table hole: not a Unicode scalar we accept */
    REPLACEMENT = 0xFFFD,
};

/* TS 23.038 6.2.1: GSM 7-bit default alphabet, indexed by code. */
static const uint16_t gsm7_basic[128] = {
    /* 0x00 */ 0x0040, 0x00A3, 0x0024, 0x00A5, 0x00E8, 0x00E9, 0x00F9, 0x00EC,
    /* 0x08 */ 0x00F2, 0x00C7, 0x000A, 0x00D8, 0x00F8, 0x000D, 0x00C5, 0x00E5,
    /* 0x10 */ 0x0394, 0x005F, 0x03A6, 0x0393, 0x039B, 0x03A9, 0x03A0, 0x03A8,
    /* 0x18 */ 0x03A3, 0x0398, 0x039E, NO_CHAR, 0x00C6, 0x00E6, 0x00DF, 0x00C9,
    /* 0x20 */ 0x0020, 0x0021, 0x0022, 0x0023, 0x00A4, 0x0025, 0x0026, 0x0027,
    /* 0x28 */ 0x0028, 0x0029, 0x002A, 0x002B, 0x002C, 0x002D, 0x002E, 0x002F,
    /* 0x30 */ 0x0030, 0x0031, 0x0032, 0x0033, 0x0034, 0x0035, 0x0036, 0x0037,
    /* 0x38 */ 0x0038, 0x0039, 0x003A, 0x003B, 0x003C, 0x003D, 0x003E, 0x003F,
    /* 0x40 */ 0x00A1, 0x0041, 0x0042, 0x0043, 0x0044, 0x0045, 0x0046, 0x0047,
    /* 0x48 */ 0x0048, 0x0049, 0x004A, 0x004B, 0x004C, 0x004D, 0x004E, 0x004F,
    /* 0x50 */ 0x0050, 0x0051, 0x0052, 0x0053, 0x0054, 0x0055, 0x0056, 0x0057,
    /* 0x58 */ 0x0058, 0x0059, 0x005A, 0x00C4, 0x00D6, 0x00D1, 0x00DC, 0x00A7,
    /* 0x60 */ 0x00BF, 0x0061, 0x0062, 0x0063, 0x0064, 0x0065, 0x0066, 0x0067,
    /* 0x68 */ 0x0068, 0x0069, 0x006A, 0x006B, 0x006C, 0x006D, 0x006E, 0x006F,
    /* 0x70 */ 0x0070, 0x0071, 0x0072, 0x0073, 0x0074, 0x0075, 0x0076, 0x0077,
    /* 0x78 */ 0x0078, 0x0079, 0x007A, 0x00E4, 0x00F6, 0x00F1, 0x00FC, 0x00E0,
};

/* TS 23.038 6.2.1.1: extension table characters (each sent as ESC + code):
 * 0x0A form feed, 0x14 ^, 0x28 {, 0x29 }, 0x2F \, 0x3C [, 0x3D ~, 0x3E ],
 * 0x40 |, 0x65 €. */
static const uint16_t gsm7_ext[] = {
    0x000C, 0x005E, 0x007B, 0x007D, 0x005C, 0x005B, 0x007E, 0x005D, 0x007C,
    0x20AC,
};

/* Septets code point cp costs in GSM-7: 1, 2 (extension table), or 0 when
 * it is not representable. */
static int septet_cost(uint32_t cp)
{
    if (cp >= NO_CHAR)
        return 0;
    for (size_t i = 0; i < sizeof gsm7_basic / sizeof gsm7_basic[0]; i++)
        if (gsm7_basic[i] == cp)
            return 1;
    for (size_t i = 0; i < sizeof gsm7_ext / sizeof gsm7_ext[0]; i++)
        if (gsm7_ext[i] == cp)
            return 2;
    return 0;
}

/* Decodes one UTF-8 character at s (s[0] != '\0'). Returns its length in
 * bytes and stores the code point in *cp. On invalid input returns the
 * length of the maximal invalid subpart (at least 1, never past a NUL) and
 * stores UINT32_MAX in *cp. */
static size_t utf8_decode(const unsigned char *s, uint32_t *cp)
{
    unsigned char b = s[0];
    size_t need;
    uint32_t v;
    unsigned char lo = 0x80, hi = 0xBF; /* allowed range of the 2nd byte */

    *cp = UINT32_MAX;
    if (b < 0x80) {
        *cp = b;
        return 1;
    }
    if (b >= 0xC2 && b <= 0xDF) {
        need = 1;
        v = b & 0x1Fu;
    } else if (b >= 0xE0 && b <= 0xEF) {
        need = 2;
        v = b & 0x0Fu;
        if (b == 0xE0)
            lo = 0xA0; /* no overlongs */
        else if (b == 0xED)
            hi = 0x9F; /* no surrogates */
    } else if (b >= 0xF0 && b <= 0xF4) {
        need = 3;
        v = b & 0x07u;
        if (b == 0xF0)
            lo = 0x90; /* no overlongs */
        else if (b == 0xF4)
            hi = 0x8F; /* nothing above U+10FFFF */
    } else {
        return 1; /* stray continuation byte, C0, C1 or F5..FF */
    }
    for (size_t i = 1; i <= need; i++) {
        unsigned char c = s[i]; /* a NUL stops here: it is out of range */
        if (c < lo || c > hi)
            return i;
        v = (v << 6) | (c & 0x3Fu);
        lo = 0x80;
        hi = 0xBF;
    }
    *cp = v;
    return need + 1;
}

static int sat_add(int a, int b)
{
    return a > INT_MAX - b ? INT_MAX : a + b;
}

int gsm7_septets(const char *utf8)
{
    const unsigned char *s = (const unsigned char *)(utf8 ? utf8 : "");
    int total = 0;

    while (*s) {
        uint32_t cp;
        s += utf8_decode(s, &cp);
        int cost = cp == UINT32_MAX ? 0 : septet_cost(cp);
        if (cost == 0)
            return -1;
        total = sat_add(total, cost);
    }
    return total;
}

/* Per-character costs of the whole text, fed to a segment filler. */
typedef struct {
    int limit; /* units per concatenated segment */
    int segs;  /* segments so far (the current one included) */
    int used;  /* units used in the current segment */
} filler_t;

static void fill(filler_t *f, int cost)
{
    if (f->used + cost > f->limit) {
        f->segs = sat_add(f->segs, 1);
        f->used = cost;
    } else {
        f->used += cost;
    }
}

/* UTF-16 code units of one decoded character (invalid → U+FFFD). */
static int utf16_cost(uint32_t cp)
{
    return cp != UINT32_MAX && cp > 0xFFFF ? 2 : 1;
}

int gsm7_segments(const char *utf8)
{
    const unsigned char *start = (const unsigned char *)(utf8 ? utf8 : "");
    const unsigned char *s;
    int septets = gsm7_septets((const char *)start);
    bool gsm = septets >= 0;
    int total = 0;

    if (*start == '\0')
        return 0;
    if (gsm) {
        total = septets;
    } else {
        for (s = start; *s;) {
            uint32_t cp;
            s += utf8_decode(s, &cp);
            total = sat_add(total, utf16_cost(cp));
        }
    }
    if (total <= (gsm ? SINGLE_SEPTETS : SINGLE_UNITS))
        return 1;

    filler_t f = {gsm ? MULTI_SEPTETS : MULTI_UNITS, 1, 0};
    for (s = start; *s;) {
        uint32_t cp;
        s += utf8_decode(s, &cp);
        fill(&f, gsm ? septet_cost(cp) : utf16_cost(cp));
    }
    return f.segs;
}

/* The GSM-7 stand-in for cp, or NULL when cp is copied unchanged. */
static const char *stand_in(uint32_t cp)
{
    switch (cp) {
    case 0x2018: /* ‘ */
    case 0x2019: /* ’ */
    case 0x201A: /* ‚ */
        return "'";
    case 0x201C: /* “ */
    case 0x201D: /* ” */
    case 0x201E: /* „ */
        return "\"";
    case 0x2013: /* – en dash */
    case 0x2014: /* — em dash */
        return "-";
    case 0x2026: /* … */
        return "...";
    case 0x2022: /* • */
        return "*";
    /* Unicode spaces other than U+0020: general category Zs. */
    case 0x00A0: /* no-break space */
    case 0x1680: /* ogham space mark */
    case 0x202F: /* narrow no-break space */
    case 0x205F: /* medium mathematical space */
    case 0x3000: /* ideographic space */
        return " ";
    default:
        if (cp >= 0x2000 && cp <= 0x200A) /* en quad .. hair space */
            return " ";
        return NULL;
    }
}

size_t gsm7_simplify(const char *utf8, char *out, size_t outlen)
{
    const unsigned char *s = (const unsigned char *)(utf8 ? utf8 : "");
    size_t len = 0;

    if (out == NULL || outlen == 0)
        return 0;
    while (*s) {
        uint32_t cp;
        size_t n = utf8_decode(s, &cp);
        const char *rep = cp == UINT32_MAX ? NULL : stand_in(cp);
        const char *src = rep ? rep : (const char *)s;
        size_t srclen = rep ? strlen(rep) : n;

        if (srclen > outlen - 1 - len)
            break;
        memcpy(out + len, src, srclen);
        len += srclen;
        s += n;
    }
    out[len] = '\0';
    return len;
}
