/*
 * backup_cli.h — `clinicbox backup` and `clinicbox restore` (docs/backup.md).
 *
 * backup runs beside a running server (it reads a snapshot through a
 * connection of its own and takes no lock); restore takes the data
 * directory's lock, so it refuses while a server (or a migrate, or another
 * restore) uses the directory, naming that process.
 */
#ifndef CLINICBOX_BACKUP_CLI_H
#define CLINICBOX_BACKUP_CLI_H

#include <stdbool.h>

#include "core/config.h"

struct backup_cli_opts {
    const char *to;   /* backup: a file, or a folder to make a dated file in */
    const char *from; /* restore: the backup file */
};

/* Takes --to / --from out of argv, leaving the settings flags. false (with
 * a message) on a flag without its value. */
bool backup_cli_take(int *argc, char **argv, struct backup_cli_opts *o);
/* Runs `clinicbox backup|restore`; the exit status (0 done, 1 failed, 2
 * usage). */
int backup_cli_run(const struct config *cfg, const char *cmd, const struct backup_cli_opts *o);

#endif
