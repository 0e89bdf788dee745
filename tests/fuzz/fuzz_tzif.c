/*
 * fuzz_tzif.c — libFuzzer target: the TZif parser of src/core/tz.c
 * (tz_from_tzif, what tz_load runs on /usr/share/zoneinfo/<zone>),
 * including the POSIX TZ footer rule, and the conversions on what it
 * accepted.
 *
 * Input: the file's bytes.
 *
 * Checks on an accepted zone: every offset is within RFC 8536's bounds
 * (-25 h < offset < 26 h), and tz_local_to_utc answers within that window
 * of the local time it was given: at fixed instants (the ends of the civil
 * range, 1970, 2038, the far future that only the footer rule covers) and
 * around the zone's first offset changes from 2000 on.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/tz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define OFF_MIN (-89999)
#define OFF_MAX 93599
#define WINDOW 93600

static void check_offset(const tz_t *tz, int64_t t)
{
    int off = tz_offset_at(tz, t);
    if (off < OFF_MIN || off > OFF_MAX)
        abort();
}

/* tz_local_to_utc of the local time `days` (since 1970) + sec. */
static void check_local(const tz_t *tz, int64_t days, int sec)
{
    int y, m, d;
    tz_civil_from_days(days, &y, &m, &d); /* clamps to years 1..9999 */
    int64_t local = tz_days_from_civil(y, m, d) * 86400 + sec;
    int64_t t = tz_local_to_utc(tz, y, m, d, sec);
    if (t < local - WINDOW || t > local + WINDOW)
        abort();
}

static void check_local_at(const tz_t *tz, int64_t local)
{
    int64_t days = local / 86400 - (local % 86400 < 0);
    check_local(tz, days, (int)(local - days * 86400));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tz_t *tz = tz_from_tzif("Fuzz/Zone", data, size);
    if (!tz)
        return 0;
    static const int64_t instants[] = {
        INT64_MIN, -62135596801LL, -62135596800LL, -2147483648LL, -1, 0, 1,
        1774744200LL, 2147483647LL, 2147483648LL, 4102444800LL, 32503680000LL,
        253402300799LL, 253402300800LL, INT64_MAX};
    for (size_t i = 0; i < sizeof instants / sizeof instants[0]; i++)
        check_offset(tz, instants[i]);

    static const int64_t days[] = {-719162, -25567, 0, 20541, 20541 + 210, 24837, 2932896};
    static const int secs[] = {0, 5400, 9000, 86399, 86400};
    for (size_t i = 0; i < sizeof days / sizeof days[0]; i++)
        for (size_t j = 0; j < sizeof secs / sizeof secs[0]; j++)
            check_local(tz, days[i], secs[j]);

    /* The first offset changes from 2000 on: looked for every 30 days, found
     * to the second by bisection, then local times every half hour from two
     * hours before to two hours after (the gap or the overlap). */
    int found = 0;
    int64_t a = 946684800; /* 2000-01-01 */
    int prev = tz_offset_at(tz, a);
    for (int step = 0; step < 500 && found < 4; step++) {
        int64_t b = a + 30 * 86400;
        int off = tz_offset_at(tz, b);
        if (off != prev) {
            int64_t lo = a, hi = b; /* offset(lo) == prev, offset(hi) != prev */
            while (hi - lo > 1) {
                int64_t mid = lo + (hi - lo) / 2;
                if (tz_offset_at(tz, mid) == prev)
                    lo = mid;
                else
                    hi = mid;
            }
            for (int64_t h = -7200; h <= 7200; h += 1800)
                check_local_at(tz, hi + prev + h);
            found++;
        }
        prev = off;
        a = b;
    }
    tz_free(tz);
    return 0;
}
