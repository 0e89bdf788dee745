/* etag.c — see etag.h. */
#include "core/etag.h"

#include <inttypes.h>
#include <sodium.h>
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

void etag_of_bytes(char *out, size_t len, const void *data, size_t n)
{
    unsigned char hash[ETAG_HASH_BYTES];
    char b64[sodium_base64_ENCODED_LEN(ETAG_HASH_BYTES, sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
    crypto_generichash(hash, sizeof hash, data, n, NULL, 0);
    sodium_bin2base64(b64, sizeof b64, hash, sizeof hash,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    snprintf(out, len, "\"%s\"", b64);
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

/* The next entity-tag of a list (RFC 9110, 8.8.3; empty list
 * elements allowed): 1 with the tag (quotes included) in *tag and *n, 0 at the
 * end, -1 when malformed. *p moves past it. */
static int next_tag(const char **p, const char **tag, size_t *n, bool *weak)
{
    const char *s = *p;
    for (;;) {
        s = skip_ows(s);
        if (*s != ',')
            break;
        s++;
    }
    if (*s == '\0') {
        *p = s;
        return 0;
    }
    *weak = false;
    if (s[0] == 'W' && s[1] == '/') {
        *weak = true;
        s += 2;
    }
    if (*s != '"')
        return -1;
    const char *start = s++;
    while (etagc((unsigned char)*s))
        s++;
    if (*s != '"')
        return -1;
    s++;
    *tag = start;
    *n = (size_t)(s - start);
    s = skip_ows(s);
    if (*s != ',' && *s != '\0')
        return -1;
    *p = s;
    return 1;
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
    int tags = 0, kept = 0, got;
    const char *tag;
    size_t n;
    bool weak;
    while ((got = next_tag(&p, &tag, &n, &weak)) == 1) {
        if (++tags > ETAG_COND_MAX)
            return false;
        if (!weak && n < ETAG_BUF) {
            memcpy(out->tags[kept], tag, n);
            out->tags[kept][n] = '\0';
            kept++;
        }
    }
    out->n = kept;
    return got == 0 && tags > 0;
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

bool etag_none_match(const char *value, const char *etag)
{
    if (!value || !etag)
        return false;
    const char *p = skip_ows(value);
    if (*p == '*')
        return *skip_ows(p + 1) == '\0';
    /* The whole list is parsed before answering: a malformed element
     * anywhere makes the field malformed, and a malformed field is ignored
     * even when another of its elements would match. */
    size_t elen = strlen(etag), n;
    const char *tag;
    bool weak, matched = false;
    int got;
    while ((got = next_tag(&p, &tag, &n, &weak)) == 1)
        if (n == elen && memcmp(tag, etag, n) == 0)
            matched = true;
    return got == 0 && matched;
}
