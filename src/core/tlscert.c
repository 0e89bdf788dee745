/*
 * tlscert.c — making, reading and describing the server's TLS certificate
 * with OpenSSL's libcrypto (see tlscert.h).
 *
 * The self-signed certificate is an end-entity certificate (CA:FALSE,
 * keyUsage digitalSignature, extendedKeyUsage serverAuth): browsers refuse
 * a CA certificate used as a server's even after the user accepted it. Its
 * key is EC P-256, which every browser and TLS 1.2/1.3 client takes.
 *
 * Key material passes through BIO_s_secmem() buffers, which are cleared
 * when freed. Every file is written as NAME.tmp (O_NOFOLLOW, its mode set
 * before any byte is written), fsync'ed, renamed over NAME, and the
 * directory fsync'ed.
 */
#include "core/tlscert.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

/* The first queued OpenSSL error as text ("" if none); clears the queue. */
static const char *ssl_err(char *buf, size_t len)
{
    unsigned long e = ERR_get_error();
    buf[0] = '\0';
    if (e)
        ERR_error_string_n(e, buf, len);
    ERR_clear_error();
    return buf;
}

static bool write_atomic(const char *path, const void *data, size_t len, mode_t mode, char *err,
                         size_t errlen)
{
    char tmp[PATH_MAX], dir[PATH_MAX];
    bool ok = false;
    int fd = -1;

    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp) {
        snprintf(err, errlen, "path too long: %s", path);
        return false;
    }
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, mode);
    if (fd < 0 || fchmod(fd, mode) != 0) {
        snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
        goto out;
    }
    for (size_t done = 0; done < len;) {
        ssize_t n = write(fd, (const char *)data + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
            goto out;
        }
        done += (size_t)n;
    }
    if (fsync(fd) != 0) {
        snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
        goto out;
    }
    close(fd);
    fd = -1;
    if (rename(tmp, path) != 0) {
        snprintf(err, errlen, "cannot rename %s to %s: %s", tmp, path, strerror(errno));
        goto out;
    }
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash)
        *(slash == dir ? slash + 1 : slash) = '\0';
    else
        snprintf(dir, sizeof dir, ".");
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    ok = true;
out:
    if (fd >= 0)
        close(fd);
    if (!ok)
        unlink(tmp);
    return ok;
}

/* Writes what the memory BIO holds to path. */
static bool write_bio(const char *path, BIO *b, mode_t mode, char *err, size_t errlen)
{
    char *data = NULL;
    long len = BIO_get_mem_data(b, &data);
    if (len <= 0 || !data) {
        snprintf(err, errlen, "cannot encode %s", path);
        return false;
    }
    return write_atomic(path, data, (size_t)len, mode, err, errlen);
}

/* --- subjectAltName ------------------------------------------------------ */

static bool dns_name_ok(const char *s, size_t n)
{
    if (n == 0 || n > 253)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
              (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '.'))
            return false;
    return true;
}

/* Appends "KIND:value" unless it is in the list already. */
static bool san_add(char *out, size_t outlen, const char *kind, const char *value, size_t n)
{
    char entry[300];
    if (n >= 256)
        return true; /* not a name anyone types */
    snprintf(entry, sizeof entry, "%s:%.*s", kind, (int)n, value);
    size_t el = strlen(entry);
    for (const char *p = out; (p = strstr(p, entry)) != NULL; p += el)
        if ((p == out || p[-1] == ',') && (p[el] == ',' || p[el] == '\0'))
            return true;
    size_t used = strlen(out);
    if (used + (used ? 1 : 0) + el + 1 > outlen)
        return false;
    snprintf(out + used, outlen - used, "%s%s", used ? "," : "", entry);
    return true;
}

/* A name or an address as it is: IP: or DNS: (wildcards are left out). */
static bool san_add_name(char *out, size_t outlen, const char *name, size_t n)
{
    char host[256];
    unsigned char addr[16];
    if (n == 0 || n >= sizeof host)
        return true;
    memcpy(host, name, n);
    host[n] = '\0';
    if (inet_pton(AF_INET, host, addr) == 1 || inet_pton(AF_INET6, host, addr) == 1)
        return san_add(out, outlen, "IP", host, n);
    return dns_name_ok(host, n) ? san_add(out, outlen, "DNS", host, n) : true;
}

/* One listening_ports item: "[::1]:8443", "10.0.0.5:8443s", "8443". */
static bool san_add_listen_item(char *out, size_t outlen, const char *item, size_t n)
{
    char host[256];
    size_t hl = 0;
    if (n && item[0] == '[') {
        const char *close = memchr(item, ']', n);
        if (!close)
            return true;
        hl = (size_t)(close - item - 1);
        item++;
    } else {
        const char *colon = NULL;
        for (size_t i = 0; i < n; i++)
            if (item[i] == ':')
                colon = item + i;
        if (!colon)
            return true; /* a port alone: every address */
        hl = (size_t)(colon - item);
    }
    if (hl == 0 || hl >= sizeof host)
        return true;
    memcpy(host, item, hl);
    host[hl] = '\0';
    unsigned char addr[16];
    if (inet_pton(AF_INET, host, addr) == 1) {
        if (strcmp(host, "0.0.0.0") == 0)
            return true;
        return san_add(out, outlen, "IP", host, hl);
    }
    if (inet_pton(AF_INET6, host, addr) == 1) {
        static const unsigned char any[16];
        if (memcmp(addr, any, sizeof any) == 0)
            return true;
        return san_add(out, outlen, "IP", host, hl);
    }
    return dns_name_ok(host, hl) ? san_add(out, outlen, "DNS", host, hl) : true;
}

bool tlscert_san_list(const char *hostname, const char *listen, const char *names, char *out,
                      size_t outlen)
{
    if (!outlen)
        return false;
    out[0] = '\0';
    size_t hl = hostname ? strlen(hostname) : 0;
    if (hl && dns_name_ok(hostname, hl) && strcmp(hostname, "localhost") != 0) {
        size_t label = strcspn(hostname, ".");
        char local[80];
        if (!san_add(out, outlen, "DNS", hostname, hl))
            return false;
        if (label && label < 64) {
            snprintf(local, sizeof local, "%.*s.local", (int)label, hostname);
            if (!san_add(out, outlen, "DNS", local, strlen(local)))
                return false;
        }
    }
    if (!san_add(out, outlen, "DNS", "localhost", 9) ||
        !san_add(out, outlen, "IP", "127.0.0.1", 9) || !san_add(out, outlen, "IP", "::1", 3))
        return false;
    for (const char *p = listen ? listen : ""; *p;) {
        size_t n = strcspn(p, ",");
        const char *item = p;
        while (n && (*item == ' ')) {
            item++;
            n--;
        }
        if (!san_add_listen_item(out, outlen, item, n))
            return false;
        p = item + n;
        if (*p == ',')
            p++;
    }
    for (const char *p = names ? names : ""; *p;) {
        size_t n = strcspn(p, ",");
        const char *name = p;
        size_t len = n;
        while (len && *name == ' ') {
            name++;
            len--;
        }
        while (len && name[len - 1] == ' ')
            len--;
        if (!san_add_name(out, outlen, name, len))
            return false;
        p += n;
        if (*p == ',')
            p++;
    }
    return true;
}

/* --- making --------------------------------------------------------------- */

static bool add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, ctx, nid, value);
    if (!ext)
        return false;
    bool ok = X509_add_ext(x, ext, -1) == 1;
    X509_EXTENSION_free(ext);
    return ok;
}

bool tlscert_make_self_signed(const char *cert_path, const char *key_path,
                              const char *common_name, const char *san, int64_t now,
                              char *err, size_t errlen)
{
    EVP_PKEY *key = NULL;
    X509 *x = NULL;
    BIGNUM *serial = NULL;
    BIO *kb = NULL, *cb = NULL;
    unsigned char rnd[16];
    char cn[65], ebuf[256];
    bool ok = false;
    const char *step = "make a key";

    snprintf(cn, sizeof cn, "%s", common_name && *common_name ? common_name : "clinicbox");
    for (const char *p = cn; *p; p++)
        if (*p < 0x20 || *p > 0x7E) { /* a host name of bytes no one can read */
            snprintf(cn, sizeof cn, "clinicbox");
            break;
        }
    key = EVP_EC_gen("P-256");
    if (!key)
        goto fail;
    step = "make the certificate";
    x = X509_new();
    if (!x || X509_set_version(x, 2) != 1 || RAND_bytes(rnd, sizeof rnd) != 1)
        goto fail;
    rnd[0] = (unsigned char)((rnd[0] & 0x7F) | 0x40); /* positive, full length */
    serial = BN_bin2bn(rnd, sizeof rnd, NULL);
    if (!serial || !BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(x)))
        goto fail;
    if (!ASN1_TIME_adj(X509_getm_notBefore(x), (time_t)now, -TLSCERT_BACKDATE_DAYS, 0) ||
        !ASN1_TIME_adj(X509_getm_notAfter(x), (time_t)now, TLSCERT_DAYS, 0))
        goto fail;
    X509_NAME *name = X509_get_subject_name(x);
    if (X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, (const unsigned char *)"clinicbox",
                                   -1, -1, 0) != 1 ||
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1,
                                   0) != 1 ||
        X509_set_issuer_name(x, name) != 1 || X509_set_pubkey(x, key) != 1)
        goto fail;
    X509V3_CTX v3;
    X509V3_set_ctx_nodb(&v3);
    X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
    step = "add the certificate's extensions";
    if (!add_ext(x, &v3, NID_basic_constraints, "critical,CA:FALSE") ||
        !add_ext(x, &v3, NID_key_usage, "critical,digitalSignature") ||
        !add_ext(x, &v3, NID_ext_key_usage, "serverAuth") ||
        !add_ext(x, &v3, NID_subject_key_identifier, "hash") ||
        !add_ext(x, &v3, NID_subject_alt_name, san))
        goto fail;
    step = "sign the certificate";
    if (X509_sign(x, key, EVP_sha256()) <= 0)
        goto fail;
    step = "encode the key and certificate";
    kb = BIO_new(BIO_s_secmem());
    cb = BIO_new(BIO_s_mem());
    if (!kb || !cb || PEM_write_bio_PrivateKey(kb, key, NULL, NULL, 0, NULL, NULL) != 1 ||
        PEM_write_bio_X509(cb, x) != 1)
        goto fail;
    /* The key first: a crash in between leaves a key without a certificate,
     * which the next start replaces, never a certificate without its key. */
    ok = write_bio(key_path, kb, 0600, err, errlen) && write_bio(cert_path, cb, 0644, err, errlen);
    goto out;
fail:
    snprintf(err, errlen, "cannot %s for the self-signed certificate: %s", step,
             ssl_err(ebuf, sizeof ebuf));
out:
    OPENSSL_cleanse(rnd, sizeof rnd);
    BIO_free(kb);
    BIO_free(cb);
    BN_free(serial);
    X509_free(x);
    EVP_PKEY_free(key);
    return ok;
}

/* --- reading -------------------------------------------------------------- */

static int64_t asn1_time_unix(const ASN1_TIME *t)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    if (!t || ASN1_TIME_to_tm(t, &tm) != 1)
        return 0;
    return (int64_t)timegm(&tm);
}

static void name_text(const X509_NAME *name, char *out, size_t outlen)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *data = NULL;
    out[0] = '\0';
    if (!b)
        return;
    if (X509_NAME_print_ex(b, name, 0, XN_FLAG_RFC2253) >= 0) {
        long len = BIO_get_mem_data(b, &data);
        if (len > 0)
            snprintf(out, outlen, "%.*s", (int)len, data);
    }
    BIO_free(b);
}

/* A password callback that supplies none: an encrypted key fails to load
 * instead of prompting on the terminal. */
static int no_password(char *buf, int size, int rwflag, void *u)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)u;
    return -1;
}

static BIO *open_pem(const char *what, const char *path, char *err, size_t errlen)
{
    errno = 0;
    BIO *b = BIO_new_file(path, "r");
    if (!b) {
        snprintf(err, errlen, "%s: cannot open %s: %s", what, path,
                 errno ? strerror(errno) : "unreadable");
        ERR_clear_error();
    }
    return b;
}

bool tlscert_load(const char *cert_path, const char *key_path, const char *bundle_path,
                  tlscert_info *info, char *err, size_t errlen)
{
    STACK_OF(X509) *chain = NULL;
    EVP_PKEY *key = NULL;
    BIO *b = NULL, *out = NULL;
    X509 *x;
    char ebuf[256];
    bool ok = false;

    if (errlen)
        err[0] = '\0';
    memset(info, 0, sizeof *info);
    chain = sk_X509_new_null();
    if (!chain || !(b = open_pem("tls_cert", cert_path, err, errlen)))
        goto out;
    while ((x = PEM_read_bio_X509(b, NULL, no_password, NULL)) != NULL)
        if (!sk_X509_push(chain, x)) {
            X509_free(x);
            break;
        }
    ERR_clear_error(); /* the end of the file reads as "no start line" */
    BIO_free(b);
    b = NULL;
    if (sk_X509_num(chain) == 0) {
        snprintf(err, errlen,
                 "tls_cert: no certificate (a PEM \"BEGIN CERTIFICATE\" block) in %s", cert_path);
        goto out;
    }
    if (!(b = open_pem("tls_key", key_path, err, errlen)))
        goto out;
    key = PEM_read_bio_PrivateKey(b, NULL, no_password, NULL);
    if (!key) {
        snprintf(err, errlen,
                 "tls_key: no private key that can be read in %s (a PEM \"BEGIN PRIVATE "
                 "KEY\" block without a passphrase): %s",
                 key_path, ssl_err(ebuf, sizeof ebuf));
        goto out;
    }
    X509 *leaf = sk_X509_value(chain, 0);
    if (X509_check_private_key(leaf, key) != 1) {
        ERR_clear_error();
        snprintf(err, errlen, "tls_key: the key in %s does not belong to the certificate in %s",
                 key_path, cert_path);
        goto out;
    }
    if (EVP_PKEY_get_security_bits(key) < 112) {
        snprintf(err, errlen,
                 "tls_key: the key in %s is too weak (%d bits of security; at least RSA 2048 "
                 "or EC P-256)",
                 key_path, EVP_PKEY_get_security_bits(key));
        goto out;
    }
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    if (X509_digest(leaf, EVP_sha256(), md, &mdlen) != 1 || mdlen != 32) {
        snprintf(err, errlen, "tls_cert: cannot hash the certificate in %s", cert_path);
        goto out;
    }
    for (unsigned int i = 0; i < mdlen; i++)
        snprintf(info->fingerprint_sha256 + 3 * i, 4, "%02X%s", md[i], i + 1 < mdlen ? ":" : "");
    name_text(X509_get_subject_name(leaf), info->subject, sizeof info->subject);
    name_text(X509_get_issuer_name(leaf), info->issuer, sizeof info->issuer);
    info->not_before = asn1_time_unix(X509_get0_notBefore(leaf));
    info->not_after = asn1_time_unix(X509_get0_notAfter(leaf));
    info->self_signed = X509_self_signed(leaf, 1) == 1;
    info->chain_len = sk_X509_num(chain);
    ERR_clear_error();
    if (bundle_path) {
        out = BIO_new(BIO_s_secmem());
        if (!out)
            goto out;
        for (int i = 0; i < sk_X509_num(chain); i++)
            if (PEM_write_bio_X509(out, sk_X509_value(chain, i)) != 1)
                goto out;
        if (PEM_write_bio_PrivateKey(out, key, NULL, NULL, 0, NULL, NULL) != 1 ||
            !write_bio(bundle_path, out, 0600, err, errlen))
            goto out;
    }
    ok = true;
out:
    if (!ok && !err[0])
        snprintf(err, errlen, "cannot read the TLS certificate: %s", ssl_err(ebuf, sizeof ebuf));
    ERR_clear_error();
    BIO_free(b);
    BIO_free(out);
    EVP_PKEY_free(key);
    sk_X509_pop_free(chain, X509_free);
    return ok;
}
