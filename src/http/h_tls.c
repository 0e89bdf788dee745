/*
 * h_tls.c — GET /api/tls: the certificate the box serves, so that an admin
 * can compare its fingerprint with what the browser shows (docs/security.md).
 */
#include "http/http.h"
#include "http/render.h"
#include "http/tls.h"

void h_tls(req_t *r)
{
    const tlscert_info *c = http_tls_info();
    if (!c) {
        http_json(r, 200, json_pack("{s:b}", "enabled", 0));
        return;
    }
    const tz_t *tz = http_clinic_tz(r);
    /* subject and issuer are RFC 2253 text with non-ASCII bytes escaped
     * (OpenSSL's XN_FLAG_RFC2253), so always valid JSON strings. */
    http_json(r, 200,
              json_pack("{s:b,s:s,s:s,s:s,s:o,s:o,s:b}", "enabled", 1, "fingerprint_sha256",
                        c->fingerprint_sha256, "subject", c->subject, "issuer", c->issuer,
                        "not_before", render_time(tz, c->not_before), "not_after",
                        render_time(tz, c->not_after), "self_signed", c->self_signed));
}
