/*
 * fuzz_rfc3339.c — libFuzzer target: the date and time parsers of
 * src/core/timefmt.c (RFC 3339 date-times, "YYYY-MM-DD", "HH:MM"), which
 * read request bodies, query parameters and schedule documents.
 *
 * Input: the text (up to its first NUL, as the callers pass C strings).
 *
 * Checks (round trips): a parsed date-time formatted in UTC parses back to
 * the same instant; a parsed date or HH:MM formats back to exactly the text
 * read (both forms are fixed-width, so there is one spelling of each).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/timefmt.h"
#include "core/tz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    memcpy(s, data, size);
    s[size] = '\0';

    int64_t t, back;
    if (timefmt_parse_rfc3339(s, &t)) {
        /* Years 1..9999 with an offset of up to a day may leave that range
         * in UTC; formatting clamps there, so only instants inside round-trip. */
        const int64_t lo = tz_days_from_civil(1, 1, 1) * 86400;
        const int64_t hi = tz_days_from_civil(10000, 1, 1) * 86400 - 1;
        char buf[TIMEFMT_RFC3339_LEN];
        timefmt_format_rfc3339(t, 0, true, buf, sizeof buf);
        if (t >= lo && t <= hi && (!timefmt_parse_rfc3339(buf, &back) || back != t))
            abort();
        /* with offsets as the API renders them, whole minutes up to +-23:59 */
        static const int offsets[] = {-86340, -34200, -1, 0, 1, 19800, 20700, 86340};
        for (size_t i = 0; i < sizeof offsets / sizeof offsets[0]; i++) {
            int off = offsets[i];
            timefmt_format_rfc3339(t, off, false, buf, sizeof buf);
            if (t - off >= lo && t - off <= hi && t + off >= lo && t + off <= hi &&
                (!timefmt_parse_rfc3339(buf, &back) || back != t))
                abort();
        }
    }

    int y, m, d;
    if (timefmt_parse_date(s, &y, &m, &d)) {
        char buf[16];
        if (!tz_valid_date(y, m, d))
            abort();
        timefmt_format_date(y, m, d, buf, sizeof buf);
        if (strcmp(buf, s) != 0)
            abort();
    }

    int minutes;
    if (timefmt_parse_hhmm(s, &minutes)) {
        char buf[8];
        if (minutes < 0 || minutes > 1440)
            abort();
        timefmt_format_hhmm(minutes, buf, sizeof buf);
        if (strcmp(buf, s) != 0)
            abort();
    }
    free(s);
    return 0;
}
