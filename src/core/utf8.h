/*
 * utf8.h — the one UTF-8 step the text builders share (MIME headers and
 * bodies, iCalendar folding): how long the character at a position is.
 */
#ifndef CLINICBOX_UTF8_H
#define CLINICBOX_UTF8_H

#include <stddef.h>

/* Length of the UTF-8 character at s (at most n bytes available, n >= 1);
 * an invalid or truncated sequence counts as one byte, so that a caller
 * walking a string always moves on and never splits a valid character. */
size_t utf8_len(const unsigned char *s, size_t n);

#endif
