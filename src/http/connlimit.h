/*
 * connlimit.h — a cap on the HTTP connections one client address holds at
 * once (http_max_connections_per_address, docs/security.md "Connection
 * limits").
 *
 * civetweb gives every connection a worker thread of its own for as long as
 * it is open (reading its headers, its body, and idling between keep-alive
 * requests), so the cap bounds how many workers one address can hold. The
 * count is kept from civetweb's init_connection and connection_close
 * callbacks (connlimit_install()); a connection over the cap is not counted
 * and is shut at once, before civetweb waits for its request. Under TLS,
 * civetweb does the handshake before init_connection: connlimit_tls.c counts
 * the handshake itself, from its start until it ends, against the same cap.
 *
 * Threads: the callbacks run on the HTTP workers; the table has its own
 * mutex.
 */
#ifndef CLINICBOX_CONNLIMIT_H
#define CLINICBOX_CONNLIMIT_H

#include <stdbool.h>
#include <stdint.h>

#include <civetweb.h>

/* -- the table (pure logic) ------------------------------------------------ */

typedef struct connlimit connlimit;

typedef enum {
    CONNLIMIT_COUNTED,   /* under the cap: counted, connlimit_release() it */
    CONNLIMIT_OVER,      /* the address already holds cap connections: refuse */
    CONNLIMIT_UNTRACKED, /* the table is full (more addresses than slots): let
                          * it in uncounted, and do not release it */
} connlimit_verdict;

/* A table for up to slots addresses at once, each allowed cap connections
 * (cap >= 1). NULL when out of memory. */
connlimit *connlimit_new(int slots, int cap);
void connlimit_free(connlimit *t);

/* A new connection from addr (civetweb's remote_addr string). */
connlimit_verdict connlimit_acquire(connlimit *t, const char *addr);
/* A connection that connlimit_acquire() counted has closed. */
void connlimit_release(connlimit *t, const char *addr);
/* Connections counted for addr now (0 for an address not in the table). */
int connlimit_count(connlimit *t, const char *addr);

/* Notes one refused connection at now_ms (any monotonic clock). Returns
 * true when a log line is due: for the first refusal, then at most once per
 * interval_ms; *refused_since gets the refusals since the last line (this
 * one included). */
bool connlimit_note_refusal(connlimit *t, int64_t now_ms, int64_t interval_ms,
                            long *refused_since);

/* -- civetweb ---------------------------------------------------------------- */

/* Shuts down (both directions, without closing the descriptor, which stays
 * civetweb's) this process's TCP socket whose peer is addr:remote_port and
 * whose local port is local_port. The blocked read of the worker that holds
 * the connection then ends at once. Returns false when no such socket was
 * found (no /proc/self/fd). */
bool connlimit_shut(const char *addr, int remote_port, int local_port);

/* Sets up the cap for a server with threads workers: cb gets the
 * init_connection, connection_close, begin_request and init_ssl callbacks
 * (it must have none of them yet). Call before mg_start(); false when out
 * of memory. */
bool connlimit_install(struct mg_callbacks *cb, int threads, int cap);
/* After mg_stop(): frees the table. */
void connlimit_uninstall(void);

/* -- for connlimit_tls.c: the installed table -------------------------------- */

/* A new connection (or TLS handshake) from addr, counted in the metrics
 * when COUNTED; after the same grace as any connection over the cap. */
connlimit_verdict connlimit_admit(const char *addr);
/* What connlimit_admit() counted has ended. */
void connlimit_leave(const char *addr);
/* Counts (and now and then logs) a refused what ("connection", "TLS
 * handshake") from addr; shut: its socket was shut, else it is answered 503. */
void connlimit_refused(const char *addr, bool shut, const char *what);

/* -- connlimit_tls.c ------------------------------------------------------------ */

/* civetweb's init_ssl callback (struct mg_callbacks): makes every TLS
 * handshake on ssl_ctx count against the cap while it lasts. Returns 0
 * (civetweb goes on to load the certificate), -1 when out of memory. */
int connlimit_tls_init_ssl(void *ssl_ctx, void *user_data);
/* True on a worker between its refusing a TLS handshake and civetweb's
 * freeing that connection's TLS state: civetweb's log line about the failed
 * handshake is then about the refusal, already counted and logged. */
bool connlimit_tls_refusing(void);

#endif
