/*
 * test_input.c — request validation helpers (http/input.c) and the settings
 * parser (core/config.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "core/config.h"
#include "http/input.h"
#include "unit.h"

static json_t *parse(const char *text)
{
    json_t *j = json_loads(text, 0, NULL);
    CHECK(j != NULL);
    return j;
}

static void test_depth(void)
{
    char deep[200];
    int n = 0;
    for (int i = 0; i < 40; i++)
        deep[n++] = '[';
    deep[n] = '\0';
    CHECK(!input_depth_ok(deep, (size_t)n, 32));
    CHECK(input_depth_ok(deep, 32, 32));
    /* brackets inside strings do not count, escaped quotes do not end them */
    const char *s = "{\"a\":\"[[[[[[[[[[\\\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\"}";
    CHECK(input_depth_ok(s, strlen(s), 2));
}

/* The status in_phone/in_email-style reader `in` records for {key: value}. */
static int check_field(bool (*in)(json_t *, const char *, char *, size_t, verr_t *),
                       const char *key, const char *value)
{
    char buf[300], out[255];
    verr_t v;
    snprintf(buf, sizeof buf, "{\"%s\":\"%s\"}", key, value);
    json_t *j = parse(buf);
    verr_init(&v);
    in(j, key, out, sizeof out, &v);
    int status = v.status;
    verr_free(&v);
    json_decref(j);
    return status;
}

static int check_phone(const char *value)
{
    return check_field(in_phone, "phone", value);
}

static int check_email(const char *value)
{
    return check_field(in_email, "email", value);
}

static void test_phone_and_email(void)
{
    CHECK_EQ_INT(check_phone("+4915112345678"), 0);
    CHECK_EQ_INT(check_phone("+12125550123"), 0);
    CHECK_EQ_INT(check_phone("015112345678"), 400);
    CHECK_EQ_INT(check_phone("+49 151 1234"), 400);
    CHECK_EQ_INT(check_phone("+0123456789"), 400);
    CHECK_EQ_INT(check_phone("+1234567890123456"), 400);
    CHECK_EQ_INT(check_phone("+123"), 400);
    CHECK_EQ_INT(check_email("anna@example.org"), 0);
    CHECK_EQ_INT(check_email("anna.m+tag@mail.example.de"), 0);
    CHECK_EQ_INT(check_email("anna"), 400);
    CHECK_EQ_INT(check_email("@example.org"), 400);
    CHECK_EQ_INT(check_email("a@b@c.de"), 400);
    CHECK_EQ_INT(check_email("anna@example"), 400);
    CHECK_EQ_INT(check_email("an na@example.org"), 400);
}

static void test_fields_and_errors(void)
{
    json_t *j = parse("{\"name\":\"Dr. A\",\"n\":\"5\",\"b\":1,\"extra\":true,\"t\":\"2026-02-30T10:00:00Z\"}");
    static const char *const allowed[] = {"name", "n", "b", "t", NULL};
    char name[8];
    long long n;
    bool b;
    int64_t t;
    verr_t v;
    verr_init(&v);
    CHECK(in_string(j, "name", true, 7, name, sizeof name, &v));
    CHECK_EQ_STR(name, "Dr. A");
    CHECK(!in_int(j, "n", true, 0, 10, &n, &v));       /* a string is not a number */
    CHECK(!in_bool(j, "b", true, &b, &v));             /* 1 is not a boolean */
    CHECK(!in_time(j, "t", true, &t, &v));             /* February 30th */
    CHECK(!in_string(j, "missing", true, 10, name, sizeof name, &v));
    in_only(j, allowed, &v);
    CHECK_EQ_INT(v.status, 400);
    CHECK_EQ_INT(json_array_size(v.errors), 5);
    verr_free(&v);
    json_decref(j);

    j = parse("{\"n\":11,\"name\":\"Dr. Frankenstein\",\"b\":\"yes\"}");
    verr_init(&v);
    CHECK(!in_int(j, "n", true, 0, 10, &n, &v));
    CHECK_EQ_INT(v.status, 422); /* readable but out of range */
    CHECK(!in_string(j, "name", true, 7, name, sizeof name, &v));
    CHECK_EQ_INT(v.status, 422); /* too long: readable but not allowed */
    CHECK(!in_bool(j, "b", true, &b, &v));
    CHECK_EQ_INT(v.status, 400); /* the more basic problem wins */
    verr_free(&v);
    json_decref(j);
}

static void test_text_rules(void)
{
    /* one line: no C0 (LF, CR, TAB, NUL), DEL, C1, U+2028/U+2029 */
    CHECK(input_text_ok("Dr. Ærø Zoë \xC2\xA0x", strlen("Dr. Ærø Zoë \xC2\xA0x"), false));
    const char *bad[] = {"a\nb", "a\rb", "a\tb", "a\x7f", "a\xC2\x80", "a\xC2\x85" "b",
                         "a\xC2\x9F", "a\xE2\x80\xA8", "a\xE2\x80\xA9", "a\x1b[31m"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK(!input_text_ok(bad[i], strlen(bad[i]), false));
    }
    CHECK(!input_text_ok("ab\0cd", 5, false)); /* a NUL inside */
    CHECK(!input_text_ok("ab\0cd", 5, true));
    /* several lines: LF, CR LF, TAB (and U+2028) allowed, nothing else */
    CHECK(input_text_ok("a\nb\r\n\tc\xE2\x80\xA8", strlen("a\nb\r\n\tc\xE2\x80\xA8"), true));
    CHECK(!input_text_ok("a\rb", 3, true));
    CHECK(!input_text_ok("a\r", 2, true));
    CHECK(!input_text_ok("a\x7f", 2, true));
    CHECK(!input_text_ok("a\xC2\x85", 3, true));
    CHECK(!input_text_ok("a\x07", 2, true));

    char out[64];
    verr_t v;
    json_t *j = parse("{\"name\":\"Praxis\\nBcc: x@example.org\",\"reason\":\"a\\nb\"}");
    verr_init(&v);
    CHECK(!in_string(j, "name", true, 60, out, sizeof out, &v));
    CHECK_EQ_INT(v.status, 400);
    CHECK(in_text(j, "reason", false, 60, out, sizeof out, &v));
    CHECK_EQ_STR(out, "a\nb");
    CHECK(!in_string(j, "reason", false, 60, out, sizeof out, &v));
    verr_free(&v);
    json_decref(j);
    CHECK_EQ_INT(check_email("anna\\u007f@example.org"), 400);
    CHECK_EQ_INT(check_email("anna\\u0085@example.org"), 400);
}

static void test_config(void)
{
    struct config c;
    char err[300], path[64];
    config_defaults(&c);
    CHECK_EQ_STR(c.data, "./clinicbox-data");
    CHECK_EQ_STR(c.listen, "127.0.0.1:8080");
    CHECK_EQ_INT(c.grace_minutes, 15);
    CHECK(config_set(&c, "grace_minutes", "20", err, sizeof err));
    CHECK_EQ_INT(c.grace_minutes, 20);
    CHECK(!config_set(&c, "grace_minutes", "2x", err, sizeof err));
    CHECK(strstr(err, "grace_minutes") != NULL);
    CHECK(!config_set(&c, "grace_minutes", "1441", err, sizeof err));
    CHECK(!config_set(&c, "no_such_key", "1", err, sizeof err));
    CHECK(strstr(err, "no_such_key") != NULL);

    snprintf(path, sizeof path, "/tmp/clinicbox-test-config-%d", (int)getpid());
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    fputs("# comment\nlisten = 0.0.0.0:9000  # trailing\n\nsmtp_password = \"s3cret\"\n", f);
    fclose(f);
    config_defaults(&c);
    CHECK(config_load(&c, path, err, sizeof err));
    CHECK_EQ_STR(c.listen, "0.0.0.0:9000");
    CHECK_EQ_STR(c.smtp_password, "s3cret");
    f = fopen(path, "a");
    fputs("typo_key = 1\n", f);
    fclose(f);
    CHECK(!config_load(&c, path, err, sizeof err));
    CHECK(strstr(err, ":5: unknown setting \"typo_key\"") != NULL);
    unlink(path);
}

int main(void)
{
    RUN(test_depth);
    RUN(test_phone_and_email);
    RUN(test_fields_and_errors);
    RUN(test_text_rules);
    RUN(test_config);
    return unit_summary();
}
