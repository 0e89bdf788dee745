/*
 * timefmt.h — RFC 3339 timestamps and the plain "YYYY-MM-DD" / "HH:MM"
 * forms used by the API. Pure functions, no locale, no libc time state.
 * Years are limited to 0001..9999 (the range of tz.h's civil helpers).
 */
#ifndef CLINICBOX_TIMEFMT_H
#define CLINICBOX_TIMEFMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Smallest buffer that always holds timefmt_format_rfc3339()'s output. */
#define TIMEFMT_RFC3339_LEN 32

/* Parses an RFC 3339 date-time with a required offset
 * ("2026-03-29T09:30:00+02:00", "...Z", lowercase t/z ok, optional fractional
 * seconds which are truncated). Rejects impossible dates (Feb 30), hours > 23,
 * minutes/seconds > 59 (a :60 leap second is read as :59), offsets beyond
 * +-23:59, trailing junk. Returns true and the UTC unix time on success. */
bool timefmt_parse_rfc3339(const char *s, int64_t *out_utc);

/* Formats t as local time with the given offset: "2026-03-29T09:30:00+02:00";
 * "Z" instead of "+00:00" only when use_z is true and the offset is 0.
 * Offsets are truncated to whole minutes (RFC 3339 has no offset seconds) and
 * the local time is computed with the truncated offset, so the text always
 * denotes instant t. Instants outside years 1..9999 are clamped.
 * buf should have at least TIMEFMT_RFC3339_LEN bytes (output is truncated
 * to len - 1 chars otherwise). */
void timefmt_format_rfc3339(int64_t t, int offset_sec, bool use_z, char *buf, size_t len);

/* "YYYY-MM-DD" strictly (valid date) -> y/m/d; false otherwise (outputs
 * untouched). */
bool timefmt_parse_date(const char *s, int *y, int *mon, int *day);

/* "HH:MM" strictly, 00:00..23:59, or exactly "24:00" -> minutes of day
 * (0..1440); false otherwise (output untouched). */
bool timefmt_parse_hhmm(const char *s, int *minutes);

void timefmt_format_date(int y, int mon, int day, char *buf, size_t len); /* "YYYY-MM-DD" */

/* Smallest buffer that always holds timefmt_format_http_date()'s output. */
#define TIMEFMT_HTTP_DATE_LEN 30

/* The HTTP date of instant t (RFC 9110 section 5.6.7, IMF-fixdate, always
 * in English and GMT): "Sun, 06 Nov 1994 08:49:37 GMT". Instants outside
 * years 1..9999 are clamped. */
void timefmt_format_http_date(int64_t t, char *buf, size_t len);
/* "HH:MM"; minutes are clamped to 0..1440 (1440 -> "24:00"). */
void timefmt_format_hhmm(int minutes, char *buf, size_t len);

#endif
