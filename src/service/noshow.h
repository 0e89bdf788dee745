/*
 * noshow.h — the no-show worker: its own thread that, every
 * noshow_interval_seconds and once right at start (catching up for the time
 * the box was off), marks appointments still booked at start + grace as
 * no-shows with a reschedule offer each. It acts only while the clock guard
 * (domain/clockguard.h) trusts the wall clock; otherwise it holds, logs why
 * and reports it in /api/health until the clock is plausible again or staff
 * confirm it (POST /api/clock/confirm).
 */
#ifndef CLINICBOX_NOSHOW_H
#define CLINICBOX_NOSHOW_H

#include "service/app.h"

bool noshow_start(app_t *app);
void noshow_stop(app_t *app);
/* Staff confirm that the wall clock is right; wakes the worker. */
void noshow_confirm_clock(app_t *app);

struct noshow_status {
    bool held;
    char reason[200];
    int64_t last_run;
    int64_t trusted_until; /* high-water mark */
    long long total;
};
void noshow_status(app_t *app, struct noshow_status *out);

#endif
