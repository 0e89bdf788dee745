/*
 * tlscert.h — the server's TLS certificate: the self-signed one a box makes
 * at first start, a configured one, and what staff need to check either
 * (the SHA-256 fingerprint of its DER encoding, subject, validity).
 *
 * OpenSSL's libcrypto does the cryptography and the encodings; the TLS
 * itself is civetweb's (src/http/tls.c). Files are written atomically
 * (temporary file, fsync, rename, fsync of the directory). `now` is always a
 * parameter. Not thread-safe by design: called once at start.
 */
#ifndef CLINICBOX_TLSCERT_H
#define CLINICBOX_TLSCERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* "AB:CD:..." for 32 bytes, with its NUL. */
#define TLSCERT_FP_LEN 96
/* Days a self-signed certificate is valid from `now` (about 10 years), and
 * how long before `now` it starts (a clock a little behind still takes it). */
#define TLSCERT_DAYS 3650
#define TLSCERT_BACKDATE_DAYS 1

typedef struct {
    char fingerprint_sha256[TLSCERT_FP_LEN]; /* of the leaf's DER */
    char subject[256];                       /* RFC 2253, e.g. "CN=box,O=clinicbox" */
    char issuer[256];
    int64_t not_before, not_after;           /* unix seconds */
    bool self_signed;                        /* issuer == subject and its own signature */
    int chain_len;                           /* certificates in the file, leaf first */
} tlscert_info;

/* The subjectAltName a self-signed certificate gets, in OpenSSL's config
 * syntax ("DNS:box,DNS:box.local,DNS:localhost,IP:127.0.0.1,IP:::1,..."):
 * the host name and its first label + ".local" (mDNS), localhost, the
 * loopback addresses, each specific (not wildcard) address in `listen`
 * (civetweb's listening_ports syntax, comma-separated) and each of `names`
 * (the `hostnames` setting: names or addresses, comma-separated). A name
 * with characters outside [A-Za-z0-9.-] is left out. false if out is too
 * small. */
bool tlscert_san_list(const char *hostname, const char *listen, const char *names, char *out,
                      size_t outlen);

/* Makes a new EC P-256 key and a self-signed certificate for it (CN =
 * common_name (cut to 64 characters; "clinicbox" when empty or not
 * printable ASCII), O = clinicbox, the given subjectAltName, CA:FALSE,
 * serverAuth), valid from now - TLSCERT_BACKDATE_DAYS for TLSCERT_DAYS
 * days, signed with SHA-256. Writes the key to key_path (PKCS#8 PEM, mode
 * 0600) and then the certificate to cert_path (PEM, 0644). false with a
 * message on failure. */
bool tlscert_make_self_signed(const char *cert_path, const char *key_path,
                              const char *common_name, const char *san, int64_t now,
                              char *err, size_t errlen);

/* Reads a PEM certificate chain (leaf first) from cert_path and its
 * unencrypted PEM private key from key_path (may be the same file), checks
 * that they belong together and that the key is strong enough (at least
 * 112 bits of security: RSA 2048, EC P-256), and fills info. When
 * bundle_path is not NULL, also writes chain + key there as one PEM (mode
 * 0600), the form civetweb reads. false with a message naming the file. */
bool tlscert_load(const char *cert_path, const char *key_path, const char *bundle_path,
                  tlscert_info *info, char *err, size_t errlen);

#endif
