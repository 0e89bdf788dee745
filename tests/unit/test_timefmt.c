/*
 * test_timefmt.c — unit tests for src/core/timefmt.c (RFC 3339 and the
 * strict date / HH:MM forms).
 *
 * Expected instants were computed independently on Debian 12 with
 * `date -u -d '<timestamp>' +%s`, and expected local renderings with
 * `TZ=Zone date -d @t +%FT%T%:z`.
 */
#include <stdbool.h>

#include "core/timefmt.h"
#include "core/tz.h"
#include "unit.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static void test_parse_valid(void)
{
    static const struct {
        const char *s;
        int64_t want;
    } cases[] = {
        {"2026-03-29T09:30:00+02:00", 1774769400},
        {"2026-03-29T07:30:00Z", 1774769400},
        {"2026-03-29t07:30:00z", 1774769400},
        {"2026-03-29T07:30:00.999999999Z", 1774769400}, /* truncated */
        {"2026-03-29T09:30:00.5+02:00", 1774769400},
        {"2026-03-29T07:30:00+00:00", 1774769400},
        {"2026-03-29T07:30:00-00:00", 1774769400},
        {"2016-12-31T23:59:60Z", 1483228799},           /* leap second -> :59 */
        {"2016-12-31T23:59:59Z", 1483228799},
        {"2026-11-24T23:59:59-05:00", 1795582799},
        {"1969-12-31T23:59:59Z", -1},
        {"1970-01-01T00:00:00Z", 0},
        {"0001-01-01T00:00:00Z", -62135596800},
        {"9999-12-31T23:59:59Z", 253402300799},
        {"2028-02-29T12:00:00+05:45", 1835417700},
        {"2026-06-01T00:00:00-00:30", 1780273800},
        {"1893-03-31T23:06:32Z", -2422054408},
        {"2026-03-29T00:00:00+23:59", 1774656060},
        {"2026-03-29T00:00:00-23:59", 1774828740},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        int64_t got = 42;
        bool ok = timefmt_parse_rfc3339(cases[i].s, &got);
        if (!ok)
            fprintf(stderr, "  rejected \"%s\"\n", cases[i].s);
        CHECK(ok);
        CHECK_EQ_INT(got, cases[i].want);
    }
}

static void test_parse_rejects(void)
{
    static const char *bad[] = {
        /* impossible dates */
        "2026-02-30T00:00:00Z", "2026-02-29T00:00:00Z", "1900-02-29T00:00:00Z",
        "2026-04-31T00:00:00Z", "2026-13-01T00:00:00Z", "2026-00-10T00:00:00Z",
        "2026-01-00T00:00:00Z", "2026-01-32T00:00:00Z", "0000-01-01T00:00:00Z",
        /* time fields out of range */
        "2026-03-29T24:00:00Z", "2026-03-29T25:00:00Z", "2026-03-29T23:60:00Z",
        "2026-03-29T23:59:61Z", "2026-03-29T99:00:00Z",
        /* offsets */
        "2026-03-29T09:30:00+24:00", "2026-03-29T09:30:00-24:00",
        "2026-03-29T09:30:00+23:60", "2026-03-29T09:30:00+0200",
        "2026-03-29T09:30:00+02", "2026-03-29T09:30:00+2:00",
        "2026-03-29T09:30:00+02:0", "2026-03-29T09:30:00", "2026-03-29T09:30:00 Z",
        "2026-03-29T09:30:00UTC", "2026-03-29T09:30:00+02:00:00",
        /* shape */
        "", "2026-03-29", "2026-03-29T09:30Z", "2026-03-29 09:30:00Z",
        "2026-03-29_09:30:00Z", "2026-3-29T09:30:00Z", "2026-03-9T09:30:00Z",
        "26-03-29T09:30:00Z", "+2026-03-29T09:30:00Z", "12026-03-29T09:30:00Z",
        "2026/03/29T09:30:00Z", "2026-03-29T9:30:00Z", "2026-03-29T09:3:00Z",
        "2026-03-29T09:30:0Z", " 2026-03-29T09:30:00Z", "2026-03-29T09:30:00.Z",
        "2026-03-29T09:30:00,5Z", "2026-03-29T09:30:00.5.5Z", "2026-03-29T-9:30:00Z",
        "2026-0a-29T09:30:00Z",
        /* trailing junk */
        "2026-03-29T09:30:00Zx", "2026-03-29T09:30:00Z ", "2026-03-29T09:30:00+02:00x",
        "2026-03-29T09:30:00+02:00\n", "2026-03-29T09:30:00ZZ",
    };
    for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
        int64_t out = 42;
        bool ok = timefmt_parse_rfc3339(bad[i], &out);
        if (ok)
            fprintf(stderr, "  accepted \"%s\"\n", bad[i]);
        CHECK(!ok);
        CHECK_EQ_INT(out, 42); /* untouched on failure */
    }
    int64_t out;
    CHECK(!timefmt_parse_rfc3339(NULL, &out));
    CHECK(!timefmt_parse_rfc3339("2026-03-29T07:30:00Z", NULL));
}

static void test_format(void)
{
    char buf[TIMEFMT_RFC3339_LEN];
    timefmt_format_rfc3339(1774769400, 7200, false, buf, sizeof buf);
    CHECK_EQ_STR(buf, "2026-03-29T09:30:00+02:00");
    timefmt_format_rfc3339(1774769400, 7200, true, buf, sizeof buf);
    CHECK_EQ_STR(buf, "2026-03-29T09:30:00+02:00");
    timefmt_format_rfc3339(1774769400, 0, true, buf, sizeof buf);
    CHECK_EQ_STR(buf, "2026-03-29T07:30:00Z");
    timefmt_format_rfc3339(1774769400, 0, false, buf, sizeof buf);
    CHECK_EQ_STR(buf, "2026-03-29T07:30:00+00:00");
    timefmt_format_rfc3339(1774769400, -14400, true, buf, sizeof buf);
    CHECK_EQ_STR(buf, "2026-03-29T03:30:00-04:00");
    timefmt_format_rfc3339(1774769400, 20700, false, buf, sizeof buf);
    CHECK_EQ_STR(buf, "2026-03-29T13:15:00+05:45");
    timefmt_format_rfc3339(-1, 0, true, buf, sizeof buf);
    CHECK_EQ_STR(buf, "1969-12-31T23:59:59Z");
    timefmt_format_rfc3339(-1, 3600, false, buf, sizeof buf);
    CHECK_EQ_STR(buf, "1970-01-01T00:59:59+01:00");
    timefmt_format_rfc3339(0, -18000, false, buf, sizeof buf);
    CHECK_EQ_STR(buf, "1969-12-31T19:00:00-05:00");
    timefmt_format_rfc3339(1795521599, 3600, false, buf, sizeof buf);
    CHECK_EQ_STR(buf, "2026-11-24T12:59:59+01:00");
    timefmt_format_rfc3339(-62135596800, 0, true, buf, sizeof buf);
    CHECK_EQ_STR(buf, "0001-01-01T00:00:00Z");
    timefmt_format_rfc3339(253402300799, 0, true, buf, sizeof buf);
    CHECK_EQ_STR(buf, "9999-12-31T23:59:59Z");
    /* Out of range: clamped. */
    timefmt_format_rfc3339(INT64_MAX, 0, true, buf, sizeof buf);
    CHECK_EQ_STR(buf, "9999-12-31T23:59:59Z");
    timefmt_format_rfc3339(INT64_MIN, -3600, false, buf, sizeof buf);
    CHECK_EQ_STR(buf, "0001-01-01T00:00:00-01:00");
    timefmt_format_rfc3339(0, 100 * 3600, false, buf, sizeof buf);
    CHECK_EQ_STR(buf, "1970-01-01T23:59:00+23:59");
    /* Offsets with seconds (Berlin LMT +0:53:28) are truncated to minutes and
     * the local time follows, so the text still denotes the same instant. */
    timefmt_format_rfc3339(-2422054409, 3208, false, buf, sizeof buf);
    CHECK_EQ_STR(buf, "1893-03-31T23:59:31+00:53");
    int64_t back = 0;
    CHECK(timefmt_parse_rfc3339(buf, &back));
    CHECK_EQ_INT(back, -2422054409);
    timefmt_format_rfc3339(0, -3208, false, buf, sizeof buf);
    CHECK_EQ_STR(buf, "1969-12-31T23:07:00-00:53");
    timefmt_format_rfc3339(0, 59, true, buf, sizeof buf); /* rounds to 0 -> Z */
    CHECK_EQ_STR(buf, "1970-01-01T00:00:00Z");

    /* Truncation into a short buffer stays NUL-terminated. */
    char small[11];
    timefmt_format_rfc3339(1774769400, 7200, false, small, sizeof small);
    CHECK_EQ_STR(small, "2026-03-29");
    char tiny[21];
    timefmt_format_rfc3339(1774769400, 7200, false, tiny, sizeof tiny);
    CHECK_EQ_STR(tiny, "2026-03-29T09:30:00+");
    char one[1] = {'x'};
    timefmt_format_rfc3339(0, 0, true, one, sizeof one);
    CHECK_EQ_INT(one[0], '\0');
    timefmt_format_rfc3339(0, 0, true, NULL, 0); /* no crash */
}

/* Formatting with a real zone's offset, as the API does. */
static void test_format_with_zone(void)
{
    const tz_t *berlin = tz_get("Europe/Berlin");
    const tz_t *ny = tz_get("America/New_York");
    const tz_t *ktm = tz_get("Asia/Kathmandu");
    CHECK(berlin && ny && ktm);
    if (!berlin || !ny || !ktm)
        return;
    static const struct {
        int64_t t;
        const char *berlin, *ny, *ktm;
    } cases[] = {
        {1774769400, "2026-03-29T09:30:00+02:00", "2026-03-29T03:30:00-04:00",
         "2026-03-29T13:15:00+05:45"},
        {1780272000, "2026-06-01T02:00:00+02:00", "2026-05-31T20:00:00-04:00",
         "2026-06-01T05:45:00+05:45"},
        {1795521599, "2026-11-24T12:59:59+01:00", "2026-11-24T06:59:59-05:00",
         "2026-11-24T17:44:59+05:45"},
        {0, "1970-01-01T01:00:00+01:00", "1969-12-31T19:00:00-05:00",
         "1970-01-01T05:30:00+05:30"},
    };
    char buf[TIMEFMT_RFC3339_LEN];
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        int64_t t = cases[i].t;
        timefmt_format_rfc3339(t, tz_offset_at(berlin, t), true, buf, sizeof buf);
        CHECK_EQ_STR(buf, cases[i].berlin);
        timefmt_format_rfc3339(t, tz_offset_at(ny, t), true, buf, sizeof buf);
        CHECK_EQ_STR(buf, cases[i].ny);
        timefmt_format_rfc3339(t, tz_offset_at(ktm, t), true, buf, sizeof buf);
        CHECK_EQ_STR(buf, cases[i].ktm);
    }
    tz_cache_clear();
}

static void test_round_trip(void)
{
    static const int offsets[] = {0, 3600, 7200, -14400, -18000, 20700, 37800,
                                  -34200, 50400, -43200, 86340, -86340, 3208};
    char buf[TIMEFMT_RFC3339_LEN];
    int failures = 0;
    /* From 0001-01-02 to 9999-12-30 in steps that hit every second of day. */
    for (int64_t t = -62135596800 + 86400; t < 253402300799 - 86400; t += 7777777 + 17) {
        for (size_t i = 0; i < ARRAY_LEN(offsets); i++) {
            int64_t back = 0;
            timefmt_format_rfc3339(t, offsets[i], i % 2 == 0, buf, sizeof buf);
            if (!timefmt_parse_rfc3339(buf, &back) || back != t) {
                if (failures++ < 3)
                    fprintf(stderr, "  round trip %lld %d -> %s\n", (long long)t,
                            offsets[i], buf);
            }
        }
    }
    CHECK_EQ_INT(failures, 0);
}

static void test_date(void)
{
    int y = 0, m = 0, d = 0;
    CHECK(timefmt_parse_date("2026-11-24", &y, &m, &d));
    CHECK(y == 2026 && m == 11 && d == 24);
    CHECK(timefmt_parse_date("2028-02-29", &y, &m, &d));
    CHECK(y == 2028 && m == 2 && d == 29);
    CHECK(timefmt_parse_date("0001-01-01", &y, &m, &d));
    CHECK(y == 1 && m == 1 && d == 1);
    CHECK(timefmt_parse_date("9999-12-31", &y, &m, &d));
    CHECK(y == 9999 && m == 12 && d == 31);

    static const char *bad[] = {
        "2026-02-30", "2026-02-29", "2100-02-29", "2026-13-01", "2026-00-01",
        "2026-01-00", "2026-04-31", "0000-01-01", "2026-1-24", "2026-11-4",
        "26-11-24", "2026/11/24", "2026-11-24 ", " 2026-11-24", "2026-11-24T00:00",
        "", "2026-11", "20261124", "+026-11-24", "2026--1-24", "2026-11-2x",
        "2026-11-24\n",
    };
    for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
        y = m = d = -7;
        bool ok = timefmt_parse_date(bad[i], &y, &m, &d);
        if (ok)
            fprintf(stderr, "  accepted date \"%s\"\n", bad[i]);
        CHECK(!ok);
        CHECK(y == -7 && m == -7 && d == -7);
    }
    CHECK(!timefmt_parse_date(NULL, &y, &m, &d));

    char buf[16];
    timefmt_format_date(2026, 11, 24, buf, sizeof buf);
    CHECK_EQ_STR(buf, "2026-11-24");
    timefmt_format_date(1, 2, 3, buf, sizeof buf);
    CHECK_EQ_STR(buf, "0001-02-03");
    char small[5];
    timefmt_format_date(2026, 11, 24, small, sizeof small);
    CHECK_EQ_STR(small, "2026");
    /* Round trip through every day of 2024..2028. */
    int failures = 0;
    for (int64_t days = tz_days_from_civil(2024, 1, 1);
         days <= tz_days_from_civil(2028, 12, 31); days++) {
        int yy, mm, dd, y2, m2, d2;
        tz_civil_from_days(days, &yy, &mm, &dd);
        timefmt_format_date(yy, mm, dd, buf, sizeof buf);
        if (!timefmt_parse_date(buf, &y2, &m2, &d2) || y2 != yy || m2 != mm || d2 != dd)
            failures++;
    }
    CHECK_EQ_INT(failures, 0);
}

static void test_hhmm(void)
{
    int min = -1;
    CHECK(timefmt_parse_hhmm("00:00", &min));
    CHECK_EQ_INT(min, 0);
    CHECK(timefmt_parse_hhmm("09:05", &min));
    CHECK_EQ_INT(min, 545);
    CHECK(timefmt_parse_hhmm("23:59", &min));
    CHECK_EQ_INT(min, 1439);
    CHECK(timefmt_parse_hhmm("24:00", &min));
    CHECK_EQ_INT(min, 1440);

    static const char *bad[] = {
        "24:01", "24:30", "25:00", "23:60", "99:99", "9:05", "09:5", "0905", "09-05",
        "09:05:00", "09:05 ", " 09:05", "", "24:00:00", "-1:00", "+9:05", "ab:cd",
        "09:0x", "24", "24:0", "09:05\n",
    };
    for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
        min = -7;
        bool ok = timefmt_parse_hhmm(bad[i], &min);
        if (ok)
            fprintf(stderr, "  accepted hhmm \"%s\"\n", bad[i]);
        CHECK(!ok);
        CHECK_EQ_INT(min, -7);
    }
    CHECK(!timefmt_parse_hhmm(NULL, &min));

    char buf[8];
    timefmt_format_hhmm(0, buf, sizeof buf);
    CHECK_EQ_STR(buf, "00:00");
    timefmt_format_hhmm(545, buf, sizeof buf);
    CHECK_EQ_STR(buf, "09:05");
    timefmt_format_hhmm(1439, buf, sizeof buf);
    CHECK_EQ_STR(buf, "23:59");
    timefmt_format_hhmm(1440, buf, sizeof buf);
    CHECK_EQ_STR(buf, "24:00");
    timefmt_format_hhmm(5000, buf, sizeof buf); /* clamped */
    CHECK_EQ_STR(buf, "24:00");
    timefmt_format_hhmm(-5, buf, sizeof buf);
    CHECK_EQ_STR(buf, "00:00");
    int failures = 0;
    for (int m = 0; m <= 1440; m++) {
        int back = -1;
        timefmt_format_hhmm(m, buf, sizeof buf);
        if (!timefmt_parse_hhmm(buf, &back) || back != m)
            failures++;
    }
    CHECK_EQ_INT(failures, 0);
}

/* RFC 9110's own example, and days around the epoch, a leap day and the ends. */
static void test_http_date(void)
{
    char buf[TIMEFMT_HTTP_DATE_LEN];
    timefmt_format_http_date(784111777, buf, sizeof buf);
    CHECK_EQ_STR(buf, "Sun, 06 Nov 1994 08:49:37 GMT");
    timefmt_format_http_date(0, buf, sizeof buf);
    CHECK_EQ_STR(buf, "Thu, 01 Jan 1970 00:00:00 GMT");
    timefmt_format_http_date(-1, buf, sizeof buf);
    CHECK_EQ_STR(buf, "Wed, 31 Dec 1969 23:59:59 GMT");
    timefmt_format_http_date(1709164800, buf, sizeof buf);
    CHECK_EQ_STR(buf, "Thu, 29 Feb 2024 00:00:00 GMT");
    timefmt_format_http_date(1796601600, buf, sizeof buf);
    CHECK_EQ_STR(buf, "Mon, 07 Dec 2026 00:00:00 GMT");
    timefmt_format_http_date(INT64_MAX, buf, sizeof buf);
    CHECK_EQ_STR(buf, "Fri, 31 Dec 9999 23:59:59 GMT");
    timefmt_format_http_date(INT64_MIN, buf, sizeof buf);
    CHECK_EQ_STR(buf, "Mon, 01 Jan 0001 00:00:00 GMT");
}

int main(void)
{
    RUN(test_parse_valid);
    RUN(test_parse_rejects);
    RUN(test_format);
    RUN(test_format_with_zone);
    RUN(test_round_trip);
    RUN(test_date);
    RUN(test_hhmm);
    RUN(test_http_date);
    tz_cache_clear();
    return unit_summary();
}
