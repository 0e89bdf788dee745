/*
 * test_policy.c — the outbox's rules (outbox/policy.c): the back-off with
 * equal jitter, what each send outcome does to a message (sent, failed with
 * a next attempt, dead; Retry-After; outages that never count), and when a
 * message's purpose has passed.
 */
#include <limits.h>
#include <string.h>

#include "outbox/policy.h"
#include "unit.h"

#define NOW ((int64_t)1796112000) /* 2026-12-01T08:00Z */
#define HIGH 0.999999             /* a draw just below 1 */

/* 5 s doubling per attempt, capped; written out independently of the code. */
static const struct {
    int attempt, max, d;
} delays[] = {
    {1, 900, 5},     {2, 900, 10},    {3, 900, 20},     {4, 900, 40},
    {5, 900, 80},    {6, 900, 160},   {7, 900, 320},    {8, 900, 640},
    {9, 900, 900},   {10, 900, 900},  {30, 900, 900},   {1, 3, 3},
    {2, 7, 7},       {11, 86400, 5120}, {12, 86400, 10240}, {15, 86400, 81920},
    {16, 86400, 86400}, {1000, 86400, 86400},
};

static void test_backoff_doubles_and_caps(void)
{
    for (size_t i = 0; i < sizeof delays / sizeof delays[0]; i++) {
        int d = delays[i].d, lo = (d + 1) / 2;
        CHECK_EQ_INT(policy_backoff(delays[i].attempt, delays[i].max, 0.0), lo);
        CHECK_EQ_INT(policy_backoff(delays[i].attempt, delays[i].max, HIGH), d);
    }
}

static void test_backoff_jitter_in_range_and_monotone(void)
{
    for (int attempt = 1; attempt <= 12; attempt++) {
        int d = 5 << (attempt - 1);
        if (d > 900)
            d = 900;
        int lo = (d + 1) / 2, prev = 0, bad = 0, seen_lo = 0, seen_hi = 0;
        for (int k = 0; k < 1000; k++) {
            int b = policy_backoff(attempt, 900, k / 1000.0);
            if (b < lo || b > d || b < prev)
                bad++;
            seen_lo |= b == lo;
            seen_hi |= b == d;
            prev = b;
        }
        CHECK_EQ_INT(bad, 0);
        CHECK(seen_lo);
        CHECK(seen_hi);
    }
    /* the middle of the draw lands in the middle of the range */
    int mid = policy_backoff(8, 900, 0.5); /* d = 640: [320, 640] */
    CHECK(mid >= 470 && mid <= 490);
    /* draws outside [0, 1) are not trusted, but stay in range */
    CHECK_EQ_INT(policy_backoff(3, 900, -0.5), 10);
    int b = policy_backoff(3, 900, 1.0);
    CHECK(b >= 10 && b <= 20);
    b = policy_backoff(3, 900, 7.0);
    CHECK(b >= 10 && b <= 20);
}

static void test_backoff_never_below_one_and_no_overflow(void)
{
    /* cap 1: always exactly 1 */
    CHECK_EQ_INT(policy_backoff(1, 1, 0.0), 1);
    CHECK_EQ_INT(policy_backoff(1, 1, HIGH), 1);
    CHECK_EQ_INT(policy_backoff(INT_MAX, 1, HIGH), 1);
    /* cap 2: 1 or 2 */
    CHECK_EQ_INT(policy_backoff(5, 2, 0.0), 1);
    CHECK_EQ_INT(policy_backoff(5, 2, HIGH), 2);
    /* a nonsensical cap still gives at least a second */
    CHECK(policy_backoff(1, 0, 0.0) >= 1);
    CHECK(policy_backoff(3, -5, HIGH) >= 1);
    /* huge attempt numbers do not overflow the doubling */
    CHECK_EQ_INT(policy_backoff(INT_MAX, 86400, 0.0), 43200);
    CHECK_EQ_INT(policy_backoff(INT_MAX, 86400, HIGH), 86400);
    CHECK_EQ_INT(policy_backoff(100, 900, HIGH), 900);
    int b = policy_backoff(INT_MAX, INT_MAX, HIGH);
    CHECK(b >= INT_MAX / 2 && b <= INT_MAX);
    b = policy_backoff(64, INT_MAX, 0.0);
    CHECK(b >= INT_MAX / 2);
}

static send_result result(enum send_outcome o, int retry_after)
{
    send_result r;
    memset(&r, 0, sizeof r);
    r.outcome = o;
    r.retry_after = retry_after;
    return r;
}

static void test_ok_is_sent(void)
{
    send_result r = result(SEND_OK, 0);
    struct policy_decision d = policy_after_attempt(&r, 0, 12, 900, 0, NOW, 0.3);
    CHECK_EQ_STR(d.status, "sent");
    CHECK_EQ_INT(d.attempts, 1);
    CHECK_EQ_INT(d.next_attempt_at, 0);

    r = result(SEND_OK, 600); /* a Retry-After on success means nothing */
    d = policy_after_attempt(&r, 11, 12, 900, 0, NOW, 0.3);
    CHECK_EQ_STR(d.status, "sent");
    CHECK_EQ_INT(d.attempts, 12);
    CHECK_EQ_INT(d.next_attempt_at, 0);
}

static void test_permanent_is_dead_at_once(void)
{
    send_result r = result(SEND_PERMANENT, 0);
    struct policy_decision d = policy_after_attempt(&r, 0, 12, 900, 0, NOW, 0.3);
    CHECK_EQ_STR(d.status, "dead");
    CHECK_EQ_INT(d.attempts, 1);
    CHECK_EQ_INT(d.next_attempt_at, 0);

    r = result(SEND_PERMANENT, 120);
    d = policy_after_attempt(&r, 4, 12, 900, 3, NOW, 0.3);
    CHECK_EQ_STR(d.status, "dead");
    CHECK_EQ_INT(d.attempts, 5);
    CHECK_EQ_INT(d.next_attempt_at, 0);
}

static void test_transient_counts_and_backs_off(void)
{
    send_result r = result(SEND_TRANSIENT, 0);
    struct policy_decision d = policy_after_attempt(&r, 0, 12, 900, 0, NOW, 0.0);
    CHECK_EQ_STR(d.status, "failed");
    CHECK_EQ_INT(d.attempts, 1);
    CHECK_EQ_INT(d.next_attempt_at, NOW + 3); /* backoff(1): [3, 5] */

    d = policy_after_attempt(&r, 0, 12, 900, 0, NOW, HIGH);
    CHECK_EQ_INT(d.next_attempt_at, NOW + 5);

    d = policy_after_attempt(&r, 4, 12, 900, 0, NOW, 0.0); /* 5th: backoff(5) = [40, 80] */
    CHECK_EQ_STR(d.status, "failed");
    CHECK_EQ_INT(d.attempts, 5);
    CHECK_EQ_INT(d.next_attempt_at, NOW + 40);

    for (int a = 0; a < 11; a++) {
        for (int k = 0; k < 10; k++) {
            double r01 = k / 10.0;
            d = policy_after_attempt(&r, a, 12, 900, 0, NOW, r01);
            CHECK_EQ_INT(d.next_attempt_at, NOW + policy_backoff(a + 1, 900, r01));
        }
    }
    /* the cap applies */
    d = policy_after_attempt(&r, 10, 12, 900, 0, NOW, HIGH);
    CHECK_EQ_STR(d.status, "failed");
    CHECK_EQ_INT(d.attempts, 11);
    CHECK_EQ_INT(d.next_attempt_at, NOW + 900);
    /* a transient failure resets nothing about outages: outage_streak is ignored */
    d = policy_after_attempt(&r, 0, 12, 900, 50, NOW, 0.0);
    CHECK_EQ_INT(d.next_attempt_at, NOW + 3);
}

static void test_transient_dead_after_max_attempts(void)
{
    send_result r = result(SEND_TRANSIENT, 0);
    struct policy_decision d = policy_after_attempt(&r, 10, 12, 900, 0, NOW, 0.5);
    CHECK_EQ_STR(d.status, "failed"); /* 11 < 12 */
    CHECK_EQ_INT(d.attempts, 11);

    d = policy_after_attempt(&r, 11, 12, 900, 0, NOW, 0.5);
    CHECK_EQ_STR(d.status, "dead"); /* 12 >= 12 */
    CHECK_EQ_INT(d.attempts, 12);
    CHECK_EQ_INT(d.next_attempt_at, 0);

    d = policy_after_attempt(&r, 0, 1, 900, 0, NOW, 0.5);
    CHECK_EQ_STR(d.status, "dead"); /* max_attempts 1: one try only */
    CHECK_EQ_INT(d.attempts, 1);
    CHECK_EQ_INT(d.next_attempt_at, 0);

    r = result(SEND_TRANSIENT, 3600); /* Retry-After does not revive it */
    d = policy_after_attempt(&r, 11, 12, 900, 0, NOW, 0.5);
    CHECK_EQ_STR(d.status, "dead");
    CHECK_EQ_INT(d.next_attempt_at, 0);
}

static void test_retry_after(void)
{
    /* longer than the back-off: it wins */
    send_result r = result(SEND_TRANSIENT, 120);
    struct policy_decision d = policy_after_attempt(&r, 0, 12, 900, 0, NOW, HIGH);
    CHECK_EQ_STR(d.status, "failed");
    CHECK_EQ_INT(d.attempts, 1);
    CHECK_EQ_INT(d.next_attempt_at, NOW + 121); /* a second's margin: NOW is truncated */

    r = result(SEND_TRANSIENT, 3600); /* longer than the cap too */
    d = policy_after_attempt(&r, 10, 12, 900, 0, NOW, HIGH);
    CHECK_EQ_INT(d.next_attempt_at, NOW + 3601);

    /* shorter than the back-off: the back-off stands */
    r = result(SEND_TRANSIENT, 2);
    d = policy_after_attempt(&r, 0, 12, 900, 0, NOW, 0.0); /* backoff 3 */
    CHECK_EQ_INT(d.next_attempt_at, NOW + 3);
    r = result(SEND_TRANSIENT, 30);
    d = policy_after_attempt(&r, 5, 12, 900, 0, NOW, 0.0); /* backoff(6) = 80 */
    CHECK_EQ_INT(d.next_attempt_at, NOW + 80);
    r = result(SEND_TRANSIENT, 80); /* equal: Retry-After, with its margin */
    d = policy_after_attempt(&r, 5, 12, 900, 0, NOW, 0.0);
    CHECK_EQ_INT(d.next_attempt_at, NOW + 81);

    /* bounded at a day (plus the second's margin) */
    r = result(SEND_TRANSIENT, 86400);
    d = policy_after_attempt(&r, 0, 12, 900, 0, NOW, 0.5);
    CHECK_EQ_INT(d.next_attempt_at, NOW + 86401);
    r = result(SEND_TRANSIENT, 86401);
    d = policy_after_attempt(&r, 0, 12, 900, 0, NOW, 0.5);
    CHECK_EQ_INT(d.next_attempt_at, NOW + 86401);
    r = result(SEND_TRANSIENT, INT_MAX);
    d = policy_after_attempt(&r, 0, 12, 86400, 0, NOW, 0.5);
    CHECK_EQ_INT(d.next_attempt_at, NOW + 86401);
    /* with the largest cap the config allows, a day is never shorter than the back-off */
    r = result(SEND_TRANSIENT, 200000);
    d = policy_after_attempt(&r, 10, 12, 86400, 0, NOW, HIGH);
    CHECK_EQ_INT(d.next_attempt_at, NOW + 86401);
}

static void test_unreachable_never_counts(void)
{
    send_result r = result(SEND_UNREACHABLE, 0);
    struct policy_decision d = policy_after_attempt(&r, 0, 12, 900, 1, NOW, 0.0);
    CHECK_EQ_STR(d.status, "failed");
    CHECK_EQ_INT(d.attempts, 0);
    CHECK_EQ_INT(d.next_attempt_at, NOW + 3);

    /* a message one attempt from dying survives an outage of any length */
    int dead = 0, counted = 0, bad_delay = 0;
    for (int streak = 1; streak <= 5000; streak++) {
        d = policy_after_attempt(&r, 11, 12, 900, streak, NOW, (streak % 97) / 97.0);
        dead += strcmp(d.status, "failed") != 0;
        counted += d.attempts != 11;
        int64_t wait = d.next_attempt_at - NOW;
        int want = policy_backoff(streak, 900, (streak % 97) / 97.0);
        bad_delay += wait != want || wait < 1 || wait > 900;
    }
    CHECK_EQ_INT(dead, 0);
    CHECK_EQ_INT(counted, 0);
    CHECK_EQ_INT(bad_delay, 0);

    /* even at or past max_attempts (counted earlier) it stays failed */
    d = policy_after_attempt(&r, 12, 12, 900, 3, NOW, 0.0);
    CHECK_EQ_STR(d.status, "failed");
    CHECK_EQ_INT(d.attempts, 12);

    /* the delay grows with the outage streak ... */
    CHECK_EQ_INT(policy_after_attempt(&r, 2, 12, 900, 1, NOW, 0.0).next_attempt_at, NOW + 3);
    CHECK_EQ_INT(policy_after_attempt(&r, 2, 12, 900, 2, NOW, 0.0).next_attempt_at, NOW + 5);
    CHECK_EQ_INT(policy_after_attempt(&r, 2, 12, 900, 3, NOW, 0.0).next_attempt_at, NOW + 10);
    CHECK_EQ_INT(policy_after_attempt(&r, 2, 12, 900, 6, NOW, 0.0).next_attempt_at, NOW + 80);
    CHECK_EQ_INT(policy_after_attempt(&r, 2, 12, 900, 6, NOW, HIGH).next_attempt_at, NOW + 160);
    /* ... not with the message's own attempts ... */
    CHECK_EQ_INT(policy_after_attempt(&r, 9, 12, 900, 1, NOW, HIGH).next_attempt_at, NOW + 5);
    /* ... and is capped */
    CHECK_EQ_INT(policy_after_attempt(&r, 2, 12, 900, 40, NOW, HIGH).next_attempt_at, NOW + 900);
    CHECK_EQ_INT(policy_after_attempt(&r, 2, 12, 900, 40, NOW, 0.0).next_attempt_at, NOW + 450);
    CHECK_EQ_INT(policy_after_attempt(&r, 2, 12, 900, INT_MAX, NOW, HIGH).next_attempt_at,
                 NOW + 900);
    /* a streak of 0 (not yet counted) is treated as the first */
    CHECK_EQ_INT(policy_after_attempt(&r, 2, 12, 900, 0, NOW, HIGH).next_attempt_at, NOW + 5);
}

static bool mentions(const char *why, const char *word)
{
    return why != NULL && strstr(why, word) != NULL;
}

static void test_purpose_offer_expired_or_used(void)
{
    const int64_t exp = NOW + 48 * 3600;
    const char *offers[] = {"no_show_offer", "reschedule_offer"};
    for (int i = 0; i < 2; i++) {
        const char *p = offers[i];
        CHECK(policy_purpose_passed(p, exp - 1, exp, "no_show", false) == NULL);
        CHECK(mentions(policy_purpose_passed(p, exp, exp, "no_show", false), "offer"));
        CHECK(mentions(policy_purpose_passed(p, exp + 3600, exp, "no_show", false), "offer"));
        CHECK(mentions(policy_purpose_passed(p, exp + 3600, exp, "no_show", false), "expired"));
        /* used: passed whatever the time */
        CHECK(mentions(policy_purpose_passed(p, NOW, exp, "no_show", true), "used"));
        CHECK(mentions(policy_purpose_passed(p, NOW, 0, "rescheduled", true), "offer"));
        /* expires_at 0: no deadline */
        CHECK(policy_purpose_passed(p, NOW + 400LL * 86400, 0, "no_show", false) == NULL);
    }
    /* an offer for an appointment in any state is still worth sending */
    CHECK(policy_purpose_passed("reschedule_offer", NOW, exp, "cancelled", false) == NULL);
    CHECK(policy_purpose_passed("reschedule_offer", NOW, exp, "", false) == NULL);
}

static void test_purpose_confirmation_and_reminders(void)
{
    const int64_t start = NOW + 3 * 86400;
    const char *purposes[] = {"confirmation", "reminder_24h", "reminder_2h"};
    const char *gone[] = {"cancelled", "no_show", "rescheduled"};
    for (int i = 0; i < 3; i++) {
        const char *p = purposes[i];
        CHECK(policy_purpose_passed(p, NOW, start, "booked", false) == NULL);
        CHECK(policy_purpose_passed(p, NOW, 0, "booked", false) == NULL);
        CHECK(policy_purpose_passed(p, NOW, start, "", false) == NULL); /* no appointment */
        /* offer_used means nothing for these */
        CHECK(policy_purpose_passed(p, NOW, start, "booked", true) == NULL);
        for (int k = 0; k < 3; k++) {
            const char *why = policy_purpose_passed(p, NOW, start, gone[k], false);
            CHECK(why != NULL && strlen(why) > 10);
            CHECK(mentions(why, "booked"));
        }
        /* the appointment began */
        const char *why = policy_purpose_passed(p, start, start, "booked", false);
        CHECK(mentions(why, "appointment"));
        CHECK(!mentions(why, "offer"));
    }
}

static void test_purpose_cancellation(void)
{
    const int64_t start = NOW + 3 * 86400;
    /* the appointment is cancelled: that is the point of the message */
    CHECK(policy_purpose_passed("cancellation", NOW, start, "cancelled", false) == NULL);
    CHECK(policy_purpose_passed("cancellation", start - 1, start, "cancelled", false) == NULL);
    /* after the start it is pointless */
    const char *why = policy_purpose_passed("cancellation", start, start, "cancelled", false);
    CHECK(why != NULL && strlen(why) > 10);
    CHECK(mentions(why, "appointment"));
    CHECK(policy_purpose_passed("cancellation", start + 86400, start, "cancelled", false) != NULL);
    /* no deadline: never passes */
    CHECK(policy_purpose_passed("cancellation", start + 86400, 0, "cancelled", false) == NULL);
}

int main(void)
{
    RUN(test_backoff_doubles_and_caps);
    RUN(test_backoff_jitter_in_range_and_monotone);
    RUN(test_backoff_never_below_one_and_no_overflow);
    RUN(test_ok_is_sent);
    RUN(test_permanent_is_dead_at_once);
    RUN(test_transient_counts_and_backs_off);
    RUN(test_transient_dead_after_max_attempts);
    RUN(test_retry_after);
    RUN(test_unreachable_never_counts);
    RUN(test_purpose_offer_expired_or_used);
    RUN(test_purpose_confirmation_and_reminders);
    RUN(test_purpose_cancellation);
    return unit_summary();
}
