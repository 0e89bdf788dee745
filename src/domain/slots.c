/* slots.c — see slots.h for the model. */
#include "domain/slots.h"

#include <stdlib.h>
#include <string.h>

/* Hours that run on without a break for longer than this (round the clock)
 * have no start in reach to count slots from: see slots.h. */
#define LONG_STRETCH_DAYS 7

int slots_round_duration(int minutes, int slot_minutes)
{
    if (minutes <= 0 || minutes > SLOTS_MAX_DURATION_MINUTES || slot_minutes <= 0)
        return 0;
    int n = (minutes + slot_minutes - 1) / slot_minutes;
    int d = n * slot_minutes;
    return d > SLOTS_MAX_DURATION_MINUTES ? 0 : d;
}

static int cmp_interval(const void *a, const void *b)
{
    const interval_t *x = a, *y = b;
    if (x->start != y->start)
        return x->start < y->start ? -1 : 1;
    return (x->end > y->end) - (x->end < y->end);
}

/* Appends the day's hours (exceptions win over the weekly hours). */
static bool add_day(const schedule_t *s, const tz_t *tz, int64_t days, interval_t **v,
                    size_t *n, size_t *cap)
{
    int y, mon, day;
    tz_civil_from_days(days, &y, &mon, &day);
    bool has_exception = false;
    for (size_t i = 0; i < s->nexceptions; i++) {
        const sched_exception_t *e = &s->exceptions[i];
        if (e->y == y && e->mon == mon && e->day == day)
            has_exception = true;
    }
    int wd = tz_weekday(days);
    size_t count = has_exception ? s->nexceptions : s->nweekly;
    for (size_t i = 0; i < count; i++) {
        int a, b;
        if (has_exception) {
            const sched_exception_t *e = &s->exceptions[i];
            if (e->y != y || e->mon != mon || e->day != day || e->closed)
                continue;
            a = e->start_min;
            b = e->end_min;
        } else {
            if (s->weekly[i].weekday != wd)
                continue;
            a = s->weekly[i].start_min;
            b = s->weekly[i].end_min;
        }
        int64_t start = tz_local_to_utc(tz, y, mon, day, a * 60);
        int64_t end = tz_local_to_utc(tz, y, mon, day, b * 60);
        if (end <= start)
            continue;
        if (*n == *cap) {
            size_t nc = *cap ? *cap * 2 : 16;
            interval_t *nv = realloc(*v, nc * sizeof *nv);
            if (!nv)
                return false;
            *v = nv;
            *cap = nc;
        }
        (*v)[(*n)++] = (interval_t){start, end};
    }
    return true;
}

long slots_periods(const schedule_t *s, const tz_t *tz, int64_t from, int64_t to,
                   interval_t **out)
{
    interval_t *v = NULL;
    size_t n = 0, cap = 0, m = 0;
    *out = NULL;
    if (to <= from)
        return 0;
    /* Local days that can touch [from, to) (a zone is at most 26 h off UTC),
     * and LONG_STRETCH_DAYS more on each side: a stretch that overlaps
     * [from, to) and is cut off by the days scanned is then seen longer than
     * LONG_STRETCH_DAYS, as it really is, and one that is not longer is seen
     * whole, whatever the range. */
    int64_t margin = (LONG_STRETCH_DAYS + 3) * (int64_t)86400;
    int64_t d0 = (from - margin) / 86400, d1 = (to + margin) / 86400;
    for (int64_t d = d0; d <= d1; d++)
        if (!add_day(s, tz, d, &v, &n, &cap)) {
            free(v);
            return -1;
        }
    if (n == 0) {
        free(v);
        return 0;
    }
    qsort(v, n, sizeof *v, cmp_interval);
    for (size_t i = 0; i < n; i++) { /* merge touching or overlapping */
        if (m > 0 && v[i].start <= v[m - 1].end) {
            if (v[i].end > v[m - 1].end)
                v[m - 1].end = v[i].end;
        } else {
            v[m++] = v[i];
        }
    }
    size_t k = 0; /* keep those overlapping [from, to) */
    int64_t step = (int64_t)(s->slot_minutes > 0 ? s->slot_minutes : 1) * 60;
    for (size_t i = 0; i < m; i++)
        if (v[i].end > from && v[i].start < to) {
            if (v[i].end - v[i].start > LONG_STRETCH_DAYS * (int64_t)86400) /* epoch grid */
                v[i].start += ((step - v[i].start % step) % step + step) % step;
            v[k++] = v[i];
        }
    if (k == 0) {
        free(v);
        return 0;
    }
    *out = v;
    return (long)k;
}

enum slot_check slots_check(const schedule_t *s, const tz_t *tz, int64_t start,
                            int duration_min, int64_t now)
{
    interval_t *p = NULL;
    enum slot_check rc = SLOT_OUTSIDE_HOURS;
    int64_t len = (int64_t)duration_min * 60, step = (int64_t)s->slot_minutes * 60;

    if (duration_min <= 0 || duration_min > SLOTS_MAX_DURATION_MINUTES ||
        duration_min % s->slot_minutes != 0)
        return SLOT_BAD_DURATION;
    if (start < now)
        return SLOT_IN_PAST;
    long n = slots_periods(s, tz, start, start + len, &p);
    for (long i = 0; i < n; i++) {
        if (start >= p[i].start && start + len <= p[i].end) {
            rc = (start - p[i].start) % step == 0 ? SLOT_OK : SLOT_OFF_GRID;
            break;
        }
        if (start >= p[i].start && start < p[i].end)
            rc = SLOT_OUTSIDE_HOURS; /* starts inside but runs past the end */
    }
    free(p);
    return rc;
}

long slots_find(const schedule_t *s, const tz_t *tz, const interval_t *busy, size_t nbusy,
                int64_t from, int64_t to, int duration_min, int64_t now, size_t max,
                interval_t **out)
{
    interval_t *p = NULL, *res = NULL, *b = NULL;
    long n = 0, np;
    size_t j = 0;
    int64_t len = (int64_t)duration_min * 60, step = (int64_t)s->slot_minutes * 60;
    *out = NULL;
    if (duration_min <= 0 || max == 0)
        return 0;
    if (from < now)
        from = now;
    res = malloc(max * sizeof *res);
    b = malloc((nbusy ? nbusy : 1) * sizeof *b);
    np = slots_periods(s, tz, from, to, &p);
    if (!res || !b || np < 0) {
        n = -1;
        goto out;
    }
    if (nbusy)
        memcpy(b, busy, nbusy * sizeof *b);
    bool sorted = true; /* the usual case: straight from an ordered query */
    for (size_t i = 1; i < nbusy && sorted; i++)
        sorted = cmp_interval(&b[i - 1], &b[i]) <= 0;
    if (!sorted)
        qsort(b, nbusy, sizeof *b, cmp_interval);
    /* Candidates only move forward in time, so one cursor walks the busy list. */
    for (long i = 0; i < np && (size_t)n < max; i++) {
        int64_t t = p[i].start;
        if (t < from) /* first grid point at or after from */
            t += ((from - t + step - 1) / step) * step;
        for (; t < to && t + len <= p[i].end && (size_t)n < max; t += step) {
            bool free_slot = true;
            while (j < nbusy && b[j].end <= t)
                j++;
            for (size_t k = j; k < nbusy && b[k].start < t + len; k++)
                if (b[k].end > t) {
                    free_slot = false;
                    break;
                }
            if (free_slot)
                res[n++] = (interval_t){t, t + len};
        }
    }
out:
    free(p);
    free(b);
    if (n <= 0) {
        free(res);
        res = NULL;
    }
    *out = res;
    return n;
}

const char *slots_check_message(enum slot_check c)
{
    switch (c) {
    case SLOT_OK:
        return "ok";
    case SLOT_BAD_DURATION:
        return "duration must be a positive number of minutes, at most 480";
    case SLOT_IN_PAST:
        return "start is in the past";
    case SLOT_OUTSIDE_HOURS:
        return "the appointment is outside the doctor's working hours";
    case SLOT_OFF_GRID:
        return "start is not at the start of one of the doctor's slots";
    }
    return "?";
}
