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
 * A client that failed to reach the server keeps it in libmongoc's 5 s
 * cooldown (a single-threaded client's rule; serverSelectionTryOnce=false
 * only turns the error "No servers yet eligible for rescan" into a wait):
 * the sync thread opens a fresh client after a failed round instead
 * (engine.c), so a healed link is used at the next round.
 *
 * Here: connecting, the central epoch, the indexes the box's queries need,
 * the server's clock and counter, and the `boxes` document (one per box:
 * its state, last contact, lag both ways, counts, clinic settings; the
 * fields are listed in docs/sync.md). Push and pull of the clinic's records
 * are push.c and pull.c; the design is docs/sync.md.
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

/* Creates the indexes the box's queries need (docs/sync.md, "Indexes"):
 * `changes` {clinicId, seq} unique, `appointments` {clinicId, start},
 * {clinicId} on the other record collections, `rejections` {clinicId, at}.
 * Idempotent (an index that exists is left as it is). Returns 1 when all
 * are there, 0 when the server refused one (err says why: no privilege, a
 * duplicate in `changes`, an index of the same keys with other options),
 * -1 when the server could not be reached. */
int central_ensure_indexes(central_t *c, char *err, size_t errlen);

/* The clinic's last change number (`counters`, `_id` = clinic_id) into
 * *seq (0 when it has none). false with the reason in err. */
bool central_counter_seq(central_t *c, const char *clinic_id, int64_t *seq, char *err,
                         size_t errlen);

/* The server's clock, from its `hello` reply (`localTime`), into *server_ms,
 * and the round trip into *rtt_ms. false when the server does not say
 * (jongodb) or does not answer. */
bool central_server_time(central_t *c, int64_t *server_ms, int64_t *rtt_ms);

/* The clinic settings as the box uses them (graceMinutes is the clinic's
 * own or, when it set none, the box's grace_minutes). */
struct box_settings {
    int grace_minutes;
    bool grace_from_clinic; /* false: the box's configuration's */
    int reschedule_options, offer_hours;
    const int *reminder_hours;
    int nreminders;
    bool confirmations;
    const char *language;
};

struct box_report {
    const char *box_id;    /* this box's id: the document's _id */
    const char *clinic_id;
    const char *clinic_name;
    const char *timezone;  /* the clinic's (IANA) */
    const char *version;
    const char *hostname;
    int64_t now;           /* unix seconds: lastContactAt (lastSuccessAt when ok) */
    bool ok;               /* the round completed: state "ok", else "failing" */
    const char *error;     /* why it did not (lastError); NULL when ok */
    int sync_interval_seconds;
    long queued_messages;  /* outbox messages waiting to go out */
    long dead_messages;
    long pending_changes;  /* local changes not yet pushed (journal rows) */
    int64_t oldest_pending_ms; /* when the oldest of them was made; 0: none */
    int64_t applied_seq;   /* the change log applied up to (the checkpoint) */
    int64_t central_seq;   /* the clinic's counter as read now; -1: not read */
    unsigned long long rejected_total, conflicts_total; /* kept by the box */
    bool clock_skew_suspected;
    int64_t clock_ahead_ms;  /* pull.h; 0: not noticed */
    bool clock_skew_known;   /* clock_skew_ms measured against the server's clock */
    int64_t clock_skew_ms;   /* the box's clock minus the server's */
    const char *change_stream; /* watch.h's state, or "off" */
    struct box_settings settings;
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
