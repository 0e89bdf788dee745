/*
 * ics.h — a single-event iCalendar object (RFC 5545) for confirmation emails.
 *
 * Times are written in UTC ("YYYYMMDDTHHMMSSZ") so no VTIMEZONE is needed;
 * calendar apps show them in the reader's local time. TEXT values are
 * escaped (backslash, semicolon, comma, newline) and content lines are folded
 * at 75 octets without splitting a UTF-8 character. Lines end in CRLF.
 * Pure: no I/O.
 */
#ifndef CLINICBOX_ICS_H
#define CLINICBOX_ICS_H

#include <stdint.h>

typedef struct {
    const char *uid;          /* globally unique: "<appointment id>@clinicbox" */
    const char *method;       /* "PUBLISH" (confirmation) or "CANCEL" */
    int sequence;             /* 0 for a new booking; higher for changes */
    int64_t dtstamp;          /* when the object was made, unix seconds */
    int64_t start, end;       /* unix seconds */
    const char *summary;      /* UTF-8, e.g. "Appointment with Dr Ana Lopez" */
    const char *location;     /* UTF-8, the clinic's name; may be NULL */
    const char *description;  /* UTF-8, may be NULL; may contain \n */
    const char *status;       /* "CONFIRMED" or "CANCELLED" */
} ics_event;

/* VCALENDAR (VERSION:2.0, PRODID:-//clinicbox//clinicbox//EN, METHOD) with
 * one VEVENT (UID, SEQUENCE, DTSTAMP, DTSTART, DTEND, SUMMARY, LOCATION,
 * DESCRIPTION, STATUS). Returns a malloc'd string (caller frees), or NULL
 * when out of memory or uid/method/summary is missing. */
char *ics_build(const ics_event *e);

#endif
