/*
 * body.c — see body.h. The depth is checked on the text before jansson
 * parses it (jansson recurses once per level), and duplicate keys are
 * refused (JSON_REJECT_DUPLICATES), since two readers of such an object may
 * take different values.
 */
#include "http/body.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "http/http.h"
#include "http/input.h"

int http_body_framing(const struct mg_header *headers, int nheaders, const char **detail)
{
    const char *cl = NULL;
    int nte = 0;
    for (int i = 0; i < nheaders; i++) {
        const char *name = headers[i].name, *value = headers[i].value;
        if (!name)
            continue;
        if (strcasecmp(name, "Transfer-Encoding") == 0) {
            nte++;
        } else if (strcasecmp(name, "Content-Length") == 0) {
            if (cl && strcmp(cl, value ? value : "") != 0) {
                *detail = "the request has Content-Length headers that differ";
                return 400;
            }
            cl = value ? value : "";
            if (!*cl || strspn(cl, "0123456789") != strlen(cl)) {
                *detail = "Content-Length must be a decimal number";
                return 400;
            }
        }
    }
    if (nte > 1) {
        *detail = "the request has more than one Transfer-Encoding header";
        return 400;
    }
    if (nte && cl) {
        *detail = "the request has both Content-Length and Transfer-Encoding";
        return 400;
    }
    return 0;
}

static bool json_content_type(const char *ct)
{
    if (!ct)
        return false;
    while (*ct == ' ')
        ct++;
    size_t n = strcspn(ct, "; ");
    return (n == 16 && strncasecmp(ct, "application/json", 16) == 0);
}

int http_body_parse(const char *buf, size_t len, int mode, const char *content_type,
                    json_t **out, char *msg, size_t msglen)
{
    json_error_t jerr;
    *out = NULL;
    size_t start = 0;
    while (start < len && isspace((unsigned char)buf[start]))
        start++;
    if (start == len) {
        if (mode == 2) {
            snprintf(msg, msglen, "a JSON object body is required");
            return 400;
        }
        return 0;
    }
    if (mode == 0)
        return 0;
    if (!json_content_type(content_type)) {
        snprintf(msg, msglen, "the body must be JSON with Content-Type: application/json");
        return 415;
    }
    if (!input_depth_ok(buf, len, HTTP_MAX_DEPTH)) {
        snprintf(msg, msglen, "the JSON is nested deeper than %d levels", HTTP_MAX_DEPTH);
        return 400;
    }
    json_t *body = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!body) {
        snprintf(msg, msglen, "malformed JSON at line %d, column %d: %s", jerr.line,
                 jerr.column, jerr.text);
        return 400;
    }
    if (!json_is_object(body)) {
        json_decref(body);
        snprintf(msg, msglen, "the body must be a JSON object");
        return 400;
    }
    *out = body;
    return 0;
}
