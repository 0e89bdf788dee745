/*
 * etag.h — entity-tags and If-Match (RFC 9110, 8.8.3 and 13.1.1).
 *
 * A record's ETag is its revision (records.h, migration 0008) as a strong
 * tag: "12", or "12.7" for a schedule (the doctor's revision, then the
 * schedule's). If-Match is parsed into an etag_cond by the HTTP layer and
 * evaluated against the current record inside the write job that changes it,
 * so nothing can change the record between the check and the write.
 */
#ifndef CLINICBOX_ETAG_H
#define CLINICBOX_ETAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ETAG_BUF 48      /* a tag with its quotes and NUL */
#define ETAG_COND_MAX 16 /* entity-tags kept from one If-Match */

typedef struct {
    bool present; /* If-Match was sent */
    bool any;     /* If-Match: * */
    int n;
    char tags[ETAG_COND_MAX][ETAG_BUF]; /* the strong ones, with their quotes */
} etag_cond;

/* "\"<rev>\"" */
void etag_format(char *out, size_t len, int64_t rev);
/* "\"<a>.<b>\"" */
void etag_format2(char *out, size_t len, int64_t a, int64_t b);

/* Parses the value of an If-Match field (NULL: not sent). False when it is
 * neither "*" nor a comma-separated list of at least one entity-tag, or has
 * more than ETAG_COND_MAX of them. Weak tags are accepted but never match
 * (If-Match compares strongly), nor do tags too long to be one of ours. */
bool etag_cond_parse(const char *value, etag_cond *out);

/* Whether the condition holds for a record whose current tag is `etag`
 * (formatted as above). A condition that was not sent always holds; "*"
 * holds for any existing record (the caller answers 404 before asking when
 * there is none). */
bool etag_cond_holds(const etag_cond *c, const char *etag);

#endif
