/*
 * slots.h — when a doctor can be booked: working periods and free slots.
 *
 * Pure domain logic: no I/O, no clock; `now` is a parameter. Thread-safe.
 *
 * Model. A doctor's schedule is weekly hours per ISO weekday plus dated
 * exceptions (a closed day, or hours that replace the weekly ones), all in
 * the clinic's wall-clock time. Each local day's hours become UTC periods via
 * the clinic's zone, so DST is right: on a spring-forward day 01:00-04:00
 * local is two real hours, on a fall-back day three (02:00 happens twice).
 * A local time that does not exist is moved forward by the gap; one that
 * exists twice means its first occurrence. Touching or overlapping periods
 * are merged, so hours that run past midnight or are split into pieces book
 * as one stretch.
 *
 * Slots start at the period's start and follow each other every
 * slot_minutes of real time. A period longer than 7 days (round-the-clock
 * hours) has no start in reach that every range would see, so its slots are
 * counted from the epoch instead (UTC times that are multiples of
 * slot_minutes), the same grid whatever range is asked for. A booking starts on a slot, lasts a whole
 * number of slots (a requested duration is rounded up) and lies inside one
 * period. All times are multiples of 5 minutes, the unit of the database's
 * slot claims.
 */
#ifndef CLINICBOX_SLOTS_H
#define CLINICBOX_SLOTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/tz.h"

#define SLOT_UNIT_SECONDS 300
#define SLOTS_MAX_DURATION_MINUTES 480

typedef struct {
    int64_t start, end; /* UTC seconds, end exclusive */
} interval_t;

typedef struct {
    int weekday; /* 1 = Monday .. 7 = Sunday */
    int start_min, end_min;
} sched_weekly_t;

typedef struct {
    int y, mon, day;
    bool closed;
    int start_min, end_min; /* ignored when closed */
} sched_exception_t;

typedef struct {
    int slot_minutes;
    const sched_weekly_t *weekly;
    size_t nweekly;
    const sched_exception_t *exceptions;
    size_t nexceptions;
} schedule_t;

enum slot_check {
    SLOT_OK,
    SLOT_BAD_DURATION, /* not positive, or longer than SLOTS_MAX_DURATION_MINUTES */
    SLOT_IN_PAST,
    SLOT_OUTSIDE_HOURS,
    SLOT_OFF_GRID,
};

/* Duration in minutes rounded up to whole slots; 0 if minutes is out of range. */
int slots_round_duration(int minutes, int slot_minutes);

/* The merged working periods that overlap [from, to), sorted; a period
 * longer than 7 days starts at its first epoch grid point. Caller frees
 * *out with free(). Returns the count, or -1 if out of memory. */
long slots_periods(const schedule_t *s, const tz_t *tz, int64_t from, int64_t to,
                   interval_t **out);

/* Can [start, start + duration) be booked, ignoring other appointments? */
enum slot_check slots_check(const schedule_t *s, const tz_t *tz, int64_t start,
                            int duration_min, int64_t now);

/* Up to `max` free slots of duration_min (already rounded) starting in
 * [from, to), not before now, not overlapping any of the `busy` intervals
 * (any order). A slot starting before `to` may end up to duration_min after
 * it, so `busy` must hold every appointment overlapping
 * [max(from, now), to + duration_min), not only those starting before `to`.
 * Caller frees *out. Returns the count, or -1 if out of memory. */
long slots_find(const schedule_t *s, const tz_t *tz, const interval_t *busy, size_t nbusy,
                int64_t from, int64_t to, int duration_min, int64_t now, size_t max,
                interval_t **out);

const char *slots_check_message(enum slot_check c);

#endif
