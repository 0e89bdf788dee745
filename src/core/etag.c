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

/* Parses "*" (into *any) or a list of entity-tags into tags[0..*n): the
 * strong ones, or every one with its W/ dropped when keep_weak. False when
 * malformed or longer than ETAG_COND_MAX tags. */
static bool parse_tag_list(const char *value, bool keep_weak, bool *any, int *n,
                           char (*tags)[ETAG_BUF])
{
    const char *p = skip_ows(value);
    if (*p == '*') {
        *any = true;
        return *skip_ows(p + 1) == '\0';
    }
    int count = 0, kept = 0, got;
    const char *tag;
    size_t len;
    bool weak;
    while ((got = next_tag(&p, &tag, &len, &weak)) == 1) {
        if (++count > ETAG_COND_MAX)
            return false;
        if ((keep_weak || !weak) && len < ETAG_BUF) {
            memcpy(tags[kept], tag, len);
            tags[kept][len] = '\0';
            kept++;
        }
    }
    *n = kept;
    return got == 0 && count > 0;
}

bool etag_cond_parse(const char *value, etag_cond *out)
{
    memset(out, 0, sizeof *out);
    if (!value)
        return true;
    out->present = true;
    return parse_tag_list(value, false, &out->any, &out->n, out->tags);
}

bool etag_cond_parse_none(const char *value, etag_cond *out)
{
    out->none_present = out->none_any = false;
    out->none_n = 0;
    if (!value)
        return true;
    out->none_present = true;
    /* weak comparison (RFC 9110, 13.1.2): W/ is dropped */
    return parse_tag_list(value, true, &out->none_any, &out->none_n, out->none_tags);
}

bool etag_cond_sent(const etag_cond *c)
{
    return c && (c->present || c->none_present);
}

static bool zone_char(unsigned char ch)
{
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
           ch == '-' || ch == '_';
}

/* Whether a listed tag is the record's `etag`, with or without a zone mark. */
static bool same_revision(const char *listed, const char *etag)
{
    size_t n = strlen(etag);
    if (strcmp(listed, etag) == 0)
        return true;
    if (n < 2 || strncmp(listed, etag, n - 1) != 0) /* all but the closing quote */
        return false;
    const char *s = listed + n - 1;
    if (s[0] != '.' || s[1] != 'z' || !zone_char((unsigned char)s[2]))
        return false;
    for (s += 2; zone_char((unsigned char)*s); s++)
        ;
    return s[0] == '"' && s[1] == '\0';
}

const char *etag_cond_failed(const etag_cond *c, const char *etag)
{
    if (!c)
        return NULL;
    if (c->present && !c->any) {
        bool found = false;
        for (int i = 0; i < c->n && !found; i++)
            found = same_revision(c->tags[i], etag);
        if (!found)
            return "If-Match";
    }
    if (c->none_present) {
        if (c->none_any)
            return "If-None-Match";
        for (int i = 0; i < c->none_n; i++)
            if (same_revision(c->none_tags[i], etag))
                return "If-None-Match";
    }
    return NULL;
}

bool etag_cond_holds(const etag_cond *c, const char *etag)
{
    return etag_cond_failed(c, etag) == NULL;
}

void etag_add_zone(char *tag, size_t len, const char *zone)
{
    unsigned char hash[crypto_generichash_BYTES_MIN];
    char b64[sodium_base64_ENCODED_LEN(crypto_generichash_BYTES_MIN,
                                       sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
    size_t n = strlen(tag);
    if (n < 2 || tag[n - 1] != '"')
        return;
    crypto_generichash(hash, sizeof hash, (const unsigned char *)zone, strlen(zone), NULL, 0);
    sodium_bin2base64(b64, sizeof b64, hash, sizeof hash,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    tag[n - 1] = '\0';
    char base[ETAG_BUF];
    snprintf(base, sizeof base, "%s", tag);
    snprintf(tag, len, "%s.z%.6s\"", base, b64);
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
