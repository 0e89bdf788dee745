/*
 * datalock.h — one data directory, one server.
 *
 * A process that writes the database as its owner (`serve`, `migrate`,
 * `restore`) holds an exclusive lock on DIR/clinicbox.lock for its
 * whole life and writes into the file who it is (pid, command, start time,
 * address). A second such process is refused with that description. The
 * kernel drops the lock when the holder exits, also after kill -9 or a
 * power cut, so a stale lock file never keeps a box down. Commands that
 * only read or add alongside a running server (`backup`, `user`, `token`,
 * `audit verify`) take no lock.
 */
#ifndef CLINICBOX_DATALOCK_H
#define CLINICBOX_DATALOCK_H

#include <stdbool.h>
#include <stddef.h>

typedef struct datalock datalock_t;

/* Creates DIR if needed and takes its lock for `command` ("serve",
 * "migrate", "restore"); `where` (may be NULL) is added to the description,
 * e.g. the address served. NULL with a sentence in err naming the process
 * that holds it. */
datalock_t *datalock_take(const char *dir, const char *command, const char *where, char *err,
                          size_t errlen);
void datalock_release(datalock_t *l); /* accepts NULL */

/* Whether a process holds DIR's lock now; if so its description in out. */
bool datalock_held(const char *dir, char *out, size_t outlen);

#endif
