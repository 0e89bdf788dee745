/*
 * test_slots.c — working periods and free slots (domain/slots.c), with the
 * DST days of Europe/Berlin and America/New_York, exceptions, durations that
 * span several slots and the past. Expected instants were computed
 * independently with Python's zoneinfo.
 */
#include <stdlib.h>

#include "domain/slots.h"
#include "unit.h"

#define H 3600
static const int64_t NOW = 1764547200; /* 2025-12-01T00:00Z: everything below is later */

static schedule_t sunday_night(int slot_minutes, sched_weekly_t *w)
{
    *w = (sched_weekly_t){7, 0, 5 * 60}; /* Sundays 00:00-05:00 */
    return (schedule_t){.slot_minutes = slot_minutes, .weekly = w, .nweekly = 1};
}

static long slots_of_day(const schedule_t *s, const char *zone, int64_t from, interval_t **out)
{
    return slots_find(s, tz_get(zone), NULL, 0, from, from + 24 * H, s->slot_minutes, NOW, 100,
                      out);
}

static void test_berlin_spring_forward_day_has_no_two_oclock(void)
{
    sched_weekly_t w;
    schedule_t s = sunday_night(60, &w);
    interval_t *v = NULL;
    /* 2027-03-28 00:00 CET = 1806188400 ... 05:00 CEST = 1806202800: 4 hours */
    long n = slots_of_day(&s, "Europe/Berlin", 1806188400 - 6 * H, &v);
    CHECK_EQ_INT(n, 4);
    CHECK_EQ_INT(v[0].start, 1806188400);          /* 00:00+01:00 */
    CHECK_EQ_INT(v[1].start, 1806188400 + H);      /* 01:00+01:00 */
    CHECK_EQ_INT(v[2].start, 1806188400 + 2 * H);  /* 03:00+02:00 */
    CHECK_EQ_INT(v[3].end, 1806202800);            /* ends 05:00+02:00 */
    free(v);
}

static void test_berlin_fall_back_day_has_two_two_oclocks(void)
{
    sched_weekly_t w;
    schedule_t s = sunday_night(60, &w);
    interval_t *v = NULL;
    /* 2027-10-31 00:00 CEST = 1824933600 ... 05:00 CET = 1824955200: 6 hours */
    long n = slots_of_day(&s, "Europe/Berlin", 1824933600 - 6 * H, &v);
    CHECK_EQ_INT(n, 6);
    CHECK_EQ_INT(v[0].start, 1824933600);
    CHECK_EQ_INT(v[2].start, 1824933600 + 2 * H); /* 02:00+02:00 */
    CHECK_EQ_INT(v[3].start, 1824933600 + 3 * H); /* 02:00+01:00 */
    CHECK_EQ_INT(v[5].end, 1824955200);
    free(v);
}

static void test_new_york_dst_days(void)
{
    sched_weekly_t w;
    schedule_t s = sunday_night(30, &w);
    interval_t *v = NULL;
    /* 2027-03-14: 00:00 EST = 1805000400 .. 05:00 EDT = 1805014800, 4 h = 8 slots */
    long n = slots_of_day(&s, "America/New_York", 1805000400 - 2 * H, &v);
    CHECK_EQ_INT(n, 8);
    CHECK_EQ_INT(v[0].start, 1805000400);
    CHECK_EQ_INT(v[7].end, 1805014800);
    free(v);
    /* 2027-11-07: 00:00 EDT = 1825560000 .. 05:00 EST = 1825581600, 6 h = 12 slots */
    n = slots_of_day(&s, "America/New_York", 1825560000 - 2 * H, &v);
    CHECK_EQ_INT(n, 12);
    CHECK_EQ_INT(v[0].start, 1825560000);
    CHECK_EQ_INT(v[11].end, 1825581600);
    free(v);
}

static void test_hours_starting_in_the_gap_move_forward(void)
{
    /* Sundays 02:30-04:00 in Berlin: on 2027-03-28 02:30 does not exist and
     * means 03:30 CEST (1806197400); the day has one 30-minute slot. */
    sched_weekly_t w = {7, 150, 240};
    schedule_t s = {.slot_minutes = 30, .weekly = &w, .nweekly = 1};
    interval_t *v = NULL;
    long n = slots_of_day(&s, "Europe/Berlin", 1806188400 - 6 * H, &v);
    CHECK_EQ_INT(n, 1);
    CHECK_EQ_INT(v[0].start, 1806197400);
    CHECK_EQ_INT(v[0].end, 1806199200);
    free(v);
}

static const int64_t DEC1_0900 = 1796112000; /* 2026-12-01T09:00+01:00, a Tuesday */

static schedule_t weekdays(sched_weekly_t w[5], sched_exception_t *e, size_t ne)
{
    for (int i = 0; i < 5; i++)
        w[i] = (sched_weekly_t){i + 1, 9 * 60, 12 * 60};
    return (schedule_t){.slot_minutes = 15, .weekly = w, .nweekly = 5, .exceptions = e,
                        .nexceptions = ne};
}

static void test_exceptions_close_or_replace_hours(void)
{
    sched_weekly_t w[5];
    sched_exception_t e[2] = {{2026, 12, 25, true, 0, 0},            /* Friday closed */
                              {2026, 12, 24, false, 10 * 60, 11 * 60}}; /* Thursday 10-11 */
    schedule_t s = weekdays(w, e, 2);
    const tz_t *tz = tz_get("Europe/Berlin");
    interval_t *p = NULL;
    int64_t dec24_0000 = DEC1_0900 + 23 * 86400 - 9 * H;
    long n = slots_periods(&s, tz, dec24_0000, dec24_0000 + 2 * 86400, &p);
    CHECK_EQ_INT(n, 1);
    CHECK_EQ_INT(p[0].start, dec24_0000 + 10 * H);
    CHECK_EQ_INT(p[0].end, dec24_0000 + 11 * H);
    free(p);
    CHECK_EQ_INT(slots_check(&s, tz, dec24_0000 + 24 * H + 9 * H, 15, NOW), SLOT_OUTSIDE_HOURS);
    CHECK_EQ_INT(slots_check(&s, tz, dec24_0000 + 9 * H, 15, NOW), SLOT_OUTSIDE_HOURS);
    CHECK_EQ_INT(slots_check(&s, tz, dec24_0000 + 10 * H + 45 * 60, 15, NOW), SLOT_OK);
}

static void test_durations_span_slots(void)
{
    sched_weekly_t w[5];
    schedule_t s = weekdays(w, NULL, 0);
    const tz_t *tz = tz_get("Europe/Berlin");
    CHECK_EQ_INT(slots_round_duration(20, 15), 30);
    CHECK_EQ_INT(slots_round_duration(15, 15), 15);
    CHECK_EQ_INT(slots_round_duration(1, 15), 15);
    CHECK_EQ_INT(slots_round_duration(0, 15), 0);
    CHECK_EQ_INT(slots_round_duration(481, 15), 0);
    CHECK_EQ_INT(slots_round_duration(475, 20), 480);
    CHECK_EQ_INT(slots_check(&s, tz, DEC1_0900, 180, NOW), SLOT_OK);           /* 09-12 */
    CHECK_EQ_INT(slots_check(&s, tz, DEC1_0900 + 15 * 60, 180, NOW), SLOT_OUTSIDE_HOURS);
    CHECK_EQ_INT(slots_check(&s, tz, DEC1_0900 + 5 * 60, 15, NOW), SLOT_OFF_GRID);
    CHECK_EQ_INT(slots_check(&s, tz, DEC1_0900, 20, NOW), SLOT_BAD_DURATION);  /* not rounded */
    CHECK_EQ_INT(slots_check(&s, tz, DEC1_0900 - 15 * 60, 15, NOW), SLOT_OUTSIDE_HOURS);
    CHECK_EQ_INT(slots_check(&s, tz, DEC1_0900, 15, DEC1_0900 + 1), SLOT_IN_PAST);
    CHECK_EQ_INT(slots_check(&s, tz, DEC1_0900, 15, DEC1_0900), SLOT_OK);

    /* A 45-minute search skips a busy 10:00-10:15 and never runs past 12:00. */
    interval_t busy = {DEC1_0900 + H, DEC1_0900 + H + 15 * 60}, *v = NULL;
    long n = slots_find(&s, tz, &busy, 1, DEC1_0900, DEC1_0900 + 3 * H, 45, NOW, 100, &v);
    /* starts 09:00, 09:15 (ends 10:00), then 10:15 .. 11:15 */
    CHECK_EQ_INT(n, 7);
    CHECK_EQ_INT(v[1].start, DEC1_0900 + 15 * 60);
    CHECK_EQ_INT(v[2].start, DEC1_0900 + H + 15 * 60);
    CHECK_EQ_INT(v[n - 1].end, DEC1_0900 + 3 * H);
    free(v);
}

static void test_nothing_in_the_past_and_limits(void)
{
    sched_weekly_t w[5];
    schedule_t s = weekdays(w, NULL, 0);
    const tz_t *tz = tz_get("Europe/Berlin");
    interval_t *v = NULL;
    /* now is 10:07: the first slot offered is 10:15 */
    long n = slots_find(&s, tz, NULL, 0, DEC1_0900, DEC1_0900 + 3 * H, 15, DEC1_0900 + 67 * 60,
                        2, &v);
    CHECK_EQ_INT(n, 2);
    CHECK_EQ_INT(v[0].start, DEC1_0900 + H + 15 * 60);
    free(v);
    n = slots_find(&s, tz, NULL, 0, DEC1_0900, DEC1_0900 + 3 * H, 15, DEC1_0900 + 4 * H, 10, &v);
    CHECK_EQ_INT(n, 0);
    CHECK(v == NULL);
}

static void test_round_the_clock_hours_merge_across_midnight(void)
{
    sched_weekly_t w[7];
    for (int i = 0; i < 7; i++)
        w[i] = (sched_weekly_t){i + 1, 0, 24 * 60};
    schedule_t s = {.slot_minutes = 60, .weekly = w, .nweekly = 7};
    const tz_t *tz = tz_get("UTC");
    int64_t midnight = DEC1_0900 + 15 * H; /* 2026-12-02T00:00Z */
    CHECK_EQ_INT(slots_check(&s, tz, midnight - H, 120, NOW), SLOT_OK);
    interval_t *p = NULL;
    CHECK_EQ_INT(slots_periods(&s, tz, midnight - 5 * H, midnight + 5 * H, &p), 1);
    free(p);
}

/* Issue 9: a slot that starts before `to` but runs past it must not overlap a
 * booking that starts at or after `to` (the caller passes such bookings). */
static void test_slots_running_past_to_respect_later_bookings(void)
{
    sched_weekly_t w[2] = {{1, 22 * 60, 24 * 60}, {2, 0, 2 * 60}}; /* Mon 22-24, Tue 0-2 */
    schedule_t s = {.slot_minutes = 15, .weekly = w, .nweekly = 2};
    const tz_t *tz = tz_get("Europe/Berlin");
    int64_t tue0 = DEC1_0900 - 9 * H; /* 2026-12-01T00:00+01:00, a Tuesday */
    interval_t busy = {tue0, tue0 + 15 * 60}, *v = NULL;
    /* from Monday 00:00 to Tuesday 00:00 (the end of Monday), 60 minutes */
    long n = slots_find(&s, tz, &busy, 1, tue0 - 24 * H, tue0, 60, NOW, 100, &v);
    CHECK_EQ_INT(n, 5); /* 22:00 .. 23:00; 23:15-23:45 overlap the booking */
    CHECK_EQ_INT(v[0].start, tue0 - 2 * H);
    CHECK_EQ_INT(v[n - 1].start, tue0 - H);
    CHECK_EQ_INT(v[n - 1].end, tue0);
    free(v);
    /* daytime: 09:00-09:50 with a booking at 10:00 offers only 09:00 */
    sched_weekly_t day = {2, 8 * 60, 18 * 60};
    schedule_t d = {.slot_minutes = 15, .weekly = &day, .nweekly = 1};
    busy = (interval_t){DEC1_0900 + H, DEC1_0900 + H + 15 * 60};
    n = slots_find(&d, tz, &busy, 1, DEC1_0900, DEC1_0900 + 50 * 60, 60, NOW, 100, &v);
    CHECK_EQ_INT(n, 1);
    CHECK_EQ_INT(v[0].start, DEC1_0900);
    free(v);
}

/* Round-the-clock hours never start, so where their slot grid starts must
 * not depend on the range asked for: every slot offered for any range can be
 * booked (25 minutes does not divide a day; Berlin's DST shift is 60 minutes,
 * Lord Howe's 30, neither a multiple of 45). */
static void test_never_ending_hours_have_one_grid(void)
{
    static const struct {
        const char *zone;
        int slot;
    } cases[] = {{"UTC", 25}, {"Europe/Berlin", 45}, {"Australia/Lord_Howe", 60}};
    sched_weekly_t w[7];
    for (int i = 0; i < 7; i++)
        w[i] = (sched_weekly_t){i + 1, 0, 24 * 60};
    /* 2027-03-20 .. 2027-04-10 spans Berlin's spring and Lord Howe's autumn change */
    int64_t base = 1805500800;
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        schedule_t s = {.slot_minutes = cases[c].slot, .weekly = w, .nweekly = 7};
        const tz_t *tz = tz_get(cases[c].zone);
        for (int day = 0; day < 21; day++) {
            interval_t *v = NULL;
            int64_t from = base + day * 86400 + day * 3 * 60 * 60 % 86400;
            long n = slots_find(&s, tz, NULL, 0, from, from + 6 * H, cases[c].slot, NOW, 100, &v);
            CHECK(n > 0);
            for (long i = 0; i < n; i++)
                CHECK_EQ_INT(slots_check(&s, tz, v[i].start, cases[c].slot, NOW), SLOT_OK);
            free(v);
        }
    }
}

int main(void)
{
    RUN(test_berlin_spring_forward_day_has_no_two_oclock);
    RUN(test_berlin_fall_back_day_has_two_two_oclocks);
    RUN(test_new_york_dst_days);
    RUN(test_hours_starting_in_the_gap_move_forward);
    RUN(test_exceptions_close_or_replace_hours);
    RUN(test_durations_span_slots);
    RUN(test_nothing_in_the_past_and_limits);
    RUN(test_round_the_clock_hours_merge_across_midnight);
    RUN(test_slots_running_past_to_respect_later_bookings);
    RUN(test_never_ending_hours_have_one_grid);
    tz_cache_clear();
    return unit_summary();
}
