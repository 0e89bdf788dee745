/*
 * test_hlc.c — the hybrid logical clock (sync/hlc.h): monotonic on one
 * node, close to physical time, ordered after what it saw, ties broken by
 * node, far-future remote clocks clamped, and a text form that sorts like
 * the timestamps.
 */
#include <stdlib.h>

#include "sync/hlc.h"
#include "unit.h"

#define T0 1796112000000LL /* 2026-12-01T08:00:00Z in ms */

static void test_tick_follows_physical_time_and_never_goes_back(void)
{
    hlc_clock c;
    hlc_init(&c, "box-a");
    hlc_t a = hlc_tick(&c, T0);
    CHECK_EQ_INT(a.wall_ms, T0);
    CHECK_EQ_INT(a.counter, 0);
    hlc_t b = hlc_tick(&c, T0); /* same millisecond */
    CHECK_EQ_INT(b.wall_ms, T0);
    CHECK_EQ_INT(b.counter, 1);
    hlc_t d = hlc_tick(&c, T0 - 5000); /* the clock stepped back */
    CHECK(hlc_compare(&d, &b) > 0);
    CHECK_EQ_INT(d.wall_ms, T0);
    CHECK_EQ_INT(d.counter, 2);
    hlc_t e = hlc_tick(&c, T0 + 7);
    CHECK_EQ_INT(e.wall_ms, T0 + 7);
    CHECK_EQ_INT(e.counter, 0);
    CHECK_EQ_STR(e.node, "box-a");
}

static void test_observe_orders_after_the_remote(void)
{
    hlc_clock c;
    bool clamped = true;
    hlc_init(&c, "box-a");
    hlc_tick(&c, T0);
    hlc_t remote = {T0 + 2000, 5, "central"}; /* a peer 2 s ahead: plausible */
    hlc_t got = hlc_observe(&c, remote, T0, 60000, &clamped);
    CHECK(!clamped);
    CHECK_EQ_INT(got.wall_ms, T0 + 2000);
    hlc_t next = hlc_tick(&c, T0 + 1);
    CHECK(hlc_compare(&next, &remote) > 0);
    CHECK_EQ_INT(next.wall_ms, T0 + 2000);
    CHECK_EQ_INT(next.counter, 7); /* 5 + 1 on observe, + 1 on tick */

    /* an older remote does not move the clock back */
    hlc_t old = {T0 - 100000, 0, "central"};
    hlc_observe(&c, old, T0 + 2, 60000, NULL);
    hlc_t later = hlc_tick(&c, T0 + 3);
    CHECK(hlc_compare(&later, &next) > 0);

    /* physical time ahead of both: counter resets */
    hlc_observe(&c, old, T0 + 10000, 60000, NULL);
    CHECK_EQ_INT(c.last.wall_ms, T0 + 10000);
    CHECK_EQ_INT(c.last.counter, 0);
}

static void test_far_future_remote_is_clamped(void)
{
    hlc_clock c;
    bool clamped = false;
    hlc_init(&c, "box-a");
    hlc_t remote = {T0 + 365LL * 86400000, 3, "box-b"}; /* a year ahead */
    hlc_t got = hlc_observe(&c, remote, T0, 60000, &clamped);
    CHECK(clamped);
    CHECK_EQ_INT(got.wall_ms, T0 + 60000);
    CHECK_EQ_INT(got.counter, 0);
    CHECK_EQ_STR(got.node, "box-b");
    /* our clock moved at most max_skew ahead, not a year */
    CHECK(c.last.wall_ms <= T0 + 60000);
    /* and an edit made here a minute later wins over that one */
    hlc_t mine = hlc_tick(&c, T0 + 61000);
    CHECK(hlc_compare(&mine, &got) > 0);
}

static void test_ties_broken_by_node_the_same_way_everywhere(void)
{
    hlc_t a = {T0, 4, "box-a"}, b = {T0, 4, "central"};
    CHECK(hlc_compare(&a, &b) < 0);
    CHECK(hlc_compare(&b, &a) > 0);
    CHECK(hlc_compare(&a, &a) == 0);
    hlc_t c = {T0, 5, "box-a"};
    CHECK(hlc_compare(&c, &b) > 0);
}

static void test_text_form_round_trips_and_sorts(void)
{
    char x[HLC_TEXT_MAX], y[HLC_TEXT_MAX];
    hlc_t a = {T0, 4, "box-a"}, b = {T0 + 1, 0, "box-a"}, back;
    hlc_format(&a, x);
    CHECK_EQ_STR(x, "1796112000000-000004-box-a");
    CHECK(hlc_parse(x, &back));
    CHECK(hlc_compare(&back, &a) == 0);
    hlc_format(&b, y);
    CHECK(strcmp(x, y) < 0);
    CHECK(!hlc_parse("", &back));
    CHECK(!hlc_parse("1796112000000-00000x-box", &back));
    CHECK(!hlc_parse("1796112000000-000004-", &back));
    CHECK(!hlc_parse("179611200000-0000004-box", &back));
}

static void test_counter_overflow_carries(void)
{
    hlc_clock c;
    hlc_init(&c, "n");
    hlc_tick(&c, T0);
    c.last.counter = HLC_COUNTER_MAX;
    hlc_t t = hlc_tick(&c, T0);
    CHECK_EQ_INT(t.wall_ms, T0 + 1);
    CHECK_EQ_INT(t.counter, 0);
}

int main(void)
{
    RUN(test_tick_follows_physical_time_and_never_goes_back);
    RUN(test_observe_orders_after_the_remote);
    RUN(test_far_future_remote_is_clamped);
    RUN(test_ties_broken_by_node_the_same_way_everywhere);
    RUN(test_text_form_round_trips_and_sorts);
    RUN(test_counter_overflow_carries);
    return unit_summary();
}
