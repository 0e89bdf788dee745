/* clinic.h — the clinic's settings (see clinic.c) and the app's start-up. */
#ifndef CLINICBOX_SERVICE_CLINIC_H
#define CLINICBOX_SERVICE_CLINIC_H

#include "service/app.h"

#include "core/etag.h"

/* Which settings a PUT sent; the others keep their stored value. */
enum {
    CLINIC_F_NAME = 1u << 0,
    CLINIC_F_TIMEZONE = 1u << 1,
    CLINIC_F_GRACE = 1u << 2,
    CLINIC_F_RESCHEDULE_OPTIONS = 1u << 3,
    CLINIC_F_OFFER_HOURS = 1u << 4,
    CLINIC_F_REMINDER_HOURS = 1u << 5,
    CLINIC_F_CONFIRMATIONS = 1u << 6,
    CLINIC_F_LANGUAGE = 1u << 7,
};

/* Changes the `fields` (CLINIC_F_*) of the clinic's settings to those of in.
 * Reading the stored settings, checking if_match (NULL: none) against their
 * ETag (SVC_PRECONDITION_FAILED when it does not hold), merging and writing
 * are one write job, so concurrent changes of different settings all stay.
 * out gets the stored settings. */
int svc_clinic_put(app_t *app, const clinic_rec *in, unsigned fields, const etag_cond *if_match,
                   const char *actor, int64_t now, clinic_rec *out, svc_err *e);
/* The clinic's ETag (etag.h); out holds ETAG_BUF. */
void clinic_etag(const clinic_rec *c, char *out);

#endif
