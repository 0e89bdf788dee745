/*
 * metrics.h — request counters and latency histograms for GET /metrics
 * (Prometheus text format 0.0.4). Lock-free: relaxed atomic increments from
 * the HTTP threads; the scrape reads whatever is there.
 */
#ifndef CLINICBOX_METRICS_H
#define CLINICBOX_METRICS_H

#include <stdio.h>

#define METRICS_MAX_ROUTES 128

/* Registers route names once at start (before threads). Returns its index. */
int metrics_route(const char *name);
void metrics_request(int route, int status, double seconds);
void metrics_booking(void);
void metrics_no_shows(long n);
/* No-shows marked by staff through the API. */
unsigned long long metrics_no_shows_marked(void);
/* HTTP connections counted against the per-address cap: one opened (+1) or
 * closed (-1), and one refused for being over the cap. */
void metrics_connection(int delta);
void metrics_connection_refused(void);
/* Appends the request metrics to f. */
void metrics_write(FILE *f);

#endif
