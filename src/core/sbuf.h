/*
 * sbuf.h — a growable string buffer with a sticky out-of-memory flag, for
 * code that builds long texts (email messages, calendar files) piece by
 * piece and checks for failure once at the end.
 *
 * The text in p is always NUL-terminated once anything was added. After an
 * allocation fails, oom is set and every later call does nothing; the owner
 * frees p with free() either way.
 */
#ifndef CLINICBOX_SBUF_H
#define CLINICBOX_SBUF_H

#include <stdbool.h>
#include <stddef.h>

typedef struct {
    char *p;
    size_t len, cap;
    bool oom;
} sbuf;

/* Room for `extra` more bytes and the NUL. false (and oom) on failure. */
bool sbuf_reserve(sbuf *b, size_t extra);
void sbuf_put(sbuf *b, const char *s, size_t n);
void sbuf_puts(sbuf *b, const char *s);
void sbuf_putc(sbuf *b, char c);

#endif
