/*
 * etag.h — entity-tags and If-Match (RFC 9110, 8.8.3 and 13.1.1).
 *
 * A record's ETag is its revision (records.h, migration 0008) as a strong
 * tag: "12", or "12.7" for a schedule (the doctor's revision, then the
 * schedule's). If-Match is parsed into an etag_cond by the HTTP layer and
 * evaluated against the current record inside the write job that changes it,
 * so nothing can change the record between the check and the write.
 *
 * Every other JSON answer to a GET gets a strong tag made from its bytes
 * (etag_of_bytes); If-None-Match (RFC 9110, 13.1.2) is compared weakly
 * against either kind, so that an unchanged answer costs a 304.
 */
#ifndef CLINICBOX_ETAG_H
#define CLINICBOX_ETAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ETAG_BUF 48      /* a tag with its quotes and NUL */
#define ETAG_COND_MAX 16 /* entity-tags kept from one If-Match */
#define ETAG_HASH_BYTES 16 /* of a body's BLAKE2b hash in its tag (128 bits) */

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

/* "\"<base64url of the BLAKE2b-128 hash of data>\"" (24 characters and NUL):
 * a strong tag for an answer's bytes, the same for the same bytes. */
void etag_of_bytes(char *out, size_t len, const void *data, size_t n);

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

/* Whether an If-None-Match value (NULL: not sent) matches etag (a quoted
 * strong tag): "*", or a list of entity-tags holding it, compared weakly
 * (RFC 9110, 13.1.2 and 8.8.3.2: "W/" is ignored). A malformed value
 * matches nothing (the condition is ignored and the answer is a 200), even
 * when one of its elements would: the whole list is parsed first. */
bool etag_none_match(const char *value, const char *etag);

#endif
