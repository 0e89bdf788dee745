/* hlc.c — see hlc.h. Pure; no locking (the caller owns the clock). */
#include "sync/hlc.h"

#include <stdio.h>
#include <string.h>

void hlc_init(hlc_clock *c, const char *node)
{
    memset(c, 0, sizeof *c);
    snprintf(c->last.node, sizeof c->last.node, "%s", node);
}

/* Moves to wall time w with counter k, carrying into the wall time when the
 * counter would overflow (only under more than a million events in one
 * millisecond). */
static void set(hlc_t *t, int64_t w, uint64_t k)
{
    while (k > HLC_COUNTER_MAX) {
        w++;
        k -= HLC_COUNTER_MAX + 1;
    }
    t->wall_ms = w;
    t->counter = (uint32_t)k;
}

hlc_t hlc_tick(hlc_clock *c, int64_t now_ms)
{
    hlc_t *l = &c->last;
    if (now_ms > l->wall_ms)
        set(l, now_ms, 0);
    else
        set(l, l->wall_ms, (uint64_t)l->counter + 1);
    return *l;
}

hlc_t hlc_observe(hlc_clock *c, hlc_t remote, int64_t now_ms, int64_t max_skew_ms,
                  bool *clamped)
{
    hlc_t *l = &c->last;
    bool clamp = remote.wall_ms > now_ms + max_skew_ms;
    if (clamp) {
        remote.wall_ms = now_ms + max_skew_ms;
        remote.counter = 0;
    }
    if (clamped)
        *clamped = clamp;
    int64_t w = l->wall_ms;
    if (remote.wall_ms > w)
        w = remote.wall_ms;
    if (now_ms > w)
        w = now_ms;
    if (w == l->wall_ms && w == remote.wall_ms)
        set(l, w, (uint64_t)(l->counter > remote.counter ? l->counter : remote.counter) + 1);
    else if (w == l->wall_ms)
        set(l, w, (uint64_t)l->counter + 1);
    else if (w == remote.wall_ms)
        set(l, w, (uint64_t)remote.counter + 1);
    else
        set(l, w, 0);
    return remote;
}

int hlc_compare(const hlc_t *a, const hlc_t *b)
{
    if (a->wall_ms != b->wall_ms)
        return a->wall_ms < b->wall_ms ? -1 : 1;
    if (a->counter != b->counter)
        return a->counter < b->counter ? -1 : 1;
    int n = strcmp(a->node, b->node);
    return n < 0 ? -1 : n > 0;
}

void hlc_format(const hlc_t *t, char *out)
{
    snprintf(out, HLC_TEXT_MAX, "%013lld-%06u-%s", (long long)t->wall_ms, t->counter, t->node);
}

bool hlc_parse(const char *s, hlc_t *out)
{
    memset(out, 0, sizeof *out);
    if (strlen(s) < 22 || s[13] != '-' || s[20] != '-')
        return false;
    int64_t w = 0;
    uint32_t k = 0;
    for (int i = 0; i < 13; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        w = w * 10 + (s[i] - '0');
    }
    for (int i = 14; i < 20; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        k = k * 10 + (uint32_t)(s[i] - '0');
    }
    const char *node = s + 21;
    if (!*node || strlen(node) > HLC_NODE_MAX)
        return false;
    out->wall_ms = w;
    out->counter = k;
    snprintf(out->node, sizeof out->node, "%s", node);
    return true;
}
