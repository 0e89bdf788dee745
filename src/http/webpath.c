/*
 * webpath.c — request path to web file name and Content-Type (webpath.h).
 *
 * The rules are a whitelist: a path either decodes to segments of
 * [A-Za-z0-9._-] ending in a known extension, or names nothing. Anything a
 * client could use to step out of the directory ("..", an encoded "/", a
 * backslash, a NUL that cuts the name short) never gets as far as a file
 * name; symlinks are static.c's business (it never follows one).
 */
#include "http/webpath.h"

#include <string.h>

#include "core/etag.h"

static const struct {
    const char *ext;
    const char *type;
} types[] = {
    {"html", "text/html; charset=utf-8"},
    {"css", "text/css; charset=utf-8"},
    {"js", "text/javascript; charset=utf-8"},
    {"mjs", "text/javascript; charset=utf-8"},
    {"json", "application/json"},
    {"svg", "image/svg+xml"},
    {"png", "image/png"},
    {"ico", "image/x-icon"},
    {"woff2", "font/woff2"},
    {"txt", "text/plain; charset=utf-8"},
    {"webmanifest", "application/manifest+json"},
};

const char *webpath_type(const char *name)
{
    const char *slash = strrchr(name, '/');
    const char *base = slash ? slash + 1 : name;
    const char *dot = strrchr(base, '.');
    if (!dot || dot == base)
        return NULL;
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (strcmp(dot + 1, types[i].ext) == 0)
            return types[i].type;
    return NULL;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static bool name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '.' || c == '_' || c == '-';
}

/* Decodes raw into out (at least strlen(raw) + 1 bytes). An encoded "/"
 * is written as '\1', which no segment may hold, after it was refused. */
static webpath_result decode(const char *raw, char *out, const char **why)
{
    size_t j = 0;
    for (size_t i = 0; raw[i]; i++) {
        unsigned char c = (unsigned char)raw[i];
        if (c == '%') {
            int hi = hexval(raw[i + 1]), lo = hi < 0 ? -1 : hexval(raw[i + 2]);
            if (hi < 0 || lo < 0) {
                *why = "the path has a malformed percent-escape (% must be followed by two "
                       "hex digits)";
                return WEBPATH_BAD;
            }
            c = (unsigned char)(hi * 16 + lo);
            i += 2;
            if (c == '/') {
                *why = "the path has an encoded slash (%2F)";
                return WEBPATH_BAD;
            }
        }
        if (c < 0x20 || c == 0x7F) {
            *why = "the path has a NUL or another control character";
            return WEBPATH_BAD;
        }
        if (c >= 0x80) {
            *why = "the path must be ASCII";
            return WEBPATH_BAD;
        }
        if (c == '\\') {
            *why = "the path has a backslash";
            return WEBPATH_BAD;
        }
        out[j++] = (char)c;
    }
    out[j] = '\0';
    return WEBPATH_OK;
}

/* Whether seg (n bytes) is a servable name: [A-Za-z0-9._-]+, not starting
 * with '.' (dot files, "." and ".."). */
static bool segment_ok(const char *seg, size_t n)
{
    if (n == 0 || n > 255 || seg[0] == '.')
        return false;
    for (size_t i = 0; i < n; i++)
        if (!name_char(seg[i]))
            return false;
    return true;
}

/* An id segment as in the API's routes: [A-Za-z0-9_-]+. */
static bool id_ok(const char *seg)
{
    size_t n = strlen(seg);
    if (n == 0 || n > 80)
        return false;
    for (size_t i = 0; i < n; i++)
        if (seg[i] == '.' || !name_char(seg[i]))
            return false;
    return true;
}

webpath_result webpath_resolve(const char *raw, char *out, size_t outlen, const char **type,
                               const char **why)
{
    char path[WEBPATH_MAX_URI + 1];
    static const char *none = "";
    *why = none;
    *type = NULL;
    if (outlen < WEBPATH_NAME_MAX)
        return WEBPATH_NOT_FOUND; /* the caller's mistake; serve nothing */
    out[0] = '\0';
    if (!raw || raw[0] != '/') {
        *why = "the path must start with /";
        return WEBPATH_BAD;
    }
    if (strlen(raw) > WEBPATH_MAX_URI)
        return WEBPATH_TOO_LONG;
    webpath_result d = decode(raw, path, why);
    if (d != WEBPATH_OK)
        return d;

    const char *rel = path + 1;
    if (!*rel) {
        strcpy(out, "index.html");
    } else {
        /* Every segment must be a name; "//" and a trailing "/" are empty
         * segments, so a directory is never named. */
        int nseg = 0;
        const char *first_end = NULL;
        for (const char *s = rel;;) {
            size_t n = strcspn(s, "/");
            if (!segment_ok(s, n))
                return WEBPATH_NOT_FOUND;
            if (nseg++ == 0)
                first_end = s + n;
            if (!s[n])
                break;
            s += n + 1;
        }
        const char *last = strrchr(rel, '/');
        last = last ? last + 1 : rel;
        if (strchr(last, '.')) {
            strcpy(out, rel); /* a file */
        } else if (nseg == 1) {
            strcpy(out, rel); /* a page: /rebook */
            strcat(out, ".html");
        } else if (nseg == 2 && first_end - rel == 6 && strncmp(rel, "rebook", 6) == 0 &&
                   id_ok(last)) {
            strcpy(out, "rebook.html"); /* the patient's link: /rebook/ID */
        } else {
            return WEBPATH_NOT_FOUND;
        }
    }
    *type = webpath_type(out);
    if (!*type) {
        out[0] = '\0';
        return WEBPATH_NOT_FOUND;
    }
    return WEBPATH_OK;
}

bool webpath_etag_match(const char *inm, const char *etag)
{
    return etag_none_match(inm, etag);
}
