/*
 * watchdog.h — systemd's watchdog (WatchdogSec= in the unit), fed only by
 * proof of life: at half the interval systemd asked for, a thread of its
 * own asks the box's own listener for GET /api/health (the HTTP loop
 * answers) and runs a write job on the database (the writer takes one and
 * commits it); only when both succeed does it send WATCHDOG=1. A hung
 * writer or HTTP loop therefore stops the pings, and systemd restarts the
 * service (Restart=always). Off when systemd set no interval.
 */
#ifndef CLINICBOX_WATCHDOG_H
#define CLINICBOX_WATCHDOG_H

#include <stdbool.h>

#include "service/app.h"

/* scheme: "http" or "https"; listen: the configured ADDR:PORT. true also
 * when off. */
bool watchdog_start(app_t *app, const char *scheme, const char *listen);
void watchdog_stop(void);

#endif
