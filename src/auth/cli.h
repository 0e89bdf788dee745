/*
 * cli.h — `clinicbox user ...` and `clinicbox token ...`: accounts and API
 * tokens from the command line, for the first admin and for scripts. They
 * work on the data directory directly (the server may run meanwhile:
 * SQLite serialises the writes, and a disabled user's sessions end at once).
 */
#ifndef CLINICBOX_AUTH_CLI_H
#define CLINICBOX_AUTH_CLI_H

#include <stdbool.h>

#include "core/config.h"

struct auth_cli_opts {
    const char *action; /* add, list, disable, enable, passwd; create, revoke */
    const char *username, *name, *role, *doctor;
};

/* Takes the action (argv[2]) and the flags of these commands out of argv,
 * leaving the settings flags for the caller. false (with a message) on a
 * flag without its value. */
bool auth_cli_take(int *argc, char **argv, struct auth_cli_opts *o);
/* Runs `clinicbox user|token ACTION`; the exit status. */
int auth_cli_run(const struct config *cfg, const char *cmd, const struct auth_cli_opts *o);

#endif
