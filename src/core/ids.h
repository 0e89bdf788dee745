/*
 * ids.h — globally unique ids and secret tokens.
 *
 * Ids are UUID version 7 (RFC 9562): time-ordered, so new rows land at the
 * end of SQLite's indexes, and unique across boxes because 74 bits are random.
 * Offer tokens are 32 random bytes in base64url; only their SHA-256 is stored.
 * Randomness comes from libsodium (getrandom on Linux). Thread-safe.
 */
#ifndef CLINICBOX_IDS_H
#define CLINICBOX_IDS_H

#include <stdbool.h>
#include <stdint.h>

#define ID_LEN 37    /* 36 characters + NUL */
#define TOKEN_LEN 44 /* 43 characters + NUL */
#define TOKEN_HASH_LEN 65

bool ids_init(void);
/* Writes a new UUIDv7 for unix time `now_ms` into out. */
void ids_uuid(int64_t now_ms, char out[ID_LEN]);
/* True if s looks like a UUID (8-4-4-4-12 hex). */
bool ids_valid(const char *s);
/* A new unguessable token (256 bits, base64url without padding). */
void ids_token(char out[TOKEN_LEN]);
/* True if s has a token's form: exactly 43 base64url characters. Says
 * nothing about whether such a token exists. */
bool ids_token_form(const char *s);
/* Hex SHA-256 of a token, as stored in the database. An offer is found by
 * this hash alone (an index lookup): the secret itself is never compared
 * character by character, so the time a wrong token takes tells nothing
 * about the right one. */
void ids_token_hash(const char *token, char out[TOKEN_HASH_LEN]);

#endif
