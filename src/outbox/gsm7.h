/*
 * gsm7.h — SMS length rules: the GSM 03.38 7-bit default alphabet and its
 * extension table, and how many segments a text needs.
 *
 * A GSM-7 message fits 160 septets in one segment, 153 per segment when it
 * is split (the user data header takes 7); a character from the extension
 * table ({ } [ ] ~ \ | ^ €, form feed) costs two septets. A text with any
 * other character is sent as UCS-2: 70 UTF-16 code units in one segment, 67
 * per segment when split. Pure: no I/O.
 */
#ifndef CLINICBOX_GSM7_H
#define CLINICBOX_GSM7_H

#include <stdbool.h>
#include <stddef.h>

/* Septets the UTF-8 text needs in GSM-7, or -1 if it has a character
 * outside the default alphabet and its extension table (or invalid UTF-8). */
int gsm7_septets(const char *utf8);

/* Segments the text needs: GSM-7 when it can, else UCS-2. 0 for "". */
int gsm7_segments(const char *utf8);

/* Copies utf8 into out, replacing characters that have a common GSM-7
 * stand-in: typographic quotes ‘ ’ ‚ “ ” „ → ' ", dashes – — → -, … → ...,
 * no-break and other Unicode spaces → space, • → *. Everything else is
 * copied unchanged (so the result may still need UCS-2). Always
 * NUL-terminates, never splits a UTF-8 character. Returns the length. */
size_t gsm7_simplify(const char *utf8, char *out, size_t outlen);

#endif
