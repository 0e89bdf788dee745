/*
 * router.h — matching a request path against a route pattern.
 *
 * A pattern is literal text with "{}" for a parameter: "/api/doctors/{}/schedule".
 * Pure: no civetweb, no request; the server (server.c) walks its route table
 * with it, and tests/fuzz/fuzz_router.c feeds it arbitrary paths.
 */
#ifndef CLINICBOX_ROUTER_H
#define CLINICBOX_ROUTER_H

#include <stdbool.h>

/* Room for one parameter, its NUL included: a longer one does not match. */
#define HTTP_ROUTE_PARAM_LEN 80

/* Matches path against pattern, writing each parameter into params (at most
 * max_params of them). A parameter is one non-empty segment of id
 * characters ([A-Za-z0-9_-]), so "..", "/" (encoded or not), "%" and NUL
 * never match one. params may be written even when the path does not match. */
bool http_route_match(const char *pattern, const char *path,
                      char (*params)[HTTP_ROUTE_PARAM_LEN], int max_params);

#endif
