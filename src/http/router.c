/*
 * router.c — see router.h. The path is local_uri_raw as civetweb hands it
 * over, never cleaned, so a parameter is checked character by character
 * rather than trusted to be one segment: "..", a "/" (encoded or not), "%"
 * and NUL are no id characters and never reach another route.
 */
#include "http/router.h"

#include <ctype.h>
#include <string.h>

bool http_route_match(const char *pattern, const char *path,
                      char (*params)[HTTP_ROUTE_PARAM_LEN], int max_params)
{
    int np = 0;
    while (*pattern && *path) {
        if (pattern[0] == '{' && pattern[1] == '}') {
            size_t n = 0;
            while (isalnum((unsigned char)path[n]) || path[n] == '-' || path[n] == '_')
                n++;
            if (n == 0 || n >= HTTP_ROUTE_PARAM_LEN || np >= max_params)
                return false;
            memcpy(params[np], path, n);
            params[np++][n] = '\0';
            path += n;
            pattern += 2;
        } else if (*pattern++ != *path++) {
            return false;
        }
    }
    return !*pattern && !*path;
}
