/*
 * test_tz.c — unit tests for src/core/tz.c (TZif / RFC 8536 time zones).
 *
 * Expected instants and offsets were computed independently on a Debian 12
 * machine with `date -u -d '...' +%s`, `TZ=Zone date -d @t +%z` and
 * `zdump -v` (glibc's own TZif and POSIX TZ implementation), except where a
 * comment says otherwise. Synthetic TZif files are built in memory to cover
 * TZif v1, POSIX footer forms and malformed input.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "core/tz.h"
#include "unit.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

struct at {
    int64_t t;
    int off;
};

static void check_offsets(const tz_t *tz, const struct at *v, size_t n, const char *what)
{
    for (size_t i = 0; i < n; i++) {
        int got = tz_offset_at(tz, v[i].t);
        if (got != v[i].off)
            fprintf(stderr, "  %s: t=%lld\n", what, (long long)v[i].t);
        CHECK_EQ_INT(got, v[i].off);
    }
}

/* ------------------------------------------------------------------------
 * Reading real files and building synthetic ones
 */

static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf = NULL;
    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0) {
        long n = ftell(f);
        if (n > 0 && fseek(f, 0, SEEK_SET) == 0) {
            buf = malloc((size_t)n);
            if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
                free(buf);
                buf = NULL;
            }
            *len = (size_t)n;
        }
    }
    fclose(f);
    return buf;
}

struct out {
    uint8_t b[1024];
    size_t n;
};

static void put8(struct out *o, unsigned v) { o->b[o->n++] = (uint8_t)v; }

static void put32(struct out *o, uint32_t v)
{
    for (int s = 24; s >= 0; s -= 8)
        put8(o, (v >> s) & 0xff);
}

static void put64(struct out *o, uint64_t v)
{
    put32(o, (uint32_t)(v >> 32));
    put32(o, (uint32_t)v);
}

struct zone_spec {
    char version;          /* 0, '2', '3' */
    size_t ntrans;
    const int64_t *trans;
    const uint8_t *idx;
    size_t ntypes;
    const int32_t *offs;
    const char *footer;    /* v2+: the TZ string; NULL = no footer at all */
};

static void put_block(struct out *o, const struct zone_spec *z, int time_size)
{
    /* header */
    put8(o, 'T'); put8(o, 'Z'); put8(o, 'i'); put8(o, 'f');
    put8(o, (unsigned)z->version);
    for (int i = 0; i < 15; i++)
        put8(o, 0);
    put32(o, 0);                       /* isutcnt */
    put32(o, 0);                       /* isstdcnt */
    put32(o, 0);                       /* leapcnt */
    put32(o, (uint32_t)z->ntrans);     /* timecnt */
    put32(o, (uint32_t)z->ntypes);     /* typecnt */
    put32(o, 4);                       /* charcnt */
    /* data */
    for (size_t i = 0; i < z->ntrans; i++) {
        if (time_size == 4)
            put32(o, (uint32_t)(int32_t)z->trans[i]);
        else
            put64(o, (uint64_t)z->trans[i]);
    }
    for (size_t i = 0; i < z->ntrans; i++)
        put8(o, z->idx[i]);
    for (size_t i = 0; i < z->ntypes; i++) {
        put32(o, (uint32_t)z->offs[i]);
        put8(o, 0); /* isdst */
        put8(o, 0); /* desigidx */
    }
    put8(o, 'A'); put8(o, 'B'); put8(o, 'C'); put8(o, 0);
}

static tz_t *build(const struct zone_spec *z)
{
    struct out o = {.n = 0};
    put_block(&o, z, 4);
    if (z->version != 0) {
        put_block(&o, z, 8);
        if (z->footer) {
            put8(&o, '\n');
            for (const char *p = z->footer; *p; p++)
                put8(&o, (unsigned char)*p);
            put8(&o, '\n');
        }
    }
    return tz_from_tzif("Test/Zone", o.b, o.n);
}

/* A v2 file with no transitions and one type: the footer covers all time. */
static tz_t *footer_zone(const char *footer, int32_t type0)
{
    struct zone_spec z = {'2', 0, NULL, NULL, 1, &type0, footer};
    return build(&z);
}

/* ------------------------------------------------------------------------
 * Real zones
 */

static void test_berlin_2026(void)
{
    tz_t *tz = tz_load("Europe/Berlin");
    CHECK(tz != NULL);
    if (!tz)
        return;
    CHECK_EQ_STR(tz_name(tz), "Europe/Berlin");
    static const struct at v[] = {
        {1774745999, 3600}, /* 2026-03-29T00:59:59Z CET */
        {1774746000, 7200}, /* 2026-03-29T01:00:00Z CEST */
        {1792889999, 7200}, /* 2026-10-25T00:59:59Z CEST */
        {1792890000, 3600}, /* 2026-10-25T01:00:00Z CET */
        {1780272000, 7200}, /* 2026-06-01 */
        {1767225600, 3600}, /* 2026-01-01 */
        {0, 3600},          /* 1970-01-01 */
        {-2208988800, 3600},  /* 1900-01-01 */
        {-2422054409, 3208},  /* 1893-03-31T23:06:31Z LMT +0:53:28 */
        {-2422054408, 3600},  /* 1893-03-31T23:06:32Z CET */
        {INT64_MIN, 3208},    /* before the first transition: type 0 */
    };
    check_offsets(tz, v, ARRAY_LEN(v), "Berlin");
    tz_free(tz);
}

static void test_new_york_2026(void)
{
    tz_t *tz = tz_load("America/New_York");
    CHECK(tz != NULL);
    if (!tz)
        return;
    static const struct at v[] = {
        {1772953199, -18000}, /* 2026-03-08T06:59:59Z EST */
        {1772953200, -14400}, /* 2026-03-08T07:00:00Z EDT */
        {1793512799, -14400}, /* 2026-11-01T05:59:59Z EDT */
        {1793512800, -18000}, /* 2026-11-01T06:00:00Z EST */
        {1780272000, -14400},
        {-2208988800, -18000},
    };
    check_offsets(tz, v, ARRAY_LEN(v), "New_York");
    tz_free(tz);
}

/* The Debian files stop listing transitions in 2037; 2100 needs the footer. */
static void test_far_future_footer(void)
{
    tz_t *berlin = tz_load("Europe/Berlin");
    tz_t *ny = tz_load("America/New_York");
    tz_t *lh = tz_load("Australia/Lord_Howe");
    CHECK(berlin && ny && lh);
    if (berlin && ny && lh) {
        static const struct at vb[] = {
            {4118126400, 7200},  /* 2100-07-01T12:00Z */
            {4103697600, 3600},  /* 2100-01-15T12:00Z */
            {4109878799, 3600},  /* 2100-03-28T00:59:59Z */
            {4109878800, 7200},  /* 2100-03-28T01:00:00Z */
            {4128627599, 7200},  /* 2100-10-31T00:59:59Z */
            {4128627600, 3600},  /* 2100-10-31T01:00:00Z */
            {INT64_MAX, 3600},   /* clamped to 9999-12-31: winter */
        };
        check_offsets(berlin, vb, ARRAY_LEN(vb), "Berlin 2100");
        static const struct at vn[] = {
            {4118126400, -14400},
            {4103697600, -18000},
            {4108690799, -18000}, /* 2100-03-14T06:59:59Z */
            {4108690800, -14400}, /* 2100-03-14T07:00:00Z */
            {4129250399, -14400}, /* 2100-11-07T05:59:59Z */
            {4129250400, -18000}, /* 2100-11-07T06:00:00Z */
        };
        check_offsets(ny, vn, ARRAY_LEN(vn), "New_York 2100");
        static const struct at vl[] = {
            {4118126400, 37800}, /* July: +10:30 standard */
            {4103697600, 39600}, /* January: +11 DST */
            {4110447599, 39600}, /* 2100-04-03T14:59:59Z */
            {4110447600, 37800}, /* 2100-04-03T15:00:00Z */
            {4126174199, 37800}, /* 2100-10-02T15:29:59Z */
            {4126174200, 39600}, /* 2100-10-02T15:30:00Z */
        };
        check_offsets(lh, vl, ARRAY_LEN(vl), "Lord_Howe 2100");
        /* Gap and overlap computed from the footer rule. */
        CHECK_EQ_INT(tz_local_to_utc(berlin, 2100, 3, 28, 2 * 3600 + 1800), 4109880600);
        CHECK_EQ_INT(tz_local_to_utc(berlin, 2100, 10, 31, 2 * 3600 + 1800), 4128625800);
    }
    tz_free(berlin);
    tz_free(ny);
    tz_free(lh);
}

static void test_kathmandu(void)
{
    tz_t *tz = tz_load("Asia/Kathmandu");
    CHECK(tz != NULL);
    if (!tz)
        return;
    static const struct at v[] = {
        {504901799, 19800},  /* 1985-12-31T18:29:59Z +05:30 */
        {504901800, 20700},  /* 1985-12-31T18:30:00Z +05:45 */
        {1780272000, 20700},
        {4118126400, 20700},
        {-2208988800, 20476}, /* 1900: LMT +5:41:16 */
    };
    check_offsets(tz, v, ARRAY_LEN(v), "Kathmandu");
    /* 2026-06-01 00:00 local = 2026-05-31T18:15Z */
    CHECK_EQ_INT(tz_local_to_utc(tz, 2026, 6, 1, 0), 1780272000 - 20700);
    tz_free(tz);
}

static void test_lord_howe(void)
{
    tz_t *tz = tz_load("Australia/Lord_Howe");
    CHECK(tz != NULL);
    if (!tz)
        return;
    static const struct at v[] = {
        {1775314799, 39600}, /* 2026-04-04T14:59:59Z +11 */
        {1775314800, 37800}, /* 2026-04-04T15:00:00Z +10:30 */
        {1791041399, 37800}, /* 2026-10-03T15:29:59Z +10:30 */
        {1791041400, 39600}, /* 2026-10-03T15:30:00Z +11 */
    };
    check_offsets(tz, v, ARRAY_LEN(v), "Lord_Howe");
    /* 30-minute gap: 2026-10-04 02:15 does not exist -> 02:45 +11 = 15:45Z. */
    CHECK_EQ_INT(tz_local_to_utc(tz, 2026, 10, 4, 2 * 3600 + 900), 1791042300);
    CHECK_EQ_INT(tz_local_to_utc(tz, 2026, 10, 4, 2 * 3600), 1791041400);
    CHECK_EQ_INT(tz_local_to_utc(tz, 2026, 10, 4, 2 * 3600 + 1800), 1791041400);
    /* 30-minute overlap: 2026-04-05 01:45 happens at 14:45Z (+11) first. */
    CHECK_EQ_INT(tz_local_to_utc(tz, 2026, 4, 5, 3600 + 2700), 1775313900);
    CHECK_EQ_INT(tz_local_to_utc(tz, 2026, 4, 5, 2 * 3600), 1775314800 + 1800);
    tz_free(tz);
}

static void test_utc(void)
{
    static const char *names[] = {"UTC", "Etc/UTC", "posix/Etc/UTC"};
    for (size_t i = 0; i < ARRAY_LEN(names); i++) {
        tz_t *tz = tz_load(names[i]);
        CHECK(tz != NULL);
        if (!tz)
            continue;
        CHECK_EQ_STR(tz_name(tz), names[i]);
        CHECK_EQ_INT(tz_offset_at(tz, 0), 0);
        CHECK_EQ_INT(tz_offset_at(tz, 1780272000), 0);
        CHECK_EQ_INT(tz_offset_at(tz, INT64_MIN), 0);
        CHECK_EQ_INT(tz_offset_at(tz, INT64_MAX), 0);
        CHECK_EQ_INT(tz_local_to_utc(tz, 2026, 11, 24, 0), 1795478400);
        tz_free(tz);
    }
    /* NULL behaves as UTC. */
    CHECK_EQ_INT(tz_offset_at(NULL, 1780272000), 0);
    CHECK_EQ_INT(tz_local_to_utc(NULL, 2026, 11, 24, 3600), 1795478400 + 3600);
}

static void test_local_to_utc_berlin(void)
{
    tz_t *tz = tz_load("Europe/Berlin");
    CHECK(tz != NULL);
    if (!tz)
        return;
    /* Ordinary times. */
    CHECK_EQ_INT(tz_local_to_utc(tz, 2026, 6, 1, 2 * 3600), 1780272000);
    CHECK_EQ_INT(tz_local_to_utc(tz, 2026, 1, 1, 3600), 1767225600);
    /* Spring forward: 02:00..02:59:59 do not exist on 2026-03-29. */
    CHECK_EQ_INT(tz_local_to_utc(tz, 2026, 3, 29, 3600 + 3599), 1774745999);
    CHECK_EQ_INT(tz_local_to_utc(tz, 2026, 3, 29, 2 * 3600), 1774746000);
    CHECK_EQ_INT(tz_local_to_utc(tz, 2026, 3, 29, 2 * 3600 + 1800), 1774747800); /* 01:30Z */
    CHECK_EQ_INT(tz_local_to_utc(tz, 2026, 3, 29, 3 * 3600), 1774746000);
    CHECK_EQ_INT(tz_local_to_utc(tz, 2026, 3, 29, 9 * 3600 + 1800), 1774769400);
    /* Fall back: 02:00..02:59:59 happen twice on 2026-10-25; first wins. */
    CHECK_EQ_INT(tz_local_to_utc(tz, 2026, 10, 25, 3600 + 3599), 1792886399);
    CHECK_EQ_INT(tz_local_to_utc(tz, 2026, 10, 25, 2 * 3600), 1792886400);
    CHECK_EQ_INT(tz_local_to_utc(tz, 2026, 10, 25, 2 * 3600 + 1800), 1792888200); /* 00:30Z */
    CHECK_EQ_INT(tz_local_to_utc(tz, 2026, 10, 25, 2 * 3600 + 3599), 1792889999);
    CHECK_EQ_INT(tz_local_to_utc(tz, 2026, 10, 25, 3 * 3600), 1792893600);
    /* 86400 = midnight at the end of the day. */
    CHECK_EQ_INT(tz_local_to_utc(tz, 2026, 3, 28, 86400), 1774738800);
    CHECK_EQ_INT(tz_local_to_utc(tz, 2026, 3, 29, 0), 1774738800);
    tz_free(tz);
}

static void test_local_to_utc_new_york(void)
{
    tz_t *tz = tz_load("America/New_York");
    CHECK(tz != NULL);
    if (!tz)
        return;
    /* Gap 02:00..02:59:59 on 2026-03-08: 02:30 -> 03:30 EDT = 07:30Z. */
    CHECK_EQ_INT(tz_local_to_utc(tz, 2026, 3, 8, 2 * 3600 + 1800), 1772955000);
    CHECK_EQ_INT(tz_local_to_utc(tz, 2026, 3, 8, 2 * 3600), 1772953200);
    CHECK_EQ_INT(tz_local_to_utc(tz, 2026, 3, 8, 3600 + 3599), 1772953199);
    /* Overlap 01:00..01:59:59 on 2026-11-01: first is EDT. */
    CHECK_EQ_INT(tz_local_to_utc(tz, 2026, 11, 1, 3600), 1793509200);
    CHECK_EQ_INT(tz_local_to_utc(tz, 2026, 11, 1, 3600 + 1800), 1793511000);
    CHECK_EQ_INT(tz_local_to_utc(tz, 2026, 11, 1, 2 * 3600), 1793516400);
    tz_free(tz);
}

/* For every hour of 2026 (and some of 2100), converting the local time back
 * must give an instant with that local time, never later than the original
 * (it is the original unless that was the second pass of an overlap). */
static void test_local_round_trip(void)
{
    static const char *names[] = {"Europe/Berlin", "America/New_York",
                                  "Australia/Lord_Howe", "Asia/Kathmandu"};
    static const int64_t starts[] = {1767225600, 4102444800};
    for (size_t z = 0; z < ARRAY_LEN(names); z++) {
        tz_t *tz = tz_load(names[z]);
        CHECK(tz != NULL);
        if (!tz)
            continue;
        int bad = 0, moved = 0;
        for (size_t s = 0; s < ARRAY_LEN(starts); s++) {
            for (int64_t t = starts[s]; t < starts[s] + 366 * 86400; t += 900) {
                int64_t local = t + tz_offset_at(tz, t);
                int64_t days = local >= 0 ? local / 86400 : -((-local + 86399) / 86400);
                int y, m, d;
                tz_civil_from_days(days, &y, &m, &d);
                int64_t r = tz_local_to_utc(tz, y, m, d, (int)(local - days * 86400));
                if (r + tz_offset_at(tz, r) != local || r > t)
                    bad++;
                if (r != t)
                    moved++;
            }
        }
        CHECK_EQ_INT(bad, 0);
        /* Only overlap second passes move: 2 zones x 2 years x 4 quarter
         * hours for 1 h overlaps, 2 x 2 for Lord Howe's 30 min, 0 else. */
        CHECK_EQ_INT(moved, z == 3 ? 0 : z == 2 ? 4 : 8);
        tz_free(tz);
    }
}

/* ------------------------------------------------------------------------
 * Names and files
 */

static void test_unsafe_and_unknown_names(void)
{
    static const char *bad[] = {
        "../etc/passwd", "/etc/passwd", "Europe/../../x", "", "Europe//Berlin",
        "Europe/Berlin/", "/", "Europe/Berlin\n", "Europe/Ber lin", "./UTC",
        "Europe\\Berlin", "Nowhere/Atlantis", "europe/berlin_x", "zone.tab",
        "leapseconds",              /* exists, but is a text file */
        "Europe",                   /* a directory */
        "right/Europe/Berlin",      /* TZif with leap seconds: rejected */
        "A123456789/B123456789/C123456789/D123456789/E123456789/F12345678Z", /* 65 */
    };
    for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
        tz_t *tz = tz_load(bad[i]);
        if (tz)
            fprintf(stderr, "  unexpectedly loaded \"%s\"\n", bad[i]);
        CHECK(tz == NULL);
        tz_free(tz);
        CHECK(tz_get(bad[i]) == NULL);
    }
    CHECK(tz_load(NULL) == NULL);
    CHECK(tz_get(NULL) == NULL);
    tz_free(NULL);

    /* Allowed characters: '-', '+', '_' and digits. */
    static const char *good[] = {"Etc/GMT-14", "Etc/GMT+12", "America/Port_of_Spain",
                                 "America/Argentina/Buenos_Aires", "posix/Europe/Berlin"};
    for (size_t i = 0; i < ARRAY_LEN(good); i++) {
        tz_t *tz = tz_load(good[i]);
        CHECK(tz != NULL);
        tz_free(tz);
    }
    tz_t *gmt = tz_load("Etc/GMT-14");
    CHECK(gmt && tz_offset_at(gmt, 1780272000) == 14 * 3600);
    tz_free(gmt);
}

/* The v1 block of the real Berlin file, served as a version 1 file. */
static void test_tzif_v1(void)
{
    size_t len = 0;
    uint8_t *data = slurp("/usr/share/zoneinfo/Europe/Berlin", &len);
    CHECK(data != NULL && len > 44);
    if (!data)
        return;
    uint32_t c[6];
    for (int i = 0; i < 6; i++)
        c[i] = (uint32_t)data[20 + 4 * i] << 24 | (uint32_t)data[21 + 4 * i] << 16 |
               (uint32_t)data[22 + 4 * i] << 8 | data[23 + 4 * i];
    /* isutcnt isstdcnt leapcnt timecnt typecnt charcnt */
    size_t v1_len = 44 + c[3] * 5 + c[4] * 6 + c[5] + c[2] * 8 + c[1] + c[0];
    CHECK(v1_len < len);
    data[4] = 0;
    tz_t *tz = tz_from_tzif("Europe/Berlin", data, v1_len);
    CHECK(tz != NULL);
    if (tz) {
        static const struct at v[] = {
            {1774745999, 3600}, {1774746000, 7200},
            {1792889999, 7200}, {1792890000, 3600},
            {0, 3600},
            /* No footer in v1: after the last 32-bit transition (2037-10)
             * the last type (CET) stays. */
            {4118126400, 3600},
        };
        check_offsets(tz, v, ARRAY_LEN(v), "Berlin v1");
        tz_free(tz);
    }
    free(data);
}

/* Every proper prefix of a valid file is rejected (v2+ needs the footer). */
static void test_truncated_files(void)
{
    size_t len = 0;
    uint8_t *data = slurp("/usr/share/zoneinfo/America/New_York", &len);
    CHECK(data != NULL);
    if (!data)
        return;
    tz_t *full = tz_from_tzif("America/New_York", data, len);
    CHECK(full != NULL);
    tz_free(full);
    int accepted = 0;
    for (size_t n = 0; n < len; n++) {
        tz_t *tz = tz_from_tzif("America/New_York", data, n);
        if (tz)
            accepted++;
        tz_free(tz);
    }
    CHECK_EQ_INT(accepted, 0);
    /* Not TZif at all. */
    CHECK(tz_from_tzif("x", "TZiF2", 5) == NULL);
    data[0] = 'X';
    CHECK(tz_from_tzif("x", data, len) == NULL);
    data[0] = 'T';
    data[4] = '1';
    CHECK(tz_from_tzif("x", data, len) == NULL);
    data[4] = '5';
    CHECK(tz_from_tzif("x", data, len) == NULL);
    data[4] = '3'; /* v3 is accepted */
    full = tz_from_tzif("x", data, len);
    CHECK(full != NULL);
    tz_free(full);
    CHECK(tz_from_tzif(NULL, data, len) == NULL);
    CHECK(tz_from_tzif("x", NULL, len) == NULL);
    free(data);
}

static void test_malformed_synthetic(void)
{
    static const int64_t trans[] = {1000, 2000};
    static const int64_t unsorted[] = {2000, 1000};
    static const int64_t dup[] = {1000, 1000};
    static const uint8_t idx[] = {0, 1};
    static const uint8_t bad_idx[] = {0, 2};
    static const int32_t offs[] = {3600, 7200};
    static const int32_t huge[] = {3600, 93600};
    const char *f = "CET-1";

    static const uint8_t ok_idx[] = {1, 0};
    struct zone_spec ok = {'2', 2, trans, ok_idx, 2, offs, f};
    tz_t *tz = build(&ok);
    CHECK(tz != NULL);
    if (tz) {
        CHECK_EQ_INT(tz_offset_at(tz, 999), 3600);  /* type 0 before the first */
        CHECK_EQ_INT(tz_offset_at(tz, 1000), 7200);
        CHECK_EQ_INT(tz_offset_at(tz, 1999), 7200);
        CHECK_EQ_INT(tz_offset_at(tz, 2000), 3600); /* footer from the last on */
        CHECK_EQ_INT(tz_offset_at(tz, 2001), 3600);
    }
    tz_free(tz);

    struct zone_spec cases[] = {
        {'2', 2, unsorted, idx, 2, offs, f},
        {'2', 2, dup, idx, 2, offs, f},
        {'2', 2, trans, bad_idx, 2, offs, f},
        {'2', 2, trans, idx, 2, huge, f},
        {'2', 0, NULL, NULL, 0, offs, f},     /* typecnt 0 */
        {'2', 2, trans, idx, 2, offs, NULL},  /* footer missing */
        {0, 2, unsorted, idx, 2, offs, NULL}, /* v1, unsorted */
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        tz = build(&cases[i]);
        if (tz)
            fprintf(stderr, "  malformed case %zu accepted\n", i);
        CHECK(tz == NULL);
        tz_free(tz);
    }

    static const char *bad_footers[] = {
        "CET", "CE-1", "<AB>-1", "CET-1CE", "CET-1CEST,M3.5.0,M10.5.0 ", "CET-25", "CET-1CEST,M3.5.0",
        "CET-1CEST,M13.5.0,M10.5.0", "CET-1CEST,M3.6.0,M10.5.0", "CET-1CEST,M3.5.7,M10.5.0",
        "CET-1CEST,M3.5.0,M10.5.0/168", "CET-1CEST,J0,J365", "CET-1CEST,J1,J366",
        "CET-1CEST,366,1", "CET-1CEST,M3.5.0/1:60,M10.5.0", "CET-1CEST;M3.5.0,M10.5.0",
        "CET-1CEST,M3.5.0,M10.5.0,", "<CET-1", "CET-1:2:3:4", "-1",
    };
    for (size_t i = 0; i < ARRAY_LEN(bad_footers); i++) {
        tz = footer_zone(bad_footers[i], 3600);
        if (tz)
            fprintf(stderr, "  bad footer \"%s\" accepted\n", bad_footers[i]);
        CHECK(tz == NULL);
        tz_free(tz);
    }

    /* An empty footer is allowed: the last type stays in effect. */
    struct zone_spec empty = {'2', 2, trans, idx, 2, offs, ""};
    tz = build(&empty);
    CHECK(tz != NULL);
    if (tz)
        CHECK_EQ_INT(tz_offset_at(tz, 5000), 7200);
    tz_free(tz);

    /* A synthetic version 1 file (no footer). */
    struct zone_spec v1 = {0, 2, trans, idx, 2, offs, NULL};
    tz = build(&v1);
    CHECK(tz != NULL);
    if (tz) {
        CHECK_EQ_INT(tz_offset_at(tz, 1500), 3600);
        CHECK_EQ_INT(tz_offset_at(tz, 1 << 30), 7200);
    }
    tz_free(tz);
}

/* ------------------------------------------------------------------------
 * POSIX TZ footer forms (zdump/glibc with TZ=<string> as the oracle)
 */

static void test_footer_rules(void)
{
    static const struct {
        const char *tz;
        int32_t type0;
        struct at v[10];
    } cases[] = {
        /* Hours beyond 24 (Israel): Thursday 26:00 = Friday 02:00. */
        {"IST-2IDT,M3.4.4/26,M10.5.0", 7200,
         {{1774569599, 7200}, {1774569600, 10800}, {1792882799, 10800},
          {1792882800, 7200}, {1837468799, 7200}, {1837468800, 10800},
          {1856386799, 10800}, {1856386800, 7200}, {1767225600, 7200},
          {1780272000, 10800}}},
        /* Negative transition times (America/Nuuk). */
        {"<-02>2<-01>,M3.5.0/-1,M10.5.0/0", -7200,
         {{1774745999, -7200}, {1774746000, -3600}, {1792889999, -3600},
          {1792890000, -7200}, {1837645199, -7200}, {1837645200, -3600},
          {1856393999, -3600}, {1856394000, -7200}, {1767225600, -7200},
          {1780272000, -3600}}},
        /* Jn never counts Feb 29: J60 is Mar 1 in 2026 and 2028. */
        {"XXX3YYY,J60/2,J300/2", -10800,
         {{1772341199, -10800}, {1772341200, -7200}, {1793073599, -7200},
          {1793073600, -10800}, {1835499599, -10800}, {1835499600, -7200},
          {1856231999, -7200}, {1856232000, -10800}, {1767225600, -10800},
          {1780272000, -7200}}},
        /* n counts Feb 29: day 59 is Feb 29 in 2028. */
        {"XXX3YYY,59/2,299/2", -10800,
         {{1772341199, -10800}, {1772341200, -7200}, {1793073599, -7200},
          {1793073600, -10800}, {1835413199, -10800}, {1835413200, -7200},
          {1856145599, -7200}, {1856145600, -10800}, {1767225600, -10800},
          {1780272000, -7200}}},
        /* Southern hemisphere, DST offset with minutes. */
        {"AAA-10BBB-11:30,M10.1.0,M4.1.0", 36000,
         {{1775312999, 41400}, {1775313000, 36000}, {1791043199, 36000},
          {1791043200, 41400}, {1838212199, 41400}, {1838212200, 36000},
          {1853942399, 36000}, {1853942400, 41400}, {1767225600, 41400},
          {1780272000, 36000}}},
        /* Extreme RFC 8536 hours: +167 and -167. */
        {"AAA0BBB,M3.1.0/167,M10.1.0/-167", 0,
         {{1772924399, 0}, {1772924400, 3600}, {1790467199, 3600},
          {1790467200, 0}, {1767225600, 0}, {1780272000, 3600},
          {1798761600, 0}, {0, 0}, {0, 0}, {0, 0}}},
        /* No rule: the US default M3.2.0,M11.1.0, DST = std + 1 h
         * (values from America/New_York 2026). */
        {"AAA5BBB", -18000,
         {{1772953199, -18000}, {1772953200, -14400}, {1793512799, -14400},
          {1793512800, -18000}, {1767225600, -18000}, {1780272000, -14400},
          {0, -18000}, {0, -18000}, {0, -18000}, {0, -18000}}},
        /* Fixed offsets in the two abbreviation syntaxes. */
        {"<+0545>-5:45", 20700,
         {{0, 20700}, {1780272000, 20700}, {4118126400, 20700}, {INT64_MIN, 20700},
          {INT64_MAX, 20700}, {0, 20700}, {0, 20700}, {0, 20700}, {0, 20700},
          {0, 20700}}},
        {"ABC-3:30", 12600,
         {{0, 12600}, {1780272000, 12600}, {4118126400, 12600}, {0, 12600},
          {0, 12600}, {0, 12600}, {0, 12600}, {0, 12600}, {0, 12600}, {0, 12600}}},
        /* All-year DST, RFC 8536 section 3.3.1's own example. The RFC says
         * this is DST all year; glibc's zdump disagrees for Jan 1 00:00-05:00Z,
         * so these expectations come from the RFC text, not from glibc. */
        {"EST5EDT,0/0,J365/25", -18000,
         {{1767225600, -14400}, {1767243600, -14400}, {1780272000, -14400},
          {1798718400, -14400}, {1798761600, -14400}, {1798779600, -14400},
          {0, -14400}, {1767243599, -14400}, {1767243601, -14400},
          {1835395200, -14400}}},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        tz_t *tz = footer_zone(cases[i].tz, cases[i].type0);
        if (!tz)
            fprintf(stderr, "  footer \"%s\" rejected\n", cases[i].tz);
        CHECK(tz != NULL);
        if (tz)
            check_offsets(tz, cases[i].v, ARRAY_LEN(cases[i].v), cases[i].tz);
        tz_free(tz);
    }
}

/* A slim file: one transition in 2026-01-01, then only the footer. */
static void test_slim_file(void)
{
    static const int64_t trans[] = {1767225600};
    static const uint8_t idx[] = {1};
    static const int32_t offs[] = {3208, 3600};
    struct zone_spec z = {'2', 1, trans, idx, 2, offs, "CET-1CEST,M3.5.0,M10.5.0/3"};
    tz_t *tz = build(&z);
    CHECK(tz != NULL);
    if (!tz)
        return;
    static const struct at v[] = {
        {1767225599, 3208}, {1767225600, 3600},
        {1774745999, 3600}, {1774746000, 7200},
        {1792889999, 7200}, {1792890000, 3600},
        {4118126400, 7200}, {4103697600, 3600},
    };
    check_offsets(tz, v, ARRAY_LEN(v), "slim");
    CHECK_EQ_INT(tz_local_to_utc(tz, 2026, 3, 29, 2 * 3600 + 1800), 1774747800);
    CHECK_EQ_INT(tz_local_to_utc(tz, 2026, 10, 25, 2 * 3600 + 1800), 1792888200);
    /* The LMT -> CET change at 2026-01-01T00:00Z moves local time forward
     * by 392 s: 2026-01-01 00:55:00 local does not exist. */
    CHECK_EQ_INT(tz_local_to_utc(tz, 2026, 1, 1, 3300), 1767225600 + 3300 - 3208);
    tz_free(tz);
}

/* Some slim files end with a transition to a standard-time type while the
 * footer says DST is still on (zic -b slim output for America/Ojinaga in
 * 2022: last transition 2022-10-30T08:00Z to CST -6, footer
 * "CST6CDT,M3.2.0,M11.1.0"). Like glibc, the footer governs from the last
 * transition on, and tz_local_to_utc() must still find local times there. */
static void test_footer_disagrees_with_last_type(void)
{
    static const int64_t trans[] = {1647162000, 1667116800};
    static const uint8_t idx[] = {1, 2};
    static const int32_t offs[] = {-25200, -21600, -21600};
    struct zone_spec z = {'2', 2, trans, idx, 3, offs, "CST6CDT,M3.2.0,M11.1.0"};
    tz_t *tz = build(&z);
    CHECK(tz != NULL);
    if (!tz)
        return;
    static const struct at v[] = {
        {1667116799, -21600}, /* 2022-10-30T07:59:59Z MDT */
        {1667116800, -18000}, /* 2022-10-30T08:00:00Z CDT per the footer */
        {1667717999, -18000}, /* 2022-11-06T06:59:59Z */
        {1667718000, -21600}, /* 2022-11-06T07:00:00Z CST */
    };
    check_offsets(tz, v, ARRAY_LEN(v), "Ojinaga-like");
    /* 2022-10-30 01:59:59 MDT is followed by 03:00:00 CDT: 02:30 is in a gap. */
    CHECK_EQ_INT(tz_local_to_utc(tz, 2022, 10, 30, 3600 + 3599), 1667116799);
    CHECK_EQ_INT(tz_local_to_utc(tz, 2022, 10, 30, 2 * 3600 + 1800), 1667118600);
    /* 07:09:15 CDT = 12:09:15Z, reachable only with the footer's offset. */
    CHECK_EQ_INT(tz_local_to_utc(tz, 2022, 10, 30, 7 * 3600 + 555), 1667131755);
    tz_free(tz);
}

/* ------------------------------------------------------------------------
 * Cache
 */

static void test_cache(void)
{
    const tz_t *a = tz_get("Europe/Berlin");
    const tz_t *b = tz_get("Europe/Berlin");
    const tz_t *c = tz_get("America/New_York");
    CHECK(a != NULL && a == b);
    CHECK(c != NULL && c != a);
    CHECK(tz_get("Nowhere/Atlantis") == NULL);
    CHECK(tz_get("Nowhere/Atlantis") == NULL);
    if (a)
        CHECK_EQ_INT(tz_offset_at(a, 1774746000), 7200);
    if (c)
        CHECK_EQ_STR(tz_name(c), "America/New_York");
    tz_cache_clear();
    tz_cache_clear(); /* idempotent */
    const tz_t *d = tz_get("Europe/Berlin");
    CHECK(d != NULL);
    if (d)
        CHECK_EQ_INT(tz_offset_at(d, 1792890000), 3600);
    tz_cache_clear();
}

static const char *const thread_zones[] = {
    "Europe/Berlin", "America/New_York", "Asia/Kathmandu", "Australia/Lord_Howe",
    "UTC", "Etc/UTC", "Europe/Paris", "Asia/Tokyo",
};
static const int thread_offsets[] = {7200, -14400, 20700, 37800, 0, 0, 7200, 32400};

static void *cache_worker(void *arg)
{
    size_t start = (size_t)(uintptr_t)arg;
    uintptr_t errors = 0;
    for (int round = 0; round < 200; round++) {
        size_t i = (start + (size_t)round) % ARRAY_LEN(thread_zones);
        const tz_t *tz = tz_get(thread_zones[i]);
        if (!tz || tz_offset_at(tz, 1780272000) != thread_offsets[i] ||
            strcmp(tz_name(tz), thread_zones[i]) != 0)
            errors++;
    }
    return (void *)errors;
}

static void test_cache_threads(void)
{
    pthread_t th[8];
    size_t started = 0;
    uintptr_t errors = 0;
    for (size_t i = 0; i < ARRAY_LEN(th); i++)
        if (pthread_create(&th[i], NULL, cache_worker, (void *)(uintptr_t)i) == 0)
            started++;
    CHECK_EQ_INT(started, ARRAY_LEN(th));
    for (size_t i = 0; i < started; i++) {
        void *ret = NULL;
        pthread_join(th[i], &ret);
        errors += (uintptr_t)ret;
    }
    CHECK_EQ_INT(errors, 0);
    /* Each zone was loaded exactly once: same pointer every time. */
    for (size_t i = 0; i < ARRAY_LEN(thread_zones); i++)
        CHECK(tz_get(thread_zones[i]) == tz_get(thread_zones[i]));
    tz_cache_clear();
}

/* ------------------------------------------------------------------------
 * Civil calendar (expected values from Python's datetime.date)
 */

static void test_civil(void)
{
    CHECK_EQ_INT(tz_days_from_civil(1970, 1, 1), 0);
    CHECK_EQ_INT(tz_days_from_civil(1969, 12, 31), -1);
    CHECK_EQ_INT(tz_days_from_civil(2000, 3, 1), 11017);
    CHECK_EQ_INT(tz_days_from_civil(2026, 11, 24), 20781);
    CHECK_EQ_INT(tz_days_from_civil(1600, 2, 29), -135081);
    CHECK_EQ_INT(tz_days_from_civil(1, 1, 1), -719162);
    CHECK_EQ_INT(tz_days_from_civil(9999, 12, 31), 2932896);

    CHECK_EQ_INT(tz_weekday(20781), 2);   /* 2026-11-24 is a Tuesday */
    CHECK_EQ_INT(tz_weekday(0), 4);       /* 1970-01-01 Thursday */
    CHECK_EQ_INT(tz_weekday(-1), 3);      /* 1969-12-31 Wednesday */
    CHECK_EQ_INT(tz_weekday(11017), 3);   /* 2000-03-01 Wednesday */
    CHECK_EQ_INT(tz_weekday(-135081), 2); /* 1600-02-29 Tuesday */
    CHECK_EQ_INT(tz_weekday(-719162), 1); /* 0001-01-01 Monday */
    CHECK_EQ_INT(tz_weekday(2932896), 5); /* 9999-12-31 Friday */
    CHECK_EQ_INT(tz_weekday(tz_days_from_civil(2026, 3, 29)), 7);

    int y, m, d;
    tz_civil_from_days(20781, &y, &m, &d);
    CHECK(y == 2026 && m == 11 && d == 24);
    tz_civil_from_days(-135081, &y, &m, &d);
    CHECK(y == 1600 && m == 2 && d == 29);
    tz_civil_from_days(-1, &y, &m, &d);
    CHECK(y == 1969 && m == 12 && d == 31);
    tz_civil_from_days(INT64_MAX, &y, &m, &d); /* clamped */
    CHECK(y == 9999 && m == 12 && d == 31);
    tz_civil_from_days(INT64_MIN, &y, &m, &d);
    CHECK(y == 1 && m == 1 && d == 1);

    CHECK(tz_valid_date(2028, 2, 29));
    CHECK(tz_valid_date(2000, 2, 29));
    CHECK(!tz_valid_date(1900, 2, 29));
    CHECK(!tz_valid_date(2026, 2, 29));
    CHECK(!tz_valid_date(2026, 2, 30));
    CHECK(!tz_valid_date(2026, 4, 31));
    CHECK(tz_valid_date(2026, 12, 31));
    CHECK(!tz_valid_date(2026, 13, 1));
    CHECK(!tz_valid_date(2026, 0, 1));
    CHECK(!tz_valid_date(2026, 1, 0));
    CHECK(!tz_valid_date(0, 1, 1));
    CHECK(!tz_valid_date(10000, 1, 1));
    CHECK_EQ_INT(tz_days_in_month(2024, 2), 29);
    CHECK_EQ_INT(tz_days_in_month(2100, 2), 28);
    CHECK_EQ_INT(tz_days_in_month(2026, 13), 0);

    /* Walk every day of 0001..9999 with a naive counter. */
    int cy = 1, cm = 1, cd = 1, mismatches = 0;
    for (int64_t days = -719162; days <= 2932896; days++) {
        tz_civil_from_days(days, &y, &m, &d);
        if (y != cy || m != cm || d != cd || tz_days_from_civil(cy, cm, cd) != days)
            mismatches++;
        if (++cd > tz_days_in_month(cy, cm)) {
            cd = 1;
            if (++cm > 12) {
                cm = 1;
                cy++;
            }
        }
    }
    CHECK_EQ_INT(mismatches, 0);
    CHECK(cy == 10000 && cm == 1 && cd == 1);
}

int main(void)
{
    RUN(test_berlin_2026);
    RUN(test_new_york_2026);
    RUN(test_far_future_footer);
    RUN(test_kathmandu);
    RUN(test_lord_howe);
    RUN(test_utc);
    RUN(test_local_to_utc_berlin);
    RUN(test_local_to_utc_new_york);
    RUN(test_local_round_trip);
    RUN(test_unsafe_and_unknown_names);
    RUN(test_tzif_v1);
    RUN(test_truncated_files);
    RUN(test_malformed_synthetic);
    RUN(test_footer_rules);
    RUN(test_slim_file);
    RUN(test_footer_disagrees_with_last_type);
    RUN(test_cache);
    RUN(test_cache_threads);
    RUN(test_civil);
    tz_cache_clear();
    return unit_summary();
}
