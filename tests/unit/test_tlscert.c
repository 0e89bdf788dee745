/*
 * test_tlscert.c — unit tests for src/core/tlscert.c: the subjectAltName of
 * the self-signed certificate, making one for a given `now` (validity,
 * file modes, what reading it back says), and the errors for files that
 * cannot serve (missing, no certificate, a key of another certificate).
 * tests/api/test_tls.py checks the same files against openssl and a real
 * TLS handshake.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/tlscert.h"
#include "unit.h"

static char dir[64];

static const char *path(const char *name)
{
    static char buf[4][128];
    static int i;
    i = (i + 1) % 4;
    snprintf(buf[i], sizeof buf[i], "%s/%s", dir, name);
    return buf[i];
}

static int file_mode(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 ? (int)(st.st_mode & 0777) : -1;
}

static char *slurp(const char *p)
{
    static char buf[8192];
    FILE *f = fopen(p, "r");
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f)
        fclose(f);
    buf[n] = '\0';
    return buf;
}

static void test_san_list(void)
{
    char out[512];
    CHECK(tlscert_san_list("box", "127.0.0.1:8443", NULL, out, sizeof out));
    CHECK_EQ_STR(out, "DNS:box,DNS:box.local,DNS:localhost,IP:127.0.0.1,IP:::1");
    /* wildcards and a bare port add nothing; specific addresses do */
    CHECK(tlscert_san_list("box.praxis.lan", "0.0.0.0:443,[::]:443,8443", "", out, sizeof out));
    CHECK_EQ_STR(out, "DNS:box.praxis.lan,DNS:box.local,DNS:localhost,IP:127.0.0.1,IP:::1");
    CHECK(tlscert_san_list("box", "192.168.1.5:443s, [fe80::1]:443,[::1]:8443", NULL, out,
                           sizeof out));
    CHECK_EQ_STR(out, "DNS:box,DNS:box.local,DNS:localhost,IP:127.0.0.1,IP:::1,"
                      "IP:192.168.1.5,IP:fe80::1");
    /* the hostnames setting: names and addresses, spaces around commas */
    CHECK(tlscert_san_list("box", "", "termine.praxis.de, 10.0.0.7 ,box,*.evil,fd00::2", out,
                           sizeof out));
    CHECK_EQ_STR(out, "DNS:box,DNS:box.local,DNS:localhost,IP:127.0.0.1,IP:::1,"
                      "DNS:termine.praxis.de,IP:10.0.0.7,IP:fd00::2");
    /* a host name that would not be a DNS name (or could inject entries) */
    CHECK(tlscert_san_list("bad,DNS:evil", "", NULL, out, sizeof out));
    CHECK_EQ_STR(out, "DNS:localhost,IP:127.0.0.1,IP:::1");
    CHECK(tlscert_san_list("localhost", NULL, NULL, out, sizeof out));
    CHECK_EQ_STR(out, "DNS:localhost,IP:127.0.0.1,IP:::1");
    CHECK(!tlscert_san_list("box", "", NULL, out, 20));
}

static void test_make_and_load(void)
{
    char err[600] = "";
    tlscert_info info;
    /* One `now` in UTCTime's range and one past 2050 (GeneralizedTime). */
    const int64_t nows[] = {1798761600 /* 2027-01-01 */, 4102444800 /* 2100-01-01 */};
    for (size_t i = 0; i < sizeof nows / sizeof nows[0]; i++) {
        int64_t now = nows[i];
        CHECK(tlscert_make_self_signed(path("cert.pem"), path("key.pem"), "box",
                                       "DNS:box,IP:127.0.0.1", now, err, sizeof err));
        CHECK_EQ_INT(file_mode(path("key.pem")), 0600);
        CHECK_EQ_INT(file_mode(path("cert.pem")), 0644);
        CHECK(access(path("key.pem.tmp"), F_OK) != 0);
        CHECK(strstr(slurp(path("key.pem")), "-----BEGIN PRIVATE KEY-----") != NULL);
        CHECK(tlscert_load(path("cert.pem"), path("key.pem"), path("bundle.pem"), &info, err,
                           sizeof err));
        CHECK_EQ_INT(info.not_before, now - 86400 * TLSCERT_BACKDATE_DAYS);
        CHECK_EQ_INT(info.not_after, now + 86400LL * TLSCERT_DAYS);
        CHECK(info.self_signed);
        CHECK_EQ_INT(info.chain_len, 1);
        CHECK_EQ_STR(info.subject, "CN=box,O=clinicbox");
        CHECK_EQ_STR(info.issuer, info.subject);
        CHECK_EQ_INT(strlen(info.fingerprint_sha256), 95);
        for (int k = 0; k < 95; k++)
            CHECK(k % 3 == 2 ? info.fingerprint_sha256[k] == ':'
                             : strchr("0123456789ABCDEF", info.fingerprint_sha256[k]) != NULL);
        /* the bundle: certificate and key in one private file, read back
         * as both gives the same certificate */
        CHECK_EQ_INT(file_mode(path("bundle.pem")), 0600);
        tlscert_info again;
        CHECK(tlscert_load(path("bundle.pem"), path("bundle.pem"), NULL, &again, err,
                           sizeof err));
        CHECK_EQ_STR(again.fingerprint_sha256, info.fingerprint_sha256);
    }
    /* a new certificate is a new key and a new fingerprint */
    char first[TLSCERT_FP_LEN];
    snprintf(first, sizeof first, "%s", info.fingerprint_sha256);
    CHECK(tlscert_make_self_signed(path("cert2.pem"), path("key2.pem"), "box", "DNS:box",
                                   1798761600, err, sizeof err));
    CHECK(tlscert_load(path("cert2.pem"), path("key2.pem"), NULL, &info, err, sizeof err));
    CHECK(strcmp(first, info.fingerprint_sha256) != 0);
}

static void test_load_errors(void)
{
    char err[600] = "";
    tlscert_info info;
    CHECK(!tlscert_load(path("missing.pem"), path("key.pem"), NULL, &info, err, sizeof err));
    CHECK(strstr(err, "tls_cert") && strstr(err, "missing.pem") &&
          strstr(err, "No such file"));
    CHECK(!tlscert_load(path("key.pem"), path("key.pem"), NULL, &info, err, sizeof err));
    CHECK(strstr(err, "no certificate") != NULL);
    CHECK(!tlscert_load(path("cert.pem"), path("cert.pem"), NULL, &info, err, sizeof err));
    CHECK(strstr(err, "tls_key") && strstr(err, "private key"));
    CHECK(!tlscert_load(path("cert.pem"), path("key2.pem"), path("x.pem"), &info, err,
                        sizeof err));
    CHECK(strstr(err, "does not belong") != NULL);
    CHECK(access(path("x.pem"), F_OK) != 0); /* no bundle from a bad pair */
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/clinicbox-tlscert-XXXXXX");
    if (!mkdtemp(dir))
        return 1;
    RUN(test_san_list);
    RUN(test_make_and_load);
    RUN(test_load_errors);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return unit_summary();
}
