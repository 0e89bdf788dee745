/*
 * static.h — the UI's files from the web_dir setting, served by our own
 * handler for every path that is not /api or /metrics (static.c).
 */
#ifndef CLINICBOX_STATIC_H
#define CLINICBOX_STATIC_H

#include <civetweb.h>
#include <stdbool.h>

#include "service/app.h"

/* Largest file served; a larger one is 404 (and a warning in the log). */
#define STATIC_MAX_FILE (2 * 1024 * 1024)

/* Checks web_dir at start (before civetweb): a missing directory is a
 * warning (nothing but the API is served), one that holds the data
 * directory is an error (false: the server must not start). Registers the
 * "static" metric. */
bool http_static_init(const app_t *app);

/* The civetweb request handler for "/" (cbdata: the app_t). */
int http_static_handler(struct mg_connection *conn, void *cbdata);

#endif
