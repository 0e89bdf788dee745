/*
 * etag.h — entity-tags and If-Match (RFC 9110, 8.8.3 and 13.1.1).
 *
 * A record's ETag is its revision (records.h, migration 0008) as a strong
 * tag: "12", or "12.7" for a schedule (the doctor's revision, then the
 * schedule's). If-Match is parsed into an etag_cond by the HTTP layer and
 * evaluated against the current record inside the write job that changes it,
 * so nothing can change the record between the check and the write.
 *
 * A record whose answer writes times in the clinic's time zone (a doctor, a
 * patient, an appointment) is sent with the zone's mark appended,
 * "12.zAbC12x" (etag_add_zone): a new zone is a new representation, so its
 * strong tag changes too (RFC 9110, 8.8.1). The conditions of a change
 * compare only the revision part: a listed tag with any zone mark, or with
 * none, stands for the record's tag (etag_cond_failed), since a new zone is
 * no change of the record.
 *
 * Every other JSON answer to a GET gets a strong tag made from its bytes
 * (etag_of_bytes); If-None-Match (RFC 9110, 13.1.2) is compared weakly
 * against either kind, so that an unchanged answer costs a 304. On a change
 * (PUT, DELETE) If-None-Match is a condition of the record, as If-Match is:
 * it fails when it is "*" or lists the record's tag.
 */
#ifndef CLINICBOX_ETAG_H
#define CLINICBOX_ETAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ETAG_BUF 64      /* a tag with its quotes and NUL */
#define ETAG_COND_MAX 16 /* entity-tags kept from one If-Match */
#define ETAG_HASH_BYTES 16 /* of a body's BLAKE2b hash in its tag (128 bits) */

typedef struct {
    bool present; /* If-Match was sent */
    bool any;     /* If-Match: * */
    int n;
    char tags[ETAG_COND_MAX][ETAG_BUF]; /* the strong ones, with their quotes */
    /* If-None-Match, on a change (not a GET): weak comparison, so W/ is
     * dropped and the tags are kept with their quotes */
    bool none_present, none_any;
    int none_n;
    char none_tags[ETAG_COND_MAX][ETAG_BUF];
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

/* Parses If-None-Match (NULL: not sent) into the none_ fields of out, which
 * etag_cond_parse filled before. False when malformed (as for If-Match). */
bool etag_cond_parse_none(const char *value, etag_cond *out);

/* Whether If-Match or If-None-Match was sent. */
bool etag_cond_sent(const etag_cond *c);

/* NULL when the conditions hold for a record whose current tag is `etag`
 * (formatted as above, without a zone mark), else the name of the field that
 * failed ("If-Match" or "If-None-Match"). A condition that was not sent
 * always holds; If-Match "*" holds and If-None-Match "*" fails for any
 * existing record (the caller answers 404 before asking when there is
 * none). A listed tag is the record's when it is, or is the record's with a
 * zone mark (any: the zone may have changed since it was read). */
const char *etag_cond_failed(const etag_cond *c, const char *etag);

/* etag_cond_failed(c, etag) == NULL */
bool etag_cond_holds(const etag_cond *c, const char *etag);

/* Appends the mark of the time zone named `zone` to the quoted tag in
 * `tag` ("\"12\"" becomes "\"12.zAbC12x\""): ".z" and the first 6
 * characters of the base64url of the name's BLAKE2b hash. */
void etag_add_zone(char *tag, size_t len, const char *zone);

/* Whether an If-None-Match value (NULL: not sent) matches etag (a quoted
 * strong tag): "*", or a list of entity-tags holding it, compared weakly
 * (RFC 9110, 13.1.2 and 8.8.3.2: "W/" is ignored). A malformed value
 * matches nothing (the condition is ignored and the answer is a 200), even
 * when one of its elements would: the whole list is parsed first. */
bool etag_none_match(const char *value, const char *etag);

#endif
