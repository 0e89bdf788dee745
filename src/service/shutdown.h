/*
 * shutdown.h — stopping the background workers (nightly backup, sync,
 * no-show detection, outbox senders) within a deadline on SIGTERM.
 *
 * Each worker finishes what it is doing and stops; most take milliseconds.
 * A worker stuck in a network call (a sync bulk write to a central server
 * that stopped answering, an SMTP server that takes its time) could hold a
 * stop for its whole socket timeout, so the stop runs on a thread of its
 * own and the caller waits only until the deadline. Past it the caller
 * gives up on the stragglers: every acknowledged write is already durable
 * (synchronous=FULL), and what the straggler was doing is redone at the next
 * start, exactly as after a power cut.
 */
#ifndef CLINICBOX_SHUTDOWN_H
#define CLINICBOX_SHUTDOWN_H

#include <stdbool.h>

#include "service/app.h"

/* Stops the workers; true when all stopped within deadline_ms. On false
 * they are still stopping: the caller must not close the database, and ends
 * the process instead (the stopping thread closes nothing). */
bool shutdown_workers(app_t *app, int deadline_ms);

#endif
