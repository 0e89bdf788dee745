/*
 * hostcheck.h — is a request addressed to this box? Defends against DNS
 * rebinding (a web page a staff member visits makes its own name resolve to
 * the box, then drives the API from the browser) and cross-site requests
 * (ASVS 3.5.x): the Host header must be one of the box's names or
 * addresses, and an Origin header, when sent, must be the same origin as
 * the Host (scheme, name and port).
 *
 * The box's names: localhost, the machine's host name (and NAME.local),
 * every address of its network interfaces (those of the start, and any an
 * interface has at the moment of the request: a DHCP lease that came
 * later), the host of
 * public_url, the listen address, and the `hostnames` setting.
 */
#ifndef CLINICBOX_HOSTCHECK_H
#define CLINICBOX_HOSTCHECK_H

#include <stdbool.h>

#include "core/config.h"

/* Collects the names and addresses; call once before serving. */
void hostcheck_init(const struct config *cfg);
void hostcheck_free(void);
/* A Host header value (name or address, optional :port, [v6]). A missing
 * header (HTTP/1.0) passes: browsers always send one. */
bool hostcheck_host_ok(const char *host);
/* An Origin header against the request's Host and scheme; NULL passes. */
bool hostcheck_origin_ok(const char *origin, const char *host, bool tls);

#endif
