/*
 * fuzz_router.c — libFuzzer target: http_route_match (src/http/router.c).
 *
 * Input: a path (up to the first NUL, as civetweb hands it over). It is
 * matched against every pattern of the real route table (server.c); with a
 * LF in the input, the text before it is used as the pattern instead, so
 * patterns with unusual "{}" placements are covered too.
 *
 * Checks: a match puts the parameters back together into exactly the path
 * (pattern with each "{}" replaced by its parameter), and every parameter is
 * a non-empty run of [A-Za-z0-9_-] that fits its buffer: nothing like "..",
 * "/" or "%" reaches a handler as an id. And no path matches two routes of
 * one method (the table's order would decide which one answers).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/http.h"
#include "http/router.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool id_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '_';
}

/* Whether pattern matches path, after checking the match. */
static bool check(const char *pattern, const char *path)
{
    char params[HTTP_MAX_PARAMS][HTTP_ROUTE_PARAM_LEN];
    memset(params, 0x55, sizeof params); /* no NUL: an unterminated one shows */
    if (!http_route_match(pattern, path, params, HTTP_MAX_PARAMS))
        return false;
    /* Rebuild the path from the pattern and the parameters. */
    size_t plen = strlen(path);
    char *rebuilt = malloc(plen + 1);
    size_t n = 0;
    int np = 0;
    for (const char *q = pattern; *q;) {
        if (q[0] == '{' && q[1] == '}') {
            if (np >= HTTP_MAX_PARAMS)
                abort();
            size_t len = strnlen(params[np], HTTP_ROUTE_PARAM_LEN);
            if (len == 0 || len >= HTTP_ROUTE_PARAM_LEN)
                abort();
            for (size_t i = 0; i < len; i++)
                if (!id_char(params[np][i]))
                    abort();
            if (n + len > plen)
                abort();
            memcpy(rebuilt + n, params[np], len);
            n += len;
            np++;
            q += 2;
        } else {
            if (n + 1 > plen)
                abort();
            rebuilt[n++] = *q++;
        }
    }
    rebuilt[n] = '\0';
    if (n != plen || strcmp(rebuilt, path) != 0)
        abort();
    free(rebuilt);
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    char *nl = strchr(text, '\n');
    if (nl) {
        *nl = '\0';
        check(text, nl + 1);
    } else {
        /* One route per method and path: the table's order must not decide. */
        int first[8] = {-1, -1, -1, -1, -1, -1, -1, -1};
        static const char *const methods[8] = {"GET", "POST", "PUT", "DELETE", "PATCH"};
        for (int i = 0; i < http_routes_count; i++) {
            if (!check(http_routes[i].pattern, text))
                continue;
            for (int m = 0; methods[m]; m++) {
                if (strcmp(methods[m], http_routes[i].method) != 0)
                    continue;
                if (first[m] >= 0) {
                    fprintf(stderr, "routes %s %s and %s both match %s\n", methods[m],
                            http_routes[first[m]].pattern, http_routes[i].pattern, text);
                    abort();
                }
                first[m] = i;
            }
        }
    }
    free(text);
    return 0;
}
