/* throttle.c — see throttle.h. */
#include "auth/throttle.h"

#include <stdio.h>
#include <string.h>

void throttle_init(throttle_t *t, int free_failures, int64_t max_delay, int64_t forget_after)
{
    memset(t, 0, sizeof *t);
    pthread_mutex_init(&t->lock, NULL);
    t->free_failures = free_failures;
    t->max_delay = max_delay;
    t->forget_after = forget_after;
}

void throttle_destroy(throttle_t *t)
{
    pthread_mutex_destroy(&t->lock);
}

/* The entry of key, or NULL. Entries past forget_after are cleared on the way. */
static struct throttle_entry *find(throttle_t *t, const char *key, int64_t now)
{
    for (int i = 0; i < THROTTLE_SLOTS; i++) {
        struct throttle_entry *e = &t->slots[i];
        if (!e->key[0])
            continue;
        if (now - e->last_failure > t->forget_after) {
            e->key[0] = '\0';
            continue;
        }
        if (strncmp(e->key, key, THROTTLE_KEY_MAX) == 0)
            return e;
    }
    return NULL;
}

static int64_t delay_after(const throttle_t *t, int failures)
{
    int over = failures - t->free_failures;
    if (over <= 0)
        return 0;
    if (over > 30)
        return t->max_delay;
    int64_t d = (int64_t)1 << (over - 1);
    return d < t->max_delay ? d : t->max_delay;
}

int64_t throttle_wait(throttle_t *t, const char *key, int64_t now)
{
    int64_t wait = 0;
    pthread_mutex_lock(&t->lock);
    struct throttle_entry *e = find(t, key, now);
    if (e) {
        int64_t until = e->last_failure + delay_after(t, e->failures);
        if (until > now)
            wait = until - now;
    }
    pthread_mutex_unlock(&t->lock);
    return wait;
}

void throttle_fail(throttle_t *t, const char *key, int64_t now)
{
    pthread_mutex_lock(&t->lock);
    struct throttle_entry *e = find(t, key, now);
    if (!e) {
        /* a free slot, else the one whose last failure is oldest */
        e = &t->slots[0];
        for (int i = 0; i < THROTTLE_SLOTS; i++) {
            if (!t->slots[i].key[0]) {
                e = &t->slots[i];
                break;
            }
            if (t->slots[i].last_failure < e->last_failure)
                e = &t->slots[i];
        }
        snprintf(e->key, sizeof e->key, "%s", key);
        e->failures = 0;
    }
    e->failures++;
    e->last_failure = now;
    pthread_mutex_unlock(&t->lock);
}

void throttle_clear(throttle_t *t, const char *key)
{
    pthread_mutex_lock(&t->lock);
    for (int i = 0; i < THROTTLE_SLOTS; i++)
        if (t->slots[i].key[0] && strncmp(t->slots[i].key, key, THROTTLE_KEY_MAX) == 0)
            t->slots[i].key[0] = '\0';
    pthread_mutex_unlock(&t->lock);
}
