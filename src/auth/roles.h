/*
 * roles.h — who may call a route: the bits a route in the route table
 * (http/server.c) carries, and the principal a request authenticated as.
 *
 * Denied by default: a route whose roles are 0 answers 403 to everyone.
 * AUTH_PUBLIC routes answer without credentials (health, login, first-run
 * setup, the patient's offer link); every other route needs a session
 * cookie or an API token whose role has its bit (401 without credentials,
 * 403 with the wrong role). docs/security.md has the table.
 */
#ifndef CLINICBOX_ROLES_H
#define CLINICBOX_ROLES_H

#include <stdbool.h>
#include <stdint.h>

#include "core/ids.h"

enum auth_role {
    AUTH_PUBLIC = 1 << 0, /* anyone, no credentials */
    AUTH_ADMIN = 1 << 1,  /* users, settings, schedules: everything */
    AUTH_FRONT = 1 << 2,  /* front desk: patients, booking, check-in, offers, messages */
    AUTH_DOCTOR = 1 << 3, /* a doctor: own schedule and appointments */
};
#define AUTH_STAFF (AUTH_ADMIN | AUTH_FRONT | AUTH_DOCTOR)
#define AUTH_DESK (AUTH_ADMIN | AUTH_FRONT)

/* For a doctor principal, what the route's {} parameter must belong to. */
enum auth_scope {
    SCOPE_NONE = 0,
    SCOPE_DOCTOR,      /* params[0] is a doctor id: the doctor's own */
    SCOPE_APPOINTMENT, /* params[0] is an appointment of the doctor's */
    SCOPE_PATIENT,     /* params[0] is a patient with an appointment with the doctor */
};

enum principal_kind {
    PRINCIPAL_NONE = 0, /* anonymous */
    PRINCIPAL_USER,     /* a staff member logged in with a session cookie */
    PRINCIPAL_TOKEN,    /* an API token (Authorization: Bearer) */
};

#define USERNAME_MAX 32

/* Who a request authenticated as. */
typedef struct principal {
    enum principal_kind kind;
    unsigned role;                     /* one AUTH_* bit; 0 when anonymous */
    char name[USERNAME_MAX + 1];       /* user or token name */
    char doctor_id[ID_LEN];            /* a doctor's own record, else "" */
    int64_t user_id;                   /* users.id or api_tokens.id */
    char session_id[ID_LEN];           /* the public id of the session, else "" */
    char csrf[TOKEN_LEN];              /* the session's CSRF token, else "" */
    int64_t created_at;                /* the session's login time, else 0 */
} principal_t;

/* "admin", "front_desk", "doctor" <-> AUTH_* bit; 0 / NULL when unknown. */
unsigned auth_role_parse(const char *s);
const char *auth_role_name(unsigned role);

#endif
