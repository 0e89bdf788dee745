/*
 * roles.c — role names as the API, the CLI and the database spell them.
 */
#include "auth/roles.h"

#include <string.h>

unsigned auth_role_parse(const char *s)
{
    if (!s)
        return 0;
    if (strcmp(s, "admin") == 0)
        return AUTH_ADMIN;
    if (strcmp(s, "front_desk") == 0)
        return AUTH_FRONT;
    if (strcmp(s, "doctor") == 0)
        return AUTH_DOCTOR;
    return 0;
}

const char *auth_role_name(unsigned role)
{
    switch (role) {
    case AUTH_ADMIN: return "admin";
    case AUTH_FRONT: return "front_desk";
    case AUTH_DOCTOR: return "doctor";
    default: return NULL;
    }
}
