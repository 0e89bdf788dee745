/*
 * watch.h — wakes the sync thread as soon as a central writer logs a change
 * for this clinic, with a change stream on the `changes` collection where
 * the server has them (a replica set or Atlas).
 *
 * The stream only shortens the wait between rounds: the pull still reads the
 * change log from its own checkpoint (pull.h), so a stream that breaks, or
 * whose history is lost (ChangeStreamHistoryLost, error 286, after a long
 * outage), costs latency, never data. The watcher never resumes from a stale
 * token: it reopens from "now" and wakes a round, which catches up by
 * polling. On a server without change streams (the test server) it says so
 * once and tries again every ten minutes; the rounds keep polling every
 * sync_interval_seconds.
 */
#ifndef CLINICBOX_WATCH_H
#define CLINICBOX_WATCH_H

#include <stdbool.h>

struct sync_watch;

/* Starts the watcher thread with its own client. NULL if it could not. */
struct sync_watch *sync_watch_start(const char *uri, const char *clinic_id,
                                    void (*wake)(void *), void *wake_arg);
void sync_watch_stop(struct sync_watch *w); /* accepts NULL */

/* "starting", "active", "unavailable" (the server has no change streams) or
 * "failing" (the server cannot be reached). */
const char *sync_watch_state(struct sync_watch *w);

#endif
