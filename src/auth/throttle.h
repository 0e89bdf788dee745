/*
 * throttle.h — slows and limits failed logins, per account and per client
 * address, without a permanent lockout (ASVS 6.3.1 / 6.1.1).
 *
 * Each key (an account name, or an address) counts its failures. The first
 * `free_failures` cost nothing; after that, every further attempt has to
 * wait until the last failure plus a delay that doubles with each failure
 * (1 s, 2 s, 4 s, ... capped at max_delay). An attempt that comes too early
 * is refused without checking the password (429 with Retry-After), so an
 * attacker gets a few tries an hour, while the real user, who succeeds,
 * clears the account's count. A key's count is forgotten `forget_after`
 * seconds after its last failure.
 *
 * Pure logic with `now` as a parameter, guarded by a mutex; a fixed table
 * (the oldest entry goes when it is full), so a flood of addresses cannot
 * grow memory.
 */
#ifndef CLINICBOX_THROTTLE_H
#define CLINICBOX_THROTTLE_H

#include <pthread.h>
#include <stdint.h>

#define THROTTLE_KEY_MAX 64
#define THROTTLE_SLOTS 1024

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
/* 0 when an attempt for key may go ahead now, else the seconds to wait. */
int64_t throttle_wait(throttle_t *t, const char *key, int64_t now);
void throttle_fail(throttle_t *t, const char *key, int64_t now);
void throttle_clear(throttle_t *t, const char *key);

#endif
