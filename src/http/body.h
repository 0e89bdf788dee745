/*
 * body.h — the checks of a request body that need no connection: its
 * framing headers, and the body once read (JSON content type, nesting
 * depth, well-formed JSON without duplicate keys, an object).
 *
 * server.c reads the body off the connection and answers with what these
 * return; tests/fuzz/fuzz_request.c calls them on arbitrary bytes.
 */
#ifndef CLINICBOX_BODY_H
#define CLINICBOX_BODY_H

#include <civetweb.h>
#include <jansson.h>
#include <stddef.h>

/* Refuses framing that two readers could take differently (RFC 9112 6.3):
 * Content-Length together with Transfer-Encoding, two Transfer-Encoding
 * headers, Content-Length headers with different values, or one that is not
 * a decimal number. 0, or 400 with the reason in *detail. */
int http_body_framing(const struct mg_header *headers, int nheaders, const char **detail);

/* Checks and parses a whole body of len bytes for a route's body mode
 * (struct route: 0 ignored, 1 optional JSON object, 2 required). 0 with
 * *out the object, or NULL when there is none (blank, or ignored); else the
 * status to answer (400, 415) with the detail in msg. content_type may be
 * NULL (not sent). */
int http_body_parse(const char *buf, size_t len, int mode, const char *content_type,
                    json_t **out, char *msg, size_t msglen);

#endif
