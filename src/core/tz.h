/*
 * tz.h — IANA time zones read from TZif files (RFC 8536), without libc's
 * process-global TZ state (no setenv("TZ")/tzset/localtime), so it is safe
 * in a multi-threaded server.
 *
 * A zone is loaded from /usr/share/zoneinfo/<name>. Instants are int64_t unix
 * seconds (POSIX time, no leap seconds); offsets are seconds east of UTC.
 * Instants after the last transition in the file follow the POSIX TZ footer
 * rule, so slim files and dates far in the future work.
 *
 * Civil calendar helpers are proleptic Gregorian and valid for years 1..9999.
 */
#ifndef CLINICBOX_TZ_H
#define CLINICBOX_TZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest zone name accepted by tz_load()/tz_get(). */
#define TZ_NAME_MAX 64

typedef struct tz tz_t;

/* Loads zone `name`; NULL if the name is unsafe/unknown or the file is bad.
 * Safe names are '/'-separated components of [A-Za-z0-9_+-], at most
 * TZ_NAME_MAX chars, no leading/trailing/double '/'. Files with leap-second
 * records ("right/...") are rejected: clinicbox uses POSIX time.
 * Caller frees with tz_free(). */
tz_t *tz_load(const char *name);

/* Parses TZif data from memory (what tz_load() does after reading the file);
 * `name` is only recorded (and must fit TZ_NAME_MAX). NULL if the data is not
 * valid TZif v1..v4. Caller frees with tz_free(). */
tz_t *tz_from_tzif(const char *name, const void *data, size_t len);

void tz_free(tz_t *tz); /* accepts NULL */

/* Process-wide cache: returns a zone that lives until tz_cache_clear();
 * thread-safe; NULL if unknown (misses are not cached). Do not tz_free() it. */
const tz_t *tz_get(const char *name);

/* Frees every cached zone. No pointer returned by tz_get() may be in use. */
void tz_cache_clear(void);

const char *tz_name(const tz_t *tz);

/* UTC offset in seconds east of UTC in effect at the UTC instant t (unix
 * seconds). A NULL zone is treated as UTC. */
int tz_offset_at(const tz_t *tz, int64_t t);

/* Local wall-clock time -> UTC instant. If the local time does not exist
 * (spring-forward gap) it is shifted forward by the gap length (02:30 in
 * Berlin on 2026-03-29 -> 03:30 CEST = 01:30Z). If it exists twice (fall-back
 * overlap) the earlier instant (the first occurrence) is returned.
 * `sec_of_day` may be 0..86400 (86400 = midnight at the end of that day).
 * A NULL zone is treated as UTC. */
int64_t tz_local_to_utc(const tz_t *tz, int y, int mon, int day, int sec_of_day);

/* Civil calendar helpers (proleptic Gregorian, valid for years 1..9999): */
int64_t tz_days_from_civil(int y, int mon, int day); /* days since 1970-01-01 */
void tz_civil_from_days(int64_t days, int *y, int *mon, int *day);
int tz_weekday(int64_t days);              /* ISO: 1 = Monday .. 7 = Sunday */
bool tz_valid_date(int y, int mon, int day); /* 2026-02-30 -> false */
int tz_days_in_month(int y, int mon);        /* 0 if mon is not 1..12 */

#endif
