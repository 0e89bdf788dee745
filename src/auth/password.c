/*
 * password.c — see password.h.
 *
 * The cap is a counting semaphore made of a mutex and a condition variable
 * on CLOCK_MONOTONIC (a wall-clock step cannot stretch or cut the wait).
 * It is not FIFO: a newcomer may take a slot just freed before a waiter
 * wakes, which is harmless because every wait is bounded anyway.
 *
 * Separately from the semaphore, an atomic counter is raised right around
 * each libsodium call, so `peak` reports the Argon2id computations that
 * really ran at once, not the semaphore's own bookkeeping.
 *
 * The common-password list (common-passwords.txt, embedded at build time by
 * embed_passwords.cmake as one string) is split into lines once, sorted and
 * searched with bsearch. Its entries are lowercase ASCII; a candidate is
 * compared after lowercasing its ASCII letters.
 */
#include "auth/password.h"

#include <errno.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/utf8.h"

_Static_assert(PW_HASH_LEN == crypto_pwhash_STRBYTES, "PW_HASH_LEN");
_Static_assert(PW_OPSLIMIT >= 2, "ASVS 11.4.2: at least 2 passes");
_Static_assert(PW_MEMLIMIT >= (size_t)19456 * 1024, "ASVS 11.4.2: at least 19 MiB");

extern const char pw_common_text[]; /* common_passwords_gen.c */

/* Context-specific words refused besides the username (ASVS 6.2.11). */
static const char *const context_words[] = {"clinicbox"};

static pthread_once_t once = PTHREAD_ONCE_INIT;
static bool ready;
static char dummy_hash[PW_HASH_LEN];
static char *common_buf;
static const char **common;
static size_t common_n;

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv;
static int cap = PW_DEFAULT_CONCURRENT;
static int wait_ms = PW_DEFAULT_WAIT_MS;
static int active, waiting;
static long busy;

static atomic_int running, peak;

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Splits the embedded list into a sorted array of lines ('#' comments and
 * blank lines skipped). */
static bool load_common(void)
{
    common_buf = strdup(pw_common_text);
    if (!common_buf)
        return false;
    size_t lines = 1;
    for (const char *p = common_buf; *p; p++)
        lines += *p == '\n';
    common = malloc(lines * sizeof *common);
    if (!common)
        return false;
    char *save = NULL;
    for (char *l = strtok_r(common_buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
        if (l[0] != '#')
            common[common_n++] = l;
    qsort(common, common_n, sizeof *common, cmp_str);
    return true;
}

static void init_once(void)
{
    pthread_condattr_t ca;
    if (sodium_init() < 0 || pthread_condattr_init(&ca) != 0)
        return;
    bool cv_ok = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) == 0 &&
                 pthread_cond_init(&cv, &ca) == 0;
    pthread_condattr_destroy(&ca);
    if (!cv_ok || !load_common())
        return;
    /* The dummy hash: a random password nobody knows, current parameters. */
    unsigned char r[32];
    char secret[sodium_base64_ENCODED_LEN(32, sodium_base64_VARIANT_ORIGINAL)];
    randombytes_buf(r, sizeof r);
    sodium_bin2base64(secret, sizeof secret, r, sizeof r, sodium_base64_VARIANT_ORIGINAL);
    if (crypto_pwhash_str_alg(dummy_hash, secret, strlen(secret), PW_OPSLIMIT, PW_MEMLIMIT,
                              crypto_pwhash_ALG_ARGON2ID13) != 0)
        return;
    sodium_memzero(secret, sizeof secret);
    ready = true;
}

static bool ensure(void)
{
    pthread_once(&once, init_once);
    return ready;
}

bool pw_init(int max_concurrent, int wait)
{
    if (!ensure())
        return false;
    pthread_mutex_lock(&mu);
    cap = max_concurrent > 0 ? max_concurrent : PW_DEFAULT_CONCURRENT;
    wait_ms = wait > 0 ? wait : PW_DEFAULT_WAIT_MS;
    atomic_store(&peak, atomic_load(&running));
    pthread_cond_broadcast(&cv); /* a raised cap lets waiters in */
    pthread_mutex_unlock(&mu);
    return true;
}

int pw_slot_take(void)
{
    if (!ensure())
        return PW_ERROR;
    pthread_mutex_lock(&mu);
    if (active >= cap) {
        struct timespec deadline;
        clock_gettime(CLOCK_MONOTONIC, &deadline);
        deadline.tv_sec += wait_ms / 1000;
        deadline.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
        if (deadline.tv_nsec >= 1000000000L) {
            deadline.tv_sec++;
            deadline.tv_nsec -= 1000000000L;
        }
        waiting++;
        while (active >= cap) {
            /* On a timeout, the loop condition still decides: a slot freed
             * at the last moment is taken rather than lost. */
            if (pthread_cond_timedwait(&cv, &mu, &deadline) == ETIMEDOUT && active >= cap) {
                waiting--;
                busy++;
                pthread_mutex_unlock(&mu);
                return PW_BUSY;
            }
        }
        waiting--;
    }
    active++;
    pthread_mutex_unlock(&mu);
    return PW_OK;
}

void pw_slot_give(void)
{
    pthread_mutex_lock(&mu);
    active--;
    pthread_cond_signal(&cv);
    pthread_mutex_unlock(&mu);
}

static void argon2_enter(void)
{
    int now = atomic_fetch_add(&running, 1) + 1;
    int seen = atomic_load(&peak);
    while (now > seen && !atomic_compare_exchange_weak(&peak, &seen, now))
        ;
}

static void argon2_leave(void)
{
    atomic_fetch_sub(&running, 1);
}

int pw_hash(const char *password, char out[PW_HASH_LEN])
{
    int rc = pw_slot_take();
    if (rc != PW_OK)
        return rc;
    argon2_enter();
    rc = crypto_pwhash_str_alg(out, password, strlen(password), PW_OPSLIMIT, PW_MEMLIMIT,
                               crypto_pwhash_ALG_ARGON2ID13);
    argon2_leave();
    pw_slot_give();
    return rc == 0 ? PW_OK : PW_ERROR;
}

int pw_verify(const char *stored, const char *password)
{
    int rc = pw_slot_take();
    if (rc != PW_OK)
        return rc;
    argon2_enter();
    errno = 0;
    rc = crypto_pwhash_str_verify(stored, password, strlen(password));
    int err = errno;
    argon2_leave();
    pw_slot_give();
    if (rc == 0)
        return PW_OK;
    /* libsodium sets EINVAL for a mismatch or a string it cannot parse;
     * only a failed allocation is the server's fault. */
    return err == ENOMEM ? PW_ERROR : PW_MISMATCH;
}

int pw_dummy_verify(const char *password)
{
    if (!ensure())
        return PW_ERROR;
    int rc = pw_verify(dummy_hash, password);
    return rc == PW_OK ? PW_MISMATCH : rc;
}

bool pw_needs_rehash(const char *stored)
{
    if (!ensure() || strncmp(stored, crypto_pwhash_argon2id_STRPREFIX,
                             strlen(crypto_pwhash_argon2id_STRPREFIX)) != 0)
        return true;
    return crypto_pwhash_str_needs_rehash(stored, PW_OPSLIMIT, PW_MEMLIMIT) != 0;
}

#define STR(x) #x
#define XSTR(x) STR(x)
#define TOO_LONG "The password is too long (at most " XSTR(PW_MAX_CHARS) " characters)."

static int refuse(int code, char *why, size_t whylen, const char *msg)
{
    if (why && whylen)
        snprintf(why, whylen, "%s", msg);
    return code;
}

/* Copies s with its ASCII letters lowercased (s is at most PW_MAX_BYTES). */
static void ascii_lower(const char *s, char out[PW_MAX_BYTES + 1])
{
    size_t i = 0;
    for (; s[i]; i++)
        out[i] = (s[i] >= 'A' && s[i] <= 'Z') ? (char)(s[i] - 'A' + 'a') : s[i];
    out[i] = '\0';
}

int pw_policy_check(const char *password, const char *username, char *why, size_t whylen)
{
    if (why && whylen)
        why[0] = '\0';
    if (!password)
        password = "";
    size_t bytes = strnlen(password, PW_MAX_BYTES + 1);
    if (bytes > PW_MAX_BYTES)
        return refuse(PWP_TOO_LONG, why, whylen, TOO_LONG);
    size_t chars = 0;
    const unsigned char *p = (const unsigned char *)password;
    for (size_t i = 0; i < bytes; chars++) {
        size_t len;
        long cp = utf8_decode(p + i, bytes - i, &len);
        if (cp < 0)
            return refuse(PWP_BAD_UTF8, why, whylen, "The password is not valid UTF-8 text.");
        if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f))
            return refuse(PWP_CONTROL, why, whylen,
                          "The password contains a control character (such as a tab or line break).");
        i += len;
    }
    if (chars < PW_MIN_CHARS)
        return refuse(PWP_TOO_SHORT, why, whylen,
                      "The password is too short (at least " XSTR(PW_MIN_CHARS) " characters).");
    if (chars > PW_MAX_CHARS)
        return refuse(PWP_TOO_LONG, why, whylen, TOO_LONG);

    char lower[PW_MAX_BYTES + 1];
    ascii_lower(password, lower);
    if (username && username[0] && strlen(username) <= PW_MAX_BYTES) {
        char user[PW_MAX_BYTES + 1];
        ascii_lower(username, user);
        if (strcmp(lower, user) == 0)
            return refuse(PWP_CONTEXT, why, whylen, "The password must not be the username.");
    }
    for (size_t i = 0; i < sizeof context_words / sizeof context_words[0]; i++)
        if (strcmp(lower, context_words[i]) == 0)
            return refuse(PWP_CONTEXT, why, whylen, "The password must not be the product's name.");
    const char *key = lower;
    if (!ensure()) /* no list: fail closed */
        return refuse(PWP_COMMON, why, whylen, "The password could not be checked; try again.");
    if (bsearch(&key, common, common_n, sizeof *common, cmp_str))
        return refuse(PWP_COMMON, why, whylen,
                      "The password is one of the most common passwords; choose another.");
    return PWP_OK;
}

void pw_stats_get(struct pw_stats *out)
{
    pthread_mutex_lock(&mu);
    out->active = active;
    out->waiting = waiting;
    out->busy = busy;
    pthread_mutex_unlock(&mu);
    out->peak = atomic_load(&peak);
    out->common_count = ensure() ? common_n : 0;
}
