/*
 * timefmt.c — RFC 3339 date-time parsing/formatting, plus strict
 * "YYYY-MM-DD" and "HH:MM".
 *
 * Design: hand-written fixed-width parsers (no sscanf/strptime, which accept
 * signs, spaces and variable widths, and no libc time functions, which depend
 * on process-global TZ state). Calendar arithmetic uses tz.h's proleptic
 * Gregorian helpers, so years are limited to 0001..9999.
 *
 * RFC 3339 grammar accepted (section 5.6, with "T"/"Z" case-insensitive as
 * its section 5.6 note allows):
 *   date-fullyear "-" date-month "-" date-mday ("T"|"t")
 *   time-hour ":" time-minute ":" time-second ["." 1*DIGIT]
 *   ("Z"|"z"|("+"|"-") time-hour ":" time-minute)
 * A leap second (:60) is read as :59 since unix time has no leap seconds;
 * fractional seconds are truncated; "-00:00" is read as UTC.
 */
#include "timefmt.h"

#include <stdio.h>
#include <string.h>

#include "tz.h"

enum {
    SECS_PER_DAY = 86400,
    MAX_OFFSET_MIN = 23 * 60 + 59,
};

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

/* Exactly n digits at *sp. */
static bool digits(const char **sp, int n, int *out)
{
    const char *s = *sp;
    int v = 0;
    for (int i = 0; i < n; i++, s++) {
        if (!is_digit(*s))
            return false;
        v = v * 10 + (*s - '0');
    }
    *out = v;
    *sp = s;
    return true;
}

static bool expect(const char **sp, char c)
{
    if (**sp != c)
        return false;
    (*sp)++;
    return true;
}

/* "YYYY-MM-DD", a valid date; does not require the string to end. */
static bool parse_date_prefix(const char **sp, int *y, int *mon, int *day)
{
    return digits(sp, 4, y) && expect(sp, '-') && digits(sp, 2, mon) &&
           expect(sp, '-') && digits(sp, 2, day) && tz_valid_date(*y, *mon, *day);
}

bool timefmt_parse_rfc3339(const char *s, int64_t *out_utc)
{
    int y, mon, day, h, min, sec, off_min = 0;

    if (!s || !out_utc || !parse_date_prefix(&s, &y, &mon, &day))
        return false;
    if (*s != 'T' && *s != 't')
        return false;
    s++;
    if (!digits(&s, 2, &h) || h > 23 || !expect(&s, ':') || !digits(&s, 2, &min) ||
        min > 59 || !expect(&s, ':') || !digits(&s, 2, &sec) || sec > 60)
        return false;
    if (sec == 60)
        sec = 59;
    if (*s == '.') {
        s++;
        if (!is_digit(*s))
            return false;
        while (is_digit(*s))
            s++;
    }
    if (*s == 'Z' || *s == 'z') {
        s++;
    } else if (*s == '+' || *s == '-') {
        int sign = *s++ == '-' ? -1 : 1, oh, om;
        if (!digits(&s, 2, &oh) || oh > 23 || !expect(&s, ':') ||
            !digits(&s, 2, &om) || om > 59)
            return false;
        off_min = sign * (oh * 60 + om);
    } else {
        return false;
    }
    if (*s != '\0')
        return false;
    *out_utc = tz_days_from_civil(y, mon, day) * SECS_PER_DAY + h * 3600 + min * 60 +
               sec - (int64_t)off_min * 60;
    return true;
}

/* Writes v (0 <= v < 10^width) as exactly `width` decimal digits. */
static char *put_digits(char *p, int v, int width)
{
    for (int i = width - 1; i >= 0; i--) {
        p[i] = (char)('0' + v % 10);
        v /= 10;
    }
    return p + width;
}

void timefmt_format_rfc3339(int64_t t, int offset_sec, bool use_z, char *buf, size_t len)
{
    const int64_t lo = tz_days_from_civil(1, 1, 1) * SECS_PER_DAY;
    const int64_t hi = tz_days_from_civil(10000, 1, 1) * SECS_PER_DAY - 1;
    int off_min = offset_sec / 60; /* truncates toward zero */
    int y, mon, day;

    if (!buf || len == 0)
        return;
    if (off_min > MAX_OFFSET_MIN)
        off_min = MAX_OFFSET_MIN;
    if (off_min < -MAX_OFFSET_MIN)
        off_min = -MAX_OFFSET_MIN;
    /* Clamp before adding the offset so the sum cannot overflow. */
    int64_t local = (t < lo ? lo : t > hi ? hi : t) + (int64_t)off_min * 60;
    local = local < lo ? lo : local > hi ? hi : local;

    int64_t days = local / SECS_PER_DAY, sod = local % SECS_PER_DAY;
    if (sod < 0) {
        sod += SECS_PER_DAY;
        days--;
    }
    tz_civil_from_days(days, &y, &mon, &day);
    /* Written digit by digit: this runs for every time in every answer, and
     * snprintf was the largest cost of the free-slots endpoint. */
    char tmp[32], *p = tmp;
    p = put_digits(p, y, 4);
    *p++ = '-';
    p = put_digits(p, mon, 2);
    *p++ = '-';
    p = put_digits(p, day, 2);
    *p++ = 'T';
    p = put_digits(p, (int)(sod / 3600), 2);
    *p++ = ':';
    p = put_digits(p, (int)(sod / 60 % 60), 2);
    *p++ = ':';
    p = put_digits(p, (int)(sod % 60), 2);
    if (use_z && off_min == 0) {
        *p++ = 'Z';
    } else {
        int a = off_min < 0 ? -off_min : off_min;
        *p++ = off_min < 0 ? '-' : '+';
        p = put_digits(p, a / 60, 2);
        *p++ = ':';
        p = put_digits(p, a % 60, 2);
    }
    size_t n = (size_t)(p - tmp);
    if (n >= len)
        n = len - 1; /* cut, as snprintf would */
    memcpy(buf, tmp, n);
    buf[n] = '\0';
}

bool timefmt_parse_date(const char *s, int *y, int *mon, int *day)
{
    int yy, mm, dd;
    if (!s || !parse_date_prefix(&s, &yy, &mm, &dd) || *s != '\0')
        return false;
    *y = yy;
    *mon = mm;
    *day = dd;
    return true;
}

bool timefmt_parse_hhmm(const char *s, int *minutes)
{
    int h, m;
    if (!s || !digits(&s, 2, &h) || !expect(&s, ':') || !digits(&s, 2, &m) ||
        *s != '\0' || m > 59 || h > 24 || (h == 24 && m != 0))
        return false;
    *minutes = h * 60 + m;
    return true;
}

void timefmt_format_date(int y, int mon, int day, char *buf, size_t len)
{
    if (buf && len > 0)
        snprintf(buf, len, "%04d-%02d-%02d", y, mon, day);
}

void timefmt_format_http_date(int64_t t, char *buf, size_t len)
{
    static const char wday[7][4] = {"Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"};
    static const char month[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    const int64_t lo = tz_days_from_civil(1, 1, 1) * SECS_PER_DAY;
    const int64_t hi = tz_days_from_civil(10000, 1, 1) * SECS_PER_DAY - 1;
    int y, mon, day;

    if (!buf || len == 0)
        return;
    t = t < lo ? lo : t > hi ? hi : t;
    int64_t days = t / SECS_PER_DAY, sod = t % SECS_PER_DAY;
    if (sod < 0) {
        sod += SECS_PER_DAY;
        days--;
    }
    tz_civil_from_days(days, &y, &mon, &day);
    int w = (int)(days % 7); /* day 0, 1970-01-01, was a Thursday */
    if (w < 0)
        w += 7;
    snprintf(buf, len, "%s, %02d %s %04d %02d:%02d:%02d GMT", wday[w], day, month[mon - 1], y,
             (int)(sod / 3600), (int)(sod / 60 % 60), (int)(sod % 60));
}

void timefmt_format_hhmm(int minutes, char *buf, size_t len)
{
    if (minutes < 0)
        minutes = 0;
    if (minutes > 1440)
        minutes = 1440;
    if (buf && len > 0)
        snprintf(buf, len, "%02d:%02d", minutes / 60, minutes % 60);
}
