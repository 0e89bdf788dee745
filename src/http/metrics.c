/* metrics.c — see metrics.h. */
#include "http/metrics.h"

#include <string.h>

static const int status_codes[] = {200, 201, 204, 304, 400, 401, 403, 404, 405, 408,
                                   409, 410, 412, 413, 414, 415, 422, 429, 500, 503, 0};
#define NSTATUS (sizeof status_codes / sizeof status_codes[0])
static const double buckets[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                 0.05,   0.1,   0.25,   0.5,   1,    2.5};
#define NBUCKETS (sizeof buckets / sizeof buckets[0])

static const char *route_names[METRICS_MAX_ROUTES];
static int nroutes;
static unsigned long long counts[METRICS_MAX_ROUTES][NSTATUS];
static unsigned long long hist[METRICS_MAX_ROUTES][NBUCKETS + 1];
static unsigned long long sum_us[METRICS_MAX_ROUTES];
static unsigned long long bookings, no_shows, connections_refused;
static long connections_open;

int metrics_route(const char *name)
{
    for (int i = 0; i < nroutes; i++)
        if (strcmp(route_names[i], name) == 0)
            return i;
    if (nroutes == METRICS_MAX_ROUTES)
        return METRICS_MAX_ROUTES - 1;
    route_names[nroutes] = name;
    return nroutes++;
}

void metrics_request(int route, int status, double seconds)
{
    size_t s = NSTATUS - 1, b = NBUCKETS;
    if (route < 0 || route >= nroutes)
        return;
    for (size_t i = 0; i + 1 < NSTATUS; i++)
        if (status_codes[i] == status)
            s = i;
    for (size_t i = 0; i < NBUCKETS; i++)
        if (seconds <= buckets[i]) {
            b = i;
            break;
        }
    __atomic_fetch_add(&counts[route][s], 1, __ATOMIC_RELAXED);
    __atomic_fetch_add(&hist[route][b], 1, __ATOMIC_RELAXED);
    __atomic_fetch_add(&sum_us[route], (unsigned long long)(seconds * 1e6), __ATOMIC_RELAXED);
}

void metrics_booking(void)
{
    __atomic_fetch_add(&bookings, 1, __ATOMIC_RELAXED);
}

void metrics_no_shows(long n)
{
    if (n > 0)
        __atomic_fetch_add(&no_shows, (unsigned long long)n, __ATOMIC_RELAXED);
}

unsigned long long metrics_no_shows_marked(void)
{
    return __atomic_load_n(&no_shows, __ATOMIC_RELAXED);
}

void metrics_connection(int delta)
{
    __atomic_fetch_add(&connections_open, delta, __ATOMIC_RELAXED);
}

void metrics_connection_refused(void)
{
    __atomic_fetch_add(&connections_refused, 1, __ATOMIC_RELAXED);
}

static unsigned long long load(const unsigned long long *p)
{
    return __atomic_load_n(p, __ATOMIC_RELAXED);
}

void metrics_write(FILE *f)
{
    fprintf(f, "# HELP clinicbox_http_requests_total HTTP requests by route and status.\n"
               "# TYPE clinicbox_http_requests_total counter\n");
    for (int r = 0; r < nroutes; r++)
        for (size_t s = 0; s < NSTATUS; s++) {
            unsigned long long v = load(&counts[r][s]);
            if (!v)
                continue;
            if (status_codes[s])
                fprintf(f, "clinicbox_http_requests_total{route=\"%s\",status=\"%d\"} %llu\n",
                        route_names[r], status_codes[s], v);
            else
                fprintf(f, "clinicbox_http_requests_total{route=\"%s\",status=\"other\"} %llu\n",
                        route_names[r], v);
        }
    fprintf(f, "# HELP clinicbox_http_request_duration_seconds Time to answer, by route.\n"
               "# TYPE clinicbox_http_request_duration_seconds histogram\n");
    for (int r = 0; r < nroutes; r++) {
        unsigned long long cum = 0;
        for (size_t b = 0; b <= NBUCKETS; b++) {
            cum += load(&hist[r][b]);
            if (b < NBUCKETS)
                fprintf(f, "clinicbox_http_request_duration_seconds_bucket{route=\"%s\",le=\"%g\"} %llu\n",
                        route_names[r], buckets[b], cum);
            else
                fprintf(f, "clinicbox_http_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} %llu\n",
                        route_names[r], cum);
        }
        fprintf(f, "clinicbox_http_request_duration_seconds_sum{route=\"%s\"} %.6f\n",
                route_names[r], (double)load(&sum_us[r]) / 1e6);
        fprintf(f, "clinicbox_http_request_duration_seconds_count{route=\"%s\"} %llu\n",
                route_names[r], cum);
    }
    fprintf(f, "# HELP clinicbox_bookings_total Appointments booked (including rebookings).\n"
               "# TYPE clinicbox_bookings_total counter\nclinicbox_bookings_total %llu\n",
            load(&bookings));
    fprintf(f, "# HELP clinicbox_http_connections_open HTTP connections open, TLS handshakes"
               " under way included (each holds a worker thread), when"
               " http_max_connections_per_address is set.\n"
               "# TYPE clinicbox_http_connections_open gauge\nclinicbox_http_connections_open %ld\n",
            __atomic_load_n(&connections_open, __ATOMIC_RELAXED));
    fprintf(f, "# HELP clinicbox_http_connections_refused_total Connections shut at once (before"
               " or in their TLS handshake) because their address had"
               " http_max_connections_per_address open.\n"
               "# TYPE clinicbox_http_connections_refused_total counter\n"
               "clinicbox_http_connections_refused_total %llu\n",
            load(&connections_refused));
}
