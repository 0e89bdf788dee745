/*
 * test_domain.c — the appointment life cycle (domain/appointment.c) and the
 * clock guard that protects no-show detection (domain/clockguard.c).
 */
#include <string.h>

#include "domain/appointment.h"
#include "domain/clockguard.h"
#include "unit.h"

static const int64_t START = 1796112000; /* 2026-12-01T08:00Z */

static const char *to_after(const char *status, enum appt_action a, int64_t now)
{
    const char *to, *why;
    if (!appt_transition(status, a, START, 15, now, &to, &why)) {
        CHECK(why != NULL && strlen(why) > 10);
        return "REFUSED";
    }
    return to;
}

static void test_transitions(void)
{
    CHECK_EQ_STR(to_after("booked", APPT_CHECK_IN, START - 600), "checked_in");
    CHECK_EQ_STR(to_after("checked_in", APPT_COMPLETE, START), "completed");
    CHECK_EQ_STR(to_after("booked", APPT_COMPLETE, START), "REFUSED");
    CHECK_EQ_STR(to_after("booked", APPT_CANCEL, START), "cancelled");
    CHECK_EQ_STR(to_after("checked_in", APPT_CANCEL, START), "REFUSED");
    CHECK_EQ_STR(to_after("completed", APPT_CHECK_IN, START), "REFUSED");
    CHECK_EQ_STR(to_after("cancelled", APPT_CHECK_IN, START), "REFUSED");
    CHECK_EQ_STR(to_after("no_show", APPT_REBOOK, START), "rescheduled");
    CHECK_EQ_STR(to_after("cancelled", APPT_REBOOK, START), "rescheduled");
    CHECK_EQ_STR(to_after("booked", APPT_REBOOK, START), "rescheduled");
    CHECK_EQ_STR(to_after("checked_in", APPT_REBOOK, START), "REFUSED");
    CHECK_EQ_STR(to_after("rescheduled", APPT_REBOOK, START), "REFUSED");
    CHECK_EQ_STR(to_after("no_show", APPT_OFFER, START), "no_show");
    CHECK_EQ_STR(to_after("completed", APPT_OFFER, START), "REFUSED");
    /* a central booking whose time was taken: rebooked, offered or cancelled */
    CHECK_EQ_STR(to_after("conflict", APPT_REBOOK, START), "rescheduled");
    CHECK_EQ_STR(to_after("conflict", APPT_OFFER, START), "conflict");
    CHECK_EQ_STR(to_after("conflict", APPT_CANCEL, START), "cancelled");
    CHECK_EQ_STR(to_after("conflict", APPT_CHECK_IN, START), "REFUSED");
}

/* The paths the sync takes a central status change along: forward only. */
static void test_paths(void)
{
    enum appt_action steps[2];
    int n = -1;
    CHECK(appt_path("booked", "booked", steps, &n) && n == 0);
    CHECK(appt_path("booked", "cancelled", steps, &n) && n == 1 && steps[0] == APPT_CANCEL);
    CHECK(appt_path("booked", "completed", steps, &n) && n == 2 && steps[0] == APPT_CHECK_IN &&
          steps[1] == APPT_COMPLETE);
    CHECK(appt_path("conflict", "cancelled", steps, &n) && n == 1);
    /* a check-in is never undone by a cancel, a cancel never by a booking */
    CHECK(!appt_path("checked_in", "cancelled", steps, &n));
    CHECK(!appt_path("completed", "cancelled", steps, &n));
    CHECK(!appt_path("cancelled", "booked", steps, &n));
    CHECK(!appt_path("cancelled", "checked_in", steps, &n));
    CHECK(!appt_path("conflict", "booked", steps, &n));
    CHECK(!appt_path("booked", "rescheduled", steps, &n)); /* needs a new booking */
}

static void test_no_show_needs_grace_and_no_check_in(void)
{
    CHECK_EQ_STR(to_after("booked", APPT_NO_SHOW, START + 15 * 60 - 1), "REFUSED");
    CHECK_EQ_STR(to_after("booked", APPT_NO_SHOW, START + 15 * 60), "no_show");
    CHECK_EQ_STR(to_after("checked_in", APPT_NO_SHOW, START + 3600), "REFUSED");
    CHECK_EQ_STR(to_after("no_show", APPT_NO_SHOW, START + 3600), "REFUSED"); /* idempotent */
}

static void test_statuses(void)
{
    CHECK(appt_status_valid("booked"));
    CHECK(appt_status_valid("rescheduled"));
    CHECK(!appt_status_valid("Booked"));
    CHECK(!appt_status_valid(""));
    CHECK(!appt_status_valid(NULL));
    CHECK(appt_status_live("checked_in"));
    CHECK(!appt_status_live("no_show"));
    CHECK(appt_status_valid("conflict"));
    CHECK(!appt_status_live("conflict"));
}

#define HW 1796112000 /* last trusted time */

static void test_guard_at_start(void)
{
    clockguard_t g;
    clockguard_init(&g, HW, 72 * 3600, 300);
    CHECK(clockguard_observe(&g, HW + 3 * 3600, 10)); /* off for 3 hours: catch up */
    CHECK(!g.held);

    clockguard_init(&g, HW, 72 * 3600, 300);
    CHECK(!clockguard_observe(&g, HW - 365 * 86400, 10)); /* a year back */
    CHECK(g.held);
    CHECK(strstr(g.reason, "behind") != NULL);

    clockguard_init(&g, HW, 72 * 3600, 300);
    CHECK(!clockguard_observe(&g, HW + 30 * 86400, 10)); /* thirty days ahead */
    CHECK(strstr(g.reason, "catch-up") != NULL);
    clockguard_confirm(&g, HW + 30 * 86400, 10);
    CHECK(!g.held);
    CHECK(clockguard_observe(&g, HW + 30 * 86400 + 60, 70));

    clockguard_init(&g, 0, 72 * 3600, 300); /* fresh box: anything after 2024 */
    CHECK(clockguard_observe(&g, HW, 10));
    clockguard_init(&g, 0, 72 * 3600, 300);
    CHECK(!clockguard_observe(&g, 946684800, 10)); /* 2000-01-01: a flat RTC battery */
}

static void test_guard_while_running(void)
{
    clockguard_t g;
    clockguard_init(&g, HW, 72 * 3600, 300);
    CHECK(clockguard_observe(&g, HW + 100, 1000));
    CHECK(clockguard_observe(&g, HW + 110, 1010));
    CHECK(clockguard_observe(&g, HW + 110 + 250, 1010)); /* NTP slews a little: fine */
    CHECK(!clockguard_observe(&g, HW + 86400, 1020));    /* a day in 10 s */
    CHECK(strstr(g.reason, "ahead") != NULL);
    CHECK_EQ_INT(g.high_water, HW + 360);                /* not moved by the jump */
    CHECK(!clockguard_observe(&g, HW + 86400 + 10, 1030));
    CHECK(clockguard_observe(&g, HW + 380, 1030)); /* back where it should be */
    CHECK(!g.held);
    CHECK(!clockguard_observe(&g, HW - 3600, 1040)); /* an hour back */
    CHECK(strstr(g.reason, "back") != NULL);
}

int main(void)
{
    RUN(test_transitions);
    RUN(test_paths);
    RUN(test_no_show_needs_grace_and_no_check_in);
    RUN(test_statuses);
    RUN(test_guard_at_start);
    RUN(test_guard_while_running);
    return unit_summary();
}
