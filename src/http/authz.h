/*
 * authz.h — who is asking, and may they? Decided here, once, for every
 * route from the route table's roles (auth/roles.h): the dispatcher calls
 * authz_request() before it reads a body or calls a handler.
 *
 * authz_host_ok() comes first, for every request: the Host must be the
 * box's and an Origin the same origin (hostcheck.h; 403). Then credentials are an API token (Authorization: Bearer)
 * or the session cookie; a public route goes on with or without them;
 * otherwise none -> 401 (expired sessions say so), a role the route does not
 * list -> 403, a doctor's request about another doctor's records -> 403,
 * and a change authenticated by the cookie without the session's CSRF token
 * in X-CSRF-Token -> 403 (ASVS 3.5.1). r->who and r->actor are set.
 */
#ifndef CLINICBOX_AUTHZ_H
#define CLINICBOX_AUTHZ_H

#include "http/http.h"

/* 0 when the request may go on; else the status that was answered. */
int authz_request(req_t *r, const struct route *route);
/* The Host/Origin checks; false when it answered 403. */
bool authz_host_ok(req_t *r);

#endif
