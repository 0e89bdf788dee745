/*
 * test_ids.c — offer tokens (core/ids.c): 43 base64url characters from
 * 256 random bits, what counts as a token's form (the patient link refuses
 * anything else with 400 before any lookup), and the SHA-256 the database
 * keeps instead of the token.
 */
#include <stdbool.h>
#include <string.h>

#include "core/ids.h"
#include "unit.h"

static void test_tokens_have_the_form(void)
{
    char a[TOKEN_LEN], b[TOKEN_LEN];
    ids_token(a);
    ids_token(b);
    CHECK_EQ_INT(strlen(a), 43);
    CHECK(ids_token_form(a));
    CHECK(ids_token_form(b));
    CHECK(strcmp(a, b) != 0);
    for (int i = 0; i < 200; i++) { /* every character comes up base64url */
        ids_token(a);
        CHECK(ids_token_form(a));
    }
}

static void test_form(void)
{
    char t[64];
    memset(t, 'A', 43);
    t[43] = 0;
    CHECK(ids_token_form(t));
    CHECK(ids_token_form("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMN-_0"));
    CHECK(!ids_token_form(NULL));
    CHECK(!ids_token_form(""));
    t[42] = 0; /* 42 */
    CHECK(!ids_token_form(t));
    t[42] = 'A';
    t[43] = 'A';
    t[44] = 0; /* 44 */
    CHECK(!ids_token_form(t));
    t[43] = 0;
    const char *bad = "+/= .%#?&\t\n\x7f\xc3";
    for (const char *c = bad; *c; c++) {
        t[20] = *c;
        CHECK(!ids_token_form(t));
    }
}

static void test_hash(void)
{
    char h1[TOKEN_HASH_LEN], h2[TOKEN_HASH_LEN];
    /* SHA-256("abc"), FIPS 180-2 */
    ids_token_hash("abc", h1);
    CHECK_EQ_STR(h1, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    ids_token_hash("abd", h2);
    CHECK(strcmp(h1, h2) != 0);
}

int main(void)
{
    CHECK(ids_init());
    RUN(test_tokens_have_the_form);
    RUN(test_form);
    RUN(test_hash);
    return unit_summary();
}
