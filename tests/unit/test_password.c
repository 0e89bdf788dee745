/*
 * test_password.c — unit tests for src/auth/password.c: Argon2id hashing
 * and verification, rehash detection, the dummy verify, the password
 * policy with the embedded common-password list, and the cap on
 * concurrent hashing (peak, PW_BUSY after the bound, a waiter let in).
 *
 * Prints the measured time of one hash (docs/security.md quotes it).
 */
#include <pthread.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#include "auth/password.h"
#include "unit.h"

#define GOOD "correct horse battery staple"

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void test_hash_verify(void)
{
    CHECK(pw_init(2, 0));
    char h[PW_HASH_LEN];
    double best = 1e9;
    for (int i = 0; i < 3; i++) {
        double t0 = now_ms();
        CHECK_EQ_INT(pw_hash(GOOD, h), PW_OK);
        double t = now_ms() - t0;
        best = t < best ? t : best;
    }
    fprintf(stderr, "info: one Argon2id hash (t=%llu, m=%zu KiB) took %.1f ms (best of 3)\n",
            PW_OPSLIMIT, PW_MEMLIMIT / 1024, best);

    CHECK_EQ_INT(pw_verify(h, GOOD), PW_OK);
    CHECK_EQ_INT(pw_verify(h, "correct horse battery stapler"), PW_MISMATCH);
    CHECK_EQ_INT(pw_verify(h, "Correct horse battery staple"), PW_MISMATCH);
    CHECK_EQ_INT(pw_verify(h, ""), PW_MISMATCH);

    /* The string names Argon2id and at least 19 MiB and 2 passes. */
    unsigned m = 0, t = 0, p = 0;
    CHECK(strncmp(h, "$argon2id$v=19$", 15) == 0);
    CHECK_EQ_INT(sscanf(h, "$argon2id$v=19$m=%u,t=%u,p=%u$", &m, &t, &p), 3);
    CHECK(m >= 19456);
    CHECK(t >= 2);
    CHECK_EQ_INT(p, 1);

    /* Two hashes of one password differ (random salt), both verify. */
    char h2[PW_HASH_LEN];
    CHECK_EQ_INT(pw_hash(GOOD, h2), PW_OK);
    CHECK(strcmp(h, h2) != 0);
    CHECK_EQ_INT(pw_verify(h2, GOOD), PW_OK);

    /* A stored value that is not a hash never verifies. */
    CHECK_EQ_INT(pw_verify("", GOOD), PW_MISMATCH);
    CHECK_EQ_INT(pw_verify("not a hash", GOOD), PW_MISMATCH);
    CHECK_EQ_INT(pw_verify("$argon2id$v=19$m=19456,t=2,p=1$garbage", GOOD), PW_MISMATCH);
}

static void test_needs_rehash(void)
{
    CHECK(pw_init(2, 0));
    char ours[PW_HASH_LEN], weak[PW_HASH_LEN], argon2i[PW_HASH_LEN];
    CHECK_EQ_INT(pw_hash(GOOD, ours), PW_OK);
    CHECK(!pw_needs_rehash(ours));

    /* Made with lower parameters: still verifies, but needs a new hash. */
    CHECK_EQ_INT(crypto_pwhash_str_alg(weak, GOOD, strlen(GOOD), crypto_pwhash_argon2id_OPSLIMIT_MIN,
                                       crypto_pwhash_argon2id_MEMLIMIT_MIN,
                                       crypto_pwhash_ALG_ARGON2ID13),
                 0);
    CHECK_EQ_INT(pw_verify(weak, GOOD), PW_OK);
    CHECK(pw_needs_rehash(weak));

    /* Argon2i (which needs at least 3 passes): verifies, and is replaced
     * by Argon2id. */
    CHECK_EQ_INT(crypto_pwhash_str_alg(argon2i, GOOD, strlen(GOOD),
                                       crypto_pwhash_argon2i_OPSLIMIT_MIN, PW_MEMLIMIT,
                                       crypto_pwhash_ALG_ARGON2I13),
                 0);
    CHECK_EQ_INT(pw_verify(argon2i, GOOD), PW_OK);
    CHECK(pw_needs_rehash(argon2i));
    CHECK(pw_needs_rehash("not a hash"));
}

static void test_dummy_verify(void)
{
    /* It runs Argon2id (the peak counter moves) and goes through the cap. */
    CHECK(pw_init(1, 50));
    struct pw_stats st;
    pw_stats_get(&st);
    CHECK_EQ_INT(st.peak, 0);
    CHECK_EQ_INT(pw_dummy_verify(GOOD), PW_MISMATCH);
    CHECK_EQ_INT(pw_dummy_verify(""), PW_MISMATCH);
    pw_stats_get(&st);
    CHECK_EQ_INT(st.peak, 1);

    CHECK_EQ_INT(pw_slot_take(), PW_OK);
    CHECK_EQ_INT(pw_dummy_verify(GOOD), PW_BUSY);
    pw_slot_give();
}

static int policy(const char *pw, const char *user)
{
    char why[200] = "untouched";
    int rc = pw_policy_check(pw, user, why, sizeof why);
    if (rc == PWP_OK && why[0] != '\0')
        fprintf(stderr, "policy ok but why = \"%s\"\n", why);
    if (rc != PWP_OK && strlen(why) < 10)
        fprintf(stderr, "policy %d without a reason for \"%s\"\n", rc, pw);
    CHECK((rc == PWP_OK) == (why[0] == '\0'));
    return rc;
}

static char *repeat(const char *unit, int n)
{
    size_t len = strlen(unit);
    char *s = malloc(len * (size_t)n + 1);
    if (!s)
        exit(2);
    for (int i = 0; i < n; i++)
        memcpy(s + len * (size_t)i, unit, len);
    s[len * (size_t)n] = '\0';
    return s;
}

static void test_policy_length(void)
{
    CHECK_EQ_INT(policy("", NULL), PWP_TOO_SHORT);
    CHECK_EQ_INT(policy(NULL, NULL), PWP_TOO_SHORT);
    CHECK_EQ_INT(policy("tq7#vmz", NULL), PWP_TOO_SHORT); /* 7 */
    CHECK_EQ_INT(policy("tq7#vmzk", NULL), PWP_OK);       /* 8 */
    CHECK_EQ_INT(policy("a b c d ", NULL), PWP_OK);      /* spaces are characters */

    /* Code points, not bytes: 7 two-byte letters (14 bytes) are too short,
     * 8 (16 bytes) are enough; 8 four-byte emoji too. */
    CHECK_EQ_INT(policy("äöüßéñç", NULL), PWP_TOO_SHORT);
    CHECK_EQ_INT(policy("äöüßéñçå", NULL), PWP_OK);
    CHECK_EQ_INT(policy("Привет, мир", NULL), PWP_OK);
    char *s = repeat("\xf0\x9f\x98\x80", 7); /* U+1F600 */
    CHECK_EQ_INT(policy(s, NULL), PWP_TOO_SHORT);
    free(s);
    s = repeat("\xf0\x9f\x98\x80", 8);
    CHECK_EQ_INT(policy(s, NULL), PWP_OK);
    free(s);

    /* 64 and the maximum of 128 are allowed, 129 are not; the maximum in
     * four-byte characters is 512 bytes. */
    s = repeat("xk3Vq9Lp", 8);
    CHECK_EQ_INT(strlen(s), 64);
    CHECK_EQ_INT(policy(s, NULL), PWP_OK);
    free(s);
    s = repeat("xk3Vq9Lp", 16);
    CHECK_EQ_INT(policy(s, NULL), PWP_OK);
    free(s);
    s = repeat("x", PW_MAX_CHARS + 1);
    CHECK_EQ_INT(policy(s, NULL), PWP_TOO_LONG);
    free(s);
    s = repeat("\xf0\x9f\x98\x80", PW_MAX_CHARS);
    CHECK_EQ_INT(policy(s, NULL), PWP_OK);
    free(s);
    s = repeat("\xf0\x9f\x98\x80", PW_MAX_CHARS + 1);
    CHECK_EQ_INT(policy(s, NULL), PWP_TOO_LONG);
    free(s);
    s = repeat("x", 100000);
    CHECK_EQ_INT(policy(s, NULL), PWP_TOO_LONG);
    free(s);

    /* A long password hashes and verifies in full (no truncation). */
    char h[PW_HASH_LEN];
    CHECK(pw_init(2, 0));
    s = repeat("xk3Vq9Lp", 16);
    CHECK_EQ_INT(pw_hash(s, h), PW_OK);
    s[127] = 'q';
    CHECK_EQ_INT(pw_verify(h, s), PW_MISMATCH);
    free(s);
}

static void test_policy_text(void)
{
    /* Invalid UTF-8: a stray continuation byte, an overlong '/', a
     * surrogate, a truncated sequence, beyond U+10FFFF, a Latin-1 byte. */
    CHECK_EQ_INT(policy("abcdefgh\x80", NULL), PWP_BAD_UTF8);
    CHECK_EQ_INT(policy("abcdefgh\xc0\xaf", NULL), PWP_BAD_UTF8);
    CHECK_EQ_INT(policy("abcdefgh\xe0\x80\xaf", NULL), PWP_BAD_UTF8);
    CHECK_EQ_INT(policy("abcdefgh\xed\xa0\x80", NULL), PWP_BAD_UTF8);
    CHECK_EQ_INT(policy("abcdefgh\xe2\x82", NULL), PWP_BAD_UTF8);
    CHECK_EQ_INT(policy("abcdefgh\xf4\x90\x80\x80", NULL), PWP_BAD_UTF8);
    CHECK_EQ_INT(policy("caf\xe9 au lait", NULL), PWP_BAD_UTF8);
    CHECK_EQ_INT(policy("abcdefgh\xf4\x8f\xbf\xbf", NULL), PWP_OK); /* U+10FFFF */

    /* Control characters: C0, DEL, C1 (U+0085). */
    CHECK_EQ_INT(policy("tq7#v\tmzk", NULL), PWP_CONTROL);
    CHECK_EQ_INT(policy("tq7#vmzk\n", NULL), PWP_CONTROL);
    CHECK_EQ_INT(policy("tq7#v\x1bmzk", NULL), PWP_CONTROL);
    CHECK_EQ_INT(policy("tq7#v\x7fmzk", NULL), PWP_CONTROL);
    CHECK_EQ_INT(policy("tq7#v\xc2\x85mzk", NULL), PWP_CONTROL);
    CHECK_EQ_INT(policy("tq7#v\xc2\xa0mzk", NULL), PWP_OK); /* no-break space is text */
}

static void test_policy_words(void)
{
    CHECK_EQ_INT(policy("password", NULL), PWP_COMMON);
    CHECK_EQ_INT(policy("PASSWORD", NULL), PWP_COMMON);
    CHECK_EQ_INT(policy("Password1", NULL), PWP_COMMON);
    CHECK_EQ_INT(policy("123456789", NULL), PWP_COMMON);
    CHECK_EQ_INT(policy("12345678", NULL), PWP_COMMON);
    CHECK_EQ_INT(policy("iloveyou", NULL), PWP_COMMON);
    CHECK_EQ_INT(policy("QwErTyUiOp", NULL), PWP_COMMON);
    CHECK_EQ_INT(policy("password!x7", NULL), PWP_OK); /* not itself on the list */

    CHECK_EQ_INT(policy("drmeier2024", "drmeier2024"), PWP_CONTEXT);
    CHECK_EQ_INT(policy("DrMeier2024", "drmeier2024"), PWP_CONTEXT);
    CHECK_EQ_INT(policy("drmeier2024", "DRMEIER2024"), PWP_CONTEXT);
    CHECK_EQ_INT(policy("drmeier2024!", "drmeier2024"), PWP_OK);
    CHECK_EQ_INT(policy("drmeier2024", ""), PWP_OK);
    CHECK_EQ_INT(policy("drmeier2024", "other"), PWP_OK);
    CHECK_EQ_INT(policy("ClinicBox", NULL), PWP_CONTEXT);

    /* The why buffer may be small or absent. */
    char tiny[8];
    CHECK_EQ_INT(pw_policy_check("short", NULL, tiny, sizeof tiny), PWP_TOO_SHORT);
    CHECK_EQ_INT(strlen(tiny), 7);
    CHECK_EQ_INT(pw_policy_check("short", NULL, NULL, 0), PWP_TOO_SHORT);
}

/* Every entry of the shipped list is embedded and refused, in any case. */
static void test_common_list_complete(void)
{
    const char *path = CLINICBOX_WEB_DIR "/../src/auth/common-passwords.txt";
    FILE *f = fopen(path, "r");
    CHECK(f != NULL);
    if (!f)
        return;
    char line[256];
    size_t n = 0, refused = 0, refused_upper = 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0] == '#' || line[0] == '\0')
            continue;
        n++;
        refused += pw_policy_check(line, NULL, NULL, 0) == PWP_COMMON;
        for (char *c = line; *c; c++)
            if (*c >= 'a' && *c <= 'z')
                *c = (char)(*c - 'a' + 'A');
        refused_upper += pw_policy_check(line, NULL, NULL, 0) == PWP_COMMON;
    }
    fclose(f);
    struct pw_stats st;
    pw_stats_get(&st);
    CHECK(n >= 10000);
    CHECK_EQ_INT(st.common_count, n);
    CHECK_EQ_INT(refused, n);
    CHECK_EQ_INT(refused_upper, n);
}

struct hasher {
    pthread_t th;
    int rc;
    const char *stored; /* verify against this, else hash */
};

static void *hasher_run(void *arg)
{
    struct hasher *h = arg;
    char out[PW_HASH_LEN];
    h->rc = h->stored ? pw_verify(h->stored, GOOD) : pw_hash(GOOD, out);
    return NULL;
}

static int peak_with(int cap, int threads)
{
    CHECK(pw_init(cap, 120000));
    struct hasher h[8];
    for (int i = 0; i < threads; i++) {
        h[i].stored = NULL;
        CHECK_EQ_INT(pthread_create(&h[i].th, NULL, hasher_run, &h[i]), 0);
    }
    for (int i = 0; i < threads; i++) {
        pthread_join(h[i].th, NULL);
        CHECK_EQ_INT(h[i].rc, PW_OK);
    }
    struct pw_stats st;
    pw_stats_get(&st);
    CHECK_EQ_INT(st.active, 0);
    CHECK_EQ_INT(st.waiting, 0);
    return st.peak;
}

static void test_cap_peak(void)
{
    int peak = peak_with(2, 6);
    fprintf(stderr, "info: 6 threads, cap 2: peak %d concurrent hashes\n", peak);
    CHECK(peak >= 1 && peak <= 2);
    peak = peak_with(1, 4);
    CHECK_EQ_INT(peak, 1);
}

static void test_busy_after_bound(void)
{
    char h[PW_HASH_LEN];
    CHECK(pw_init(1, 150));
    CHECK_EQ_INT(pw_hash(GOOD, h), PW_OK);
    struct pw_stats before, after;
    pw_stats_get(&before);

    CHECK_EQ_INT(pw_slot_take(), PW_OK); /* the one slot is in use */
    double t0 = now_ms();
    CHECK_EQ_INT(pw_verify(h, GOOD), PW_BUSY);
    double waited = now_ms() - t0;
    CHECK(waited >= 150);
    CHECK_EQ_INT(pw_hash(GOOD, h), PW_BUSY);
    pw_stats_get(&after);
    CHECK_EQ_INT(after.busy - before.busy, 2);
    CHECK_EQ_INT(after.waiting, 0);
    pw_slot_give();

    CHECK_EQ_INT(pw_verify(h, GOOD), PW_OK);
}

static void test_waiter_let_in(void)
{
    char stored[PW_HASH_LEN];
    CHECK(pw_init(1, 120000));
    CHECK_EQ_INT(pw_hash(GOOD, stored), PW_OK);
    CHECK_EQ_INT(pw_slot_take(), PW_OK);
    struct hasher w = {.stored = stored, .rc = -99};
    CHECK_EQ_INT(pthread_create(&w.th, NULL, hasher_run, &w), 0);
    struct pw_stats st;
    double t0 = now_ms();
    do {
        struct timespec pause = {0, 1000000};
        nanosleep(&pause, NULL);
        pw_stats_get(&st);
    } while (st.waiting != 1 && now_ms() - t0 < 60000);
    CHECK_EQ_INT(st.waiting, 1);
    pw_slot_give();
    pthread_join(w.th, NULL);
    CHECK_EQ_INT(w.rc, PW_OK);
}

int main(void)
{
    RUN(test_hash_verify);
    RUN(test_needs_rehash);
    RUN(test_dummy_verify);
    RUN(test_policy_length);
    RUN(test_policy_text);
    RUN(test_policy_words);
    RUN(test_common_list_complete);
    RUN(test_cap_peak);
    RUN(test_busy_after_bound);
    RUN(test_waiter_let_in);
    return unit_summary();
}
