/*
 * hlc.h — a hybrid logical clock (Kulkarni et al., "Logical Physical Clocks
 * and Consistent Snapshots in Globally Distributed Databases", 2014) for
 * ordering edits made on the box and centrally. Pure: the physical time is
 * a parameter.
 *
 * A timestamp is (wall milliseconds, counter, node). It never goes
 * backwards on one node, stays close to the physical clock, and orders an
 * edit after every edit its node had seen. Ties between nodes are broken by
 * the node id, so every side decides "which edit is later" the same way.
 *
 * Implausible clocks: a remote timestamp more than max_skew_ms ahead of our
 * physical clock is clamped to now + max_skew_ms (and reported), so a box
 * whose clock is a year ahead cannot win every comparison for a year.
 *
 * Text form, which sorts like the timestamps: "WWWWWWWWWWWWW-CCCCCC-node"
 * (13 digits of milliseconds, 6 of counter, the node id).
 */
#ifndef CLINICBOX_HLC_H
#define CLINICBOX_HLC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HLC_NODE_MAX 64
#define HLC_TEXT_MAX (13 + 1 + 6 + 1 + HLC_NODE_MAX + 1)
#define HLC_COUNTER_MAX 999999

typedef struct {
    int64_t wall_ms;
    uint32_t counter;
    char node[HLC_NODE_MAX + 1];
} hlc_t;

/* The clock of one node: the last timestamp it issued or saw. */
typedef struct {
    hlc_t last;
} hlc_clock;

void hlc_init(hlc_clock *c, const char *node);

/* A timestamp for a local event at physical time now_ms. */
hlc_t hlc_tick(hlc_clock *c, int64_t now_ms);

/* Takes in a remote timestamp seen at physical time now_ms (after clamping
 * it, see the top of this file). *clamped tells whether it was clamped (may
 * be NULL). The clock moves past it; returns the clamped remote timestamp. */
hlc_t hlc_observe(hlc_clock *c, hlc_t remote, int64_t now_ms, int64_t max_skew_ms,
                  bool *clamped);

/* <0, 0, >0 as a is before, equal to, after b. */
int hlc_compare(const hlc_t *a, const hlc_t *b);

/* Text form; out has HLC_TEXT_MAX bytes. */
void hlc_format(const hlc_t *t, char *out);
/* Parses the text form; false if it is not one. */
bool hlc_parse(const char *s, hlc_t *out);

#endif
