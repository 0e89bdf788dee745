/*
 * ctl.h — what a long sync round asks of its caller between batches:
 * whether to stop (the server is shutting down), and where to report the
 * batches committed so far (the status shows a catch-up's progress while it
 * runs). The push's batch size adapts to the server: halved after a failed
 * batch (a slow server timing out a large bulk write would otherwise fail
 * the same batch for ever), doubled after a good one, within
 * SYNC_BATCH_MIN..SYNC_BATCH_MAX.
 */
#ifndef CLINICBOX_CTL_H
#define CLINICBOX_CTL_H

#include <stdbool.h>

#define SYNC_BATCH_MIN 10
#define SYNC_BATCH_MAX 500

struct sync_ctl {
    bool (*stop)(void *arg);                              /* may be NULL */
    void (*progress)(void *arg, long pushed, long pulled); /* may be NULL */
    void *arg;
    long push_batch; /* in and out */
};

static inline bool sync_ctl_stop(const struct sync_ctl *c)
{
    return c && c->stop && c->stop(c->arg);
}

static inline void sync_ctl_progress(const struct sync_ctl *c, long pushed, long pulled)
{
    if (c && c->progress)
        c->progress(c->arg, pushed, pulled);
}

#endif
