/*
 * webpath.h — which file of the web directory a request path names, and the
 * Content-Type it goes out with (docs/security.md, "Serving files").
 *
 * Pure string logic, no file system: static.c opens what this names. The
 * path is the request's raw one, still percent-encoded (civetweb's
 * decode_url is off), so that an encoded "/", a NUL or a malformed escape
 * is seen here rather than lost in decoding.
 */
#ifndef CLINICBOX_WEBPATH_H
#define CLINICBOX_WEBPATH_H

#include <stdbool.h>
#include <stddef.h>

/* A raw path longer than this is refused with 414. */
#define WEBPATH_MAX_URI 1024
/* Room for the file name webpath_resolve() writes (a page gains ".html"). */
#define WEBPATH_NAME_MAX (WEBPATH_MAX_URI + 8)

typedef enum {
    WEBPATH_OK,        /* out names a file to try */
    WEBPATH_BAD,       /* 400: a malformed escape, NUL or other control
                        * character, an encoded "/", a backslash, non-ASCII */
    WEBPATH_NOT_FOUND, /* 404: a well-formed path that names nothing servable */
    WEBPATH_TOO_LONG,  /* 414 */
} webpath_result;

/* Maps the raw path (starting with "/", without the query) to the name of
 * a file relative to the web directory: "/" is "index.html"; an
 * extension-less "/NAME" is "NAME.html" (a page: "/rebook"), and
 * "/rebook/ID" is "rebook.html" (the patient's link); anything else is
 * the file of that name, when every segment is [A-Za-z0-9._-], none starts
 * with "." (no "..", no dot files, no empty segment) and the extension is
 * one of the served types. Writes the name into out (WEBPATH_NAME_MAX
 * bytes), its Content-Type into *type, and for WEBPATH_BAD a reason into
 * *why (a static string). */
webpath_result webpath_resolve(const char *raw, char *out, size_t outlen, const char **type,
                               const char **why);

/* The Content-Type for a file name by its extension; NULL for a file that
 * is never served. */
const char *webpath_type(const char *name);

/* Whether an If-None-Match value (NULL: not sent) matches etag (a quoted
 * strong tag): "*", or a list holding it, weakly compared (RFC 9110
 * 13.1.2, "W/" ignored). */
bool webpath_etag_match(const char *if_none_match, const char *etag);

#endif
