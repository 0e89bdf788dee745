/*
 * password.h — staff passwords: Argon2id hashing through libsodium, a cap
 * on concurrent hashing, and the password policy (docs/security.md,
 * "Passwords").
 *
 * Hashes are libsodium's crypto_pwhash_str strings ("$argon2id$v=19$m=
 * 19456,t=2,p=1$salt$hash"), so each one carries its own parameters and a
 * stored hash made with older ones still verifies; pw_needs_rehash says when
 * to store a new one after a successful login. Argon2id with 19 MiB needs
 * that much memory per computation, so at most `max_concurrent` run at once
 * (hash, verify and dummy verify alike); a caller that would wait longer
 * than the bound gets PW_BUSY and answers 503 with Retry-After.
 *
 * Thread-safe. Call pw_init once at start (again to change the limits,
 * which tests do); the entry points also initialise on first use.
 */
#ifndef CLINICBOX_PASSWORD_H
#define CLINICBOX_PASSWORD_H

#include <stdbool.h>
#include <stddef.h>

/* Argon2id cost (ASVS 5.0 11.4.2, OWASP's first option): 2 passes over
 * 19 MiB (19456 KiB); libsodium's parallelism is always 1. */
#define PW_OPSLIMIT 2ULL
#define PW_MEMLIMIT ((size_t)19 * 1024 * 1024)

/* Room for a stored hash string with its NUL (crypto_pwhash_STRBYTES). */
#define PW_HASH_LEN 128

#define PW_DEFAULT_CONCURRENT 2  /* the box's cores */
#define PW_DEFAULT_WAIT_MS 10000 /* then PW_BUSY */

/* Policy: lengths in Unicode code points (ASVS 6.2.1, 6.2.9). 128 code
 * points are at most 512 bytes. */
#define PW_MIN_CHARS 8
#define PW_MAX_CHARS 128
#define PW_MAX_BYTES (4 * PW_MAX_CHARS)

enum pw_result {
    PW_ERROR = -1,  /* could not hash or verify (out of memory): a server fault */
    PW_OK = 0,
    PW_MISMATCH = 1, /* wrong password, or a stored hash that is not one */
    PW_BUSY = 2,     /* too many hashes in progress for longer than the bound */
};

/* What pw_policy_check found; PWP_OK is 0. */
enum pw_policy {
    PWP_OK = 0,
    PWP_TOO_SHORT,
    PWP_TOO_LONG,
    PWP_BAD_UTF8,
    PWP_CONTROL,  /* a control character (U+0000..U+001F, U+007F..U+009F) */
    PWP_COMMON,   /* on the common-password list (case-insensitive) */
    PWP_CONTEXT,  /* the username, or the product's name (case-insensitive) */
};

/* Initialises libsodium (idempotent), builds the common-password set and
 * the dummy hash once, and sets the concurrency cap: at most max_concurrent
 * Argon2id computations at once, a caller waiting at most wait_ms for a
 * turn. Values <= 0 take the defaults above. False if libsodium fails or
 * memory runs out; then every call answers PW_ERROR. */
bool pw_init(int max_concurrent, int wait_ms);

/* Hashes a password into out (a NUL-terminated string to store).
 * PW_OK, PW_BUSY or PW_ERROR. */
int pw_hash(const char *password, char out[PW_HASH_LEN]);

/* Checks a password against a stored hash: PW_OK, PW_MISMATCH, PW_BUSY or
 * PW_ERROR. Anything but PW_OK refuses the login. */
int pw_verify(const char *stored, const char *password);

/* True if a stored hash is not Argon2id with the current PW_OPSLIMIT and
 * PW_MEMLIMIT (then store pw_hash of the password that just verified). */
bool pw_needs_rehash(const char *stored);

/* The same work as pw_verify against a hash made at start for a random
 * password, for a login with an unknown username, so that the answer's
 * timing does not tell which usernames exist. Returns what pw_verify would
 * for a wrong password: PW_MISMATCH, or PW_BUSY (answer it the same way). */
int pw_dummy_verify(const char *password);

/* Checks a new password against the policy (ASVS 5.0 6.2.x): valid UTF-8
 * without control characters, PW_MIN_CHARS..PW_MAX_CHARS code points, not
 * a common password, not the username (username may be NULL). No
 * composition rules. Returns an enum pw_policy value; on refusal writes a
 * sentence for the user into why (if why is not NULL). */
int pw_policy_check(const char *password, const char *username, char *why, size_t whylen);

/* Counters, for tests and metrics. */
struct pw_stats {
    int active;   /* slots taken now */
    int waiting;  /* callers waiting for a slot */
    int peak;     /* most Argon2id computations seen running at once since pw_init */
    long busy;    /* PW_BUSY answers since start */
    size_t common_count; /* entries in the common-password set */
};
void pw_stats_get(struct pw_stats *out);

/* The concurrency cap on its own, exposed so that tests can hold a slot:
 * pw_slot_take returns PW_OK (then call pw_slot_give) or PW_BUSY. */
int pw_slot_take(void);
void pw_slot_give(void);

#endif
