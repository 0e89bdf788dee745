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

/* The seconds an entry still makes its key wait (0: none). A clock that
 * went back does not stretch a wait past max_delay. */
static int64_t wait_of(const throttle_t *t, const struct throttle_entry *e, int64_t now)
{
    int64_t until = e->last_failure + delay_after(t, e->failures);
    int64_t w = until > now ? until - now : 0;
    return w < t->max_delay ? w : t->max_delay;
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

/* A slot for a new key: a free one, else the oldest that no longer makes
 * anyone wait; NULL when every slot still does. */
static struct throttle_entry *room(throttle_t *t, int64_t now)
{
    struct throttle_entry *best = NULL;
    for (int i = 0; i < THROTTLE_SLOTS; i++) {
        struct throttle_entry *e = &t->slots[i];
        if (!e->key[0])
            return e;
        if (wait_of(t, e, now) == 0 && (!best || e->last_failure < best->last_failure))
            best = e;
    }
    return best;
}

int64_t throttle_begin(throttle_t *t, const char *key, int64_t now)
{
    int64_t wait = 0;
    pthread_mutex_lock(&t->lock);
    struct throttle_entry *e = find(t, key, now);
    if (e) {
        wait = wait_of(t, e, now);
    } else if ((e = room(t, now)) != NULL) {
        snprintf(e->key, sizeof e->key, "%s", key);
        e->failures = 0;
    } else {
        wait = THROTTLE_FULL_WAIT;
    }
    if (wait == 0) { /* counted as a failure until it succeeds */
        e->failures++;
        e->last_failure = now;
    }
    pthread_mutex_unlock(&t->lock);
    return wait;
}

void throttle_end(throttle_t *t, const char *key, bool success, bool clear)
{
    if (!success)
        return; /* counted at the start */
    pthread_mutex_lock(&t->lock);
    for (int i = 0; i < THROTTLE_SLOTS; i++) {
        struct throttle_entry *e = &t->slots[i];
        if (e->key[0] && strncmp(e->key, key, THROTTLE_KEY_MAX) == 0) {
            if (clear || e->failures <= 1)
                e->key[0] = '\0';
            else
                e->failures--;
            break;
        }
    }
    pthread_mutex_unlock(&t->lock);
}
