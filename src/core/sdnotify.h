/*
 * sdnotify.h — systemd's service notification protocol, spoken directly
 * (sd_notify(3) without libsystemd): one datagram to the AF_UNIX socket
 * named by $NOTIFY_SOCKET ("@name" is Linux's abstract namespace). Without
 * $NOTIFY_SOCKET (not started by systemd as Type=notify) every call is a
 * no-op that reports false.
 */
#ifndef CLINICBOX_SDNOTIFY_H
#define CLINICBOX_SDNOTIFY_H

#include <stdbool.h>
#include <stdint.h>

/* Sends state ("READY=1", "WATCHDOG=1", "STOPPING=1", "STATUS=..."; several
 * separated by newlines). true when the datagram went out. */
bool sdnotify(const char *state);

/* The watchdog interval systemd asked for ($WATCHDOG_USEC, for this process
 * when $WATCHDOG_PID is set), in microseconds; 0 when there is none. */
uint64_t sdnotify_watchdog_usec(void);

#endif
