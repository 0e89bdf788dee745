/*
 * throttle.h — slows and limits failed logins without a permanent lockout
 * (ASVS 6.3.1 / 6.1.1).
 *
 * Each key (an account, an address, an account from an address) counts its
 * failures. The first `free_failures` cost nothing; after that, every
 * further attempt has to wait until the last failure plus a delay that
 * doubles with each failure (1 s, 2 s, 4 s, ... capped at max_delay). An
 * attempt that comes too early is refused without checking the password
 * (429 with Retry-After). A key's count is forgotten `forget_after` seconds
 * after its last failure.
 *
 * An attempt is counted as a failure when it begins (throttle_begin), in
 * the same locked step as the check, and given back when it succeeds
 * (throttle_end): so a burst of simultaneous attempts cannot all pass the
 * check while their password checks run.
 *
 * Pure logic with `now` as a parameter, guarded by a mutex; a fixed table,
 * so a flood of keys cannot grow memory. An entry still inside its delay is
 * never evicted to make room: when the table is full of those, an attempt
 * with a new key waits too (THROTTLE_FULL_WAIT), so flooding the table with
 * made-up names cannot reset a real account's count.
 */
#ifndef CLINICBOX_THROTTLE_H
#define CLINICBOX_THROTTLE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#define THROTTLE_KEY_MAX 96
#define THROTTLE_SLOTS 1024
#define THROTTLE_FULL_WAIT 60

struct throttle_entry {
    char key[THROTTLE_KEY_MAX + 1];
    int failures;
    int64_t last_failure;
};

typedef struct throttle {
    pthread_mutex_t lock;
    int free_failures;
    int64_t max_delay, forget_after;
    struct throttle_entry slots[THROTTLE_SLOTS];
} throttle_t;

void throttle_init(throttle_t *t, int free_failures, int64_t max_delay, int64_t forget_after);
void throttle_destroy(throttle_t *t);
/* 0 when an attempt for key may go ahead now (it is then counted as a
 * failure until throttle_end says otherwise); else the seconds to wait. */
int64_t throttle_begin(throttle_t *t, const char *key, int64_t now);
/* The attempt that throttle_begin let through is over: a success gives
 * its count back (clear: forget the key's failures altogether). */
void throttle_end(throttle_t *t, const char *key, bool success, bool clear);

#endif
