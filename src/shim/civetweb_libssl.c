/*
 * civetweb_libssl.c — the "libssl.so" that Debian 12's libcivetweb can load.
 *
 * libcivetweb 1.15 (Debian 12) was built for OpenSSL 1.1 and loads OpenSSL
 * at run time: dlopen("libssl.so") and dlsym() of each function it uses,
 * failing the whole TLS set-up when one is missing. OpenSSL 3 no longer
 * exports SSL_get_peer_certificate (a macro for SSL_get1_peer_certificate
 * since 3.0; civetweb issue #1334), so against Debian 12's libssl3 civetweb
 * cannot serve HTTPS at all.
 *
 * This library has the soname "libssl.so" and depends on libssl.so.3. The
 * clinicbox executable links it (DT_NEEDED, found through its RUNPATH), so
 * it is loaded at start; civetweb's dlopen("libssl.so") then finds it by
 * that soname among the loaded objects, and its dlsym() lookups search it
 * first and then its dependency, the real libssl.so.3. It adds the one
 * missing function, with OpenSSL 1.1's meaning (the caller frees the
 * certificate). Its sibling civetweb_libcrypto.c does the same for
 * "libcrypto.so" with nothing to add, so that no -dev package's unversioned
 * symlink is needed at run time.
 */
#include <openssl/ssl.h>

#undef SSL_get_peer_certificate /* ssl.h's alias, the very name to export */

X509 *SSL_get_peer_certificate(const SSL *s);

X509 *SSL_get_peer_certificate(const SSL *s)
{
    return SSL_get1_peer_certificate(s);
}
