/* clinic.h — the clinic's settings (see clinic.c) and the app's start-up. */
#ifndef CLINICBOX_SERVICE_CLINIC_H
#define CLINICBOX_SERVICE_CLINIC_H

#include "service/app.h"

/* Replaces the clinic's settings (name, timezone, grace, options, offer
 * hours); in->grace_set says whether grace_minutes was given. */
int svc_clinic_put(app_t *app, const clinic_rec *in, const char *actor, int64_t now,
                   clinic_rec *out, svc_err *e);

#endif
