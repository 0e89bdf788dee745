/*
 * test_reminder.c — which reminder an appointment is due for
 * (domain/reminder.c): only the nearest lead whose window has opened, none
 * once the appointment has begun, and none for a lead whose window was
 * already open when the appointment was booked.
 */
#include "domain/reminder.h"
#include "unit.h"

static const int64_t S = 1796112000; /* start: 2026-12-01T08:00Z */
#define H 3600

static const int leads[] = {24, 2};
static const int leads_ascending[] = {2, 24};

/* The lead due at `now` for an appointment booked at `booked`, checked with
 * both orders of the leads; -1 when the two orders disagree. */
static int due(int64_t booked, int64_t now)
{
    int a = reminder_due(leads, 2, S, booked, now);
    int b = reminder_due(leads_ascending, 2, S, booked, now);
    return a == b ? a : -1;
}

static void test_booked_well_ahead(void)
{
    const int64_t booked = S - 3 * 86400;
    CHECK_EQ_INT(due(booked, booked), 0);
    CHECK_EQ_INT(due(booked, S - 30 * H), 0);
    CHECK_EQ_INT(due(booked, S - 24 * H - 1), 0);
    CHECK_EQ_INT(due(booked, S - 24 * H), 24); /* exactly when the window opens */
    CHECK_EQ_INT(due(booked, S - 23 * H), 24);
    CHECK_EQ_INT(due(booked, S - 2 * H - 1), 24);
    CHECK_EQ_INT(due(booked, S - 2 * H), 2);
    CHECK_EQ_INT(due(booked, S - 1 * H), 2);
    CHECK_EQ_INT(due(booked, S - 1), 2);
    CHECK_EQ_INT(due(booked, S), 0); /* at the start: too late */
    CHECK_EQ_INT(due(booked, S + 1), 0);
    CHECK_EQ_INT(due(booked, S + 5 * H), 0);
}

static void test_booked_inside_a_window(void)
{
    /* booked 10 hours ahead: inside the 24-hour window, not the 2-hour one */
    const int64_t b10 = S - 10 * H;
    CHECK_EQ_INT(due(b10, b10), 0);
    CHECK_EQ_INT(due(b10, S - 9 * H), 0);
    CHECK_EQ_INT(due(b10, S - 2 * H - 1), 0);
    CHECK_EQ_INT(due(b10, S - 2 * H), 2);
    CHECK_EQ_INT(due(b10, S - 1 * H), 2);
    CHECK_EQ_INT(due(b10, S), 0);

    /* booked an hour ahead: inside both windows, so no reminder at all */
    const int64_t b1 = S - 1 * H;
    CHECK_EQ_INT(due(b1, b1), 0);
    CHECK_EQ_INT(due(b1, S - 30 * 60), 0);
    CHECK_EQ_INT(due(b1, S - 1), 0);

    /* booked a second before the 24-hour window opens: it gets that reminder */
    const int64_t before = S - 24 * H - 1;
    CHECK_EQ_INT(due(before, S - 24 * H), 24);
    CHECK_EQ_INT(due(before, S - 2 * H), 2);
}

static void test_booked_as_the_window_opens(void)
{
    /* The window of a lead opens at start - lead (reminder_due counts it from
     * `now >= start - lead`), so an appointment booked at exactly T-24h was
     * booked inside the 24-hour window: reminder.h says such a booking gets
     * no reminder for that lead ("the patient has just been told"), and the
     * 24-hour reminder would go out in the same second as the confirmation. */
    const int64_t b = S - 24 * H;
    CHECK_EQ_INT(due(b, b), 0);
    CHECK_EQ_INT(due(b, S - 23 * H), 0);
    CHECK_EQ_INT(due(b, S - 2 * H), 2); /* the 2-hour one still comes */

    /* the same at the 2-hour boundary */
    const int64_t b2 = S - 2 * H;
    CHECK_EQ_INT(due(b2, b2), 0);
    CHECK_EQ_INT(due(b2, S - 1 * H), 0);
}

static void test_box_was_off(void)
{
    /* off from T-30h to T-1h: on waking only the 2-hour lead is due */
    const int64_t booked = S - 3 * 86400;
    CHECK_EQ_INT(due(booked, S - 1 * H), 2);
    /* off from T-30h to T-20h: the 24-hour one is still the nearest */
    CHECK_EQ_INT(due(booked, S - 20 * H), 24);
}

static void test_other_lead_lists(void)
{
    const int64_t booked = S - 10 * 86400;
    const int none[] = {24};
    CHECK_EQ_INT(reminder_due(none, 0, S, booked, S - 1 * H), 0);   /* empty list */
    CHECK_EQ_INT(reminder_due(none, 0, S, booked, S - 30 * H), 0);
    CHECK_EQ_INT(reminder_due(none, 1, S, booked, S - 1 * H), 24);  /* a single lead */
    CHECK_EQ_INT(reminder_due(none, 1, S, booked, S - 25 * H), 0);

    const int three[] = {2, 168, 24};
    CHECK_EQ_INT(reminder_due(three, 3, S, booked, S - 169 * H), 0);
    CHECK_EQ_INT(reminder_due(three, 3, S, booked, S - 168 * H), 168);
    CHECK_EQ_INT(reminder_due(three, 3, S, booked, S - 30 * H), 168);
    CHECK_EQ_INT(reminder_due(three, 3, S, booked, S - 24 * H), 24);
    CHECK_EQ_INT(reminder_due(three, 3, S, booked, S - 90 * 60), 2);
    /* booked 3 days ahead: inside the week's window, before the others */
    CHECK_EQ_INT(reminder_due(three, 3, S, S - 72 * H, S - 30 * H), 0);
    CHECK_EQ_INT(reminder_due(three, 3, S, S - 72 * H, S - 24 * H), 24);

    /* leads that are not positive are ignored */
    const int odd[] = {0, -3, 2};
    CHECK_EQ_INT(reminder_due(odd, 3, S, booked, S - 1 * H), 2);
    CHECK_EQ_INT(reminder_due(odd, 3, S, booked, S - 3 * H), 0);
}

int main(void)
{
    RUN(test_booked_well_ahead);
    RUN(test_booked_inside_a_window);
    RUN(test_booked_as_the_window_opens);
    RUN(test_box_was_off);
    RUN(test_other_lead_lists);
    return unit_summary();
}
