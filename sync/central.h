/*
 * central.h — the connection to the central MongoDB (libmongoc), and the
 * documents the box keeps there about itself.
 *
 * Connection settings come from the URI (mongo_uri): TLS, SCRAM
 * credentials, timeouts (serverSelectionTimeoutMS, connectTimeoutMS,
 * socketTimeoutMS; when the URI does not, the box sets 5 s for the first two
 * and 30 s for the third).
 * The password is never logged: central_redact_uri() is what goes into logs
 * and error texts, and libmongoc's own log lines go through the box's logger.
 *
 * Here: connecting, the central epoch, and the `boxes` document (one per
 * box: its last contact, version, clinic, queued messages, pending changes).
 * Push and pull of the clinic's records are push.c and pull.c; the design
 * is docs/sync.md.
 */
#ifndef CLINICBOX_CENTRAL_H
#define CLINICBOX_CENTRAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct central central_t;

/* Once per process, before any other call (and central_cleanup at exit). */
void central_global_init(void);
/* First thing in main(): removes the shared-memory name libmongoc made for
 * this process when it was loaded, so that a crash leaves none behind, and
 * the names left by this user's processes that are gone. */
void central_process_start(void);
void central_global_cleanup(void);

/* A client for uri. NULL with a message (without the password) in err when
 * the URI is not valid. Connecting happens on first use. */
central_t *central_open(const char *uri, char *err, size_t errlen);
void central_close(central_t *c); /* accepts NULL */

/* The database the URI names ("clinicbox" when it names none). */
const char *central_db_name(const central_t *c);

/* Round trip to the server ("ping"). false with the reason in err. */
bool central_ping(central_t *c, char *err, size_t errlen);

/* The central database's epoch: an id kept in its `central` collection
 * (document "epoch"), made by the first box that finds none. A database that
 * was replaced, or restarted empty, has a new one. Into out (ID_LEN). */
bool central_epoch(central_t *c, int64_t now, char *out, size_t len, char *err, size_t errlen);

struct box_report {
    const char *box_id;    /* this box's id: the document's _id */
    const char *clinic_id;
    const char *clinic_name;
    const char *version;
    const char *hostname;
    int64_t now;           /* unix seconds: lastContactAt */
    long queued_messages;  /* outbox messages waiting to go out */
    long dead_messages;
    long pending_changes;  /* local changes not yet pushed */
};

/* Upserts the box's document in `boxes` (majority write concern where the
 * server has a replica set). false with the reason in err. */
bool central_report_box(central_t *c, const struct box_report *r, char *err, size_t errlen);

/* A collection of the central database (libmongoc's type; the caller
 * destroys it with mongoc_collection_destroy). For sync/ files only. */
struct _mongoc_collection_t *central_collection(central_t *c, const char *name);

/* uri with any password replaced by "*****", into out. */
void central_redact_uri(const char *uri, char *out, size_t len);

#endif
