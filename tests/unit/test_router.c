/*
 * test_router.c — matching request paths against route patterns
 * (http/router.c): parameters are one non-empty segment of id characters
 * that fits its buffer, and nothing else matches one.
 */
#include <string.h>

#include "http/router.h"
#include "unit.h"

static char params[3][HTTP_ROUTE_PARAM_LEN];

static bool m(const char *pattern, const char *path)
{
    memset(params, 0, sizeof params);
    return http_route_match(pattern, path, params, 3);
}

static void test_literal_and_parameters(void)
{
    CHECK(m("/api/health", "/api/health"));
    CHECK(!m("/api/health", "/api/health/"));
    CHECK(!m("/api/health", "/api/healt"));
    CHECK(m("/api/doctors/{}/schedule", "/api/doctors/0192f3a4-5b6c-7d8e-9f01-23456789abcd/schedule"));
    CHECK_EQ_STR(params[0], "0192f3a4-5b6c-7d8e-9f01-23456789abcd");
    CHECK(m("/a/{}/b/{}/{}", "/a/x_1/b/Y-2/z"));
    CHECK_EQ_STR(params[0], "x_1");
    CHECK_EQ_STR(params[1], "Y-2");
    CHECK_EQ_STR(params[2], "z");
}

static void test_what_is_not_a_parameter(void)
{
    CHECK(!m("/api/doctors/{}", "/api/doctors/"));             /* empty */
    CHECK(!m("/api/doctors/{}", "/api/doctors/a/b"));          /* two segments */
    CHECK(!m("/api/doctors/{}", "/api/doctors/.."));           /* dot-dot */
    CHECK(!m("/api/doctors/{}", "/api/doctors/a%2Fb"));        /* still encoded */
    CHECK(!m("/api/doctors/{}/schedule", "/api/doctors/../schedule"));
    CHECK(!m("/api/doctors/{}", "/api/doctors/\xc3\xa4"));     /* not ASCII */
}

static void test_length_and_count_limits(void)
{
    char path[200], id[HTTP_ROUTE_PARAM_LEN + 1];
    memset(id, 'a', sizeof id);
    id[HTTP_ROUTE_PARAM_LEN - 1] = '\0'; /* 79 characters: fits with its NUL */
    snprintf(path, sizeof path, "/p/%s", id);
    CHECK(m("/p/{}", path));
    CHECK_EQ_INT(strlen(params[0]), HTTP_ROUTE_PARAM_LEN - 1);
    id[HTTP_ROUTE_PARAM_LEN - 1] = 'a';
    id[HTTP_ROUTE_PARAM_LEN] = '\0'; /* 80: does not */
    snprintf(path, sizeof path, "/p/%s", id);
    CHECK(!m("/p/{}", path));
    /* more parameters than there is room for */
    CHECK(!http_route_match("/{}/{}", "/a/b", params, 1));
    CHECK(http_route_match("/{}/{}", "/a/b", params, 2));
}

int main(void)
{
    RUN(test_literal_and_parameters);
    RUN(test_what_is_not_a_parameter);
    RUN(test_length_and_count_limits);
    return unit_summary();
}
