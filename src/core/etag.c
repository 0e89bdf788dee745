/* etag.c — see etag.h. */
#include "core/etag.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

void etag_format(char *out, size_t len, int64_t rev)
{
    snprintf(out, len, "\"%" PRId64 "\"", rev);
}

void etag_format2(char *out, size_t len, int64_t a, int64_t b)
{
    snprintf(out, len, "\"%" PRId64 ".%" PRId64 "\"", a, b);
}

static const char *skip_ows(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

/* etagc = %x21 / %x23-7E / obs-text */
static bool etagc(unsigned char ch)
{
    return ch == 0x21 || (ch >= 0x23 && ch <= 0x7e) || ch >= 0x80;
}

bool etag_cond_parse(const char *value, etag_cond *out)
{
    memset(out, 0, sizeof *out);
    if (!value)
        return true;
    out->present = true;
    const char *p = skip_ows(value);
    if (*p == '*') {
        out->any = true;
        return *skip_ows(p + 1) == '\0';
    }
    int tags = 0, kept = 0;
    for (;;) {
        /* #rule: empty list elements are allowed (RFC 9110, 5.6.1.2) */
        p = skip_ows(p);
        if (*p == ',') {
            p++;
            continue;
        }
        if (*p == '\0')
            break;
        bool weak = false;
        if (p[0] == 'W' && p[1] == '/') {
            weak = true;
            p += 2;
        }
        if (*p != '"')
            return false;
        const char *start = p++;
        while (etagc((unsigned char)*p))
            p++;
        if (*p != '"')
            return false;
        p++;
        size_t n = (size_t)(p - start);
        if (++tags > ETAG_COND_MAX)
            return false;
        if (!weak && n < ETAG_BUF) {
            memcpy(out->tags[kept], start, n);
            out->tags[kept][n] = '\0';
            kept++;
        }
        p = skip_ows(p);
        if (*p != ',' && *p != '\0')
            return false;
    }
    out->n = kept;
    return tags > 0;
}

bool etag_cond_holds(const etag_cond *c, const char *etag)
{
    if (!c || !c->present || c->any)
        return true;
    for (int i = 0; i < c->n; i++)
        if (strcmp(c->tags[i], etag) == 0)
            return true;
    return false;
}
