/*
 * monotime.h — milliseconds on the monotonic clock, for deadlines and
 * durations inside one process (never for what is stored or shown: that is
 * the wall clock, app_now()). Unaffected by a clock being set, and by
 * libfaketime when FAKETIME_DONT_FAKE_MONOTONIC is set, as the tests do.
 */
#ifndef CLINICBOX_MONOTIME_H
#define CLINICBOX_MONOTIME_H

#include <stdint.h>
#include <time.h>

static inline int64_t monotime_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

#endif
