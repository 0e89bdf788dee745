/*
 * utf8.h — the UTF-8 steps the text builders share (MIME headers and
 * bodies, iCalendar folding): how long the character at a position is;
 * and a strict decoder for input that must be valid (passwords).
 */
#ifndef CLINICBOX_UTF8_H
#define CLINICBOX_UTF8_H

#include <stddef.h>

/* Length of the UTF-8 character at s (at most n bytes available, n >= 1);
 * an invalid or truncated sequence counts as one byte, so that a caller
 * walking a string always moves on and never splits a valid character. */
size_t utf8_len(const unsigned char *s, size_t n);

/* Decodes the character at s (at most n bytes available, n >= 1) strictly
 * by RFC 3629: no overlong forms, no surrogates (U+D800..U+DFFF), nothing
 * above U+10FFFF. Returns the code point and stores its length in bytes in
 * *len; returns -1 for an invalid or truncated sequence (*len is then 1). */
long utf8_decode(const unsigned char *s, size_t n, size_t *len);

#endif
