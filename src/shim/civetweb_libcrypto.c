/*
 * civetweb_libcrypto.c — the "libcrypto.so" that libcivetweb loads at run
 * time: nothing of its own, only a dependency on the real libcrypto.so.3,
 * where civetweb's dlsym() lookups land. See civetweb_libssl.c.
 */
int clinicbox_civetweb_libcrypto_shim;
int clinicbox_civetweb_libcrypto_shim = 1;
