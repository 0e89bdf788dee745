/*
 * offerlink.h — the patient's rebooking link: what an offer's token may see
 * and do, without any other credentials (docs/security.md, "Patient links").
 *
 * The token alone names the offer: it is looked up by its SHA-256 (an index
 * lookup; the secret is never compared character by character). It shows
 * the clinic's name, zone and UI language, the doctor's name, the appointment's time and
 * status, the offer's options that are still free, its expiry and whether
 * it was used; nothing about the patient, no ids. It does one thing: rebook
 * the appointment onto one of its options, once, before it expires, as
 * actor OFFER_LINK_ACTOR. Once used, it also gives the new appointment as a
 * calendar file (with its id in the UID, as the confirmation email's).
 *
 * Answers: 404 for a token no offer has (whether it never existed or was
 * made up from another offer's: there is nothing else to tell them apart
 * by), 410 once the offer expired (used or not), and for a rebook 409 once
 * it was used, or when the appointment can no longer be moved or the time
 * was taken meanwhile; 422 for an option that is not one of the offer's.
 */
#ifndef CLINICBOX_OFFERLINK_H
#define CLINICBOX_OFFERLINK_H

#include "service/app.h"

#define OFFER_LINK_ACTOR "patient-link"

struct offer_link_option {
    int number; /* as numbered in the message, 1-based */
    interval_t t;
};

struct offer_link_view {
    char clinic_name[NAME_BUF];
    char clinic_timezone[65];
    char clinic_language[LANGUAGE_BUF]; /* the UI's language setting */
    char doctor_name[NAME_BUF];
    interval_t appt;     /* the appointment the offer is about */
    char appt_status[24];
    int64_t expires_at;
    bool used;
    bool rebookable;     /* unused and the appointment can still be moved */
    struct offer_link_option options[OFFER_MAX_OPTIONS]; /* still free ones */
    int noptions;
    struct offer_link_option chosen; /* when used: the option taken */
    /* For the audit trail only, never shown: the appointment the offer is
     * about ("" when no offer was found) and the one a rebook made. */
    char appointment_id[ID_LEN];
    char new_appointment_id[ID_LEN];
};

/* What the link's page shows. out->appointment_id is set whenever an offer
 * was found, also when the answer is a failure (410). */
int svc_offer_link_view(app_t *app, const char *token, int64_t now, struct offer_link_view *out,
                        svc_err *e);

/* The calendar file (iCalendar) of the appointment a used offer made, as
 * the confirmation email's (service/notify.h, notify_calendar) but without
 * the reason: *ics is malloc'd, the caller frees it. 404 and 410 as the
 * view; 409 while the offer is unused, and when the clinic has cancelled
 * or moved that appointment since. out->appointment_id is the new
 * appointment's (the one read) once the offer was found used, else the
 * offer's. */
int svc_offer_link_calendar(app_t *app, const char *token, int64_t now, char **ics,
                            struct offer_link_view *out, svc_err *e);

/* Rebooks onto option `option` (1-based) and uses the offer up; *out is the
 * view afterwards (used, with the option chosen). On a failure after the
 * offer was found, only out->appointment_id is set. */
int svc_offer_link_rebook(app_t *app, const char *token, int option, int64_t now,
                          struct offer_link_view *out, svc_err *e);

#endif
