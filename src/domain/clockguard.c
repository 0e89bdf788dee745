/* clockguard.c — see clockguard.h. */
#include "domain/clockguard.h"

#include <stdio.h>

void clockguard_init(clockguard_t *g, int64_t high_water, int64_t max_catchup,
                     int64_t tolerance)
{
    *g = (clockguard_t){.high_water = high_water, .max_catchup = max_catchup,
                        .tolerance = tolerance};
}

static void trust(clockguard_t *g, int64_t wall, int64_t mono)
{
    g->held = false;
    g->reason[0] = '\0';
    g->running = true;
    g->ref_wall = wall;
    g->ref_mono = mono;
    if (wall > g->high_water)
        g->high_water = wall;
}

static bool hold(clockguard_t *g, const char *what, int64_t by)
{
    g->held = true;
    snprintf(g->reason, sizeof g->reason, "%s by %lld s", what, (long long)by);
    return false;
}

bool clockguard_observe(clockguard_t *g, int64_t wall, int64_t mono)
{
    if (wall < CLOCKGUARD_FLOOR) {
        g->held = true;
        snprintf(g->reason, sizeof g->reason, "the wall clock is before 2024 (%lld)",
                 (long long)wall);
        return false;
    }
    if (g->running) {
        int64_t expected = g->ref_wall + (mono - g->ref_mono);
        int64_t diff = wall - expected;
        if (diff > g->tolerance)
            return hold(g, "the wall clock jumped ahead of the monotonic clock", diff);
        if (diff < -g->tolerance)
            return hold(g, "the wall clock jumped back against the monotonic clock", -diff);
        trust(g, wall, mono);
        return true;
    }
    if (g->high_water > 0) {
        if (wall < g->high_water - g->tolerance)
            return hold(g, "the wall clock is behind the last trusted time", g->high_water - wall);
        if (wall > g->high_water + g->max_catchup)
            return hold(g, "the wall clock is further ahead of the last trusted time than the "
                           "catch-up window allows",
                        wall - g->high_water);
    }
    trust(g, wall, mono);
    return true;
}

void clockguard_confirm(clockguard_t *g, int64_t wall, int64_t mono)
{
    g->high_water = wall;
    trust(g, wall, mono);
}
